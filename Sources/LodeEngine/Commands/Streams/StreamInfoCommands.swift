import LodeRESP
import LodeStore
import NIOCore

/// XINFO STREAM [FULL [COUNT n]], GROUPS, CONSUMERS and HELP (xinfoCommand).
enum StreamInfoCommands {
    static let handlers: [String: CommandHandler] = [
        "xinfo|stream": stream,
        "xinfo|groups": groups,
        "xinfo|consumers": consumers,
        "xinfo|help": { (c: inout CommandContext) throws(CommandError) in c.writeHelp(help) },
    ]

    static let help = [
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
    ]

    static func lookup(_ c: inout CommandContext) throws(CommandError) -> StreamValue {
        guard let s = try c.lookupStream(c.arg(2)) else { throw .noSuchKey }
        return s
    }

    static func field(_ b: inout ByteBuffer, _ name: StaticString) { b.writeBulk(string: "\(name)") }

    static func consumers(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count == 4 else { throw c.subcommandSyntaxError }
        let s = try lookup(&c)
        guard let g = s.meta.group(named: c.bytes(3)) else {
            throw CommandError("NOGROUP No such consumer group '\(c.cstring(3))' for key name '\(c.cstring(2))'")
        }
        let group = s.meta.groups[g]
        c.out.writeArrayHeader(group.consumers.count)
        for consumer in group.consumers {
            c.out.writeMapHeader(3, c.resp)
            field(&c.out, "name")
            c.out.writeBulk(bytes: consumer.name)
            field(&c.out, "pending")
            c.out.writeIntegerReply(consumer.pelCount)
            field(&c.out, "idle")
            c.out.writeIntegerReply(Int(max(0, c.now - consumer.seenTime)))
        }
    }

    /// A group's last-delivered-id, entries-read (null when unknown) and lag.
    static func writeProgress(_ c: CommandContext, _ b: inout ByteBuffer, _ m: StreamMeta, _ g: StreamGroup) {
        field(&b, "last-delivered-id")
        b.writeStreamID(g.lastID)
        field(&b, "entries-read")
        if g.entriesRead != StreamMeta.invalidEntriesRead { b.writeIntegerReply(Int(g.entriesRead)) } else { b.writeNull(c.resp) }
        field(&b, "lag")
        c.writeLag(&b, m, g)
    }

    static func groups(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count == 3 else { throw c.subcommandSyntaxError }
        let s = try lookup(&c)
        var b = ByteBuffer()
        b.writeArrayHeader(s.meta.groups.count)
        for g in s.meta.groups {
            b.writeMapHeader(6, c.resp)
            field(&b, "name")
            b.writeBulk(bytes: g.name)
            field(&b, "consumers")
            b.writeIntegerReply(g.consumers.count)
            field(&b, "pending")
            b.writeIntegerReply(g.pelCount)
            writeProgress(c, &b, s.meta, g)
        }
        c.out.writeImmutableBuffer(b)
    }

    static func stream(_ c: inout CommandContext) throws(CommandError) {
        var full = false
        var count = 10
        let options = c.args.count - 3
        if options > 0 {
            guard options == 1 || options == 3, c.argIs(3, "full") else { throw c.subcommandSyntaxError }
            if options == 3 {
                guard c.argIs(4, "count") else { throw c.subcommandSyntaxError }
                count = try c.integer(5)
                if count < 0 { count = 10 }
            }
            full = true
        }
        let s = try lookup(&c)
        let m = s.meta
        var b = ByteBuffer()
        b.writeMapHeader(full ? 9 : 10, c.resp)
        field(&b, "length")
        b.writeIntegerReply(m.length)
        field(&b, "radix-tree-keys")
        b.writeIntegerReply(m.nodeCount)
        // Redis's rax inner nodes have no counterpart in Lode: the number a rax of
        // that many 16-byte keys needs at least (one per key plus the root).
        field(&b, "radix-tree-nodes")
        b.writeIntegerReply(m.nodeCount + 1)
        field(&b, "last-generated-id")
        b.writeStreamID(m.lastID)
        field(&b, "max-deleted-entry-id")
        b.writeStreamID(m.maxDeletedID)
        field(&b, "entries-added")
        b.writeIntegerReply(Int(m.entriesAdded))
        field(&b, "recorded-first-entry-id")
        b.writeStreamID(m.firstID)
        if !full {
            field(&b, "groups")
            b.writeIntegerReply(m.groups.count)
            for last in [false, true] {
                field(&b, last ? "last-entry" : "first-entry")
                var found = false
                try c.streamEntries(s, .zero, .max, reverse: last, count: 1) { id, raw in
                    StreamCommands.writeEntry(&b, id, raw)
                    found = true
                }
                if !found { b.writeNull(c.resp) }
            }
            c.out.writeImmutableBuffer(b)
            return
        }
        field(&b, "entries")
        try StreamCommands.writeRange(c, s, .zero, .max, count: count, into: &b)
        field(&b, "groups")
        b.writeArrayHeader(m.groups.count)
        for g in m.groups { try writeFullGroup(&c, s, g, count: count, into: &b) }
        c.out.writeImmutableBuffer(b)
    }

    static func writeFullGroup(_ c: inout CommandContext, _ s: StreamValue, _ g: StreamGroup, count: Int,
                               into b: inout ByteBuffer) throws(CommandError) {
        b.writeMapHeader(7, c.resp)
        field(&b, "name")
        b.writeBulk(bytes: g.name)
        writeProgress(c, &b, s.meta, g)
        field(&b, "pel-count")
        b.writeIntegerReply(g.pelCount)
        field(&b, "pending")
        let ids = try c.pendingIDs(s, gid: g.id, limit: count)
        b.writeArrayHeader(ids.count)
        for id in ids {
            guard let p = try c.pending(s, group: g.id, id) else { throw c.damagedStream }
            b.writeArrayHeader(4)
            b.writeStreamID(id)
            b.writeBulk(bytes: c.consumerName(g, p.consumer))
            b.writeIntegerReply(Int(p.deliveryTime))
            b.writeIntegerReply(Int(p.deliveryCount))
        }
        field(&b, "consumers")
        b.writeArrayHeader(g.consumers.count)
        for consumer in g.consumers {
            b.writeMapHeader(4, c.resp)
            field(&b, "name")
            b.writeBulk(bytes: consumer.name)
            field(&b, "seen-time")
            b.writeIntegerReply(Int(consumer.seenTime))
            field(&b, "pel-count")
            b.writeIntegerReply(consumer.pelCount)
            field(&b, "pending")
            let mine = try c.pendingIDs(s, gid: g.id, consumer: consumer.id, limit: count)
            b.writeArrayHeader(mine.count)
            for id in mine {
                guard let p = try c.pending(s, group: g.id, id) else { throw c.damagedStream }
                b.writeArrayHeader(3)
                b.writeStreamID(id)
                b.writeIntegerReply(Int(p.deliveryTime))
                b.writeIntegerReply(Int(p.deliveryCount))
            }
        }
    }
}
