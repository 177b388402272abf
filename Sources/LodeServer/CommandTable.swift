import LodeRESP
import NIOCore

/// A command name folded to lower case and packed into 24 bytes: looking a command
/// up costs no allocation (names longer than 24 bytes are no command's).
struct CommandKey: Hashable {
    var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0

    init?(_ buffer: ByteBuffer) {
        let n = buffer.readableBytes
        guard n > 0 && n <= 24 else { return nil }
        var k = CommandKey.zero
        buffer.withUnsafeReadableBytes { raw in
            withUnsafeMutableBytes(of: &k) { dst in
                for i in 0..<n {
                    let ch = raw[i]
                    dst[i] = (ch >= 65 && ch <= 90) ? ch | 0x20 : ch
                }
            }
        }
        self = k
    }

    init?(_ name: String) { self.init(ByteBuffer(string: name)) }
    private init() {}
    private static let zero = CommandKey()
}

/// The command table: every command Lode knows, by name. Anything else answers
/// `-ERR unknown command`, exactly as Redis.
final class CommandTable {
    let commands: [CommandKey: CommandSpec]
    let all: [CommandSpec]

    init(_ specs: [CommandSpec]) {
        all = specs.sorted { $0.name < $1.name }
        var map: [CommandKey: CommandSpec] = [:]
        for s in specs { map[CommandKey(s.name)!] = s }
        commands = map
    }

    static let standard = CommandTable(StringCommands.specs + KeyCommands.specs + ConnectionCommands.specs
                                        + ServerCommands.specs + IntrospectionCommands.specs
                                        + HashCommands.specs + SetCommands.specs + ListCommands.specs
                                        + ZSetCommands.specs + BlockingCommands.specs)

    @inline(__always)
    func lookup(_ name: ByteBuffer) -> CommandSpec? {
        guard let k = CommandKey(name) else { return nil }
        return commands[k]
    }

    func lookup(name: String) -> CommandSpec? {
        guard let k = CommandKey(name) else { return nil }
        return commands[k]
    }
}

extension CommandSpec {
    /// Attaches subcommands (CLIENT ID, CONFIG GET, …) to a container command.
    func with(_ subs: [CommandSpec]) -> CommandSpec {
        for s in subs {
            s.parent = name
            subcommands[s.name] = s
        }
        return self
    }
}

/// Formats Redis's "unknown command" error, byte for byte: the name and the first
/// arguments (each quoted, at most 128 bytes in all), cut at any NUL like C does.
func unknownCommandError(_ args: [ByteBuffer]) -> [UInt8] {
    func cString(_ b: ByteBuffer, max: Int) -> [UInt8] {
        var out: [UInt8] = []
        for ch in b.readableBytesView {
            if ch == 0 || out.count >= max { break }
            out.append(ch)
        }
        return out
    }
    var text = Array("ERR unknown command '".utf8)
    text += cString(args[0], max: 128)
    text += Array("', with args beginning with: ".utf8)
    var list: [UInt8] = []
    var i = 1
    while i < args.count && list.count < 128 {
        let room = 128 - list.count
        list.append(UInt8(ascii: "'"))
        list += cString(args[i], max: room)
        list += Array("' ".utf8)
        i += 1
    }
    return text + list
}
