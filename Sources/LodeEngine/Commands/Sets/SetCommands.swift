import LodeRESP
import LodeStore
import NIOCore

/// The set family: one LMDB entry per member (docs/storage.md).
enum SetCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "sadd": sadd,
        "srem": srem,
        "smembers": smembers,
        "sismember": sismember,
        "smismember": smismember,
        "scard": scard,
        "spop": spop,
        "srandmember": srandmember,
        "smove": smove,
        "sinter": { (c: inout CommandContext) throws(CommandError) in try combine(&c, .inter, store: false) },
        "sunion": { (c: inout CommandContext) throws(CommandError) in try combine(&c, .union, store: false) },
        "sdiff": { (c: inout CommandContext) throws(CommandError) in try combine(&c, .diff, store: false) },
        "sinterstore": { (c: inout CommandContext) throws(CommandError) in try combine(&c, .inter, store: true) },
        "sunionstore": { (c: inout CommandContext) throws(CommandError) in try combine(&c, .union, store: true) },
        "sdiffstore": { (c: inout CommandContext) throws(CommandError) in try combine(&c, .diff, store: true) },
        "sintercard": sintercard,
        "sscan": sscan,
    ]

    static let empty = ByteBuffer()

    static func sadd(_ c: inout CommandContext) throws(CommandError) {
        var s = try c.collectionForWrite(c.arg(1), .set)
        var added = 0
        for i in 2..<c.args.count where try c.setElement(&s, c.arg(i), empty) { added += 1 }
        if added > 0 { try c.save(c.arg(1), s, event: "sadd") }
        c.out.writeIntegerReply(added)
    }

    static func srem(_ c: inout CommandContext) throws(CommandError) {
        try c.removeElements(.set, event: "srem")
    }

    static func members(_ c: CommandContext, _ s: Collection) throws(CommandError) -> [ByteBuffer] {
        try c.allElements(s).map { $0.0 }
    }

    static func writeSet(_ c: inout CommandContext, _ items: [ByteBuffer]) {
        c.out.writeSetHeader(items.count, c.resp)
        for m in items { c.out.writeBulk(m) }
    }

    static func smembers(_ c: inout CommandContext) throws(CommandError) {
        guard let s = try c.lookupCollection(c.arg(1), .set) else { return writeSet(&c, []) }
        writeSet(&c, try members(c, s))
    }

    static func sismember(_ c: inout CommandContext) throws(CommandError) {
        guard let s = try c.lookupCollection(c.arg(1), .set) else { return c.out.writeIntegerReply(0) }
        c.out.writeIntegerReply(try c.element(s, c.arg(2)) != nil ? 1 : 0)
    }

    static func smismember(_ c: inout CommandContext) throws(CommandError) {
        let s = try c.lookupCollection(c.arg(1), .set)
        c.out.writeArrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let s { c.out.writeIntegerReply(try c.element(s, c.arg(i)) != nil ? 1 : 0) } else { c.out.writeIntegerReply(0) }
        }
    }

    static func scard(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeIntegerReply(try c.lookupCollection(c.arg(1), .set)?.meta.size ?? 0)
    }

    static func spop(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 3 { throw .syntax }
        if c.args.count == 3 {
            let count = try c.integer(2, or: CommandError("ERR value is out of range, must be positive"))
            guard count >= 0 else { throw CommandError("ERR value is out of range, must be positive") }
            guard var s = try c.lookupCollection(c.arg(1), .set) else { return writeSet(&c, []) }
            let chosen = RandomPick.pick(try members(c, s), count: count)
            for m in chosen { try c.removeElement(&s, m) }
            if count > 0 { try c.save(c.arg(1), s, event: "spop") }
            return writeSet(&c, chosen)
        }
        guard var s = try c.lookupCollection(c.arg(1), .set) else { return c.out.writeNull(c.resp) }
        guard let m = try members(c, s).randomElement() else { throw .inconsistent }
        try c.removeElement(&s, m)
        try c.save(c.arg(1), s, event: "spop")
        c.out.writeBulk(m)
    }

    static func srandmember(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 3 { throw .syntax }
        if c.args.count == 3 {
            let count = try RandomPick.count(c, 2)
            guard let s = try c.lookupCollection(c.arg(1), .set) else { return c.out.writeArrayHeader(0) }
            let chosen = RandomPick.pick(try members(c, s), count: count)
            c.out.writeArrayHeader(chosen.count)
            for m in chosen { c.out.writeBulk(m) }
            return
        }
        guard let s = try c.lookupCollection(c.arg(1), .set) else { return c.out.writeNull(c.resp) }
        guard let m = try members(c, s).randomElement() else { throw .inconsistent }
        c.out.writeBulk(m)
    }

    static func smove(_ c: inout CommandContext) throws(CommandError) {
        let srcKey = c.arg(1), dstKey = c.arg(2), member = c.arg(3)
        let srcRecord = try c.lookup(srcKey)
        let dstRecord = try c.lookup(dstKey)
        guard let srcRecord else { return c.out.writeIntegerReply(0) }
        guard srcRecord.type == .set, dstRecord.map({ $0.type == .set }) ?? true else { throw .wrongType }
        guard var src = try c.lookupCollection(srcKey, .set) else { throw .inconsistent }
        if srcKey == dstKey {
            return c.out.writeIntegerReply(try c.element(src, member) != nil ? 1 : 0)
        }
        guard try c.removeElement(&src, member) else { return c.out.writeIntegerReply(0) }
        try c.save(srcKey, src, event: "srem")
        var dst = try c.collectionForWrite(dstKey, .set)
        if try c.setElement(&dst, member, empty) { try c.save(dstKey, dst, event: "sadd") }
        c.out.writeIntegerReply(1)
    }

    enum Operation { case inter, union, diff }

    /// The sets named by `keys` (nil = absent), after checking every type;
    /// `read`: looked up as Redis's lookupKeyRead (the inputs of a *STORE).
    static func load(_ c: CommandContext, _ keys: Range<Int>, read: Bool = false) throws(CommandError) -> [Collection?] {
        var out: [Collection?] = []
        for i in keys { out.append(try c.lookupCollection(c.arg(i), .set, read: read)) }
        return out
    }

    static func compute(_ c: CommandContext, _ op: Operation, _ sets: [Collection?], limit: Int = 0) throws(CommandError) -> [ByteBuffer] {
        switch op {
        case .inter:
            if sets.contains(where: { $0 == nil }) { return [] }
            let all = sets.compactMap { $0 }.sorted { $0.meta.size < $1.meta.size }
            var result: [ByteBuffer] = []
            outer: for m in try members(c, all[0]) {
                for other in all.dropFirst() where try c.element(other, m) == nil { continue outer }
                result.append(m)
                if limit > 0 && result.count >= limit { break }
            }
            return result
        case .union:
            var seen = Set<ByteBuffer>()
            var result: [ByteBuffer] = []
            for s in sets { if let s { for m in try members(c, s) where seen.insert(m).inserted { result.append(m) } } }
            return result
        case .diff:
            guard let first = sets[0] else { return [] }
            var result: [ByteBuffer] = []
            outer: for m in try members(c, first) {
                for other in sets.dropFirst() { if let other, try c.element(other, m) != nil { continue outer } }
                result.append(m)
            }
            return result
        }
    }

    static func combine(_ c: inout CommandContext, _ op: Operation, store: Bool) throws(CommandError) {
        let first = store ? 2 : 1
        let result = try compute(c, op, try load(c, first..<c.args.count, read: store))
        guard store else { return writeSet(&c, result) }
        var dst = Collection(meta: CollectionMeta(version: c.store.newVersion(), size: 0), expireAt: 0, type: .set, existed: false)
        for m in result { try c.setElement(&dst, m, empty) }
        let event: String
        switch op {
        case .inter: event = "sinterstore"
        case .union: event = "sunionstore"
        case .diff: event = "sdiffstore"
        }
        try c.storeResult(c.arg(1), dst, event: event)
        c.out.writeIntegerReply(result.count)
    }

    static func sintercard(_ c: inout CommandContext) throws(CommandError) {
        let numError = CommandError("ERR numkeys should be greater than 0")
        let numkeys = try c.integer(1, or: numError)
        guard numkeys >= 1 else { throw numError }
        guard numkeys <= c.args.count - 2 else { throw CommandError("ERR Number of keys can't be greater than number of args") }
        let limit = try c.intercardLimit(from: 2 + numkeys)
        let result = try compute(c, .inter, try load(c, 2..<(2 + numkeys)), limit: limit)
        c.out.writeIntegerReply(result.count)
    }

    static func sscan(_ c: inout CommandContext) throws(CommandError) {
        try c.scanElements(.set, withValues: false)
    }
}
