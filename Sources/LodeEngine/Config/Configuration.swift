import LodeRESP
import LodeStore
import Logging

/// Lode's settings. Every option is declared once in `Configuration.options`, which
/// drives the config-file parser, `--option` arguments, CONFIG GET/SET and
/// default.conf (a test checks that default.conf lists exactly these options).
public struct Configuration: Sendable {
    public var bind: [String] = ["127.0.0.1"]
    public var port = 6379
    public var protectedMode = true
    public var requirePass = ""
    public var dir = "./data"
    public var databases = 16
    public var appendFsync = FsyncPolicy.everysec
    public var cacheMaxMemory = 512 << 20
    public var cacheEvictionPolicy = EvictionPolicy.s3fifo
    public var lmdbMapSize = 1 << 40
    public var protoMaxBulkLength = 512 << 20
    public var maxClients = 10000
    public var logLevel = "notice"
    public var logFile = ""
    public var hz = 10
    public var tcpBacklog = 511
    public var notifyKeyspaceEvents: KeyspaceEventFlags = []
    public var clientOutputBufferLimits = OutputBufferLimits()
    public var trackingTableMaxKeys = 1_000_000
    public var busyReplyThreshold = 5000
    /// Redis's encoding thresholds: accepted and reported, with no effect (Lode
    /// stores every collection element by element, whatever its size).
    public var encodings = EncodingThresholds()
    public var luaMemoryLimit = 256 << 20

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
        case "warning": return .warning
        default: return .critical  // "nothing"
        }
    }
}

/// One configuration option: its name, how to read and parse it, and whether
/// CONFIG SET may change it at run time (paths and sockets may not, as in Redis).
struct ConfigOption {
    let name: String
    let mutable: Bool
    let get: (Configuration) -> String
    /// Returns an error message, or nil when the value was applied.
    let set: (inout Configuration, [String]) -> String?
    /// Another name of option `aliasOf` (Redis keeps old names working this way).
    var aliasOf: String? = nil

    func alias(of name: String) -> ConfigOption {
        var copy = self
        copy.aliasOf = name
        return copy
    }
}

