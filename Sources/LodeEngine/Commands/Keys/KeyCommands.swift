import LodeRESP
import LodeStore
import NIOCore

/// The keyspace family: DEL, EXPIRE and friends, RENAME, COPY, SCAN, databases.
enum KeyCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "del": del,
        "unlink": del,
        "exists": { (c: inout CommandContext) throws(CommandError) in try exists(&c, touch: false) },
        "touch": { (c: inout CommandContext) throws(CommandError) in try exists(&c, touch: true) },
        "type": type,
        "expire": { (c: inout CommandContext) throws(CommandError) in try expire(&c, base: c.now, seconds: true) },
        "pexpire": { (c: inout CommandContext) throws(CommandError) in try expire(&c, base: c.now, seconds: false) },
        "expireat": { (c: inout CommandContext) throws(CommandError) in try expire(&c, base: 0, seconds: true) },
        "pexpireat": { (c: inout CommandContext) throws(CommandError) in try expire(&c, base: 0, seconds: false) },
        "ttl": { (c: inout CommandContext) throws(CommandError) in try ttl(&c, ms: false, absolute: false) },
        "pttl": { (c: inout CommandContext) throws(CommandError) in try ttl(&c, ms: true, absolute: false) },
        "expiretime": { (c: inout CommandContext) throws(CommandError) in try ttl(&c, ms: false, absolute: true) },
        "pexpiretime": { (c: inout CommandContext) throws(CommandError) in try ttl(&c, ms: true, absolute: true) },
        "persist": persist,
        "rename": { (c: inout CommandContext) throws(CommandError) in try rename(&c, nx: false) },
        "renamenx": { (c: inout CommandContext) throws(CommandError) in try rename(&c, nx: true) },
        "copy": copy,
        "move": move,
        "keys": keys,
        "scan": scan,
        "randomkey": randomkey,
        "dbsize": dbsize,
        "flushdb": { (c: inout CommandContext) throws(CommandError) in try flush(&c, all: false) },
        "flushall": { (c: inout CommandContext) throws(CommandError) in try flush(&c, all: true) },
        "select": select,
        "swapdb": swapdb,
    ]

    static func del(_ c: inout CommandContext) throws(CommandError) {
        var n = 0
        for i in 1..<c.args.count {
            // An expired key counts as absent, as in Redis.
            if try c.lookup(c.arg(i)) != nil, try c.delete(c.arg(i)) {
                c.notify(.generic, "del", c.arg(i))
                n += 1
            }
        }
        c.out.writeIntegerReply(n)
    }

    /// EXISTS leaves the keys' access time as it was; TOUCH (the same count) updates it.
    static func exists(_ c: inout CommandContext, touch: Bool) throws(CommandError) {
        var n = 0
        for i in 1..<c.args.count where try c.lookup(c.arg(i), touch: touch) != nil { n += 1 }
        c.out.writeIntegerReply(n)
    }

    static func type(_ c: inout CommandContext) throws(CommandError) {
        if let r = try c.lookup(c.arg(1), touch: false) {  // TYPE, TTL and EXISTS leave the access time
            c.out.writeSimpleString(r.type.name)
        } else {
            c.out.writeSimpleString("none")
        }
    }

    // MARK: expiry

    static func expire(_ c: inout CommandContext, base: Int64, seconds: Bool) throws(CommandError) {
        var nx = false, xx = false, gt = false, lt = false
        for i in 3..<max(3, c.args.count) {
            if c.argIs(i, "nx") { nx = true }
            else if c.argIs(i, "xx") { xx = true }
            else if c.argIs(i, "gt") { gt = true }
            else if c.argIs(i, "lt") { lt = true }
            else { throw CommandError("ERR Unsupported option \(c.cstring(i))") }
        }
        if nx && (xx || gt || lt) { throw CommandError("ERR NX and XX, GT or LT options at the same time are not compatible") }
        if gt && lt { throw CommandError("ERR GT and LT options at the same time are not compatible") }
        var when = try c.integer(2)
        if seconds {
            if when > Int.max / 1000 || when < Int.min / 1000 { throw .invalidExpire(c.command.name) }
            when *= 1000
        }
        if when > Int.max - Int(base) { throw .invalidExpire(c.command.name) }
        when += Int(base)
        guard var r = try c.lookup(c.arg(1)) else { return c.out.writeIntegerReply(0) }
        let current: Int64? = r.expireAt == 0 ? nil : r.expireAt
        if nx && current != nil { return c.out.writeIntegerReply(0) }
        if xx && current == nil { return c.out.writeIntegerReply(0) }
        if gt, current.map({ Int64(when) <= $0 }) ?? true { return c.out.writeIntegerReply(0) }
        if lt, let cur = current, Int64(when) >= cur { return c.out.writeIntegerReply(0) }
        if when <= Int(c.now) {
            try c.delete(c.arg(1))
            c.notify(.generic, "del", c.arg(1))
        } else {
            r.expireAt = Int64(when)
            try c.put(c.arg(1), r)
            c.notify(.generic, "expire", c.arg(1))
        }
        c.out.writeIntegerReply(1)
    }

    static func ttl(_ c: inout CommandContext, ms: Bool, absolute: Bool) throws(CommandError) {
        guard let r = try c.lookup(c.arg(1), touch: false) else { return c.out.writeIntegerReply(-2) }
        guard r.expireAt != 0 else { return c.out.writeIntegerReply(-1) }
        if absolute {
            // Unsigned like Redis's arithmetic here, so PEXPIREAT INT64_MAX cannot overflow.
            c.out.writeIntegerReply(ms ? Int(r.expireAt) : Int((UInt64(bitPattern: r.expireAt) &+ 500) / 1000))
        } else {
            let left = max(0, Int(r.expireAt - c.now))
            c.out.writeIntegerReply(ms ? left : (left + 500) / 1000)
        }
    }

    static func persist(_ c: inout CommandContext) throws(CommandError) {
        guard var r = try c.lookup(c.arg(1)), r.expireAt != 0 else { return c.out.writeIntegerReply(0) }
        r.expireAt = 0
        try c.put(c.arg(1), r)
        c.notify(.generic, "persist", c.arg(1))
        c.out.writeIntegerReply(1)
    }

    // MARK: moving keys

    static func rename(_ c: inout CommandContext, nx: Bool) throws(CommandError) {
        let src = c.arg(1), dst = c.arg(2)
        guard let r = try c.lookup(src) else { throw .noSuchKey }
        if src == dst {
            return nx ? c.out.writeIntegerReply(0) : c.out.writeOK()
        }
        let replacing = try c.lookup(dst) != nil
        if replacing && nx { return c.out.writeIntegerReply(0) }
        // The record moves as it is: a collection keeps its version and elements.
        // The source goes first, so that trackers hear of it before the
        // destination, as from Redis.
        try c.delete(src, keepElements: true)
        // Redis deletes the old key and adds a new one (a `new` event).
        if replacing { try c.delete(dst) }
        try c.put(dst, r)
        c.notify(.generic, "rename_from", src)
        c.notify(.generic, "rename_to", dst)
        nx ? c.out.writeIntegerReply(1) : c.out.writeOK()
    }

    static func copy(_ c: inout CommandContext) throws(CommandError) {
        let src = c.arg(1), dst = c.arg(2)
        var targetDB = c.client.db
        var replace = false
        var j = 3
        while j < c.args.count {
            if c.argIs(j, "replace") {
                replace = true
            } else if c.argIs(j, "db") && j + 1 < c.args.count {
                let n = try c.int32(j + 1)
                guard n >= 0 && n < c.store.databases else { throw .dbIndexOutOfRange }
                targetDB = n
                j += 1
            } else {
                throw .syntax
            }
            j += 1
        }
        if src == dst && targetDB == c.client.db { throw .sameObject }
        guard let r = try c.lookupForRead(src) else { return c.out.writeIntegerReply(0) }
        let target = c.store.physical(targetDB)
        if try c.lookup(dst, db: target) != nil {
            if !replace { return c.out.writeIntegerReply(0) }
            // Redis deletes the old key and adds a new one (a `new` event).
            try c.delete(dst, db: target)
        }
        if r.type == .stream, let coll = r.collection {
            // Every element (entries, nodes, pending lists) copied; the metadata kept
            // whole (its groups and counters) under the copy's version.
            let copy = try c.duplicate(Collection(meta: coll, expireAt: r.expireAt, type: r.type, existed: true))
            var value = r.value
            value.setInteger(copy.meta.version, at: value.readerIndex)
            try c.put(dst, Record(type: .stream, expireAt: r.expireAt, value: value), db: target)
        } else if let coll = r.collection {
            // A copy of a collection gets its own version and copies of every element.
            let copy = try c.duplicate(Collection(meta: coll, expireAt: r.expireAt, type: r.type, existed: true))
            try c.put(dst, Record(type: r.type, expireAt: r.expireAt, meta: copy.meta), db: target)
        } else {
            // A chunked string's chunks are copied under a version of its own.
            let copy: Record
            do { copy = try c.store.copyString(r) } catch { throw c.storeFailure(error) }
            try c.put(dst, copy, db: target)
        }
        c.notify(.generic, "copy_to", dst, db: target)
        c.out.writeIntegerReply(1)
    }

    static func move(_ c: inout CommandContext) throws(CommandError) {
        let n = try c.int32(2)
        guard n >= 0 && n < c.store.databases else { throw .dbIndexOutOfRange }
        if n == c.client.db { throw .sameObject }
        guard let r = try c.lookup(c.arg(1)) else { return c.out.writeIntegerReply(0) }
        let target = c.store.physical(n)
        if try c.lookup(c.arg(1), db: target) != nil { return c.out.writeIntegerReply(0) }
        try c.put(c.arg(1), r, db: target)
        try c.delete(c.arg(1), keepElements: true)
        c.notify(.generic, "move_from", c.arg(1))
        c.notify(.generic, "move_to", c.arg(1), db: target)
        c.out.writeIntegerReply(1)
    }

    // MARK: iteration

    static func keys(_ c: inout CommandContext) throws(CommandError) {
        let pattern = c.bytes(1)
        let matchAll = pattern == [UInt8(ascii: "*")]
        var found: [ByteBuffer] = []
        do {
            try c.store.allKeys(db: c.db, now: c.now) { key in
                if matchAll || pattern.withUnsafeBytes({ p in key.withUnsafeReadableBytes { globMatch(p, $0) } }) {
                    found.append(key)
                }
            }
        } catch { throw c.storeFailure(error) }
        c.out.writeArrayHeader(found.count)
        for k in found { c.out.writeBulk(k) }
    }

    static func scan(_ c: inout CommandContext) throws(CommandError) {
        let cursor = try scanCursor(c.bytes(1))
        var count = 10
        var pattern: [UInt8]? = nil
        var typeFilter: [UInt8]? = nil
        var j = 2
        while j < c.args.count {
            let more = c.args.count - j - 1
            if c.argIs(j, "count") && more >= 1 {
                count = try c.integer(j + 1)
                if count < 1 { throw .syntax }
                j += 2
            } else if c.argIs(j, "match") && more >= 1 {
                pattern = c.bytes(j + 1)
                if pattern == [UInt8(ascii: "*")] { pattern = nil }
                j += 2
            } else if c.argIs(j, "type") && more >= 1 {
                typeFilter = c.bytes(j + 1).map { $0 | 0x20 }
                j += 2
            } else {
                throw .syntax
            }
        }
        var found: [ByteBuffer] = []
        let nextCursor: UInt64
        do {
            nextCursor = try c.store.scan(db: c.db, cursor: cursor, count: count, now: c.now) { key, type in
                if let typeFilter, Array(type.name.utf8) != typeFilter { return }
                if let pattern, !pattern.withUnsafeBytes({ p in key.withUnsafeReadableBytes { globMatch(p, $0) } }) { return }
                found.append(key)
            }
        } catch { throw c.storeFailure(error) }
        c.out.writeArrayHeader(2)
        c.out.writeBulk(string: String(nextCursor))
        c.out.writeArrayHeader(found.count)
        for k in found { c.out.writeBulk(k) }
    }

    /// A SCAN/HSCAN/SSCAN/ZSCAN cursor: parsed as Redis parses it (strtoul), and below
    /// 2^46, because Lode's cursors are positions in the 46-bit hash order of keys and
    /// elements (docs/storage.md). A larger number is no position Lode ever returned:
    /// an error rather than a guess, which could skip keys or end the scan early.
    static func scanCursor(_ bytes: [UInt8]) throws(CommandError) -> UInt64 {
        guard let cursor = parseCursor(bytes), cursor < KeyHash.limit else { throw CommandError("ERR invalid cursor") }
        return cursor
    }

    /// strtoul(…, 10) as Redis uses it: optional sign, digits, no space, no overflow;
    /// "" is 0 and a negative number wraps.
    static func parseCursor(_ bytes: [UInt8]) -> UInt64? {
        var digits = bytes[...]
        var negative = false
        if let f = digits.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") {
            negative = f == UInt8(ascii: "-")
            digits = digits.dropFirst()
            if digits.isEmpty { return nil }
        }
        var v: UInt64 = 0
        for d in digits {
            guard d >= 48 && d <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d - 48))
            if o1 || o2 { return nil }
            v = a
        }
        return negative ? 0 &- v : v
    }

    static func randomkey(_ c: inout CommandContext) throws(CommandError) {
        let key: ByteBuffer?
        do { key = try c.store.randomKey(db: c.db, now: c.now) } catch { throw c.storeFailure(error) }
        if let key { c.out.writeBulk(key) } else { c.out.writeNull(c.resp) }
    }

    static func dbsize(_ c: inout CommandContext) throws(CommandError) {
        do { c.out.writeIntegerReply(try c.store.keyCount(db: c.db, now: c.now)) } catch { throw c.storeFailure(error) }
    }

    static func flush(_ c: inout CommandContext, all: Bool) throws(CommandError) {
        if c.args.count > 2 || (c.args.count == 2 && !c.argIs(1, "sync") && !c.argIs(1, "async")) { throw .syntax }
        c.server.databasesFlushing(all ? Array(0..<c.store.databases) : [c.client.db])
        do {
            if all { try c.store.flushAll() } else { try c.store.flush(db: c.db) }
        } catch { throw c.storeFailure(error) }
        // XREADGROUPs waiting on a stream that is gone end (scanDatabaseForDeletedStreams).
        for (db, key) in c.server.blocking.waitedKeys() where all || db == c.db { c.server.keyTouched(db, key) }
        c.out.writeOK()
    }

    static func select(_ c: inout CommandContext) throws(CommandError) {
        let n = try c.int32(1)
        guard n >= 0 && n < c.store.databases else { throw .dbIndexOutOfRange }
        c.client.db = n
        c.out.writeOK()
    }

    static func swapdb(_ c: inout CommandContext) throws(CommandError) {
        let a = try c.integer(1, or: CommandError("ERR invalid first DB index"))
        let b = try c.integer(2, or: CommandError("ERR invalid second DB index"))
        if a < Int(Int32.min) || a > Int(Int32.max) { throw CommandError("ERR invalid first DB index") }
        if b < Int(Int32.min) || b > Int(Int32.max) { throw CommandError("ERR invalid second DB index") }
        guard a >= 0 && a < c.store.databases && b >= 0 && b < c.store.databases else { throw .dbIndexOutOfRange }
        if a != b {
            c.server.databasesSwapping(a, b)
            let (pa, pb) = (c.store.physical(a), c.store.physical(b))
            do { try c.store.swap(a, b) } catch { throw c.storeFailure(error) }
            for (db, key) in c.server.blocking.swapDatabases(pa, pb) { c.server.keyTouched(db, key) }
        }
        c.out.writeOK()
    }
}
