"""Differential test of the Redis 7.0 sorted-set commands: Lode against a reference redis-server 7.

Fixed cases and a randomized sequence (fixed seed) send the same commands to both
servers and compare the replies exactly (RESP type and bytes, errors included).
Sorted sets are ordered (by score, then member bytes), and so are the results of
ZUNION / ZINTER / ZDIFF, so nearly everything is compared as is. Relaxed:
  * ZRANDMEMBER: compared by shape (reply types), count, distinctness (positive
    count) and membership: each server's reply is checked against that server's
    own ZRANGE key 0 -1 WITHSCORES (scores included), read right after;
  * ZSCAN: iterated to cursor 0, the union of (member, score) pairs compared;
  * what difflib_redis relaxes anyway (TTLs within a tolerance, SCAN, KEYS).

Redis 7.0 formats scores with "%.17g" (1.1 -> "1.1000000000000001", 1e20 ->
"1e+20", infinities "inf" / "-inf"), as bulk strings in RESP2 and as RESP3
doubles (",1.1000000000000001") in RESP3; WITHSCORES replies are flat in RESP2
and [member, double] pairs in RESP3. Every fixed case runs in both protocols.

Lexicographic range commands are only sent to sorted sets whose members all
have the same score (Redis leaves the result unspecified otherwise): in the
random sequence only to the key `zl`, which is only ever written with score 0.

The random sequence never stores a -0 score (no "-0" scores, no negative or zero
WEIGHTS in ZUNIONSTORE / ZINTERSTORE): Redis keeps -0 in a skiplist-encoded set
but turns it into 0 in a listpack-encoded one, so what it reports depends on the
encoding. The fixed case negative-zero checks the small-set (listpack) behaviour.

The blocking commands (BZPOPMIN BZPOPMAX BZMPOP) are checked without blocking in
the differential cases, and blocking in test_blocking_*, scenarios run against
redis-server ("redis" ids) and the server under test alike.

Run (from the repository root):
  pytest Tests/python/test_differential_zset.py                     # Lode vs redis
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential_zset.py   # redis vs redis
Knobs: DIFF_SEED, DIFF_ZSET_COMMANDS, DIFF_ZSET_RESP3_COMMANDS, DIFF_MAX_MISMATCHES.
"""
import os
import time

import pytest

import harness
from diff_blocking import Scenario, assert_blocked, expect
from diff_blocking import server  # noqa: F401  (a fixture)
from diff_random_base import JUNK, TypedRandomCommands
from difflib_redis import I64_MAX, I64_MIN, Differ, Outcome, case, check_case, check_random, name_of, same
from difflib_redis import subject  # noqa: F401  (a fixture)
from harness import NULL, NULL_ARRAY, Double, Err, Nil

SEED = int(os.environ.get("DIFF_SEED", "20261123"))
RANDOM_COMMANDS = int(os.environ.get("DIFF_ZSET_COMMANDS", "6000"))
RESP3_COMMANDS = int(os.environ.get("DIFF_ZSET_RESP3_COMMANDS", "2000"))

BIN = b"\x00\r\n\xff bin"
M511, M512, M1000 = b"x" * 511, b"y" * 512, b"z" * 1000
BIG = ("ZADD", "big") + tuple(x for i in range(200) for x in (str(i % 17), f"m{i:03d}"))
BIG_LONG = ("ZADD", "bl") + tuple(x for i in range(150) for x in (str(i % 5), b"%03d" % i + M512))


# ----------------------------------------------------------------------------
# Comparing: ZRANDMEMBER by shape and membership, ZSCAN as a union


class RandShape(tuple):
    """What a ZRANDMEMBER reply is compared by: its shape, its length and the
    problems found checking it against the sorted set it came from."""

    def __repr__(self):
        return f"RandShape{tuple(self)!r}"


def signature(x):
    if isinstance(x, list):
        return f"{type(x).__name__}[{','.join(signature(y) for y in x)}]"
    return type(x).__name__


def zset_contents(state):
    """{member: score reply} from a ZRANGE key 0 -1 WITHSCORES reply (RESP2 flat
    or RESP3 pairs); None if it is not such a reply."""
    if type(state) is not list:
        return None
    if all(type(p) is list and len(p) == 2 for p in state):
        return {p[0]: p[1] for p in state}
    if len(state) % 2 == 0 and all(type(x) is bytes for x in state):
        return dict(zip(state[0::2], state[1::2]))
    return None


def rand_shape(cmd, reply, state):
    """ZRANDMEMBER's reply reduced to what two correct servers must agree on."""
    if isinstance(reply, (Err, Nil)):
        return reply
    contents = zset_contents(state)
    if contents is None:
        return RandShape(("reply", signature(reply), "but ZRANGE says", repr(state)[:200]))
    if len(cmd) == 2:
        ok = type(reply) is bytes and reply in contents
        return RandShape(("member", signature(reply), () if ok else (f"{reply!r} is not a member",)))
    try:
        count = int(cmd[2])
    except ValueError:
        return RandShape(("count?", repr(cmd[2])))
    withscores = len(cmd) > 3
    if type(reply) is not list:
        return RandShape(("not an array", signature(reply)))
    problems = []
    if not withscores:
        pairs = [(m, None) for m in reply]
    elif reply and all(type(p) is list for p in reply):  # RESP3 [member, score] pairs
        pairs = [tuple(p) if len(p) == 2 else (p, None) for p in reply]
    elif len(reply) % 2 == 0:
        pairs = list(zip(reply[0::2], reply[1::2]))
    else:
        return RandShape(("odd flat WITHSCORES array", len(reply)))
    for member, score in pairs:
        if member not in contents:
            problems.append(f"{member!r} is not a member")
        elif withscores and not same(score, contents[member]):
            problems.append(f"{member!r} has score {contents[member]!r}, not {score!r}")
    members = [m for m, _ in pairs]
    if count >= 0:
        want = min(count, len(contents))
        if len(set(members)) != len(members):
            problems.append("repeated members with a positive count")
    else:
        want = -count if contents else 0
    if len(pairs) != want:
        problems.append(f"{len(pairs)} elements, not {want}")
    kinds = tuple(sorted({signature(x) for x in reply}))
    return RandShape(("array", kinds, len(pairs), tuple(problems[:5])))


def zero_sign_blind(reply):
    """Maps a score of -0 to 0 throughout a reply. Redis keeps -0 only in the
    skiplist encoding (zsets over 128 members or with a member over 64 bytes) and
    reads it back as 0 from the listpack; Lode always stores 0, like the listpack.
    (A member literally named "-0" would be mapped too; the generators use none.)"""
    if type(reply) is bytes and reply == b"-0":
        return b"0"
    if isinstance(reply, Double) and bytes(reply) == b"-0":
        return Double(b"0")
    if type(reply) is list:
        return [zero_sign_blind(x) for x in reply]
    return reply


class ZsetDiffer(Differ):
    def normalize(self, cmd, reply):
        reply = super().normalize(cmd, reply)
        # ZINCRBY's reply is the computed score, -0 included, in both encodings.
        return reply if name_of(cmd) in ("ZINCRBY",) else zero_sign_blind(reply)

    def special(self, cmd):
        name = name_of(cmd)
        if name == "ZSCAN" and len(cmd) >= 3:
            return self.zscan_both
        if name == "ZRANDMEMBER" and len(cmd) >= 2:
            return self.zrandmember_both
        return super().special(cmd)

    def zscan_both(self, cmd):
        o = self.scan_both(cmd, cursor_at=2, pairs=True)
        a, b = (type(x)(sorted((m, b"0" if s == b"-0" else s) for m, s in x)) if isinstance(x, list) else x
                for x in (o.a, o.b))
        ok = same(a, b)
        return Outcome(a, b, ok, None if ok else o.reason)

    def zrandmember_both(self, cmd):
        shapes = []
        for client in (self.ref, self.sub):
            reply = client.call(*cmd)
            shapes.append(rand_shape(cmd, reply, client.call("ZRANGE", cmd[1], "0", "-1", "WITHSCORES")))
        a, b = shapes
        ok = same(a, b)
        return Outcome(a, b, ok, None if ok else "ZRANDMEMBER is compared by shape, count and membership")


def test_zrandmember_check_catches_wrong_replies():
    """The relaxed ZRANDMEMBER comparison still tells a wrong reply from a right one."""
    state2 = [b"a", b"1", b"b", b"2"]
    state3 = [[b"a", Double(b"1")], [b"b", Double(b"2")]]
    two = ("ZRANDMEMBER", "z", "2")
    good = rand_shape(two, [b"b", b"a"], state2)
    assert same(good, rand_shape(two, [b"a", b"b"], state2))
    for bad in ([b"a", b"a"], [b"a"], [b"a", b"x"], [b"a", b"b", b"a"], [b"a", Double(b"1")]):
        assert not same(rand_shape(two, bad, state2), good), bad
    neg = ("ZRANDMEMBER", "z", "-3")
    assert same(rand_shape(neg, [b"a", b"a", b"a"], state2), rand_shape(neg, [b"a", b"b", b"b"], state2))
    assert not same(rand_shape(neg, [b"a", b"a"], state2), rand_shape(neg, [b"a", b"b", b"b"], state2))
    ws = ("ZRANDMEMBER", "z", "1", "WITHSCORES")
    assert not same(rand_shape(ws, [b"a", b"2"], state2), rand_shape(ws, [b"a", b"1"], state2))
    assert same(rand_shape(ws, [[b"b", Double(b"2")]], state3), rand_shape(ws, [[b"a", Double(b"1")]], state3))
    assert not same(rand_shape(ws, [[b"a", b"1"]], state3), rand_shape(ws, [[b"a", Double(b"1")]], state3))
    assert not same(rand_shape(ws, [b"a", b"1"], state3), rand_shape(ws, [[b"a", Double(b"1")]], state3))
    one = ("ZRANDMEMBER", "z")
    assert not same(rand_shape(one, b"x", state2), rand_shape(one, b"a", state2))
    assert same(rand_shape(one, b"b", state2), rand_shape(one, b"a", state2))


# ----------------------------------------------------------------------------
# Fixed cases: each starts from FLUSHALL + SELECT 0 and runs in RESP2 and RESP3.

