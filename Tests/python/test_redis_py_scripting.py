"""redis-py and two widely used libraries against Lode's scripting: the `Lock` (its release,
extend and reacquire are Lua scripts run by EVALSHA), `register_script` (EVALSHA, and
after SCRIPT FLUSH the NOSCRIPT fallback: SCRIPT LOAD, then EVALSHA again), EVAL / EVALSHA
/ EVAL_RO, the FUNCTION API (function_load / list / dump / restore / delete / flush /
stats, fcall / fcall_ro), RESP2 and RESP3, bytes and decoded strings.

The libraries run their own Lua scripts, unchanged (checked with MONITOR against redis):
  * limits: the moving-window, fixed-window and sliding-window rate limiters of
    limits.storage.RedisStorage are EVALSHA of its scripts (acquire_moving_window.lua,
    moving_window.lua, incr_expire.lua, sliding_window.lua...), and storage.reset()
    runs clear_keys.lua (KEYS inside a script);
  * Dramatiq: RedisBroker does every queue operation (enqueue, fetch, ack, nack) with
    its dispatch.lua script, and first probes the Lua stack with maxstack.lua; a Worker
    runs in this process until the messages are processed.

LODE_TEST_TARGET=redis runs this file against redis-server, which validates it.
"""
import hashlib
import threading
import time
import uuid

import dramatiq
import limits
import limits.storage
import limits.strategies
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from redis.exceptions import LockError, LockNotOwnedError, NoScriptError, ResponseError

from redis_py_clients import b
from redis_py_clients import client, other  # noqa: F401  (fixtures)


@pytest.fixture
def r(client):
    """A client of each kind (redis_py_clients.py), with no scripts and no functions either."""
    client.script_flush()
    client.function_flush()
    return client


def resp3(r):
    return r.connection_pool.connection_kwargs.get("protocol") == 3


def fields(reply):
    """A map reply as a dict: RESP3 gives one, RESP2 a flat [k1, v1, k2, v2...] list."""
    return reply if isinstance(reply, dict) else dict(zip(reply[0::2], reply[1::2]))


# ----------------------------------------------------------------------------
# Lock


def test_lock_acquire_and_release(r):
    lock = r.lock("lk", timeout=10)
    assert lock.acquire(blocking=False)
    assert lock.locked() and lock.owned()
    assert 0 < r.pttl("lk") <= 10000
    assert r.get("lk") == b(r, lock.local.token.decode())     # the owner's token, which the scripts compare
    lock.release()
    assert not lock.locked() and not lock.owned()
    assert r.exists("lk") == 0
    with pytest.raises(LockError, match="already unlocked"):
        lock.release()


def test_lock_as_context_manager(r):
    with r.lock("lk", timeout=10) as lock:
        assert lock.owned()
        assert r.exists("lk") == 1
    assert r.exists("lk") == 0


def test_lock_second_client_times_out(r, other):
    first = r.lock("lk", timeout=10)
    assert first.acquire()
    second = other.lock("lk", blocking_timeout=0.3, sleep=0.05)
    started = time.monotonic()
    assert second.acquire() is False
    assert 0.25 <= time.monotonic() - started < 3
    assert not second.owned() and first.owned()
    assert second.acquire(blocking=False) is False


def test_lock_second_client_waits_for_release(r, other):
    first = r.lock("lk", timeout=10, thread_local=False)   # released by the timer's thread
    assert first.acquire()
    releaser = threading.Timer(0.3, first.release)
    releaser.start()
    try:
        second = other.lock("lk", timeout=10, blocking_timeout=5, sleep=0.02)
        started = time.monotonic()
        assert second.acquire()
        assert 0.25 <= time.monotonic() - started < 4
        assert second.owned() and not first.owned()
        second.release()
    finally:
        releaser.join()


def test_lock_expiry_then_release_by_the_old_owner(r, other):
    first = r.lock("lk", timeout=0.2)
    assert first.acquire()
    time.sleep(0.35)
    assert not first.locked()
    second = other.lock("lk", timeout=10)
    assert second.acquire(blocking=False)
    # The scripts see another owner's token: they change nothing.
    with pytest.raises(LockNotOwnedError):
        first.extend(5)
    with pytest.raises(LockNotOwnedError):
        first.reacquire()
    with pytest.raises(LockNotOwnedError):
        first.release()
    assert second.owned() and r.pttl("lk") > 9000
    second.release()


def test_lock_release_by_a_non_owner(r, other):
    first = r.lock("lk", timeout=10)
    assert first.acquire()
    intruder = other.lock("lk", timeout=10)
    intruder.local.token = b"not-the-owner"
    with pytest.raises(LockNotOwnedError):
        intruder.release()
    assert first.owned() and r.exists("lk") == 1
    first.release()


