"""lode-dump, the offline dump/restore tool: RDB files from and into Lode data directories.

Round trips Lode → file → Lode and both ways with a real redis-server 7 (every type, small
and large encodings, several databases, binary keys, chunked strings, FUNCTION libraries,
TTLs), a dump beside a running server under MULTI writers is a snapshot and never blocks
it, restore is all or nothing (a running server, an existing key, every truncation and a
few hundred bit flips of a file: a non-zero exit naming the offset, DATA byte for byte as
it was), inspect's figures, compact after mass deletes. (Lode only.)"""
import ctypes
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

import harness
from value_reads import dataset

if harness.TESTING_REDIS:
    pytest.skip("lode-dump is Lode's own tool", allow_module_level=True)

DUMP_BIN = os.environ.get("LODE_DUMP_BIN", os.path.join(harness.ROOT, ".build", "release", "lode-dump"))
LIB = "#!lua name=dumplib\nredis.register_function('dumpf', function() return 'dumped' end)"


def tool(*args, timeout=60):
    """Runs lode-dump; returns (exit status, stdout, stderr)."""
    p = subprocess.run([DUMP_BIN, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def ok(*args):
    code, out, err = tool(*args)
    assert code == 0, (args, out, err)
    return out, err


def fill(c):
    c.call("FLUSHALL")
    c.call("SET", "s", "hello")
    c.call("SET", "empty", "")
    c.call("SET", "int", "12345")
    c.call("SET", b"bin\x00\xff\r\nkey", bytes(range(256)))
    c.call("SET", "big", os.urandom(200_000))  # above the 64 KB chunk: stored in chunks
    c.call("SET", "ttl", "soon", "PX", "500000")
    c.call("RPUSH", "l", *[str(i) for i in range(500)])
    c.call("RPUSH", "lsmall", "a", "b")
    c.call("HSET", "h", *[x for i in range(700) for x in (f"f{i}", "v" * (i % 80))])
    c.call("HSET", "hsmall", "a", "1", b"\x00", b"\xff")
    c.call("SADD", "ints", 1, 2, 3)
    c.call("SADD", "set", *[f"m{i}" for i in range(600)])
    c.call("ZADD", "z", *[x for i in range(200) for x in (str(i / 3), f"z{i}")])
    c.call("ZADD", "zsmall", "1.5", "a", "-inf", "b")
    c.call("XADD", "x", "1-1", "f", "v")
    c.call("XADD", "x", "2-1", "f", "w")
    c.call("XGROUP", "CREATE", "x", "g", "0")
    c.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "x", ">")
    c.call("EXPIRE", "h", 100000)
    for db in (3, 7):
        c.call("SELECT", db)
        c.call("SET", f"in{db}", f"db {db}")
        c.call("RPUSH", "l", db)
    c.call("SELECT", 0)
    c.call("FUNCTION", "LOAD", "REPLACE", LIB)


def data_dir(srv):
    return os.path.join(srv.dir, "data")


def wait_for_window(c):
    """A dump beside a running server reads LMDB, which commits logged writes once per
    window (commit-window-ms): wait until it holds every acknowledged write."""
    assert harness.poll(lambda: b"lmdb_pending_records:0\r\n" in c.call("INFO", "persistence"), timeout=10)


def checksums(d):
    """Every file of a data directory but the lock files, by content."""
    out = {}
    for name in sorted(os.listdir(d)):
        if name not in ("lode.lock", "lock.mdb", "server.log"):
            with open(os.path.join(d, name), "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def restored_server(path, *extra):
    """A stopped Lode server whose data directory `path` was restored into (not started)."""
    workdir = tempfile.mkdtemp(prefix="lode-dump-")
    ok("restore", "--in", path, "--dir", os.path.join(workdir, "data"), *extra)
    return harness.lode_server(workdir=workdir)


def load_in_redis(path, *extra):
    d = tempfile.mkdtemp(prefix="rdb-load-")
    shutil.copy(path, os.path.join(d, "dump.rdb"))
    srv = harness.redis_server(["--dir", d, "--dbfilename", "dump.rdb", *extra]).start()
    srv.extra_dir = d
    return srv


def stop_redis(srv):
    srv.cleanup()
    shutil.rmtree(srv.extra_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def filled():
    """A stopped Lode server filled by fill(), its dataset, and a dump of it taken while it ran."""
    srv = harness.lode_server().start()
    with srv.client() as c:
        fill(c)
        want = dataset(c)
        wait_for_window(c)
    tmp = tempfile.mkdtemp(prefix="lode-dump-file-")
    path = os.path.join(tmp, "dump.rdb")
    _, err = ok("dump", "--dir", data_dir(srv), "--out", path)
    assert "dumped 19 keys (3 databases, 1 functions)" in err, err
    srv.stop()
    yield srv, want, path
    srv.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def test_round_trip_lode_file_lode(filled):
    _, want, path = filled
    srv = restored_server(path).start()
    try:
        with srv.client() as c:
            assert dataset(c) == want
            assert c.call("FCALL", "dumpf", 0) == b"dumped"
            assert 0 < c.call("PTTL", "ttl") <= 500000
    finally:
        srv.cleanup()


def test_dump_to_stdout_and_of_one_database(filled):
    srv, want, path = filled
    p = subprocess.run([DUMP_BIN, "dump", "--dir", data_dir(srv), "--out", "-"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    with open(path, "rb") as f:
        whole = f.read()
    assert p.stdout[:9] == b"REDIS0010" and len(p.stdout) == len(whole)
    one = path + ".db3"
    ok("dump", "--dir", data_dir(srv), "--out", one, "--db", 3)
    report = json.loads(ok("inspect", "--json", one)[0])
    assert list(report["databases"]) == ["3"] and report["keys"] == 2


def test_lode_dump_loads_in_redis(filled):
    _, want, path = filled
    rs = load_in_redis(path)
    try:
        with rs.client() as rc:
            assert dataset(rc) == want
            assert rc.call("FCALL", "dumpf", 0) == b"dumped"
    finally:
        stop_redis(rs)


# Small limits so Redis writes listpacks, intsets, multi-node quicklists and big encodings side by side.
REDIS_SMALL = ["--list-max-listpack-size", "4", "--hash-max-listpack-entries", "8", "--set-max-intset-entries", "16",
               "--zset-max-listpack-entries", "8", "--stream-node-max-entries", "5"]


def fill_redis(c):
    for i in range(40):
        c.call("RPUSH", f"list{i}", *[f"e{j}" for j in range(i)] or ["only"])
        c.call("HSET", f"hash{i}", *[x for j in range(i + 1) for x in (f"f{j}", j * "x")])
        c.call("SADD", f"iset{i}", *range(i + 1))
        c.call("SADD", f"sset{i}", *[f"m{j}" for j in range(i + 1)])
        c.call("ZADD", f"zset{i}", *[x for j in range(i + 1) for x in (j * 1.25, f"m{j}")])
        c.call("SET", f"str{i}", "v" * (i * 100))
        c.call("SET", f"num{i}", i * 1000003)
    for j in range(23):
        c.call("XADD", "stream", "*", "n", j)
    c.call("XGROUP", "CREATE", "stream", "grp", "0")
    c.call("XREADGROUP", "GROUP", "grp", "bob", "COUNT", "7", "STREAMS", "stream", ">")
    c.call("XDEL", "stream", c.call("XRANGE", "stream", "-", "+", "COUNT", 1)[0][0])
    c.call("EXPIRE", "str3", 100000)
    c.call("SELECT", 9)
    c.call("SET", b"\xffkey\x00", b"\x00val")
    c.call("SELECT", 0)
    c.call("FUNCTION", "LOAD", LIB)


def test_redis_saved_file_restores_and_inspects():
    rs = harness.redis_server(REDIS_SMALL).start()
    try:
        with rs.client() as rc:
            fill_redis(rc)
            want = dataset(rc)
            assert rc.call("SAVE") == b"OK"
        path = os.path.join(rs.dir, "dump.rdb")
        report = json.loads(ok("inspect", "--json", path)[0])
        assert report["checksum_verified"] and report["rdb_version"] == 10
        assert report["aux"]["redis-ver"] == "7.0.15" and report["functions"] == ["dumplib"]
        assert report["databases"]["0"]["types"] == {"hash": 40, "list": 40, "set": 80, "string": 80, "zset": 40,
                                                     "stream": 1}
        assert report["databases"]["0"]["expires"] == 1 and report["databases"]["9"]["keys"] == 1
        text = ok("inspect", path)[0]
        assert "db0: keys=281 hash=40 list=40 set=80 stream=1 string=80 zset=40 expires=1" in text, text
        srv = restored_server(path).start()
        try:
            with srv.client() as c:
                assert dataset(c) == want
                assert c.call("FCALL", "dumpf", 0) == b"dumped"
        finally:
            srv.cleanup()
    finally:
        rs.cleanup()


def test_dump_under_multi_writers_is_a_snapshot_and_never_blocks(lode):
    """Writers change pairs of keys together in MULTI while dumps run: each file's pairs
    agree, and PINGs meanwhile are answered at once."""
    stop = threading.Event()
    latencies = []

    def writer(n):
        with lode.client() as w:
            i = 0
            while not stop.is_set():
                i += 1
                w.pipeline([("MULTI",), ("SET", f"a{n}:{i % 50}", i), ("SET", f"b{n}:{i % 50}", i),
                            ("SET", f"pad{n}:{i % 3000}", "x" * 200), ("EXEC",)])

    def pinger():
        with lode.client() as p:
            while not stop.is_set():
                t = time.monotonic()
                p.call("PING")
                latencies.append(time.monotonic() - t)
                time.sleep(0.005)
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)] + [threading.Thread(target=pinger)]
    for t in threads:
        t.start()
    tmp = tempfile.mkdtemp(prefix="lode-dump-live-")
    try:
        time.sleep(0.5)
        for round in range(3):
            path = os.path.join(tmp, f"live{round}.rdb")
            ok("dump", "--dir", data_dir(lode), "--out", path)
            rs = load_in_redis(path)
            try:
                with rs.client() as rc:
                    a_keys = rc.call("KEYS", "a*")
                    assert len(a_keys) == 150
                    assert rc.call("MGET", *a_keys) == rc.call("MGET", *[b"b" + k[1:] for k in a_keys])
            finally:
                stop_redis(rs)
    finally:
        stop.set()
        for t in threads:
            t.join()
        shutil.rmtree(tmp, ignore_errors=True)
    assert latencies and max(latencies) < 1.0, max(latencies)


@pytest.fixture
def small_file(tmp_path):
    """A small RDB file written by Redis (a few types, a function), and its path."""
    rs = harness.redis_server().start()
    try:
        with rs.client() as rc:
            rc.call("SET", "a", "1")
            rc.call("RPUSH", "b", "x", "y")
            rc.call("HSET", "c", "f", "v")
            rc.call("ZADD", "d", 1, "m")
            rc.call("SELECT", 2)
            rc.call("SET", "e", "in two", "EX", 10000)
            rc.call("SAVE")
        path = str(tmp_path / "small.rdb")
        shutil.copy(os.path.join(rs.dir, "dump.rdb"), path)
    finally:
        rs.cleanup()
    return path


@pytest.fixture
def stopped_lode():
    """A stopped Lode server holding a few keys, one of which ("a") the small file also has."""
    srv = harness.lode_server().start()
    with srv.client() as c:
        c.call("SET", "a", "lode's a")
        c.call("SET", "keep", "kept")
        c.call("FUNCTION", "LOAD", LIB)
    srv.stop()
    yield srv
    srv.cleanup()


def test_restore_refuses_a_running_server(small_file, lode):
    with lode.client() as c:
        c.call("SET", "k", "v")
    code, _, err = tool("restore", "--in", small_file, "--dir", data_dir(lode), "--flush")
    assert code != 0 and err.startswith("lode-dump: ") and "in use by a running lode-server" in err, err
    code, _, err = tool("compact", "--dir", data_dir(lode))
    assert code != 0 and "in use by a running lode-server" in err, err
    with lode.client() as c:
        assert c.call("GET", "k") == b"v"


def test_restore_existing_key_replace_flush_and_db(small_file, stopped_lode):
    d = data_dir(stopped_lode)
    before = checksums(d)
    code, _, err = tool("restore", "--in", small_file, "--dir", d)
    assert code != 0 and "key 'a' already exists in database 0" in err, err
    assert checksums(d) == before
    # Database 2 has no "a": only it is restored, beside what was there.
    _, err = ok("restore", "--in", small_file, "--dir", d, "--db", 2)
    assert "restored 1 keys (1 databases, 0 functions)" in err, err
    stopped_lode.start()
    with stopped_lode.client() as c:
        assert c.call("GET", "a") == b"lode's a" and c.call("GET", "keep") == b"kept"
        c.call("SELECT", 2)
        assert c.call("GET", "e") == b"in two" and c.call("TTL", "e") > 9000
    stopped_lode.stop()
    _, err = ok("restore", "--in", small_file, "--dir", d, "--replace")
    stopped_lode.start()
    with stopped_lode.client() as c:
        assert c.call("GET", "a") == b"1" and c.call("GET", "keep") == b"kept"
        assert c.call("LRANGE", "b", 0, -1) == [b"x", b"y"]
        assert c.call("FCALL", "dumpf", 0) == b"dumped"
    stopped_lode.stop()
    _, err = ok("restore", "--in", small_file, "--dir", d, "--flush")
    stopped_lode.start()
    with stopped_lode.client() as c:
        assert c.call("GET", "keep") is None and c.call("GET", "a") == b"1"
        assert c.call("DBSIZE") == 4
        assert c.call("FUNCTION", "LIST") == []
        c.call("SET", "after", "restore")  # the restored directory takes writes and keeps them
    stopped_lode.stop()
    stopped_lode.start()
    with stopped_lode.client() as c:
        assert c.call("GET", "after") == b"restore" and c.call("DBSIZE") == 5
    stopped_lode.stop()


def test_existing_function_library_is_an_error_without_replace(stopped_lode, tmp_path):
    rs = harness.redis_server().start()
    try:
        with rs.client() as rc:
            rc.call("SET", "new", "1")
            rc.call("FUNCTION", "LOAD", LIB)
            rc.call("SAVE")
        path = os.path.join(rs.dir, "dump.rdb")
        d = data_dir(stopped_lode)
        before = checksums(d)
        code, _, err = tool("restore", "--in", path, "--dir", d)
        assert code != 0 and "function library 'dumplib' already exists" in err, err
        assert checksums(d) == before
    finally:
        rs.cleanup()


def test_bad_files_fail_naming_the_offset_and_change_nothing(small_file, stopped_lode, tmp_path):
    d = data_dir(stopped_lode)
    before = checksums(d)
    with open(small_file, "rb") as f:
        good = f.read()
    bad = str(tmp_path / "bad.rdb")

    def refused(data):
        with open(bad, "wb") as f:
            f.write(data)
        code, _, err = tool("restore", "--in", bad, "--dir", d, "--replace")
        assert code != 0 and err.startswith("lode-dump: ") and "byte" in err, err
        return err
    for n in range(len(good)):
        refused(good[:n])
    rng = random.Random(7)
    for _ in range(300):
        data = bytearray(good)
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        refused(bytes(data))
    assert "checksum mismatch" in refused(good[:-1] + bytes([good[-1] ^ 0x40]))
    assert checksums(d) == before
    code, out, err = tool("inspect", bad)
    assert code != 0 and "checksum mismatch at byte" in err and out == "", err
    code, _, err = tool("inspect", "--json", small_file[:-4] + "-missing.rdb")
    assert code != 0 and "cannot open" in err


def test_compact_shrinks_after_mass_deletes(lode):
    d = data_dir(lode)
    with lode.client() as c:
        for i in range(0, 5000, 500):
            c.pipeline([("SET", f"k{j}", os.urandom(512).hex()) for j in range(i, i + 500)])
        c.call("FLUSHALL")
        c.call("SET", "survivor", "yes")
        c.call("HSET", "h", "f", "v")
    lode.stop()
    before = os.path.getsize(os.path.join(d, "data.mdb"))
    _, err = ok("compact", "--dir", d)
    after = os.path.getsize(os.path.join(d, "data.mdb"))
    assert after < before / 4, (before, after, err)
    assert f"compacted {d}" in err
    lode.start()
    with lode.client() as c:
        assert c.call("GET", "survivor") == b"yes" and c.call("HGET", "h", "f") == b"v"
        assert c.call("DBSIZE") == 2


def crc64(data):
    """Redis's CRC-64 (Jones polynomial, reflected, no final xor), bit by bit: for small files."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x95AC9329AC4BC9B5 if crc & 1 else 0)
    return crc


def module_id(name, encver=0):
    cset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    ident = 0
    for ch in name:
        ident = ident << 6 | cset.index(ch)
    return ident << 10 | encver


def test_module_values_refused_or_skipped(small_file, tmp_path):
    """A file with RDB_TYPE_MODULE_2 values and module aux data (built here: no module is
    installed): restore names each module type with its count and writes nothing, unless
    --skip-unsupported, which restores the rest; inspect counts them."""
    with open(small_file, "rb") as f:
        good = f.read()
    assert crc64(good[:-8]) == int.from_bytes(good[-8:], "little")  # the CRC here is Redis's

    # Every annotation once (UINT, STRING, DOUBLE, FLOAT, SINT), then EOF; ids as 64-bit lengths.
    fields = b"\x02\x05" + b"\x05\x03abc" + b"\x04" + b"\x00" * 8 + b"\x03" + b"\x00" * 4 + b"\x01\x07" + b"\x00"

    def module_value(ident):
        return b"\x81" + ident.to_bytes(8, "big") + fields
    body = b"REDIS0010" + b"\xf7" + b"\x81" + module_id("lodeaux01").to_bytes(8, "big") + b"\x02" + fields
    body += b"\xfe\x00" + b"\x00\x01a\x011"
    for k in (b"m1", b"m2"):
        body += b"\x07" + bytes([len(k)]) + k + module_value(module_id("lodetype1"))
    body += b"\xff"
    path = str(tmp_path / "modules.rdb")
    with open(path, "wb") as f:
        f.write(body + crc64(body).to_bytes(8, "little"))
    report = json.loads(ok("inspect", "--json", path)[0])
    assert report["module_keys"] == {"lodetype1": 2} and report["module_aux"] == {"lodeaux01": 1}, report
    d = str(tmp_path / "data")
    code, _, err = tool("restore", "--in", path, "--dir", d)
    assert code != 0 and "2 keys of module type 'lodetype1', 1 aux records of module type 'lodeaux01'" in err, err
    assert not os.path.exists(d)  # created for the restore, removed when it failed
    _, err = ok("restore", "--in", path, "--dir", d, "--skip-unsupported")
    assert "restored 1 keys" in err and "left out 2 keys of module type 'lodetype1'" in err, err
    srv = harness.lode_server(workdir=str(tmp_path)).start()
    try:
        with srv.client() as c:
            assert c.call("KEYS", "*") == [b"a"]
    finally:
        srv.stop()


def test_restore_killed_midway_leaves_data_as_it_was(stopped_lode, tmp_path):
    """kill -9 while restore writes: DATA is byte for byte as it was, and the next restore
    (which removes the crashed run's work directory) succeeds."""
    rs = harness.redis_server(["--enable-debug-command", "yes"]).start()
    try:
        with rs.client() as rc:
            rc.call("DEBUG", "POPULATE", 150000, "pop", 50)
            rc.call("SAVE")
        path = str(tmp_path / "pop.rdb")
        shutil.copy(os.path.join(rs.dir, "dump.rdb"), path)
    finally:
        rs.cleanup()
    d = data_dir(stopped_lode)
    before = checksums(d)
    work = os.path.join(os.path.dirname(d), ".data.lode-dump-work")
    p = subprocess.Popen([DUMP_BIN, "restore", "--in", path, "--dir", d], stderr=subprocess.PIPE)
    building = os.path.join(work, "build", "data.mdb")
    assert harness.poll(lambda: os.path.exists(building) and os.path.getsize(building) > 1 << 20, timeout=20)
    p.kill()
    p.wait()
    assert os.path.isdir(work) and checksums(d) == before
    _, err = ok("restore", "--in", path, "--dir", d)
    assert "restored 150000 keys" in err and not os.path.exists(work)
    stopped_lode.start()
    with stopped_lode.client() as c:
        assert c.call("DBSIZE") == 150002 and c.call("GET", "keep") == b"kept"
        assert c.call("GET", "pop:149999").startswith(b"value:149999")
    stopped_lode.stop()


class _Val(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("data", ctypes.c_void_p)]


def lmdb_sequence(d):
    """info/seq of the LMDB environment in `d` (the server stopped), read through liblmdb."""
    lib = ctypes.CDLL("liblmdb.so.0")
    env, txn, dbi = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_uint()
    assert lib.mdb_env_create(ctypes.byref(env)) == 0
    try:
        lib.mdb_env_set_maxdbs(env, 16)
        assert lib.mdb_env_open(env, d.encode(), 0x20000, 0o644) == 0  # MDB_RDONLY
        assert lib.mdb_txn_begin(env, None, 0x20000, ctypes.byref(txn)) == 0
        assert lib.mdb_dbi_open(txn, b"info", 0, ctypes.byref(dbi)) == 0
        name = ctypes.create_string_buffer(b"seq", 3)
        key, val = _Val(3, ctypes.cast(name, ctypes.c_void_p)), _Val()
        assert lib.mdb_get(txn, dbi, ctypes.byref(key), ctypes.byref(val)) == 0
        seq = int.from_bytes(ctypes.string_at(val.data, val.size), "big")
        lib.mdb_txn_abort(txn)
        return seq
    finally:
        lib.mdb_env_close(env)


def test_replacement_data_never_goes_below_the_old_sequence(small_file, tmp_path):
    """The crash-safety invariant of the swap: the new data.mdb's committed sequence is at
    least the old one's, so commit-log records a crash left beside it are never replayed.
    Checked for --flush (a fresh environment, raised), a merge and compact (copies)."""
    srv = harness.lode_server().start()
    try:
        with srv.client() as c:
            for i in range(300):
                c.call("SET", f"k{i}", i)  # one turn, one sequence number each
        srv.stop()
        d = data_dir(srv)
        old = lmdb_sequence(d)
        assert old >= 300
        ok("restore", "--in", small_file, "--dir", d, "--flush")
        assert lmdb_sequence(d) > old
        old = lmdb_sequence(d)
        ok("restore", "--in", small_file, "--dir", d, "--replace")
        assert lmdb_sequence(d) > old
        old = lmdb_sequence(d)
        ok("compact", "--dir", d)
        assert lmdb_sequence(d) == old
    finally:
        srv.cleanup()


def test_usage_errors_and_missing_directories(tmp_path):
    code, _, err = tool("restore", "--in", "x.rdb", "--dir", tmp_path, "--replace", "--flush")
    assert code != 0 and err.startswith("lode-dump: --replace and --flush exclude each other"), err
    code, _, err = tool("dump", "--dir", tmp_path, "--out", tmp_path / "x.rdb")
    assert code == 1 and "is not a Lode data directory" in err and not os.path.exists(tmp_path / "x.rdb"), err
    code, _, err = tool("compact", "--dir", tmp_path / "nowhere")
    assert code == 1 and err == f"lode-dump: {tmp_path / 'nowhere'}: no such directory\n", err
