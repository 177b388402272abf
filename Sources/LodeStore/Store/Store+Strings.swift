import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Where a string longer than one chunk keeps its bytes (docs/storage.md, "Large
/// strings"): chunk `i` holds bytes `[i * chunkSize, (i + 1) * chunkSize)` as the
/// element `version · 0x00 · i u64`. A chunk that is absent, or shorter than its
/// span, reads as zero bytes, so SETBIT far past the end of a bitmap writes one
/// chunk, not the zeros before it.
public struct StringChunks: Equatable, Sendable {
    public var version: UInt64
    public var length: Int
    /// Kept per value, so that a change of `string-chunk-size` leaves stored values readable.
    public var chunkSize: Int

    /// The metadata payload: `version u64 | length u64 | chunk size u32`.
    static let encodedLength = 20

    init(version: UInt64, length: Int, chunkSize: Int) {
        self.version = version
        self.length = length
        self.chunkSize = chunkSize
    }

    init?(_ payload: ByteBuffer) {
        guard payload.readableBytes >= Self.encodedLength,
              let v = payload.getInteger(at: payload.readerIndex, as: UInt64.self),
              let n = payload.getInteger(at: payload.readerIndex + 8, as: UInt64.self),
              let s = payload.getInteger(at: payload.readerIndex + 16, as: UInt32.self), s > 0, n <= Int.max else { return nil }
        self.init(version: v, length: Int(n), chunkSize: Int(s))
    }

    func encoded() -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(Self.encodedLength)
        b.writeInteger(version)
        b.writeInteger(UInt64(length))
        b.writeInteger(UInt32(chunkSize))
        return b
    }

    /// How many bytes chunk `i` spans in a string of `length` bytes.
    func span(_ i: Int, length: Int) -> Int { max(0, min(chunkSize, length - i * chunkSize)) }
}

extension Record {
    /// A chunked string's metadata record.
    init(expireAt: Int64, chunks: StringChunks) {
        self.init(type: .string, expireAt: expireAt, value: chunks.encoded())
        isChunked = true
    }

    /// Where a chunked string's bytes are, or nil for a value stored whole.
    public var chunks: StringChunks? { isChunked ? StringChunks(value) : nil }

    /// A string's length in bytes, without reading a chunked one.
    public var stringLength: Int { chunks?.length ?? value.readableBytes }

    /// The version whose elements this record owns (a collection's or a chunked
    /// string's), 0 for none: what is discarded when the record is replaced or deleted.
    public var elementsVersion: UInt64 {
        if type == .string { return isChunked ? chunks?.version ?? 0 : 0 }
        return collection?.version ?? 0
    }
}

extension Store {
    /// Zero bytes to hand out for chunks that are not stored.
    private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

    /// The bytes of a string record. Every reader of a whole string value outside the
    /// string commands' own range paths goes through here, so a chunked value reads the
    /// same as one stored whole.
    public func stringValue(_ record: Record) throws -> ByteBuffer {
        guard let chunks = record.chunks else { return record.value }
        var out = allocator.buffer(capacity: chunks.length)
        try readString(record, 0..<chunks.length) { out.writeBytes($0); return true }
        return out
    }

    /// Visits the bytes `range` of a string (clamped to its length) in order, in
    /// pieces valid only inside `visit`, which returns false to stop: straight from the
    /// database pages, so a GET of a chunked value is copied once, into the reply.
    public func readString(_ record: Record, _ range: Range<Int>, _ visit: (UnsafeRawBufferPointer) -> Bool) throws {
        do {
            try Self.readString(record.isChunked ? try currentReadTxn() : nil, subkeysDB, record, range, visit)
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(error)
        }
    }

