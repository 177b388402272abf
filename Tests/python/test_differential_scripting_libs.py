"""Differential test of the Lua libraries Redis 7.0 gives EVAL scripts, `cmsgpack` and
`struct` (Lode: Sources/CLuaLibs): Lode against a reference redis-server 7.0.

Every case is a Lua script sent with `EVAL <script> 0` to both servers; the raw reply bytes
must be identical (error replies included: their text carries Redis's `user_script:N:` and
`script: <sha>` parts, so the subject must run scripts under the same chunk name). A Lua
number in a reply is truncated to an integer, so the scripts return text instead: `hex(s)`
for packed bytes and `dump(v)` for decoded values (type, every float digit, sorted table
keys). `try(f, ...)` returns "error: <message>" for a call that raises.

Some cases also carry the reply redis must give (`expect`): they document the less obvious
behaviours and check that the test tests what it says.

Maps are packed in Lua's table order, which Lode's Lua (Debian's 5.1) shares with Redis's
only for string keys under 32 bytes: Redis hashes every byte of a string, stock Lua 5.1
samples long ones. So the multi-key maps here have short keys. Tables as keys are ordered
by address: only single-key maps have them, and `dump` sorts its output.

Run (from the repository root):
  pytest Tests/python/test_differential_scripting_libs.py                   # Lode vs redis
  DIFF_SELF_CHECK=1 pytest Tests/python/test_differential_scripting_libs.py # redis vs redis
"""
import pytest

import harness
from diff_twin import parse, show_raw
from difflib_redis import SUBJECT
from difflib_redis import subject  # noqa: F401  (a fixture)

# Helpers every script starts with: locals only (Redis refuses new globals).
PRELUDE = r"""
local function hex(s)
  return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end))
end
local function unhex(h)
  return (string.gsub(h, '%x%x', function(x) return string.char(tonumber(x, 16)) end))
end
local function dump(v)
  local t = type(v)
  if t == 'number' then
    if v ~= v then return 'nan' end
    return string.format('%.17g', v)
  elseif t == 'string' then
    if #v > 64 then return 'str#' .. #v .. ':' .. hex(string.sub(v, 1, 4)) .. '..' .. hex(string.sub(v, -4)) end
    if string.find(v, '^[ -~]*$') then return '"' .. v .. '"' end
    return 'x:' .. hex(v)
  elseif t == 'table' then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = '[' .. dump(k) .. ']=' .. dump(x) end
    table.sort(parts) -- by key, then (two table keys can dump alike) by value
    return '{' .. table.concat(parts, ',') .. '}'
  end
  return tostring(v)
end
local function dumpall(...)
  local out = {}
  for i = 1, select('#', ...) do out[i] = dump((select(i, ...))) end
  return table.concat(out, ' ')
end
local function results(ok, ...)
  if not ok then return 'error: ' .. tostring((...)) end
  return dumpall(...)
end
local function try(f, ...)
  return results(pcall(f, ...))
end
local function attempt(f)
  local ok, v = pcall(f)
  if ok then return v end
  return 'error: ' .. tostring(v)
end
local function short(s)
  if #s <= 64 then return hex(s) end
  return hex(string.sub(s, 1, 8)) .. '..' .. hex(string.sub(s, -4)) .. '#' .. #s
end
"""


# Where the body of every script starts, as error messages give it ("{at}" in an `expect`).
AT = f"user_script:{PRELUDE.count(chr(10)) + 1}:"


def case(name, body, expect=None):
    """A script (after the prelude). `expect`: redis' reply, as the returned string or, for
    an error reply, the start of its text; "{at}" stands for the script's position."""
    return pytest.param(body, expect, id=name)


def packhex(name, args, expect=None):
    """The bytes of cmsgpack.pack(<args>)."""
    return case("pack-" + name, f"return short(cmsgpack.pack({args}))", expect)


def roundtrip(name, args, expect=None):
    """What cmsgpack.unpack gives back for cmsgpack.pack(<args>)."""
    return case("roundtrip-" + name, f"return dumpall(cmsgpack.unpack(cmsgpack.pack({args})))", expect)


def unpackhex(name, data, fn="unpack", extra="", expect=None):
    """cmsgpack.<fn>(bytes of the hex `data`<extra>), called from Lua (errors carry the
    function's name and the script's line)."""
    return case(f"{fn}-{name}", f"return try(function() return cmsgpack.{fn}(unhex('{data}'){extra}) end)", expect)


def spack(name, fmt, args, expect=None):
    """The bytes of struct.pack('<fmt>', <args>), or its error."""
    call = f"struct.pack('{fmt}'{', ' + args if args else ''})"
    return case("struct-pack-" + name, f"return attempt(function() return short({call}) end)", expect)


def sunpack(name, fmt, data, extra="", expect=None):
    """struct.unpack('<fmt>', bytes of the hex `data`<extra>): the values and next position."""
    return case("struct-unpack-" + name,
                f"return try(function() return struct.unpack('{fmt}', unhex('{data}'){extra}) end)", expect)


