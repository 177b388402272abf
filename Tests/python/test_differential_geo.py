"""Differential test of the GEO commands against a reference redis-server 7.0.15:
GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS, GEORADIUSBYMEMBER and their _RO forms,
GEOSEARCH and GEOSEARCHSTORE. Fixed cases (every option, the errors in Redis's order
of checks, missing keys and members, wrong types, scores GEOADD never writes) and
seeded random sequences, replies compared byte for byte in RESP2 and RESP3, with
ZRANGE WITHSCORES after every STORE: coordinates and distances must have Redis's
digits, and points at equal distances Redis's order (glibc's qsort, or pqsort with
COUNT), so many members share a few positions.

Knobs: DIFF_SEED, DIFF_GEO_COMMANDS, DIFF_GEO_RESP3_COMMANDS."""
import os
import random

import pytest

from difflib_redis import raw_mismatches
from difflib_redis import subject  # noqa: F401  (a fixture)

SEED = int(os.environ.get("DIFF_SEED", "20261203"))
COMMANDS = int(os.environ.get("DIFF_GEO_COMMANDS", "5000"))
RESP3_COMMANDS = int(os.environ.get("DIFF_GEO_RESP3_COMMANDS", "1500"))

TIE_SPOTS = [("13.1", "38.1"), ("13.2", "38.1"), ("13.1", "38.2"), ("13.3", "38.3")]
SICILY = ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
FIXED = [
    SICILY, ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"),
    ("GEOADD", "Sicily", "CH", "13.5", "38.1", "Palermo", "12", "37", "Marsala"), ("GEOADD", "Sicily", "NX", "1", "1", "Palermo"),
    ("GEOADD", "Sicily", "XX", "CH", "13.361389", "38.115556", "Palermo", "1", "1", "nope"),
    ("GEOADD", "Sicily", "CH", "NX", "XX", "1", "1", "a"), ("GEOADD", "Sicily", "NX", "CH", "CH", "1", "1", "a"),
    ("GEOADD", "Sicily", "XX", "NX", "1", "1", "a"), ("GEOADD", "Sicily", "ch", "ch", "ch"), ("GEOADD", "Sicily", "nx", "xx", "ch"),
    ("GEOADD", "Sicily", "1", "1", "a", "2"), ("GEOADD", "Sicily", "bogus", "1", "1", "a"), ("GEOADD", "Sicily", "x", "1", "a"),
    ("GEOADD", "Sicily", "1", "y", "a"), ("GEOADD", "Sicily", "181", "1", "a"), ("GEOADD", "Sicily", "1", "85.06", "a"),
    ("GEOADD", "Sicily", "-180", "-85.05112878", "sw", "180", "85.05112878", "ne", "0", "0", "origin"),
    ("GEOADD", "Sicily", "1e300", "1", "a"), ("GEOADD", "Sicily", "-inf", "1", "a"), ("GEOADD", "Sicily", "nan", "1", "a"),
    ("GEOADD", "Sicily", "1", "1", "ok", "999", "1", "bad"), ("GEOADD", "long", "0" * 6000 + "1", "1", "m"),
    ("GEORADIUS", "long", "1", "1", "0" * 6000 + "1", "km"), ("ZADD", "long", "0" * 6000 + "2", "n"), ("ZSCORE", "long", "n"),
    ("ZSCORE", "Sicily", "ok"), ("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"),
    ("GEOPOS", "Sicily", "Palermo", "Catania", "nope", "sw", "ne", "origin"), ("GEOPOS", "nokey", "a", "b"), ("GEOPOS", "Sicily"),
    ("GEOHASH", "Sicily", "Palermo", "Catania", "nope", "sw", "ne", "origin"), ("GEOHASH", "nokey", "a"), ("GEOHASH", "Sicily"),
    ("GEODIST", "Sicily", "Palermo", "Catania"), ("GEODIST", "Sicily", "Palermo", "Catania", "km"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "MI"), ("GEODIST", "Sicily", "Palermo", "Catania", "ft"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "m"), ("GEODIST", "Sicily", "Palermo", "Catania", "yd"),
    ("GEODIST", "Sicily", "Palermo", "nope"), ("GEODIST", "nokey", "a", "b"), ("GEODIST", "nokey", "a", "b", "bad"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "km", "x"), ("GEODIST", "Sicily", "Palermo", "Palermo"),
    ("GEODIST", "Sicily", "sw", "ne"), ("GEODIST", "Sicily", "origin", "ne", "km"),
    # Scores GEOADD never writes still decode (clamped), as in Redis.
    ("ZADD", "weird", "-1", "neg", "0", "zero", "4503599627370495", "max52", "4503599627370496", "over52", "1e300", "huge",
     "inf", "pinf", "-inf", "ninf", "1.5", "frac", "9223372036854775808", "two63", "18446744073709551616", "two64"),
    ("GEOPOS", "weird", "neg", "zero", "max52", "over52", "huge", "pinf", "ninf", "frac", "two63", "two64"),
    ("GEOHASH", "weird", "neg", "zero", "max52", "over52", "huge", "pinf", "ninf", "frac", "two63", "two64"),
    ("GEODIST", "weird", "neg", "huge"), ("GEODIST", "weird", "zero", "max52", "km"),
    ("GEORADIUSBYMEMBER", "weird", "zero", "100", "km", "WITHDIST", "WITHHASH", "WITHCOORD"),
    ("GEOSEARCH", "weird", "FROMMEMBER", "max52", "BYRADIUS", "20000", "km", "ASC", "WITHDIST"),
    # GEORADIUS and friends.
    ("GEORADIUS", "Sicily", "15", "37", "200", "km"), ("GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC", "WITHDIST", "WITHCOORD", "WITHHASH"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "DESC"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2", "ANY"), ("GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"), ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "-1"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT"), ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "x"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE"), ("GEORADIUS", "Sicily", "15", "37", "200", "km", "BOGUS"),
    ("GEORADIUS", "Sicily", "15", "37", "-1", "km"), ("GEORADIUS", "Sicily", "15", "37", "x", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "parsec"), ("GEORADIUS", "Sicily", "200", "37", "200", "km"),
    ("GEORADIUS", "Sicily", "15", "x", "200", "km"), ("GEORADIUS", "Sicily", "15", "37", "0", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "inf", "km", "WITHDIST"), ("GEORADIUS", "Sicily", "0", "0", "50000", "km", "WITHDIST"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst", "DESC", "COUNT", "1"),
    ("ZRANGE", "dst", "0", "-1", "WITHSCORES"), ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst", "WITHDIST"),
    ("GEORADIUS", "Sicily", "15", "37", "1", "m", "STORE", "dst"), ("EXISTS", "dst"),
    ("GEORADIUS", "nokey", "15", "37", "200", "km"), ("GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "Sicily2"),
    ("GEORADIUS", "nokey", "200", "37", "200", "km"), ("GEORADIUS", "nokey", "15", "37", "200", "km", "ANY"),
    ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST"),
    ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "COUNT", "5"),
    ("GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"), ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "x", "km"),
    ("GEORADIUSBYMEMBER", "nokey", "a", "x", "y", "WITHDIST"), ("GEORADIUSBYMEMBER", "nokey", "a", "x", "y", "BOGUS"),
    ("GEORADIUSBYMEMBER", "nokey", "a", "x", "y", "STORE", "Sicily"), ("EXISTS", "Sicily"), SICILY,
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "500", "km", "STOREDIST", "d2"), ("ZRANGE", "d2", "0", "-1", "WITHSCORES"),
    ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "500", "km", "WITHCOORD"),
    ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "500", "km", "STOREDIST", "d2"),
    # GEOSEARCH and GEOSEARCHSTORE.
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "DESC", "WITHCOORD", "WITHDIST", "WITHHASH"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMMEMBER", "Catania", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "BYRADIUS", "1", "km", "ASC"), ("geosearch", "Sicily", "BYRADIUS", "1", "km", "WITHDIST"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "WITHDIST", "ASC"),
    ("gEoSeArCh", "Sicily", "FROMLONLAT", "15", "37", "COUNT", "1"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "yards"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"), ("GEOSEARCH", "nokey", "FROMMEMBER", "nope", "WITHDIST"),
    ("GEOSEARCH", "nokey", "FROMLONLAT", "200", "37", "BYRADIUS", "1", "km"),
    ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km"),
    ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
    ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "STOREDIST", "COUNT", "1"),
    ("ZRANGE", "dst", "0", "-1", "WITHSCORES"), ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"),
    ("EXISTS", "dst"), ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "WITHDIST"),
    ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STOREDIST", "x"),
    ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "x"), ("SET", "str", "v"),
    ("GEOSEARCHSTORE", "str", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"), ("EXISTS", "str"),
    ("SET", "str", "v", "EX", "100"), ("GEOSEARCHSTORE", "str", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"),
    ("TYPE", "str"), ("TTL", "str"),
    ("GEOSEARCHSTORE", "Sicily", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km", "STOREDIST"),
    ("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"), SICILY,
    # Wrong types: checked before any argument.
    ("SET", "str", "v"), ("GEOADD", "str", "1", "1", "a"), ("GEOADD", "str", "x", "1", "a"), ("GEOPOS", "str", "a"),
    ("GEOHASH", "str", "a"), ("GEODIST", "str", "a", "b"), ("GEODIST", "str", "a", "b", "bad"),
    ("GEORADIUS", "str", "x", "y", "z", "w"), ("GEORADIUSBYMEMBER", "str", "a", "x", "y"), ("GEOSEARCH", "str", "BOGUS"),
    ("GEOSEARCHSTORE", "d", "str", "BOGUS"), ("LPUSH", "lst", "a"), ("GEOADD", "lst", "1", "1", "a"),
    # The box spans ±180°, poles, small distances (Redis's own suite's cases).
    ("GEOADD", "points", "179.5", "36", "point1", "-179.5", "36", "point2"),
    ("GEOSEARCH", "points", "FROMLONLAT", "179", "37", "BYBOX", "400", "400", "km", "ASC", "WITHDIST"),
    ("GEOSEARCH", "points", "FROMLONLAT", "-179", "37", "BYBOX", "400", "400", "km", "ASC", "WITHDIST"),
    ("GEOADD", "pole", "45", "65", "n1", "-135", "85.05", "n2"), ("GEORADIUSBYMEMBER", "pole", "n1", "5009431", "m", "WITHDIST"),
    ("GEOADD", "small", "-122.407107", "37.794300", "1", "-122.227336", "37.794300", "2"),
    ("GEOSEARCH", "small", "FROMLONLAT", "-122.317222", "37.794300", "BYRADIUS", "20", "km", "ASC", "WITHDIST"),
    ("GEOADD", "users", "-47.271613776683807", "-54.534504198047678", "user_000000"),
    ("GEOSEARCH", "users", "FROMLONLAT", "-47.271613776683807", "-54.534504198047678", "BYBOX", "0.0001", "0.0001", "m", "WITHDIST"),
    # Many points at four positions: equal distances, ordered by qsort or by pqsort with COUNT.
    ("GEOADD", "ties", *[v for i in range(80) for v in TIE_SPOTS[i * 7 % 4] + (f"t{i:02d}",)]),
    *[("GEOSEARCH", "ties", "FROMLONLAT", "13.15", "38.15", "BYRADIUS", "100", "km", order, "COUNT", str(n), "WITHDIST")
      for order in ("ASC", "DESC") for n in (1, 5, 7, 13, 20, 41, 79, 80, 81)],
    ("GEORADIUS", "ties", "13.15", "38.15", "100", "km", "WITHDIST"), ("GEORADIUS", "ties", "13.15", "38.15", "100", "km", "DESC"),
    ("GEORADIUS", "ties", "13.15", "38.15", "100", "km", "COUNT", "10", "ANY"),
    ("GEORADIUS", "ties", "13.15", "38.15", "100", "km", "COUNT", "10", "ANY", "DESC"),
    ("GEORADIUS", "ties", "13.15", "38.15", "100", "km", "COUNT", "30", "STOREDIST", "tdist"),
    ("ZRANGE", "tdist", "0", "-1", "WITHSCORES"),
    # MULTI.
    ("MULTI",), ("GEOADD", "m", "1", "1", "a"), ("GEOPOS", "m", "a"), ("GEORADIUS", "m", "1", "1", "1", "km", "STORE", "m2"),
    ("EXEC",), ("COMMAND", "GETKEYS", "GEORADIUS", "k", "1", "1", "1", "km", "STORE", "s", "STOREDIST", "t"),
]

# A few positions shared by many members: equal distances, so order ties matter.
SPOTS = [(13.361389, 38.115556), (15.087269, 37.502669), (14.0, 37.8), (14.0, 37.8001), (13.9, 38.2), (15.5, 36.9),
         (0.0, 0.0), (179.9, 10.0), (-179.9, 10.0), (90.0, 80.0), (-90.0, -80.0), (12.5, 41.9)]
MEMBERS = [f"m{i}" for i in range(40)]
KEYS = ["g0", "g1", "g2"]
UNITS = ["m", "km", "ft", "mi", "KM", "Mi"]


def coordinate(rng):
    if rng.random() < 0.7:
        x, y = rng.choice(SPOTS)
        if rng.random() < 0.5:
            x, y = x + rng.uniform(-0.5, 0.5), max(-85, min(85, y + rng.uniform(-0.5, 0.5)))
    else:
        x, y = rng.uniform(-180, 180), rng.uniform(-85.05, 85.05)
    fmt = rng.choice(["{:.6f}", "{:.3f}", "{!r}", "{:.1f}"])
    return fmt.format(x), fmt.format(y)


def random_commands(rng, count):
    for _ in range(count):
        key = rng.choice(KEYS) if rng.random() < 0.95 else rng.choice(["nokey", "str"])
        n = rng.random()
        if n < 0.2:
            args = []
            for _ in range(rng.randrange(1, 5)):
                x, y = coordinate(rng)
                args += [x, y, rng.choice(MEMBERS)]
            opts = rng.sample(["NX", "XX", "CH"], rng.choice([0, 0, 0, 1, 1, 2]))
            yield ("GEOADD", key, *opts, *args)
        elif n < 0.25:
            yield rng.choice([("ZREM", key, rng.choice(MEMBERS)), ("ZADD", key, str(rng.choice([1.5, -3, 2 ** 52, 10 ** 20])),
                                                                  rng.choice(MEMBERS))])
        elif n < 0.32:
            yield ("GEOPOS", key, *rng.sample(MEMBERS, rng.randrange(1, 4)))
        elif n < 0.37:
            yield ("GEOHASH", key, *rng.sample(MEMBERS, rng.randrange(1, 4)))
        elif n < 0.45:
            yield ("GEODIST", key, rng.choice(MEMBERS), rng.choice(MEMBERS), *rng.choice([(), (rng.choice(UNITS),)]))
        else:
            yield from search_command(rng, key)


def search_options(rng, storing):
    opts = []
    if not storing:
        for w in ("WITHDIST", "WITHCOORD", "WITHHASH"):
            if rng.random() < 0.4:
                opts.append(w)
    if rng.random() < 0.5:
        opts.append(rng.choice(["ASC", "DESC"]))
    if rng.random() < 0.4:
        opts += ["COUNT", str(rng.choice([1, 2, 3, 5, 10, 100]))]
        if rng.random() < 0.3:
            opts.append("ANY")
    return opts


def distance(rng):
    unit = rng.choice(UNITS)
    scale = {"m": 1, "km": 1000, "ft": 0.3048, "mi": 1609.34}[unit.lower()]
    meters = rng.choice([0, 1, 100, 5000, 50000, 200000, 1000000, 5000000, 20000000, 40000000])
    return f"{meters / scale * rng.uniform(0.5, 1.5):.{rng.choice([0, 2, 5])}f}", unit


def search_command(rng, key):
    kind = rng.choice(["georadius", "bymember", "geosearch", "geosearch", "store"])
    storing = kind == "store" or (kind in ("georadius", "bymember") and rng.random() < 0.2)
    opts = search_options(rng, storing)
    dest = rng.choice(["d0", "d1"]) if rng.random() < 0.95 else key
    if kind in ("georadius", "bymember"):
        center = list(coordinate(rng)) if kind == "georadius" else [rng.choice(MEMBERS)]
        name = "GEORADIUS" if kind == "georadius" else "GEORADIUSBYMEMBER"
        if storing:
            opts += [rng.choice(["STORE", "STOREDIST"]), dest]
        elif rng.random() < 0.3:
            name += "_RO"
        yield (name, key, *center, *distance(rng), *opts)
    else:
        center = ["FROMMEMBER", rng.choice(MEMBERS)] if rng.random() < 0.4 else ["FROMLONLAT", *coordinate(rng)]
        if rng.random() < 0.5:
            shape = ["BYRADIUS", *distance(rng)]
        else:
            w, unit = distance(rng)
            h, _ = distance(rng)
            shape = ["BYBOX", w, h, unit]
        if kind == "store":
            if rng.random() < 0.3:
                opts.append("STOREDIST")
            yield ("GEOSEARCHSTORE", dest, key, *center, *shape, *opts)
        else:
            yield ("GEOSEARCH", key, *center, *shape, *opts)
    if storing:
        yield ("ZRANGE", dest, "0", "-1", "WITHSCORES")


@pytest.mark.parametrize("resp", [2, 3])
def test_geo_fixed(redis_ref, subject, resp):  # noqa: F811
    raw_mismatches(redis_ref, subject, resp, FIXED)


@pytest.mark.parametrize("resp", [2, 3])
def test_geo_random(redis_ref, subject, resp):  # noqa: F811
    rng = random.Random(SEED + resp)
    raw_mismatches(redis_ref, subject, resp, [("SET", "str", "v")] + list(random_commands(rng, COMMANDS if resp == 2 else RESP3_COMMANDS)))
