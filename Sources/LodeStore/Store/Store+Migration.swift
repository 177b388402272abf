import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Format 1 → 2 at open (docs/storage.md, "Format history"). Format 2 puts a 46-bit
/// hash in front of every key and of the elements of hashes, sets and sorted sets,
/// so that SCAN cursors are positions in a fixed order. The old databases (`keys`,
/// `expires`, `subkeys`) are emptied into the new ones (`keyspace`, `expiry`,
/// `elements`) a batch per write transaction: each batch moves records out of the
/// old databases and into the new ones atomically, so a crash or a kill at any
/// point leaves every record in exactly one of them and the next start-up simply
/// carries on. The format number changes in the transaction that drops the old
/// databases. Counters, the database map, the score index and the garbage list
/// need no change (versions and user keys are the same).
extension Store {
    /// Records moved per write transaction: large enough that commits are few, small
    /// enough that one transaction's dirty pages stay well inside memory.
    nonisolated(unsafe) static var migrationBatch = 20_000
    /// Tests end a migration after this many committed batches, as a crash would.
    nonisolated(unsafe) static var migrationCrashAfterBatches: Int? = nil

    typealias LayoutDatabases = (keys: LMDBDatabase, expires: LMDBDatabase, elements: LMDBDatabase)

    func migrateToFormat2() throws {
        guard let target = legacy else { return }
        let old: LayoutDatabases = (keysDB, expiresDB, subkeysDB)
        // From here on the store works in format 2; the old databases are read by name.
        (keysDB, expiresDB, subkeysDB) = target
        hashedLayout = true
        legacy = nil
        let started = currentTimeMillis()
        let total = keyCounts.reduce(0, +)
        log("Migrating the data directory from on-disk format 1 to 2 (keys and elements in hash order, "
            + "so SCAN cursors survive restarts): \(total) keys")
        var moved = (keys: 0, elements: 0)
        var lastReport = started
        var batches = 0
        while true {
            if let crash = Self.migrationCrashAfterBatches, batches == crash {
                throw StoreError.io(operation: "migration stopped by a test", errno: EINTR)
            }
            batches += 1
            let txn = try LMDBTransaction(env, readOnly: false)
            do {
                let done = try migrateBatch(txn, old: old, moved: &moved)
                if done {
                    try txn.drop(old.keys)
                    try txn.drop(old.expires)
                    try txn.drop(old.elements)
                    try Self.putString(txn, infoDB, "format", Self.formatVersion)
                }
                try txn.commit()
                if done { break }
            } catch {
                txn.abort()
                throw StoreError(error)
            }
            let now = currentTimeMillis()
            if now - lastReport >= 5000 {
                log("Migration: \(moved.keys) of \(total) keys and \(moved.elements) elements moved")
                lastReport = now
            }
        }
        try env.sync()
        let previous = lastVersion
        try loadLastVersion(currentReadTxn())
        lastVersion = max(lastVersion, previous)
        readTxn.reset()
        log("Migrated to on-disk format 2: \(moved.keys) keys and \(moved.elements) elements in "
            + "\(currentTimeMillis() - started) ms")
    }

    /// Moves keys, each after its elements, until the budget is spent; true when
    /// the old keyspace is empty. A collection larger than the budget is moved over
    /// several batches: its record stays in the old keyspace until its last element
    /// has moved, so a resumed migration finds it again and goes on.
    private func migrateBatch(_ txn: LMDBTransaction, old: LayoutDatabases, moved: inout (keys: Int, elements: Int)) throws -> Bool {
        var budget = Self.migrationBatch
        let cursor = try LMDBCursor(txn, old.keys)
        defer { cursor.close() }
        while budget > 0 {
            guard try cursor.first() else { return true }
            let (oldKey, raw) = cursor.withCurrent { k, v in (Array(k), Array(v)) }
            guard let header = raw.withUnsafeBytes({ KeyEncoding.readHeader($0) }), let type = header.type,
                  let user = oldKey.withUnsafeBytes({ k in
                      raw.withUnsafeBytes { KeyEncoding.userKey(lmdbKey: k, record: $0, hashed: false) }
                  })
            else {
                throw StoreError.io(operation: "migrating to on-disk format 2: unreadable record in database \(oldKey.first ?? 0)",
                                    errno: EIO)
            }
            let version = raw.withUnsafeBytes { KeyEncoding.collectionVersion($0, header) }
            if version != 0 {
                let (count, finished) = try migrateElements(txn, old: old.elements, version: version,
                                                            hashed: type != .list, budget: budget)
                moved.elements += count
                budget -= count
                if !finished { return false }
            }
            let db = oldKey[0]
            var newKey: [UInt8] = []
            if user.readableBytes <= KeyEncoding.maxInlineKeyLength {
                KeyEncoding.appendShortKey(db: db, key: user, hashed: true, to: &newKey)
            } else {
                _ = try locate(txn, db: db, key: user, into: &newKey)
            }
            try newKey.withUnsafeBytes { k in try raw.withUnsafeBytes { v in try txn.put(keysDB, key: k, value: v) } }
            if header.expireAt != 0 { try putExpiryEntry(txn, expireAt: header.expireAt, lmdbKey: newKey) }
            try cursor.deleteCurrent()
            moved.keys += 1
            budget -= 1
        }
        return false
    }

    /// Moves up to `budget` elements of collection `version` from the old element
    /// database; whether none is left there.
    private func migrateElements(_ txn: LMDBTransaction, old: LMDBDatabase, version: UInt64, hashed: Bool,
                                 budget: Int) throws -> (moved: Int, finished: Bool) {
        var prefix: [UInt8] = []
        KeyEncoding.appendBigEndian(version, to: &prefix)
        let cursor = try LMDBCursor(txn, old)
        defer { cursor.close() }
        var moved = 0
        var newKey: [UInt8] = []
        while moved < budget {
            guard try prefix.withUnsafeBytes({ try cursor.seek(atLeast: $0) }),
                  cursor.withCurrent({ k, _ in k.starts(with: prefix) }) else { return (moved, true) }
            let (oldKey, value) = cursor.withCurrent { k, v in (Array(k), Array(v)) }
            if hashed, oldKey.count > 8 {
                // Format 1's sub-key has no hash: the tag follows the version.
                let name = oldKey.withUnsafeBytes { k in
                    value.withUnsafeBytes { v in
                        ByteBuffer(bytes: KeyEncoding.elementParts(k, v, tagOffset: KeyEncoding.elementTagOffset(hashed: false)).name)
                    }
                }
                _ = try locateElement(txn, version: version, name, hashed: true, into: &newKey)
            } else {
                newKey = oldKey  // list elements keep their index order and bytes
            }
            try newKey.withUnsafeBytes { k in try value.withUnsafeBytes { v in try txn.put(subkeysDB, key: k, value: v) } }
            try cursor.deleteCurrent()
            moved += 1
        }
        let more = try prefix.withUnsafeBytes { try cursor.seek(atLeast: $0) } && cursor.withCurrent { k, _ in k.starts(with: prefix) }
        return (moved, !more)
    }
}
