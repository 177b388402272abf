"""Differential test of Redis 7.0 transactions (MULTI EXEC DISCARD WATCH UNWATCH):
Lode against a reference redis-server 7.0, raw reply bytes compared.

Every script runs in lock step on both servers (diff_twin.Twin: each step on
redis, then on the subject) over one or more connections, and the bytes of every
reply must be identical, RESP2 and RESP3. Scripts avoid replies whose order is a
server's own (HGETALL of several fields, SMEMBERS, KEYS...), so nothing is
relaxed. Some steps also carry the reply redis must give, which documents the
less obvious behaviours and checks that the test tests what it says.

  * test_fixed:       MULTI / QUEUED / EXEC / DISCARD, errors while queuing
                      (EXECABORT, nothing applied), errors while executing (per
                      command), reply types, SELECT, blocking commands, pub/sub
                      commands, QUIT and RESET inside MULTI, WATCH / UNWATCH;
  * test_watch:       a second connection touches (or not) the watched key before
                      EXEC; the expected outcome (aborted or not) is written out;
  * test_random_*:    seeded random MULTI blocks of mixed commands, some with
                      queuing errors, runtime errors, WATCH and DISCARD.

Run (from the repository root):
  pytest Tests/python/test_differential_multi.py                     # Lode vs redis
  LODE_TEST_TARGET=redis pytest Tests/python/test_differential_multi.py  # redis vs redis
Knobs: DIFF_SEED, DIFF_MULTI_COMMANDS, DIFF_MULTI_RESP3_COMMANDS, DIFF_MAX_MISMATCHES.
"""
import os
import random
import time

import pytest

import harness
from diff_twin import Twin, fmt, show_raw
from difflib_redis import MAX_MISMATCHES, SELF_CHECK, SUBJECT, I64_MAX
from difflib_redis import subject  # noqa: F401  (a fixture)

SEED = int(os.environ.get("DIFF_SEED", "20261201"))
RANDOM_COMMANDS = int(os.environ.get("DIFF_MULTI_COMMANDS", "3000"))
RESP3_COMMANDS = int(os.environ.get("DIFF_MULTI_RESP3_COMMANDS", "1500"))

OK = b"+OK\r\n"
QUEUED = b"+QUEUED\r\n"
EXECABORT = b"-EXECABORT Transaction discarded because of previous errors.\r\n"
EXEC_ARITY = b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"
NO_MULTI = b"-ERR EXEC without MULTI\r\n"
ABORTED = {2: b"*-1\r\n", 3: b"_\r\n"}   # EXEC after a watched key was touched
NOT_SUBSCRIBED_ERR = (b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                      b"RESET are allowed in this context\r\n")


def script(name, *steps):
    return pytest.param(list(steps), id=name)


# ----------------------------------------------------------------------------
# Fixed scripts: each starts from FLUSHALL on fresh connections A and B (db 0),
# and runs in RESP2 and in RESP3 (both connections).

BASIC = [
    script("exec-basic", ("A MULTI", OK), ("A SET k v", QUEUED), ("A GET k", QUEUED), "A INCR n", "A INCRBY n 10",
           "A APPEND k w", "A EXEC", "A GET k", "A GET n", "A EXEC"),
    script("exec-empty", "A MULTI", ("A EXEC", b"*0\r\n"), "A EXEC"),
    script("queued-commands-wait-for-exec", "A SET k old", "A MULTI", "A SET k new", "A INCR n", "A RPUSH l x",
           "B GET k", "B EXISTS n l", "A EXEC", "B GET k", "B GET n", "B LRANGE l 0 -1"),
    script("lowercase", "A multi", "A set k v", "A Get k", "A exec", "A mUlTi", "A discard"),
    script("discard", "A SET k old", "A MULTI", "A SET k new", "A DEL k", ("A DISCARD", OK), "A GET k",
           ("A EXEC", NO_MULTI), "A DISCARD", "A MULTI", "A DISCARD", "A GET k"),
    script("without-multi", ("A EXEC", NO_MULTI), ("A DISCARD", b"-ERR DISCARD without MULTI\r\n"), "A exec",
           "A discard"),
    script("arity-of-the-transaction-commands",
           ("A MULTI x", b"-ERR wrong number of arguments for 'multi' command\r\n"),
           ("A EXEC x", EXEC_ARITY),
           "A DISCARD x", "A WATCH", "A UNWATCH x", "A GET nokey"),
    script("exec-with-arguments-discards", "A MULTI", "A SET k v",
           ("A EXEC x", EXEC_ARITY),
           ("A EXEC", NO_MULTI), "A EXISTS k"),
    script("discard-with-arguments-flags", "A MULTI", "A SET k v",
           ("A DISCARD x", b"-ERR wrong number of arguments for 'discard' command\r\n"), ("A EXEC", EXECABORT),
           "A EXISTS k"),
    script("nested-multi-is-an-error-but-keeps-the-transaction", "A MULTI", "A SET a 1",
           ("A MULTI", b"-ERR MULTI calls can not be nested\r\n"), "A multi", "A INCR a",
           ("A EXEC", b"*2\r\n+OK\r\n:2\r\n"),
           "A GET a"),
    script("watch-inside-multi-is-an-error-but-keeps-the-transaction", "A MULTI", "A SET a 1",
           ("A WATCH a", b"-ERR WATCH inside MULTI is not allowed\r\n"), "A WATCH a b", "A watch x", "A INCR a",
           ("A EXEC", b"*2\r\n+OK\r\n:2\r\n"), "A GET a"),
    script("watch-arity-inside-multi-aborts", "A MULTI", "A SET a 1",
           ("A WATCH", b"-ERR wrong number of arguments for 'watch' command\r\n"), ("A EXEC", EXECABORT), "A EXISTS a"),
    script("unwatch-inside-multi-is-queued", "A MULTI", ("A UNWATCH", QUEUED), "A SET a 1",
           ("A EXEC", b"*2\r\n+OK\r\n+OK\r\n"), "A UNWATCH x"),
    script("long-transaction", "A MULTI", *["A INCR n"] * 300, *[f"A RPUSH l e{i}" for i in range(100)],
           "A LLEN l", "A EXEC", "A GET n"),
]

