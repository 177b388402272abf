/// The older compact blobs Redis 7.0 still loads (and, for intsets, still writes):
/// ziplists (ziplist.c, before listpacks), zipmaps (zipmap.c, before ziplists)
/// and intsets (intset.c). Each decoder checks what the matching
/// *ValidateIntegrity function checks with deep validation, and more where a
/// check keeps this code from trusting a count or an offset it has not verified.

enum Ziplist {
    static let headerCount = 10

    /// The entries of a ziplist, integers rendered in decimal:
    ///
    ///     zlbytes u32 LE | zltail u32 LE | zllen u16 LE (65535: unknown) | entries | 0xFF
    ///     entry: prevlen (1 byte, or 0xFE + u32 LE) | encoding | data
    ///
    /// As ziplistValidateIntegrity: the sizes, every entry inside the blob, every
    /// prevlen equal to the previous entry's size, zltail at the last entry.
    static func decode(_ blob: [UInt8], origin: Int) throws(RDBError) -> [[UInt8]] {
        let r = BlobReader(bytes: blob, origin: origin, kind: "ziplist")
        guard blob.count >= headerCount + 1 else { throw r.fail("shorter than its header", at: 0) }
        let total = try r.littleEndian(0, 4, "header")
        guard total == UInt64(blob.count) else { throw r.fail("header says \(total) bytes, blob has \(blob.count)", at: 0) }
        let tail = Int(try r.littleEndian(4, 4, "header"))
        let declared = Int(try r.littleEndian(8, 2, "header"))
        var elements: [[UInt8]] = []
        var p = headerCount, previousSize = 0, last = headerCount
        let end = blob.count - 1
        while p < end && blob[p] != 0xff {
            let (element, next, prevlen) = try entry(at: p, r)
            guard prevlen == previousSize else { throw r.fail("prevlen \(prevlen), previous entry has \(previousSize) bytes", at: p) }
            elements.append(element)
            last = p
            previousSize = next - p
            p = next
        }
        guard p == end, blob[end] == 0xff else { throw r.fail("terminator 0xFF is not the last byte", at: p) }
        guard tail == last else { throw r.fail("zltail \(tail) is not the last entry (\(last))", at: 4) }
        if declared != 0xffff && declared != elements.count {
            throw r.fail("header counts \(declared) entries, found \(elements.count)", at: 8)
        }
        return elements
    }

    /// One entry (zipEntrySafe, ziplistGet): value, next position, its prevlen.
    private static func entry(at start: Int, _ r: BlobReader) throws(RDBError) -> ([UInt8], Int, Int) {
        var p = start
        var prevlen = Int(r.bytes[p])
        if prevlen == 0xfe {
            prevlen = Int(try r.littleEndian(p + 1, 4, "prevlen"))
            p += 5
        } else {
            p += 1
        }
        try r.require(p, 1, "encoding")
        let b = r.bytes[p]
        func text(_ v: Int64) -> [UInt8] { Array(String(v).utf8) }
        func string(_ header: Int, _ length: Int) throws(RDBError) -> ([UInt8], Int, Int) {
            try r.require(p + header, length, "string of \(length) bytes")
            return (Array(r.bytes[(p + header)..<(p + header + length)]), p + header + length, prevlen)
        }
        func integer(_ width: Int) throws(RDBError) -> ([UInt8], Int, Int) {
            (text(try r.signed(p + 1, width, "integer")), p + 1 + width, prevlen)
        }
        switch b {
        case 0x00...0x3f: return try string(1, Int(b))
        case 0x40...0x7f: return try string(2, Int(b & 0x3f) << 8 | Int(try r.littleEndian(p + 1, 1, "14-bit length")))
        case 0x80...0xbf:
            // ZIP_STR_32B: the length is big-endian, unlike everything else here.
            let length = try r.littleEndian(p + 1, 4, "32-bit length").byteSwapped >> 32
            return try string(5, Int(length))
        case 0xc0: return try integer(2)
        case 0xd0: return try integer(4)
        case 0xe0: return try integer(8)
        case 0xf0: return try integer(3)
        case 0xfe: return try integer(1)
        case 0xf1...0xfd: return (text(Int64(b & 0x0f) - 1), p + 1, prevlen)
        default: throw r.fail("invalid entry encoding 0x\(String(b, radix: 16))", at: p)
        }
    }
}

