/// A listpack (Redis 7.0's listpack.c), the blob inside the RDB encodings of
/// small hashes and sorted sets and of every quicklist node:
///
///     total bytes u32 LE | element count u16 LE (65535: unknown) | entries | 0xFF
///
/// An entry is its encoding and data, then that length again as a "backlen" of
/// 1...5 bytes read from the right, 7 bits a byte.
struct ListpackBuilder {
    /// The encoded entries, without the 6-byte header and the 0xFF terminator.
    private(set) var body: [UInt8] = []
    private(set) var count = 0

    static let headerCount = 6
    /// lpNew's size: the header and the terminator.
    static let emptyCount = headerCount + 1
    /// LP_HDR_NUMELE_UNKNOWN: the header's count when there are 65535 entries or more.
    static let unknownCount = 0xffff

    /// lpBytes: the size the listpack has with the entries appended so far.
    var byteCount: Int { body.count + Self.emptyCount }

    /// Appends an element as lpAppend does: as an integer encoding when the bytes are
    /// a canonical decimal integer (lpStringToInt64, Redis's string2ll), else as a string.
    mutating func append<C: Collection>(_ element: C) where C.Element == UInt8 {
        let start = body.count
        if let value = RDBWriter.canonicalInteger(element) {
            appendInteger(value)
        } else {
            appendStringHeader(element.count)
            body.append(contentsOf: element)
        }
        appendBacklen(body.count - start)
        count += 1
    }

    /// Appends the entries of `other` after these.
    mutating func append(contentsOf other: ListpackBuilder) {
        body.append(contentsOf: other.body)
        count += other.count
    }

    /// The finished listpack.
    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(byteCount)
        appendLittleEndian(UInt64(byteCount), width: 4, to: &out)
        appendLittleEndian(UInt64(min(count, Self.unknownCount)), width: 2, to: &out)
        out.append(contentsOf: body)
        out.append(0xff)
        return out
    }

    /// lpEncodeIntegerGetType: the smallest of 7-bit, 13-bit, 16, 24, 32 and 64-bit forms.
    private mutating func appendInteger(_ v: Int64) {
        if v >= 0 && v <= 127 {
            body.append(UInt8(v))
        } else if v >= -4096 && v <= 4095 {
            let u = UInt64(v < 0 ? (1 << 13) + v : v)
            body.append(0xc0 | UInt8(u >> 8))
            body.append(UInt8(u & 0xff))
        } else if let (tag, width) = Self.integerForm(v) {
            body.append(tag)
            appendLittleEndian(UInt64(bitPattern: v), width: width, to: &body)
        }
    }

    /// The tag and width of the 16/24/32/64-bit integer encodings for `v`.
    private static func integerForm(_ v: Int64) -> (UInt8, Int)? {
        if v >= -32768 && v <= 32767 { return (0xf1, 2) }
        if v >= -8_388_608 && v <= 8_388_607 { return (0xf2, 3) }
        if v >= -2_147_483_648 && v <= 2_147_483_647 { return (0xf3, 4) }
        return (0xf4, 8)
    }

    /// lpEncodeString's header: 6-bit, 12-bit or 32-bit length.
    private mutating func appendStringHeader(_ length: Int) {
        if length < 64 {
            body.append(0x80 | UInt8(length))
        } else if length < 4096 {
            body.append(0xe0 | UInt8(length >> 8))
            body.append(UInt8(length & 0xff))
        } else {
            body.append(0xf0)
            appendLittleEndian(UInt64(length), width: 4, to: &body)
        }
    }

    /// lpEncodeBacklen: the entry's length, most significant 7 bits first, every byte
    /// but the first with its high bit set, so it can be read from the right.
    private mutating func appendBacklen(_ length: Int) {
        body.append(contentsOf: Self.backlen(length))
    }

    static func backlen(_ length: Int) -> [UInt8] {
        let l = UInt64(length)
        let width: Int
        switch l {
        case 0...127: width = 1
        case ..<16383: width = 2
        case ..<2_097_151: width = 3
        case ..<268_435_455: width = 4
        default: width = 5
        }
        return (0..<width).map { i in
            let part = UInt8(truncatingIfNeeded: l >> UInt64(7 * (width - 1 - i))) & 0x7f
            return i == 0 ? part : part | 0x80
        }
    }
}

func appendLittleEndian(_ value: UInt64, width: Int, to out: inout [UInt8]) {
    for i in 0..<width { out.append(UInt8(truncatingIfNeeded: value >> UInt64(i * 8))) }
}

