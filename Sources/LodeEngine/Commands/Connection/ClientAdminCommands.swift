import LodeRESP
import NIOCore

/// CLIENT KILL, PAUSE, UNPAUSE, UNBLOCK, NO-EVICT and HELP, as Redis 7.0's clientCommand.
enum ClientAdminCommands {
    static let handlers: [String: CommandHandler] = [
        "client|kill": kill,
        "client|help": { (c: inout CommandContext) throws(CommandError) in c.writeHelp(help) },
        "client|pause": pause,
        "client|unpause": { (c: inout CommandContext) throws(CommandError) in
            c.server.unpauseClients()
            c.out.writeOK()
        },
        "client|unblock": unblock,
        "client|no-evict": { (c: inout CommandContext) throws(CommandError) in
            if c.argIs(2, "on") { c.client.noEvict = true } else if c.argIs(2, "off") { c.client.noEvict = false } else { throw .syntax }
            c.out.writeOK()
        },
    ]

    /// CLIENT PAUSE <timeout> [WRITE|ALL]; the pause starts after the running EXEC or script.
    static func pause(_ c: inout CommandContext) throws(CommandError) {
        var kind = ClientPause.Kind.all
        if c.args.count == 4 {
            if c.argIs(3, "write") { kind = .write } else if !c.argIs(3, "all") {
                throw CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
            }
        }
        let timeout = try c.integer(2, or: CommandError("ERR timeout is not an integer or out of range"))
        guard timeout >= 0 else { throw CommandError("ERR timeout is negative") }
        let (end, overflow) = c.now.addingReportingOverflow(Int64(timeout))
        c.server.pauseClients(kind, until: overflow ? .max : end, loop: c.session.loop)
        c.out.writeOK()
    }

    /// CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: a client blocked in BLPOP & co. gets its
    /// timeout reply or -UNBLOCKED; 1 if it was blocked, else 0.
    static func unblock(_ c: inout CommandContext) throws(CommandError) {
        var error = false
        if c.args.count == 4 {
            if c.argIs(3, "error") { error = true } else if !c.argIs(3, "timeout") {
                throw CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
            }
        }
        let id = try c.integer(2)
        guard let session = c.server.sessions[id], session.client.connection.isBlocked else {
            return c.out.writeIntegerReply(0)
        }
        session.unblock(withError: error)
        c.out.writeIntegerReply(1)
    }

    /// CLIENT KILL <ip:port> (may kill the caller; OK or "No such client"), or
    /// CLIENT KILL <filter> <value> ... (the number killed; SKIPME yes by default).
    static func kill(_ c: inout CommandContext) throws(CommandError) {
        var addr: String?, laddr: String?, type: String?, id: Int?
        var skipMe = true
        if c.args.count == 3 {
            addr = c.string(2)
            skipMe = false
        } else {
            var i = 2
            while i < c.args.count {
                guard i + 1 < c.args.count else { throw .syntax }
                if c.argIs(i, "id") {
                    guard let n = Int(c.string(i + 1)), n > 0 else { throw CommandError("ERR client-id should be greater than 0") }
                    id = n
                } else if c.argIs(i, "type") {
                    let t = c.string(i + 1).lowercased()
                    guard ["normal", "master", "replica", "slave", "pubsub"].contains(t) else {
                        throw CommandError("ERR Unknown client type '\(c.cstring(i + 1))'")
                    }
                    type = t == "slave" ? "replica" : t
                } else if c.argIs(i, "addr") {
                    addr = c.string(i + 1)
                } else if c.argIs(i, "laddr") {
                    laddr = c.string(i + 1)
                } else if c.argIs(i, "user") {
                    // Only the default user exists until ACLs are built.
                    guard c.string(i + 1) == "default" else { throw CommandError("ERR No such user '\(c.cstring(i + 1))'") }
                } else if c.argIs(i, "skipme") {
                    if c.argIs(i + 1, "yes") { skipMe = true } else if c.argIs(i + 1, "no") { skipMe = false } else { throw .syntax }
                } else {
                    throw .syntax
                }
                i += 2
            }
        }
        var killed = 0, killSelf = false
        for (clientID, client) in c.server.clients.sorted(by: { $0.key < $1.key }) {
            if let addr, client.address != addr { continue }
            if let laddr, client.localAddress != laddr { continue }
            if let type, type != (client.subscriptions.isSubscribed ? "pubsub" : "normal") { continue }
            if let id, clientID != id { continue }
            if client === c.client {
                if skipMe { continue }
                killSelf = true
            } else if let session = c.server.sessions[clientID] {
                session.closeAfterReply()
                session.onOutput?()  // so that the network layer closes it this turn
            }
            killed += 1
        }
        if c.args.count == 3 {
            guard killed > 0 else { throw CommandError("ERR No such client") }
            c.out.writeOK()
        } else {
            c.out.writeIntegerReply(killed)
        }
        if killSelf { c.client.connection.closeAfterReply() }
    }

    /// Redis's CLIENT HELP, entry by entry; only the subcommands Lode has are
    /// listed (the others answer "unknown subcommand", so the help says nothing
    /// of them).
    static var help: [String] {
        let bound = CommandTable.standard.lookup(name: "client")?.subcommands ?? [:]
        return helpEntries.filter { bound[$0.0] != nil }.flatMap(\.1)
    }

    static let helpEntries: [(String, [String])] = [
        ("caching", ["CACHING (YES|NO)",
                     "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes."]),
        ("getredir", ["GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled."]),
        ("getname", ["GETNAME", "    Return the name of the current connection."]),
        ("id", ["ID", "    Return the ID of the current connection."]),
        ("info", ["INFO", "    Return information about the current client connection."]),
        ("kill", ["KILL <ip:port>",
                  "    Kill connection made from <ip:port>.",
                  "KILL <option> <value> [<option> <value> [...]]",
                  "    Kill connections. Options are:",
                  "    * ADDR (<ip:port>|<unixsocket>:0)",
                  "      Kill connections made from the specified address",
                  "    * LADDR (<ip:port>|<unixsocket>:0)",
                  "      Kill connections made to specified local address",
                  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                  "      Kill connections by type.",
                  "    * USER <username>",
                  "      Kill connections authenticated by <username>.",
                  "    * SKIPME (YES|NO)",
                  "      Skip killing current connection (default: yes)."]),
        ("list", ["LIST [options ...]",
                  "    Return information about client connections. Options:",
                  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                  "      Return clients of specified type."]),
        ("unpause", ["UNPAUSE", "    Stop the current client pause, resuming traffic."]),
        ("pause", ["PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds."]),
        ("reply", ["REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection."]),
        ("setname", ["SETNAME <name>", "    Assign the name <name> to the current connection."]),
        ("unblock", ["UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client."]),
        ("tracking", ["TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
                      "         [OPTIN] [OPTOUT] [NOLOOP]",
                      "    Control server assisted client side caching."]),
        ("trackinginfo", ["TRACKINGINFO", "    Report tracking status for the current connection."]),
        ("no-evict", ["NO-EVICT (ON|OFF)", "    Protect current client connection from eviction."]),
    ]
}
