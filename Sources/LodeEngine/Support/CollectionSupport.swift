import LodeRESP
import LodeStore
import NIOCore

/// What collection commands share: finding a collection of the right type,
/// element access with Redis's error mapping, and writing the metadata back.
struct Collection {
    var meta: CollectionMeta
    var expireAt: Int64
    let type: ValueType
    let existed: Bool
    /// The metadata as stored, to skip rewriting it when nothing in it changed
    /// (an HSET of an existing field, LSET, a ZADD that only moves a score).
    var stored: (CollectionMeta, Int64)? = nil
}

extension ValueType {
    /// The notify-keyspace-events class of this type's events.
    var eventClass: KeyspaceEventFlags {
        switch self {
        case .string: return .string
        case .list: return .list
        case .hash: return .hash
        case .set: return .set
        case .zset: return .zset
        case .stream: return .stream
        }
    }
}

extension CommandContext {
    /// Redis's lookupKeyRead from a write command (GETDEL, GETEX, SET ... GET,
    /// COPY's source, the inputs of a *STORE): counts a keyspace hit or miss and
    /// publishes `keymiss` as read-only commands' lookups do.
    func lookupForRead(_ key: ByteBuffer) throws(CommandError) -> Record? {
        let r = try lookup(key)
        if !command.flags.contains(.readonly) && !isBlockedRetry { countRead(r, key) }  // else lookup did it
        return r
    }

    /// Redis's lookupKeyWrite before a write that replaces `key` whatever it held
    /// (setKey): a key whose time has come is expired first, so it is reported as
    /// `expired` and the write as `new`. A plain put would overwrite it silently;
    /// the extra lookup is only made when those events are published.
    func expireBeforeOverwrite(_ key: ByteBuffer, db: UInt8? = nil) throws(CommandError) {
        guard !server.config.notifyKeyspaceEvents.isDisjoint(with: [.expired, .new]) else { return }
        _ = try lookup(key, db: db ?? self.db)
    }

    /// A change to a key's value: `event` in `type`'s class, then `del` if the
    /// change emptied the key (the order of Redis's pops and removals).
    func notifyChange(_ type: ValueType, _ event: String, _ key: ByteBuffer, deleted: Bool, db: UInt8? = nil) {
        notify(type.eventClass, event, key, db: db)
        if deleted { notify(.generic, "del", key, db: db) }
    }

    /// `save` and then the keyspace events of the change (see `notifyChange`).
    func save(_ key: ByteBuffer, _ c: Collection, event: String, db: UInt8? = nil) throws(CommandError) {
        try save(key, c, db: db)
        notifyChange(c.type, event, key, deleted: c.existed && c.meta.size <= 0, db: db)
    }

    /// The end of a *STORE command (SINTERSTORE, ZUNIONSTORE, ZRANGESTORE, ...):
    /// a non-empty result replaces `key` (event `event`), an empty one deletes it
    /// (`del`, if it existed), as Redis does.
    func storeResult(_ key: ByteBuffer, _ result: Collection, event: String) throws(CommandError) {
        if result.meta.size > 0 {
            try expireBeforeOverwrite(key)
            try put(key, Record(type: result.type, expireAt: 0, meta: result.meta))
            notify(result.type.eventClass, event, key)
        } else if try delete(key) {
            notify(.generic, "del", key)
        }
    }

    /// The collection of `type` under `key`, nil when absent; WRONGTYPE otherwise.
    /// `read`: looked up as Redis's lookupKeyRead (see `lookupForRead`).
    func lookupCollection(_ key: ByteBuffer, _ type: ValueType, db: UInt8? = nil,
                          read: Bool = false) throws(CommandError) -> Collection? {
        let record: Record?
        if let db {
            record = try lookup(key, db: db)
        } else {
            record = read ? try lookupForRead(key) : try lookup(key)
        }
        guard let r = record else { return nil }
        guard r.type == type, let meta = r.collection else {
            // A blocked client being retried ignores keys of another type (Redis
            // only serves it from a key of the type it waits for).
            if isBlockedRetry { return nil }
            throw .wrongType
        }
        return Collection(meta: meta, expireAt: r.expireAt, type: type, existed: true, stored: (meta, r.expireAt))
    }

    /// The collection to modify: the existing one, or a new empty one (stored only
    /// once it has elements).
    func collectionForWrite(_ key: ByteBuffer, _ type: ValueType, db: UInt8? = nil) throws(CommandError) -> Collection {
        if let c = try lookupCollection(key, type, db: db) { return c }
        return Collection(meta: CollectionMeta(version: store.newVersion(), size: 0), expireAt: 0, type: type, existed: false)
    }

    /// Stores the metadata after its elements changed; an emptied collection is
    /// deleted, as Redis never keeps empty collections.
    func save(_ key: ByteBuffer, _ c: Collection, db: UInt8? = nil) throws(CommandError) {
        if c.meta.size <= 0 {
            if c.existed { try delete(key, db: db) }
            return
        }
        if let (meta, expireAt) = c.stored, meta == c.meta, expireAt == c.expireAt {
            // Unchanged metadata, changed elements: watchers hear of it, and a
            // waiter on a list or sorted set still gets a look.
            server.keyModified(db ?? self.db, key)
            if c.type == .list || c.type == .zset { server.keyTouched(db ?? self.db, key) }
            return
        }
        try put(key, Record(type: c.type, expireAt: c.expireAt, meta: c.meta), db: db)
    }

