import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import XCTest
@testable import LodeStore

final class HotCacheTests: XCTestCase {
    private func key(_ s: String) -> CacheKey { CacheKey(db: 0, key: ByteBuffer(string: s)) }
    private func record(_ bytes: Int) -> Record { Record(value: ByteBuffer(repeating: 0x61, count: bytes)) }

    func testCapacityIsRespectedByBytes() {
        let cache = HotCache(capacity: 100_000)
        for i in 0..<10_000 { cache.put(key("k\(i)"), record(100)) }
        XCTAssertLessThanOrEqual(cache.usedBytes, 100_000)
        XCTAssertGreaterThan(cache.evictions, 0)
        XCTAssertGreaterThan(cache.count, 100)
    }

    /// A read-through access as the store does it: a miss then an insert.
    private func access(_ cache: HotCache, _ k: String, bytes: Int = 100) {
        if cache.get(key(k)) == nil { cache.put(key(k), record(bytes)) }
    }

    private func survivors(_ cache: HotCache, _ keys: [String]) -> Int {
        keys.filter { cache.peek(db: 0, key: ByteBuffer(string: $0)) != nil }.count
    }

    func testCapacityIsRespectedByBytesForEveryPolicy() {
        for policy in EvictionPolicy.allCases {
            let cache = HotCache(capacity: 200_000, policy: policy)
            for i in 0..<20_000 { access(cache, "k\(i)", bytes: 50 + i % 200) }
            XCTAssertLessThanOrEqual(cache.usedBytes, 200_000, "\(policy)")
            XCTAssertGreaterThan(cache.usedBytes, 150_000, "\(policy)")
        }
    }

    func testHotKeysSurviveAOnePassScanWithS3FIFO() {
        let hot = (0..<200).map { "hot\($0)" }
        func run(_ policy: EvictionPolicy) -> Int {
            let cache = HotCache(capacity: 1000 * (HotCache.entryOverhead + 110), policy: policy)
            for _ in 0..<5 { for k in hot { access(cache, k) } }
            for i in 0..<50_000 { access(cache, "scan\(i)") }  // every key once
            return survivors(cache, hot)
        }
        XCTAssertGreaterThanOrEqual(run(.s3fifo), 190)
        XCTAssertEqual(run(.lru), 0)  // LRU is flushed by the scan: the contrast the policy exists for
    }

    func testFrequencyBeatsRecency() {
        let cache = HotCache(capacity: 500 * (HotCache.entryOverhead + 110), policy: .s3fifo)
        let popular = (0..<100).map { "pop\($0)" }
        for _ in 0..<4 { for k in popular { access(cache, k) } }
        // Many keys used twice each, more recently than the popular ones.
        for round in 0..<20 {
            for i in 0..<200 { access(cache, "r\(round)-\(i)"); access(cache, "r\(round)-\(i)") }
        }
        XCTAssertGreaterThanOrEqual(survivors(cache, popular), 90)
    }

    func testGhostSendsReturningKeysToMain() {
        let cache = HotCache(capacity: 100 * (HotCache.entryOverhead + 110), policy: .s3fifo)
        for i in 0..<1000 { access(cache, "k\(i)") }
        XCTAssertGreaterThan(cache.ghostCount, 0)
        XCTAssertGreaterThan(cache.evictions, 0)
    }

    func testStatsReportFrequencyAndIdleTime() {
        let cache = HotCache(capacity: 1 << 20, policy: .s3fifo)
        cache.clock = 100
        access(cache, "a")
        _ = cache.get(key("a"))
        _ = cache.get(key("a"))
        cache.clock = 130
        let s = cache.stats(db: 0, key: ByteBuffer(string: "a"))
        XCTAssertEqual(s?.freq, 2)
        XCTAssertEqual(s?.idleSeconds, 30)
    }

    func testReplaceUpdatesAccountingAndRemoveFrees() {
        let cache = HotCache(capacity: 1 << 20)
        cache.put(key("a"), record(10))
        let small = cache.usedBytes
        cache.put(key("a"), record(1000))
        XCTAssertEqual(cache.usedBytes, small + 990)
        cache.remove(key("a"))
        XCTAssertEqual(cache.usedBytes, 0)
        XCTAssertNil(cache.get(key("a")))
    }

    func testHugeValuesAreNotCached() {
        let cache = HotCache(capacity: 10_000)
        cache.put(key("big"), record(8_000))
        XCTAssertNil(cache.get(key("big")))
        XCTAssertEqual(cache.usedBytes, 0)
    }
}
