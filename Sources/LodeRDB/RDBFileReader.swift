#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RDB {
    // The annotations of a RDB_TYPE_MODULE_2 value and of module aux data (rdb.h's RDB_MODULE_OPCODE_*).
    static let moduleOpcodeEOF: UInt64 = 0, moduleOpcodeSInt: UInt64 = 1, moduleOpcodeUInt: UInt64 = 2
    static let moduleOpcodeFloat: UInt64 = 3, moduleOpcodeDouble: UInt64 = 4, moduleOpcodeString: UInt64 = 5
}

/// A key of an RDB file with what the opcodes before it said about it.
public struct RDBFileKey: Equatable, Sendable {
    public var key: [UInt8]
    public var value: RDBValue
    /// Absolute Unix time in ms (EXPIRETIME_MS, or EXPIRETIME's seconds × 1000).
    public var expireAtMs: Int64?
    /// LRU idle time in seconds (RDB_OPCODE_IDLE).
    public var idle: UInt64?
    /// LFU counter (RDB_OPCODE_FREQ).
    public var freq: UInt8?
    /// The database the last SELECTDB chose (0 before any).
    public var db: Int

    public init(key: [UInt8], value: RDBValue, expireAtMs: Int64? = nil, idle: UInt64? = nil, freq: UInt8? = nil,
                db: Int = 0) {
        self.key = key
        self.value = value
        self.expireAtMs = expireAtMs
        self.idle = idle
        self.freq = freq
        self.db = db
    }
}

/// One item of an RDB file, in file order.
public enum RDBFileItem: Equatable, Sendable {
    case aux(key: [UInt8], value: [UInt8])
    case selectDB(Int)
    /// The key and expire counts of the database just selected (a sizing hint).
    case resizeDB(keys: UInt64, expires: UInt64)
    /// A function library's code. A library of the 7.0 rc format (RDB_OPCODE_FUNCTION)
    /// comes translated as rdbFunctionLoad does: "#!<engine> name=<name>\n<code>".
    case function(code: [UInt8])
    case key(RDBFileKey)
    /// EOF, with the stored checksum (0: saved with rdbchecksum no, not checked),
    /// nil for versions before 5, which have none.
    case end(checksum: UInt64?)
}

/// Reads an RDB file of version 1...10 one item at a time, as Redis 7.0's
/// rdbLoadRio does, with bounded memory: the bytes come from the source in blocks,
/// an item is parsed from the buffer, and when the buffer ends inside an item more
/// is read (at least what the item's next read needs, and at least as much again as
/// is buffered, so a huge string is parsed twice and a huge collection O(log n) times,
/// not once per block) and the item is parsed again. Consumed bytes are dropped at each
/// refill. Memory is about twice the current item plus a block at most, however
/// large the file; a length that lies costs only the data that actually arrives (and
/// fails at once when the file size is known), never an allocation of its own size.
///
/// Every value is checked as with `sanitize-dump-payload yes` (see
/// `RDBReader.readValue(type:)`); nothing in the bytes can make it trap, and every
/// failure is an `RDBFileError` naming the file offset. After an error, `next()`
/// throws it again.
public struct RDBFileReader {
    /// Reads into the buffer, returns the count read, 0 at the end of the data.
    public typealias Source = (UnsafeMutableRawBufferPointer) throws -> Int
    public static let defaultBlockSize = 1 << 20
    /// The most one read asks for, however much an item needs.
    static let maxReadSize = 64 << 20

    private let source: Source
    private let blockSize: Int
    /// How many bytes the source delivers in all, when known (a regular file):
    /// an item that needs more fails at once instead of after reading the rest.
    private let totalBytes: Int?
    private var buffer: [UInt8] = []
    /// Index in `buffer` of the next unconsumed byte; `base` is the file offset of buffer[0].
    private var position = 0, base = 0
    private var sourceEnded = false
    private var crc: UInt64 = 0
    private var phase = Phase.header
    private var failure: RDBFileError?
    private var pending = Pending()
    private var db = 0

