"""A disk that cannot sync: if the commit log or LMDB cannot be synced, held
replies become errors, further writes get MISCONF errors naming the cause (as
Redis refuses writes after a failed AOF fsync) until a sync succeeds, and nothing
acknowledged is lost.

The failure is injected with tools/crashsim/shim.c: while a flag file exists,
fsync/fdatasync of the data directory's files matching a pattern return EIO
without syncing. The server retries once a second, so removing the flag must
let writes through again within a couple of seconds.

The last tests replay the same failures through the power-loss simulator
(crashsim.py) with Linux's semantics for a failed writeback: the kernel marks the
pages clean after reporting the error once, so what the failed sync should have
written may never reach the disk even when a later fsync succeeds.
"""
import fnmatch
import os
import random
import shutil
import tempfile
import time

import pytest

import crashsim
import harness
from harness import Err, Simple, info_dict, poll

if harness.TESTING_REDIS:
    pytest.skip("the injected fsync failure targets Lode's data files", allow_module_level=True)

OK = Simple(b"OK")
RECOVERY_S = 4.0  # retries run once a second


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="lode-fsync-fail-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start_failing(tmp, policy, match, trace=None, window="20"):
    flag = os.path.join(tmp, "fail-fsync")
    srv = harness.lode_server(["--appendfsync", policy, "--commit-window-ms", window],
                              workdir=os.path.join(tmp, "srv"))
    os.makedirs(srv.dir, exist_ok=True)
    crashsim.start_with_shim(srv, trace=trace, fail_flag=flag, fail_match=match)
    return srv, flag


def persistence(c):
    return info_dict(c.call("INFO", "persistence"))


def write_status(c):
    return persistence(c).get("aof_last_write_status")


def set_until(c, key_prefix, want, timeout):
    """SETs fresh keys until a reply satisfies `want`; returns (replies by key, last)."""
    replies, deadline, i = {}, time.monotonic() + timeout, 0
    while True:
        key = f"{key_prefix}{i}"
        r = c.call("SET", key, f"v-{key}")
        replies[key] = r
        if want(r) or time.monotonic() > deadline:
            return replies, r
        i += 1
        time.sleep(0.02)


def check_after_restart(srv, acked, refused):
    """kill -9 and restart without the shim: every acknowledged write is there,
    writes refused before they ran are not, and the server answers."""
    srv.kill9()
    srv.start()
    with srv.client() as c:
        for k, v in acked.items():
            assert c.call("GET", k) == v, k
        for k in refused:
            assert c.call("EXISTS", k) == 0, k
        assert c.call("SET", "after-restart", "1") == OK
        assert write_status(c) == "ok"


def fail_and_check(flag, c, expect_cause, held_fails=False):
    """Acknowledged writes, then a failure: writes get MISCONF naming the cause,
    reads work, INFO says err; with `held_fails` (always, log), the very first write
    after the failure began must already get it (its reply waited for the failing
    sync). Returns (acked {key: value}, keys refused before running)."""
    acked = {}
    for i in range(50):
        assert c.call("SET", f"before{i}", f"b{i}") == OK
        acked[f"before{i}"] = b"b%d" % i
    assert write_status(c) == "ok"
    open(flag, "w").close()
    # The first writes may still succeed (their sync is not the failing kind, or it
    # already ran); within a few seconds writes must be refused.
    replies, last = set_until(c, "during", lambda r: isinstance(r, Err), timeout=RECOVERY_S)
    assert isinstance(last, Err) and last.startswith(b"MISCONF"), last
    if held_fails:
        assert len(replies) == 1, f"acknowledged although its sync failed: {replies}"
    for k, r in replies.items():
        if r == OK:
            acked[k] = b"v-" + k.encode()
    text = bytes(last).decode()
    assert expect_cause(text), text
    # Refused now, before running: not applied.
    refused = []
    for i in range(5):
        r = c.call("SET", f"refused{i}", "x")
        assert isinstance(r, Err) and r.startswith(b"MISCONF"), r
        refused.append(f"refused{i}")
    for cmd in (("RPUSH", "refused-list", "x"), ("HSET", "refused-hash", "f", "v"), ("DEL", "before0")):
        r = c.call(*cmd)
        assert isinstance(r, Err) and r.startswith(b"MISCONF"), (cmd, r)
    refused += ["refused-list", "refused-hash"]
    # Reads still work.
    assert c.call("GET", "before1") == b"b1"
    assert c.call("DBSIZE") >= 50
    assert write_status(c) == "err"
    return acked, refused


def recover_and_check(flag, c, acked):
    """The disk works again: within a few seconds writes succeed, INFO says ok."""
    os.unlink(flag)
    _, last = set_until(c, "recovered", lambda r: r == OK, timeout=RECOVERY_S)
    assert last == OK, f"writes still refused {RECOVERY_S} s after the disk recovered: {last!r}"
    assert poll(lambda: write_status(c) == "ok", timeout=RECOVERY_S)
    for i in range(50):
        assert c.call("SET", f"after{i}", f"a{i}") == OK
        acked[f"after{i}"] = b"a%d" % i


