import CLua
import CLuaBridge
import LodeRESP
import NIOCore

/// The `redis` table scripts see (Redis 7.0.15's luaRegisterRedisAPI and the
/// eval additions), and Redis's math.random. Texts of errors are Redis's own.
enum LuaRedisLibrary {
    static let version = "7.0.15"
    static let versionNumber = (7 << 16) | (0 << 8) | 15

    /// The `redis` global; EVAL's has breakpoint, debug and replicate_commands too.
    static func register(_ L: LuaState, eval: Bool) {
        Lua.newTable(L)
        var functions: [(String, lode_lua_swift_fn)] = [
            ("call", call), ("pcall", pcall), ("setresp", setResp), ("sha1hex", sha1hex),
            ("error_reply", errorReply), ("status_reply", statusReply), ("set_repl", setRepl),
            ("acl_check_cmd", aclCheck),
        ]
        if eval { functions += [("breakpoint", breakpoint), ("debug", debugCommand), ("replicate_commands", replicateCommands)] }
        for (name, fn) in functions {
            Lua.push(L, function: fn)
            Lua.setField(L, -2, name)
        }
        registerLog(L)
        for (name, value) in [("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3)] {
            lua_pushnumber(L, Double(value))
            Lua.setField(L, -2, name)
        }
        registerVersion(L)
        Lua.setGlobal(L, "redis")
        Lua.getGlobal(L, "math")
        Lua.push(L, function: random)
        Lua.setField(L, -2, "random")
        Lua.push(L, function: randomSeed)
        Lua.setField(L, -2, "randomseed")
        Lua.pop(L)
    }

    /// redis.log and the LOG_* levels, into the table on top of the stack.
    static func registerLog(_ L: LuaState) {
        Lua.push(L, function: log)
        Lua.setField(L, -2, "log")
        for (name, value) in [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)] {
            lua_pushnumber(L, Double(value))
            Lua.setField(L, -2, name)
        }
    }

    /// REDIS_VERSION and REDIS_VERSION_NUM, into the table on top of the stack.
    static func registerVersion(_ L: LuaState) {
        lua_pushnumber(L, Double(versionNumber))
        Lua.setField(L, -2, "REDIS_VERSION_NUM")
        Lua.push(L, version)
        Lua.setField(L, -2, "REDIS_VERSION")
    }

    /// The interpreter's run, or an error raised for calls outside a script.
    private static func currentRun(_ L: LuaState, _ what: String) -> LuaInterpreter.Run? {
        if let run = LuaInterpreter.owner(of: L)?.run { return run }
        Lua.pushErrorTable(L, "\(what) can only be called inside a script invocation")
        return nil
    }

    /// Raises Redis's error table for `message`.
    private static func raise(_ L: LuaState, _ message: String) -> Int32 {
        Lua.pushErrorTable(L, message)
        return LODE_LUA_RAISE
    }

    /// The arguments of a call as command arguments: numbers as "%.17g", strings
    /// as their bytes; nil when one is neither. They are slices of one buffer:
    /// one allocation per call, however many arguments.
    private static func arguments(_ L: LuaState) -> [ByteBuffer]? {
        let argc = lua_gettop(L)
        guard argc > 0 else { return [] }
        var total = 0
        for j in 1...argc {
            switch Lua.type(L, j) {
            case LUA_TNUMBER: total += 24
            case LUA_TSTRING: total += Int(lua_objlen(L, j))
            default: return nil
            }
        }
        var storage = ByteBufferAllocator().buffer(capacity: total)
        var bounds: [(Int, Int)] = []
        bounds.reserveCapacity(Int(argc))
        for j in 1...argc {
            let start = storage.writerIndex
            if Lua.type(L, j) == LUA_TNUMBER {
                storage.writeString(Lua.format17g(lua_tonumber(L, j)))
            } else {
                var len = 0
                if let p = lua_tolstring(L, j, &len) { storage.writeBytes(UnsafeRawBufferPointer(start: p, count: len)) }
            }
            bounds.append((start, storage.writerIndex - start))
        }
        return bounds.map { storage.getSlice(at: $0.0, length: $0.1)! }
    }

    // MARK: redis.call / redis.pcall

    static let call: lode_lua_swift_fn = { L in command(L!, raise: true) }
    static let pcall: lode_lua_swift_fn = { L in command(L!, raise: false) }

    private static func command(_ L: LuaState, raise: Bool) -> Int32 {
        guard let run = currentRun(L, "redis.call/pcall") else { return LODE_LUA_RAISE }
        let failed: Int32 = raise ? LODE_LUA_RAISE : 1
        guard lua_gettop(L) > 0 else {
            Lua.pushErrorTable(L, "Please specify at least one argument for this redis lib call")
            return failed
        }
        guard let args = arguments(L) else {
            lua_settop(L, 0)
            Lua.pushErrorTable(L, "Lua redis lib command arguments must be strings or integers")
            return failed
        }
        lua_settop(L, 0)
        switch run.host.luaCall(args, resp: run.scriptResp) {
        case .rejected(let message):
            Lua.pushErrorTable(L, message)
            lua_pushboolean(L, 1)
            Lua.setField(L, -2, "ignore_error_stats_update")
            return failed
        case .reply(let reply):
            let isError = LuaReplies.push(L, reply: reply)
            return raise && isError ? LODE_LUA_RAISE : 1
        }
    }

