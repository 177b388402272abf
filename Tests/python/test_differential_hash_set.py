"""Differential test of hashes and sets: Lode against a reference redis-server 7.

Like test_differential.py (whose machinery lives in difflib_redis.py): the same
commands go to both servers and the replies are compared exactly, RESP type and
bytes, error texts included, except:
  * HGETALL, HKEYS, HVALS, SMEMBERS, SINTER, SUNION, SDIFF: element order is the
    server's own, so these are compared as multisets (HGETALL as (field, value)
    pairs), the RESP container type (array / map / set) still exact;
  * HSCAN, SSCAN (and SCAN): iterated to cursor 0, the union of the elements compared;
  * SPOP, SRANDMEMBER, HRANDFIELD: only what is deterministic is compared: the
    reply's type and length, that the elements are members of the key as the
    other server holds it (the state is read right before the command), that
    they are distinct for a positive count, that WITHVALUES pairs carry the right
    values, and the state afterwards (for SPOP: the cardinality, after which the
    subject's set is made equal to redis' again with SADD/SREM, keeping its TTL);
  * TTL / PTTL within a tolerance, HELLO without id/version/server.

Run (from the repository root):
  pytest Tests/python/test_differential_hash_set.py                     # Lode vs redis
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential_hash_set.py   # redis vs redis
Knobs: DIFF_SEED, DIFF_HS_COMMANDS (length of each random sequence, hash and set),
DIFF_HS_RESP3_COMMANDS, DIFF_MAX_MISMATCHES.
"""
import os
import random
import re
import time

import pytest

import difflib_redis
from difflib_redis import (I64_MAX, I64_MIN, SUBJECT, Differ, Outcome, case, check_case, name_of, pairs_of,
                           same, show, unordered)
from difflib_redis import subject  # noqa: F401  (a fixture)
from harness import Err, Nil, Set

SEED = int(os.environ.get("DIFF_SEED", "20261121"))
RANDOM_COMMANDS = int(os.environ.get("DIFF_HS_COMMANDS", "10000"))
RESP3_COMMANDS = int(os.environ.get("DIFF_HS_RESP3_COMMANDS", "2000"))

# Replies that are random by nature; see HashSetDiffer.random_both.
RANDOM_REPLY = {"SPOP": "SMEMBERS", "SRANDMEMBER": "SMEMBERS", "HRANDFIELD": "HGETALL"}


class HashSetDiffer(Differ):
    UNORDERED = {"KEYS": False, "HGETALL": True, "HKEYS": False, "HVALS": False, "SMEMBERS": False,
                 "SINTER": False, "SUNION": False, "SDIFF": False}

    def special(self, cmd):
        name = name_of(cmd)
        if name in ("HSCAN", "SSCAN") and len(cmd) >= 3:
            return lambda c: self.scan_both(c, cursor_at=2, pairs=name == "HSCAN")
        if name in RANDOM_REPLY and len(cmd) >= 2:
            return self.random_both
        return super().special(cmd)

    def random_both(self, cmd):
        """SPOP / SRANDMEMBER / HRANDFIELD on both servers, each between two reads of
        the key; checks what is deterministic and, after SPOP, resyncs the subject."""
        name = name_of(cmd)
        view = (RANDOM_REPLY[name], cmd[1])
        pairs = name == "HRANDFIELD"
        pre_a, a, post_a = self.ref.pipeline([view, cmd, view])
        pre_b, b, post_b = self.sub.pipeline([view, cmd, view])
        problems = []
        if not same(unordered(pre_a, pairs), unordered(pre_b, pairs)):
            problems.append(f"the key differed before the command: redis {show(pre_a, 200)}, "
                            f"{SUBJECT} {show(pre_b, 200)}")
        if isinstance(a, Err) or isinstance(b, Err) or type(a) is not type(b) or isinstance(a, Nil):
            if not same(a, b):
                problems.append("different replies")
        if not problems and not isinstance(a, Err):
            problems += [f"redis' reply: {p}" for p in random_reply_problems(cmd, a, pre_b, self.resp)]
            problems += [f"{SUBJECT}'s reply: {p}" for p in random_reply_problems(cmd, b, pre_a, self.resp)]
        if name != "SPOP":
            if not same(unordered(post_a, pairs), unordered(post_b, pairs)):
                problems.append(f"the key differs after the command: redis {show(post_a, 200)}, "
                                f"{SUBJECT} {show(post_b, 200)}")
        elif isinstance(post_a, list) and isinstance(post_b, list):
            if len(post_a) != len(post_b):
                problems.append(f"SCARD after SPOP: redis {len(post_a)}, {SUBJECT} {len(post_b)}")
            missing, extra = set(post_a) - set(post_b), set(post_b) - set(post_a)
            if post_a and (missing or extra):  # adds first, so the key (and its TTL) survives
                resync = ([("SADD", cmd[1], *sorted(missing))] if missing else []) + \
                         ([("SREM", cmd[1], *sorted(extra))] if extra else [])
                self.sub.pipeline(resync)
        elif not same(post_a, post_b):
            problems.append(f"the key differs after SPOP: redis {show(post_a)}, {SUBJECT} {show(post_b)}")
        return Outcome(a, b, not problems, "; ".join(problems) or None)


def as_bytes(arg):
    return arg if isinstance(arg, bytes) else str(arg).encode("latin-1")


def redis_int(arg):
    """arg as Redis' string2ll reads it (no sign but '-', no leading zero, no
    spaces), or None."""
    text = as_bytes(arg)
    return int(text) if re.fullmatch(rb"0|-?[1-9][0-9]*", text) else None


def random_reply_problems(cmd, reply, state, resp):
    """What is wrong with a SPOP/SRANDMEMBER/HRANDFIELD reply, given the key's
    contents (SMEMBERS/HGETALL reply) before the command; [] if nothing."""
    name, args = name_of(cmd), list(cmd[2:])
    if isinstance(state, Err):
        return [f"no error, though the key is of another type ({state!r})"]
    if name == "HRANDFIELD":
        content = dict(pairs_of(state) or [])
    else:
        content = set(state) if isinstance(state, list) else set()
    if not args:
        if not content:
            return [] if isinstance(reply, Nil) else ["not nil for an empty key"]
        return [] if type(reply) is bytes and reply in content else ["not a member"]
    count = redis_int(args[0])
    withvalues = name == "HRANDFIELD" and len(args) == 2 and as_bytes(args[1]).upper() == b"WITHVALUES"
    if count is None or len(args) > 2 or (len(args) == 2 and not withvalues):
        return ["no error for an invalid count or a syntax error"]
    if not isinstance(reply, list):
        return [f"not an array: {reply!r}"]
    if withvalues:
        if resp == 3:
            if not all(type(p) is list and len(p) == 2 for p in reply):
                return ["WITHVALUES in RESP3 is not an array of [field, value] arrays"]
            items = [tuple(p) for p in reply]
        else:
            if len(reply) % 2:
                return ["WITHVALUES reply of odd length"]
            items = list(zip(reply[0::2], reply[1::2]))
        elements = [f for f, _ in items]
        if any(content.get(f) != v for f, v in items):
            return ["a WITHVALUES value is not the field's value"]
    else:
        elements = list(reply)
    if not all(type(e) is bytes for e in elements):
        return ["elements are not all bulk strings"]
    problems = []
    expected = min(count, len(content)) if count >= 0 else (-count if content else 0)
    if len(elements) != expected:
        problems.append(f"{len(elements)} elements, expected {expected}")
    if count >= 0 and len(set(elements)) != len(elements):
        problems.append("repeated elements for a positive count")
    if not all(e in content for e in elements):
        problems.append("elements that are not members")
    return problems


def differ_for(redis_ref, subject, resp=2):
    differ = HashSetDiffer(redis_ref, subject, resp=resp)
    differ.reset_for_case()
    return differ


# ----------------------------------------------------------------------------
# Fixed cases (each from FLUSHALL + SELECT 0; a string is split on spaces, a
# tuple is sent as is).

# Long fields/members sharing a long prefix: Lode keeps elements in LMDB, whose
# keys are limited to 511 bytes.
P511, P512, P600, P2000 = b"p" * 511, b"p" * 512, b"p" * 600, b"p" * 2000
P600A, P600B = b"p" * 599 + b"A", b"p" * 599 + b"B"
P2000A, P2000B = b"p" * 1999 + b"A", b"p" * 1999 + b"B"
LONG_ELEMENTS = [P511, P512, P600, P600A, P600B, P2000, P2000A, P2000B]
LONG_KEY = b"K" * 700
BIN = [b"", b"\x00", b"\r\n", b"a\x00b", b"\xff\xfe", b"\x00" * 600]
BIG_VALUE = b"v" * 100000


