import Foundation
import NIOCore
import XCTest
@testable import LodeStore

/// StoreSnapshot: a read-only view as of one commit, beside a store that keeps writing,
/// and over a directory opened by path (the offline dump tool).
final class StoreSnapshotTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "lode-snapshot-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func open() throws -> Store {
        var o = Store.Options(path: dir)
        o.mapSize = 1 << 30
        o.stringChunkSize = 16
        return try Store(options: o)
    }

    private func keys(_ s: StoreSnapshot, db: Int, now: Int64 = 0) throws -> [String: Record] {
        var out: [String: Record] = [:]
        try s.forEachKey(db: db, now: now) { k, r in out[String(buffer: k)] = r; return true }
        return out
    }

    func testASnapshotKeepsSeeingTheCommitItWasTakenAt() throws {
        let store = try open()
        let long = (0..<100).map { UInt8($0) }
        try store.put(db: 0, key: ByteBuffer(string: "s"), record: Record(value: ByteBuffer(string: "one")))
        try store.put(db: 0, key: ByteBuffer(string: "long"), record: Record(value: ByteBuffer(bytes: long)))
        let version = store.newVersion()
        for f in ["a", "b", "c"] {
            _ = try store.setElement(version: version, ByteBuffer(string: f), value: ByteBuffer(string: f + "!"), hashed: true)
        }
        try store.put(db: 0, key: ByteBuffer(string: "h"),
                      record: Record(type: .hash, expireAt: 0, meta: CollectionMeta(version: version, size: 3)))
        try store.put(db: 3, key: ByteBuffer(string: "other"), record: Record(value: ByteBuffer(string: "db3")))
        _ = store.endTurn()

        let snapshot = try StoreSnapshot(of: store)
        // Writes after the snapshot: an overwrite, a delete, a new key.
        try store.put(db: 0, key: ByteBuffer(string: "s"), record: Record(value: ByteBuffer(string: "two")))
        _ = try store.delete(db: 0, key: ByteBuffer(string: "h"))
        try store.put(db: 0, key: ByteBuffer(string: "new"), record: Record(value: ByteBuffer(string: "x")))
        _ = store.endTurn()

        let seen = try keys(snapshot, db: 0)
        XCTAssertEqual(Set(seen.keys), ["s", "long", "h"])
        XCTAssertEqual(try snapshot.stringBytes(seen["s"]!), Array("one".utf8))
        XCTAssertTrue(seen["long"]!.isChunked)
        XCTAssertEqual(try snapshot.stringBytes(seen["long"]!), long)
        var fields: [String] = []
        try snapshot.forEachElement(version: version, hashed: true) { n, v in
            fields.append(String(decoding: n, as: UTF8.self) + "=" + String(decoding: v, as: UTF8.self))
        }
        XCTAssertEqual(fields.sorted(), ["a=a!", "b=b!", "c=c!"])
        XCTAssertEqual(Set(try keys(snapshot, db: 3).keys), ["other"])
        XCTAssertEqual(snapshot.counts(logicalDB: 0).keys, 3)
        snapshot.close()

        // A new snapshot sees the writes.
        let later = try StoreSnapshot(of: store)
        XCTAssertEqual(Set(try keys(later, db: 0).keys), ["s", "long", "new"])
        later.close()
        store.close()
    }

    func testExpiredKeysAreSkippedWhenATimeIsGiven() throws {
        let store = try open()
        try store.put(db: 0, key: ByteBuffer(string: "gone"), record: Record(expireAt: 1000, value: ByteBuffer(string: "x")))
        try store.put(db: 0, key: ByteBuffer(string: "kept"), record: Record(expireAt: 5000, value: ByteBuffer(string: "y")))
        _ = store.endTurn()
        let snapshot = try StoreSnapshot(of: store)
        XCTAssertEqual(Set(try keys(snapshot, db: 0, now: 2000).keys), ["kept"])
        XCTAssertEqual(Set(try keys(snapshot, db: 0).keys), ["gone", "kept"])
        snapshot.close()
        store.close()
    }

    func testOpeningByPathReadsAClosedDirectoryAndRefusesOthers() throws {
        let store = try open()
        try store.put(db: 1, key: ByteBuffer(string: "k"), record: Record(value: ByteBuffer(string: "v")))
        _ = store.endTurn()
        store.close()
        let snapshot = try StoreSnapshot(path: dir)
        XCTAssertEqual(Set(try keys(snapshot, db: 1).keys), ["k"])
        snapshot.close()
        XCTAssertThrowsError(try StoreSnapshot(path: dir + "/nowhere")) { error in
            XCTAssertTrue("\(error)".contains("not a Lode data directory"), "\(error)")
        }
    }
}