def log_cause(text):
    return "fdatasync of the commit log" in text and "Input/output error" in text


def test_commit_log_fsync_failure_always(tmp):
    """appendfsync always, the log's fdatasync fails: the held reply becomes
    MISCONF naming the failed fdatasync, later writes are refused, reads work,
    and nothing acknowledged is lost to a kill -9."""
    srv, flag = start_failing(tmp, "always", "commit-*.log")
    try:
        with srv.client() as c:
            acked, refused = fail_and_check(flag, c, log_cause, held_fails=True)
        check_after_restart(srv, acked, refused)
    finally:
        srv.cleanup()


def test_commit_log_fsync_failure_everysec(tmp):
    """appendfsync everysec: writes were acknowledged before the failing sync ran;
    once it fails, writes are refused, and nothing is lost to a kill -9."""
    srv, flag = start_failing(tmp, "everysec", "commit-*.log")
    try:
        with srv.client() as c:
            acked, refused = fail_and_check(flag, c, log_cause)
        check_after_restart(srv, acked, refused)
    finally:
        srv.cleanup()


@pytest.mark.parametrize("match", ["data.mdb", "synced.lode"])
def test_lmdb_sync_failure(tmp, match):
    """The checkpoint's sync of data.mdb (or of synced.lode, its record) fails: the
    log still makes writes durable, but LMDB cannot be trusted on disk, so writes are
    refused (MISCONF); nothing acknowledged is lost to a kill -9."""
    srv, flag = start_failing(tmp, "always", match)
    try:
        with srv.client() as c:
            acked, refused = fail_and_check(flag, c, lambda t: "Input/output error" in t)
        check_after_restart(srv, acked, refused)
    finally:
        srv.cleanup()


@pytest.mark.parametrize("policy,match", [("always", "commit-*.log"), ("everysec", "commit-*.log"),
                                          ("always", "synced.lode")])
def test_writes_resume_once_syncs_work(tmp, policy, match):
    """Remove the failure: the once-a-second retry syncs (and, for the log, a window
    checkpoint holds the records whose sync failed), and writes are accepted again
    (Redis: once the AOF fsync works again); nothing acknowledged is lost."""
    srv, flag = start_failing(tmp, policy, match)
    try:
        with srv.client() as c:
            acked, refused = fail_and_check(flag, c, lambda t: "Input/output error" in t)
            recover_and_check(flag, c, acked)
        check_after_restart(srv, acked, refused)
    finally:
        srv.cleanup()


@pytest.mark.parametrize("stop", ["kill9", "shutdown"])
def test_lmdb_sync_failure_needs_a_restart(tmp, stop):
    """A failed mdb_env_sync is not retried: a later sync could succeed without the
    pages the failed writeback dropped (fsyncgate). Writes stay refused after the
    disk recovers, naming the restart; a restart (after kill -9 or SHUTDOWN, which
    must not commit over the synced meta page) has every acknowledged write."""
    srv, flag = start_failing(tmp, "always", "data.mdb")
    try:
        with srv.client() as c:
            acked, refused = fail_and_check(flag, c, lambda t: "Input/output error" in t)
            os.unlink(flag)
            time.sleep(2.5)  # retries, were there any, run once a second
            r = c.call("SET", "still-refused", "x")
            assert isinstance(r, Err) and b"restart" in bytes(r), r
            refused.append("still-refused")
            if stop == "shutdown":
                c.send_raw(harness.encode_command("SHUTDOWN"))
        if stop == "shutdown":
            assert srv.wait_exit(timeout=10) == 0
        check_after_restart(srv, acked, refused)
    finally:
        srv.cleanup()


def test_lmdb_sync_failure_names_its_cause(tmp):
    """The MISCONF error says what failed: LMDB's sync, not the commit log."""
    srv, flag = start_failing(tmp, "always", "data.mdb")
    try:
        with srv.client() as c:
            assert c.call("SET", "k", "v") == OK
            open(flag, "w").close()
            _, last = set_until(c, "during", lambda r: isinstance(r, Err), timeout=RECOVERY_S)
            text = bytes(last).decode()
            assert text.startswith("MISCONF"), text
            assert "commit log" not in text, text
            assert "mdb_env_sync of data.mdb" in text and "Input/output error" in text, text
    finally:
        srv.cleanup()


# ------------------------------------------------------------------ with power loss


