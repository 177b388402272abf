/* lua_struct.c: binary packing for Lode's Lua scripts (the `struct` global).
 *
 * Lode's own implementation of what scripts observe from the struct library (struct.c 1.7,
 * Roberto Ierusalimschy, MIT) as bundled with Redis 7.0.15 (deps/lua/src/lua_struct.c), with
 * Redis's change that unpack's offset must be 1 or greater. Same formats, alignment rules,
 * error texts (argument numbers included) and stack use.
 *
 * Format: '<' '>' endianness (default: the machine's), '!n' maximum alignment (default 8),
 * 'x' a zero byte, 'b' 'B' 'h' 'H' 'l' 'L' 'T' integers of 1, 2, 8, 8 bytes ('T' unsigned),
 * 'i' 'I' integers of n bytes (default 4, at most 32), 'f' 'd' float and double, 'cn' n chars
 * (packing: 0 = the whole string; unpacking: 0 = the length just read), 's' a zero-terminated
 * string, ' ' ignored. Sizes are those of Redis on a 64-bit Linux (long and size_t 8 bytes).
 *
 * Redis's version converts doubles to 64-bit integers with casts that are undefined out of
 * range; the helpers below spell out what they do on x86-64, where Redis was observed.
 */
#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>

#include <stdint.h>
#include <string.h>

#include "include/CLuaLibs.h"

#define MAXINTSIZE 32 /* largest 'i'/'I' size */
#define MAXALIGN 8    /* '!' with no number: the alignment of a double */

enum { BIG = 0, LITTLE = 1 };

typedef struct Header {
    int endian;
    int align;
} Header;

static int native_endian(void) {
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first ? LITTLE : BIG;
}

static void default_options(Header *h) {
    h->endian = native_endian();
    h->align = 1;
}

/* ASCII tests, not <ctype.h>: format bytes above 127 must be neither, whatever the locale. */
static int is_digit(int c) {
    return c >= '0' && c <= '9';
}

static int is_alnum(int c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ----------------------------------------------------------- x86-64 casts */

#define TWO_63 9223372036854775808.0 /* 2^63 */

/* (int64_t)d: out of range, NaN and infinities give INT64_MIN. */
static int64_t x86_to_int64(double d) {
    return (d >= -TWO_63 && d < TWO_63) ? (int64_t)d : INT64_MIN;
}

/* (uint64_t)d as gcc compiles it: below 2^63 (NaN included) a signed conversion, else a
 * signed conversion of d - 2^63 with the top bit flipped. So 2^64 and +inf give 0. */
static uint64_t x86_to_uint64(double d) {
    if (!(d >= TWO_63)) return (uint64_t)x86_to_int64(d);
    return (uint64_t)x86_to_int64(d - TWO_63) ^ (UINT64_C(1) << 63);
}

/* ------------------------------------------------------------------ format */

/* The number after an option, or `df` when there is none. */
static int getnum(lua_State *L, const char **fmt, int df) {
    if (!is_digit(**fmt)) return df;
    int a = 0;
    do {
        if (a > (INT32_MAX / 10) || a * 10 > (INT32_MAX - (**fmt - '0'))) luaL_error(L, "integral size overflow");
        a = a * 10 + *((*fmt)++) - '0';
    } while (is_digit(**fmt));
    return a;
}

/* The size of option `opt` (consuming its number); 0 for 's' and the control options. */
static size_t optsize(lua_State *L, int opt, const char **fmt) {
    switch (opt) {
    case 'B': case 'b': return 1;
    case 'H': case 'h': return 2;
    case 'L': case 'l': case 'T': case 'd': return 8;
    case 'f': return 4;
    case 'x': return 1;
    case 'c': return (size_t)getnum(L, fmt, 1);
    case 'i': case 'I': {
        int sz = getnum(L, fmt, 4);
        if (sz > MAXINTSIZE) luaL_error(L, "integral size %d is larger than limit of %d", sz, MAXINTSIZE);
        return (size_t)sz;
    }
    default: return 0;
    }
}

/* Padding before an item of `size` bytes at offset `len`: aligned to min(size, align).
 * The mask arithmetic assumes a power of 2; for other sizes ('i3'...) it gives what Redis's
 * gives. 'c' and zero-sized items are never aligned. */
static size_t gettoalign(size_t len, const Header *h, int opt, size_t size) {
    if (size == 0 || opt == 'c') return 0;
    if (size > (size_t)h->align) size = (size_t)h->align;
    return (size - (len & (size - 1))) & (size - 1);
}

/* ' ', '<', '>', '!n'; anything else is an invalid option. */
static void controloptions(lua_State *L, int opt, const char **fmt, Header *h) {
    switch (opt) {
    case ' ': return;
    case '>': h->endian = BIG; return;
    case '<': h->endian = LITTLE; return;
    case '!': {
        int a = getnum(L, fmt, MAXALIGN);
        if (!(a > 0 && (a & (a - 1)) == 0)) luaL_error(L, "alignment %d is not a power of 2", a);
        h->align = a;
        return;
    }
    default: {
        const char *msg = lua_pushfstring(L, "invalid format option '%c'", opt);
        luaL_argerror(L, 1, msg);
    }
    }
}

/* Writes the low `size` bytes of v in `endian` order (v is 64 bits, so bytes past the 8th
 * are zeros: -1 as 'i16' is eight 0xff and eight 0x00). */
static void put_bytes(luaL_Buffer *b, uint64_t v, int endian, size_t size) {
    char bytes[MAXINTSIZE];
    for (size_t i = 0; i < size; i++) {
        bytes[endian == LITTLE ? i : size - 1 - i] = (char)(v & 0xff);
        v >>= 8;
    }
    luaL_addlstring(b, bytes, size);
}

/* ---------------------------------------------------------------- pack */

static int struct_pack(lua_State *L) {
    luaL_Buffer b;
    const char *fmt = luaL_checkstring(L, 1);
    Header h;
    int arg = 2;
    size_t totalsize = 0;
    default_options(&h);
    lua_pushnil(L); /* separates the arguments from the buffer's stack slots, as in Redis's */
    luaL_buffinit(L, &b);
    while (*fmt != '\0') {
        int opt = *fmt++; /* a plain char: bytes above 127 are negative, as there */
        size_t size = optsize(L, opt, &fmt);
        size_t toalign = gettoalign(totalsize, &h, opt, size);
        totalsize += toalign;
        while (toalign-- > 0) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I': {
            lua_Number n = luaL_checknumber(L, arg++);
            uint64_t v = n < 0 ? (uint64_t)x86_to_int64(n) : x86_to_uint64(n);
            put_bytes(&b, v, h.endian, size);
            break;
        }
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            uint32_t bits;
            memcpy(&bits, &f, 4);
            put_bytes(&b, bits, h.endian, 4);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            uint64_t bits;
            memcpy(&bits, &d, 8);
            put_bytes(&b, bits, h.endian, 8);
            break;
        }
        case 'c': case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (size == 0) size = l;
            /* `arg` has moved on: Redis's message names the argument after the string. */
            luaL_argcheck(L, l >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            controloptions(L, opt, &fmt, &h);
        }
        totalsize += size;
    }
    luaL_pushresult(&b);
    return 1;
}

