/// Constants of the RDB format (Redis 7.0's rdb.h) that the payloads here use.
public enum RDB {
    /// The RDB version Redis 7.0 writes into dumps (RDB_VERSION); newer payloads are refused.
    public static let version: UInt16 = 10
    /// Object type of a plain string value (RDB_TYPE_STRING), the first byte of a string key's DUMP.
    public static let typeString: UInt8 = 0
    /// A function library: its code as one RDB string (RDB_OPCODE_FUNCTION2, Redis 7.0 GA on).
    public static let opcodeFunction2: UInt8 = 245
    /// A function library in the format of Redis 7.0 rc1/rc2 (RDB_OPCODE_FUNCTION):
    /// name, engine, optional description, code. Redis 7.0 still loads it.
    public static let opcodeFunction: UInt8 = 246

    /// First-byte tags of the length encoding; the top two bits select the form.
    static let length6Bit: UInt8 = 0, length14Bit: UInt8 = 1, encodedValue: UInt8 = 3
    static let length32Bit: UInt8 = 0x80, length64Bit: UInt8 = 0x81
    /// Special string encodings, the low 6 bits after an `encodedValue` tag (0xC0...0xC3).
    static let encodingInt8: UInt8 = 0, encodingInt16: UInt8 = 1, encodingInt32: UInt8 = 2, encodingLZF: UInt8 = 3
}

/// Why bytes could not be read as RDB data. Offsets locate the fault in the
/// reader's bytes, so a corrupt payload can be reported precisely.
public enum RDBError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes from `offset` on are `needed` bytes short of what the item declares.
    case truncated(offset: Int, needed: Int)
    /// The length starting at `offset` has first byte 0x82...0xBF, which no length form uses.
    case unknownLengthEncoding(offset: Int, byte: UInt8)
    /// The string starting at `offset` is tagged 0xC4...0xFF, which no string encoding uses.
    case unknownStringEncoding(offset: Int, encoding: UInt8)
    /// A length is too large for this machine to address.
    case lengthOverflow(offset: Int, length: UInt64)
    /// An LZF-compressed string's data is corrupt.
    case corruptLZF(offset: Int, LZFError)
    /// A value's structure is invalid (a listpack, ziplist, intset or zipmap that fails
    /// Redis's integrity checks, a duplicate member, a NaN score); `offset` is where the
    /// item holding the fault starts, `what` says what was wrong.
    case corrupt(offset: Int, what: String)
    /// The value at `offset` has an RDB type byte this codec does not read (yet).
    case unsupportedType(offset: Int, type: UInt8)
    /// A collection with no elements, which Redis never writes and refuses to load
    /// (rdbLoadObject's `emptykey`): RESTORE fails, an RDB file load skips the key.
    case emptyValue(offset: Int, type: UInt8)

    public var description: String {
        switch self {
        case .truncated(let offset, let needed): return "RDB data truncated at offset \(offset) (\(needed) more bytes needed)"
        case .unknownLengthEncoding(let offset, let byte): return "unknown RDB length encoding 0x\(hex(byte)) at offset \(offset)"
        case .unknownStringEncoding(let offset, let enc): return "unknown RDB string encoding \(enc) at offset \(offset)"
        case .lengthOverflow(let offset, let length): return "RDB length \(length) too large at offset \(offset)"
        case .corruptLZF(let offset, let error): return "invalid LZF compressed string at offset \(offset): \(error)"
        case .corrupt(let offset, let what): return "corrupt RDB value at offset \(offset): \(what)"
        case .unsupportedType(let offset, let type): return "unsupported RDB value type \(type) at offset \(offset)"
        case .emptyValue(let offset, let type): return "empty collection of RDB type \(type) at offset \(offset)"
        }
    }

    private func hex(_ b: UInt8) -> String { String(b, radix: 16, uppercase: true) }
}

/// A length field as rdbLoadLenByRef returns it: a length, or, when the tag
/// bits are 11, the 6-bit number of a special string encoding.
public struct RDBLengthField: Equatable, Sendable {
    public var value: UInt64
    /// The field is a special encoding (0xC0...0xFF) rather than a length.
    public var isEncoded: Bool

    public init(value: UInt64, isEncoded: Bool) {
        self.value = value
        self.isEncoded = isEncoded
    }
}

