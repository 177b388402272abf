import Foundation
import NIOCore
import XCTest
@testable import LodeStore

/// LMDB's windows over the commit log (Store+Window.swift): logged turns, window
/// commits, replay after a crash or a failed write, and the rollback of a meta page
/// that was never known to be synced.
final class WindowTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "lode-window-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func open(_ path: String? = nil) throws -> Store {
        var o = Store.Options(path: path ?? dir)
        o.mapSize = 1 << 26
        let store = try Store(options: o)
        store.logging = true
        return store
    }

    private func set(_ store: Store, _ key: String, _ value: String) throws {
        try store.put(db: 0, key: ByteBuffer(string: key), record: Record(value: ByteBuffer(string: value)))
    }

    private func get(_ store: Store, _ key: String) throws -> String? {
        try store.get(db: 0, key: ByteBuffer(string: key), now: 0).map { String(buffer: $0.value) }
    }

    /// Copies files of the store's directory into a new subdirectory: what a crash left on disk.
    private func copyFiles(_ names: [String], to name: String) throws -> String {
        let copy = dir + "/" + name
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for file in names { try FileManager.default.copyItem(atPath: dir + "/" + file, toPath: copy + "/" + file) }
        return copy
    }

    func testTurnsAreLoggedAndLMDBCommitsOncePerWindow() throws {
        let store = try open()
        let txnBefore = store.env.lastTransactionID
        for i in 0..<5 {
            try set(store, "k\(i)", "v\(i)")
            guard case .logged(let seq) = store.endTurn() else { return XCTFail("turn \(i) not logged") }
            XCTAssertEqual(seq, UInt64(i + 1))
            XCTAssertEqual(try get(store, "k\(i)"), "v\(i)", "reads see the open window")
        }
        XCTAssertEqual(store.env.lastTransactionID, txnBefore, "no LMDB commit per turn")
        XCTAssertEqual(store.committedSequence, 0)
        let commit = try XCTUnwrap(store.commitWindow())
        XCTAssertEqual(commit.sequence, 5)
        XCTAssertEqual(commit.transactionID, txnBefore + 1)
        XCTAssertEqual(store.env.lastTransactionID, txnBefore + 1)
        XCTAssertEqual(store.commitLog.active, 1 - commit.logFile, "the log moved to the other file")
        XCTAssertNil(try store.commitWindow(), "nothing open")
        store.close()
    }

    func testACrashBeforeTheWindowCommitReplaysTheLog() throws {
        // A kill -9: what the page cache holds is the log, LMDB never committed the window.
        var store = try open()
        try set(store, "a", "1")
        _ = store.endTurn()
        try set(store, "b", "2")
        try store.delete(db: 0, key: ByteBuffer(string: "a"))
        _ = store.endTurn()
        let copy = try copyFiles(["data.mdb", "commit-0.log", "commit-1.log", SyncedCommitMarker.fileName], to: "crashed")
        store.close()
        store = try open(copy)
        XCTAssertEqual(store.replayedRecords, 2)
        XCTAssertNil(try get(store, "a"))
        XCTAssertEqual(try get(store, "b"), "2")
        XCTAssertEqual(store.counts(db: 0).keys, 1)
        store.close()
    }

    func testAFailedTurnKeepsTheEarlierTurnsOfTheWindow() throws {
        let store = try open()
        try set(store, "kept", "1")
        _ = store.endTurn()
        try set(store, "lost", "2")
        // What a failed LMDB write does: the transaction goes, the log brings back the rest.
        _ = store.fail(LMDBError(-30792))  // MDB_MAP_FULL
        XCTAssertEqual(store.endTurn(), .failed)
        XCTAssertEqual(try get(store, "kept"), "1", "the acknowledged turn is back in the open transaction")
        XCTAssertNil(try get(store, "lost"))
        XCTAssertEqual(store.counts(db: 0).keys, 1)
        try set(store, "after", "3")
        guard case .logged = store.endTurn() else { return XCTFail("writes go on after the failure") }
        _ = try store.commitWindow()
        store.close()
        let reopened = try open()
        XCTAssertEqual(try get(reopened, "kept"), "1")
        XCTAssertEqual(try get(reopened, "after"), "3")
        XCTAssertNil(try get(reopened, "lost"))
        reopened.close()
    }

    func testAnUnsyncedNewestMetaPageIsRolledBackToTheSyncedCommit() throws {
        // Commit "old" and sync it (marker), then commit "new" without a checkpoint:
        // the state a power loss may leave when the newer meta page reached the disk.
        var store = try open()
        try set(store, "k", "old")
        _ = store.endTurn()
        let synced = try XCTUnwrap(store.commitWindow())
        try store.env.sync()
        try store.syncedMarker.write(synced.transactionID)
        store.windowSynced()
        try set(store, "k", "new")
        _ = store.endTurn()
        let unsynced = try XCTUnwrap(store.commitWindow())
        XCTAssertEqual(unsynced.transactionID, synced.transactionID + 1)
        // Without the log: only LMDB's synced snapshot is left to show the unsynced commit's values.
        let copy = try copyFiles(["data.mdb", SyncedCommitMarker.fileName], to: "powerloss")
        store.close()
        let metas = try XCTUnwrap(LMDBMetaPages.read(copy + "/data.mdb"))
        XCTAssertEqual(max(metas.0.txnID, metas.1.txnID), unsynced.transactionID)
        var logged: [String] = []
        var o = Store.Options(path: copy)
        o.mapSize = 1 << 26
        o.log = { logged.append($0) }
        store = try Store(options: o)
        XCTAssertEqual(try get(store, "k"), "old", "opened at the synced commit")
        XCTAssertTrue(logged.contains { $0.contains("not known to be on disk") }, "\(logged)")
        store.close()
        // A marker at the newest commit (a clean close) changes nothing.
        let newest = try XCTUnwrap(LMDBMetaPages.read(copy + "/data.mdb"))
        XCTAssertEqual(try LMDBMetaPages.rollBack(copy + "/data.mdb", toSynced: max(newest.0.txnID, newest.1.txnID)), .none)
    }

    func testTheMarkerRejectsATornOrForeignRecord() throws {
        let marker = try SyncedCommitMarker(directory: dir)
        XCTAssertNil(marker.read())
        try marker.write(42)
        XCTAssertEqual(marker.read(), 42)
        let fd = Glibc.open(marker.path, O_WRONLY)
        _ = [UInt8(0xFF)].withUnsafeBytes { pwrite(fd, $0.baseAddress, 1, 12) }
        Glibc.close(fd)
        XCTAssertNil(marker.read(), "a checksum mismatch reads as no marker")
    }

    func testRecordsAfterAGapAreNotReplayed() {
        let entries = [1, 2, 4, 5].map { CommitLog.Entry(sequence: UInt64($0), ops: []) }
        XCTAssertEqual(Store.contiguous(entries, after: 0).map(\.sequence), [1, 2])
        XCTAssertEqual(Store.contiguous(entries, after: 3).map(\.sequence), [4, 5])
        XCTAssertEqual(Store.contiguous(entries, after: 5).map(\.sequence), [])
    }

    func testACheckpointNeverEmptiesALogFileAppendsWentBackTo() throws {
        let store = try open()
        defer { store.close() }
        try set(store, "w1", "1")
        _ = store.endTurn()
        let first = try XCTUnwrap(store.commitWindow())   // its checkpoint will empty file `first.logFile`
        // A full map commits the next window before that checkpoint ends: appends go back to it.
        try set(store, "w2", "2")
        _ = store.endTurn()
        let second = try XCTUnwrap(store.commitWindow())
        XCTAssertEqual(store.commitLog.active, first.logFile)
        try set(store, "after", "3")
        guard case .logged(let seq) = store.endTurn() else { return XCTFail("not logged") }
        store.commitLog.files.truncateIfInactive(first.logFile)   // the late checkpoint
        XCTAssertEqual(store.commitLog.readAll().last?.sequence, seq, "the acknowledged record is still in the log")
        store.commitLog.files.truncateIfInactive(second.logFile)
        XCTAssertTrue(store.commitLog.readAll().allSatisfy { $0.sequence != second.sequence }, "the inactive file is emptied")
    }
}

