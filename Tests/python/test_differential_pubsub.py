"""Differential test of Redis 7.0 pub/sub: Lode against a reference redis-server 7.0,
byte for byte.

Each test drives the same named connections on both servers in lock step
(diff_twin.Twin): subscribers, publishers, plain clients. Every reply, every
frame a subscriber receives and, at the end, the whole byte stream of every
connection must be identical on the two servers. A message published to another
connection arrives asynchronously: the subscriber's frames are read with a
timeout until the expected number arrived (redis must deliver exactly that
many, which checks the test), and `sync` (a PING on the subscriber, read up to
its reply) proves nothing else is pending.

Two orders are the server's own in Redis (hash-table order, random per process)
and are compared as multisets, everything else exactly:
  * the pmessage frames of one PUBLISH matching several patterns (the message
    frame of a channel subscription always comes first);
  * UNSUBSCRIBE / SUNSUBSCRIBE without arguments when several channels are
    subscribed (PUNSUBSCRIBE without arguments is in subscription order), and
    PUBSUB CHANNELS / SHARDCHANNELS.

Run (from the repository root):
  pytest Tests/python/test_differential_pubsub.py                     # Lode vs redis
  LODE_TEST_TARGET=redis pytest Tests/python/test_differential_pubsub.py  # redis vs redis
"""
import time

import pytest

import harness
from diff_twin import Twin, parse, read_frames
from difflib_redis import subject  # noqa: F401  (a fixture)
from harness import encode_command

PONG2 = b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
BIN_CHANNEL = b"ch\x00\r\n\xff"
BIN_PAYLOAD = b"\x00pay\r\nload\r\n\x00\xfe"


def not_allowed(name):
    return (b"-ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
            b"in this context\r\n" % name)


def sub_frame(kind, channel, count, resp=2):
    head = b">3" if resp == 3 else b"*3"
    if channel is None:
        ch = b"_\r\n" if resp == 3 else b"$-1\r\n"
    else:
        ch = b"$%d\r\n%s\r\n" % (len(channel), channel)
    return b"%s\r\n$%d\r\n%s\r\n%s:%d\r\n" % (head, len(kind), kind, ch, count)


def message_frame(channel, payload, resp=2, kind=b"message"):
    head = b">3" if resp == 3 else b"*3"
    return b"%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (head, len(kind), kind, len(channel), channel,
                                                              len(payload), payload)


def pmessage_frame(pattern, channel, payload, resp=2):
    head = b">4" if resp == 3 else b"*4"
    return b"%s\r\n$8\r\npmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        head, len(pattern), pattern, len(channel), channel, len(payload), payload)


@pytest.fixture
def twin2(redis_ref, subject):
    """RESP2 connections: A, B, C (subscribers) and P (publisher / observer)."""
    with Twin(redis_ref, subject, "ABCP") as t:
        t.call("P", "FLUSHALL")
        yield t


@pytest.fixture
def twin3(redis_ref, subject):
    """A and B are RESP3 connections; P is a RESP2 publisher."""
    with Twin(redis_ref, subject, "P") as t:
        t.connect("A", 3)
        t.connect("B", 3)
        t.call("P", "FLUSHALL")
        yield t


def wait_numsub(t, channel, expected, timeout=5.0):
    """Polls PUBSUB NUMSUB on both servers (on P, not logged) until `channel` has
    `expected` subscribers: a closed subscriber is removed asynchronously."""
    want = [channel.encode() if isinstance(channel, str) else channel, expected]
    for c in t.conns["P"]:
        assert harness.poll(lambda: c.call("PUBSUB", "NUMSUB", channel) == want, timeout), \
            f"PUBSUB NUMSUB {channel!r} never reached {expected}"


# ----------------------------------------------------------------------------
# RESP2: subscribe / unsubscribe replies and their counts


