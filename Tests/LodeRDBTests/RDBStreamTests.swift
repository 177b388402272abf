import XCTest
@testable import LodeRDB

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private func id(_ ms: UInt64, _ seq: UInt64) -> RDBStreamID { RDBStreamID(ms, seq) }
private func entry(_ ms: UInt64, _ seq: UInt64, _ fields: [(String, [UInt8])]) -> RDBStreamEntry {
    RDBStreamEntry(id(ms, seq), fields.map { RDBHashEntry(b($0.0), $0.1) })
}

/// The streams the capture script's XADD-only recipes write (RedisStreamFixtures.swift).
private func streamRecipe(_ name: String) -> RDBStream? {
    func plain(_ entries: [RDBStreamEntry]) -> RDBStream {
        RDBStream(entries: entries, lastID: entries.last!.id, firstID: entries.first!.id, maxDeletedID: id(0, 0),
                  entriesAdded: UInt64(entries.count), groups: [])
    }
    switch name {
    case "streamSmall":
        return plain([entry(1, 1, [("a", b("1")), ("b", b("2"))]), entry(1, 2, [("a", b("3")), ("b", b("4"))]),
                      entry(2, 0, [("c", [])]), entry(2, 1, [("a", b("5")), ("b", b("6"))]), entry(3, 0, [("a", b("1")), ("a", b("2"))])])
    case "streamNodes": return plain((1...250).map { entry(UInt64($0), 0, [("f", b("\($0)")), ("g", b("value-\($0)"))]) })
    case "streamBig": return plain((1...6).map { entry(UInt64($0), 0, [("v", noise(1500, seed: UInt64($0)))]) })
    case "streamSeqWrap": return plain([entry(5, 10, [("a", b("1"))]), entry(6, 0, [("a", b("1"))]), entry(7, 3, [("a", b("1"))])])
    default: return nil
    }
}

private func decodeStream(_ dump: String) throws -> RDBStream {
    guard case .stream(let s) = try DumpPayload.decode(hex(dump)) else { throw RDBError.corrupt(offset: 0, what: "not a stream") }
    return s
}

final class RDBStreamTests: XCTestCase {
    func testXaddStreamsDecodeAndEncodeAsRedis() throws {
        XCTAssertEqual(RedisValueFixtures.streams.count, 7)
        for fixture in RedisValueFixtures.streams {
            XCTAssertEqual(hex(fixture.dump).first, RDB.typeStreamListpacks2, fixture.name)
            let decoded = try decodeStream(fixture.dump)
            // Every stream Redis wrote, tombstones and groups included, is written back
            // byte for byte when its nodes hold no deleted entries.
            if fixture.name != "streamDeleted" {
                XCTAssertEqual(hexString(DumpPayload.encode(.stream(decoded))), fixture.dump, fixture.name)
            }
            guard let expected = streamRecipe(fixture.name) else { continue }
            XCTAssertEqual(decoded, expected, fixture.name)
            XCTAssertEqual(hexString(DumpPayload.encode(.stream(expected))), fixture.dump, fixture.name)
        }
    }

    func testDeletedEntriesAndEmptyStreams() throws {
        let fixtures = Dictionary(uniqueKeysWithValues: RedisValueFixtures.streams.map { ($0.name, $0.dump) })
        let deleted = try decodeStream(fixtures["streamDeleted"]!)
        XCTAssertEqual(deleted.entries, [1, 3, 5].map { entry(UInt64($0), 0, [("a", b("\($0)"))]) })
        XCTAssertEqual(deleted.maxDeletedID, id(4, 0))
        XCTAssertEqual(deleted.entriesAdded, 5)
        XCTAssertEqual(try DumpPayload.decode(DumpPayload.encode(.stream(deleted))), .stream(deleted), "same data, no tombstones")
        let empty = try decodeStream(fixtures["streamEmpty"]!)
        XCTAssertEqual(empty.entries, [])
        XCTAssertEqual(empty.lastID, id(1, 0))
        XCTAssertEqual(empty.maxDeletedID, id(1, 0))
        XCTAssertEqual(empty.entriesAdded, 1)
    }

