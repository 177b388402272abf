import LodeRESP
import LodeStore
import NIOCore

/// Consumer groups' bookkeeping: consumers, the pending entries lists (one
/// record per pending entry in the group's list and one in its consumer's),
/// entries-read and lag (t_stream.c's streamReplyWithRange with a group,
/// streamEstimateDistanceFromFirstEverEntry, streamReplyWithCGLag).
extension CommandContext {
    /// The consumer, its seen-time refreshed, or a new one (`xgroup-createconsumer`).
    func lookupOrCreateConsumer(_ s: inout StreamValue, _ key: ByteBuffer, group g: Int, _ name: [UInt8]) -> Int {
        if let i = s.meta.groups[g].consumer(named: name) {
            s.meta.groups[g].consumers[i].seenTime = now
            return i
        }
        let i = s.meta.groups[g].addConsumer(name, now: now)
        notify(.stream, "xgroup-createconsumer", key)
        return i
    }

    func pending(_ s: StreamValue, group gid: UInt32, _ id: StreamID) throws(CommandError) -> PendingEntry? {
        guard let v = try streamElement(s, StreamKeys.groupPEL(gid, id)) else { return nil }
        return v.withUnsafeReadableBytes { PendingEntry($0) }
    }

    /// Adds or updates a pending entry, moving it to consumer `ci`.
    func setPending(_ s: inout StreamValue, group g: Int, _ id: StreamID, consumer ci: Int,
                    deliveryTime: Int64, deliveryCount: UInt64) throws(CommandError) {
        let gid = s.meta.groups[g].id
        let cid = s.meta.groups[g].consumers[ci].id
        if let old = try pending(s, group: gid, id) {
            if old.consumer != cid {
                try removeStreamElement(s, StreamKeys.consumerPEL(gid, old.consumer, id))
                if let oi = s.meta.groups[g].consumers.firstIndex(where: { $0.id == old.consumer }) {
                    s.meta.groups[g].consumers[oi].pelCount -= 1
                }
                try setStreamElement(s, StreamKeys.consumerPEL(gid, cid, id), ByteBuffer())
                s.meta.groups[g].consumers[ci].pelCount += 1
            }
        } else {
            try setStreamElement(s, StreamKeys.consumerPEL(gid, cid, id), ByteBuffer())
            s.meta.groups[g].consumers[ci].pelCount += 1
            s.meta.groups[g].pelCount += 1
        }
        let entry = PendingEntry(consumer: cid, deliveryTime: deliveryTime, deliveryCount: deliveryCount)
        try setStreamElement(s, StreamKeys.groupPEL(gid, id), entry.encoded)
    }

    /// Removes a pending entry from the group and its consumer; false if none.
    func removePending(_ s: inout StreamValue, group g: Int, _ id: StreamID) throws(CommandError) -> Bool {
        let gid = s.meta.groups[g].id
        guard let old = try pending(s, group: gid, id) else { return false }
        try removeStreamElement(s, StreamKeys.groupPEL(gid, id))
        try removeStreamElement(s, StreamKeys.consumerPEL(gid, old.consumer, id))
        if let oi = s.meta.groups[g].consumers.firstIndex(where: { $0.id == old.consumer }) {
            s.meta.groups[g].consumers[oi].pelCount -= 1
        }
        s.meta.groups[g].pelCount -= 1
        return true
    }

    /// The IDs of a group's pending entries in `start...end` (the group's list, or
    /// consumer `cid`'s), at most `limit` (0 = all).
    func pendingIDs(_ s: StreamValue, gid: UInt32, consumer cid: UInt32? = nil, _ start: StreamID = .zero,
                    _ end: StreamID = .max, limit: Int = 0) throws(CommandError) -> [StreamID] {
        guard start <= end else { return [] }
        var ids: [StreamID] = []
        let from = cid.map { StreamKeys.consumerPEL(gid, $0, start) } ?? StreamKeys.groupPEL(gid, start)
        let through = cid.map { StreamKeys.consumerPEL(gid, $0, end) } ?? StreamKeys.groupPEL(gid, end)
        let offset = cid == nil ? 5 : 9
        try walkStream(s, from: from, through: through) { n, _ in
            ids.append(StreamID(n, at: offset))
            return limit == 0 || ids.count < limit
        }
        return ids
    }

