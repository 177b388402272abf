import XCTest
@testable import LodeRDB

final class RDBStringTests: XCTestCase {
    private func encoded(_ string: [UInt8], compression: Bool = true) -> [UInt8] {
        var writer = RDBWriter(compression: compression)
        writer.writeString(string)
        return writer.bytes
    }

    private func readString(_ bytes: [UInt8]) throws -> [UInt8] {
        var reader = RDBReader(bytes)
        let string = try reader.readString()
        XCTAssertTrue(reader.isAtEnd, "readString left \(reader.remaining) bytes")
        return string
    }

    func testLengthEncodingsAtEveryBoundary() throws {
        let cases: [(UInt64, String)] = [
            (0, "00"), (63, "3f"), (64, "4040"), (300, "412c"), (16383, "7fff"), (16384, "8000004000"),
            (UInt64(UInt32.max), "80ffffffff"), (UInt64(UInt32.max) + 1, "810000000100000000"),
            (UInt64.max, "81ffffffffffffffff"),
        ]
        for (length, expected) in cases {
            var writer = RDBWriter()
            writer.writeLength(length)
            XCTAssertEqual(hexString(writer.bytes), expected, "length \(length)")
            var reader = RDBReader(writer.bytes)
            XCTAssertEqual(try reader.readLengthField(), RDBLengthField(value: length, isEncoded: false))
            XCTAssertTrue(reader.isAtEnd)
        }
        // Redis reads the long forms even when a shorter one would do.
        var reader = RDBReader(hex("4005" + "8000000005" + "810000000000000005"))
        for _ in 0..<3 { XCTAssertEqual(try reader.readLength(), 5) }
    }

    func testEncodingTagsAreReportedAsEncoded() throws {
        for byte in UInt8(0xc0)...UInt8(0xff) {
            var reader = RDBReader([byte])
            XCTAssertEqual(try reader.readLengthField(), RDBLengthField(value: UInt64(byte & 0x3f), isEncoded: true))
        }
    }

    func testBadOrTruncatedLengthsThrowAndConsumeNothing() {
        for byte in UInt8(0x82)...UInt8(0xbf) {
            var reader = RDBReader([byte, 0, 0, 0, 0, 0, 0, 0, 0])
            XCTAssertThrowsError(try reader.readLength()) {
                XCTAssertEqual($0 as? RDBError, .unknownLengthEncoding(offset: 0, byte: byte))
            }
            XCTAssertEqual(reader.offset, 0)
        }
        for bytes in [[], [0x40], [0x80, 1, 2, 3], [0x81, 1, 2, 3, 4, 5, 6, 7]] as [[UInt8]] {
            var reader = RDBReader(bytes)
            XCTAssertThrowsError(try reader.readLengthField()) { error in
                guard case .truncated(offset: _, needed: _)? = error as? RDBError else { return XCTFail("\(error)") }
            }
            XCTAssertEqual(reader.offset, 0)
        }
    }

