"""Differential test of DUMP and RESTORE (and RESTORE-ASKING) against a reference
redis-server 7.0.15:

  * payloads compared byte for byte where both servers hold the value in the same order
    (strings in every encoding, lists, intsets, sorted sets, streams without groups),
    under small and large encoding thresholds;
  * every value moved both ways — Redis's DUMP restored into Lode and Lode's into Redis —
    and then read back on both servers with order-independent reads;
  * every error and option of RESTORE (BUSYKEY, TTL checks, ABSTTL, IDLETIME/FREQ, bad
    version, bad checksum, truncated and corrupt payloads) with replies compared exactly;
  * seeded random values of every type, both ways;
  * WATCH and keyspace events see a RESTORE like any write.

Knobs: DIFF_SEED, DIFF_DUMP_VALUES."""
import os
import random
import struct

import pytest

from difflib_redis import subject  # noqa: F401  (a fixture)
from harness import Err
from value_reads import read_value

SEED = int(os.environ.get("DIFF_SEED", "20261202"))
VALUES = int(os.environ.get("DIFF_DUMP_VALUES", "300"))

SMALL = {"hash-max-listpack-entries": "512", "zset-max-listpack-entries": "128", "set-max-intset-entries": "512",
         "list-max-listpack-size": "-2", "hash-max-listpack-value": "64", "zset-max-listpack-value": "64"}
TINY = {"hash-max-listpack-entries": "2", "zset-max-listpack-entries": "2", "set-max-intset-entries": "2",
        "list-max-listpack-size": "2", "hash-max-listpack-value": "8", "zset-max-listpack-value": "8"}


@pytest.fixture
def pair(redis_ref, subject):
    with redis_ref.client() as rc, subject.client() as sc:
        for c in (rc, sc):
            c.call("FLUSHALL")
            for k, v in SMALL.items():
                c.call("CONFIG", "SET", k, v)
        yield rc, sc
        for c in (rc, sc):
            for k, v in SMALL.items():
                c.call("CONFIG", "SET", k, v)


def configure(pair, settings):
    for c in pair:
        for k, v in settings.items():
            assert c.call("CONFIG", "SET", k, v) == b"OK"


def both(pair, *cmd):
    a, b = (c.call(*cmd) for c in pair)
    assert a == b, f"{cmd}: redis={a!r} lode={b!r}"
    return a


# Values as command sequences that build them (the key is KEY).
FIXED = {
    "int": [("SET", "KEY", "12345")],
    "negint": [("SET", "KEY", "-9223372036854775808")],
    "notcanonical": [("SET", "KEY", "007")],
    "short": [("SET", "KEY", "hello world")],
    "empty": [("SET", "KEY", "")],
    "binary": [("SET", "KEY", bytes(range(256)))],
    "compressible": [("SET", "KEY", "abc" * 5000)],
    "incompressible": [("SET", "KEY", random.Random(1).randbytes(3000))],
    "chunked": [("SET", "KEY", random.Random(2).randbytes(200000))],
    "hll": [("PFADD", "KEY", *[f"e{i}" for i in range(50)])],
    "densehll": [("PFADD", "KEY", *[f"e{i}" for i in range(5000)])],
    "list": [("RPUSH", "KEY", "a", "1", "-5", "", "x" * 70, "9223372036854775807")],
    "biglist": [("RPUSH", "KEY", *[str(i) * (i % 7) for i in range(3000)])],
    "intset": [("SADD", "KEY", "5", "-3", "100000", "2")],
    "zset": [("ZADD", "KEY", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "0", "e")],
    "bigzset": [("ZADD", "KEY", *[x for i in range(400) for x in (str(i / 7), f"m{i}")])],
    "stream": [("XADD", "KEY", "1-1", "f", "v"), ("XADD", "KEY", "1-2", "f", "w"),
               ("XADD", "KEY", "5-0", "g", "1", "h", "2")],
    "bigstream": [("XADD", "KEY", f"{i + 1}-0", "field", str(i), "other", "x" * (i % 50)) for i in range(700)],
}

