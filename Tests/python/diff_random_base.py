"""A base for the randomized command streams of the per-type differential tests
(test_differential_list.py, test_differential_zset.py).

A stream yields (command, database selected after it) pairs, the form
difflib_redis.run_random expects. The base provides the argument pools and the
keyspace generators every type needs (DEL, TYPE, EXPIRE, RENAME, COPY, MOVE,
SCAN TYPE ..., SELECT, a string key for WRONGTYPE both ways); a subclass adds
its type's generators and lists them all in WEIGHTS.

TTLs are large (never expire during a run); a mutation never produces a small
positive integer, so it cannot turn a TTL into one that expires mid-run.
"""
import random
import time

from difflib_redis import I64_MAX, I64_MIN, name_of

# Replaces arguments in the generic mutations (no small positive integers: see above).
JUNK = ["", "abc", "0", "-1", I64_MAX, I64_MIN, "9223372036854775808", "1.5", "inf", "nan", "-0", "+1", "01",
        " 1", "\r\n", "\x00", "NX", "XX", "EX", "COUNT", "FOO", "LEFT", "RIGHT", "BEFORE", "WITHSCORES", "LIMIT"]
BAD_TTLS = ["0", "-1", "abc", "", "1.5", I64_MAX, I64_MIN, "9223372036854775808", "+5"]
DB_ARGS = ["0", "1", "2"]
BAD_DB_ARGS = ["16", "-1", "abc", "", I64_MAX, "-0"]
PATTERNS = ["*", "k*", "*1", "[kz]?", "s", "*\x00*", "", "[", "?"]


class TypedRandomCommands:
    """A reproducible stream of commands over a small key pool in databases 0..2."""

    KEYS = [b"k1", b"k2", b"k3", b"s"]     # a subclass sets its own pool
    STRING_KEY = b"s"                    # SET / GET go here mostly (WRONGTYPE both ways)
    SCAN_TYPES = ["string", "list", "zset", "STRING", "foo"]
    WEIGHTS = []                         # (name, weight): gen_<name> is called
    NO_MUTATE = {"SCAN", "SELECT"}       # commands the generic mutation must not touch
    JUNK = JUNK                          # what the generic mutation inserts
    MUTATION_RATE = 0.06

    def __init__(self, seed, now=None):
        self.r = random.Random(seed)
        self.now = int(now or time.time())
        self.db = 0
        self.queue = []  # the rest of a multi-command sequence a generator returned
        self.table = [(w, getattr(self, "gen_" + name.lower())) for name, w in self.WEIGHTS]
        self.total = sum(w for w, _ in self.table)

    def __iter__(self):
        return self

    def __next__(self):
        """(command, database selected after it).

        A generator returns one command (a list of arguments), or a tuple of
        commands that must run as generated, one after the other (e.g. a push
        that guarantees the blocking pop after it does not block): those are
        neither mutated nor renamed."""
        if self.queue:
            cmd = self.queue.pop(0)
        else:
            pick = self.r.random() * self.total
            for weight, gen in self.table:
                pick -= weight
                if pick < 0:
                    break
            cmd = gen()
            if isinstance(cmd, tuple):
                cmd, self.queue = list(cmd[0]), [list(c) for c in cmd[1:]]
            else:
                cmd = list(cmd)
                if name_of(cmd) not in self.NO_MUTATE and self.r.random() < self.MUTATION_RATE:
                    self.mutate(cmd)
                if self.r.random() < 0.1:
                    cmd[0] = self.r.choice([cmd[0].lower(), cmd[0].capitalize()])
        if name_of(cmd) == "SELECT" and len(cmd) == 2 and cmd[1] in ("0", "1", "2"):
            self.db = int(cmd[1])
        return tuple(cmd), self.db

    # -- argument pools

    def key(self):
        return self.r.choice(self.KEYS)

    def keys(self, lo=1, hi=3):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def word(self, word):
        return word.lower() if self.r.random() < 0.1 else word

    def ttl(self, unit_ms=False):
        if self.r.random() < 0.85:
            return str(self.r.randint(100_000, 10_000_000) * (1000 if unit_ms else 1))
        return self.r.choice(BAD_TTLS)

    def db_arg(self):
        return self.r.choice(DB_ARGS) if self.r.random() < 0.9 else self.r.choice(BAD_DB_ARGS)

    def mutate(self, cmd):
        how = self.r.random()
        if how < 0.35 and len(cmd) > 1:
            del cmd[self.r.randint(1, len(cmd) - 1):]
        elif how < 0.65:
            cmd.append(self.r.choice(self.JUNK))
        elif len(cmd) > 1:
            cmd[self.r.randint(1, len(cmd) - 1)] = self.r.choice(self.JUNK)

    # -- strings (the type-confusion partner)

    def string_key(self):
        return self.STRING_KEY if self.r.random() < 0.7 else self.key()

    def gen_set(self):
        return ["SET", self.string_key(), self.r.choice(["x", "1", "", "abc"])]

    def gen_get(self):
        return ["GET", self.key()]

    def gen_append(self):
        return ["APPEND", self.key(), "x"]

    # -- keyspace

    def gen_del(self):
        return ["DEL"] + self.keys(1, 2)

    def gen_unlink(self):
        return ["UNLINK"] + self.keys(1, 2)

    def gen_exists(self):
        return ["EXISTS"] + self.keys()

    def gen_type(self):
        return ["TYPE", self.key()]

    def gen_expire(self):
        flags = [self.word(self.r.choice(["NX", "XX", "GT", "LT"]))] if self.r.random() < 0.2 else []
        return ["EXPIRE", self.key(), self.ttl()] + flags

    def gen_pexpire(self):
        return ["PEXPIRE", self.key(), self.ttl(unit_ms=True)]

    def gen_ttl(self):
        return ["TTL", self.key()]

    def gen_persist(self):
        return ["PERSIST", self.key()]

    def gen_rename(self):
        return ["RENAME", self.key(), self.key()]

    def gen_renamenx(self):
        return ["RENAMENX", self.key(), self.key()]

    def gen_copy(self):
        cmd = ["COPY", self.key(), self.key()]
        if self.r.random() < 0.5:
            cmd += [self.word("DB"), self.db_arg()]
        if self.r.random() < 0.4:
            cmd.append(self.word("REPLACE"))
        return cmd

    def gen_move(self):
        return ["MOVE", self.key(), self.db_arg()]

    def gen_select(self):
        return ["SELECT", self.db_arg()]

    def gen_dbsize(self):
        return ["DBSIZE"]

    def gen_flushdb(self):
        return ["FLUSHDB"]

    def gen_keys(self):
        return ["KEYS", self.r.choice(PATTERNS)]

    def gen_scan(self):
        options = [["MATCH", self.r.choice(PATTERNS)], ["COUNT", str(self.r.randint(1, 12))],
                   ["TYPE", self.r.choice(self.SCAN_TYPES)]]
        self.r.shuffle(options)
        return ["SCAN", "0"] + [x for opt in options if self.r.random() < 0.6 for x in opt]
