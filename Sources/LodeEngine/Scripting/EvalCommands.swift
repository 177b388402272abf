import LodeLua
import LodeRESP
import NIOCore

/// EVAL, EVALSHA, their _RO forms and SCRIPT, as Redis 7.0's eval.c.
enum EvalCommands {
    static let handlers: [String: CommandHandler] = [
        "eval": { (c: inout CommandContext) throws(CommandError) in try eval(&c, bySHA: false, readOnly: false) },
        "evalsha": { (c: inout CommandContext) throws(CommandError) in try eval(&c, bySHA: true, readOnly: false) },
        "eval_ro": { (c: inout CommandContext) throws(CommandError) in try eval(&c, bySHA: false, readOnly: true) },
        "evalsha_ro": { (c: inout CommandContext) throws(CommandError) in try eval(&c, bySHA: true, readOnly: true) },
        "script|load": { (c: inout CommandContext) throws(CommandError) in
            c.out.writeBulk(string: try c.server.scripts.load(c.bytes(2)))
        },
        "script|exists": exists,
        "script|flush": flush,
        "script|kill": { (c: inout CommandContext) throws(CommandError) in
            try c.server.scripts.kill(isEval: true)
            c.out.writeOK()
        },
        "script|help": { (c: inout CommandContext) throws(CommandError) in c.writeHelp(help) },
    ]

    static let noScript = CommandError("NOSCRIPT No matching script. Please use EVAL.")

    static func eval(_ c: inout CommandContext, bySHA: Bool, readOnly: Bool) throws(CommandError) {
        // EVAL is skip-monitor: it shows itself first, so that its commands follow it.
        if !c.server.monitors.isEmpty { c.server.feedMonitors(c.client, db: c.client.db, c.args) }
        let runner = c.server.scripts
        if bySHA && c.arg(1).readableBytes != 40 { throw noScript }
        let numkeys = try c.integer(2)
        if numkeys > c.args.count - 3 { throw CommandError("ERR Number of keys can't be greater than number of args") }
        if numkeys < 0 { throw CommandError("ERR Number of keys can't be negative") }
        let sha: String
        if bySHA {
            sha = c.string(1).lowercased()
            guard runner.scripts[sha] != nil else { throw noScript }
        } else {
            sha = try runner.load(c.bytes(1))
        }
        guard let script = runner.scripts[sha] else { throw noScript }
        let lua = try runner.interpreter()
        let declared = script.flags.contains(.evalCompat) ? [] : script.flags
        if readOnly && !declared.contains(.noWrites) && !script.flags.contains(.evalCompat) {
            throw CommandError("ERR Can not execute a script with write flag using *_ro command.")
        }
        runner.run(&c, interpreter: lua, function: "f_" + sha, name: sha, isEval: true,
                   readOnly: readOnly || declared.contains(.noWrites),
                   keys: Array(c.args[3..<(3 + numkeys)]), args: Array(c.args[(3 + numkeys)...]))
    }

    static func exists(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeArrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            c.out.writeIntegerReply(c.server.scripts.scripts[c.string(i).lowercased()] != nil ? 1 : 0)
        }
    }

    static func flush(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count == 2 || (c.args.count == 3 && (c.argIs(2, "sync") || c.argIs(2, "async"))) else {
            throw CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
        }
        c.server.scripts.flush()
        c.out.writeOK()
    }

    static let help = [
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ]
}
