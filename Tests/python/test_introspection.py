"""Introspection and administration against the real binary, compared with a real
redis-server where Redis defines the answer: INFO commandstats / errorstats / cluster,
Redis's encoding options, CLIENT KILL, MONITOR, SCAN cursors that survive a
round trip through a double, RANDOMKEY's spread, SIGHUP.

Run (from the repository root): pytest Tests/python/test_introspection.py
"""
import os
import re
import signal
import time

import pytest

from harness import ConnectionClosed, RawClient, as_text, encode_command, info_dict


def test_commandstats_and_errorstats_count_as_redis(lode_module):
    """INFO commandstats / errorstats: calls, failures and rejections per command, error
    replies per code; an error a script passes on from redis.call is counted once."""
    with lode_module.client() as c:
        assert c.call("CONFIG", "RESETSTAT") == b"OK"
        c.call("SET", "cs:k", "v")
        c.call_raw("INCR", "cs:k")                                              # ERR, failed
        c.call_raw("GET")                                                       # rejected (arity)
        c.call_raw("EVAL", "return redis.error_reply('MY_CODE some text')", "0")
        c.call_raw("EVAL", "return redis.call('incr', 'cs:k')", "0")             # counted once
        c.call_raw("LPUSH", "cs:k", "x")                                        # WRONGTYPE
        stats = info_dict(c.call("INFO", "commandstats"))
        errors = info_dict(c.call("INFO", "errorstats"))
        assert stats["cmdstat_set"].startswith("calls=1,usec=")
        assert stats["cmdstat_incr"].endswith("rejected_calls=0,failed_calls=2")
        assert stats["cmdstat_get"].endswith("rejected_calls=1,failed_calls=0")
        assert stats["cmdstat_eval"].endswith("rejected_calls=0,failed_calls=2")
        assert errors == {"errorstat_ERR": "count=3", "errorstat_MY_CODE": "count=1", "errorstat_WRONGTYPE": "count=1"}
        assert info_dict(c.call("INFO", "stats"))["total_error_replies"] == "5"
        assert info_dict(c.call("INFO", "cluster")) == {"cluster_enabled": "0"}
        default = as_text(c.call("INFO"))
        assert "# Errorstats" in default and "# Cluster" in default and "# Commandstats" not in default
        assert "# Commandstats" in as_text(c.call("INFO", "everything"))


def test_sighup_is_ignored(lode_module):
    os.kill(lode_module.proc.pid, signal.SIGHUP)
    time.sleep(0.2)
    with lode_module.client() as c:
        assert c.call("PING") == b"PONG"


def test_scan_cursors_survive_a_round_trip_through_a_double(lode_module):
    """SCAN cursors stay below 2^53, so a client that reads them as a double
    (node-redis's Number(), Lua's tonumber) sends back the same cursor."""
    with lode_module.client() as c:
        c.call("SELECT", "7")
        try:
            for i in range(30):
                c.call("SET", f"dbl:{i}", "v")
            cursor, seen = b"0", set()
            while True:
                cursor, batch = c.call("SCAN", cursor, "COUNT", "3")
                assert int(cursor) < 2 ** 53
                seen.update(batch)
                cursor = str(int(float(int(cursor)))).encode()   # what a JavaScript client sends back
                if cursor == b"0":
                    break
            assert len(seen) == 30
            # A Lua script iterating with tonumber() sees every key too.
            script = ("local c, n = 0, 0 repeat local r = redis.call('SCAN', c, 'COUNT', 3) c = tonumber(r[1]) "
                      "n = n + #r[2] until c == 0 return n")
            assert c.call("EVAL", script, "0") == 30
        finally:
            c.call("FLUSHDB")
            c.call("SELECT", "0")


def test_randomkey_is_uniform_over_a_small_database(lode_module):
    with lode_module.client() as c:
        c.call("SELECT", "8")
        try:
            c.call("MSET", "a", "1", "b", "2", "c", "3")
            counts = {}
            for _ in range(600):
                k = c.call("RANDOMKEY")
                counts[k] = counts.get(k, 0) + 1
            assert set(counts) == {b"a", b"b", b"c"}
            assert all(100 < n < 300 for n in counts.values()), counts   # ~200 each
        finally:
            c.call("FLUSHDB")
            c.call("SELECT", "0")


