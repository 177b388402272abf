"""Process and protocol helpers shared by Lode's Python test suites.

Servers are started in temporary directories and stopped by PID, so a test
never depends on anything already running on the machine. Neither kind of
server is given a port number picked in advance (which another process could
take between the pick and the bind):
  * lode-server is started with `--port 0`: the kernel picks a free port at the
    bind, and the harness reads it from the server's log line
    `Ready to accept connections tcp port=NNNN`;
  * redis-server 7.0 has no such option (`--port 0` turns TCP off), so it is
    started with `--port 0` and a Unix socket, and the harness then asks it over
    that socket to `CONFIG SET port N`: a port taken in the meantime is an error
    reply, and the harness tries another one. Either way, once start() returns,
    `server.port` is a port that this very process has bound.
A restarted server may be on another port: read `server.port` after start().
"""
import os
import re
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
    """A port that was free a moment ago (nothing stops another process from
    taking it next): only a candidate, for redis-server's CONFIG SET port."""
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


def _last_option(argv, name, default=None):
    """The value of the last `--name value` pair in argv (the one that wins)."""
    value = default
    for i, a in enumerate(argv[:-1]):
        if a == "--" + name:
            value = argv[i + 1]
    return value


class Server:
    """A server process (Lode or Redis) on 127.0.0.1:port.

    `port` is the port the running server has bound (None before the first
    start(); it may change on a restart). `port_option` is what the server's
    `port` option says, i.e. what CONFIG GET port and INFO tcp_port report."""

    def __init__(self, argv, workdir, owns_dir):
        self.argv, self.dir, self._owns_dir = argv, workdir, owns_dir
        self.port = self.port_option = None
        self.proc = None

    def start(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        self._before_start()
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        try:
            self.port = self._await_port(deadline)
            wait_for_port(self.port, self.proc, max(0.1, deadline - time.monotonic()))
        except BaseException:
            self.stop(signal.SIGKILL)  # no server left behind by a failed start
            raise
        return self

    def _before_start(self):
        pass

    def _await_port(self, deadline):
        """Returns the TCP port the just started process has bound."""
        raise NotImplementedError

    def _check_running(self, what):
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited with {self.proc.returncode} before {what}; "
                               f"log tail:\n{self.log_text()[-2000:]}")

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


READY_LINE = re.compile(rb"Ready to accept connections tcp port=(\d+)")


class LodeServer(Server):
    """lode-server started with `--port 0` (unless a test asks for a port): the
    bound port is read from the `Ready to accept connections tcp port=NNNN` line
    this start appends to its log (stdout, captured in server.log, unless a
    `logfile` is set on the command line or in the config file)."""

    def __init__(self, argv, workdir, owns_dir, conf):
        super().__init__(argv, workdir, owns_dir)
        self.conf = conf
        self.port_option = int(_last_option(argv, "port"))

    def ready_log_path(self):
        """The file the server writes its log lines to (relative names are taken
        from the server's working directory, self.dir)."""
        logfile = ""
        try:
            with open(self.conf) as f:
                for line in f:
                    words = line.split(None, 1)
                    if len(words) == 2 and words[0].lower() == "logfile":
                        logfile = words[1].strip().strip('"')
        except OSError:
            pass
        logfile = _last_option(self.argv, "logfile", logfile)
        return os.path.join(self.dir, logfile or "server.log")

    def _before_start(self):
        # Only this start's lines count: a restart appends to the same log.
        self._ready_log = self.ready_log_path()
        try:
            self._ready_offset = os.path.getsize(self._ready_log)
        except OSError:
            self._ready_offset = 0

    def _await_port(self, deadline):
        while True:
            try:
                with open(self._ready_log, "rb") as f:
                    f.seek(self._ready_offset)
                    m = READY_LINE.search(f.read())
            except OSError:
                m = None
            if m:
                port = int(m.group(1))
                if self.port_option and port != self.port_option:
                    raise RuntimeError(f"asked for port {self.port_option}, the server says {port}")
                return port
            self._check_running("logging its port")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no 'Ready to accept connections tcp port=' line in {self._ready_log}")
            time.sleep(0.02)