def ssize(name, fmt, expect=None):
    return case("struct-size-" + name, f"return try(function() return struct.size('{fmt}') end)", expect)


# ----------------------------------------------------------------------------
# cmsgpack.pack: integers (the smallest encoding), floats (32 bits when exact), strings
# (fixstr / str 8 / 16 / 32), tables (array when the keys are exactly 1..N), nesting.

PACK_INTEGERS = [
    packhex("zero", "0", "00"),
    packhex("fixint-max", "127", "7f"),
    packhex("uint8", "128", "cc80"),
    packhex("uint8-max", "255", "ccff"),
    packhex("uint16", "256", "cd0100"),
    packhex("uint16-max", "65535", "cdffff"),
    packhex("uint32", "65536", "ce00010000"),
    packhex("uint32-2^31", "2^31", "ce80000000"),
    packhex("uint32-max", "2^32 - 1", "ceffffffff"),
    packhex("uint64-2^32", "2^32", "cf0000000100000000"),
    packhex("uint64-2^53", "2^53", "cf0020000000000000"),
    packhex("2^53+2", "2^53 + 2"),
    # 2^63 does not fit an int64: packed as a float, exact in 32 bits.
    packhex("2^63-is-a-float", "2^63", "ca5f000000"),
    packhex("2^64-is-a-float", "2^64", "ca5f800000"),
    packhex("negative-fixint", "-1", "ff"),
    packhex("negative-fixint-min", "-32", "e0"),
    packhex("int8", "-33", "d0df"),
    packhex("int8-min", "-128", "d080"),
    packhex("int16", "-129", "d1ff7f"),
    packhex("int16-min", "-32768", "d18000"),
    packhex("int32", "-32769", "d2ffff7fff"),
    packhex("int32-min", "-2^31", "d280000000"),
    packhex("int64", "-2^31 - 1", "d3ffffffff7fffffff"),
    packhex("int64-min", "-2^63", "d38000000000000000"),
    packhex("below-int64-min", "-2^63 - 2^11"),
    packhex("negative-zero-is-an-integer", "-0.0", "00"),
    packhex("integral-float-literal", "3.0", "03"),
]

PACK_FLOATS = [
    packhex("half", "0.5", "ca3f000000"),
    packhex("minus-one-and-a-half", "-1.5", "cabfc00000"),
    packhex("tenth-needs-64-bits", "0.1", "cb3fb999999999999a"),
    packhex("1e300", "1e300", "cb7e37e43c8800759c"),
    packhex("-1e300", "-1e300"),
    packhex("float-max", "3.4028234663852886e38", "ca7f7fffff"),
    packhex("float-denormal-min", "2^-149", "ca00000001"),
    packhex("double-denormal", "2^-1074", "cb0000000000000001"),
    packhex("pi", "math.pi"),
    packhex("inf", "1/0", "ca7f800000"),
    packhex("-inf", "-1/0", "caff800000"),
    # NaN is never equal to its float: always 64 bits (x86's 0/0 has the sign bit set).
    packhex("nan", "0/0", "cbfff8000000000000"),
    packhex("-nan", "-(0/0)"),
    packhex("nan-from-string", "tonumber('nan')"),
    packhex("huge-integral-float", "1e20"),
]

S = "string.rep('x', {})"
PACK_STRINGS = [
    packhex("empty-string", "''", "a0"),
    packhex("fixstr", "'abc'", "a3616263"),
    packhex("fixstr-31", S.format(31)),
    packhex("str8-32", S.format(32), "d920" + "78" * 32),
    packhex("str8-255", S.format(255), "d9ff787878787878..78787878#257"),
    packhex("str16-256", S.format(256), "da01007878787878..78787878#259"),
    packhex("str16-65535", S.format(65535), "daffff7878787878..78787878#65538"),
    packhex("str32-65536", S.format(65536), "db00010000787878..78787878#65541"),
    packhex("binary", r"'\0\1\255\r\n'", "a50001ff0d0a"),
    packhex("numeric-string-stays-a-string", "'12'", "a23132"),
]

PACK_VALUES = [
    packhex("true-false", "true, false", "c3c2"),
    packhex("nil", "nil", "c0"),
    packhex("function-is-nil", "tostring", "c0"),
    packhex("coroutine-is-nil", "coroutine.create(function() end)", "c0"),
    packhex("several-arguments", "1, 'a', {}, nil, true, -1", "01a16190c0c3ff"),
    packhex("nil-arguments-count", "nil, nil, nil", "c0c0c0"),
]