def test_subscribe_unsubscribe_replies(twin2):
    t = twin2
    a = t.sub("A", "SUBSCRIBE", "a", "b", "a", n=3)
    assert a == [sub_frame(b"subscribe", b"a", 1), sub_frame(b"subscribe", b"b", 2), sub_frame(b"subscribe", b"a", 2)]
    t.sub("A", "SUBSCRIBE", "c", n=1)
    t.sub("A", "subscribe", "d", n=1)
    assert t.sub("A", "UNSUBSCRIBE", "b", n=1) == [sub_frame(b"unsubscribe", b"b", 3)]
    t.sub("A", "UNSUBSCRIBE", "b", n=1)            # not subscribed (any more): count unchanged
    t.sub("A", "UNSUBSCRIBE", "never", "c", n=2)
    t.sub("A", "UNSUBSCRIBE", "a", n=1)
    assert t.sub("A", "UNSUBSCRIBE", n=1) == [sub_frame(b"unsubscribe", b"d", 0)]   # all (only d is left)
    # out of subscribed mode again: plain commands work
    t.run([("A GET k", b"$-1\r\n"), ("A PING", b"+PONG\r\n")])
    t.check()


def test_unsubscribe_without_subscriptions(twin2):
    t = twin2
    assert t.sub("A", "UNSUBSCRIBE", n=1) == [sub_frame(b"unsubscribe", None, 0)]
    assert t.sub("A", "PUNSUBSCRIBE", n=1) == [sub_frame(b"punsubscribe", None, 0)]
    assert t.sub("A", "SUNSUBSCRIBE", n=1) == [sub_frame(b"sunsubscribe", None, 0)]
    t.sub("A", "UNSUBSCRIBE", "x", "y", n=2)
    t.sub("A", "PUNSUBSCRIBE", "x*", n=1)
    t.sub("A", "SUNSUBSCRIBE", "x", n=1)
    t.run([("A GET k", b"$-1\r\n")])   # none of that entered subscribed mode
    t.check()


def test_psubscribe_punsubscribe(twin2):
    t = twin2
    t.sub("A", "SUBSCRIBE", "ch", n=1)
    frames = t.sub("A", "PSUBSCRIBE", "p*", "q?", "p*", "[ab]*", n=4)
    assert frames[0] == sub_frame(b"psubscribe", b"p*", 2) and frames[2] == sub_frame(b"psubscribe", b"p*", 3)
    t.sub("A", "PUNSUBSCRIBE", "q?", n=1)
    t.sub("A", "PUNSUBSCRIBE", "q?", "zz", n=2)
    t.sub("A", "PSUBSCRIBE", "z*", "q?", n=2)
    # without arguments: every pattern, in subscription order (a list in Redis 7.0)
    assert t.sub("A", "PUNSUBSCRIBE", n=4) == [
        sub_frame(b"punsubscribe", b"p*", 4), sub_frame(b"punsubscribe", b"[ab]*", 3),
        sub_frame(b"punsubscribe", b"z*", 2), sub_frame(b"punsubscribe", b"q?", 1)]
    t.run([("A GET k", not_allowed(b"get"))])   # still subscribed to ch
    t.sub("A", "UNSUBSCRIBE", n=1)
    t.run([("A GET k", b"$-1\r\n")])
    t.check()


def unsubscribe_all_summary(frames):
    """(kind, sorted channels, counts in order) of the frames of one argument-less
    UNSUBSCRIBE / SUNSUBSCRIBE: the channel order is redis' hash order."""
    values = [parse(f) for f in frames]
    return (sorted(set(bytes(v[0]) for v in values)), sorted(v[1] for v in values if v[1] is not None),
            [v[2] for v in values])