ZADD_CASES = [
    case("zadd-basic", "ZADD z 1 a 2 b 3 c", "ZRANGE z 0 -1 WITHSCORES", "ZADD z 1 a", "ZADD z 5 a", "ZCARD z",
         "ZSCORE z a", "TYPE z", "ZADD z 1 d 1 d 2 d", "ZSCORE z d", "ZADD z 9 e 8 e", "ZSCORE z e", "ZCARD z"),
    case("zadd-nx-xx-ch", "ZADD z NX 1 a", "ZADD z NX 2 a 3 b", "ZRANGE z 0 -1 WITHSCORES", "ZADD z XX 5 a 6 c",
         "ZRANGE z 0 -1 WITHSCORES", "ZADD z CH 5 a 7 b 8 d", "ZADD z XX CH 1 a 1 b", "ZADD z XX CH 1 a",
         "ZADD z NX CH 1 a 1 e", "ZADD z nx xx 1 a", "ZADD z ch 1 a", "ZADD z CH CH 2 a", "ZADD z NX NX 3 f",
         "ZRANGE z 0 -1 WITHSCORES"),
    case("zadd-gt-lt", "ZADD z 5 a 5 b", "ZADD z GT 0 a 10 b", "ZADD z GT CH 0 a 11 b 1 e", "ZADD z LT CH 100 a 1 b",
         "ZADD z LT XX CH 0 a 0 new", "ZADD z GT XX CH 100 a", "ZADD z ch xx gt 200 a", "ZADD z GT CH 200 a",
         "ZADD z LT 1 brand-new", "ZADD z gt 1 brand-new-2", "ZRANGE z 0 -1 WITHSCORES"),
    case("zadd-incr", "ZADD z INCR 1 a", "ZADD z INCR 2.5 a", "ZADD z INCR NX 1 a", "ZADD z INCR XX 1 nomember",
         "ZADD z INCR XX 1 a", "ZADD z INCR GT -1 a", "ZADD z INCR GT 1 a", "ZADD z INCR LT 1 a",
         "ZADD z INCR LT -10 a", "ZADD z INCR CH 1 a", "ZADD z INCR GT 1 newm", "ZADD z INCR LT 1 newm2",
         "ZADD z INCR NX 7 newm3", "ZADD z incr 0 a", "ZRANGE z 0 -1 WITHSCORES", "ZADD nz INCR XX 1 a",
         "EXISTS nz", "ZADD nz XX 1 a", "ZADD nz XX CH 1 a", "EXISTS nz", "ZADD nz GT XX 1 a", "EXISTS nz"),
    case("zadd-option-conflicts", "ZADD z NX XX 1 a", "ZADD z XX NX 1 a", "ZADD z GT LT 1 a", "ZADD z NX GT 1 a",
         "ZADD z LT NX 1 a", "ZADD z GT LT NX 1 a", "ZADD z XX NX GT 1 a", "ZADD z NX XX INCR 1 a",
         "ZADD z INCR 1 a 2 b", "ZADD z INCR GT LT 1 a 2 b", "ZADD z INCR NX XX 1 a 2 b", "ZADD z GT LT 1 a 2",
         "ZADD z NX XX 1", "ZADD z INCR", "ZADD z 1", "ZADD z 1 a 2", "ZADD z", "ZADD", "ZADD z FOO 1 a",
         "ZADD z 1 a NX", "ZADD z NX", "ZADD z NX INCR", "ZADD z GT LT", "ZADD z gt lt 1 a", "EXISTS z"),
    case("zadd-score-parsing", "ZADD z 1.5 a", "ZADD z -2.25 b", "ZADD z .5 c", "ZADD z 5. d", "ZADD z 1e3 e",
         "ZADD z 1E3 f", "ZADD z +5 g", "ZADD z -0 h", "ZADD z 0x10 i", "ZADD z infinity j", "ZADD z +inf k",
         "ZADD z -INF l", "ZADD z inf m", "ZADD z 1e308 n", "ZADD z -1e-320 o", "ZADD z 007 p",
         "ZADD z 1e309 x", "ZADD z 1e-400 x", "ZADD z nan x", "ZADD z -nan x", ("ZADD", "z", "", "x"),
         ("ZADD", "z", " 1", "x"), ("ZADD", "z", "1 ", "x"), "ZADD z 1,5 x", "ZADD z 1.5.5 x", "ZADD z abc x",
         "ZADD z 0b1 x", "ZADD z inf1 x", "ZADD z 1 y nan x", "ZADD z 1 y abc x", "EXISTS x", "ZSCORE z y",
         "ZRANGE z 0 -1 WITHSCORES", "ZCARD z"),
    case("score-formatting", "ZADD z 1.1 a 0.1 b 3 c 1e20 d 1e-5 e 123456789012345678 f 1e17 g 2.5e-310 h "
         "0.30000000000000004 i 1e15 j 1e16 k 100 l -1.5 m 1e21 n 0.000123 o 4.35 p 1234567.125 q 2e-7 r",
         "ZRANGE z 0 -1 WITHSCORES", "ZSCORE z a", "ZSCORE z b", "ZSCORE z h", "ZSCORE z o", "ZSCORE z p",
         "ZINCRBY z 0.2 b", "ZINCRBY z 1 j", "ZINCRBY z 1 k", "ZINCRBY z 1 f", "ZINCRBY z 0.1 r",
         "ZMSCORE z a b c d e f g h i j k l m n o p q r nomember", "ZRANGEBYSCORE z 1.1 1.1 WITHSCORES",
         "ZRANGEBYSCORE z (1.1 4.35 WITHSCORES", "ZCOUNT z 0.1 0.30000000000000004"),
    case("negative-zero", "ZADD z -0 a", "ZSCORE z a", "ZINCRBY nz -0 m", "ZSCORE nz m", "ZADD n2 INCR -0 m",
         "ZSCORE n2 m", "ZINCRBY z -0 a", "ZUNION 1 z WEIGHTS -1 WITHSCORES", "ZADD q 5 m",
         "ZUNION 1 q WEIGHTS -0 WITHSCORES", "ZUNION 1 q WEIGHTS 0 WITHSCORES", "ZINTER 1 q WEIGHTS -0 WITHSCORES",
         "ZRANGEBYSCORE z -0 0", "ZRANGEBYSCORE z (-0 0", "ZCOUNT z 0 0", "ZADD z -0 b 0 c", "ZRANGE z 0 -1 WITHSCORES",
         "ZUNIONSTORE d 1 q WEIGHTS -0", "ZSCORE d m", "ZRANGE d 0 -1 WITHSCORES"),
    case("zincrby", "ZINCRBY z 1 a", "ZINCRBY z 2.5 a", "ZINCRBY z -10 a", "ZINCRBY z abc a", "ZINCRBY z nan a",
         "ZINCRBY z inf a", "ZINCRBY z -inf a", "ZSCORE z a", "ZINCRBY z 1e308 b", "ZINCRBY z 1e308 b",
         "ZINCRBY z -1e308 b", "ZINCRBY z", "ZINCRBY z 1", "ZINCRBY z 1 a b", ("ZINCRBY", "z", "", "a"),
         "ZINCRBY z 0x1p3 c", "ZRANGE z 0 -1 WITHSCORES"),
    case("nan-results", "ZADD z inf a -inf b", "ZINCRBY z -inf a", "ZADD z INCR -inf a", "ZADD z INCR +inf a",
         "ZINCRBY z +inf b", "ZADD z INCR inf b", "ZADD z XX INCR -inf a", "ZADD z NX INCR -inf a",
         "ZADD z GT INCR -inf a", "ZRANGE z 0 -1 WITHSCORES", "ZUNION 2 z z WEIGHTS 1 -1 WITHSCORES",
         "ZUNION 1 z WEIGHTS 0 WITHSCORES", "ZINTER 2 z z WEIGHTS 1 -1 WITHSCORES",
         "ZUNIONSTORE d 2 z z WEIGHTS 1 -1", "ZRANGE d 0 -1 WITHSCORES"),
]