    /// The RDB version of the header, once the first `next()` has read it.
    public private(set) var version: Int?
    /// Keys whose value was an empty collection, skipped as Redis skips them on load.
    public private(set) var skippedEmptyKeys = 0
    /// Whether a non-zero stored checksum must match (Redis's rdbchecksum / skip-checksum-validation).
    public var verifyChecksum = true
    /// Whether module values of RDB_TYPE_MODULE_2 and module aux data are skipped instead
    /// of failing: their fields are annotated, so they can be stepped over without the
    /// module (as redis-check-rdb does). RDB_TYPE_MODULE (version 1) always fails.
    public var skipModuleValues = false
    /// Keys and aux records skipped by `skipModuleValues`, by module type name ("ReJSON-RL").
    public private(set) var skippedModuleKeys: [String: Int] = [:]
    public private(set) var skippedModuleAux: [String: Int] = [:]
    /// The file offset of the next byte to parse: after `.end`, the file's length.
    public var offset: Int { base + position }
    /// Bytes read from the source but not parsed: after `.end`, whatever followed the
    /// file (for a socket, the start of what comes next).
    public var unconsumedBytes: ArraySlice<UInt8> { buffer[position...] }
    /// Units parsed, counting each parse again after a refill (for tests: refills must not go quadratic).
    private(set) var parseAttempts = 0

    private enum Phase { case header, body, checksum, done }
    private struct Pending {
        var expireAtMs: Int64?, idle: UInt64?, freq: UInt8?
    }

    /// A reader over any byte source; `totalBytes`, if given, is all the source will deliver.
    public init(blockSize: Int = defaultBlockSize, totalBytes: Int? = nil, source: @escaping Source) {
        self.source = source
        self.blockSize = max(1, blockSize)
        self.totalBytes = totalBytes
    }

    /// A reader over bytes in memory, read `blockSize` at a time like a file.
    public init(bytes: [UInt8], blockSize: Int = defaultBlockSize) {
        var at = 0
        self.init(blockSize: blockSize, totalBytes: bytes.count) { into in
            let n = min(into.count, bytes.count - at)
            bytes.withUnsafeBytes { src in
                UnsafeMutableRawBufferPointer(rebasing: into[0..<n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[at..<(at + n)]))
            }
            at += n
            return n
        }
    }

    /// A reader of an open descriptor from its current position (a file, pipe or
    /// socket); it is not closed. For a socket, the data should end where the RDB
    /// ends, since the reader reads ahead (see `unconsumedBytes`).
    public init(fileDescriptor fd: Int32, blockSize: Int = defaultBlockSize) {
        self.init(handle: Descriptor(fd, owned: false), blockSize: blockSize)
    }

