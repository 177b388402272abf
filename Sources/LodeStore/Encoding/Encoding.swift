import NIOCore

/// The Redis type held under a key, stored in the low 4 bits of a record's flags.
/// The numbers are part of the on-disk format (docs/storage.md): never renumber.
public enum ValueType: UInt8, Sendable {
    case string = 0
    case list = 1
    case hash = 2
    case set = 3
    case zset = 4
    case stream = 5

    public var name: String {
        switch self {
        case .string: return "string"
        case .list: return "list"
        case .hash: return "hash"
        case .set: return "set"
        case .zset: return "zset"
        case .stream: return "stream"
        }
    }

    /// Whether elements are stored in hash order (hashes, sets, sorted sets, for
    /// HSCAN/SSCAN/ZSCAN cursors) rather than by name (list indexes, stream IDs).
    public var hashesElements: Bool { self == .hash || self == .set || self == .zset }
}

/// What a user key holds: its type, expiry and (for strings) payload.
/// Collections will carry version/size/head/tail in `payload`'s place (docs/storage.md).
public struct Record: Equatable {
    public var type: ValueType
    /// Absolute expiry in milliseconds since the epoch; 0 means none.
    public var expireAt: Int64
    public var value: ByteBuffer
    /// A string stored in chunks (docs/storage.md, "Large strings"): `value` is then
    /// the chunk header, not the bytes; read them with `Store.stringValue`.
    public internal(set) var isChunked: Bool

    public init(type: ValueType = .string, expireAt: Int64 = 0, value: ByteBuffer) {
        self.type = type
        self.expireAt = expireAt
        self.value = value
        self.isChunked = false
    }

    public func isExpired(now: Int64) -> Bool { expireAt != 0 && expireAt <= now }
}

/// The byte layouts of Lode's LMDB databases. All integers are big-endian so that
/// byte order equals numeric order (the expiry index depends on it).
public enum KeyEncoding {
    /// Keys up to this length are stored verbatim after the prefix. Longer keys
    /// (LMDB refuses keys over 511 bytes) are stored as prefix + hash + sequence, with
    /// the full key inside the record so that hash collisions are told apart.
    public static let maxInlineKeyLength = 480
    static let longKeyPrefixLength = 448
    static let shortTag: UInt8 = 0
    static let longTag: UInt8 = 1

    /// Where the short/long tag sits in a keyspace LMDB key: after `db`, and in
    /// format 2 after the 46-bit key hash that orders the keyspace (`hashed`).
    @inline(__always)
    static func keyTagOffset(hashed: Bool) -> Int { hashed ? 1 + KeyHash.byteCount : 1 }

    /// Appends the LMDB key of a short user key: `db · [hash] · 0x00 · key`.
    static func appendShortKey(db: UInt8, key: ByteBuffer, hashed: Bool, to out: inout [UInt8]) {
        out.append(db)
        key.withUnsafeReadableBytes { raw in
            if hashed { KeyHash.append(KeyHash.of(raw), to: &out) }
            out.append(shortTag)
            out.append(contentsOf: raw)
        }
    }

