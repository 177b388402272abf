import XCTest
@testable import LodeEngine

/// The ports of glibc's qsort (a merge sort) and Redis's pqsort that SORT and the GEO
/// searches use: both sort, the merge sort keeps ties in input order, and pqsort
/// sorts at least the range it is asked for.
final class SortAlgorithmTests: XCTestCase {
    private func compare(_ a: (Int, Int), _ b: (Int, Int)) -> Int { a.0 < b.0 ? -1 : (a.0 > b.0 ? 1 : 0) }

    func testMergeSortIsStable() {
        var rng = SystemRandomNumberGenerator()
        for n in [0, 1, 2, 7, 40, 41, 100, 1000] {
            var v = (0..<n).map { (Int.random(in: 0..<5, using: &rng), $0) }
            let expected = v.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
            MergeSort.sort(&v, by: compare)
            XCTAssertTrue(v.elementsEqual(expected, by: { $0 == $1 }), "n=\(n)")
        }
    }

    func testPartialQuickSortSortsTheRange() {
        for n in [1, 6, 7, 8, 40, 41, 200, 1000] {
            for (l, r) in [(0, n - 1), (0, 0), (n / 2, n / 2 + 5), (n - 1, n - 1), (3, 2)] where l < n && r < n {
                var v = (0..<n).map { _ in (Int.random(in: 0..<50), 0) }
                let sorted = v.map(\.0).sorted()
                PartialQuickSort.sort(&v, lrange: l, rrange: r, by: compare)
                if l <= r { XCTAssertEqual(v[l...r].map(\.0), Array(sorted[l...r]), "n=\(n) [\(l), \(r)]") }
                XCTAssertEqual(v.map(\.0).sorted(), sorted, "a permutation")
            }
        }
    }

    func testPartialQuickSortInsertionSortsSmallArrays() {
        // pqsort is not stable (its partition moves ties; the differential tests check
        // that order against Redis), but below 7 elements it insertion-sorts, which is.
        var small = [(1, 0), (0, 1), (1, 2), (0, 3)]
        PartialQuickSort.sort(&small, lrange: 0, rrange: 3, by: compare)
        XCTAssertEqual(small.map(\.1), [1, 3, 0, 2])
    }
}
