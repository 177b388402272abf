/// The sparse encoding of hyperloglog.c: the opcode macros, walking a sparse body,
/// its promotion to dense, and hllSparseSet's in-place update, step by step as in
/// Redis, because the exact bytes an update leaves (how runs split and merge) are
/// what GET returns and what another server reads.
extension HyperLogLog {
    /// HLL_SPARSE_* macros. Opcodes: ZERO 00xxxxxx (1-64 zero registers), XZERO
    /// 01xxxxxx yyyyyyyy (1-16384 zero registers), VAL 1vvvvvxx (1-4 registers of
    /// value 1-32).
    enum Sparse {
        static let valMaxValue = 32      // HLL_SPARSE_VAL_MAX_VALUE
        static let valMaxLen = 4         // HLL_SPARSE_VAL_MAX_LEN
        static let zeroMaxLen = 64       // HLL_SPARSE_ZERO_MAX_LEN
        static let xzeroMaxLen = 16384   // HLL_SPARSE_XZERO_MAX_LEN

        @inline(__always) static func isZero(_ b: UInt8) -> Bool { b & 0xc0 == 0 }
        @inline(__always) static func isXZero(_ b: UInt8) -> Bool { b & 0xc0 == 0x40 }
        @inline(__always) static func isVal(_ b: UInt8) -> Bool { b & 0x80 != 0 }
        @inline(__always) static func zeroLen(_ b: UInt8) -> Int { Int(b & 0x3f) + 1 }
        @inline(__always) static func xzeroLen(_ b: UInt8, _ next: Int) -> Int { (Int(b & 0x3f) << 8 | next) + 1 }
        @inline(__always) static func valValue(_ b: UInt8) -> Int { Int((b >> 2) & 0x1f) + 1 }
        @inline(__always) static func valLen(_ b: UInt8) -> Int { Int(b & 0x3) + 1 }
        @inline(__always) static func val(_ value: Int, _ len: Int) -> UInt8 {
            UInt8(truncatingIfNeeded: ((value - 1) << 2 | (len - 1)) | 0x80)
        }
        @inline(__always) static func zero(_ len: Int) -> UInt8 { UInt8(truncatingIfNeeded: len - 1) }
        static func xzero(_ len: Int) -> [UInt8] {
            let l = len - 1
            return [UInt8(truncatingIfNeeded: (l >> 8) | 0x40), UInt8(truncatingIfNeeded: l & 0xff)]
        }
        /// A run of zero registers as the split in hllSparseSet writes it.
        static func zeros(_ len: Int) -> [UInt8] { len > zeroMaxLen ? xzero(len) : [zero(len)] }
    }

    /// The runs of a sparse body in order, as (first register, registers covered, value;
    /// 0 for ZERO/XZERO); false when the body does not cover exactly the 16384 registers.
    /// An opcode reaching past the last register makes it invalid at once: the check
    /// Redis added to all three opcodes for CVE-2025-32023 (in the 7.0.15 reference
    /// build, as in 6.2.19 and 7.2.10), where 7.0.15's source checks only VAL and breaks.
    /// An XZERO cut off by the end of the value reads the sds terminator (0) as its
    /// second byte, as C does.
    func forEachSparseRun(_ body: (_ first: Int, _ runlen: Int, _ regval: Int) -> Void) -> Bool {
        var p = Self.headerSize, idx = 0
        let end = bytes.count
        while p < end {
            let op = bytes[p]
            let runlen: Int, regval: Int
            if Sparse.isZero(op) {
                (runlen, regval) = (Sparse.zeroLen(op), 0)
                p += 1
            } else if Sparse.isXZero(op) {
                (runlen, regval) = (Sparse.xzeroLen(op, at(p + 1)), 0)
                p += 2
            } else {
                (runlen, regval) = (Sparse.valLen(op), Sparse.valValue(op))
                p += 1
            }
            if runlen + idx > Self.registerCount { return false }  // overflow
            body(idx, runlen, regval)
            idx += runlen
        }
        return idx == Self.registerCount
    }

    /// hllSparseRegHisto: false for a corrupted body.
    func sparseHistogram(_ histogram: inout [Int]) -> Bool {
        forEachSparseRun { _, runlen, regval in histogram[regval] += runlen }
    }

    /// hllSparseToDense: the header is kept (magic, unused bytes and cached
    /// cardinality), the encoding becomes dense. False, and no change, for a corrupted
    /// sparse body.
    mutating func sparseToDense() -> Bool {
        if encoding == Self.dense { return true }
        var dense = [UInt8](repeating: 0, count: Self.denseSize)
        dense.replaceSubrange(0..<Self.headerSize, with: bytes[0..<Self.headerSize])
        dense[4] = Self.dense
        let valid = dense.withUnsafeMutableBufferPointer { d in
            forEachSparseRun { first, runlen, regval in
                guard regval > 0 else { return }
                for idx in first..<first + runlen { Self.denseSet(d, Self.headerSize, idx, regval) }
            }
        }
        guard valid else { return false }
        bytes = dense
        after = 0
        return true
    }

