import Foundation
import LodeStore
import Logging
import NIOCore
import NIOEmbedded
import XCTest
@testable import LodeEngine

/// MULTI/EXEC/WATCH and pub/sub through the real dispatch path, in-process.
final class TransactionPubSubTests: EngineTestCase {
    func testQueuedCommandsRunAtExecWithPerCommandErrors() throws {
        let c = try session()
        XCTAssertEqual(run(c, "MULTI"), "+OK\r\n")
        XCTAssertTrue(c.state.inTransaction)
        XCTAssertEqual(run(c, "SET", "a", "x"), "+QUEUED\r\n")
        XCTAssertEqual(run(c, "INCR", "a"), "+QUEUED\r\n")
        XCTAssertEqual(run(c, "BLPOP", "empty", "0"), "+QUEUED\r\n")
        XCTAssertEqual(run(c, "MULTI"), "-ERR MULTI calls can not be nested\r\n")
        XCTAssertEqual(run(c, "WATCH", "a"), "-ERR WATCH inside MULTI is not allowed\r\n")
        XCTAssertEqual(run(c, "EXEC"), "*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n*-1\r\n",
                       "runtime errors are per command; a blocking pop answers at once")
        XCTAssertFalse(c.state.inTransaction)
        XCTAssertEqual(run(c, "EXEC"), "-ERR EXEC without MULTI\r\n")
    }

    func testQueuingErrorAbortsTheWholeTransaction() throws {
        let c = try session()
        run(c, "MULTI")
        run(c, "SET", "k", "1")
        XCTAssertEqual(run(c, "GET"), "-ERR wrong number of arguments for 'get' command\r\n")
        XCTAssertEqual(run(c, "SHUTDOWN"), "-ERR Command not allowed inside a transaction\r\n")
        XCTAssertEqual(run(c, "EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n")
        XCTAssertEqual(run(c, "GET", "k"), "$-1\r\n", "nothing of it was applied")
    }

    func testWatchedKeyTouchedByAnotherClientFailsExec() throws {
        let a = try session(), b = try session()
        XCTAssertEqual(run(a, "WATCH", "w", "other"), "+OK\r\n")
        run(b, "SET", "w", "changed")
        run(a, "MULTI")
        run(a, "SET", "w", "mine")
        XCTAssertEqual(run(a, "EXEC"), "*-1\r\n")
        XCTAssertEqual(run(a, "GET", "w"), "$7\r\nchanged\r\n")
        // The watches are gone after EXEC: the next transaction runs.
        run(a, "MULTI")
        run(a, "SET", "w", "mine")
        XCTAssertEqual(run(a, "EXEC"), "*1\r\n+OK\r\n")
    }

    func testWatchFollowsTheDatabaseIndexAndFlushTouchesOnlyExistingKeys() throws {
        let a = try session(), b = try session()
        run(b, "SET", "k", "v")
        run(a, "WATCH", "k", "absent")
        run(b, "SELECT", "1")
        run(b, "SET", "k", "db1")
        run(a, "MULTI")
        run(a, "PING")
        XCTAssertEqual(run(a, "EXEC"), "*1\r\n+PONG\r\n", "the same name in another database is another key")
        run(a, "WATCH", "absent")
        run(b, "SELECT", "0")
        run(b, "FLUSHDB")
        run(a, "MULTI")
        run(a, "PING")
        XCTAssertEqual(run(a, "EXEC"), "*1\r\n+PONG\r\n", "FLUSHDB touches only watched keys that exist")
        run(b, "SET", "k", "v")
        run(a, "WATCH", "k")
        run(b, "FLUSHALL")
        run(a, "MULTI")
        XCTAssertEqual(run(a, "EXEC"), "*-1\r\n")
    }

    func testPublishReachesChannelAndPatternSubscribersInBothProtocols() throws {
        let sub2 = try session(), sub3 = try session(), pub = try session()
        XCTAssertEqual(run(sub2, "SUBSCRIBE", "news"), "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        XCTAssertEqual(run(sub2, "PSUBSCRIBE", "n*"), "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:2\r\n")
        XCTAssertEqual(run(sub2, "GET", "k"), "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
                       + "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
        XCTAssertEqual(run(sub2, "PING"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n")
        run(sub3, "HELLO", "3")
        XCTAssertEqual(run(sub3, "SUBSCRIBE", "news"), ">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        XCTAssertEqual(run(sub3, "GET", "k"), "_\r\n", "RESP3 allows any command while subscribed")
        XCTAssertEqual(run(pub, "PUBLISH", "news", "hi"), ":3\r\n")
        XCTAssertEqual(output(sub2), "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
                       + "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n")
        XCTAssertEqual(output(sub3), ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n")
        XCTAssertEqual(run(pub, "PUBSUB", "NUMSUB", "news", "none"), "*4\r\n$4\r\nnews\r\n:2\r\n$4\r\nnone\r\n:0\r\n")
        XCTAssertEqual(run(sub2, "UNSUBSCRIBE"), "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        XCTAssertEqual(run(sub2, "RESET"), "+RESET\r\n")
        XCTAssertEqual(run(pub, "PUBLISH", "news", "again"), ":1\r\n", "RESET dropped the pattern too")
        sub3.channelClosed()
        XCTAssertEqual(run(pub, "PUBLISH", "news", "gone"), ":0\r\n")
    }
}
