/// Redis's CRC-64 (Jones polynomial 0xad93d23594c935a9, reflected, no final
/// xor), which seals DUMP and FUNCTION DUMP payloads and RDB files.
public enum CRC64 {
    private static let table: [UInt64] = (0..<256).map { n in
        var c = UInt64(n)
        for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x95ac_9329_ac4b_c9b5 : c >> 1 }
        return c
    }

    /// The CRC of `bytes` continuing from `crc` (0 to start).
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes, continuing crc: UInt64 = 0) -> UInt64
    where Bytes.Element == UInt8 {
        var c = crc
        for b in bytes { c = table[Int((c ^ UInt64(b)) & 0xff)] ^ (c >> 8) }
        return c
    }
}