    /// A reader of the file at `path`, closed when the reader is released.
    public init(path: String, blockSize: Int = defaultBlockSize) throws(RDBFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .openFailed(path: path, errno: errno) }
        self.init(handle: Descriptor(fd, owned: true), blockSize: blockSize)
    }

    private init(handle: Descriptor, blockSize: Int) {
        self.init(blockSize: blockSize, totalBytes: handle.remainingFileBytes()) { into in try handle.read(into) }
    }

    /// The next item, nil after `.end`.
    public mutating func next() throws(RDBFileError) -> RDBFileItem? {
        if let failure { throw failure }
        do {
            return try advance()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func advance() throws(RDBFileError) -> RDBFileItem? {
        while true {
            switch phase {
            case .done:
                return nil
            case .checksum:
                let computed = crc, at = offset
                guard case .checksum(let stored) = try runUnit() else { continue }
                phase = .done
                if verifyChecksum && stored != 0 && stored != computed {
                    throw .checksumMismatch(offset: at, stored: stored, computed: computed)
                }
                return .end(checksum: stored)
            case .header, .body:
                switch try runUnit() {
                case .header(let v):
                    version = v
                    phase = .body
                case .expire(let t): pending.expireAtMs = t
                case .idle(let t): pending.idle = t
                case .freq(let f): pending.freq = f
                case .item(let item):
                    if case .selectDB(let n) = item { db = n }
                    return item
                case .key(let key, let value):
                    defer { pending = Pending() }
                    return .key(RDBFileKey(key: key, value: value, expireAtMs: pending.expireAtMs, idle: pending.idle,
                                           freq: pending.freq, db: db))
                case .emptyKey:
                    skippedEmptyKeys += 1
                    pending = Pending()
                case .skippedModule(let name, let isKey):
                    if isKey {
                        skippedModuleKeys[name, default: 0] += 1
                        pending = Pending()
                    } else {
                        skippedModuleAux[name, default: 0] += 1
                    }
                case .eof:
                    if let version, version >= 5 {
                        phase = .checksum
                    } else {
                        phase = .done
                        return .end(checksum: nil)
                    }
                case .checksum:
                    continue
                }
            }
        }
    }

    // MARK: - Units: one opcode and its operands, parsed whole or not at all

    private enum Outcome {
        case header(Int)
        case expire(Int64), idle(UInt64), freq(UInt8)
        case item(RDBFileItem)
        case key([UInt8], RDBValue)
        case emptyKey
        case skippedModule(String, isKey: Bool)
        case eof
        case checksum(UInt64)
    }

    fileprivate enum UnitError: Error {
        /// A read failed; the offset is in buffer coordinates, `context` says what was read.
        case rdb(RDBError, context: String)
        case file(RDBFileError)
    }

    /// Parses the next unit, refilling the buffer while it runs out of bytes.
    private mutating func runUnit() throws(RDBFileError) -> Outcome {
        while true {
            let start = position
            parseAttempts += 1
            switch attempt() {
            case .success(let (outcome, end)):
                crc = CRC64.checksum(buffer[start..<end], continuing: crc)
                position = end
                return outcome
            case .failure(.rdb(.truncated(let at, let needed), let context)):
                let missing = unavailable(needed)
                if sourceEnded || missing > 0 {
                    throw .truncated(offset: base + at, needed: missing > 0 ? missing : needed, context: context)
                }
                try refill(needed: needed)
            case .failure(.rdb(let error, let context)):
                throw RDBFileError.from(error, base: base, context: context)
            case .failure(.file(let error)):
                throw error
            }
        }
    }

    /// How many of `needed` more bytes the source can never deliver (by `totalBytes`).
    private func unavailable(_ needed: Int) -> Int {
        guard let totalBytes else { return 0 }
        let left = max(0, totalBytes - base - buffer.count)
        return needed > left ? needed - left : 0
    }

    /// Parses one unit from a reader over the buffer; the reader is gone when this
    /// returns, so the buffer can be changed without a copy.
    private func attempt() -> Result<(Outcome, Int), UnitError> {
        var c = Cursor(r: RDBReader(buffer, offset: position), base: base)
        do {
            let outcome = try parse(&c)
            return .success((outcome, c.r.offset))
        } catch {
            return .failure(error)
        }
    }

    private func parse(_ c: inout Cursor) throws(UnitError) -> Outcome {
        switch phase {
        case .header:
            return .header(try parseHeader(&c))
        case .checksum:
            c.context = "the checksum after EOF"
            return .checksum(try c.littleEndian(8))
        case .body, .done:
            return try parseOpcode(&c)
        }
    }

    private func parseHeader(_ c: inout Cursor) throws(UnitError) -> Int {
        c.context = "the header"
        let header = Array(try c.bytes(9))
        guard header.prefix(5).elementsEqual(RDB.magic) else {
            throw .file(.badMagic(offset: base, found: Array(header.prefix(5))))
        }
        let digits = header[5...]
        var version = 0
        for d in digits {
            guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { version = -1; break }
            version = version * 10 + Int(d - UInt8(ascii: "0"))
        }
        guard version >= 1 && version <= Int(RDB.version) else {
            throw .file(.unsupportedVersion(offset: base + 5, found: Array(digits)))
        }
        return version
    }

    private func parseOpcode(_ c: inout Cursor) throws(UnitError) -> Outcome {
        let start = c.r.offset, at = base + start
        c.context = "the opcode or type at byte \(at)"
        let type = try c.byte()
        switch type {
        case RDB.opcodeExpireTime:
            c.context = "the expire time (seconds) at byte \(at)"
            return .expire(Int64(Int32(truncatingIfNeeded: try c.littleEndian(4))) * 1000)
        case RDB.opcodeExpireTimeMs:
            c.context = "the expire time (ms) at byte \(at)"
            return .expire(Int64(bitPattern: try c.littleEndian(8)))
        case RDB.opcodeFreq:
            c.context = "the LFU frequency at byte \(at)"
            return .freq(try c.byte())
        case RDB.opcodeIdle:
            c.context = "the LRU idle time at byte \(at)"
            return .idle(try c.length())
        case RDB.opcodeEOF:
            return .eof
        case RDB.opcodeSelectDB:
            c.context = "the database number of SELECTDB at byte \(at)"
            let n = try c.length()
            guard n <= UInt64(Int32.max) else { throw .file(.databaseOutOfRange(offset: at + 1, db: n)) }
            return .item(.selectDB(Int(n)))
        case RDB.opcodeResizeDB:
            c.context = "the sizes of RESIZEDB at byte \(at)"
            return .item(.resizeDB(keys: try c.length(), expires: try c.length()))
        case RDB.opcodeAux:
            c.context = "the name of the AUX field at byte \(at)"
            let key = try c.string()
            c.context = "the value of AUX field \(RDBFileError.quoted(key))"
            return .item(.aux(key: key, value: try c.string()))
        case RDB.opcodeModuleAux:
            guard skipModuleValues else { throw .file(.unsupportedModuleAux(offset: at)) }
            c.context = "the module aux data at byte \(at)"
            let id = try c.length()
            _ = try c.length()  // when: before or after the keys
            return .skippedModule(try skipModuleFields(&c, id: id, at: at), isKey: false)
        case RDB.opcodeFunction2:
            c.context = "the function library at byte \(at)"
            return .item(.function(code: try c.string()))
        case RDB.opcodeFunction:
            return .item(.function(code: try parseOldFunction(&c, at: at)))
        case RDB.typeModule, RDB.typeModule2:
            c.context = "the name of the key at byte \(at)"
            let key = try c.string()
            guard skipModuleValues && type == RDB.typeModule2 else {
                throw .file(.unsupportedModuleType(offset: at, type: type, key: key))
            }
            c.context = "the module value of key \(RDBFileError.quoted(key)) (from byte \(at))"
            return .skippedModule(try skipModuleFields(&c, id: try c.length(), at: at), isKey: true)
        case 0...RDB.typeZSet2, RDB.typeHashZipmap...RDB.typeStreamListpacks2:
            c.context = "the name of the key at byte \(at)"
            let key = try c.string()
            c.context = "the value of key \(RDBFileError.quoted(key)) (type \(type), from byte \(at))"
            guard let value = try c.value(type: type) else { return .emptyKey }
            return .key(key, value)
        default:
            throw .file(.unknownOpcode(offset: at, byte: type))
        }
    }

    /// Steps over a module value's annotated fields up to its EOF marker, as Redis's
    /// rdbLoadCheckModuleValue does; returns the module type's name.
    private func skipModuleFields(_ c: inout Cursor, id: UInt64, at: Int) throws(UnitError) -> String {
        let name = Self.moduleTypeName(id)
        while true {
            switch try c.length() {
            case RDB.moduleOpcodeEOF: return name
            case RDB.moduleOpcodeSInt, RDB.moduleOpcodeUInt: _ = try c.length()
            case RDB.moduleOpcodeFloat: _ = try c.bytes(4)
            case RDB.moduleOpcodeDouble: _ = try c.bytes(8)
            case RDB.moduleOpcodeString: _ = try c.string()
            case let op:
                throw .file(.invalid(offset: at, context: c.context + " of module type \(name)", reason: "unknown module opcode \(op)"))
            }
        }
    }

    /// Redis's moduleTypeNameByID: nine 6-bit characters above the 10-bit encoding version.
    static func moduleTypeName(_ id: UInt64) -> String {
        let charset = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<9).map { j in charset[Int((id >> (10 + 6 * UInt64(8 - j))) & 63)] })
    }

    /// RDB_OPCODE_FUNCTION (Redis 7.0 rc1/rc2): name, engine, a description flag and
    /// optional description, code; turned into the GA form as rdbFunctionLoad does
    /// (sdscatfmt's %s, so each part ends at its first NUL byte).
    private func parseOldFunction(_ c: inout Cursor, at: Int) throws(UnitError) -> [UInt8] {
        c.context = "the library name of the function (7.0 rc format) at byte \(at)"
        let name = try c.string()
        c.context = "the engine name of function library \(RDBFileError.quoted(name))"
        let engine = try c.string()
        c.context = "the description flag of function library \(RDBFileError.quoted(name))"
        if try c.length() != 0 {
            c.context = "the description of function library \(RDBFileError.quoted(name))"
            _ = try c.string()
        }
        c.context = "the code of function library \(RDBFileError.quoted(name))"
        let code = try c.string()
        func cString(_ bytes: [UInt8]) -> ArraySlice<UInt8> { bytes.prefix { $0 != 0 } }
        return Array("#!".utf8) + cString(engine) + Array(" name=".utf8) + cString(name) + [UInt8(ascii: "\n")] + cString(code)
    }

    // MARK: - The buffer

    /// Drops the consumed bytes and reads until `needed` more bytes and at least as
    /// many again as are buffered have arrived, or the source ends.
    private mutating func refill(needed: Int) throws(RDBFileError) {
        if position > 0 {
            buffer.removeSubrange(0..<position)
            base += position
            position = 0
        }
        let (sum, overflow) = buffer.count.addingReportingOverflow(max(needed, buffer.count, 1))
        var goal = overflow ? Int.max : sum
        if let totalBytes { goal = min(goal, totalBytes - base) }
        repeat {
            let piece = try readPiece(min(max(blockSize, goal - buffer.count), Self.maxReadSize))
            if piece.isEmpty {
                sourceEnded = true
            } else if buffer.isEmpty {
                buffer = piece
            } else {
                buffer.append(contentsOf: piece)
            }
        } while buffer.count < goal && !sourceEnded
    }

    private func readPiece(_ count: Int) throws(RDBFileError) -> [UInt8] {
        let source = self.source
        do {
            return try [UInt8](unsafeUninitializedCapacity: count) { into, initialized in
                let n = try source(UnsafeMutableRawBufferPointer(into))
                guard n >= 0 && n <= into.count else { throw SourceError(reason: "the source returned \(n) for \(into.count) bytes") }
                initialized = n
            }
        } catch {
            throw .readFailed(offset: base + buffer.count, reason: "\(error)")
        }
    }
}

