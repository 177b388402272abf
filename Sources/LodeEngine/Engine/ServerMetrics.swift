import LodeStore
#if canImport(Glibc)
import Glibc
#endif

/// The figures the Prometheus endpoint exports, read from the engine in one go on the
/// event loop (the endpoint formats them elsewhere; it never touches the state).
package struct ServerMetrics: Sendable {
    package struct CommandFigures: Sendable {
        package let name: String
        package let calls, microseconds, failed, rejected: Int

        package init(name: String, calls: Int, microseconds: Int, failed: Int, rejected: Int) {
            (self.name, self.calls, self.microseconds, self.failed, self.rejected) = (name, calls, microseconds, failed, rejected)
        }
    }

    package var version = LodeVersion.lode
    package var uptimeSeconds = 0
    package var connectedClients = 0, blockedClients = 0, maxClients = 0
    package var usedMemory = 0, usedMemoryRSS = 0, usedMemoryPeak = 0, maxMemory = 0
    package var commandsProcessed = 0, connectionsReceived = 0, rejectedConnections = 0
    package var keyspaceHits = 0, keyspaceMisses = 0, expiredKeys = 0
    package var netInputBytes = 0, netOutputBytes = 0
    package var cpuUserSeconds = 0.0, cpuSystemSeconds = 0.0
    package var pubsubChannels = 0, pubsubPatterns = 0
    /// Logical database -> (keys, keys with an expiry), non-empty ones only.
    package var databases: [(db: Int, keys: Int, expires: Int)] = []
    package var commands: [CommandFigures] = []
    package var errors: [(code: String, count: Int)] = []
    package var slowlogLength = 0
    // Lode's own
    package var cacheUsedBytes = 0, cacheMaxBytes = 0, cacheKeys = 0, cacheHits = 0, cacheMisses = 0
    package var lmdbUsedBytes = 0, lmdbMapSize = 0, lmdbFileBytes = 0, lmdbFreeBytes = 0, sweeperBacklog = 0
    package var commits = 0, syncs = 0, storageErrors = 0

    package init() {}
}

extension ServerState {
    package func metrics() -> ServerMetrics {
        var m = ServerMetrics()
        m.uptimeSeconds = Int(currentTimeMillis() - startedAt) / 1000
        m.connectedClients = clients.count
        m.blockedClients = blockedCount
        m.maxClients = config.maxClients
        let memory = MemoryOverhead(self)
        (m.usedMemory, m.usedMemoryRSS, m.usedMemoryPeak, m.maxMemory) = (memory.heap, memory.rss, memory.peak, config.maxMemory)
        m.commandsProcessed = stats.totalCommandsProcessed
        m.connectionsReceived = stats.totalConnectionsReceived
        m.rejectedConnections = stats.rejectedConnections
        (m.keyspaceHits, m.keyspaceMisses, m.expiredKeys) = (stats.keyspaceHits, stats.keyspaceMisses, stats.expiredKeys)
        (m.netInputBytes, m.netOutputBytes) = (stats.totalNetInputBytes, stats.totalNetOutputBytes)
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        m.cpuUserSeconds = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        m.cpuSystemSeconds = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        m.pubsubChannels = pubsub.channelCount
        m.pubsubPatterns = pubsub.patternCount
        m.databases = databaseCounts()
        m.commands = commandStats.commands.keys.sorted().map { name in
            let c = commandStats.commands[name]!
            return ServerMetrics.CommandFigures(name: name, calls: c.calls, microseconds: c.microseconds,
                                                failed: c.failed, rejected: c.rejected)
        }
        m.errors = commandStats.errors.keys.sorted().map { ($0, commandStats.errors[$0]!) }
        m.slowlogLength = slowlog.count
        let cache = store.cache
        (m.cacheUsedBytes, m.cacheMaxBytes, m.cacheKeys) = (cache.usedBytes, cache.capacity, cache.count)
        (m.cacheHits, m.cacheMisses) = (cache.hits, cache.misses)
        let space = store.space()
        (m.lmdbUsedBytes, m.lmdbMapSize) = (space.highWaterBytes, store.env.info().mapSize)
        (m.lmdbFileBytes, m.lmdbFreeBytes) = (space.fileBytes, space.freeBytes)
        m.sweeperBacklog = (try? store.garbageCount()) ?? 0
        (m.commits, m.syncs, m.storageErrors) = (stats.commits, stats.syncs, stats.storageErrors)
        return m
    }
}
