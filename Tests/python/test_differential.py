"""Differential test: Lode against a reference redis-server 7.

The same command sequences go to both servers and the replies are compared
exactly: RESP type and bytes, error texts included. Only what legitimately
differs between two servers is relaxed:
  * TTL / PTTL / EXPIRETIME / PEXPIRETIME: the servers see a command a few ms
    apart, so positive values may differ by TTL_TOLERANCE;
  * SCAN: cursors are server-specific, so SCAN is iterated to the end and only
    the set of keys is compared; KEYS is compared sorted;
  * RANDOMKEY in the random sequence: only nil-vs-some-key is compared;
  * HELLO: `id`, `version` and `server` are not compared.

Run (from the repository root):
  pytest Tests/python/test_differential.py                     # Lode vs redis
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential.py   # redis vs redis
Knobs: DIFF_SEED, DIFF_COMMANDS (random sequence length), DIFF_RESP3_COMMANDS,
DIFF_MAX_MISMATCHES (random sequence mismatches collected before failing).
"""
import os
import random
import time

import pytest

import difflib_redis
from difflib_redis import FAR, I64_MAX, I64_MIN, Differ, Exact, case, exact, name_of, run_case
from difflib_redis import subject  # noqa: F401  (a fixture)

SEED = int(os.environ.get("DIFF_SEED", "20261121"))
RANDOM_COMMANDS = int(os.environ.get("DIFF_COMMANDS", "10000"))
RESP3_COMMANDS = int(os.environ.get("DIFF_RESP3_COMMANDS", "1500"))


# ----------------------------------------------------------------------------
# Fixed cases: (id, commands); each starts from FLUSHALL + SELECT 0 (see
# difflib_redis.case and exact).


BIN_KEY = b"k\r\n\x00\xff"
BIN_VAL = b"\x00v\r\nal\xff\r\n"
MANY_KEYS = ("MSET",) + tuple(x for i in range(60) for x in (f"key:{i}", str(i)))