# Redis 7.0's defaults (config.c); the ziplist names are aliases.
# Redis 7.0.15's config.c defaults (hash-max-listpack-entries is 512 there, although its redis.conf says 128).
ENCODING_DEFAULTS = {"hash-max-listpack-entries": "512", "hash-max-ziplist-entries": "512",
                     "hash-max-listpack-value": "64", "hash-max-ziplist-value": "64", "list-max-listpack-size": "-2",
                     "list-max-ziplist-size": "-2", "list-compress-depth": "0", "set-max-intset-entries": "512",
                     "zset-max-listpack-entries": "128", "zset-max-ziplist-entries": "128",
                     "zset-max-listpack-value": "64", "zset-max-ziplist-value": "64", "stream-node-max-bytes": "4096",
                     "stream-node-max-entries": "100", "hll-sparse-max-bytes": "3000"}


def test_encoding_thresholds_are_accepted_as_in_redis(lode_module, redis_ref):
    """Redis's encoding options (and their ziplist aliases) are accepted and reported with
    Redis's defaults and validation errors; in Lode they change nothing."""
    with lode_module.client() as lode, redis_ref.client() as ref:
        for name, default in ENCODING_DEFAULTS.items():
            assert lode.call("CONFIG", "GET", name) == [name.encode(), default.encode()], name
        for args in [("set-max-intset-entries", "-1"), ("zset-max-listpack-value", "x"), ("list-compress-depth", "-1"),
                     ("hash-max-ziplist-entries", "1", "2"), ("list-max-ziplist-size", "99999999999")]:
            assert lode.call_raw("CONFIG", "SET", *args) == ref.call_raw("CONFIG", "SET", *args), args
        assert lode.call("CONFIG", "SET", "hash-max-ziplist-entries", "0") == b"OK"
        assert lode.call("CONFIG", "GET", "hash-max-listpack-entries") == [b"hash-max-listpack-entries", b"0"]
        assert lode.call("CONFIG", "SET", "stream-node-max-bytes", "8kb") == b"OK"
        assert lode.call("CONFIG", "GET", "stream-node-max-bytes") == [b"stream-node-max-bytes", b"8192"]
        for name, default in [("hash-max-listpack-entries", "512"), ("stream-node-max-bytes", "4096")]:
            lode.call("CONFIG", "SET", name, default)
        assert lode.call("CONFIG", "SET", "save", "") == b"OK"


def test_client_kill_filters_and_errors(lode_module, redis_ref):
    with lode_module.client() as lode, redis_ref.client() as ref:
        for args in [("KILL",), ("KILL", "id", "10", "wrong_arg"), ("KILL", "id", "str"), ("KILL", "id", "0"),
                     ("KILL", "type", "wrong_type"), ("KILL", "user", "wrong_user"), ("KILL", "skipme", "maybe"),
                     ("KILL", "1.2.3.4:5"), ("KILL", "id", "999999")]:
            assert lode.call_raw("CLIENT", *args) == ref.call_raw("CLIENT", *args), args
        with lode_module.client() as victim, lode_module.client() as subscriber:
            victim_id = victim.call("CLIENT", "ID")
            subscriber.send_raw(encode_command("SUBSCRIBE", "kill-test"))
            subscriber.read_reply_raw()
            assert lode.call("CLIENT", "KILL", "TYPE", "pubsub") == 1
            with pytest.raises((ConnectionClosed, OSError)):
                subscriber.read_reply_raw()
            assert lode.call("CLIENT", "KILL", "ID", str(victim_id)) == 1
            with pytest.raises((ConnectionClosed, OSError)):
                victim.call("PING")
            assert b"kill-test" not in b"".join(lode.call("PUBSUB", "CHANNELS"))


def test_monitor_lines_match_redis(lode_module, redis_ref):
    """MONITOR's lines (time and client address aside) for plain commands, a script's
    commands, a transaction and binary arguments, as Redis writes them."""
    steps = [("SET", "mon:k", b"v\x00\"\n\xff"), ("GET", "mon:k"), ("EVAL", "return redis.call('incr', KEYS[1])", "1", "mon:n"),
             ("MULTI",), ("SET", "mon:a", "1"), ("EXEC",), ("CONFIG", "GET", "hz"), ("SELECT", "3"), ("PING",),
             ("SELECT", "0")]
    lines = []
    for srv in (redis_ref, lode_module):
        with RawClient(srv.port) as monitor, RawClient(srv.port) as c:
            assert monitor.call_raw("MONITOR") == b"+OK\r\n"
            for step in steps:
                c.call_raw(*step)
            c.call_raw("DEL", "mon:k", "mon:n", "mon:a")
            got = []
            while not got or not got[-1].endswith(b'"DEL" "mon:k" "mon:n" "mon:a"\r\n'):
                got.append(monitor.read_reply_raw())
            assert b" lua] \"incr\" \"mon:n\"" in got[3], got   # a script's commands show as lua
            # the time and the client's address are each server's own
            lines.append([re.sub(rb"^\+\d+\.\d{6} \[(\d+) ([0-9.:]+|lua)\]",
                                 lambda m: b"+T [%s %s]" % (m[1], m[2] if m[2] == b"lua" else b"ADDR"), g) for g in got])
    assert lines[1] == lines[0]


