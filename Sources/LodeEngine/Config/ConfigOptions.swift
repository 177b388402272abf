import Foundation
import LodeStore

extension Configuration {
    /// Every option: Lode's implementation of a Redis parameter where Lode acts on it,
    /// Lode's own options, and every other Redis 7.0 parameter as an inert one; then
    /// the aliases Redis keeps (slaveof, *-ziplist-*, lua-time-limit, ...).
    static let options: [ConfigOption] = {
        let implemented = implementedOptions
        let byName = Dictionary(uniqueKeysWithValues: implemented.map { ($0.name, $0) })
        var all: [ConfigOption] = []
        for spec in RedisConfigSpec.all {
            let option = byName[spec.name] ?? (specialInert[spec.name] ?? inertOption(spec))
            all.append(option)
            if let alias = spec.alias { all.append(option.alias(alias)) }
        }
        all += lodeOptions
        return all
    }()

    static let optionsByName: [String: ConfigOption] = Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0) })

    /// Redis parameters Lode acts on.
    private static let implementedOptions: [ConfigOption] = [
        ConfigOption(name: "bind", spec: spec("bind"), mutable: true, get: { $0.bind.joined(separator: " ") }) { c, args in
            guard args.count <= 16 else { return "Too many bind addresses specified." }
            let addresses = args.filter { !$0.isEmpty }
            guard !addresses.isEmpty else { return "Lode listens on TCP only: bind needs at least one address" }
            c.bind = addresses
            return nil
        },
        redisInt("port", \.port),
        redisBool("protected-mode", \.protectedMode),
        redisInt("tcp-backlog", \.tcpBacklog),
        redisInt("timeout", \.timeout),
        redisInt("tcp-keepalive", \.tcpKeepalive),
        redisBool("daemonize", \.daemonize),
        redisString("pidfile", \.pidFile),
        redisString("supervised", \.supervised),
        redisString("loglevel", \.logLevel),
        redisString("logfile", \.logFile),
        redisInt("databases", limit: 1...255, \.databases),
        // Redis keeps hz within 1...500 whatever CONFIG SET asked (updateHZ).
        redis("hz", get: { String($0.hz) }) { c, text in
            c.hz = min(max(Int(text) ?? 10, 1), 500)
            return nil
        },
        redisString("requirepass", \.requirePass),
        redisString("enable-protected-configs", \.enableProtectedConfigs),
        redisString("enable-debug-command", \.enableDebugCommand),
        ConfigOption(name: "dir", spec: spec("dir"), mutable: false, get: { absolutePath($0.dir) }) { c, args in
            guard args.count == 1, !args[0].isEmpty else { return "wrong number of arguments" }
            c.dir = args[0]
            return nil
        },
        redis("appendfsync", get: { $0.appendFsync.rawValue }) { c, text in
            c.appendFsync = FsyncPolicy(rawValue: text)!
            return nil
        },
        redisInt("maxclients", \.maxClients),
        redisInt("proto-max-bulk-len", \.protoMaxBulkLength),
        ConfigOption(name: "client-output-buffer-limit", spec: spec("client-output-buffer-limit"), mutable: true,
                     get: { $0.clientOutputBufferLimits.text }) { c, args in
            c.clientOutputBufferLimits.apply(args)
        },
        redisInt("tracking-table-max-keys", \.trackingTableMaxKeys),
        redisInt("hll-sparse-max-bytes", \.hllSparseMaxBytes),
        ConfigOption(name: "notify-keyspace-events", spec: spec("notify-keyspace-events"), mutable: true,
                     get: { $0.notifyKeyspaceEvents.text }) { c, args in
            guard args.count == 1 else { return "wrong number of arguments" }
            guard let flags = KeyspaceEventFlags(parsing: args[0]) else {
                return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
            }
            c.notifyKeyspaceEvents = flags
            return nil
        },
        // Printed as set (up to 2^64-1), used as a byte budget (anything past Int.max is "no limit").
        redis("maxmemory", get: { $0.inertValue("maxmemory") }) { c, text in
            c.inert["maxmemory"] = text
            c.maxMemory = Int(clamping: UInt64(text) ?? 0)
            return nil
        },
        redisInt("busy-reply-threshold", \.busyReplyThreshold),
        redisInt("slowlog-log-slower-than", \.slowlogLogSlowerThan),
        redisInt("slowlog-max-len", \.slowlogMaxLen),
        redisInt("latency-monitor-threshold", \.latencyMonitorThreshold),
        redisBool("latency-tracking", \.latencyTracking),
        redisInt("stream-node-max-bytes", \.streamNodeMaxBytes),
        redisInt("stream-node-max-entries", \.streamNodeMaxEntries),
        // Every acknowledged write is in Lode's commit log and LMDB whatever this
        // says: "no" is accepted (redis.conf files carry it) and changes nothing.
        redis("appendonly", get: { _ in "yes" }),
        // Features Lode does not have yet: the default is accepted, anything else refused
        // rather than pretending (TLS and ACLs are the security issue's, cluster later).
        refusingAllBut("0", "tls-port", "Lode has no TLS support yet"),
        refusingAllBut("no", "cluster-enabled", "Lode has no cluster mode"),
        // Redis's own refusals when it cannot do what is asked, which hold for Lode too:
        // no TLS to configure, no jemalloc to defragment.
        refusingAllBut("no", "tls-replication", "Unable to update TLS configuration. Check server logs."),
        refusingAllBut("no", "tls-cluster", "Unable to update TLS configuration. Check server logs."),
        refusingAllBut("no", "activedefrag", "Active defragmentation cannot be enabled: it requires a Redis server compiled "
                       + "with a modified Jemalloc like the one shipped by default with the Redis source distribution"),
        // Redis's replication backlog is never below 16 kB (resizeReplicationBacklog).
        redis("repl-backlog-size", get: { $0.inertValue("repl-backlog-size") }) { c, text in
            c.inert["repl-backlog-size"] = String(max(UInt64(text) ?? 0, 16384))
            return nil
        },
        refusingAllBut("", "unixsocket", "Lode listens on TCP only (no Unix socket support yet)"),
    ]

    /// A Redis parameter Lode accepts only at its default value.
    private static func refusingAllBut(_ accepted: String, _ name: String, _ reason: String) -> ConfigOption {
        redis(name, get: { $0.inertValue(name) }) { c, text in
            guard text == accepted else { return reason }
            c.inert[name] = text
            return nil
        }
    }

    /// Lode's own options.
    private static let lodeOptions: [ConfigOption] = [
        lodeInt("cache-max-memory", range: 1 << 20...Int.max, memory: true, \.cacheMaxMemory),
        ConfigOption(name: "cache-eviction-policy", spec: nil, mutable: true, get: { $0.cacheEvictionPolicy.rawValue }) { c, args in
            let values = EvictionPolicy.allCases.map(\.rawValue)
            guard args.count == 1, let policy = EvictionPolicy(rawValue: args[0].lowercased()) else {
                return "argument(s) must be one of the following: " + values.joined(separator: ", ")
            }
            c.cacheEvictionPolicy = policy
            return nil
        },
        ConfigOption(name: "lmdb-map-size", spec: nil, mutable: false, get: { String($0.lmdbMapSize) }) { c, args in
            guard args.count == 1, let v = parseMemory(args[0]) else { return "argument must be a memory value" }
            guard v >= 1 << 24 else { return "argument must be between \(1 << 24) and \(Int.max) inclusive" }
            c.lmdbMapSize = v
            return nil
        },
        lodeInt("string-chunk-size", range: 1...(64 << 20), \.stringChunkSize),
        lodeInt("commit-window-ms", range: 1...10_000, \.commitWindowMillis),
        lodeInt("commit-window-bytes", range: 1 << 16...Int.max, memory: true, \.commitWindowBytes),
        lodeInt("lua-memory-limit", range: 1 << 20...Int.max, memory: true, \.luaMemoryLimit),
        lodeInt("metrics-port", range: 0...65535, \.metricsPort).fixed(),
        ConfigOption(name: "metrics-bind", spec: nil, mutable: false, get: { $0.metricsBind }) { c, args in
            guard args.count == 1, !args[0].isEmpty else { return "wrong number of arguments" }
            c.metricsBind = args[0]
            return nil
        },
    ]

    /// Redis's special parameters Lode accepts without acting on them: their own syntax.
    private static let specialInert: [String: ConfigOption] = [
        "save": inertSpecial("save") { args in
            let words = args == [""] ? [] : args
            guard words.count % 2 == 0 else { return .failure("Invalid save parameters") }
            for (i, word) in words.enumerated() {
                guard let v = Int(word), i % 2 == 0 ? v >= 1 : v >= 0 else { return .failure("Invalid save parameters") }
            }
            return .success(words.map { String(Int($0)!) }.joined(separator: " "))
        },
        "oom-score-adj-values": inertSpecial("oom-score-adj-values") { args in
            guard args.count == 3 else { return .failure("wrong number of arguments") }
            let values = args.compactMap { Int($0) }
            guard values.count == 3, values.allSatisfy({ (-2000...2000).contains($0) }) else {
                return .failure("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
            }
            return .success(values.map(String.init).joined(separator: " "))
        },
        // Lode does not replicate yet (an open issue): naming a master is refused
        // rather than pretending; "replicaof no one" is what every server already is.
        "replicaof": inertSpecial("replicaof") { args in
            guard args.count == 2 else { return .failure("wrong number of arguments") }
            if args[0].lowercased() == "no" && args[1].lowercased() == "one" { return .success("") }
            guard let port = Int(args[1]), (0...65535).contains(port) else { return .failure("Invalid master port") }
            return .failure("Lode cannot be a replica yet: replication is not implemented")
        },
        "latency-tracking-info-percentiles": inertSpecial("latency-tracking-info-percentiles") { args in
            let words = args == [""] ? [] : args
            var printed: [String] = []
            for word in words {
                guard let v = Double(word), v.isFinite else {
                    return .failure("Invalid latency-tracking-info-percentiles parameters")
                }
                guard (0...100).contains(v) else {
                    return .failure("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
                }
                printed.append(v == v.rounded() ? String(Int(v)) : String(v))
            }
            return .success(printed.joined(separator: " "))
        },
    ]

    private static func inertSpecial(_ name: String,
                                     parse: @escaping @Sendable ([String]) -> Result<String, ConfigValueError>) -> ConfigOption {
        inertOption(spec(name), parse: parse)
    }

    /// `dir` as CONFIG GET prints it in Redis: the absolute directory.
    public static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
