import Foundation
import NIOCore
import XCTest
@testable import LodeStore

/// What keeps data.mdb openable when its syncs fail or power is cut: a distrusted
/// data file is never committed over (Store+Window.swift), and a new one appears
/// only whole (Store+NewDataFile.swift).
final class DataFileSafetyTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "lode-datafile-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func open() throws -> Store {
        var o = Store.Options(path: dir)
        o.mapSize = 1 << 26
        let store = try Store(options: o)
        store.logging = true
        return store
    }

    private func set(_ store: Store, _ key: String) throws {
        try store.put(db: 0, key: ByteBuffer(string: key), record: Record(value: ByteBuffer(string: "v-" + key)))
        guard case .logged = store.endTurn() else { return XCTFail("\(key) not logged") }
    }

    func testADistrustedDataFileIsNeverCommittedAndTheNextStartReplaysTheLog() throws {
        var store = try open()
        let synced = store.env.lastTransactionID  // the start-up checkpoint marked it synced
        try set(store, "in-failed-window")
        let commit = try XCTUnwrap(store.commitWindow())
        XCTAssertEqual(commit.transactionID, synced + 1)
        // Its mdb_env_sync failed: nothing may be committed after it.
        store.distrustDataFile(.io(operation: "mdb_env_sync of data.mdb", errno: EIO))
        try set(store, "after-failure")
        XCTAssertNil(try store.commitWindow(), "no window over a distrusted data file")
        XCTAssertEqual(store.env.lastTransactionID, synced + 1)
        store.close()  // must not commit either
        store = try open()
        defer { store.close() }
        XCTAssertEqual(store.replayedRecords, 2, "opened at the synced commit, both records replayed")
        for key in ["in-failed-window", "after-failure"] {
            let got = try store.get(db: 0, key: ByteBuffer(string: key), now: 0).map { String(buffer: $0.value) }
            XCTAssertEqual(got, "v-" + key)
        }
    }

    func testANewDataFileIsBuiltAsideAndALeftoverStagingDirectoryIsCleared() throws {
        // What a power cut in the middle of a first start leaves: a staging directory.
        let staging = dir + "/" + Store.stagingDirectoryName
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try Data("half a file".utf8).write(to: URL(fileURLWithPath: staging + "/data.mdb"))
        let store = try open()
        let txn = store.env.lastTransactionID
        store.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: staging))
        XCTAssertEqual(txn, 1, "the databases were created in the staged file's one commit")
        let meta = try XCTUnwrap(LMDBMetaPages.read(dir + "/data.mdb"))
        XCTAssertEqual(max(meta.0.txnID, meta.1.txnID), 1, "opening the staged file committed nothing")
    }
}