QUEUE_ERRORS = [
    script("unknown-command-aborts", "A MULTI", "A SET k v",
           ("A NOSUCHCOMMAND a b", b"-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' 'b' \r\n"),
           "A INCR n", ("A EXEC", EXECABORT), "A EXISTS k n", ("A EXEC", NO_MULTI), "A DISCARD"),
    script("unknown-command-variants", "A MULTI", "A FOO", "A foo bar", ("A", ""), ("A", "F\r\nOO", "x\x00"),
           "A SET k v", "A EXEC", "A EXISTS k"),
    script("wrong-arity-aborts", "A MULTI", "A SET k v",
           ("A GET", b"-ERR wrong number of arguments for 'get' command\r\n"), "A SET k", "A HSET h f",
           "A LPUSH l", "A ZADD z 1", "A INCR a b", "A PING a b", "A ECHO", "A SET j v", ("A EXEC", EXECABORT),
           "A EXISTS k j h l z a"),
    script("error-then-good-commands-still-queued", "A MULTI", "A GET", ("A SET k v", QUEUED), ("A INCR n", QUEUED),
           ("A EXEC", EXECABORT), "A EXISTS k n"),
    script("unknown-subcommand-aborts", "A MULTI", "A SET k v", "A CONFIG FOO", ("A EXEC", EXECABORT),
           "A EXISTS k"),
    script("queue-error-aborts-a-watched-transaction-too", "A WATCH k", "A MULTI", "A SET k v", "A FOO",
           ("A EXEC", EXECABORT), "A MULTI", ("A EXEC", b"*0\r\n"), "A EXISTS k"),
    script("discard-after-queue-error", "A MULTI", "A FOO", "A SET k v", ("A DISCARD", OK), "A EXISTS k",
           "A MULTI", "A SET k v", ("A EXEC", b"*1\r\n+OK\r\n"), "A GET k"),
]

RUNTIME_ERRORS = [
    script("runtime-errors-are-per-command", "A SET s abc", "A RPUSH l a", "A MULTI", "A INCR s", "A SET b 2",
           "A LPUSH s x", "A HSET l f v", "A INCR b", "A GET l", "A INCRBYFLOAT s 1", "A RPUSH l b",
           ("A EXEC", b"*8\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"
                      b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
                      b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:3\r\n"
                      b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
                      b"-ERR value is not a valid float\r\n:2\r\n"),
           "A GET s", "A GET b", "A LRANGE l 0 -1"),
    script("syntax-errors-are-runtime-errors", "A MULTI", ("A SET k v FOO", QUEUED), "A SET j 1",
           "A LRANGE j a b", "A SETEX k 0 v", "A SET k v EX abc", "A ZADD z abc m", "A ZADD z NX XX 1 m",
           "A EXPIRE j abc", "A LINDEX j x", "A GET j", "A EXEC", "A EXISTS k z"),
    script("overflow-inside-exec", f"A SET n {I64_MAX}", "A MULTI", "A INCR n", "A DECR n", "A INCRBY n 1",
           "A EXEC", "A GET n"),
    script("wrongtype-does-not-stop-later-writes", "A SET s x", "A MULTI", "A SADD s m", "A SET s y", "A SADD s m",
           "A SMISMEMBER s m", "A EXEC", "A TYPE s"),
]

REPLY_TYPES = [
    script("every-reply-type", "A MULTI", "A SET s v", "A GET s", "A GET nokey", "A INCR n", "A INCRBYFLOAT f 1.5",
           "A RPUSH l a b", "A LRANGE l 0 -1", "A HSET h f v", "A HGETALL h", "A HGETALL nokey", "A SADD st x",
           "A SMEMBERS st", "A SMEMBERS nokey", "A ZADD z 1.5 m", "A ZSCORE z m", "A ZSCORE z nomember",
           "A ZRANGE z 0 -1 WITHSCORES", "A ZPOPMIN z", "A CONFIG GET databases", "A EXISTS s", "A LPOP nokey",
           "A LPOP nokey 2", "A LPOP l 5", "A ZPOPMIN nokey", "A SMISMEMBER st x y", "A TYPE s", "A PING",
           "A PING hi", "A ECHO e", ("A", "ECHO", ""), ("A", "SET", "bin", b"\x00\r\n\xff"), ("A", "GET", "bin"),
           "A HMGET h f g", "A LINSERT l BEFORE zz x", "A EXEC"),
    script("nested-arrays", "A RPUSH l a", "A RPUSH m b", "A ZADD z 1 x 2 y", "A MULTI", "A LMPOP 2 l m LEFT COUNT 5",
           "A ZMPOP 1 z MAX COUNT 2", "A ZRANGE z 0 -1 WITHSCORES", "A ZRANGEBYSCORE nokey 0 1", "A EXEC"),
    script("many-kinds-of-null", "A MULTI", "A GET nokey", "A LPOP nokey", "A LPOP nokey 1", "A HGET nokey f",
           "A ZSCORE nokey m", "A ZRANK nokey m", "A LINDEX nokey 0", "A SET k v NX GET", "A SET k w NX GET",
           "A LMPOP 1 nokey LEFT", "A ZPOPMIN nokey", "A HMGET nokey a", "A EXEC"),
]

