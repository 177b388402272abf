import LodeRESP
import LodeStore
import Logging
import NIOCore

/// Counters INFO reports, with Redis's names.
package struct ServerStats {
    package var totalConnectionsReceived = 0
    package var totalCommandsProcessed = 0
    package var rejectedConnections = 0
    package var expiredKeys = 0
    package var keyspaceHits = 0
    package var keyspaceMisses = 0
    package var totalNetInputBytes = 0
    package var totalNetOutputBytes = 0
    package var storageErrors = 0
    package var lastStorageError = ""
    package var commits = 0
    /// LMDB window commits (each turn's writes are a log record: `commits`).
    package var windowCommits = 0
    /// Commands that changed data (Redis's server.dirty, for the `save` points and
    /// rdb_changes_since_last_save; housekeeping such as the sweeper does not count).
    package var dirty = 0
    /// SYNC/PSYNC snapshots served (INFO's sync_full).
    package var fullSyncs = 0
    package var syncs = 0
}

/// The engine's state: configuration, the store, statistics and the clients.
/// Confined to the event loop thread like the store; the network layer reaches
/// clients only through their `ClientSession`, and the engine knows them by ID.
package final class ServerState {
    package internal(set) var config: Configuration
    package let store: Store
    package var logger: Logger
    let startedAt = currentTimeMillis()
    let runID: String
    package var stats = ServerStats()
    /// INFO commandstats / errorstats.
    var commandStats = CommandStatistics()
    /// Connected clients by ID, as CLIENT LIST shows them.
    var clients: [Int: ClientState] = [:]
    /// Their sessions, by the same IDs (blocked clients are served through these).
    var sessions: [Int: ClientSession] = [:]
    var nextClientID = 1
    /// The port the server listens on (the bound one when `port 0` was asked for).
    package var boundPort = 0
    /// Called by SHUTDOWN.
    package var shutdownRequested: (() -> Void)?
    /// Called after CONFIG SET changed a setting that lives outside this object.
    package var onConfigChange: ((Configuration) -> Void)?
    var slowlog = SlowLog()
    /// SAVE, BGSAVE and the `save` schedule.
    let rdbSaves = RDBSaves()
    /// MIGRATE's cached connections to its targets.
    let migrateConnections = MigrateConnections()
    private var committedTasks: [() -> Void] = []
    /// INFO replication's master_replid (DEBUG CHANGE-REPL-ID draws a new one).
    private(set) var replicationID = ServerState.randomHex40()
    /// DEBUG SET-ACTIVE-EXPIRE: whether the cron deletes expired keys nobody reads.
    package var activeExpireEnabled = true
    /// Set while the commit log or LMDB cannot be synced (the cause, a sentence naming
    /// the file): write commands get `MISCONF <cause>`, as Redis refuses writes after a
    /// failed AOF write or fsync, until a sync succeeds (TurnCoordinator says when).
    package var persistenceFailure: String?
    /// The commands by the names clients call them (`rename-command` applied).
    let commandTable: CommandTable
    /// Asks the turn coordinator to commit LMDB's open window as soon as it may
    /// (a snapshot waits for it: `afterCommit`).
    package var onCommitNeeded: (() -> Void)?

    static func randomHex40() -> String { (0..<40).map { _ in String("0123456789abcdef".randomElement()!) }.joined() }

    func changeReplicationID() { replicationID = Self.randomHex40() }

    /// Keys and keys with an expiry of each logical database that has keys (INFO
    /// keyspace, metrics, MEMORY STATS, the start-up log).
    package func databaseCounts() -> [(db: Int, keys: Int, expires: Int)] {
        (0..<store.databases).compactMap { logical in
            let (keys, expires) = store.counts(db: store.physical(logical))
            return keys > 0 ? (logical, keys, expires) : nil
        }
    }
    /// The heap once the state was built (MEMORY STATS startup.allocated), and its peak.
    let startupHeap = ProcessMemory.heapBytes()
    var peakHeap = 0
    var latency = LatencyMonitor()
    /// Why the listeners could not move to these addresses now (nil: they can).
    package var listenerCheck: ((_ bind: [String], _ port: Int) -> String?)?
    let configFile: String?

    package init(config: Configuration, store: Store, logger: Logger, configFile: String?) {
        commandTable = CommandTable.standard.renaming(config.renamedCommands)
        self.config = config
        self.store = store
        self.logger = logger
        self.configFile = configFile
        runID = Self.randomHex40()
        store.onKeyExpired = { [unowned self] db, key in
            self.stats.expiredKeys += 1  // lazy and active expiry alike, as Redis's expired_keys
            self.notifyKeyspaceEvent(.expired, "expired", key: key, db: self.store.logical(db))
            self.keyModified(db, key, byExpiry: true)
            self.keyTouched(db, key)
        }
        scripts.loadPersistedFunctions()
        store.onKeyAdded = { [unowned self] db, key in
            guard self.config.notifyKeyspaceEvents.contains(.new) else { return }
            self.notifyKeyspaceEvent(.new, "new", key: key, db: self.store.logical(db))
        }
    }

    var requiresAuth: Bool { !config.requirePass.isEmpty }

    /// Keys that received elements during this command (serving blocked clients).
    var touchedKeys: [(UInt8, ByteBuffer)] = []

    /// A key was written, deleted or expired: clients blocked on it may be served.
    func keyTouched(_ db: UInt8, _ key: ByteBuffer) {
        // Only keys someone waits on: every write reports here, most to no one.
        if blocking.count > 0 && blocking.isWaited(db, key) { touchedKeys.append((db, key)) }
    }

    /// Clients waiting in a blocking command.
    var blockedCount: Int { blocking.count + pause.postponed.count }
    var pause = ClientPause()
    let blocking = BlockingRegistry()
    let watches = WatchRegistry()
    let pubsub = PubSubRegistry()
    let tracking = TrackingTable()
    /// Clients in MONITOR mode, by ID, in the order they started.
    var monitors: [Int] = []
    /// EVAL and FCALL: the interpreters, the script cache, the script in progress.
    lazy var scripts = ScriptRunner(server: self)
    /// Whether the turn's transaction must stay open: a suspended script has
    /// written into it (or may), and its writes commit together when it ends.
    package var holdsTransaction: Bool { scripts.isBusy }
    /// The client whose command is running (nil: expiry, housekeeping).
    var currentClient: ClientState?
    /// Invalidations for `currentClient`, sent after its reply.
    var pendingInvalidations: [Invalidation] = []
    /// Called when BCAST invalidations wait for the end of the turn.
    package var onBroadcastPending: (() -> Void)?

    /// Every write of a key goes through here (CommandContext's put, delete and
    /// save; expiries): WATCH hears of it. `db` is the physical database.
    /// Client-side caching hears of it too.
    func keyModified(_ db: UInt8, _ key: ByteBuffer, byExpiry: Bool = false) {
        if tracking.isActive { invalidateTrackedKey(key, writer: byExpiry ? nil : currentClient?.id) }
        guard !watches.isEmpty else { return }
        watches.touch(db: store.logical(db), key: key, byExpiry: byExpiry, clients: clients)
    }

    /// Before the event loop's turn ends and replies go out (Redis's beforeSleep).
    package func beforeEndOfTurn() {
        broadcastTrackedKeys()
    }

    /// Runs `task` once every write made so far is committed: now, or after the turn's
    /// commit (a snapshot taken then holds every write acknowledged before it).
    func afterCommit(_ task: @escaping () -> Void) {
        guard store.hasPendingWrites else { return task() }
        committedTasks.append(task)
        onCommitNeeded?()
    }

    /// After the turn's commit (TurnCoordinator): the tasks that waited for it.
    package func afterEndOfTurn() {
        guard !committedTasks.isEmpty, !store.hasPendingWrites else { return }
        let tasks = committedTasks
        committedTasks.removeAll()
        for t in tasks { t() }
    }

    /// Periodic housekeeping on the loop, `hz` times a second (Redis's serverCron).
    package func cron(loop: EventLoop) {
        rdbSaves.cron(self, loop: loop)
        migrateConnections.closeIdle(now: currentTimeMillis())
        if tracking.trackingClients > 0 { limitTrackingTable() }
        if config.timeout > 0 { closeIdleClients(now: currentTimeMillis()) }
    }

    /// `timeout`: closes clients idle for longer, as Redis's clientsCronHandleTimeout;
    /// subscribers, monitors and blocked clients wait for as long as they like.
    private func closeIdleClients(now: Int64) {
        let limit = Int64(config.timeout) * 1000
        for (id, client) in clients where now - client.lastInteraction > limit {
            guard client.connection.blockedCommand == nil, !client.subscriptions.isSubscribed, !client.isMonitor,
                  let session = sessions[id] else { continue }
            logger.info("Closing idle client id=\(id) addr=\(client.address)")
            session.closeAfterReply()
            session.onOutput?()
        }
    }

    /// Before FLUSHDB/FLUSHALL empties logical databases `dbs`.
    func databasesFlushing(_ dbs: [Int]) {
        invalidateAllTrackedKeys()
        for db in dbs { touchWatches(in: db, replacedWith: nil) }
    }

    /// Before SWAPDB exchanges logical databases `a` and `b`.
    func databasesSwapping(_ a: Int, _ b: Int) {
        touchWatches(in: a, replacedWith: b)
        touchWatches(in: b, replacedWith: a)
    }

    private func touchWatches(in db: Int, replacedWith other: Int?) {
        guard !watches.isEmpty else { return }
        let now = currentTimeMillis()
        watches.touchAll(db: db, replacedWith: other, clients: clients) { logical, key in
            let r = (try? store.peekStored(db: store.physical(logical), key: key)) ?? nil
            return (r != nil, r?.isExpired(now: now) ?? false)
        }
    }

    package func noteStorageError(_ e: StoreError) {
        stats.storageErrors += 1
        stats.lastStorageError = e.description
        logger.warning("write failed: \(e.description)")
    }
}

