#if canImport(Glibc)
import Glibc
#endif

/// Turns, windows and the commit log.
///
/// A write is acknowledged once its turn's record is in the commit log (page cache:
/// a `kill -9` loses nothing; an fsync of the log makes it survive a power loss, per
/// `appendfsync`). LMDB's write transaction stays open across turns and is committed
/// once per window (`commitWindow`, `MDB_NOSYNC`): a B-tree page dirtied by many
/// keys is copied and written once per window instead of once per turn, which is
/// where a per-turn commit spent its time (bench README: 81k random puts/s at one put
/// per transaction, 564k at 100,000).
///
/// Power loss. A commit is synced by the checkpoint thread (`mdb_env_sync`, then
/// `SyncedCommitMarker`), and the next window commits only after that, so LMDB is at
/// most one commit ahead of its last sync. The synced snapshot is pinned with a read
/// transaction until the commit after it is synced: no later write, not even a page
/// LMDB spills from a large transaction, reuses its pages. After a power loss the
/// store opens at the synced commit (`LMDBMetaPages.rollBack` when the newer meta
/// page reached the disk) and replays the log records after it. The log file a
/// window wrote to is emptied only after that window's commit is synced.
///
/// A failed `mdb_env_sync` is never retried as if it could succeed: the kernel may
/// have dropped the pages it failed to write, and a later sync would then report
/// success without them (the fsyncgate problem). The store stops committing
/// (`distrustDataFile`), the server refuses writes, and the next start rolls back to
/// the synced commit — its pages pinned, untouched — and replays the kept log.
extension Store {
    public enum TurnResult: Equatable {
        case nothingWritten
        /// LMDB committed the turn (without `logging`: the offline tools).
        case committed(sequence: UInt64)
        /// The turn's writes are commit-log record `sequence`; LMDB holds them in its
        /// open transaction until the window commits.
        case logged(sequence: UInt64)
        case failed
    }

    /// What a window commit hands the checkpoint thread.
    public struct WindowCommit: Equatable, Sendable {
        /// The LMDB transaction id to record as synced once `mdb_env_sync` returns.
        public let transactionID: UInt64
        /// The last commit-log record it holds.
        public let sequence: UInt64
        /// The commit-log file (0 or 1) whose records it holds: empty it after the sync.
        public let logFile: Int
    }

    /// Whether this turn wrote something not yet logged (or a write failed).
    public var hasTurnWrites: Bool {
        logging ? commitLog.hasPending || turnFailure != nil : hasPendingWrites
    }

    /// Ends the event-loop turn: logs the turn's writes as one record (with
    /// `logging`), or commits them (without), and releases the read snapshot.
    public func endTurn() -> TurnResult {
        if writeTxn == nil { readTxn.reset() }
        if let failure = turnFailure {
            turnFailure = nil
            lastFailure = failure
            commitLog.discardPending()
            return .failed
        }
        guard logging else { return commitUnlogged() }
        guard commitLog.hasPending else { return .nothingWritten }
        let sequence = loggedSequence + 1
        let before = commitLog.bytesInActive
        do {
            try commitLog.writePending(sequence: sequence)
        } catch {
            // Not in the log, so not durable: the turn's writes must not stand.
            lastFailure = StoreError(error)
            rollBackToLog()
            return .failed
        }
        loggedSequence = sequence
        windowLogBytes += commitLog.bytesInActive - before
        return .logged(sequence: sequence)
    }

    /// Commits LMDB's open transaction: every logged record so far, and what the
    /// sweeper did. Between turns only (nothing unlogged), and only once the previous
    /// window's checkpoint completed (`windowSynced`). Nil when nothing is open.
    public func commitWindow() throws -> WindowCommit? {
        precondition(turnFailure != nil || !commitLog.hasPending, "a window commits between turns")
        guard replayFailure == nil, turnFailure == nil, dataFileUntrusted == nil, let t = writeTxn else { return nil }
        writeTxn = nil
        let id = t.id
        do {
            try commit(t, sequence: loggedSequence)
        } catch {
            let e = StoreError(error)
            lastFailure = e
            rollBackToLog(afterFailure: e)
            throw e
        }
        committedSequence = loggedSequence
        windowLogBytes = 0
        // Pins this commit's snapshot: it is what a power loss falls back to once synced.
        unsyncedPin = try? LMDBTransaction(env, readOnly: true)
        return WindowCommit(transactionID: id, sequence: committedSequence, logFile: commitLog.rotate())
    }

