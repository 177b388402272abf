"""Differential test of Redis 7.0 functions: FUNCTION LOAD / LIST / DELETE / FLUSH / STATS /
DUMP / RESTORE / KILL / HELP and FCALL / FCALL_RO, Lode against a reference redis-server 7.0,
raw reply bytes compared, RESP2 and RESP3: library code and metadata, registration errors,
what loading code and functions may use, flags, the functions seen from two connections.
How a case runs, and what is compared as a multiset rather than byte for byte (FUNCTION
LIST): scripting_diff.py. FUNCTION STATS is compared as it is: its only volatile part
(running_script's duration) is nil when no function runs, and the busy test
(test_scripting_busy.py) covers a running one. FUNCTION DUMP is compared byte for byte for
one library (the payload of several libraries is in dict order).

Not here: EVAL, EVALSHA and SCRIPT (test_differential_scripting.py), busy functions and
FUNCTION KILL of one (test_scripting_busy.py), and a library registering both 'f' and 'F',
which crashes Redis 7.0.15 (function names clash case-insensitively; the next FUNCTION LOAD
then fails an assertion), so cannot be compared (a server should rather answer an error).

Run (from the repository root):
  pytest Tests/python/test_differential_functions.py                    # Lode vs redis
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential_functions.py  # redis vs redis
"""
import pytest

from difflib_redis import subject  # noqa: F401  (a fixture)
from scripting_diff import (OK, EMPTY, TOO_MANY_KEYS, NEGATIVE_KEYS, READONLY, RO_WRITE_FLAG, NOT_ALLOWED, bulk, ex,
                            on_b, normalized, case, library, load, Dumped, DUMPED, library_list, R1, R1_SHA, run_case)

LIB_NAME_RULE = (b"Library names can only contain letters, numbers, or underscores(_) and must be at least one "
                 b"character long")


def function_error(name, message, line):
    """The reply to an error raised in function `name` on `line` of its library."""
    return b"-%s script: %s, on @user_function:%d.\r\n" % (message, name.encode(), line)


# ----------------------------------------------------------------------------
# FUNCTION LOAD: library names, metadata, registration errors (most carry the prefix
# "Error registering functions: "), what the loading code may use (only the redis table,
# with register_function, log, the constants and versions).

LIB = library("mylib", "redis.register_function('myfunc', function(keys, args) return {keys[1], args[1]} end)")


def reg(body):
    """FUNCTION LOAD of library `rt` whose second line is `body`."""
    return load(library("rt", body))


def registering(message):
    return b"-ERR Error registering functions: %s\r\n" % message


def no_global(name):
    return registering(b"ERR user_function:2: Script attempted to access nonexistent global variable '%s'"
                       % name.encode())


FN = "function() return 1 end"

