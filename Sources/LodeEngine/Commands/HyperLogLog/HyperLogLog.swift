import Foundation

/// Redis 7.0.15's HyperLogLog representation (hyperloglog.c), ported function by
/// function so that Lode's values are Redis's bytes and its counts Redis's numbers:
/// a value written by either server reads the same on the other. The C names are
/// kept in the comments for comparison with the original.
///
/// A HyperLogLog is an ordinary string: a 16-byte header (`struct hllhdr`)
///
///     "HYLL" | encoding u8 (0 dense, 1 sparse) | 3 unused bytes | cardinality u64 LE
///
/// then the registers: dense, 16384 6-bit registers packed from the least significant
/// bit up (12288 bytes); sparse, run-length opcodes (ZERO 00xxxxxx, XZERO 01xxxxxx
/// yyyyyyyy, VAL 1vvvvvxx). The top bit of the cached cardinality set means "stale".
///
/// C reads the byte past the end of a value where a corrupted sparse body ends in
/// half an XZERO: `at(_:)` reads `after` there, the byte C's buffer holds past the end
/// (the sds terminator, 0, unless a split of that XZERO wrote there; see sparseSet).
struct HyperLogLog {
    static let p = 14                                    // HLL_P
    static let q = 64 - p                                // HLL_Q
    static let registerCount = 1 << p                    // HLL_REGISTERS
    static let pMask = registerCount - 1                 // HLL_P_MASK
    static let bits = 6                                  // HLL_BITS
    static let registerMax = (1 << bits) - 1             // HLL_REGISTER_MAX
    static let headerSize = 16                           // HLL_HDR_SIZE
    static let denseSize = headerSize + (registerCount * bits + 7) / 8  // HLL_DENSE_SIZE
    static let dense: UInt8 = 0                          // HLL_DENSE
    static let sparse: UInt8 = 1                         // HLL_SPARSE
    static let maxEncoding: UInt8 = 1                    // HLL_MAX_ENCODING
    static let alphaInf = 0.721347520444481703680        // HLL_ALPHA_INF, 0.5/ln(2)
    static let hashSeed: UInt64 = 0xadc83b19

    /// The whole string value, header included.
    var bytes: [UInt8]
    /// The byte past the end of `bytes` in C's buffer. Lode keeps it for the command
    /// that changes the value; Redis keeps it with the value (see the README's
    /// differences: a later command may read there).
    var after: UInt8 = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// createHLLObject: an empty sparse HyperLogLog (XZERO:16384) whose cached
    /// cardinality, 0, is valid.
    init() {
        bytes = Array("HYLL".utf8) + [Self.sparse] + [UInt8](repeating: 0, count: 11)
        var aux = Self.registerCount
        while aux > 0 {
            let xzero = min(Sparse.xzeroMaxLen, aux)
            bytes += Sparse.xzero(xzero)
            aux -= xzero
        }
    }

    var encoding: UInt8 { bytes[4] }

    /// The byte at `i`, or the byte C has past the end of the value.
    @inline(__always)
    func at(_ i: Int) -> Int { i < bytes.count ? Int(bytes[i]) : i == bytes.count ? Int(after) : 0 }

    // MARK: header

    /// isHLLObjectOrReply, after the type check: a header, the magic, a known
    /// encoding and, for dense, the exact length. A sparse body is checked only
    /// when it is walked (INVALIDOBJ then).
    static func isValid(_ v: UnsafeRawBufferPointer) -> Bool {
        guard v.count >= headerSize, v[0] == UInt8(ascii: "H"), v[1] == UInt8(ascii: "Y"), v[2] == UInt8(ascii: "L"),
              v[3] == UInt8(ascii: "L"), v[4] <= maxEncoding else { return false }
        return v[4] != dense || v.count == denseSize
    }