    // MARK: the rest of the API

    static let log: lode_lua_swift_fn = { L in
        let L = L!
        let argc = lua_gettop(L)
        if argc < 2 { return raise(L, "redis.log() requires two arguments or more.") }
        if lua_isnumber(L, 1) == 0 { return raise(L, "First argument must be a number (log level).") }
        let level = Lua.integer(L, 1)
        if level < 0 || level > 3 { return raise(L, "Invalid debug level.") }
        var parts: [String] = []
        for j in 2...argc where Lua.isString(L, j) { parts.append(Lua.string(L, j) ?? "") }
        let interpreter = LuaInterpreter.owner(of: L)
        (interpreter?.run?.host ?? interpreter?.loading?.host)?.luaLog(level: level, parts.joined(separator: " "))
        return 0
    }

    static let setResp: lode_lua_swift_fn = { L in
        let L = L!
        guard let run = currentRun(L, "redis.setresp") else { return LODE_LUA_RAISE }
        if lua_gettop(L) != 1 { return raise(L, "redis.setresp() requires one argument.") }
        switch Lua.integer(L, -1) {
        case 2: run.scriptResp = .resp2
        case 3: run.scriptResp = .resp3
        default: return raise(L, "RESP version must be 2 or 3.")
        }
        return 0
    }

    static let sha1hex: lode_lua_swift_fn = { L in
        let L = L!
        if lua_gettop(L) != 1 { return raise(L, "wrong number of arguments") }
        Lua.push(L, SHA1.hex(Lua.bytes(L, 1) ?? []))
        return 1
    }

    static let errorReply: lode_lua_swift_fn = { L in
        let L = L!
        guard lua_gettop(L) == 1, Lua.type(L, -1) == LUA_TSTRING, let text = Lua.string(L, -1) else {
            Lua.pushErrorTable(L, "wrong number or type of arguments")
            return 1
        }
        Lua.pushErrorTable(L, text.hasPrefix("-") ? text : "-" + text)
        return 1
    }

    static let statusReply: lode_lua_swift_fn = { L in
        let L = L!
        guard lua_gettop(L) == 1, Lua.type(L, -1) == LUA_TSTRING else {
            Lua.pushErrorTable(L, "wrong number or type of arguments")
            return 1
        }
        Lua.newTable(L)
        lua_pushvalue(L, -2)
        Lua.setField(L, -2, "ok")
        return 1
    }

