"""Differential test of the command metadata: COMMAND INFO, DOCS, COUNT, LIST.

For every name in the server's COMMAND LIST (commands and their "parent|sub"
subcommands), COMMAND INFO and COMMAND DOCS must give the bytes a reference
redis-server 7.0 gives, in RESP2 and in RESP3. The only freedom is the order of
subcommands (Redis prints them in hash order): the subcommand array (the 10th
element of a COMMAND INFO entry) and the "subcommands" map of COMMAND DOCS are
compared as unordered collections. Every other order is fixed in Redis (flags,
ACL categories, tips and key-spec flags in particular) and compared exactly.

Commands Redis has and the server lacks must not be listed, must have no
COMMAND INFO, and must answer exactly Redis's unknown-command error.

A mismatch is reported per command and field, e.g.
  COMMAND INFO get (RESP2): key-specs: lode *0 [], redis *1 [...]
CMD_META_MAX_REPORTED (default 40) caps the commands reported in detail.

LODE_TEST_TARGET=redis runs it against a second redis-server (see harness.py),
which validates the test itself.
"""
import fnmatch
import os

import pytest

from harness import RawClient

MAX_REPORTED = int(os.environ.get("CMD_META_MAX_REPORTED", "40"))
MAX_LINES_PER_COMMAND = 12

# The elements of a COMMAND INFO entry, by position (Redis 7.0).
INFO_FIELDS = ["name", "arity", "flags", "first-key", "last-key", "step",
               "acl-categories", "tips", "key-specs", "subcommands"]
INFO_SUBCOMMANDS = 9

# Keys of the maps in COMMAND INFO key specs and COMMAND DOCS: in RESP2 those
# maps are flat arrays, recognized (for readable reports only) by their keys.
MAP_KEYS = {b"flags", b"begin_search", b"find_keys", b"type", b"spec", b"index", b"keyword",
            b"startfrom", b"lastkey", b"keystep", b"limit", b"keynumidx", b"firstkey", b"notes",
            b"summary", b"since", b"group", b"complexity", b"module", b"doc_flags",
            b"deprecated_since", b"replaced_by", b"history", b"arguments", b"subcommands",
            b"name", b"key_spec_index", b"token", b"display_text", b"value"}

PROTOCOLS = [pytest.param(2, id="resp2"), pytest.param(3, id="resp3")]


# ----------------------------------------------------------------------------
# A RESP reply as a tree that keeps its exact bytes


class Node:
    """One RESP value: `head` is its first line (e.g. b"*10", b"$3", b"+fast"),
    `items` its elements (maps: keys and values in turn), `raw` its exact bytes."""
    __slots__ = ("head", "items", "raw", "payload")

    def __init__(self, head, items, raw, payload):
        self.head, self.items, self.raw, self.payload = head, items, raw, payload

    @property
    def kind(self):
        return self.head[:1]

    def is_aggregate(self):
        return self.items is not None

    def pairs(self):
        """A map's (key, value) pairs; RESP2 maps are flat arrays."""
        return list(zip(self.items[0::2], self.items[1::2]))

    def text(self):
        """A string element's text (bulk, simple or verbatim), else None."""
        return self.payload


def parse(data, pos=0):
    """Parses the RESP value at data[pos:]; returns (Node, next position)."""
    end = data.index(b"\r\n", pos)
    head, nxt = data[pos:end], end + 2
    kind, items, payload = head[:1], None, None
    if kind in (b"$", b"=", b"!"):
        n = int(head[1:])
        if n >= 0:
            payload, nxt = data[nxt:nxt + n], nxt + n + 2
    elif kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(head[1:])
        if n >= 0:
            items = []
            for _ in range(2 * n if kind in (b"%", b"|") else n):
                item, nxt = parse(data, nxt)
                items.append(item)
    elif kind in (b"+", b"-"):
        payload = head[1:]
    return Node(head, items, data[pos:nxt], payload), nxt


def parse_all(data):
    node, end = parse(data)
    assert end == len(data), f"trailing bytes after a reply: {data[end:]!r}"
    return node


def is_flat_map(node):
    """A RESP3 map, or (in RESP2) an array of key/value pairs with known keys."""
    if node.kind == b"%":
        return True
    if node.kind != b"*" or not node.items or len(node.items) % 2:
        return False
    return all(k.kind in (b"$", b"+") and k.payload in MAP_KEYS for k in node.items[0::2])


