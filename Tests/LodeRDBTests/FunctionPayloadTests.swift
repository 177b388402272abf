import XCTest
@testable import LodeRDB

final class FunctionPayloadTests: XCTestCase {
    private let code = Array("#!lua name=x\nredis.register_function('f', function() return 1 end)".utf8)

    /// A record body as a test builds it: opcode then items, each a short RDB string.
    private func short(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        precondition(bytes.count < 64)
        return [UInt8(bytes.count)] + bytes
    }

    /// `bytes` as a verbatim RDB string: its length, then the bytes.
    private func raw(_ bytes: [UInt8]) -> [UInt8] {
        var writer = RDBWriter()
        writer.writeLength(UInt64(bytes.count))
        return writer.bytes + bytes
    }

    private func assertRejected(
        _ payload: [UInt8], _ message: String, line: UInt = #line, _ check: (FunctionPayloadError) -> Bool = { _ in true }
    ) {
        XCTAssertThrowsError(try FunctionPayload.decode(payload), line: line) { error in
            guard let error = error as? FunctionPayloadError else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(error.redisMessage, message, line: line)
            XCTAssertTrue(check(error), "\(error)", line: line)
        }
    }

    func testDecodesRedisFunctionDumps() throws {
        let lib1 = hex(RedisFixtures.lib1Code), big = hex(RedisFixtures.bigCode), tiny = hex(RedisFixtures.tinyCode)
        XCTAssertEqual(try FunctionPayload.decode(hex(RedisFixtures.lib1Dump)), [lib1])
        XCTAssertEqual(try FunctionPayload.decode(hex(RedisFixtures.bigDump)), [big])
        XCTAssertEqual(try FunctionPayload.decode(hex(RedisFixtures.tinyDump)), [tiny])
        XCTAssertEqual(try FunctionPayload.decode(hex(RedisFixtures.allDump)), [lib1, big, tiny])
        XCTAssertEqual(try FunctionPayload.decode(hex(RedisFixtures.emptyDump)), [])
        XCTAssertEqual(String(decoding: lib1, as: UTF8.self),
                       "#!lua name=lib1\n redis.register_function('f1', function() return 1 end)")
    }

    func testEncodingReproducesRedisFunctionDumpsByteForByte() {
        let lib1 = hex(RedisFixtures.lib1Code), big = hex(RedisFixtures.bigCode), tiny = hex(RedisFixtures.tinyCode)
        XCTAssertEqual(hexString(FunctionPayload.encode([lib1])), RedisFixtures.lib1Dump)
        XCTAssertEqual(hexString(FunctionPayload.encode([tiny])), RedisFixtures.tinyDump)
        XCTAssertEqual(hexString(FunctionPayload.encode([big])), RedisFixtures.bigDump, "LZF output matches lzf_c.c's")
        XCTAssertEqual(hexString(FunctionPayload.encode([lib1, big, tiny])), RedisFixtures.allDump)
        XCTAssertEqual(hexString(FunctionPayload.encode([])), RedisFixtures.emptyDump)
        let uncompressed = FunctionPayload.encode([big], compression: false)
        XCTAssertEqual(Array(uncompressed[0..<3]), [0xf5, 0x44, 0x93])
        XCTAssertEqual(try FunctionPayload.decode(uncompressed), [big])
    }

