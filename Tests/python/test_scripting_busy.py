"""Busy scripts: a script or function running longer than busy-reply-threshold (alias
lua-time-limit) makes the server answer other clients -BUSY, until it ends by itself or
SCRIPT KILL / FUNCTION KILL stops it; one that has written cannot be killed
(-UNKILLABLE) and only SHUTDOWN NOSAVE stops the server, without its writes.

Every reply text is Redis 7.0.15's, byte for byte. Each test has its own server (a script
left looping by a failed test cannot spoil the next), with its own data directory:
harness.lode_server, which LODE_TEST_TARGET=redis turns into redis-server with AOF, the
run that validates this file.
"""
import contextlib
import hashlib
import signal
import time

import pytest

import harness
from harness import ConnectionClosed, encode_command

THRESHOLD_MS = 100
BUSY_AFTER = 3 * THRESHOLD_MS / 1000    # by then the script has run past the threshold

BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
BUSY_FUNCTION = b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
UNKILLABLE = (b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either "
              b"wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n")
NOTBUSY = b"-NOTBUSY No scripts in execution right now.\r\n"
OK = b"+OK\r\n"

LOOP = "while true do end"
WRITE_THEN_LOOP = "redis.call('set', 'partial', 'written') while true do end"
LIBRARY = "\n".join([
    "#!lua name=busy",
    "redis.register_function('spin', function() while true do end end)",
    "redis.register_function{function_name='rospin', callback=function() while true do end end, flags={'no-writes'}}",
    "redis.register_function('wspin', function(keys) redis.call('set', keys[1], 'written') while true do end end)",
])


def killed(name, line=1, where="user_script"):
    """The reply of a script (by its SHA) or function (by its name) stopped by a KILL."""
    return b"-ERR Script killed by user with SCRIPT KILL... script: %s, on @%s:%d.\r\n" % (
        name.encode(), where.encode(), line)


def sha(script):
    return hashlib.sha1(script.encode()).hexdigest()


@pytest.fixture
def srv():
    server = harness.lode_server().start()
    with server.client() as c:
        assert c.call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD_MS) == b"OK"
        assert c.call("CONFIG", "GET", "lua-time-limit") == [b"lua-time-limit", str(THRESHOLD_MS).encode()]
        assert c.call("FUNCTION", "LOAD", LIBRARY) == b"busy"
    yield server
    server.stop(signal.SIGKILL)   # a script may still loop after a failure
    server.cleanup()


@contextlib.contextmanager
def running(srv, *cmd):
    """A client that has sent cmd (a script that runs long) and waits for its reply;
    yields once the script has run past the threshold."""
    with harness.RawClient(srv.port, timeout=10) as looper:
        looper.send_raw(encode_command(*cmd))
        time.sleep(BUSY_AFTER)
        yield looper


def test_busy_script_then_script_kill(srv):
    with running(srv, "EVAL", LOOP, "0") as looper, srv.client() as other:
        assert other.call_raw("PING") == BUSY
        assert other.call_raw("GET", "k") == BUSY
        assert other.call_raw("SET", "k", "v") == BUSY
        assert other.call_raw("EVAL", "return 1", "0") == BUSY
        assert other.call_raw("FUNCTION", "KILL") == BUSY       # a script, not a function, is running
        assert other.call_raw("FUNCTION", "STATS") == BUSY
        assert other.call_raw("SHUTDOWN") == BUSY               # only SHUTDOWN NOSAVE
        assert other.call_raw("SCRIPT", "KILL") == OK
        assert looper.read_reply_raw() == killed(sha(LOOP))
        # and then the server serves normally
        assert other.call_raw("SCRIPT", "KILL") == NOTBUSY
        assert other.call_raw("PING") == b"+PONG\r\n"
        assert other.call_raw("SET", "k", "v") == OK
        assert looper.call_raw("GET", "k") == b"$1\r\nv\r\n"
        assert looper.call_raw("EVAL", "return redis.call('get', 'k')", "0") == b"$1\r\nv\r\n"


@pytest.mark.parametrize("cmd", [("EVAL_RO", LOOP, "0"), ("EVAL", "#!lua flags=no-writes\n" + LOOP, "0"),
                                 ("EVAL", "redis.call('get', 'k') local n = 0 while true do n = n + 1 end", "0")],
                         ids=["eval-ro", "no-writes", "after-a-read"])
def test_read_only_busy_scripts_can_be_killed(srv, cmd):
    with running(srv, *cmd) as looper, srv.client() as other:
        assert other.call_raw("PING") == BUSY
        assert other.call_raw("SCRIPT", "KILL") == OK
        line = 2 if cmd[1].startswith("#!") else 1
        assert looper.read_reply_raw() == killed(sha(cmd[1]), line)
        assert other.call_raw("PING") == b"+PONG\r\n"


