-- report.lua - count a failed login, or record a successful one.
--
-- KEYS[1]  account hash (PREFIX:a:ACCOUNT)
-- KEYS[2]  decision statistics hash (PREFIX:stats): HINCRBY ARGV[11]
-- KEYS[3]  account settings hash (PREFIX:u:ACCOUNT): the mfa flag
-- KEYS[4]  familiar sources (PREFIX:f:ACCOUNT): sorted set, member = source
--          prefix, score = last successful login there (ms)
-- KEYS[5]  source hash (PREFIX:s:SOURCE), absent when the source is not
--          counted (unknown or trusted)
-- ARGV[1]  "f" failure, "s" success, "c" success unless the account needs
--          an app password (mfa flag), "n" neither (statistics only)
-- ARGV[2]  account_failures  ARGV[3] account_window  ARGV[4] account_lock
-- ARGV[5]  account_lock_max  ARGV[6] source_failures ARGV[7] source_window
-- ARGV[8]  source_block      ARGV[9] spray_accounts  (durations in ms)
-- ARGV[10] source text, "" when unknown
-- ARGV[11] result name to count in the statistics ("" for none)
-- ARGV[12] familiar_sources ms
-- ARGV[13] fingerprint of the wrong password (keyed HMAC), "" for none
-- ARGV[14] jitter for a new lock, a number in [-0.1, 0.1]
-- ARGV[15] the account's key part (its tag marks it in the source's hash)
-- ARGV[16] "1": check.lua counted this attempt as a success in advance (a
--          clean success, see check.lua); the outcome is another, so take
--          that count back. "0" or absent otherwise.
--
-- Returns {state, account_failures, source_failures, until_ms, now_ms,
--          repeated, level, familiar, spray, needs_app_password}
-- with the states of check.lua, after this report. Runs atomically, so
-- thresholds are exact under any number of concurrent mail servers.
--
-- The rules (saslguard.conf(5) says the same for admins):
-- * A window starts at its first failure and lasts its window length;
--   reaching the threshold locks (or blocks); the next failure after the
--   lock's end starts a fresh window.
-- * Failures from the account's familiar sources (a success from there
--   within familiar_sources) are counted apart (fn/fws/flu) from all
--   others (n/ws/lu): an attacker elsewhere cannot lock the owner out.
-- * The same wrong password again within the window counts once: a phone
--   with an old password does not lock its own account.
-- * Each new lock while the previous one ended less than account_lock_max
--   ago doubles (level + 1, with jitter), capped at account_lock_max; after
--   a quiet account_lock_max the level starts again at 0.
-- * A source failing on more than spray_accounts distinct accounts within
--   source_window is blocked like one that failed source_failures times.
-- Every key gets a TTL that covers its windows, locks and memory.
--
-- Memory is what an attack costs, so the hashes stay small (Redis keeps a
-- small hash as one compact listpack) and hold no field that is zero:
-- * the account hash keeps its wrong-password fingerprints as fields
--   "w<fp>" = time seen, at most 32 (counted in "wc");
-- * the source hash marks each failing account as a field "m<tag>" (tag:
--   10 hex of SHA-1 of the account key), at most spray_accounts + 1
--   (counted in "k"); a new source window starts the marks afresh.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local kind = ARGV[1]
local A_FAIL, A_WIN, A_LOCK, A_MAX = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local S_FAIL, S_WIN, S_BLOCK, SPRAY = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local source, stat, FAMILIAR = ARGV[10], ARGV[11], tonumber(ARGV[12])
local fingerprint, jitter, account = ARGV[13], tonumber(ARGV[14]) or 0, ARGV[15]
local counted_source = #KEYS >= 5
local FINGERPRINTS_MAX, FAMILIAR_MAX = 32, 32

local function num(v) return tonumber(v) or 0 end

local function is_familiar()
  if source == '' then return false end
  local last = tonumber(redis.call('ZSCORE', KEYS[4], source))
  return last ~= nil and last + FAMILIAR > now