FUNCTION_LOAD = [
    case("load-and-call", ex(load(LIB), bulk("mylib")), ex("FCALL myfunc 1 k a", b"*2\r\n$1\r\nk\r\n$1\r\na\r\n")),
    case("load-twice", load(LIB), ex(load(LIB), b"-ERR Library 'mylib' already exists\r\n")),
    case("load-replace", load(LIB), ex(load(LIB, "REPLACE"), bulk("mylib")), ex(load(LIB, "replace"), bulk("mylib"))),
    case("load-replace-changes-the-code", load(library("v", "redis.register_function('v', function() return 1 end)")),
         load(library("v", "redis.register_function('v', function() return 2 end)"), "REPLACE"),
         ex("FCALL v 0", b":2\r\n")),
    case("failed-replace-keeps-the-old-library", load(LIB), load(library("mylib", "error('x')"), "REPLACE"),
         ex("FCALL myfunc 1 k a", b"*2\r\n$1\r\nk\r\n$1\r\na\r\n")),
    case("replace-can-drop-functions",
         load(library("two", "redis.register_function('f1', function() return 1 end)",
                      "redis.register_function('f2', function() return 2 end)")),
         load(library("two", "redis.register_function('f1', function() return 1 end)"), "REPLACE"),
         ex("FCALL f2 0", b"-ERR Function not found\r\n")),
    case("load-arity", ex("FUNCTION LOAD", b"-ERR wrong number of arguments for 'function|load' command\r\n"),
         ex("FUNCTION LOAD REPLACE", b"-ERR Missing library metadata\r\n"),
         ex(("FUNCTION", "LOAD", "x", LIB), b"-ERR Unknown option given: x\r\n")),
    # Function names are case-insensitive (Redis's function dict ignores case).
    case("function-names-ignore-case", load(LIB), ex("FCALL MYFUNC 1 k a", b"*2\r\n$1\r\nk\r\n$1\r\na\r\n"),
         ex(load(library("other", "redis.register_function('MyFunc', function() end)")),
            b"-ERR Function MyFunc already exists\r\n")),
    case("library-names-keep-case", load(LIB),
         ex(load(library("MYLIB", "redis.register_function('g', function() end)")),
                                                  bulk("MYLIB"))),
    case("function-in-two-libraries", load(LIB),
         ex(load(library("mylib2", "redis.register_function('myfunc', function() return 1 end)")),
            b"-ERR Function myfunc already exists\r\n")),
    case("function-twice-in-a-library",
         ex(reg("redis.register_function('f3', function() end) redis.register_function('f3', function() end)"),
            registering(b"ERR Function already exists in the library"))),
    case("library-name-dash", ex(load(library("bad-name", f"redis.register_function('f', {FN})")),
                                 b"-ERR " + LIB_NAME_RULE + b"\r\n")),
    case("library-name-dot", ex(load(library("bad.name", f"redis.register_function('f', {FN})")),
                                b"-ERR " + LIB_NAME_RULE + b"\r\n")),
    case("library-name-empty",
         ex(load(f"#!lua name=\nredis.register_function('f', {FN})"), b"-ERR " + LIB_NAME_RULE + b"\r\n")),
    case("library-name-missing", ex(load(f"#!lua\nredis.register_function('f', {FN})"),
                                    b"-ERR Library name was not given\r\n")),
    case("library-name-underscore-digits", ex(load(library("ok_name_9", f"redis.register_function('ok_f_9', {FN})")),
                                              bulk("ok_name_9"))),
    case("no-shebang", ex(load(f"redis.register_function('f', {FN})"), b"-ERR Missing library metadata\r\n")),
    case("load-other-engine", ex(load("#!python name=x\n"), b"-ERR Engine 'python' not found\r\n")),
    case("unknown-metadata", ex(load("#!lua name=x foo=bar\n"), b"-ERR Invalid metadata value given: foo=bar\r\n"),
         ex(load("#!lua name=x flags=no-writes\n"), b"-ERR Invalid metadata value given: flags=no-writes\r\n")),
    case("name-twice", ex(load(f"#!lua name=x name=y\nredis.register_function('fy', {FN})"),
                          b"-ERR Invalid metadata value, name argument was given multiple times\r\n")),
    case("function-name-rule", ex(reg(f"redis.register_function('f-x', {FN})"), registering(b"ERR " + LIB_NAME_RULE)),
         ex(reg(f"redis.register_function{{function_name='bad name', callback={FN}}}"),
            registering(b"ERR " + LIB_NAME_RULE)),
         ex(reg(f"redis.register_function{{function_name='', callback={FN}}}"), registering(b"ERR " + LIB_NAME_RULE))),
    case("number-as-function-name", ex(reg(f"redis.register_function(1, {FN})"), bulk("rt")),
         ex("FCALL 1 0", b":1\r\n")),
    case("no-functions", ex(load("#!lua name=empty\n"), b"-ERR No functions registered\r\n"),
         ex(load("#!lua name=empty\nreturn 1"), b"-ERR No functions registered\r\n")),
    case("load-compile-error", ex(reg("redis.register_function('f', function() return return end)"),
                             b"-ERR Error compiling function: user_function:2: unexpected symbol near 'return'\r\n")),
    case("load-timeout", ex(reg(f"redis.register_function('f', {FN}) while true do end"),
                            registering(b"ERR FUNCTION LOAD timeout")), ex("FUNCTION LIST", EMPTY)),
    case("register-no-arguments", ex(reg("redis.register_function()"),
                                     registering(b"ERR wrong number of arguments to redis.register_function"))),
    case("register-three-arguments", ex(reg("redis.register_function('f', function() end, 3)"),
                                        registering(b"ERR wrong number of arguments to redis.register_function"))),
    case("register-name-only", ex(reg("redis.register_function('f')"), registering(
        b"ERR calling redis.register_function with a single argument is only applicable to Lua table (representing "
        b"named arguments)."))),
    case("register-callback-not-a-function", ex(reg("redis.register_function('f', 1)"),
                                                registering(b"ERR second argument to redis.register_function must be a "
                                                            b"function"))),
    case("register-empty-table", ex(reg("redis.register_function{}"),
                                    registering(b"ERR redis.register_function must get a function name argument"))),
    case("register-without-callback", ex(reg("redis.register_function{function_name='f'}"),
                                         registering(b"ERR redis.register_function must get a callback argument"))),
    case("register-without-name", ex(reg(f"redis.register_function{{callback={FN}}}"),
                                     registering(b"ERR redis.register_function must get a function name argument"))),
    case("register-positional-table", ex(reg(f"redis.register_function{{'f', {FN}}}"),
                                         registering(b"ERR unknown argument given to redis.register_function"))),
    case("register-unknown-argument", ex(reg(f"redis.register_function{{function_name='f', callback={FN}, bogus=3}}"),
                                         registering(b"ERR unknown argument given to redis.register_function"))),
    case("register-callback-number", ex(reg("redis.register_function{function_name='f', callback=3}"),
                                        registering(b"ERR callback argument given to redis.register_function must be "
                                                    b"a function"))),
    case("register-name-table", ex(reg(f"redis.register_function{{function_name={{}}, callback={FN}}}"),
                                   registering(b"ERR function_name argument given to redis.register_function must be "
                                               b"a string"))),
    case("register-name-number", ex(reg(f"redis.register_function{{function_name=3, callback={FN}}}"), bulk("rt")),
         ex("FCALL 3 0", b":1\r\n")),
    case("register-description-table",
         ex(reg(f"redis.register_function{{function_name='f', callback={FN}, description={{}}}}"),
            registering(b"ERR description argument given to redis.register_function must be a string"))),
    case("register-description-number",
         ex(reg(f"redis.register_function{{function_name='f', callback={FN}, description=3}}"), bulk("rt")),
         "FUNCTION LIST"),
    case("register-unknown-flag",
         ex(reg(f"redis.register_function{{function_name='f', callback={FN}, flags={{'bogus'}}}}"),
                                     registering(b"ERR unknown flag given"))),
    case("register-flag-number", ex(reg(f"redis.register_function{{function_name='f', callback={FN}, flags={{1}}}}"),
                                    registering(b"ERR unknown flag given"))),
    case("register-flags-string",
         ex(reg(f"redis.register_function{{function_name='f', callback={FN}, flags='no-writes'}}"),
                                     registering(b"ERR flags argument to redis.register_function must be a table "
                                                 b"representing function flags"))),
    case("set-global-while-loading", ex(reg(f"redis.register_function('f', {FN}) x = 1"),
                                        registering(b"ERR user_function:2: Attempt to modify a readonly table"))),
    *[case(f"no-{name}-while-loading", ex(reg(f"local x = {name} redis.register_function('f', {FN})"), no_global(name)))
      for name in ("error", "pcall", "string", "table", "math", "type", "pairs", "tostring", "KEYS", "_G")],
    *[case(f"no-redis-{name}-while-loading", ex(reg(f"redis.register_function('f', {FN}) return redis.{name}('x')"),
                                                no_global(name)))
      for name in ("call", "pcall", "setresp", "sha1hex", "error_reply")],
    case("log-while-loading", ex(reg(f"redis.register_function('f', {FN}) redis.log(redis.LOG_NOTICE, 'loading')"),
                                 bulk("rt"))),
    case("version-while-loading", ex(reg("local v = redis.REDIS_VERSION redis.register_function('f', function() "
                                         "return v end)"), bulk("rt")), ex("FCALL f 0", bulk("7.0.15"))),
]

