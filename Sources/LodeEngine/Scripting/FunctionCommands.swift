import LodeLua
import LodeRDB
import LodeRESP
import NIOCore

/// FUNCTION and FCALL, as Redis 7.0's functions.c. Every change of the
/// libraries is written to the store in the command's turn, so a library whose
/// FUNCTION LOAD was answered is on disk.
enum FunctionCommands {
    static let handlers: [String: CommandHandler] = [
        "fcall": { (c: inout CommandContext) throws(CommandError) in try fcall(&c, readOnly: false) },
        "fcall_ro": { (c: inout CommandContext) throws(CommandError) in try fcall(&c, readOnly: true) },
        "function|load": load,
        "function|delete": { (c: inout CommandContext) throws(CommandError) in
            guard c.server.scripts.functions.delete(c.string(2)) else { throw CommandError("ERR Library not found") }
            try persist(&c)
            c.out.writeOK()
        },
        "function|flush": flush,
        "function|list": list,
        "function|dump": { (c: inout CommandContext) throws(CommandError) in
            c.out.writeBulk(bytes: c.server.scripts.functions.payload)
        },
        "function|restore": restore,
        "function|stats": stats,
        "function|kill": { (c: inout CommandContext) throws(CommandError) in
            try c.server.scripts.kill(isEval: false)
            c.out.writeOK()
        },
        "function|help": { (c: inout CommandContext) throws(CommandError) in c.writeHelp(help) },
    ]

    /// Writes the libraries to the store, in this command's transaction.
    static func persist(_ c: inout CommandContext) throws(CommandError) {
        do { try c.store.putMeta(FunctionLibraries.metaName, c.server.scripts.functions.payload) } catch {
            throw c.storeFailure(error)
        }
    }

    static func fcall(_ c: inout CommandContext, readOnly: Bool) throws(CommandError) {
        if !c.server.monitors.isEmpty { c.server.feedMonitors(c.client, db: c.client.db, c.args) }
        let runner = c.server.scripts
        guard let function = runner.functions.current.functions[c.string(1).lowercased()] else {
            throw CommandError("ERR Function not found")
        }
        let numkeys = try c.integer(2, or: CommandError("ERR Bad number of keys provided"))
        if numkeys > c.args.count - 3 { throw CommandError("ERR Number of keys can't be greater than number of args") }
        if numkeys < 0 { throw CommandError("ERR Number of keys can't be negative") }
        if readOnly && !function.flags.contains(.noWrites) {
            throw CommandError("ERR Can not execute a script with write flag using *_ro command.")
        }
        let lua = try runner.functions.interpreter()
        runner.run(&c, interpreter: lua, function: function.key, name: function.name, isEval: false,
                   readOnly: readOnly || function.flags.contains(.noWrites),
                   keys: Array(c.args[3..<(3 + numkeys)]), args: Array(c.args[(3 + numkeys)...]))
    }

    static func load(_ c: inout CommandContext) throws(CommandError) {
        var replace = false
        var i = 2
        while i < c.args.count - 1 {
            guard c.argIs(i, "replace") else { throw CommandError("ERR Unknown option given: \(c.cstring(i))") }
            replace = true
            i += 1
        }
        guard i < c.args.count else { throw CommandError("ERR Function code is missing") }
        let name = try c.server.scripts.functions.load(c.bytes(i), replace: replace, host: c.server.scripts)
        try persist(&c)
        c.out.writeBulk(string: name)
    }

    static func flush(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 3 { throw c.subcommandSyntaxError }
        guard c.args.count == 2 || c.argIs(2, "sync") || c.argIs(2, "async") else {
            throw CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
        }
        c.server.scripts.functions.flush()
        try persist(&c)
        c.out.writeOK()
    }

    static func restore(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 4 { throw c.subcommandSyntaxError }
        var policy = FunctionLibraries.RestorePolicy.append
        if c.args.count == 4 {
            if c.argIs(3, "append") {
                policy = .append
            } else if c.argIs(3, "replace") {
                policy = .replace
            } else if c.argIs(3, "flush") {
                policy = .flush
            } else {
                throw CommandError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
            }
        }
        let codes: [[UInt8]]
        do { codes = try FunctionPayload.decode(c.bytes(2)) } catch { throw CommandError(error.redisMessage) }
        try c.server.scripts.functions.restore(codes, policy: policy, host: c.server.scripts)
        try persist(&c)
        c.out.writeOK()
    }

    static func list(_ c: inout CommandContext) throws(CommandError) {
        var withCode = false
        var pattern: [UInt8]?
        var i = 2
        while i < c.args.count {
            if !withCode && c.argIs(i, "withcode") {
                withCode = true
            } else if pattern == nil && c.argIs(i, "libraryname") {
                guard i < c.args.count - 1 else { throw CommandError("ERR library name argument was not given") }
                i += 1
                pattern = c.bytes(i)
            } else {
                throw CommandError("ERR Unknown argument \(c.cstring(i))")
            }
            i += 1
        }
        let libraries = c.server.scripts.functions.current.inOrder.filter { library in
            pattern.map { globMatch($0, Array(library.name.utf8), noCase: true) } ?? true
        }
        c.out.writeArrayHeader(libraries.count)
        for library in libraries {
            c.out.writeMapHeader(withCode ? 4 : 3, c.resp)
            c.out.writeBulk(string: "library_name")
            c.out.writeBulk(string: library.name)
            c.out.writeBulk(string: "engine")
            c.out.writeBulk(string: "LUA")
            c.out.writeBulk(string: "functions")
            c.out.writeArrayHeader(library.functions.count)
            for f in library.functions {
                c.out.writeMapHeader(3, c.resp)
                c.out.writeBulk(string: "name")
                c.out.writeBulk(string: f.name)
                c.out.writeBulk(string: "description")
                if let d = f.description { c.out.writeBulk(string: d) } else { c.out.writeNull(c.resp) }
                c.out.writeBulk(string: "flags")
                let names = f.flags.nameList
                c.out.writeSetHeader(names.count, c.resp)
                for n in names { c.out.writeSimpleString(n) }
            }
            if withCode {
                c.out.writeBulk(string: "library_code")
                c.out.writeBulk(bytes: library.code)
            }
        }
    }

    static func stats(_ c: inout CommandContext) throws(CommandError) {
        let runner = c.server.scripts
        if let active = runner.active, active.isEval {
            throw CommandError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
        }
        c.out.writeMapHeader(2, c.resp)
        c.out.writeBulk(string: "running_script")
        if let active = runner.active {
            c.out.writeMapHeader(3, c.resp)
            c.out.writeBulk(string: "name")
            c.out.writeBulk(string: active.name)
            c.out.writeBulk(string: "command")
            c.out.writeArrayHeader(active.callerArgs.count)
            for a in active.callerArgs { c.out.writeBulk(a) }
            c.out.writeBulk(string: "duration_ms")
            c.out.writeIntegerReply(Int(LuaClock.nowMillis() - active.startedAt))
        } else {
            c.out.writeNull(c.resp)
        }
        c.out.writeBulk(string: "engines")
        c.out.writeMapHeader(1, c.resp)
        c.out.writeBulk(string: "LUA")
        c.out.writeMapHeader(2, c.resp)
        let current = runner.functions.current
        c.out.writeBulk(string: "libraries_count")
        c.out.writeIntegerReply(current.libraries.count)
        c.out.writeBulk(string: "functions_count")
        c.out.writeIntegerReply(current.functions.count)
    }

    static let help = [
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ]
}
