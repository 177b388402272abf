import XCTest
@testable import LodeRDB

/// The keys of an RDB file as "db|key hex|normal form" lines, sorted: a walk over
/// the opcodes of rdbLoadRioWithLoadingCtx, only as much as the test files need.
private func rdbFileKeys(_ file: [UInt8], types: inout Set<UInt8>) throws -> [String] {
    var r = RDBReader(file)
    XCTAssertEqual(Array(try r.readBytes(5)), Array("REDIS".utf8))
    let version = Int(String(decoding: try r.readBytes(4), as: UTF8.self))!
    var db = 0
    var lines: [String] = []
    loop: while true {
        let op = try r.readByte()
        switch op {
        case 0xff: break loop
        case 0xfe: db = Int(try r.readLength())
        case 0xfb: _ = (try r.readLength(), try r.readLength())
        case 0xfa: _ = (try r.readString(), try r.readString())
        case 0xfd: _ = try r.readBytes(4)
        case 0xfc: _ = try r.readBytes(8)
        case 0xf8: _ = try r.readLength()
        case 0xf9: _ = try r.readByte()
        default:
            let key = try r.readString()
            types.insert(op)
            lines.append("\(db)|\(hexString(key))|\(normalForm(try r.readValue(type: op)))")
        }
    }
    if version >= 5 {
        let stored = try r.readBytes(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if stored != 0 { XCTAssertEqual(stored, CRC64.checksum(file[..<(file.count - 8)])) }
    }
    XCTAssertTrue(r.isAtEnd)
    return lines.sorted()
}

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A value's body after `type`, read back; the error if it fails.
private func read(_ type: UInt8, _ body: [UInt8]) -> Result<RDBValue, RDBError> {
    var reader = RDBReader(body)
    return Result { () throws(RDBError) in try reader.readValue(type: type) }
}

private func body(_ build: (inout RDBWriter) -> Void) -> [UInt8] {
    var w = RDBWriter()
    build(&w)
    return w.bytes
}

private func expectError(_ result: Result<RDBValue, RDBError>, _ check: (RDBError) -> Bool, line: UInt = #line) {
    switch result {
    case .success(let v): XCTFail("decoded \(v)", line: line)
    case .failure(let e): XCTAssertTrue(check(e), "\(e)", line: line)
    }
}

private func isCorrupt(_ e: RDBError) -> Bool { if case .corrupt = e { return true } else { return false } }

final class RDBValueTests: XCTestCase {
    /// Redis's old test files load here as in redis-server 7.0.15: zipmap, ziplist
    /// and linked-list era encodings, quicklist 1, RDB versions 3 to 10.
    func testRedisTestAssetsDecodeAsRedisLoadsThem() throws {
        let names = ["encodings", "hash-zipmap", "hash-ziplist", "list-quicklist", "zset-ziplist"]
        XCTAssertEqual(RedisValueFixtures.assets.map(\.name), names)
        var types = Set<UInt8>()
        for asset in RedisValueFixtures.assets {
            XCTAssertEqual(try rdbFileKeys(hex(asset.rdb), types: &types), asset.keys, asset.name)
        }
        let old: Set<UInt8> = [RDB.typeString, RDB.typeList, RDB.typeSet, RDB.typeZSet, RDB.typeHash, RDB.typeHashZipmap,
                               RDB.typeListZiplist, RDB.typeSetIntset, RDB.typeZSetZiplist, RDB.typeHashZiplist, RDB.typeListQuicklist]
        XCTAssertTrue(old.isSubset(of: types), "\(old.subtracting(types).sorted()) not covered")
    }

    func testListpackIntegerAndStringEncodingsAtEveryBoundary() throws {
        let ints: [Int64] = [0, 127, 128, -1, -4096, 4095, 4096, -4097, -32768, 32767, 32768, -32769, 8_388_607, 8_388_608,
                             -8_388_608, -8_388_609, 2_147_483_647, 2_147_483_648, -2_147_483_648, -2_147_483_649, .max, .min]
        let sizes = [1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 4, 5, 5, 9, 5, 9, 9, 9]
        var lp = ListpackBuilder()
        for (v, size) in zip(ints, sizes) {
            let before = lp.body.count
            lp.append(b(String(v)))
            XCTAssertEqual(lp.body.count - before, size + 1, "\(v)")
        }
        let strings = [0, 1, 63, 64, 4095, 4096, 16500].map { Array(repeating: UInt8(ascii: "s"), count: $0) }
            + [b("01"), b("-0"), b("+1")]
        for s in strings { lp.append(s) }
        let blob = lp.bytes()
        XCTAssertEqual(blob.count, lp.byteCount)
        XCTAssertEqual(try Listpack.decode(blob, origin: 0), ints.map { b(String($0)) } + strings)
        XCTAssertEqual(ListpackBuilder.backlen(127), [127])
        XCTAssertEqual(ListpackBuilder.backlen(128), [1, 0x80])
        XCTAssertEqual(ListpackBuilder.backlen(16382), [127, 0xfe])
        XCTAssertEqual(ListpackBuilder.backlen(16383), [0, 0xff, 0xff], "lpEncodeBacklen's l < 16383")
    }

    func testListpackCorruptionsThrow() throws {
        var lp = ListpackBuilder()
        for s in ["a", "12", "hello"] { lp.append(b(s)) }
        let good = lp.bytes()  // 14 00 00 00 | 03 00 | 81 61 02 | 0c 01 | 85 hello 06 | ff
        XCTAssertEqual(try Listpack.decode(good, origin: 0), [b("a"), b("12"), b("hello")])
        var unknownCount = good
        unknownCount[4...5] = [0xff, 0xff]
        XCTAssertEqual(try Listpack.decode(unknownCount, origin: 0).count, 3, "65535: count them")
        var cases: [(String, [UInt8])] = [("empty", []), ("header only", Array(good[..<6])), ("no terminator", Array(good.dropLast()))]
        for (i, v) in [(0, UInt8(0x14)), (4, 2), (4, 4), (6, 0x82), (8, 0x03), (10, 0x02), (6, 0xf5), (6, 0xff), (good.count - 1, 0)] {
            var bad = good
            bad[i] = v
            cases.append(("byte \(i) = \(v)", bad))
        }
        var longString = good
        longString[11] = 0xf0  // a 32-bit string length running past the end
        cases.append(("32-bit length", longString))
        for (name, blob) in cases {
            XCTAssertThrowsError(try Listpack.decode(blob, origin: 7), name) { e in
                guard case .corrupt(let offset, _)? = e as? RDBError else { return XCTFail("\(name): \(e)") }
                XCTAssertEqual(offset, 7)
            }
        }
    }

    func testZiplistDecodingAndItsChecks() throws {
        // zlbytes 19, zltail 15, zllen 3 | 00 01 'a' | 03 f6 (5) | 02 fe 9c (-100) | ff
        let good: [UInt8] = [19, 0, 0, 0, 15, 0, 0, 0, 3, 0, 0x00, 0x01, 0x61, 0x03, 0xf6, 0x02, 0xfe, 0x9c, 0xff]
        var zl = good
        zl[0] = UInt8(zl.count)
        XCTAssertEqual(try Ziplist.decode(zl, origin: 0), [b("a"), b("5"), b("-100")])
        for (i, v) in [(0, UInt8(30)), (4, 13), (8, 2), (10, 1), (13, 2), (14, 0xff), (15, 3), (18, 0)] {
            var bad = zl
            bad[i] = v
            XCTAssertThrowsError(try Ziplist.decode(bad, origin: 0), "byte \(i) = \(v)")
        }
        var unknown = zl
        unknown[8...9] = [0xff, 0xff]
        XCTAssertEqual(try Ziplist.decode(unknown, origin: 0).count, 3)
    }

    func testIntsetChecks() throws {
        XCTAssertEqual(try Intset.decode(Intset.encode([3, -2, 1]), origin: 0), [-2, 1, 3])
        XCTAssertEqual(Intset.encode([1, 70000]).prefix(4), [4, 0, 0, 0])
        XCTAssertEqual(Intset.encode([1, .min]).prefix(4), [8, 0, 0, 0])
        let good = Intset.encode([1, 2, 3])
        var bads: [[UInt8]] = [[], Array(good.prefix(7)), Array(good.dropLast()), good + [0]]
        var wrongEncoding = good
        wrongEncoding[0] = 3
        var unsorted = good
        unsorted.swapAt(8, 10)
        var duplicate = good
        duplicate[10] = 1
        var hugeCount = good
        hugeCount[4...7] = [0xff, 0xff, 0xff, 0xff]
        bads += [wrongEncoding, unsorted, duplicate, hugeCount]
        for bad in bads { XCTAssertThrowsError(try Intset.decode(bad, origin: 0), hexString(bad)) }
    }

    func testZipmapChecks() throws {
        // zmlen 1 | 01 'f' 02 01 'vv' <1 free> | ff
        let good: [UInt8] = [1, 1, 0x66, 2, 1, 0x76, 0x76, 0x00, 0xff]
        XCTAssertEqual(try Zipmap.decode(good, origin: 0).map { [$0.0, $0.1] }, [[b("f"), b("vv")]])
        for bad in [Array(good.dropLast()), Array(good.prefix(3)), [2] + good.dropFirst(), good.prefix(3) + [0xff] + good.dropFirst(4)] {
            XCTAssertThrowsError(try Zipmap.decode(Array(bad), origin: 0), hexString(bad))
        }
    }

    func testOldListSetZSetAndHashTypes() throws {
        let list = body { w in
            w.writeLength(3)
            for s in ["a", "1", ""] { w.writeString(b(s)) }
        }
        XCTAssertEqual(try read(RDB.typeList, list).get(), .list([b("a"), b("1"), []]))
        // RDB_TYPE_ZSET: scores as text, 253/254/255 for nan/inf/-inf.
        let zset = body { w in
            w.writeLength(3)
            w.writeString(b("x")); w.writeBytes([3] + b("1.5"))
            w.writeString(b("y")); w.writeByte(254)
            w.writeString(b("z")); w.writeByte(255)
        }
        XCTAssertEqual(try read(RDB.typeZSet, zset).get(), .zset([RDBZSetEntry(b("z"), -.infinity), RDBZSetEntry(b("x"), 1.5),
                                                                  RDBZSetEntry(b("y"), .infinity)]))
        let nan = body { w in
            w.writeLength(1)
            w.writeString(b("x")); w.writeByte(253)
        }
        expectError(read(RDB.typeZSet, nan), isCorrupt)
        let notANumber = body { w in
            w.writeLength(1)
            w.writeString(b("x")); w.writeBytes([2] + b("zz"))
        }
        expectError(read(RDB.typeZSet, notANumber), isCorrupt)
        let nanBinary = body { w in
            w.writeLength(1)
            w.writeString(b("x")); w.writeBinaryDouble(.nan)
        }
        expectError(read(RDB.typeZSet2, nanBinary), isCorrupt)
    }

    func testDuplicatesOddPairsAndBadContainersAreCorrupt() {
        let dupSet = body { w in
            w.writeLength(2)
            w.writeString(b("a")); w.writeString(b("a"))
        }
        expectError(read(RDB.typeSet, dupSet), isCorrupt)
        let dupHash = body { w in
            w.writeLength(2)
            for s in ["f", "1", "f", "2"] { w.writeString(b(s)) }
        }
        expectError(read(RDB.typeHash, dupHash), isCorrupt)
        let dupZSet = body { w in
            w.writeLength(2)
            w.writeString(b("m")); w.writeBinaryDouble(1)
            w.writeString(b("m")); w.writeBinaryDouble(2)
        }
        expectError(read(RDB.typeZSet2, dupZSet), isCorrupt)
        for (type, entries) in [(RDB.typeHashListpack, ["f", "1", "f", "2"]), (RDB.typeHashListpack, ["f", "1", "g"]),
                                (RDB.typeZSetListpack, ["m", "1", "m", "2"]), (RDB.typeZSetListpack, ["m", "x"])] {
            var lp = ListpackBuilder()
            for e in entries { lp.append(b(e)) }
            expectError(read(type, body { $0.writeString(lp.bytes()) }), isCorrupt)
        }
        let badContainer = body { w in
            w.writeLength(1)
            w.writeLength(3)
            w.writeString(b("x"))
        }
        expectError(read(RDB.typeListQuicklist2, badContainer), isCorrupt)
    }

    func testEmptyCollectionsAndUnsupportedTypes() throws {
        let emptyListpack = body { $0.writeString(ListpackBuilder().bytes()) }
        for (type, payload) in [(RDB.typeList, [0]), (RDB.typeSet, [0]), (RDB.typeZSet2, [0]), (RDB.typeHash, [0]),
                                (RDB.typeListQuicklist2, [0]), (RDB.typeHashListpack, emptyListpack),
                                (RDB.typeZSetListpack, emptyListpack), (RDB.typeSetIntset, body { $0.writeString(Intset.encode([])) })] {
            expectError(read(type, payload), { $0 == .emptyValue(offset: 0, type: type) })
        }
        // Quicklist nodes that are empty are skipped, as rdbLoadObject does; all empty is an empty list.
        var one = ListpackBuilder()
        one.append(b("x"))
        let nodes = body { w in
            w.writeLength(3)
            for lp in [ListpackBuilder(), one, ListpackBuilder()] {
                w.writeLength(RDB.containerPacked)
                w.writeString(lp.bytes())
            }
        }
        XCTAssertEqual(try read(RDB.typeListQuicklist2, nodes).get(), .list([b("x")]))
        for type: UInt8 in [6, 7, 8, 20, 21, 22, 200, 255] {
            expectError(read(type, [1, 2, 3]), { $0 == .unsupportedType(offset: 0, type: type) })
        }
    }

    func testFailedReadLeavesTheReaderWhereTheValueBegan() {
        var reader = RDBReader([0x02, 0x01, 0x61])
        XCTAssertThrowsError(try reader.readValue(type: RDB.typeList))
        XCTAssertEqual(reader.offset, 0)
    }

    func testDumpValueErrors() {
        let good = DumpPayload.encode(.list([b("a")]))
        var badCRC = good
        badCRC[badCRC.count - 1] ^= 1
        XCTAssertThrowsError(try DumpPayload.decode(badCRC)) { e in
            XCTAssertEqual((e as? DumpValueError)?.redisMessage, "ERR DUMP payload version or checksum are wrong")
        }
        XCTAssertThrowsError(try DumpPayload.decode(DumpPayload.seal([RDB.typeModule2, 0]))) { e in
            XCTAssertEqual((e as? DumpValueError)?.redisMessage, "ERR Bad data format")
        }
        XCTAssertEqual(try DumpPayload.decode(badCRC, skipChecksum: true), .list([b("a")]))
    }

    /// Random bodies after every type byte: an error or a value, never a trap or a hang.
    func testArbitraryBytesNeverCrash() {
        var rng = SeededGenerator(seed: 99)
        for type: UInt8 in 0...21 {
            for _ in 0..<400 {
                var bytes = rng.bytes(Int.random(in: 0...64, using: &rng))
                if Bool.random(using: &rng), !bytes.isEmpty { bytes[0] = UInt8.random(in: 0...4, using: &rng) }
                _ = read(type, bytes)
            }
        }
        // Blobs with plausible headers, so the listpack, ziplist and intset checks run.
        for _ in 0..<3000 {
            var blob = rng.bytes(Int.random(in: 7...40, using: &rng))
            blob[0] = UInt8(blob.count)
            blob[1...3] = [0, 0, 0]
            blob[blob.count - 1] = 0xff
            for type in [RDB.typeHashListpack, RDB.typeZSetListpack, RDB.typeListZiplist, RDB.typeHashZiplist, RDB.typeSetIntset] {
                _ = read(type, body { $0.writeString(blob) })
            }
        }
    }
}