def test_unsubscribe_all_of_many_channels(twin2):
    t = twin2
    names = [f"c{i}" for i in range(12)]
    t.sub("A", "SUBSCRIBE", *names, n=12)
    t.sub("A", "PSUBSCRIBE", "p*", n=1)
    got = []
    for c in t.conns["A"]:
        c.send_raw(encode_command("UNSUBSCRIBE"))
        got.append(read_frames(c, 12))
    a, b = (unsubscribe_all_summary(x) for x in got)
    assert a == ([b"unsubscribe"], sorted(n.encode() for n in names), list(range(12, 0, -1))), a
    t.record("A UNSUBSCRIBE (12 channels; order not compared)", repr(a).encode(), repr(b).encode())
    t.sub("A", "PUNSUBSCRIBE", n=1)
    t.run(["A GET k"])
    t.check()


# ----------------------------------------------------------------------------
# RESP2: PUBLISH, message and pmessage frames


def test_publish_counts_and_frames(twin2):
    t = twin2
    t.sub("A", "SUBSCRIBE", "news", n=1)
    t.sub("B", "SUBSCRIBE", "news", "sport", n=2)
    t.sub("B", "PSUBSCRIBE", "n*", n=1)
    t.sub("C", "PSUBSCRIBE", "*", n=1)
    t.run([("P PUBLISH news hello", b":4\r\n"), ("P PUBLISH sport goal", b":2\r\n"),
           ("P PUBLISH nothing x", b":2\r\n"), ("P PUBLISH other y", b":1\r\n")])
    assert t.frames("A", 1) == [message_frame(b"news", b"hello")]
    # a client subscribed to a channel and a matching pattern gets both: message first
    assert t.frames("B", 4) == [message_frame(b"news", b"hello"), pmessage_frame(b"n*", b"news", b"hello"),
                                message_frame(b"sport", b"goal"), pmessage_frame(b"n*", b"nothing", b"x")]
    t.frames("C", 4)
    for name in "ABC":
        t.sync(name)
    t.run([("P PUBLISH zzz x", b":1\r\n"), ("P PUBLISH", b"-ERR wrong number of arguments for 'publish' command\r\n"),
           "P PUBLISH a", "P PUBLISH a b c"])
    t.frames("C", 1)
    t.check()


def test_channel_and_several_patterns(twin2):
    """One PUBLISH matching a channel subscription and several patterns of the
    same client: the message frame first, then one pmessage per pattern (their
    order is redis' hash order: compared as a multiset)."""
    t = twin2
    t.sub("A", "SUBSCRIBE", "a.b", n=1)
    t.sub("A", "PSUBSCRIBE", "a.*", "*", "?.?", "*b", "nomatch", n=5)
    t.run([("P PUBLISH a.b m", b":5\r\n")])
    got = [read_frames(c, 5) for c in t.conns["A"]]
    summary = [(x[0], sorted(x[1:])) for x in got]
    assert summary[0] == (message_frame(b"a.b", b"m"), sorted(pmessage_frame(p, b"a.b", b"m")
                                                            for p in (b"a.*", b"*", b"?.?", b"*b"))), got[0]
    t.record("A <- message + 4 pmessages (pmessage order not compared)", repr(summary[0]).encode(),
             repr(summary[1]).encode())
    t.sync("A")
    t.check()


def test_publish_order_is_kept(twin2):
    t = twin2
    t.sub("A", "SUBSCRIBE", "q", "r", n=2)
    t.sub("A", "PSUBSCRIBE", "s*", n=1)
    cmds = []
    for i in range(600):
        ch = ("q", "r", "s1")[i % 3]
        cmds.append(("PUBLISH", ch, f"m{i}:" + "x" * (i % 50)))
    for c in t.conns["P"]:
        c.send_raw(b"".join(encode_command(*x) for x in cmds))
        assert [c.read_reply() for _ in cmds] == [1] * len(cmds)
    frames = t.frames("A", 600)
    assert frames[0] == message_frame(b"q", b"m0:") and frames[2] == pmessage_frame(b"s*", b"s1", b"m2:" + b"xx")
    t.sync("A")
    t.check()


