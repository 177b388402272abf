"""Differential test of Redis 7.0 client-side caching (CLIENT TRACKING and friends)
and CLIENT REPLY: Lode against a reference redis-server 7.0, byte for byte.

The connections of each test run in lock step on both servers (diff_twin.Twin).
Invalidations arrive asynchronously, as pushes (RESP3) or as messages on
`__redis__:invalidate` to the client a tracking client redirects to; they are
read with a timeout until the expected number arrived (redis must send exactly
that many, which checks the test) and a PING on the connection (`sync`) proves
nothing else is pending. Client IDs are the servers' own: a REDIRECT names the
redirect connection's ID on each server, and replies that contain it (GETREDIR,
TRACKINGINFO, tracking-redir-broken) are compared with the subject's ID
replaced by redis's.

Run (from the repository root):
  pytest Tests/python/test_differential_tracking.py
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential_tracking.py   # redis vs redis
"""
import pytest

import harness
from diff_twin import Twin, fmt, read_frames
from difflib_redis import subject  # noqa: F401  (a fixture)

INVALIDATE_CHANNEL = b"__redis__:invalidate"


def push_invalidate(*keys):
    body = b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in keys)
    return b">2\r\n$10\r\ninvalidate\r\n*%d\r\n%s" % (len(keys), body)


def message_invalidate(*keys):
    body = b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in keys)
    return b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*%d\r\n%s" % (len(keys), body)


class TrackingTwin(Twin):
    """A Twin whose commands may name a connection's client ID: ("REDIRECT", ID("R"))."""

    def connect(self, name, resp=None):
        pair = super().connect(name, resp)
        if not hasattr(self, "client_ids"):
            self.client_ids = {}
        self.client_ids[name] = tuple(c.call("CLIENT", "ID") for c in pair)
        return pair

    def ids(self, name):
        return self.client_ids[name]

    def call_ids(self, name, *cmd, id_of="R"):
        """Runs cmd with every ID placeholder replaced by connection `id_of`'s ID on
        each server; the subject's reply is compared with its ID written as redis's."""
        ref_id, sub_id = self.ids(id_of)
        ra, rb = self.conns[name]
        a = self._reply(ra, [str(ref_id) if x is ID else x for x in cmd])
        b = self._reply(rb, [str(sub_id) if x is ID else x for x in cmd])
        b = b.replace(b":%d\r\n" % sub_id, b":%d\r\n" % ref_id)
        self.log(name, a, b)
        self.record(f"{name} {fmt([f'<id of {id_of}>' if x is ID else x for x in cmd])}", a, b)
        return a


class ID:
    """Placeholder for a client ID in TrackingTwin.call_ids."""


@pytest.fixture
def t(redis_ref, subject):
    """A: the tracking client (RESP3), B: a writer (RESP2), R: a RESP2 client that
    invalidations can be redirected to."""
    with TrackingTwin(redis_ref, subject, "BR") as twin:
        twin.connect("A", 3)
        twin.call("B", "FLUSHALL")
        yield twin


# ----------------------------------------------------------------------------
# default mode


def test_default_mode_resp3_pushes(t):
    t.run([("A CLIENT TRACKING on", b"+OK\r\n"), "B SET k 1", "A GET k", "A GET k", "B SET k 2"])
    assert t.frames("A", 1) == [push_invalidate(b"k")]
    t.sync("A")
    # The key was forgotten with the invalidation: a second write says nothing.
    t.run(["B SET k 3"])
    t.sync("A")
    # Several keys read at once, then written at once: one invalidation per key.
    t.run(["A MGET k x y", "B MSET k 1 x 2 y 3"])
    t.frames("A", 3)
    t.sync("A")
    # Only what was read is remembered; writes of unread keys say nothing.
    t.run(["A SET own 1", "B SET own 2"])
    t.sync("A")
    t.check()


