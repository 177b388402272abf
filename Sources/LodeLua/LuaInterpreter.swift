import CLua
import CLuaBridge
import LodeRESP
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// What runs a script's `redis.call` / `redis.pcall`: the engine.
public protocol LuaHost: AnyObject {
    /// Runs one command for the script; `resp` is the protocol the script
    /// asked for (redis.setresp).
    func luaCall(_ args: [ByteBuffer], resp: RESPVersion) -> LuaCallResult
    /// redis.log at Redis's level numbers (0 debug … 3 warning).
    func luaLog(level: Int, _ message: String)
    /// Whether `args` names a command (redis.acl_check_cmd; every command is allowed).
    func luaCommandExists(_ args: [ByteBuffer]) -> Bool
}

public enum LuaCallResult {
    /// The command ran: its reply.
    case reply(ByteBuffer)
    /// The command was refused before running (unknown, wrong arity, not
    /// allowed from scripts, a write in a read-only script): Redis's message.
    case rejected(String)
}

/// A Lua 5.1 interpreter sandboxed as Redis 7.0 sandboxes its scripting
/// engine: Redis's libraries and `redis` API, read-only globals and library
/// tables, no file access, binary chunks refused, a memory limit.
///
/// A script runs as a coroutine. Past `busyThreshold` milliseconds the count
/// hook suspends it, so that the event loop can answer other clients (BUSY)
/// and hear SCRIPT KILL; the engine resumes it right after. Confined to one
/// thread; the script cannot observe the suspensions.
public final class LuaInterpreter {
    let L: LuaState
    private let memory: UnsafeMutablePointer<LuaMemory>
    /// The run in progress (nil between scripts).
    var run: Run?
    /// Redis's rand48 state for math.random (never reseeded per script, as in 7.0).
    var random = Rand48()

    /// One script or function call in progress.
    final class Run {
        let host: LuaHost
        let name: String
        let client: RESPVersion
        var scriptResp = RESPVersion.resp2
        let thread: LuaState
        let threadRef: Int32
        let started: Int64
        let busyThreshold: Int64
        var killed = false
        var timedOut = false
        /// When the script last started or resumed running: once busy it runs in
        /// slices of `LuaInterpreter.busySlice` milliseconds.
        var sliceStarted: Int64
        /// Set by the hook when it suspends the script; cleared on resume.
        var hookYielded = false
        /// Threads of the sandbox's own pcall through which the hook may suspend.
        var yieldable: Set<OpaquePointer> = []

        init(host: LuaHost, name: String, client: RESPVersion, thread: LuaState, threadRef: Int32, started: Int64,
             busyThreshold: Int64) {
            self.host = host
            self.name = name
            self.client = client
            self.thread = thread
            self.threadRef = threadRef
            self.started = started
            self.busyThreshold = busyThreshold
            sliceStarted = started
        }
    }

    /// A function a library registered while loading.
    public struct RegisteredFunction: Sendable {
        public let name: String
        public let description: String?
        public let flags: [String]
        /// Where the interpreter keeps its callback (for `start`).
        public let key: String
    }

    /// FUNCTION LOAD in progress: what the library registers.
    final class Load {
        let host: LuaHost
        let started: Int64
        let timeout: Int64
        let validFlag: (String) -> Bool
        var functions: [RegisteredFunction] = []

        init(host: LuaHost, started: Int64, timeout: Int64, validFlag: @escaping (String) -> Bool) {
            self.host = host
            self.started = started
            self.timeout = timeout
            self.validFlag = validFlag
        }
    }

    var loading: Load?
    private var nextFunctionKey = 0

    func newFunctionKey() -> String {
        nextFunctionKey += 1
        return "__lode_fn:\(nextFunctionKey)"
    }

    public enum Outcome {
        /// The script ended: its reply (or error) in the caller's protocol.
        case finished(ByteBuffer)
        /// Suspended past the busy threshold: call `resume()` soon.
        case suspended
    }

    /// `memoryLimit` bytes of Lua heap for scripts (0: none). `functions`: the
    /// interpreter of FUNCTION libraries rather than EVAL's.
    public init(memoryLimit: Int, functions: Bool = false) throws(LuaSetupError) {
        memory = .allocate(capacity: 1)
        memory.initialize(to: LuaMemory(limit: memoryLimit))
        guard let state = lua_newstate(luaAllocate, memory) else {
            memory.deallocate()
            throw LuaSetupError(message: "cannot create a Lua state")
        }
        L = state
        memory.pointee.owner = Unmanaged.passUnretained(self).toOpaque()
        try LuaSandbox.install(self, functions: functions)
    }

