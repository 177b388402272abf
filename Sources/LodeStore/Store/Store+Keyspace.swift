import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Whole databases (counts, FLUSHDB, FLUSHALL, SWAPDB), iteration (SCAN,
/// RANDOMKEY) and active expiry: the operations that walk the keyspace.
extension Store {
    // MARK: whole databases

    /// Live keys in a physical database. Due keys are expired first, so the count
    /// never includes a key that can no longer be read.
    public func keyCount(db: UInt8, now: Int64) throws -> Int {
        _ = try expireDue(now: now, limit: Int.max)
        return keyCounts[Int(db)]
    }

    /// Count without expiring first (INFO keyspace), and keys with an expiry.
    public func counts(db: UInt8) -> (keys: Int, expires: Int) {
        (keyCounts[Int(db)], expireCounts[Int(db)])
    }

    public func flush(db: UInt8) throws {
        let txn = try beginWrite()
        cache.removeAll(db: db)
        do {
            let cursor = try LMDBCursor(txn, keysDB)
            var positioned = try [db].withUnsafeBytes { try cursor.seek(atLeast: $0) }
            var expiring: [(Int64, [UInt8])] = []
            var versions: [UInt64] = []
            while positioned {
                let (inDB, expire, k, version): (Bool, Int64, [UInt8], UInt64) = cursor.withCurrent { k, v in
                    guard k[0] == db, let h = KeyEncoding.readHeader(v) else { return (false, 0, [], 0) }
                    return (true, h.expireAt, h.expireAt != 0 ? Array(k) : [], KeyEncoding.collectionVersion(v, h))
                }
                guard inDB else { break }
                if expire != 0 { expiring.append((expire, k)) }
                if version != 0 { versions.append(version) }
                try cursor.deleteCurrent()
                positioned = try cursor.next()
            }
            cursor.close()
            for (e, k) in expiring { try deleteExpiryEntry(txn, expireAt: e, lmdbKey: k) }
            for v in versions { try discard(txn, version: v) }
        } catch {
            throw fail(error)
        }
        keyCounts[Int(db)] = 0
        expireCounts[Int(db)] = 0
        countsDirty = true
        writeCount += 1
        if logging { commitLog.append(.flush(db: db)) }
    }

    public func flushAll() throws {
        let txn = try beginWrite()
        cache.removeAll()
        do {
            try txn.empty(keysDB)
            try txn.empty(expiresDB)
            try txn.empty(subkeysDB)
            try txn.empty(zscoresDB)
            try txn.empty(garbageDB)
        } catch {
            throw fail(error)
        }
        for i in 0..<256 { keyCounts[i] = 0; expireCounts[i] = 0 }
        countsDirty = true
        writeCount += 1
        if logging { commitLog.append(.flushAll) }
    }

    /// SWAPDB: O(1), by swapping the logical → physical mapping.
    public func swap(_ a: Int, _ b: Int) throws {
        let txn = try beginWrite()
        dbMap.swapAt(a, b)
        do {
            try Self.putBytes(txn, infoDB, "dbmap", dbMap)
        } catch {
            throw fail(error)
        }
        writeCount += 1
        if logging { commitLog.append(.swap(a, b)) }
    }

    // MARK: iteration

    /// One step of SCAN: live keys of `db` from position `cursor` on, in hash order
    /// (format 2: records sort by their 46-bit key hash, docs/storage.md). Visits at
    /// least `count` records when that many remain — more when several keys share
    /// the hash at the boundary, because a cursor cannot point between them — and
    /// returns the hash to resume at, 0 when the database is done. A key present for
    /// the whole scan is returned whatever is written meanwhile: the cursor is a
    /// position in a fixed order, not an offset, and no table has to remember it.
    public func scan(db: UInt8, cursor: UInt64, count: Int, now: Int64,
                     visit: (ByteBuffer, ValueType) -> Void) throws -> UInt64 {
        try scanHashOrder(keysDB, prefix: [db], cursor: cursor, count: count) { k, v in
            if let (user, type) = liveRecord(k, v, now: now) { visit(user, type) }
        }
    }

    /// The walk behind SCAN and HSCAN/SSCAN/ZSCAN: the records of `db` under `prefix`
    /// (a database byte, or a collection's version), whose next 6 bytes are their
    /// hash, from hash `cursor` on. At least `count` records when that many remain,
    /// then the rest of the boundary hash's group, since a cursor cannot point inside
    /// one; returns the hash to resume at, 0 when the prefix is done.
    func scanHashOrder(_ db: LMDBDatabase, prefix: [UInt8], cursor: UInt64, count: Int,
                       _ visit: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) throws -> UInt64 {
        precondition(cursor < KeyHash.limit)
        do {
            let lmdb = try LMDBCursor(try currentReadTxn(), db)
            var start = prefix
            KeyHash.append(cursor, to: &start)
            var positioned = try start.withUnsafeBytes { try lmdb.seek(atLeast: $0) }
            var seen = 0
            var lastHash: UInt64? = nil
            while positioned {
                let next: UInt64? = lmdb.withCurrent { k, v in
                    guard k.count > prefix.count + KeyHash.byteCount, k.starts(with: prefix) else { return 0 }
                    let hash = KeyHash.read(k, at: prefix.count)
                    if seen >= count && hash != lastHash { return hash }
                    visit(k, v)
                    lastHash = hash
                    return nil
                }
                if let next { return next }
                seen += 1
                positioned = try lmdb.next()
            }
            return 0
        } catch {
            throw StoreError(error)
        }
    }

    /// The user key and type of a keyspace record that has not expired by `now`, else nil.
    func liveRecord(_ k: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer, now: Int64) -> (ByteBuffer, ValueType)? {
        guard let h = KeyEncoding.readHeader(v), let type = h.type, !(h.expireAt != 0 && h.expireAt <= now),
              let user = KeyEncoding.userKey(lmdbKey: k, record: v, hashed: hashedLayout) else { return nil }
        return (user, type)
    }

    /// Every live key of `db` (KEYS), in hash order.
    public func allKeys(db: UInt8, now: Int64, visit: (ByteBuffer) -> Void) throws {
        var cursor: UInt64 = 0
        repeat {
            cursor = try scan(db: db, cursor: cursor, count: 1000, now: now) { key, _ in visit(key) }
        } while cursor != 0
    }

    /// A random live key of `db`, or nil when it has none.
    /// RANDOMKEY. A small database (up to `uniformWalkLimit` keys) is walked to a
    /// uniformly chosen key; a larger one is probed at random positions of the
    /// hash order (LMDB keeps no ranks), which slightly favours keys after wide gaps
    /// and keys in small groups (docs/storage.md, "Hash order").
    public func randomKey(db: UInt8, now: Int64) throws -> ByteBuffer? {
        do {
            let n = keyCounts[Int(db)]
            if n > 0 && n <= Self.uniformWalkLimit {
                let cursor = try LMDBCursor(try currentReadTxn(), keysDB)
                var positioned = try [db].withUnsafeBytes { try cursor.seek(atLeast: $0) }
                var live: [ByteBuffer] = []
                while positioned && cursor.withCurrent({ k, _ in k[0] == db }) {
                    if let (key, _) = cursor.withCurrent({ k, v in liveRecord(k, v, now: now) }) { live.append(key) }
                    positioned = try cursor.next()
                }
                return live.randomElement()
            }
            for _ in 0..<100 {
                let txn = try currentReadTxn()
                let cursor = try LMDBCursor(txn, keysDB)
                // Keys sit at their hash: a uniform position is close to a uniform key.
                var probe: [UInt8] = [db]
                KeyHash.append(UInt64.random(in: 0..<KeyHash.limit), to: &probe)
                var positioned = try probe.withUnsafeBytes { try cursor.seek(atLeast: $0) }
                if !positioned || cursor.withCurrent({ k, _ in k[0] != db }) {
                    positioned = try [db].withUnsafeBytes { try cursor.seek(atLeast: $0) }
                    if !positioned || cursor.withCurrent({ k, _ in k[0] != db }) { return nil }
                }
                // The probe found a group (keys sharing a hash): pick one of its live keys,
                // as Redis picks a random bucket, then a random key of its chain.
                let group = cursor.withCurrent { k, _ in KeyHash.read(k, at: 1) }
                var live: [ByteBuffer] = []
                while positioned && cursor.withCurrent({ k, _ in k[0] == db && KeyHash.read(k, at: 1) == group }) {
                    if let (key, _) = cursor.withCurrent({ k, v in liveRecord(k, v, now: now) }) { live.append(key) }
                    positioned = try cursor.next()
                }
                if let found = live.randomElement() { return found }
            }
            return nil
        } catch {
            throw StoreError(error)
        }
    }

    static let uniformWalkLimit = 1024

    // MARK: active expiry

    /// Deletes up to `limit` keys whose expiry time has passed, oldest first, reading
    /// only the due part of the expiry index. Returns how many keys were deleted.
    public func expireDue(now: Int64, limit: Int) throws -> Int {
        var due: [(Int64, [UInt8])] = []
        do {
            let txn = try currentReadTxn()
            let cursor = try LMDBCursor(txn, expiresDB)
            var positioned = try cursor.first()
            while positioned && due.count < limit {
                let entry: (Int64, [UInt8])? = cursor.withCurrent { k, _ in
                    let e = Int64(bitPattern: KeyEncoding.readBigEndian(k, at: 0))
                    return e <= now ? (e, Array(k[8...])) : nil
                }
                guard let entry else { break }
                due.append(entry)
                positioned = try cursor.next()
            }
        } catch {
            throw StoreError(error)
        }
        if due.isEmpty { return 0 }
        let txn = try beginWrite()
        var deleted = 0
        do {
            for (expireAt, lmdbKey) in due {
                let found: (ByteBuffer, UInt64)? = try lmdbKey.withUnsafeBytes { k in
                    try txn.withValue(keysDB, key: k) { v -> (ByteBuffer, UInt64)? in
                        guard let v, let h = KeyEncoding.readHeader(v), h.expireAt == expireAt,
                              let user = KeyEncoding.userKey(lmdbKey: k, record: v, hashed: hashedLayout) else { return nil }
                        return (user, KeyEncoding.collectionVersion(v, h))
                    }
                }
                if let (user, version) = found {
                    cache.remove(db: lmdbKey[0], key: user)
                    if version != 0 { try discard(txn, version: version) }
                    try deleteLocated(txn, db: lmdbKey[0], lmdbKey: lmdbKey, expireAt: expireAt)
                    deleted += 1
                    onKeyExpired?(lmdbKey[0], user)
                } else {
                    // A stale index entry (cannot happen unless a write was torn): drop it.
                    try deleteExpiryEntry(txn, expireAt: expireAt, lmdbKey: lmdbKey)
                }
            }
        } catch {
            throw fail(error)
        }
        writeCount += 1
        return deleted
    }
}
