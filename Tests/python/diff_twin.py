"""Lock-step scripts on several connections to two servers, compared byte for byte
(test_differential_multi.py, test_differential_pubsub.py).

A Twin holds named connections ("A", "B", ...) to the reference redis-server and
the same names to the server under test. Every step runs on redis first, then on
the subject, and the raw reply bytes (or, for a subscriber, the raw frames) of
the two are compared; a script goes on after a mismatch so the transcript shows
everything, and fails at the end with the transcript, `!!` marking the steps
whose bytes differ.

A script step is one of:
  * "A SET k v"           a command on connection A (split on spaces);
  * ("A", "SET", b"...")   the same, for empty or binary arguments;
  * "SLEEP 0.15"          both servers wait (the two waits overlap: one sleep);
  * "A CLOSED"            the server must close A: the bytes read until it does
                          (and whether it did) are compared;
  * (step, expected)      a step whose redis reply must also be `expected` (raw
                          bytes, or {resp: bytes}): a check of the test itself.
Twin.call_normalized runs a command whose reply order is the server's own and
compares the two replies after a normalization.
"""
import socket
import time

import harness
from difflib_redis import SUBJECT, hello_match, same
from harness import RawClient, encode_command

IO_TIMEOUT = 3.0
# PING's reply in RESP2 subscribed mode, and otherwise (RESP3 too)
PONGS = (b"*2\r\n$4\r\npong\r\n$0\r\n\r\n", b"+PONG\r\n")


def parse(raw):
    """The typed value (exact_types) of one complete raw RESP reply."""
    p = RawClient.__new__(RawClient)
    p.sock, p.buf, p.exact_types, p._captured = None, raw, True, None
    value = p.read_reply()
    assert p.buf == b"", f"trailing bytes after one reply: {p.buf!r}"
    return value


def _normalized(raw, normalize):
    try:
        value = parse(raw)
    except (ValueError, AttributeError, AssertionError):  # not one complete reply
        return raw
    return normalize(value)


def read_frames(c, count, timeout=IO_TIMEOUT):
    """The next `count` replies on c as raw bytes, or fewer if they do not all
    arrive within `timeout` seconds (delivery to a subscriber is asynchronous)."""
    deadline = time.monotonic() + timeout
    frames = []
    try:
        while len(frames) < count:
            c.sock.settimeout(max(0.001, deadline - time.monotonic()))
            frames.append(c.read_reply_raw())
    except socket.timeout:
        pass
    except harness.ConnectionClosed:
        frames.append(b"(connection closed)")
    finally:
        c.sock.settimeout(IO_TIMEOUT)
    return frames


def show_raw(data, limit=300):
    text = repr(data)
    return text if len(text) <= limit else text[:limit] + f"...({len(data)} bytes)"


