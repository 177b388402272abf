import LodeStore
import NIOCore

/// A stream's metadata record (docs/storage.md, "Streams"): the collection header
/// (`version`, `size` = length) that every collection starts with, then the
/// stream's counters and its consumer groups with their consumers. Entries, nodes
/// and pending entries are elements of the version, one LMDB record each, so
/// XADD, XACK and XDEL cost O(log n) whatever the length.
struct StreamMeta {
    var version: UInt64
    var length: Int = 0
    var lastID = StreamID.zero
    var maxDeletedID = StreamID.zero
    /// Redis's first_id: the first entry's ID, kept as Redis keeps it (0-0 when empty).
    var firstID = StreamID.zero
    var entriesAdded: UInt64 = 0
    /// Listpack nodes Redis would have (XINFO's radix-tree-keys).
    var nodeCount: Int = 0
    var nextGroupID: UInt32 = 1
    /// Consumer groups in name (byte) order, as Redis's rax keeps them.
    var groups: [StreamGroup] = []

    init(version: UInt64) { self.version = version }

    func group(named name: [UInt8]) -> Int? { groups.firstIndex { $0.name == name } }

    /// Inserts a group keeping name order.
    mutating func insert(_ g: StreamGroup) {
        let at = groups.firstIndex { !$0.name.lexicographicallyPrecedes(g.name) } ?? groups.count
        groups.insert(g, at: at)
    }
}

struct StreamGroup {
    var name: [UInt8]
    var id: UInt32
    var lastID: StreamID
    /// -1: unknown (SCG_INVALID_ENTRIES_READ).
    var entriesRead: Int64
    var pelCount: Int = 0
    var nextConsumerID: UInt32 = 1
    /// In name order.
    var consumers: [StreamConsumer] = []

    func consumer(named name: [UInt8]) -> Int? { consumers.firstIndex { $0.name == name } }

    /// Adds a consumer in name order; returns its index.
    mutating func addConsumer(_ name: [UInt8], now: Int64) -> Int {
        let c = StreamConsumer(name: name, id: nextConsumerID, seenTime: now)
        nextConsumerID += 1
        let at = consumers.firstIndex { !$0.name.lexicographicallyPrecedes(name) } ?? consumers.count
        consumers.insert(c, at: at)
        return at
    }
}

struct StreamConsumer {
    var name: [UInt8]
    var id: UInt32
    var seenTime: Int64
    var pelCount: Int = 0
}

// MARK: encoding

extension StreamMeta {
    func encoded() -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(version)
        b.writeInteger(UInt64(length))
        for id in [lastID, maxDeletedID, firstID] { b.writeInteger(id.ms); b.writeInteger(id.seq) }
        b.writeInteger(entriesAdded)
        b.writeInteger(UInt64(nodeCount))
        b.writeInteger(nextGroupID)
        b.writeInteger(UInt32(groups.count))
        for g in groups {
            b.writeInteger(UInt32(g.name.count)); b.writeBytes(g.name)
            b.writeInteger(g.id)
            b.writeInteger(g.lastID.ms); b.writeInteger(g.lastID.seq)
            b.writeInteger(g.entriesRead)
            b.writeInteger(UInt64(g.pelCount))
            b.writeInteger(g.nextConsumerID)
            b.writeInteger(UInt32(g.consumers.count))
            for c in g.consumers {
                b.writeInteger(UInt32(c.name.count)); b.writeBytes(c.name)
                b.writeInteger(c.id)
                b.writeInteger(c.seenTime)
                b.writeInteger(UInt64(c.pelCount))
            }
        }
        return b
    }

    /// Decodes a stored record's payload; nil when it is damaged.
    init?(_ value: ByteBuffer) {
        var b = value
        func id() -> StreamID? {
            guard let ms = b.readInteger(as: UInt64.self), let seq = b.readInteger(as: UInt64.self) else { return nil }
            return StreamID(ms: ms, seq: seq)
        }
        func name() -> [UInt8]? {
            guard let n = b.readInteger(as: UInt32.self), let bytes = b.readBytes(length: Int(n)) else { return nil }
            return bytes
        }
        guard let version = b.readInteger(as: UInt64.self), let length = b.readInteger(as: UInt64.self),
              let last = id(), let maxDeleted = id(), let first = id(),
              let added = b.readInteger(as: UInt64.self), let nodes = b.readInteger(as: UInt64.self),
              let nextGroup = b.readInteger(as: UInt32.self), let groupCount = b.readInteger(as: UInt32.self) else { return nil }
        self.init(version: version)
        self.length = Int(length)
        lastID = last; maxDeletedID = maxDeleted; firstID = first
        entriesAdded = added
        nodeCount = Int(nodes)
        nextGroupID = nextGroup
        for _ in 0..<groupCount {
            guard let gname = name(), let gid = b.readInteger(as: UInt32.self), let glast = id(),
                  let read = b.readInteger(as: Int64.self), let pel = b.readInteger(as: UInt64.self),
                  let nextConsumer = b.readInteger(as: UInt32.self), let count = b.readInteger(as: UInt32.self) else { return nil }
            var g = StreamGroup(name: gname, id: gid, lastID: glast, entriesRead: read)
            g.pelCount = Int(pel)
            g.nextConsumerID = nextConsumer
            for _ in 0..<count {
                guard let cname = name(), let cid = b.readInteger(as: UInt32.self),
                      let seen = b.readInteger(as: Int64.self), let cpel = b.readInteger(as: UInt64.self) else { return nil }
                var c = StreamConsumer(name: cname, id: cid, seenTime: seen)
                c.pelCount = Int(cpel)
                g.consumers.append(c)
            }
            groups.append(g)
        }
    }
}