    func consumerName(_ g: StreamGroup, _ cid: UInt32) -> [UInt8] {
        g.consumers.first { $0.id == cid }?.name ?? []
    }

    // MARK: delivery

    /// XREADGROUP `>`: entries from `start` on go to the consumer (pending unless
    /// NOACK), moving the group's last-delivered ID and entries-read.
    func deliverNew(_ s: inout StreamValue, group g: Int, consumer ci: Int, from start: StreamID, count: Int,
                    noack: Bool, into out: inout ByteBuffer) throws(CommandError) {
        var body = ByteBuffer()
        var ids: [StreamID] = []
        try streamEntries(s, start, .max, count: count) { id, raw in
            StreamCommands.writeEntry(&body, id, raw)
            ids.append(id)
        }
        for id in ids {
            if id > s.meta.groups[g].lastID {
                let read = s.meta.groups[g].entriesRead
                if read != StreamMeta.invalidEntriesRead && !s.meta.rangeHasTombstones(from: id) {
                    s.meta.groups[g].entriesRead = read + 1
                } else if s.meta.entriesAdded > 0 {
                    s.meta.groups[g].entriesRead = s.meta.estimateDistanceFromFirstEverEntry(id)
                }
                s.meta.groups[g].lastID = id
            }
            if !noack { try setPending(&s, group: g, id, consumer: ci, deliveryTime: now, deliveryCount: 1) }
        }
        out.writeArrayHeader(ids.count)
        out.writeImmutableBuffer(body)
    }

    /// XREADGROUP with an ID: the consumer's pending entries from `start` on, a
    /// deleted entry as `[id, nil]`; each one served counts as a delivery.
    func replyFromConsumerPEL(_ s: inout StreamValue, group g: Int, consumer ci: Int, from start: StreamID, count: Int,
                              into out: inout ByteBuffer) throws(CommandError) {
        let gid = s.meta.groups[g].id
        let ids = try pendingIDs(s, gid: gid, consumer: s.meta.groups[g].consumers[ci].id, start, limit: count)
        out.writeArrayHeader(ids.count)
        for id in ids {
            var found = false
            try streamEntries(s, id, id) { id, raw in
                StreamCommands.writeEntry(&out, id, raw)
                found = true
            }
            if found, var p = try pending(s, group: gid, id) {
                p.deliveryTime = now
                p.deliveryCount += 1
                try setStreamElement(s, StreamKeys.groupPEL(gid, id), p.encoded)
            } else if !found {
                out.writeArrayHeader(2)
                out.writeStreamID(id)
                out.writeNullArray(resp)
            }
        }
    }

    /// A group's lag, or null when it cannot be known (streamReplyWithCGLag).
    func writeLag(_ out: inout ByteBuffer, _ m: StreamMeta, _ g: StreamGroup) {
        if m.entriesAdded == 0 { return out.writeIntegerReply(0) }
        if g.entriesRead != StreamMeta.invalidEntriesRead && !m.rangeHasTombstones(from: g.lastID) {
            return out.writeIntegerReply(Int(Int64(bitPattern: m.entriesAdded) - g.entriesRead))
        }
        let read = m.estimateDistanceFromFirstEverEntry(g.lastID)
        if read != StreamMeta.invalidEntriesRead { return out.writeIntegerReply(Int(Int64(bitPattern: m.entriesAdded) - read)) }
        out.writeNull(resp)
    }
}

extension StreamMeta {
    static let invalidEntriesRead: Int64 = -1

    /// streamRangeHasTombstones(s, start, NULL).
    func rangeHasTombstones(from start: StreamID) -> Bool {
        if length == 0 || maxDeletedID.isZero { return false }
        if firstID > maxDeletedID { return false }
        return start <= maxDeletedID
    }

    /// streamEstimateDistanceFromFirstEverEntry.
    func estimateDistanceFromFirstEverEntry(_ id: StreamID) -> Int64 {
        if entriesAdded == 0 { return 0 }
        let added = Int64(bitPattern: entriesAdded)
        if length == 0 && id <= lastID { return added }
        if id == lastID { return added }
        if id > lastID { return Self.invalidEntriesRead }
        if maxDeletedID.isZero || maxDeletedID < firstID {
            if id < firstID { return added - Int64(length) }
            if id == firstID { return added - Int64(length) + 1 }
        }
        return Self.invalidEntriesRead
    }
}