    /// Commits what is open (the log holds it, acknowledged), syncs, records the sync
    /// and empties the commit log, then closes LMDB. When the commit fails (a full
    /// disk) the log is kept: the next start replays it.
    public func close() {
        // With `dataFileUntrusted`, commitWindow and checkpointNow do nothing (a commit
        // would overwrite the meta page the next start rolls back to): the log keeps
        // every acknowledged write since the last synced commit.
        var clean = true
        if writeTxn != nil && turnFailure == nil && replayFailure == nil {
            commitLog.discardPending()  // a turn that never ended was never acknowledged
            do { _ = try commitWindow() } catch { clean = false }
        }
        if writeTxn != nil || loggedSequence > committedSequence || replayFailure != nil { clean = false }
        readTxn.abort()
        writeTxn?.abort()
        releasePins()
        if clean { try? checkpointNow() } else { try? env.sync() }
        env.close()
    }

    /// The checkpoint of the last window commit completed: it is the synced snapshot now.
    public func windowSynced() {
        syncedPin?.abort()
        syncedPin = unsyncedPin
        unsyncedPin = nil
    }

    /// The checkpoint's `mdb_env_sync` failed: stop trusting what LMDB wrote since the
    /// last synced commit (see `dataFileUntrusted`). Its pinned snapshot stays pinned.
    public func distrustDataFile(_ error: StoreError) {
        if dataFileUntrusted == nil { dataFileUntrusted = error }
    }

    /// Lets LMDB reuse the pages the pins hold (a full map; close).
    func releasePins() {
        syncedPin?.abort()
        unsyncedPin?.abort()
        (syncedPin, unsyncedPin) = (nil, nil)
    }

    /// Without `logging`: commits the turn's transaction at once.
    private func commitUnlogged() -> TurnResult {
        readTxn.reset()
        guard let t = writeTxn else { return .nothingWritten }
        writeTxn = nil
        let sequence = committedSequence + 1
        do {
            try commit(t, sequence: sequence)
        } catch {
            lastFailure = StoreError(error)
            rollBackToLog()  // without logging: the cache and counters restart from the last commit
            return .failed
        }
        committedSequence = sequence
        loggedSequence = sequence
        return .committed(sequence: sequence)
    }

    /// Commits `t` as holding the log records up to `sequence` (with the key counts);
    /// on failure `t` is aborted.
    private func commit(_ t: LMDBTransaction, sequence: UInt64) throws {
        do {
            // After a failed sync a commit would overwrite the synced meta page.
            if let untrusted = dataFileUntrusted { throw untrusted }
            try writeSequenceAndCounts(t, sequence: sequence)
            try t.commit()
        } catch {
            t.abort()
            throw error
        }
    }

    private func writeSequenceAndCounts(_ t: LMDBTransaction, sequence: UInt64) throws {
        var seq: [UInt8] = []
        KeyEncoding.appendBigEndian(sequence, to: &seq)
        try Self.putBytes(t, infoDB, "seq", seq)
        guard countsDirty else { return }
        var raw = [UInt8]()
        raw.reserveCapacity(256 * 16)
        for i in 0..<256 {
            KeyEncoding.appendBigEndian(UInt64(keyCounts[i]), to: &raw)
            KeyEncoding.appendBigEndian(UInt64(expireCounts[i]), to: &raw)
        }
        try Self.putBytes(t, infoDB, "counts", raw)
        countsDirty = false
    }

    /// Raises the committed sequence to at least `sequence`; the next `endTurn()`
    /// commits it (as `sequence + 1`). An environment built elsewhere to replace a data
    /// directory's (lode-dump restore --flush) must carry a sequence at least that of
    /// the one it replaces, so commit-log records left beside it are never replayed onto it.
    public func advanceCommittedSequence(to sequence: UInt64) throws {
        guard sequence > committedSequence else { return }
        _ = try beginWrite()
        committedSequence = sequence
        loggedSequence = sequence
    }

    /// Drops the writes of the turn in progress (a script that never ended, at
    /// SHUTDOWN NOSAVE); with `logging`, earlier turns' logged writes stay.
    public func discardTurn() {
        turnFailure = nil
        commitLog.discardPending()
        rollBackToLog()
    }

