"""REPLCONF, SYNC and PSYNC as far as a full resynchronization's snapshot goes: `redis-cli --rdb`
against Lode writes a file that a real redis-server 7 loads with every key equal; a plain SYNC
gets a `$<length>` payload, `REPLCONF capa eof` an `$EOF:` one; PSYNC is served only to
rdb-only clients (Lode has no replication yet); the server keeps serving while a snapshot
streams, and a snapshot taken under MULTI writers is consistent. REPLCONF's replies are
compared with Redis's."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading

import harness
from test_rdb_snapshots import compare_with_redis, fill, load_in_redis


def raw_sync(port, commands, first_line_only=False, timeout=30):
    """Sends raw commands and reads until the server closes; returns all bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(b"".join(harness.encode_command(*c) for c in commands))
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return data
            data += chunk
    finally:
        s.close()


def strip_replies(data, count):
    """Drops `count` simple-string replies (+OK) from the start."""
    for _ in range(count):
        i = data.index(b"\r\n")
        assert data[:1] == b"+", data[:80]
        data = data[i + 2:]
    return data


def test_redis_cli_rdb_loads_in_redis(lode):
    with lode.client() as c:
        fill(c)
        out = os.path.join(tempfile.mkdtemp(prefix="cli-rdb-"), "backup.rdb")
        done = subprocess.run(["redis-cli", "-p", str(lode.port), "--rdb", out], capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert b"Transfer finished with success" in done.stderr
        compare_with_redis(c, out)
        assert c.call("PING") == b"PONG"
        text = c.call("INFO", "stats").decode()
        assert "sync_full:1" in text
        shutil.rmtree(os.path.dirname(out))


def test_sync_framings_and_psync(lode):
    with lode.client() as c:
        fill(c)
    # No capa eof: a length-prefixed payload (spooled to a temporary file first).
    data = raw_sync(lode.port, [("SYNC",)])
    header, payload = data.split(b"\r\n", 1)
    assert header.startswith(b"$") and int(header[1:]) == len(payload), header
    assert payload.startswith(b"REDIS0010")
    check_loads(payload)
    # capa eof: $EOF:<mark> ... <mark>.
    data = strip_replies(raw_sync(lode.port, [("REPLCONF", "capa", "eof"), ("REPLCONF", "rdb-only", "1"), ("SYNC",)]), 2)
    assert data.startswith(b"$EOF:")
    mark = data[5:45]
    body = data[47:]
    assert body.endswith(mark)
    check_loads(body[:-40])
    # PSYNC: refused unless rdb-only, then +FULLRESYNC <replid> 0 and the payload.
    with lode.client() as c:
        reply = c.call("PSYNC", "?", "-1")
        assert isinstance(reply, harness.Err) and b"rdb-only" in reply
    data = strip_replies(raw_sync(lode.port, [("REPLCONF", "rdb-only", "1"), ("PSYNC", "?", "-1")]), 1)
    line, rest = data.split(b"\r\n", 1)
    words = line.split()
    assert words[0] == b"+FULLRESYNC" and len(words[1]) == 40 and words[2] == b"0", line
    header, payload = rest.split(b"\r\n", 1)
    assert int(header[1:]) == len(payload)
    check_loads(payload)
    assert not [n for n in os.listdir(lode_dir(lode)) if n.startswith("temp-")]


def lode_dir(lode):
    with lode.client() as c:
        return c.call("CONFIG", "GET", "dir")[1].decode()


def check_loads(payload):
    d = tempfile.mkdtemp(prefix="sync-payload-")
    path = os.path.join(d, "dump.rdb")
    with open(path, "wb") as f:
        f.write(payload)
    srv = load_in_redis(path)
    try:
        with srv.client() as rc:
            assert rc.call("GET", "s") == b"hello"
            assert rc.call("LLEN", "l") == 500
            assert rc.call("FCALL", "snapf", 0) == b"snap"
    finally:
        srv.cleanup()
        shutil.rmtree(srv.extra_dir, ignore_errors=True)
        shutil.rmtree(d, ignore_errors=True)


def test_sync_under_writers_is_a_snapshot_and_the_server_keeps_serving(lode):
    with lode.client() as c:
        c.call("SET", "filler", os.urandom(4_000_000))
        for i in range(2000):
            c.call("SET", f"pad{i}", "x" * 500)
    stop = threading.Event()
    served = []

    def writer():
        with lode.client() as w:
            i = 0
            while not stop.is_set():
                i += 1
                w.pipeline([("MULTI",), ("SET", f"a:{i % 100}", i), ("SET", f"b:{i % 100}", i), ("EXEC",)])
                served.append(i)
    t = threading.Thread(target=writer)
    t.start()
    try:
        out = os.path.join(tempfile.mkdtemp(prefix="cli-rdb-"), "live.rdb")
        done = subprocess.run(["redis-cli", "-p", str(lode.port), "--rdb", out], capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
    finally:
        stop.set()
        t.join()
    assert served
    srv = load_in_redis(out)
    try:
        with srv.client() as rc:
            keys = rc.call("KEYS", "a:*")
            for k in keys:
                assert rc.call("GET", k) == rc.call("GET", b"b" + k[1:]), k
            assert rc.call("STRLEN", "filler") == 4_000_000
    finally:
        srv.cleanup()
        shutil.rmtree(srv.extra_dir, ignore_errors=True)
        shutil.rmtree(os.path.dirname(out), ignore_errors=True)


def test_replconf_replies_as_redis(redis_ref, lode):
    cases = [("REPLCONF", "listening-port", "6380"), ("REPLCONF", "capa", "eof", "capa", "psync2"),
             ("REPLCONF", "ip-address", "10.0.0.1"), ("REPLCONF", "bogus", "1"), ("REPLCONF", "capa"),
             ("REPLCONF", "rdb-only", "2"), ("REPLCONF", "rdb-only", "x"), ("REPLCONF", "rdb-only", "0"),
             ("REPLCONF",), ("PING",)]
    with redis_ref.client() as rc, lode.client() as lc:
        for cmd in cases:
            a, b = rc.call(*cmd), lc.call(*cmd)
            assert a == b, f"{cmd}: redis={a!r} lode={b!r}"