def flat(pairs):
    return tuple(x for p in pairs for x in p)


MANY_FIELDS = ("HSET", "big") + flat((f"field:{i}", f"value:{i % 7}") for i in range(300))
MANY_MEMBERS = ("SADD", "big") + tuple(f"member:{i}" for i in range(300))
MANY_INTS = ("SADD", "ints") + tuple(str(i * 3 - 400) for i in range(600))

HASH_CASES = [
    case("hset-basic", "HSET h f1 v1", "HSET h f1 v2 f2 v3", "HGET h f1", "HGET h f2", "HGETALL h", "HLEN h",
         "TYPE h", "HKEYS h", "HVALS h", "EXISTS h"),
    case("hset-arity", "HSET", "HSET h", "HSET h f", "HSET h f v g", "HSET h f v g w x", "hset h f", "EXISTS h",
         "HMSET h", "HMSET h f", "HMSET h f v g", "HSETNX h f", "HSETNX h f v x", "HSETNX", "EXISTS h"),
    case("hset-repeated-field", "HSET h a 1 a 2 a 3", "HGET h a", "HLEN h", "HSET h a 4 b 5 a 6", "HGETALL h"),
    case("hmset", "HMSET h a 1 b 2", "HMGET h a b c", "HMSET h a 3", "HGETALL h", "hmset h c 4", "HLEN h"),
    case("hsetnx", "HSETNX h f v", "HSETNX h f w", "HGET h f", "HSETNX h g w", "HGETALL h",
         ("HSETNX", "h", "", ""), ("HGET", "h", "")),
    case("hget-hmget", "HGET nokey f", "HMGET nokey a b", "HSET h a 1", "HGET h b", "HMGET h b a b a",
         "HGET h", "HGET h a b", "HMGET h", "HMGET", "HGET"),
    case("empty-and-missing", "HGETALL nokey", "HKEYS nokey", "HVALS nokey", "HLEN nokey", "HSTRLEN nokey f",
         "HEXISTS nokey f", "HDEL nokey f", "HINCRBY nokey f 0", "HGETALL nokey", "DBSIZE"),
    case("hgetall-arity", "HGETALL", "HGETALL a b", "HKEYS", "HKEYS a b", "HVALS", "HVALS a b", "HLEN",
         "HLEN a b", "HSTRLEN h", "HSTRLEN h a b", "HEXISTS h", "HEXISTS h a b"),
    case("hdel", "HSET h a 1 b 2 c 3", "HDEL h a x a", "HLEN h", "HDEL h b c", "EXISTS h", "TYPE h", "HGETALL h",
         "HDEL h a", "HDEL h", "HDEL", "DBSIZE"),
    case("hdel-last-field-drops-ttl", "HSET h a 1", "EXPIRE h 1000", "HDEL h a", "HSET h b 2", "TTL h",
         "HGETALL h"),
    case("hash-recreated-has-no-stale-fields", "HSET h a 1 b 2", "DEL h", "HSET h c 3", "HGETALL h",
         "SET h x", "DEL h", "HSET h d 4", "HGETALL h", "EXPIRE h 0", "HSET h e 5", "HGETALL h",
         "EXPIREAT h 1", "EXISTS h", "HSET h f 6", "HGETALL h", "HLEN h", "FLUSHDB", "HSET h g 7", "HGETALL h",
         "FLUSHALL", "HSET h g 8", "HGETALL h"),
    case("hstrlen", "HSET h s hello i 123 n -45 e x", ("HSET", "h", "z", ""), "HSTRLEN h s", "HSTRLEN h i",
         "HSTRLEN h n", "HSTRLEN h z", "HSTRLEN h missing", "HSET h big 99999999999999999999", "HSTRLEN h big",
         "HSET h f 1.50", "HSTRLEN h f", "HGET h f"),
    case("hexists", "HSET h a 1", "HEXISTS h a", "HEXISTS h b", ("HEXISTS", "h", ""), ("HSET", "h", "", "x"),
         ("HEXISTS", "h", "")),
    case("hkeys-hvals", "HSET h a 1 b 1 c 2 d 1", "HKEYS h", "HVALS h", "HDEL h b", "HVALS h"),
    case("hincrby", "HINCRBY h f 5", "HINCRBY h f -7", "HGET h f", "HINCRBY h f 0", "HINCRBY h g -1",
         f"HINCRBY h g {I64_MIN}", "HINCRBY h g 1", "HGETALL h"),
    case("hincrby-overflow", f"HSET h max {I64_MAX} min {I64_MIN}", "HINCRBY h max 1", "HINCRBY h max 0",
         "HINCRBY h min -1", f"HINCRBY h min {I64_MAX}", "HGET h min", f"HINCRBY h max {I64_MIN}", "HGET h max",
         "HINCRBY h n 9223372036854775807", "HINCRBY h n 1", "HGET h n"),
    case("hincrby-bad-increment", "HSET h f 1", "HINCRBY h f abc", "HINCRBY h f 1.5", ("HINCRBY", "h", "f", ""),
         "HINCRBY h f +1", "HINCRBY h f -0", "HINCRBY h f 01", ("HINCRBY", "h", "f", " 1"),
         "HINCRBY h f 9223372036854775808", "HINCRBY h f -9223372036854775809", "HINCRBY h f 1e3", "HINCRBY h f",
         "HINCRBY h f 1 2", "HINCRBY h", "HGET h f"),
    case("hincrby-bad-value", "HSET h s abc f 1.5 e x z 007 p +1 m -0 big 9223372036854775808",
         ("HSET", "h", "empty", "", "sp", " 1"), "HINCRBY h s 1", "HINCRBY h f 1", "HINCRBY h z 1",
         "HINCRBY h p 1", "HINCRBY h m 1", "HINCRBY h big 1", "HINCRBY h empty 1", "HINCRBY h sp 1",
         "HGETALL h", "HSET h neg -10", "HINCRBY h neg 3", "HGET h neg"),
    case("hincrbyfloat-basic", "HINCRBYFLOAT h f 10.5", "HINCRBYFLOAT h f 0.1", "HGET h f", "HINCRBYFLOAT h g 0.1",
         "HINCRBYFLOAT h g 0.2", "HINCRBYFLOAT h g -0.3", "HSET h i 5", "HINCRBYFLOAT h i 1", "HINCRBYFLOAT h i 1.1",
         "HINCRBYFLOAT h x 3.0e3", "HINCRBYFLOAT h y 1.5e-3", "HINCRBYFLOAT h z -5", "HGETALL h"),
    case("hincrbyfloat-format", "HSET h a 1e5 b -0 c 1.0e10 d 0.1", "HINCRBYFLOAT h a 0", "HINCRBYFLOAT h b 0",
         "HINCRBYFLOAT h c 0", "HINCRBYFLOAT h d 0", "HINCRBYFLOAT h e 1e-20", "HINCRBYFLOAT h f 1.23456789012345678",
         "HINCRBYFLOAT h g 1e17", "HINCRBYFLOAT h k 0.1234567890123456789", "HINCRBYFLOAT h l 1e-5",
         "HINCRBYFLOAT h m -1e-17", "HINCRBYFLOAT h n 123456789.123456789", "HINCRBYFLOAT h o .5",
         "HINCRBYFLOAT h p 5.", "HINCRBYFLOAT h q +1.5", "HINCRBYFLOAT h r -0.0", "HGETALL h"),
    case("hincrbyfloat-huge", "HSET h a 1e308", "HINCRBYFLOAT h a 1e308", "HSTRLEN h a", "HINCRBYFLOAT h a 1e308",
         "HSTRLEN h a", "HINCRBYFLOAT h b 1e400", "HSTRLEN h b", "HSET h c 1.0e4000", "HINCRBYFLOAT h c 1",
         "HSTRLEN h c", "HINCRBYFLOAT h d -1e308", "HINCRBYFLOAT h d -1e308", "HSTRLEN h d"),
    case("hincrbyfloat-invalid-increment", "HSET h f 1", "HINCRBYFLOAT h f inf", "HINCRBYFLOAT h f -inf",
         "HINCRBYFLOAT h f +inf", "HINCRBYFLOAT h f nan", "HINCRBYFLOAT h f infinity", "HINCRBYFLOAT h f abc",
         ("HINCRBYFLOAT", "h", "f", ""), ("HINCRBYFLOAT", "h", "f", " 1"), ("HINCRBYFLOAT", "h", "f", "1 "),
         "HINCRBYFLOAT h f 1e", "HINCRBYFLOAT h f 0x10", "HINCRBYFLOAT h f 1.5.5", "HINCRBYFLOAT h f 1e99999",
         "HINCRBYFLOAT h g inf", "HEXISTS h g", "HINCRBYFLOAT h f", "HINCRBYFLOAT h f 1 2", "HGET h f"),
    case("hincrbyfloat-bad-value", "HSET h s abc i inf n nan x 0x10 w 1e99999", ("HSET", "h", "e", "", "sp", " 5"),
         "HINCRBYFLOAT h s 1", "HINCRBYFLOAT h i 1", "HINCRBYFLOAT h n 1", "HINCRBYFLOAT h x 1",
         "HINCRBYFLOAT h w 1", "HINCRBYFLOAT h e 1", "HINCRBYFLOAT h sp 1", "HGETALL h"),
    case("hincrbyfloat-then-hincrby", "HINCRBYFLOAT h f 1.5", "HINCRBY h f 1", "HINCRBYFLOAT h f 0.5",
         "HINCRBY h f 1", "HGET h f", "HINCRBYFLOAT h g 2.0", "HINCRBY h g 1"),
    case("hincr-keeps-ttl-and-type", "HSET h a 1", "EXPIRE h 1000", "HINCRBY h a 1", "HINCRBYFLOAT h b 1.5",
         "HSET h c 3", "HSETNX h d 4", "HDEL h c", "TTL h", "TYPE h"),
    case("hrandfield-missing", "HRANDFIELD nokey", "HRANDFIELD nokey 3", "HRANDFIELD nokey -3",
         "HRANDFIELD nokey 3 WITHVALUES", "HRANDFIELD nokey 0", f"HRANDFIELD nokey {I64_MIN}",
         "HRANDFIELD nokey -9223372036854775807 WITHVALUES", "HRANDFIELD nokey abc", "HRANDFIELD nokey 1 FOO"),
    case("hrandfield", "HSET h a 1 b 2 c 3", "HRANDFIELD h", "HRANDFIELD h 0", "HRANDFIELD h 0 WITHVALUES",
         "HRANDFIELD h 1", "HRANDFIELD h 2", "HRANDFIELD h 3", "HRANDFIELD h 5", "HRANDFIELD h -1", "HRANDFIELD h -5",
         "HRANDFIELD h 2 WITHVALUES", "HRANDFIELD h 5 withvalues", "HRANDFIELD h -5 WITHVALUES",
         f"HRANDFIELD h {I64_MAX}", "HRANDFIELD h 9223372036854775808", "HLEN h"),
    case("hrandfield-invalid", "HSET h a 1", f"HRANDFIELD h {I64_MIN}", f"HRANDFIELD h {I64_MAX} WITHVALUES",
         "HRANDFIELD h 4611686018427387904 WITHVALUES", "HRANDFIELD h -4611686018427387904 WITHVALUES",
         "HRANDFIELD h -9223372036854775807 WITHVALUES", "HRANDFIELD h abc", "HRANDFIELD h 1.5",
         "HRANDFIELD h -0", "HRANDFIELD h +1", ("HRANDFIELD", "h", ""), "HRANDFIELD h 1 WITHVALUE",
         "HRANDFIELD h 1 WITHVALUES x", "HRANDFIELD h abc WITHVALUES", "HRANDFIELD", "HRANDFIELD h 1 FOO"),
    case("hrandfield-big-hash", MANY_FIELDS, "HRANDFIELD big", "HRANDFIELD big 10", "HRANDFIELD big 299",
         "HRANDFIELD big 300", "HRANDFIELD big 1000 WITHVALUES", "HRANDFIELD big -1000 WITHVALUES",
         "HRANDFIELD big 150 WITHVALUES", "HLEN big"),
    case("hscan", "HSET h f1 a f2 b g1 c", "HSCAN h 0", "HSCAN h 0 MATCH f*", "HSCAN h 0 COUNT 1",
         "HSCAN h 0 MATCH * COUNT 100", "HSCAN h 0 MATCH x*", "HSCAN h 0 match G? count 2", "HSCAN nokey 0",
         "HSCAN nokey 0 MATCH *"),
    case("hscan-invalid", "HSET h f v", "HSCAN h abc", "HSCAN h 1.5", ("HSCAN", "h", ""),
         "HSCAN h 18446744073709551616", "HSCAN h 0 COUNT 0", "HSCAN h 0 COUNT -1", "HSCAN h 0 COUNT abc",
         "HSCAN h 0 COUNT", "HSCAN h 0 MATCH", "HSCAN h 0 NOVALUES", "HSCAN h 0 TYPE hash", "HSCAN h 0 FOO",
         "HSCAN h", "HSCAN", "HSCAN nokey abc"),
    case("hscan-big-hash", MANY_FIELDS, "HSCAN big 0", "HSCAN big 0 COUNT 7", "HSCAN big 0 MATCH field:1*",
         "HSCAN big 0 MATCH field:1* COUNT 3", "HSCAN big 0 MATCH *9 COUNT 1000", "HGETALL big", "HKEYS big",
         "HVALS big", "HLEN big", "HMGET big field:0 field:299 field:300", "HDEL big field:0 field:1 nope",
         "HLEN big", "HSCAN big 0 MATCH field:? COUNT 2"),
    case("hash-long-fields", ("HSET", "h") + flat((f, b"v" + f[-1:]) for f in LONG_ELEMENTS), "HLEN h",
         *[("HGET", "h", f) for f in LONG_ELEMENTS], ("HGET", "h", b"p" * 599), ("HGET", "h", b"p" * 601),
         ("HMGET", "h", P600A, P600B, b"p" * 513, P2000B), ("HEXISTS", "h", P2000A), ("HSTRLEN", "h", P2000B),
         "HKEYS h", "HVALS h", "HGETALL h", ("HDEL", "h", P600A, P2000), "HLEN h", ("HEXISTS", "h", P600A),
         ("HEXISTS", "h", P600B), ("HEXISTS", "h", P2000A), "HKEYS h", ("HSET", "h", P600B, "new"),
         ("HGET", "h", P600B), ("HSETNX", "h", P600B, "x"), ("HSETNX", "h", P600A, "x"), "HGETALL h",
         ("HINCRBY", "h", P2000B + b"n", "5"), ("HINCRBYFLOAT", "h", P2000B + b"n", "0.5"),
         ("HGET", "h", P2000B + b"n"), "HSCAN h 0", "HSCAN h 0 MATCH *B", "HSCAN h 0 MATCH p*A COUNT 1",
         "HRANDFIELD h -20 WITHVALUES", "HRANDFIELD h 20", "DEL h", "EXISTS h", ("HGET", "h", P600B),
         ("HSET", "h", P2000A, "again"), "HGETALL h"),
    case("hash-long-values", ("HSET", "h", "big", BIG_VALUE, P2000, BIG_VALUE + b"x"), "HSTRLEN h big",
         ("HSTRLEN", "h", P2000), "HVALS h", ("HSETNX", "h", "big", "x"), "HGETALL h", "HRANDFIELD h 2 WITHVALUES"),
    case("hash-binary", ("HSET", "h") + flat((f, f + b"=") for f in BIN), "HLEN h", "HGETALL h",
         *[("HGET", "h", f) for f in BIN], ("HDEL", "h", b""), ("HEXISTS", "h", b""), ("HEXISTS", "h", b"\x00"),
         ("HSCAN", "h", "0", "MATCH", b"*\x00*"), ("HSCAN", "h", "0", "MATCH", b"\r\n"), "HKEYS h",
         ("HSET", "h", b"", b""), ("HGET", "h", b""), ("HSTRLEN", "h", b""), ("HINCRBY", "h", b"\r\n", "1")),
    case("hash-long-key", ("HSET", LONG_KEY, P2000A, "1", "f", "2"), ("HGETALL", LONG_KEY), ("HLEN", LONG_KEY),
         ("TYPE", LONG_KEY), ("HGET", LONG_KEY, P2000A), ("HDEL", LONG_KEY, "f"), ("HKEYS", LONG_KEY),
         "SCAN 0 TYPE hash", ("RENAME", LONG_KEY, "short"), "HGETALL short", ("COPY", "short", LONG_KEY),
         ("HGETALL", LONG_KEY), ("DEL", LONG_KEY), ("HLEN", LONG_KEY)),
    case("hash-empty-field-and-value", ("HSET", "h", "", ""), "HLEN h", "HGETALL h", ("HGET", "h", ""),
         ("HEXISTS", "h", ""), ("HSTRLEN", "h", ""), ("HDEL", "h", ""), "EXISTS h", ("HSET", "", "", "x"),
         ("HGETALL", ""), ("TYPE", "")),
]

