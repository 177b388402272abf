/* CLuaLibs: the Lua 5.1 libraries Redis 7.0.15 gives EVAL scripts that Debian does not
 * package, written for Lode in C with the behaviour scripts observe from Redis's bundled
 * versions: `cmsgpack` (lua-cmsgpack 0.4.0) and `struct` (Roberto Ierusalimschy's struct.c).
 *
 * Each function is a lua_CFunction: it leaves the library table on the stack and returns 1.
 * Neither sets a global (Redis's own luaopen functions do); the host sets the table as the
 * global `cmsgpack` / `struct`, under whatever global protection it has. Redis also makes the
 * tables read-only; that too is the host's business.
 */
#ifndef LODE_CLUALIBS_H
#define LODE_CLUALIBS_H

/* For lua_State, the same way CLuaBridge's header gets it. */
#include <lua5.1/lua.h>

/* The `cmsgpack` table: pack, unpack, unpack_one, unpack_limit, _NAME, _VERSION, _COPYRIGHT,
 * _DESCRIPTION. */
int lode_luaopen_cmsgpack(lua_State *L);

/* The `struct` table: pack, unpack, size. Like Redis's (luaL_register), it also records the
 * table as "struct" in the registry's _LOADED table (package.loaded), creating that if need be. */
int lode_luaopen_struct(lua_State *L);

#endif
