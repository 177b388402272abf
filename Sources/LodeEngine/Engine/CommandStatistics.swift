import LodeRESP
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Microseconds on a monotonic clock (command durations).
func monotonicMicros() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}

/// INFO commandstats and errorstats (Redis's call() and afterErrorReply()):
/// per command its calls, time, rejections and failures; per error code how
/// many replies carried it.
struct CommandCounters {
    var calls = 0
    var microseconds = 0
    var rejected = 0
    var failed = 0
    /// Durations for INFO latencystats and LATENCY HISTOGRAM (when latency-tracking is on).
    var latency = LatencyHistogram()
}

struct CommandStatistics {
    /// By full name ("get", "client|id"), for the commands called at least once.
    private(set) var commands: [String: CommandCounters] = [:]
    /// By error code ("ERR", "WRONGTYPE"); Redis keeps at most 128 codes.
    private(set) var errors: [String: Int] = [:]
    private(set) var totalErrorReplies = 0

    static let maxErrorCodes = 128

    mutating func called(_ name: String, microseconds: Int, failed: Bool, trackLatency: Bool) {
        Self.count(&commands[name, default: CommandCounters()], microseconds, failed, trackLatency)
    }

    /// One lookup of the entry, updated in place.
    private static func count(_ c: inout CommandCounters, _ microseconds: Int, _ failed: Bool, _ trackLatency: Bool) {
        c.calls += 1
        c.microseconds += microseconds
        if failed { c.failed += 1 }
        if trackLatency { c.latency.record(nanoseconds: microseconds * 1000) }
    }

    /// INFO latencystats: each command's percentiles in microseconds, as Redis prints them.
    func latencyLines(percentiles: [Double]) -> [String] {
        commands.keys.sorted().compactMap { name in
            let histogram = commands[name]!.latency
            guard histogram.total > 0 else { return nil }
            let values = percentiles.map { p in
                "p\(LatencyHistogram.label(p))=\(String(format3decimals: Double(histogram.value(atPercentile: p)) / 1000))"
            }
            return "latency_percentiles_usec_\(name):" + values.joined(separator: ",")
        }
    }

    mutating func rejected(_ name: String) {
        commands[name, default: CommandCounters()].rejected += 1
    }

    /// An error reply went to a client: its code is the first word.
    mutating func errorReplied(_ reply: ByteBufferView) {
        totalErrorReplies += 1
        let body = reply.dropFirst()  // the '-'
        let end = body.firstIndex { $0 == 32 || $0 == 13 } ?? body.endIndex
        let code = String(decoding: body[..<end], as: UTF8.self)
        if errors[code] == nil && errors.count >= Self.maxErrorCodes { return }
        errors[code, default: 0] += 1
    }

    mutating func reset() { self = CommandStatistics() }

    /// INFO's lines, sorted by name as Redis's dict iteration is not: sorted
    /// makes them comparable.
    var commandLines: [String] {
        commands.keys.sorted().map { name in
            let c = commands[name]!
            let perCall = c.calls == 0 ? 0 : Double(c.microseconds) / Double(c.calls)
            return "cmdstat_\(name):calls=\(c.calls),usec=\(c.microseconds),usec_per_call=\(String(format2: perCall)),"
                + "rejected_calls=\(c.rejected),failed_calls=\(c.failed)"
        }
    }

    var errorLines: [String] { errors.keys.sorted().map { "errorstat_\($0):count=\(errors[$0]!)" } }
}

extension String {
    /// Three decimals, as "%.3f".
    init(format3decimals v: Double) {
        let thousandths = Int((v * 1000).rounded())
        let fraction = String(thousandths % 1000)
        self = "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// Two decimals, as Redis's "%.2f".
    init(format2 v: Double) {
        let hundredths = Int((v * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