/// The names of a stream's elements, one prefix byte per kind, so each kind is a
/// contiguous range in ID order.
enum StreamKeys {
    static let entry: UInt8 = 1
    static let node: UInt8 = 2
    static let groupPEL: UInt8 = 3
    static let consumerPEL: UInt8 = 4

    static func entry(_ id: StreamID) -> [UInt8] { [entry] + id.bytes }
    static func node(_ id: StreamID) -> [UInt8] { [node] + id.bytes }

    static func groupPEL(_ group: UInt32, _ id: StreamID) -> [UInt8] {
        var b: [UInt8] = [groupPEL]
        appendU32(group, &b)
        id.append(to: &b)
        return b
    }

    static func consumerPEL(_ group: UInt32, _ consumer: UInt32, _ id: StreamID) -> [UInt8] {
        var b: [UInt8] = [consumerPEL]
        appendU32(group, &b)
        appendU32(consumer, &b)
        id.append(to: &b)
        return b
    }

    static func appendU32(_ v: UInt32, _ b: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    /// An entry's fields and values: `count u32 · (length u32 · bytes)*`.
    static func encodeFields(_ args: ArraySlice<ByteBuffer>) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt32(args.count))
        for a in args {
            b.writeInteger(UInt32(a.readableBytes))
            b.writeImmutableBuffer(a)
        }
        return b
    }

    /// Visits the fields and values of a stored entry.
    static func decodeFields(_ v: UnsafeRawBufferPointer, _ visit: (UnsafeRawBufferPointer) -> Void) {
        guard v.count >= 4 else { return }
        let n = Int(be32(v, at: 0))
        var o = 4
        for _ in 0..<n {
            guard o + 4 <= v.count else { return }
            let len = Int(be32(v, at: o))
            guard o + 4 + len <= v.count else { return }
            visit(UnsafeRawBufferPointer(rebasing: v[(o + 4)..<(o + 4 + len)]))
            o += 4 + len
        }
    }

    static func fieldCount(_ v: UnsafeRawBufferPointer) -> Int {
        v.count >= 4 ? Int(be32(v, at: 0)) : 0
    }
}

/// A pending entry (Redis's streamNACK): its consumer, last delivery and count.
struct PendingEntry {
    var consumer: UInt32
    var deliveryTime: Int64
    var deliveryCount: UInt64

    var encoded: ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(consumer)
        b.writeInteger(deliveryTime)
        b.writeInteger(deliveryCount)
        return b
    }

    init(consumer: UInt32, deliveryTime: Int64, deliveryCount: UInt64) {
        self.consumer = consumer
        self.deliveryTime = deliveryTime
        self.deliveryCount = deliveryCount
    }

    init?(_ v: UnsafeRawBufferPointer) {
        guard v.count >= 20 else { return nil }
        consumer = be32(v, at: 0)
        deliveryTime = Int64(bitPattern: be64(v, at: 4))
        deliveryCount = be64(v, at: 12)
    }
}

@inline(__always)
func be32(_ v: UnsafeRawBufferPointer, at o: Int) -> UInt32 {
    UInt32(v[o]) << 24 | UInt32(v[o + 1]) << 16 | UInt32(v[o + 2]) << 8 | UInt32(v[o + 3])
}

@inline(__always)
func be64(_ v: UnsafeRawBufferPointer, at o: Int) -> UInt64 {
    UInt64(be32(v, at: o)) << 32 | UInt64(be32(v, at: o + 4))
}
