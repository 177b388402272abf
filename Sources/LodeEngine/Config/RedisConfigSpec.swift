import Foundation
import LodeRESP

/// One configuration parameter of Redis, as Redis's src/config.c declares it (the
/// table is generated from it: Generated/RedisConfigTable.swift). Lode validates and
/// prints a value through its spec, so a value and an error read exactly as in Redis,
/// whether the parameter drives Lode or is only accepted for compatibility.
struct RedisConfigSpec: Sendable {
    /// config.c's *_CONFIG flags (MODIFIABLE is the absence of immutable).
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt16
        static let immutable = Flags(rawValue: 1 << 0)
        static let sensitive = Flags(rawValue: 1 << 1)
        static let debug = Flags(rawValue: 1 << 2)
        static let multiArg = Flags(rawValue: 1 << 3)
        static let hidden = Flags(rawValue: 1 << 4)
        static let protected = Flags(rawValue: 1 << 5)
        static let denyLoading = Flags(rawValue: 1 << 6)
        static let volatile = Flags(rawValue: 1 << 7)
    }

    /// How a numeric parameter's text is read (MEMORY_CONFIG, PERCENT_CONFIG, OCTAL_CONFIG).
    enum NumericStyle: Sendable { case memory, percent, octal }

    enum Kind: Sendable {
        case bool(default: Bool)
        case string(default: String, emptyIsNull: Bool)
        /// A multi-argument enumeration (shutdown-on-sig*) is a set of flags.
        case enumeration([String], default: String)
        /// Bounds and value are Int64 bit patterns, as Redis keeps them in a long long;
        /// an unsigned parameter compares them as UInt64.
        case numeric(unsigned: Bool, lower: Int64, upper: Int64, default: Int64, [NumericStyle])
        /// A parameter with its own syntax (save, bind, client-output-buffer-limit, ...).
        case special(default: String)
    }

    let name: String
    let alias: String?
    let flags: Flags
    let kind: Kind
    /// The name of config.c's extra validation function, if it has one.
    let validator: String?

    init(_ name: String, alias: String? = nil, _ flags: Flags, _ kind: Kind, validator: String? = nil) {
        self.name = name
        self.alias = alias
        self.flags = flags
        self.kind = kind
        self.validator = validator
    }

    static let byName: [String: RedisConfigSpec] = {
        var table: [String: RedisConfigSpec] = [:]
        for spec in all {
            table[spec.name] = spec
            if let alias = spec.alias { table[alias] = spec }
        }
        return table
    }()

    /// The text CONFIG GET prints for the default value.
    var defaultText: String {
        switch kind {
        case .bool(let value): return value ? "yes" : "no"
        case .string(let value, _): return value
        case .enumeration(_, let value): return value
        case .numeric(_, _, _, let value, let style): return Self.format(value, style)
        case .special(let value): return value
        }
    }

    /// Validates a value as config.c's set functions do; returns the text CONFIG GET
    /// will print for it, or Redis's error message.
    func parse(_ args: [String]) -> Result<String, ConfigValueError> {
        switch kind {
        case .bool:
            switch args[0].lowercased() {
            case "yes": return .success("yes")
            case "no": return .success("no")
            default: return .failure("argument must be 'yes' or 'no'")
            }
        case .string:
            if let message = Self.validate(validator, args[0]) { return .failure(ConfigValueError(message)) }
            return .success(args[0])
        case .enumeration(let values, _):
            return parseEnumeration(values, args)
        case .numeric(let unsigned, let lower, let upper, _, let style):
            return Self.parseNumber(args[0], unsigned: unsigned, lower: lower, upper: upper, style: style)
                .map { Self.format($0, style) }
        case .special:
            return .success(args.joined(separator: " "))
        }
    }

    /// The numeric value of a parameter's text (only for .numeric parameters).
    func number(_ text: String) -> Int64? {
        guard case .numeric(let unsigned, let lower, let upper, _, let style) = kind else { return nil }
        return try? Self.parseNumber(text, unsigned: unsigned, lower: lower, upper: upper, style: style).get()
    }

    private func parseEnumeration(_ values: [String], _ args: [String]) -> Result<String, ConfigValueError> {
        let chosen = args.map { $0.lowercased() }
        let multi = flags.contains(.multiArg)
        guard !chosen.isEmpty, chosen.allSatisfy(values.contains), multi || chosen.count == 1 else {
            return .failure(ConfigValueError("argument(s) must be one of the following: " + values.joined(separator: ", ")))
        }
        guard multi else { return .success(chosen[0]) }
        // shutdown-on-sig* flags: "default" is no flag; SAVE and NOSAVE exclude each other.
        let set = Set(chosen).subtracting(["default"])
        if set.contains("save") && set.contains("nosave") {
            return .failure("shutdown options SAVE and NOSAVE can't be used simultaneously")
        }
        let ordered = values.filter(set.contains)
        return .success(ordered.isEmpty ? "default" : ordered.joined(separator: " "))
    }

    /// config.c's numericParseString and numericBoundaryCheck.
    static func parseNumber(_ text: String, unsigned: Bool, lower: Int64, upper: Int64,
                            style: [NumericStyle]) -> Result<Int64, ConfigValueError> {
        var value: Int64?
        if style.contains(.memory) { value = memtoull(text).map { Int64(bitPattern: $0) } }
        if value == nil, style.contains(.percent), text.count > 1, text.hasSuffix("%"),
           let n = parseRedisInteger(String(text.dropLast())), n >= 0 {
            value = -Int64(n)  // a percentage is kept negative, as Redis does
        }
        if value == nil, style.contains(.octal), let n = Int64(text, radix: 8), !text.hasPrefix("+") {
            value = n
        }
        if value == nil, style.isEmpty { value = parseRedisInteger(text).map(Int64.init) }
        guard let v = value else {
            if style.contains(.memory) && style.contains(.percent) { return .failure("argument must be a memory or percent value") }
            if style.contains(.memory) { return .failure("argument must be a memory value") }
            if style.contains(.octal) { return .failure("argument couldn't be parsed as an octal number") }
            return .failure("argument couldn't be parsed into an integer")
        }
        if unsigned {
            let (u, lo, hi) = (UInt64(bitPattern: v), UInt64(bitPattern: lower), UInt64(bitPattern: upper))
            if u < lo || u > hi {
                let bounds = style.contains(.octal) ? (String(lo, radix: 8), String(hi, radix: 8)) : (String(lo), String(hi))
                return .failure(ConfigValueError("argument must be between \(bounds.0) and \(bounds.1) inclusive"))
            }
        } else if style.contains(.percent) && v < 0 {
            if v < lower { return .failure(ConfigValueError("percentage argument must be less or equal to \(-lower)")) }
        } else if v < lower || v > upper {
            return .failure(ConfigValueError("argument must be between \(lower) and \(upper) inclusive"))
        }
        return .success(v)
    }

    /// How config.c's numericConfigGet prints a value.
    static func format(_ value: Int64, _ style: [NumericStyle]) -> String {
        if style.contains(.percent) && value < 0 { return "\(-value)%" }
        if style.contains(.memory) { return String(UInt64(bitPattern: value)) }
        if style.contains(.octal) { return String(value, radix: 8) }
        return String(value)
    }

    /// Redis's memtoull (util.c): digits, then b, k, kb, m, mb, g or gb, any case; no
    /// sign. Overflow behaves as in C (strtoull saturates, the multiplication wraps).
    static func memtoull(_ text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "-") { return nil }
        let digitCount = bytes.prefix { $0 >= 48 && $0 <= 57 }.count
        let multipliers: [String: UInt64] = ["": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1_000_000, "mb": 1 << 20,
                                             "g": 1_000_000_000, "gb": 1 << 30]
        guard let multiplier = multipliers[String(decoding: bytes[digitCount...], as: UTF8.self).lowercased()] else {
            return nil
        }
        var value: UInt64 = 0
        for digit in bytes[..<digitCount] {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(digit - 48))
            if o1 || o2 { value = .max; break }
            value = a
        }
        return value &* multiplier
    }

    private static func parseRedisInteger(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { LodeRESP.parseRedisInteger(UnsafeRawBufferPointer($0)) }
    }

    /// config.c's is_valid functions of string parameters.
    static func validate(_ validator: String?, _ value: String) -> String? {
        switch validator {
        case "isValidDBfilename":
            return value.contains("/") ? "dbfilename can't be a path, just a filename" : nil
        case "isValidAOFfilename":
            if value.isEmpty { return "appendfilename can't be empty" }
            return value.contains("/") ? "appendfilename can't be a path, just a filename" : nil
        case "isValidAOFdirname":
            if value.isEmpty { return "appenddirname can't be empty" }
            return value.contains("/") ? "appenddirname can't be a path, just a dirname" : nil
        case "isValidAnnouncedHostname":
            if value.utf8.count >= 256 { return "Hostnames must be less than 256 characters" }
            let allowed = value.utf8.allSatisfy { c in
                (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46
            }
            return allowed ? nil : "Hostnames may only contain alphanumeric characters, hyphens or dots"
        case "isValidProcTitleTemplate":
            return validProcTitleTemplate(value) ? nil : "template format is invalid or contains unknown variables"
        default:
            return nil
        }
    }

    /// server.c's validateProcTitleTemplate: known variables in braces, and something
    /// left once expanded with an empty title (title and server-mode may be empty).
    private static func validProcTitleTemplate(_ template: String) -> Bool {
        let known: Set<String> = ["title", "listen-addr", "server-mode", "port", "tls-port", "unixsocket", "config-file"]
        var expanded = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            expanded += rest[..<open]
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else { return false }
            let variable = String(rest[rest.index(after: open)..<close])
            guard known.contains(variable) else { return false }
            if variable != "title" && variable != "server-mode" { expanded += variable }
            rest = rest[rest.index(after: close)...]
        }
        expanded += rest
        return !expanded.trimmed(" ").isEmpty
    }
}

/// A configuration value Redis would refuse, with Redis's message.
struct ConfigValueError: Error, ExpressibleByStringLiteral, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
    init(stringLiteral value: String) { message = value }
}
