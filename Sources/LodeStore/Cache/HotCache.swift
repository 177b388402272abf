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

/// How the hot cache chooses what to drop.
public enum EvictionPolicy: String, Sendable, CaseIterable {
    /// S3-FIFO (Yang et al., SOSP '23): a small FIFO that new keys enter, a main
    /// FIFO for keys seen again, and a ghost list of recently dropped keys. Keys
    /// read once (a scan) leave from the small queue without disturbing the main
    /// one; a 2-bit frequency gives popular keys further rounds in main.
    case s3fifo
    /// Least recently used: every hit moves the key to the front.
    case lru
}

/// The in-memory hot tier: a byte-bounded map of clean copies of records.
///
/// Entries are always clean (the store writes through to LMDB together with the
/// cache), so eviction only drops memory, never data, and costs no disk write.
///
/// The index is an open-addressing table of (32-bit hash tag, slot) pairs rather
/// than a Swift Dictionary: a probe compares key bytes only when the stored tag
/// matches, where Dictionary compares every key on the probe path (it profiled
/// as the largest cost of a cached GET). Queues are intrusive doubly-linked lists
/// through the slot array, so no operation allocates except a new entry's buffer.
public final class HotCache {
    struct Slot {
        var key: ByteBuffer
        var record: Record
        var cost: Int
        var hash: UInt64
        var prev: Int32
        var next: Int32
        var lastAccess: UInt32
        var db: UInt8
        var queue: UInt8  // 0 = small, 1 = main (S3-FIFO); LRU uses main only
        var freq: UInt8
        var live: Bool
    }

    /// One FIFO/LRU list threaded through the slots: head = newest.
    struct List {
        var head: Int32 = -1
        var tail: Int32 = -1
        var bytes = 0
        var count = 0
    }

    /// Per-entry memory besides the key and value bytes, measured: 500,000 entries
    /// of 16 + 64 bytes grew RssAnon by 330 bytes each. The slot (~100 bytes, plus
    /// array growth slack), its share of the index (~16), the buffer object and
    /// malloc headers (~90).
    public static let entryOverhead = 256
    /// S3-FIFO's small queue holds this share of the bytes.
    static let smallShare = 10

    public let policy: EvictionPolicy
    public private(set) var capacity: Int
    public private(set) var usedBytes = 0
    public private(set) var hits = 0
    public private(set) var misses = 0
    public private(set) var evictions = 0
    public private(set) var count = 0
    /// Seconds, set by the store from the command clock (for IDLETIME).
    public var clock: UInt32 = 0

    private var slots: [Slot] = []
    private var freeSlots: [Int32] = []
    /// (tag << 32) | (slot + 1); 0 = empty. Linear probing, backward-shift delete.
    private var table: [UInt64]
    private var mask: Int
    private let seed = UInt64.random(in: 1...UInt64.max)
    private var small = List()
    private var main = List()
    /// S3-FIFO ghost: hashes of keys recently dropped from the small queue.
    private var ghost = Set<UInt64>()
    private var ghostOrder: [UInt64] = []
    private var ghostHead = 0

    public init(capacity: Int, policy: EvictionPolicy = .s3fifo) {
        self.capacity = capacity
        self.policy = policy
        table = [UInt64](repeating: 0, count: 1024)
        mask = 1023
    }

    /// CONFIG RESETSTAT.
    public func resetStats() {
        hits = 0
        misses = 0
        evictions = 0
    }

    public func setCapacity(_ bytes: Int) {
        capacity = bytes
        evictIfNeeded()
    }

    public var ghostCount: Int { ghost.count }

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

    @inline(__always)
    private func slotIndex(at position: Int) -> Int { Int(table[position] & 0xFFFF_FFFF) - 1 }

    // MARK: API

    public func get(_ key: CacheKey) -> Record? { get(db: key.db, key: key.key) }

    public func get(db: UInt8, key: ByteBuffer) -> Record? {
        guard let pos = find(db: db, key, hash: hash(db: db, key)) else {
            misses += 1
            return nil
        }
        hits += 1
        let s = slotIndex(at: pos)
        touch(s)
        return slots[s].record
    }

    /// The cached record without counting a hit or changing the policy's state
    /// (for the store's own bookkeeping).
    public func peek(db: UInt8, key: ByteBuffer) -> Record? {
        guard let pos = find(db: db, key, hash: hash(db: db, key)) else { return nil }
        return slots[slotIndex(at: pos)].record
    }

    /// What OBJECT FREQ / IDLETIME report for a cached key.
    public func stats(db: UInt8, key: ByteBuffer) -> (freq: Int, idleSeconds: Int)? {
        guard let pos = find(db: db, key, hash: hash(db: db, key)) else { return nil }
        let s = slots[slotIndex(at: pos)]
        return (Int(s.freq), Int(clock &- s.lastAccess))
    }

    public func put(_ key: CacheKey, _ record: Record) { put(db: key.db, key: key.key, record) }

    /// Inserts or replaces. The key and value are copied into one owned buffer
    /// (key bytes then value bytes): one allocation per entry, and the entry never
    /// pins a network read buffer.
    public func put(db: UInt8, key: ByteBuffer, _ record: Record) {
        let cost = Self.entryOverhead + key.readableBytes + record.value.readableBytes
        let h = hash(db: db, key)
        if cost > capacity / 4 {
            // A value this large would flush much of the cache for one key.
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
            let s = slotIndex(at: pos)
            let delta = cost - slots[s].cost
            usedBytes += delta
            if slots[s].queue == 0 { small.bytes += delta } else { main.bytes += delta }
            slots[s].key = ownedKey
            slots[s].record = owned
            slots[s].cost = cost
            touch(s)
        } else {
            var slot = Slot(key: ownedKey, record: owned, cost: cost, hash: h, prev: -1, next: -1,
                            lastAccess: clock, db: db, queue: 0, freq: 0, live: true)
            // S3-FIFO: a key dropped recently from the small queue goes straight to main.
            if policy == .lru || ghost.contains(h) { slot.queue = 1 }
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
            if slot.queue == 0 { pushHead(&small, s) } else { pushHead(&main, s) }
        }
        evictIfNeeded()
    }

