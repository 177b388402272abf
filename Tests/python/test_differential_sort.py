"""Differential test of SORT and SORT_RO against a reference redis-server 7.0.15: fixed
cases (every option, the errors in Redis's order of checks, missing keys, wrong types,
STORE and its events' effects, scripts, COMMAND GETKEYS) and seeded random sequences
over lists, sets and sorted sets with weight strings and hashes, replies compared byte
for byte in RESP2 and RESP3, LRANGE after every STORE.

Where Redis's own answer depends on its hash tables it is not deterministic, so the
random commands avoid it: a set is never sorted BY a constant without STORE (its
native order), and sets and sorted sets are sorted ALPHA BY only on the `u_*` keys,
whose values are all present and distinct (ties keep the load order, which for them
is a dict's). Lists have an order of their own, so on lists everything goes: ties of
ALPHA BY keep list order (glibc's stable qsort) or, with LIMIT, the order Redis's
pqsort leaves them in.

Knobs: DIFF_SEED, DIFF_SORT_COMMANDS, DIFF_SORT_RESP3_COMMANDS."""
import os
import random

import pytest

from difflib_redis import raw_mismatches
from difflib_redis import subject  # noqa: F401  (a fixture)

SEED = int(os.environ.get("DIFF_SEED", "20261203"))
COMMANDS = int(os.environ.get("DIFF_SORT_COMMANDS", "5000"))
RESP3_COMMANDS = int(os.environ.get("DIFF_SORT_RESP3_COMMANDS", "1500"))

I64_MAX = "9223372036854775807"
# Redis's SORT tests `errno == ERANGE` without clearing errno first, so after a value
# that overflows (1e400) every later numeric SORT of a non-integer fails in Redis,
# whatever it sorts, until something in the process clears errno: a string2d or
# string2ld call (this INCRBYFLOAT's bad increment), an accept(), ... That depends on
# unrelated process state, so Lode judges each value alone, and the tests clear errno
# on Redis after every SORT that may have hit ERANGE.
RESET = ("INCRBYFLOAT", "errno_reset", "x")

