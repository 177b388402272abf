// See CLuaBridge.h: trampolines that keep Lua's longjmp out of Swift frames.
#include "CLuaBridge.h"
#include <lua5.1/lauxlib.h>

static int in_host = 0;
int lode_lua_in_host(void) { return in_host; }

static int trampoline(lua_State *L) {
    lode_lua_swift_fn fn = (lode_lua_swift_fn)lua_touserdata(L, lua_upvalueindex(1));
    in_host++;
    int n = fn(L);
    in_host--;
    if (n == LODE_LUA_RAISE) return lua_error(L);
    return n;
}

void lode_lua_pushfunction(lua_State *L, lode_lua_swift_fn fn) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushcclosure(L, trampoline, 1);
}

// One decider per process is enough: every Lua state of Lode uses the same.
static lode_lua_hook_fn hook_decider = 0;

static void count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (!hook_decider) return;
    switch (hook_decider(L)) {
    case LODE_HOOK_YIELD:
        lua_yield(L, 0);
        return;
    case LODE_HOOK_RAISE:
        lua_error(L);
        return;
    default:
        return;
    }
}

void lode_lua_sethook(lua_State *L, lode_lua_hook_fn fn, int count, int every_line) {
    if (!fn) {
        lua_sethook(L, 0, 0, 0);
        return;
    }
    hook_decider = fn;
    int mask = LUA_MASKCOUNT | (every_line ? LUA_MASKLINE : 0);
    lua_sethook(L, count_hook, mask, count);
}

int lode_lua_can_yield(lua_State *L) {
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "S", &ar)) return 0;
        if (ar.what[0] == 'C') return 0;
    }
    return 1;
}

int lode_lua_upvalueindex(int i) { return lua_upvalueindex(i); }
void lode_lua_pop(lua_State *L, int n) { lua_pop(L, n); }
void lode_lua_newtable(lua_State *L) { lua_newtable(L); }
