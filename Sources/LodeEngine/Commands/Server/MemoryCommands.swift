import LodeRESP

/// MEMORY STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, with Redis 7.0's fields and
/// texts, from Lode's own figures (MemoryOverhead). MEMORY USAGE is in IntrospectionCommands.
enum MemoryCommands {
    static let handlers: [String: CommandHandler] = [
        "memory|stats": stats,
        "memory|doctor": { (c: inout CommandContext) throws(CommandError) in
            c.out.writeVerbatim(doctor(MemoryOverhead(c.server), c.server), version: c.resp)
        },
        // Lode uses glibc's malloc, for which Redis prints this too.
        "memory|malloc-stats": { (c: inout CommandContext) throws(CommandError) in
            c.out.writeVerbatim("Stats not supported for the current allocator", version: c.resp)
        },
        "memory|purge": { (c: inout CommandContext) throws(CommandError) in
            ProcessMemory.purge()
            c.out.writeOK()
        },
        "memory|help": { (c: inout CommandContext) throws(CommandError) in
            c.writeHelp(["DOCTOR", "    Return memory problems reports.",
                         "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
                         "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
                         "STATS", "    Return information about the memory usage of the server.",
                         "USAGE <key> [SAMPLES <count>]",
                         "    Return memory in bytes used by <key> and its value. Nested values are",
                         "    sampled up to <count> times (default: 5, 0 means sample all)."])
        },
    ]

    static func stats(_ c: inout CommandContext) throws(CommandError) {
        let m = MemoryOverhead(c.server)
        let keys = c.server.databaseCounts().reduce(0) { $0 + $1.keys }
        let active = m.reserved, resident = m.anonymousResident
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        let integers: [(String, Int)] = [
            ("peak.allocated", m.peak), ("total.allocated", m.heap), ("startup.allocated", m.startup),
            ("replication.backlog", 0), ("clients.slaves", 0), ("clients.normal", m.clients), ("cluster.links", 0),
            ("aof.buffer", 0), ("lua.caches", m.luaCaches), ("functions.caches", m.functionCaches),
            ("overhead.total", m.overhead), ("keys.count", keys),
            ("keys.bytes-per-key", keys == 0 ? 0 : max(0, m.heap - m.startup) / keys), ("dataset.bytes", m.dataset),
        ]
        let tail: [(String, Double, Int)] = [
            ("allocator-fragmentation", ratio(active, m.heap), active - m.heap),
            ("allocator-rss", ratio(resident, active), resident - active),
            ("rss-overhead", ratio(m.rss, resident), m.rss - resident),
        ]
        c.out.writeMapHeader(integers.count + 2 + 3 + 2 * tail.count + 2 + 2, c.resp)
        for (name, value) in integers {
            c.out.writeBulk(string: name)
            c.out.writeIntegerReply(value)
        }
        c.out.writeBulk(string: "dataset.percentage")
        c.out.writeDouble(formatted: Score.format(ratio(m.dataset * 100, max(1, m.heap - m.startup))), c.resp)
        c.out.writeBulk(string: "peak.percentage")
        c.out.writeDouble(formatted: Score.format(ratio(m.heap * 100, max(1, m.peak))), c.resp)
        for (name, value) in [("allocator.allocated", m.heap), ("allocator.active", active), ("allocator.resident", resident)] {
            c.out.writeBulk(string: name)
            c.out.writeIntegerReply(value)
        }
        for (name, r, bytes) in tail {
            c.out.writeBulk(string: name + ".ratio")
            c.out.writeDouble(formatted: Score.format(r), c.resp)
            c.out.writeBulk(string: name + ".bytes")
            c.out.writeIntegerReply(bytes)
        }
        c.out.writeBulk(string: "fragmentation")
        c.out.writeDouble(formatted: Score.format(m.fragmentation), c.resp)
        c.out.writeBulk(string: "fragmentation.bytes")
        c.out.writeIntegerReply(resident - m.heap)
        // Lode's own: the hot cache and the mapped LMDB file pages.
        c.out.writeBulk(string: "lode.cache.bytes")
        c.out.writeIntegerReply(c.store.cache.usedBytes)
        c.out.writeBulk(string: "lode.lmdb.resident-bytes")
        c.out.writeIntegerReply(m.fileBacked)
    }

    /// Redis's getMemoryDoctorReport, with the checks that mean something in Lode.
    static func doctor(_ m: MemoryOverhead, _ s: ServerState) -> String {
        if m.heap < 5 << 20 {
            return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these "
                + "conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be "
                + "back to our programming as soon as I finished rebooting.\n"
        }
        var reports: [String] = []
        if Double(m.peak) / Double(m.heap) > 1.5 {
            reports.append(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. "
                + "The allocator is normally not able to release memory after a peak, so you can expect to see a big "
                + "fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis "
                + "instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you "
                + "fill the Redis instance with more data. If the memory peak was only occasional and you want to try to "
                + "reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and "
                + "restart the instance.\n\n")
        }
        if m.fragmentation > 1.4 && m.anonymousResident - m.heap > 10 << 20 {
            reports.append(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this "
                + "means that the Resident Set Size of the Redis process is much larger than the sum of the logical "
                + "allocations Redis performed). This problem is usually due either to a large peak memory (check if there is "
                + "a peak memory entry above in the report) or may result from a workload that causes the allocator to "
                + "fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure "
                + "you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is "
                + "\"libc\".\n\n")
        }
        if !s.clients.isEmpty && m.clients / s.clients.count > 200 * 1024 {
            reports.append(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client "
                + "(on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not "
                + "receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending "
                + "commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT "
                + "LIST command in order to investigate the issue if it causes problems in your instance, or to understand "
                + "better why certain clients are using a big amount of memory.\n\n")
        }
        if s.scripts.scripts.count > 1000 {
            reports.append(" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may "
                + "be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), "
                + "`SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end "
                + "up consuming most of your memory.\n\n")
        }
        guard !reports.isEmpty else {
            return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
        }
        return "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + reports.joined()
            + "I'm here to keep you safe, Sam. I want to help you.\n"
    }
}