def render(node, limit=160):
    """A short readable form of a value, for reports."""
    def r(n):
        if not n.is_aggregate():
            if n.payload is not None and n.kind in (b"$", b"=", b"!"):
                return repr(n.payload.decode("utf-8", "replace"))
            return n.head.decode("utf-8", "replace")
        if n.kind == b"%" or is_flat_map(n):
            inner = ", ".join(f"{r(k)}: {r(v)}" for k, v in n.pairs())
            return f"{n.head.decode()} {{{inner}}}"
        return f"{n.head.decode()} [{', '.join(r(i) for i in n.items)}]"
    out = r(node)
    return out if len(out) <= limit else out[:limit - 3] + "..."


# ----------------------------------------------------------------------------
# Canonical bytes: the exact bytes, with the unordered collections sorted


def canon_unordered(node, canon_item):
    if not node.is_aggregate():
        return node.raw
    return node.head + b"\r\n" + b"".join(sorted(canon_item(i) for i in node.items))


def canon_unordered_map(node, canon_value):
    if not node.is_aggregate():
        return node.raw
    return node.head + b"\r\n" + b"".join(sorted(k.raw + canon_value(v) for k, v in node.pairs()))


def canon_info_entry(entry):
    """A COMMAND INFO entry with its subcommand array sorted."""
    if not entry.is_aggregate() or len(entry.items) <= INFO_SUBCOMMANDS:
        return entry.raw
    items = [i.raw for i in entry.items]
    items[INFO_SUBCOMMANDS] = canon_unordered(entry.items[INFO_SUBCOMMANDS], canon_info_entry)
    return entry.head + b"\r\n" + b"".join(items)


def canon_docs(doc):
    """A COMMAND DOCS map with its "subcommands" map sorted."""
    if not doc.is_aggregate() or len(doc.items) % 2:
        return doc.raw
    out = [doc.head + b"\r\n"]
    for k, v in doc.pairs():
        out.append(k.raw)
        out.append(canon_unordered_map(v, canon_docs) if k.text() == b"subcommands" else v.raw)
    return b"".join(out)


# ----------------------------------------------------------------------------
# Reporting what differs, field by field (only once the canonical bytes differ)


def node_name(node):
    """The name of a COMMAND INFO entry (its first element)."""
    if node.is_aggregate() and node.items and node.items[0].text() is not None:
        return node.items[0].text().decode()
    return render(node)


def diff_named(mine_by, ref_by, path, recurse):
    """Two unordered collections of named elements: what is missing, extra, or
    differs under the same name."""
    missing = [k for k in ref_by if k not in mine_by]
    extra = [k for k in mine_by if k not in ref_by]
    if missing:
        yield f"{path}: missing on lode: {', '.join(missing)}"
    if extra:
        yield f"{path}: lode has and redis lacks: {', '.join(extra)}"
    for k, r in ref_by.items():
        if k in mine_by:
            yield from recurse(mine_by[k], r, f"{path}{{{k}}}")


def diff(mine, ref, path, special=None):
    """Yields "path: lode X, redis Y" lines for what differs between two values.
    Maps (RESP3, or RESP2 arrays of known keys) are compared key by key.
    `special(path, key, m, r)` may take over the comparison of a map value: it
    returns an iterator of lines, or None to compare as usual."""
    if mine.raw == ref.raw:
        return
    if not (mine.is_aggregate() and ref.is_aggregate()) or mine.kind != ref.kind:
        yield f"{path}: lode {render(mine)}, redis {render(ref)}"
        return
    if is_flat_map(mine) and is_flat_map(ref):
        mk, rk = [k.raw for k in mine.items[0::2]], [k.raw for k in ref.items[0::2]]
        if mk != rk:
            missing = [render(k) for k, _ in ref.pairs() if k.raw not in mk]
            extra = [render(k) for k, _ in mine.pairs() if k.raw not in rk]
            if missing:
                yield f"{path}: keys missing on lode: {', '.join(missing)}"
            if extra:
                yield f"{path}: keys lode has and redis lacks: {', '.join(extra)}"
            if not missing and not extra:
                yield (f"{path}: keys in another order: lode {[render(k) for k in mine.items[0::2]]}, "
                       f"redis {[render(k) for k in ref.items[0::2]]}")
        mine_values = {k.raw: v for k, v in mine.pairs()}
        for k, r in ref.pairs():
            m = mine_values.get(k.raw)
            if m is None:
                continue
            sub = f"{path}.{k.text().decode()}"
            lines = special(sub, k.text(), m, r) if special else None
            yield from (lines if lines is not None else diff(m, r, sub, special))
        return
    if mine.head != ref.head:
        yield f"{path}: lode {render(mine)}, redis {render(ref)}"
        return
    for i, (m, r) in enumerate(zip(mine.items, ref.items)):
        yield from diff(m, r, f"{path}[{i}]", special)


