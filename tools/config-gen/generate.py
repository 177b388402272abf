#!/usr/bin/env python3
"""Generates Lode's table of Redis's configuration parameters
(Sources/LodeEngine/Config/Generated/RedisConfigTable.swift) from Redis's own
declaration of them, the static_configs[] array of src/config.c, combined into
redis-<version>-configs.json.

    generate.py                                   regenerate the Swift file
    generate.py --check                           exit 1 if the committed Swift file is stale
    generate.py --import-from-git REPO REF        rebuild the JSON from a git repository's src/config.c
    generate.py --import-from-file CONFIG_C       ... or from a config.c file

Every parameter keeps Redis's name, alias, flags, type, bounds, enum values and
default, so that Lode validates a value exactly as Redis does and reports it in
Redis's format. TLS parameters are included: Debian's redis-server is built with
TLS and reports them.

Standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

REDIS_VERSION = "7.0.15"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
JSON_PATH = os.path.join(HERE, "redis-%s-configs.json" % REDIS_VERSION)
OUT_PATH = os.path.join(ROOT, "Sources", "LodeEngine", "Config", "Generated", "RedisConfigTable.swift")
MAX_LINE = 140

# C constants of config.c's bounds and defaults.
CONSTANTS = {
    "INT_MAX": 2**31 - 1, "INT_MIN": -2**31, "UINT_MAX": 2**32 - 1, "LONG_MAX": 2**63 - 1,
    "LLONG_MAX": 2**63 - 1, "SSIZE_MAX": 2**63 - 1, "ULLONG_MAX": 2**64 - 1, "CONFIG_DEFAULT_HZ": 10,
}
# Defaults config.c computes elsewhere, as CONFIG GET prints them on a fresh server.
SPECIAL_DEFAULTS = {
    "dir": "", "save": "3600 1 300 100 60 10000",
    "client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    "oom-score-adj-values": "0 200 800", "notify-keyspace-events": "", "bind": "* -::*", "replicaof": "",
    "latency-tracking-info-percentiles": "50 99 99.9",
}
STRING_DEFAULTS = {"CONFIG_DEFAULT_PROC_TITLE_TEMPLATE": "{title} {listen-addr} {server-mode}"}
FLAG_NAMES = {
    "IMMUTABLE_CONFIG": "immutable", "SENSITIVE_CONFIG": "sensitive", "DEBUG_CONFIG": "debug",
    "MULTI_ARG_CONFIG": "multiArg", "HIDDEN_CONFIG": "hidden", "PROTECTED_CONFIG": "protected",
    "DENY_LOADING_CONFIG": "denyLoading", "VOLATILE_CONFIG": "volatile",
}
NUMERIC_TYPES = {
    "createIntConfig": ("int", False), "createUIntConfig": ("uint", True), "createLongConfig": ("long", False),
    "createULongConfig": ("ulong", False), "createLongLongConfig": ("longlong", False),
    "createULongLongConfig": ("ulonglong", True), "createSizeTConfig": ("sizet", True),
    "createSSizeTConfig": ("ssizet", False), "createTimeTConfig": ("timet", False), "createOffTConfig": ("offt", False),
}


def c_value(expr):
    """Evaluates a C constant expression of config.c (1024*1024, 512ll*1024*1024, 100<<20, 60*60)."""
    expr = expr.strip()
    for name, value in CONSTANTS.items():
        expr = re.sub(r"\b%s\b" % name, str(value), expr)
    expr = re.sub(r"(\d+)(ll|LL|ull|ULL|u|U|l|L)\b", r"\1", expr)
    if re.fullmatch(r"0[0-7]+", expr):
        return int(expr, 8)
    if not re.fullmatch(r"[0-9*+<>() -]+", expr):
        raise ValueError("cannot evaluate %r" % expr)
    return eval(expr)  # digits and operators only, checked above


def split_args(text):
    """Splits a C argument list on top-level commas."""
    args, depth, current, quoted = [], 0, "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if not quoted and ch in "([":
            depth += 1
        if not quoted and ch in ")]":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    args.append(current.strip())
    return args


def c_string(arg):
    return None if arg == "NULL" else json.loads(arg)


def parse_config_c(source):
    enums = {}
    for m in re.finditer(r"configEnum (\w+)\[\] = \{(.*?)\n\};", source, re.S):
        enums[m.group(1)] = [(n, v.strip()) for n, v in re.findall(r'\{"([^"]+)",\s*([^}]+)\}', m.group(2))]
    table = source[source.index("standardConfig static_configs[] = {"):]
    table = table[:table.index("{NULL}")]
    configs = []
    for m in re.finditer(r"(create\w+Config)\((.*?)\),?\s*(?:/\*.*?\*/)?\s*\n", table):
        kind, args = m.group(1), split_args(m.group(2))
        flags = [FLAG_NAMES[f.strip()] for f in args[2].split("|") if f.strip() != "MODIFIABLE_CONFIG"]
        entry = {"name": c_string(args[0]), "alias": c_string(args[1]), "flags": flags}
        if kind == "createBoolConfig":
            entry.update(type="bool", default=c_value(args[4]) == 1, validator=args[5])
        elif kind in ("createStringConfig", "createSDSConfig"):
            default = STRING_DEFAULTS.get(args[5]) if args[5] in STRING_DEFAULTS else c_string(args[5])
            entry.update(type="string", emptyIsNull=args[3] == "EMPTY_STRING_IS_NULL", default=default or "",
                         validator=args[6])
        elif kind == "createEnumConfig":
            values = enums[args[3]]
            default = next(n for n, v in values if v == args[5].strip())
            entry.update(type="enum", enum=args[3], values=[n for n, _ in values], default=default, validator=args[6])
        elif kind in NUMERIC_TYPES:
            ctype, unsigned = NUMERIC_TYPES[kind]
            entry.update(type="numeric", ctype=ctype, unsigned=unsigned, lower=c_value(args[3]),
                         upper=c_value(args[4]), default=c_value(args[6]),
                         memory="MEMORY_CONFIG" in args[7], percent="PERCENT_CONFIG" in args[7],
                         octal="OCTAL_CONFIG" in args[7], validator=args[8])
        elif kind == "createSpecialConfig":
            entry.update(type="special", default=SPECIAL_DEFAULTS[entry["name"]])
        else:
            raise ValueError("unknown config kind %s" % kind)
        if entry.get("validator") == "NULL":
            entry["validator"] = None
        configs.append(entry)
    return configs


def swift_int(value, unsigned):
    """Bounds are kept as Int64 bit patterns, as Redis keeps them in a long long."""
    if value >= 2**63:
        return "Int64(bitPattern: %d)" % value
    return str(value)


def swift_enum_name(c_name):
    """maxmemory_policy_enum -> maxmemoryPolicyValues"""
    words = c_name[:-len("_enum")].split("_")
    return words[0] + "".join(w.capitalize() for w in words[1:]) + "Values"


def render_enums(configs):
    lines, seen = [], set()
    for c in configs:
        if c["type"] != "enum" or c["enum"] in seen:
            continue
        seen.add(c["enum"])
        values = ", ".join('"%s"' % v for v in c["values"])
        line = "    static let %s = [%s]" % (swift_enum_name(c["enum"]), values)
        if len(line) >= MAX_LINE:
            line = "    static let %s = [\n        %s,\n    ]" % (swift_enum_name(c["enum"]), values)
        lines.append(line)
    return lines


def swift_entry(c):
    parts = ['"%s"' % c["name"]]
    if c["alias"]:
        parts.append('alias: "%s"' % c["alias"])
    parts.append("[%s]" % ", ".join("." + f for f in c["flags"]))
    if c["type"] == "bool":
        kind = ".bool(default: %s)" % ("true" if c["default"] else "false")
    elif c["type"] == "string":
        kind = ".string(default: %s, emptyIsNull: %s)" % (json.dumps(c["default"]),
                                                          "true" if c["emptyIsNull"] else "false")
    elif c["type"] == "enum":
        kind = ".enumeration(%s, default: \"%s\")" % (swift_enum_name(c["enum"]), c["default"])
    elif c["type"] == "numeric":
        style = [s for s in ("memory", "percent", "octal") if c[s]]
        kind = ".numeric(%s, lower: %s, upper: %s, default: %s, [%s])" % (
            "unsigned: true" if c["unsigned"] else "unsigned: false", swift_int(c["lower"], c["unsigned"]),
            swift_int(c["upper"], c["unsigned"]), swift_int(c["default"], c["unsigned"]),
            ", ".join("." + s for s in style))
    else:
        kind = ".special(default: %s)" % json.dumps(c["default"])
    parts.append(kind)
    if c.get("validator"):
        parts.append('validator: "%s"' % c["validator"])
    text = "        RedisConfigSpec(%s)," % ", ".join(parts)
    if len(text) < MAX_LINE:
        return text
    # Wrap greedily: as many parts as fit on each line, continuation lines indented.
    lines, current = [], "        RedisConfigSpec("
    for i, part in enumerate(parts):
        piece = part + (")," if i == len(parts) - 1 else ",")
        if len(current) + len(piece) + 1 >= MAX_LINE:
            lines.append(current.rstrip())
            current = " " * 24
        current += piece + " "
    lines.append(current.rstrip())
    return "\n".join(lines)


def render(configs):
    lines = [
        "// Generated by tools/config-gen/generate.py from Redis %s's src/config.c; do not edit." % REDIS_VERSION,
        "",
        "/// Every configuration parameter of Redis %s, as src/config.c declares it: name, alias," % REDIS_VERSION,
        "/// flags, type, bounds, enum values and default, in config.c's order.",
        "extension RedisConfigSpec {",
        "    static let all: [RedisConfigSpec] = [",
    ]
    lines += [swift_entry(c) for c in configs]
    lines += ["    ]", ""]
    lines += ["    // config.c's configEnum tables, in their order (the order of Redis's error texts)."]
    lines += render_enums(configs)
    lines += ["}", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--import-from-git", nargs=2, metavar=("REPO", "REF"))
    parser.add_argument("--import-from-file", metavar="CONFIG_C")
    args = parser.parse_args()
    if args.import_from_git or args.import_from_file:
        if args.import_from_git:
            repo, ref = args.import_from_git
            source = subprocess.check_output(["git", "--git-dir", repo, "show", "%s:src/config.c" % ref], text=True)
        else:
            source = open(args.import_from_file).read()
        with open(JSON_PATH, "w") as f:
            json.dump(parse_config_c(source), f, indent=1)
            f.write("\n")
    configs = json.load(open(JSON_PATH))
    text = render(configs)
    if args.check:
        current = open(OUT_PATH).read() if os.path.exists(OUT_PATH) else ""
        if current != text:
            print("%s is out of date: run tools/config-gen/generate.py" % OUT_PATH, file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w") as f:
        f.write(text)
    print("wrote %d parameters to %s" % (len(configs), os.path.relpath(OUT_PATH, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
