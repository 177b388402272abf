import LodeRESP
import LodeStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Redis 7.0's double formatting ("%.17g", inf/-inf) and parsing (strtod).

/// ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD, ZSCAN.
extension ZSetCommands {
    // MARK: set algebra

    enum Operation { case union, inter, diff }

    static func zcombine(_ c: inout CommandContext, _ op: Operation, store: Bool) throws(CommandError) {
        let first = store ? 2 : 1
        let command = c.command.name
        let numkeys = try c.integer(first)
        guard numkeys >= 1 else { throw CommandError("ERR at least 1 input key is needed for '\(command)' command") }
        guard numkeys <= c.args.count - first - 1 else { throw .syntax }
        // Inputs (checked before any option, as Redis does) may be sorted sets or plain sets (members scored 1), as in Redis.
        var inputs: [[(ByteBuffer, Double)]?] = []
        for i in 0..<numkeys {
            let key = c.arg(first + 1 + i)
            // The inputs of a *STORE are read as Redis's lookupKeyRead.
            guard let r = store ? try c.lookupForRead(key) : try c.lookup(key) else { inputs.append(nil); continue }
            switch r.type {
            case .zset:
                guard let z = try c.lookupCollection(key, .zset) else { throw .inconsistent }
                inputs.append(try entries(c, z))
            case .set:
                guard let s = try c.lookupCollection(key, .set) else { throw .inconsistent }
                inputs.append(try c.allElements(s).map { ($0.0, 1.0) })
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
            if inputs.allSatisfy({ $0 != nil }),
               let smallest = inputs.indices.min(by: { (inputs[$0]?.count ?? 0) < (inputs[$1]?.count ?? 0) }) {
                let maps = inputs.map { Dictionary(($0 ?? []).map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }) }
                outer: for (m, s) in inputs[smallest] ?? [] {
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
        let items = order.compactMap { m in result[m].map { (m, $0) } }.sorted { a, b in
            a.1 != b.1 ? a.1 < b.1 : Array(a.0.readableBytesView).lexicographicallyPrecedes(Array(b.0.readableBytesView))
        }
        if store {
            let event = op == .union ? "zunionstore" : op == .inter ? "zinterstore" : "zdiffstore"
            try storeResult(&c, c.arg(1), items, event: event)
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
            case .zset:
                guard let z = try c.lookupCollection(key, .zset) else { throw .inconsistent }
                sets.append(Set(try entries(c, z).map { $0.0 }))
            case .set:
                guard let s = try c.lookupCollection(key, .set) else { throw .inconsistent }
                sets.append(Set(try c.allElements(s).map { $0.0 }))
            default: throw .wrongType
            }
        }
        let limit = try c.intercardLimit(from: 2 + numkeys)
        guard sets.allSatisfy({ $0 != nil }) else { return c.out.writeIntegerReply(0) }
        var inter = sets[0] ?? []
        for s in sets.dropFirst() { inter.formIntersection(s ?? []) }
        c.out.writeIntegerReply(limit > 0 ? min(limit, inter.count) : inter.count)
    }

    static func zscan(_ c: inout CommandContext) throws(CommandError) {
        // Element values are raw score bits: rewrite them as Redis's score text.
        let start = c.out.writerIndex
        try c.scanElements(.zset, withValues: true)
        guard var reply = c.out.getSlice(at: start, length: c.out.writerIndex - start) else { throw .inconsistent }
        c.out.moveWriterIndex(to: start)
        try rewriteScanScores(&reply, into: &c)
    }

    /// Re-encodes a [cursor, [member, rawScore, ...]] reply with formatted scores.
    static func rewriteScanScores(_ reply: inout ByteBuffer, into c: inout CommandContext) throws(CommandError) {
        func line(_ b: inout ByteBuffer) throws(CommandError) -> String {
            let view = b.readableBytesView
            guard let end = view.firstIndex(of: 13) else { throw .inconsistent }
            guard let s = b.readString(length: end - view.startIndex) else { throw .inconsistent }
            b.moveReaderIndex(forwardBy: 2)
            return s
        }
        func bulk(_ b: inout ByteBuffer) throws(CommandError) -> ByteBuffer {
            guard let n = try Int(line(&b).dropFirst()) else { throw .inconsistent }
            guard let v = b.readSlice(length: n) else { throw .inconsistent }
            b.moveReaderIndex(forwardBy: 2)
            return v
        }
        _ = try line(&reply)
        let cursor = try bulk(&reply)
        guard let n = try Int(line(&reply).dropFirst()) else { throw .inconsistent }
        c.out.writeArrayHeader(2)
        c.out.writeBulk(cursor)
        c.out.writeArrayHeader(n)
        for _ in 0..<(n / 2) {
            c.out.writeBulk(try bulk(&reply))
            let raw = try bulk(&reply)
            guard let bits = raw.getInteger(at: raw.readerIndex, as: UInt64.self) else { throw .inconsistent }
            c.out.writeBulk(string: Score.format(Double(bitPattern: bits)))
        }
    }
}
