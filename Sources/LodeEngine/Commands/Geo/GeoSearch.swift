import LodeRESP
import LodeStore
import NIOCore

/// GEORADIUS, GEORADIUSBYMEMBER, their _RO forms, GEOSEARCH and GEOSEARCHSTORE: geo.c's
/// georadiusGeneric, with its checks in its order, its search of the nine geohash
/// boxes in their order, and its sorts (glibc's qsort, or pqsort with COUNT), so the
/// points come back in Redis's order, ties included.
extension GeoCommands {
    struct SearchFlags: OptionSet {
        let rawValue: Int
        static let coords = SearchFlags(rawValue: 1 << 0)       // RADIUS_COORDS: around a position
        static let member = SearchFlags(rawValue: 1 << 1)       // RADIUS_MEMBER: around a member
        static let noStore = SearchFlags(rawValue: 1 << 2)      // RADIUS_NOSTORE: no STORE/STOREDIST
        static let search = SearchFlags(rawValue: 1 << 3)       // GEOSEARCH's arguments
        static let searchStore = SearchFlags(rawValue: 1 << 4)  // GEOSEARCHSTORE: STOREDIST is a flag
    }

    /// geoPoint.
    struct Point {
        var longitude: Double, latitude: Double, dist: Double, score: Double
        var member: ByteBuffer
    }

    enum Sort { case none, asc, desc }

    /// What georadiusGeneric parses: the centre and shape, and the options.
    struct Query {
        var storekey: ByteBuffer? = nil
        var storedist = false
        var longitude = 0.0, latitude = 0.0
        var kind = GeoHash.Shape.Kind.circular(radius: 0)
        var conversion = 0.0
        var withdist = false, withhash = false, withcoords = false
        var frommember = false, fromloc = false, byradius = false, bybox = false
        var sort = Sort.none
        var any = false  // a limited search: stop as soon as COUNT points are found
        var count = 0  // 0: unlimited

        mutating func center(_ xy: (Double, Double)) { (longitude, latitude) = xy }

        mutating func radius(_ c: CommandContext, _ i: Int) throws(CommandError) {
            let r = try GeoCommands.radius(c, i)
            kind = .circular(radius: r.radius)
            conversion = r.conversion
        }

        /// The member's position as the centre, or Redis's error for a missing member.
        mutating func member(_ c: CommandContext, _ z: Collection, _ i: Int) throws(CommandError) {
            guard let score = try ZSetCommands.score(c, z, c.arg(i)) else {
                throw CommandError("ERR could not decode requested zset member")
            }
            center(GeoHash.decodeScore(score))
        }

        /// The options from `base` on, each checked as it is read.
        mutating func parseOptions(_ c: CommandContext, _ z: Collection?, from base: Int, _ flags: SearchFlags) throws(CommandError) {
            let remaining = c.args.count - base
            let search = flags.contains(.search)
            let canStore = !flags.contains(.noStore) && !search
            var i = 0
            while i < remaining {
                let a = base + i
                if c.argIs(a, "withdist") {
                    withdist = true
                } else if c.argIs(a, "withhash") {
                    withhash = true
                } else if c.argIs(a, "withcoord") {
                    withcoords = true
                } else if c.argIs(a, "any") {
                    any = true
                } else if c.argIs(a, "asc") {
                    sort = .asc
                } else if c.argIs(a, "desc") {
                    sort = .desc
                } else if c.argIs(a, "count") && i + 1 < remaining {
                    count = try c.integer(a + 1)
                    if count <= 0 { throw CommandError("ERR COUNT must be > 0") }
                    i += 1
                } else if (c.argIs(a, "store") || c.argIs(a, "storedist")) && i + 1 < remaining && canStore {
                    storekey = c.arg(a + 1)
                    storedist = c.argIs(a, "storedist")
                    i += 1
                } else if c.argIs(a, "storedist") && search && flags.contains(.searchStore) {
                    storedist = true
                } else if c.argIs(a, "frommember") && i + 1 < remaining && search && !fromloc {
                    // Without a source key, parsing goes on and the reply comes at the end.
                    if let z { try member(c, z, a + 1) }
                    frommember = true
                    i += 1
                } else if c.argIs(a, "fromlonlat") && i + 2 < remaining && search && !frommember {
                    center(try longLat(c, a + 1))
                    fromloc = true
                    i += 2
                } else if c.argIs(a, "byradius") && i + 2 < remaining && search && !bybox {
                    try radius(c, a + 1)
                    byradius = true
                    i += 2
                } else if c.argIs(a, "bybox") && i + 3 < remaining && search && !byradius {
                    let b = try box(c, a + 1)
                    kind = .rectangle(width: b.width, height: b.height)
                    conversion = b.conversion
                    bybox = true
                    i += 3
                } else {
                    throw .syntax
                }
                i += 1
            }
        }

        /// The checks made once every option is read, in Redis's order.
        func check(_ c: CommandContext, _ flags: SearchFlags) throws(CommandError) {
            if storekey != nil && (withdist || withhash || withcoords) {
                let what = flags.contains(.searchStore) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"
                throw CommandError("ERR \(what) is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
            }
            if flags.contains(.search) && !(frommember || fromloc) {
                throw CommandError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for \(c.cstring(0))")
            }
            if flags.contains(.search) && !(byradius || bybox) {
                throw CommandError("ERR exactly one of BYRADIUS and BYBOX can be specified for \(c.cstring(0))")
            }
            if any && count == 0 { throw CommandError("ERR the ANY argument requires COUNT argument") }
        }
    }

