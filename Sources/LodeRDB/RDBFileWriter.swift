#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RDB {
    // The opcodes of a whole RDB file (rdb.h), written between and before keys.
    public static let opcodeModuleAux: UInt8 = 247, opcodeIdle: UInt8 = 248, opcodeFreq: UInt8 = 249
    public static let opcodeAux: UInt8 = 250, opcodeResizeDB: UInt8 = 251, opcodeExpireTimeMs: UInt8 = 252
    public static let opcodeExpireTime: UInt8 = 253, opcodeSelectDB: UInt8 = 254, opcodeEOF: UInt8 = 255
    /// "REDIS", the first five bytes of every RDB file.
    public static let magic: [UInt8] = Array("REDIS".utf8)
}

/// Why an `RDBFileWriter` could not go on.
public enum RDBFileWriterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A write after `finish()`.
    case alreadyFinished
    /// write(2) to the file descriptor of `fileDescriptorSink` failed with `errno`.
    case writeFailed(errno: Int32)

    public var description: String {
        switch self {
        case .alreadyFinished: return "RDB file already finished"
        case .writeFailed(let e): return "RDB file write failed: \(String(cString: strerror(e)))"
        }
    }
}

/// Writes a whole RDB file as Redis 7.0's rdbSaveRio does, streaming: the bytes
/// gather in a buffer that goes to `sink` whenever it passes `flushThreshold` and
/// at `finish()`, with a running CRC-64 of everything written.
///
/// The order Redis writes, which a loader expects:
///
///     writeHeader()  writeAux(...)*  writeFunction(code:)*
///     (selectDB(_:keys:expires:)  writeKey(...)*)*  finish()
///
/// Values are written as `RDBWriter.writeValue` writes them, under the limits given
/// per key, so a file made here loads in redis-server 7.0 (and a value Redis would
/// store the same way gets Redis's bytes).
public struct RDBFileWriter {
    public static let defaultFlushThreshold = 256 * 1024

    private var out: RDBWriter
    private let sink: ([UInt8]) throws -> Void
    private let flushThreshold: Int
    /// Redis's `rdbchecksum`: when off, the file ends in a zero checksum, which loaders do not check.
    public let checksumEnabled: Bool
    /// The CRC-64 of the bytes handed to the sink so far.
    public private(set) var checksum: UInt64 = 0
    private var flushed = 0
    public private(set) var isFinished = false

    /// Every byte written so far, flushed or still buffered.
    public var bytesWritten: Int { flushed + out.bytes.count }

    /// - Parameters:
    ///   - compression: Redis's `rdbcompression`: LZF for strings over 20 bytes that shrink by 4 or more.
    ///   - checksum: Redis's `rdbchecksum`.
    ///   - sink: takes each piece of the file, in order; an error it throws comes out of the write that flushed.
    public init(compression: Bool = true, checksum: Bool = true, flushThreshold: Int = defaultFlushThreshold,
                sink: @escaping ([UInt8]) throws -> Void) {
        self.out = RDBWriter(compression: compression)
        self.checksumEnabled = checksum
        self.flushThreshold = max(1, flushThreshold)
        self.sink = sink
    }

    /// "REDIS" and the version in four digits ("REDIS0010").
    public mutating func writeHeader(version: UInt16 = RDB.version) throws {
        precondition(version <= 9999, "an RDB version has four digits")
        try checkOpen()
        let digits = String(version)
        out.writeBytes(RDB.magic)
        out.writeBytes((String(repeating: "0", count: 4 - digits.count) + digits).utf8)
        try flushIfFull()
    }

    /// An AUX field, as rdbSaveAuxField writes it: both strings as rdbSaveRawString
    /// (integer-encoded when canonical integers in int32 range, LZF when that pays).
    public mutating func writeAux<K: Collection, V: Collection>(key: K, value: V) throws
    where K.Element == UInt8, V.Element == UInt8 {
        try checkOpen()
        out.writeByte(RDB.opcodeAux)
        out.writeString(key)
        out.writeString(value)
        try flushIfFull()
    }

    public mutating func writeAux(_ key: String, _ value: String) throws {
        try writeAux(key: Array(key.utf8), value: Array(value.utf8))
    }

    /// An integer AUX field as rdbSaveAuxFieldStrInt writes it: the decimal text, so
    /// integer-encoded in the int32 range and verbatim digits beyond.
    public mutating func writeAux(_ key: String, _ value: Int64) throws {
        try writeAux(key: Array(key.utf8), value: Array(String(value).utf8))
    }

