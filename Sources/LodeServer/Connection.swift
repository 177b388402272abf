import LodeRESP
import LodeStore
import NIOCore

/// One client connection. Each read is parsed and executed at once, replies are
/// appended to one buffer, and the buffer goes out once per event-loop turn, after
/// the turn's writes are committed (and, with `appendfsync always`, synced).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: ServerState
    private let coordinator: TurnCoordinator
    private let table = CommandTable.standard
    private var parser: RESPRequestParser
    private var cumulation: ByteBuffer?
    private(set) var out: ByteBuffer
    private var context: ChannelHandlerContext?
    private(set) var client: ClientState!
    private var closed = false

    // Turn bookkeeping, read by TurnCoordinator.
    var registeredForTurn = false
    /// Where the first write of the open transaction began in `out`, and how many
    /// commands ran from there: if the commit fails, those replies become errors.
    var rollbackMark: Int?
    var commandsSinceMark = 0
    /// Output is held until the fsync of this commit sequence completes.
    var holdUntilSynced: UInt64 = 0

    private static let empty = ByteBuffer()

    init(server: ServerState, coordinator: TurnCoordinator) {
        self.server = server
        self.coordinator = coordinator
        parser = RESPRequestParser(maxBulkLength: server.config.protoMaxBulkLength)
        out = ByteBufferAllocator().buffer(capacity: 0)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        out = context.channel.allocator.buffer(capacity: 1024)
        let now = currentTimeMillis()
        server.stats.totalConnectionsReceived += 1
        let remote = context.channel.remoteAddress
        client = ClientState(id: server.nextClientID, authenticated: !server.requiresAuth,
                             address: Self.describe(remote), localAddress: Self.describe(context.channel.localAddress), now: now)
        server.nextClientID += 1
        if server.clients.count >= server.config.maxClients {
            server.stats.rejectedConnections += 1
            rejectAndClose("-ERR max number of clients reached\r\n")
            return
        }
        if server.config.protectedMode && !server.requiresAuth && !Self.isLoopback(remote) {
            server.stats.rejectedConnections += 1
            rejectAndClose(Self.protectedModeMessage)
            return
        }
        server.clients[client.id] = client
        parser.unauthenticated = !client.authenticated
    }

    private func rejectAndClose(_ text: String) {
        closed = true
        var b = context!.channel.allocator.buffer(capacity: text.utf8.count)
        b.writeString(text)
        context!.writeAndFlush(NIOAny(b)).whenComplete { [context] _ in context?.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        if blockedCommand != nil { unblocked() }
        if let client { server.clients.removeValue(forKey: client.id) }
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        var input = unwrapInboundIn(data)
        server.stats.totalNetInputBytes += input.readableBytes
        if blockedCommand != nil {
            // Blocked: later commands wait in the buffer, as in Redis.
            var pending = cumulation ?? context.channel.allocator.buffer(capacity: input.readableBytes)
            cumulation = nil
            pending.writeBuffer(&input)
            keepRemainder(pending)
            return
        }
        if var pending = cumulation {
            cumulation = nil
            pending.writeBuffer(&input)
            process(&pending)
            keepRemainder(pending)
        } else {
            process(&input)
            keepRemainder(input)
        }
    }

    private func keepRemainder(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0, !closed else { return }
        var rest = buffer
        if rest.readerIndex > 64 * 1024 { rest.discardReadBytes() }
        cumulation = rest
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        coordinator.register(self)
    }

    private func process(_ buffer: inout ByteBuffer) {
        parser.maxBulkLength = server.config.protoMaxBulkLength
        while !client.closeAfterReply && blockedCommand == nil {
            let request: RESPRequestParser.Request?
            do {
                request = try parser.next(from: &buffer)
            } catch {
                out.writeError("ERR Protocol error: \(error.message)")
                server.logger.info("Protocol error (\(error.message)) from client: id=\(client.id) addr=\(client.address)")
                client.closeAfterReply = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                break
            }
            guard let request else { break }
            if case .command(let args) = request {
                execute(args)
            }
        }
    }

    private func execute(_ args: [ByteBuffer]) {
        server.stats.totalCommandsProcessed += 1
        let mark = out.writerIndex
        let writesBefore = server.store.writeCount
        defer {
            if rollbackMark != nil {
                commandsSinceMark += 1
            } else if server.store.writeCount != writesBefore {
                rollbackMark = mark
                commandsSinceMark = 1
            }
        }
        guard let spec = table.lookup(args[0]) else {
            out.writeErrorBytes(unknownCommandError(args))
            return
        }
        var command = spec
        // COMMAND alone runs its own handler; with an argument, like CLIENT or CONFIG,
        // the argument names a subcommand.
        if !spec.subcommands.isEmpty && (spec.handler == nil || args.count >= 2) {
            guard args.count >= 2 else {
                out.writeError(CommandError.wrongArity(spec.name).text)
                return
            }
            guard let sub = spec.subcommands[String(buffer: args[1]).lowercased()] else {
                let name = String(buffer: args[1]).prefix(128)
                out.writeError("ERR unknown subcommand '\(name)'. Try \(String(buffer: args[0]).uppercased()) HELP.")
                return
            }
            command = sub
        }
        guard command.arityOK(args.count) else {
            out.writeError(CommandError.wrongArity(command.fullName).text)
            return
        }
        if !client.authenticated && !command.flags.contains(.noauth) {
            out.writeStaticString("-NOAUTH Authentication required.\r\n")
            return
        }
        client.lastCommand = command.fullName
        let now = currentTimeMillis()
        server.store.cache.clock = UInt32(truncatingIfNeeded: now / 1000)  // for OBJECT IDLETIME
        var ctx = CommandContext(args: args, client: client, server: server, out: out, now: now, spec: command)
        out = Self.empty  // the context holds the only reference: no copy-on-write
        do {
            try command.handler!(&ctx)
        } catch {
            ctx.out.writeError(error.text)
        }
        out = ctx.out
        parser.unauthenticated = !client.authenticated
        if let request = client.blockRequest {
            client.blockRequest = nil
            block(args, request)
        } else if blockedCommand != nil {
            unblocked()
        }
        if !server.touchedKeys.isEmpty { server.blocking.serve(server) }
    }

    // MARK: blocking commands

    /// The arguments of the blocking command this connection waits in, if any.
    private(set) var blockedCommand: [ByteBuffer]?
    private var blockTimeout: Scheduled<Void>?
    private var blockGeneration = 0

    private func block(_ args: [ByteBuffer], _ request: BlockRequest) {
        let first = blockedCommand == nil
        blockedCommand = args.map { var copy = ByteBufferAllocator().buffer(capacity: $0.readableBytes); copy.writeImmutableBuffer($0); return copy }
        guard first else { return }  // a retry that found nothing: stay in line
        server.blocking.add(self, keys: request.keys)
        server.blockedCount += 1
        blockGeneration += 1
        if let deadline = request.deadline, let context {
            let generation = blockGeneration
            let delay = TimeAmount.milliseconds(max(0, deadline - currentTimeMillis()))
            blockTimeout = context.eventLoop.scheduleTask(in: delay) { [weak self] in
                guard let self, self.blockedCommand != nil, self.blockGeneration == generation else { return }
                self.out.writeNullArray(self.client.resp)
                self.unblocked()
                self.resume()
            }
        }
    }

    /// Runs the blocked command again (a key it waits on got data); returns
    /// whether the connection is still blocked.
    func retryBlocked() -> Bool {
        guard let args = blockedCommand else { return false }
        client.retryingBlocked = true
        execute(args)
        client.retryingBlocked = false
        if blockedCommand == nil { resume() }
        return blockedCommand != nil
    }

    private func unblocked() {
        blockedCommand = nil
        blockTimeout?.cancel()
        blockTimeout = nil
        server.blocking.remove(self)
        server.blockedCount -= 1
    }

    /// After being served or timing out: flush, then run what arrived meanwhile.
    private func resume() {
        coordinator.register(self)
        if var pending = cumulation, !closed {
            cumulation = nil
            process(&pending)
            keepRemainder(pending)
        }
    }

    /// Sends what is buffered, unless it must wait for an fsync.
    func flushIfReady(syncedSequence: UInt64) {
        guard let context, holdUntilSynced <= syncedSequence else { return }
        if out.readableBytes > 0 {
            server.stats.totalNetOutputBytes += out.readableBytes
            let buffer = out
            out = context.channel.allocator.buffer(capacity: 1024)
            if client.closeAfterReply {
                closed = true
                context.writeAndFlush(NIOAny(buffer)).whenComplete { [context] _ in context.close(promise: nil) }
                return
            }
            context.writeAndFlush(NIOAny(buffer), promise: nil)
        } else if client.closeAfterReply && !closed {
            closed = true
            context.close(promise: nil)
        }
    }

    /// Replaces the replies of everything run since this turn's first write with
    /// an error: the turn's transaction was not committed.
    func rollBackTurn(error: String) {
        guard let mark = rollbackMark else { return }
        out.moveWriterIndex(to: mark)
        for _ in 0..<commandsSinceMark { out.writeError(error) }
    }

    /// Set while this connection has writes in the open transaction.
    var inUncommittedGroup = false

    func clearRollbackMark() {
        rollbackMark = nil
        commandsSinceMark = 0
    }

    /// Closes the connection at shutdown, after its pending replies.
    func closeForShutdown() {
        client?.closeAfterReply = true
        flushIfReady(syncedSequence: .max)
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "?:0" }
        return "\(ip):\(port)"
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return true }  // unix sockets
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    static let protectedModeMessage = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"
}

