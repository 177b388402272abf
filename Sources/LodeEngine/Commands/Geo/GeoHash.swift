#if canImport(Glibc)
import Glibc
#endif

/// Redis 7.0's geohash.c and geohash_helper.c: the 52-bit interleaved geohash that
/// GEO commands store as a sorted set score, its neighbours, the search areas of a
/// radius or box query, and the haversine distance. Pure arithmetic (no engine
/// state), ported operation for operation so every double is bit-identical to
/// Redis's: coordinates and distances in replies are printed from these values.
enum GeoHash {
    /// GEO_STEP_MAX: 26 steps, 52 bits.
    static let stepMax: UInt8 = 26
    /// Limits from EPSG:900913 / EPSG:3785 / OSGEO:41001 (no geocoding at the poles).
    static let latMin = -85.05112878, latMax = 85.05112878
    static let longMin = -180.0, longMax = 180.0
    /// D_R, and EARTH_RADIUS_IN_METERS: Earth's quadratic mean radius for WGS-84.
    static let degToRad = Double.pi / 180.0
    static let earthRadius = 6372797.560856
    static let mercatorMax = 20037726.37

    struct Bits: Equatable {
        var bits: UInt64
        var step: UInt8
        static let zero = Bits(bits: 0, step: 0)
        var isZero: Bool { bits == 0 && step == 0 }  // HASHISZERO / GISZERO
    }

    struct Range {
        var min: Double, max: Double
        var isZero: Bool { max == 0 && min == 0 }  // RANGEISZERO
    }

    struct Area {
        var hash: Bits
        var longitude: Range
        var latitude: Range
    }

    struct Neighbors {
        var north, east, west, south, northEast, southEast, northWest, southWest: Bits
    }

    /// GeoHashRadius: the centre box, its area, and the eight neighbours to search.
    struct Radius {
        var hash: Bits
        var area: Area
        var neighbors: Neighbors
    }

    /// GeoShape: a search centre (xy: longitude, latitude) and a circle or a box, in the
    /// unit whose size in metres is `conversion`; `bounds` is filled by the area search.
    struct Shape {
        enum Kind { case circular(radius: Double), rectangle(width: Double, height: Double) }
        var kind: Kind
        var longitude: Double, latitude: Double
        var conversion: Double
        var bounds: (minLong: Double, minLat: Double, maxLong: Double, maxLat: Double) = (0, 0, 0, 0)
    }

    static let wgs84Long = Range(min: longMin, max: longMax)
    static let wgs84Lat = Range(min: latMin, max: latMax)

    // MARK: geohash.c

    /// Interleaves the low 32 bits of x (even positions) and y (odd positions).
    static func interleave64(_ xlo: UInt32, _ ylo: UInt32) -> UInt64 {
        let b: [UInt64] = [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF]
        let s: [UInt64] = [1, 2, 4, 8, 16]
        var x = UInt64(xlo), y = UInt64(ylo)
        for i in stride(from: 4, through: 0, by: -1) {
            x = (x | (x << s[i])) & b[i]
            y = (y | (y << s[i])) & b[i]
        }
        return x | (y << 1)
    }

    static func deinterleave64(_ interleaved: UInt64) -> UInt64 {
        let b: [UInt64] = [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF,
                           0x0000FFFF0000FFFF, 0x00000000FFFFFFFF]
        let s: [UInt64] = [0, 1, 2, 4, 8, 16]
        var x = interleaved, y = interleaved >> 1
        for i in 0..<6 {
            x = (x | (x >> s[i])) & b[i]
            y = (y | (y >> s[i])) & b[i]
        }
        return x | (y << 32)
    }

    /// C's conversion of a double in [0, 2^32] to uint32_t (truncation; x86 keeps the low
    /// 32 bits of the 64-bit conversion, so 2^32 itself becomes 0).
    static func cUInt32(_ d: Double) -> UInt32 {
        UInt32(truncatingIfNeeded: cUInt64(d))
    }

