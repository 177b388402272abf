import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Identifies a user key in the cache: physical database + key bytes.
public struct CacheKey: Hashable {
    public var db: UInt8
    public var key: ByteBuffer
    public init(db: UInt8, key: ByteBuffer) {
        self.db = db
        self.key = key
    }
}

/// The in-memory hot tier: a byte-bounded map of clean copies of records.
///
/// Entries are always clean (the store writes through to LMDB together with the
/// cache), so eviction only drops memory, never data. Eviction is CLOCK (second
/// chance): a hit sets a reference bit; the hand clears bits and evicts the first
/// entry found unreferenced. A later issue replaces it with a scan-resistant
/// policy; the interface stays.
///
/// The index is an open-addressing table of (32-bit hash tag, slot) pairs rather
/// than a Swift Dictionary: a probe compares key bytes only when the stored tag
/// matches, where Dictionary compares every key on the probe path (it profiled
/// as the largest cost of a cached GET).
public final class HotCache {
    struct Slot {
        var key: ByteBuffer
        var record: Record
        var cost: Int
        var hash: UInt64
        var db: UInt8
        var referenced: Bool
        var live: Bool
    }

    /// Per-entry memory besides the key and value bytes: the slot (~90 bytes), its
    /// share of the index (~16), the buffer object and malloc headers (~80).
    public static let entryOverhead = 192

    public private(set) var capacity: Int
    public private(set) var usedBytes = 0
    public private(set) var hits = 0
    public private(set) var misses = 0
    public private(set) var evictions = 0
    public private(set) var count = 0

    private var slots: [Slot] = []
    private var freeSlots: [Int32] = []
    /// (tag << 32) | (slot + 1); 0 = empty. Linear probing, backward-shift delete.
    private var table: [UInt64]
    private var mask: Int
    private var hand = 0
    private let seed = UInt64.random(in: 1...UInt64.max)

    public init(capacity: Int) {
        self.capacity = capacity
        table = [UInt64](repeating: 0, count: 1024)
        mask = 1023
    }

    public func setCapacity(_ bytes: Int) {
        capacity = bytes
        evictIfNeeded()
    }

    // MARK: hashing

