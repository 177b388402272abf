import Dispatch
import Foundation
import LodeStore
import Logging
import NIOCore
import NIOPosix

/// The Lode server: opens the data directory, serves connections on one event loop
/// (like Redis, one thread owns the data; SwiftNIO does the I/O), and shuts down
/// cleanly on SIGTERM, SIGINT or SHUTDOWN.
public final class LodeServer {
    public let config: Configuration
    let configFile: String?
    var logger: Logger

    public init(config: Configuration, configFile: String?) {
        self.config = config
        self.configFile = configFile
        let sink = LogSink(path: config.logFile)
        let level = config.swiftLogLevel
        logger = Logger(label: "lode") { _ in RedisStyleLogHandler(logLevel: level, sink: sink) }
        logger.logLevel = level
    }

    public struct StartupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Takes an exclusive lock on the data directory so that a second server cannot
    /// open the same LMDB environment (LMDB itself allows several processes).
    static func lockDirectory(_ dir: String) throws -> Int32 {
        let path = dir + "/lode.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StartupError(description: "Can't open \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw StartupError(description: "Can't lock the data directory '\(dir)': it is in use by another lode-server process")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        return fd
    }

    /// Runs until shutdown. Throws on start-up failures (bad directory, port in use).
    public func run() throws {
        let dir = config.dir
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw StartupError(description: "Can't create the data directory '\(dir)': \(error.localizedDescription)")
        }
        let lockFD = try Self.lockDirectory(dir)
        defer { close(lockFD) }

        var storeOptions = Store.Options(path: dir)
        storeOptions.mapSize = config.lmdbMapSize
        storeOptions.cacheBytes = config.cacheMaxMemory
        storeOptions.cachePolicy = config.cacheEvictionPolicy
        storeOptions.databases = config.databases
        let store: Store
        do {
            store = try Store(options: storeOptions)
        } catch let e as LMDBError where Store.isFormatMismatch(e) {
            throw StartupError(description: "The data in '\(dir)' has an on-disk format other than \(Store.formatVersion); this Lode cannot read it")
        } catch {
            throw StartupError(description: "Can't open the database in '\(dir)': \(error)")
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let state = ServerState(config: config, store: store, logger: logger, configFile: configFile)
        let coordinator = TurnCoordinator(server: state, loop: loop)
        let logger = self.logger
        var checkpointInFlight = false
        let syncer = Syncer(env: store.env, log: store.commitLog, policy: config.appendFsync, onSynced: { seq in
            loop.execute { coordinator.synced(seq) }
        }, onCheckpointed: {
            loop.execute { checkpointInFlight = false }
        }, onError: { message in
            loop.execute { logger.warning("\(message)") }
        })
        store.logging = config.appendFsync == .always
        coordinator.syncer = syncer
        syncer.start()
        var handlers: [ObjectIdentifier: ConnectionHandler] = [:]

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(config.tcpBacklog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let handler = ConnectionHandler(server: state, coordinator: coordinator)
                let id = ObjectIdentifier(channel)
                handlers[id] = handler
                channel.closeFuture.whenComplete { _ in handlers.removeValue(forKey: id) }
                return channel.pipeline.addHandler(handler)
            }

        var channels: [Channel] = []
        for address in config.bind {
            let host = address.hasPrefix("-") ? String(address.dropFirst()) : address
            do {
                channels.append(try bootstrap.bind(host: host, port: config.port).wait())
            } catch {
                if address.hasPrefix("-") { continue }  // "-addr": optional, as in redis.conf
                syncer.stop()
                try? group.syncShutdownGracefully()
                store.close()
                throw StartupError(description: "Warning: Could not create server TCP listening socket \(host):\(config.port): \(error)")
            }
        }
        let boundPort = channels.first?.localAddress?.port ?? config.port
        logger.notice("Lode \(LodeVersion.lode) (Redis \(LodeVersion.redisCompatible) compatible) pid=\(getpid()) data=\(dir) appendfsync=\(config.appendFsync.rawValue)")
        logger.notice("Ready to accept connections tcp port=\(boundPort)")

        // Active expiry: a few times per second delete keys whose time has come,
        // reading only the due part of the on-disk expiry index.
        var expiryTask: RepeatedTask? = nil
        func scheduleExpiry() {
            expiryTask?.cancel()
            let period = TimeAmount.milliseconds(Int64(max(1, 1000 / state.config.hz)))
            expiryTask = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                do {
                    let n = try store.expireDue(now: currentTimeMillis(), limit: 500)
                    if n > 0 {
                        state.stats.expiredKeys += n
                        coordinator.scheduleEndOfTurn()
                    }
                    // Reclaim the elements of deleted collections, a bounded batch at a time.
                    if try store.sweepGarbage(limit: 2000) > 0 { coordinator.scheduleEndOfTurn() }
                } catch {
                    state.logger.warning("active expiry failed: \(error)")
                    coordinator.scheduleEndOfTurn()
                }
            }
        }
        try loop.submit { scheduleExpiry() }.wait()
        // Checkpoint: once a second, sync LMDB and drop the commit-log records it holds.
        let checkpointTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            guard !checkpointInFlight, store.commitLog.bytesInActive > 0, !store.hasPendingWrites else { return }
            checkpointInFlight = true
            syncer.checkpoint(file: store.commitLog.rotate())
        }
        // LMDB reads map the data file into this process; those pages belong to the
        // OS page cache but count in RSS. Keep at most `mappedLimit` of them mapped,
        // so the resident set stays near cache-max-memory + a fixed base however
        // large the dataset.
        let mappedLimit = 64 << 20
        let unmapTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            if ServerCommands.memoryFigures().fileBacked > mappedLimit { store.env.releaseMappedPages() }
        }
        state.onConfigChange = { [weak state] updated in
            store.logging = updated.appendFsync == .always
            syncer.setPolicy(updated.appendFsync)
            state?.logger.logLevel = updated.swiftLogLevel
            scheduleExpiry()
        }

        // Shutdown: stop accepting, run what was already read, commit, close.
        let stopped = DispatchSemaphore(value: 0)
        var stopping = false
        let beginShutdown: () -> Void = {
            loop.execute {
                guard !stopping else { return }
                stopping = true
                state.logger.notice("Received shutdown request, committing and closing...")
                for c in channels { c.close(promise: nil) }
                expiryTask?.cancel()
                checkpointTask.cancel()
                unmapTask.cancel()
                coordinator.drain(Array(handlers.values))
                stopped.signal()
            }
        }
        state.shutdownRequested = beginShutdown
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let signalQueue = DispatchQueue(label: "lode-signals")
        let sources = [SIGTERM, SIGINT].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: signalQueue)
            s.setEventHandler { beginShutdown() }
            s.resume()
            return s
        }
        stopped.wait()
        sources.forEach { $0.cancel() }
        // Let the last replies go out before the loop stops.
        try? loop.scheduleTask(in: .milliseconds(50)) {}.futureResult.wait()
        syncer.stop()
        try? loop.submit { store.close() }.wait()
        try? group.syncShutdownGracefully()
        logger.notice("Lode is now ready to exit, bye bye...")
    }
}
