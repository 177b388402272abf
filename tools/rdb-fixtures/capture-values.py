#!/usr/bin/env python3
"""Writes Tests/LodeRDBTests/Redis{List,Collection,Stream,Asset}Fixtures.swift: DUMP payloads of every value
encoding a real redis-server 7.0.15 writes, and the value of every key of the old
RDB files in Redis's tests/assets as that server loads them.

Needs redis-server 7.0.15 on --port (started with --enable-debug-command yes) and
the Redis source mirror for the asset files. The value recipes are repeated in
RedisValueFixtureTests.swift: change both together."""
import argparse, os, struct, subprocess, tempfile, time
import redis

ASSETS = ["encodings", "hash-zipmap", "hash-ziplist", "list-quicklist", "zset-ziplist"]
MIRROR = "/work/.mirror/redis+redis/repo"


def noise(n, seed):
    """Incompressible bytes, the same LCG as the Swift tests' noise()."""
    out, x = bytearray(), seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) % 2**31
        out.append((x >> 16) & 0xFF)
    return bytes(out)


SMALL_LIST = [b"a", b"hello", b"", b"\x00\xff\x01", b"1", b"-5", b"127", b"128", b"-4096", b"4095", b"4096",
              b"-32768", b"32767", b"8388607", b"-8388608", b"2147483647", b"-2147483648",
              b"9223372036854775807", b"-9223372036854775808", b"007", b"-0", b"1.5",
              b"x" * 63, b"y" * 64, b"z" * 4095, b"w" * 4096, noise(5000, 1)]
SMALL_ZSET = [(1, b"a"), (2.5, b"b"), ("-inf", b"c"), ("inf", b"d"), (0, b"e"), (-1.5, b"f"), (1e100, b"g"),
              (3.141592653589793, b"h"), ("-0", b"i"), (1, b"aa"), (1, b"ab"), (0.1, b"j"),
              (4611686018427387904, b"k"), (1e18, b"l"), (1e19, b"m"), (-4611686018427387904, b"n"),
              (5e-324, b"o"), (-123456789, b"\x00\xff")]
SMALL_HASH = [(b"f1", b"v1"), (b"num", b"123"), (b"neg", b"-77"), (b"empty", b""), (b"", b"emptyfield"),
              (b"bin", b"\x00\xff"), (b"long", b"v" * 64), (b"12", b"34"), (b"big", b"9223372036854775807")]


