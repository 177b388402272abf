import Foundation
import LodeEngine
import LodeStore

/// Makes logged turns and committed windows durable off the event loop, so that
/// neither reads nor the next turn's writes ever wait for an fsync.
///
/// Commit log (the fsync thread):
/// - `always`: the loop asks for a sync of record N; replies to the writes of
///   turn N are held until `onSynced(N)` (called back on the loop). One fsync covers
///   every record written before it starts, so syncs group by themselves.
/// - `everysec`: one fsync per second if anything was logged.
/// - `no`: the OS flushes when it likes.
///
/// Checkpoints (their own queue, so that log syncs never wait behind one): after a
/// window commit, `mdb_env_sync`, then the synced-commit marker, then the emptying
/// of the log file the window's records were in (Store+Window.swift).
///
/// A failed sync is reported, never taken for success: `onSyncFailed` for the log,
/// `onCheckpointed(.failure)` for a checkpoint.
///
/// Thread safety: the fsync thread, the checkpoint queue and the event loop all
/// call in. Everything they share is either immutable and `Sendable` (the LMDB
/// sync handle, the commit log's files and the marker, safe from any thread by
/// LMDB's and POSIX's guarantees; the callbacks) or guarded by `condition` (every
/// `var`). The compiler cannot see a lock discipline, hence `@unchecked`.
final class Syncer: @unchecked Sendable {
    struct Callbacks: Sendable {
        var onSynced: @Sendable (UInt64) -> Void
        var onSyncFailed: @Sendable (UInt64, String) -> Void
        var onCheckpointed: @Sendable (Result<Store.WindowCommit, CheckpointError>) -> Void
        /// Told how long each fsync took (the metrics endpoint's histogram; thread-safe).
        var observeFsync: @Sendable (Duration) -> Void = { _ in }
    }

    struct CheckpointError: Error, CustomStringConvertible {
        let description: String
        /// Set when `mdb_env_sync` itself failed (not the marker's sync): never retry it
        /// as if a later success proved the pages are on disk (Store+Window.swift).
        var dataFileError: StoreError?
    }

    private let env: LMDBSyncHandle
    private let log: CommitLogFiles
    private let marker: SyncedCommitMarker
    private let checkpointQueue = DispatchQueue(label: "lode-checkpoint")
    private let callbacks: Callbacks
    private let condition = NSCondition()
    private var policy: Configuration.FsyncPolicy
    private var logged: UInt64 = 0
    private var requested: UInt64 = 0
    private var synced: UInt64 = 0
    private var stopping = false
    /// Signalled by the fsync thread as it ends (stop() waits for it).
    private let finished = DispatchSemaphore(value: 0)
    private var started = false

    init(env: LMDBSyncHandle, log: CommitLogFiles, marker: SyncedCommitMarker, policy: Configuration.FsyncPolicy,
         callbacks: Callbacks) {
        self.env = env
        self.log = log
        self.marker = marker
        self.policy = policy
        self.callbacks = callbacks
    }

    func start() {
        condition.lock()
        started = true
        condition.unlock()
        let t = Thread { [self] in
            self.run()
            self.finished.signal()
        }
        t.name = "lode-fsync"
        t.start()
    }

    func setPolicy(_ p: Configuration.FsyncPolicy) {
        condition.lock()
        policy = p
        condition.signal()
        condition.unlock()
    }

    /// Called by the loop after each logged turn; `needsSync` asks for an fsync now.
    func logged(_ sequence: UInt64, needsSync: Bool) {
        condition.lock()
        logged = sequence
        if needsSync {
            requested = sequence
            condition.signal()
        }
        condition.unlock()
    }

    /// After a failed log sync: try again now (writes are refused meanwhile, so no
    /// new record would ask for it).
    func retry() {
        condition.lock()
        if logged > synced {
            requested = logged
            condition.signal()
        }
        condition.unlock()
    }

    /// Syncs LMDB after window commit `commit`, records it as synced, then empties
    /// the log file that held its records.
    func checkpoint(_ commit: Store.WindowCommit) {
        checkpointQueue.async { [self] in
            do {
                try timed { try env.sync() }
            } catch {
                let failure = CheckpointError(description: "mdb_env_sync of data.mdb: \(error)", dataFileError: StoreError(error))
                callbacks.onCheckpointed(.failure(failure))
                return
            }
            do {
                try marker.write(commit.transactionID)
                log.truncateIfInactive(commit.logFile)
                callbacks.onCheckpointed(.success(commit))
            } catch {
                callbacks.onCheckpointed(.failure(CheckpointError(description: "\(error)")))
            }
        }
    }

    /// Ends the fsync thread and waits for it and for a checkpoint in flight.
    func stop() {
        condition.lock()
        stopping = true
        let wasStarted = started
        started = false
        condition.signal()
        condition.unlock()
        if wasStarted { finished.wait() }
        checkpointQueue.sync {}
    }

    private func run() {
        condition.lock()
        var lastEverysec = Date()
        while !stopping {
            if requested > synced {
                syncLog()
                continue
            }
            if policy == .everysec {
                let due = lastEverysec.addingTimeInterval(1)
                if Date() >= due {
                    lastEverysec = Date()
                    if logged > synced { syncLog() }
                    continue
                }
                _ = condition.wait(until: due)
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }

    /// Called and returns with `condition` locked.
    private func syncLog() {
        let target = logged
        condition.unlock()
        var failure: String?
        do { try timed { try log.sync() } } catch { failure = "\(error)" }
        condition.lock()
        if let failure {
            // Not synced: `synced` stays, so the next request (or second) tries again.
            if requested >= target { requested = synced }
            condition.unlock()
            callbacks.onSyncFailed(target, failure)
            Thread.sleep(forTimeInterval: 0.1)  // a failing disk is not retried in a busy loop
            condition.lock()
            return
        }
        synced = max(synced, target)
        condition.unlock()
        callbacks.onSynced(target)
        condition.lock()
    }

    private func timed(_ body: () throws -> Void) rethrows {
        let clock = ContinuousClock()
        let started = clock.now
        try body()
        callbacks.observeFsync(clock.now - started)
    }
}
