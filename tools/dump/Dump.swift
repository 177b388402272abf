import ArgumentParser
import Foundation
import LodeEngine
import LodeRDB
import LodeStore

/// `dump`: one LMDB read transaction of DATA written as an RDB file. A read
/// transaction never waits for the server's writer nor makes it wait, so this is a
/// consistent snapshot of a running server too: of its last window commit, at most
/// about `commit-window-ms` behind its acknowledged writes (BGSAVE is exact). With no
/// server running, the directory is opened as the server opens it first, so the
/// writes only its commit log holds (after a crash) are in the dump.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a data directory's keys and functions as an RDB file.")

    @Option(name: .long, help: "The Lode data directory.") var dir: String
    @Option(name: .long, help: "The RDB file to write ('-': standard output).") var out: String
    @Option(name: .long, help: "Only this database.") var db: Int?
    @Flag(name: .long, help: "Leave strings uncompressed (faster, larger).") var noCompression = false

    func run() throws {
        try reporting {
            if let db, !(0..<255).contains(db) { throw ToolError("--db must be 0 to 254") }
            let snapshot: StoreSnapshot
            let data = DataDirectory(dir)
            var offline: Store?
            if data.hasData, (try? data.lock(creating: false)) != nil { offline = try data.openStore() }
            defer { offline?.close(); data.unlock() }
            do { snapshot = try offline.map { try StoreSnapshot(of: $0) } ?? StoreSnapshot(path: dir) } catch {
                throw ToolError("\(error)")
            }
            defer { snapshot.close() }
            var options = RDBExport.Options(databases: snapshot.dbMap.count, now: currentTimeMillis())
            options.onlyDB = db
            options.compression = !noCompression
            let total = (0..<snapshot.dbMap.count).filter { db == nil || $0 == db }.reduce(0) { $0 + snapshot.counts(logicalDB: $1).keys }
            let progress = Progress("dumped", totalKeys: total)
            func export(_ sink: @escaping ([UInt8]) throws -> Void) throws -> RDBExport.Summary {
                try RDBExport.write(from: snapshot, options: options, progress: { progress.update(keys: $0.keys, bytes: $0.bytes) },
                                    sink: sink)
            }
            var summary = RDBExport.Summary()
            if out == "-" {
                summary = try export(RDBFileWriter.fileDescriptorSink(1))
            } else {
                try RDBSaves.writeFile(out) { summary = try export($0) }
            }
            progress.finish("dumped \(summary.keys) keys (\(summary.keysPerDB.count) databases, \(summary.functions) functions) "
                            + "to \(out == "-" ? "stdout" : out), \(humanBytes(Double(summary.bytes))) "
                            + progress.rates(keys: summary.keys, bytes: summary.bytes))
        }
    }
}
