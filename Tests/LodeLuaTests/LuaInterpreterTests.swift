import LodeRESP
import NIOCore
import XCTest
@testable import LodeLua

/// The interpreter without a server: a host that answers a few commands.
final class LuaInterpreterTests: XCTestCase {
    final class Host: LuaHost {
        var calls: [[String]] = []
        func luaCall(_ args: [ByteBuffer], resp: RESPVersion) -> LuaCallResult {
            let words = args.map { String(buffer: $0) }
            calls.append(words)
            var out = ByteBuffer()
            switch words[0].lowercased() {
            case "ping": out.writeSimpleString("PONG")
            case "get": out.writeBulk(string: "v")
            case "incr": out.writeIntegerReply(42)
            case "fail": out.writeError("WRONGTYPE Operation against a key holding the wrong kind of value")
            case "hgetall":
                out.writeMapHeader(1, resp)
                out.writeBulk(string: "f")
                out.writeBulk(string: "1")
            default: return .rejected("Unknown Redis command called from script")
            }
            return .reply(out)
        }
        func luaLog(level: Int, _ message: String) {}
        func luaCommandExists(_ args: [ByteBuffer]) -> Bool { true }
    }

    private func eval(_ lua: LuaInterpreter, _ body: String, keys: [String] = [], args: [String] = [],
                      resp: RESPVersion = .resp2, host: Host = Host()) -> String {
        let name = "f_" + SHA1.hex(Array(body.utf8))
        if let error = lua.define(name, body: Array(body.utf8)) { return "compile: \(error)" }
        let outcome = lua.start(name, keys: keys.map { ByteBuffer(string: $0) }, args: args.map { ByteBuffer(string: $0) },
                                asGlobals: true, errorName: String(name.dropFirst(2)), host: host, client: resp, now: 0,
                                busyThreshold: 0)
        guard case .finished(let out) = outcome else { return "suspended" }
        return String(buffer: out)
    }

