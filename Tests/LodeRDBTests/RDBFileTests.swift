import XCTest
@testable import LodeRDB

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Every item of `file`, read `blockSize` at a time; with `dribble` the source hands
/// out at most that many bytes per read, as a slow socket would.
private func readAll(_ file: [UInt8], blockSize: Int = RDBFileReader.defaultBlockSize, dribble: Int? = nil,
                     verifyChecksum: Bool = true) throws(RDBFileError) -> (items: [RDBFileItem], reader: RDBFileReader) {
    var reader: RDBFileReader
    if let dribble {
        var at = 0
        reader = RDBFileReader(blockSize: blockSize) { into in
            let n = min(into.count, dribble, file.count - at)
            for i in 0..<n { into[i] = file[at + i] }
            at += n
            return n
        }
    } else {
        reader = RDBFileReader(bytes: file, blockSize: blockSize)
    }
    reader.verifyChecksum = verifyChecksum
    var items: [RDBFileItem] = []
    while let item = try reader.next() { items.append(item) }
    return (items, reader)
}

/// Writes a file with `build`, flushing every `threshold` bytes; checks the pieces add up.
private func writeFile(compression: Bool = true, checksum: Bool = true, threshold: Int = RDBFileWriter.defaultFlushThreshold,
                       _ build: (inout RDBFileWriter) throws -> Void) throws -> [UInt8] {
    final class Pieces { var all: [[UInt8]] = [] }
    let pieces = Pieces()
    var writer = RDBFileWriter(compression: compression, checksum: checksum, flushThreshold: threshold) { pieces.all.append($0) }
    try writer.writeHeader()
    try build(&writer)
    try writer.finish()
    let file = pieces.all.flatMap { $0 }
    XCTAssertEqual(writer.bytesWritten, file.count)
    XCTAssertTrue(pieces.all.dropLast().allSatisfy { $0.count >= threshold }, "flushed only when past the threshold")
    return file
}

private func keys(_ items: [RDBFileItem]) -> [RDBFileKey] {
    items.compactMap { if case .key(let k) = $0 { return k } else { return nil } }
}

/// A key as the fixtures list it: "db|key hex|expire ms or -|normal form".
private func line(_ k: RDBFileKey) -> String {
    "\(k.db)|\(hexString(k.key))|\(k.expireAtMs.map(String.init) ?? "-")|\(normalForm(k.value))"
}

private func expectError(_ file: [UInt8], line: UInt = #line, _ check: (RDBFileError) -> Bool) {
    do {
        let (items, _) = try readAll(file)
        XCTFail("read \(items.count) items", line: line)
    } catch {
        XCTAssertTrue(check(error), "\(error)", line: line)
    }
}

/// The Redis fixture's limits (capture-rdb-file.py's LIMITS).
private let fixtureLimits: RDBEncodingLimits = {
    var l = RDBEncodingLimits()
    l.hashMaxListpackEntries = 4
    l.zsetMaxListpackEntries = 4
    l.setMaxIntsetEntries = 4
    l.listMaxListpackSize = 4
    l.streamNodeMaxEntries = 3
    return l
}()

/// A stream with two groups, pending entries and consumers, as Redis dumped it.
private func streamWithGroups() throws -> RDBValue {
    let fixture = try XCTUnwrap(RedisValueFixtures.streams.first { $0.name == "streamGroups" })
    return try DumpPayload.decode(hex(fixture.dump))
}

