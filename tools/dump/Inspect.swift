import ArgumentParser
import Foundation
import LodeStore

/// `inspect`: what an RDB file holds, read and checked whole (as restore's validation
/// pass reads it), so a file inspect accepts is one restore accepts.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check an RDB file and summarize what it holds.")

    @Argument(help: "The RDB file.") var file: String
    @Flag(name: .long, help: "Machine-readable output.") var json = false

    func run() throws {
        try reporting {
            let now = currentTimeMillis()
            let scan = try FileScan.scan(file, now: now)
            print(json ? try jsonText(scan) : text(scan), terminator: "")
        }
    }

    private func checksumText(_ scan: FileScan) -> String {
        switch scan.checksum {
        case nil: return "none (RDB version \(scan.version) has no checksum)"
        case 0?: return "no checksum (saved with rdbchecksum no)"
        case let sum?: return String(format: "verified (%016llx)", sum)
        }
    }

    private func text(_ scan: FileScan) -> String {
        var out = "file: \(file) (\(scan.fileBytes) bytes)\nRDB version: \(scan.version)\nchecksum: \(checksumText(scan))\n"
        for (k, v) in scan.aux { out += "aux \(k): \(v)\n" }
        let names = scan.functions.map(\.name).joined(separator: ", ")
        out += "functions: \(scan.functions.count)" + (names.isEmpty ? "" : " (\(names))") + "\n"
        out += "keys: \(scan.keys) in \(scan.dbs.count) databases\n"
        for db in scan.dbs.keys.sorted() {
            let s = scan.dbs[db]!
            let types = s.keysPerType.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            out += "db\(db): keys=\(s.keys) \(types) expires=\(s.withExpiry) already_expired=\(s.expired) bytes=\(s.bytes)"
            if let l = s.largest { out += " largest='\(printable(l.key))' (\(l.type), \(l.bytes) bytes)" }
            out += "\n"
        }
        if scan.skippedEmptyKeys > 0 { out += "empty keys skipped: \(scan.skippedEmptyKeys)\n" }
        if let modules = scan.moduleSummary { out += "module data (restore needs --skip-unsupported): \(modules)\n" }
        return out
    }

    private func jsonText(_ scan: FileScan) throws -> String {
        var dbs: [String: Any] = [:]
        for (db, s) in scan.dbs {
            var entry: [String: Any] = ["keys": s.keys, "types": s.keysPerType, "expires": s.withExpiry,
                                        "already_expired": s.expired, "bytes": s.bytes]
            if let l = s.largest { entry["largest"] = ["key": printable(l.key), "type": l.type, "bytes": l.bytes] }
            dbs[String(db)] = entry
        }
        let object: [String: Any] = [
            "file": file, "file_bytes": scan.fileBytes, "rdb_version": scan.version,
            "checksum": scan.checksum.map { $0 == 0 ? "none" : String(format: "%016llx", $0) } ?? NSNull(),
            "checksum_verified": (scan.checksum ?? 0) != 0,
            "aux": Dictionary(scan.aux, uniquingKeysWith: { _, b in b }),
            "functions": scan.functions.map(\.name), "keys": scan.keys, "databases": dbs,
            "skipped_empty_keys": scan.skippedEmptyKeys, "module_keys": scan.moduleKeys, "module_aux": scan.moduleAux,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