def test_lock_extend(r):
    lock = r.lock("lk", timeout=2)
    assert lock.acquire()
    assert lock.extend(10)                      # adds to the time left
    assert 10000 < r.pttl("lk") <= 12000
    assert lock.extend(3, replace_ttl=True)     # sets the time left
    assert 2000 < r.pttl("lk") <= 3000
    lock.release()
    with pytest.raises(LockError):
        lock.extend(1)                          # not locked
    forever = r.lock("forever")
    assert forever.acquire()
    with pytest.raises(LockError, match="no timeout"):
        forever.extend(1)
    forever.release()


def test_lock_reacquire(r):
    lock = r.lock("lk", timeout=5)
    assert lock.acquire()
    r.pexpire("lk", 100)
    assert lock.reacquire()                     # back to the full timeout
    assert 4000 < r.pttl("lk") <= 5000
    lock.release()
    with pytest.raises(LockError):
        lock.reacquire()


def test_lock_threads_take_turns(r):
    """Threads increment a counter with a read-modify-write under the lock: no update is lost."""
    kwargs = r.test_kwargs

    def worker():
        c = redis.Redis(**kwargs)
        for _ in range(10):
            with c.lock("lk", timeout=10, sleep=0.001, blocking_timeout=20):
                value = int(c.get("n") or 0)
                c.set("n", value + 1)
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert int(r.get("n")) == 40


# ----------------------------------------------------------------------------
# Scripts


INCRBY = "return redis.call('incrby', KEYS[1], ARGV[1])"


def test_register_script_and_noscript_fallback(r):
    script = r.register_script(INCRBY)
    assert script(keys=["n"], args=[5]) == 5
    assert r.script_exists(script.sha) == [True]
    r.script_flush()
    assert r.script_exists(script.sha) == [False]
    with pytest.raises(NoScriptError):
        r.evalsha(script.sha, 1, "n", 1)
    assert script(keys=["n"], args=[2]) == 7    # NOSCRIPT, then SCRIPT LOAD and EVALSHA again
    assert r.script_exists(script.sha) == [True]
    assert r.get("n") == b(r, "7")


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "transaction"])
def test_register_script_in_a_pipeline(r, transaction):
    """A pipeline loads its scripts first (SCRIPT EXISTS, SCRIPT LOAD) then sends EVALSHA."""
    script = r.register_script(INCRBY)
    for _ in range(2):   # the second time after a flush
        with r.pipeline(transaction=transaction) as pipe:
            script(keys=["n"], args=[1], client=pipe)
            script(keys=["n"], args=[10], client=pipe)
            pipe.get("n")
            first = int(r.get("n") or 0)
            assert pipe.execute() == [first + 1, first + 11, b(r, str(first + 11))]
        r.script_flush()


