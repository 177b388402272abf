import LodeRESP
import LodeStore
import NIOCore

/// What a blocking command asks for when it finds nothing: the keys to wait on
/// and when to give up (nil = never).
struct BlockRequest {
    let keys: [(UInt8, ByteBuffer)]
    let deadline: Int64?
}

/// Clients blocked on keys, in the order they blocked (Redis serves the longest
/// waiting client first).
final class BlockingRegistry {
    private struct Key: Hashable {
        let db: UInt8
        let key: ByteBuffer
    }

    private var waiting: [Key: [ConnectionHandler]] = [:]
    private var keysOf: [ObjectIdentifier: [Key]] = [:]
    private var serving = false

    func add(_ h: ConnectionHandler, keys: [(UInt8, ByteBuffer)]) {
        var ks: [Key] = []
        for (db, key) in keys {
            let k = Key(db: db, key: key)
            if ks.contains(k) { continue }
            ks.append(k)
            waiting[k, default: []].append(h)
        }
        keysOf[ObjectIdentifier(h)] = ks
    }

    func remove(_ h: ConnectionHandler) {
        for k in keysOf.removeValue(forKey: ObjectIdentifier(h)) ?? [] {
            waiting[k]?.removeAll { $0 === h }
            if waiting[k]?.isEmpty == true { waiting.removeValue(forKey: k) }
        }
    }

    /// Serves clients blocked on the keys that received data, oldest first, until
    /// a key runs dry. Runs after the command that pushed, so that command's
    /// effect is complete (an LPUSH of three elements serves three waiters).
    func serve(_ server: ServerState) {
        guard !serving else { return }
        serving = true
        defer { serving = false }
        while !server.touchedKeys.isEmpty {
            let (db, key) = server.touchedKeys.removeFirst()
            let k = Key(db: db, key: key)
            while let first = waiting[k]?.first {
                if first.retryBlocked() { break }  // nothing left for it: the key is dry
            }
        }
    }
}

extension CommandContext {
    /// Redis's timeout argument: seconds as a (long double) float, turned into
    /// milliseconds rounding up, so -0.0001 means 0 (forever) and only values
    /// below -1 ms are negative.
    func timeout(_ i: Int) throws(CommandError) -> Int64? {
        guard let t = LongDoubleFormat.parse(bytes(i)) else {
            throw CommandError("ERR timeout is not a float or out of range")
        }
        let ms = (t * 1000).rounded(.up)
        if ms > LongDouble(Int64.max) { throw CommandError("ERR timeout is out of range") }
        if ms < 0 { throw CommandError("ERR timeout is negative") }
        if ms == 0 { return nil }
        let (deadline, overflow) = now.addingReportingOverflow(Int64(ms))
        return overflow ? Int64.max : deadline
    }

    /// Blocks the client on `keys` unless this is a retry that already waits.
    func block(on keys: [ByteBuffer], deadline: Int64?) {
        client.blockRequest = BlockRequest(keys: keys.map { (db, $0) }, deadline: deadline)
    }
}

/// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
enum BlockingCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("blpop", arity: -3, flags: [.write], keys: (1, -2, 1), group: "list", summary: "Remove and get the first element in a list, or block until one is available", handler: { (c: inout CommandContext) throws(CommandError) in try bpop(&c, left: true) }),
        CommandSpec("brpop", arity: -3, flags: [.write], keys: (1, -2, 1), group: "list", summary: "Remove and get the last element in a list, or block until one is available", handler: { (c: inout CommandContext) throws(CommandError) in try bpop(&c, left: false) }),
        CommandSpec("blmove", arity: 6, flags: [.write, .denyoom], keys: (1, 2, 1), group: "list", summary: "Pop an element from a list, push it to another list and return it; or block until one is available", handler: blmove),
        CommandSpec("brpoplpush", arity: 4, flags: [.write, .denyoom], keys: (1, 2, 1), group: "list", summary: "Pop an element from a list, push it to another list and return it; or block until one is available", handler: brpoplpush),
        CommandSpec("blmpop", arity: -5, flags: [.write], group: "list", summary: "Pop elements from a list, or block until one is available", handler: blmpop),
        CommandSpec("bzpopmin", arity: -3, flags: [.write, .fast], keys: (1, -2, 1), group: "sorted-set", summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", handler: { (c: inout CommandContext) throws(CommandError) in try bzpop(&c, max: false) }),
        CommandSpec("bzpopmax", arity: -3, flags: [.write, .fast], keys: (1, -2, 1), group: "sorted-set", summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", handler: { (c: inout CommandContext) throws(CommandError) in try bzpop(&c, max: true) }),
        CommandSpec("bzmpop", arity: -5, flags: [.write], group: "sorted-set", summary: "Remove and return members with scores in a sorted set or block until one is available", handler: bzmpop),
    ]

    static func bpop(_ c: inout CommandContext, left: Bool) throws(CommandError) {
        let deadline = try c.timeout(c.args.count - 1)
        let keys = (1..<(c.args.count - 1)).map { c.arg($0) }
        for key in keys {
            guard var l = try c.lookupCollection(key, .list) else { continue }
            let v = try ListCommands.popElement(c, &l, left: left)!
            try c.save(key, l)
            c.out.writeArrayHeader(2)
            c.out.writeBulk(key)
            c.out.writeBulk(v)
            return
        }
        c.block(on: keys, deadline: deadline)
    }

    static func blmove(_ c: inout CommandContext) throws(CommandError) {
        let from = try ListCommands.side(c, 3), to = try ListCommands.side(c, 4)
        let deadline = try c.timeout(5)
        if let v = try ListCommands.move(&c, src: c.arg(1), dst: c.arg(2), fromLeft: from, toLeft: to) { return c.out.writeBulk(v) }
        c.block(on: [c.arg(1)], deadline: deadline)
    }

    static func brpoplpush(_ c: inout CommandContext) throws(CommandError) {
        let deadline = try c.timeout(3)
        if let v = try ListCommands.move(&c, src: c.arg(1), dst: c.arg(2), fromLeft: false, toLeft: true) { return c.out.writeBulk(v) }
        c.block(on: [c.arg(1)], deadline: deadline)
    }

    static func blmpop(_ c: inout CommandContext) throws(CommandError) {
        let (keys, left, count) = try ListCommands.parseMultiPop(c, first: 2)
        let deadline = try c.timeout(1)
        if try !ListCommands.popFirstNonEmpty(&c, keys: keys, left: left, count: count) { c.block(on: keys, deadline: deadline) }
    }

    static func bzpop(_ c: inout CommandContext, max: Bool) throws(CommandError) {
        let deadline = try c.timeout(c.args.count - 1)
        let keys = (1..<(c.args.count - 1)).map { c.arg($0) }
        for key in keys {
            guard var z = try c.lookupCollection(key, .zset) else { continue }
            let items = try ZSetCommands.popEntries(c, &z, max: max, count: 1)
            try c.save(key, z)
            c.out.writeArrayHeader(3)
            c.out.writeBulk(key)
            c.out.writeBulk(items[0].0)
            Score.write(items[0].1, &c)
            return
        }
        c.block(on: keys, deadline: deadline)
    }

    static func bzmpop(_ c: inout CommandContext) throws(CommandError) {
        let (keys, max, count) = try ZSetCommands.parseMultiPop(c, first: 2)
        let deadline = try c.timeout(1)
        if try !ZSetCommands.popFirstNonEmpty(&c, keys: keys, max: max, count: count) { c.block(on: keys, deadline: deadline) }
    }
}
