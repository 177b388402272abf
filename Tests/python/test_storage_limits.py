"""Storage limits and cache statistics.

- map full: the LMDB map (--lmdb-map-size) fills up; writes then fail with one
  clean `-OOM ...` line, nothing acknowledged is lost, reads go on, and space
  freed by deletes can be written again;
- disk full: the filesystem under --dir fills up (a small tmpfs, so root is
  needed; skipped otherwise); writes fail with `-MISCONF ...`, nothing
  acknowledged is lost, the server stops cleanly and restarts on the full disk;
- INFO's cache and keyspace counters, OBJECT FREQ / IDLETIME, MEMORY USAGE and
  the cache-eviction-policy option.
"""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import harness
from harness import Err, poll

lode_only = pytest.mark.skipif(harness.TESTING_REDIS, reason="Lode-specific: LMDB map, hot cache")

VALUE_LEN = 1024
MAX_WRITES = 200_000          # far more than 16 MB of 1 KB values: the loop must end on an error
OOM_PREFIX = b"-OOM "         # Lode: -OOM command not allowed: the database reached lmdb-map-size; ...
MISCONF_PREFIX = b"-MISCONF "  # Lode: -MISCONF Lode cannot write to disk (No space left on device); ...


def key(i, prefix="key"):
    return b"%s:%06d" % (prefix.encode(), i)


def val(i):
    v = (b"%06d" % i) * 170 + b"end!"
    assert len(v) == VALUE_LEN
    return v


def assert_one_error_line(raw, prefix, what):
    """`raw` is exactly one RESP error line starting with `prefix`."""
    assert raw.startswith(prefix), f"{what}: expected an error starting with {prefix!r}, got {raw!r}"
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == 1 and b"\n" not in raw[:-1], \
        f"{what}: not one clean error line: {raw!r}"


def fill_until_error(c, prefix="key"):
    """SETs unique keys with 1 KB values one at a time until a reply is not +OK.
    Returns (acknowledged indexes, index of the failed write, its raw reply)."""
    acked = []
    for i in range(MAX_WRITES):
        raw = c.call_raw("SET", key(i, prefix), val(i))
        if raw != b"+OK\r\n":
            return acked, i, raw
        acked.append(i)
    raise AssertionError(f"{MAX_WRITES} writes of {VALUE_LEN} bytes all acknowledged: the limit never hit")


def check_values(c, expected, what):
    """`expected` maps key -> value (None = must not exist); GETs them in pipelines."""
    items = list(expected.items())
    for start in range(0, len(items), 1000):
        chunk = items[start:start + 1000]
        replies = c.pipeline([("GET", k) for k, _ in chunk])
        wrong = [(k, v, r) for (k, v), r in zip(chunk, replies) if r != v]
        assert not wrong, (f"{what}: {len(wrong)} wrong values, first: key {wrong[0][0]!r} expected "
                           f"{(wrong[0][1] or b'')[:30]!r}..., got {(wrong[0][2] or b'')[:80]!r}")


def log_tail(srv, n=3000):
    try:
        return srv.log_text()[-n:]
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- map full