    func element(_ c: Collection, _ name: ByteBuffer) throws(CommandError) -> ByteBuffer? {
        do { return try store.element(version: c.meta.version, name, hashed: c.type.hashesElements) } catch { throw storeFailure(error) }
    }

    /// Sets an element; returns true when it is new (and counts it).
    @discardableResult
    func setElement(_ c: inout Collection, _ name: ByteBuffer, _ value: ByteBuffer) throws(CommandError) -> Bool {
        let added: Bool
        do {
            added = try store.setElement(version: c.meta.version, name, value: value, hashed: c.type.hashesElements)
        } catch { throw storeFailure(error) }
        if added { c.meta.size += 1 }
        return added
    }

    @discardableResult
    func removeElement(_ c: inout Collection, _ name: ByteBuffer) throws(CommandError) -> Bool {
        let removed: Bool
        do { removed = try store.removeElement(version: c.meta.version, name, hashed: c.type.hashesElements) } catch { throw storeFailure(error) }
        if removed { c.meta.size -= 1 }
        return removed
    }

    /// All elements as (name, value), in storage order.
    func allElements(_ c: Collection) throws(CommandError) -> [(ByteBuffer, ByteBuffer)] {
        var out: [(ByteBuffer, ByteBuffer)] = []
        out.reserveCapacity(c.meta.size)
        do {
            _ = try store.elements(version: c.meta.version, hashed: c.type.hashesElements) { n, v in
                out.append((n, v))
                return true
            }
        } catch { throw storeFailure(error) }
        return out
    }

    /// Copies every element of `c` into a fresh version (COPY of a collection).
    func duplicate(_ c: Collection) throws(CommandError) -> Collection {
        var copy = Collection(meta: CollectionMeta(version: store.newVersion(), size: 0), expireAt: c.expireAt,
            type: c.type, existed: false)
        copy.meta.head = c.meta.head
        copy.meta.tail = c.meta.tail
        for (n, v) in try allElements(c) {
            try setElement(&copy, n, v)
            if c.type == .zset, let bits = v.getInteger(at: v.readerIndex, as: UInt64.self) {
                do {
                    try store.scoreIndexPut(version: copy.meta.version, score: Double(bitPattern: bits), member: n)
                } catch { throw storeFailure(error) }
            }
        }
        return copy
    }

    /// HDEL and SREM: removes the named elements, deletes an emptied key, and
    /// replies with how many existed; `event` ("hdel", "srem") if any did.
    mutating func removeElements(_ type: ValueType, event: String) throws(CommandError) {
        guard var coll = try lookupCollection(arg(1), type) else { return out.writeIntegerReply(0) }
        var removed = 0
        for i in 2..<args.count where try removeElement(&coll, arg(i)) { removed += 1 }
        if removed > 0 { try save(arg(1), coll, event: event) }
        out.writeIntegerReply(removed)
    }

    /// The `[LIMIT n]` tail of SINTERCARD and ZINTERCARD, from argument `from`;
    /// 0 means no limit.
    func intercardLimit(from: Int) throws(CommandError) -> Int {
        var limit = 0
        var j = from
        while j < args.count {
            guard argIs(j, "limit") && j + 1 < args.count else { throw .syntax }
            let e = CommandError("ERR LIMIT can't be negative")
            limit = try integer(j + 1, or: e)
            guard limit >= 0 else { throw e }
            j += 2
        }
        return limit
    }

    /// `[0, []]`: a finished (or empty) scan.
    mutating func writeEmptyScan() {
        out.writeArrayHeader(2)
        out.writeBulk(string: "0")
        out.writeArrayHeader(0)
    }

    /// HSCAN, SSCAN, ZSCAN `key cursor [MATCH pattern] [COUNT n]`: the cursor is a
    /// position in the collection's hash order (Store.scanElements). A missing key
    /// is a finished scan, its options unread, as in Redis.
    mutating func scanElements(_ type: ValueType, withValues: Bool) throws(CommandError) {
        let cursor = try KeyCommands.scanCursor(bytes(2))
        guard let c = try lookupCollection(arg(1), type) else { return writeEmptyScan() }
        var count = 10
        var pattern: [UInt8]? = nil
        var j = 3
        while j < args.count {
            let more = args.count - j - 1
            if argIs(j, "count") && more >= 1 {
                count = try integer(j + 1)
                if count < 1 { throw .syntax }
                j += 2
            } else if argIs(j, "match") && more >= 1 {
                pattern = bytes(j + 1)
                if pattern == [UInt8(ascii: "*")] { pattern = nil }
                j += 2
            } else {
                throw .syntax
            }
        }
        var found: [(ByteBuffer, ByteBuffer)] = []
        let next: UInt64
        do {
            next = try store.scanElements(version: c.meta.version, cursor: cursor, count: count) { n, v in
                if let pattern, !pattern.withUnsafeBytes({ p in n.withUnsafeReadableBytes { globMatch(p, $0) } }) { return }
                found.append((n, v))
            }
        } catch { throw storeFailure(error) }
        out.writeArrayHeader(2)
        out.writeBulk(string: String(next))
        out.writeArrayHeader(found.count * (withValues ? 2 : 1))
        for (n, v) in found {
            out.writeBulk(n)
            if withValues { out.writeBulk(v) }
        }
    }
}