READ_CASES = [
    case("zrem", "ZADD z 1 a 2 b 3 c", "ZREM z a x", "ZREM z b b", "ZRANGE z 0 -1", "ZREM z c", "EXISTS z",
         "ZREM nokey a", "ZREM z", "ZREM", ("ZADD", "z", "1", ""), ("ZREM", "z", ""), "TYPE z"),
    case("zcard-zscore-zmscore", "ZCARD nokey", "ZSCORE nokey a", "ZMSCORE nokey a b", "ZADD z 1 a 2.5 b",
         "ZCARD z", "ZSCORE z a", "ZSCORE z b", "ZSCORE z x", "ZMSCORE z a x b a", "ZMSCORE z", "ZSCORE z",
         "ZSCORE z a b", "ZCARD", "ZCARD z x"),
    case("zrank", "ZADD z 1 a 2 b 3 c 3 d", "ZRANK z a", "ZRANK z d", "ZREVRANK z a", "ZREVRANK z d",
         "ZREVRANK z c", "ZRANK z x", "ZREVRANK z x", "ZRANK nokey a", "ZRANK z a WITHSCORE",
         "ZREVRANK z a WITHSCORE", "ZRANK z", "ZREVRANK z a b"),
    case("zcount", "ZADD z 1 a 2 b 3 c 4 d", "ZCOUNT z -inf +inf", "ZCOUNT z (1 3", "ZCOUNT z 1 (3",
         "ZCOUNT z (1 (1", "ZCOUNT z 1 1", "ZCOUNT z 3 1", "ZCOUNT z -inf (2", "ZCOUNT z (-inf (+inf",
         "ZCOUNT z (inf +inf", "ZCOUNT z 2.5 +inf", "ZCOUNT z ( +inf", ("ZCOUNT", "z", "", "+inf"),
         ("ZCOUNT", "z", " 1", "+inf"), "ZCOUNT z 0x1 3", "ZCOUNT z 1e400 +inf", "ZCOUNT z (1e400 +inf",
         "ZCOUNT z abc 1", "ZCOUNT z 1 [2", "ZCOUNT z nan 1", "ZCOUNT z ((1 2", "ZCOUNT z 1 2x",
         "ZCOUNT nokey 0 1", "ZCOUNT nokey a b", "ZCOUNT z 0", "ZCOUNT z 0 1 2"),
    case("score-range-bounds-are-c-strings", "ZADD z 0 a 1 b 2 c 3 d", ("ZCOUNT", "z", "\x00", "+inf"),
         ("ZCOUNT", "z", "1\x00abc", "+inf"), ("ZRANGEBYSCORE", "z", "(1\x00x", "5"),
         ("ZRANGE", "z", "2\x00", "+inf", "BYSCORE"), ("ZREVRANGEBYSCORE", "z", "+inf\x00", "(2\x00"),
         ("ZREMRANGEBYSCORE", "z", "3\x00", "3"), ("ZADD", "z", "1\x00", "e"), ("ZINCRBY", "z", "1\x00", "e"),
         ("ZUNION", "1", "z", "WEIGHTS", "2\x00"), ("ZRANGEBYLEX", "z", "[a\x00", "+"), "ZRANGE z 0 -1"),
    case("zlexcount", "ZADD z 0 a 0 b 0 c 0 d 0 e", "ZLEXCOUNT z - +", "ZLEXCOUNT z [b [d", "ZLEXCOUNT z (b (d",
         "ZLEXCOUNT z (b [b", "ZLEXCOUNT z [b [b", "ZLEXCOUNT z + -", "ZLEXCOUNT z [a (a", "ZLEXCOUNT z - [c",
         "ZLEXCOUNT z (c +", "ZLEXCOUNT z [ +", "ZLEXCOUNT z ( +", "ZLEXCOUNT z - (", "ZLEXCOUNT z [bb [zz",
         "ZLEXCOUNT z - -", "ZLEXCOUNT z + +", "ZLEXCOUNT z a b", "ZLEXCOUNT z [a b", ("ZLEXCOUNT", "z", "", "+"),
         "ZLEXCOUNT z -a +", "ZLEXCOUNT z +a +", "ZLEXCOUNT nokey - +", "ZLEXCOUNT nokey a b", "ZLEXCOUNT z -"),
    case("zrange-index", "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZRANGE z 0 -1", "ZRANGE z 1 3 WITHSCORES", "ZRANGE z -2 -1",
         "ZRANGE z 3 1", "ZRANGE z -100 100", f"ZRANGE z {I64_MIN} {I64_MAX}", f"ZRANGE z 0 {I64_MAX} WITHSCORES",
         f"ZRANGE z {I64_MAX} -1", "ZRANGE z 0 -1 REV", "ZRANGE z 0 1 REV WITHSCORES", "ZRANGE z 0 -1 withscores rev",
         "ZRANGE z -1 0 REV", "ZRANGE z 5 10", "ZRANGE z 4 10", "ZRANGE z -6 -5", "ZRANGE nokey 0 -1",
         "ZRANGE z 0 abc", "ZRANGE z (1 2", "ZRANGE z 0 1.5", "ZRANGE z 0 9223372036854775808"),
    case("zrange-byscore", "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZRANGE z 2 4 BYSCORE", "ZRANGE z (2 4 BYSCORE",
         "ZRANGE z -inf +inf BYSCORE WITHSCORES", "ZRANGE z 4 2 BYSCORE REV", "ZRANGE z 2 4 BYSCORE REV",
         "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2", "ZRANGE z -inf +inf BYSCORE LIMIT 1 -1",
         "ZRANGE z -inf +inf BYSCORE LIMIT 0 0", "ZRANGE z -inf +inf BYSCORE LIMIT -1 2",
         "ZRANGE z -inf +inf BYSCORE LIMIT 2 100", "ZRANGE z -inf +inf BYSCORE LIMIT 100 1",
         f"ZRANGE z -inf +inf BYSCORE LIMIT 0 {I64_MAX}", "ZRANGE z -inf +inf BYSCORE LIMIT 1 -5 WITHSCORES",
         f"ZRANGE z -inf +inf BYSCORE LIMIT {I64_MAX} 1", "ZRANGE z (3 (3 BYSCORE", "ZRANGE z 3 3 BYSCORE",
         "ZRANGE z abc 1 BYSCORE", "ZRANGE z 1 [2 BYSCORE", "ZRANGE z 1 5 byscore limit 1 2 withscores rev",
         "ZRANGE z 5 1 byscore limit 1 2 withscores rev"),
    case("zrange-bylex", "ZADD z 0 a 0 b 0 c 0 d 0 e", "ZRANGE z - + BYLEX", "ZRANGE z [b (d BYLEX",
         "ZRANGE z + - BYLEX REV", "ZRANGE z - + BYLEX REV", "ZRANGE z (d [b BYLEX REV", "ZRANGE z - + BYLEX LIMIT 1 2",
         "ZRANGE z + - BYLEX REV LIMIT 0 1", "ZRANGE z [b [b BYLEX", "ZRANGE z - + BYLEX LIMIT 1 -1",
         "ZRANGE z - + BYLEX LIMIT -1 1", "ZRANGE z a b BYLEX", "ZRANGE z 0 -1 BYLEX", "ZRANGE z [a (z bylex"),
    case("zrange-rank-limit-count-minus-one", "ZADD z 1 a 2 b 3 c", "ZRANGE z 0 -1 LIMIT -1 -1",
         "ZRANGE z 0 -1 LIMIT 0 -1", "ZRANGE z 0 -1 LIMIT 1 -1", "ZRANGE z 0 -1 REV LIMIT 5 -1 WITHSCORES",
         "ZRANGE z 0 -1 LIMIT 0 -5", "ZRANGE z 0 -1 LIMIT -1 0", "ZRANGESTORE d z 0 -1 LIMIT 2 -1",
         "ZRANGE d 0 -1", "ZRANGESTORE d z 0 -1 LIMIT 0 1", ("ZRANGE", "z", "-5", "", "REV", "LIMIT", "-1", "-1"),
         "ZRANGE z abc 1 LIMIT 0 1"),
    case("zrange-errors", "ZADD z 1 a 2 b", "ZRANGE z 0 -1 LIMIT 0 1", "ZRANGE z - + BYLEX WITHSCORES",
         "ZRANGE z 0 -1 BYSCORE BYLEX", "ZRANGE z 0 -1 BYLEX BYSCORE", "ZRANGE z 0 -1 REV REV",
         "ZRANGE z 0 -1 LIMIT 0", "ZRANGE z 0 -1 BYSCORE LIMIT a b", "ZRANGE z 0 -1 BYSCORE LIMIT 0 abc",
         "ZRANGE z 0 -1 BYSCORE LIMIT 0 1 LIMIT 0 2", "ZRANGE z 0 -1 WITHSCORES WITHSCORES",
         "ZRANGE z 0 -1 BYSCORE BYSCORE", "ZRANGE z 0 -1 FOO", "ZRANGE z 0", "ZRANGE z", "ZRANGE",
         "ZRANGE z 0 -1 LIMIT 0 1 BYSCORE", "ZRANGE z (0 1 BYLEX", "ZRANGE z 0 -1 WITHSCORES BYLEX LIMIT 0 1"),
    case("zrangestore", "ZADD z 1 a 2 b 3 c", "ZRANGESTORE d z 0 -1", "ZRANGE d 0 -1 WITHSCORES",
         "ZRANGESTORE d z 1 2 REV", "ZRANGE d 0 -1 WITHSCORES", "ZRANGESTORE d z (1 +inf BYSCORE LIMIT 0 1",
         "ZRANGE d 0 -1 WITHSCORES", "ZRANGESTORE d z 5 1", "EXISTS d", "ZRANGESTORE d z 0 0",
         "ZRANGESTORE d nokey 0 -1", "EXISTS d", "ZRANGESTORE d z 0 -1 WITHSCORES", "SET s x", "ZRANGESTORE s z 0 0",
         "TYPE s", "SET s2 x", "ZRANGESTORE d s2 0 0", "ZRANGESTORE z z 0 1", "ZRANGE z 0 -1 WITHSCORES",
         "ZRANGESTORE d z", "ZRANGESTORE d z 0 -1 LIMIT 0 1", "ZADD lex 0 p 0 q 0 r",
         "ZRANGESTORE d lex [q + BYLEX", "ZRANGE d 0 -1", "ZRANGESTORE d lex + - BYLEX REV LIMIT 0 1",
         "ZRANGE d 0 -1"),
    case("zrevrange-zrangebyscore-family", "ZADD z 1 a 2 b 2 c 3 d", "ZREVRANGE z 0 -1", "ZREVRANGE z 0 1 WITHSCORES",
         "ZREVRANGE z -2 -1", "ZREVRANGE z 0 -1 FOO", "ZREVRANGE z 0", "ZRANGEBYSCORE z 2 3",
         "ZRANGEBYSCORE z (1 +inf WITHSCORES", "ZRANGEBYSCORE z -inf +inf LIMIT 1 2", "ZRANGEBYSCORE z 3 1",
         "ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 1 1", "ZRANGEBYSCORE z -inf +inf LIMIT 1 1 WITHSCORES",
         "ZRANGEBYSCORE z -inf +inf LIMIT 1", "ZRANGEBYSCORE z -inf +inf LIMIT -1 5", "ZRANGEBYSCORE z -inf +inf FOO",
         "ZRANGEBYSCORE z 1 abc", "ZRANGEBYSCORE z ((1 5", "ZRANGEBYSCORE z nan 5", "ZREVRANGEBYSCORE z 3 1",
         "ZREVRANGEBYSCORE z 1 3", "ZREVRANGEBYSCORE z +inf (2 WITHSCORES", "ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2",
         "ZREVRANGEBYSCORE z abc 1", "ZRANGEBYSCORE z 1", "ZREVRANGEBYSCORE z"),
    case("zrangebylex-family", "ZADD z 0 a 0 b 0 c 0 d", "ZRANGEBYLEX z - +", "ZRANGEBYLEX z [b +",
         "ZRANGEBYLEX z (b (d", "ZRANGEBYLEX z - + LIMIT 1 2", "ZRANGEBYLEX z - + LIMIT 1 -1",
         "ZRANGEBYLEX z - + WITHSCORES", "ZRANGEBYLEX z a +", "ZRANGEBYLEX z - + LIMIT 1", "ZRANGEBYLEX z + -",
         "ZREVRANGEBYLEX z + -", "ZREVRANGEBYLEX z - +", "ZREVRANGEBYLEX z [c (a", "ZREVRANGEBYLEX z + - LIMIT 0 2",
         "ZREVRANGEBYLEX z + - WITHSCORES", "ZREVRANGEBYLEX z c a", "ZRANGEBYLEX nokey - +", "ZRANGEBYLEX z -",
         "ZRANGEBYLEX z [ (", "ZRANGEBYLEX z ( [", "ZRANGEBYLEX z [ [", "ZRANGEBYLEX z - + FOO"),
    case("lex-binary-order", ("ZADD", "z", "0", "a", "0", "a\x00", "0", "ab", "0", "b", "0", b"\xff", "0", "",
                              "0", "A", "0", "aa", "0", M512, "0", b"\x00"),
         "ZRANGE z 0 -1", "ZRANGEBYLEX z - +", ("ZRANGEBYLEX", "z", "[a", "(b"), ("ZRANGEBYLEX", "z", "(a", "[a\x00"),
         ("ZRANGEBYLEX", "z", "[\xff", "+"), ("ZRANGEBYLEX", "z", "[", "(a"), ("ZRANGEBYLEX", "z", "(", "[\x00"),
         ("ZLEXCOUNT", "z", "[x", "+"), ("ZRANGEBYLEX", "z", b"[" + M511, b"[" + M1000), "ZREVRANGEBYLEX z + - LIMIT 0 3",
         ("ZREMRANGEBYLEX", "z", "[a", "[ab"), "ZRANGE z 0 -1"),
    case("equal-scores-member-order", "ZADD z 1 b 1 a 1 c 0 z 2 y 1 aa 1 B", "ZRANGE z 0 -1 WITHSCORES",
         "ZREVRANGE z 0 -1", "ZRANGEBYSCORE z 1 1", "ZREVRANGEBYSCORE z 1 1", "ZRANK z aa", "ZREVRANK z aa",
         "ZPOPMIN z 2", "ZPOPMAX z 2", "ZRANGE z 0 -1"),
]