    deinit {
        lua_close(L)
        memory.deinitialize(count: 1)
        memory.deallocate()
    }

    /// How long a busy script runs between two suspensions (ms).
    public static let busySlice: Int64 = 10

    /// The interpreter owning state `L` (any of its threads).
    /// (The allocator's user data leads to it: cheaper than a registry lookup,
    /// and this runs for every call a script makes.)
    static func owner(of L: LuaState) -> LuaInterpreter? {
        var ud: UnsafeMutableRawPointer?
        _ = lua_getallocf(L, &ud)
        guard let owner = ud?.assumingMemoryBound(to: LuaMemory.self).pointee.owner else { return nil }
        return Unmanaged<LuaInterpreter>.fromOpaque(owner).takeUnretainedValue()
    }

    public var usedMemory: Int { memory.pointee.used }

    /// Whether the error the last script replied with was already counted in
    /// the error statistics (the error of a command it called).
    public internal(set) var errorAlreadyCounted = false

    /// The Lua heap scripts may grow to (bytes; 0: no limit), applied from the next allocation.
    public var memoryLimit: Int {
        get { memory.pointee.limit }
        set { memory.pointee.limit = newValue }
    }
    public var isRunning: Bool { run != nil }

    // MARK: defining functions

    /// Compiles `body` as chunk "@user_script" and keeps it in the registry under
    /// `name`; returns Lua's error message when it does not compile.
    public func define(_ name: String, body: [UInt8], chunkName: String = "@user_script") -> String? {
        let status = body.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { luaL_loadbuffer(L, $0.baseAddress, $0.count, chunkName) }
        }
        if status != 0 {
            let message = Lua.string(L, -1) ?? "unknown error"
            Lua.pop(L)
            return message
        }
        Lua.setField(L, Lua.registry, name)
        return nil
    }

    public func isDefined(_ name: String) -> Bool {
        Lua.getField(L, Lua.registry, name)
        defer { Lua.pop(L) }
        return lua_type(L, -1) == LUA_TFUNCTION
    }

    public func undefine(_ name: String) {
        lua_pushnil(L)
        Lua.setField(L, Lua.registry, name)
    }

    // MARK: libraries

    /// Runs a library's code (after its shebang line) so that it registers its
    /// functions, with the load-time globals and a time limit, as Redis's
    /// luaEngineCreate. Returns the functions, or Redis's error text.
    public func loadLibrary(_ code: [UInt8], host: LuaHost, timeoutMs: Int64,
                            validFlag: @escaping (String) -> Bool) -> Result<[RegisteredFunction], LuaLoadError> {
        let load = Load(host: host, started: LuaClock.nowMillis(), timeout: timeoutMs, validFlag: validFlag)
        LuaSandbox.setLoading(L, true)
        defer {
            LuaSandbox.setLoading(L, false)
            lode_lua_sethook(L, nil, 0, 0)
            loading = nil
        }
        let status = code.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { luaL_loadbuffer(L, $0.baseAddress, $0.count, "@user_function") }
        }
        if status != 0 {
            let message = Lua.string(L, -1) ?? "?"
            Lua.pop(L)
            return .failure(LuaLoadError(message: "Error compiling function: \(message)"))
        }
        loading = load
        lode_lua_sethook(L, luaHookDecision, 100_000, 0)
        memory.pointee.enforcing = true
        let result = lua_pcall(L, 0, 0, 0)
        memory.pointee.enforcing = false
        if result != 0 {
            let info = ErrorInfo(L, at: -1)
            Lua.pop(L)
            for f in load.functions { undefine(f.key) }
            return .failure(LuaLoadError(message: "Error registering functions: \(info.message)"))
        }
        return .success(load.functions)
    }

    // MARK: running

    /// Starts function `name` (defined before). EVAL scripts see KEYS and ARGV as
    /// globals; functions get them as their two arguments.
    public func start(_ name: String, keys: [ByteBuffer], args: [ByteBuffer], asGlobals: Bool, errorName: String,
                      host: LuaHost, client: RESPVersion, now: Int64, busyThreshold: Int64) -> Outcome {
        precondition(run == nil, "one script at a time")
        let (thread, ref): (LuaState, Int32)
        if let spare = spareThread {
            (thread, ref) = spare
            spareThread = nil
        } else {
            thread = lua_newthread(L)!
            ref = luaL_ref(L, Lua.registry)
        }
        let r = Run(host: host, name: errorName, client: client, thread: thread, threadRef: ref, started: now,
                    busyThreshold: busyThreshold)
        run = r
        if busyThreshold > 0 { lode_lua_sethook(thread, luaHookDecision, 100_000, 0) }
        Lua.getField(thread, Lua.registry, name)
        pushArray(thread, keys)
        pushArray(thread, args)
        var nargs: Int32 = 2
        if asGlobals {
            Lua.getField(thread, Lua.registry, LuaSandbox.realGlobalsKey)
            lua_pushvalue(thread, -2)
            Lua.setField(thread, -2, "ARGV")
            lua_pushvalue(thread, -3)
            Lua.setField(thread, -2, "KEYS")
            lua_settop(thread, 1)
            nargs = 0
        }
        return proceed(nargs: nargs)
    }

    /// Continues a suspended script.
    public func resume() -> Outcome {
        guard let r = run else { return .finished(ByteBuffer()) }
        r.hookYielded = false
        r.sliceStarted = LuaClock.nowMillis()
        return proceed(nargs: 0)
    }

    /// SCRIPT KILL / FUNCTION KILL: the script fails at its next instruction.
    public func kill() { run?.killed = true }

    public var timedOut: Bool { run?.timedOut ?? false }

    private func proceed(nargs: Int32) -> Outcome {
        guard let r = run else { return .finished(ByteBuffer()) }
        memory.pointee.enforcing = true
        let status = lua_resume(r.thread, nargs)
        memory.pointee.enforcing = false
        if status == LUA_YIELD && r.hookYielded { return .suspended }
        errorAlreadyCounted = false
        var out = ByteBuffer()
        let T = r.thread
        switch status {
        case 0:
            if lua_gettop(T) == 0 { lua_pushnil(T) }
            lua_settop(T, 1)
            LuaReplies.write(T, to: &out, client: r.client, script: r.scriptResp)
        case LUA_YIELD:
            out.writeError("ERR attempt to yield across metamethod/C-call boundary script: \(r.name)")
        case LUA_ERRMEM:
            out.writeError("ERR Error running script \(r.name): the script exceeded the Lua memory limit "
                + "(lua-memory-limit \(memory.pointee.limit) bytes)")
        default:
            writeError(T, r, to: &out)
        }
        finish(r, reusable: status == 0)
        return .finished(out)
    }

    /// Redis's error reply for a failed script: the error's message, and where
    /// it was raised (`script: <name>, on @user_script:<line>.`).
    private func writeError(_ T: LuaState, _ r: Run, to out: inout ByteBuffer) {
        var where_: (String, Int32)? = nil
        var ar = lua_Debug()
        var level: Int32 = 0
        while lua_getstack(T, level, &ar) != 0 {
            _ = lua_getinfo(T, "Sl", &ar)
            let source = String(cString: ar.source)
            if ar.what.pointee != CChar(UInt8(ascii: "C")) && source != LuaSandbox.chunkName {
                where_ = (source, ar.currentline)
                break
            }
            level += 1
        }
        // Redis's __redis__err__handler: a value that is not a table becomes
        // {err = 'ERR ' .. tostring(value)}; the place is where it was raised.
        var text: String
        switch Lua.type(T, -1) {
        case LUA_TTABLE: text = ErrorInfo(T, at: -1).message
        case LUA_TSTRING, LUA_TNUMBER: text = "ERR " + (Lua.string(T, -1) ?? "")
        case LUA_TNIL: text = "ERR nil"
        case LUA_TBOOLEAN: text = "ERR " + (lua_toboolean(T, -1) != 0 ? "true" : "false")
        default: text = "ERR " + String(cString: lua_typename(T, Lua.type(T, -1)))
        }
        if let (source, line) = where_ { text += " script: \(r.name), on \(source):\(line)." }
        out.writeError(text)
        errorAlreadyCounted = Lua.isTable(T, -1) && ErrorInfo(T, at: -1).alreadyCounted
    }

    /// A thread whose last script returned normally: Lua 5.1 can run another
    /// function on it, which saves a thread's allocation and collection per script.
    private var spareThread: (LuaState, Int32)?
    private var scriptsSinceStep = 0

    private func finish(_ r: Run, reusable: Bool) {
        lode_lua_sethook(r.thread, nil, 0, 0)
        if reusable && spareThread == nil {
            lua_settop(r.thread, 0)
            spareThread = (r.thread, r.threadRef)
        } else {
            luaL_unref(L, Lua.registry, r.threadRef)
        }
        run = nil
        // A collection step every 50 scripts, as Redis does (every script costs too much).
        scriptsSinceStep += 1
        if scriptsSinceStep >= 50 {
            scriptsSinceStep = 0
            lua_gc(L, LUA_GCSTEP, 50)
        }
        if memory.pointee.limit > 0 && memory.pointee.used > memory.pointee.limit { lua_gc(L, LUA_GCCOLLECT, 0) }
    }

    private func pushArray(_ T: LuaState, _ items: [ByteBuffer]) {
        lua_createtable(T, Int32(items.count), 0)
        for (i, item) in items.enumerated() {
            Lua.push(T, bytes: item.readableBytesView)
            lua_rawseti(T, -2, Int32(i + 1))
        }
    }

    // MARK: the hook

    /// Called every 100,000 instructions (every line once killed).
    fileprivate func hookDecision(_ T: LuaState) -> Int32 {
        if let load = loading {
            guard load.timeout > 0, LuaClock.nowMillis() - load.started > load.timeout else { return Int32(LODE_HOOK_CONTINUE) }
            lode_lua_sethook(T, luaHookDecision, 100_000, 1)
            Lua.pushErrorTable(T, "FUNCTION LOAD timeout")
            return Int32(LODE_HOOK_RAISE)
        }
        guard let r = run else { return Int32(LODE_HOOK_CONTINUE) }
        if r.killed {
            // From now on every line raises, on every thread of the script, so
            // that no pcall can catch the error for long (Redis sets LUA_MASKLINE).
            for thread in [r.thread, T] + Array(r.yieldable) { lode_lua_sethook(thread, luaHookDecision, 100_000, 1) }
            Lua.pushErrorTable(T, "Script killed by user with SCRIPT KILL...")
            return Int32(LODE_HOOK_RAISE)
        }
        let now = LuaClock.nowMillis()
        guard r.busyThreshold > 0, now - r.started >= r.busyThreshold else { return Int32(LODE_HOOK_CONTINUE) }
        guard !r.timedOut || now - r.sliceStarted >= Self.busySlice else { return Int32(LODE_HOOK_CONTINUE) }
        r.timedOut = true
        guard T == r.thread || r.yieldable.contains(T), lode_lua_can_yield(T) != 0 else {
            return Int32(LODE_HOOK_CONTINUE)
        }
        r.hookYielded = true
        return Int32(LODE_HOOK_YIELD)
    }
}

