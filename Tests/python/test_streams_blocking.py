"""Blocking stream reads, XREAD BLOCK and XREADGROUP BLOCK, in scenarios run
against the reference redis-server ("redis" ids) and the server under test alike
(diff_blocking.py): several consumers served oldest first, `$` meaning "after the
last entry when the client blocked", timeouts, disconnects, wake-ups after MULTI
and scripts, the errors of a waiter whose stream or group goes away, CLIENT
UNBLOCK, RESP3's map reply, and the refusals (BLOCK in a script, bad timeouts).
"""
import time

import pytest

import harness
from diff_blocking import Scenario, assert_blocked, expect
from diff_blocking import server  # noqa: F401  (a fixture)
from difflib_redis import subject  # noqa: F401  (a fixture)
from harness import NULL, NULL_ARRAY, Err, Map, Simple

OK = Simple(b"OK")


def entry(id_, *fields):
    return [id_.encode(), [f.encode() for f in fields]]


def test_xread_dollar_waits_for_new_entries(server):
    with Scenario(server) as s:
        s.check(("XADD", "s", "1-0", "a", "1"), b"1-0")
        a = s.block("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        b = s.block("XREAD", "BLOCK", "0", "STREAMS", "nokey", "s", "0", "$")
        s.check(("XADD", "s", "2-0", "b", "2"), b"2-0")
        s.served(a, [[b"s", [entry("2-0", "b", "2")]]])
        s.served(b, [[b"s", [entry("2-0", "b", "2")]]])
        # COUNT bounds what a woken reader gets
        c = s.block("XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "2-0")
        s.check(("XADD", "s", "3-0", "c", "3"), b"3-0")
        s.check(("XADD", "s", "4-0", "d", "4"), b"4-0")
        s.served(c, [[b"s", [entry("3-0", "c", "3")]]])


def test_xreadgroup_consumers_served_oldest_first(server):
    with Scenario(server) as s:
        s.check(("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"), OK)
        a = s.block("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        b = s.block("XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "COUNT", "5", "STREAMS", "s", ">")
        c = s.block("XREADGROUP", "GROUP", "g", "carol", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
        s.check(("XADD", "s", "1-0", "f", "1"), b"1-0")
        s.served(a, [[b"s", [entry("1-0", "f", "1")]]])
        assert_blocked(b)
        s.check(("XADD", "s", "2-0", "f", "2"), b"2-0")
        s.served(b, [[b"s", [entry("2-0", "f", "2")]]])
        s.check(("XADD", "s", "3-0", "f", "3"), b"3-0")
        s.served(c, [[b"s", [entry("3-0", "f", "3")]]])
        # alice and bob hold one pending entry each; carol's NOACK read left none
        s.check(("XPENDING", "s", "g"), [2, b"1-0", b"2-0", [[b"alice", b"1"], [b"bob", b"1"]]])
        s.check(("XINFO", "GROUPS", "s"), [[b"name", b"g", b"consumers", 3, b"pending", 2, b"last-delivered-id", b"3-0",
                                            b"entries-read", 3, b"lag", 0]])


def test_wake_up_after_multi_and_script(server):
    with Scenario(server) as s:
        s.check(("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"), OK)
        a = s.block("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        s.check(("MULTI",), OK)
        s.check(("XADD", "s", "1-0", "f", "1"), Simple(b"QUEUED"))
        s.check(("XADD", "s", "2-0", "f", "2"), Simple(b"QUEUED"))
        s.check(("EXEC",), [b"1-0", b"2-0"])
        # served after the whole transaction: both entries
        s.served(a, [[b"s", [entry("1-0", "f", "1"), entry("2-0", "f", "2")]]])
        b = s.block("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        s.check(("EVAL", "redis.call('XADD', KEYS[1], '3-0', 'f', '3'); return redis.call('XADD', KEYS[1], '4-0', 'f', '4')",
                 "1", "s"), b"4-0")
        s.served(b, [[b"s", [entry("3-0", "f", "3"), entry("4-0", "f", "4")]]])


def test_timeouts_and_disconnects(server):
    with Scenario(server) as s:
        s.check(("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"), OK)
        c = s.connect()
        started = time.monotonic()
        expect(c.call("XREAD", "BLOCK", "100", "STREAMS", "s", "$"), NULL_ARRAY, "XREAD timing out")
        expect(c.call("XREADGROUP", "GROUP", "g", "x", "BLOCK", "100", "STREAMS", "s", ">"), NULL_ARRAY, "XREADGROUP timing out")
        elapsed = time.monotonic() - started
        assert 0.18 <= elapsed < 3.0, f"two 100 ms timeouts answered after {elapsed:.3f} s"
        r3 = s.connect(resp=3)
        expect(r3.call("XREAD", "BLOCK", "50", "STREAMS", "s", "$"), NULL, "RESP3 timeout")
        gone = s.block("XREADGROUP", "GROUP", "g", "leaver", "BLOCK", "0", "STREAMS", "s", ">")
        stays = s.block("XREADGROUP", "GROUP", "g", "stayer", "BLOCK", "0", "STREAMS", "s", ">")
        s.disconnect(gone)
        s.check(("XADD", "s", "1-0", "f", "1"), b"1-0")
        s.served(stays, [[b"s", [entry("1-0", "f", "1")]]])
        # the consumer that timed out exists only if it read: XREADGROUP creates
        # consumers when it serves, so only stayer is there
        consumers = s.do("XINFO", "CONSUMERS", "s", "g")
        assert [c[1] for c in consumers] == [b"stayer"], consumers


def test_waiter_of_a_stream_or_group_that_goes(server):
    with Scenario(server) as s:
        for key in ("s1", "s2", "s3", "s4"):
            s.check(("XGROUP", "CREATE", key, "g", "$", "MKSTREAM"), OK)
        a = s.block("XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s1", ">")
        s.check(("DEL", "s1"), 1)
        s.served(a, Err(b"UNBLOCKED the stream key no longer exists"))
        b = s.block("XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", "s2", ">")
        s.check(("SET", "s2", "v"), OK)
        s.served(b, Err(b"UNBLOCKED the stream key no longer exists"))
        c = s.block("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s3", ">")
        s.check(("XGROUP", "DESTROY", "s3", "g"), 1)
        s.served(c, Err(b"NOGROUP the consumer group this client was blocked on no longer exists"))
        d = s.block("XREADGROUP", "GROUP", "g", "d", "BLOCK", "0", "STREAMS", "s4", ">")
        s.check(("FLUSHDB",), OK)
        s.served(d, Err(b"UNBLOCKED the stream key no longer exists"))
        # a plain XREAD keeps waiting when its stream is deleted
        e = s.block("XREAD", "BLOCK", "0", "STREAMS", "s5", "$")
        s.check(("XADD", "s5", "1-0", "f", "1"), b"1-0")
        s.check(("DEL", "s5"), 1)
        s.served(e, [[b"s5", [entry("1-0", "f", "1")]]])
        f = s.connect()
        f_id = f.call("CLIENT", "ID")
        f.send_raw(harness.encode_command("XREAD", "BLOCK", "0", "STREAMS", "s6", "$"))
        s.blocked += 1
        s.wait_blocked()
        s.check(("XADD", "s7", "1-0", "f", "1"), b"1-0")
        s.check(("DEL", "s6"), 0)
        assert_blocked(f)
        s.check(("CLIENT", "UNBLOCK", str(f_id)), 1)
        s.served(f, NULL_ARRAY)


def test_resp3_map_reply(server):
    with Scenario(server) as s:
        a = s.block("XREAD", "BLOCK", "0", "STREAMS", "s", "t", "$", "$", resp=3)
        s.check(("XADD", "t", "5-0", "k", "v"), b"5-0")
        s.served(a, Map([(b"t", [entry("5-0", "k", "v")])]))


@pytest.mark.parametrize("cmd,error", [
    (("XREAD", "BLOCK", "-1", "STREAMS", "s", "$"), b"ERR timeout is negative"),
    (("XREAD", "BLOCK", "0.5", "STREAMS", "s", "$"), b"ERR timeout is not an integer or out of range"),
    (("XREAD", "BLOCK", "x", "STREAMS", "s", "$"), b"ERR timeout is not an integer or out of range"),
    (("EVAL", "return redis.call('XREAD', 'BLOCK', '0', 'STREAMS', 's', '$')", "0"),
     b"ERR XREAD command is not allowed with BLOCK option from scripts script: 0b1e8c0b6ad1bfc6bd7f5f4bb3f4e0b4b0f1f1e0, "
     b"on @user_script:1."),
])
def test_blocking_refusals(server, cmd, error):
    with Scenario(server) as s:
        got = s.admin.call(*cmd)
        if cmd[0] == "EVAL":
            assert isinstance(got, Err) and bytes(got).startswith(b"ERR XREAD command is not allowed with BLOCK option"), got
        else:
            expect(got, Err(error), " ".join(cmd))


def test_blocking_inside_multi_answers_at_once(server):
    with Scenario(server) as s:
        c = s.connect()
        expect(c.call("MULTI"), OK, "MULTI")
        expect(c.call("XREAD", "BLOCK", "0", "STREAMS", "s", "$"), Simple(b"QUEUED"), "queued")
        expect(c.call("EXEC"), [NULL_ARRAY], "EXEC of a blocking XREAD with nothing to read")
