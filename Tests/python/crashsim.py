"""Power-loss simulation for Lode: traces of what a server did to its data files,
and the directory states a power cut could have left behind.

A traced server runs with tools/crashsim/shim.c preloaded (`traced_env`): every
open, write, truncate, rename, unlink and fsync/fdatasync on a file of its data
directory is appended to a trace file, with the bytes written and the time. The
directory is empty when tracing starts, so the trace alone says what each file
held at every moment.

The model (`Trace.state`). A crash at point i means: ops 0..i-1 happened, later
ones did not. What is on disk then is, for each file (inode):
  * durable: every op recorded before the SYNC_BEGIN of an fsync/fdatasync of
    that inode whose SYNC_END is before the crash (and whose call returned before
    the crash, by its timestamp) and succeeded; and every write made through an
    O_SYNC/O_DSYNC descriptor;
  * maybe: the other ops on it before i (writes split into 4 KiB page-aligned
    pieces, which the page cache writes back independently and in any order;
    truncates), of which a chosen subset reaches the disk; the chosen ops and the
    durable ones are applied in program order. This is more than any real
    filesystem does (a truncate may be dropped while later writes stay), so a
    state the model builds may be one no filesystem makes, never the reverse;
    Lode must open every one of them.
  * the directory: names (create, rename, unlink) are durable up to the last
    fsync of the directory itself; later name operations reach the disk as a
    prefix (filesystems journal them in order). A file whose creation is not
    durable is absent.
  * a 512-byte sector is never torn; a 4 KiB piece is applied whole or not at
    all (torn pages are not modelled: LMDB and the commit log guard their small
    records by checksums or by their position in a sector).
  * `drop_after_failed_sync`: Linux marks dirty pages clean when their writeback
    fails (the error is reported once, to one fsync), so after a failed fsync the
    writes it should have covered may never reach the disk, even once a later
    fsync succeeds. With it, those writes are lost in every state.

A workload (`Workload`) sends commands on one connection, in order, and records
when each reply arrived (time.time_ns(), the clock the shim uses). Under
`appendfsync always` every write whose reply arrived before the crash must be in
the state; under `everysec` those acknowledged more than a bound before it. Since
the commands go in order on one connection, what a recovered server holds must be
exactly what the first n commands make, for some n at least the acknowledged
count: no hole, nothing extra, nothing corrupt (`check_recovered`).
"""
import os
import random
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from contextlib import contextmanager

import harness
from harness import Err, RawClient, Simple

ROOT = harness.ROOT
SHIM_BUILD = os.path.join(ROOT, "tools", "crashsim", "build.sh")
PIECE = 4096

# Record kinds (shim.c)
OPEN, CLOSE, WRITE, TRUNC, SYNC_BEGIN, SYNC_END, RENAME, UNLINK, START = range(1, 10)
HEADER = struct.Struct("<IIQiiqqqiIQ")
assert HEADER.size == 64
O_CREAT, O_SYNC, O_DSYNC = os.O_CREAT, os.O_SYNC, os.O_DSYNC

# Files LMDB and the server recreate at every start and that carry no data.
SCRATCH = {"lock.mdb", "lode.lock", "server.log"}


