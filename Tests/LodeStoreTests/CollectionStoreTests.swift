import Foundation
import NIOCore
import XCTest
@testable import LodeStore

final class CollectionStoreTests: StoreTestCase {
    func testElementsIncludingLongNames() throws {
        let v = store.newVersion()
        let long1 = String(repeating: "f", count: 600) + "1"
        let long2 = String(repeating: "f", count: 600) + "2"
        XCTAssertTrue(try store.setElement(version: v, b("a"), value: b("1"), hashed: true))
        XCTAssertFalse(try store.setElement(version: v, b("a"), value: b("2"), hashed: true))
        XCTAssertTrue(try store.setElement(version: v, b(long1), value: b("L1"), hashed: true))
        XCTAssertTrue(try store.setElement(version: v, b(long2), value: b("L2"), hashed: true))
        XCTAssertEqual(try store.element(version: v, b("a"), hashed: true), b("2"))
        XCTAssertEqual(try store.element(version: v, b(long1), hashed: true), b("L1"))
        XCTAssertEqual(try store.element(version: v, b(long2), hashed: true), b("L2"))
        var names = Set<String>()
        _ = try store.elements(version: v, hashed: true) { n, _ in names.insert(String(buffer: n)); return true }
        XCTAssertEqual(names, ["a", long1, long2])
        XCTAssertTrue(try store.removeElement(version: v, b(long1), hashed: true))
        XCTAssertNil(try store.element(version: v, b(long1), hashed: true))
        XCTAssertEqual(try store.element(version: v, b(long2), hashed: true), b("L2"))
    }

    func testVersionsAreUniqueAndIsolated() throws {
        let v1 = store.newVersion(), v2 = store.newVersion()
        XCTAssertLessThan(v1, v2)
        try store.setElement(version: v1, b("x"), value: b("1"), hashed: true)
        XCTAssertNil(try store.element(version: v2, b("x"), hashed: true))
    }

    func testDeletingACollectionSweepsItsElementsInSmallSteps() throws {
        let v = store.newVersion()
        for i in 0..<5000 { try store.setElement(version: v, b("m\(i)"), value: b(""), hashed: true) }
        try store.put(db: 0, key: b("set"), record: Record(type: .set, expireAt: 0, meta: CollectionMeta(version: v, size: 5000)))
        _ = store.endTurn()
        XCTAssertEqual(try store.elementEntryCount(), 5000)
        XCTAssertTrue(try store.delete(db: 0, key: b("set")))  // O(1): elements become garbage
        XCTAssertEqual(try store.garbageCount(), 1)
        var steps = 0
        while try store.sweepGarbage(limit: 1000) > 0 {
            _ = store.endTurn()
            steps += 1
        }
        _ = store.endTurn()
        XCTAssertEqual(steps, 6)  // five batches of 1,000 elements, then the version record
        XCTAssertEqual(try store.elementEntryCount(), 0)
        XCTAssertEqual(try store.garbageCount(), 0)
    }

    func testOverwritingWithAStringDiscardsElementsButMetadataUpdatesDoNot() throws {
        let v = store.newVersion()
        try store.setElement(version: v, b("f"), value: b("1"), hashed: true)
        try store.put(db: 0, key: b("h"), record: Record(type: .hash, expireAt: 0, meta: CollectionMeta(version: v, size: 1)))
        try store.put(db: 0, key: b("h"),
            record: Record(type: .hash, expireAt: 99_999_999_999_999, meta: CollectionMeta(version: v, size: 1)))
        XCTAssertEqual(try store.garbageCount(), 0)
        try store.put(db: 0, key: b("h"), record: Record(value: b("now a string")))
        XCTAssertEqual(try store.garbageCount(), 1)
        _ = store.endTurn()
    }

    func testOneSweepReclaimsManySmallCollections() throws {
        for i in 0..<300 {
            let v = store.newVersion()
            for j in 0..<3 { try store.setElement(version: v, b("f\(j)"), value: b("x"), hashed: true) }
            try store.put(db: 0, key: b("h\(i)"), record: Record(type: .hash, expireAt: 0, meta: CollectionMeta(version: v, size: 3)))
        }
        _ = store.endTurn()
        for i in 0..<300 { try store.delete(db: 0, key: b("h\(i)")) }
        _ = store.endTurn()
        XCTAssertEqual(try store.garbageCount(), 300)
        XCTAssertEqual(try store.sweepGarbage(limit: 2000), 1200)  // 900 elements + 300 version records
        _ = store.endTurn()
        XCTAssertEqual(try store.garbageCount(), 0)
        XCTAssertEqual(try store.elementEntryCount(), 0)
    }

    func testRenameKeepsElements() throws {
        let v = store.newVersion()
        try store.setElement(version: v, b("f"), value: b("1"), hashed: true)
        let r = Record(type: .hash, expireAt: 0, meta: CollectionMeta(version: v, size: 1))
        try store.put(db: 0, key: b("new"), record: r)
        try store.put(db: 0, key: b("old"), record: r)
        XCTAssertTrue(try store.delete(db: 0, key: b("old"), keepElements: true))
        XCTAssertEqual(try store.garbageCount(), 0)
        XCTAssertEqual(try store.get(db: 0, key: b("new"), now: 0)?.collection?.version, v)
        _ = store.endTurn()
    }
}