    func testSHA1() {
        XCTAssertEqual(SHA1.hex(Array("".utf8)), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hex(Array("Pizza & Mandolino".utf8)), "74822d82031af7493c20eefa13bd07ec4fada82f")
        XCTAssertEqual(SHA1.hex([UInt8](repeating: 97, count: 1000)), "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    func testConversions() throws {
        let lua = try LuaInterpreter(memoryLimit: 0)
        XCTAssertEqual(eval(lua, "return 3.99"), ":3\r\n")
        XCTAssertEqual(eval(lua, "return {1, 2, nil, 4}"), "*2\r\n:1\r\n:2\r\n")
        XCTAssertEqual(eval(lua, "return true"), ":1\r\n")
        XCTAssertEqual(eval(lua, "return false"), "$-1\r\n")
        XCTAssertEqual(eval(lua, "return {ok='fine'}"), "+fine\r\n")
        XCTAssertEqual(eval(lua, "return redis.error_reply('MY err')"), "-MY err\r\n")
        XCTAssertEqual(eval(lua, "return {KEYS[1], ARGV[2]}", keys: ["k"], args: ["a", "b"]), "*2\r\n$1\r\nk\r\n$1\r\nb\r\n")
        XCTAssertEqual(eval(lua, "return redis.call('get', 'x')"), "$1\r\nv\r\n")
        XCTAssertEqual(eval(lua, "return redis.call('ping')['ok']"), "$4\r\nPONG\r\n")
        XCTAssertEqual(eval(lua, "redis.setresp(3); return redis.call('hgetall', 'h')", resp: .resp3), "%1\r\n$1\r\nf\r\n$1\r\n1\r\n")
        XCTAssertEqual(eval(lua, "return {double=1.5}", resp: .resp3), ",1.5\r\n")
    }

    func testErrorsAsRedisWritesThem() throws {
        let lua = try LuaInterpreter(memoryLimit: 0)
        let sha = SHA1.hex(Array("return a".utf8))
        XCTAssertEqual(eval(lua, "return a"),
                       "-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: \(sha), on @user_script:1.\r\n")
        XCTAssertTrue(eval(lua, "a = 10").hasPrefix("-ERR user_script:1: Attempt to modify a readonly table script: "))
        XCTAssertTrue(eval(lua, "redis.call = 1").hasPrefix("-ERR user_script:1: Attempt to modify a readonly table"))
        XCTAssertTrue(eval(lua, "setmetatable(_G, {})").hasPrefix("-ERR Attempt to modify a readonly table script: "))
        XCTAssertTrue(eval(lua, "return redis.call('nosuch')").hasPrefix("-ERR Unknown Redis command called from script script: "))
        XCTAssertTrue(eval(lua, "return redis.call('fail')").hasPrefix("-WRONGTYPE Operation against a key"))
        XCTAssertEqual(eval(lua, "return redis.pcall('fail')"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        XCTAssertTrue(eval(lua, "return loadstring(string.dump(function() return 1 end))()")
            .hasPrefix("-ERR user_script:1: attempt to call a nil value"))
        XCTAssertTrue(eval(lua, "return print").contains("nonexistent global variable 'print'"))
        XCTAssertEqual(eval(lua, "local ok, e = pcall(function() error({err='X y'}) end) return {tostring(ok), e}"),
                       "*2\r\n$5\r\nfalse\r\n$3\r\nX y\r\n")
        XCTAssertTrue(lua.define("bad", body: Array("return +".utf8))?.contains("user_script:1:") ?? false)
        // Numbers that are not integers reach the API as C would cast them: an
        // error, never a trap in the server.
        XCTAssertTrue(eval(lua, "redis.setresp(0/0)").contains("RESP version must be 2 or 3."))
        XCTAssertTrue(eval(lua, "redis.log(1/0, 'x')").contains("Invalid debug level."))
        XCTAssertTrue(eval(lua, "redis.set_repl(-1/0)").contains("Invalid replication flags."))
        XCTAssertEqual(eval(lua, "return math.random(1/0, 0/0)"), ":0\r\n", "both cast to 0, as luaL_checkint does on x86")
        XCTAssertTrue(eval(lua, "return math.random(2, 1)").hasPrefix("-ERR user_script:1: bad argument #2 to 'random'"))
    }

    func testBusyScriptIsSuspendedAndCanBeKilled() throws {
        let lua = try LuaInterpreter(memoryLimit: 0)
        let body = Array("local i = 0 while true do i = i + 1 end".utf8)
        XCTAssertNil(lua.define("loop", body: body))
        let outcome = lua.start("loop", keys: [], args: [], asGlobals: true, errorName: "loop", host: Host(), client: .resp2,
                                now: LuaClock.nowMillis(), busyThreshold: 1)
        guard case .suspended = outcome else { return XCTFail("an endless loop must be suspended") }
        XCTAssertTrue(lua.timedOut)
        guard case .suspended = lua.resume() else { return XCTFail("still running") }
        lua.kill()
        guard case .finished(let reply) = lua.resume() else { return XCTFail("a killed script ends") }
        XCTAssertTrue(String(buffer: reply).hasPrefix("-ERR Script killed by user with SCRIPT KILL..."), String(buffer: reply))
        XCTAssertFalse(lua.isRunning)
        XCTAssertEqual(eval(lua, "return 1"), ":1\r\n", "the interpreter goes on")
    }

    func testPcallDoesNotShieldFromKillOrBusy() throws {
        let lua = try LuaInterpreter(memoryLimit: 0)
        XCTAssertNil(lua.define("loop", body: Array("local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end".utf8)))
        let outcome = lua.start("loop", keys: [], args: [], asGlobals: true, errorName: "loop", host: Host(), client: .resp2,
                                now: LuaClock.nowMillis(), busyThreshold: 1)
        guard case .suspended = outcome else { return XCTFail("suspended through the sandbox's pcall") }
        lua.kill()
        guard case .finished(let reply) = lua.resume() else { return XCTFail("killed through pcall") }
        XCTAssertTrue(String(buffer: reply).contains("Script killed by user"), String(buffer: reply))
    }

    func testMemoryLimitFailsTheScriptNotTheServer() throws {
        let lua = try LuaInterpreter(memoryLimit: 8 << 20)
        let reply = eval(lua, "local t = {} for i = 1, 1e8 do t[i] = string.rep('x', 100) .. i end return #t")
        XCTAssertTrue(reply.hasPrefix("-ERR Error running script"), reply)
        XCTAssertTrue(reply.contains("memory limit"), reply)
        XCTAssertEqual(eval(lua, "return 2"), ":2\r\n")
    }
}