SET_CASES = [
    case("sadd-basic", "SADD s a b c a", "SADD s a d", "SCARD s", "SMEMBERS s", "SISMEMBER s a",
         "SISMEMBER s z", "SMISMEMBER s a z d a", "TYPE s", "EXISTS s"),
    case("sadd-arity", "SADD", "SADD s", "sadd s", "SREM s", "SREM", "SMEMBERS", "SMEMBERS a b", "SCARD",
         "SCARD a b", "SISMEMBER s", "SISMEMBER s a b", "SMISMEMBER s", "SMISMEMBER", "EXISTS s"),
    case("integer-members", "SADD s 1 2 3 -5 100", "SADD s 01 +1 1.0 -0 0", "SCARD s", "SMEMBERS s",
         "SISMEMBER s 1", "SISMEMBER s 01", "SISMEMBER s +1", "SISMEMBER s -0", "SISMEMBER s 0",
         f"SADD s {I64_MAX} {I64_MIN} 9223372036854775808", "SMEMBERS s", f"SISMEMBER s {I64_MIN}",
         "SREM s 1 01 -0", "SMEMBERS s", "SADD t 3 2 1", "SMEMBERS t", "SADD t a", "SMEMBERS t", "SREM t a",
         "SMEMBERS t"),
    case("big-integer-set", MANY_INTS, "SCARD ints", "SMEMBERS ints", "SISMEMBER ints -400", "SISMEMBER ints 1397",
         "SISMEMBER ints 1398", "SADD ints 1398 x", "SCARD ints", "SSCAN ints 0 MATCH 1* COUNT 50",
         "SRANDMEMBER ints 5", "SRANDMEMBER ints -700", "SINTERCARD 1 ints LIMIT 10"),
    case("srem", "SADD s a b c", "SREM s a x a", "SCARD s", "SREM s b c", "EXISTS s", "TYPE s", "SREM s a",
         "SREM nokey a", "DBSIZE"),
    case("set-recreated-has-no-stale-members", "SADD s a b", "DEL s", "SADD s c", "SMEMBERS s", "SET s x",
         "DEL s", "SADD s d", "SMEMBERS s", "EXPIRE s -1", "SADD s e", "SMEMBERS s", "SADD t z", "RENAME t s",
         "SMEMBERS s", "FLUSHDB", "SADD s f", "SMEMBERS s", "SCARD s"),
    case("srem-last-drops-ttl", "SADD s a", "EXPIRE s 1000", "SREM s a", "SADD s b", "TTL s"),
    case("missing-set", "SMEMBERS nokey", "SCARD nokey", "SISMEMBER nokey a", "SMISMEMBER nokey a b",
         "SRANDMEMBER nokey", "SPOP nokey", "SINTER nokey", "SUNION nokey", "SDIFF nokey", "SINTERCARD 1 nokey",
         "SSCAN nokey 0", "DBSIZE"),
    case("spop", "SADD s a b c d e", "SPOP s", "SCARD s", "SPOP s 0", "SPOP s 2", "SCARD s", "SPOP s 5",
         "EXISTS s", "SPOP s", "SPOP s 3", "SADD s x", "SPOP s 1", "EXISTS s", "SADD s y", "SPOP s", "DBSIZE"),
    case("spop-count-exact", "SADD s a b c", "SPOP s 3", "EXISTS s", "SADD s a b c", f"SPOP s {I64_MAX}",
         "EXISTS s", "SADD s 1 2 3", "SPOP s 2", "SCARD s"),
    case("spop-invalid", "SADD s a b", "SPOP s -1", f"SPOP s {I64_MIN}", "SPOP s abc", "SPOP s 1.5",
         ("SPOP", "s", ""), "SPOP s 9223372036854775808", "SPOP s -0", "SPOP s 1 2", "SPOP", "SPOP nokey -1",
         "SPOP nokey abc", "SCARD s"),
    case("spop-keeps-ttl", "SADD s a b c", "EXPIRE s 1000", "SPOP s", "SPOP s 1", "TTL s", "SPOP s 5", "TTL s"),
    case("srandmember", "SADD s a b c", "SRANDMEMBER s", "SRANDMEMBER s 0", "SRANDMEMBER s 1", "SRANDMEMBER s 2",
         "SRANDMEMBER s 3", "SRANDMEMBER s 10", "SRANDMEMBER s -1", "SRANDMEMBER s -10", f"SRANDMEMBER s {I64_MAX}",
         "SCARD s", "SRANDMEMBER nokey", "SRANDMEMBER nokey 5", "SRANDMEMBER nokey -5",
         "SRANDMEMBER nokey -9223372036854775807"),
    case("srandmember-invalid", "SADD s a", f"SRANDMEMBER s {I64_MIN}", "SRANDMEMBER s abc", "SRANDMEMBER s 1.5",
         "SRANDMEMBER s -0", "SRANDMEMBER s 9223372036854775808", ("SRANDMEMBER", "s", ""), "SRANDMEMBER s 1 2",
         "SRANDMEMBER s 1 WITHVALUES", "SRANDMEMBER", f"SRANDMEMBER nokey {I64_MIN}", "SRANDMEMBER nokey abc"),
    case("srandmember-big-set", MANY_MEMBERS, "SRANDMEMBER big", "SRANDMEMBER big 5", "SRANDMEMBER big 299",
         "SRANDMEMBER big 300", "SRANDMEMBER big 301", "SRANDMEMBER big -500", "SPOP big 100", "SCARD big",
         "SPOP big 250", "EXISTS big"),
    case("smove", "SADD a x y", "SADD b z", "SMOVE a b x", "SMEMBERS a", "SMEMBERS b", "SMOVE a b nope",
         "SMOVE a b z", "SMOVE b a z", "SMEMBERS a", "SMOVE a c y", "SMOVE a c z", "EXISTS a", "SMEMBERS c",
         "SMOVE nokey c x", "SMOVE c b x", "SMEMBERS b", "SMEMBERS c", "SMOVE", "SMOVE a b", "SMOVE a b x y"),
    case("smove-same-key", "SADD s a", "SMOVE s s a", "SMOVE s s b", "SMEMBERS s", "SET str v", "SMOVE str str a",
         "SMOVE nokey nokey a", "EXISTS nokey"),
    case("smove-wrongtype", "SADD s a", "SET str v", "HSET h f v", "SMOVE s str a", "SMOVE s str nope",
         "SMOVE str s a", "SMOVE s h a", "SMOVE h s f", "SMOVE nokey str a", "SMOVE s nokey2 nope",
         "SMEMBERS s", "GET str", "EXISTS nokey2"),
    case("smove-ttl", "SADD a x y", "EXPIRE a 1000", "SADD b z", "EXPIRE b 2000", "SMOVE a b x", "TTL a",
         "TTL b", "SMOVE a c y", "EXISTS a", "TTL c"),
    case("sinter-sunion-sdiff", "SADD a 1 2 3 x", "SADD b 2 3 4 y", "SADD c 3 x y z", "SINTER a b", "SINTER a b c",
         "SUNION a b c", "SDIFF a b", "SDIFF a b c", "SDIFF c a", "SINTER a", "SUNION a", "SDIFF a", "SINTER a a",
         "SDIFF a a", "SUNION a a", "SINTER a nokey", "SINTER nokey a", "SUNION a nokey", "SDIFF a nokey",
         "SDIFF nokey a", "SINTER", "SUNION", "SDIFF"),
    case("set-algebra-wrongtype", "SADD a 1 2", "SET str v", "HSET h f v", "SINTER a str", "SINTER str a",
         "SINTER nokey str", "SINTER a nokey str", "SUNION a str", "SUNION nokey h", "SDIFF a str", "SDIFF str a",
         "SDIFF nokey str", "SDIFF a nokey h", "SINTERCARD 2 a str", "SINTERCARD 2 nokey h",
         "SINTERCARD 2 str nokey"),
    case("sintercard", "SADD a 1 2 3 4", "SADD b 2 3 4 5", "SINTERCARD 1 a", "SINTERCARD 2 a b",
         "SINTERCARD 2 a b LIMIT 0", "SINTERCARD 2 a b LIMIT 1", "SINTERCARD 2 a b LIMIT 2",
         "SINTERCARD 2 a b LIMIT 10", "SINTERCARD 2 a b limit 2", "SINTERCARD 2 a nokey", "SINTERCARD 1 nokey",
         "SINTERCARD 2 a b LIMIT 1 LIMIT 3", "SINTERCARD 2 a a"),
    case("sintercard-invalid", "SADD a 1", "SINTERCARD 0 a", "SINTERCARD -1 a", "SINTERCARD abc a",
         ("SINTERCARD", "", "a"), "SINTERCARD 2 a", "SINTERCARD 3 a b", f"SINTERCARD {I64_MAX} a",
         "SINTERCARD 2147483648 a", "SINTERCARD 1 a LIMIT -1", "SINTERCARD 1 a LIMIT abc", "SINTERCARD 1 a LIMIT",
         "SINTERCARD 1 a LIMIT 1.5", f"SINTERCARD 1 a LIMIT {I64_MAX}", "SINTERCARD 1 a FOO 1",
         "SINTERCARD 1 a b", "SINTERCARD 1 a LIMIT 5 x", "SINTERCARD 1", "SINTERCARD", "SINTERCARD 1.0 a"),
    case("store", "SADD a 1 2 3 x", "SADD b 2 3 4", "SINTERSTORE d a b", "SMEMBERS d", "SUNIONSTORE d a b",
         "SMEMBERS d", "SDIFFSTORE d a b", "SMEMBERS d", "SCARD d", "TYPE d", "SINTERSTORE d a", "SMEMBERS d"),
    case("store-empty-result-deletes", "SADD a 1", "SADD b 2", "SADD d old", "SINTERSTORE d a b", "EXISTS d",
         "SADD d old", "SDIFFSTORE d a a", "EXISTS d", "SADD d old", "SUNIONSTORE d nokey", "EXISTS d",
         "SINTERSTORE d nokey", "SINTERSTORE d a nokey", "EXISTS d", "DBSIZE"),
    case("store-over-other-types", "SADD a 1 2", "SET str v", "HSET h f v", "SINTERSTORE str a", "TYPE str",
         "SMEMBERS str", "SUNIONSTORE h a", "TYPE h", "SET str2 v", "SINTERSTORE str2 nokey", "EXISTS str2"),
    case("store-drops-ttl", "SADD a 1 2", "SADD d x", "EXPIRE d 1000", "SUNIONSTORE d a", "TTL d", "SET e v EX 1000",
         "SINTERSTORE e a", "TTL e", "EXPIRE a 1000", "SDIFFSTORE a a nokey", "TTL a", "SMEMBERS a"),
    case("store-dest-is-source", "SADD a 1 2 3", "SADD b 3 4", "SUNIONSTORE a a b", "SMEMBERS a",
         "SINTERSTORE b a b", "SMEMBERS b", "SDIFFSTORE a a b", "SMEMBERS a"),
    case("store-wrongtype-source", "SADD a 1", "SET str v", "SADD d keep", "SINTERSTORE d a str", "SUNIONSTORE d str",
         "SDIFFSTORE d a str", "SDIFFSTORE d str a", "SINTERSTORE d nokey str", "SMEMBERS d"),
    case("store-arity", "SINTERSTORE", "SINTERSTORE d", "SUNIONSTORE d", "SDIFFSTORE d", "SDIFFSTORE"),
    case("sscan", "SADD s m1 m2 n1", "SSCAN s 0", "SSCAN s 0 MATCH m*", "SSCAN s 0 COUNT 1",
         "SSCAN s 0 MATCH * COUNT 100", "SSCAN s 0 MATCH x*", "SSCAN s 0 match N? count 2", "SSCAN nokey 0",
         "SADD i 1 2 3 10", "SSCAN i 0", "SSCAN i 0 MATCH 1*"),
    case("sscan-invalid", "SADD s a", "SSCAN s abc", "SSCAN s 1.5", ("SSCAN", "s", ""), "SSCAN s 18446744073709551616",
         "SSCAN s 0 COUNT 0", "SSCAN s 0 COUNT -1", "SSCAN s 0 COUNT abc", "SSCAN s 0 COUNT", "SSCAN s 0 MATCH",
         "SSCAN s 0 TYPE set", "SSCAN s 0 FOO", "SSCAN s", "SSCAN"),
    case("sscan-big-set", MANY_MEMBERS, "SSCAN big 0", "SSCAN big 0 COUNT 7", "SSCAN big 0 MATCH member:1*",
         "SSCAN big 0 MATCH *9 COUNT 3", "SMEMBERS big", "SCARD big", "SREM big member:0 member:1 nope", "SCARD big",
         MANY_INTS, "SSCAN ints 0 COUNT 20", "SSCAN ints 0 MATCH -*"),
    case("set-long-members", ("SADD", "s") + tuple(LONG_ELEMENTS), "SCARD s",
         *[("SISMEMBER", "s", m) for m in LONG_ELEMENTS], ("SISMEMBER", "s", b"p" * 599),
         ("SISMEMBER", "s", b"p" * 601), ("SMISMEMBER", "s", P600A, b"p" * 513, P2000B), "SMEMBERS s",
         ("SREM", "s", P600A, P2000), "SCARD s", ("SISMEMBER", "s", P600A), ("SISMEMBER", "s", P600B),
         ("SADD", "t", P600B, P2000A, "short"), "SINTER s t", "SUNION s t", "SDIFF s t", "SINTERCARD 2 s t",
         "SINTERSTORE d s t", "SMEMBERS d", ("SMOVE", "s", "t", P511), ("SISMEMBER", "t", P511), "SSCAN s 0",
         "SSCAN t 0 MATCH *A", "SRANDMEMBER s -20", "SPOP t 2", "SCARD t", "DEL s", ("SISMEMBER", "s", P600B),
         ("SADD", "s", P2000A), "SMEMBERS s"),
    case("set-binary", ("SADD", "s") + tuple(BIN), "SCARD s", "SMEMBERS s", *[("SISMEMBER", "s", m) for m in BIN],
         ("SREM", "s", b""), ("SISMEMBER", "s", b""), ("SSCAN", "s", "0", "MATCH", b"*\x00*"),
         ("SMOVE", "s", "t", b"\r\n"), "SMEMBERS t", ("SADD", "", ""), ("SMEMBERS", ""), ("SCARD", "")),
    case("set-long-key", ("SADD", LONG_KEY, P2000A, "m"), ("SMEMBERS", LONG_KEY), ("SCARD", LONG_KEY),
         ("TYPE", LONG_KEY), ("SMOVE", LONG_KEY, "other", "m"), "SMEMBERS other", ("SUNIONSTORE", LONG_KEY,
                                                                                     LONG_KEY, "other"),
         ("SMEMBERS", LONG_KEY), "SCAN 0 TYPE set"),
]

