import LodeRDB
import LodeStore
import NIOCore

/// Writes a whole dataset as an RDB file (version 10, what Redis 7.0 writes), one
/// key at a time, to a sink: BGSAVE's and SAVE's dump.rdb, the SYNC payload and the
/// dump tool share it. Memory is bounded by the largest single value.
public enum RDBExport {
    public struct Summary: Sendable {
        public var keys = 0
        public var bytes = 0
        /// Keys written per logical database.
        public var keysPerDB: [Int: Int] = [:]
        public var functions = 0
        public init() {}
    }

    public struct Options {
        public var databases: Int
        public var limits = RDBEncodingLimits()
        /// Keys expired by this time (Unix ms) are left out; 0 keeps every key.
        public var now: Int64
        public var compression = true
        /// Only this logical database (the tool's --db), else all.
        public var onlyDB: Int? = nil
        public var extraAux: [(String, String)] = []
        public init(databases: Int, now: Int64) {
            self.databases = databases
            self.now = now
        }
    }

    /// The metadata record holding the FUNCTION libraries (for the dump tool's restore).
    public static let functionsMetaName = FunctionLibraries.metaName

    /// Writes every key of `reader` (the live store or a snapshot) as an RDB file.
    /// `progress` is called every few thousand keys and at the end.
    @discardableResult
    public static func write(from reader: StoreReading, options: Options, progress: ((Summary) -> Void)? = nil,
                             sink: @escaping ([UInt8]) throws -> Void) throws -> Summary {
        var writer = RDBFileWriter(compression: options.compression, sink: sink)
        var summary = Summary()
        try writer.writeHeader()
        try writer.writeStandardAux(redisVersion: LodeVersion.redisCompatible, ctime: options.now / 1000)
        try writer.writeAux("lode-ver", LodeVersion.lode)
        for (k, v) in options.extraAux { try writer.writeAux(k, v) }
        if let payload = try reader.meta(FunctionLibraries.metaName), !payload.isEmpty {
            let libraries: [[UInt8]]
            do { libraries = try FunctionPayload.decode(payload) } catch {
                throw StoredValueCodec.Damaged(what: "stored FUNCTION libraries: \(error)")
            }
            for code in libraries { try writer.writeFunction(code: code) }
            summary.functions = libraries.count
        }
        for db in 0..<options.databases where options.onlyDB == nil || options.onlyDB == db {
            var selected = false
            try reader.forEachKey(db: db, now: options.now) { key, record in
                if record.type != .string && record.type != .stream && (record.collection?.size ?? 0) <= 0 {
                    return true  // an empty collection: Redis never holds one and refuses to load it
                }
                if !selected {
                    let hint = reader.counts(logicalDB: db)
                    try writer.selectDB(db, keys: hint.keys, expires: hint.expires)
                    selected = true
                }
                let value = try StoredValueCodec.rdbValue(record, from: reader)
                try writer.writeKey(Array(key.readableBytesView), value,
                                    expireAtMs: record.expireAt != 0 ? record.expireAt : nil, limits: options.limits)
                summary.keys += 1
                summary.keysPerDB[db, default: 0] += 1
                if summary.keys % 4096 == 0, let progress {
                    summary.bytes = writer.bytesWritten
                    progress(summary)
                }
                return true
            }
        }
        try writer.finish()
        summary.bytes = writer.bytesWritten
        progress?(summary)
        return summary
    }
}
