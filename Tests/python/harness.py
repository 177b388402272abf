"""Process and protocol helpers shared by Lode's Python test suites.

Servers are started on free ports in temporary directories and stopped by PID,
so a test never depends on anything already running on the machine.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LODE_BIN = os.environ.get("LODE_BIN", os.path.join(ROOT, ".build", "release", "lode-server"))
REDIS_BIN = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "redis-server")

# LODE_TEST_TARGET=redis runs the Lode suites against redis-server (with AOF
# persistence) instead of lode-server. It exists to validate the tests
# themselves: everything that is not Lode-specific must pass against Redis.
TARGET = os.environ.get("LODE_TEST_TARGET", "lode")
TESTING_REDIS = TARGET == "redis"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(predicate, timeout=5.0, interval=0.02):
    """Calls predicate() until it returns something truthy or `timeout` seconds
    have passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_for_port(port, proc, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                reply = s.recv(64)
                # Any reply (even -NOAUTH) means ready, except -LOADING: a
                # server still loading its data answers nothing else.
                if reply and not reply.startswith(b"-LOADING"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not answer within {timeout}s")


class Server:
    """A server process (Lode or Redis) on 127.0.0.1:port."""

    def __init__(self, argv, port, workdir, owns_dir):
        self.argv, self.port, self.dir, self._owns_dir = argv, port, workdir, owns_dir
        self.proc = None

    def start(self, timeout=30.0):
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        wait_for_port(self.port, self.proc, timeout)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Stops the process by PID; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout=30.0):
        """Waits for the process to exit on its own (e.g. after SHUTDOWN); returns
        its exit code. A process still running after `timeout` is killed and
        reported as the negative SIGKILL code, so a hang shows up as a failure."""
        if self.proc is None:
            return None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        self.log.close()
        return code

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, timeout=10.0):
        return RawClient(self.port, timeout)

    def log_text(self):
        with open(os.path.join(self.dir, "server.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")


def lode_server(extra_args=(), port=None, workdir=None, conf=None):
    """A Lode server (not started) with its data in a fresh temp dir."""
    owns = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="lode-test-")
    port = port or free_port()
    datadir = os.path.join(workdir, "data")
    if TESTING_REDIS:
        os.makedirs(datadir, exist_ok=True)  # redis-server does not create its dir
        argv = [REDIS_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", datadir,
                "--save", "", "--appendonly", "yes", *extra_args]
        return Server(argv, port, workdir, owns)
    conf = conf or os.path.join(ROOT, "default.conf")
    argv = [LODE_BIN, conf, "--port", str(port), "--dir", datadir, *extra_args]
    return Server(argv, port, workdir, owns)


def run_to_exit(argv, timeout=15.0, cwd=None):
    """Runs a process that is expected to exit by itself (e.g. on a config
    error); returns (exit code, stdout+stderr as text). A hang is a failure."""
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{argv[0]} still running after {timeout}s "
                             f"(output so far: {e.output!r})") from None
    return done.returncode, done.stdout.decode("utf-8", "replace")


def redis_server(extra_args=()):
    """A reference redis-server (not started), without persistence unless asked."""
    workdir = tempfile.mkdtemp(prefix="redis-ref-")
    port = free_port()
    argv = [REDIS_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir,
            "--save", "", "--appendonly", "no", *extra_args]
    return Server(argv, port, workdir, True)


def encode_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class ConnectionClosed(Exception):
    pass


