/// A stream entry ID (streamID: milliseconds, sequence).
public struct RDBStreamID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var ms: UInt64
    public var seq: UInt64
    public init(_ ms: UInt64, _ seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }
    public static func < (a: Self, b: Self) -> Bool { (a.ms, a.seq) < (b.ms, b.seq) }
    public var description: String { "\(ms)-\(seq)" }

    /// streamEncodeID: 16 bytes, big-endian, so byte order is ID order (rax keys, raw PEL IDs).
    var raw: [UInt8] {
        var out: [UInt8] = []
        for v in [ms, seq] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
        }
        return out
    }

    init(raw: ArraySlice<UInt8>) {
        let b = Array(raw)
        ms = b[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        seq = b[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }
}

public struct RDBStreamEntry: Equatable, Sendable {
    public var id: RDBStreamID
    public var fields: [RDBHashEntry]
    public init(_ id: RDBStreamID, _ fields: [RDBHashEntry]) {
        self.id = id
        self.fields = fields
    }
}

/// An entry of a group's pending entries list (streamNACK).
public struct RDBStreamPending: Equatable, Sendable {
    public var id: RDBStreamID
    /// Unix time in ms of the last delivery.
    public var deliveryTime: Int64
    public var deliveryCount: UInt64
    public init(_ id: RDBStreamID, deliveryTime: Int64, deliveryCount: UInt64) {
        self.id = id
        self.deliveryTime = deliveryTime
        self.deliveryCount = deliveryCount
    }
}

public struct RDBStreamConsumer: Equatable, Sendable {
    public var name: [UInt8]
    /// Unix time in ms the consumer was last seen.
    public var seenTime: Int64
    /// The IDs of the group's pending entries it owns.
    public var pending: [RDBStreamID]
    public init(_ name: [UInt8], seenTime: Int64, pending: [RDBStreamID]) {
        self.name = name
        self.seenTime = seenTime
        self.pending = pending
    }
}

public struct RDBStreamGroup: Equatable, Sendable {
    public var name: [UInt8]
    public var lastID: RDBStreamID
    /// The group's logical reads counter; -1 (SCG_INVALID_ENTRIES_READ) when unknown,
    /// as after loading an RDB_TYPE_STREAM_LISTPACKS value here.
    public var entriesRead: Int64
    public var pending: [RDBStreamPending]
    public var consumers: [RDBStreamConsumer]
    public init(_ name: [UInt8], lastID: RDBStreamID, entriesRead: Int64, pending: [RDBStreamPending], consumers: [RDBStreamConsumer]) {
        self.name = name
        self.lastID = lastID
        self.entriesRead = entriesRead
        self.pending = pending
        self.consumers = consumers
    }
}

/// A stream as RDB_TYPE_STREAM_LISTPACKS_2 holds it: live entries in ID order, the
/// metadata, the consumer groups (sorted by name, as Redis's rax iterates them).
public struct RDBStream: Equatable, Sendable {
    public var entries: [RDBStreamEntry]
    public var lastID: RDBStreamID
    public var firstID: RDBStreamID
    public var maxDeletedID: RDBStreamID
    public var entriesAdded: UInt64
    public var groups: [RDBStreamGroup]
    /// Read from RDB_TYPE_STREAM_LISTPACKS (Redis 5-6), which has no group read
    /// counters: a loader estimates them as Redis 7.0 does on load.
    public var fromLegacyFormat = false
    public init(entries: [RDBStreamEntry], lastID: RDBStreamID, firstID: RDBStreamID, maxDeletedID: RDBStreamID,
                entriesAdded: UInt64, groups: [RDBStreamGroup]) {
        self.entries = entries
        self.lastID = lastID
        self.firstID = firstID
        self.maxDeletedID = maxDeletedID
        self.entriesAdded = entriesAdded
        self.groups = groups
    }
}

/// stream.h's entry flags.
private let flagDeleted: Int64 = 1, flagSameFields: Int64 = 2

extension RDBWriter {
    /// A stream as rdbSaveObject writes RDB_TYPE_STREAM_LISTPACKS_2, its nodes laid
    /// out as streamAppendItem builds them one XADD at a time (a new node when the
    /// tail's bytes plus the entry's reach `nodeMaxBytes`, or it holds `nodeMaxEntries`).
    /// Deleted entries are not kept, so a stream that had XDEL or XTRIM differs from
    /// Redis's bytes (Redis keeps tombstones in its nodes) but holds the same data.
    public mutating func writeStream(_ stream: RDBStream, nodeMaxBytes: Int = 4096, nodeMaxEntries: Int = 100) {
        let nodes = Self.streamNodes(stream.entries, maxBytes: nodeMaxBytes, maxEntries: nodeMaxEntries)
        writeLength(UInt64(nodes.count))
        for (master, lp) in nodes {
            writeString(master.raw)
            writeString(lp)
        }
        for v in [UInt64(stream.entries.count), stream.lastID.ms, stream.lastID.seq, stream.firstID.ms, stream.firstID.seq,
                  stream.maxDeletedID.ms, stream.maxDeletedID.seq, stream.entriesAdded] { writeLength(v) }
        let groups = stream.groups.sorted { $0.name.lexicographicallyPrecedes($1.name) }
        writeLength(UInt64(groups.count))
        for g in groups {
            writeString(g.name)
            writeLength(g.lastID.ms)
            writeLength(g.lastID.seq)
            writeLength(UInt64(bitPattern: g.entriesRead))
            // rdbSaveStreamPEL with NACKs, then rdbSaveStreamConsumers; rax order is byte order.
            writeLength(UInt64(g.pending.count))
            for p in g.pending.sorted(by: { $0.id < $1.id }) {
                writeBytes(p.id.raw)
                writeMilliseconds(p.deliveryTime)
                writeLength(p.deliveryCount)
            }
            let consumers = g.consumers.sorted { $0.name.lexicographicallyPrecedes($1.name) }
            writeLength(UInt64(consumers.count))
            for c in consumers {
                writeString(c.name)
                writeMilliseconds(c.seenTime)
                writeLength(UInt64(c.pending.count))
                for id in c.pending.sorted() { writeBytes(id.raw) }
            }
        }
    }

    /// rdbSaveMillisecondTime: 8 bytes, little-endian.
    mutating func writeMilliseconds(_ t: Int64) {
        var out: [UInt8] = []
        appendLittleEndian(UInt64(bitPattern: t), width: 8, to: &out)
        writeBytes(out)
    }

    /// The (master ID, listpack) nodes of streamAppendItem. A node's listpack starts
    /// with the live count, then deleted count 0, the master fields and a 0; each
    /// entry is flags, ID deltas, [field count, fields], values, and its lp-count.
    static func streamNodes(_ entries: [RDBStreamEntry], maxBytes: Int, maxEntries: Int) -> [(RDBStreamID, [UInt8])] {
        struct Node { var master: RDBStreamID; var fields: [[UInt8]]; var count: Int; var rest: ListpackBuilder }
        func countSize(_ n: Int) -> Int {
            var lp = ListpackBuilder()
            lp.append(Array(String(n).utf8))
            return lp.body.count
        }
        func text(_ v: Int64) -> [UInt8] { Array(String(v).utf8) }
        let limit = maxBytes == 0 || maxBytes > 1 << 30 ? 1 << 30 : maxBytes
        var nodes: [Node] = []
        for e in entries {
            let size = e.fields.reduce(0) { $0 + $1.field.count + $1.value.count }
            var newNode = true
            if let tail = nodes.last {
                // lpBytes of the tail is its count entry plus everything after it.
                newNode = tail.rest.byteCount + countSize(tail.count) + size >= limit || (maxEntries > 0 && tail.count >= maxEntries)
            }
            if newNode {
                var rest = ListpackBuilder()
                rest.append(text(0))  // deleted so far
                rest.append(text(Int64(e.fields.count)))
                for f in e.fields { rest.append(f.field) }
                rest.append(text(0))  // the master entry's terminator
                nodes.append(Node(master: e.id, fields: e.fields.map(\.field), count: 0, rest: rest))
            }
            var node = nodes.removeLast()
            let same = node.fields.elementsEqual(e.fields.map(\.field))
            node.rest.append(text(same ? flagSameFields : 0))
            node.rest.append(text(Int64(bitPattern: e.id.ms &- node.master.ms)))
            node.rest.append(text(Int64(bitPattern: e.id.seq &- node.master.seq)))
            if !same { node.rest.append(text(Int64(e.fields.count))) }
            for f in e.fields {
                if !same { node.rest.append(f.field) }
                node.rest.append(f.value)
            }
            node.rest.append(text(Int64(e.fields.count + 3 + (same ? 0 : e.fields.count + 1))))
            node.count += 1
            nodes.append(node)
        }
        return nodes.map { node in
            var lp = ListpackBuilder()
            lp.append(text(Int64(node.count)))
            lp.append(contentsOf: node.rest)
            return (node.master, lp.bytes())
        }
    }
}
