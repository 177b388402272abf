import LodeRESP
import LodeStore
import NIOCore

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common
/// subsequence of two strings, by the dynamic-programming table Redis 7.0 builds
/// (t_string.c lcsCommand), walked back the same way so that ties pick the same
/// subsequence and IDX lists the same ranges, last match first.
extension StringCommands {
    static func lcs(_ c: inout CommandContext) throws(CommandError) {
        let a: [UInt8], b: [UInt8]
        do {
            a = try c.lookupString(c.arg(1)).map { r throws(CommandError) in Array(try c.stringValue(r).readableBytesView) } ?? []
            b = try c.lookupString(c.arg(2)).map { r throws(CommandError) in Array(try c.stringValue(r).readableBytesView) } ?? []
        } catch {
            throw error.text == CommandError.wrongType.text ? CommandError("ERR The specified keys must contain string values") : error
        }
        var getLen = false, getIdx = false, withMatchLen = false
        var minMatchLen = 0
        var j = 3
        while j < c.args.count {
            if c.argIs(j, "idx") {
                getIdx = true
            } else if c.argIs(j, "len") {
                getLen = true
            } else if c.argIs(j, "withmatchlen") {
                withMatchLen = true
            } else if c.argIs(j, "minmatchlen") && j + 1 < c.args.count {
                minMatchLen = max(0, try c.integer(j + 1))
                j += 1
            } else {
                throw .syntax
            }
            j += 1
        }
        if getLen && getIdx { throw CommandError("ERR If you want both the length and indexes, please just use IDX.") }
        if a.count >= Int(UInt32.max) - 1 || b.count >= Int(UInt32.max) - 1 { throw CommandError("ERR String too long for LCS") }
        let width = b.count + 1
        guard (a.count + 1) * width * 4 <= c.server.config.protoMaxBulkLength else {
            throw CommandError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        }
        // table[i * width + j]: the LCS length of a[0..<i] and b[0..<j].
        var table = [UInt32](repeating: 0, count: (a.count + 1) * width)
        for i in 1..<(a.count + 1) {
            for k in 1..<width {
                table[i * width + k] = a[i - 1] == b[k - 1]
                    ? table[(i - 1) * width + k - 1] + 1
                    : max(table[(i - 1) * width + k], table[i * width + k - 1])
            }
        }
        let length = Int(table[a.count * width + b.count])
        if getLen { return c.out.writeIntegerReply(length) }
        var result = [UInt8](repeating: 0, count: length)
        var ranges: [(a: (Int, Int), b: (Int, Int))] = []
        // The walk back from the table's corner, ranges of contiguous matches as Redis emits them.
        var i = a.count, k = b.count, idx = length
        var current: (aStart: Int, aEnd: Int, bStart: Int, bEnd: Int)? = nil
        while i > 0 && k > 0 {
            var emit = false
            if a[i - 1] == b[k - 1] {
                result[idx - 1] = a[i - 1]
                if let r = current {
                    if r.aStart == i && r.bStart == k {
                        current = (r.aStart - 1, r.aEnd, r.bStart - 1, r.bEnd)
                    } else {
                        emit = true
                    }
                } else {
                    current = (i - 1, i - 1, k - 1, k - 1)
                }
                if let r = current, r.aStart == 0 || r.bStart == 0 { emit = true }
                idx -= 1; i -= 1; k -= 1
            } else {
                if table[(i - 1) * width + k] > table[i * width + k - 1] { i -= 1 } else { k -= 1 }
                if current != nil { emit = true }
            }
            if emit, let r = current {
                if minMatchLen == 0 || r.aEnd - r.aStart + 1 >= minMatchLen {
                    ranges.append(((r.aStart, r.aEnd), (r.bStart, r.bEnd)))
                }
                current = nil
            }
        }
        guard getIdx else { return c.out.writeBulk(bytes: result) }
        c.out.writeMapHeader(2, c.resp)
        c.out.writeBulk(string: "matches")
        c.out.writeArrayHeader(ranges.count)
        for r in ranges {
            c.out.writeArrayHeader(withMatchLen ? 3 : 2)
            for (start, end) in [r.a, r.b] {
                c.out.writeArrayHeader(2)
                c.out.writeIntegerReply(start)
                c.out.writeIntegerReply(end)
            }
            if withMatchLen { c.out.writeIntegerReply(r.a.1 - r.a.0 + 1) }
        }
        c.out.writeBulk(string: "len")
        c.out.writeIntegerReply(length)
    }
}