def diff_info_entry(mine, ref, path):
    """diff() for a COMMAND INFO entry: positions named, subcommands unordered."""
    if mine.raw == ref.raw:
        return
    if not (mine.is_aggregate() and ref.is_aggregate()) or mine.kind != ref.kind:
        yield f"{path}: lode {render(mine)}, redis {render(ref)}"
        return
    if mine.head != ref.head:
        yield f"{path}: lode has {len(mine.items)} elements, redis {len(ref.items)}"
    for i, (m, r) in enumerate(zip(mine.items, ref.items)):
        sub = f"{path}.{INFO_FIELDS[i]}" if i < len(INFO_FIELDS) else f"{path}[{i}]"
        if i == INFO_SUBCOMMANDS and m.is_aggregate() and r.is_aggregate() and m.kind == r.kind:
            if canon_unordered(m, canon_info_entry) != canon_unordered(r, canon_info_entry):
                yield from diff_named({node_name(n): n for n in m.items}, {node_name(n): n for n in r.items},
                                      sub, diff_info_entry)
        else:
            yield from diff(m, r, sub)


def diff_info_entries(mine, ref, names):
    """diff_info_entry() for each entry of a COMMAND INFO reply for `names`."""
    if mine.head != ref.head or not (mine.is_aggregate() and ref.is_aggregate()):
        return [f"lode {render(mine)}, redis {render(ref)}"]
    return [line for i, (m, r) in enumerate(zip(mine.items, ref.items))
            for line in diff_info_entry(m, r, f"{names[i]} (entry {i})")]


def docs_special(path, key, m, r):
    """In COMMAND DOCS, a "subcommands" map is unordered: matched by name."""
    if key != b"subcommands" or not (m.is_aggregate() and r.is_aggregate()) or m.kind != r.kind:
        return None
    if canon_unordered_map(m, canon_docs) == canon_unordered_map(r, canon_docs):
        return iter(())
    return diff_named({k.text().decode(): d for k, d in m.pairs()},
                      {k.text().decode(): d for k, d in r.pairs()}, path, diff_docs)


def diff_docs(mine, ref, path):
    return diff(mine, ref, path, docs_special)


# ----------------------------------------------------------------------------
# Fixtures and helpers


def connect(srv, protocol):
    c = RawClient(srv.port, timeout=30)
    if protocol == 3:
        c.call("HELLO", "3")
    return c


@pytest.fixture(scope="module")
def lode_names(lode_module):
    """The server's COMMAND LIST, in its order."""
    with lode_module.client() as c:
        names = [n.decode() for n in c.call("COMMAND", "LIST")]
    assert names, "COMMAND LIST is empty"
    return names


@pytest.fixture(scope="module")
def redis_names(redis_ref):
    with redis_ref.client() as c:
        return [n.decode() for n in c.call("COMMAND", "LIST")]


def fail_with_report(what, mismatches, total):
    """Fails listing every mismatching command, and the first few in detail."""
    lines = [f"{what}: {len(mismatches)} of {total} commands differ from redis: "
             + ", ".join(name for name, _ in mismatches)]
    for name, details in mismatches[:MAX_REPORTED]:
        lines.append(f"  {name}")
        lines += [f"    {d}" for d in details[:MAX_LINES_PER_COMMAND]]
        if len(details) > MAX_LINES_PER_COMMAND:
            lines.append(f"    ... {len(details) - MAX_LINES_PER_COMMAND} more")
    if len(mismatches) > MAX_REPORTED:
        lines.append(f"  ... {len(mismatches) - MAX_REPORTED} more commands (CMD_META_MAX_REPORTED)")
    pytest.fail("\n".join(lines), pytrace=False)


# ----------------------------------------------------------------------------
# COMMAND INFO and COMMAND DOCS, command by command


def _rebuild(head_kind, count, parts):
    return head_kind + str(count).encode() + b"\r\n" + b"".join(parts)


