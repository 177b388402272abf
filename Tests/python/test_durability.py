"""Durability tests: what a client was told has been written is there after the
server stops, whether it is stopped cleanly (SIGTERM) or killed (kill -9).

A kill -9 only takes the process down, not the machine, so no acknowledged
write may be lost under any appendfsync policy: `everysec` and `no` only
change what a power loss could cost.

LODE_TEST_TARGET=redis runs this file against redis-server with AOF enabled,
which validates the tests themselves.
"""
import random
import signal
import threading
import time

import pytest

import harness
from harness import ConnectionClosed, Err, RawClient, Simple, poll

TTL_TOLERANCE_MS = 1000   # slack for PTTL readings taken at different moments
SHORT_TTL_MS = 300        # keys set with this TTL must be gone after a restart
LOAD_SECONDS = 1.5        # how long the writers run before the server is killed
WRITERS = 8


def now_ms():
    return int(time.time() * 1000)


# --------------------------------------------------------------------------- restart


class Expected:
    """The keyspace the test expects: per db, {key: (value, expire_at_ms or
    None)} and the keys that must not exist."""

    def __init__(self):
        self.dbs, self.absent = {}, {}

    def put(self, db, key, value, expire_at_ms=None):
        self.dbs.setdefault(db, {})[key] = (value, expire_at_ms)

    def gone(self, db, *keys):
        self.absent.setdefault(db, set()).update(keys)

    def swap(self, a, b):
        for d, empty in ((self.dbs, dict), (self.absent, set)):
            d[a], d[b] = d.get(b, empty()), d.get(a, empty())


