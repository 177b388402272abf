import Foundation
import LodeStore

/// What the tool reports as `lode-dump: <message>`, exit status 1.
struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A data directory the tool rewrites (restore, compact): locked against lode-server,
/// with a sibling work directory on the same filesystem where the replacement
/// data.mdb is built, and the swap that puts it in place.
///
/// Crash safety: DATA is not touched until `swapIn`, whose one step that matters is a
/// rename, atomic on POSIX. A crash before it leaves the old data (the work directory
/// is removed by the next run: the lock says no other run owns it); a crash after it
/// leaves the new data.mdb, whose LMDB sequence is at least the old one's, so any
/// commit-log records left beside it are older and never replayed.
final class DataDirectory {
    let path: String
    let workPath: String
    private var lockFD: Int32 = -1
    /// Whether `lock(creating:)` made the directory: a failed restore removes it again.
    private(set) var created = false

    init(_ path: String) {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        self.path = trimmed
        let url = URL(fileURLWithPath: trimmed).standardizedFileURL
        workPath = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".lode-dump-work"
    }

    deinit { unlock() }

    var dataFile: String { path + "/data.mdb" }
    var hasData: Bool { FileManager.default.fileExists(atPath: dataFile) }

    /// Takes the lock lode-server takes (DataDirectoryLock: flock on DATA/lode.lock),
    /// without waiting, and keeps it until exit, so no server starts on DATA meanwhile.
    func lock(creating: Bool) throws {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard creating else { throw ToolError("\(path): no such directory") }
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw ToolError("cannot create \(path): \(error.localizedDescription)")
            }
            created = true
        } else if !isDir.boolValue {
            throw ToolError("\(path) is not a directory")
        }
        let lockPath = path + "/lode.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ToolError("cannot open \(lockPath): \(errnoText())") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let owner = (try? String(contentsOfFile: lockPath, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw ToolError("\(path) is in use by a running lode-server" + (owner.isEmpty ? "" : " (pid \(owner))")
                            + ": stop it first (lode-dump dump works beside a running server; restore and compact do not)")
        }
        lockFD = fd
    }

    func unlock() {
        if lockFD >= 0 { close(lockFD) }
        lockFD = -1
    }

    /// Where restore builds its environment before the compacting copy into `workPath`.
    var buildPath: String { workPath + "/build" }

    /// A fresh, empty work directory with an empty `buildPath` (a leftover of a crashed run is removed first).
    func makeWorkDirectory() throws {
        removeWorkDirectory()
        do { try FileManager.default.createDirectory(atPath: buildPath, withIntermediateDirectories: true) } catch {
            throw ToolError("cannot create the work directory \(workPath): \(error.localizedDescription)")
        }
    }

    /// After a failure: a directory this run created goes again, so DATA is as it was (absent).
    func removeIfCreated() {
        guard created else { return }
        unlink(path + "/lode.lock")
        rmdir(path)
    }

    func removeWorkDirectory() {
        try? FileManager.default.removeItem(atPath: workPath)
    }

    /// Opens DATA as the server would: the commit log is replayed into LMDB, so the
    /// sequence read afterwards covers every record the log holds.
    func openStore(_ at: String? = nil, databases: Int = 16) throws -> Store {
        var options = Store.Options(path: at ?? path)
        options.databases = databases
        options.cacheBytes = 8 << 20  // the tool reads each key at most once
        do { return try Store(options: options) } catch {
            throw ToolError("cannot open \(at ?? path): \(error)")
        }
    }

    /// Replaces DATA/data.mdb by the work directory's, durably: the new file is synced,
    /// renamed over the old one and the directory synced; then LMDB's lock file (rebuilt
    /// by the next opener) and the commit logs (older than the new data) go.
    func swapIn() throws {
        let newFile = workPath + "/data.mdb"
        try fsyncPath(newFile)
        // The marker names a commit of the old file: it must never judge the new one.
        unlink(path + "/" + SyncedCommitMarker.fileName)
        try fsyncPath(path)
        guard rename(newFile, dataFile) == 0 else { throw ToolError("rename \(newFile) → \(dataFile) failed: \(errnoText())") }
        try fsyncPath(path)
        for name in ["lock.mdb", "commit-0.log", "commit-1.log"] { unlink(path + "/" + name) }
        try fsyncPath(path)
        removeWorkDirectory()
    }
}

func fsyncPath(_ path: String) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ToolError("cannot open \(path) to sync it: \(errnoText())") }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw ToolError("fsync of \(path) failed: \(errnoText())") }
}

func fileSize(_ path: String) -> Int? {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : nil
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// Sizes as people read them: 4.1 MB, 512 B.
func humanBytes(_ n: Double) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var v = n, i = 0
    while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
    return i == 0 ? "\(Int(v)) B" : String(format: "%.1f %@", v, units[i])
}