    /// C's (uint64_t) of a double as gcc compiles it on x86-64 (cvttsd2si, with 2^63
    /// subtracted first for large values): NaN, infinities and values out of range do
    /// not trap but give what the instruction gives. decodeGeohash applies it to any
    /// score, including scores that GEOADD never wrote.
    static func cUInt64(_ d: Double) -> UInt64 {
        func cvtt(_ x: Double) -> Int64 {
            if x.isNaN || x >= 9223372036854775808.0 || x < -9223372036854775808.0 { return Int64.min }
            return Int64(x)
        }
        if d >= 9223372036854775808.0 {
            return UInt64(bitPattern: cvtt(d - 9223372036854775808.0)) ^ (1 << 63)
        }
        return UInt64(bitPattern: cvtt(d))
    }

    /// geohashEncode: nil where the C function returns 0 before touching the hash; a
    /// zero-bits hash of `step` where it returns 0 after setting it.
    static func encode(longRange: Range, latRange: Range, longitude: Double, latitude: Double, step: UInt8) -> Bits? {
        if step > 32 || step == 0 || latRange.isZero || longRange.isZero { return nil }
        if longitude > longMax || longitude < longMin || latitude > latMax || latitude < latMin { return nil }
        if latitude < latRange.min || latitude > latRange.max || longitude < longRange.min || longitude > longRange.max {
            return Bits(bits: 0, step: step)
        }
        var latOffset = (latitude - latRange.min) / (latRange.max - latRange.min)
        var longOffset = (longitude - longRange.min) / (longRange.max - longRange.min)
        // Convert to fixed point based on the step size.
        latOffset *= Double(UInt64(1) << step)
        longOffset *= Double(UInt64(1) << step)
        return Bits(bits: interleave64(cUInt32(latOffset), cUInt32(longOffset)), step: step)
    }

    static func encodeWGS84(longitude: Double, latitude: Double, step: UInt8) -> Bits? {
        encode(longRange: wgs84Long, latRange: wgs84Lat, longitude: longitude, latitude: latitude, step: step)
    }

    /// geohashDecode.
    static func decode(longRange: Range, latRange: Range, _ hash: Bits) -> Area? {
        if hash.isZero || latRange.isZero || longRange.isZero { return nil }
        let step = hash.step
        let sep = deinterleave64(hash.bits)  // [LAT][LONG]
        let latScale = latRange.max - latRange.min
        let longScale = longRange.max - longRange.min
        let ilato = UInt32(truncatingIfNeeded: sep)
        let ilono = UInt32(truncatingIfNeeded: sep >> 32)
        let div = Double(UInt64(1) << step)
        // (ilato + 1) is unsigned 32-bit arithmetic in C: it wraps.
        let lat = Range(min: latRange.min + (Double(ilato) * 1.0 / div) * latScale,
                        max: latRange.min + (Double(ilato &+ 1) * 1.0 / div) * latScale)
        let long = Range(min: longRange.min + (Double(ilono) * 1.0 / div) * longScale,
                         max: longRange.min + (Double(ilono &+ 1) * 1.0 / div) * longScale)
        return Area(hash: hash, longitude: long, latitude: lat)
    }

    /// geohashDecodeAreaToLongLat: the centre of the area, clamped to the limits.
    static func center(_ area: Area) -> (longitude: Double, latitude: Double) {
        var x = (area.longitude.min + area.longitude.max) / 2
        if x > longMax { x = longMax }
        if x < longMin { x = longMin }
        var y = (area.latitude.min + area.latitude.max) / 2
        if y > latMax { y = latMax }
        if y < latMin { y = latMin }
        return (x, y)
    }

