import Foundation
import LodeRDB
import LodeStore
import NIOCore

/// SAVE, BGSAVE and the `save` schedule: dump.rdb files (Redis's RDB format, via
/// RDBExport) for the backup tools and habits built around them. Every write is
/// already on disk in LMDB, so a snapshot file is a backup, not what keeps data safe
/// — hence Lode's default `save ""`.
///
/// BGSAVE reads an LMDB snapshot on a thread of its own: the loop is never blocked
/// and the writer never waits. The snapshot is taken once the turn that ran BGSAVE
/// has committed, so it holds every write acknowledged before it.
public final class RDBSaves {
    /// Unix time (seconds) of the last successful save; the start time until then (as Redis).
    private(set) var lastSave = currentTimeMillis() / 1000
    private(set) var lastStatusOK = true
    private(set) var lastDurationSeconds = -1
    private(set) var saves = 0
    private(set) var inProgressSince: Int64? = nil
    /// Keys written so far / to write, of the save in progress.
    let keysProcessed = ManagedCounter()
    private(set) var keysTotal = 0
    /// BGSAVE SCHEDULE (or BGSAVE inside MULTI): one starts when nothing runs.
    private(set) var scheduled = false
    /// `stats.dirty` at the last save: what "changes since the last save" count from.
    private var writesAtLastSave = 0
    private var lastAttempt: Int64 = 0

    var inProgress: Bool { inProgressSince != nil }

    func changesSinceLastSave(_ server: ServerState) -> Int { max(0, server.stats.dirty - writesAtLastSave) }

    /// The file a save writes: `dir`/`dbfilename`.
    static func path(_ config: Configuration) -> String {
        config.dir + "/" + config.inertValue("dbfilename")
    }

    static func exportOptions(_ server: ServerState) -> RDBExport.Options {
        var o = RDBExport.Options(databases: server.store.databases, now: currentTimeMillis())
        o.limits = server.config.rdbEncodingLimits
        o.compression = server.config.inertValue("rdbcompression") != "no"
        return o
    }

