import LodeRESP
import LodeStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// SORT and SORT_RO, ported from Redis 7.0's sort.c (sortCommandGeneric): the same
/// option parsing, LIMIT clamping, loading order, comparisons and errors, so replies
/// and keyspace events are Redis's.
enum SortCommands {
    static let handlers: [String: CommandHandler] = [
        "sort": { (c: inout CommandContext) throws(CommandError) in try sort(&c, readonly: false) },
        "sort_ro": { (c: inout CommandContext) throws(CommandError) in try sort(&c, readonly: true) },
    ]

    /// redisSortObject: an element and what it sorts by (a score, or with ALPHA and BY
    /// the looked-up value, nil when the key or field is missing).
    struct SortObject {
        var obj: ByteBuffer
        var score: Double = 0
        var cmpobj: ByteBuffer? = nil
    }

    /// The comparison settings sort.c passes through `server.sort_*`.
    struct Order {
        var desc: Bool, alpha: Bool, byPattern: Bool, store: Bool

        /// sortCompare.
        func compare(_ a: SortObject, _ b: SortObject) -> Int {
            var cmp: Int
            if !alpha {
                // Numeric: equal scores fall back to the bytes, so the result is deterministic.
                if a.score > b.score { cmp = 1 } else if a.score < b.score { cmp = -1 } else { cmp = binary(a.obj, b.obj) }
            } else if byPattern {
                if let x = a.cmpobj, let y = b.cmpobj {
                    cmp = store ? binary(x, y) : collate(x, y)
                } else {
                    cmp = a.cmpobj == nil && b.cmpobj == nil ? 0 : (a.cmpobj == nil ? -1 : 1)
                }
            } else {
                cmp = store ? binary(a.obj, b.obj) : collate(a.obj, b.obj)
            }
            return desc ? -cmp : cmp
        }
    }

    /// compareStringObjects: memcmp of the common length, then the shorter first.
    static func binary(_ a: ByteBuffer, _ b: ByteBuffer) -> Int {
        a.withUnsafeReadableBytes { x in
            b.withUnsafeReadableBytes { y in
                let n = min(x.count, y.count)
                let r = n == 0 ? 0 : Int(memcmp(x.baseAddress!, y.baseAddress!, n))
                return r != 0 ? r : x.count - y.count
            }
        }
    }

    /// Redis's strcoll() on the C strings. Lode runs in the C locale, where strcoll is
    /// strcmp: unsigned bytes, each string ending at its first NUL.
    static func collate(_ a: ByteBuffer, _ b: ByteBuffer) -> Int {
        a.withUnsafeReadableBytes { x in
            b.withUnsafeReadableBytes { y in
                var i = 0
                while true {
                    let p: UInt8 = i < x.count ? x[i] : 0
                    let q: UInt8 = i < y.count ? y[i] : 0
                    if p != q { return Int(p) - Int(q) }
                    if p == 0 { return 0 }
                    i += 1
                }
            }
        }
    }

