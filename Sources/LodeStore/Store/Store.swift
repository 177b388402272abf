import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The storage engine: every read and write of user data goes through here, so the
/// hot cache and LMDB can never disagree.
///
/// Confined to one thread (the event loop). With `logging` (the server), each turn's
/// writes are appended to the commit log as one record by `endTurn()` before any
/// reply of that turn is sent, and LMDB's write transaction stays open across turns:
/// `commitWindow()` commits it once per window (Store+Window.swift), so a page
/// dirtied by many keys is written once. Without `logging` (the offline tools) every
/// `endTurn()` commits. Reads use the write transaction when one is open, else a
/// read transaction that is reset at the end of every turn so it never pins pages.
public final class Store {
    public struct Options {
        public var path: String
        public var mapSize: Int = 1 << 40
        public var cacheBytes: Int = 64 << 20
        public var cachePolicy: EvictionPolicy = .s3fifo
        public var databases: Int = 16
        /// Strings longer than this are stored in chunks of this many bytes.
        public var stringChunkSize = Store.defaultStringChunkSize
        /// Told of what the store does at open that an operator should know (a migration).
        public var log: (String) -> Void = { _ in }
        public init(path: String) { self.path = path }
    }

    /// Format 2 orders keys and the elements of hashes, sets and sorted sets by a
    /// 46-bit hash (docs/storage.md); format 1 directories are migrated at open.
    public static let formatVersion = "2"

    public let env: LMDBEnvironment
    public internal(set) var cache: HotCache
    /// The commit log: what makes a turn's writes durable before LMDB commits them.
    public let commitLog: CommitLog
    /// Which LMDB commit is known to be on disk (see `SyncedCommitMarker`).
    public let syncedMarker: SyncedCommitMarker
    /// When set, every write is also appended to the commit log and LMDB commits
    /// once per window (`commitWindow`) instead of once per turn.
    public var logging = false
    /// Told of every key deleted because its time came (lazily on access or by
    /// active expiry): WATCH and keyspace notifications hear of expiries here.
    public var onKeyExpired: ((UInt8, ByteBuffer) -> Void)?
    /// CLIENT PAUSE: an expired key reads as missing but is not deleted (nor counted).
    public var expiryPaused = false
    /// Told of every key that did not exist before a put (keyspace "new" events).
    public var onKeyAdded: ((UInt8, ByteBuffer) -> Void)?
    public let databases: Int
    /// Strings longer than this many bytes are stored in chunks of this size
    /// (Store+Strings.swift), so a write into a large value rewrites one chunk.
    public var stringChunkSize: Int
    /// 16 LMDB overflow pages exactly (4096-byte pages less their 16-byte header):
    /// large enough that a GET walks few records, small enough that SETBIT or APPEND
    /// on a huge value rewrites only 64 KiB (measured: README, "Performance").
    public static let defaultStringChunkSize = 16 * 4096 - 16
    /// The keyspace, the expiry index and the elements: in format 2 `keyspace`,
    /// `expiry` and `elements`; while a format 1 directory's commit log is replayed
    /// before its migration, its `keys`, `expires` and `subkeys` (see Store+Migration).
    var keysDB: LMDBDatabase
    var expiresDB: LMDBDatabase
    let infoDB: LMDBDatabase
    var subkeysDB: LMDBDatabase
    let zscoresDB: LMDBDatabase
    let garbageDB: LMDBDatabase
    let readTxn: LMDBTransaction
    /// The directory of data.mdb and the commit log.
    public let dataDirectory: String
    var writeTxn: LMDBTransaction?
    let allocator = ByteBufferAllocator()

    /// Live key counts and keys-with-expiry counts, per physical database.
    var keyCounts: [Int]
    var expireCounts: [Int]
    var countsDirty = false
    /// Logical database index (SELECT n) → physical database byte. SWAPDB swaps entries.
    public internal(set) var dbMap: [UInt8]

