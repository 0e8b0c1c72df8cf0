-- admin.lua - lock an account on an admin's order (saslguard lock).
--
-- KEYS[1]  account hash (PREFIX:a:ACCOUNT)
-- ARGV[1]  lock length in ms; "0": until an admin unlocks it
-- ARGV[2]  account_window in ms
--
-- Sets the lock ends that check.lua reads: -1 (no end, refused from every
-- source; the key loses its TTL so the lock cannot expire with it), or
-- now + length for both the unfamiliar (lu) and the familiar (flu) side
-- (replacing any lock there was: an admin's lock applies everywhere), with
-- a TTL that covers that end and whatever the key already had to live for.
-- Failures are kept: unlock (DEL) clears all. Time is the Redis server's,
-- as in the other scripts.
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
local ttl = tonumber(redis.call('PTTL', KEYS[1])) or -2
redis.call('HSET', KEYS[1], 'lu', lu, 'flu', lu)
redis.call('PEXPIRE', KEYS[1], math.max(ws + window - now, lu - now, ttl, 1))
return {lu, now}
