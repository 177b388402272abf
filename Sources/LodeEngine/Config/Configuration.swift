import LodeRESP
import LodeStore
import Logging

/// Lode's settings. Every Redis 7.0 parameter is known (RedisConfigSpec, generated
/// from Redis's config.c); the ones that drive Lode have a typed field here, the others
/// are kept as text in `inert` and change nothing (default.conf says why for each).
/// `Configuration.options` drives the config-file parser, `--option` arguments,
/// CONFIG GET/SET/REWRITE and default.conf (a test checks default.conf lists them all).
public struct Configuration: Sendable {
    // Network
    public var bind: [String] = ["127.0.0.1"]
    public var port = 6379
    public var protectedMode = true
    public var tcpBacklog = 511
    /// Close a client idle for this many seconds (0 = never), as Redis's `timeout`.
    public var timeout = 0
    /// SO_KEEPALIVE with this idle time in seconds on client sockets (0 = off).
    public var tcpKeepalive = 300
    // General
    public var daemonize = false
    public var pidFile = ""
    public var supervised = "no"
    public var logLevel = "notice"
    public var logFile = ""
    public var databases = 16
    public var hz = 10
    // Security
    public var requirePass = ""
    public var enableProtectedConfigs = "no"
    /// `rename-command OLD NEW` lines of the config file, in order ("" removes OLD).
    public var renamedCommands: [CommandRename] = []
    public var enableDebugCommand = "no"
    // Persistence: where the data lives and when acknowledged writes reach the disk
    public var dir = "./data"
    public var appendFsync = FsyncPolicy.everysec
    // Clients and limits
    public var maxClients = 10000
    public var protoMaxBulkLength = 512 << 20
    public var clientOutputBufferLimits = OutputBufferLimits()
    public var trackingTableMaxKeys = 1_000_000
    public var notifyKeyspaceEvents: KeyspaceEventFlags = []
    /// A sparse HyperLogLog longer than this becomes dense (Redis's hll-sparse-max-bytes).
    public var hllSparseMaxBytes = 3000
    // Memory: maxmemory bounds the hot cache (never deletes data)
    public var maxMemory = 0
    public var cacheMaxMemory = 512 << 20
    public var cacheEvictionPolicy = EvictionPolicy.s3fifo
    public var lmdbMapSize = 1 << 40
    /// Strings longer than this are stored in chunks of this many bytes (Store+Strings.swift).
    public var stringChunkSize = Store.defaultStringChunkSize
    /// LMDB commits its open transaction at most this often, or once this much was
    /// logged since its last commit (Store+Window.swift; the commit log is durable meanwhile).
    public var commitWindowMillis = 200
    public var commitWindowBytes = 64 << 20
    // Streams: Redis's listpack node limits, which decide approximate trimming
    public var streamNodeMaxBytes = 4096
    public var streamNodeMaxEntries = 100
    // Scripting
    public var busyReplyThreshold = 5000
    public var luaMemoryLimit = 256 << 20
    // Observability
    public var slowlogLogSlowerThan = 10000
    public var slowlogMaxLen = 128
    public var latencyMonitorThreshold = 0
    public var latencyTracking = true
    /// The Prometheus endpoint (Lode's own): off at port 0.
    public var metricsPort = 0
    public var metricsBind = "127.0.0.1"
    /// The values of the Redis parameters Lode accepts without acting on them, by
    /// name, as CONFIG GET prints them; a parameter not here has its default.
    /// Lode has no snapshots yet, so its schedule starts empty rather than at Redis's default.
    var inert: [String: String] = ["save": ""]

    public init() {}

    public enum FsyncPolicy: String, Sendable {
        case always, everysec, no
    }

    /// The swift-log level for Redis's loglevel names.
    public var swiftLogLevel: Logger.Level {
        switch logLevel {
        case "debug": return .debug
        case "verbose": return .info
        case "notice": return .notice
        default: return .warning
        }
    }

    /// The hot cache's budget: `maxmemory` when set (a Redis user's RAM budget; at
    /// least 1 MB), otherwise `cache-max-memory`.
    public var cacheBudget: Int { maxMemory > 0 ? max(maxMemory, 1 << 20) : cacheMaxMemory }

    /// The value of a parameter Lode accepts but does not act on.
    func inertValue(_ name: String) -> String { inert[name] ?? RedisConfigSpec.byName[name]?.defaultText ?? "" }
}

/// One configuration parameter: its name, how CONFIG GET prints it, how a value is
/// checked and applied, and whether CONFIG SET may change it at run time.
struct ConfigOption: Sendable {
    let name: String
    /// Redis's declaration of it; nil for Lode's own options (cache-*, lmdb-*, lua-memory-limit).
    let spec: RedisConfigSpec?
    /// False when Redis calls it immutable, or when Lode fixes it at start-up.
    let mutable: Bool
    let get: @Sendable (Configuration) -> String
    /// Returns Redis's error message, or nil when the value was applied.
    let set: @Sendable (inout Configuration, [String]) -> String?
    /// The canonical name, when this entry is an alias (slaveof -> replicaof).
    var aliasOf: String? = nil

    var flags: RedisConfigSpec.Flags { spec?.flags ?? [] }

    /// The same option, fixed once the server runs (CONFIG SET may only repeat its value).
    func fixed() -> ConfigOption {
        ConfigOption(name: name, spec: spec, mutable: false, get: get, set: set, aliasOf: aliasOf)
    }

    func alias(_ name: String) -> ConfigOption {
        ConfigOption(name: name, spec: spec, mutable: mutable, get: get, set: set, aliasOf: self.name)
    }
}

