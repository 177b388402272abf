"""Differential test of Redis 7.0 scripting by EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT,
Lode against a reference redis-server 7.0, raw reply bytes compared, RESP2 and RESP3: KEYS and
ARGV, the read-only globals, the errors of redis.call / redis.pcall / error(), the redis.*
helpers, EVALSHA and the SCRIPT command, compile errors, SELECT in a script, shebang flags
and the *_RO commands, scripts in MULTI and under WATCH, the script cache seen from two
connections. How a case runs, and what is compared as a multiset rather than byte for
byte: scripting_diff.py.

Not here: the conversion of values between Lua and RESP
(test_differential_scripting_conversions.py), FUNCTION and FCALL
(test_differential_functions.py), the cmsgpack and struct libraries
(test_differential_scripting_libs.py), busy scripts and SCRIPT KILL (test_scripting_busy.py),
and `EVAL "error({})" 0` (an error table without `err`), which crashes Redis 7.0.15 with
SIGSEGV, so cannot be compared (a server should rather answer an error).

Run (from the repository root):
  pytest Tests/python/test_differential_scripting.py                    # Lode vs redis
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential_scripting.py  # redis vs redis
"""
import pytest

from difflib_redis import subject  # noqa: F401  (a fixture)
from scripting_diff import (NIL, OK, TOO_MANY_KEYS, NEGATIVE_KEYS, NOSCRIPT, WRONGTYPE, READONLY, RO_WRITE_FLAG,
                            NOT_ALLOWED, sha, bulk, script_error, raises, ex, on_b, normalized, ev, case, lua,
                            library, load, SCRIPT_COUNTS, R1, R1_SHA, run_case)

NOT_INTEGER = b"-ERR value is not an integer or out of range\r\n"
READONLY_TABLE = b"ERR user_script:1: Attempt to modify a readonly table"

# ----------------------------------------------------------------------------
# KEYS and ARGV, and the numkeys argument (checked before the script is looked up).

KEYS_AND_ARGV = [
    lua("keys-and-argv", "return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}",
        b"*5\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\na1\r\n:2\r\n:1\r\n", args=("2", "k1", "k2", "a1")),
    lua("no-keys-all-argv", "return {#KEYS, ARGV[1], ARGV[2]}", b"*3\r\n:0\r\n$1\r\na\r\n$1\r\nb\r\n",
        args=("0", "a", "b")),
    lua("all-keys-no-argv", "return {#ARGV, KEYS[1], KEYS[2]}", b"*3\r\n:0\r\n$1\r\na\r\n$1\r\nb\r\n",
        args=("2", "a", "b")),
    lua("empty-key-and-argument", "return {KEYS[1], ARGV[1]}", b"*2\r\n$0\r\n\r\n$0\r\n\r\n", args=("1", "", "")),
    lua("binary-key-and-argument", "return {KEYS[1], ARGV[1]}", b"*2\r\n$2\r\n\x00k\r\n$1\r\n\xff\r\n",
        args=("1", b"\x00k", b"\xff")),
    lua("argv-are-strings", "return {type(ARGV[1]), ARGV[1] + 1}", b"*2\r\n$6\r\nstring\r\n:6\r\n", args=("0", "5")),
    lua("missing-key-is-nil", "return KEYS[3] == nil", b":1\r\n", args=("1", "k")),
    lua("keys-entries-can-change", "KEYS[1] = 'x' return KEYS[1]", bulk("x"), args=("1", "a")),
    lua("keys-itself-is-read-only", "KEYS = 1 return 1", raises(READONLY_TABLE), args=("1", "a")),
    lua("numkeys-greater-than-args", "return 1", TOO_MANY_KEYS, args=("2", "k")),
    lua("numkeys-negative", "return 1", NEGATIVE_KEYS, args=("-1",)),
    lua("numkeys-int64-max", "return 1", TOO_MANY_KEYS, args=("9223372036854775807",)),
    lua("numkeys-above-int32", "return 1", TOO_MANY_KEYS, args=("2147483648", "a")),
    *[lua(f"numkeys-{label}", "return 1", NOT_INTEGER, args=(n, "a")) for label, n in [
        ("word", "abc"), ("fraction", "1.5"), ("empty", ""), ("leading-zero", "01"), ("plus", "+1"),
        ("space", " 1"), ("minus-zero", "-0"), ("overflow", "99999999999999999999")]],
    case("numkeys-missing", ex(("EVAL", "return 1"), b"-ERR wrong number of arguments for 'eval' command\r\n"),
         ex(("EVAL",), b"-ERR wrong number of arguments for 'eval' command\r\n")),
    case("lowercase-eval", ex(("eval", "return ARGV[1]", "0", "x"), bulk("x")), ("EvAl", "return 1", "0")),
    case("evalsha-checks-numkeys-before-the-script",
         ex(("EVALSHA", "f" * 40, "-1"), NEGATIVE_KEYS), ex(("EVALSHA", "f" * 40, "5"), TOO_MANY_KEYS),
         ex(("EVALSHA", "f" * 40, "x"), NOT_INTEGER), ex(("EVALSHA_RO", "f" * 40, "-1"), NEGATIVE_KEYS)),
    case("eval-ro-numkeys", ex(("EVAL_RO", "return 1", "-1"), NEGATIVE_KEYS),
         ex(("EVAL_RO", "return 1", "x"), NOT_INTEGER),
         ex(("EVAL_RO", "return KEYS[1]", "1", "k"), bulk("k"))),
]