STRING_CASES = [
    case("get-missing", "GET nokey"),
    case("get-arity", "GET", "GET a b", "get"),
    case("set-get", "SET k v", "GET k", "TYPE k"),
    case("set-arity", "SET", "SET k"),
    case("set-empty", ("SET", "", ""), ("GET", ""), ("STRLEN", ""), ("EXISTS", ""), "KEYS *"),
    case("set-binary", ("SET", BIN_KEY, BIN_VAL), ("GET", BIN_KEY), ("STRLEN", BIN_KEY), "KEYS *",
         ("APPEND", BIN_KEY, b"\r\n"), ("GET", BIN_KEY)),
    case("set-big-value", ("SET", "big", "x" * 100000), ("STRLEN", "big"), ("GETRANGE", "big", "99990", "-1")),
    case("set-overwrite-clears-ttl", "SET k v EX 1000", "SET k w", "TTL k", "GET k"),
    case("set-nx", "SET k v NX", "SET k w NX", "GET k"),
    case("set-xx", "SET k v XX", "GET k", "SET k v", "SET k w XX", "GET k"),
    case("set-nx-xx", "SET k v NX XX", "SET k v XX NX", "EXISTS k"),
    case("set-ex", "SET k v EX 1000", "TTL k", "PTTL k"),
    case("set-px", "SET k v PX 1000000", "TTL k", "PTTL k"),
    case("set-exat", f"SET k v EXAT {FAR}", exact("EXPIRETIME k"), exact("PEXPIRETIME k"), "TTL k"),
    case("set-pxat", f"SET k v PXAT {FAR}123", exact("EXPIRETIME k"), exact("PEXPIRETIME k")),
    case("set-pxat-rounds", f"SET k v PXAT {FAR}500", exact("EXPIRETIME k"),
         f"SET k v PXAT {FAR}499", exact("EXPIRETIME k")),
    case("set-ex-zero-negative", "SET k v EX 0", "SET k v EX -1", "SET k v PX 0", "SET k v PX -5",
         "SET k v EXAT 0", "SET k v PXAT -1", "EXISTS k"),
    case("set-ex-not-integer", "SET k v EX abc", "SET k v EX 1.5", ("SET", "k", "v", "EX", ""),
         "SET k v PX 1e3", "SET k v EX +5", "SET k v EX 05", "SET k v EX -0", "EXISTS k"),
    case("set-ex-overflow", f"SET k v EX {I64_MAX}", "SET k v EX 9223372036854775",
         "SET k v EX 9223372036854774", f"SET k v PX {I64_MAX}", "SET k v EX 9223372036854775808",
         f"SET k v EXAT {I64_MAX}", f"SET k v PXAT {I64_MAX}", "PTTL k"),
    case("set-ex-missing-value", "SET k v EX", "SET k v PX", "SET k v EXAT", "SET k v PXAT"),
    case("set-two-ttls", "SET k v EX 100 PX 100000", "SET k v EX 100 EX 200", "SET k v PX 1000 EXAT 5000000000",
         "TTL k"),
    case("set-keepttl", "SET k v EX 1000", "SET k w KEEPTTL", "TTL k", "GET k", "SET k x KEEPTTL KEEPTTL", "TTL k"),
    case("set-keepttl-conflict", "SET k v KEEPTTL EX 100", "SET k v EX 100 KEEPTTL", "SET k v PX 100000 KEEPTTL",
         "SET k v KEEPTTL PXAT 5000000000", "EXISTS k"),
    case("set-get-option", "SET k v GET", "SET k w GET", "GET k", "SET k x GET GET", "SET k y EX 1000 GET", "TTL k"),
    case("set-get-nx-xx", "SET k v NX GET", "SET k w NX GET", "GET k", "SET j v XX GET", "EXISTS j",
         "SET k z XX GET", "GET k"),
    case("set-unknown-option", "SET k v FOO", "SET k v EX 100 FOO", "SET k v 100", "EXISTS k"),
    case("set-lowercase-options", "set k v ex 1000 nx", "set k w xx get keepttl", "ttl k", "get k"),
    case("set-past-absolute", "SET k v PXAT 1", "GET k", "EXISTS k", "DBSIZE", "SET k v EXAT 1000000000", "TTL k"),
    case("setnx", "SETNX k v", "SETNX k w", "GET k", "SETNX k", "SETNX k v x"),
    case("setex", "SETEX k 1000 v", "TTL k", "GET k", "SETEX k 0 v", "SETEX k -5 v", "SETEX k abc v",
         f"SETEX k {I64_MAX} v", "SETEX k 9223372036854775 v", "SETEX k 1000", "SETEX k", "TTL k"),
    case("psetex", "PSETEX k 1000000 v", "PTTL k", "PSETEX k 0 v", "PSETEX k -1 v", "PSETEX k 1.5 v",
         f"PSETEX k {I64_MAX} v", "PSETEX k 100", "GET k"),
    case("mget", "SET a 1", "SET c 3", "MGET a b c a", "MGET nokey", "MGET"),
    case("mset", "MSET a 1 b 2", "MGET a b", "MSET a 3 a 4", "GET a", "MSET a", "MSET a 1 b", "MSET"),
    case("mset-clears-ttl", "SET a v EX 1000", "MSET a w", "TTL a"),
    case("mset-many", MANY_KEYS, "DBSIZE", "MGET key:0 key:59 key:60"),
    case("msetnx", "MSETNX a 1 b 2", "MSETNX b 3 c 4", "MGET a b c", "MSETNX d 1 d 2", "GET d",
         "MSETNX a", "MSETNX a 1 b", "MSETNX"),
    case("getset", "GETSET k v", "GETSET k w", "GET k", "SET k v EX 1000", "GETSET k x", "TTL k",
         "GETSET k", "GETSET k v w"),
    case("getdel", "SET k v", "GETDEL k", "EXISTS k", "GETDEL k", "GETDEL", "GETDEL a b"),
    case("getex-plain", "SET k v EX 1000", "GETEX k", "TTL k", "GETEX nokey"),
    case("getex-ttls", "SET k v", "GETEX k EX 1000", "TTL k", "GETEX k PX 2000000", "PTTL k",
         f"GETEX k EXAT {FAR}", exact("EXPIRETIME k"), f"GETEX k PXAT {FAR}777", exact("PEXPIRETIME k"),
         "GETEX k PERSIST", "TTL k"),
    case("getex-invalid", "SET k v", "GETEX k EX 0", "GETEX k EX -1", "GETEX k PX 0", "GETEX k EX abc",
         f"GETEX k EX {I64_MAX}", "GETEX k EX", "GETEX k PERSIST EX 100", "GETEX k EX 100 PX 100000",
         "GETEX k EX 100 EX 200", "GETEX k FOO", "GETEX k KEEPTTL", "GETEX k GET", "GETEX k NX", "GETEX", "TTL k"),
    case("getex-missing-key-skips-number-check", "GETEX nokey EX abc", "GETEX nokey EX 0", "GETEX nokey FOO",
         "GETEX nokey EX"),
    case("getex-past-absolute-deletes", "SET k v", "GETEX k PXAT 1", "EXISTS k", "SET k v",
         "GETEX k EXAT 1000000000", "DBSIZE"),
    case("append", "APPEND k ab", "APPEND k cd", "GET k", ("APPEND", "k", ""), "STRLEN k", "SET n 5",
         "APPEND n 1", "INCR n", "APPEND k", "APPEND", "SET t v EX 1000", "APPEND t x", "TTL t"),
    case("strlen", "STRLEN nokey", "SET k hello", "STRLEN k", "SET n -123", "STRLEN n", "STRLEN", "STRLEN a b"),
    case("incr-decr", "INCR k", "INCR k", "DECR k", "DECR j", "GET k", "INCR", "INCR a b", "DECR"),
    case("incr-not-integer", "SET k abc", "INCR k", "SET k 1.5", "INCR k", ("SET", "k", ""), "INCR k",
         "SET k 007", "INCR k", "SET k +5", "INCR k", "SET k -0", "INCR k", "SET k 0x10", "INCR k",
         ("SET", "k", " 5"), "INCR k", ("SET", "k", "5 "), "INCR k", "SET k 99999999999999999999", "DECR k"),
    case("incr-limits", f"SET k {I64_MAX}", "INCR k", "DECR k", f"SET k {I64_MIN}", "DECR k", "INCR k",
         f"SET k {I64_MAX}", "INCRBY k 0", "INCRBY k -1", "GET k"),
    case("incr-keeps-ttl", "SET k 1 EX 1000", "INCR k", "TTL k"),
    case("incrby-decrby", "INCRBY k 10", "INCRBY k -20", "DECRBY k 5", "DECRBY k -100", "GET k",
         f"INCRBY k {I64_MAX}", f"DECRBY k {I64_MIN}", f"DECRBY j {I64_MIN}", f"INCRBY j {I64_MIN}",
         "INCRBY k 9223372036854775808", "INCRBY k abc", "INCRBY k 1.0", ("INCRBY", "k", ""), "INCRBY k +1",
         "INCRBY k -0", "INCRBY k", "DECRBY k", "INCRBY k 1 2"),
    case("incrby-overflow", f"SET k {I64_MAX}", "INCRBY k 1", f"SET k {I64_MIN}", "DECRBY k 1",
         "INCRBY k -1", f"SET k 1", f"INCRBY k {I64_MAX}", "GET k"),
    case("incrbyfloat-basic", "INCRBYFLOAT k 0.1", "INCRBYFLOAT k 0.2", "GET k", "INCRBYFLOAT k -0.3",
         "INCRBYFLOAT k 10.5", "INCRBYFLOAT k 1.5e3", "INCRBYFLOAT k -1510", "GET k"),
    case("incrbyfloat-format", "SET k 3.0", "INCRBYFLOAT k 1.1", "SET k 5.0", "INCRBYFLOAT k 1", "SET k 1e5",
         "INCRBYFLOAT k 0", "SET k -0", "INCRBYFLOAT k 0", "INCRBYFLOAT j 1e-20", "INCRBYFLOAT l 1.23456789012345678",
         "INCRBYFLOAT m 1e17", "INCRBYFLOAT n 0.1234567890123456789", "INCRBYFLOAT o 1e-5", "INCRBYFLOAT p -1e-17",
         "SET q 1.0e10", "INCRBYFLOAT q 0"),
    case("incrbyfloat-huge", "SET k 1e308", "INCRBYFLOAT k 1e308", "INCRBYFLOAT k 1e308", "STRLEN k",
         "SET k 1.0e4000", "INCRBYFLOAT k 1", "STRLEN k"),
    case("incrbyfloat-invalid", "SET k 1", "INCRBYFLOAT k inf", "INCRBYFLOAT k -inf", "INCRBYFLOAT k nan",
         "INCRBYFLOAT k infinity", "INCRBYFLOAT k abc", ("INCRBYFLOAT", "k", ""), ("INCRBYFLOAT", "k", " 1"),
         ("INCRBYFLOAT", "k", "1 "), "INCRBYFLOAT k 1e", "INCRBYFLOAT k 0x10", "INCRBYFLOAT k 1.5.5",
         "INCRBYFLOAT k 1e400", "INCRBYFLOAT k", "INCRBYFLOAT k 1 2", "GET k"),
    case("incrbyfloat-bad-value", "SET k abc", "INCRBYFLOAT k 1", "SET k inf", "INCRBYFLOAT k 1",
         "SET k nan", "INCRBYFLOAT k 1", ("SET", "k", " 5"), "INCRBYFLOAT k 0", ("SET", "k", ""), "INCRBYFLOAT k 1",
         "SET k 0x10", "INCRBYFLOAT k 0", "SET k 1e400", "INCRBYFLOAT k 0"),
    case("incrbyfloat-keeps-ttl", "SET k 1 EX 1000", "INCRBYFLOAT k 1.5", "TTL k"),
    case("getrange", "SET k Hello,World", "GETRANGE k 0 -1", "GETRANGE k 0 3", "GETRANGE k -3 -1", "GETRANGE k 5 2",
         "GETRANGE k 100 200", "GETRANGE k -100 -50", "GETRANGE k -100 100", "GETRANGE k 3 3", "GETRANGE k -1 -5",
         f"GETRANGE k 0 {I64_MAX}", f"GETRANGE k {I64_MIN} -1", f"GETRANGE k {I64_MIN} {I64_MIN}"),
    case("getrange-edge", "GETRANGE nokey 0 -1", ("SET", "e", ""), "GETRANGE e 0 -1", "GETRANGE e 0 0",
         "SET n 12345", "GETRANGE n 1 3", "GETRANGE k a b", "GETRANGE k 0 1.5", "GETRANGE k 0",
         "GETRANGE k 0 1 2", "GETRANGE k 0 9223372036854775808"),
    case("setrange", "SETRANGE k 5 ab", "GET k", "SETRANGE k 0 XY", "GET k", "SETRANGE k 6 long-tail", "GET k",
         "STRLEN k", ("SETRANGE", BIN_KEY, "2", BIN_VAL), ("GET", BIN_KEY), "SET n 12345", "SETRANGE n 1 x", "GET n"),
    case("setrange-edge", ("SETRANGE", "k", "0", ""), "EXISTS k", ("SETRANGE", "k", "536870911", ""), "EXISTS k",
         "SET j v", ("SETRANGE", "j", "536870911", ""), "SETRANGE j -1 x", ("SETRANGE", "j", "-1", ""),
         "SETRANGE j 536870912 x", "SETRANGE j 536870911 xy", f"SETRANGE j {I64_MAX} x", "SETRANGE j abc x",
         "SETRANGE j 1", "SETRANGE j", "SETRANGE j 0 a b", "SET t v EX 1000", "SETRANGE t 0 w", "TTL t"),
]