    /// Incremented by every put or delete; lets the caller see whether a command wrote.
    public internal(set) var writeCount = 0
    /// Sequence number of the last commit-log record that LMDB holds (`info/seq`).
    public internal(set) var committedSequence: UInt64 = 0
    /// Sequence number of the last commit-log record written (≥ committedSequence).
    public internal(set) var loggedSequence: UInt64 = 0
    /// Bytes logged since LMDB's last commit (`commit-window-bytes` bounds them).
    public internal(set) var windowLogBytes = 0
    /// Read transactions pinning the snapshots a power loss may fall back to: the
    /// last synced commit and the commit after it (see Store+Window.swift).
    var syncedPin: LMDBTransaction?
    var unsyncedPin: LMDBTransaction?
    /// Set when writes acknowledged through the log could not be put back into LMDB
    /// after a failed write: every later write tries again, and is refused with it
    /// while the replay still fails.
    public internal(set) var replayFailure: StoreError?
    /// Why the last `.failed` turn failed.
    public internal(set) var lastFailure: StoreError?
    /// Set while `rollBackToLog` replays the log (a failure then is not rolled back again).
    var replaying = false
    /// Set when a write failed in this turn: the turn's transaction was aborted and
    /// further writes are refused until `endTurn()`.
    public internal(set) var turnFailure: StoreError?
    /// Set when `mdb_env_sync` failed: pages of the last commit may never reach the disk
    /// even if a later sync succeeds (Linux marks them clean after reporting the error),
    /// so nothing is committed, marked synced or emptied from the log again; the next
    /// start opens at the last synced commit and replays the kept log (Store+Window.swift).
    public internal(set) var dataFileUntrusted: StoreError?

    /// The last collection version handed out (see `newVersion`).
    var lastVersion: UInt64 = 0
    /// Set when discarded collections may have sub-keys left to sweep.
    var garbagePending = true
    /// The sweeper's pacing and figures (Store+Sweeper.swift).
    var sweeperWritesSeen = 0
    public internal(set) var sweptEntries = 0
    public internal(set) var sweptVersions = 0
    var scratch: [UInt8] = []
    var scratch2: [UInt8] = []
    /// Whether keys and the elements of hashes, sets and sorted sets carry their
    /// 46-bit hash in front (format 2). False only while a format 1 directory's
    /// commit log is replayed, just before it is migrated.
    var hashedLayout = true
    /// Told of a format migration's progress (the server logs it).
    let log: (String) -> Void

    public init(options: Options) throws {
        precondition(options.databases >= 1 && options.databases <= 255)  // 255: the element cache's namespace
        databases = options.databases
        stringChunkSize = max(1, options.stringChunkSize)
        dataDirectory = options.path
        syncedMarker = try SyncedCommitMarker(directory: options.path)
        if let synced = syncedMarker.read(),
           case .rolledBack(let dropped, _) = try LMDBMetaPages.rollBack(options.path + "/data.mdb", toSynced: synced) {
            options.log("LMDB commit \(dropped) was not known to be on disk: opened at synced commit \(synced); "
                        + "the commit log holds the writes after it")
        }
        if access(options.path + "/data.mdb", F_OK) != 0 {
            try Self.createDataFile(in: options.path, mapSize: options.mapSize)
        } else {
            Self.removeStaging(options.path + "/" + Self.stagingDirectoryName)
        }
        env = try LMDBEnvironment(path: options.path, options: .init(mapSize: options.mapSize))
        cache = HotCache(capacity: options.cacheBytes, policy: options.cachePolicy)
        log = options.log
        let txn = try LMDBTransaction(env, readOnly: false)
        infoDB = try txn.openDatabase("info", create: true)
        let format: String? = try Self.getString(txn, infoDB, "format")
        guard format == nil || format == Self.formatVersion || format == "1" else {
            txn.abort()
            throw StoreError.formatMismatch(found: format!, expected: Self.formatVersion)
        }
        keysDB = try txn.openDatabase("keyspace", create: true)
        expiresDB = try txn.openDatabase("expiry", create: true)
        subkeysDB = try txn.openDatabase("elements", create: true)
        zscoresDB = try txn.openDatabase("zscores", create: true)
        garbageDB = try txn.openDatabase("garbage", create: true)
        if format == "1" {
            // Replay the commit log in the layout it was written for, then migrate.
            legacy = (keysDB, expiresDB, subkeysDB)
            keysDB = try txn.openDatabase("keys", create: true)
            expiresDB = try txn.openDatabase("expires", create: true)
            subkeysDB = try txn.openDatabase("subkeys", create: true)
            hashedLayout = false
        }
        if format == nil { try Self.putString(txn, infoDB, "format", Self.formatVersion) }
        (keyCounts, expireCounts, dbMap) = try Self.readCounters(txn, infoDB)
        if let raw: [UInt8] = try Self.getBytes(txn, infoDB, "seq"), raw.count == 8 {
            committedSequence = raw.withUnsafeBytes { KeyEncoding.readBigEndian($0, at: 0) }
        }
        loggedSequence = committedSequence
        try txn.commit()
        readTxn = try LMDBTransaction(env, readOnly: true)
        readTxn.reset()
        commitLog = try CommitLog(directory: options.path)
        do {
            try recover()
            if legacy != nil { try migrateToFormat2() }
        } catch {
            readTxn.abort()
            writeTxn?.abort()
            env.close()
            throw error
        }
    }

