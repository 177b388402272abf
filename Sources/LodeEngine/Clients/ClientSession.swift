import LodeRESP
import LodeStore
import NIOCore

/// One client as the engine sees it: its state, its mode, and the reply buffer
/// its commands write into. The network layer feeds it requests and sends what
/// it has written; the engine never sees a channel.
///
/// Confined to the event loop.
package final class ClientSession {
    package let client: ClientState
    let server: ServerState
    let loop: EventLoop
    /// Replies not yet handed to the network layer.
    package internal(set) var out: ByteBuffer
    /// The settings the request decoder reads between requests.
    package let input: RESPInputControl
    /// Called when replies appear outside the session's own input (a published
    /// message, a blocked command served by another client's push, a timeout):
    /// the network layer flushes them at the end of the turn.
    package var onOutput: (() -> Void)?
    /// Called when input that waited (behind a blocked command) may run again.
    package var onResumeInput: (() -> Void)?
    /// SYNC/PSYNC: the network layer streams the snapshot, then closes the connection.
    package var onFullSync: ((FullSyncRequest) -> Void)?

    /// Where the first write of the open LMDB transaction began in `out`, and how
    /// many commands ran since: if the turn's commit fails, those replies become errors.
    package private(set) var rollbackMark: Int?
    package private(set) var commandsSinceMark = 0
    private var blockTimeout: Scheduled<Void>?
    /// Whether further requests must wait in the network layer's buffer: the client
    /// closes or is blocked, its script is suspended, or its command waits for a pause.
    var inputWaits: Bool { !client.connection.acceptsCommands || awaitingScript || postponedArgs != nil }
    /// The command waiting for CLIENT PAUSE to end.
    var postponedArgs: [ByteBuffer]? {
        didSet { client.isPostponed = postponedArgs != nil }
    }
    private var table: CommandTable { server.commandTable }

    init(client: ClientState, server: ServerState, loop: EventLoop) {
        self.client = client
        self.server = server
        self.loop = loop
        out = ByteBufferAllocator().buffer(capacity: 1024)
        input = RESPInputControl(maxBulkLength: server.config.protoMaxBulkLength)
        input.unauthenticated = !client.authenticated
    }

    package var id: Int { client.id }
    package var state: ConnectionState { client.connection }

    // MARK: input

    /// Runs one request (the network layer decodes; it stops while blocked or closing).
    package func receive(_ args: [ByteBuffer]) {
        guard client.connection.acceptsCommands else { return }
        client.lastInteraction = currentTimeMillis()  // CLIENT LIST idle=, as Redis's lastinteraction
        client.argumentBytes = args.reduce(0) { $0 + $1.readableBytes }
        execute(args, retry: false)
        client.argumentBytes = 0
    }

    /// The network layer's input buffer holds `bytes` for this client (CLIENT LIST qbuf).
    package func noteQueryBuffer(_ bytes: Int) {
        client.queryBufferBytes = bytes
    }

    /// A request broke the protocol: Redis replies with the error and closes.
    package func protocolError(_ message: String) {
        out.writeError("ERR Protocol error: \(message)")
        server.logger.info("Protocol error (\(message)) from client: id=\(client.id) addr=\(client.address)")
        closeAfterReply()
    }

    /// No more commands; the connection closes once its replies are sent.
    package func closeAfterReply() {
        if client.connection.closeAfterReply() { leaveWaitLists() }
        input.paused = true
    }

    /// The channel is gone.
    package func channelClosed() {
        if client.connection.channelClosed() { leaveWaitLists() }
        server.watches.unwatchAll(client)
        server.pubsub.removeAll(client)
        input.paused = true
        server.disconnected(self)
    }

    /// Hands the replies written so far to the caller.
    package func takeOutput(allocator: ByteBufferAllocator) -> ByteBuffer {
        let taken = out
        out = allocator.buffer(capacity: 1024)
        return taken
    }

    // MARK: dispatch

    /// Runs one command as Redis's processCommand + call + resetClient: the
    /// tracking table's limit first; after the command, its reply dropped under
    /// CLIENT REPLY OFF/SKIP, the invalidations that concern this client (so
    /// they follow its reply), then the clients blocked on keys it filled.
    func execute(_ args: [ByteBuffer], retry: Bool) {
        let outer = server.currentClient
        server.currentClient = client
        if server.tracking.trackingClients > 0 { server.limitTrackingTable() }
        let start = out.writerIndex
        droppingReply = client.replies.dropsReply
        dispatch(args, retry: retry)
        if droppingReply {
            if client.replies.dropsReply { out.moveWriterIndex(to: start) }
            out.writeBuffer(&framesWhileDropping)
            framesWhileDropping.clear()
            droppingReply = false
        }
        switch client.replies {
        case .skipping: client.replies = .on
        case .skipNext: client.replies = .skipping
        case .on, .off: break
        }
        if !client.connection.inTransaction && CommandKey(args[0]) != Self.clientKey { client.tracking.caching = false }
        server.flushPendingInvalidations(for: client)
        server.currentClient = outer
        if !server.touchedKeys.isEmpty { server.blocking.serve(server) }
    }

    private static let clientKey = CommandKey("client")
    /// Set while the running command's reply is dropped (CLIENT REPLY): frames
    /// pushed meanwhile wait in `framesWhileDropping`.
    private var droppingReply = false
    private var framesWhileDropping = ByteBuffer()

    private func dispatch(_ args: [ByteBuffer], retry: Bool) {
        server.stats.totalCommandsProcessed += 1
        let mark = out.writerIndex
        let writesBefore = server.store.writeCount
        defer {
            if server.store.writeCount != writesBefore { server.stats.dirty += 1 }
            if rollbackMark != nil {
                commandsSinceMark += 1
            } else if server.store.writeCount != writesBefore {
                rollbackMark = mark
                commandsSinceMark = 1
            }
        }
        let command: Command, handler: CommandHandler
        switch table.resolve(args) {
        case .failure(let error):
            return refuse(error.bytes, args)
        case .success(let resolved):
            (command, handler) = resolved
        }
        if !client.authenticated && !command.flags.contains(.noAuth) {
            return refuse(Array("NOAUTH Authentication required.".utf8), args)
        }
        let inTransaction = client.connection.inTransaction
        if inTransaction && command.flags.contains(.noMulti) {
            return refuse(Array("ERR Command not allowed inside a transaction".utf8), args)
        }
        if client.resp == .resp2 && client.subscriptions.isSubscribed && !Self.allowedWhileSubscribed.contains(command.fullName) {
            return refuse(Array(("ERR Can't execute '\(command.fullName)': only (P|S)SUBSCRIBE / "
                                 + "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context").utf8), args)
        }
        if server.scripts.isBusy && !command.flags.contains(.allowBusy) {
            return refuse(Array(server.scripts.busyError.utf8), args)
        }
        if let failure = server.persistenceFailure, command.flags.contains(.write) {
            return refuse(Array("MISCONF \(failure)".utf8), args)
        }
        // After the checks that answer at once (arity, auth, ...), as Redis's processCommand.
        if server.pause.kind != .off && server.mustPostpone(command, args, client, now: currentTimeMillis()) {
            return postpone(args)
        }
        if inTransaction && !Self.runsInsideMulti.contains(command.fullName) {
            client.connection.queue(args)
            out.writeStaticString("+QUEUED\r\n")
            return
        }
        client.lastCommand = command.fullName
        let now = currentTimeMillis()
        server.store.cache.clock = UInt32(truncatingIfNeeded: now / 1000)  // for OBJECT IDLETIME
        var ctx = CommandContext(args: args, client: client, session: self, server: server, now: now,
                                 command: command, isBlockedRetry: retry)
        run(handler, &ctx)
        if client.tracking.on { server.rememberTrackedKeys(client, command, args) }
        input.unauthenticated = !client.authenticated
        input.maxBulkLength = server.config.protoMaxBulkLength
        input.paused = inputWaits
        if let request = ctx.blockRequest {
            block(ctx.args, request)  // as the command left them (XREAD's `$` resolved)
        } else if client.connection.isBlocked, client.connection.served() == .unregisterAndResume {
            leaveWaitLists()
        }
    }

    /// An error reply for a command that does not run (unknown, wrong arity,
    /// NOAUTH, not allowed now); inside MULTI it also dooms the transaction. A
    /// refused EXEC discards the transaction with EXECABORT and the reason, as
    /// Redis's rejectCommand does (shared errors keep their CRLF as two spaces).
    private func refuse(_ error: [UInt8], _ args: [ByteBuffer]) {
        client.connection.refuseInTransaction()
        if let command = table.lookup(call: args) { server.commandStats.rejected(command.fullName) }
        let start = out.writerIndex
        defer { countErrorReply(from: start) }
        guard CommandKey(args[0]) == Self.execKey else { return out.writeErrorBytes(error) }
        _ = client.connection.endTransaction()
        server.watches.unwatchAll(client)
        client.watch.dirty = false
        var reason = error
        if reason.starts(with: Array("ERR ".utf8)) { reason.removeFirst(4) }
        if reason.starts(with: Array("NOAUTH".utf8)) { reason += Array("  ".utf8) }
        out.writeErrorBytes(Array("EXECABORT Transaction discarded because of: ".utf8) + reason)
    }

    private static let execKey = CommandKey("exec")

    /// The commands RESP2 allows a subscribed client (Redis's processCommand).
    static let allowedWhileSubscribed: Set<String> = [
        "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset",
    ]

    /// The commands that run at once inside MULTI instead of being queued.
    static let runsInsideMulti: Set<String> = ["exec", "discard", "multi", "watch", "quit", "reset"]

    // MARK: transactions

    /// Queued commands of an EXEC not yet run: a script among them was suspended
    /// past the busy threshold, and the rest runs when it ends (no other client's
    /// command runs in between: they get BUSY).
    private var transactionRest: ArraySlice<[ByteBuffer]> = []

    /// Runs an EXEC's queued commands, their replies appended to its reply.
    func runTransaction(_ queued: [[ByteBuffer]]) {
        transactionRest = queued[...]
        continueTransaction()
    }

    private func continueTransaction() {
        while !awaitingScript, let args = transactionRest.popFirst() { runInTransaction(args) }
    }

    /// Runs one command queued in a transaction, as part of EXEC: no blocking,
    /// its reply (or error) appended to the EXEC reply being written.
    func runInTransaction(_ args: [ByteBuffer]) {
        server.stats.totalCommandsProcessed += 1
        guard case .success(let (command, handler)) = table.resolve(args) else {
            return out.writeError("ERR unknown command")  // checked when queued: cannot happen
        }
        var ctx = CommandContext(args: args, client: client, session: self, server: server,
                                 now: currentTimeMillis(), command: command, isBlockedRetry: false)
        ctx.denyBlocking = true
        run(handler, &ctx)
        if client.tracking.on { server.rememberTrackedKeys(client, command, args) }
    }

    /// Runs a handler; an error replaces whatever part of a reply it had written,
    /// so the client always gets exactly one reply per command. Counted for
    /// INFO commandstats / errorstats, as Redis's call().
    private func run(_ handler: CommandHandler, _ ctx: inout CommandContext) {
        let start = out.writerIndex
        let began = monotonicMicros()
        do {
            try handler(&ctx)
        } catch {
            out.moveWriterIndex(to: start)
            out.writeError(error.text)
        }
        let failed = out.writerIndex > start && out.getInteger(at: start, as: UInt8.self) == UInt8(ascii: "-")
        let duration = monotonicMicros() - began
        // A command that blocks is counted once, when it is served or times out (as
        // Redis's updateStatsOnUnblock), not for every run that found nothing.
        let blocks = ctx.blockRequest != nil && !ctx.denyBlocking
        if !blocks {
            server.commandStats.called(ctx.command.fullName, microseconds: duration, failed: failed,
                                       trackLatency: server.config.latencyTracking)
        }
        if server.config.latencyMonitorThreshold > 0 {
            server.latency.addSampleIfNeeded(ctx.command.flags.contains(.fast) ? "fast-command" : "command",
                                             milliseconds: duration / 1000, threshold: server.config.latencyMonitorThreshold)
        }
        // A command that blocked is logged when it is served, with that run's time (as Redis).
        let threshold = server.config.slowlogLogSlowerThan
        if threshold >= 0 && duration >= threshold && !ctx.command.flags.contains(.skipSlowlog) && !blocks {
            server.slowlog.record(SlowLog.redacted(ctx.args), microseconds: duration, peer: client.address,
                                  clientName: client.name, maxLength: server.config.slowlogMaxLen)
        }
        if !server.monitors.isEmpty && !ctx.isBlockedRetry && ctx.command.flags.isDisjoint(with: [.skipMonitor, .admin]) {
            server.feedMonitors(client, db: client.db, ctx.args)
        }
        if failed && !errorAlreadyCounted { countErrorReply(from: start) }
        errorAlreadyCounted = false
    }

    /// Set by a script whose error reply is the error of a command it called
    /// (counted when that command failed): Redis's ignore_error_stats_update.
    var errorAlreadyCounted = false

    /// Counts the error reply that starts at `start` in `out`, if there is one.
    private func countErrorReply(from start: Int) {
        guard out.writerIndex > start, let view = out.viewBytes(at: start, length: out.writerIndex - start),
              view.first == UInt8(ascii: "-") else { return }
        server.commandStats.errorReplied(view)
    }

    // MARK: scripts

    /// Set while this client's script is suspended past the busy threshold: the
    /// client's further input waits, as behind a blocked command.
    private(set) var awaitingScript = false

    func awaitScript() {
        awaitingScript = true
        input.paused = true
    }

    /// The suspended script ended: its reply, then the input that waited. A
    /// reply of a script that wrote joins the open transaction's group, so it
    /// goes out only after the commit.
    func scriptFinished(_ reply: ByteBuffer, wrote: Bool) {
        if wrote && rollbackMark == nil {
            rollbackMark = out.writerIndex
            commandsSinceMark = 1
        }
        out.writeImmutableBuffer(reply)
        awaitingScript = false
        continueTransaction()
        if !awaitingScript { resume() }
    }

    /// Runs one command for a script, as the script's client (this session):
    /// no blocking, and the reply returned rather than sent.
    func runFromScript(_ args: [ByteBuffer], command: Command, handler: CommandHandler) -> ByteBuffer {
        server.stats.totalCommandsProcessed += 1
        let start = out.writerIndex
        var ctx = CommandContext(args: args, client: client, session: self, server: server,
                                 now: currentTimeMillis(), command: command, isBlockedRetry: false)
        ctx.denyBlocking = true
        ctx.fromScript = true
        run(handler, &ctx)
        let reply = out.getSlice(at: start, length: out.writerIndex - start) ?? ByteBuffer()
        out.clear()
        return reply
    }

    // MARK: pub/sub

    /// Appends an out-of-band frame (a published message) and asks for a flush.
    func push(_ frame: ByteBuffer) {
        if droppingReply { framesWhileDropping.writeImmutableBuffer(frame) } else { out.writeImmutableBuffer(frame) }
        onOutput?()
    }

    /// Writes an out-of-band frame in place, asks for a flush, and returns the
    /// frame (to copy to other receivers).
    @discardableResult
    func push(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
        let frame = pushing(write)
        onOutput?()
        return frame
    }

    /// Writes a frame that is delivered even while CLIENT REPLY drops replies
    /// (a subscription's confirmation, as Redis's CLIENT_PUSHING), in place.
    @discardableResult
    func pushing(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
        if droppingReply {
            let start = framesWhileDropping.writerIndex
            write(&framesWhileDropping)
            return framesWhileDropping.getSlice(at: start, length: framesWhileDropping.writerIndex - start)!
        }
        let start = out.writerIndex
        write(&out)
        return out.getSlice(at: start, length: out.writerIndex - start)!
    }

    // MARK: blocking

    private func block(_ args: [ByteBuffer], _ request: BlockRequest) {
        switch client.connection.block(args: args, keys: request.keys, deadline: request.deadline) {
        case .register(let deadline, let generation):
            input.paused = true
            server.blocking.add(client.id, keys: request.keys)
            guard let deadline else { return }
            let delay = TimeAmount.milliseconds(max(0, deadline - currentTimeMillis()))
            blockTimeout = loop.scheduleTask(in: delay) { [weak self] in self?.timeoutFired(generation) }
        case .stayBlocked, .ignore:
            break
        }
    }

    /// CLIENT UNBLOCK: the blocked command answers as if it timed out, or with -UNBLOCKED.
    func unblock(withError: Bool) {
        let blocked = client.connection.blockedCommand?.args
        guard client.connection.served() == .unregisterAndResume else { return }
        countUnblocked(blocked, failed: withError)
        if withError { out.writeError("UNBLOCKED client unblocked via CLIENT UNBLOCK") } else { out.writeNullArray(client.resp) }
        leaveWaitLists()
        resume()
    }

    private func timeoutFired(_ generation: Int) {
        let blocked = client.connection.blockedCommand?.args
        guard client.connection.timeoutFired(generation: generation) == .replyTimedOut else { return }
        countUnblocked(blocked, failed: false)
        out.writeNullArray(client.resp)
        leaveWaitLists()
        resume()
    }

    /// The call of a blocked command that ends without being served.
    private func countUnblocked(_ args: [ByteBuffer]?, failed: Bool) {
        guard let args, let command = table.lookup(call: args) else { return }
        server.commandStats.called(command.fullName, microseconds: 0, failed: failed, trackLatency: server.config.latencyTracking)
    }

    /// Runs the blocked command again (a key it waits on got data); returns
    /// whether the client is still blocked.
    func retryBlocked() -> Bool {
        guard let blocked = client.connection.blockedCommand else {
            server.blocking.remove(client.id)  // never leave a stale waiter to spin on
            return false
        }
        execute(blocked.args, retry: true)
        if !client.connection.isBlocked { resume() }
        return client.connection.isBlocked
    }

    private func leaveWaitLists() {
        blockTimeout?.cancel()
        blockTimeout = nil
        server.blocking.remove(client.id)
    }

    /// After being served or timing out: flush, then run the input that waited.
    func resume() {
        input.paused = inputWaits
        onOutput?()
        onResumeInput?()
    }

    // MARK: output limits

    /// Redis's checkClientOutputBufferLimits: whether the client, with `pending`
    /// bytes handed to the network but not yet written plus what `out` holds,
    /// is over its class's hard limit, or over the soft one for too long. The
    /// caller disconnects it.
    package func outputLimitReached(pending: Int) -> Bool {
        let used = pending + out.readableBytes
        client.outputBytes = used
        let limit = server.config.clientOutputBufferLimits[client.subscriptions.isSubscribed ? .pubsub : .normal]
        if limit.hard > 0 && used >= limit.hard { return true }
        guard limit.soft > 0 && used >= limit.soft else {
            client.overSoftLimitSince = nil
            return false
        }
        let now = currentTimeMillis()
        guard let since = client.overSoftLimitSince else {
            client.overSoftLimitSince = now
            return false
        }
        return (now - since) / 1000 > limit.softSeconds
    }

    /// The smallest limit that applies to this client now (0: none): below it a
    /// check can be skipped.
    package var outputLimitFloor: Int {
        let limit = server.config.clientOutputBufferLimits[client.subscriptions.isSubscribed ? .pubsub : .normal]
        if limit.hard > 0 && limit.soft > 0 { return min(limit.hard, limit.soft) }
        return max(limit.hard, limit.soft)
    }

    /// The client was disconnected for its output buffer (logged as Redis does).
    package func closedForOutputLimit() {
        let who = "id=\(client.id) addr=\(client.address)"
        server.logger.warning("Client \(who) scheduled to be closed ASAP for overcoming of output buffer limits.")
        closeAfterReply()
    }

    // MARK: turn bookkeeping

    /// Replaces the replies of everything run since this turn's first write with
    /// an error: the turn's transaction was not committed.
    package func rollBackTurn(error: String) {
        guard let mark = rollbackMark else { return }
        out.moveWriterIndex(to: mark)
        for _ in 0..<commandsSinceMark { out.writeError(error) }
    }

    package func clearRollbackMark() {
        rollbackMark = nil
        commandsSinceMark = 0
    }
}
