import LodeRESP
import LodeStore
import NIOCore

/// The list family: one LMDB entry per element, keyed by a 64-bit position.
/// Elements occupy positions [head, tail) (docs/storage.md); pushes and pops at
/// either end and LINDEX/LSET are O(log n); LINSERT and LREM rewrite the list.
enum ListCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "lpush": { (c: inout CommandContext) throws(CommandError) in try push(&c, left: true, onlyExisting: false) },
        "rpush": { (c: inout CommandContext) throws(CommandError) in try push(&c, left: false, onlyExisting: false) },
        "lpushx": { (c: inout CommandContext) throws(CommandError) in try push(&c, left: true, onlyExisting: true) },
        "rpushx": { (c: inout CommandContext) throws(CommandError) in try push(&c, left: false, onlyExisting: true) },
        "lpop": { (c: inout CommandContext) throws(CommandError) in try pop(&c, left: true) },
        "rpop": { (c: inout CommandContext) throws(CommandError) in try pop(&c, left: false) },
        "llen": llen,
        "lrange": lrange,
        "lindex": lindex,
        "lset": lset,
        "linsert": linsert,
        "lrem": lrem,
        "ltrim": ltrim,
        "lpos": lpos,
        "lmove": lmove,
        "rpoplpush": rpoplpush,
        "lmpop": lmpop,
    ]

    // MARK: positions

    static func name(_ position: UInt64) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(position)
        return b
    }

    static func at(_ c: CommandContext, _ l: Collection, _ index: Int) throws(CommandError) -> ByteBuffer? {
        try c.element(l, name(l.meta.head &+ UInt64(index)))
    }

    /// Elements [start, start+count) by index.
    static func range(_ c: CommandContext, _ l: Collection, from start: Int, count: Int) throws(CommandError) -> [ByteBuffer] {
        guard count > 0 else { return [] }
        var out: [ByteBuffer] = []
        out.reserveCapacity(count)
        let first = name(l.meta.head &+ UInt64(start))
        do {
            _ = try c.store.elements(version: l.meta.version, hashed: false,
                after: c.store.position(before: first, version: l.meta.version), limit: count) { _, v in
                out.append(v)
                return out.count < count
            }
        } catch { throw c.storeFailure(error) }
        return out
    }

    static func all(_ c: CommandContext, _ l: Collection) throws(CommandError) -> [ByteBuffer] {
        try range(c, l, from: 0, count: l.meta.size)
    }

    static func pushElement(_ c: CommandContext, _ l: inout Collection, _ v: ByteBuffer, left: Bool) throws(CommandError) {
        if l.meta.size == 0 { l.meta.head = 1 << 63; l.meta.tail = 1 << 63 }
        if left {
            l.meta.head &-= 1
            try c.setElement(&l, name(l.meta.head), v)
        } else {
            try c.setElement(&l, name(l.meta.tail), v)
            l.meta.tail &+= 1
        }
    }

    static func pushEvent(_ left: Bool) -> String { left ? "lpush" : "rpush" }
    static func popEvent(_ left: Bool) -> String { left ? "lpop" : "rpop" }

    static func popElement(_ c: CommandContext, _ l: inout Collection, left: Bool) throws(CommandError) -> ByteBuffer? {
        guard l.meta.size > 0 else { return nil }
        let pos = left ? l.meta.head : l.meta.tail &- 1
        let v = try c.element(l, name(pos))
        try c.removeElement(&l, name(pos))
        if left { l.meta.head &+= 1 } else { l.meta.tail &-= 1 }
        return v
    }

    /// Replaces the whole content under a fresh version (LINSERT, LREM).
    static func rewrite(_ c: CommandContext, key: ByteBuffer, _ l: Collection, with items: [ByteBuffer]) throws(CommandError) {
        var fresh = Collection(meta: CollectionMeta(version: c.store.newVersion(), size: 0), expireAt: l.expireAt,
            type: .list, existed: true)
        for v in items { try pushElement(c, &fresh, v, left: false) }
        if fresh.meta.size == 0 { try c.delete(key) } else { try c.put(key, Record(type: .list, expireAt: l.expireAt, meta: fresh.meta)) }
    }

    // MARK: commands

    static func push(_ c: inout CommandContext, left: Bool, onlyExisting: Bool) throws(CommandError) {
        var l: Collection
        if onlyExisting {
            guard let existing = try c.lookupCollection(c.arg(1), .list) else { return c.out.writeIntegerReply(0) }
            l = existing
        } else {
            l = try c.collectionForWrite(c.arg(1), .list)
        }
        for i in 2..<c.args.count { try pushElement(c, &l, c.arg(i), left: left) }
        try c.save(c.arg(1), l, event: pushEvent(left))
        c.out.writeIntegerReply(l.meta.size)
    }

    static func pop(_ c: inout CommandContext, left: Bool) throws(CommandError) {
        if c.args.count > 3 { throw .wrongArity(c.command.name) }
        var count: Int? = nil
        if c.args.count == 3 {
            let e = CommandError("ERR value is out of range, must be positive")
            let n = try c.integer(2, or: e)
            guard n >= 0 else { throw e }
            count = n
        }
        guard var l = try c.lookupCollection(c.arg(1), .list) else {
            return count == nil ? c.out.writeNull(c.resp) : c.out.writeNullArray(c.resp)
        }
        guard let count else {
            guard let v = try popElement(c, &l, left: left) else { throw .inconsistent }
            try c.save(c.arg(1), l, event: popEvent(left))
            return c.out.writeBulk(v)
        }
        let n = min(count, l.meta.size)
        c.out.writeArrayHeader(n)
        for _ in 0..<n {
            guard let v = try popElement(c, &l, left: left) else { throw .inconsistent }
            c.out.writeBulk(v)
        }
        if n > 0 { try c.save(c.arg(1), l, event: popEvent(left)) }
    }

    static func llen(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeIntegerReply(try c.lookupCollection(c.arg(1), .list)?.meta.size ?? 0)
    }

    /// Redis's index normalisation for LRANGE/LTRIM: clamped [start, end], nil if empty.
    static func normalize(_ start: Int, _ end: Int, size: Int) -> (Int, Int)? {
        var s = start, e = end
        if s < 0 { s = size + s }
        if e < 0 { e = size + e }
        if s < 0 { s = 0 }
        if s > e || s >= size { return nil }
        if e >= size { e = size - 1 }
        return (s, e)
    }

    static func lrange(_ c: inout CommandContext) throws(CommandError) {
        let start = try c.integer(2), end = try c.integer(3)
        guard let l = try c.lookupCollection(c.arg(1), .list), let (s, e) = normalize(start, end, size: l.meta.size) else {
            return c.out.writeArrayHeader(0)
        }
        // Positions are dense, so the count is known up front and each element is
        // written straight from the database page.
        let count = e - s + 1
        c.out.writeArrayHeader(count)
        var written = 0
        let first = name(l.meta.head &+ UInt64(s))
        let after = c.store.position(before: first, version: l.meta.version)
        var out = c.out
        c.out = ByteBuffer()
        do {
            _ = try c.store.elementsRaw(version: l.meta.version, hashed: false, after: after, limit: count) { _, v in
                out.writeBulk(bytes: v)
                written += 1
                return written < count
            }
        } catch {
            c.out = out
            throw c.storeFailure(error)
        }
        c.out = out
    }

    static func lindex(_ c: inout CommandContext) throws(CommandError) {
        guard let l = try c.lookupCollection(c.arg(1), .list) else { return c.out.writeNull(c.resp) }
        let i = try c.integer(2)
        let idx = i < 0 ? l.meta.size + i : i
        guard idx >= 0 && idx < l.meta.size, let v = try at(c, l, idx) else { return c.out.writeNull(c.resp) }
        c.out.writeBulk(v)
    }

    static func lset(_ c: inout CommandContext) throws(CommandError) {
        guard var l = try c.lookupCollection(c.arg(1), .list) else { throw .noSuchKey }
        let i = try c.integer(2)
        let idx = i < 0 ? l.meta.size + i : i
        guard idx >= 0 && idx < l.meta.size else { throw CommandError("ERR index out of range") }
        try c.setElement(&l, name(l.meta.head &+ UInt64(idx)), c.arg(3))
        try c.save(c.arg(1), l, event: "lset")
        c.out.writeOK()
    }

    static func linsert(_ c: inout CommandContext) throws(CommandError) {
        let before: Bool
        if c.argIs(2, "before") { before = true } else if c.argIs(2, "after") { before = false } else { throw .syntax }
        guard let l = try c.lookupCollection(c.arg(1), .list) else { return c.out.writeIntegerReply(0) }
        var items = try all(c, l)
        guard let i = items.firstIndex(of: c.arg(3)) else { return c.out.writeIntegerReply(-1) }
        items.insert(c.arg(4), at: before ? i : i + 1)
        try rewrite(c, key: c.arg(1), l, with: items)
        c.notify(.list, "linsert", c.arg(1))
        c.out.writeIntegerReply(items.count)
    }

    static func lrem(_ c: inout CommandContext) throws(CommandError) {
        let count = try c.integer(2)
        guard let l = try c.lookupCollection(c.arg(1), .list) else { return c.out.writeIntegerReply(0) }
        let items = try all(c, l)
        let target = c.arg(3)
        var removed = 0
        var keep = [Bool](repeating: true, count: items.count)
        let order: [Int] = count < 0 ? Array(items.indices.reversed()) : Array(items.indices)
        for i in order where items[i] == target {
            keep[i] = false
            removed += 1
            if count != 0 && removed == count.magnitude { break }
        }
        if removed > 0 {
            try rewrite(c, key: c.arg(1), l, with: items.indices.filter { keep[$0] }.map { items[$0] })
            c.notifyChange(.list, "lrem", c.arg(1), deleted: removed == items.count)
        }
        c.out.writeIntegerReply(removed)
    }

    static func ltrim(_ c: inout CommandContext) throws(CommandError) {
        let start = try c.integer(2), end = try c.integer(3)
        guard var l = try c.lookupCollection(c.arg(1), .list) else { return c.out.writeOK() }
        // Redis publishes `ltrim` even when nothing was trimmed.
        guard let (s, e) = normalize(start, end, size: l.meta.size) else {
            try c.delete(c.arg(1))
            c.notifyChange(.list, "ltrim", c.arg(1), deleted: true)
            return c.out.writeOK()
        }
        let dropTail = l.meta.size - 1 - e
        for _ in 0..<s { _ = try popElement(c, &l, left: true) }
        for _ in 0..<dropTail { _ = try popElement(c, &l, left: false) }
        try c.save(c.arg(1), l, event: "ltrim")
        c.out.writeOK()
    }

    static func lpos(_ c: inout CommandContext) throws(CommandError) {
        var rank = 1, count: Int? = nil, maxlen = 0
        var j = 3
        while j < c.args.count {
            guard j + 1 < c.args.count else { throw .syntax }
            if c.argIs(j, "rank") {
                rank = try c.integer(j + 1)
                // Redis negates a negative rank in C; LONG_MIN stays negative and then
                // matches from the first hit at the tail, like -1.
                if rank == Int.min { rank = -1 }
                if rank == 0 {
                    throw CommandError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                        + "or use negative to start from the end of the list")
                }
            } else if c.argIs(j, "count") {
                let e = CommandError("ERR COUNT can't be negative")
                let n = try c.integer(j + 1, or: e)
                if n < 0 { throw e }
                count = n
            } else if c.argIs(j, "maxlen") {
                let e = CommandError("ERR MAXLEN can't be negative")
                maxlen = try c.integer(j + 1, or: e)
                if maxlen < 0 { throw e }
            } else {
                throw .syntax
            }
            j += 2
        }
        guard let l = try c.lookupCollection(c.arg(1), .list) else {
            return count == nil ? c.out.writeNull(c.resp) : c.out.writeArrayHeader(0)
        }
        let items = try all(c, l)
        let target = c.arg(2)
        var matches: [Int] = []
        let want = count.map { $0 == 0 ? Int.max : $0 } ?? 1
        var skip = abs(rank) - 1
        let indices: [Int] = rank > 0 ? Array(items.indices) : Array(items.indices.reversed())
        for (scanned, i) in indices.enumerated() {
            if maxlen != 0 && scanned >= maxlen { break }
            guard items[i] == target else { continue }
            if skip > 0 { skip -= 1; continue }
            matches.append(i)
            if matches.count >= want { break }
        }
        if count == nil {
            if let m = matches.first { c.out.writeIntegerReply(m) } else { c.out.writeNull(c.resp) }
        } else {
            c.out.writeArrayHeader(matches.count)
            for m in matches { c.out.writeIntegerReply(m) }
        }
    }

    static func side(_ c: CommandContext, _ i: Int) throws(CommandError) -> Bool {
        if c.argIs(i, "left") { return true }
        if c.argIs(i, "right") { return false }
        throw .syntax
    }

    /// LMOVE's core, shared with RPOPLPUSH and the blocking variants. Events as
    /// Redis's: the push on `dst`, then the pop on `src` (and `del` if emptied).
    static func move(_ c: inout CommandContext, src: ByteBuffer, dst: ByteBuffer,
        fromLeft: Bool, toLeft: Bool) throws(CommandError) -> ByteBuffer? {
        guard var s = try c.lookupCollection(src, .list) else { return nil }
        if let d = try c.lookup(dst), d.type != .list { throw .wrongType }
        guard let v = try popElement(c, &s, left: fromLeft) else { throw .inconsistent }
        if src == dst {
            // A rotation: the list never empties (and keeps its expiry).
            try pushElement(c, &s, v, left: toLeft)
            try c.save(src, s, event: pushEvent(toLeft))
            c.notify(.list, popEvent(fromLeft), src)
            return v
        }
        try c.save(src, s)
        var d = try c.collectionForWrite(dst, .list)
        try pushElement(c, &d, v, left: toLeft)
        try c.save(dst, d, event: pushEvent(toLeft))
        c.notifyChange(.list, popEvent(fromLeft), src, deleted: s.meta.size == 0)
        return v
    }

    static func lmove(_ c: inout CommandContext) throws(CommandError) {
        let from = try side(c, 3), to = try side(c, 4)
        if let v = try move(&c, src: c.arg(1), dst: c.arg(2), fromLeft: from, toLeft: to) {
            c.out.writeBulk(v)
        } else {
            c.out.writeNull(c.resp)
        }
    }

    static func rpoplpush(_ c: inout CommandContext) throws(CommandError) {
        if let v = try move(&c, src: c.arg(1), dst: c.arg(2), fromLeft: false, toLeft: true) {
            c.out.writeBulk(v)
        } else {
            c.out.writeNull(c.resp)
        }
    }

    /// Parses `numkeys key... LEFT|RIGHT [COUNT n]` from argument `first`.
    static func parseMultiPop(_ c: CommandContext, first: Int) throws(CommandError) -> (keys: [ByteBuffer], left: Bool, count: Int) {
        let (keys, first, count) = try MultiPop.parse(c, first: first, ends: ("left", "right"))
        return (keys, first, count)
    }

    /// Pops up to `count` from the first non-empty list; writes [key, [elements]].
    static func popFirstNonEmpty(_ c: inout CommandContext, keys: [ByteBuffer], left: Bool, count: Int) throws(CommandError) -> Bool {
        for key in keys {
            guard var l = try c.lookupCollection(key, .list) else { continue }
            let n = min(count, l.meta.size)
            var items: [ByteBuffer] = []
            for _ in 0..<n {
                guard let v = try popElement(c, &l, left: left) else { throw .inconsistent }
                items.append(v)
            }
            try c.save(key, l, event: popEvent(left))
            c.out.writeArrayHeader(2)
            c.out.writeBulk(key)
            c.out.writeArrayHeader(items.count)
            for v in items { c.out.writeBulk(v) }
            return true
        }
        return false
    }

    static func lmpop(_ c: inout CommandContext) throws(CommandError) {
        let (keys, left, count) = try parseMultiPop(c, first: 1)
        if try !popFirstNonEmpty(&c, keys: keys, left: left, count: count) { c.out.writeNullArray(c.resp) }
    }
}