PACK_TABLES = [
    packhex("empty-table-is-an-array", "{}", "90"),
    packhex("array", "{1, 2, 3}", "93010203"),
    packhex("array-15", "{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}"),
    packhex("array16-16", "{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}",
            "dc0010" + "".join(f"{i:02x}" for i in range(1, 17))),
    case("pack-array16-65535", "local t = {} for i = 1, 65535 do t[i] = 0 end return short(cmsgpack.pack(t))",
         "dcffff0000000000..00000000#65538"),
    case("pack-array32-65536", "local t = {} for i = 1, 65536 do t[i] = i % 2 end return short(cmsgpack.pack(t))",
         "dd00010000010001..01000100#65541"),
    packhex("array-of-mixed", "{'a', 1.5, true, {}, -200}"),
    packhex("hole-makes-a-map", "{1, nil, 3}", "8201010303"),
    packhex("keys-not-from-1", "{[2] = 'b', [3] = 'c'}"),
    packhex("key-zero", "{[0] = 'z'}", "8100a17a"),
    packhex("negative-key", "{[-1] = 1}", "81ff01"),
    packhex("fractional-key", "{[1.5] = 1}", "81ca3fc0000001"),
    packhex("sparse-array-key", "{[1] = 1, [2] = 2, [4] = 4}"),
    packhex("huge-integer-key", "{[2^31] = 1}", "81ce8000000001"),
    packhex("one-string-key", "{a = 1}", "81a16101"),
    packhex("boolean-key", "{[true] = false}", "81c3c2"),
    packhex("table-key", "{[{}] = 1}", "819001"),
    packhex("array-and-hash-parts", "{10, 20, x = 30}"),
    packhex("short-keys-map", "{a = 1, b = 2, c = 3, dd = 4, eee = 5}"),
    packhex("map16-16-keys", "(function() local t = {} for i = 1, 16 do t[-i] = i end return t end)()"),
    case("pack-map16-65535", "local t = {} for i = 1, 65535 do t[-i] = 0 end return short(cmsgpack.pack(t))"),
    case("pack-map32-65536", "local t = {} for i = 1, 65536 do t[-i] = 0 end return short(cmsgpack.pack(t))"),
    packhex("metatable-is-ignored",
            "setmetatable({}, {__index = function() return 1 end, __len = function() return 5 end})", "90"),
    packhex("nested", "{{1, {2, {3}}}, {x = {y = {}}}}"),
]


def nest(depth):
    return "(function() local t = 'leaf' for i = 1, %d do t = {t} end return t end)()" % depth


# Tables nested 16 deep are packed as nil: the 16th wrapper's content goes as nil.
NESTING = [
    packhex("nesting-15", nest(15), "91" * 15 + "a46c656166"),
    packhex("nesting-16", nest(16), "91" * 16 + "a46c656166"),
    packhex("nesting-17-innermost-table-is-nil", nest(17), "91" * 16 + "c0"),
    packhex("nesting-30", nest(30), "91" * 16 + "c0"),
    packhex("cycle", "(function() local t = {} t[1] = t return t end)()", "91" * 16 + "c0"),
    packhex("cycle-in-map", "(function() local t = {} t.me = t return t end)()"),
    roundtrip("nesting-17", nest(17)),
]

ROUNDTRIPS = [
    roundtrip("numbers", "0, -1, 127, 128, 255, 256, 65535, 65536, 2^31, 2^32, 2^53, -2^63, -32, -33"),
    roundtrip("floats", "0.5, 0.1, 1e300, -1e300, 1/0, -1/0, 2^63, 2^64, 1e-300"),
    roundtrip("float32-rounding-is-exact-only", "16777217, 0.1, 3.5"),
    roundtrip("nan", "0/0"),
    roundtrip("strings", "'', 'a', string.rep('y', 31), string.rep('y', 32), string.rep('y', 256), '\\0\\255'"),
    roundtrip("tables", "{}, {1, 2}, {a = {b = {c = 'd'}}}, {1, nil, 3}, {[1.5] = true}"),
    roundtrip("nil-and-booleans", "nil, true, false"),
]

# ----------------------------------------------------------------------------
# cmsgpack.unpack and friends, from given bytes

