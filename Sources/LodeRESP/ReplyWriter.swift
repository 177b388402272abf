import NIOCore

/// The protocol a connection speaks: RESP2 (default) or RESP3 after `HELLO 3`.
public enum RESPVersion: Int, Sendable {
    case resp2 = 2
    case resp3 = 3
}

/// Reply encoding straight into an outbound `ByteBuffer`: no intermediate values,
/// so a reply costs only the bytes it writes. Where RESP2 and RESP3 differ
/// (nulls, maps, sets, doubles, booleans), the caller passes the connection's version.
extension ByteBuffer {
    @inlinable
    public mutating func writeSimpleString(_ s: StaticString) {
        writeInteger(UInt8(ascii: "+"))
        writeStaticString(s)
        writeCRLF()
    }

    @inlinable
    public mutating func writeSimpleString(_ s: String) {
        writeInteger(UInt8(ascii: "+"))
        writeString(s)
        writeCRLF()
    }

    @inlinable
    public mutating func writeOK() { writeStaticString("+OK\r\n") }

    /// `text` includes the error code, e.g. "ERR syntax error" or "WRONGTYPE ...".
    /// Like Redis's addReplyErrorFormat, CR/LF at either end are trimmed and those
    /// inside become spaces, so the reply stays one line.
    @inlinable
    public mutating func writeError(_ text: String) {
        writeErrorBytes(Array(text.utf8))
    }

    @inlinable
    public mutating func writeErrorBytes(_ bytes: [UInt8]) {
        var body = bytes[...]
        while let f = body.first, f == 13 || f == 10 { body = body.dropFirst() }
        while let l = body.last, l == 13 || l == 10 { body = body.dropLast() }
        writeInteger(UInt8(ascii: "-"))
        if body.contains(where: { $0 == 13 || $0 == 10 }) {
            writeBytes(body.map { $0 == 13 || $0 == 10 ? 32 : $0 })
        } else {
            writeBytes(body)
        }
        writeCRLF()
    }

    @inlinable
    public mutating func writeIntegerReply(_ value: Int) {
        writeInteger(UInt8(ascii: ":"))
        writeDecimal(value)
        writeCRLF()
    }

    @inlinable
    public mutating func writeBulk(_ value: ByteBuffer) {
        writeInteger(UInt8(ascii: "$"))
        writeDecimal(value.readableBytes)
        writeCRLF()
        var copy = value
        writeBuffer(&copy)
        writeCRLF()
    }

    @inlinable
    public mutating func writeBulk<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        writeInteger(UInt8(ascii: "$"))
        writeDecimal(bytes.count)
        writeCRLF()
        writeBytes(bytes)
        writeCRLF()
    }

    @inlinable
    public mutating func writeBulk(string: String) {
        writeBulk(bytes: string.utf8)
    }

    /// Verbatim string (RESP3 `=`), a bulk string in RESP2.
    @inlinable
    public mutating func writeVerbatim(_ text: String, version: RESPVersion) {
        guard version == .resp3 else { return writeBulk(string: text) }
        writeInteger(UInt8(ascii: "="))
        writeDecimal(text.utf8.count + 4)
        writeCRLF()
        writeStaticString("txt:")
        writeString(text)
        writeCRLF()
    }

    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func writeNull(_ version: RESPVersion) {
        if version == .resp3 { writeStaticString("_\r\n") } else { writeStaticString("$-1\r\n") }
    }

    /// A null array: `*-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func writeNullArray(_ version: RESPVersion) {
        if version == .resp3 { writeStaticString("_\r\n") } else { writeStaticString("*-1\r\n") }
    }

    @inlinable
    public mutating func writeArrayHeader(_ count: Int) {
        writeInteger(UInt8(ascii: "*"))
        writeDecimal(count)
        writeCRLF()
    }

    /// An out-of-band frame's header (pub/sub messages): a push in RESP3, an array in RESP2.
    @inlinable
    public mutating func writePushHeader(_ count: Int, _ version: RESPVersion) {
        if version == .resp3 {
            writeInteger(UInt8(ascii: ">"))
            writeDecimal(count)
            writeCRLF()
        } else {
            writeArrayHeader(count)
        }
    }

    /// A map of `count` pairs: `%` in RESP3, a flat array of 2×count in RESP2.
    @inlinable
    public mutating func writeMapHeader(_ count: Int, _ version: RESPVersion) {
        if version == .resp3 {
            writeInteger(UInt8(ascii: "%"))
            writeDecimal(count)
        } else {
            writeInteger(UInt8(ascii: "*"))
            writeDecimal(count * 2)
        }
        writeCRLF()
    }

    /// A set: `~` in RESP3, an array in RESP2.
    @inlinable
    public mutating func writeSetHeader(_ count: Int, _ version: RESPVersion) {
        writeInteger(version == .resp3 ? UInt8(ascii: "~") : UInt8(ascii: "*"))
        writeDecimal(count)
        writeCRLF()
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    @inlinable
    public mutating func writeBoolean(_ value: Bool, _ version: RESPVersion) {
        if version == .resp3 {
            writeStaticString(value ? "#t\r\n" : "#f\r\n")
        } else {
            writeStaticString(value ? ":1\r\n" : ":0\r\n")
        }
    }

    /// A double already formatted as Redis formats it: `,` in RESP3, bulk in RESP2.
    @inlinable
    public mutating func writeDouble(formatted text: String, _ version: RESPVersion) {
        if version == .resp3 {
            writeInteger(UInt8(ascii: ","))
            writeString(text)
            writeCRLF()
        } else {
            writeBulk(string: text)
        }
    }

    @inlinable
    public mutating func writeCRLF() {
        writeInteger(UInt16(0x0D0A))  // big-endian: '\r' then '\n'
    }

    /// Writes a decimal integer without going through `String`.
    @inlinable
    public mutating func writeDecimal(_ value: Int) {
        if value >= 0 && value < 10 {
            writeInteger(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch on the stack
        let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var i = raw.count
            repeat {
                i -= 1
                raw[i] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                i -= 1
                raw[i] = UInt8(ascii: "-")
            }
            return raw.count - i
        }
        withUnsafeBytes(of: &digits) { raw in
            _ = writeBytes(UnsafeRawBufferPointer(rebasing: raw[(raw.count - count)...]))
        }
    }
}
