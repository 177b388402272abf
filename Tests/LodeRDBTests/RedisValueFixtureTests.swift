import XCTest
@testable import LodeRDB

/// Payloads captured from redis-server 7.0.15 by tools/rdb-fixtures/capture-values.py
/// (RedisListFixtures.swift, RedisCollectionFixtures.swift, RedisAssetFixtures.swift).
enum RedisValueFixtures {}

/// The script's `noise`: incompressible bytes from the same LCG.
func noise(_ count: Int, seed: UInt64) -> [UInt8] {
    var x = seed
    return (0..<count).map { _ in
        x = (x &* 1_103_515_245 &+ 12345) % (1 << 31)
        return UInt8((x >> 16) & 0xff)
    }
}

/// A value in the script's normal form: sets, hashes and zsets sorted, so values
/// whose Redis order is a hash table's compare by content.
func normalForm(_ value: RDBValue) -> String {
    func bits(_ d: Double) -> String {
        let s = String(d.bitPattern, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
    switch value {
    case .string(let s): return "string:" + hexString(s)
    case .list(let e): return "list:" + e.map { hexString($0) }.joined(separator: ",")
    case .set(let m): return "set:" + m.map { hexString($0) }.sorted().joined(separator: ",")
    case .zset(let e): return "zset:" + e.map { hexString($0.member) + "=" + bits($0.score) }.sorted().joined(separator: ",")
    case .hash(let e): return "hash:" + e.map { hexString($0.field) + "=" + hexString($0.value) }.sorted().joined(separator: ",")
    case .stream(let s):
        let entries = s.entries.map { e in "\(e.id)" + e.fields.map { "|" + hexString($0.field) + "=" + hexString($0.value) }.joined() }
        return "stream:" + entries.joined(separator: ",")
    }
}

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The values the script's recipes write, and the limits they were written under.
enum Recipes {
    static let smallList: [[UInt8]] = [
        b("a"), b("hello"), [], [0x00, 0xff, 0x01], b("1"), b("-5"), b("127"), b("128"), b("-4096"), b("4095"), b("4096"),
        b("-32768"), b("32767"), b("8388607"), b("-8388608"), b("2147483647"), b("-2147483648"),
        b("9223372036854775807"), b("-9223372036854775808"), b("007"), b("-0"), b("1.5"),
        Array(repeating: UInt8(ascii: "x"), count: 63), Array(repeating: UInt8(ascii: "y"), count: 64),
        Array(repeating: UInt8(ascii: "z"), count: 4095), Array(repeating: UInt8(ascii: "w"), count: 4096), noise(5000, seed: 1),
    ]
    static let smallZSet: [(Double, [UInt8])] = [
        (1, b("a")), (2.5, b("b")), (-.infinity, b("c")), (.infinity, b("d")), (0, b("e")), (-1.5, b("f")), (1e100, b("g")),
        (3.141592653589793, b("h")), (-0.0, b("i")), (1, b("aa")), (1, b("ab")), (0.1, b("j")),
        (4_611_686_018_427_387_904, b("k")), (1e18, b("l")), (1e19, b("m")), (-4_611_686_018_427_387_904, b("n")),
        (5e-324, b("o")), (-123_456_789, [0x00, 0xff]),
    ]
    static let smallHash: [([UInt8], [UInt8])] = [
        (b("f1"), b("v1")), (b("num"), b("123")), (b("neg"), b("-77")), (b("empty"), []), ([], b("emptyfield")),
        (b("bin"), [0x00, 0xff]), (b("long"), Array(repeating: UInt8(ascii: "v"), count: 64)), (b("12"), b("34")),
        (b("big"), b("9223372036854775807")),
    ]

    static func zset(_ pairs: [(Double, [UInt8])]) -> RDBValue { .zset(pairs.map { RDBZSetEntry($0.1, $0.0) }) }
    static func hash(_ pairs: [([UInt8], [UInt8])]) -> RDBValue { .hash(pairs.map { RDBHashEntry($0.0, $0.1) }) }
    static func ints(_ values: [Int64]) -> RDBValue { .set(values.map { b(String($0)) }) }
    static func repeated(_ c: Character, _ n: Int) -> [UInt8] { Array(repeating: c.asciiValue!, count: n) }

    /// (value, limits) of the recipe `name`.
    static func value(_ name: String) -> (RDBValue, RDBEncodingLimits) {
        var limits = RDBEncodingLimits()
        let value: RDBValue
        switch name {
        case "listSmall": value = .list(smallList)
        case "listLarge": value = .list((0..<1200).map { b("element-\($0)") })
        case "listInts": value = .list((0..<1000).map { b(String($0 * 37 - 5000)) })
        case "listNoise": value = .list((0..<28).map { noise(300, seed: UInt64($0)) })
        case "listPlain":
            limits.listPackedThreshold = 100
            value = .list([b("a"), repeated("b", 200), b("c"), noise(150, seed: 9), b("d")])
        case "listFill5":
            limits.listMaxListpackSize = 5
            value = .list((0..<12).map { b("e\($0)") })
        case "setInt16": value = ints([5, 3, -1, 100, -32768, 32767])
        case "setInt32": value = ints([1, 70000, -70000])
        case "setInt64": value = ints([1, .max, .min])
        case "setIntset512": value = ints(Array(0..<512))
        case "setInts513": value = ints(Array(0..<513))
        case "setStrings": value = .set([b("a"), b("b"), b("c"), [], [0x00, 0xff]])
        case "setMixed": value = .set([b("1"), b("2"), b("x")])
        case "setNonCanonical": value = .set([b("007"), b("1"), b("-0")])
        case "zsetSmall": value = zset(smallZSet)
        case "zset128": value = zset((0..<128).map { (Double($0) * 0.5, b("m\($0)")) })
        case "zset129": value = zset((0..<129).map { (Double($0) * 0.5, b("m\($0)")) })
        case "zsetMember64": value = zset([(1, repeated("q", 64)), (2, b("r"))])
        case "zsetMember65": value = zset([(1, repeated("q", 65)), (2, b("r")), (-.infinity, b("s")), (1e-5, b("t"))])
        case "hashSmall": value = hash(smallHash)
        case "hash512": value = hash((0..<512).map { (b("f\($0)"), b("v\($0)")) })
        case "hash513": value = hash((0..<513).map { (b("f\($0)"), b("v\($0)")) })
        case "hashValue65": value = hash([(b("a"), b("1")), (b("b"), repeated("v", 65))])
        case "hashField65": value = hash([(repeated("f", 65), b("1")), (b("b"), b("2"))])
        default: preconditionFailure("no recipe for \(name)")
        }
        return (value, limits)
    }

    /// The RDB type of each OBJECT ENCODING Redis reported.
    static func type(_ encoding: String, of value: RDBValue) -> UInt8 {
        switch (encoding, value) {
        case ("quicklist", _): return RDB.typeListQuicklist2
        case ("intset", _): return RDB.typeSetIntset
        case ("hashtable", .set): return RDB.typeSet
        case ("hashtable", _): return RDB.typeHash
        case ("listpack", .zset): return RDB.typeZSetListpack
        case ("listpack", _): return RDB.typeHashListpack
        case ("skiplist", _): return RDB.typeZSet2
        default: preconditionFailure("encoding \(encoding)")
        }
    }
}

final class RedisValueFixtureTests: XCTestCase {
    static let all = RedisValueFixtures.lists + RedisValueFixtures.collections

    func testDecodingRedisDumpsGivesTheRecipesValues() throws {
        XCTAssertEqual(Self.all.count, 24)
        for fixture in Self.all {
            let payload = hex(fixture.dump)
            let (expected, _) = Recipes.value(fixture.name)
            let decoded = try DumpPayload.decode(payload)
            XCTAssertEqual(payload.first, Recipes.type(fixture.encoding, of: expected), fixture.name)
            switch expected {
            case .set:
                XCTAssertEqual(normalForm(decoded), normalForm(expected), fixture.name)
            case .hash where fixture.encoding == "hashtable":
                XCTAssertEqual(normalForm(decoded), normalForm(expected), fixture.name)
            case .zset(let entries):
                XCTAssertEqual(decoded, .zset(entries.sorted(by: RDBValue.precedes)), fixture.name)
            default:
                XCTAssertEqual(decoded, expected, fixture.name)
            }
        }
    }

    func testEncodingGivesRedisBytes() throws {
        for fixture in Self.all {
            let (value, limits) = Recipes.value(fixture.name)
            XCTAssertEqual(value.rdbType(limits: limits), Recipes.type(fixture.encoding, of: value), fixture.name)
            if fixture.encoding == "hashtable" {
                // A hash table's order is Redis's own; written in that order, the bytes match.
                let decoded = try DumpPayload.decode(hex(fixture.dump))
                XCTAssertEqual(hexString(DumpPayload.encode(decoded, limits: limits)), fixture.dump, fixture.name)
            } else {
                XCTAssertEqual(hexString(DumpPayload.encode(value, limits: limits)), fixture.dump, fixture.name)
            }
        }
    }

    func testStringDumpsDecodeAndEncode() throws {
        for fixture in RedisFixtures.stringDumps {
            XCTAssertEqual(try DumpPayload.decode(hex(fixture.dump)), .string(hex(fixture.value)), fixture.name)
            XCTAssertEqual(hexString(DumpPayload.encode(.string(hex(fixture.value)))), fixture.dump, fixture.name)
        }
    }

    func testRoundTripsUnderOtherLimits() throws {
        var tight = RDBEncodingLimits()
        tight.listMaxListpackSize = -1
        tight.setMaxIntsetEntries = 2
        tight.hashMaxListpackEntries = 1
        tight.zsetMaxListpackValue = 1
        for fixture in Self.all {
            let (value, _) = Recipes.value(fixture.name)
            for limits in [RDBEncodingLimits(), tight] {
                for compression in [true, false] {
                    let decoded = try DumpPayload.decode(DumpPayload.encode(value, limits: limits, compression: compression))
                    if case .zset(let entries) = value {
                        // == on scores, since a listpack keeps -0 as the integer 0, as in Redis.
                        XCTAssertEqual(decoded, .zset(entries.sorted(by: RDBValue.precedes)), fixture.name)
                    } else {
                        XCTAssertEqual(normalForm(decoded), normalForm(value), fixture.name)
                    }
                }
            }
        }
    }

    /// Every truncation of a value's body throws (the footer is cut off too, so the
    /// reader sees only the shortened body); large payloads are sampled.
    func testEveryTruncationThrows() {
        for fixture in Self.all + RedisFixtures.stringDumps.map({ ($0.name, "", $0.dump) }) {
            let body = Array(hex(fixture.dump).dropLast(DumpPayload.footerCount))
            let cuts = body.count < 1500
                ? Array(0..<body.count) : Array(stride(from: 0, to: body.count, by: 97)) + Array((body.count - 40)..<body.count)
            for cut in cuts {
                var reader = RDBReader(Array(body[..<cut]))
                XCTAssertThrowsError(try reader.readValue(type: try reader.readByte()), "\(fixture.name) cut at \(cut)")
            }
        }
    }

    /// Random byte changes: with the checksum checked DUMP decoding always refuses;
    /// without it the reader throws or returns a value, and never traps or hangs.
    func testCorruptionsNeverCrash() {
        var rng = SeededGenerator(seed: 12)
        var refused = 0, total = 0
        for fixture in Self.all {
            let payload = hex(fixture.dump)
            for _ in 0..<(payload.count < 2000 ? 300 : 60) {
                var bad = payload
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bad[Int.random(in: 0..<(bad.count - DumpPayload.footerCount), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if bad == payload { continue }
                XCTAssertThrowsError(try DumpPayload.decode(bad), fixture.name)
                total += 1
                if (try? DumpPayload.decode(bad, skipChecksum: true)) == nil { refused += 1 }
            }
        }
        XCTAssertGreaterThan(refused, total / 3, "most corruptions are structural errors")
    }
}