def test_client_list_idle_counts_from_the_last_command(lode_module):
    with lode_module.client() as c, lode_module.client() as idle:
        idle_id = idle.call("CLIENT", "ID")
        time.sleep(1.2)
        listed = as_text(c.call("CLIENT", "LIST", "ID", str(idle_id)))
        assert re.search(r" idle=1 ", listed), listed
        idle.call("PING")
        listed = as_text(c.call("CLIENT", "LIST", "ID", str(idle_id)))
        assert re.search(r" idle=0 ", listed) and re.search(r" age=1 ", listed), listed


def test_slowlog_as_redis(lode, redis_ref):
    """SLOWLOG: entries newest first with id, time, duration, arguments (at most 32, each at
    most 128 bytes), peer and name; sensitive CONFIG SET values redacted; EXEC itself and
    SLOWLOG-skipping commands not logged; HELP and errors byte for byte."""
    def entries(c):
        return [(e[3], e[5]) for e in c.call("SLOWLOG", "GET", "-1")]
    with lode.client() as lc, redis_ref.client() as rc:
        for c in (lc, rc):
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "5")
            c.call("SLOWLOG", "RESET")
            c.call("CLIENT", "SETNAME", "slow-one")
            c.call("SADD", "s", *[str(i) for i in range(40)])
            c.call("SET", "k", "A" * 200)
            c.call("CONFIG", "SET", "masterauth", "secret")
            c.call("MULTI"), c.call("INCR", "n"), c.call("EXEC")
        assert entries(lc) == entries(rc)
        for args in [("GET", "-2"), ("GET", "x"), ("GET", "1", "2"), ("HELP",), ("NOPE",), ("LEN", "x")]:
            assert lc.call_raw("SLOWLOG", *args) == rc.call_raw("SLOWLOG", *args), args
        assert lc.call("SLOWLOG", "LEN") == rc.call("SLOWLOG", "LEN") == 5
        entry = lc.call("SLOWLOG", "GET", "1")[0]
        assert len(entry) == 6 and entry[2] >= 0 and entry[4].startswith(b"127.0.0.1:")
        assert abs(entry[1] - int(time.time())) < 5
        for c in (lc, rc):
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
            c.call("SLOWLOG", "RESET")
            c.call("SET", "k", "v")
        assert lc.call("SLOWLOG", "LEN") == rc.call("SLOWLOG", "LEN") == 0


def test_latency_monitor_and_histograms_as_redis(lode, redis_ref):
    with lode.client() as lc, redis_ref.client() as rc:
        for args in [("HELP",), ("DOCTOR",), ("GRAPH", "command"), ("HISTORY", "command"), ("LATEST",),
                     ("RESET",), ("NOPE",), ("HISTOGRAM", "nosuchcommand")]:
            assert lc.call_raw("LATENCY", *args) == rc.call_raw("LATENCY", *args), args
        for c in (lc, rc):
            c.call("CONFIG", "SET", "latency-monitor-threshold", "1")
            c.call("CONFIG", "RESETSTAT")   # forgets the per-command histograms too
            c.call("EVAL", "local t = 0 for i = 1, 20000000 do t = t + i end return t", "0")  # a slow command
            c.call("SET", "x", "1"), c.call("SET", "x", "2"), c.call("GET", "x")
        for c in (lc, rc):
            latest = c.call("LATENCY", "LATEST")
            assert [e[0] for e in latest] == [b"command"] and latest[0][2] >= 1 and latest[0][3] >= latest[0][2]
            history = c.call("LATENCY", "HISTORY", "command")
            assert len(history) == 1 and history[0][0] == latest[0][1]
            graph = as_text(c.call("LATENCY", "GRAPH", "command"))
            assert graph.startswith("command - high ") and "\n" + "-" * 80 + "\n" in graph
            histogram = c.call("LATENCY", "HISTOGRAM", "set", "get")
            histogram = dict(zip(histogram[::2], histogram[1::2])) if isinstance(histogram, list) else histogram
            assert sorted(histogram) == [b"get", b"set"]
            fields = histogram[b"set"]
            fields = dict(zip(fields[::2], fields[1::2])) if isinstance(fields, list) else fields
            assert fields[b"calls"] == 2
            buckets = fields[b"histogram_usec"]
            counts = buckets[1::2] if isinstance(buckets, list) else list(buckets.values())
            assert counts == sorted(counts) and counts[-1] == 2
            stats = info_dict(c.call("INFO", "latencystats"))
            assert re.fullmatch(r"p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}", stats["latency_percentiles_usec_set"])
            assert c.call("LATENCY", "RESET", "command", "nosuch") == 1
            assert "# Latencystats" not in as_text(c.call("INFO"))
            c.call("CONFIG", "SET", "latency-monitor-threshold", "0")


