import NIOCore
import XCTest
@testable import LodeRESP

final class RequestParserTests: XCTestCase {
    /// Feeds `input` split into two reads at `split`, the way the connection does
    /// (a leftover is kept and the next read appended), and collects the requests.
    private func parse(_ input: [UInt8], split: Int, maxBulk: Int = 512 << 20) throws -> [[String]] {
        var parser = RESPRequestParser(maxBulkLength: maxBulk)
        var out: [[String]] = []
        var pending = ByteBuffer()
        for chunk in [Array(input[..<split]), Array(input[split...])] {
            pending.writeBytes(chunk)
            while let r = try parser.next(from: &pending) {
                if case .command(let args) = r { out.append(args.map { String(buffer: $0) }) }
            }
        }
        XCTAssertEqual(pending.readableBytes, 0, "unconsumed bytes")
        return out
    }

    private func assertEverySplit(_ text: String, _ expected: [[String]], file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = Array(text.utf8)
        for split in 0...bytes.count {
            XCTAssertEqual(try parse(bytes, split: split), expected, "split at \(split)", file: file, line: line)
        }
    }

    func testMultibulkAtEverySplit() throws {
        try assertEverySplit("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", [["SET", "k", "hello"]])
    }

    func testPipelineAtEverySplit() throws {
        try assertEverySplit("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\nPING\r\n",
                             [["PING"], ["GET", ""], ["PING"]])
    }

    func testInlineAtEverySplit() throws {
        try assertEverySplit("SET \"a b\" 'c d' e\r\nPING\n", [["SET", "a b", "c d", "e"], ["PING"]])
    }

    func testBinarySafeBulk() throws {
        try assertEverySplit("*1\r\n$4\r\na\r\nb\r\n", [["a\r\nb"]])
    }

    func testEmptyRequestsAreIgnored() throws {
        try assertEverySplit("\r\n*0\r\n*-1\r\nPING\r\n", [["PING"]])
    }

    private func error(_ text: String, maxBulk: Int = 512 << 20) -> String? {
        var parser = RESPRequestParser(maxBulkLength: maxBulk)
        var b = ByteBuffer(string: text)
        do {
            while try parser.next(from: &b) != nil {}
            return nil
        } catch {
            return error.message
        }
    }

    func testMalformedInputsGiveRedisErrors() {
        XCTAssertEqual(error("*x\r\n"), "invalid multibulk length")
        XCTAssertEqual(error("*2147483648\r\n"), "invalid multibulk length")
        XCTAssertEqual(error("*1\r\n+foo\r\n"), "expected '$', got '+'")
        XCTAssertEqual(error("*1\r\n$-1\r\n"), "invalid bulk length")
        XCTAssertEqual(error("*1\r\n$abc\r\n"), "invalid bulk length")
        XCTAssertEqual(error("*1\r\n$2000000\r\n", maxBulk: 1 << 20), "invalid bulk length")
        XCTAssertEqual(error("SET \"a\r\n"), "unbalanced quotes in request")
        XCTAssertEqual(error("SET \"a\"b\r\n"), "unbalanced quotes in request")
        XCTAssertEqual(error(String(repeating: "a", count: 70_000)), "too big inline request")
        XCTAssertEqual(error("*" + String(repeating: "1", count: 70_000)), "too big mbulk count string")
        XCTAssertEqual(error("*1\r\n$" + String(repeating: "1", count: 70_000)), "too big bulk count string")
    }

    func testIncompleteInputIsNotAnError() {
        XCTAssertNil(error("*3\r\n$3\r\nSET\r\n$1\r\nk"))
        XCTAssertNil(error("*1\r\n$100\r\n"))
        XCTAssertNil(error("PING"))
    }