/* ---------------------------------------------------------------- unpack */

/* The `size` bytes at p as an unsigned number in `endian` order; past 8 bytes the earliest
 * ones shift out. */
static uint64_t read_uint(const char *p, int endian, size_t size) {
    uint64_t l = 0;
    for (size_t i = 0; i < size; i++) l = l << 8 | (unsigned char)p[endian == BIG ? i : size - 1 - i];
    return l;
}

/* An integer option's value. Signed: the sign mask is ~0 << (size*8 - 1) with the shift count
 * taken mod 64, as x86-64's shift does, which past 8 bytes is not the sign bit ('i9' extends
 * from bit 7, 'i16' from bit 63). */
static lua_Number getinteger(const char *p, int endian, int issigned, size_t size) {
    uint64_t l = read_uint(p, endian, size);
    if (!issigned) return (lua_Number)l;
    uint64_t mask = ~UINT64_C(0) << ((unsigned)((int)size * 8 - 1) & 63u);
    if (l & mask) l |= mask;
    return (lua_Number)(int64_t)l;
}

/* struct.unpack(fmt, data [, pos]): the values, then the position after them (1-based). */
static int struct_unpack(lua_State *L) {
    Header h;
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const char *data = luaL_checklstring(L, 2, &ld);
    /* Converted to size_t before the test, as there: a negative position passes it, and then
     * fails "data string too short" (or, with an empty format, comes back as pos). */
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--; /* 0-based from here */
    int n = 0;
    default_options(&h);
    while (*fmt) {
        int opt = *fmt++;
        size_t size = optsize(L, opt, &fmt);
        pos += gettoalign(pos, &h, opt, size);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results"); /* the item and the final position */
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I': {
            int issigned = opt == 'b' || opt == 'h' || opt == 'l' || opt == 'i';
            lua_pushnumber(L, getinteger(data + pos, h.endian, issigned, size));
            n++;
            break;
        }
        case 'x':
            break;
        case 'f': {
            uint32_t bits = (uint32_t)read_uint(data + pos, h.endian, 4);
            float f;
            memcpy(&f, &bits, 4);
            lua_pushnumber(L, f);
            n++;
            break;
        }
        case 'd': {
            uint64_t bits = read_uint(data + pos, h.endian, 8);
            double d;
            memcpy(&d, &bits, 8);
            lua_pushnumber(L, d);
            n++;
            break;
        }
        case 'c': {
            if (size == 0) {
                /* The length is the previous result, which lua_isnumber also accepts as a
                 * numeric string; it is replaced by the chars. */
                if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)x86_to_uint64(lua_tonumber(L, -1));
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            n++;
            break;
        }
        case 's': {
            const char *e = (const char *)memchr(data + pos, '\0', ld - pos);
            if (e == NULL) luaL_error(L, "unfinished string in data");
            size = (size_t)(e - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            n++;
            break;
        }
        default:
            controloptions(L, opt, &fmt, &h);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return n + 1;
}

/* ---------------------------------------------------------------- size */

/* struct.size(fmt): the bytes pack would produce. Only non-alphanumeric options go through
 * controloptions here, so an unknown letter or digit ('z', '5') is silently ignored. */
static int struct_size(lua_State *L) {
    Header h;
    const char *fmt = luaL_checkstring(L, 1);
    size_t pos = 0;
    default_options(&h);
    while (*fmt) {
        int opt = *fmt++;
        size_t size = optsize(L, opt, &fmt);
        pos += gettoalign(pos, &h, opt, size);
        if (opt == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!is_alnum(opt)) controloptions(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

/* ------------------------------------------------------------------- table */

static const luaL_Reg struct_functions[] = {
    {"pack", struct_pack},
    {"unpack", struct_unpack},
    {"size", struct_size},
    {NULL, NULL},
};

int lode_luaopen_struct(lua_State *L) {
    lua_newtable(L);
    luaL_register(L, NULL, struct_functions);
    /* Redis's luaL_register(L, "struct", ...) also records the table in _LOADED. */
    luaL_findtable(L, LUA_REGISTRYINDEX, "_LOADED", 1);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "struct");
    lua_pop(L, 1);
    return 1;
}
