/// glibc's qsort (msort.c, `msort_with_tmp`): a top-down merge sort that splits at
/// n/2 and takes from the left run when `cmp(left, right) <= 0`. Redis's SORT and
/// GEO commands call qsort; porting glibc's algorithm (not just "a stable sort")
/// keeps Redis's order even for comparators that are not consistent, such as
/// GEO's distance comparison when a distance is NaN. `cmp` is a C comparator.
enum MergeSort {
    static func sort<T>(_ v: inout [T], by cmp: (T, T) -> Int) {
        guard v.count > 1 else { return }
        var tmp = v
        v.withUnsafeMutableBufferPointer { b in
            tmp.withUnsafeMutableBufferPointer { t in run(b, 0, b.count, t, cmp) }
        }
    }

    private static func run<T>(_ b: UnsafeMutableBufferPointer<T>, _ start: Int, _ n: Int,
                               _ tmp: UnsafeMutableBufferPointer<T>, _ cmp: (T, T) -> Int) {
        if n <= 1 { return }
        var n1 = n / 2
        var n2 = n - n1
        var b1 = start, b2 = start + n1
        run(b, b1, n1, tmp, cmp)
        run(b, b2, n2, tmp, cmp)
        var t = 0
        while n1 > 0 && n2 > 0 {
            if cmp(b[b1], b[b2]) <= 0 {
                tmp[t] = b[b1]
                b1 += 1
                n1 -= 1
            } else {
                tmp[t] = b[b2]
                b2 += 1
                n2 -= 1
            }
            t += 1
        }
        // What is left of the left run follows; the right run's rest is already in place.
        while n1 > 0 {
            tmp[t] = b[b1]
            t += 1
            b1 += 1
            n1 -= 1
        }
        for i in 0..<(n - n2) { b[start + i] = tmp[i] }
    }
}
