/* lua_cmsgpack.c: MessagePack for Lode's Lua scripts (the `cmsgpack` global).
 *
 * Lode's own implementation of what scripts observe from lua-cmsgpack 0.4.0 as bundled with
 * Redis 7.0.15 (deps/lua/src/lua_cmsgpack.c, MIT, (C) 2012 Salvatore Sanfilippo): the same
 * encodings, the same table-as-array rule, the same nesting limit, the same errors and texts,
 * and the same use of the Lua stack (so the same calls hit the 8000-slot C stack limit).
 *
 * Where Redis's version converts a double to an integer out of range (undefined in C), this
 * file spells out what that conversion does on x86-64, the platform Redis was observed on.
 */
#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>

#include <stdint.h>
#include <string.h>

#include "include/CLuaLibs.h"

/* A table nested this deep is packed as nil (this is also what stops a cycle). */
#define MAX_NESTING 16

/* ------------------------------------------------------------------ numbers */

#define TWO_63 9223372036854775808.0 /* 2^63 */

/* Redis packs a number as an integer when casting it to int64_t and back loses nothing. On
 * x86-64 an out-of-range cast gives INT64_MIN, which never equals the number (NaN, 2^63...);
 * the range test makes that so everywhere (a saturating cast would take 2^63 for an int). */
static int is_int64_exact(double d) {
    return d >= -TWO_63 && d < TWO_63 && (double)(int64_t)d == d;
}

/* The same test against int, which Redis uses for array indexes (only positive ones reach it). */
static int is_int_exact(double d) {
    return d > -2147483649.0 && d < 2147483648.0 && (double)(int)d == d;
}

/* ------------------------------------------------------------- pack buffer */

/* The bytes of the value being packed. It lives in a userdata held as an upvalue of pack,
 * rather than on the stack: Redis's version keeps its buffer off the stack, and an extra slot
 * would move the point where a pack of ~4000 arguments overflows the C stack. Being off the
 * stack and reused, it is not leaked when an error (stack overflow, memory) cuts a pack short;
 * its __gc frees it with the state. Pack cannot be re-entered while it runs: it calls no
 * metamethods (keys it reads exist, raw), so one buffer per library table is enough. */
typedef struct PackBuf {
    unsigned char *data;
    size_t len, cap;
} PackBuf;

/* Past this size the buffer is given back after each pack, not kept for the next one. */
#define PACKBUF_KEEP 65536

