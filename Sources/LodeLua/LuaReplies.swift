import CLua
import CLuaBridge
import LodeRESP
import NIOCore

/// The conversions between Lua values and RESP replies, rule for rule as Redis
/// 7.0's script_lua.c: what a script returns becomes the command's reply
/// (luaReplyToRedisReply), and what a command called from a script replies
/// becomes Lua values (redisProtocolToLuaType).
enum LuaReplies {
    // MARK: Lua → RESP

    /// Writes the value on top of the stack as a reply to a client speaking
    /// `client`, with booleans and nulls as the script's own protocol
    /// (`script`, set by redis.setresp) says; pops the value.
    static func write(_ L: LuaState, to out: inout ByteBuffer, client: RESPVersion, script: RESPVersion) {
        defer { Lua.pop(L) }
        guard lua_checkstack(L, 4) != 0 else { return out.writeError("ERR reached lua stack limit") }
        switch Lua.type(L, -1) {
        case LUA_TSTRING:
            out.writeBulk(bytes: Lua.bytes(L, -1) ?? [])
        case LUA_TBOOLEAN:
            let b = lua_toboolean(L, -1) != 0
            if script == .resp2 {
                if b { out.writeIntegerReply(1) } else { out.writeNull(client) }
            } else {
                out.writeBoolean(b, client)
            }
        case LUA_TNUMBER:
            out.writeIntegerReply(Lua.truncatedInteger(lua_tonumber(L, -1)))
        case LUA_TTABLE:
            writeTable(L, to: &out, client: client, script: script)
        default:
            out.writeNull(client)
        }
    }

