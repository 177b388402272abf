import LodeCommandSpec
import LodeRESP
import LodeStore
import NIOCore

/// An error reply. `text` starts with the error code ("ERR ...", "WRONGTYPE ...").
struct CommandError: Error {
    let text: String
    init(_ text: String) { self.text = text }

    static let syntax = CommandError("ERR syntax error")
    static let notInteger = CommandError("ERR value is not an integer or out of range")
    static let notFloat = CommandError("ERR value is not a valid float")
    static let wrongType = CommandError("WRONGTYPE Operation against a key holding the wrong kind of value")
    static let noSuchKey = CommandError("ERR no such key")
    static let dbIndexOutOfRange = CommandError("ERR DB index is out of range")
    static let sameObject = CommandError("ERR source and destination objects are the same")
    static let tooBig = CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    static let inconsistent = CommandError("ERR internal error: stored data is inconsistent")
    static func invalidExpire(_ command: String) -> CommandError {
        CommandError("ERR invalid expire time in '\(command)' command")
    }
    static func wrongArity(_ fullName: String) -> CommandError {
        CommandError("ERR wrong number of arguments for '\(fullName)' command")
    }
}

typealias CommandHandler = (inout CommandContext) throws(CommandError) -> Void

/// Everything a command handler may touch while it runs: its arguments, its
/// client, the server state, and the reply buffer.
struct CommandContext {
    var args: [ByteBuffer]
    let client: ClientState
    /// The client's session, for what runs commands itself (EXEC). Unowned: it
    /// outlives every command it runs.
    unowned(unsafe) let session: ClientSession
    let server: ServerState
    /// The reply buffer: the session's own, so that what reaches this client while
    /// its command runs (its own published message, a keyspace event) lands in
    /// order, before the command's reply, as in Redis.
    var out: ByteBuffer {
        get { session.out }
        nonmutating _modify { yield &session.out }
        nonmutating set { session.out = newValue }
    }
    /// Milliseconds since the epoch, read once per command (as Redis's command time).
    let now: Int64
    let command: Command
    /// Set while a blocked command runs again because a key it waits on changed.
    let isBlockedRetry: Bool
    /// Set inside EXEC: a command that would block answers as if timed out.
    var denyBlocking = false
    /// Run by a script's redis.call (XREAD refuses BLOCK there, as in Redis).
    var fromScript = false
    /// Set by a blocking command that found nothing to pop: the client waits.
    var blockRequest: BlockRequest? = nil

    var store: Store { server.store }
    var resp: RESPVersion { client.resp }
    /// The physical database of the client's selected database.
    var db: UInt8 { server.store.physical(client.db) }

    // MARK: arguments

    @inline(__always)
    func arg(_ i: Int) -> ByteBuffer { args[i] }

    func string(_ i: Int) -> String { String(buffer: args[i]) }

    func bytes(_ i: Int) -> [UInt8] { Array(args[i].readableBytesView) }