class RedisServer(Server):
    """redis-server started with TCP off (`--port 0`) and a Unix socket, then
    told to listen on a candidate TCP port with CONFIG SET port; a port already
    taken is an error reply (Redis keeps running), and another one is tried."""

    PORT_ATTEMPTS = 20

    def __init__(self, argv, workdir, owns_dir):
        super().__init__(argv, workdir, owns_dir)
        self._sock_dir = None
        path = os.path.join(workdir, "redis.sock")
        if len(path.encode()) > 100:  # sun_path holds 108 bytes
            self._sock_dir = tempfile.mkdtemp(prefix="rsock-")
            path = os.path.join(self._sock_dir, "redis.sock")
        self.unix_path = path
        self.argv = argv[:1] + ["--port", "0", "--unixsocket", path] + argv[1:]
        self.password = _last_option(argv, "requirepass", "")

    def _await_port(self, deadline):
        while True:
            try:
                c = RawClient(None, timeout=10.0, unix_path=self.unix_path)
                break
            except OSError:
                self._check_running("listening on its Unix socket")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not listen on {self.unix_path}") from None
                time.sleep(0.02)
        with c:
            if self.password:
                c.call("AUTH", self.password)
            refused = []
            while len(refused) < self.PORT_ATTEMPTS:
                port = free_port()
                reply = c.call("CONFIG", "SET", "port", port)
                if reply == b"OK":
                    self.port_option = port
                    return port
                if isinstance(reply, Err) and reply.startswith(b"LOADING"):
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server still loading its data")
                    time.sleep(0.05)
                    continue
                refused.append((port, reply))
        raise RuntimeError(f"redis-server refused every port: {refused}")

    def cleanup(self):
        super().cleanup()
        if self._sock_dir:
            shutil.rmtree(self._sock_dir, ignore_errors=True)


def lode_server(extra_args=(), port=0, workdir=None, conf=None):
    """A Lode server (not started) with its data in a fresh temp dir. By default
    it binds a port the kernel picks (`--port 0`); `server.port` gives it once
    started."""
    owns = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="lode-test-")
    datadir = os.path.join(workdir, "data")
    if TESTING_REDIS:
        os.makedirs(datadir, exist_ok=True)  # redis-server does not create its dir
        argv = [REDIS_BIN, "--bind", "127.0.0.1", "--dir", datadir,
                "--save", "", "--appendonly", "yes", *extra_args]
        return RedisServer(argv, workdir, owns)
    conf = conf or os.path.join(ROOT, "default.conf")
    argv = [LODE_BIN, conf, "--port", str(port or 0), "--dir", datadir, *extra_args]
    return LodeServer(argv, workdir, owns, conf)


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
    argv = [REDIS_BIN, "--bind", "127.0.0.1", "--dir", workdir,
            "--save", "", "--appendonly", "no", *extra_args]
    return RedisServer(argv, workdir, True)


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

    def __init__(self, port, timeout=10.0, exact_types=False, unix_path=None):
        if unix_path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(unix_path)
            except OSError:
                self.sock.close()
                raise
        else:
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
        if t == b"|":
            # A RESP3 attribute describes the reply that follows it: read past it.
            for _ in range(2 * int(rest)):
                self.read_reply()
            return self.read_reply()
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


def as_text(reply):
    """A bulk or RESP3 verbatim reply as str (RawClient keeps the "txt:" format
    prefix of verbatim strings)."""
    text = reply.decode() if isinstance(reply, bytes) else reply
    return text[4:] if text.startswith("txt:") else text


def info_dict(reply):
    """Parses an INFO reply into {field: value} (section headers skipped)."""
    text = as_text(reply)
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out
