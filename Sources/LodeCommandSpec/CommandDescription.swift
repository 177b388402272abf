/// What Redis 7.0.15 says about a command, as value types: arity, flags, ACL
/// categories, key specifications, arguments and documentation. The data is
/// generated from Redis's own `src/commands/*.json` by `tools/command-gen`
/// (files under `Generated/`); nothing here is typed by hand.
///
/// This module knows no handlers and no server: the engine binds handlers to
/// these descriptions by name, and COMMAND, ACL, WATCH and key extraction read
/// the same data.
public struct CommandDescription: Sendable {
    /// Lower-case name; for a subcommand only its own part ("get" of CONFIG GET).
    public let name: String
    /// The container's lower-case name for a subcommand, nil for a command.
    public let container: String?
    public let summary: String
    public let since: String
    /// Redis's group name as COMMAND DOCS prints it ("sorted-set", "generic", …).
    public let group: String
    public let complexity: String?
    public let docFlags: DocFlags
    public let deprecatedSince: String?
    public let replacedBy: String?
    public let history: [HistoryEntry]
    /// Command tips ("nondeterministic_output", "request_policy:all_shards", …).
    public let tips: [String]
    /// Positive: exactly that many arguments (the name included); negative: at least.
    public let arity: Int
    /// Command flags, including `movableKeys` as Redis derives it from the key specs.
    public let flags: CommandFlags
    /// ACL categories, including the implicit ones Redis adds from the flags
    /// (write, read, admin + dangerous, pubsub, fast or else slow, blocking).
    public let aclCategories: ACLCategories
    public let keySpecs: [KeySpec]
    /// The legacy (first, last, step) key range of COMMAND INFO, as Redis derives
    /// it from the key specs; (0, 0, 0) when the command has no range keys.
    public let legacyKeyRange: KeyRange
    public let arguments: [CommandArgument]
    public let subcommands: [CommandDescription]

    public init(name: String, container: String? = nil, summary: String, since: String, group: String,
                complexity: String? = nil, docFlags: DocFlags = [], deprecatedSince: String? = nil,
                replacedBy: String? = nil, history: [HistoryEntry] = [], tips: [String] = [], arity: Int,
                flags: CommandFlags, aclCategories: ACLCategories, keySpecs: [KeySpec] = [],
                legacyKeyRange: KeyRange = KeyRange(first: 0, last: 0, step: 0),
                arguments: [CommandArgument] = [], subcommands: [CommandDescription] = []) {
        self.name = name
        self.container = container
        self.summary = summary
        self.since = since
        self.group = group
        self.complexity = complexity
        self.docFlags = docFlags
        self.deprecatedSince = deprecatedSince
        self.replacedBy = replacedBy
        self.history = history
        self.tips = tips
        self.arity = arity
        self.flags = flags
        self.aclCategories = aclCategories
        self.keySpecs = keySpecs
        self.legacyKeyRange = legacyKeyRange
        self.arguments = arguments
        self.subcommands = subcommands
    }

    /// "config|get" for a subcommand, the name for a command (Redis's fullname).
    public var fullName: String { container.map { "\($0)|\(name)" } ?? name }
}

public struct HistoryEntry: Sendable {
    public let since: String
    public let changes: String
    public init(_ since: String, _ changes: String) {
        self.since = since
        self.changes = changes
    }
}

public struct KeyRange: Sendable, Equatable {
    public let first: Int
    public let last: Int
    public let step: Int
    public init(first: Int, last: Int, step: Int) {
        self.first = first
        self.last = last
        self.step = step
    }
}