    static func search(_ c: inout CommandContext, source: Int, _ flags: SearchFlags) throws(CommandError) {
        // The source is read (and type-checked) before anything else is parsed.
        let z = try c.lookupCollection(c.arg(source), .zset, read: true)
        var q = Query()
        let base: Int
        if flags.contains(.coords) {
            base = 6
            q.center(try longLat(c, 2))
            try q.radius(c, base - 2)
        } else if flags.contains(.member) {
            base = 5
            // No source key: the options are still parsed, for the right reply.
            if let z {
                try q.member(c, z, 2)
                try q.radius(c, base - 2)
            }
        } else {
            base = flags.contains(.searchStore) ? 3 : 2
            if flags.contains(.searchStore) { q.storekey = c.arg(1) }
        }
        try q.parseOptions(c, z, from: base, flags)
        try q.check(c, flags)

        guard let z else {
            // No source: a STORE deletes its destination and answers 0.
            if let storekey = q.storekey {
                if try c.delete(storekey) { c.notify(.generic, "del", storekey) }
                return c.out.writeIntegerReply(0)
            }
            return c.out.writeArrayHeader(0)
        }

        // COUNT needs an order to return the nearest points (not with ANY).
        if q.count != 0 && q.sort == .none && !q.any { q.sort = .asc }

        var shape = GeoHash.Shape(kind: q.kind, longitude: q.longitude, latitude: q.latitude, conversion: q.conversion)
        let areas = GeoHash.areasByShapeWGS84(&shape)
        var points = try membersOfAllNeighbors(c, z, areas, shape, limit: q.any ? q.count : 0)

        if points.isEmpty && q.storekey == nil { return c.out.writeArrayHeader(0) }
        let resultLength = points.count
        let returned = q.count == 0 || resultLength < q.count ? resultLength : q.count
        if q.sort != .none {
            let desc = q.sort == .desc
            // sort_gp_asc: 1, 0 or -1 by distance (NaN compares as "less" both ways).
            let cmp = { (a: Point, b: Point) -> Int in
                let r = a.dist > b.dist ? 1 : (a.dist == b.dist ? 0 : -1)
                return desc ? -r : r
            }
            if returned == resultLength {
                MergeSort.sort(&points, by: cmp)  // qsort
            } else {
                PartialQuickSort.sort(&points, lrange: 0, rrange: returned - 1, by: cmp)
            }
        }
        try reply(&c, points.prefix(returned), q, flags, conversion: shape.conversion)
    }

    /// The points found (distances converted to the query's unit), or with a store key a
    /// sorted set of them scored by geohash or, with STOREDIST, by distance.
    static func reply(_ c: inout CommandContext, _ points: ArraySlice<Point>, _ q: Query, _ flags: SearchFlags,
                      conversion: Double) throws(CommandError) {
        if let storekey = q.storekey {
            var items: [(ByteBuffer, Double)] = []
            // Redis asserts that members are unique; keep the first of any repeat.
            var seen = Set<ByteBuffer>()
            for p in points where seen.insert(p.member).inserted {
                items.append((p.member, q.storedist ? p.dist / conversion : p.score))
            }
            try ZSetCommands.storeResult(&c, storekey, items, event: flags.contains(.search) ? "geosearchstore" : "georadiusstore")
            return c.out.writeIntegerReply(points.count)
        }
        let optionLength = (q.withdist ? 1 : 0) + (q.withcoords ? 1 : 0) + (q.withhash ? 1 : 0)
        c.out.writeArrayHeader(points.count)
        for p in points {
            if optionLength > 0 { c.out.writeArrayHeader(optionLength + 1) }
            c.out.writeBulk(p.member)
            if q.withdist { c.out.writeBulk(string: GeoHash.formatDistance(p.dist / conversion)) }
            if q.withhash { c.out.writeIntegerReply(Int(Int64(p.score))) }
            if q.withcoords {
                c.out.writeArrayHeader(2)
                writeCoordinate(p.longitude, &c)
                writeCoordinate(p.latitude, &c)
            }
        }
    }

    /// membersOfAllNeighbors: the centre box then N, S, E, W, NE, NW, SE, SW, skipping
    /// zeroed boxes and a box equal to the last one searched (huge radii), and stopping
    /// once `limit` points (COUNT with ANY) are found.
    static func membersOfAllNeighbors(_ c: CommandContext, _ z: Collection, _ r: GeoHash.Radius,
                                      _ shape: GeoHash.Shape, limit: Int) throws(CommandError) -> [Point] {
        let n = r.neighbors
        let boxes = [r.hash, n.north, n.south, n.east, n.west, n.northEast, n.northWest, n.southEast, n.southWest]
        var points: [Point] = []
        var lastProcessed = 0
        for i in boxes.indices {
            if boxes[i].isZero { continue }
            if lastProcessed != 0 && boxes[i] == boxes[lastProcessed] { continue }
            if !points.isEmpty && limit > 0 && points.count >= limit { break }
            try pointsInBox(c, z, boxes[i], shape, &points, limit: limit)
            lastProcessed = i
        }
        return points
    }

    /// membersOfGeoHashBox / geoGetPointsInRange: the members scored min <= score < max,
    /// in the sorted set's order, that lie inside the shape.
    static func pointsInBox(_ c: CommandContext, _ z: Collection, _ box: GeoHash.Bits, _ shape: GeoHash.Shape,
                            _ points: inout [Point], limit: Int) throws(CommandError) {
        let (min, max) = GeoHash.scoresOfBox(box)
        let low = Double(min), high = Double(max)
        try ZSetCommands.walk(c, z, from: (low, ByteBuffer())) { score, member in
            guard score >= low else { return true }
            guard score < high else { return false }
            if let p = GeoHash.withinShape(shape, score: score) {
                points.append(Point(longitude: p.longitude, latitude: p.latitude, dist: p.distance, score: score, member: member))
            }
            return !(!points.isEmpty && limit > 0 && points.count >= limit)
        }
    }
}
