/// The 46-bit hashes that order keys and the elements of hashes, sets and sorted
/// sets on disk (format version 2, docs/storage.md). Records sort by hash first,
/// so a SCAN cursor is simply the hash to resume at: kept by no table, valid across
/// restarts, and unmoved by writes elsewhere in the order. 46 bits keep every
/// cursor below 10^14, so it survives any client's number handling: a double is
/// exact to 2^53 (JavaScript's Number, Lua's tonumber), and Lua 5.1 turns a
/// number into a string with 14 significant digits ("%.14g").
///
/// A name is hashed without its last two characters when both are ASCII digits,
/// so `user:1200` … `user:1299` share one hash and sit side by side in byte order:
/// keys and fields numbered in sequence, the commonest naming, keep their locality
/// on disk (a bulk load of them writes few pages, and their B-tree pages fill up),
/// which a hash of the whole name would scatter over the file. Such a group has at
/// most 101 members (`item:ab00` … `item:ab99` and `item:ab` itself), and a SCAN
/// reply always holds whole groups, since a cursor cannot point inside one.
///
/// Every function here is part of the on-disk format: never change one.
public enum KeyHash {
    /// Hashes and SCAN cursors are below this (stored in 6 bytes, the top 2 bits 0).
    public static let limit: UInt64 = 1 << 46
    static let byteCount = 6

    /// The position of a key in its database, or of an element in its collection.
    public static func of(_ name: UnsafeRawBufferPointer) -> UInt64 {
        mix(fnv1a64(group(name))) >> 18
    }

    /// The part of a name that is hashed: all of it, or all but two trailing digits.
    static func group(_ name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let n = name.count
        guard n >= 2, isDigit(name[n - 1]), isDigit(name[n - 2]) else { return name }
        return UnsafeRawBufferPointer(rebasing: name[0..<(n - 2)])
    }

    @inline(__always)
    private static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    /// FNV-1a-64: stable across processes and versions (unlike Swift's seeded Hasher).
    static func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// MurmurHash3's 64-bit finalizer: FNV's high bits barely depend on the last
    /// bytes of a short name, and the order uses the high bits.
    static func mix(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    static func append(_ hash: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 40, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: hash >> UInt64(shift))) }
    }

    static func read(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var h: UInt64 = 0
        for i in 0..<byteCount { h = h << 8 | UInt64(raw[offset + i]) }
        return h
    }
}