def test_busy_script_that_ends_by_itself(srv):
    script = ("local t0 = redis.call('time') repeat local t = redis.call('time') "
              "until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 400000 return 'done'")
    with running(srv, "EVAL", script, "0") as looper, srv.client() as other:
        assert other.call_raw("PING") == BUSY
        assert looper.read_reply_raw() == b"$4\r\ndone\r\n"
        assert other.call_raw("PING") == b"+PONG\r\n"


def test_busy_script_inside_exec_is_killed_and_the_rest_runs(srv):
    """A script queued in MULTI that loops: other clients get BUSY while it runs,
    SCRIPT KILL reaches it, and EXEC's reply holds every queued command's reply."""
    with harness.RawClient(srv.port, timeout=10) as looper, srv.client() as other:
        looper.send_raw(b"".join(encode_command(*cmd) for cmd in [
            ("MULTI",), ("SET", "before", "1"), ("EVAL", LOOP, "0"), ("INCR", "after"), ("EXEC",)]))
        time.sleep(BUSY_AFTER)
        assert other.call_raw("GET", "before") == BUSY
        assert other.call_raw("SCRIPT", "KILL") == OK
        replies = [looper.read_reply_raw() for _ in range(5)]
        assert replies[:4] == [OK, b"+QUEUED\r\n", b"+QUEUED\r\n", b"+QUEUED\r\n"]
        assert replies[4] == b"*3\r\n" + OK + killed(sha(LOOP)) + b":1\r\n"
        assert other.call_raw("MGET", "before", "after") == b"*2\r\n$1\r\n1\r\n$1\r\n1\r\n"


@pytest.mark.parametrize("function,line", [("spin", 2), ("rospin", 3)])
def test_busy_function_then_function_kill(srv, function, line):
    with running(srv, "FCALL_RO" if function == "rospin" else "FCALL", function, "0") as looper, \
            srv.client() as other:
        assert other.call_raw("PING") == BUSY_FUNCTION
        assert other.call_raw("GET", "k") == BUSY_FUNCTION
        assert other.call_raw("SCRIPT", "KILL") == BUSY_FUNCTION    # a function, not a script, is running
        stats = other.call("FUNCTION", "STATS")                      # allowed while a function runs
        running_script = dict(zip(stats[1][0::2], stats[1][1::2]))
        assert running_script[b"name"] == function.encode()
        assert running_script[b"command"] == [b"FCALL_RO" if function == "rospin" else b"FCALL", function.encode(),
                                              b"0"]
        assert running_script[b"duration_ms"] >= THRESHOLD_MS       # the only volatile part
        assert other.call_raw("FUNCTION", "KILL") == OK
        assert looper.read_reply_raw() == killed(function, line, "user_function")
        assert other.call_raw("FUNCTION", "KILL") == NOTBUSY
        assert other.call_raw("PING") == b"+PONG\r\n"


def test_function_that_wrote_is_unkillable(srv):
    with running(srv, "FCALL", "wspin", "1", "partial") as looper, srv.client() as other:
        assert other.call_raw("FUNCTION", "KILL") == UNKILLABLE
        assert other.call_raw("SCRIPT", "KILL") == UNKILLABLE   # not BUSY: the write is checked first
        assert other.call_raw("GET", "partial") == BUSY_FUNCTION
        shutdown_nosave(srv, other, looper)


def test_script_that_wrote_is_unkillable(srv):
    """SCRIPT KILL and FUNCTION KILL both refuse (FUNCTION KILL too: the write is checked
    before the kind of script); SHUTDOWN NOSAVE stops the server, and the script's write,
    never completed, is not there after the restart."""
    with running(srv, "EVAL", WRITE_THEN_LOOP, "0") as looper, srv.client() as other:
        assert other.call_raw("GET", "partial") == BUSY
        assert other.call_raw("SCRIPT", "KILL") == UNKILLABLE
        assert other.call_raw("FUNCTION", "KILL") == UNKILLABLE
        assert other.call_raw("SHUTDOWN") == BUSY
        assert other.call_raw("SHUTDOWN", "SAVE") == BUSY
        shutdown_nosave(srv, other, looper)


def shutdown_nosave(srv, other, looper):
    """SHUTDOWN NOSAVE from `other` ends the server: no reply to either client, and after
    a restart on the same data the busy script's write is absent."""
    other.send_raw(encode_command("SHUTDOWN", "NOSAVE"))
    for c in (other, looper):
        with pytest.raises((ConnectionClosed, ConnectionResetError)):
            c.read_reply()
    assert srv.wait_exit(timeout=30) == 0
    srv.start()
    with srv.client() as c:
        assert c.call("EXISTS", "partial") == 0
        assert c.call("FUNCTION", "LIST", "LIBRARYNAME", "busy") != []   # the library was saved
