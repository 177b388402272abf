#if canImport(Glibc)
import Glibc
#endif

/// Redis does INCRBYFLOAT arithmetic in C `long double` and prints it with
/// "%.17Lf" minus trailing zeros; matching its replies digit for digit needs the
/// same 80-bit type on x86.
#if arch(x86_64) || arch(i386)
typealias LongDouble = Float80
#else
typealias LongDouble = Double
#endif

enum LongDoubleFormat {
    /// Redis's getLongDoubleFromObject: strtold over the whole string, no leading or
    /// trailing space, not NaN.
    static func parse(_ bytes: [UInt8]) -> LongDouble? {
        if bytes.isEmpty || bytes.count >= 5 * 1024 { return nil }
        if isSpace(bytes.first!) || isSpace(bytes.last!) { return nil }
        if bytes.contains(0) { return nil }
        return bytes.withUnsafeBufferPointer { p -> LongDouble? in
            var cstr = Array(p)
            cstr.append(0)
            return cstr.withUnsafeBufferPointer { c -> LongDouble? in
                let start = UnsafeRawPointer(c.baseAddress!).assumingMemoryBound(to: CChar.self)
                var end: UnsafeMutablePointer<CChar>? = nil
                errno = 0
                #if arch(x86_64) || arch(i386)
                let v = strtold(start, &end)
                #else
                let v = strtod(start, &end)
                #endif
                guard let end, end - UnsafeMutablePointer(mutating: start) == bytes.count else { return nil }
                if v.isNaN { return nil }
                // Like Redis: overflow to infinity or underflow to zero is an error.
                if errno == ERANGE && (v.isInfinite || v == 0) { return nil }
                return v
            }
        }
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

    /// "%.17Lf" with trailing zeros (and a trailing '.') removed; "-0" becomes "0".
    static func human(_ value: LongDouble) -> String? {
        var buf = [CChar](repeating: 0, count: 5 * 1024)
        let n = buf.withUnsafeMutableBufferPointer { b -> Int32 in
            withVaList([value]) { vsnprintf(b.baseAddress!, b.count, "%.17Lf", $0) }
        }
        if n < 0 || Int(n) + 1 > buf.count { return nil }
        var bytes = buf[0..<Int(n)].map { UInt8(bitPattern: $0) }
        if bytes.contains(UInt8(ascii: ".")) {
            while bytes.last == UInt8(ascii: "0") { bytes.removeLast() }
            if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        }
        if bytes == Array("-0".utf8) { bytes = [UInt8(ascii: "0")] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
