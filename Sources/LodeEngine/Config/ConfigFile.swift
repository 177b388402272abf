import Foundation
import LodeCommandSpec
import LodeRESP

/// A configuration line Lode cannot accept: where it is and why, printed as Redis
/// prints a fatal config file error (plus the file's name, which Redis leaves out).
public struct ConfigError: Error, CustomStringConvertible {
    public let message: String
    /// The file and line number, and the line itself; nil for a problem with no line.
    public let location: (path: String, line: Int, text: String)?

    init(_ message: String, at location: (path: String, line: Int, text: String)? = nil) {
        self.message = message
        self.location = location
    }

    public var description: String {
        guard let location else { return message }
        return "Reading the configuration file, at line \(location.line) of \(location.path)\n>>> '\(location.text)'\n\(message)"
    }
}

/// Reading redis.conf syntax: one directive per line, `#` comments, quoted arguments
/// (sdssplitargs), `include` with globs, the deprecated directives Redis skips.
struct ConfigFileReader {
    var config: Configuration
    let readFile: (String) throws -> String
    /// `save` lines add to each other within the files, as in Redis; the first replaces the default.
    private var saveLoaded = false
    private var includeDepth = 0

    init(config: Configuration, readFile: @escaping (String) throws -> String) {
        self.config = config
        self.readFile = readFile
    }

    /// Directives Redis 7.0 accepts and ignores (config.c's deprecated_configs), with their argument count.
    static let deprecated: [String: Int] = ["list-max-ziplist-entries": 1, "list-max-ziplist-value": 1, "lua-replicate-commands": 1]

    mutating func load(path: String) throws {
        let text: String
        do { text = try readFile(path) } catch {
            throw ConfigError("Fatal error, can't open config file '\(path)': \(Self.reason(error))")
        }
        try apply(text: text, path: path)
    }

    mutating func apply(text: String, path: String) throws {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(rawLine).trimmed(" \t\r\n")
            if line.isEmpty || line.hasPrefix("#") { continue }
            let location = (path: path, line: lineNumber, text: line)
            guard let words = splitInlineArguments(Array(line.utf8)) else {
                throw ConfigError("Unbalanced quotes in configuration line", at: location)
            }
            if words.isEmpty { continue }
            let name = String(decoding: words[0], as: UTF8.self).lowercased()
            let args = words.dropFirst().map { String(decoding: $0, as: UTF8.self) }
            if let message = try directive(name, args) { throw ConfigError(message, at: location) }
        }
    }

    /// Applies one directive from a file or the command line; returns an error message.
    mutating func directive(_ name: String, _ args: [String]) throws -> String? {
        if let option = Configuration.optionsByName[name] {
            let multi = option.flags.contains(.multiArg)
            if !multi && args.count != 1 { return "wrong number of arguments" }
            var values = args
            // A multi-argument value given as one word is split ("--save '60 10'").
            if multi && args.count == 1 && !args[0].isEmpty {
                values = splitInlineArguments(Array(args[0].utf8))?.map { String(decoding: $0, as: UTF8.self) } ?? args
            }
            let canonical = option.aliasOf ?? option.name
            if canonical == "save" {
                defer { saveLoaded = true }
                if saveLoaded && values != [""] {
                    let earlier = config.inertValue("save").split(separator: " ").map(String.init)
                    return option.set(&config, earlier + values)
                }
            }
            return option.set(&config, values)
        }
        if let count = Self.deprecated[name], args.count == count { return nil }
        switch name {
        case "include" where args.count == 1:
            return try include(args[0])
        case "rename-command" where args.count == 2:
            return renameCommand(from: args[0].lowercased(), to: args[1].lowercased())
        case "user" where !args.isEmpty:
            return "ACL users are not supported by Lode yet: use requirepass"
        case "loadmodule" where !args.isEmpty:
            return "Lode cannot load Redis modules"
        case "sentinel":
            return args.isEmpty ? "Lode has no sentinel mode" : "sentinel directive while not in sentinel mode"
        default:
            if name.contains(".") {
                return args.isEmpty ? "Module config specified without value" : "Lode cannot load Redis modules"
            }
            return "Bad directive or wrong number of arguments"
        }
    }

    /// `rename-command OLD NEW` with Redis's checks: OLD must be a command (of Redis's
    /// table: one Lode lacks is unknown either way), NEW must not name one.
    private mutating func renameCommand(from: String, to: String) -> String? {
        var names = Set(RedisCommands.all.map(\.name))
        for r in config.renamedCommands {
            names.remove(r.from)
            if !r.to.isEmpty { names.insert(r.to) }
        }
        guard names.contains(from) else { return "No such command in rename-command" }
        if !to.isEmpty && names.contains(to) && to != from { return "Target command name already exists" }
        config.renamedCommands.append(CommandRename(from: from, to: to))
        return nil
    }

    /// `include path`: a file, or a glob whose matches are read in order (none is fine).
    private mutating func include(_ pattern: String) throws -> String? {
        guard includeDepth < 16 else { return "include nested too deeply (an include loop?)" }
        includeDepth += 1
        defer { includeDepth -= 1 }
        guard pattern.contains(where: { "*?[".contains($0) }) else {
            try load(path: pattern)
            return nil
        }
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(pattern, 0, nil, &matches) == 0 else { return nil }
        for i in 0..<Int(matches.gl_pathc) {
            if let cPath = matches.gl_pathv[i] { try load(path: String(cString: cPath)) }
        }
        return nil
    }

    /// The reason a file could not be read, as strerror says it (not a Foundation error domain).
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        switch ns.code {
        case NSFileReadNoSuchFileError: return String(cString: strerror(ENOENT))
        case NSFileReadNoPermissionError: return String(cString: strerror(EACCES))
        default: return ns.localizedDescription
        }
    }
}

extension Configuration {
    /// `lode-server [config-file] [--name value ...]`, as redis-server: the file first,
    /// then the command line's options in order, each as one directive.
    public static func fromCommandLine(_ arguments: [String], readFile: @escaping (String) throws -> String) throws -> Configuration {
        var reader = ConfigFileReader(config: Configuration(), readFile: readFile)
        var rest = arguments[...]
        if let first = rest.first, !first.hasPrefix("--") {
            try reader.load(path: first)
            rest = rest.dropFirst()
        }
        while let flag = rest.first {
            guard flag.hasPrefix("--"), flag.count > 2 else {
                throw ConfigError("command line: unexpected argument '\(flag)' (options are --name value)")
            }
            rest = rest.dropFirst()
            var values: [String] = []
            while let v = rest.first, !v.hasPrefix("--") || v == "--" {
                values.append(v)
                rest = rest.dropFirst()
            }
            let name = String(flag.dropFirst(2)).lowercased()
            let text = ([name] + values).joined(separator: " ")
            if let message = try reader.directive(name, values) {
                throw ConfigError(message, at: (path: "the command line", line: 1, text: text))
            }
        }
        return reader.config
    }

    /// Reads a configuration file's text on top of this configuration (tests, CONFIG REWRITE).
    mutating func apply(fileText: String, path: String) throws {
        var reader = ConfigFileReader(config: self) { _ in throw ConfigError("include is not available here") }
        try reader.apply(text: fileText, path: path)
        self = reader.config
    }
}
