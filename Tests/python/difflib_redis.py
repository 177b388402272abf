"""Machinery shared by the differential tests (Lode against a reference redis-server 7).

The same commands go to both servers and the replies are compared exactly (RESP
type and bytes, errors included), except where two correct servers may differ:
  * TTL / PTTL / EXPIRETIME / PEXPIRETIME: positive values within TTL_TOLERANCE;
  * SCAN (and HSCAN / SSCAN): cursors are server-specific, so the iteration is run
    to cursor 0 and only the union of the elements is compared;
  * KEYS, and whatever a Differ subclass lists in UNORDERED: compared as multisets;
  * RANDOMKEY (loose_randomkey): only nil-vs-some-key;
  * HELLO: `id`, `version` and `server` are not compared.
A Differ subclass can take over a command entirely (see Differ.special), e.g. to
check a random reply against the other server's state.

DIFF_SELF_CHECK=1 makes the server under test a second redis-server, which
validates the tests themselves; every differential test must pass that way,
also with DIFF_SELF_CHECK_ARGS giving that server other encodings.
"""
import collections
import os
import time

import pytest

import harness
from harness import Err, Map, Simple

SELF_CHECK = os.environ.get("DIFF_SELF_CHECK") == "1"
# Extra redis-server arguments for the second server of the self-check, e.g.
# "--hash-max-listpack-entries 0 --set-max-intset-entries 0": other encodings
# give other element orders and real multi-call SCAN cursors.
SELF_CHECK_ARGS = os.environ.get("DIFF_SELF_CHECK_ARGS", "").split()
MAX_MISMATCHES = int(os.environ.get("DIFF_MAX_MISMATCHES", "20"))
BATCH = 100
SUBJECT = "redis#2" if SELF_CHECK else "lode"

# Positive TTL-like replies may differ by this much (see module docstring).
TTL_TOLERANCE = {"TTL": 2, "PTTL": 2000, "EXPIRETIME": 2, "PEXPIRETIME": 2000}

FAR = 4000000000  # an absolute unix time (year 2096) far enough to never expire
I64_MAX, I64_MIN = "9223372036854775807", "-9223372036854775808"


@pytest.fixture(scope="module")
def subject(request):
    """The server under test: Lode, or a second redis-server for the self-check.

    A test module uses it by importing it: `from difflib_redis import subject`."""
    if SELF_CHECK:
        srv = harness.redis_server(SELF_CHECK_ARGS).start()
        yield srv
        srv.cleanup()
        return
    if not os.path.exists(harness.LODE_BIN):
        pytest.fail(f"{harness.LODE_BIN} is not built (DIFF_SELF_CHECK=1 runs redis against itself)")
    yield request.getfixturevalue("lode_module")


# ----------------------------------------------------------------------------
# Comparing replies


class Exact(tuple):
    """A command whose TTL-like reply must match exactly (absolute times only)."""


class ScanKeys(list):
    """The sorted set of elements a complete SCAN / HSCAN / SSCAN iteration returned
    (HSCAN: (field, value) pairs)."""

    def __repr__(self):
        return f"ScanKeys({list(self)!r})"


class Unordered(tuple):
    """An unordered reply, normalized: (RESP container kind, elements sorted).

    The kind keeps a RESP2 array, a RESP3 map and a RESP3 set apart; HGETALL's
    elements are (field, value) pairs."""

    def __repr__(self):
        return f"Unordered({self[0]}, {list(self[1])!r})"


class SomeKey:
    """RANDOMKEY's reply on a multi-key database: any key, but not nil."""

    def __eq__(self, other):
        return isinstance(other, SomeKey)

    def __repr__(self):
        return "SomeKey"


def name_of(cmd):
    first = cmd[0]
    return (first.decode("latin-1") if isinstance(first, bytes) else str(first)).upper()


