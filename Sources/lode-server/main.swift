import Foundation
import LodeServer

// lode-server [path/to/lode.conf] [--option value ...], as redis-server.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--version" || arguments.first == "-v" {
    print("Lode server v=\(LodeVersion.lode) (Redis \(LodeVersion.redisCompatible) compatible)")
    exit(0)
}
if arguments.first == "--help" || arguments.first == "-h" {
    print("Usage: lode-server [/path/to/lode.conf] [--option value ...]\n       lode-server --version")
    exit(0)
}

let config: Configuration
do {
    config = try Configuration.fromCommandLine(arguments) { path in try String(contentsOfFile: path, encoding: .utf8) }
} catch {
    FileHandle.standardError.write("\n*** FATAL CONFIG FILE ERROR (Lode \(LodeVersion.lode)) ***\n\(error)\n".data(using: .utf8)!)
    exit(1)
}

let configFile = arguments.first.flatMap { $0.hasPrefix("--") ? nil : URL(fileURLWithPath: $0).path }
do {
    try LodeServer(config: config, configFile: configFile).run()
} catch {
    FileHandle.standardError.write("\(error)\n".data(using: .utf8)!)
    exit(1)
}
exit(0)