WRITE_CASES = [
    case("zremrangebyrank", "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYRANK z 0 0", "ZRANGE z 0 -1",
         "ZREMRANGEBYRANK z -1 -1", "ZREMRANGEBYRANK z 5 10", "ZREMRANGEBYRANK z 2 1", "ZRANGE z 0 -1",
         "ZREMRANGEBYRANK z -100 100", "EXISTS z", "ZREMRANGEBYRANK nokey 0 -1", "ZREMRANGEBYRANK z a b",
         "ZADD z 1 a", f"ZREMRANGEBYRANK z {I64_MIN} {I64_MAX}", "ZREMRANGEBYRANK z 0", "ZREMRANGEBYRANK z 0 1.5"),
    case("zremrangebyscore", "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYSCORE z (1 2", "ZRANGE z 0 -1",
         "ZREMRANGEBYSCORE z 4 +inf", "ZREMRANGEBYSCORE z 5 1", "ZREMRANGEBYSCORE z abc 1", "ZREMRANGEBYSCORE z [1 2",
         "ZRANGE z 0 -1", "ZREMRANGEBYSCORE z -inf +inf", "EXISTS z", "ZREMRANGEBYSCORE nokey -inf +inf",
         "ZREMRANGEBYSCORE z 0"),
    case("zremrangebylex", "ZADD z 0 a 0 b 0 c 0 d 0 e", "ZREMRANGEBYLEX z [a (c", "ZRANGE z 0 -1",
         "ZREMRANGEBYLEX z (d +", "ZREMRANGEBYLEX z + -", "ZREMRANGEBYLEX z a b", "ZRANGE z 0 -1",
         "ZREMRANGEBYLEX z - +", "EXISTS z", "ZREMRANGEBYLEX nokey - +", "ZREMRANGEBYLEX nokey x y",
         "ZREMRANGEBYLEX z -"),
    case("zpopmin-zpopmax", "ZPOPMIN nokey", "ZPOPMIN nokey 2", "ZPOPMAX nokey 0", "ZADD z 1 a 2 b 3 c 4 d 5 e",
         "ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN z 0", "ZPOPMIN z -1", "ZPOPMAX z -1", "ZPOPMIN z abc", "ZPOPMIN z 1",
         "ZPOPMAX z 2", "EXISTS z", "ZADD z 1 a 2 b", f"ZPOPMIN z {I64_MAX}", "EXISTS z", "ZPOPMIN z 1 2", "ZPOPMIN",
         "ZADD z 1.5 a", "ZPOPMAX z 9223372036854775808", "ZPOPMAX z 1.5", "ZCARD z"),
    case("zmpop", "ZADD a 1 x 2 y 3 z", "ZADD b 0.5 p", "ZMPOP 2 nokey a MIN", "ZMPOP 2 a b MAX COUNT 10",
         "ZMPOP 1 b MIN COUNT 1", "EXISTS a b", "ZADD a 1 x 2 y", "ZMPOP 3 nokey b a max count 1",
         "ZMPOP 1 a MIN COUNT 9223372036854775807", "ZMPOP 1 a MIN", "ZMPOP 2 a b MAX"),
    case("zmpop-errors", "ZADD a 1 x", "ZMPOP 0 a MIN", "ZMPOP -1 a MIN", "ZMPOP abc a MIN", "ZMPOP 2 a MIN",
         "ZMPOP 1 a MIDDLE", "ZMPOP 1 a LEFT", "ZMPOP 1 a min", "ZMPOP 1 a MIN COUNT 0", "ZMPOP 1 a MIN COUNT -1",
         "ZMPOP 1 a MIN COUNT abc", "ZMPOP 1 a MIN COUNT", "ZMPOP 1 a MIN COUNT 1 COUNT 2", "ZMPOP 1 a MIN FOO",
         "ZMPOP 1 a", f"ZMPOP {I64_MAX} a MIN", "ZMPOP", "ZMPOP 1", "SET s x", "ZMPOP 2 s a MIN", "ZMPOP 2 nokey s MAX",
         "ZCARD a"),
    case("zrandmember", "ZRANDMEMBER nokey", "ZRANDMEMBER nokey 5", "ZRANDMEMBER nokey -5 WITHSCORES",
         "ZADD z 1 a 2.5 b 3 c 1e20 d", "ZRANDMEMBER z", "ZRANDMEMBER z 2", "ZRANDMEMBER z -5", "ZRANDMEMBER z 10",
         f"ZRANDMEMBER z {I64_MAX}", f"ZRANDMEMBER z {I64_MAX} WITHSCORES",
         "ZRANDMEMBER z 4611686018427387904 WITHSCORES", "ZRANDMEMBER z 4611686018427387903 WITHSCORES",
         "ZRANDMEMBER z 0", "ZRANDMEMBER z 0 WITHSCORES", "ZRANDMEMBER z 3 WITHSCORES",
         "ZRANDMEMBER z -7 WITHSCORES", "ZRANDMEMBER z 4 withscores", "ZRANDMEMBER z 1 WITHSCORES FOO",
         "ZRANDMEMBER z 1 FOO", "ZRANDMEMBER z abc", "ZRANDMEMBER z 1.5", f"ZRANDMEMBER z {I64_MIN}",
         "SET s x", "ZRANDMEMBER s", "ZRANDMEMBER s 1", "ZRANDMEMBER", "ZRANDMEMBER z 1 WITHSCORES x"),
    case("zrandmember-big", BIG, "ZRANDMEMBER big 150", "ZRANDMEMBER big 199 WITHSCORES", "ZRANDMEMBER big 200",
         "ZRANDMEMBER big 250 WITHSCORES", "ZRANDMEMBER big -300", "ZRANDMEMBER big -3 WITHSCORES", "ZRANDMEMBER big 5",
         "ZRANDMEMBER big", BIG_LONG, "ZRANDMEMBER bl 100 WITHSCORES", "ZRANDMEMBER bl -20"),
]