@lode_only
def test_map_full_answers_oom_and_keeps_acknowledged_writes():
    srv = harness.lode_server(["--lmdb-map-size", "16mb"]).start()
    try:
        c = srv.client()
        acked, failed, raw = fill_until_error(c)
        assert len(acked) > 1000, f"only {len(acked)} writes fit in a 16 MB map"
        assert_one_error_line(raw, OOM_PREFIX, f"SET {key(failed)!r} on a full map")
        assert b"lmdb-map-size" in raw, raw
        # The connection is in step and the server up.
        assert c.call_raw("PING") == b"+PONG\r\n"

        expected = {key(i): val(i) for i in acked}
        expected[key(failed)] = None  # "the write was not applied"

        # A pipelined burst of new keys: each reply is +OK or the same clean
        # error; what was acknowledged is there, what was refused is not.
        burst = range(failed + 1, failed + 33)
        replies = c.pipeline([("SET", key(i), val(i)) for i in burst])
        for i, r in zip(burst, replies):
            if r == b"OK":
                expected[key(i)] = val(i)
            else:
                assert isinstance(r, Err) and r.startswith(OOM_PREFIX[1:]), f"SET {key(i)!r}: {r!r}"
                expected[key(i)] = None

        # Reads go on.
        check_values(c, expected, "after the map filled")
        stored = sum(v is not None for v in expected.values())
        assert c.call("DBSIZE") == stored

        # Deleting keys one at a time frees pages that new writes reuse. (A DEL
        # may itself need a fresh page on a full map: it answers :1 or the
        # clean OOM error, and its effect must match its answer.)
        for i in acked[:1000]:
            r = c.call_raw("DEL", key(i))
            if r == b":1\r\n":
                expected[key(i)] = None
            else:
                assert_one_error_line(r, OOM_PREFIX, f"DEL {key(i)!r} on a full map")
        deleted = sum(1 for i in acked[:1000] if expected[key(i)] is None)
        assert deleted >= 900, f"only {deleted} of 1000 single-key DELs succeeded on a full map"
        time.sleep(1.2)  # let a checkpoint pass, so no old snapshot holds the freed pages
        for i in range(100):
            r = c.call_raw("SET", key(i, "new"), val(i))
            assert r == b"+OK\r\n", (f"SET {key(i, 'new')!r} after {deleted} DELs freed ~{deleted} KB: {r!r}\n"
                                     f"{log_tail(srv)}")
            expected[key(i, "new")] = val(i)
        check_values(c, expected, "after deletes and new writes")
        c.close()

        code = srv.stop()
        assert code == 0, f"SIGTERM exit code {code}\n{log_tail(srv)}"
        srv.start()
        with srv.client() as c:
            assert c.call_raw("PING") == b"+PONG\r\n"
            check_values(c, expected, "after restart")
            assert c.call("DBSIZE") == sum(v is not None for v in expected.values())
            # Still full: a new large write fails the same clean way, or fits.
            r = c.call_raw("SET", b"after-restart", b"x" * VALUE_LEN * 64)
            assert r == b"+OK\r\n" or r.startswith(OOM_PREFIX), r
    finally:
        srv.cleanup()


# --------------------------------------------------------------------------- disk full


TMPFS_SIZE = "24m"
# Deleted at the end to give the server room again. Room for a few windows of
# writes: a window of random 1 KB SETs copies a leaf page per key, and the two
# snapshots pinned for power-loss safety keep the last two windows' old pages from
# reuse, so 200 writes can take ~3 MB besides their log records (2 MB was flaky).
BALLAST_BYTES = 6 << 20


