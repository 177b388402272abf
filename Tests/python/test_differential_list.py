"""Differential test of the Redis 7.0 list commands: Lode against a reference redis-server 7.

Fixed cases and a randomized sequence (fixed seed) send the same commands to both
servers and compare the replies exactly (RESP type and bytes, errors included;
lists are ordered, so nothing is relaxed but what difflib_redis relaxes: TTLs
within a tolerance, SCAN as the union of keys, KEYS sorted).

The blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) are tested twice:
  * non-blocking uses (data present, argument errors, WRONGTYPE) in the
    differential fixed cases and, primed with a push so they never block, in the
    random sequence;
  * real blocking in test_blocking_*: scenarios with several connections whose
    expected replies are written out, run against redis-server ("redis" ids) and
    against the server under test, so every expectation is checked on Redis too.
    Redis serves blocking timeouts from its 10 Hz cron, so a 0.1 s timeout
    answers after 0.1-0.2 s; the scenarios allow for that.

Run (from the repository root):
  pytest Tests/python/test_differential_list.py                     # Lode vs redis
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential_list.py   # redis vs redis
Knobs: DIFF_SEED, DIFF_LIST_COMMANDS, DIFF_LIST_RESP3_COMMANDS, DIFF_MAX_MISMATCHES.
"""
import os
import time

import pytest

import harness
from diff_blocking import Scenario, assert_blocked, expect
from diff_blocking import server  # noqa: F401  (a fixture)
from diff_random_base import TypedRandomCommands
from difflib_redis import I64_MAX, I64_MIN, Differ, case, check_case, check_random
from difflib_redis import subject  # noqa: F401  (a fixture)
from harness import NULL, NULL_ARRAY, Err, Simple

SEED = int(os.environ.get("DIFF_SEED", "20261122"))
RANDOM_COMMANDS = int(os.environ.get("DIFF_LIST_COMMANDS", "6000"))
RESP3_COMMANDS = int(os.environ.get("DIFF_LIST_RESP3_COMMANDS", "1500"))

OK = Simple(b"OK")

BIN = b"\x00\r\n\xff bin\r\n"
E511, E512, E1000 = b"x" * 511, b"y" * 512, b"z" * 1000
E100K = bytes(range(256)) * 400  # 102400 bytes, every byte value
THOUSAND = tuple(f"e{i}" for i in range(1000))

# ----------------------------------------------------------------------------
# Fixed cases: each starts from FLUSHALL + SELECT 0 and runs in RESP2 and RESP3.

PUSH_POP_CASES = [
    case("push-order", "LPUSH k a b c", "LRANGE k 0 -1", "RPUSH k d e", "LRANGE k 0 -1", "LLEN k", "TYPE k",
         "LPUSH k a", "LRANGE k 0 -1"),
    case("push-arity", "LPUSH", "LPUSH k", "RPUSH k", "LPUSHX k", "RPUSHX", "lpush k", "EXISTS k"),
    case("pushx", "LPUSHX k a", "RPUSHX k a b", "EXISTS k", "RPUSH k a", "LPUSHX k b c", "RPUSHX k d e",
         "LRANGE k 0 -1", "TYPE k"),
    case("pop-single", "RPUSH k a b c d", "LPOP k", "RPOP k", "LRANGE k 0 -1", "LPOP k", "RPOP k", "EXISTS k",
         "LPOP k", "RPOP k", "TYPE k", "DBSIZE"),
    case("pop-count", "RPUSH k a b c d e", "LPOP k 2", "RPOP k 2", "LPOP k 0", "RPOP k 0", "LLEN k", "LPOP k 1",
         "EXISTS k", "LPOP k 0", "RPOP k 5", "LPOP k 1", "RPOP k"),
    case("pop-count-huge", "RPUSH k a b c", f"LPOP k {I64_MAX}", "EXISTS k", "RPUSH k a b c", "RPOP k 100",
         "RPUSH k a", "RPOP k 9223372036854775808", "LLEN k"),
    case("pop-count-invalid", "RPUSH k a", "LPOP k -1", "RPOP k -1", "LPOP k abc", "LPOP k 1.5", ("LPOP", "k", ""),
         "LPOP k +1", f"LPOP k {I64_MIN}", "LPOP k 1 2", "LPOP", "RPOP", "LPOP nokey -1", "LPOP nokey abc",
         "RPOP nokey 0", "LLEN k"),
    case("llen", "LLEN nokey", "RPUSH k a b", "LLEN k", "LLEN", "LLEN a b"),
]

