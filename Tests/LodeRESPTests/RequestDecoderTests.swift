import NIOCore
import NIOTestUtils
import XCTest
@testable import LodeRESP

/// The decoder as NIO frames it: the standard verifier (byte by byte, all at
/// once, EOF, leftovers), then pausing as a blocked client's input pauses.
final class RequestDecoderTests: XCTestCase {
    private func args(_ words: String...) -> [ByteBuffer] { words.map { ByteBuffer(string: $0) } }

    func testVerifierAcceptsMultibulkAndInlineRequests() throws {
        let pairs: [(String, [[ByteBuffer]])] = [
            ("*2\r\n$3\r\nGET\r\n$1\r\na\r\n", [args("GET", "a")]),
            ("PING\r\n", [args("PING")]),
            ("*1\r\n$4\r\nPING\r\n\r\n*0\r\nECHO \"x y\"\r\n", [args("PING"), args("ECHO", "x y")]),
            ("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", [args("SET", "k", "")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs) { RESPRequestDecoder() }
    }

    func testProtocolErrorsAreThrownWithRedisText() {
        let processor = NIOSingleStepByteToMessageProcessor(RESPRequestDecoder())
        XCTAssertThrowsError(try processor.process(buffer: ByteBuffer(string: "*1\r\n+x\r\n")) { _ in }) {
            XCTAssertEqual(($0 as? RESPProtocolError)?.message, "expected '$', got '+'")
        }
    }

    func testPausedDecoderLeavesLaterRequestsInTheBuffer() throws {
        let control = RESPInputControl()
        let processor = NIOSingleStepByteToMessageProcessor(RESPRequestDecoder(control: control))
        var seen: [[ByteBuffer]] = []
        // The first request pauses input (as a command that blocks does).
        try processor.process(buffer: ByteBuffer(string: "BLPOP q 0\r\nGET a\r\nGET b\r\n")) { request in
            seen.append(request)
            control.paused = true
        }
        XCTAssertEqual(seen, [args("BLPOP", "q", "0")])
        XCTAssertEqual(processor.unprocessedBytes, "GET a\r\nGET b\r\n".utf8.count)
        try processor.process(buffer: ByteBuffer(string: "GET c\r\n")) { seen.append($0) }
        XCTAssertEqual(seen.count, 1, "nothing is decoded while paused")
        control.paused = false
        try processor.process(buffer: ByteBuffer()) { seen.append($0) }
        XCTAssertEqual(seen, [args("BLPOP", "q", "0"), args("GET", "a"), args("GET", "b"), args("GET", "c")])
    }

    func testUnauthenticatedLimitFollowsTheControl() throws {
        let control = RESPInputControl()
        control.unauthenticated = true
        let processor = NIOSingleStepByteToMessageProcessor(RESPRequestDecoder(control: control))
        let big = "*11\r\n" + String(repeating: "$1\r\na\r\n", count: 11)
        XCTAssertThrowsError(try processor.process(buffer: ByteBuffer(string: big)) { _ in }) {
            XCTAssertEqual(($0 as? RESPProtocolError)?.message, "unauthenticated multibulk length")
        }
        control.unauthenticated = false
        let again = NIOSingleStepByteToMessageProcessor(RESPRequestDecoder(control: control))
        var count = 0
        try again.process(buffer: ByteBuffer(string: big)) { count += $0.count }
        XCTAssertEqual(count, 11)
    }
}
