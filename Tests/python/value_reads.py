"""A key's value read with order-independent commands, the same on Redis and Lode: what the
backup tests (DUMP/RESTORE, RDB files) compare between servers."""


def read_value(c, key):
    """The value under `key` as order-independent reads see it."""
    t = c.call("TYPE", key)
    if t == b"string":
        return t, c.call("GET", key)
    if t == b"list":
        return t, c.call("LRANGE", key, 0, -1)
    if t == b"hash":
        return t, sorted(pairs(c.call("HGETALL", key)))
    if t == b"set":
        return t, sorted(c.call("SMEMBERS", key))
    if t == b"zset":
        return t, c.call("ZRANGE", key, 0, -1, "WITHSCORES")
    if t == b"stream":
        groups = []
        for g in c.call("XINFO", "GROUPS", key):
            info = dict(pairs(g))
            name = info[b"name"]
            consumers = sorted((dict(pairs(x))[b"name"], dict(pairs(x))[b"pending"]) for x in
                               c.call("XINFO", "CONSUMERS", key, name))
            pending = [p[:2] + p[3:] for p in c.call("XPENDING", key, name, "-", "+", 1000)]
            groups.append((name, info[b"last-delivered-id"], info[b"entries-read"], info[b"lag"], consumers, pending))
        s = dict(pairs(c.call("XINFO", "STREAM", key)))
        meta = (s[b"length"], s[b"last-generated-id"], s[b"max-deleted-entry-id"], s[b"entries-added"])
        return t, (c.call("XRANGE", key, "-", "+"), meta, groups)
    return t, None


def pairs(flat):
    return list(zip(flat[0::2], flat[1::2]))


def pairs(flat):
    return list(zip(flat[0::2], flat[1::2]))


def dataset(c, databases=16):
    """Every key of every database: {(db, key): (value, has_ttl)}."""
    out = {}
    for db in range(databases):
        c.call("SELECT", db)
        cursor = b"0"
        while True:
            cursor, keys = c.call("SCAN", cursor, "COUNT", 1000)
            for k in keys:
                out[(db, k)] = (read_value(c, k), c.call("PTTL", k) > 0)
            if cursor == b"0":
                break
    c.call("SELECT", 0)
    return out
