import XCTest
@testable import LodeEngine

/// The HyperLogLog representation on its own: the bytes, registers and counts are
/// checked against values taken from a real redis-server 7.0.15 (the differential
/// test, Tests/python/test_differential_hll.py, compares whole servers).
final class HyperLogLogTests: XCTestCase {
    typealias HLL = HyperLogLog

    func add(_ hll: inout HLL, _ elements: [String], maxBytes: Int = 3000) -> [Int] {
        elements.map { e in Array(e.utf8).withUnsafeBytes { hll.add($0, sparseMaxBytes: maxBytes) } }
    }

    /// PFCOUNT's path: a fresh count stored in the header.
    func count(_ hll: inout HLL) -> UInt64 {
        var invalid = false
        let card = hll.count(invalid: &invalid)
        XCTAssertFalse(invalid)
        hll.setCachedCardinality(card)
        return card
    }

    func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    func header(_ encoding: UInt8) -> [UInt8] { Array("HYLL".utf8) + [encoding, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0x80] }

    func testEmptyValueIsRedisCreateHLLObject() {
        var hll = HLL()
        XCTAssertEqual(hll.bytes, Array("HYLL".utf8) + [1] + [UInt8](repeating: 0, count: 11) + [0x7f, 0xff])
        XCTAssertEqual(hll.cachedCardinality, 0, "a new value's cache is valid")
        XCTAssertEqual(hll.decodeSparse(), "Z:16384")
        hll.invalidateCache()
        XCTAssertNil(hll.cachedCardinality)
        XCTAssertEqual(count(&hll), 0)
    }