    /// HLL_VALID_CACHE and the little-endian cached value.
    var cachedCardinality: UInt64? {
        guard bytes[15] & 0x80 == 0 else { return nil }
        var card: UInt64 = 0
        for i in 0..<8 { card |= UInt64(bytes[8 + i]) << (8 * i) }
        return card
    }

    /// PFCOUNT's store of a fresh count. A count with the top bit set (only from
    /// the out-of-range estimate, see `estimate`) leaves the cache marked stale.
    mutating func setCachedCardinality(_ card: UInt64) {
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: card >> (8 * i)) }
    }

    /// HLL_INVALIDATE_CACHE
    mutating func invalidateCache() { bytes[15] |= 0x80 }

    // MARK: hashing

    /// MurmurHash64A, Redis's endian-neutral variant (little-endian 8-byte blocks).
    static func murmurHash64A(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let m: UInt64 = 0xc6a4a7935bd1e995
        let r: UInt64 = 47
        let len = key.count
        var h = seed ^ (UInt64(len) &* m)
        let blocks = len / 8
        for i in 0..<blocks {
            var k = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            k &*= m
            k ^= k >> r
            k &*= m
            h ^= k
            h &*= m
        }
        let tail = blocks * 8, rest = len & 7
        if rest > 0 {
            // The switch's fall-through: bytes 6...0 of the tail, then one multiply.
            for i in stride(from: rest - 1, through: 0, by: -1) { h ^= UInt64(key[tail + i]) << (8 * UInt64(i)) }
            h &*= m
        }
        h ^= h >> r
        h &*= m
        h ^= h >> r
        return h
    }

    /// hllPatLen: the register an element hashes to (the hash's low 14 bits) and the
    /// length of the 000...1 run in the other 50 bits, counting the 1 (1...51).
    @inline(__always)
    static func patLen(_ element: UnsafeRawBufferPointer) -> (index: Int, count: Int) {
        var hash = murmurHash64A(element, seed: hashSeed)
        let index = Int(hash & UInt64(pMask))
        hash >>= UInt64(p)
        hash |= 1 << UInt64(q)  // so that the run ends and count <= Q+1
        return (index, hash.trailingZeroBitCount + 1)
    }

    // MARK: dense

    /// HLL_DENSE_GET_REGISTER on the registers starting at `base`. The byte after the
    /// last register is the sds terminator in C (always 0): not read here.
    @inline(__always)
    static func denseGet(_ p: UnsafeBufferPointer<UInt8>, _ base: Int, _ regnum: Int) -> Int {
        let byte = base + regnum * bits / 8
        let fb = regnum * bits & 7, fb8 = 8 - fb
        let b0 = Int(p[byte]), b1 = byte + 1 < p.count ? Int(p[byte + 1]) : 0
        return ((b0 >> fb) | (b1 << fb8)) & registerMax
    }

    /// HLL_DENSE_SET_REGISTER (`val` <= 63, so nothing spills past the last byte).
    @inline(__always)
    static func denseSet(_ p: UnsafeMutableBufferPointer<UInt8>, _ base: Int, _ regnum: Int, _ val: Int) {
        let byte = base + regnum * bits / 8
        let fb = regnum * bits & 7, fb8 = 8 - fb
        p[byte] = UInt8(truncatingIfNeeded: (Int(p[byte]) & ~(registerMax << fb)) | (val << fb))
        if byte + 1 < p.count {
            p[byte + 1] = UInt8(truncatingIfNeeded: (Int(p[byte + 1]) & ~(registerMax >> fb8)) | (val >> fb8))
        }
    }

    func register(_ regnum: Int) -> Int {
        bytes.withUnsafeBufferPointer { Self.denseGet($0, Self.headerSize, regnum) }
    }

    /// hllDenseSet: raises register `index` to `count`; 1 if it changed.
    @discardableResult
    mutating func denseSet(_ index: Int, _ count: Int) -> Int {
        bytes.withUnsafeMutableBufferPointer { p in
            let old = Self.denseGet(UnsafeBufferPointer(p), Self.headerSize, index)
            guard count > old else { return 0 }
            Self.denseSet(p, Self.headerSize, index, count)
            return 1
        }
    }

    /// hllDenseRegHisto: how many registers hold each value (3 bytes hold 4 registers).
    func denseHistogram(_ histogram: inout [Int]) {
        bytes.withUnsafeBufferPointer { p in
            var r = Self.headerSize
            for _ in 0..<(Self.registerCount / 4) {
                let b0 = Int(p[r]), b1 = Int(p[r + 1]), b2 = Int(p[r + 2])
                histogram[b0 & 63] += 1
                histogram[(b0 >> 6 | b1 << 2) & 63] += 1
                histogram[(b1 >> 4 | b2 << 4) & 63] += 1
                histogram[(b2 >> 2) & 63] += 1
                r += 3
            }
        }
    }

    // MARK: adding, counting, merging

    /// hllAdd: 1 if a register changed, 0 if not, -1 for a corrupted sparse value.
    mutating func add(_ element: UnsafeRawBufferPointer, sparseMaxBytes: Int) -> Int {
        let (index, count) = Self.patLen(element)
        switch encoding {
        case Self.dense: return denseSet(index, count)          // hllDenseAdd
        case Self.sparse: return sparseSet(index, count, sparseMaxBytes: sparseMaxBytes)  // hllSparseAdd
        default: return -1
        }
    }

    /// hllCount for a dense or sparse value; `invalid` is set when a sparse body
    /// does not cover exactly 16384 registers.
    func count(invalid: inout Bool) -> UInt64 {
        var histogram = [Int](repeating: 0, count: 64)
        if encoding == Self.dense {
            denseHistogram(&histogram)
        } else if !sparseHistogram(&histogram) {
            invalid = true
        }
        return Self.estimate(histogram)
    }

    /// hllCount of HLL_RAW registers (one byte each): PFCOUNT of several keys.
    static func count(raw registers: [UInt8]) -> UInt64 {
        var histogram = [Int](repeating: 0, count: 64)
        for r in registers { histogram[Int(r)] += 1 }  // hllRawRegHisto
        return estimate(histogram)
    }

    /// hllSigma (Ertl, "New cardinality estimation algorithms for HyperLogLog sketches").
    static func sigma(_ x: Double) -> Double {
        if x == 1 { return .infinity }
        var x = x, y = 1.0, z = x, zPrime: Double
        repeat {
            x *= x
            zPrime = z
            z += x * y
            y += y
        } while zPrime != z
        return z
    }

    /// hllTau (same paper); glibc's pow, as Redis calls it, so the last bit agrees.
    static func tau(_ x: Double) -> Double {
        if x == 0 || x == 1 { return 0 }
        var x = x, y = 1.0, z = 1 - x, zPrime: Double
        repeat {
            x = x.squareRoot()
            zPrime = z
            y *= 0.5
            z -= Foundation.pow(1 - x, 2) * y
        } while zPrime != z
        return z / 3
    }

    /// The end of hllCount: Ertl's improved estimator over the register histogram,
    /// rounded by llroundl and converted as C converts it. Out of range (a crafted
    /// value whose registers are all high), x86-64's llroundl gives LLONG_MIN and
    /// `(uint64_t)` of that double gives 2^63: Redis then answers -9223372036854775808.
    static func estimate(_ histogram: [Int]) -> UInt64 {
        let m = Double(registerCount)
        var z = m * tau((m - Double(histogram[q + 1])) / m)
        for j in stride(from: q, through: 1, by: -1) {
            z += Double(histogram[j])
            z *= 0.5
        }
        z += m * sigma(Double(histogram[0]) / m)
        let rounded = (alphaInf * m * m / z).rounded(.toNearestOrAwayFromZero)
        let llround = rounded >= -0x1p63 && rounded < 0x1p63 ? Int64(rounded) : Int64.min
        let e = Double(llround)
        return e >= 0x1p63 ? UInt64(e - 0x1p63) ^ (1 << 63) : UInt64(bitPattern: Int64(e))
    }

    /// hllMerge: raises `max` (one byte per register) to this value's registers;
    /// false for a corrupted sparse value.
    func merge(into max: inout [UInt8]) -> Bool {
        if encoding == Self.dense {
            bytes.withUnsafeBufferPointer { p in
                for i in 0..<Self.registerCount {
                    let val = UInt8(Self.denseGet(p, Self.headerSize, i))
                    if val > max[i] { max[i] = val }
                }
            }
            return true
        }
        return forEachSparseRun { first, runlen, regval in
            guard regval > 0 else { return }
            for i in first..<first + runlen where UInt8(regval) > max[i] { max[i] = UInt8(regval) }
        }
    }
}