static void packbuf_release(lua_State *L, PackBuf *buf) {
    void *ud;
    lua_Alloc alloc = lua_getallocf(L, &ud);
    if (buf->data) alloc(ud, buf->data, buf->cap, 0);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

/* Idempotent, in case anything ever gets hold of the metatable and calls it by hand. */
static int packbuf_gc(lua_State *L) {
    packbuf_release(L, (PackBuf *)lua_touserdata(L, 1));
    return 0;
}

static void packbuf_add(lua_State *L, PackBuf *buf, const void *bytes, size_t n) {
    if (buf->cap - buf->len < n) {
        void *ud;
        lua_Alloc alloc = lua_getallocf(L, &ud);
        size_t want = buf->len + n;
        if (want < buf->len || want > SIZE_MAX / 2) luaL_error(L, "not enough memory");
        want *= 2; /* doubling keeps appends amortised O(1) */
        unsigned char *grown = alloc(ud, buf->data, buf->cap, want);
        if (!grown) luaL_error(L, "not enough memory");
        buf->data = grown;
        buf->cap = want;
    }
    memcpy(buf->data + buf->len, bytes, n);
    buf->len += n;
}

/* A marker byte followed by the low `n` bytes of v, most significant first (MessagePack is
 * big-endian throughout). */
static void put_marked(lua_State *L, PackBuf *buf, unsigned char marker, uint64_t v, int n) {
    unsigned char b[9];
    b[0] = marker;
    for (int i = n; i >= 1; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    packbuf_add(L, buf, b, (size_t)n + 1);
}

/* ---------------------------------------------------------------- encoding */

static void put_int(lua_State *L, PackBuf *buf, int64_t n) {
    if (n >= 0) {
        uint64_t u = (uint64_t)n;
        if (u <= 127) put_marked(L, buf, (unsigned char)u, 0, 0);      /* positive fixint */
        else if (u <= 0xff) put_marked(L, buf, 0xcc, u, 1);
        else if (u <= 0xffff) put_marked(L, buf, 0xcd, u, 2);
        else if (u <= 0xffffffffULL) put_marked(L, buf, 0xce, u, 4);
        else put_marked(L, buf, 0xcf, u, 8);
    } else {
        uint64_t u = (uint64_t)n; /* two's complement bytes */
        if (n >= -32) put_marked(L, buf, (unsigned char)(u & 0xff), 0, 0); /* negative fixint */
        else if (n >= -128) put_marked(L, buf, 0xd0, u, 1);
        else if (n >= -32768) put_marked(L, buf, 0xd1, u, 2);
        else if (n >= -2147483648LL) put_marked(L, buf, 0xd2, u, 4);
        else put_marked(L, buf, 0xd3, u, 8);
    }
}

/* float 32 whenever it holds the value exactly, else float 64 (NaN is never equal to itself,
 * so it always takes 64 bits; infinities fit in 32). */
static void put_double(lua_State *L, PackBuf *buf, double d) {
    float f = (float)d;
    if ((double)f == d) {
        uint32_t bits;
        memcpy(&bits, &f, 4);
        put_marked(L, buf, 0xca, bits, 4);
    } else {
        uint64_t bits;
        memcpy(&bits, &d, 8);
        put_marked(L, buf, 0xcb, bits, 8);
    }
}

/* Redis's version writes str 8 (0xd9) for 32..255 bytes, and never the bin types. Lengths
 * over 4 GiB keep only their low 32 bits in the header, as there. */
static void put_string(lua_State *L, PackBuf *buf, const char *s, size_t len) {
    if (len < 32) put_marked(L, buf, (unsigned char)(0xa0 | len), 0, 0);
    else if (len <= 0xff) put_marked(L, buf, 0xd9, len, 1);
    else if (len <= 0xffff) put_marked(L, buf, 0xda, len, 2);
    else put_marked(L, buf, 0xdb, len & 0xffffffffULL, 4);
    packbuf_add(L, buf, s, len);
}

/* fixarray/fixmap, else the 16- or 32-bit form. `fix` is 0x90 (array) or 0x80 (map). */
static void put_container(lua_State *L, PackBuf *buf, unsigned char fix, uint64_t n) {
    unsigned char big = fix == 0x90 ? 0xdc : 0xde;
    if (n <= 15) put_marked(L, buf, (unsigned char)(fix | n), 0, 0);
    else if (n <= 65535) put_marked(L, buf, big, n, 2);
    else put_marked(L, buf, big + 1, n & 0xffffffffULL, 4);
}

static void encode_top(lua_State *L, PackBuf *buf, int level);

/* A table is packed as an array when its keys are exactly the integers 1..N (N its key
 * count, possibly 0: the empty table is an empty array). Any other key, a hole, or a
 * non-integral number makes it a map. */
static int table_is_array(lua_State *L) {
    int top = lua_gettop(L);
    int count = 0, max = 0;
    luaL_checkstack(L, 2, "in function table_is_an_array");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_Number n;
        if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || !is_int_exact(n)) {
            lua_settop(L, top);
            return 0;
        }
        if (n > max) max = (int)n;
        count++;
    }
    lua_settop(L, top);
    return max == count; /* keys are distinct, all in 1..max: so they are all of 1..max */
}

static void encode_array(lua_State *L, PackBuf *buf, int level) {
    size_t len = lua_objlen(L, -1);
    put_container(L, buf, 0x90, len);
    luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
    for (size_t j = 1; j <= len; j++) {
        lua_pushnumber(L, (lua_Number)j);
        lua_gettable(L, -2);
        encode_top(L, buf, level + 1);
    }
}

/* Keys go out in lua_next order, i.e. the order of the Lua table's own layout. */
static void encode_map(lua_State *L, PackBuf *buf, int level) {
    size_t len = 0;
    luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        len++;
    }
    put_container(L, buf, 0x80, len);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);          /* key value key */
        encode_top(L, buf, level + 1); /* the key copy */
        encode_top(L, buf, level + 1); /* the value, leaving the key for lua_next */
    }
}

/* Packs the value on top of the stack and pops it. */
static void encode_top(lua_State *L, PackBuf *buf, int level) {
    int type = lua_type(L, -1);
    if (type == LUA_TTABLE && level == MAX_NESTING) type = LUA_TNIL;
    switch (type) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        put_string(L, buf, s, len);
        break;
    }
    case LUA_TBOOLEAN: {
        unsigned char b = lua_toboolean(L, -1) ? 0xc3 : 0xc2;
        packbuf_add(L, buf, &b, 1);
        break;
    }
    case LUA_TNUMBER: {
        lua_Number n = lua_tonumber(L, -1);
        if (is_int64_exact(n)) put_int(L, buf, (int64_t)n);
        else put_double(L, buf, n);
        break;
    }
    case LUA_TTABLE:
        if (table_is_array(L)) encode_array(L, buf, level);
        else encode_map(L, buf, level);
        break;
    default: { /* nil, functions, userdata, threads */
        unsigned char b = 0xc0;
        packbuf_add(L, buf, &b, 1);
        break;
    }
    }
    lua_pop(L, 1);
}

