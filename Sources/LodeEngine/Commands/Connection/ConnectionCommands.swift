import LodeRESP
import LodeStore
import NIOCore

/// Connection-level commands: PING, ECHO, HELLO, AUTH, QUIT, RESET, CLIENT.
enum ConnectionCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "ping": ping,
        "echo": { (c: inout CommandContext) throws(CommandError) in c.out.writeBulk(c.arg(1)) },
        "hello": hello,
        "auth": auth,
        "quit": quit,
        "reset": reset,
        "client|id": { (c: inout CommandContext) throws(CommandError) in c.out.writeIntegerReply(c.client.id) },
        "client|setname": setname,
        "client|getname": getname,
        "client|list": list,
        "client|info": info,
    ]

    static func ping(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 2 { throw .wrongArity("ping") }
        if c.resp == .resp2 && c.client.subscriptions.isSubscribed {
            // Subscribed mode in RESP2 answers in the pub/sub frame shape.
            c.out.writeArrayHeader(2)
            c.out.writeBulk(string: "pong")
            if c.args.count == 2 { c.out.writeBulk(c.arg(1)) } else { c.out.writeBulk(string: "") }
            return
        }
        if c.args.count == 2 { c.out.writeBulk(c.arg(1)) } else { c.out.writeSimpleString("PONG") }
    }

    static func quit(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeOK()
        c.client.connection.closeAfterReply()
    }

    static func reset(_ c: inout CommandContext) throws(CommandError) {
        // Redis's clearClientConnectionState: out of MULTI, no watches, no
        // subscriptions (silently), database 0, RESP2, default user, no name.
        _ = c.client.connection.endTransaction()
        c.server.watches.unwatchAll(c.client)
        c.client.watch.dirty = false
        c.server.pubsub.removeAll(c.client)
        c.server.disableTracking(c.client)
        c.client.replies = .on
        if c.client.isMonitor {
            c.client.isMonitor = false
            c.server.monitors.removeAll { $0 == c.client.id }
        }
        c.client.db = 0
        c.client.resp = .resp2
        c.client.name = ""
        c.client.authenticated = !c.server.requiresAuth
        c.out.writeSimpleString("RESET")
    }

    /// Checks a password for a user, as Redis's default user does: with no
    /// requirepass the default user is "nopass" and accepts anything.
    static func authenticate(_ c: CommandContext, user: String, password: String) -> Bool {
        guard user == "default" else { return false }
        return !c.server.requiresAuth || password == c.server.config.requirePass
    }

    static let wrongPass = CommandError("WRONGPASS invalid username-password pair or user is disabled.")

    static func auth(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 3 { throw .syntax }
        let user = c.args.count == 2 ? "default" : c.string(1)
        if c.args.count == 2 && !c.server.requiresAuth {
            throw CommandError("ERR AUTH <password> called without any password configured for the default user. "
                + "Are you sure your configuration is correct?")
        }
        guard authenticate(c, user: user, password: c.string(c.args.count - 1)) else {
            c.server.logger.notice("client id=\(c.client.id) failed AUTH")
            throw wrongPass
        }
        c.client.authenticated = true
        c.out.writeOK()
    }

    static func validName(_ b: ByteBuffer) -> Bool {
        b.readableBytesView.allSatisfy { $0 >= 33 && $0 <= 126 }
    }

    static func hello(_ c: inout CommandContext) throws(CommandError) {
        var version: RESPVersion? = nil
        var j = 1
        if c.args.count >= 2 {
            let v = try c.integer(1, or: CommandError("ERR Protocol version is not an integer or out of range"))
            guard v == 2 || v == 3 else { throw CommandError("NOPROTO unsupported protocol version") }
            version = RESPVersion(rawValue: v)
            j = 2
        }
        var credentials: (String, String)? = nil
        var newName: ByteBuffer? = nil
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.argIs(j, "auth") && more >= 2 {
                credentials = (c.string(j + 1), c.string(j + 2))
                j += 3
            } else if c.argIs(j, "setname") && more >= 1 {
                guard validName(c.arg(j + 1)) else {
                    throw CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
                }
                newName = c.arg(j + 1)
                j += 2
            } else {
                throw CommandError("ERR Syntax error in HELLO option '\(c.cstring(j))'")
            }
        }
        if let (user, pass) = credentials {
            guard authenticate(c, user: user, password: pass) else { throw wrongPass }
            c.client.authenticated = true
        }
        if !c.client.authenticated {
            throw CommandError("NOAUTH HELLO must be called with the client already authenticated, "
                + "otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client "
                + "and select the RESP protocol version at the same time")
        }
        if let newName { c.client.name = String(buffer: newName) }
        if let version { c.client.resp = version }
        c.out.writeMapHeader(7, c.resp)
        c.out.writeBulk(string: "server"); c.out.writeBulk(string: "redis")
        c.out.writeBulk(string: "version"); c.out.writeBulk(string: LodeVersion.redisCompatible)
        c.out.writeBulk(string: "proto"); c.out.writeIntegerReply(c.resp.rawValue)
        c.out.writeBulk(string: "id"); c.out.writeIntegerReply(c.client.id)
        c.out.writeBulk(string: "mode"); c.out.writeBulk(string: "standalone")
        c.out.writeBulk(string: "role"); c.out.writeBulk(string: "master")
        c.out.writeBulk(string: "modules"); c.out.writeArrayHeader(0)
    }

    static func setname(_ c: inout CommandContext) throws(CommandError) {
        guard validName(c.arg(2)) else { throw CommandError("ERR Client names cannot contain spaces, newlines or special characters.") }
        c.client.name = c.string(2)
        c.out.writeOK()
    }

    static func getname(_ c: inout CommandContext) throws(CommandError) {
        if c.client.name.isEmpty { c.out.writeNull(c.resp) } else { c.out.writeBulk(string: c.client.name) }
    }

    static func describe(_ client: ClientState, now: Int64) -> String {
        let subs = client.subscriptions
        let multi: Int
        if case .open(.transaction(let t)) = client.connection.phase { multi = t.queued.count } else { multi = -1 }
        return "id=\(client.id) addr=\(client.address) laddr=\(client.localAddress) fd=0 name=\(client.name) "
            + "age=\((now - client.createdAt) / 1000) idle=\((now - client.lastInteraction) / 1000) "
            + "flags=\(flags(client)) db=\(client.db) sub=\(subs.channels.count) psub=\(subs.patterns.count) "
            + "ssub=\(subs.shardChannels.count) multi=\(multi) qbuf=\(client.queryBufferBytes) qbuf-free=0 "
            + "argv-mem=\(client.argumentBytes) multi-mem=\(multiMemory(client)) rbs=0 rbp=0 obl=0 oll=0 "
            + "omem=\(client.outputBytes) tot-mem=\(totalMemory(client)) events=r cmd=\(client.lastCommand) user=default "
            + "redir=\(client.tracking.on ? client.tracking.redirect : -1) resp=\(client.resp.rawValue)\n"
    }

    /// Bytes of the commands queued in MULTI (CLIENT LIST multi-mem).
    static func multiMemory(_ client: ClientState) -> Int {
        guard case .open(.transaction(let t)) = client.connection.phase else { return 0 }
        return t.queued.reduce(0) { total, args in total + args.reduce(0) { $0 + $1.readableBytes } }
    }

    /// What the client holds in this process: its buffers, arguments, queued commands,
    /// subscriptions and a fixed base for its state (CLIENT LIST tot-mem).
    static func totalMemory(_ client: ClientState) -> Int {
        let subscriptions = client.subscriptions
        let names = subscriptions.channels.count + subscriptions.patterns.count + subscriptions.shardChannels.count
        return 1024 + client.queryBufferBytes + client.argumentBytes + multiMemory(client) + client.outputBytes + names * 64
    }

    /// CLIENT LIST's flags, in Redis's order (N when none).
    static func flags(_ client: ClientState) -> String {
        var f = client.isMonitor ? "O" : ""
        if client.subscriptions.isSubscribed { f += "P" }
        if client.connection.inTransaction { f += "x" }
        if client.connection.isBlocked || client.isPostponed { f += "b" }
        if client.tracking.on { f += "t" }
        if client.tracking.brokenRedirect { f += "R" }
        if client.tracking.bcast { f += "B" }
        if client.watch.dirty { f += "d" }
        if client.connection.isClosing { f += "c" }
        if client.noEvict { f += "e" }
        return f.isEmpty ? "N" : f
    }

    static func list(_ c: inout CommandContext) throws(CommandError) {
        var ids: Set<Int>? = nil
        if c.args.count > 2 {
            if c.argIs(2, "type") && c.args.count == 4 {
                let t = c.string(3).lowercased()
                guard ["normal", "master", "replica", "slave", "pubsub"].contains(t) else {
                    throw CommandError("ERR Unknown client type '\(c.cstring(3))'")
                }
                ids = Set(c.server.clients.values.filter { client in
                    t == "pubsub" ? client.subscriptions.isSubscribed : t == "normal" && !client.subscriptions.isSubscribed
                }.map(\.id))
            } else if c.argIs(2, "id") && c.args.count > 3 {
                var s = Set<Int>()
                for i in 3..<c.args.count {
                    guard let id = parseInteger(c.arg(i), at: c.arg(i).readerIndex, length: c.arg(i).readableBytes), id > 0 else {
                        throw CommandError("ERR Invalid client ID")
                    }
                    s.insert(id)
                }
                ids = s
            } else {
                throw .syntax
            }
        }
        var text = ""
        for client in c.server.clients.values.sorted(by: { $0.id < $1.id }) where ids?.contains(client.id) ?? true {
            text += describe(client, now: c.now)
        }
        c.out.writeVerbatim(text, version: c.resp)
    }

    static func info(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeVerbatim(describe(c.client, now: c.now), version: c.resp)
    }
}
