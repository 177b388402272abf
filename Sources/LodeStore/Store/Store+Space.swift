#if canImport(Glibc)
import Glibc
#endif

/// Disk space: the sweeper that reclaims deleted collections, and the file's figures.
///
/// The sweeper: deleting a collection only records its version in `garbage` (O(1)),
/// and the elements are deleted here afterwards, a cycle at a time (`hz` cycles a second).
///
/// Pacing. A fixed budget per cycle loses to sustained churn (create, fill, delete,
/// again): the backlog and the file grow without bound. Go's garbage collector
/// solves the same race with mutator assists, which this copies: while garbage is
/// waiting, every write since the last cycle owes `assistRatio` swept entries, so the
/// backlog shrinks at least as fast as writes can refill it; whatever the writes
/// leave of the cycle's time slice (a quarter of the period, as Redis's active-expire
/// cycle takes) drains the rest. Writes then slow by the cost of the sweeping they
/// cause, which is the back-pressure that keeps the file bounded.
extension Store {
    /// Swept entries owed per write made while garbage waits.
    static let sweepAssistRatio = 2
    /// Entries per `sweepGarbage` call inside a cycle: the clock is read between calls.
    static let sweepBatch = 1000

    /// One sweeper cycle: pays what the writes since the last cycle owe, then keeps
    /// sweeping until `timeSliceMicros` have passed or no garbage is left. Returns
    /// the entries deleted (they commit with the window, unlogged: a crash before
    /// that leaves the garbage record, and the next sweep redoes them).
    public func sweepCycle(timeSliceMicros: Int) throws -> Int {
        let owed = garbagePending ? (writeCount - sweeperWritesSeen) * Self.sweepAssistRatio : 0
        let start = Self.monotonicMicros()
        var swept = 0
        while garbagePending {
            swept += try sweepGarbage(limit: Self.sweepBatch)
            if swept >= owed && Self.monotonicMicros() - start >= timeSliceMicros { break }
        }
        sweeperWritesSeen = writeCount
        return swept
    }

    static func monotonicMicros() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
    }

    /// Deletes up to `limit` sub-keys of discarded collections (oldest version
    /// first), inside LMDB's open write transaction; returns how many.
    public func sweepGarbage(limit: Int) throws -> Int {
        guard garbagePending else { return 0 }
        let txn = try beginWrite()
        var removed = 0
        do {
            // Version after version, until the budget is spent or nothing is left.
            while removed < limit {
                let garbage = try LMDBCursor(txn, garbageDB)
                guard try garbage.first() else {
                    garbagePending = false
                    break
                }
                let prefix: [UInt8] = garbage.withCurrent { k, _ in Array(k) }
                garbage.close()
                for db in [subkeysDB, zscoresDB] {
                    let cursor = try LMDBCursor(txn, db)
                    var positioned = try prefix.withUnsafeBytes { try cursor.seek(atLeast: $0) }
                    while positioned && removed < limit && cursor.withCurrent({ k, _ in k.starts(with: prefix) }) {
                        try cursor.deleteCurrent()
                        removed += 1
                        sweptEntries += 1
                        positioned = try cursor.next()  // after a delete, NEXT yields the following entry
                    }
                    if removed >= limit { break }
                }
                if removed >= limit { break }
                // Every element of this version is gone: forget the version.
                try prefix.withUnsafeBytes { _ = try txn.delete(garbageDB, key: $0) }
                removed += 1
                sweptVersions += 1
            }
        } catch {
            throw fail(error)
        }
        writeCount += 1
        return removed
    }

    /// Number of collection versions waiting for the sweeper.
    public func garbageCount() throws -> Int {
        try currentReadTxn().entryCount(garbageDB)
    }

    /// The data file's figures. LMDB reuses freed pages but never shortens its file
    /// (`lode-dump compact` does), so the file size, the high-water mark and the
    /// bytes holding data are three different numbers after mass deletes.
    public struct Space {
        /// data.mdb's size on disk.
        public var fileBytes: Int
        /// Pages up to the last one ever used.
        public var highWaterBytes: Int
        /// Pages on the free list, below the high-water mark (reused before the file grows).
        public var freeBytes: Int
        public var dataBytes: Int { highWaterBytes - freeBytes }
    }

    public func space() -> Space {
        let info = env.info()
        var st = stat()
        let fileBytes = stat(dataDirectory + "/data.mdb", &st) == 0 ? Int(st.st_size) : 0
        // Its own read transaction: LMDB refuses cursors on the free list in a write
        // transaction, and one may be open. It sees the last window commit.
        let freePages = (try? LMDBTransaction(env, readOnly: true).freePageCount()) ?? 0
        let free = freePages * info.pageSize
        return Space(fileBytes: fileBytes, highWaterBytes: (info.lastPage + 1) * info.pageSize, freeBytes: free)
    }
}
