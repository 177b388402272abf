import Foundation

/// Progress on stderr: on a terminal one line rewritten about 4 times a second (keys,
/// bytes, rate, ETA); elsewhere (a log, a pipe) nothing until the one summary line.
final class Progress {
    private let verb: String
    /// What the ETA is measured against: bytes of the input file, or keys to write.
    private let totalBytes: Int?
    private let totalKeys: Int?
    private let start = Date()
    /// What the summary's time and rates count from.
    private let overallStart: Date
    private var lastDraw = Date.distantPast
    private let terminal = isatty(2) == 1
    private var drawn = false

    /// `since`: when the work began, if before this phase (restore's rates include its validation pass).
    init(_ verb: String, totalBytes: Int? = nil, totalKeys: Int? = nil, since: Date = Date()) {
        self.verb = verb
        overallStart = since
        self.totalBytes = totalBytes
        self.totalKeys = totalKeys
    }

    var elapsed: Double { Date().timeIntervalSince(overallStart) }

    func update(keys: Int, bytes: Int) {
        guard terminal else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.25 else { return }
        lastDraw = now
        let t = max(now.timeIntervalSince(start), 0.001)
        var line = "\(verb) \(keys) keys, \(humanBytes(Double(bytes))), \(Int(Double(keys) / t)) keys/s"
        var fraction: Double?
        if let totalBytes, totalBytes > 0 { fraction = Double(bytes) / Double(totalBytes) }
        else if let totalKeys, totalKeys > 0 { fraction = Double(keys) / Double(totalKeys) }
        if let f = fraction, f > 0.001 {
            line += String(format: ", %.0f%%, ETA %.0f s", min(f, 1) * 100, max(0, t / min(f, 1) - t))
        }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        drawn = true
    }

    /// Clears the progress line and prints `summary` (always: a terminal or not).
    func finish(_ summary: String) {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
    }

    /// `<n> keys/s, <x> MB/s` over the elapsed time.
    func rates(keys: Int, bytes: Int) -> String {
        let t = max(elapsed, 0.001)
        return String(format: "in %.1f s, %.0f keys/s, %@/s", t, Double(keys) / t, humanBytes(Double(bytes) / t))
    }
}

/// Runs a subcommand's body, reporting a failure as `lode-dump: <message>`, exit 1.
func reporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ToolError {
        fail(error.description)
    } catch {
        fail("\(error)")
    }
}

private func fail(_ message: String) -> Never {
    // On a terminal a progress line may be showing: the message replaces it.
    FileHandle.standardError.write(Data(((isatty(2) == 1 ? "\r\u{1B}[K" : "") + "lode-dump: \(message)\n").utf8))
    exit(1)
}
