import NIOCore
import XCTest
@testable import LodeEngine

/// The connection state machine alone: no channel, no server.
final class ConnectionStateTests: XCTestCase {
    private let args = [ByteBuffer(string: "BLPOP"), ByteBuffer(string: "q"), ByteBuffer(string: "1")]
    private let keys: [(UInt8, ByteBuffer)] = [(0, ByteBuffer(string: "q"))]

    func testNormalAcceptsCommands() {
        let s = ConnectionState()
        XCTAssertTrue(s.acceptsCommands)
        XCTAssertFalse(s.isBlocked)
        XCTAssertFalse(s.isClosing)
    }

    func testBlockServeAndBlockAgain() {
        var s = ConnectionState()
        XCTAssertEqual(s.block(args: args, keys: keys, deadline: 5), .register(deadline: 5, generation: 1))
        XCTAssertFalse(s.acceptsCommands, "a blocked client's later input waits")
        XCTAssertEqual(s.blockedCommand?.args, args)
        XCTAssertEqual(s.block(args: args, keys: keys, deadline: 9), .stayBlocked, "a retry that found nothing stays in line")
        XCTAssertEqual(s.served(), .unregisterAndResume)
        XCTAssertTrue(s.acceptsCommands)
        XCTAssertEqual(s.served(), .none)
        XCTAssertEqual(s.block(args: args, keys: keys, deadline: nil), .register(deadline: nil, generation: 2))
    }

    func testBlockedArgumentsAreCopiedOutOfTheReadBuffer() {
        var s = ConnectionState()
        var read = ByteBuffer(string: "BLPOPq")
        let slices = [read.getSlice(at: 0, length: 5)!, read.getSlice(at: 5, length: 1)!]
        _ = s.block(args: slices, keys: keys, deadline: nil)
        read.setString("XXXXXX", at: 0)
        XCTAssertEqual(s.blockedCommand?.args.map { String(buffer: $0) }, ["BLPOP", "q"])
    }

    func testOnlyTheCurrentBlocksTimeoutCounts() {
        var s = ConnectionState()
        _ = s.block(args: args, keys: keys, deadline: 1)
        _ = s.served()
        _ = s.block(args: args, keys: keys, deadline: 2)
        XCTAssertEqual(s.timeoutFired(generation: 1), .ignore, "the timer of an earlier block")
        XCTAssertEqual(s.timeoutFired(generation: 2), .replyTimedOut)
        XCTAssertTrue(s.acceptsCommands)
        XCTAssertEqual(s.timeoutFired(generation: 2), .ignore)
    }

    func testClosingStopsInputAndReportsABlock() {
        var s = ConnectionState()
        _ = s.block(args: args, keys: keys, deadline: nil)
        XCTAssertTrue(s.closeAfterReply(), "the wait must be given up")
        XCTAssertTrue(s.isClosing)
        XCTAssertFalse(s.acceptsCommands)
        XCTAssertEqual(s.block(args: args, keys: keys, deadline: nil), .ignore)
        XCTAssertFalse(s.channelClosed())
        XCTAssertTrue(s.isClosed)
    }
}
