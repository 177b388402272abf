import LodeRESP
import LodeStore
import NIOCore

/// SLOWLOG (GET, LEN, RESET, HELP) and LATENCY (LATEST, HISTORY, RESET, GRAPH, DOCTOR,
/// HISTOGRAM, HELP), with Redis 7.0's replies and texts.
enum SlowlogLatencyCommands {
    static let handlers: [String: CommandHandler] = [
        "slowlog|get": slowlogGet,
        "slowlog|len": { (c: inout CommandContext) throws(CommandError) in c.out.writeIntegerReply(c.server.slowlog.count) },
        "slowlog|reset": { (c: inout CommandContext) throws(CommandError) in
            c.server.slowlog.reset()
            c.out.writeOK()
        },
        "slowlog|help": { (c: inout CommandContext) throws(CommandError) in
            c.writeHelp(["GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                         "    Entries are made of:",
                         "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                         "    client name", "LEN", "    Return the length of the slowlog.", "RESET", "    Reset the slowlog."])
        },
        "latency|latest": latencyLatest,
        "latency|history": latencyHistory,
        "latency|reset": { (c: inout CommandContext) throws(CommandError) in
            c.out.writeIntegerReply(c.server.latency.reset(c.args.count == 2 ? nil : (2..<c.args.count).map { c.string($0) }))
        },
        "latency|graph": latencyGraph,
        "latency|doctor": { (c: inout CommandContext) throws(CommandError) in
            c.out.writeVerbatim(doctorReport(c.server), version: c.resp)
        },
        "latency|histogram": latencyHistogram,
        "latency|help": { (c: inout CommandContext) throws(CommandError) in
            c.writeHelp(["DOCTOR", "    Return a human readable latency analysis report.",
                         "GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
                         "HISTORY <event>", "    Return time-latency samples for the <event> class.",
                         "LATEST", "    Return the latest latency samples for all events.",
                         "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
                         "    (default: reset all data for all event classes)",
                         "HISTOGRAM [COMMAND ...]",
                         "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                         "    If no commands are specified then all histograms are replied."])
        },
    ]

    static func slowlogGet(_ c: inout CommandContext) throws(CommandError) {
        var count = 10
        guard c.args.count <= 3 else { throw c.subcommandSyntaxError }
        if c.args.count == 3 {
            let n = try c.integer(2, or: CommandError("ERR count should be greater than or equal to -1"))
            guard n >= -1 else { throw CommandError("ERR count should be greater than or equal to -1") }
            count = n == -1 ? c.server.slowlog.count : n
        }
        let entries = c.server.slowlog.newest(count)
        c.out.writeArrayHeader(entries.count)
        for e in entries {
            c.out.writeArrayHeader(6)
            c.out.writeIntegerReply(e.id)
            c.out.writeIntegerReply(e.unixSeconds)
            c.out.writeIntegerReply(e.microseconds)
            c.out.writeArrayHeader(e.args.count)
            for a in e.args { c.out.writeBulk(a) }
            c.out.writeBulk(string: e.peer)
            c.out.writeBulk(string: e.clientName)
        }
    }

    static func latencyLatest(_ c: inout CommandContext) throws(CommandError) {
        let events = c.server.latency.events
        c.out.writeArrayHeader(events.count)
        for (name, series) in events.sorted(by: { $0.key < $1.key }) {
            c.out.writeArrayHeader(4)
            c.out.writeBulk(string: name)
            c.out.writeIntegerReply(series.samples.last?.time ?? 0)
            c.out.writeIntegerReply(series.samples.last?.milliseconds ?? 0)
            c.out.writeIntegerReply(series.max)
        }
    }

    static func latencyHistory(_ c: inout CommandContext) throws(CommandError) {
        let samples = c.server.latency.events[c.string(2)]?.samples ?? []
        c.out.writeArrayHeader(samples.count)
        for sample in samples {
            c.out.writeArrayHeader(2)
            c.out.writeIntegerReply(sample.time)
            c.out.writeIntegerReply(sample.milliseconds)
        }
    }

    static func latencyHistogram(_ c: inout CommandContext) throws(CommandError) {
        var names: [String]
        if c.args.count == 2 {
            names = c.server.commandStats.commands.filter { $0.value.latency.total > 0 }.keys.sorted()
        } else {
            // Named commands (a container names all its subcommands), once each, as Redis.
            names = []
            for i in 2..<c.args.count {
                let wanted = c.string(i).lowercased()
                let matching = c.server.commandStats.commands.keys.filter {
                    $0 == wanted || $0.hasPrefix(wanted + "|")
                }.sorted()
                for name in matching where !names.contains(name) { names.append(name) }
            }
            names = names.filter { (c.server.commandStats.commands[$0]?.latency.total ?? 0) > 0 }
        }
        c.out.writeMapHeader(names.count, c.resp)
        for name in names {
            let histogram = c.server.commandStats.commands[name]!.latency
            c.out.writeBulk(string: name)
            c.out.writeMapHeader(2, c.resp)
            c.out.writeBulk(string: "calls")
            c.out.writeIntegerReply(histogram.total)
            c.out.writeBulk(string: "histogram_usec")
            let buckets = histogram.cumulativeByMicroseconds
            c.out.writeMapHeader(buckets.count, c.resp)
            for bucket in buckets {
                c.out.writeIntegerReply(bucket.micros)
                c.out.writeIntegerReply(bucket.count)
            }
        }
    }

    static func latencyGraph(_ c: inout CommandContext) throws(CommandError) {
        let name = c.string(2)
        guard let series = c.server.latency.events[name] else {
            throw CommandError("ERR No samples available for event '\(c.cstring(2))'")
        }
        c.out.writeVerbatim(sparkline(name, series), version: c.resp)
    }

    /// latency.c's latencyCommandGenSparkeline and sparkline.c's renderer (80
    /// columns, 4 rows, filled), labels saying how long ago each sample was.
    static func sparkline(_ event: String, _ series: LatencyMonitor.Series) -> String {
        let now = Int(currentTimeMillis() / 1000)
        let values = series.samples.map(\.milliseconds)
        let labels = series.samples.map { sample -> String in
            let elapsed = now - sample.time
            if elapsed < 60 { return "\(elapsed)s" }
            if elapsed < 3600 { return "\(elapsed / 60)m" }
            if elapsed < 86400 { return "\(elapsed / 3600)h" }
            return "\(elapsed / 86400)d"
        }
        let low = values.min() ?? 0, high = values.max() ?? 0
        var graph = "\(event) - high \(high) ms, low \(low) ms (all time high \(series.max) ms)\n"
        graph += String(repeating: "-", count: 80) + "\n"
        let fill = Array("_o#"), rows = 4, steps = fill.count * rows
        let range = Double(high - low == 0 ? 1 : high - low)
        for start in stride(from: 0, to: values.count, by: 80) {
            if start != 0 { graph += "\n" }
            let part = start..<min(start + 80, values.count)
            var row = 0
            while true {
                var line = [Character](repeating: " ", count: part.count)
                var more = false
                for (j, i) in part.enumerated() {
                    let step = min(max(Int(Double(values[i] - low) * Double(steps) / range), 0), steps - 1)
                    if row < rows {
                        more = true
                        let index = step - (rows - row - 1) * fill.count
                        if index >= 0 && index < fill.count { line[j] = fill[index] } else if index >= fill.count { line[j] = "|" }
                    } else if row - rows < 1 {
                        more = true  // the margin above the labels
                        break
                    } else {
                        let label = Array(labels[i]), at = row - rows - 1
                        if label.count > at {
                            more = true
                            line[j] = label[at]
                        }
                    }
                }
                guard more else { break }
                row += 1
                graph += String(line) + "\n"
            }
        }
        return graph
    }

    /// LATENCY DOCTOR: Redis's report of the events seen (its advice is about Redis's
    /// own causes, fork and AOF, which Lode has not; Lode's figures are listed instead).
    static func doctorReport(_ s: ServerState) -> String {
        let events = s.latency.events
        if events.isEmpty && s.config.latencyMonitorThreshold == 0 {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
                + "\"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space "
                + "mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
        }
        guard !events.isEmpty else {
            return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. "
                + "I honestly think you ought to sleep a bit more, Dave.\n"
        }
        var report = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n"
        for (number, (name, series)) in events.sorted(by: { $0.key < $1.key }).enumerated() {
            let values = series.samples.map(\.milliseconds)
            let average = values.reduce(0, +) / max(1, values.count)
            let deviation = values.reduce(0) { $0 + abs($1 - average) } / max(1, values.count)
            let span = Double((series.samples.last?.time ?? 0) - (series.samples.first?.time ?? 0))
            let period = values.isEmpty ? 0 : span / Double(values.count)
            report += "\(number + 1). \(name): \(values.count) latency spikes (average \(average)ms, mean deviation "
                + "\(deviation)ms, period \(String(format2: period)) sec). Worst all time event \(series.max)ms.\n"
        }
        report += "\nI have a few advices for you:\n\n"
            + "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. "
            + "Please check https://redis.io/commands/slowlog for more information.\n"
            + "- Commands that write wait for the disk under appendfsync always: 'appendfsync everysec' keeps every "
            + "acknowledged write after a crash of the server (only a power loss may take the last second).\n"
        return report
    }
}
