import LodeCommandSpec
import LodeRESP
import NIOCore

/// COMMAND and its subcommands, written from the generated Redis metadata in the
/// shapes of Redis 7.0's addReplyCommandInfo / addReplyCommandDocs.
enum CommandCommands {
    static let handlers: [String: CommandHandler] = [
        "command": commandAll,
        "command|count": { (c: inout CommandContext) throws(CommandError) in c.out.writeIntegerReply(table.all.count) },
        "command|info": commandInfo,
        "command|docs": commandDocs,
        "command|list": commandList,
        "command|getkeys": { (c: inout CommandContext) throws(CommandError) in try getKeys(&c, withFlags: false) },
        "command|getkeysandflags": { (c: inout CommandContext) throws(CommandError) in try getKeys(&c, withFlags: true) },
    ]

    static var table: CommandTable { CommandTable.standard }

    /// Subcommands in name order (Redis prints its dictionary's order: clients
    /// compare them as a set).
    static func sortedSubcommands(_ c: Command) -> [Command] {
        c.subcommands.values.sorted { $0.name < $1.name }
    }

    // MARK: COMMAND INFO

    static func writeInfo(_ command: Command, _ c: inout CommandContext) {
        let d = command.description
        c.out.writeArrayHeader(10)
        c.out.writeBulk(string: d.fullName)
        c.out.writeIntegerReply(d.arity)
        writeStatusSet(d.flags.names, &c)
        c.out.writeIntegerReply(d.legacyKeyRange.first)
        c.out.writeIntegerReply(d.legacyKeyRange.last)
        c.out.writeIntegerReply(d.legacyKeyRange.step)
        writeStatusSet(d.aclCategories.names, &c)
        c.out.writeSetHeader(d.tips.count, c.resp)
        for tip in d.tips { c.out.writeBulk(string: tip) }
        c.out.writeSetHeader(d.keySpecs.count, c.resp)
        for spec in d.keySpecs { writeKeySpec(spec, &c) }
        let subs = sortedSubcommands(command)
        if subs.isEmpty && command.description.subcommands.isEmpty {
            c.out.writeSetHeader(0, c.resp)
        } else {
            c.out.writeArrayHeader(subs.count)
            for sub in subs { writeInfo(sub, &c) }
        }
    }

    static func writeStatusSet(_ names: [String], _ c: inout CommandContext) {
        c.out.writeSetHeader(names.count, c.resp)
        for n in names { c.out.writeSimpleString(n) }
    }

    static func writeKeySpec(_ spec: KeySpec, _ c: inout CommandContext) {
        c.out.writeMapHeader(spec.notes == nil ? 3 : 4, c.resp)
        if let notes = spec.notes {
            c.out.writeBulk(string: "notes")
            c.out.writeBulk(string: notes)
        }
        c.out.writeBulk(string: "flags")
        writeStatusSet(spec.flags.names, &c)
        c.out.writeBulk(string: "begin_search")
        c.out.writeMapHeader(2, c.resp)
        c.out.writeBulk(string: "type")
        switch spec.beginSearch {
        case .index(let position):
            c.out.writeBulk(string: "index")
            c.out.writeBulk(string: "spec")
            c.out.writeMapHeader(1, c.resp)
            writeField("index", position, &c)
        case .keyword(let keyword, let startFrom):
            c.out.writeBulk(string: "keyword")
            c.out.writeBulk(string: "spec")
            c.out.writeMapHeader(2, c.resp)
            c.out.writeBulk(string: "keyword")
            c.out.writeBulk(string: keyword)
            writeField("startfrom", startFrom, &c)
        case .unknown:
            c.out.writeBulk(string: "unknown")
            c.out.writeBulk(string: "spec")
            c.out.writeMapHeader(0, c.resp)
        }
        c.out.writeBulk(string: "find_keys")
        c.out.writeMapHeader(2, c.resp)
        c.out.writeBulk(string: "type")
        switch spec.findKeys {
        case .range(let lastKey, let step, let limit):
            c.out.writeBulk(string: "range")
            c.out.writeBulk(string: "spec")
            c.out.writeMapHeader(3, c.resp)
            writeField("lastkey", lastKey, &c)
            writeField("keystep", step, &c)
            writeField("limit", limit, &c)
        case .keynum(let keyNumIndex, let firstKey, let step):
            c.out.writeBulk(string: "keynum")
            c.out.writeBulk(string: "spec")
            c.out.writeMapHeader(3, c.resp)
            writeField("keynumidx", keyNumIndex, &c)
            writeField("firstkey", firstKey, &c)
            writeField("keystep", step, &c)
        case .unknown:
            c.out.writeBulk(string: "unknown")
            c.out.writeBulk(string: "spec")
            c.out.writeMapHeader(0, c.resp)
        }
    }

