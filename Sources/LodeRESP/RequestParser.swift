import NIOCore

/// A protocol violation by the client. Redis answers `-ERR Protocol error: <message>`
/// and closes the connection; the message texts below are Redis 7.0's.
public struct RESPProtocolError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }

    static let tooBigInline = RESPProtocolError("too big inline request")
    static let unbalancedQuotes = RESPProtocolError("unbalanced quotes in request")
    static let tooBigMultibulkCount = RESPProtocolError("too big mbulk count string")
    static let invalidMultibulkLength = RESPProtocolError("invalid multibulk length")
    static let tooBigBulkCount = RESPProtocolError("too big bulk count string")
    static let invalidBulkLength = RESPProtocolError("invalid bulk length")
    static let unauthenticatedMultibulk = RESPProtocolError("unauthenticated multibulk length")
    static let unauthenticatedBulk = RESPProtocolError("unauthenticated bulk length")
    static func expectedDollar(got byte: UInt8) -> RESPProtocolError {
        RESPProtocolError("expected '$', got '\(Character(Unicode.Scalar(byte)))'")
    }
}

/// Parses client requests — RESP multibulk arrays and inline commands — the way
/// Redis's `processMultibulkBuffer`/`processInlineBuffer` do, limits included.
///
/// Arguments are slices of the input buffer (no copy). On incomplete input the
/// reader index is left at the start of the request, and `bytesNeeded` remembers how
/// much must arrive before a retry can succeed, so a large bulk arriving in many
/// small reads is not rescanned each time.
public struct RESPRequestParser: Sendable {
    /// Redis's PROTO_INLINE_MAX_SIZE: the longest inline request or count line.
    public static let inlineMaxSize = 64 * 1024

    public var maxBulkLength: Int
    /// Set while the client has not authenticated: Redis then refuses large headers.
    public var unauthenticated = false
    private var bytesNeeded = 0

    public init(maxBulkLength: Int = 512 * 1024 * 1024) {
        self.maxBulkLength = maxBulkLength
    }

    public enum Request: Equatable {
        case command([ByteBuffer])
        /// An empty line or `*0`/`*-1`: Redis silently ignores it.
        case empty
    }

