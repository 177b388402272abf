import XCTest
@testable import LodeRDB

final class CRC64Tests: XCTestCase {
    func testRedisCheckValue() {
        // Redis's crc64.c self-test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
        XCTAssertEqual(CRC64.checksum(Array("123456789".utf8)), 0xe9c6_d914_c4b8_d9ca)
        let whole = CRC64.checksum(Array("hello world".utf8))
        XCTAssertEqual(CRC64.checksum(Array(" world".utf8), continuing: CRC64.checksum(Array("hello".utf8))), whole)
    }
}