    public func remove(_ key: CacheKey) { remove(db: key.db, key: key.key, hash: hash(db: key.db, key.key)) }

    public func remove(db: UInt8, key: ByteBuffer) { remove(db: db, key: key, hash: hash(db: db, key)) }

    private func remove(db: UInt8, key: ByteBuffer, hash h: UInt64) {
        guard let pos = find(db: db, key, hash: h) else { return }
        let s = slotIndex(at: pos)
        deleteIndex(at: pos)
        unlinkAndRelease(s)
    }

    public func removeAll(db: UInt8) {
        for s in slots.indices where slots[s].live && slots[s].db == db {
            if let pos = find(db: db, slots[s].key, hash: slots[s].hash) { deleteIndex(at: pos) }
            unlinkAndRelease(s)
        }
    }

    public func removeAll() {
        slots.removeAll()
        freeSlots.removeAll()
        table = [UInt64](repeating: 0, count: 1024)
        mask = 1023
        usedBytes = 0
        count = 0
        small = List()
        main = List()
        ghost.removeAll()
        ghostOrder.removeAll()
        ghostHead = 0
    }

    // MARK: policy

    @inline(__always)
    private func touch(_ s: Int) {
        slots[s].lastAccess = clock
        switch policy {
        case .s3fifo:
            if slots[s].freq < 3 { slots[s].freq += 1 }
        case .lru:
            if main.head != Int32(s) {
                unlink(&main, s)
                pushHead(&main, s)
            }
        }
    }

    private func evictIfNeeded() {
        while usedBytes > capacity && count > 0 {
            switch policy {
            case .lru:
                evict(Int(main.tail))
            case .s3fifo:
                if small.count > 0 && (small.bytes * 100 >= capacity * Self.smallShare || main.count == 0) {
                    evictSmall()
                } else {
                    evictMain()
                }
            }
        }
    }

    /// The oldest key of the small queue: to main (keeping its frequency) if it
    /// was read at least twice while there, else dropped and remembered in the
    /// ghost list — Algorithm 1 of the S3-FIFO paper.
    private func evictSmall() {
        while small.count > 0 {
            let t = Int(small.tail)
            if slots[t].freq > 1 {
                unlink(&small, t)
                slots[t].queue = 1
                pushHead(&main, t)
                if main.bytes * 100 > capacity * (100 - Self.smallShare) { evictMain() }
                if usedBytes <= capacity { return }
            } else {
                rememberGhost(slots[t].hash)
                evict(t)
                return
            }
        }
    }

    /// The oldest key of main: another round (frequency − 1) if it was read
    /// since its last round, else dropped.
    private func evictMain() {
        while main.count > 0 {
            let t = Int(main.tail)
            if slots[t].freq > 0 {
                slots[t].freq -= 1
                unlink(&main, t)
                pushHead(&main, t)
            } else {
                evict(t)
                return
            }
        }
    }

    private func rememberGhost(_ h: UInt64) {
        // The ghost remembers about as many keys as main holds.
        let limit = max(1024, main.count)
        if ghost.insert(h).inserted {
            ghostOrder.append(h)
        }
        while ghost.count > limit, ghostHead < ghostOrder.count {
            ghost.remove(ghostOrder[ghostHead])
            ghostHead += 1
        }
        if ghostHead > 4096 && ghostHead * 2 > ghostOrder.count {
            ghostOrder.removeFirst(ghostHead)
            ghostHead = 0
        }
    }

    private func evict(_ s: Int) {
        if let pos = find(db: slots[s].db, slots[s].key, hash: slots[s].hash) { deleteIndex(at: pos) }
        unlinkAndRelease(s)
        evictions += 1
    }

    // MARK: lists

    private func pushHead(_ list: inout List, _ s: Int) {
        slots[s].prev = -1
        slots[s].next = list.head
        if list.head >= 0 { slots[Int(list.head)].prev = Int32(s) } else { list.tail = Int32(s) }
        list.head = Int32(s)
        list.bytes += slots[s].cost
        list.count += 1
    }

    private func unlink(_ list: inout List, _ s: Int) {
        let p = slots[s].prev, n = slots[s].next
        if p >= 0 { slots[Int(p)].next = n } else { list.head = n }
        if n >= 0 { slots[Int(n)].prev = p } else { list.tail = p }
        slots[s].prev = -1
        slots[s].next = -1
        list.bytes -= slots[s].cost
        list.count -= 1
    }

    private func unlinkAndRelease(_ s: Int) {
        if slots[s].queue == 0 { unlink(&small, s) } else { unlink(&main, s) }
        usedBytes -= slots[s].cost
        count -= 1
        slots[s].live = false
        slots[s].record.value = ByteBuffer()
        slots[s].key = ByteBuffer()
        freeSlots.append(Int32(s))
    }

    // MARK: index

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
            let home = Int(truncatingIfNeeded: slots[slotIndex(at: i)].hash) & mask
            // Move the entry into the hole unless its home lies in (hole, i].
            if (i - home) & mask >= (i - hole) & mask {
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
}
