import LodeRESP
import LodeStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The sorted-set family: member → score entries plus a (score, member) index,
/// both one LMDB entry per member (docs/storage.md).
enum ZSetCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "zadd": zadd,
        "zincrby": zincrby,
        "zrem": zrem,
        "zcard": zcard,
        "zscore": zscore,
        "zmscore": zmscore,
        "zrank": { (c: inout CommandContext) throws(CommandError) in try zrank(&c, reverse: false) },
        "zrevrank": { (c: inout CommandContext) throws(CommandError) in try zrank(&c, reverse: true) },
        "zcount": zcount,
        "zlexcount": zlexcount,
        "zrange": { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: nil, reverse: nil) },
        "zrangestore": { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: true, kind: nil, reverse: nil) },
        "zrevrange": { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .rank, reverse: true) },
        "zrangebyscore": { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .score, reverse: false) },
        "zrevrangebyscore": { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .score, reverse: true) },
        "zrangebylex": { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .lex, reverse: false) },
        "zrevrangebylex": { (c: inout CommandContext) throws(CommandError) in try zrange(&c, store: false, kind: .lex, reverse: true) },
        "zremrangebyrank": { (c: inout CommandContext) throws(CommandError) in try zremrange(&c, .rank) },
        "zremrangebyscore": { (c: inout CommandContext) throws(CommandError) in try zremrange(&c, .score) },
        "zremrangebylex": { (c: inout CommandContext) throws(CommandError) in try zremrange(&c, .lex) },
        "zpopmin": { (c: inout CommandContext) throws(CommandError) in try zpop(&c, max: false) },
        "zpopmax": { (c: inout CommandContext) throws(CommandError) in try zpop(&c, max: true) },
        "zmpop": zmpop,
        "zrandmember": zrandmember,
        "zunion": { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .union, store: false) },
        "zinter": { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .inter, store: false) },
        "zdiff": { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .diff, store: false) },
        "zunionstore": { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .union, store: true) },
        "zinterstore": { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .inter, store: true) },
        "zdiffstore": { (c: inout CommandContext) throws(CommandError) in try zcombine(&c, .diff, store: true) },
        "zintercard": zintercard,
        "zscan": zscan,
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

    static func setScore(_ c: CommandContext, _ z: inout Collection,
        _ member: ByteBuffer, _ newScore: Double, old: Double?) throws(CommandError) {
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

    /// ZADD's options (GEOADD passes NX, XX and CH through, as Redis's rewrite to ZADD does).
    struct ZAddFlags {
        var nx = false, xx = false, ch = false, incr = false, gt = false, lt = false
    }

    static func zadd(_ c: inout CommandContext) throws(CommandError) {
        var f = ZAddFlags()
        var i = 2
        while i < c.args.count {
            if c.argIs(i, "nx") { f.nx = true } else if c.argIs(i, "xx") { f.xx = true } else if c.argIs(i, "ch") { f.ch = true }
            else if c.argIs(i, "incr") { f.incr = true } else if c.argIs(i, "gt") { f.gt = true } else if c.argIs(i, "lt") { f.lt = true }
            else { break }
            i += 1
        }
        let elements = c.args.count - i
        if elements % 2 != 0 || elements == 0 { throw .syntax }
        if f.nx && f.xx { throw CommandError("ERR XX and NX options at the same time are not compatible") }
        if (f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt) {
            throw CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if f.incr && elements > 2 { throw CommandError("ERR INCR option supports a single increment-element pair") }
        var pairs: [(Double, ByteBuffer)] = []
        for j in stride(from: i, to: c.args.count, by: 2) {
            guard let s = Score.parse(c.bytes(j)) else { throw .notFloat }
            pairs.append((s, c.arg(j + 1)))
        }
        try zaddApply(&c, key: c.arg(1), f, pairs)
    }

    /// ZADD after its arguments are checked (zaddGenericCommand from the key lookup on):
    /// the one write path for ZADD and GEOADD.
    static func zaddApply(_ c: inout CommandContext, key: ByteBuffer, _ f: ZAddFlags,
                          _ pairs: [(Double, ByteBuffer)]) throws(CommandError) {
        let existing = try c.lookupCollection(key, .zset)
        if existing == nil && f.xx {
            return f.incr ? c.out.writeNull(c.resp) : c.out.writeIntegerReply(0)
        }
        var z: Collection
        if let existing { z = existing } else { z = try c.collectionForWrite(key, .zset) }
        var added = 0, updated = 0
        var incrResult: Double? = nil
        for (score, member) in pairs {
            var newScore = score
            if let old = try self.score(c, z, member) {
                if f.nx { continue }
                if f.incr {
                    newScore = old + newScore
                    if newScore.isNaN { throw CommandError("ERR resulting score is not a number (NaN)") }
                }
                if (f.gt && newScore <= old) || (f.lt && newScore >= old) { continue }
                incrResult = newScore
                if newScore != old {
                    try setScore(c, &z, member, newScore, old: old)
                    updated += 1
                }
            } else {
                if f.xx { continue }
                if newScore.isNaN { throw CommandError("ERR resulting score is not a number (NaN)") }
                try setScore(c, &z, member, newScore, old: nil)
                added += 1
                incrResult = newScore
            }
        }
        if added + updated > 0 { try c.save(key, z, event: f.incr ? "zincr" : "zadd") }
        if f.incr {
            if let r = incrResult { Score.write(r, &c) } else { c.out.writeNull(c.resp) }
        } else {
            c.out.writeIntegerReply(added + (f.ch ? updated : 0))
        }
    }

    static func zincrby(_ c: inout CommandContext) throws(CommandError) {
        guard let incr = Score.parse(c.bytes(2)) else { throw .notFloat }
        var z = try c.collectionForWrite(c.arg(1), .zset)
        let old = try score(c, z, c.arg(3))
        let new = old.map { $0 + incr } ?? incr
        if new.isNaN { throw CommandError("ERR resulting score is not a number (NaN)") }
        if new != old {
            try setScore(c, &z, c.arg(3), new, old: old)
            try c.save(c.arg(1), z, event: "zincr")
        }
        Score.write(new, &c)
    }

    static func zrem(_ c: inout CommandContext) throws(CommandError) {
        guard var z = try c.lookupCollection(c.arg(1), .zset) else { return c.out.writeIntegerReply(0) }
        var removed = 0
        for i in 2..<c.args.count where try remove(c, &z, c.arg(i)) { removed += 1 }
        if removed > 0 { try c.save(c.arg(1), z, event: "zrem") }
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

    static func byScore(_ c: CommandContext, _ z: Collection, _ r: ScoreRange,
        reverse: Bool, offset: Int, limit: Int) throws(CommandError) -> [(ByteBuffer, Double)] {
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

    static func byLex(_ c: CommandContext, _ z: Collection, _ r: LexRange,
        reverse: Bool, offset: Int, limit: Int) throws(CommandError) -> [(ByteBuffer, Double)] {
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

    static func byRank(_ c: CommandContext, _ z: Collection,
        start: Int, end: Int, reverse: Bool) throws(CommandError) -> [(ByteBuffer, Double)] {
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
        if limitGiven && k == .rank {
            throw CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if withScores && k == .lex { throw CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX") }
        var minIdx = keyIndex + 1, maxIdx = keyIndex + 2
        if rev && k != .rank { swap(&minIdx, &maxIdx) }
        var result: [(ByteBuffer, Double)] = []
        // ZRANGESTORE reads its source as Redis's lookupKeyRead.
        let source = c.arg(keyIndex)
        switch k {
        case .rank:
            let start = try c.integer(minIdx), end = try c.integer(maxIdx)
            if let z = try c.lookupCollection(source, .zset, read: store) {
                result = try byRank(c, z, start: start, end: end, reverse: rev)
            }
        case .score:
            guard let r = ScoreRange(c.bytes(minIdx), c.bytes(maxIdx)) else { throw CommandError("ERR min or max is not a float") }
            if let z = try c.lookupCollection(source, .zset, read: store) {
                result = try byScore(c, z, r, reverse: rev, offset: offset, limit: limit)
            }
        case .lex:
            guard let r = LexRange(c.bytes(minIdx), c.bytes(maxIdx)) else {
                throw CommandError("ERR min or max not valid string range item")
            }
            if let z = try c.lookupCollection(source, .zset, read: store) {
                result = try byLex(c, z, r, reverse: rev, offset: offset, limit: limit)
            }
        }
        if store {
            try storeResult(&c, c.arg(1), result, event: "zrangestore")
            return c.out.writeIntegerReply(result.count)
        }
        writeEntries(&c, result, withScores: withScores)
    }

    /// Replaces `key` with a sorted set of `items` (or deletes it when empty).
    static func storeResult(_ c: inout CommandContext, _ key: ByteBuffer, _ items: [(ByteBuffer, Double)],
                            event: String) throws(CommandError) {
        var z = Collection(meta: CollectionMeta(version: c.store.newVersion(), size: 0), expireAt: 0, type: .zset, existed: false)
        for (m, s) in items { try setScore(c, &z, m, s, old: nil) }
        try c.storeResult(key, z, event: event)
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
        guard var z = try c.lookupCollection(c.arg(1), .zset) else { throw .inconsistent }
        for (m, _) in items { _ = try remove(c, &z, m) }
        let event: String
        switch kind {
        case .rank: event = "zremrangebyrank"
        case .score: event = "zremrangebyscore"
        case .lex: event = "zremrangebylex"
        }
        if !items.isEmpty { try c.save(c.arg(1), z, event: event) }
        c.out.writeIntegerReply(items.count)
    }

    // MARK: pops

    static func popEvent(_ max: Bool) -> String { max ? "zpopmax" : "zpopmin" }

    static func popEntries(_ c: CommandContext, _ z: inout Collection,
        max: Bool, count: Int) throws(CommandError) -> [(ByteBuffer, Double)] {
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
        if !items.isEmpty { try c.save(c.arg(1), z, event: popEvent(max)) }
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
            try c.save(key, z, event: popEvent(max))
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
            guard let e = try entries(c, z).randomElement() else { throw .inconsistent }
            return c.out.writeBulk(e.0)
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

}
