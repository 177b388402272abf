import Foundation
import LodeEngine
import LodeStore
import Logging
import NIOCore
import NIOEmbedded
import XCTest
@testable import LodeNet

/// The connection handler and the turn coordinator in-process, on NIO's
/// EmbeddedChannel: bytes in, one commit per turn for every client, replies out
/// only after the commit (and, under `always`, after the fsync).
final class ConnectionTurnTests: XCTestCase {
    var dir: String!
    var server: ServerState!
    var coordinator: TurnCoordinator!
    let loop = EmbeddedEventLoop()

    private func start(_ fsync: Configuration.FsyncPolicy = .everysec) throws {
        dir = NSTemporaryDirectory() + "lode-net-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var options = Store.Options(path: dir)
        options.mapSize = 1 << 26
        var config = Configuration()
        config.appendFsync = fsync
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try Store(options: options)
        store.logging = true  // as the server runs it: each turn is a commit-log record
        server = ServerState(config: config, store: store, logger: logger, configFile: nil)
        coordinator = TurnCoordinator(server: server, loop: loop)
    }

    override func tearDown() {
        server?.store.close()
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    private func connect() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ConnectionHandler(server: server, coordinator: coordinator), loop: loop)
        channel.pipeline.fireChannelActive()
        return channel
    }

    private func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    private func replies(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let b = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: b) }
        return text
    }

    func testPipelinedRequestsAnswerInOrderAfterTheTurn() throws {
        try start()
        let c = try connect()
        try send(c, "SET a 1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nPING\r\n")
        XCTAssertEqual(try replies(c), "", "nothing goes out before the turn ends")
        loop.run()
        XCTAssertEqual(try replies(c), "+OK\r\n$1\r\n1\r\n+PONG\r\n")
    }

    func testARequestSplitAcrossReadsIsCumulated() throws {
        try start()
        let c = try connect()
        for piece in ["*3\r\n$3\r\nSE", "T\r\n$1\r\nk\r\n$3\r", "\nabc\r\n"] { try send(c, piece) }
        loop.run()
        XCTAssertEqual(try replies(c), "+OK\r\n")
    }

    func testOneCommitForEveryClientsWritesInATurn() throws {
        try start()
        let a = try connect(), b = try connect()
        try send(a, "SET x 1\r\n")
        try send(b, "SET y 2\r\nINCR x\r\n")
        loop.run()
        XCTAssertEqual(server.stats.commits, 1, "group commit: one commit-log record for the turn")
        XCTAssertEqual(try replies(a), "+OK\r\n")
        XCTAssertEqual(try replies(b), "+OK\r\n:2\r\n")
        try send(a, "GET x\r\n")
        loop.run()
        XCTAssertEqual(server.stats.commits, 1, "a read commits nothing")
        XCTAssertEqual(try replies(a), "$1\r\n2\r\n")
    }

    func testAlwaysHoldsWriteRepliesUntilTheirSync() throws {
        try start(.always)
        let writer = try connect(), reader = try connect()
        try send(writer, "SET k v\r\n")
        try send(reader, "PING\r\n")
        loop.run()
        XCTAssertEqual(try replies(reader), "+PONG\r\n", "a client without writes is not held")
        XCTAssertEqual(try replies(writer), "", "held until the fsync of its commit")
        coordinator.synced(server.store.loggedSequence)
        XCTAssertEqual(try replies(writer), "+OK\r\n")
    }

    func testProtocolErrorRepliesThenCloses() throws {
        try start()
        let c = try connect()
        try send(c, "PING\r\n*1\r\n+x\r\n")
        loop.run()
        XCTAssertEqual(try replies(c), "+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n")
        XCTAssertFalse(c.isActive)
    }

    func testBlockedClientsLaterInputWaitsAndRunsWhenServed() throws {
        try start()
        let waiter = try connect(), pusher = try connect()
        try send(waiter, "BLPOP q 0\r\nPING\r\n")
        loop.run()
        XCTAssertEqual(try replies(waiter), "")
        try send(pusher, "LPUSH q a\r\n")
        loop.run()
        XCTAssertEqual(try replies(pusher), ":1\r\n")
        XCTAssertEqual(try replies(waiter), "*2\r\n$1\r\nq\r\n$1\r\na\r\n+PONG\r\n")
    }
}