def same(a, b):
    """Equal values of the very same RESP type, recursively (Simple != bulk, 1 != True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def sort_key(x):
    return repr(x)


def pairs_of(reply):
    """A flat [f1, v1, f2, v2...] array or a RESP3 map as a list of (field, value)
    tuples; None if the reply is neither."""
    if isinstance(reply, Map):
        return [tuple(p) for p in reply]
    if type(reply) is list and len(reply) % 2 == 0:
        return list(zip(reply[0::2], reply[1::2]))
    return None


def unordered(reply, pairs=False):
    """reply as an Unordered multiset, or unchanged if it is not a container."""
    if not isinstance(reply, list):  # Map and Set are lists too
        return reply
    items = pairs_of(reply) if pairs else list(reply)
    if items is None:
        return reply
    return Unordered((type(reply).__name__, tuple(sorted(items, key=sort_key))))


def hello_fields(reply):
    """HELLO's map as a dict, from a RESP3 map or a RESP2 flat array; None if neither."""
    if isinstance(reply, Map):
        return dict(reply)
    if type(reply) is list and len(reply) % 2 == 0:
        return dict(zip(reply[0::2], reply[1::2]))
    return None


def hello_match(a, b):
    # id, version and server naturally differ; everything else must match.
    fa, fb = hello_fields(a), hello_fields(b)
    if fa is None or fb is None:
        return same(a, b)
    return (type(a) is type(b) and set(fa) == set(fb)
            and all(same(fa.get(k), fb.get(k)) for k in (b"proto", b"mode", b"role", b"modules")))


def replies_match(cmd, a, b):
    name = name_of(cmd)
    if name == "HELLO":
        return hello_match(a, b)
    tolerance = TTL_TOLERANCE.get(name)
    if tolerance is not None and not isinstance(cmd, Exact) and type(a) is int and type(b) is int:
        # -1/-2 (no TTL / no key) are exact; only real times get the tolerance.
        return a == b if min(a, b) < 0 else abs(a - b) <= tolerance
    return same(a, b)


# ----------------------------------------------------------------------------
# Sending the same commands to both servers


def scan_all(client, cmd, cursor_at=1, pairs=False):
    """Runs a SCAN-like command from cmd's cursor (the argument at cursor_at) to the
    end; the sorted set of elements seen (pairs=True: (field, value) pairs), or the
    first odd reply."""
    cmd = list(cmd)
    reply = client.call(*cmd)
    seen = set()
    for _ in range(100000):
        well_formed = (type(reply) is list and len(reply) == 2 and type(reply[0]) is bytes
                       and type(reply[1]) is list and all(type(k) is bytes for k in reply[1])
                       and not (pairs and len(reply[1]) % 2))
        if not well_formed:
            return reply
        cursor, batch = reply
        seen.update(zip(batch[0::2], batch[1::2]) if pairs else batch)
        if cursor == b"0":
            return ScanKeys(sorted(seen))
        cmd[cursor_at] = cursor
        reply = client.call(*cmd)
    return Err(b"(test) SCAN did not finish within 100000 calls")


Outcome = collections.namedtuple("Outcome", "a b ok note")  # a: redis' reply, b: the subject's