KEYSPACE_CASES = [
    case("type", "HSET h f v", "SADD s m", "SET str v", "TYPE h", "TYPE s", "TYPE str", "TYPE nokey"),
    case("del-exists-dbsize", "HSET h f v", "SADD s a b", "SET str v", "EXISTS h s str nokey h", "DBSIZE",
         "DEL h s nokey", "EXISTS h s", "DBSIZE", "HGETALL h", "SMEMBERS s", "UNLINK str", "DBSIZE"),
    case("expire-ttl-persist", "HSET h f v", "SADD s m", "EXPIRE h 1000", "PEXPIRE s 2000000", "TTL h", "PTTL s",
         "HSET h g w", "SADD s n", "HDEL h f", "SREM s m", "TTL h", "TTL s", "PERSIST h", "PERSIST h", "TTL h",
         "EXPIRE s 0", "EXISTS s", "SMEMBERS s", "EXPIREAT h 1", "HGETALL h", "DBSIZE"),
    case("rename", "HSET h a 1 b 2", "EXPIRE h 1000", "SADD s x", "RENAME h h2", "HGETALL h2", "TTL h2",
         "EXISTS h", "RENAME s h2", "TYPE h2", "SMEMBERS h2", "HGETALL h2", "RENAME h2 h2", "SMEMBERS h2",
         "SET str v", "RENAME str h2", "TYPE h2", "GET h2", "RENAME nokey x"),
    case("rename-over-collection-leaves-no-stale-elements", "HSET d old 1 keep 2", "HSET src new 3",
         "RENAME src d", "HGETALL d", "SADD t old", "SADD u new", "RENAME u t", "SMEMBERS t", "HSET d2 old 1",
         "SADD s2 new", "RENAME s2 d2", "TYPE d2", "SMEMBERS d2", "DEL d2", "HSET d2 fresh 1", "HGETALL d2"),
    case("renamenx", "HSET h f v", "SADD s m", "RENAMENX h s", "RENAMENX h h3", "HGETALL h3", "RENAMENX h3 h3",
         "SET str v", "RENAMENX s str", "RENAMENX s s2", "SMEMBERS s2", "TYPE s"),
    case("copy", "HSET h a 1 b 2", "EXPIRE h 1000", "COPY h h2", "HGETALL h2", "TTL h2", "HSET h2 a changed c 3",
         "HGETALL h", "HGETALL h2", "COPY h h2", "COPY h h2 REPLACE", "HGETALL h2", "SADD s x y", "COPY s s2",
         "SREM s2 x", "SMEMBERS s", "SMEMBERS s2", "COPY s h REPLACE", "TYPE h", "SMEMBERS h", "SET str v",
         "COPY h str", "COPY h str REPLACE", "TYPE str", "COPY nokey x", "COPY s s"),
    case("copy-db", "HSET h a 1", "SADD s m", "COPY h h DB 1", "COPY s s DB 1", "SELECT 1", "HGETALL h",
         "SMEMBERS s", "HSET h b 2", "SADD s n", "SELECT 0", "HGETALL h", "SMEMBERS s", "COPY h s DB 1",
         "COPY h s DB 1 REPLACE", "SELECT 1", "TYPE s", "HGETALL s", "DBSIZE"),
    case("copy-replace-leaves-no-stale-elements", "HSET d old 1", "HSET src new 2", "COPY src d REPLACE",
         "HGETALL d", "SADD t old", "SADD u new", "COPY u t REPLACE", "SMEMBERS t"),
    case("move", "HSET h a 1", "EXPIRE h 1000", "SADD s m", "MOVE h 1", "MOVE s 1", "EXISTS h s", "SELECT 1",
         "HGETALL h", "TTL h", "SMEMBERS s", "HSET h b 2", "SELECT 0", "HSET h c 3", "MOVE h 1", "HGETALL h",
         "SELECT 1", "HGETALL h", "MOVE nokey 0"),
    case("swapdb", "HSET h a 1", "SELECT 1", "SADD h m", "SWAPDB 0 1", "TYPE h", "SMEMBERS h", "SELECT 0",
         "TYPE h", "HGETALL h"),
    case("scan-type", "HSET h1 f v", "HSET h2 f v", "SADD s1 m", "SADD s2 m", "SET str v", "SCAN 0 TYPE hash",
         "SCAN 0 TYPE set", "SCAN 0 TYPE string", "SCAN 0 TYPE HASH", "SCAN 0 TYPE Set", "SCAN 0 TYPE list",
         "SCAN 0 TYPE zset", "SCAN 0 MATCH h* TYPE hash", "SCAN 0 MATCH h* TYPE set", "SCAN 0 COUNT 1 TYPE set",
         "KEYS *", "KEYS s?", "DBSIZE"),
    case("flushdb", "HSET h f v", "SADD s m", "SELECT 1", "HSET h g w", "FLUSHDB", "DBSIZE", "HGETALL h",
         "SELECT 0", "HGETALL h", "SMEMBERS s", "FLUSHDB", "HGETALL h", "SMEMBERS s", "HSET h x y", "HGETALL h",
         "DBSIZE"),
    case("wrongtype-string-commands-on-collections", "HSET h f v", "SADD s m", "GET h", "GET s", "APPEND h x",
         "STRLEN s", "INCR h", "DECRBY s 1", "INCRBYFLOAT h 1", "GETRANGE s 0 1", "SETRANGE h 0 x", "GETSET s v",
         "GETDEL h", "GETEX s", "GETEX h EX 100", "MGET h s nokey", "SETNX h v", "MSETNX h v x y", "EXISTS x",
         "SET h v NX", "SET s v GET", "SET s v XX GET", "TYPE h", "TYPE s", "HGETALL h", "SMEMBERS s"),
    case("set-over-collections-replaces", "HSET h f v", "EXPIRE h 1000", "SADD s m", "SET h str", "TTL h",
         "TYPE h", "GET h", "HGET h f", "SET s v XX", "TYPE s", "SMEMBERS s", "MSET h a s b", "MGET h s",
         "HSET h2 f v", "SET h2 x KEEPTTL", "TYPE h2", "HSET h3 f v", "SETEX h3 1000 v", "TYPE h3",
         "HSET h4 f v", "GETSET h4 v", "TYPE h4", "DEL h", "HSET h f2 v2", "HGETALL h"),
    case("wrongtype-hash-commands-on-string-and-set", "SET str v", "SADD s m", "HSET str f v", "HSET s f v",
         "HSETNX str f v", "HMSET s f v", "HGET str f", "HMGET s f", "HGETALL str", "HDEL s f", "HLEN str",
         "HSTRLEN s f", "HEXISTS str f", "HKEYS s", "HVALS str", "HINCRBY s f 1", "HINCRBYFLOAT str f 1",
         "HRANDFIELD s", "HRANDFIELD str 2", "HRANDFIELD s -2 WITHVALUES", "HSCAN str 0", "HSCAN s 0 MATCH *",
         "GET str", "SMEMBERS s"),
    case("wrongtype-set-commands-on-string-and-hash", "SET str v", "HSET h f v", "SADD str m", "SADD h m",
         "SREM str m", "SMEMBERS h", "SISMEMBER str m", "SMISMEMBER h m", "SCARD str", "SPOP h", "SPOP str 2",
         "SRANDMEMBER h", "SRANDMEMBER str -2", "SINTER h", "SUNION str", "SDIFF h", "SINTERSTORE d str",
         "SINTERCARD 1 h", "SSCAN str 0", "SSCAN h 0 COUNT 5", "EXISTS d", "GET str", "HGETALL h"),
    case("wrongtype-arity-first", "SET str v", "HSET str f", "SADD str", "HGET str", "SPOP str 1 2",
         "HRANDFIELD str 1 FOO", "SINTERCARD 0 str", "HINCRBY str f abc", "HINCRBYFLOAT str f nan",
         "SRANDMEMBER str abc", "HSCAN str abc", "SSCAN str 0 COUNT 0"),
    case("arity-errors-use-lowercase-name", "hSeT h", "HGET", "hmget", "HgetAll", "SADD", "sMeMbErS",
         "SINTERCARD", "SMOVE a b", "HINCRBYFLOAT h f", "HRANDFIELD", "SSCAN s", "HSCAN"),
]