def test_publish_order_from_several_publishers(twin2):
    """Messages of each publisher arrive in the order it published them."""
    t = twin2
    t.sub("A", "SUBSCRIBE", "c", n=1)
    for i in range(100):
        t.run([("P", "PUBLISH", "c", f"p{i}"), ("B", "PUBLISH", "c", f"b{i}")])
    t.frames("A", 200)
    t.sync("A")
    t.check()


# ----------------------------------------------------------------------------
# RESP2: what a subscribed client may run


def test_ping_in_subscribed_mode(twin2):
    t = twin2
    t.sub("A", "SUBSCRIBE", "c", n=1)
    assert t.sub("A", "PING", n=1) == [PONG2]
    assert t.sub("A", "PING", "hello", n=1) == [b"*2\r\n$4\r\npong\r\n$5\r\nhello\r\n"]
    t.sub("A", "PING", "", n=1)
    t.sub("A", "ping", BIN_PAYLOAD, n=1)
    assert t.sub("A", "PING", "a", "b", n=1) == [b"-ERR wrong number of arguments for 'ping' command\r\n"]
    t.check()


DISALLOWED = [("GET", "k"), ("GeT", "k"), ("SET", "k", "v"), ("MULTI",), ("EXEC",), ("ECHO", "x"),
              ("PUBLISH", "c", "m"), ("PUBSUB", "NUMSUB", "c"), ("HELLO", "3"), ("SELECT", "1"), ("WATCH", "k"),
              ("CLIENT", "ID"), ("DBSIZE",), ("FLUSHALL",)]


def test_commands_refused_in_subscribed_mode(twin2):
    t = twin2
    t.sub("A", "PSUBSCRIBE", "p*", n=1)
    for cmd in DISALLOWED:
        t.sub("A", *cmd, n=1)
    got = t.streams["A"][0]
    assert not_allowed(b"get") in got and not_allowed(b"pubsub|numsub") in got and not_allowed(b"hello") in got
    # arity and unknown-command errors come first
    t.sub("A", "GET", n=1)
    t.sub("A", "NOSUCHCOMMAND", "x", n=1)
    t.sub("A", "SUBSCRIBE", n=1)
    t.sub("A", "PSUBSCRIBE", n=1)
    t.sub("A", "SSUBSCRIBE", n=1)
    # nothing was run: the key is not there, db 0 still selected
    t.run([("P EXISTS k", b":0\r\n")])
    t.sub("A", "PUNSUBSCRIBE", n=1)
    t.run(["A GET k", "A SET k v", "A SELECT 0", "P GET k"])
    t.check()


def test_quit_in_subscribed_mode(twin2):
    t = twin2
    t.sub("A", "SUBSCRIBE", "c", n=1)
    t.sub("A", "PSUBSCRIBE", "c*", n=1)
    t.send("A", "QUIT")
    t.closed("A")
    wait_numsub(t, "c", 0)
    t.run([("P PUBLISH c m", b":0\r\n"), ("P PUBSUB NUMPAT", b":0\r\n")])
    t.check()


def test_reset_in_subscribed_mode(twin2):
    t = twin2
    t.sub("A", "SUBSCRIBE", "c", n=1)
    t.sub("A", "PSUBSCRIBE", "c*", n=1)
    t.sub("A", "SSUBSCRIBE", "s", n=1)
    assert t.sub("A", "RESET", n=1) == [b"+RESET\r\n"]
    t.run([("P PUBLISH c m", b":0\r\n"), ("P SPUBLISH s m", b":0\r\n"), "P PUBSUB NUMSUB c", "P PUBSUB NUMPAT",
           "P PUBSUB SHARDNUMSUB s", ("A GET k", b"$-1\r\n"), ("A PING", b"+PONG\r\n")])
    t.check()