private struct SourceError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// A file descriptor for a reader, closed on release if the reader opened it.
private final class Descriptor {
    let fd: Int32
    let owned: Bool

    init(_ fd: Int32, owned: Bool) {
        self.fd = fd
        self.owned = owned
    }

    deinit {
        if owned { close(fd) }
    }

    func read(_ into: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = systemRead(fd, into.baseAddress, into.count)
            if n >= 0 { return n }
            if errno != EINTR { throw SourceError(reason: String(cString: strerror(errno))) }
        }
    }

    /// The bytes left from the current position if this is a regular file.
    func remainingFileBytes() -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & 0o170000 == 0o100000 else { return nil }
        let at = lseek(fd, 0, SEEK_CUR)
        guard at >= 0, Int(st.st_size) >= Int(at) else { return nil }
        return Int(st.st_size) - Int(at)
    }
}

private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, p, count)
}

/// An RDBReader that tags each failure with what was being read.
private struct Cursor {
    var r: RDBReader
    let base: Int
    var context = ""

    typealias Failure = RDBFileReader.UnitError

    mutating func byte() throws(Failure) -> UInt8 {
        do { return try r.readByte() } catch { throw .rdb(error, context: context) }
    }

    mutating func bytes(_ count: Int) throws(Failure) -> ArraySlice<UInt8> {
        do { return try r.readBytes(count) } catch { throw .rdb(error, context: context) }
    }

