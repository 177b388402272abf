import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads of the committed data that a `Store` and a `StoreSnapshot` both answer, so
/// code that turns stored values into something else (DUMP, RDB files) is written once.
public protocol StoreReading: AnyObject {
    /// A collection's elements in sub-key order (see `Store.elementsRaw`).
    func elementsRaw(version: UInt64, hashed: Bool, after: [UInt8]?, limit: Int,
                     _ visit: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool) throws -> [UInt8]?
    /// The bytes `range` of a string record, in pieces (see `Store.readString`).
    func readString(_ record: Record, _ range: Range<Int>, _ visit: (UnsafeRawBufferPointer) -> Bool) throws
    /// Visits every key of logical database `db` with its record, in hash order, skipping
    /// keys expired by `now` (0: none skipped); `visit` returns false to stop.
    func forEachKey(db: Int, now: Int64, _ visit: (_ key: ByteBuffer, _ record: Record) throws -> Bool) throws
    /// Keys and keys with an expiry in logical database `db`, as counted by the store
    /// (expired keys not yet removed included: a sizing hint, as RESIZEDB is).
    func counts(logicalDB db: Int) -> (keys: Int, expires: Int)
    /// A named metadata record (FUNCTION libraries).
    func meta(_ name: String) throws -> [UInt8]?
}

extension StoreReading {
    /// Every element of a collection, in sub-key order.
    public func forEachElement(version: UInt64, hashed: Bool,
                               _ visit: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) throws {
        _ = try elementsRaw(version: version, hashed: hashed, after: nil, limit: Int.max) { n, v in visit(n, v); return true }
    }

    /// A string record's whole value (a chunked one assembled).
    public func stringBytes(_ record: Record) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(record.stringLength)
        try readString(record, 0..<record.stringLength) { out.append(contentsOf: $0); return true }
        return out
    }
}

extension Store: StoreReading {
    public func forEachKey(db: Int, now: Int64, _ visit: (_ key: ByteBuffer, _ record: Record) throws -> Bool) throws {
        try Self.walkKeys(try currentReadTxn(), keysDB, physical: physical(db), now: now, allocator: allocator, visit)
    }

    public func counts(logicalDB db: Int) -> (keys: Int, expires: Int) { counts(db: physical(db)) }

    public func meta(_ name: String) throws -> [UInt8]? { try getMeta(name) }

    /// `forEachKey` over any transaction.
    static func walkKeys(_ txn: LMDBTransaction, _ keysDB: LMDBDatabase, physical: UInt8, now: Int64,
                         allocator: ByteBufferAllocator, _ visit: (_ key: ByteBuffer, _ record: Record) throws -> Bool) throws {
        let cursor = try LMDBCursor(txn, keysDB)
        defer { cursor.close() }
        var positioned = try [physical].withUnsafeBytes { try cursor.seek(atLeast: $0) }
        while positioned {
            let item: (ByteBuffer, Record)?? = cursor.withCurrent { k, v in
                guard k.first == physical else { return .none }
                guard let record = KeyEncoding.decodeRecord(v, allocator: allocator),
                      let key = KeyEncoding.userKey(lmdbKey: k, record: v, hashed: true) else { return .some(nil) }
                if now != 0 && record.isExpired(now: now) { return .some(nil) }
                return .some((key, record))
            }
            guard let entry = item else { return }
            if let (key, record) = entry, try !visit(key, record) { return }
            positioned = try cursor.next()
        }
    }
}

/// One consistent, read-only view of a data directory as of its last commit: an
/// LMDB read transaction, which never blocks the server's writer and is never
/// blocked by it. Used by BGSAVE and the sync stream (on another thread: the
/// environment is MDB_NOTLS, so a read transaction may move between threads, used
/// by one at a time) and by the offline dump tool, beside a running server or not.
/// The hot cache is never consulted: every committed write is in LMDB.
/// Sendable by hand: one thread uses a snapshot at a time (handed over, never shared).
public final class StoreSnapshot: StoreReading, @unchecked Sendable {
    public enum OpenError: Error, CustomStringConvertible {
        case notADataDirectory(String)
        case format(found: String, expected: String)
        case lmdb(String)