    /// geo.c's decodeGeohash: a sorted set score as a 26-step hash, decoded to its
    /// centre. Never fails (the hash has a step, so it is never "zero").
    static func decodeScore(_ score: Double) -> (longitude: Double, latitude: Double) {
        let hash = Bits(bits: cUInt64(score), step: stepMax)
        guard let area = decode(longRange: wgs84Long, latRange: wgs84Lat, hash) else { return (0, 0) }
        return center(area)
    }

    /// geohash_move_x / geohash_move_y: one box east/west (x: the odd bits) or north/south
    /// (y: the even bits), by adding or subtracting one in that axis's interleaved bits.
    static func moveX(_ hash: inout Bits, _ d: Int) { move(&hash, d, axis: 0xaaaaaaaaaaaaaaaa, other: 0x5555555555555555) }
    static func moveY(_ hash: inout Bits, _ d: Int) { move(&hash, d, axis: 0x5555555555555555, other: 0xaaaaaaaaaaaaaaaa) }

    private static func move(_ hash: inout Bits, _ d: Int, axis: UInt64, other: UInt64) {
        if d == 0 { return }
        var a = hash.bits & axis
        let b = hash.bits & other
        let shift = 64 - UInt64(hash.step) * 2
        // The other axis's bits set, so that a carry runs through them.
        let zz: UInt64 = other >> shift
        if d > 0 {
            a = a &+ (zz &+ 1)
        } else {
            a = a | zz
            a = a &- (zz &+ 1)
        }
        a &= (axis >> shift)
        hash.bits = a | b
    }

    /// geohashNeighbors.
    static func neighbors(_ hash: Bits) -> Neighbors {
        func moved(_ dx: Int, _ dy: Int) -> Bits {
            var h = hash
            moveX(&h, dx)
            moveY(&h, dy)
            return h
        }
        return Neighbors(north: moved(0, 1), east: moved(1, 0), west: moved(-1, 0), south: moved(0, -1),
                         northEast: moved(1, 1), southEast: moved(1, -1), northWest: moved(-1, 1), southWest: moved(-1, -1))
    }

    // MARK: geohash_helper.c

    static func degRad(_ ang: Double) -> Double { ang * degToRad }
    static func radDeg(_ ang: Double) -> Double { ang / degToRad }

    /// geohashEstimateStepsByRadius: the step of the 9 search boxes of a radius query.
    static func estimateStepsByRadius(_ rangeMeters: Double, latitude lat: Double) -> UInt8 {
        if rangeMeters == 0 { return 26 }
        var range = rangeMeters
        var step = 1
        while range < mercatorMax {
            range *= 2
            step += 1
        }
        step -= 2  // make sure range is included in most of the base cases
        // Wider range towards the poles.
        if lat > 66 || lat < -66 {
            step -= 1
            if lat > 80 || lat < -80 { step -= 1 }
        }
        if step < 1 { step = 1 }
        if step > 26 { step = 26 }
        return UInt8(step)
    }

    /// geohashBoundingBox: min/max longitude and latitude around the shape's centre.
    static func boundingBox(_ shape: inout Shape) {
        let longitude = shape.longitude, latitude = shape.latitude
        let height: Double, width: Double
        switch shape.kind {
        case .circular(let radius):
            height = shape.conversion * radius
            width = shape.conversion * radius
        case .rectangle(let w, let h):
            height = shape.conversion * (h / 2)
            width = shape.conversion * (w / 2)
        }
        let latDelta = radDeg(height / earthRadius)
        let longDeltaTop = radDeg(width / earthRadius / cos(degRad(latitude + latDelta)))
        let longDeltaBottom = radDeg(width / earthRadius / cos(degRad(latitude - latDelta)))
        // The hemispheres bend opposite ways, so they take their min/max from other edges.
        let southern = latitude < 0
        shape.bounds.minLong = southern ? longitude - longDeltaBottom : longitude - longDeltaTop
        shape.bounds.maxLong = southern ? longitude + longDeltaBottom : longitude + longDeltaTop
        shape.bounds.minLat = latitude - latDelta
        shape.bounds.maxLat = latitude + latDelta
    }