    /// `readString` over any transaction (the live store's, a snapshot's); a value
    /// stored whole needs none.
    static func readString(_ txn: LMDBTransaction?, _ subkeysDB: LMDBDatabase, _ record: Record, _ range: Range<Int>,
                           _ visit: (UnsafeRawBufferPointer) -> Bool) throws {
        guard let chunks = record.chunks, let txn else {
            let r = range.clamped(to: 0..<record.value.readableBytes)
            guard !r.isEmpty else { return }
            _ = record.value.withUnsafeReadableBytes { visit(UnsafeRawBufferPointer(rebasing: $0[r])) }
            return
        }
        let r = range.clamped(to: 0..<chunks.length)
        guard !r.isEmpty else { return }
        let cursor = try LMDBCursor(txn, subkeysDB)
        defer { cursor.close() }
        let size = chunks.chunkSize
        var positioned = try Self.chunkKey(chunks.version, r.lowerBound / size).withUnsafeBytes { try cursor.seek(atLeast: $0) }
        var pos = r.lowerBound
        while pos < r.upperBound {
            let i = pos / size, chunkStart = i * size
            let end = min(r.upperBound, chunkStart + size)
            // The chunk under the cursor, if it is chunk i of this string.
            var stored = 0
            if positioned {
                let index = cursor.withCurrent { k, _ in Self.chunkIndex(k, version: chunks.version) }
                if index == i {
                    var more = true
                    stored = cursor.withCurrent { _, v in
                        let from = pos - chunkStart, to = min(end - chunkStart, v.count)
                        if from < to { more = visit(UnsafeRawBufferPointer(rebasing: v[from..<to])) }
                        return max(0, to - from)
                    }
                    if !more { return }
                    positioned = try cursor.next()
                } else if index == nil {
                    positioned = false
                }
            }
            if !Self.visitZeros(end - pos - stored, visit) { return }
            pos = end
        }
    }

    /// Visits `count` zero bytes; false when `visit` asked to stop.
    private static func visitZeros(_ count: Int, _ visit: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        var left = count
        return zeros.withUnsafeBytes { z in
            while left > 0 {
                let n = min(left, z.count)
                guard visit(UnsafeRawBufferPointer(rebasing: z[0..<n])) else { return false }
                left -= n
            }
            return true
        }
    }

    /// Writes into the bytes `range` of a string (nil: a new one), which first grows
    /// with zero bytes to `range.upperBound` when shorter. `body` is given the range
    /// in pieces holding the current bytes, with each piece's offset in `range`.
    /// Returns the record to store with `put` (so notifications and WATCH hear of the
    /// write as of any other): a chunked value's chunks are written here, in the
    /// turn's transaction, touching only the chunks the range covers.
    public func updateString(_ record: Record?, range: Range<Int>,
                             _ body: (UnsafeMutableRawBufferPointer, Int) -> Void) throws -> Record {
        let expireAt = record?.expireAt ?? 0
        let oldLength = record?.stringLength ?? 0
        let length = max(oldLength, range.upperBound)
        var chunks: StringChunks
        if let existing = record?.chunks {
            chunks = existing
        } else {
            let old = record?.value ?? ByteBuffer()
            if length <= stringChunkSize {
                var bytes = allocator.buffer(capacity: length)
                bytes.writeImmutableBuffer(old)
                bytes.writeRepeatingByte(0, count: length - bytes.readableBytes)
                bytes.withUnsafeMutableReadableBytes { raw in
                    if !range.isEmpty { body(UnsafeMutableRawBufferPointer(rebasing: raw[range]), 0) }
                }
                return Record(type: .string, expireAt: expireAt, value: bytes)
            }
            // Grows past one chunk: the value moves into chunks first.
            chunks = StringChunks(version: newVersion(), length: old.readableBytes, chunkSize: stringChunkSize)
            try old.withUnsafeReadableBytes { try writeChunks(chunks, $0) }
        }
        chunks.length = length
        let size = chunks.chunkSize
        var buffer = [UInt8](repeating: 0, count: size)
        var pos = range.lowerBound
        while pos < range.upperBound {
            let i = pos / size, chunkStart = i * size
            let span = chunks.span(i, length: length)
            let end = min(range.upperBound, chunkStart + span)
            try readChunk(chunks, i, into: &buffer, span: span)
            buffer.withUnsafeMutableBytes { raw in
                body(UnsafeMutableRawBufferPointer(rebasing: raw[(pos - chunkStart)..<(end - chunkStart)]), pos - range.lowerBound)
            }
            try buffer.withUnsafeBytes { try putChunk(chunks.version, i, UnsafeRawBufferPointer(rebasing: $0[0..<span])) }
            pos = end
        }
        return Record(expireAt: expireAt, chunks: chunks)
    }