extension Configuration {
    static func yesNo(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "yes": return true
        case "no": return false
        default: return nil
        }
    }

    /// Redis's memtoll: plain bytes or k/kb/m/mb/g/gb (k = 1000, kb = 1024, …).
    static func parseMemory(_ s: String) -> Int? {
        let lower = s.lowercased()
        let units: [(String, Int)] = [("kb", 1024), ("k", 1000), ("mb", 1 << 20), ("m", 1_000_000),
                                      ("gb", 1 << 30), ("g", 1_000_000_000), ("tb", 1 << 40), ("b", 1)]
        for (suffix, mult) in units where lower.hasSuffix(suffix) {
            guard let n = Int(lower.dropLast(suffix.count)), n >= 0 else { return nil }
            let (r, o) = n.multipliedReportingOverflow(by: mult)
            return o ? nil : r
        }
        guard let n = Int(lower), n >= 0 else { return nil }
        return n
    }

    static func intOption(_ name: String, mutable: Bool, range: ClosedRange<Int>, memory: Bool = false,
                          _ kp: WritableKeyPath<Configuration, Int>) -> ConfigOption {
        ConfigOption(name: name, mutable: mutable, get: { String($0[keyPath: kp]) }, set: { c, args in
            guard args.count == 1 else { return "wrong number of arguments" }
            guard let v = memory ? parseMemory(args[0]) : Int(args[0]) else {
                return memory ? "argument must be a memory value" : "argument couldn't be parsed into an integer"
            }
            guard range.contains(v) else {
                return "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive"
            }
            c[keyPath: kp] = v
            return nil
        })
    }

    static func enumOption(_ name: String, mutable: Bool, values: [String],
                           get: @escaping (Configuration) -> String,
                           set: @escaping (inout Configuration, String) -> Void) -> ConfigOption {
        ConfigOption(name: name, mutable: mutable, get: get, set: { c, args in
            guard args.count == 1 else { return "wrong number of arguments" }
            let v = args[0].lowercased()
            guard values.contains(v) else { return "argument(s) must be one of the following: \(values.joined(separator: ", "))" }
            set(&c, v)
            return nil
        })
    }

    static let options: [ConfigOption] = [
        ConfigOption(name: "bind", mutable: false, get: { $0.bind.joined(separator: " ") }, set: { c, args in
            guard !args.isEmpty else { return "wrong number of arguments" }
            c.bind = args
            return nil
        }),
        intOption("port", mutable: false, range: 0...65535, \.port),
        ConfigOption(name: "protected-mode", mutable: true, get: { $0.protectedMode ? "yes" : "no" }, set: { c, args in
            guard args.count == 1, let b = yesNo(args[0]) else { return "argument must be 'yes' or 'no'" }
            c.protectedMode = b
            return nil
        }),
        ConfigOption(name: "requirepass", mutable: true, get: { $0.requirePass }, set: { c, args in
            guard args.count == 1 else { return "wrong number of arguments" }
            c.requirePass = args[0]
            return nil
        }),
        ConfigOption(name: "dir", mutable: false, get: { $0.dir }, set: { c, args in
            guard args.count == 1, !args[0].isEmpty else { return "wrong number of arguments" }
            c.dir = args[0]
            return nil
        }),
        intOption("databases", mutable: false, range: 1...255, \.databases),
        enumOption("appendfsync", mutable: true, values: ["everysec", "always", "no"],
                   get: { $0.appendFsync.rawValue }, set: { $0.appendFsync = FsyncPolicy(rawValue: $1)! }),
        intOption("cache-max-memory", mutable: true, range: 1 << 20...Int.max, memory: true, \.cacheMaxMemory),
        enumOption("cache-eviction-policy", mutable: true, values: EvictionPolicy.allCases.map(\.rawValue),
                   get: { $0.cacheEvictionPolicy.rawValue }, set: { $0.cacheEvictionPolicy = EvictionPolicy(rawValue: $1)! }),
        intOption("lmdb-map-size", mutable: false, range: 1 << 24...Int.max, memory: true, \.lmdbMapSize),
        intOption("proto-max-bulk-len", mutable: true, range: 1 << 20...Int.max, memory: true, \.protoMaxBulkLength),
        intOption("maxclients", mutable: true, range: 1...Int(Int32.max), \.maxClients),
        enumOption("loglevel", mutable: true, values: ["debug", "verbose", "notice", "warning", "nothing"],
                   get: { $0.logLevel }, set: { $0.logLevel = $1 }),
        ConfigOption(name: "logfile", mutable: false, get: { $0.logFile }, set: { c, args in
            guard args.count == 1 else { return "wrong number of arguments" }
            c.logFile = args[0]
            return nil
        }),
        intOption("hz", mutable: true, range: 1...500, \.hz),
        intOption("tcp-backlog", mutable: false, range: 0...65535, \.tcpBacklog),
        intOption("tracking-table-max-keys", mutable: true, range: 0...Int.max, \.trackingTableMaxKeys),
        intOption("busy-reply-threshold", mutable: true, range: 0...Int.max, \.busyReplyThreshold),
    ] + EncodingThresholds.options + [
        intOption("lua-time-limit", mutable: true, range: 0...Int.max, \.busyReplyThreshold).alias(of: "busy-reply-threshold"),
        intOption("lua-memory-limit", mutable: true, range: 1 << 20...Int.max, memory: true, \.luaMemoryLimit),
        ConfigOption(name: "client-output-buffer-limit", mutable: true, get: { $0.clientOutputBufferLimits.text }, set: { c, args in
            c.clientOutputBufferLimits.apply(args)
        }),
        ConfigOption(name: "notify-keyspace-events", mutable: true, get: { $0.notifyKeyspaceEvents.text }, set: { c, args in
            guard args.count == 1 else { return "wrong number of arguments" }
            guard let flags = KeyspaceEventFlags(parsing: args[0]) else {
                return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
            }
            c.notifyKeyspaceEvents = flags
            return nil
        }),
        // Compatibility: Lode stores every write in LMDB, so there is nothing to turn
        // on or off; clients such as redis-benchmark read these two.
        ConfigOption(name: "appendonly", mutable: false, get: { _ in "yes" }, set: { _, args in
            args == ["yes"] ? nil : "Lode always persists every write: only 'yes' is accepted"
        }),
        // Settable (to "" only) because tools and Redis's tests set it before they start.
        ConfigOption(name: "save", mutable: true, get: { _ in "" }, set: { _, args in
            args.isEmpty || args == [""] ? nil : "Lode has no snapshots (every write is on disk): only \"\" is accepted"
        }),
    ]

    /// The options whose CONFIG SET value is a list of words (Redis's MULTI_ARG_CONFIG).
    static let multiArgumentOptions: Set<String> = ["bind", "save", "client-output-buffer-limit"]

    static let optionsByName: [String: ConfigOption] = Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0) })
}

/// Reading configuration files and `--option value` arguments, with Redis's syntax
/// (one directive per line, `#` comments, quoted arguments).
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
}