def restrict_info(raw, keep):
    """Redis's COMMAND INFO reply with each container's subcommands cut to `keep`
    (the names the server lists): a container lists only the subcommands it
    implements, each of which is compared on its own as well."""
    reply = parse_all(raw)
    if not reply.is_aggregate():
        return raw

    def entry(e):
        if not e.is_aggregate() or len(e.items) <= INFO_SUBCOMMANDS:
            return e.raw
        subs = e.items[INFO_SUBCOMMANDS]
        if not subs.is_aggregate() or subs.kind != b"*":
            return e.raw
        kept = [entry(x) for x in subs.items if node_name(x) in keep]
        items = [i.raw for i in e.items]
        items[INFO_SUBCOMMANDS] = _rebuild(b"*", len(kept), kept)
        return e.head + b"\r\n" + b"".join(items)

    return _rebuild(reply.kind, len(reply.items), [entry(e) for e in reply.items])


def restrict_docs(raw, keep):
    """Redis's COMMAND DOCS reply with each "subcommands" map cut to `keep`."""
    reply = parse_all(raw)

    def doc(d):
        if not d.is_aggregate() or len(d.items) % 2:
            return d.raw
        out = []
        for k, v in d.pairs():
            if k.text() == b"subcommands" and v.is_aggregate():
                kept = [k2.raw + doc(v2) for k2, v2 in v.pairs() if k2.text().decode() in keep]
                count = len(kept) if v.kind == b"%" else 2 * len(kept)
                out += [k.raw, _rebuild(v.kind, count, kept)]
            else:
                out += [k.raw, v.raw]
        return d.head + b"\r\n" + b"".join(out)

    if not reply.is_aggregate() or len(reply.items) % 2:
        return raw
    parts = [k.raw + doc(v) for k, v in reply.pairs()]
    count = len(parts) if reply.kind == b"%" else 2 * len(parts)
    return _rebuild(reply.kind, count, parts)


def info_mismatch(name, mine_raw, ref_raw):
    """None if the two COMMAND INFO replies for one name agree, else the details."""
    mine, ref = parse_all(mine_raw), parse_all(ref_raw)
    if mine.raw == ref.raw:
        return None
    if not (mine.kind == ref.kind == b"*" and mine.head == ref.head == b"*1"):
        return [f"reply: lode {render(mine)}, redis {render(ref)}"]
    me, re_ = mine.items[0], ref.items[0]
    if canon_info_entry(me) == canon_info_entry(re_):
        return None  # only the subcommand order differs
    if not (me.is_aggregate() and re_.is_aggregate()):
        return [f"entry: lode {render(me)}, redis {render(re_)}"]
    return list(diff_info_entry(me, re_, name)) or [f"{name}: bytes differ: lode {mine_raw!r}, redis {ref_raw!r}"]