KEYSPACE_CASES = [
    case("del-unlink", "MSET a 1 b 2 c 3", "DEL a nokey a", "UNLINK b c b", "DBSIZE", "DEL", "UNLINK", "DEL a"),
    case("exists-touch", "MSET a 1 b 2", "EXISTS a a nokey b", "TOUCH a a nokey", "EXISTS", "TOUCH", "EXISTS nokey"),
    case("type", "SET k v", "TYPE k", "TYPE nokey", "TYPE", "TYPE a b"),
    case("expire-basic", "SET k v", "EXPIRE k 1000", "TTL k", "PTTL k", "EXPIRE nokey 1000", "EXPIRE k",
         "EXPIRE", "EXPIRE k abc", "EXPIRE k 1.5", ("EXPIRE", "k", ""), "EXPIRE k +100", "TTL k"),
    case("expire-non-positive-deletes", "MSET a 1 b 2 c 3", "EXPIRE a 0", "EXPIRE b -1", "PEXPIRE c -100",
         "DBSIZE", "EXPIRE nokey -1"),
    case("expire-limits", "SET k v", f"EXPIRE k {I64_MAX}", "EXPIRE k 9223372036854775", f"EXPIRE k {I64_MIN}",
         f"PEXPIRE k {I64_MAX}", f"PEXPIRE k {I64_MIN}", "EXISTS k", "SET k v", "EXPIRE k 9223372036854774",
         "EXISTS k", "SET k v", "EXPIREAT k 9223372036854775", exact("EXPIRETIME k"), "EXPIREAT k 9223372036854776",
         f"PEXPIREAT k {I64_MAX}", exact("EXPIRETIME k"), exact("PEXPIRETIME k"), "PTTL k",
         "PEXPIREAT k 9223372036854775808"),
    case("expire-nx-xx", "SET k v", "EXPIRE k 1000 XX", "TTL k", "EXPIRE k 1000 NX", "EXPIRE k 2000 NX", "TTL k",
         "EXPIRE k 3000 XX", "TTL k", "EXPIRE nokey 100 NX", "EXPIRE nokey 100 XX"),
    case("expire-gt-lt", "SET k v", "EXPIRE k 1000 GT", "TTL k", "EXPIRE k 1000 LT", "TTL k", "EXPIRE k 2000 GT",
         "EXPIRE k 500 GT", "TTL k", "EXPIRE k 3000 LT", "EXPIRE k 100 LT", "TTL k", "PERSIST k",
         "PEXPIRE k 100000 gt", "PEXPIRE k 100000 lt", "PTTL k"),
    case("expire-flags-before-delete", "SET k v", "EXPIRE k -1 XX", "EXISTS k", "EXPIRE k -1 GT", "EXISTS k",
         "EXPIRE k 1000", "EXPIRE k -1 GT", "EXPIRE k -1 NX", "EXISTS k", "EXPIRE k -1 LT", "EXISTS k"),
    case("expire-flag-conflicts", "SET k v", "EXPIRE k 100 NX XX", "EXPIRE k 100 GT LT", "EXPIRE k 100 NX GT",
         "EXPIRE k 100 XX LT", "EXPIRE k 100 NX NX", "EXPIRE k 100 FOO", "EXPIRE k 100 NX FOO",
         "PEXPIRE k 100000 BAR", "EXPIREAT k 5000000000 NX LT", "TTL k"),
    case("expireat", "SET k v", f"EXPIREAT k {FAR}", exact("EXPIRETIME k"), exact("PEXPIRETIME k"), "TTL k",
         f"PEXPIREAT k {FAR}999", exact("EXPIRETIME k"), exact("PEXPIRETIME k"), f"EXPIREAT k {FAR + 10} LT",
         f"EXPIREAT k {FAR + 10} GT", exact("EXPIRETIME k"), "EXPIREAT k abc", "EXPIREAT k", "PEXPIREAT k"),
    case("expireat-past-deletes", "MSET a 1 b 2 c 3", "EXPIREAT a 1", "PEXPIREAT b 1000", "EXPIREAT c -5",
         "DBSIZE", "EXPIREAT nokey 1"),
    case("ttl-family", "TTL nokey", "PTTL nokey", "EXPIRETIME nokey", "PEXPIRETIME nokey", "SET k v", "TTL k",
         "PTTL k", "EXPIRETIME k", "PEXPIRETIME k", "TTL", "PTTL a b", "EXPIRETIME", "PEXPIRETIME a b"),
    case("persist", "SET k v EX 1000", "PERSIST k", "TTL k", "PERSIST k", "PERSIST nokey", "PERSIST", "PERSIST a b"),
    case("rename", "SET a 1 EX 1000", "SET b 2", "RENAME a b", "GET b", "TTL b", "EXISTS a", "RENAME nokey x",
         "RENAME b b", "GET b", "RENAME nokey nokey", "RENAME a", "RENAME"),
    case("rename-overwrites-ttl", "SET a 1", "SET b 2 EX 1000", "RENAME a b", "TTL b"),
    case("rename-binary", ("SET", BIN_KEY, "v"), ("RENAME", BIN_KEY, ""), ("GET", ""), "KEYS *"),
    case("renamenx", "SET a 1", "SET b 2", "RENAMENX a b", "RENAMENX a c", "GET c", "RENAMENX c c",
         "RENAMENX nokey x", "RENAMENX a"),
    case("copy", "SET a 1 EX 1000", "COPY a b", "GET b", "TTL b", "COPY a b", "SET a 2", "COPY a b REPLACE",
         "GET b", "COPY nokey x", "COPY a a", "COPY a", "COPY a b FOO", "COPY a b REPLACE REPLACE", "COPY a b DB",
         "COPY a b DB abc", "COPY a b DB 16", "COPY a b DB -1", "COPY a b DB 2147483648"),
    case("copy-db", "SET a 1", "COPY a a DB 1", "COPY a b DB 1", "COPY a b DB 1", "COPY a b DB 1 REPLACE",
         "COPY a a DB 0", "SELECT 1", "MGET a b", "DBSIZE", "COPY a x DB 0", "SELECT 0", "GET x"),
    case("move", "SET a 1 EX 1000", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "TTL a", "MOVE a 0", "MOVE a 1",
         "SET b x", "SELECT 0", "SET b y", "MOVE b 1", "GET b", "MOVE nokey 1", "MOVE b 16", "MOVE b -1",
         "MOVE b abc", "MOVE b 2147483648", f"MOVE b {I64_MAX}", "MOVE b", "MOVE b 1 2"),
    case("keys-patterns", "MSET hello 1 hallo 2 hxllo 3 hllo 4 heeello 5 k[1] 6 k*x 7 a:b:c 8",
         ("SET", "n\r\n\x00", "9"), "KEYS *", "KEYS h?llo", "KEYS h*llo", "KEYS h[ae]llo", "KEYS h[^e]llo",
         "KEYS h[a-b]llo", "KEYS h[b-a]llo", "KEYS k\\[1\\]", "KEYS k\\*x", "KEYS k*", "KEYS *:*", "KEYS h[",
         "KEYS [", "KEYS \\", "KEYS h[!e]llo", "KEYS *[", "KEYS [a-]*", "KEYS [-z]*", ("KEYS", ""),
         ("KEYS", "n\r\n*"), ("KEYS", "*\x00"), "KEYS H*", "KEYS", "KEYS a b"),
    case("scan-basic", MANY_KEYS, "SET other 1", "SCAN 0", "SCAN 0 COUNT 1", "SCAN 0 COUNT 1000",
         "SCAN 0 MATCH key:1*", "SCAN 0 MATCH key:1* COUNT 3", "SCAN 0 MATCH nothing*", "SCAN 0 TYPE string",
         "SCAN 0 TYPE STRING", "SCAN 0 TYPE list", "SCAN 0 TYPE hash", "SCAN 0 TYPE foo",
         "SCAN 0 COUNT 5 MATCH *1 TYPE string", "SCAN 0 MATCH * MATCH key:2*", "SCAN 0 count 7 match key:5?"),
    case("scan-empty", "SCAN 0", "SCAN 0 MATCH *", "SCAN 0 TYPE string"),
    case("scan-invalid", "SET k v", "SCAN", "SCAN abc", "SCAN 1.5", "SCAN 18446744073709551616", ("SCAN", ""),
         "SCAN 0 COUNT 0", "SCAN 0 COUNT -1", "SCAN 0 COUNT abc", "SCAN 0 COUNT", "SCAN 0 MATCH", "SCAN 0 TYPE",
         "SCAN 0 FOO", "SCAN 0 FOO bar", "SCAN 0 COUNT 10 FOO"),
    case("dbsize", "DBSIZE", "MSET a 1 b 2", "DBSIZE", "SELECT 1", "DBSIZE", "SET c 3", "DBSIZE", "DBSIZE x"),
    case("flushdb", "MSET a 1 b 2", "SELECT 1", "SET c 3", "FLUSHDB", "DBSIZE", "SELECT 0", "DBSIZE",
         "FLUSHDB ASYNC", "DBSIZE", "FLUSHDB SYNC", "FLUSHDB sync", "FLUSHDB FOO", "FLUSHDB ASYNC SYNC"),
    case("flushall", "MSET a 1 b 2", "SELECT 2", "SET c 3", "FLUSHALL", "DBSIZE", "SELECT 0", "DBSIZE",
         "FLUSHALL ASYNC", "FLUSHALL SYNC", "FLUSHALL FOO", "FLUSHALL ASYNC SYNC"),
    case("select", "SET k 0", "SELECT 1", "GET k", "SET k 1", "SELECT 15", "SELECT 0", "GET k", "SELECT 16",
         "SELECT -1", "SELECT abc", "SELECT -0", "SELECT 01", "SELECT +1", "SELECT 1.0", ("SELECT", ""),
         f"SELECT {I64_MAX}", "SELECT 9223372036854775808", "SELECT 2147483648", "SELECT -2147483649",
         "SELECT", "SELECT 1 2", "GET k"),
    case("swapdb", "SET k 0", "SELECT 1", "SET k 1 EX 1000", "SWAPDB 0 1", "GET k", "TTL k", "SELECT 0",
         "GET k", "TTL k", "SWAPDB 0 0", "GET k", "SWAPDB 1 15", "GET k", "SELECT 15", "GET k"),
    case("swapdb-invalid", "SWAPDB 0 16", "SWAPDB 16 0", "SWAPDB -1 0", "SWAPDB a 0", "SWAPDB 0 a",
         "SWAPDB a b", "SWAPDB 0", "SWAPDB", "SWAPDB 0 1 2", "SWAPDB 1.0 0"),
    case("randomkey", "RANDOMKEY", "SET only v", "RANDOMKEY", "SELECT 1", "RANDOMKEY", "SELECT 0", "DEL only",
         "RANDOMKEY", ("SET", BIN_KEY, "v"), "RANDOMKEY", "RANDOMKEY x"),
]