    static func writeField(_ name: String, _ value: Int, _ c: inout CommandContext) {
        c.out.writeBulk(string: name)
        c.out.writeIntegerReply(value)
    }

    static func commandAll(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeArrayHeader(table.all.count)
        for command in table.all { writeInfo(command, &c) }
    }

    /// A name as COMMAND INFO/DOCS look it up: "config|get" finds a subcommand.
    static func find(_ name: ByteBuffer) -> Command? {
        let text = String(buffer: name).lowercased()
        guard let bar = text.firstIndex(of: "|") else { return table.lookup(name) }
        guard let top = table.lookup(name: String(text[..<bar])) else { return nil }
        return top.subcommands[String(text[text.index(after: bar)...])]
    }

    static func commandInfo(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count == 2 { return try commandAll(&c) }
        c.out.writeArrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let command = find(c.arg(i)) { writeInfo(command, &c) } else { c.out.writeNull(c.resp) }
        }
    }

    // MARK: COMMAND DOCS

    static func writeDocs(_ command: Command, _ c: inout CommandContext) {
        let d = command.description
        let subs = sortedSubcommands(command)
        let hasSubs = !d.subcommands.isEmpty
        let fields = 3 + (d.complexity == nil ? 0 : 1) + (d.docFlags.isEmpty ? 0 : 1)
            + (d.deprecatedSince == nil ? 0 : 1) + (d.replacedBy == nil ? 0 : 1) + (d.history.isEmpty ? 0 : 1)
            + (d.arguments.isEmpty ? 0 : 1) + (hasSubs ? 1 : 0)
        c.out.writeMapHeader(fields, c.resp)
        writeText("summary", d.summary, &c)
        writeText("since", d.since, &c)
        writeText("group", d.group, &c)
        if let complexity = d.complexity { writeText("complexity", complexity, &c) }
        if !d.docFlags.isEmpty {
            c.out.writeBulk(string: "doc_flags")
            writeStatusSet(d.docFlags.names, &c)
        }
        if let since = d.deprecatedSince { writeText("deprecated_since", since, &c) }
        if let replacement = d.replacedBy { writeText("replaced_by", replacement, &c) }
        if !d.history.isEmpty {
            c.out.writeBulk(string: "history")
            c.out.writeSetHeader(d.history.count, c.resp)
            for entry in d.history {
                c.out.writeArrayHeader(2)
                c.out.writeBulk(string: entry.since)
                c.out.writeBulk(string: entry.changes)
            }
        }
        if !d.arguments.isEmpty {
            c.out.writeBulk(string: "arguments")
            writeArguments(d.arguments, &c)
        }
        if hasSubs {
            c.out.writeBulk(string: "subcommands")
            c.out.writeMapHeader(subs.count, c.resp)
            for sub in subs {
                c.out.writeBulk(string: sub.fullName)
                writeDocs(sub, &c)
            }
        }
    }

    static func writeText(_ name: String, _ value: String, _ c: inout CommandContext) {
        c.out.writeBulk(string: name)
        c.out.writeBulk(string: value)
    }

    static func writeArguments(_ arguments: [CommandArgument], _ c: inout CommandContext) {
        c.out.writeArrayHeader(arguments.count)
        for a in arguments {
            let nested = a.kind == .oneof || a.kind == .block
            let fields = 2 + (a.keySpecIndex == nil ? 0 : 1) + (a.token == nil ? 0 : 1) + (a.summary == nil ? 0 : 1)
                + (a.since == nil ? 0 : 1) + (a.deprecatedSince == nil ? 0 : 1) + (a.flags.isEmpty ? 0 : 1) + (nested ? 1 : 0)
            c.out.writeMapHeader(fields, c.resp)
            writeText("name", a.name, &c)
            writeText("type", a.kind.rawValue, &c)
            if let index = a.keySpecIndex { writeField("key_spec_index", index, &c) }
            if let token = a.token { writeText("token", token, &c) }
            if let summary = a.summary { writeText("summary", summary, &c) }
            if let since = a.since { writeText("since", since, &c) }
            if let since = a.deprecatedSince { writeText("deprecated_since", since, &c) }
            if !a.flags.isEmpty {
                c.out.writeBulk(string: "flags")
                writeStatusSet(a.flags.names, &c)
            }
            if nested {
                c.out.writeBulk(string: "arguments")
                writeArguments(a.arguments, &c)
            }
        }
    }

    static func commandDocs(_ c: inout CommandContext) throws(CommandError) {
        var found: [Command] = []
        if c.args.count == 2 {
            found = table.all
        } else {
            for i in 2..<c.args.count { if let command = find(c.arg(i)) { found.append(command) } }
        }
        c.out.writeMapHeader(found.count, c.resp)
        for command in found {
            c.out.writeBulk(string: command.fullName)
            writeDocs(command, &c)
        }
    }

    // MARK: COMMAND LIST, GETKEYS

    static func commandList(_ c: inout CommandContext) throws(CommandError) {
        var commands: [Command] = []
        for command in table.all {
            commands.append(command)
            commands += sortedSubcommands(command)
        }
        var names = commands.map(\.fullName)
        if c.args.count > 2 {
            guard c.args.count == 5, c.argIs(2, "filterby") else { throw .syntax }
            if c.argIs(3, "pattern") {
                let pattern = c.bytes(4)
                names = names.filter { globMatch(pattern, Array($0.utf8), noCase: true) }
            } else if c.argIs(3, "aclcat") {
                let category = "@" + c.string(4).lowercased()
                names = commands.filter { $0.description.aclCategories.names.contains(category) }.map(\.fullName)
            } else if c.argIs(3, "module") {
                names = []  // Lode loads no modules
            } else {
                throw .syntax
            }
        }
        c.out.writeArrayHeader(names.count)
        for n in names { c.out.writeBulk(string: n) }
    }

    /// COMMAND GETKEYS / GETKEYSANDFLAGS: the keys of a call, from its key specs,
    /// with Redis's checks in Redis's order.
    static func getKeys(_ c: inout CommandContext, withFlags: Bool) throws(CommandError) {
        let call = Array(c.args[2...])
        guard let command = table.lookup(call: call) else { throw CommandError("ERR Invalid command specified") }
        guard command.description.hasKeys else { throw CommandError("ERR The command has no key arguments") }
        guard command.arityOK(call.count) else {
            throw CommandError("ERR Invalid number of arguments specified for command")
        }
        guard let keys = command.description.keyPositions(count: call.count, argument: { Array(call[$0].readableBytesView) }),
              !keys.isEmpty || command.flags.contains(.noMandatoryKeys) else {
            throw CommandError("ERR Invalid arguments specified for command")
        }
        c.out.writeArrayHeader(keys.count)
        for key in keys {
            if withFlags {
                c.out.writeArrayHeader(2)
                c.out.writeBulk(call[key.index])
                writeStatusSet(preciseFlags(command, call, key.flags).names, &c)
            } else {
                c.out.writeBulk(call[key.index])
            }
        }
    }

    /// The flags a command's getkeys_proc gives (Redis's setGetKeys): SET overwrites its
    /// key unless GET reads it first; other commands keep their key spec's flags.
    static func preciseFlags(_ command: Command, _ call: [ByteBuffer], _ flags: KeySpecFlags) -> KeySpecFlags {
        guard command.fullName == "set" else { return flags }
        let get = call.dropFirst(3).contains { String(buffer: $0).lowercased() == "get" }
        return get ? [.rw, .access, .update] : [.ow, .update]
    }
}
