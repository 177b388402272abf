import LodeStore
import NIOCore

/// SLOWLOG's entries, as Redis's slowlog.c keeps them: commands that ran for at least
/// `slowlog-log-slower-than` microseconds, newest first, at most `slowlog-max-len`,
/// with at most 32 arguments of at most 128 bytes each.
struct SlowLog {
    struct Entry {
        let id: Int
        let unixSeconds: Int
        let microseconds: Int
        let args: [ByteBuffer]
        let peer: String
        let clientName: String
    }

    static let maxArguments = 32
    static let maxArgumentBytes = 128

    /// Oldest first; only the last `limit` count (older ones are dropped in batches,
    /// so that recording stays O(1) whatever the limit).
    private var storage: [Entry] = []
    private var nextID = 0
    private var limit = 128

    var count: Int { min(storage.count, limit) }

    /// The newest `n` entries, newest first.
    func newest(_ n: Int) -> [Entry] {
        Array(storage.suffix(min(n, count)).reversed())
    }

    mutating func reset() { storage.removeAll() }

    mutating func record(_ args: [ByteBuffer], microseconds: Int, peer: String, clientName: String, maxLength: Int) {
        limit = maxLength
        guard maxLength > 0 else {
            storage.removeAll()
            return
        }
        var kept: [ByteBuffer] = []
        let shown = min(args.count, Self.maxArguments)
        for (i, arg) in args.prefix(shown).enumerated() {
            if shown != args.count && i == shown - 1 {
                kept.append(ByteBuffer(string: "... (\(args.count - shown + 1) more arguments)"))
            } else if arg.readableBytes > Self.maxArgumentBytes {
                var trimmed = ByteBuffer(bytes: arg.readableBytesView.prefix(Self.maxArgumentBytes))
                trimmed.writeString("... (\(arg.readableBytes - Self.maxArgumentBytes) more bytes)")
                kept.append(trimmed)
            } else {
                kept.append(ByteBuffer(bytes: arg.readableBytesView))  // a copy, not a slice of the read buffer
            }
        }
        storage.append(Entry(id: nextID, unixSeconds: Int(currentTimeMillis() / 1000), microseconds: microseconds,
                             args: kept, peer: peer, clientName: clientName))
        nextID += 1
        if storage.count > 2 * maxLength || storage.count > maxLength + 1024 {
            storage.removeFirst(storage.count - maxLength)
        }
    }

    /// SLOWLOG shows a sensitive CONFIG SET value as "(redacted)", as Redis's redactClientCommandArgument.
    static func redacted(_ args: [ByteBuffer]) -> [ByteBuffer] {
        guard args.count >= 4, String(buffer: args[0]).lowercased() == "config",
              String(buffer: args[1]).lowercased() == "set" else { return args }
        var copy = args
        for i in stride(from: 2, to: args.count - 1, by: 2) {
            if let option = Configuration.optionsByName[String(buffer: args[i]).lowercased()],
               option.flags.contains(.sensitive) {
                copy[i + 1] = ByteBuffer(string: "(redacted)")
            }
        }
        return copy
    }
}
