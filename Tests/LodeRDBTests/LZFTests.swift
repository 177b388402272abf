import XCTest
@testable import LodeRDB

final class LZFTests: XCTestCase {
    private func assertRoundTrip(_ input: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        guard let compressed = LZF.compress(input) else {
            return XCTFail("compress failed for \(input.count) bytes", file: file, line: line)
        }
        XCTAssertLessThanOrEqual(compressed.count, LZF.maxCompressedCount(input.count), file: file, line: line)
        XCTAssertEqual(try LZF.decompress(compressed, count: input.count), input, file: file, line: line)
    }

    func testRoundTripsEdgeSizesAndPatterns() {
        var rng = SeededGenerator(seed: 1)
        for n in 0...300 {
            assertRoundTrip([UInt8](repeating: 0, count: n))
            assertRoundTrip((0..<n).map { UInt8($0 % 7) })
            assertRoundTrip(rng.bytes(n))
            assertRoundTrip(rng.compressible(n))
        }
    }

    func testRoundTripsLargeInputsAcrossTheOffsetWindow() {
        // Back references reach 8,192 bytes: repeat blocks just inside and outside it.
        var rng = SeededGenerator(seed: 2)
        for blockSize in [100, 8190, 8191, 8192, 8193, 9000] {
            let block = rng.bytes(blockSize)
            assertRoundTrip(block + block + block)
        }
        assertRoundTrip(rng.compressible(200_000))
        assertRoundTrip(rng.bytes(70_000))
        assertRoundTrip([UInt8](repeating: 0x61, count: 100_000))
    }

    func testCompressesRepetitiveData() throws {
        let input = [UInt8](repeating: 0x61, count: 10_000)
        let compressed = try XCTUnwrap(LZF.compress(input))
        XCTAssertLessThan(compressed.count, 10_000 / 80)
    }

    func testLimitMakesCompressionFailAsLzfCompressReturningZero() {
        var rng = SeededGenerator(seed: 3)
        let random = rng.bytes(500)
        XCTAssertNil(LZF.compress(random, limit: random.count - 4), "random data does not shrink by 4 bytes")
        XCTAssertNil(LZF.compress([1, 2, 3], limit: 0))
        let repetitive = [UInt8](repeating: 7, count: 500)
        let exact = LZF.compress(repetitive)!
        XCTAssertEqual(LZF.compress(repetitive, limit: 496), exact, "a limit that is not reached does not change the output")
        XCTAssertEqual(LZF.compress([]), [])
    }

    func testCompressionMatchesRedisBytes() {
        // The LZF data inside Redis's DUMP of a 200-byte string ("abcdefghij" x 20):
        // 00 (string) c3 (LZF) 12 (18 compressed bytes) 40c8 (200 bytes) then the data.
        let dump = hex(RedisFixtures.stringDumps.first { $0.name == "comp200" }!.dump)
        XCTAssertEqual(Array(dump[0..<5]), [0x00, 0xc3, 0x12, 0x40, 0xc8])
        let redisData = Array(dump[5..<(5 + 18)])
        let value = Array(repeating: Array("abcdefghij".utf8), count: 20).flatMap { $0 }
        XCTAssertEqual(LZF.compress(value, limit: value.count - 4).map(hexString), hexString(redisData))
        XCTAssertEqual(try LZF.decompress(redisData, count: 200), value)
    }

    func testDecompressesRedisCompressedLibrary() throws {
        // FUNCTION DUMP of the long library: f5, c3, compressed length 40a6 (166), length 4493 (1171).
        let dump = hex(RedisFixtures.bigDump)
        XCTAssertEqual(Array(dump[0..<6]), [0xf5, 0xc3, 0x40, 0xa6, 0x44, 0x93])
        let data = Array(dump[6..<(6 + 166)])
        XCTAssertEqual(try LZF.decompress(data, count: 1171), hex(RedisFixtures.bigCode))
        XCTAssertEqual(LZF.compress(hex(RedisFixtures.bigCode), limit: 1171 - 4), data)
    }

    func testCorruptInputThrowsTheErrorLzfDetects() {
        func check(_ input: [UInt8], count: Int, _ expected: LZFError, line: UInt = #line) {
            XCTAssertThrowsError(try LZF.decompress(input, count: count), line: line) {
                XCTAssertEqual($0 as? LZFError, expected, line: line)
            }
        }
        check([0x05, 0x61, 0x62], count: 10, .truncatedInput(inputOffset: 0))            // 6-byte literal, 2 present
        check([0x00, 0x61, 0x01, 0x61, 0x62], count: 2, .outputOverflow(inputOffset: 2)) // 3 bytes into 2
        check([0x20], count: 5, .truncatedInput(inputOffset: 0))                         // back reference without offset
        check([0x00, 0x61, 0xe0, 0x05], count: 50, .truncatedInput(inputOffset: 2))      // long reference without offset
        check([0x20, 0x00], count: 5, .backReferenceOutOfRange(inputOffset: 0))          // reference before the start
        check([0x00, 0x61, 0x20, 0x01], count: 5, .backReferenceOutOfRange(inputOffset: 2))
        check([0x00, 0x61, 0x20, 0x00], count: 2, .outputOverflow(inputOffset: 2))      // reference past the stated length
        check([0x00, 0x61], count: 2, .lengthMismatch(expected: 2, actual: 1))
        check([0x00, 0x61], count: Int.max / 2, .lengthMismatch(expected: Int.max / 2, actual: 1))  // no huge allocation
        check([], count: 1, .lengthMismatch(expected: 1, actual: 0))
        XCTAssertEqual(try LZF.decompress([], count: 0), [])
        // An overlapping reference (offset 1) repeats the last byte: "a" then 8 more.
        XCTAssertEqual(try LZF.decompress([0x00, 0x61, 0xc0, 0x00], count: 9), [UInt8](repeating: 0x61, count: 9))
    }

    func testArbitraryInputNeverCrashes() {
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<20_000 {
            let input = rng.bytes(Int.random(in: 0...40, using: &rng))
            _ = try? LZF.decompress(input, count: Int.random(in: 0...300, using: &rng))
        }
        // Valid data with one byte changed or the tail cut off.
        let value = rng.compressible(2_000)
        let compressed = LZF.compress(value)!
        for i in 0..<compressed.count {
            var mutated = compressed
            mutated[i] ^= UInt8.random(in: 1...255, using: &rng)
            _ = try? LZF.decompress(mutated, count: value.count)
            XCTAssertThrowsError(try LZF.decompress(Array(compressed[0..<i]), count: value.count))
        }
    }
}
