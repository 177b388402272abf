#if canImport(Glibc)
import Glibc
#endif

/// LMDB's two meta pages, read and (after a power loss) repaired before the
/// environment is opened.
///
/// LMDB keeps two meta pages (pages 0 and 1); commit `t` writes page `t % 2`, and
/// `mdb_env_open` picks the page with the larger transaction id. Lode commits with
/// `MDB_NOSYNC` and syncs off the event loop, at most one commit ahead of the last
/// sync (see `Store.commitWindow`). After a power loss the newer meta page may then
/// have reached the disk while pages of its commit did not: opening it would read a
/// tree that points at pages never written. LMDB 0.9.24 has no `MDB_PREVSNAPSHOT`,
/// so `rollBack` does what that flag does: it copies the synced (older) meta page
/// over the newer one, and LMDB opens the synced snapshot, whose pages no later
/// commit overwrote (the store pins it with a read transaction until the next
/// sync). The commit log holds every write after it and is replayed.
///
/// Layout (lmdb 0.9, 64-bit): a page header of 16 bytes, then `MDB_meta`: magic u32,
/// version u32, address, mapsize, two `MDB_db` of 48 bytes, last page, txnid — 136
/// bytes in host byte order. Page 0's free-list `MDB_db` carries the page size in
/// its first four bytes (`mm_psize`).
public enum LMDBMetaPages {
    static let headerSize = 16
    static let metaSize = 136
    static let magic: UInt32 = 0xBEEF_C0DE
    static let txnOffset = headerSize + 128

    public struct Meta: Equatable {
        public let txnID: UInt64
        public let pageSize: Int
    }

    /// The transaction ids of both meta pages of `dataFile`, or nil when the file is
    /// absent, too short, or not an LMDB file.
    public static func read(_ dataFile: String) -> (Meta, Meta)? {
        let fd = open(dataFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let first = readMeta(fd, at: 0) else { return nil }
        guard let second = readMeta(fd, at: first.pageSize) else { return nil }
        return (first, second)
    }

    private static func readMeta(_ fd: Int32, at offset: Int) -> Meta? {
        var page = [UInt8](repeating: 0, count: headerSize + metaSize)
        let n = page.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n == page.count else { return nil }
        return page.withUnsafeBytes { raw -> Meta? in
            guard raw.loadUnaligned(fromByteOffset: headerSize, as: UInt32.self) == magic else { return nil }
            let pageSize = Int(raw.loadUnaligned(fromByteOffset: headerSize + 24, as: UInt32.self))
            let txn = raw.loadUnaligned(fromByteOffset: txnOffset, as: UInt64.self)
            return Meta(txnID: txn, pageSize: offset == 0 ? pageSize : 0)
        }
    }

    public enum Repair: Equatable {
        /// The newest meta page is the synced commit (or nothing says otherwise).
        case none
        /// The newer, unsynced commit `dropped` was rolled back to `synced`.
        case rolledBack(dropped: UInt64, synced: UInt64)
    }

    /// Makes `dataFile` open at commit `synced` when its newest meta page is the one
    /// commit after it (`synced + 1`), which was never known to be on disk. Any other
    /// state is left alone: a newest page at `synced` is intact, and ids that do not
    /// follow the protocol (a file replaced by a tool) are not Lode's to judge.
    public static func rollBack(_ dataFile: String, toSynced synced: UInt64) throws(StoreError) -> Repair {
        guard let (m0, m1) = read(dataFile) else { return .none }
        let newer = m0.txnID > m1.txnID ? 0 : 1
        let newest = max(m0.txnID, m1.txnID), older = min(m0.txnID, m1.txnID)
        guard newest == synced &+ 1, older == synced else { return .none }
        let fd = open(dataFile, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(operation: "open \(dataFile)", errno: errno) }
        defer { close(fd) }
        let pageSize = m0.pageSize
        var meta = [UInt8](repeating: 0, count: metaSize)
        let olderOffset = off_t((1 - newer) * pageSize + headerSize)
        let n = meta.withUnsafeMutableBytes { pread(fd, $0.baseAddress, metaSize, olderOffset) }
        guard n == metaSize else { throw StoreError.io(operation: "read the meta page of \(dataFile)", errno: errno) }
        let newerOffset = off_t(newer * pageSize + headerSize)
        let w = meta.withUnsafeBytes { pwrite(fd, $0.baseAddress, metaSize, newerOffset) }
        guard w == metaSize else { throw StoreError.io(operation: "rewrite the meta page of \(dataFile)", errno: errno) }
        guard fdatasync(fd) == 0 else { throw StoreError.io(operation: "fdatasync of \(dataFile)", errno: errno) }
        return .rolledBack(dropped: newest, synced: synced)
    }
}