    /// Accepted, with no effect: Lode has no replicas yet, as a Redis without them.
    static let setRepl: lode_lua_swift_fn = { L in
        let L = L!
        guard currentRun(L, "redis.set_repl") != nil else { return LODE_LUA_RAISE }
        if lua_gettop(L) != 1 { return raise(L, "redis.set_repl() requires two arguments.") }
        let flags = Lua.integer(L, -1)
        if flags & ~3 != 0 { return raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.") }
        return 0
    }

    /// Every command is allowed to the default user (ACLs are not built yet).
    static let aclCheck: lode_lua_swift_fn = { L in
        let L = L!
        guard let run = currentRun(L, "redis.acl_check_cmd") else { return LODE_LUA_RAISE }
        guard lua_gettop(L) > 0 else { return raise(L, "Please specify at least one argument for this redis lib call") }
        guard let args = arguments(L) else { return raise(L, "Lua redis lib command arguments must be strings or integers") }
        guard run.host.luaCommandExists(args) else { return raise(L, "Invalid command passed to redis.acl_check_cmd()") }
        lua_pushboolean(L, 1)
        return 1
    }

    /// No debugger: breakpoint answers false and debug does nothing, as in Redis
    /// outside a debugging session.
    static let breakpoint: lode_lua_swift_fn = { L in
        lua_pushboolean(L!, 0)
        return 1
    }

    static let debugCommand: lode_lua_swift_fn = { _ in 0 }

    /// Redis 7 always replicates effects: the call succeeds.
    static let replicateCommands: lode_lua_swift_fn = { L in
        lua_pushboolean(L!, 1)
        return 1
    }

    // MARK: redis.register_function (FUNCTION LOAD only)

    static let registerFunction: lode_lua_swift_fn = { L in
        let L = L!
        guard let interpreter = LuaInterpreter.owner(of: L), let load = interpreter.loading else {
            return raise(L, "redis.register_function can only be called on FUNCTION LOAD command")
        }
        let argc = lua_gettop(L)
        guard argc == 1 || argc == 2 else { return raise(L, "wrong number of arguments to redis.register_function") }
        var name: String?, description: String?, flags: [String] = []
        let key = interpreter.newFunctionKey()
        var haveCallback = false
        func failed(_ message: String) -> Int32 {
            if haveCallback { interpreter.undefine(key) }
            return raise(L, message)
        }
        if argc == 2 {
            guard Lua.isString(L, 1) else { return raise(L, "first argument to redis.register_function must be a string") }
            name = Lua.string(L, 1)
            guard lua_type(L, 2) == LUA_TFUNCTION else {
                return raise(L, "second argument to redis.register_function must be a function")
            }
            lua_pushvalue(L, 2)
            Lua.setField(L, Lua.registry, key)
            haveCallback = true
        } else {
            guard Lua.isTable(L, 1) else {
                return raise(L, "calling redis.register_function with a single argument is only applicable to Lua table "
                    + "(representing named arguments).")
            }
            lua_pushnil(L)
            while lua_next(L, 1) != 0 {
                guard Lua.isString(L, -2) else { return failed("named argument key given to redis.register_function is not a string") }
                switch (Lua.string(L, -2) ?? "").lowercased() {
                case "function_name":
                    guard Lua.isString(L, -1) else {
                        return failed("function_name argument given to redis.register_function must be a string")
                    }
                    name = Lua.string(L, -1)
                case "description":
                    guard Lua.isString(L, -1) else {
                        return failed("description argument given to redis.register_function must be a string")
                    }
                    description = Lua.string(L, -1)
                case "callback":
                    guard lua_type(L, -1) == LUA_TFUNCTION else {
                        return failed("callback argument given to redis.register_function must be a function")
                    }
                    lua_pushvalue(L, -1)
                    Lua.setField(L, Lua.registry, key)
                    haveCallback = true
                case "flags":
                    guard Lua.isTable(L, -1) else {
                        return failed("flags argument to redis.register_function must be a table representing function flags")
                    }
                    var i: Int32 = 1
                    while true {
                        lua_rawgeti(L, -1, i)
                        let flag = Lua.isNil(L, -1) ? nil : (Lua.isString(L, -1) ? Lua.string(L, -1) : "")
                        Lua.pop(L)
                        guard let flag else { break }
                        guard load.validFlag(flag.lowercased()) else { return failed("unknown flag given") }
                        flags.append(flag.lowercased())
                        i += 1
                    }
                default:
                    return failed("unknown argument given to redis.register_function")
                }
                Lua.pop(L)
            }
            guard name != nil else { return failed("redis.register_function must get a function name argument") }
            guard haveCallback else { return failed("redis.register_function must get a callback argument") }
        }
        let functionName = name ?? ""
        let validName = !functionName.isEmpty && functionName.utf8.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95
        }
        guard validName else {
            return failed("Library names can only contain letters, numbers, or underscores(_) and must be at least one "
                + "character long")
        }
        guard !load.functions.contains(where: { $0.name == functionName }) else {
            return failed("Function already exists in the library")
        }
        load.functions.append(LuaInterpreter.RegisteredFunction(name: functionName, description: description, flags: flags, key: key))
        return 0
    }

    // MARK: math.random

    static let random: lode_lua_swift_fn = { L in
        let L = L!
        guard let interpreter = runningInterpreter(L) else {
            Lua.push(L, "math.random can only be called inside a script invocation")
            return LODE_LUA_RAISE
        }
        let max = Double(Int32.max)
        let r = Double(Int32(interpreter.random.next() % Int32.max)) / max
        switch lua_gettop(L) {
        case 0:
            lua_pushnumber(L, r)
        case 1:
            let u = Lua.int32(L, 1)
            guard u >= 1 else { return argumentError(L, 1, "interval is empty") }
            lua_pushnumber(L, (r * Double(u)).rounded(.down) + 1)
        case 2:
            let l = Lua.int32(L, 1), u = Lua.int32(L, 2)
            guard l <= u else { return argumentError(L, 2, "interval is empty") }
            lua_pushnumber(L, (r * Double(u - l + 1)).rounded(.down) + Double(l))
        default:
            return Lua.raisePositioned(L, "wrong number of arguments")
        }
        return 1
    }

    static let randomSeed: lode_lua_swift_fn = { L in
        let L = L!
        guard let interpreter = runningInterpreter(L) else {
            Lua.push(L, "math.randomseed can only be called inside a script invocation")
            return LODE_LUA_RAISE
        }
        interpreter.random.seed(Int32(truncatingIfNeeded: Lua.integer(L, 1)))
        return 0
    }

    /// The interpreter of `L` while a script runs in it.
    private static func runningInterpreter(_ L: LuaState) -> LuaInterpreter? {
        guard let interpreter = LuaInterpreter.owner(of: L), interpreter.run != nil else { return nil }
        return interpreter
    }

    /// luaL_argerror's text, raised from the trampoline.
    private static func argumentError(_ L: LuaState, _ n: Int32, _ message: String) -> Int32 {
        Lua.raisePositioned(L, "bad argument #\(n) to 'random' (\(message))")
    }
}
