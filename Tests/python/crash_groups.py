"""Kill -9 rounds shared by the crash tests of all-or-nothing writes
(test_multi_crash.py: MULTI/EXEC; test_scripting_crash.py: EVAL, EVALSHA and FCALL).

Eight clients loop on one atomic write each, on one of a few groups G shared by all
clients so that their writes contend. A write (whatever sends it) does, atomically:
    INCRBY g<G>:k0 A ... INCRBY g<G>:k19 A     (the same amount on the 20 counters)
    RPUSH  g<G>:log <txid>                      (the write's id)
    HSET   g<G>:tx <txid> A                     (and its amount)
and its reply is the 22 replies of those commands, checked as it comes (the 20 INCRBY
results equal: nothing interleaved). The server is killed with SIGKILL at a seeded random
moment, restarted on the same data directory, and then, for every group:
  * the 20 counters are equal (no write is half applied),
  * the log has no duplicate, the hash holds exactly the logged ids, and the amounts in
    the hash add up to the counters,
  * every write whose reply arrived before the kill is there (acknowledged = durable; a
    kill -9 takes the process, not the machine, so this holds for every appendfsync
    policy), and at most one more per client (the one in flight).
Several rounds run on the same data.

LODE_TEST_TARGET=redis runs the tests against redis-server with AOF, which validates
them; there the everysec policy does not check durability (redis may reply before
writing the AOF while a background fsync is slow: see test_durability.py).
"""
import os
import random
import threading
import time

import harness
from harness import ConnectionClosed, RawClient, poll

SEED = int(os.environ.get("CRASH_SEED", "20261201"))
CLIENTS = 8
GROUPS = 4
COUNTERS = 20
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "4"))
MIN_WRITES_PER_CLIENT = 3    # every client has had this many writes acknowledged before the kill
KILL_AFTER = (0.05, 0.6)     # then the kill comes this many seconds later (seeded)


def group_keys(group):
    """The 20 counters, the log and the hash of a group, in the order a write uses them."""
    return [f"g{group}:k{i}" for i in range(COUNTERS)] + [f"g{group}:log", f"g{group}:tx"]


def check_write_reply(txid, result):
    """The reply of one write: the 20 INCRBY results (all equal), RPUSH's and HSET's."""
    assert isinstance(result, list) and len(result) == COUNTERS + 2, f"{txid}: the write replied {result!r}"
    counters = result[:COUNTERS]
    assert all(type(x) is int for x in counters) and len(set(counters)) == 1, \
        f"{txid}: the 20 INCRBY of one write gave {counters}"
    assert type(result[COUNTERS]) is int and result[COUNTERS] >= 1, result[COUNTERS]
    assert result[COUNTERS + 1] == 1, f"HSET of a new id replied {result[COUNTERS + 1]!r}"


class WriterClient(threading.Thread):
    """A client looping on writes until the server goes away. `write(c, cid, group, txid,
    amount)` sends one write on connection c and checks its reply (check_write_reply)."""

    def __init__(self, port, cid, rnd, seed, write):
        super().__init__(daemon=True)
        self.port, self.cid, self.rnd, self.write = port, cid, rnd, write
        self.rng = random.Random(seed)
        self.acked = []          # (group, txid, amount) whose reply arrived
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
        self.in_flight = (group, txid, amount)
        self.write(c, self.cid, group, txid, amount)
        self.acked.append(self.in_flight)
        self.in_flight = None


def check_groups(c, acked, in_flight, check_durable):
    """The invariants of the module docstring; returns the number of writes found."""
    found = 0
    acked_by_group = {}
    for g, txid, amount in acked:
        acked_by_group.setdefault(g, {})[txid] = amount
    maybe = {}
    for item in in_flight:
        maybe.setdefault(item[0], {})[item[1]] = item[2]
    for g in range(GROUPS):
        counters = c.call("MGET", *group_keys(g)[:COUNTERS])
        log = c.call("LRANGE", f"g{g}:log", "0", "-1")
        flat = c.call("HGETALL", f"g{g}:tx")
        tx = dict(zip(flat[0::2], flat[1::2]))
        assert len(set(counters)) == 1, f"group {g}: a write was torn: counters {counters}"
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
            assert not lost, f"group {g}: {len(lost)} acknowledged write(s) lost, e.g. {lost[:5]}"
            extra = present - set(expected) - set(maybe.get(g, {}))
            assert not extra, f"group {g}: writes nobody sent or that were not in flight: {sorted(extra)[:5]}"
        for txid in present & set(expected):
            assert int(tx[txid.encode()]) == expected[txid], f"{txid}: wrong amount"
        found += len(present)
    return found


def run_kill9_rounds(srv, write, seed, appendfsync, setup=None, after_restart=None):
    """ROUNDS rounds on the started server srv: CLIENTS WriterClients, a kill -9, a restart
    on the same data, the checks. `setup(c)` prepares the server before the first round,
    `after_restart(c)` may check more on the restarted server. Stops srv and removes its
    data at the end."""
    check_durable = not (harness.TESTING_REDIS and appendfsync == "everysec")
    rng = random.Random(f"{seed}:{appendfsync}")
    all_acked, in_flight_ever = [], []
    started = time.monotonic()
    try:
        if setup:
            with srv.client() as c:
                setup(c)
        for rnd in range(ROUNDS):
            clients = [WriterClient(srv.port, cid, rnd, rng.random(), write) for cid in range(CLIENTS)]
            for cl in clients:
                cl.start()
            assert poll(lambda: all(len(cl.acked) >= MIN_WRITES_PER_CLIENT or not cl.is_alive() for cl in clients),
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
            assert acked_now >= CLIENTS * MIN_WRITES_PER_CLIENT

            srv.start()
            with srv.client(timeout=30) as c:
                found = check_groups(c, all_acked, in_flight_ever, check_durable)
                if check_durable:
                    assert len(all_acked) <= found <= len(all_acked) + len(in_flight_ever)
                if after_restart:
                    after_restart(c)
                # and the restarted server takes writes
                write(c, 0, 0, f"check:{rnd}", 1)
                all_acked.append((0, f"check:{rnd}", 1))
        assert time.monotonic() - started < 120
    finally:
        srv.cleanup()
