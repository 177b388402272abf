"""lode-server started the way an operator starts redis-server: on Debian's stock
redis.conf and on Redis 7.0.15's full redis.conf (both carried as fixtures, only
port, dir, pidfile and logfile adjusted), daemonized with a pidfile, under systemd's
NOTIFY_SOCKET, with include files; CONFIG REWRITE round trips; idle clients closed
by `timeout`; start-up failures reported before anything is created.

Run (from the repository root): pytest Tests/python/test_config_files.py
"""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

import harness
from harness import RawClient, as_text, poll

FIXTURES = os.path.join(harness.ROOT, "Tests", "fixtures")
pytestmark = pytest.mark.skipif(harness.TESTING_REDIS, reason="starts lode-server itself")


def adjusted(fixture, tmp_path, port, extra=()):
    """The fixture with port, dir, pidfile and logfile pointed at tmp_path."""
    replacements = {"port": str(port), "dir": str(tmp_path / "data"), "pidfile": str(tmp_path / "lode.pid"),
                    "logfile": str(tmp_path / "lode.log")}
    out = []
    with open(os.path.join(FIXTURES, fixture)) as f:
        for line in f:
            name = line.split(None, 1)[0] if line.strip() and not line.startswith("#") else None
            out.append(f"{name} {replacements[name]}\n" if name in replacements else line)
    out += [line + "\n" for line in extra]
    path = tmp_path / "redis.conf"
    path.write_text("".join(out))
    return str(path)


def stop_by_pid(pid):
    os.kill(pid, signal.SIGTERM)
    assert poll(lambda: not os.path.exists(f"/proc/{pid}"), timeout=30), "server did not stop"


def test_debian_stock_redis_conf_daemonizes_with_its_pidfile(tmp_path):
    port = harness.free_port()
    conf = adjusted("debian-redis-7.0.15.conf", tmp_path, port)
    code, out = harness.run_to_exit([harness.LODE_BIN, conf], timeout=60)
    assert code == 0, out                                  # daemonize yes: the parent exits once the server is ready
    pid = int((tmp_path / "lode.pid").read_text())
    try:
        assert pid != os.getpid() and os.path.exists(f"/proc/{pid}")
        with RawClient(port) as c:
            assert c.call("PING") == b"PONG"
            assert c.call("CONFIG", "GET", "daemonize") == [b"daemonize", b"yes"]
            assert c.call("CONFIG", "GET", "client-output-buffer-limit")[1] == \
                b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
            assert c.call("CONFIG", "GET", "proc-title-template")[1] == b"{title} {listen-addr} {server-mode}"
            info = harness.info_dict(c.call("INFO", "server"))
            assert info["process_id"] == str(pid) and info["config_file"] == conf
        os.kill(pid, signal.SIGHUP)                        # ignored, as Redis
        with RawClient(port) as c:
            assert c.call("PING") == b"PONG"
        log = (tmp_path / "lode.log").read_text()
        assert f"Configuration: {conf}" in log and f"Data: {tmp_path / 'data'}, 0 keys" in log
        assert re.search(r"Listening on 127\.0\.0\.1 -::1 port %d" % port, log)
    finally:
        stop_by_pid(pid)
    assert not (tmp_path / "lode.pid").exists(), "the pidfile is removed at exit"