def test_disconnected_subscriber_is_forgotten(twin2):
    t = twin2
    t.sub("A", "SUBSCRIBE", "c", n=1)
    t.sub("B", "SUBSCRIBE", "c", n=1)
    t.run([("P PUBLISH c 1", b":2\r\n")])
    for c in t.conns.pop("A"):
        c.close()
    t.streams.pop("A")
    wait_numsub(t, "c", 1)
    t.run([("P PUBLISH c 2", b":1\r\n")])
    t.frames("B", 2)
    t.sync("B")
    t.check()


# ----------------------------------------------------------------------------
# RESP3: push frames, every command allowed, interleaving


def test_resp3_push_frames(twin3):
    t = twin3
    assert t.sub("A", "SUBSCRIBE", "a", "b", n=2)[0] == sub_frame(b"subscribe", b"a", 1, resp=3)
    t.sub("A", "PSUBSCRIBE", "a*", n=1)
    t.run([("P PUBLISH b m1", b":1\r\n"), ("P PUBLISH ax m2", b":1\r\n")])
    assert t.frames("A", 2) == [message_frame(b"b", b"m1", 3), pmessage_frame(b"a*", b"ax", b"m2", 3)]
    t.sub("A", "UNSUBSCRIBE", "a", n=1)
    t.sub("A", "UNSUBSCRIBE", "b", n=1)
    t.sub("A", "PUNSUBSCRIBE", n=1)
    assert t.sub("A", "UNSUBSCRIBE", n=1) == [sub_frame(b"unsubscribe", None, 0, resp=3)]
    assert t.sub("A", "PUNSUBSCRIBE", n=1) == [sub_frame(b"punsubscribe", None, 0, resp=3)]
    t.sync("A")
    t.check()


def test_resp3_any_command_while_subscribed(twin3):
    t = twin3
    t.sub("A", "SUBSCRIBE", "c", n=1)
    t.run([("A SET k v", b"+OK\r\n"), ("A GET k", b"$1\r\nv\r\n"), ("A PING", b"+PONG\r\n"),
           ("A PING hi", b"$2\r\nhi\r\n"), "A ECHO e", "A HGETALL nokey", "A GET nokey", "A SELECT 1",
           "A SELECT 0", "A MULTI", "A INCR n", "A GET n", "A EXEC", "A PUBSUB NUMSUB c", "A DBSIZE",
           ("A PUBLISH other m", b":0\r\n")])
    t.run([("P PUBLISH c m", b":1\r\n")])
    t.frames("A", 1)
    t.run(["A GET k"])
    t.sync("A")
    t.check()


def test_resp3_self_publish_push_comes_before_the_reply(twin3):
    t = twin3
    t.sub("A", "SUBSCRIBE", "c", n=1)
    t.sub("A", "PSUBSCRIBE", "c*", n=1)
    frames = t.sub("A", "PUBLISH", "c", "self", n=3)
    assert frames == [message_frame(b"c", b"self", 3), pmessage_frame(b"c*", b"c", b"self", 3), b":2\r\n"]
    t.sync("A")
    t.check()


def test_resp3_interleaving_with_replies(twin3):
    """Replies keep their commands' order, and a message published by another
    client sits between the replies of the commands sent before and after it
    arrived."""
    t = twin3
    # a pipeline: replies and the subscribe push in command order
    t.send("A", "SET", "k", "1")
    t.send("A", "SUBSCRIBE", "c")
    t.send("A", "GET", "k")
    t.send("A", "PUBLISH", "c", "own")
    t.send("A", "INCR", "k")
    frames = t.frames("A", 6, "A pipeline SET SUBSCRIBE GET PUBLISH INCR")
    assert frames == [b"+OK\r\n", sub_frame(b"subscribe", b"c", 1, 3), b"$1\r\n1\r\n", message_frame(b"c", b"own", 3),
                      b":1\r\n", b":2\r\n"]
    for i in range(20):
        t.run([("P", "PUBLISH", "c", f"m{i}")])
        t.frames("A", 1, f"A <- push m{i}")
        t.run([("A", "INCR", "k")])
    t.run([("P PUBLISH c x", b":1\r\n"), ("P PUBLISH c y", b":1\r\n")])
    t.frames("A", 2)
    t.run(["A GET k"])
    t.sync("A")
    t.check()