READ_CASES = [
    case("lrange", "RPUSH k a b c d e", "LRANGE k 0 -1", "LRANGE k 0 0", "LRANGE k -1 -1", "LRANGE k -2 -1",
         "LRANGE k 1 3", "LRANGE k 3 1", "LRANGE k -100 100", "LRANGE k 5 10", "LRANGE k 4 10",
         "LRANGE k -100 -50", "LRANGE k 0 -6", "LRANGE k -6 0", "LRANGE k -5 -5", "LRANGE k 2 -3",
         f"LRANGE k {I64_MIN} {I64_MAX}", f"LRANGE k 0 {I64_MAX}", f"LRANGE k {I64_MAX} {I64_MAX}",
         f"LRANGE k {I64_MIN} {I64_MIN}", f"LRANGE k -1 {I64_MIN}"),
    case("lrange-invalid", "RPUSH k a", "LRANGE k 0 abc", "LRANGE k a 0", "LRANGE k 0 1.5", ("LRANGE", "k", "", "1"),
         "LRANGE k 0 9223372036854775808", "LRANGE k +0 1", "LRANGE k 0", "LRANGE k", "LRANGE k 0 1 2",
         "LRANGE nokey 0 -1", "LRANGE nokey a b"),
    case("lindex", "RPUSH k a b c", "LINDEX k 0", "LINDEX k -1", "LINDEX k 2", "LINDEX k 3", "LINDEX k -3",
         "LINDEX k -4", f"LINDEX k {I64_MAX}", f"LINDEX k {I64_MIN}", "LINDEX k abc", "LINDEX k 1.5",
         ("LINDEX", "k", ""), "LINDEX k 9223372036854775808", "LINDEX nokey 0", "LINDEX nokey abc", "LINDEX k",
         "LINDEX k 0 1"),
    case("lpos-basic", "RPUSH k a b c 1 2 3 c c", "LPOS k c", "LPOS k zz", "LPOS k 1", "LPOS k c RANK 2",
         "LPOS k c RANK -1", "LPOS k c RANK -3", "LPOS k c RANK 4", "LPOS k c RANK -4", "LPOS k c COUNT 0",
         "LPOS k c COUNT 2", "LPOS k c COUNT 10", "LPOS k zz COUNT 0", "LPOS k c COUNT 2 RANK -1",
         "LPOS k c COUNT 0 RANK 2", "LPOS k c RANK -2 COUNT 0", "LPOS k c MAXLEN 3", "LPOS k c MAXLEN 7 COUNT 0",
         "LPOS k c MAXLEN 0 COUNT 0", "LPOS k c RANK -1 MAXLEN 1", "LPOS k c RANK -1 MAXLEN 3 COUNT 0",
         "LPOS k a MAXLEN 1", "LPOS k b MAXLEN 1", "lpos k c rank 2 count 1 maxlen 10"),
    case("lpos-repeated-options", "RPUSH k a b a c a", "LPOS k a RANK 1 RANK 2", "LPOS k a COUNT 1 COUNT 0",
         "LPOS k a MAXLEN 1 MAXLEN 0 COUNT 0", "LPOS k a COUNT 1"),
    case("lpos-errors", "RPUSH k a b a", "LPOS k a RANK 0", "LPOS k a MAXLEN -1", "LPOS k a COUNT -1",
         "LPOS k a RANK abc", "LPOS k a COUNT abc", "LPOS k a MAXLEN abc", "LPOS k a RANK 1.5",
         "LPOS k a RANK", "LPOS k a COUNT", "LPOS k a FOO", "LPOS k a FOO 1", "LPOS k a RANK 1 FOO 2",
         "LPOS k a RANK 0 COUNT -1", "LPOS k a COUNT -1 RANK 0", "LPOS k", "LPOS",
         "LPOS nokey a RANK 0", "LPOS nokey a", "LPOS nokey a COUNT 0", "LPOS nokey a COUNT 1"),
    case("lpos-extremes", "RPUSH k a b a", f"LPOS k a RANK {I64_MIN}", f"LPOS k a RANK {I64_MAX}",
         "LPOS k a RANK -9223372036854775807", f"LPOS k a COUNT {I64_MAX}", f"LPOS k a MAXLEN {I64_MAX}",
         "LPOS k a RANK 9223372036854775808", f"LPOS k a COUNT {I64_MIN}", f"LPOS k a MAXLEN {I64_MIN}"),
]

WRITE_CASES = [
    case("lset", "LSET nokey 0 a", "EXISTS nokey", "RPUSH k a b c", "LSET k 0 x", "LSET k -1 y", "LSET k 3 z",
         "LSET k -4 z", f"LSET k {I64_MAX} z", f"LSET k {I64_MIN} z", "LSET k abc z", "LSET k 1.5 z",
         "LSET nokey abc z", "LSET k 1", "LSET k", "LSET k 1 a b", "LRANGE k 0 -1", ("LSET", "k", "1", ""),
         "LINDEX k 1", ("LSET", "k", "1", E1000), "LINDEX k 1", ("LSET", "k", "-2", BIN), "LRANGE k 0 -1"),
    case("linsert", "LINSERT nokey BEFORE a x", "EXISTS nokey", "RPUSH k a b a", "LINSERT k BEFORE a x",
         "LINSERT k AFTER a y", "LINSERT k after b z", "LINSERT k before b w", "LINSERT k BEFORE zz x",
         "LINSERT k AFTER zz x", "LRANGE k 0 -1", "LINSERT k MIDDLE a x", "LINSERT k BEFORE a",
         "LINSERT k", "LINSERT k BEFORE a x y", "LINSERT nokey FOO a x", "LINSERT k FOO zz x",
         ("LINSERT", "k", "BEFORE", "", "e"), ("RPUSH", "k", ""), ("LINSERT", "k", "AFTER", "", "after-empty"),
         ("LINSERT", "k", "BEFORE", "x", ""), "LRANGE k 0 -1", "LLEN k"),
    case("lrem", "RPUSH k a b a c a b a", "LREM k 2 a", "LRANGE k 0 -1", "LREM k -1 a", "LRANGE k 0 -1",
         "LREM k 0 b", "LRANGE k 0 -1", "LREM k 0 zz", "LREM k 1 zz", "LREM k -1 zz", "LREM k 5 a",
         "LRANGE k 0 -1", "LREM k 0 c", "EXISTS k", "LREM nokey 0 a", "LREM k abc a", "LREM k 1.5 a",
         "LREM k 1", "LREM k", "LREM k 1 a b"),
    case("lrem-extreme-counts", "RPUSH k a a b a", f"LREM k {I64_MIN} a", "LRANGE k 0 -1", "RPUSH k a a",
         f"LREM k {I64_MAX} a", "LRANGE k 0 -1", "LREM k 9223372036854775808 b"),
    case("ltrim", "RPUSH k a b c d e", "LTRIM k 1 -2", "LRANGE k 0 -1", "LTRIM k -100 100", "LRANGE k 0 -1",
         "LTRIM k 1 1", "LRANGE k 0 -1", "LTRIM k 5 10", "EXISTS k", "LTRIM nokey 0 1", "EXISTS nokey",
         "RPUSH k a b c", "LTRIM k 2 1", "EXISTS k", "RPUSH k a b c", f"LTRIM k {I64_MIN} {I64_MAX}",
         "LRANGE k 0 -1", "LTRIM k -1 -1", "LRANGE k 0 -1", "LTRIM k a b", "LTRIM k 0 1.5", "LTRIM k 0",
         "LTRIM k", "LTRIM k 0 1 2", "RPUSH k b", f"LTRIM k {I64_MAX} -1", "EXISTS k"),
    case("lmove", "RPUSH src a b c", "LMOVE src dst LEFT RIGHT", "LMOVE src dst RIGHT LEFT",
         "LMOVE src dst left left", "LRANGE dst 0 -1", "EXISTS src", "LMOVE src dst LEFT RIGHT", "EXISTS src",
         "LMOVE dst dst LEFT RIGHT", "LRANGE dst 0 -1", "LMOVE dst dst RIGHT LEFT", "LRANGE dst 0 -1",
         "LMOVE dst dst LEFT LEFT", "LMOVE dst dst RIGHT RIGHT", "LRANGE dst 0 -1"),
    case("lmove-errors", "RPUSH src a", "LMOVE src dst UP LEFT", "LMOVE src dst LEFT DOWN", "LMOVE src dst LEFT",
         "LMOVE src dst", "LMOVE", "LMOVE src dst LEFT RIGHT extra", "LMOVE nokey dst FOO BAR",
         "LMOVE src dst LEF RIGHT", "LRANGE src 0 -1", "EXISTS dst"),
    case("lmove-single-element-self", "RPUSH k a", "LMOVE k k LEFT LEFT", "LRANGE k 0 -1", "LMOVE k k RIGHT LEFT",
         "LLEN k", "RPOPLPUSH k k", "LRANGE k 0 -1"),
    case("rpoplpush", "RPUSH src a b c", "RPOPLPUSH src dst", "RPOPLPUSH src src", "LRANGE src 0 -1",
         "LRANGE dst 0 -1", "RPOPLPUSH nokey dst", "EXISTS nokey", "RPOPLPUSH src dst", "RPOPLPUSH src dst",
         "EXISTS src", "LRANGE dst 0 -1", "RPOPLPUSH src", "RPOPLPUSH", "RPOPLPUSH a b c"),
    case("move-wrongtype", "RPUSH l a b", "SET s x", "LMOVE l s LEFT LEFT", "LRANGE l 0 -1", "RPOPLPUSH l s",
         "LRANGE l 0 -1", "LMOVE s l LEFT LEFT", "RPOPLPUSH s l", "RPOPLPUSH nokey s", "LMOVE nokey s LEFT RIGHT",
         "LMOVE s nokey LEFT RIGHT", "GET s", "LRANGE l 0 -1", "LMOVE l l LEFT FOO"),
    case("lmpop", "RPUSH a 1 2 3", "RPUSH b 4 5", "LMPOP 2 nokey a LEFT", "LMPOP 2 a b RIGHT COUNT 10",
         "LMPOP 1 b LEFT COUNT 1", "EXISTS a", "LMPOP 3 nokey a b right count 5", "LMPOP 2 a b LEFT",
         "EXISTS a b", "RPUSH a x", "LMPOP 1 a RIGHT COUNT 9223372036854775807", "LMPOP 1 a LEFT"),
    case("lmpop-errors", "RPUSH a 1 2 3", "LMPOP 0 a LEFT", "LMPOP -1 a LEFT", "LMPOP abc a LEFT",
         "LMPOP 1.5 a LEFT", ("LMPOP", "", "a", "LEFT"), "LMPOP 2 a LEFT", "LMPOP 1 a MIDDLE", "LMPOP 1 a left",
         "LMPOP 1 a LEFT COUNT 0", "LMPOP 1 a LEFT COUNT -1", "LMPOP 1 a LEFT COUNT abc", "LMPOP 1 a LEFT COUNT",
         "LMPOP 1 a LEFT COUNT 1 COUNT 2", "LMPOP 1 a LEFT FOO", "LMPOP 1 a LEFT COUNT 1 FOO", "LMPOP 1 a",
         f"LMPOP {I64_MAX} a LEFT", "LMPOP 2147483648 a LEFT", "LMPOP 9223372036854775808 a LEFT",
         "LMPOP 3 a b LEFT", "LMPOP", "LMPOP 1", "LMPOP 0 a LEFT COUNT 0", "LMPOP 1 a FOO COUNT 0",
         "LLEN a"),
    case("lmpop-wrongtype", "SET s x", "RPUSH l a b", "LMPOP 2 s l LEFT", "LMPOP 2 l s LEFT", "LMPOP 2 nokey s LEFT",
         "LLEN l", "LMPOP 1 l RIGHT COUNT 2", "LMPOP 2 l s LEFT"),
]

