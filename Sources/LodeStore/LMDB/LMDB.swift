import CLmdb
#if canImport(Glibc)
import Glibc
#endif

/// An LMDB failure, with LMDB's own message.
public struct LMDBError: Error, CustomStringConvertible, Equatable, Sendable {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }
    public var description: String { String(cString: mdb_strerror(code)) }
    public var isMapFull: Bool { code == MDB_MAP_FULL }
    public var isDiskFull: Bool { code == 28 /* ENOSPC */ || code == 122 /* EDQUOT */ }
}

@inline(__always)
func check(_ rc: Int32) throws(LMDBError) {
    if rc != 0 { throw LMDBError(rc) }
}

/// `mdb_env_sync` for other threads. LMDB documents an environment handle as
/// shareable between threads and `mdb_env_sync` as callable from any of them
/// (it takes no transaction and LMDB serializes it against commits), so this
/// handle is `Sendable`. Its one rule: not used after the environment is closed —
/// the server stops the fsync thread and the checkpoint queue before it closes
/// the store.
public struct LMDBSyncHandle: @unchecked Sendable {
    fileprivate let handle: OpaquePointer

    public func sync() throws(LMDBError) {
        try check(mdb_env_sync(handle, 1))
    }
}

/// Owns one LMDB environment. Every C handle lives inside this file's types; callers
/// see bytes only through scoped closures, so no pointer outlives its transaction.
public final class LMDBEnvironment {
    fileprivate let handle: OpaquePointer

    public struct Options {
        public var mapSize: Int
        public var maxDatabases: UInt32 = 16
        public var maxReaders: UInt32 = 126
        /// Commits do not fsync; durability comes from explicit `sync()` calls.
        /// Safe across a process crash (the OS holds the pages); see docs/storage.md.
        public var noSync = true
        public init(mapSize: Int) { self.mapSize = mapSize }
    }

    public init(path: String, options: Options) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        handle = env!
        do {
            try check(mdb_env_set_mapsize(handle, options.mapSize))
            try check(mdb_env_set_maxdbs(handle, options.maxDatabases))
            try check(mdb_env_set_maxreaders(handle, options.maxReaders))
            // NOTLS: read transactions are not tied to thread-local slots, so the
            // event loop can keep one and renew it per turn.
            // NORDAHEAD: random reads on a dataset larger than RAM should not pull
            // in neighbouring pages.
            var flags = UInt32(MDB_NOTLS | MDB_NORDAHEAD)
            if options.noSync { flags |= UInt32(MDB_NOSYNC) }
            try check(mdb_env_open(handle, path, flags, 0o644))
        } catch {
            mdb_env_close(handle)
            throw error
        }
    }

    /// Flushes committed transactions to disk (fdatasync). Thread-safe in LMDB.
    public func sync() throws(LMDBError) {
        try check(mdb_env_sync(handle, 1))
    }

    /// What the fsync thread and the checkpoint queue may do with this environment.
    public var syncHandle: LMDBSyncHandle { LMDBSyncHandle(handle: handle) }

    public var maxKeySize: Int { Int(mdb_env_get_maxkeysize(handle)) }

    private var closed = false

    /// Closes the environment; later calls do nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        mdb_env_close(handle)
    }

    /// Writes a consistent copy of the environment as `dir`/data.mdb (`dir` must exist
    /// and hold no data.mdb), in one read transaction, so writers go on meanwhile.
    /// `compact` leaves out free pages and renumbers the rest: the copy is only as large
    /// as the live data (lode-dump compact and restore). The copy is not fsynced.
    public func copy(to dir: String, compact: Bool) throws(LMDBError) {
        try check(mdb_env_copy2(handle, dir, compact ? UInt32(MDB_CP_COMPACT) : 0))
    }

    public func setMapSize(_ size: Int) throws(LMDBError) {
        try check(mdb_env_set_mapsize(handle, size))
    }

    public struct Info {
        public var mapSize: Int
        public var lastPage: Int
        public var pageSize: Int
    }

    /// Drops this process's page-table mappings of the data file (MADV_DONTNEED).
    /// The pages stay in the OS page cache and refault on access with the same
    /// contents (the map is read-only: writes go through pwrite), so this only
    /// moves file pages out of the process's resident set.
    public func releaseMappedPages() {
        guard let region = mapRegion() else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: region.lowerBound), region.count, MADV_DONTNEED)
    }

    /// Where the data file is mapped. LMDB reports `me_mapaddr` only for
    /// MDB_FIXEDMAP environments, so the mapping is looked up in /proc/self/maps
    /// (once: the map never moves while the environment is open).
    private var cachedRegion: Range<UInt>?

    private func mapRegion() -> Range<UInt>? {
        if let cachedRegion { return cachedRegion }
        var cpath: UnsafePointer<CChar>? = nil
        guard mdb_env_get_path(handle, &cpath) == 0, let cpath else { return nil }
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(cpath, &resolved) != nil else { return nil }
        let dataFile = String(cString: resolved) + "/data.mdb"
        guard let f = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(cString: line).trimmingSuffixNewline()
            guard text.hasSuffix(" " + dataFile) else { continue }
            let range = text.prefix { $0 != " " }.split(separator: "-")
            guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16) else { continue }
            cachedRegion = lo..<hi
            return cachedRegion
        }
        return nil
    }

    /// The id of the last committed write transaction (its meta page's generation).
    public var lastTransactionID: UInt64 {
        var i = MDB_envinfo()
        mdb_env_info(handle, &i)
        return UInt64(i.me_last_txnid)
    }

    /// After a commit failed on a full disk: gives back the space its partly written
    /// pages took past the last committed page, which no snapshot refers to (LMDB
    /// writes pages with pwrite at their number; without MDB_WRITEMAP it keeps no file
    /// size), so that the commit log has room again. With no write transaction open.
    public func trimUncommittedTail() {
        let i = info()
        var fd: mdb_filehandle_t = -1
        guard mdb_env_get_fd(handle, &fd) == 0 else { return }
        let keep = off_t((i.lastPage + 1) * i.pageSize)
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > keep else { return }
        _ = ftruncate(fd, keep)
    }

    public func info() -> Info {
        var i = MDB_envinfo()
        var s = MDB_stat()
        mdb_env_info(handle, &i)
        mdb_env_stat(handle, &s)
        return Info(mapSize: i.me_mapsize, lastPage: i.me_last_pgno, pageSize: Int(s.ms_psize))
    }
}

