"""Differential test of LCS against a reference redis-server 7.0.15: fixed cases (every
option, the errors, missing keys, wrong types) and seeded random pairs of strings
over small alphabets (many ties: the walk back must choose as Redis chooses), in
RESP2 and RESP3, replies compared byte for byte.

Knobs: DIFF_SEED, DIFF_LCS_PAIRS."""
import os
import random

import pytest

from difflib_redis import subject  # noqa: F401  (a fixture)

SEED = int(os.environ.get("DIFF_SEED", "20261202"))
PAIRS = int(os.environ.get("DIFF_LCS_PAIRS", "300"))

FIXED = [
    ("SET", "a", "ohmytext"), ("SET", "b", "mynewtext"),
    ("LCS", "a", "b"), ("LCS", "a", "b", "LEN"), ("LCS", "a", "b", "IDX"),
    ("LCS", "a", "b", "IDX", "WITHMATCHLEN"), ("LCS", "a", "b", "IDX", "MINMATCHLEN", "4"),
    ("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"), ("LCS", "a", "b", "MINMATCHLEN", "-5", "IDX"),
    ("LCS", "a", "b", "LEN", "IDX"), ("LCS", "a", "b", "IDX", "LEN"), ("LCS", "a", "b", "BOGUS"),
    ("LCS", "a", "b", "MINMATCHLEN"), ("LCS", "a", "b", "MINMATCHLEN", "x"), ("LCS", "a", "b", "len", "len"),
    ("LCS", "a", "nokey"), ("LCS", "nokey", "nokey2", "IDX"), ("LCS", "a", "a", "IDX", "WITHMATCHLEN"),
    ("RPUSH", "list", "x"), ("LCS", "a", "list"), ("LCS", "list", "nokey"), ("LCS", "list", "a", "BOGUS"),
    ("SET", "e", ""), ("LCS", "e", "a", "IDX"), ("LCS", "a"), ("LCS",),
    ("SET", "n", "12345"), ("SET", "m", "0123456789"), ("LCS", "n", "m", "IDX", "WITHMATCHLEN"),
]


def random_pairs(rng):
    for _ in range(PAIRS):
        alphabet = rng.choice(["ab", "abc", "acgt", "abcdefghij"])
        yield ("".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))),
               "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))),
               rng.choice([(), ("LEN",), ("IDX",), ("IDX", "WITHMATCHLEN"), ("IDX", "MINMATCHLEN", str(rng.randrange(0, 4))),
                           ("IDX", "MINMATCHLEN", str(rng.randrange(0, 4)), "WITHMATCHLEN")]))


@pytest.mark.parametrize("resp", [2, 3])
def test_lcs_as_redis(redis_ref, subject, resp):  # noqa: F811
    with redis_ref.client() as rc, subject.client() as sc:
        for c in (rc, sc):
            c.call("HELLO", str(resp))
            c.call("FLUSHALL")
        mismatches = []
        commands = list(FIXED)
        for x, y, opts in random_pairs(random.Random(SEED + resp)):
            commands += [("SET", "x", x), ("SET", "y", y), ("LCS", "x", "y", *opts)]
        for cmd in commands:
            a, b = rc.call_raw(*cmd), sc.call_raw(*cmd)
            if a != b:
                mismatches.append(f"{cmd}: redis={a!r} lode={b!r}")
        assert not mismatches, "\n".join(mismatches[:20])
        assert rc.call("DBSIZE") == sc.call("DBSIZE")
