"""Differential test of Redis 7.0 scripting: how EVAL converts values between Lua and RESP,
Lode against a reference redis-server 7.0, raw reply bytes compared, RESP2 and RESP3. The
Lua values a script returns (numbers, booleans, strings, tables, status and error tables,
redis.status_reply / redis.error_reply), the RESP3 types built from Lua tables ({map=},
{set=}, {double=}, {big_number=}, {verbatim_string=}) and what a RESP2 client gets of them,
and the replies of redis.call as Lua values, in RESP2 and after redis.setresp(3); last, a
{big_number=} text, sent unchecked (read off the socket: the reply need not be valid RESP3).
How a case runs, and what is compared as a multiset rather than byte for byte:
scripting_diff.py.

Not here: the rest of EVAL, EVALSHA and SCRIPT (test_differential_scripting.py), FUNCTION and
FCALL (test_differential_functions.py).

Run (from the repository root):
  pytest Tests/python/test_differential_scripting_conversions.py                    # Lode vs redis
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential_scripting_conversions.py  # redis vs redis
"""
import pytest

from diff_twin import show_raw
from difflib_redis import SUBJECT
from difflib_redis import subject  # noqa: F401  (a fixture)
from scripting_diff import (NIL, OK, EMPTY, WRONGTYPE, bulk, raises, ex, normalized, ev, case, lua, multiset,
                            run_case, first_line, resp2_reply)

# ----------------------------------------------------------------------------
# Lua values returned by a script, converted to RESP: numbers are truncated to an integer
# (toward zero; a value out of the int64 range is what x86's cvttsd2si gives: INT64_MIN),
# false and nil are a null, true is 1, a table is an array of its elements 1..n stopping
# at the first nil (its other keys ignored, nested tables likewise).