/// The `numkeys key... <end> [COUNT n]` tail shared by LMPOP, BLMPOP, ZMPOP and
/// BZMPOP, with Redis's error texts.
enum MultiPop {
    /// Returns the keys, whether the first of `ends` was named, and the count.
    static func parse(_ c: CommandContext, first: Int, ends: (StaticString, StaticString))
        throws(CommandError) -> ([ByteBuffer], Bool, Int) {
        let numError = CommandError("ERR numkeys should be greater than 0")
        let numkeys = try c.integer(first, or: numError)
        guard numkeys > 0 else { throw numError }
        guard numkeys <= c.args.count - first - 2 else { throw .syntax }
        let keys = (0..<numkeys).map { c.arg(first + 1 + $0) }
        let w = first + 1 + numkeys
        let isFirst: Bool
        if c.argIs(w, ends.0) { isFirst = true } else if c.argIs(w, ends.1) { isFirst = false } else { throw .syntax }
        var count = 1
        var j = w + 1
        var sawCount = false
        while j < c.args.count {
            guard c.argIs(j, "count") && j + 1 < c.args.count && !sawCount else { throw .syntax }
            let e = CommandError("ERR count should be greater than 0")
            count = try c.integer(j + 1, or: e)
            guard count > 0 else { throw e }
            sawCount = true
            j += 2
        }
        return (keys, isFirst, count)
    }
}