    /// Format 2's databases while a format 1 directory is being replayed.
    var legacy: (keys: LMDBDatabase, expires: LMDBDatabase, elements: LMDBDatabase)?

    /// Replays commit-log records that LMDB does not have (a crash or power loss
    /// before their window was committed or synced), then checkpoints.
    func recover() throws {
        try loadLastVersion(currentReadTxn())
        let missing = Self.contiguous(commitLog.readAll(), after: committedSequence)
        if !missing.isEmpty {
            try replay(missing)
            replayedRecords = missing.count
            let lmdbSequence = committedSequence
            committedSequence = missing.last!.sequence - 1
            guard case .committed = endTurn() else {
                guard lastFailure?.isDiskFull == true || lastFailure?.isMapFull == true else {
                    throw StoreError.recoveryFailed(lastFailure)
                }
                // No room to commit them: they stay in the open transaction (and in the
                // log, kept), and the server commits them once there is room.
                committedSequence = lmdbSequence
                try replay(missing)
                loggedSequence = missing.last!.sequence
                log("commit log replayed but not committed (\(lastFailure!)): kept in the log until LMDB has room")
                cache.removeAll()
                return
            }
        }
        try checkpointNow()
        cache.removeAll()
    }

    /// Syncs LMDB, records its last commit as synced, and empties the commit log.
    func checkpointNow() throws {
        if let untrusted = dataFileUntrusted { throw untrusted }
        try env.sync()
        try syncedMarker.write(env.lastTransactionID)
        commitLog.truncate(0)
        commitLog.truncate(1)
    }

    /// How many commit-log records start-up replayed (for the log and tests).
    public internal(set) var replayedRecords = 0

    /// Versions must keep increasing across restarts: start above every stored one.
    func loadLastVersion(_ txn: LMDBTransaction) throws {
        let cursor = try LMDBCursor(txn, subkeysDB)
        if try cursor.last() { lastVersion = cursor.withCurrent { k, _ in k.count >= 8 ? KeyEncoding.readBigEndian(k, at: 0) : 0 } }
        let g = try LMDBCursor(txn, garbageDB)
        if try g.last() { lastVersion = max(lastVersion, g.withCurrent { k, _ in KeyEncoding.readBigEndian(k, at: 0) }) }
    }

    public func physical(_ logicalDB: Int) -> UInt8 { dbMap[logicalDB] }

    /// The logical database (SELECT index) that physical database `db` is now.
    public func logical(_ db: UInt8) -> Int { dbMap.firstIndex(of: db) ?? Int(db) }

    /// The stored record under `key`, expired or not, without expiring it or
    /// touching the cache's policy (WATCH asks whether a key is there at all).
    public func peekStored(db: UInt8, key: ByteBuffer) throws -> Record? {
        if let cached = cache.peek(db: db, key: key) { return cached }
        do {
            let txn = try currentReadTxn()
            var lmdbKey: [UInt8] = []
            if key.readableBytes <= KeyEncoding.maxInlineKeyLength {
                KeyEncoding.appendShortKey(db: db, key: key, hashed: hashedLayout, to: &lmdbKey)
            } else {
                guard try locate(txn, db: db, key: key, into: &lmdbKey).found else { return nil }
            }
            return try readStored(txn, lmdbKey: lmdbKey)
        } catch {
            throw StoreError(error)
        }
    }

    /// Switches the eviction policy: the cache starts empty (it only ever holds
    /// clean copies, so nothing is lost).
    public func setCachePolicy(_ policy: EvictionPolicy) {
        guard policy != cache.policy else { return }
        cache = HotCache(capacity: cache.capacity, policy: policy)
    }

    // MARK: transactions

    func currentReadTxn() throws -> LMDBTransaction {
        if let writeTxn { return writeTxn }
        try readTxn.renew()
        return readTxn
    }

    func beginWrite() throws -> LMDBTransaction {
        if let turnFailure { throw turnFailure }
        if replayFailure != nil {
            // Try again to put the logged writes back (the failure may have passed).
            rollBackToLog()
            if let replayFailure { throw replayFailure }
        }
        if let writeTxn { return writeTxn }
        readTxn.reset()
        do {
            let t = try LMDBTransaction(env, readOnly: false)
            writeTxn = t
            return t
        } catch {
            throw fail(error)
        }
    }

