import XCTest
@testable import LodeCommandSpec

/// Key positions from key specifications, checked against what Redis 7.0's
/// COMMAND GETKEYS answers for the same calls.
final class KeyExtractionTests: XCTestCase {
    private func command(_ name: String) -> CommandDescription {
        guard let d = RedisCommands.all.first(where: { $0.name == name }) else {
            XCTFail("no description for \(name)")
            return RedisCommands.all[0]
        }
        return d
    }

    private func keys(_ call: String...) -> [String]? {
        let words = call.map { Array($0.utf8) }
        let d = command(call[0].lowercased())
        return d.keyPositions(count: words.count) { words[$0] }.map { $0.map { call[$0.index] } }
    }

    func testRangeSpecs() {
        XCTAssertEqual(keys("GET", "a"), ["a"])
        XCTAssertEqual(keys("MSET", "a", "1", "b", "2"), ["a", "b"])
        XCTAssertEqual(keys("DEL", "a", "b", "c"), ["a", "b", "c"])
        XCTAssertEqual(keys("BLPOP", "a", "b", "0"), ["a", "b"])
        XCTAssertEqual(keys("SMOVE", "src", "dst", "m"), ["src", "dst"])
        XCTAssertEqual(keys("PING"), [])
    }

    func testKeynumSpecs() {
        XCTAssertEqual(keys("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"), ["d", "a", "b"])
        XCTAssertEqual(keys("LMPOP", "2", "a", "b", "LEFT"), ["a", "b"])
        XCTAssertNil(keys("ZUNIONSTORE", "d", "x", "a"), "a key count that is not a number")
        XCTAssertNil(keys("ZUNIONSTORE", "d", "5", "a"), "more keys than arguments")
        XCTAssertEqual(keys("EVAL", "return 1", "0"), [], "a key count of 0 names no keys")
        XCTAssertEqual(keys("EVAL", "s", "2", "k1", "k2", "arg"), ["k1", "k2"])
    }

    func testKeywordSpecs() {
        XCTAssertEqual(keys("XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"), ["s1", "s2"])
        XCTAssertEqual(keys("GEORADIUS", "g", "1", "2", "3", "km", "STORE", "dst"), ["g", "dst"])
        XCTAssertEqual(keys("GEORADIUS", "g", "1", "2", "3", "km"), ["g"], "an optional keyword may be absent")
    }

    func testKeySpecFlagsSayHowKeysAreUsed() throws {
        let d = command("lmove")
        let found = try XCTUnwrap(d.keyPositions(count: 5) { Array(["LMOVE", "a", "b", "LEFT", "RIGHT"][$0].utf8) })
        XCTAssertEqual(found.map(\.index), [1, 2])
        XCTAssertTrue(found[0].flags.contains(.rw) && found[0].flags.contains(.delete))
        XCTAssertTrue(found[1].flags.contains(.rw) && found[1].flags.contains(.insert))
    }

    func testGeneratedMetadataFollowsRedisRules() {
        XCTAssertEqual(RedisCommands.all.count, 240)
        XCTAssertEqual(Set(RedisCommands.all.map(\.name)).count, RedisCommands.all.count, "names are unique")
        XCTAssertEqual(RedisCommands.all.map(\.name), RedisCommands.all.map(\.name).sorted())
        for d in RedisCommands.all + RedisCommands.all.flatMap(\.subcommands) {
            // Redis's implicit categories: fast or else slow; write/read from the flags.
            XCTAssertNotEqual(d.aclCategories.contains(.fast), d.aclCategories.contains(.slow), d.fullName)
            if d.flags.contains(.write) { XCTAssertTrue(d.aclCategories.contains(.write), d.fullName) }
            if d.flags.contains(.admin) { XCTAssertTrue(d.aclCategories.contains(.dangerous), d.fullName) }
            XCTAssertNotEqual(d.arity, 0, d.fullName)
        }
        let get = command("get")
        XCTAssertEqual(get.legacyKeyRange, KeyRange(first: 1, last: 1, step: 1))
        XCTAssertEqual(get.aclCategories.names, ["@read", "@string", "@fast"])
        XCTAssertTrue(command("zunionstore").flags.contains(.movableKeys))
        XCTAssertEqual(command("config").subcommands.first { $0.name == "get" }?.fullName, "config|get")
    }
}
