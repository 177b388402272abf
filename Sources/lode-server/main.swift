import Foundation
import LodeEngine
import LodeNet
import Logging
import ServiceLifecycle

// lode-server [path/to/lode.conf] [--option value ...], as redis-server.
// The executable owns the process: arguments, logging, signals (SIGTERM and
// SIGINT shut the service down gracefully through its service group).
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

// daemonize: the parent waits here until the background server is ready, then exits.
ProcessSupervision.daemonizeIfAsked(config)

signal(SIGPIPE, SIG_IGN)
signal(SIGHUP, SIG_IGN)  // as Redis: a closed terminal does not stop the server
let logger = RedisStyleLogHandler.logger(for: config)
// The service group's own messages (service started, signal caught) are below notice.
var groupLogger = logger
groupLogger.logLevel = .warning
let configFile = arguments.first.flatMap { $0.hasPrefix("--") ? nil : URL(fileURLWithPath: $0).path }
let pidFile = ProcessSupervision.pidFilePath(config)
if let pidFile, let warning = ProcessSupervision.writePidFile(pidFile) { logger.warning("\(warning)") }
let service = LodeService(config: config, configFile: configFile, logger: logger)
let group = ServiceGroup(configuration: ServiceGroupConfiguration(
    services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
    gracefulShutdownSignals: [.sigterm, .sigint],
    logger: groupLogger))
do {
    try await group.run()
} catch {
    if !config.logFile.isEmpty { logger.warning("\(error)") }  // the log file says why, as the terminal does
    FileHandle.standardError.write("\(error)\n".data(using: .utf8)!)
    if let pidFile { unlink(pidFile) }
    exit(1)
}
if let pidFile { unlink(pidFile) }
exit(0)
