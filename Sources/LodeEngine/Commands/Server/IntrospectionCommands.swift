import LodeRESP
import LodeStore
import NIOCore

/// OBJECT and MEMORY: what the hot cache knows about a key.
enum IntrospectionCommands {
    /// Handlers by command name ("config|get" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "object|encoding": encoding,
        "object|freq": freq,
        "object|idletime": idletime,
        "object|refcount": refcount,
        "object|help": { (c: inout CommandContext) throws(CommandError) in c.writeHelp(objectHelp) },
        "memory|usage": usage,
    ]

    /// The record without touching the cache's policy state (introspection must
    /// not make a key look hot).
    static func peek(_ c: CommandContext, _ key: ByteBuffer) throws(CommandError) -> Record? {
        if let r = c.store.cache.peek(db: c.db, key: key) {
            return r.isExpired(now: c.now) ? nil : r
        }
        return try c.lookup(key)
    }

    static func encoding(_ c: inout CommandContext) throws(CommandError) {
        guard let r = try peek(c, c.arg(2)) else { return c.out.writeNull(c.resp) }
        c.out.writeBulk(string: encodingName(c, r))
    }

    /// OBJECT ENCODING's answer. Redis's rules for strings: integers that fit a long
    /// are "int", short strings "embstr" (≤ 44 bytes), the rest "raw". Collections: the
    /// name of Redis's large-collection encoding, which Lode's element-per-entry layout
    /// resembles.
    static func encodingName(_ c: CommandContext, _ r: Record) -> String {
        switch r.type {
        case .string: break
        case .list: return "quicklist"
        case .zset: return "skiplist"
        case .hash, .set: return "hashtable"
        case .stream: return "stream"
        }
        // A chunked value is read only when it is short (a tiny string-chunk-size).
        guard r.stringLength <= 44 else { return "raw" }
        let v = (try? c.stringValue(r)) ?? r.value
        if v.readableBytes <= 20, parseInteger(v, at: v.readerIndex, length: v.readableBytes) != nil { return "int" }
        return v.readableBytes <= 44 ? "embstr" : "raw"
    }

    /// Redis shares the integers 0...9999 (refcount INT_MAX); every other value
    /// has one reference. Lode shares nothing, but reports what Redis would, as
    /// clients use it to tell shared integers apart.
    static func refcount(_ c: inout CommandContext) throws(CommandError) {
        guard let r = try peek(c, c.arg(2)) else { return c.out.writeNull(c.resp) }
        let v = r.type == .string && r.stringLength <= 4 ? try c.stringValue(r) : r.value
        if r.type == .string, v.readableBytes <= 4, let n = parseInteger(v, at: v.readerIndex, length: v.readableBytes),
           n >= 0 && n < 10_000 {
            return c.out.writeIntegerReply(Int(Int32.max))
        }
        c.out.writeIntegerReply(1)
    }

    static let objectHelp = [
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
    ]

    static func freq(_ c: inout CommandContext) throws(CommandError) {
        guard c.store.cache.policy == .s3fifo else {
            throw CommandError("ERR cache-eviction-policy \(c.store.cache.policy.rawValue) does not track access frequency; s3fifo does.")
        }
        guard try peek(c, c.arg(2)) != nil else { return c.out.writeNull(c.resp) }
        // S3-FIFO's 2-bit counter; 0 for a key that is only on disk.
        c.out.writeIntegerReply(c.store.cache.stats(db: c.db, key: c.arg(2))?.freq ?? 0)
    }

    static func idletime(_ c: inout CommandContext) throws(CommandError) {
        guard try peek(c, c.arg(2)) != nil else { return c.out.writeNull(c.resp) }
        if let s = c.store.cache.stats(db: c.db, key: c.arg(2)) {
            c.out.writeIntegerReply(s.idleSeconds)
        } else {
            // Only on disk: not accessed since it left the cache, or since start.
            c.out.writeIntegerReply(Int(c.now - c.server.startedAt) / 1000)
        }
    }

    /// MEMORY USAGE: what the key costs in the cache (the accounting eviction uses) plus,
    /// for a collection, its elements on disk, from a sample of SAMPLES elements (default
    /// 5, 0 = all) as Redis samples: each LMDB entry's key, value and node overhead, and a
    /// sorted set's score index entry too.
    static func usage(_ c: inout CommandContext) throws(CommandError) {
        var samples = 5
        if c.args.count > 3 {
            guard c.args.count == 5, c.argIs(3, "samples") else { throw .syntax }
            let n = try c.integer(4)
            guard n >= 0 else { throw .syntax }
            samples = n == 0 ? Int.max : n
        }
        guard let r = try peek(c, c.arg(2)) else { return c.out.writeNull(c.resp) }
        let payload = r.type == .string ? r.stringLength : r.value.readableBytes
        var usage = HotCache.entryOverhead + c.arg(2).readableBytes + payload
        if let meta = r.collection, meta.size > 0 {
            let entryOverhead = 16, versionPrefix = 8
            var sampled = 0, bytes = 0
            _ = try? c.store.elementsRaw(version: meta.version, hashed: r.type.hashesElements, limit: min(samples, meta.size)) { name, value in
                bytes += versionPrefix + name.count + value.count + entryOverhead
                if r.type == .zset { bytes += versionPrefix + 8 + name.count + entryOverhead }  // the score index
                sampled += 1
                return sampled < samples
            }
            if sampled > 0 { usage += Int(Double(bytes) / Double(sampled) * Double(meta.size)) }
        }
        c.out.writeIntegerReply(usage)
    }
}
