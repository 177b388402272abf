import LodeEngine
import LodeStore
import NIOCore

/// Ends each event-loop turn and paces LMDB's windows.
///
/// A turn's writes, from all clients, become one commit-log record (group commit);
/// then the replies that may go are sent: at once with `everysec` and `no` (the
/// record is in the page cache, so `kill -9` loses nothing), after the record's
/// fsync with `always`. LMDB's transaction stays open across turns and is committed
/// once per window (`commit-window-ms`, or sooner when `commit-window-bytes` of log
/// were written, or when a snapshot needs it), never while the previous window's
/// checkpoint is in flight (Store+Window.swift explains why power loss needs that).
///
/// Confined to the event loop; the fsync thread and the checkpoint queue reach it
/// through a `NIOLoopBound` (see `RunningServer`).
final class TurnCoordinator {
    private let server: ServerState
    private let loop: EventLoop
    private var scheduled = false
    private var registered: [ConnectionHandler] = []
    /// Connections with writes in the turn, not yet logged.
    private var uncommitted: [ConnectionHandler] = []
    /// Connections whose output waits for an fsync.
    private var holding: [ConnectionHandler] = []
    private(set) var syncedSequence: UInt64 = 0
    var syncer: Syncer?
    /// The window commit being synced (or whose failed sync waits for a retry).
    private var inFlightCommit: Store.WindowCommit?
    private var commitRequested = false
    private var lastWindowCommit = NIODeadline.now()
    private var lastRetry = NIODeadline.distantPast
    // The failures write commands are refused for (`server.persistenceFailure`, set
    // from them on every change, the gravest first: `updateFailure`).
    /// Why the log's last fsync failed, and the last record it should have synced. A
    /// retried fsync that succeeds does not prove those records are on disk (Linux drops
    /// the pages a failed writeback could not write), so writes stay refused until a
    /// window holding them is checkpointed too (`clearLogFailureIfCovered`).
    private var logFailure: String? { didSet { updateFailure() } }
    private var logFailureSequence: UInt64 = 0
    private var logSyncedSinceFailure = false
    /// The last record LMDB holds on disk (the last successful checkpoint's).
    private var checkpointedSequence: UInt64 = 0
    /// The synced-commit marker could not be synced: retried once a second.
    private var checkpointFailure: String? { didSet { updateFailure() } }
    /// `mdb_env_sync` failed: writes are refused until a restart (Store.dataFileUntrusted).
    private var dataFileFailure: String? { didSet { updateFailure() } }
    /// A window could not be committed for lack of disk space: writes are refused until
    /// one is, so the records only the log holds stay one window's worth. Kept
    /// acknowledging, the log would fill the disk, and LMDB would later need as much
    /// room again to take them in before anything could be written.
    private var windowFailure: String? { didSet { updateFailure() } }
    private var stopped = false
    /// A write failed on a full map: commit the window at once, even past a checkpoint
    /// in flight (the store dropped its pins for the same reason).
    private var mapFull = false

    init(server: ServerState, loop: EventLoop) {
        self.server = server
        self.loop = loop
    }

    func register(_ handler: ConnectionHandler) {
        if !handler.registeredForTurn {
            handler.registeredForTurn = true
            registered.append(handler)
        }
        scheduleEndOfTurn()
    }

    /// Runs `endTurn` after every channel read of this event-loop iteration.
    func scheduleEndOfTurn() {
        guard !scheduled else { return }
        scheduled = true
        loop.execute { self.endTurn() }
    }

    func endTurn() {
        server.beforeEndOfTurn()  // may push frames: their connections join this turn
        scheduled = false
        let handlers = registered
        registered.removeAll(keepingCapacity: true)
        for h in handlers where h.hasUncommittedWrites && !h.inUncommittedGroup {
            h.inUncommittedGroup = true
            uncommitted.append(h)
        }
        if server.holdsTransaction {
            // A suspended script: its writes and the turn's stay unlogged (and
            // their replies held) until it ends; other clients only get BUSY.
            for h in uncommitted { h.holdUntilSynced = .max }
        } else {
            logTurn()
        }
        for h in handlers {
            h.registeredForTurn = false
            h.flushIfReady(syncedSequence: syncedSequence)
        }
        commitWindowIfDue()
        server.afterEndOfTurn()
    }