SETOP_CASES = [
    case("zunion-zinter-zdiff", "ZADD a 1 x 2 y 3 z", "ZADD b 10 y 20 z 30 w", "ZUNION 2 a b", "ZUNION 2 a b WITHSCORES",
         "ZINTER 2 a b WITHSCORES", "ZDIFF 2 a b WITHSCORES", "ZDIFF 2 b a", "ZUNION 2 a b WEIGHTS 2 -1 WITHSCORES",
         "ZINTER 2 a b WEIGHTS 0.5 2 AGGREGATE MAX WITHSCORES", "ZUNION 2 a b AGGREGATE MIN WITHSCORES",
         "ZUNION 2 a b aggregate max withscores weights 1 1", "ZINTER 2 a b AGGREGATE SUM", "ZUNION 1 a",
         "ZINTER 1 a WITHSCORES", "ZDIFF 1 a WITHSCORES", "ZUNION 3 a b nokey WITHSCORES", "ZINTER 3 a b nokey",
         "ZDIFF 2 nokey a", "ZDIFF 3 a nokey b WITHSCORES", "ZUNION 2 a a WITHSCORES", "ZINTER 2 a a WITHSCORES",
         "ZDIFF 2 a a"),
    case("setop-stores", "ZADD a 1 x 2 y 3 z", "ZADD b 10 y 20 z 30 w", "ZUNIONSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES",
         "ZINTERSTORE d 2 a b WEIGHTS 1 0", "ZRANGE d 0 -1 WITHSCORES", "ZDIFFSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES",
         "ZINTERSTORE d 2 a nokey", "EXISTS d", "ZADD d 1 q", "ZDIFFSTORE d 2 a a", "EXISTS d", "SET s x",
         "ZUNIONSTORE s 1 a", "TYPE s", "ZUNIONSTORE a 2 a b", "ZRANGE a 0 -1 WITHSCORES", "ZINTERSTORE b 2 b b",
         "ZRANGE b 0 -1 WITHSCORES", "ZDIFFSTORE b 2 b a", "ZRANGE b 0 -1 WITHSCORES",
         "ZUNIONSTORE d 2 nokey nokey2", "EXISTS d", "ZUNIONSTORE d 1 a WITHSCORES", "ZINTERSTORE d 1 a WITHSCORES",
         "ZDIFFSTORE d 1 a WITHSCORES", "ZDIFFSTORE d 1 a WEIGHTS 1", "ZDIFFSTORE d 1 a AGGREGATE MIN"),
    case("setop-with-sets", "ZADD z 1 x inf y -inf w", "SADD st x y q", "ZUNION 2 z st WITHSCORES",
         "ZINTER 2 z st WITHSCORES", "ZDIFF 2 st z WITHSCORES", "ZUNION 1 st WEIGHTS 2.5 WITHSCORES",
         "ZUNIONSTORE d 2 st z AGGREGATE MAX", "ZRANGE d 0 -1 WITHSCORES", "ZINTERCARD 2 z st", "ZDIFFSTORE d 1 st",
         "ZRANGE d 0 -1 WITHSCORES", "TYPE st", "ZRANGE st 0 -1", "ZCARD st", "ZSCORE st x"),
    case("setop-wrongtype", "ZADD z 1 x", "SET s v", "HSET h f v", "RPUSH l a", "ZUNION 2 z s", "ZUNION 2 z h",
         "ZINTER 2 nokey l", "ZINTER 2 h nokey", "ZDIFF 2 nokey h", "ZDIFF 2 z l", "ZUNIONSTORE d 2 z s", "EXISTS d",
         "ZINTERCARD 2 nokey s", "ZINTERSTORE d 2 z l", "ZDIFFSTORE s 1 z", "TYPE s"),
    case("setop-argument-errors", "ZADD z 1 x", "ZUNION 0 z", "ZUNIONSTORE d 0 z", "ZINTER -1 z",
         "ZINTERSTORE d -1 z", "ZDIFF 0 z", "ZDIFFSTORE d 0 z", "ZUNION 2 z", "ZUNION abc z", "ZUNION 1.5 z",
         f"ZUNION {I64_MAX} z", "ZUNION 1 z WEIGHTS abc", "ZUNION 1 z WEIGHTS nan", "ZUNION 1 z WEIGHTS 1 2",
         "ZUNION 1 z WEIGHTS", "ZUNION 1 z AGGREGATE FOO", "ZUNION 1 z AGGREGATE", "ZUNION 1 z FOO",
         "ZUNION 1 z WITHSCORES WITHSCORES", "ZUNION 1 z WEIGHTS 1 WEIGHTS 2 WITHSCORES",
         "ZUNION 1 z AGGREGATE MIN AGGREGATE MAX WITHSCORES", "ZDIFF 1 z WEIGHTS 1", "ZDIFF 1 z AGGREGATE SUM",
         "ZINTER 2 z z WEIGHTS 1", "ZUNIONSTORE d", "ZUNION", "ZINTER 1", "ZDIFF", "ZUNION 1 z WEIGHTS inf WITHSCORES",
         "ZUNION 1 z WEIGHTS 1e400 WITHSCORES", "EXISTS d"),
    case("setop-aggregate-order", "ZADD a 0.1 x 1 p 1 q", "ZADD b 0.2 x", "ZADD c 0.3 x", "ZUNION 3 a b c WITHSCORES",
         "ZUNION 3 c b a WITHSCORES", "ZINTER 3 a b c WITHSCORES", "ZUNIONSTORE d 3 a b c", "ZSCORE d x",
         "ZADD a2 0.1 x", "ZADD b2 0.2 x 1 p 1 q", "ZADD c2 0.3 x 1 p", "ZUNION 3 a2 b2 c2 WITHSCORES",
         "ZUNION 3 c2 a2 b2 WITHSCORES", "ZINTER 3 c2 a2 b2 WITHSCORES", "ZUNION 3 b c a WITHSCORES",
         "ZUNION 3 c b a WEIGHTS 1 1 1 WITHSCORES", "ZUNION 3 a b c WEIGHTS 3 2 1 WITHSCORES"),
    case("zintercard", "ZADD a 1 x 2 y 3 z", "ZADD b 1 y 2 z 3 w", "ZINTERCARD 2 a b", "ZINTERCARD 2 a b LIMIT 1",
         "ZINTERCARD 2 a b LIMIT 0", "ZINTERCARD 1 a", "ZINTERCARD 2 a nokey", "ZINTERCARD 0 a",
         "ZINTERCARD 1 a LIMIT -1", "ZINTERCARD 1 a LIMIT abc", "ZINTERCARD 2 a", "ZINTERCARD 1 a FOO",
         "ZINTERCARD 1 a LIMIT", f"ZINTERCARD 1 a LIMIT {I64_MAX}", "ZINTERCARD 1 a LIMIT 1 LIMIT 2",
         "ZINTERCARD -1 a", "ZINTERCARD abc a", "ZINTERCARD", "ZINTERCARD 1", "SADD st x y", "ZINTERCARD 2 a st"),
    case("zscan", "ZSCAN nokey 0", "ZADD z 1 a 2.5 b 1e20 c", "ZSCAN z 0", "ZSCAN z 0 MATCH a*", "ZSCAN z 0 COUNT 1",
         "ZSCAN z 0 COUNT 0", "ZSCAN z 0 MATCH", "ZSCAN z 0 NOVALUES", "ZSCAN z abc", "ZSCAN z 0 FOO bar", "ZSCAN z",
         "SET s x", "ZSCAN s 0", BIG, "ZSCAN big 0", "ZSCAN big 0 COUNT 7", "ZSCAN big 0 MATCH m1?? COUNT 3",
         "ZSCAN big 0 MATCH nothing*", BIG_LONG, "ZSCAN bl 0 COUNT 20", ("ZSCAN", "bl", "0", "MATCH", "01*")),
]

ELEMENT_CASES = [
    case("members-empty-binary-long", ("ZADD", "z", "1", "", "2", BIN, "3", M511, "4", M512, "5", M1000),
         "ZCARD z", "ZRANGE z 0 -1 WITHSCORES", ("ZSCORE", "z", ""), ("ZSCORE", "z", M512), ("ZRANK", "z", M1000),
         ("ZMSCORE", "z", M511, M512, b"x" * 510), ("ZINCRBY", "z", "10", M512), ("ZREVRANK", "z", M512),
         ("ZREM", "z", M511), ("ZADD", "z", "XX", "CH", "0", M1000), "ZRANGE z 0 -1", "ZPOPMAX z",
         ("ZADD", "z", "INCR", "1", M512 + b"!"), "ZRANGEBYSCORE z 1 (5", "ZSCAN z 0"),
    case("many-long-members", BIG_LONG, "ZCARD bl", "ZRANGE bl 0 4", "ZRANGE bl -3 -1 WITHSCORES",
         ("ZSCORE", "bl", b"007" + M512), ("ZRANK", "bl", b"149" + M512), "ZCOUNT bl 1 2", "ZREMRANGEBYSCORE bl 4 4",
         "ZREMRANGEBYRANK bl 0 99", "ZCARD bl", "ZRANGE bl 0 -1 WITHSCORES", "ZPOPMIN bl 3", "ZCARD bl"),
    case("big-zset", BIG, "ZCARD big", "ZRANGE big 0 9 WITHSCORES", "ZRANGE big 100 105", "ZRANK big m050",
         "ZREVRANK big m050", "ZCOUNT big 3 (5", "ZRANGEBYSCORE big (15 +inf WITHSCORES LIMIT 2 5",
         "ZREMRANGEBYRANK big 10 189", "ZRANGE big 0 -1 WITHSCORES", "ZUNIONSTORE d 2 big big WEIGHTS 1 2",
         "ZRANGE d 0 -1 WITHSCORES", "ZINTER 2 big d WITHSCORES"),
]

WRONGTYPE_CASES = [
    case("zset-commands-on-string", "SET s x", "ZADD s 1 a", "ZINCRBY s 1 a", "ZREM s a", "ZCARD s", "ZSCORE s a",
         "ZMSCORE s a", "ZRANK s a", "ZREVRANK s a", "ZCOUNT s 0 1", "ZLEXCOUNT s - +", "ZRANGE s 0 -1",
         "ZRANGESTORE d s 0 -1", "ZREVRANGE s 0 -1", "ZRANGEBYSCORE s 0 1", "ZREVRANGEBYSCORE s 1 0",
         "ZRANGEBYLEX s - +", "ZREVRANGEBYLEX s + -", "ZREMRANGEBYRANK s 0 1", "ZREMRANGEBYSCORE s 0 1",
         "ZREMRANGEBYLEX s - +", "ZPOPMIN s", "ZPOPMAX s 2", "ZMPOP 1 s MIN", "ZUNION 1 s", "ZINTERCARD 1 s",
         "ZSCAN s 0", "BZPOPMIN s 0", "BZPOPMAX s 0", "BZMPOP 0 1 s MIN", "GET s", "EXISTS d"),
    case("string-commands-on-zset", "ZADD z 1 a", "GET z", "INCR z", "APPEND z x", "STRLEN z", "GETRANGE z 0 -1",
         "SETRANGE z 0 x", "GETDEL z", "MGET z nokey", "SETNX z x", "LPUSH z a", "HSET z f v", "SADD z m",
         "ZRANGE z 0 -1", "SET z v", "TYPE z"),
    case("zset-error-order", "SET s x", "ZRANGE s a b", "ZRANGE s 0 -1 LIMIT 0 1", "ZRANGEBYSCORE s abc 1",
         "ZRANGEBYLEX s a b", "ZCOUNT s abc 1", "ZLEXCOUNT s a b", "ZADD s NX XX 1 a", "ZADD s abc a",
         "ZINCRBY s abc a", "ZPOPMIN s -1", "ZPOPMIN s abc", "ZREMRANGEBYRANK s a b", "ZRANDMEMBER s abc",
         "ZMPOP 0 s MIN", "ZSCAN s abc"),
]

KEYSPACE_CASES = [
    case("zset-keyspace", "ZADD z 1 a 2 b", "TYPE z", "EXPIRE z 1000", "TTL z", "ZADD z 3 c", "ZREM z a", "TTL z",
         "PERSIST z", "RENAME z y", "ZRANGE y 0 -1 WITHSCORES", "COPY y x", "ZADD x 9 q", "ZCARD y", "ZCARD x",
         "COPY y x", "COPY y x REPLACE", "ZCARD x", "MOVE y 1", "SELECT 1", "ZRANGE y 0 -1", "COPY y y DB 0",
         "SELECT 0", "ZRANGE y 0 -1 WITHSCORES", "DEL x y", "DBSIZE"),
    case("zset-emptied-is-gone", "ZADD z 1 a", "ZREM z a", "TYPE z", "ZADD z 1 a", "ZPOPMIN z", "EXISTS z",
         "ZADD z 1 a", "ZREMRANGEBYSCORE z -inf +inf", "EXISTS z", "ZADD z 1 a", "ZMPOP 1 z MAX", "EXISTS z",
         "ZADD z 1 a", "BZPOPMAX z 0", "EXISTS z", "ZADD z 1 a", "EXPIRE z 1000", "ZREM z a", "ZADD z 2 b",
         "TTL z", "DBSIZE"),
    case("scan-type-zset", "ZADD z1 1 a", "ZADD z2 1 b", "SET s x", "RPUSH l a", "SADD st m", "SCAN 0 TYPE zset",
         "SCAN 0 TYPE ZSET", "SCAN 0 TYPE string", "SCAN 0 MATCH z1 TYPE zset", "SCAN 0 TYPE sortedset", "KEYS *"),
]

