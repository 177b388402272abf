#if canImport(Glibc)
import Glibc
#endif

/// Why the store could not do what was asked. Every failure of LMDB, of the
/// commit log's files or of start-up has its own case, so callers (the reply
/// text, the start-up message, INFO) never decode magic numbers.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    /// An LMDB call failed (map full, disk full, I/O error, …).
    case lmdb(LMDBError)
    /// A system call on one of the store's own files failed.
    case io(operation: String, errno: Int32)
    /// The data directory holds an on-disk format this build cannot read.
    case formatMismatch(found: String, expected: String)
    /// Replaying the commit log at start-up could not be committed.
    indirect case recoveryFailed(StoreError?)

    /// Wraps any error thrown below the store (LMDB calls throw `LMDBError`).
    public init(_ error: Error) {
        switch error {
        case let e as StoreError: self = e
        case let e as LMDBError: self = .lmdb(e)
        default: self = .io(operation: "\(error)", errno: EIO)
        }
    }

    public var description: String {
        switch self {
        case .lmdb(let e): return e.description
        case .io(let operation, let code): return "\(operation): \(String(cString: strerror(code)))"
        case .formatMismatch(let found, let expected):
            return "on-disk format \(found), this build reads format \(expected)"
        case .recoveryFailed(let cause): return "commit-log replay failed" + (cause.map { ": \($0)" } ?? "")
        }
    }

    /// The errno-style code behind the failure, when there is one.
    var code: Int32? {
        switch self {
        case .lmdb(let e): return e.code
        case .io(_, let code): return code
        default: return nil
        }
    }

    public var isMapFull: Bool { if case .lmdb(let e) = self { return e.isMapFull } else { return false } }

    /// ENOSPC/EDQUOT, or EIO: LMDB reports a short write (what a nearly full disk gives) as EIO.
    public var isDiskFull: Bool { code.map { $0 == ENOSPC || $0 == EDQUOT || $0 == EIO } ?? false }

    /// The reply text clients get when a write cannot be stored.
    public var replyText: String {
        if isMapFull { return "OOM command not allowed: the database reached lmdb-map-size; the write was not applied" }
        if isDiskFull {
            return "MISCONF Lode cannot write to disk (\(description)); the write was not applied, stored data is intact"
        }
        return "ERR storage error (\(description)); the write was not applied"
    }
}
