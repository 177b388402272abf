import LodeRESP

/// The flags a script declares in its shebang (`#!lua flags=no-writes,...`) or a
/// function at registration, as Redis 7.0's scripts_flags_def.
struct ScriptFlags: OptionSet, Sendable {
    let rawValue: Int

    /// No shebang: EVAL's backward-compatible mode (flags come from the command).
    static let evalCompat = ScriptFlags(rawValue: 1 << 0)
    static let noWrites = ScriptFlags(rawValue: 1 << 1)
    static let allowOOM = ScriptFlags(rawValue: 1 << 2)
    static let allowStale = ScriptFlags(rawValue: 1 << 3)
    static let noCluster = ScriptFlags(rawValue: 1 << 4)
    static let allowCrossSlot = ScriptFlags(rawValue: 1 << 5)

    /// The names, in Redis's order (FUNCTION LIST shows them in this order).
    static let names: [(String, ScriptFlags)] = [
        ("no-writes", .noWrites), ("allow-oom", .allowOOM), ("allow-stale", .allowStale),
        ("no-cluster", .noCluster), ("allow-cross-slot-keys", .allowCrossSlot),
    ]

    static func named(_ name: String) -> ScriptFlags? { names.first { $0.0 == name }?.1 }

    var nameList: [String] { Self.names.filter { contains($0.1) }.map(\.0) }

    /// Redis's evalExtractShebangFlags: the flags and the shebang's length (the
    /// line feed after it stays in the body, so line numbers do not move).
    static func parseShebang(_ body: [UInt8]) throws(CommandError) -> (ScriptFlags, Int) {
        guard body.starts(with: [35, 33]) else { return (.evalCompat, 0) }  // "#!"
        guard let end = body.firstIndex(of: 10) else { throw CommandError("ERR Invalid script shebang") }
        // Split as Redis's sdssplitargs (quotes allowed).
        let words = (splitInlineArguments(Array(body[..<end])) ?? []).map { String(decoding: $0, as: UTF8.self) }
        guard let engine = words.first else { throw CommandError("ERR Invalid engine in script shebang") }
        guard engine == "#!lua" else { throw CommandError("ERR Unexpected engine in script shebang: \(engine)") }
        var flags: ScriptFlags = []
        for word in words.dropFirst() {
            guard word.hasPrefix("flags=") else { throw CommandError("ERR Unknown lua shebang option: \(word)") }
            let list = word.dropFirst(6)
            for name in list.isEmpty ? [] : list.split(separator: ",", omittingEmptySubsequences: false) {
                guard let flag = named(String(name)) else { throw CommandError("ERR Unexpected flag in script shebang: \(name)") }
                flags.insert(flag)
            }
        }
        return (flags, end)
    }
}
