extension RDBReader {
    /// Reads the value after a type byte, as Redis 7.0's rdbLoadObject does for
    /// strings, lists, sets, sorted sets, hashes and streams in every encoding it loads.
    /// `type` is the byte just read. Everything is bounds-checked and validated as
    /// with `sanitize-dump-payload yes` (deep integrity checks, duplicates refused),
    /// so no payload can make this trap or loop; empty collections throw
    /// `.emptyValue` (an empty stream is a value), modules `.unsupportedType`.
    /// On failure the reader is left where the value began.
    public mutating func readValue(type: UInt8) throws(RDBError) -> RDBValue {
        let start = offset
        do throws(RDBError) {
            return try readValueBody(type: type, start: start)
        } catch {
            offset = start
            throw error
        }
    }

    private mutating func readValueBody(type: UInt8, start: Int) throws(RDBError) -> RDBValue {
        func nonEmpty<T>(_ items: [T]) throws(RDBError) -> [T] {
            guard !items.isEmpty else { throw .emptyValue(offset: start, type: type) }
            return items
        }
        switch type {
        case RDB.typeString:
            return .string(try readString())
        case RDB.typeList:
            return .list(try nonEmpty(try readStrings()))
        case RDB.typeSet:
            let members = try nonEmpty(try readStrings())
            try Self.checkDistinct(members, start, "duplicate set members")
            return .set(members)
        case RDB.typeZSet, RDB.typeZSet2:
            return .zset(try nonEmpty(try readZSet(binaryScores: type == RDB.typeZSet2, start: start)))
        case RDB.typeHash:
            var entries: [RDBHashEntry] = []
            for _ in 0..<(try readLength()) { entries.append(RDBHashEntry(try readString(), try readString())) }
            return .hash(try nonEmpty(try Self.distinctFields(entries, start)))
        case RDB.typeListQuicklist, RDB.typeListQuicklist2:
            return .list(try nonEmpty(try readQuicklist(version2: type == RDB.typeListQuicklist2)))
        case RDB.typeListZiplist:
            return .list(try nonEmpty(try readBlob { b, o throws(RDBError) in try Ziplist.decode(b, origin: o) }))
        case RDB.typeSetIntset:
            let members = try readBlob { b, o throws(RDBError) in try Intset.decode(b, origin: o) }
            return .set(try nonEmpty(members.map { Array(String($0).utf8) }))
        case RDB.typeZSetZiplist, RDB.typeZSetListpack:
            let flat = try readBlob { b, o throws(RDBError) in
                type == RDB.typeZSetListpack ? try Listpack.decode(b, origin: o) : try Ziplist.decode(b, origin: o)
            }
            return .zset(try nonEmpty(try Self.zsetEntries(flat, start)))
        case RDB.typeHashZiplist, RDB.typeHashListpack:
            let flat = try readBlob { b, o throws(RDBError) in
                type == RDB.typeHashListpack ? try Listpack.decode(b, origin: o) : try Ziplist.decode(b, origin: o)
            }
            let entries = try Self.pairs(flat, start, "hash").map { RDBHashEntry($0.0, $0.1) }
            return .hash(try nonEmpty(try Self.distinctFields(entries, start)))
        case RDB.typeHashZipmap:
            let pairs = try readBlob { b, o throws(RDBError) in try Zipmap.decode(b, origin: o) }
            return .hash(try nonEmpty(try Self.distinctFields(pairs.map { RDBHashEntry($0.0, $0.1) }, start)))
        case RDB.typeStreamListpacks, RDB.typeStreamListpacks2:
            return .stream(try readStream(version2: type == RDB.typeStreamListpacks2, start: start))
        default:
            // Modules (6, 7) are not modelled; anything else
            // is unknown to Redis 7.0 too ("Unknown RDB encoding type").
            throw .unsupportedType(offset: start, type: type)
        }
    }

    /// A length, then that many strings (RDB_TYPE_LIST, RDB_TYPE_SET). The count is
    /// not trusted for allocation: every string takes at least a byte, so a lying
    /// count ends in `.truncated`.
    private mutating func readStrings() throws(RDBError) -> [[UInt8]] {
        var items: [[UInt8]] = []
        for _ in 0..<(try readLength()) { items.append(try readString()) }
        return items
    }

