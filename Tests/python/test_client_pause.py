"""CLIENT PAUSE / UNPAUSE / UNBLOCK / NO-EVICT, the same steps against Lode and a real
redis-server 7.0: what waits under WRITE and ALL (writes, scripts without no-writes,
EXECs that write), what answers at once, the order waiting clients resume in, the
pause's own timeout, expiry held during a pause, and the error texts.

Run (from the repository root): pytest Tests/python/test_client_pause.py
"""
import time

import pytest

from harness import as_text, encode_command, info_dict, poll


def blocked(c):
    return int(info_dict(c.call("INFO", "clients"))["blocked_clients"])


@pytest.fixture(params=["lode", "redis"])
def server(request, lode, redis_ref):
    return lode if request.param == "lode" else redis_ref


def test_write_pause_holds_writes_and_may_replicate_commands(server):
    with server.client() as admin, server.client() as reader, server.client() as w1, server.client() as w2, \
            server.client() as w3:
        admin.call("SET", "p:k", "v")
        w1_id = w1.call("CLIENT", "ID")
        assert admin.call("CLIENT", "PAUSE", "100000", "WRITE") == b"OK"
        assert reader.call("GET", "p:k") == b"v"                    # reads answer
        assert reader.call_raw("SET", "p:k") == b"-ERR wrong number of arguments for 'set' command\r\n"
        assert reader.call("EVAL", "#!lua flags=no-writes\nreturn 7", "0") == 7
        assert reader.call("MULTI") == b"OK" and reader.call("GET", "p:k") == b"QUEUED"
        assert reader.call("EXEC") == [b"v"]
        w1.send_raw(encode_command("SET", "p:k", "1"))
        w2.send_raw(encode_command("EVAL", "return redis.call('incr', 'p:k')", "0"))
        w3.send_raw(encode_command("PUBLISH", "p:ch", "x"))
        assert poll(lambda: blocked(admin) == 3)
        assert " flags=b " in as_text(admin.call("CLIENT", "LIST", "ID", w1_id))
        assert admin.call("GET", "p:k") == b"v"
        assert admin.call("CLIENT", "UNPAUSE") == b"OK"
        assert w1.read_reply() == b"OK" and w2.read_reply() == 2 and w3.read_reply() == 0   # in arrival order
        assert blocked(admin) == 0


def test_all_pause_holds_everything_until_its_timeout(server):
    with server.client() as admin, server.client() as other:
        assert admin.call("CLIENT", "PAUSE", "300", "ALL") == b"OK"
        started = time.monotonic()
        other.send_raw(encode_command("PING"))
        assert other.read_reply() == b"PONG"
        assert time.monotonic() - started >= 0.2                     # waited for the pause to end by itself


def test_pause_inside_multi_starts_after_exec_and_expiry_waits(server):
    with server.client() as c, server.client() as writer:
        c.call("CONFIG", "RESETSTAT")
        expired = int(info_dict(c.call("INFO", "stats"))["expired_keys"])
        c.call("MULTI")
        c.call("SET", "p:e1", "v", "PX", "10")
        c.call("CLIENT", "PAUSE", "60000", "WRITE")
        c.call("SET", "p:e2", "v", "PX", "10")
        assert c.call("EXEC") == [b"OK", b"OK", b"OK"]                # not paused inside its own EXEC
        time.sleep(0.2)
        assert c.call("GET", "p:e1") is None and c.call("EXISTS", "p:e2") == 0   # logically expired...
        assert int(info_dict(c.call("INFO", "stats"))["expired_keys"]) == expired  # ...but not deleted
        writer.send_raw(encode_command("SET", "p:w", "1"))
        assert poll(lambda: blocked(c) == 1)
        c.call("CLIENT", "UNPAUSE")
        assert writer.read_reply() == b"OK"
        c.call("GET", "p:e1"), c.call("GET", "p:e2")
        assert poll(lambda: int(info_dict(c.call("INFO", "stats"))["expired_keys"]) == expired + 2)


def test_unblock_and_no_evict(server):
    with server.client() as c, server.client() as waiter:
        waiter_id = waiter.call("CLIENT", "ID")
        waiter.send_raw(encode_command("BLPOP", "p:list", "0"))
        assert poll(lambda: blocked(c) == 1)
        assert c.call("CLIENT", "UNBLOCK", waiter_id) == 1
        assert waiter.read_reply() is None
        waiter.send_raw(encode_command("BLPOP", "p:list", "0"))
        assert poll(lambda: blocked(c) == 1)
        assert c.call("CLIENT", "UNBLOCK", waiter_id, "ERROR") == 1
        assert waiter.read_reply_raw() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
        assert c.call("CLIENT", "UNBLOCK", waiter_id) == 0
        assert c.call("CLIENT", "NO-EVICT", "on") == b"OK"
        assert "flags=e " in as_text(c.call("CLIENT", "INFO"))


def test_errors_as_redis(lode, redis_ref):
    cases = [("PAUSE", "x"), ("PAUSE", "-1"), ("PAUSE", "10", "BOTH"), ("PAUSE",), ("UNPAUSE", "x"),
             ("UNBLOCK", "x"), ("UNBLOCK", "1", "MAYBE"), ("NO-EVICT", "maybe"), ("NO-EVICT",)]
    with lode.client() as lc, redis_ref.client() as rc:
        for args in cases:
            assert lc.call_raw("CLIENT", *args) == rc.call_raw("CLIENT", *args), args
        for c in (lc, rc):
            c.call("CLIENT", "UNPAUSE")
