import LodeRESP
import LodeStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Redis 7.0's double formatting ("%.17g", inf/-inf) and parsing (strtod).

/// Redis 7.0's double formatting ("%.17g", inf/-inf) and parsing (strtod).
enum Score {
    static func format(_ d: Double) -> String {
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        var buf = [CChar](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBufferPointer { b in withVaList([d]) { vsnprintf(b.baseAddress!, b.count, "%.17g", $0) } }
        return String(decoding: buf[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// string2d: strtod over the whole argument (any length, as Redis), no leading space.
    static func parse(_ bytes: [UInt8]) -> Double? {
        guard !bytes.isEmpty, !bytes.contains(0) else { return nil }
        if bytes[0] == 0x20 || (bytes[0] >= 0x09 && bytes[0] <= 0x0D) { return nil }
        var cstr = bytes.map { CChar(bitPattern: $0) }
        cstr.append(0)
        return cstr.withUnsafeBufferPointer { p -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let v = strtod(p.baseAddress!, &end)
            guard let end, end - UnsafeMutablePointer(mutating: p.baseAddress!) == bytes.count else { return nil }
            if v.isNaN { return nil }
            if errno == ERANGE && (v.isInfinite || v == 0) { return nil }
            return v
        }
    }

    /// zslParseRange's parsing of range bounds: plain strtod over the whole string
    /// (leading spaces, "" and overflow to inf allowed), only NaN rejected.
    static func parseBound(_ raw: [UInt8]) -> Double? {
        // Redis hands the argument to strtod as a C string: it ends at a NUL byte.
        let bytes = Array(raw.prefix { $0 != 0 })
        var cstr = bytes.map { CChar(bitPattern: $0) }
        cstr.append(0)
        return cstr.withUnsafeBufferPointer { p -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(p.baseAddress!, &end)
            guard let end, end - UnsafeMutablePointer(mutating: p.baseAddress!) == bytes.count, !v.isNaN else { return nil }
            return v
        }
    }

    static func write(_ d: Double, _ c: inout CommandContext) {
        c.out.writeDouble(formatted: format(d), c.resp)
    }
}

/// A score bound of ZRANGEBYSCORE and friends: "1.5", "(1.5", "-inf", "+inf".
struct ScoreRange {
    var min: Double, max: Double, minExclusive: Bool, maxExclusive: Bool

    static func parseBound(_ b: [UInt8]) -> (Double, Bool)? {
        if b.first == UInt8(ascii: "(") {
            guard let v = Score.parseBound(Array(b.dropFirst())) else { return nil }
            return (v, true)
        }
        guard let v = Score.parseBound(b) else { return nil }
        return (v, false)
    }

    init?(_ minBytes: [UInt8], _ maxBytes: [UInt8]) {
        guard let (a, ax) = Self.parseBound(minBytes), let (b, bx) = Self.parseBound(maxBytes) else { return nil }
        min = a; max = b; minExclusive = ax; maxExclusive = bx
    }

    func aboveMin(_ s: Double) -> Bool { minExclusive ? s > min : s >= min }
    func belowMax(_ s: Double) -> Bool { maxExclusive ? s < max : s <= max }
    func contains(_ s: Double) -> Bool { aboveMin(s) && belowMax(s) }
    var isEmpty: Bool { min > max || (min == max && (minExclusive || maxExclusive)) }
}

/// A lex bound: "[a", "(a", "-", "+".
struct LexRange {
    enum Bound { case minusInf, plusInf, inclusive([UInt8]), exclusive([UInt8]) }
    var min: Bound, max: Bound

    static func parse(_ b: [UInt8]) -> Bound? {
        guard let f = b.first else { return nil }
        switch f {
        case UInt8(ascii: "-") where b.count == 1: return .minusInf
        case UInt8(ascii: "+") where b.count == 1: return .plusInf
        case UInt8(ascii: "["): return .inclusive(Array(b.dropFirst()))
        case UInt8(ascii: "("): return .exclusive(Array(b.dropFirst()))
        default: return nil
        }
    }

    init?(_ a: [UInt8], _ b: [UInt8]) {
        guard let x = Self.parse(a), let y = Self.parse(b) else { return nil }
        min = x; max = y
    }

    func aboveMin(_ m: [UInt8]) -> Bool {
        switch min {
        case .minusInf: return true
        case .plusInf: return false
        case .inclusive(let v): return !m.lexicographicallyPrecedes(v)
        case .exclusive(let v): return v.lexicographicallyPrecedes(m)
        }
    }

    func belowMax(_ m: [UInt8]) -> Bool {
        switch max {
        case .minusInf: return false
        case .plusInf: return true
        case .inclusive(let v): return !v.lexicographicallyPrecedes(m)
        case .exclusive(let v): return m.lexicographicallyPrecedes(v)
        }
    }
}
