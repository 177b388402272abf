import LodeLua
import LodeRDB
import LodeRESP
import LodeStore
import NIOCore

/// Runs Lua scripts and functions for the engine (Redis's script.c): the
/// script cache, the client commands from a script run as, the checks a
/// command called from a script passes, and the one script that may be in
/// progress. A script runs to completion inside the event loop with no other
/// command in between; past `busy-reply-threshold` it is suspended between
/// loop iterations so that other clients get BUSY and SCRIPT KILL can reach
/// it, and the turn's LMDB transaction stays open (uncommitted) until it ends.
final class ScriptRunner: LuaHost {
    unowned let server: ServerState

    /// The EVAL interpreter; SCRIPT FLUSH replaces it.
    private(set) var evalInterpreter: LuaInterpreter?
    /// EVAL's script cache by SHA-1 (lower-case hex): body and shebang flags.
    private(set) var scripts: [String: CachedScript] = [:]
    private var scriptSession: ClientSession?
    /// FUNCTION libraries, in their own interpreter.
    let functions: FunctionLibraries

    /// The script or function in progress.
    private(set) var active: ActiveScript?

    struct CachedScript {
        let body: [UInt8]
        let flags: ScriptFlags
    }

    /// Bytes the EVAL script cache holds (INFO used_memory_scripts_eval, MEMORY STATS lua.caches).
    var evalCacheBytes: Int { scripts.values.reduce(0) { $0 + $1.body.count + 40 } }
    /// Bytes of the FUNCTION libraries' code (INFO used_memory_functions).
    var functionCodeBytes: Int { functions.current.libraries.values.reduce(0) { $0 + $1.code.count } }

    /// Whether EVAL/EVALSHA/FCALL `args` runs a script declared `no-writes` (Redis's
    /// evalGetCommandFlags / fcallGetCommandFlags); an unknown one counts as writing.
    func declaresNoWrites(_ command: String, _ args: [ByteBuffer]) -> Bool {
        guard args.count > 1 else { return false }
        switch command {
        case "eval":
            let flags = (try? ScriptFlags.parseShebang(Array(args[1].readableBytesView)).0) ?? .evalCompat
            return flags.contains(.noWrites)
        case "evalsha":
            return scripts[String(buffer: args[1]).lowercased()]?.flags.contains(.noWrites) ?? false
        default:
            return functions.current.functions[String(buffer: args[1]).lowercased()]?.flags.contains(.noWrites) ?? false
        }
    }

    /// A script in progress: who called it, what it may do, what it did.
    final class ActiveScript {
        let caller: ClientSession
        let callerCommand: Command
        let callerArgs: [ByteBuffer]
        let interpreter: LuaInterpreter
        let isEval: Bool
        let readOnly: Bool
        let name: String
        /// The script has run a write command: SCRIPT KILL refuses then.
        var dirty = false
        /// It ran past the threshold and was suspended at least once.
        var suspended = false
        /// The database of the script's client (SELECT in a script is local to it).
        var db: Int
        let startedAt = LuaClock.nowMillis()

        init(caller: ClientSession, callerCommand: Command, callerArgs: [ByteBuffer], interpreter: LuaInterpreter,
             isEval: Bool, readOnly: Bool, name: String, db: Int) {
            self.caller = caller
            self.callerCommand = callerCommand
            self.callerArgs = callerArgs
            self.interpreter = interpreter
            self.isEval = isEval
            self.readOnly = readOnly
            self.name = name
            self.db = db
        }
    }

    init(server: ServerState) {
        self.server = server
        functions = FunctionLibraries(memoryLimit: server.config.luaMemoryLimit)
    }

    /// At start-up: the libraries the store holds (the last FUNCTION change that
    /// was committed). A library that no longer loads is logged and skipped.
    func loadPersistedFunctions() {
        guard let payload = (try? server.store.getMeta(FunctionLibraries.metaName)) ?? nil, !payload.isEmpty else { return }
        do {
            try functions.restore(try FunctionPayload.decode(payload), policy: .flush, host: self)
        } catch let error as CommandError {
            server.logger.warning("The stored FUNCTION libraries could not be loaded: \(error.text)")
        } catch {
            server.logger.warning("The stored FUNCTION libraries could not be read: \(error)")
        }
    }

    /// Whether a suspended script holds the server (other clients get BUSY).
    var isBusy: Bool { active?.suspended ?? false }

