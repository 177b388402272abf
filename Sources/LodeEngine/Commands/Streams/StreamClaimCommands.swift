import LodeRESP
import LodeStore
import NIOCore

/// XCLAIM and XAUTOCLAIM (t_stream.c's xclaimCommand, xautoclaimCommand): pending
/// entries change consumer; a pending entry whose stream entry was deleted is
/// dropped from the lists.
enum StreamClaimCommands {
    /// The consumer a claim goes to, created on first need (`xgroup-createconsumer`).
    struct Claimant {
        let name: [UInt8]
        var index: Int?
        mutating func resolve(_ c: inout CommandContext, _ s: inout StreamValue, _ key: ByteBuffer, _ g: Int) -> Int {
            if let index { return index }
            let i = c.lookupOrCreateConsumer(&s, key, group: g, name)
            index = i
            return i
        }
    }

    static func xclaim(_ c: inout CommandContext) throws(CommandError) {
        let key = c.arg(1)
        guard var s = try c.lookupStream(key), let g = s.meta.group(named: c.bytes(2)) else {
            throw StreamGroupCommands.noGroup(c)
        }
        var minIdle = try c.integer(4, or: CommandError("ERR Invalid min-idle-time argument for XCLAIM"))
        if minIdle < 0 { minIdle = 0 }
        var ids: [StreamID] = []
        var j = 5
        while j < c.args.count, let id = try? StreamID.parse(c.bytes(j), strict: true).id {
            ids.append(id)
            j += 1
        }
        let now = c.now
        var force = false, justID = false
        var deliveryTime: Int64 = -1, retryCount = -1
        var lastID = StreamID.zero
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.argIs(j, "force") {
                force = true
            } else if c.argIs(j, "justid") {
                justID = true
            } else if c.argIs(j, "idle") && more > 0 {
                j += 1
                deliveryTime = now - Int64(try c.integer(j, or: CommandError("ERR Invalid IDLE option argument for XCLAIM")))
            } else if c.argIs(j, "time") && more > 0 {
                j += 1
                deliveryTime = Int64(try c.integer(j, or: CommandError("ERR Invalid TIME option argument for XCLAIM")))
            } else if c.argIs(j, "retrycount") && more > 0 {
                j += 1
                retryCount = try c.integer(j, or: CommandError("ERR Invalid RETRYCOUNT option argument for XCLAIM"))
            } else if c.argIs(j, "lastid") && more > 0 {
                j += 1
                lastID = try StreamID.parse(c.bytes(j), strict: true).id
            } else {
                throw CommandError("ERR Unrecognized XCLAIM option '\(c.cstring(j))'")
            }
            j += 1
        }
        var changed = false
        if lastID > s.meta.groups[g].lastID {
            s.meta.groups[g].lastID = lastID
            changed = true
        }
        if deliveryTime != -1 {
            if deliveryTime < 0 || deliveryTime > now { deliveryTime = now }
        } else {
            deliveryTime = now
        }
        var claimant = Claimant(name: c.bytes(3), index: nil)
        let gid = s.meta.groups[g].id
        var body = ByteBuffer()
        var n = 0
        for id in ids {
            var p = try c.pending(s, group: gid, id)
            guard try c.streamEntryExists(s, id) else {
                if p != nil {
                    _ = try c.removePending(&s, group: g, id)
                    changed = true
                }
                continue
            }
            if force && p == nil {
                // A pending entry of no consumer yet (streamCreateNACK(NULL)).
                let created = PendingEntry(consumer: 0, deliveryTime: now, deliveryCount: 1)
                try c.setStreamElement(s, StreamKeys.groupPEL(gid, id), created.encoded)
                s.meta.groups[g].pelCount += 1
                p = created
            }
            guard let old = p else { continue }
            if old.consumer != 0 && minIdle != 0 && now - old.deliveryTime < Int64(minIdle) { continue }
            let ci = claimant.resolve(&c, &s, key, g)
            var count = old.deliveryCount
            if retryCount >= 0 {
                count = UInt64(bitPattern: Int64(retryCount))
            } else if !justID {
                count += 1
            }
            try c.setPending(&s, group: g, id, consumer: ci, deliveryTime: deliveryTime, deliveryCount: count)
            changed = true
            if justID {
                body.writeStreamID(id)
            } else {
                try c.streamEntries(s, id, id) { id, raw in StreamCommands.writeEntry(&body, id, raw) }
            }
            n += 1
        }
        if changed || claimant.index != nil { try c.saveStream(key, s, signal: false) }
        c.out.writeArrayHeader(n)
        c.out.writeImmutableBuffer(body)
    }

    static func xautoclaim(_ c: inout CommandContext) throws(CommandError) {
        var minIdle = try c.integer(4, or: CommandError("ERR Invalid min-idle-time argument for XAUTOCLAIM"))
        if minIdle < 0 { minIdle = 0 }
        let start = try StreamCommands.intervalBound(c, 5, start: true)
        var count = 100
        var justID = false
        var j = 6
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.argIs(j, "count") && more > 0 {
                let maxCount = Int.max / 16
                let countError = CommandError("ERR COUNT must be > 0")
                count = try c.integer(j + 1, or: countError)
                guard count >= 1 && count <= maxCount else { throw countError }
                j += 1
            } else if c.argIs(j, "justid") {
                justID = true
            } else {
                throw .syntax
            }
            j += 1
        }
        let key = c.arg(1)
        guard var s = try c.lookupStream(key), let g = s.meta.group(named: c.bytes(2)) else {
            throw StreamGroupCommands.noGroup(c)
        }
        let gid = s.meta.groups[g].id
        var attempts = count * 10
        let ids = try c.pendingIDs(s, gid: gid, start, limit: attempts + 1)
        var claimant = Claimant(name: c.bytes(3), index: nil)
        var body = ByteBuffer()
        var claimed = 0, next = 0
        var deleted: [StreamID] = []
        let now = c.now
        while attempts > 0 && count > 0 && next < ids.count {
            attempts -= 1
            let id = ids[next]
            next += 1
            guard try c.streamEntryExists(s, id) else {
                _ = try c.removePending(&s, group: g, id)
                deleted.append(id)
                count -= 1
                continue
            }
            guard let p = try c.pending(s, group: gid, id) else { continue }
            if minIdle != 0 && now - p.deliveryTime < Int64(minIdle) { continue }
            let ci = claimant.resolve(&c, &s, key, g)
            try c.setPending(&s, group: g, id, consumer: ci, deliveryTime: now,
                             deliveryCount: justID ? p.deliveryCount : p.deliveryCount + 1)
            if justID {
                body.writeStreamID(id)
            } else {
                try c.streamEntries(s, id, id) { id, raw in StreamCommands.writeEntry(&body, id, raw) }
            }
            claimed += 1
            count -= 1
        }
        if claimed > 0 || !deleted.isEmpty || claimant.index != nil { try c.saveStream(key, s, signal: false) }
        c.out.writeArrayHeader(3)
        c.out.writeStreamID(next < ids.count ? ids[next] : .zero)
        c.out.writeArrayHeader(claimed)
        c.out.writeImmutableBuffer(body)
        c.out.writeArrayHeader(deleted.count)
        for id in deleted { c.out.writeStreamID(id) }
    }
}
