import CLua
import CLuaBridge
import CLuaLibs

/// The environment scripts run in, as Redis 7.0.15 builds it (script_lua.c,
/// eval.c): base, table, string, math, cjson, struct, cmsgpack and bit; no os,
/// io, package, debug, print, loadfile or dofile; the `redis` table.
///
/// Redis makes globals and library tables read-only with a patch to Lua's VM;
/// stock Lua 5.1 gets the same behaviour from proxies: `_G` is an empty table
/// whose reads fall through (a table, not a function, so no call per read) to
/// the real globals, which raise on a missing name; every library table is an
/// empty proxy of the real one; writes to any of them raise "Attempt to modify
/// a readonly table", and so do setmetatable and rawset on them.
enum LuaSandbox {
    /// The chunk name of the sandbox's own Lua code: error positions skip it.
    static let chunkName = "@lode_sandbox"
    /// Where the registry keeps the real globals table (KEYS and ARGV go there).
    static let realGlobalsKey = "__lode_globals"

    /// Where the registry keeps the globals proxy's metatable: FUNCTION LOAD
    /// points its __index at the library API while the library's code runs.
    static let globalsMetaKey = "__lode_globals_meta"
    /// The globals a library's code sees while it loads (Redis's LIBRARY_API).
    static let libraryAPIKey = "__lode_library_api"

    static func install(_ interpreter: LuaInterpreter, functions: Bool) throws(LuaSetupError) {
        let L = interpreter.L
        for (name, open) in [("", luaopen_base), ("table", luaopen_table), ("string", luaopen_string),
                             ("math", luaopen_math)] as [(String, lua_CFunction)] {
            lua_pushcclosure(L, open, 0)
            Lua.push(L, name)
            lua_call(L, 1, 0)
        }
        for (name, open) in [("cjson", luaopen_cjson), ("struct", lode_luaopen_struct), ("cmsgpack", lode_luaopen_cmsgpack),
                             ("bit", luaopen_bit)] as [(String, lua_CFunction)] {
            lua_pushcclosure(L, open, 0)
            lua_call(L, 0, 1)
            Lua.setGlobal(L, name)
        }
        // Not in Redis 7.0.15's globals either (setfenv would let a script swap
        // the read-only globals for its own table).
        for name in ["print", "loadfile", "dofile", "getfenv", "setfenv", "newproxy"] {
            lua_pushnil(L)
            Lua.setGlobal(L, name)
        }
        LuaRedisLibrary.register(L, eval: !functions)
        try run(L, wrappers + (functions ? "" : "\n" + evalErrorHandler))
        protect(L)
        if functions { installLibraryAPI(L) }
    }

    /// Lua-side parts: pcall/xpcall that let the busy hook suspend the script
    /// through them (as coroutines), loadstring/load that refuse binary chunks
    /// (Redis's Lua cannot load them: they can corrupt the VM), setmetatable and
    /// rawset that respect read-only tables.
    private static let wrappers = """
    local create, resume, status, yield = coroutine.create, coroutine.resume, coroutine.status, coroutine.yield
    local native_pairs, native_ipairs = pairs, ipairs
    local select, unpack, type, error = select, unpack, type, error
    local native_pcall, native_xpcall = pcall, xpcall
    local enter, hook_yielded, is_c = __lode_enter_pcall, __lode_hook_yielded, __lode_is_cfunction
    local function pack(...) return {n = select('#', ...), ...} end
    local function run(f, ...)
      local co = create(function(...) return f(...) end)
      enter(co)
      local r = pack(resume(co, ...))
      while status(co) ~= 'dead' do
        if not hook_yielded() then return pack(false, 'attempt to yield across metamethod/C-call boundary') end
        yield()
        r = pack(resume(co))
      end
      return r
    end
    -- Redis's pcall: an error table gives its message (luaRedisPcall).
    local function pcall_result(ok, ...)
      if ok then return ok, ... end
      local e = ...
      if type(e) == 'table' then
        local msg = e.err
        if type(msg) == 'string' or type(msg) == 'number' then return false, msg end
        return false, e, msg
      end
      return false, e
    end
    pcall = function(f, ...)
      -- A C function cannot be suspended in, and errors as called by pcall itself.
      if type(f) ~= 'function' or is_c(f) then return pcall_result(native_pcall(f, ...)) end
      local r = run(f, ...)
      return pcall_result(unpack(r, 1, r.n))
    end
    xpcall = function(f, handler)
      if type(f) ~= 'function' or is_c(f) then return native_xpcall(f, handler) end
      local r = run(f)
      if r[1] then return unpack(r, 1, r.n) end
      return false, handler(r[2])
    end
    local native_loadstring = loadstring
    loadstring = function(s, name)
      if type(s) == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
      return native_loadstring(s, name)
    end
    load = function(reader, name)
      local parts = {}
      while true do
        local piece = reader()
        if piece == nil or piece == '' then break end
        if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
        parts[#parts + 1] = piece
      end
      return loadstring(table.concat(parts), name)
    end
    local protected, native_setmetatable, native_rawset = __lode_protected, setmetatable, rawset
    setmetatable = function(t, mt)
      if protected[t] then error('Attempt to modify a readonly table', 0) end
      return native_setmetatable(t, mt)
    end
    rawset = function(t, k, v)
      if protected[t] then error('Attempt to modify a readonly table', 0) end
      return native_rawset(t, k, v)
    end
    local proxied, native_next = __lode_proxied, next
    next = function(t, k) return native_next(proxied[t] or t, k) end
    pairs = function(t)
      if proxied[t] then return next, t, nil end
      return native_pairs(t)
    end
    ipairs = function(t) return native_ipairs(proxied[t] or t) end
    __lode_enter_pcall, __lode_hook_yielded, __lode_protected, __lode_proxied, __lode_is_cfunction = nil, nil, nil, nil, nil
    """

