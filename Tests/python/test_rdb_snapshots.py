"""SAVE, BGSAVE, LASTSAVE, the `save` schedule and SHUTDOWN SAVE: Lode writes `dir`/`dbfilename`
in Redis's RDB format, and a real redis-server 7 started on that file holds the same data —
every type, TTLs, several databases, FUNCTION libraries, values above the chunking threshold.
A BGSAVE taken while writers run is a snapshot: keys written together in one MULTI agree in
the file. (Lode only: the file is compared with the live data through a real Redis.)"""
import os
import shutil
import tempfile
import threading
import time

import pytest

import harness
from value_reads import dataset

LIB = "#!lua name=snaplib\nredis.register_function('snapf', function() return 'snap' end)"


def fill(c):
    c.call("FLUSHALL")
    c.call("SET", "s", "hello")
    c.call("SET", "int", "12345")
    c.call("SET", "big", os.urandom(300_000))
    c.call("SET", "ttl", "soon", "PX", "500000")
    c.call("RPUSH", "l", *[str(i) for i in range(500)])
    c.call("HSET", "h", *[x for i in range(700) for x in (f"f{i}", "v" * (i % 80))])
    c.call("HSET", "hsmall", "a", "1")
    c.call("SADD", "ints", 1, 2, 3)
    c.call("SADD", "set", *[f"m{i}" for i in range(600)])
    c.call("ZADD", "z", *[x for i in range(200) for x in (str(i / 3), f"z{i}")])
    c.call("XADD", "x", "1-1", "f", "v")
    c.call("XADD", "x", "2-1", "f", "w")
    c.call("XGROUP", "CREATE", "x", "g", "0")
    c.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "x", ">")
    c.call("SELECT", 5)
    c.call("SET", "in5", "five")
    c.call("SELECT", 0)
    c.call("FUNCTION", "LOAD", "REPLACE", LIB)


def data_dir(c):
    return c.call("CONFIG", "GET", "dir")[1].decode()


def load_in_redis(path):
    """Starts a real redis-server on a copy of the RDB file `path`; returns it."""
    d = tempfile.mkdtemp(prefix="rdb-load-")
    shutil.copy(path, os.path.join(d, "dump.rdb"))
    srv = harness.redis_server(["--dir", d, "--dbfilename", "dump.rdb"]).start()
    srv.extra_dir = d
    return srv


def compare_with_redis(lode_client, path):
    srv = load_in_redis(path)
    try:
        with srv.client() as rc:
            want = dataset(lode_client)
            got = dataset(rc)
            assert got == want, sorted(set(got) ^ set(want))[:10]
            assert rc.call("FCALL", "snapf", 0) == b"snap"
    finally:
        srv.cleanup()
        shutil.rmtree(srv.extra_dir, ignore_errors=True)


def wait_for_bgsave(c, saves_before, timeout=20):
    assert harness.poll(lambda: int(info(c)["rdb_saves"]) > saves_before and info(c)["rdb_bgsave_in_progress"] == "0",
                        timeout=timeout), info(c)


def info(c):
    text = c.call("INFO", "persistence").decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def test_bgsave_writes_a_file_redis_loads(lode):
    with lode.client() as c:
        fill(c)
        before = int(info(c)["rdb_saves"])
        assert c.call("BGSAVE") == b"Background saving started"
        wait_for_bgsave(c, before)
        assert info(c)["rdb_last_bgsave_status"] == "ok"
        assert info(c)["rdb_changes_since_last_save"] == "0"
        compare_with_redis(c, os.path.join(data_dir(c), "dump.rdb"))


@pytest.fixture
def lode_other_file():
    srv = harness.lode_server(["--dbfilename", "other.rdb"]).start()
    yield srv
    srv.cleanup()


def test_save_lastsave_and_dbfilename(lode_other_file):
    with lode_other_file.client() as c:
        fill(c)
        first = c.call("LASTSAVE")
        time.sleep(1.1)
        assert c.call("SAVE") == b"OK"
        assert c.call("LASTSAVE") > first
        path = os.path.join(data_dir(c), "other.rdb")
        assert os.path.exists(path)
        assert not any(n.startswith("temp-") for n in os.listdir(data_dir(c)))
        compare_with_redis(c, path)
        c.call("SET", "more", "1")
        assert int(info(c)["rdb_changes_since_last_save"]) > 0
        assert c.call("BGSAVE", "BOGUS") == harness.Err(b"ERR syntax error")


def test_bgsave_in_multi_is_scheduled_and_runs(lode):
    with lode.client() as c:
        c.call("SET", "k", "v")
        before = int(info(c)["rdb_saves"])
        c.call("MULTI")
        c.call("SET", "k2", "v2")
        c.call("BGSAVE")
        assert c.call("EXEC") == [b"OK", b"Background saving scheduled"]
        wait_for_bgsave(c, before)


def test_save_points_schedule_a_bgsave(lode):
    with lode.client() as c:
        before = int(info(c)["rdb_saves"])
        assert c.call("CONFIG", "SET", "save", "1 3") == b"OK"
        for i in range(5):
            c.call("SET", f"k{i}", i)
        wait_for_bgsave(c, before, timeout=10)
        c.call("CONFIG", "SET", "save", "")


def test_bgsave_while_writers_run_is_a_snapshot(lode):
    """Writers change pairs of keys together in MULTI while BGSAVEs run: in every file
    each pair agrees (the snapshot is one LMDB read transaction)."""
    stop = threading.Event()

    def writer(n):
        with lode.client() as w:
            i = 0
            while not stop.is_set():
                i += 1
                w.pipeline([("MULTI",), ("SET", f"a{n}:{i % 50}", i), ("SET", f"b{n}:{i % 50}", i), ("EXEC",)])
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        with lode.client() as c:
            for _ in range(3):
                before = int(info(c)["rdb_saves"])
                assert c.call("BGSAVE") == b"Background saving started"
                err = c.call("BGSAVE")
                assert err in (harness.Err(b"ERR Background save already in progress"), b"Background saving started")
                wait_for_bgsave(c, before)
                srv = load_in_redis(os.path.join(data_dir(c), "dump.rdb"))
                try:
                    with srv.client() as rc:
                        keys = rc.call("KEYS", "a*")
                        assert keys
                        for k in keys:
                            assert rc.call("GET", k) == rc.call("GET", b"b" + k[1:]), k
                finally:
                    srv.cleanup()
                    shutil.rmtree(srv.extra_dir, ignore_errors=True)
    finally:
        stop.set()
        for t in threads:
            t.join()


def test_shutdown_save_and_nosave(lode):
    with lode.client() as c:
        c.call("SET", "k", "v")
        path = os.path.join(data_dir(c), "dump.rdb")
        with pytest.raises(harness.ConnectionClosed):
            c.call("SHUTDOWN", "SAVE")
    lode.wait_exit()
    assert os.path.exists(path)
    os.unlink(path)
    lode.start()
    with lode.client() as c:
        assert c.call("GET", "k") == b"v"
        with pytest.raises(harness.ConnectionClosed):
            c.call("SHUTDOWN", "NOSAVE")
    lode.wait_exit()
    assert not os.path.exists(path)
