#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RDB {
    // Object types of Redis 7.0's rdb.h: the byte before a value in an RDB file or DUMP payload.
    public static let typeList: UInt8 = 1, typeSet: UInt8 = 2, typeZSet: UInt8 = 3, typeHash: UInt8 = 4
    public static let typeZSet2: UInt8 = 5, typeModule: UInt8 = 6, typeModule2: UInt8 = 7
    public static let typeHashZipmap: UInt8 = 9, typeListZiplist: UInt8 = 10, typeSetIntset: UInt8 = 11
    public static let typeZSetZiplist: UInt8 = 12, typeHashZiplist: UInt8 = 13, typeListQuicklist: UInt8 = 14
    public static let typeStreamListpacks: UInt8 = 15, typeHashListpack: UInt8 = 16, typeZSetListpack: UInt8 = 17
    public static let typeListQuicklist2: UInt8 = 18, typeStreamListpacks2: UInt8 = 19
    // RDB_TYPE_SET_LISTPACK (20) and RDB_TYPE_STREAM_LISTPACKS_3 (21) arrived in Redis 7.2; 7.0 refuses them.

    /// quicklist.h's node containers, written before each node of RDB_TYPE_LIST_QUICKLIST_2.
    static let containerPlain: UInt64 = 1, containerPacked: UInt64 = 2
}

/// A member of a sorted set.
public struct RDBZSetEntry: Equatable, Sendable {
    public var member: [UInt8]
    public var score: Double
    public init(_ member: [UInt8], _ score: Double) {
        self.member = member
        self.score = score
    }
}

/// A field of a hash.
public struct RDBHashEntry: Equatable, Sendable {
    public var field: [UInt8]
    public var value: [UInt8]
    public init(_ field: [UInt8], _ value: [UInt8]) {
        self.field = field
        self.value = value
    }
}

/// A key's value, independent of how Redis or Lode stores it. Module values are
/// not modelled.
public enum RDBValue: Equatable, Sendable {
    case string([UInt8])
    /// Elements in list order.
    case list([[UInt8]])
    /// Distinct members; the encoder writes a hashtable set in this order.
    case set([[UInt8]])
    /// Distinct members. The decoder returns them in Redis's order (score, then
    /// member bytes); the encoder sorts them itself.
    case zset([RDBZSetEntry])
    /// Distinct fields, in insertion order (the order of a listpack-encoded hash).
    case hash([RDBHashEntry])
    case stream(RDBStream)
}

/// The encoding thresholds of redis.conf that decide how Redis stores a value, with
/// Redis 7.0's defaults. A value built by commands, or restored, under the same
/// settings has the encoding `RDBValue.rdbType(limits:)` names.
public struct RDBEncodingLimits: Equatable, Sendable {
    /// list-max-listpack-size: negative is a node size (-1 4 KB ... -5 64 KB), positive an element count.
    public var listMaxListpackSize = -2
    /// quicklist's packed_threshold: an element this large or larger gets a plain node of its own.
    public var listPackedThreshold = 1 << 30
    public var setMaxIntsetEntries = 512
    public var hashMaxListpackEntries = 512
    public var hashMaxListpackValue = 64
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    /// stream-node-max-bytes and stream-node-max-entries: when streamAppendItem starts a new node.
    public var streamNodeMaxBytes = 4096
    public var streamNodeMaxEntries = 100

    public init() {}
}

extension RDBValue {
    /// The RDB type Redis 7.0 saves this value as under `limits` (the encoding
    /// choices of setTypeAdd, hashTypeTryConversion and zsetAdd).
    public func rdbType(limits: RDBEncodingLimits = RDBEncodingLimits()) -> UInt8 {
        switch self {
        case .string: return RDB.typeString
        case .list: return RDB.typeListQuicklist2  // 7.0 keeps every list in a quicklist
        case .set(let members):
            let allIntegers = members.allSatisfy { RDBWriter.canonicalInteger($0) != nil }
            return allIntegers && members.count <= limits.setMaxIntsetEntries ? RDB.typeSetIntset : RDB.typeSet
        case .zset(let entries):
            let small = entries.count <= limits.zsetMaxListpackEntries
                && entries.allSatisfy { $0.member.count <= limits.zsetMaxListpackValue }
            return small ? RDB.typeZSetListpack : RDB.typeZSet2
        case .hash(let entries):
            let small = entries.count <= limits.hashMaxListpackEntries
                && entries.allSatisfy { $0.field.count <= limits.hashMaxListpackValue && $0.value.count <= limits.hashMaxListpackValue }
            return small ? RDB.typeHashListpack : RDB.typeHash
        case .stream: return RDB.typeStreamListpacks2
        }
    }

    /// zslInsert's order: by score, then by member bytes (sdscmp).
    static func precedes(_ a: RDBZSetEntry, _ b: RDBZSetEntry) -> Bool {
        a.score != b.score ? a.score < b.score : a.member.lexicographicallyPrecedes(b.member)
    }
}

