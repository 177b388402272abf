import Foundation
import LodeStore
import Logging
import NIOCore
import NIOEmbedded
import XCTest
@testable import LodeEngine

/// Client-side caching: the tracking table on its own, and CLIENT TRACKING
/// through the real dispatch path, in-process.
final class TrackingTests: EngineTestCase {
    private func key(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    // MARK: the table

    func testReadersAreCountedOnceAndTakenWithTheKey() {
        let t = TrackingTable()
        t.remember(key("a"), for: 1)
        t.remember(key("a"), for: 1)
        t.remember(key("a"), for: 2)
        t.remember(key("b"), for: 1)
        XCTAssertEqual(t.keyCount, 2)
        XCTAssertEqual(t.totalItems, 3)
        XCTAssertEqual(t.takeReaders(of: key("a")), [1, 2])
        XCTAssertNil(t.takeReaders(of: key("a")), "an invalidated key is forgotten")
        XCTAssertEqual(t.totalItems, 1)
        t.removeAllKeys()
        XCTAssertEqual(t.keyCount, 0)
        XCTAssertEqual(t.totalItems, 0)
    }

    func testBroadcastsGroupModifiedKeysPerPrefixInByteOrder() {
        let t = TrackingTable()
        XCTAssertTrue(t.addPrefix(key("b:"), client: 7))
        XCTAssertTrue(t.addPrefix(key("a:"), client: 7))
        XCTAssertFalse(t.addPrefix(key("a:"), client: 7))
        XCTAssertTrue(t.noteModified(key("b:2"), by: 3))
        XCTAssertTrue(t.noteModified(key("b:1"), by: nil))
        XCTAssertTrue(t.noteModified(key("a:1"), by: 7))
        XCTAssertFalse(t.noteModified(key("c:1"), by: 7), "no prefix covers it")
        let sent = t.takeBroadcasts()
        XCTAssertEqual(sent.map { $0.keys.map { String(buffer: $0.0) } }, [["a:1"], ["b:1", "b:2"]])
        XCTAssertEqual(sent[0].keys[0].1, 7, "the last writer is kept for NOLOOP")
        XCTAssertFalse(t.hasPendingBroadcasts)
        t.removePrefix(key("a:"), client: 7)
        XCTAssertEqual(Array(t.prefixes.keys), [key("b:")])
    }

    func testPrefixCollisionsNameBothPrefixes() {
        XCTAssertEqual(TrackingTable.collision([key("FOOBAR"), key("FOO")], existing: []),
                       "ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. "
                       + "Prefixes for a single client must not overlap.")
        XCTAssertEqual(TrackingTable.collision([key("FO")], existing: [key("BAR"), key("FOO")]),
                       "ERR Prefix 'FO' overlaps with an existing prefix 'FOO'. "
                       + "Prefixes for a single client must not overlap.")
        XCTAssertNil(TrackingTable.collision([key("FOO"), key("BAR")], existing: [key("BAZ")]))
    }

    // MARK: through dispatch

    func testDefaultModeInvalidatesReadersOnceAndSkipsUnreadKeys() throws {
        let a = try session(), b = try session()
        run(a, "HELLO", "3")
        XCTAssertEqual(run(a, "CLIENT", "TRACKING", "on"), "+OK\r\n")
        run(a, "GET", "k")
        run(b, "SET", "unread", "1")
        XCTAssertEqual(run(b, "SET", "k", "1"), "+OK\r\n")
        XCTAssertEqual(output(a),
                       ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n")
        run(b, "SET", "k", "2")
        XCTAssertEqual(a.out.readableBytes, 0, "the key was forgotten with the first invalidation")
        XCTAssertEqual(server.tracking.trackingClients, 1)
        run(a, "CLIENT", "TRACKING", "off")
        XCTAssertEqual(server.tracking.trackingClients, 0)
    }

    func testOwnWriteIsInvalidatedAfterItsReplyAndNoloopSkipsIt() throws {
        let a = try session()
        run(a, "HELLO", "3")
        run(a, "CLIENT", "TRACKING", "on")
        run(a, "GET", "k")
        XCTAssertEqual(run(a, "SET", "k", "v"), "+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n")
        run(a, "CLIENT", "TRACKING", "on", "NOLOOP")
        run(a, "GET", "k")
        XCTAssertEqual(run(a, "SET", "k", "w"), "+OK\r\n")
    }

    func testClientReplyOffDropsRepliesButNotPushes() throws {
        let a = try session(), b = try session()
        run(a, "HELLO", "3")
        run(a, "CLIENT", "TRACKING", "on")
        run(a, "GET", "k")
        XCTAssertEqual(run(a, "CLIENT", "REPLY", "OFF"), "")
        XCTAssertEqual(run(a, "SET", "other", "1"), "")
        run(b, "SET", "k", "1")
        XCTAssertEqual(output(a),
                       ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n")
        XCTAssertEqual(run(a, "SUBSCRIBE", "ch"), ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
                       "a subscription's confirmation is a push")
        XCTAssertEqual(run(a, "CLIENT", "REPLY", "ON"), "+OK\r\n")
        XCTAssertEqual(run(a, "CLIENT", "REPLY", "SKIP"), "")
        XCTAssertEqual(run(a, "PING"), "")
        XCTAssertEqual(run(a, "PING"), "+PONG\r\n")
    }

    func testTableLimitForgetsKeysAndTellsTheirReaders() throws {
        let a = try session()
        run(a, "HELLO", "3")
        run(a, "CLIENT", "TRACKING", "on")
        run(a, "MGET", "k1", "k2", "k3", "k4")
        XCTAssertEqual(server.tracking.keyCount, 4)
        var config = server.config
        config.trackingTableMaxKeys = 1
        server.apply(config)
        server.cron(loop: loop)
        XCTAssertEqual(server.tracking.keyCount, 1)
        let pushes = output(a)
        XCTAssertEqual(pushes.components(separatedBy: "invalidate").count - 1, 3)
    }
}