def test_client_list_counts_the_query_buffer_as_redis(lode_module):
    with lode_module.client() as c:
        line = as_text(c.call("CLIENT", "INFO"))
        assert " qbuf=26 " in line and " argv-mem=10 " in line, line   # "*2\r\n$6\r\nclient\r\n$4\r\ninfo\r\n"
        c.call("MULTI"), c.call("SET", "a", "bb")
        assert c.call("CLIENT", "INFO") == b"QUEUED"
        c.call("DISCARD")


def test_type_ttl_exists_leave_the_access_time_touch_updates_it(lode_module):
    """Redis's LOOKUP_NOTOUCH: OBJECT IDLETIME keeps growing through TYPE, TTL, PTTL and
    EXISTS, and TOUCH (or a read) resets it."""
    with lode_module.client() as c:
        c.call("SET", "idle:k", "v")
        time.sleep(2.1)
        c.call("TYPE", "idle:k"), c.call("TTL", "idle:k"), c.call("PTTL", "idle:k"), c.call("EXISTS", "idle:k")
        assert c.call("OBJECT", "IDLETIME", "idle:k") >= 2
        assert c.call("TOUCH", "idle:k", "idle:none") == 1
        assert c.call("OBJECT", "IDLETIME", "idle:k") < 2


def test_memory_commands_as_redis(lode, redis_ref):
    """MEMORY STATS has Redis's fields (Lode adds two of its own), the heap is glibc's
    (not the resident set), MEMORY USAGE counts a collection's elements, DOCTOR speaks
    Redis's sentences, HELP/PURGE/errors are Redis's."""
    with lode.client() as lc, redis_ref.client() as rc:
        for args in [("HELP",), ("PURGE",), ("NOPE",), ("STATS", "x"), ("USAGE", "nokey"), ("USAGE", "k", "SAMPLES", "-1"),
                     ("USAGE", "k", "SAMPLES"), ("USAGE", "k", "BOGUS", "1")]:
            assert lc.call_raw("MEMORY", *args) == rc.call_raw("MEMORY", *args), args
        stats = lc.call("MEMORY", "STATS")
        lode_fields = set(stats[::2]) if isinstance(stats, list) else set(stats)
        ref = rc.call("MEMORY", "STATS")
        redis_fields = {f for f in (ref[::2] if isinstance(ref, list) else ref) if not f.startswith(b"db.")}
        assert redis_fields <= lode_fields and lode_fields - redis_fields == {b"lode.cache.bytes", b"lode.lmdb.resident-bytes"}
        for c in (lc, rc):
            c.call("HSET", "mem:h", *[x for i in range(1000) for x in (f"f{i}", "x" * 100)])
        lode_usage, redis_usage = lc.call("MEMORY", "USAGE", "mem:h", "SAMPLES", "0"), rc.call("MEMORY", "USAGE", "mem:h")
        assert redis_usage / 2 < lode_usage < redis_usage * 2, (lode_usage, redis_usage)
        memory = info_dict(lc.call("INFO", "memory"))
        assert 0 < int(memory["used_memory"]) < int(memory["used_memory_rss"])
        assert int(memory["used_memory_peak"]) >= int(memory["used_memory"]) >= int(memory["used_memory_startup"])
        doctor = as_text(lc.call("MEMORY", "DOCTOR"))
        assert doctor.startswith(("Hi Sam, this instance is empty", "Hi Sam, I can't find any memory issue", "Sam, I detected"))


