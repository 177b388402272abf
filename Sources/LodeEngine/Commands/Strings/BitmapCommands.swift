import LodeRESP
import LodeStore
import NIOCore

/// SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP on ordinary string values (TYPE is
/// `string`, GET returns the bytes), as Redis 7.0's bitops.c: bit 0 is the most
/// significant bit of the first byte; a missing key is an endless run of zeros;
/// arguments are checked in Redis's order, so the same bad request gets the same error.
extension StringCommands {
    static let bitOffsetError = CommandError("ERR bit offset is not an integer or out of range")

    /// A bit offset (getBitOffsetFromArgument): a non-negative integer whose byte is
    /// below proto-max-bulk-len; with a `fieldWidth` (BITFIELD), `#n` is the n-th field.
    static func bitOffset(_ c: inout CommandContext, _ i: Int, fieldWidth: Int = 0) throws(CommandError) -> Int {
        let arg = c.arg(i)
        let hash = fieldWidth > 0 && arg.getInteger(at: arg.readerIndex, as: UInt8.self) == UInt8(ascii: "#")
        let skip = hash ? 1 : 0
        guard var offset = parseInteger(arg, at: arg.readerIndex + skip, length: arg.readableBytes - skip) else {
            throw bitOffsetError
        }
        if hash { offset = offset &* fieldWidth }
        guard offset >= 0, offset >> 3 < c.server.config.protoMaxBulkLength else { throw bitOffsetError }
        return offset
    }

    static func setbit(_ c: inout CommandContext) throws(CommandError) {
        let offset = try bitOffset(&c, 2)
        let bitError = CommandError("ERR bit is not an integer or out of range")
        let on = try c.integer(3, or: bitError)
        guard on & ~1 == 0 else { throw bitError }
        let key = c.arg(1)
        let existing = try c.lookupString(key)
        var bytes = existing.map { Array($0.value.readableBytesView) } ?? []
        let byte = offset >> 3, mask = UInt8(1 << (7 - (offset & 7)))
        let grows = existing == nil || bytes.count <= byte
        if bytes.count <= byte { bytes += [UInt8](repeating: 0, count: byte + 1 - bytes.count) }
        let was = bytes[byte] & mask != 0
        if grows || was != (on == 1) {
            bytes[byte] = on == 1 ? bytes[byte] | mask : bytes[byte] & ~mask
            try c.put(key, Record(type: .string, expireAt: existing?.expireAt ?? 0, value: ByteBuffer(bytes: bytes)))
            c.notify(.string, "setbit", key)
        }
        c.out.writeIntegerReply(was ? 1 : 0)
    }

    static func getbit(_ c: inout CommandContext) throws(CommandError) {
        let offset = try bitOffset(&c, 2)
        guard let r = try c.lookupString(c.arg(1)) else { return c.out.writeIntegerReply(0) }
        let byte = offset >> 3
        guard byte < r.value.readableBytes, let b = r.value.getInteger(at: r.value.readerIndex + byte, as: UInt8.self) else {
            return c.out.writeIntegerReply(0)
        }
        c.out.writeIntegerReply(b & UInt8(1 << (7 - (offset & 7))) != 0 ? 1 : 0)
    }

    /// A BITCOUNT/BITPOS range in bytes, with masks of the bits outside it in its
    /// first and last byte when it was given in bits (bitops.c's "negative masks").
    struct BitRange {
        var start: Int, end: Int
        var firstMask: UInt8 = 0, lastMask: UInt8 = 0
    }

    /// Resolves `start`/`end` (negative from the end) against a string of `length`
    /// bytes, in bytes or (`bits`) in bits; empty when start > end.
    static func bitRange(start s: Int, end e: Int, length: Int, bits: Bool) -> BitRange {
        let total = bits ? length << 3 : length
        var start = s < 0 ? total + s : s, end = e < 0 ? total + e : e
        start = max(0, start); end = max(0, end)
        if end >= total { end = total - 1 }
        var r = BitRange(start: start, end: end)
        if bits && start <= end {
            r.firstMask = ~UInt8(truncatingIfNeeded: (1 << (8 - (start & 7))) - 1)
            r.lastMask = UInt8(truncatingIfNeeded: (1 << (7 - (end & 7))) - 1)
            r.start >>= 3
            r.end >>= 3
        }
        return r
    }

    static func bitUnit(_ c: inout CommandContext, _ i: Int) throws(CommandError) -> Bool {
        if c.argIs(i, "bit") { return true }
        if c.argIs(i, "byte") { return false }
        throw .syntax
    }