/// Ends each event-loop turn: commits the turn's writes in one LMDB transaction
/// (group commit across all clients), then sends the replies that may go.
///
/// With `appendfsync always`, while one group's fsync is in flight the next
/// group's writes stay in the open transaction (their replies are held anyway);
/// when the fsync completes they are committed and synced together. Groups thus
/// grow with the load, as in a database's log group commit.
final class TurnCoordinator: @unchecked Sendable {  // used only on its event loop
    private let server: ServerState
    private let loop: EventLoop
    private var scheduled = false
    private var registered: [ConnectionHandler] = []
    /// Connections with writes in the open, not yet committed transaction.
    private var uncommitted: [ConnectionHandler] = []
    /// Connections whose output waits for an fsync.
    private var holding: [ConnectionHandler] = []
    private(set) var syncedSequence: UInt64 = 0
    private var syncInFlight = false
    var syncer: Syncer?

    init(server: ServerState, loop: EventLoop) {
        self.server = server
        self.loop = loop
    }

    func register(_ handler: ConnectionHandler) {
        if !handler.registeredForTurn {
            handler.registeredForTurn = true
            registered.append(handler)
        }
        scheduleEndOfTurn()
    }

    /// Runs `endTurn` after every channel read of this event-loop iteration.
    func scheduleEndOfTurn() {
        guard !scheduled else { return }
        scheduled = true
        loop.execute { self.endTurn() }
    }