/// Redis's command flags (server.h CMD_*), in the order COMMAND INFO prints them.
public struct CommandFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyoom = CommandFlags(rawValue: 1 << 2)
    public static let module = CommandFlags(rawValue: 1 << 3)
    public static let admin = CommandFlags(rawValue: 1 << 4)
    public static let pubsub = CommandFlags(rawValue: 1 << 5)
    public static let noscript = CommandFlags(rawValue: 1 << 6)
    public static let blocking = CommandFlags(rawValue: 1 << 7)
    public static let loading = CommandFlags(rawValue: 1 << 8)
    public static let stale = CommandFlags(rawValue: 1 << 9)
    public static let skipMonitor = CommandFlags(rawValue: 1 << 10)
    public static let skipSlowlog = CommandFlags(rawValue: 1 << 11)
    public static let asking = CommandFlags(rawValue: 1 << 12)
    public static let fast = CommandFlags(rawValue: 1 << 13)
    public static let noAuth = CommandFlags(rawValue: 1 << 14)
    public static let noMandatoryKeys = CommandFlags(rawValue: 1 << 15)
    public static let noAsyncLoading = CommandFlags(rawValue: 1 << 16)
    public static let noMulti = CommandFlags(rawValue: 1 << 17)
    public static let movableKeys = CommandFlags(rawValue: 1 << 18)
    public static let allowBusy = CommandFlags(rawValue: 1 << 19)
    // Not printed by COMMAND INFO (hidden on purpose in Redis), kept for behaviour.
    public static let mayReplicate = CommandFlags(rawValue: 1 << 24)
    public static let sentinel = CommandFlags(rawValue: 1 << 25)
    public static let onlySentinel = CommandFlags(rawValue: 1 << 26)
    public static let protected = CommandFlags(rawValue: 1 << 27)
    public static let touchesArbitraryKeys = CommandFlags(rawValue: 1 << 28)

    /// The flags COMMAND INFO shows, with Redis's names, in Redis's order.
    public static let printed: [(CommandFlags, String)] = [
        (.write, "write"), (.readonly, "readonly"), (.denyoom, "denyoom"), (.module, "module"),
        (.admin, "admin"), (.pubsub, "pubsub"), (.noscript, "noscript"), (.blocking, "blocking"),
        (.loading, "loading"), (.stale, "stale"), (.skipMonitor, "skip_monitor"), (.skipSlowlog, "skip_slowlog"),
        (.asking, "asking"), (.fast, "fast"), (.noAuth, "no_auth"), (.noMandatoryKeys, "no_mandatory_keys"),
        (.noAsyncLoading, "no_async_loading"), (.noMulti, "no_multi"), (.movableKeys, "movablekeys"),
        (.allowBusy, "allow_busy"),
    ]

    public var names: [String] { Self.printed.filter { contains($0.0) }.map(\.1) }
}

/// Redis's ACL categories (acl.c ACLCommandCategories), in Redis's order.
public struct ACLCategories: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let keyspace = ACLCategories(rawValue: 1 << 0)
    public static let read = ACLCategories(rawValue: 1 << 1)
    public static let write = ACLCategories(rawValue: 1 << 2)
    public static let set = ACLCategories(rawValue: 1 << 3)
    public static let sortedset = ACLCategories(rawValue: 1 << 4)
    public static let list = ACLCategories(rawValue: 1 << 5)
    public static let hash = ACLCategories(rawValue: 1 << 6)
    public static let string = ACLCategories(rawValue: 1 << 7)
    public static let bitmap = ACLCategories(rawValue: 1 << 8)
    public static let hyperloglog = ACLCategories(rawValue: 1 << 9)
    public static let geo = ACLCategories(rawValue: 1 << 10)
    public static let stream = ACLCategories(rawValue: 1 << 11)
    public static let pubsub = ACLCategories(rawValue: 1 << 12)
    public static let admin = ACLCategories(rawValue: 1 << 13)
    public static let fast = ACLCategories(rawValue: 1 << 14)
    public static let slow = ACLCategories(rawValue: 1 << 15)
    public static let blocking = ACLCategories(rawValue: 1 << 16)
    public static let dangerous = ACLCategories(rawValue: 1 << 17)
    public static let connection = ACLCategories(rawValue: 1 << 18)
    public static let transaction = ACLCategories(rawValue: 1 << 19)
    public static let scripting = ACLCategories(rawValue: 1 << 20)

    public static let all: [(ACLCategories, String)] = [
        (.keyspace, "keyspace"), (.read, "read"), (.write, "write"), (.set, "set"), (.sortedset, "sortedset"),
        (.list, "list"), (.hash, "hash"), (.string, "string"), (.bitmap, "bitmap"), (.hyperloglog, "hyperloglog"),
        (.geo, "geo"), (.stream, "stream"), (.pubsub, "pubsub"), (.admin, "admin"), (.fast, "fast"),
        (.slow, "slow"), (.blocking, "blocking"), (.dangerous, "dangerous"), (.connection, "connection"),
        (.transaction, "transaction"), (.scripting, "scripting"),
    ]

    /// "@string"-style names, in Redis's order.
    public var names: [String] { Self.all.filter { contains($0.0) }.map { "@" + $0.1 } }
}

/// COMMAND DOCS doc_flags.
public struct DocFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let deprecated = DocFlags(rawValue: 1 << 0)
    public static let syscmd = DocFlags(rawValue: 1 << 1)
    public var names: [String] { [(DocFlags.deprecated, "deprecated"), (.syscmd, "syscmd")].filter { contains($0.0) }.map(\.1) }
}