extension Configuration {
    /// Lode's memory sizes: Redis's units plus t/tb (for lmdb-map-size).
    static func parseMemory(_ s: String) -> Int? {
        let lower = s.lowercased()
        for (suffix, mult) in [("tb", 1 << 40), ("t", 1_000_000_000_000)] where lower.hasSuffix(suffix) {
            guard let n = Int(lower.dropLast(suffix.count)), n >= 0 else { return nil }
            let (r, o) = n.multipliedReportingOverflow(by: mult)
            return o ? nil : r
        }
        guard let v = RedisConfigSpec.memtoull(s), v <= UInt64(Int.max) else { return nil }
        return Int(v)
    }

    static func spec(_ name: String) -> RedisConfigSpec {
        guard let spec = RedisConfigSpec.byName[name] else { preconditionFailure("\(name) is not a Redis 7.0 parameter") }
        return spec
    }

    /// A Redis parameter that Lode implements: Redis's validation, then `apply` with
    /// the value as CONFIG GET prints it. `fixed` marks one Lode cannot change at
    /// run time although Redis can (port, bind, dir).
    static func redis(_ name: String, fixed: Bool = false, get: @escaping @Sendable (Configuration) -> String,
                      apply: @escaping @Sendable (inout Configuration, String) -> String? = { _, _ in nil }) -> ConfigOption {
        let spec = spec(name)
        return ConfigOption(name: name, spec: spec, mutable: !fixed && !spec.flags.contains(.immutable), get: get) { c, args in
            switch spec.parse(args) {
            case .failure(let error): return error.message
            case .success(let text): return apply(&c, text)
            }
        }
    }

    static func redisInt(_ name: String, fixed: Bool = false, limit: ClosedRange<Int>? = nil,
                         _ kp: WritableKeyPath<Configuration, Int> & Sendable) -> ConfigOption {
        let spec = spec(name)
        return redis(name, fixed: fixed, get: { spec.kind.format($0[keyPath: kp]) }) { c, text in
            guard let n = spec.number(text) else { return "argument couldn't be parsed into an integer" }
            // Unsigned values past Int.max (maxmemory up to 2^64-1) mean "no limit" here.
            let v = spec.isUnsigned ? Int(clamping: UInt64(bitPattern: n)) : Int(n)
            if let limit, !limit.contains(v) {  // Lode's narrower range, in Redis's words
                return "argument must be between \(limit.lowerBound) and \(limit.upperBound) inclusive"
            }
            c[keyPath: kp] = v
            return nil
        }
    }

    static func redisBool(_ name: String, fixed: Bool = false, _ kp: WritableKeyPath<Configuration, Bool> & Sendable) -> ConfigOption {
        redis(name, fixed: fixed, get: { $0[keyPath: kp] ? "yes" : "no" }) { c, text in
            c[keyPath: kp] = text == "yes"
            return nil
        }
    }

    static func redisString(_ name: String, fixed: Bool = false, _ kp: WritableKeyPath<Configuration, String> & Sendable) -> ConfigOption {
        redis(name, fixed: fixed, get: { $0[keyPath: kp] }) { c, text in
            c[keyPath: kp] = text
            return nil
        }
    }

    /// A Redis parameter Lode accepts, validates and reports, with no effect: checked by
    /// its spec, or by `parse` for one with a syntax of its own (save, replicaof, ...).
    static func inertOption(_ spec: RedisConfigSpec,
                            parse: (@Sendable ([String]) -> Result<String, ConfigValueError>)? = nil) -> ConfigOption {
        let name = spec.name
        let check = parse ?? { spec.parse($0) }
        return ConfigOption(name: name, spec: spec, mutable: !spec.flags.contains(.immutable), get: { $0.inertValue(name) }) { c, args in
            switch check(args) {
            case .failure(let error): return error.message
            case .success(let text):
                c.inert[name] = text
                return nil
            }
        }
    }

    /// One of Lode's own options (no Redis counterpart): a size or a count.
    static func lodeInt(_ name: String, range: ClosedRange<Int>, memory: Bool = false,
                        _ kp: WritableKeyPath<Configuration, Int> & Sendable) -> ConfigOption {
        ConfigOption(name: name, spec: nil, mutable: true, get: { String($0[keyPath: kp]) }) { c, args in
            guard args.count == 1 else { return "wrong number of arguments" }
            guard let v = memory ? parseMemory(args[0]) : Int(args[0]) else {
                return memory ? "argument must be a memory value" : "argument couldn't be parsed into an integer"
            }
            guard range.contains(v) else { return "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive" }
            c[keyPath: kp] = v
            return nil
        }
    }
}

extension RedisConfigSpec.Kind {
    /// How CONFIG GET prints a numeric value of this parameter.
    func format(_ value: Int) -> String {
        if case .numeric(_, _, _, _, let style) = self { return RedisConfigSpec.format(Int64(value), style) }
        return String(value)
    }
}

extension RedisConfigSpec {
    var isUnsigned: Bool {
        if case .numeric(let unsigned, _, _, _, _) = kind { return unsigned }
        return false
    }
}

extension String {
    func trimmed(_ set: String) -> String {
        let chars = Set(set.unicodeScalars)
        var s = Substring(self).unicodeScalars
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}

/// One `rename-command` line: the command is found under `to` and no longer under
/// `from`; an empty `to` removes it (as Redis's config file does).
public struct CommandRename: Sendable, Equatable {
    public var from: String
    public var to: String
}