ELEMENT_CASES = [
    case("elements-empty-binary-long", ("RPUSH", "k", "", BIN, E511, E512, E1000), "LLEN k", "LRANGE k 0 -1",
         "LINDEX k 0", "LINDEX k 1", "LINDEX k 3", ("LPOS", "k", ""), ("LPOS", "k", E512), ("LPOS", "k", E511),
         ("LPOS", "k", b"x" * 510), ("LPOS", "k", BIN, "COUNT", "0"), ("LREM", "k", "1", E512),
         ("LINSERT", "k", "BEFORE", E511, b"w" * 5000), ("LINSERT", "k", "AFTER", "", E512), "LRANGE k 0 -1",
         ("LSET", "k", "0", E100K), "LINDEX k 0", "LPOP k", ("LPUSH", "k", E100K), ("LREM", "k", "0", E100K),
         "LRANGE k 0 -1", ("LPUSHX", "k", ""), ("RPUSHX", "k", ""), ("LREM", "k", "-1", ""), "LRANGE k 0 -1"),
    case("elements-binary-keys", ("RPUSH", b"k\x00\r\n", "a"), ("LPUSH", "", "b"), ("LMOVE", b"k\x00\r\n", "",
         "LEFT", "RIGHT"), ("LRANGE", "", "0", "-1"), ("EXISTS", b"k\x00\r\n"), ("LMPOP", "2", b"k\x00\r\n", "",
         "RIGHT"), "KEYS *", ("RPUSH", E512, "v"), ("LRANGE", E512, "0", -1), ("TYPE", E512)),
    case("elements-numeric-strings", "RPUSH k 1 01 1.0 -0 0 +1 1e3", "LPOS k 1", "LPOS k 01", "LPOS k 1.0",
         "LREM k 0 1", "LRANGE k 0 -1", "LINSERT k BEFORE 0 x", "LRANGE k 0 -1"),
    case("list-thousand", ("RPUSH", "k") + THOUSAND, "LLEN k", "LINDEX k 500", "LINDEX k -1", "LRANGE k 995 -1",
         "LRANGE k -1003 -998", "LPOS k e999", "LPOS k e999 MAXLEN 999", "LPOS k e0 RANK -1", "LREM k 0 e500",
         "LINSERT k AFTER e998 new", "LRANGE k -4 -1", "LSET k 700 changed", "LINDEX k 700",
         "LTRIM k 100 899", "LLEN k", "LINDEX k 0", "LPOP k 3", "RPOP k 3", "LMPOP 1 k LEFT COUNT 2", "LLEN k"),
    case("list-many-long-elements", ("RPUSH", "k") + tuple(b"%04d" % i + E512 for i in range(200)), "LLEN k",
         "LINDEX k 150", ("LPOS", "k", b"0150" + E512), ("LREM", "k", "0", b"0007" + E512), "LRANGE k 198 -1",
         "LTRIM k 0 2", "LRANGE k 0 -1"),
]