# FUNCTION LIST / DELETE / FLUSH / STATS / DUMP / RESTORE / KILL / HELP. LIBRARYNAME is a
# glob pattern matched without regard to case (library names themselves keep it). Flags are
# listed in Redis's own order (no-writes, allow-oom, allow-stale, no-cluster,
# allow-cross-slot-keys) whatever order they were given in, each once.

LIBS = library(
    "lib",
    "local function w(keys, args) return redis.call('set', keys[1], args[1]) end",
    "local function r(keys) return redis.call('get', keys[1]) end",
    "local function boom() error('kaboom') end",
    "local function bad() return redis.call('incr', 'str') end",
    "redis.register_function('w', w)",
    "redis.register_function{function_name='wro', callback=w, flags={'no-writes'}}",
    "redis.register_function{function_name='r', callback=r, flags={'no-writes'}, description='reads a key'}",
    "redis.register_function('rplain', r)",
    "redis.register_function('boom', boom)",
    "redis.register_function('bad', bad)",
    "redis.register_function{function_name='oom', callback=w, flags={'allow-oom', 'allow-stale'}}",
    "redis.register_function{function_name='flags', callback=function() return 1 end, "
    "flags={'allow-cross-slot-keys', 'no-writes', 'no-cluster', 'allow-stale', 'allow-oom', 'no-writes'}}",
)
ONE = library("one", "redis.register_function{function_name='f1', callback=function() return 'one' end, "
                     "flags={'no-writes'}, description='the only one'}")
