"""The dataset of Tests/fixtures/format1-data.tar.gz: a data directory written by a
Lode server of on-disk format 1 (the layout before SCAN cursors became positions
in a hash order), which the current server migrates at start-up.

`write(r)` fills a server, `check(r)` asserts the data read back. The fixture was
made with the last format 1 build (commit 74b01d7):
    python3 Tests/python/format1_fixture.py /path/to/format-1/lode-server
which starts that server on a temporary directory, writes the dataset, shuts it
down and packs the directory into the fixture.
"""
import os
import subprocess
import sys
import tarfile
import tempfile

LONG_KEY = "long:" + "k" * 700
LONG_FIELD = "f" * 900
FAR = 4000000000


def write(r):
    pipe = r.pipeline(transaction=False)
    for i in range(3000):
        pipe.set(f"str:{i}", f"v{i}")
    pipe.set(LONG_KEY, "long value")
    pipe.set("expiring", "later")
    pipe.expireat("expiring", FAR)
    for i in range(0, 3000, 500):
        pipe.hset("hash:big", mapping={f"f{j}": str(j) for j in range(i, i + 500)})
    pipe.hset("hash:big", LONG_FIELD, "long field")
    pipe.sadd("set:big", *[f"m{i}" for i in range(2000)])
    pipe.zadd("zset:big", {f"z{i}": i * 0.5 for i in range(1000)})
    pipe.rpush("list", *[f"e{i}" for i in range(500)])
    pipe.lpush("list", "first")
    pipe.hset("gone", mapping={f"g{i}": "x" for i in range(2000)})
    pipe.delete("gone")
    pipe.execute()
    r.select(3)
    r.set("in:3", "three")
    r.hset("hash:3", "a", "1")
    r.select(5)
    r.set("swapped", "from 5")
    r.swapdb(5, 6)
    r.select(0)


def check(r):
    """Asserts everything `write` stored, read through a server of today's format."""
    assert r.dbsize() == 3000 + 6
    pipe = r.pipeline(transaction=False)
    for i in range(3000):
        pipe.get(f"str:{i}")
    assert pipe.execute() == [f"v{i}".encode() for i in range(3000)]
    assert r.get(LONG_KEY) == b"long value"
    assert r.expiretime("expiring") == FAR
    h = r.hgetall("hash:big")
    assert len(h) == 3001 and h[b"f2999"] == b"2999" and h[LONG_FIELD.encode()] == b"long field"
    assert r.hget("hash:big", "f17") == b"17"
    assert r.smembers("set:big") == {f"m{i}".encode() for i in range(2000)}
    assert r.sismember("set:big", "m1999")
    assert r.zrange("zset:big", 0, 2, withscores=True) == [(b"z0", 0.0), (b"z1", 0.5), (b"z2", 1.0)]
    assert r.zscore("zset:big", "z999") == 499.5 and r.zcard("zset:big") == 1000
    assert r.lrange("list", 0, 2) == [b"first", b"e0", b"e1"] and r.llen("list") == 501
    assert r.lindex("list", -1) == b"e499"
    assert not r.exists("gone")
    r.select(3)
    assert r.get("in:3") == b"three" and r.hget("hash:3", "a") == b"1"
    r.select(6)
    assert r.get("swapped") == b"from 5"
    r.select(5)
    assert r.dbsize() == 0
    r.select(0)


def main(server):
    import redis
    sys.path.insert(0, os.path.dirname(__file__))
    import harness
    work = tempfile.mkdtemp(prefix="format1-")
    data = os.path.join(work, "data")
    proc = subprocess.Popen([server, os.path.join(harness.ROOT, "default.conf"), "--port", "0", "--dir", data],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    for line in proc.stdout:
        if "Ready to accept connections tcp" in line:
            port = int(line.rsplit("port=", 1)[1].split()[0])
            break
    r = redis.Redis(port=port)
    write(r)
    check(r)
    r.shutdown()
    proc.wait(30)
    out = os.path.join(harness.ROOT, "Tests", "fixtures", "format1-data.tar.gz")
    with tarfile.open(out, "w:gz") as tar:
        tar.add(os.path.join(data, "data.mdb"), arcname="data/data.mdb")
    print(out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main(sys.argv[1])