UNPACK = [
    unpackhex("empty-input-gives-nothing", "", expect=""),
    unpackhex("stream", "01a161c3c0", expect='1 "a" true nil'),
    unpackhex("uint8", "ccff", expect="255"),
    unpackhex("uint16", "cdffff", expect="65535"),
    unpackhex("uint32", "ceffffffff", expect="4294967295"),
    # uint 64 goes through a signed lua_Integer: at 2^63 and above it wraps negative.
    unpackhex("uint64-max-wraps-to-minus-one", "cfffffffffffffffff", expect="-1"),
    unpackhex("uint64-2^63-wraps", "cf8000000000000000", expect="-9.2233720368547758e+18"),
    unpackhex("uint64-2^53+1", "cf0020000000000001"),
    unpackhex("int8", "d080d0ff", expect="-128 -1"),
    unpackhex("int16", "d18000d1ff7f", expect="-32768 -129"),
    unpackhex("int32", "d280000000", expect="-2147483648"),
    unpackhex("int64", "d38000000000000000d3ffffffffffffffff", expect="-9.2233720368547758e+18 -1"),
    unpackhex("negative-fixint", "e0ff", expect="-32 -1"),
    unpackhex("float32", "ca3dcccccdca7fc00000", expect="0.10000000149011612 nan"),
    unpackhex("float64", "cb3fb999999999999acbfff0000000000000", expect="0.10000000000000001 -inf"),
    unpackhex("fixstr", "a3616263", expect='"abc"'),
    unpackhex("str8-short-length", "d903616263", expect='"abc"'),
    unpackhex("str16", "da0002ffff", expect="x:ffff"),
    unpackhex("str32", "db00000001ff", expect="x:ff"),
    unpackhex("fixarray", "93010203", expect="{[1]=1,[2]=2,[3]=3}"),
    unpackhex("array16", "dc000201c0", expect="{[1]=1}"),
    unpackhex("array32", "dd00000002c3c2", expect="{[1]=true,[2]=false}"),
    unpackhex("fixmap", "82a16101a162c0", expect='{["a"]=1}'),
    unpackhex("map16", "de000101a178", expect='{[1]="x"}'),
    unpackhex("map32", "df000000019001", expect="{[{}]=1}"),
    unpackhex("map-with-nil-key", "81c001", expect="error: table index is nil"),
    unpackhex("map-with-nan-key", "81cb7ff800000000000001", expect="error: table index is NaN"),
    unpackhex("map-with-duplicate-keys", "820101010202"),
    unpackhex("nested", "92919301a1789090", expect='{[1]={[1]={[1]=1,[2]="x",[3]={}}},[2]={}}'),
    unpackhex("bin8-is-bad-format", "c4016161",
              expect="error: {at} Bad data format in input."),
    unpackhex("ext-is-bad-format", "d40100"),
    unpackhex("c1-is-bad-format", "c1"),
    unpackhex("bad-format-after-a-value", "01c7"),
    unpackhex("truncated-uint16", "cd01", expect="error: {at} Missing bytes in input."),
    unpackhex("truncated-float64", "cb3ff0"),
    unpackhex("truncated-fixstr", "a5616263"),
    unpackhex("truncated-str32-header", "db0000"),
    unpackhex("truncated-array", "930102"),
    unpackhex("truncated-map-value", "81a161"),
    unpackhex("huge-array-length", "ddffffffff01"),
    case("unpack-number-argument-is-a-string", "return try(cmsgpack.unpack, 12)", expect="49 50"),
    case("unpack-nil-argument", "return try(function() return cmsgpack.unpack(nil) end)",
         expect="error: {at} bad argument #1 to 'unpack' (string expected, got nil)"),
    case("unpack-table-argument", "return try(cmsgpack.unpack, {})"),
    case("unpack-deep-nesting-overflows-the-stack",
         "return try(cmsgpack.unpack, string.rep(string.char(0x91), 5000) .. string.char(1))",
         expect="error: stack overflow (in function mp_decode_to_lua_array)"),
    case("unpack-1000-nested", "local v = cmsgpack.unpack(string.rep(string.char(0x91), 1000) .. string.char(7))"
         " local d = 0 while type(v) == 'table' do v = v[1] d = d + 1 end return d .. ' ' .. v", expect="1000 7"),
    case("unpack-too-many-values", "return try(cmsgpack.unpack, string.rep(string.char(1), 9000))",
         expect="error: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"),
    case("unpack-7900-values", "return select('#', cmsgpack.unpack(string.rep(string.char(1), 7900)))"),
    case("unpack-uncaught-error-reply", "return cmsgpack.unpack(string.char(0xc1))",
         expect="ERR {at} Bad data format in input. script: "),
]

