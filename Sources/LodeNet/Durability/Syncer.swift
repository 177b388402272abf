import Foundation
import LodeEngine
import LodeStore

/// Makes committed transactions durable off the event loop, so that neither reads
/// nor the next turn's writes ever wait for an fsync.
///
/// - `always`: the loop asks for a sync of sequence N; replies to the writes of
///   turn N are held until `onSynced(N)` (called back on the loop). What is synced
///   is the commit log (a sequential append), not LMDB's scattered pages; LMDB is
///   synced at checkpoints. One fsync covers every commit made before it starts,
///   so syncs group by themselves.
/// - `everysec`: one fsync per second if anything was committed.
/// - `no`: the OS flushes when it likes.
///
/// Thread safety: the fsync thread, the checkpoint queue and the event loop all
/// call in. Everything they share is either immutable and `Sendable` (the LMDB
/// sync handle and the commit log's files, safe from any thread by LMDB's and
/// POSIX's guarantees; the callbacks) or guarded by `condition` (every `var`).
/// The compiler cannot see a lock discipline, hence `@unchecked`.
final class Syncer: @unchecked Sendable {
    private let env: LMDBSyncHandle
    private let log: CommitLogFiles
    /// Checkpoints sync all of LMDB's dirty pages (up to a second's worth): they run
    /// on their own queue so that commit-log syncs of `always` never wait behind one.
    private let checkpointQueue = DispatchQueue(label: "lode-checkpoint")
    private let onCheckpointed: @Sendable () -> Void
    private let condition = NSCondition()
    private var policy: Configuration.FsyncPolicy
    private var committed: UInt64 = 0
    private var requested: UInt64 = 0
    private var synced: UInt64 = 0
    private var stopping = false
    /// Signalled by the fsync thread as it ends (stop() waits for it).
    private let finished = DispatchSemaphore(value: 0)
    private var started = false
    private let onSynced: @Sendable (UInt64) -> Void
    /// Told how long each fsync took (the metrics endpoint's histogram; thread-safe).
    private let observeFsync: @Sendable (Duration) -> Void
    private let onError: @Sendable (String) -> Void

    init(env: LMDBSyncHandle, log: CommitLogFiles, policy: Configuration.FsyncPolicy,
         onSynced: @escaping @Sendable (UInt64) -> Void, onCheckpointed: @escaping @Sendable () -> Void,
         onError: @escaping @Sendable (String) -> Void, observeFsync: @escaping @Sendable (Duration) -> Void = { _ in }) {
        self.observeFsync = observeFsync
        self.env = env
        self.log = log
        self.onCheckpointed = onCheckpointed
        self.policy = policy
        self.onSynced = onSynced
        self.onError = onError
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

    /// Called by the loop after each commit.
    func committed(_ sequence: UInt64, needsSync: Bool) {
        condition.lock()
        committed = sequence
        if needsSync {
            requested = sequence
            condition.signal()
        }
        condition.unlock()
    }

    /// Syncs LMDB, then truncates commit-log `file` (all its records are in LMDB).
    func checkpoint(file: Int) {
        checkpointQueue.async { [self] in
            do {
                try timed { try env.sync() }
                log.truncate(file)
            } catch {
                onError("checkpoint fsync failed: \(error)")
            }
            onCheckpointed()
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
                let target = committed
                condition.unlock()
                do { try timed { try log.sync() } } catch { onError("commit log fsync failed: \(error)") }
                onSynced(target)
                condition.lock()
                synced = max(synced, target)
                continue
            }
            if policy == .everysec {
                let due = lastEverysec.addingTimeInterval(1)
                if Date() >= due {
                    lastEverysec = Date()
                    if committed > synced {
                        let target = committed
                        condition.unlock()
                        sync(upTo: target)
                        condition.lock()
                        synced = max(synced, target)
                    }
                    continue
                }
                _ = condition.wait(until: due)
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }

    private func timed(_ body: () throws -> Void) rethrows {
        let clock = ContinuousClock()
        let started = clock.now
        try body()
        observeFsync(clock.now - started)
    }

    private func sync(upTo target: UInt64) {
        do {
            try timed { try env.sync() }
        } catch {
            onError("fsync failed: \(error)")
        }
        onSynced(target)
    }
}
