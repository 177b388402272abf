import LodeRESP
import NIOCore

/// Redis keeps a stream as a radix tree of listpack nodes, and the nodes show:
/// `MAXLEN ~`/`MINID ~` and LIMIT remove whole nodes only, and XINFO counts them.
/// Lode stores entries one per record but keeps, per node, what those rules need
/// (a node record: its live and deleted counts, its listpack's size, its last ID
/// and master fields), so approximate trimming removes exactly the entries
/// Redis removes. The size is listpack.c's arithmetic, not an estimate.
struct StreamNode {
    var master: StreamID
    var valid: Int
    var deleted: Int
    /// The listpack's bytes except the two counters (whose width changes with them).
    var bodyBytes: Int
    var lastID: StreamID
    var fields: [[UInt8]]

    /// lpBytes of the node's listpack.
    var listpackBytes: Int { bodyBytes + Listpack.integerSize(Int64(valid)) + Listpack.integerSize(Int64(deleted)) }

    var encoded: ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt64(valid))
        b.writeInteger(UInt64(deleted))
        b.writeInteger(UInt64(bodyBytes))
        b.writeInteger(lastID.ms)
        b.writeInteger(lastID.seq)
        b.writeInteger(UInt32(fields.count))
        for f in fields {
            b.writeInteger(UInt32(f.count))
            b.writeBytes(f)
        }
        return b
    }

    init(master: StreamID, fields: [[UInt8]]) {
        self.master = master
        valid = 0
        deleted = 0
        lastID = master
        self.fields = fields
        // Header (6) and end byte, the master entry: field count, fields, terminator.
        bodyBytes = 7 + Listpack.integerSize(Int64(fields.count)) + Listpack.integerSize(0)
        for f in fields { bodyBytes += Listpack.elementSize(f) }
    }

    init?(master: StreamID, _ v: UnsafeRawBufferPointer) {
        guard v.count >= 44 else { return nil }
        self.master = master
        valid = Int(be64(v, at: 0))
        deleted = Int(be64(v, at: 8))
        bodyBytes = Int(be64(v, at: 16))
        lastID = StreamID(v, at: 24)
        let n = Int(be32(v, at: 40))
        var o = 44
        fields = []
        for _ in 0..<n {
            guard o + 4 <= v.count else { return nil }
            let len = Int(be32(v, at: o))
            guard o + 4 + len <= v.count else { return nil }
            fields.append(Array(v[(o + 4)..<(o + 4 + len)]))
            o += 4 + len
        }
    }

    /// Whether an entry with these fields shares the master entry's (SAMEFIELDS).
    func sameFields(_ entryFields: [ArraySlice<UInt8>]) -> Bool {
        entryFields.count == fields.count && zip(entryFields, fields).allSatisfy { $0.elementsEqual($1) }
    }

    /// Accounts for one appended entry (streamAppendItem's listpack writes).
    mutating func append(_ id: StreamID, fields entryFields: [ArraySlice<UInt8>], values: [ArraySlice<UInt8>]) {
        let same = sameFields(entryFields)
        let n = entryFields.count
        var bytes = Listpack.integerSize(same ? 2 : 0)
            + Listpack.integerSize(Int64(bitPattern: id.ms &- master.ms))
            + Listpack.integerSize(Int64(bitPattern: id.seq &- master.seq))
        if !same {
            bytes += Listpack.integerSize(Int64(n))
            for f in entryFields { bytes += Listpack.elementSize(f) }
        }
        for v in values { bytes += Listpack.elementSize(v) }
        bytes += Listpack.integerSize(Int64(n + 3 + (same ? 0 : n + 1)))
        bodyBytes += bytes
        valid += 1
        lastID = id
    }
}

/// Sizes of listpack elements (listpack.c's lpEncodeGetType and lpEncodeBacklen).
enum Listpack {
    static func integerSize(_ v: Int64) -> Int {
        let enc: Int
        switch v {
        case 0...127: enc = 1
        case -4096...4095: enc = 2
        case -32768...32767: enc = 3
        case -8_388_608...8_388_607: enc = 4
        case -2_147_483_648...2_147_483_647: enc = 5
        default: enc = 9
        }
        return enc + 1
    }

    static func backlenSize(_ l: Int) -> Int {
        l <= 127 ? 1 : l < 16383 ? 2 : l < 2_097_151 ? 3 : l < 268_435_455 ? 4 : 5
    }

    /// A string element: stored as an integer when it reads as one (lpStringToInt64).
    static func elementSize<C: Swift.Collection>(_ s: C) -> Int where C.Element == UInt8 {
        let bytes = Array(s)
        if bytes.count < 21 {
            let b = ByteBuffer(bytes: bytes)
            if let v = parseInteger(b, at: b.readerIndex, length: b.readableBytes) { return integerSize(Int64(v)) }
        }
        let n = bytes.count
        let enc = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n
        return enc + backlenSize(enc)
    }
}