    /// The AUX fields rdbSaveInfoAuxFields writes without replication info:
    /// redis-ver, redis-bits, ctime, used-mem, aof-base.
    public mutating func writeStandardAux(redisVersion: String = "7.0.15", ctime: Int64? = nil, usedMemory: Int64 = 0,
                                          aofBase: Bool = false) throws {
        try writeAux("redis-ver", redisVersion)
        try writeAux("redis-bits", Int64(MemoryLayout<Int>.size * 8))
        try writeAux("ctime", ctime ?? Int64(time(nil)))
        try writeAux("used-mem", usedMemory)
        try writeAux("aof-base", aofBase ? 1 : 0)
    }

    /// A function library as rdbSaveFunctions writes it: RDB_OPCODE_FUNCTION2 and the
    /// library's code (with its "#!lua name=..." line) as a string. Redis writes the
    /// libraries after the AUX fields, before the databases.
    public mutating func writeFunction<C: Collection>(code: C) throws where C.Element == UInt8 {
        try checkOpen()
        out.writeByte(RDB.opcodeFunction2)
        out.writeString(code)
        try flushIfFull()
    }

    /// SELECTDB and RESIZEDB, as rdbSaveDb starts each non-empty database: `keys` is
    /// the number of keys that follow, `expires` how many of them have an expiry.
    public mutating func selectDB(_ db: Int, keys: Int, expires: Int) throws {
        precondition(db >= 0 && keys >= 0 && expires >= 0, "database numbers and sizes are not negative")
        try checkOpen()
        out.writeByte(RDB.opcodeSelectDB)
        out.writeLength(UInt64(db))
        out.writeByte(RDB.opcodeResizeDB)
        out.writeLength(UInt64(keys))
        out.writeLength(UInt64(expires))
        try flushIfFull()
    }

    /// A key as rdbSaveKeyValuePair writes it: EXPIRETIME_MS (absolute Unix time in ms)
    /// if it expires, IDLE (seconds, as under an LRU maxmemory-policy) and FREQ (the LFU
    /// counter) if given, the type byte `value.rdbType(limits:)`, the key, the value.
    /// Collections must not be empty: Redis never saves one and skips it on load.
    public mutating func writeKey<K: Collection>(_ key: K, _ value: RDBValue, expireAtMs: Int64? = nil,
                                                 idleSeconds: UInt64? = nil, freq: UInt8? = nil,
                                                 limits: RDBEncodingLimits = RDBEncodingLimits()) throws
    where K.Element == UInt8 {
        try checkOpen()
        if let expireAtMs {
            out.writeByte(RDB.opcodeExpireTimeMs)
            out.writeMilliseconds(expireAtMs)
        }
        if let idleSeconds {
            out.writeByte(RDB.opcodeIdle)
            out.writeLength(idleSeconds)
        }
        if let freq {
            out.writeByte(RDB.opcodeFreq)
            out.writeByte(freq)
        }
        out.writeByte(value.rdbType(limits: limits))
        out.writeString(key)
        out.writeValue(value, limits: limits)
        try flushIfFull()
    }

    /// The EOF opcode and the CRC-64 of every byte before the checksum (0 with the
    /// checksum off), little-endian; then the last flush. Nothing can be written after.
    public mutating func finish() throws {
        try checkOpen()
        out.writeByte(RDB.opcodeEOF)
        let crc = checksumEnabled ? CRC64.checksum(out.bytes, continuing: checksum) : 0
        var footer: [UInt8] = []
        appendLittleEndian(crc, width: 8, to: &footer)
        out.writeBytes(footer)
        try flush()
        isFinished = true
    }

    /// Hands the buffered bytes to the sink now.
    public mutating func flush() throws {
        guard !out.bytes.isEmpty else { return }
        let piece = out.takeBytes()
        let crc = checksumEnabled ? CRC64.checksum(piece, continuing: checksum) : 0
        try sink(piece)
        checksum = crc
        flushed += piece.count
    }

    private mutating func flushIfFull() throws {
        if out.bytes.count >= flushThreshold { try flush() }
    }

    private func checkOpen() throws {
        if isFinished { throw RDBFileWriterError.alreadyFinished }
    }

    /// A sink that writes each piece to `fd` in full (retrying short writes and
    /// EINTR), throwing `RDBFileWriterError.writeFailed`. The descriptor is not closed.
    public static func fileDescriptorSink(_ fd: Int32) -> ([UInt8]) throws -> Void {
        return { piece in
            try piece.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw RDBFileWriterError.writeFailed(errno: errno)
                    }
                    done += n
                }
            }
        }
    }
}
