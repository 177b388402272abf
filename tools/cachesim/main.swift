// lode-cachesim: replays synthetic key traces through Lode's real HotCache and
// prints hit ratios per eviction policy, as CSV on stdout:
//   trace,policy,cache_percent,hit_ratio
// Usage: lode-cachesim [keys] [requests]   (defaults 100000 keys, 2000000 requests)
#if canImport(Glibc)
import Glibc
#endif
import LodeStore
import NIOCore

struct XorShift {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Zipf(s) over 0..<n by inverse CDF (binary search), key 0 the most popular;
/// ranks are shuffled onto key ids so popularity is not ordered by key.
struct Zipf {
    let cdf: [Double]
    let ids: [Int]
    init(n: Int, s: Double, rng: inout XorShift) {
        var c = [Double](repeating: 0, count: n)
        var sum = 0.0
        for i in 0..<n {
            sum += 1.0 / pow(Double(i + 1), s)
            c[i] = sum
        }
        cdf = c.map { $0 / sum }
        var perm = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { perm.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        ids = perm
    }
    func sample(_ rng: inout XorShift) -> Int {
        let u = rng.unit()
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        return ids[lo]
    }
}

let args = CommandLine.arguments
let keys = args.count > 1 ? Int(args[1])! : 100_000
let requests = args.count > 2 ? Int(args[2])! : 2_000_000
let valueBytes = 100
var rng = XorShift(state: 0x9E37_79B9_7F4A_7C15)
let zipf = Zipf(n: keys, s: 0.99, rng: &rng)

/// The trace: plain Zipf, or Zipf with a full scan of the key space inserted
/// four times (a batch job reading everything once). Scan reads are replayed
/// but not scored: the figure is what the scans cost the Zipf readers.
func trace(scans: Bool) -> [(key: Int, scored: Bool)] {
    var r = XorShift(state: 42)
    var out: [(key: Int, scored: Bool)] = []
    out.reserveCapacity(requests + (scans ? 4 * keys : 0))
    let scanEvery = requests / 4
    for i in 0..<requests {
        out.append((zipf.sample(&r), true))
        if scans && i % scanEvery == scanEvery / 2 {
            for k in 0..<keys { out.append((k, false)) }
        }
    }
    return out
}

let keyBuffers = (0..<keys).map { ByteBuffer(string: "key:\($0)") }
let value = Record(value: ByteBuffer(repeating: 0x76, count: valueBytes))
let perEntry = HotCache.entryOverhead + 10 + valueBytes

print("trace,policy,cache_percent,hit_ratio")
for (name, t) in [("zipf0.99", trace(scans: false)), ("zipf0.99+scans", trace(scans: true))] {
    for percent in [1, 10, 50] {
        for policy in EvictionPolicy.allCases {
            let cache = HotCache(capacity: keys * perEntry * percent / 100, policy: policy)
            // Warm up with the first tenth, measure the rest.
            let warm = t.count / 10
            var hits = 0, scored = 0
            for (i, (k, counts)) in t.enumerated() {
                let hit = cache.get(db: 0, key: keyBuffers[k]) != nil
                if !hit { cache.put(db: 0, key: keyBuffers[k], value) }
                if i >= warm && counts {
                    scored += 1
                    if hit { hits += 1 }
                }
            }
            let ratio = Double(hits) / Double(scored)
            print("\(name),\(policy.rawValue),\(percent),\((ratio * 10000).rounded() / 10000)")
        }
    }
}