    /// Appends the chain prefix of a long user key (without the sequence number):
    /// `db · [hash] · 0x01 · first 448 bytes · FNV-1a-64`.
    static func appendLongChain(db: UInt8, key: ByteBuffer, hashed: Bool, to out: inout [UInt8]) {
        out.append(db)
        key.withUnsafeReadableBytes { raw in
            if hashed { KeyHash.append(KeyHash.of(raw), to: &out) }
            out.append(longTag)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<longKeyPrefixLength]))
            appendBigEndian(fnv1a64(raw), to: &out)
        }
    }

    static func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 { KeyHash.fnv1a64(bytes) }

    @inline(__always)
    static func appendBigEndian(_ v: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func readBigEndian(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var v: UInt64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 8)])) }
        return UInt64(bigEndian: v)
    }

    // MARK: records

    /// Record layout: flags u8 (type | 0x40 for a chunked string | 0x80 when the full
    /// key follows) | expire u64 | [key length u32 | key] | payload.
    static let fullKeyFlag: UInt8 = 0x80
    static let chunkedFlag: UInt8 = 0x40
    static let recordHeaderLength = 9

    static func recordSize(_ record: Record, fullKey: ByteBuffer?) -> Int {
        recordHeaderLength + (fullKey.map { 4 + $0.readableBytes } ?? 0) + record.value.readableBytes
    }

    static func writeRecord(_ record: Record, fullKey: ByteBuffer?, into out: UnsafeMutableRawBufferPointer) {
        var o = 0
        out[o] = record.type.rawValue | (fullKey == nil ? 0 : fullKeyFlag) | (record.isChunked ? chunkedFlag : 0); o += 1
        withUnsafeBytes(of: UInt64(bitPattern: record.expireAt).bigEndian) {
            out.baseAddress!.advanced(by: o).copyMemory(from: $0.baseAddress!, byteCount: 8)
        }
        o += 8
        if let fullKey {
            withUnsafeBytes(of: UInt32(fullKey.readableBytes).bigEndian) {
                out.baseAddress!.advanced(by: o).copyMemory(from: $0.baseAddress!, byteCount: 4)
            }
            o += 4
            fullKey.withUnsafeReadableBytes { out.baseAddress!.advanced(by: o).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            o += fullKey.readableBytes
        }
        record.value.withUnsafeReadableBytes { raw in
            if raw.count > 0 { out.baseAddress!.advanced(by: o).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
        }
    }

    /// Decoded header of a stored record, without copying the payload.
    struct RecordHeader {
        var type: ValueType?
        var expireAt: Int64
        var fullKeyRange: Range<Int>?
        var payloadStart: Int
        var chunked: Bool
    }

    static func readHeader(_ raw: UnsafeRawBufferPointer) -> RecordHeader? {
        guard raw.count >= recordHeaderLength else { return nil }
        let flags = raw[0]
        let expire = Int64(bitPattern: readBigEndian(raw, at: 1))
        var o = recordHeaderLength
        var keyRange: Range<Int>? = nil
        if flags & fullKeyFlag != 0 {
            guard raw.count >= o + 4 else { return nil }
            var len: UInt32 = 0
            withUnsafeMutableBytes(of: &len) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[o..<(o + 4)])) }
            let n = Int(UInt32(bigEndian: len))
            o += 4
            guard raw.count >= o + n else { return nil }
            keyRange = o..<(o + n)
            o += n
        }
        return RecordHeader(type: ValueType(rawValue: flags & 0x0F), expireAt: expire, fullKeyRange: keyRange,
                            payloadStart: o, chunked: flags & chunkedFlag != 0)
    }

    static func decodeRecord(_ raw: UnsafeRawBufferPointer, allocator: ByteBufferAllocator) -> Record? {
        guard let h = readHeader(raw), let type = h.type else { return nil }
        var buf = allocator.buffer(capacity: raw.count - h.payloadStart)
        buf.writeBytes(UnsafeRawBufferPointer(rebasing: raw[h.payloadStart...]))
        var record = Record(type: type, expireAt: h.expireAt, value: buf)
        record.isChunked = h.chunked
        return record
    }

    /// The user key stored at an LMDB key/record pair (for SCAN, KEYS, expiry).
    static func userKey(lmdbKey: UnsafeRawBufferPointer, record: UnsafeRawBufferPointer, hashed: Bool) -> ByteBuffer? {
        let tag = keyTagOffset(hashed: hashed)
        guard lmdbKey.count > tag else { return nil }
        if lmdbKey[tag] == shortTag {
            return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: lmdbKey[(tag + 1)...]))
        }
        guard let h = readHeader(record), let r = h.fullKeyRange else { return nil }
        return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: record[r]))
    }

    // MARK: expiry index

    /// Expiry index key: expire u64 | LMDB key of the record. Sorted by time, so
    /// active expiry reads only the keys that are due.
    static func appendExpiryKey(expireAt: Int64, lmdbKey: [UInt8], to out: inout [UInt8]) {
        appendBigEndian(UInt64(bitPattern: expireAt), to: &out)
        out.append(contentsOf: lmdbKey)
    }
}
