import LodeStore
/// Per-command latency histograms (Redis's latency-tracking, shown by INFO latencystats
/// and LATENCY HISTOGRAM) and the latency monitor's event series (LATENCY LATEST,
/// HISTORY, GRAPH, DOCTOR; `latency-monitor-threshold`).

/// A histogram of durations in nanoseconds with about two significant digits, as
/// Redis's HDR histograms keep them: 128 sub-buckets per power of two.
struct LatencyHistogram {
    private(set) var total = 0

    /// A percentile as Redis names it ("%f" with trailing zeros trimmed: 50, 99.9).
    static func label(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : String(p)
    }
    private var counts: [Int: Int] = [:]

    mutating func record(nanoseconds: Int) {
        let v = max(1, nanoseconds)
        let shift = max(0, (63 - v.leadingZeroBitCount) - 7)
        counts[(shift << 8) | (v >> shift), default: 0] += 1
        total += 1
    }

    /// The largest value a bucket stands for (HDR's highest equivalent value).
    private static func highest(_ key: Int) -> Int {
        let shift = key >> 8, sub = key & 0xff
        return ((sub + 1) << shift) - 1
    }

    private var sortedBuckets: [(value: Int, count: Int)] {
        counts.map { (Self.highest($0.key), $0.value) }.sorted { $0.value < $1.value }
    }

    /// The value (ns) below which `percentile` percent of the samples lie.
    func value(atPercentile percentile: Double) -> Int {
        let wanted = max(1, Int((percentile / 100 * Double(total)).rounded(.up)))
        var seen = 0
        for bucket in sortedBuckets {
            seen += bucket.count
            if seen >= wanted { return bucket.value }
        }
        return sortedBuckets.last?.value ?? 0
    }

    /// LATENCY HISTOGRAM's cumulative counts at 1, 2, 4, 8, ... microseconds (Redis's
    /// log iteration from 1024 ns by powers of two), where the count grows.
    var cumulativeByMicroseconds: [(micros: Int, count: Int)] {
        var result: [(Int, Int)] = []
        let buckets = sortedBuckets
        var index = 0, cumulative = 0, previous = 0, boundary = 1024
        while cumulative < total {
            // The iteration reports each level as its bucket's highest equivalent value.
            let level = boundary + (1 << max(0, (63 - boundary.leadingZeroBitCount) - 7)) - 1
            while index < buckets.count && buckets[index].value <= level {
                cumulative += buckets[index].count
                index += 1
            }
            if cumulative > previous { result.append((level / 1000, cumulative)) }
            previous = cumulative
            boundary *= 2
        }
        return result
    }
}

/// The latency monitor: for each event class, the worst latency of each second it
/// passed `latency-monitor-threshold`, the last 160 of them, and the all-time worst.
struct LatencyMonitor {
    static let seriesLength = 160

    struct Series {
        /// Oldest first, at most `seriesLength`.
        var samples: [(time: Int, milliseconds: Int)] = []
        var max = 0
    }

    private(set) var events: [String: Series] = [:]

    mutating func addSampleIfNeeded(_ event: String, milliseconds: Int, threshold: Int) {
        guard threshold > 0, milliseconds >= threshold else { return }
        let now = Int(currentTimeMillis() / 1000)
        var series = events[event] ?? Series()
        series.max = Swift.max(series.max, milliseconds)
        if let last = series.samples.last, last.time == now {
            series.samples[series.samples.count - 1].milliseconds = Swift.max(last.milliseconds, milliseconds)
        } else {
            series.samples.append((now, milliseconds))
            if series.samples.count > Self.seriesLength { series.samples.removeFirst() }
        }
        events[event] = series
    }

    /// LATENCY RESET: the number of event classes forgotten.
    mutating func reset(_ names: [String]?) -> Int {
        guard let names else {
            defer { events.removeAll() }
            return events.count
        }
        return names.reduce(0) { $0 + (events.removeValue(forKey: $1) != nil ? 1 : 0) }
    }
}
