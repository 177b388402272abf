#!/usr/bin/env python3
"""Writes Tests/LodeRDBTests/RedisFileFixtures.swift: a whole dump.rdb saved by a real
redis-server 7.0.15 (keys of every type and encoding in db 0 and db 3, an expiring key,
a stream with consumer groups and pending entries, a function library), and what that
server holds, for RDBFileTests to compare with what RDBFileReader reads.

Starts its own redis-server on --port with a scratch --dir and small *-max-* limits, so
the file stays a few KB while still holding hashtable, skiplist and multi-node quicklist
encodings. The recipes are mirrored in RDBFileTests.swift: change both together."""
import argparse, os, shutil, subprocess, tempfile, time
import redis

LIMITS = {"hash-max-listpack-entries": "4", "zset-max-listpack-entries": "4", "set-max-intset-entries": "4",
          "list-max-listpack-size": "4", "stream-node-max-entries": "3"}
EXPIRE_AT_MS = 4102444800000  # 2100-01-01
LIBRARY = b"#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return #keys end)"


def fill(r):
    r.select(0)
    r.set(b"str", b"hello")
    r.set(b"int", b"12345")
    r.set(b"bigint", b"9223372036854775807")
    r.set(b"lzf", b"abcdefghij" * 20)
    r.set(b"bin\x00key\xff", b"\x00\x01\x02")
    r.set(b"expiring", b"soon")
    r.pexpireat(b"expiring", EXPIRE_AT_MS)
    r.rpush(b"list:small", b"a", b"b", b"1", b"-7")
    r.rpush(b"list:nodes", *[b"e%d" % i for i in range(10)])
    r.sadd(b"set:intset", 1, 2, 300, -70000)
    r.sadd(b"set:hashtable", b"x", b"y", b"z", b"1", b"2")
    r.zadd(b"zset:listpack", {b"a": 1, b"b": 2.5, b"c": -3})
    r.zadd(b"zset:skiplist", {b"m%d" % i: i * 1.5 for i in range(6)})
    r.hset(b"hash:listpack", mapping={b"f1": b"v1", b"f2": b"22"})
    r.hset(b"hash:hashtable", mapping={b"f%d" % i: b"v%d" % i for i in range(6)})
    for i in range(1, 6):
        r.execute_command("XADD", b"stream", "%d-0" % i, b"field", b"v%d" % i, b"n", i)
    r.execute_command("XGROUP", "CREATE", b"stream", b"g1", "0")
    r.execute_command("XGROUP", "CREATE", b"stream", b"g2", "$")
    r.execute_command("XREADGROUP", "GROUP", b"g1", b"alice", "COUNT", "2", "STREAMS", b"stream", ">")
    r.execute_command("XREADGROUP", "GROUP", b"g1", b"bob", "COUNT", "1", "STREAMS", b"stream", ">")
    r.execute_command("XACK", b"stream", b"g1", "1-0")
    r.execute_command("FUNCTION", "LOAD", LIBRARY)
    r.select(3)
    r.set(b"db3:str", b"three")
    r.rpush(b"db3:list", b"x")
    r.select(0)


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
        import struct
        bits = lambda s: "%016x" % struct.unpack("<Q", struct.pack("<d", s))[0]
        return "zset:" + ",".join(sorted("%s=%s" % (m.hex(), bits(s)) for m, s in r.zrange(key, 0, -1, withscores=True)))
    if t == "hash":
        return "hash:" + ",".join(sorted("%s=%s" % (f.hex(), v.hex()) for f, v in r.hgetall(key).items()))
    if t == "stream":
        entries = r.xrange(key)
        return "stream:" + ",".join(i.decode() + "".join("|%s=%s" % (f.hex(), v.hex()) for f, v in fields.items())
                                    for i, fields in entries)
    raise ValueError(t)


