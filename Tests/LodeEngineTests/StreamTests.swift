import NIOCore
import XCTest
@testable import LodeEngine

/// The stream pieces that need no server: ID parsing and order, the metadata
/// record's encoding, listpack sizes and the lag arithmetic.
final class StreamTests: XCTestCase {
    private func parse(_ s: String, missingSeq: UInt64 = 0, strict: Bool = false, auto: Bool = false) -> (StreamID, Bool)? {
        guard let r = try? StreamID.parse(Array(s.utf8), missingSeq: missingSeq, strict: strict, allowAutoSeq: auto) else {
            return nil
        }
        return (r.id, r.seqGiven)
    }

    func testIDParsingFollowsRedis() {
        XCTAssertEqual(parse("1-2")?.0, StreamID(ms: 1, seq: 2))
        XCTAssertEqual(parse("5", missingSeq: .max)?.0, StreamID(ms: 5, seq: .max))
        XCTAssertEqual(parse("-")?.0, .zero)
        XCTAssertEqual(parse("+")?.0, .max)
        XCTAssertNil(parse("-", strict: true))
        XCTAssertNil(parse("1-*"), "ms-* only where XADD allows it")
        XCTAssertEqual(parse("7-*", auto: true)?.1, false)
        XCTAssertEqual(parse("18446744073709551615-18446744073709551615")?.0, .max)
        XCTAssertNil(parse("18446744073709551616"))
        // string2ull: a negative number is refused, strtoull's extras are not
        XCTAssertNil(parse("-1-0"))
        XCTAssertEqual(parse("007-1")?.0, StreamID(ms: 7, seq: 1))
        XCTAssertEqual(parse("+5-1")?.0, StreamID(ms: 5, seq: 1))
        XCTAssertNil(parse("1-2-3"))
        XCTAssertNil(parse(""))
        XCTAssertNil(parse(String(repeating: "1", count: 128)))
    }

    func testOrderAndSuccessors() {
        XCTAssertLessThan(StreamID(ms: 1, seq: .max), StreamID(ms: 2, seq: 0))
        XCTAssertEqual(StreamID(ms: 1, seq: .max).incremented, StreamID(ms: 2, seq: 0))
        XCTAssertNil(StreamID.max.incremented)
        XCTAssertEqual(StreamID(ms: 2, seq: 0).decremented, StreamID(ms: 1, seq: .max))
        XCTAssertNil(StreamID.zero.decremented)
        // stored big-endian, so byte order is ID order
        let a = StreamID(ms: 255, seq: 1).bytes, b = StreamID(ms: 256, seq: 0).bytes
        XCTAssertTrue(a.lexicographicallyPrecedes(b))
        XCTAssertEqual(a.withUnsafeBytes { StreamID($0, at: 0) }, StreamID(ms: 255, seq: 1))
    }

    func testMetadataRoundTrip() {
        var m = StreamMeta(version: 42)
        m.length = 3
        m.lastID = StreamID(ms: 9, seq: 1)
        m.maxDeletedID = StreamID(ms: 4, seq: 0)
        m.firstID = StreamID(ms: 1, seq: 0)
        m.entriesAdded = 7
        m.nodeCount = 2
        var g = StreamGroup(name: Array("readers".utf8), id: 1, lastID: StreamID(ms: 5, seq: 0), entriesRead: -1)
        _ = g.addConsumer(Array("zed".utf8), now: 100)
        _ = g.addConsumer(Array("amy".utf8), now: 200)
        g.consumers[0].pelCount = 4
        g.pelCount = 4
        m.insert(g)
        m.insert(StreamGroup(name: Array("audit".utf8), id: 2, lastID: .zero, entriesRead: 0))
        let decoded = StreamMeta(m.encoded())
        XCTAssertNotNil(decoded)
        XCTAssertEqual(decoded?.groups.map { String(decoding: $0.name, as: UTF8.self) }, ["audit", "readers"], "groups in name order")
        XCTAssertEqual(decoded?.groups[1].consumers.map { String(decoding: $0.name, as: UTF8.self) }, ["amy", "zed"])
        XCTAssertEqual(decoded?.groups[1].consumers[0].pelCount, 4)
        XCTAssertEqual(decoded?.groups[1].entriesRead, -1)
        XCTAssertEqual(decoded?.lastID, m.lastID)
        XCTAssertEqual(decoded?.entriesAdded, 7)
        var truncated = m.encoded()
        truncated.moveWriterIndex(to: truncated.writerIndex - 3)
        XCTAssertNil(StreamMeta(truncated), "a damaged record is refused, not misread")
    }

