import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The metadata payload of a collection record (docs/storage.md):
/// `version u64 | size u64`, lists add `head u64 | tail u64`.
public struct CollectionMeta: Equatable {
    public var version: UInt64
    public var size: Int
    public var head: UInt64 = 1 << 63
    public var tail: UInt64 = 1 << 63

    public init(version: UInt64, size: Int) {
        self.version = version
        self.size = size
    }

    func encoded(list: Bool) -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(list ? 32 : 16)
        b.writeInteger(version)
        b.writeInteger(UInt64(size))
        if list {
            b.writeInteger(head)
            b.writeInteger(tail)
        }
        return b
    }
}

extension Record {
    /// A collection's metadata record.
    public init(type: ValueType, expireAt: Int64, meta: CollectionMeta) {
        self.init(type: type, expireAt: expireAt, value: meta.encoded(list: type == .list))
    }

    /// The collection metadata, for non-string records.
    public var collection: CollectionMeta? {
        guard type != .string, value.readableBytes >= 16 else { return nil }
        var m = CollectionMeta(version: value.getInteger(at: value.readerIndex, as: UInt64.self)!,
                               size: Int(value.getInteger(at: value.readerIndex + 8, as: UInt64.self)!))
        if type == .list, value.readableBytes >= 32 {
            m.head = value.getInteger(at: value.readerIndex + 16, as: UInt64.self)!
            m.tail = value.getInteger(at: value.readerIndex + 24, as: UInt64.self)!
        }
        return m
    }
}

extension KeyEncoding {
    /// The version whose elements a stored record owns: a collection's or a chunked
    /// string's; 0 for a string stored whole.
    static func collectionVersion(_ raw: UnsafeRawBufferPointer, _ h: RecordHeader) -> UInt64 {
        guard let t = h.type, t != .string || h.chunked, raw.count >= h.payloadStart + 8 else { return 0 }
        return readBigEndian(raw, at: h.payloadStart)
    }

    /// Sub-key of an element: `version u64 · [hash] · 0x00 · sub` when short; long
    /// ones as `version · [hash] · 0x01 · first 448 bytes · FNV-1a-64 · seq u16`
    /// with the full element name at the start of the value (`u32 length · name ·
    /// value`). The hash (format 2) orders the elements of hashes, sets and sorted
    /// sets for HSCAN/SSCAN/ZSCAN cursors; list elements keep their index order.
    @inline(__always)
    static func elementTagOffset(hashed: Bool) -> Int { hashed ? 8 + KeyHash.byteCount : 8 }

    /// An element's name and value from its sub-key and stored value: a short name
    /// follows the tag, a long one leads the value.
    static func elementParts(_ k: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer,
                             tagOffset tag: Int) -> (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if k[tag] == shortTag { return (UnsafeRawBufferPointer(rebasing: k[(tag + 1)...]), v) }
        let n = Int(readBigEndian32(v, at: 0))
        return (UnsafeRawBufferPointer(rebasing: v[4..<(4 + n)]), UnsafeRawBufferPointer(rebasing: v[(4 + n)...]))
    }
}

extension Store {
    /// A new collection version: unique across the environment and increasing, so
    /// the sub-keys of a deleted collection can never be reached by a new one.
    public func newVersion() -> UInt64 {
        let candidate = UInt64(currentTimeMicros()) << 11
        lastVersion = max(candidate, lastVersion + 1)
        return lastVersion
    }

    /// Hands a dead collection's elements to the background sweeper (O(1) now).
    func discard(_ txn: LMDBTransaction, version: UInt64) throws {
        var k: [UInt8] = []
        KeyEncoding.appendBigEndian(version, to: &k)
        try k.withUnsafeBytes { try txn.put(garbageDB, key: $0, value: UnsafeRawBufferPointer(start: nil, count: 0)) }
        garbagePending = true
    }