def as_dict(reply):
    """An XINFO record as a dict with bytes keys, whether redis-py parsed it or not."""
    if not isinstance(reply, dict):
        reply = dict(zip(reply[::2], reply[1::2]))
    return {(k if isinstance(k, bytes) else k.encode()): v for k, v in reply.items()}


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def groups(r, key):
    """'group|last id|entries-read|pending ids|consumer=pending ids;...' of each group, sorted by name."""
    out = []
    for g in r.execute_command("XINFO", "GROUPS", key):
        g = as_dict(g)
        name = g[b"name"]
        pending = [as_dict(p) for p in r.xpending_range(key, name, "-", "+", 100)]
        consumers = []
        for c in r.execute_command("XINFO", "CONSUMERS", key, name):
            c = as_dict(c)
            ids = [text(p[b"message_id"]) for p in pending if text(p[b"consumer"]) == text(c[b"name"])]
            consumers.append("%s=%s" % (text(c[b"name"]), " ".join(ids)))
        out.append("%s|%s|%s|%s|%s" % (text(name), text(g[b"last-delivered-id"]), text(g[b"entries-read"]),
                                       " ".join(text(p[b"message_id"]) for p in pending), ";".join(sorted(consumers))))
    return sorted(out)


def swift_hex(h, indent):
    chunks = [h[i:i + 100] for i in range(0, len(h), 100)] or [""]
    pad = " " * indent
    return "[\n" + "".join('%s    "%s",\n' % (pad, c) for c in chunks) + pad + "].joined()"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7390)
    ap.add_argument("--out", default="Tests/LodeRDBTests/RedisFileFixtures.swift")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="rdbfix")
    cmd = ["redis-server", "--port", str(args.port), "--save", "", "--appendonly", "no", "--dir", d]
    for k, v in LIMITS.items():
        cmd += ["--" + k, v]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=args.port)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        assert r.info("server")["redis_version"] == "7.0.15"
        fill(r)
        r.save()
        with open(os.path.join(d, "dump.rdb"), "rb") as f:
            data = f.read()
        lines = []
        for db in (0, 3):
            r.select(db)
            for key in r.keys("*"):
                ms = r.pexpiretime(key)
                lines.append("%d|%s|%s|%s" % (db, key.hex(), ms if ms > 0 else "-", normal_form(r, key)))
        r.select(0)
        group_lines = groups(r, b"stream")
        shown = lambda k: "".join(chr(b) if 32 <= b < 127 else "\\x%02x" % b for b in k)
        encodings = sorted("%s=%s" % (shown(k), r.object("encoding", k).decode()) for k in r.keys("*"))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(d)
    out = ["// Generated by tools/rdb-fixtures/capture-rdb-file.py from redis-server 7.0.15; do not edit.\n",
           "// A dump.rdb written by SAVE, and what the server held when it wrote it.\n\n",
           "enum RedisFileFixtures {\n",
           "    /// OBJECT ENCODING of the keys of db 0:\n",
           "".join("    ///   %s\n" % ", ".join(encodings[i:i + 6]) for i in range(0, len(encodings), 6)),
           "    static let dump = %s\n" % swift_hex(data.hex(), 4),
           '    /// "db|key hex|PEXPIRETIME or -|normal form" of every key, sorted.\n',
           "    static let keys: [String] = [\n"]
    out.extend('        %s,\n' % swift_hex(l, 8) if len(l) > 100 else '        "%s",\n' % l for l in sorted(lines))
    out.append("    ]\n")
    out.append('    /// "name|last-delivered-id|entries-read|pending IDs|consumer=its pending IDs;..."\n')
    out.append('    /// of each consumer group of `stream`.\n')
    out.append("    static let streamGroups: [String] = [\n")
    out.extend('        "%s",\n' % l for l in group_lines)
    out.append("    ]\n")
    out.append("    static let library = %s\n" % swift_hex(LIBRARY.hex(), 4))
    out.append("    static let expireAtMs: Int64 = %d\n" % EXPIRE_AT_MS)
    out.append("}\n")
    with open(args.out, "w") as f:
        f.write("".join(out))
    print("%d bytes, %d keys" % (len(data), len(lines)))


main()