/// A named database (LMDB "DBI") inside the environment.
public struct LMDBDatabase: Sendable, Equatable {
    fileprivate let dbi: MDB_dbi
}

/// One LMDB transaction. Aborted on deinit if neither committed nor aborted, so an
/// error path can never leave the writer lock held.
public final class LMDBTransaction {
    fileprivate var handle: OpaquePointer?
    public let readOnly: Bool
    private var isReset = false

    public init(_ env: LMDBEnvironment, readOnly: Bool) throws(LMDBError) {
        self.readOnly = readOnly
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env.handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn))
        handle = txn
    }

    deinit {
        if let handle { mdb_txn_abort(handle) }
    }

    public var isActive: Bool { handle != nil && !isReset }

    /// LMDB's transaction id: a write transaction's commit is meta-page generation
    /// `id`; a read transaction sees the snapshot of commit `id`.
    public var id: UInt64 {
        guard let handle else { return 0 }
        return UInt64(mdb_txn_id(handle))
    }

    public func openDatabase(_ name: String, create: Bool) throws(LMDBError) -> LMDBDatabase {
        var dbi = MDB_dbi()
        try check(mdb_dbi_open(handle, name, create ? UInt32(MDB_CREATE) : 0, &dbi))
        return LMDBDatabase(dbi: dbi)
    }

    public func commit() throws(LMDBError) {
        guard let h = handle else { return }
        handle = nil
        try check(mdb_txn_commit(h))
    }

    public func abort() {
        if let h = handle { mdb_txn_abort(h) }
        handle = nil
    }

    /// Releases a read-only transaction's snapshot but keeps its reader slot, so
    /// `renew()` is cheap. A reset transaction pins no pages.
    public func reset() {
        precondition(readOnly)
        if let h = handle, !isReset { mdb_txn_reset(h); isReset = true }
    }

    public func renew() throws(LMDBError) {
        precondition(readOnly)
        if let h = handle, isReset { try check(mdb_txn_renew(h)); isReset = false }
    }

    /// Calls `body` with the value stored under `key`, or nil. The bytes are valid
    /// only inside `body`.
    @inline(__always)
    public func withValue<R>(_ db: LMDBDatabase, key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(handle, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return try body(nil) }
        try check(rc)
        return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    public func put(_ db: LMDBDatabase, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(handle, db.dbi, &k, &v, 0))
    }

    /// Stores a value of `size` bytes written in place by `fill` (MDB_RESERVE): a
    /// record is assembled directly in the database page, without a temporary copy.
    public func putReserved(_ db: LMDBDatabase, key: UnsafeRawBufferPointer, size: Int,
                            _ fill: (UnsafeMutableRawBufferPointer) -> Void) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: size, mv_data: nil)
        try check(mdb_put(handle, db.dbi, &k, &v, UInt32(MDB_RESERVE)))
        fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
    }

    /// Returns whether the key existed.
    @discardableResult
    public func delete(_ db: LMDBDatabase, key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(handle, db.dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc)
        return true
    }

    /// Empties a database (its pages go back to the free list).
    public func empty(_ db: LMDBDatabase) throws(LMDBError) {
        try check(mdb_drop(handle, db.dbi, 0))
    }

    /// Deletes a named database from the environment (a format migration's old ones);
    /// its handle must not be used afterwards.
    public func drop(_ db: LMDBDatabase) throws(LMDBError) {
        try check(mdb_drop(handle, db.dbi, 1))
    }

    public func entryCount(_ db: LMDBDatabase) throws(LMDBError) -> Int {
        var s = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &s))
        return s.ms_entries
    }

    /// Pages on LMDB's free list as this transaction sees it (what `mdb_stat -f`
    /// adds up): free-DB records are `txnid → [count, pgno...]`. Pages still held
    /// by older readers are counted too: they are free once those readers end.
    public func freePageCount() throws(LMDBError) -> Int {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, 0, &cursor))  // dbi 0: the free-page database
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val(), data = MDB_val(), pages = 0
        while mdb_cursor_get(cursor, &key, &data, MDB_NEXT) == 0 {
            pages += data.mv_data?.loadUnaligned(as: Int.self) ?? 0  // an IDL starts with its length (a size_t)
        }
        return pages
    }
}

