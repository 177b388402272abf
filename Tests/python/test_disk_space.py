"""Disk space under churn (Lode only): the sweeper keeps pace with sustained
collection churn, and INFO tells the data file's size from the bytes in use.

test_durability_types.py waits for the sweeper between churn rounds; here the
rounds follow each other at once, as a busy application's would: the sweeper must
reclaim as fast as the writes create garbage (Store+Space.swift: each write made
while garbage waits pays for two swept entries), or the file grows without bound.
Measured before pacing (a fixed 2,000 entries per cycle), with these rounds: 23 MB
after 5 rounds, 93 MB after 20; with it: 14.5 MB and 18 MB."""
import os
import shutil
import tempfile

import pytest

import harness
from harness import poll
from test_durability_types import fill, lmdb_info

CHURN_ROUNDS = 20
ELEMENTS = 20_000          # per collection, four collections a round

lode_only = pytest.mark.skipif(harness.TESTING_REDIS, reason="Lode-specific: INFO lmdb_* fields, sweeper")


def file_size(lode, datadir=None):
    return os.path.getsize(os.path.join(datadir or os.path.join(lode.dir, "data"), "data.mdb"))


@pytest.fixture
def lode_on_shm():
    """A server whose data directory is on /dev/shm (tmpfs): this measures the
    sweeper's pace, not the disk's. Where an fsync takes longer than a round (a
    loaded disk: the full suite's writeback), the next window waits for the
    checkpoint, one window spans whole rounds, and LMDB cannot reuse pages freed
    within the transaction that is still open (docs/storage.md, "Sweeper")."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    datadir = tempfile.mkdtemp(prefix="lode-churn-", dir=base)
    srv = harness.lode_server(["--dir", datadir]).start()
    srv.datadir = datadir
    yield srv
    srv.cleanup()
    shutil.rmtree(datadir, ignore_errors=True)


@lode_only
def test_sustained_collection_churn_levels_the_file_off(lode_on_shm):
    lode = lode_on_shm
    sizes = {}
    with lode.client(timeout=60) as c:
        for rnd in range(1, CHURN_ROUNDS + 1):
            for typ in ("hash", "set", "zset", "list"):
                fill(c, f"churn:{typ}", typ, ELEMENTS, b"r%d" % rnd)
            assert c.call("DEL", "churn:hash", "churn:set", "churn:zset", "churn:list") == 4
            sizes[rnd] = file_size(lode, lode.datadir)
        info = poll(lambda: (lambda i: i if i["lmdb_garbage_versions"] == 0 else None)(lmdb_info(c)), timeout=30)
        assert info and info["lmdb_element_entries"] == 0, lmdb_info(c)
        memory = c.call("INFO", "memory").decode()
    print(f"\ndata.mdb after rounds 5, 10, {CHURN_ROUNDS}: {sizes[5]}, {sizes[10]}, {sizes[CHURN_ROUNDS]}")
    assert sizes[CHURN_ROUNDS] <= 1.5 * sizes[5], sizes
    assert "lazyfree_pending_objects:0\r\n" in memory
    assert f"lazyfreed_objects:{4 * CHURN_ROUNDS}\r\n" in memory   # one version per deleted collection


@lode_only
def test_info_tells_file_size_from_bytes_in_use_after_flushall(lode):
    with lode.client() as c:
        for i in range(0, 20_000, 1000):
            c.pipeline([("SET", f"k{j}", b"x" * 1000) for j in range(i, i + 1000)])
        full = poll(lambda: (lambda i: i if i["lmdb_data_bytes"] > 20_000_000 else None)(lmdb_info(c)), timeout=10)
        assert full, lmdb_info(c)
        assert c.call("FLUSHALL") == harness.Simple(b"OK")
        # The next window commit puts the pages on the free list; the file keeps its size.
        emptied = poll(lambda: (lambda i: i if i["lmdb_data_bytes"] < 1_000_000 else None)(lmdb_info(c)), timeout=10)
        assert emptied, lmdb_info(c)
    assert emptied["lmdb_file_bytes"] >= full["lmdb_data_bytes"] == full["lmdb_used_bytes"] - full["lmdb_free_bytes"]
    assert emptied["lmdb_used_bytes"] >= full["lmdb_used_bytes"]
    assert emptied["lmdb_free_bytes"] + emptied["lmdb_data_bytes"] == emptied["lmdb_used_bytes"]
    assert emptied["lmdb_file_bytes"] == file_size(lode)