extension Configuration {
    /// Parses a config file's text; errors name `path:line`.
    mutating func apply(fileText: String, path: String) throws {
        var lineNumber = 0
        for rawLine in fileText.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(rawLine).trimmed(" \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let words = splitInlineArguments(Array(line.utf8)) else {
                throw ConfigError(description: "\(path):\(lineNumber): unbalanced quotes in configuration line")
            }
            if words.isEmpty { continue }
            let name = String(decoding: words[0], as: UTF8.self).lowercased()
            let args = words.dropFirst().map { String(decoding: $0, as: UTF8.self) }
            if let message = applyDirective(name, args) {
                throw ConfigError(description: "\(path):\(lineNumber): '\(line)': \(message)")
            }
        }
    }

    /// Applies one directive; returns an error message or nil.
    mutating func applyDirective(_ name: String, _ args: [String]) -> String? {
        guard let option = Self.optionsByName[name] else { return "Bad directive or wrong number of arguments" }
        return option.set(&self, args)
    }

    /// `lode-server [config-file] [--name value ...]`, as redis-server.
    public static func fromCommandLine(_ arguments: [String], readFile: (String) throws -> String) throws -> Configuration {
        var config = Configuration()
        var rest = arguments[...]
        if let first = rest.first, !first.hasPrefix("--") {
            let text: String
            do { text = try readFile(first) } catch {
                throw ConfigError(description: "Fatal error, can't open config file '\(first)': \(error)")
            }
            try config.apply(fileText: text, path: first)
            rest = rest.dropFirst()
        }
        while let flag = rest.first {
            guard flag.hasPrefix("--"), flag.count > 2 else {
                throw ConfigError(description: "command line: unexpected argument '\(flag)' (options are --name value)")
            }
            rest = rest.dropFirst()
            var values: [String] = []
            while let v = rest.first, !v.hasPrefix("--") {
                values.append(v)
                rest = rest.dropFirst()
            }
            let name = String(flag.dropFirst(2)).lowercased()
            if let message = config.applyDirective(name, values) {
                throw ConfigError(description: "command line: '--\(name) \(values.joined(separator: " "))': \(message)")
            }
        }
        return config
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

/// Redis 7.0's encoding thresholds (config.c's names, ranges and defaults). Lode
/// has one layout for every size, so they change nothing; they exist so that
/// configuration files, tools and Redis's own tests that set them keep working.
public struct EncodingThresholds: Sendable {
    public var hashMaxListpackEntries = 128
    public var hashMaxListpackValue = 64
    public var listMaxListpackSize = -2
    public var listCompressDepth = 0
    public var setMaxIntsetEntries = 512
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    public var streamNodeMaxBytes = 4096
    public var streamNodeMaxEntries = 100
    public var hllSparseMaxBytes = 3000

    public init() {}

    static func option(_ name: String, range: ClosedRange<Int>, memory: Bool = false,
                       _ kp: WritableKeyPath<EncodingThresholds, Int>) -> ConfigOption {
        Configuration.intOption(name, mutable: true, range: range, memory: memory, (\Configuration.encodings).appending(path: kp))
    }

    static let options: [ConfigOption] = [
        option("hash-max-listpack-entries", range: 0...Int.max, \.hashMaxListpackEntries),
        option("hash-max-ziplist-entries", range: 0...Int.max, \.hashMaxListpackEntries).alias(of: "hash-max-listpack-entries"),
        option("hash-max-listpack-value", range: 0...Int.max, memory: true, \.hashMaxListpackValue),
        option("hash-max-ziplist-value", range: 0...Int.max, memory: true, \.hashMaxListpackValue).alias(of: "hash-max-listpack-value"),
        option("list-max-listpack-size", range: Int(Int32.min)...Int(Int32.max), \.listMaxListpackSize),
        option("list-max-ziplist-size", range: Int(Int32.min)...Int(Int32.max), \.listMaxListpackSize)
            .alias(of: "list-max-listpack-size"),
        option("list-compress-depth", range: 0...Int(Int32.max), \.listCompressDepth),
        option("set-max-intset-entries", range: 0...Int.max, \.setMaxIntsetEntries),
        option("zset-max-listpack-entries", range: 0...Int.max, \.zsetMaxListpackEntries),
        option("zset-max-ziplist-entries", range: 0...Int.max, \.zsetMaxListpackEntries).alias(of: "zset-max-listpack-entries"),
        option("zset-max-listpack-value", range: 0...Int.max, memory: true, \.zsetMaxListpackValue),
        option("zset-max-ziplist-value", range: 0...Int.max, memory: true, \.zsetMaxListpackValue).alias(of: "zset-max-listpack-value"),
        option("stream-node-max-bytes", range: 0...Int.max, memory: true, \.streamNodeMaxBytes),
        option("stream-node-max-entries", range: 0...Int.max, \.streamNodeMaxEntries),
        option("hll-sparse-max-bytes", range: 0...Int.max, memory: true, \.hllSparseMaxBytes),
    ]
}