    /// `rollBackToLog` after a failed write or commit. Out of room (a full map or
    /// disk), a window's worth of pages cannot be had at once: the pins, which keep the
    /// last two windows' pages from reuse for power-loss safety, are dropped until the
    /// next window, the space a failed commit's pages took past the file's last page is
    /// given back, and the records are committed one by one, each reusing what the one
    /// before it freed.
    func rollBackToLog(afterFailure e: StoreError) {
        let outOfRoom = e.isMapFull || e.isDiskFull
        if outOfRoom {
            releasePins()
            writeTxn?.abort()
            writeTxn = nil
            env.trimUncommittedTail()
        }
        rollBackToLog(commitEach: outOfRoom)
    }

    /// Aborts LMDB's open transaction and rebuilds it from the commit log: the
    /// records after LMDB's last commit are the acknowledged writes it held. The
    /// cache and counters restart from the last commit.
    func rollBackToLog(commitEach: Bool = false) {
        replayFailure = nil
        commitLog.discardPending()
        writeTxn?.abort()
        writeTxn = nil
        cache.removeAll()
        reloadCounters()
        readTxn.reset()
        guard logging, loggedSequence > committedSequence else {
            windowLogBytes = 0
            return
        }
        let records = Self.contiguous(commitLog.readAll(), after: committedSequence)
        logging = false
        replaying = true
        defer { logging = true; replaying = false }
        do {
            guard records.last?.sequence == loggedSequence else {
                throw StoreError.recoveryFailed(StoreError.io(operation: "read back the commit log", errno: EIO))
            }
            if commitEach {
                // A full map: a window frees no page for its own reuse, so the records
                // are committed one by one, as turns were before windows (the pins are
                // gone for the same reason; the checkpoint after them syncs them all).
                let before = committedSequence
                for (i, record) in records.enumerated() {
                    try replay([record])
                    guard let t = writeTxn else { continue }
                    writeTxn = nil
                    do {
                        try commit(t, sequence: record.sequence)
                    } catch {
                        // No room for even one record: the rest wait in the open
                        // transaction, where reads see them, for the next window.
                        try replay(Array(records[i...]))
                        break
                    }
                    committedSequence = record.sequence
                }
                // Many commits past the synced one: no meta page to roll back to, so
                // they are made durable at once (on the loop: a rare, degraded path).
                if committedSequence > before { try env.sync() }
            } else {
                try replay(records)
            }
        } catch {
            writeTxn?.abort()
            writeTxn = nil
            cache.removeAll()
            reloadCounters()
            replayFailure = StoreError(error)
        }
    }

    /// The records after `sequence` with no gap: a record after a missing one was
    /// written after a record that a power loss took, and must not be applied alone.
    static func contiguous(_ entries: [CommitLog.Entry], after sequence: UInt64) -> [CommitLog.Entry] {
        var out: [CommitLog.Entry] = []
        var next = sequence + 1
        for e in entries where e.sequence >= next {
            guard e.sequence == next else { break }
            out.append(e)
            next += 1
        }
        return out
    }

    /// Applies logged ops through the ordinary write paths (counters, garbage and
    /// the expiry index follow), in the open write transaction.
    func replay(_ entries: [CommitLog.Entry]) throws {
        for entry in entries {
            for op in entry.ops {
                switch op {
                case .put(let db, let key, let record): try put(db: db, key: key, record: record)
                case .delete(let db, let key, let keep): try delete(db: db, key: key, keepElements: keep)
                case .flush(let db): try flush(db: db)
                case .flushAll: try flushAll()
                case .swap(let a, let b): try swap(a, b)
                case .meta(let name, let value): try putMeta(name, Array(value.readableBytesView))
                case .setElement(let v, let sub, let value, let hashed):
                    try setElement(version: v, sub, value: value, hashed: hashed)
                case .removeElement(let v, let sub, let hashed): try removeElement(version: v, sub, hashed: hashed)
                case .scoreIndex(let v, let score, let member, let present):
                    if present {
                        try scoreIndexPut(version: v, score: score, member: member)
                    } else {
                        try scoreIndexDelete(version: v, score: score, member: member)
                    }
                }
            }
        }
    }
}