FIXED_CASES = HASH_CASES + SET_CASES + KEYSPACE_CASES


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("commands", FIXED_CASES)
def test_fixed(redis_ref, subject, commands, resp):
    differ = differ_for(redis_ref, subject, resp)
    try:
        check_case(differ, commands, f"RESP{resp}: ")
    finally:
        differ.close()


def test_expiry_real_time(redis_ref, subject):
    """Collections with 100 ms TTLs: gone after they are due (DBSIZE before any
    access checks active expiry), and recreated without stale elements."""
    differ = differ_for(redis_ref, subject)
    try:
        setup = [("HSET", "h", "a", "1", "b", "2"), ("PEXPIRE", "h", "100"), ("SADD", "s", "a", "b"),
                 ("PEXPIRE", "s", "100"), ("HSET", "h2", P2000A, "1"), ("PEXPIRE", "h2", "100"),
                 ("SADD", "s2", P2000A), ("PEXPIRE", "s2", "100"), ("HSET", "keep", "f", "v"), ("DBSIZE",)]
        check_case(differ, setup)
        time.sleep(0.6)
        check_case(differ, [("DBSIZE",), ("SCAN", "0", "TYPE", "hash"), ("HGETALL", "h"), ("SMEMBERS", "s"),
                            ("HSET", "h", "c", "3"), ("HGETALL", "h"), ("HLEN", "h"), ("SADD", "s", "c"),
                            ("SMEMBERS", "s"), ("SCARD", "s"), ("HSET", "h2", "x", "1"), ("HGETALL", "h2"),
                            ("HGET", "h2", P2000A), ("SISMEMBER", "s2", P2000A), ("SADD", "s2", "y"),
                            ("SMEMBERS", "s2"), ("TTL", "h"), ("DBSIZE",)])
    finally:
        differ.close()