    func endTurn() {
        scheduled = false
        let handlers = registered
        registered.removeAll(keepingCapacity: true)
        for h in handlers where h.rollbackMark != nil && !h.inUncommittedGroup {
            h.inUncommittedGroup = true
            uncommitted.append(h)
        }
        let store = server.store
        if server.config.appendFsync == .always && syncInFlight && store.hasPendingWrites && store.turnFailure == nil {
            // Join the next group: commit when the fsync in flight completes.
            for h in uncommitted { h.holdUntilSynced = .max }
            store.endReadSnapshot()
        } else {
            commit()
        }
        for h in handlers {
            h.registeredForTurn = false
            h.flushIfReady(syncedSequence: syncedSequence)
        }
    }

    /// Commits the open transaction and releases or holds the replies it covers.
    private func commit() {
        let group = uncommitted
        uncommitted.removeAll(keepingCapacity: true)
        let result = server.store.endTurn()
        switch result {
        case .failed:
            let failure = server.store.lastFailure
            let text = failure?.replyText ?? "ERR storage error; the write was not applied"
            if let failure { server.noteStorageError(failure) }
            for h in group {
                h.rollBackTurn(error: text)
                h.holdUntilSynced = 0
            }
        case .committed(let sequence):
            server.stats.commits += 1
            let always = server.config.appendFsync == .always
            if always {
                for h in group {
                    h.holdUntilSynced = sequence
                    holding.append(h)
                }
                syncInFlight = true
            } else {
                for h in group where h.holdUntilSynced == .max { h.holdUntilSynced = 0 }
                syncedSequence = sequence
            }
            syncer?.committed(sequence, needsSync: always)
        case .nothingWritten:
            break
        }
        for h in group {
            h.clearRollbackMark()
            h.inUncommittedGroup = false
            h.flushIfReady(syncedSequence: syncedSequence)
        }
    }

    /// Called on the loop when an fsync covering `sequence` has completed.
    func synced(_ sequence: UInt64) {
        server.stats.syncs += 1
        syncInFlight = false
        syncedSequence = max(syncedSequence, sequence)
        var still: [ConnectionHandler] = []
        for h in holding {
            if h.holdUntilSynced <= syncedSequence { h.flushIfReady(syncedSequence: syncedSequence) } else { still.append(h) }
        }
        holding = still
        if server.store.hasPendingWrites { commit() }
    }

    /// Shutdown: commit, then release every held reply (the store's close syncs).
    func drain(_ handlers: [ConnectionHandler]) {
        scheduled = false
        registered.removeAll()
        commit()
        syncedSequence = .max
        for h in handlers + holding { h.closeForShutdown() }
        holding.removeAll()
    }
}
