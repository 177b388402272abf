import LodeRESP
import LodeStore
import NIOCore

/// A stream being read or changed by one command: its metadata, written back by
/// `saveStream` (streams, unlike other collections, may exist empty).
struct StreamValue {
    var meta: StreamMeta
    var expireAt: Int64
}

/// XADD/XTRIM's trimming arguments (streamAddTrimArgs).
struct StreamTrim {
    enum Strategy { case none, maxlen(Int), minid(StreamID) }
    var strategy = Strategy.none
    var approximate = false
    var limit = 0
}

extension CommandContext {
    var damagedStream: CommandError { CommandError("ERR internal error: stored stream is damaged") }

    /// The stream under `key`, nil when absent; WRONGTYPE for other types.
    func lookupStream(_ key: ByteBuffer, read: Bool = false) throws(CommandError) -> StreamValue? {
        guard let r = read ? try lookupForRead(key) : try lookup(key) else { return nil }
        guard r.type == .stream else {
            if isBlockedRetry { return nil }
            throw .wrongType
        }
        guard let meta = StreamMeta(r.value) else { throw damagedStream }
        return StreamValue(meta: meta, expireAt: r.expireAt)
    }

    func newStream() -> StreamValue { StreamValue(meta: StreamMeta(version: store.newVersion()), expireAt: 0) }

    /// Writes the metadata back. `signal`: the change is one Redis signals
    /// (signalModifiedKey: WATCH, tracking); group bookkeeping (XREADGROUP, XACK,
    /// XCLAIM) is not, so it is stored without touching watchers. Either way a
    /// client blocked on the key gets a look.
    func saveStream(_ key: ByteBuffer, _ s: StreamValue, signal: Bool = true) throws(CommandError) {
        let record = Record(type: .stream, expireAt: s.expireAt, value: s.meta.encoded())
        if signal { return try put(key, record) }
        do { try store.put(db: db, key: key, record: record) } catch { throw storeFailure(error) }
        server.keyTouched(db, key)
    }

    // MARK: elements

    func streamElement(_ s: StreamValue, _ name: [UInt8]) throws(CommandError) -> ByteBuffer? {
        do { return try store.element(version: s.meta.version, ByteBuffer(bytes: name), hashed: false) } catch { throw storeFailure(error) }
    }

    func setStreamElement(_ s: StreamValue, _ name: [UInt8], _ value: ByteBuffer) throws(CommandError) {
        do { try store.setElement(version: s.meta.version, ByteBuffer(bytes: name), value: value, hashed: false) } catch {
            throw storeFailure(error)
        }
    }

    @discardableResult
    func removeStreamElement(_ s: StreamValue, _ name: [UInt8]) throws(CommandError) -> Bool {
        do { return try store.removeElement(version: s.meta.version, ByteBuffer(bytes: name), hashed: false) } catch {
            throw storeFailure(error)
        }
    }

    /// Walks elements named `from...through`; the bytes are valid inside `visit` only.
    func walkStream(_ s: StreamValue, from: [UInt8], through: [UInt8], reverse: Bool = false,
                    _ visit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(CommandError) -> Bool) throws(CommandError) {
        var failure: CommandError? = nil
        do {
            try store.walkElements(version: s.meta.version, from: from, through: through, reverse: reverse) { n, v in
                do { return try visit(n, v) } catch let e as CommandError {
                    failure = e
                    return false
                }
            }
        } catch { throw storeFailure(error) }
        if let failure { throw failure }
    }

    /// Entries with IDs in `start...end`, in order or reversed, at most `count`
    /// (0 = all); `visit` gets the ID and the stored fields.
    func streamEntries(_ s: StreamValue, _ start: StreamID, _ end: StreamID, reverse: Bool = false, count: Int = 0,
                       _ visit: (StreamID, UnsafeRawBufferPointer) throws(CommandError) -> Void) throws(CommandError) {
        guard start <= end else { return }
        var seen = 0
        try walkStream(s, from: StreamKeys.entry(start), through: StreamKeys.entry(end), reverse: reverse) { n, v throws(CommandError) in
            try visit(StreamID(n, at: 1), v)
            seen += 1
            return count == 0 || seen < count
        }
    }

    func streamEntryExists(_ s: StreamValue, _ id: StreamID) throws(CommandError) -> Bool {
        try streamElement(s, StreamKeys.entry(id)) != nil
    }

    /// The first or last live entry's ID (streamGetEdgeID skipping tombstones).
    func streamEdge(_ s: StreamValue, last: Bool) throws(CommandError) -> StreamID? {
        var found: StreamID? = nil
        try streamEntries(s, .zero, .max, reverse: last, count: 1) { id, _ in found = id }
        return found
    }

    // MARK: nodes

    /// The node holding `id` (the last one whose master ID is not above it), or,
    /// with `oldest`, the first node of the stream.
    func streamNode(_ s: StreamValue, containing id: StreamID = .max, oldest: Bool = false) throws(CommandError) -> StreamNode? {
        var node: StreamNode? = nil
        try walkStream(s, from: StreamKeys.node(.zero), through: StreamKeys.node(id), reverse: !oldest) { n, v in
            node = StreamNode(master: StreamID(n, at: 1), v)
            return false
        }
        return node
    }

