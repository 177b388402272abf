"""Crash test of MULTI/EXEC: a transaction is all or nothing after a kill -9, and
an acknowledged EXEC is durable.

Eight clients loop on transactions of 22 writes, sent as one pipeline:
    MULTI
    INCRBY g<G>:k0 A ... INCRBY g<G>:k19 A     (the same amount on the 20 counters)
    RPUSH  g<G>:log <txid>                      (the transaction's id)
    HSET   g<G>:tx <txid> A                     (and its amount)
    EXEC
on one of a few groups G shared by all clients, so their transactions contend.
Every EXEC reply is checked as it comes (22 replies; the 20 INCRBY results
equal: nothing interleaved). The server is killed with SIGKILL at a seeded
random moment, restarted on the same data directory, and then, for every group:
  * the 20 counters are equal (no transaction is half applied),
  * the log has no duplicate, the hash holds exactly the logged ids, and the
    amounts in the hash add up to the counters,
  * every transaction whose EXEC reply arrived before the kill is there
    (acknowledged = durable; a kill -9 takes the process, not the machine, so
    this holds for every appendfsync policy), and at most one more per client
    (the one in flight).
Several rounds run on the same data, for each appendfsync policy.

LODE_TEST_TARGET=redis runs it against redis-server with AOF, which validates
the test; there the everysec round does not check durability (redis may reply
before writing the AOF while a background fsync is slow: see test_durability.py).
"""
import os
import random
import threading
import time

import pytest

import harness
from harness import ConnectionClosed, RawClient, Simple, poll

SEED = int(os.environ.get("CRASH_SEED", "20261201"))
CLIENTS = 8
GROUPS = 4
COUNTERS = 20
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "4"))
MIN_TX_PER_CLIENT = 3        # every client has had this many EXECs acknowledged before the kill
KILL_AFTER = (0.05, 0.6)     # then the kill comes this many seconds later (seeded)


def tx_commands(group, txid, amount):
    cmds = [("MULTI",)]
    cmds += [("INCRBY", f"g{group}:k{i}", amount) for i in range(COUNTERS)]
    cmds += [("RPUSH", f"g{group}:log", txid), ("HSET", f"g{group}:tx", txid, amount), ("EXEC",)]
    return cmds


class TxClient(threading.Thread):
    def __init__(self, port, cid, rnd, seed):
        super().__init__(daemon=True)
        self.port, self.cid, self.rnd = port, cid, rnd
        self.rng = random.Random(seed)
        self.acked = []          # (group, txid, amount) whose EXEC reply arrived
        self.in_flight = None    # (group, txid, amount) sent, no reply
        self.error = None

    def run(self):
        try:
            with RawClient(self.port, timeout=20) as c:
                seq = 0
                while True:
                    seq += 1
                    self.one(c, seq)
        except (ConnectionClosed, OSError):
            pass    # the server was killed
        except Exception as e:    # a wrong reply
            self.error = e

    def one(self, c, seq):
        group = self.rng.randrange(GROUPS)
        amount = self.rng.randint(1, 9)
        txid = f"c{self.cid}:r{self.rnd}:{seq}"
        cmds = tx_commands(group, txid, amount)
        self.in_flight = (group, txid, amount)
        c.send_raw(b"".join(harness.encode_command(*x) for x in cmds))
        replies = [c.read_reply() for _ in cmds]
        assert replies[0] == Simple(b"OK"), replies[0]
        assert all(r == Simple(b"QUEUED") for r in replies[1:-1]), replies[1:-1]
        result = replies[-1]
        assert isinstance(result, list) and len(result) == COUNTERS + 2, f"EXEC replied {result!r}"
        counters = result[:COUNTERS]
        assert all(type(x) is int for x in counters) and len(set(counters)) == 1, \
            f"{txid}: the 20 INCRBY of one transaction gave {counters}"
        assert type(result[COUNTERS]) is int and result[COUNTERS] >= 1, result[COUNTERS]
        assert result[COUNTERS + 1] == 1, f"HSET of a new id replied {result[COUNTERS + 1]!r}"
        self.acked.append(self.in_flight)
        self.in_flight = None


