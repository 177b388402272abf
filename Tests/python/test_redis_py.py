"""Smoke test: Lode driven by redis-py, the most common Python client.

redis-py does more than send commands: on connect it may send HELLO 3,
CLIENT SETINFO and CLIENT MAINT_NOTIFICATIONS (ignoring the errors of the last
two), and it parses INFO, CLIENT LIST and CONFIG GET replies into dicts. Every
test runs with RESP2 and RESP3, with bytes and with decoded strings.

MULTI/EXEC is not implemented yet, hence pipeline(transaction=False).
"""
import threading

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import harness

PASSWORD = "py-s3cret"


@pytest.fixture(params=[
    {"protocol": 2},
    {"protocol": 3},
    {"protocol": 2, "decode_responses": True},
    {"protocol": 3, "decode_responses": True},
], ids=["resp2", "resp3", "resp2-decoded", "resp3-decoded"])
def r(request, lode_module):
    client = redis.Redis(port=lode_module.port, socket_timeout=30, **request.param)
    client.flushdb()  # db 0 of the module's server: each test starts empty
    yield client
    client.close()


def b(r, text):
    """What `r` returns for a bulk string: str when decoding, bytes otherwise."""
    decoding = r.connection_pool.connection_kwargs.get("decode_responses")
    return text if decoding else text.encode()


def as_str(value):
    """For replies redis-py itself decodes in some modes but not in others."""
    return value.decode() if isinstance(value, bytes) else value


def no_retry():
    """redis-py retries a failed connect, with backoff, several seconds long;
    an authentication failure is meant to fail at once here."""
    return Retry(NoBackoff(), 0)


def test_default_client(lode_module):
    # No protocol argument: whatever the installed redis-py uses by default.
    with redis.Redis(port=lode_module.port) as client:
        assert client.ping() is True
        assert client.set("default:k", "v") is True
        assert client.get("default:k") == b"v"
        assert client.delete("default:k") == 1


def test_set_get_and_friends(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b(r, "v")
    assert r.get("missing") is None
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True, get=True) == b(r, "v")
    assert r.append("k", "xyz") == 4
    assert r.strlen("k") == 4
    assert r.getrange("k", 1, 2) == b(r, "xy")
    assert r.setrange("k", 6, "!") == 7
    assert r.get("k") == b(r, "wxyz\x00\x00!")
    assert r.getdel("k") == b(r, "wxyz\x00\x00!")
    assert r.exists("k") == 0
    assert r.set("bin", b"\x00\xff\r\n") is True
    if not r.connection_pool.connection_kwargs.get("decode_responses"):
        assert r.get("bin") == b"\x00\xff\r\n"


def test_mset_mget(r):
    assert r.mset({"m1": "1", "m2": "2", "m3": "3"}) is True
    assert r.mget("m1", "missing", "m3") == [b(r, "1"), None, b(r, "3")]
    assert r.msetnx({"m1": "x", "m4": "4"}) is False
    assert r.exists("m1", "m2", "m4") == 2


def test_counters(r):
    assert r.incr("n") == 1
    assert r.incrby("n", 10) == 11
    assert r.decr("n") == 10
    assert r.decrby("n", 20) == -10
    assert r.incrbyfloat("f", 1.5) == 1.5
    assert r.incrbyfloat("f", "0.25") == 1.75
    r.set("s", "not a number")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("s")


def test_expire_ttl(r):
    r.set("t", "v")
    assert r.ttl("t") == -1
    assert r.expire("t", 100) is True
    assert 99 <= r.ttl("t") <= 100
    assert 98_000 < r.pttl("t") <= 100_000
    assert r.persist("t") is True
    assert r.ttl("t") == -1
    assert r.set("t2", "v", ex=50) is True
    assert 49 <= r.ttl("t2") <= 50
    assert r.ttl("missing") == -2
    assert r.getex("t2", persist=True) == b(r, "v")
    assert r.ttl("t2") == -1