        public var description: String {
            switch self {
            case .notADataDirectory(let path): return "\(path) is not a Lode data directory (no data.mdb with Lode's databases)"
            case .format(let found, let expected):
                return "data directory format \(found), this build reads \(expected): start lode-server on it once to migrate it"
            case .lmdb(let what): return what
            }
        }
    }

    private let ownedEnv: LMDBEnvironment?
    private let txn: LMDBTransaction
    private let keysDB: LMDBDatabase
    private let subkeysDB: LMDBDatabase
    private let infoDB: LMDBDatabase
    private let allocator = ByteBufferAllocator()
    /// Logical database → physical database byte (SWAPDB's map), as of the snapshot.
    public let dbMap: [UInt8]
    private let keyCounts: [Int]
    private let expireCounts: [Int]

    /// A snapshot of a running store's environment (shares it; opens its own read transaction).
    public convenience init(of store: Store) throws {
        try self.init(env: store.env, owned: false)
    }

    /// Opens the data directory at `path` for reading (the offline tool). Refuses a
    /// directory without Lode's databases or of another format, and never writes.
    public convenience init(path: String) throws {
        var isDir: Bool = false
        guard Self.fileExists(path + "/data.mdb", isDirectory: &isDir), !isDir else { throw OpenError.notADataDirectory(path) }
        let env: LMDBEnvironment
        do { env = try LMDBEnvironment(path: path, options: .init(mapSize: 1 << 40)) } catch {
            throw OpenError.lmdb("cannot open \(path): \(error)")
        }
        try self.init(env: env, owned: true)
    }

    private init(env: LMDBEnvironment, owned: Bool) throws {
        ownedEnv = owned ? env : nil
        txn = try LMDBTransaction(env, readOnly: true)
        do {
            guard let info = try? txn.openDatabase("info", create: false) else { throw OpenError.notADataDirectory("the directory") }
            infoDB = info
            let format = try Store.getString(txn, infoDB, "format") ?? "?"
            guard format == Store.formatVersion else { throw OpenError.format(found: format, expected: Store.formatVersion) }
            keysDB = try txn.openDatabase("keyspace", create: false)
            subkeysDB = try txn.openDatabase("elements", create: false)
            (keyCounts, expireCounts, dbMap) = try Store.readCounters(txn, infoDB)
        } catch {
            txn.abort()
            if owned { env.close() }
            throw error
        }
    }

    deinit { close() }

    private var closed = false

    /// Ends the read transaction (releasing the pages it pins) and closes an environment it opened.
    public func close() {
        guard !closed else { return }
        closed = true
        txn.abort()
        ownedEnv?.close()
    }

    /// The physical database of logical database `db`.
    public func physical(_ db: Int) -> UInt8 { dbMap[db] }

    /// Keys and keys with an expiry in logical database `db`, as counted by the store
    /// (expired keys not yet removed included: a sizing hint, as RESIZEDB is).
    public func counts(logicalDB db: Int) -> (keys: Int, expires: Int) {
        let p = Int(physical(db))
        return (keyCounts[p], expireCounts[p])
    }

    /// A named metadata record (FUNCTION libraries), as of the snapshot.
    public func meta(_ name: String) throws -> [UInt8]? { try Store.getBytes(txn, infoDB, "meta:" + name) }

    public func forEachKey(db: Int, now: Int64, _ visit: (_ key: ByteBuffer, _ record: Record) throws -> Bool) throws {
        try Store.walkKeys(txn, keysDB, physical: physical(db), now: now, allocator: allocator, visit)
    }

    public func elementsRaw(version: UInt64, hashed: Bool, after: [UInt8]?, limit: Int,
                            _ visit: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool) throws -> [UInt8]? {
        try Store.walkElements(txn, subkeysDB, version: version, tag: KeyEncoding.elementTagOffset(hashed: hashed),
                               after: after, limit: limit, visit)
    }

    public func readString(_ record: Record, _ range: Range<Int>, _ visit: (UnsafeRawBufferPointer) -> Bool) throws {
        try Store.readString(txn, subkeysDB, record, range, visit)
    }

    private static func fileExists(_ path: String, isDirectory: inout Bool) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        return true
    }
}
