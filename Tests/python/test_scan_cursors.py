"""SCAN, HSCAN, SSCAN and ZSCAN cursors that cannot lose keys (issue 10, part 5).

Since on-disk format 2 a cursor is a position in the 46-bit hash order in which
keys and elements are stored (docs/storage.md): no table remembers it, so it
survives restarts and any number of parallel scans, and every cursor is below
10^14, exact in a double and in Lua 5.1's "%.14g". Also: a format 1 data
directory (written by the last format 1 server, Tests/fixtures/format1-data.tar.gz)
is migrated at start-up and reads back whole.
"""
import os
import random
import subprocess
import tarfile
import tempfile

import pytest
import redis

import format1_fixture
import harness

LIMIT = 1 << 46
FIXTURE = os.path.join(harness.ROOT, "Tests", "fixtures", "format1-data.tar.gz")
pytestmark = pytest.mark.skipif(harness.TESTING_REDIS, reason="Lode's cursor and format guarantees")


@pytest.fixture
def server():
    srv = harness.lode_server().start()
    yield srv
    srv.cleanup()


def scan_all(r, command, *args, count=10, start=0):
    """Runs a whole scan; returns (elements in reply order, cursors returned)."""
    cursor, found, cursors = start, [], []
    while True:
        cursor, batch = getattr(r, command)(*args, cursor=cursor, count=count)
        found += batch if not isinstance(batch, dict) else list(batch)
        cursors.append(cursor)
        if cursor == 0:
            return found, cursors


def test_cursors_are_positions_below_10_to_the_14(server):
    r = redis.Redis(port=server.port)
    pipe = r.pipeline(transaction=False)
    for i in range(20000):
        pipe.set(f"key:{i}", i)
    # Names not ending in two digits: each its own group (names numbered in sequence
    # share one by hundreds, and a reply holds whole groups; checked below).
    pipe.hset("h", mapping={f"f{i}:x": i for i in range(5000)})
    pipe.sadd("s", *[f"m{i}:x" for i in range(5000)])
    pipe.zadd("z", {f"z{i}:x": i for i in range(5000)})
    pipe.sadd("numbered", *[f"n{i:04d}" for i in range(5000)])
    pipe.execute()
    keys, cursors = scan_all(r, "scan", count=37)
    assert sorted(keys) == sorted([f"key:{i}".encode() for i in range(20000)] + [b"h", b"s", b"z", b"numbered"])
    assert len(keys) == len(set(keys)), "no writes during the scan: every key exactly once"
    assert all(0 < c < LIMIT for c in cursors[:-1]) and cursors == sorted(cursors[:-1]) + [0]
    # A Lua double prints a cursor exactly even with 14 digits.
    assert all(len(str(c)) <= 14 for c in cursors)
    for command, key, n in [("hscan", "h", 5000), ("sscan", "s", 5000), ("zscan", "z", 5000)]:
        found, cursors = scan_all(r, command, key, count=50)
        assert len(found) == n and len(set(found)) == n, command
        assert all(0 < c < LIMIT for c in cursors[:-1]), command
        assert len(cursors) > 50, f"{command} pages ({len(cursors)} calls)"
    found, cursors = scan_all(r, "sscan", "numbered", count=1)
    assert sorted(found) == [f"n{i:04d}".encode() for i in range(5000)]
    assert len(cursors) == 50, "n0000 … n0099 share a position, and so on: 50 groups of 100"