BLOCKING_NONBLOCKING_CASES = [
    case("bzpop-with-data", "ZADD z 1 a 2 b 3 c", "BZPOPMIN z 0", "BZPOPMAX z 0.5", "ZADD y 5 q", "BZPOPMIN nokey y z 0",
         "BZPOPMAX z y 1", "ZADD z 7 r", "BZMPOP 0 2 nokey z MIN", "ZADD z 1 a 2 b 3 c", "BZMPOP 1 1 z MAX COUNT 2",
         "BZMPOP 0 1 z MIN COUNT 5", "EXISTS z y"),
    case("bzpop-argument-errors", "ZADD z 1 a", "BZPOPMIN z -1", "BZPOPMIN z abc", ("BZPOPMIN", "z", ""),
         "BZPOPMAX z -0.5", "BZPOPMIN z", "BZPOPMIN", "BZMPOP -1 1 z MIN", "BZMPOP abc 1 z MIN", "BZMPOP 0 0 z MIN",
         "BZMPOP 0 1 z MIDDLE", "BZMPOP 0 1 z MIN COUNT 0", "BZMPOP 0 2 z MIN", "BZMPOP 0 1 z", "BZMPOP 0",
         "BZMPOP -1 0 z MIN", "SET s x", "BZPOPMIN s 0", "BZPOPMIN nokey s 0", "BZMPOP 0 2 nokey s MIN", "ZCARD z"),
]

ARITY_CASES = [
    case("zset-arity-errors", "ZADD z 1", "ZINCRBY z 1", "ZREM z", "ZCARD", "ZSCORE z", "ZMSCORE z", "ZRANK z",
         "ZREVRANK z", "ZCOUNT z 0", "ZLEXCOUNT z -", "ZRANGE z 0", "ZRANGESTORE d z 0", "ZREVRANGE z 0",
         "ZRANGEBYSCORE z 0", "ZREVRANGEBYSCORE z 0", "ZRANGEBYLEX z -", "ZREVRANGEBYLEX z +",
         "ZREMRANGEBYRANK z 0", "ZREMRANGEBYSCORE z 0", "ZREMRANGEBYLEX z -", "ZPOPMIN", "ZPOPMAX", "ZMPOP 1 z",
         "ZRANDMEMBER", "ZUNION 1", "ZINTER", "ZDIFF 1", "ZUNIONSTORE d 1", "ZINTERSTORE d", "ZDIFFSTORE d 1",
         "ZINTERCARD 1", "ZSCAN z", "BZPOPMIN z", "BZPOPMAX", "BZMPOP 0 1 z", "zRaNgE z 0"),
]

FIXED_CASES = (ZADD_CASES + READ_CASES + WRITE_CASES + SETOP_CASES + ELEMENT_CASES + WRONGTYPE_CASES
               + KEYSPACE_CASES + BLOCKING_NONBLOCKING_CASES + ARITY_CASES)


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("commands", FIXED_CASES)
def test_fixed(redis_ref, subject, commands, resp):
    differ = ZsetDiffer(redis_ref, subject, resp=resp)
    try:
        differ.reset_for_case()
        check_case(differ, commands, f"RESP{resp}: ")
    finally:
        differ.close()


# ----------------------------------------------------------------------------
# Randomized sequence

LEX_KEY = b"zl"  # only ever written with score 0; the one key lex ranges go to
ZSET_KEYS = [b"z1", b"z2", b"z3", b"z1", b"z2", b"", b"s", b"st"]
MEMBERS = ["a", "b", "c", "d", "e", "f", "g", "a", "b", "c", "", "a\x00", "ab", b"\xff", "10", "2"]
LONG_MEMBERS = [b"m" * 70, M511, M512]
SCORES = [str(i) for i in range(-3, 11)] + ["0.5", "1.5", "-2.5", "0.25", "7.75", "1e3"]  # no -0: see above
ODD_SCORES = ["inf", "-inf", "+inf", "1.1", "0.1", "3.3", "1e20", "123456789.123", "2.5e-5"]
BAD_SCORES = ["nan", "abc", "", "1e400", " 1", "1.5.5", "(1"]
BOUNDS = ["-inf", "+inf", "inf", "0", "1", "2", "3", "5", "7", "10", "-1", "1.5", "(1", "(2", "(3", "(5", "(0",
          "(-inf", "(+inf", "(1.5"]
BAD_BOUNDS = ["abc", "[1", "nan", "((1", "1x"]
LEX_BOUNDS = ["-", "+", "[a", "(a", "[b", "(b", "[c", "(c", "[e", "(f", "[", "(", "[ab", "(ab", "[a\x00", "[zz"]
BAD_LEX_BOUNDS = ["a", "", "-a", "+x", "{a"]
ZPATTERNS = ["*", "a*", "?", "*b*", "m*", "[ab]", "", "\\a"]


