import LodeRDB
import LodeStore
import NIOCore

/// The one conversion between Lode's stored values (docs/storage.md) and Redis's
/// value model (`RDBValue`), behind DUMP/RESTORE, RDB files (SAVE, BGSAVE, the sync
/// stream) and the offline dump tool. Reads go through `StoreReading`, so the same
/// code reads the live store and a snapshot on another thread; writes build the
/// elements under a fresh version with the Store's own element API and return the
/// record for the caller to `put` (so WATCH, notifications and the log see a
/// RESTORE like any write).
///
/// It lives beside the engine rather than in its own target because a stream's
/// layout (metadata, nodes, pending entries) is the engine's.
public enum StoredValueCodec {
    /// A stored value that does not decode: a damaged record, never a client's fault.
    public struct Damaged: Error, CustomStringConvertible {
        public let what: String
        public var description: String { "damaged stored value: \(what)" }
    }

    /// Stream node limits for restored streams (stream-node-max-bytes/-entries).
    public struct NodeLimits: Sendable {
        public var maxBytes: Int
        public var maxEntries: Int
        public init(maxBytes: Int = 4096, maxEntries: Int = 100) {
            self.maxBytes = maxBytes
            self.maxEntries = maxEntries
        }
    }

    // MARK: Lode → RDBValue

    /// The value of a stored record, read from `reader` (the store or a snapshot).
    public static func rdbValue(_ record: Record, from reader: StoreReading) throws -> RDBValue {
        if record.type == .string { return .string(try reader.stringBytes(record)) }
        if record.type == .stream { return .stream(try rdbStream(record, from: reader)) }
        guard let meta = record.collection else { throw Damaged(what: "collection header") }
        switch record.type {
        case .list:
            var out: [[UInt8]] = []
            out.reserveCapacity(meta.size)
            try reader.forEachElement(version: meta.version, hashed: false) { _, v in out.append(Array(v)) }
            return .list(out)
        case .hash:
            var out: [RDBHashEntry] = []
            out.reserveCapacity(meta.size)
            try reader.forEachElement(version: meta.version, hashed: true) { n, v in out.append(RDBHashEntry(Array(n), Array(v))) }
            return .hash(out)
        case .set:
            var out: [[UInt8]] = []
            out.reserveCapacity(meta.size)
            try reader.forEachElement(version: meta.version, hashed: true) { n, _ in out.append(Array(n)) }
            return .set(out)
        case .zset:
            var out: [RDBZSetEntry] = []
            out.reserveCapacity(meta.size)
            var bad = false
            try reader.forEachElement(version: meta.version, hashed: true) { n, v in
                guard v.count >= 8 else { bad = true; return }
                out.append(RDBZSetEntry(Array(n), Double(bitPattern: be64(v, at: 0))))
            }
            if bad { throw Damaged(what: "sorted set score") }
            return .zset(out)
        case .string, .stream:
            preconditionFailure("handled above")
        }
    }

