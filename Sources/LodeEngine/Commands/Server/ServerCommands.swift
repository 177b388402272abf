import LodeRESP
import LodeStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Server introspection and administration: INFO, TIME, SHUTDOWN.
enum ServerCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "info": info,
        "time": time,
        "shutdown": shutdown,
    ]

    // MARK: INFO

    /// INFO memory's scripting lines (Redis 7.0's names; the caches' sizes are
    /// their code's bytes).
    static func scriptMemory(_ s: ServerState) -> [String] {
        let scripts = s.scripts
        let eval = scripts.evalInterpreter?.usedMemory ?? 0
        let functions = scripts.functions.usedMemory
        let evalCache = scripts.evalCacheBytes, functionCache = scripts.functionCodeBytes
        return ["used_memory_lua:\(eval)", "used_memory_vm_eval:\(eval)", "used_memory_lua_human:\(human(eval))",
                "used_memory_scripts_eval:\(evalCache)", "number_of_cached_scripts:\(scripts.scripts.count)",
                "number_of_functions:\(scripts.functions.current.functions.count)",
                "number_of_libraries:\(scripts.functions.current.libraries.count)",
                "used_memory_vm_functions:\(functions)", "used_memory_vm_total:\(eval + functions)",
                "used_memory_vm_total_human:\(human(eval + functions))", "used_memory_functions:\(functionCache)",
                "used_memory_scripts:\(evalCache + functionCache)", "used_memory_scripts_human:\(human(evalCache + functionCache))"]
    }

    static func info(_ c: inout CommandContext) throws(CommandError) {
        // Redis's sections in its order; "default" leaves out commandstats and latencystats.
        let all = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats",
                   "errorstats", "latencystats", "cluster", "keyspace"]
        let defaults = all.filter { $0 != "commandstats" && $0 != "latencystats" }
        var wanted = Set<String>()
        if c.args.count == 1 {
            wanted = Set(defaults)
        } else {
            for i in 1..<c.args.count {
                let s = c.string(i).lowercased()
                if s == "all" || s == "everything" {
                    wanted.formUnion(all)
                } else if s == "default" {
                    wanted.formUnion(defaults)
                } else {
                    wanted.insert(s)
                }
            }
        }
        var sections: [String] = []
        for name in all where wanted.contains(name) {
            sections.append(infoSection(name, &c))
        }
        c.out.writeVerbatim(sections.joined(separator: "\r\n"), version: c.resp)
    }

    static func human(_ bytes: Int) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var v = Double(bytes)
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        if i == 0 { return "\(bytes)B" }
        let rounded = (v * 100).rounded() / 100
        return "\(rounded)\(units[i])"
    }

    static func infoSection(_ name: String, _ c: inout CommandContext) -> String {
        let s = c.server
        let now = c.now
        var lines: [String] = []
        switch name {
        case "server":
            let uptime = Int(now - s.startedAt) / 1000
            lines = ["# Server",
                     "redis_version:\(LodeVersion.redisCompatible)",
                     "lode_version:\(LodeVersion.lode)",
                     "redis_git_sha1:00000000", "redis_git_dirty:0", "redis_build_id:0",
                     "redis_mode:standalone", "os:Linux", "arch_bits:64", "multiplexing_api:epoll",
                     "process_id:\(getpid())", "run_id:\(s.runID)",
                     "tcp_port:\(s.config.port)", "server_time_usec:\(currentTimeMicros())",
                     "uptime_in_seconds:\(uptime)", "uptime_in_days:\(uptime / 86400)",
                     "hz:\(s.config.hz)", "executable:\(CommandLine.arguments.first ?? "")",
                     "config_file:\(s.configFile ?? "")"]
        case "clients":
            let maxOutput = s.clients.values.map(\.outputBytes).max() ?? 0
            lines = ["# Clients", "connected_clients:\(s.clients.count)", "cluster_connections:0",
                     "maxclients:\(s.config.maxClients)", "client_recent_max_input_buffer:0",
                     "client_recent_max_output_buffer:\(maxOutput)", "blocked_clients:\(s.blockedCount)",
                     "tracking_clients:\(s.tracking.trackingClients)", "clients_in_timeout_table:0"]
        case "memory":
            // used_memory is the heap (glibc's allocator), as Redis's zmalloc count; the
            // resident set also holds the LMDB file's mapped pages (used_memory_rss_file).
            let m = MemoryOverhead(s), heap = m.heap, rss = m.rss
            let space = s.store.space()
            lines = ["# Memory", "used_memory:\(heap)", "used_memory_human:\(human(heap))",
                     "used_memory_rss:\(rss)", "used_memory_rss_human:\(human(rss))",
                     "used_memory_peak:\(m.peak)", "used_memory_peak_human:\(human(m.peak))",
                     "used_memory_overhead:\(m.overhead)", "used_memory_startup:\(m.startup)",
                     "used_memory_dataset:\(m.dataset)", "allocator_allocated:\(heap)", "allocator_active:\(m.reserved)",
                     "allocator_resident:\(m.anonymousResident)",
                     "mem_fragmentation_ratio:\(String(format2: m.fragmentation))",
                     "mem_fragmentation_bytes:\(m.anonymousResident - heap)", "mem_clients_normal:\(m.clients)",
                     "used_memory_rss_file:\(m.fileBacked)",
                     "maxmemory:\(s.config.maxMemory)", "maxmemory_human:\(human(s.config.maxMemory))",
                     "maxmemory_policy:\(s.config.inertValue("maxmemory-policy"))", "mem_allocator:libc",
                     // Deleted collections the sweeper has yet to reclaim, and those it has.
                     "lazyfree_pending_objects:\((try? s.store.garbageCount()) ?? 0)",
                     "lazyfreed_objects:\(s.store.sweptVersions)",
                     "cache_used_bytes:\(s.store.cache.usedBytes)", "cache_max_bytes:\(s.store.cache.capacity)",
                     "cache_keys:\(s.store.cache.count)", "cache_eviction_policy:\(s.store.cache.policy.rawValue)",
                     "cache_ghost_keys:\(s.store.cache.ghostCount)",
                     "lmdb_map_size:\(s.store.env.info().mapSize)", "lmdb_file_bytes:\(space.fileBytes)",
                     "lmdb_used_bytes:\(space.highWaterBytes)", "lmdb_free_bytes:\(space.freeBytes)",
                     "lmdb_data_bytes:\(space.dataBytes)",
                     "lmdb_element_entries:\((try? s.store.elementEntryCount()) ?? 0)",
                     "lmdb_garbage_versions:\((try? s.store.garbageCount()) ?? 0)",
                     "sweeper_swept_entries:\(s.store.sweptEntries)"] + scriptMemory(s)
        case "persistence":
            lines = ["# Persistence", "loading:0", "async_loading:0"] + s.rdbSaves.infoLines(s) + [
                     "aof_enabled:1", "aof_rewrite_in_progress:0",
                     "aof_last_write_status:\(s.stats.storageErrors == 0 && s.persistenceFailure == nil ? "ok" : "err")",
                     "appendfsync:\(s.config.appendFsync.rawValue)", "log_records:\(s.stats.commits)",
                     "log_syncs:\(s.stats.syncs)", "lmdb_commits:\(s.stats.windowCommits)",
                     "lmdb_pending_records:\(s.store.loggedSequence - s.store.committedSequence)",
                     // 1 while LMDB's open transaction holds writes (logged or the sweeper's).
                     "lmdb_window_open:\(s.store.hasPendingWrites ? 1 : 0)",
                     "storage_errors:\(s.stats.storageErrors)"]
        case "stats":
            let hits = s.store.cache.hits, misses = s.store.cache.misses
            let ratio = hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses)
            lines = ["# Stats", "total_connections_received:\(s.stats.totalConnectionsReceived)",
                     "total_commands_processed:\(s.stats.totalCommandsProcessed)", "instantaneous_ops_per_sec:0",
                     "total_net_input_bytes:\(s.stats.totalNetInputBytes)", "total_net_output_bytes:\(s.stats.totalNetOutputBytes)",
                     "rejected_connections:\(s.stats.rejectedConnections)", "sync_full:\(s.stats.fullSyncs)",
                     "sync_partial_ok:0", "sync_partial_err:0", "expired_keys:\(s.stats.expiredKeys)",
                     "evicted_keys:0", "keyspace_hits:\(s.stats.keyspaceHits)", "keyspace_misses:\(s.stats.keyspaceMisses)",
                     "pubsub_channels:\(s.pubsub.activeChannels(shard: false).count)",
                     "pubsub_patterns:\(s.pubsub.patternCount)",
                     "pubsubshard_channels:\(s.pubsub.activeChannels(shard: true).count)",
                     "migrate_cached_sockets:\(s.migrateConnections.count)",
                     "tracking_total_keys:\(s.tracking.keyCount)", "tracking_total_items:\(s.tracking.totalItems)",
                     "tracking_total_prefixes:\(s.tracking.prefixes.count)",
                     "total_error_replies:\(s.commandStats.totalErrorReplies)", "unexpected_error_replies:0",
                     "cache_hits:\(hits)", "cache_misses:\(misses)", "cache_evictions:\(s.store.cache.evictions)",
                     "cache_hit_ratio:\(String(format3: ratio))"]
        case "replication":
            lines = ["# Replication", "role:master", "connected_slaves:0", "master_failover_state:no-failover",
                     "master_replid:\(s.replicationID)", "master_replid2:" + String(repeating: "0", count: 40),
                     "master_repl_offset:0", "second_repl_offset:-1", "repl_backlog_active:0",
                     "repl_backlog_size:\(s.config.inertValue("repl-backlog-size"))", "repl_backlog_first_byte_offset:0",
                     "repl_backlog_histlen:0"]
        case "modules":
            lines = ["# Modules"]
        case "commandstats":
            lines = ["# Commandstats"] + s.commandStats.commandLines
        case "errorstats":
            lines = ["# Errorstats"] + s.commandStats.errorLines
        case "latencystats":
            let percentiles = s.config.inertValue("latency-tracking-info-percentiles").split(separator: " ").compactMap { Double($0) }
            lines = ["# Latencystats"] + s.commandStats.latencyLines(percentiles: percentiles)
        case "cluster":
            lines = ["# Cluster", "cluster_enabled:0"]
        case "cpu":
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            let sys = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            lines = ["# CPU", "used_cpu_sys:\(String(format3: sys))", "used_cpu_user:\(String(format3: user))"]
        case "keyspace":
            lines = ["# Keyspace"]
            lines += s.databaseCounts().map { "db\($0.db):keys=\($0.keys),expires=\($0.expires),avg_ttl=0" }
        default:
            return ""
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: misc

    static func time(_ c: inout CommandContext) throws(CommandError) {
        let us = currentTimeMicros()
        c.out.writeArrayHeader(2)
        c.out.writeBulk(string: String(us / 1_000_000))
        c.out.writeBulk(string: String(us % 1_000_000))
    }

    static func shutdown(_ c: inout CommandContext) throws(CommandError) {
        for i in 1..<max(1, c.args.count) {
            guard c.argIs(i, "nosave") || c.argIs(i, "save") || c.argIs(i, "now") || c.argIs(i, "force") else {
                if c.argIs(i, "abort") { throw CommandError("ERR No shutdown in progress.") }
                throw .syntax
            }
        }
        if c.server.scripts.isBusy {
            // Only NOSAVE may stop a server whose script runs: its writes are dropped.
            guard (1..<c.args.count).contains(where: { c.argIs($0, "nosave") }) else {
                throw CommandError(c.server.scripts.busyError)
            }
            c.server.scripts.abandon()
        }
        c.server.logger.notice("User requested shutdown...")
        // A final dump.rdb: asked for, or by the `save` points unless NOSAVE (Redis's finishShutdown).
        let words = (1..<max(1, c.args.count)).map { c.string($0).lowercased() }
        if words.contains("save") || (!words.contains("nosave") && !c.server.config.inertValue("save").isEmpty) {
            c.server.logger.notice("Saving the final RDB snapshot before exiting.")
            if !c.server.rdbSaves.saveNow(c.server) && !words.contains("force") {
                throw CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
            }
        }
        c.client.connection.closeAfterReply()
        c.server.shutdownRequested?()
    }
}

extension String {
    init(format3 v: Double) {
        let scaled = (v * 1000).rounded() / 1000
        self = "\(scaled)"
    }
}
