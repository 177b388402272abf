import LodeRESP
import LodeStore
import NIOCore

/// GET, SET and the rest of Redis's string family.
enum StringCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "get": get,
        "set": set,
        "setnx": setnx,
        "setex": setex,
        "psetex": psetex,
        "mget": mget,
        "mset": mset,
        "msetnx": msetnx,
        "getset": getset,
        "getdel": getdel,
        "getex": getex,
        "append": append,
        "strlen": strlen,
        "incr": { (c: inout CommandContext) throws(CommandError) in try incrBy(&c, 1) },
        "decr": { (c: inout CommandContext) throws(CommandError) in try incrBy(&c, -1) },
        "incrby": { (c: inout CommandContext) throws(CommandError) in try incrBy(&c, try c.integer(2)) },
        "decrby": decrby,
        "incrbyfloat": incrbyfloat,
        "getrange": getrange,
        "substr": getrange,
        "setrange": setrange,
        "lcs": lcs,
        "setbit": setbit,
        "getbit": getbit,
        "bitcount": bitcount,
        "bitpos": bitpos,
        "bitop": bitop,
        "bitfield": bitfield,
        "bitfield_ro": bitfieldRO,
    ]

    static func get(_ c: inout CommandContext) throws(CommandError) {
        if let r = try c.lookupString(c.arg(1)) {
            try c.writeStringBulk(r)
        } else {
            c.out.writeNull(c.resp)
        }
    }

    // MARK: SET and its relatives

    /// Options shared by SET and GETEX (Redis's parseExtendedStringArgumentsOrReply).
    /// The expiry number is only validated later, by `resolveExpiry`, because Redis
    /// checks it at different moments for SET (before the lookup) and GETEX (after).
    struct ExpiryOptions {
        var nx = false, xx = false, get = false, keepTTL = false, persist = false
        /// Which of EX/PX/EXAT/PXAT was given, and the index of its argument.
        var unit: (kind: Int, index: Int)? = nil
        /// Absolute expiry in ms, once resolved.
        var expireAt: Int64? = nil
    }

    enum ExtendedCommand { case set, getex }

    static func parseExtended(_ c: CommandContext, from start: Int, command: ExtendedCommand) throws(CommandError) -> ExpiryOptions {
        var o = ExpiryOptions()
        var j = start
        while j < c.args.count {
            let hasNext = j + 1 < c.args.count
            // 0 = EX, 1 = PX, 2 = EXAT, 3 = PXAT; repeating the same one is allowed
            // (the last wins), mixing two is not — as in Redis.
            let kind = c.argIs(j, "ex") ? 0 : c.argIs(j, "px") ? 1 : c.argIs(j, "exat") ? 2 : c.argIs(j, "pxat") ? 3 : -1
            if command == .set && c.argIs(j, "nx") && !o.xx {
                o.nx = true
            } else if command == .set && c.argIs(j, "xx") && !o.nx {
                o.xx = true
            } else if command == .set && c.argIs(j, "get") {
                o.get = true
            } else if command == .set && c.argIs(j, "keepttl") && o.unit == nil && !o.persist {
                o.keepTTL = true
            } else if command == .getex && c.argIs(j, "persist") && o.unit == nil && !o.keepTTL {
                o.persist = true
            } else if kind >= 0 && hasNext && !o.keepTTL && !o.persist && (o.unit.map { $0.kind == kind } ?? true) {
                o.unit = (kind, j + 1)
                j += 1
            } else {
                throw .syntax
            }
            j += 1
        }
        return o
    }

    static func resolveExpiry(_ c: CommandContext, _ o: inout ExpiryOptions) throws(CommandError) {
        guard let unit = o.unit else { return }
        o.expireAt = try expireTime(c, argument: unit.index, seconds: unit.kind == 0 || unit.kind == 2, relative: unit.kind < 2)
    }

    /// Redis's getExpireMillisecondsOrReply.
    static func expireTime(_ c: CommandContext, argument: Int, seconds: Bool, relative: Bool) throws(CommandError) -> Int64 {
        let v = try c.integer(argument)
        if v <= 0 || (seconds && v > Int.max / 1000) { throw .invalidExpire(c.command.name) }
        var ms = seconds ? v * 1000 : v
        if relative {
            let (sum, overflow) = ms.addingReportingOverflow(Int(c.now))
            if overflow { throw .invalidExpire(c.command.name) }
            ms = sum
        }
        if ms <= 0 { throw .invalidExpire(c.command.name) }
        return Int64(ms)
    }

    static func set(_ c: inout CommandContext) throws(CommandError) {
        var o = try parseExtended(c, from: 3, command: .set)
        try resolveExpiry(c, &o)
        try setGeneric(&c, key: c.arg(1), value: c.arg(2), options: o, okReply: true)
    }

    /// Returns whether the value was set. Events as Redis's setGenericCommand:
    /// `set`, then `expire` when an expiry was given.
    @discardableResult
    static func setGeneric(_ c: inout CommandContext, key: ByteBuffer, value: ByteBuffer,
        options o: ExpiryOptions, okReply: Bool) throws(CommandError) -> Bool {
        var old: Record? = nil
        // An expiry already past (EXAT/PXAT) needs to know whether the key existed.
        let past = o.expireAt.map { $0 <= c.now } ?? false
        let needOld = o.get || o.nx || o.xx || o.keepTTL || past
        if needOld {
            old = o.get ? try c.lookupForRead(key) : try c.lookup(key)
            if o.get {
                if let old, old.type != .string { throw .wrongType }
                if let old { try c.writeStringBulk(old) } else { c.out.writeNull(c.resp) }
            }
            if (o.nx && old != nil) || (o.xx && old == nil) {
                if !o.get && okReply { c.out.writeNull(c.resp) }
                return false
            }
        } else {
            try c.expireBeforeOverwrite(key)
        }
        let expireAt = o.expireAt ?? (o.keepTTL ? (old?.expireAt ?? 0) : 0)
        try c.put(key, Record(type: .string, expireAt: expireAt, value: value))
        if past {
            // Lode drops the key at once; Redis stores it (`new`) and expires it
            // later, so its events are given here in Redis's order.
            if old == nil { c.notify(.new, "new", key) }
            c.notify(.string, "set", key)
            c.notify(.generic, "expire", key)
            c.notify(.expired, "expired", key)
        } else {
            c.notify(.string, "set", key)
            if o.expireAt != nil { c.notify(.generic, "expire", key) }
        }
        if !o.get && okReply { c.out.writeOK() }
        return true
    }

    static func setnx(_ c: inout CommandContext) throws(CommandError) {
        var o = ExpiryOptions()
        o.nx = true
        let done = try setGeneric(&c, key: c.arg(1), value: c.arg(2), options: o, okReply: false)
        c.out.writeIntegerReply(done ? 1 : 0)
    }

    static func setex(_ c: inout CommandContext) throws(CommandError) {
        var o = ExpiryOptions()
        o.expireAt = try expireTime(c, argument: 2, seconds: true, relative: true)
        try setGeneric(&c, key: c.arg(1), value: c.arg(3), options: o, okReply: true)
    }

    static func psetex(_ c: inout CommandContext) throws(CommandError) {
        var o = ExpiryOptions()
        o.expireAt = try expireTime(c, argument: 2, seconds: false, relative: true)
        try setGeneric(&c, key: c.arg(1), value: c.arg(3), options: o, okReply: true)
    }

    static func mget(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeArrayHeader(c.args.count - 1)
        for i in 1..<c.args.count {
            if let r = try c.lookup(c.arg(i)), r.type == .string {
                try c.writeStringBulk(r)
            } else {
                c.out.writeNull(c.resp)
            }
        }
    }

    static func mset(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count % 2 == 1 else { throw .wrongArity(c.command.name) }
        for i in stride(from: 1, to: c.args.count, by: 2) {
            try c.expireBeforeOverwrite(c.arg(i))
            try putString(&c, c.arg(i), c.arg(i + 1))
        }
        c.out.writeOK()
    }

    static func msetnx(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count % 2 == 1 else { throw .wrongArity(c.command.name) }
        for i in stride(from: 1, to: c.args.count, by: 2) where try c.lookup(c.arg(i)) != nil {
            c.out.writeIntegerReply(0)
            return
        }
        for i in stride(from: 1, to: c.args.count, by: 2) { try putString(&c, c.arg(i), c.arg(i + 1)) }
        c.out.writeIntegerReply(1)
    }

    /// Stores a string without expiry, with its `set` event.
    static func putString(_ c: inout CommandContext, _ key: ByteBuffer, _ value: ByteBuffer) throws(CommandError) {
        try c.put(key, Record(type: .string, expireAt: 0, value: value))
        c.notify(.string, "set", key)
    }

    /// The string under `key` as Redis's getGenericCommand reads it (a read
    /// lookup: `keymiss` when absent), or WRONGTYPE.
    static func lookupStringForRead(_ c: CommandContext, _ key: ByteBuffer) throws(CommandError) -> Record? {
        guard let r = try c.lookupForRead(key) else { return nil }
        guard r.type == .string else { throw .wrongType }
        return r
    }

    static func getset(_ c: inout CommandContext) throws(CommandError) {
        let old = try lookupStringForRead(c, c.arg(1))
        if let old { try c.writeStringBulk(old) } else { c.out.writeNull(c.resp) }
        try putString(&c, c.arg(1), c.arg(2))
    }

    static func getdel(_ c: inout CommandContext) throws(CommandError) {
        guard let old = try lookupStringForRead(c, c.arg(1)) else { return c.out.writeNull(c.resp) }
        try c.writeStringBulk(old)
        if try c.delete(c.arg(1)) { c.notify(.generic, "del", c.arg(1)) }
    }

    static func getex(_ c: inout CommandContext) throws(CommandError) {
        var o = try parseExtended(c, from: 2, command: .getex)
        guard var r = try lookupStringForRead(c, c.arg(1)) else { return c.out.writeNull(c.resp) }
        try resolveExpiry(c, &o)
        try c.writeStringBulk(r)
        if let at = o.expireAt {
            // An EXAT/PXAT already past deletes the key (put drops an expired record).
            r.expireAt = at
            try c.put(c.arg(1), r)
            c.notify(.generic, at <= c.now ? "del" : "expire", c.arg(1))
        } else if o.persist && r.expireAt != 0 {
            r.expireAt = 0
            try c.put(c.arg(1), r)
            c.notify(.generic, "persist", c.arg(1))
        }
    }

    static func append(_ c: inout CommandContext) throws(CommandError) {
        let key = c.arg(1)
        let add = c.arg(2)
        if let r = try c.lookupString(key) {
            let length = r.stringLength
            guard length + add.readableBytes <= c.server.config.protoMaxBulkLength else { throw .tooBig }
            // Only the last chunk of a chunked value is rewritten (and the new ones).
            let updated = try c.writeString(r, at: length, add)
            try c.put(key, updated)
            c.out.writeIntegerReply(updated.stringLength)
        } else {
            try c.put(key, Record(type: .string, expireAt: 0, value: add))
            c.out.writeIntegerReply(add.readableBytes)
        }
        c.notify(.string, "append", key)
    }

    static func strlen(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeIntegerReply(try c.lookupString(c.arg(1))?.stringLength ?? 0)
    }

    // MARK: counters

    static func decrby(_ c: inout CommandContext) throws(CommandError) {
        let v = try c.integer(2)
        if v == Int.min { throw CommandError("ERR decrement would overflow") }
        try incrBy(&c, -v)
    }

    static func incrBy(_ c: inout CommandContext, _ delta: Int) throws(CommandError) {
        let key = c.arg(1)
        var current = 0
        var expireAt: Int64 = 0
        if let r = try c.lookupString(key) {
            let text = try c.stringValue(r)
            guard let v = parseInteger(text, at: text.readerIndex, length: text.readableBytes) else { throw .notInteger }
            current = v
            expireAt = r.expireAt
        }
        let (result, overflow) = current.addingReportingOverflow(delta)
        if overflow { throw CommandError("ERR increment or decrement would overflow") }
        var value = ByteBufferAllocator().buffer(capacity: 20)
        value.writeDecimal(result)
        try c.put(key, Record(type: .string, expireAt: expireAt, value: value))
        c.notify(.string, "incrby", key)
        c.out.writeIntegerReply(result)
    }

    static func incrbyfloat(_ c: inout CommandContext) throws(CommandError) {
        let key = c.arg(1)
        var current: LongDouble = 0
        var expireAt: Int64 = 0
        if let r = try c.lookupString(key) {
            guard let v = LongDoubleFormat.parse(Array(try c.stringValue(r).readableBytesView)) else { throw .notFloat }
            current = v
            expireAt = r.expireAt
        }
        guard let incr = LongDoubleFormat.parse(c.bytes(2)) else { throw .notFloat }
        let result = current + incr
        guard result.isFinite else { throw CommandError("ERR increment would produce NaN or Infinity") }
        guard let text = LongDoubleFormat.human(result) else { throw .notFloat }
        let value = ByteBuffer(string: text)
        try c.put(key, Record(type: .string, expireAt: expireAt, value: value))
        c.notify(.string, "incrbyfloat", key)
        c.out.writeBulk(value)
    }

    // MARK: ranges

    static func getrange(_ c: inout CommandContext) throws(CommandError) {
        var start = try c.integer(2)
        var end = try c.integer(3)
        guard let r = try c.lookupString(c.arg(1)) else { return c.out.writeBulk(bytes: [UInt8]()) }
        let len = r.stringLength
        if start < 0 && end < 0 && start > end { return c.out.writeBulk(bytes: [UInt8]()) }
        if start < 0 { start = len + start }
        if end < 0 { end = len + end }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= len { end = len - 1 }
        if start > end || len == 0 { return c.out.writeBulk(bytes: [UInt8]()) }
        try c.writeStringBulk(r, start..<(end + 1))
    }

    static func setrange(_ c: inout CommandContext) throws(CommandError) {
        let key = c.arg(1)
        let offset = try c.integer(2)
        if offset < 0 { throw CommandError("ERR offset is out of range") }
        let patch = c.arg(3)
        let existing = try c.lookupString(key)
        if existing == nil && patch.readableBytes == 0 { return c.out.writeIntegerReply(0) }
        if let existing, patch.readableBytes == 0 { return c.out.writeIntegerReply(existing.stringLength) }
        let (needed, o) = offset.addingReportingOverflow(patch.readableBytes)
        if o || needed > c.server.config.protoMaxBulkLength { throw .tooBig }
        let updated = try c.writeString(existing, at: offset, patch)
        try c.put(key, updated)
        c.notify(.string, "setrange", key)
        c.out.writeIntegerReply(updated.stringLength)
    }
}