    /// Locates an element's sub-key: fills `out`, returns whether it exists.
    func locateElement(_ txn: LMDBTransaction, version: UInt64, _ sub: ByteBuffer, hashed: Bool,
                       into out: inout [UInt8]) throws -> Bool {
        out.removeAll(keepingCapacity: true)
        KeyEncoding.appendBigEndian(version, to: &out)
        if hashed { sub.withUnsafeReadableBytes { KeyHash.append(KeyHash.of($0), to: &out) } }
        if sub.readableBytes <= KeyEncoding.maxInlineKeyLength {
            out.append(0)
            sub.withUnsafeReadableBytes { out.append(contentsOf: $0) }
            return try out.withUnsafeBytes { k in try txn.withValue(subkeysDB, key: k) { $0 != nil } }
        }
        out.append(1)
        sub.withUnsafeReadableBytes { raw in
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<KeyEncoding.longKeyPrefixLength]))
            KeyEncoding.appendBigEndian(KeyEncoding.fnv1a64(raw), to: &out)
        }
        let chain = out.count
        let cursor = try LMDBCursor(txn, subkeysDB)
        var positioned = try out.withUnsafeBytes { try cursor.seek(atLeast: $0) }
        var next: UInt16 = 0
        while positioned {
            let step: (stop: Bool, match: Bool, seq: UInt16) = cursor.withCurrent { k, v in
                guard k.count == chain + 2,
                    out.withUnsafeBytes({ memcmp($0.baseAddress!, k.baseAddress!, chain) == 0 }) else { return (true, false, 0) }
                let seq = UInt16(k[chain]) << 8 | UInt16(k[chain + 1])
                guard v.count >= 4 else { return (false, false, seq) }
                let n = Int(KeyEncoding.readBigEndian32(v, at: 0))
                let same = v.count >= 4 + n
                    && sub.withUnsafeReadableBytes { u in u.count == n && memcmp(u.baseAddress!, v.baseAddress! + 4, n) == 0 }
                return (false, same, seq)
            }
            if step.stop { break }
            if step.match {
                out.append(UInt8(step.seq >> 8)); out.append(UInt8(step.seq & 0xFF))
                return true
            }
            next = step.seq &+ 1
            positioned = try cursor.next()
        }
        out.append(UInt8(next >> 8)); out.append(UInt8(next & 0xFF))
        return false
    }

    /// Elements live in the hot cache too, under a namespace no user database
    /// uses (physical database 255) and a key of `version · name`: hot elements
    /// of a large collection are served from memory like hot keys.
    static let elementNamespace: UInt8 = 255

    private func elementCacheKey(_ version: UInt64, _ sub: ByteBuffer) -> ByteBuffer {
        var k = ByteBuffer()
        k.reserveCapacity(8 + sub.readableBytes)
        k.writeInteger(version)
        k.writeImmutableBuffer(sub)
        return k
    }

    /// An element's value, or nil. `hashed`: the collection is a hash, set or sorted
    /// set (elements in hash order), not a list (in index order).
    public func element(version: UInt64, _ sub: ByteBuffer, hashed: Bool) throws -> ByteBuffer? {
        let ck = elementCacheKey(version, sub)
        if let hit = cache.get(db: Self.elementNamespace, key: ck) { return hit.value }
        let value = try elementFromDisk(version: version, sub, hashed: hashed && hashedLayout)
        if let value { cache.put(db: Self.elementNamespace, key: ck, Record(value: value)) }
        return value
    }

    private func elementFromDisk(version: UInt64, _ sub: ByteBuffer, hashed: Bool) throws -> ByteBuffer? {
        do {
            let txn = try currentReadTxn()
            var k: [UInt8] = []
            guard try locateElement(txn, version: version, sub, hashed: hashed, into: &k) else { return nil }
            let long = sub.readableBytes > KeyEncoding.maxInlineKeyLength
            return try k.withUnsafeBytes { key in
                try txn.withValue(subkeysDB, key: key) { v -> ByteBuffer? in
                    guard let v else { return nil }
                    let start = long ? 4 + Int(KeyEncoding.readBigEndian32(v, at: 0)) : 0
                    return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: v[start...]))
                }
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(error)
        }
    }

    /// Sets an element; returns true when it is new.
    @discardableResult
    public func setElement(version: UInt64, _ sub: ByteBuffer, value: ByteBuffer, hashed: Bool) throws -> Bool {
        let txn = try beginWrite()
        var k: [UInt8] = []
        let existed: Bool
        do {
            existed = try locateElement(txn, version: version, sub, hashed: hashed && hashedLayout, into: &k)
            let long = sub.readableBytes > KeyEncoding.maxInlineKeyLength
            let size = (long ? 4 + sub.readableBytes : 0) + value.readableBytes
            try k.withUnsafeBytes { key in
                try txn.putReserved(subkeysDB, key: key, size: size) { out in
                    var o = 0
                    if long {
                        withUnsafeBytes(of: UInt32(sub.readableBytes).bigEndian) {
                            out.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 4)
                        }
                        sub.withUnsafeReadableBytes {
                            out.baseAddress!.advanced(by: 4).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
                        }
                        o = 4 + sub.readableBytes
                    }
                    value.withUnsafeReadableBytes { v in
                        if v.count > 0 { out.baseAddress!.advanced(by: o).copyMemory(from: v.baseAddress!, byteCount: v.count) }
                    }
                }
            }
        } catch {
            throw fail(error)
        }
        writeCount += 1
        if logging { commitLog.append(.setElement(version: version, sub: sub, value: value, hashed: hashed)) }
        cache.put(db: Self.elementNamespace, key: elementCacheKey(version, sub), Record(value: value))
        return !existed
    }

    /// Removes an element; returns whether it existed.
    @discardableResult
    public func removeElement(version: UInt64, _ sub: ByteBuffer, hashed: Bool) throws -> Bool {
        let txn = try beginWrite()
        var k: [UInt8] = []
        do {
            guard try locateElement(txn, version: version, sub, hashed: hashed && hashedLayout, into: &k) else { return false }
            try k.withUnsafeBytes { _ = try txn.delete(subkeysDB, key: $0) }
        } catch {
            throw fail(error)
        }
        writeCount += 1
        if logging { commitLog.append(.removeElement(version: version, sub: sub, hashed: hashed)) }
        cache.remove(db: Self.elementNamespace, key: elementCacheKey(version, sub))
        return true
    }

    /// Visits the elements of a collection in sub-key order, starting after the
    /// opaque position `after` (nil = first); `visit` returns false to stop.
    /// Returns the position of the last visited element when stopped early or
    /// when `limit` elements were visited and more remain, else nil.
    public func elements(version: UInt64, hashed: Bool, after: [UInt8]? = nil, limit: Int = Int.max,
                         _ visit: (_ name: ByteBuffer, _ value: ByteBuffer) -> Bool) throws -> [UInt8]? {
        try elementsRaw(version: version, hashed: hashed, after: after, limit: limit) { n, v in
            visit(ByteBuffer(bytes: n), ByteBuffer(bytes: v))
        }
    }

    /// `elements` without copies: the bytes are valid only inside `visit` (for
    /// replies written straight from the database pages, e.g. LRANGE).
    public func elementsRaw(version: UInt64, hashed: Bool, after: [UInt8]? = nil, limit: Int = Int.max,
                            _ visit: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool) throws -> [UInt8]? {
        do {
            return try Self.walkElements(try currentReadTxn(), subkeysDB, version: version,
                                         tag: KeyEncoding.elementTagOffset(hashed: hashed && hashedLayout),
                                         after: after, limit: limit, visit)
        } catch {
            throw StoreError(error)
        }
    }

    /// `elementsRaw` over any transaction: the live store's and a snapshot's (StoreSnapshot).
    static func walkElements(_ txn: LMDBTransaction, _ subkeysDB: LMDBDatabase, version: UInt64, tag: Int,
                             after: [UInt8]?, limit: Int,
                             _ visit: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool) throws -> [UInt8]? {
        let cursor = try LMDBCursor(txn, subkeysDB)
        let versionBE = version.bigEndian
        func inCollection(_ k: UnsafeRawBufferPointer) -> Bool {
            k.count > tag && k.loadUnaligned(as: UInt64.self) == versionBE
        }
        var positioned: Bool
        if let after {
            positioned = try after.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            if positioned, cursor.withCurrent({ k, _ in k.elementsEqual(after) }) { positioned = try cursor.next() }
        } else {
            var prefix: [UInt8] = []
            KeyEncoding.appendBigEndian(version, to: &prefix)
            positioned = try prefix.withUnsafeBytes { try cursor.seek(atLeast: $0) }
        }
        var seen = 0
        while positioned {
            var member = true
            let go: Bool = cursor.withCurrent { k, v in
                guard inCollection(k) else { member = false; return false }
                let (name, value) = KeyEncoding.elementParts(k, v, tagOffset: tag)
                return visit(name, value)
            }
            if !member { return nil }
            seen += 1
            if !go || seen >= limit {
                let position = cursor.withCurrent { k, _ in Array(k) }
                if !go { return position }
                return try cursor.next() && cursor.withCurrent({ k, _ in inCollection(k) }) ? position : nil
            }
            positioned = try cursor.next()
        }
        return nil
    }

    /// The position just before element `name` of a list (short names only), for
    /// `elements(version:hashed: false, after:)` to start at `name`.
    public func position(before name: ByteBuffer, version: UInt64) -> [UInt8] {
        var k: [UInt8] = []
        KeyEncoding.appendBigEndian(version, to: &k)
        k.append(0)
        name.withUnsafeReadableBytes { k.append(contentsOf: $0) }
        // The greatest key below `k`: drop a trailing zero byte, or decrement and pad.
        if k.last == 0 { k.removeLast() } else {
            k[k.count - 1] -= 1
            k.append(contentsOf: [UInt8](repeating: 0xFF, count: 16))
        }
        return k
    }

    /// One step of HSCAN/SSCAN/ZSCAN over a hash, set or sorted set: as `scan`, the
    /// elements from position `cursor` of the hash order on, at least `count` of
    /// them when that many remain and the rest of the boundary hash's group; returns
    /// the hash to resume at, 0 when done.
    public func scanElements(version: UInt64, cursor: UInt64, count: Int,
                             _ visit: (_ name: ByteBuffer, _ value: ByteBuffer) -> Void) throws -> UInt64 {
        var prefix: [UInt8] = []
        KeyEncoding.appendBigEndian(version, to: &prefix)
        let tag = KeyEncoding.elementTagOffset(hashed: true)
        return try scanHashOrder(subkeysDB, prefix: prefix, cursor: cursor, count: count) { k, v in
            let (name, value) = KeyEncoding.elementParts(k, v, tagOffset: tag)
            visit(ByteBuffer(bytes: name), ByteBuffer(bytes: value))
        }
    }

    /// Number of element entries stored (all collections, including garbage).
    public func elementEntryCount() throws -> Int {
        try currentReadTxn().entryCount(subkeysDB)
    }
}

