import Foundation
import LodeRESP
import NIOCore

/// CONFIG GET, SET, RESETSTAT, REWRITE and HELP, with Redis's semantics: GET takes
/// several patterns (hidden parameters only by exact name), SET takes several pairs and
/// applies all or none, REWRITE keeps the file's comments and order.
enum ConfigCommands {
    static let handlers: [String: CommandHandler] = [
        "config|get": configGet,
        "config|set": configSet,
        "config|resetstat": { (c: inout CommandContext) throws(CommandError) in
            c.server.stats = ServerStats()
            c.server.commandStats.reset()
            c.store.cache.resetStats()
            c.out.writeOK()
        },
        "config|rewrite": configRewrite,
        "config|help": { (c: inout CommandContext) throws(CommandError) in
            c.writeHelp(["GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                         "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                         "RESETSTAT", "    Reset statistics reported by the INFO command.",
                         "REWRITE", "    Rewrite the configuration file."])
        },
    ]

    static func configGet(_ c: inout CommandContext) throws(CommandError) {
        var seen = Set<String>()
        var pairs: [(String, String)] = []
        for i in 2..<c.args.count {
            let pattern = c.string(i)
            // A name without glob characters is looked up as typed (and printed so).
            if !pattern.contains(where: { "[*?".contains($0) }) {
                if let option = Configuration.optionsByName[pattern.lowercased()], !seen.contains(option.name) {
                    seen.insert(option.name)
                    pairs.append((pattern, option.get(c.server.config)))
                }
                continue
            }
            let bytes = c.bytes(i)
            for option in Configuration.options where !option.flags.contains(.hidden) && !seen.contains(option.name)
                && globMatch(bytes, Array(option.name.utf8), noCase: true) {
                seen.insert(option.name)
                pairs.append((option.name, option.get(c.server.config)))
            }
        }
        c.out.writeMapHeader(pairs.count, c.resp)
        for (k, v) in pairs {
            c.out.writeBulk(string: k)
            c.out.writeBulk(string: v)
        }
    }

    static func configSet(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count % 2 == 0 else { throw .syntax }  // pairs only, as Redis
        var chosen: [(option: ConfigOption, value: String)] = []
        // Redis keeps an alias as its own entry: "slaveof" and "replicaof" are not duplicates.
        var names = Set<String>()
        // The first problem with a name wins, as in Redis's configSetCommand.
        for i in stride(from: 2, to: c.args.count, by: 2) {
            let typed = c.string(i)
            guard let option = Configuration.optionsByName[typed.lowercased()] else {
                throw CommandError("ERR Unknown option or number of arguments for CONFIG SET - '\(c.cstring(i))'")
            }
            if let refusal = refusal(option, c) {
                throw CommandError("ERR CONFIG SET failed (possibly related to argument '\(typed)') - \(refusal)")
            }
            guard names.insert(option.name).inserted else {
                throw CommandError("ERR CONFIG SET failed (possibly related to argument '\(typed)') - duplicate parameter")
            }
            chosen.append((option, c.string(i + 1)))
        }
        var updated = c.server.config
        for (option, value) in chosen {
            // A multi-argument value is split at each space (sdssplitlen), others are whole.
            let words = option.flags.contains(.multiArg)
                ? (value.isEmpty ? [] : value.split(separator: " ", omittingEmptySubsequences: false).map(String.init))
                : [value]
            if let error = option.set(&updated, words) {
                throw CommandError("ERR CONFIG SET failed (possibly related to argument '\(option.name)') - \(error)")
            }
        }
        try checkApplicable(updated, chosen.map(\.option), c)
        c.server.apply(updated)
        for (option, value) in chosen {
            let shown = option.flags.contains(.sensitive) ? "(redacted)" : value
            c.server.logger.notice("CONFIG SET \(option.name) \(shown) by client id=\(c.client.id) addr=\(c.client.address)")
        }
        c.out.writeOK()
    }

    /// Why CONFIG SET may not change `option` at all: immutable in Redis, or protected
    /// (enable-protected-configs).
    static func refusal(_ option: ConfigOption, _ c: CommandContext) -> String? {
        if option.flags.contains(.immutable) { return "can't set immutable config" }
        if option.flags.contains(.protected) && !allowsProtectedAction(c.server.config.enableProtectedConfigs, c.client) {
            return "can't set protected config"
        }
        return nil
    }

    /// Redis's apply step, after every value was accepted: an option Lode fixes at
    /// start-up may only be set to what it is, and moved listeners must be bindable.
    /// Throwing leaves the configuration as it was (all or nothing).
    static func checkApplicable(_ updated: Configuration, _ options: [ConfigOption], _ c: CommandContext) throws(CommandError) {
        let current = c.server.config
        for option in options where !option.mutable && option.get(updated) != option.get(current) {
            throw CommandError("ERR CONFIG SET failed (possibly related to argument '\(option.name)') - can't set immutable config")
        }
        guard updated.port != current.port || updated.bind != current.bind else { return }
        if let reason = c.server.listenerCheck?(updated.bind, updated.port) {
            c.server.logger.warning("CONFIG SET could not listen on \(reason)")
            let (name, text) = updated.port != current.port
                ? ("port", "Unable to listen on this port. Check server logs.") : ("bind", "Failed to bind to specified addresses.")
            throw CommandError("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(text)")
        }
    }

    /// Redis's allowProtectedAction: "yes", or "local" for a client on the loopback.
    static func allowsProtectedAction(_ setting: String, _ client: ClientState) -> Bool {
        setting == "yes" || (setting == "local" && client.isLocal)
    }

    static func configRewrite(_ c: inout CommandContext) throws(CommandError) {
        guard let path = c.server.configFile else { throw CommandError("ERR The server is running without a config file") }
        do {
            let old: String
            if FileManager.default.fileExists(atPath: path) {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ConfigValueError(String(cString: strerror(access(path, R_OK) != 0 ? errno : EIO)))
                }
                old = text
            } else {
                old = ""
            }
            try ConfigRewriter.overwrite(path, with: ConfigRewriter.rewrite(old, with: c.server.config))
        } catch let error as ConfigValueError {
            c.server.logger.warning("CONFIG REWRITE failed: \(error.message)")
            throw CommandError("ERR Rewriting config file: \(error.message)")
        } catch {
            throw CommandError("ERR Rewriting config file: \(error)")
        }
        c.server.logger.notice("CONFIG REWRITE executed with success.")
        c.out.writeOK()
    }
}
