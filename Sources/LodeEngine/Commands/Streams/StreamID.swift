import LodeRESP
import NIOCore

/// A stream entry ID, `ms-seq` (t_stream.c's streamID): two unsigned 64-bit
/// numbers ordered as a pair, stored big-endian so byte order is ID order.
struct StreamID: Comparable, Hashable {
    var ms: UInt64
    var seq: UInt64

    static let zero = StreamID(ms: 0, seq: 0)
    static let max = StreamID(ms: .max, seq: .max)

    static func < (a: StreamID, b: StreamID) -> Bool { a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq }

    var isZero: Bool { ms == 0 && seq == 0 }
    var text: String { "\(ms)-\(seq)" }

    /// The successor (streamIncrID); nil past the last possible ID.
    var incremented: StreamID? {
        if seq == .max { return ms == .max ? nil : StreamID(ms: ms + 1, seq: 0) }
        return StreamID(ms: ms, seq: seq + 1)
    }

    /// The predecessor (streamDecrID); nil before 0-0.
    var decremented: StreamID? {
        if seq == 0 { return ms == 0 ? nil : StreamID(ms: ms - 1, seq: .max) }
        return StreamID(ms: ms, seq: seq - 1)
    }

    var bytes: [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(16)
        append(to: &b)
        return b
    }

    func append(to b: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: ms >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: seq >> UInt64(shift))) }
    }

    init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// Decodes 16 big-endian bytes at `offset`.
    init(_ raw: UnsafeRawBufferPointer, at offset: Int) {
        var ms: UInt64 = 0, seq: UInt64 = 0
        for i in 0..<8 { ms = ms << 8 | UInt64(raw[offset + i]) }
        for i in 8..<16 { seq = seq << 8 | UInt64(raw[offset + i]) }
        self.init(ms: ms, seq: seq)
    }

    static let invalidError = CommandError("ERR Invalid stream ID specified as stream command argument")

    /// streamGenericParseIDOrReply: `-`, `+`, `ms`, `ms-seq`, and (with `seqGiven`)
    /// `ms-*`. `strict` refuses `-` and `+`. A missing sequence is `missingSeq`.
    /// Returns the ID and whether its sequence was given (false for `ms-*`).
    static func parse(_ arg: [UInt8], missingSeq: UInt64 = 0, strict: Bool = false,
                      allowAutoSeq: Bool = false) throws(CommandError) -> (id: StreamID, seqGiven: Bool) {
        guard arg.count <= 127 else { throw invalidError }
        // Redis copies the argument into a C string: bytes after a NUL are ignored.
        let a = arg.firstIndex(of: 0).map { Array(arg[..<$0]) } ?? arg
        if a == [UInt8(ascii: "-")] || a == [UInt8(ascii: "+")] {
            if strict { throw invalidError }
            return (a[0] == UInt8(ascii: "-") ? .zero : .max, true)
        }
        let dash = a.firstIndex(of: UInt8(ascii: "-"))
        guard let ms = parseUnsigned(dash.map { Array(a[..<$0]) } ?? a) else { throw invalidError }
        guard let dash else { return (StreamID(ms: ms, seq: missingSeq), true) }
        let rest = Array(a[(dash + 1)...])
        if allowAutoSeq && rest == [UInt8(ascii: "*")] { return (StreamID(ms: ms, seq: 0), false) }
        guard let seq = parseUnsigned(rest) else { throw invalidError }
        return (StreamID(ms: ms, seq: seq), true)
    }

    /// An interval bound (streamParseIntervalIDOrReply): `(id` excludes, then the
    /// ID is parsed strictly; returns the ID and whether it is exclusive.
    static func parseInterval(_ arg: [UInt8], missingSeq: UInt64) throws(CommandError) -> (StreamID, exclusive: Bool) {
        if arg.count > 1 && arg[0] == UInt8(ascii: "(") {
            return (try parse(Array(arg[1...]), missingSeq: missingSeq, strict: true).id, true)
        }
        return (try parse(arg, missingSeq: missingSeq).id, false)
    }

    /// Redis's string2ull: string2ll when that succeeds (a negative number is
    /// refused), else strtoull's rules (leading spaces, a sign, leading zeros, up to
    /// 2^64-1; a minus wraps), the whole string consumed.
    static func parseUnsigned(_ s: [UInt8]) -> UInt64? {
        let b = ByteBuffer(bytes: s)
        if let v = parseInteger(b, at: b.readerIndex, length: b.readableBytes) { return v < 0 ? nil : UInt64(v) }
        var i = 0
        while i < s.count, [9, 10, 11, 12, 13, 32].contains(s[i]) { i += 1 }
        var negative = false
        if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < s.count else { return nil }
        var v: UInt64 = 0
        while i < s.count {
            let c = s[i]
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (r, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            v = r
            i += 1
        }
        return negative ? 0 &- v : v
    }
}

extension ByteBuffer {
    mutating func writeStreamID(_ id: StreamID) { writeBulk(string: id.text) }
}
