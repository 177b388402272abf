"""Differential test of MIGRATE against a reference redis-server 7.0.15: the same MIGRATE
commands run on Redis and on Lode, each towards targets of both kinds (a Redis and a Lode),
with replies compared exactly and the keys checked on both ends — single keys and KEYS,
COPY, REPLACE, TTLs, AUTH and AUTH2 (right and wrong), a busy target key, NOKEY, syntax
errors, a refused connection, every value type; and the cached connection (INFO's
migrate_cached_sockets) reused and, later, released."""
import re

import pytest

import harness
from difflib_redis import subject  # noqa: F401  (a fixture)
from value_reads import read_value

PASSWORD = "migrate-secret"


@pytest.fixture(scope="module")
def targets():
    """A Redis and a Lode to migrate to, both with a password."""
    r = harness.redis_server(["--requirepass", PASSWORD]).start()
    lode = harness.lode_server(["--requirepass", PASSWORD]).start()
    yield {"redis-target": r, "lode-target": lode}
    r.cleanup()
    lode.cleanup()


def authed(server):
    c = server.client()
    assert c.call("AUTH", PASSWORD) == b"OK"
    return c


def seed(c):
    c.call("FLUSHALL")
    c.call("SET", "s", "value")
    c.call("SET", "ttl", "x", "PX", "100000")
    c.call("RPUSH", "l", "a", "b", "c")
    c.call("HSET", "h", "f", "1", "g", "2")
    c.call("SADD", "set", "1", "2", "x")
    c.call("ZADD", "z", "1", "a", "2", "b")
    c.call("XADD", "x", "1-1", "f", "v")
    c.call("SET", "k1", "1")
    c.call("SET", "k2", "2")
    c.call("SET", "k3", "3")


def cases(port):
    p = str(port)
    return [
        ("MIGRATE", "127.0.0.1", p, "s", "0", "5000", "AUTH", PASSWORD),
        ("MIGRATE", "127.0.0.1", p, "missing", "0", "5000", "AUTH", PASSWORD),
        ("MIGRATE", "127.0.0.1", p, "ttl", "0", "5000", "COPY", "AUTH", PASSWORD),
        ("MIGRATE", "127.0.0.1", p, "ttl", "0", "5000", "COPY", "AUTH", PASSWORD),          # BUSYKEY on the target
        ("MIGRATE", "127.0.0.1", p, "ttl", "0", "5000", "COPY", "REPLACE", "AUTH", PASSWORD),
        ("MIGRATE", "127.0.0.1", p, "l", "3", "5000", "AUTH2", "default", PASSWORD),
        ("MIGRATE", "127.0.0.1", p, "h", "0", "5000", "AUTH", "wrong"),
        ("MIGRATE", "127.0.0.1", p, "h", "0", "5000"),                                     # NOAUTH
        ("MIGRATE", "127.0.0.1", p, "", "0", "5000", "AUTH", PASSWORD, "KEYS", "h", "set", "z", "x", "nope"),
        ("MIGRATE", "127.0.0.1", p, "", "0", "5000", "AUTH", PASSWORD, "KEYS", "nope1", "nope2"),
        ("MIGRATE", "127.0.0.1", p, "k1", "0", "5000", "AUTH", PASSWORD, "KEYS", "k2"),
        ("MIGRATE", "127.0.0.1", p, "k1", "0", "5000", "BOGUS"),
        ("MIGRATE", "127.0.0.1", p, "k1", "0", "5000", "AUTH"),
        ("MIGRATE", "127.0.0.1", p, "k1", "0", "5000", "AUTH2", "u"),
        ("MIGRATE", "127.0.0.1", p, "k1", "x", "5000"),
        ("MIGRATE", "127.0.0.1", p, "k1", "0", "y"),
        ("MIGRATE", "127.0.0.1", p, "k1", "0", "0", "AUTH", PASSWORD),                     # timeout 0 = 1000 ms
        ("MIGRATE", "127.0.0.1", "1", "k2", "0", "500"),                                     # refused
        ("MIGRATE", "127.0.0.1", p, "k2"),
    ]


@pytest.mark.parametrize("target_name", ["redis-target", "lode-target"])
def test_migrate_as_redis(redis_ref, subject, targets, target_name):
    target = targets[target_name]
    results = {}
    for name, source in (("redis", redis_ref), ("lode", subject)):
        with source.client() as c, authed(target) as t:
            seed(c)
            t.call("FLUSHALL")
            replies = []
            for cmd in cases(target.port):
                replies.append(c.call(*cmd))
            t.call("SELECT", 0)
            here = {k: read_value(c, k) for k in ("s", "ttl", "l", "h", "set", "z", "x", "k1", "k2", "k3")}
            there = {k: read_value(t, k) for k in ("s", "ttl", "h", "set", "z", "x", "k1", "k2")}
            ttl_there = t.call("PTTL", "ttl")
            t.call("SELECT", 3)
            there["db3:l"] = read_value(t, "l")
            results[name] = (replies, here, there, ttl_there > 0)
    r, l = results["redis"], results["lode"]
    for cmd, a, b in zip(cases(0), r[0], l[0]):
        assert a == b, f"{cmd[3:]}: redis={a!r} lode={b!r}"
    assert r[1:] == l[1:]
    assert r[0][0] == b"OK" and r[1]["s"] == (b"none", None) and r[2]["s"] == (b"string", b"value")


def test_migrate_caches_its_connection(subject, targets):
    target = targets["redis-target"]
    with subject.client() as c, authed(target) as t:
        t.call("FLUSHALL")
        c.call("SET", "c1", "1")
        c.call("SET", "c2", "2")
        def connections():
            text = t.call("INFO", "stats").decode()
            return int(dict(x.split(":", 1) for x in text.split("\r\n") if ":" in x)["total_connections_received"])
        assert c.call("MIGRATE", "127.0.0.1", target.port, "c1", "0", "5000", "AUTH", PASSWORD) == b"OK"
        before = connections()
        assert c.call("MIGRATE", "127.0.0.1", target.port, "c2", "0", "5000", "AUTH", PASSWORD) == b"OK"
        assert connections() == before   # the second MIGRATE reused the first one's connection
        assert re.search(rb"migrate_cached_sockets:[12]\r", c.call("INFO", "stats"))   # this target's, maybe the other's
        assert harness.poll(lambda: b"migrate_cached_sockets:0" in c.call("INFO", "stats"), timeout=15)