class Differ:
    """A connection to each server; runs commands on both and pairs the replies."""

    # Commands whose array replies are compared as multisets, and whether their
    # elements are (field, value) pairs; a subclass extends it.
    UNORDERED = {"KEYS": False}

    def __init__(self, ref_srv, sub_srv, resp=2, loose_randomkey=False):
        self.ref = harness.RawClient(ref_srv.port, exact_types=True)
        self.sub = harness.RawClient(sub_srv.port, exact_types=True)
        self.resp = resp
        self.loose_randomkey = loose_randomkey
        if resp == 3:
            hello = ("HELLO", "3")
            a, b = self.ref.call(*hello), self.sub.call(*hello)
            assert hello_match(a, b), f"HELLO 3: redis={a!r} {SUBJECT}={b!r}"

    def close(self):
        self.ref.close()
        self.sub.close()

    def reset(self, db=0):
        """Empties both servers and selects db (the clean state every case starts from).

        Must work on redis; the subject's replies are returned rather than asserted
        so a random run can go on (its next replies will show any difference).
        """
        reset = [("FLUSHALL",), ("SELECT", str(db))]
        assert same(self.ref.pipeline(reset), [Simple(b"OK")] * 2)
        return self.sub.pipeline(reset)

    def reset_for_case(self):
        replies = self.reset()
        assert same(replies, [Simple(b"OK")] * 2), f"FLUSHALL + SELECT 0 on {SUBJECT}: {replies!r}"

    def special(self, cmd):
        """A function(cmd) -> Outcome for a command that cannot simply be pipelined
        and compared (it runs after everything before it has been answered), or None."""
        if name_of(cmd) == "SCAN" and len(cmd) >= 2:
            return self.scan_both
        return None

    def scan_both(self, cmd, cursor_at=1, pairs=False):
        a = scan_all(self.ref, cmd, cursor_at, pairs)
        b = scan_all(self.sub, cmd, cursor_at, pairs)
        return Outcome(a, b, same(a, b), None)

    def execute_checked(self, commands):
        """[Outcome] for commands, pipelined except for the special ones."""
        out, pending = [], []

        def flush():
            if pending:
                for cmd, a, b in zip(pending, self.ref.pipeline(pending), self.sub.pipeline(pending)):
                    a, b = self.normalize(cmd, a), self.normalize(cmd, b)
                    out.append(Outcome(a, b, replies_match(cmd, a, b), None))
                pending.clear()

        for cmd in commands:
            special = self.special(cmd)
            if special is None:
                pending.append(cmd)
            else:
                flush()
                out.append(special(cmd))
        flush()
        return out

    def execute(self, commands):
        """[(redis reply, subject reply)] for commands."""
        return [(o.a, o.b) for o in self.execute_checked(commands)]

    def normalize(self, cmd, reply):
        name = name_of(cmd)
        if name in self.UNORDERED:
            if name == "KEYS" and type(reply) is list:
                return sorted(reply)  # KEYS order is hash-table order
            return unordered(reply, pairs=self.UNORDERED[name])
        if name == "RANDOMKEY" and self.loose_randomkey and type(reply) is bytes:
            return SomeKey()
        return reply


class _Long:
    """A long bulk string in a report: its two ends and its length, so that two
    long arguments that differ only near the end stay distinguishable."""

    def __init__(self, data):
        self.data = data

    def __repr__(self):
        return f"{self.data[:10]!r}+({len(self.data)} bytes)+{self.data[-6:]!r}"


