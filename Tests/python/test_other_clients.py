"""Everyday usage through the Redis clients other languages bring, as Debian packages
them: node-redis, redis-rb, Redis.pm, phpredis, redis-lua and hiredis. Each program
(Tests/clients/) connects, uses strings, a hash, a pipeline, a transaction, pub/sub, a
script, a scan (node-redis's scanIterator among them), expiry and the WRONGTYPE error,
and prints "ok <feature>" for each; the same programs run against redis-server too.

Run (from the repository root): pytest Tests/python/test_other_clients.py
"""
import os
import subprocess

import pytest

import harness

CLIENTS = os.path.join(harness.ROOT, "Tests", "clients")
FEATURES = ["strings", "hash", "pipeline", "transaction", "pubsub", "script", "scan", "expiry", "wrongtype"]


@pytest.fixture(scope="module")
def hiredis_program(tmp_path_factory):
    binary = str(tmp_path_factory.mktemp("hiredis") / "hiredis_client")
    subprocess.run(["gcc", "-O1", "-Wall", "-o", binary, os.path.join(CLIENTS, "hiredis.c"), "-lhiredis"], check=True)
    return [binary]


PROGRAMS = {
    "node-redis": ["node", os.path.join(CLIENTS, "node_redis.js")],
    "ruby-redis": ["ruby", os.path.join(CLIENTS, "ruby_redis.rb")],
    "perl-redis": ["perl", os.path.join(CLIENTS, "perl_redis.pl")],
    "php-redis": ["php", os.path.join(CLIENTS, "php_redis.php")],
    "lua-redis": ["lua5.1", os.path.join(CLIENTS, "lua_redis.lua")],
}


@pytest.mark.parametrize("client", list(PROGRAMS) + ["hiredis"])
@pytest.mark.parametrize("target", ["lode", "redis"])
def test_everyday_usage(client, target, lode_module, redis_ref, request):
    argv = request.getfixturevalue("hiredis_program") if client == "hiredis" else PROGRAMS[client]
    server = lode_module if target == "lode" else redis_ref
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs")  # where Debian puts node-redis
    done = subprocess.run(argv + [str(server.port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60, env=env)
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, out
    assert set(line[3:] for line in out.splitlines() if line.startswith("ok ")) == set(FEATURES), out