def call_to_sentinel(t, name, *cmd):
    """Sends cmd then PING on `name` of both servers and reads every byte up to the
    PING's +PONG: for replies that contain more frames than they announce."""
    got = []
    for c in t.conns[name]:
        c.send_raw(encode_command(*cmd) + encode_command("PING"))
        deadline = time.monotonic() + 5
        while not c.buf.endswith(b"+PONG\r\n") and time.monotonic() < deadline:
            try:
                c._fill()
            except OSError:
                break
        data, c.buf = c.buf, b""
        got.append(data)
    t.log(name, *got)
    t.record(f"{name} {' '.join(map(str, cmd))} + PING", *got)
    return got[0]


def test_resp3_self_publish_inside_exec(twin3):
    """Redis 7.0 writes the push frames of a PUBLISH to the client's own channel
    into the EXEC array, right before the PUBLISH reply (the array announces one
    element per command)."""
    t = twin3
    t.sub("A", "SUBSCRIBE", "c", n=1)
    t.run(["A MULTI", "A PUBLISH c in-exec", "A GET nokey", "A PUBLISH other x"])
    got = call_to_sentinel(t, "A", "EXEC")
    assert got == b"*3\r\n" + message_frame(b"c", b"in-exec", 3) + b":1\r\n_\r\n:0\r\n+PONG\r\n", got
    t.check()


def test_resp3_subscribe_inside_exec(twin3):
    """SUBSCRIBE queued in a RESP3 transaction: EXEC's array holds the push
    frames, one per channel (more frames than the array announces)."""
    t = twin3
    t.run(["A MULTI", "A SUBSCRIBE r", "A SUBSCRIBE r t"])
    got = call_to_sentinel(t, "A", "EXEC")
    assert got == (b"*2\r\n" + sub_frame(b"subscribe", b"r", 1, 3) + sub_frame(b"subscribe", b"r", 1, 3)
                   + sub_frame(b"subscribe", b"t", 2, 3) + b"+PONG\r\n"), got
    t.run([("P PUBLISH t m", b":1\r\n")])
    t.frames("A", 1)
    t.check()


def test_hello2_while_subscribed_in_resp3(twin3):
    """HELLO 2 is allowed while subscribed in RESP3 and leaves the client in
    RESP2 subscribed mode, with its restrictions."""
    t = twin3
    t.sub("A", "SUBSCRIBE", "c", n=1)
    a, b = (c.call("HELLO", "2") for c in t.conns["A"])
    assert type(a) is list and b"proto" in a, a
    t.record("A HELLO 2 (shape only)", repr(type(a)).encode(), repr(type(b)).encode())
    t.run([("A GET k", not_allowed(b"get")), ("A PING", PONG2), ("P PUBLISH c m", b":1\r\n")])
    assert t.frames("A", 1) == [message_frame(b"c", b"m")]
    t.check()


def test_resp3_reset_leaves_subscribed_mode(twin3):
    t = twin3
    t.sub("A", "SUBSCRIBE", "c", n=1)
    t.run([("A RESET", b"+RESET\r\n"), ("A GET nokey", b"$-1\r\n"), ("P PUBLISH c m", b":0\r\n")])
    t.sync("A")
    t.check()


