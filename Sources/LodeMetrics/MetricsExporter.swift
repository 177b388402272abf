import LodeEngine
import Prometheus

/// The Prometheus text format of a `ServerMetrics` snapshot, with the names operators
/// already graph from redis_exporter where they apply (redis_*), and Lode's own
/// (lode_*). A scrape builds a fresh registry of the snapshot's values (counters are
/// the server's totals, so CONFIG RESETSTAT resets them as it resets INFO); the fsync
/// latency histogram lives across scrapes, fed by the fsync thread.
public final class MetricsExporter: Sendable {
    private let durable = PrometheusCollectorRegistry()
    /// Seconds each fsync of the commit log or of LMDB took.
    public let fsyncDuration: DurationHistogram

    public init() {
        fsyncDuration = durable.makeDurationHistogram(
            name: "lode_fsync_duration_seconds",
            buckets: [.microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1)],
            help: "Time taken by each fsync of the commit log or the LMDB file")
    }

    package func render(_ m: ServerMetrics) -> [UInt8] {
        let r = PrometheusCollectorRegistry()
        func gauge(_ name: String, _ value: Double, _ help: String, _ labels: [(String, String)] = []) {
            r.makeGauge(name: name, labels: labels, help: help).set(value)
        }
        func gauge(_ name: String, _ value: Int, _ help: String, _ labels: [(String, String)] = []) {
            gauge(name, Double(value), help, labels)
        }
        func counter(_ name: String, _ value: Int, _ help: String, _ labels: [(String, String)] = []) {
            r.makeCounter(name: name, labels: labels, help: help).increment(by: Int64(value))
        }
        func counter(_ name: String, _ value: Double, _ help: String, _ labels: [(String, String)] = []) {
            r.makeCounter(name: name, labels: labels, help: help).increment(by: value)
        }
        gauge("redis_up", 1, "Whether the server answers (always 1 when scraped)")
        gauge("redis_instance_info", 1, "Server version", [("lode_version", m.version), ("redis_version", LodeVersion.redisCompatible)])
        gauge("redis_uptime_in_seconds", m.uptimeSeconds, "Seconds since the server started")
        gauge("redis_connected_clients", m.connectedClients, "Connected clients")
        gauge("redis_blocked_clients", m.blockedClients, "Clients waiting in a blocking command or a pause")
        gauge("redis_config_maxclients", m.maxClients, "maxclients")
        gauge("redis_memory_used_bytes", m.usedMemory, "Heap in use")
        gauge("redis_memory_used_rss_bytes", m.usedMemoryRSS, "Resident set size")
        gauge("redis_memory_used_peak_bytes", m.usedMemoryPeak, "Largest heap in use seen")
        gauge("redis_memory_max_bytes", m.maxMemory, "maxmemory (the hot cache's budget when set)")
        counter("redis_commands_processed_total", m.commandsProcessed, "Commands processed")
        counter("redis_connections_received_total", m.connectionsReceived, "Connections accepted")
        counter("redis_rejected_connections_total", m.rejectedConnections, "Connections refused (maxclients)")
        counter("redis_keyspace_hits_total", m.keyspaceHits, "Key lookups that found the key")
        counter("redis_keyspace_misses_total", m.keyspaceMisses, "Key lookups that did not")
        counter("redis_expired_keys_total", m.expiredKeys, "Keys deleted by expiry")
        counter("redis_evicted_keys_total", 0, "Keys deleted for memory (never, in Lode)")
        counter("redis_net_input_bytes_total", m.netInputBytes, "Bytes read from clients")
        counter("redis_net_output_bytes_total", m.netOutputBytes, "Bytes written to clients")
        counter("redis_cpu_user_seconds_total", m.cpuUserSeconds, "User CPU time")
        counter("redis_cpu_sys_seconds_total", m.cpuSystemSeconds, "System CPU time")
        gauge("redis_pubsub_channels", m.pubsubChannels, "Channels with subscribers")
        gauge("redis_pubsub_patterns", m.pubsubPatterns, "Subscribed patterns")
        gauge("redis_slowlog_length", m.slowlogLength, "SLOWLOG entries")
        for db in m.databases {
            gauge("redis_db_keys", db.keys, "Keys per database", [("db", "db\(db.db)")])
            gauge("redis_db_keys_expiring", db.expires, "Keys with an expiry per database", [("db", "db\(db.db)")])
        }
        for c in m.commands {
            let labels = [("cmd", c.name)]
            counter("redis_commands_total", c.calls, "Calls per command", labels)
            counter("redis_commands_duration_seconds_total", Double(c.microseconds) / 1e6, "Time spent per command", labels)
            counter("redis_commands_failed_calls_total", c.failed, "Calls that replied with an error", labels)
            counter("redis_commands_rejected_calls_total", c.rejected, "Calls refused before running", labels)
        }
        for e in m.errors { counter("redis_errors_total", e.count, "Error replies per error code", [("err", e.code)]) }
        let lookups = m.cacheHits + m.cacheMisses
        gauge("lode_cache_hit_ratio", lookups == 0 ? 0 : Double(m.cacheHits) / Double(lookups), "Hot cache hits per lookup")
        counter("lode_cache_hits_total", m.cacheHits, "Hot cache hits")
        counter("lode_cache_misses_total", m.cacheMisses, "Hot cache misses (read from LMDB)")
        gauge("lode_cache_used_bytes", m.cacheUsedBytes, "Bytes the hot cache holds")
        gauge("lode_cache_max_bytes", m.cacheMaxBytes, "The hot cache's budget")
        gauge("lode_cache_keys", m.cacheKeys, "Keys in the hot cache")
        gauge("lode_lmdb_used_bytes", m.lmdbUsedBytes, "Bytes of the LMDB file up to its last used page")
        gauge("lode_lmdb_free_bytes", m.lmdbFreeBytes, "Bytes of free pages below the last used page (reused first)")
        gauge("lode_lmdb_file_bytes", m.lmdbFileBytes, "Size of data.mdb on disk (lode-dump compact shrinks it)")
        gauge("lode_lmdb_map_size_bytes", m.lmdbMapSize, "The largest the LMDB file may grow (lmdb-map-size)")
        gauge("lode_sweeper_backlog", m.sweeperBacklog, "Deleted collections whose elements wait to be reclaimed")
        counter("lode_lmdb_commits_total", m.commits, "LMDB write transactions committed")
        counter("lode_fsyncs_total", m.syncs, "fsyncs that made commits durable")
        counter("lode_storage_errors_total", m.storageErrors, "Writes that failed in storage (disk or map full)")
        var out = r.emitToBuffer()
        durable.emit(into: &out)
        return out
    }
}