extension KeyEncoding {
    static func readBigEndian32(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 4)])) }
        return UInt32(bigEndian: v)
    }
}

// MARK: sorted-set score index

extension KeyEncoding {
    /// Doubles as big-endian bytes that sort like the numbers: flip every bit of
    /// a negative value, only the sign bit of a non-negative one.
    static func encodeScore(_ d: Double) -> UInt64 {
        let bits = (d == 0 ? 0.0 : d).bitPattern  // -0 sorts as 0
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    static func decodeScore(_ u: UInt64) -> Double {
        Double(bitPattern: u & (1 << 63) != 0 ? u & ~(1 << 63) : ~u)
    }

    /// Index key: `version · enc(score) · member`, or for a member longer than
    /// 480 bytes its first 480 bytes and FNV-1a-64 (the full member is the value).
    static func appendScoreKey(version: UInt64, score: Double, member: ByteBuffer, to out: inout [UInt8]) {
        appendBigEndian(version, to: &out)
        appendBigEndian(encodeScore(score), to: &out)
        member.withUnsafeReadableBytes { raw in
            if raw.count <= maxInlineKeyLength {
                out.append(contentsOf: raw)
            } else {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<maxInlineKeyLength]))
                appendBigEndian(fnv1a64(raw), to: &out)
            }
        }
    }
}

