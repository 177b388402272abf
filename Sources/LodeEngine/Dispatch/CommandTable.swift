import LodeCommandSpec
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
/// A command Lode runs: Redis's description of it, from LodeCommandSpec, and the
/// handler bound to it by name. Immutable; a class so that dispatch passes a
/// reference, not the whole description.
final class Command {
    let description: CommandDescription
    /// Nil only for a pure container (CLIENT, CONFIG): it runs a subcommand.
    let handler: CommandHandler?
    /// The bound subcommands, by lower-case name.
    let subcommands: [String: Command]
    /// Copied out of the description: read for every command.
    let flags: CommandFlags
    let arity: Int
    let fullName: String

    init(_ description: CommandDescription, handler: CommandHandler?, subcommands: [String: Command]) {
        self.description = description
        self.handler = handler
        self.subcommands = subcommands
        flags = description.flags
        arity = description.arity
        fullName = description.fullName
    }

    var name: String { description.name }

    /// Positive arity: exactly that many arguments; negative: at least.
    func arityOK(_ count: Int) -> Bool {
        arity >= 0 ? count == arity : count >= -arity
    }
}

/// The command table: the commands of Redis 7.0.15's data that Lode has a
/// handler for, by name. Every other name answers `-ERR unknown command`,
/// exactly as Redis answers a command it does not have; a container lists only
/// its bound subcommands.
final class CommandTable {
    let commands: [CommandKey: Command]
    /// Names over CommandKey's 24 bytes, which only `rename-command` gives (lowercased;
    /// random 40-character names are the usual way to hide CONFIG or FLUSHALL).
    private let longNames: [String: Command]
    /// Top-level commands, sorted by name.
    let all: [Command]

    /// Binds `handlers` ("get", "config|get") to `descriptions`. A handler whose
    /// name has no description is a programming error (caught by a unit test).
    init(descriptions: [CommandDescription], handlers: [String: CommandHandler]) {
        var unbound = Set(handlers.keys)
        var list: [Command] = []
        for d in descriptions {
            var subs: [String: Command] = [:]
            for s in d.subcommands {
                guard let h = handlers[s.fullName] else { continue }
                unbound.remove(s.fullName)
                subs[s.name] = Command(s, handler: h, subcommands: [:])
            }
            let handler = handlers[d.name]
            guard handler != nil || !subs.isEmpty else { continue }
            unbound.remove(d.name)
            list.append(Command(d, handler: handler, subcommands: subs))
        }
        precondition(unbound.isEmpty, "handlers without a Redis command description: \(unbound.sorted())")
        all = list.sorted { $0.name < $1.name }
        var map: [CommandKey: Command] = [:]
        for c in all { map[CommandKey(c.name)!] = c }
        commands = map
        longNames = [:]
    }

    static let standard = CommandTable(descriptions: RedisCommands.all, handlers: CommandBindings.all)

    private init(all: [Command], commands: [CommandKey: Command], longNames: [String: Command]) {
        self.all = all
        self.commands = commands
        self.longNames = longNames
    }

    /// This table with the config file's `rename-command` lines applied: only the
    /// names clients call change (errors, ACL categories and COMMAND keep the
    /// original names, as Redis's do).
    func renaming(_ renames: [CommandRename]) -> CommandTable {
        guard !renames.isEmpty else { return self }
        var map = commands
        var long = longNames
        for r in renames {
            let command: Command?
            if let from = CommandKey(r.from) { command = map.removeValue(forKey: from) } else { command = long.removeValue(forKey: r.from) }
            guard let command, !r.to.isEmpty else { continue }
            if let to = CommandKey(r.to) { map[to] = command } else { long[r.to] = command }
        }
        return CommandTable(all: all, commands: map, longNames: long)
    }

    @inline(__always)
    func lookup(_ name: ByteBuffer) -> Command? {
        guard let k = CommandKey(name) else { return longNames.isEmpty ? nil : longNames[String(buffer: name).lowercased()] }
        return commands[k]
    }

    func lookup(name: String) -> Command? {
        guard let k = CommandKey(name) else { return longNames[name.lowercased()] }
        return commands[k]
    }

    /// The command or subcommand a call names, as Redis's lookupCommand finds it
    /// (a container alone is itself), without checking arity.
    func lookup(call args: [ByteBuffer]) -> Command? {
        guard let top = lookup(args[0]) else { return nil }
        guard args.count >= 2, !top.subcommands.isEmpty || top.description.subcommands.count > 0 else { return top }
        return top.subcommands[String(buffer: args[1]).lowercased()]
    }

    /// The command (or subcommand) `args` names, with its arity checked, or the
    /// error reply Redis gives: unknown command, unknown subcommand, wrong arity.
    func resolve(_ args: [ByteBuffer]) -> Result<(Command, CommandHandler), ErrorReply> {
        guard let top = lookup(args[0]) else { return .failure(ErrorReply(unknownCommandError(args))) }
        var command = top
        // COMMAND alone runs its own handler; with an argument, like CLIENT or CONFIG,
        // the argument names a subcommand.
        if !top.subcommands.isEmpty && (top.handler == nil || args.count >= 2) {
            guard args.count >= 2 else { return .failure(ErrorReply(CommandError.wrongArity(top.name).text)) }
            guard let sub = top.subcommands[String(buffer: args[1]).lowercased()] else {
                let name = String(buffer: args[1]).prefix(128)
                return .failure(ErrorReply("ERR unknown subcommand '\(name)'. Try \(String(buffer: args[0]).uppercased()) HELP."))
            }
            command = sub
        }
        guard command.arityOK(args.count), let handler = command.handler else {
            return .failure(ErrorReply(CommandError.wrongArity(command.fullName).text))
        }
        return .success((command, handler))
    }
}

/// An error reply's text (without the leading '-' and CRLF), as bytes: Redis's
/// unknown-command text can hold any byte of the client's arguments.
struct ErrorReply: Error {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ text: String) { bytes = Array(text.utf8) }
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