def compact(value, limit=48):
    """value with every plain bytes longer than limit shortened for display."""
    if type(value) is bytes and len(value) > limit:
        return _Long(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(compact(x, limit) for x in value)
    return value


def show(value, limit=120):
    text = repr(compact(value))
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


# ----------------------------------------------------------------------------
# Fixed cases: (id, commands); each starts from FLUSHALL + SELECT 0.
# A command is a string split on spaces, or a tuple for empty/binary arguments;
# exact(...) marks a TTL-like command whose reply must match without tolerance
# (set from an absolute time, so both servers must agree to the ms).


def case(name, *commands):
    cmds = [c if isinstance(c, tuple) else tuple(c.split()) for c in commands]
    return pytest.param(cmds, id=name)


def exact(command):
    return Exact(command.split() if isinstance(command, str) else command)


def run_case(differ, commands):
    """Runs commands on both servers; the transcript and whether every reply matched."""
    lines, ok = [], True
    for i, (cmd, o) in enumerate(zip(commands, differ.execute_checked(commands))):
        ok &= o.ok
        lines.append(f"{'  ' if o.ok else '!!'} [{i}] {show(tuple(cmd), 100)}")
        lines.append(f"        redis:   {show(o.a)}")
        if not o.ok:
            lines.append(f"        {SUBJECT + ':':8} {show(o.b)}")
            if o.note:
                lines.append(f"        why:     {o.note}")
    return lines, ok


def check_case(differ, commands, label=""):
    lines, ok = run_case(differ, commands)
    assert ok, f"{label}replies differ (!! marks the mismatches):\n" + "\n".join(lines)


# ----------------------------------------------------------------------------
# Randomized sequences


def run_random(differ, label, seed, count, stream):
    """Runs count commands from stream (an iterator of (command, database selected
    after it)) in pipelined batches; the mismatch reports.

    After a mismatch the two servers' states may differ, so the rest of that
    batch is not compared and both are flushed and put back in the same
    database; each report is thus independent of the ones before it.
    """
    mismatches = []
    history = collections.deque(maxlen=10)
    index, db = 0, 0
    while index < count and len(mismatches) < MAX_MISMATCHES:
        batch = [next(stream) for _ in range(min(BATCH, count - index))]
        commands = [cmd for cmd, _ in batch]
        dbs_before = [db] + [db_after for _, db_after in batch[:-1]]
        db = batch[-1][1]
        try:
            outcomes = differ.execute_checked(commands)
        except (harness.ConnectionClosed, OSError) as e:  # a crash or a hang: no point going on
            sent = "\n".join(f"      [{index + i}] {show(c, 90)}" for i, c in enumerate(commands))
            mismatches.append(f"{label} seed={seed}: {type(e).__name__} {e} in the batch of commands "
                              f"{index}..{index + len(commands) - 1}:\n{sent}")
            break
        for offset, (cmd, o) in enumerate(zip(commands, outcomes)):
            if o.ok:
                history.append((index + offset, cmd, o.a))
                continue
            prev = "\n".join(f"      [{i}] {show(c, 90)} -> {show(r, 60)}" for i, c, r in history)
            why = f"    why:     {o.note}\n" if o.note else ""
            mismatches.append(
                f"{label} seed={seed} index={index + offset} db={dbs_before[offset]}\n"
                f"    command: {show(cmd, 200)}\n    redis:   {show(o.a, 300)}\n"
                f"    {SUBJECT + ':':8} {show(o.b, 300)}\n{why}"
                f"    previous commands (redis replies):\n{prev or '      (none since the last resync)'}")
            history.clear()
            differ.reset(db=db)
            break
        index += len(batch)
    return mismatches


def check_random(differ, label, seed, count, stream, rerun=None):
    """run_random, failing with every mismatch report; rerun: how to reproduce
    the run (the environment setting), if not DIFF_SEED=seed."""
    started = time.time()
    mismatches = run_random(differ, label, seed, count, stream)
    elapsed = time.time() - started
    assert not mismatches, (f"{len(mismatches)} mismatch(es) (stopped at {MAX_MISMATCHES}); {count} commands, "
                            f"{elapsed:.1f}s; rerun with {rerun or f'DIFF_SEED={seed}'}\n\n" + "\n\n".join(mismatches))


# ----------------------------------------------------------------------------
# Byte-for-byte sequences (one command at a time, raw replies)


def raw_mismatches(redis_ref, subject, resp, commands, latin1=False):
    """Runs `commands` on a fresh connection to each server (HELLO resp, FLUSHALL
    first) and fails with the first commands whose raw replies differ, then on a
    different DBSIZE. latin1: string arguments are sent as their latin-1 bytes."""
    with redis_ref.client() as rc, subject.client() as sc:
        for c in (rc, sc):
            c.call("HELLO", str(resp))
            c.call("FLUSHALL")
        mismatches = []
        for cmd in commands:
            if latin1:
                cmd = tuple(a.encode("latin-1") for a in cmd)
            a, b = rc.call_raw(*cmd), sc.call_raw(*cmd)
            if a != b:
                mismatches.append(f"{cmd}: redis={a!r} {SUBJECT}={b!r}")
        assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:MAX_MISMATCHES])
        assert rc.call("DBSIZE") == sc.call("DBSIZE")
