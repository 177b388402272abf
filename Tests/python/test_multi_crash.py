"""Crash test of MULTI/EXEC: a transaction is all or nothing after a kill -9, and
an acknowledged EXEC is durable.

Each write of crash_groups.py (20 INCRBY of the same amount, RPUSH of the id, HSET of
the id and amount) is a transaction, sent as one pipeline:
    MULTI
    INCRBY g<G>:k0 A ... INCRBY g<G>:k19 A
    RPUSH  g<G>:log <txid>
    HSET   g<G>:tx <txid> A
    EXEC
Every EXEC reply is checked as it comes, then crash_groups.run_kill9_rounds kills the
server at random moments and checks the data after each restart, for each appendfsync
policy (see crash_groups.py for the invariants).

LODE_TEST_TARGET=redis runs it against redis-server with AOF, which validates the test.
"""
import pytest

import harness
from crash_groups import SEED, check_write_reply, group_keys, run_kill9_rounds
from harness import Simple


def tx_commands(group, txid, amount):
    keys = group_keys(group)
    cmds = [("MULTI",)]
    cmds += [("INCRBY", k, amount) for k in keys[:-2]]
    cmds += [("RPUSH", keys[-2], txid), ("HSET", keys[-1], txid, amount), ("EXEC",)]
    return cmds


def exec_transaction(c, cid, group, txid, amount):
    cmds = tx_commands(group, txid, amount)
    c.send_raw(b"".join(harness.encode_command(*x) for x in cmds))
    replies = [c.read_reply() for _ in cmds]
    assert replies[0] == Simple(b"OK"), replies[0]
    assert all(r == Simple(b"QUEUED") for r in replies[1:-1]), replies[1:-1]
    check_write_reply(txid, replies[-1])


@pytest.mark.parametrize("appendfsync", ["always", "everysec", "no"])
def test_transactions_survive_kill9(appendfsync):
    srv = harness.lode_server(["--appendfsync", appendfsync]).start()
    run_kill9_rounds(srv, exec_transaction, SEED, appendfsync)