UNPACK_ONE_LIMIT = [
    unpackhex("first", "01a162c3", fn="unpack_one", expect="1 1"),
    unpackhex("from-offset", "01a162c3", fn="unpack_one", extra=", 1", expect='3 "b"'),
    unpackhex("last-gives-minus-one", "01a162c3", fn="unpack_one", extra=", 3", expect="-1 true"),
    unpackhex("at-end", "01a162c3", fn="unpack_one", extra=", 4", expect="-1"),
    unpackhex("past-end", "01a162c3", fn="unpack_one", extra=", 5",
              expect="error: {at} Start offset 5 greater than input length 4."),
    # The message prints the input's length where it says limit.
    unpackhex("negative-offset", "01a162c3", fn="unpack_one", extra=", -1",
              expect="error: {at} Invalid request to unpack with offset of -1 and limit of 4."),
    unpackhex("fractional-offset-truncates", "01a162c3", fn="unpack_one", extra=", 1.9", expect='3 "b"'),
    unpackhex("bad-offset", "01", fn="unpack_one", extra=", 'x'",
              expect="error: {at} bad argument #2 to 'unpack_one' (number expected, got string)"),
    case("unpack_one-no-argument", "return try(function() return cmsgpack.unpack_one() end)",
         expect="error: {at} bad argument #1 to 'unpack_one' (string expected, got no value)"),
    unpackhex("empty", "", fn="unpack_one", expect="-1"),
    unpackhex("truncated", "cd00", fn="unpack_one", extra=", 0"),
    case("unpack_one-walk", "local s = cmsgpack.pack(1, 'two', {3}, nil, 5) local out, off = {}, 0"
         " while off >= 0 do local v off, v = cmsgpack.unpack_one(s, off)"
         " out[#out + 1] = dump(off) .. '=' .. dump(v) end return table.concat(out, ' ')",
         expect='1=1 5="two" 7={[1]=3} 8=nil -1=5'),
    unpackhex("two", "01020304", fn="unpack_limit", extra=", 2", expect="2 1 2"),
    unpackhex("two-from-offset", "01020304", fn="unpack_limit", extra=", 2, 1", expect="3 2 3"),
    unpackhex("more-than-there-are", "0102", fn="unpack_limit", extra=", 5", expect="-1 1 2"),
    # Limit 0 and offset 0 is unpack: every value, no offset.
    unpackhex("zero-is-everything", "010203", fn="unpack_limit", extra=", 0", expect="1 2 3"),
    unpackhex("zero-from-offset", "010203", fn="unpack_limit", extra=", 0, 1", expect="1"),
    unpackhex("negative-limit", "010203", fn="unpack_limit", extra=", -2",
              expect="error: {at} Invalid request to unpack with offset of 0 and limit of 3."),
    unpackhex("missing-limit", "010203", fn="unpack_limit",
              expect="error: {at} bad argument #2 to 'unpack_limit' (number expected, got no value)"),
    unpackhex("limit-bad-data", "01c1", fn="unpack_limit", extra=", 2"),
    case("unpack_limit-large-stream", "local s = string.rep(cmsgpack.pack(1, 'a'), 3000)"
         " local r = {cmsgpack.unpack_limit(s, 100, 10)} return #r .. ' ' .. r[1] .. ' ' .. dump(r[2])",
         expect='101 160 "a"'),
]

PACK_ERRORS = [
    case("pack-without-arguments", "return try(function() return cmsgpack.pack() end)",
         expect="error: {at} bad argument #0 to 'pack' (MessagePack pack needs input.)"),
    case("pack-4000-arguments", "local t = {} for i = 1, 4000 do t[i] = i end return #cmsgpack.pack(unpack(t))",
         expect="11618"),
    case("pack-4001-arguments", "local t = {} for i = 1, 4001 do t[i] = i end"
         " return try(function() return cmsgpack.pack(unpack(t)) end)",
         expect="error: {at} bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)"),
    case("pack-4000-arguments-last-a-table", "local t = {} for i = 1, 3999 do t[i] = i end t[4000] = {1}"
         " return try(function() return #cmsgpack.pack(unpack(t)) end)",
         expect="error: {at} stack overflow (in function table_is_an_array)"),
    case("pack-uncaught-error-reply", "return cmsgpack.pack()",
         expect="ERR {at} bad argument #0 to 'pack' (MessagePack pack needs input.) script: "),
]

LIBRARY = [
    case("cmsgpack-fields", "return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT,"
         " cmsgpack._DESCRIPTION}"),
    case("cmsgpack-keys", "local k = {} for name, v in pairs(cmsgpack) do k[#k + 1] = name .. ':' .. type(v) end"
         " table.sort(k) return table.concat(k, ' ')",
         expect="_COPYRIGHT:string _DESCRIPTION:string _NAME:string _VERSION:string pack:function unpack:function"
                " unpack_limit:function unpack_one:function"),
    case("struct-keys", "local k = {} for name, v in pairs(struct) do k[#k + 1] = name .. ':' .. type(v) end"
         " table.sort(k) return table.concat(k, ' ')", expect="pack:function size:function unpack:function"),
    case("cmsgpack-is-read-only", "cmsgpack.pack = nil return 1"),
    case("struct-is-read-only", "return try(function() struct.extra = 1 end)"),
]

# ----------------------------------------------------------------------------
# struct.pack / struct.unpack / struct.size

