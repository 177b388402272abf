"""client-output-buffer-limit: a client that does not read its replies cannot
grow the server's memory without bound.

A subscriber that never reads is disconnected once the messages waiting for it
pass the pubsub class's hard limit (or stay over the soft one too long), and so
is a normal client that never reads the replies of a flood of requests; the
server's RSS stays bounded meanwhile and every other client is served. The
limits' syntax, CONFIG SET validation and CONFIG GET form are Redis's
(compared with the reference server).
"""
import socket
import time

import pytest

from harness import TESTING_REDIS, RawClient, encode_command, poll


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def raw_socket(port):
    """A connection whose replies are not read until the test says so (the
    kernel's socket buffers take a few MB first, then the server's own grow)."""
    return socket.create_connection(("127.0.0.1", port))


def is_closed(s, quiet=0.3):
    """Whether the server closed `s`: reads what arrived (the kernel may still
    hold megabytes the server wrote before closing) until EOF or a reset, or
    until nothing arrives for `quiet` seconds (then it is still open)."""
    s.settimeout(quiet)
    try:
        while True:
            if not s.recv(1 << 20):
                return True
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_config_syntax_and_errors_match_redis(lode_module, redis_ref):
    cases = [("CONFIG", "GET", "client-output-buffer-limit"),
             ("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 5"),
             ("CONFIG", "GET", "client-output-buffer-limit"),
             ("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2 3 replica 4 5 6"),
             ("CONFIG", "GET", "client-output-buffer-limit"),
             ("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"),
             ("CONFIG", "SET", "client-output-buffer-limit", "master 1 2 3"),
             ("CONFIG", "SET", "client-output-buffer-limit", "bogus 1 2 3"),
             ("CONFIG", "SET", "client-output-buffer-limit", "normal x 2 3"),
             ("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2 -3"),
             ("CONFIG", "GET", "client-output-buffer-limit"),
             ("CONFIG", "SET", "client-output-buffer-limit",
              "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
             ("CONFIG", "GET", "client-output-buffer-limit")]
    with lode_module.client() as a, redis_ref.client() as b:
        for cmd in cases:
            assert a.call_raw(*cmd) == b.call_raw(*cmd), cmd


@pytest.fixture
def limited(lode):
    """A fresh server with small limits, restored by the fixture's teardown."""
    with lode.client() as c:
        c.call("CONFIG", "SET", "client-output-buffer-limit", "normal 2mb 0 0 pubsub 1mb 256kb 1")
    return lode


def test_subscriber_that_never_reads_is_disconnected_and_memory_stays_bounded(limited):
    srv = limited
    sub = raw_socket(srv.port)
    sub.sendall(encode_command("SUBSCRIBE", "firehose"))
    time.sleep(0.2)
    before = rss_kb(srv.proc.pid)
    payload = b"x" * 16384
    with srv.client() as pub:
        receivers = []
        for i in range(3000):  # 48 MB of messages for a subscriber with a 1 MB limit
            receivers.append(pub.call("PUBLISH", "firehose", payload))
            if receivers[-1] == 0:
                break
        assert receivers[0] == 1
        assert receivers[-1] == 0, "the subscriber was never disconnected"
        # The server still serves everyone else.
        assert pub.call("PING") is not None
        assert pub.call("PUBSUB", "NUMSUB", "firehose") == [b"firehose", 0]
    grown = rss_kb(srv.proc.pid) - before
    assert grown < 64 * 1024, f"RSS grew by {grown} kB for a subscriber limited to 1 MB"
    assert "overcoming of output buffer limits" in srv.log_text()
    assert poll(lambda: is_closed(sub), timeout=10)
    sub.close()


def test_subscriber_over_the_soft_limit_too_long_is_disconnected(lode):
    srv = lode
    sub = raw_socket(srv.port)
    sub.sendall(encode_command("SUBSCRIBE", "slow"))
    time.sleep(0.2)
    with srv.client() as pub:
        pub.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 256kb 1")
        # 32 MB: more than the kernel's socket buffers take, so well over the
        # soft limit in the server; there is no hard limit.
        for _ in range(512):
            pub.call("PUBLISH", "slow", b"y" * 65536)
        assert pub.call("PUBSUB", "NUMSUB", "slow") == [b"slow", 1], "closed at once, before the soft limit's time"
        # Over the soft limit for more than 1 s: the next message closes it.
        time.sleep(2.2)
        pub.call("PUBLISH", "slow", b"z")
        assert poll(lambda: pub.call("PUBSUB", "NUMSUB", "slow") == [b"slow", 0], timeout=5)
    assert poll(lambda: is_closed(sub), timeout=10)
    sub.close()


def test_normal_client_that_never_reads_replies_is_disconnected(limited):
    srv = limited
    with srv.client() as c:
        c.call("SET", "big", b"v" * 65536)
    flood = raw_socket(srv.port)
    request = encode_command("GET", "big") * 100
    try:
        for _ in range(40):  # 4000 replies of 64 kB = 256 MB if they were all kept
            flood.sendall(request)
    except (ConnectionResetError, BrokenPipeError):
        pass
    # First the server's word, without reading: is_closed drains the socket, and a
    # client that reads is no longer one that never reads (it failed once so).
    assert poll(lambda: "overcoming of output buffer limits" in srv.log_text(), timeout=10), srv.log_text()[-2000:]
    assert poll(lambda: is_closed(flood), timeout=10)
    with srv.client() as c:
        assert c.call("GET", "big") == b"v" * 65536
    assert rss_kb(srv.proc.pid) < 512 * 1024
    flood.close()


@pytest.mark.skipif(TESTING_REDIS, reason="omem is Lode's measure of its own buffers")
def test_client_list_shows_the_output_waiting_for_a_slow_client(lode):
    srv = lode
    sub = raw_socket(srv.port)
    sub.sendall(encode_command("SUBSCRIBE", "watched"))
    time.sleep(0.2)
    with srv.client() as pub:
        # 16 MB of messages: more than the kernel's socket buffers take, less than
        # the default 32 MB pubsub hard limit.
        for _ in range(256):
            pub.call("PUBLISH", "watched", b"w" * 65536)
        rows = pub.call("CLIENT", "LIST", "TYPE", "pubsub").decode().splitlines()
        assert len(rows) == 1
        fields = dict(f.split("=", 1) for f in rows[0].split(" "))
        assert fields["flags"] == "P" and fields["sub"] == "1"
        assert int(fields["omem"]) > 0
    sub.close()