    /// geohashCalculateAreasByShapeWGS84: the centre box and the neighbours (some zeroed
    /// when useless) that together cover the shape; fills `shape.bounds`.
    static func areasByShapeWGS84(_ shape: inout Shape) -> Radius {
        boundingBox(&shape)
        let (minLon, minLat, maxLon, maxLat) = shape.bounds
        let longitude = shape.longitude, latitude = shape.latitude
        // A box's "radius" is the distance from its centre to a corner.
        var radiusMeters: Double
        switch shape.kind {
        case .circular(let radius): radiusMeters = radius
        case .rectangle(let w, let h): radiusMeters = sqrt((w / 2) * (w / 2) + (h / 2) * (h / 2))
        }
        radiusMeters *= shape.conversion

        // The centre's box at `steps`, its neighbours and its area.
        func boxes(_ steps: UInt8) -> (Bits, Neighbors, Area) {
            let hash = encode(longRange: wgs84Long, latRange: wgs84Lat, longitude: longitude, latitude: latitude, step: steps) ?? .zero
            let area = decode(longRange: wgs84Long, latRange: wgs84Lat, hash) ?? Area(hash: hash, longitude: .zero, latitude: .zero)
            return (hash, self.neighbors(hash), area)
        }
        var steps = estimateStepsByRadius(radiusMeters, latitude: latitude)
        var (hash, neighbors, area) = boxes(steps)

        // Near the edge of the covered area the estimated step may be too small for
        // one of the N/S/E/W squares to reach the limit: then use one step less.
        var decreaseStep = false
        if let north = decode(longRange: wgs84Long, latRange: wgs84Lat, neighbors.north),
           let south = decode(longRange: wgs84Long, latRange: wgs84Lat, neighbors.south),
           let east = decode(longRange: wgs84Long, latRange: wgs84Lat, neighbors.east),
           let west = decode(longRange: wgs84Long, latRange: wgs84Lat, neighbors.west) {
            if north.latitude.max < maxLat { decreaseStep = true }
            if south.latitude.min > minLat { decreaseStep = true }
            if east.longitude.max < maxLon { decreaseStep = true }
            if west.longitude.min > minLon { decreaseStep = true }
        }
        if steps > 1 && decreaseStep {
            steps -= 1
            (hash, neighbors, area) = boxes(steps)
        }

        // Exclude the search areas that are useless.
        if steps >= 2 {
            if area.latitude.min < minLat {
                neighbors.south = .zero
                neighbors.southWest = .zero
                neighbors.southEast = .zero
            }
            if area.latitude.max > maxLat {
                neighbors.north = .zero
                neighbors.northEast = .zero
                neighbors.northWest = .zero
            }
            if area.longitude.min < minLon {
                neighbors.west = .zero
                neighbors.southWest = .zero
                neighbors.northWest = .zero
            }
            if area.longitude.max > maxLon {
                neighbors.east = .zero
                neighbors.southEast = .zero
                neighbors.northEast = .zero
            }
        }
        return Radius(hash: hash, area: area, neighbors: neighbors)
    }

    /// geohashAlign52Bits: the hash as a 52-bit score.
    static func align52Bits(_ hash: Bits) -> UInt64 {
        hash.bits << (52 - UInt64(hash.step) * 2)
    }

    /// geohashGetLatDistance: along a meridian, asin(sin(x)) simplified to x.
    static func latDistance(_ lat1d: Double, _ lat2d: Double) -> Double {
        earthRadius * fabs(degRad(lat2d) - degRad(lat1d))
    }