def test_eval_evalsha_and_read_only_variants(r):
    assert r.eval("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", 1, "k", "a") == [b(r, "k"), b(r, "a"), 1, 1]
    sha = r.script_load("return redis.call('get', KEYS[1])")
    assert sha == hashlib.sha1(b"return redis.call('get', KEYS[1])").hexdigest()
    r.set("k", "v")
    assert r.evalsha(sha, 1, "k") == b(r, "v")
    assert r.evalsha_ro(sha, 1, "k") == b(r, "v")
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, "k") == b(r, "v")
    with pytest.raises(ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.eval_ro("return redis.call('set', KEYS[1], 'x')", 1, "k")
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.script_flush("ASYNC") and r.script_flush("SYNC")
    assert r.script_exists(sha) == [False]


def test_script_errors(r):
    with pytest.raises(ResponseError, match=r"^Unknown Redis command called from script script: [0-9a-f]{40}, "
                                            r"on @user_script:1\.$"):
        r.eval("return redis.call('nosuch')", 0)
    with pytest.raises(ResponseError, match="Error compiling script"):
        r.eval("return return", 0)
    with pytest.raises(ResponseError, match="Number of keys can't be greater than number of args"):
        r.eval("return 1", 2, "k")
    with pytest.raises(ResponseError, match="NOTBUSY"):
        r.script_kill()
    r.set("s", "text")
    with pytest.raises(ResponseError, match="^WRONGTYPE"):
        r.eval("return redis.call('lpush', 's', 'x')", 0)
    assert r.ping()


def test_reply_types(r):
    assert r.eval("return {1, 'two', 3.9, false, true}", 0) == [1, b(r, "two"), 3, None, 1]
    assert r.eval("return {ok='fine'}", 0) == b(r, "fine")
    with pytest.raises(ResponseError, match="^MY error$"):
        r.eval("return {err='MY error'}", 0)
    if resp3(r):
        assert r.eval("return {map={a=1}}", 0) == {b(r, "a"): 1}
        assert r.eval("return {double=1.5}", 0) == 1.5
        assert r.eval("redis.setresp(3) return true", 0) is True
    else:
        assert r.eval("return {map={a=1}}", 0) == [b(r, "a"), 1]
        assert r.eval("return {double=1.5}", 0) == b(r, "1.5")
        assert r.eval("redis.setresp(3) return true", 0) == 1


# ----------------------------------------------------------------------------
# Functions


PYLIB = """#!lua name=pylib
redis.register_function('echo_keys', function(keys, args) return {keys[1], args[1]} end)
redis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end,
                        flags={'allow-stale', 'no-writes'}, description='reads'}
redis.register_function('put', function(keys, args) return redis.call('set', keys[1], args[1]) end)
"""
OTHER = "#!lua name=other\nredis.register_function('other_f', function() return 'other' end)"


def functions_of(r, **kwargs):
    """{library name: {function name: (description, flags)}} from function_list."""
    out = {}
    for lib in map(fields, r.function_list(**kwargs)):
        fns = map(fields, lib[b(r, "functions")])
        out[lib[b(r, "library_name")]] = {f[b(r, "name")]: (f[b(r, "description")], f[b(r, "flags")]) for f in fns}
    return out


def test_function_load_and_fcall(r):
    assert r.function_load(PYLIB) == b(r, "pylib")
    with pytest.raises(ResponseError, match="Library 'pylib' already exists"):
        r.function_load(PYLIB)
    assert r.function_load(PYLIB, replace=True) == b(r, "pylib")
    assert r.fcall("echo_keys", 1, "k", "a") == [b(r, "k"), b(r, "a")]
    assert r.fcall("put", 1, "k", "v") == b(r, "OK")
    assert r.fcall_ro("ro", 1, "k") == b(r, "v")
    with pytest.raises(ResponseError, match="Can not execute a script with write flag using \\*_ro command"):
        r.fcall_ro("put", 1, "k", "x")
    with pytest.raises(ResponseError, match="Function not found"):
        r.fcall("nosuch", 0)
    assert r.get("k") == b(r, "v")


def test_function_list(r):
    r.function_load(PYLIB)
    r.function_load(OTHER)
    listed = functions_of(r)
    assert set(listed) == {b(r, "pylib"), b(r, "other")}
    assert listed[b(r, "pylib")] == {
        b(r, "echo_keys"): (None, []),
        b(r, "ro"): (b(r, "reads"), [b(r, "no-writes"), b(r, "allow-stale")]),   # in Redis's order of flags
        b(r, "put"): (None, [])}
    assert set(functions_of(r, library="py*")) == {b(r, "pylib")}
    [lib] = map(fields, r.function_list(library="other", withcode=True))
    assert lib[b(r, "library_code")] == b(r, OTHER)
    assert lib[b(r, "engine")] == b(r, "LUA")


def test_function_stats(r):
    r.function_load(PYLIB)
    stats = fields(r.function_stats())
    assert stats[b(r, "running_script")] is None
    engines = fields(stats[b(r, "engines")])
    assert fields(engines[b(r, "LUA")]) == {b(r, "libraries_count"): 1, b(r, "functions_count"): 3}
    with pytest.raises(ResponseError, match="NOTBUSY"):
        r.function_kill()


def test_function_dump_restore_delete_flush(r):
    r.function_load(PYLIB)
    dump = r.function_dump()
    assert isinstance(dump, bytes)
    assert r.function_delete("pylib")
    with pytest.raises(ResponseError, match="Library not found"):
        r.function_delete("pylib")
    with pytest.raises(ResponseError, match="Function not found"):
        r.fcall("echo_keys", 1, "k", "a")
    assert r.function_restore(dump)
    assert r.fcall("echo_keys", 1, "k", "a") == [b(r, "k"), b(r, "a")]
    with pytest.raises(ResponseError, match="Library pylib already exists"):
        r.function_restore(dump)
    assert r.function_restore(dump, "REPLACE")
    r.function_load(OTHER)
    assert r.function_restore(dump, "FLUSH")
    assert set(functions_of(r)) == {b(r, "pylib")}
    with pytest.raises(ResponseError, match="payload version or checksum are wrong"):
        r.function_restore(dump[:-1])
    assert r.function_flush("SYNC")
    assert functions_of(r) == {}
    assert r.function_restore(dump)
    assert r.function_flush("ASYNC")
    assert r.function_list() == []


# ----------------------------------------------------------------------------
# limits: rate limiters on redis storage

STRATEGIES = [limits.strategies.MovingWindowRateLimiter, limits.strategies.FixedWindowRateLimiter,
              limits.strategies.SlidingWindowCounterRateLimiter]


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def limits_storage(request, lode_module):
    storage = limits.storage.RedisStorage(f"redis://127.0.0.1:{lode_module.port}", protocol=request.param)
    storage.reset()
    yield storage
    storage.reset()


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.__name__)
def test_limits_rate_limiter(limits_storage, strategy):
    limiter = strategy(limits_storage)
    item = limits.parse("3/second")
    key = f"user-{uuid.uuid4().hex}"
    assert [limiter.hit(item, key) for _ in range(4)] == [True, True, True, False]
    assert limiter.test(item, key) is False
    stats = limiter.get_window_stats(item, key)
    assert stats.remaining == 0 and stats.reset_time > time.time() - 1
    assert limiter.hit(item, "someone-else")     # limits are per key
    time.sleep(2.1)                              # both windows (current and previous) have passed
    assert limiter.test(item, key) is True
    assert limiter.get_window_stats(item, key).remaining == 3
    assert limiter.hit(item, key)
    limiter.clear(item, key)
    assert limiter.get_window_stats(item, key).remaining == 3