/// A cursor inside one transaction. Positions are reported through scoped closures.
public final class LMDBCursor {
    private var handle: OpaquePointer?
    private var key = MDB_val()
    private var value = MDB_val()
    public private(set) var isPositioned = false

    public init(_ txn: LMDBTransaction, _ db: LMDBDatabase) throws(LMDBError) {
        var c: OpaquePointer?
        try check(mdb_cursor_open(txn.handle, db.dbi, &c))
        handle = c
    }

    deinit { close() }

    public func close() {
        if let h = handle { mdb_cursor_close(h) }
        handle = nil
    }

    private func move(_ op: MDB_cursor_op) throws(LMDBError) -> Bool {
        let rc = mdb_cursor_get(handle, &key, &value, op)
        if rc == MDB_NOTFOUND { isPositioned = false; return false }
        try check(rc)
        isPositioned = true
        return true
    }

    /// Positions at the first key ≥ `target`.
    public func seek(atLeast target: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        key = MDB_val(mv_size: target.count, mv_data: UnsafeMutableRawPointer(mutating: target.baseAddress))
        return try move(MDB_SET_RANGE)
    }

    public func first() throws(LMDBError) -> Bool { try move(MDB_FIRST) }
    public func last() throws(LMDBError) -> Bool { try move(MDB_LAST) }
    public func next() throws(LMDBError) -> Bool { try move(MDB_NEXT) }
    public func previous() throws(LMDBError) -> Bool { try move(MDB_PREV) }

    /// The current key and value; valid only inside `body`.
    public func withCurrent<R>(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(isPositioned)
        return try body(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
                        UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    }

    /// Deletes the entry at the cursor; a following `next()` yields the entry
    /// after the deleted one (LMDB marks the cursor rather than advancing it).
    public func deleteCurrent() throws(LMDBError) {
        try check(mdb_cursor_del(handle, 0))
    }
}

extension String {
    func trimmingSuffixNewline() -> String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
