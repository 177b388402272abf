/// The item of a library record that failed to load; each has its own error
/// text in Redis's rdbFunctionLoad.
public enum FunctionPayloadField: Equatable, Sendable {
    /// The code of an RDB_OPCODE_FUNCTION2 record.
    case libraryPayload
    /// The items of an old (7.0 rc) RDB_OPCODE_FUNCTION record.
    case libraryName, engineName, descriptionIndicator, description, blob

    /// Redis's text for the failure, without the "ERR " prefix.
    public var failureText: String {
        switch self {
        case .libraryPayload: return "Failed loading library payload"
        case .libraryName: return "Failed loading library name"
        case .engineName: return "Failed loading engine name"
        case .descriptionIndicator: return "Failed loading library description indicator"
        case .description: return "Failed loading library description"
        case .blob: return "Failed loading library blob"
        }
    }
}

/// Why a FUNCTION RESTORE payload was refused, with the reply Redis 7.0 gives.
/// Errors from compiling or registering the libraries come later, from the engine.
public enum FunctionPayloadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Too short, too new, or the checksum is wrong.
    case invalidEnvelope(DumpPayloadError)
    /// A record starts with a byte other than RDB_OPCODE_FUNCTION2 / RDB_OPCODE_FUNCTION.
    case notAFunction(offset: Int, type: UInt8)
    /// An item of a library record is truncated or corrupt.
    case failedLoading(FunctionPayloadField, RDBError)

    /// The error reply, as functionRestoreCommand sends it.
    public var redisMessage: String {
        switch self {
        case .invalidEnvelope(let error): return error.redisMessage
        case .notAFunction: return "ERR given type is not a function"
        case .failedLoading(let field, _): return "ERR " + field.failureText
        }
    }

    public var description: String {
        switch self {
        case .invalidEnvelope(let error): return error.description
        case .notAFunction(let offset, let type): return "record type \(type) at offset \(offset) is not a function"
        case .failedLoading(let field, let error): return "\(field.failureText): \(error)"
        }
    }
}

/// The payload of FUNCTION DUMP / FUNCTION RESTORE in Redis 7.0: one record per
/// library — RDB_OPCODE_FUNCTION2 then the library's code as an RDB string —
/// sealed as a `DumpPayload` (RDB version 10, CRC-64).
public enum FunctionPayload {
    /// The payload for `libraries` (their codes, in the order given), as
    /// functionDumpCommand writes it. With `compression` (Redis's default) the
    /// bytes match Redis's for the same libraries in the same order.
    public static func encode(_ libraries: [[UInt8]], compression: Bool = true) -> [UInt8] {
        var writer = RDBWriter(compression: compression)
        for code in libraries {
            writer.writeByte(RDB.opcodeFunction2)
            writer.writeString(code)
        }
        return DumpPayload.seal(writer.bytes)
    }

    /// The library codes in `payload`, in order, checked as functionRestoreCommand
    /// does before it compiles anything.
    ///
    /// Records of the 7.0 rc format (RDB_OPCODE_FUNCTION: name, engine, a
    /// description flag and optional description, code) are accepted, as Redis 7.0
    /// accepts them, and turned into "#!<engine> name=<name>\n<code>"; Redis builds
    /// that with C-string formatting, so each part ends at its first NUL byte here too.
    ///
    /// Records are read while more than the 10-byte footer is left, from a reader
    /// over the whole payload as Redis's is: a last string that runs into the
    /// footer still loads, with footer bytes in it.
    public static func decode(_ payload: [UInt8], skipChecksum: Bool = false) throws(FunctionPayloadError) -> [[UInt8]] {
        do {
            try DumpPayload.verify(payload, skipChecksum: skipChecksum)
        } catch {
            throw .invalidEnvelope(error)
        }
        var reader = RDBReader(payload)
        var libraries: [[UInt8]] = []
        while reader.remaining > DumpPayload.footerCount {
            let offset = reader.offset
            guard let type = try? reader.readByte() else { break }  // cannot fail: bytes remain
            switch type {
            case RDB.opcodeFunction2:
                libraries.append(try read(.libraryPayload, from: &reader) { r throws(RDBError) in try r.readString() })
            case RDB.opcodeFunction:
                libraries.append(try readOldRecord(from: &reader))
            default:
                throw .notAFunction(offset: offset, type: type)
            }
        }
        return libraries
    }

    /// An RDB_OPCODE_FUNCTION record, translated to the 7.0 GA form of a library's code.
    private static func readOldRecord(from reader: inout RDBReader) throws(FunctionPayloadError) -> [UInt8] {
        let name = try read(.libraryName, from: &reader) { r throws(RDBError) in try r.readString() }
        let engine = try read(.engineName, from: &reader) { r throws(RDBError) in try r.readString() }
        let hasDescription = try read(.descriptionIndicator, from: &reader) { r throws(RDBError) in try r.readLength() }
        if hasDescription != 0 {
            _ = try read(.description, from: &reader) { r throws(RDBError) in try r.readString() }
        }
        let blob = try read(.blob, from: &reader) { r throws(RDBError) in try r.readString() }
        func cString(_ bytes: [UInt8]) -> ArraySlice<UInt8> { bytes.prefix { $0 != 0 } }
        return Array("#!".utf8) + cString(engine) + Array(" name=".utf8) + cString(name) + [UInt8(ascii: "\n")] + cString(blob)
    }

    private static func read<T>(
        _ field: FunctionPayloadField, from reader: inout RDBReader, _ body: (inout RDBReader) throws(RDBError) -> T
    ) throws(FunctionPayloadError) -> T {
        do {
            return try body(&reader)
        } catch {
            throw .failedLoading(field, error)
        }
    }
}
