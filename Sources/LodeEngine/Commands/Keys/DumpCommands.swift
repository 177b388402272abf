import LodeRDB
import LodeRESP
import LodeStore
import NIOCore

/// DUMP and RESTORE (cluster.c's dumpCommand/restoreCommand): a key's value in
/// Redis's DUMP payload format (LodeRDB), converted by StoredValueCodec, so a
/// payload from Redis restores here and one from here restores in Redis.
enum DumpCommands {
    static let handlers: [String: CommandHandler] = [
        "dump": dump,
        "restore": restore,
        // Cluster mode's variant; outside a cluster Redis runs it as RESTORE.
        "restore-asking": restore,
        "migrate": MigrateCommand.migrate,
    ]

    static func dump(_ c: inout CommandContext) throws(CommandError) {
        guard let r = try c.lookup(c.arg(1)) else { return c.out.writeNull(c.resp) }
        let value: RDBValue
        do { value = try StoredValueCodec.rdbValue(r, from: c.store) } catch { throw c.storeFailure(error) }
        c.out.writeBulk(bytes: DumpPayload.encode(value, limits: c.server.config.rdbEncodingLimits))
    }

    /// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
    static func restore(_ c: inout CommandContext) throws(CommandError) {
        var replace = false, absolute = false, idle = false, freq = false
        var j = 4
        while j < c.args.count {
            let more = c.args.count - j - 1
            if c.argIs(j, "replace") {
                replace = true
            } else if c.argIs(j, "absttl") {
                absolute = true
            } else if c.argIs(j, "idletime") && more >= 1 && !freq {
                // Lode's cache keeps no per-key idle time or frequency to set: checked, then unused.
                guard try c.integer(j + 1) >= 0 else { throw CommandError("ERR Invalid IDLETIME value, must be >= 0") }
                idle = true
                j += 1
            } else if c.argIs(j, "freq") && more >= 1 && !idle {
                let f = try c.integer(j + 1)
                guard f >= 0 && f <= 255 else { throw CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255") }
                freq = true
                j += 1
            } else {
                throw .syntax
            }
            j += 1
        }
        let key = c.arg(1)
        if !replace, try c.lookup(key) != nil { throw CommandError("BUSYKEY Target key name already exists.") }
        var ttl = try c.integer(2)
        guard ttl >= 0 else { throw CommandError("ERR Invalid TTL value, must be >= 0") }
        let value: RDBValue
        do { value = try DumpPayload.decode(c.bytes(3)) } catch { throw CommandError(error.redisMessage) }
        var deleted = false
        if replace { deleted = try c.delete(key) }
        if ttl > 0 && !absolute { ttl += Int(c.now) }
        if ttl > 0 && ttl <= Int(c.now) {
            // Already expired: the key is gone (and its deletion announced).
            if deleted { c.notify(.generic, "del", key) }
            return c.out.writeOK()
        }
        let record: Record
        do {
            record = try StoredValueCodec.record(for: value, expireAt: Int64(ttl), into: c.store,
                                                 nodeLimits: c.server.config.streamNodeLimits)
        } catch { throw c.storeFailure(error) }
        try c.put(key, record)
        c.notify(.generic, "restore", key)
        c.out.writeOK()
    }
}

extension Configuration {
    /// The encoding thresholds that decide which RDB encoding a value is written in
    /// (what Redis would hold it as under the same settings).
    var rdbEncodingLimits: RDBEncodingLimits {
        var l = RDBEncodingLimits()
        func int(_ name: String, _ fallback: Int) -> Int { Int(inertValue(name)) ?? fallback }
        l.listMaxListpackSize = int("list-max-listpack-size", l.listMaxListpackSize)
        l.setMaxIntsetEntries = int("set-max-intset-entries", l.setMaxIntsetEntries)
        l.hashMaxListpackEntries = int("hash-max-listpack-entries", l.hashMaxListpackEntries)
        l.hashMaxListpackValue = int("hash-max-listpack-value", l.hashMaxListpackValue)
        l.zsetMaxListpackEntries = int("zset-max-listpack-entries", l.zsetMaxListpackEntries)
        l.zsetMaxListpackValue = int("zset-max-listpack-value", l.zsetMaxListpackValue)
        l.streamNodeMaxBytes = streamNodeMaxBytes
        l.streamNodeMaxEntries = streamNodeMaxEntries
        return l
    }

    var streamNodeLimits: StoredValueCodec.NodeLimits {
        StoredValueCodec.NodeLimits(maxBytes: streamNodeMaxBytes, maxEntries: streamNodeMaxEntries)
    }
}