    /// hllSparseSet: raises register `index` to `count` in place. 1 if it changed,
    /// 0 if not, -1 for a corrupted body. Promotes to dense when `count` is over 32 or
    /// the value would grow past `sparseMaxBytes` (hll-sparse-max-bytes).
    mutating func sparseSet(_ index: Int, _ count: Int, sparseMaxBytes: Int) -> Int {
        if count > Sparse.valMaxValue { return promote(index, count) }

        // Step 1: the opcode covering `index`, its first register and span, and the
        // opcode before it (-1: none).
        let sparse = Self.headerSize
        var end = bytes.count
        var p = sparse, first = 0, prev = -1, span = 0
        while p < end {
            let op = bytes[p]
            var oplen = 1
            if Sparse.isZero(op) {
                span = Sparse.zeroLen(op)
            } else if Sparse.isVal(op) {
                span = Sparse.valLen(op)
            } else {
                span = Sparse.xzeroLen(op, at(p + 1))
                oplen = 2
            }
            if index <= first + span - 1 { break }
            prev = p
            p += oplen
            first += span
        }
        if span == 0 || p >= end { return -1 }  // invalid format

        let op = bytes[p]
        let isZero = Sparse.isZero(op), isXZero = Sparse.isXZero(op)
        var next = isXZero ? p + 2 : p + 1
        if next >= end { next = -1 }
        let runlen = isZero ? Sparse.zeroLen(op) : isXZero ? Sparse.xzeroLen(op, at(p + 1)) : Sparse.valLen(op)

        // Step 2, cases A-C: no change, or a one-register opcode rewritten in place.
        var rewritten = false
        if !isZero && !isXZero {
            if Sparse.valValue(op) >= count { return 0 }           // A
            if runlen == 1 {                                          // B
                bytes[p] = Sparse.val(count, 1)
                rewritten = true
            }
        }
        if isZero && runlen == 1 {                                    // C
            bytes[p] = Sparse.val(count, 1)
            rewritten = true
        }

        if !rewritten {
            // D: split the opcode into up to three (XZERO-VAL-XZERO at worst).
            var seq: [UInt8] = []
            let last = first + span - 1
            if isZero || isXZero {
                if index != first { seq += Sparse.zeros(index - first) }
                seq.append(Sparse.val(count, 1))
                if index != last { seq += Sparse.zeros(last - index) }
            } else {
                let curval = Sparse.valValue(op)
                if index != first { seq.append(Sparse.val(curval, index - first)) }
                seq.append(Sparse.val(count, 1))
                if index != last { seq.append(Sparse.val(curval, last - index)) }
            }
            // Step 3: the new sequence replaces the old opcode.
            let oldlen = isXZero ? 2 : 1
            let deltalen = seq.count - oldlen
            if deltalen > 0 && bytes.count + deltalen > sparseMaxBytes { return promote(index, count) }
            let newLength = bytes.count + deltalen
            after = 0  // sdsIncrLen writes the terminator...
            if next >= 0 {
                bytes.replaceSubrange(p..<next, with: seq)
            } else {
                // ...then the memcpy of `seq` over the last opcode. When that opcode was
                // an XZERO cut off by the end of the value, the length (+ deltalen) ends
                // one byte short of `seq`, whose last byte lies past the end, where the
                // terminator was: the next read past the end finds it.
                bytes.replaceSubrange(p..<bytes.count, with: seq)
                if bytes.count > newLength {
                    after = bytes[newLength]
                    bytes.removeLast(bytes.count - newLength)
                }
            }
            end += deltalen
        }

        // Step 4: merge adjacent VALs of the same value, up to 5 opcodes from `prev`.
        p = prev >= 0 ? prev : sparse
        var scanlen = 5
        while p < end && scanlen > 0 {
            scanlen -= 1
            if Sparse.isXZero(bytes[p]) {
                p += 2
                continue
            } else if Sparse.isZero(bytes[p]) {
                p += 1
                continue
            }
            if p + 1 < end && Sparse.isVal(bytes[p + 1]) {
                let v1 = Sparse.valValue(bytes[p]), v2 = Sparse.valValue(bytes[p + 1])
                if v1 == v2 {
                    let len = Sparse.valLen(bytes[p]) + Sparse.valLen(bytes[p + 1])
                    if len <= Sparse.valMaxLen {
                        bytes[p + 1] = Sparse.val(v1, len)
                        bytes.remove(at: p)  // memmove, then sdsIncrLen(-1) writes a terminator
                        after = 0
                        end -= 1
                        continue  // try the merged one with the next, without moving on
                    }
                }
            }
            p += 1
        }
        invalidateCache()
        return 1
    }

    /// hllSparseSet's `promote:`: to dense, then the register is set there (always a
    /// change: a sparse register can only be below `count` when promotion is needed).
    private mutating func promote(_ index: Int, _ count: Int) -> Int {
        guard sparseToDense() else { return -1 }
        return denseSet(index, count)
    }

    /// PFDEBUG DECODE's text: "z:<len>" ZERO, "Z:<len>" XZERO, "v:<value>,<len>" VAL.
    func decodeSparse() -> String {
        var parts: [String] = []
        var p = Self.headerSize
        while p < bytes.count {
            let op = bytes[p]
            if Sparse.isZero(op) {
                parts.append("z:\(Sparse.zeroLen(op))")
                p += 1
            } else if Sparse.isXZero(op) {
                parts.append("Z:\(Sparse.xzeroLen(op, at(p + 1)))")
                p += 2
            } else {
                parts.append("v:\(Sparse.valValue(op)),\(Sparse.valLen(op))")
                p += 1
            }
        }
        return parts.joined(separator: " ")
    }
}