/* cmsgpack.pack(v1, v2, ...): the concatenation of each argument's encoding. */
static int cmsgpack_pack(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");

    PackBuf *buf = (PackBuf *)lua_touserdata(L, lua_upvalueindex(1));
    buf->len = 0; /* whatever an earlier pack cut short by an error left */
    for (int i = 1; i <= nargs; i++) {
        luaL_checkstack(L, 1, "in function mp_check");
        lua_pushvalue(L, i);
        encode_top(L, buf, 0);
        lua_pushlstring(L, (const char *)buf->data, buf->len);
        buf->len = 0;
    }
    if (buf->cap > PACKBUF_KEEP) packbuf_release(L, buf);
    lua_concat(L, nargs);
    return 1;
}

/* ---------------------------------------------------------------- decoding */

/* A read position in the input. `err` is set once, and every decoder returns as soon as it
 * is (partly built tables stay on the stack; the caller raises the error). */
typedef struct Cursor {
    const unsigned char *p;
    size_t left;
    int err;
} Cursor;

enum { CUR_OK = 0, CUR_EOF = 1, CUR_BADFMT = 2 };

/* Not enough bytes for what is being decoded. */
static int short_of(Cursor *c, size_t n) {
    if (c->left >= n) return 0;
    c->err = CUR_EOF;
    return 1;
}

static void skip(Cursor *c, size_t n) {
    c->p += n;
    c->left -= n;
}

/* The n bytes after the marker, big-endian. */
static uint64_t be_uint(const Cursor *c, int n) {
    uint64_t v = 0;
    for (int i = 1; i <= n; i++) v = (v << 8) | c->p[i];
    return v;
}

static void decode_value(lua_State *L, Cursor *c);

