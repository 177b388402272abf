import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import XCTest
@testable import LodeStore

final class StoreTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "lode-store-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func open(cache: Int = 1 << 20) throws -> Store {
        var o = Store.Options(path: dir)
        o.mapSize = 1 << 30
        o.cacheBytes = cache
        return try Store(options: o)
    }

    private func value(_ s: String) -> Record { Record(value: ByteBuffer(string: s)) }

    func testPutGetDeleteSurviveReopen() throws {
        var store = try open()
        try store.put(db: 0, key: ByteBuffer(string: "a"), record: value("1"))
        try store.put(db: 1, key: ByteBuffer(string: "a"), record: value("2"))
        XCTAssertEqual(store.endTurn(), .committed(sequence: 1))
        XCTAssertEqual(try store.get(db: 0, key: ByteBuffer(string: "a"), now: 0)?.value, ByteBuffer(string: "1"))
        XCTAssertTrue(try store.delete(db: 1, key: ByteBuffer(string: "a")))
        XCTAssertFalse(try store.delete(db: 1, key: ByteBuffer(string: "zzz")))
        _ = store.endTurn()
        store.close()
        store = try open()
        XCTAssertEqual(try store.get(db: 0, key: ByteBuffer(string: "a"), now: 0)?.value, ByteBuffer(string: "1"))
        XCTAssertNil(try store.get(db: 1, key: ByteBuffer(string: "a"), now: 0))
        XCTAssertEqual(store.counts(db: 0).keys, 1)
        XCTAssertEqual(store.counts(db: 1).keys, 0)
        store.close()
    }

    func testReadsComeFromDiskWhenNotCached() throws {
        let store = try open(cache: 1 << 20)
        for i in 0..<5000 {
            try store.put(db: 0, key: ByteBuffer(string: "key\(i)"), record: value(String(repeating: "v", count: 500) + "\(i)"))
        }
        _ = store.endTurn()
        XCTAssertLessThan(store.cache.count, 5000)
        for i in 0..<5000 {
            XCTAssertEqual(try store.get(db: 0, key: ByteBuffer(string: "key\(i)"), now: 0)?.value,
                           ByteBuffer(string: String(repeating: "v", count: 500) + "\(i)"))
        }
        store.close()
    }

    func testLongKeysSharingAPrefixStayDistinct() throws {
        let store = try open()
        let prefix = String(repeating: "p", count: 1000)
        let keys = [prefix + "1", prefix + "2", String(repeating: "p", count: 2000), String(repeating: "p", count: 481)]
        for (i, k) in keys.enumerated() { try store.put(db: 0, key: ByteBuffer(string: k), record: value("\(i)")) }
        _ = store.endTurn()
        store.cache.removeAll()
        for (i, k) in keys.enumerated() {
            XCTAssertEqual(try store.get(db: 0, key: ByteBuffer(string: k), now: 0)?.value, ByteBuffer(string: "\(i)"))
        }
        var seen: [String] = []
        _ = try store.scan(db: 0, cursor: 0, count: 100, now: 0) { k, _ in seen.append(String(buffer: k)) }
        XCTAssertEqual(Set(seen), Set(keys))
        XCTAssertTrue(try store.delete(db: 0, key: ByteBuffer(string: keys[0])))
        XCTAssertEqual(try store.get(db: 0, key: ByteBuffer(string: keys[1]), now: 0)?.value, ByteBuffer(string: "1"))
        XCTAssertEqual(store.counts(db: 0).keys, 3)
        store.close()
    }

    func testExpiryIndexDrivesActiveExpiry() throws {
        let store = try open()
        for i in 0..<10 {
            try store.put(db: 0, key: ByteBuffer(string: "e\(i)"),
                record: Record(expireAt: Int64(1000 + i), value: ByteBuffer(string: "x")))
        }
        try store.put(db: 0, key: ByteBuffer(string: "forever"), record: value("x"))
        _ = store.endTurn()
        XCTAssertEqual(store.counts(db: 0).expires, 10)
        XCTAssertEqual(try store.expireDue(now: 1004, limit: 100), 5)
        XCTAssertEqual(try store.keyCount(db: 0, now: 1004), 6)
        XCTAssertNil(try store.get(db: 0, key: ByteBuffer(string: "e5"), now: 2000))  // lazily expired
        XCTAssertEqual(try store.keyCount(db: 0, now: 2000), 1)
        XCTAssertEqual(store.counts(db: 0).expires, 0)
        store.close()
    }

    func testScanResumesAtItsCursorDespiteWrites() throws {
        let store = try open()
        for i in 0..<100 { try store.put(db: 0, key: ByteBuffer(string: String(format: "k%03d", i)), record: value("x")) }
        _ = store.endTurn()
        var seen: [String] = []
        var cursor: UInt64 = 0
        var round = 0
        repeat {
            let before = cursor
            cursor = try store.scan(db: 0, cursor: cursor, count: 7, now: 0) { k, _ in seen.append(String(buffer: k)) }
            XCTAssertTrue(cursor == 0 || cursor > before, "cursors only move forward in the hash order")
            XCTAssertLessThan(cursor, KeyHash.limit)
            // Writes between calls: delete a key already returned, add new ones.
            try store.put(db: 0, key: ByteBuffer(string: "new\(round)"), record: value("y"))
            if let done = seen.first { _ = try store.delete(db: 0, key: ByteBuffer(string: done)) }
            round += 1
            _ = store.endTurn()
        } while cursor != 0
        let old = seen.filter { $0.hasPrefix("k") }
        XCTAssertEqual(old.count, 100, "each key present for the whole scan exactly once")
        XCTAssertEqual(Set(old).count, 100)
        store.close()
    }

    func testScanCursorsSurviveReopeningAndCountOne() throws {
        var store = try open()
        let keys = (0..<500).map { "key:\($0)" }
        for k in keys { try store.put(db: 3, key: ByteBuffer(string: k), record: value("v")) }
        try store.put(db: 4, key: ByteBuffer(string: "elsewhere"), record: value("v"))
        _ = store.endTurn()
        var seen: [String] = []
        var cursor: UInt64 = 0
        var calls = 0
        repeat {
            var batch = 0
            cursor = try store.scan(db: 3, cursor: cursor, count: 1, now: 0) { k, _ in seen.append(String(buffer: k)); batch += 1 }
            XCTAssertGreaterThanOrEqual(batch, 1)
            calls += 1
            if calls == 250 {
                // The cursor is a position, not a token: it means the same after a restart.
                store.close()
                store = try open()
            }
        } while cursor != 0
        XCTAssertEqual(seen.sorted(), keys.sorted())
        store.close()
    }

    func testKeysNumberedInSequenceShareAHashByHundreds() {
        func hash(_ s: String) -> UInt64 { Array(s.utf8).withUnsafeBytes { KeyHash.of($0) } }
        XCTAssertEqual(hash("user:1200"), hash("user:1299"))
        XCTAssertEqual(hash("item:ab07"), hash("item:ab"), "a name without two trailing digits joins their group")
        XCTAssertNotEqual(hash("user:1200"), hash("user:12"))
        XCTAssertNotEqual(hash("user:1200"), hash("user:1300"))
        XCTAssertNotEqual(hash("user:1"), hash("user:2"), "one trailing digit is hashed")
        XCTAssertNotEqual(hash("ab"), hash("ac"))
        XCTAssertEqual(hash("42"), hash(""))
        XCTAssertLessThan(hash("anything"), KeyHash.limit)
        // Part of the on-disk format: FNV-1a-64, murmur3's fmix64, the top 46 bits (also computed in Python).
        XCTAssertEqual(hash("foo"), 0x2be1_7a95_5a56)
        XCTAssertEqual(hash("user:42"), 0x29bb_28c2_a730)
    }

    func testAScanReplyHoldsWholeGroupsWhateverTheCount() throws {
        let store = try open()
        let keys = (0..<2000).map { String(format: "seq:%04d", $0) }  // 20 groups of 100
        for k in keys { try store.put(db: 0, key: ByteBuffer(string: k), record: value("v")) }
        _ = store.endTurn()
        var cursor: UInt64 = 0
        var batches: [[String]] = []
        repeat {
            var batch: [String] = []
            cursor = try store.scan(db: 0, cursor: cursor, count: 1, now: 0) { k, _ in batch.append(String(buffer: k)) }
            batches.append(batch)
        } while cursor != 0
        XCTAssertEqual(batches.count, 20)
        XCTAssertTrue(batches.allSatisfy { $0.count == 100 && $0 == $0.sorted() }, "a group is contiguous, in byte order")
        XCTAssertEqual(batches.flatMap { $0 }.sorted(), keys)
        var picked = Set<String>()
        for _ in 0..<300 { if let k = try store.randomKey(db: 0, now: 0) { picked.insert(String(buffer: k)) } }
        XCTAssertGreaterThan(picked.count, 250, "RANDOMKEY picks inside a group, not only its first key")
        store.close()
    }

    func testSwapAndFlush() throws {
        let store = try open()
        try store.put(db: store.physical(0), key: ByteBuffer(string: "a"), record: value("0"))
        try store.swap(0, 1)
        XCTAssertNil(try store.get(db: store.physical(0), key: ByteBuffer(string: "a"), now: 0))
        XCTAssertNotNil(try store.get(db: store.physical(1), key: ByteBuffer(string: "a"), now: 0))
        try store.put(db: store.physical(1), key: ByteBuffer(string: "b"), record: Record(expireAt: 99, value: ByteBuffer(string: "1")))
        try store.flush(db: store.physical(1))
        XCTAssertEqual(store.counts(db: store.physical(1)).keys, 0)
        XCTAssertEqual(try store.expireDue(now: 1000, limit: 10), 0)
        _ = store.endTurn()
        store.close()
    }

    func testFormatVersionIsRecorded() throws {
        let store = try open()
        store.close()
        let env = try LMDBEnvironment(path: dir, options: .init(mapSize: 1 << 30))
        let txn = try LMDBTransaction(env, readOnly: true)
        let info = try txn.openDatabase("info", create: false)
        XCTAssertEqual(try Store.getString(txn, info, "format"), Store.formatVersion)
        txn.abort()
        env.close()
    }

    func testCommitLogRecordsNewerThanLMDBAreReplayed() throws {
        var store = try open()
        try store.put(db: 0, key: ByteBuffer(string: "a"), record: value("1"))
        guard case .committed(let lmdbSequence) = store.endTurn() else { return XCTFail("no commit") }
        store.close()
        // What a power loss leaves: log records LMDB never got, one it already has,
        // and a torn record at the end.
        do {
            let log = try CommitLog(directory: dir)
            log.append(.put(db: 0, key: ByteBuffer(string: "a"), record: value("stale")))
            try log.writePending(sequence: lmdbSequence)
            log.append(.put(db: 0, key: ByteBuffer(string: "b"),
                record: Record(expireAt: 4_000_000_000_000, value: ByteBuffer(string: "2"))))
            log.append(.delete(db: 0, key: ByteBuffer(string: "a"), keepElements: false))
            try log.writePending(sequence: lmdbSequence + 1)
            log.append(.swap(0, 1))
            try log.writePending(sequence: lmdbSequence + 2)
        }
        let fd = Glibc.open(dir + "/commit-0.log", O_WRONLY | O_APPEND)
        _ = [UInt8](repeating: 7, count: 40).withUnsafeBytes { write(fd, $0.baseAddress, 40) }
        Glibc.close(fd)

        store = try open()
        // Ops name physical databases; the swap moved physical 0 to logical 1.
        XCTAssertNil(try store.get(db: 0, key: ByteBuffer(string: "a"), now: 0))
        XCTAssertEqual(try store.get(db: 0, key: ByteBuffer(string: "b"), now: 0)?.value, ByteBuffer(string: "2"))
        XCTAssertEqual(store.physical(0), 1)
        XCTAssertEqual(store.physical(1), 0)
        XCTAssertEqual(store.counts(db: 0).keys, 1)
        XCTAssertEqual(store.counts(db: 0).expires, 1)
        XCTAssertEqual(store.committedSequence, lmdbSequence + 2)
        store.close()
        // Replayed records are checkpointed: a second start replays nothing.
        let logAfter = try CommitLog(directory: dir)
        XCTAssertTrue(logAfter.readAll().isEmpty)
    }

    func testLoggingAppendsEveryWriteKind() throws {
        let store = try open()
        store.logging = true
        try store.put(db: 0, key: ByteBuffer(string: "k"), record: value("v"))
        try store.delete(db: 0, key: ByteBuffer(string: "k"))
        try store.flush(db: 2)
        _ = store.endTurn()
        let entries = store.commitLog.readAll()
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries.first?.ops.count, 3)
        store.close()
    }
}
