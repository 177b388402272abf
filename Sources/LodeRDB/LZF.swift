/// Why LZF data could not be decompressed. The offsets are positions in the
/// compressed input, so a corrupt RDB string can be reported precisely.
public enum LZFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data decodes to more bytes than the stated uncompressed length (lzf_d.c's E2BIG).
    case outputOverflow(inputOffset: Int)
    /// A literal run or a back reference is cut short by the end of the input (EINVAL).
    case truncatedInput(inputOffset: Int)
    /// A back reference points before the start of the output (EINVAL).
    case backReferenceOutOfRange(inputOffset: Int)
    /// The data decodes cleanly but to fewer bytes than the stated length; Redis
    /// compares lzf_decompress's result with the length and rejects the string.
    case lengthMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .outputOverflow(let at): return "LZF output exceeds the stated length (input offset \(at))"
        case .truncatedInput(let at): return "LZF input truncated (input offset \(at))"
        case .backReferenceOutOfRange(let at): return "LZF back reference before start of output (input offset \(at))"
        case .lengthMismatch(let expected, let actual): return "LZF data decodes to \(actual) bytes, expected \(expected)"
        }
    }
}

/// LZF, the compression of RDB strings (Redis's vendored liblzf 3.6).
///
/// Decompression follows lzf_d.c step for step, with its CHECK_INPUT bounds
/// checks turned into thrown errors, so corrupt input from a RESTORE payload is
/// rejected rather than read out of bounds. Compression is a port of lzf_c.c
/// with Redis's settings (HLOG 16, VERY_FAST, no ULTRA_FAST), so a Redis dump
/// can be reproduced byte for byte; Redis's hash table is never cleared
/// (INIT_HTAB 0), so in rare cases a stale entry left from an earlier call may
/// let Redis find a match this port does not — both outputs are valid LZF.
public enum LZF {
    /// Literal runs hold 1...32 bytes (control byte 000LLLLL).
    static let maxLiteral = 1 << 5
    /// Back references reach 1...8192 bytes back (13 offset bits).
    static let maxOffset = 1 << 13
    /// A back reference copies at most 264 bytes (7 + 255 in the length fields, plus 2).
    static let maxReference = (1 << 8) + (1 << 3)
    /// log2 of the compressor's hash table size, as Redis's lzfP.h sets it.
    static let hashLog = 16
    /// The most output one input byte can produce: a 3-byte back reference yields
    /// 264 bytes. Lets readers refuse absurd stated lengths before allocating.
    public static let maxExpansion = 88

    // MARK: - Decompression

    /// Decompresses `input`, which must decode to exactly `count` bytes.
    ///
    /// Throws instead of trapping on every malformed input, in the order
    /// lzf_d.c detects the faults, so the same payloads are rejected as in Redis.
    public static func decompress(_ input: [UInt8], count: Int) throws(LZFError) -> [UInt8] {
        try decompress(input[...], count: count)
    }

    /// Decompresses a slice (for example, a string inside an RDB payload) without copying it first.
    public static func decompress(_ input: ArraySlice<UInt8>, count: Int) throws(LZFError) -> [UInt8] {
        let base = input.startIndex, end = input.endIndex
        // The stated length is untrusted: cap the allocation by what the input
        // could possibly produce, and let the overflow check reject the rest.
        var out = [UInt8](repeating: 0, count: max(0, min(count, input.count * maxExpansion)))
        let capacity = max(0, count)
        var ip = base, op = 0
        while ip < end {
            let ctrl = Int(input[ip])
            ip += 1
            if ctrl < maxLiteral {
                let run = ctrl + 1
                if op + run > capacity { throw .outputOverflow(inputOffset: ip - 1 - base) }
                if ip + run > end { throw .truncatedInput(inputOffset: ip - 1 - base) }
                // Cannot fire when `out` was capped (the cap is the most the input can
                // produce); kept so that an arithmetic slip throws instead of trapping.
                if op + run > out.count { throw .outputOverflow(inputOffset: ip - 1 - base) }
                for k in 0..<run { out[op + k] = input[ip + k] }
                op += run
                ip += run
            } else {
                let start = ip - 1 - base
                var length = ctrl >> 5
                var ref = op - ((ctrl & 0x1f) << 8) - 1
                if ip >= end { throw .truncatedInput(inputOffset: start) }
                if length == 7 {
                    length += Int(input[ip])
                    ip += 1
                    if ip >= end { throw .truncatedInput(inputOffset: start) }
                }
                ref -= Int(input[ip])
                ip += 1
                if op + length + 2 > capacity || op + length + 2 > out.count {
                    throw .outputOverflow(inputOffset: start)
                }
                if ref < 0 { throw .backReferenceOutOfRange(inputOffset: start) }
                // Byte by byte: the source may overlap the bytes being written,
                // which is how LZF encodes runs (offset 1 repeats one byte).
                for _ in 0..<(length + 2) {
                    out[op] = out[ref]
                    op += 1
                    ref += 1
                }
            }
        }
        if op != count { throw .lengthMismatch(expected: count, actual: op) }
        return out
    }

    // MARK: - Compression

    /// The largest output `compress` can produce for `count` input bytes: one
    /// control byte per 32 literals, plus slack for the compressor's lookahead checks.
    public static func maxCompressedCount(_ count: Int) -> Int { count + count / maxLiteral + 16 }

    /// Compresses `input` as lzf_compress does, or returns nil when the result
    /// would not fit in `limit` bytes (lzf_compress returning 0). Redis passes a
    /// limit of `count - 4` so that only strings saving at least 4 bytes are
    /// stored compressed. An empty input compresses to an empty output.
    public static func compress(_ input: [UInt8], limit: Int? = nil) -> [UInt8]? {
        compress(input, limit: limit, table: HashTable())
    }

