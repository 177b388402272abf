import LodeRESP
import LodeStore
import NIOCore

/// What a blocking command asks for when it finds nothing: the keys to wait on
/// and when to give up (nil = never).
struct BlockRequest {
    let keys: [(UInt8, ByteBuffer)]
    let deadline: Int64?
}

/// What a blocking command answers when it may not block (inside EXEC): the
/// null Redis gives there (BLMOVE and BRPOPLPUSH a null bulk, the rest a null array).
enum NonBlockingReply { case nullArray, null }

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

    /// Asks for the client to wait on `keys` (a retry that already waits stays in
    /// line); inside EXEC answers at once as Redis does.
    mutating func block(on keys: [ByteBuffer], deadline: Int64?, orReply fallback: NonBlockingReply = .nullArray) {
        guard !denyBlocking else {
            return fallback == .null ? out.writeNull(resp) : out.writeNullArray(resp)
        }
        blockRequest = BlockRequest(keys: keys.map { (db, $0) }, deadline: deadline)
    }
}

/// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
enum BlockingCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "blpop": { (c: inout CommandContext) throws(CommandError) in try bpop(&c, left: true) },
        "brpop": { (c: inout CommandContext) throws(CommandError) in try bpop(&c, left: false) },
        "blmove": blmove,
        "brpoplpush": brpoplpush,
        "blmpop": blmpop,
        "bzpopmin": { (c: inout CommandContext) throws(CommandError) in try bzpop(&c, max: false) },
        "bzpopmax": { (c: inout CommandContext) throws(CommandError) in try bzpop(&c, max: true) },
        "bzmpop": bzmpop,
    ]

    static func bpop(_ c: inout CommandContext, left: Bool) throws(CommandError) {
        let deadline = try c.timeout(c.args.count - 1)
        let keys = (1..<(c.args.count - 1)).map { c.arg($0) }
        for key in keys {
            guard var l = try c.lookupCollection(key, .list) else { continue }
            guard let v = try ListCommands.popElement(c, &l, left: left) else { throw .inconsistent }
            try c.save(key, l, event: ListCommands.popEvent(left))
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
        c.block(on: [c.arg(1)], deadline: deadline, orReply: .null)
    }

    static func brpoplpush(_ c: inout CommandContext) throws(CommandError) {
        let deadline = try c.timeout(3)
        if let v = try ListCommands.move(&c, src: c.arg(1), dst: c.arg(2), fromLeft: false, toLeft: true) { return c.out.writeBulk(v) }
        c.block(on: [c.arg(1)], deadline: deadline, orReply: .null)
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
            try c.save(key, z, event: ZSetCommands.popEvent(max))
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
