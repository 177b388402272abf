import LodeRESP
import LodeStore
import NIOCore

/// The hash family: one LMDB entry per field (docs/storage.md).
enum HashCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "hset": { (c: inout CommandContext) throws(CommandError) in try hset(&c, okReply: false) },
        "hmset": { (c: inout CommandContext) throws(CommandError) in try hset(&c, okReply: true) },
        "hsetnx": hsetnx,
        "hget": hget,
        "hmget": hmget,
        "hdel": hdel,
        "hlen": hlen,
        "hstrlen": hstrlen,
        "hexists": hexists,
        "hkeys": { (c: inout CommandContext) throws(CommandError) in try hgetall(&c, fields: true, values: false) },
        "hvals": { (c: inout CommandContext) throws(CommandError) in try hgetall(&c, fields: false, values: true) },
        "hgetall": { (c: inout CommandContext) throws(CommandError) in try hgetall(&c, fields: true, values: true) },
        "hincrby": hincrby,
        "hincrbyfloat": hincrbyfloat,
        "hrandfield": hrandfield,
        "hscan": hscan,
    ]

    static func hset(_ c: inout CommandContext, okReply: Bool) throws(CommandError) {
        guard c.args.count % 2 == 0 else { throw .wrongArity(c.command.name) }
        var h = try c.collectionForWrite(c.arg(1), .hash)
        var added = 0
        for i in stride(from: 2, to: c.args.count, by: 2) where try c.setElement(&h, c.arg(i), c.arg(i + 1)) {
            added += 1
        }
        try c.save(c.arg(1), h, event: "hset")
        okReply ? c.out.writeOK() : c.out.writeIntegerReply(added)
    }

    static func hsetnx(_ c: inout CommandContext) throws(CommandError) {
        var h = try c.collectionForWrite(c.arg(1), .hash)
        if h.existed, try c.element(h, c.arg(2)) != nil { return c.out.writeIntegerReply(0) }
        try c.setElement(&h, c.arg(2), c.arg(3))
        try c.save(c.arg(1), h, event: "hset")
        c.out.writeIntegerReply(1)
    }

    static func hget(_ c: inout CommandContext) throws(CommandError) {
        guard let h = try c.lookupCollection(c.arg(1), .hash), let v = try c.element(h, c.arg(2)) else {
            return c.out.writeNull(c.resp)
        }
        c.out.writeBulk(v)
    }

    static func hmget(_ c: inout CommandContext) throws(CommandError) {
        let h = try c.lookupCollection(c.arg(1), .hash)
        c.out.writeArrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let h, let v = try c.element(h, c.arg(i)) { c.out.writeBulk(v) } else { c.out.writeNull(c.resp) }
        }
    }

    static func hdel(_ c: inout CommandContext) throws(CommandError) {
        try c.removeElements(.hash, event: "hdel")
    }

    static func hlen(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeIntegerReply(try c.lookupCollection(c.arg(1), .hash)?.meta.size ?? 0)
    }

    static func hstrlen(_ c: inout CommandContext) throws(CommandError) {
        guard let h = try c.lookupCollection(c.arg(1), .hash) else { return c.out.writeIntegerReply(0) }
        c.out.writeIntegerReply(try c.element(h, c.arg(2))?.readableBytes ?? 0)
    }

    static func hexists(_ c: inout CommandContext) throws(CommandError) {
        guard let h = try c.lookupCollection(c.arg(1), .hash) else { return c.out.writeIntegerReply(0) }
        c.out.writeIntegerReply(try c.element(h, c.arg(2)) != nil ? 1 : 0)
    }

    static func hgetall(_ c: inout CommandContext, fields: Bool, values: Bool) throws(CommandError) {
        guard let h = try c.lookupCollection(c.arg(1), .hash) else {
            return fields && values ? c.out.writeMapHeader(0, c.resp) : c.out.writeArrayHeader(0)
        }
        let all = try c.allElements(h)
        if fields && values { c.out.writeMapHeader(all.count, c.resp) } else { c.out.writeArrayHeader(all.count) }
        for (f, v) in all {
            if fields { c.out.writeBulk(f) }
            if values { c.out.writeBulk(v) }
        }
    }

    static func hincrby(_ c: inout CommandContext) throws(CommandError) {
        let incr = try c.integer(3)
        var h = try c.collectionForWrite(c.arg(1), .hash)
        var current = 0
        if h.existed, let v = try c.element(h, c.arg(2)) {
            guard let n = parseInteger(v, at: v.readerIndex, length: v.readableBytes) else {
                throw CommandError("ERR hash value is not an integer")
            }
            current = n
        }
        let (result, overflow) = current.addingReportingOverflow(incr)
        if overflow { throw CommandError("ERR increment or decrement would overflow") }
        var value = ByteBuffer()
        value.writeDecimal(result)
        try c.setElement(&h, c.arg(2), value)
        try c.save(c.arg(1), h, event: "hincrby")
        c.out.writeIntegerReply(result)
    }

    static func hincrbyfloat(_ c: inout CommandContext) throws(CommandError) {
        guard let incr = LongDoubleFormat.parse(c.bytes(3)) else { throw .notFloat }
        if incr.isNaN || incr.isInfinite { throw CommandError("ERR value is NaN or Infinity") }
        var h = try c.collectionForWrite(c.arg(1), .hash)
        var current: LongDouble = 0
        if h.existed, let v = try c.element(h, c.arg(2)) {
            guard let n = LongDoubleFormat.parse(Array(v.readableBytesView)) else { throw CommandError("ERR hash value is not a float") }
            current = n
        }
        let result = current + incr
        guard result.isFinite else { throw CommandError("ERR increment would produce NaN or Infinity") }
        guard let text = LongDoubleFormat.human(result) else { throw .notFloat }
        let value = ByteBuffer(string: text)
        try c.setElement(&h, c.arg(2), value)
        try c.save(c.arg(1), h, event: "hincrbyfloat")
        c.out.writeBulk(value)
    }

    static func hrandfield(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count >= 3 else {
            guard let h = try c.lookupCollection(c.arg(1), .hash) else { return c.out.writeNull(c.resp) }
            let all = try c.allElements(h)
            guard let e = all.randomElement() else { throw .inconsistent }
            return c.out.writeBulk(e.0)
        }
        let count = try RandomPick.count(c, 2)
        var withValues = false
        if c.args.count > 4 || (c.args.count == 4 && !c.argIs(3, "withvalues")) { throw .syntax }
        if c.args.count == 4 {
            withValues = true
            if count < -(Int.max / 2) || count > Int.max / 2 { throw CommandError("ERR value is out of range") }
        }
        guard let h = try c.lookupCollection(c.arg(1), .hash) else { return c.out.writeArrayHeader(0) }
        let picked = RandomPick.pick(try c.allElements(h), count: count)
        if withValues && c.resp == .resp3 {
            c.out.writeArrayHeader(picked.count)
            for (f, v) in picked {
                c.out.writeArrayHeader(2)
                c.out.writeBulk(f)
                c.out.writeBulk(v)
            }
            return
        }
        c.out.writeArrayHeader(picked.count * (withValues ? 2 : 1))
        for (f, v) in picked {
            c.out.writeBulk(f)
            if withValues { c.out.writeBulk(v) }
        }
    }

    static func hscan(_ c: inout CommandContext) throws(CommandError) {
        try c.scanElements(.hash, withValues: true)
    }
}

/// Redis's random-member semantics (HRANDFIELD, SRANDMEMBER): a positive count
/// gives distinct elements (all of them if count ≥ size), a negative one exactly
/// |count| elements that may repeat.
enum RandomPick {
    static func count(_ c: CommandContext, _ i: Int) throws(CommandError) -> Int {
        let n = try c.integer(i)
        if n == Int.min {
            throw CommandError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        return n
    }

    static func pick<T>(_ all: [T], count: Int) -> [T] {
        if all.isEmpty || count == 0 { return [] }
        if count < 0 { return (0..<(-count)).compactMap { _ in all.randomElement() } }
        if count >= all.count { return all.shuffled() }
        return Array(all.shuffled().prefix(count))
    }
}
