import NIOCore

/// What the connection tells its decoder between requests. A class because the
/// decoder lives inside NIO's `NIOSingleStepByteToMessageProcessor`, which must
/// not be touched while it delivers a request; the connection changes these
/// settings from inside that delivery (AUTH, CONFIG SET, a command that blocks).
public final class RESPInputControl {
    /// proto-max-bulk-len.
    public var maxBulkLength: Int
    /// Set while the client has not authenticated: Redis then refuses large headers.
    public var unauthenticated = false
    /// While set, no further request is decoded: the bytes wait in the processor's
    /// buffer, as a blocked Redis client's input waits in its query buffer.
    public var paused = false

    public init(maxBulkLength: Int = 512 * 1024 * 1024) {
        self.maxBulkLength = maxBulkLength
    }
}

/// RESP request framing as a NIO single-step decoder: one `RESPRequestParser`
/// request per call, nothing while paused. Partial input is cumulated by the
/// processor; arguments are slices of its buffer.
public struct RESPRequestDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = [ByteBuffer]

    private var parser: RESPRequestParser
    public let control: RESPInputControl

    public init(control: RESPInputControl = RESPInputControl()) {
        self.control = control
        parser = RESPRequestParser(maxBulkLength: control.maxBulkLength)
    }

    /// The next command's arguments; empty requests (blank lines, `*0`) are skipped
    /// as Redis skips them.
    public mutating func decode(buffer: inout ByteBuffer) throws -> [ByteBuffer]? {
        while !control.paused {
            parser.maxBulkLength = control.maxBulkLength
            parser.unauthenticated = control.unauthenticated
            switch try parser.next(from: &buffer) {
            case nil: return nil
            case .empty: continue
            case .command(let args): return args
            }
        }
        return nil
    }

    /// At EOF a partial request is dropped, as Redis drops a closed client's query buffer.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> [ByteBuffer]? {
        try decode(buffer: &buffer)
    }

    /// Read bytes are reclaimed once 64 KiB accumulate in front of the buffer.
    public func shouldReclaimBytes(buffer: ByteBuffer) -> Bool {
        buffer.readerIndex > 64 * 1024
    }
}
