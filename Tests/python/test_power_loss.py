"""Power loss: after a simulated power cut at any moment the database opens
intact, every write acknowledged under `appendfsync always` is there, at most
about a second of acknowledged writes is lost under `everysec`, and nothing is
ever corrupt.

A workload runs against a lode-server with tools/crashsim/shim.c preloaded,
which records every write and sync on its data files (and a kill -9 plus a
restart in the middle, so recovery itself is traced too); crashsim.py rebuilds
directory states a power cut could have left at chosen moments (crash points),
each with a chosen subset of the writes that were not yet synced, and every
state is opened by a fresh lode-server and compared with what the client was
told (crashsim.py's docstring has the model).

Crash points: every point around a sync, write or truncate of data.mdb,
synced.lode and the commit logs' truncates (where the checkpoint protocol's
order matters), every point of the first start-up, and random ones. The default
checks a few hundred states; LODE_POWER_LOSS_STATES=N checks N per policy
(LODE_POWER_LOSS_SEED picks other random choices).
"""
import os
import random
import tempfile
import shutil
import signal

import pytest

import crashsim
import harness

if harness.TESTING_REDIS:
    pytest.skip("the crash simulator traces Lode's own data files", allow_module_level=True)

STATES = int(os.environ.get("LODE_POWER_LOSS_STATES", "0"))
SEED = int(os.environ.get("LODE_POWER_LOSS_SEED", "20261203"))
WINDOW = ["--commit-window-ms", "20"]
EVERYSEC_LOSS_BOUND_S = 2.0  # Redis documents "up to 2 s" for everysec; Lode syncs once a second
SHOWN = 5


def first_start_end(trace):
    """The crash points of the very first start-up, before any client write was
    logged: data.mdb is being created and nothing was acknowledged yet."""
    first_marker_sync = next(op.i for op in trace.ops if op.kind == crashsim.SYNC_END and op.path == "synced.lode")
    return first_marker_sync + 1