@pytest.fixture
def small_tmpfs():
    """A 24 MB tmpfs mounted on a fresh directory; unmounted in all cases."""
    if harness.TESTING_REDIS:
        pytest.skip("Lode-specific")
    mnt = tempfile.mkdtemp(prefix="lode-tmpfs-")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", mnt],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        os.rmdir(mnt)
        pytest.skip(f"cannot mount a tmpfs (needs root/CAP_SYS_ADMIN): "
                    f"{done.stdout.decode(errors='replace').strip().splitlines()[0]}")
    try:
        yield mnt
    finally:
        res = subprocess.run(["umount", mnt], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if res.returncode != 0:  # a process still holding a file: lazy unmount
            subprocess.run(["umount", "-l", mnt])
        os.rmdir(mnt)


@pytest.mark.parametrize("appendfsync", ["everysec", "always"])
def test_disk_full_answers_misconf_and_keeps_acknowledged_writes(small_tmpfs, appendfsync):
    datadir = os.path.join(small_tmpfs, "data")
    ballast = os.path.join(small_tmpfs, "ballast")
    with open(ballast, "wb") as f:
        f.write(b"\0" * BALLAST_BYTES)
    # The server's log and workdir stay on the real disk; only --dir (given
    # after the harness's own --dir, so it wins) is on the tmpfs. The map is
    # far larger than the filesystem, so the disk fills first.
    # Windows of at most 1 MB of log: what only the log holds when the disk fills
    # (one window; later writes are refused) must fit in LMDB once room is made.
    srv = harness.lode_server(["--lmdb-map-size", "1gb", "--appendfsync", appendfsync, "--dir", datadir,
                               "--commit-window-bytes", "1mb"])
    try:
        srv.start()
        c = srv.client()
        acked, failed, raw = fill_until_error(c)
        used = shutil.disk_usage(small_tmpfs)
        assert_one_error_line(raw, MISCONF_PREFIX,
                              f"SET {key(failed)!r} on a full disk (appendfsync {appendfsync}, "
                              f"{len(acked)} writes acknowledged before; fs {used.free} bytes free)\n"
                              f"server log:\n{log_tail(srv)}")
        assert len(acked) > 1000, f"only {len(acked)} writes fit"
        expected = {key(i): val(i) for i in acked}
        expected[key(failed)] = None

        # Reads go on: old keys, and every acknowledged one.
        assert c.call("GET", key(0)) == val(0)
        assert c.call_raw("PING") == b"+PONG\r\n"
        check_values(c, expected, "after the disk filled")

        # A DEL or an overwrite may need new pages: it answers OK or a clean
        # error, and what it did must match what it said.
        r = c.call_raw("DEL", key(1))
        if r == b":1\r\n":
            expected[key(1)] = None
        else:
            assert r.startswith(b"-") and r.count(b"\r\n") == 1, f"DEL on a full disk: {r!r}"
        r = c.call_raw("SET", key(2), b"overwritten")
        if r == b"+OK\r\n":
            expected[key(2)] = b"overwritten"
        else:
            assert r.startswith(b"-") and r.count(b"\r\n") == 1, f"overwrite on a full disk: {r!r}"
        check_values(c, expected, "after DEL/overwrite on a full disk")
        c.close()

        code = srv.stop()
        assert code == 0, f"SIGTERM on a full disk: exit code {code}\n{log_tail(srv)}"

        # Restart on the still-full filesystem: everything acknowledged is there.
        srv.start()
        with srv.client() as c:
            check_values(c, expected, "after restart on the full disk")
            assert c.call("DBSIZE") == sum(v is not None for v in expected.values())
            # Room again: writes are accepted and kept.
            os.unlink(ballast)
            # Writes wait for the next window commit to succeed (retried with each
            # window, as Redis retries a failed AOF write once a second).
            assert poll(lambda: c.call_raw("SET", b"room:first", b"1") == b"+OK\r\n", timeout=5), log_tail(srv)
            expected[b"room:first"] = b"1"
            for i in range(200):
                r = c.call_raw("SET", key(i, "room"), val(i))
                assert r == b"+OK\r\n", f"SET {key(i, 'room')!r} after freeing {BALLAST_BYTES} bytes: {r!r}\n{log_tail(srv)}"
                expected[key(i, "room")] = val(i)
            check_values(c, expected, "after freeing space")
        assert srv.stop() == 0
        srv.start()
        with srv.client() as c:
            check_values(c, expected, "after the last restart")
    finally:
        srv.cleanup()  # stops the server before the fixture unmounts


# --------------------------------------------------------------------------- cache statistics

HOT_KEYS, HOT_ROUNDS, ALL_KEYS, MISSING = 10, 200, 20_000, 500


def info(c, section):
    text = c.call("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def cache_val(i):
    return b"v%07d" % i * 25  # 200 bytes


@lode_only
def test_cache_statistics_move_as_expected():
    srv = harness.lode_server(["--cache-max-memory", "2mb"]).start()
    try:
        c = srv.client()
        for start in range(0, ALL_KEYS, 1000):
            replies = c.pipeline([("SET", "key:%05d" % i, cache_val(i)) for i in range(start, start + 1000)])
            assert all(r == b"OK" for r in replies)
        s0 = info(c, "stats")

        # A few hot keys, many times.
        for _ in range(HOT_ROUNDS):
            assert c.pipeline([("GET", "key:%05d" % i) for i in range(HOT_KEYS)]) == \
                [cache_val(i) for i in range(HOT_KEYS)]
        s1 = info(c, "stats")
        # Each hot key misses the cache at most once, then stays in it.
        hot_hits = int(s1["cache_hits"]) - int(s0["cache_hits"])
        assert hot_hits >= HOT_KEYS * HOT_ROUNDS - HOT_KEYS, s1

        # Every key once (8 MB of entries through a 2 MB cache), then missing keys.
        for start in range(0, ALL_KEYS, 1000):
            assert c.pipeline([("GET", "key:%05d" % i) for i in range(start, start + 1000)]) == \
                [cache_val(i) for i in range(start, start + 1000)]
        assert c.pipeline([("GET", "missing:%d" % i) for i in range(MISSING)]) == [None] * MISSING
        s2, m2 = info(c, "stats"), info(c, "memory")

        hits = HOT_KEYS * HOT_ROUNDS + ALL_KEYS
        assert int(s2["keyspace_hits"]) - int(s0["keyspace_hits"]) == hits, s2
        assert int(s2["keyspace_misses"]) - int(s0["keyspace_misses"]) == MISSING, s2
        # Every GET looks in the cache exactly once.
        lookups = (int(s2["cache_hits"]) + int(s2["cache_misses"])
                   - int(s0["cache_hits"]) - int(s0["cache_misses"]))
        assert lookups == hits + MISSING, s2
        assert int(s2["cache_evictions"]) > 0, s2
        ratio = int(s2["cache_hits"]) / (int(s2["cache_hits"]) + int(s2["cache_misses"]))
        assert abs(float(s2["cache_hit_ratio"]) - ratio) <= 0.0005 + 1e-9, (s2["cache_hit_ratio"], ratio)
        assert int(m2["cache_max_bytes"]) == 2 << 20, m2
        assert 0 < int(m2["cache_used_bytes"]) <= int(m2["cache_max_bytes"]), m2
        assert m2["cache_eviction_policy"] == "s3fifo", m2

        hot = "key:00001"
        freq = c.call("OBJECT", "FREQ", hot)
        assert isinstance(freq, int) and freq > 0, freq
        assert c.call("OBJECT", "FREQ", "missing:0") is None
        usage = c.call("MEMORY", "USAGE", hot)
        assert isinstance(usage, int) and usage >= len(hot) + len(cache_val(1)), usage
        assert isinstance(c.call("OBJECT", "IDLETIME", hot), int)
        assert c.call("OBJECT", "IDLETIME", "missing:0") is None

        # Switching the policy at run time.
        assert c.call("CONFIG", "GET", "cache-eviction-policy") == [b"cache-eviction-policy", b"s3fifo"]
        assert c.call("CONFIG", "SET", "cache-eviction-policy", "lru") == b"OK"
        assert c.call("CONFIG", "GET", "cache-eviction-policy") == [b"cache-eviction-policy", b"lru"]
        assert info(c, "memory")["cache_eviction_policy"] == "lru"
        assert isinstance(c.call("OBJECT", "FREQ", hot), Err)
        bad = c.call("CONFIG", "SET", "cache-eviction-policy", "random")
        assert isinstance(bad, Err), bad
        assert c.call("CONFIG", "GET", "cache-eviction-policy") == [b"cache-eviction-policy", b"lru"]
        for i in (0, 1, 9999, 19999):
            assert c.call("GET", "key:%05d" % i) == cache_val(i)
        c.close()
    finally:
        srv.cleanup()


@lode_only
def test_lru_policy_has_no_frequency():
    srv = harness.lode_server(["--cache-max-memory", "2mb", "--cache-eviction-policy", "lru"]).start()
    try:
        with srv.client() as c:
            assert c.call("SET", "k", "v") == b"OK"
            assert c.call("GET", "k") == b"v"
            assert c.call("CONFIG", "GET", "cache-eviction-policy") == [b"cache-eviction-policy", b"lru"]
            r = c.call_raw("OBJECT", "FREQ", "k")
            assert_one_error_line(r, b"-ERR ", "OBJECT FREQ with lru")
            assert isinstance(c.call("OBJECT", "IDLETIME", "k"), int)
            usage = c.call("MEMORY", "USAGE", "k")
            assert isinstance(usage, int) and usage >= 2, usage
    finally:
        srv.cleanup()


@pytest.mark.parametrize("policy", ["s3fifo", "lru"])
def test_object_idletime_counts_seconds_since_last_access(policy):
    """OBJECT IDLETIME is the time since the key was last read or written, as in
    Redis (whose LRU clock has a 1 s resolution). Runs against Redis too."""
    args = [] if harness.TESTING_REDIS else ["--cache-eviction-policy", policy]
    srv = harness.lode_server(args).start()
    try:
        with srv.client() as c:
            assert c.call("SET", "written", "v") == b"OK"
            assert c.call("SET", "read", "v") == b"OK"
            assert c.call("GET", "read") == b"v"
            # Just written / just read: idle for (about) no time.
            assert c.call("OBJECT", "IDLETIME", "written") <= 1
            assert c.call("OBJECT", "IDLETIME", "read") <= 1
            time.sleep(2.5)
            # OBJECT itself does not count as an access, so both keep ageing.
            for k in ("written", "read"):
                idle = c.call("OBJECT", "IDLETIME", k)
                assert 2 <= idle <= 4, f"OBJECT IDLETIME {k} after 2.5 s without access: {idle}"
            assert c.call("GET", "read") == b"v"
            assert c.call("OBJECT", "IDLETIME", "read") <= 1
    finally:
        srv.cleanup()
