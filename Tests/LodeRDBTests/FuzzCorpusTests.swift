import Foundation
import XCTest
@testable import LodeRDB

/// The fuzzer's seed corpus (tools/fuzz/corpus-rdb, fuzzed by tools/fuzz/run) holds
/// real inputs — DUMP payloads and RDB files saved by Redis 7.0.15 and by Lode — so
/// mutations start from valid structure: every seed must decode.
final class FuzzCorpusTests: XCTestCase {
    private var corpus: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/fuzz/corpus-rdb")
    }

    func testEverySeedIsAValidInput() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        XCTAssertGreaterThan(names.count, 10)
        var files = 0, payloads = 0
        for name in names {
            let bytes = Array(try Data(contentsOf: corpus.appendingPathComponent(name)))
            if name.hasSuffix(".rdb") {
                var reader = RDBFileReader(bytes: bytes)
                var keys = 0
                var ended = false
                while let item = try reader.next() {
                    if case .key = item { keys += 1 }
                    if case .end(let checksum) = item { ended = checksum != nil }
                }
                XCTAssertTrue(ended, "\(name): ends with a checksum")
                XCTAssertGreaterThan(keys, 5, name)
                files += 1
            } else {
                XCTAssertNoThrow(try DumpPayload.decode(bytes), name)
                payloads += 1
            }
        }
        XCTAssertGreaterThanOrEqual(files, 2)
        XCTAssertGreaterThanOrEqual(payloads, 10)
    }
}
