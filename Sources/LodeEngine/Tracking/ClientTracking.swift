import LodeRESP
import NIOCore

/// Client-side caching (Redis's tracking.c): remembering what tracking clients
/// read, and telling them when it changes — as a RESP3 push on their own
/// connection, or as a `__redis__:invalidate` message to the client they
/// redirect to (which may speak RESP2 while subscribed).
extension ServerState {
    static let invalidationChannel = ByteBuffer(string: "__redis__:invalidate")

    /// What an invalidation names: some keys, or all of them (a flush: null).
    enum Invalidation {
        case keys([ByteBuffer])
        case all
    }

    // MARK: turning tracking on and off

    func enableTracking(_ client: ClientState, redirect: Int, bcast: Bool, optin: Bool, optout: Bool,
                        noloop: Bool, prefixes: [ByteBuffer]) {
        if !client.tracking.on { tracking.trackingClients += 1 }
        client.tracking.on = true
        client.tracking.brokenRedirect = false
        client.tracking.redirect = redirect
        client.tracking.bcast = bcast
        client.tracking.optin = optin
        client.tracking.optout = optout
        client.tracking.noloop = noloop
        guard bcast else { return }
        for p in prefixes.isEmpty ? [ByteBuffer()] : prefixes where tracking.addPrefix(p, client: client.id) {
            client.tracking.prefixes.append(p)
        }
        client.tracking.prefixes.sort(by: TrackingTable.byteOrder)
    }

    /// CLIENT TRACKING off, RESET, disconnection. The client's entries in the
    /// tracking table are left to be dropped lazily, as in Redis.
    func disableTracking(_ client: ClientState) {
        for p in client.tracking.prefixes { tracking.removePrefix(p, client: client.id) }
        if client.tracking.on { tracking.trackingClients -= 1 }
        client.tracking = TrackingState()
    }

    // MARK: reads

    /// After a read-only command ran for a tracking client in default mode:
    /// remember the keys it named (Redis's call()). A read-only script is not
    /// remembered itself: the reads it makes remember its keys.
    func rememberTrackedKeys(_ client: ClientState, _ command: Command, _ args: [ByteBuffer]) {
        guard command.flags.contains(.readonly), !Self.readOnlyScriptCommands.contains(command.fullName) else { return }
        rememberKeys(of: command, args, for: client)
    }

    private static let readOnlyScriptCommands: Set<String> = ["eval_ro", "evalsha_ro", "fcall_ro"]

    /// Redis's trackingRememberKeys: the keys `args` names, for `client`.
    func rememberKeys(of command: Command, _ args: [ByteBuffer], for client: ClientState) {
        guard client.tracking.remembersReads, !command.flags.contains(.pubsub),
              let positions = command.description.keyPositions(count: args.count, argument: { Array(args[$0].readableBytesView) })
        else { return }
        for p in positions { tracking.remember(args[p.index], for: client.id) }
    }

    // MARK: writes

    /// A key changed (or expired: `writer` nil). Clients that read it hear of it
    /// now, except the client whose command is running: it hears after its
    /// reply. BCAST clients hear at the end of the event-loop turn.
    func invalidateTrackedKey(_ key: ByteBuffer, writer: Int?, broadcast: Bool = true) {
        if broadcast && !tracking.prefixes.isEmpty && tracking.noteModified(key, by: writer) {
            onBroadcastPending?()
        }
        guard let ids = tracking.takeReaders(of: key) else { return }
        for id in ids.sorted() {
            guard let target = clients[id], target.tracking.on, !target.tracking.bcast else { continue }
            if target.tracking.noloop && target === currentClient { continue }
            if target === currentClient && currentClient != nil {
                pendingInvalidations.append(.keys([key]))
            } else {
                sendInvalidation(to: target, .keys([key]))
            }
        }
    }

    /// FLUSHDB/FLUSHALL: every tracking client is told that all keys are invalid,
    /// and the table is emptied (Redis's trackingInvalidateKeysOnFlush).
    func invalidateAllTrackedKeys() {
        if tracking.trackingClients > 0 {
            for id in clients.keys.sorted() {
                guard let c = clients[id], c.tracking.on else { continue }
                if c === currentClient { pendingInvalidations.append(.all) } else { sendInvalidation(to: c, .all) }
            }
        }
        tracking.removeAllKeys()
    }

    /// After the running client's reply (the whole of an EXEC): the
    /// invalidations that concern it, so they never interleave with its reply.
    func flushPendingInvalidations(for client: ClientState) {
        guard !pendingInvalidations.isEmpty else { return }
        let pending = pendingInvalidations
        pendingInvalidations.removeAll()
        for p in pending { sendInvalidation(to: client, p) }
    }

    /// Before the event loop's turn ends (Redis's beforeSleep): the keys modified
    /// under each BCAST prefix, one message per prefix, without a NOLOOP
    /// client's own writes.
    func broadcastTrackedKeys() {
        guard tracking.hasPendingBroadcasts else { return }
        for (ids, keys) in tracking.takeBroadcasts() {
            for id in ids {
                guard let c = clients[id] else { continue }
                let own = c.tracking.noloop ? keys.filter { $0.1 != id } : keys
                if !own.isEmpty { sendInvalidation(to: c, .keys(own.map(\.0))) }
            }
        }
    }

    /// tracking-table-max-keys: over the limit, forget keys (telling their
    /// readers, as if the keys had changed), with more effort each round that
    /// ends still over it — Redis's trackingLimitUsedSlots.
    func limitTrackingTable() {
        let max = config.trackingTableMaxKeys
        guard max > 0, tracking.keyCount > max else {
            tracking.limitRounds = 0
            return
        }
        var effort = 100 * (tracking.limitRounds + 1)
        while effort > 0, let key = tracking.anyKey {
            effort -= 1
            invalidateTrackedKey(key, writer: nil, broadcast: false)
            if tracking.keyCount <= max {
                tracking.limitRounds = 0
                return
            }
        }
        tracking.limitRounds += 1
    }

    // MARK: delivery

    /// Redis's sendTrackingMessage: to the client itself in RESP3, or to the
    /// client it redirects to (a push in RESP3; in RESP2 only while subscribed,
    /// as a message on `__redis__:invalidate`). A redirect to a client that is
    /// gone marks the redirect broken and, in RESP3, says so.
    func sendInvalidation(to client: ClientState, _ what: Invalidation) {
        // A flush is a null in the tracking client's own protocol, as in Redis.
        let nullVersion = client.resp
        var target = client
        var redirected = false
        let redirect = client.tracking.redirect
        if redirect != 0 {
            guard let redir = clients[redirect] else {
                client.tracking.brokenRedirect = true
                if client.resp == .resp3, let s = sessions[client.id] {
                    s.push { out in
                        out.writePushHeader(2, .resp3)
                        out.writeBulk(string: "tracking-redir-broken")
                        out.writeIntegerReply(redirect)
                    }
                }
                return
            }
            target = redir
            redirected = true
        }
        guard let session = sessions[target.id] else { return }
        let resp3 = target.resp == .resp3
        guard resp3 || (redirected && target.subscriptions.isSubscribed) else { return }
        session.push { out in
            if resp3 {
                out.writePushHeader(2, .resp3)
                out.writeBulk(string: "invalidate")
            } else {
                out.writeArrayHeader(3)
                out.writeBulk(string: "message")
                out.writeBulk(Self.invalidationChannel)
            }
            switch what {
            case .keys(let keys):
                out.writeArrayHeader(keys.count)
                for k in keys { out.writeBulk(k) }
            case .all:
                out.writeNull(nullVersion)
            }
        }
    }
}