class Twin:
    """Named connections to redis ("ref") and to the subject ("sub")."""

    def __init__(self, ref_srv, sub_srv, names="AB", resp=2):
        self.ref_srv, self.sub_srv = ref_srv, sub_srv
        self.resp = resp
        self.conns = {}
        self.streams = {}   # name -> [bytes redis sent, bytes the subject sent] on that connection
        self.lines, self.ok = [], True
        for name in names:
            self.connect(name, resp)

    def connect(self, name, resp=None):
        resp = self.resp if resp is None else resp
        pair = (RawClient(self.ref_srv.port, IO_TIMEOUT, exact_types=True),
                RawClient(self.sub_srv.port, IO_TIMEOUT, exact_types=True))
        self.conns[name] = pair
        self.streams[name] = [b"", b""]
        if resp == 3:
            a, b = (c.call("HELLO", "3") for c in pair)
            assert isinstance(a, harness.Map), f"redis HELLO 3: {a!r}"
            self.record(f"{name} HELLO 3 (id, version, server not compared)", repr(a).encode(), repr(b).encode(),
                        hello_match(a, b))
        return pair

    def close(self):
        for a, b in self.conns.values():
            a.close()
            b.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def record(self, label, a, b, ok=None):
        ok = (a == b) if ok is None else ok
        self.ok &= ok
        self.lines.append(f"{'  ' if ok else '!!'} {label}")
        self.lines.append(f"        redis:   {show_raw(a)}")
        if not ok:
            self.lines.append(f"        {SUBJECT + ':':8} {show_raw(b)}")
        return ok

    def note(self, text):
        self.lines.append(f"   -- {text}")

    # -- steps

    def call(self, name, *cmd, label=None):
        """Runs cmd on connection `name` of both servers; redis' raw reply."""
        ra, rb = self.conns[name]
        a = self._reply(ra, cmd)
        b = self._reply(rb, cmd)
        self.log(name, a, b)
        self.record(label or f"{name} {fmt(cmd)}", a, b)
        return a

    def call_normalized(self, name, *cmd, normalize, label=None):
        """Like call, for a reply whose order is the server's own: the two replies
        match if normalize(parsed exact-typed reply) is the same for both (a reply
        that does not parse, e.g. a timeout, is compared as it is). Not part of the
        connection's byte stream (check() compares those). Redis' raw reply."""
        ra, rb = self.conns[name]
        a, b = self._reply(ra, cmd), self._reply(rb, cmd)
        na, nb = _normalized(a, normalize), _normalized(b, normalize)
        if not self.record(label or f"{name} {fmt(cmd)}  (normalized)", a, b, same(na, nb)):
            self.lines.append(f"        normalized: {na!r}\n        {SUBJECT + ':':8}  {nb!r}")
        return a

    def log(self, name, a, b):
        stream = self.streams[name]
        stream[0] += a
        stream[1] += b

    @staticmethod
    def _reply(c, cmd):
        try:
            return c.call_raw(*cmd)
        except socket.timeout:
            return b"(no reply within %gs)" % IO_TIMEOUT
        except (harness.ConnectionClosed, OSError) as e:
            return b"(connection lost: %s)" % type(e).__name__.encode()

    def send(self, name, *cmd):
        """Sends cmd on both without reading anything (a subscriber's frames are
        read with frames())."""
        for c in self.conns[name]:
            c.send_raw(encode_command(*cmd))

    def frames(self, name, count, label=None, timeout=IO_TIMEOUT):
        """Reads `count` frames on connection `name` of both servers; redis' frames.
        Redis must deliver them all (else the test itself is wrong)."""
        ra, rb = self.conns[name]
        a = read_frames(ra, count, timeout)
        b = read_frames(rb, count, timeout if len(a) == count else 0.2)
        assert len(a) == count, f"redis sent {len(a)} of the {count} frames expected on {name}: {a!r}"
        self.log(name, b"".join(a), b"".join(b))
        self.record(label or f"{name} <- {count} frame(s)", b"".join(a), b"".join(b))
        return a

    def sub(self, name, *cmd, n=1):
        """Sends cmd on a (maybe subscribed) connection and reads its n frames."""
        self.send(name, *cmd)
        return self.frames(name, n, f"{name} {fmt(cmd)}  ({n} frame(s))")

    def sync(self, name, ping=("PING",)):
        """Sends PING on `name` and reads every frame up to its reply (whatever
        came before it is compared too: nothing unexpected may be pending)."""
        self.send(name, *ping)
        got = []
        for c in self.conns[name]:
            frames = []
            while True:
                f = read_frames(c, 1)
                frames += f
                if not f or f[0] in PONGS or f[0].startswith(b"(connection"):
                    break
            got.append(b"".join(frames))
        self.log(name, *got)
        self.record(f"{name} PING (and anything before its reply)", *got)
        return got[0]

    def closed(self, name):
        ra, rb = self.conns[name]
        a, b = ra.read_raw_until_close(2.0), rb.read_raw_until_close(2.0)
        assert a[1], f"redis did not close {name}"
        self.log(name, a[0], b[0])
        self.record(f"{name} (closed by the server?)", repr(a).encode(), repr(b).encode())

    def sleep(self, seconds):
        self.note(f"sleep {seconds}s")
        time.sleep(seconds)

    def expect_ref(self, label, got, expected):
        if isinstance(expected, dict):
            expected = expected.get(self.resp)
            if expected is None:
                return
        assert got == expected, (f"{label}: redis itself answered {got!r}, the test expects {expected!r}\n"
                                 + self.transcript())

    def run(self, script):
        for item in script:
            expected = None
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (bytes, dict)) \
                    and isinstance(item[0], (str, tuple)):
                item, expected = item
            step = tuple(item.split(" ")) if isinstance(item, str) else tuple(item)
            if step[0] == "SLEEP":
                self.sleep(float(step[1]))
                continue
            if len(step) == 2 and step[1] == "CLOSED":
                self.closed(step[0])
                continue
            got = self.call(step[0], *step[1:])
            if expected is not None:
                self.expect_ref(fmt(step), got, expected)

    def transcript(self):
        return "\n".join(self.lines)

    def check(self, label=""):
        assert self.ok, f"{label}replies differ (!! marks the mismatches):\n" + self.transcript()
        for name, (a, b) in self.streams.items():
            assert a == b, (f"{label}the byte streams of connection {name} differ:\n"
                            f"{show_raw(a, 2000)}\n{show_raw(b, 2000)}")


def fmt(cmd, limit=90):
    parts = []
    for a in cmd:
        if isinstance(a, bytes):
            a = a.decode("latin-1")
        a = str(a)
        parts.append(repr(a) if (not a or any(ch in a for ch in " \r\n\x00")) else a)
    text = " ".join(parts)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"