# ----------------------------------------------------------------------------
# Sharded pub/sub (one node: plain pub/sub with its own namespace)


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
def test_sharded(redis_ref, subject, resp):
    with Twin(redis_ref, subject, "P") as t:
        t.connect("A", resp)
        t.connect("B", resp)
        t.call("P", "FLUSHALL")
        frames = t.sub("A", "SSUBSCRIBE", "x", "y", "x", n=3)
        assert frames[2] == sub_frame(b"ssubscribe", b"x", 2, resp)
        t.sub("B", "SUBSCRIBE", "x", n=1)
        t.sub("B", "PSUBSCRIBE", "*", n=1)
        t.sub("B", "SSUBSCRIBE", "y", n=1)   # the shard count is separate: 1
        t.run([("P SPUBLISH x m1", b":1\r\n"), ("P SPUBLISH y m2", b":2\r\n"), ("P PUBLISH x m3", b":2\r\n"),
               ("P SPUBLISH zz m", b":0\r\n"), "P SPUBLISH", "P SPUBLISH a", "P SPUBLISH a b c"])
        assert t.frames("A", 2) == [message_frame(b"x", b"m1", resp, b"smessage"),
                                    message_frame(b"y", b"m2", resp, b"smessage")]
        assert t.frames("B", 3) == [message_frame(b"y", b"m2", resp, b"smessage"), message_frame(b"x", b"m3", resp),
                                    pmessage_frame(b"*", b"x", b"m3", resp)]
        t.run(["P PUBSUB SHARDNUMSUB x y zz", "P PUBSUB SHARDNUMSUB", "P PUBSUB NUMSUB x y", "P PUBSUB NUMPAT"])
        t.sub("A", "SUNSUBSCRIBE", "x", n=1)
        t.sub("A", "SUNSUBSCRIBE", "x", "nope", n=2)
        if resp == 2:
            # only shard subscriptions: still in subscribed mode, and the
            # channel/pattern count in (P)UNSUBSCRIBE replies is 0
            t.run([("A GET k", not_allowed(b"get"))])
            assert t.sub("A", "UNSUBSCRIBE", n=1) == [sub_frame(b"unsubscribe", None, 0)]
            t.run([("A GET k", not_allowed(b"get"))])
        assert t.sub("A", "SUNSUBSCRIBE", n=1) == [sub_frame(b"sunsubscribe", b"y", 0, resp)]
        t.run([("A GET k", b"$-1\r\n" if resp == 2 else b"_\r\n"), "P PUBSUB SHARDNUMSUB x y"])
        t.sub("A", "SUNSUBSCRIBE", n=1)
        t.sync("A")
        t.sync("B")
        t.check()


def test_sunsubscribe_all_of_many(twin2):
    t = twin2
    names = [f"s{i}" for i in range(10)]
    t.sub("A", "SSUBSCRIBE", *names, n=10)
    got = []
    for c in t.conns["A"]:
        c.send_raw(encode_command("SUNSUBSCRIBE"))
        got.append(read_frames(c, 10))
    a, b = (unsubscribe_all_summary(x) for x in got)
    assert a == ([b"sunsubscribe"], sorted(n.encode() for n in names), list(range(9, -1, -1))), a
    t.record("A SUNSUBSCRIBE (10 channels; order not compared)", repr(a).encode(), repr(b).encode())
    t.run(["A GET k"])
    t.check()


# ----------------------------------------------------------------------------
# PUBSUB introspection


