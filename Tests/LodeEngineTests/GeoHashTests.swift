import XCTest
@testable import LodeEngine

/// The geohash arithmetic ported from Redis's geohash.c / geohash_helper.c, checked
/// against values a real Redis 7.0.15 returns (GEOADD scores, GEOPOS digits, GEODIST,
/// GEOHASH) and against util.c's own fixedpoint_d2string tests.
final class GeoHashTests: XCTestCase {
    private func score(_ longitude: Double, _ latitude: Double) throws -> UInt64 {
        let hash = try XCTUnwrap(GeoHash.encodeWGS84(longitude: longitude, latitude: latitude, step: GeoHash.stepMax))
        return GeoHash.align52Bits(hash)
    }

    private func human(_ d: Double) -> String? { LongDoubleFormat.human(LongDouble(d)) }

    func testEncodeGivesRedisScores() throws {
        XCTAssertEqual(try score(13.361389, 38.115556), 3479099956230698)  // Palermo
        XCTAssertEqual(try score(15.087269, 37.502669), 3479447370796909)  // Catania
        XCTAssertEqual(try score(-180, -85.05112878), 0)
        XCTAssertNil(GeoHash.encodeWGS84(longitude: 180.1, latitude: 0, step: 26))
        XCTAssertNil(GeoHash.encodeWGS84(longitude: 0, latitude: 0, step: 0))
    }

    func testDecodeGivesRedisCoordinates() {
        let (x, y) = GeoHash.decodeScore(3479099956230698)
        XCTAssertEqual(human(x), "13.36138933897018433")
        XCTAssertEqual(human(y), "38.11555639549629859")
        let (cx, cy) = GeoHash.decodeScore(3479447370796909)
        XCTAssertEqual(human(cx), "15.08726745843887329")
        XCTAssertEqual(human(cy), "37.50266842333162032")
        // Scores GEOADD never writes decode too, clamped to the limits, as in Redis.
        XCTAssertEqual(human(GeoHash.decodeScore(-1).longitude), "180")
        XCTAssertEqual(human(GeoHash.decodeScore(-1).latitude), "85.0511287799999991")
        XCTAssertEqual(human(GeoHash.decodeScore(1e300).latitude), "-85.05112751263942528")
    }

    func testDistanceAndItsFormatting() {
        let (x1, y1) = GeoHash.decodeScore(3479099956230698)
        let (x2, y2) = GeoHash.decodeScore(3479447370796909)
        let d = GeoHash.distance(x1, y1, x2, y2)
        XCTAssertEqual(GeoHash.formatDistance(d), "166274.1516")
        XCTAssertEqual(GeoHash.formatDistance(d / 1000), "166.2742")
        XCTAssertEqual(GeoHash.formatDistance(d / 1609.34), "103.3182")
        XCTAssertEqual(GeoHash.distance(10, 20, 10, 21), GeoHash.latDistance(20, 21), "same longitude: the meridian shortcut")
    }

    func testFixedPointFormattingAsUtilC() {
        XCTAssertEqual(GeoHash.formatDistance(0), "0.0000")
        XCTAssertEqual(GeoHash.formatDistance(-0.0), "0.0000")
        XCTAssertEqual(GeoHash.formatDistance(0.0001), "0.0001")
        XCTAssertEqual(GeoHash.formatDistance(6.0642951598391699e-05), "0.0001")
        XCTAssertEqual(GeoHash.formatDistance(0.01), "0.0100")
        XCTAssertEqual(GeoHash.formatDistance(-0.01), "-0.0100")
        XCTAssertEqual(GeoHash.formatDistance(0.00004), "0.0000")
        XCTAssertEqual(GeoHash.formatDistance(0.00005), "0.0000", "llrint rounds half to even")
        XCTAssertEqual(GeoHash.formatDistance(0.00015), "0.0001", "0.00015 × 10^4 is 1.4999999999999998 in binary")
        XCTAssertEqual(GeoHash.formatDistance(123.4567), "123.4567")
        XCTAssertEqual(GeoHash.formatDistance(.nan), "-922337203685477.5808", "llrint(NaN) is LLONG_MIN on x86")
    }

    func testGeohashStrings() {
        let (x, y) = GeoHash.decodeScore(3479099956230698)
        XCTAssertEqual(GeoHash.standardString(longitude: x, latitude: y), "sqc8b49rny0")
        let (cx, cy) = GeoHash.decodeScore(3479447370796909)
        XCTAssertEqual(GeoHash.standardString(longitude: cx, latitude: cy), "sqdtr74hyu0")
    }

    func testInterleaveRoundTripsAndNeighbours() {
        for (a, b) in [(UInt32(0), UInt32(0)), (1, 2), (0x3FFFFFF, 0x1234567), (UInt32.max, 7)] {
            let sep = GeoHash.deinterleave64(GeoHash.interleave64(a, b))
            XCTAssertEqual(UInt32(truncatingIfNeeded: sep), a)
            XCTAssertEqual(UInt32(truncatingIfNeeded: sep >> 32), b)
        }
        let hash = GeoHash.Bits(bits: 0b1001_0110, step: 4)
        var there = hash
        GeoHash.moveX(&there, 1)
        GeoHash.moveX(&there, -1)
        GeoHash.moveY(&there, -1)
        GeoHash.moveY(&there, 1)
        XCTAssertEqual(there, hash)
        let n = GeoHash.neighbors(hash)
        XCTAssertNotEqual(n.east, hash)
        XCTAssertEqual(n.northEast.bits & 0x5555555555555555, n.north.bits & 0x5555555555555555, "NE shares N's latitude bits")
    }

    func testStepsByRadius() {
        XCTAssertEqual(GeoHash.estimateStepsByRadius(0, latitude: 0), 26)
        XCTAssertEqual(GeoHash.estimateStepsByRadius(100000, latitude: 0), 7)
        XCTAssertEqual(GeoHash.estimateStepsByRadius(100000, latitude: 70), 6)
        XCTAssertEqual(GeoHash.estimateStepsByRadius(100000, latitude: -85), 5)
        XCTAssertEqual(GeoHash.estimateStepsByRadius(1e9, latitude: 0), 1)
        XCTAssertEqual(GeoHash.estimateStepsByRadius(0.01, latitude: 0), 26)
    }

    func testCConversions() {
        XCTAssertEqual(GeoHash.cUInt64(-1), UInt64.max)
        XCTAssertEqual(GeoHash.cUInt64(1.9), 1)
        XCTAssertEqual(GeoHash.cUInt64(9223372036854775808.0), 1 << 63)
        XCTAssertEqual(GeoHash.cUInt64(1e300), 0)
        XCTAssertEqual(GeoHash.cUInt64(.infinity), 0)
        XCTAssertEqual(GeoHash.cUInt64(-.infinity), 1 << 63)
        XCTAssertEqual(GeoHash.cUInt32(4294967296.0), 0)
    }

    func testSearchAreasCoverTheCircle() {
        var shape = GeoHash.Shape(kind: .circular(radius: 200), longitude: 15, latitude: 37, conversion: 1000)
        let areas = GeoHash.areasByShapeWGS84(&shape)
        XCTAssertLessThan(shape.bounds.minLat, 37)
        XCTAssertGreaterThan(shape.bounds.maxLong, 15)
        XCTAssertFalse(areas.hash.isZero)
        let (min, max) = GeoHash.scoresOfBox(areas.hash)
        XCTAssertLessThan(min, max)
        XCTAssertNotNil(GeoHash.withinShape(shape, score: 3479447370796909), "Catania is 56 km from (15, 37)")
        XCTAssertNil(GeoHash.withinShape(shape, score: 0))
    }
}