    /// Logs the turn's writes and releases or holds the replies they cover.
    private func logTurn() {
        let group = uncommitted
        uncommitted.removeAll(keepingCapacity: true)
        let always = server.config.appendFsync == .always
        var held = false
        switch server.store.endTurn() {
        case .failed:
            let failure = server.store.lastFailure
            let text = failure?.replyText ?? "ERR storage error; the write was not applied"
            if let failure { server.noteStorageError(failure) }
            for h in group {
                h.rollBackTurn(error: text)
                h.holdUntilSynced = 0
            }
            // A full map: commit what was acknowledged now, so that the next writes start
            // from a committed state (LMDB can then reuse the pages a commit frees).
            if failure?.isMapFull == true || failure?.isDiskFull == true { mapFull = true }
        case .logged(let sequence), .committed(let sequence):
            server.stats.commits += 1
            if always {
                held = true
                for h in group {
                    h.holdUntilSynced = sequence
                    holding.append(h)
                }
            } else {
                for h in group where h.holdUntilSynced == .max { h.holdUntilSynced = 0 }
                syncedSequence = sequence
            }
            syncer?.logged(sequence, needsSync: always)
        case .nothingWritten:
            for h in group where h.holdUntilSynced == .max { h.holdUntilSynced = 0 }
        }
        for h in group {
            // Held replies keep their mark: a failed fsync turns them into errors.
            if !held { h.clearRollbackMark() }
            h.inUncommittedGroup = false
            h.flushIfReady(syncedSequence: syncedSequence)
        }
    }

    // MARK: windows

    /// Commits LMDB's window when it is due and allowed; hands it to the checkpoint.
    func commitWindowIfDue() {
        let store = server.store
        clearWindowFailureIfCommitted()  // the records may have been committed one by one
        guard !stopped, dataFileFailure == nil, inFlightCommit == nil || mapFull, !server.holdsTransaction,
              store.hasPendingWrites, !store.hasTurnWrites else { return }
        let config = server.config
        let age = NIODeadline.now() - lastWindowCommit
        guard commitRequested || mapFull || age >= .milliseconds(Int64(config.commitWindowMillis))
            || store.windowLogBytes >= config.commitWindowBytes else { return }
        commitRequested = false
        mapFull = false
        lastWindowCommit = .now()
        do {
            guard let commit = try store.commitWindow() else { return }
            server.stats.windowCommits += 1
            clearWindowFailureIfCommitted()
            inFlightCommit = commit
            syncer?.checkpoint(commit)
        } catch {
            let e = StoreError(error)
            server.noteStorageError(e)
            if e.isDiskFull, store.loggedSequence > store.committedSequence {
                windowFailure = "Lode cannot commit to disk (\(e)); writes are refused until it can, stored data is intact"
            }
        }
        server.afterEndOfTurn()  // snapshots that waited for the commit
    }

    /// A snapshot needs LMDB to hold every write: commit as soon as allowed.
    func requestCommit() {
        commitRequested = true
        scheduleEndOfTurn()
    }