    /// Aborts the transaction after a failed write. What it held since the last
    /// LMDB commit is lost from LMDB, so the cache and counters are reloaded from
    /// that commit; with `logging` the records logged since (acknowledged writes of
    /// earlier turns) are replayed into a new transaction at once, so only the
    /// failing turn's writes are dropped.
    func fail(_ error: Error) -> StoreError {
        if let e = error as? StoreError { return e }
        let e = StoreError(error)
        if replaying {
            // A write of the replay itself: rollBackToLog reports it.
            writeTxn?.abort()
            writeTxn = nil
            return e
        }
        rollBackToLog(afterFailure: e)
        turnFailure = e
        return e
    }

    func reloadCounters() {
        countsDirty = false
        guard let t = try? currentReadTxn(), let loaded = try? Self.readCounters(t, infoDB) else { return }
        (keyCounts, expireCounts, dbMap) = loaded
    }

    /// The persisted key counts, expiry counts and database map (as of `txn`).
    static func readCounters(_ txn: LMDBTransaction, _ infoDB: LMDBDatabase) throws -> ([Int], [Int], [UInt8]) {
        var counts = [Int](repeating: 0, count: 256)
        var expires = [Int](repeating: 0, count: 256)
        if let raw: [UInt8] = try getBytes(txn, infoDB, "counts"), raw.count == 256 * 16 {
            raw.withUnsafeBytes { r in
                for i in 0..<256 {
                    counts[i] = Int(KeyEncoding.readBigEndian(r, at: i * 16))
                    expires[i] = Int(KeyEncoding.readBigEndian(r, at: i * 16 + 8))
                }
            }
        }
        var map = (0...255).map { UInt8($0) }
        if let raw: [UInt8] = try getBytes(txn, infoDB, "dbmap"), raw.count == 256 { map = raw }
        return (counts, expires, map)
    }

    // MARK: metadata records

    /// Stores a named record beside the data, in the turn's transaction (the
    /// server's FUNCTION libraries): committed, logged and replayed like a write.
    public func putMeta(_ name: String, _ value: [UInt8]) throws {
        let txn = try beginWrite()
        do { try Self.putBytes(txn, infoDB, "meta:" + name, value) } catch { throw fail(error) }
        writeCount += 1
        if logging { commitLog.append(.meta(name: name, value: ByteBuffer(bytes: value))) }
    }

    public func getMeta(_ name: String) throws -> [UInt8]? {
        try Self.getBytes(currentReadTxn(), infoDB, "meta:" + name)
    }

    /// Releases the read snapshot between turns without committing.
    public func endReadSnapshot() {
        readTxn.reset()
    }

    public var hasPendingWrites: Bool { writeTxn != nil || turnFailure != nil }

    // MARK: locating keys

    /// Fills `out` with the LMDB key of `key` in physical database `db` (for a new
    /// long key: the next free chain slot) and says whether it is stored, with
    /// its expiry.
    func locate(_ txn: LMDBTransaction, db: UInt8, key: ByteBuffer, into out: inout [UInt8])
        throws -> (found: Bool, expireAt: Int64, version: UInt64) {
        out.removeAll(keepingCapacity: true)
        if key.readableBytes <= KeyEncoding.maxInlineKeyLength {
            KeyEncoding.appendShortKey(db: db, key: key, hashed: hashedLayout, to: &out)
            return try out.withUnsafeBytes { k in
                try txn.withValue(keysDB, key: k) { v in
                    guard let v, let h = KeyEncoding.readHeader(v) else { return (false, 0, 0) }
                    return (true, h.expireAt, KeyEncoding.collectionVersion(v, h))
                }
            }
        }
        // Long key: walk the chain of entries sharing prefix and hash.
        KeyEncoding.appendLongChain(db: db, key: key, hashed: hashedLayout, to: &out)
        let chainLength = out.count
        let cursor = try LMDBCursor(txn, keysDB)
        var positioned = try out.withUnsafeBytes { k in try cursor.seek(atLeast: k) }
        var next: UInt16 = 0
        while positioned {
            enum Step { case stop, match(UInt16, Int64, UInt64), other(UInt16) }
            let step: Step = cursor.withCurrent { k, v in
                guard k.count == chainLength + 2,
                    out.withUnsafeBytes({ memcmp($0.baseAddress!, k.baseAddress!, chainLength) == 0 }) else { return .stop }
                let seq = UInt16(k[chainLength]) << 8 | UInt16(k[chainLength + 1])
                guard let h = KeyEncoding.readHeader(v), let r = h.fullKeyRange else { return .other(seq) }
                let same = key.withUnsafeReadableBytes { u in
                    u.count == r.count && memcmp(u.baseAddress!, v.baseAddress! + r.lowerBound, r.count) == 0
                }
                return same ? .match(seq, h.expireAt, KeyEncoding.collectionVersion(v, h)) : .other(seq)
            }
            switch step {
            case .stop: positioned = false
            case .match(let seq, let expireAt, let version):
                out.append(UInt8(seq >> 8)); out.append(UInt8(seq & 0xFF))
                return (true, expireAt, version)
            case .other(let seq):
                next = seq &+ 1
                positioned = try cursor.next()
            }
        }
        out.append(UInt8(next >> 8)); out.append(UInt8(next & 0xFF))
        return (false, 0, 0)
    }

