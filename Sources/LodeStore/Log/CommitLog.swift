import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The commit log: how a turn's writes become durable before LMDB commits them.
/// Each turn that wrote appends one record (page cache: survives `kill -9`);
/// fdatasync'ed per group with `appendfsync always`, once a second with
/// `everysec` — one sequential append instead of LMDB's scattered B-tree pages.
/// LMDB commits once per window (Store+Window.swift); once a window's commit is
/// synced, the records it holds are dropped. At start-up, records newer than
/// LMDB's last commit (`info/seq`) are replayed.
///
/// Two files alternate (`commit-0.log`, `commit-1.log`): a window commit switches
/// appends to the other (empty) file; its checkpoint syncs LMDB, then truncates the old one.
///
/// Record: `seq u64 | length u32 | crc32c u32 | ops`, integers big-endian. A torn
/// tail (bad length or checksum) ends the replay of that file.
public final class CommitLog {
    /// The tag byte that starts each op in a record (docs/storage.md, "Commit log").
    /// Written and read only through this enum; numbers are part of the format.
    enum OpTag: UInt8 {
        case put = 1
        case delete = 2
        case flush = 3
        case flushAll = 4
        case swap = 5
        case setElement = 6
        case removeElement = 7
        /// DEL that keeps the collection's elements (RENAME/MOVE hand the version on).
        case deleteKeepingElements = 8
        case scoreIndexPut = 9
        case scoreIndexDelete = 10
        /// A named metadata record (FUNCTION libraries).
        case meta = 11
        /// Elements of hashes, sets and sorted sets, which format 2 orders by hash
        /// (6 and 7 are list elements there, and every element in format 1).
        case setHashedElement = 12
        case removeHashedElement = 13
    }

    public enum Op {
        case put(db: UInt8, key: ByteBuffer, record: Record)
        case delete(db: UInt8, key: ByteBuffer, keepElements: Bool)
        case flush(db: UInt8)
        case flushAll
        case swap(Int, Int)
        case setElement(version: UInt64, sub: ByteBuffer, value: ByteBuffer, hashed: Bool)
        case removeElement(version: UInt64, sub: ByteBuffer, hashed: Bool)
        case scoreIndex(version: UInt64, score: Double, member: ByteBuffer, present: Bool)
        case meta(name: String, value: ByteBuffer)
    }

    private let paths: [String]
    /// The two files, shared with the fsync thread and the checkpoint queue.
    public let files: CommitLogFiles
    private var fds: [Int32] { files.fds }
    public private(set) var active = 0
    private var pending = ByteBuffer()
    public private(set) var bytesInActive = 0

    public init(directory: String) throws(StoreError) {
        paths = [directory + "/commit-0.log", directory + "/commit-1.log"]
        var fds: [Int32] = []
        for p in paths {
            let fd = open(p, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let code = errno
                for opened in fds { close(opened) }
                throw StoreError.io(operation: "open \(p)", errno: code)
            }
            fds.append(fd)
        }
        files = CommitLogFiles(fds: fds)
        // The files must survive a power loss as directory entries.
        let dfd = open(directory, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
        bytesInActive = Int(lseek(fds[0], 0, SEEK_END))
    }

    // MARK: writing (event loop)

    public func append(_ op: Op) {
        switch op {
        case .put(let db, let key, let record):
            pending.writeInteger(OpTag.put.rawValue)
            pending.writeInteger(db)
            pending.writeInteger(UInt32(key.readableBytes))
            pending.writeImmutableBuffer(key)
            let size = KeyEncoding.recordSize(record, fullKey: nil)
            pending.writeInteger(UInt32(size))
            pending.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
                KeyEncoding.writeRecord(record, fullKey: nil, into: UnsafeMutableRawBufferPointer(rebasing: out[0..<size]))
                return size
            }
        case .delete(let db, let key, let keep):
            pending.writeInteger((keep ? OpTag.deleteKeepingElements : .delete).rawValue)
            pending.writeInteger(db)
            pending.writeInteger(UInt32(key.readableBytes))
            pending.writeImmutableBuffer(key)
        case .flush(let db):
            pending.writeInteger(OpTag.flush.rawValue)
            pending.writeInteger(db)
        case .flushAll:
            pending.writeInteger(OpTag.flushAll.rawValue)
        case .swap(let a, let b):
            pending.writeInteger(OpTag.swap.rawValue)
            pending.writeInteger(UInt16(a))
            pending.writeInteger(UInt16(b))
        case .setElement(let version, let sub, let value, let hashed):
            pending.writeInteger((hashed ? OpTag.setHashedElement : .setElement).rawValue)
            pending.writeInteger(version)
            pending.writeInteger(UInt32(sub.readableBytes))
            pending.writeImmutableBuffer(sub)
            pending.writeInteger(UInt32(value.readableBytes))
            pending.writeImmutableBuffer(value)
        case .removeElement(let version, let sub, let hashed):
            pending.writeInteger((hashed ? OpTag.removeHashedElement : .removeElement).rawValue)
            pending.writeInteger(version)
            pending.writeInteger(UInt32(sub.readableBytes))
            pending.writeImmutableBuffer(sub)
        case .scoreIndex(let version, let score, let member, let present):
            pending.writeInteger((present ? OpTag.scoreIndexPut : .scoreIndexDelete).rawValue)
            pending.writeInteger(version)
            pending.writeInteger(score.bitPattern)
            pending.writeInteger(UInt32(member.readableBytes))
            pending.writeImmutableBuffer(member)
        case .meta(let name, let value):
            pending.writeInteger(OpTag.meta.rawValue)
            pending.writeInteger(UInt16(name.utf8.count))
            pending.writeString(name)
            pending.writeInteger(UInt32(value.readableBytes))
            pending.writeImmutableBuffer(value)
        }
    }