/// One key of every kind and encoding, in db 0, 1 and 7, some expiring, some with LRU/LFU data.
private func sampleKeys() throws -> [RDBFileKey] {
    let big = noise(1_500_000, seed: 3)  // over the 1 MB block: the reader must refill inside it
    var keys: [RDBFileKey] = [
        RDBFileKey(key: b("str"), value: .string(b("hello"))),
        RDBFileKey(key: b("int"), value: .string(b("-12345")), expireAtMs: 1_700_000_000_123),
        RDBFileKey(key: b("bigint"), value: .string(b("9223372036854775807"))),
        RDBFileKey(key: b("lzf"), value: .string(Array(repeating: b("abcdefghij"), count: 50).flatMap { $0 })),
        RDBFileKey(key: [0, 0xff, 0x0a, 0x0d, 0x80], value: .string([0, 1, 2, 0xff])),
        RDBFileKey(key: [], value: .string([]), idle: 12345),
        RDBFileKey(key: b("big"), value: .string(big), freq: 7),
        RDBFileKey(key: b("list"), value: .list([b("a"), b(""), b("1"), b("-7"), noise(5000, seed: 4)])),
        RDBFileKey(key: b("list:long"), value: .list((0..<3000).map { noise(600, seed: UInt64($0)) })),
        RDBFileKey(key: b("set:ints"), value: .set([b("-70000"), b("1"), b("300")])),
        RDBFileKey(key: b("set:strings"), value: .set([b("x"), b("y"), b("007")]), expireAtMs: -1),
        RDBFileKey(key: b("zset:small"), value: .zset([RDBZSetEntry(b("b"), -2.5), RDBZSetEntry(b("a"), 1)])),
        RDBFileKey(key: b("zset:big"), value: .zset((0..<200).map { RDBZSetEntry(b("m\($0)"), Double($0) / 3) })),
        RDBFileKey(key: b("hash:small"), value: .hash([RDBHashEntry(b("f"), b("v")), RDBHashEntry(b("n"), b("42"))])),
        RDBFileKey(key: b("hash:big"), value: .hash((0..<600).map { RDBHashEntry(b("f\($0)"), b("v\($0)")) })),
        RDBFileKey(key: b("stream"), value: try streamWithGroups(), expireAtMs: 4_102_444_800_000),
    ]
    for i in keys.indices { keys[i].db = i < 10 ? 0 : i < 14 ? 1 : 7 }
    return keys
}

private func writeSample(_ keys: [RDBFileKey], compression: Bool = true, threshold: Int = 1000) throws -> [UInt8] {
    try writeFile(compression: compression, threshold: threshold) { w in
        try w.writeStandardAux(ctime: 1_700_000_000, usedMemory: 1_234_567)
        try w.writeAux(key: [0xff, 0], value: [1, 2, 3])
        try w.writeFunction(code: hex(RedisFixtures.lib1Code))
        try w.writeFunction(code: hex(RedisFixtures.bigCode))
        for db in [0, 1, 7] {
            let inDB = keys.filter { $0.db == db }
            try w.selectDB(db, keys: inDB.count, expires: inDB.filter { $0.expireAtMs != nil }.count)
            for k in inDB { try w.writeKey(k.key, k.value, expireAtMs: k.expireAtMs, idleSeconds: k.idle, freq: k.freq) }
        }
    }
}

final class RDBFileTests: XCTestCase {
    // MARK: - Writer → reader

