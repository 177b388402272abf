import Foundation
import NIOCore
import XCTest
@testable import LodeStore

/// Strings longer than one chunk (Store+Strings.swift): stored in chunks, read and
/// written by range, sparse, copied, discarded and replayed from the commit log.
final class StringChunkTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "lode-chunks-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func open(_ path: String? = nil, chunk: Int = 10) throws -> Store {
        var o = Store.Options(path: path ?? dir)
        o.mapSize = 1 << 30
        o.stringChunkSize = chunk
        return try Store(options: o)
    }

    private let key = ByteBuffer(string: "k")

    private func bytes(_ store: Store, _ r: Record) throws -> [UInt8] {
        Array(try store.stringValue(r).readableBytesView)
    }

    private func write(_ store: Store, _ r: Record?, at offset: Int, _ data: [UInt8]) throws -> Record {
        try store.updateString(r, range: offset..<(offset + data.count)) { piece, at in
            data.withUnsafeBytes { piece.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at..<(at + piece.count)])) }
        }
    }

    func testAValueLongerThanAChunkIsStoredInChunksAndReadsBackWhole() throws {
        let store = try open()
        let value = (0..<95).map { UInt8($0) }
        try store.put(db: 0, key: key, record: Record(value: ByteBuffer(bytes: value)))
        let r = try XCTUnwrap(try store.get(db: 0, key: key, now: 0))
        XCTAssertEqual(r.chunks?.length, 95)
        XCTAssertEqual(r.chunks?.chunkSize, 10)
        XCTAssertEqual(r.stringLength, 95)
        XCTAssertEqual(try bytes(store, r), value)
        XCTAssertEqual(try store.elementEntryCount(), 10)
        var piece: [UInt8] = []
        try store.readString(r, 8..<23) { piece += $0; return true }
        XCTAssertEqual(piece, Array(value[8..<23]))
        // A value of exactly one chunk stays whole.
        try store.put(db: 0, key: ByteBuffer(string: "w"), record: Record(value: ByteBuffer(bytes: value[0..<10])))
        XCTAssertFalse(try XCTUnwrap(store.get(db: 0, key: ByteBuffer(string: "w"), now: 0)).isChunked)
        store.close()
    }

    func testWritesTouchOnlyTheirChunksAndZerosAreNotStored() throws {
        let store = try open()
        // A bit far past the end of a new value: one chunk stored, the rest zeros.
        var r = try store.updateString(nil, range: 995..<996) { piece, _ in piece[0] = 0x80 }
        try store.put(db: 0, key: key, record: r)
        XCTAssertEqual(r.stringLength, 996)
        XCTAssertEqual(try store.elementEntryCount(), 1)
        var expected = [UInt8](repeating: 0, count: 996)
        expected[995] = 0x80
        XCTAssertEqual(try bytes(store, r), expected)
        // A write across a chunk edge rewrites those two chunks only.
        r = try write(store, r, at: 18, [1, 2, 3, 4])
        expected.replaceSubrange(18..<22, with: [1, 2, 3, 4])
        XCTAssertEqual(try store.elementEntryCount(), 3)
        // Growing: the last chunk is completed, new ones follow.
        r = try write(store, r, at: 996, Array(repeating: 9, count: 25))
        expected += Array(repeating: 9, count: 25)
        try store.put(db: 0, key: key, record: r)
        XCTAssertEqual(try bytes(store, try XCTUnwrap(store.get(db: 0, key: key, now: 0))), expected)
        store.close()
    }

    func testAWholeValueMovesIntoChunksWhenAWriteGrowsItPastOne() throws {
        let store = try open()
        var r = try write(store, nil, at: 0, [7, 7, 7])
        XCTAssertFalse(r.isChunked)
        r = try write(store, r, at: 30, [8])
        XCTAssertTrue(r.isChunked)
        XCTAssertEqual(try bytes(store, r), [7, 7, 7] + Array(repeating: 0, count: 27) + [8])
        store.close()
    }

    func testDeleteAndOverwriteDiscardTheChunksAndACopyOwnsItsOwn() throws {
        let store = try open()
        let value = ByteBuffer(bytes: (0..<50).map { UInt8($0) })
        try store.put(db: 0, key: key, record: Record(value: value))
        let copy = try store.copyString(try XCTUnwrap(store.get(db: 0, key: key, now: 0)))
        try store.put(db: 0, key: ByteBuffer(string: "copy"), record: copy)
        XCTAssertEqual(try store.elementEntryCount(), 10)
        XCTAssertTrue(try store.delete(db: 0, key: key))
        XCTAssertEqual(try store.garbageCount(), 1)
        while try store.sweepGarbage(limit: 3) > 0 {}
        XCTAssertEqual(try store.elementEntryCount(), 5)
        let kept = try XCTUnwrap(store.get(db: 0, key: ByteBuffer(string: "copy"), now: 0))
        XCTAssertEqual(try store.stringValue(kept), value)
        try store.put(db: 0, key: ByteBuffer(string: "copy"), record: Record(value: ByteBuffer(string: "short")))
        while try store.sweepGarbage(limit: 100) > 0 {}
        XCTAssertEqual(try store.elementEntryCount(), 0)
        store.close()
    }

    func testChunkedValuesSurviveReopenAndAreReplayedFromTheCommitLog() throws {
        var store = try open()
        store.logging = true
        let value = (0..<64).map { UInt8($0 * 3 & 0xFF) }
        try store.put(db: 0, key: key, record: Record(value: ByteBuffer(bytes: value)))
        var r = try XCTUnwrap(store.get(db: 0, key: key, now: 0))
        r = try write(store, r, at: 60, [1, 2, 3, 4, 5, 6])
        try store.put(db: 0, key: key, record: r)
        guard case .logged = store.endTurn() else { return XCTFail("not logged") }
        let expected = Array(value[0..<60]) + [1, 2, 3, 4, 5, 6]
        // What a power loss after the log's fsync leaves: the log, not LMDB's pages.
        let replayDir = dir + "/replay"
        try FileManager.default.createDirectory(atPath: replayDir, withIntermediateDirectories: true)
        for name in ["commit-0.log", "commit-1.log"] where FileManager.default.fileExists(atPath: dir + "/" + name) {
            try FileManager.default.copyItem(atPath: dir + "/" + name, toPath: replayDir + "/" + name)
        }
        store.close()
        for path in [dir!, replayDir] {
            store = try open(path, chunk: 4)  // another chunk size: the value keeps its own
            let got = try XCTUnwrap(store.get(db: 0, key: key, now: 0))
            XCTAssertEqual(got.chunks?.chunkSize, 10, path)
            XCTAssertEqual(try bytes(store, got), expected, path)
            store.close()
        }
    }
}