    public var hasPending: Bool { pending.readableBytes > 0 }

    public func discardPending() { pending.clear() }

    /// Writes the turn's ops as one record (page cache only; `sync` makes it durable).
    public func writePending(sequence: UInt64) throws {
        guard pending.readableBytes > 0 else { return }
        var frame = ByteBuffer()
        frame.reserveCapacity(16 + pending.readableBytes)
        frame.writeInteger(sequence)
        frame.writeInteger(UInt32(pending.readableBytes))
        frame.writeInteger(pending.withUnsafeReadableBytes { CRC32C.checksum($0) })
        frame.writeBuffer(&pending)
        pending.clear()
        let fd = fds[active]
        try frame.withUnsafeReadableBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    // A partial record would end every later replay of this file: cut it off.
                    _ = ftruncate(fd, off_t(bytesInActive))
                    throw StoreError.io(operation: "write to the commit log", errno: code)
                }
                off += n
            }
        }
        bytesInActive += frame.readableBytes
    }

    /// Switches appends to the other file; returns the file to truncate once LMDB
    /// is synced. The other file is normally empty (the previous checkpoint emptied
    /// it); after a commit made past a checkpoint in flight (a full map or disk) it may
    /// still hold that checkpoint's records, which then stay (`CommitLogFiles.truncate`).
    public func rotate() -> Int {
        let old = active
        active = 1 - active
        bytesInActive = files.activate(active)
        return old
    }

    /// Empties `file` (0 or 1); see `CommitLogFiles.truncate`.
    public func truncate(_ file: Int) {
        files.truncate(file)
        if file == active { bytesInActive = 0 }
    }

    // MARK: recovery

    public struct Entry {
        public let sequence: UInt64
        public let ops: [Op]
    }

    /// Every intact record in both files, in sequence order.
    public func readAll() -> [Entry] {
        var entries: [Entry] = []
        for fd in fds {
            let size = Int(lseek(fd, 0, SEEK_END))
            guard size > 0 else { continue }
            var buf = ByteBuffer()
            buf.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
                let n = pread(fd, out.baseAddress, size, 0)
                return max(0, n)
            }
            while buf.readableBytes >= 16 {
                let start = buf.readerIndex
                let seq = buf.readInteger(as: UInt64.self)!
                let len = Int(buf.readInteger(as: UInt32.self)!)
                let crc = buf.readInteger(as: UInt32.self)!
                guard len <= buf.readableBytes, var body = buf.readSlice(length: len),
                      body.withUnsafeReadableBytes({ CRC32C.checksum($0) }) == crc,
                      let ops = Self.decode(&body) else {
                    buf.moveReaderIndex(to: start)
                    break  // torn tail
                }
                entries.append(Entry(sequence: seq, ops: ops))
            }
        }
        return entries.sorted { $0.sequence < $1.sequence }
    }

    static func decode(_ b: inout ByteBuffer) -> [Op]? {
        var ops: [Op] = []
        while b.readableBytes > 0 {
            guard let raw = b.readInteger(as: UInt8.self), let tag = OpTag(rawValue: raw) else { return nil }
            switch tag {
            case .put:
                guard let db = b.readInteger(as: UInt8.self), let kl = b.readInteger(as: UInt32.self),
                      let key = b.readSlice(length: Int(kl)), let rl = b.readInteger(as: UInt32.self),
                      let raw = b.readSlice(length: Int(rl)),
                      let record = raw.withUnsafeReadableBytes({ KeyEncoding.decodeRecord($0, allocator: ByteBufferAllocator()) })
                else { return nil }
                ops.append(.put(db: db, key: key, record: record))
            case .delete, .deleteKeepingElements:
                guard let db = b.readInteger(as: UInt8.self), let kl = b.readInteger(as: UInt32.self),
                      let key = b.readSlice(length: Int(kl)) else { return nil }
                ops.append(.delete(db: db, key: key, keepElements: tag == .deleteKeepingElements))
            case .flush:
                guard let db = b.readInteger(as: UInt8.self) else { return nil }
                ops.append(.flush(db: db))
            case .flushAll:
                ops.append(.flushAll)
            case .swap:
                guard let a = b.readInteger(as: UInt16.self), let c = b.readInteger(as: UInt16.self) else { return nil }
                ops.append(.swap(Int(a), Int(c)))
            case .setElement, .setHashedElement:
                guard let v = b.readInteger(as: UInt64.self), let sl = b.readInteger(as: UInt32.self),
                      let sub = b.readSlice(length: Int(sl)), let vl = b.readInteger(as: UInt32.self),
                      let value = b.readSlice(length: Int(vl)) else { return nil }
                ops.append(.setElement(version: v, sub: sub, value: value, hashed: tag == .setHashedElement))
            case .scoreIndexPut, .scoreIndexDelete:
                guard let v = b.readInteger(as: UInt64.self), let bits = b.readInteger(as: UInt64.self),
                      let ml = b.readInteger(as: UInt32.self), let member = b.readSlice(length: Int(ml)) else { return nil }
                ops.append(.scoreIndex(version: v, score: Double(bitPattern: bits), member: member, present: tag == .scoreIndexPut))
            case .removeElement, .removeHashedElement:
                guard let v = b.readInteger(as: UInt64.self), let sl = b.readInteger(as: UInt32.self),
                      let sub = b.readSlice(length: Int(sl)) else { return nil }
                ops.append(.removeElement(version: v, sub: sub, hashed: tag == .removeHashedElement))
            case .meta:
                guard let nl = b.readInteger(as: UInt16.self), let name = b.readString(length: Int(nl)),
                      let vl = b.readInteger(as: UInt32.self), let value = b.readSlice(length: Int(vl)) else { return nil }
                ops.append(.meta(name: name, value: value))
            }
        }
        return ops
    }
}