    /// The first index of `byte` in the C string `s` (which ends at its first NUL), as strchr.
    static func cIndex(of byte: UInt8, in s: [UInt8], from: Int = 0) -> Int? {
        var i = from
        while i < s.count && s[i] != 0 {
            if s[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// `strtod(byval->ptr, &eptr)` as SORT uses it: the value must be the whole C string
    /// (up to a NUL), without ERANGE and not NaN. Leading spaces and "" (0) are accepted.
    static func score(_ v: ByteBuffer) -> Double? {
        var cstr = [CChar]()
        cstr.reserveCapacity(v.readableBytes + 1)
        for b in v.readableBytesView {
            if b == 0 { break }
            cstr.append(CChar(bitPattern: b))
        }
        cstr.append(0)
        return cstr.withUnsafeBufferPointer { p -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let d = strtod(p.baseAddress!, &end)
            guard let end, end.pointee == 0, errno != ERANGE, !d.isNaN else { return nil }
            return d
        }
    }

    /// lookupKeyByPattern: "#" is the element itself; otherwise the first '*' is replaced
    /// by the element and the key read as lookupKeyRead does (hits, misses, `keymiss`,
    /// expiry). "key->field" reads a hash field. No '*', a missing key or one of the wrong
    /// type (a string wanted, or a hash with a field): nil.
    static func lookupByPattern(_ c: CommandContext, _ pattern: [UInt8], _ subst: ByteBuffer) throws(CommandError) -> ByteBuffer? {
        if pattern.first == UInt8(ascii: "#") && (pattern.count == 1 || pattern[1] == 0) { return subst }
        guard let star = cIndex(of: UInt8(ascii: "*"), in: pattern) else { return nil }
        // strstr(p+1, "->") followed by at least one character.
        var arrow: Int? = nil
        var i = star + 1
        while let f = cIndex(of: UInt8(ascii: "-"), in: pattern, from: i) {
            if f + 1 < pattern.count && pattern[f + 1] == UInt8(ascii: ">") { arrow = f; break }
            i = f + 1
        }
        if let f = arrow, !(f + 2 < pattern.count && pattern[f + 2] != 0) { arrow = nil }
        let fieldLength = arrow.map { pattern.count - $0 - 2 } ?? 0
        let postfixLength = pattern.count - (star + 1) - (fieldLength > 0 ? fieldLength + 2 : 0)
        var key = ByteBuffer()
        key.writeBytes(pattern[0..<star])
        key.writeImmutableBuffer(subst)
        key.writeBytes(pattern[(star + 1)..<(star + 1 + postfixLength)])
        guard let r = try c.lookupForRead(key) else { return nil }
        if let f = arrow {
            guard r.type == .hash, let meta = r.collection else { return nil }
            let hash = Collection(meta: meta, expireAt: r.expireAt, type: .hash, existed: true)
            return try c.element(hash, ByteBuffer(bytes: pattern[(f + 2)...]))
        }
        guard r.type == .string else { return nil }
        return try c.stringValue(r)
    }

    /// SORT's options, parsed as sortCommandGeneric parses them (errors in its order).
    struct Options {
        var desc = false, alpha = false, dontsort = false
        var limitStart = 0, limitCount = -1
        var sortby: [UInt8]? = nil
        var storekey: ByteBuffer? = nil
        var gets: [[UInt8]] = []

        init(_ c: CommandContext, readonly: Bool) throws(CommandError) {
            var j = 2
            while j < c.args.count {
                let left = c.args.count - j - 1
                if c.argIs(j, "asc") {
                    desc = false
                } else if c.argIs(j, "desc") {
                    desc = true
                } else if c.argIs(j, "alpha") {
                    alpha = true
                } else if c.argIs(j, "limit") && left >= 2 {
                    limitStart = try c.integer(j + 1)
                    limitCount = try c.integer(j + 2)
                    j += 2
                } else if !readonly && c.argIs(j, "store") && left >= 1 {
                    storekey = c.arg(j + 1)
                    j += 1
                } else if c.argIs(j, "by") && left >= 1 {
                    let pattern = c.bytes(j + 1)
                    sortby = pattern
                    // A constant BY pattern (no '*') means "don't sort"; it stays set even if a
                    // later BY has a '*', as in Redis.
                    if cIndex(of: UInt8(ascii: "*"), in: pattern) == nil { dontsort = true }
                    j += 1
                } else if c.argIs(j, "get") && left >= 1 {
                    gets.append(c.bytes(j + 1))
                    j += 1
                } else {
                    throw .syntax
                }
                j += 1
            }
        }
    }

    static func sort(_ c: inout CommandContext, readonly: Bool) throws(CommandError) {
        var o = try Options(c, readonly: readonly)
        let source = try c.lookupForRead(c.arg(1))
        let type = source?.type ?? .list  // a missing key sorts as an empty list
        switch type {
        case .list, .set, .zset: break
        default: throw .wrongType
        }
        // Sets have no order of their own: with STORE or from a script the output must not
        // depend on it, so Redis sorts them ALPHA instead.
        if o.dontsort && type == .set && (o.storekey != nil || c.client.id == 0) {  // id 0: the script client
            o.dontsort = false
            o.alpha = true
            o.sortby = nil
        }
        let coll = source.flatMap { r in r.collection.map { Collection(meta: $0, expireAt: r.expireAt, type: type, existed: true) } }
        let size = coll?.meta.size ?? 0

        // LIMIT sanity checking, clamped to the object's size as Redis does.
        var start = min(max(o.limitStart, 0), size)
        let limitCount = min(max(o.limitCount, -1), size)
        var end = limitCount < 0 ? size - 1 : start + limitCount - 1
        if start >= size {
            start = size - 1
            end = size - 2
        }
        if end >= size { end = size - 1 }

        var vector = try load(c, coll, o, start: &start, end: &end)
        if !o.dontsort {
            var conversionError = false
            for k in vector.indices {
                let byval: ByteBuffer
                if let sortby = o.sortby {
                    guard let v = try lookupByPattern(c, sortby, vector[k].obj) else { continue }
                    byval = v
                } else {
                    byval = vector[k].obj
                }
                if o.alpha {
                    if o.sortby != nil { vector[k].cmpobj = byval }
                } else if let d = score(byval) {
                    vector[k].score = d
                } else {
                    conversionError = true
                }
            }
            let order = Order(desc: o.desc, alpha: o.alpha, byPattern: o.sortby != nil, store: o.storekey != nil)
            if o.sortby != nil && (start != 0 || end != vector.count - 1) {
                PartialQuickSort.sort(&vector, lrange: start, rrange: end, by: order.compare)
            } else {
                MergeSort.sort(&vector, by: order.compare)  // qsort
            }
            if conversionError { throw CommandError("ERR One or more scores can't be converted into double") }
        }
        try output(&c, vector, o, start: start, end: end)
    }

    /// The sorting vector. A list or sorted set sorted BY a constant is read in its own
    /// order (reversed by DESC), just the LIMIT range, and `start`/`end` then index
    /// that range, as sort.c's "fix start/end" does; everything else is read whole.
    static func load(_ c: CommandContext, _ coll: Collection?, _ o: Options,
                     start: inout Int, end: inout Int) throws(CommandError) -> [SortObject] {
        guard let coll else { return [] }
        let size = coll.meta.size
        let ranged = (coll.type == .zset || coll.type == .list) && o.dontsort && (start != 0 || end != size - 1)
        let vectorlen = ranged ? end - start + 1 : size
        var vector: [SortObject] = []
        switch coll.type {
        case .list where o.dontsort:
            if end >= start {
                var items = try ListCommands.range(c, coll, from: o.desc ? size - start - vectorlen : start, count: vectorlen)
                if o.desc { items.reverse() }
                vector = items.map { SortObject(obj: $0) }
                end -= start
                start = 0
            }
        case .list:
            vector = try ListCommands.all(c, coll).map { SortObject(obj: $0) }
        case .set:
            vector = try c.allElements(coll).map { SortObject(obj: $0.0) }
        case .zset where o.dontsort:
            if vectorlen > 0 {
                let items = try ZSetCommands.byRank(c, coll, start: start, end: start + vectorlen - 1, reverse: o.desc)
                vector = items.map { SortObject(obj: $0.0) }
            }
            end -= start
            start = 0
        default:
            vector = try ZSetCommands.entries(c, coll).map { SortObject(obj: $0.0) }
        }
        guard vector.count == max(vectorlen, 0) else { throw .inconsistent }
        return vector
    }

    /// The reply, with each GET looked up as the element is written; or with STORE a
    /// list (a missing GET value is an empty string) whose length is the reply, an empty
    /// result deleting the destination.
    static func output(_ c: inout CommandContext, _ vector: [SortObject], _ o: Options, start: Int, end: Int) throws(CommandError) {
        let outputlen = o.gets.isEmpty ? end - start + 1 : o.gets.count * (end - start + 1)
        guard let storekey = o.storekey else {
            c.out.writeArrayHeader(outputlen)
            for k in stride(from: start, through: end, by: 1) {
                if o.gets.isEmpty { c.out.writeBulk(vector[k].obj) }
                for pattern in o.gets {
                    if let v = try lookupByPattern(c, pattern, vector[k].obj) { c.out.writeBulk(v) } else { c.out.writeNull(c.resp) }
                }
            }
            return
        }
        var list = Collection(meta: CollectionMeta(version: c.store.newVersion(), size: 0), expireAt: 0, type: .list, existed: false)
        for k in stride(from: start, through: end, by: 1) {
            if o.gets.isEmpty { try ListCommands.pushElement(c, &list, vector[k].obj, left: false) }
            for pattern in o.gets {
                try ListCommands.pushElement(c, &list, try lookupByPattern(c, pattern, vector[k].obj) ?? ByteBuffer(), left: false)
            }
        }
        try c.storeResult(storekey, list, event: "sortstore")
        c.out.writeIntegerReply(outputlen)
    }
}
