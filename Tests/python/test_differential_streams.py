"""Differential test of streams against a reference redis-server 7.0.15: fixed cases
(every command and option, the errors, missing keys, wrong types, empty streams)
and seeded random sequences over a few streams with consumer groups, in RESP2 and
RESP3, replies compared exactly. Two node configurations make approximate
trimming (MAXLEN ~, MINID ~, LIMIT) depend on Redis's listpack node boundaries,
which Lode reproduces.

What two correct servers may differ in is masked, nothing else: idle times and
seen-times (milliseconds pass between the two servers' replies) and XINFO's
radix-tree-nodes (the inner nodes of Redis's radix tree, which Lode has not).
IDs are explicit (`*` is the clock's), or `ms-*`.

Knobs: DIFF_SEED, DIFF_STREAM_COMMANDS (per configuration and protocol)."""
import os
import random

import pytest

from difflib_redis import subject  # noqa: F401  (a fixture)
from harness import RawClient

SEED = int(os.environ.get("DIFF_SEED", "20261202"))
COMMANDS = int(os.environ.get("DIFF_STREAM_COMMANDS", "1500"))
MASKED = {b"idle", b"seen-time", b"radix-tree-nodes"}


def masked(reply):
    """The reply with the values after MASKED names zeroed (a RESP2 flat list or a
    RESP3 map of pairs)."""
    if isinstance(reply, tuple) and len(reply) == 2:
        k, v = reply
        return (k, 0) if isinstance(k, bytes) and bytes(k) in MASKED else (k, masked(v))
    if not isinstance(reply, list):
        return reply
    out = [masked(x) for x in reply]
    for i in range(len(out) - 1):
        if isinstance(out[i], bytes) and bytes(out[i]) in MASKED:
            out[i + 1] = 0
    return out if type(reply) is list else type(reply)(out)


def pending_masked(reply):
    """XPENDING's extended form: [id, consumer, idle, deliveries] per entry."""
    if isinstance(reply, list) and all(isinstance(e, list) and len(e) == 4 for e in reply):
        return [[e[0], e[1], 0, e[3]] for e in reply]
    return reply


def compare(rc, sc, commands, mismatches):
    for cmd in commands:
        name = cmd[0].upper()
        if name == "XPENDING" and len(cmd) > 3:
            a, b = pending_masked(rc.call(*cmd)), pending_masked(sc.call(*cmd))
        elif name == "XINFO":
            a, b = masked(rc.call(*cmd)), masked(sc.call(*cmd))
        else:
            a, b = rc.call_raw(*cmd), sc.call_raw(*cmd)
        if a != b:
            mismatches.append(f"{cmd}: redis={a!r} lode={b!r}")


def c(text):
    return tuple(text.split())