CONNECTION_CASES = [
    case("ping", "PING", "PING hello", ("PING", ""), ("PING", BIN_VAL), "PING a b", "ping"),
    case("echo", "ECHO hello", ("ECHO", ""), ("ECHO", BIN_VAL), "ECHO", "ECHO a b"),
    case("unknown-command", "FOO", "foo a b", "FoO a", ("FOO", ""), ("", "a"), ("",), "GETT k",
         "HSET2 k", ("FOO", "a\r\nb", "c\x00d"), ("F\r\nOO", "x"), ("FOO", "a" * 300, "b"),
         ("FOO",) + tuple(str(i) for i in range(40)), ("FOO", "'quoted'", "%s%d")),
    case("arity-errors-use-lowercase-name", "GET", "gEt", "SET k", "sEtEx k 1", "MGET", "EXPIRE k",
         "PEXPIREAT k", "RENAME k", "COPY k", "SELECT", "ECHO", "INCRBYFLOAT k", "GETRANGE k 0",
         "SETRANGE k 0", "MSETNX k", "RANDOMKEY x", "DBSIZE x", "PING a b"),
]

FIXED_CASES = STRING_CASES + KEYSPACE_CASES + CONNECTION_CASES


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("commands", FIXED_CASES)
def test_fixed(redis_ref, subject, commands, resp):
    differ = Differ(redis_ref, subject, resp=resp)
    try:
        differ.reset_for_case()
        lines, ok = run_case(differ, commands)
    finally:
        differ.close()
    assert ok, f"RESP{resp}: replies differ (!! marks the mismatches):\n" + "\n".join(lines)