    /// Writes `path` through a temporary file in the same directory, synced and renamed
    /// over it, so a reader never sees a partial file (rdbSave's temp-<pid>.rdb). The
    /// dump tool writes its files through it too.
    public static func writeFile(_ path: String, _ body: (@escaping ([UInt8]) throws -> Void) throws -> Void) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let temp = (dir.isEmpty ? "." : dir) + "/temp-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).rdb"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SaveError("Failed opening the temp RDB file \(temp) (in server root dir \(dir)) for saving: "
                                           + String(cString: strerror(errno))) }
        do {
            try body(RDBFileWriter.fileDescriptorSink(fd))
            guard fsync(fd) == 0 else { throw SaveError("fsync of \(temp) failed: " + String(cString: strerror(errno))) }
            close(fd)
            guard rename(temp, path) == 0 else {
                throw SaveError("rename of \(temp) to \(path) failed: " + String(cString: strerror(errno)))
            }
            let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
            if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
    }

    struct SaveError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// SAVE: the dataset as the loop sees it now (the turn's writes included), written
    /// on the loop, as Redis's SAVE blocks the server.
    func saveNow(_ server: ServerState) -> Bool {
        let started = currentTimeMillis()
        let path = Self.path(server.config)
        do {
            let options = Self.exportOptions(server)
            try Self.writeFile(path) { sink in try RDBExport.write(from: server.store, options: options, sink: sink) }
        } catch {
            server.logger.warning("Error saving DB on disk: \(error)")
            lastStatusOK = false
            return false
        }
        finished(server, ok: true, started: started, writesAtStart: server.stats.dirty)
        server.logger.notice("DB saved on disk")
        return true
    }

    /// BGSAVE: a snapshot taken after this turn commits, written on a thread of its own.
    func startBackground(_ server: ServerState, loop: EventLoop) {
        inProgressSince = currentTimeMillis()
        scheduled = false
        keysProcessed.value = 0
        server.afterCommit { [self] in
            let writesAtStart = server.stats.dirty
            let snapshot: StoreSnapshot
            do { snapshot = try StoreSnapshot(of: server.store) } catch {
                server.logger.warning("Background saving error: \(error)")
                return finished(server, ok: false, started: inProgressSince ?? 0, writesAtStart: writesAtStart)
            }
            keysTotal = (0..<server.store.databases).reduce(0) { $0 + snapshot.counts(logicalDB: $1).keys }
            server.logger.notice("Background saving started")
            let path = Self.path(server.config), options = Self.exportOptions(server)
            let counter = keysProcessed, started = inProgressSince ?? 0
            let done = NIOLoopBound(server, eventLoop: loop)
            let thread = Thread {
                var failure: Error? = nil
                do {
                    try Self.writeFile(path) { sink in
                        try RDBExport.write(from: snapshot, options: options, progress: { counter.value = $0.keys }, sink: sink)
                    }
                } catch { failure = error }
                snapshot.close()
                loop.execute {
                    let server = done.value
                    if let failure { server.logger.warning("Background saving error: \(failure)") }
                    else { server.logger.notice("Background saving terminated with success") }
                    server.rdbSaves.finished(server, ok: failure == nil, started: started, writesAtStart: writesAtStart)
                }
            }
            thread.name = "lode-bgsave"
            thread.start()
        }
    }

    private func finished(_ server: ServerState, ok: Bool, started: Int64, writesAtStart: Int) {
        inProgressSince = nil
        lastStatusOK = ok
        lastAttempt = currentTimeMillis() / 1000
        lastDurationSeconds = Int((currentTimeMillis() - started) / 1000)
        if ok {
            lastSave = currentTimeMillis() / 1000
            writesAtLastSave = writesAtStart
            saves += 1
        }
    }

    func schedule() { scheduled = true }

    /// serverCron's part: a scheduled BGSAVE, or one the `save <seconds> <changes>` points ask for
    /// (after a failed attempt, not again for 5 seconds: CONFIG_BGSAVE_RETRY_DELAY).
    func cron(_ server: ServerState, loop: EventLoop) {
        guard !inProgress else { return }
        if scheduled { return startBackground(server, loop: loop) }
        let words = server.config.inertValue("save").split(separator: " ").compactMap { Int($0) }
        guard words.count >= 2 else { return }
        let now = currentTimeMillis() / 1000, changes = changesSinceLastSave(server)
        for i in stride(from: 0, to: words.count - 1, by: 2) {
            let seconds = words[i], needed = words[i + 1]
            if changes >= needed && now - lastSave > seconds && (lastStatusOK || now - lastAttempt > 5) {
                server.logger.notice("\(needed) changes in \(seconds) seconds. Saving...")
                return startBackground(server, loop: loop)
            }
        }
    }

    /// The rdb_* lines of INFO persistence.
    func infoLines(_ server: ServerState) -> [String] {
        let now = currentTimeMillis()
        return ["current_save_keys_processed:\(inProgress ? keysProcessed.value : 0)",
                "current_save_keys_total:\(inProgress ? keysTotal : 0)",
                "rdb_changes_since_last_save:\(changesSinceLastSave(server))",
                "rdb_bgsave_in_progress:\(inProgress ? 1 : 0)", "rdb_last_save_time:\(lastSave)",
                "rdb_last_bgsave_status:\(lastStatusOK ? "ok" : "err")",
                "rdb_last_bgsave_time_sec:\(lastDurationSeconds)",
                "rdb_current_bgsave_time_sec:\(inProgressSince.map { (now - $0) / 1000 } ?? -1)",
                "rdb_saves:\(saves)"]
    }
}

/// A counter the save thread writes and the loop reads (for INFO's progress figure).
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var v = 0
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
}