FIXED = [c(x) for x in [
    # XADD: IDs, options and their errors
    "XADD s 1-1 a 1", "XADD s 1-* b 2", "XADD s 1-* c 3", "XADD s 2 d 4", "XADD s 1-1 x y", "XADD s 0-0 x y",
    "XADD n 0-0 x y", "XADD n 0-* x y", "XADD s 3-0 a", "XADD s 3-0", "XADD s", "XADD s bad-id a b", "XADD s 3-x a b",
    "XADD s - a b", "XADD s + a b", "XADD s 18446744073709551616 a b", "XADD s 007 a b", "XADD s NOMKSTREAM 9-0 a b",
    "XADD nokey NOMKSTREAM 1-1 a b", "EXISTS nokey", "XADD s MAXLEN 2 10-0 a b", "XLEN s", "XADD s MAXLEN -1 11-0 a b",
    "XADD s MAXLEN x 11-0 a b", "XADD s MAXLEN = 1 11-0 a b", "XLEN s", "XADD s MAXLEN ~ 1 12-0 a b",
    "XADD s MAXLEN 5 LIMIT 1 13-0 a b", "XADD s MAXLEN ~ 5 LIMIT -1 13-0 a b", "XADD s LIMIT 1 13-0 a b",
    "XADD s MAXLEN 1 MINID 1 13-0 a b", "XADD s MINID 12 13-0 a b", "XRANGE s - +", "XADD s MINID ~ 100 14-0 a b",
    "XADD s MINID - 15-0 a b", "XADD s MINID bad 15-0 a b", "XADD s NOMKSTREAM MAXLEN 100 15-0 a b",
    "XADD s 18446744073709551615-18446744073709551615 a b", "XADD s 18446744073709551615-* a b", "XADD s 20-0 a b",
    # XRANGE / XREVRANGE / XLEN
    "DEL r", "XADD r 1-0 a 1", "XADD r 1-1 b 2", "XADD r 2-0 c 3", "XADD r 3-5 d 4", "XADD r 4-0 e 5",
    "XRANGE r - +", "XRANGE r 1 2", "XRANGE r (1-0 +", "XRANGE r - (3-5", "XRANGE r (4-0 +", "XRANGE r 3 3",
    "XRANGE r - + COUNT 2", "XRANGE r - + COUNT 0", "XRANGE r - + COUNT -1", "XRANGE r - + COUNT x",
    "XRANGE r - + COUNT", "XRANGE r - + BOGUS 1", "XRANGE r (- +", "XRANGE r - (+", "XRANGE r x +", "XRANGE r 5 1",
    "XRANGE r (18446744073709551615-18446744073709551615 +", "XRANGE r - (0-0", "XREVRANGE r + -",
    "XREVRANGE r + - COUNT 2", "XREVRANGE r 3 1", "XREVRANGE r (3-5 -", "XREVRANGE r + (2-0", "XRANGE nokey - +",
    "XREVRANGE nokey + -", "XLEN r", "XLEN nokey",
    # XDEL, XTRIM, empty streams stay
    "XDEL r 2-0 9-9 2-0", "XDEL r bad", "XDEL r 1-0 -", "XDEL nokey 1-0", "XRANGE r - +", "XDEL r 1-0", "XINFO STREAM r",
    "XTRIM r MAXLEN 1", "XTRIM r MAXLEN 1", "XTRIM r MINID 10", "XLEN r", "EXISTS r", "XRANGE r - +", "XINFO STREAM r",
    "XTRIM r", "XTRIM r BOGUS 1", "XTRIM r MAXLEN ~ 0 LIMIT 10", "XTRIM r MAXLEN 0 LIMIT 10", "XTRIM nokey MAXLEN 0",
    "XTRIM r LIMIT 1", "XADD r 5-0 a b", "XINFO STREAM r",
    # XSETID
    "XSETID r 4-0", "XSETID r 6-0", "XSETID r 7-0 ENTRIESADDED 1", "XSETID r 7-0 ENTRIESADDED 50 MAXDELETEDID 8-0",
    "XSETID r 8-0 ENTRIESADDED 50 MAXDELETEDID 6-0", "XSETID r 9-0 ENTRIESADDED -1", "XSETID r 9-0 BOGUS",
    "XSETID nokey 1-0", "XSETID r -", "XINFO STREAM r",
    # consumer groups
    "DEL g", "XGROUP CREATE g grp 0", "XGROUP CREATE g grp 0 MKSTREAM", "XGROUP CREATE g grp 0 MKSTREAM",
    "XGROUP CREATE g grp2 $ ENTRIESREAD 3", "XGROUP CREATE g grp3 0 ENTRIESREAD -2", "XGROUP CREATE g grp3 0 BOGUS",
    "XGROUP CREATE g grp3 bad", "XGROUP SETID g nogrp 0", "XGROUP SETID nokey grp 0", "XGROUP DESTROY nokey grp",
    "XGROUP CREATECONSUMER g nogrp c", "XGROUP DELCONSUMER g nogrp c", "XGROUP BOGUS g grp", "XGROUP HELP",
    "XGROUP CREATE g grp3 0 MKSTREAM ENTRIESREAD 1 BOGUS",
    "XADD g 1-0 f 1", "XADD g 2-0 f 2", "XADD g 3-0 f 3", "XINFO GROUPS g", "XINFO GROUPS nokey",
    "XREADGROUP GROUP grp alice COUNT 2 STREAMS g >", "XREADGROUP GROUP grp bob STREAMS g >",
    "XREADGROUP GROUP grp bob STREAMS g >", "XREADGROUP GROUP grp alice STREAMS g 0",
    "XREADGROUP GROUP grp alice STREAMS g 1-0", "XREADGROUP GROUP grp carol STREAMS g 0",
    "XREADGROUP GROUP nogrp alice STREAMS g >", "XREADGROUP GROUP grp alice STREAMS nokey >",
    "XREADGROUP GROUP grp alice STREAMS g $", "XREADGROUP GROUP grp alice STREAMS g", "XREADGROUP STREAMS g >",
    "XREADGROUP GROUP grp alice NOACK BOGUS STREAMS g >", "XPENDING g grp", "XPENDING g grp - + 10",
    "XPENDING g grp - + 10 alice", "XPENDING g grp - + 10 nobody", "XPENDING g grp IDLE 0 - + 10",
    "XPENDING g grp IDLE 100000000 - + 10", "XPENDING g grp (1-0 + 1", "XPENDING g grp - + -1", "XPENDING g grp - +",
    "XPENDING g grp IDLE 5 - +", "XPENDING g nogrp", "XPENDING nokey grp", "XPENDING g grp - + x",
    "XINFO GROUPS g", "XINFO CONSUMERS g grp", "XINFO CONSUMERS g nogrp", "XACK g grp 1-0 9-9", "XACK g grp 1-0",
    "XACK g grp bad", "XACK g nogrp 1-0", "XACK nokey grp 1-0", "XPENDING g grp",
    "XDEL g 2-0", "XREADGROUP GROUP grp alice STREAMS g 0", "XINFO GROUPS g",
    "XCLAIM g grp dave 0 2-0 3-0", "XPENDING g grp", "XCLAIM g grp dave 0 3-0 JUSTID", "XCLAIM g grp erin 0 3-0 RETRYCOUNT 7",
    "XPENDING g grp - + 10", "XCLAIM g grp erin 0 1-0 FORCE", "XCLAIM g grp erin 0 1-0 FORCE JUSTID LASTID 5-0",
    "XCLAIM g grp erin 100000000 3-0", "XCLAIM g grp erin 0 3-0 BOGUS", "XCLAIM g grp erin x 3-0",
    "XCLAIM g grp erin 0 3-0 IDLE x", "XCLAIM g grp erin 0 3-0 TIME x", "XCLAIM g grp erin 0 3-0 RETRYCOUNT x",
    "XCLAIM g grp erin 0 3-0 LASTID x", "XCLAIM g nogrp erin 0 3-0", "XCLAIM g grp erin 0 bad", "XINFO GROUPS g",
    "XADD g 4-0 f 4", "XADD g 5-0 f 5", "XREADGROUP GROUP grp frank STREAMS g >", "XDEL g 4-0",
    "XAUTOCLAIM g grp gina 0 0", "XAUTOCLAIM g grp gina 0 0 COUNT 1", "XAUTOCLAIM g grp gina 0 0 COUNT 1 JUSTID",
    "XAUTOCLAIM g grp gina 0 (0-0 JUSTID", "XAUTOCLAIM g grp gina 0 0 COUNT 0", "XAUTOCLAIM g grp gina 0 0 COUNT x",
    "XAUTOCLAIM g grp gina x 0", "XAUTOCLAIM g grp gina 0 bad", "XAUTOCLAIM g nogrp gina 0 0",
    "XAUTOCLAIM g grp gina 0 0 BOGUS", "XAUTOCLAIM g grp gina 100000000 0", "XPENDING g grp - + 10",
    "XGROUP CREATECONSUMER g grp hank", "XGROUP CREATECONSUMER g grp hank", "XGROUP DELCONSUMER g grp gina",
    "XGROUP DELCONSUMER g grp nobody", "XGROUP SETID g grp 1-0", "XGROUP SETID g grp $ ENTRIESREAD 2",
    "XGROUP SETID g grp - ", "XINFO GROUPS g", "XGROUP DESTROY g grp", "XGROUP DESTROY g grp", "XINFO GROUPS g",
    # XREAD
    "XREAD STREAMS g 0", "XREAD COUNT 1 STREAMS g r 0 0", "XREAD STREAMS g $", "XREAD STREAMS g nokey 0 0",
    "XREAD STREAMS nokey 0", "XREAD STREAMS g", "XREAD STREAMS g r 0", "XREAD STREAMS g >", "XREAD GROUP a b STREAMS g 0",
    "XREAD NOACK STREAMS g 0", "XREAD COUNT x STREAMS g 0", "XREAD BLOCK x STREAMS g 0", "XREAD BLOCK -1 STREAMS g 0",
    "XREAD BOGUS STREAMS g 0", "XREAD COUNT 1", "XREAD STREAMS g 99-0",
    # XINFO
    "XINFO STREAM g FULL", "XINFO STREAM g FULL COUNT 1", "XINFO STREAM g FULL COUNT 0", "XINFO STREAM g FULL BOGUS",
    "XINFO STREAM g BOGUS", "XINFO STREAM nokey", "XINFO HELP", "XINFO BOGUS g",
    # wrong types and the keyspace
    "SET str v", "XADD str 1-0 a b", "XRANGE str - +", "XLEN str", "XDEL str 1-0", "XTRIM str MAXLEN 1",
    "XGROUP CREATE str grp 0", "XREAD STREAMS str 0", "XREADGROUP GROUP grp a STREAMS str >", "XACK str grp 1-0",
    "XPENDING str grp", "XCLAIM str grp a 0 1-0", "XAUTOCLAIM str grp a 0 0", "XINFO STREAM str", "XSETID str 1-0",
    "TYPE g", "OBJECT ENCODING g", "COPY g g2", "XRANGE g2 - +", "XINFO STREAM g2", "RENAME g2 g3", "XLEN g3",
    "XGROUP CREATE g3 x 0", "COPY g3 g4", "XINFO GROUPS g4", "DEL g3 g4", "DBSIZE",
]]