def docs_mismatch(name, mine_raw, ref_raw):
    """None if the two COMMAND DOCS replies for one name agree, else the details."""
    mine, ref = parse_all(mine_raw), parse_all(ref_raw)
    if mine.raw == ref.raw:
        return None
    ok_shape = (mine.head == ref.head and mine.is_aggregate() and len(mine.items) == 2)
    if not ok_shape:
        return [f"reply: lode {render(mine)}, redis {render(ref)}"]
    (mname, mdoc), (rname, rdoc) = mine.pairs()[0], ref.pairs()[0]
    details = []
    if mname.raw != rname.raw:
        details.append(f"name: lode {render(mname)}, redis {render(rname)}")
    if canon_docs(mdoc) != canon_docs(rdoc):
        details += list(diff_docs(mdoc, rdoc, name)) or \
            [f"{name}: bytes differ: lode {mine_raw!r}, redis {ref_raw!r}"]
    return details or None


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_command_info_matches_redis(lode_module, redis_ref, lode_names, protocol):
    mismatches = []
    with connect(lode_module, protocol) as c, connect(redis_ref, protocol) as ref:
        for name in lode_names:
            details = info_mismatch(name, c.call_raw("COMMAND", "INFO", name),
                                    restrict_info(ref.call_raw("COMMAND", "INFO", name), set(lode_names)))
            if details:
                mismatches.append((name, details))
    if mismatches:
        fail_with_report(f"COMMAND INFO (RESP{protocol})", mismatches, len(lode_names))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_command_docs_matches_redis(lode_module, redis_ref, lode_names, protocol):
    mismatches = []
    with connect(lode_module, protocol) as c, connect(redis_ref, protocol) as ref:
        for name in lode_names:
            details = docs_mismatch(name, c.call_raw("COMMAND", "DOCS", name),
                                    restrict_docs(ref.call_raw("COMMAND", "DOCS", name), set(lode_names)))
            if details:
                mismatches.append((name, details))
    if mismatches:
        fail_with_report(f"COMMAND DOCS (RESP{protocol})", mismatches, len(lode_names))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_command_info_and_docs_of_several_names_and_any_case(lode_module, redis_ref, lode_names,
                                                            redis_names, protocol):
    """Several names in one call, in the case they are sent in: the reply is the
    same as Redis's (names without subcommands, so the order is fixed)."""
    known = [n for n in lode_names if n in set(redis_names)]
    parents = {n.split("|")[0] for n in known if "|" in n}
    names = [n.upper() for n in known if "|" not in n and n not in parents][:3] \
        + [n.title() for n in known if "|" in n][:2]
    with connect(lode_module, protocol) as c, connect(redis_ref, protocol) as ref:
        mine, theirs = c.call_raw("COMMAND", "INFO", *names), ref.call_raw("COMMAND", "INFO", *names)
        assert mine == theirs, f"COMMAND INFO {' '.join(names)} (RESP{protocol}):\n" + \
            "\n".join(diff_info_entries(parse_all(mine), parse_all(theirs), names))
        mine, theirs = c.call_raw("COMMAND", "DOCS", *names), ref.call_raw("COMMAND", "DOCS", *names)
        assert mine == theirs, (f"COMMAND DOCS {' '.join(names)} (RESP{protocol}):\n"
                                + "\n".join(diff_docs(parse_all(mine), parse_all(theirs), "docs")))


# ----------------------------------------------------------------------------
# COMMAND COUNT, COMMAND LIST


def test_command_count_is_the_number_of_commands(lode_module, lode_names):
    with lode_module.client() as c:
        count = c.call("COMMAND", "COUNT")
        entries = c.call("COMMAND")
    top = [e[0].decode() for e in entries]
    subs = [s[0].decode() for e in entries if len(e) > INFO_SUBCOMMANDS for s in e[INFO_SUBCOMMANDS]]
    assert count == len(entries), f"COMMAND COUNT {count}, COMMAND has {len(entries)} entries"
    assert len(set(top)) == len(top), "COMMAND lists a name twice"
    assert len(set(lode_names)) == len(lode_names), "COMMAND LIST lists a name twice"
    listed = set(lode_names)
    assert set(top) == {n for n in listed if "|" not in n}, \
        (f"COMMAND and COMMAND LIST disagree on the commands: only in COMMAND "
         f"{sorted(set(top) - listed)}, only in COMMAND LIST {sorted({n for n in listed if '|' not in n} - set(top))}")
    assert set(subs) == {n for n in listed if "|" in n}, \
        (f"COMMAND and COMMAND LIST disagree on the subcommands: only in COMMAND "
         f"{sorted(set(subs) - listed)}, only in COMMAND LIST {sorted({n for n in listed if '|' in n} - set(subs))}")


def test_every_listed_name_is_known_to_redis(redis_ref, lode_names):
    with redis_ref.client() as ref:
        infos = ref.call("COMMAND", "INFO", *lode_names)
    unknown = [n for n, info in zip(lode_names, infos) if info is None]
    assert not unknown, f"listed by COMMAND LIST but unknown to redis 7.0: {unknown}"


def test_command_list_filterby_pattern(lode_module, redis_ref, lode_names):
    # "x*" for every initial, and a few others (Redis matches without case)
    patterns = sorted({f"{n[0]}*" for n in lode_names}) + ["CONFIG*", "client|*", "*|get", "?et", "z*range*"]
    with lode_module.client() as c:
        for pattern in patterns:
            got = [n.decode() for n in c.call("COMMAND", "LIST", "FILTERBY", "PATTERN", pattern)]
            expected = [n for n in lode_names if fnmatch.fnmatchcase(n, pattern.lower())]
            assert sorted(got) == sorted(expected), \
                (f"COMMAND LIST FILTERBY PATTERN {pattern}: missing {sorted(set(expected) - set(got))}, "
                 f"extra {sorted(set(got) - set(expected))}")
    with lode_module.client() as c, redis_ref.client() as ref:
        for pattern in ("nosuch*", ""):
            cmd = ("COMMAND", "LIST", "FILTERBY", "PATTERN", pattern)
            assert c.call_raw(*cmd) == ref.call_raw(*cmd), cmd


