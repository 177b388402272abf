#ifndef LODE_CLUA_BRIDGE_H
#define LODE_CLUA_BRIDGE_H
// The C side of Lode's Lua binding. Lua reports errors with longjmp, which
// must never cross a Swift frame (Swift cleanups would be skipped). So every
// function Lua calls into Swift goes through a C trampoline here: the Swift
// function returns, and only then does C raise the error or yield.
#include <lua5.1/lua.h>

/// A Swift function called from Lua: returns the number of results, or
/// LODE_LUA_RAISE to raise the value on top of the stack as an error.
typedef int (*lode_lua_swift_fn)(lua_State *L);
#define LODE_LUA_RAISE (-1)

/// Non-zero while a Swift function called from Lua runs: the memory limit is
/// not applied then (an allocation failing in Swift code would longjmp out).
int lode_lua_in_host(void);

/// Pushes a Lua C function that calls `fn` (the trampoline raises for it).
void lode_lua_pushfunction(lua_State *L, lode_lua_swift_fn fn);

/// What the count hook decides each time it fires.
enum {
    LODE_HOOK_CONTINUE = 0,
    /// Suspend the script (lua_yield): the event loop serves other clients.
    LODE_HOOK_YIELD = 1,
    /// Raise the value on top of the stack (a killed script).
    LODE_HOOK_RAISE = 2,
};
typedef int (*lode_lua_hook_fn)(lua_State *L);

/// Installs a count hook every `count` instructions (and on every line when
/// `every_line`, so that a killed script cannot catch its error for long).
/// `fn` decides; 0 removes the hook.
void lode_lua_sethook(lua_State *L, lode_lua_hook_fn fn, int count, int every_line);

/// Whether the running function chain of `L` has no C function between its
/// base and its top (a yield from the hook would otherwise fail).
int lode_lua_can_yield(lua_State *L);

/// Lua 5.1's macros, as functions Swift can call.
int lode_lua_upvalueindex(int i);
void lode_lua_pop(lua_State *L, int n);
void lode_lua_newtable(lua_State *L);
#endif