def traced_failure_run(tmp, match):
    """A traced server under always whose `match` files fail to sync for a while;
    returns (trace, server args, {key: (value, ack ns)} of acknowledged SETs, index of
    the first op after the failure ended and a sync of `match` succeeded again, or of
    the failed sync when none succeeded)."""
    trace_path = os.path.join(tmp, "trace.bin")
    srv, flag = start_failing(tmp, "always", match, trace=trace_path)
    acked = {}
    seq = [0]

    def burst(n, pause=0.005):
        for _ in range(n):
            k = f"k{seq[0]}"
            seq[0] += 1
            v = b"v%d-" % seq[0] * 20
            r = c.call("SET", k, v)
            if r == OK:
                acked[k] = (v, time.time_ns())
            time.sleep(pause)

    try:
        with srv.client() as c:
            burst(150)
            open(flag, "w").close()
            replies, last = set_until(c, "during", lambda r: isinstance(r, Err), timeout=RECOVERY_S)
            assert isinstance(last, Err), last
            now = time.time_ns()
            acked.update({k: (b"v-" + k.encode(), now) for k, r in replies.items() if r == OK})
            time.sleep(0.3)
            os.unlink(flag)
            recovered_at = time.time_ns()
            # A retried log sync succeeds within a second or so and writes are accepted
            # again; after a failed LMDB sync they stay refused until a restart.
            time.sleep(2.5)
            burst(100)
        srv.kill9()
    finally:
        srv.cleanup()
    trace = crashsim.Trace(trace_path, drop_after_failed_sync=True)
    syncs = [op for op in trace.ops if op.kind == crashsim.SYNC_END and fnmatch.fnmatch(op.path, match)]
    # From the first sync after the disk recovered that succeeded; when none did (a
    # failed LMDB sync is never retried), from the last good sync before the failure.
    failed = next(k for k, op in enumerate(syncs) if op.res != 0)
    after = next((op.i for op in syncs if op.ts > recovered_at and op.res == 0),
                 syncs[failed - 1].i if failed else syncs[failed].i)
    return trace, ["--appendfsync", "always", "--commit-window-ms", "20"], acked, after


MODES = ["none", "all", None, None]


def report_failures(failures):
    path = os.environ.get("LODE_POWER_LOSS_REPORT")
    if path and failures:
        with open(path, "a") as f:
            f.write("\n".join(failures) + "\n")


def check_acked_states(trace, args, acked, points, tmp, rng):
    """Opens a state per crash point and mode; every SET acknowledged before the
    crash must be there. Returns the failures."""
    failures = []
    for crash, mode in [(p, m) for p in points for m in MODES]:
        files = trace.state(crash, rng, mode)
        want = {k: v for k, (v, t) in acked.items() if t <= trace.ts[crash - 1]}
        workdir = tempfile.mkdtemp(prefix="state-", dir=tmp)
        crashsim.write_state(files, os.path.join(workdir, "data"))
        srv = harness.lode_server(args, workdir=workdir)
        try:
            srv.start(timeout=20)
        except Exception as e:  # noqa: BLE001
            failures.append(f"crash point {crash}: server did not start: {str(e)[:400]}")
            shutil.rmtree(workdir, ignore_errors=True)
            continue
        try:
            with srv.client() as c:
                keys = sorted(want)
                got = c.pipeline([("GET", k) for k in keys]) if keys else []
                missing = [k for k, g in zip(keys, got) if g != want[k]]
                if missing:
                    failures.append(f"crash point {crash}/{len(trace)} ({mode or 'random'}): {len(missing)} of {len(keys)} "
                                    f"acknowledged writes lost, e.g. {missing[:3]}")
        finally:
            srv.kill9()
            shutil.rmtree(workdir, ignore_errors=True)
    return failures


def test_commit_log_fsync_failure_then_power_loss(tmp):
    """The log's sync failed (its pages may be gone for good), then a retry
    succeeded: the window checkpoints put the failed turns in LMDB, so a power cut
    after that loses no acknowledged write."""
    trace, args, acked, after = traced_failure_run(tmp, "commit-*.log")
    rng = random.Random(11)
    # Every point just after the recovered sync, a sample of the later ones (each
    # state costs a server start).
    later = list(range(after + 60, len(trace) + 1))
    points = list(range(after, min(after + 60, len(trace) + 1))) + sorted(rng.sample(later, min(60, len(later))))
    failures = check_acked_states(trace, args, acked, points, tmp, rng)
    print(f"\nlog sync failure + power loss: {len(points) * len(MODES)} states")
    assert not failures, "\n".join(failures[:5])


def test_lmdb_sync_failure_then_power_loss(tmp):
    """LMDB's sync failed (Linux may have dropped the pages for good): the commit is
    never marked synced and its log never emptied, so after a power cut at any later
    point the store opens at the synced commit and replays every acknowledged write."""
    trace, args, acked, after = traced_failure_run(tmp, "data.mdb")
    rng = random.Random(12)
    points = list(range(after, len(trace) + 1))
    failures = check_acked_states(trace, args, acked, points, tmp, rng)
    print(f"\nLMDB sync failure + power loss: {len(points) * len(MODES)} states, {len(failures)} failed")
    report_failures(failures)
    assert not failures, "\n".join(failures[:5])