# ----------------------------------------------------------------------------
# Randomized sequences

HASH_KEYS = [b"h1", b"h2", b"h3", b"h4", b"", b"\x00\r\n", LONG_KEY]
SET_KEYS = [b"s1", b"s2", b"s3", b"s4", b"", b"\x00\r\n", LONG_KEY]
FIELDS = [b"f1", b"f2", b"f3", b"f4", b"n", b"", b"\x00", b"\r\n", P511, P512, P600, P600A, P600B, P2000A,
          P2000B]
MEMBERS = [b"m1", b"m2", b"m3", b"m4", b"", b"\x00", b"\r\n", b"1", b"2", b"-5", b"100", b"01", P511, P600A,
           P600B, P2000, P2000A]
FIELD_PATTERNS = ["*", "f*", "f?", "p*", "*A", "*B", "[fn]*", "*\x00*", "", "m*", "1*", "??", "\\f1", "[", "*p"]
KEY_PATTERNS = ["*", "h*", "s*", "*1", "?2", "K*", "", "*\x00*"]
FLOAT_STRINGS = ["0.1", "-0", "0", "1.5", "-2.25", "1e308", "-1e308", "1e-300", "inf", "-inf", "+inf", "nan",
                 "3.0e3", "1e400", "0x10", "infinity", " 1", "1 ", "1.", ".5", "1e", "abc", "", "1.5.5", "5",
                 "10.5", "1e17", "-1e-17", "0.3"]