    /// A copy of a string for another key (COPY): a chunked value's chunks are
    /// copied under a new version, so the two never share elements.
    public func copyString(_ record: Record) throws -> Record {
        guard let source = record.chunks else { return record }
        var copy = source
        copy.version = newVersion()
        let count = (source.length + source.chunkSize - 1) / source.chunkSize
        var buffer = [UInt8](repeating: 0, count: source.chunkSize)
        for i in 0..<count {
            let span = source.span(i, length: source.length)
            guard try readChunk(source, i, into: &buffer, span: span) else { continue }
            try buffer.withUnsafeBytes { try putChunk(copy.version, i, UnsafeRawBufferPointer(rebasing: $0[0..<span])) }
        }
        return Record(expireAt: record.expireAt, chunks: copy)
    }

    /// `put`'s conversion of a whole value longer than one chunk into chunks under a
    /// new version.
    func chunked(_ record: Record) throws -> Record {
        let chunks = StringChunks(version: newVersion(), length: record.value.readableBytes, chunkSize: stringChunkSize)
        try record.value.withUnsafeReadableBytes { try writeChunks(chunks, $0) }
        return Record(expireAt: record.expireAt, chunks: chunks)
    }

    /// Writes `bytes` as the chunks of `chunks`, from chunk 0; chunks of zeros are left out.
    private func writeChunks(_ chunks: StringChunks, _ bytes: UnsafeRawBufferPointer) throws {
        var start = 0, i = 0
        while start < bytes.count {
            let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<min(bytes.count, start + chunks.chunkSize)])
            if !Self.allZero(piece) { try putChunk(chunks.version, i, piece) }
            start += chunks.chunkSize
            i += 1
        }
    }

    /// Fills `buffer[0..<span]` with chunk `i` (zeros where it is not stored); returns
    /// whether the chunk is stored.
    @discardableResult
    private func readChunk(_ chunks: StringChunks, _ i: Int, into buffer: inout [UInt8], span: Int) throws -> Bool {
        do {
            let txn = try currentReadTxn()
            return try Self.chunkKey(chunks.version, i).withUnsafeBytes { k in
                try txn.withValue(subkeysDB, key: k) { v in
                    buffer.withUnsafeMutableBytes { out in
                        let n = min(v?.count ?? 0, span)
                        if n > 0 { out.baseAddress!.copyMemory(from: v!.baseAddress!, byteCount: n) }
                        if n < span { memset(out.baseAddress! + n, 0, span - n) }
                    }
                    return v != nil
                }
            }
        } catch {
            throw fail(error)
        }
    }

    private func putChunk(_ version: UInt64, _ i: Int, _ bytes: UnsafeRawBufferPointer) throws {
        let txn = try beginWrite()
        let key = Self.chunkKey(version, i)
        do {
            try key.withUnsafeBytes { k in
                try txn.putReserved(subkeysDB, key: k, size: bytes.count) { out in
                    if bytes.count > 0 { out.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                }
            }
        } catch {
            throw fail(error)
        }
        writeCount += 1
        if logging {
            // Replayed as a list element: the sub-key is the chunk index.
            var sub = ByteBuffer()
            sub.writeInteger(UInt64(i))
            commitLog.append(.setElement(version: version, sub: sub, value: ByteBuffer(bytes: bytes), hashed: false))
        }
    }

    /// `version · 0x00 · index u64`: a list element's sub-key, so the commit log's
    /// setElement op replays a chunk.
    static func chunkKey(_ version: UInt64, _ index: Int) -> [UInt8] {
        var k: [UInt8] = []
        k.reserveCapacity(17)
        KeyEncoding.appendBigEndian(version, to: &k)
        k.append(KeyEncoding.shortTag)
        KeyEncoding.appendBigEndian(UInt64(index), to: &k)
        return k
    }

    /// The chunk index of an `elements` key, if it is a chunk of `version`.
    static func chunkIndex(_ k: UnsafeRawBufferPointer, version: UInt64) -> Int? {
        guard k.count == 17, KeyEncoding.readBigEndian(k, at: 0) == version else { return nil }
        return Int(truncatingIfNeeded: KeyEncoding.readBigEndian(k, at: 9))
    }

    static func allZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
            i += 8
        }
        while i < bytes.count {
            if bytes[i] != 0 { return false }
            i += 1
        }
        return true
    }
}
