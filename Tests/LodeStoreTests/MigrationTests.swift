import Foundation
import NIOCore
import XCTest
@testable import LodeStore

/// Format 1 → 2 (Store+Migration): a format 1 environment written byte by byte as
/// docs/storage.md described it, opened by this build. The real format 1 server's
/// files are covered by Tests/python/test_scan_cursors.py's fixture.
final class MigrationTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "lode-migration-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        Store.migrationBatch = 20_000
        Store.migrationCrashAfterBatches = nil
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func b(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    private func open() throws -> Store {
        var o = Store.Options(path: dir)
        o.mapSize = 1 << 30
        return try Store(options: o)
    }

    static let longKey = String(repeating: "k", count: 700)
    static let longField = String(repeating: "f", count: 900)
    static let hashSize = 2_500

    /// A format 1 directory: strings (one with a long key, one expiring), a hash
    /// with a long field, a list, a sorted set with its score index, a set in
    /// database 1, and a garbage collection not yet swept.
    private func writeFormat1() throws {
        let env = try LMDBEnvironment(path: dir, options: .init(mapSize: 1 << 30))
        let txn = try LMDBTransaction(env, readOnly: false)
        let info = try txn.openDatabase("info", create: true)
        let keys = try txn.openDatabase("keys", create: true)
        let expires = try txn.openDatabase("expires", create: true)
        let subkeys = try txn.openDatabase("subkeys", create: true)
        let zscores = try txn.openDatabase("zscores", create: true)
        let garbage = try txn.openDatabase("garbage", create: true)
        func put(_ db: LMDBDatabase, _ k: [UInt8], _ v: [UInt8]) throws {
            try k.withUnsafeBytes { k in try v.withUnsafeBytes { v in try txn.put(db, key: k, value: v) } }
        }
        func record(_ r: Record, fullKey: ByteBuffer? = nil) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: KeyEncoding.recordSize(r, fullKey: fullKey))
            out.withUnsafeMutableBytes { KeyEncoding.writeRecord(r, fullKey: fullKey, into: $0) }
            return out
        }
        func key(_ db: UInt8, _ k: String) -> [UInt8] {
            var out: [UInt8] = []
            if k.utf8.count <= KeyEncoding.maxInlineKeyLength {
                KeyEncoding.appendShortKey(db: db, key: b(k), hashed: false, to: &out)
            } else {
                KeyEncoding.appendLongChain(db: db, key: b(k), hashed: false, to: &out)
                out += [0, 0]
            }
            return out
        }
        func element(_ v: UInt64, _ name: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            KeyEncoding.appendBigEndian(v, to: &out)
            return out + [0] + name
        }
        try put(keys, key(0, "plain"), record(Record(value: b("value"))))
        try put(keys, key(0, Self.longKey), record(Record(value: b("long")), fullKey: b(Self.longKey)))
        let expiring = key(0, "expiring")
        try put(keys, expiring, record(Record(expireAt: 4_000_000_000_000, value: b("later"))))
        var expiry: [UInt8] = []
        KeyEncoding.appendExpiryKey(expireAt: 4_000_000_000_000, lmdbKey: expiring, to: &expiry)
        try put(expires, expiry, [])
        // A hash larger than a migration batch in the tests below, with one long field.
        let hv: UInt64 = 1 << 40
        for i in 0..<Self.hashSize { try put(subkeys, element(hv, Array("field\(i)".utf8)), Array("v\(i)".utf8)) }
        var longSub: [UInt8] = []
        KeyEncoding.appendBigEndian(hv, to: &longSub)
        longSub.append(1)
        Array(Self.longField.utf8).withUnsafeBytes { raw in
            longSub += raw[0..<KeyEncoding.longKeyPrefixLength]
            KeyEncoding.appendBigEndian(KeyEncoding.fnv1a64(raw), to: &longSub)
        }
        longSub += [0, 0]
        var longValue: [UInt8] = []
        withUnsafeBytes(of: UInt32(Self.longField.utf8.count).bigEndian) { longValue += $0 }
        longValue += Array(Self.longField.utf8) + Array("L".utf8)
        try put(subkeys, longSub, longValue)
        try put(keys, key(0, "hash"), record(Record(type: .hash, expireAt: 0,
            meta: CollectionMeta(version: hv, size: Self.hashSize + 1))))
        // A list: elements keyed by position, which must keep their order.
        let lv = hv + 1
        var list = CollectionMeta(version: lv, size: 3)
        list.head = 1 << 63
        list.tail = (1 << 63) + 3
        for (i, e) in ["a", "b", "c"].enumerated() {
            var name: [UInt8] = []
            KeyEncoding.appendBigEndian((1 << 63) + UInt64(i), to: &name)
            try put(subkeys, element(lv, name), Array(e.utf8))
        }
        try put(keys, key(0, "list"), record(Record(type: .list, expireAt: 0, meta: list)))
        // A sorted set: member → score bits, plus the score index (unchanged by format 2).
        let zv = hv + 2
        for (m, score) in [("one", 1.0), ("two", 2.0)] {
            var bits: [UInt8] = []
            KeyEncoding.appendBigEndian(score.bitPattern, to: &bits)
            try put(subkeys, element(zv, Array(m.utf8)), bits)
            var index: [UInt8] = []
            KeyEncoding.appendScoreKey(version: zv, score: score, member: b(m), to: &index)
            try put(zscores, index, [])
        }
        try put(keys, key(0, "zset"), record(Record(type: .zset, expireAt: 0, meta: CollectionMeta(version: zv, size: 2))))
        let sv = hv + 3
        try put(subkeys, element(sv, Array("member".utf8)), [])
        try put(keys, key(1, "set"), record(Record(type: .set, expireAt: 0, meta: CollectionMeta(version: sv, size: 1))))
        // A deleted collection the sweeper had not reached.
        let gv = hv + 4
        try put(subkeys, element(gv, Array("dead".utf8)), [])
        var g: [UInt8] = []
        KeyEncoding.appendBigEndian(gv, to: &g)
        try put(garbage, g, [])
        var counts = [UInt8](repeating: 0, count: 256 * 16)
        counts[7] = 6  // db 0: 6 keys
        counts[15] = 1  // db 0: 1 with an expiry
        counts[16 + 7] = 1  // db 1: 1 key
        try put(info, Array("counts".utf8), counts)
        try put(info, Array("format".utf8), Array("1".utf8))
        try txn.commit()
        env.close()
    }

    private func assertMigrated(_ store: Store, extra: Set<String> = [], file: StaticString = #filePath,
                                line: UInt = #line) throws {
        XCTAssertEqual(try store.get(db: 0, key: b("plain"), now: 0)?.value, b("value"), file: file, line: line)
        XCTAssertEqual(try store.get(db: 0, key: b(Self.longKey), now: 0)?.value, b("long"), file: file, line: line)
        XCTAssertEqual(try store.get(db: 0, key: b("expiring"), now: 0)?.expireAt, 4_000_000_000_000, file: file, line: line)
        let hash = try XCTUnwrap(try store.get(db: 0, key: b("hash"), now: 0)?.collection)
        XCTAssertEqual(try store.element(version: hash.version, b("field7"), hashed: true), b("v7"), file: file, line: line)
        XCTAssertEqual(try store.element(version: hash.version, b(Self.longField), hashed: true), b("L"), file: file, line: line)
        var fields = 0
        var cursor: UInt64 = 0
        repeat {
            cursor = try store.scanElements(version: hash.version, cursor: cursor, count: 100) { _, _ in fields += 1 }
        } while cursor != 0
        XCTAssertEqual(fields, Self.hashSize + 1, file: file, line: line)
        let list = try XCTUnwrap(try store.get(db: 0, key: b("list"), now: 0)?.collection)
        var items: [String] = []
        _ = try store.elements(version: list.version, hashed: false) { _, v in items.append(String(buffer: v)); return true }
        XCTAssertEqual(items, ["a", "b", "c"], file: file, line: line)
        let zset = try XCTUnwrap(try store.get(db: 0, key: b("zset"), now: 0)?.collection)
        var ranked: [String] = []
        try store.scoreIndexWalk(version: zset.version) { _, m in ranked.append(String(buffer: m)); return true }
        XCTAssertEqual(ranked, ["one", "two"], file: file, line: line)
        XCTAssertNotNil(try store.element(version: zset.version, b("two"), hashed: true), file: file, line: line)
        let set = try XCTUnwrap(try store.get(db: 1, key: b("set"), now: 0)?.collection)
        XCTAssertNotNil(try store.element(version: set.version, b("member"), hashed: true), file: file, line: line)
        var keys: [String] = []
        _ = try store.scan(db: 0, cursor: 0, count: 100, now: 0) { k, _ in keys.append(String(buffer: k)) }
        XCTAssertEqual(Set(keys), Set(["plain", Self.longKey, "expiring", "hash", "list", "zset"]).union(extra),
                       file: file, line: line)
        XCTAssertEqual(store.counts(db: 0).keys, 6 + extra.count, file: file, line: line)
        XCTAssertEqual(try store.currentReadTxn().entryCount(store.expiresDB), 1, file: file, line: line)
        XCTAssertGreaterThan(store.newVersion(), hash.version + 4, "versions stay above every stored one", file: file, line: line)
    }

    func testFormat1DirectoryIsMigratedAtOpen() throws {
        try writeFormat1()
        var messages: [String] = []
        var o = Store.Options(path: dir)
        o.mapSize = 1 << 30
        o.log = { messages.append($0) }
        let store = try Store(options: o)
        XCTAssertTrue(messages.first?.contains("from on-disk format 1 to 2") ?? false, "\(messages)")
        XCTAssertTrue(messages.last?.contains("Migrated to on-disk format 2: 7 keys and \(Self.hashSize + 1 + 3 + 2 + 1) elements")
                      ?? false, "\(messages)")
        try assertMigrated(store)
        let txn = try LMDBTransaction(store.env, readOnly: true)
        XCTAssertEqual(try Store.getString(txn, store.infoDB, "format"), "2")
        XCTAssertThrowsError(try txn.openDatabase("keys", create: false), "the format 1 databases are gone")
        txn.abort()
        // The garbage version's format 1 element went with the old database; the sweeper ends the entry.
        while try store.sweepGarbage(limit: 100) > 0 { _ = store.endTurn() }
        XCTAssertEqual(try store.garbageCount(), 0)
        store.close()
        let again = try open()
        try assertMigrated(again)
        XCTAssertEqual(try again.expireDue(now: 4_000_000_000_001, limit: 10), 1, "the rebuilt expiry index finds the key")
        XCTAssertNil(try again.get(db: 0, key: b("expiring"), now: 0))
        again.close()
    }

    func testAMigrationCutShortGoesOnAtTheNextOpen() throws {
        try writeFormat1()
        Store.migrationBatch = 1_000
        Store.migrationCrashAfterBatches = 1
        XCTAssertThrowsError(try open())
        XCTAssertThrowsError(try open(), "a second cut, after one more batch")
        Store.migrationCrashAfterBatches = nil
        let store = try open()
        try assertMigrated(store)
        store.close()
    }

    func testAFormat1CommitLogIsReplayedBeforeTheMigration() throws {
        try writeFormat1()
        // What a format 1 server logged but LMDB lost (a power cut): a new hash and its field,
        // with the element op of format 1 (tag 6, no hash order).
        let log = try CommitLog(directory: dir)
        let v: UInt64 = 1 << 41
        log.append(.put(db: 0, key: b("logged"), record: Record(type: .hash, expireAt: 0, meta: CollectionMeta(version: v, size: 1))))
        log.append(.setElement(version: v, sub: b("f"), value: b("from the log"), hashed: false))
        try log.writePending(sequence: 1)
        let store = try open()
        let meta = try XCTUnwrap(try store.get(db: 0, key: b("logged"), now: 0)?.collection)
        XCTAssertEqual(try store.element(version: meta.version, b("f"), hashed: true), b("from the log"))
        try assertMigrated(store, extra: ["logged"])
        store.close()
    }
}
