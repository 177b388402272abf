/// Why a DUMP-style payload was refused. Redis answers all three the same way
/// (`redisMessage`); the cases say which check failed, for logs and tests.
public enum DumpPayloadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Shorter than the 10-byte footer.
    case tooShort(count: Int)
    /// Written by a newer RDB version than this server reads.
    case unsupportedVersion(UInt16)
    /// The footer's CRC-64 does not match the bytes before it.
    case checksumMismatch(stored: UInt64, computed: UInt64)

    /// The error RESTORE and FUNCTION RESTORE reply with (cluster.c, functions.c).
    public static let redisMessage = "ERR DUMP payload version or checksum are wrong"
    public var redisMessage: String { Self.redisMessage }

    public var description: String {
        switch self {
        case .tooShort(let count): return "DUMP payload of \(count) bytes is shorter than its 10-byte footer"
        case .unsupportedVersion(let v): return "DUMP payload has RDB version \(v), newer than \(RDB.version)"
        case .checksumMismatch(let stored, let computed):
            return "DUMP payload checksum \(String(stored, radix: 16)) does not match computed \(String(computed, radix: 16))"
        }
    }
}

/// The envelope of DUMP and FUNCTION DUMP payloads (createDumpPayload,
/// verifyDumpPayload in Redis 7.0's cluster.c):
///
///     body | RDB version, 2 bytes little-endian | CRC-64 of all before, 8 bytes little-endian
///
/// For a key's DUMP the body is the object's RDB type byte and its RDB
/// serialization; for FUNCTION DUMP it is a run of library records.
public enum DumpPayload {
    /// Bytes after the body: the version and the CRC.
    public static let footerCount = 10

    /// Appends the footer to `body`. The version is Redis 7.0's unless a test needs another.
    public static func seal(_ body: [UInt8], version: UInt16 = RDB.version) -> [UInt8] {
        var payload = body
        payload.reserveCapacity(body.count + footerCount)
        payload.append(UInt8(version & 0xff))
        payload.append(UInt8(version >> 8))
        let crc = CRC64.checksum(payload)
        for i in 0..<8 { payload.append(UInt8(truncatingIfNeeded: crc >> UInt64(i * 8))) }
        return payload
    }

    /// Checks the footer as verifyDumpPayload does and returns the payload's RDB
    /// version: at least 10 bytes, version at most 10, CRC matching (unless
    /// `skipChecksum`, Redis's DEBUG SET-SKIP-CHECKSUM-VALIDATION).
    ///
    /// The body is not returned on purpose: Redis parses it from a reader over the
    /// whole payload, footer included, so a last item that runs into the footer
    /// still loads there — use `RDBReader(payload)` and stop when `footerCount` bytes are left.
    @discardableResult
    public static func verify(_ payload: [UInt8], skipChecksum: Bool = false) throws(DumpPayloadError) -> UInt16 {
        guard payload.count >= footerCount else { throw .tooShort(count: payload.count) }
        let footer = payload.count - footerCount
        let version = UInt16(payload[footer]) | UInt16(payload[footer + 1]) << 8
        guard version <= RDB.version else { throw .unsupportedVersion(version) }
        if skipChecksum { return version }
        let computed = CRC64.checksum(payload[..<(footer + 2)])
        var stored: UInt64 = 0
        for i in 0..<8 { stored |= UInt64(payload[footer + 2 + i]) << UInt64(i * 8) }
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
        return version
    }

    /// The DUMP of a string key holding `value`: RDB_TYPE_STRING, then the value
    /// as rdbSaveStringObject writes it (integer-encoded, LZF or verbatim).
    public static func sealString<C: Collection>(_ value: C, compression: Bool = true) -> [UInt8] where C.Element == UInt8 {
        var writer = RDBWriter(compression: compression)
        writer.writeByte(RDB.typeString)
        writer.writeString(value)
        return seal(writer.bytes)
    }
}

/// Why a key's DUMP payload could not be turned into a value, with RESTORE's reply.
public enum DumpValueError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Too short, too new, or the checksum is wrong (verifyDumpPayload).
    case invalidEnvelope(DumpPayloadError)
    /// The body is not a value rdbLoadObject accepts.
    case badData(RDBError)

    public var redisMessage: String {
        switch self {
        case .invalidEnvelope(let error): return error.redisMessage
        case .badData: return "ERR Bad data format"
        }
    }

    public var description: String {
        switch self {
        case .invalidEnvelope(let error): return error.description
        case .badData(let error): return "bad DUMP payload data: \(error)"
        }
    }
}

extension DumpPayload {
    /// The DUMP of a key holding `value`, as createDumpPayload writes it: the
    /// type Redis would store it as under `limits`, the value, the footer.
    public static func encode(
        _ value: RDBValue, limits: RDBEncodingLimits = RDBEncodingLimits(), compression: Bool = true
    ) -> [UInt8] {
        var writer = RDBWriter(compression: compression)
        writer.writeByte(value.rdbType(limits: limits))
        writer.writeValue(value, limits: limits)
        return seal(writer.bytes)
    }

    /// The value in a DUMP payload, as restoreCommand reads it: footer checked
    /// first, then the type byte and the value from a reader over the whole payload.
    /// Like Redis, bytes left between the value and the footer are not an error.
    public static func decode(_ payload: [UInt8], skipChecksum: Bool = false) throws(DumpValueError) -> RDBValue {
        do {
            try verify(payload, skipChecksum: skipChecksum)
        } catch {
            throw .invalidEnvelope(error)
        }
        var reader = RDBReader(payload)
        do {
            let type = try reader.readByte()
            return try reader.readValue(type: type)
        } catch {
            throw .badData(error)
        }
    }
}
