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

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    static func search(_ c: inout CommandContext, source: Int, _ flags: SearchFlags) throws(CommandError) {
        var storekey: ByteBuffer? = nil
        var storedist = false
        // The source is read (and type-checked) before anything else is parsed.
        let z = try c.lookupCollection(c.arg(source), .zset, read: true)

        var baseArgs: Int
        var center: (Double, Double) = (0, 0)
        var kind = GeoHash.Shape.Kind.circular(radius: 0)
        var conversion = 0.0
        if flags.contains(.coords) {
            baseArgs = 6
            center = try longLat(c, 2)
            let r = try radius(c, baseArgs - 2)
            kind = .circular(radius: r.radius)
            conversion = r.conversion
        } else if flags.contains(.member) && z == nil {
            // No source key: the options are still parsed, for the right reply.
            baseArgs = 5
        } else if flags.contains(.member) {
            baseArgs = 5
            guard let z, let score = try ZSetCommands.score(c, z, c.arg(2)) else {
                throw CommandError("ERR could not decode requested zset member")
            }
            center = GeoHash.decodeScore(score)
            let r = try radius(c, baseArgs - 2)
            kind = .circular(radius: r.radius)
            conversion = r.conversion
        } else {
            baseArgs = 2
            if flags.contains(.searchStore) {
                baseArgs = 3
                storekey = c.arg(1)
            }
        }

        var withdist = false, withhash = false, withcoords = false
        var frommember = false, fromloc = false, byradius = false, bybox = false
        var sort = Sort.none
        var any = false
        var count = 0  // 0: unlimited
        let remaining = c.args.count - baseArgs
        var i = 0
        while i < remaining {
            let a = baseArgs + i
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
            } else if c.argIs(a, "store") && i + 1 < remaining && !flags.contains(.noStore) && !flags.contains(.search) {
                storekey = c.arg(a + 1)
                storedist = false
                i += 1
            } else if c.argIs(a, "storedist") && i + 1 < remaining && !flags.contains(.noStore) && !flags.contains(.search) {
                storekey = c.arg(a + 1)
                storedist = true
                i += 1
            } else if c.argIs(a, "storedist") && flags.contains(.search) && flags.contains(.searchStore) {
                storedist = true
            } else if c.argIs(a, "frommember") && i + 1 < remaining && flags.contains(.search) && !fromloc {
                // Without a source key, parsing goes on and the reply comes at the end.
                if let z {
                    guard let score = try ZSetCommands.score(c, z, c.arg(a + 1)) else {
                        throw CommandError("ERR could not decode requested zset member")
                    }
                    center = GeoHash.decodeScore(score)
                }
                frommember = true
                i += 1
            } else if c.argIs(a, "fromlonlat") && i + 2 < remaining && flags.contains(.search) && !frommember {
                center = try longLat(c, a + 1)
                fromloc = true
                i += 2
            } else if c.argIs(a, "byradius") && i + 2 < remaining && flags.contains(.search) && !bybox {
                let r = try radius(c, a + 1)
                kind = .circular(radius: r.radius)
                conversion = r.conversion
                byradius = true
                i += 2
            } else if c.argIs(a, "bybox") && i + 3 < remaining && flags.contains(.search) && !byradius {
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

        guard let z else {
            // No source: a STORE deletes its destination and answers 0.
            if let storekey {
                if try c.delete(storekey) { c.notify(.generic, "del", storekey) }
                return c.out.writeIntegerReply(0)
            }
            return c.out.writeArrayHeader(0)
        }

        // COUNT needs an order to return the nearest points (not with ANY).
        if count != 0 && sort == .none && !any { sort = .asc }

        var shape = GeoHash.Shape(kind: kind, longitude: center.0, latitude: center.1, conversion: conversion)
        let areas = GeoHash.areasByShapeWGS84(&shape)
        var points = try membersOfAllNeighbors(c, z, areas, shape, limit: any ? count : 0)

        if points.isEmpty && storekey == nil { return c.out.writeArrayHeader(0) }
        let resultLength = points.count
        let returned = count == 0 || resultLength < count ? resultLength : count
        if sort != .none {
            let desc = sort == .desc
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

        if let storekey {
            var items: [(ByteBuffer, Double)] = []
            var seen = Set<ByteBuffer>()
            for p in points.prefix(returned) where seen.insert(p.member).inserted {
                items.append((p.member, storedist ? p.dist / shape.conversion : p.score))
            }
            try ZSetCommands.storeResult(&c, storekey, items, event: flags.contains(.search) ? "geosearchstore" : "georadiusstore")
            return c.out.writeIntegerReply(returned)
        }
        let optionLength = (withdist ? 1 : 0) + (withcoords ? 1 : 0) + (withhash ? 1 : 0)
        c.out.writeArrayHeader(returned)
        for p in points.prefix(returned) {
            if optionLength > 0 { c.out.writeArrayHeader(optionLength + 1) }
            c.out.writeBulk(p.member)
            if withdist { c.out.writeBulk(string: GeoHash.formatDistance(p.dist / shape.conversion)) }
            if withhash { c.out.writeIntegerReply(Int(Int64(p.score))) }
            if withcoords {
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
