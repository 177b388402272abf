import XCTest
@testable import LodeRDB

final class DumpPayloadTests: XCTestCase {
    func testSealingStringValuesMatchesRedisDump() throws {
        // DUMP k after SET k <value> on Redis 7.0.15: integer-encoded, verbatim,
        // 14-bit length, LZF-compressed (21 and 200 bytes) and empty values.
        XCTAssertEqual(RedisFixtures.stringDumps.count, 11)
        for fixture in RedisFixtures.stringDumps {
            let value = hex(fixture.value), dump = hex(fixture.dump)
            XCTAssertEqual(hexString(DumpPayload.sealString(value)), fixture.dump, fixture.name)
            XCTAssertEqual(try DumpPayload.verify(dump), 10, fixture.name)
            var reader = RDBReader(dump)
            XCTAssertEqual(try reader.readByte(), RDB.typeString)
            XCTAssertEqual(try reader.readString(), value, fixture.name)
            XCTAssertEqual(reader.remaining, DumpPayload.footerCount, fixture.name)
        }
    }

    func testSealLaysOutVersionAndChecksumLittleEndian() {
        let body: [UInt8] = [0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]
        let sealed = DumpPayload.seal(body)
        XCTAssertEqual(Array(sealed[0..<7]), body)
        XCTAssertEqual(Array(sealed[7..<9]), [0x0a, 0x00])
        let crc = CRC64.checksum(sealed[0..<9])
        XCTAssertEqual(Array(sealed[9...]), (0..<8).map { UInt8(truncatingIfNeeded: crc >> ($0 * 8)) })
        XCTAssertEqual(hexString(DumpPayload.seal([])), RedisFixtures.emptyDump, "FUNCTION DUMP with no libraries")
        XCTAssertEqual(Array(DumpPayload.seal([], version: 0x0102)[0..<2]), [0x02, 0x01])
    }

    func testVerifyRejectsAsVerifyDumpPayload() {
        func rejects(_ payload: [UInt8], _ expected: DumpPayloadError, line: UInt = #line) {
            XCTAssertThrowsError(try DumpPayload.verify(payload), line: line) {
                XCTAssertEqual($0 as? DumpPayloadError, expected, line: line)
            }
        }
        for n in 0..<10 { rejects([UInt8](repeating: 0x0a, count: n), .tooShort(count: n)) }
        rejects(DumpPayload.seal([0xf5], version: 11), .unsupportedVersion(11))
        rejects(DumpPayload.seal([], version: .max), .unsupportedVersion(.max))
        for version: UInt16 in [0, 1, 9, 10] {
            XCTAssertEqual(try DumpPayload.verify(DumpPayload.seal([1, 2], version: version)), version)
        }

        let good = DumpPayload.sealString(Array("hello".utf8))
        for i in good.indices {
            var bad = good
            bad[i] ^= 0x01
            XCTAssertThrowsError(try DumpPayload.verify(bad), "byte \(i) flipped") { error in
                XCTAssertEqual((error as? DumpPayloadError)?.redisMessage, "ERR DUMP payload version or checksum are wrong")
            }
        }
        var bad = good
        bad[bad.count - 1] ^= 0x80
        XCTAssertThrowsError(try DumpPayload.verify(bad)) { error in
            guard case .checksumMismatch(let stored, let computed)? = error as? DumpPayloadError else { return XCTFail("\(error)") }
            XCTAssertEqual(stored ^ computed, 0x80 << 56)
        }
        XCTAssertEqual(try DumpPayload.verify(bad, skipChecksum: true), 10, "DEBUG SET-SKIP-CHECKSUM-VALIDATION 1")
        rejects(DumpPayload.seal([], version: 11), .unsupportedVersion(11))
        XCTAssertThrowsError(try DumpPayload.verify(DumpPayload.seal([], version: 11), skipChecksum: true), "version still checked")
    }

    func testSealStringWithoutCompressionStoresVerbatim() {
        let value = [UInt8](repeating: 0x61, count: 100)
        XCTAssertEqual(DumpPayload.sealString(value, compression: false), DumpPayload.seal([0x00, 0x40, 100] + value))
    }
}