SECOND = library("second", "redis.register_function('s1', function() return 's' end)")


def flagged(*flags):
    return reg("redis.register_function{function_name='f', callback=function() return 1 end, flags={%s}}"
               % ", ".join(flags))


FUNCTION_ADMIN = [
    case("list-empty", ex("FUNCTION LIST", EMPTY), ex("FUNCTION LIST WITHCODE", EMPTY)),
    case("list-one", load(ONE), "FUNCTION LIST", "FUNCTION LIST WITHCODE", "FUNCTION LIST withcode"),
    case("list-many", load(LIBS), load(SECOND), normalized("FUNCTION LIST", library_list),
         normalized("FUNCTION LIST WITHCODE", library_list)),
    case("list-library-pattern", load(LIBS), load(ONE), normalized("FUNCTION LIST LIBRARYNAME l*", library_list),
         "FUNCTION LIST LIBRARYNAME one", "FUNCTION LIST LIBRARYNAME o?e WITHCODE",
         "FUNCTION LIST WITHCODE LIBRARYNAME one", ex("FUNCTION LIST LIBRARYNAME nomatch", EMPTY),
         "FUNCTION LIST LIBRARYNAME ONE", ex("FUNCTION LIST LIBRARYNAME on", EMPTY)),
    case("list-errors", ex("FUNCTION LIST LIBRARYNAME", b"-ERR library name argument was not given\r\n"),
         ex("FUNCTION LIST WITHCODE WITHCODE", b"-ERR Unknown argument WITHCODE\r\n"),
         ex("FUNCTION LIST LIBRARYNAME a LIBRARYNAME b", b"-ERR Unknown argument LIBRARYNAME\r\n"),
         ex("FUNCTION LIST bogus", b"-ERR Unknown argument bogus\r\n")),
    case("flags-in-redis-order", load(LIBS), normalized("FUNCTION LIST", library_list)),
    case("flags-listed-once", ex(flagged("'no-writes'", "'no-writes'"), bulk("rt")), "FUNCTION LIST"),
    case("flags-two", flagged("'allow-oom'", "'no-cluster'"), "FUNCTION LIST"),
    case("flags-empty", flagged(), "FUNCTION LIST"),
    case("flags-only-the-array-part", flagged("[1]='no-writes'", "[3]='allow-oom'"), "FUNCTION LIST"),
    case("flags-hash-part-ignored", flagged("x='no-writes'"), "FUNCTION LIST"),
    case("delete", load(ONE), load(SECOND), ex("FUNCTION DELETE one", OK),
         ex("FCALL f1 0", b"-ERR Function not found\r\n"),
         ex("FCALL s1 0", bulk("s")), "FUNCTION LIST"),
    case("delete-errors", load(ONE), ex("FUNCTION DELETE nosuch", b"-ERR Library not found\r\n"),
         ex("FUNCTION DELETE ONE", b"-ERR Library not found\r\n"),
         ex("FUNCTION DELETE", b"-ERR wrong number of arguments for 'function|delete' command\r\n"),
         ex("FUNCTION DELETE a b", b"-ERR wrong number of arguments for 'function|delete' command\r\n")),
    case("delete-then-load-again", load(ONE), "FUNCTION DELETE one", ex(load(ONE), bulk("one")),
         ex("FCALL f1 0", bulk("one"))),
    case("flush", load(ONE), load(SECOND), ex("FUNCTION FLUSH", OK), ex("FUNCTION LIST", EMPTY),
         ex("FCALL s1 0", b"-ERR Function not found\r\n"), ex("FUNCTION FLUSH ASYNC", OK),
         ex("FUNCTION FLUSH SYNC", OK),
         ex("FUNCTION FLUSH sync", OK)),
    case("flush-errors", ex("FUNCTION FLUSH x", b"-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n"),
         ex("FUNCTION FLUSH ASYNC SYNC",
            b"-ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.\r\n")),
    case("flush-keeps-scripts", ("SCRIPT", "LOAD", R1), load(ONE), "FUNCTION FLUSH",
         ex(("EVALSHA", R1_SHA, "0"), b":1\r\n")),
    case("stats", "FUNCTION STATS", load(LIBS), load(ONE), "FUNCTION STATS", "FUNCTION DELETE lib", "FUNCTION STATS",
         ex("FUNCTION STATS x", b"-ERR wrong number of arguments for 'function|stats' command\r\n")),
    case("kill-not-busy", ex("FUNCTION KILL", b"-NOTBUSY No scripts in execution right now.\r\n"),
         ex("FUNCTION KILL x", b"-ERR wrong number of arguments for 'function|kill' command\r\n")),
    case("function-errors", ex("FUNCTION NOSUCH", b"-ERR unknown subcommand 'NOSUCH'. Try FUNCTION HELP.\r\n"),
         ex("FUNCTION", b"-ERR wrong number of arguments for 'function' command\r\n")),
    case("function-help", "FUNCTION HELP"),
    case("dump-empty", "FUNCTION DUMP",
         ex("FUNCTION DUMP x", b"-ERR wrong number of arguments for 'function|dump' command\r\n")),
    case("dump-and-restore", load(ONE), "FUNCTION DUMP", "FUNCTION FLUSH", ex(("FUNCTION", "RESTORE", DUMPED), OK),
         ex("FCALL f1 0", bulk("one")), "FUNCTION LIST WITHCODE"),
    case("restore-collisions", load(ONE), "FUNCTION DUMP",
         ex(("FUNCTION", "RESTORE", DUMPED), b"-ERR Library one already exists\r\n"),
         ex(("FUNCTION", "RESTORE", DUMPED, "APPEND"), b"-ERR Library one already exists\r\n"),
         ex(("FUNCTION", "RESTORE", DUMPED, "REPLACE"), OK), ex(("FUNCTION", "RESTORE", DUMPED, "replace"), OK)),
    case("restore-replace-restores-the-old-code", load(ONE), "FUNCTION DUMP",
         load(library("one", "redis.register_function('f1', function() return 'new' end)"), "REPLACE"),
         ex("FCALL f1 0", bulk("new")), ("FUNCTION", "RESTORE", DUMPED, "REPLACE"), ex("FCALL f1 0", bulk("one"))),
    case("restore-flush", load(ONE), "FUNCTION DUMP", "FUNCTION DELETE one", load(SECOND),
         ex(("FUNCTION", "RESTORE", DUMPED, "FLUSH"), OK), ex("FCALL s1 0", b"-ERR Function not found\r\n"),
         ex("FCALL f1 0", bulk("one"))),
    case("restore-append", load(ONE), "FUNCTION DUMP", "FUNCTION FLUSH", load(SECOND), ("FUNCTION", "RESTORE", DUMPED),
         normalized("FUNCTION LIST", library_list)),
    case("restore-function-collision", load(ONE), "FUNCTION DUMP", "FUNCTION FLUSH",
         load(library("other", "redis.register_function('f1', function() return 'other' end)")),
         ex(("FUNCTION", "RESTORE", DUMPED), b"-ERR Function f1 already exists\r\n"),
         ex(("FUNCTION", "RESTORE", DUMPED, "REPLACE"), b"-ERR Function f1 already exists\r\n"),
         ex("FCALL f1 0", bulk("other"))),
    case("restore-dump-of-nothing", "FUNCTION DUMP", load(ONE), ex(("FUNCTION", "RESTORE", DUMPED), OK),
         ex(("FUNCTION", "RESTORE", DUMPED, "FLUSH"), OK), ex("FUNCTION LIST", EMPTY)),
    case("restore-bad-payloads", load(ONE), "FUNCTION DUMP",
         ex(("FUNCTION", "RESTORE", Dumped(lambda p: p[:-1])), b"-ERR DUMP payload version or checksum are wrong\r\n"),
         ex(("FUNCTION", "RESTORE", Dumped(lambda p: p[:-1] + bytes([p[-1] ^ 1]))),
            b"-ERR DUMP payload version or checksum are wrong\r\n"),
         ex(("FUNCTION", "RESTORE", ""), b"-ERR DUMP payload version or checksum are wrong\r\n"),
         ex("FUNCTION RESTORE garbage", b"-ERR DUMP payload version or checksum are wrong\r\n"),
         ex("FUNCTION RESTORE garbage BOGUS",
            b"-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.\r\n"),
         ex("FUNCTION RESTORE", b"-ERR wrong number of arguments for 'function|restore' command\r\n"),
         ex("FCALL f1 0", bulk("one"))),
]