/// The commit log's file descriptors, for the threads that make it durable.
///
/// Thread-safe, hence `Sendable`: the descriptors are fixed at open and closed
/// only in `deinit`, and the only calls made through this type, `fdatasync` and
/// `ftruncate`, are system calls that POSIX allows on any thread at any time
/// (appends by the event loop and a concurrent fdatasync are ordered by the kernel).
public final class CommitLogFiles: Sendable {
    let fds: [Int32]
    /// The file appends go to, as `rotate` set it: `truncate` and `activate` take
    /// turns under this lock, so a checkpoint never empties a file appends resumed in.
    private let active = Mutex(0)

    init(fds: [Int32]) { self.fds = fds }

    /// Appends go to `file` from now on; returns its size (where they start).
    func activate(_ file: Int) -> Int {
        active.withLock { current in
            current = file
            return Int(lseek(fds[file], 0, SEEK_END))
        }
    }

    deinit {
        for fd in fds { close(fd) }
    }

    /// fdatasync of both files (the inactive one is normally empty: cheap).
    public func sync() throws(StoreError) {
        for fd in fds where fdatasync(fd) != 0 { throw StoreError.io(operation: "fdatasync of the commit log", errno: errno) }
    }

    /// Empties `file` (the loop, between turns: start-up and close checkpoints).
    func truncate(_ file: Int) {
        active.withLock { _ in _ = ftruncate(fds[file], 0) }
    }

    /// The checkpoint thread: empties a file whose records LMDB holds on disk now —
    /// unless appends went back to it meanwhile (a window committed past this
    /// checkpoint, on a full map or disk): its records then stay until it is emptied
    /// as the inactive file (replay skips the ones LMDB holds).
    public func truncateIfInactive(_ file: Int) {
        active.withLock { current in
            if current != file { _ = ftruncate(fds[file], 0) }
        }
    }
}

/// CRC-32C (Castagnoli), table-driven; guards log records against torn writes.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}
