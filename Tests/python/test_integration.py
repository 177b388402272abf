"""Integration tests for lode-server as a process speaking RESP over TCP.

The differential suite checks command semantics in depth; this file checks the
server around them: the wire protocol (pipelining, inline commands, RESP3,
protocol errors), connections and authentication, INFO/CONFIG/CLIENT, the
standard Redis tools, big and binary keys, startup errors and shutdown.

Wherever Redis has an exact answer, the same bytes are sent to a reference
redis-server and the replies are compared byte for byte.

LODE_TEST_TARGET=redis runs this file against redis-server itself, which
validates the tests; the few Lode-only tests are skipped in that mode.
"""
import os
import random
import re
import signal
import socket
import subprocess
import time

import pytest

import harness
from harness import ConnectionClosed, Map, RawClient, Simple, as_text, encode_command, info_dict, poll

lode_only = pytest.mark.skipif(harness.TESTING_REDIS,
                               reason="Lode-specific behaviour; the suite runs against redis-server")

PASSWORD = "s3cret-pass"


# --------------------------------------------------------------------------- helpers

def exchange(port, data, timeout=2.0):
    """Sends raw bytes on a fresh connection; returns (all bytes the server sent
    back, whether it closed the connection)."""
    with RawClient(port) as c:
        c.send_raw(data)
        return c.read_raw_until_close(timeout)


def raw_replies(port, data, count):
    """Sends raw bytes on a fresh connection and returns the next `count`
    replies as raw bytes (the connection is expected to stay open)."""
    with RawClient(port) as c:
        c.send_raw(data)
        return [c.read_reply_raw() for _ in range(count)]


def transcript(port, commands):
    """Runs commands one by one on one fresh connection; returns the raw replies."""
    with RawClient(port) as c:
        return [c.call_raw(*cmd) for cmd in commands]


def assert_same_sequence(got, expected):
    """Like `got == expected`, but reports the first difference instead of a
    diff of two 10,000-element lists."""
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g == e, f"reply #{i}: got {g!r}, expected {e!r}"


def client_list(reply):
    """Parses CLIENT LIST output into a list of (field names, {field: value})."""
    text = as_text(reply)
    rows = []
    for line in text.split("\n"):
        if line:
            pairs = [kv.split("=", 1) for kv in line.split(" ")]
            rows.append(([k for k, _ in pairs], dict(pairs)))
    return rows


def blob(seed, size):
    """Deterministic binary bytes covering every byte value (NUL, CR, LF...)."""
    return random.Random(seed).randbytes(size)


def tool(*argv, timeout=60, stdin=None):
    done = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def auth_servers():
    """A Lode and a reference Redis, both started with the same requirepass."""
    lode = harness.lode_server(["--requirepass", PASSWORD]).start()
    ref = harness.redis_server(["--requirepass", PASSWORD]).start()
    yield lode, ref
    lode.cleanup()
    ref.cleanup()


# --------------------------------------------------------------------------- pipelining

def test_pipeline_10000_commands_in_one_write(lode_module):
    cmds, expected = [], []
    for i in range(2500):
        cmds += [("SET", f"pipe:{i}", f"v{i}"), ("GET", f"pipe:{i}"),
                 ("INCR", "pipe:counter"), ("ECHO", f"echo-{i}")]
        expected += [Simple(b"OK"), f"v{i}".encode(), i + 1, f"echo-{i}".encode()]
    with lode_module.client(timeout=60) as c:
        c.send_raw(b"".join(encode_command(*cmd) for cmd in cmds))
        replies = [c.read_reply() for _ in cmds]
    assert_same_sequence(replies, expected)


def test_pipeline_with_10mb_of_replies_read_after_sending_everything(lode_module):
    # Clients such as redis-py write a whole pipeline before reading anything,
    # so the server must keep reading input while its replies pile up.
    value = blob(0, 1024)
    with lode_module.client(timeout=60) as c:
        assert c.call("SET", "pipe:big", value) == Simple(b"OK")
        c.send_raw(encode_command("GET", "pipe:big") * 10_000 + encode_command("PING"))
        replies = [c.read_reply() for _ in range(10_001)]
    assert_same_sequence(replies, [value] * 10_000 + [Simple(b"PONG")])


def test_command_split_into_single_bytes(lode_module):
    data = (encode_command("SET", "split:key", "split value") + encode_command("GET", "split:key")
            + b"ECHO inline-split\r\n")
    with lode_module.client() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            c.send_raw(data[i:i + 1])
        assert [c.read_reply() for _ in range(3)] == [Simple(b"OK"), b"split value", b"inline-split"]