FIXED = [
    # Numbers, ALPHA, DESC, LIMIT clamping.
    ("RPUSH", "l", "3", "1", "2", "10", "-1.5", "1e3", "0x10", " 7", ""), ("SORT", "l"), ("SORT", "l", "DESC"),
    ("SORT", "l", "ALPHA"), ("SORT", "l", "ALPHA", "DESC"), ("SORT", "l", "LIMIT", "1", "3"),
    ("SORT", "l", "LIMIT", "-5", "3"), ("SORT", "l", "LIMIT", "2", "-1"), ("SORT", "l", "LIMIT", "2", "0"),
    ("SORT", "l", "LIMIT", "100", "5"), ("SORT", "l", "LIMIT", "0", I64_MAX), ("SORT", "l", "LIMIT", I64_MAX, "1"),
    ("SORT", "l", "LIMIT", "-9223372036854775808", "2"), ("SORT", "l", "desc", "asc", "limit", "1", "1", "desc"),
    ("SORT", "l", "LIMIT", "1"), ("SORT", "l", "LIMIT", "x", "1"), ("SORT", "l", "LIMIT", "1", "1.5"),
    ("SORT", "l", "BOGUS"), ("SORT", "l", "BY"), ("SORT", "l", "GET"), ("SORT", "l", "STORE"), ("SORT",),
    ("SORT_RO", "l", "STORE", "d"), ("SORT_RO", "l", "LIMIT", "0", "2", "DESC"), ("SORT_RO", "l", "ALPHA", "BOGUS"),
    # Bad doubles: strtod over the C string, ERANGE and NaN refused.
    ("RPUSH", "bad", "1", "1e400"), ("SORT", "bad"), RESET, ("RPUSH", "bad2", "1", "1e-400"), ("SORT", "bad2"), RESET,
    ("RPUSH", "bad3", "nan"), ("SORT", "bad3"), ("RPUSH", "bad4", "5 "), ("SORT", "bad4"),
    ("RPUSH", "ok", "1\x00junk", "inf", "-inf", "2", "infinity", "1e-300"), ("SORT", "ok"), ("SORT", "ok", "DESC"),
    ("RPUSH", "sub", "1e-310"), ("SORT", "sub"), RESET, ("SORT", "bad", "ALPHA"), ("SORT", "bad", "BY", "nosort"),
    # BY nosort / constant patterns.
    ("RPUSH", "n", "5", "3", "4", "1", "2"), ("SORT", "n", "BY", "nosort"), ("SORT", "n", "BY", "nosort", "DESC"),
    ("SORT", "n", "BY", "nosort", "LIMIT", "1", "2"), ("SORT", "n", "BY", "nosort", "DESC", "LIMIT", "1", "2"),
    ("SORT", "n", "BY", "nosort", "LIMIT", "10", "2"), ("SORT", "n", "BY", "nosort", "LIMIT", "0", "0"),
    ("SORT", "n", "BY", "nosort", "BY", "w_*"), ("SORT", "n", "BY", "w_*", "BY", "nosort"),
    ("SORT", "n", "BY", "no\x00*"), ("SORT", "n", "BY", "#"),
    # BY and GET with keys and hash fields.
    ("MSET", "w_1", "50", "w_2", "10", "w_3", "30", "w_4", "35", "w_5", "40", "w_9", "x"),
    ("RPUSH", "n9", "9", "1"), ("SORT", "n9", "BY", "w_*"), ("SORT", "n9", "BY", "w_*", "STORE", "d"), ("EXISTS", "d"),
    ("HSET", "h_1", "f", "9", "g", "b"), ("HSET", "h_2", "f", "7"), ("HSET", "h_3", "f", "8", "g", "a"),
    ("SORT", "n", "BY", "w_*"), ("SORT", "n", "BY", "h_*->f"), ("SORT", "n", "BY", "h_*->g", "ALPHA"),
    ("SORT", "n", "BY", "h_*->g", "ALPHA", "DESC"), ("SORT", "n", "BY", "w_*", "ALPHA"),
    ("SORT", "n", "BY", "h_*->f", "GET", "#", "GET", "h_*->g", "GET", "w_*", "GET", "nokey", "GET", "h_*->"),
    ("SORT", "n", "BY", "missing_*", "GET", "#"), ("SORT", "n", "GET", "h_*->f", "LIMIT", "1", "2", "DESC"),
    ("SORT", "n", "BY", "h_*->f", "LIMIT", "1", "2"), ("SORT", "n", "BY", "h_*->g", "ALPHA", "LIMIT", "1", "3"),
    ("SORT", "n", "GET", "w_*->f"), ("SORT", "n", "GET", "h_*"), ("SORT", "n", "GET", "#\x00x"), ("SORT", "n", "GET", "#x"),
    ("SET", "x:5->", "100"), ("SORT", "n", "BY", "num", "GET", "x:*->"), ("SORT", "n", "GET", "x:*->\x00"),
    ("SORT", "n", "GET", "x:*-"), ("HSET", "h_4", "->f", "z"), ("SORT", "n", "GET", "h_*->->f"),
    ("SORT", "n", "GET", "*"), ("SET", "5", "five"), ("SORT", "n", "GET", "*", "GET", "**"),
    # STORE.
    ("SORT", "n", "STORE", "d"), ("LRANGE", "d", "0", "-1"), ("TYPE", "d"),
    ("SORT", "n", "BY", "w_*", "GET", "#", "GET", "h_*->f", "STORE", "d"), ("LRANGE", "d", "0", "-1"),
    ("SORT", "n", "LIMIT", "10", "10", "STORE", "d"), ("EXISTS", "d"), ("SORT", "nokey", "STORE", "d"),
    ("SET", "d", "v", "EX", "100"), ("SORT", "n", "STORE", "d"), ("TTL", "d"), ("LRANGE", "d", "0", "-1"),
    ("SORT", "n", "STORE", "n", "DESC"), ("LRANGE", "n", "0", "-1"), ("SORT", "n", "STORE", "a", "STORE", "b"),
    ("EXISTS", "a"), ("LRANGE", "b", "0", "-1"), ("SORT", "bad", "STORE", "d"), RESET, ("LRANGE", "d", "0", "-1"),
    # Sets and sorted sets.
    ("SADD", "s", "b", "a", "c", "aa", "10", "9"), ("SORT", "s", "ALPHA"), ("SORT", "s", "ALPHA", "DESC", "LIMIT", "1", "2"),
    ("SORT", "s", "BY", "nosort", "STORE", "d"), ("LRANGE", "d", "0", "-1"), ("SORT", "s", "BY", "nosort", "ALPHA", "DESC",
                                                                            "STORE", "d"),
    ("LRANGE", "d", "0", "-1"), ("SORT", "s"), ("SADD", "si", "5", "-3", "10", "2"), ("SORT", "si"), ("SORT", "si", "DESC"),
    ("SORT", "si", "BY", "w_*"), ("SORT", "si", "BY", "w_*", "LIMIT", "1", "2"), ("SADD", "one", "x"),
    ("SORT", "one", "BY", "nosort"), ("SORT", "one", "BY", "nosort", "GET", "#", "GET", "w_*"),
    ("ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e", "3", "f"), ("SORT", "z", "ALPHA"),
    ("SORT", "z", "ALPHA", "DESC"), ("SORT", "z", "BY", "nosort"), ("SORT", "z", "BY", "nosort", "DESC"),
    ("SORT", "z", "BY", "nosort", "LIMIT", "1", "3"), ("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "3"),
    ("SORT", "z", "BY", "nosort", "LIMIT", "5", "10"), ("SORT", "z", "BY", "nosort", "LIMIT", "-10", "100"),
    ("SORT", "z", "BY", "nosort", "LIMIT", "6", "1"), ("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "0"),
    ("SORT", "z", "BY", "nosort", "STORE", "d"), ("LRANGE", "d", "0", "-1"), ("SORT", "z"),
    ("ZADD", "zn", "3", "10", "1", "20", "2", "5"), ("SORT", "zn"), ("SORT", "zn", "BY", "nosort", "GET", "#", "GET", "w_*"),
    # Ties under ALPHA BY in a list: glibc's stable qsort, or Redis's pqsort with LIMIT.
    ("RPUSH", "tl", *[f"e{i * 37 % 100:02d}" for i in range(100)]),
    *[("SET", f"tw_e{i:02d}", "abc"[i * 7 % 3]) for i in range(0, 100, 2)],
    *[("SORT", "tl", "BY", "tw_*", "ALPHA", *order, "LIMIT", str(a), str(b))
      for order in ((), ("DESC",)) for a, b in ((0, 10), (5, 20), (40, 13), (0, 99), (90, 10), (1, 1), (0, 100))],
    ("SORT", "tl", "BY", "tw_*", "ALPHA"), ("SORT", "tl", "BY", "tw_*", "ALPHA", "DESC"),
    ("SORT", "tl", "BY", "tw_*", "ALPHA", "LIMIT", "3", "30", "STORE", "tls"), ("LRANGE", "tls", "0", "-1"),
    # Scripts: a set BY a constant is sorted ALPHA there, a sorted set keeps score order.
    ("EVAL", "return redis.call('sort', KEYS[1], 'by', 'nosort')", "1", "s"),
    ("EVAL", "return redis.call('sort', KEYS[1], 'by', 'nosort', 'desc', 'limit', '1', '2')", "1", "s"),
    ("EVAL", "return {redis.call('sort',KEYS[1],'by','nosort','asc'), redis.call('sort',KEYS[1],'by','nosort','desc')}",
     "1", "z"),
    ("EVAL", "return redis.call('sort_ro', KEYS[1], 'alpha')", "1", "s"),
    # Wrong types, missing keys.
    ("SET", "str", "v"), ("SORT", "str"), ("SORT", "str", "BOGUS"), ("SORT", "str", "LIMIT", "x", "y"),
    ("HSET", "hash", "f", "v"), ("SORT", "hash"), ("SORT_RO", "hash"), ("SORT", "nokey"), ("SORT", "nokey", "BY", "nosort"),
    ("SORT", "nokey", "GET", "#"), ("SORT_RO", "nokey", "DESC"), ("SORT", "n", "STORE", "str"), ("TYPE", "str"),
    # MULTI, and the key extraction.
    ("MULTI",), ("SORT", "z", "BY", "nosort", "ASC"), ("SORT", "z", "BY", "nosort", "DESC"), ("EXEC",),
    ("COMMAND", "GETKEYS", "SORT", "abc", "STORE", "def"), ("COMMAND", "GETKEYS", "SORT_RO", "abc"),
    ("COMMAND", "GETKEYS", "SORT", "abc", "STORE", "invalid", "STORE", "stillbad", "STORE", "def"),
    ("COMMAND", "GETKEYS", "SORT", "abc", "LIMIT", "STORE", "x", "STORE"), ("COMMAND", "GETKEYS", "SORT", "abc", "BY", "store", "y"),
    ("COMMAND", "GETKEYSANDFLAGS", "SORT", "abc", "GET", "#", "STORE", "d"), ("COMMAND", "GETKEYSANDFLAGS", "SORT_RO", "abc"),
]

# Element pools. Lists may hold anything; sets and sorted sets avoid values that strcoll
# cannot tell apart (a NUL byte), since ties there come in dict order.
NUMBERS = ["0", "1", "2", "3", "10", "-1", "-2.5", "1.5", "100", "1e2", "0.1", "inf", "-inf", "007", "-0", "12"]
WORDS = ["a", "b", "aa", "ab", "B", "ba", "zz", "\xe9", "a b", "10a"]
LIST_ONLY = ["", " 3", "1\x00x", "1\x00y", "nan", "1e400", "3 "]
LIST_KEYS, SET_KEYS, ZSET_KEYS = ["l0", "l1", "l2"], ["s0", "s1"], ["z0", "z1"]
OTHER_KEYS = ["str0", "h0", "none"]
DESTS = ["d0", "d1", "l0", "s0"]


def setup_commands(rng):
    """The weight strings, hashes and the u_* keys (distinct, never missing)."""
    everything = NUMBERS + WORDS + LIST_ONLY
    values = rng.sample(range(100000), len(everything))
    for elem, u in zip(everything, values):
        yield ("SET", "u_" + elem, f"u{u:06d}")
    yield ("SET", "str0", "x")
    yield ("HSET", "h0", "f", "1")


def random_commands(rng, count):
    def element(kind):
        if kind == "list":
            return rng.choice(NUMBERS + WORDS + LIST_ONLY if rng.random() < 0.3 else NUMBERS)
        return rng.choice(NUMBERS + WORDS if rng.random() < 0.3 else NUMBERS)

    for _ in range(count):
        n = rng.random()
        if n < 0.10:
            k = rng.choice(LIST_KEYS)
            yield (rng.choice(["RPUSH", "LPUSH"]), k, *[element("list") for _ in range(rng.randrange(1, 4))])
        elif n < 0.15:
            yield ("SADD", rng.choice(SET_KEYS), *[element("set") for _ in range(rng.randrange(1, 4))])
        elif n < 0.20:
            args = []
            for _ in range(rng.randrange(1, 3)):
                args += [str(rng.choice([1, 2, 2, 3, 0.5, -1])), element("zset")]
            yield ("ZADD", rng.choice(ZSET_KEYS), *args)
        elif n < 0.25:
            e = rng.choice(NUMBERS + WORDS + LIST_ONLY)
            yield rng.choice([("SET", "w_" + e, rng.choice(NUMBERS + WORDS[:3])), ("DEL", "w_" + e),
                              ("HSET", "h_" + e, rng.choice("fg"), rng.choice(NUMBERS + WORDS[:4])), ("DEL", "h_" + e),
                              ("SET", "h_" + e, "notahash")])
        elif n < 0.28:
            k = rng.choice(LIST_KEYS + SET_KEYS + ZSET_KEYS + DESTS)
            yield rng.choice([("DEL", k), ("LPOP", k), ("SREM", k, element("set")), ("ZPOPMIN", k)])
        else:
            yield from sort_command(rng)


def sort_command(rng):
    kind = rng.choice(["list", "list", "set", "zset", "other"])
    key = rng.choice({"list": LIST_KEYS, "set": SET_KEYS, "zset": ZSET_KEYS, "other": OTHER_KEYS}[kind])
    args = []
    store = rng.random() < 0.25
    by = rng.choice([None, None, "w_*", "h_*->f", "h_*->g", "nosort", "missing_*", "u_*"])
    alpha = rng.random() < 0.35
    if kind in ("set", "zset"):
        if by == "nosort" and kind == "set" and not store:
            by = None
        if alpha and by is not None and by != "nosort":
            by = "u_*"
    if by is not None:
        args += ["BY", by]
    if alpha:
        args.append("ALPHA")
    if rng.random() < 0.4:
        args.append(rng.choice(["ASC", "DESC"]))
    if rng.random() < 0.4:
        args += ["LIMIT", str(rng.choice([0, 0, 1, 2, 3, -1, 10])), str(rng.choice([1, 2, 3, 5, 0, -1, -5, 100]))]
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        args += ["GET", rng.choice(["#", "w_*", "h_*->f", "h_*->g", "nokey", "u_*", "h_*"])]
    if store:
        dest = rng.choice(DESTS)
        args += ["STORE", dest]
        yield ("SORT", key, *args)
        yield ("LRANGE", dest, "0", "-1")
    else:
        yield (rng.choice(["SORT", "SORT", "SORT_RO"]), key, *args)
    yield RESET


@pytest.mark.parametrize("resp", [2, 3])
def test_sort_fixed(redis_ref, subject, resp):  # noqa: F811
    raw_mismatches(redis_ref, subject, resp, FIXED, latin1=True)


@pytest.mark.parametrize("resp", [2, 3])
def test_sort_random(redis_ref, subject, resp):  # noqa: F811
    rng = random.Random(SEED + resp)
    commands = list(setup_commands(rng)) + list(random_commands(rng, COMMANDS if resp == 2 else RESP3_COMMANDS))
    raw_mismatches(redis_ref, subject, resp, commands, latin1=True)