def test_limits_moving_window_cost_and_counts(limits_storage):
    limiter = limits.strategies.MovingWindowRateLimiter(limits_storage)
    item = limits.parse("10/minute")
    assert limiter.hit(item, "bulk", cost=7)
    assert not limiter.hit(item, "bulk", cost=4)   # 7 + 4 > 10: refused as a whole
    assert limiter.hit(item, "bulk", cost=3)
    assert limiter.get_window_stats(item, "bulk").remaining == 0
    assert not limiter.hit(item, "bulk")


def test_limits_storage_reset_clears_every_key(limits_storage, lode_module):
    limiter = limits.strategies.FixedWindowRateLimiter(limits_storage)
    item = limits.parse("5/hour")
    for key in ("a", "b", "c"):
        assert limiter.hit(item, key)
    with redis.Redis(port=lode_module.port) as c:
        c.set("unrelated", "kept")
        assert len(c.keys("LIMITS:*")) == 3
        assert limits_storage.reset() == 3             # clear_keys.lua: KEYS then DEL in the script
        assert c.keys("LIMITS:*") == [] and c.get("unrelated") == b"kept"


# ----------------------------------------------------------------------------
# Dramatiq: a RedisBroker round trip with an in-process Worker


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def broker(request, lode_module):
    with redis.Redis(port=lode_module.port) as c:
        c.flushall()
    broker = RedisBroker(host="127.0.0.1", port=lode_module.port, protocol=request.param,
                         namespace=f"dramatiq-{uuid.uuid4().hex[:8]}")
    yield broker
    broker.close()


def run_worker(broker, queue):
    """Runs a Worker until `queue` is empty and its messages are all processed."""
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        broker.join(queue, timeout=30000)
        worker.join()
    finally:
        worker.stop()


def test_dramatiq_round_trip(broker, lode_module):
    results = redis.Redis(port=lode_module.port)
    queue = "lode_q"

    @dramatiq.actor(broker=broker, queue_name=queue, max_retries=0)
    def add(x, y):
        results.rpush("sums", x + y)

    messages = [add.send(i, 100) for i in range(5)]
    assert broker.do_qsize(queue) == 5            # the dispatch script's qsize
    run_worker(broker, queue)
    assert sorted(int(x) for x in results.lrange("sums", 0, -1)) == [100, 101, 102, 103, 104]
    assert broker.do_qsize(queue) == 0
    assert len({m.message_id for m in messages}) == 5
    results.close()


def test_dramatiq_failed_message_is_dead_lettered(broker, lode_module):
    queue = "lode_fail"

    @dramatiq.actor(broker=broker, queue_name=queue, max_retries=0)
    def fail():
        raise RuntimeError("this actor always fails")

    message = fail.send()
    run_worker(broker, queue)
    with redis.Redis(port=lode_module.port) as c:
        # The broker's own id for the message, in the dead-letter set the script fills.
        redis_id = message.options["redis_message_id"]
        assert c.zrange(f"{broker.namespace}:{queue}.XQ", 0, -1) == [redis_id.encode()]
        assert c.hexists(f"{broker.namespace}:{queue}.XQ.msgs", redis_id)
        assert c.hlen(f"{broker.namespace}:{queue}.msgs") == 0