def sorted_reply(raw):
    value = parse(raw)
    return (type(value).__name__, sorted(value)) if isinstance(value, list) else value


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
def test_pubsub_introspection(redis_ref, subject, resp):
    with Twin(redis_ref, subject, "ABC") as t:
        t.connect("P", resp)
        t.call("P", "FLUSHALL")
        t.sub("A", "SUBSCRIBE", "news", "sport", BIN_CHANNEL, n=3)
        t.sub("A", "PSUBSCRIBE", "n*", "s?ort", n=2)
        t.sub("B", "SUBSCRIBE", "news", n=1)
        t.sub("B", "PSUBSCRIBE", "n*", n=1)
        t.sub("C", "SSUBSCRIBE", "sh1", "sh2", n=2)
        # the channel lists are in redis' hash order: compared sorted
        for args in [("CHANNELS",), ("CHANNELS", "*"), ("CHANNELS", "n*"), ("CHANNELS", "zz"), ("CHANNELS", ""),
                     ("channels", "*t"), ("CHANNELS", b"ch\x00*"), ("SHARDCHANNELS",), ("SHARDCHANNELS", "sh1"),
                     ("SHARDCHANNELS", "x*")]:
            a, b = (c.call_raw("PUBSUB", *args) for c in t.conns["P"])
            t.record(f"P PUBSUB {args!r} (sorted)", repr(sorted_reply(a)).encode(), repr(sorted_reply(b)).encode())
        t.run([("P PUBSUB NUMSUB", b"*0\r\n"),
               ("P PUBSUB NUMSUB news sport zz news", b"*8\r\n$4\r\nnews\r\n:2\r\n$5\r\nsport\r\n:1\r\n$2\r\nzz\r\n"
                                                      b":0\r\n$4\r\nnews\r\n:2\r\n"),
               ("P", "PUBSUB", "NUMSUB", BIN_CHANNEL, "n*"),
               ("P PUBSUB NUMPAT", b":2\r\n"),   # distinct patterns, not subscriptions
               "P PUBSUB SHARDNUMSUB sh1 sh2 zz", "P PUBSUB SHARDNUMSUB", "P pubsub numpat",
               ("P PUBSUB", b"-ERR wrong number of arguments for 'pubsub' command\r\n"),
               ("P PUBSUB FOO", b"-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n"),
               ("P PUBSUB CHANNELS a b", b"-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. "
                                         b"Try PUBSUB HELP.\r\n"),
               "P pubsub channels a b", "P PUBSUB SHARDCHANNELS a b",
               ("P PUBSUB NUMPAT x", b"-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"),
               "P PUBSUB HELP", "P pubsub help", "P PUBSUB HELP x"])
        t.check()


# ----------------------------------------------------------------------------
# Binary names and payloads, a 1 MB message


def test_binary_channels_and_payloads(twin2):
    t = twin2
    t.sub("A", "SUBSCRIBE", BIN_CHANNEL, "", n=2)
    t.sub("A", "PSUBSCRIBE", b"ch\x00*", n=1)
    t.sub("B", "PSUBSCRIBE", b"*\r\n*", b"\\*", n=2)
    t.run([("P", "PUBLISH", BIN_CHANNEL, BIN_PAYLOAD), ("P", "PUBLISH", "", ""), ("P", "PUBLISH", "*", "star"),
           ("P", "PUBLISH", b"ch\x00", b"\r\n"), ("P", "PUBLISH", "a\r\nb", "")])
    assert t.frames("A", 4) == [message_frame(BIN_CHANNEL, BIN_PAYLOAD), pmessage_frame(b"ch\x00*", BIN_CHANNEL,
                                                                                         BIN_PAYLOAD),
                                message_frame(b"", b""), pmessage_frame(b"ch\x00*", b"ch\x00", b"\r\n")]
    t.frames("B", 3)
    t.run([("P", "PUBSUB", "NUMSUB", BIN_CHANNEL, "")])
    t.sub("A", "UNSUBSCRIBE", BIN_CHANNEL, n=1)
    t.sub("A", "PUNSUBSCRIBE", b"ch\x00*", n=1)
    for name in "AB":
        t.sync(name)
    t.check()


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
def test_one_megabyte_message(redis_ref, subject, resp):
    big = bytes(range(256)) * 4096   # 1 MiB, every byte value
    with Twin(redis_ref, subject, "P") as t:
        t.connect("A", resp)
        t.call("P", "FLUSHALL")
        t.sub("A", "SUBSCRIBE", "big", n=1)
        t.sub("A", "PSUBSCRIBE", "b*", n=1)
        t.run([("P", "PUBLISH", "big", big), ("P", "PUBLISH", "big", b"after")])
        frames = t.frames("A", 4)
        assert frames[0] == message_frame(b"big", big, resp) and frames[3] == pmessage_frame(b"b*", b"big", b"after",
                                                                                             resp)
        t.sync("A")
        t.check()