    /// Redis's BUSY error for the running kind of script.
    var busyError: String {
        active?.isEval ?? true
            ? "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
            : "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    }

    // MARK: the EVAL cache

    func interpreter() throws(CommandError) -> LuaInterpreter {
        if let evalInterpreter { return evalInterpreter }
        do {
            let created = try LuaInterpreter(memoryLimit: server.config.luaMemoryLimit)
            evalInterpreter = created
            return created
        } catch {
            throw CommandError("ERR cannot start the Lua interpreter: \(error.message)")
        }
    }

    /// Caches and compiles `body`; returns its SHA-1 (luaCreateFunction).
    @discardableResult
    func load(_ body: [UInt8]) throws(CommandError) -> String {
        let sha = SHA1.hex(body)
        if scripts[sha] != nil { return sha }
        let (flags, shebangLength) = try ScriptFlags.parseShebang(body)
        let lua = try interpreter()
        if let error = lua.define("f_" + sha, body: Array(body[shebangLength...])) {
            throw CommandError("ERR Error compiling script (new function): \(error)")
        }
        scripts[sha] = CachedScript(body: body, flags: flags)
        return sha
    }

    /// SCRIPT FLUSH: a new interpreter, an empty cache.
    func flush() {
        scripts.removeAll()
        evalInterpreter = nil
    }

    // MARK: running

    /// Runs a script for the command in `c`: its reply is written to the caller
    /// now, or, if it is suspended, when it ends.
    func run(_ c: inout CommandContext, interpreter lua: LuaInterpreter, function: String, name: String, isEval: Bool,
             readOnly: Bool, keys: [ByteBuffer], args: [ByteBuffer]) {
        let script = ActiveScript(caller: c.session, callerCommand: c.command, callerArgs: c.args, interpreter: lua,
                                  isEval: isEval, readOnly: readOnly, name: name, db: c.client.db)
        active = script
        lua.memoryLimit = server.config.luaMemoryLimit  // CONFIG SET applies to the next script
        // Inside EXEC too: the rest of the transaction waits for the script.
        let threshold = Int64(server.config.busyReplyThreshold)
        let outcome = lua.start(function, keys: keys, args: args, asGlobals: isEval, errorName: name, host: self,
                                client: c.resp, now: LuaClock.nowMillis(), busyThreshold: threshold)
        switch outcome {
        case .finished(let reply):
            active = nil
            c.out.writeImmutableBuffer(reply)
            c.session.errorAlreadyCounted = lua.errorAlreadyCounted
        case .suspended:
            script.suspended = true
            let kill = isEval ? "SCRIPT" : "FUNCTION"
            let message = "Slow script detected: still in execution after \(threshold) milliseconds. "
                + "You can try killing the script using the \(kill) KILL command. Script name is: \(name)."
            server.logger.warning("\(message)")
            c.session.awaitScript()
            scheduleResume(script)
        }
    }

    /// The next slice of a suspended script. A task scheduled for later (not one
    /// to run at once) lets the event loop poll the sockets in between: NIO runs
    /// tasks submitted by tasks before it looks at I/O again.
    private func scheduleResume(_ script: ActiveScript) {
        _ = script.caller.loop.scheduleTask(in: .milliseconds(1)) { [weak self] in self?.resume(script) }
    }

    /// Between event-loop iterations: the script goes on until it ends or is
    /// suspended again.
    private func resume(_ script: ActiveScript) {
        guard active === script else { return }
        switch script.interpreter.resume() {
        case .suspended:
            scheduleResume(script)
        case .finished(let reply):
            active = nil
            script.caller.scriptFinished(reply, wrote: server.store.hasTurnWrites)
        }
    }

    /// SCRIPT KILL / FUNCTION KILL (Redis's scriptKill).
    func kill(isEval: Bool) throws(CommandError) {
        guard let script = active else { throw CommandError("NOTBUSY No scripts in execution right now.") }
        if script.dirty {
            throw CommandError("UNKILLABLE Sorry the script already executed write commands against the dataset. "
                + "You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
        }
        if isEval && !script.isEval {
            throw CommandError("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
        }
        if !isEval && script.isEval {
            throw CommandError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
        }
        script.interpreter.kill()
    }

    /// SHUTDOWN NOSAVE while a script runs: the script never ends, so none of its
    /// writes may reach the disk.
    func abandon() {
        guard active != nil else { return }
        active = nil
        server.store.discardTurn()
    }

    // MARK: LuaHost

    /// A command called from the script (Redis's scriptCall), run as the script's
    /// client: its own database, the protocol the script chose, no blocking.
    func luaCall(_ args: [ByteBuffer], resp: RESPVersion) -> LuaCallResult {
        guard let script = active else { return .rejected("redis.call/pcall can only be called inside a script invocation") }
        let table = server.commandTable
        guard let top = table.lookup(args[0]) else { return .rejected("Unknown Redis command called from script") }
        var command = top
        if !top.subcommands.isEmpty && args.count >= 2 {
            guard let sub = top.subcommands[String(buffer: args[1]).lowercased()] else {
                return .rejected("Unknown Redis command called from script")
            }
            command = sub
        }
        guard command.arityOK(args.count) else { return .rejected("Wrong number of args calling Redis command from script") }
        guard let handler = command.handler else { return .rejected("Unknown Redis command called from script") }
        if command.flags.contains(.noscript) { return .rejected("This Redis command is not allowed from script") }
        if script.readOnly && !command.flags.isDisjoint(with: [.write, .mayReplicate]) {
            return .rejected("Write commands are not allowed from read-only scripts.")
        }
        if command.flags.contains(.write) { script.dirty = true }
        let session = scriptClient(script)
        session.client.resp = resp
        session.client.db = script.db
        let reply = session.runFromScript(args, command: command, handler: handler)
        script.db = session.client.db
        // A tracking caller in default mode is told about the keys the script
        // declared once the script reads anything (Redis's call()).
        let caller = script.caller.client
        if command.flags.contains(.readonly) && caller.tracking.on {
            server.rememberKeys(of: script.callerCommand, script.callerArgs, for: caller)
        }
        return .reply(reply)
    }

    func luaLog(level: Int, _ message: String) {
        switch level {
        case 0: server.logger.debug("\(message)")
        case 1: server.logger.info("\(message)")
        case 2: server.logger.notice("\(message)")
        default: server.logger.warning("\(message)")
        }
    }

    func luaCommandExists(_ args: [ByteBuffer]) -> Bool {
        server.commandTable.lookup(call: args) != nil
    }

    /// The client scripts run their commands as (not listed by CLIENT LIST), in
    /// MULTI when the caller is, as Redis's lua client.
    private func scriptClient(_ script: ActiveScript) -> ClientSession {
        if let scriptSession { return scriptSession }
        let client = ClientState(id: 0, authenticated: true, address: "", localAddress: "", now: currentTimeMillis())
        let session = ClientSession(client: client, server: server, loop: script.caller.loop)
        scriptSession = session
        return session
    }
}
