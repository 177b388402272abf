"""Crash test of scripts: a script's writes are all or nothing after a kill -9, and an
acknowledged script is durable.

Each write of crash_groups.py (20 INCRBY of the same amount, RPUSH of the id, HSET of
the id and amount) is one Lua script, which returns the 22 replies; the clients send it
in turn as
  * EVAL <script> 22 <keys> <txid> <amount>,
  * EVALSHA (after a NOSCRIPT, as after a restart: EVAL, which caches it again),
  * FCALL crash_write 22 <keys> <txid> <amount>, a function of a library loaded before
    the first round: it must survive every restart too (functions are data).
crash_groups.run_kill9_rounds kills the server at random moments and checks, after each
restart, that no script is ever partly present and that every acknowledged one is
there, for each appendfsync policy.

LODE_TEST_TARGET=redis runs it against redis-server with AOF, which validates the test.
"""
import hashlib

import pytest

import harness
from crash_groups import SEED, check_write_reply, group_keys, run_kill9_rounds
from harness import Err

SCRIPT = """local out = {}
for i = 1, #KEYS - 2 do out[i] = redis.call('incrby', KEYS[i], ARGV[2]) end
out[#out + 1] = redis.call('rpush', KEYS[#KEYS - 1], ARGV[1])
out[#out + 1] = redis.call('hset', KEYS[#KEYS], ARGV[1], ARGV[2])
return out"""
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()
LIBRARY = "#!lua name=crash\nredis.register_function('crash_write', function(KEYS, ARGV)\n" + SCRIPT + "\nend)"


def run_script(c, cid, group, txid, amount):
    keys = group_keys(group)
    tail = (len(keys), *keys, txid, amount)
    mode = cid % 3
    if mode == 0:
        result = c.call("EVAL", SCRIPT, *tail)
    elif mode == 1:
        result = c.call("EVALSHA", SCRIPT_SHA, *tail)
        if isinstance(result, Err) and result.startswith(b"NOSCRIPT"):
            result = c.call("EVAL", SCRIPT, *tail)
    else:
        result = c.call("FCALL", "crash_write", *tail)
    check_write_reply(txid, result)


def load_library(c):
    assert c.call("FUNCTION", "LOAD", LIBRARY) == b"crash"


def library_survived(c):
    listed = c.call("FUNCTION", "LIST", "LIBRARYNAME", "crash")
    assert isinstance(listed, list) and len(listed) == 1, f"the library did not survive the restart: {listed!r}"


@pytest.mark.parametrize("appendfsync", ["always", "everysec", "no"])
def test_scripts_survive_kill9(appendfsync):
    srv = harness.lode_server(["--appendfsync", appendfsync]).start()
    run_kill9_rounds(srv, run_script, f"{SEED}:script", appendfsync, setup=load_library,
                     after_restart=library_survived)