def shim_path():
    """Builds the shim if needed (cc, a few hundred ms) and returns the .so path."""
    out = subprocess.run(["sh", SHIM_BUILD], check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def dump_bin():
    """lode-dump next to lode-server, as the build puts them."""
    return os.environ.get("LODE_DUMP_BIN", os.path.join(os.path.dirname(harness.LODE_BIN), "lode-dump"))


@contextmanager
def patched_environ(**values):
    """Sets environment variables for the processes started inside (harness.Server
    passes the environment on to the server)."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def shim_env(datadir, trace=None, fail_flag=None, fail_match=None):
    env = {"LD_PRELOAD": shim_path(), "CRASHSIM_DIR": datadir, "CRASHSIM_TRACE": trace,
           "CRASHSIM_FAIL_FSYNC_FLAG": fail_flag, "CRASHSIM_FAIL_FSYNC_MATCH": fail_match}
    return env


def start_with_shim(server, **shim):
    """Starts a harness server with the shim preloaded for its data directory."""
    datadir = harness._last_option(server.argv, "dir")
    with patched_environ(**shim_env(datadir, **shim)):
        return server.start()


# --------------------------------------------------------------------------- trace


class Op:
    __slots__ = ("i", "kind", "tid", "ts", "fd", "flags", "off", "len", "res", "err", "path", "data",
                 "inode", "path2", "injected")

    def __repr__(self):
        names = {OPEN: "open", CLOSE: "close", WRITE: "write", TRUNC: "trunc", SYNC_BEGIN: "sync<",
                 SYNC_END: "sync>", RENAME: "rename", UNLINK: "unlink", START: "start"}
        return (f"#{self.i} {names.get(self.kind)} {self.path!r} off={self.off} len={self.len} "
                f"res={self.res} ino={self.inode}")


def parse(path):
    """The trace's records as Ops (a torn last record, from a kill -9, is dropped)."""
    with open(path, "rb") as f:
        raw = f.read()
    ops, at = [], 0
    while at + HEADER.size <= len(raw):
        kind, tid, ts, fd, flags, off, ln, res, err, pathlen, _seq = HEADER.unpack_from(raw, at)
        end = at + HEADER.size + pathlen + (ln if kind == WRITE else 0)
        if end > len(raw):
            break
        op = Op()
        op.i, op.kind, op.tid, op.ts, op.fd, op.flags = len(ops), kind, tid, ts, fd, flags
        op.off, op.len, op.res, op.err = off, ln, res, err
        p = raw[at + HEADER.size: at + HEADER.size + pathlen]
        op.path2 = None
        if kind == RENAME:
            a, b = p.split(b"\0", 1)
            op.path, op.path2 = a.decode(), b.decode()
        else:
            op.path = p.decode()
        op.data = raw[at + HEADER.size + pathlen: end] if kind == WRITE else None
        op.inode = None
        op.injected = kind == SYNC_END and off == 1
        ops.append(op)
        at = end
    return ops


class Trace:
    """A parsed trace with, per op, the inode it touched; builds crash states."""

    def __init__(self, path, drop_after_failed_sync=False):
        self.ops = parse(path)
        self.ts = [op.ts for op in self.ops]
        self._index(drop_after_failed_sync)

    def _index(self, drop_after_failed_sync):
        names = {}           # name -> inode (the live namespace as the process saw it)
        self.inode_ops = {}  # inode -> [op index] (WRITE, TRUNC), program order
        self.dir_ops = []    # (op index, "create"|"rename"|"unlink", args)
        self.dir_syncs = []  # (begin index, end index) of successful fsyncs of the directory
        self.syncs = {}      # inode -> [(begin, end index, ok)]
        self.lost = set()    # op indices lost to a failed sync (drop_after_failed_sync)
        next_inode = 0
        begins = {}          # (tid, fd) -> begin index
        for op in self.ops:
            if op.kind == OPEN and op.path:
                ino = names.get(op.path)
                if ino is None:
                    if op.off:
                        raise ValueError(f"{op.path} was not empty when tracing began: {op}")
                    ino = names[op.path] = next_inode
                    next_inode += 1
                    self.inode_ops[ino] = []
                    self.syncs[ino] = []
                    self.dir_ops.append((op.i, "create", (op.path, ino)))
                op.inode = ino
            elif op.kind in (WRITE, TRUNC, SYNC_BEGIN, SYNC_END, CLOSE) and op.path:
                op.inode = names.get(op.path)
                if op.inode is None:
                    raise ValueError(f"op on a file the trace never opened: {op}")
                if op.kind in (WRITE, TRUNC):
                    self.inode_ops[op.inode].append(op.i)
            elif op.kind == RENAME:
                if op.path in names:
                    names[op.path2] = names.pop(op.path)
                self.dir_ops.append((op.i, "rename", (op.path, op.path2)))
            elif op.kind == UNLINK:
                names.pop(op.path, None)
                self.dir_ops.append((op.i, "unlink", (op.path,)))
            if op.kind == SYNC_BEGIN:
                begins[(op.tid, op.fd)] = op.i
            elif op.kind == SYNC_END:
                b = begins.pop((op.tid, op.fd))
                ok = op.res == 0
                if op.path == "":
                    if ok:
                        self.dir_syncs.append((b, self._effective_end(op)))
                else:
                    self.syncs[op.inode].append((b, self._effective_end(op), ok))
                    if not ok and drop_after_failed_sync:
                        # Everything on it not yet durable before the sync began is gone.
                        durable_before = self._durable_cutoff(op.inode, b)
                        for j in self.inode_ops[op.inode]:
                            if durable_before <= j < b and not self._osync(j):
                                self.lost.add(j)

    def _osync(self, j):
        return self.ops[j].kind == WRITE and self.ops[j].flags == 1

    def _effective_end(self, end_op):
        """The first crash point at which this sync has certainly returned: after the
        first op recorded at or after the moment the call returned (the SYNC_END
        record itself may be written a little later, after a reply went out)."""
        k = end_op.i
        while k > 0 and self.ops[k - 1].ts >= end_op.ts:
            k -= 1
        return k + 1

    def _durable_cutoff(self, inode, crash):
        """Ops on `inode` recorded before this index are durable at crash point `crash`."""
        cut = 0
        for b, e, ok in self.syncs[inode]:
            if ok and e <= crash:
                cut = max(cut, b)
        return cut

    def __len__(self):
        return len(self.ops)

    def interesting_points(self, names=("data.mdb", "synced.lode")):
        """Crash points around the syncs and truncates of the given files and of the
        commit logs' truncates: where the protocol's order matters most."""
        pts = set()
        for op in self.ops:
            base = op.path.rsplit("/", 1)[-1] if op.path else ""
            if (op.kind in (SYNC_BEGIN, SYNC_END, WRITE) and base in names) or \
                    (op.kind == TRUNC and base.startswith("commit-")):
                for d in (0, 1, 2):
                    if 0 < op.i + d <= len(self.ops):
                        pts.add(op.i + d)
        return sorted(pts)

    def sync_points(self):
        return sorted({op.i + 1 for op in self.ops if op.kind == SYNC_END})

    # ---------------------------------------------------------------- states

    def state(self, crash, rng, mode=None):
        """Files (name -> bytes) a power cut at point `crash` could leave, one pick
        among the possible ones: `mode` "all" (every unsynced op made it), "none", or
        None for a random pick per file (prefix, random subset, all, none)."""
        # Names: durable up to the last directory sync, then a prefix.
        cut = 0
        for b, e in self.dir_syncs:
            if e <= crash:
                cut = max(cut, b)
        dops = [d for d in self.dir_ops if d[0] < crash]
        certain = sum(1 for d in dops if d[0] < cut)
        if mode == "all":
            keep = len(dops)
        elif mode == "none":
            keep = certain
        else:
            keep = rng.randint(certain, len(dops)) if rng.random() < 0.3 else len(dops)
        names = {}
        for _, what, args in dops[:keep]:
            if what == "create":
                names[args[0]] = args[1]
            elif what == "rename":
                if args[0] in names:
                    names[args[1]] = names.pop(args[0])
            else:
                names.pop(args[0], None)
        files = {}
        for name, ino in names.items():
            if name.rsplit("/", 1)[-1] in SCRATCH or "/" in name:
                continue
            files[name] = self._content(ino, crash, rng, mode)
        return files

    def _content(self, ino, crash, rng, mode):
        cutoff = self._durable_cutoff(ino, crash)
        items = []   # (op index, piece) in program order; piece = (off, bytes) or ("trunc", size)
        maybe = []   # indices into items that may or may not have reached the disk
        for j in self.inode_ops[ino]:
            if j >= crash:
                break
            if j in self.lost:
                continue
            op = self.ops[j]
            durable = j < cutoff or self._osync(j)
            if op.kind == TRUNC:
                if not durable:
                    maybe.append(len(items))
                items.append(("trunc", op.len))
                continue
            start, data = op.off, op.data
            pos = 0
            while pos < len(data):
                page_end = (start + pos) // PIECE * PIECE + PIECE
                n = min(len(data) - pos, page_end - (start + pos))
                if not durable:
                    maybe.append(len(items))
                items.append((start + pos, data[pos:pos + n]))
                pos += n
        chosen = set(range(len(items))) - set(maybe)
        pick = mode or rng.choice(["all", "all", "none", "prefix", "subset", "subset"])
        if pick == "all":
            chosen.update(maybe)
        elif pick == "prefix":
            chosen.update(maybe[:rng.randint(0, len(maybe))])
        elif pick == "subset":
            p = rng.random()
            chosen.update(m for m in maybe if rng.random() < p)
        buf = bytearray()
        for k, item in enumerate(items):
            if k not in chosen:
                continue
            if item[0] == "trunc":
                del buf[item[1]:]
                if len(buf) < item[1]:
                    buf.extend(bytes(item[1] - len(buf)))
            else:
                off, data = item
                if len(buf) < off:
                    buf.extend(bytes(off - len(buf)))
                buf[off:off + len(data)] = data
        return bytes(buf)


def write_state(files, datadir):
    os.makedirs(datadir, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(datadir, name), "wb") as f:
            f.write(content)


# --------------------------------------------------------------------------- workload


class Workload:
    """Commands sent in order on one connection; `acks[i]` is when command i's reply
    arrived (ns), `replies[i]` what it was. `model(n)` is the keyspace after the first
    n commands: {key: ("string", bytes) | ("list", [..]) | ("hash", {..}) | ("zset", {member: score})}.
    Every command but DEL leaves a trace that tells it was applied (`applied_count`)."""

    def __init__(self, n, seed=1, big_every=97):
        rng = random.Random(seed)
        self.cmds = []
        live = []
        for i in range(n):
            r = rng.random()
            if r < 0.55:
                size = 20000 if i % big_every == 0 else rng.choice([8, 40, 200, 900])
                self.cmds.append(("SET", f"s:{i}", self.value(i, size)))
                live.append(f"s:{i}")
            elif r < 0.65:
                self.cmds.append(("SET", f"ow:{i % 40}", self.value(i, 100)))
            elif r < 0.75:
                self.cmds.append(("RPUSH", f"list:{i % 3}", f"e{i}"))
            elif r < 0.85:
                self.cmds.append(("HSET", f"hash:{i % 3}", f"f{i}", self.value(i, 30)))
            elif r < 0.93:
                self.cmds.append(("ZADD", f"zset:{i % 3}", str(i % 1000), f"m{i}"))
            elif live:
                self.cmds.append(("DEL", live.pop(rng.randrange(len(live)))))
            else:
                self.cmds.append(("RPUSH", f"list:{i % 3}", f"e{i}"))
        self.acks = [None] * len(self.cmds)
        self.replies = [None] * len(self.cmds)

    @staticmethod
    def value(i, size):
        stem = b"v%d:" % i
        return (stem * (size // len(stem) + 1))[:size]

    def run(self, client, start, end, batch=16, pause=0.0):
        """Sends commands [start, end) in pipelined batches, recording each reply's
        arrival; stops at the first dropped connection (returns the next index)."""
        i = start
        while i < end:
            chunk = self.cmds[i:min(end, i + batch)]
            client.send_raw(b"".join(harness.encode_command(*c) for c in chunk))
            for _ in chunk:
                self.replies[i] = client.read_reply()
                self.acks[i] = time.time_ns()
                i += 1
            if pause:
                time.sleep(pause)
        return i

    def acknowledged(self, before_ns):
        """How many commands (a prefix) got a success reply before `before_ns`."""
        n = 0
        for t, r in zip(self.acks, self.replies):
            if t is None or t > before_ns or isinstance(r, Err):
                break
            n += 1
        return n

    def model(self, n):
        ks = {}
        for c in self.cmds[:n]:
            op, key = c[0], c[1]
            if op == "SET":
                ks[key] = ("string", c[2])
            elif op == "RPUSH":
                ks.setdefault(key, ("list", []))[1].append(c[2].encode())
            elif op == "HSET":
                ks.setdefault(key, ("hash", {}))[1][c[2].encode()] = c[3]
            elif op == "ZADD":
                ks.setdefault(key, ("zset", {}))[1][c[3].encode()] = float(c[2])
            elif op == "DEL":
                ks.pop(key, None)
        return ks

    def applied_count(self, ks):
        """1 + the last command whose effect `ks` shows (0 if none): a lower bound on
        how many commands the recovered server applied."""
        last = -1
        for key, (typ, val) in ks.items():
            if typ == "string":
                last = max(last, int(val.split(b":", 1)[0][1:]))
            elif typ == "list":
                last = max([last] + [int(e[1:]) for e in val])
            elif typ == "hash":
                last = max([last] + [int(f[1:]) for f in val])
            elif typ == "zset":
                last = max([last] + [int(m[1:]) for m in val])
        return last + 1


def read_keyspace(client):
    """Everything db 0 holds, as Workload.model() shapes it."""
    keys, cursor = [], b"0"
    while True:
        cursor, batch = client.call("SCAN", cursor, "COUNT", 1000)
        keys.extend(batch)
        if cursor == b"0":
            break
    types = client.pipeline([("TYPE", k) for k in keys])
    reads = []
    for k, t in zip(keys, types):
        t = bytes(t).decode()
        reads.append({"string": ("GET", k), "list": ("LRANGE", k, 0, -1), "hash": ("HGETALL", k),
                      "zset": ("ZRANGE", k, 0, -1, "WITHSCORES")}.get(t, ("TYPE", k)))
    values = client.pipeline(reads)
    ks = {}
    for k, t, v in zip(keys, types, values):
        t = bytes(t).decode()
        if t == "hash":
            v = dict(zip(v[0::2], v[1::2]))
        elif t == "zset":
            v = {m: float(s) for m, s in zip(v[0::2], v[1::2])}
        ks[k.decode()] = (t, v)
    return ks, client.call("DBSIZE")


def check_recovered(workload, ks, dbsize, required):
    """Returns (n, problem): the recovered keyspace `ks` must be exactly the model
    after n commands for some n >= required. `problem` is None when it is."""
    if dbsize != len(ks):
        return None, f"DBSIZE {dbsize} but SCAN found {len(ks)} keys"
    lo = workload.applied_count(ks)
    n = lo
    candidates = [lo]
    while n < len(workload.cmds) and workload.cmds[n][0] == "DEL":
        n += 1
        candidates.append(n)
    for n in candidates:
        if workload.model(n) == ks:
            if n < required:
                return n, f"holds the first {n} commands, but {required} were acknowledged"
            return n, None
    model = workload.model(lo)
    diff = sorted(set(model) ^ set(ks))[:5] + [k for k in model if k in ks and model[k] != ks[k]][:5]
    return lo, f"not the state after any prefix (last applied command {lo - 1}); differs in {diff}"


# --------------------------------------------------------------------------- running


def traced_run(workload, extra_args, segments, tmp, batch=16, pause=0.0, last_stop=signal.SIGKILL):
    """Runs the workload against a traced server on an empty data directory,
    killing it (-9) and restarting it between segments (list of command counts);
    the last segment ends with `last_stop` (SIGTERM: a clean shutdown, whose final
    commit and checkpoint are traced too). Returns (trace path, server log text)."""
    workdir = os.path.join(tmp, "traced")
    os.makedirs(workdir)
    trace = os.path.join(tmp, "trace.bin")
    srv = harness.lode_server(extra_args, workdir=workdir)
    at = 0
    logs = ""
    try:
        for k, count in enumerate(segments):
            start_with_shim(srv, trace=trace)
            with srv.client(timeout=30) as c:
                at = workload.run(c, at, min(len(workload.cmds), at + count), batch=batch, pause=pause)
            code = srv.stop(last_stop if k == len(segments) - 1 else signal.SIGKILL)
            if last_stop == signal.SIGTERM and k == len(segments) - 1:
                assert code == 0, f"traced server exited with {code} at SIGTERM"
        logs = srv.log_text()
    finally:
        srv.stop(signal.SIGKILL)
    return trace, logs


# What the opened states made the server do (for the tests' summaries).
STATS = {"opened": 0, "rolled_back": 0}


def check_state(files, workload, required, extra_args, tmp, run_dump=False):
    """Opens a crash state in a fresh server and compares it with the workload.
    Returns (n applied, problem or None)."""
    workdir = tempfile.mkdtemp(prefix="state-", dir=tmp)
    try:
        write_state(files, os.path.join(workdir, "data"))
        srv = harness.lode_server(extra_args, workdir=workdir)
        try:
            srv.start(timeout=20)
        except Exception as e:  # noqa: BLE001 - the failure is the finding
            return None, f"server did not start: {e}"
        try:
            with srv.client(timeout=20) as c:
                ks, dbsize = read_keyspace(c)
            n, problem = check_recovered(workload, ks, dbsize, required)
        finally:
            srv.kill9()
        log = srv.log_text()
        STATS["opened"] += 1
        STATS["rolled_back"] += "was not known to be on disk" in log
        if problem is None and run_dump:
            done = subprocess.run([dump_bin(), "dump", "--dir", os.path.join(workdir, "data"), "--out",
                                   os.path.join(workdir, "out.rdb")],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            if done.returncode != 0:
                problem = f"lode-dump dump failed: {done.stdout.decode(errors='replace')[-800:]}"
        return n, problem
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
