import LodeRESP
import LodeStore
import NIOCore

/// PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST: hyperloglog.c's commands on
/// ordinary string values (TYPE is `string`) in Redis's representation
/// (HyperLogLog.swift), with Redis's lookups, errors, events and in-place updates.
enum HyperLogLogCommands {
    static let handlers: [String: CommandHandler] = [
        "pfadd": pfadd,
        "pfcount": pfcount,
        "pfmerge": pfmerge,
        "pfdebug": pfdebug,
        "pfselftest": pfselftest,
    ]

    /// invalid_hll_err: a sparse body that does not add up.
    static let corrupted = CommandError("INVALIDOBJ Corrupted HLL object detected")

    /// isHLLObjectOrReply: the type check, then the header check.
    static func hyperLogLog(_ c: CommandContext, _ r: Record) throws(CommandError) -> HyperLogLog {
        guard r.type == .string else { throw .wrongType }
        let value = try c.stringValue(r)
        let valid = value.withUnsafeReadableBytes { HyperLogLog.isValid($0) }
        guard valid else { throw CommandError("WRONGTYPE Key is not a valid HyperLogLog string value.") }
        return HyperLogLog(bytes: Array(value.readableBytesView))
    }

    static func record(_ hll: HyperLogLog, expireAt: Int64) -> Record {
        Record(type: .string, expireAt: expireAt, value: ByteBuffer(bytes: hll.bytes))
    }

    /// Where Redis changes a value in place without signalModifiedKey (a PFADD that
    /// stops at a corrupted value after earlier elements changed it, PFDEBUG's
    /// conversion to dense): the bytes change, WATCH and client tracking hear nothing.
    static func storeUnsignalled(_ c: CommandContext, _ key: ByteBuffer, _ hll: HyperLogLog, expireAt: Int64)
        throws(CommandError) {
        do { try c.store.put(db: c.db, key: key, record: record(hll, expireAt: expireAt)) } catch { throw c.storeFailure(error) }
    }

    /// PFADD key [element ...]: 1 when a register changed or the key was created.
    static func pfadd(_ c: inout CommandContext) throws(CommandError) {
        let key = c.arg(1)
        let existing = try c.lookup(key)  // lookupKeyWrite
        var hll: HyperLogLog
        var updated = 0
        if let existing {
            hll = try hyperLogLog(c, existing)
        } else {
            hll = HyperLogLog()
            updated += 1
        }
        let maxBytes = c.server.config.hllSparseMaxBytes
        for j in 2..<c.args.count {
            switch c.args[j].withUnsafeReadableBytes({ hll.add($0, sparseMaxBytes: maxBytes) }) {
            case 1: updated += 1
            case -1:
                // Only an existing value can be corrupted; what the elements before
                // changed stays changed, as in Redis's in-place update.
                if updated > 0 { try storeUnsignalled(c, key, hll, expireAt: existing?.expireAt ?? 0) }
                throw corrupted
            default: break
            }
        }
        if updated > 0 {
            hll.invalidateCache()
            try c.put(key, record(hll, expireAt: existing?.expireAt ?? 0))
            c.notify(.string, "pfadd", key)
        }
        c.out.writeIntegerReply(updated > 0 ? 1 : 0)
    }

    /// PFCOUNT key [key ...]. One key: the cached cardinality, or a fresh count that
    /// is then cached in the value (a write: WATCH sees it, no event), as Redis.
    /// Several: the count of their union, nothing written.
    static func pfcount(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 2 {
            var max = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
            for j in 1..<c.args.count {
                guard let r = try c.lookup(c.arg(j)) else { continue }  // a missing key is an empty HLL
                guard try hyperLogLog(c, r).merge(into: &max) else { throw corrupted }
            }
            return c.out.writeIntegerReply(Int(bitPattern: UInt(HyperLogLog.count(raw: max))))
        }
        let key = c.arg(1)
        guard let r = try c.lookup(key) else { return c.out.writeIntegerReply(0) }
        var hll = try hyperLogLog(c, r)
        if let card = hll.cachedCardinality { return c.out.writeIntegerReply(Int(card)) }
        var invalid = false
        let card = hll.count(invalid: &invalid)
        if invalid { throw corrupted }
        hll.setCachedCardinality(card)
        try c.put(key, record(hll, expireAt: r.expireAt))
        c.out.writeIntegerReply(Int(bitPattern: UInt(card)))
    }