    /// The argument as C's "%s" prints it: cut at the first NUL byte (for error texts).
    func cstring(_ i: Int) -> String {
        String(decoding: args[i].readableBytesView.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Case-insensitive comparison with an ASCII option name, without allocating.
    @inline(__always)
    func argIs(_ i: Int, _ option: StaticString) -> Bool {
        let a = args[i]
        guard a.readableBytes == option.utf8CodeUnitCount else { return false }
        return a.withUnsafeReadableBytes { raw in
            let o = option.utf8Start
            for j in 0..<raw.count where raw[j] | 0x20 != o[j] | 0x20 { return false }
            return true
        }
    }

    /// Redis's string2ll, or "value is not an integer or out of range".
    func integer(_ i: Int) throws(CommandError) -> Int {
        guard let v = parseInteger(args[i], at: args[i].readerIndex, length: args[i].readableBytes) else {
            throw .notInteger
        }
        return v
    }

    /// Redis's getIntFromObjectOrReply: an integer that must fit in 32 bits.
    func int32(_ i: Int) throws(CommandError) -> Int {
        let v = try integer(i)
        guard v >= Int(Int32.min) && v <= Int(Int32.max) else {
            throw CommandError("ERR value is out of range, value must between -2147483648 and 2147483647")
        }
        return v
    }

    func integer(_ i: Int, or error: CommandError) throws(CommandError) -> Int {
        guard let v = parseInteger(args[i], at: args[i].readerIndex, length: args[i].readableBytes) else { throw error }
        return v
    }

    // MARK: storage with Redis error mapping

    /// The live record under `key`. Read-only commands count keyspace hits and
    /// misses, as Redis's lookupKeyRead does.
    func lookup(_ key: ByteBuffer, touch: Bool = true) throws(CommandError) -> Record? {
        let r: Record?
        do { r = try store.get(db: db, key: key, now: now, touch: touch) } catch { throw storeFailure(error) }
        // A blocked client's retry looks as Redis serves it: no stats, no keymiss events.
        if command.flags.contains(.readonly) && !isBlockedRetry { countRead(r, key) }
        return r
    }

    /// Redis's lookupKeyRead bookkeeping: a keyspace hit, or a miss and `keymiss`.
    func countRead(_ r: Record?, _ key: ByteBuffer) {
        if r != nil {
            server.stats.keyspaceHits += 1
        } else {
            server.stats.keyspaceMisses += 1
            notify(.keyMiss, "keymiss", key)
        }
    }

    func lookup(_ key: ByteBuffer, db: UInt8) throws(CommandError) -> Record? {
        do { return try store.get(db: db, key: key, now: now) } catch { throw storeFailure(error) }
    }

    /// A string value, or nil; WRONGTYPE for other types.
    func lookupString(_ key: ByteBuffer) throws(CommandError) -> Record? {
        guard let r = try lookup(key) else { return nil }
        guard r.type == .string else { throw .wrongType }
        return r
    }

    func put(_ key: ByteBuffer, _ record: Record, db: UInt8? = nil) throws(CommandError) {
        do {
            if record.isExpired(now: now) {
                try store.delete(db: db ?? self.db, key: key)
                server.keyModified(db ?? self.db, key)
            } else {
                try store.put(db: db ?? self.db, key: key, record: record)
                server.keyModified(db ?? self.db, key)
                // A key written by any command (push, RENAME, COPY, MOVE, *STORE) may
                // serve clients blocked on it, as in Redis; one overwritten with another
                // type ends the XREADGROUPs waiting on it (signalKeyAsReady in setKey).
                server.keyTouched(db ?? self.db, key)
            }
        } catch { throw storeFailure(error) }
    }

    @discardableResult
    func delete(_ key: ByteBuffer, db: UInt8? = nil, keepElements: Bool = false) throws(CommandError) -> Bool {
        let deleted: Bool
        do { deleted = try store.delete(db: db ?? self.db, key: key, keepElements: keepElements) } catch { throw storeFailure(error) }
        if deleted {
            server.keyModified(db ?? self.db, key)
            server.keyTouched(db ?? self.db, key)  // XREADGROUPs waiting on a deleted stream end
        }
        return deleted
    }

    func storeFailure(_ error: Error) -> CommandError {
        if let e = error as? StoreError {
            server.noteStorageError(e)
            return CommandError(e.replyText)
        }
        return CommandError("ERR \(error)")
    }
}

extension CommandContext {
    /// Redis's addReplyHelp: a header naming the command, the lines, then HELP.
    /// Redis's addReplySubcommandSyntaxError.
    var subcommandSyntaxError: CommandError {
        CommandError("ERR unknown subcommand or wrong number of arguments for '\(cstring(1).prefix(128))'. "
            + "Try \(string(0).uppercased()) HELP.")
    }

    func writeHelp(_ lines: [String]) {
        out.writeArrayHeader(lines.count + 3)
        out.writeSimpleString("\(String(buffer: args[0]).uppercased()) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        for line in lines { out.writeSimpleString(line) }
        out.writeSimpleString("HELP")
        out.writeSimpleString("    Prints this help.")
    }
}