    func testListpackSizesAreListpackC() {
        XCTAssertEqual(Listpack.integerSize(0), 2)
        XCTAssertEqual(Listpack.integerSize(127), 2)
        XCTAssertEqual(Listpack.integerSize(128), 3)
        XCTAssertEqual(Listpack.integerSize(-4096), 3)
        XCTAssertEqual(Listpack.integerSize(4096), 4)
        XCTAssertEqual(Listpack.integerSize(Int64.min), 10)
        XCTAssertEqual(Listpack.elementSize(Array("12".utf8)), 2, "a string that reads as an integer is stored as one")
        XCTAssertEqual(Listpack.elementSize(Array("012".utf8)), 5, "a leading zero keeps it a string")
        XCTAssertEqual(Listpack.elementSize([UInt8](repeating: 120, count: 63)), 65)
        XCTAssertEqual(Listpack.elementSize([UInt8](repeating: 120, count: 64)), 67, "a 12-bit length: two bytes")
        XCTAssertEqual(Listpack.elementSize([UInt8](repeating: 120, count: 126)), 130, "2 + 126 = 128 bytes need a two-byte backlen")
        // a node of one entry {a: v}: header and end (7), the master entry (field count,
        // "a" as 1+1+1 bytes, terminator), the entry (flags, two ID deltas, "v", its
        // element count) and the two counters
        var node = StreamNode(master: StreamID(ms: 1, seq: 0), fields: [Array("a".utf8)])
        node.append(StreamID(ms: 1, seq: 0), fields: [Array("a".utf8)[...]], values: [Array("v".utf8)[...]])
        XCTAssertEqual(node.listpackBytes, 7 + (2 + 3 + 2) + (2 + 2 + 2 + 3 + 2) + (2 + 2))
        node.append(StreamID(ms: 3, seq: 5), fields: [Array("b".utf8)[...]], values: [Array("1".utf8)[...]])
        XCTAssertEqual(node.listpackBytes, 29 + (2 + 2 + 2) + (2 + 3) + 2 + 2, "other fields are written out, \"1\" as an integer")
        XCTAssertEqual(node.valid, 2)
        XCTAssertEqual(node.lastID, StreamID(ms: 3, seq: 5))
    }

    func testEntriesReadEstimate() {
        var m = StreamMeta(version: 1)
        XCTAssertEqual(m.estimateDistanceFromFirstEverEntry(StreamID(ms: 5, seq: 0)), 0, "never used")
        m.entriesAdded = 10
        m.length = 4
        m.firstID = StreamID(ms: 7, seq: 0)
        m.lastID = StreamID(ms: 10, seq: 0)
        XCTAssertEqual(m.estimateDistanceFromFirstEverEntry(m.lastID), 10)
        XCTAssertEqual(m.estimateDistanceFromFirstEverEntry(StreamID(ms: 11, seq: 0)), -1, "the future is unknown")
        XCTAssertEqual(m.estimateDistanceFromFirstEverEntry(StreamID(ms: 3, seq: 0)), 6)
        XCTAssertEqual(m.estimateDistanceFromFirstEverEntry(m.firstID), 7)
        m.maxDeletedID = StreamID(ms: 8, seq: 0)
        XCTAssertEqual(m.estimateDistanceFromFirstEverEntry(StreamID(ms: 3, seq: 0)), -1, "a tombstone ahead")
        XCTAssertTrue(m.rangeHasTombstones(from: StreamID(ms: 8, seq: 0)))
        XCTAssertFalse(m.rangeHasTombstones(from: StreamID(ms: 9, seq: 0)))
    }
}
