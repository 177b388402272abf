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
        // Redis's rules for strings: integers that fit a long are "int", short
        // strings "embstr" (≤ 44 bytes), the rest "raw".
        // Collections: the name of Redis's large-collection encoding, which is what
        // Lode's element-per-entry layout resembles.
        switch r.type {
        case .string: break
        case .list: return c.out.writeBulk(string: "quicklist")
        case .zset: return c.out.writeBulk(string: "skiplist")
        case .hash, .set: return c.out.writeBulk(string: "hashtable")
        }
        let v = r.value
        if v.readableBytes <= 20, parseInteger(v, at: v.readerIndex, length: v.readableBytes) != nil {
            c.out.writeBulk(string: "int")
        } else {
            c.out.writeBulk(string: v.readableBytes <= 44 ? "embstr" : "raw")
        }
    }

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

    static func usage(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 3 {
            guard c.args.count == 5, c.argIs(3, "samples") else { throw .syntax }
            _ = try c.integer(4)
        }
        guard let r = try peek(c, c.arg(2)) else { return c.out.writeNull(c.resp) }
        // What the key costs in the hot cache (the accounting eviction uses).
        c.out.writeIntegerReply(HotCache.entryOverhead + c.arg(2).readableBytes + r.value.readableBytes)
    }
}