def test_own_write_invalidates_after_the_reply(t):
    t.run(["A CLIENT TRACKING on", "A HSET h f 1", "A HGET h f"])
    t.send("A", "HDEL", "h", "f")
    got = t.frames("A", 2)
    assert got == [b":1\r\n", push_invalidate(b"h")]
    # Inside EXEC: the invalidation follows the whole EXEC reply.
    t.run(["A MSET a 1 b 2", "A GET a", "A MULTI", "A INCR a", "A GET b"])
    t.send("A", "EXEC")
    got = t.frames("A", 2)
    assert got[1] == push_invalidate(b"a")
    t.sync("A")
    t.check()


def test_expiry_and_flush_invalidate(t):
    t.run(["A CLIENT TRACKING on", "B SET e v PX 50", "A GET e"])
    t.sleep(0.3)
    assert t.frames("A", 1) == [push_invalidate(b"e")]
    t.run(["A GET z", "B FLUSHDB"])
    assert t.frames("A", 1) == [b">2\r\n$10\r\ninvalidate\r\n_\r\n"]
    t.sync("A")
    # A flush by the tracking client itself: its reply first, then the null.
    t.send("A", "FLUSHALL")
    t.frames("A", 2)
    t.check()


def test_noloop_and_rename_move(t):
    t.run(["A CLIENT TRACKING on NOLOOP", "A MGET own other", "A SET own 1"])
    t.sync("A")
    t.run(["B SET other 1"])
    t.frames("A", 1)
    t.run(["B SET src v", "A GET src", "A GET dst", "B RENAME src dst"])
    t.frames("A", 2)
    t.run(["A GET dst", "B MOVE dst 1"])
    t.frames("A", 1)
    t.sync("A")
    t.check()


def test_optin_optout_and_caching(t):
    t.run(["A CLIENT TRACKING on OPTIN", "A GET k1", "B SET k1 1"])
    t.sync("A")
    t.run(["A CLIENT CACHING yes", "A GET k1", "A GET k2", "B MSET k1 2 k2 2"])
    t.frames("A", 1)    # CACHING yes covers the next command only
    t.sync("A")
    # ...or a whole transaction
    t.run(["A CLIENT CACHING yes", "A MULTI", "A GET t1", "A GET t2", "A EXEC", "B MSET t1 1 t2 1"])
    t.frames("A", 2)
    t.run(["A CLIENT TRACKINGINFO", "A CLIENT CACHING no", "A CLIENT TRACKING on OPTOUT", "A CLIENT TRACKING off",
           "A CLIENT TRACKING on OPTOUT", "A GET o1", "A CLIENT CACHING no", "A CLIENT TRACKINGINFO", "A GET o2",
           "B MSET o1 1 o2 1"])
    t.frames("A", 1)
    t.sync("A")
    t.check()


# ----------------------------------------------------------------------------
# redirection