end

-- One counter (n, ws, lockend) gets a failure: returns the new values and
-- whether this failure set a new lock.
local function bump(n, ws, lockend, window, threshold)
  if (lockend > 0 and lockend <= now) or ws + window <= now then
    n, ws = 0, now            -- the window is over, or a lock ended since
    if lockend > 0 and lockend <= now then lockend = 0 end
  end
  n = n + 1
  return n, ws, lockend, (n >= threshold and lockend == 0)
end

-- The escalated lock length for a new lock of the account hash.
local function escalate(h)
  local level, lastend = num(h.lvl), num(h.le)
  if lastend > 0 and lastend + A_MAX > now then
    level = level + 1
  else
    level = 0
  end
  if level == 0 then return 0, A_LOCK end   -- the first lock is exactly account_lock
  -- jitter keeps a crowd of locked clients from coming back at one instant
  local len = A_LOCK * math.pow(2, math.min(level, 40)) * (1 + jitter)
  return level, math.max(math.min(math.floor(len), A_MAX), 1)
end

local function account_ttl(h)
  local last = math.max(num(h.ws) + A_WIN, num(h.fws) + A_WIN, num(h.lu), num(h.flu))
  if num(h.lvl) > 0 or num(h.le) > 0 then last = math.max(last, num(h.le) + A_MAX) end
  if num(h.lu) == -1 then
    redis.call('PERSIST', KEYS[1])
  else
    redis.call('PEXPIRE', KEYS[1], math.max(last - now, 1))
  end
end

local function load_account()
  local v = redis.call('HMGET', KEYS[1], 'n', 'ws', 'lu', 'fn', 'fws', 'flu', 'lvl', 'le')
  return { n = num(v[1]), ws = num(v[2]), lu = num(v[3]), fn = num(v[4]),
           fws = num(v[5]), flu = num(v[6]), lvl = num(v[7]), le = num(v[8]) }
end

local ACCOUNT_FIELDS = {'n', 'ws', 'lu', 'fn', 'fws', 'flu', 'lvl', 'le'}

