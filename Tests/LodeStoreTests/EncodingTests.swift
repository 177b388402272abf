import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import XCTest
@testable import LodeStore

final class EncodingTests: XCTestCase {
    func testRecordRoundTripWithAndWithoutFullKey() {
        let record = Record(type: .string, expireAt: 1_700_000_000_123, value: ByteBuffer(string: "payload\0\r\n"))
        for fullKey in [nil, ByteBuffer(repeating: 0x6B, count: 600)] as [ByteBuffer?] {
            var raw = [UInt8](repeating: 0, count: KeyEncoding.recordSize(record, fullKey: fullKey))
            raw.withUnsafeMutableBytes { KeyEncoding.writeRecord(record, fullKey: fullKey, into: $0) }
            let decoded = raw.withUnsafeBytes { KeyEncoding.decodeRecord($0, allocator: ByteBufferAllocator()) }
            XCTAssertEqual(decoded, record)
            let header = raw.withUnsafeBytes { KeyEncoding.readHeader($0) }
            XCTAssertEqual(header?.fullKeyRange?.count, fullKey?.readableBytes)
        }
    }

    func testExpiryKeysSortByTime() {
        var a: [UInt8] = [], b: [UInt8] = []
        KeyEncoding.appendExpiryKey(expireAt: 255, lmdbKey: [0, 0, 0x7A], to: &a)
        KeyEncoding.appendExpiryKey(expireAt: 256, lmdbKey: [0, 0, 0x61], to: &b)
        XCTAssertTrue(a.lexicographicallyPrecedes(b))
    }
}
