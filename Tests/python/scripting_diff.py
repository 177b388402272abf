"""The machinery of the scripting differential tests (test_differential_scripting.py,
test_differential_scripting_conversions.py, test_differential_functions.py): Lode against a
reference redis-server 7.0, raw reply bytes compared, RESP2 and RESP3. Here: the replies
and errors the corpora expect, the steps and cases they are written in, the normalizations,
and run_case, which each file's test_case calls.

Every case is a short sequence of steps that runs in lock step on both servers
(diff_twin.Twin: each step on redis, then on the subject), on connection A unless a step
says B, from an empty server (FLUSHALL, SCRIPT FLUSH, FUNCTION FLUSH), once on RESP2 and
once on RESP3 connections. Many steps also carry the reply redis must give: they document
the less obvious behaviours and check that the test tests what it says. An error raised in
a script carries the script's SHA-1 (`script: <sha>, on @user_script:<line>.`), and SHAs
are deterministic, so those errors are compared byte for byte too.

What is compared as a multiset rather than byte for byte, and why (nothing else is
normalized; the rest is deterministic on both servers):
  * FUNCTION LIST: the libraries, and each library's functions, come in the order of
    Redis's dicts, whose hash is seeded at random per process: two redis-servers list
    them in different orders. Each library's flags keep their (fixed) order.
  * Maps and sets built by a script from a Lua table with several keys, and HGETALL /
    SMEMBERS of several elements converted to Lua after redis.setresp(3): their order is
    a Lua table's (or the server's hash) order, which a correct server need not share.
  * INFO memory: only the counts of scripts, functions and libraries are compared; the
    memory figures beside them are the server's own.
"""
import hashlib
from typing import Any, Callable, NamedTuple, Optional

import pytest

import harness
from diff_twin import Twin, fmt, parse
from difflib_redis import pairs_of, sort_key, unordered

NIL = {2: b"$-1\r\n", 3: b"_\r\n"}
OK = b"+OK\r\n"
EMPTY = b"*0\r\n"
TOO_MANY_KEYS = b"-ERR Number of keys can't be greater than number of args\r\n"
NEGATIVE_KEYS = b"-ERR Number of keys can't be negative\r\n"
NOSCRIPT = b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
WRONGTYPE = b"WRONGTYPE Operation against a key holding the wrong kind of value"
READONLY = b"ERR Write commands are not allowed from read-only scripts."
RO_WRITE_FLAG = b"-ERR Can not execute a script with write flag using *_ro command.\r\n"
NOT_ALLOWED = b"ERR This Redis command is not allowed from script"


def sha(script):
    return hashlib.sha1(script.encode() if isinstance(script, str) else script).hexdigest()


def bulk(data):
    data = data.encode() if isinstance(data, str) else data
    return b"$%d\r\n%s\r\n" % (len(data), data)


def script_error(script, message, line=1):
    """The reply to an error raised by `script` (an EVAL) on `line`."""
    return b"-%s script: %s, on @user_script:%d.\r\n" % (message, sha(script).encode(), line)


def raises(message, line=1):
    """The expected reply of an EVAL step whose script raises `message` on `line`."""
    return lambda cmd: script_error(cmd[1], message, line)


R1 = "return 1"   # loaded by cases of both the EVAL and the FUNCTION corpus
R1_SHA = sha(R1)


# ----------------------------------------------------------------------------
# Steps and cases


class Step(NamedTuple):
    cmd: tuple
    expect: Any = None                       # redis' raw reply: bytes, or {resp: bytes}
    conn: str = "A"
    normalize: Optional[Callable] = None     # compare normalize(parsed reply) instead of bytes


def step(item):
    """A Step from a Step, a command tuple, or a command string split on spaces."""
    if isinstance(item, Step):
        return item
    return Step(tuple(item.split(" ")) if isinstance(item, str) else tuple(item))


def ex(item, reply):
    """item, whose reply on redis must be `reply` (f(command) gives it for an f like raises())."""
    s = step(item)
    return s._replace(expect=reply(s.cmd) if callable(reply) else reply)


