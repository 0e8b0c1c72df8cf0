-- report.lua - count a failed login, or clear an account after a success.
--
-- KEYS[1]  account hash (PREFIX:a:ACCOUNT)
-- KEYS[2]  decision statistics hash (PREFIX:stats): HINCRBY ARGV[9]
-- KEYS[3]  source hash (PREFIX:s:SOURCE), absent when there is no source
--          or the source is trusted
-- ARGV[1]  "f" (failure), "s" (success) or "n" (neither: only counted in
--          the statistics, e.g. a correct primary password refused because
--          the account needs an app password)
-- ARGV[2]  account_failures   ARGV[3] account_window ms  ARGV[4] account_lock ms
-- ARGV[5]  source_failures    ARGV[6] source_window ms   ARGV[7] source_block ms
-- ARGV[8]  source text for the account's "last failure source" field
-- ARGV[9]  result name to count in the statistics ("" for none)
--
-- Returns {state, account_failures, source_failures, until_ms, now_ms} after
-- the report, with the states of check.lua. Runs atomically, so thresholds
-- are exact under any number of concurrent mail servers.
--
-- A window starts at its first failure and lasts its window length. Reaching
-- the threshold sets the lock (or block) end; the next failure after that
-- end starts a fresh window. Every key gets a TTL that covers its window
-- and its lock, so an idle key disappears by itself.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local kind = ARGV[1]

local function expire_after(key, ws, window, lockend)
  local last = math.max(ws + window, lockend)
  redis.call('PEXPIRE', key, math.max(last - now, 1))
end

-- Count one failure in hash KEY; LOCKFIELD holds the lock/block end.
-- Returns count, lock end (ms, 0 none, -1 no end).
local function count_failure(key, lockfield, threshold, window, lockms)
  local h = redis.call('HMGET', key, 'n', 'ws', lockfield)
  local n, ws, lockend = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0
  if (lockend > 0 and lockend <= now) or ws + window <= now then
    -- the window is over, or a lock ended since: start afresh
    n, ws = 0, now
    if lockend > 0 and lockend <= now then lockend = 0 end
  end
  n = n + 1
  if n >= threshold and lockend == 0 then
    lockend = now + lockms
  end
  redis.call('HSET', key, 'n', n, 'ws', ws, lockfield, lockend)
  if lockend == -1 then
    redis.call('PERSIST', key)
  else
    expire_after(key, ws, window, lockend)
  end
  return n, lockend
end

local state, untilms, afail, sfail = 0, 0, 0, 0
if kind == 'f' then
  local lu
  afail, lu = count_failure(KEYS[1], 'lu', tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'lt', now, 'ls', ARGV[8])
  if lu == -1 then
    state = 2
  elseif lu > now then
    state, untilms = 1, lu
  end
  if #KEYS >= 3 then
    local bu
    sfail, bu = count_failure(KEYS[3], 'bu', tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
    if state == 0 and bu > now then
      state, untilms = 3, bu
    end
  end
elseif kind == 's' then
  -- A success clears the account's failures, never a lock (an admin lock or
  -- a lock set by a concurrent attempt stays) and never the source's count:
  -- one valid account must not launder an attacker's address.
  local lu = tonumber(redis.call('HGET', KEYS[1], 'lu')) or 0
  if lu == -1 or lu > now then
    redis.call('HDEL', KEYS[1], 'n', 'ws')
  else
    redis.call('DEL', KEYS[1])
  end
elseif kind ~= 'n' then
  return redis.error_reply('report.lua: unknown kind')
end

if ARGV[9] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[9], 1) end

return {state, afail, sfail, untilms, now}