extension Store {
    public func scoreIndexPut(version: UInt64, score: Double, member: ByteBuffer) throws {
        let txn = try beginWrite()
        var k: [UInt8] = []
        KeyEncoding.appendScoreKey(version: version, score: score, member: member, to: &k)
        do {
            let long = member.readableBytes > KeyEncoding.maxInlineKeyLength
            try k.withUnsafeBytes { key in
                try member.withUnsafeReadableBytes { m in
                    try txn.put(zscoresDB, key: key, value: long ? m : UnsafeRawBufferPointer(start: nil, count: 0))
                }
            }
        } catch {
            throw fail(error)
        }
        writeCount += 1
        if logging { commitLog.append(.scoreIndex(version: version, score: score, member: member, present: true)) }
    }

    public func scoreIndexDelete(version: UInt64, score: Double, member: ByteBuffer) throws {
        let txn = try beginWrite()
        var k: [UInt8] = []
        KeyEncoding.appendScoreKey(version: version, score: score, member: member, to: &k)
        do {
            try k.withUnsafeBytes { _ = try txn.delete(zscoresDB, key: $0) }
        } catch {
            throw fail(error)
        }
        writeCount += 1
        if logging { commitLog.append(.scoreIndex(version: version, score: score, member: member, present: false)) }
    }

