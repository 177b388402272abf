/// Redis's pqsort.c: Bentley & McIlroy's quicksort (from NetBSD's qsort) that only
/// recurses into partitions overlapping the wanted range [lrange, rrange]. SORT ... BY
/// with LIMIT and GEORADIUS/GEOSEARCH with COUNT use it; it is not stable, so elements
/// that compare equal come out in the order this exact algorithm leaves them, which a
/// port must reproduce step for step (same pivots, same swaps) to give Redis's replies.
/// `cmp` returns <0, 0 or >0 like a C comparator.
enum PartialQuickSort {
    static func sort<T>(_ v: inout [T], lrange: Int, rrange: Int, by cmp: (T, T) -> Int) {
        guard !v.isEmpty else { return }
        run(&v, base: 0, count: v.count, lrange: lrange, rrange: rrange, cmp)
    }

    private static func med3<T>(_ v: [T], _ a: Int, _ b: Int, _ c: Int, _ cmp: (T, T) -> Int) -> Int {
        cmp(v[a], v[b]) < 0
            ? (cmp(v[b], v[c]) < 0 ? b : (cmp(v[a], v[c]) < 0 ? c : a))
            : (cmp(v[b], v[c]) > 0 ? b : (cmp(v[a], v[c]) < 0 ? a : c))
    }

    private static func vecswap<T>(_ v: inout [T], _ a: Int, _ b: Int, _ n: Int) {
        for i in 0..<max(n, 0) { v.swapAt(a + i, b + i) }
    }

    /// The C code compares byte addresses: lrange is the first byte of element lrange and
    /// rrange the last byte of element rrange; a partition [start, start+n) is skipped when
    /// both lie before it or both after it. In element units that is this test.
    private static func overlaps(_ start: Int, _ n: Int, _ lrange: Int, _ rrange: Int) -> Bool {
        let before = lrange < start && rrange + 1 <= start
        let after = lrange >= start + n && rrange + 1 > start + n
        return !(before || after)
    }

    /// _pqsort, with element indices for the C pointers (a = base, pn = base + n, ...).
    private static func run<T>(_ v: inout [T], base startBase: Int, count startCount: Int,
                               lrange: Int, rrange: Int, _ cmp: (T, T) -> Int) {
        var a = startBase, n = startCount
        while true {  // the C code's `loop:` label
            if n < 7 {
                var pm = a + 1
                while pm < a + n {
                    var pl = pm
                    while pl > a && cmp(v[pl - 1], v[pl]) > 0 {
                        v.swapAt(pl, pl - 1)
                        pl -= 1
                    }
                    pm += 1
                }
                return
            }
            var pm = a + n / 2
            if n > 7 {
                var pl = a
                var pn = a + n - 1
                if n > 40 {
                    let d = n / 8
                    pl = med3(v, pl, pl + d, pl + 2 * d, cmp)
                    pm = med3(v, pm - d, pm, pm + d, cmp)
                    pn = med3(v, pn - 2 * d, pn - d, pn, cmp)
                }
                pm = med3(v, pl, pm, pn, cmp)
            }
            v.swapAt(a, pm)
            var pa = a + 1, pb = a + 1
            var pc = a + n - 1, pd = a + n - 1
            while true {
                while pb <= pc {
                    let r = cmp(v[pb], v[a])
                    if r > 0 { break }
                    if r == 0 { v.swapAt(pa, pb); pa += 1 }
                    pb += 1
                }
                while pb <= pc {
                    let r = cmp(v[pc], v[a])
                    if r < 0 { break }
                    if r == 0 { v.swapAt(pc, pd); pd -= 1 }
                    pc -= 1
                }
                if pb > pc { break }
                v.swapAt(pb, pc)
                pb += 1
                pc -= 1
            }
            let pn = a + n
            var r = min(pa - a, pb - pa)
            vecswap(&v, a, pb - r, r)
            r = min(pd - pc, pn - pd - 1)
            vecswap(&v, pb, pn - r, r)
            r = pb - pa
            if r > 1 && overlaps(a, r, lrange, rrange) {
                run(&v, base: a, count: r, lrange: lrange, rrange: rrange, cmp)
            }
            r = pd - pc
            guard r > 1 else { return }
            // Iterate rather than recurse, as the C code does.
            a = pn - r
            n = r
            if !overlaps(a, n, lrange, rrange) { return }
        }
    }
}