-- Write the account's counters: the non-zero ones; zero ones are removed.
local function save_account(h)
  local set, del = {}, {}
  for _, f in ipairs(ACCOUNT_FIELDS) do
    if h[f] ~= 0 then
      set[#set + 1] = f
      set[#set + 1] = h[f]
    else
      del[#del + 1] = f
    end
  end
  if #set > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
  if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
end

-- The same wrong password again within the window? Else remember it.
local function seen_before()
  if fingerprint == '' then return false end
  local field = 'w' .. fingerprint
  local at = tonumber(redis.call('HGET', KEYS[1], field))
  if at and at + A_WIN > now then return true end
  if at or num(redis.call('HGET', KEYS[1], 'wc')) < FINGERPRINTS_MAX then
    if redis.call('HSET', KEYS[1], field, now) == 1 then
      redis.call('HINCRBY', KEYS[1], 'wc', 1)
    end
  end
  return false
end

-- One more failure from the counted source: returns its count, block end
-- and whether this failure made it a password sprayer.
local function count_source()
  local s = redis.call('HMGET', KEYS[5], 'n', 'ws', 'bu', 'k')
  local n0, ws0, bu0 = num(s[1]), num(s[2]), num(s[3])
  local n, ws, bu, blocked = bump(n0, ws0, bu0, S_WIN, S_FAIL)
  local sprays, sprayed = num(s[4]), false
  if ws ~= ws0 then
    -- a new window: the spray marks start afresh
    redis.call('DEL', KEYS[5])
    sprays = 0
  end
  -- password spraying: many accounts, few tries each
  if sprays <= SPRAY then
    local tag = 'm' .. string.sub(redis.sha1hex(account), 1, 10)
    if redis.call('HSETNX', KEYS[5], tag, 1) == 1 then
      sprays = sprays + 1
      redis.call('HSET', KEYS[5], 'k', sprays)
    end
  end
  if sprays > SPRAY and bu == 0 then
    blocked, sprayed = true, true
  end
  if blocked then bu = now + S_BLOCK end
  redis.call('HSET', KEYS[5], 'n', n, 'ws', ws)
  if bu > 0 then
    redis.call('HSET', KEYS[5], 'bu', bu)
  elseif bu0 ~= 0 then
    redis.call('HDEL', KEYS[5], 'bu')
  end
  redis.call('PEXPIRE', KEYS[5], math.max(math.max(ws + S_WIN, bu) - now, 1))
  return n, bu, sprayed
end

local state, untilms, afail, sfail = 0, 0, 0, 0
local repeated, familiar, spray, needs_app = 0, 0, 0, 0
local h = nil

local function fail()
  familiar = is_familiar() and 1 or 0
  if seen_before() then repeated = 1 end

  h = load_account()
  if repeated == 0 then
    if familiar == 1 then
      local locked
      h.fn, h.fws, h.flu, locked = bump(h.fn, h.fws, h.flu, A_WIN, A_FAIL)
      if locked then h.flu = now + A_LOCK end
    else
      local locked
      h.n, h.ws, h.lu, locked = bump(h.n, h.ws, h.lu, A_WIN, A_FAIL)
      if locked then
        local len
        h.lvl, len = escalate(h)
        h.lu = now + len
        h.le = h.lu
      end
    end
    save_account(h)
  end
  redis.call('HSET', KEYS[1], 'lt', now, 'ls', source)
  account_ttl(h)

  local lockend = familiar == 1 and h.flu or h.lu
  afail = familiar == 1 and h.fn or h.n
  if h.lu == -1 then
    state = 2
  elseif lockend > now then
    state, untilms = 1, lockend
  end

  if counted_source and repeated == 0 then
    local bu, sprayed
    sfail, bu, sprayed = count_source()
    if sprayed then spray = 1 end
    if state == 0 and bu > now then
      state, untilms = 3, bu
    end
  end
end

local function succeed()
  -- A success clears the account's failure counts and fingerprints, never
  -- a lock (an admin lock, or one set by an attacker elsewhere, stays), nor
  -- the memory of a recent lock (escalation), nor the source's count: one
  -- valid account must not launder an address.
  h = load_account()
  if h.lu == -1 or h.lu > now or h.flu > now or (h.le > 0 and h.le + A_MAX > now) then
    local drop = {'n', 'ws', 'fn', 'fws', 'wc'}
    for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
      if string.sub(f, 1, 1) == 'w' and f ~= 'ws' then drop[#drop + 1] = f end
    end
    redis.call('HDEL', KEYS[1], unpack(drop))
    h.n, h.ws, h.fn, h.fws = 0, 0, 0, 0
    account_ttl(h)
  else
    redis.call('DEL', KEYS[1])
  end
  if source ~= '' then
    if redis.call('ZADD', KEYS[4], now, source) == 1 then
      -- a new familiar source: keep the set to the recent few
      redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - FAMILIAR)
      redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(FAMILIAR_MAX + 1))
    end
    redis.call('PEXPIRE', KEYS[4], FAMILIAR)
  end
end

if kind == 'f' then
  fail()
elseif kind == 's' then
  succeed()
elseif kind == 'c' then
  if redis.call('HGET', KEYS[3], 'mfa') == '1' then
    needs_app, stat = 1, 'app_password_required'
  else
    succeed()
  end
elseif kind ~= 'n' then
  return redis.error_reply('report.lua: unknown kind')
end

if ARGV[16] == '1' and stat ~= 'success' then
  redis.call('HINCRBY', KEYS[2], 'success', -1)
elseif ARGV[16] == '1' then
  stat = ''   -- counted already
end
if stat ~= '' then redis.call('HINCRBY', KEYS[2], stat, 1) end

return {state, afail, sfail, untilms, now, repeated, h and h.lvl or 0, familiar, spray, needs_app}
