"""redis-cli against Lode as an operator uses it, compared with a real redis-server:
interactive argument hints and HELP <command> (from COMMAND DOCS), --stat, --bigkeys,
--memkeys and --latency-history, each under a pseudo-terminal as redis-cli expects.

Run (from the repository root): pytest Tests/python/test_redis_cli.py
"""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run_in_pty(argv, seconds, typed=None):
    """Runs argv on a 200-column pseudo-terminal for `seconds`, answering linenoise's
    cursor-position query and typing `typed` at the first prompt; returns the output
    without ANSI sequences."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out, typed_at, deadline = b"", None, time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                out += chunk
                if b"\x1b[6n" in chunk:
                    os.write(master, b"\x1b[1;1R")
            if typed is not None and typed_at is None and b"> " in out:
                os.write(master, typed)
                typed_at = len(out)
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    text = out[typed_at or 0:].decode("utf-8", "replace")
    return ANSI.sub("", text)


def last_hint(text):
    return text.replace("\r", "\n").strip().splitlines()[-1]


@pytest.mark.parametrize("typed", [b"SET ", b"HSET k ", b"ZADD ", b"CLIENT KILL ", b"LPOS ", b"EVAL "])
def test_interactive_hints_as_redis(lode_module, redis_ref, typed):
    lode = last_hint(run_in_pty(["redis-cli", "-p", str(lode_module.port)], 1.5, typed))
    redis = last_hint(run_in_pty(["redis-cli", "-p", str(redis_ref.port)], 1.5, typed))
    assert lode.split("> ", 1)[1] == redis.split("> ", 1)[1]
    assert len(lode.split("> ", 1)[1]) > len(typed)          # a hint was shown


def test_help_command_as_redis(lode_module, redis_ref):
    outputs = []
    for srv in (lode_module, redis_ref):
        done = subprocess.run(["redis-cli", "-p", str(srv.port)], input=b"HELP SET\n", stdout=subprocess.PIPE, timeout=20)
        outputs.append(done.stdout.decode())
    assert outputs[0] == outputs[1] and "SET key value [NX|XX]" in ANSI.sub("", outputs[0])


def test_stat_bigkeys_memkeys_latency(lode, redis_ref):
    for srv in (lode, redis_ref):
        with srv.client() as c:
            c.call("FLUSHALL")
            c.call("SET", "cli:big", "x" * 5000)
            c.call("SET", "cli:small", "x")
            c.call("RPUSH", "cli:list", *["a"] * 30)
            c.call("HSET", "cli:hash", *[x for i in range(20) for x in (f"f{i}", "v")])
    summaries = []
    for srv in (lode, redis_ref):
        out = run_in_pty(["redis-cli", "-p", str(srv.port), "--bigkeys"], 5)
        summaries.append([line for line in out.replace("\r", "").splitlines()
                          if line.startswith(("Biggest", "1 ", "2 ", "0 "))])
    assert summaries[0] == summaries[1] and any("'\"cli:big\"' has 5000 bytes" in s for s in summaries[0])
    memkeys = run_in_pty(["redis-cli", "-p", str(lode.port), "--memkeys"], 5)
    assert re.search(r"Biggest string found '\"cli:big\"' has \d+ bytes", memkeys), memkeys
    stat = run_in_pty(["redis-cli", "-p", str(lode.port), "--stat", "-i", "0.3"], 1.5).replace("\r", "")
    assert "keys       mem      clients blocked requests" in stat
    assert re.search(r"^4\s+\S+\s+1\s+0\s+\d+ \(\+\d+\)", stat, re.M), stat
    latency = run_in_pty(["redis-cli", "-p", str(lode.port), "--latency-history", "-i", "1"], 1.5)
    assert re.search(r"min: \d+, max: \d+, avg: [\d.]+ \(\d+ samples\)", latency), latency