extension HyperLogLog {
    /// PFSELFTEST (pfselftestCommand): nil when it passes, else Redis's TESTFAILED text.
    /// Test 1 sets and reads back random values in every dense register; test 2 adds
    /// 10,000,000 distinct elements to a dense and a sparse HyperLogLog at once and, at
    /// 1, 10, 100, ..., checks that the sparse one is still sparse while it should be,
    /// that both count the same, and that the error stays within 6 standard errors.
    static func selfTest(sparseMaxBytes: Int) -> String? {
        // Redis uses rand(); a hashed counter from a random start is as good here, and fast.
        var counter = UInt64.random(in: 0...UInt64.max)
        func rand() -> UInt64 {
            counter &+= 1
            return withUnsafeBytes(of: counter) { murmurHash64A($0, seed: hashSeed) }
        }
        var bitcounters = HyperLogLog(bytes: [UInt8](repeating: 0, count: denseSize))  // all zero: dense
        var bytecounters = [UInt8](repeating: 0, count: registerCount)
        for _ in 0..<1000 {
            bitcounters.bytes.withUnsafeMutableBufferPointer { p in
                for i in 0..<registerCount {
                    let r = Int(rand() & UInt64(registerMax))
                    bytecounters[i] = UInt8(r)
                    denseSet(p, headerSize, i, r)
                }
            }
            for i in 0..<registerCount where bitcounters.register(i) != Int(bytecounters[i]) {
                return "ERR TESTFAILED Register \(i) should be \(bytecounters[i]) but is \(bitcounters.register(i))"
            }
        }

        bitcounters = HyperLogLog(bytes: [UInt8](repeating: 0, count: denseSize))
        var o = HyperLogLog()
        let relerr = 1.04 / Double(registerCount).squareRoot()
        var checkpoint: Int64 = 1
        let seed = rand()
        var unused = false
        for j in 1...10_000_000 {
            let ele = UInt64(j) ^ seed
            withUnsafeBytes(of: ele) { e in
                _ = bitcounters.add(e, sparseMaxBytes: sparseMaxBytes)
                _ = o.add(e, sparseMaxBytes: sparseMaxBytes)
            }
            guard j == checkpoint else { continue }
            if j < sparseMaxBytes / 2 && o.encoding != sparse { return "ERR TESTFAILED sparse encoding not used" }
            let card = bitcounters.count(invalid: &unused)
            if card != o.count(invalid: &unused) { return "ERR TESTFAILED dense/sparse disagree" }
            let abserr = abs(checkpoint - Int64(bitPattern: card))
            var maxerr = UInt64((relerr * 6 * Double(checkpoint)).rounded(.up))
            // At 10 a collision makes a large error statistically likely (Redis's note).
            if j == 10 { maxerr = 1 }
            if abserr > Int64(maxerr) { return "ERR TESTFAILED Too big error. card:\(checkpoint) abserr:\(abserr)" }
            checkpoint *= 10
        }
        return nil
    }
}