HELLO_SEQUENCES = [
    case("hello3-then-2", "HELLO 3", "GET nokey", "HELLO", "HELLO 2", "GET nokey", "HELLO"),
    case("hello-errors", "HELLO 4", "HELLO 0", "HELLO 1", "HELLO -1", "HELLO abc", ("HELLO", ""),
         "HELLO 3 FOO", "HELLO 3 SETNAME", "HELLO 2 SETNAME a b", "GET nokey", "HELLO 3 SETNAME lode-diff",
         "GET nokey"),
]


@pytest.mark.parametrize("commands", HELLO_SEQUENCES)
def test_hello(redis_ref, subject, commands):
    """HELLO's reply fields that differ (id, version, server) are skipped by replies_match."""
    differ = Differ(redis_ref, subject)
    try:
        differ.reset_for_case()
        lines, ok = run_case(differ, commands)
    finally:
        differ.close()
    assert ok, "replies differ (!! marks the mismatches):\n" + "\n".join(lines)


# ----------------------------------------------------------------------------
# Randomized sequences

KEY_POOL = [b"k1", b"k2", b"k3", b"k4", b"k5", b"", b"\x00\r\n", "k:é".encode(), b"K1"]
PATTERNS = ["*", "k*", "k?", "*1", "k[1-3]", "k[^1]", "K*", "*\x00*", "", "\\k1", "[", "*:*", "k[", "??"]
FLOAT_STRINGS = ["0.1", "-0", "0", "1.5", "-2.25", "1e308", "-1e308", "1e-300", "inf", "-inf", "+inf", "nan",
                 "3.0e3", "1e400", "0x10", "infinity", " 1", "1 ", "1.", ".5", "1e", "abc", "", "1.5.5", "5"]
INT_EDGES = [I64_MAX, I64_MIN, "9223372036854775806", "-9223372036854775807", "9223372036854775808",
             "-9223372036854775809", "99999999999999999999", "4611686018427387904"]
INT_JUNK = ["abc", "", "1.5", "+1", "-0", "01", " 1", "1 ", "0x10", "1e3"]
# Replaces arguments in the generic mutations. No small positive integers and no
# EXAT/PXAT here: a mutation must never produce a TTL that expires during the run.
JUNK = ["", "abc", "0", "-1", I64_MAX, I64_MIN, "9223372036854775808", "1.5", "inf", "nan", "-0", "+1", "01",
        " 1", "\r\n", "\x00", "NX", "XX", "GT", "LT", "EX", "PX", "KEEPTTL", "GET", "PERSIST", "REPLACE", "DB",
        "MATCH", "COUNT", "TYPE", "ASYNC", "SYNC", "FOO"]
