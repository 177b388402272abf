import LodeEngine
import LodeMetrics
import LodeStore
import Logging
import NIOCore
import NIOPosix
import NIOHTTP1

/// Everything that lives on the event loop while the server runs: the engine's
/// state, the store, turn coordination, the fsync thread, the listeners, the
/// connections and the periodic housekeeping. Created, used and drained on the
/// loop only; `LodeService` holds it through a `NIOLoopBound`.
final class RunningServer {
    let loop: EventLoop
    let state: ServerState
    let store: Store
    let coordinator: TurnCoordinator
    let syncer: Syncer
    /// Completed by SHUTDOWN or by the service group's graceful shutdown.
    let stopPromise: EventLoopPromise<Void>
    private var handlers: [ObjectIdentifier: (ConnectionHandler, Channel)] = [:]
    private var listeners: [Channel] = []
    private var metricsListener: Channel?
    let exporter: MetricsExporter
    /// The addresses the listeners are bound to (CONFIG SET bind moves them).
    private lazy var listenersBind = state.config.bind
    private lazy var listenersPort = state.config.port
    private var expiryTask: RepeatedTask?
    private var checkpointTask: RepeatedTask?
    private var unmapTask: RepeatedTask?

    /// LMDB reads map file pages into this process; they are OS page cache but
    /// count in RSS. At most this much of them stays mapped, so the resident set
    /// stays near cache-max-memory plus a fixed base however large the dataset.
    static let mappedLimit = 64 << 20

    init(config: Configuration, configFile: String?, store: Store, logger: Logger, loop: EventLoop) {
        self.loop = loop
        self.store = store
        let exporter = MetricsExporter()
        self.exporter = exporter
        state = ServerState(config: config, store: store, logger: logger, configFile: configFile)
        coordinator = TurnCoordinator(server: state, loop: loop)
        stopPromise = loop.makePromise()
        // The fsync thread calls back onto the loop; the loop-confined objects it
        // names cross as NIOLoopBound (checked on the loop, free in release builds).
        let coordinatorOnLoop = NIOLoopBound(coordinator, eventLoop: loop)
        let callbacks = Syncer.Callbacks(
            onSynced: { seq in loop.execute { coordinatorOnLoop.value.synced(seq) } },
            onSyncFailed: { seq, message in loop.execute { coordinatorOnLoop.value.syncFailed(seq, message) } },
            onCheckpointed: { result in loop.execute { coordinatorOnLoop.value.checkpointed(result) } },
            observeFsync: { duration in exporter.fsyncDuration.record(duration) })
        syncer = Syncer(env: store.env.syncHandle, log: store.commitLog.files, marker: store.syncedMarker,
                        policy: config.appendFsync, callbacks: callbacks)
        // Every policy: the commit log carries durability between LMDB's windows.
        store.logging = true
        coordinator.syncer = syncer
        syncer.start()
        state.onCommitNeeded = { [weak self] in self?.coordinator.requestCommit() }
        let stop = stopPromise
        state.shutdownRequested = { stop.succeed() }
        state.onConfigChange = { [weak self] updated in self?.configChanged(updated) }
        state.listenerCheck = { [weak self] bind, port in self?.listenerCheck(bind: bind, port: port) }
        state.onBroadcastPending = { [weak self] in self?.coordinator.scheduleEndOfTurn() }
        scheduleHousekeeping()
    }

    var boundPort: Int { state.boundPort }

    /// What the start-up log says was found: keys per database and the data file's size.
    func startupFigures() -> String {
        let counts = state.databaseCounts()
        let keys = counts.reduce(0) { $0 + $1.keys }, databases = counts.count
        let replayed = store.replayedRecords == 0 ? "" : ", \(store.replayedRecords) commit-log records replayed"
        return "\(keys) keys in \(databases) databases, \(store.space().dataBytes) bytes of LMDB data" + replayed
    }

    // MARK: listeners

    /// Binds every `bind` address ("-addr" ones are optional, as in redis.conf).
    func bind() -> EventLoopFuture<Void> {
        openListeners(bind: state.config.bind, port: state.config.port).map { [weak self] channels in
            guard let self else { return }
            self.listeners = channels
            self.state.boundPort = channels.first?.localAddress?.port ?? self.state.config.port
        }.flatMap { [weak self] in self?.bindMetrics() ?? self!.loop.makeSucceededVoidFuture() }
    }

