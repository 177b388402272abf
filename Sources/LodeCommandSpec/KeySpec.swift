/// A key specification (Redis 7 `key_specs`): where a command's keys begin and
/// how many follow, with flags saying how each key is used. WATCH, client-side
/// tracking, ACL key patterns and (later) cluster slots all find keys through
/// `CommandDescription.keyPositions(count:argument:)`, never by hand.
public struct KeySpec: Sendable {
    public enum BeginSearch: Sendable, Equatable {
        /// The first key is at this argument index.
        case index(Int)
        /// The first key follows `keyword`, searched from `startFrom` (negative: from the end).
        case keyword(String, startFrom: Int)
        case unknown
    }

    public enum FindKeys: Sendable, Equatable {
        /// `lastKey` is relative to the first key (-1 = the last argument, -2 = the one before);
        /// `limit` > 1 takes only 1/limit of the remaining arguments.
        case range(lastKey: Int, step: Int, limit: Int)
        /// The number of keys is the argument at `keyNumIndex` (relative to the begin
        /// position); keys start `firstKey` after it.
        case keynum(keyNumIndex: Int, firstKey: Int, step: Int)
        case unknown
    }

    public let notes: String?
    public let flags: KeySpecFlags
    public let beginSearch: BeginSearch
    public let findKeys: FindKeys

    public init(notes: String? = nil, flags: KeySpecFlags, beginSearch: BeginSearch, findKeys: FindKeys) {
        self.notes = notes
        self.flags = flags
        self.beginSearch = beginSearch
        self.findKeys = findKeys
    }
}

/// Key-spec flags (server.h CMD_KEY_*), in the order COMMAND INFO prints them.
public struct KeySpecFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ro = KeySpecFlags(rawValue: 1 << 0)
    public static let rw = KeySpecFlags(rawValue: 1 << 1)
    public static let ow = KeySpecFlags(rawValue: 1 << 2)
    public static let rm = KeySpecFlags(rawValue: 1 << 3)
    public static let access = KeySpecFlags(rawValue: 1 << 4)
    public static let update = KeySpecFlags(rawValue: 1 << 5)
    public static let insert = KeySpecFlags(rawValue: 1 << 6)
    public static let delete = KeySpecFlags(rawValue: 1 << 7)
    public static let notKey = KeySpecFlags(rawValue: 1 << 8)
    public static let incomplete = KeySpecFlags(rawValue: 1 << 9)
    public static let variableFlags = KeySpecFlags(rawValue: 1 << 10)

    public static let printed: [(KeySpecFlags, String)] = [
        (.ro, "RO"), (.rw, "RW"), (.ow, "OW"), (.rm, "RM"), (.access, "access"), (.update, "update"),
        (.insert, "insert"), (.delete, "delete"), (.notKey, "not_key"), (.incomplete, "incomplete"),
        (.variableFlags, "variable_flags"),
    ]

    public var names: [String] { Self.printed.filter { contains($0.0) }.map(\.1) }
}

/// One argument of a command, as COMMAND DOCS describes it.
public struct CommandArgument: Sendable {
    public enum Kind: String, Sendable {
        case string, integer, double, key, pattern
        case unixTime = "unix-time"
        case pureToken = "pure-token"
        case oneof, block
    }

    public let name: String
    public let kind: Kind
    public let keySpecIndex: Int?
    public let token: String?
    public let summary: String?
    public let since: String?
    public let deprecatedSince: String?
    public let flags: ArgumentFlags
    /// The alternatives of a `oneof`, the parts of a `block`; empty otherwise.
    public let arguments: [CommandArgument]

    public init(name: String, kind: Kind, keySpecIndex: Int? = nil, token: String? = nil, summary: String? = nil,
                since: String? = nil, deprecatedSince: String? = nil, flags: ArgumentFlags = [],
                arguments: [CommandArgument] = []) {
        self.name = name
        self.kind = kind
        self.keySpecIndex = keySpecIndex
        self.token = token
        self.summary = summary
        self.since = since
        self.deprecatedSince = deprecatedSince
        self.flags = flags
        self.arguments = arguments
    }
}

public struct ArgumentFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let optional = ArgumentFlags(rawValue: 1 << 0)
    public static let multiple = ArgumentFlags(rawValue: 1 << 1)
    public static let multipleToken = ArgumentFlags(rawValue: 1 << 2)
    public var names: [String] {
        [(ArgumentFlags.optional, "optional"), (.multiple, "multiple"), (.multipleToken, "multiple_token")]
            .filter { contains($0.0) }.map(\.1)
    }
}