    func testRoundTripOfEveryKindAcrossDatabases() throws {
        let sample = try sampleKeys()
        for compression in [true, false] {
            let file = try writeSample(sample, compression: compression)
            XCTAssertEqual(Array(file.prefix(9)), b("REDIS0010"))
            let stored = file.suffix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            XCTAssertEqual(stored, CRC64.checksum(file.dropLast(8)))
            let (items, reader) = try readAll(file)
            XCTAssertEqual(reader.version, 10)
            XCTAssertEqual(reader.offset, file.count)
            XCTAssertEqual(keys(items), sample)
            let aux = items.compactMap { item -> String? in
                guard case .aux(let k, let v) = item else { return nil }
                return String(decoding: k, as: UTF8.self) + "=" + String(decoding: v, as: UTF8.self)
            }
            XCTAssertEqual(aux, ["redis-ver=7.0.15", "redis-bits=64", "ctime=1700000000", "used-mem=1234567", "aof-base=0",
                                 "\u{FFFD}\u{0}=\u{1}\u{2}\u{3}"])
            XCTAssertEqual(items.compactMap { if case .function(let c) = $0 { return c } else { return nil } },
                           [hex(RedisFixtures.lib1Code), hex(RedisFixtures.bigCode)])
            let structure = items.filter { if case .key = $0 { return false } else { return true } }.suffix(7)
            XCTAssertEqual(Array(structure), [.selectDB(0), .resizeDB(keys: 10, expires: 1), .selectDB(1), .resizeDB(keys: 4, expires: 1),
                                              .selectDB(7), .resizeDB(keys: 2, expires: 1), .end(checksum: stored)])
            // The same items however the bytes arrive: tiny blocks, a source that dribbles.
            XCTAssertEqual(try readAll(file, blockSize: 4096).items, items)
            XCTAssertEqual(try readAll(file, blockSize: 1, dribble: 997).items, items)
        }
    }

    func testAfterEndNextIsNilAndTrailingBytesAreLeft() throws {
        let file = try writeFile { w in try w.writeKey(b("k"), .string(b("v"))) } + b("+PING\r\n")
        var reader = RDBFileReader(bytes: file)
        XCTAssertEqual(try reader.next(), .key(RDBFileKey(key: b("k"), value: .string(b("v")))))
        guard case .end = try reader.next() else { return XCTFail("no end") }
        XCTAssertNil(try reader.next())
        XCTAssertNil(try reader.next())
        XCTAssertEqual(Array(reader.unconsumedBytes), b("+PING\r\n"))
        XCTAssertEqual(reader.offset, file.count - 7)
    }

    /// A huge value costs a few parses, not one per block: the buffer at least doubles per refill.
    func testRefillsDoNotReparseQuadratically() throws {
        let list = RDBValue.list((0..<8000).map { noise(500, seed: UInt64($0)) })  // 4 MB in one item
        let file = try writeFile { w in try w.writeKey(b("l"), list) }
        var reads = 0
        var at = 0
        var reader = RDBFileReader(blockSize: 16 << 10) { into in
            reads += 1
            let n = min(into.count, file.count - at)
            for i in 0..<n { into[i] = file[at + i] }
            at += n
            return n
        }
        XCTAssertEqual(try reader.next(), .key(RDBFileKey(key: b("l"), value: list)))
        XCTAssertLessThan(reader.parseAttempts, 1 + 1 + 12, "header, then the key parsed about log2(4 MB / 16 KB) times")
        XCTAssertLessThan(reads, 30)
    }

    func testFilesOnDiskAndDescriptors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rdbfile-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("dump.rdb").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var writer = RDBFileWriter(flushThreshold: 4096, sink: RDBFileWriter.fileDescriptorSink(fd))
        try writer.writeHeader()
        try writer.selectDB(0, keys: 2, expires: 0)
        try writer.writeKey(b("a"), .string(noise(100_000, seed: 1)))
        try writer.writeKey(b("b"), .set([b("1"), b("2")]))
        try writer.finish()
        close(fd)
        XCTAssertThrowsError(try writer.writeKey(b("c"), .string([]))) { XCTAssertEqual($0 as? RDBFileWriterError, .alreadyFinished) }

        var fromPath = try RDBFileReader(path: path, blockSize: 1000)
        var items: [RDBFileItem] = []
        while let item = try fromPath.next() { items.append(item) }
        XCTAssertEqual(keys(items).map(\.key), [b("a"), b("b")])
        XCTAssertEqual(fromPath.offset, writer.bytesWritten)

        let rfd = open(path, O_RDONLY)
        defer { close(rfd) }
        var fromFD = RDBFileReader(fileDescriptor: rfd)
        var again: [RDBFileItem] = []
        while let item = try fromFD.next() { again.append(item) }
        XCTAssertEqual(again, items)