    /// geohashGetDistance: the haversine great-circle distance in metres.
    static func distance(_ lon1d: Double, _ lat1d: Double, _ lon2d: Double, _ lat2d: Double) -> Double {
        let lon1r = degRad(lon1d), lon2r = degRad(lon2d)
        let v = sin((lon2r - lon1r) / 2)
        // Same longitude: avoid the expensive part.
        if v == 0.0 { return latDistance(lat1d, lat2d) }
        let lat1r = degRad(lat1d), lat2r = degRad(lat2d)
        let u = sin((lat2r - lat1r) / 2)
        let a = u * u + cos(lat1r) * cos(lat2r) * v * v
        return 2.0 * earthRadius * asin(sqrt(a))
    }

    /// geohashGetDistanceIfInRectangle: the point (x2, y2) within the width × height box
    /// centred on (x1, y1); the distance from the centre if so.
    static func distanceIfInRectangle(width: Double, height: Double, _ x1: Double, _ y1: Double,
                                      _ x2: Double, _ y2: Double) -> Double? {
        // The latitude distance is cheaper, so it is checked first.
        if latDistance(y2, y1) > height / 2 { return nil }
        if distance(x2, y2, x1, y2) > width / 2 { return nil }
        return distance(x1, y1, x2, y2)
    }

    /// geo.c's geoWithinShape: a score's point and its distance from the centre, if it is
    /// inside the shape.
    static func withinShape(_ shape: Shape, score: Double) -> (longitude: Double, latitude: Double, distance: Double)? {
        let (x, y) = decodeScore(score)
        switch shape.kind {
        case .circular(let radius):
            // geohashGetDistanceIfInRadius
            let d = distance(shape.longitude, shape.latitude, x, y)
            if d > radius * shape.conversion { return nil }
            return (x, y, d)
        case .rectangle(let w, let h):
            guard let d = distanceIfInRectangle(width: w * shape.conversion, height: h * shape.conversion,
                                                shape.longitude, shape.latitude, x, y) else { return nil }
            return (x, y, d)
        }
    }

    /// geo.c's scoresOfGeoHashBox: the scores [min, max) of every point inside `hash`.
    static func scoresOfBox(_ hash: Bits) -> (min: UInt64, max: UInt64) {
        var next = hash
        next.bits &+= 1
        return (align52Bits(hash), align52Bits(next))
    }

    /// GEOHASH's 11 characters: the position re-encoded with the standard latitude range
    /// (-90, 90), 26 steps, and a last character of 0 bits.
    static func standardString(longitude: Double, latitude: Double) -> String {
        let alphabet = Array("0123456789bcdefghjkmnpqrstuvwxyz".utf8)
        let hash = encode(longRange: Range(min: -180, max: 180), latRange: Range(min: -90, max: 90),
                          longitude: longitude, latitude: latitude, step: 26) ?? .zero
        var out: [UInt8] = []
        for i in 0..<11 {
            let idx = i == 10 ? 0 : Int((hash.bits >> (52 - UInt64(i + 1) * 5)) & 0x1f)
            out.append(alphabet[idx])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// util.c's fixedpoint_d2string with 4 fractional digits (addReplyDoubleDistance):
    /// llrint(d * 10^4) printed with the dot before its last four digits.
    static func formatDistance(_ d: Double) -> String {
        if d == 0 { return "0.0000" }
        // llrint: round half to even; NaN or out of range give LLONG_MIN on x86.
        let scaled = (d * 10000.0).rounded(.toNearestOrEven)
        let svalue: Int64 = scaled.isNaN || scaled >= 9223372036854775808.0 || scaled < -9223372036854775808.0
            ? Int64.min : Int64(scaled)
        let value = svalue.magnitude
        var digits = Array(String(value).utf8)
        while digits.count < 5 { digits.insert(UInt8(ascii: "0"), at: 0) }
        digits.insert(UInt8(ascii: "."), at: digits.count - 4)
        return (svalue < 0 ? "-" : "") + String(decoding: digits, as: UTF8.self)
    }
}

extension GeoHash.Range {
    static let zero = GeoHash.Range(min: 0, max: 0)
}
