import LodeCommandSpec
import NIOCore
import XCTest
@testable import LodeEngine

final class CommandTableTests: XCTestCase {
    let table = CommandTable.standard

    func testEveryHandlerIsBoundToARedisCommand() {
        // CommandTable's init traps on an unbound handler; building it is the check.
        let names = Set(table.all.map(\.name) + table.all.flatMap { $0.subcommands.values.map(\.fullName) })
        XCTAssertEqual(names.count, CommandBindings.all.count + table.all.filter { $0.handler == nil }.count)
        XCTAssertNotNil(table.lookup(name: "GET"))
        XCTAssertNotNil(table.lookup(name: "xadd"))
        XCTAssertNil(table.lookup(name: "acl"), "not implemented yet: not in the table")
        XCTAssertNotNil(table.lookup(name: "eval"))
        XCTAssertNil(table.lookup(name: "client")?.subcommands["setinfo"], "CLIENT SETINFO is Redis 7.2, not 7.0")
    }

    func testMetadataComesFromRedisData() throws {
        let set = try XCTUnwrap(table.lookup(name: "set"))
        XCTAssertEqual(set.arity, -3)
        XCTAssertEqual(set.flags, [.write, .denyoom])
        XCTAssertEqual(set.description.keySpecs.count, 1)
        let get = try XCTUnwrap(table.lookup(name: "config")?.subcommands["get"])
        XCTAssertEqual(get.fullName, "config|get")
    }

    func testResolveChecksArityAndSubcommands() {
        func resolve(_ words: String...) -> String {
            switch table.resolve(words.map { ByteBuffer(string: $0) }) {
            case .success(let (command, _)): return command.fullName
            case .failure(let error): return String(decoding: error.bytes, as: UTF8.self)
            }
        }
        XCTAssertEqual(resolve("GET", "k"), "get")
        XCTAssertEqual(resolve("get"), "ERR wrong number of arguments for 'get' command")
        XCTAssertEqual(resolve("Config", "Get", "x"), "config|get")
        XCTAssertEqual(resolve("COMMAND"), "command", "COMMAND alone runs its own handler")
        XCTAssertEqual(resolve("COMMAND", "COUNT"), "command|count")
        XCTAssertEqual(resolve("client"), "ERR wrong number of arguments for 'client' command")
    }

    func testRenamingMovesOnlyTheNameClientsCall() {
        let long = "b840fc02d524045429941cc15f59e41cb7be6c52"  // past CommandKey's 24 bytes
        let renamed = table.renaming([CommandRename(from: "get", to: long), CommandRename(from: "flushdb", to: ""),
                                      CommandRename(from: "set", to: "put"), CommandRename(from: "put", to: "store")])
        XCTAssertNil(renamed.lookup(name: "get"))
        XCTAssertEqual(renamed.lookup(ByteBuffer(string: long.uppercased()))?.fullName, "get", "found case-insensitively")
        XCTAssertNil(renamed.lookup(name: "flushdb"), "an empty name removes it")
        XCTAssertNil(renamed.lookup(name: "put"), "a renamed command renamed again")
        XCTAssertEqual(renamed.lookup(name: "store")?.fullName, "set")
        XCTAssertNotNil(table.lookup(name: "get"), "the standard table is untouched")
        guard case .failure(let e) = renamed.resolve([ByteBuffer(string: long)]) else { return XCTFail("arity") }
        XCTAssertEqual(String(decoding: e.bytes, as: UTF8.self), "ERR wrong number of arguments for 'get' command")
    }
}