    func testCanonicalIntegersAreIntegerEncodedAsRdbSaveRawString() throws {
        let cases: [(String, String)] = [
            ("0", "c000"), ("-1", "c0ff"), ("127", "c07f"), ("-128", "c080"), ("128", "c18000"), ("-129", "c17fff"),
            ("32767", "c1ff7f"), ("-32768", "c10080"), ("32768", "c200800000"), ("12345", "c13930"),
            ("2147483647", "c2ffffff7f"), ("-2147483648", "c200000080"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(hexString(encoded(Array(text.utf8))), expected, text)
            XCTAssertEqual(String(decoding: try readString(hex(expected)), as: UTF8.self), text)
        }
        // Not canonical, or outside int32: stored verbatim so they read back unchanged.
        for text in ["2147483648", "-2147483649", "007", "+1", "-0", " 1", "1 ", "", "-", "1e3", "99999999999"] {
            let bytes = Array(text.utf8)
            XCTAssertEqual(encoded(bytes), [UInt8(bytes.count)] + bytes, text)
            XCTAssertEqual(try readString(encoded(bytes)), bytes)
        }
    }

    func testWriteIntegerMatchesWriteStringOfItsDigits() {
        let values: [Int64] = [0, 1, -1, 127, 128, -128, -129, 32767, 32768, -32768, -32769, 2147483647, 2147483648,
                               -2147483648, -2147483649, .max, .min, 1_000_000_000_000]
        for value in values {
            var a = RDBWriter(), b = RDBWriter()
            a.writeInteger(value)
            b.writeString(Array(String(value).utf8))
            XCTAssertEqual(a.bytes, b.bytes, "\(value)")
        }
    }

    func testCanonicalIntegerFollowsString2ll() {
        let cases: [(String, Int64?)] = [
            ("0", 0), ("00", nil), ("-0", nil), ("10", 10), ("-10", -10), ("9223372036854775807", .max),
            ("9223372036854775808", nil), ("-9223372036854775808", .min), ("-9223372036854775809", nil),
            ("18446744073709551616", nil), ("123456789012345678901", nil), ("", nil), ("-", nil), ("1a", nil),
        ]
        for (text, expected) in cases { XCTAssertEqual(RDBWriter.canonicalInteger(Array(text.utf8)), expected, text) }
    }

    func testLongStringsAreCompressedOnlyWhenThatSavesFourBytes() throws {
        let twenty = [UInt8](repeating: 0x61, count: 20)
        XCTAssertEqual(encoded(twenty), [20] + twenty, "20 bytes or fewer are never compressed")
        let long = [UInt8](repeating: 0x61, count: 21)
        XCTAssertEqual(hexString(encoded(long)), "c30615016161e00a00", "Redis's bytes for 21 'a's")
        XCTAssertEqual(encoded(long, compression: false), [21] + long)
        var rng = SeededGenerator(seed: 5)
        let random = rng.bytes(200)
        XCTAssertEqual(encoded(random), [0x40, 0xc8] + random, "incompressible: verbatim with a 14-bit length")
        for n in [21, 22, 50, 64, 100, 1000, 20_000] {
            let value = rng.compressible(n)
            XCTAssertEqual(try readString(encoded(value)), value)
            XCTAssertEqual(try readString(encoded(value, compression: false)), value)
        }
    }

    func testReadingCorruptStringsThrowsAndConsumesNothing() {
        func check(_ bytes: [UInt8], line: UInt = #line, _ matches: (RDBError) -> Bool) {
            var reader = RDBReader(bytes)
            XCTAssertThrowsError(try reader.readString(), line: line) { error in
                XCTAssertTrue(matches(error as! RDBError), "\(error)", line: line)
            }
            XCTAssertEqual(reader.offset, 0, line: line)
        }
        check([0x05, 0x61]) { $0 == .truncated(offset: 1, needed: 4) }
        check([0x80, 0xff, 0xff, 0xff, 0xff]) { $0 == .truncated(offset: 5, needed: 4_294_967_295) }
        check([0xc4]) { $0 == .unknownStringEncoding(offset: 0, encoding: 4) }
        check([0xff]) { $0 == .unknownStringEncoding(offset: 0, encoding: 63) }
        check([0xc0]) { if case .truncated = $0 { return true } else { return false } }
        check([0xc1, 0x01]) { if case .truncated = $0 { return true } else { return false } }
        check([0xc2, 0x01, 0x02, 0x03]) { if case .truncated = $0 { return true } else { return false } }
        check([0xc3, 0x05, 0x0a, 0x00]) { if case .truncated = $0 { return true } else { return false } }
        check([0xc3, 0x02, 0x05, 0x00, 0x61]) { $0 == .corruptLZF(offset: 0, .lengthMismatch(expected: 5, actual: 1)) }
        check([0xc3, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]) {
            $0 == .lengthOverflow(offset: 0, length: .max)
        }
    }

    func testZeroLengthLzfStringIsEmptyWhateverItsData() throws {
        // lzf_decompress returns 0 on error, and Redis only compares that with the
        // stated length, so a stated length of 0 accepts any compressed bytes.
        XCTAssertEqual(try readString([0xc3, 0x02, 0x00, 0x1f, 0x61]), [])
        XCTAssertEqual(try readString([0xc3, 0x00, 0x00]), [])
    }

    func testEncodedLengthFieldsInsideLzfHeaderAreTakenAsLengths() throws {
        // rdbLoadLzfStringObject reads its two lengths with rdbLoadLen, which
        // accepts an encoding tag as a 6-bit number: c2 is 2 here.
        XCTAssertEqual(try readString([0xc3, 0xc2, 0x01, 0x00, 0x61]), [0x61])
    }

    func testReaderBasics() throws {
        var reader = RDBReader([1, 2, 3, 4], offset: 1)
        XCTAssertEqual(reader.remaining, 3)
        XCTAssertEqual(try reader.readByte(), 2)
        XCTAssertEqual(Array(try reader.readBytes(2)), [3, 4])
        XCTAssertTrue(reader.isAtEnd)
        XCTAssertThrowsError(try reader.readByte()) { XCTAssertEqual($0 as? RDBError, .truncated(offset: 4, needed: 1)) }
        XCTAssertThrowsError(try reader.readBytes(-1))
        XCTAssertEqual(RDBError.truncated(offset: 4, needed: 1).description, "RDB data truncated at offset 4 (1 more bytes needed)")
    }

    func testArbitraryBytesNeverCrashTheReader() {
        var rng = SeededGenerator(seed: 6)
        for _ in 0..<20_000 {
            var reader = RDBReader(rng.bytes(Int.random(in: 0...24, using: &rng)))
            while let _ = try? reader.readString() {}
        }
    }
}