    func writeNode(_ s: StreamValue, _ node: StreamNode) throws(CommandError) {
        try setStreamElement(s, StreamKeys.node(node.master), node.encoded)
    }

    // MARK: writes

    /// Appends an entry (streamAppendItem's node choice and accounting); the ID
    /// was checked by the caller.
    func appendStreamEntry(_ s: inout StreamValue, _ id: StreamID, _ pairs: ArraySlice<ByteBuffer>) throws(CommandError) {
        let fields = stride(from: pairs.startIndex, to: pairs.endIndex, by: 2).map { Array(pairs[$0].readableBytesView)[...] }
        let values = stride(from: pairs.startIndex + 1, to: pairs.endIndex, by: 2).map { Array(pairs[$0].readableBytesView)[...] }
        let total = pairs.reduce(0) { $0 + $1.readableBytes }
        var tail = try streamNode(s)
        if let t = tail {
            let configured = server.config.streamNodeMaxBytes
            let maxBytes = configured == 0 || configured > Self.streamListpackMaxSize ? Self.streamListpackMaxSize : configured
            if t.listpackBytes + total >= maxBytes {
                tail = nil
            } else if server.config.streamNodeMaxEntries > 0 && t.valid + t.deleted >= server.config.streamNodeMaxEntries {
                tail = nil
            }
        }
        var node = tail ?? StreamNode(master: id, fields: fields.map { Array($0) })
        if tail == nil { s.meta.nodeCount += 1 }
        node.append(id, fields: fields, values: values)
        try writeNode(s, node)
        try setStreamElement(s, StreamKeys.entry(id), StreamKeys.encodeFields(pairs))
        s.meta.length += 1
        s.meta.entriesAdded += 1
        s.meta.lastID = id
        if s.meta.length == 1 { s.meta.firstID = id }
    }

    static var streamListpackMaxSize: Int { 1 << 30 }

    /// Deletes one entry (streamIteratorRemoveEntry): a tombstone in its node, or
    /// the node itself when it was the node's last live entry.
    func deleteStreamEntry(_ s: inout StreamValue, _ id: StreamID) throws(CommandError) -> Bool {
        guard try removeStreamElement(s, StreamKeys.entry(id)) else { return false }
        if var node = try streamNode(s, containing: id) {
            if node.valid <= 1 {
                try removeStreamElement(s, StreamKeys.node(node.master))
                s.meta.nodeCount -= 1
            } else {
                node.valid -= 1
                node.deleted += 1
                try writeNode(s, node)
            }
        }
        s.meta.length -= 1
        return true
    }

    /// streamTrim: whole nodes from the oldest while they may go; then, unless
    /// approximate, single entries of the next node. Returns how many were deleted.
    func trimStream(_ s: inout StreamValue, _ t: StreamTrim) throws(CommandError) -> Int {
        if case .none = t.strategy { return 0 }
        var deleted = 0
        // The oldest node each time round: the one before was removed, or the loop ends
        // (so a trim of a long stream reads only the nodes it removes, not all of them).
        while var node = try streamNode(s, oldest: true) {
            if case .maxlen(let maxlen) = t.strategy, s.meta.length <= maxlen { break }
            let entries = node.valid
            if t.limit > 0 && deleted + entries > t.limit { break }
            let removeNode: Bool
            switch t.strategy {
            case .maxlen(let maxlen): removeNode = s.meta.length - entries >= maxlen
            case .minid(let minid): removeNode = node.lastID < minid
            case .none: removeNode = false
            }
            if removeNode {
                var ids: [StreamID] = []
                try streamEntries(s, node.master, node.lastID) { id, _ in ids.append(id) }
                for id in ids { try removeStreamElement(s, StreamKeys.entry(id)) }
                try removeStreamElement(s, StreamKeys.node(node.master))
                s.meta.nodeCount -= 1
                s.meta.length -= entries
                deleted += entries
                continue
            }
            if t.approximate { break }
            var ids: [StreamID] = []
            try streamEntries(s, node.master, node.lastID) { id, _ in ids.append(id) }
            var fromNode = 0
            for id in ids {
                let stop: Bool
                switch t.strategy {
                case .maxlen(let maxlen): stop = s.meta.length <= maxlen
                case .minid(let minid): stop = id >= minid
                case .none: stop = true
                }
                if stop { break }
                try removeStreamElement(s, StreamKeys.entry(id))
                s.meta.length -= 1
                fromNode += 1
            }
            deleted += fromNode
            node.valid -= fromNode
            node.deleted += fromNode
            try writeNode(s, node)
            break
        }
        if s.meta.length == 0 {
            s.meta.firstID = .zero
        } else if deleted > 0 {
            s.meta.firstID = try streamEdge(s, last: false) ?? .zero
        }
        return deleted
    }
}