    func readStored(_ txn: LMDBTransaction, lmdbKey: [UInt8]) throws -> Record? {
        try lmdbKey.withUnsafeBytes { k in
            try txn.withValue(keysDB, key: k) { v in v.flatMap { KeyEncoding.decodeRecord($0, allocator: allocator) } }
        }
    }

    // MARK: reads

    /// The live record under `key`, or nil. An expired record is deleted on the way
    /// (lazy expiry) and never returned.
    /// - Parameter touch: false for the commands that must not change a key's access time
    ///   (Redis's LOOKUP_NOTOUCH: TYPE, TTL, EXISTS): the cache is only peeked at.
    public func get(db: UInt8, key: ByteBuffer, now: Int64, touch: Bool = true) throws -> Record? {
        cache.clock = UInt32(truncatingIfNeeded: now / 1000)
        var record = touch ? cache.get(db: db, key: key) : cache.peek(db: db, key: key)
        if record == nil {
            do {
                let txn = try currentReadTxn()
                if key.readableBytes <= KeyEncoding.maxInlineKeyLength {
                    // One B-tree lookup that decodes the record directly.
                    scratch.removeAll(keepingCapacity: true)
                    KeyEncoding.appendShortKey(db: db, key: key, hashed: hashedLayout, to: &scratch)
                } else {
                    guard try locate(txn, db: db, key: key, into: &scratch).found else { return nil }
                }
                record = try readStored(txn, lmdbKey: scratch)
            } catch {
                throw StoreError(error)
            }
            guard let r = record else { return nil }
            if touch && !r.isExpired(now: now) { cache.put(db: db, key: key, r) }
        }
        if let r = record, r.isExpired(now: now) {
            if expiryPaused { return nil }
            try delete(db: db, key: key)
            onKeyExpired?(db, key)
            return nil
        }
        return record
    }

    /// Whether `key` exists, without copying its value when it is not cached.
    public func exists(db: UInt8, key: ByteBuffer, now: Int64) throws -> Bool {
        try get(db: db, key: key, now: now) != nil
    }

    // MARK: writes

    /// Stores `record` under `key`, replacing whatever was there (any type).
    public func put(db: UInt8, key: ByteBuffer, record: Record) throws {
        let txn = try beginWrite()
        // A whole value longer than one chunk is stored in chunks (Store+Strings).
        let record = record.type == .string && !record.isChunked && record.value.readableBytes > stringChunkSize
            ? try chunked(record) : record
        var added = false
        do {
            let found: Bool, oldExpire: Int64, oldVersion: UInt64
            if key.readableBytes <= KeyEncoding.maxInlineKeyLength, let cached = cache.peek(db: db, key: key) {
                // The cache is exact for the keys it holds: no B-tree lookup needed.
                scratch.removeAll(keepingCapacity: true)
                KeyEncoding.appendShortKey(db: db, key: key, hashed: hashedLayout, to: &scratch)
                (found, oldExpire, oldVersion) = (true, cached.expireAt, cached.elementsVersion)
            } else {
                (found, oldExpire, oldVersion) = try locate(txn, db: db, key: key, into: &scratch)
            }
            // Replacing a collection (not updating its metadata): its elements go.
            if oldVersion != 0 && record.elementsVersion != oldVersion { try discard(txn, version: oldVersion) }
            let fullKey: ByteBuffer? = key.readableBytes > KeyEncoding.maxInlineKeyLength ? key : nil
            let size = KeyEncoding.recordSize(record, fullKey: fullKey)
            try scratch.withUnsafeBytes { k in
                try txn.putReserved(keysDB, key: k, size: size) { out in
                    KeyEncoding.writeRecord(record, fullKey: fullKey, into: out)
                }
            }
            if oldExpire != record.expireAt {
                if oldExpire != 0 { try deleteExpiryEntry(txn, expireAt: oldExpire, lmdbKey: scratch) }
                if record.expireAt != 0 { try putExpiryEntry(txn, expireAt: record.expireAt, lmdbKey: scratch) }
            }
            let d = Int(db)
            if !found { keyCounts[d] += 1 }
            added = !found
            if found && oldExpire != 0 { expireCounts[d] -= 1 }
            if record.expireAt != 0 { expireCounts[d] += 1 }
            countsDirty = true
        } catch {
            throw fail(error)
        }
        writeCount += 1
        if logging { commitLog.append(.put(db: db, key: key, record: record)) }
        cache.put(db: db, key: key, record)
        if added { onKeyAdded?(db, key) }
    }