# Relative TTLs are large enough that a seconds value read as milliseconds (a
# mutation swapping EX for PX) is still far from expiring.
BAD_TTLS = ["0", "-1", "abc", "", "1.5", I64_MAX, I64_MIN, "9223372036854775808", "+5"]
DB_ARGS = ["0", "1", "2"]
BAD_DB_ARGS = ["16", "-1", "abc", "", I64_MAX, "-0"]
VALUE_BYTES = b"ab9-.e \r\n\x00\xff"


class RandomCommands:
    """A reproducible stream of commands over a small key pool in databases 0..2.

    Besides commands it tracks which database the connection is in after each
    one (SELECT is the only command that changes it), so the runner can resync
    both servers after a mismatch.
    """

    def __init__(self, seed, now=None):
        self.r = random.Random(seed)
        self.now = int(now or time.time())
        self.db = 0
        self.table = [(w, getattr(self, "gen_" + name.lower())) for name, w in self.WEIGHTS]
        self.total = sum(w for w, _ in self.table)

    WEIGHTS = [
        ("GET", 8), ("SET", 12), ("SETNX", 2), ("SETEX", 2), ("PSETEX", 2), ("MGET", 3), ("MSET", 3),
        ("MSETNX", 2), ("GETSET", 2), ("GETDEL", 2), ("GETEX", 4), ("APPEND", 3), ("STRLEN", 2), ("INCR", 3),
        ("DECR", 2), ("INCRBY", 3), ("DECRBY", 2), ("INCRBYFLOAT", 4), ("GETRANGE", 3), ("SETRANGE", 3),
        ("DEL", 3), ("UNLINK", 1), ("EXISTS", 3), ("TYPE", 2), ("EXPIRE", 4), ("PEXPIRE", 3), ("EXPIREAT", 2),
        ("PEXPIREAT", 2), ("TTL", 4), ("PTTL", 2), ("EXPIRETIME", 2), ("PEXPIRETIME", 1), ("PERSIST", 2),
        ("RENAME", 2), ("RENAMENX", 2), ("COPY", 2), ("MOVE", 2), ("TOUCH", 1), ("KEYS", 2), ("SCAN", 2),
        ("DBSIZE", 2), ("FLUSHDB", 0.3), ("FLUSHALL", 0.1), ("SELECT", 4), ("SWAPDB", 0.7), ("RANDOMKEY", 1),
        ("PING", 0.5), ("ECHO", 0.5), ("UNKNOWN", 0.5),
    ]

    def __iter__(self):
        return self

    def __next__(self):
        """(command, database selected after it)."""
        pick = self.r.random() * self.total
        for weight, gen in self.table:
            pick -= weight
            if pick < 0:
                break
        cmd = list(gen())
        if self.mutable(cmd) and self.r.random() < 0.07:
            self.mutate(cmd)
        if self.r.random() < 0.15:
            cmd[0] = self.r.choice([cmd[0].lower(), cmd[0].capitalize()])
        if name_of(cmd) == "SELECT" and len(cmd) == 2 and cmd[1] in ("0", "1", "2"):
            self.db = int(cmd[1])
        return tuple(cmd), self.db

    # -- argument pools

    def key(self):
        return self.r.choice(KEY_POOL)

    def keys(self, lo=1, hi=4):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def value(self):
        x = self.r.random()
        if x < 0.3:
            return str(self.r.randint(-1000, 1000))
        if x < 0.4:
            return self.r.choice(INT_EDGES)
        if x < 0.55:
            return self.r.choice(FLOAT_STRINGS)
        if x < 0.9:
            return bytes(self.r.choice(VALUE_BYTES) for _ in range(self.r.randint(0, 12)))
        if x < 0.98:
            return b""
        return bytes(self.r.choice(b"xyz") for _ in range(self.r.randint(100, 3000)))

    def integer(self):
        x = self.r.random()
        if x < 0.75:
            return str(self.r.randint(-100, 100))
        return self.r.choice(INT_EDGES if x < 0.9 else INT_JUNK)

    def ttl(self, unit_ms=False):
        """A relative TTL: mostly valid and large, sometimes invalid or non-positive."""
        if self.r.random() < 0.85:
            return str(self.r.randint(100_000, 10_000_000) * (1000 if unit_ms else 1))
        return self.r.choice(BAD_TTLS)

    def at(self, unit_ms=False, past_ok=False):
        """An absolute time: future, or (where that deletes at once) past, or invalid."""
        x = self.r.random()
        if x < 0.75 or (not past_ok and x < 0.9):
            t = self.now + self.r.randint(100_000, 100_000_000)
        elif x < 0.9:
            t = self.r.choice([1, 1000, self.now - 1000])
        else:
            return self.r.choice(BAD_TTLS)
        return str(t * 1000 + self.r.randint(0, 999) if unit_ms else t)

    def db_arg(self):
        return self.r.choice(DB_ARGS) if self.r.random() < 0.9 else self.r.choice(BAD_DB_ARGS)

    def word(self, word):
        return word.lower() if self.r.random() < 0.1 else word

    # -- generic mutations: wrong arity, junk options, junk arguments

    @staticmethod
    def mutable(cmd):
        # SCAN keeps its cursor (a junk one like "-1" is a valid cursor whose
        # results are server-specific); SELECT would leave the db model.
        return name_of(cmd) not in ("SCAN", "SELECT")

    def mutate(self, cmd):
        how = self.r.random()
        if how < 0.35 and len(cmd) > 1:
            del cmd[self.r.randint(1, len(cmd) - 1):]
        elif how < 0.65:
            cmd.append(self.r.choice(JUNK))
        elif len(cmd) > 1:
            cmd[self.r.randint(1, len(cmd) - 1)] = self.r.choice(JUNK)

    # -- strings

    def gen_get(self):
        return ["GET", self.key()]

    def set_options(self):
        opts = []
        for _ in range(self.r.choice([0, 0, 1, 1, 2, 3])):
            kind = self.r.choice(["NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT", "PXAT"])
            if kind == "EX":
                opts += [self.word("EX"), self.ttl()]
            elif kind == "PX":
                opts += [self.word("PX"), self.ttl(unit_ms=True)]
            elif kind == "EXAT":
                opts += [self.word("EXAT"), self.at()]  # a past time would leave an expired key in DBSIZE
            elif kind == "PXAT":
                opts += [self.word("PXAT"), self.at(unit_ms=True)]
            else:
                opts.append(self.word(kind))
        return opts

    def gen_set(self):
        return ["SET", self.key(), self.value()] + self.set_options()

    def gen_setnx(self):
        return ["SETNX", self.key(), self.value()]

    def gen_setex(self):
        return ["SETEX", self.key(), self.ttl(), self.value()]

    def gen_psetex(self):
        return ["PSETEX", self.key(), self.ttl(unit_ms=True), self.value()]

    def gen_mget(self):
        return ["MGET"] + self.keys()

    def gen_mset(self):
        return ["MSET"] + [x for k in self.keys(1, 3) for x in (k, self.value())]

    def gen_msetnx(self):
        return ["MSETNX"] + [x for k in self.keys(1, 3) for x in (k, self.value())]

    def gen_getset(self):
        return ["GETSET", self.key(), self.value()]

    def gen_getdel(self):
        return ["GETDEL", self.key()]

    def gen_getex(self):
        kind = self.r.choice(["", "EX", "PX", "EXAT", "PXAT", "PERSIST", "EX+PERSIST"])
        cmd = ["GETEX", self.key()]
        if kind == "EX":
            cmd += [self.word("EX"), self.ttl()]
        elif kind == "PX":
            cmd += [self.word("PX"), self.ttl(unit_ms=True)]
        elif kind == "EXAT":
            cmd += [self.word("EXAT"), self.at(past_ok=True)]  # GETEX deletes at once on a past time
        elif kind == "PXAT":
            cmd += [self.word("PXAT"), self.at(unit_ms=True, past_ok=True)]
        elif kind == "PERSIST":
            cmd.append(self.word("PERSIST"))
        elif kind == "EX+PERSIST":
            cmd += ["EX", self.ttl(), "PERSIST"]
        return cmd

    def gen_append(self):
        return ["APPEND", self.key(), self.value()]

    def gen_strlen(self):
        return ["STRLEN", self.key()]

    def gen_incr(self):
        return ["INCR", self.key()]

    def gen_decr(self):
        return ["DECR", self.key()]

    def gen_incrby(self):
        return ["INCRBY", self.key(), self.integer()]

    def gen_decrby(self):
        return ["DECRBY", self.key(), self.integer()]

    def gen_incrbyfloat(self):
        x = self.r.random()
        incr = (self.r.choice(FLOAT_STRINGS) if x < 0.5 else
                f"{self.r.uniform(-1000, 1000):.{self.r.randint(0, 6)}f}" if x < 0.8 else self.integer())
        return ["INCRBYFLOAT", self.key(), incr]

    def gen_getrange(self):
        def bound():
            return str(self.r.randint(-20, 20)) if self.r.random() < 0.85 else self.r.choice(INT_EDGES + INT_JUNK)
        return ["GETRANGE", self.key(), bound(), bound()]

    def gen_setrange(self):
        # Offsets stay small: a valid offset near 512 MB would allocate it.
        offset = (str(self.r.randint(0, 40)) if self.r.random() < 0.85 else
                  self.r.choice(["-1", "536870912", I64_MAX, "abc", "", "1.5"]))
        return ["SETRANGE", self.key(), offset, self.value()]

    # -- keyspace

    def gen_del(self):
        return ["DEL"] + self.keys()

    def gen_unlink(self):
        return ["UNLINK"] + self.keys()

    def gen_exists(self):
        return ["EXISTS"] + self.keys()

    def gen_touch(self):
        return ["TOUCH"] + self.keys()

    def gen_type(self):
        return ["TYPE", self.key()]

    def expire_flags(self):
        count = self.r.choice([0, 0, 0, 1, 1, 2])  # two flags: mostly conflicts
        return [self.word(self.r.choice(["NX", "XX", "GT", "LT"])) for _ in range(count)]

    def gen_expire(self):
        return ["EXPIRE", self.key(), self.ttl()] + self.expire_flags()

    def gen_pexpire(self):
        return ["PEXPIRE", self.key(), self.ttl(unit_ms=True)] + self.expire_flags()

    def gen_expireat(self):
        return ["EXPIREAT", self.key(), self.at(past_ok=True)] + self.expire_flags()

    def gen_pexpireat(self):
        return ["PEXPIREAT", self.key(), self.at(unit_ms=True, past_ok=True)] + self.expire_flags()

    def gen_ttl(self):
        return ["TTL", self.key()]

    def gen_pttl(self):
        return ["PTTL", self.key()]

    def gen_expiretime(self):
        return ["EXPIRETIME", self.key()]

    def gen_pexpiretime(self):
        return ["PEXPIRETIME", self.key()]

    def gen_persist(self):
        return ["PERSIST", self.key()]

    def gen_rename(self):
        return ["RENAME", self.key(), self.key()]

    def gen_renamenx(self):
        return ["RENAMENX", self.key(), self.key()]

    def gen_copy(self):
        cmd = ["COPY", self.key(), self.key()]
        if self.r.random() < 0.5:
            cmd += [self.word("DB"), self.db_arg()]
        if self.r.random() < 0.4:
            cmd.append(self.word("REPLACE"))
        return cmd

    def gen_move(self):
        return ["MOVE", self.key(), self.db_arg()]

    def gen_keys(self):
        return ["KEYS", self.r.choice(PATTERNS)]

    def gen_scan(self):
        if self.r.random() < 0.05:
            return self.r.choice([["SCAN", "abc"], ["SCAN", "0", "COUNT", "0"], ["SCAN", "0", "MATCH"],
                                  ["SCAN", "0", "TYPE"], ["SCAN", "0", "FOO", "1"], ["SCAN"]])
        options = [["MATCH", self.r.choice(PATTERNS)], ["COUNT", str(self.r.randint(1, 12))],
                   ["TYPE", self.r.choice(["string", "list", "STRING", "foo"])]]
        self.r.shuffle(options)
        return ["SCAN", "0"] + [x for opt in options if self.r.random() < 0.5 for x in opt]

    def gen_dbsize(self):
        return ["DBSIZE"]

    def gen_flushdb(self):
        return ["FLUSHDB"] + self.r.choice([[], [], ["ASYNC"], ["SYNC"]])

    def gen_flushall(self):
        return ["FLUSHALL"] + self.r.choice([[], ["ASYNC"], ["SYNC"]])

    def gen_select(self):
        return ["SELECT", self.db_arg()]

    def gen_swapdb(self):
        return ["SWAPDB", self.db_arg(), self.db_arg()]

    def gen_randomkey(self):
        return ["RANDOMKEY"]

    # -- connection

    def gen_ping(self):
        return ["PING"] + ([self.value()] if self.r.random() < 0.5 else [])

    def gen_echo(self):
        return ["ECHO", self.value()]

    def gen_unknown(self):
        name = self.r.choice(["FOO", "GETT", "sett", "", "\r\n", "K1", "X\x00Y"])
        return [name] + [self.value() for _ in range(self.r.randint(0, 3))]


