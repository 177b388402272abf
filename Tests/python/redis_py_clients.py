"""The redis-py clients of test_redis_py_scripting.py and test_redis_py_multi_pubsub.py: one
client of each kind (RESP2 and RESP3, bytes and decoded strings) on the module's server
(lode_module: Lode, or redis-server under LODE_TEST_TARGET=redis), each test from an empty
server.

A test module imports the fixtures it uses, and `client` with `r` (pytest looks up the
fixtures a fixture uses in the test's module):
`from redis_py_clients import client, other, r  # noqa: F401  (fixtures)`. One that needs
more setup per client defines its own `r` on `client` instead of importing it
(test_redis_py_scripting.py also flushes the scripts and functions).
"""
import pytest
import redis

PARAMS = [{"protocol": 2}, {"protocol": 3}, {"protocol": 2, "decode_responses": True},
          {"protocol": 3, "decode_responses": True}]
IDS = ["resp2", "resp3", "resp2-decoded", "resp3-decoded"]


@pytest.fixture(params=PARAMS, ids=IDS)
def client(request, lode_module):
    """A client of each kind, after FLUSHALL."""
    kwargs = dict(port=lode_module.port, socket_timeout=30, **request.param)
    c = redis.Redis(**kwargs)
    c.test_kwargs = kwargs   # for more clients of the same kind
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def r(client):
    """The client the tests use."""
    return client


@pytest.fixture
def other(r):
    """A second client of the same kind as r (another lock owner, a writer interfering with
    r's transactions)."""
    c = redis.Redis(**r.test_kwargs)
    yield c
    c.close()


def b(r, text):
    """What r returns for a bulk string: str when decoding, bytes otherwise."""
    return text if r.connection_pool.connection_kwargs.get("decode_responses") else text.encode()