    /// PFMERGE destkey [sourcekey ...]: the destination (also read as the first
    /// source) gets the registers' maxima, dense if any input was, and `pfadd`.
    static func pfmerge(_ c: inout CommandContext) throws(CommandError) {
        var max = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        var useDense = false
        for j in 1..<c.args.count {
            guard let r = try c.lookupForRead(c.arg(j)) else { continue }
            let hll = try hyperLogLog(c, r)
            if hll.encoding == HyperLogLog.dense { useDense = true }
            guard hll.merge(into: &max) else { throw corrupted }
        }
        let key = c.arg(1)
        let existing = try c.lookup(key)  // lookupKeyWrite; a valid HLL if present (read above)
        var hll = try existing.map { r throws(CommandError) in HyperLogLog(bytes: Array(try c.stringValue(r).readableBytesView)) }
            ?? HyperLogLog()
        if useDense && !hll.sparseToDense() { throw corrupted }
        let maxBytes = c.server.config.hllSparseMaxBytes
        for j in 0..<HyperLogLog.registerCount where max[j] != 0 {
            // The encoding is read each time: a sparse destination may be promoted midway.
            if hll.encoding == HyperLogLog.dense {
                hll.denseSet(j, Int(max[j]))
            } else {
                _ = hll.sparseSet(j, Int(max[j]), sparseMaxBytes: maxBytes)
            }
        }
        hll.invalidateCache()
        try c.put(key, record(hll, expireAt: existing?.expireAt ?? 0))
        // Redis's choice: a merge is a mass add, so its event is `pfadd`.
        c.notify(.string, "pfadd", key)
        c.out.writeOK()
    }

    /// PFSELFTEST: Redis's self test of the register code and the estimator.
    static func pfselftest(_ c: inout CommandContext) throws(CommandError) {
        if let failure = HyperLogLog.selfTest(sparseMaxBytes: c.server.config.hllSparseMaxBytes) {
            throw CommandError(failure)
        }
        c.out.writeOK()
    }

    /// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. Lode allows it only where DEBUG is
    /// allowed (enable-debug-command), like DEBUG, which Redis 7.0 does not do for
    /// PFDEBUG. The key is looked up and checked before the subcommand, as in Redis.
    static func pfdebug(_ c: inout CommandContext) throws(CommandError) {
        guard ConfigCommands.allowsProtectedAction(c.server.config.enableDebugCommand, c.client) else {
            throw CommandError(DebugCommands.notAllowed.replacingOccurrences(of: "ERR DEBUG", with: "ERR PFDEBUG"))
        }
        let key = c.arg(2)
        guard let r = try c.lookup(key) else { throw CommandError("ERR The specified key does not exist") }
        var hll = try hyperLogLog(c, r)
        // strcasecmp on the C string: the name ends at a NUL byte.
        let name = String(decoding: c.args[1].readableBytesView.prefix { $0 != 0 }.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 },
                          as: UTF8.self)
        switch name {
        case "getreg":
            if hll.encoding == HyperLogLog.sparse {
                guard hll.sparseToDense() else { throw corrupted }
                try storeUnsignalled(c, key, hll, expireAt: r.expireAt)
            }
            c.out.writeArrayHeader(HyperLogLog.registerCount)
            for j in 0..<HyperLogLog.registerCount { c.out.writeIntegerReply(hll.register(j)) }
        case "decode":
            guard hll.encoding == HyperLogLog.sparse else { throw CommandError("ERR HLL encoding is not sparse") }
            c.out.writeBulk(string: hll.decodeSparse())
        case "encoding":
            c.out.writeSimpleString(hll.encoding == HyperLogLog.dense ? "dense" : "sparse")
        case "todense":
            var converted = false
            if hll.encoding == HyperLogLog.sparse {
                guard hll.sparseToDense() else { throw corrupted }
                try storeUnsignalled(c, key, hll, expireAt: r.expireAt)
                converted = true
            }
            c.out.writeIntegerReply(converted ? 1 : 0)
        default:
            throw CommandError("ERR Unknown PFDEBUG subcommand '\(c.cstring(1))'")
        }
    }
}