INT_EDGES = [I64_MAX, I64_MIN, "9223372036854775806", "-9223372036854775807", "9223372036854775808",
             "-9223372036854775809", "99999999999999999999", "4611686018427387904"]
INT_JUNK = ["abc", "", "1.5", "+1", "-0", "01", " 1", "1 ", "0x10", "1e3"]
# Counts for SPOP/SRANDMEMBER/HRANDFIELD. Never a huge negative one that is in
# range: redis would build a reply of that many elements.
ODD_COUNTS = [I64_MAX, I64_MIN, "9223372036854775808", "4611686018427387904", "100", "abc", "", "1.5", "-0",
              "+1", "01"]
# Replaces arguments in the generic mutations: no small positive integer (a
# TTL that would expire during the run) and no huge negative in-range count.
JUNK = ["", "abc", "0", "-1", I64_MAX, I64_MIN, "9223372036854775808", "1.5", "inf", "nan", "-0", "+1", "01",
        " 1", "\r\n", "\x00", "NX", "XX", "GT", "LT", "EX", "KEEPTTL", "GET", "REPLACE", "DB", "MATCH", "COUNT",
        "TYPE", "LIMIT", "WITHVALUES", "FOO"]
BAD_TTLS = ["0", "-1", "abc", "", "1.5", I64_MAX, I64_MIN, "9223372036854775808"]
VALUE_BYTES = b"ab9-.e \r\n\x00\xff"


class RandomStream:
    """A reproducible stream of (command, database selected after it) over a
    small key pool in databases 0 and 1; subclasses add their type's commands."""

    KEYS = HASH_KEYS
    COMMON_WEIGHTS = [
        ("TYPE", 2), ("DEL", 2), ("EXISTS", 1.5), ("EXPIRE", 2), ("TTL", 2), ("PERSIST", 1), ("RENAME", 1.5),
        ("RENAMENX", 1), ("COPY", 1.5), ("MOVE", 1), ("SCAN", 1), ("KEYS", 0.5), ("DBSIZE", 1), ("FLUSHDB", 0.1),
        ("SELECT", 1.5), ("SWAPDB", 0.3), ("SET", 1.5), ("GET", 1.5), ("APPEND", 0.3), ("INCR", 0.3),
        ("STRLEN", 0.5),
    ]
    WEIGHTS = []

    def __init__(self, seed, now=None):
        self.r = random.Random(seed)
        self.now = int(now or time.time())
        self.db = 0
        self.table = [(w, getattr(self, "gen_" + name.lower())) for name, w in self.WEIGHTS + self.COMMON_WEIGHTS]
        self.total = sum(w for w, _ in self.table)

    def __iter__(self):
        return self

    def __next__(self):
        pick = self.r.random() * self.total
        for weight, gen in self.table:
            pick -= weight
            if pick < 0:
                break
        cmd = list(gen())
        if name_of(cmd) not in ("SCAN", "HSCAN", "SSCAN", "SELECT") and self.r.random() < 0.06:
            self.mutate(cmd)
        if self.r.random() < 0.1:
            cmd[0] = self.r.choice([cmd[0].lower(), cmd[0].capitalize()])
        if name_of(cmd) == "SELECT" and len(cmd) == 2 and cmd[1] in ("0", "1"):
            self.db = int(cmd[1])
        return tuple(cmd), self.db

    def mutate(self, cmd):
        how = self.r.random()
        if how < 0.35 and len(cmd) > 1:
            del cmd[self.r.randint(1, len(cmd) - 1):]
        elif how < 0.65:
            cmd.append(self.r.choice(JUNK))
        elif len(cmd) > 1:
            cmd[self.r.randint(1, len(cmd) - 1)] = self.r.choice(JUNK)

    # -- argument pools

    def key(self):
        return self.r.choice(self.KEYS)

    def keys(self, lo=1, hi=3):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def field(self):
        return self.r.choice(FIELDS)

    def member(self):
        return self.r.choice(MEMBERS)

    def value(self):
        x = self.r.random()
        if x < 0.3:
            return str(self.r.randint(-1000, 1000))
        if x < 0.38:
            return self.r.choice(INT_EDGES)
        if x < 0.5:
            return self.r.choice(FLOAT_STRINGS)
        if x < 0.85:
            return bytes(self.r.choice(VALUE_BYTES) for _ in range(self.r.randint(0, 12)))
        if x < 0.92:
            return b""
        return bytes(self.r.choice(b"xyz") for _ in range(self.r.randint(100, 3000)))

    def integer(self):
        x = self.r.random()
        if x < 0.75:
            return str(self.r.randint(-100, 100))
        return self.r.choice(INT_EDGES if x < 0.9 else INT_JUNK)

    def float_incr(self):
        x = self.r.random()
        if x < 0.5:
            return self.r.choice(FLOAT_STRINGS)
        if x < 0.8:
            return f"{self.r.uniform(-1000, 1000):.{self.r.randint(0, 6)}f}"
        return self.integer()

    def count(self, lo=-10, hi=10):
        return str(self.r.randint(lo, hi)) if self.r.random() < 0.85 else self.r.choice(ODD_COUNTS)

    def ttl(self):
        if self.r.random() < 0.85:
            return str(self.r.randint(100_000, 10_000_000))
        return self.r.choice(BAD_TTLS)

    def db_arg(self):
        return self.r.choice(["0", "1"]) if self.r.random() < 0.9 else self.r.choice(["16", "-1", "abc", ""])

    def word(self, word):
        return word.lower() if self.r.random() < 0.1 else word

    def scan_options(self, patterns):
        options = [["MATCH", self.r.choice(patterns)], ["COUNT", str(self.r.randint(1, 12))]]
        self.r.shuffle(options)
        return [x for opt in options if self.r.random() < 0.4 for x in opt]

    # -- keyspace and strings

    def gen_type(self):
        return ["TYPE", self.key()]

    def gen_del(self):
        return ["DEL"] + self.keys()

    def gen_exists(self):
        return ["EXISTS"] + self.keys()

    def gen_expire(self):
        flags = [self.word(self.r.choice(["NX", "XX", "GT", "LT"]))] if self.r.random() < 0.2 else []
        return ["EXPIRE", self.key(), self.ttl()] + flags

    def gen_ttl(self):
        return ["TTL", self.key()]

    def gen_persist(self):
        return ["PERSIST", self.key()]

    def gen_rename(self):
        return ["RENAME", self.key(), self.key()]

    def gen_renamenx(self):
        return ["RENAMENX", self.key(), self.key()]

    def gen_copy(self):
        cmd = ["COPY", self.key(), self.key()]
        if self.r.random() < 0.4:
            cmd += [self.word("DB"), self.db_arg()]
        if self.r.random() < 0.4:
            cmd.append(self.word("REPLACE"))
        return cmd

    def gen_move(self):
        return ["MOVE", self.key(), self.db_arg()]

    def gen_scan(self):
        cmd = ["SCAN", "0"] + self.scan_options(KEY_PATTERNS)
        if self.r.random() < 0.6:
            cmd += ["TYPE", self.r.choice(["hash", "set", "string", "HASH", "Set", "list", "foo"])]
        return cmd

    def gen_keys(self):
        return ["KEYS", self.r.choice(KEY_PATTERNS)]

    def gen_dbsize(self):
        return ["DBSIZE"]

    def gen_flushdb(self):
        return ["FLUSHDB"]

    def gen_select(self):
        return ["SELECT", self.r.choice(["0", "1"])]

    def gen_swapdb(self):
        return ["SWAPDB", "0", "1"]

    def gen_set(self):
        cmd = ["SET", self.key(), self.value()]
        opt = self.r.random()
        if opt < 0.1:
            cmd.append(self.r.choice(["NX", "XX", "GET", "KEEPTTL"]))
        elif opt < 0.15:
            cmd += ["EX", self.ttl()]
        return cmd

    def gen_get(self):
        return ["GET", self.key()]

    def gen_append(self):
        return ["APPEND", self.key(), self.value()]

    def gen_incr(self):
        return ["INCR", self.key()]

    def gen_strlen(self):
        return ["STRLEN", self.key()]

    # -- hashes

    def field_values(self):
        return [x for _ in range(self.r.randint(1, 3)) for x in (self.field(), self.value())]

    def gen_hset(self):
        return ["HSET", self.key()] + self.field_values()

    def gen_hmset(self):
        return ["HMSET", self.key()] + self.field_values()

    def gen_hsetnx(self):
        return ["HSETNX", self.key(), self.field(), self.value()]

    def gen_hget(self):
        return ["HGET", self.key(), self.field()]

    def gen_hmget(self):
        return ["HMGET", self.key()] + [self.field() for _ in range(self.r.randint(1, 4))]

    def gen_hgetall(self):
        return ["HGETALL", self.key()]

    def gen_hdel(self):
        return ["HDEL", self.key()] + [self.field() for _ in range(self.r.randint(1, 3))]

    def gen_hlen(self):
        return ["HLEN", self.key()]

    def gen_hstrlen(self):
        return ["HSTRLEN", self.key(), self.field()]

    def gen_hexists(self):
        return ["HEXISTS", self.key(), self.field()]

    def gen_hkeys(self):
        return ["HKEYS", self.key()]

    def gen_hvals(self):
        return ["HVALS", self.key()]

    def gen_hincrby(self):
        return ["HINCRBY", self.key(), self.field(), self.integer()]

    def gen_hincrbyfloat(self):
        return ["HINCRBYFLOAT", self.key(), self.field(), self.float_incr()]

    def gen_hrandfield(self):
        cmd = ["HRANDFIELD", self.key()]
        if self.r.random() < 0.75:
            cmd.append(self.count())
            if self.r.random() < 0.5:
                cmd.append(self.word("WITHVALUES"))
        return cmd

    def gen_hscan(self):
        return ["HSCAN", self.key(), "0"] + self.scan_options(FIELD_PATTERNS)

    # -- sets

    def gen_sadd(self):
        return ["SADD", self.key()] + [self.member() for _ in range(self.r.randint(1, 4))]

    def gen_srem(self):
        return ["SREM", self.key()] + [self.member() for _ in range(self.r.randint(1, 3))]

    def gen_smembers(self):
        return ["SMEMBERS", self.key()]

    def gen_sismember(self):
        return ["SISMEMBER", self.key(), self.member()]

    def gen_smismember(self):
        return ["SMISMEMBER", self.key()] + [self.member() for _ in range(self.r.randint(1, 4))]

    def gen_scard(self):
        return ["SCARD", self.key()]

    def gen_spop(self):
        return ["SPOP", self.key()] + ([self.count(0, 4)] if self.r.random() < 0.5 else [])

    def gen_srandmember(self):
        return ["SRANDMEMBER", self.key()] + ([self.count()] if self.r.random() < 0.75 else [])

    def gen_smove(self):
        return ["SMOVE", self.key(), self.key(), self.member()]

    def gen_sinter(self):
        return ["SINTER"] + self.keys()

    def gen_sunion(self):
        return ["SUNION"] + self.keys()

    def gen_sdiff(self):
        return ["SDIFF"] + self.keys()

    def gen_sinterstore(self):
        return ["SINTERSTORE", self.key()] + self.keys()

    def gen_sunionstore(self):
        return ["SUNIONSTORE", self.key()] + self.keys()

    def gen_sdiffstore(self):
        return ["SDIFFSTORE", self.key()] + self.keys()

    def gen_sintercard(self):
        keys = self.keys()
        numkeys = str(len(keys)) if self.r.random() < 0.9 else self.r.choice(["0", "-1", str(len(keys) + 1), "abc"])
        cmd = ["SINTERCARD", numkeys] + keys
        if self.r.random() < 0.4:
            cmd += [self.word("LIMIT"), self.r.choice(["0", "1", "2", "3", "10", "-1", "abc"])]
        return cmd

    def gen_sscan(self):
        return ["SSCAN", self.key(), "0"] + self.scan_options(FIELD_PATTERNS)