# Values whose payload order differs between the two (Redis's dict/listpack order vs
# Lode's hash order): compared by value only.
UNORDERED = {
    "hash": [("HSET", "KEY", "a", "1", "b", "two", "c", "")],
    "bighash": [("HSET", "KEY", *[x for i in range(700) for x in (f"f{i}", "v" * (i % 90))])],
    "set": [("SADD", "KEY", "a", "b", "c", "1")],
    "bigset": [("SADD", "KEY", *[f"m{i}" for i in range(1000)])],
    "groups": [("XADD", "KEY", "1-1", "f", "v"), ("XADD", "KEY", "2-1", "f", "w"), ("XADD", "KEY", "3-1", "f", "x"),
               ("XGROUP", "CREATE", "KEY", "g1", "0"), ("XGROUP", "CREATE", "KEY", "g2", "$"),
               ("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "KEY", ">"),
               ("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "KEY", ">"),
               ("XACK", "KEY", "g1", "1-1"), ("XDEL", "KEY", "2-1")],
}


def build(pair, recipe, key="KEY"):
    for cmd in recipe:
        both(pair, *[key if a == "KEY" else a for a in cmd])


@pytest.mark.parametrize("settings", [SMALL, TINY], ids=["default-encodings", "tiny-encodings"])
def test_payloads_match_redis_byte_for_byte(pair, settings):
    configure(pair, settings)
    for name, recipe in FIXED.items():
        build(pair, recipe, key=name)
        if pair[0].call("OBJECT", "ENCODING", name) == b"hashtable":
            continue  # a set past set-max-intset-entries: Redis's dict order
        a, b = (c.call("DUMP", name) for c in pair)
        assert a == b, f"{name}: DUMP differs ({len(a)} vs {len(b)} bytes)"


@pytest.mark.parametrize("settings", [SMALL, TINY], ids=["default-encodings", "tiny-encodings"])
def test_values_move_both_ways(pair, settings):
    configure(pair, settings)
    rc, sc = pair
    for name, recipe in {**FIXED, **UNORDERED}.items():
        build(pair, recipe, key=name)
        want = read_value(rc, name)
        assert read_value(sc, name) == want, name
        from_redis, from_lode = rc.call("DUMP", name), sc.call("DUMP", name)
        assert sc.call("RESTORE", name + ":r", 0, from_redis) == b"OK"
        assert rc.call("RESTORE", name + ":l", 0, from_lode) == b"OK"
        for c in pair:
            for suffix in (":r", ":l"):
                if c is sc and suffix == ":l" or c is rc and suffix == ":r":
                    continue
                assert read_value(c, name + suffix) == want, (name, suffix)
        # Lode's own payload restores in Lode too.
        assert sc.call("RESTORE", name + ":self", 0, from_lode) == b"OK"
        assert read_value(sc, name + ":self") == want


def sealed(body, version=10):
    """A DUMP payload: body, 2-byte version, CRC-64 (Redis's Jones polynomial)."""
    data = body + struct.pack("<H", version)
    return data + struct.pack("<Q", crc64(data))


def _crc_entry(n):
    for _ in range(8):
        n = (n >> 1) ^ 0x95AC9329AC4BC9B5 if n & 1 else n >> 1
    return n


CRC_TABLE = [_crc_entry(n) for n in range(256)]


def crc64(data):
    crc = 0
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def test_restore_options_and_errors_as_redis(pair):
    rc, _ = pair
    both(pair, "SET", "src", "value")
    good = rc.call("DUMP", "src")
    bad_crc = good[:-1] + bytes([good[-1] ^ 1])
    cases = [
        ("RESTORE", "k", "0", good),
        ("RESTORE", "k", "0", good),                        # BUSYKEY
        ("RESTORE", "k", "0", good, "REPLACE"),
        ("RESTORE", "k", "-1", good, "REPLACE"),
        ("RESTORE", "k", "abc", good, "REPLACE"),
        ("RESTORE", "k2", "100000", good), ("PTTL", "k2"),
        ("RESTORE", "k3", "1", good, "ABSTTL"), ("EXISTS", "k3"),       # long past: not created
        ("RESTORE", "k", "1", good, "ABSTTL", "REPLACE"), ("EXISTS", "k"),  # replaced by nothing
        ("RESTORE", "k4", "4000000000000", good, "ABSTTL"), ("PEXPIRETIME", "k4"),
        ("RESTORE", "k5", "0", good, "IDLETIME", "1000"), ("RESTORE", "k6", "0", good, "FREQ", "100"),
        ("RESTORE", "k7", "0", good, "IDLETIME", "-1"), ("RESTORE", "k7", "0", good, "FREQ", "256"),
        ("RESTORE", "k7", "0", good, "FREQ", "-1"), ("RESTORE", "k7", "0", good, "IDLETIME", "x"),
        ("RESTORE", "k7", "0", good, "IDLETIME", "1", "FREQ", "1"), ("RESTORE", "k7", "0", good, "FREQ", "1", "IDLETIME", "1"),
        ("RESTORE", "k7", "0", good, "IDLETIME"), ("RESTORE", "k7", "0", good, "BOGUS"),
        ("RESTORE", "k7", "0", bad_crc), ("RESTORE", "k7", "0", good[:-10]), ("RESTORE", "k7", "0", b""),
        ("RESTORE", "k7", "0", b"short"), ("RESTORE", "k7", "0", sealed(b"\x00\x05hello", version=11)),
        ("RESTORE", "k7", "0", sealed(b"\x00\x05hello", version=9)), ("GET", "k7"),
        ("RESTORE", "k8", "0", sealed(b"\x00\x05hel")), ("RESTORE", "k8", "0", sealed(b"\x63\x01a")),
        ("RESTORE", "k8", "0", sealed(b"\x02\x00")),       # an empty set
        ("RESTORE", "k8", "0", sealed(b"\x00\x05hello\xff\xff")),  # trailing bytes are accepted
        ("GET", "k8"),
        ("RESTORE-ASKING", "k9", "0", good), ("GET", "k9"),
        ("DUMP", "missing"), ("DUMP",), ("RESTORE", "k"), ("RESTORE", "k", "0"),
        ("SET", "wrong", "x"), ("RESTORE", "wrong", "0", good), ("RESTORE", "wrong", "0", good, "replace", "absttl"),
    ]
    for cmd in cases:
        a, b = (c.call(*cmd) for c in pair)
        if cmd[0] == "PTTL" and isinstance(a, int) and isinstance(b, int):
            assert abs(a - b) < 2000, cmd
            continue
        assert a == b, f"{cmd[:3]}: redis={a!r} lode={b!r}"


def test_corrupt_payloads_never_crash(pair):
    """Every truncation and random byte flip of real payloads: each server refuses or
    accepts the same ones (a flip inside a string's bytes still restores) and Lode lives.
    Lode always checks payloads as deeply as Redis's `sanitize-dump-payload yes`, so Redis
    runs with that here."""
    rc, sc = pair
    rc.call("CONFIG", "SET", "sanitize-dump-payload", "yes")
    rng = random.Random(SEED)
    for name in ("list", "intset", "zset", "stream", "bighash", "bigset"):
        build(pair, (FIXED.get(name) or UNORDERED[name]), key=name)
        payload = rc.call("DUMP", name)
        body = payload[:-10]
        # Every cut of a small payload; of a large one the ends and a sample between.
        cuts = range(len(body)) if len(body) <= 600 else sorted(
            set(range(100)) | set(range(len(body) - 100, len(body))) | set(rng.sample(range(len(body)), 300)))
        for cut in cuts:
            a, b = (c.call("RESTORE", f"t{cut}", 0, sealed(body[:cut]), "REPLACE") for c in pair)
            assert isinstance(b, Err) == isinstance(a, Err), (name, cut, a, b)
        for i in range(300):
            mutated = bytearray(body)
            for _ in range(rng.randint(1, 3)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            b = sc.call("RESTORE", "flip", 0, sealed(bytes(mutated)), "REPLACE")
            assert b == b"OK" or isinstance(b, Err), (name, i, b)
            if b == b"OK":
                sc.call("DUMP", "flip")   # a value that restored reads back
        assert sc.call("PING") == b"PONG"


def random_recipe(rng, i):
    kind = rng.choice(["string", "list", "hash", "set", "intset", "zset", "stream"])
    n = rng.choice([1, 2, 3, 10, 100, 600])

    def item():
        return rng.choice([str(rng.randint(-1000, 10**12)), "x" * rng.randint(0, 100), rng.randbytes(rng.randint(0, 20))])
    if kind == "string":
        return [("SET", "KEY", rng.choice([item(), rng.randbytes(rng.choice([10, 1000, 70000]))]))]
    if kind == "list":
        return [("RPUSH", "KEY", *[item() for _ in range(n)])]
    if kind == "hash":
        return [("HSET", "KEY", *[x for j in range(n) for x in (f"f{j}", item())])]
    if kind == "set":
        return [("SADD", "KEY", *[f"m{j}:{item()!r}" for j in range(n)])]
    if kind == "intset":
        return [("SADD", "KEY", *[str(rng.randint(-2**40, 2**40)) for _ in range(n)])]
    if kind == "zset":
        return [("ZADD", "KEY", *[x for j in range(n) for x in (repr(rng.uniform(-1e6, 1e6)), f"m{j}")])]
    return [("XADD", "KEY", f"{j + 1}-{rng.randint(0, 3)}", "f", item(), *(("g", "1") if j % 3 else ()))
            for j in range(n)]


def test_random_values_both_ways(pair):
    rc, sc = pair
    rng = random.Random(SEED)
    for i in range(VALUES):
        key = f"r{i}"
        build(pair, random_recipe(rng, i), key=key)
        ttl = rng.choice([0, 0, 100000])
        if ttl:
            both(pair, "PEXPIRE", key, ttl)
        want = read_value(rc, key)
        assert sc.call("RESTORE", key + ":r", ttl, rc.call("DUMP", key)) == b"OK"
        assert rc.call("RESTORE", key + ":l", ttl, sc.call("DUMP", key)) == b"OK"
        assert read_value(sc, key + ":r") == want, key
        assert read_value(rc, key + ":l") == want, key


def test_restore_is_a_write_for_watch_and_events(redis_ref, subject, pair):
    rc, _ = pair
    both(pair, "SET", "v", "1")
    good = rc.call("DUMP", "v")
    results = []
    for server in (redis_ref, subject):
        with server.client() as watcher, server.client() as other, server.client() as sub:
            other.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
            sub.call("SUBSCRIBE", "__keyevent@0__:restore")
            # WATCH, then a RESTORE REPLACE from another client: the EXEC fails.
            assert watcher.call("WATCH", "v") == b"OK"
            assert other.call("RESTORE", "v", 0, good, "REPLACE") == b"OK"
            watcher.call("MULTI")
            watcher.call("GET", "v")
            exec_reply = watcher.call("EXEC")
            # The keyspace event of a RESTORE is "restore", as Redis names it.
            event = sub.read_reply()
            other.call("CONFIG", "SET", "notify-keyspace-events", "")
            results.append((exec_reply, event))
    assert results[0] == results[1], results
    assert results[0][0] is None and results[0][1][2] == b"v", results


# A stream DUMPed by Redis 5 (RDB_TYPE_STREAM_LISTPACKS, no group read counters), from
# Redis's tests/unit/type/stream-cgroups.tcl: XADD 1-0…6-0, XDEL 3-0, groups g1 and g2,
# XREADGROUP g1 COUNT 4, XTRIM MAXLEN = 2. Loading estimates the counters.
LEGACY_STREAM = bytes.fromhex(
    "0f011000000000000000010000000000000000c3404a40571657000000230002010401010184646174610500010301002001"
    "0381610204200a0001400a0062600a0002400a0063600a4022018164200a4039200a0065600a0005400a0066200a00ff0206"
    "0002026731050004000000000000000100000000000000003ef783437a01000001000000000000000200000000000000003e"
    "f783437a01000001000000000000000400000000000000003ef783437a01000001000000000000000500000000000000003e"
    "f783437a0100000101036331313ef783437a0100000400000000000000010000000000000000000000000000000200000000"
    "0000000000000000000000040000000000000000000000000000000500000000000000000267320000000009003d52ef6867"
    "521dfa"
)


def test_legacy_stream_payload_gets_estimated_read_counters(pair):
    for c in pair:
        assert c.call("RESTORE", "legacy", 0, LEGACY_STREAM) == b"OK"
    a, b = (read_value(c, "legacy") for c in pair)
    assert a == b
    groups = a[1][2]
    assert [(g[0], g[2], g[3]) for g in groups] == [(b"g1", 1, 1), (b"g2", 0, 2)]