def test_client_vanishing_mid_command_does_not_disturb_the_server(lode_module):
    # A client that vanishes with half a command (or unread replies) pending
    # must not disturb the server or other clients.
    with lode_module.client() as c:
        c.send_raw(encode_command("GET", "pipe:big") * 200 + b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$100\r\nxx")
    with lode_module.client() as c:
        c.send_raw(b"*2\r\n$4\r\nECHO\r\n$1048576\r\n" + b"x" * 1000)
    with lode_module.client() as c:
        assert c.call("PING") == Simple(b"PONG")
        assert c.call("EXISTS", "a") == 0


# --------------------------------------------------------------------------- inline commands

def test_inline_commands_with_quotes(lode_module, redis_ref):
    data = (b"SET \"inline key\" 'v 1'\r\n"
            b"GET \"inline key\"\r\n"
            + encode_command("GET", "inline key") +
            b"ECHO \"\\x41\\x00\\n\\t\\\"q\\\"\"\r\n"    # escapes inside double quotes
            b"ECHO 'it\\'s \\n raw'\r\n"                # single quotes: only \' is special
            b"ECHO \"\\x4\"\r\n"                        # an incomplete \x escape is literal
            b"\r\n\r\n"                                 # empty lines are skipped
            b"ECHO\t\"tab separated\"\t\r\n"
            b"PING\n"                                   # LF alone ends an inline command
            b"set lower case\r\nget lower\r\n"
            b"ECHO \"\"\r\n")
    expected = [b"+OK\r\n", b"$3\r\nv 1\r\n", b"$3\r\nv 1\r\n", b"$7\r\nA\x00\n\t\"q\"\r\n",
                b"$11\r\nit's \\n raw\r\n", b"$2\r\nx4\r\n", b"$13\r\ntab separated\r\n",
                b"+PONG\r\n", b"+OK\r\n", b"$4\r\ncase\r\n", b"$0\r\n\r\n"]
    assert raw_replies(redis_ref.port, data, len(expected)) == expected  # validates the test
    assert raw_replies(lode_module.port, data, len(expected)) == expected


def test_empty_and_null_multibulk_are_ignored(lode_module, redis_ref):
    data = b"*0\r\n*-1\r\nPING\r\n*1\r\n$4\r\nPING\r\n"
    assert raw_replies(lode_module.port, data, 2) == raw_replies(redis_ref.port, data, 2) \
        == [b"+PONG\r\n", b"+PONG\r\n"]


def test_bulk_terminator_is_not_checked(lode_module, redis_ref):
    # Redis skips the two bytes after a bulk argument without checking that
    # they are CRLF: "PINGxx" after "$4" is the argument PING.
    data = b"*1\r\n$4\r\nPINGxx*2\r\n$4\r\nECHO\r\n$2\r\nhi..*1\r\n$4\r\nPING\r\n"
    assert raw_replies(lode_module.port, data, 3) == raw_replies(redis_ref.port, data, 3)


# --------------------------------------------------------------------------- protocol errors

INVALID_MULTIBULK = b"-ERR Protocol error: invalid multibulk length\r\n"
INVALID_BULK = b"-ERR Protocol error: invalid bulk length\r\n"
UNBALANCED = b"-ERR Protocol error: unbalanced quotes in request\r\n"

# name -> (bytes sent, what Redis 7.0 answers before closing the connection)
PROTOCOL_ERRORS = {
    "invalid multibulk length": (b"*abc\r\n", INVALID_MULTIBULK),
    "replies before the error are sent": (b"PING\r\nECHO x\r\n*abc\r\n",
                                          b"+PONG\r\n$1\r\nx\r\n" + INVALID_MULTIBULK),
    "multibulk length over INT_MAX": (b"*2147483648\r\n", INVALID_MULTIBULK),
    "multibulk length with plus sign": (b"*+1\r\n$4\r\nPING\r\n", INVALID_MULTIBULK),
    "multibulk length with leading zero": (b"*01\r\n$4\r\nPING\r\n", INVALID_MULTIBULK),
    "multibulk length minus zero": (b"*-0\r\n", INVALID_MULTIBULK),
    "multibulk length with trailing space": (b"*1 \r\n$4\r\nPING\r\n", INVALID_MULTIBULK),
    "junk where $ expected": (b"*2\r\n$3\r\nfoo\r\nbar\r\n",
                              b"-ERR Protocol error: expected '$', got 'b'\r\n"),
    "digit where $ expected": (b"*1\r\n4\r\nPING\r\n",
                               b"-ERR Protocol error: expected '$', got '4'\r\n"),
    "bulk length beyond proto-max-bulk-len": (b"*1\r\n$536870913\r\n", INVALID_BULK),
    "negative bulk length": (b"*1\r\n$-1\r\n", INVALID_BULK),
    "non-numeric bulk length": (b"*1\r\n$abc\r\n", INVALID_BULK),
    "bulk length with plus sign": (b"*1\r\n$+4\r\nPING\r\n", INVALID_BULK),
    "bulk length with leading zero": (b"*1\r\n$04\r\nPING\r\n", INVALID_BULK),
    "unbalanced double quote": (b"SET \"a b\r\n", UNBALANCED),
    "unbalanced single quote": (b"SET 'a b\r\n", UNBALANCED),
    "closing quote followed by a character": (b"SET a \"b\"c\r\n", UNBALANCED),
    "escaped quote does not close": (b"ECHO 'it\\'s\r\n", UNBALANCED),
    "too big inline request": (b"A" * (64 * 1024 + 100),
                               b"-ERR Protocol error: too big inline request\r\n"),
    "too big multibulk count string": (b"*" + b"1" * (64 * 1024 + 100),
                                       b"-ERR Protocol error: too big mbulk count string\r\n"),
    "too big bulk count string": (b"*1\r\n$" + b"1" * (64 * 1024 + 100),
                                  b"-ERR Protocol error: too big bulk count string\r\n"),
}


@pytest.mark.parametrize("data,expected", PROTOCOL_ERRORS.values(), ids=PROTOCOL_ERRORS.keys())
def test_protocol_error_matches_redis_and_closes(lode_module, redis_ref, data, expected):
    assert exchange(redis_ref.port, data) == (expected, True)  # validates the test itself
    assert exchange(lode_module.port, data) == (expected, True)


def test_server_survives_protocol_errors(lode_module):
    for data, _ in PROTOCOL_ERRORS.values():
        exchange(lode_module.port, data, timeout=1.0)
    with lode_module.client() as c:
        assert c.call("PING") == Simple(b"PONG")


def test_command_errors_keep_the_connection_open(lode_module, redis_ref):
    commands = [("NOSUCHCMD", "a", "b"), ("nosuchcmd",), ("",), ("GET",), ("SET", "k"),
                ("ECHO",), ("CLIENT", "NOSUCHSUB"), ("CLIENT", "MAINT_NOTIFICATIONS", "ON"),
                ("CONFIG", "NOSUCHSUB"), ("PING", "a", "b"), ("PING",)]
    got = transcript(lode_module.port, commands)
    assert got == transcript(redis_ref.port, commands)
    assert got[0] == b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' \r\n"
    assert got[-1] == b"+PONG\r\n"


# --------------------------------------------------------------------------- RESP3

def test_hello_3_map_and_resp3_types(lode_module, redis_ref):
    with lode_module.client() as c, redis_ref.client() as ref:
        hello = c.call("HELLO", "3", "SETNAME", "resp3-client")
        ref_hello = ref.call("HELLO", "3")
        assert isinstance(hello, Map)
        assert [k for k, _ in hello] == [k for k, _ in ref_hello]
        fields = dict(hello)
        assert fields[b"server"] == b"redis"
        assert re.fullmatch(rb"7\.0(\.\d+)?", fields[b"version"])
        assert fields[b"proto"] == 3
        assert fields[b"id"] == c.call("CLIENT", "ID")
        assert fields[b"mode"] == b"standalone"
        assert fields[b"role"] == b"master"
        assert fields[b"modules"] == []
        assert c.call("CLIENT", "GETNAME") == b"resp3-client"

        assert c.call_raw("GET", "resp3:missing") == b"_\r\n"
        assert c.call_raw("MGET", "resp3:missing", "resp3:missing") == b"*2\r\n_\r\n_\r\n"
        assert c.call_raw("PING") == b"+PONG\r\n"
        config = c.call_raw("CONFIG", "GET", "save")
        assert config.startswith(b"%1\r\n$4\r\nsave\r\n$")
        appendonly = c.call("CONFIG", "GET", "appendonly")
        assert isinstance(appendonly, Map) and appendonly[0][0] == b"appendonly"
        assert appendonly[0][1] in (b"yes", b"no")
        assert c.call_raw("CONFIG", "GET", "no-such-parameter") == b"%0\r\n"
        # INFO and CLIENT LIST are verbatim strings ("=" with a "txt:" prefix) in RESP3
        info = c.call_raw("INFO", "server")
        assert re.match(rb"=\d+\r\ntxt:# Server\r\n", info)
        assert re.match(rb"=\d+\r\ntxt:id=", c.call_raw("CLIENT", "LIST"))
        assert c.call_raw("INCRBYFLOAT", "resp3:f", "1.5") == b"$3\r\n1.5\r\n"

        for cmd in [("HELLO", "4"), ("HELLO", "1"), ("HELLO", "three"), ("HELLO", "3", "BOGUS"),
                    ("HELLO", "3", "SETNAME", "has space")]:
            assert c.call_raw(*cmd) == ref.call_raw(*cmd), cmd

        hello2 = c.call("HELLO", "2")
        assert isinstance(hello2, list) and hello2[4:6] == [b"proto", 2]
        assert c.call_raw("GET", "resp3:missing") == b"$-1\r\n"
        assert c.call_raw("CONFIG", "GET", "save").startswith(b"*2\r\n$4\r\nsave\r\n$")


def test_hello_without_arguments_keeps_the_protocol(lode_module):
    with lode_module.client() as c:
        hello = c.call("HELLO")
        assert isinstance(hello, list) and hello[4:6] == [b"proto", 2]
        c.call("HELLO", "3")
        assert dict(c.call("HELLO"))[b"proto"] == 3


def test_reset_restores_connection_defaults(lode_module, redis_ref):
    commands = [("HELLO", "3"), ("SELECT", "3"), ("CLIENT", "SETNAME", "before-reset"), ("RESET",),
                ("CLIENT", "GETNAME"), ("GET", "reset:missing")]
    assert transcript(lode_module.port, commands)[3:] == transcript(redis_ref.port, commands)[3:] \
        == [b"+RESET\r\n", b"$-1\r\n", b"$-1\r\n"]
    with lode_module.client() as c:
        c.call("SELECT", "3")
        c.call("RESET")
        assert client_list(c.call("CLIENT", "INFO"))[0][1]["db"] == "0"


def test_quit_replies_ok_and_closes(lode_module):
    assert exchange(lode_module.port, b"QUIT\r\n") == (b"+OK\r\n", True)
    assert exchange(lode_module.port, encode_command("QUIT") + b"PING\r\n") == (b"+OK\r\n", True)


# --------------------------------------------------------------------------- AUTH

def test_requirepass_rejects_commands_before_auth(auth_servers):
    lode, ref = auth_servers
    commands = [("GET", "a"), ("PING",), ("SET", "a", "b"), ("SELECT", "1"), ("CLIENT", "ID"),
                ("HELLO", "3"), ("HELLO",), ("AUTH", "wrong"), ("AUTH", "default", "wrong"),
                ("AUTH", "nobody", PASSWORD), ("AUTH",), ("AUTH", "a", "b", "c"),
                ("HELLO", "3", "AUTH", "default", "wrong"), ("GET", "a")]
    got = transcript(lode.port, commands)
    assert got == transcript(ref.port, commands)
    assert got[0] == b"-NOAUTH Authentication required.\r\n"
    assert got[7] == b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"


def test_auth_then_commands_work(auth_servers):
    lode, ref = auth_servers
    sequences = [
        [("AUTH", PASSWORD), ("SET", "auth:a", "1"), ("GET", "auth:a")],
        [("AUTH", "default", PASSWORD), ("PING",)],
        [("HELLO", "2", "AUTH", "default", PASSWORD, "SETNAME", "authed"), ("CLIENT", "GETNAME")],
        # RESET logs the connection out again
        [("AUTH", PASSWORD), ("RESET",), ("GET", "auth:a"), ("AUTH", PASSWORD), ("GET", "auth:a")],
    ]
    for commands in sequences:
        assert transcript(lode.port, commands)[-1] == transcript(ref.port, commands)[-1], commands
    with lode.client() as c:
        hello = c.call("HELLO", "3", "AUTH", "default", PASSWORD)
        assert isinstance(hello, Map) and dict(hello)[b"proto"] == 3
        assert c.call("GET", "auth:a") == b"1"


def test_quit_is_allowed_before_auth(auth_servers):
    lode, ref = auth_servers
    assert exchange(lode.port, b"QUIT\r\n") == exchange(ref.port, b"QUIT\r\n") == (b"+OK\r\n", True)


@pytest.mark.parametrize("data", [b"*11\r\n", b"*1\r\n$16385\r\n"],
                         ids=["multibulk length", "bulk length"])
def test_unauthenticated_clients_get_small_protocol_limits(auth_servers, data):
    # Before AUTH, Redis refuses more than 10 arguments or 16 KB per argument
    # ("unauthenticated multibulk length" / "unauthenticated bulk length").
    lode, ref = auth_servers
    expected = exchange(ref.port, data)
    assert expected[1] and b"unauthenticated" in expected[0]
    assert exchange(lode.port, data) == expected


def test_auth_without_requirepass(lode_module, redis_ref):
    commands = [("AUTH", "anything"), ("AUTH", "default", "anything"), ("AUTH", "someone", "x")]
    got = transcript(lode_module.port, commands)
    assert got == transcript(redis_ref.port, commands)
    assert got[0] == (b"-ERR AUTH <password> called without any password configured for the "
                      b"default user. Are you sure your configuration is correct?\r\n")


# --------------------------------------------------------------------------- CLIENT

def test_client_id_setname_getname_list(lode_module, redis_ref):
    with lode_module.client() as c1, lode_module.client() as c2:
        id1, id2 = c1.call("CLIENT", "ID"), c2.call("CLIENT", "ID")
        assert isinstance(id1, int) and id2 > id1
        assert c1.call("CLIENT", "GETNAME") is None
        assert c1.call("CLIENT", "SETNAME", "alpha") == Simple(b"OK")
        assert c1.call("CLIENT", "GETNAME") == b"alpha"
        c2.call("SELECT", "2")
        c2.call("HELLO", "3")

        rows = {int(r["id"]): (names, r) for names, r in client_list(c2.call("CLIENT", "LIST"))}
        with redis_ref.client() as ref:
            ref_names = client_list(ref.call("CLIENT", "LIST"))[0][0]
        names1, row1 = rows[id1]
        names2, row2 = rows[id2]
        # Exactly Redis 7.0's fields in Redis 7.0's order (lib-name and lib-ver
        # are Redis 7.2's, as CLIENT SETINFO is).
        assert names1 == names2
        assert names1 == ref_names
        assert row1["name"] == "alpha" and row2["name"] == ""
        assert row1["addr"] == "127.0.0.1:%d" % c1.sock.getsockname()[1]
        assert row1["laddr"] == "127.0.0.1:%d" % lode_module.port
        assert (row1["db"], row2["db"]) == ("0", "2")
        assert (row1["resp"], row2["resp"]) == ("2", "3")
        assert row2["cmd"] == "client|list"
        assert row1["cmd"] == "client|getname"

        info = client_list(c1.call("CLIENT", "INFO"))
        assert len(info) == 1 and info[0][1]["id"] == str(id1) and info[0][1]["cmd"] == "client|info"

        assert c1.call("CLIENT", "SETNAME", "") == Simple(b"OK")
        assert c1.call("CLIENT", "GETNAME") is None
        for bad in ("has space", "new\nline"):
            assert c1.call_raw("CLIENT", "SETNAME", bad) == \
                b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"

    with lode_module.client() as c:
        gone = poll(lambda: not {id1, id2} & {int(r["id"]) for _, r in client_list(c.call("CLIENT", "LIST"))})
        assert gone, "closed connections still listed by CLIENT LIST"


def test_client_setinfo_is_unknown_as_in_redis_7_0(lode_module, redis_ref):
    # CLIENT SETINFO is Redis 7.2: 7.0.15 answers "unknown subcommand", and so does
    # Lode (its command table is 7.0.15's). redis-py sends it on every connection
    # and ignores that error (test_redis_py.py connects with redis-py throughout).
    commands = [("CLIENT", "SETINFO", "LIB-NAME", "lode-tests"), ("CLIENT", "SETINFO", "LIB-VER", "1.0")]
    got = transcript(lode_module.port, commands)
    assert got == transcript(redis_ref.port, commands)
    assert got[0] == b"-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n"


def test_client_ids_are_unique_across_many_connections(lode_module):
    clients = [lode_module.client() for _ in range(50)]
    try:
        ids = [c.call("CLIENT", "ID") for c in clients]
        assert len(set(ids)) == 50 and ids == sorted(ids)
        with lode_module.client() as c:
            connected = int(info_dict(c.call("INFO", "clients"))["connected_clients"])
        assert connected >= 51
    finally:
        for c in clients:
            c.close()


# --------------------------------------------------------------------------- INFO, CONFIG, COMMAND, TIME

def test_info_sections_and_fields(lode_module):
    with lode_module.client() as c:
        c.call("SELECT", "9")
        c.call("FLUSHDB")
        c.call("SET", "info:a", "1")
        c.call("SET", "info:b", "2")
        c.call("SET", "info:c", "3", "EX", "1000")

        text = as_text(c.call("INFO"))
        for section in ("Server", "Clients", "Memory", "Persistence", "Stats", "Keyspace"):
            assert f"# {section}\r\n" in text
        assert "\n" not in text.replace("\r\n", ""), "INFO lines must end with CRLF"
        info = info_dict(text)
        assert re.fullmatch(r"7\.0(\.\d+)?", info["redis_version"])
        # the port option, as in Redis: 0 for a Lode started with --port 0
        # (test_explicit_port_is_bound_and_reported checks a real number)
        assert info["tcp_port"] == str(lode_module.port_option)
        assert int(info["connected_clients"]) >= 1
        assert int(info["used_memory"]) > 0
        assert int(info["total_commands_processed"]) > 0
        assert info["loading"] == "0"
        assert re.fullmatch(r"keys=3,expires=1,avg_ttl=\d+", info["db9"])

        before = int(info_dict(c.call("INFO", "stats"))["total_commands_processed"])
        for _ in range(5):
            c.call("PING")
        after = int(info_dict(c.call("INFO", "stats"))["total_commands_processed"])
        assert 6 <= after - before <= 7  # five PINGs plus one of the two INFOs (or both)

        keyspace = c.call("INFO", "keyspace").decode()
        assert keyspace.startswith("# Keyspace\r\n")
        assert "# Server" not in keyspace
        both = c.call("INFO", "server", "clients").decode()
        assert "# Server\r\n" in both and "# Clients\r\n" in both and "# Memory" not in both
        assert c.call("INFO", "no-such-section") == b""
        c.call("FLUSHDB")
        assert "db9:" not in c.call("INFO", "keyspace").decode()


@lode_only
def test_info_has_lode_version(lode_module):
    with lode_module.client() as c:
        info = info_dict(c.call("INFO", "server"))
    assert info.get("lode_version"), "INFO server must report lode_version"


def test_config_get_set(lode_module, redis_ref):
    with lode_module.client() as c:
        save = c.call("CONFIG", "GET", "save")
        assert len(save) == 2 and save[0] == b"save" and isinstance(save[1], bytes)
        appendonly = c.call("CONFIG", "GET", "appendonly")
        assert appendonly[0] == b"appendonly" and appendonly[1] in (b"yes", b"no")
        port_option = str(lode_module.port_option).encode()  # 0 for a Lode started with --port 0
        assert c.call("CONFIG", "GET", "port") == [b"port", port_option]
        assert c.call("CONFIG", "GET", "databases") == [b"databases", b"16"]
        pairs = c.call("CONFIG", "GET", "port", "databases")
        assert dict(zip(pairs[::2], pairs[1::2])) == {b"port": port_option,
                                                      b"databases": b"16"}
        assert c.call("CONFIG", "SET", "appendfsync", "always") == Simple(b"OK")
        assert c.call("CONFIG", "GET", "appendfsync") == [b"appendfsync", b"always"]
        assert c.call("CONFIG", "SET", "appendfsync", "everysec") == Simple(b"OK")

    commands = [("CONFIG", "GET", "no-such-parameter"), ("CONFIG", "SET", "no-such-parameter", "x"),
                ("CONFIG", "SET", "appendfsync", "sometimes"), ("CONFIG", "GET"), ("CONFIG",)]
    got = transcript(lode_module.port, commands)
    assert got == transcript(redis_ref.port, commands)
    assert got[2] == (b"-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - "
                      b"argument(s) must be one of the following: everysec, always, no\r\n")


def test_command_count_info_docs(lode_module, redis_ref):
    with lode_module.client() as c, redis_ref.client() as ref:
        count = c.call("COMMAND", "COUNT")
        assert isinstance(count, int) and count == len(c.call("COMMAND"))
        # Name, arity, flags and key positions as Redis; ACL categories as a set.
        # (Key specifications and tips are not reproduced.)
        for name in ("get", "set", "ping", "mset", "del", "client"):
            mine, theirs = c.call("COMMAND", "INFO", name)[0], ref.call("COMMAND", "INFO", name)[0]
            assert mine[:6] == theirs[:6], name
            assert set(mine[6]) == set(theirs[6]), name
        assert c.call("COMMAND", "INFO", "no-such-command") == [None]
        docs = c.call("COMMAND", "DOCS", "get")
        assert docs[0] == b"get" and b"summary" in docs[1]


@lode_only
def test_explicit_port_is_bound_and_reported():
    # The harness starts Lode with --port 0; here a port number is given. It is
    # only a candidate (another process may take it first): then try another.
    for _ in range(10):
        srv = harness.lode_server(port=harness.free_port())
        try:
            srv.start()
        except RuntimeError:
            taken = "Could not create server TCP listening socket" in srv.log_text()
            srv.cleanup()
            if taken:
                continue
            raise
        try:
            assert srv.port == srv.port_option != 0
            with srv.client() as c:
                assert c.call("CONFIG", "GET", "port") == [b"port", str(srv.port).encode()]
                assert info_dict(c.call("INFO", "server"))["tcp_port"] == str(srv.port)
                assert client_list(c.call("CLIENT", "INFO"))[0][1]["laddr"] == "127.0.0.1:%d" % srv.port
            return
        finally:
            srv.cleanup()
    pytest.fail("no free port found in 10 attempts")


def test_time(lode_module):
    with lode_module.client() as c:
        secs, usecs = c.call("TIME")
    assert abs(int(secs) - time.time()) < 5
    assert 0 <= int(usecs) < 1_000_000


def test_select_and_databases_option(redis_ref):
    srv = harness.lode_server(["--databases", "4"]).start()
    try:
        with srv.client() as c:
            assert c.call("CONFIG", "GET", "databases") == [b"databases", b"4"]
            assert c.call("SELECT", "3") == Simple(b"OK")
            assert c.call_raw("SELECT", "4") == b"-ERR DB index is out of range\r\n"
            assert c.call_raw("SWAPDB", "0", "4") == b"-ERR DB index is out of range\r\n"
        commands = [("SELECT", "16"), ("SELECT", "-1"), ("SELECT", "x"), ("SWAPDB", "0", "x")]
        assert transcript(srv.port, commands) == transcript(redis_ref.port, commands)
    finally:
        srv.cleanup()


def test_proto_max_bulk_len_and_maxclients_options():
    srv = harness.lode_server(["--proto-max-bulk-len", "1048576", "--maxclients", "3"]).start()
    try:
        with srv.client() as c:
            assert c.call("SET", "max", b"x" * 1048576) == Simple(b"OK")
            assert exchange(srv.port, b"*3\r\n$3\r\nSET\r\n$3\r\nmax\r\n$1048577\r\n") == \
                (b"-ERR Protocol error: invalid bulk length\r\n", True)

            # The connection the harness used to wait for the port may still be
            # counted for a moment; wait until only `c` is connected.
            assert poll(lambda: info_dict(c.call("INFO", "clients"))["connected_clients"] == "1")
            with srv.client() as c2, srv.client() as c3:
                assert c2.call("PING") == c3.call("PING") == Simple(b"PONG")
                assert exchange(srv.port, b"PING\r\n") == (b"-ERR max number of clients reached\r\n", True)
    finally:
        srv.cleanup()


def test_logfile_option(tmp_path):
    logfile = tmp_path / "server.log"
    srv = harness.lode_server(["--logfile", str(logfile), "--loglevel", "notice"]).start()
    try:
        assert poll(lambda: logfile.exists() and logfile.stat().st_size > 0)
    finally:
        srv.cleanup()


# --------------------------------------------------------------------------- redis-cli / redis-benchmark

def test_redis_cli_info_and_scan(lode):
    with lode.client() as c:
        keys = {f"cli:{i}" for i in range(300)} | {"with space", "ünïcode"}
        for k in keys:
            c.call("SET", k, "v")
    code, out, err = tool("redis-cli", "-p", str(lode.port), "info")
    assert code == 0, err
    assert "redis_version:7.0" in out and "connected_clients:" in out
    code, out, err = tool("redis-cli", "-p", str(lode.port), "--scan")
    assert code == 0, err
    assert sorted(out.splitlines()) == sorted(keys)
    code, out, err = tool("redis-cli", "-p", str(lode.port), "--scan", "--pattern", "cli:1*")
    assert code == 0 and sorted(out.splitlines()) == sorted(k for k in keys if k.startswith("cli:1"))


def test_redis_cli_pipe_mode(lode):
    # --pipe streams everything, then waits for the reply to a final ECHO
    payload = b"".join(encode_command("SET", f"pipe-mode:{i}", i) for i in range(5000))
    code, out, err = tool("redis-cli", "-p", str(lode.port), "--pipe", stdin=payload)
    assert code == 0, out + err
    assert "errors: 0, replies: 5000" in out
    with lode.client() as c:
        assert c.call("GET", "pipe-mode:4999") == b"4999"
        assert c.call("DBSIZE") == 5000


def test_redis_benchmark(lode):
    code, out, err = tool("redis-benchmark", "-p", str(lode.port), "-t", "set,get", "-n", "2000", "-q")
    assert code == 0, out + err
    assert "SET:" in out and "GET:" in out
    # redis-benchmark reads CONFIG GET save/appendonly first and only warns on failure
    assert "Could not fetch server CONFIG" not in out + err


# --------------------------------------------------------------------------- big and binary keys

def test_big_binary_keys_and_values_survive_restart(lode):
    prefix = blob(1, 1024)
    k_1k = prefix                                  # 1 KB key (over LMDB's 511-byte key limit)
    k_1m = prefix + blob(2, 1024 * 1024 - 1024)    # 1 MB key sharing the whole 1 KB key as prefix
    k_1m_twin = k_1m[:-1] + bytes([k_1m[-1] ^ 1])  # differs from k_1m in the last byte only
    k_600 = prefix[:600]
    k_512, k_511 = prefix[:512], prefix[:511]
    values = {k_1k: blob(3, 1024), k_1m: blob(4, 1024 * 1024), k_1m_twin: blob(5, 1024 * 1024),
              k_600: b"\x00\r\n$-1\r\n", k_512: b"", k_511: blob(6, 1024 * 1024)}

    with lode.client(timeout=60) as c:
        for k, v in values.items():
            assert c.call("SET", k, v) == Simple(b"OK")
        for k, v in values.items():
            assert c.call("GET", k) == v
        assert c.call("EXISTS", *values) == len(values)
        assert c.call("DBSIZE") == len(values)
        assert sorted(c.call("KEYS", "*")) == sorted(values)
        assert c.call("EXISTS", prefix[:1023], k_1m[:-1], k_1m + b"x") == 0
        assert c.call("GET", k_1m[:-1]) is None

        assert c.call("APPEND", k_1m, b"\x00tail") == 1024 * 1024 + 5
        values[k_1m] += b"\x00tail"
        assert c.call("STRLEN", k_1m) == len(values[k_1m])
        assert c.call("GETRANGE", k_1m, -5, -1) == b"\x00tail"

        renamed = k_1m_twin + b"-renamed"
        assert c.call("RENAME", k_1m_twin, renamed) == Simple(b"OK")
        values[renamed] = values.pop(k_1m_twin)
        assert c.call("EXISTS", k_1m_twin) == 0

        assert c.call("DEL", k_600) == 1
        del values[k_600]
        assert c.call("EXISTS", k_600) == 0
        assert c.call("GET", k_1k) == values[k_1k]  # deleting a prefix of it did not touch it

        # a key is returned by SCAN whole, once
        cursor, seen = b"0", []
        while True:
            cursor, batch = c.call("SCAN", cursor, "COUNT", 3)
            seen += batch
            if cursor == b"0":
                break
        assert sorted(seen) == sorted(values)

    lode.restart()
    with lode.client(timeout=60) as c:
        assert c.call("DBSIZE") == len(values)
        for k, v in values.items():
            assert c.call("GET", k) == v
        assert c.call("EXISTS", k_600, k_1m_twin) == 0
        assert c.call("DEL", *values) == len(values)
        assert c.call("DBSIZE") == 0


# --------------------------------------------------------------------------- startup and shutdown

def write_conf(tmp_path, lines):
    path = tmp_path / "bad.conf"
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


@lode_only
@pytest.mark.parametrize("lines,bad_line", [
    (["# a comment", "port 6379", "no-such-directive yes"], 3),
    (["appendfsync sometimes"], 1),
    (["", "databases many"], 2),
    (["loglevel notice", "port 99999"], 2),
    (["maxclients"], 1),
], ids=["unknown directive", "bad enum", "bad number", "port out of range", "missing value"])
def test_config_file_errors_name_file_and_line(tmp_path, lines, bad_line):
    conf = write_conf(tmp_path, lines)
    code, out = harness.run_to_exit(harness.lode_server(conf=conf, workdir=str(tmp_path)).argv)
    assert code != 0, out
    # Redis's report ("Reading the configuration file, at line N", the line, the reason), naming the file too
    assert f"Reading the configuration file, at line {bad_line} of {conf}\n>>> '{lines[bad_line - 1]}'\n" in out, out


@lode_only
@pytest.mark.parametrize("args", [["--no-such-option", "1"], ["--appendfsync", "sometimes"],
                                  ["--databases", "-3"], ["--port"]])
def test_command_line_errors(tmp_path, args):
    code, out = harness.run_to_exit(harness.lode_server(args, workdir=str(tmp_path)).argv)
    assert code != 0
    assert out.strip(), "a refused option must be explained"


@lode_only
def test_second_server_on_same_dir_is_refused(lode):
    with lode.client() as c:
        c.call("SET", "lock:key", "still here")
    second = harness.lode_server(workdir=lode.dir)  # same data dir, another port
    code, out = harness.run_to_exit(second.argv)
    assert code != 0
    assert re.search(r"in use|lock", out, re.IGNORECASE), out
    with lode.client() as c:
        assert c.call("GET", "lock:key") == b"still here"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_zero_and_keeps_data(lode, sig):
    with lode.client() as c:
        c.pipeline([("SET", f"sig:{i}", i) for i in range(1000)])
        c.call("SELECT", "5")
        c.call("SET", "sig:db5", "five")
    assert lode.stop(sig) == 0
    lode.start()
    with lode.client() as c:
        assert c.call("DBSIZE") == 1000
        assert c.call("GET", "sig:999") == b"999"
        c.call("SELECT", "5")
        assert c.call("GET", "sig:db5") == b"five"


def test_shutdown_command_exits_zero_and_keeps_data(lode):
    with lode.client() as c:
        c.call("SET", "shutdown:key", "kept")
        c.send_raw(encode_command("SHUTDOWN"))
        # on success SHUTDOWN sends no reply: the connection just closes
        with pytest.raises((ConnectionClosed, ConnectionResetError)):
            c.read_reply()
    assert lode.wait_exit(timeout=30) == 0
    lode.start()
    with lode.client() as c:
        assert c.call("GET", "shutdown:key") == b"kept"


def test_script_that_allocates_without_bound_fails_alone(lode_module):
    """lua-memory-limit (Lode's own option; Redis has no limit): a script that keeps
    allocating gets an error, and the server and the interpreter go on."""
    with lode_module.client() as c:
        assert c.call("EVAL", "return 1", "0") == 1    # the interpreter exists before the limit changes
        assert c.call("CONFIG", "SET", "lua-memory-limit", "16mb") == b"OK"
        try:
            reply = c.call_raw("EVAL", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end return #t", "0")
            assert reply.startswith(b"-ERR Error running script") and b"memory limit" in reply, reply
            assert c.call("EVAL", "return redis.call('ping')", "0") == b"PONG"
            assert c.call("PING") == b"PONG"
        finally:
            c.call("CONFIG", "SET", "lua-memory-limit", "256mb")
