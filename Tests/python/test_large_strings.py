"""Strings stored in chunks (docs/storage.md, "Large strings"): durability, the
hot cache's accounting, and the sweeper, on the real lode-server binary.

- kill -9 under load, `appendfsync always` and `everysec`: writers APPEND,
  SETRANGE and SETBIT into values of up to 200 chunks (64-byte chunks) and
  replace them whole; every acknowledged write is there after the restart;
- a restart (SIGTERM) keeps chunked values, sparse ones (a SETBIT far past the
  end) included, with their TTLs;
- a 16 MB value is not cached whole: the cache holds its metadata record only;
- DEL, overwrite and expiry hand the chunks to the sweeper, which deletes them
  all, and never those of a COPY.

Reads Lode's INFO fields: Lode only.
"""
import random
import threading
import time

import pytest

import harness
from harness import ConnectionClosed, RawClient, Simple, poll
from test_durability_types import lmdb_info, wait_for_sweeper

pytestmark = pytest.mark.skipif(harness.TESTING_REDIS, reason="Lode's chunked strings and INFO fields")

OK = Simple(b"OK")
WRITERS = 4
LOAD_SECONDS = 1.5
CHUNK = 64


class StringWriter(threading.Thread):
    """Writes its own keys as fast as the server acknowledges, keeping what the
    acknowledged replies promise; the command in flight at the kill may or may not
    have happened (`pending`)."""

    def __init__(self, port, wid, stop):
        super().__init__(daemon=True)
        self.port, self.wid, self.stop = port, wid, stop
        self.keys = [f"w{wid}:s{i}" for i in range(4)]
        self.state = {k: b"" for k in self.keys}
        self.pending = None  # (key, value it would have)
        self.acked = 0
        self.error = None

    def run(self):
        rng = random.Random(500 + self.wid)
        try:
            with RawClient(self.port, timeout=10) as c:
                while not self.stop.is_set():
                    self.step(c, rng)
                    self.acked += 1
        except (ConnectionClosed, OSError):
            pass
        except Exception as e:  # a wrong reply
            self.error = e

    def step(self, c, rng):
        key = rng.choice(self.keys)
        old = self.state[key]
        r = rng.random()
        data = rng.randbytes(rng.choice([1, 10, 100, 1000]))
        if r < 0.35:
            new, cmd, expected = old + data, ("APPEND", key, data), len(old) + len(data)
        elif r < 0.65:
            at = rng.randrange(0, len(old) + 200)
            grown = old.ljust(at, b"\0")
            new = grown[:at] + data + grown[at + len(data):]
            cmd, expected = ("SETRANGE", key, at, data), len(new)
        elif r < 0.9:
            bit, on = rng.randrange(0, (len(old) + 300) * 8), rng.randrange(2)
            buf = bytearray(old.ljust(bit // 8 + 1, b"\0"))
            was = buf[bit // 8] >> (7 - bit % 8) & 1
            buf[bit // 8] = buf[bit // 8] | (0x80 >> bit % 8) if on else buf[bit // 8] & ~(0x80 >> bit % 8)
            new, cmd, expected = bytes(buf), ("SETBIT", key, bit, on), was
        else:
            new = rng.randbytes(rng.randrange(0, 12000))
            cmd, expected = ("SET", key, new), OK
        if len(new) > 12800:  # stay around 200 chunks
            new, cmd, expected = b"", ("SET", key, b""), OK
        self.pending = (key, new)
        reply = c.call(*cmd)
        assert reply == expected, f"{cmd[:3]!r}: {reply!r}, expected {expected!r}"
        self.state[key] = new
        self.pending = None

    def check(self, c):
        for key, acked in self.state.items():
            got = c.call("GET", key) or b""
            maybe = self.pending[1] if self.pending and self.pending[0] == key else acked
            assert got in (acked, maybe), (f"writer {self.wid} {key}: {len(got)} bytes, acknowledged {len(acked)}, "
                                           f"first difference at {next((i for i, (x, y) in enumerate(zip(got, acked)) if x != y), None)}")


@pytest.mark.parametrize("appendfsync", ["always", "everysec"])
def test_no_acknowledged_chunk_write_is_lost_on_kill9(appendfsync):
    srv = harness.lode_server(["--appendfsync", appendfsync, "--string-chunk-size", str(CHUNK)]).start()
    try:
        stop = threading.Event()
        writers = [StringWriter(srv.port, wid, stop) for wid in range(WRITERS)]
        for w in writers:
            w.start()
        assert poll(lambda: all(w.acked >= 20 or not w.is_alive() for w in writers), timeout=30)
        time.sleep(LOAD_SECONDS)
        assert all(w.is_alive() for w in writers), [w.error for w in writers]
        srv.kill9()
        stop.set()
        for w in writers:
            w.join(30)
            assert w.error is None, f"writer {w.wid}: {w.error!r}"
        assert sum(w.acked for w in writers) >= 200, "too little load to test anything"
        srv.start()
        with srv.client(timeout=30) as c:
            for w in writers:
                w.check(c)
    finally:
        srv.cleanup()


def test_chunked_values_survive_restart():
    srv = harness.lode_server(["--string-chunk-size", "1000"]).start()
    try:
        big = random.Random(7).randbytes(250_000)
        with srv.client() as c:
            assert c.call("SET", "big", big, "EX", 1000) == OK
            assert c.call("SETBIT", "sparse", 8 * 5_000_000 + 6, 1) == 0
            assert c.call("SETRANGE", "sparse", 10, b"head") == 5_000_001
            assert c.call("APPEND", "big", b"tail") == 250_004
        srv.stop()
        srv.start()
        with srv.client() as c:
            assert c.call("GET", "big") == big + b"tail"
            assert 990 <= c.call("TTL", "big") <= 1000
            assert c.call("STRLEN", "sparse") == 5_000_001
            assert c.call("GETRANGE", "sparse", 8, 15) == b"\0\0head\0\0"
            assert c.call("GETRANGE", "sparse", -1, -1) == b"\x02"
            assert c.call("BITCOUNT", "sparse") == 1 + sum(bin(b).count("1") for b in b"head")
    finally:
        srv.cleanup()


def test_a_huge_value_is_not_cached_whole_and_its_chunks_are_swept():
    srv = harness.lode_server().start()
    try:
        with srv.client(timeout=30) as c:
            base = wait_for_sweeper(c)["lmdb_element_entries"]
            value = random.Random(3).randbytes(16 << 20)
            assert c.call("SET", "v", value) == OK
            assert c.call("GET", "v") == value
            info = lmdb_info(c)
            chunks = -(-len(value) // 65520)
            assert info["lmdb_element_entries"] == base + chunks
            cache = int(dict(line.split(":", 1) for line in c.call("INFO", "memory").decode().split("\r\n")
                             if ":" in line)["cache_used_bytes"])
            assert cache < 1 << 20, f"the cache holds {cache} bytes after a GET of 16 MB"

            # A copy owns its chunks: deleting the source sweeps the source's only.
            assert c.call("COPY", "v", "v2") == 1
            assert c.call("DEL", "v") == 1
            wait_for_sweeper(c, entries=base + chunks)
            assert c.call("GET", "v2") == value
            # Overwritten by a short value, expired: every chunk goes.
            assert c.call("SET", "v2", b"short") == OK
            assert c.call("SETBIT", "bm", 8 * 100_000_000, 1) == 0  # one chunk of 100 MB
            assert lmdb_info(c)["lmdb_element_entries"] <= base + 1 + chunks
            assert c.call("PEXPIRE", "bm", 50) == 1
            time.sleep(0.2)
            assert c.call("EXISTS", "bm") == 0
            wait_for_sweeper(c, entries=base)
            assert c.call("GET", "v2") == b"short"
    finally:
        srv.cleanup()