class ZsetCommands(TypedRandomCommands):
    """Sorted sets over a small key pool, incl. the empty key, a string key `s`,
    a set `st` (ZUNION and friends read sets) and the equal-score key `zl`."""

    KEYS = ZSET_KEYS
    STRING_KEY = b"s"
    SCAN_TYPES = ["zset", "ZSET", "string", "set", "foo"]
    # ZRANDMEMBER: a mutated count could be huge and negative (Redis would build
    # that many elements); ZSCAN: a junk cursor is valid, with server-specific
    # results; the stores: a junk weight could store a -0 score (see above).
    NO_MUTATE = {"SCAN", "SELECT", "ZRANDMEMBER", "ZSCAN", "ZUNIONSTORE", "ZINTERSTORE"}
    JUNK = [j for j in JUNK if j != "-0"]

    WEIGHTS = [
        ("ZADD", 16), ("ZADD_LEX", 3), ("ZADD_BULK", 0.15), ("ZINCRBY", 3), ("ZREM", 3), ("ZCARD", 2),
        ("ZSCORE", 3), ("ZMSCORE", 2), ("ZRANK", 2), ("ZREVRANK", 1.5), ("ZCOUNT", 2), ("ZLEXCOUNT", 2),
        ("ZRANGE", 6), ("ZRANGE_BYSCORE", 4), ("ZRANGE_BYLEX", 3), ("ZRANGESTORE", 1.5), ("ZREVRANGE", 2),
        ("ZRANGEBYSCORE", 3), ("ZREVRANGEBYSCORE", 2), ("ZRANGEBYLEX", 2), ("ZREVRANGEBYLEX", 2),
        ("ZREMRANGEBYRANK", 1), ("ZREMRANGEBYSCORE", 1), ("ZREMRANGEBYLEX", 0.7), ("ZPOPMIN", 1.5), ("ZPOPMAX", 1.5),
        ("ZMPOP", 1.5), ("ZRANDMEMBER", 2), ("ZSETOP", 5), ("ZSETOPSTORE", 2), ("ZINTERCARD", 1.5), ("ZSCAN", 1.5),
        ("BZPOPMIN", 0.7), ("BZPOPMAX", 0.7), ("BZMPOP", 0.7), ("BLOCKING_ERROR", 0.3), ("SADD", 0.7),
        ("SET", 0.7), ("GET", 0.7), ("DEL", 1), ("EXISTS", 0.7), ("TYPE", 1), ("EXPIRE", 0.7), ("TTL", 0.7),
        ("PERSIST", 0.3), ("RENAME", 0.8), ("RENAMENX", 0.3), ("COPY", 0.8), ("MOVE", 0.5), ("SELECT", 1.2),
        ("DBSIZE", 0.3), ("FLUSHDB", 0.05), ("SCAN", 0.7),
    ]

    # -- argument pools

    def read_key(self):
        """A key to read from (or to pop from): the general pool, or the lex key."""
        return LEX_KEY if self.r.random() < 0.15 else self.key()

    def lex(self, cmd):
        """A lex-range command as a 1-command sequence: never mutated (a junk key
        could name a set with mixed scores), but its name's case may change."""
        if self.r.random() < 0.1:
            cmd[0] = cmd[0].lower()
        return (cmd,)

    def lex_key(self):
        """The lex key, or a key nothing writes (any other key may hold mixed scores;
        WRONGTYPE for the lex commands is in the fixed cases)."""
        return LEX_KEY if self.r.random() < 0.92 else b"nokey"

    def member(self):
        x = self.r.random()
        if x < 0.93:
            return self.r.choice(MEMBERS)
        return self.r.choice(LONG_MEMBERS)

    def score(self):
        x = self.r.random()
        if x < 0.85:
            return self.r.choice(SCORES)
        return self.r.choice(ODD_SCORES if x < 0.96 else BAD_SCORES)

    def bound(self):
        return self.r.choice(BOUNDS) if self.r.random() < 0.95 else self.r.choice(BAD_BOUNDS)

    def lex_bound(self):
        return self.r.choice(LEX_BOUNDS) if self.r.random() < 0.95 else self.r.choice(BAD_LEX_BOUNDS)

    def index(self):
        x = self.r.random()
        if x < 0.85:
            return str(self.r.randint(-8, 8))
        if x < 0.95:
            return self.r.choice([I64_MAX, I64_MIN, "100", "-100"])
        return self.r.choice(["abc", "", "1.5", "(1"])

    def index_range(self):
        """(start, stop): mostly a non-empty-looking range, sometimes anything."""
        if self.r.random() < 0.35:
            return self.index(), self.index()
        start = self.r.randint(-6, 4)
        stop = self.r.choice([-1, start + self.r.randint(0, 6), self.r.randint(-3, -1)])
        return str(start), str(stop)

    def ordered(self, a, b, key, rev):
        """a and b in increasing order by key (decreasing with rev), most of the time."""
        if self.r.random() < 0.3:
            return a, b
        a, b = sorted((a, b), key=key)
        return (b, a) if rev else (a, b)

    def bound_range(self, rev=False):
        def value(bound):
            try:
                return float(bound.lstrip("("))
            except ValueError:
                return 0.0
        return self.ordered(self.bound(), self.bound(), value, rev)

    def lex_range(self, rev=False):
        def value(bound):
            return (0, "") if bound == "-" else (2, "") if bound == "+" else (1, bound[1:])
        return self.ordered(self.lex_bound(), self.lex_bound(), value, rev)

    def limit(self):
        return [self.word("LIMIT"), self.r.choice(["0", "0", "1", "2", "5", "-1"]),
                self.r.choice(["-1", "0", "1", "2", "3", "10", I64_MAX])]

    def count(self):
        x = self.r.random()
        if x < 0.85:
            return self.r.choice(["0", "1", "1", "2", "3", "5", "10"])
        return self.r.choice([I64_MAX, "-1", "abc", "1.5"])

    def pairs(self, lo=1, hi=4):
        return [x for _ in range(self.r.randint(lo, hi)) for x in (self.score(), self.member())]

    # -- writes

    def gen_zadd(self):
        opts = [self.word(self.r.choice(["NX", "XX", "GT", "LT", "CH", "CH", "INCR"]))
                for _ in range(self.r.choice([0, 0, 0, 1, 1, 2]))]
        pairs = self.pairs(1, 1) if "INCR" in [o.upper() for o in opts] and self.r.random() < 0.8 else self.pairs(1, 6)
        return ["ZADD", self.key()] + opts + pairs

    # Writes to the lex key come as 1-command sequences (tuples): never mutated,
    # so its scores stay 0.

    def gen_zadd_lex(self):
        opts = [self.r.choice(["NX", "XX", "CH"])] if self.r.random() < 0.3 else []
        zero = self.r.choice(["0", "0", "0", "0.0"])
        return (["ZADD", LEX_KEY] + opts + [x for _ in range(self.r.randint(1, 4)) for x in (zero, self.member())],)

    def gen_zadd_bulk(self):
        """Enough members for Redis' skiplist encoding (> 128), which ZSCAN and
        ZRANDMEMBER walk differently."""
        n = self.r.randint(129, 160)
        if self.r.random() < 0.3:
            return (["ZADD", LEX_KEY] + [x for i in range(n) for x in ("0", f"n{i:03d}")],)
        return ["ZADD", self.key()] + [x for i in range(n) for x in (str(i % 9), f"n{i:03d}")]

    def gen_zincrby(self):
        if self.r.random() < 0.1:
            return (["ZINCRBY", LEX_KEY, "0", self.member()],)
        return ["ZINCRBY", self.key(), self.score(), self.member()]

    def gen_zrem(self):
        return ["ZREM", self.read_key()] + [self.member() for _ in range(self.r.randint(1, 3))]

    def gen_sadd(self):
        return ["SADD", b"st" if self.r.random() < 0.8 else self.key()] + [self.member() for _ in range(2)]

    # -- reads

    def gen_zcard(self):
        return ["ZCARD", self.read_key()]

    def gen_zscore(self):
        return ["ZSCORE", self.read_key(), self.member()]

    def gen_zmscore(self):
        return ["ZMSCORE", self.read_key()] + [self.member() for _ in range(self.r.randint(1, 4))]

    def gen_zrank(self):
        return ["ZRANK", self.read_key(), self.member()]

    def gen_zrevrank(self):
        return ["ZREVRANK", self.read_key(), self.member()]

    def gen_zcount(self):
        return ["ZCOUNT", self.read_key(), *self.bound_range()]

    def gen_zlexcount(self):
        return self.lex(["ZLEXCOUNT", self.lex_key(), *self.lex_range()])

    def withscores(self, p=0.4):
        return [self.word("WITHSCORES")] if self.r.random() < p else []

    def gen_zrange(self):
        cmd = ["ZRANGE", self.read_key(), *self.index_range()]
        if self.r.random() < 0.3:
            cmd.append(self.word("REV"))
        if self.r.random() < 0.03:
            cmd += self.limit()  # an error without BYSCORE / BYLEX
        return cmd + self.withscores()

    def gen_zrange_byscore(self):
        options = [[self.word("BYSCORE")]]
        rev = self.r.random() < 0.4
        if rev:
            options.append([self.word("REV")])
        if self.r.random() < 0.4:
            options.append(self.limit())
        options.append(self.withscores())
        if self.r.random() < 0.3:
            self.r.shuffle(options)  # the options come in any order
        return ["ZRANGE", self.read_key(), *self.bound_range(rev)] + [x for opt in options for x in opt]

    def gen_zrange_bylex(self):
        rev = self.r.random() < 0.4
        cmd = ["ZRANGE", self.lex_key(), *self.lex_range(rev), self.word("BYLEX")] + (["REV"] if rev else [])
        if self.r.random() < 0.4:
            cmd += self.limit()
        return self.lex(cmd + self.withscores(0.05))  # WITHSCORES: an error with BYLEX

    def gen_zrangestore(self):
        kind, rev = self.r.random(), self.r.random() < 0.3
        if kind < 0.4:
            cmd = ["ZRANGESTORE", self.key(), self.read_key(), *self.index_range()]
        elif kind < 0.75:
            cmd = ["ZRANGESTORE", self.key(), self.read_key(), *self.bound_range(rev), "BYSCORE"]
        else:
            cmd = ["ZRANGESTORE", self.key(), self.lex_key(), *self.lex_range(rev), "BYLEX"]
        if rev:
            cmd.append("REV")
        if len(cmd) > 5 and self.r.random() < 0.4:
            cmd += self.limit()
        cmd += self.withscores(0.05)  # an error with ZRANGESTORE
        return self.lex(cmd) if "BYLEX" in cmd else cmd

    def gen_zrevrange(self):
        return ["ZREVRANGE", self.read_key(), *self.index_range()] + self.withscores()

    def gen_zrangebyscore(self):
        cmd = ["ZRANGEBYSCORE", self.read_key(), *self.bound_range()] + self.withscores()
        return cmd + (self.limit() if self.r.random() < 0.4 else [])

    def gen_zrevrangebyscore(self):
        cmd = ["ZREVRANGEBYSCORE", self.read_key(), *self.bound_range(rev=True)] + self.withscores()
        return cmd + (self.limit() if self.r.random() < 0.4 else [])

    def gen_zrangebylex(self):
        cmd = ["ZRANGEBYLEX", self.lex_key(), *self.lex_range()]
        return self.lex(cmd + (self.limit() if self.r.random() < 0.4 else []))

    def gen_zrevrangebylex(self):
        cmd = ["ZREVRANGEBYLEX", self.lex_key(), *self.lex_range(rev=True)]
        return self.lex(cmd + (self.limit() if self.r.random() < 0.4 else []))

    def gen_zremrangebyrank(self):
        return ["ZREMRANGEBYRANK", self.read_key(), *self.index_range()]

    def gen_zremrangebyscore(self):
        return ["ZREMRANGEBYSCORE", self.read_key(), *self.bound_range()]

    def gen_zremrangebylex(self):
        return self.lex(["ZREMRANGEBYLEX", self.lex_key(), *self.lex_range()])

    def gen_zpopmin(self):
        return ["ZPOPMIN", self.read_key()] + ([self.count()] if self.r.random() < 0.5 else [])

    def gen_zpopmax(self):
        return ["ZPOPMAX", self.read_key()] + ([self.count()] if self.r.random() < 0.5 else [])

    def zmpop_args(self):
        keys = [self.read_key() for _ in range(self.r.randint(1, 3))]
        numkeys = str(len(keys)) if self.r.random() < 0.9 else self.r.choice(["0", "-1", str(len(keys) + 1), "abc"])
        where = self.r.choice(["MIN", "MAX", "min", "Max"]) if self.r.random() < 0.97 else "LEFT"
        cmd = [numkeys] + keys + [where]
        if self.r.random() < 0.5:
            cmd += [self.word("COUNT"), self.count()]
        return cmd

    def gen_zmpop(self):
        return ["ZMPOP"] + self.zmpop_args()

    def gen_zrandmember(self):
        cmd = ["ZRANDMEMBER", self.read_key()]
        if self.r.random() < 0.8:
            cmd.append(self.r.choice(["1", "2", "3", "5", "-1", "-3", "-10", "0", "200", I64_MAX, I64_MIN, "abc"]))
            cmd += self.withscores(0.4)
        return cmd

    def setop_tail(self, n, store):
        tail = []
        if self.r.random() < 0.3:
            # no negative or zero weights into a store: they can make a -0 score
            weights = ["1", "2", "0.5", "3", "inf"] + ([] if store else ["-1", "0", "-0.5"])
            tail += [self.word("WEIGHTS")] + [self.r.choice(weights) for _ in range(n)]
            if self.r.random() < 0.05:
                tail[-1] = self.r.choice(["abc", "nan"])
        if self.r.random() < 0.3:
            tail += [self.word("AGGREGATE"), self.r.choice(["SUM", "MIN", "MAX", "min", "max", "AVG"])]
        if not store:
            tail += self.withscores(0.6)
        return tail

    def setop_keys(self):
        keys = [self.read_key() if self.r.random() < 0.9 else b"nokey" for _ in range(self.r.randint(1, 3))]
        numkeys = str(len(keys)) if self.r.random() < 0.93 else self.r.choice(["0", "-1", str(len(keys) + 1)])
        return numkeys, keys

    def gen_zsetop(self):
        op = self.r.choice(["ZUNION", "ZINTER", "ZDIFF"])
        numkeys, keys = self.setop_keys()
        tail = self.setop_tail(len(keys), store=False)
        if op == "ZDIFF" and self.r.random() < 0.9:
            tail = [x for x in tail if x.upper() == "WITHSCORES"]
        return [op, numkeys] + keys + tail

    def gen_zsetopstore(self):
        op = self.r.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])
        numkeys, keys = self.setop_keys()
        tail = self.setop_tail(len(keys), store=True) if op != "ZDIFFSTORE" or self.r.random() < 0.1 else []
        return [op, self.key(), numkeys] + keys + tail

    def gen_zintercard(self):
        numkeys, keys = self.setop_keys()
        cmd = ["ZINTERCARD", numkeys] + keys
        if self.r.random() < 0.4:
            cmd += [self.word("LIMIT"), self.r.choice(["0", "1", "2", "-1", "abc"])]
        return cmd

    def gen_zscan(self):
        cmd = ["ZSCAN", self.read_key(), "0" if self.r.random() < 0.97 else "abc"]
        if self.r.random() < 0.4:
            cmd += ["MATCH", self.r.choice(ZPATTERNS)]
        if self.r.random() < 0.4:
            cmd += ["COUNT", self.r.choice(["1", "3", "10", "100"])]
        return cmd

    # -- blocking, primed so they never block (see ListCommands.primed)

    def timeout(self):
        return self.r.choice(["0.01", "0.5", ".2", "1"])

    def primed(self, keys, cmd):
        return (["ZADD", self.r.choice(keys), self.r.choice(SCORES[:14]), self.member()], cmd)

    def gen_bzpopmin(self):
        keys = [self.key() for _ in range(self.r.randint(1, 3))]
        return self.primed(keys, ["BZPOPMIN"] + keys + [self.timeout()])

    def gen_bzpopmax(self):
        keys = [self.key() for _ in range(self.r.randint(1, 3))]
        return self.primed(keys, ["BZPOPMAX"] + keys + [self.timeout()])

    def gen_bzmpop(self):
        keys = [self.key() for _ in range(self.r.randint(1, 3))]
        cmd = ["BZMPOP", self.timeout(), str(len(keys))] + keys + [self.r.choice(["MIN", "MAX"])]
        if self.r.random() < 0.5:
            cmd += ["COUNT", self.r.choice(["1", "2", "3", "10"])]
        return self.primed(keys, cmd)

    def gen_blocking_error(self):
        return self.r.choice([
            ["BZPOPMIN", self.key(), self.r.choice(["-1", "abc", "", "nan"])],
            ["BZPOPMAX", self.key(), self.key(), "-0.5"],
            ["BZMPOP", "0", "0", self.key(), "MIN"],
            ["BZMPOP", "-1", "1", self.key(), "MAX"],
            ["BZMPOP", "0", "1", self.key(), "MIN", "COUNT", "0"],
            ["BZMPOP", "0", "1", self.key(), "LEFT"],
        ])

    # -- keyspace: the lex key may be read, renamed away, moved or copied from, never written to

    def gen_type(self):
        return ["TYPE", self.read_key()]

    def gen_exists(self):
        return ["EXISTS"] + [self.read_key() for _ in range(self.r.randint(1, 3))]

    def gen_rename(self):
        return ["RENAME", self.read_key(), self.key()]

    def gen_copy(self):
        cmd = super().gen_copy()
        cmd[1] = self.read_key()
        return cmd

    def gen_move(self):
        return ["MOVE", self.read_key(), self.db_arg()]


