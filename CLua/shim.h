#ifndef LODE_CLUA_SHIM_H
#define LODE_CLUA_SHIM_H
// Lua 5.1 as Redis embeds it, from the system (Debian: liblua5.1-0-dev), with
// the cjson and bit libraries of Debian's lua-cjson-dev and lua-bitop-dev.
#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <lua5.1/lualib.h>
#include <lua5.1/lua-cjson.h>
#include <lua5.1/lua-bitop.h>
#endif