    private static func rdbStream(_ record: Record, from reader: StoreReading) throws -> RDBStream {
        guard let meta = StreamMeta(record.value) else { throw Damaged(what: "stream metadata") }
        var entries: [RDBStreamEntry] = []
        entries.reserveCapacity(meta.length)
        // Pending entries by group number, with their consumer's number.
        var pending: [UInt32: [(RDBStreamPending, UInt32)]] = [:]
        var bad = false
        try reader.forEachElement(version: meta.version, hashed: false) { n, v in
            guard let kind = n.first else { bad = true; return }
            switch kind {
            case StreamKeys.entry where n.count == 17:
                let id = StreamID(n, at: 1)
                var pieces: [[UInt8]] = []
                StreamKeys.decodeFields(v) { pieces.append(Array($0)) }
                var fields: [RDBHashEntry] = []
                fields.reserveCapacity(pieces.count / 2)
                for i in stride(from: 0, to: pieces.count - 1, by: 2) { fields.append(RDBHashEntry(pieces[i], pieces[i + 1])) }
                entries.append(RDBStreamEntry(RDBStreamID(id.ms, id.seq), fields))
            case StreamKeys.groupPEL where n.count == 21:
                guard let p = PendingEntry(v) else { bad = true; return }
                let group = be32(n, at: 1), id = StreamID(n, at: 5)
                let entry = RDBStreamPending(RDBStreamID(id.ms, id.seq), deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount)
                pending[group, default: []].append((entry, p.consumer))
            default:
                break  // nodes and the consumers' lists: derived from the above
            }
        }
        if bad { throw Damaged(what: "stream element") }
        let groups = meta.groups.map { g -> RDBStreamGroup in
            let pel = pending[g.id] ?? []
            let consumers = g.consumers.map { c in
                RDBStreamConsumer(c.name, seenTime: c.seenTime, pending: pel.filter { $0.1 == c.id }.map { $0.0.id })
            }
            return RDBStreamGroup(g.name, lastID: RDBStreamID(g.lastID.ms, g.lastID.seq), entriesRead: g.entriesRead,
                                  pending: pel.map { $0.0 }, consumers: consumers)
        }
        func rid(_ id: StreamID) -> RDBStreamID { RDBStreamID(id.ms, id.seq) }
        return RDBStream(entries: entries, lastID: rid(meta.lastID), firstID: rid(meta.firstID),
                         maxDeletedID: rid(meta.maxDeletedID), entriesAdded: meta.entriesAdded, groups: groups)
    }

    // MARK: RDBValue → Lode

    /// Writes `value`'s elements under a new version of `store` and returns the
    /// record to put under the key (the caller puts it: the Store chunks a long string).
    public static func record(for value: RDBValue, expireAt: Int64, into store: Store,
                              nodeLimits: NodeLimits = NodeLimits()) throws -> Record {
        switch value {
        case .string(let bytes):
            return Record(type: .string, expireAt: expireAt, value: ByteBuffer(bytes: bytes))
        case .list(let elements):
            var meta = CollectionMeta(version: store.newVersion(), size: 0)
            for e in elements {
                _ = try store.setElement(version: meta.version, ListCommands.name(meta.tail), value: ByteBuffer(bytes: e), hashed: false)
                meta.tail &+= 1
                meta.size += 1
            }
            return Record(type: .list, expireAt: expireAt, meta: meta)
        case .hash(let fields):
            var meta = CollectionMeta(version: store.newVersion(), size: 0)
            for f in fields where try store.setElement(version: meta.version, ByteBuffer(bytes: f.field),
                                                        value: ByteBuffer(bytes: f.value), hashed: true) {
                meta.size += 1
            }
            return Record(type: .hash, expireAt: expireAt, meta: meta)
        case .set(let members):
            var meta = CollectionMeta(version: store.newVersion(), size: 0)
            for m in members where try store.setElement(version: meta.version, ByteBuffer(bytes: m), value: ByteBuffer(), hashed: true) {
                meta.size += 1
            }
            return Record(type: .set, expireAt: expireAt, meta: meta)
        case .zset(let entries):
            var meta = CollectionMeta(version: store.newVersion(), size: 0)
            for e in entries {
                let member = ByteBuffer(bytes: e.member)
                guard try store.setElement(version: meta.version, member, value: ZSetCommands.scoreBytes(e.score), hashed: true) else {
                    continue  // the decoder refuses duplicates; kept safe anyway
                }
                try store.scoreIndexPut(version: meta.version, score: e.score, member: member)
                meta.size += 1
            }
            return Record(type: .zset, expireAt: expireAt, meta: meta)
        case .stream(let stream):
            return try streamRecord(stream, expireAt: expireAt, into: store, nodeLimits: nodeLimits)
        }
    }