WRONGTYPE_CASES = [
    case("list-commands-on-string", "SET s x", "LPUSH s a", "RPUSH s a", "LPUSHX s a", "RPUSHX s a", "LPOP s",
         "RPOP s", "LPOP s 2", "LLEN s", "LRANGE s 0 -1", "LINDEX s 0", "LSET s 0 a", "LINSERT s BEFORE x a",
         "LREM s 0 x", "LTRIM s 0 1", "LPOS s x", "LMOVE s d LEFT LEFT", "RPOPLPUSH s d", "LMPOP 1 s LEFT",
         "BLPOP s 0", "BRPOP s 0", "BLMOVE s d LEFT LEFT 0", "BRPOPLPUSH s d 0", "BLMPOP 0 1 s LEFT", "GET s",
         "EXISTS d"),
    case("string-commands-on-list", "RPUSH l a", "GET l", "INCR l", "DECRBY l 2", "INCRBYFLOAT l 1", "APPEND l x",
         "STRLEN l", "SETRANGE l 0 x", "GETRANGE l 0 -1", "GETSET l x", "GETDEL l", "GETEX l", "SETNX l x",
         "MGET l nokey", "LRANGE l 0 -1", "SET l v XX GET", "LRANGE l 0 -1", "SET l v", "TYPE l", "GET l"),
    case("hash-set-commands-on-list", "RPUSH l a", "HSET l f v", "HGET l f", "SADD l m", "SMEMBERS l",
         "HSET h f v", "LPUSH h a", "SADD st m", "RPUSH st a", "LLEN h", "LRANGE st 0 -1", "TYPE l"),
    case("list-lookup-order-of-errors", "SET s x", "LPOP s abc", "LPOP s -1", "LRANGE s a b", "LINDEX s abc",
         "LSET s abc x", "LREM s abc x", "LINSERT s FOO a b", "LPOS s a RANK 0", "LMPOP 0 s LEFT",
         "LMOVE s d FOO LEFT", "LTRIM s a b"),
]

KEYSPACE_CASES = [
    case("list-keyspace", "RPUSH l a b c", "TYPE l", "EXISTS l", "EXPIRE l 1000", "TTL l", "PERSIST l", "TTL l",
         "RENAME l m", "LRANGE m 0 -1", "TYPE l", "COPY m n", "LPUSH n z", "LRANGE m 0 -1", "LRANGE n 0 -1",
         "COPY m n", "COPY m n REPLACE", "LRANGE n 0 -1", "MOVE m 1", "EXISTS m", "SELECT 1", "LRANGE m 0 -1",
         "COPY m m DB 0", "SELECT 0", "LRANGE m 0 -1", "DEL m n", "DBSIZE"),
    case("list-rename-over-types", "RPUSH l a", "SET s x", "RENAME l s", "TYPE s", "LRANGE s 0 -1", "SET t y",
         "RPUSH l2 b", "RENAME t l2", "TYPE l2", "GET l2", "RPUSH l3 c", "RENAMENX l3 l2", "RENAMENX l3 l4",
         "LRANGE l4 0 -1", "RENAME l4 l4", "LRANGE l4 0 -1"),
    case("list-ttl-kept-and-dropped", "RPUSH l a", "EXPIRE l 1000", "RPUSH l b", "LPOP l", "LSET l 0 x",
         "LINSERT l BEFORE x w", "TTL l", "LPOP l 2", "TTL l", "RPUSH l c", "TTL l", "EXPIRE l 1000",
         "RENAME l m", "TTL m", "LMOVE m n LEFT LEFT", "TTL m", "TTL n", "SET n s", "RPUSH m q",
         "EXPIRE m 0", "EXISTS m"),
    case("list-copy-move-db", "RPUSH l a b", "SELECT 1", "RPUSH l other", "SELECT 0", "MOVE l 1", "COPY l l DB 1",
         "COPY l l DB 1 REPLACE", "SELECT 1", "LRANGE l 0 -1", "SELECT 0", "LRANGE l 0 -1", "SWAPDB 0 1",
         "LRANGE l 0 -1", "SELECT 1", "LRANGE l 0 -1"),
    case("scan-type-list", "RPUSH l1 a", "RPUSH l2 b", "SET s x", "HSET h f v", "SADD st m", "SCAN 0 TYPE list",
         "SCAN 0 TYPE LIST", "SCAN 0 TYPE string", "SCAN 0 MATCH l1 TYPE list", "SCAN 0 TYPE list COUNT 1",
         "SCAN 0 TYPE lists", "KEYS *", "DBSIZE", "LPOP l1", "SCAN 0 TYPE list"),
    case("del-unlink-flush", "RPUSH l a", "DEL l", "EXISTS l", "RPUSH l b", "UNLINK l", "LLEN l", "RPUSH l c",
         "FLUSHDB", "LLEN l", "RPUSH l d", "FLUSHALL", "LRANGE l 0 -1"),
    case("emptied-list-is-gone", "RPUSH l a", "LREM l 0 a", "TYPE l", "RPUSH l a", "LTRIM l 1 0", "TYPE l",
         "RPUSH l a", "LMOVE l m LEFT LEFT", "TYPE l", "LMPOP 1 m LEFT", "TYPE m", "RPUSH l a", "RPOPLPUSH l l",
         "TYPE l", "RPUSH q a", "BLPOP q 0", "EXISTS q", "DBSIZE", "SCAN 0"),
]

BLOCKING_NONBLOCKING_CASES = [
    case("blocking-with-data", "RPUSH k a b c", "BLPOP k 0", "BRPOP k 0", "BLPOP k 0.5", "EXISTS k",
         "RPUSH k1 x", "RPUSH k2 y z", "BLPOP nokey k2 k1 0", "BRPOP k1 k2 1", "BRPOP k1 k2 0", "EXISTS k1 k2"),
    case("blocking-moves-with-data", "RPUSH a 1 2 3", "BLMOVE a b LEFT RIGHT 0", "BLMOVE a b RIGHT LEFT 0.5",
         "BRPOPLPUSH a b 0", "LRANGE b 0 -1", "EXISTS a", "BLMOVE b b LEFT RIGHT 0", "LRANGE b 0 -1",
         "BLMPOP 0 2 nokey b RIGHT COUNT 2", "BLMPOP 1 1 b LEFT", "EXISTS b"),
    case("blocking-first-key-with-data-wins", "RPUSH k1 a", "RPUSH k2 b", "BLPOP k1 k2 0", "BLPOP k1 k2 0",
         "RPUSH k1 c", "RPUSH k2 d", "BLMPOP 0 2 k2 k1 LEFT COUNT 5", "BLMPOP 0 2 k2 k1 LEFT COUNT 5"),
    case("blocking-argument-errors", "RPUSH k a", "BLPOP k -1", "BLPOP k -0.5", "BLPOP k abc", ("BLPOP", "k", ""),
         ("BLPOP", "k", " 1"), "BLPOP k 1.5.5", "BLPOP k nan", "BLPOP k", "BLPOP", "BRPOP k -1", "BRPOP k x",
         "BLMOVE k d UP LEFT 0", "BLMOVE k d LEFT LEFT -1", "BLMOVE k d LEFT LEFT abc", "BLMOVE k d LEFT LEFT",
         "BRPOPLPUSH k d -1", "BRPOPLPUSH k d abc", "BRPOPLPUSH k d", "BLMPOP 0 0 k LEFT", "BLMPOP -1 1 k LEFT",
         "BLMPOP abc 1 k LEFT", "BLMPOP 0 1 k LEFT COUNT 0", "BLMPOP 0 1 k MIDDLE", "BLMPOP 0 2 k LEFT",
         "BLMPOP -1 0 k LEFT", "BLMPOP 0 abc k LEFT", "BLMPOP 0 1 k", "BLMPOP 0", "LLEN k"),
    case("blocking-wrongtype", "SET s x", "RPUSH l a", "BLPOP s 0", "BLPOP nokey s 0", "BLPOP l s 0", "BLPOP s l 0",
         "RPUSH l a", "BLMOVE l s LEFT LEFT 0", "BRPOPLPUSH l s 0", "LLEN l", "BLMPOP 0 2 s l LEFT",
         "BLMPOP 0 2 l s LEFT", "BLMPOP 0 2 nokey s LEFT"),
]