static void decode_array(lua_State *L, Cursor *c, size_t len) {
    lua_Number index = 1;
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    while (len--) {
        lua_pushnumber(L, index++);
        decode_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

/* A nil or NaN key makes lua_settable raise "table index is nil" / "table index is NaN". */
static void decode_map(lua_State *L, Cursor *c, size_t len) {
    lua_newtable(L);
    while (len--) {
        decode_value(L, c);
        if (c->err) return;
        decode_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

/* A string whose length is given by the `n` bytes after the marker. */
static void decode_string(lua_State *L, Cursor *c, int n) {
    if (short_of(c, 1 + (size_t)n)) return;
    size_t len = (size_t)be_uint(c, n);
    skip(c, 1 + (size_t)n);
    if (short_of(c, len)) return;
    lua_pushlstring(L, (const char *)c->p, len);
    skip(c, len);
}

/* An array or map whose length is given by the `n` bytes after the marker. */
static void decode_container(lua_State *L, Cursor *c, int n, int is_map) {
    if (short_of(c, 1 + (size_t)n)) return;
    size_t len = (size_t)be_uint(c, n);
    skip(c, 1 + (size_t)n);
    if (is_map) decode_map(L, c, len);
    else decode_array(L, c, len);
}

/* A number of `n` bytes after the marker. Integers become Lua numbers through lua_Integer,
 * so a uint 64 at or above 2^63 comes back negative, as in Redis. */
static void decode_number(lua_State *L, Cursor *c, unsigned char marker, int n) {
    if (short_of(c, 1 + (size_t)n)) return;
    uint64_t v = be_uint(c, n);
    switch (marker) {
    case 0xcc: case 0xcd: case 0xce: case 0xcf: lua_pushinteger(L, (lua_Integer)v); break;
    case 0xd0: lua_pushinteger(L, (int8_t)v); break;
    case 0xd1: lua_pushinteger(L, (int16_t)v); break;
    case 0xd2: lua_pushinteger(L, (int32_t)v); break;
    case 0xd3: lua_pushnumber(L, (lua_Number)(int64_t)v); break;
    case 0xca: {
        uint32_t bits = (uint32_t)v;
        float f;
        memcpy(&f, &bits, 4);
        lua_pushnumber(L, f);
        break;
    }
    default: { /* 0xcb */
        double d;
        memcpy(&d, &v, 8);
        lua_pushnumber(L, d);
        break;
    }
    }
    skip(c, 1 + (size_t)n);
}

/* Decodes one value onto the stack. Bin, ext and 0xc1 are not understood: bad format. */
static void decode_value(lua_State *L, Cursor *c) {
    if (short_of(c, 1)) return;
    /* One more slot per value: the only limit on how many a stream or a nesting can hold. */
    luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char m = c->p[0];
    switch (m) {
    case 0xc0: lua_pushnil(L); skip(c, 1); return;
    case 0xc2: lua_pushboolean(L, 0); skip(c, 1); return;
    case 0xc3: lua_pushboolean(L, 1); skip(c, 1); return;
    case 0xcc: case 0xd0: decode_number(L, c, m, 1); return;
    case 0xcd: case 0xd1: decode_number(L, c, m, 2); return;
    case 0xce: case 0xd2: case 0xca: decode_number(L, c, m, 4); return;
    case 0xcf: case 0xd3: case 0xcb: decode_number(L, c, m, 8); return;
    case 0xd9: decode_string(L, c, 1); return;
    case 0xda: decode_string(L, c, 2); return;
    case 0xdb: decode_string(L, c, 4); return;
    case 0xdc: decode_container(L, c, 2, 0); return;
    case 0xdd: decode_container(L, c, 4, 0); return;
    case 0xde: decode_container(L, c, 2, 1); return;
    case 0xdf: decode_container(L, c, 4, 1); return;
    default: break;
    }
    if ((m & 0x80) == 0) { /* positive fixint */
        lua_pushinteger(L, m);
        skip(c, 1);
    } else if ((m & 0xe0) == 0xe0) { /* negative fixint */
        lua_pushinteger(L, (int8_t)m);
        skip(c, 1);
    } else if ((m & 0xe0) == 0xa0) { /* fixstr */
        size_t len = m & 0x1f;
        if (short_of(c, 1 + len)) return;
        lua_pushlstring(L, (const char *)c->p + 1, len);
        skip(c, 1 + len);
    } else if ((m & 0xf0) == 0x90) { /* fixarray */
        skip(c, 1);
        decode_array(L, c, m & 0xf);
    } else if ((m & 0xf0) == 0x80) { /* fixmap */
        skip(c, 1);
        decode_map(L, c, m & 0xf);
    } else {
        c->err = CUR_BADFMT;
    }
}

/* The three unpack functions. With limit and offset both 0 it decodes the whole string and
 * returns just the values (so unpack_limit(s, 0) is unpack(s)); otherwise at most `limit`
 * values from byte `offset` (0-based), preceded by the offset to continue from, -1 at the end. */
static int unpack_from(lua_State *L, lua_Integer limit, lua_Integer offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int decode_all = !limit && !offset;

    /* The second number printed is the input's length, not the limit: Redis's text. */
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", (int)offset, (int)len);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset, (int)len);
    if (decode_all) limit = INT32_MAX;

    Cursor c = {(const unsigned char *)s + offset, len - (size_t)offset, CUR_OK};
    int count;
    for (count = 0; c.left > 0 && count < limit; count++) {
        decode_value(L, &c);
        if (c.err == CUR_EOF) return luaL_error(L, "Missing bytes in input.");
        if (c.err == CUR_BADFMT) return luaL_error(L, "Bad data format in input.");
    }
    if (decode_all) return count;

    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
    lua_insert(L, 2); /* first result, right after the input string */
    return count + 1;
}

static int cmsgpack_unpack(lua_State *L) {
    return unpack_from(L, 0, 0);
}

/* Arguments are read before the input is checked, so a bad offset is reported first. The
 * extra arguments are dropped with lua_pop(top - 1), not lua_settop(1): called with none,
 * the input stays "no value" (not nil) in the error. */
static int cmsgpack_unpack_one(lua_State *L) {
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return unpack_from(L, 1, offset);
}

static int cmsgpack_unpack_limit(lua_State *L) {
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return unpack_from(L, limit, offset);
}

/* ------------------------------------------------------------------- table */

int lode_luaopen_cmsgpack(lua_State *L) {
    lua_newtable(L);

    PackBuf *buf = (PackBuf *)lua_newuserdata(L, sizeof(PackBuf));
    buf->data = NULL;
    buf->len = buf->cap = 0;
    lua_newtable(L);
    lua_pushcfunction(L, packbuf_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushcclosure(L, cmsgpack_pack, 1);
    lua_setfield(L, -2, "pack");

    lua_pushcfunction(L, cmsgpack_unpack);
    lua_setfield(L, -2, "unpack");
    lua_pushcfunction(L, cmsgpack_unpack_one);
    lua_setfield(L, -2, "unpack_one");
    lua_pushcfunction(L, cmsgpack_unpack_limit);
    lua_setfield(L, -2, "unpack_limit");

    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}
