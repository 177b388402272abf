import Foundation
import LodeRDB

/// One pass over an RDB file with RDBFileReader (every value decoded and checked,
/// the checksum verified), keeping only figures: inspect's report, and restore's
/// validation pass, which must succeed before anything is written.
struct FileScan {
    struct DBStats {
        var keysPerType: [String: Int] = [:]
        var keys = 0
        var withExpiry = 0
        var expired = 0
        /// Bytes the keys take in the file (each from its first opcode to its value's end).
        var bytes = 0
        var largest: (key: [UInt8], type: String, bytes: Int)?
    }

    var path: String
    var fileBytes = 0
    var version = 0
    var aux: [(String, String)] = []
    var functions: [(name: String, code: [UInt8])] = []
    var dbs: [Int: DBStats] = [:]
    /// nil: no checksum in the format (before version 5); 0: saved with rdbchecksum no.
    var checksum: UInt64?
    var skippedEmptyKeys = 0
    /// Keys and aux records of module types, by type name: Lode has no modules to load them.
    var moduleKeys: [String: Int] = [:]
    var moduleAux: [String: Int] = [:]

    var keys: Int { dbs.values.reduce(0) { $0 + $1.keys } }
    var expired: Int { dbs.values.reduce(0) { $0 + $1.expired } }

    /// Reads the whole file; `onlyDB` counts the keys of one database only (the others
    /// are still read and checked). Throws the reader's error, which names the offset.
    static func scan(_ path: String, onlyDB: Int? = nil, now: Int64, progress: Progress? = nil) throws -> FileScan {
        var scan = FileScan(path: path)
        scan.fileBytes = fileSize(path) ?? 0
        var reader = try RDBFileReader(path: path)
        reader.skipModuleValues = true  // counted, so the report names every module type and its count
        var start = 0
        do {
            while let item = try reader.next() {
                defer { start = reader.offset }
                switch item {
                case .aux(let k, let v): scan.aux.append((printable(k), printable(v)))
                case .function(let code):
                    guard let name = libraryName(code) else {
                        throw ToolError("\(path): a function library at byte \(start) has no '#!<engine> name=<name>' line")
                    }
                    if scan.functions.contains(where: { $0.name == name }) {
                        throw ToolError("\(path): function library '\(name)' appears twice")
                    }
                    scan.functions.append((name, code))
                case .key(let k):
                    guard onlyDB == nil || onlyDB == k.db else { continue }
                    scan.count(k, bytes: reader.offset - start, now: now)
                    if scan.keys % 1024 == 0 { progress?.update(keys: scan.keys, bytes: reader.offset) }
                case .selectDB(let db):
                    guard db < 255 else { throw ToolError("\(path): database \(db) at byte \(start): Lode has at most 255") }
                case .end(let sum): scan.checksum = sum
                case .resizeDB: break
                }
            }
        } catch let error as RDBFileError {
            throw ToolError("\(path): \(error)")
        }
        scan.version = reader.version ?? 0
        scan.skippedEmptyKeys = reader.skippedEmptyKeys
        scan.moduleKeys = reader.skippedModuleKeys
        scan.moduleAux = reader.skippedModuleAux
        return scan
    }

    private mutating func count(_ k: RDBFileKey, bytes: Int, now: Int64) {
        let type = Self.typeName(k.value)
        var s = dbs[k.db] ?? DBStats()
        s.keys += 1
        s.keysPerType[type, default: 0] += 1
        if let e = k.expireAtMs {
            s.withExpiry += 1
            if e <= now { s.expired += 1 }
        }
        s.bytes += bytes
        if bytes > s.largest?.bytes ?? -1 { s.largest = (k.key, type, bytes) }
        dbs[k.db] = s
    }

    /// "3 keys of module type 'ReJSON-RL', 1 aux record of module type 'graphdata'", or nil.
    var moduleSummary: String? {
        let parts = moduleKeys.sorted { $0.key < $1.key }.map { "\($0.value) keys of module type '\($0.key)'" }
            + moduleAux.sorted { $0.key < $1.key }.map { "\($0.value) aux records of module type '\($0.key)'" }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    static func typeName(_ value: RDBValue) -> String {
        switch value {
        case .string: return "string"
        case .list: return "list"
        case .set: return "set"
        case .zset: return "zset"
        case .hash: return "hash"
        case .stream: return "stream"
        }
    }
}

/// The name of a function library from its first line, `#!lua name=mylib` (as
/// Redis's functionExtractLibMetaData reads it, minus the engine check).
func libraryName(_ code: [UInt8]) -> String? {
    guard code.starts(with: Array("#!".utf8)) else { return nil }
    let line = code.prefix { $0 != 10 }
    for part in String(decoding: line, as: UTF8.self).split(separator: " ").dropFirst()
    where part.lowercased().hasPrefix("name=") {
        let name = part.dropFirst(5).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        return name.isEmpty ? nil : name
    }
    return nil
}

/// Bytes for a message: printable ASCII as is, the rest as \xNN, cut at 64 bytes.
func printable<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var s = ""
    for b in bytes.prefix(64) {
        if b >= 32 && b < 127 && b != UInt8(ascii: "\\") { s.unicodeScalars.append(Unicode.Scalar(b)) }
        else { s += String(format: "\\x%02x", b) }
    }
    return bytes.count > 64 ? s + "... (\(bytes.count) bytes)" : s
}