    /// An RDB string whose bytes are a blob (listpack, ziplist, intset, zipmap), decoded by `body`.
    private mutating func readBlob<T>(_ body: ([UInt8], Int) throws(RDBError) -> T) throws(RDBError) -> T {
        let origin = offset
        return try body(try readString(), origin)
    }

    /// RDB_TYPE_ZSET (scores as rdbLoadDoubleValue text) or RDB_TYPE_ZSET_2 (binary).
    private mutating func readZSet(binaryScores: Bool, start: Int) throws(RDBError) -> [RDBZSetEntry] {
        var entries: [RDBZSetEntry] = []
        for _ in 0..<(try readLength()) {
            let member = try readString()
            let at = offset
            let score = binaryScores ? Double(bitPattern: try readLittleEndian64()) : try readTextDouble()
            guard !score.isNaN else { throw .corrupt(offset: at, what: "zset with NaN score") }
            entries.append(RDBZSetEntry(member, score))
        }
        try Self.checkDistinct(entries.map(\.member), start, "duplicate zset members")
        return entries.sorted(by: RDBValue.precedes)
    }

    /// rdbLoadDoubleValue: a length byte, 253/254/255 for NaN/+inf/-inf, else that many bytes of text.
    private mutating func readTextDouble() throws(RDBError) -> Double {
        let at = offset
        let length = try readByte()
        switch length {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            let text = try readBytes(Int(length))
            guard let v = Self.parseDouble(text) else { throw .corrupt(offset: at, what: "score is not a number") }
            return v
        }
    }

    private mutating func readLittleEndian64() throws(RDBError) -> UInt64 {
        try readBytes(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// RDB_TYPE_LIST_QUICKLIST (ziplist nodes) and _2 (a container before each
    /// node: plain, one element verbatim, or packed, a listpack). Empty nodes are
    /// skipped, as rdbLoadObject does.
    private mutating func readQuicklist(version2: Bool) throws(RDBError) -> [[UInt8]] {
        var elements: [[UInt8]] = []
        for _ in 0..<(try readLength()) {
            let at = offset
            let container = version2 ? try readLength() : RDB.containerPacked
            guard container == RDB.containerPacked || container == RDB.containerPlain else {
                throw .corrupt(offset: at, what: "quicklist node container \(container)")
            }
            if container == RDB.containerPlain {
                elements.append(try readString())
            } else {
                elements += try readBlob { b, o throws(RDBError) in
                    version2 ? try Listpack.decode(b, origin: o) : try Ziplist.decode(b, origin: o)
                }
            }
        }
        return elements
    }

    /// Alternating entries of a hash or zset blob, which must come in pairs.
    private static func pairs(_ flat: [[UInt8]], _ start: Int, _ kind: String) throws(RDBError) -> [([UInt8], [UInt8])] {
        guard flat.count % 2 == 0 else { throw .corrupt(offset: start, what: "\(kind) blob has an odd number of entries") }
        return stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }
    }

    private static func zsetEntries(_ flat: [[UInt8]], _ start: Int) throws(RDBError) -> [RDBZSetEntry] {
        var entries: [RDBZSetEntry] = []
        for (member, text) in try pairs(flat, start, "zset") {
            guard let score = parseDouble(text[...]), !score.isNaN else {
                throw .corrupt(offset: start, what: "zset score is not a number")
            }
            entries.append(RDBZSetEntry(member, score))
        }
        try checkDistinct(entries.map(\.member), start, "duplicate zset members")
        return entries.sorted(by: RDBValue.precedes)
    }

    private static func distinctFields(_ entries: [RDBHashEntry], _ start: Int) throws(RDBError) -> [RDBHashEntry] {
        try checkDistinct(entries.map(\.field), start, "duplicate hash fields")
        return entries
    }

    private static func checkDistinct(_ items: [[UInt8]], _ start: Int, _ what: String) throws(RDBError) {
        var seen = Set<[UInt8]>()
        for item in items where !seen.insert(item).inserted { throw .corrupt(offset: start, what: what) }
    }

    /// A score's text as strtod reads it (zzlStrtod): decimal, exponent, "inf", "-inf".
    static func parseDouble(_ text: ArraySlice<UInt8>) -> Double? {
        guard !text.isEmpty, text.count <= 128 else { return nil }
        return Double(String(decoding: text, as: UTF8.self))
    }
}