def write_string_kinds(c, db, exp, rng):
    """Writes every string-ish kind of key into `db` through as many different
    commands as possible, recording what each key must hold afterwards."""
    ok = Simple(b"OK")
    assert c.call("SELECT", db) == ok
    p = f"db{db}:"

    # plain values, binary and empty, through SET/MSET/SETNX/GETSET/SETRANGE/APPEND
    for i in range(300):
        value = rng.randbytes(rng.choice([0, 1, 10, 100, 1000, 5000]))
        assert c.call("SET", f"{p}plain:{i}", value) == ok
        exp.put(db, f"{p}plain:{i}", value)
    assert c.call("MSET", f"{p}m1", "one", f"{p}m2", "two") == ok
    exp.put(db, f"{p}m1", b"one")
    exp.put(db, f"{p}m2", b"two")
    assert c.call("MSETNX", f"{p}mnx1", "a", f"{p}mnx2", "b") == 1
    exp.put(db, f"{p}mnx1", b"a")
    exp.put(db, f"{p}mnx2", b"b")
    assert c.call("SETNX", f"{p}nx", "first") == 1
    assert c.call("SETNX", f"{p}nx", "second") == 0
    exp.put(db, f"{p}nx", b"first")
    assert c.call("SET", f"{p}getset", "old") == ok
    assert c.call("GETSET", f"{p}getset", "new") == b"old"
    exp.put(db, f"{p}getset", b"new")
    assert c.call("SET", f"{p}setget", "old") == ok
    assert c.call("SET", f"{p}setget", "new", "GET") == b"old"
    exp.put(db, f"{p}setget", b"new")
    assert c.call("SETRANGE", f"{p}range", 10, "tail") == 14   # zero-padded
    exp.put(db, f"{p}range", b"\x00" * 10 + b"tail")
    for part in ("a", "bb", "\x00", "ccc"):
        c.call("APPEND", f"{p}append", part)
    exp.put(db, f"{p}append", b"abb\x00ccc")

    # numbers
    for _ in range(7):
        c.call("INCR", f"{p}incr")
    exp.put(db, f"{p}incr", b"7")
    assert c.call("INCRBY", f"{p}incrby", -12345678901) == -12345678901
    exp.put(db, f"{p}incrby", b"-12345678901")
    assert c.call("DECRBY", f"{p}decrby", 5) == -5
    assert c.call("DECR", f"{p}decrby") == -6
    exp.put(db, f"{p}decrby", b"-6")
    assert c.call("INCRBYFLOAT", f"{p}float", "3.5") == b"3.5"
    assert c.call("INCRBYFLOAT", f"{p}float", "0.25") == b"3.75"
    exp.put(db, f"{p}float", b"3.75")

    # keys with a TTL, set through every command that can set one
    t0 = now_ms()
    c.call("SET", f"{p}ex", "v", "EX", 1000)
    exp.put(db, f"{p}ex", b"v", t0 + 1_000_000)
    c.call("SET", f"{p}px", "v", "PX", 500_000)
    exp.put(db, f"{p}px", b"v", t0 + 500_000)
    c.call("SET", f"{p}exat", "v", "EXAT", t0 // 1000 + 3600)
    exp.put(db, f"{p}exat", b"v", (t0 // 1000 + 3600) * 1000)
    c.call("SET", f"{p}pxat", "v", "PXAT", t0 + 7_200_000)
    exp.put(db, f"{p}pxat", b"v", t0 + 7_200_000)
    c.call("SETEX", f"{p}setex", 900, "v")
    exp.put(db, f"{p}setex", b"v", t0 + 900_000)
    c.call("PSETEX", f"{p}psetex", 800_000, "v")
    exp.put(db, f"{p}psetex", b"v", t0 + 800_000)
    c.call("SET", f"{p}expire", "v")
    assert c.call("EXPIRE", f"{p}expire", 600) == 1
    exp.put(db, f"{p}expire", b"v", t0 + 600_000)
    c.call("SET", f"{p}pexpireat", "v")
    assert c.call("PEXPIREAT", f"{p}pexpireat", t0 + 650_000) == 1
    exp.put(db, f"{p}pexpireat", b"v", t0 + 650_000)
    c.call("SET", f"{p}getex", "v")
    assert c.call("GETEX", f"{p}getex", "EX", 700) == b"v"
    exp.put(db, f"{p}getex", b"v", t0 + 700_000)
    c.call("SET", f"{p}keepttl", "old", "EX", 400)
    c.call("SET", f"{p}keepttl", "new", "KEEPTTL")
    exp.put(db, f"{p}keepttl", b"new", t0 + 400_000)
    # TTLs that were removed again
    c.call("SET", f"{p}persist", "v", "EX", 100)
    assert c.call("PERSIST", f"{p}persist") == 1
    exp.put(db, f"{p}persist", b"v")
    c.call("SET", f"{p}overwritten", "v", "EX", 100)
    c.call("SET", f"{p}overwritten", "plain")   # a plain SET clears the TTL
    exp.put(db, f"{p}overwritten", b"plain")
    c.call("SET", f"{p}getexpersist", "v", "EX", 100)
    assert c.call("GETEX", f"{p}getexpersist", "PERSIST") == b"v"
    exp.put(db, f"{p}getexpersist", b"v")

    # removed keys must stay removed
    for cmd in [("SET", f"{p}deleted", "v"), ("DEL", f"{p}deleted"),
                ("SET", f"{p}getdel", "v"), ("GETDEL", f"{p}getdel"),
                ("SET", f"{p}unlinked", "v"), ("UNLINK", f"{p}unlinked")]:
        assert not isinstance(c.call(*cmd), Err), cmd
    c.call("SET", f"{p}renamed-from", "moved")
    assert c.call("RENAME", f"{p}renamed-from", f"{p}renamed-to") == ok
    exp.put(db, f"{p}renamed-to", b"moved")
    exp.gone(db, f"{p}deleted", f"{p}getdel", f"{p}unlinked", f"{p}renamed-from")


def check_keyspace(c, exp, databases=16):
    for db in range(databases):
        c.call("SELECT", db)
        absent = sorted(exp.absent.get(db, ()))
        # Checked first: touching an expired key reclaims it, and DBSIZE (as in
        # Redis) may count expired keys that were not reclaimed yet.
        if absent:
            assert c.call("EXISTS", *absent) == 0, f"db {db}: removed keys are back"
        keys = exp.dbs.get(db, {})
        assert c.call("DBSIZE") == len(keys), f"db {db}"
        names = list(keys)
        for start in range(0, len(names), 500):
            batch = names[start:start + 500]
            values = c.pipeline([("GET", k) for k in batch])
            pttls = c.pipeline([("PTTL", k) for k in batch])
            now = now_ms()
            for k, got, pttl in zip(batch, values, pttls):
                value, expire_at = keys[k]
                assert got == value, f"db {db} key {k!r}"
                if expire_at is None:
                    assert pttl == -1, f"db {db} key {k!r} should have no TTL"
                else:
                    assert abs(pttl - (expire_at - now)) <= TTL_TOLERANCE_MS, \
                        f"db {db} key {k!r}: PTTL {pttl}, expected about {expire_at - now}"


def test_all_string_kinds_survive_restart(lode):
    rng = random.Random(7)
    exp = Expected()
    dbs = (0, 1, 2, 7, 15)
    with lode.client() as c:
        # leftovers that FLUSHALL / FLUSHDB must have removed for good
        for db in (0, 4, 9):
            c.call("SELECT", db)
            c.call("SET", "flushed", "v")
            exp.gone(db, "flushed")
        assert c.call("FLUSHALL") == Simple(b"OK")

        for db in dbs:
            write_string_kinds(c, db, exp, rng)
        c.call("SELECT", 4)
        c.call("SET", "flushed-db", "v")
        assert c.call("FLUSHDB") == Simple(b"OK")
        exp.gone(4, "flushed-db")
        assert c.call("SWAPDB", 2, 3) == Simple(b"OK")   # db 2's keys now live in db 3
        exp.swap(2, 3)
        check_keyspace(c, exp)

        # Keys that expire right away: after the restart they must be gone,
        # not re-armed with their full TTL by the reload.
        for db in dbs:
            c.call("SELECT", db)
            c.call("SET", "short", "v", "PX", SHORT_TTL_MS)
            exp.gone(db, "short")
        short_deadline = time.monotonic() + SHORT_TTL_MS / 1000

    assert lode.stop(signal.SIGTERM) == 0
    lode.start()
    # only waits if the restart was quicker than the short TTL
    time.sleep(max(0.0, short_deadline - time.monotonic()))
    with lode.client() as c:
        check_keyspace(c, exp)
        c.call("SELECT", 0)
        assert c.call("INCR", "db0:incr") == 8  # the restarted server takes writes


# --------------------------------------------------------------------------- kill -9


class Writer(threading.Thread):
    """Writes unique keys (SET, overwrite, INCR, DEL) as fast as the server
    acknowledges them, and records what every acknowledged reply promised.
    The one command in flight when the server dies has an unknown outcome."""

    def __init__(self, port, wid, stop):
        super().__init__(daemon=True)
        self.port, self.wid, self.stop = port, wid, stop
        self.db = wid % 3
        self.values = {}        # key -> value of its last acknowledged SET
        self.live = []          # keys in self.values, for picking one at random
        self.deleted = set()    # keys whose DEL was acknowledged
        self.counter = f"w{wid}:counter"
        self.incr_acked = 0     # reply of the last acknowledged INCR
        self.incr_sent = 0      # INCRs sent, including one in flight
        self.in_flight = None   # key of the command that got no reply
        self.acked = 0
        self.error = None

    def run(self):
        rng = random.Random(self.wid)
        try:
            with RawClient(self.port, timeout=10) as c:
                assert c.call("SELECT", self.db) == Simple(b"OK")
                seq = 0
                while not self.stop.is_set():
                    seq += 1
                    self.step(c, rng, seq)
                    self.acked += 1
        except (ConnectionClosed, OSError):
            pass  # the server was killed under us: expected
        except Exception as e:  # a wrong reply: reported by the test
            self.error = e

    def step(self, c, rng, seq):
        r = rng.random()
        if r < 0.2:
            self.in_flight = self.counter
            self.incr_sent += 1
            reply = c.call("INCR", self.counter)
            assert reply == self.incr_acked + 1, reply
            self.incr_acked = reply
        elif r < 0.35 and self.live:
            key = self.live.pop(rng.randrange(len(self.live)))
            self.in_flight = key
            reply = c.call("DEL", key)
            assert reply == 1, reply
            del self.values[key]
            self.deleted.add(key)
        else:
            overwrite = r < 0.5 and self.live
            key = rng.choice(self.live) if overwrite else f"w{self.wid}:k{seq}"
            value = b"%d:%d:" % (self.wid, seq) + rng.randbytes(rng.randrange(2000))
            self.in_flight = key
            reply = c.call("SET", key, value)
            assert reply == Simple(b"OK"), reply
            if key not in self.values:
                self.live.append(key)
            self.values[key] = value
        self.in_flight = None

    def check(self, c):
        """Asserts that everything acknowledged survived."""
        assert c.call("SELECT", self.db) == Simple(b"OK")
        keys = [k for k in self.values if k != self.in_flight]
        for start in range(0, len(keys), 500):
            batch = keys[start:start + 500]
            for key, got in zip(batch, c.pipeline([("GET", k) for k in batch])):
                assert got == self.values[key], f"acknowledged SET of {key} lost"
        gone = [k for k in self.deleted if k != self.in_flight]
        if gone:
            assert c.call("EXISTS", *gone) == 0, "an acknowledged DEL was undone"
        counter = int(c.call("GET", self.counter) or 0)
        assert self.incr_acked <= counter <= self.incr_sent, \
            f"{self.counter} is {counter}; acknowledged {self.incr_acked}, sent {self.incr_sent}"


# Redis itself fails the everysec kill -9 case now and then: while a background
# fsync is still running it postpones writing the AOF (up to 2 s) but already
# replies to the clients. Lode promises more, so that case only runs on Lode.
redis_loses_acked_writes = pytest.mark.skipif(
    harness.TESTING_REDIS, reason="redis-server with appendfsync everysec may lose acknowledged writes on kill -9")


@pytest.mark.parametrize("appendfsync,sig", [
    pytest.param("always", signal.SIGKILL, id="always-kill9"),
    pytest.param("everysec", signal.SIGKILL, id="everysec-kill9", marks=redis_loses_acked_writes),
    pytest.param("no", signal.SIGKILL, id="no-kill9"),
    pytest.param("everysec", signal.SIGTERM, id="everysec-sigterm"),
])
def test_no_acknowledged_write_is_lost(appendfsync, sig):
    srv = harness.lode_server(["--appendfsync", appendfsync]).start()
    try:
        stop = threading.Event()
        writers = [Writer(srv.port, wid, stop) for wid in range(WRITERS)]
        started = time.monotonic()
        for w in writers:
            w.start()
        # Kill mid-load: once every writer is under way, and the load has run a while.
        assert poll(lambda: all(w.acked >= 20 or not w.is_alive() for w in writers), timeout=30)
        time.sleep(max(0.0, started + LOAD_SECONDS - time.monotonic()))
        assert all(w.is_alive() for w in writers), [w.error for w in writers]
        code = srv.stop(sig)
        stop.set()
        for w in writers:
            w.join(30)
        if sig == signal.SIGTERM:
            assert code == 0
        for w in writers:
            assert w.error is None, f"writer {w.wid}: {w.error!r}"
        assert sum(w.acked for w in writers) >= 200, "too little load to test anything"

        srv.start()  # same directory (maybe another port); a stale lock must not block it
        with srv.client(timeout=30) as c:
            for w in writers:
                w.check(c)
            assert c.call("SET", "after-recovery", "v") == Simple(b"OK")
    finally:
        srv.cleanup()
