"""rename-command (issue 14, protected configuration): the same renames given to a
real redis-server and to Lode, then the same commands, replies compared; and the
config-file errors Redis gives for a bad line."""
import os

import pytest

import harness
from harness import Err

LONG = "b840fc02d524045429941cc15f59e41cb7be6c52"   # longer than any command name
# (not CONFIG: the test harness finds redis-server's port with CONFIG SET port)
RENAMES = ["--rename-command", "flushdb", "",
           "--rename-command", "FLUSHALL", "wipe",
           "--rename-command", "get", LONG,
           "--rename-command", "wipe", "wipe2"]       # a renamed command renamed again

CALLS = [
    ("SET", "k", "v"),
    ("GET", "k"),
    (LONG, "k"),
    (LONG.upper(), "k"),
    ("FLUSHDB",),
    ("flushdb", "async"),
    ("FLUSHALL",),
    ("WIPE",),
    ("DBSIZE",),
    ("wipe2",),
    ("DBSIZE",),
    ("MULTI",), ("SET", "a", "1"), (LONG, "a"), ("GET", "a"), ("EXEC",),   # GET is unknown: EXECABORT
    ("MULTI",), ("SET", "a", "1"), (LONG, "a"), ("EXEC",),
    ("EVAL", "return redis.call('get', KEYS[1])", "1", "a"),
    ("EVAL", f"return redis.call('{LONG}', KEYS[1])", "1", "a"),
    (LONG,),                                         # wrong arity: named as the original command
]


def replies(srv):
    with srv.client() as c:
        out = []
        for call in CALLS:
            r = c.call(*call)
            # Redis's script errors name the script's SHA and line; the kind is what counts.
            out.append(bytes(r).split(b" script:")[0] if isinstance(r, Err) else r)
        return out


@pytest.mark.skipif(harness.TESTING_REDIS, reason="compares Lode with redis-server")
def test_renamed_commands_answer_as_redis():
    redis = harness.redis_server(RENAMES).start()
    lode = harness.lode_server(RENAMES).start()
    try:
        want, got = replies(redis), replies(lode)
        assert got == want, "\n".join(f"{c!r}: redis {w!r} lode {g!r}" for c, w, g in zip(CALLS, want, got) if w != g)
        assert got[2] == b"v" and got[1].startswith(b"ERR unknown command")   # the renames took effect
    finally:
        redis.cleanup()
        lode.cleanup()


@pytest.mark.skipif(harness.TESTING_REDIS, reason="compares Lode with redis-server")
@pytest.mark.parametrize("line,message", [
    ("rename-command nosuchcommand x", "No such command in rename-command"),
    ("rename-command get set", "Target command name already exists"),
    ("rename-command get", "Bad directive or wrong number of arguments"),
])
def test_bad_rename_lines_stop_start_up_with_redis_message(tmp_path, line, message):
    conf = tmp_path / "bad.conf"
    conf.write_text(f"port 0\n{line}\n")
    for argv in ([harness.REDIS_BIN, str(conf)], [harness.LODE_BIN, str(conf), "--dir", str(tmp_path / "data")]):
        code, out = harness.run_to_exit(argv)
        assert code != 0 and message in out and "line 2" in out, (argv[0], out)
