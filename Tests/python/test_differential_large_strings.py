"""Differential test of strings stored in chunks (docs/storage.md, "Large strings")
against a reference redis-server 7.0.15.

Lode runs with `--string-chunk-size 7`, so almost every value is chunked and every
range read or write (GETRANGE, SETRANGE, APPEND, SETBIT, GETBIT, BITCOUNT, BITPOS,
BITFIELD) crosses chunk boundaries, on values that grow, shrink back to whole ones,
are copied, renamed, moved and expire. The string/keyspace and bitmap sequences of
test_differential.py and test_differential_bitmaps.py run unchanged, and fixed cases
with values far past the default chunk size (65,520 bytes) run on a second Lode with
the default, so a single SETBIT leaves most of a 24 MB value as absent (zero) chunks.

Knobs: DIFF_SEED, DIFF_CHUNKED_COMMANDS."""
import os
import random

import pytest

import difflib_redis
import harness
import test_differential
import test_differential_bitmaps
from difflib_redis import Differ

SEED = int(os.environ.get("DIFF_SEED", "20261202"))
COMMANDS = int(os.environ.get("DIFF_CHUNKED_COMMANDS", "6000"))
TINY_CHUNK = "7"


@pytest.fixture(scope="module")
def subject():
    """Lode with 7-byte chunks (a second redis-server for DIFF_SELF_CHECK=1)."""
    srv = (harness.redis_server(difflib_redis.SELF_CHECK_ARGS) if difflib_redis.SELF_CHECK
           else harness.lode_server(["--string-chunk-size", TINY_CHUNK])).start()
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def subject_default():
    """Lode with the default chunk size."""
    srv = (harness.redis_server(difflib_redis.SELF_CHECK_ARGS) if difflib_redis.SELF_CHECK
           else harness.lode_server()).start()
    yield srv
    srv.cleanup()


def test_strings_and_keyspace_random(redis_ref, subject):
    """test_differential's string and keyspace sequence (RENAME, COPY, MOVE, SWAPDB,
    expiry, INCR on chunked digits, ...) on chunked values."""
    differ = Differ(redis_ref, subject, loose_randomkey=True)
    try:
        differ.reset_for_case()
        difflib_redis.check_random(differ, "chunked", SEED, COMMANDS, test_differential.RandomCommands(SEED))
    finally:
        differ.close()


def long_values(rng):
    """Values of 0 to 60 bytes over a few keys: with 7-byte chunks, 0 to 9 chunks."""
    keys = ["a", "b", "c"]
    for _ in range(COMMANDS // 2):
        k = rng.choice(keys)
        n = rng.random()
        v = bytes(rng.choice(b"ab\x00\xff") for _ in range(rng.randrange(0, 30)))
        if n < 0.15:
            yield ("SET", k, v + bytes(rng.randrange(30)))
        elif n < 0.3:
            yield ("APPEND", k, v)
        elif n < 0.45:
            yield ("SETRANGE", k, str(rng.randrange(0, 60)), v)
        elif n < 0.6:
            yield ("GETRANGE", k, str(rng.randrange(-70, 70)), str(rng.randrange(-70, 70)))
        elif n < 0.7:
            yield ("SETBIT", k, str(rng.randrange(0, 600)), str(rng.randrange(2)))
        elif n < 0.8:
            yield ("BITCOUNT", k, str(rng.randrange(-70, 70)), str(rng.randrange(-70, 70)),
                   rng.choice(["BYTE", "BIT"]))
        elif n < 0.9:
            yield ("BITPOS", k, str(rng.randrange(2)), str(rng.randrange(-70, 70)), str(rng.randrange(-70, 70)),
                   rng.choice(["BYTE", "BIT"]))
        else:
            yield (rng.choice(["COPY", "RENAME"]), k, rng.choice(keys)) if rng.random() < 0.5 else ("STRLEN", k)
        yield ("GET", k)


def compare(rc, sc, commands):
    mismatches = []
    for cmd in commands:
        cmd = tuple(a if isinstance(a, bytes) else a.encode("latin-1") for a in cmd)
        a, b = rc.call_raw(*cmd), sc.call_raw(*cmd)
        if a != b:
            mismatches.append(f"{cmd[:6]!r}: redis={a[:200]!r} lode={b[:200]!r}")
    return mismatches


def test_bitmaps_and_ranges(redis_ref, subject):
    """test_differential_bitmaps' fixed cases and random sequence, then random range
    reads and writes over values of up to 9 chunks."""
    rng = random.Random(SEED)
    commands = (test_differential_bitmaps.FIXED + list(test_differential_bitmaps.random_commands(rng))
                + [("FLUSHALL",)] + list(long_values(rng)))
    with redis_ref.client() as rc, subject.client() as sc:
        for c in (rc, sc):
            c.call("FLUSHALL")
        mismatches = compare(rc, sc, commands)
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:20])