@pytest.mark.parametrize("resp", [2, 3])
def test_fixed_cases_as_redis(redis_ref, subject, resp):  # noqa: F811
    with RawClient(redis_ref.port, exact_types=True) as rc, RawClient(subject.port, exact_types=True) as sc:
        for cl in (rc, sc):
            cl.call("HELLO", str(resp))
            cl.call("FLUSHALL")
        mismatches = []
        compare(rc, sc, FIXED, mismatches)
        assert not mismatches, "\n".join(mismatches[:20])


class Generator:
    """Random stream commands over keys s0..s2 with groups g0, g1 and consumers c0..c2."""

    def __init__(self, rng):
        self.rng = rng
        self.ms = 1

    def key(self):
        return self.rng.choice(["s0", "s1", "s2", "s2", "str"])

    def id(self, fresh=True):
        r = self.rng
        if fresh and r.random() < 0.8:
            self.ms += r.choice([0, 0, 1, 1, 2, 50])
            return r.choice([f"{self.ms}-*", f"{self.ms}", f"{self.ms}-{r.randrange(0, 4)}"])
        return r.choice(["0", "-", "+", f"{r.randrange(0, self.ms + 2)}-{r.randrange(0, 3)}", "bad",
                         f"({r.randrange(0, self.ms + 2)}"])

    def known(self):
        return f"{self.rng.randrange(0, self.ms + 2)}-{self.rng.randrange(0, 3)}"

    def value(self):
        r = self.rng
        return r.choice(["v", str(r.randrange(-5000, 5000)), "x" * r.randrange(0, 90), str(r.randrange(0, 10**12)), "0"])

    def fields(self):
        r = self.rng
        names = r.choice([["a"], ["a", "b"], ["a", "b"], ["b", "a"], [str(r.randrange(0, 300))]])
        out = []
        for n in names:
            out += [n, self.value()]
        return out

    def trim(self):
        r = self.rng
        if r.random() < 0.5:
            return []
        how = r.choice(["MAXLEN", "MINID"])
        arg = str(r.randrange(0, 40)) if how == "MAXLEN" else self.known()
        out = [how] + r.choice([[], ["~"], ["="]]) + [arg]
        if "~" in out and r.random() < 0.3:
            out += ["LIMIT", str(r.randrange(0, 30))]
        return out

    def command(self):
        r = self.rng
        k = self.key()
        g = r.choice(["g0", "g1"])
        cons = r.choice(["c0", "c1", "c2"])
        pick = r.randrange(0, 100)
        if pick < 35:
            return ["XADD", k] + (["NOMKSTREAM"] if r.random() < 0.05 else []) + self.trim() + [self.id()] + self.fields()
        if pick < 42:
            start, end = self.id(False), self.id(False)
            count = ["COUNT", str(r.randrange(-1, 6))] if r.random() < 0.5 else []
            return [r.choice(["XRANGE", "XREVRANGE"]), k, start, end] + count
        if pick < 45:
            return ["XLEN", k]
        if pick < 49:
            return ["XDEL", k] + [self.known() for _ in range(r.randrange(1, 4))]
        if pick < 53:
            return ["XTRIM", k] + (self.trim() or ["MAXLEN", "~", str(r.randrange(0, 20))])
        if pick < 58:
            sub = r.choice(["CREATE", "CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER"])
            if sub in ("CREATE", "SETID"):
                extra = (["MKSTREAM"] if sub == "CREATE" and r.random() < 0.3 else [])
                extra += ["ENTRIESREAD", str(r.randrange(-1, 10))] if r.random() < 0.2 else []
                return ["XGROUP", sub, k, g, r.choice(["$", "0", self.known()])] + extra
            if sub == "DESTROY":
                return ["XGROUP", sub, k, g]
            return ["XGROUP", sub, k, g, cons]
        if pick < 70:
            count = ["COUNT", str(r.randrange(0, 4))] if r.random() < 0.6 else []
            noack = ["NOACK"] if r.random() < 0.15 else []
            keys = [k] if r.random() < 0.8 else ["s0", "s1"]
            ids = [r.choice([">", ">", ">", "0", self.known()]) for _ in keys]
            return ["XREADGROUP", "GROUP", g, cons] + count + noack + ["STREAMS"] + keys + ids
        if pick < 74:
            keys = [k] if r.random() < 0.7 else ["s0", "s2"]
            ids = [r.choice(["0", "$", self.known()]) for _ in keys]
            return ["XREAD"] + (["COUNT", str(r.randrange(0, 4))] if r.random() < 0.5 else []) + ["STREAMS"] + keys + ids
        if pick < 80:
            return ["XACK", k, g] + [self.known() for _ in range(r.randrange(1, 4))]
        if pick < 85:
            if r.random() < 0.4:
                return ["XPENDING", k, g]
            idle = ["IDLE", r.choice(["0", "100000000"])] if r.random() < 0.3 else []
            who = [cons] if r.random() < 0.4 else []
            return ["XPENDING", k, g] + idle + [r.choice(["-", self.known()]), "+", str(r.randrange(-1, 8))] + who
        if pick < 89:
            opts = r.sample(["JUSTID", "FORCE", "RETRYCOUNT 3", "LASTID " + self.known()], r.randrange(0, 3))
            return (["XCLAIM", k, g, cons, r.choice(["0", "100000000"])] + [self.known() for _ in range(r.randrange(1, 4))]
                    + " ".join(opts).split())
        if pick < 92:
            opts = (["COUNT", str(r.randrange(1, 5))] if r.random() < 0.6 else []) + (["JUSTID"] if r.random() < 0.4 else [])
            return ["XAUTOCLAIM", k, g, cons, r.choice(["0", "0", "100000000"]), r.choice(["0", self.known()])] + opts
        if pick < 96:
            return r.choice([["XINFO", "STREAM", k], ["XINFO", "GROUPS", k], ["XINFO", "CONSUMERS", k, g]])
        if pick < 98:
            return ["XSETID", k, self.known()] + (["ENTRIESADDED", str(r.randrange(0, 50))] if r.random() < 0.3 else [])
        return r.choice([["DEL", k], ["SET", "str", "v"], ["COPY", "s0", "s2", "REPLACE"], ["TYPE", k]])


