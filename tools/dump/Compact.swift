import ArgumentParser
import Foundation
import LodeStore

/// `compact`: LMDB never shrinks its file (freed pages are reused, not returned), so
/// after mass deletes data.mdb stays at its high-water mark. A compacting copy holds
/// only the live pages; it is swapped in as restore swaps (see `DataDirectory`).
struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rewrite data.mdb without its free pages (lode-server stopped).")

    @Option(name: .long, help: "The Lode data directory.") var dir: String

    func run() throws {
        try reporting {
            let data = DataDirectory(dir)
            try data.lock(creating: false)
            guard data.hasData else { throw ToolError("\(dir) has no data.mdb") }
            let progress = Progress("compacted")
            try data.makeWorkDirectory()
            defer { data.removeWorkDirectory() }
            // Opened with Store first: the commit log is replayed, so the copy holds every write.
            let store = try data.openStore()
            let before = fileSize(data.dataFile) ?? 0
            do { try store.env.copy(to: data.workPath, compact: true) } catch {
                store.close()
                throw ToolError("copying \(data.dataFile) failed: \(error)")
            }
            store.close()
            let after = fileSize(data.workPath + "/data.mdb") ?? 0
            try data.swapIn()
            progress.finish(String(format: "compacted %@: %@ → %@ in %.1f s", dir, humanBytes(Double(before)),
                                   humanBytes(Double(after)), progress.elapsed))
        }
    }
}
