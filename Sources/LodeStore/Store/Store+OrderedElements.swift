import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// Visits the elements of a collection stored by name (not hashed: list
    /// indexes, stream IDs) whose names lie in `from...through` (byte order, both
    /// inclusive), ascending or, `reverse`, descending; `visit` returns false to
    /// stop. The bytes are valid only inside `visit`. Names must be short (at most
    /// KeyEncoding.maxInlineKeyLength bytes), as every stream sub-key is.
    public func walkElements(version: UInt64, from: [UInt8], through: [UInt8], reverse: Bool = false,
                             _ visit: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool) throws {
        var low: [UInt8] = [], high: [UInt8] = []
        KeyEncoding.appendBigEndian(version, to: &low)
        low.append(KeyEncoding.shortTag)
        high = low
        low += from
        high += through
        let nameStart = 9
        do {
            let txn = try currentReadTxn()
            let cursor = try LMDBCursor(txn, subkeysDB)
            var positioned: Bool
            if reverse {
                // The last key ≤ high: seek the first ≥ high, step back unless equal.
                positioned = try high.withUnsafeBytes { try cursor.seek(atLeast: $0) }
                if !positioned {
                    positioned = try cursor.last()
                } else if cursor.withCurrent({ k, _ in !k.elementsEqual(high) }) {
                    positioned = try cursor.previous()
                }
            } else {
                positioned = try low.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            }
            while positioned {
                let go: Bool = try cursor.withCurrent { k, v in
                    guard k.count >= nameStart else { return false }
                    // Within the bound on the side we walk towards (the other held at the seek).
                    guard reverse ? Self.compare(k, low) >= 0 : Self.compare(k, high) <= 0 else { return false }
                    return try visit(UnsafeRawBufferPointer(rebasing: k[nameStart...]), v)
                }
                if !go { return }
                positioned = reverse ? try cursor.previous() : try cursor.next()
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(error)
        }
    }

    /// LMDB's default key order: memcmp of the common prefix, then the shorter first.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        let r = n == 0 ? 0 : b.withUnsafeBytes { memcmp(a.baseAddress!, $0.baseAddress!, n) }
        if r != 0 { return Int(r) }
        return a.count - b.count
    }
}
