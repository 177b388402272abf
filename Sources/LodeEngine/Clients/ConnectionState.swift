import NIOCore

/// The modes of one client connection, as one value instead of loose flags.
///
/// A pure state machine: it holds no channel and performs nothing. Each event
/// returns the action its driver (the session and, above it, the network
/// handler) must take. Redis's client modes map onto `Mode` one case each:
/// `normal`, `blocked`, `transaction` (MULTI); MONITOR, CLIENT PAUSE and
/// replica links become further cases here, each with the data it
/// needs, so a new mode never means a new flag elsewhere. Subscriptions are
/// not a mode: a client is subscribed while it has any (RESP2 then restricts
/// its commands), whatever its mode.
public struct ConnectionState {
    /// A command waiting in a blocking pop (BLPOP, BZPOPMIN, …).
    public struct BlockedCommand {
        /// The command's arguments, copied out of the read buffer.
        public let args: [ByteBuffer]
        /// The (physical db, key) pairs it waits on.
        public let keys: [(UInt8, ByteBuffer)]
        /// Milliseconds since the epoch; nil waits forever.
        public let deadline: Int64?
        /// Tells a timeout of this block from one of an earlier block.
        public let generation: Int
    }

    /// MULTI … EXEC: the commands queued so far.
    public struct Transaction {
        /// Each queued command's arguments, copied out of the read buffer.
        public var queued: [[ByteBuffer]] = []
        /// A command was refused while queuing: EXEC answers EXECABORT.
        public var refused = false
    }

    public enum Mode {
        case normal
        case blocked(BlockedCommand)
        case transaction(Transaction)
    }

    public enum Phase {
        case open(Mode)
        /// QUIT, a protocol error, SHUTDOWN: send what is pending, then close.
        case closing
        case closed
    }

    public private(set) var phase: Phase = .open(.normal)
    private var generation = 0

    public init() {}

    /// Whether the next request may be read and run now. A blocked client's later
    /// input waits, as in Redis; a closing client reads nothing more.
    public var acceptsCommands: Bool {
        switch phase {
        case .open(.normal), .open(.transaction): return true
        default: return false
        }
    }

    public var inTransaction: Bool {
        if case .open(.transaction) = phase { return true }
        return false
    }

    public var isBlocked: Bool {
        if case .open(.blocked) = phase { return true }
        return false
    }

    public var blockedCommand: BlockedCommand? {
        if case .open(.blocked(let b)) = phase { return b }
        return nil
    }

    public var isClosing: Bool {
        if case .open = phase { return false }
        return true
    }

    public var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    // MARK: events

    public enum BlockAction: Equatable {
        /// Newly blocked: register on the keys and arm a timeout for this generation.
        case register(deadline: Int64?, generation: Int)
        /// A retry that found nothing again: stay in line, nothing to do.
        case stayBlocked
        /// The connection is closing: do not block.
        case ignore
    }

    /// A command found nothing to pop and asks to wait.
    public mutating func block(args: [ByteBuffer], keys: [(UInt8, ByteBuffer)], deadline: Int64?) -> BlockAction {
        switch phase {
        case .open(.normal):
            generation += 1
            let copied = args.map(Self.copy)
            phase = .open(.blocked(BlockedCommand(args: copied, keys: keys, deadline: deadline, generation: generation)))
            return .register(deadline: deadline, generation: generation)
        case .open(.blocked):
            return .stayBlocked
        case .open(.transaction), .closing, .closed:
            return .ignore  // inside EXEC commands never block
        }
    }

    // MARK: transactions

    /// MULTI: false when already in a transaction (or not able to start one).
    public mutating func beginTransaction() -> Bool {
        guard case .open(.normal) = phase else { return false }
        phase = .open(.transaction(Transaction()))
        return true
    }

    /// Queues a command of the open transaction (its arguments are copied).
    public mutating func queue(_ args: [ByteBuffer]) {
        guard case .open(.transaction(var t)) = phase else { return }
        phase = .open(.normal)  // no second reference while the queue grows
        t.queued.append(args.map(Self.copy))
        phase = .open(.transaction(t))
    }

    /// A command was refused while queuing (Redis's flagTransaction).
    public mutating func refuseInTransaction() {
        guard case .open(.transaction(var t)) = phase else { return }
        t.refused = true
        phase = .open(.transaction(t))
    }

    /// EXEC or DISCARD: back to normal, with what was queued (nil: no MULTI).
    public mutating func endTransaction() -> Transaction? {
        guard case .open(.transaction(let t)) = phase else { return nil }
        phase = .open(.normal)
        return t
    }

    private static func copy(_ arg: ByteBuffer) -> ByteBuffer {
        var copy = ByteBufferAllocator().buffer(capacity: arg.readableBytes)
        copy.writeImmutableBuffer(arg)
        return copy
    }

    public enum UnblockAction: Equatable {
        /// Leave the keys' wait lists, cancel the timeout, run the input that waited.
        case unregisterAndResume
        case none
    }

    /// The blocked command was served (a retry succeeded).
    public mutating func served() -> UnblockAction {
        guard case .open(.blocked) = phase else { return .none }
        phase = .open(.normal)
        return .unregisterAndResume
    }

    public enum TimeoutAction: Equatable {
        /// Reply with the timeout's null, leave the wait lists, run waiting input.
        case replyTimedOut
        case ignore
    }

    /// A block's timeout fired; it counts only for the block that armed it.
    public mutating func timeoutFired(generation fired: Int) -> TimeoutAction {
        guard case .open(.blocked(let b)) = phase, b.generation == fired else { return .ignore }
        phase = .open(.normal)
        return .replyTimedOut
    }

    /// QUIT, a protocol error or shutdown: no more commands, close after the replies.
    /// Returns whether the client was blocked (its wait must be given up).
    @discardableResult
    public mutating func closeAfterReply() -> Bool {
        let wasBlocked = isBlocked
        if case .open = phase { phase = .closing }
        return wasBlocked
    }

    /// The channel went away. Returns whether the client was blocked.
    @discardableResult
    public mutating func channelClosed() -> Bool {
        let wasBlocked = isBlocked
        phase = .closed
        return wasBlocked
    }
}