MB = 1 << 20
BIG = [
    # A 24 MB bitmap from one SETBIT: Lode writes one chunk.
    ("SETBIT", "bm", str(24 * MB * 8 - 1), "1"), ("STRLEN", "bm"), ("BITCOUNT", "bm"), ("BITPOS", "bm", "1"),
    ("BITPOS", "bm", "0", "-1"), ("GETBIT", "bm", str(24 * MB * 8 - 1)), ("GETBIT", "bm", str(12 * MB * 8)),
    ("SETBIT", "bm", str(12 * MB * 8 + 3), "1"), ("BITCOUNT", "bm", str(12 * MB - 1), str(12 * MB + 1)),
    ("BITCOUNT", "bm", str(12 * MB * 8), str(12 * MB * 8 + 7), "BIT"), ("BITPOS", "bm", "1", "1"),
    ("GETRANGE", "bm", str(12 * MB - 2), str(12 * MB + 2)), ("GETRANGE", "bm", "-3", "-1"),
    ("BITFIELD", "bm", "GET", "u16", str(12 * MB * 8 - 4), "INCRBY", "i64", str(24 * MB * 8 - 40), "77",
     "SET", "u8", str(65520 * 8 - 4), "255"), ("GETRANGE", "bm", "65518", "65521"),
    ("BITOP", "NOT", "inv", "bm"), ("BITCOUNT", "inv"), ("GETRANGE", "inv", "0", "3"),
    # A 300 KB value of five chunks, grown, patched across chunk edges, copied, renamed.
    ("SET", "s", "0123456789" * 30000), ("STRLEN", "s"), ("GETRANGE", "s", "65515", "65525"),
    ("APPEND", "s", "tail"), ("GETRANGE", "s", "-10", "-1"), ("SETRANGE", "s", "131035", "X" * 10),
    ("GETRANGE", "s", "131030", "131050"), ("SETRANGE", "s", str(2 * MB), "far"), ("STRLEN", "s"),
    ("GETRANGE", "s", str(2 * MB - 3), str(2 * MB + 5)), ("COPY", "s", "s2"), ("SETRANGE", "s2", "0", "Z"),
    ("GETRANGE", "s", "0", "2"), ("GETRANGE", "s2", "0", "2"), ("RENAME", "s2", "s3"), ("STRLEN", "s3"),
    ("GETRANGE", "s3", str(2 * MB), "-1"), ("EXPIRE", "s3", "1000"), ("TTL", "s3"), ("OBJECT", "ENCODING", "s3"),
    ("SET", "s3", "small"), ("GET", "s3"), ("DEL", "s"), ("EXISTS", "s"), ("GETRANGE", "s", "0", "10"),
    ("SET", "h", "x" * 70000), ("GETSET", "h", "y"), ("GET", "h"), ("SET", "h", "z" * 70000, "GET"),
    ("GETDEL", "h"), ("EXISTS", "h"),
    ("SET", "n", "1" * 70000), ("INCR", "n"), ("PFADD", "n", "a"), ("LCS", "n", "s3", "LEN"),
]


def test_large_values(redis_ref, subject_default):
    """Values of 70 KB to 24 MB with the default chunk size; GET of whole values too."""
    with redis_ref.client() as rc, subject_default.client() as sc:
        for c in (rc, sc):
            c.call("FLUSHALL")
        mismatches = compare(rc, sc, BIG + [("GET", "inv"), ("GET", "bm"), ("MGET", "s3", "inv", "n")])
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:20])