def test_cursors_clients_send_above_the_limit_are_errors_not_silent_ends(server):
    r = harness.RawClient(server.port)
    r.call("SET", "a", "1")
    r.call("HSET", "h", "f", "v")
    for bad in [str(LIMIT), str(1 << 53), str((1 << 53) + 1), "18446744073709551615", "-1", "1.5", "0x10", " 1"]:
        for cmd in (("SCAN", bad), ("HSCAN", "h", bad), ("SSCAN", "nokey", bad), ("ZSCAN", "nokey", bad)):
            assert r.call(*cmd) == harness.Err(b"ERR invalid cursor"), cmd
    # The largest position is a valid cursor, and so is any smaller number: a scan goes on from there.
    assert r.call("SCAN", str(LIMIT - 1))[0] == b"0"
    assert sorted(r.call("SCAN", "0", "COUNT", "100")[1]) == [b"a", b"h"]
    # A double-rounded cursor (JavaScript's Number, Lua's tonumber) is the same integer.
    keys = set()
    cursor = "0"
    while True:
        cursor, batch = r.call("SCAN", cursor, "COUNT", "1")
        keys |= set(batch)
        cursor = str(int(float(cursor.decode())))
        if cursor == "0":
            break
    assert keys == {b"a", b"h"}


def test_a_scan_survives_a_restart_of_the_server(server):
    r = redis.Redis(port=server.port)
    pipe = r.pipeline(transaction=False)
    for i in range(3000):
        pipe.set(f"k{i}", "v")
    pipe.hset("big", mapping={f"f{i}": "v" for i in range(3000)})
    pipe.sadd("bigset", *[f"m{i}" for i in range(3000)])
    pipe.zadd("bigz", {f"z{i}": i for i in range(3000)})
    pipe.execute()
    scans = [("scan",), ("hscan", "big"), ("sscan", "bigset"), ("zscan", "bigz")]
    found = {s: set() for s in scans}
    cursors = {s: 0 for s in scans}
    for _ in range(20):
        for s in scans:
            cursors[s], batch = getattr(r, s[0])(*s[1:], cursor=cursors[s], count=50)
            found[s] |= set(batch)
    assert all(cursors.values())
    server.restart()
    r = redis.Redis(port=server.port)
    for s in scans:
        rest, _ = scan_all(r, s[0], *s[1:], start=cursors[s], count=50)
        found[s] |= set(rest)
    assert found[("scan",)] == {f"k{i}".encode() for i in range(3000)} | {b"big", b"bigset", b"bigz"}
    assert found[("hscan", "big")] == {f"f{i}".encode() for i in range(3000)}
    assert found[("sscan", "bigset")] == {f"m{i}".encode() for i in range(3000)}
    assert found[("zscan", "bigz")] == {(f"z{i}".encode(), float(i)) for i in range(3000)}
    # A key that is gone ends its scan, as in Redis.
    assert r.hscan("nokey", cursor=cursors[("hscan", "big")]) == (0, {})


def test_every_key_present_for_the_whole_scan_is_returned_under_writes(server):
    r = redis.Redis(port=server.port)
    rng = random.Random(10)
    stable = {f"stable:{i}".encode() for i in range(2000)}
    pipe = r.pipeline(transaction=False)
    for k in stable:
        pipe.set(k, "v")
    pipe.sadd("members", *[f"m{i}" for i in range(2000)])
    pipe.execute()
    seen, members = set(), set()
    cursor, scursor, step = 0, 0, 0
    while True:
        cursor, batch = r.scan(cursor=cursor, count=20)
        seen |= set(batch)
        if scursor is not None:
            scursor, sbatch = r.sscan("members", cursor=scursor, count=20)
            members |= set(sbatch)
            scursor = scursor or None
        # Churn between calls: new keys and members come and go.
        pipe = r.pipeline(transaction=False)
        for _ in range(20):
            pipe.set(f"churn:{rng.randrange(500)}", "x")
            pipe.delete(f"churn:{rng.randrange(500)}")
            pipe.sadd("members", f"new{step}-{rng.randrange(100)}")
            pipe.srem("members", f"new{rng.randrange(step + 1)}-{rng.randrange(100)}")
        pipe.execute()
        step += 1
        if cursor == 0 and scursor is None:
            break
    assert stable <= seen
    assert {f"m{i}".encode() for i in range(2000)} <= members