SELECT_CASES = [
    script("select-inside-multi", "A SET x db0", "A MULTI", "A SELECT 1", "A SET x db1", "A GET x", "A SELECT 16",
           "A SELECT abc", "A GET x", ("A EXEC", b"*6\r\n+OK\r\n+OK\r\n$3\r\ndb1\r\n-ERR DB index is out of range\r\n"
                                          b"-ERR value is not an integer or out of range\r\n$3\r\ndb1\r\n"),
           ("A GET x", b"$3\r\ndb1\r\n"), "A SELECT 0", "A GET x"),
    script("select-in-discarded-transaction-does-nothing", "A SET x db0", "A MULTI", "A SELECT 1", "A DISCARD",
           "A GET x", "A MULTI", "A SELECT 1", "A FOO", "A EXEC", "A GET x"),
    script("transaction-in-db-2", "A SELECT 2", "A MULTI", "A SET x 2", "A MOVE x 0", "A EXISTS x", "A SWAPDB 0 2",
           "A GET x", "A EXEC", "A GET x", "A SELECT 0", "A GET x"),
]

BLOCKING_CASES = [
    script("blocking-commands-do-not-block-in-multi", "A MULTI", "A BLPOP l 0", "A BRPOP l m 1",
           "A BLMOVE l m LEFT LEFT 0", "A BRPOPLPUSH l m 0", "A BZPOPMIN z 0", "A BZPOPMAX z 0",
           "A BLMPOP 0 1 l LEFT", "A BZMPOP 0 1 z MIN",
           ("A EXEC", {2: b"*8\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n*-1\r\n*-1\r\n*-1\r\n",
                       3: b"*8\r\n_\r\n_\r\n_\r\n_\r\n_\r\n_\r\n_\r\n_\r\n"})),
    script("blocking-commands-with-data-in-multi", "A RPUSH l a b c", "A ZADD z 1 m 2 n 3 o", "A MULTI",
           "A BLPOP l 0", "A BRPOP l 0", "A BLMOVE l m LEFT LEFT 0", "A BLPOP l 0", "A BZPOPMIN z 0",
           "A BZPOPMAX z 0", "A BZMPOP 0 1 z MIN", "A BZPOPMIN z 0", "A EXEC", "A LRANGE m 0 -1", "A EXISTS l z"),
    script("blocking-argument-errors-in-multi", "A MULTI", "A BLPOP l abc", "A BLPOP l -1", "A BLMPOP 0 0 l LEFT",
           "A BZPOPMIN z x", "A SET k v", "A EXEC", "A GET k"),
    script("blocking-list-filled-inside-the-transaction", "A MULTI", "A BLPOP l 0", "A RPUSH l x y", "A BLPOP l 0",
           "A BRPOP l 0", "A BLPOP l 0", "A EXEC"),
]

SPECIAL_COMMANDS = [
    script("subscribe-inside-multi-runs-at-exec", "A MULTI", ("A SUBSCRIBE ch", QUEUED), "A PSUBSCRIBE p*",
           "A SET k v", "A UNSUBSCRIBE ch", "A PUNSUBSCRIBE", "A EXEC", "A GET k"),
    script("ssubscribe-inside-multi-is-refused-at-exec", "A MULTI", ("A SSUBSCRIBE sh", QUEUED),
           "A SUNSUBSCRIBE sh", "A SUNSUBSCRIBE", "A SET k v",
           ("A EXEC", {2: b"*4\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n"
                          b"*3\r\n$12\r\nsunsubscribe\r\n$2\r\nsh\r\n:0\r\n*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n"
                          b"+OK\r\n"}),
           "A GET k"),
    script("publish-inside-multi", "A MULTI", "A PUBLISH ch m", "A PUBSUB NUMSUB ch", "A PUBSUB NUMPAT",
           "A SPUBLISH sh m", "A EXEC"),
    script("unwatch-and-ping-echo-inside-multi", "A MULTI", "A PING", "A PING x", "A ECHO y", "A UNWATCH", "A EXEC"),
]

CONNECTION_CASES = [
    script("quit-inside-multi", "A MULTI", "A SET q 1", ("A QUIT", OK), "A CLOSED", "B EXISTS q", "B MULTI",
           "B EXEC"),
    script("reset-inside-multi", "A MULTI", "A SET q 1", ("A RESET", b"+RESET\r\n"), ("A EXEC", NO_MULTI),
           "A EXISTS q", "A GET nokey"),
    script("reset-clears-watches", "A WATCH q", "A RESET", "B SET q 5", "A MULTI", "A SET q 6",
           ("A EXEC", b"*1\r\n+OK\r\n"), "A GET q"),
    script("reset-inside-multi-clears-watches", "A WATCH q", "A MULTI", "A RESET", "B SET q 5", "A MULTI",
           "A GET q", ("A EXEC", b"*1\r\n$1\r\n5\r\n")),
    script("reset-inside-multi-resets-the-database", "A SELECT 3", "A MULTI", "A SELECT 4", "A RESET", "A SET x 1",
           "B EXISTS x"),
    script("watch-unwatch-replies", ("A WATCH a", OK), ("A WATCH a b c", OK), "A WATCH a", ("A UNWATCH", OK),
           "A UNWATCH", "A watch x", "A unwatch", ("A", "WATCH", "", b"\x00\r\n"), "A UNWATCH"),
]

