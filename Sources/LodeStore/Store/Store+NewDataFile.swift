#if canImport(Glibc)
import Glibc
#endif

/// A new data directory's `data.mdb` is built in a staging directory beside it and
/// renamed in only once synced. LMDB writes a new file's meta pages and first commit
/// without a sync (the environment is `MDB_NOSYNC`), and a power cut in the middle
/// would leave a file no start can open — `MDB_INVALID` or `MDB_CORRUPTED` — with no
/// synced commit yet to roll back to (`synced.lode` is written at the first
/// checkpoint). The power-loss test (Tests/python/test_power_loss.py) cuts power at
/// every step of a first start.
extension Store {
    static let stagingDirectoryName = "new-data.staging"
    /// Every database `init` opens: created here so that its first commit writes nothing.
    static let databaseNames = ["info", "keyspace", "expiry", "elements", "zscores", "garbage"]

    /// Creates `directory/data.mdb` (absent) atomically: formatted, synced, renamed in,
    /// and the rename synced. A staging directory left by a cut start is rebuilt.
    static func createDataFile(in directory: String, mapSize: Int) throws {
        let staging = directory + "/" + stagingDirectoryName
        removeStaging(staging)
        guard mkdir(staging, 0o755) == 0 else { throw StoreError.io(operation: "mkdir \(staging)", errno: errno) }
        let env = try LMDBEnvironment(path: staging, options: .init(mapSize: mapSize))
        do {
            let txn = try LMDBTransaction(env, readOnly: false)
            do {
                var info: LMDBDatabase?
                for name in databaseNames {
                    let db = try txn.openDatabase(name, create: true)
                    if name == "info" { info = db }
                }
                try putString(txn, info!, "format", formatVersion)
                try txn.commit()
            } catch {
                txn.abort()
                throw error
            }
            try env.sync()
            env.close()
        } catch {
            env.close()
            throw error
        }
        guard rename(staging + "/data.mdb", directory + "/data.mdb") == 0 else {
            throw StoreError.io(operation: "rename \(staging)/data.mdb into \(directory)", errno: errno)
        }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY)
        guard dfd >= 0 else { throw StoreError.io(operation: "open \(directory)", errno: errno) }
        defer { Glibc.close(dfd) }
        guard fsync(dfd) == 0 else { throw StoreError.io(operation: "fsync of \(directory)", errno: errno) }
        removeStaging(staging)
    }

    /// Removes the staging directory and what LMDB left in it (never data: the file
    /// there was not renamed in, so no commit of it was ever acknowledged).
    static func removeStaging(_ staging: String) {
        for name in ["data.mdb", "lock.mdb"] { unlink(staging + "/" + name) }
        rmdir(staging)
    }
}