def test_debug_as_redis(lode_module, redis_ref):
    """DEBUG is refused unless enable-debug-command allows it, with Redis's text; then the
    subcommands Lode has answer as Redis's (PROTOCOL in RESP2 and RESP3, ERROR, POPULATE,
    OBJECT's errors, SLEEP, RELOAD)."""
    with lode_module.client() as lc, redis_ref.client() as rc:
        assert lc.call_raw("DEBUG", "HELP") == rc.call_raw("DEBUG", "HELP")      # refused by default, both
    import harness
    lode = harness.lode_server(["--enable-debug-command", "yes"]).start()
    redis = harness.redis_server(["--enable-debug-command", "yes"]).start()
    try:
        with lode.client() as lc, redis.client() as rc:
            for protocol in ("2", "3"):
                lc.call("HELLO", protocol), rc.call("HELLO", protocol)
                for kind in ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
                             "verbatim", "true", "false", "nosuch"]:
                    lr = lc.call_raw("DEBUG", "PROTOCOL", kind)
                    rr = rc.call_raw("DEBUG", "PROTOCOL", kind)
                    assert lr == rr, (protocol, kind)
                    if kind in ("push",) and protocol == "3":
                        assert lc.read_reply_raw() == rc.read_reply_raw()   # the reply after the push
            lc.call("HELLO", "2"), rc.call("HELLO", "2")
            for args in [("ERROR", "MYERR some\ntext"), ("OBJECT", "nokey"), ("SLEEP", "0"), ("NOSUCH",),
                         ("QUICKLIST-PACKED-THRESHOLD", "0"), ("QUICKLIST-PACKED-THRESHOLD", "5gb"),
                         ("QUICKLIST-PACKED-THRESHOLD", "1mb"), ("POPULATE", "-1"), ("POPULATE", "x"),
                         ("POPULATE", "100", "p", "12"), ("SET-ACTIVE-EXPIRE", "1"), ("RELOAD",), ("CHANGE-REPL-ID",)]:
                assert lc.call_raw("DEBUG", *args) == rc.call_raw("DEBUG", *args), args
            assert lc.call("DBSIZE") == rc.call("DBSIZE") == 100
            assert lc.call("GET", "p:7") == rc.call("GET", "p:7") == b"value:7\x00\x00\x00\x00\x00"
            assert as_text(lc.call("DEBUG", "OBJECT", "p:7")).startswith("Value at:")
            assert "encoding:embstr" in as_text(lc.call("DEBUG", "OBJECT", "p:7"))
            started = time.monotonic()
            assert lc.call("DEBUG", "SLEEP", "0.2") == b"OK" and time.monotonic() - started >= 0.2
    finally:
        lode.cleanup()
        redis.cleanup()


def test_lolwut_as_redis(lode_module, redis_ref):
    """LOLWUT: Redis's version line; VERSION 5 and 6 draw Redis's (random) pictures with the
    same frame, size and captions; argument errors as Redis."""
    with lode_module.client() as lc, redis_ref.client() as rc:
        for args in [(), ("foo",), ("VERSION", "x"), ("VERSION", "7"), ("VERSION", "5", "x"), ("VERSION", "-1")]:
            assert lc.call_raw("LOLWUT", *args) == rc.call_raw("LOLWUT", *args), args
        for args in [("VERSION", "5", "20", "4", "2"), ("VERSION", "5"), ("VERSION", "6", "30", "6"), ("VERSION", "6")]:
            lode, redis = as_text(lc.call("LOLWUT", *args)), as_text(rc.call("LOLWUT", *args))
            assert lode.splitlines()[-2:] == redis.splitlines()[-2:], args             # the captions
            visible = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lode.splitlines()]
            expected = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in redis.splitlines()]
            assert [len(line) for line in visible] == [len(line) for line in expected], args
        schotter = as_text(lc.call("LOLWUT", "VERSION", "5", "20", "4", "2")).splitlines()
        assert schotter[0] == "⠀⡤⠤⠤⠤⣤⠤⠤⠤⢤⡤⠤⠤⠤⣤⠤⠤⠤⢤⠀"   # the unrotated top rows, as Redis draws them


def test_cluster_answers_as_a_redis_without_cluster_mode(redis_ref, lode):
    """Every CLUSTER subcommand gets Redis's reply for cluster-enabled no, and COMMAND
    lists CLUSTER and its subcommands as Redis does."""
    cases = [("CLUSTER", "INFO"), ("CLUSTER", "HELP"), ("CLUSTER", "SLOTS"), ("CLUSTER", "MYID"),
             ("CLUSTER", "KEYSLOT", "foo"), ("CLUSTER",), ("CLUSTER", "BOGUS"),
             ("COMMAND", "LIST", "FILTERBY", "PATTERN", "cluster|help")]
    with redis_ref.client() as rc, lode.client() as lc:
        for cmd in cases:
            a, b = rc.call(*cmd), lc.call(*cmd)
            assert a == b, f"{cmd}: redis={a!r} lode={b!r}"