def test_command_list_filterby_aclcat_and_module(lode_module, redis_ref, lode_names):
    """ACLCAT gives the commands of a category: Redis's list restricted to the commands Lode has."""
    categories = [c.decode() for c in redis_ref.client().call("ACL", "CAT")] + ["non_existing_category"]
    with lode_module.client() as c, redis_ref.client() as ref:
        for category in categories:
            got = sorted(n.decode() for n in c.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", category))
            expected = sorted(n.decode() for n in ref.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", category)
                              if n.decode() in lode_names)
            assert got == expected, category
        for cmd in [("COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"), ("COMMAND", "LIST", "FILTERBY", "BOGUS", "x"),
                    ("COMMAND", "LIST", "FILTERBY", "ACLCAT"), ("COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"),
                    ("COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1", "GET"), ("COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1"),
                    ("COMMAND", "GETKEYSANDFLAGS", "LMOVE", "k1", "k2", "left", "right")]:
            assert c.call_raw(*cmd) == ref.call_raw(*cmd), cmd


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unknown_names_in_command_info_and_docs(lode_module, redis_ref, protocol):
    null = b"$-1\r\n" if protocol == 2 else b"_\r\n"  # addReplyNull: $-1, not *-1
    with connect(lode_module, protocol) as c, connect(redis_ref, protocol) as ref:
        assert c.call_raw("COMMAND", "INFO", "nosuchcommand") == ref.call_raw("COMMAND", "INFO", "nosuchcommand") \
            == b"*1\r\n" + null
        for cmd in [("COMMAND", "INFO", "nosuchcommand", "config|nosuchsub", "nosuch|get"),
                    ("COMMAND", "DOCS", "nosuchcommand"), ("COMMAND", "DOCS", "nosuchcommand", "config|nosuchsub")]:
            assert c.call_raw(*cmd) == ref.call_raw(*cmd), cmd
        mine = c.call_raw("COMMAND", "INFO", "get", "nosuchcommand")
        assert mine.startswith(b"*2\r\n*10\r\n$3\r\nget\r\n") and mine.endswith(b"\r\n" + null), mine


# ----------------------------------------------------------------------------
# Redis commands the server lacks


def test_unimplemented_commands_are_unknown(lode_module, redis_ref, lode_names, redis_names):
    """A Redis command that is not in COMMAND LIST has no COMMAND INFO and
    answers Redis's own error for an unknown command (or subcommand of a
    command the server has), byte for byte."""
    listed = set(lode_names)
    missing = [n for n in redis_names if n not in listed and ("|" not in n or n.split("|")[0] in listed)]
    bad = []
    with lode_module.client() as c:
        infos = c.call("COMMAND", "INFO", *missing) if missing else []
    bad += [f"{n}: not in COMMAND LIST but COMMAND INFO gives {info!r}"
            for n, info in zip(missing, infos) if info is not None]
    with redis_ref.client() as ref:
        # A truly unknown name (or subcommand), with the same arguments, tells
        # which bytes Redis gives; only the name in the message differs.
        for name in ["nosuchcommand"] + sorted(missing):
            parent, _, sub = name.partition("|")
            # A fresh connection each: a command the server does implement
            # after all (MULTI, SUBSCRIBE...) must not change the next answers.
            with lode_module.client() as c:
                for args in [(), ("lode-test-arg",), ("two words", "x")]:
                    if sub:
                        sent = (parent.upper(), sub.upper()) + args
                        probe = ref.call_raw(parent, "nosuchsub-probe", *args)
                        expected = probe.replace(b"'nosuchsub-probe'", b"'" + sub.upper().encode() + b"'", 1)
                    else:
                        sent = (name.upper(),) + args
                        probe = ref.call_raw("nosuchcmd-probe", *args)
                        expected = probe.replace(b"'nosuchcmd-probe'", b"'" + name.upper().encode() + b"'", 1)
                    assert probe.startswith(b"-ERR unknown"), (name, probe)
                    got = c.call_raw(*sent)
                    if got != expected:
                        bad.append(f"{' '.join(sent)}: lode {got!r}, expected {expected!r}")
    assert not bad, f"{len(bad)} answers to commands not in COMMAND LIST differ from redis:\n" + "\n".join(bad[:60])
