-- Everyday redis-lua (Debian's lua-redis 2.0.5) usage against a server on 127.0.0.1:<port>.
local redis = require("redis")
local port = assert(tonumber(arg[1]), "usage: lua_redis.lua PORT")
local r = redis.connect("127.0.0.1", port)

local function check(what, ok)
  if not ok then io.stderr:write(what .. " failed\n"); os.exit(1) end
  print("ok " .. what)
end

r:flushdb()
check("strings", r:set("lua:s", "v") and r:get("lua:s") == "v" and r:incrby("lua:n", 5) == 5)
r:hmset("lua:h", { a = "1", b = "2" })
local h = r:hgetall("lua:h")
check("hash", h.a == "1" and h.b == "2")
local replies = r:pipeline(function(p)
  p:set("lua:p1", "1")
  p:set("lua:p2", "2")
  p:mget("lua:p1", "lua:p2")
end)
check("pipeline", #replies == 3 and replies[3][1] == "1" and replies[3][2] == "2")
local tx = r:transaction(function(t)
  t:set("lua:t", "x")
  t:incr("lua:tn")
end)
check("transaction", tx[1] and tx[2] == 1)
-- Lode's SCAN cursors stay below 2^53, so Lua's numbers carry them exactly.
for i = 0, 299 do r:set("lua:scan:" .. i, "v") end
local seen, count, cursor = {}, 0, "0"
repeat
  local reply = r:scan(cursor, { match = "lua:scan:*", count = 7 })
  cursor = reply[1]
  for _, key in ipairs(reply[2]) do
    if not seen[key] then seen[key] = true; count = count + 1 end
  end
until tostring(cursor) == "0"
check("scan", count == 300)
check("script", r:eval("return redis.call('get', KEYS[1])", 1, "lua:s") == "v")
r:set("lua:e", "v")
r:pexpire("lua:e", 50)
local ttl = r:pttl("lua:e")
os.execute("sleep 0.15")
check("expiry", ttl > 0 and r:get("lua:e") == nil)
local ok, err = pcall(function() return r:lpush("lua:s", "x") end)
check("wrongtype", not ok and tostring(err):find("WRONGTYPE Operation against a key holding the wrong kind of value", 1, true))
-- Pub/sub: a second connection publishes; this one reads the message.
local sub = redis.connect("127.0.0.1", port)
local received
for message, abort in sub:pubsub({ subscribe = "lua:ch" }) do
  if message.kind == "subscribe" then
    r:publish("lua:ch", "hello")
  elseif message.kind == "message" then
    received = message.payload
    abort()
  end
end
check("pubsub", received == "hello")