def check_random(differ, label, seed, count):
    difflib_redis.check_random(differ, label, seed, count, RandomCommands(seed), rerun=f"DIFF_SEED={SEED}")


def test_random_resp2(redis_ref, subject):
    differ = Differ(redis_ref, subject, loose_randomkey=True)
    try:
        differ.reset_for_case()
        check_random(differ, "RESP2", SEED, RANDOM_COMMANDS)
    finally:
        differ.close()


def test_random_resp3(redis_ref, subject):
    differ = Differ(redis_ref, subject, resp=3, loose_randomkey=True)
    try:
        differ.reset_for_case()
        check_random(differ, "RESP3", SEED + 1, RESP3_COMMANDS)
    finally:
        differ.close()


def test_random_stream_is_reproducible():
    """A reported seed/index must point at the same command on a rerun."""
    a = [cmd for cmd, _ in zip(RandomCommands(SEED, now=1), range(500))]
    b = [cmd for cmd, _ in zip(RandomCommands(SEED, now=1), range(500))]
    assert a == b


# ----------------------------------------------------------------------------
# Expiry in real time: keys with 100 ms TTLs set every way, then checked after
# they are due. db 0 is inspected with DBSIZE first, before any access, so it
# also checks active expiry (redis' 10 Hz cycle removes them well within the
# sleep); db 1 is inspected through lookups first (lazy expiry).