ARITY_CASES = [
    case("list-arity-errors", "LPUSH k", "RPUSHX k", "LPOP", "RPOP k 1 2", "LLEN", "LRANGE k 0", "LINDEX k",
         "LSET k 0", "LINSERT k BEFORE a", "LREM k 0", "LTRIM k 0", "LPOS k", "LMOVE k d LEFT",
         "RPOPLPUSH k", "LMPOP 1", "BLPOP k", "BRPOP", "BLMOVE k d LEFT RIGHT", "BRPOPLPUSH k d",
         "BLMPOP 0 1", "lPoS k"),
]

FIXED_CASES = (PUSH_POP_CASES + READ_CASES + WRITE_CASES + ELEMENT_CASES + WRONGTYPE_CASES + KEYSPACE_CASES
               + BLOCKING_NONBLOCKING_CASES + ARITY_CASES)


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("commands", FIXED_CASES)
def test_fixed(redis_ref, subject, commands, resp):
    differ = Differ(redis_ref, subject, resp=resp)
    try:
        differ.reset_for_case()
        check_case(differ, commands, f"RESP{resp}: ")
    finally:
        differ.close()


# ----------------------------------------------------------------------------
# Randomized sequence

SMALL_ELEMS = ["a", "b", "c", "d", "a", "b", "1", "-1", "", "a b"]
LONG_ELEMS = [E511, E512, E1000, b"v" * 70]
LIST_KEYS = [b"k1", b"k2", b"k3", b"k1", b"k2", b"", b"k\x00\r\n", b"s"]
DIRS = ["LEFT", "RIGHT", "LEFT", "RIGHT", "left", "Right"]


