import LodeRESP
import LodeStore
import NIOCore

/// BITFIELD and BITFIELD_RO: signed (i1…i64) and unsigned (u1…u63) integers at any
/// bit offset (`#n` counts in units of the type's width), GET / SET / INCRBY with
/// OVERFLOW WRAP | SAT | FAIL, as bitops.c's bitfieldGeneric: every operation is
/// parsed and checked before any runs, a write first grows the string to the
/// farthest bit written, and the key is written (and `setbit` published) only when
/// a value changed.
extension StringCommands {
    private enum BitfieldOverflow { case wrap, sat, fail }

    private struct BitfieldOp {
        enum Kind { case get, set, incrby }
        let kind: Kind
        let offset: Int, bits: Int, signed: Bool
        let value: Int64
        let overflow: BitfieldOverflow
    }

    static func bitfield(_ c: inout CommandContext) throws(CommandError) { try bitfieldGeneric(&c, readOnly: false) }

    static func bitfieldRO(_ c: inout CommandContext) throws(CommandError) { try bitfieldGeneric(&c, readOnly: true) }

    private static func bitfieldGeneric(_ c: inout CommandContext, readOnly: Bool) throws(CommandError) {
        var ops: [BitfieldOp] = []
        var overflow = BitfieldOverflow.wrap
        var highestWrite = -1
        var j = 2
        while j < c.args.count {
            let remaining = c.args.count - j - 1
            let kind: BitfieldOp.Kind
            if c.argIs(j, "get") && remaining >= 2 {
                kind = .get
            } else if c.argIs(j, "set") && remaining >= 3 {
                kind = .set
            } else if c.argIs(j, "incrby") && remaining >= 3 {
                kind = .incrby
            } else if c.argIs(j, "overflow") && remaining >= 1 {
                if c.argIs(j + 1, "wrap") {
                    overflow = .wrap
                } else if c.argIs(j + 1, "sat") {
                    overflow = .sat
                } else if c.argIs(j + 1, "fail") {
                    overflow = .fail
                } else {
                    throw CommandError("ERR Invalid OVERFLOW type specified")
                }
                j += 2
                continue
            } else {
                throw .syntax
            }
            let (signed, bits) = try bitfieldType(c.arg(j + 1))
            let offset = try bitOffset(&c, j + 2, fieldWidth: bits)
            var value: Int64 = 0
            if kind != .get {
                highestWrite = max(highestWrite, offset + bits - 1)
                value = Int64(try c.integer(j + 3))
            }
            ops.append(BitfieldOp(kind: kind, offset: offset, bits: bits, signed: signed, value: value, overflow: overflow))
            j += kind == .get ? 3 : 4
        }
        let key = c.arg(1)
        let existing: Record?
        if highestWrite < 0 {
            existing = try c.lookupForRead(key)
            if let existing, existing.type != .string { throw .wrongType }
        } else {
            if readOnly { throw CommandError("ERR BITFIELD_RO only supports the GET subcommand") }
            existing = try c.lookupString(key)
        }
        let length = existing?.stringLength ?? 0
        let needed = highestWrite < 0 ? 0 : highestWrite >> 3 + 1
        let grew = highestWrite >= 0 && (existing == nil || length < needed)
        // Only the bytes the fields cover are read and written: of a chunked value,
        // the chunks they lie in. Bits past the end read as 0.
        let low = ops.map { $0.offset >> 3 }.min() ?? 0
        let high = ops.map { ($0.offset + $0.bits - 1) >> 3 + 1 }.max() ?? 0
        var window = try c.stringBytes(existing, low..<max(low, high))
        let base = low * 8
        c.out.writeArrayHeader(ops.count)
        var changes = 0
        for op in ops {
            if op.kind == .get {
                c.out.writeIntegerReply(Int(readBitfield(window, op.offset - base, op.bits, signed: op.signed)))
                continue
            }
            let old = readBitfield(window, op.offset - base, op.bits, signed: op.signed)
            let (new, failed) = op.kind == .incrby
                ? bitfieldAdd(old, op.value, op.bits, signed: op.signed, op.overflow)
                : bitfieldAdd(op.value, 0, op.bits, signed: op.signed, op.overflow)
            if failed {
                c.out.writeNull(c.resp)
                continue
            }
            c.out.writeIntegerReply(Int(op.kind == .incrby ? new : old))
            writeBitfield(&window, op.offset - base, op.bits, UInt64(bitPattern: new))
            if grew || old != new { changes += 1 }
        }
        // Redis makes room before the operations run, so a string grows (or a key is
        // created) even when OVERFLOW FAIL refused every write; only a change is published.
        if changes > 0 || grew {
            // The window up to the new end (GETs may have read past it).
            let end = min(max(low, high), max(length, needed))
            let updated = try c.updateString(existing, low..<max(low, end)) { piece, at in
                window.withUnsafeBytes { piece.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at..<(at + piece.count)])) }
            }
            try c.put(key, updated)
        }
        if changes > 0 { c.notify(.string, "setbit", key) }
    }

    /// `i<1…64>` or `u<1…63>` (lower case, as Redis reads it).
    private static func bitfieldType(_ arg: ByteBuffer) throws(CommandError) -> (signed: Bool, bits: Int) {
        let error = CommandError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
        guard let first = arg.getInteger(at: arg.readerIndex, as: UInt8.self),
              first == UInt8(ascii: "i") || first == UInt8(ascii: "u"),
              let bits = parseInteger(arg, at: arg.readerIndex + 1, length: arg.readableBytes - 1) else { throw error }
        let signed = first == UInt8(ascii: "i")
        guard bits >= 1, bits <= (signed ? 64 : 63) else { throw error }
        return (signed, bits)
    }

    /// The field's value; bits past the end of the string read as 0.
    private static func readBitfield(_ p: [UInt8], _ offset: Int, _ bits: Int, signed: Bool) -> Int64 {
        var v: UInt64 = 0
        for k in 0..<bits {
            let o = offset + k
            let bit = o >> 3 < p.count ? (p[o >> 3] >> (7 - UInt8(o & 7))) & 1 : 0
            v = v << 1 | UInt64(bit)
        }
        if signed && bits < 64 && v & (1 << UInt64(bits - 1)) != 0 { v |= ~0 << UInt64(bits) }
        return Int64(bitPattern: v)
    }

    private static func writeBitfield(_ p: inout [UInt8], _ offset: Int, _ bits: Int, _ value: UInt64) {
        for k in 0..<bits {
            let on = value & (1 << UInt64(bits - 1 - k)) != 0
            let o = offset + k, mask = UInt8(1) << (7 - UInt8(o & 7))
            p[o >> 3] = on ? p[o >> 3] | mask : p[o >> 3] & ~mask
        }
    }

    /// value + incr in a field of `bits` (checkSignedBitfieldOverflow and
    /// checkUnsignedBitfieldOverflow): the result, and whether FAIL refused it.
    private static func bitfieldAdd(_ value: Int64, _ incr: Int64, _ bits: Int, signed: Bool,
                                    _ overflow: BitfieldOverflow) -> (Int64, failed: Bool) {
        let width = UInt64(bits)
        if signed {
            let max: Int64 = bits == 64 ? .max : (1 << (width - 1)) - 1
            let min = -max - 1
            let maxIncr = Int64(bitPattern: UInt64(bitPattern: max) &- UInt64(bitPattern: value))
            let minIncr = min &- value
            let over = value > max || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr)
            let under = !over && (value < min || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr))
            guard over || under else { return (value &+ incr, false) }
            switch overflow {
            case .fail: return (0, true)
            case .sat: return (over ? max : min, false)
            case .wrap:
                var r = UInt64(bitPattern: value) &+ UInt64(bitPattern: incr)
                if bits < 64 {
                    let mask = ~UInt64(0) << width
                    r = r & (1 << (width - 1)) != 0 ? r | mask : r & ~mask
                }
                return (Int64(bitPattern: r), false)
            }
        }
        let v = UInt64(bitPattern: value)
        let max: UInt64 = (1 << width) - 1
        let maxIncr = Int64(bitPattern: max &- v), minIncr = Int64(bitPattern: 0 &- v)
        let over = v > max || (incr > 0 && incr > maxIncr)
        let under = !over && incr < 0 && incr < minIncr
        guard over || under else { return (Int64(bitPattern: v &+ UInt64(bitPattern: incr)), false) }
        switch overflow {
        case .fail: return (0, true)
        case .sat: return (over ? Int64(bitPattern: max) : 0, false)
        case .wrap: return (Int64(bitPattern: (v &+ UInt64(bitPattern: incr)) & max), false)
        }
    }
}
