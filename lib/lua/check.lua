-- check.lua - may this account try to log in from this source, and is the
-- password one of its app passwords? One round trip for both.
--
-- KEYS[1]  account hash (PREFIX:a:ACCOUNT)
-- KEYS[2]  decision statistics hash (PREFIX:stats)
-- KEYS[3]  account settings hash (PREFIX:u:ACCOUNT): mfa flag, app passwords
-- KEYS[4]  familiar sources (PREFIX:f:ACCOUNT), see report.lua
-- KEYS[5]  source hash (PREFIX:s:SOURCE), absent when there is no source
--          or the source is trusted
-- ARGV[1]  account_window in ms      ARGV[2]  source_window in ms
-- ARGV[3]  "1": a login attempt (count, record use); "0": only look
-- ARGV[4]  app-password digest of the presented password, "" for none
-- ARGV[5]  source text, recorded as an app password's last use source
-- ARGV[6]  how long revoked app passwords are remembered, ms
-- ARGV[7]  familiar_sources ms
-- ARGV[8]  "1": answer as for a familiar source whatever the source (the
--          admin tool's view of the familiar side); "0" otherwise
-- ARGV[9]  "1": the caller verifies this attempt and reports its outcome
--          itself, and skips the report of a success that would change
--          nothing (see "Clean successes" below); "0" or absent otherwise
--
-- From a familiar source (a success from there within familiar_sources)
-- only the familiar counter's lock (flu) refuses; from anywhere else the
-- other lock (lu). An admin lock (lu = -1) refuses everywhere.
--
-- The lockout state is only read. A refusal, or a verdict reached here on
-- an app password, is the whole decision: it is counted in the statistics
-- hash (field = result name), and an app-password success clears the
-- account's failures here, so such a login costs this one round trip.
--
-- Clean successes. Most logins are the owner's, with no failures on record,
-- from a source that is familiar already: report.lua would change nothing
-- but the familiar source's time. So when ARGV[9] is "1", the attempt is
-- allowed, no app password matched, the account has no mfa flag, no
-- account hash exists and the source (if any) was recorded as familiar
-- within the last familiar_sources / 720 (an hour at the default 30 days),
-- this script counts the success in the statistics in advance and answers
-- success_counted = 1. The caller then sends no report for a success
-- (one round trip per login); any other outcome it reports with "take the
-- success back" (report.lua ARGV[16]). A familiar source is thus
-- remembered from its last recorded success, at most that hour earlier
-- than the last one.
--
-- Returns {state, account_failures, source_failures, until_ms, now_ms,
--          mfa, app_match, app_label, familiar, success_counted}
-- state: 0 allowed, 1 account locked, 2 account disabled (admin, no end),
--        3 source blocked.
-- mfa: 1 if the account has two-factor authentication (needs app passwords).
-- app_match: 0 no match, 1 an active app password (login succeeded),
--            2 a revoked one, 3 an expired one; app_label names it.
-- Time is the Redis server's, so every mail server of a site agrees.
--
-- App password record, field "p:LABEL" (active) or "r:LABEL:REVOKED_MS"
-- (revoked) of the settings hash:
--   v1|STATE|DIGEST|CREATED|EXPIRES|LASTUSE|LASTSOURCE|REVOKED
-- STATE a (active) or r (revoked); times in ms, 0 for none.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local attempt = ARGV[3] == '1'

-- Failures still inside their window (a window starts at its first failure).
local function live_count(n, ws, window)
  n, ws = tonumber(n) or 0, tonumber(ws) or 0
  if ws + window <= now then return 0 end
  return n
end

-- Digests are compared with ==: Lua interns every string, so equality is
-- one pointer comparison whatever the contents (no early exit on the first
-- differing byte), and the digests are keyed HMACs an attacker cannot aim.

local source = ARGV[5]
local familiar = ARGV[8] == '1'
local recent = source == ''     -- familiar time fresh enough for a clean success
if not familiar and source ~= '' then
  local last = tonumber(redis.call('ZSCORE', KEYS[4], source))
  familiar = last ~= nil and last + tonumber(ARGV[7]) > now
  recent = last ~= nil and last + tonumber(ARGV[7]) / 720 > now
end

local state, untilms = 0, 0
local a = redis.call('HMGET', KEYS[1], 'n', 'ws', 'lu', 'fn', 'fws', 'flu', 'le')
local afail, lu = live_count(a[1], a[2], tonumber(ARGV[1])), tonumber(a[3]) or 0
if familiar then
  afail = live_count(a[4], a[5], tonumber(ARGV[1]))
end
local lockend = familiar and (tonumber(a[6]) or 0) or lu
if lu == -1 then
  state = 2
elseif lockend > now then
  state, untilms = 1, lockend
end

local sfail = 0
if #KEYS >= 5 then
  local s = redis.call('HMGET', KEYS[5], 'n', 'ws', 'bu')
  sfail = live_count(s[1], s[2], tonumber(ARGV[2]))
  local bu = tonumber(s[3]) or 0
  if state == 0 and bu > now then
    state, untilms = 3, bu
  end
end

local mfa = (redis.call('HGET', KEYS[3], 'mfa') == '1') and 1 or 0
local match, label = 0, ''
local digest = ARGV[4]
if state == 0 and digest ~= '' then
  -- Every record is compared, matching or not, so the time taken does not
  -- tell which record (or whether any) matched.
  local all = redis.call('HGETALL', KEYS[3])
  local keep = tonumber(ARGV[6])
  for i = 1, #all, 2 do
    local field, rec = all[i], all[i + 1]
    local kind = string.sub(field, 1, 2)
    if kind == 'p:' or kind == 'r:' then
      local st, d, created, expires, lastuse, lastsrc, revoked =
        string.match(rec, '^v1|(%a)|(%x+)|(%d+)|(%d+)|(%d+)|([^|]*)|(%d+)$')
      if st then
        revoked, expires = tonumber(revoked), tonumber(expires)
        if d == digest and match == 0 then
          label = string.match(field, '^..([^:]*)')
          if st == 'r' then
            match = 2
          elseif expires > 0 and expires <= now then
            match = 3
          else
            match = 1
            if attempt then
              redis.call('HSET', KEYS[3], field, table.concat(
                {'v1', st, d, created, expires, now, ARGV[5], revoked}, '|'))
            end
          end
        elseif attempt and st == 'r' and revoked + keep <= now then
          redis.call('HDEL', KEYS[3], field)   -- forgotten after the retention
        end
      end
    end
  end
end

local counted = 0
if attempt then
  local result = ({'locked', 'disabled', 'throttled'})[state]
  if state == 0 and match == 0 and mfa == 0 and recent and ARGV[9] == '1'
     and redis.call('EXISTS', KEYS[1]) == 0 then
    result, counted = 'success', 1     -- in advance; see "Clean successes"
  elseif match == 1 then
    result = 'success'
    -- as report.lua does for a success: clear the failure counts and
    -- fingerprints, never a lock nor the memory of one (escalation); the
    -- source becomes familiar (recorded again at most every
    -- familiar_sources / 720, as for a clean success)
    if lu ~= 0 or (tonumber(a[6]) or 0) ~= 0 or (tonumber(a[7]) or 0) ~= 0 then
      local drop = {'n', 'ws', 'fn', 'fws', 'wc'}
      for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
        if string.sub(f, 1, 1) == 'w' and f ~= 'ws' then drop[#drop + 1] = f end
      end
      redis.call('HDEL', KEYS[1], unpack(drop))
    else
      redis.call('DEL', KEYS[1])
    end
    if source ~= '' and not recent then
      redis.call('ZADD', KEYS[4], now, source)
      redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -33)
      redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[7]))
    end
    afail = 0
  elseif match >= 2 then
    result = 'revoked_credential'
  end
  if result then redis.call('HINCRBY', KEYS[2], result, 1) end
end

return {state, afail, sfail, untilms, now, mfa, match, label, familiar and 1 or 0, counted}