STRUCT_PACK = [
    spack("bytes", "bBbB", "1, 2, -1, 255", "0102ffff"),
    spack("byte-wraps", "bB", "256, 257", "0001"),
    spack("shorts-little-big", "<h>h<H>H", "1, 1, 65535, -2", "01000001fffffffe"),
    spack("longs", "<l>L", "-2, 2^40", "feffffffffffffff0000010000000000"),
    spack("size_t", ">T", "2^53", "0020000000000000"),
    spack("int-default-4", "<i>I", "-1, 3", "ffffffff00000003"),
    spack("int-sizes", "<i1i2i3i5i7i8", "-1, -1, -1, -1, -1, -1"),
    spack("int-3-big", ">i3", "0x123456", "123456"),
    # past 8 bytes the value's 64 bits run out: the rest are zeros, even for -1
    spack("int-16-of-minus-one", "<i16", "-1", "ffffffffffffffff0000000000000000"),
    spack("int-32-big", ">I32", "1"),
    spack("int-0", "i0i0", "5, 6", ""),
    spack("negative-fraction-to-unsigned", "<I2B", "-0.5, -1.5", "0000ff"),
    spack("fraction-truncates", "<bbhh", "1.9, -1.9, 300.5, -300.5", "01ff2c01d4fe"),
    spack("uint-2^63", ">L", "2^63", "8000000000000000"),
    spack("uint-above-2^63", ">L", "2^63 + 2^62", "c000000000000000"),
    spack("uint-2^64-is-0", ">L", "2^64", "0000000000000000"),
    spack("uint-1e300-is-0", ">L", "1e300", "0000000000000000"),
    spack("uint-inf-is-0", ">L", "1/0", "0000000000000000"),
    spack("int-minus-inf", ">l", "-1/0", "8000000000000000"),
    spack("int-minus-1e300", ">l", "-1e300", "8000000000000000"),
    spack("int-nan", ">l>L", "0/0, -(0/0)", "80000000000000008000000000000000"),
    spack("short-of-huge", ">h", "2^40 + 5", "0005"),
    spack("floats", "<f>f<d>d", "0.5, -2, 0.1, 1e300", "0000003fc00000009a9999999999b93f7e37e43c8800759c"),
    spack("float-overflow-is-inf", ">f>f", "1e300, -1e300", "7f800000ff800000"),
    spack("float-nan", ">d", "0/0", "fff8000000000000"),
    spack("chars", "c3", "'abcdef'", "616263"),
    spack("chars-default-1", "c", "'xyz'", "78"),
    spack("chars-0-whole-string", "c0", "'hello'", "68656c6c6f"),
    spack("string-zero-terminated", "s", "'hi'", "686900"),
    spack("string-with-zero", "s", r"'a\0b'", "61006200"),
    spack("padding", "bxxb", "1, 2", "01000002"),
    spack("spaces-ignored", " b  b ", "1, 2", "0102"),
    spack("number-as-string-arg", "b", "'12'", "0c"),
    spack("string-as-number-arg", "c2", "12", "3132"),
    spack("align-default-max", "!bd", "1, 2", "01" + "00" * 7 + "0000000000000040"),
    spack("align-4", "!4bhbibd", "1, 2, 3, 4, 5, 6"),
    spack("align-2", "!2bibd", "1, 2, 3, 4"),
    spack("align-odd-size-i3", "!4bi3bi3", "1, 2, 3, 4"),
    spack("align-then-reset", "!8bd!1bd", "1, 2, 3, 4"),
    spack("align-with-x", "!4bxi", "1, 2"),
    spack("align-chars-not-aligned", "!8bc2d", "1, 'ab', 2"),
    spack("align-strings", "!4bsi", "1, 'ab', 3"),
    spack("mixed-endian", "<I2>I2<I4>I4", "0x102, 0x102, 0x1020304, 0x1020304", "0201010204030201" + "01020304"),
    spack("big-string-c0", "c0", "string.rep('z', 65536)", "7a7a7a7a7a7a7a7a..7a7a7a7a#65536"),
    # errors
    spack("invalid-option", "bz", "1", "error: {at} bad argument #1 to 'pack' (invalid format option 'z')"),
    spack("invalid-option-high-byte", r"\128", "",
          "error: {at} bad argument #1 to 'pack' (invalid format option '\x80')"),
    # '=' (native endianness in Lua 5.3's string.pack) is not an option of this library
    spack("equals-is-invalid", "=b", "1", "error: {at} bad argument #1 to 'pack' (invalid format option '=')"),
    spack("invalid-option-digit", "5", ""),
    # "got nil", not "no value": pack pushes a nil after its arguments (a mark for its buffer)
    spack("missing-number", ">i", "", "error: {at} bad argument #2 to 'pack' (number expected, got nil)"),
    spack("string-for-number", "b", "'x'", "error: {at} bad argument #2 to 'pack' (number expected, got string)"),
    spack("table-for-string", "bs", "1, {}", "error: {at} bad argument #3 to 'pack' (string expected, got table)"),
    # the check names the argument after the string
    spack("string-too-short", "c5", "'ab'", "error: {at} bad argument #3 to 'pack' (string too short)"),
    spack("int-too-large", "i33", "1", "error: {at} integral size 33 is larger than limit of 32"),
    spack("int-32-is-the-limit", "i32", "1"),
    spack("integral-size-overflow", "c99999999999", "'a'", "error: {at} integral size overflow"),
    spack("alignment-not-power-of-2", "!3b", "1", "error: {at} alignment 3 is not a power of 2"),
    spack("alignment-zero", "!0b", "1", "error: {at} alignment 0 is not a power of 2"),
    spack("alignment-16", "!16bd", "1, 2"),
    case("struct-pack-no-format", "return try(function() return struct.pack() end)",
         expect="error: {at} bad argument #1 to 'pack' (string expected, got no value)"),
    case("struct-pack-empty-format", "return hex(struct.pack(''))", expect=""),
    case("struct-pack-format-stops-at-nul", "return hex(struct.pack('b\\0b', 1, 2))", expect="01"),
    case("struct-pack-uncaught-error-reply", "return struct.pack('q')",
         expect="ERR {at} bad argument #1 to 'pack' (invalid format option 'q') script: "),
]

