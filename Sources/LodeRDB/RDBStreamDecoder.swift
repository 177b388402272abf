private let flagDeleted: Int64 = 1, flagSameFields: Int64 = 2

extension RDBReader {
    /// RDB_TYPE_STREAM_LISTPACKS (Redis 5-6) and _2 (7.0), as rdbLoadObject reads
    /// them, with the checks of deep sanitization (streamValidateListpackIntegrity,
    /// the PEL and consumer checks) and a few more that keep the result a valid stream:
    /// IDs strictly ascending, the stated length equal to the live entries, every
    /// pending entry owned by exactly one consumer.
    mutating func readStream(version2: Bool, start: Int) throws(RDBError) -> RDBStream {
        func corrupt(_ what: String, _ at: Int) -> RDBError { .corrupt(offset: at, what: what) }
        var entries: [RDBStreamEntry] = []
        var keys = Set<[UInt8]>()
        for _ in 0..<(try readLength()) {
            let at = offset
            let key = try readString()
            guard key.count == 16 else { throw corrupt("stream node key is not the size of a stream ID", at) }
            guard keys.insert(key).inserted else { throw corrupt("listpack re-added with existing key", at) }
            let lpAt = offset
            let elements = try Listpack.decode(try readString(), origin: lpAt)
            guard !elements.isEmpty else { throw corrupt("empty listpack inside stream", lpAt) }
            for e in try Self.streamNode(elements, master: RDBStreamID(raw: key[...]), origin: lpAt) {
                if let last = entries.last, e.id <= last.id { throw corrupt("stream entry \(e.id) not after \(last.id)", lpAt) }
                entries.append(e)
            }
        }
        let metaAt = offset
        let length = try readLength()
        guard length == UInt64(entries.count) else { throw corrupt("stream length \(length), \(entries.count) entries", metaAt) }
        let lastID = RDBStreamID(try readLength(), try readLength())
        var stream = RDBStream(entries: entries, lastID: lastID, firstID: entries.first?.id ?? RDBStreamID(0, 0),
                               maxDeletedID: RDBStreamID(0, 0), entriesAdded: length, groups: [])
        stream.fromLegacyFormat = !version2
        if version2 {
            stream.firstID = RDBStreamID(try readLength(), try readLength())
            stream.maxDeletedID = RDBStreamID(try readLength(), try readLength())
            stream.entriesAdded = try readLength()
        }
        var names = Set<[UInt8]>()
        for _ in 0..<(try readLength()) {
            let at = offset
            let group = try readStreamGroup(version2: version2)
            guard names.insert(group.name).inserted else { throw corrupt("duplicated consumer group name", at) }
            stream.groups.append(group)
        }
        return stream
    }

    private mutating func readStreamGroup(version2: Bool) throws(RDBError) -> RDBStreamGroup {
        let at = offset
        func corrupt(_ what: String) -> RDBError { .corrupt(offset: at, what: what) }
        let name = try readString()
        let lastID = RDBStreamID(try readLength(), try readLength())
        // Redis estimates the counter for the old type (streamEstimateDistanceFromFirstEverEntry);
        // unknown (-1) is what it falls back to, and what this reader gives.
        let entriesRead = version2 ? Int64(bitPattern: try readLength()) : -1
        var pending: [RDBStreamPending] = []
        var pendingIDs = Set<RDBStreamID>()
        for _ in 0..<(try readLength()) {
            let id = RDBStreamID(raw: try readBytes(16))
            let time = try readMilliseconds()
            pending.append(RDBStreamPending(id, deliveryTime: time, deliveryCount: try readLength()))
            guard pendingIDs.insert(id).inserted else { throw corrupt("duplicated global PEL entry \(id)") }
        }
        var consumers: [RDBStreamConsumer] = []
        var consumerNames = Set<[UInt8]>(), owned = Set<RDBStreamID>()
        for _ in 0..<(try readLength()) {
            let consumerName = try readString()
            guard consumerNames.insert(consumerName).inserted else { throw corrupt("duplicate stream consumer") }
            let seen = try readMilliseconds()
            var ids: [RDBStreamID] = []
            for _ in 0..<(try readLength()) {
                let id = RDBStreamID(raw: try readBytes(16))
                guard pendingIDs.contains(id) else { throw corrupt("consumer entry \(id) not found in group global PEL") }
                guard owned.insert(id).inserted else { throw corrupt("duplicated consumer PEL entry \(id)") }
                ids.append(id)
            }
            consumers.append(RDBStreamConsumer(consumerName, seenTime: seen, pending: ids))
        }
        guard owned.count == pendingIDs.count else { throw corrupt("stream group PEL entry without consumer") }
        return RDBStreamGroup(name, lastID: lastID, entriesRead: entriesRead, pending: pending, consumers: consumers)
    }

    /// rdbLoadMillisecondTime: 8 bytes, little-endian.
    private mutating func readMilliseconds() throws(RDBError) -> Int64 {
        Int64(bitPattern: try readBytes(8).reversed().reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The live entries of one node's listpack (see `RDBWriter.streamNodes` for the layout),
    /// checked as streamValidateListpackIntegrity does: the master entry, every entry's
    /// fields and lp-count, and the live and deleted counts.
    private static func streamNode(_ el: [[UInt8]], master: RDBStreamID, origin: Int) throws(RDBError) -> [RDBStreamEntry] {
        var i = 0
        func fail(_ what: String) -> RDBError { .corrupt(offset: origin, what: "stream listpack entry \(i): \(what)") }
        func next() throws(RDBError) -> [UInt8] {
            guard i < el.count else { throw fail("ends inside an entry") }
            defer { i += 1 }
            return el[i]
        }
        func int() throws(RDBError) -> Int64 {
            guard let v = RDBWriter.canonicalInteger(try next()) else { throw fail("not an integer") }
            return v
        }
        let count = try int(), deleted = try int(), masterCount = try int()
        guard masterCount >= 0 else { throw fail("negative master field count") }
        var masterFields: [[UInt8]] = []
        for _ in 0..<masterCount { masterFields.append(try next()) }
        guard try int() == 0 else { throw fail("master entry not terminated by 0") }
        var entries: [RDBStreamEntry] = []
        var deletedSeen: Int64 = 0
        while i < el.count {
            let flags = try int(), msDelta = try int(), seqDelta = try int()
            let same = flags & flagSameFields != 0
            let n = same ? masterCount : try int()
            guard n >= 0 else { throw fail("negative field count") }
            var fields: [RDBHashEntry] = []
            for k in 0..<n { fields.append(RDBHashEntry(same ? masterFields[Int(k)] : try next(), try next())) }
            guard try int() == n + 3 + (same ? 0 : n + 1) else { throw fail("lp-count does not match the entry") }
            let id = RDBStreamID(master.ms &+ UInt64(bitPattern: msDelta), master.seq &+ UInt64(bitPattern: seqDelta))
            if flags & flagDeleted != 0 {
                deletedSeen += 1
            } else {
                entries.append(RDBStreamEntry(id, fields))
            }
        }
        guard Int64(entries.count) == count, deletedSeen == deleted else {
            throw fail("master entry counts \(count) live and \(deleted) deleted, found \(entries.count) and \(deletedSeen)")
        }
        return entries
    }
}
