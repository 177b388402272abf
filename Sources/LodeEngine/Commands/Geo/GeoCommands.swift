import LodeRESP
import LodeStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The GEO family (Redis 7.0's geo.c): points are sorted set members whose score is
/// the 52-bit geohash of their position (GeoHash), so GEOADD is ZADD with computed
/// scores and the searches walk score ranges of the sorted set's index.
enum GeoCommands {
    static let handlers: [String: CommandHandler] = [
        "geoadd": geoadd,
        "geopos": geopos,
        "geodist": geodist,
        "geohash": geohash,
        "georadius": { (c: inout CommandContext) throws(CommandError) in try search(&c, source: 1, [.coords]) },
        "georadiusbymember": { (c: inout CommandContext) throws(CommandError) in try search(&c, source: 1, [.member]) },
        "georadius_ro": { (c: inout CommandContext) throws(CommandError) in try search(&c, source: 1, [.coords, .noStore]) },
        "georadiusbymember_ro": { (c: inout CommandContext) throws(CommandError) in
            try search(&c, source: 1, [.member, .noStore])
        },
        "geosearch": { (c: inout CommandContext) throws(CommandError) in try search(&c, source: 1, [.search]) },
        "geosearchstore": { (c: inout CommandContext) throws(CommandError) in try search(&c, source: 2, [.search, .searchStore]) },
    ]

    // MARK: argument helpers

    /// extractLongLatOrReply: two doubles at `i`, within the geohash limits.
    static func longLat(_ c: CommandContext, _ i: Int) throws(CommandError) -> (Double, Double) {
        guard let x = Score.parse(c.bytes(i)) else { throw .notFloat }
        guard let y = Score.parse(c.bytes(i + 1)) else { throw .notFloat }
        if x < GeoHash.longMin || x > GeoHash.longMax || y < GeoHash.latMin || y > GeoHash.latMax {
            throw CommandError("ERR invalid longitude,latitude pair \(cFormat("%f", x)),\(cFormat("%f", y))")
        }
        return (x, y)
    }

    static func cFormat(_ format: String, _ d: Double) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBufferPointer { b in withVaList([d]) { vsnprintf(b.baseAddress!, b.count, format, $0) } }
        return String(decoding: buf[0..<min(Int(n), buf.count - 1)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// extractUnitOrReply: metres per unit.
    static func unit(_ c: CommandContext, _ i: Int) throws(CommandError) -> Double {
        if c.argIs(i, "m") { return 1 }
        if c.argIs(i, "km") { return 1000 }
        if c.argIs(i, "ft") { return 0.3048 }
        if c.argIs(i, "mi") { return 1609.34 }
        throw CommandError("ERR unsupported unit provided. please use M, KM, FT, MI")
    }

    /// extractDistanceOrReply: `radius unit` at `i`.
    static func radius(_ c: CommandContext, _ i: Int) throws(CommandError) -> (radius: Double, conversion: Double) {
        guard let d = Score.parse(c.bytes(i)) else { throw CommandError("ERR need numeric radius") }
        if d < 0 { throw CommandError("ERR radius cannot be negative") }
        return (d, try unit(c, i + 1))
    }

    /// extractBoxOrReply: `width height unit` at `i`.
    static func box(_ c: CommandContext, _ i: Int) throws(CommandError) -> (width: Double, height: Double, conversion: Double) {
        guard let w = Score.parse(c.bytes(i)) else { throw CommandError("ERR need numeric width") }
        guard let h = Score.parse(c.bytes(i + 1)) else { throw CommandError("ERR need numeric height") }
        if h < 0 || w < 0 { throw CommandError("ERR height or width cannot be negative") }
        return (w, h, try unit(c, i + 2))
    }

    /// addReplyHumanLongDouble: "%.17Lf" of the double without trailing zeros, a bulk
    /// string in RESP2 and a double in RESP3.
    static func writeCoordinate(_ d: Double, _ c: inout CommandContext) {
        c.out.writeDouble(formatted: LongDoubleFormat.human(LongDouble(d)) ?? "0", c.resp)
    }

    // MARK: commands

    /// GEOADD key [NX|XX] [CH] longitude latitude member ...: ZADD with each position's
    /// 52-bit geohash as the score, through ZADD's own code (events, WATCH, cache).
    static func geoadd(_ c: inout CommandContext) throws(CommandError) {
        var flags = ZSetCommands.ZAddFlags()
        var longidx = 2
        while longidx < c.args.count {
            if c.argIs(longidx, "nx") { flags.nx = true } else if c.argIs(longidx, "xx") { flags.xx = true }
            else if c.argIs(longidx, "ch") { flags.ch = true } else { break }
            longidx += 1
        }
        if (c.args.count - longidx) % 3 != 0 || (flags.xx && flags.nx) { throw .syntax }
        let elements = (c.args.count - longidx) / 3
        var pairs: [(Double, ByteBuffer)] = []
        for i in 0..<elements {
            let (x, y) = try longLat(c, longidx + i * 3)
            let hash = GeoHash.encodeWGS84(longitude: x, latitude: y, step: GeoHash.stepMax) ?? .zero
            pairs.append((Double(GeoHash.align52Bits(hash)), c.arg(longidx + i * 3 + 2)))
        }
        // What ZADD itself would refuse of the rewritten call ("zadd key [opts]" alone).
        if pairs.isEmpty { throw .syntax }
        try ZSetCommands.zaddApply(&c, key: c.arg(1), flags, pairs)
    }

    /// GEOPOS and GEOHASH: one reply per member named, from its decoded position, or
    /// `missing` for a member (or key) that is not there.
    static func positions(_ c: inout CommandContext, missing: (inout CommandContext) -> Void,
                          _ write: (inout CommandContext, Double, Double) -> Void) throws(CommandError) {
        let z = try c.lookupCollection(c.arg(1), .zset, read: true)
        c.out.writeArrayHeader(c.args.count - 2)
        for j in 2..<c.args.count {
            guard let z, let score = try ZSetCommands.score(c, z, c.arg(j)) else {
                missing(&c)
                continue
            }
            let (x, y) = GeoHash.decodeScore(score)
            write(&c, x, y)
        }
    }

    static func geopos(_ c: inout CommandContext) throws(CommandError) {
        try positions(&c, missing: { $0.out.writeNullArray($0.resp) }) { c, x, y in
            c.out.writeArrayHeader(2)
            writeCoordinate(x, &c)
            writeCoordinate(y, &c)
        }
    }

    /// Redis's internal latitude range is ±85.05: the position is re-encoded with the
    /// standard ±90 to print a valid geohash.
    static func geohash(_ c: inout CommandContext) throws(CommandError) {
        try positions(&c, missing: { $0.out.writeNull($0.resp) }) { c, x, y in
            c.out.writeBulk(string: GeoHash.standardString(longitude: x, latitude: y))
        }
    }

    static func geodist(_ c: inout CommandContext) throws(CommandError) {
        var toMeter = 1.0
        if c.args.count == 5 {
            toMeter = try unit(c, 4)
        } else if c.args.count > 5 {
            throw .syntax
        }
        guard let z = try c.lookupCollection(c.arg(1), .zset, read: true),
              let s1 = try ZSetCommands.score(c, z, c.arg(2)),
              let s2 = try ZSetCommands.score(c, z, c.arg(3)) else { return c.out.writeNull(c.resp) }
        let (x1, y1) = GeoHash.decodeScore(s1)
        let (x2, y2) = GeoHash.decodeScore(s2)
        c.out.writeBulk(string: GeoHash.formatDistance(GeoHash.distance(x1, y1, x2, y2) / toMeter))
    }
}