    /// The compressor's hash table, kept between calls by a writer that compresses many
    /// strings (an RDB file): clearing 512 KB for each string cost two thirds of a dump's
    /// time. Each call owns a range of stamps (`base` + position), so entries from
    /// earlier calls read as empty and the output is exactly that of a cleared table.
    /// One writer uses it at a time.
    public final class HashTable: @unchecked Sendable {
        var slots = [Int](repeating: 0, count: 1 << LZF.hashLog)
        var base = 0
        public init() {}
    }

    static func compress(_ input: [UInt8], limit: Int?, table hashTable: HashTable) -> [UInt8]? {
        let n = input.count
        if n == 0 { return [] }
        let outEnd = limit ?? maxCompressedCount(n)
        if outEnd <= 0 { return nil }
        var out = [UInt8](repeating: 0, count: outEnd + 1)
        if hashTable.base > Int.max / 2 {
            hashTable.slots = [Int](repeating: 0, count: 1 << hashLog)
            hashTable.base = 0
        }
        let base = hashTable.base
        hashTable.base += n + 1
        // Positions of the last 3-byte sequence seen per hash (stamped with `base`);
        // 0 doubles as "none", since lzf_c.c never uses a reference at the input's first byte.
        return hashTable.slots.withUnsafeMutableBufferPointer { stamped in
            var table = StampedTable(slots: stamped, base: base)
            return compress(input, n: n, outEnd: outEnd, out: &out, table: &table)
        }
    }

    /// Positions stored as `base + position`; anything below `base` is from an earlier call.
    struct StampedTable {
        let slots: UnsafeMutableBufferPointer<Int>
        let base: Int
        @inline(__always) subscript(_ i: Int) -> Int {
            get { let v = slots[i]; return v > base ? v - base : 0 }
            nonmutating set { slots[i] = base + newValue }
        }
    }

    private static func compress(_ input: [UInt8], n: Int, outEnd: Int, out: inout [UInt8],
                                 table: inout StampedTable) -> [UInt8]? {
        var ip = 0, op = 1, lit = 0  // op starts past the first literal run's control byte

        @inline(__always) func hashIndex(_ h: UInt32) -> Int {
            Int(((h >> UInt32(24 - hashLog)) &- h &* 5) & UInt32((1 << hashLog) - 1))
        }
        @inline(__always) func first(_ p: Int) -> UInt32 { UInt32(input[p]) << 8 | UInt32(input[p + 1]) }
        @inline(__always) func next(_ h: UInt32, _ p: Int) -> UInt32 { h << 8 | UInt32(input[p + 2]) }
        /// Copies one input byte into the open literal run, closing it when full.
        @inline(__always) func literal() {
            lit += 1
            out[op] = input[ip]
            op += 1
            ip += 1
            if lit == maxLiteral {
                out[op - lit - 1] = UInt8(lit - 1)
                lit = 0
                op += 1
            }
        }

        var hval: UInt32 = n >= 3 ? first(0) : 0
        while ip < n - 2 {
            hval = next(hval, ip)
            let slot = hashIndex(hval)
            let ref = table[slot]
            table[slot] = ip
            let off = ip - ref - 1
            if ref > 0, off >= 0, off < maxOffset,
               input[ref + 2] == input[ip + 2], input[ref] == input[ip], input[ref + 1] == input[ip + 1] {
                var length = 2
                let maxLength = min(n - ip - length, maxReference)
                let noRun = lit == 0 ? 1 : 0
                if op + 3 + 1 >= outEnd, op - noRun + 3 + 1 >= outEnd { return nil }
                out[op - lit - 1] = UInt8(truncatingIfNeeded: lit - 1)  // close the literal run
                op -= noRun  // or drop its control byte when it is empty
                // lzf_c.c checks 16 bytes unrolled when there is room, then one at a
                // time; both stop at the first mismatch, so the result is the same.
                var mismatch = false
                if maxLength > 16 {
                    for _ in 0..<16 {
                        length += 1
                        if input[ref + length] != input[ip + length] { mismatch = true; break }
                    }
                }
                if !mismatch {
                    repeat { length += 1 } while length < maxLength && input[ref + length] == input[ip + length]
                }
                length -= 2  // now the number of bytes minus one, as the format stores it
                ip += 1
                if length < 7 {
                    out[op] = UInt8(off >> 8) &+ UInt8(length << 5)
                    op += 1
                } else {
                    out[op] = UInt8(off >> 8) &+ (7 << 5)
                    out[op + 1] = UInt8(length - 7)
                    op += 2
                }
                out[op] = UInt8(truncatingIfNeeded: off)
                op += 1
                lit = 0
                op += 1  // start a new literal run
                ip += length + 1
                if ip >= n - 2 { break }
                // VERY_FAST: hash only the last two positions of the match.
                ip -= 2
                hval = first(ip)
                hval = next(hval, ip)
                table[hashIndex(hval)] = ip
                ip += 1
                hval = next(hval, ip)
                table[hashIndex(hval)] = ip
                ip += 1
            } else {
                if op >= outEnd { return nil }
                literal()
            }
        }
        if op + 3 > outEnd { return nil }  // at most 3 bytes can be missing here
        while ip < n { literal() }
        out[op - lit - 1] = UInt8(truncatingIfNeeded: lit - 1)
        op -= lit == 0 ? 1 : 0
        out.removeSubrange(op...)
        return out
    }
}