    /// Returns the next request, nil if more bytes are needed.
    public mutating func next(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> Request? {
        if buffer.readableBytes < bytesNeeded || buffer.readableBytes == 0 { return nil }
        bytesNeeded = 0
        let start = buffer.readerIndex
        let result: Request?
        if buffer.getInteger(at: start, as: UInt8.self) == UInt8(ascii: "*") {
            result = try parseMultibulk(&buffer)
        } else {
            result = try parseInline(&buffer)
        }
        if result == nil {
            bytesNeeded = max(bytesNeeded, buffer.readableBytes + 1)
            buffer.moveReaderIndex(to: start)
        }
        return result
    }

    // MARK: multibulk

    private mutating func parseMultibulk(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Request? {
        guard let count = try readCountLine(&buffer, tooBig: .tooBigMultibulkCount) else { return nil }
        guard let n = count, n <= Int(Int32.max) else { throw .invalidMultibulkLength }
        if n > 10 && unauthenticated { throw .unauthenticatedMultibulk }
        if n <= 0 { return .empty }
        var args: [ByteBuffer] = []
        args.reserveCapacity(n)
        for _ in 0..<n {
            let headerStart = buffer.readerIndex
            guard buffer.readableBytes > 0 else { return nil }
            // Redis finds the line first, then checks the '$'.
            guard let lineLength = crlfDistance(buffer) else {
                if buffer.readableBytes > Self.inlineMaxSize { throw .tooBigBulkCount }
                return nil
            }
            let first = buffer.getInteger(at: headerStart, as: UInt8.self)!
            if first != UInt8(ascii: "$") { throw .expectedDollar(got: first) }
            guard let length = parseInteger(buffer, at: headerStart + 1, length: lineLength - 1),
                  length >= 0, length <= maxBulkLength else { throw .invalidBulkLength }
            if length > 16384 && unauthenticated { throw .unauthenticatedBulk }
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            guard buffer.readableBytes >= length + 2 else {
                bytesNeeded = buffer.readerIndex - headerStart + length + 2
                return nil
            }
            args.append(buffer.readSlice(length: length)!)
            buffer.moveReaderIndex(forwardBy: 2)  // Redis does not check that these are CRLF
        }
        return .command(args)
    }

    /// Reads `*<n>\r\n`-style count: nil = incomplete, .some(nil) = not a number.
    private func readCountLine(_ buffer: inout ByteBuffer, tooBig: RESPProtocolError) throws(RESPProtocolError) -> Int?? {
        guard let lineLength = crlfDistance(buffer) else {
            if buffer.readableBytes > Self.inlineMaxSize { throw tooBig }
            return nil
        }
        let value = parseInteger(buffer, at: buffer.readerIndex + 1, length: lineLength - 1)
        buffer.moveReaderIndex(forwardBy: lineLength + 2)
        return .some(value)
    }

    /// Distance from the reader index to the first "\r" that is followed by "\n".
    /// Like Redis, the line ends at the first '\r'; if '\n' has not arrived yet the
    /// line is incomplete.
    private func crlfDistance(_ buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { raw -> Int? in
            guard let cr = raw.firstIndex(of: UInt8(ascii: "\r")) else { return nil }
            guard cr + 1 < raw.count else { return nil }
            return cr
        }
    }

    // MARK: inline

    private mutating func parseInline(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Request? {
        let newline = buffer.withUnsafeReadableBytes { $0.firstIndex(of: UInt8(ascii: "\n")) }
        guard let newline else {
            if buffer.readableBytes > Self.inlineMaxSize { throw .tooBigInline }
            return nil
        }
        var lineLength = newline
        if lineLength > 0, buffer.getInteger(at: buffer.readerIndex + lineLength - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            lineLength -= 1
        }
        let line = buffer.getBytes(at: buffer.readerIndex, length: lineLength)!
        buffer.moveReaderIndex(forwardBy: newline + 1)
        guard let words = splitInlineArguments(line) else { throw .unbalancedQuotes }
        if words.isEmpty { return .empty }
        return .command(words.map { ByteBuffer(bytes: $0) })
    }
}

/// Parses a decimal integer exactly as Redis's `string2ll`: optional '-', no '+',
/// no leading zeros (except "0"), no spaces, must fit in Int64.
@inlinable
public func parseInteger(_ buffer: ByteBuffer, at index: Int, length: Int) -> Int? {
    if length <= 0 || length > 20 { return nil }
    return buffer.withUnsafeReadableBytes { raw -> Int? in
        let base = index - buffer.readerIndex
        return parseRedisInteger(UnsafeRawBufferPointer(rebasing: raw[base..<(base + length)]))
    }
}

@inlinable
public func parseRedisInteger(_ bytes: UnsafeRawBufferPointer) -> Int? {
    let n = bytes.count
    if n == 0 || n > 20 { return nil }
    if n == 1 && bytes[0] == UInt8(ascii: "0") { return 0 }
    var i = 0
    var negative = false
    if bytes[0] == UInt8(ascii: "-") {
        negative = true
        i = 1
        if n == 1 { return nil }
    }
    // First digit must be 1-9.
    guard bytes[i] >= UInt8(ascii: "1") && bytes[i] <= UInt8(ascii: "9") else { return nil }
    var value: UInt64 = 0
    while i < n {
        let c = bytes[i]
        guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
        if o1 || o2 { return nil }
        value = a
        i += 1
    }
    if negative {
        if value > UInt64(Int64.max) + 1 { return nil }
        return value == UInt64(Int64.max) + 1 ? Int.min : -Int(value)
    }
    if value > UInt64(Int64.max) { return nil }
    return Int(value)
}

/// Redis's `sdssplitargs`: splits an inline command line into arguments, honouring
/// "double quotes" (with \n \r \t \b \a \\ \" and \xHH escapes) and 'single quotes'.
/// Returns nil on unbalanced quotes or a closing quote not followed by a space.
public func splitInlineArguments(_ line: [UInt8]) -> [[UInt8]]? {
    var result: [[UInt8]] = []
    var p = 0
    let n = line.count
    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 || c == 0x0B || c == 0x0C }
    func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    while true {
        while p < n && isSpace(line[p]) { p += 1 }
        if p >= n { return result }
        var current: [UInt8] = []
        var inDouble = false, inSingle = false, done = false
        while !done {
            if inDouble {
                if p >= n { return nil }
                let c = line[p]
                if c == UInt8(ascii: "\\") && p + 3 < n && line[p + 1] == UInt8(ascii: "x"),
                   let h = hexValue(line[p + 2]), let l = hexValue(line[p + 3]) {
                    current.append(h * 16 + l)
                    p += 3
                } else if c == UInt8(ascii: "\\") && p + 1 < n {
                    p += 1
                    switch line[p] {
                    case UInt8(ascii: "n"): current.append(0x0A)
                    case UInt8(ascii: "r"): current.append(0x0D)
                    case UInt8(ascii: "t"): current.append(0x09)
                    case UInt8(ascii: "b"): current.append(0x08)
                    case UInt8(ascii: "a"): current.append(0x07)
                    default: current.append(line[p])
                    }
                } else if c == UInt8(ascii: "\"") {
                    // The closing quote must be followed by a space or the end.
                    if p + 1 < n && !isSpace(line[p + 1]) { return nil }
                    done = true
                } else {
                    current.append(c)
                }
            } else if inSingle {
                if p >= n { return nil }
                let c = line[p]
                if c == UInt8(ascii: "\\") && p + 1 < n && line[p + 1] == UInt8(ascii: "'") {
                    p += 1
                    current.append(UInt8(ascii: "'"))
                } else if c == UInt8(ascii: "'") {
                    if p + 1 < n && !isSpace(line[p + 1]) { return nil }
                    done = true
                } else {
                    current.append(c)
                }
            } else {
                if p >= n { done = true; break }
                let c = line[p]
                switch c {
                case 0x20, 0x0A, 0x0D, 0x09, 0x00: done = true
                case UInt8(ascii: "\""): inDouble = true
                case UInt8(ascii: "'"): inSingle = true
                default: current.append(c)
                }
            }
            if p < n { p += 1 }
        }
        result.append(current)
    }
}