def test_redirect_to_resp2_subscriber(t):
    t.sub("R", "SUBSCRIBE", "__redis__:invalidate")
    t.connect("C", 2)
    t.call_ids("C", "CLIENT", "TRACKING", "on", "REDIRECT", ID)
    t.run(["C GET k", "C GET other", "B SET k 1"])
    assert t.frames("R", 1) == [message_invalidate(b"k")]
    t.run(["B FLUSHALL"])
    assert t.frames("R", 1) == [b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"]
    t.call_ids("C", "CLIENT", "GETREDIR")
    t.call_ids("C", "CLIENT", "TRACKINGINFO")
    t.call_ids("A", "CLIENT", "TRACKING", "on", "REDIRECT", ID)
    t.run(["A GET k", "C GET k", "B SET k 2"])
    t.frames("R", 2)
    t.sync("R")
    t.sync("A")
    t.check()


def test_redirect_to_unsubscribed_resp2_client_sends_nothing(t):
    t.call_ids("A", "CLIENT", "TRACKING", "on", "REDIRECT", ID)
    t.run(["A GET k", "B SET k 1"])
    t.sync("R")
    t.sync("A")
    t.check()


def test_redirect_broken(t):
    t.connect("S", 3)
    t.call_ids("A", "CLIENT", "TRACKING", "on", "REDIRECT", ID, id_of="S")
    ref_id, sub_id = t.ids("S")
    t.run(["A GET k", "B SET k 1"])
    t.frames("S", 1)
    t.run(["S QUIT", "A GET k", "B SET k 2"])
    a, b = (c for c in t.conns["A"])
    got_ref = harness_read(a)
    got_sub = harness_read(b).replace(b":%d\r\n" % sub_id, b":%d\r\n" % ref_id)
    t.log("A", got_ref, got_sub)
    t.record("A <- tracking-redir-broken", got_ref, got_sub)
    assert got_ref == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % ref_id
    info = [c.call_raw("CLIENT", "TRACKINGINFO") for c in t.conns["A"]]
    t.log("A", info[0], info[1].replace(b":%d\r\n" % sub_id, b":%d\r\n" % ref_id))
    t.record("A CLIENT TRACKINGINFO (broken)", info[0], info[1].replace(b":%d\r\n" % sub_id, b":%d\r\n" % ref_id))
    t.check()


def harness_read(c):
    frames = read_frames(c, 1)
    return frames[0] if frames else b"(nothing)"


# ----------------------------------------------------------------------------
# BCAST


def test_bcast_prefixes(t):
    t.run([("A CLIENT TRACKING on BCAST PREFIX a: PREFIX b:", b"+OK\r\n"), "B MSET a:1 x b:1 y c:1 z"])
    t.frames("A", 2)            # one message per prefix, in prefix order
    t.run(["B MULTI", "B INCR a:2", "B INCR a:1", "B DEL b:1", "B INCR c:2", "B EXEC"])
    t.frames("A", 2)
    t.run(["A CLIENT TRACKING on BCAST PREFIX c:", "B SET c:9 1", "A CLIENT TRACKINGINFO"])
    t.frames("A", 1)
    t.run(["A CLIENT TRACKING on BCAST PREFIX a", "A CLIENT TRACKING on BCAST PREFIX b:x", "A CLIENT TRACKING on"])
    t.run(["A CLIENT TRACKING off", "A CLIENT TRACKING on BCAST", "B MSET q 1 r 2", "A SET s 1"])
    t.frames("A", 2)
    t.run(["A CLIENT TRACKING off", "A CLIENT TRACKING on BCAST NOLOOP", "A SET mine 1", "B SET theirs 1"])
    t.frames("A", 1)
    t.sync("A")
    t.check()


def test_bcast_expired_key_is_broadcast(t):
    t.run(["A CLIENT TRACKING on BCAST PREFIX exp NOLOOP", "A SET expkey v PX 30", "A SET other v"])
    t.sleep(0.4)
    assert t.frames("A", 1) == [push_invalidate(b"expkey")]
    t.sync("A")
    t.check()


# ----------------------------------------------------------------------------
# errors, introspection


def test_option_errors(t):
    t.run(["A CLIENT TRACKING on PREFIX a", "A CLIENT TRACKING on OPTIN OPTOUT", "A CLIENT TRACKING on BCAST OPTIN",
           "A CLIENT TRACKING maybe", "A CLIENT TRACKING on FOO", "A CLIENT TRACKING on REDIRECT",
           "A CLIENT TRACKING on REDIRECT abc", "A CLIENT TRACKING on REDIRECT 99999",
           "A CLIENT TRACKING on BCAST PREFIX FOOBAR PREFIX FOO", "A CLIENT TRACKING on BCAST PREFIX FOO PREFIX FOOBAR",
           "A CLIENT CACHING yes", "A CLIENT TRACKING on", "A CLIENT CACHING yes", "A CLIENT CACHING no",
           "A CLIENT CACHING maybe", "A CLIENT TRACKING on BCAST", "A CLIENT TRACKING on OPTIN",
           "A CLIENT TRACKING on OPTOUT", "A CLIENT TRACKING off", "A CLIENT TRACKING on OPTOUT",
           "A CLIENT TRACKING on OPTIN", "A CLIENT GETREDIR", "A CLIENT TRACKING off", "A CLIENT GETREDIR",
           "A CLIENT TRACKINGINFO", "B CLIENT TRACKINGINFO", "B CLIENT TRACKING", "B CLIENT CACHING",
           "B CLIENT GETREDIR x", "B CLIENT REPLY", "B CLIENT REPLY maybe"])
    t.call_ids("A", "CLIENT", "TRACKING", "on", "REDIRECT", ID, "REDIRECT", ID)
    t.check()


def test_info_figures(t):
    t.connect("C", 3)
    t.run(["A CLIENT TRACKING on", "A MGET k1 k2 k3", "C CLIENT TRACKING on", "C GET k1",
           "B CLIENT TRACKING on BCAST PREFIX p: PREFIX q:"])
    figures = []
    for c in t.conns["R"]:
        info = dict(line.split(":", 1) for line in c.call("INFO", "everything").decode().split("\r\n") if ":" in line)
        figures.append({k: info[k] for k in ("tracking_clients", "tracking_total_keys", "tracking_total_items",
                                              "tracking_total_prefixes")})
    assert figures[0] == {"tracking_clients": "3", "tracking_total_keys": "3", "tracking_total_items": "4",
                          "tracking_total_prefixes": "2"}
    assert figures[1] == figures[0]
    # CLIENT LIST flags: t (tracking), B (broadcast)
    for c in (t.conns["B"][0], t.conns["B"][1]):
        assert b" flags=tB " in c.call("CLIENT", "INFO")


def test_tracking_table_max_keys(t):
    t.run(["A CLIENT TRACKING on", "A MGET k1 k2 k3 k4 k5", "B CONFIG SET tracking-table-max-keys 2"])
    # Which keys are forgotten is the server's (random) choice: count them.
    ra, rb = t.conns["A"]
    a, b = read_frames(ra, 3), read_frames(rb, 3)
    assert len(a) == 3 and len(b) == 3, (a, b)
    assert all(f.startswith(b">2\r\n$10\r\ninvalidate\r\n*1\r\n") for f in a + b)
    for c in t.conns["B"]:
        info = c.call("INFO", "stats").decode()
        assert "tracking_total_keys:2\r" in info
        c.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")


# ----------------------------------------------------------------------------
# CLIENT REPLY


def test_client_reply_off_skip_on(t):
    t.send("B", "CLIENT", "REPLY", "OFF")
    t.send("B", "SET", "x", "1")
    t.send("B", "GET", "nokey")
    t.send("B", "CLIENT", "REPLY", "ON")
    assert t.frames("B", 1) == [b"+OK\r\n"]
    t.send("B", "CLIENT", "REPLY", "SKIP")
    t.send("B", "GET", "x")
    t.send("B", "GET", "x")
    assert t.frames("B", 1) == [b"$1\r\n1\r\n"]
    # Under OFF, subscription confirmations and messages still arrive.
    t.send("R", "CLIENT", "REPLY", "OFF")
    t.sub("R", "SUBSCRIBE", "ch")
    t.run(["B PUBLISH ch hi"])
    t.frames("R", 1)
    t.sub("R", "UNSUBSCRIBE", "ch")
    # ...and so do invalidations of a RESP3 tracking client.
    t.run(["A CLIENT TRACKING on", "A GET k"])
    t.send("A", "CLIENT", "REPLY", "OFF")
    t.run(["B SET k 1"])
    t.frames("A", 1)
    t.send("A", "CLIENT", "REPLY", "ON")
    t.frames("A", 1)
    t.sync("A")
    t.check()