STRUCT_UNPACK = [
    sunpack("bytes", "bBbB", "01ff80fe", expect="1 255 -128 254 5"),
    sunpack("shorts", "<h>h<H>H", "ffff0102fffe0102", expect="-1 258 65279 258 9"),
    sunpack("longs", "<l>L", "feffffffffffffffffffffffffffffff", expect="-2 1.8446744073709552e+19 17"),
    sunpack("size_t", "<T", "0100000000000080", expect="9.2233720368547758e+18 9"),
    sunpack("int-sizes", ">i3<I3>I5", "800000010000ffffffffff"),
    sunpack("int-9-sign-quirk", "<i9", "800000000000000000", expect="-128 10"),
    sunpack("int-9-all-ones", "<i9", "ffffffffffffffffff", expect="-1 10"),
    sunpack("int-12-top-bytes-shift-out", ">i12", "7fffffff0102030405060708"),
    sunpack("int-16", "<i16", "01010101010101010101010101010101", expect="72340172838076672 17"),
    sunpack("int-16-high-bit", ">i16", "0000000000000000ff00000000000000"),
    sunpack("uint-16", ">I16", "ffffffffffffffffffffffffffffffff"),
    sunpack("int-0", "i0i0b", "05", expect="0 0 5 2"),
    sunpack("floats", "<f>f", "0000003fc0000000", expect="0.5 -2 9"),
    sunpack("doubles", "<d>d", "9a9999999999b93f7ff0000000000000", expect="0.10000000000000001 inf 17"),
    sunpack("float-nan", ">f", "7fc00000", expect="nan 5"),
    sunpack("chars", "c2c1", "616263", expect='"ab" "c" 4'),
    sunpack("chars-0-uses-previous-number", "bc0b", "03414243ff", expect='"ABC" -1 6'),
    sunpack("chars-0-numeric-string", "c1c0", "33616263", expect='"abc" 5'),
    sunpack("chars-0-first", "c0", "414243", expect="error: {at} format 'c0' needs a previous size"),
    sunpack("chars-0-after-string", "c1c0", "61616263", expect="error: {at} format 'c0' needs a previous size"),
    sunpack("chars-0-negative-length", "bc0", "ff4142",
            expect="error: {at} bad argument #2 to 'unpack' (data string too short)"),
    sunpack("chars-0-too-long", "bc0", "054142"),
    sunpack("chars-0-zero", "bc0b", "0007", expect='"" 7 3'),
    sunpack("strings", "ss", "6869006100", expect='"hi" "a" 6'),
    sunpack("empty-string", "sb", "0005", expect='"" 5 3'),
    sunpack("unfinished-string", "s", "6869", expect="error: {at} unfinished string in data"),
    sunpack("string-at-end", "bs", "01", expect="error: {at} unfinished string in data"),
    sunpack("padding", "bxxb", "01aaaa02", expect="1 2 5"),
    sunpack("align", "!4bi", "01aaaaaa02000000", expect="1 2 9"),
    sunpack("align-double", "!bd", "01" + "aa" * 7 + "000000000000f03f", expect="1 1 17"),
    sunpack("align-odd-size", "!4bi3", "01aaaaaa020000"),
    sunpack("offset", "b", "010203", extra=", 2", expect="2 3"),
    sunpack("offset-at-end", "b", "010203", extra=", 4",
            expect="error: {at} bad argument #2 to 'unpack' (data string too short)"),
    sunpack("offset-empty-format", "", "010203", extra=", 4", expect="4"),
    sunpack("offset-past-end-empty-format", "", "0102", extra=", 10", expect="10"),
    sunpack("offset-zero", "b", "01", extra=", 0",
            expect="error: {at} bad argument #3 to 'unpack' (offset must be 1 or greater)"),
    sunpack("offset-negative-empty-format", "", "01", extra=", -1", expect="-1"),
    sunpack("offset-negative", "b", "01", extra=", -5",
            expect="error: {at} bad argument #2 to 'unpack' (data string too short)"),
    sunpack("offset-fraction", "b", "0102", extra=", 2.7", expect="2 3"),
    sunpack("offset-not-a-number", "b", "0102", extra=", 'x'",
            expect="error: {at} bad argument #3 to 'unpack' (number expected, got string)"),
    sunpack("control-option-past-end", ">", "0102", extra=", 5",
            expect="error: {at} bad argument #2 to 'unpack' (data string too short)"),
    sunpack("too-short", "i", "010203", expect="error: {at} bad argument #2 to 'unpack' (data string too short)"),
    sunpack("too-short-chars", "c9", "0102"),
    sunpack("invalid-option", "bq", "0102",
            expect="error: {at} bad argument #1 to 'unpack' (invalid format option 'q')"),
    sunpack("huge-int-size", "i40", "00", expect="error: {at} integral size 40 is larger than limit of 32"),
    case("struct-unpack-data-missing", "return try(function() return struct.unpack('b') end)",
         expect="error: {at} bad argument #2 to 'unpack' (string expected, got no value)"),
    case("struct-unpack-too-many-results", "return try(function() return struct.unpack(string.rep('b', 9000),"
         " string.rep('a', 9000)) end)", expect="error: {at} stack overflow (too many results)"),
    case("struct-unpack-7000-results",
         "return select('#', struct.unpack(string.rep('B', 7000), string.rep('a', 7000)))", expect="7001"),
    case("struct-pack-unpack-roundtrip", "local f = '<!4 b B h H i I l L f d c3 s T x i3'"
         " local s = struct.pack(f, -5, 200, -300, 60000, -70000, 4e9, -2^40, 2^52, 1.25, 1/3, 'abc', 'zz', 77, 99)"
         " return #s .. ' ' .. hex(s) .. ' ' .. dumpall(struct.unpack(f, s))"),
]

