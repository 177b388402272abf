import ArgumentParser
import Foundation

/// lode-dump: Lode's offline backup tool. RDB files (Redis's format, so they move
/// between Lode and Redis) from and into Lode data directories, without a server.
@main
struct LodeDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lode-dump",
        abstract: "Dump, restore, inspect and compact Lode data directories.",
        discussion: """
            dump works beside a running lode-server (it reads one LMDB snapshot and never blocks it);
            restore and compact need the server stopped, and refuse while it holds the directory.
            """,
        subcommands: [Dump.self, Restore.self, Inspect.self, Compact.self]
    )

    /// ArgumentParser's own main, except that a usage error reads `lode-dump: <message>`
    /// like every other error (scripts grep one prefix); help still goes to stdout.
    static func main() {
        let command: ParsableCommand
        do { command = try parseAsRoot() } catch {
            guard exitCode(for: error) != .success else { exit(withError: error) }
            FileHandle.standardError.write(Data("lode-dump: \(message(for: error))\n".utf8))
            Foundation.exit(exitCode(for: error).rawValue)
        }
        var running = command
        do { try running.run() } catch { exit(withError: error) }
    }
}
