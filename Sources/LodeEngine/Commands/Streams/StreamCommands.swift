import LodeRESP
import LodeStore
import NIOCore

/// Streams as Redis 7.0's t_stream.c: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM
/// and XSETID here; reads (XREAD, XREADGROUP), consumer groups and XINFO beside.
/// Arguments are checked in Redis's order, so a bad request gets Redis's error.
enum StreamCommands {
    /// Handlers by command name ("xgroup|create" for a subcommand); the metadata
    /// (arity, flags, keys, docs) comes from Redis's own data (LodeCommandSpec).
    static let handlers: [String: CommandHandler] = [
        "xadd": xadd,
        "xrange": { (c: inout CommandContext) throws(CommandError) in try xrange(&c, reverse: false) },
        "xrevrange": { (c: inout CommandContext) throws(CommandError) in try xrange(&c, reverse: true) },
        "xlen": xlen,
        "xdel": xdel,
        "xtrim": xtrim,
        "xsetid": xsetid,
        "xread": { (c: inout CommandContext) throws(CommandError) in try StreamReadCommands.xread(&c, group: false) },
        "xreadgroup": { (c: inout CommandContext) throws(CommandError) in try StreamReadCommands.xread(&c, group: true) },
    ]

    // MARK: XADD and XTRIM

