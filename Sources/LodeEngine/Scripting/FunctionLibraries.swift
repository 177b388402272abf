import LodeLua
import LodeRDB
import LodeRESP

/// FUNCTION libraries (Redis 7.0's functions.c): the libraries and the
/// functions they registered, compiled in their own Lua interpreter, and kept
/// in the store (Redis keeps them in its RDB/AOF) as a FUNCTION DUMP payload,
/// so that they survive restarts and `kill -9`.
final class FunctionLibraries {
    struct Function {
        let name: String
        let description: String?
        let flags: ScriptFlags
        /// Where the interpreter keeps its callback.
        let key: String
        let library: String
    }

    struct Library {
        let name: String
        /// The code as loaded, shebang included (FUNCTION LIST WITHCODE, DUMP).
        let code: [UInt8]
        let functions: [Function]
    }

    /// A set of libraries: the current one, or one being built by RESTORE.
    struct Context {
        var libraries: [String: Library] = [:]
        var order: [String] = []
        /// By lower-case name: function names are case-insensitive, as in Redis.
        var functions: [String: Function] = [:]

        mutating func link(_ library: Library) {
            libraries[library.name] = library
            order.append(library.name)
            for f in library.functions { functions[f.name.lowercased()] = f }
        }

        mutating func unlink(_ name: String) -> Library? {
            guard let library = libraries.removeValue(forKey: name) else { return nil }
            order.removeAll { $0 == name }
            for f in library.functions { functions.removeValue(forKey: f.name.lowercased()) }
            return library
        }

        var inOrder: [Library] { order.compactMap { libraries[$0] } }
    }

    private(set) var current = Context()
    private var lua: LuaInterpreter?
    private let memoryLimit: Int

    /// FUNCTION LOAD's time limit for a library's code (Redis's LOAD_TIMEOUT_MS).
    static let loadTimeoutMs: Int64 = 500
    static let libraryNameError = "ERR Library names can only contain letters, numbers, or underscores(_) "
        + "and must be at least one character long"

    init(memoryLimit: Int) {
        self.memoryLimit = memoryLimit
    }

    var usedMemory: Int { lua?.usedMemory ?? 0 }

    func interpreter() throws(CommandError) -> LuaInterpreter {
        if let lua { return lua }
        do {
            let created = try LuaInterpreter(memoryLimit: memoryLimit, functions: true)
            lua = created
            return created
        } catch {
            throw CommandError("ERR cannot start the Lua interpreter: \(error.message)")
        }
    }

    // MARK: creating libraries

    /// Redis's functionExtractLibMetaData: the engine, the name, and where the
    /// code after the shebang line starts.
    static func metadata(_ code: [UInt8]) throws(CommandError) -> (engine: String, name: String, body: Int) {
        guard code.starts(with: [35, 33]) else { throw CommandError("ERR Missing library metadata") }
        guard let end = code.firstIndex(of: 10) else { throw CommandError("ERR Invalid library metadata") }
        // Split as Redis's sdssplitargs: `name="foo"` names foo.
        let parts = (splitInlineArguments(Array(code[..<end])) ?? []).map { String(decoding: $0, as: UTF8.self) }
        guard let first = parts.first else { throw CommandError("ERR Invalid library metadata") }
        var name: String?
        for part in parts.dropFirst() {
            guard part.lowercased().hasPrefix("name=") else { throw CommandError("ERR Invalid metadata value given: \(part)") }
            if name != nil { throw CommandError("ERR Invalid metadata value, name argument was given multiple times") }
            name = String(part.dropFirst(5))
        }
        guard let name else { throw CommandError("ERR Library name was not given") }
        return (String(first.dropFirst(2)), name, end)
    }

    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    /// Compiles `code` into `context` (Redis's functionsCreateWithLibraryCtx);
    /// returns the library's name. On failure `context` is as it was.
    @discardableResult
    func create(_ code: [UInt8], replace: Bool, into context: inout Context, host: LuaHost) throws(CommandError) -> String {
        let (engine, name, body) = try Self.metadata(code)
        guard Self.validName(name) else { throw CommandError(Self.libraryNameError) }
        guard engine.lowercased() == "lua" else { throw CommandError("ERR Engine '\(engine)' not found") }
        if context.libraries[name] != nil && !replace { throw CommandError("ERR Library '\(name)' already exists") }
        let old = context.unlink(name)
        let lua = try interpreter()
        let loaded = lua.loadLibrary(Array(code[body...]), host: host, timeoutMs: Self.loadTimeoutMs) {
            ScriptFlags.named($0) != nil
        }
        let registered: [LuaInterpreter.RegisteredFunction]
        switch loaded {
        case .failure(let error):
            if let old { context.link(old) }
            throw CommandError("ERR " + error.message)
        case .success(let functions):
            registered = functions
        }
        func abandon(_ error: String) -> CommandError {
            for f in registered { lua.undefine(f.key) }
            if let old { context.link(old) }
            return CommandError(error)
        }
        if registered.isEmpty { throw abandon("ERR No functions registered") }
        if let clash = registered.first(where: { context.functions[$0.name.lowercased()] != nil }) {
            throw abandon("ERR Function \(clash.name) already exists")
        }
        let functions = registered.map { f in
            Function(name: f.name, description: f.description,
                     flags: f.flags.reduce(into: ScriptFlags()) { $0.formUnion(ScriptFlags.named($1) ?? []) },
                     key: f.key, library: name)
        }
        context.link(Library(name: name, code: code, functions: functions))
        if let old { forget(old) }
        return name
    }

    /// Drops a library's compiled functions from the interpreter.
    private func forget(_ library: Library) {
        for f in library.functions { lua?.undefine(f.key) }
    }

    // MARK: changing the current set

    func load(_ code: [UInt8], replace: Bool, host: LuaHost) throws(CommandError) -> String {
        try create(code, replace: replace, into: &current, host: host)
    }

    func delete(_ name: String) -> Bool {
        guard let library = current.unlink(name) else { return false }
        forget(library)
        return true
    }

    func flush() {
        for library in current.inOrder { forget(library) }
        current = Context()
    }

    enum RestorePolicy { case append, replace, flush }

    /// FUNCTION RESTORE: the payload's libraries join the current ones (Redis's
    /// libraryJoin), or replace them all.
    func restore(_ codes: [[UInt8]], policy: RestorePolicy, host: LuaHost) throws(CommandError) {
        var incoming = Context()
        do {
            for code in codes { try create(code, replace: false, into: &incoming, host: host) }
        } catch {
            for library in incoming.inOrder { forget(library) }
            throw error
        }
        if policy == .flush {
            flush()
            current = incoming
            return
        }
        var replaced: [Library] = []
        for library in incoming.inOrder where current.libraries[library.name] != nil {
            if policy == .append {
                for l in incoming.inOrder { forget(l) }
                throw CommandError("ERR Library \(library.name) already exists")
            }
            if let old = current.unlink(library.name) { replaced.append(old) }
        }
        if let clash = incoming.functions.keys.sorted().first(where: { current.functions[$0] != nil }) {
            for old in replaced { current.link(old) }
            for l in incoming.inOrder { forget(l) }
            throw CommandError("ERR Function \(incoming.functions[clash]?.name ?? clash) already exists")
        }
        for library in incoming.inOrder { current.link(library) }
        for old in replaced { forget(old) }
    }

    // MARK: persistence

    static let metaName = "functions"

    /// The FUNCTION DUMP payload of the current libraries.
    var payload: [UInt8] { FunctionPayload.encode(current.inOrder.map(\.code)) }
}