# FCALL / FCALL_RO: keys and arguments, flags, errors (named by the function and the line
# of the library; a numkeys that is not a number is "Bad number of keys provided", not
# EVAL's error, and an unknown function is reported before a bad numkeys), what a function
# sees at run time. A library's locals persist between calls until the library is replaced.

FCALL_CASES = [
    case("fcall-keys-and-args", load(library("ka", "redis.register_function('ka', function(k, a) "
                                                   "return {#k, #a, k[1], a[1], a[2]} end)")),
         ex("FCALL ka 1 x y z", b"*5\r\n:1\r\n:2\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"),
         ex("FCALL ka 0", b"*2\r\n:0\r\n:0\r\n")),
    case("fcall-write-and-read", load(LIBS), ex("FCALL w 1 k v", OK), ex("FCALL r 1 k", bulk("v")),
         ex("FCALL_RO r 1 k", bulk("v")), ex("GET k", bulk("v"))),
    case("fcall-ro-of-a-function-without-no-writes", load(LIBS), ex("FCALL_RO rplain 1 k", RO_WRITE_FLAG),
         ex("FCALL_RO w 1 k v", RO_WRITE_FLAG), ex("EXISTS k", b":0\r\n")),
    case("no-writes-function-writing", load(LIBS), ex("FCALL wro 1 k v", function_error("wro", READONLY, 2)),
         ex("FCALL_RO wro 1 k v", function_error("wro", READONLY, 2))),
    case("function-runtime-error", load(LIBS),
         ex("FCALL boom 0", function_error("boom", b"ERR user_function:4: kaboom", 4))),
    case("function-call-error", load(LIBS), "SET str abc",
         ex("FCALL bad 0", function_error("bad", b"ERR value is not an integer or out of range", 5))),
    case("allow-oom-and-stale-function-writes", load(LIBS), ex("FCALL oom 1 k z", OK), ex("FCALL flags 0", b":1\r\n")),
    case("fcall-errors", load(LIBS), ex("FCALL nosuch 0", b"-ERR Function not found\r\n"),
         ex("FCALL nosuch -1", b"-ERR Function not found\r\n"), ex("FCALL_RO nosuch 0", b"-ERR Function not found\r\n"),
         ex("FCALL r 2 k", TOO_MANY_KEYS), ex("FCALL r -1", NEGATIVE_KEYS),
         ex("FCALL r x", b"-ERR Bad number of keys provided\r\n"),
         ex("FCALL_RO r 1.5", b"-ERR Bad number of keys provided\r\n"),
         ex("FCALL r", b"-ERR wrong number of arguments for 'fcall' command\r\n"),
         ex("FCALL_RO r", b"-ERR wrong number of arguments for 'fcall_ro' command\r\n")),
    case("function-locals-persist", load(library("cnt", "local n = 0",
                                                 "redis.register_function('cnt', function() n = n + 1 return n end)")),
         ex("FCALL cnt 0", b":1\r\n"), ex("FCALL cnt 0", b":2\r\n"),
         load(library("cnt", "local n = 0", "redis.register_function('cnt', function() n = n + 1 return n end)"),
              "REPLACE"), ex("FCALL cnt 0", b":1\r\n")),
    case("no-keys-global-in-functions", load(library("g", "redis.register_function('g', function() return KEYS end)")),
         ex("FCALL g 0", function_error("g", b"ERR user_function:2: Script attempted to access nonexistent global "
                                             b"variable 'KEYS'", 2))),
    case("no-new-globals-in-functions", load(library("g", "redis.register_function('g', function() x = 1 end)")),
         ex("FCALL g 0", function_error("g", b"ERR user_function:2: Attempt to modify a readonly table", 2))),
    case("function-calling-fcall", load(library("g", "redis.register_function('g', function() "
                                                "return redis.call('fcall', 'g', 0) end)")),
         ex("FCALL g 0", function_error("g", NOT_ALLOWED, 2))),
    case("function-global-names", load(library("g", "redis.register_function('g', function() local ks = {} "
                                                    "for k in pairs(_G) do ks[#ks + 1] = k end table.sort(ks) "
                                                    "return table.concat(ks, ',') end)")),
         ex("FCALL g 0",
            bulk("_G,_VERSION,assert,bit,cjson,cmsgpack,collectgarbage,coroutine,error,gcinfo,getmetatable,"
                              "ipairs,load,loadstring,math,next,pairs,pcall,rawequal,rawget,rawset,redis,select,"
                              "setmetatable,string,struct,table,tonumber,tostring,type,unpack,xpcall"))),
    case("function-redis-names", load(library("g", "redis.register_function('g', function() local ks = {} "
                                                   "for k in pairs(redis) do ks[#ks + 1] = k end table.sort(ks) "
                                                   "return table.concat(ks, ',') end)")),
         ex("FCALL g 0", bulk("LOG_DEBUG,LOG_NOTICE,LOG_VERBOSE,LOG_WARNING,REDIS_VERSION,REDIS_VERSION_NUM,REPL_ALL,"
                              "REPL_AOF,REPL_NONE,REPL_REPLICA,REPL_SLAVE,acl_check_cmd,call,error_reply,log,pcall,"
                              "set_repl,setresp,sha1hex,status_reply"))),
    case("function-resp3", load(library("g", "redis.register_function('g', function() redis.setresp(3) "
                                             "redis.call('hset', 'h', 'f', 'v') "
                                             "return redis.call('hgetall', 'h') end)")),
         ex("FCALL g 0", {2: b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n", 3: b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"})),
    case("function-returns-resp3-types", load(library("g", "redis.register_function('g', function() "
                                                           "return {{double=1.5}, {set={a=true}}, {ok='fine'}} end)")),
         ex("FCALL g 0", {3: b"*3\r\n,1.5\r\n~1\r\n$1\r\na\r\n+fine\r\n"})),
    case("function-error-reply", load(library("g", "redis.register_function('g', function() "
                                                   "return redis.error_reply('MY oops') end)")),
         ex("FCALL g 0", b"-MY oops\r\n")),
    case("fcall-in-multi", load(LIBS), "MULTI", "FCALL w 1 k v", "FCALL_RO r 1 k", "FCALL_RO w 1 k v", "FCALL nosuch 0",
         "EXEC"),
]