# The global environment is read-only: new globals, and changes to redis / string / table
# and the like, are refused; reading a global that does not exist is an error.

GLOBALS = [
    lua("read-undefined-global", "return undefinedvar",
        raises(b"ERR user_script:1: Script attempted to access nonexistent global variable 'undefinedvar'")),
    lua("local-from-undefined-global", "local x = y",
        raises(b"ERR user_script:1: Script attempted to access nonexistent global variable 'y'")),
    lua("call-undefined-function", "return nosuchfunc()",
        raises(b"ERR user_script:1: Script attempted to access nonexistent global variable 'nosuchfunc'")),
    lua("set-global", "x = 1", raises(READONLY_TABLE)),
    lua("define-global-function", "function f() end", raises(READONLY_TABLE)),
    lua("set-through-_G", "_G.x = 1", raises(READONLY_TABLE)),
    lua("rawset-_G", "rawset(_G, 'x', 1)", raises(b"ERR Attempt to modify a readonly table")),
    lua("setmetatable-_G", "setmetatable(_G, nil)", raises(b"ERR Attempt to modify a readonly table")),
    lua("replace-redis-call", "redis.call = 1", raises(READONLY_TABLE)),
    lua("add-to-redis", "redis.x = 1", raises(READONLY_TABLE)),
    lua("add-to-string", "string.foo = 1", raises(READONLY_TABLE)),
    lua("remove-from-string", "string.len = nil", raises(READONLY_TABLE)),
    lua("remove-from-table", "table.insert = nil", raises(READONLY_TABLE)),
    lua("read-undefined-through-_G", "return tostring(_G.nosuch)",
        raises(b"ERR user_script:1: Script attempted to access nonexistent global variable 'nosuch'")),
    *[lua(f"no-{name}", f"return type({name})",
          raises(b"ERR user_script:1: Script attempted to access nonexistent global variable '%s'" % name.encode()))
      for name in ("print", "dofile", "os", "io", "require")],
    lua("loadstring-exists", "return type(loadstring)", bulk("function")),
    lua("version", "return _VERSION", bulk("Lua 5.1")),
    lua("local-function", "local function f(a) return a * 2 end return f(21)", b":42\r\n"),
    lua("global-names", "local ks = {} for k in pairs(_G) do ks[#ks + 1] = k end table.sort(ks) "
        "return table.concat(ks, ',')",
        bulk("ARGV,KEYS,_G,_VERSION,__redis__err__handler,assert,bit,cjson,cmsgpack,collectgarbage,coroutine,error,"
             "gcinfo,getmetatable,ipairs,load,loadstring,math,next,pairs,pcall,rawequal,rawget,rawset,redis,select,"
             "setmetatable,string,struct,table,tonumber,tostring,type,unpack,xpcall")),
    lua("redis-names", "local ks = {} for k in pairs(redis) do ks[#ks + 1] = k end table.sort(ks) "
        "return table.concat(ks, ',')",
        bulk("LOG_DEBUG,LOG_NOTICE,LOG_VERBOSE,LOG_WARNING,REDIS_VERSION,REDIS_VERSION_NUM,REPL_ALL,REPL_AOF,REPL_NONE,"
             "REPL_REPLICA,REPL_SLAVE,acl_check_cmd,breakpoint,call,debug,error_reply,log,pcall,replicate_commands,"
             "set_repl,setresp,sha1hex,status_reply")),
    lua("cjson", """return {cjson.encode({1, 2, 'x'}), cjson.decode('{"a":[1,2]}').a[2]}""",
        b"*2\r\n$9\r\n[1,2,\"x\"]\r\n:2\r\n"),
    lua("bit", "return {bit.band(7, 3), bit.tohex(255)}", b"*2\r\n:3\r\n$8\r\n000000ff\r\n"),
    lua("string-format", "return string.format('%5.2f|%d|%s', 3.14159, 42, 'x')", bulk(" 3.14|42|x")),
]

# Errors of redis.call (raised, with the script's position) and redis.pcall (returned as
# an error table {err=..., ignore_error_stats_update=true}); errors raised with error().

SET_S = "SET s abc"

