import NIOCore

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
/// Entries are always clean (the store writes through to LMDB before or together
/// with the cache), so eviction only drops memory, never data. Eviction is CLOCK
/// (second chance): a hit sets a reference bit; the hand clears bits and evicts the
/// first entry found unreferenced. A later issue replaces it with a scan-resistant
/// policy; the interface stays.
public final class HotCache {
    struct Slot {
        var key: CacheKey
        var record: Record
        var cost: Int
        var referenced: Bool
        var live: Bool
    }

    /// Rough per-entry overhead: dictionary bucket, slot, two buffer headers.
    public static let entryOverhead = 128

    public private(set) var capacity: Int
    public private(set) var usedBytes = 0
    public private(set) var hits = 0
    public private(set) var misses = 0
    public private(set) var evictions = 0

    private var index: [CacheKey: Int] = [:]
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private var hand = 0

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { index.count }

    public func setCapacity(_ bytes: Int) {
        capacity = bytes
        evictIfNeeded()
    }

    public func get(_ key: CacheKey) -> Record? {
        guard let i = index[key] else {
            misses += 1
            return nil
        }
        hits += 1
        slots[i].referenced = true
        return slots[i].record
    }

    /// Inserts or replaces; the key and value buffers must own their storage (not
    /// be slices of a network buffer) or they would pin it.
    public func put(_ key: CacheKey, _ record: Record) {
        let cost = Self.cost(key: key, record: record)
        if cost > capacity / 2 {
            // A value this large would flush most of the cache for one key.
            remove(key)
            return
        }
        if let i = index[key] {
            usedBytes += cost - slots[i].cost
            slots[i].record = record
            slots[i].cost = cost
            slots[i].referenced = true
        } else {
            let slot = Slot(key: key, record: record, cost: cost, referenced: false, live: true)
            let i: Int
            if let free = freeSlots.popLast() {
                slots[free] = slot
                i = free
            } else {
                slots.append(slot)
                i = slots.count - 1
            }
            index[key] = i
            usedBytes += cost
        }
        evictIfNeeded()
    }

    public func remove(_ key: CacheKey) {
        guard let i = index.removeValue(forKey: key) else { return }
        release(i)
    }

    public func removeAll(db: UInt8) {
        for (key, i) in index where key.db == db {
            index.removeValue(forKey: key)
            release(i)
        }
    }

    public func removeAll() {
        index.removeAll()
        slots.removeAll()
        freeSlots.removeAll()
        usedBytes = 0
        hand = 0
    }

    private func release(_ i: Int) {
        usedBytes -= slots[i].cost
        slots[i].live = false
        slots[i].record.value = ByteBuffer()
        slots[i].key.key = ByteBuffer()
        freeSlots.append(i)
    }

    private func evictIfNeeded() {
        while usedBytes > capacity && !index.isEmpty {
            if hand >= slots.count { hand = 0 }
            if slots[hand].live {
                if slots[hand].referenced {
                    slots[hand].referenced = false
                } else {
                    index.removeValue(forKey: slots[hand].key)
                    release(hand)
                    evictions += 1
                }
            }
            hand += 1
        }
    }

    static func cost(key: CacheKey, record: Record) -> Int {
        entryOverhead + key.key.readableBytes + record.value.readableBytes
    }
}
