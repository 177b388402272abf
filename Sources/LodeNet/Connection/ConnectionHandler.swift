import LodeEngine
import LodeRESP
import NIOCore

/// One client connection: bytes in, bytes out, and nothing else. Requests are
/// framed by NIO's single-step processor with the RESP decoder and handed to the
/// engine's `ClientSession`, which runs them and holds the replies; the replies
/// go out once per event-loop turn, after the turn's writes are committed (and,
/// with `appendfsync always`, synced) — see `TurnCoordinator`.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: ServerState
    private let coordinator: TurnCoordinator
    private var session: ClientSession?
    private var processor: NIOSingleStepByteToMessageProcessor<RESPRequestDecoder>?
    private var context: ChannelHandlerContext?
    /// Set once the close has been asked for (after the last reply, or at once).
    private var closing = false
    /// SYNC/PSYNC: no more commands; once the snapshot streams, nothing else is sent.
    private var syncing = false
    private var syncStreaming = false

    // Turn bookkeeping, kept by the TurnCoordinator.
    var registeredForTurn = false
    /// Set while this connection has writes in the open transaction.
    var inUncommittedGroup = false
    /// Output is held until the fsync of this commit sequence completes.
    var holdUntilSynced: UInt64 = 0

    init(server: ServerState, coordinator: TurnCoordinator) {
        self.server = server
        self.coordinator = coordinator
    }

    /// Whether this connection has writes in the open (uncommitted) transaction.
    var hasUncommittedWrites: Bool { session?.rollbackMark != nil }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        switch server.connect(remote: context.channel.remoteAddress, local: context.channel.localAddress,
                              loop: context.eventLoop) {
        case .failure(let refusal):
            closing = true
            var b = context.channel.allocator.buffer(capacity: refusal.reply.utf8.count)
            b.writeString(refusal.reply)
            context.writeAndFlush(NIOAny(b)).whenComplete { _ in context.close(promise: nil) }
        case .success(let session):
            self.session = session
            processor = NIOSingleStepByteToMessageProcessor(RESPRequestDecoder(control: session.input))
            session.onOutput = { [weak self] in
                guard let self else { return }
                self.coordinator.register(self)
                self.checkOutputLimit()
            }
            session.onResumeInput = { [weak self] in self?.resumeInput() }
            session.onFullSync = { [weak self] request in self?.beginFullSync(request) }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        session?.channelClosed()
        session = nil
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let input = unwrapInboundIn(data)
        server.stats.totalNetInputBytes += input.readableBytes
        decode(input)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        coordinator.register(self)
    }

    /// Runs every complete request the input holds, until the session stops
    /// accepting (blocked: the rest waits in the processor's buffer; closing).
    private func decode(_ input: ByteBuffer) {
        guard let session, let processor, !closing, !syncing else { return }
        // As Redis's querybuf, the requests of this read count until all of them ran.
        session.noteQueryBuffer(processor.unprocessedBytes + input.readableBytes)
        defer { session.noteQueryBuffer(processor.unprocessedBytes) }
        do {
            try processor.process(buffer: input) { args in session.receive(args) }
        } catch let error as RESPProtocolError {
            session.protocolError(error.message)
        } catch {
            session.protocolError("\(error)")
        }
    }

    /// Input that waited behind a blocked command may run now.
    private func resumeInput() {
        guard let session, session.state.acceptsCommands else { return }
        decode(ByteBuffer())
    }

    /// Sends what is buffered, unless it must wait for an fsync; closes after the
    /// last reply when the session is closing.
    func flushIfReady(syncedSequence: UInt64) {
        guard let context, let session, !closing, !syncStreaming, holdUntilSynced <= syncedSequence else { return }
        if session.out.readableBytes > 0 {
            let buffer = session.takeOutput(allocator: context.channel.allocator)
            server.stats.totalNetOutputBytes += buffer.readableBytes
            if session.state.isClosing {
                closing = true
                context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in context.close(promise: nil) }
                return
            }
            context.writeAndFlush(NIOAny(buffer), promise: nil)
            checkOutputLimit()
        } else if session.state.isClosing {
            closing = true
            context.close(promise: nil)
        }
    }

    /// client-output-buffer-limit: replies waiting in this process for a client
    /// that does not read them (NIO's outbound buffer plus the session's) are
    /// bounded; over the limit the connection is dropped, as Redis drops it. The
    /// measure is taken only when the socket stopped taking bytes or the session
    /// holds more than the smallest limit, so fast clients pay nothing.
    private func checkOutputLimit() {
        guard let context, let session, !closing else { return }
        let floor = session.outputLimitFloor
        guard floor > 0, !context.channel.isWritable || session.out.readableBytes >= floor else { return }
        let pending = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        guard session.outputLimitReached(pending: pending) else { return }
        session.closedForOutputLimit()
        closing = true
        context.close(promise: nil)
    }

    /// SYNC/PSYNC: once the snapshot is taken (after the turn's commit), the replies
    /// before it go out and FullSyncStreamer sends the payload, then closes.
    private func beginFullSync(_ request: FullSyncRequest) {
        syncing = true
        request.snapshot { [weak self] result in
            guard let self, let context = self.context, let session = self.session, !self.closing else {
                if case .success(let s) = result { s.close() }
                return
            }
            let pending = session.takeOutput(allocator: context.channel.allocator)
            if pending.readableBytes > 0 { context.writeAndFlush(NIOAny(pending), promise: nil) }
            self.syncStreaming = true
            switch result {
            case .success(let snapshot):
                let server = self.server, loop = context.eventLoop
                FullSyncStreamer.start(request, snapshot: snapshot, channel: context.channel) { message in
                    loop.execute { server.logger.notice("\(message)") }
                }
            case .failure(let error):
                var b = context.channel.allocator.buffer(capacity: 64)
                b.writeString("-ERR snapshot failed: \(error)\r\n")
                context.writeAndFlush(NIOAny(b)).whenComplete { _ in context.close(promise: nil) }
            }
        }
    }

    func rollBackTurn(error: String) { session?.rollBackTurn(error: error) }

    func clearRollbackMark() { session?.clearRollbackMark() }

    /// Closes the connection at shutdown, after its pending replies.
    func closeForShutdown() {
        session?.closeAfterReply()
        flushIfReady(syncedSequence: .max)
    }
}
