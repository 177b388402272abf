"""Helpers for the blocking-command scenarios of the per-type differential tests
(test_differential_list.py, test_differential_zset.py).

A scenario opens several connections to one server, blocks some of them, writes
from an admin connection and checks the replies against expectations written out
in the test. The `server` fixture runs each scenario twice: against the reference
redis-server ("redis" ids), which validates the expectations, and against the
server under test (Lode, or a second redis-server with DIFF_SELF_CHECK=1).
"""
import re
import socket
import time

import pytest

import harness
from difflib_redis import SUBJECT, same
from harness import Simple

OK = Simple(b"OK")


@pytest.fixture(params=["redis", "subject"], ids=["redis", SUBJECT])
def server(request):
    return request.getfixturevalue("redis_ref" if request.param == "redis" else "subject")


def expect(actual, expected, what):
    assert same(actual, expected), f"{what}: expected {expected!r}, got {actual!r}"


class Scenario:
    """Connections to one server for a blocking scenario, all closed at the end.

    `admin` is a RESP2 connection in db 0 that never blocks."""

    IO_TIMEOUT = 5.0

    def __init__(self, srv):
        self.srv, self.conns, self.blocked = srv, [], 0
        self.admin = self.connect()
        expect(self.admin.call("FLUSHALL"), OK, "FLUSHALL")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for c in self.conns:
            c.close()

    def connect(self, resp=2, db=0):
        c = harness.RawClient(self.srv.port, timeout=self.IO_TIMEOUT, exact_types=True)
        self.conns.append(c)
        if resp == 3:
            assert isinstance(c.call("HELLO", "3"), harness.Map)
        if db:
            expect(c.call("SELECT", str(db)), OK, "SELECT")
        return c

    def do(self, *cmd):
        """Runs cmd on the admin connection."""
        return self.admin.call(*cmd)

    def check(self, cmd, expected):
        expect(self.admin.call(*cmd), expected, " ".join(map(str, cmd)))

    def block(self, *cmd, resp=2, db=0, more=()):
        """A new connection that has sent cmd (and the commands in `more`, pipelined
        after it) and is blocked in it."""
        c = self.connect(resp, db)
        c.send_raw(b"".join(harness.encode_command(*x) for x in (cmd,) + tuple(more)))
        self.blocked += 1
        self.wait_blocked()
        return c

    def served(self, c, expected, what="blocked client's reply"):
        expect(c.read_reply(), expected, what)
        self.blocked -= 1

    def disconnect(self, c):
        c.close()
        self.blocked -= 1
        self.wait_blocked()

    def blocked_clients(self):
        """INFO's blocked_clients, or None if the server does not report it."""
        info = self.admin.call("INFO", "clients")
        m = re.search(rb"blocked_clients:(\d+)", info) if isinstance(info, bytes) else None
        return int(m.group(1)) if m else None

    def wait_blocked(self):
        """Waits until the server has taken in the blocking commands sent so far
        (blocked_clients reaches the count), so the next one queues behind them.
        A server without that INFO field gets a fixed 100 ms instead."""
        deadline = time.monotonic() + 2.0
        while True:
            n = self.blocked_clients()
            if n is None:
                time.sleep(0.1)
                return
            if n == self.blocked or time.monotonic() > deadline:
                return
            time.sleep(0.003)


def silent(c, seconds=0.1):
    """True if c receives nothing within `seconds` (it is still blocked)."""
    if c.buf:
        return False
    c.sock.settimeout(seconds)
    try:
        chunk = c.sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        c.sock.settimeout(Scenario.IO_TIMEOUT)
    if not chunk:
        raise harness.ConnectionClosed()
    c.buf += chunk
    return False


def assert_blocked(c, seconds=0.1):
    assert silent(c, seconds), f"expected the client to still be blocked, but it got {c.read_reply()!r}"
