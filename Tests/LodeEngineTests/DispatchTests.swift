import Foundation
import LodeStore
import Logging
import NIOCore
import NIOEmbedded
import XCTest
@testable import LodeEngine

/// Commands through the real dispatch path (table, arity, auth, handlers,
/// blocking) on a real store, with no network: sessions are fed requests and
/// their reply bytes are read back.
final class DispatchTests: EngineTestCase {
    func testStringsAndErrorsAsRedisWritesThem() throws {
        let c = try session()
        XCTAssertEqual(run(c, "SET", "k", "v"), "+OK\r\n")
        XCTAssertEqual(run(c, "get", "k"), "$1\r\nv\r\n")
        XCTAssertEqual(run(c, "INCR", "k"), "-ERR value is not an integer or out of range\r\n")
        XCTAssertEqual(run(c, "LPUSH", "k", "x"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        XCTAssertEqual(run(c, "GET"), "-ERR wrong number of arguments for 'get' command\r\n")
        XCTAssertEqual(run(c, "ACL", "s"),
                       "-ERR unknown command 'ACL', with args beginning with: 's' \r\n",
                       "a Redis command Lode does not implement is unknown, as in Redis")
        XCTAssertEqual(run(c, "EVAL", "return redis.call('get', KEYS[1])", "1", "k"), "$1\r\nv\r\n")
    }

    func testContainersAndSubcommands() throws {
        let c = try session()
        XCTAssertEqual(run(c, "CONFIG", "GET", "databases"), "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n")
        XCTAssertEqual(run(c, "CONFIG"), "-ERR wrong number of arguments for 'config' command\r\n")
        XCTAssertEqual(run(c, "CONFIG", "nope"), "-ERR unknown subcommand 'nope'. Try CONFIG HELP.\r\n")
        XCTAssertEqual(run(c, "CONFIG", "GET"), "-ERR wrong number of arguments for 'config|get' command\r\n")
        XCTAssertEqual(run(c, "COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"), "*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        XCTAssertEqual(run(c, "COMMAND", "GETKEYS", "PING", "x"), "-ERR The command has no key arguments\r\n")
        XCTAssertEqual(run(c, "COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "x", "a"), "-ERR Invalid arguments specified for command\r\n")
    }

    func testRequirePassGatesCommandsUntilAuth() throws {
        server.store.close()
        var config = Configuration()
        config.requirePass = "secret"
        try open(config: config)
        let c = try session()
        XCTAssertEqual(run(c, "GET", "k"), "-NOAUTH Authentication required.\r\n")
        XCTAssertTrue(c.input.unauthenticated, "the decoder applies Redis's unauthenticated limits")
        XCTAssertEqual(run(c, "AUTH", "secret"), "+OK\r\n")
        XCTAssertFalse(c.input.unauthenticated)
        XCTAssertEqual(run(c, "GET", "k"), "$-1\r\n")
    }

    func testBlockedClientIsServedByAnotherClientsPush() throws {
        let waiter = try session(), pusher = try session()
        var woken = 0
        waiter.onOutput = { woken += 1 }
        XCTAssertEqual(run(waiter, "BLPOP", "q", "0"), "")
        XCTAssertTrue(waiter.state.isBlocked)
        XCTAssertTrue(waiter.input.paused, "input waits while blocked")
        XCTAssertEqual(run(pusher, "RPUSH", "q", "a", "b"), ":2\r\n")
        XCTAssertEqual(String(buffer: waiter.takeOutput(allocator: ByteBufferAllocator())), "*2\r\n$1\r\nq\r\n$1\r\na\r\n")
        XCTAssertEqual(woken, 1)
        XCTAssertFalse(waiter.input.paused)
        XCTAssertEqual(run(pusher, "LRANGE", "q", "0", "-1"), "*1\r\n$1\r\nb\r\n")
        XCTAssertEqual(server.blockedCount, 0)
    }

    func testBlockTimesOutWithANullReply() throws {
        let c = try session()
        run(c, "BRPOP", "q", "0.5")
        loop.advanceTime(by: .milliseconds(400))
        XCTAssertTrue(c.state.isBlocked)
        loop.advanceTime(by: .milliseconds(200))
        XCTAssertFalse(c.state.isBlocked)
        XCTAssertEqual(String(buffer: c.takeOutput(allocator: ByteBufferAllocator())), "*-1\r\n")
    }

    func testQuitClosesAfterTheReplyAndDisconnectForgetsTheClient() throws {
        let c = try session()
        XCTAssertEqual(run(c, "QUIT"), "+OK\r\n")
        XCTAssertTrue(c.state.isClosing)
        XCTAssertEqual(run(c, "PING"), "", "nothing runs after QUIT")
        c.channelClosed()
        XCTAssertNil(server.clients[c.id])
    }
}