    mutating func littleEndian(_ width: Int) throws(Failure) -> UInt64 {
        try bytes(width).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func length() throws(Failure) -> UInt64 {
        do { return try r.readLength() } catch { throw .rdb(error, context: context) }
    }

    mutating func string() throws(Failure) -> [UInt8] {
        do { return try r.readString() } catch { throw .rdb(error, context: context) }
    }

    /// The value after type byte `type`, nil (and skipped) if it is an empty collection.
    mutating func value(type: UInt8) throws(Failure) -> RDBValue? {
        do {
            return try r.readValue(type: type)
        } catch {
            guard case .emptyValue = error else { throw .rdb(error, context: context) }
        }
        do {
            try skipEmpty(type: type)
            return nil
        } catch {
            throw .rdb(error, context: context)
        }
    }

    /// Moves past an empty collection, which readValue has already read and refused
    /// (it leaves the reader where the value began): no elements, or for a quicklist
    /// only empty nodes, or for the blob types a single string.
    private mutating func skipEmpty(type: UInt8) throws(RDBError) {
        let start = r.offset
        switch type {
        case RDB.typeList, RDB.typeSet, RDB.typeZSet, RDB.typeZSet2, RDB.typeHash:
            guard try r.readLength() == 0 else { throw .corrupt(offset: start, what: "empty value with elements") }
        case RDB.typeListQuicklist, RDB.typeListQuicklist2:
            for _ in 0..<(try r.readLength()) {
                if type == RDB.typeListQuicklist2 { _ = try r.readLength() }
                _ = try r.readString()
            }
        default:
            _ = try r.readString()
        }
    }
}