    func testConsumerGroups() throws {
        let dump = RedisValueFixtures.streams.first { $0.name == "streamGroups" }!.dump
        let s = try decodeStream(dump)
        XCTAssertEqual(s.groups.map(\.name), [b("g1"), b("g2")])
        let g1 = s.groups[0], g2 = s.groups[1]
        XCTAssertEqual(g1.lastID, id(3, 0))
        XCTAssertEqual(g1.entriesRead, 3)
        XCTAssertEqual(g1.pending.map(\.id), [id(2, 0), id(3, 0)], "1-0 was acknowledged")
        XCTAssertEqual(g1.pending.map(\.deliveryCount), [1, 1])
        XCTAssertEqual(g1.consumers.map(\.name), [b("alice"), b("bob")])
        XCTAssertEqual(g1.consumers.map(\.pending), [[id(2, 0)], [id(3, 0)]])
        XCTAssertGreaterThan(g1.pending[0].deliveryTime, 1_600_000_000_000)
        XCTAssertEqual(g2.lastID, id(5, 0))
        XCTAssertEqual(g2.consumers.map(\.name), [b("carol")])
        XCTAssertEqual(g2.pending, [])

        // The old type (Redis 5/6) has no first ID, tombstone ID, entries-added or reads counter.
        var old = RDBWriter()
        old.writeByte(RDB.typeStreamListpacks)
        var v2 = RDBWriter()
        v2.writeStream(s)
        var reader = RDBReader(v2.bytes)
        XCTAssertEqual(try reader.readLength(), 1)
        for _ in 0..<2 { _ = try reader.readString() }  // the one node
        for _ in 0..<3 { _ = try reader.readLength() }  // length, last ID
        old.writeBytes(v2.bytes[..<reader.offset])
        for _ in 0..<5 { _ = try reader.readLength() }
        old.writeLength(try reader.readLength())  // group count
        for _ in s.groups {
            old.writeString(try reader.readString())
            old.writeLength(try reader.readLength())
            old.writeLength(try reader.readLength())
            _ = try reader.readLength()
            let pelStart = reader.offset
            for _ in 0..<(try reader.readLength()) { _ = (try reader.readBytes(24), try reader.readLength()) }
            for _ in 0..<(try reader.readLength()) {
                _ = (try reader.readString(), try reader.readBytes(8))
                for _ in 0..<(try reader.readLength()) { _ = try reader.readBytes(16) }
            }
            old.writeBytes(v2.bytes[pelStart..<reader.offset])
        }
        guard case .stream(let loaded) = try DumpPayload.decode(DumpPayload.seal(old.bytes)) else { return XCTFail("not a stream") }
        XCTAssertEqual(loaded.entries, s.entries)
        XCTAssertEqual(loaded.entriesAdded, 5)
        XCTAssertEqual(loaded.firstID, id(1, 0))
        XCTAssertEqual(loaded.groups.map(\.entriesRead), [-1, -1])
        XCTAssertTrue(loaded.fromLegacyFormat, "a loader estimates the counters (rdbLoadObject)")
        XCTAssertEqual(loaded.groups.map(\.consumers), s.groups.map(\.consumers))
    }

    func testTruncationsAndCorruptionsOfStreams() {
        var rng = SeededGenerator(seed: 5)
        for fixture in RedisValueFixtures.streams {
            let payload = hex(fixture.dump), body = Array(payload.dropLast(DumpPayload.footerCount))
            let cuts = body.count < 1500 ? Array(0..<body.count) : Array(stride(from: 0, to: body.count, by: 61))
            for cut in cuts {
                var reader = RDBReader(Array(body[..<cut]))
                XCTAssertThrowsError(try reader.readValue(type: try reader.readByte()), "\(fixture.name) cut at \(cut)")
            }
            for _ in 0..<200 {
                var bad = payload
                bad[Int.random(in: 0..<body.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                _ = try? DumpPayload.decode(bad, skipChecksum: true)
                if bad != payload { XCTAssertThrowsError(try DumpPayload.decode(bad)) }
            }
        }
    }

    func testInvalidStreamsAreCorrupt() throws {
        let good = RDBStream(entries: [entry(1, 0, [("a", b("1"))]), entry(2, 0, [("a", b("2"))])], lastID: id(2, 0),
                             firstID: id(1, 0), maxDeletedID: id(0, 0), entriesAdded: 2,
                             groups: [RDBStreamGroup(b("g"), lastID: id(2, 0), entriesRead: 2,
                                                     pending: [RDBStreamPending(id(1, 0), deliveryTime: 5, deliveryCount: 1)],
                                                     consumers: [RDBStreamConsumer(b("c"), seenTime: 5, pending: [id(1, 0)])])])
        XCTAssertEqual(try DumpPayload.decode(DumpPayload.encode(.stream(good))), .stream(good))
        var bads: [(String, RDBStream)] = []
        var s = good
        s.entries.swapAt(0, 1)
        bads.append(("IDs out of order", s))
        s = good
        s.groups[0].consumers[0].pending = []
        bads.append(("pending entry without consumer", s))
        s = good
        s.groups[0].consumers[0].pending = [id(2, 0)]
        bads.append(("consumer owns an ID not pending", s))
        s = good
        s.groups.append(s.groups[0])
        bads.append(("duplicate group", s))
        s = good
        s.groups[0].consumers.append(RDBStreamConsumer(b("d"), seenTime: 1, pending: [id(1, 0)]))
        bads.append(("ID owned twice", s))
        for (name, stream) in bads {
            XCTAssertThrowsError(try DumpPayload.decode(DumpPayload.encode(.stream(stream))), name) { e in
                guard case .badData(.corrupt)? = e as? DumpValueError else { return XCTFail("\(name): \(e)") }
            }
        }
    }
}