    /// EVAL's globals have Redis's error handler (scripts can see and call it).
    private static let evalErrorHandler = """
    function __redis__err__handler(err)
      if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
      return err
    end
    """

    private static func run(_ L: LuaState, _ code: String) throws(LuaSetupError) {
        // The protected tables, and proxy → the table it stands for (so that
        // next/pairs/ipairs see through): weak-keyed, in the registry and, for
        // the wrappers' code only, as globals it removes.
        for name in ["__lode_protected", "__lode_proxied"] {
            Lua.newTable(L)
            Lua.newTable(L)
            Lua.push(L, "k")
            Lua.setField(L, -2, "__mode")
            _ = lua_setmetatable(L, -2)
            lua_pushvalue(L, -1)
            Lua.setField(L, Lua.registry, name)
            Lua.setGlobal(L, name)
        }
        Lua.push(L, function: enterPcall)
        Lua.setGlobal(L, "__lode_enter_pcall")
        Lua.push(L, function: hookYielded)
        Lua.setGlobal(L, "__lode_hook_yielded")
        Lua.push(L, function: isCFunction)
        Lua.setGlobal(L, "__lode_is_cfunction")
        let bytes = Array(code.utf8)
        let status = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { luaL_loadbuffer(L, $0.baseAddress, $0.count, chunkName) }
        }
        guard status == 0, lua_pcall(L, 0, 0, 0) == 0 else {
            let message = Lua.string(L, -1) ?? "?"
            Lua.pop(L)
            throw LuaSetupError(message: "sandbox setup failed: \(message)")
        }
    }

    /// Replaces the globals table by its read-only proxy, and each library table
    /// by its own proxy.
    private static func protect(_ L: LuaState) {
        Lua.getField(L, Lua.registry, "__lode_protected")
        let protectedSet = lua_gettop(L)
        // The real globals raise on a missing name.
        lua_pushvalue(L, Lua.globals)
        let real = lua_gettop(L)
        lua_pushvalue(L, real)
        Lua.setField(L, Lua.registry, realGlobalsKey)
        for name in ["string", "table", "math", "coroutine", "cjson", "struct", "cmsgpack", "bit", "redis"] {
            Lua.getField(L, real, name)
            pushProxy(L, of: lua_gettop(L), protectedSet: protectedSet)
            Lua.setField(L, real, name)
            Lua.pop(L)
        }
        Lua.newTable(L)
        Lua.push(L, function: missingGlobal)
        Lua.setField(L, -2, "__index")
        _ = lua_setmetatable(L, real)
        pushProxy(L, of: real, protectedSet: protectedSet)
        let proxy = lua_gettop(L)
        _ = lua_getmetatable(L, proxy)
        Lua.setField(L, Lua.registry, globalsMetaKey)
        lua_pushvalue(L, proxy)
        lua_rawset_field(L, real, "_G")
        lua_pushvalue(L, proxy)
        lua_replace(L, Lua.globals)
        lua_settop(L, protectedSet - 1)
    }

    /// The load-time globals of FUNCTION LOAD: only `redis`, with
    /// register_function, log and the version; anything else is a missing global.
    private static func installLibraryAPI(_ L: LuaState) {
        Lua.getField(L, Lua.registry, "__lode_protected")
        let protectedSet = lua_gettop(L)
        Lua.newTable(L)                       // the API's globals
        let api = lua_gettop(L)
        Lua.newTable(L)                       // its redis table
        Lua.push(L, function: LuaRedisLibrary.registerFunction)
        Lua.setField(L, -2, "register_function")
        LuaRedisLibrary.registerLog(L)
        LuaRedisLibrary.registerVersion(L)
        pushErrorMetatable(L)
        _ = lua_setmetatable(L, -2)
        pushProxy(L, of: lua_gettop(L), protectedSet: protectedSet)
        Lua.setField(L, api, "redis")
        Lua.pop(L)                            // the real redis table (the proxy holds it)
        pushErrorMetatable(L)
        _ = lua_setmetatable(L, api)
        pushProxy(L, of: api, protectedSet: protectedSet)
        Lua.setField(L, Lua.registry, libraryAPIKey)
        lua_settop(L, protectedSet - 1)
    }

    /// A metatable whose __index raises "Script attempted to access nonexistent
    /// global variable" (Redis's luaSetErrorMetatable).
    private static func pushErrorMetatable(_ L: LuaState) {
        Lua.newTable(L)
        Lua.push(L, function: missingGlobal)
        Lua.setField(L, -2, "__index")
    }

    /// Points the globals' reads at the library API (loading) or back at the
    /// real globals.
    static func setLoading(_ L: LuaState, _ loading: Bool) {
        Lua.getField(L, Lua.registry, globalsMetaKey)
        Lua.getField(L, Lua.registry, loading ? libraryAPIKey : realGlobalsKey)
        Lua.push(L, "__index")
        lua_insert(L, -2)
        lua_rawset(L, -3)
        Lua.pop(L)
    }

    /// Pushes an empty table reading through to the table at `index`, refusing
    /// writes; its metatable (what getmetatable returns) is read-only as well.
    private static func pushProxy(_ L: LuaState, of index: Int32, protectedSet: Int32) {
        Lua.newTable(L)                      // the proxy
        Lua.newTable(L)                      // its metatable
        lua_pushvalue(L, index)
        Lua.setField(L, -2, "__index")
        Lua.push(L, function: readonlyWrite)
        Lua.setField(L, -2, "__newindex")
        // getmetatable(proxy) gives a read-only view of the metatable.
        Lua.newTable(L)
        Lua.newTable(L)
        lua_pushvalue(L, -3)
        Lua.setField(L, -2, "__index")
        Lua.push(L, function: readonlyWrite)
        Lua.setField(L, -2, "__newindex")
        _ = lua_setmetatable(L, -2)
        for offset: Int32 in [-1, -2, -3] {   // the view, the metatable, the proxy
            lua_pushvalue(L, offset)
            lua_pushboolean(L, 1)
            lua_rawset(L, protectedSet)
        }
        Lua.getField(L, Lua.registry, "__lode_proxied")
        lua_pushvalue(L, -4)                  // the proxy
        lua_pushvalue(L, index)               // what it stands for
        lua_rawset(L, -3)
        Lua.pop(L)
        Lua.setField(L, -2, "__metatable")
        _ = lua_setmetatable(L, -2)
    }

    private static func lua_rawset_field(_ L: LuaState, _ table: Int32, _ name: String) {
        Lua.push(L, name)
        lua_insert(L, -2)
        lua_rawset(L, table)
    }

    // MARK: the metamethods and helpers (Swift functions behind C trampolines)

    /// __newindex of every read-only table, with the writer's position as the VM's
    /// own error would have it.
    static let readonlyWrite: lode_lua_swift_fn = { L in
        guard let L else { return 0 }
        return Lua.raisePositioned(L, "Attempt to modify a readonly table")
    }

    /// __index of the real globals: only reached for a name that is not there.
    static let missingGlobal: lode_lua_swift_fn = { L in
        guard let L else { return 0 }
        let name = Lua.isString(L, 2) ? (Lua.string(L, 2) ?? "") : "?"
        return Lua.raisePositioned(L, "Script attempted to access nonexistent global variable '\(name)'")
    }

    /// The sandbox's pcall runs its function on this coroutine: the busy hook may
    /// suspend through it when the calling thread may be suspended itself.
    static let enterPcall: lode_lua_swift_fn = { L in
        guard let L, let interpreter = LuaInterpreter.owner(of: L), let run = interpreter.run,
              let co = lua_tothread(L, 1) else { return 0 }
        if L == run.thread || run.yieldable.contains(L) { run.yieldable.insert(co) }
        return 0
    }

    static let isCFunction: lode_lua_swift_fn = { L in
        guard let L else { return 0 }
        lua_pushboolean(L, lua_iscfunction(L, 1))
        return 1
    }

    static let hookYielded: lode_lua_swift_fn = { L in
        guard let L else { return 0 }
        lua_pushboolean(L, (LuaInterpreter.owner(of: L)?.run?.hookYielded ?? false) ? 1 : 0)
        return 1
    }
}