        XCTAssertThrowsError(try RDBFileReader(path: dir.appendingPathComponent("missing.rdb").path)) { error in
            guard case .openFailed(_, let e)? = error as? RDBFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(e, ENOENT)
            XCTAssertTrue("\(error)".contains("missing.rdb"), "\(error)")
        }
    }

    func testChecksumOffWritesZeroAndIsNotChecked() throws {
        let file = try writeFile(checksum: false) { w in try w.writeKey(b("k"), .string(b("v"))) }
        XCTAssertEqual(Array(file.suffix(8)), [UInt8](repeating: 0, count: 8))
        var flipped = file
        flipped[flipped.count - 10] ^= 1  // the value: no checksum can notice
        XCTAssertEqual(try readAll(flipped).items.last, .end(checksum: 0))
    }

    func testEmptyCollectionsAreSkippedAsRedisSkipsThem() throws {
        var file = try writeFile { w in
            try w.writeKey(b("a"), .string(b("1")))
            try w.writeKey(b("empty list"), .list([]), expireAtMs: 5)
            try w.writeKey(b("empty set"), .set([]))
            try w.writeKey(b("empty zset"), .zset([]))
            try w.writeKey(b("empty hash"), .hash([]))
            try w.writeKey(b("z"), .string(b("2")))
        }
        file.removeLast(9)
        // The old types too: a list, a set, a zset, a hash of no elements; a quicklist of one empty node.
        file += [RDB.typeList, 1, UInt8(ascii: "l"), 0, RDB.typeSet, 1, UInt8(ascii: "s"), 0, RDB.typeZSet, 1, UInt8(ascii: "z"), 0,
                 RDB.typeHash, 1, UInt8(ascii: "h"), 0, RDB.typeListQuicklist, 1, UInt8(ascii: "q"), 1]
        file += rdbString(hex: "0b000000" + "0a000000" + "0000ff")  // an empty ziplist
        file += [RDB.opcodeEOF]
        file += [UInt8](repeating: 0, count: 8)
        let (items, reader) = try readAll(file)
        XCTAssertEqual(keys(items), [RDBFileKey(key: b("a"), value: .string(b("1"))), RDBFileKey(key: b("z"), value: .string(b("2")))])
        XCTAssertEqual(reader.skippedEmptyKeys, 9)
    }

    // MARK: - Files saved by redis-server 7.0.15

    func testFileSavedByRedis() throws {
        let file = hex(RedisFileFixtures.dump)
        let (items, reader) = try readAll(file)
        XCTAssertEqual(reader.version, 10)
        XCTAssertEqual(reader.offset, file.count)
        let aux = items.compactMap { item -> (String, [UInt8])? in
            if case .aux(let k, let v) = item { return (String(decoding: k, as: UTF8.self), v) } else { return nil }
        }
        XCTAssertEqual(aux.map(\.0), ["redis-ver", "redis-bits", "ctime", "used-mem", "aof-base"])
        XCTAssertEqual(aux.first?.1, b("7.0.15"))
        XCTAssertEqual(aux.dropFirst().first?.1, b("64"))
        let functions = items.compactMap { if case .function(let c) = $0 { return c } else { return nil } }
        XCTAssertEqual(functions, [hex(RedisFileFixtures.library)])
        let structure = items.filter { if case .key = $0 { return false } else { return true } }.dropFirst(6)
        guard case .end(let checksum?)? = structure.last else { return XCTFail("no checksum") }
        XCTAssertNotEqual(checksum, 0)
        XCTAssertEqual(Array(structure), [.selectDB(0), .resizeDB(keys: 15, expires: 1), .selectDB(3), .resizeDB(keys: 2, expires: 0),
                                          .end(checksum: checksum)])
        let found = keys(items)
        XCTAssertEqual(found.map(line).sorted(), RedisFileFixtures.keys)
        XCTAssertEqual(found.first { $0.key == b("expiring") }?.expireAtMs, RedisFileFixtures.expireAtMs)
        guard case .stream(let stream)? = found.first(where: { $0.key == b("stream") })?.value else { return XCTFail("no stream") }
        let groups = stream.groups.map { g in
            let consumers = g.consumers.map { c in
                String(decoding: c.name, as: UTF8.self) + "=" + c.pending.map(\.description).joined(separator: " ")
            }
            return [String(decoding: g.name, as: UTF8.self), "\(g.lastID)", g.entriesRead < 0 ? "None" : "\(g.entriesRead)",
                    g.pending.map(\.id.description).joined(separator: " "),
                    consumers.sorted().joined(separator: ";")].joined(separator: "|")
        }
        XCTAssertEqual(groups, RedisFileFixtures.streamGroups)
    }

    /// Writing back what was read, under the limits Redis ran with, gives Redis's bytes.
    func testRewritingRedisFileGivesRedisBytes() throws {
        let file = hex(RedisFileFixtures.dump)
        let (items, _) = try readAll(file)
        let rewritten = try writeFile { w in
            var pendingSelect: Int?
            for item in items {
                switch item {
                case .aux(let k, let v): try w.writeAux(key: k, value: v)
                case .function(let code): try w.writeFunction(code: code)
                case .selectDB(let db): pendingSelect = db
                case .resizeDB(let keys, let expires): try w.selectDB(pendingSelect ?? 0, keys: Int(keys), expires: Int(expires))
                case .key(let k): try w.writeKey(k.key, k.value, expireAtMs: k.expireAtMs, limits: fixtureLimits)
                case .end: break
                }
            }
        }
        XCTAssertEqual(hexString(rewritten), hexString(file))
    }

    /// Redis's old test files (RDB versions 3 to 10, no checksum before 5) read as 7.0.15 loads them.
    func testRedisTestAssets() throws {
        for asset in RedisValueFixtures.assets {
            let file = hex(asset.rdb)
            let (items, reader) = try readAll(file, blockSize: 64)
            let version = Int(String(decoding: file[5..<9], as: UTF8.self))
            XCTAssertEqual(reader.version, version, asset.name)
            XCTAssertEqual(keys(items).map { "\($0.db)|\(hexString($0.key))|\(normalForm($0.value))" }.sorted(), asset.keys, asset.name)
            guard case .end(let checksum) = items.last else { return XCTFail(asset.name) }
            XCTAssertEqual(checksum == nil, reader.version! < 5, asset.name)
        }
    }

    // MARK: - Opcodes the writer does not produce

    func testOldOpcodes() throws {
        var w = RDBWriter()
        w.writeBytes(b("REDIS0009"))
        w.writeByte(RDB.opcodeExpireTime)
        w.writeBytes([0x10, 0x32, 0x54, 0x76])  // 0x76543210 seconds
        w.writeByte(RDB.opcodeFreq)
        w.writeByte(200)
        w.writeByte(RDB.opcodeIdle)
        w.writeLength(1 << 40)
        w.writeByte(RDB.typeString)
        w.writeString(b("k"))
        w.writeString(b("v"))
        w.writeByte(RDB.opcodeFunction)  // 7.0 rc1: name, engine, description flag, description, code
        for s in ["mylib", "LUA"] { w.writeString(b(s)) }
        w.writeLength(1)
        w.writeString(b("a library"))
        w.writeString(b("redis.register_function('f', function() return 1 end)"))
        w.writeByte(RDB.opcodeFunction)
        for s in ["n\0x", "LUA"] { w.writeString(b(s)) }
        w.writeLength(0)
        w.writeString(b("code"))
        w.writeByte(RDB.opcodeEOF)
        let body = w.bytes
        let file = body + (0..<8).map { UInt8(truncatingIfNeeded: CRC64.checksum(body) >> UInt64($0 * 8)) }
        let (items, _) = try readAll(file)
        XCTAssertEqual(items, [
            .key(RDBFileKey(key: b("k"), value: .string(b("v")), expireAtMs: 0x7654_3210 * 1000, idle: 1 << 40, freq: 200)),
            .function(code: b("#!LUA name=mylib\nredis.register_function('f', function() return 1 end)")),
            .function(code: b("#!LUA name=n\ncode")),
            .end(checksum: CRC64.checksum(body)),
        ])
    }

    // MARK: - Errors

    func testErrorsNameTheOffsetAndWhatWasExpected() throws {
        let good = try writeFile { w in
            try w.selectDB(0, keys: 1, expires: 0)
            try w.writeKey(b("foo"), .string(noise(100, seed: 2)))
        }
        let keyAt = 9 + 5  // header, SELECTDB 0, RESIZEDB 1 0
        func check(_ file: [UInt8], _ expected: RDBFileError, _ text: String, line: UInt = #line) {
            expectError(file, line: line) { $0 == expected && "\($0)" == text }
        }
        check(b("REDIX0010") + good.dropFirst(9), .badMagic(offset: 0, found: b("REDIX")),
              "bad magic at byte 0: expected 'REDIS', found 'REDIX'")
        check(b("REDIS0011") + good.dropFirst(9), .unsupportedVersion(offset: 5, found: b("0011")),
              "unsupported RDB version '0011' at byte 5: expected 0001 to 0010")
        check(b("REDIS0000"), .unsupportedVersion(offset: 5, found: b("0000")),
              "unsupported RDB version '0000' at byte 5: expected 0001 to 0010")
        check(b("REDIS00x1"), .unsupportedVersion(offset: 5, found: b("00x1")),
              "unsupported RDB version '00x1' at byte 5: expected 0001 to 0010")
        check(b("REDIS"), .truncated(offset: 0, needed: 4, context: "the header"), "truncated at byte 0: the header needs 4 more bytes")
        check(Array(good.prefix(keyAt + 60)),
              .truncated(offset: keyAt + 7, needed: 47, context: "the value of key 'foo' (type 0, from byte 14)"),
              "truncated at byte 21: the value of key 'foo' (type 0, from byte 14) needs 47 more bytes")
        check(Array(good.prefix(keyAt)) + [8], .unknownOpcode(offset: keyAt, byte: 8), "unknown opcode/type 0x08 at byte 14")
        check(Array(good.prefix(keyAt)) + [RDB.opcodeModuleAux, 1, 2], .unsupportedModuleAux(offset: keyAt),
              "module aux data (opcode 0xF7) at byte 14: only the module that wrote it can parse or skip it")
        check(Array(good.prefix(keyAt)) + [RDB.typeModule2, 2, 0x6d, 0x00, 5],
              .unsupportedModuleType(offset: keyAt, type: 7, key: [0x6d, 0]),
              "unsupported module value (type 7) of key 'm\\x00' at byte 14: module values can only be read by their module")
        check(Array(good.prefix(9)) + [RDB.opcodeSelectDB, 0x81, 1, 0, 0, 0, 0, 0, 0, 0],
              .databaseOutOfRange(offset: 10, db: 1 << 56), "database number 72057594037927936 at byte 10 is out of range")
        check(Array(good.prefix(keyAt)) + [RDB.typeString, 0xc7], .invalid(offset: keyAt + 1, context: "the name of the key at byte 14",
                                                                          reason: "unknown string encoding 7"),
              "corrupt RDB file at byte 15, in the name of the key at byte 14: unknown string encoding 7")
        var flipped = good
        flipped[keyAt + 30] ^= 0x40
        let stored = good.suffix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let computed = CRC64.checksum(flipped.dropLast(8))
        check(flipped, .checksumMismatch(offset: good.count - 8, stored: stored, computed: computed),
              "checksum mismatch at byte \(good.count - 8): file says \(RDBFileError.hex64(stored)), "
                + "computed \(RDBFileError.hex64(computed))")
        XCTAssertEqual(try readAll(flipped, verifyChecksum: false).items.count, 4)

        // A length far beyond the file fails at once, without reading or allocating it.
        var lying = RDBWriter()
        lying.writeBytes(b("REDIS0010"))
        lying.writeByte(RDB.typeString)
        lying.writeString(b("k"))
        lying.writeLength(1 << 62)
        check(lying.bytes, .truncated(offset: 21, needed: (1 << 62), context: "the value of key 'k' (type 0, from byte 9)"),
              "truncated at byte 21: the value of key 'k' (type 0, from byte 9) needs 4611686018427387904 more bytes")

        // The error stays: next() throws it again.
        var reader = RDBFileReader(bytes: b("HELLO0010"))
        XCTAssertThrowsError(try reader.next())
        XCTAssertThrowsError(try reader.next()) { XCTAssertEqual($0 as? RDBFileError, .badMagic(offset: 0, found: b("HELLO"))) }
    }

    func testReadErrorsOfTheSource() {
        struct Broken: Error {}
        var calls = 0
        var reader = RDBFileReader(blockSize: 4) { into in
            calls += 1
            if calls > 1 { throw Broken() }
            for (i, c) in b("REDI").enumerated() { into[i] = c }
            return 4
        }
        XCTAssertThrowsError(try reader.next()) { error in
            guard case .readFailed(4, _)? = error as? RDBFileError else { return XCTFail("\(error)") }
        }
        var liar = RDBFileReader { into in into.count + 1 }
        XCTAssertThrowsError(try liar.next()) { XCTAssertTrue("\($0)".hasPrefix("read failed at byte 0: the source returned"), "\($0)") }
    }

    /// Every cut of a file is a truncation error, whatever the block size; never a success or a crash.
    func testEveryTruncationIsAnError() throws {
        let files = [hex(RedisFileFixtures.dump), hex(RedisValueFixtures.assets[0].rdb)]
        for file in files {
            for cut in 0..<file.count {
                for blockSize in [1, 1 << 20] {
                    do {
                        _ = try readAll(Array(file.prefix(cut)), blockSize: blockSize)
                        XCTFail("cut at \(cut) read")
                    } catch {
                        guard case .truncated(let at, let needed, _) = error else { return XCTFail("cut at \(cut): \(error)") }
                        XCTAssertLessThanOrEqual(at, cut)
                        XCTAssertGreaterThan(needed, 0)
                    }
                }
            }
        }
    }

    /// Random byte changes: with the checksum checked every one is refused; without it a
    /// change gives an error or a valid parse, never a trap or a hang.
    func testRandomCorruptionsNeverCrash() throws {
        var rng = SeededGenerator(seed: 20_260_315)
        let files = [hex(RedisFileFixtures.dump), try writeSample([], threshold: 64)]
            + RedisValueFixtures.assets.map { hex($0.rdb) }
        var structural = 0, total = 0
        for round in 0..<3000 {
            let original = files[round % files.count]
            var bad = original
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bad[Int.random(in: 0..<bad.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if bad == original { continue }
            total += 1
            let hasChecksum = (try? readAll(original).items.last) != .end(checksum: nil)
            // (unless the change made the version one without a checksum)
            if hasChecksum && bad[5..<9] == original[5..<9] { XCTAssertThrowsError(try readAll(bad, blockSize: 97), "round \(round)") }
            if (try? readAll(bad, blockSize: 97, verifyChecksum: false)) == nil { structural += 1 }
        }
        XCTAssertGreaterThan(structural, total / 4, "many changes break the structure, not only the checksum")
    }
}

/// The bytes of `s` as an RDB string with a 6-bit length.
private func rdbString(hex s: String) -> [UInt8] {
    let blob = hex(s)
    return [UInt8(blob.count)] + blob
}