    static func bitcount(_ c: inout CommandContext) throws(CommandError) {
        guard let rec = try c.lookupString(c.arg(1)) else { return c.out.writeIntegerReply(0) }
        let p = Array(rec.value.readableBytesView)
        var range = BitRange(start: 0, end: p.count - 1)
        if c.args.count == 4 || c.args.count == 5 {
            let start = try c.integer(2), end = try c.integer(3)
            if start < 0 && end < 0 && start > end { return c.out.writeIntegerReply(0) }
            let bits = c.args.count == 5 ? try bitUnit(&c, 4) : false
            range = bitRange(start: start, end: end, length: p.count, bits: bits)
        } else if c.args.count != 2 {
            throw .syntax
        }
        guard range.start <= range.end else { return c.out.writeIntegerReply(0) }
        var count = 0
        for b in p[range.start...range.end] { count += b.nonzeroBitCount }
        if range.firstMask != 0 { count -= (p[range.start] & range.firstMask).nonzeroBitCount }
        if range.lastMask != 0 { count -= (p[range.end] & range.lastMask).nonzeroBitCount }
        c.out.writeIntegerReply(count)
    }

    /// The first bit equal to `bit` in `bytes`; for a 0 not found, the bit just after
    /// them (a string is zero-padded on the right), for a 1 not found, -1 (redisBitpos).
    static func firstBit(_ bytes: ArraySlice<UInt8>, _ bit: Int) -> Int {
        for (n, b) in bytes.enumerated() {
            let v = bit == 1 ? b : ~b
            if v != 0 { return n * 8 + v.leadingZeroBitCount }
        }
        return bit == 1 ? -1 : bytes.count * 8
    }

    static func bitpos(_ c: inout CommandContext) throws(CommandError) {
        let bit = try c.integer(2)
        guard bit == 0 || bit == 1 else { throw CommandError("ERR The bit argument must be 1 or 0.") }
        guard let rec = try c.lookupString(c.arg(1)) else { return c.out.writeIntegerReply(bit == 1 ? -1 : 0) }
        let p = Array(rec.value.readableBytesView)
        var range = BitRange(start: 0, end: p.count - 1)
        var endGiven = false
        if (4...6).contains(c.args.count) {
            let start = try c.integer(3)
            let bits = c.args.count == 6 ? try bitUnit(&c, 5) : false
            var end = bits ? (p.count << 3) + 7 : p.count - 1
            if c.args.count >= 5 {
                end = try c.integer(4)
                endGiven = true
            }
            range = bitRange(start: start, end: end, length: p.count, bits: bits)
        } else if c.args.count != 3 {
            throw .syntax
        }
        guard range.start <= range.end else { return c.out.writeIntegerReply(-1) }
        // The range's bytes with the bits outside it forced to the value not sought.
        var window = Array(p[range.start...range.end])
        func force(_ i: Int, _ mask: UInt8) { window[i] = bit == 1 ? window[i] & ~mask : window[i] | mask }
        if range.firstMask != 0 { force(0, range.firstMask) }
        if range.lastMask != 0 { force(window.count - 1, range.lastMask) }
        let pos = firstBit(window[...], bit)
        if endGiven && bit == 0 && pos == window.count * 8 { return c.out.writeIntegerReply(-1) }
        c.out.writeIntegerReply(pos == -1 ? -1 : pos + range.start * 8)
    }

    static func bitop(_ c: inout CommandContext) throws(CommandError) {
        enum Op { case and, or, xor, not }
        let op: Op
        if c.argIs(1, "and") { op = .and } else if c.argIs(1, "or") { op = .or } else if c.argIs(1, "xor") {
            op = .xor
        } else if c.argIs(1, "not") { op = .not } else { throw .syntax }
        if op == .not && c.args.count != 4 { throw CommandError("ERR BITOP NOT must be called with a single source key.") }
        var sources: [[UInt8]] = []
        for i in 3..<c.args.count {
            sources.append(try lookupStringForRead(c, c.arg(i)).map { Array($0.value.readableBytesView) } ?? [])
        }
        let length = sources.map(\.count).max() ?? 0
        let target = c.arg(2)
        guard length > 0 else {
            if try c.delete(target) { c.notify(.generic, "del", target) }
            return c.out.writeIntegerReply(0)
        }
        var result = [UInt8](repeating: 0, count: length)
        for j in 0..<length {
            var out = j < sources[0].count ? sources[0][j] : 0
            if op == .not { out = ~out }
            for s in sources.dropFirst() {
                let b = j < s.count ? s[j] : 0
                switch op {
                case .and: out &= b
                case .or: out |= b
                case .xor: out ^= b
                case .not: break
                }
            }
            result[j] = out
        }
        try c.expireBeforeOverwrite(target)
        try c.put(target, Record(type: .string, expireAt: 0, value: ByteBuffer(bytes: result)))
        c.notify(.string, "set", target)
        c.out.writeIntegerReply(length)
    }
}