def test_random_resp2(redis_ref, subject):
    differ = ZsetDiffer(redis_ref, subject)
    try:
        differ.reset_for_case()
        check_random(differ, "zsets RESP2", SEED, RANDOM_COMMANDS, ZsetCommands(SEED))
    finally:
        differ.close()


def test_random_resp3(redis_ref, subject):
    differ = ZsetDiffer(redis_ref, subject, resp=3)
    try:
        differ.reset_for_case()
        check_random(differ, "zsets RESP3", SEED + 1, RESP3_COMMANDS, ZsetCommands(SEED + 1))
    finally:
        differ.close()


def test_random_stream_is_reproducible():
    a = [cmd for cmd, _ in zip(ZsetCommands(SEED, now=1), range(500))]
    b = [cmd for cmd, _ in zip(ZsetCommands(SEED, now=1), range(500))]
    assert a == b


def test_lex_key_keeps_equal_scores():
    """The random stream never writes a non-zero score to the lex key, and sends
    lex ranges nowhere else (so their results are well defined)."""
    writes_to = {"ZRANGESTORE": 1, "ZUNIONSTORE": 1, "ZINTERSTORE": 1, "ZDIFFSTORE": 1, "RENAME": 2,
                 "RENAMENX": 2, "COPY": 2, "SADD": 1, "SET": 1, "APPEND": 1, "ZADD": 1, "ZINCRBY": 1}
    lex_commands = {"ZLEXCOUNT", "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZREMRANGEBYLEX"}
    for cmd, _ in zip(ZsetCommands(SEED), range(30000)):
        name = name_of(cmd)
        if name in lex_commands or (name in ("ZRANGE", "ZRANGESTORE") and "BYLEX" in cmd):
            source = 2 if name == "ZRANGESTORE" else 1
            assert len(cmd) <= source or cmd[source] in (LEX_KEY, b"nokey"), cmd
        i = writes_to.get(name)
        if i is None or len(cmd) <= i or cmd[i] != LEX_KEY:
            continue
        if name == "ZADD":
            args = [a for a in cmd[2:] if a not in ("NX", "XX", "CH")]
            assert len(args) % 2 == 0 and all(a in ("0", "0.0") for a in args[0::2]), cmd
        elif name == "ZINCRBY":
            assert cmd[2] == "0", cmd
        else:
            assert False, f"{cmd} writes to the lex key"


# ----------------------------------------------------------------------------
# Blocking: scenarios with several connections, run against redis-server too.


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
def test_blocking_timeout_replies_null(server, resp):
    commands = [("BZPOPMIN", "z", "0.1"), ("BZPOPMAX", "z1", "z2", ".1"), ("BZMPOP", "0.1", "1", "z", "MIN"),
                ("BZMPOP", "0.1", "2", "z1", "z2", "MAX", "COUNT", "3")]
    with Scenario(server) as s:
        clients = [s.connect(resp) for _ in commands]
        started = time.monotonic()
        for c, cmd in zip(clients, commands):
            c.send_raw(harness.encode_command(*cmd))
        for c, cmd in zip(clients, commands):
            expect(c.read_reply(), NULL_ARRAY if resp == 2 else NULL, f"RESP{resp} {cmd[0]} timing out")
        elapsed = time.monotonic() - started
        assert 0.09 <= elapsed < 3.0, f"0.1 s timeouts answered after {elapsed:.3f} s"
        s.check(("DBSIZE",), 0)


def test_blocking_timeout_errors(server):
    cases = [
        (("BZPOPMIN", "z", "-1"), b"ERR timeout is negative"),
        (("BZPOPMAX", "z", "-0.5"), b"ERR timeout is negative"),
        (("BZMPOP", "-1", "1", "z", "MIN"), b"ERR timeout is negative"),
        (("BZPOPMIN", "z", "abc"), b"ERR timeout is not a float or out of range"),
        (("BZPOPMAX", "z", ""), b"ERR timeout is not a float or out of range"),
        (("BZMPOP", "x", "1", "z", "MIN"), b"ERR timeout is not a float or out of range"),
        (("BZMPOP", "0", "0", "z", "MIN"), b"ERR numkeys should be greater than 0"),
        (("BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"), b"ERR count should be greater than 0"),
    ]
    with Scenario(server) as s:
        c = s.connect()
        for cmd, err in cases:
            expect(c.call(*cmd), Err(err), " ".join(cmd))


def test_blocking_served_in_order(server):
    """Blocked clients are served in blocking order, each from the set as it is
    after the whole ZADD: the first BZPOPMIN gets the minimum, a BZPOPMAX the max."""
    with Scenario(server) as s:
        a = s.block("BZPOPMIN", "z", "0")
        b = s.block("BZPOPMAX", "z", "0")
        c = s.block("BZPOPMIN", "z", "0")
        s.check(("ZADD", "z", "2", "b", "1", "a", "3", "c", "4", "d"), 4)
        s.served(a, [b"z", b"a", b"1"])
        s.served(b, [b"z", b"d", b"4"])
        s.served(c, [b"z", b"b", b"2"])
        s.check(("ZRANGE", "z", "0", "-1", "WITHSCORES"), [b"c", b"3"])


def test_blocking_several_keys(server):
    with Scenario(server) as s:
        a = s.block("BZPOPMAX", "z1", "z2", "0")
        s.check(("ZADD", "z2", "5", "x", "1.5", "y"), 2)
        s.served(a, [b"z2", b"x", b"5"])
        b = s.block("BZMPOP", "0", "2", "z3", "z4", "MIN", "COUNT", "2")
        s.check(("ZADD", "z4", "1", "a", "2", "b", "3", "c"), 3)
        s.served(b, [b"z4", [[b"a", b"1"], [b"b", b"2"]]])
        s.check(("ZRANGE", "z4", "0", "-1"), [b"c"])
        s.check(("ZRANGE", "z2", "0", "-1", "WITHSCORES"), [b"y", b"1.5"])


def test_blocking_resp3_served_replies(server):
    with Scenario(server) as s:
        a = s.block("BZPOPMIN", "z", "0", resp=3)
        b = s.block("BZMPOP", "0", "1", "z", "MAX", "COUNT", "2", resp=3)
        s.check(("ZADD", "z", "1.1", "a", "2.5", "b", "inf", "c"), 3)
        s.served(a, [b"z", b"a", Double(b"1.1000000000000001")])
        s.served(b, [b"z", [[b"c", Double(b"inf")], [b"b", Double(b"2.5")]]])
        s.check(("EXISTS", "z"), 0)


def test_blocking_disconnected_client_is_cleaned_up(server):
    with Scenario(server) as s:
        a = s.block("BZPOPMIN", "z", "0")
        b = s.block("BZMPOP", "0", "1", "z", "MAX")
        s.disconnect(a)
        s.disconnect(b)
        s.check(("ZADD", "z", "1", "m"), 1)
        s.check(("ZRANGE", "z", "0", "-1", "WITHSCORES"), [b"m", b"1"])


def test_blocking_served_by_other_writers(server):
    """ZINCRBY, ZUNIONSTORE and ZRANGESTORE creating the key a client waits on serve it."""
    with Scenario(server) as s:
        a = s.block("BZPOPMIN", "z", "0")
        s.check(("ZINCRBY", "z", "2", "m"), b"2")
        s.served(a, [b"z", b"m", b"2"])
        b = s.block("BZPOPMAX", "z", "0")
        s.check(("ZADD", "src", "1", "x", "2", "y"), 2)
        s.check(("ZUNIONSTORE", "z", "1", "src"), 2)
        s.served(b, [b"z", b"y", b"2"])
        s.check(("ZRANGE", "z", "0", "-1"), [b"x"])
        c = s.block("BZPOPMIN", "d", "0")
        s.check(("ZRANGESTORE", "d", "src", "0", "0"), 1)
        s.served(c, [b"d", b"x", b"1"])
        s.check(("EXISTS", "d"), 0)


def test_blocking_wrong_type_keeps_waiting(server):
    with Scenario(server) as s:
        a = s.block("BZPOPMIN", "z", "0")
        s.check(("RPUSH", "z", "x"), 1)
        assert_blocked(a)
        s.check(("DEL", "z"), 1)
        s.check(("ZADD", "z", "1", "m"), 1)
        s.served(a, [b"z", b"m", b"1"])


def test_blocking_pipelined_commands_wait(server):
    with Scenario(server) as s:
        a = s.block("BZPOPMIN", "z", "0", more=[("ZCARD", "z"), ("ZADD", "y", "1", "q")])
        assert_blocked(a)
        s.check(("EXISTS", "y"), 0)
        s.check(("ZADD", "z", "1", "a", "2", "b"), 2)
        s.served(a, [b"z", b"a", b"1"])
        expect(a.read_reply(), 1, "ZCARD z after the blocking command")
        expect(a.read_reply(), 1, "ZADD y after the blocking command")
