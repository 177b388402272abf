import Foundation
import NIOCore
import XCTest
@testable import LodeStore

/// The sweeper's pacing and the data file's figures (Store+Space.swift).
final class SpaceTests: StoreTestCase {
    private func makeSet(_ key: String, elements: Int) throws {
        let v = store.newVersion()
        for i in 0..<elements { try store.setElement(version: v, b("m\(i)"), value: b(""), hashed: true) }
        try store.put(db: 0, key: b(key), record: Record(type: .set, expireAt: 0, meta: CollectionMeta(version: v, size: elements)))
        _ = store.endTurn()
    }

    func testEachWriteWhileGarbageWaitsPaysForTwoSweptEntries() throws {
        try makeSet("big", elements: 20_000)
        XCTAssertEqual(try store.sweepCycle(timeSliceMicros: 0), 0, "no garbage yet: this cycle only takes the baseline")
        XCTAssertTrue(try store.delete(db: 0, key: b("big")))
        _ = store.endTurn()
        // One write owes two entries; with no time slice, one batch pays it.
        XCTAssertEqual(try store.sweepCycle(timeSliceMicros: 0), Store.sweepBatch)
        _ = store.endTurn()
        for i in 0..<3000 { try store.put(db: 0, key: b("k\(i)"), record: Record(value: b("v"))) }
        _ = store.endTurn()
        let owed = 3000 * Store.sweepAssistRatio
        let swept = try store.sweepCycle(timeSliceMicros: 0)
        XCTAssertGreaterThanOrEqual(swept, owed, "the writes' debt is paid in the same cycle")
        XCTAssertLessThan(swept, owed + 2 * Store.sweepBatch, "and not much more without a time slice")
        _ = store.endTurn()
        XCTAssertEqual(try store.elementEntryCount(), 20_000 - Store.sweepBatch - swept)
        // A time slice drains the rest when no writes come.
        XCTAssertEqual(try store.sweepCycle(timeSliceMicros: 5_000_000), 20_000 - Store.sweepBatch - swept + 1)
        _ = store.endTurn()
        XCTAssertEqual(try store.elementEntryCount(), 0)
        XCTAssertEqual(try store.garbageCount(), 0)
        XCTAssertEqual(store.sweptVersions, 1)
        XCTAssertEqual(store.sweptEntries, 20_000)
    }

    func testFreedPagesShowAsFreeBytesWhileTheFileKeepsItsSize() throws {
        let value = ByteBuffer(bytes: [UInt8](repeating: 7, count: 1024))
        for i in 0..<4000 { try store.put(db: 0, key: b("k\(i)"), record: Record(value: value)) }
        _ = store.endTurn()
        let full = store.space()
        XCTAssertGreaterThan(full.dataBytes, 4000 * 1024)
        XCTAssertGreaterThanOrEqual(full.fileBytes, full.highWaterBytes)
        for i in 0..<4000 { try store.delete(db: 0, key: b("k\(i)")) }
        _ = store.endTurn()
        let emptied = store.space()
        XCTAssertGreaterThanOrEqual(emptied.highWaterBytes, full.highWaterBytes, "LMDB never lowers its high-water mark")
        XCTAssertGreaterThanOrEqual(emptied.fileBytes, full.fileBytes, "nor shortens its file")
        XCTAssertLessThan(emptied.dataBytes, full.dataBytes / 10, "the deleted pages are on the free list: \(emptied)")
        XCTAssertEqual(emptied.dataBytes + emptied.freeBytes, emptied.highWaterBytes)
    }
}
