import LodeEngine
import LodeStore
import NIOCore

/// Ends each event-loop turn: commits the turn's writes in one LMDB transaction
/// (group commit across all clients), then sends the replies that may go.
///
/// With `appendfsync always`, while one group's fsync is in flight the next
/// group's writes stay in the open transaction (their replies are held anyway);
/// when the fsync completes they are committed and synced together. Groups thus
/// grow with the load, as in a database's log group commit.
///
/// Confined to the event loop; the fsync thread reaches it through a
/// `NIOLoopBound` (see `LodeService`).
final class TurnCoordinator {
    private let server: ServerState
    private let loop: EventLoop
    private var scheduled = false
    private var registered: [ConnectionHandler] = []
    /// Connections with writes in the open, not yet committed transaction.
    private var uncommitted: [ConnectionHandler] = []
    /// Connections whose output waits for an fsync.
    private var holding: [ConnectionHandler] = []
    private(set) var syncedSequence: UInt64 = 0
    private var syncInFlight = false
    var syncer: Syncer?

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
        let store = server.store
        if server.holdsTransaction {
            // A suspended script: its writes and the turn's stay uncommitted (and
            // their replies held) until it ends; other clients only get BUSY.
            for h in uncommitted { h.holdUntilSynced = .max }
        } else if server.config.appendFsync == .always && syncInFlight && store.hasPendingWrites && store.turnFailure == nil {
            // Join the next group: commit when the fsync in flight completes.
            for h in uncommitted { h.holdUntilSynced = .max }
            store.endReadSnapshot()
        } else {
            commit()
        }
        for h in handlers {
            h.registeredForTurn = false
            h.flushIfReady(syncedSequence: syncedSequence)
        }
        server.afterEndOfTurn()
    }

    /// Commits the open transaction and releases or holds the replies it covers.
    private func commit() {
        let group = uncommitted
        uncommitted.removeAll(keepingCapacity: true)
        let result = server.store.endTurn()
        switch result {
        case .failed:
            let failure = server.store.lastFailure
            let text = failure?.replyText ?? "ERR storage error; the write was not applied"
            if let failure { server.noteStorageError(failure) }
            for h in group {
                h.rollBackTurn(error: text)
                h.holdUntilSynced = 0
            }
        case .committed(let sequence):
            server.stats.commits += 1
            let always = server.config.appendFsync == .always
            if always {
                for h in group {
                    h.holdUntilSynced = sequence
                    holding.append(h)
                }
                syncInFlight = true
            } else {
                for h in group where h.holdUntilSynced == .max { h.holdUntilSynced = 0 }
                syncedSequence = sequence
            }
            syncer?.committed(sequence, needsSync: always)
        case .nothingWritten:
            break
        }
        for h in group {
            h.clearRollbackMark()
            h.inUncommittedGroup = false
            h.flushIfReady(syncedSequence: syncedSequence)
        }
    }

    /// Called on the loop when an fsync covering `sequence` has completed.
    func synced(_ sequence: UInt64) {
        server.stats.syncs += 1
        syncInFlight = false
        syncedSequence = max(syncedSequence, sequence)
        var still: [ConnectionHandler] = []
        for h in holding {
            if h.holdUntilSynced <= syncedSequence { h.flushIfReady(syncedSequence: syncedSequence) } else { still.append(h) }
        }
        holding = still
        if server.store.hasPendingWrites && !server.holdsTransaction { commit() }
    }

    /// Shutdown: commit, then release every held reply (the store's close syncs).
    func drain(_ handlers: [ConnectionHandler]) {
        scheduled = false
        registered.removeAll()
        commit()
        syncedSequence = .max
        for h in handlers + holding { h.closeForShutdown() }
        holding.removeAll()
    }
}