    /// metrics-port: the Prometheus endpoint, on the same loop as the data it reads.
    private func bindMetrics() -> EventLoopFuture<Void> {
        let config = state.config
        guard config.metricsPort > 0 else { return loop.makeSucceededVoidFuture() }
        let exporter = self.exporter
        return ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.close() }
                return channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(
                        MetricsHTTPHandler(exporter: exporter) { [weak self] in self?.state.metrics() ?? ServerMetrics() })
                }
            }
            .bind(host: config.metricsBind, port: config.metricsPort)
            .map { [weak self] channel in
                self?.metricsListener = channel
                self?.state.logger.notice("Prometheus metrics on http://\(config.metricsBind):\(channel.localAddress?.port ?? 0)/metrics")
            }
            .flatMapErrorThrowing { error in
                throw LodeService.StartupError(description: "Could not create the metrics listener "
                                               + "\(config.metricsBind):\(config.metricsPort): \(error)")
            }
    }

    /// CONFIG SET port/bind: the new listeners open first, then the old ones close
    /// (connected clients stay). The caller checked the addresses can be bound.
    private func rebind(_ config: Configuration) {
        openListeners(bind: config.bind, port: config.port).whenComplete { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let channels):
                let old = self.listeners
                self.listeners = channels
                self.state.boundPort = channels.first?.localAddress?.port ?? config.port
                for channel in old { channel.close(promise: nil) }
                self.state.logger.notice("Listening on \(config.bind.joined(separator: " ")) port \(self.state.boundPort)")
            case .failure(let error):
                self.state.logger.warning("\(error)")
            }
        }
    }

    private func openListeners(bind addresses: [String], port: Int) -> EventLoopFuture<[Channel]> {
        let config = state.config
        let bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: Int32(config.tcpBacklog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.close() }
                Self.setKeepalive(channel, seconds: self.state.config.tcpKeepalive)
                let handler = ConnectionHandler(server: self.state, coordinator: self.coordinator)
                let id = ObjectIdentifier(channel)
                self.handlers[id] = (handler, channel)
                channel.closeFuture.whenComplete { [weak self] _ in self?.handlers.removeValue(forKey: id) }
                return channel.pipeline.addHandler(handler)
            }
        var chain = loop.makeSucceededFuture([Channel]())
        for address in addresses {
            let optional = address.hasPrefix("-")
            let host = optional ? String(address.dropFirst()) : address
            chain = chain.flatMap { opened in
                bootstrap.bind(host: host == "*" ? "0.0.0.0" : host, port: port).map { opened + [$0] }.flatMapError { error in
                    if optional { return self.loop.makeSucceededFuture(opened) }
                    for channel in opened { channel.close(promise: nil) }
                    let message = "Warning: Could not create server TCP listening socket \(host):\(port): \(error)"
                    return self.loop.makeFailedFuture(LodeService.StartupError(description: message))
                }
            }
        }
        return chain
    }

    /// Whether CONFIG SET may move the listeners: every address must be bindable now.
    private func listenerCheck(bind addresses: [String], port: Int) -> String? {
        guard port != 0 else { return "port 0 (a free port) is for start-up only" }
        // The port the listeners hold now is busy with them: only a new port is checked.
        guard port != state.boundPort, let (address, reason) = ProcessSupervision.firstUnbindable(addresses, port: port) else {
            return nil
        }
        return "\(address):\(port): \(reason)"
    }

    /// tcp-keepalive, as Redis's anetKeepAlive: probes after `seconds` idle, then every
    /// third of it, three times, so a dead peer is found in about twice `seconds`.
    static func setKeepalive(_ channel: Channel, seconds: Int) {
        guard seconds > 0, let options = channel.syncOptions else { return }
        try? options.setOption(.socketOption(.so_keepalive), value: 1)
        let idle = min(seconds, Int(Int32.max)), interval = max(1, idle / 3)
        try? options.setOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPIDLE)), value: idle)
        try? options.setOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPINTVL)), value: interval)
        try? options.setOption(ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_KEEPCNT)), value: 3)
    }

    // MARK: housekeeping

    private func scheduleHousekeeping() {
        scheduleExpiry()
        // Commits a window no turn ended (writes stopped) and retries failed syncs.
        checkpointTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(20)) { [weak self] _ in
            self?.coordinator.tick()
        }
        // Fifty times a second: keys sit at their hash, so reads spread over the whole
        // file, and each page fault maps its neighbours too (the kernel's fault-around).
        unmapTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(20)) { [weak self] _ in
            if ProcessMemory.figures().fileBacked > Self.mappedLimit { self?.store.env.releaseMappedPages() }
        }
    }

    /// Active expiry, `hz` times a second: delete keys whose time has come,
    /// reading only the due part of the on-disk expiry index; then reclaim the
    /// elements of deleted collections, a bounded batch at a time.
    private func scheduleExpiry() {
        expiryTask?.cancel()
        let period = TimeAmount.milliseconds(Int64(max(1, 1000 / state.config.hz)))
        expiryTask = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            guard let self else { return }
            self.state.cron(loop: self.loop)
            // CLIENT PAUSE and DEBUG SET-ACTIVE-EXPIRE 0 stop active expiry (the sweeper waits too).
            guard !self.store.expiryPaused, self.state.activeExpireEnabled else { return }
            do {
                let n = try self.store.expireDue(now: currentTimeMillis(), limit: 500)
                if n > 0 { self.coordinator.scheduleEndOfTurn() }
                // A quarter of each period at most, beyond what the writes owe (Store+Sweeper.swift).
                let slice = 250_000 / max(1, self.state.config.hz)
                if try self.store.sweepCycle(timeSliceMicros: slice) > 0 { self.coordinator.scheduleEndOfTurn() }
            } catch {
                self.state.logger.warning("active expiry failed: \(error)")
                self.coordinator.scheduleEndOfTurn()
            }
        }
    }

    private func configChanged(_ updated: Configuration) {
        if updated.port != listenersPort || updated.bind != listenersBind {
            (listenersPort, listenersBind) = (updated.port, updated.bind)
            rebind(updated)
        }
        syncer.setPolicy(updated.appendFsync)
        state.logger.logLevel = updated.swiftLogLevel
        scheduleExpiry()
    }

    // MARK: shutdown

    /// Stops accepting, runs what was already read, commits, sends every pending
    /// reply and closes each connection after it. Completes when every listener
    /// and connection is closed; a client that does not take its replies within
    /// `deadline` is closed anyway.
    func drain(deadline: TimeAmount = .seconds(2)) -> EventLoopFuture<Void> {
        for task in [expiryTask, checkpointTask, unmapTask] { task?.cancel() }
        let listenersClosed = (listeners + [metricsListener].compactMap { $0 }).map { $0.close() }
        let open = Array(handlers.values)
        coordinator.drain(open.map(\.0))
        let channels = open.map(\.1)
        let force = loop.scheduleTask(in: deadline) { for c in channels { c.close(promise: nil) } }
        let all = listenersClosed + channels.map(\.closeFuture)
        return EventLoopFuture.andAllComplete(all, on: loop).always { _ in force.cancel() }
    }
}