@pytest.mark.parametrize("nodes", [(100, 4096), (4, 120)])
@pytest.mark.parametrize("resp", [2, 3])
def test_random_sequences_as_redis(redis_ref, subject, resp, nodes):  # noqa: F811
    with RawClient(redis_ref.port, exact_types=True) as rc, RawClient(subject.port, exact_types=True) as sc:
        for cl in (rc, sc):
            cl.call("HELLO", str(resp))
            cl.call("FLUSHALL")
            cl.call("CONFIG", "SET", "stream-node-max-entries", str(nodes[0]))
            cl.call("CONFIG", "SET", "stream-node-max-bytes", str(nodes[1]))
        gen = Generator(random.Random(SEED + resp * 7 + nodes[0]))
        mismatches = []
        try:
            compare(rc, sc, [gen.command() for _ in range(COMMANDS)], mismatches)
            for k in ("s0", "s1", "s2"):
                compare(rc, sc, [("XRANGE", k, "-", "+"), ("XINFO", "STREAM", k), ("XINFO", "GROUPS", k)], mismatches)
        finally:
            for cl in (rc, sc):
                cl.call("CONFIG", "SET", "stream-node-max-entries", "100")
                cl.call("CONFIG", "SET", "stream-node-max-bytes", "4096")
        assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:20])