    func testThreeElementsGiveRedisBytes() {
        // redis-cli PFADD x a; PFADD x b; PFADD x c; PFDEBUG DECODE x; GET x
        var hll = HLL()
        XCTAssertEqual(add(&hll, ["a"]), [1])
        XCTAssertEqual(hll.decodeSparse(), "Z:12711 v:2,1 Z:3672")
        XCTAssertEqual(add(&hll, ["b"]), [1])
        XCTAssertEqual(hll.decodeSparse(), "Z:12711 v:2,1 Z:3068 v:1,1 Z:603")
        XCTAssertEqual(add(&hll, ["c", "a", "b"]), [1, 0, 0])
        XCTAssertEqual(hll.decodeSparse(), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603")
        XCTAssertEqual(hll.bytes, header(1) + [0x60, 0xf3, 0x80, 0x50, 0xb1, 0x84, 0x4b, 0xfb, 0x80, 0x42, 0x5a])
        XCTAssertEqual(count(&hll), 3)
        XCTAssertEqual(Array(hll.bytes[8..<16]), [3, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(hll.cachedCardinality, 3)
    }

    func testKnownCardinalitiesAndValues() {
        // Elements "0", "1", ... added in one PFADD, then PFCOUNT; GET's length and FNV-1a.
        let expected: [(n: Int, card: UInt64, encoding: UInt8, length: Int, fnv: UInt64)] = [
            (100, 100, HLL.sparse, 287, 0x4fde_7aaa_024c_e2e8),
            (1000, 1001, HLL.sparse, 1923, 0x5149_0756_a435_4f02),
            (10000, 9987, HLL.dense, 12304, 0x99d4_9421_db1c_95c2),
        ]
        for e in expected {
            var hll = HLL()
            _ = add(&hll, (0..<e.n).map(String.init))
            hll.invalidateCache()
            XCTAssertEqual(count(&hll), e.card, "\(e.n)")
            XCTAssertEqual(hll.encoding, e.encoding, "\(e.n)")
            XCTAssertEqual(hll.bytes.count, e.length, "\(e.n)")
            XCTAssertEqual(fnv1a(hll.bytes), e.fnv, "\(e.n)")
        }
    }

    func testMillionElementsCountAsRedis() {
        var hll = HLL()
        for i in 0..<1_000_000 {
            _ = Array("el:\(i)".utf8).withUnsafeBytes { hll.add($0, sparseMaxBytes: 3000) }
        }
        XCTAssertEqual(count(&hll), 995_821)
    }

    func testDenseRegistersRoundTrip() {
        var hll = HLL(bytes: header(HLL.dense) + [UInt8](repeating: 0, count: HLL.denseSize - HLL.headerSize))
        var expected = [Int](repeating: 0, count: HLL.registerCount)
        var x: UInt64 = 0x1234_5678
        for i in 0..<HLL.registerCount {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            expected[i] = Int(x >> 58)
        }
        // Set in a scattered order, so a write that spilled into a neighbour would show.
        let all = Array(0..<HLL.registerCount)
        let first: [Int] = all.filter { $0 % 7 == 0 }, second: [Int] = all.filter { $0 % 7 == 3 }
        let rest: [Int] = all.filter { $0 % 7 != 0 && $0 % 7 != 3 }
        for i in first + second + rest {
            hll.bytes.withUnsafeMutableBufferPointer { HLL.denseSet($0, HLL.headerSize, i, expected[i]) }
        }
        XCTAssertEqual((0..<HLL.registerCount).map { hll.register($0) }, expected)
        XCTAssertEqual(hll.bytes.count, HLL.denseSize)
        // hllDenseSet only raises.
        let r0 = hll.register(0)
        XCTAssertEqual(hll.denseSet(0, r0), 0)
        if r0 < 63 { XCTAssertEqual(hll.denseSet(0, r0 + 1), 1) }
        XCTAssertEqual(hll.register(1), expected[1])
    }

    func testSparseToDenseKeepsRegistersHeaderAndCount() {
        var sparse = HLL()
        _ = add(&sparse, (0..<500).map { "s\($0)" })
        XCTAssertEqual(sparse.encoding, HLL.sparse)
        var invalid = false
        let card = sparse.count(invalid: &invalid)
        var registers = [UInt8](repeating: 0, count: HLL.registerCount)
        XCTAssertTrue(sparse.merge(into: &registers))
        var dense = sparse
        XCTAssertTrue(dense.sparseToDense())
        XCTAssertEqual(dense.encoding, HLL.dense)
        XCTAssertEqual(dense.bytes.count, HLL.denseSize)
        XCTAssertEqual(Array(dense.bytes[0..<4]), Array(sparse.bytes[0..<4]))
        XCTAssertEqual(Array(dense.bytes[5..<16]), Array(sparse.bytes[5..<16]), "unused bytes and cache copied")
        XCTAssertEqual((0..<HLL.registerCount).map { UInt8(dense.register($0)) }, registers)
        XCTAssertEqual(dense.count(invalid: &invalid), card)
        XCTAssertEqual(HLL.count(raw: registers), card)
        XCTAssertFalse(invalid)
        XCTAssertTrue(dense.sparseToDense(), "already dense: nothing to do")
    }

    func testSparseSetSplitsAndMergesAsRedis() {
        var hll = HLL()
        XCTAssertEqual(hll.sparseSet(100, 3, sparseMaxBytes: 3000), 1)  // XZERO split: XZERO VAL XZERO
        XCTAssertEqual(hll.decodeSparse(), "Z:100 v:3,1 Z:16283")
        XCTAssertEqual(hll.sparseSet(101, 3, sparseMaxBytes: 3000), 1)  // split then merged with its neighbour
        XCTAssertEqual(hll.decodeSparse(), "Z:100 v:3,2 Z:16282")
        XCTAssertEqual(hll.sparseSet(100, 2, sparseMaxBytes: 3000), 0)  // case A: already higher
        XCTAssertEqual(hll.sparseSet(100, 5, sparseMaxBytes: 3000), 1)  // VAL split
        XCTAssertEqual(hll.decodeSparse(), "Z:100 v:5,1 v:3,1 Z:16282")
        XCTAssertEqual(hll.sparseSet(102, 1, sparseMaxBytes: 3000), 1)
        XCTAssertEqual(hll.decodeSparse(), "Z:100 v:5,1 v:3,1 v:1,1 Z:16281")
        XCTAssertEqual(hll.sparseSet(0, 1, sparseMaxBytes: 3000), 1)
        XCTAssertEqual(hll.sparseSet(2, 1, sparseMaxBytes: 3000), 1)  // a zero run of up to 64 is a ZERO
        XCTAssertEqual(hll.decodeSparse(), "v:1,1 z:1 v:1,1 Z:97 v:5,1 v:3,1 v:1,1 Z:16281")
        XCTAssertEqual(hll.sparseSet(1, 1, sparseMaxBytes: 3000), 1)  // case C, then three VALs merge
        XCTAssertEqual(hll.decodeSparse(), "v:1,3 Z:97 v:5,1 v:3,1 v:1,1 Z:16281")
        XCTAssertNil(hll.cachedCardinality, "a change invalidates the cache")

        // Runs Redis would have merged stay as they are: only the neighbourhood of the
        // change (from the opcode before it) is merged.
        var unmerged = HLL(bytes: header(HLL.sparse) + [0x88, 0x88, 0x89, 0x90] + [0x40 | 0x3f, 0xfa])
        XCTAssertEqual(unmerged.decodeSparse(), "v:3,1 v:3,1 v:3,2 v:5,1 Z:16379")
        XCTAssertEqual(unmerged.sparseSet(4, 6, sparseMaxBytes: 3000), 1)
        XCTAssertEqual(unmerged.decodeSparse(), "v:3,1 v:3,1 v:3,2 v:6,1 Z:16379")
        XCTAssertEqual(unmerged.sparseSet(2, 4, sparseMaxBytes: 3000), 1)
        XCTAssertEqual(unmerged.decodeSparse(), "v:3,1 v:3,1 v:4,1 v:3,1 v:6,1 Z:16379")
    }

    func testPromotionToDense() {
        var big = HLL()
        XCTAssertEqual(big.sparseSet(7, 33, sparseMaxBytes: 3000), 1, "over 32: not representable sparse")
        XCTAssertEqual(big.encoding, HLL.dense)
        XCTAssertEqual(big.register(7), 33)

        var small = HLL()
        XCTAssertEqual(small.sparseSet(7, 2, sparseMaxBytes: 19), 1, "ZERO VAL XZERO: 18 bytes + 2 would pass 19")
        XCTAssertEqual(small.encoding, HLL.dense)
        var fits = HLL()
        XCTAssertEqual(fits.sparseSet(7, 2, sparseMaxBytes: 20), 1)
        XCTAssertEqual(fits.encoding, HLL.sparse)
        XCTAssertEqual(fits.bytes.count, 20)
    }

    func testCorruptedSparseValues() {
        var headerOnly = HLL(bytes: header(HLL.sparse))
        var invalid = false
        _ = headerOnly.count(invalid: &invalid)
        XCTAssertTrue(invalid)
        XCTAssertEqual(add(&headerOnly, ["a"]), [-1])
        var max = [UInt8](repeating: 0, count: HLL.registerCount)
        XCTAssertFalse(headerOnly.merge(into: &max))
        XCTAssertFalse(headerOnly.sparseToDense())
        XCTAssertEqual(headerOnly.encoding, HLL.sparse, "no change when corrupted")

        // A VAL past the last register: invalid everywhere (the CVE-2025-32023 check).
        var trailing = HLL(bytes: header(HLL.sparse) + [0x7f, 0xff, 0x88])
        invalid = false
        _ = trailing.count(invalid: &invalid)
        XCTAssertTrue(invalid)
        XCTAssertFalse(trailing.merge(into: &max))
        XCTAssertFalse(trailing.sparseToDense())

        // Half an XZERO at the end reads C's terminator: 255 + 16129 registers, valid.
        var cut = HLL(bytes: header(HLL.sparse) + [0x40, 0xfe, 0x7f])
        invalid = false
        XCTAssertEqual(cut.count(invalid: &invalid), 0)
        XCTAssertFalse(invalid)
        XCTAssertEqual(cut.decodeSparse(), "Z:255 Z:16129")
        // Its split leaves one byte fewer than written: the last lies past the end.
        XCTAssertEqual(cut.sparseSet(1000, 2, sparseMaxBytes: 3000), 1)
        XCTAssertEqual(cut.bytes, header(HLL.sparse) + [0x40, 0xfe, 0x42, 0xe8, 0x84, 0x7c])
        XCTAssertEqual(cut.after, 0x16)
        XCTAssertEqual(cut.decodeSparse(), "Z:255 Z:745 v:2,1 Z:15383")
    }

    func testHeaderValidation() {
        func valid(_ b: [UInt8]) -> Bool { b.withUnsafeBytes { HLL.isValid($0) } }
        XCTAssertTrue(valid(HLL().bytes))
        XCTAssertTrue(valid(header(HLL.sparse)))
        XCTAssertFalse(valid(Array(header(HLL.sparse).prefix(15))))
        XCTAssertFalse(valid(Array("HYLX".utf8) + header(1).dropFirst(4)))
        XCTAssertFalse(valid(header(2) + [0x7f, 0xff]))
        XCTAssertFalse(valid(header(HLL.dense) + [0, 0]))
        XCTAssertTrue(valid(header(HLL.dense) + [UInt8](repeating: 0, count: HLL.denseSize - HLL.headerSize)))
    }

    func testEstimatorEdgesAsCConverts() {
        func dense(_ value: Int) -> HLL {
            var hll = HLL(bytes: header(HLL.dense) + [UInt8](repeating: 0, count: HLL.denseSize - HLL.headerSize))
            for i in 0..<HLL.registerCount { _ = hll.denseSet(i, value) }
            return hll
        }
        var invalid = false
        // Values from redis-server 7.0.15 (PFCOUNT of the same crafted strings).
        XCTAssertEqual(dense(1).count(invalid: &invalid), 23637)
        XCTAssertEqual(dense(40).count(invalid: &invalid), 12_994_641_697_113_596)
        for v in [50, 51, 63] {
            XCTAssertEqual(Int64(bitPattern: dense(v).count(invalid: &invalid)), Int64.min, "registers at \(v)")
        }
        XCTAssertEqual(HLL.sigma(1), .infinity)
        XCTAssertEqual(HLL.tau(0), 0)
        XCTAssertEqual(HLL.tau(1), 0)
    }
}