def test_scan_iter(r):
    keys = {f"scan:{i}" for i in range(500)}
    r.mset({k: "v" for k in keys})
    r.set("other", "v")
    found = list(r.scan_iter(match="scan:*", count=37))
    assert len(found) == len(set(found))  # no key returned twice when nothing changes
    assert {b(r, k) for k in keys} == set(found)
    assert set(r.scan_iter()) == {b(r, k) for k in keys} | {b(r, "other")}
    assert r.dbsize() == 501


def test_pipeline_without_transaction(r):
    with r.pipeline(transaction=False) as pipe:
        for i in range(5000):
            pipe.set(f"p:{i}", i)
        pipe.incr("p:counter")
        pipe.get("p:4999")
        pipe.incr("p:0", "not-a-number")  # an error does not break the pipeline
        pipe.get("p:missing")
        results = pipe.execute(raise_on_error=False)
    assert results[:5000] == [True] * 5000
    assert results[5000:5002] == [1, b(r, "4999")]
    assert isinstance(results[5002], redis.ResponseError)
    assert results[5003] is None


def test_client_name_id_list(r):
    assert r.client_setname("py-client") is True
    assert as_str(r.client_getname()) == "py-client"
    client_id = r.client_id()
    assert isinstance(client_id, int)
    mine = [c for c in r.client_list() if int(c["id"]) == client_id]
    assert len(mine) == 1 and mine[0]["name"] == "py-client"
    with pytest.raises(redis.ResponseError, match="Client names cannot contain spaces"):
        r.client_setname("has space")


def test_info(r):
    r.set("info-key", "v")
    info = r.info()
    assert str(info["redis_version"]).startswith("7.0")
    assert info["connected_clients"] >= 1
    assert info["used_memory"] > 0
    assert info["total_commands_processed"] > 0
    assert info["db0"]["keys"] == 1
    assert r.info("keyspace") == {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0}}
    assert "connected_clients" in r.info("clients")


def test_config_get(r):
    save = {as_str(k): as_str(v) for k, v in r.config_get("save").items()}
    assert list(save) == ["save"] and isinstance(save["save"], str)
    appendonly = {as_str(k): as_str(v) for k, v in r.config_get("appendonly").items()}
    assert list(appendonly) == ["appendonly"] and appendonly["appendonly"] in ("yes", "no")
    assert r.config_get("no-such-parameter") == {}


def test_select_via_db_argument(lode_module):
    with redis.Redis(port=lode_module.port, db=7) as in7, redis.Redis(port=lode_module.port) as in0:
        in7.flushdb()
        in7.set("only-in-7", "v")
        assert in7.get("only-in-7") == b"v"
        assert in0.get("only-in-7") is None
        assert in0.info("keyspace")["db7"]["keys"] == 1
        in7.flushdb()


def test_connection_pool_from_threads(lode_module):
    # One shared client, many threads: redis-py hands each its own connection.
    client = redis.Redis(port=lode_module.port, db=8, max_connections=20)
    client.flushdb()
    errors = []

    def work(t):
        try:
            for i in range(200):
                client.incr("shared-counter")
                client.set(f"t{t}:{i}", i)
        except Exception as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert client.get("shared-counter") == b"2000"
    assert client.dbsize() == 2001
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def lode_with_password():
    srv = harness.lode_server(["--requirepass", PASSWORD]).start()
    yield srv
    srv.cleanup()


@pytest.mark.parametrize("protocol", [2, 3])
def test_password(lode_with_password, protocol):
    port = lode_with_password.port
    with redis.Redis(port=port, password=PASSWORD, protocol=protocol) as good:
        assert good.set("secret", "v") is True
        assert good.get("secret") == b"v"
    with redis.Redis(port=port, password="wrong", protocol=protocol, retry=no_retry()) as bad:
        with pytest.raises(redis.AuthenticationError):
            bad.ping()
    with redis.Redis(port=port, protocol=2, retry=no_retry()) as anonymous:
        with pytest.raises(redis.AuthenticationError):
            anonymous.get("secret")