    func testRoundTripsArbitraryLibraries() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let libraries = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                Bool.random(using: &rng) ? rng.compressible(Int.random(in: 0...3000, using: &rng))
                                         : rng.bytes(Int.random(in: 0...100, using: &rng))
            }
            // Canonical-integer codes would read back the same too; no need to avoid them.
            XCTAssertEqual(try FunctionPayload.decode(FunctionPayload.encode(libraries)), libraries)
        }
    }

    // The cases below were each sent to Redis 7.0.15 as FUNCTION RESTORE; the
    // expected messages and results are what it replied.

    func testEnvelopeErrors() {
        let message = "ERR DUMP payload version or checksum are wrong"
        assertRejected([0x0a, 0x00] + [UInt8](repeating: 0, count: 7), message) { $0 == .invalidEnvelope(.tooShort(count: 9)) }
        assertRejected(DumpPayload.seal([0xf5] + short("x"), version: 11), message) { $0 == .invalidEnvelope(.unsupportedVersion(11)) }
        var bad = DumpPayload.seal([0xf5] + raw(code))
        bad[bad.count - 1] ^= 1
        assertRejected(bad, message)
        XCTAssertEqual(try FunctionPayload.decode(bad, skipChecksum: true), [code])
        for version: UInt16 in [0, 9] {
            XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal([0xf5] + raw(code), version: version)), [code])
        }
    }

    func testRecordErrors() {
        assertRejected(DumpPayload.seal([0x00] + short("x")), "ERR given type is not a function") {
            $0 == .notAFunction(offset: 0, type: 0)
        }
        assertRejected(DumpPayload.seal([0xf5] + short("ok") + [0xf7]), "ERR given type is not a function") {
            $0 == .notAFunction(offset: 4, type: 0xf7)
        }
        let failed = "ERR Failed loading library payload"
        assertRejected(DumpPayload.seal([0xf5, 0x7f, 0xff]), failed)  // a 16,383-byte string, 10 bytes present
        assertRejected(DumpPayload.seal([0xf5, 0xc4]), failed) {
            $0 == .failedLoading(.libraryPayload, .unknownStringEncoding(offset: 1, encoding: 4))
        }
        assertRejected(DumpPayload.seal([0xf5, 0x82]), failed) {
            $0 == .failedLoading(.libraryPayload, .unknownLengthEncoding(offset: 1, byte: 0x82))
        }
        assertRejected(DumpPayload.seal([0xf5, 0xc3, 0x02, 0x05, 0x00, 0x61]), failed)
    }

    func testStringsAreReadOnIntoTheFooterAsRedisDoes() throws {
        // The code's last byte is left out of the body: its stated length takes the
        // footer's first byte (the version's low byte, 0x0a, "\n") instead. Redis
        // 7.0.15 loaded this library with a trailing newline.
        let withNewline = code + [0x0a]
        let payload = DumpPayload.seal([0xf5] + raw(withNewline).dropLast())
        XCTAssertEqual(try FunctionPayload.decode(payload), [withNewline])
    }

    func testOldReleaseCandidateRecords() throws {
        let blob = "redis.register_function('g', function() return 2 end)"
        let expected = Array("#!lua name=oldlib\n\(blob)".utf8)
        let plain = [0xf6] + short("oldlib") + short("lua") + [0x00] + short(blob)
        XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal(plain)), [expected])
        let described = [0xf6] + short("oldlib") + short("lua") + [0x01] + short("a description") + short(blob)
        XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal(described)), [expected], "the description is dropped")
        // The description flag is read with rdbLoadLen, so an encoding tag (c0) counts as 0.
        let tagged = [0xf6] + short("oldlib") + short("lua") + [0xc0] + short(blob)
        XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal(tagged)), [expected])
        // sdscatfmt's %s stops at a NUL: Redis named this library "oldlib".
        let nul = [0xf6] + short("oldlib\0zz") + short("lua") + [0x00] + short(blob)
        XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal(nul)), [expected])
        // With a 7.0 GA record after it, both load in order.
        let mixed = [0xf6] + short("oldlib") + short("lua") + [0x00] + short(blob) + [0xf5] + raw(code)
        XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal(mixed)), [expected, code])
    }

    func testOldRecordErrorsNameTheItem() {
        // A lone f6: the name's length is read from the footer (0x0a = 10 bytes, 9 left).
        assertRejected(DumpPayload.seal([0xf6]), "ERR Failed loading library name")
        assertRejected(DumpPayload.seal([0xf6] + short("oldlib")), "ERR Failed loading engine name")
        assertRejected(DumpPayload.seal([0xf6] + short("oldlib") + short("lua") + [0x82]),
                       "ERR Failed loading library description indicator")
        assertRejected(DumpPayload.seal([0xf6] + short("oldlib") + short("lua") + [0x01, 0xc4]), "ERR Failed loading library description")
        assertRejected(DumpPayload.seal([0xf6] + short("oldlib") + short("lua") + [0x00, 0x3f]), "ERR Failed loading library blob")
    }

    func testPayloadsRedisAcceptsHereAndRejectsLaterWhenCreatingTheLibrary() throws {
        // Redis answered "ERR Missing library metadata" (from compiling the code) and
        // "ERR Library 'x' already exists": the payload itself is well formed.
        XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal([0xf5, 0xc0, 0x05])), [Array("5".utf8)])
        XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal([0xf5, 0xc3, 0x00, 0x00])), [[]])
        let twice = [0xf5] + raw(code) + [0xf5] + raw(code)
        XCTAssertEqual(try FunctionPayload.decode(DumpPayload.seal(twice)), [code, code])
    }

    func testArbitraryPayloadsNeverCrash() {
        var rng = SeededGenerator(seed: 8)
        for _ in 0..<5_000 {
            let body = [[0xf5, 0xf6].randomElement(using: &rng)!] + rng.bytes(Int.random(in: 0...30, using: &rng))
            _ = try? FunctionPayload.decode(DumpPayload.seal(body))
        }
    }
}