enum Zipmap {
    /// The field/value pairs of a zipmap (RDB_TYPE_HASH_ZIPMAP, Redis 2.4 and older):
    ///
    ///     zmlen u8 | (len key len free value <free bytes>)* | 0xFF
    ///     len: 1 byte < 254, or 0xFE + u32 LE; free: 1 byte
    ///
    /// As zipmapValidateIntegrity: every item inside the blob, the terminator last;
    /// zmlen is only a hint (254 means "count them").
    static func decode(_ blob: [UInt8], origin: Int) throws(RDBError) -> [([UInt8], [UInt8])] {
        let r = BlobReader(bytes: blob, origin: origin, kind: "zipmap")
        guard blob.count >= 2 else { throw r.fail("shorter than its header", at: 0) }
        var p = 1
        var pairs: [([UInt8], [UInt8])] = []
        func length() throws(RDBError) -> Int {
            try r.require(p, 1, "length")
            let b = r.bytes[p]
            if b < 0xfe { p += 1; return Int(b) }
            guard b == 0xfe else { throw r.fail("length byte 0xFF inside an entry", at: p) }
            let v = Int(try r.littleEndian(p + 1, 4, "length"))
            p += 5
            return v
        }
        func bytes(_ n: Int) throws(RDBError) -> [UInt8] {
            try r.require(p, n, "string of \(n) bytes")
            defer { p += n }
            return Array(r.bytes[p..<(p + n)])
        }
        while p < blob.count && blob[p] != 0xff {
            let key = try bytes(try length())
            let valueLength = try length()
            try r.require(p, 1, "free count")
            let free = Int(blob[p])
            p += 1
            let value = try bytes(valueLength)
            try r.require(p, free, "free space")
            p += free
            pairs.append((key, value))
        }
        guard p == blob.count - 1 else { throw r.fail("terminator 0xFF is not the last byte", at: p) }
        let declared = Int(blob[0])
        if declared < 254 && declared != pairs.count { throw r.fail("header counts \(declared) pairs, found \(pairs.count)", at: 0) }
        return pairs
    }
}

enum Intset {
    static let headerCount = 8

    /// An intset (intset.c): encoding u32 LE (2, 4 or 8 bytes a member) | length
    /// u32 LE | members LE, strictly ascending. Checked as intsetValidateIntegrity
    /// with deep validation (size, encoding, order).
    static func decode(_ blob: [UInt8], origin: Int) throws(RDBError) -> [Int64] {
        let r = BlobReader(bytes: blob, origin: origin, kind: "intset")
        let width = Int(try r.littleEndian(0, 4, "header"))
        guard width == 2 || width == 4 || width == 8 else { throw r.fail("invalid encoding \(width)", at: 0) }
        let count = try r.littleEndian(4, 4, "header")
        let (size, overflow) = count.multipliedReportingOverflow(by: UInt64(width))
        guard !overflow, UInt64(blob.count - headerCount) == size else {
            throw r.fail("\(count) members of \(width) bytes do not fill \(blob.count) bytes", at: 4)
        }
        var members: [Int64] = []
        members.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            let v = try r.signed(headerCount + i * width, width, "member")
            if let previous = members.last, previous >= v { throw r.fail("members not strictly ascending", at: headerCount + i * width) }
            members.append(v)
        }
        return members
    }

    /// The intset of `members` (any order, no duplicates) as intsetAdd builds it:
    /// sorted, in the smallest encoding that holds them all (INTSET_ENC_INT16 up).
    static func encode(_ members: [Int64]) -> [UInt8] {
        let sorted = members.sorted()
        let width: Int
        if sorted.allSatisfy({ Int16(exactly: $0) != nil }) {
            width = 2
        } else if sorted.allSatisfy({ Int32(exactly: $0) != nil }) {
            width = 4
        } else {
            width = 8
        }
        var out: [UInt8] = []
        out.reserveCapacity(headerCount + width * sorted.count)
        appendLittleEndian(UInt64(width), width: 4, to: &out)
        appendLittleEndian(UInt64(sorted.count), width: 4, to: &out)
        for v in sorted { appendLittleEndian(UInt64(bitPattern: v), width: width, to: &out) }
        return out
    }
}