class ListCommands(TypedRandomCommands):
    """Lists over a small key pool (incl. the empty key, a binary key and a string key)."""

    KEYS = LIST_KEYS
    SCAN_TYPES = ["list", "LIST", "string", "hash", "foo"]
    NO_MUTATE = {"SCAN", "SELECT"}

    WEIGHTS = [
        ("LPUSH", 6), ("RPUSH", 6), ("LPUSHX", 2), ("RPUSHX", 2), ("LPOP", 4), ("RPOP", 4), ("LLEN", 3),
        ("LRANGE", 6), ("LINDEX", 4), ("LSET", 3), ("LINSERT", 3), ("LREM", 3), ("LTRIM", 2), ("LPOS", 6),
        ("LMOVE", 3), ("RPOPLPUSH", 2), ("LMPOP", 2), ("BLPOP", 1.5), ("BRPOP", 1), ("BLMOVE", 1),
        ("BRPOPLPUSH", 0.5), ("BLMPOP", 1), ("BLOCKING_ERROR", 0.5),
        ("SET", 1.5), ("GET", 1), ("APPEND", 0.3), ("DEL", 1.5), ("UNLINK", 0.3), ("EXISTS", 1), ("TYPE", 1.5),
        ("EXPIRE", 1), ("PEXPIRE", 0.3), ("TTL", 1), ("PERSIST", 0.5), ("RENAME", 1), ("RENAMENX", 0.5),
        ("COPY", 1), ("MOVE", 0.7), ("SELECT", 1.5), ("DBSIZE", 0.5), ("FLUSHDB", 0.1), ("KEYS", 0.5),
        ("SCAN", 1),
    ]

    def elem(self):
        x = self.r.random()
        if x < 0.8:
            return self.r.choice(SMALL_ELEMS)
        if x < 0.9:
            return str(self.r.randint(-3, 3))
        if x < 0.97:
            return bytes(self.r.choice(b"ab\x00\r\n\xff") for _ in range(self.r.randint(0, 5)))
        return self.r.choice(LONG_ELEMS)

    def elems(self, lo=1, hi=4):
        return [self.elem() for _ in range(self.r.randint(lo, hi))]

    def index(self):
        x = self.r.random()
        if x < 0.85:
            return str(self.r.randint(-8, 8))
        if x < 0.95:
            return self.r.choice([I64_MAX, I64_MIN, "100", "-100"])
        return self.r.choice(["abc", "", "1.5", "+1", "9223372036854775808"])

    def count(self):
        x = self.r.random()
        if x < 0.85:
            return self.r.choice(["0", "1", "1", "2", "2", "3", "5", "10"])
        return self.r.choice([I64_MAX, "-1", "abc", "9223372036854775808", "1.5"])

    def direction(self):
        return self.r.choice(DIRS) if self.r.random() < 0.97 else self.r.choice(["UP", "", "LEFTX"])

    def timeout(self):
        # never 0 (forever) nor < 1 ms (also forever): after a mismatch resync the
        # primer may be gone, and the command must still come back
        return self.r.choice(["0.01", "0.5", "1.5e-1", ".2"])

    # -- lists

    def gen_lpush(self):
        return ["LPUSH", self.key()] + self.elems(1, 6)

    def gen_rpush(self):
        return ["RPUSH", self.key()] + self.elems(1, 6)

    def gen_lpushx(self):
        return ["LPUSHX", self.key()] + self.elems(1, 2)

    def gen_rpushx(self):
        return ["RPUSHX", self.key()] + self.elems(1, 2)

    def gen_lpop(self):
        return ["LPOP", self.key()] + ([self.count()] if self.r.random() < 0.5 else [])

    def gen_rpop(self):
        return ["RPOP", self.key()] + ([self.count()] if self.r.random() < 0.5 else [])

    def gen_llen(self):
        return ["LLEN", self.key()]

    def gen_lrange(self):
        return ["LRANGE", self.key(), self.index(), self.index()]

    def gen_lindex(self):
        return ["LINDEX", self.key(), self.index()]

    def gen_lset(self):
        return ["LSET", self.key(), self.index(), self.elem()]

    def gen_linsert(self):
        where = self.r.choice(["BEFORE", "AFTER", "before", "after"]) if self.r.random() < 0.95 else "MIDDLE"
        return ["LINSERT", self.key(), where, self.elem(), self.elem()]

    def gen_lrem(self):
        count = str(self.r.randint(-3, 3)) if self.r.random() < 0.9 else self.r.choice([I64_MIN, I64_MAX, "abc"])
        return ["LREM", self.key(), count, self.elem()]

    def gen_ltrim(self):
        if self.r.random() < 0.4:  # keeps lists from growing without bound
            return ["LTRIM", self.key(), str(self.r.randint(-20, 3)), str(self.r.randint(-3, 20))]
        return ["LTRIM", self.key(), self.index(), self.index()]

    def gen_lpos(self):
        cmd = ["LPOS", self.key(), self.elem()]
        for _ in range(self.r.choice([0, 0, 1, 1, 2, 3])):
            kind = self.r.choice(["RANK", "COUNT", "MAXLEN"])
            if kind == "RANK":
                value = self.r.choice(["1", "2", "3", "-1", "-2", "-3"] * 3 + ["0", "abc", I64_MIN, I64_MAX])
            elif kind == "COUNT":
                value = self.r.choice(["0", "1", "2", "5"] * 3 + ["-1", "abc"])
            else:
                value = self.r.choice(["0", "1", "2", "3", "10"] * 3 + ["-1", "abc"])
            cmd += [self.word(kind), value]
        return cmd

    def gen_lmove(self):
        return ["LMOVE", self.key(), self.key(), self.direction(), self.direction()]

    def gen_rpoplpush(self):
        return ["RPOPLPUSH", self.key(), self.key()]

    def lmpop_args(self):
        keys = self.keys(1, 3)
        numkeys = str(len(keys)) if self.r.random() < 0.9 else self.r.choice(["0", "-1", str(len(keys) + 1), "abc"])
        cmd = [numkeys] + keys + [self.direction()]
        if self.r.random() < 0.5:
            cmd += [self.word("COUNT"), self.count()]
        return cmd

    def gen_lmpop(self):
        return ["LMPOP"] + self.lmpop_args()

    # -- blocking commands, primed so they never block: a push to one of their
    # keys comes first, so either some key has data or a key has the wrong type
    # (the push failed with WRONGTYPE, and so will the blocking command).

    def primed(self, keys, cmd):
        return (["RPUSH", self.r.choice(keys)] + self.elems(1, 2), cmd)

    def gen_blpop(self):
        keys = self.keys(1, 3)
        return self.primed(keys, ["BLPOP"] + keys + [self.timeout()])

    def gen_brpop(self):
        keys = self.keys(1, 3)
        return self.primed(keys, ["BRPOP"] + keys + [self.timeout()])

    def gen_blmove(self):
        src = self.key()
        return self.primed([src], ["BLMOVE", src, self.key(), self.direction(), self.direction(), self.timeout()])

    def gen_brpoplpush(self):
        src = self.key()
        return self.primed([src], ["BRPOPLPUSH", src, self.key(), self.timeout()])

    def gen_blmpop(self):
        keys = self.keys(1, 3)
        cmd = ["BLMPOP", self.timeout(), str(len(keys))] + keys + [self.direction()]
        if self.r.random() < 0.5:
            cmd += ["COUNT", self.r.choice(["1", "2", "3", "10"])]
        return self.primed(keys, cmd)

    def gen_blocking_error(self):
        """A blocking command with an argument error: answered at once, never blocks."""
        return self.r.choice([
            ["BLPOP", self.key(), self.r.choice(["-1", "-0.5", "abc", "", "nan", " 1"])],
            ["BRPOP", self.key(), self.key(), "-1"],
            ["BLMOVE", self.key(), self.key(), "LEFT", "UP", "0"],
            ["BLMOVE", self.key(), self.key(), "LEFT", "LEFT", "-2"],
            ["BRPOPLPUSH", self.key(), self.key(), "x"],
            ["BLMPOP", "0", "0", self.key(), "LEFT"],
            ["BLMPOP", "-1", "1", self.key(), "LEFT"],
            ["BLMPOP", "0", "1", self.key(), "LEFT", "COUNT", "0"],
        ])


def test_random_resp2(redis_ref, subject):
    differ = Differ(redis_ref, subject)
    try:
        differ.reset_for_case()
        check_random(differ, "lists RESP2", SEED, RANDOM_COMMANDS, ListCommands(SEED))
    finally:
        differ.close()


def test_random_resp3(redis_ref, subject):
    differ = Differ(redis_ref, subject, resp=3)
    try:
        differ.reset_for_case()
        check_random(differ, "lists RESP3", SEED + 1, RESP3_COMMANDS, ListCommands(SEED + 1))
    finally:
        differ.close()


def test_random_stream_is_reproducible():
    a = [cmd for cmd, _ in zip(ListCommands(SEED, now=1), range(500))]
    b = [cmd for cmd, _ in zip(ListCommands(SEED, now=1), range(500))]
    assert a == b


# ----------------------------------------------------------------------------
# Blocking: scenarios with several connections, the expected replies written
# out. Each runs against redis-server too ("redis" ids), which checks the
# expectations themselves.


TIMEOUT_COMMANDS = [
    ("BLPOP", "k1", "0.1"),
    ("BRPOP", "k1", "k2", "0.1"),
    ("BLMOVE", "k1", "dst", "LEFT", "RIGHT", "0.1"),
    ("BRPOPLPUSH", "k1", "dst", ".1"),
    ("BLMPOP", "0.1", "2", "k1", "k2", "LEFT", "COUNT", "2"),
]


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
def test_blocking_timeout_replies_null(server, resp):
    """Every blocking list command answers a null array (*-1) on timeout in RESP2
    (BLMOVE and BRPOPLPUSH too, though they reply a bulk string when served) and
    RESP3's null (_); the destination of a timed-out move is not created."""
    with Scenario(server) as s:
        clients = [s.connect(resp) for _ in TIMEOUT_COMMANDS]
        started = time.monotonic()
        for c, cmd in zip(clients, TIMEOUT_COMMANDS):
            c.send_raw(harness.encode_command(*cmd))
        for c, cmd in zip(clients, TIMEOUT_COMMANDS):
            expect(c.read_reply(), NULL_ARRAY if resp == 2 else NULL, f"RESP{resp} {cmd[0]} timing out")
        elapsed = time.monotonic() - started
        assert 0.09 <= elapsed < 3.0, f"0.1 s timeouts answered after {elapsed:.3f} s"
        s.check(("EXISTS", "k1", "k2", "dst"), 0)
        s.check(("DBSIZE",), 0)


