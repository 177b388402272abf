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
            XCTAssertEqual("\($0)", "Reading the configuration file, at line 2 of my.conf\n>>> 'bogus 2'\n"
                           + "Bad directive or wrong number of arguments")
        }
        XCTAssertThrowsError(try Configuration.fromCommandLine(["my.conf"]) { _ in "port banana\n" }) {
            XCTAssertEqual("\($0)", "Reading the configuration file, at line 1 of my.conf\n>>> 'port banana'\n"
                           + "argument couldn't be parsed into an integer")
        }
        XCTAssertThrowsError(try Configuration.fromCommandLine(["my.conf"]) { _ in "hz 10 20\n" }) {
            XCTAssertTrue("\($0)".hasSuffix("wrong number of arguments"), "\($0)")
        }
    }

    func testMemoryUnits() {
        XCTAssertEqual(Configuration.parseMemory("1k"), 1000)
        XCTAssertEqual(Configuration.parseMemory("1kb"), 1024)
        XCTAssertEqual(Configuration.parseMemory("2gb"), 2 << 30)
        XCTAssertEqual(Configuration.parseMemory("1tb"), 1 << 40)
        XCTAssertNil(Configuration.parseMemory("12x"))
        // Redis's memtoull: no sign, units in any case, C's overflow behaviour.
        XCTAssertEqual(RedisConfigSpec.memtoull("10KB"), 10240)
        XCTAssertEqual(RedisConfigSpec.memtoull(""), 0)
        XCTAssertNil(RedisConfigSpec.memtoull("-1"))
        XCTAssertNil(RedisConfigSpec.memtoull("+1"))
        XCTAssertEqual(RedisConfigSpec.memtoull("18446744073709551616"), UInt64.max)
        XCTAssertEqual(RedisConfigSpec.memtoull("99999999999999999999gb"), UInt64.max &* (1 << 30))
    }

    func testIncludeAndDeprecatedDirectivesAndSaveLines() throws {
        let files = ["main.conf": "include extra.conf\nlist-max-ziplist-entries 512\nsave 900 1\nsave 300 10\nhz 20\n",
                     "extra.conf": "hz 15\nmaxmemory 2mb\nslave-read-only no\n"]
        let c = try Configuration.fromCommandLine(["main.conf"]) { path in
            guard let text = files[path] else { throw ConfigError("no such file") }
            return text
        }
        XCTAssertEqual(c.hz, 20, "the line after the include wins")
        XCTAssertEqual(c.cacheBudget, 2 << 20, "maxmemory is the cache budget")
        XCTAssertEqual(Configuration.optionsByName["save"]!.get(c), "900 1 300 10", "save lines add up within the files")
        XCTAssertEqual(Configuration.optionsByName["replica-read-only"]!.get(c), "no", "aliases set their parameter")
        XCTAssertThrowsError(try Configuration.fromCommandLine(["main.conf"]) { path in
            guard path == "main.conf" else { throw ConfigError("no such file") }
            return "include missing.conf\n"
        }) {
            XCTAssertTrue("\($0)".contains("can't open config file 'missing.conf'"), "\($0)")
        }
        XCTAssertThrowsError(try Configuration.fromCommandLine(["loop.conf"]) { _ in "include loop.conf\n" }) {
            XCTAssertTrue("\($0)".hasSuffix("include nested too deeply (an include loop?)"), "\($0)")
        }
    }

    func testRewriteKeepsCommentsAndOrder() throws {
        var c = Configuration()
        let old = "# my settings\nport 7000\n\n\n# keep me\nhz 10\nsave 900 1\nsave 300 10\nbogus-option 1\nslaveof no one\n"
        try c.apply(fileText: old.replacingOccurrences(of: "bogus-option 1\n", with: ""), path: "x.conf")
        _ = Configuration.optionsByName["hz"]!.set(&c, ["25"])
        _ = Configuration.optionsByName["save"]!.set(&c, ["60", "5"])
        _ = Configuration.optionsByName["maxmemory"]!.set(&c, ["3gb"])
        _ = Configuration.optionsByName["logfile"]!.set(&c, ["with space.log"])
        let text = ConfigRewriter.rewrite(old, with: c)
        XCTAssertEqual(text, "# my settings\nport 7000\n\n# keep me\nhz 25\nsave 60 5\n\n# ??? bogus-option 1\n\n"
                       + "# Generated by CONFIG REWRITE\nlogfile \"with space.log\"\nmaxmemory 3gb\n"
                       + "dir \"\(Configuration.absolutePath("./data"))\"\n")
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
