import ArgumentParser
import Foundation
import LodeEngine
import LodeRDB
import LodeStore
import NIOCore

/// `restore`: an RDB file into a data directory, all or nothing. The file is read
/// twice: a validation pass that writes nothing (checksum, every value), then the
/// writing pass into a replacement environment built beside DATA, swapped in only
/// when complete (see `DataDirectory`). Any failure before the swap leaves DATA as
/// it was.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load an RDB file into a data directory (lode-server stopped), all or nothing.",
        discussion: "Without --replace or --flush, a key or function library that already exists is an error and nothing changes.")

    @Option(name: .customLong("in"), help: "The RDB file to read.") var input: String
    @Option(name: .long, help: "The Lode data directory (created if missing).") var dir: String
    @Option(name: .long, help: "Only this database of the file, into the same database (functions are still restored).")
    var db: Int?
    @Flag(name: .long, help: "Overwrite existing keys and function libraries.") var replace = false
    @Flag(name: .long, help: "Discard everything in the directory first.") var flush = false
    @Flag(name: .long, help: "Leave out module values (Lode has no modules) instead of refusing the file.")
    var skipUnsupported = false

    func validate() throws {
        if replace && flush { throw ValidationError("--replace and --flush exclude each other (--flush discards everything anyway)") }
        if let db, !(0..<255).contains(db) { throw ValidationError("--db must be 0 to 254") }
    }

    func run() throws {
        try reporting {
            let now = currentTimeMillis(), started = Date()
            guard let size = fileSize(input) else { throw ToolError("cannot read \(input): \(errnoText())") }
            let data = DataDirectory(dir)
            // Locked before the validation pass, so a server cannot start between it and the swap.
            try data.lock(creating: true)
            var restored = false
            defer { if !restored { data.removeIfCreated() } }
            let scan = try FileScan.scan(input, onlyDB: db, now: now, progress: Progress("validated", totalBytes: size))
            if let modules = scan.moduleSummary, !skipUnsupported {
                throw ToolError("\(input) holds data of modules Lode cannot load: \(modules); nothing was restored "
                                + "(--skip-unsupported restores the rest)")
            }
            try data.makeWorkDirectory()
            defer { data.removeWorkDirectory() }
            var oldSequence: UInt64 = 0
            if data.hasData {
                let old = try data.openStore()
                oldSequence = old.committedSequence
                defer { old.close() }
                if !flush {
                    do { try old.env.copy(to: data.buildPath, compact: true) } catch {
                        throw ToolError("copying \(data.dataFile) failed: \(error)")
                    }
                }
            }
            let store = try data.openStore(data.buildPath, databases: 255)
            var closed = false
            defer { if !closed { store.close() } }
            // A fresh environment starts at sequence 0: raise it above the old one's.
            try store.advanceCommittedSequence(to: oldSequence)
            let progress = Progress("restored", totalBytes: size, since: started)
            let written = try writeKeys(into: store, now: now, progress: progress)
            try mergeFunctions(scan.functions, into: store)
            try commit(store)
            // Keys arrive in the file's order, not LMDB's, so pages split half full: a compacting
            // copy (a fraction of the writing time) leaves a file about a third smaller.
            do { try store.env.copy(to: data.workPath, compact: true) } catch {
                throw ToolError("copying the restored data failed: \(error)")
            }
            store.close()
            closed = true
            try data.swapIn()
            restored = true
            var summary = "restored \(written.keys) keys (\(written.databases) databases, \(scan.functions.count) functions) "
                + "from \(input) " + progress.rates(keys: written.keys, bytes: size)
            if written.expired > 0 { summary += "; \(written.expired) already-expired keys left out" }
            if scan.skippedEmptyKeys > 0 { summary += "; \(scan.skippedEmptyKeys) empty keys skipped" }
            if let modules = scan.moduleSummary { summary += "; left out \(modules)" }
            progress.finish(summary)
        }
    }

    private func writeKeys(into store: Store, now: Int64, progress: Progress) throws -> (keys: Int, databases: Int, expired: Int) {
        var reader = try RDBFileReader(path: input)
        reader.skipModuleValues = skipUnsupported
        var keys = 0, expired = 0, uncommitted = 0, lastCommitOffset = 0
        var databases = Set<Int>()
        do {
            while let item = try reader.next() {
                guard case .key(let k) = item, db == nil || k.db == db else { continue }
                // Redis leaves already-expired keys out when it loads a file (as a master).
                if let e = k.expireAtMs, e <= now { expired += 1; continue }
                let physical = store.physical(k.db)
                let key = ByteBuffer(bytes: k.key)
                if !replace, try store.get(db: physical, key: key, now: now, touch: false) != nil {
                    throw ToolError("key '\(printable(k.key))' already exists in database \(k.db) "
                                    + "(use --replace to overwrite, or --flush): nothing was restored")
                }
                let record = try StoredValueCodec.record(for: k.value, expireAt: k.expireAtMs ?? 0, into: store)
                try store.put(db: physical, key: key, record: record)
                keys += 1
                uncommitted += 1
                databases.insert(k.db)
                // Bounded memory: LMDB keeps a write transaction's dirty pages in memory.
                if uncommitted >= 4096 || reader.offset - lastCommitOffset > 32 << 20 {
                    try commit(store)
                    uncommitted = 0
                    lastCommitOffset = reader.offset
                    progress.update(keys: keys, bytes: reader.offset)
                }
            }
        } catch let error as RDBFileError {
            // The validation pass read this file whole: it changed since.
            throw ToolError("\(input) (changed since it was validated?): \(error)")
        }
        return (keys, databases.count, expired)
    }

    /// Adds the file's libraries to the stored ones (one FUNCTION DUMP payload).
    private func mergeFunctions(_ incoming: [(name: String, code: [UInt8])], into store: Store) throws {
        guard !incoming.isEmpty else { return }
        var libraries: [(name: String, code: [UInt8])] = []
        if let payload = try store.getMeta(RDBExport.functionsMetaName), !payload.isEmpty {
            do {
                libraries = try FunctionPayload.decode(payload).map { (libraryName($0) ?? "", $0) }
            } catch {
                throw ToolError("the data directory's stored function libraries do not decode: \(error)")
            }
        }
        for lib in incoming {
            if let i = libraries.firstIndex(where: { $0.name == lib.name }) {
                guard replace else {
                    throw ToolError("function library '\(lib.name)' already exists (use --replace or --flush): nothing was restored")
                }
                libraries[i] = lib
            } else {
                libraries.append(lib)
            }
        }
        try store.putMeta(RDBExport.functionsMetaName, FunctionPayload.encode(libraries.map { $0.code }))
    }

    private func commit(_ store: Store) throws {
        if case .failed = store.endTurn() {
            throw ToolError("writing the restored data failed: \(store.lastFailure.map { "\($0)" } ?? "unknown error")")
        }
    }
}
