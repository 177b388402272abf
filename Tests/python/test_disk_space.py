"""Disk space under churn (Lode only): the sweeper keeps pace with sustained
collection churn, and INFO tells the data file's size from the bytes in use.

test_durability_types.py waits for the sweeper between churn rounds; here the
rounds follow each other at once, as a busy application's would: the sweeper must
reclaim as fast as the writes create garbage (Store+Space.swift: each write made
while garbage waits pays for two swept entries), or the file grows without bound.
Measured before pacing (a fixed 2,000 entries per cycle), with these rounds: 23 MB
after 5 rounds, 93 MB after 20, 138.8 MB after 30; paced, on /dev/shm (rounds
faster than on a disk, so fewer windows to reuse pages in): 21-25 MB after 5,
30-32 MB after 30."""
import os
import shutil
import tempfile

import pytest

import harness
from harness import poll
from test_durability_types import fill, lmdb_info

CHURN_ROUNDS = 30
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
            if rnd == 1:
                # One round's live data: what the file would gain per round if
                # nothing were swept (committed pages, so wait for the window).
                assert poll(lambda: b"lmdb_window_open:0\r\n" in c.call("INFO", "persistence"), timeout=10)
                footprint = lmdb_info(c)["lmdb_data_bytes"]
            assert c.call("DEL", "churn:hash", "churn:set", "churn:zset", "churn:list") == 4
            sizes[rnd] = file_size(lode, lode.datadir)
        info = poll(lambda: (lambda i: i if i["lmdb_garbage_versions"] == 0 else None)(lmdb_info(c)), timeout=30)
        assert info and info["lmdb_element_entries"] == 0, lmdb_info(c)
        memory = c.call("INFO", "memory").decode()
    mb = [round(sizes[r] / 1e6, 1) for r in sorted(sizes)]
    print(f"\none round's data {footprint / 1e6:.1f} MB; data.mdb (MB) after each round: {mb}")
    # The file is a high-water mark: it ratchets up whenever a round's peak (live
    # data, garbage not yet swept, pages the pinned snapshots hold) beats every
    # earlier one, so it creeps up a little on unlucky rounds (measured: 0-10 MB
    # over rounds 10-30). Without pacing every round leaked most of its footprint
    # (93 MB after 20 rounds, 138.8 MB after 30). Bounded means: the last 20 rounds
    # together add at most two rounds' data.
    assert sizes[CHURN_ROUNDS] - sizes[10] <= 2 * footprint, (footprint, mb)
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