def test_full_redis_conf_of_the_7_0_source_starts(tmp_path):
    port = harness.free_port()
    conf = adjusted("redis-7.0.15.conf", tmp_path, port)
    proc = subprocess.Popen([harness.LODE_BIN, conf], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        harness.wait_for_port(port, proc)
        with RawClient(port) as c:
            assert c.call("CONFIG", "GET", "bind") == [b"bind", b"127.0.0.1 -::1"]   # the file's, not Lode's default
            assert c.call("CONFIG", "GET", "save")[1] == b""   # commented out in the file: Lode has no schedule
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_include_rewrite_and_restart_keep_the_values(tmp_path):
    port = harness.free_port()
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "10-memory.conf").write_text("maxmemory 64mb\nmaxmemory-policy allkeys-lru\n")
    conf = tmp_path / "lode.conf"
    conf.write_text(f"# Operator's notes stay.\nport {port}\ndir {tmp_path / 'data'}\n"
                    f"include {tmp_path}/conf.d/*.conf\n\nhz 10\nslaveof no one\n")
    srv = harness.LodeServer([harness.LODE_BIN, str(conf), "--port", str(port)], str(tmp_path), False, str(conf))
    srv.start()
    try:
        with srv.client() as c:
            assert c.call("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"67108864"]
            info = harness.info_dict(c.call("INFO", "memory"))
            assert info["maxmemory_policy"] == "allkeys-lru" and info["cache_max_bytes"] == "67108864"
            assert c.call("CONFIG", "SET", "hz", "25", "notify-keyspace-events", "KEA", "timeout", "300") == b"OK"
            assert c.call("CONFIG", "REWRITE") == b"OK"
        text = conf.read_text()
        assert text.startswith("# Operator's notes stay.\n") and f"include {tmp_path}/conf.d/*.conf\n" in text
        assert "\nhz 25\n" in text and "# Generated by CONFIG REWRITE\n" in text
        assert 'notify-keyspace-events "AKE"' in text and "\ntimeout 300\n" in text and "slaveof" not in text
        srv.stop()
        srv.start()
        with srv.client() as c:
            values = c.call("CONFIG", "GET", "hz", "notify-keyspace-events", "timeout", "maxmemory")
            assert dict(zip(values[::2], values[1::2])) == {b"hz": b"25", b"notify-keyspace-events": b"AKE",
                                                           b"timeout": b"300", b"maxmemory": b"67108864"}
    finally:
        srv.stop()


def test_config_rewrite_without_a_file_is_redis_error():
    srv = harness.lode_server(["--hz", "10"])
    srv.argv = [a for a in srv.argv if not a.endswith("default.conf")]
    srv.start()
    try:
        with srv.client() as c:
            assert c.call_raw("CONFIG", "REWRITE") == b"-ERR The server is running without a config file\r\n"
    finally:
        srv.cleanup()


def test_systemd_is_told_when_ready_and_stopping(tmp_path):
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(30)
    srv = harness.lode_server(["--supervised", "systemd"], workdir=str(tmp_path))
    env = dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify.sock"))
    proc = subprocess.Popen(srv.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=str(tmp_path))
    try:
        assert notify.recv(4096).startswith(b"READY=1\n")
        proc.terminate()
        assert notify.recv(4096) == b"STOPPING=1\n"
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        notify.close()


def test_timeout_closes_idle_clients_but_not_subscribers(lode):
    with lode.client() as admin:
        assert admin.call("CONFIG", "SET", "timeout", "1") == b"OK"
        idle, subscriber = lode.client(), lode.client()
        subscriber.call("SUBSCRIBE", "news")
        time.sleep(2.5)
        with pytest.raises((harness.ConnectionClosed, ConnectionResetError, BrokenPipeError)):
            idle.call("PING")
        subscriber.send_raw(harness.encode_command("PING"))
        assert subscriber.read_reply() == [b"pong", b""]
        idle.close(), subscriber.close()


def test_port_in_use_is_reported_before_the_data_directory_is_created(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "data"
        code, out = harness.run_to_exit([harness.LODE_BIN, "--port", str(port), "--dir", str(data)])
    assert code == 1
    assert f"Could not create server TCP listening socket 127.0.0.1:{port}: bind: Address already in use" in out
    assert not data.exists()


@pytest.mark.parametrize("args,message", [
    (["/nonexistent/lode.conf"], "Fatal error, can't open config file '/nonexistent/lode.conf': No such file or directory"),
    (["--dir", "/proc/no/such/dir"], "Can't create the data directory '/proc/no/such/dir': No such file or directory"),
    (["--logfile", "/nonexistent/dir/lode.log"], "Can't open the log file: No such file or directory"),
    (["--replicaof", "10.0.0.1", "6379"], "Lode cannot be a replica yet: replication is not implemented"),
])
def test_startup_failures_are_explained_without_foundation_errors(tmp_path, args, message):
    code, out = harness.run_to_exit([harness.LODE_BIN, *args], cwd=str(tmp_path))
    assert code == 1
    assert message in out, out
    assert "NSCocoaErrorDomain" not in out and "Error Domain" not in out
