import LodeRESP
import LodeStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Redis 7.0's double formatting ("%.17g", inf/-inf) and parsing (strtod).
enum Score {
    static func format(_ d: Double) -> String {
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        var buf = [CChar](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBufferPointer { b in withVaList([d]) { vsnprintf(b.baseAddress!, b.count, "%.17g", $0) } }
        return String(decoding: buf[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func parse(_ bytes: [UInt8]) -> Double? {
        guard !bytes.isEmpty, bytes.count < 5 * 1024, !bytes.contains(0) else { return nil }
        if bytes[0] == 0x20 || (bytes[0] >= 0x09 && bytes[0] <= 0x0D) { return nil }
        var cstr = bytes.map { CChar(bitPattern: $0) }
        cstr.append(0)
        return cstr.withUnsafeBufferPointer { p -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let v = strtod(p.baseAddress!, &end)
            guard let end, end - UnsafeMutablePointer(mutating: p.baseAddress!) == bytes.count else { return nil }
            if v.isNaN { return nil }
            if errno == ERANGE && (v.isInfinite || v == 0) { return nil }
            return v
        }
    }

    /// zslParseRange's parsing of range bounds: plain strtod over the whole string
    /// (leading spaces, "" and overflow to inf allowed), only NaN rejected.
    static func parseBound(_ raw: [UInt8]) -> Double? {
        // Redis hands the argument to strtod as a C string: it ends at a NUL byte.
        let bytes = Array(raw.prefix { $0 != 0 })
        var cstr = bytes.map { CChar(bitPattern: $0) }
        cstr.append(0)
        return cstr.withUnsafeBufferPointer { p -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(p.baseAddress!, &end)
            guard let end, end - UnsafeMutablePointer(mutating: p.baseAddress!) == bytes.count, !v.isNaN else { return nil }
            return v
        }
    }

    static func write(_ d: Double, _ c: inout CommandContext) {
        c.out.writeDouble(formatted: format(d), c.resp)
    }
}

/// A score bound of ZRANGEBYSCORE and friends: "1.5", "(1.5", "-inf", "+inf".
struct ScoreRange {
    var min: Double, max: Double, minExclusive: Bool, maxExclusive: Bool

    static func parseBound(_ b: [UInt8]) -> (Double, Bool)? {
        if b.first == UInt8(ascii: "(") {
            guard let v = Score.parseBound(Array(b.dropFirst())) else { return nil }
            return (v, true)
        }
        guard let v = Score.parseBound(b) else { return nil }
        return (v, false)
    }

    init?(_ minBytes: [UInt8], _ maxBytes: [UInt8]) {
        guard let (a, ax) = Self.parseBound(minBytes), let (b, bx) = Self.parseBound(maxBytes) else { return nil }
        min = a; max = b; minExclusive = ax; maxExclusive = bx
    }

    func aboveMin(_ s: Double) -> Bool { minExclusive ? s > min : s >= min }
    func belowMax(_ s: Double) -> Bool { maxExclusive ? s < max : s <= max }
    func contains(_ s: Double) -> Bool { aboveMin(s) && belowMax(s) }
    var isEmpty: Bool { min > max || (min == max && (minExclusive || maxExclusive)) }
}

/// A lex bound: "[a", "(a", "-", "+".
struct LexRange {
    enum Bound { case minusInf, plusInf, inclusive([UInt8]), exclusive([UInt8]) }
    var min: Bound, max: Bound

    static func parse(_ b: [UInt8]) -> Bound? {
        guard let f = b.first else { return nil }
        switch f {
        case UInt8(ascii: "-") where b.count == 1: return .minusInf
        case UInt8(ascii: "+") where b.count == 1: return .plusInf
        case UInt8(ascii: "["): return .inclusive(Array(b.dropFirst()))
        case UInt8(ascii: "("): return .exclusive(Array(b.dropFirst()))
        default: return nil
        }
    }

    init?(_ a: [UInt8], _ b: [UInt8]) {
        guard let x = Self.parse(a), let y = Self.parse(b) else { return nil }
        min = x; max = y
    }

    func aboveMin(_ m: [UInt8]) -> Bool {
        switch min {
        case .minusInf: return true
        case .plusInf: return false
        case .inclusive(let v): return !m.lexicographicallyPrecedes(v)
        case .exclusive(let v): return v.lexicographicallyPrecedes(m)
        }
    }

    func belowMax(_ m: [UInt8]) -> Bool {
        switch max {
        case .minusInf: return false
        case .plusInf: return true
        case .inclusive(let v): return !v.lexicographicallyPrecedes(m)
        case .exclusive(let v): return m.lexicographicallyPrecedes(v)
        }
    }
}

/// The sorted-set family: member → score entries plus a (score, member) index,
/// both one LMDB entry per member (docs/storage.md).
enum ZSetCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("zadd", arity: -4, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Add one or more members to a sorted set, or update its score if it already exists", handler: zadd),
        CommandSpec("zincrby", arity: 4, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Increment the score of a member in a sorted set", handler: zincrby),
        CommandSpec("zrem", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Remove one or more members from a sorted set", handler: zrem),
        CommandSpec("zcard", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Get the number of members in a sorted set", handler: zcard),
        CommandSpec("zscore", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Get the score associated with the given member in a sorted set", handler: zscore),
        CommandSpec("zmscore", arity: -3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Get the score associated with the given members in a sorted set", handler: zmscore),
        CommandSpec("zrank", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Determine the index of a member in a sorted set", handler: { (c: inout CommandContext) throws(CommandError) in try zrank(&c, reverse: false) }),
        CommandSpec("zrevrank", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Determine the index of a member in a sorted set, with scores ordered from high to low", handler: { (c: inout CommandContext) throws(CommandError) in try zrank(&c, reverse: true) }),
        CommandSpec("zcount", arity: 4, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Count the members in a sorted set with scores within the given values", handler: zcount),
        CommandSpec("zlexcount", arity: 4, flags: [.readonly, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Count the number of members in a sorted set between a given lexicographical range", handler: zlexcount),
        CommandSpec("zrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set", summary: "Return a range of members in a sorted set", handler: { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: nil, reverse: nil) }),
        CommandSpec("zrangestore", arity: -5, flags: [.write, .denyoom], keys: (1, 2, 1), group: "sorted-set", summary: "Store a range of members from sorted set into another key", handler: { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: true, kind: nil, reverse: nil) }),
        CommandSpec("zrevrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set", summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low", handler: { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .rank, reverse: true) }),
        CommandSpec("zrangebyscore", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set", summary: "Return a range of members in a sorted set, by score", handler: { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .score, reverse: false) }),
        CommandSpec("zrevrangebyscore", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set", summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low", handler: { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .score, reverse: true) }),
        CommandSpec("zrangebylex", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set", summary: "Return a range of members in a sorted set, by lexicographical range", handler: { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .lex, reverse: false) }),
        CommandSpec("zrevrangebylex", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set", summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", handler: { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .lex, reverse: true) }),
        CommandSpec("zremrangebyrank", arity: 4, flags: [.write], keys: (1, 1, 1), group: "sorted-set", summary: "Remove all members in a sorted set within the given indexes", handler: { (c: inout CommandContext) throws(CommandError) in try zremrange(&c, .rank) }),
        CommandSpec("zremrangebyscore", arity: 4, flags: [.write], keys: (1, 1, 1), group: "sorted-set", summary: "Remove all members in a sorted set within the given scores", handler: { (c: inout CommandContext) throws(CommandError) in try zremrange(&c, .score) }),
        CommandSpec("zremrangebylex", arity: 4, flags: [.write], keys: (1, 1, 1), group: "sorted-set", summary: "Remove all members in a sorted set between the given lexicographical range", handler: { (c: inout CommandContext) throws(CommandError) in try zremrange(&c, .lex) }),
        CommandSpec("zpopmin", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Remove and return members with the lowest scores in a sorted set", handler: { (c: inout CommandContext) throws(CommandError) in try zpop(&c, max: false) }),
        CommandSpec("zpopmax", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "sorted-set", summary: "Remove and return members with the highest scores in a sorted set", handler: { (c: inout CommandContext) throws(CommandError) in try zpop(&c, max: true) }),
        CommandSpec("zmpop", arity: -4, flags: [.write], group: "sorted-set", summary: "Remove and return members with scores in a sorted set", handler: zmpop),
        CommandSpec("zrandmember", arity: -2, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set", summary: "Get one or multiple random elements from a sorted set", handler: zrandmember),
        CommandSpec("zunion", arity: -3, flags: [.readonly], group: "sorted-set", summary: "Add multiple sorted sets", handler: { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .union, store: false) }),
        CommandSpec("zinter", arity: -3, flags: [.readonly], group: "sorted-set", summary: "Intersect multiple sorted sets", handler: { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .inter, store: false) }),
        CommandSpec("zdiff", arity: -3, flags: [.readonly], group: "sorted-set", summary: "Subtract multiple sorted sets", handler: { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .diff, store: false) }),
        CommandSpec("zunionstore", arity: -4, flags: [.write, .denyoom], group: "sorted-set", summary: "Add multiple sorted sets and store the resulting sorted set in a new key", handler: { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .union, store: true) }),
        CommandSpec("zinterstore", arity: -4, flags: [.write, .denyoom], group: "sorted-set", summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key", handler: { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .inter, store: true) }),
        CommandSpec("zdiffstore", arity: -4, flags: [.write, .denyoom], group: "sorted-set", summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key", handler: { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .diff, store: true) }),
        CommandSpec("zintercard", arity: -3, flags: [.readonly], group: "sorted-set", summary: "Intersect multiple sorted sets and return the cardinality of the result", handler: zintercard),
        CommandSpec("zscan", arity: -3, flags: [.readonly], keys: (1, 1, 1), group: "sorted-set", summary: "Incrementally iterate sorted sets elements and associated scores", handler: zscan),
    ]

    // MARK: element access

    static func scoreBytes(_ d: Double) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(d.bitPattern)
        return b
    }

    static func score(_ c: CommandContext, _ z: Collection, _ member: ByteBuffer) throws(CommandError) -> Double? {
        guard let v = try c.element(z, member), let bits = v.getInteger(at: v.readerIndex, as: UInt64.self) else { return nil }
        return Double(bitPattern: bits)
    }

    static func setScore(_ c: CommandContext, _ z: inout Collection, _ member: ByteBuffer, _ newScore: Double, old: Double?) throws(CommandError) {
        // Stored scores never keep a negative zero (Redis reads -0 back as 0).
        let new = newScore == 0 ? 0 : newScore
        do {
            if let old { try c.store.scoreIndexDelete(version: z.meta.version, score: old, member: member) }
            try c.store.scoreIndexPut(version: z.meta.version, score: new, member: member)
        } catch { throw c.storeFailure(error) }
        try c.setElement(&z, member, scoreBytes(new))
    }

    static func remove(_ c: CommandContext, _ z: inout Collection, _ member: ByteBuffer) throws(CommandError) -> Bool {
        guard let old = try score(c, z, member) else { return false }
        do { try c.store.scoreIndexDelete(version: z.meta.version, score: old, member: member) } catch { throw c.storeFailure(error) }
        return try c.removeElement(&z, member)
    }

    /// Entries in score order (or reverse), from the start, while `visit` says so.
    static func walk(_ c: CommandContext, _ z: Collection, reverse: Bool = false,
                     from: (Double, ByteBuffer)? = nil, _ visit: (Double, ByteBuffer) -> Bool) throws(CommandError) {
        do {
            try c.store.scoreIndexWalk(version: z.meta.version, from: from.map { (score: $0.0, member: $0.1) }, reverse: reverse, visit)
        } catch { throw c.storeFailure(error) }
    }

    static func entries(_ c: CommandContext, _ z: Collection, reverse: Bool = false) throws(CommandError) -> [(ByteBuffer, Double)] {
        var out: [(ByteBuffer, Double)] = []
        try walk(c, z, reverse: reverse) { s, m in out.append((m, s)); return true }
        return out
    }

    static func writeEntries(_ c: inout CommandContext, _ items: [(ByteBuffer, Double)], withScores: Bool) {
        if withScores && c.resp == .resp3 {
            c.out.writeArrayHeader(items.count)
            for (m, s) in items {
                c.out.writeArrayHeader(2)
                c.out.writeBulk(m)
                Score.write(s, &c)
            }
            return
        }
        c.out.writeArrayHeader(items.count * (withScores ? 2 : 1))
        for (m, s) in items {
            c.out.writeBulk(m)
            if withScores { Score.write(s, &c) }
        }
    }

    // MARK: ZADD family

    static func zadd(_ c: inout CommandContext) throws(CommandError) {
        var nx = false, xx = false, ch = false, incr = false, gt = false, lt = false
        var i = 2
        while i < c.args.count {
            if c.argIs(i, "nx") { nx = true } else if c.argIs(i, "xx") { xx = true } else if c.argIs(i, "ch") { ch = true }
            else if c.argIs(i, "incr") { incr = true } else if c.argIs(i, "gt") { gt = true } else if c.argIs(i, "lt") { lt = true }
            else { break }
            i += 1
        }
        let elements = c.args.count - i
        if elements % 2 != 0 || elements == 0 { throw .syntax }
        if nx && xx { throw CommandError("ERR XX and NX options at the same time are not compatible") }
        if (gt && nx) || (lt && nx) || (gt && lt) { throw CommandError("ERR GT, LT, and/or NX options at the same time are not compatible") }
        if incr && elements > 2 { throw CommandError("ERR INCR option supports a single increment-element pair") }
        var scores: [Double] = []
        for j in stride(from: i, to: c.args.count, by: 2) {
            guard let s = Score.parse(c.bytes(j)) else { throw .notFloat }
            scores.append(s)
        }
        let existing = try c.lookupCollection(c.arg(1), .zset)
        if existing == nil && xx {
            return incr ? c.out.writeNull(c.resp) : c.out.writeIntegerReply(0)
        }
        var z: Collection
        if let existing { z = existing } else { z = try c.collectionForWrite(c.arg(1), .zset) }
        var added = 0, updated = 0
        var incrResult: Double? = nil
        for (n, j) in stride(from: i, to: c.args.count, by: 2).enumerated() {
            let member = c.arg(j + 1)
            var newScore = scores[n]
            if let old = try score(c, z, member) {
                if nx { continue }
                if incr {
                    newScore = old + newScore
                    if newScore.isNaN { throw CommandError("ERR resulting score is not a number (NaN)") }
                }
                if (gt && newScore <= old) || (lt && newScore >= old) { continue }
                incrResult = newScore
                if newScore != old {
                    try setScore(c, &z, member, newScore, old: old)
                    updated += 1
                }
            } else {
                if xx { continue }
                if newScore.isNaN { throw CommandError("ERR resulting score is not a number (NaN)") }
                try setScore(c, &z, member, newScore, old: nil)
                added += 1
                incrResult = newScore
            }
        }
        if added + updated > 0 { try c.save(c.arg(1), z) }
        if incr {
            if let r = incrResult { Score.write(r, &c) } else { c.out.writeNull(c.resp) }
        } else {
            c.out.writeIntegerReply(added + (ch ? updated : 0))
        }
    }

    static func zincrby(_ c: inout CommandContext) throws(CommandError) {
        guard let incr = Score.parse(c.bytes(2)) else { throw .notFloat }
        var z = try c.collectionForWrite(c.arg(1), .zset)
        let old = try score(c, z, c.arg(3))
        let new = old.map { $0 + incr } ?? incr
        if new.isNaN { throw CommandError("ERR resulting score is not a number (NaN)") }
        if new != old { try setScore(c, &z, c.arg(3), new, old: old) }
        try c.save(c.arg(1), z)
        Score.write(new, &c)
    }

    static func zrem(_ c: inout CommandContext) throws(CommandError) {
        guard var z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeIntegerReply(0) }
        var removed = 0
        for i in 2..<c.args.count where try remove(c, &z, c.arg(i)) { removed += 1 }
        if removed > 0 { try c.save(c.arg(1), z) }
        c.out.writeIntegerReply(removed)
    }

    static func zcard(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeIntegerReply(try c.lookupCollection(c.arg(1), .zset)?.meta.size ?? 0)
    }

    static func zscore(_ c: inout CommandContext) throws(CommandError) {
        guard let z = try c.lookupCollection(c.arg(1), .zset), let s = try score(c, z, c.arg(2)) else { return c.out.writeNull(c.resp) }
        Score.write(s, &c)
    }

    static func zmscore(_ c: inout CommandContext) throws(CommandError) {
        let z = try c.lookupCollection(c.arg(1), .zset)
        c.out.writeArrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let z, let s = try score(c, z, c.arg(i)) { Score.write(s, &c) } else { c.out.writeNull(c.resp) }
        }
    }

    static func zrank(_ c: inout CommandContext, reverse: Bool) throws(CommandError) {
        guard let z = try c.lookupCollection(c.arg(1), .zset), try score(c, z, c.arg(2)) != nil else { return c.out.writeNull(c.resp) }
        let target = c.arg(2)
        var rank = 0
        var found = false
        try walk(c, z, reverse: reverse) { _, m in
            if m == target { found = true; return false }
            rank += 1
            return true
        }
        found ? c.out.writeIntegerReply(rank) : c.out.writeNull(c.resp)
    }

    static func zcount(_ c: inout CommandContext) throws(CommandError) {
        guard let range = ScoreRange(c.bytes(2), c.bytes(3)) else { throw CommandError("ERR min or max is not a float") }
        guard let z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeIntegerReply(0) }
        c.out.writeIntegerReply(try byScore(c, z, range, reverse: false, offset: 0, limit: -1).count)
    }

    static func zlexcount(_ c: inout CommandContext) throws(CommandError) {
        guard let range = LexRange(c.bytes(2), c.bytes(3)) else { throw CommandError("ERR min or max not valid string range item") }
        guard let z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeIntegerReply(0) }
        c.out.writeIntegerReply(try byLex(c, z, range, reverse: false, offset: 0, limit: -1).count)
    }

    // MARK: ranges

    enum RangeKind { case rank, score, lex }

    static func byScore(_ c: CommandContext, _ z: Collection, _ r: ScoreRange, reverse: Bool, offset: Int, limit: Int) throws(CommandError) -> [(ByteBuffer, Double)] {
        if offset < 0 || limit == 0 { return [] }
        var out: [(ByteBuffer, Double)] = []
        var skip = offset
        // Seek straight to the bound: the index is ordered by score.
        let start: (Double, ByteBuffer)? = reverse ? (r.max.nextUp, ByteBuffer()) : (r.min, ByteBuffer())
        try walk(c, z, reverse: reverse, from: r.max.isInfinite && reverse ? nil : start) { s, m in
            if reverse {
                if !r.belowMax(s) { return true }
                if !r.aboveMin(s) { return false }
            } else {
                if !r.aboveMin(s) { return true }
                if !r.belowMax(s) { return false }
            }
            if skip > 0 { skip -= 1; return true }
            out.append((m, s))
            return limit < 0 || out.count < limit
        }
        return out
    }

    static func byLex(_ c: CommandContext, _ z: Collection, _ r: LexRange, reverse: Bool, offset: Int, limit: Int) throws(CommandError) -> [(ByteBuffer, Double)] {
        if offset < 0 || limit == 0 { return [] }
        var out: [(ByteBuffer, Double)] = []
        var skip = offset
        try walk(c, z, reverse: reverse) { s, m in
            let bytes = Array(m.readableBytesView)
            if reverse {
                if !r.belowMax(bytes) { return true }
                if !r.aboveMin(bytes) { return false }
            } else {
                if !r.aboveMin(bytes) { return true }
                if !r.belowMax(bytes) { return false }
            }
            if skip > 0 { skip -= 1; return true }
            out.append((m, s))
            return limit < 0 || out.count < limit
        }
        return out
    }

    static func byRank(_ c: CommandContext, _ z: Collection, start: Int, end: Int, reverse: Bool) throws(CommandError) -> [(ByteBuffer, Double)] {
        let n = z.meta.size
        var s = start, e = end
        if s < 0 { s = n + s }
        if e < 0 { e = n + e }
        if s < 0 { s = 0 }
        if s > e || s >= n { return [] }
        if e >= n { e = n - 1 }
        var out: [(ByteBuffer, Double)] = []
        var i = 0
        try walk(c, z, reverse: reverse) { sc, m in
            if i >= s { out.append((m, sc)) }
            i += 1
            return i <= e
        }
        return out
    }

    /// ZRANGE and its older forms (Redis's zrangeGenericCommand).
    static func zrange(_ c: inout CommandContext, store: Bool, kind preset: RangeKind?, reverse presetReverse: Bool?) throws(CommandError) {
        let keyIndex = store ? 2 : 1
        var kind = preset
        var reverse = presetReverse
        var withScores = false
        var offset = 0, limit = -1, limitGiven = false
        var j = keyIndex + 3
        while j < c.args.count {
            let left = c.args.count - j - 1
            if !store && c.argIs(j, "withscores") {
                withScores = true
            } else if c.argIs(j, "limit") && left >= 2 {
                offset = try c.integer(j + 1)
                limit = try c.integer(j + 2)
                // Redis's "no LIMIT" is a count of -1, so LIMIT x -1 counts as none.
                limitGiven = limit != -1
                j += 2
            } else if presetReverse == nil && reverse == nil && c.argIs(j, "rev") {
                reverse = true
            } else if preset == nil && kind == nil && c.argIs(j, "bylex") {
                kind = .lex
            } else if preset == nil && kind == nil && c.argIs(j, "byscore") {
                kind = .score
            } else {
                throw .syntax
            }
            j += 1
        }
        let rev = reverse ?? false
        let k = kind ?? .rank
        if limitGiven && k == .rank { throw CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX") }
        if withScores && k == .lex { throw CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX") }
        var minIdx = keyIndex + 1, maxIdx = keyIndex + 2
        if rev && k != .rank { swap(&minIdx, &maxIdx) }
        var result: [(ByteBuffer, Double)] = []
        switch k {
        case .rank:
            let start = try c.integer(minIdx), end = try c.integer(maxIdx)
            if let z = try c.lookupCollection(c.arg(keyIndex), .zset) { result = try byRank(c, z, start: start, end: end, reverse: rev) }
        case .score:
            guard let r = ScoreRange(c.bytes(minIdx), c.bytes(maxIdx)) else { throw CommandError("ERR min or max is not a float") }
            if let z = try c.lookupCollection(c.arg(keyIndex), .zset) { result = try byScore(c, z, r, reverse: rev, offset: offset, limit: limit) }
        case .lex:
            guard let r = LexRange(c.bytes(minIdx), c.bytes(maxIdx)) else { throw CommandError("ERR min or max not valid string range item") }
            if let z = try c.lookupCollection(c.arg(keyIndex), .zset) { result = try byLex(c, z, r, reverse: rev, offset: offset, limit: limit) }
        }
        if store {
            try storeResult(&c, c.arg(1), result)
            return c.out.writeIntegerReply(result.count)
        }
        writeEntries(&c, result, withScores: withScores)
    }

    /// Replaces `key` with a sorted set of `items` (or deletes it when empty).
    static func storeResult(_ c: inout CommandContext, _ key: ByteBuffer, _ items: [(ByteBuffer, Double)]) throws(CommandError) {
        try c.delete(key)
        var z = Collection(meta: CollectionMeta(version: c.store.newVersion(), size: 0), expireAt: 0, type: .zset, existed: false)
        for (m, s) in items { try setScore(c, &z, m, s, old: nil) }
        try c.save(key, z)
    }

    static func zremrange(_ c: inout CommandContext, _ kind: RangeKind) throws(CommandError) {
        var items: [(ByteBuffer, Double)] = []
        switch kind {
        case .rank:
            let start = try c.integer(2), end = try c.integer(3)
            guard let z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeIntegerReply(0) }
            items = try byRank(c, z, start: start, end: end, reverse: false)
        case .score:
            guard let r = ScoreRange(c.bytes(2), c.bytes(3)) else { throw CommandError("ERR min or max is not a float") }
            guard let z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeIntegerReply(0) }
            items = try byScore(c, z, r, reverse: false, offset: 0, limit: -1)
        case .lex:
            guard let r = LexRange(c.bytes(2), c.bytes(3)) else { throw CommandError("ERR min or max not valid string range item") }
            guard let z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeIntegerReply(0) }
            items = try byLex(c, z, r, reverse: false, offset: 0, limit: -1)
        }
        var z = try c.lookupCollection(c.arg(1), .zset)!
        for (m, _) in items { _ = try remove(c, &z, m) }
        if !items.isEmpty { try c.save(c.arg(1), z) }
        c.out.writeIntegerReply(items.count)
    }

    // MARK: pops

    static func popEntries(_ c: CommandContext, _ z: inout Collection, max: Bool, count: Int) throws(CommandError) -> [(ByteBuffer, Double)] {
        var items: [(ByteBuffer, Double)] = []
        guard count > 0 else { return items }
        try walk(c, z, reverse: max) { s, m in
            items.append((m, s))
            return items.count < count
        }
        for (m, _) in items { _ = try remove(c, &z, m) }
        return items
    }

    static func zpop(_ c: inout CommandContext, max: Bool) throws(CommandError) {
        if c.args.count > 3 { throw .syntax }
        var count = 1
        if c.args.count == 3 {
            let e = CommandError("ERR value is out of range, must be positive")
            count = try c.integer(2, or: e)
            guard count >= 0 else { throw e }
        }
        guard var z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeArrayHeader(0) }
        let items = try popEntries(c, &z, max: max, count: count)
        try c.save(c.arg(1), z)
        if c.args.count == 3 {
            writeEntries(&c, items, withScores: true)
        } else {
            c.out.writeArrayHeader(items.count * 2)
            for (m, s) in items { c.out.writeBulk(m); Score.write(s, &c) }
        }
    }

    /// `numkeys key... MIN|MAX [COUNT n]` from argument `first`.
    static func parseMultiPop(_ c: CommandContext, first: Int) throws(CommandError) -> (keys: [ByteBuffer], max: Bool, count: Int) {
        let (keys, min, count) = try MultiPop.parse(c, first: first, ends: ("min", "max"))
        return (keys, !min, count)
    }

    static func popFirstNonEmpty(_ c: inout CommandContext, keys: [ByteBuffer], max: Bool, count: Int) throws(CommandError) -> Bool {
        for key in keys {
            guard var z = try c.lookupCollection(key, .zset) else { continue }
            let items = try popEntries(c, &z, max: max, count: count)
            try c.save(key, z)
            c.out.writeArrayHeader(2)
            c.out.writeBulk(key)
            c.out.writeArrayHeader(items.count)
            for (m, s) in items {
                c.out.writeArrayHeader(2)
                c.out.writeBulk(m)
                Score.write(s, &c)
            }
            return true
        }
        return false
    }

    static func zmpop(_ c: inout CommandContext) throws(CommandError) {
        let (keys, max, count) = try parseMultiPop(c, first: 1)
        if try !popFirstNonEmpty(&c, keys: keys, max: max, count: count) { c.out.writeNullArray(c.resp) }
    }

    static func zrandmember(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count >= 3 else {
            guard let z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeNull(c.resp) }
            return c.out.writeBulk(try entries(c, z).randomElement()!.0)
        }
        let count = try RandomPick.count(c, 2)
        var withScores = false
        if c.args.count > 4 || (c.args.count == 4 && !c.argIs(3, "withscores")) { throw .syntax }
        if c.args.count == 4 {
            withScores = true
            if count < -(Int.max / 2) || count > Int.max / 2 { throw CommandError("ERR value is out of range") }
        }
        guard let z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeArrayHeader(0) }
        writeEntries(&c, RandomPick.pick(try entries(c, z), count: count), withScores: withScores)
    }

    // MARK: set algebra

    enum Operation { case union, inter, diff }

    static func zcombine(_ c: inout CommandContext, _ op: Operation, store: Bool) throws(CommandError) {
        let first = store ? 2 : 1
        let command = c.spec.name
        let numkeys = try c.integer(first)
        guard numkeys >= 1 else { throw CommandError("ERR at least 1 input key is needed for '\(command)' command") }
        guard numkeys <= c.args.count - first - 1 else { throw .syntax }
        // Inputs (checked before any option, as Redis does) may be sorted sets or plain sets (members scored 1), as in Redis.
        var inputs: [[(ByteBuffer, Double)]?] = []
        for i in 0..<numkeys {
            let key = c.arg(first + 1 + i)
            guard let r = try c.lookup(key) else { inputs.append(nil); continue }
            switch r.type {
            case .zset: inputs.append(try entries(c, try c.lookupCollection(key, .zset)!))
            case .set: inputs.append(try c.allElements(try c.lookupCollection(key, .set)!).map { ($0.0, 1.0) })
            default: throw .wrongType
            }
        }
        var weights = [Double](repeating: 1, count: numkeys)
        enum Aggregate { case sum, min, max }
        var aggregate = Aggregate.sum
        var withScores = false
        var j = first + 1 + numkeys
        while j < c.args.count {
            let left = c.args.count - j - 1
            if op != .diff && c.argIs(j, "weights") && left >= numkeys {
                for w in 0..<numkeys {
                    guard let v = Score.parse(c.bytes(j + 1 + w)) else { throw CommandError("ERR weight value is not a float") }
                    weights[w] = v
                }
                j += numkeys + 1
            } else if op != .diff && c.argIs(j, "aggregate") && left >= 1 {
                if c.argIs(j + 1, "sum") { aggregate = .sum } else if c.argIs(j + 1, "min") { aggregate = .min }
                else if c.argIs(j + 1, "max") { aggregate = .max } else { throw .syntax }
                j += 2
            } else if !store && c.argIs(j, "withscores") {
                withScores = true
                j += 1
            } else {
                throw .syntax
            }
        }
        if op != .diff {
            // Like Redis, combine from the smallest input up (a stable sort, so the
            // sums add in the same order and round the same way); weights follow.
            let order = inputs.indices.sorted { (inputs[$0]?.count ?? 0) < (inputs[$1]?.count ?? 0) }
            inputs = order.map { inputs[$0] }
            weights = order.map { weights[$0] }
        }
        func combine(_ a: Double, _ b: Double) -> Double {
            switch aggregate {
            case .sum:
                let s = a + b
                return s.isNaN ? 0 : s  // Redis turns inf + -inf into 0
            // As C's `val < target ? val : target`: a NaN value leaves the target.
            case .min: return b < a ? b : a
            case .max: return b > a ? b : a
            }
        }
        func weighted(_ s: Double, _ w: Double) -> Double {
            let v = s * w
            return v.isNaN ? 0 : v
        }
        var result: [ByteBuffer: Double] = [:]
        var order: [ByteBuffer] = []
        switch op {
        case .union:
            for (i, input) in inputs.enumerated() {
                for (m, s) in input ?? [] {
                    let v = weighted(s, weights[i])
                    if let old = result[m] { result[m] = combine(old, v) } else { result[m] = v; order.append(m) }
                }
            }
        case .inter:
            if inputs.allSatisfy({ $0 != nil }), let smallest = inputs.indices.min(by: { inputs[$0]!.count < inputs[$1]!.count }) {
                let maps = inputs.map { Dictionary($0!.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }) }
                outer: for (m, s) in inputs[smallest]! {
                    var acc = weighted(s, weights[smallest])
                    for i in inputs.indices where i != smallest {
                        guard let o = maps[i][m] else { continue outer }
                        // Only the first input's weighted score is cleaned of NaN in
                        // Redis's ZINTER; a later NaN (0 × inf) makes the sum 0.
                        acc = combine(acc, o * weights[i])
                    }
                    result[m] = acc
                    order.append(m)
                }
            }
        case .diff:
            if let base = inputs[0] {
                let others = Set(inputs.dropFirst().flatMap { ($0 ?? []).map { $0.0 } })
                for (m, s) in base where !others.contains(m) { result[m] = s; order.append(m) }
            }
        }
        let items = order.map { ($0, result[$0]!) }.sorted { a, b in
            a.1 != b.1 ? a.1 < b.1 : Array(a.0.readableBytesView).lexicographicallyPrecedes(Array(b.0.readableBytesView))
        }
        if store {
            try storeResult(&c, c.arg(1), items)
            return c.out.writeIntegerReply(items.count)
        }
        writeEntries(&c, items, withScores: withScores)
    }

    static func zintercard(_ c: inout CommandContext) throws(CommandError) {
        let numkeys = try c.integer(1)
        guard numkeys >= 1 else { throw CommandError("ERR at least 1 input key is needed for 'zintercard' command") }
        guard numkeys <= c.args.count - 2 else { throw .syntax }
        // Key types are checked before LIMIT, as Redis does.
        var sets: [Set<ByteBuffer>?] = []
        for i in 0..<numkeys {
            let key = c.arg(2 + i)
            guard let r = try c.lookup(key) else { sets.append(nil); continue }
            switch r.type {
            case .zset: sets.append(Set(try entries(c, try c.lookupCollection(key, .zset)!).map { $0.0 }))
            case .set: sets.append(Set(try c.allElements(try c.lookupCollection(key, .set)!).map { $0.0 }))
            default: throw .wrongType
            }
        }
        let limit = try c.intercardLimit(from: 2 + numkeys)
        guard sets.allSatisfy({ $0 != nil }) else { return c.out.writeIntegerReply(0) }
        var inter = sets[0]!
        for s in sets.dropFirst() { inter.formIntersection(s!) }
        c.out.writeIntegerReply(limit > 0 ? min(limit, inter.count) : inter.count)
    }

    static func zscan(_ c: inout CommandContext) throws(CommandError) {
        guard KeyCommands.parseCursor(c.bytes(2)) != nil else { throw CommandError("ERR invalid cursor") }
        guard let z = try c.lookupCollection(c.arg(1), .zset) else {
            return c.writeEmptyScan()
        }
        // Element values are raw score bits: rewrite them as Redis's score text.
        let start = c.out.writerIndex
        try c.scanElements(z, cursorArg: 2, withValues: true)
        var reply = c.out.getSlice(at: start, length: c.out.writerIndex - start)!
        c.out.moveWriterIndex(to: start)
        try rewriteScanScores(&reply, into: &c)
    }

    /// Re-encodes a [cursor, [member, rawScore, ...]] reply with formatted scores.
    static func rewriteScanScores(_ reply: inout ByteBuffer, into c: inout CommandContext) throws(CommandError) {
        func line(_ b: inout ByteBuffer) -> String {
            let view = b.readableBytesView
            let end = view.firstIndex(of: 13)!
            let s = b.readString(length: end - view.startIndex)!
            b.moveReaderIndex(forwardBy: 2)
            return s
        }
        func bulk(_ b: inout ByteBuffer) -> ByteBuffer {
            let n = Int(line(&b).dropFirst())!
            let v = b.readSlice(length: n)!
            b.moveReaderIndex(forwardBy: 2)
            return v
        }
        _ = line(&reply)
        let cursor = bulk(&reply)
        let n = Int(line(&reply).dropFirst())!
        c.out.writeArrayHeader(2)
        c.out.writeBulk(cursor)
        c.out.writeArrayHeader(n)
        for _ in 0..<(n / 2) {
            c.out.writeBulk(bulk(&reply))
            let raw = bulk(&reply)
            c.out.writeBulk(string: Score.format(Double(bitPattern: raw.getInteger(at: raw.readerIndex, as: UInt64.self)!)))
        }
    }
}