    /// Walks the score index of a sorted set in (score, member) order — or the
    /// reverse — starting at the first entry ≥ (or, reversed, ≤) `from`.
    public func scoreIndexWalk(version: UInt64, from: (score: Double, member: ByteBuffer)? = nil, reverse: Bool = false,
                               _ visit: (_ score: Double, _ member: ByteBuffer) -> Bool) throws {
        do {
            let txn = try currentReadTxn()
            let cursor = try LMDBCursor(txn, zscoresDB)
            var prefix: [UInt8] = []
            KeyEncoding.appendBigEndian(version, to: &prefix)
            var start = prefix
            var positioned: Bool
            if let from {
                start = []
                KeyEncoding.appendScoreKey(version: version, score: from.score, member: from.member, to: &start)
            } else if reverse {
                start = []
                KeyEncoding.appendBigEndian(version &+ 1, to: &start)
            }
            positioned = try start.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            if reverse {
                // Step back to the last entry ≤ start.
                if !positioned {
                    positioned = try cursor.last()
                } else if cursor.withCurrent({ k, _ in !k.elementsEqual(start) }) {
                    positioned = try cursor.previous()
                }
            }
            while positioned {
                let go: Bool = cursor.withCurrent { k, v in
                    guard k.count >= 16, k.starts(with: prefix) else { return false }
                    let score = KeyEncoding.decodeScore(KeyEncoding.readBigEndian(k, at: 8))
                    let member = v.count > 0 ? ByteBuffer(bytes: v) : ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: k[16...]))
                    return visit(score, member)
                }
                if !go { return }
                positioned = reverse ? try cursor.previous() : try cursor.next()
            }
        } catch {
            throw StoreError(error)
        }
    }
}