def choose_points(trace, budget, rng):
    """Crash points after the first start-up: the protocol's sensitive points first
    (sampled down to half the budget), then log sync boundaries and random ones."""
    n, lo = len(trace), first_start_end(trace) + 1
    sensitive = [p for p in trace.interesting_points() if p >= lo]
    if len(sensitive) > budget // 2:
        sensitive = rng.sample(sensitive, budget // 2)
    points = set(sensitive)
    syncs = [p for p in trace.sync_points() if p not in points and p >= lo]
    rng.shuffle(syncs)
    points.update(syncs[: max(0, (budget - len(points)) // 2)])
    while len(points) < min(budget, n - lo + 1):
        points.add(rng.randint(lo, n))
    return sorted(points)


def run_states(trace, workload, args, points, rng, required_for, tmp, loss=None, modes=None):
    """Checks one state per crash point and mode (default: one random pick per point,
    plus the all/none extremes at the last one); returns (states checked, failures)."""
    failures, checked = [], 0
    plan = [(p, mode) for p in points for mode in (modes or [None])]
    if not modes:
        plan += [(len(trace), "all"), (len(trace), "none")]
    for k, (crash, mode) in enumerate(plan):
        files = trace.state(crash, rng, mode)
        required = required_for(trace.ts[crash - 1])
        n, problem = crashsim.check_state(files, workload, required, args, tmp, run_dump=(k % 25 == 0))
        checked += 1
        if problem:
            failures.append(f"crash point {crash}/{len(trace)} ({mode or 'random'} pick, "
                            f"{trace.ops[crash - 1]!r}): {problem}")
        elif loss is not None and n is not None:
            loss.append(workload_loss(workload, n, trace.ts[crash - 1]))
    return checked, failures


def report(failures):
    """Writes every failure to LODE_POWER_LOSS_REPORT (a file), when set."""
    path = os.environ.get("LODE_POWER_LOSS_REPORT")
    if path and failures:
        with open(path, "a") as f:
            f.write("\n".join(failures) + "\n")


def workload_loss(workload, n, crash_ns):
    """Seconds between the first acknowledged write the state lacks and the crash."""
    if n >= len(workload.cmds) or workload.acks[n] is None or workload.acks[n] > crash_ns:
        return 0.0
    return (crash_ns - workload.acks[n]) / 1e9


@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="lode-power-loss-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def traced(policy, tmp, commands, segments, pause, window=WINDOW, last_stop=signal.SIGKILL):
    sub = os.path.join(tmp, policy)
    os.makedirs(sub)
    args = ["--appendfsync", policy, *window]
    workload = crashsim.Workload(commands, seed=SEED)
    trace_path, _ = crashsim.traced_run(workload, args, segments, sub, pause=pause, last_stop=last_stop)
    return sub, args, workload, crashsim.Trace(trace_path)


@pytest.fixture(scope="module")
def always_run(tmp):
    # Killed (-9) and restarted half-way, then shut down cleanly (SIGTERM): crash
    # points fall in recovery and in the shutdown's last commit and checkpoint too.
    return traced("always", tmp, 3000, [1500, 1500], pause=0.004, last_stop=signal.SIGTERM)


@pytest.fixture(scope="module")
def everysec_run(tmp):
    # Slow enough (about 3 s) that the once-a-second log sync runs a few times, with
    # windows long enough (1.5 s) that the log, not an LMDB checkpoint, is what makes
    # most writes durable: the loss bound is the log's.
    return traced("everysec", tmp, 2400, [1200, 1200], pause=0.018, window=["--commit-window-ms", "1500"])


def test_trace_reproduces_the_files(always_run):
    """The shim saw every change: the trace's "everything written" state is what the
    traced directory holds after the workload (the model's own check)."""
    sub, _, _, trace = always_run
    files = trace.state(len(trace), random.Random(0), "all")
    datadir = os.path.join(sub, "traced", "data")
    on_disk = {name for name in os.listdir(datadir) if name not in crashsim.SCRATCH}
    assert set(files) == on_disk
    for name, content in files.items():
        with open(os.path.join(datadir, name), "rb") as f:
            assert f.read() == content, name
    kinds = {(op.kind, op.path) for op in trace.ops}
    # The workload exercised what the protocol is about: window checkpoints (LMDB
    # sync, marker), log truncates, log syncs.
    for needed in [(crashsim.SYNC_END, "data.mdb"), (crashsim.WRITE, "synced.lode"),
                   (crashsim.TRUNC, "commit-0.log"), (crashsim.TRUNC, "commit-1.log"),
                   (crashsim.SYNC_END, "commit-0.log")]:
        assert needed in kinds, needed
    checkpoints = sum(1 for op in trace.ops if op.kind == crashsim.SYNC_END and op.path == "data.mdb")
    assert checkpoints >= 20, f"only {checkpoints} LMDB syncs: too few windows to test the protocol"


def test_checker_sees_a_lost_sync(always_run, tmp):
    """The check is not vacuous: with the commit logs' fdatasyncs taken out of the
    trace (as if the server had acknowledged writes it never synced), states late
    in a window lose acknowledged writes and the check says so."""
    sub, args, workload, trace = always_run
    saved = {ino: list(s) for ino, s in trace.syncs.items()}
    try:
        for op in trace.ops:
            if op.kind == crashsim.OPEN and op.path.startswith("commit-"):
                trace.syncs[op.inode] = []
        rng = random.Random(SEED + 3)
        # Points just before an LMDB sync: its window's writes are only in the log.
        points = [op.i for op in trace.ops if op.kind == crashsim.SYNC_BEGIN and op.path == "data.mdb"]
        points = [p for p in points if p > first_start_end(trace)][:: max(1, len(points) // 8)]
        _, failures = run_states(trace, workload, args, points, rng, workload.acknowledged, sub, modes=["none"])
    finally:
        trace.syncs.update(saved)
    assert any("were acknowledged" in f for f in failures), failures


def test_power_loss_appendfsync_always(always_run, tmp):
    """Every state opens, holds a prefix of the commands with no hole and nothing
    extra, and every command acknowledged before the crash is in it."""
    sub, args, workload, trace = always_run
    rng = random.Random(SEED)
    points = choose_points(trace, STATES or 220, rng)
    checked, failures = run_states(trace, workload, args, points, rng, workload.acknowledged, sub)
    print(f"\nalways: {checked} crash states from {len(trace)} traced ops, seed {SEED}; "
          f"so far {crashsim.STATS}")
    report(failures)
    assert not failures, f"{len(failures)} of {checked} states failed:\n" + "\n".join(failures[:SHOWN])


def test_power_loss_appendfsync_everysec(everysec_run, tmp):
    """Every state opens and holds a prefix of the commands; what it lacks was
    acknowledged less than EVERYSEC_LOSS_BOUND_S before the crash."""
    sub, args, workload, trace = everysec_run
    rng = random.Random(SEED + 1)
    points = choose_points(trace, STATES or 110, rng)
    bound = int(EVERYSEC_LOSS_BOUND_S * 1e9)
    loss = []
    checked, failures = run_states(trace, workload, args, points, rng,
                                   lambda t: workload.acknowledged(t - bound), sub, loss=loss)
    print(f"\neverysec: {checked} crash states from {len(trace)} traced ops, seed {SEED}, "
          f"largest loss {max(loss, default=0):.3f} s")
    report(failures)
    assert not failures, f"{len(failures)} of {checked} states failed:\n" + "\n".join(failures[:SHOWN])


def test_power_loss_during_first_start(always_run, tmp):
    """A power cut while a new data directory is being created: nothing was
    acknowledged yet, but the server must still start on what is left."""
    sub, args, workload, trace = always_run
    rng = random.Random(SEED + 2)
    points = list(range(1, first_start_end(trace) + 1))
    checked, failures = run_states(trace, workload, args, points, rng, lambda t: 0, sub,
                                   modes=["all", "none", None, None, None])
    print(f"\nfirst start-up: {checked} crash states from points 1..{points[-1]}")
    report(failures)
    assert not failures, f"{len(failures)} of {checked} states failed:\n" + "\n".join(failures[:SHOWN])
