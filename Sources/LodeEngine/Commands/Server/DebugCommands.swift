import Foundation
import LodeRESP
import LodeStore
import NIOCore

/// DEBUG, behind `enable-debug-command` as in Redis 7.0 (no / yes / local), with the
/// subcommands that mean something in Lode; the others (crashes, AOF, RDB, allocator
/// and encoding internals) answer Redis's unknown-subcommand error.
enum DebugCommands {
    static let handlers: [String: CommandHandler] = ["debug": debug]

    static let notAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can "
        + "run it from a local connection, otherwise you need to set this option in the configuration file, and then "
        + "restart the server."

    static func debug(_ c: inout CommandContext) throws(CommandError) {
        guard ConfigCommands.allowsProtectedAction(c.server.config.enableDebugCommand, c.client) else {
            throw CommandError(notAllowed)
        }
        let sub = c.string(1).lowercased()
        switch (sub, c.args.count) {
        case ("help", 2): c.writeHelp(help)
        case ("sleep", 3):
            // Stops the whole server, as Redis's DEBUG SLEEP does (tests rely on it).
            let seconds = Double(c.string(2)) ?? 0
            if seconds > 0 { usleep(UInt32(min(seconds, 4000) * 1_000_000)) }
            c.out.writeOK()
        case ("log", 3):
            c.server.logger.warning("DEBUG LOG: \(c.string(2))")
            c.out.writeOK()
        case ("reload", _):
            for i in 2..<c.args.count where !["merge", "noflush", "nosave"].contains(c.string(i).lowercased()) {
                throw CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
            }
            // Every write is in LMDB already: reloading is reading it all back from
            // disk, so the hot cache is emptied (what Redis's save-flush-load checks).
            c.store.cache.removeAll()
            c.out.writeOK()
        case ("object", 3): try object(&c)
        case ("set-active-expire", 3):
            c.server.activeExpireEnabled = Int(c.string(2)) != 0
            c.out.writeOK()
        case ("quicklist-packed-threshold", 3):
            // quicklistisSetPackedThreshold: up to 4 GB - 1 MB; 0 restores the default.
            guard let size = RedisConfigSpec.memtoull(c.string(2)), size <= (1 << 32) - (1 << 20) else {
                throw CommandError("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
            }
            c.out.writeOK()  // Lode's lists have no packed nodes: nothing to change
        case ("change-repl-id", 2):
            c.server.logger.warning("Changing replication IDs after receiving DEBUG change-repl-id")
            c.server.changeReplicationID()
            c.out.writeOK()
        case ("stringmatch-test", 2):
            stringMatchFuzz()
            c.out.writeSimpleString("Apparently Redis did not crash: test passed")
        case ("error", 3):
            let text = c.string(2).replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
            c.out.writeErrorBytes(Array(text.utf8))
        case ("protocol", 3): try proto(&c)
        case ("populate", 3...5): try populate(&c)
        default:
            throw c.subcommandSyntaxError
        }
    }

    static let help = [
        "CHANGE-REPL-ID", "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "ERROR <string>", "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>", "    Write <message> to the server log.",
        "OBJECT <key>", "    Show low level info about `key` and associated value.",
        "POPULATE <count> [<prefix>] [<size>]", "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>", "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,", "    true, false.",
        "RELOAD [option ...]", "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:", "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.", "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.", "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "SET-ACTIVE-EXPIRE <0|1>", "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the", "    default.",
        "QUICKLIST-PACKED-THRESHOLD <size>", "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
        "STRINGMATCH-TEST", "    Run a fuzz tester against the stringmatchlen() function.",
    ]

    /// DEBUG OBJECT: Redis's line; the value's address is not Lode's to give (0x0), the
    /// serialized length is the stored value's bytes.
    static func object(_ c: inout CommandContext) throws(CommandError) {
        guard let r = try IntrospectionCommands.peek(c, c.arg(2)) else { throw CommandError("ERR no such key") }
        let idle = c.store.cache.stats(db: c.db, key: c.arg(2))?.idleSeconds ?? Int(c.now - c.server.startedAt) / 1000
        let serialized = r.type == .string ? r.stringLength : r.value.readableBytes
        var line = "Value at:0x0 refcount:1 encoding:\(IntrospectionCommands.encodingName(c, r)) "
            + "serializedlength:\(serialized) lru:\(c.store.cache.clock & 0xFFFFFF) lru_seconds_idle:\(idle)"
        if r.type == .list, let meta = r.collection {
            line += " ql_nodes:\(meta.size) ql_avg_node:1.00 ql_listpack_max:\(-2) ql_compressed:0 ql_uncompressed_size:0"
        }
        c.out.writeSimpleString(line)
    }

    /// DEBUG PROTOCOL: a sample of each reply type, in RESP2 as Redis downgrades them.
    static func proto(_ c: inout CommandContext) throws(CommandError) {
        let resp3 = c.resp == .resp3
        switch c.string(2).lowercased() {
        case "string": c.out.writeBulk(string: "Hello World")
        case "integer": c.out.writeIntegerReply(12345)
        case "double": c.out.writeDouble(formatted: "3.141", c.resp)
        case "bignum":
            if resp3 { c.out.writeString("(1234567999999999999999999999999999999\r\n") }
            else { c.out.writeBulk(string: "1234567999999999999999999999999999999") }
        case "null": c.out.writeNull(c.resp)
        case "array":
            c.out.writeArrayHeader(3)
            for j in 0..<3 { c.out.writeIntegerReply(j) }
        case "set":
            c.out.writeSetHeader(3, c.resp)
            for j in 0..<3 { c.out.writeIntegerReply(j) }
        case "map":
            c.out.writeMapHeader(3, c.resp)
            for j in 0..<3 {
                c.out.writeIntegerReply(j)
                c.out.writeBoolean(j == 1, c.resp)
            }
        case "attrib":
            if resp3 {
                c.out.writeString("|1\r\n")
                c.out.writeBulk(string: "key-popularity")
                c.out.writeArrayHeader(2)
                c.out.writeBulk(string: "key:123")
                c.out.writeIntegerReply(90)
            }
            c.out.writeBulk(string: "Some real reply following the attribute")
        case "push":
            guard resp3 else { throw CommandError("ERR RESP2 is not supported by this command") }
            c.out.writePushHeader(2, c.resp)
            c.out.writeBulk(string: "server-cpu-usage")
            c.out.writeIntegerReply(42)
            c.out.writeBulk(string: "Some real reply following the push reply")
        case "true": c.out.writeBoolean(true, c.resp)
        case "false": c.out.writeBoolean(false, c.resp)
        case "verbatim": c.out.writeVerbatim("This is a verbatim\nstring", version: c.resp)
        default:
            throw CommandError("ERR Wrong protocol type name. Please use one of the following: "
                               + "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
        }
    }

    /// DEBUG POPULATE count [prefix] [size]: string keys prefix:N = value:N (padded
    /// with zero bytes or cut to `size`); existing keys are left alone.
    static func populate(_ c: inout CommandContext) throws(CommandError) {
        let positive = CommandError("ERR value is out of range, must be positive")
        let count = try c.integer(2, or: positive)
        guard count >= 0 else { throw positive }
        let prefix = c.args.count >= 4 ? c.string(3) : "key"
        var size = 0
        if c.args.count == 5 {
            size = try c.integer(4, or: positive)
            guard size >= 0 else { throw positive }
        }
        for i in 0..<count {
            let key = ByteBuffer(string: "\(prefix):\(i)")
            guard try c.lookup(key, touch: false) == nil else { continue }
            var value = Array("value:\(i)".utf8)
            if size > 0 {
                value = value.count >= size ? Array(value.prefix(size)) : value + [UInt8](repeating: 0, count: size - value.count)
            }
            try c.put(key, Record(type: .string, value: ByteBuffer(bytes: value)))
        }
        c.out.writeOK()
    }

    /// A fuzz test of the glob matcher, as Redis's stringmatchlen_fuzz_test: random
    /// patterns against random strings must never crash or hang.
    static func stringMatchFuzz() {
        let alphabet = Array("abc*?[]^-\\".utf8)
        for _ in 0..<100_000 {
            let pattern = (0..<Int.random(in: 0...16)).map { _ in alphabet.randomElement()! }
            let string = (0..<Int.random(in: 0...16)).map { _ in alphabet.randomElement()! }
            _ = globMatch(pattern, string, noCase: Bool.random())
        }
    }
}
