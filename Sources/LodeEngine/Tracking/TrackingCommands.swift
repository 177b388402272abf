import LodeRESP
import NIOCore

/// CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO and REPLY, with Redis
/// 7.0's options, checks and error texts (networking.c's clientCommand).
enum TrackingCommands {
    static let handlers: [String: CommandHandler] = [
        "client|tracking": tracking,
        "client|caching": caching,
        "client|getredir": { (c: inout CommandContext) throws(CommandError) in
            c.out.writeIntegerReply(c.client.tracking.on ? c.client.tracking.redirect : -1)
        },
        "client|trackinginfo": trackingInfo,
        "client|reply": reply,
    ]

    static func tracking(_ c: inout CommandContext) throws(CommandError) {
        var redirect = 0
        var bcast = false, optin = false, optout = false, noloop = false
        var prefixes: [ByteBuffer] = []
        var j = 3
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.argIs(j, "redirect") && more > 0 {
                j += 1
                if redirect != 0 { throw CommandError("ERR A client can only redirect to a single other client") }
                redirect = try c.integer(j)
                guard c.server.clients[redirect] != nil else {
                    throw CommandError("ERR The client ID you want redirect to does not exist")
                }
            } else if c.argIs(j, "bcast") {
                bcast = true
            } else if c.argIs(j, "optin") {
                optin = true
            } else if c.argIs(j, "optout") {
                optout = true
            } else if c.argIs(j, "noloop") {
                noloop = true
            } else if c.argIs(j, "prefix") && more > 0 {
                j += 1
                prefixes.append(c.arg(j))
            } else {
                throw .syntax
            }
            j += 1
        }
        let t = c.client.tracking
        if c.argIs(2, "on") {
            if !bcast && !prefixes.isEmpty { throw CommandError("ERR PREFIX option requires BCAST mode to be enabled") }
            if t.on && t.bcast != bcast {
                throw CommandError("ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
                    + "and then re-enabling it with a different mode.")
            }
            if bcast && (optin || optout) { throw CommandError("ERR OPTIN and OPTOUT are not compatible with BCAST") }
            if optin && optout { throw CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode") }
            if (optin && t.optout) || (optout && t.optin) {
                throw CommandError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
                    + "and then re-enabling it with a different mode.")
            }
            if bcast, let error = TrackingTable.collision(prefixes, existing: t.prefixes) { throw CommandError(error) }
            c.server.enableTracking(c.client, redirect: redirect, bcast: bcast, optin: optin, optout: optout,
                                    noloop: noloop, prefixes: prefixes)
        } else if c.argIs(2, "off") {
            c.server.disableTracking(c.client)
        } else {
            throw .syntax
        }
        c.out.writeOK()
    }

    static func caching(_ c: inout CommandContext) throws(CommandError) {
        guard c.client.tracking.on else {
            throw CommandError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
                + "OPTOUT mode enabled")
        }
        if c.argIs(2, "yes") {
            guard c.client.tracking.optin else {
                throw CommandError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
            }
        } else if c.argIs(2, "no") {
            guard c.client.tracking.optout else {
                throw CommandError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
            }
        } else {
            throw .syntax
        }
        c.client.tracking.caching = true
        c.out.writeOK()
    }

    static func trackingInfo(_ c: inout CommandContext) throws(CommandError) {
        let t = c.client.tracking
        var flags = [t.on ? "on" : "off"]
        if t.bcast { flags.append("bcast") }
        if t.optin { flags.append("optin") }
        if t.optin && t.caching { flags.append("caching-yes") }
        if t.optout { flags.append("optout") }
        if t.optout && t.caching { flags.append("caching-no") }
        if t.noloop { flags.append("noloop") }
        if t.brokenRedirect { flags.append("broken_redirect") }
        c.out.writeMapHeader(3, c.resp)
        c.out.writeBulk(string: "flags")
        c.out.writeSetHeader(flags.count, c.resp)
        for f in flags { c.out.writeBulk(string: f) }
        c.out.writeBulk(string: "redirect")
        c.out.writeIntegerReply(t.on ? t.redirect : -1)
        c.out.writeBulk(string: "prefixes")
        c.out.writeArrayHeader(t.prefixes.count)
        for p in t.prefixes { c.out.writeBulk(p) }
    }

    /// CLIENT REPLY: OFF and SKIP answer nothing; ON answers OK.
    static func reply(_ c: inout CommandContext) throws(CommandError) {
        if c.argIs(2, "on") {
            c.client.replies = .on
            c.out.writeOK()
        } else if c.argIs(2, "off") {
            c.client.replies = .off
        } else if c.argIs(2, "skip") {
            if c.client.replies != .off { c.client.replies = .skipNext }
        } else {
            throw .syntax
        }
    }
}