    func testUnauthenticatedLimits() {
        var parser = RESPRequestParser()
        parser.unauthenticated = true
        var b = ByteBuffer(string: "*11\r\n")
        XCTAssertThrowsError(try parser.next(from: &b)) {
            XCTAssertEqual(($0 as? RESPProtocolError)?.message, "unauthenticated multibulk length")
        }
        var c = ByteBuffer(string: "*1\r\n$20000\r\n")
        XCTAssertThrowsError(try parser.next(from: &c)) {
            XCTAssertEqual(($0 as? RESPProtocolError)?.message, "unauthenticated bulk length")
        }
    }

    func testLargeBulkArrivingInSmallReadsIsParsedOnce() throws {
        var parser = RESPRequestParser()
        let payload = [UInt8](repeating: 0x61, count: 1 << 20)
        var whole = ByteBuffer(string: "*2\r\n$3\r\nSET\r\n$\(payload.count)\r\n")
        whole.writeBytes(payload)
        whole.writeString("\r\n")
        var pending = ByteBuffer()
        var result: [ByteBuffer]? = nil
        while whole.readableBytes > 0 {
            var chunk = whole.readSlice(length: min(4096, whole.readableBytes))!
            pending.writeBuffer(&chunk)
            if case .command(let args)? = try parser.next(from: &pending) { result = args }
        }
        XCTAssertEqual(result?.count, 2)
        XCTAssertEqual(result?[1].readableBytes, payload.count)
    }

    func testSplitArgumentsEscapes() {
        XCTAssertEqual(splitInlineArguments(Array("a \"\\x41\\n\" 'it\\'s'".utf8)),
            [Array("a".utf8), Array("A\n".utf8), Array("it's".utf8)])
        XCTAssertEqual(splitInlineArguments(Array("   ".utf8)), [])
        XCTAssertNil(splitInlineArguments(Array("'abc".utf8)))
    }

    func testRedisIntegerParsing() {
        func p(_ s: String) -> Int? { Array(s.utf8).withUnsafeBytes { parseRedisInteger($0) } }
        XCTAssertEqual(p("0"), 0)
        XCTAssertEqual(p("-9223372036854775808"), Int.min)
        XCTAssertEqual(p("9223372036854775807"), Int.max)
        XCTAssertNil(p("9223372036854775808"))
        XCTAssertNil(p("-0"))
        XCTAssertNil(p("01"))
        XCTAssertNil(p("+1"))
        XCTAssertNil(p(" 1"))
        XCTAssertNil(p(""))
    }
}

final class ReplyWriterTests: XCTestCase {
    private func written(_ body: (inout ByteBuffer) -> Void) -> String {
        var b = ByteBuffer()
        body(&b)
        return String(buffer: b)
    }

    func testIntegers() {
        for v in [0, 7, 10, -1, 123_456_789, Int.max, Int.min] {
            XCTAssertEqual(written { $0.writeIntegerReply(v) }, ":\(v)\r\n")
        }
    }

    func testNullsAndAggregatesDependOnProtocol() {
        XCTAssertEqual(written { $0.writeNull(.resp2) }, "$-1\r\n")
        XCTAssertEqual(written { $0.writeNull(.resp3) }, "_\r\n")
        XCTAssertEqual(written { $0.writeNullArray(.resp2) }, "*-1\r\n")
        XCTAssertEqual(written { $0.writeMapHeader(2, .resp2) }, "*4\r\n")
        XCTAssertEqual(written { $0.writeMapHeader(2, .resp3) }, "%2\r\n")
        XCTAssertEqual(written { $0.writeBoolean(true, .resp3) }, "#t\r\n")
        XCTAssertEqual(written { $0.writeVerbatim("hi", version: .resp3) }, "=6\r\ntxt:hi\r\n")
        XCTAssertEqual(written { $0.writeVerbatim("hi", version: .resp2) }, "$2\r\nhi\r\n")
    }

    func testBulkAndErrors() {
        XCTAssertEqual(written { $0.writeBulk(ByteBuffer(string: "a\r\nb")) }, "$4\r\na\r\nb\r\n")
        XCTAssertEqual(written { $0.writeError("ERR bad\r\nthing\n") }, "-ERR bad  thing\r\n")
    }
}
