#if canImport(Glibc)
import Glibc
#endif

/// `synced.lode`: which LMDB commit is known to be on disk.
///
/// Written by the checkpoint thread after each `mdb_env_sync` and fdatasynced before
/// the next LMDB commit may happen, so at any moment LMDB is at most one commit
/// ahead of it. At open, a newest meta page one commit past the marker is rolled
/// back (`LMDBMetaPages.rollBack`), because that commit was not known to be synced.
///
/// Content: `"LODESYNC" | txn id u64 | crc32c u32` (big-endian), 20 bytes written in
/// place at offset 0: within one disk sector, so a power loss leaves the old or the
/// new record, and a record that does not check out is treated as absent.
public final class SyncedCommitMarker: Sendable {
    public static let fileName = "synced.lode"
    static let magic: [UInt8] = Array("LODESYNC".utf8)
    let fd: Int32
    public let path: String

    public init(directory: String) throws(StoreError) {
        path = directory + "/" + Self.fileName
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(operation: "open \(path)", errno: errno) }
    }

    deinit { close(fd) }

    /// The synced commit's transaction id, or nil when none was recorded.
    public func read() -> UInt64? {
        var raw = [UInt8](repeating: 0, count: 20)
        let n = raw.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 20, 0) }
        guard n == 20, Array(raw[0..<8]) == Self.magic else { return nil }
        let crc = raw.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<16])) }
        return raw.withUnsafeBytes { r -> UInt64? in
            let stored = r[16..<20].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard stored == crc else { return nil }
            return KeyEncoding.readBigEndian(r, at: 8)
        }
    }

    /// Records `txnID` as synced and makes the record durable. Called from the
    /// checkpoint thread only (one writer).
    public func write(_ txnID: UInt64) throws(StoreError) {
        var raw = Self.magic
        KeyEncoding.appendBigEndian(txnID, to: &raw)
        let crc = raw.withUnsafeBytes { CRC32C.checksum($0) }
        for shift in stride(from: 24, through: 0, by: -8) { raw.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        let n = raw.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard n == raw.count else { throw StoreError.io(operation: "write \(path)", errno: errno) }
        guard fdatasync(fd) == 0 else { throw StoreError.io(operation: "fdatasync of \(path)", errno: errno) }
    }
}