FIXED = BASIC + QUEUE_ERRORS + RUNTIME_ERRORS + REPLY_TYPES + SELECT_CASES + BLOCKING_CASES + SPECIAL_COMMANDS + \
    CONNECTION_CASES


def fresh_twin(redis_ref, subject, resp, names="AB"):
    twin = Twin(redis_ref, subject, names, resp=resp)
    twin.call("A", "FLUSHALL")
    return twin


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("steps", FIXED)
def test_fixed(redis_ref, subject, steps, resp):
    with fresh_twin(redis_ref, subject, resp) as twin:
        twin.run(steps)
        twin.check(f"RESP{resp}: ")


def test_subscribed_after_exec_of_subscribe(redis_ref, subject):
    """A SUBSCRIBE run by EXEC leaves a RESP2 client in subscribed mode: the
    commands after EXEC get the subscribed-mode error, PING its *2 form, and a
    message published by another client arrives."""
    with fresh_twin(redis_ref, subject, 2) as t:
        t.run(["A MULTI", "A SUBSCRIBE ch", "A SET k v", "A EXEC", ("A GET k", NOT_SUBSCRIBED_ERR),
               ("A PING", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"), ("A MULTI", NOT_SUBSCRIBED_ERR.replace(b"get", b"multi")),
               ("B PUBLISH ch hi", b":1\r\n")])
        t.frames("A", 1, "A <- message")
        t.run(["A UNSUBSCRIBE", ("A GET k", b"$1\r\nv\r\n")])
        t.check()


def test_hello_inside_multi_switches_protocol_mid_exec(redis_ref, subject):
    """HELLO 3 queued in a RESP2 transaction: EXEC's header is RESP2, the HELLO
    reply a RESP3 map, and the replies after it RESP3 (null as _). HELLO's id,
    version and server fields are masked."""
    with fresh_twin(redis_ref, subject, 2) as t:
        t.run(["A MULTI", "A GET nokey", "A HELLO 3", "A GET nokey", "A HGETALL nokey"])
        a, b = (c.call_raw("EXEC") for c in t.conns["A"])
        ok = _mask_hello(a) == _mask_hello(b)
        t.record("A EXEC (HELLO's id/version/server masked)", a, b, ok)
        assert a.startswith(b"*4\r\n$-1\r\n%7\r\n") and a.endswith(b"_\r\n%0\r\n"), a
        t.run([("A GET nokey", b"_\r\n")])
        t.check()


def _mask_hello(raw):
    lines = raw.split(b"\r\n")
    for i, line in enumerate(lines[:-2]):
        if line in (b"$2", b"$7", b"$6") and lines[i + 1] in (b"id", b"version", b"server"):
            lines[i + 2] = lines[i + 3] = b"(masked)"
    return lines


def test_refused_in_multi(redis_ref, subject):
    """SHUTDOWN (a no-multi command) is refused while queuing and aborts the
    transaction. On a server of its own: a server that ran it would stop."""
    srv = harness.redis_server().start() if SELF_CHECK else harness.lode_server().start()
    try:
        with Twin(redis_ref, srv, "A") as t:
            t.run(["A FLUSHALL", "A MULTI", "A SET k v",
                   ("A SHUTDOWN", b"-ERR Command not allowed inside a transaction\r\n"),
                   ("A SHUTDOWN NOSAVE", b"-ERR Command not allowed inside a transaction\r\n"),
                   ("A EXEC", EXECABORT), "A EXISTS k", "A PING"])
            t.check()
    finally:
        srv.cleanup()


def test_pipelined_transactions(redis_ref, subject):
    """Whole transactions sent in one write (as client libraries pipeline them),
    with a watch touched inside the same pipeline; every reply compared."""
    cmds = [("WATCH", "w"), ("SET", "w", "0"), ("MULTI",), ("SET", "a", "1"), ("EXEC",)]
    for i in range(50):
        cmds += [("MULTI",), ("INCR", "n"), ("RPUSH", "l", str(i)), ("GET", "n")]
        cmds += [("FOO",)] if i % 7 == 3 else []
        cmds += [("INCR", "l")] if i % 5 == 1 else []
        cmds += [("DISCARD",)] if i % 11 == 5 else [("EXEC",)]
    cmds += [("LRANGE", "l", "0", "-1"), ("GET", "n"), ("EXISTS", "a")]
    data = b"".join(harness.encode_command(*c) for c in cmds)
    with fresh_twin(redis_ref, subject, 2) as t:
        replies = []
        for c in t.conns["A"]:
            c.send_raw(data)
            replies.append([c.read_reply_raw() for _ in cmds])
        for cmd, a, b in zip(cmds, *replies):
            t.record(fmt(cmd), a, b)
        assert replies[0][4] == b"*-1\r\n"
        t.check()


# ----------------------------------------------------------------------------
# WATCH: connection A watches, B (or A itself) touches, then A runs
# MULTI / SET res 1 / EXEC and reads res. `aborts` is what redis must do.


def watch_case(name, setup, touch, aborts, watch="k"):
    return pytest.param(setup, touch, aborts, watch, id=name)


WATCH_CASES = [
    # -- writes that abort
    watch_case("set", ["A SET k v"], ["B SET k w"], True),
    watch_case("set-same-value", ["A SET k v"], ["B SET k v"], True),
    watch_case("del", ["A SET k v"], ["B DEL k"], True),
    watch_case("unlink", ["A SET k v"], ["B UNLINK k"], True),
    watch_case("getdel", ["A SET k v"], ["B GETDEL k"], True),
    watch_case("incr", ["A SET k 1"], ["B INCR k"], True),
    watch_case("incrbyfloat-zero", ["A SET k 1"], ["B INCRBYFLOAT k 0"], True),
    watch_case("append", ["A SET k 1"], ["B APPEND k x"], True),
    watch_case("expire", ["A SET k 1"], ["B EXPIRE k 100"], True),
    watch_case("pexpire-long", ["A SET k 1"], ["B PEXPIRE k 100000000"], True),
    watch_case("persist-removes-ttl", ["A SET k 1 EX 100"], ["B PERSIST k"], True),
    watch_case("expires-after-pexpire", ["A SET k 1"], ["B PEXPIRE k 50", "SLEEP 0.15"], True),
    watch_case("ttl-runs-out-after-watch", ["A SET k 1 PX 80"], ["SLEEP 0.15"], True),
    watch_case("ttl-runs-out-and-read-by-other", ["A SET k 1 PX 80"], ["SLEEP 0.15", "B GET k"], True),
    watch_case("flushdb", ["A SET k 1"], ["B FLUSHDB"], True),
    watch_case("flushall", ["A SET k 1"], ["B FLUSHALL"], True),
    watch_case("flushall-from-other-db", ["A SET k 1"], ["B SELECT 5", "B FLUSHALL"], True),
    watch_case("swapdb", ["A SET k 1"], ["B SWAPDB 0 1"], True),
    watch_case("swapdb-brings-the-key", [], ["B SELECT 1", "B SET k 1", "B SWAPDB 0 1"], True),
    watch_case("move-out", ["A SET k 1"], ["B MOVE k 1"], True),
    watch_case("move-in", [], ["B SELECT 1", "B SET k 1", "B MOVE k 0"], True),
    watch_case("rename-source", ["A SET k 1"], ["B RENAME k j"], True),
    watch_case("rename-destination", ["A SET j 1"], ["B RENAME j k"], True),
    watch_case("renamenx-destination", ["A SET j 1"], ["B RENAMENX j k"], True),
    watch_case("copy-onto", ["A SET j 1"], ["B COPY j k"], True),
    watch_case("mset", [], ["B MSET a 1 k 2"], True),
    watch_case("rpush-creates", [], ["B RPUSH k a"], True),
    watch_case("lpush-existing", ["A RPUSH k a"], ["B LPUSH k b"], True),
    watch_case("lpop", ["A RPUSH k a b"], ["B LPOP k"], True),
    watch_case("lmove-destination", ["A RPUSH j a"], ["B LMOVE j k LEFT LEFT"], True),
    watch_case("hset-new-field", ["A HSET k f v"], ["B HSET k g v"], True),
    watch_case("hset-same-value", ["A HSET k f v"], ["B HSET k f v"], True),
    watch_case("hincrby", ["A HSET k f 1"], ["B HINCRBY k f 1"], True),
    watch_case("hdel", ["A HSET k f v g w"], ["B HDEL k f"], True),
    watch_case("sadd-new-member", ["A SADD k a"], ["B SADD k b"], True),
    watch_case("srem", ["A SADD k a b"], ["B SREM k a"], True),
    watch_case("zadd-new-score", ["A ZADD k 1 a"], ["B ZADD k 2 a"], True),
    watch_case("zincrby", ["A ZADD k 1 a"], ["B ZINCRBY k 1 a"], True),
    watch_case("created", [], ["B SET k 1"], True),
    watch_case("created-then-deleted", [], ["B SET k 1", "B DEL k"], True),
    watch_case("changed-back", ["A SET k 1"], ["B SET k 2", "B SET k 1"], True),
    watch_case("other-transaction", ["A SET k 1"], ["B MULTI", "B SET k 2", "B EXEC"], True),
    watch_case("one-of-several-keys", ["A SET k 1"], ["B SET j 2"], True, watch="k j z"),
    watch_case("same-client-before-multi", ["A SET k 1"], ["A SET k 2"], True),
    watch_case("same-client-del-before-multi", ["A SET k 1"], ["A DEL k"], True),
    watch_case("watched-twice", ["A SET k 1"], ["A WATCH k", "B SET k 2"], True),
    watch_case("watch-more-after-touch", ["A SET k 1"], ["B SET k 2", "A WATCH j"], True),
    # -- what does not abort
    watch_case("other-key", ["A SET k 1"], ["B SET j 2"], False),
    watch_case("reads", ["A SET k 1"], ["B GET k", "B EXISTS k", "B TTL k", "B PTTL k", "B TYPE k", "B STRLEN k",
                                        "B GETRANGE k 0 -1", "B MGET k k"], False),
    watch_case("del-missing", [], ["B DEL k"], False),
    watch_case("expire-missing", [], ["B EXPIRE k 100"], False),
    watch_case("persist-without-ttl", ["A SET k 1"], ["B PERSIST k"], False),
    watch_case("setnx-fails", ["A SET k 1"], ["B SETNX k 2", "B SET k 3 NX"], False),
    watch_case("set-xx-missing", [], ["B SET k 1 XX", "B RPUSHX k a", "B LPOP k", "B HDEL k f"], False),
    watch_case("sadd-existing-member", ["A SADD k a"], ["B SADD k a"], False),
    watch_case("srem-missing-member", ["A SADD k a"], ["B SREM k b"], False),
    watch_case("hdel-missing-field", ["A HSET k f v"], ["B HDEL k g"], False),
    watch_case("zadd-same-score", ["A ZADD k 1 a"], ["B ZADD k 1 a"], False),
    watch_case("lrem-nothing", ["A RPUSH k a"], ["B LREM k 0 zz"], False),
    watch_case("rename-to-itself", ["A SET k 1"], ["B RENAME k k"], False),
    watch_case("move-missing", [], ["B MOVE k 1"], False),
    watch_case("flushall-key-missing", [], ["B SET z 1", "B FLUSHALL"], False),
    watch_case("flushdb-empty", [], ["B FLUSHDB"], False),
    watch_case("flushdb-other-db", ["A SET k 1"], ["B SELECT 1", "B SET k 1", "B FLUSHDB"], False),
    watch_case("swapdb-other-dbs", ["A SET k 1"], ["B SWAPDB 1 2"], False),
    watch_case("swapdb-key-in-neither", [], ["B SELECT 1", "B SET z 1", "B SWAPDB 0 1"], False),
    watch_case("same-name-other-db", ["A SET k 1"], ["B SELECT 1", "B SET k 2", "B DEL k"], False),
    watch_case("touched-before-watch", ["A SET k 1", "B SET k 2"], [], False),
    watch_case("ttl-not-run-out", ["A SET k 1 EX 100"], ["B GET k"], False),
    watch_case("already-expired-when-watched", ["A SET k 1 PX 20", "SLEEP 0.05"], ["B GET k"], False),
    watch_case("unwatch", ["A SET k 1"], ["B SET k 2", "A UNWATCH"], False),
    watch_case("watch-in-db-1-write-in-db-0", ["A SELECT 1", "A SET k 1"], ["A SELECT 0", "A SET k 2", "B SET k 3"],
               False),
    # -- expired-at-WATCH keys that are then written do abort
    watch_case("already-expired-when-watched-then-set", ["A SET k 1 PX 20", "SLEEP 0.05"], ["B SET k 2"], True),
]


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("setup,touch,aborts,watch", WATCH_CASES)
def test_watch(redis_ref, subject, setup, touch, aborts, watch, resp):
    with fresh_twin(redis_ref, subject, resp) as t:
        t.run(setup)
        t.run([("A", "WATCH", *watch.split(" "))])
        t.run(touch)
        t.run(["A MULTI", "A SET res 1", "A INCR cnt"])
        expected = ABORTED[resp] if aborts else b"*2\r\n+OK\r\n:1\r\n"
        t.run([("A EXEC", expected), "A SELECT 0", ("A EXISTS res cnt", b":0\r\n" if aborts else b":2\r\n")])
        t.run(["A MULTI", ("A EXEC", b"*0\r\n")])   # EXEC cleared the watches
        t.check(f"RESP{resp}: ")


WATCH_LIFECYCLE = [
    script("exec-clears-watches", "A SET k 1", "A WATCH k", "A MULTI", "A EXEC", "B SET k 2", "A MULTI", "A GET k",
           ("A EXEC", b"*1\r\n$1\r\n2\r\n")),
    script("aborted-exec-clears-watches", "A WATCH k", "B SET k 2", "A MULTI", ("A EXEC", ABORTED), "B SET k 3",
           "A MULTI", ("A EXEC", b"*0\r\n")),
    script("discard-clears-watches", "A WATCH k", "A MULTI", "A DISCARD", "B SET k 1", "A MULTI",
           ("A EXEC", b"*0\r\n")),
    script("execabort-clears-watches", "A WATCH k", "A MULTI", "A FOO", "A EXEC", "B SET k 1", "A MULTI",
           ("A EXEC", b"*0\r\n")),
    script("write-inside-own-transaction", "A WATCH k", "A MULTI", "A SET k 1", "A INCR k", "A GET k",
           ("A EXEC", b"*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n")),
    script("touch-while-queuing", "A WATCH k", "A MULTI", "A SET r 1", "B SET k 1", ("A EXEC", ABORTED),
           "A EXISTS r"),
    script("aborted-transaction-with-runtime-errors-reports-nothing", "A SET s x", "A WATCH k", "B SET k 1",
           "A MULTI", "A INCR s", "A SET r 1", ("A EXEC", ABORTED), "A EXISTS r"),
    script("two-watchers", "A WATCH k", "B WATCH k", "A MULTI", "A SET k a", "B MULTI", "B SET k b",
           ("A EXEC", b"*1\r\n+OK\r\n"), ("B EXEC", ABORTED), "A GET k"),
    script("unwatch-forgets-every-key", "A WATCH a b c d", "A WATCH e", "B SET e 1", "A UNWATCH",
           "A WATCH a", "B SET b 1", "A MULTI", ("A EXEC", b"*0\r\n")),
    script("unwatch-clears-a-touched-watch", "A WATCH k", "A SET k 1", "A UNWATCH",
           "A WATCH k", "A MULTI", ("A EXEC", b"*0\r\n")),
]


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("steps", WATCH_LIFECYCLE)
def test_watch_lifecycle(redis_ref, subject, steps, resp):
    with fresh_twin(redis_ref, subject, resp) as twin:
        twin.run(steps)
        twin.check(f"RESP{resp}: ")


def test_watch_key_in_db1_then_select0_same_name(redis_ref, subject):
    """WATCH is per database: watching k in db 1, then SELECT 0 (A is then in
    db 0 for MULTI), a write to k in db 0 by either client does not abort, a
    write to k in db 1 does."""
    with fresh_twin(redis_ref, subject, 2) as t:
        t.run(["A SELECT 1", "A WATCH k", "A SELECT 0", "A SET k mine", "B SET k other", "A MULTI", "A GET k",
               ("A EXEC", b"*1\r\n$5\r\nother\r\n"),
               "A SELECT 1", "A WATCH k", "A SELECT 0", "B SELECT 1", "B SET k db1", "A MULTI", "A GET k",
               ("A EXEC", b"*-1\r\n")])
        t.check()


# ----------------------------------------------------------------------------
# Random MULTI blocks, compared byte for byte. No command whose reply order is
# the server's own (HGETALL of several fields, SMEMBERS, KEYS, SCAN...), nothing
# random (SPOP, RANDOMKEY...), no relative TTL read (TTL/PTTL), so every reply is
# compared exactly.

KEYS = ["s1", "s2", "l1", "l2", "h1", "h2", "t1", "t2", "z1", "z2"]
VALUES = ["0", "1", "-5", "10", "abc", "", "3.5", "x y", "\x00\r\n"]
MEMBERS = ["a", "b", "c", "d", "1", "2"]
FAR = 4000000000


class RandomMulti:
    """A reproducible stream of commands: MULTI blocks (optionally after WATCH and
    a self-write), DISCARDs, queuing and runtime errors, and some plain commands
    between the blocks."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.pending = []

    def __iter__(self):
        return self

    def __next__(self):
        if not self.pending:
            self.pending = self.block()
        return self.pending.pop(0)

    def key(self):
        return self.r.choice(KEYS)

    def member(self):
        return self.r.choice(MEMBERS)

    def value(self):
        return self.r.choice(VALUES)

    def block(self):
        r = self.r
        out = [self.command(in_multi=False) for _ in range(r.randint(0, 3))]
        if r.random() < 0.3:
            watched = [self.key() for _ in range(r.randint(1, 3))]
            out.append(("WATCH", *watched))
            if r.random() < 0.6:
                out.append(("SET" if r.random() < 0.7 else "DEL", r.choice(watched), *(["w"] if r.random() < 0.7
                                                                                     else [])))
            if r.random() < 0.2:
                out.append(("UNWATCH",))
        out.append(("MULTI",))
        for _ in range(r.randint(0, 12)):
            x = r.random()
            if x < 0.03:
                out.append(self.queue_error())
            elif x < 0.045:
                out.append(r.choice([("MULTI",), ("WATCH", self.key())]))
            else:
                out.append(self.command())
        x = r.random()
        if x < 0.82:
            out.append(("EXEC",))
        elif x < 0.95:
            out.append(("DISCARD",))
        else:
            out.append(r.choice([("EXEC", "x"), ("DISCARD", "x")]))
            out.append(("EXEC",))
        return out

    def queue_error(self):
        r = self.r
        return r.choice([
            ("NOSUCHCMD", self.key()), ("FOO",), ("GET",), ("SET", self.key()), ("HSET", "h1", "f"),
            ("LPUSH", "l1"), ("ZADD", "z1", "1"), ("INCR", "s1", "s2"), ("SADD", "t1"), ("EXISTS",),
            ("LRANGE", "l1", "0"), ("hget", "h1"),
        ])

    def command(self, in_multi=True):
        """A command; a blocking one only inside MULTI, where it does not block."""
        r = self.r
        while True:
            cmd = self._command()
            if in_multi or not cmd[0].startswith("B"):
                return cmd

    def _command(self):
        r = self.r
        k, v, m = self.key(), self.value(), self.member()
        gens = [
            # strings
            lambda: ("SET", k, v), lambda: ("SET", k, v, r.choice(["NX", "XX", "GET", "FOO", "KEEPTTL"])),
            lambda: ("GET", k), lambda: ("INCR", k), lambda: ("INCRBY", k, r.choice(["5", "-3", "x", I64_MAX])),
            lambda: ("DECR", k), lambda: ("APPEND", k, v), lambda: ("STRLEN", k), lambda: ("GETSET", k, v),
            lambda: ("MSET", k, v, self.key(), self.value()), lambda: ("MGET", k, self.key()),
            lambda: ("SETNX", k, v), lambda: ("GETDEL", k), lambda: ("INCRBYFLOAT", k, r.choice(["1.5", "x"])),
            lambda: ("SETRANGE", k, r.choice(["0", "3", "-1"]), v), lambda: ("GETRANGE", k, "0", "-1"),
            # lists
            lambda: ("RPUSH", k, m, self.member()), lambda: ("LPUSH", k, m), lambda: ("LPOP", k),
            lambda: ("RPOP", k, r.choice(["1", "2", "0", "-1"])), lambda: ("LRANGE", k, "0", "-1"),
            lambda: ("LLEN", k), lambda: ("LINDEX", k, r.choice(["0", "-1", "x"])),
            lambda: ("LSET", k, r.choice(["0", "5"]), m), lambda: ("LREM", k, "0", m),
            lambda: ("LMOVE", k, self.key(), "LEFT", "RIGHT"), lambda: ("BLPOP", k, "0"),
            lambda: ("BRPOP", k, self.key(), "0"), lambda: ("BLMOVE", k, self.key(), "RIGHT", "LEFT", "0"),
            lambda: ("LPOS", k, m),
            # hashes (one field read at a time: HGETALL order is the server's own)
            lambda: ("HSET", k, m, v), lambda: ("HSET", k, m, v, self.member(), self.value()),
            lambda: ("HGET", k, m), lambda: ("HDEL", k, m), lambda: ("HLEN", k), lambda: ("HEXISTS", k, m),
            lambda: ("HINCRBY", k, m, r.choice(["1", "x"])), lambda: ("HMGET", k, m, self.member()),
            lambda: ("HSETNX", k, m, v), lambda: ("HSTRLEN", k, m),
            # sets
            lambda: ("SADD", k, m, self.member()), lambda: ("SREM", k, m), lambda: ("SCARD", k),
            lambda: ("SISMEMBER", k, m), lambda: ("SMISMEMBER", k, m, self.member()),
            lambda: ("SINTERCARD", "2", k, self.key()), lambda: ("SMOVE", k, self.key(), m),
            lambda: ("SUNIONSTORE", k, self.key(), self.key()),
            # sorted sets (ordered replies)
            lambda: ("ZADD", k, r.choice(["1", "2.5", "-1", "x"]), m), lambda: ("ZINCRBY", k, "1", m),
            lambda: ("ZSCORE", k, m), lambda: ("ZRANGE", k, "0", "-1", "WITHSCORES"), lambda: ("ZREM", k, m),
            lambda: ("ZCARD", k), lambda: ("ZRANK", k, m), lambda: ("ZPOPMIN", k), lambda: ("BZPOPMAX", k, "0"),
            lambda: ("ZRANGEBYSCORE", k, "-inf", "+inf"), lambda: ("ZMSCORE", k, m, self.member()),
            # keyspace
            lambda: ("DEL", k, self.key()), lambda: ("EXISTS", k, self.key()), lambda: ("TYPE", k),
            lambda: ("EXPIREAT", k, str(FAR)), lambda: ("EXPIRETIME", k), lambda: ("PERSIST", k),
            lambda: ("RENAME", k, self.key()), lambda: ("RENAMENX", k, self.key()),
            lambda: ("COPY", k, self.key(), *(["REPLACE"] if r.random() < 0.5 else [])),
            lambda: ("MOVE", k, r.choice(["1", "2", "0", "16"])), lambda: ("SELECT", r.choice(["0", "1", "2", "99"])),
            lambda: ("DBSIZE",), lambda: ("ECHO", v), lambda: ("PING",),
            lambda: ("FLUSHDB",) if r.random() < 0.15 else ("UNLINK", k),
            lambda: ("SWAPDB", "0", r.choice(["1", "2"])),
        ]
        return r.choice(gens)()


def resync(pair):
    """Puts both connections back into the same plain state after a mismatch."""
    for c in pair:
        c.send_raw(b"".join(harness.encode_command(*x) for x in [("DISCARD",), ("UNWATCH",), ("SELECT", "0"),
                                                                   ("FLUSHALL",)]))
        for _ in range(4):
            c.read_reply_raw()


def run_random(twin, label, seed, count):
    stream = RandomMulti(seed)
    ra, rb = twin.conns["A"]
    history = []
    mismatches = []
    stats = {"exec": 0, "execabort": 0, "aborted": 0, "with-errors": 0, "queued": 0}
    done = 0
    started = time.time()
    while done < count and len(mismatches) < MAX_MISMATCHES:
        batch = [next(stream) for _ in range(min(100, count - done))]
        data = b"".join(harness.encode_command(*c) for c in batch)
        replies = []
        for c in (ra, rb):
            c.send_raw(data)
            try:
                replies.append([c.read_reply_raw() for _ in batch])
            except (OSError, harness.ConnectionClosed) as e:
                mismatches.append(f"{label} seed={seed}: {type(e).__name__} in commands {done}..{done + len(batch)}")
                return mismatches
        for i, (cmd, a, b) in enumerate(zip(batch, *replies)):
            count_reply(stats, cmd, a)
            if a == b:
                history = (history + [(done + i, cmd, a)])[-12:]
                continue
            prev = "\n".join(f"      [{j}] {fmt(c)} -> {show_raw(x, 100)}" for j, c, x in history)
            mismatches.append(f"{label} seed={seed} index={done + i}\n    command: {fmt(cmd)}\n"
                              f"    redis:   {show_raw(a)}\n    {SUBJECT + ':':8} {show_raw(b)}\n"
                              f"    previous commands (redis replies):\n{prev or '      (none)'}")
            history = []
            # The rest of the batch was sent already: the replies are read (above)
            # and ignored; both then restart from an empty keyspace.
            resync((ra, rb))
            break
        done += len(batch)
    assert not mismatches, (f"{len(mismatches)} mismatch(es); {count} commands, {time.time() - started:.1f}s; "
                            f"rerun with DIFF_SEED={seed}\n\n" + "\n\n".join(mismatches))
    # The stream must exercise what it is meant to (checked on redis' replies).
    if count >= 1000:
        assert stats["exec"] >= count // 40 and stats["execabort"] >= 5 and stats["aborted"] >= 5 \
            and stats["with-errors"] >= 20 and stats["queued"] >= count // 4, stats
    return stats


def count_reply(stats, cmd, reply):
    if cmd[0] != "EXEC":
        stats["queued"] += reply == QUEUED
        return
    stats["exec"] += 1
    stats["execabort"] += reply.startswith(b"-EXECABORT")
    stats["aborted"] += reply in (b"*-1\r\n", b"_\r\n")
    stats["with-errors"] += reply.startswith(b"*") and b"\r\n-" in reply


def test_random_resp2(redis_ref, subject):
    with fresh_twin(redis_ref, subject, 2, names="A") as t:
        run_random(t, "multi RESP2", SEED, RANDOM_COMMANDS)


def test_random_resp3(redis_ref, subject):
    with fresh_twin(redis_ref, subject, 3, names="A") as t:
        run_random(t, "multi RESP3", SEED + 1, RESP3_COMMANDS)


def test_random_stream_is_reproducible():
    a = [c for c, _ in zip(RandomMulti(SEED), range(500))]
    b = [c for c, _ in zip(RandomMulti(SEED), range(500))]
    assert a == b
    assert sum(c == ("MULTI",) for c in a) >= 30