# Two connections: the functions are the server's, not a client's.

SHARED = [
    case("function-loaded-by-another-client", load(ONE), on_b(ex("FCALL f1 0", bulk("one"))),
         on_b("FUNCTION DELETE one"), ex("FCALL f1 0", b"-ERR Function not found\r\n")),
]

CORPUS = FUNCTION_LOAD + FUNCTION_ADMIN + FCALL_CASES + SHARED


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("steps", CORPUS)
def test_case(redis_ref, subject, steps, resp):
    run_case(redis_ref, subject, steps, resp)


def test_dump_payloads_cross_between_the_servers(redis_ref, subject):
    """A FUNCTION DUMP of one server restores into the other, both ways: the payload
    format (RDB opcode, strings, version, CRC-64) is Redis's. (The libraries' order in a
    dump is Redis's hash order, so the dumps themselves are not compared.)"""
    long_body = "\n".join(f"redis.register_function('f{i}', function() return {i} end)" for i in range(40))
    libraries = ["#!lua name=small\nredis.register_function('hello', function() return 'hi' end)",
                 "#!lua name=big\n" + long_body]     # long enough for Redis to LZF-compress it
    with redis_ref.client() as ref, subject.client() as sub:
        for c in (ref, sub):
            c.call("FUNCTION", "FLUSH")
            for code in libraries:
                c.call("FUNCTION", "LOAD", code)
        ref_dump, sub_dump = ref.call("FUNCTION", "DUMP"), sub.call("FUNCTION", "DUMP")
        for target, payload in ((sub, ref_dump), (ref, sub_dump)):
            assert target.call("FUNCTION", "RESTORE", payload, "FLUSH") == b"OK"
            assert target.call("FCALL", "hello", "0") == b"hi"
            assert target.call("FCALL", "f39", "0") == 39