public struct LuaLoadError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public struct LuaSetupError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

private func luaHookDecision(_ T: OpaquePointer?) -> Int32 {
    guard let T, let interpreter = LuaInterpreter.owner(of: T) else { return Int32(LODE_HOOK_CONTINUE) }
    return interpreter.hookDecision(T)
}

/// Lua's heap, counted, with a limit that applies only while script code runs:
/// an allocation failing anywhere else would make Lua abort the process.
struct LuaMemory {
    var limit: Int
    var used = 0
    var enforcing = false
    /// The interpreter (unretained: it owns this).
    var owner: UnsafeMutableRawPointer?
}

private func luaAllocate(_ ud: UnsafeMutableRawPointer?, _ ptr: UnsafeMutableRawPointer?, _ osize: Int,
                         _ nsize: Int) -> UnsafeMutableRawPointer? {
    let m = ud!.assumingMemoryBound(to: LuaMemory.self)
    if nsize == 0 {
        free(ptr)
        m.pointee.used -= osize
        return nil
    }
    let growth = nsize - (ptr == nil ? 0 : osize)
    if growth > 0 && m.pointee.enforcing && lode_lua_in_host() == 0 && m.pointee.limit > 0
        && m.pointee.used + growth > m.pointee.limit {
        return nil
    }
    guard let p = realloc(ptr, nsize) else { return nil }
    m.pointee.used += growth
    return p
}

/// Milliseconds on a monotonic clock.
public enum LuaClock {
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// Redis's rand48 (rand.c), for math.random and math.randomseed.
struct Rand48 {
    private var x: UInt64 = 0x1234_ABCD_330E

    mutating func next() -> Int32 {
        x = (0x5_DEEC_E66D &* x &+ 0xB) & 0xFFFF_FFFF_FFFF
        return Int32(truncatingIfNeeded: x >> 17)
    }

    mutating func seed(_ value: Int32) {
        x = (UInt64(UInt32(bitPattern: value)) << 16) | 0x330E
    }
}
