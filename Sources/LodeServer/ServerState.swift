import LodeRESP
import LodeStore
import Logging
import NIOCore

/// Per-connection state, as Redis's `client` struct: selected database, protocol,
/// authentication, name, and the figures CLIENT LIST reports.
final class ClientState {
    let id: Int
    var db = 0
    var resp = RESPVersion.resp2
    var authenticated: Bool
    var name = ""
    var libName = ""
    var libVersion = ""
    let address: String
    let localAddress: String
    let createdAt: Int64
    var lastInteraction: Int64
    var lastCommand = "NULL"
    /// Set by QUIT and protocol errors: close once the pending replies are written.
    var closeAfterReply = false
    /// Set by a blocking command that found nothing to pop.
    var blockRequest: BlockRequest?
    /// Set while a blocked command is run again because a key it waits on changed.
    var retryingBlocked = false

    init(id: Int, authenticated: Bool, address: String, localAddress: String, now: Int64) {
        self.id = id
        self.authenticated = authenticated
        self.address = address
        self.localAddress = localAddress
        createdAt = now
        lastInteraction = now
    }
}

/// Counters INFO reports, with Redis's names.
struct ServerStats {
    var totalConnectionsReceived = 0
    var totalCommandsProcessed = 0
    var rejectedConnections = 0
    var expiredKeys = 0
    var keyspaceHits = 0
    var keyspaceMisses = 0
    var totalNetInputBytes = 0
    var totalNetOutputBytes = 0
    var storageErrors = 0
    var lastStorageError = ""
    var commits = 0
    var syncs = 0
}

/// Shared server state; confined to the event loop thread like the store.
final class ServerState {
    var config: Configuration
    let store: Store
    var logger: Logger
    let startedAt = currentTimeMillis()
    let runID: String
    var stats = ServerStats()
    var clients: [Int: ClientState] = [:]
    var nextClientID = 1
    /// SCAN cursors: a number handed to the client → the LMDB position after which
    /// the next call continues. Bounded; the oldest are forgotten first.
    var scanCursors: [UInt64: [UInt8]] = [:]
    var scanCursorOrder: [UInt64] = []
    /// Called by SHUTDOWN.
    var shutdownRequested: (() -> Void)?
    /// Called after CONFIG SET changed a setting that lives outside this object.
    var onConfigChange: ((Configuration) -> Void)?
    let configFile: String?

    init(config: Configuration, store: Store, logger: Logger, configFile: String?) {
        self.config = config
        self.store = store
        self.logger = logger
        self.configFile = configFile
        runID = (0..<40).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    }

    var requiresAuth: Bool { !config.requirePass.isEmpty }

    /// Keys that received elements during this command (serving blocked clients).
    var touchedKeys: [(UInt8, ByteBuffer)] = []

    /// A list or sorted set gained elements: clients blocked on it may be served.
    func keyTouched(_ db: UInt8, _ key: ByteBuffer) {
        if blockedCount > 0 { touchedKeys.append((db, key)) }
    }

    /// Clients waiting in a blocking command.
    var blockedCount = 0
    let blocking = BlockingRegistry()

    func noteStorageError(_ e: StoreError) {
        stats.storageErrors += 1
        stats.lastStorageError = e.description
        logger.warning("write failed: \(e.description)")
    }

    func rememberScanCursor(_ position: [UInt8]) -> UInt64 {
        var id: UInt64
        repeat { id = UInt64.random(in: 1...UInt64(Int64.max)) } while scanCursors[id] != nil
        scanCursors[id] = position
        scanCursorOrder.append(id)
        if scanCursorOrder.count > 100_000 {
            let old = scanCursorOrder.prefix(10_000)
            for o in old { scanCursors.removeValue(forKey: o) }
            scanCursorOrder.removeFirst(10_000)
        }
        return id
    }
}

extension ServerState {
    /// Applies a CONFIG SET that passed validation.
    func apply(_ updated: Configuration) {
        let old = config
        config = updated
        if old.cacheMaxMemory != updated.cacheMaxMemory { store.cache.setCapacity(updated.cacheMaxMemory) }
        if old.cacheEvictionPolicy != updated.cacheEvictionPolicy { store.setCachePolicy(updated.cacheEvictionPolicy) }
        if old.appendFsync != updated.appendFsync || old.logLevel != updated.logLevel { onConfigChange?(updated) }
    }
}
