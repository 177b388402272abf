import XCTest

/// Bytes from a hex string such as "f5404723"; traps on malformed literals, which only tests write.
func hex(_ string: String) -> [UInt8] {
    precondition(string.count % 2 == 0, "odd hex literal")
    var bytes: [UInt8] = []
    var index = string.startIndex
    while index < string.endIndex {
        let next = string.index(index, offsetBy: 2)
        bytes.append(UInt8(string[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// Lower-case hex of `bytes`, for failure messages comparable with the fixtures.
func hexString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// SplitMix64: a seeded generator, so randomized tests fail the same way every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
    /// Bytes drawn from a small alphabet with repeats, which LZF finds matches in.
    mutating func compressible(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            if !out.isEmpty && Bool.random(using: &self) {
                let start = Int.random(in: 0..<out.count, using: &self)
                let length = Int.random(in: 1...300, using: &self)
                for i in 0..<length where out.count < count { out.append(out[start + i % (out.count - start)]) }
            } else {
                out.append(UInt8.random(in: 97...100, using: &self))
            }
        }
        return out
    }
}
