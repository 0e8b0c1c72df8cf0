-- admin.lua - lock an account on an admin's order (saslguard lock).
--
-- KEYS[1]  account hash (PREFIX:a:ACCOUNT)
-- ARGV[1]  lock length in ms; "0": until an admin unlocks it
-- ARGV[2]  account_window in ms
--
-- Sets the lock end "lu" that check.lua reads: -1 (no end; the key loses
-- its TTL so the lock cannot expire with it), or now + length (replacing
-- any lock there was), with a TTL that covers both that end and the live
-- failure window, as report.lua's keys have. Failures are kept: unlock
-- (DEL) clears both. Time is the Redis server's, as in the other scripts.
--
-- Returns {until_ms, now_ms}; until_ms is -1 for a lock without end.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local len = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
if not len or len < 0 or len ~= math.floor(len) or not window then
  return redis.error_reply('admin.lua: bad arguments')
end

if len == 0 then
  redis.call('HSET', KEYS[1], 'lu', -1)
  redis.call('PERSIST', KEYS[1])
  return {-1, now}
end

local lu = now + len
local ws = tonumber(redis.call('HGET', KEYS[1], 'ws')) or 0
redis.call('HSET', KEYS[1], 'lu', lu)
redis.call('PEXPIRE', KEYS[1], math.max(math.max(ws + window, lu) - now, 1))
return {lu, now}
