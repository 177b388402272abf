"""Differential test of SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO against a reference
redis-server 7.0.15: fixed cases (every argument error in Redis's order of checks,
missing keys, wrong types, TTLs kept or dropped) and seeded random sequences over a
few keys, with GET after every write so the bytes themselves are compared.

Knobs: DIFF_SEED, DIFF_BITMAP_COMMANDS."""
import os
import random

from difflib_redis import subject  # noqa: F401  (a fixture)

SEED = int(os.environ.get("DIFF_SEED", "20261202"))
COMMANDS = int(os.environ.get("DIFF_BITMAP_COMMANDS", "3000"))

FIXED = [
    ("SETBIT", "k", "7", "1"), ("GET", "k"), ("SETBIT", "k", "7", "1"), ("SETBIT", "k", "7", "0"), ("GET", "k"),
    ("SETBIT", "k", "-1", "1"), ("SETBIT", "k", "x", "1"), ("SETBIT", "k", "1", "2"), ("SETBIT", "k", "1", "-1"),
    ("SETBIT", "k", "1", "x"), ("SETBIT", "k", "4294967296", "1"), ("SETBIT", "k", "4294967295", "x"),
    ("SETBIT", "k", "+5", "1"), ("SETBIT", "k", " 5", "1"), ("SETBIT", "k", "5", "1 "),
    ("GETBIT", "k", "4294967296"), ("GETBIT", "nokey", "5"), ("GETBIT", "nokey", "-1"), ("GETBIT", "k", "1000"),
    ("SET", "n", "123"), ("GETBIT", "n", "2"), ("SETBIT", "n", "0", "1"), ("GET", "n"),
    ("SET", "t", "abc", "EX", "1000"), ("SETBIT", "t", "100", "1"), ("TTL", "t"), ("GET", "t"),
    ("RPUSH", "l", "x"), ("SETBIT", "l", "1", "1"), ("SETBIT", "l", "x", "1"), ("GETBIT", "l", "1"), ("GETBIT", "l", "x"),
    ("BITCOUNT", "l"), ("BITCOUNT", "nokey", "x", "y"), ("BITPOS", "l", "1"), ("BITPOS", "nokey", "1", "x"),
    ("BITPOS", "nokey", "0"), ("BITPOS", "l", "2"), ("BITPOS", "k", "x"),
    ("SET", "f", "foobar"), ("BITCOUNT", "f"), ("BITCOUNT", "f", "0", "0"), ("BITCOUNT", "f", "1", "1"),
    ("BITCOUNT", "f", "1", "1", "BYTE"), ("BITCOUNT", "f", "5", "30", "BIT"), ("BITCOUNT", "f", "-3", "-1"),
    ("BITCOUNT", "f", "-1", "-3"), ("BITCOUNT", "f", "0"), ("BITCOUNT", "f", "0", "1", "BOGUS"),
    ("BITCOUNT", "f", "x", "1"), ("BITCOUNT", "f", "0", "1", "BIT", "x"), ("BITCOUNT", "f", "-100", "100", "bit"),
    ("SET", "z", "\xff\xf0\x00"), ("BITPOS", "z", "0"), ("BITPOS", "z", "1", "2"), ("BITPOS", "z", "1", "2", "-1"),
    ("SET", "o", "\xff\xff\xff"), ("BITPOS", "o", "0"), ("BITPOS", "o", "0", "0"), ("BITPOS", "o", "0", "0", "-1"),
    ("BITPOS", "o", "0", "7", "15", "BIT"), ("BITPOS", "o", "1", "7", "15", "bit"), ("BITPOS", "z", "0", "1", "1", "BYTE"),
    ("BITPOS", "z", "0", "3", "100", "BIT"), ("BITPOS", "z", "1", "-1", "-3"), ("BITPOS", "z", "0", "0", "1", "x"),
    ("SET", "e", ""), ("BITPOS", "e", "0"), ("BITPOS", "e", "1"), ("BITCOUNT", "e"), ("BITCOUNT", "e", "0", "-1"),
    ("BITOP", "AND", "d", "f", "z"), ("GET", "d"), ("BITOP", "or", "d", "f", "nokey"), ("GET", "d"),
    ("BITOP", "XOR", "d", "f", "z", "o"), ("GET", "d"), ("BITOP", "NOT", "d", "f"), ("GET", "d"),
    ("BITOP", "NOT", "d", "f", "z"), ("BITOP", "NAND", "d", "f"), ("BITOP", "AND", "d", "l"), ("BITOP", "AND", "d"),
    ("SET", "d", "x", "EX", "100"), ("BITOP", "AND", "d", "f"), ("TTL", "d"), ("BITOP", "AND", "d", "nokey", "e"),
    ("EXISTS", "d"), ("RPUSH", "d2", "x"), ("BITOP", "OR", "d2", "f"), ("TYPE", "d2"), ("GET", "d2"),
    ("BITFIELD", "bf", "SET", "i8", "0", "-100", "GET", "u8", "0", "INCRBY", "i5", "100", "1", "GET", "u4", "0"),
    ("GET", "bf"), ("BITFIELD", "bf", "SET", "u8", "#1", "255", "GET", "u8", "#1", "INCRBY", "u8", "#1", "1"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u8", "#1", "300", "INCRBY", "i8", "#1", "-300", "OVERFLOW", "FAIL",
     "INCRBY", "u8", "#1", "1", "SET", "i3", "0", "4", "OVERFLOW", "WRAP", "SET", "i3", "0", "4"),
    ("GET", "bf"), ("BITFIELD", "bf", "GET", "i64", "0", "GET", "u63", "1", "SET", "i64", "0", "-9223372036854775808"),
    ("BITFIELD", "bf", "INCRBY", "i64", "0", "-1", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "INCRBY", "i64", "0",
     "9223372036854775807"), ("GET", "bf"),
    ("BITFIELD", "bf", "GET", "u64", "0"), ("BITFIELD", "bf", "GET", "i65", "0"), ("BITFIELD", "bf", "GET", "u0", "0"),
    ("BITFIELD", "bf", "GET", "I8", "0"), ("BITFIELD", "bf", "GET", "i08", "0"), ("BITFIELD", "bf", "GET", "i8", "-1"),
    ("BITFIELD", "bf", "GET", "i8", "#-1"), ("BITFIELD", "bf", "GET", "i8", "x"), ("BITFIELD", "bf", "SET", "i8", "0", "x"),
    ("BITFIELD", "bf", "OVERFLOW", "BOGUS", "GET", "i8", "0"), ("BITFIELD", "bf", "GET", "i8"), ("BITFIELD", "bf", "NOPE"),
    ("BITFIELD", "bf", "GET", "i8", "4294967296"), ("BITFIELD", "bf", "GET", "u8", "#536870912"), ("BITFIELD", "bf"),
    ("BITFIELD", "bf", "overflow", "fail"), ("BITFIELD", "l", "GET", "u8", "0"), ("BITFIELD", "l", "SET", "u8", "0", "1"),
    ("BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "100", "9"), ("GET", "new"), ("EXISTS", "new"),
    ("BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "200", "9"), ("STRLEN", "new"),
    ("BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i4", "#3"), ("BITFIELD_RO", "bf", "SET", "u8", "0", "1"),
    ("BITFIELD_RO", "nokey", "GET", "u8", "0"), ("BITFIELD_RO", "l", "GET", "u8", "0"), ("BITFIELD_RO", "bf"),
    ("SET", "t", "x", "EX", "100"), ("BITFIELD", "t", "SET", "u8", "100", "1"), ("TTL", "t"),
]


def random_commands(rng):
    keys = ["a", "b", "c", "nokey"]
    for _ in range(COMMANDS):
        k = rng.choice(keys)
        n = rng.random()
        if n < 0.35:
            yield ("SETBIT", k, str(rng.randrange(0, 200)), str(rng.randrange(2)))
            yield ("GET", k)
        elif n < 0.5:
            yield ("GETBIT", k, str(rng.randrange(0, 220)))
        elif n < 0.7:
            rng_args = [str(rng.randrange(-30, 30)), str(rng.randrange(-30, 30))]
            yield ("BITCOUNT", k, *rng_args, *rng.choice([(), ("BYTE",), ("BIT",)]))
        elif n < 0.9:
            args = [str(rng.randrange(-30, 30)) for _ in range(rng.randrange(0, 3))]
            unit = rng.choice([(), ("BYTE",), ("BIT",)]) if len(args) == 2 else ()
            yield ("BITPOS", k, str(rng.randrange(2)), *args, *unit)
        elif n < 0.95:
            ops = []
            for _ in range(rng.randrange(1, 5)):
                t = rng.choice("iu") + str(rng.randrange(1, 65 if rng.random() < 0.5 else 12))
                off = rng.choice([str(rng.randrange(0, 100)), f"#{rng.randrange(0, 10)}"])
                kind = rng.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
                if kind == "OVERFLOW":
                    ops += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"])]
                elif kind == "GET":
                    ops += ["GET", t, off]
                else:
                    ops += [kind, t, off, str(rng.choice([rng.randrange(-300, 300), rng.randrange(-2**63, 2**63)]))]
            yield (rng.choice(["BITFIELD", "BITFIELD_RO"]), k, *ops)
            yield ("GET", k)
        else:
            op = rng.choice(["AND", "OR", "XOR", "NOT"])
            srcs = [rng.choice(keys)] if op == "NOT" else rng.sample(keys, rng.randrange(1, 4))
            dest = rng.choice(["a", "b", "c"])
            yield ("BITOP", op, dest, *srcs)
            yield ("GET", dest)


def test_bitmaps_as_redis(redis_ref, subject):  # noqa: F811
    with redis_ref.client() as rc, subject.client() as sc:
        for c in (rc, sc):
            c.call("FLUSHALL")
        mismatches = []
        for cmd in FIXED + list(random_commands(random.Random(SEED))):
            cmd = tuple(a.encode("latin-1") for a in cmd)
            a, b = rc.call_raw(*cmd), sc.call_raw(*cmd)
            if a != b:
                mismatches.append(f"{cmd}: redis={a!r} lode={b!r}")
        assert not mismatches, "\n".join(mismatches[:20])