/// A cursor over RDB-encoded bytes. Every read checks bounds and throws on
/// truncated or corrupt data, because the bytes come from clients (RESTORE).
public struct RDBReader: Sendable {
    public let bytes: [UInt8]
    /// The position of the next byte to read.
    public internal(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes left after `offset`.
    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func readByte() throws(RDBError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset, needed: 1) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next `count` bytes, without copying them. A negative count throws `.truncated` too.
    public mutating func readBytes(_ count: Int) throws(RDBError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated(offset: offset, needed: count - remaining) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    /// A length field as rdbLoadLenByRef reads it: 6-bit (00), 14-bit (01),
    /// 32-bit (0x80) or 64-bit (0x81) big-endian lengths, or an encoding tag (11).
    public mutating func readLengthField() throws(RDBError) -> RDBLengthField {
        let start = offset
        do throws(RDBError) {
            let first = try readByte()
            switch first >> 6 {
            case RDB.encodedValue: return RDBLengthField(value: UInt64(first & 0x3f), isEncoded: true)
            case RDB.length6Bit: return RDBLengthField(value: UInt64(first & 0x3f), isEncoded: false)
            case RDB.length14Bit: return RDBLengthField(value: UInt64(first & 0x3f) << 8 | UInt64(try readByte()), isEncoded: false)
            default:
                let width: Int
                switch first {
                case RDB.length32Bit: width = 4
                case RDB.length64Bit: width = 8
                default: throw RDBError.unknownLengthEncoding(offset: start, byte: first)
                }
                return RDBLengthField(value: try readBytes(width).reduce(0) { $0 << 8 | UInt64($1) }, isEncoded: false)
            }
        } catch {
            offset = start  // a failed read consumes nothing
            throw error
        }
    }

    /// A length as rdbLoadLen reads it. Like Redis, an encoding tag is not an
    /// error here: its 6-bit number is taken as the length (the 7.0 rc format's
    /// description flag relies on nothing stricter).
    public mutating func readLength() throws(RDBError) -> UInt64 {
        try readLengthField().value
    }

    /// A string as rdbGenericLoadStringObject reads it: raw bytes after a length,
    /// an integer (0xC0 int8, 0xC1 int16, 0xC2 int32, little-endian) rendered in
    /// decimal, or LZF data (0xC3, compressed length, uncompressed length, data).
    public mutating func readString() throws(RDBError) -> [UInt8] {
        let start = offset
        do throws(RDBError) {
            let field = try readLengthField()
            guard field.isEncoded else { return Array(try readBytes(try count(field.value, at: start))) }
            switch UInt8(field.value) {
            case RDB.encodingInt8: return Array(String(Int8(bitPattern: try readByte())).utf8)
            case RDB.encodingInt16: return Array(String(Int16(truncatingIfNeeded: try readLittleEndian(2))).utf8)
            case RDB.encodingInt32: return Array(String(Int32(truncatingIfNeeded: try readLittleEndian(4))).utf8)
            case RDB.encodingLZF: return try readLZFString(start: start)
            case let other: throw RDBError.unknownStringEncoding(offset: start, encoding: other)
            }
        } catch {
            offset = start  // a failed read consumes nothing, so callers can report where it began
            throw error
        }
    }

    private mutating func readLZFString(start: Int) throws(RDBError) -> [UInt8] {
        let compressedCount = try count(try readLength(), at: start)
        let decompressedCount = try count(try readLength(), at: start)
        let data = try readBytes(compressedCount)
        // Redis checks lzf_decompress(...) == len, and lzf_decompress returns 0 on
        // every error, so with a stated length of 0 any data passes as "".
        if decompressedCount == 0 { return [] }
        do {
            return try LZF.decompress(data, count: decompressedCount)
        } catch {
            throw .corruptLZF(offset: start, error)
        }
    }

    private mutating func readLittleEndian(_ width: Int) throws(RDBError) -> UInt64 {
        try readBytes(width).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private func count(_ length: UInt64, at start: Int) throws(RDBError) -> Int {
        guard length <= UInt64(Int.max) else { throw .lengthOverflow(offset: start, length: length) }
        return Int(length)
    }
}

/// Builds RDB-encoded bytes the way Redis 7.0's rdb.c writes them, so a dump
/// made here matches Redis's byte for byte.
public struct RDBWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// Redis's `rdbcompression` (default yes): LZF-compress strings over 20 bytes when that saves 4 bytes or more.
    public var compression: Bool
    /// LZF's hash table, made on the first compressed string and kept for the next.
    private var lzfTable: LZF.HashTable? = nil

    public init(compression: Bool = true) {
        self.bytes = []
        self.compression = compression
    }

    /// Hands over the bytes written so far and starts empty again, keeping the
    /// compressor's table (an RDB file writer's flush).
    public mutating func takeBytes() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    public mutating func writeByte(_ byte: UInt8) { bytes.append(byte) }

    public mutating func writeBytes<S: Sequence>(_ data: S) where S.Element == UInt8 { bytes.append(contentsOf: data) }

    /// A length in the shortest form rdbSaveLen picks: 6-bit, 14-bit, 32-bit or 64-bit.
    public mutating func writeLength(_ length: UInt64) {
        if length < 1 << 6 {
            bytes.append(UInt8(length) | RDB.length6Bit << 6)
        } else if length < 1 << 14 {
            bytes.append(UInt8(length >> 8) | RDB.length14Bit << 6)
            bytes.append(UInt8(length & 0xff))
        } else if length <= UInt64(UInt32.max) {
            bytes.append(RDB.length32Bit)
            appendBigEndian(length, width: 4)
        } else {
            bytes.append(RDB.length64Bit)
            appendBigEndian(length, width: 8)
        }
    }

    /// A string as rdbSaveRawString writes it: as an integer encoding when it is
    /// a canonical decimal integer in the int32 range, else LZF-compressed when
    /// `compression` is on, it is over 20 bytes and compression saves at least 4
    /// bytes, else verbatim after its length.
    public mutating func writeString<C: Collection>(_ string: C) where C.Element == UInt8 {
        if string.count <= 11, let value = RDBWriter.canonicalInteger(string), writeIntegerEncoding(value) { return }
        if compression && string.count > 20 {
            let input = Array(string)
            if lzfTable == nil { lzfTable = LZF.HashTable() }
            if let compressed = LZF.compress(input, limit: input.count - 4, table: lzfTable!) {
                bytes.append(RDB.encodedValue << 6 | RDB.encodingLZF)
                writeLength(UInt64(compressed.count))
                writeLength(UInt64(input.count))
                bytes.append(contentsOf: compressed)
                return
            }
        }
        writeLength(UInt64(string.count))
        bytes.append(contentsOf: string)
    }

    /// An integer-valued string as rdbSaveLongLongAsStringObject writes it (a
    /// value Redis holds integer-encoded): an integer encoding in the int32 range,
    /// else its decimal digits verbatim. Gives the same bytes as `writeString` of
    /// the decimal text.
    public mutating func writeInteger(_ value: Int64) {
        if writeIntegerEncoding(value) { return }
        let digits = Array(String(value).utf8)
        writeLength(UInt64(digits.count))
        bytes.append(contentsOf: digits)
    }

    /// Appends the smallest of int8/int16/int32 that holds `value` (rdbEncodeInteger); false if none does.
    private mutating func writeIntegerEncoding(_ value: Int64) -> Bool {
        if let v = Int8(exactly: value) {
            bytes.append(RDB.encodedValue << 6 | RDB.encodingInt8)
            bytes.append(UInt8(bitPattern: v))
        } else if let v = Int16(exactly: value) {
            bytes.append(RDB.encodedValue << 6 | RDB.encodingInt16)
            appendLittleEndian(UInt64(UInt16(bitPattern: v)), width: 2)
        } else if let v = Int32(exactly: value) {
            bytes.append(RDB.encodedValue << 6 | RDB.encodingInt32)
            appendLittleEndian(UInt64(UInt32(bitPattern: v)), width: 4)
        } else {
            return false
        }
        return true
    }

    /// The value of `string` if Redis's string2ll accepts it: optional '-', no
    /// leading zeros or '+', no "-0", no spaces, within Int64. Only such strings
    /// read back identically after an integer encoding.
    public static func canonicalInteger<C: Collection>(_ string: C) -> Int64? where C.Element == UInt8 {
        guard !string.isEmpty, string.count < 21 else { return nil }  // LONG_STR_SIZE is 21
        var it = string.makeIterator()
        var c = it.next()
        if string.count == 1 && c == UInt8(ascii: "0") { return 0 }
        let negative = c == UInt8(ascii: "-")
        if negative { c = it.next() }
        guard let d = c, d >= UInt8(ascii: "1"), d <= UInt8(ascii: "9") else { return nil }
        var magnitude = UInt64(d - UInt8(ascii: "0"))
        while let d = it.next() {
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            magnitude = sum
        }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            return magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    private mutating func appendBigEndian(_ value: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private mutating func appendLittleEndian(_ value: UInt64, width: Int) {
        for i in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(i * 8))) }
    }
}