def build(r):
    """(name, key, setup) for every fixture; each setup writes key on a fresh server."""
    fx = []
    def add(name, fn):
        fx.append((name, fn))
    add("listSmall", lambda k: r.rpush(k, *SMALL_LIST))
    add("listLarge", lambda k: r.rpush(k, *[b"element-%d" % i for i in range(1200)]))
    add("listInts", lambda k: r.rpush(k, *[str(i * 37 - 5000).encode() for i in range(1000)]))
    add("listNoise", lambda k: r.rpush(k, *[noise(300, i) for i in range(28)]))
    def plain(k):
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
        r.rpush(k, b"a", b"b" * 200, b"c", noise(150, 9), b"d")
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", str(1 << 30))
    add("listPlain", plain)
    def fill(k):
        r.config_set("list-max-listpack-size", "5")
        r.rpush(k, *[b"e%d" % i for i in range(12)])
        r.config_set("list-max-listpack-size", "-2")
    add("listFill5", fill)
    add("setInt16", lambda k: r.sadd(k, 5, 3, -1, 100, -32768, 32767))
    add("setInt32", lambda k: r.sadd(k, 1, 70000, -70000))
    add("setInt64", lambda k: r.sadd(k, 1, 9223372036854775807, -9223372036854775808))
    add("setIntset512", lambda k: r.sadd(k, *range(512)))
    add("setInts513", lambda k: r.sadd(k, *range(513)))
    add("setStrings", lambda k: r.sadd(k, b"a", b"b", b"c", b"", b"\x00\xff"))
    add("setMixed", lambda k: r.sadd(k, 1, 2, b"x"))
    add("setNonCanonical", lambda k: r.sadd(k, b"007", b"1", b"-0"))
    add("zsetSmall", lambda k: r.zadd(k, {m: s for s, m in SMALL_ZSET}))
    add("zset128", lambda k: r.zadd(k, {b"m%d" % i: i * 0.5 for i in range(128)}))
    add("zset129", lambda k: r.zadd(k, {b"m%d" % i: i * 0.5 for i in range(129)}))
    add("zsetMember64", lambda k: r.zadd(k, {b"q" * 64: 1, b"r": 2}))
    add("zsetMember65", lambda k: r.zadd(k, {b"q" * 65: 1, b"r": 2, b"s": "-inf", b"t": 1e-5}))
    add("hashSmall", lambda k: r.hset(k, mapping=dict(SMALL_HASH)))
    add("hash512", lambda k: r.hset(k, mapping={b"f%d" % i: b"v%d" % i for i in range(512)}))
    add("hash513", lambda k: r.hset(k, mapping={b"f%d" % i: b"v%d" % i for i in range(513)}))
    add("hashValue65", lambda k: r.hset(k, mapping={b"a": b"1", b"b": b"v" * 65}))
    add("hashField65", lambda k: r.hset(k, mapping={b"f" * 65: b"1", b"b": b"2"}))
    def xadd(k, entries):
        for id_, fields in entries:
            r.execute_command("XADD", k, id_, *[x for kv in fields for x in kv])
    add("streamSmall", lambda k: xadd(k, [("1-1", [(b"a", b"1"), (b"b", b"2")]), ("1-2", [(b"a", b"3"), (b"b", b"4")]),
                                          ("2-0", [(b"c", b"")]), ("2-1", [(b"a", b"5"), (b"b", b"6")]),
                                          ("3-0", [(b"a", b"1"), (b"a", b"2")])]))
    add("streamNodes", lambda k: xadd(k, [("%d-0" % i, [(b"f", b"%d" % i), (b"g", b"value-%d" % i)]) for i in range(1, 251)]))
    add("streamBig", lambda k: xadd(k, [("%d-0" % i, [(b"v", noise(1500, i))]) for i in range(1, 7)]))
    add("streamSeqWrap", lambda k: xadd(k, [("5-10", [(b"a", b"1")]), ("6-0", [(b"a", b"1")]), ("7-3", [(b"a", b"1")])]))
    def empty(k):
        xadd(k, [("1-0", [(b"a", b"1")])])
        r.execute_command("XDEL", k, "1-0")
    add("streamEmpty", empty)
    def deleted(k):
        xadd(k, [("%d-0" % i, [(b"a", b"%d" % i)]) for i in range(1, 6)])
        r.execute_command("XDEL", k, "2-0", "4-0")
    add("streamDeleted", deleted)
    def groups(k):
        xadd(k, [("%d-0" % i, [(b"a", b"%d" % i)]) for i in range(1, 6)])
        r.execute_command("XGROUP", "CREATE", k, "g1", "0")
        r.execute_command("XGROUP", "CREATE", k, "g2", "$")
        r.execute_command("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", k, ">")
        r.execute_command("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", k, ">")
        r.execute_command("XACK", k, "g1", "1-0")
        r.execute_command("XGROUP", "CREATECONSUMER", k, "g2", "carol")
    add("streamGroups", groups)
    return fx


def swift_hex(h, indent):
    chunks = [h[i:i + 100] for i in range(0, len(h), 100)] or [""]
    if len(chunks) == 1:
        return '"%s"' % chunks[0]
    pad = " " * indent
    return "[\n" + "".join('%s    "%s",\n' % (pad, c) for c in chunks) + pad + "].joined()"


def bits(score):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", score))[0]


