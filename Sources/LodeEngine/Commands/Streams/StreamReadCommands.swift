import LodeRESP
import LodeStore
import NIOCore

/// XREAD and XREADGROUP (xreadCommand), blocking like the list commands: a client
/// that finds nothing waits on its keys and the command is run again when one
/// changes. `$` is replaced by the stream's last ID when the client blocks, so
/// the retry asks for what was added after that moment, as Redis remembers it.
enum StreamReadCommands {
    /// Redis's count for a blocked read without COUNT (XREAD_BLOCKED_DEFAULT_COUNT).
    static let blockedDefaultCount = 1000

    static func xread(_ c: inout CommandContext, group isGroupRead: Bool) throws(CommandError) {
        var timeout: Int64? = nil, blocks = false
        var count = 0, noack = false
        var streamsArg = 0, streamsCount = 0
        var groupName: [UInt8]? = nil, consumerName: [UInt8]? = nil
        var i = 1
        while i < c.args.count {
            let more = c.args.count - i - 1
            if c.argIs(i, "block") && more > 0 {
                if c.fromScript {
                    throw CommandError("ERR \(c.cstring(0)) command is not allowed with BLOCK option from scripts")
                }
                i += 1
                let ms = try c.integer(i, or: CommandError("ERR timeout is not an integer or out of range"))
                guard ms >= 0 else { throw CommandError("ERR timeout is negative") }
                blocks = true
                timeout = ms > 0 ? c.now.addingReportingOverflow(Int64(ms)).partialValue : nil
            } else if c.argIs(i, "count") && more > 0 {
                i += 1
                count = max(0, try c.integer(i))
            } else if c.argIs(i, "streams") && more > 0 {
                streamsArg = i + 1
                streamsCount = c.args.count - streamsArg
                guard streamsCount % 2 == 0 else {
                    throw CommandError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
                }
                streamsCount /= 2
                break
            } else if c.argIs(i, "group") && more >= 2 {
                guard isGroupRead else {
                    throw CommandError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
                }
                groupName = c.bytes(i + 1)
                consumerName = c.bytes(i + 2)
                i += 2
            } else if c.argIs(i, "noack") {
                guard isGroupRead else {
                    throw CommandError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
                }
                noack = true
            } else {
                throw .syntax
            }
            i += 1
        }
        guard streamsArg > 0 else { throw .syntax }
        if isGroupRead && groupName == nil { throw CommandError("ERR Missing GROUP option for XREADGROUP") }
        if c.isBlockedRetry && count == 0 { count = blockedDefaultCount }

        // The IDs, and the streams (looked up once; nil when absent).
        var groups: [Int] = []
        var ids: [StreamID] = []  // StreamID.max stands for ">"
        var dollarIDs: [(Int, StreamID)] = []
        for k in 0..<streamsCount {
            let keyIndex = streamsArg + k, idIndex = streamsArg + streamsCount + k
            let s = try c.lookupStream(c.arg(keyIndex), read: true)
            if let groupName {
                // A waiting XREADGROUP whose stream was deleted or replaced ends
                // (unblockDeletedStreamReadgroupClients), as does one whose group went.
                if c.isBlockedRetry && s == nil { throw CommandError("UNBLOCKED the stream key no longer exists") }
                guard let s, let g = s.meta.group(named: groupName) else {
                    if c.isBlockedRetry {
                        throw CommandError("NOGROUP the consumer group this client was blocked on no longer exists")
                    }
                    throw CommandError("NOGROUP No such key '\(c.cstring(keyIndex))' or consumer group "
                                       + "'\(String(decoding: groupName.prefix { $0 != 0 }, as: UTF8.self))' "
                                       + "in XREADGROUP with GROUP option")
                }
                groups.append(g)
            }
            let idArg = c.bytes(idIndex)
            if idArg == [UInt8(ascii: "$")] {
                if isGroupRead {
                    throw CommandError("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history "
                                       + "of this consumer by specifying a proper ID, or use the > ID to get new messages. "
                                       + "The $ ID would just return an empty result set.")
                }
                let last = s?.meta.lastID ?? .zero
                ids.append(last)
                dollarIDs.append((idIndex, last))
            } else if idArg == [UInt8(ascii: ">")] {
                guard isGroupRead else {
                    throw CommandError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                                       + "<consumer> option.")
                }
                ids.append(.max)
            } else {
                ids.append(try StreamID.parse(idArg, strict: true).id)
            }
        }

        var body = ByteBuffer()
        var served = 0
        for k in 0..<streamsCount {
            // Looked up again, as xreadCommand does (its hits, misses and keymiss events).
            let key = c.arg(streamsArg + k)
            guard var s = try c.lookupStream(key, read: true) else { continue }
            var gt = ids[k]
            var history = false, serve = false
            if isGroupRead {
                if gt != .max {
                    serve = true
                    history = true
                } else if s.meta.length > 0, let top = try c.streamEdge(s, last: true), top > s.meta.groups[groups[k]].lastID {
                    serve = true
                    gt = s.meta.groups[groups[k]].lastID
                }
            } else if s.meta.length > 0, let top = try c.streamEdge(s, last: true), top > gt {
                serve = true
            }
            guard serve else { continue }
            served += 1
            if c.resp == .resp2 { body.writeArrayHeader(2) }
            body.writeBulk(key)
            let start = gt.incremented ?? .zero
            guard let consumerName else {
                try StreamCommands.writeRange(c, s, start, .max, count: count, into: &body)
                continue
            }
            let g = groups[k]
            let consumer = c.lookupOrCreateConsumer(&s, key, group: g, consumerName)
            if history {
                try c.replyFromConsumerPEL(&s, group: g, consumer: consumer, from: start, count: count, into: &body)
            } else {
                try c.deliverNew(&s, group: g, consumer: consumer, from: start, count: count, noack: noack, into: &body)
            }
            try c.saveStream(key, s, signal: false)
        }
        if served > 0 {
            if c.resp == .resp2 { c.out.writeArrayHeader(served) } else { c.out.writeMapHeader(served, c.resp) }
            c.out.writeImmutableBuffer(body)
            return
        }
        guard blocks else { return c.out.writeNullArray(c.resp) }
        // The retry must ask for what comes after the IDs `$` stood for now.
        for (index, id) in dollarIDs { c.args[index] = ByteBuffer(string: id.text) }
        c.block(on: (0..<streamsCount).map { c.arg(streamsArg + $0) }, deadline: timeout)
    }
}