def on_b(item):
    return step(item)._replace(conn="B")


def normalized(item, normalize):
    return step(item)._replace(normalize=normalize)


def ev(script, *args):
    """EVAL script, with `0` keys unless args (numkeys first) are given."""
    return ("EVAL", script, *(args or ("0",)))


def case(name, *steps):
    return pytest.param([step(s) for s in steps], id=name)


def lua(name, script, expect, args=("0",)):
    """A one-step case: EVAL script args, whose redis reply must be `expect`."""
    return case(name, ex(ev(script, *args), expect))


def library(name, *body):
    """The code of a library: the shebang line, then one line per item of body."""
    return "\n".join([f"#!lua name={name}", *body])


def load(code, *options):
    return ("FUNCTION", "LOAD", *options, code)


class Dumped(NamedTuple):
    """In a step: the payload redis returned for the case's last FUNCTION DUMP,
    passed through `change` (both servers get redis' payload: it must be portable)."""
    change: Callable = bytes


DUMPED = Dumped()


# ----------------------------------------------------------------------------
# Normalizations (see the module docstring)


def multiset(pairs=False):
    """A map, a set (or, with pairs, a flat field/value array) as a multiset."""
    return lambda reply: unordered(reply, pairs=pairs)


def library_list(reply):
    """FUNCTION LIST with the libraries and each library's functions in a fixed order."""
    if type(reply) is not list:
        return reply
    libraries = []
    for lib in reply:
        fields = pairs_of(lib)
        if fields is None:
            return reply
        libraries.append((type(lib).__name__, [
            (k, sorted(v, key=sort_key) if k == b"functions" and isinstance(v, list) else v) for k, v in fields]))
    return sorted(libraries, key=sort_key)


def info_fields(*names):
    """The `name:value` lines of an INFO reply for the given names only."""
    def pick(reply):
        if not isinstance(reply, bytes):
            return reply
        lines = bytes(reply).split(b"\r\n")
        return [type(reply).__name__] + [ln for ln in lines if ln.split(b":")[0].decode() in names]
    return pick


SCRIPT_COUNTS = info_fields("number_of_cached_scripts", "number_of_functions", "number_of_libraries")


# ----------------------------------------------------------------------------
# Running the cases


def fresh_twin(redis_ref, subject, resp):
    twin = Twin(redis_ref, subject, "AB", resp=resp)
    for cmd in ("FLUSHALL", "SCRIPT FLUSH", "FUNCTION FLUSH"):
        twin.call("A", *cmd.split(" "))
    return twin


def run_steps(twin, steps):
    dumped = None   # redis' payload of the last FUNCTION DUMP
    for s in steps:
        cmd = tuple(a.change(dumped) if isinstance(a, Dumped) else a for a in s.cmd)
        if s.normalize is not None:
            twin.call_normalized(s.conn, *cmd, normalize=s.normalize)
            continue
        got = twin.call(s.conn, *cmd)
        if s.expect is not None:
            twin.expect_ref(f"{s.conn} {fmt(cmd)}", got, s.expect)
        if cmd[:2] == ("FUNCTION", "DUMP") and len(cmd) == 2:
            dumped = bytes(parse(got))


def run_case(redis_ref, subject, steps, resp):
    """Runs a case (a list of Steps) on fresh RESP`resp` connections and compares."""
    with fresh_twin(redis_ref, subject, resp) as twin:
        run_steps(twin, steps)
        twin.check(f"RESP{resp}: ")


def first_line(port, *cmd):
    """The first line of cmd's reply on a RESP3 connection, for a reply RawClient
    cannot parse."""
    with harness.RawClient(port) as c:
        c.call("HELLO", "3")
        c.send_raw(harness.encode_command(*cmd))
        data = c.buf
        while b"\r\n" not in data:
            chunk = c.sock.recv(4096)
            if not chunk:
                raise harness.ConnectionClosed()
            data += chunk
        return data.split(b"\r\n")[0] + b"\r\n"


def resp2_reply(srv, cmd):
    with srv.client() as c:
        return c.call_raw(*cmd)