    /// A table: an error, a status, a double, a big number, a verbatim string, a
    /// map, a set (each a table with that one field), else an array up to its
    /// first nil.
    private static func writeTable(_ L: LuaState, to out: inout ByteBuffer, client: RESPVersion, script: RESPVersion) {
        if rawField(L, "err", LUA_TSTRING) {
            Lua.pop(L)
            let info = ErrorInfo(L, at: -1)
            out.writeError(info.message)
            LuaInterpreter.owner(of: L)?.errorAlreadyCounted = info.alreadyCounted
            return
        }
        if rawField(L, "ok", LUA_TSTRING) {
            // Redis copies it as a C string: it ends at a NUL.
            let ok = (Lua.bytes(L, -1) ?? []).prefix { $0 != 0 }.map { $0 == 13 || $0 == 10 ? 32 : $0 }
            Lua.pop(L)
            out.writeInteger(UInt8(ascii: "+"))
            out.writeBytes(ok)
            out.writeCRLF()
            return
        }
        if rawField(L, "double", LUA_TNUMBER) {
            writeDouble(lua_tonumber(L, -1), to: &out, client)
            return Lua.pop(L)
        }
        if rawField(L, "big_number", LUA_TSTRING) {
            let digits = (Lua.bytes(L, -1) ?? []).map { $0 == 13 || $0 == 10 ? 32 : $0 }
            Lua.pop(L)
            if client == .resp3 {
                out.writeInteger(UInt8(ascii: "("))
                out.writeBytes(digits)
                out.writeCRLF()
            } else {
                out.writeBulk(bytes: digits)
            }
            return
        }
        if rawField(L, "verbatim_string", LUA_TTABLE) {
            defer { Lua.pop(L) }
            if rawField(L, "format", LUA_TSTRING) {
                let format = Lua.bytes(L, -1) ?? []
                Lua.pop(L)
                if rawField(L, "string", LUA_TSTRING) {
                    let text = Lua.bytes(L, -1) ?? []
                    Lua.pop(L)
                    return writeVerbatim(text, format: format, to: &out, client)
                }
            }
        }
        if rawField(L, "map", LUA_TTABLE) {
            out.writeMapHeader(entryCount(L), client)
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                lua_pushvalue(L, -2)
                write(L, to: &out, client: client, script: script)  // the key
                write(L, to: &out, client: client, script: script)  // the value
            }
            return Lua.pop(L)
        }
        if rawField(L, "set", LUA_TTABLE) {
            out.writeSetHeader(entryCount(L), client)
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                Lua.pop(L)
                lua_pushvalue(L, -1)
                write(L, to: &out, client: client, script: script)
            }
            return Lua.pop(L)
        }
        var count = 0
        while true {
            lua_rawgeti(L, -1, Int32(count + 1))
            defer { Lua.pop(L) }
            if Lua.isNil(L, -1) { break }
            count += 1
        }
        out.writeArrayHeader(count)
        for i in 0..<count {
            lua_rawgeti(L, -1, Int32(i + 1))
            write(L, to: &out, client: client, script: script)
        }
    }

    /// The number of entries of the table on top of the stack.
    private static func entryCount(_ L: LuaState) -> Int {
        var count = 0
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            count += 1
            Lua.pop(L)
        }
        return count
    }

    /// Pushes t[name] (raw) when it has `type` and returns true; else leaves the stack as it was.
    private static func rawField(_ L: LuaState, _ name: String, _ type: Int32) -> Bool {
        Lua.push(L, name)
        lua_rawget(L, -2)
        if Lua.type(L, -1) == type { return true }
        Lua.pop(L)
        return false
    }

    static func writeDouble(_ d: Double, to out: inout ByteBuffer, _ client: RESPVersion) {
        let text = d.isInfinite ? (d > 0 ? "inf" : "-inf") : Lua.format17g(d)
        out.writeDouble(formatted: text, client)
    }

    static func writeVerbatim(_ text: [UInt8], format: [UInt8], to out: inout ByteBuffer, _ client: RESPVersion) {
        guard client == .resp3 else { return out.writeBulk(bytes: text) }
        var fmt = Array(format.prefix(3))
        while fmt.count < 3 { fmt.append(32) }  // Redis pads a short format with spaces
        out.writeInteger(UInt8(ascii: "="))
        out.writeDecimal(text.count + 4)
        out.writeCRLF()
        out.writeBytes(fmt)
        out.writeInteger(UInt8(ascii: ":"))
        out.writeBytes(text)
        out.writeCRLF()
    }

    // MARK: RESP → Lua

    /// Pushes the reply in `reply` (one complete reply, as a command wrote it)
    /// as Lua values; returns whether it was an error.
    @discardableResult
    static func push(_ L: LuaState, reply: ByteBuffer) -> Bool {
        reply.withUnsafeReadableBytes { raw in
            var parser = ReplyParser(bytes: raw)
            let isError = raw.first == UInt8(ascii: "-")
            parser.push(L)
            return isError
        }
    }

    /// A recursive reader of replies Lode itself wrote (well-formed by
    /// construction; malformed input pushes nil rather than trapping).
    struct ReplyParser {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        private mutating func line() -> UnsafeRawBufferPointer {
            let start = at
            while at + 1 < bytes.count && !(bytes[at] == 13 && bytes[at + 1] == 10) { at += 1 }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<min(at, bytes.count)])
            at = min(at + 2, bytes.count)
            return slice
        }

        private mutating func number() -> Int {
            let l = line()
            var n = 0, negative = false
            for (i, b) in l.enumerated() {
                if i == 0 && b == UInt8(ascii: "-") { negative = true; continue }
                guard b >= 48 && b <= 57 else { break }
                n = n &* 10 &+ Int(b - 48)
            }
            return negative ? -n : n
        }

        private mutating func blob(_ length: Int) -> UnsafeRawBufferPointer {
            let end = min(at + max(0, length), bytes.count)
            let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<end])
            at = min(end + 2, bytes.count)
            return slice
        }

        private static func pushBytes(_ L: LuaState, _ b: UnsafeRawBufferPointer) {
            lua_pushlstring(L, b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count)
        }

        mutating func push(_ L: LuaState) {
            guard at < bytes.count, lua_checkstack(L, 5) != 0 else { return lua_pushnil(L) }
            let kind = bytes[at]
            at += 1
            switch kind {
            case UInt8(ascii: ":"):
                lua_pushnumber(L, Double(number()))
            case UInt8(ascii: "$"):
                let n = number()
                if n < 0 { return lua_pushboolean(L, 0) }
                Self.pushBytes(L, blob(n))
            case UInt8(ascii: "+"):
                Lua.newTable(L)
                Self.pushBytes(L, line())
                Lua.setField(L, -2, "ok")
            case UInt8(ascii: "-"):
                let text = String(decoding: line(), as: UTF8.self)
                Lua.pushErrorTable(L, "-" + text)
                lua_pushboolean(L, 1)
                Lua.setField(L, -2, "ignore_error_stats_update")
            case UInt8(ascii: "*"), UInt8(ascii: ">"):
                let n = number()
                if n < 0 { return lua_pushboolean(L, 0) }
                Lua.newTable(L)
                for i in 0..<n {
                    push(L)
                    lua_rawseti(L, -2, Int32(i + 1))
                }
            case UInt8(ascii: "%"):
                let n = number()
                Lua.newTable(L)
                Lua.newTable(L)
                for _ in 0..<max(0, n) {
                    push(L)
                    push(L)
                    lua_settable(L, -3)
                }
                Lua.setField(L, -2, "map")
            case UInt8(ascii: "~"):
                let n = number()
                Lua.newTable(L)
                Lua.newTable(L)
                for _ in 0..<max(0, n) {
                    push(L)
                    lua_pushboolean(L, 1)
                    lua_settable(L, -3)
                }
                Lua.setField(L, -2, "set")
            case UInt8(ascii: "_"):
                _ = line()
                lua_pushnil(L)
            case UInt8(ascii: "#"):
                lua_pushboolean(L, line().first == UInt8(ascii: "t") ? 1 : 0)
            case UInt8(ascii: ","):
                let text = String(decoding: line(), as: UTF8.self)
                Lua.newTable(L)
                lua_pushnumber(L, Self.parseDouble(text))
                Lua.setField(L, -2, "double")
            case UInt8(ascii: "("):
                Lua.newTable(L)
                Self.pushBytes(L, line())
                Lua.setField(L, -2, "big_number")
            case UInt8(ascii: "="):
                let body = blob(number())
                Lua.newTable(L)
                Lua.newTable(L)
                Self.pushBytes(L, UnsafeRawBufferPointer(rebasing: body[min(4, body.count)...]))
                Lua.setField(L, -2, "string")
                Self.pushBytes(L, UnsafeRawBufferPointer(rebasing: body[..<min(3, body.count)]))
                Lua.setField(L, -2, "format")
                Lua.setField(L, -2, "verbatim_string")
            default:
                lua_pushnil(L)
            }
        }

        static func parseDouble(_ text: String) -> Double {
            switch text {
            case "inf": return .infinity
            case "-inf": return -.infinity
            default: return Double(text) ?? .nan
            }
        }
    }
}