/// Bounds-checked little-endian reads over a blob (a listpack, ziplist, intset or
/// zipmap); a fault throws `RDBError.corrupt` at the RDB string holding the blob.
struct BlobReader {
    let bytes: [UInt8]
    /// Where the RDB string holding the blob starts, for errors.
    let origin: Int
    let kind: String

    func fail(_ what: String, at position: Int) -> RDBError {
        .corrupt(offset: origin, what: "\(kind) at byte \(position): \(what)")
    }

    func require(_ position: Int, _ width: Int, _ what: String) throws(RDBError) {
        guard position >= 0, width >= 0, position <= bytes.count - width else {
            throw fail("\(what) runs past the end (\(bytes.count) bytes)", at: position)
        }
    }

    func littleEndian(_ position: Int, _ width: Int, _ what: String) throws(RDBError) -> UInt64 {
        try require(position, width, what)
        var v: UInt64 = 0
        for i in (0..<width).reversed() { v = v << 8 | UInt64(bytes[position + i]) }
        return v
    }

    /// A little-endian two's-complement integer of `width` bytes, sign-extended.
    func signed(_ position: Int, _ width: Int, _ what: String) throws(RDBError) -> Int64 {
        let raw = try littleEndian(position, width, what)
        let shift = UInt64(64 - 8 * width)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }
}

enum Listpack {
    /// The elements of a listpack, integers rendered in decimal, after the checks of
    /// lpValidateIntegrity with deep validation (lpValidateNext on every entry): the
    /// header's size and count, every entry inside the blob, every backlen, the terminator.
    static func decode(_ blob: [UInt8], origin: Int) throws(RDBError) -> [[UInt8]] {
        let r = BlobReader(bytes: blob, origin: origin, kind: "listpack")
        guard blob.count >= ListpackBuilder.emptyCount else { throw r.fail("shorter than its header", at: 0) }
        let total = try r.littleEndian(0, 4, "header")
        guard total == UInt64(blob.count) else { throw r.fail("header says \(total) bytes, blob has \(blob.count)", at: 0) }
        let declared = Int(try r.littleEndian(4, 2, "header"))
        var elements: [[UInt8]] = []
        var p = ListpackBuilder.headerCount
        let end = blob.count - 1
        while p < end && blob[p] != 0xff {
            let (element, next) = try entry(at: p, r)
            elements.append(element)
            p = next
        }
        guard p == end, blob[end] == 0xff else { throw r.fail("terminator 0xFF is not the last byte", at: p) }
        if declared != ListpackBuilder.unknownCount && declared != elements.count {
            throw r.fail("header counts \(declared) entries, found \(elements.count)", at: 4)
        }
        return elements
    }

    /// One entry (lpGet): its value as bytes and the position after its backlen.
    private static func entry(at p: Int, _ r: BlobReader) throws(RDBError) -> ([UInt8], Int) {
        let b = r.bytes[p]
        var header = 1
        var element: [UInt8]
        func text(_ v: Int64) -> [UInt8] { Array(String(v).utf8) }
        func string(_ length: Int) throws(RDBError) -> [UInt8] {
            try r.require(p + header, length, "string of \(length) bytes")
            return Array(r.bytes[(p + header)..<(p + header + length)])
        }
        switch b {
        case 0x00...0x7f: element = text(Int64(b))
        case 0x80...0xbf: element = try string(Int(b & 0x3f))
        case 0xc0...0xdf:
            header = 2
            let u = Int64(try r.littleEndian(p + 1, 1, "13-bit integer")) | Int64(b & 0x1f) << 8
            element = text(u >= 1 << 12 ? u - (1 << 13) : u)
        case 0xe0...0xef:
            header = 2
            element = try string(Int(b & 0x0f) << 8 | Int(try r.littleEndian(p + 1, 1, "12-bit string length")))
        case 0xf0:
            header = 5
            let length = try r.littleEndian(p + 1, 4, "32-bit string length")
            element = try string(Int(length))
        case 0xf1...0xf4:
            let width = [2, 3, 4, 8][Int(b - 0xf1)]
            header = 1 + width
            element = text(try r.signed(p + 1, width, "integer"))
        default:
            throw r.fail("invalid entry encoding 0x\(String(b, radix: 16))", at: p)
        }
        let entryCount = header + (b >= 0x80 && b <= 0xbf || b >= 0xe0 && b <= 0xf0 ? element.count : 0)
        let backlen = ListpackBuilder.backlen(entryCount)
        try r.require(p + entryCount, backlen.count, "backlen")
        guard r.bytes[(p + entryCount)..<(p + entryCount + backlen.count)].elementsEqual(backlen) else {
            throw r.fail("backlen does not match the entry's \(entryCount) bytes", at: p + entryCount)
        }
        return (element, p + entryCount + backlen.count)
    }
}
