import LodeRESP
import LodeStore
import NIOCore

/// XGROUP, XACK and XPENDING (t_stream.c's xgroupCommand, xackCommand, xpendingCommand).
enum StreamGroupCommands {
    static let handlers: [String: CommandHandler] = [
        "xgroup|create": { (c: inout CommandContext) throws(CommandError) in try xgroup(&c) },
        "xgroup|setid": { (c: inout CommandContext) throws(CommandError) in try xgroup(&c) },
        "xgroup|destroy": { (c: inout CommandContext) throws(CommandError) in try xgroup(&c) },
        "xgroup|createconsumer": { (c: inout CommandContext) throws(CommandError) in try xgroup(&c) },
        "xgroup|delconsumer": { (c: inout CommandContext) throws(CommandError) in try xgroup(&c) },
        "xgroup|help": { (c: inout CommandContext) throws(CommandError) in c.writeHelp(xgroupHelp) },
        "xack": xack,
        "xpending": xpending,
        "xclaim": StreamClaimCommands.xclaim,
        "xautoclaim": StreamClaimCommands.xautoclaim,
    ]

    static let xgroupHelp = [
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
    ]

    static func name(_ bytes: [UInt8]) -> String { String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }

    /// One handler for every subcommand, as xgroupCommand: its options are parsed
    /// and the key and group checked first, in Redis's order.
    static func xgroup(_ c: inout CommandContext) throws(CommandError) {
        let create = c.argIs(1, "create"), setid = c.argIs(1, "setid")
        var mkstream = false
        var entriesRead = StreamMeta.invalidEntriesRead
        var i = 5
        while i < c.args.count {
            if create && c.argIs(i, "mkstream") {
                mkstream = true
                i += 1
            } else if (create || setid) && c.argIs(i, "entriesread") && i + 1 < c.args.count {
                let n = try c.integer(i + 1)
                guard n >= 0 || Int64(n) == StreamMeta.invalidEntriesRead else {
                    throw CommandError("ERR value for ENTRIESREAD must be positive or -1")
                }
                entriesRead = Int64(n)
                i += 2
            } else {
                throw c.subcommandSyntaxError
            }
        }
        let key = c.arg(2), groupName = c.bytes(3)
        let stream = try c.lookupStream(key)
        let group = stream.flatMap { $0.meta.group(named: groupName) }
        if !mkstream {
            guard stream != nil else {
                throw CommandError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
                                   + "to use the MKSTREAM option to create an empty stream automatically.")
            }
            if group == nil && !create && !c.argIs(1, "destroy") {
                throw CommandError("NOGROUP No such consumer group '\(name(groupName))' for key name '\(c.cstring(2))'")
            }
        }
        let argc = c.args.count
        if create && argc >= 5 && argc <= 8 {
            let id: StreamID
            if c.bytes(4) == [UInt8(ascii: "$")] {
                id = stream?.meta.lastID ?? .zero
            } else {
                id = try StreamID.parse(c.bytes(4), strict: true).id
            }
            let created = stream == nil
            var s = stream ?? c.newStream()
            guard s.meta.group(named: groupName) == nil else {
                throw CommandError("BUSYGROUP Consumer Group name already exists")
            }
            s.meta.insert(StreamGroup(name: groupName, id: s.meta.nextGroupID, lastID: id, entriesRead: entriesRead))
            s.meta.nextGroupID += 1
            try c.saveStream(key, s, signal: created)
            c.out.writeOK()
            c.notify(.stream, "xgroup-create", key)
        } else if setid && (argc == 5 || argc == 7), var s = stream, let g = group {
            let id = c.bytes(4) == [UInt8(ascii: "$")] ? s.meta.lastID : try StreamID.parse(c.bytes(4)).id
            s.meta.groups[g].lastID = id
            s.meta.groups[g].entriesRead = entriesRead
            try c.saveStream(key, s, signal: false)
            c.out.writeOK()
            c.notify(.stream, "xgroup-setid", key)
        } else if c.argIs(1, "destroy") && argc == 4, var s = stream {
            guard let g = group else { return c.out.writeIntegerReply(0) }
            try destroyGroup(&c, &s, g)
            try c.saveStream(key, s, signal: false)
            c.out.writeIntegerReply(1)
            c.notify(.stream, "xgroup-destroy", key)
        } else if c.argIs(1, "createconsumer") && argc == 5, var s = stream, let g = group {
            let consumer = c.bytes(4)
            guard s.meta.groups[g].consumer(named: consumer) == nil else { return c.out.writeIntegerReply(0) }
            _ = s.meta.groups[g].addConsumer(consumer, now: c.now)
            try c.saveStream(key, s, signal: false)
            c.out.writeIntegerReply(1)
            c.notify(.stream, "xgroup-createconsumer", key)
        } else if c.argIs(1, "delconsumer") && argc == 5, var s = stream, let g = group {
            guard let ci = s.meta.groups[g].consumer(named: c.bytes(4)) else { return c.out.writeIntegerReply(0) }
            let pending = s.meta.groups[g].consumers[ci].pelCount
            let gid = s.meta.groups[g].id, cid = s.meta.groups[g].consumers[ci].id
            for id in try c.pendingIDs(s, gid: gid, consumer: cid) { _ = try c.removePending(&s, group: g, id) }
            s.meta.groups[g].consumers.remove(at: ci)
            try c.saveStream(key, s, signal: false)
            c.out.writeIntegerReply(pending)
            c.notify(.stream, "xgroup-delconsumer", key)
        } else {
            throw c.subcommandSyntaxError
        }
    }

    /// Drops a group and its pending entries (streamFreeCG); blocked readers of
    /// the group are woken to learn it is gone.
    static func destroyGroup(_ c: inout CommandContext, _ s: inout StreamValue, _ g: Int) throws(CommandError) {
        let gid = s.meta.groups[g].id
        for consumer in s.meta.groups[g].consumers {
            for id in try c.pendingIDs(s, gid: gid, consumer: consumer.id) {
                try c.removeStreamElement(s, StreamKeys.consumerPEL(gid, consumer.id, id))
            }
        }
        for id in try c.pendingIDs(s, gid: gid) { try c.removeStreamElement(s, StreamKeys.groupPEL(gid, id)) }
        s.meta.groups.remove(at: g)
    }

    static func xack(_ c: inout CommandContext) throws(CommandError) {
        let key = c.arg(1)
        guard var s = try c.lookupStream(key), let g = s.meta.group(named: c.bytes(2)) else { return c.out.writeIntegerReply(0) }
        var ids: [StreamID] = []
        for j in 3..<c.args.count { ids.append(try StreamID.parse(c.bytes(j), strict: true).id) }
        var acknowledged = 0
        for id in ids where try c.removePending(&s, group: g, id) { acknowledged += 1 }
        if acknowledged > 0 { try c.saveStream(key, s, signal: false) }
        c.out.writeIntegerReply(acknowledged)
    }

    static func noGroup(_ c: CommandContext) -> CommandError {
        CommandError("NOGROUP No such key '\(c.cstring(1))' or consumer group '\(c.cstring(2))'")
    }

    static func xpending(_ c: inout CommandContext) throws(CommandError) {
        let argc = c.args.count
        let summary = argc == 3
        guard argc == 3 || (argc >= 6 && argc <= 9) else { throw .syntax }
        var start = StreamID.zero, end = StreamID.max
        var count = 0, minIdle = 0
        var consumerName: [UInt8]? = nil
        if argc >= 6 {
            var startIndex = 3
            if c.argIs(3, "idle") {
                minIdle = try c.integer(4)
                guard argc >= 8 else { throw .syntax }
                startIndex += 2
            }
            count = max(0, try c.integer(startIndex + 2))
            start = try StreamCommands.intervalBound(c, startIndex, start: true)
            end = try StreamCommands.intervalBound(c, startIndex + 1, start: false)
            if startIndex + 3 < argc { consumerName = c.bytes(startIndex + 3) }
        }
        guard let s = try c.lookupStream(c.arg(1)), let g = s.meta.group(named: c.bytes(2)) else { throw noGroup(c) }
        let group = s.meta.groups[g]
        if summary {
            c.out.writeArrayHeader(4)
            c.out.writeIntegerReply(group.pelCount)
            let first = try c.pendingIDs(s, gid: group.id, limit: 1).first
            guard let first, group.pelCount > 0 else {
                c.out.writeNull(c.resp)
                c.out.writeNull(c.resp)
                return c.out.writeNullArray(c.resp)
            }
            var last = first
            try c.walkStream(s, from: StreamKeys.groupPEL(group.id, .zero), through: StreamKeys.groupPEL(group.id, .max),
                             reverse: true) { n, _ in
                last = StreamID(n, at: 5)
                return false
            }
            c.out.writeStreamID(first)
            c.out.writeStreamID(last)
            let busy = group.consumers.filter { $0.pelCount > 0 }
            c.out.writeArrayHeader(busy.count)
            for consumer in busy {
                c.out.writeArrayHeader(2)
                c.out.writeBulk(bytes: consumer.name)
                c.out.writeBulk(string: String(consumer.pelCount))
            }
            return
        }
        var cid: UInt32? = nil
        if let consumerName {
            guard let ci = group.consumer(named: consumerName) else { return c.out.writeArrayHeader(0) }
            cid = group.consumers[ci].id
        }
        var body = ByteBuffer()
        var n = 0
        if count > 0 && start <= end {
            let from = cid.map { StreamKeys.consumerPEL(group.id, $0, start) } ?? StreamKeys.groupPEL(group.id, start)
            let through = cid.map { StreamKeys.consumerPEL(group.id, $0, end) } ?? StreamKeys.groupPEL(group.id, end)
            let idOffset = cid == nil ? 5 : 9
            try c.walkStream(s, from: from, through: through) { name, value throws(CommandError) in
                let id = StreamID(name, at: idOffset)
                guard let p = cid == nil ? PendingEntry(value) : try c.pending(s, group: group.id, id) else { return true }
                if minIdle != 0 && c.now - p.deliveryTime < Int64(minIdle) { return true }
                body.writeArrayHeader(4)
                body.writeStreamID(id)
                body.writeBulk(bytes: c.consumerName(group, p.consumer))
                body.writeIntegerReply(Int(max(0, c.now - p.deliveryTime)))
                body.writeIntegerReply(Int(p.deliveryCount))
                n += 1
                return n < count
            }
        }
        c.out.writeArrayHeader(n)
        c.out.writeImmutableBuffer(body)
    }
}