    /// streamParseAddOrTrimArgsOrReply: the trimming options (and, for XADD,
    /// NOMKSTREAM and the ID); returns the index of the ID (XADD).
    static func parseAddOrTrim(_ c: inout CommandContext, xadd: Bool, trim: inout StreamTrim, noMkStream: inout Bool,
                               id: inout (StreamID, seqGiven: Bool)?) throws(CommandError) -> Int {
        var i = 2
        var limitGiven = false
        let incompatible = CommandError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
        while i < c.args.count {
            let more = c.args.count - 1 - i
            if xadd && c.bytes(i) == [UInt8(ascii: "*")] { break }
            if (c.argIs(i, "maxlen") || c.argIs(i, "minid")) && more > 0 {
                let maxlen = c.argIs(i, "maxlen")
                if case .none = trim.strategy {} else { throw incompatible }
                trim.approximate = false
                let next = c.bytes(i + 1)
                if more >= 2 && next == [UInt8(ascii: "~")] {
                    trim.approximate = true
                    i += 1
                } else if more >= 2 && next == [UInt8(ascii: "=")] {
                    i += 1
                }
                if maxlen {
                    let n = try c.integer(i + 1)
                    guard n >= 0 else { throw CommandError("ERR The MAXLEN argument must be >= 0.") }
                    trim.strategy = .maxlen(n)
                } else {
                    trim.strategy = .minid(try StreamID.parse(c.bytes(i + 1), strict: true).id)
                }
                i += 1
            } else if c.argIs(i, "limit") && more > 0 {
                let n = try c.integer(i + 1)
                guard n >= 0 else { throw CommandError("ERR The LIMIT argument must be >= 0.") }
                trim.limit = n
                limitGiven = true
                i += 1
            } else if xadd && c.argIs(i, "nomkstream") {
                noMkStream = true
            } else if xadd {
                let parsed = try StreamID.parse(c.bytes(i), strict: true, allowAutoSeq: true)
                id = (parsed.id, parsed.seqGiven)
                break
            } else {
                throw .syntax
            }
            i += 1
        }
        let noStrategy: Bool
        if case .none = trim.strategy { noStrategy = true } else { noStrategy = false }
        if trim.limit > 0 && noStrategy {
            throw CommandError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
        }
        if !xadd && noStrategy { throw CommandError("ERR syntax error, XTRIM must be called with a trimming strategy") }
        if limitGiven {
            guard trim.approximate else { throw CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option") }
        } else if trim.approximate {
            trim.limit = 100 * c.server.config.streamNodeMaxEntries
            if trim.limit <= 0 { trim.limit = 10000 }
            if trim.limit > 1_000_000 { trim.limit = 1_000_000 }
        } else {
            trim.limit = 0
        }
        return i
    }

    static func xadd(_ c: inout CommandContext) throws(CommandError) {
        var trim = StreamTrim(), noMkStream = false
        var given: (StreamID, seqGiven: Bool)? = nil
        let idPos = try parseAddOrTrim(&c, xadd: true, trim: &trim, noMkStream: &noMkStream, id: &given)
        let fieldPos = idPos + 1
        let pairs = c.args.count - fieldPos
        guard pairs >= 2 && pairs % 2 == 0 else { throw .wrongArity(c.command.fullName) }
        if let g = given, g.seqGiven, g.0.isZero {
            throw CommandError("ERR The ID specified in XADD must be greater than 0-0")
        }
        let key = c.arg(1)
        var s: StreamValue
        if let existing = try c.lookupStream(key) {
            s = existing
        } else {
            if noMkStream { return c.out.writeNull(c.resp) }
            s = c.newStream()
            try c.saveStream(key, s)  // the key exists (a `new` event) before the entry is added, as in Redis
        }
        if s.meta.lastID == .max {
            throw CommandError("ERR The stream has exhausted the last possible ID, unable to add more items")
        }
        let tooSmall = CommandError("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        var id: StreamID
        if let g = given {
            let use = g.0
            if g.seqGiven {
                id = use
            } else if s.meta.lastID.ms == use.ms {
                guard let next = s.meta.lastID.incremented, s.meta.lastID.seq != .max else { throw tooSmall }
                id = next
            } else {
                id = use
            }
        } else {
            // streamNextID: the clock, or the last ID's successor when the clock is behind.
            let now = UInt64(max(0, currentTimeMillis()))
            id = now > s.meta.lastID.ms ? StreamID(ms: now, seq: 0) : (s.meta.lastID.incremented ?? .zero)
        }
        guard id > s.meta.lastID else { throw tooSmall }
        let total = c.args[fieldPos...].reduce(0) { $0 + $1.readableBytes }
        if total > CommandContext.streamListpackMaxSize { throw CommandError("ERR Elements are too large to be stored") }
        try c.appendStreamEntry(&s, id, c.args[fieldPos...])
        c.out.writeStreamID(id)
        c.notify(.stream, "xadd", key)
        if try c.trimStream(&s, trim) > 0 { c.notify(.stream, "xtrim", key) }
        try c.saveStream(key, s)
    }

    static func xtrim(_ c: inout CommandContext) throws(CommandError) {
        var trim = StreamTrim(), noMkStream = false
        var given: (StreamID, seqGiven: Bool)? = nil
        _ = try parseAddOrTrim(&c, xadd: false, trim: &trim, noMkStream: &noMkStream, id: &given)
        let key = c.arg(1)
        guard var s = try c.lookupStream(key) else { return c.out.writeIntegerReply(0) }
        let deleted = try c.trimStream(&s, trim)
        if deleted > 0 {
            c.notify(.stream, "xtrim", key)
            try c.saveStream(key, s)
        }
        c.out.writeIntegerReply(deleted)
    }

    // MARK: reads of a range

    /// Writes one entry as `[id, [field, value, ...]]`.
    static func writeEntry(_ b: inout ByteBuffer, _ id: StreamID, _ raw: UnsafeRawBufferPointer) {
        b.writeArrayHeader(2)
        b.writeStreamID(id)
        b.writeArrayHeader(StreamKeys.fieldCount(raw))
        StreamKeys.decodeFields(raw) { b.writeBulk(bytes: $0) }
    }

    /// The entries of `start...end` (at most `count`, 0 = all) as a reply array in `out`.
    static func writeRange(_ c: CommandContext, _ s: StreamValue, _ start: StreamID, _ end: StreamID,
                           reverse: Bool = false, count: Int = 0, into out: inout ByteBuffer) throws(CommandError) {
        var body = ByteBuffer()
        var n = 0
        try c.streamEntries(s, start, end, reverse: reverse, count: count) { id, raw in
            writeEntry(&body, id, raw)
            n += 1
        }
        out.writeArrayHeader(n)
        out.writeImmutableBuffer(body)
    }

    /// An interval's start (exclusive `(` moves it up) or end (moves it down).
    static func intervalBound(_ c: CommandContext, _ i: Int, start: Bool) throws(CommandError) -> StreamID {
        let (id, exclusive) = try StreamID.parseInterval(c.bytes(i), missingSeq: start ? 0 : .max)
        guard exclusive else { return id }
        if start {
            guard let next = id.incremented else { throw CommandError("ERR invalid start ID for the interval") }
            return next
        }
        guard let previous = id.decremented else { throw CommandError("ERR invalid end ID for the interval") }
        return previous
    }

    static func xrange(_ c: inout CommandContext, reverse: Bool) throws(CommandError) {
        let start = try intervalBound(c, reverse ? 3 : 2, start: true)
        let end = try intervalBound(c, reverse ? 2 : 3, start: false)
        var count = -1
        var j = 4
        while j < c.args.count {
            guard c.argIs(j, "count") && j + 1 < c.args.count else { throw .syntax }
            count = max(0, try c.integer(j + 1))
            j += 2
        }
        guard let s = try c.lookupStream(c.arg(1)) else { return c.out.writeArrayHeader(0) }
        if count == 0 { return c.out.writeNullArray(c.resp) }
        try writeRange(c, s, start, end, reverse: reverse, count: max(0, count), into: &c.out)
    }

    static func xlen(_ c: inout CommandContext) throws(CommandError) {
        c.out.writeIntegerReply(try c.lookupStream(c.arg(1))?.meta.length ?? 0)
    }

    // MARK: deletion and IDs

    static func xdel(_ c: inout CommandContext) throws(CommandError) {
        let key = c.arg(1)
        guard var s = try c.lookupStream(key) else { return c.out.writeIntegerReply(0) }
        var ids: [StreamID] = []
        for j in 2..<c.args.count { ids.append(try StreamID.parse(c.bytes(j), strict: true).id) }
        var deleted = 0, firstDeleted = false
        for id in ids where try c.deleteStreamEntry(&s, id) {
            if id == s.meta.firstID { firstDeleted = true }
            if id > s.meta.maxDeletedID { s.meta.maxDeletedID = id }
            deleted += 1
        }
        if deleted > 0 {
            if s.meta.length == 0 {
                s.meta.firstID = .zero
            } else if firstDeleted {
                s.meta.firstID = try c.streamEdge(s, last: false) ?? .zero
            }
            try c.saveStream(key, s)
            c.notify(.stream, "xdel", key)
        }
        c.out.writeIntegerReply(deleted)
    }

    static func xsetid(_ c: inout CommandContext) throws(CommandError) {
        let id = try StreamID.parse(c.bytes(2), strict: true).id
        var entriesAdded = -1
        var maxDeleted = StreamID.zero
        var i = 3
        while i < c.args.count {
            let more = c.args.count - 1 - i
            if c.argIs(i, "entriesadded") && more > 0 {
                entriesAdded = try c.integer(i + 1)
                guard entriesAdded >= 0 else { throw CommandError("ERR entries_added must be positive") }
            } else if c.argIs(i, "maxdeletedid") && more > 0 {
                maxDeleted = try StreamID.parse(c.bytes(i + 1), strict: true).id
                guard id >= maxDeleted else {
                    throw CommandError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
                }
            } else {
                throw .syntax
            }
            i += 2
        }
        let key = c.arg(1)
        guard var s = try c.lookupStream(key) else { throw .noSuchKey }
        if s.meta.length > 0 {
            if let top = try c.streamEdge(s, last: true), id < top {
                throw CommandError("ERR The ID specified in XSETID is smaller than the target stream top item")
            }
            if entriesAdded != -1 && s.meta.length > entriesAdded {
                throw CommandError("ERR The entries_added specified in XSETID is smaller than the target stream length")
            }
        }
        s.meta.lastID = id
        if entriesAdded != -1 { s.meta.entriesAdded = UInt64(entriesAdded) }
        if !maxDeleted.isZero { s.meta.maxDeletedID = maxDeleted }
        try c.saveStream(key, s, signal: false)
        c.out.writeOK()
        c.notify(.stream, "xsetid", key)
    }
}
