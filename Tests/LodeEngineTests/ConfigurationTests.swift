import NIOCore
import XCTest
@testable import LodeEngine

final class GlobMatchTests: XCTestCase {
    private func m(_ p: String, _ s: String, noCase: Bool = false) -> Bool { globMatch(Array(p.utf8), Array(s.utf8), noCase: noCase) }

    func testRedisGlobSemantics() {
        XCTAssertTrue(m("*", "anything"))
        XCTAssertTrue(m("h?llo", "hello"))
        XCTAssertTrue(m("h[ae]llo", "hallo"))
        XCTAssertFalse(m("h[^e]llo", "hello"))
        XCTAssertTrue(m("h[b-a]llo", "hallo"))  // reversed ranges are swapped
        XCTAssertTrue(m("h\\*llo", "h*llo"))
        XCTAssertFalse(m("h\\*llo", "hello"))
        XCTAssertTrue(m("a*b*c", "aXXbYYc"))
        XCTAssertFalse(m("a*b*c", "aXXbYY"))
        XCTAssertTrue(m("SAVE", "save", noCase: true))
    }
}

final class ConfigurationTests: XCTestCase {
    func testFileAndCommandLine() throws {
        let text = "# comment\nport 7000\nappendfsync always\ncache-max-memory 32mb\n"
        let c = try Configuration.fromCommandLine(["x.conf", "--port", "7001"]) { _ in text }
        XCTAssertEqual(c.port, 7001)
        XCTAssertEqual(c.appendFsync, .always)
        XCTAssertEqual(c.cacheMaxMemory, 32 << 20)
    }

    func testErrorsNameFileAndLine() {
        XCTAssertThrowsError(try Configuration.fromCommandLine(["my.conf"]) { _ in "port 1\nbogus 2\n" }) {
            XCTAssertTrue("\($0)".hasPrefix("my.conf:2:"), "\($0)")
        }
        XCTAssertThrowsError(try Configuration.fromCommandLine(["my.conf"]) { _ in "port banana\n" }) {
            XCTAssertTrue("\($0)".hasPrefix("my.conf:1:"), "\($0)")
        }
    }

    func testMemoryUnits() {
        XCTAssertEqual(Configuration.parseMemory("1k"), 1000)
        XCTAssertEqual(Configuration.parseMemory("1kb"), 1024)
        XCTAssertEqual(Configuration.parseMemory("2gb"), 2 << 30)
        XCTAssertNil(Configuration.parseMemory("12x"))
    }

    /// default.conf must list every option the server knows, with its default.
    func testDefaultConfListsEveryOptionWithItsDefault() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("default.conf")
        let text = try String(contentsOf: url, encoding: .utf8)
        var listed = Set<String>()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            listed.insert(String(line.split(separator: " ")[0]))
        }
        XCTAssertEqual(listed, Set(Configuration.options.filter { $0.aliasOf == nil }.map(\.name)), "aliases are not listed")
        let parsed = try Configuration.fromCommandLine([url.path]) { try String(contentsOfFile: $0, encoding: .utf8) }
        let defaults = Configuration()
        for o in Configuration.options {
            XCTAssertEqual(o.get(parsed), o.get(defaults), "default.conf value of \(o.name)")
        }
    }
}

final class UnknownCommandTests: XCTestCase {
    func testFormatMatchesRedis() {
        let args = ["foo", "a\0b", String(repeating: "x", count: 200)].map { ByteBuffer(string: $0) }
        let text = String(decoding: unknownCommandError(args), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("ERR unknown command 'foo', with args beginning with: 'a' 'xxx"))
        XCTAssertEqual(text.count, "ERR unknown command 'foo', with args beginning with: ".count + 4 + 1 + 124 + 2)
    }
}
