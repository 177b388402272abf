import CLua
import CLuaBridge

/// A Lua state pointer, and the parts of Lua 5.1's C API that are macros in
/// lua.h (Swift cannot import function-like macros).
typealias LuaState = OpaquePointer

enum Lua {
    static let registry: Int32 = -10000  // LUA_REGISTRYINDEX
    static let globals: Int32 = -10002   // LUA_GLOBALSINDEX

    static func pop(_ L: LuaState, _ n: Int32 = 1) { lua_settop(L, -n - 1) }

    static func newTable(_ L: LuaState) { lua_createtable(L, 0, 0) }

    static func type(_ L: LuaState, _ i: Int32) -> Int32 { lua_type(L, i) }
    static func isNil(_ L: LuaState, _ i: Int32) -> Bool { lua_type(L, i) == LUA_TNIL }
    static func isTable(_ L: LuaState, _ i: Int32) -> Bool { lua_type(L, i) == LUA_TTABLE }
    static func isString(_ L: LuaState, _ i: Int32) -> Bool { lua_isstring(L, i) != 0 }

    /// The bytes of the string (or number, converted in place) at `i`.
    static func bytes(_ L: LuaState, _ i: Int32) -> [UInt8]? {
        var len = 0
        guard let p = lua_tolstring(L, i, &len) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
    }

    static func string(_ L: LuaState, _ i: Int32) -> String? {
        bytes(L, i).map { String(decoding: $0, as: UTF8.self) }
    }

    static func push(_ L: LuaState, _ s: String) {
        var s = s
        s.withUTF8 { b in b.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) } }
    }

    static func push<Bytes: Collection>(_ L: LuaState, bytes: Bytes) where Bytes.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ b in
            b.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }) {
            return done
        }
        push(L, bytes: Array(bytes))
    }

    static func setField(_ L: LuaState, _ index: Int32, _ name: String) { lua_setfield(L, index, name) }
    static func getField(_ L: LuaState, _ index: Int32, _ name: String) { lua_getfield(L, index, name) }
    static func getGlobal(_ L: LuaState, _ name: String) { lua_getfield(L, globals, name) }
    static func setGlobal(_ L: LuaState, _ name: String) { lua_setfield(L, globals, name) }

    /// Pushes a Swift function (called through the C trampoline of CLuaBridge).
    static func push(_ L: LuaState, function: lode_lua_swift_fn) { lode_lua_pushfunction(L, function) }

    /// Pushes Redis's error table {err = "<CODE> <message>"} (luaPushErrorBuff):
    /// a leading '-' means the code is the first word, otherwise the code is ERR;
    /// a trailing CR/LF is trimmed.
    static func pushErrorTable(_ L: LuaState, _ text: String) {
        var code = "ERR", message = text
        if text.hasPrefix("-") {
            let rest = text.dropFirst()
            if let space = rest.firstIndex(of: " ") {
                code = String(rest[..<space])
                message = String(rest[rest.index(after: space)...])
            } else {
                message = String(rest)
            }
        }
        while let last = message.unicodeScalars.last, last == "\r" || last == "\n" { message.unicodeScalars.removeLast() }
        while let first = message.unicodeScalars.first, first == "\r" || first == "\n" { message.unicodeScalars.removeFirst() }
        newTable(L)
        push(L, code + " " + message)
        setField(L, -2, "err")
    }

    /// The integer of the number at `i` as C's cast gives it (Int(_:) would trap
    /// on NaN or infinity: a script must never be able to crash the server).
    static func integer(_ L: LuaState, _ i: Int32) -> Int { truncatedInteger(lua_tonumber(L, i)) }

    /// luaL_checkint's value: the integer cut to 32 bits.
    static func int32(_ L: LuaState, _ i: Int32) -> Int { Int(Int32(truncatingIfNeeded: integer(L, i))) }

    /// Pushes `message` after the calling Lua code's position ("user_script:1: "),
    /// as luaL_error does, and returns the trampoline's raise code.
    static func raisePositioned(_ L: LuaState, _ message: String) -> Int32 {
        luaL_where(L, 1)
        push(L, message)
        lua_concat(L, 2)
        return LODE_LUA_RAISE
    }

    /// Redis's "%.17g" for numbers passed to commands and doubles in replies.
    static func format17g(_ d: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([d]) { vsnprintf(&buffer, 64, "%.17g", $0) }
        return String(cString: buffer)
    }

    /// C's (long long) cast of a double as x86 performs it: out-of-range and NaN
    /// give INT64_MIN (Swift's Int(_:) would trap).
    static func truncatedInteger(_ d: Double) -> Int {
        guard d.isFinite, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return Int.min }
        return Int(d)
    }
}