def check_groups(c, acked, in_flight, check_durable):
    """The invariants of the module docstring; returns the number of transactions found."""
    found = 0
    acked_by_group = {}
    for g, txid, amount in acked:
        acked_by_group.setdefault(g, {})[txid] = amount
    maybe = {}
    for item in in_flight:
        maybe.setdefault(item[0], {})[item[1]] = item[2]
    for g in range(GROUPS):
        counters = c.call("MGET", *[f"g{g}:k{i}" for i in range(COUNTERS)])
        log = c.call("LRANGE", f"g{g}:log", "0", "-1")
        flat = c.call("HGETALL", f"g{g}:tx")
        tx = dict(zip(flat[0::2], flat[1::2]))
        assert len(set(counters)) == 1, f"group {g}: a transaction was torn: counters {counters}"
        assert len(log) == len(set(log)), f"group {g}: duplicate ids in the log"
        assert set(log) == set(tx), (f"group {g}: log and hash disagree: only in log "
                                     f"{sorted(set(log) - set(tx))[:5]}, only in hash {sorted(set(tx) - set(log))[:5]}")
        total = sum(int(v) for v in tx.values())
        value = 0 if counters[0] is None else int(counters[0])
        assert value == total, f"group {g}: counters are {value}, the logged amounts add up to {total}"
        present = {t.decode() for t in log}
        expected = acked_by_group.get(g, {})
        if check_durable:
            lost = sorted(set(expected) - present)
            assert not lost, f"group {g}: {len(lost)} acknowledged transaction(s) lost, e.g. {lost[:5]}"
            extra = present - set(expected) - set(maybe.get(g, {}))
            assert not extra, f"group {g}: transactions nobody sent or that were not in flight: {sorted(extra)[:5]}"
        for txid in present & set(expected):
            assert int(tx[txid.encode()]) == expected[txid], f"{txid}: wrong amount"
        found += len(present)
    return found



@pytest.mark.parametrize("appendfsync", ["always", "everysec", "no"])
def test_transactions_survive_kill9(appendfsync):
    srv = harness.lode_server(["--appendfsync", appendfsync]).start()
    check_durable = not (harness.TESTING_REDIS and appendfsync == "everysec")
    rng = random.Random(f"{SEED}:{appendfsync}")
    all_acked, in_flight_ever = [], []
    started = time.monotonic()
    try:
        for rnd in range(ROUNDS):
            clients = [TxClient(srv.port, cid, rnd, rng.random()) for cid in range(CLIENTS)]
            for cl in clients:
                cl.start()
            assert poll(lambda: all(len(cl.acked) >= MIN_TX_PER_CLIENT or not cl.is_alive() for cl in clients),
                        timeout=30), "the clients made no progress"
            for cl in clients:
                assert cl.error is None, f"client {cl.cid}: {cl.error!r}"
                assert cl.is_alive(), f"client {cl.cid} stopped before the kill"
            time.sleep(rng.uniform(*KILL_AFTER))
            srv.kill9()
            for cl in clients:
                cl.join(30)
                assert not cl.is_alive(), f"client {cl.cid} still running after the kill"
                assert cl.error is None, f"client {cl.cid}: {cl.error!r}"
                all_acked += cl.acked
                if cl.in_flight:
                    in_flight_ever.append(cl.in_flight)
            acked_now = sum(len(cl.acked) for cl in clients)
            print(f"round {rnd}: {acked_now} acknowledged, {sum(1 for cl in clients if cl.in_flight)} in flight")
            assert acked_now >= CLIENTS * MIN_TX_PER_CLIENT

            srv.start()
            with srv.client(timeout=30) as c:
                found = check_groups(c, all_acked, in_flight_ever, check_durable)
                if check_durable:
                    assert len(all_acked) <= found <= len(all_acked) + len(in_flight_ever)
                # and the restarted server takes transactions
                replies = c.pipeline(tx_commands(0, f"check:{rnd}", 1))
                assert isinstance(replies[-1], list) and len(set(replies[-1][:COUNTERS])) == 1, replies[-1]
                all_acked.append((0, f"check:{rnd}", 1))
        assert time.monotonic() - started < 120
    finally:
        srv.cleanup()
