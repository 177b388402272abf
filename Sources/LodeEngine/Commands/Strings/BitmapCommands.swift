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
        let byte = offset >> 3, mask = UInt8(1 << (7 - (offset & 7)))
        let grows = existing == nil || existing!.stringLength <= byte
        let was = try c.stringBytes(existing, byte..<(byte + 1))[0] & mask != 0
        if grows || was != (on == 1) {
            // One byte written: of a chunked value, one chunk.
            let updated = try c.updateString(existing, byte..<(byte + 1)) { piece, _ in
                piece[0] = on == 1 ? piece[0] | mask : piece[0] & ~mask
            }
            try c.put(key, updated)
            c.notify(.string, "setbit", key)
        }
        c.out.writeIntegerReply(was ? 1 : 0)
    }

    static func getbit(_ c: inout CommandContext) throws(CommandError) {
        let offset = try bitOffset(&c, 2)
        guard let r = try c.lookupString(c.arg(1)) else { return c.out.writeIntegerReply(0) }
        let byte = offset >> 3
        let b = try c.stringBytes(r, byte..<(byte + 1))[0]
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
        let length = rec.stringLength
        var range = BitRange(start: 0, end: length - 1)
        if c.args.count == 4 || c.args.count == 5 {
            let start = try c.integer(2), end = try c.integer(3)
            if start < 0 && end < 0 && start > end { return c.out.writeIntegerReply(0) }
            let bits = c.args.count == 5 ? try bitUnit(&c, 4) : false
            range = bitRange(start: start, end: end, length: length, bits: bits)
        } else if c.args.count != 2 {
            throw .syntax
        }
        guard range.start <= range.end else { return c.out.writeIntegerReply(0) }
        // Only the range is read: of a chunked value, the chunks it covers.
        var count = 0
        try c.readString(rec, range.start..<(range.end + 1)) { piece in
            count += popcount(piece)
            return true
        }
        if range.firstMask != 0 { count -= (try c.stringBytes(rec, range.start..<(range.start + 1))[0] & range.firstMask).nonzeroBitCount }
        if range.lastMask != 0 { count -= (try c.stringBytes(rec, range.end..<(range.end + 1))[0] & range.lastMask).nonzeroBitCount }
        c.out.writeIntegerReply(count)
    }

    /// The set bits in `bytes`, eight bytes at a time.
    static func popcount(_ bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0, i = 0
        while i + 8 <= bytes.count {
            count += bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
            i += 8
        }
        while i < bytes.count {
            count += bytes[i].nonzeroBitCount
            i += 1
        }
        return count
    }

    /// The index of the first bit equal to `bit` in `bytes`, or nil; a run of bytes
    /// without one is skipped eight at a time.
    static func firstBit(_ bytes: UnsafeRawBufferPointer, _ bit: Int) -> Int? {
        let skip: UInt64 = bit == 1 ? 0 : ~0
        var i = 0
        while i + 8 <= bytes.count && bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) == skip { i += 8 }
        while i < bytes.count {
            let v = bit == 1 ? bytes[i] : ~bytes[i]
            if v != 0 { return i * 8 + v.leadingZeroBitCount }
            i += 1
        }
        return nil
    }

    static func bitpos(_ c: inout CommandContext) throws(CommandError) {
        let bit = try c.integer(2)
        guard bit == 0 || bit == 1 else { throw CommandError("ERR The bit argument must be 1 or 0.") }
        guard let rec = try c.lookupString(c.arg(1)) else { return c.out.writeIntegerReply(bit == 1 ? -1 : 0) }
        let length = rec.stringLength
        var range = BitRange(start: 0, end: length - 1)
        var endGiven = false
        if (4...6).contains(c.args.count) {
            let start = try c.integer(3)
            let bits = c.args.count == 6 ? try bitUnit(&c, 5) : false
            var end = bits ? (length << 3) + 7 : length - 1
            if c.args.count >= 5 {
                end = try c.integer(4)
                endGiven = true
            }
            range = bitRange(start: start, end: end, length: length, bits: bits)
        } else if c.args.count != 3 {
            throw .syntax
        }
        guard range.start <= range.end else { return c.out.writeIntegerReply(-1) }
        // The edge bytes with the bits outside the range forced to the value not
        // sought; the bytes between are read piece by piece until the bit is found.
        func edge(_ i: Int) throws(CommandError) -> [UInt8] {
            var b = try c.stringBytes(rec, i..<(i + 1))[0]
            for mask in [i == range.start ? range.firstMask : 0, i == range.end ? range.lastMask : 0] where mask != 0 {
                b = bit == 1 ? b & ~mask : b | mask
            }
            return [b]
        }
        let first = try edge(range.start)
        var found = first.withUnsafeBytes { firstBit($0, bit) }
        if found == nil && range.end > range.start + 1 {
            var offset = 1
            try c.readString(rec, (range.start + 1)..<range.end) { piece in
                if let f = firstBit(piece, bit) { found = offset * 8 + f }
                offset += piece.count
                return found == nil
            }
        }
        if found == nil && range.end > range.start {
            let last = try edge(range.end)
            found = last.withUnsafeBytes { firstBit($0, bit) }.map { (range.end - range.start) * 8 + $0 }
        }
        let windowBits = (range.end - range.start + 1) * 8
        guard let pos = found else {
            // A 0 not found is the bit just after the string (zero-padded on the
            // right) unless the end was given; a 1 not found is -1 (redisBitpos).
            return c.out.writeIntegerReply(bit == 1 || endGiven ? -1 : range.start * 8 + windowBits)
        }
        c.out.writeIntegerReply(pos + range.start * 8)
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
            let source = try lookupStringForRead(c, c.arg(i))
            sources.append(try source.map { r throws(CommandError) in Array(try c.stringValue(r).readableBytesView) } ?? [])
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
