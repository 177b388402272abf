import Foundation
import LodeEngine
import LodeStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The Lode server as a swift-service-lifecycle `Service`: opens the data
/// directory, serves connections on one event loop (like Redis, one thread owns
/// the data; SwiftNIO does the I/O) and shuts down gracefully when the service
/// group says so (SIGTERM/SIGINT, handled by the executable) or on SHUTDOWN.
///
/// Its lifecycle is one explicit state; every transition happens in `run()`.
public final class LodeService: Service, Sendable {
    public enum State: Sendable, Equatable {
        case idle
        case starting
        /// Accepting connections on `port`.
        case running(port: Int)
        /// Listeners closed; committing and sending the last replies.
        case draining
        case stopped
    }

    public let config: Configuration
    let configFile: String?
    let logger: Logger
    private let onServerRunning: (@Sendable (Int) -> Void)?
    private let lifecycle = NIOLockedValueBox(State.idle)

    /// - Parameter onServerRunning: called with the bound port once connections are
    ///   accepted (tests bind port 0 and read it here).
    public init(config: Configuration, configFile: String?, logger: Logger,
                onServerRunning: (@Sendable (Int) -> Void)? = nil) {
        self.config = config
        self.configFile = configFile
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    public var state: State { lifecycle.withLockedValue { $0 } }

    private func transition(_ next: State) {
        lifecycle.withLockedValue { $0 = next }
    }

    public struct StartupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs until graceful shutdown or SHUTDOWN. Throws on start-up failures (bad
    /// directory, directory in use, port in use).
    public func run() async throws {
        transition(.starting)
        // A port in use is reported before anything is created (as Redis, which binds first).
        if let (address, reason) = ProcessSupervision.firstUnbindable(config.bind, port: config.port) {
            transition(.stopped)
            throw StartupError(description: "Could not create server TCP listening socket \(address):\(config.port): "
                               + "\(reason)\nFailed listening on port \(config.port) (tcp), aborting.")
        }
        let lock = try DataDirectoryLock(directory: config.dir)
        defer { lock.release() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        // The running server is confined to the loop: it crosses into this task
        // only as a NIOLoopBound, and is touched only inside loop.submit.
        let server: NIOLoopBound<RunningServer>, stop: EventLoopPromise<Void>
        do {
            (server, stop) = try await loop.submit { [self] in
                let store = try openStore()
                let running = RunningServer(config: config, configFile: configFile, store: store, logger: logger, loop: loop)
                return (NIOLoopBound(running, eventLoop: loop), running.stopPromise)
            }.get()
        } catch {
            await shutdown(group)
            transition(.stopped)
            throw error
        }
        do {
            try await loop.flatSubmit { server.value.bind() }.get()
        } catch {
            try? await loop.submit {
                server.value.syncer.stop()
                server.value.store.close()
            }.get()
            await shutdown(group)
            transition(.stopped)
            throw error
        }
        let port = try await loop.submit { server.value.boundPort }.get()
        let found = try await loop.submit { server.value.startupFigures() }.get()
        logger.notice("Lode \(LodeVersion.lode) (Redis \(LodeVersion.redisCompatible) compatible), pid=\(getpid())")
        logger.notice("Configuration: \(configFile ?? "none (defaults and command line)")")
        logger.notice("Data: \(Configuration.absolutePath(config.dir)), \(found)")
        let budgetSource = config.maxMemory > 0 ? "maxmemory" : "cache-max-memory"
        let cache = "Hot cache budget \(config.cacheBudget) bytes (\(budgetSource)), \(config.cacheEvictionPolicy.rawValue); "
        logger.notice("\(cache)appendfsync \(config.appendFsync.rawValue)")
        logger.notice("Listening on \(config.bind.joined(separator: " ")) port \(port)")
        logger.notice("Ready to accept connections tcp port=\(port)")
        ProcessSupervision.notifySupervisor(config, "READY=1\nSTATUS=Ready to accept connections\n")
        ProcessSupervision.tellParentReady()
        transition(.running(port: port))
        onServerRunning?(port)

        // Until the group shuts us down (a signal) or a client sends SHUTDOWN.
        await withGracefulShutdownHandler {
            try? await stop.futureResult.get()
        } onGracefulShutdown: {
            stop.succeed()
        }
        transition(.draining)
        ProcessSupervision.notifySupervisor(config, "STOPPING=1\n")
        logger.notice("Received shutdown request, committing and closing...")
        try? await loop.flatSubmit { server.value.drain() }.get()
        // The fsync thread is joined off the loop (its last callbacks run there).
        let syncer = try? await loop.submit { server.value.syncer }.get()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                syncer?.stop()
                done.resume()
            }
        }
        try? await loop.submit { server.value.store.close() }.get()
        await shutdown(group)
        transition(.stopped)
        logger.notice("Lode is now ready to exit, bye bye...")
    }

    private func openStore() throws -> Store {
        var options = Store.Options(path: config.dir)
        options.mapSize = config.lmdbMapSize
        options.cacheBytes = config.cacheBudget
        options.cachePolicy = config.cacheEvictionPolicy
        options.databases = config.databases
        options.stringChunkSize = config.stringChunkSize
        let logger = self.logger
        options.log = { logger.notice("\($0)") }
        do {
            return try Store(options: options)
        } catch StoreError.formatMismatch(let found, let expected) {
            throw StartupError(description: "The data in '\(config.dir)' has on-disk format \(found), "
                               + "other than \(expected); this Lode cannot read it")
        } catch {
            throw StartupError(description: "Can't open the database in '\(config.dir)': \(error)")
        }
    }

    private func shutdown(_ group: MultiThreadedEventLoopGroup) async {
        try? await group.shutdownGracefully()
    }
}
