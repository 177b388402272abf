import LodeEngine
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Log lines in Redis's format: `pid:M 21 Nov 2026 06:07:17.123 * message`.
public struct RedisStyleLogHandler: LogHandler {
    /// The server's logger: Redis's format, at the configured level, to `logfile` or stdout.
    public static func logger(for config: Configuration) -> Logger {
        let sink = LogSink(path: config.logFile)
        let level = config.swiftLogLevel
        var logger = Logger(label: "lode") { _ in RedisStyleLogHandler(logLevel: level, sink: sink) }
        logger.logLevel = level
        return logger
    }


    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let sink: LogSink

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let mark: String
        switch event.level {
        case .trace, .debug: mark = "."
        case .info: mark = "-"
        case .notice: mark = "*"
        default: mark = "#"
        }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var tmv = tm()
        localtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 64)
        _ = strftime(&buf, buf.count, "%d %b %Y %H:%M:%S", &tmv)
        let stamp = String(cString: buf) + String(format3ms: Int(ts.tv_nsec / 1_000_000))
        sink.write("\(getpid()):M \(stamp) \(mark) \(event.message)\n")
    }
}

/// Where log lines go: stdout, or the `logfile` (opened once, appended to).
/// Shared by every copy of the logger on any thread: stdio streams lock
/// themselves around each call (POSIX flockfile semantics), and the pointer is
/// fixed at init, so this is thread-safe though the compiler cannot see it.
final class LogSink: @unchecked Sendable {
    private let file: UnsafeMutablePointer<FILE>

    init(path: String) {
        if path.isEmpty {
            file = stdout
        } else if let f = fopen(path, "a") {
            file = f
        } else {
            fputs("Can't open the log file: \(String(cString: strerror(errno))) (\(path))\n", stderr)
            exit(1)
        }
    }

    func write(_ line: String) {
        fputs(line, file)
        fflush(file)
    }
}

extension String {
    init(format3ms ms: Int) {
        self = ms < 10 ? ".00\(ms)" : ms < 100 ? ".0\(ms)" : ".\(ms)"
    }
}