extension ServerState {
    /// Why a new connection is refused, with the text Redis sends before closing.
    package enum Refusal: Error {
        case tooManyClients
        case protectedMode

        package var reply: String {
            switch self {
            case .tooManyClients: return "-ERR max number of clients reached\r\n"
            case .protectedMode: return protectedModeMessage
            }
        }
    }

    /// A new connection: its session, or why it is refused (maxclients, protected mode).
    package func connect(remote: SocketAddress?, local: SocketAddress?, loop: EventLoop) -> Result<ClientSession, Refusal> {
        stats.totalConnectionsReceived += 1
        let client = ClientState(id: nextClientID, authenticated: !requiresAuth, address: Self.describe(remote),
                                 localAddress: Self.describe(local), now: currentTimeMillis())
        nextClientID += 1
        if clients.count >= config.maxClients {
            stats.rejectedConnections += 1
            return .failure(.tooManyClients)
        }
        if config.protectedMode && !requiresAuth && !Self.isLoopback(remote) {
            stats.rejectedConnections += 1
            return .failure(.protectedMode)
        }
        let session = ClientSession(client: client, server: self, loop: loop)
        clients[client.id] = client
        sessions[client.id] = session
        return .success(session)
    }

    /// The connection of `session` is gone.
    func disconnected(_ session: ClientSession) {
        disableTracking(session.client)
        if session.client.isMonitor { monitors.removeAll { $0 == session.client.id } }
        clients.removeValue(forKey: session.client.id)
        sessions.removeValue(forKey: session.client.id)
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "?:0" }
        return "\(ip):\(port)"
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return true }  // unix sockets
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    /// Applies a CONFIG SET that passed validation.
    func apply(_ updated: Configuration) {
        let old = config
        config = updated
        if old.port != updated.port || old.bind != updated.bind { onConfigChange?(updated) }
        if old.cacheBudget != updated.cacheBudget { store.cache.setCapacity(updated.cacheBudget) }
        if old.cacheEvictionPolicy != updated.cacheEvictionPolicy { store.setCachePolicy(updated.cacheEvictionPolicy) }
        store.stringChunkSize = updated.stringChunkSize
        if old.appendFsync != updated.appendFsync || old.logLevel != updated.logLevel || old.hz != updated.hz { onConfigChange?(updated) }
    }
}

/// Redis 7.0's protected-mode refusal, byte for byte.
private let protectedModeMessage = [
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the ",
    "default user. In this mode connections are only accepted from the loopback interface. If you want to connect ",
    "from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode ",
    "sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the ",
    "same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. ",
    "Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by ",
    "editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the ",
    "server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' ",
    "option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above ",
    "things in order for the server to start accepting connections from the outside.\r\n",
].joined()
