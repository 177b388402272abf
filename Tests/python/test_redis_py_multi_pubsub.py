"""redis-py against Lode: transactions (pipelines with and without MULTI, WATCH
retry loops) and pub/sub (PubSub.get_message, listen, patterns, run_in_thread,
sharded channels), with RESP2 and RESP3, bytes and decoded strings.

redis-py wraps a transaction pipeline in MULTI ... EXEC and maps the replies
back (errors included); PubSub keeps a dedicated connection in subscribed mode
and parses the message frames (RESP2 arrays, RESP3 pushes) into dicts.

LODE_TEST_TARGET=redis runs this file against redis-server, which validates it.
"""
import threading
import time

import pytest
import redis
from redis.exceptions import ResponseError, WatchError

from redis_py_clients import b
from redis_py_clients import client, other, r  # noqa: F401  (fixtures)


def wait_for(pubsub, kind, timeout=5.0):
    """The next message of type `kind` on pubsub (others before it are skipped only
    if they are subscribe confirmations)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = pubsub.get_message(timeout=max(0.01, deadline - time.monotonic()))
        if msg is None:
            continue
        if msg["type"] == kind:
            return msg
        assert msg["type"] in ("subscribe", "psubscribe", "ssubscribe"), f"waiting for {kind}, got {msg!r}"
    raise AssertionError(f"no {kind} message within {timeout}s")


# ----------------------------------------------------------------------------
# pipelines


def test_transaction_pipeline(r):
    with r.pipeline(transaction=True) as pipe:
        pipe.set("a", 1).incr("a").get("a").rpush("l", "x", "y").lrange("l", 0, -1).hset("h", "f", "v")
        pipe.hgetall("h").sadd("s", "m").smembers("s").zadd("z", {"m": 1.5}).zscore("z", "m").get("nokey")
        assert pipe.execute() == [True, 2, b(r, "2"), 2, [b(r, "x"), b(r, "y")], 1, {b(r, "f"): b(r, "v")}, 1,
                                  {b(r, "m")}, 1, 1.5, None]
    assert r.get("a") == b(r, "2")


def test_transaction_pipeline_runtime_error(r):
    r.set("s", "text")
    with r.pipeline(transaction=True) as pipe:
        pipe.set("t", "1").incr("s").set("u", "2")
        with pytest.raises(ResponseError, match="not an integer"):
            pipe.execute()
    # the transaction ran: the commands around the failed one were applied
    assert r.get("t") == b(r, "1") and r.get("u") == b(r, "2")
    with r.pipeline(transaction=True) as pipe:
        pipe.set("t", "3").lpush("s", "x").get("t")
        result = pipe.execute(raise_on_error=False)
    assert result[0] is True and isinstance(result[1], ResponseError) and "WRONGTYPE" in str(result[1])
    assert result[2] == b(r, "3")


def test_transaction_pipeline_queuing_error_applies_nothing(r):
    with r.pipeline(transaction=True) as pipe:
        pipe.set("t", "1").execute_command("NOSUCHCOMMAND", "x").set("u", "2")
        with pytest.raises(ResponseError, match="unknown command"):
            pipe.execute()
    assert r.exists("t", "u") == 0
    with r.pipeline(transaction=True) as pipe:
        pipe.set("t", "1").execute_command("GET").set("u", "2")
        with pytest.raises(ResponseError, match="wrong number of arguments"):
            pipe.execute()
    assert r.exists("t", "u") == 0
    assert r.ping() is True   # the connection is usable afterwards


def test_plain_pipeline(r):
    with r.pipeline(transaction=False) as pipe:
        for i in range(100):
            pipe.rpush("l", i)
        pipe.llen("l").lindex("l", 99).incr("l")
        result = pipe.execute(raise_on_error=False)
    assert result[:100] == list(range(1, 101))
    assert result[100:102] == [100, b(r, "99")]
    assert isinstance(result[102], ResponseError)


def test_empty_transaction(r):
    with r.pipeline(transaction=True) as pipe:
        assert pipe.execute() == []


# ----------------------------------------------------------------------------
# WATCH


def test_transaction_helper_retries_after_interference(r, other):
    r.set("counter", 10)
    attempts = []

    def double(pipe):
        value = int(pipe.get("counter"))
        attempts.append(value)
        if len(attempts) == 1:
            other.incr("counter")   # touches the watched key between WATCH and EXEC
        pipe.multi()
        pipe.set("counter", value * 2)
        pipe.get("counter")

    result = r.transaction(double, "counter")
    assert attempts == [10, 11], "the first attempt must fail (WatchError) and be retried with the new value"
    assert result == [True, b(r, "22")]
    assert r.get("counter") == b(r, "22")


def test_transaction_helper_value_from_callable(r):
    r.set("k", "v")

    def read(pipe):
        value = pipe.get("k")
        pipe.multi()
        pipe.set("k", "w")
        return value

    assert r.transaction(read, "k", value_from_callable=True) == b(r, "v")
    assert r.get("k") == b(r, "w")


def test_manual_watch_and_watch_error(r, other):
    r.set("k", "1")
    with r.pipeline() as pipe:
        pipe.watch("k", "k2")
        assert pipe.get("k") == b(r, "1")          # immediate mode while watching
        other.set("k", "changed")
        pipe.multi()
        pipe.set("k", "mine")
        with pytest.raises(WatchError):
            pipe.execute()
    assert r.get("k") == b(r, "changed")

    # the retry loop of redis-py's documentation
    tries = 0
    with r.pipeline() as pipe:
        while True:
            tries += 1
            try:
                pipe.watch("k2")
                current = pipe.get("k2")
                if tries == 1:
                    other.set("k2", "x")
                pipe.multi()
                pipe.set("k2", (current or b(r, "")) + b(r, "!"))
                pipe.execute()
                break
            except WatchError:
                continue
    assert tries == 2
    assert r.get("k2") == b(r, "x!")


def test_watch_without_interference_and_unwatch(r, other):
    with r.pipeline() as pipe:
        pipe.watch("a")
        pipe.multi()
        pipe.set("a", "1")
        assert pipe.execute() == [True]
    with r.pipeline() as pipe:
        pipe.watch("a")
        pipe.unwatch()
        other.set("a", "2")
        pipe.multi()
        pipe.set("a", "3")
        assert pipe.execute() == [True]
    assert r.get("a") == b(r, "3")


def test_concurrent_watch_increments_lose_nothing(r):
    """Threads increment one key with GET + SET under WATCH: without WATCH the
    updates would be lost; with it every increment lands, after retries."""
    kwargs = r.test_kwargs
    threads, per_thread = 4, 40
    retries = []

    def worker():
        client = redis.Redis(**kwargs)
        failed = 0
        try:
            for _ in range(per_thread):
                with client.pipeline() as pipe:
                    while True:
                        try:
                            pipe.watch("n")
                            value = int(pipe.get("n") or 0)
                            pipe.multi()
                            pipe.set("n", value + 1)
                            pipe.execute()
                            break
                        except WatchError:
                            failed += 1
        finally:
            retries.append(failed)
            client.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert len(retries) == threads
    assert sum(retries) > 0, "the threads never contended: the test proved nothing"
    assert int(r.get("n")) == threads * per_thread


# ----------------------------------------------------------------------------
# pub/sub


def test_get_message(r):
    p = r.pubsub()
    try:
        p.subscribe("ch", "other")
        assert wait_for(p, "subscribe")["channel"] == b(r, "ch")
        assert r.publish("ch", "hello") == 1
        msg = wait_for(p, "message")
        assert msg == {"type": "message", "pattern": None, "channel": b(r, "ch"), "data": b(r, "hello")}
        assert r.publish("nobody", "x") == 0
        assert r.pubsub_numsub("ch", "other", "nobody") == [(b(r, "ch"), 1), (b(r, "other"), 1), (b(r, "nobody"), 0)]
        assert sorted(r.pubsub_channels()) == [b(r, "ch"), b(r, "other")]
        p.unsubscribe("ch")
        msg = wait_for(p, "unsubscribe")
        assert msg["channel"] == b(r, "ch") and msg["data"] == 1
        assert r.publish("ch", "gone") == 0
        assert p.subscribed
        p.unsubscribe()
        assert wait_for(p, "unsubscribe")["data"] == 0
        assert r.pubsub_numsub("other") == [(b(r, "other"), 0)]
    finally:
        p.close()


def test_subscribe_confirmations(r):
    p = r.pubsub()
    try:
        p.subscribe("a", "b")
        got = [p.get_message(timeout=5) for _ in range(2)]
        assert got == [{"type": "subscribe", "pattern": None, "channel": b(r, "a"), "data": 1},
                       {"type": "subscribe", "pattern": None, "channel": b(r, "b"), "data": 2}]
        p.psubscribe("p*")
        assert p.get_message(timeout=5) == {"type": "psubscribe", "pattern": None, "channel": b(r, "p*"), "data": 3}
        p.ping()
        pong = p.get_message(timeout=5)
        kwargs = r.test_kwargs
        if kwargs["protocol"] == 3 and kwargs.get("decode_responses"):
            # redis-py takes the first character of RESP3's "PONG" as the type
            assert pong is not None and pong["type"] in ("pong", "P"), pong
        else:
            assert pong["type"] == "pong", pong
    finally:
        p.close()


def test_pattern_subscriptions(r):
    p = r.pubsub(ignore_subscribe_messages=True)
    try:
        p.psubscribe("news.*", "*.sport")
        p.subscribe("news.sport")
        for _ in range(3):          # confirmations are consumed (and dropped) here
            p.get_message(timeout=0.5)
        assert r.pubsub_numpat() == 2
        assert r.publish("news.sport", "goal") == 3
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 3 and time.monotonic() < deadline:
            msg = p.get_message(timeout=0.5)
            if msg:
                got.append(msg)
        assert got[0] == {"type": "message", "pattern": None, "channel": b(r, "news.sport"), "data": b(r, "goal")}
        assert sorted(m["pattern"] for m in got[1:]) == [b(r, "*.sport"), b(r, "news.*")]
        assert all(m["type"] == "pmessage" and m["channel"] == b(r, "news.sport") for m in got[1:])
        p.punsubscribe("news.*")
        p.get_message(timeout=0.5)
        assert r.publish("news.weather", "rain") == 0
        assert r.publish("x.sport", "y") == 1
        assert wait_for(p, "pmessage")["pattern"] == b(r, "*.sport")
    finally:
        p.close()


def test_listen(r):
    p = r.pubsub()
    received = []
    ready = threading.Event()

    def listener():
        for msg in p.listen():
            if msg["type"] == "subscribe":
                ready.set()
            elif msg["type"] == "message":
                received.append(msg["data"])
                if msg["data"] == b(r, "stop"):
                    return

    try:
        p.subscribe("feed")
        t = threading.Thread(target=listener, daemon=True)
        t.start()
        assert ready.wait(5)
        for i in range(50):
            assert r.publish("feed", f"m{i}") == 1
        r.publish("feed", "stop")
        t.join(10)
        assert not t.is_alive()
        assert received == [b(r, f"m{i}") for i in range(50)] + [b(r, "stop")]
    finally:
        p.close()


def test_run_in_thread(r):
    got = []
    lock = threading.Lock()

    def handler(msg):
        with lock:
            got.append((msg["type"], msg["channel"], msg["data"]))

    p = r.pubsub()
    p.subscribe(**{"events": handler})
    p.psubscribe(**{"ev*": handler})
    worker = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        assert redis_poll(lambda: r.pubsub_numsub("events") == [(b(r, "events"), 1)] and r.pubsub_numpat() == 1)
        for i in range(20):
            r.publish("events", f"e{i}")
        r.publish("evening", "x")
        assert redis_poll(lambda: len(got) >= 41)
        time.sleep(0.05)
        with lock:
            messages = [g for g in got if g[0] == "message"]
            pmessages = [g for g in got if g[0] == "pmessage"]
        assert [m[2] for m in messages] == [b(r, f"e{i}") for i in range(20)]
        assert [m[2] for m in pmessages] == [b(r, f"e{i}") for i in range(20)] + [b(r, "x")]
        assert len(got) == 41
    finally:
        worker.stop()
        worker.join(5)
        p.close()


def redis_poll(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_sharded_pubsub(r):
    p = r.pubsub()
    try:
        p.ssubscribe("shard")
        assert p.get_sharded_message(timeout=5) == {"type": "ssubscribe", "pattern": None,
                                                     "channel": b(r, "shard"), "data": 1}
        assert r.spublish("shard", "s1") == 1
        assert r.publish("shard", "not-sharded") == 0
        msg = p.get_sharded_message(timeout=5)
        assert msg == {"type": "smessage", "pattern": None, "channel": b(r, "shard"), "data": b(r, "s1")}
        assert r.pubsub_shardnumsub("shard") == [(b(r, "shard"), 1)]
        assert r.pubsub_shardchannels() == [b(r, "shard")]
        p.sunsubscribe("shard")
        assert p.get_sharded_message(timeout=5)["type"] == "sunsubscribe"
        assert r.spublish("shard", "s2") == 0
    finally:
        p.close()


def test_binary_and_large_messages(lode_module):
    for protocol in (2, 3):
        client = redis.Redis(port=lode_module.port, protocol=protocol, socket_timeout=30)
        p = client.pubsub(ignore_subscribe_messages=True)
        try:
            channel, payload = b"bin\x00\r\nchannel", b"\x00\xff\r\n" * 1000
            big = bytes(range(256)) * 4096
            p.subscribe(channel)
            p.get_message(timeout=1)
            assert client.publish(channel, payload) == 1
            assert client.publish(channel, big) == 1
            msgs = []
            deadline = time.monotonic() + 10
            while len(msgs) < 2 and time.monotonic() < deadline:
                m = p.get_message(timeout=1)
                if m:
                    msgs.append(m)
            assert [(m["channel"], m["data"]) for m in msgs] == [(channel, payload), (channel, big)]
        finally:
            p.close()
            client.close()


def test_resp3_push_handler(lode_module):
    """RESP3 only: redis-py parses the push frames; a push_handler_func set on the
    PubSub receives the messages that get_message reads."""
    client = redis.Redis(port=lode_module.port, protocol=3, socket_timeout=30)
    pushed = []

    def handler(message):
        pushed.append(message)

    p = client.pubsub(push_handler_func=handler)
    try:
        p.subscribe("pushed")
        assert redis_poll(lambda: client.pubsub_numsub("pushed") == [(b"pushed", 1)])
        assert client.publish("pushed", "data") == 1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(m and m[0] == b"message" for m in pushed):
            p.get_message(timeout=0.2)
        assert [b"message", b"pushed", b"data"] in pushed, pushed
    finally:
        p.close()
        client.close()


# ----------------------------------------------------------------------------
# client-side caching with redis-py's tracking API. (redis-py 5.1+'s built-in
# cache refuses servers older than 7.4, Redis 7.0 included, so applications on
# 7.0 use these primitives: a RESP2 redirect to a subscriber, or RESP3 pushes.)


def test_client_tracking_redirect_to_pubsub(lode_module):
    # RESP2 (redis-py 8 speaks RESP3 unless told): the redirect target gets messages.
    r = redis.Redis(port=lode_module.port, protocol=2, socket_timeout=30, decode_responses=True)
    writer = redis.Redis(port=lode_module.port, socket_timeout=30)
    p = r.pubsub()
    try:
        r.flushall()
        p.subscribe("__redis__:invalidate")
        wait_for(p, "subscribe")
        # The subscriber's client ID, from the server (it is the one subscribed client).
        ids = [c["id"] for c in writer.client_list() if c["sub"] == "1"]
        assert len(ids) == 1, ids
        tracker = r.connection_pool.get_connection()
        try:
            tracker.send_command("CLIENT", "TRACKING", "on", "REDIRECT", ids[0])
            assert tracker.read_response() == "OK"
            tracker.send_command("CLIENT", "GETREDIR")
            assert tracker.read_response() == int(ids[0])
            writer.set("a", "1")
            tracker.send_command("GET", "a")
            assert tracker.read_response() == "1"
            writer.set("a", "2")
            msg = wait_for(p, "message")
            assert msg["channel"] == "__redis__:invalidate" and msg["data"] == ["a"]
            writer.flushdb()
            assert wait_for(p, "message")["data"] is None
        finally:
            r.connection_pool.release(tracker)
    finally:
        p.close()
        r.close()
        writer.close()


def test_client_tracking_resp3_invalidation_pushes(lode_module):
    r = redis.Redis(port=lode_module.port, protocol=3, socket_timeout=30)
    writer = redis.Redis(port=lode_module.port, socket_timeout=30)
    pushes = []
    conn = r.connection_pool.get_connection()
    try:
        writer.flushall()
        conn._parser.set_invalidation_push_handler(pushes.append)
        for cmd, want in [(("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:"), b"OK"),
                          (("CLIENT", "TRACKINGINFO"), None)]:
            conn.send_command(*cmd)
            got = conn.read_response()
            if want is not None:
                assert got == want
        assert set(got[b"flags"]) == {b"on", b"bcast"} and got[b"prefixes"] == [b"user:"]
        writer.mset({"user:1": "x", "user:2": "y", "order:1": "z"})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not pushes:
            conn.send_command("PING")
            assert conn.read_response() == b"PONG"
        assert pushes == [[b"invalidate", [b"user:1", b"user:2"]]]
    finally:
        r.connection_pool.release(conn)
        r.close()
        writer.close()