def test_blocking_data_before_timeout(server):
    with Scenario(server) as s:
        c = s.block("BLPOP", "k", "5")
        started = time.monotonic()
        s.check(("RPUSH", "k", "x"), 1)
        s.served(c, [b"k", b"x"])
        assert time.monotonic() - started < 1.0
        s.check(("EXISTS", "k"), 0)


def test_blocking_timeout_errors(server):
    cases = [
        (("BLPOP", "k", "-1"), b"ERR timeout is negative"),
        (("BRPOP", "k", "-0.5"), b"ERR timeout is negative"),
        (("BLMOVE", "k", "d", "LEFT", "LEFT", "-1"), b"ERR timeout is negative"),
        (("BRPOPLPUSH", "k", "d", "-2"), b"ERR timeout is negative"),
        (("BLMPOP", "-1", "1", "k", "LEFT"), b"ERR timeout is negative"),
        (("BLPOP", "k", "abc"), b"ERR timeout is not a float or out of range"),
        (("BLPOP", "k", ""), b"ERR timeout is not a float or out of range"),
        (("BLPOP", "k", " 1"), b"ERR timeout is not a float or out of range"),
        (("BLPOP", "k", "nan"), b"ERR timeout is not a float or out of range"),
        (("BLMOVE", "k", "d", "LEFT", "LEFT", "1s"), b"ERR timeout is not a float or out of range"),
        (("BLMPOP", "x", "1", "k", "LEFT"), b"ERR timeout is not a float or out of range"),
        (("BLMPOP", "-1", "0", "k", "LEFT"), b"ERR numkeys should be greater than 0"),  # numkeys comes first
    ]
    with Scenario(server) as s:
        c = s.connect()
        for cmd, err in cases:
            expect(c.call(*cmd), Err(err), " ".join(cmd))
        # inf / 1e400 overflow the ms conversion; Redis on x86-64 says "negative".
        # Whatever the text, it must be an immediate timeout error, not a block or a crash.
        for t in ("inf", "1e400"):
            reply = c.call("BLPOP", "k", t)
            assert isinstance(reply, Err) and reply.startswith(b"ERR timeout is"), (t, reply)
        s.check(("PING",), Simple(b"PONG"))


def test_blocking_fifo_order(server):
    """Clients blocked on the same key are served in the order they blocked."""
    with Scenario(server) as s:
        a = s.block("BLPOP", "k", "0")
        b = s.block("BRPOP", "k", "0")
        c = s.block("BLMOVE", "k", "dst", "LEFT", "LEFT", "0")
        s.check(("RPUSH", "k", "x"), 1)  # the length right after the push, before serving
        s.served(a, [b"k", b"x"])
        assert_blocked(b)
        assert_blocked(c, 0.01)
        s.check(("LPUSH", "k", "y"), 1)
        s.served(b, [b"k", b"y"])
        s.check(("RPUSH", "k", "z"), 1)
        s.served(c, b"z")
        s.check(("LRANGE", "dst", "0", "-1"), [b"z"])
        s.check(("EXISTS", "k"), 0)


def test_blocking_several_keys(server):
    """A client blocked on several keys is served by the first key that gets data;
    waiters on a key are served in blocking order whatever other keys they wait on."""
    with Scenario(server) as s:
        a = s.block("BLPOP", "k1", "k2", "k3", "0")
        s.check(("RPUSH", "k3", "c"), 1)
        s.served(a, [b"k3", b"c"])
        b = s.block("BRPOP", "k1", "k2", "0")
        c = s.block("BLPOP", "k2", "0")
        s.check(("RPUSH", "k2", "x", "y"), 2)
        s.served(b, [b"k2", b"y"])
        s.served(c, [b"k2", b"x"])
        s.check(("EXISTS", "k2"), 0)
        d = s.block("BLMPOP", "0", "2", "k1", "k2", "LEFT", "COUNT", "5")
        s.check(("RPUSH", "k2", "a", "b", "c"), 3)
        s.served(d, [b"k2", [b"a", b"b", b"c"]])
        s.check(("DBSIZE",), 0)


def test_blocking_one_push_serves_several_clients(server):
    """A push of 3 elements with 2 blocked clients: each gets one element, in
    blocking order, from the list as it is after the whole push."""
    with Scenario(server) as s:
        a = s.block("BLPOP", "k", "0")
        b = s.block("BLPOP", "k", "0")
        s.check(("LPUSH", "k", "a", "b", "c"), 3)
        s.served(a, [b"k", b"c"])
        s.served(b, [b"k", b"b"])
        s.check(("LRANGE", "k", "0", "-1"), [b"a"])
        c = s.block("BRPOP", "q", "0")
        d = s.block("BLPOP", "q", "0")
        s.check(("RPUSH", "q", "1", "2", "3"), 3)
        s.served(c, [b"q", b"3"])
        s.served(d, [b"q", b"1"])
        s.check(("LRANGE", "q", "0", "-1"), [b"2"])


