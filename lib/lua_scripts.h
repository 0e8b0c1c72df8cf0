/*
 * lua_scripts.h - the store's Lua scripts, embedded at build time from
 * the lib/lua/ scripts by build-aux/embed-lua.sh.
 */
#ifndef SG_LUA_SCRIPTS_H
#define SG_LUA_SCRIPTS_H

extern const char sg_lua_check[];
extern const char sg_lua_report[];
extern const char sg_lua_admin[];

#endif
