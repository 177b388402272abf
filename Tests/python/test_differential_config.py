"""CONFIG against a real redis-server 7.0: every parameter's name and value format
(CONFIG GET *), and CONFIG SET's validation of every parameter with a set of probe
values (errors byte for byte, accepted values read back the same), then the
multi-pair, alias, duplicate, immutable, protected and hidden-parameter rules.

Run (from the repository root): pytest Tests/python/test_differential_config.py
"""
import pytest

from harness import as_text

# Parameters whose value differs by design (README, "Differences from Redis").
LODE_DEFAULTS = {
    "bind": "127.0.0.1",          # Lode's default.conf binds the loopback only (Redis: "* -::*")
    "appendonly": "yes",          # every write is on disk in Lode, whatever is set
    "save": "",                   # Lode has no snapshot schedule
}
PER_SERVER = {"port", "dir", "pidfile", "daemonize", "unixsocket", "logfile"}  # set by each harness
LODE_ONLY = {"cache-max-memory", "cache-eviction-policy", "lmdb-map-size", "string-chunk-size", "lua-memory-limit",
             "metrics-port", "metrics-bind", "commit-window-ms", "commit-window-bytes"}

# Values CONFIG SET is tried with, for every parameter.
PROBES = [
    "yes", "no", "maybe", "YES", "0", "1", "-1", "01", "+1", "100", "5000", "1k", "1kb", "1mb", "2gb", "3G", "1tb",
    "abc", "", "50%", "200%", "65536", "4294967296", "9223372036854775807", "9223372036854775808",
    "18446744073709551615", "0777", "888", "local", "default", "save nosave", "now force", "SAVE",
    "3600 1 300", "60 10", "1 2 3", "0 200 800", "-3000 0 0", "normal 0 0 0", "pubsub 1mb 1kb 5", "bogus 1 1 1",
    "slave 1 x 1", "KEA", "Kx", "gxE", "50 99.9", "101", "no one", "host 99999", "{title} {port}", "{bad}",
    "a/b", "noeviction", "allkeys-lru", "systemd", "warning", "nothing", "ip", "hostname", "bad host",
]
# Not probed: their values move the listener, lock the client out, or start
# replication or TLS, which each server does differently by design.
NOT_PROBED = {"port", "bind", "requirepass", "appendonly", "tls-port", "replicaof", "slaveof", "unixsocket",
              "maxclients", "timeout", "client-output-buffer-limit"}


def config_map(c, *patterns):
    reply = c.call("CONFIG", "GET", *patterns)
    if isinstance(reply, dict):
        return {as_text(k): as_text(v) for k, v in reply.items()}
    return {as_text(reply[i]): as_text(reply[i + 1]) for i in range(0, len(reply), 2)}


def test_every_parameter_is_reported_in_redis_format(lode_module, redis_ref):
    with lode_module.client() as lc, redis_ref.client() as rc:
        lode, redis = config_map(lc, "*"), config_map(rc, "*")
    assert set(lode) - LODE_ONLY == set(redis)
    assert len(redis) == 192
    for name, value in redis.items():
        if name in PER_SERVER:
            continue
        expected = LODE_DEFAULTS.get(name, value)
        assert lode[name] == expected, name


def test_config_set_validates_every_parameter_as_redis(lode_module, redis_ref):
    mismatches = []
    with lode_module.client() as lc, redis_ref.client() as rc:
        names = sorted(config_map(rc, "*"))
        for name in names:
            if name in NOT_PROBED:
                continue
            lode_before, redis_before = config_map(lc, name)[name], config_map(rc, name)[name]
            for value in PROBES:
                lr, rr = lc.call("CONFIG", "SET", name, value), rc.call("CONFIG", "SET", name, value)
                if lr != rr:
                    mismatches.append((name, value, lr, rr))
                    continue
                if lr == b"OK":
                    lv, rv = config_map(lc, name)[name], config_map(rc, name)[name]
                    if lv != rv:
                        mismatches.append((name, value, "GET " + lv, "GET " + rv))
            lc.call("CONFIG", "SET", name, lode_before)   # immutable and protected ones refuse: nothing changed
            rc.call("CONFIG", "SET", name, redis_before)
    assert mismatches == []


@pytest.mark.parametrize("args", [
    ("maxmemory", "10mb", "hz", "20"),                       # several pairs
    ("maxmemory", "10mb", "hz", "bogus"),                    # all or nothing: maxmemory keeps its value
    ("hz", "20", "HZ", "30"),                                # duplicate
    ("slave-read-only", "no", "replica-read-only", "no"),    # not duplicates: Redis keeps an alias as its own entry
    ("slave-priority", "7",),                                # an alias alone
    ("hz",),                                                  # odd argument count
    ("bogus-parameter", "1", "hz", "x"),                     # unknown first
    ("hz", "x", "bogus-parameter", "1"),                     # unknown after an invalid value
    ("daemonize", "yes"),                                    # immutable
    ("dir", "/tmp"),                                         # protected (enable-protected-configs no)
    ("dbfilename", "x.rdb"),                                 # protected
    ("databases", "4", "hz", "x"),                           # immutable before an invalid value
    ("save", "100 x"),
    ("save", "100  10"),                                     # split at each space: an empty word
    ("shutdown-on-sigint", "save nosave"),
    ("loglevel", "nothing"),
])
def test_config_set_rules_as_redis(lode, redis_ref, args):
    with lode.client() as lc, redis_ref.client() as rc:
        before_l, before_r = config_map(lc, "maxmemory", "hz"), config_map(rc, "maxmemory", "hz")
        assert lc.call("CONFIG", "SET", *args) == rc.call("CONFIG", "SET", *args)
        names = [a for i, a in enumerate(args) if i % 2 == 0 and a not in PER_SERVER]
        if names:
            assert config_map(lc, *names) == config_map(rc, *names)
        if args[-1] == "bogus":
            assert config_map(lc, "maxmemory", "hz") == before_l
            assert config_map(rc, "maxmemory", "hz") == before_r
        rc.call("CONFIG", "SET", "hz", "10", "maxmemory", "0", "replica-read-only", "yes",
                "replica-priority", "100", "shutdown-on-sigint", "default")


def test_config_get_patterns_aliases_and_hidden_as_redis(lode_module, redis_ref):
    cases = [("PORT",), ("hz", "HZ", "h?"), ("slaveof", "replicaof"), ("*max*entries*",), ("key-load-delay",),
             ("key-load*",), ("nosuch",), ("maxmemory", "maxmemory*"), ("lua-time-limit", "busy-reply-threshold")]
    with lode_module.client() as lc, redis_ref.client() as rc:
        for patterns in cases:
            lode = config_map(lc, *patterns)
            redis = config_map(rc, *patterns)
            for name in PER_SERVER | {"port"}:
                lode.pop(name, None), redis.pop(name, None)
                lode.pop(name.upper(), None), redis.pop(name.upper(), None)
            assert lode == redis, patterns