STRUCT_SIZE = [
    ssize("every-fixed-option", "bBhHlLTiIfdxc", expect="52"),
    ssize("int-sizes", "i1i2i3i16i32", expect="54"),
    ssize("chars", "c10c", expect="11"),
    ssize("aligned", "!bd", expect="16"),
    ssize("aligned-4", "!4bhbibd", expect="24"),
    ssize("odd-size-alignment", "!4bi3bi3"),
    ssize("empty", "", expect="0"),
    ssize("string-has-no-size", "bs",
          expect="error: {at} bad argument #1 to 'size' (option 's' has no fixed size)"),
    ssize("c0-has-no-size", "c0", expect="error: {at} bad argument #1 to 'size' (option 'c0' has no fixed size)"),
    # unknown letters and digits are skipped; other unknown characters are errors
    ssize("unknown-letter-ignored", "bzqb", expect="2"),
    ssize("unknown-digit-ignored", "b9", expect="1"),
    ssize("equals-is-invalid", "=b", expect="error: {at} bad argument #1 to 'size' (invalid format option '=')"),
    ssize("unknown-symbol", "b#", expect="error: {at} bad argument #1 to 'size' (invalid format option '#')"),
    ssize("bad-alignment", "!6", expect="error: {at} alignment 6 is not a power of 2"),
    ssize("int-too-large", "i64", expect="error: {at} integral size 64 is larger than limit of 32"),
    ssize("endianness-and-spaces", "< b > h ! i", expect="8"),
]

CORPUS = (PACK_INTEGERS + PACK_FLOATS + PACK_STRINGS + PACK_VALUES + PACK_TABLES + NESTING + ROUNDTRIPS + UNPACK
          + UNPACK_ONE_LIMIT + PACK_ERRORS + LIBRARY + STRUCT_PACK + STRUCT_UNPACK + STRUCT_SIZE)


def script_of(body):
    return PRELUDE + body


def eval_raw(srv, body):
    with harness.RawClient(srv.port, timeout=30.0) as c:
        return c.call_raw("EVAL", script_of(body), "0")


def expected_matches(raw, expect):
    """Whether redis' raw reply is what `expect` says (see case())."""
    value = parse(raw)
    expect = expect.replace("{at}", AT)
    if isinstance(value, harness.Err):
        return bytes(value).startswith(expect.encode("latin-1"))
    if isinstance(value, (bytes, int)):
        return value == (expect.encode("latin-1") if isinstance(value, bytes) else int(expect))
    return False


@pytest.mark.parametrize("body,expect", CORPUS)
def test_script(redis_ref, subject, body, expect):
    ref = eval_raw(redis_ref, body)
    if expect is not None:
        assert expected_matches(ref, expect), f"redis replied {show_raw(ref)}, the test expects {expect!r}"
    got = eval_raw(subject, body)
    assert got == ref, f"script: {body}\nredis:  {show_raw(ref, 2000)}\n{SUBJECT}: {show_raw(got, 2000)}"


def test_corpus_size():
    assert len(CORPUS) >= 60
    ids = [p.id for p in CORPUS]
    assert len(ids) == len(set(ids)), "duplicate case names"
