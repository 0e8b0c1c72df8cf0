-- check.lua - may this account try to log in from this source? Reads only.
--
-- KEYS[1]  account hash (PREFIX:a:ACCOUNT)
-- KEYS[2]  decision statistics hash (PREFIX:stats)
-- KEYS[3]  source hash (PREFIX:s:SOURCE), absent when there is no source
--          or the source is trusted
-- ARGV[1]  account_window in ms      ARGV[2]  source_window in ms
-- ARGV[3]  "1": count a refusal in the statistics; "0": only look
--
-- The lockout state is only read. A refusal is the whole decision, so it
-- is counted here in the statistics hash (field = result name).
--
-- Returns {state, account_failures, source_failures, until_ms, now_ms};
-- state: 0 allowed, 1 account locked, 2 account disabled (admin, no end),
--        3 source blocked.
-- Time is the Redis server's, so every mail server of a site agrees.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Failures still inside their window (a window starts at its first failure).
local function live_count(n, ws, window)
  n, ws = tonumber(n) or 0, tonumber(ws) or 0
  if ws + window <= now then return 0 end
  return n
end

local state, untilms = 0, 0
local a = redis.call('HMGET', KEYS[1], 'n', 'ws', 'lu')
local afail = live_count(a[1], a[2], tonumber(ARGV[1]))
local lu = tonumber(a[3]) or 0
if lu == -1 then
  state = 2
elseif lu > now then
  state, untilms = 1, lu
end

local sfail = 0
if #KEYS >= 3 then
  local s = redis.call('HMGET', KEYS[3], 'n', 'ws', 'bu')
  sfail = live_count(s[1], s[2], tonumber(ARGV[2]))
  local bu = tonumber(s[3]) or 0
  if state == 0 and bu > now then
    state, untilms = 3, bu
  end
end

local refusal = ({'locked', 'disabled', 'throttled'})[state]
if refusal and ARGV[3] == '1' then redis.call('HINCRBY', KEYS[2], refusal, 1) end

return {state, afail, sfail, untilms, now}