CALL_ERRORS = [
    lua("unknown-command", "return redis.call('nosuch')", raises(b"ERR Unknown Redis command called from script")),
    lua("unknown-command-pcall", "return redis.pcall('nosuch')", b"-ERR Unknown Redis command called from script\r\n"),
    lua("unknown-subcommand-is-an-unknown-command", "return redis.call('object', 'nosuch')",
        raises(b"ERR Unknown Redis command called from script")),
    lua("number-as-command-name", "return redis.call(1)", raises(b"ERR Unknown Redis command called from script")),
    lua("wrong-arity", "return redis.call('get')",
        raises(b"ERR Wrong number of args calling Redis command from script")),
    lua("wrong-arity-pcall", "return redis.pcall('set', 'k')",
        b"-ERR Wrong number of args calling Redis command from script\r\n"),
    lua("container-without-subcommand", "return redis.call('object')",
        raises(b"ERR Wrong number of args calling Redis command from script")),
    lua("no-arguments", "return redis.call()",
        raises(b"ERR Please specify at least one argument for this redis lib call")),
    lua("no-arguments-pcall", "return redis.pcall()",
        b"-ERR Please specify at least one argument for this redis lib call\r\n"),
    lua("table-argument", "return redis.call('set', 'k', {})",
        raises(b"ERR Lua redis lib command arguments must be strings or integers")),
    lua("table-as-command", "return redis.call({})",
        raises(b"ERR Lua redis lib command arguments must be strings or integers")),
    lua("boolean-argument", "return redis.call('set', 'k', true)",
        raises(b"ERR Lua redis lib command arguments must be strings or integers")),
    lua("nil-argument", "return redis.call('set', 'k', nil)",
        raises(b"ERR Lua redis lib command arguments must be strings or integers")),
    lua("bad-argument-pcall", "return redis.pcall('set', 'k', {})",
        b"-ERR Lua redis lib command arguments must be strings or integers\r\n"),
    *[lua(f"not-allowed-{'-'.join(call)}", "return redis.call(%s)" % ", ".join(f"'{a}'" for a in call),
          raises(NOT_ALLOWED)) for call in [
        ("multi",), ("exec",), ("watch", "k"), ("eval", "return 1", "0"), ("subscribe", "c"), ("psubscribe", "c*"),
        ("blpop", "l", "0"), ("blmove", "a", "b", "left", "left", "0"), ("bzpopmin", "z", "0"),
        ("script", "load", "return 1"), ("function", "list"), ("fcall", "f", "0"), ("client", "id"), ("auth", "x"),
        ("quit",), ("hello",), ("reset",), ("config", "get", "maxmemory"), ("shutdown",)]],
    lua("not-allowed-pcall", "return redis.pcall('multi')", b"-%s\r\n" % NOT_ALLOWED),
    lua("select-out-of-range", "return redis.call('select', 99)", raises(b"ERR DB index is out of range")),
    case("wrongtype-raised", SET_S, ex(ev("return redis.call('lpush', 's', 'x')"), raises(WRONGTYPE))),
    case("wrongtype-returned-by-pcall", SET_S, ex(ev("return redis.pcall('lpush', 's', 'x')"), b"-%s\r\n" % WRONGTYPE)),
    case("wrong-value-raised", SET_S, ex(ev("return redis.call('incr', 's')"),
                                         raises(b"ERR value is not an integer or out of range"))),
    case("pcall-error-table", SET_S,
         ex(ev("local e = redis.pcall('incr', 's') local ks = {} for k, v in pairs(e) do ks[#ks + 1] = k .. '=' .. "
               "tostring(v) end table.sort(ks) return ks"),
            b"*2\r\n$47\r\nerr=ERR value is not an integer or out of range\r\n"
            b"$30\r\nignore_error_stats_update=true\r\n")),
    case("pcall-error-err-field", SET_S, ex(ev("return redis.pcall('incr', 's').err"),
                                            bulk("ERR value is not an integer or out of range"))),
    case("pcall-error-then-more-commands", SET_S,
         ex(ev("redis.pcall('incr', 's') redis.call('set', 'k', 'v') return redis.call('get', 'k')"), bulk("v"))),
    # Lua's pcall (Redis wraps it) hands over the error text, not the table...
    case("lua-pcall-of-redis-call-gives-a-string", SET_S,
         ex(ev("local ok, e = pcall(redis.call, 'incr', 's') return {tostring(ok), type(e), e}"),
            b"*3\r\n$5\r\nfalse\r\n$6\r\nstring\r\n$43\r\nERR value is not an integer or out of range\r\n")),
    lua("lua-pcall-of-an-error-table", "local ok, e = pcall(error, {err='CODE x'}) return e", bulk("CODE x")),
    lua("lua-pcall-of-a-table-without-err", "local ok, e = pcall(error, {foo=1}) return type(e)", bulk("table")),
    lua("lua-pcall-of-error-without-value", "local ok, e = pcall(error) return type(e)", bulk("nil")),
    lua("lua-pcall-of-a-lua-error", "local ok, e = pcall(function() local t = nil return t.x end) return e",
        bulk("user_script:1: attempt to index local 't' (a nil value)")),
    # ... but an xpcall handler gets the table.
    case("xpcall-handler-gets-the-table", SET_S,
         ex(ev("local ok, e = xpcall(function() redis.call('incr', 's') end, function(e) return e end) "
               "return {tostring(ok), e}"),
            b"*2\r\n$5\r\nfalse\r\n-ERR value is not an integer or out of range\r\n")),
    case("re-raised-error", SET_S, ex(ev("local ok, e = pcall(redis.call, 'incr', 's') error(e)"),
                                      raises(b"ERR user_script:1: ERR value is not an integer or out of range"))),
    lua("error-string", "error('my error')", raises(b"ERR user_script:1: my error")),
    lua("error-string-level-0", "error('my error', 0)", raises(b"ERR my error")),
    lua("error-number", "error(3)", raises(b"ERR user_script:1: 3")),
    lua("error-table-with-code", "error({err='CUSTOM x'})", raises(b"CUSTOM x")),
    lua("error-table-without-code", "error({err='x'})", raises(b"x")),
    lua("error-of-error-reply", "error(redis.error_reply('MYERR foo'))", raises(b"MYERR foo")),
    lua("index-nil", "local x = nil return x.y",
        raises(b"ERR user_script:1: attempt to index local 'x' (a nil value)")),
    lua("arithmetic-on-a-table", "return 1 + {}",
        raises(b"ERR user_script:1: attempt to perform arithmetic on a table value")),
    lua("error-on-line-3", "local a = 1\nlocal b = 2\nerror('x')", raises(b"ERR user_script:3: x", line=3)),
    lua("call-error-on-line-2", "local a = 1\nreturn redis.call('nosuch')",
        raises(b"ERR Unknown Redis command called from script", line=2)),
    lua("error-in-a-nested-function", "local function f()\n  error('deep')\nend\nf()",
        raises(b"ERR user_script:2: deep", line=2)),
    lua("error-level-2", "local function f()\n  error('deep', 2)\nend\nf()",
        raises(b"ERR user_script:4: deep", line=2)),
]