/// Redis's errorInfo: what an error value (a string, or a table with err,
/// source, line) says, as luaExtractErrorInformation reads it.
struct ErrorInfo {
    var message: String
    var source: String?
    var line: String?
    /// Redis's ignore_error_stats_update: the error of a command the script
    /// called, already counted in the error statistics when it was replied.
    var alreadyCounted = false

    /// Reads the error value at `index` (left on the stack). Texts end at a NUL,
    /// as Redis copies them as C strings.
    init(_ L: LuaState, at index: Int32) {
        let i = index < 0 ? lua_gettop(L) + index + 1 : index
        message = Lua.isString(L, i) ? "ERR " + Self.cString(L, i) : "ERR unknown error"
        guard Lua.isTable(L, i) else { return }
        lua_getfield(L, i, "err")
        if Lua.isString(L, -1) { message = Self.cString(L, -1) }
        Lua.pop(L)
        lua_getfield(L, i, "source")
        if Lua.isString(L, -1) { source = Lua.string(L, -1) }
        Lua.pop(L)
        lua_getfield(L, i, "line")
        if Lua.isString(L, -1) { line = Lua.string(L, -1) }
        Lua.pop(L)
        lua_getfield(L, i, "ignore_error_stats_update")
        alreadyCounted = lua_toboolean(L, -1) != 0
        Lua.pop(L)
    }

    static func cString(_ L: LuaState, _ i: Int32) -> String {
        String(decoding: (Lua.bytes(L, i) ?? []).prefix { $0 != 0 }, as: UTF8.self)
    }
}