def normal_form(r, key):
    """The value in the form RedisValueFixtureTests' normalForm(_:) gives."""
    t = r.type(key).decode()
    if t == "string":
        return "string:" + r.get(key).hex()
    if t == "list":
        return "list:" + ",".join(e.hex() for e in r.lrange(key, 0, -1))
    if t == "set":
        return "set:" + ",".join(sorted(m.hex() for m in r.smembers(key)))
    if t == "zset":
        return "zset:" + ",".join(sorted("%s=%s" % (m.hex(), bits(s)) for m, s in r.zrange(key, 0, -1, withscores=True)))
    if t == "hash":
        return "hash:" + ",".join(sorted("%s=%s" % (f.hex(), v.hex()) for f, v in r.hgetall(key).items()))
    return t + ":unsupported"


def assets(port):
    out = []
    for name in ASSETS:
        data = subprocess.run(["git", "-C", MIRROR, "show", "7.0.15:tests/assets/%s.rdb" % name],
                              check=True, capture_output=True).stdout
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "dump.rdb"), "wb") as f:
            f.write(data)
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--dir", d, "--appendonly", "no", "--save", ""],
                                stdout=subprocess.DEVNULL)
        try:
            r = redis.Redis(port=port)
            for _ in range(100):
                try:
                    r.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            lines = []
            for db in range(16):
                r.execute_command("SELECT", db)
                for key in r.keys("*"):
                    lines.append("%d|%s|%s" % (db, key.hex(), normal_form(r, key)))
            out.append((name, data.hex(), sorted(lines)))
        finally:
            proc.terminate()
            proc.wait()
    return out


HEADER = """// Generated by tools/rdb-fixtures/capture-values.py from redis-server 7.0.15; do not edit.
// %s

extension RedisValueFixtures {
"""


def dumps_file(r, fixtures, what, var):
    out = [HEADER % what]
    out.append("    /// (name, OBJECT ENCODING, DUMP) of each recipe in RedisValueFixtureTests.swift.\n")
    out.append("    static let %s: [(name: String, encoding: String, dump: String)] = [\n" % var)
    for name, fn in fixtures:
        key = "fixture:" + name
        r.delete(key)
        fn(key)
        enc = r.object("encoding", key).decode()
        out.append('        ("%s", "%s", %s),\n' % (name, enc, swift_hex(r.dump(key).hex(), 8)))
        r.delete(key)
    out.append("    ]\n}\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7402)
    ap.add_argument("--asset-port", type=int, default=7403)
    ap.add_argument("--out", default="Tests/LodeRDBTests")
    args = ap.parse_args()
    r = redis.Redis(port=args.port)
    assert r.info("server")["redis_version"] == "7.0.15"
    fixtures = build(r)
    lists = [f for f in fixtures if f[0].startswith("list")]
    streams = [f for f in fixtures if f[0].startswith("stream")]
    others = [f for f in fixtures if f not in lists and f not in streams]
    files = {
        "RedisListFixtures.swift": dumps_file(r, lists, "DUMP payloads of lists written by RPUSH.", "lists"),
        "RedisCollectionFixtures.swift": dumps_file(r, others, "DUMP payloads of sets, sorted sets and hashes.", "collections"),
        "RedisStreamFixtures.swift": dumps_file(r, streams, "DUMP payloads of streams (XADD, XDEL, consumer groups).", "streams"),
    }
    out = [HEADER % "Redis's old test RDB files (tests/assets) and every key's value as 7.0.15 loads it."]
    out.append('    /// (name, file, "db|key hex|normal form" of each key, sorted).\n')
    out.append("    static let assets: [(name: String, rdb: String, keys: [String])] = [\n")
    for name, data, lines in assets(args.asset_port):
        out.append('        ("%s",\n         %s,\n         [\n' % (name, swift_hex(data, 9)))
        out.extend("            %s,\n" % swift_hex(line, 12) for line in lines)
        out.append("         ]),\n")
    out.append("    ]\n}\n")
    files["RedisAssetFixtures.swift"] = "".join(out)
    for name, text in files.items():
        with open(os.path.join(args.out, name), "w") as f:
            f.write(text)


main()