def test_blocking_disconnected_client_is_cleaned_up(server):
    """A blocked client that disconnects is forgotten: a later push stays in the
    list (or goes to the next waiter)."""
    with Scenario(server) as s:
        a = s.block("BLPOP", "k", "0")
        s.disconnect(a)
        s.check(("RPUSH", "k", "x"), 1)
        s.check(("LRANGE", "k", "0", "-1"), [b"x"])
        b = s.block("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        s.disconnect(b)
        s.check(("RPUSH", "src", "y"), 1)
        s.check(("LRANGE", "src", "0", "-1"), [b"y"])
        s.check(("EXISTS", "dst"), 0)
        c = s.block("BLMPOP", "0", "1", "q", "RIGHT")
        d = s.block("BRPOP", "q", "0")
        s.disconnect(c)
        s.check(("RPUSH", "q", "1", "2"), 2)
        s.served(d, [b"q", b"2"])
        s.check(("LRANGE", "q", "0", "-1"), [b"1"])


def test_blocking_pipelined_commands_wait(server):
    """Commands pipelined after a blocking one run only once it is served."""
    with Scenario(server) as s:
        a = s.block("BLPOP", "k", "0", more=[("PING",), ("LLEN", "k"), ("RPUSH", "k2", "v"), ("LPOP", "k2")])
        assert_blocked(a)
        s.check(("EXISTS", "k2"), 0)
        s.check(("RPUSH", "k", "x", "y"), 2)
        s.served(a, [b"k", b"x"])
        expect(a.read_reply(), Simple(b"PONG"), "PING after the blocking command")
        expect(a.read_reply(), 1, "LLEN k after the blocking command")
        expect(a.read_reply(), 1, "RPUSH k2 after the blocking command")
        expect(a.read_reply(), b"v", "LPOP k2 after the blocking command")


def test_blocking_moves(server):
    with Scenario(server) as s:
        a = s.block("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
        s.check(("RPUSH", "src", "a", "b"), 2)
        s.served(a, b"b")
        s.check(("LRANGE", "src", "0", "-1"), [b"a"])
        s.check(("LRANGE", "dst", "0", "-1"), [b"b"])
        b = s.block("BRPOPLPUSH", "s2", "d2", "0")
        s.check(("LPUSH", "s2", "x"), 1)
        s.served(b, b"x")
        s.check(("LRANGE", "d2", "0", "-1"), [b"x"])
        s.check(("EXISTS", "s2"), 0)
        c = s.block("BLMOVE", "r", "r", "LEFT", "RIGHT", "0")
        s.check(("RPUSH", "r", "1"), 1)
        s.served(c, b"1")
        s.check(("LRANGE", "r", "0", "-1"), [b"1"])


def test_blocking_move_chain(server):
    """An element a blocked BLMOVE pushes to its destination serves a client
    blocked on that destination, in the same round."""
    with Scenario(server) as s:
        a = s.block("BLPOP", "dst", "0")
        b = s.block("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        s.check(("RPUSH", "src", "v"), 1)
        s.served(b, b"v")
        s.served(a, [b"dst", b"v"])
        s.check(("EXISTS", "src", "dst"), 0)


def test_blocking_served_by_other_writers(server):
    """LMOVE, RPOPLPUSH, RENAME, COPY and MOVE into the key a client waits on serve it."""
    with Scenario(server) as s:
        a = s.block("BLPOP", "k", "0")
        s.check(("RPUSH", "src", "1", "2"), 2)
        s.check(("LMOVE", "src", "k", "LEFT", "RIGHT"), b"1")
        s.served(a, [b"k", b"1"])
        b = s.block("BRPOP", "k", "0")
        s.check(("RPOPLPUSH", "src", "k"), b"2")
        s.served(b, [b"k", b"2"])
        c = s.block("BLPOP", "k", "0")
        s.check(("RPUSH", "tmp", "r"), 1)
        s.check(("RENAME", "tmp", "k"), OK)
        s.served(c, [b"k", b"r"])
        d = s.block("BLPOP", "k", "0")
        s.check(("RPUSH", "tmp", "c"), 1)
        s.check(("COPY", "tmp", "k"), 1)
        s.served(d, [b"k", b"c"])
        s.check(("LRANGE", "tmp", "0", "-1"), [b"c"])
        e = s.block("BLPOP", "k", "0")
        s.check(("SELECT", "1"), OK)
        s.check(("RPUSH", "k", "m"), 1)
        s.check(("MOVE", "k", "0"), 1)
        s.check(("SELECT", "0"), OK)
        s.served(e, [b"k", b"m"])
        s.check(("EXISTS", "k", "src"), 0)


def test_blocking_wrong_type_keeps_waiting(server):
    """A key that becomes a string does not serve (nor error) a blocked client; it
    is served once the key is a list again."""
    with Scenario(server) as s:
        a = s.block("BLPOP", "k", "0")
        s.check(("SET", "k", "str"), OK)
        assert_blocked(a)
        s.check(("DEL", "k"), 1)
        s.check(("RPUSH", "k", "x"), 1)
        s.served(a, [b"k", b"x"])


def test_blocking_other_database(server):
    with Scenario(server) as s:
        a = s.block("BLPOP", "k", "0", db=1)
        s.check(("RPUSH", "k", "x"), 1)  # db 0
        assert_blocked(a)
        s.check(("SELECT", "1"), OK)
        s.check(("RPUSH", "k", "y"), 1)
        s.served(a, [b"k", b"y"])
        s.check(("EXISTS", "k"), 0)
        s.check(("SELECT", "0"), OK)
        s.check(("LRANGE", "k", "0", "-1"), [b"x"])


def test_blocking_swapdb_serves_waiters(server):
    """SWAPDB: a client keeps its database number, so data swapped into it serves its
    wait; a client whose database's data was swapped away waits on by number."""
    with Scenario(server) as s:
        s.check(("SELECT", "1"), OK)
        s.check(("RPUSH", "k", "from1"), 1)
        s.check(("SELECT", "0"), OK)
        a = s.block("BRPOP", "k", "0", db=9)
        b = s.block("BLPOP", "j", "0", db=1)
        s.check(("SWAPDB", "1", "9"), OK)
        s.served(a, [b"k", b"from1"])
        s.check(("SELECT", "9"), OK)
        s.check(("RPUSH", "j", "late"), 1)   # db 9 holds the old db 1's data: nobody waits in db 9
        assert_blocked(b)
        s.check(("DEL", "j"), 1)
        s.check(("SELECT", "1"), OK)
        s.check(("RPUSH", "j", "for-b"), 1)
        s.served(b, [b"j", b"for-b"])
        s.check(("SELECT", "0"), OK)


def test_blocking_resp3_served_replies(server):
    with Scenario(server) as s:
        a = s.block("BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "2", resp=3)
        b = s.block("BLMOVE", "k", "d", "LEFT", "LEFT", "0", resp=3)
        s.check(("RPUSH", "k", "1", "2", "3"), 3)
        s.served(a, [b"k", [b"3", b"2"]])
        s.served(b, b"1")


def test_blocking_sub_millisecond_timeouts(server):
    """Redis 7.0 turns the timeout into milliseconds rounding up (ceil, in long
    double): 0.0001 s is a 1 ms timeout (a null reply soon), while -0.0001 s rounds
    up to 0, which is no error but a block forever. "timeout is negative" needs a
    value below -1 ms (-0.001 itself is a hair above -1 ms in long double: forever)."""
    with Scenario(server) as s:
        a = s.connect()
        started = time.monotonic()
        expect(a.call("BLPOP", "k", "0.0001"), NULL_ARRAY, "BLPOP k 0.0001")
        assert time.monotonic() - started < 2.0
        expect(a.call("BLPOP", "k", "-0.0011"), Err(b"ERR timeout is negative"), "BLPOP k -0.0011")
        b = s.block("BLPOP", "k", "-0.0001")
        assert_blocked(b, 0.25)
        s.check(("RPUSH", "k", "x"), 1)
        s.served(b, [b"k", b"x"])
