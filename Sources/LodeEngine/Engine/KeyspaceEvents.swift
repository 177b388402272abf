import LodeRESP
import NIOCore

/// notify-keyspace-events: which keyspace events are published (Redis's
/// NOTIFY_* flags and their letters).
public struct KeyspaceEventFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let keyspace = KeyspaceEventFlags(rawValue: 1 << 0)   // K
    public static let keyevent = KeyspaceEventFlags(rawValue: 1 << 1)   // E
    public static let generic = KeyspaceEventFlags(rawValue: 1 << 2)    // g
    public static let string = KeyspaceEventFlags(rawValue: 1 << 3)     // $
    public static let list = KeyspaceEventFlags(rawValue: 1 << 4)       // l
    public static let set = KeyspaceEventFlags(rawValue: 1 << 5)        // s
    public static let hash = KeyspaceEventFlags(rawValue: 1 << 6)       // h
    public static let zset = KeyspaceEventFlags(rawValue: 1 << 7)       // z
    public static let expired = KeyspaceEventFlags(rawValue: 1 << 8)    // x
    public static let evicted = KeyspaceEventFlags(rawValue: 1 << 9)    // e (Lode never evicts data)
    public static let stream = KeyspaceEventFlags(rawValue: 1 << 10)    // t
    public static let keyMiss = KeyspaceEventFlags(rawValue: 1 << 11)   // m (not part of A)
    public static let module = KeyspaceEventFlags(rawValue: 1 << 13)    // d
    public static let new = KeyspaceEventFlags(rawValue: 1 << 14)       // n (not part of A)
    /// A: every class but key-miss and new.
    public static let all: KeyspaceEventFlags = [.generic, .string, .list, .set, .hash, .zset, .expired, .evicted,
                                                 .stream, .module]

    private static let letters: [(Character, KeyspaceEventFlags)] = [
        ("g", .generic), ("$", .string), ("l", .list), ("s", .set), ("h", .hash), ("z", .zset), ("x", .expired),
        ("e", .evicted), ("t", .stream), ("d", .module), ("n", .new),
    ]

    /// Redis's keyspaceEventsStringToFlags; nil for an unknown letter.
    public init?(parsing text: String) {
        var flags: KeyspaceEventFlags = []
        for ch in text {
            switch ch {
            case "A": flags.formUnion(.all)
            case "K": flags.insert(.keyspace)
            case "E": flags.insert(.keyevent)
            case "m": flags.insert(.keyMiss)
            default:
                guard let f = Self.letters.first(where: { $0.0 == ch })?.1 else { return nil }
                flags.insert(f)
            }
        }
        self = flags
    }

    /// Redis's keyspaceEventsFlagsToString (what CONFIG GET shows).
    public var text: String {
        var s = ""
        if isSuperset(of: .all) {
            s = "A"
        } else {
            for (ch, f) in Self.letters where contains(f) { s.append(ch) }
        }
        if contains(.keyspace) { s += "K" }
        if contains(.keyevent) { s += "E" }
        if contains(.keyMiss) { s += "m" }
        return s
    }
}

extension ServerState {
    /// Publishes a keyspace event, as Redis's notifyKeyspaceEvent: on
    /// `__keyspace@<db>__:<key>` (message: the event) and
    /// `__keyevent@<db>__:<event>` (message: the key), as configured. `db` is
    /// the logical database.
    func notifyKeyspaceEvent(_ type: KeyspaceEventFlags, _ event: String, key: ByteBuffer, db: Int) {
        let flags = config.notifyKeyspaceEvents
        guard flags.contains(type) else { return }
        var eventBuffer = ByteBuffer()
        if flags.contains(.keyspace) {
            var channel = ByteBuffer(string: "__keyspace@\(db)__:")
            channel.writeImmutableBuffer(key)
            eventBuffer.writeString(event)
            _ = pubsub.publish(channel, eventBuffer, shard: false, sessions: sessions)
        }
        if flags.contains(.keyevent) {
            _ = pubsub.publish(ByteBuffer(string: "__keyevent@\(db)__:\(event)"), key, shard: false, sessions: sessions)
        }
    }
}

extension CommandContext {
    /// A keyspace event for `key` in physical database `db` (default: the
    /// client's). Costs a flag test when notifications are off.
    func notify(_ type: KeyspaceEventFlags, _ event: String, _ key: ByteBuffer, db: UInt8? = nil) {
        guard server.config.notifyKeyspaceEvents.contains(type) else { return }
        server.notifyKeyspaceEvent(type, event, key: key, db: store.logical(db ?? self.db))
    }
}