    /// Removes `key`; returns whether it existed (expired or not).
    @discardableResult
    /// `keepElements`: the record moved elsewhere (RENAME, MOVE) and its
    /// collection version lives on there, so its elements must not be discarded.
    public func delete(db: UInt8, key: ByteBuffer, keepElements: Bool = false) throws -> Bool {
        let txn = try beginWrite()
        cache.remove(db: db, key: key)
        do {
            let (found, expireAt, version) = try locate(txn, db: db, key: key, into: &scratch)
            guard found else { return false }
            if version != 0 && !keepElements { try discard(txn, version: version) }
            try deleteLocated(txn, db: db, lmdbKey: scratch, expireAt: expireAt)
        } catch {
            throw fail(error)
        }
        writeCount += 1
        if logging { commitLog.append(.delete(db: db, key: key, keepElements: keepElements)) }
        return true
    }

    func deleteLocated(_ txn: LMDBTransaction, db: UInt8, lmdbKey: [UInt8], expireAt oldExpire: Int64) throws {
        try lmdbKey.withUnsafeBytes { k in _ = try txn.delete(keysDB, key: k) }
        if oldExpire != 0 {
            try deleteExpiryEntry(txn, expireAt: oldExpire, lmdbKey: lmdbKey)
            expireCounts[Int(db)] -= 1
        }
        keyCounts[Int(db)] -= 1
        countsDirty = true
    }

    func putExpiryEntry(_ txn: LMDBTransaction, expireAt: Int64, lmdbKey: [UInt8]) throws {
        scratch2.removeAll(keepingCapacity: true)
        KeyEncoding.appendExpiryKey(expireAt: expireAt, lmdbKey: lmdbKey, to: &scratch2)
        try scratch2.withUnsafeBytes { k in try txn.put(expiresDB, key: k, value: UnsafeRawBufferPointer(start: nil, count: 0)) }
    }

    func deleteExpiryEntry(_ txn: LMDBTransaction, expireAt: Int64, lmdbKey: [UInt8]) throws {
        scratch2.removeAll(keepingCapacity: true)
        KeyEncoding.appendExpiryKey(expireAt: expireAt, lmdbKey: lmdbKey, to: &scratch2)
        try scratch2.withUnsafeBytes { k in _ = try txn.delete(expiresDB, key: k) }
    }

    // MARK: helpers

    static func getBytes(_ t: LMDBTransaction, _ db: LMDBDatabase, _ name: String) throws -> [UInt8]? {
        var key = Array(name.utf8)
        return try key.withUnsafeMutableBytes { k in try t.withValue(db, key: UnsafeRawBufferPointer(k)) { $0.map { Array($0) } } }
    }

    static func getString(_ t: LMDBTransaction, _ db: LMDBDatabase, _ name: String) throws -> String? {
        try getBytes(t, db, name).map { String(decoding: $0, as: UTF8.self) }
    }

    static func putBytes(_ t: LMDBTransaction, _ db: LMDBDatabase, _ name: String, _ value: [UInt8]) throws {
        let key = Array(name.utf8)
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try t.put(db, key: k, value: v) } }
    }

    static func putString(_ t: LMDBTransaction, _ db: LMDBDatabase, _ name: String, _ value: String) throws {
        try putBytes(t, db, name, Array(value.utf8))
    }
}

/// Milliseconds since the epoch (CLOCK_REALTIME, as Redis's mstime()).
public func currentTimeMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

public func currentTimeMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}