    /// The checkpoint queue finished (on the loop).
    func checkpointed(_ result: Result<Store.WindowCommit, Syncer.CheckpointError>) {
        guard !stopped else { return }
        switch result {
        case .success(let commit):
            // An older commit's checkpoint (one made past it on a full map) changes nothing.
            guard commit == inFlightCommit else { return }
            inFlightCommit = nil
            server.store.windowSynced()
            checkpointedSequence = max(checkpointedSequence, commit.sequence)
            checkpointFailure = nil
            clearLogFailureIfCovered()
            commitWindowIfDue()
        case .failure(let error):
            if let cause = error.dataFileError {
                server.logger.error("""
                    \(error); LMDB's last commit cannot be trusted to be on disk, so writes are refused until \
                    the server restarts (it reopens at the last synced commit and replays the commit log)
                    """)
                server.store.distrustDataFile(cause)
                dataFileFailure = "Errors syncing LMDB's data file (\(error)); restart the server to recover"
                return
            }
            // LMDB may be behind the log on disk: no new window until a sync works.
            if checkpointFailure == nil { server.logger.warning("checkpoint failed: \(error)") }
            checkpointFailure = "Errors recording the synced commit (\(error))"
        }
    }

    /// Called on the loop when an fsync covering `sequence` has completed.
    func synced(_ sequence: UInt64) {
        guard !stopped else { return }
        server.stats.syncs += 1
        if logFailure != nil, sequence >= logFailureSequence {
            logSyncedSinceFailure = true
            clearLogFailureIfCovered()
            if logFailure != nil { requestCommit() }  // the window holding the failed records
        }
        syncedSequence = max(syncedSequence, sequence)
        var still: [ConnectionHandler] = []
        for h in holding {
            if h.holdUntilSynced <= syncedSequence {
                if !h.inUncommittedGroup { h.clearRollbackMark() }
                h.flushIfReady(syncedSequence: syncedSequence)
            } else {
                still.append(h)
            }
        }
        holding = still
    }

    /// The fsync of the log up to `sequence` failed: the replies it held become errors
    /// (the writes are applied but were never known durable), and writes are refused
    /// until a sync succeeds and a checkpoint holds them.
    func syncFailed(_ sequence: UInt64, _ message: String) {
        guard !stopped else { return }
        if logFailure == nil { server.logger.warning("commit log fsync failed: \(message)") }
        logFailure = "Errors writing to the commit log: \(message)"
        logFailureSequence = max(logFailureSequence, sequence)
        logSyncedSinceFailure = false
        let text = "MISCONF \(logFailure!)"
        var still: [ConnectionHandler] = []
        for h in holding {
            if h.holdUntilSynced <= sequence {
                h.rollBackTurn(error: text)
                h.clearRollbackMark()
                h.holdUntilSynced = 0
                h.flushIfReady(syncedSequence: syncedSequence)
            } else {
                still.append(h)
            }
        }
        holding = still
    }

    /// Store.rollBackToLog(afterFailure:) may have committed the records one by one.
    private func clearWindowFailureIfCommitted() {
        guard windowFailure != nil, server.store.loggedSequence == server.store.committedSequence else { return }
        server.logger.notice("LMDB commits again; writes are accepted")
        windowFailure = nil
    }

    private func clearLogFailureIfCovered() {
        guard logFailure != nil, logSyncedSinceFailure, checkpointedSequence >= logFailureSequence else { return }
        server.logger.notice("commit log fsync works again; writes are accepted")
        logFailure = nil
    }

    /// What write commands are refused with (`MISCONF …`), the gravest failure first.
    private func updateFailure() {
        server.persistenceFailure = dataFileFailure ?? logFailure ?? windowFailure ?? checkpointFailure
    }

    /// Periodically: commit a window that no turn ended, retry failed syncs (once a second).
    func tick() {
        commitWindowIfDue()
        guard dataFileFailure == nil, logFailure != nil || checkpointFailure != nil,
              NIODeadline.now() - lastRetry >= .seconds(1) else { return }
        lastRetry = .now()
        if logFailure != nil { syncer?.retry() }
        if checkpointFailure != nil, let commit = inFlightCommit { syncer?.checkpoint(commit) }
    }

    /// Shutdown: log the last turn, then release every held reply (the store's close
    /// commits the window and syncs).
    func drain(_ handlers: [ConnectionHandler]) {
        scheduled = false
        registered.removeAll()
        logTurn()
        stopped = true
        syncedSequence = .max
        for h in handlers + holding { h.closeForShutdown() }
        holding.removeAll()
    }
}