    private static func streamRecord(_ stream: RDBStream, expireAt: Int64, into store: Store,
                                     nodeLimits: NodeLimits) throws -> Record {
        func sid(_ id: RDBStreamID) -> StreamID { StreamID(ms: id.ms, seq: id.seq) }
        var meta = StreamMeta(version: store.newVersion())
        func put(_ name: [UInt8], _ value: ByteBuffer) throws {
            _ = try store.setElement(version: meta.version, ByteBuffer(bytes: name), value: value, hashed: false)
        }
        // Nodes as XADD builds them one entry at a time (appendStreamEntry's rule).
        let maxBytes = nodeLimits.maxBytes == 0 || nodeLimits.maxBytes > CommandContext.streamListpackMaxSize
            ? CommandContext.streamListpackMaxSize : nodeLimits.maxBytes
        var tail: StreamNode? = nil
        for e in stream.entries {
            let id = sid(e.id)
            let fields = e.fields.map { $0.field[...] }, values = e.fields.map { $0.value[...] }
            let total = e.fields.reduce(0) { $0 + $1.field.count + $1.value.count }
            if let t = tail, t.listpackBytes + total >= maxBytes
                || (nodeLimits.maxEntries > 0 && t.valid + t.deleted >= nodeLimits.maxEntries) {
                try put(StreamKeys.node(t.master), t.encoded)
                tail = nil
            }
            if tail == nil {
                tail = StreamNode(master: id, fields: e.fields.map { $0.field })
                meta.nodeCount += 1
            }
            tail!.append(id, fields: fields, values: values)
            var b = ByteBuffer()
            b.writeInteger(UInt32(e.fields.count * 2))
            for f in e.fields {
                b.writeInteger(UInt32(f.field.count)); b.writeBytes(f.field)
                b.writeInteger(UInt32(f.value.count)); b.writeBytes(f.value)
            }
            try put(StreamKeys.entry(id), b)
        }
        if let t = tail { try put(StreamKeys.node(t.master), t.encoded) }
        meta.length = stream.entries.count
        meta.lastID = sid(stream.lastID)
        meta.firstID = sid(stream.firstID)
        meta.maxDeletedID = sid(stream.maxDeletedID)
        meta.entriesAdded = stream.entriesAdded
        for g in stream.groups {
            let entriesRead = stream.fromLegacyFormat ? estimatedEntriesRead(meta, sid(g.lastID)) : g.entriesRead
            var group = StreamGroup(name: g.name, id: meta.nextGroupID, lastID: sid(g.lastID), entriesRead: entriesRead)
            meta.nextGroupID += 1
            var owner: [RDBStreamID: UInt32] = [:]
            for c in g.consumers {
                let at = group.addConsumer(c.name, now: c.seenTime)
                group.consumers[at].pelCount = c.pending.count
                for id in c.pending {
                    owner[id] = group.consumers[at].id
                    try put(StreamKeys.consumerPEL(group.id, group.consumers[at].id, sid(id)), ByteBuffer())
                }
            }
            for p in g.pending {
                let entry = PendingEntry(consumer: owner[p.id] ?? 0, deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount)
                try put(StreamKeys.groupPEL(group.id, sid(p.id)), entry.encoded)
            }
            group.pelCount = g.pending.count
            meta.insert(group)
        }
        return Record(type: .stream, expireAt: expireAt, value: meta.encoded())
    }

    /// streamEstimateDistanceFromFirstEverEntry, which rdbLoadObject applies to the groups
    /// of a Redis 5-6 stream: a group's read counter where the stream's counters tell it.
    static func estimatedEntriesRead(_ s: StreamMeta, _ id: StreamID) -> Int64 {
        let invalid: Int64 = -1
        guard s.entriesAdded > 0 else { return 0 }
        let added = Int64(s.entriesAdded), length = Int64(s.length)
        if s.length == 0 && id <= s.lastID { return added }
        if id == s.lastID { return added }
        if id > s.lastID { return invalid }
        if s.maxDeletedID.isZero || s.maxDeletedID < s.firstID {
            if id < s.firstID { return added - length }
            if id == s.firstID { return added - length + 1 }
        }
        return invalid
    }
}