    @inline(__always)
    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let r = a.multipliedFullWidth(by: b)
        return r.high ^ r.low
    }

    /// A fast keyed 64-bit hash over the key bytes (wyhash-style multiply-mix).
    @inline(__always)
    func hash(db: UInt8, _ key: ByteBuffer) -> UInt64 {
        key.withUnsafeReadableBytes { raw -> UInt64 in
            var h = seed ^ (UInt64(db) &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(raw.count)
            var i = 0
            let n = raw.count
            while i + 8 <= n {
                h = Self.mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self), 0xA076_1D64_78BD_642F)
                i += 8
            }
            if i < n {
                var tail: UInt64 = 0
                withUnsafeMutableBytes(of: &tail) { t in
                    t.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[i..<n]))
                }
                h = Self.mix(h ^ tail, 0xE703_7ED1_A0B4_28DB)
            }
            return Self.mix(h, 0x8EBC_6AF0_9C88_C6E3)
        }
    }

    @inline(__always)
    private static func equal(_ a: ByteBuffer, _ b: ByteBuffer) -> Bool {
        let n = a.readableBytes
        guard n == b.readableBytes else { return false }
        return a.withUnsafeReadableBytes { x in
            b.withUnsafeReadableBytes { y in n == 0 || memcmp(x.baseAddress!, y.baseAddress!, n) == 0 }
        }
    }

    /// The table position holding `key`, or nil.
    @inline(__always)
    private func find(db: UInt8, _ key: ByteBuffer, hash h: UInt64) -> Int? {
        let tag = h >> 32
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = table[i]
            if e == 0 { return nil }
            if e >> 32 == tag {
                let s = Int(e & 0xFFFF_FFFF) - 1
                if slots[s].db == db && Self.equal(slots[s].key, key) { return i }
            }
            i = (i + 1) & mask
        }
    }

    // MARK: API

    public func get(_ key: CacheKey) -> Record? { get(db: key.db, key: key.key) }

    public func get(db: UInt8, key: ByteBuffer) -> Record? {
        guard let pos = find(db: db, key, hash: hash(db: db, key)) else {
            misses += 1
            return nil
        }
        hits += 1
        let s = Int(table[pos] & 0xFFFF_FFFF) - 1
        slots[s].referenced = true
        return slots[s].record
    }

    /// The cached record without counting a hit or touching the reference bit
    /// (for the store's own bookkeeping).
    public func peek(db: UInt8, key: ByteBuffer) -> Record? {
        guard let pos = find(db: db, key, hash: hash(db: db, key)) else { return nil }
        return slots[Int(table[pos] & 0xFFFF_FFFF) - 1].record
    }

    public func put(_ key: CacheKey, _ record: Record) { put(db: key.db, key: key.key, record) }

    /// Inserts or replaces. The key and value are copied into one owned buffer
    /// (key bytes then value bytes): one allocation per entry, and the entry never
    /// pins a network read buffer.
    public func put(db: UInt8, key: ByteBuffer, _ record: Record) {
        let cost = Self.entryOverhead + key.readableBytes + record.value.readableBytes
        let h = hash(db: db, key)
        if cost > capacity / 2 {
            // A value this large would flush most of the cache for one key.
            remove(db: db, key: key, hash: h)
            return
        }
        var storage = ByteBufferAllocator().buffer(capacity: key.readableBytes + record.value.readableBytes)
        storage.writeImmutableBuffer(key)
        storage.writeImmutableBuffer(record.value)
        let ownedKey = storage.getSlice(at: 0, length: key.readableBytes)!
        var owned = record
        owned.value = storage.getSlice(at: key.readableBytes, length: record.value.readableBytes)!
        if let pos = find(db: db, key, hash: h) {
            let s = Int(table[pos] & 0xFFFF_FFFF) - 1
            usedBytes += cost - slots[s].cost
            slots[s].key = ownedKey
            slots[s].record = owned
            slots[s].cost = cost
            slots[s].referenced = true
        } else {
            let slot = Slot(key: ownedKey, record: owned, cost: cost, hash: h, db: db, referenced: false, live: true)
            let s: Int
            if let free = freeSlots.popLast() {
                s = Int(free)
                slots[s] = slot
            } else {
                slots.append(slot)
                s = slots.count - 1
            }
            count += 1
            if count * 4 > table.count * 3 { grow() }
            insertIndex(hash: h, slot: s)
            usedBytes += cost
        }
        evictIfNeeded()
    }

    public func remove(_ key: CacheKey) { remove(db: key.db, key: key.key, hash: hash(db: key.db, key.key)) }

    public func remove(db: UInt8, key: ByteBuffer) { remove(db: db, key: key, hash: hash(db: db, key)) }

    private func remove(db: UInt8, key: ByteBuffer, hash h: UInt64) {
        guard let pos = find(db: db, key, hash: h) else { return }
        let s = Int(table[pos] & 0xFFFF_FFFF) - 1
        deleteIndex(at: pos)
        release(s)
    }

    public func removeAll(db: UInt8) {
        for s in slots.indices where slots[s].live && slots[s].db == db {
            if let pos = find(db: db, slots[s].key, hash: slots[s].hash) { deleteIndex(at: pos) }
            release(s)
        }
    }

    public func removeAll() {
        slots.removeAll()
        freeSlots.removeAll()
        table = [UInt64](repeating: 0, count: 1024)
        mask = 1023
        usedBytes = 0
        count = 0
        hand = 0
    }

    // MARK: internals

    private func insertIndex(hash h: UInt64, slot: Int) {
        var i = Int(truncatingIfNeeded: h) & mask
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = (h >> 32) << 32 | UInt64(slot + 1)
    }

    /// Backward-shift deletion keeps every probe chain unbroken without tombstones.
    private func deleteIndex(at position: Int) {
        var hole = position
        var i = (position + 1) & mask
        while table[i] != 0 {
            let s = Int(table[i] & 0xFFFF_FFFF) - 1
            let home = Int(truncatingIfNeeded: slots[s].hash) & mask
            // Move the entry into the hole if its home is not in (hole, i].
            let distanceToHole = (i - home) & mask
            let distanceToHere = (i - hole) & mask
            if distanceToHole >= distanceToHere {
                table[hole] = table[i]
                hole = i
            }
            i = (i + 1) & mask
        }
        table[hole] = 0
    }

    private func grow() {
        let old = table
        table = [UInt64](repeating: 0, count: old.count * 2)
        mask = table.count - 1
        for e in old where e != 0 {
            let s = Int(e & 0xFFFF_FFFF) - 1
            insertIndex(hash: slots[s].hash, slot: s)
        }
    }

    private func release(_ s: Int) {
        usedBytes -= slots[s].cost
        count -= 1
        slots[s].live = false
        slots[s].record.value = ByteBuffer()
        slots[s].key = ByteBuffer()
        freeSlots.append(Int32(s))
    }

    private func evictIfNeeded() {
        while usedBytes > capacity && count > 0 {
            if hand >= slots.count { hand = 0 }
            if slots[hand].live {
                if slots[hand].referenced {
                    slots[hand].referenced = false
                } else {
                    if let pos = find(db: slots[hand].db, slots[hand].key, hash: slots[hand].hash) { deleteIndex(at: pos) }
                    release(hand)
                    evictions += 1
                }
            }
            hand += 1
        }
    }
}
