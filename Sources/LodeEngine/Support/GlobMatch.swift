/// Redis's `stringmatchlen`: glob-style matching used by KEYS, SCAN MATCH and
/// CONFIG GET (`*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes; optionally case-folding).
func globMatch(_ pattern: UnsafeRawBufferPointer, _ string: UnsafeRawBufferPointer, noCase: Bool = false) -> Bool {
    var skipLongerMatches = false
    return globMatchImpl(pattern, 0, string, 0, noCase, &skipLongerMatches, nesting: 0)
}

func globMatch(_ pattern: [UInt8], _ string: [UInt8], noCase: Bool = false) -> Bool {
    pattern.withUnsafeBytes { p in string.withUnsafeBytes { s in globMatch(p, s, noCase: noCase) } }
}

private func lower(_ c: UInt8) -> UInt8 { (c >= 65 && c <= 90) ? c + 32 : c }

private func globMatchImpl(_ p: UnsafeRawBufferPointer, _ pi0: Int, _ s: UnsafeRawBufferPointer, _ si0: Int,
                           _ noCase: Bool, _ skipLonger: inout Bool, nesting: Int) -> Bool {
    // Like Redis, protect against pathological patterns by bounding recursion.
    if nesting > 1000 { return false }
    var pi = pi0, si = si0
    let pn = p.count, sn = s.count
    while pi < pn && si < sn {
        switch p[pi] {
        case UInt8(ascii: "*"):
            while pi + 1 < pn && p[pi + 1] == UInt8(ascii: "*") { pi += 1 }
            if pi + 1 == pn { return true }
            while si < sn {
                if globMatchImpl(p, pi + 1, s, si, noCase, &skipLonger, nesting: nesting + 1) { return true }
                if skipLonger { return false }
                si += 1
            }
            skipLonger = true
            return false
        case UInt8(ascii: "?"):
            si += 1
        case UInt8(ascii: "["):
            pi += 1
            let not = pi < pn && p[pi] == UInt8(ascii: "^")
            if not { pi += 1 }
            var match = false
            while true {
                if pi < pn && p[pi] == UInt8(ascii: "\\") && pi + 1 < pn {
                    pi += 1
                    if p[pi] == s[si] { match = true }
                } else if pi >= pn || p[pi] == UInt8(ascii: "]") {
                    break
                } else if pi + 2 < pn && p[pi + 1] == UInt8(ascii: "-") {
                    var start = p[pi], end = p[pi + 2]
                    var c = s[si]
                    if start > end { swap(&start, &end) }
                    if noCase { start = lower(start); end = lower(end); c = lower(c) }
                    pi += 2
                    if c >= start && c <= end { match = true }
                } else {
                    if noCase ? lower(p[pi]) == lower(s[si]) : p[pi] == s[si] { match = true }
                }
                pi += 1
            }
            if pi >= pn { pi = pn - 1 }  // Redis: "[" without "]" treats the end as the close
            if not { match = !match }
            if !match { return false }
            si += 1
        case UInt8(ascii: "\\"):
            if pi + 1 < pn { pi += 1 }
            fallthrough
        default:
            if noCase ? lower(p[pi]) != lower(s[si]) : p[pi] != s[si] { return false }
            si += 1
        }
        pi += 1
        if si == sn {
            while pi < pn && p[pi] == UInt8(ascii: "*") { pi += 1 }
            break
        }
    }
    return pi == pn && si == sn
}