extension RDBWriter {
    /// Writes `value` as rdbSaveObject does for the type `value.rdbType(limits:)`
    /// (write that type byte first). Collections should not be empty: Redis never
    /// holds an empty one, and refuses to load it.
    public mutating func writeValue(_ value: RDBValue, limits: RDBEncodingLimits = RDBEncodingLimits()) {
        let type = value.rdbType(limits: limits)
        switch value {
        case .string(let bytes):
            writeString(bytes)
        case .list(let elements):
            writeQuicklist(elements, limits: limits)
        case .set(let members):
            if type == RDB.typeSetIntset {
                writeString(Intset.encode(members.compactMap { RDBWriter.canonicalInteger($0) }))
            } else {
                writeLength(UInt64(members.count))
                for m in members { writeString(m) }
            }
        case .zset(let entries):
            let sorted = entries.sorted(by: RDBValue.precedes)
            if type == RDB.typeZSetListpack {
                var lp = ListpackBuilder()
                for e in sorted {
                    lp.append(e.member)
                    lp.append(RDBWriter.scoreText(e.score))
                }
                writeString(lp.bytes())
            } else {
                // The skiplist is saved from its tail: greatest first (rdbSaveObject).
                writeLength(UInt64(sorted.count))
                for e in sorted.reversed() {
                    writeString(e.member)
                    writeBinaryDouble(e.score)
                }
            }
        case .hash(let entries):
            if type == RDB.typeHashListpack {
                var lp = ListpackBuilder()
                for e in entries {
                    lp.append(e.field)
                    lp.append(e.value)
                }
                writeString(lp.bytes())
            } else {
                writeLength(UInt64(entries.count))
                for e in entries {
                    writeString(e.field)
                    writeString(e.value)
                }
            }
        case .stream(let stream):
            writeStream(stream, nodeMaxBytes: limits.streamNodeMaxBytes, nodeMaxEntries: limits.streamNodeMaxEntries)
        }
    }

    /// rdbSaveBinaryDoubleValue: the IEEE 754 bits, little-endian.
    public mutating func writeBinaryDouble(_ value: Double) {
        var out: [UInt8] = []
        appendLittleEndian(value.bitPattern, width: 8, to: &out)
        writeBytes(out)
    }

    /// The elements as quicklistPushTail lays them out one RPUSH at a time, then
    /// the node count and each node as rdbSaveObject writes them.
    private mutating func writeQuicklist(_ elements: [[UInt8]], limits: RDBEncodingLimits) {
        enum Node { case plain([UInt8]), packed(ListpackBuilder) }
        var nodes: [Node] = []
        for e in elements {
            if e.count >= limits.listPackedThreshold {
                nodes.append(.plain(e))
            } else if case .packed(var lp)? = nodes.last, Self.nodeAllowsInsert(lp, e.count, fill: limits.listMaxListpackSize) {
                nodes.removeLast()
                lp.append(e)
                nodes.append(.packed(lp))
            } else {
                var lp = ListpackBuilder()
                lp.append(e)
                nodes.append(.packed(lp))
            }
        }
        writeLength(UInt64(nodes.count))
        for node in nodes {
            switch node {
            case .plain(let e):
                writeLength(RDB.containerPlain)
                writeString(e)
            case .packed(let lp):
                writeLength(RDB.containerPacked)
                writeString(lp.bytes())
            }
        }
    }

    /// _quicklistNodeAllowInsert for a packed node: the estimated new size (8 bytes
    /// of overhead, SIZE_ESTIMATE_OVERHEAD) within the fill's size class, or, for a
    /// positive fill, within 8 KB (SIZE_SAFETY_LIMIT) and the fill's count.
    static func nodeAllowsInsert(_ node: ListpackBuilder, _ size: Int, fill: Int) -> Bool {
        let levels = [4096, 8192, 16384, 32768, 65536]
        let newSize = node.byteCount + size + 8
        if fill < 0 {
            let index = -fill - 1
            return index < levels.count && newSize <= levels[index]
        }
        return newSize <= 8192 && node.count < fill
    }

    /// A score as zzlInsertAt puts it into a listpack: an integer when double2ll
    /// accepts it (integral, within ±2^62), else d2string's text ("%.17g", "inf", "-inf").
    static func scoreText(_ d: Double) -> [UInt8] {
        if !d.isNaN, d >= -4_611_686_018_427_387_904.0, d <= 4_611_686_018_427_387_904.0, d == d.rounded(.towardZero) {
            return Array(String(Int64(d)).utf8)
        }
        if d.isNaN { return Array("nan".utf8) }
        if d.isInfinite { return Array((d < 0 ? "-inf" : "inf").utf8) }
        var buffer = [CChar](repeating: 0, count: 32)
        let n = withVaList([d]) { vsnprintf(&buffer, 32, "%.17g", $0) }
        return buffer[0..<Int(max(0, min(n, 31)))].map { UInt8(bitPattern: $0) }
    }
}