LUA_TO_RESP = [
    lua("integer", "return 42", b":42\r\n"),
    lua("negative-integer", "return -7", b":-7\r\n"),
    lua("float-truncated", "return 3.99", b":3\r\n"),
    lua("negative-float-truncated-toward-zero", "return -3.99", b":-3\r\n"),
    lua("half", "return 0.5", b":0\r\n"),
    lua("negative-half", "return -0.5", b":0\r\n"),
    lua("2^53", "return 2^53", b":9007199254740992\r\n"),
    lua("above-2^53-rounded", "return 9007199254740993", b":9007199254740992\r\n"),
    lua("huge-float", "return 1e20", b":-9223372036854775808\r\n"),
    lua("2^63", "return 2^63", b":-9223372036854775808\r\n"),
    lua("inf", "return math.huge", b":-9223372036854775808\r\n"),
    lua("nan", "return 0/0", b":-9223372036854775808\r\n"),
    lua("numeric-string-stays-a-string", "return '12'", bulk("12")),
    lua("tonumber-hex", "return tonumber('0x10')", b":16\r\n"),
    lua("true-is-one", "return true", b":1\r\n"),
    lua("false-is-null", "return false", NIL),
    lua("nil-is-null", "return nil", NIL),
    lua("no-return", "local x = 1", NIL),
    lua("empty-script", "", NIL),
    lua("function-value-is-null", "return function() end", NIL),
    lua("only-the-first-of-several-values", "return 'x', 'y'", bulk("x")),
    lua("empty-string", "return ''", bulk("")),
    lua("binary-string", r"return 'a\0b\r\n\255'", bulk(b"a\x00b\r\n\xff")),
    lua("string-char", "return string.char(0, 1, 255)", bulk(b"\x00\x01\xff")),
    lua("binary-argument-round-trip", "return ARGV[1]", bulk(b"\x00\xff\r\n\x01"), args=("0", b"\x00\xff\r\n\x01")),
    lua("binary-argument-length", "return #ARGV[1]", b":5\r\n", args=("0", b"\x00\xff\r\n\x01")),
    lua("empty-table", "return {}", EMPTY),
    lua("array", "return {1, 'two', 3.7}", b"*3\r\n:1\r\n$3\r\ntwo\r\n:3\r\n"),
    lua("nested-arrays", "return {1, {2, {3, {}}}}", b"*2\r\n:1\r\n*2\r\n:2\r\n*2\r\n:3\r\n*0\r\n"),
    lua("array-stops-at-the-first-nil", "return {1, 2, nil, 4}", b"*2\r\n:1\r\n:2\r\n"),
    lua("nested-array-stops-at-its-first-nil", "return {1, 2, {3, nil, 4}, nil, 5}",
        b"*3\r\n:1\r\n:2\r\n*1\r\n:3\r\n"),
    lua("leading-nil-is-an-empty-array", "return {nil, 2}", EMPTY),
    lua("false-inside-an-array-is-null", "return {false, 2}", {2: b"*2\r\n$-1\r\n:2\r\n", 3: b"*2\r\n_\r\n:2\r\n"}),
    lua("booleans-inside-an-array", "return {true, false, 'x'}",
        {2: b"*3\r\n:1\r\n$-1\r\n$1\r\nx\r\n", 3: b"*3\r\n:1\r\n_\r\n$1\r\nx\r\n"}),
    lua("floats-inside-an-array", "return {1.9, -1.9, 0.5}", b"*3\r\n:1\r\n:-1\r\n:0\r\n"),
    lua("hash-keys-are-ignored", "return {a=1}", EMPTY),
    lua("mixed-table-keeps-its-array-part", "return {'a', x='y', 'b'}", b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    lua("sparse-array-stops-at-the-hole", "return {[1]='a', [2]='b', [4]='d'}", b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    lua("array-from-index-2-is-empty", "return {[2]='b'}", EMPTY),
    lua("deep-nesting", "local t = {} local c = t for i = 1, 100 do c[1] = {} c = c[1] end return t",
        b"*1\r\n" * 100 + EMPTY),
    lua("pcall-results", "return {pcall(function() return 1, 2 end)}", b"*3\r\n:1\r\n:1\r\n:2\r\n"),
]

# {ok=...} is a status and {err=...} an error, taken as they are (err is not given an
# error code); \r and \n become spaces and a NUL ends the text; ok / err that is not a
# string makes the table an empty array. err wins over ok, and either over the array part.

STATUS_AND_ERROR_TABLES = [
    lua("ok-table", "return {ok='fine'}", b"+fine\r\n"),
    lua("ok-empty", "return {ok=''}", b"+\r\n"),
    lua("ok-newlines-become-spaces", r"return {ok='a\r\nb'}", b"+a  b\r\n"),
    lua("ok-stops-at-nul", "return {ok=ARGV[1]}", b"+a\r\n", args=("0", b"a\x00b")),
    lua("ok-not-a-string", "return {ok=3}", EMPTY),
    lua("ok-wins-over-the-array-part", "return {1, ok='y'}", b"+y\r\n"),
    lua("err-table-has-no-code-added", "return {err='bad thing'}", b"-bad thing\r\n"),
    lua("err-leading-dash-kept", "return {err='-bad'}", b"--bad\r\n"),
    lua("err-with-code", "return {err='MYCODE bad'}", b"-MYCODE bad\r\n"),
    lua("err-empty", "return {err=''}", b"-\r\n"),
    lua("err-not-a-string", "return {err=3}", EMPTY),
    lua("err-wins-over-ok", "return {err='x', ok='y'}", b"-x\r\n"),
    lua("err-newlines-become-spaces", r"return {err='a\r\nb'}", b"-a  b\r\n"),
    lua("err-stops-at-nul", "return {err=ARGV[1]}", b"-a\r\n", args=("0", b"a\x00b")),
    lua("status-and-error-inside-an-array", "return {1, {err='x'}, {ok='y'}, 'z'}",
        b"*4\r\n:1\r\n-x\r\n+y\r\n$1\r\nz\r\n"),
    lua("status-reply", "return redis.status_reply('fine')", b"+fine\r\n"),
    lua("status-reply-empty", "return redis.status_reply('')", b"+\r\n"),
    lua("status-reply-newline", r"return redis.status_reply('a\nb')", b"+a b\r\n"),
    lua("status-reply-table", "local t = redis.status_reply('x') return {type(t), t.ok}",
        b"*2\r\n$5\r\ntable\r\n$1\r\nx\r\n"),
    lua("status-reply-without-argument", "return redis.status_reply()", b"-ERR wrong number or type of arguments\r\n"),
    lua("error-reply-number", "return redis.error_reply(3)", b"-ERR wrong number or type of arguments\r\n"),
    lua("error-reply-without-argument", "return redis.error_reply()", b"-ERR wrong number or type of arguments\r\n"),
    lua("error-reply-table-has-only-err",
        "local t = redis.error_reply('MY x') local n = 0 for _ in pairs(t) do n = n + 1 end return {n, t.err}",
        b"*2\r\n:1\r\n$4\r\nMY x\r\n"),
]

# redis.error_reply(text): a leading '-' is dropped, then "ERR " is put in front of a text
# without a space (no error code); the result is returned, or raised by error(). The table
# it makes keeps that text in `err`. Raising adds " script: <sha>, on @user_script:1.".
# (argument, the reply to `return redis.error_reply(ARGV[1])`)
ERROR_REPLY_TEXTS = [
    ("word", "boom", b"-ERR boom\r\n"),
    ("lowercase-code", "x boom", b"-x boom\r\n"),
    ("code", "X boom", b"-X boom\r\n"),
    ("dash-code", "-X boom", b"-X boom\r\n"),
    ("dash-word", "-boom", b"-ERR boom\r\n"),
    ("leading-space", " boom", b"- boom\r\n"),
    ("trailing-space", "boom ", b"-boom \r\n"),
    ("err-alone", "ERR", b"-ERR ERR\r\n"),
    ("dash-alone", "-", b"-ERR \r\n"),
    ("dash-space", "- x", b"- x\r\n"),
    ("two-dashes", "--X y", b"--X y\r\n"),
    ("newline", "a\nb", b"-ERR a b\r\n"),
    ("empty", "", b"-ERR \r\n"),
]

ERROR_REPLIES = [
    case(f"error-reply-{label}",
         ex(ev("return redis.error_reply(ARGV[1])", "0", arg), reply),
         ev("return redis.error_reply(ARGV[1]).err", "0", arg),
         ev("error(redis.error_reply(ARGV[1]))", "0", arg),
         ev("return {err=ARGV[1]}", "0", arg),
         ev("error({err=ARGV[1]})", "0", arg))
    for label, arg, reply in ERROR_REPLY_TEXTS
]

# RESP3 types from Lua tables: {map=}, {set=}, {double=}, {big_number=}, {verbatim_string=}.
# A RESP2 client gets a flat array, an array, a bulk string (%.17g), a bulk string and the
# bare string. A wrong field type makes the table an empty array. Precedence: err, ok,
# double, big_number, map, set, verbatim_string, then the array part.

RESP3_FROM_LUA = [
    lua("map", "return {map={a=1}}", {2: b"*2\r\n$1\r\na\r\n:1\r\n", 3: b"%1\r\n$1\r\na\r\n:1\r\n"}),
    lua("map-empty", "return {map={}}", {2: EMPTY, 3: b"%0\r\n"}),
    lua("map-nested", "return {map={a={map={b=2}}}}", {3: b"%1\r\n$1\r\na\r\n%1\r\n$1\r\nb\r\n:2\r\n"}),
    lua("map-of-array", "return {map={k={1, 2}}}", {3: b"%1\r\n$1\r\nk\r\n*2\r\n:1\r\n:2\r\n"}),
    lua("map-number-key-truncated", "return {map={[1.5]='x'}}", {3: b"%1\r\n:1\r\n$1\r\nx\r\n"}),
    lua("map-boolean-key", "return {map={[true]='x'}}", {3: b"%1\r\n:1\r\n$1\r\nx\r\n"}),
    lua("map-false-value", "return {map={a=false}}", {3: b"%1\r\n$1\r\na\r\n_\r\n"}),
    lua("map-not-a-table", "return {map=3}", EMPTY),
    lua("map-wins-over-the-array-part", "return {1, map={a=1}}", {3: b"%1\r\n$1\r\na\r\n:1\r\n"}),
    case("map-of-several-keys", normalized(ev("return {map={a=1, b=2, c=3}}"), multiset(pairs=True))),
    lua("set", "return {set={a=true}}", {2: b"*1\r\n$1\r\na\r\n", 3: b"~1\r\n$1\r\na\r\n"}),
    lua("set-values-are-ignored", "return {set={a=false}}", {3: b"~1\r\n$1\r\na\r\n"}),
    lua("set-number-member", "return {set={[1]=1}}", {3: b"~1\r\n:1\r\n"}),
    lua("set-empty", "return {set={}}", {2: EMPTY, 3: b"~0\r\n"}),
    case("set-of-several-members", normalized(ev("return {set={a=true, b=true, c=true}}"), multiset())),
    lua("double", "return {double=3.14}", {2: bulk("3.1400000000000001"), 3: b",3.1400000000000001\r\n"}),
    lua("double-integral", "return {double=1}", {2: bulk("1"), 3: b",1\r\n"}),
    lua("double-inf", "return {double=1/0}", {2: bulk("inf"), 3: b",inf\r\n"}),
    lua("double-minus-inf", "return {double=-1/0}", {3: b",-inf\r\n"}),
    # 0/0 is a NaN with its sign bit set on x86, printed by printf as -nan.
    lua("double-nan", "return {double=0/0}", {2: bulk("-nan"), 3: b",-nan\r\n"}),
    lua("double-negative-zero", "return {double=-0.0}", {2: bulk("-0"), 3: b",-0\r\n"}),
    lua("double-large", "return {double=1e300}", {3: b",1.0000000000000001e+300\r\n"}),
    lua("double-small", "return {double=1e-300}", {3: b",1e-300\r\n"}),
    lua("double-beyond-2^53", "return {double=123456789012345678}", {3: b",1.2345678901234568e+17\r\n"}),
    lua("double-not-a-number", "return {double='abc'}", EMPTY),
    lua("double-wins-over-map", "return {double=3.14, map={a=1}}", {3: b",3.1400000000000001\r\n"}),
    lua("ok-wins-over-map", "return {ok='x', map={a=1}}", b"+x\r\n"),
    lua("err-wins-over-map", "return {err='x', map={a=1}}", b"-x\r\n"),
    lua("big-number", "return {big_number='123'}", {2: bulk("123"), 3: b"(123\r\n"}),
    lua("big-number-long", "return {big_number='-123456789012345678901234567890'}",
        {3: b"(-123456789012345678901234567890\r\n"}),
    lua("big-number-not-a-string", "return {big_number=123}", EMPTY),
    lua("verbatim", "return {verbatim_string={format='txt', string='x'}}", {2: bulk("x"), 3: b"=5\r\ntxt:x\r\n"}),
    lua("verbatim-format-cut-to-3", "return {verbatim_string={format='mkdown', string='x'}}", {3: b"=5\r\nmkd:x\r\n"}),
    lua("verbatim-format-padded-to-3", "return {verbatim_string={format='ab', string='x'}}", {3: b"=5\r\nab :x\r\n"}),
    lua("verbatim-empty-format", "return {verbatim_string={format='', string='x'}}", {3: b"=5\r\n   :x\r\n"}),
    lua("verbatim-keeps-crlf", r"return {verbatim_string={format='txt', string='a\r\nb'}}",
        {2: bulk("a\r\nb"), 3: b"=8\r\ntxt:a\r\nb\r\n"}),
    lua("verbatim-empty-string", "return {verbatim_string={format='txt', string=''}}", {3: b"=4\r\ntxt:\r\n"}),
    lua("verbatim-without-string", "return {verbatim_string={format='txt'}}", EMPTY),
    lua("verbatim-without-format", "return {verbatim_string={string='x'}}", EMPTY),
    lua("verbatim-format-not-a-string", "return {verbatim_string={format=1, string='x'}}", EMPTY),
    lua("verbatim-not-a-table", "return {verbatim_string='x'}", EMPTY),
    lua("resp3-types-inside-an-array", "return {1, {err='x'}, {ok='y'}, {double=1.5}, {map={a={set={b=1}}}}}",
        {3: b"*5\r\n:1\r\n-x\r\n+y\r\n,1.5\r\n%1\r\n$1\r\na\r\n~1\r\n$1\r\nb\r\n"}),
    # After redis.setresp(3) Lua booleans are RESP3 booleans; a RESP2 client gets :1 / :0
    # (not the null that false is without setresp).
    lua("setresp3-true", "redis.setresp(3) return true", {2: b":1\r\n", 3: b"#t\r\n"}),
    lua("setresp3-false", "redis.setresp(3) return false", {2: b":0\r\n", 3: b"#f\r\n"}),
    lua("setresp3-nil", "redis.setresp(3) return nil", NIL),
    lua("setresp3-booleans-inside-an-array", "redis.setresp(3) return {true, false}",
        {2: b"*2\r\n:1\r\n:0\r\n", 3: b"*2\r\n#t\r\n#f\r\n"}),
    lua("setresp3-false-in-a-map", "redis.setresp(3) return {map={a=false}}", {3: b"%1\r\n$1\r\na\r\n#f\r\n"}),
]

# Replies of redis.call converted to Lua: integer -> number, bulk -> string, null bulk ->
# false, array -> table (a null inside it -> false), status -> {ok=...}, error -> raised
# (redis.call) or returned as {err=...} (redis.pcall). Numbers passed as arguments become
# strings (%.17g, integers without a fraction).

RESP_TO_LUA = [
    lua("bulk", "redis.call('set', 'k', 'v') return redis.call('get', 'k')", bulk("v")),
    lua("null-bulk-is-false", "local v = redis.call('get', 'nokey') return {type(v), tostring(v)}",
        b"*2\r\n$7\r\nboolean\r\n$5\r\nfalse\r\n"),
    lua("null-bulk-returned", "return redis.call('get', 'nokey')", NIL),
    lua("call-integer", "local n = redis.call('incrby', 'n', 5) return {type(n), n * 2}",
        b"*2\r\n$6\r\nnumber\r\n:10\r\n"),
    lua("status-is-an-ok-table", "local t = redis.call('set', 'k', 'v') return {type(t), t.ok}",
        b"*2\r\n$5\r\ntable\r\n$2\r\nOK\r\n"),
    lua("status-returned-as-a-status", "return redis.call('set', 'k', 'v')", OK),
    lua("ping", "return redis.call('ping')", b"+PONG\r\n"),
    lua("call-array", "redis.call('rpush', 'l', 'a', 'b', 'c') return redis.call('lrange', 'l', 0, -1)",
        b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
    lua("array-length", "redis.call('rpush', 'l', 'a', 'b') return #redis.call('lrange', 'l', 0, -1)", b":2\r\n"),
    lua("empty-array", "return redis.call('lrange', 'nokey', 0, -1)", EMPTY),
    lua("nested-array", "redis.call('rpush', 'l', 'a', 'b') return redis.call('lmpop', 1, 'l', 'left', 'count', 2)",
        b"*2\r\n$1\r\nl\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    lua("null-inside-an-array-is-false", "redis.call('set', 'a', '1') local t = redis.call('mget', 'a', 'nokey', 'a') "
        "return {type(t[2]), #t, t[1], t[2], t[3]}",
        {2: b"*5\r\n$7\r\nboolean\r\n:3\r\n$1\r\n1\r\n$-1\r\n$1\r\n1\r\n",
         3: b"*5\r\n$7\r\nboolean\r\n:3\r\n$1\r\n1\r\n_\r\n$1\r\n1\r\n"}),
    lua("hgetall-is-flat", "redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')",
        b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    lua("zscore-is-a-string", "redis.call('zadd', 'z', 1.5, 'm') local s = redis.call('zscore', 'z', 'm') "
        "return {type(s), s}", b"*2\r\n$6\r\nstring\r\n$3\r\n1.5\r\n"),
    lua("zrange-withscores-is-flat", "redis.call('zadd', 'z', 1, 'a', 2.5, 'b') "
        "return redis.call('zrange', 'z', 0, -1, 'withscores')",
        b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"),
    lua("lowercase-and-mixed-case-command-names", "redis.call('Set', 'k', 'v') return redis.call('GET', 'k')",
        bulk("v")),
    lua("integer-argument", "redis.call('set', 'k', 3) return redis.call('get', 'k')", bulk("3")),
    lua("float-argument", "redis.call('set', 'k', 1.5) return redis.call('get', 'k')", bulk("1.5")),
    lua("float-argument-17-digits", "redis.call('set', 'k', 0.1) return redis.call('get', 'k')",
        bulk("0.10000000000000001")),
    lua("huge-argument", "redis.call('set', 'k', 1e20) return redis.call('get', 'k')", bulk("1e+20")),
    lua("negative-argument", "return redis.call('incrby', 'n', -2.0)", b":-2\r\n"),
    lua("binary-argument", "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
        bulk(b"\x00\r\n\xff"), args=("1", b"k\x00", b"\x00\r\n\xff")),
    case("writes-seen-by-the-client", ev("redis.call('set', 'k', 'v') redis.call('rpush', 'l', 1, 2)"),
         ex("GET k", bulk("v")), ex("LRANGE l 0 -1", b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n")),
    case("a-script-reads-what-the-client-wrote", "SET k 7",
         ex(ev("return redis.call('incr', KEYS[1])", "1", "k"), b":8\r\n")),
    lua("commands-that-scripts-may-run", "return {redis.call('echo', 'x'), redis.call('exists', 'nokey'), "
        "redis.call('type', 'nokey').ok, redis.call('dbsize')}", b"*4\r\n$1\r\nx\r\n:0\r\n$4\r\nnone\r\n:0\r\n"),
    lua("flushall-inside-a-script", "redis.call('set', 'k', 'v') redis.call('flushall') return redis.call('dbsize')",
        b":0\r\n"),
    lua("time-then-a-write", "local t = redis.call('time') redis.call('set', 'k', 'v') return #t", b":2\r\n"),
]

# After redis.setresp(3) the replies of redis.call come in RESP3 and convert to Lua as
# {map=...}, {set={member=true}}, {double=number}, a null as nil (not false); a RESP2
# client gets them back in RESP2. Without setresp a script sees RESP2 even from a RESP3
# client.

RESP3_TO_LUA = [
    lua("hgetall-map", "redis.setresp(3) redis.call('hset', 'h', 'f', 'v') local t = redis.call('hgetall', 'h') "
        "return {type(t.map), t.map.f}", b"*2\r\n$5\r\ntable\r\n$1\r\nv\r\n"),
    lua("hgetall-returned", "redis.setresp(3) redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')",
        {2: b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n", 3: b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"}),
    case("hgetall-of-several-fields", normalized(ev("redis.setresp(3) redis.call('hset', 'h', 'a', 1, 'b', 2, 'c', 3) "
                                                   "return redis.call('hgetall', 'h')"), multiset(pairs=True))),
    lua("hgetall-empty", "redis.setresp(3) return redis.call('hgetall', 'nokey')", {2: EMPTY, 3: b"%0\r\n"}),
    lua("smembers-set", "redis.setresp(3) redis.call('sadd', 's', 'm') local t = redis.call('smembers', 's') "
        "return {type(t.set), tostring(t.set.m)}", b"*2\r\n$5\r\ntable\r\n$4\r\ntrue\r\n"),
    lua("smembers-returned", "redis.setresp(3) redis.call('sadd', 's', 'm') return redis.call('smembers', 's')",
        {2: b"*1\r\n$1\r\nm\r\n", 3: b"~1\r\n$1\r\nm\r\n"}),
    case("smembers-of-several-members",
         normalized(ev("redis.setresp(3) redis.call('sadd', 's', 'a', 'b', 'c', 'd') "
                       "return redis.call('smembers', 's')"), multiset())),
    lua("zscore-double", "redis.setresp(3) redis.call('zadd', 'z', 1.5, 'm') local t = redis.call('zscore', 'z', 'm') "
        "return {type(t), type(t.double), tostring(t.double)}",
        b"*3\r\n$5\r\ntable\r\n$6\r\nnumber\r\n$3\r\n1.5\r\n"),
    lua("zscore-returned", "redis.setresp(3) redis.call('zadd', 'z', 1.5, 'm') return redis.call('zscore', 'z', 'm')",
        {2: bulk("1.5"), 3: b",1.5\r\n"}),
    lua("double-arithmetic", "redis.setresp(3) redis.call('zadd', 'z', 1.5, 'm') "
        "return {double=redis.call('zincrby', 'z', 0.25, 'm').double * 2}", {2: bulk("3.5"), 3: b",3.5\r\n"}),
    lua("zrange-withscores-pairs", "redis.setresp(3) redis.call('zadd', 'z', 1, 'a', 2.5, 'b') "
        "return redis.call('zrange', 'z', 0, -1, 'withscores')",
        {2: b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
         3: b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"}),
    lua("null-is-nil", "redis.setresp(3) local v = redis.call('get', 'nokey') return type(v)", bulk("nil")),
    lua("null-returned", "redis.setresp(3) return redis.call('get', 'nokey')", NIL),
    lua("null-zscore", "redis.setresp(3) return type(redis.call('zscore', 'nokey', 'm'))", bulk("nil")),
    lua("status-still-an-ok-table", "redis.setresp(3) return redis.call('set', 'k', 'v').ok", bulk("OK")),
    lua("integers-unchanged",
        "redis.setresp(3) redis.call('sadd', 's', 'm') return redis.call('smismember', 's', 'm', 'x')",
        b"*2\r\n:1\r\n:0\r\n"),
    lua("error-from-pcall", "redis.setresp(3) redis.call('hset', 'h', 'f', 'v') return redis.pcall('incr', 'h')",
        b"-%s\r\n" % WRONGTYPE),
    lua("back-to-resp2", "redis.setresp(3) redis.setresp(2) redis.call('hset', 'h', 'f', 'v') "
        "return redis.call('hgetall', 'h')", b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    lua("without-setresp-a-script-sees-resp2", "redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')",
        b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    lua("setresp-as-a-string", "redis.setresp('3') return redis.call('hgetall', 'nokey')", {2: EMPTY, 3: b"%0\r\n"}),
    lua("setresp-4", "return redis.setresp(4)", raises(b"ERR RESP version must be 2 or 3.")),
    lua("setresp-not-a-number", "return redis.setresp('x')", raises(b"ERR RESP version must be 2 or 3.")),
    lua("setresp-without-argument", "return redis.setresp()", raises(b"ERR redis.setresp() requires one argument.")),
]

CORPUS = LUA_TO_RESP + STATUS_AND_ERROR_TABLES + ERROR_REPLIES + RESP3_FROM_LUA + RESP_TO_LUA + RESP3_TO_LUA


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("steps", CORPUS)
def test_case(redis_ref, subject, steps, resp):
    run_case(redis_ref, subject, steps, resp)


# A big number from Lua is sent as the string it is, unchecked (\r and \n as spaces), so
# the reply may not be a valid RESP3 big number at all.
BIG_NUMBER_TEXTS = [("abc", b"(abc\r\n"), ("", b"(\r\n"), ("12 34", b"(12 34\r\n"), ("1\r\n2", b"(1  2\r\n")]


@pytest.mark.parametrize("text,reply", BIG_NUMBER_TEXTS, ids=["word", "empty", "space", "crlf"])
def test_big_number_is_sent_unchecked(redis_ref, subject, text, reply):
    cmd = ev("return {big_number=ARGV[1]}", "0", text)
    a, b = first_line(redis_ref.port, *cmd), first_line(subject.port, *cmd)
    assert a == reply, f"redis itself answered {show_raw(a)}"
    assert b == a, f"redis: {show_raw(a)}\n{SUBJECT}: {show_raw(b)}"
    a2, b2 = (resp2_reply(srv, cmd) for srv in (redis_ref, subject))
    assert a2 == bulk(text.replace("\r", " ").replace("\n", " ")), f"redis itself answered {show_raw(a2)} in RESP2"
    assert b2 == a2, f"RESP2: redis: {show_raw(a2)}\n{SUBJECT}: {show_raw(b2)}"