def test_200000_parallel_scans(server):
    """No cursor table to overflow: 200,000 scans started and all carried on."""
    r = redis.Redis(port=server.port)
    pipe = r.pipeline(transaction=False)
    for i in range(2000):
        pipe.set(f"p{i}:x", "v")  # one name per position, so each reply is small
    pipe.execute()
    # Start each scan at its own position, as 200,000 clients part-way through would be.
    rng = random.Random(7)
    starts = [rng.randrange(LIMIT) for _ in range(200000)]
    cursors = []
    for chunk in range(0, len(starts), 20000):
        pipe = r.pipeline(transaction=False)
        for c in starts[chunk:chunk + 20000]:
            pipe.scan(cursor=c, count=5)
        cursors += [c for c, _ in pipe.execute()]
    pipe = r.pipeline(transaction=False)
    for c in cursors:
        pipe.scan(cursor=c, count=5)
    replies = pipe.execute()
    assert len(replies) == 200000  # no "unknown cursor", no error of any kind
    # Any of them finished from where it stands returns every key at or after its start.
    everything, _ = scan_all(r, "scan", count=100)
    order = {k: i for i, k in enumerate(everything)}
    for i in rng.sample(range(200000), 50):
        rest, _ = scan_all(r, "scan", start=starts[i], count=5)
        if rest:
            assert set(rest) == set(everything[order[rest[0]]:]), i


def test_node_redis_scan_iterator_over_100000_keys(server):
    r = redis.Redis(port=server.port)
    pipe = r.pipeline(transaction=False)
    for i in range(100000):
        pipe.set(f"n:{i}", "v")
        if i % 10000 == 9999:
            pipe.execute()
    pipe.hset("nh", mapping={f"f{i}": "v" for i in range(20000)})
    pipe.execute()
    script = """
const { createClient } = require('redis');
(async () => {
  const c = createClient({ socket: { host: '127.0.0.1', port: Number(process.argv[1]) } });
  await c.connect();
  const keys = new Set();
  for await (const k of c.scanIterator({ MATCH: 'n:*', COUNT: 100 })) keys.add(k);
  const fields = new Set();
  for await (const { field } of c.hScanIterator('nh', { COUNT: 100 })) fields.add(field);
  console.log(keys.size, fields.size);
  await c.quit();
})().catch((e) => { console.error(e); process.exit(1); });
"""
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs")
    out = subprocess.run(["node", "-e", script, str(server.port)], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["100000", "20000"]


def test_a_lua_script_scanning_with_tonumber_finds_every_key(server):
    r = redis.Redis(port=server.port)
    pipe = r.pipeline(transaction=False)
    for i in range(5000):
        pipe.set(f"lua:{i}", "v")
    pipe.execute()
    script = """
local cursor, n = 0, 0
repeat
  local reply = redis.call('SCAN', cursor, 'COUNT', 100)
  cursor = tonumber(reply[1])
  n = n + #reply[2]
  local again = redis.call('SCAN', '' .. cursor, 'COUNT', 1)   -- "%.14g" as a string
until cursor == 0
return n
"""
    assert r.eval(script, 0) == 5000


def test_a_format1_data_directory_is_migrated_at_start_up():
    work = tempfile.mkdtemp(prefix="lode-format1-")
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(work)
    srv = harness.lode_server(workdir=work).start()
    try:
        log = srv.log_text()
        assert "Migrating the data directory from on-disk format 1 to 2" in log, log
        assert "Migrated to on-disk format 2: 3009 keys" in log, log
        r = redis.Redis(port=srv.port)
        format1_fixture.check(r)
        keys, _ = scan_all(r, "scan", count=100)
        assert len(keys) == len(set(keys)) == 3006
        srv.restart()
        assert srv.log_text().count("Migrating the data directory") == 1, "migrated once"
        format1_fixture.check(redis.Redis(port=srv.port))
    finally:
        srv.cleanup()
        subprocess.run(["rm", "-rf", work])