SHORT_MS = 100


def expiry_setup(now_ms):
    at_ms = now_ms + SHORT_MS
    short = [
        ("SET", "a", "v", "PX", str(SHORT_MS)),
        ("SET", "b", "v"), ("PEXPIRE", "b", str(SHORT_MS)),
        ("PSETEX", "c", str(SHORT_MS), "v"),
        ("SET", "d", "v"), ("GETEX", "d", "PX", str(SHORT_MS)),
        ("SET", "e", "v", "PXAT", str(at_ms)),
        ("SET", "f", "v"), ("PEXPIREAT", "f", str(at_ms)),
        ("SET", "g", "v", "PX", "150"), ("SET", "g", "w", "KEEPTTL"),
        ("MSET", "h", "v"), ("PEXPIRE", "h", str(SHORT_MS), "NX"),
        ("SET", "i", "1", "PX", str(SHORT_MS)), ("INCR", "i"),
    ]
    return ([("SET", "keep", "v"), ("SET", "long", "v", "PX", "100000"), ("PTTL", "a")] + short
            + [("PTTL", "a"), ("SELECT", "1"), ("SET", "keep1", "v")] + short + [("DBSIZE",), ("SELECT", "0")])


EXPIRY_CHECKS_ACTIVE = [  # db 0: nothing has touched the expired keys yet
    ("DBSIZE",), ("KEYS", "*"), ("SCAN", "0"), ("SCAN", "0", "COUNT", "1"),
    ("GET", "a"), ("EXISTS", "a", "b", "c", "d", "e", "f", "g", "h", "i"), ("TTL", "a"), ("PTTL", "b"),
    ("EXPIRETIME", "c"), ("PEXPIRETIME", "d"), ("TYPE", "e"), ("STRLEN", "f"), ("GETRANGE", "g", "0", "-1"),
    ("INCR", "i"), ("TTL", "i"), ("TTL", "long"), ("GET", "keep"), ("DBSIZE",),
]
EXPIRY_CHECKS_LAZY = [  # db 1: lookups first (RANDOMKEY: keep1 is the one live key), then the keyspace views
    ("SELECT", "1"), ("RANDOMKEY",), ("GET", "a"), ("MGET", "b", "c", "keep1"), ("EXISTS", "d", "e"), ("TTL", "f"),
    ("PERSIST", "g"), ("APPEND", "h", "x"), ("TTL", "h"), ("SETNX", "i", "x"), ("RENAME", "c", "z"),
    ("COPY", "d", "z"), ("MOVE", "e", "0"), ("DBSIZE",), ("KEYS", "*"), ("SCAN", "0"),
]


def test_expiry_real_time(redis_ref, subject):
    differ = Differ(redis_ref, subject)
    try:
        differ.reset_for_case()
        setup = expiry_setup(int(time.time() * 1000))
        lines, ok = run_case(differ, setup)
        time.sleep(0.6)
        for checks in (EXPIRY_CHECKS_ACTIVE, EXPIRY_CHECKS_LAZY):
            more, matched = run_case(differ, checks)
            lines += more
            ok &= matched
    finally:
        differ.close()
    assert ok, "replies differ (!! marks the mismatches):\n" + "\n".join(lines)


def test_ttl_rounding(redis_ref, subject):
    """TTL rounds the remaining ms to the nearest second, EXPIRETIME likewise."""
    differ = Differ(redis_ref, subject)
    try:
        differ.reset_for_case()
        commands = [("SET", "k", "v", "PX", "100700"), Exact(("TTL", "k")),
                    ("SET", "j", "v", "PX", "100300"), Exact(("TTL", "j"))]
        lines, ok = run_case(differ, commands)
    finally:
        differ.close()
    assert ok, "replies differ (!! marks the mismatches):\n" + "\n".join(lines)
