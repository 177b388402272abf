#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an RDB file could not be read. Every offset is the absolute byte offset in
/// the file (from where the reader started), so a corrupt file can be inspected
/// with a hex dump; `context` says what was being read ("the value of key 'foo'").
public enum RDBFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data ends `needed` bytes short of what the read starting at `offset` declares.
    case truncated(offset: Int, needed: Int, context: String)
    /// The file does not start with "REDIS".
    case badMagic(offset: Int, found: [UInt8])
    /// The four version digits are not a version 1...10.
    case unsupportedVersion(offset: Int, found: [UInt8])
    /// A byte where an opcode or value type belongs that is neither.
    case unknownOpcode(offset: Int, byte: UInt8)
    /// RDB_OPCODE_MODULE_AUX: module data that only its module can parse or skip.
    case unsupportedModuleAux(offset: Int)
    /// A key whose value has a module type (RDB_TYPE_MODULE, RDB_TYPE_MODULE_2).
    case unsupportedModuleType(offset: Int, type: UInt8, key: [UInt8])
    /// SELECTDB with a number no Redis configuration has (above INT_MAX).
    case databaseOutOfRange(offset: Int, db: UInt64)
    /// Bytes that break the format: a bad length or string encoding, corrupt LZF,
    /// a listpack/ziplist/intset that fails its checks, duplicate members, ...
    case invalid(offset: Int, context: String, reason: String)
    /// The CRC-64 after EOF (at `offset`) is not the CRC of the bytes before it.
    case checksumMismatch(offset: Int, stored: UInt64, computed: UInt64)
    /// The byte source failed (read(2) error, or the read closure threw).
    case readFailed(offset: Int, reason: String)
    /// open(2) of the file failed.
    case openFailed(path: String, errno: Int32)

    /// Where the fault is, in file bytes (nil for `openFailed`).
    public var offset: Int? {
        switch self {
        case .truncated(let o, _, _), .badMagic(let o, _), .unsupportedVersion(let o, _), .unknownOpcode(let o, _),
             .unsupportedModuleAux(let o), .unsupportedModuleType(let o, _, _), .databaseOutOfRange(let o, _),
             .invalid(let o, _, _), .checksumMismatch(let o, _, _), .readFailed(let o, _):
            return o
        case .openFailed: return nil
        }
    }

    public var description: String {
        switch self {
        case .truncated(let o, let needed, let context):
            return "truncated at byte \(o): \(context) needs \(needed) more byte\(needed == 1 ? "" : "s")"
        case .badMagic(let o, let found):
            return "bad magic at byte \(o): expected 'REDIS', found '\(RDBFileError.printable(found))'"
        case .unsupportedVersion(let o, let found):
            return "unsupported RDB version '\(RDBFileError.printable(found))' at byte \(o): expected 0001 to 00\(RDB.version)"
        case .unknownOpcode(let o, let byte):
            return "unknown opcode/type 0x\(RDBFileError.hexByte(byte)) at byte \(o)"
        case .unsupportedModuleAux(let o):
            return "module aux data (opcode 0xF7) at byte \(o): only the module that wrote it can parse or skip it"
        case .unsupportedModuleType(let o, let type, let key):
            return "unsupported module value (type \(type)) of key \(RDBFileError.quoted(key)) at byte \(o): "
                + "module values can only be read by their module"
        case .databaseOutOfRange(let o, let db):
            return "database number \(db) at byte \(o) is out of range"
        case .invalid(let o, let context, let reason):
            return "corrupt RDB file at byte \(o), in \(context): \(reason)"
        case .checksumMismatch(let o, let stored, let computed):
            return "checksum mismatch at byte \(o): file says \(RDBFileError.hex64(stored)), computed \(RDBFileError.hex64(computed))"
        case .readFailed(let o, let reason):
            return "read failed at byte \(o): \(reason)"
        case .openFailed(let path, let e):
            return "cannot open '\(path)': \(String(cString: strerror(e)))"
        }
    }

    /// A key for messages: quoted, non-printable bytes as \xNN, long keys cut at 64 bytes.
    static func quoted<C: Collection>(_ key: C) -> String where C.Element == UInt8 {
        "'" + printable(key.prefix(64)) + (key.count > 64 ? "'... (\(key.count) bytes)" : "'")
    }

    static func printable<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = ""
        for b in bytes {
            if b >= 0x20 && b < 0x7f && b != UInt8(ascii: "\\") && b != UInt8(ascii: "'") {
                s.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                s += "\\x" + hexByte(b)
            }
        }
        return s
    }

    static func hexByte(_ b: UInt8) -> String {
        (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
    }

    static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - s.count) + s
    }

    /// The error for `error`, thrown by an RDBReader whose byte 0 is file byte `base`,
    /// while reading `context`.
    static func from(_ error: RDBError, base: Int, context: String) -> RDBFileError {
        switch error {
        case .truncated(let o, let needed):
            return .truncated(offset: base + o, needed: needed, context: context)
        case .unknownLengthEncoding(let o, let byte):
            return .invalid(offset: base + o, context: context, reason: "unknown length encoding 0x\(hexByte(byte))")
        case .unknownStringEncoding(let o, let enc):
            return .invalid(offset: base + o, context: context, reason: "unknown string encoding \(enc)")
        case .lengthOverflow(let o, let length):
            return .invalid(offset: base + o, context: context, reason: "length \(length) is more than this machine can address")
        case .corruptLZF(let o, let lzf):
            return .invalid(offset: base + o, context: context, reason: "invalid LZF data (\(lzf))")
        case .corrupt(let o, let what):
            return .invalid(offset: base + o, context: context, reason: what)
        case .unsupportedType(let o, let type):
            return .unknownOpcode(offset: base + o, byte: type)
        case .emptyValue(let o, let type):
            return .invalid(offset: base + o, context: context, reason: "empty collection of type \(type)")
        }
    }
}