class RawClient:
    """A minimal RESP client that returns replies as parsed, typed Python values.

    Errors come back as `Err(b"...")`, simple strings as `Simple(b"...")`, so that
    replies from two servers can be compared exactly, type included.

    With `exact_types=True` every RESP type stays distinguishable, for tests that
    compare two servers byte for byte: the three nulls become `NULL_BULK` ($-1),
    `NULL_ARRAY` (*-1) and `NULL` (RESP3 _), and RESP3 sets, pushes, big numbers
    and verbatim strings become `Set`, `Push`, `BigNumber` and `Verbatim` (RESP3
    booleans are Python bools in both modes). The default keeps the simpler
    mapping (None, plain lists, int, bytes) that other tests rely on.
    """

    def __init__(self, port, timeout=10.0, exact_types=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.exact_types = exact_types
        self._captured = None  # list of consumed reply bytes while call_raw runs

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        self.sock.sendall(encode_command(*args))
        return self.read_reply()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(encode_command(*c) for c in commands))
        return [self.read_reply() for _ in commands]

    def call_raw(self, *args):
        """Sends a command and returns its reply exactly as the bytes on the wire."""
        self.sock.sendall(encode_command(*args))
        return self.read_reply_raw()

    def read_reply_raw(self):
        self._captured = []
        try:
            self.read_reply()
            return b"".join(self._captured)
        finally:
            self._captured = None

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionClosed()
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                if self._captured is not None:
                    self._captured.append(line + b"\r\n")
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        if self._captured is not None:
            self._captured.append(data + b"\r\n")
        return data

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if self.exact_types:
            reply = self._read_exact_type(t, rest)
            if reply is not _UNHANDLED:
                return reply
        if t == b"+":
            return Simple(rest)
        if t == b"-":
            return Err(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            return Map([(self.read_reply(), self.read_reply()) for _ in range(n)])
        if t == b"_":
            return None
        if t == b",":
            return Double(rest)
        if t == b"#":
            return rest == b"t"
        if t == b"=":
            return self._exact(int(rest))
        if t == b"(":
            return int(rest)
        raise ValueError(f"bad reply type {line!r}")

    def _read_exact_type(self, t, rest):
        """The reply types that `exact_types` keeps apart; _UNHANDLED for the rest."""
        if t == b"$" and rest == b"-1":
            return NULL_BULK
        if t == b"*" and rest == b"-1":
            return NULL_ARRAY
        if t == b"_":
            return NULL
        if t in (b"~", b">"):
            items = [self.read_reply() for _ in range(int(rest))]
            return Set(items) if t == b"~" else Push(items)
        if t == b"(":
            return BigNumber(int(rest))
        if t == b"=":
            return Verbatim(self._exact(int(rest)))
        return _UNHANDLED

    def read_raw_until_close(self, timeout=2.0):
        """Reads everything until the server closes the connection."""
        self.sock.settimeout(timeout)
        data, self.buf = self.buf, b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return data, True
                data += chunk
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            # A server closing a socket with unread input makes the kernel send
            # RST instead of FIN; the connection was closed all the same.
            return data, True


class Simple(bytes):
    def __repr__(self):
        return f"Simple({bytes(self)!r})"


class Err(bytes):
    def __repr__(self):
        return f"Err({bytes(self)!r})"


class Double(bytes):
    def __repr__(self):
        return f"Double({bytes(self)!r})"


class Map(list):
    def __repr__(self):
        return f"Map({list(self)!r})"



class Nil:
    """A null reply that remembers its wire form ($-1, *-1 or RESP3 _)."""

    def __init__(self, wire):
        self.wire = wire

    def __eq__(self, other):
        return isinstance(other, Nil) and other.wire == self.wire

    def __hash__(self):
        return hash(self.wire)

    def __repr__(self):
        return f"Nil({self.wire})"


NULL_BULK, NULL_ARRAY, NULL = Nil("$-1"), Nil("*-1"), Nil("_")
_UNHANDLED = object()


class Set(list):
    def __repr__(self):
        return f"Set({list(self)!r})"


class Push(list):
    def __repr__(self):
        return f"Push({list(self)!r})"


class BigNumber(int):
    def __repr__(self):
        return f"BigNumber({int(self)})"


class Verbatim(bytes):
    def __repr__(self):
        return f"Verbatim({bytes(self)!r})"