class HashCommands(RandomStream):
    KEYS = HASH_KEYS
    WEIGHTS = [
        ("HSET", 12), ("HMSET", 2), ("HSETNX", 3), ("HGET", 8), ("HMGET", 4), ("HGETALL", 4), ("HDEL", 6),
        ("HLEN", 3), ("HSTRLEN", 3), ("HEXISTS", 3), ("HKEYS", 2), ("HVALS", 2), ("HINCRBY", 5),
        ("HINCRBYFLOAT", 5), ("HRANDFIELD", 4), ("HSCAN", 2), ("SADD", 0.7), ("SCARD", 0.5), ("SMEMBERS", 0.5),
    ]


class SetCommands(RandomStream):
    KEYS = SET_KEYS
    WEIGHTS = [
        ("SADD", 14), ("SREM", 6), ("SMEMBERS", 4), ("SISMEMBER", 5), ("SMISMEMBER", 3), ("SCARD", 3),
        ("SPOP", 4), ("SRANDMEMBER", 4), ("SMOVE", 4), ("SINTER", 3), ("SUNION", 3), ("SDIFF", 3),
        ("SINTERSTORE", 2), ("SUNIONSTORE", 2), ("SDIFFSTORE", 2), ("SINTERCARD", 3), ("SSCAN", 2),
        ("HSET", 0.7), ("HGETALL", 0.5), ("HLEN", 0.5),
    ]


def run_random(redis_ref, subject, stream_class, label, seed, count, resp=2):
    differ = differ_for(redis_ref, subject, resp)
    try:
        difflib_redis.check_random(differ, label, seed, count, stream_class(seed), rerun=f"DIFF_SEED={SEED}")
    finally:
        differ.close()


def test_random_hash_resp2(redis_ref, subject):
    run_random(redis_ref, subject, HashCommands, "hash RESP2", SEED + 10, RANDOM_COMMANDS)


def test_random_set_resp2(redis_ref, subject):
    run_random(redis_ref, subject, SetCommands, "set RESP2", SEED + 20, RANDOM_COMMANDS)


def test_random_hash_resp3(redis_ref, subject):
    run_random(redis_ref, subject, HashCommands, "hash RESP3", SEED + 11, RESP3_COMMANDS, resp=3)


def test_random_set_resp3(redis_ref, subject):
    run_random(redis_ref, subject, SetCommands, "set RESP3", SEED + 21, RESP3_COMMANDS, resp=3)


@pytest.mark.parametrize("stream_class", [HashCommands, SetCommands])
def test_random_stream_is_reproducible(stream_class):
    """A reported seed/index must point at the same command on a rerun."""
    a = [cmd for cmd, _ in zip(stream_class(SEED, now=1), range(500))]
    b = [cmd for cmd, _ in zip(stream_class(SEED, now=1), range(500))]
    assert a == b


# ----------------------------------------------------------------------------
# The checker of random replies must reject what is wrong (it is otherwise only
# exercised on correct replies, by redis against itself).

@pytest.mark.parametrize("cmd, reply, state, resp", [
    (("SRANDMEMBER", "s"), b"z", [b"a", b"b"], 2),
    (("SRANDMEMBER", "s"), Nil("$-1"), [b"a"], 2),
    (("SRANDMEMBER", "s"), b"a", [], 2),
    (("SRANDMEMBER", "s", "2"), [b"a", b"a"], [b"a", b"b"], 2),
    (("SRANDMEMBER", "s", "3"), [b"a", b"b"], [b"a", b"b", b"c"], 2),
    (("SRANDMEMBER", "s", "-3"), [b"a", b"b"], [b"a", b"b"], 2),
    (("SRANDMEMBER", "s", "-3"), [b"a", b"b", b"z"], [b"a", b"b"], 2),
    (("SPOP", "s", "5"), Set([b"a"]), Set([b"a", b"b"]), 3),
    (("SPOP", "s", "abc"), [], [b"a"], 2),
    (("HRANDFIELD", "h", "2", "WITHVALUES"), [b"a", b"1", b"b", b"9"], [b"a", b"1", b"b", b"2"], 2),
    (("HRANDFIELD", "h", "2", "WITHVALUES"), [b"a", b"1", b"b", b"2"], [b"a", b"1", b"b", b"2"], 3),
    (("HRANDFIELD", "h", "-3"), [b"a", b"a"], [b"a", b"1"], 2),
    (("HRANDFIELD", "h", "1"), [b"a"], Err(b"WRONGTYPE x"), 2),
])
def test_random_checker_rejects(cmd, reply, state, resp):
    assert random_reply_problems(cmd, reply, state, resp)


@pytest.mark.parametrize("cmd, reply, state, resp", [
    (("SRANDMEMBER", "s"), b"b", [b"a", b"b"], 2),
    (("SRANDMEMBER", "s", "-3"), [b"a", b"a", b"a"], Set([b"a", b"b"]), 3),
    (("SPOP", "s", "5"), Set([b"b", b"a"]), Set([b"a", b"b"]), 3),
    (("HRANDFIELD", "h", "-3", "withvalues"), [[b"a", b"1"]] * 3, [(b"a", b"1")], 3),
    (("HRANDFIELD", "h", "5", "WITHVALUES"), [b"b", b"2", b"a", b"1"], [b"a", b"1", b"b", b"2"], 2),
])
def test_random_checker_accepts(cmd, reply, state, resp):
    from harness import Map
    if isinstance(state, list) and state and isinstance(state[0], tuple):
        state = Map(state)
    assert random_reply_problems(cmd, reply, state, resp) == []