# redis.sha1hex, redis.log, versions, replication controls and the other helpers.

HELPERS = [
    lua("sha1hex-empty", "return redis.sha1hex('')", bulk(sha(""))),
    lua("sha1hex-abc", "return redis.sha1hex('abc')", bulk(sha("abc"))),
    lua("sha1hex-binary", "return redis.sha1hex(ARGV[1])", bulk(sha(b"\x00\xff")), args=("0", b"\x00\xff")),
    lua("sha1hex-number", "return redis.sha1hex(3)", bulk(sha("3"))),
    lua("sha1hex-table-is-empty-string", "return redis.sha1hex({})", bulk(sha(""))),
    lua("sha1hex-without-argument", "return redis.sha1hex()", raises(b"ERR wrong number of arguments")),
    lua("sha1hex-two-arguments", "return redis.sha1hex('a', 'b')", raises(b"ERR wrong number of arguments")),
    lua("sha1hex-is-the-script-sha", "return redis.sha1hex('return 1')",
        bulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db")),
    *[lua(f"log-{level}", f"return redis.log(redis.LOG_{level.upper()}, 'hello from a test')", NIL)
      for level in ("debug", "verbose", "notice", "warning")],
    lua("log-levels", "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
        b"*4\r\n:0\r\n:1\r\n:2\r\n:3\r\n"),
    lua("log-several-values", "return redis.log(redis.LOG_DEBUG, 'x', 'y', 3, {})", NIL),
    lua("log-without-message", "return redis.log(redis.LOG_DEBUG)",
        raises(b"ERR redis.log() requires two arguments or more.")),
    lua("log-without-arguments", "return redis.log()", raises(b"ERR redis.log() requires two arguments or more.")),
    lua("log-bad-level", "return redis.log(99, 'x')", raises(b"ERR Invalid debug level.")),
    lua("log-level-not-a-number", "return redis.log('x', 'x')",
        raises(b"ERR First argument must be a number (log level).")),
    lua("redis-version", "return redis.REDIS_VERSION", bulk("7.0.15")),
    lua("redis-version-num", "return {redis.REDIS_VERSION_NUM, string.format('%x', redis.REDIS_VERSION_NUM)}",
        b"*2\r\n:458767\r\n$5\r\n7000f\r\n"),
    lua("repl-constants",
        "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}",
        b"*5\r\n:0\r\n:1\r\n:2\r\n:2\r\n:3\r\n"),
    lua("set-repl", "return redis.set_repl(redis.REPL_ALL)", NIL),
    lua("set-repl-bad-flags", "return redis.set_repl(99)",
        raises(b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")),
    lua("set-repl-without-argument", "return redis.set_repl()",
        raises(b"ERR redis.set_repl() requires two arguments.")),
    lua("replicate-commands", "return redis.replicate_commands()", b":1\r\n"),
    lua("breakpoint-outside-the-debugger", "return redis.breakpoint()", NIL),
    lua("debug-outside-the-debugger", "return redis.debug('x')", NIL),
    lua("acl-check-cmd", "return redis.acl_check_cmd('set', 'x', 'y')", b":1\r\n"),
    lua("acl-check-unknown-cmd", "return redis.acl_check_cmd('nosuch')",
        raises(b"ERR Invalid command passed to redis.acl_check_cmd()")),
    lua("acl-check-without-arguments", "return redis.acl_check_cmd()",
        raises(b"ERR Please specify at least one argument for this redis lib call")),
    lua("no-register-function-in-eval", "return redis.register_function('f', function() end)",
        raises(b"ERR user_script:1: attempt to call field 'register_function' (a nil value)")),
]

# EVALSHA, EVALSHA_RO and the SCRIPT command. An SHA is matched case-insensitively; any
# other length is simply not found. EVAL caches its script too.

WRITER = "return redis.call('set', 'k', 'v')"

EVALSHA_AND_SCRIPT = [
    case("script-load-then-evalsha", ex(("SCRIPT", "LOAD", R1), bulk(R1_SHA)), ex(("EVALSHA", R1_SHA, "0"), b":1\r\n")),
    case("evalsha-uppercase", ("SCRIPT", "LOAD", R1), ex(("EVALSHA", R1_SHA.upper(), "0"), b":1\r\n")),
    case("evalsha-unknown", ex(("EVALSHA", R1_SHA, "0"), NOSCRIPT), ex(("EVALSHA", "f" * 40, "0"), NOSCRIPT)),
    case("evalsha-other-lengths", ("SCRIPT", "LOAD", R1), ex(("EVALSHA", R1_SHA[:39], "0"), NOSCRIPT),
         ex(("EVALSHA", R1_SHA + "ab", "0"), NOSCRIPT), ex(("EVALSHA", "fff", "0"), NOSCRIPT),
         ex(("EVALSHA", "", "0"), NOSCRIPT)),
    case("evalsha-with-keys-and-args", ("SCRIPT", "LOAD", "return {KEYS[1], ARGV[1]}"),
         ex(("EVALSHA", sha("return {KEYS[1], ARGV[1]}"), "1", "k", "a"), b"*2\r\n$1\r\nk\r\n$1\r\na\r\n")),
    case("eval-caches-the-script", ev("return 2"), ex(("EVALSHA", sha("return 2"), "0"), b":2\r\n"),
         ex(("SCRIPT", "EXISTS", sha("return 2")), b"*1\r\n:1\r\n")),
    case("failed-compile-is-not-cached", ev("return return"),
         ex(("SCRIPT", "EXISTS", sha("return return")), b"*1\r\n:0\r\n")),
    case("script-exists-several", ("SCRIPT", "LOAD", R1),
         ex(("SCRIPT", "EXISTS", R1_SHA, R1_SHA.upper(), "x", "", "f" * 40), b"*5\r\n:1\r\n:1\r\n:0\r\n:0\r\n:0\r\n")),
    case("script-exists-without-sha",
         ex("SCRIPT EXISTS", b"-ERR wrong number of arguments for 'script|exists' command\r\n")),
    case("script-load-twice-same-sha", ("SCRIPT", "LOAD", R1), ex(("SCRIPT", "LOAD", R1), bulk(R1_SHA))),
    case("script-load-empty", ex(("SCRIPT", "LOAD", ""), bulk(sha("")))),
    case("script-load-arity", ex("SCRIPT LOAD", b"-ERR wrong number of arguments for 'script|load' command\r\n"),
         ("SCRIPT", "LOAD", "a", "b")),
    case("script-load-compile-error", ex(("SCRIPT", "LOAD", "return return"),
                                         b"-ERR Error compiling script (new function): user_script:1: "
                                         b"unexpected symbol near 'return'\r\n")),
    case("script-load-shebang", ex(("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 1"),
                                   bulk(sha("#!lua flags=no-writes\nreturn 1"))),
         ex(("SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1"), b"-ERR Unexpected flag in script shebang: bogus\r\n")),
    case("script-load-lowercase", ex(("script", "load", R1), bulk(R1_SHA))),
    case("script-flush", ("SCRIPT", "LOAD", R1), ex("SCRIPT FLUSH", OK), ex(("EVALSHA", R1_SHA, "0"), NOSCRIPT),
         ex(("SCRIPT", "EXISTS", R1_SHA), b"*1\r\n:0\r\n")),
    case("script-flush-modes", ex("SCRIPT FLUSH ASYNC", OK), ex("SCRIPT FLUSH SYNC", OK), ex("SCRIPT FLUSH async", OK),
         ex("SCRIPT FLUSH x", b"-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"),
         ex("SCRIPT FLUSH ASYNC SYNC", b"-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n")),
    case("script-flush-keeps-functions",
         load(library("keep", "redis.register_function('keep', function() return 1 end)")),
         "SCRIPT FLUSH", ex("FCALL keep 0", b":1\r\n")),
    case("script-kill-not-busy", ex("SCRIPT KILL", b"-NOTBUSY No scripts in execution right now.\r\n"),
         ex("SCRIPT KILL x", b"-ERR wrong number of arguments for 'script|kill' command\r\n")),
    case("script-unknown-subcommand", ex("SCRIPT NOSUCH", b"-ERR unknown subcommand 'NOSUCH'. Try SCRIPT HELP.\r\n"),
         ex("SCRIPT", b"-ERR wrong number of arguments for 'script' command\r\n")),
    case("script-help", "SCRIPT HELP"),
    case("evalsha-ro", ("SCRIPT", "LOAD", "return redis.call('get', 'k')"), "SET k v",
         ex(("EVALSHA_RO", sha("return redis.call('get', 'k')"), "0"), bulk("v"))),
    case("evalsha-ro-of-a-write", ("SCRIPT", "LOAD", WRITER),
         ex(("EVALSHA_RO", sha(WRITER), "0"), script_error(WRITER, READONLY)), ex(("EVALSHA", sha(WRITER), "0"), OK)),
    case("evalsha-ro-unknown", ex(("EVALSHA_RO", "f" * 40, "0"), NOSCRIPT)),
    case("info-counts", normalized("INFO memory", SCRIPT_COUNTS), ev("return 1"), ("SCRIPT", "LOAD", "return 2"),
         ev("return return"), normalized("INFO memory", SCRIPT_COUNTS),
         load(library("counted", "redis.register_function('c1', function() end)",
                      "redis.register_function('c2', function() end)")),
         normalized("INFO memory", SCRIPT_COUNTS), "SCRIPT FLUSH", "FUNCTION FLUSH",
         normalized("INFO memory", SCRIPT_COUNTS)),
]

# Compile errors carry user_script:<line>; "Error running script" is Redis 6's wording:
# Redis 7 reports runtime errors as `<error> script: <sha>, on @user_script:<line>.`.

COMPILE = "-ERR Error compiling script (new function): "

COMPILE_ERRORS = [
    lua("compile-error", "return return", (COMPILE + "user_script:1: unexpected symbol near 'return'\r\n").encode()),
    lua("compile-error-unfinished-string", "return 'abc",
        (COMPILE + "user_script:1: unfinished string near '<eof>'\r\n").encode()),
    lua("compile-error-on-line-3", "\n\nlocal x = = 1",
        (COMPILE + "user_script:3: unexpected symbol near '='\r\n").encode()),
    lua("compile-error-end", "end", (COMPILE + "user_script:1: '<eof>' expected near 'end'\r\n").encode()),
    lua("compile-error-hash-is-not-a-shebang", "#lua\nreturn 3",
        (COMPILE + "user_script:1: unexpected symbol near '#'\r\n").encode()),
    lua("compile-error-space-before-shebang", " #!lua\nreturn 3",
        (COMPILE + "user_script:1: unexpected symbol near '#'\r\n").encode()),
    lua("compile-error-unclosed-function", "local function f()\nreturn 1",
        (COMPILE + "user_script:2: 'end' expected (to close 'function' at line 1) near '<eof>'\r\n").encode()),
]

# SELECT inside a script changes the database for the rest of the script only.

SELECT_CASES = [
    case("select-inside-a-script-is-local", "SET x db0",
         ex(ev("redis.call('select', 1) redis.call('set', 'x', 'db1') return redis.call('get', 'x')"), bulk("db1")),
         ex("GET x", bulk("db0")), "SELECT 1", ex("GET x", bulk("db1"))),
    case("script-starts-in-the-client-db", "SELECT 1", "SET x db1",
         ex(ev("return redis.call('get', 'x')"), bulk("db1")),
         ex(ev("redis.call('select', 0) return redis.call('get', 'x')"), NIL), ex("GET x", bulk("db1"))),
    case("select-pcall-out-of-range", ex(ev("return redis.pcall('select', 99)"), b"-ERR DB index is out of range\r\n"),
         ev("redis.pcall('select', 99) return redis.call('set', 'x', 'still-db0')"), ex("GET x", bulk("still-db0"))),
    case("select-in-function", load(library("sel", "redis.register_function('sel', function() redis.call('select', 2) "
                                             "return redis.call('set', 'x', 'db2') end)")),
         ex("FCALL sel 0", OK), ex("EXISTS x", b":0\r\n"), "SELECT 2", ex("GET x", bulk("db2"))),
]

# Shebang flags (`#!lua flags=...`), EVAL_RO. A script with a shebang but without
# no-writes cannot run by EVAL_RO / EVALSHA_RO; a write in a read-only script fails on the
# write. flags= given twice add up. The shebang is line 1 for error positions. PUBLISH
# counts as a write here.

NW = "#!lua flags=no-writes\n"

SHEBANG_AND_RO = [
    lua("no-writes-write", NW + "return redis.call('set', 'x', 'y')", raises(READONLY, line=2)),
    lua("no-writes-write-pcall", NW + "return redis.pcall('set', 'x', 'y')", b"-%s\r\n" % READONLY),
    case("no-writes-read", "SET x v", ex(ev(NW + "return redis.call('get', 'x')"), bulk("v"))),
    lua("no-writes-publish", NW + "return redis.call('publish', 'c', 'm')", raises(READONLY, line=2)),
    lua("plain-shebang-allows-writes", "#!lua\nreturn redis.call('set', 'x', 'y')", OK),
    lua("empty-flags", "#!lua flags=\nreturn 1", b":1\r\n"),
    lua("two-flags", "#!lua flags=no-writes,allow-oom\nreturn 1", b":1\r\n"),
    lua("every-flag", "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1",
        b":1\r\n"),
    lua("allow-oom-allows-writes", "#!lua flags=allow-oom\nreturn redis.call('set', 'x', 'y')", OK),
    lua("flags-given-twice-add-up", "#!lua flags=no-writes flags=allow-oom\nreturn redis.call('set', 'x', 'y')",
        raises(READONLY, line=2)),
    lua("unknown-flag", "#!lua flags=bogus\nreturn 1", b"-ERR Unexpected flag in script shebang: bogus\r\n"),
    lua("unknown-flag-after-a-good-one", "#!lua flags=no-writes,bogus\nreturn 1",
        b"-ERR Unexpected flag in script shebang: bogus\r\n"),
    lua("uppercase-flag", "#!lua flags=NO-WRITES\nreturn 2", b"-ERR Unexpected flag in script shebang: NO-WRITES\r\n"),
    lua("trailing-comma", "#!lua flags=no-writes,\nreturn 2", b"-ERR Unexpected flag in script shebang: \r\n"),
    lua("leading-comma", "#!lua flags=,no-writes\nreturn 2", b"-ERR Unexpected flag in script shebang: \r\n"),
    lua("unknown-option", "#!lua foo=bar\nreturn 1", b"-ERR Unknown lua shebang option: foo=bar\r\n"),
    lua("unknown-bare-option", "#!lua foo\nreturn 1", b"-ERR Unknown lua shebang option: foo\r\n"),
    lua("name-option-is-for-functions", "#!lua name=x\nreturn 2", b"-ERR Unknown lua shebang option: name=x\r\n"),
    lua("other-engine", "#!python\nreturn 1", b"-ERR Unexpected engine in script shebang: #!python\r\n"),
    lua("no-engine", "#!\nreturn 1", b"-ERR Unexpected engine in script shebang: #!\r\n"),
    lua("uppercase-engine", "#!LUA\nreturn 2", b"-ERR Unexpected engine in script shebang: #!LUA\r\n"),
    lua("shebang-without-newline", "#!lua", b"-ERR Invalid script shebang\r\n"),
    lua("shebang-only", "#!lua\n", NIL),
    lua("extra-spaces", "#!lua  flags=no-writes \nreturn 2", b":2\r\n"),
    lua("crlf-after-shebang", "#!lua\r\nreturn 3", b":3\r\n"),
    lua("runtime-error-line-counts-the-shebang", "#!lua\nerror('x')", raises(b"ERR user_script:2: x", line=2)),
    lua("compile-error-line-counts-the-shebang", "#!lua\n\nreturn return",
        (COMPILE + "user_script:3: unexpected symbol near 'return'\r\n").encode()),
    case("eval-ro-read", "SET x v", ex(("EVAL_RO", "return redis.call('get', 'x')", "0"), bulk("v"))),
    case("eval-ro-write", ex(("EVAL_RO", "return redis.call('set', 'x', 'y')", "0"),
                             script_error("return redis.call('set', 'x', 'y')", READONLY)), ex("EXISTS x", b":0\r\n")),
    case("eval-ro-write-pcall", ex(("EVAL_RO", "return redis.pcall('set', 'x', 'y')", "0"), b"-%s\r\n" % READONLY)),
    case("eval-ro-publish", ex(("EVAL_RO", "return redis.call('publish', 'c', 'm')", "0"),
                               script_error("return redis.call('publish', 'c', 'm')", READONLY))),
    case("eval-ro-of-a-shebang-without-no-writes", ex(("EVAL_RO", "#!lua\nreturn 1", "0"), RO_WRITE_FLAG)),
    case("eval-ro-of-a-no-writes-script", ex(("EVAL_RO", NW + "return 1", "0"), b":1\r\n")),
    case("eval-ro-ping", ex(("EVAL_RO", "return redis.call('ping')", "0"), b"+PONG\r\n")),
    case("no-writes-script-by-evalsha-ro", ("SCRIPT", "LOAD", NW + "return 5"),
         ex(("EVALSHA_RO", sha(NW + "return 5"), "0"), b":5\r\n")),
    case("shebang-script-by-evalsha-ro", ("SCRIPT", "LOAD", "#!lua\nreturn 5"),
         ex(("EVALSHA_RO", sha("#!lua\nreturn 5"), "0"), RO_WRITE_FLAG)),
]

# EVAL and friends inside MULTI: queued; a missing numkeys aborts the transaction (arity
# is checked at queuing), every other error is that command's reply in EXEC.

MULTI_CASES = [
    case("eval-in-multi", "MULTI", ex(ev("return redis.call('incr', 'n')"), b"+QUEUED\r\n"),
         ev("return redis.call('incr', 'n')"), ex("EXEC", b"*2\r\n:1\r\n:2\r\n")),
    case("errors-of-scripts-in-exec", "MULTI", ev("return return"), ev("return 1", "-1"), ("EVALSHA", "f" * 40, "0"),
         ev("error('x')"), ev("return 7"),
         ex("EXEC", b"*5\r\n" + COMPILE.encode() + b"user_script:1: unexpected symbol near 'return'\r\n"
            + NEGATIVE_KEYS + NOSCRIPT + script_error("error('x')", b"ERR user_script:1: x") + b":7\r\n")),
    case("missing-numkeys-aborts", "MULTI", ev("return redis.call('incr', 'n')"),
         ex(("EVAL", "return 1"), b"-ERR wrong number of arguments for 'eval' command\r\n"),
         ex("EXEC", b"-EXECABORT Transaction discarded because of previous errors.\r\n"), ex("EXISTS n", b":0\r\n")),
    case("script-and-function-commands-in-multi", "MULTI", ("SCRIPT", "LOAD", R1), ("EVALSHA", R1_SHA, "0"),
         load(library("m", "redis.register_function('m', function() return 'm' end)")), "FCALL m 0", "FUNCTION LIST",
         "EXEC"),
    case("read-only-errors-in-exec", "MULTI", ("EVAL_RO", "return redis.call('incr', 'n')", "0"), "FCALL_RO nosuch 0",
         "EXEC"),
    case("script-flush-in-multi", ("SCRIPT", "LOAD", R1), "MULTI", "SCRIPT FLUSH", ("EVALSHA", R1_SHA, "0"),
         ex("EXEC", b"*2\r\n+OK\r\n" + NOSCRIPT)),
    case("script-write-aborts-a-watcher", "WATCH k", on_b(ev("return redis.call('set', 'k', 'x')")), "MULTI", "GET k",
         ex("EXEC", {2: b"*-1\r\n", 3: b"_\r\n"})),
    case("script-read-does-not-abort-a-watcher", "SET k v", "WATCH k", on_b(ev("return redis.call('get', 'k')")),
         "MULTI", "GET k", ex("EXEC", b"*1\r\n$1\r\nv\r\n")),
    case("script-failing-before-its-write-does-not-abort", "WATCH k", on_b(ev("error('x')")), "MULTI", "GET k",
         ex("EXEC", {2: b"*1\r\n$-1\r\n", 3: b"*1\r\n_\r\n"})),
]

# Two connections: the script cache is the server's, not a client's; a script's SELECT
# changes no client's database.

SHARED = [
    case("script-loaded-by-another-client", ("SCRIPT", "LOAD", R1), on_b(ex(("EVALSHA", R1_SHA, "0"), b":1\r\n"))),
    case("script-flushed-by-another-client", ev(R1), on_b("SCRIPT FLUSH"), ex(("EVALSHA", R1_SHA, "0"), NOSCRIPT)),
    case("select-in-a-script-leaves-other-clients-alone", "SELECT 3",
         on_b(ev("redis.call('select', 3) return redis.call('set', 'x', 'b')")), ex("GET x", bulk("b")),
         on_b(ex("GET x", NIL))),
]

CORPUS = (KEYS_AND_ARGV + GLOBALS + CALL_ERRORS + HELPERS + EVALSHA_AND_SCRIPT + COMPILE_ERRORS + SELECT_CASES
          + SHEBANG_AND_RO + MULTI_CASES + SHARED)


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("steps", CORPUS)
def test_case(redis_ref, subject, steps, resp):
    run_case(redis_ref, subject, steps, resp)


def test_corpus_size():
    """The scripting corpora (this file's, test_differential_scripting_conversions.py's and
    test_differential_functions.py's) hold 150 cases or more, each id once (for -k)."""
    import test_differential_functions
    import test_differential_scripting_conversions
    corpus = test_differential_scripting_conversions.CORPUS + CORPUS + test_differential_functions.CORPUS
    assert len(corpus) >= 150
    ids = [p.id for p in corpus]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
