#!/bin/bash
# test_cli.sh - saslguard(8) end to end: the built command against its own
# redis-server and a private Cyrus SASL configuration (auxprop + sasldb).
#
# Every subcommand: text output, JSON (parsed with python3), exit codes.
# Failures are produced the real way, by "saslguard check" with wrong
# passwords. A missing redis-server, redis-cli, python3 or saslpasswd2 is a
# failure, never a skip. Prints "ok - ..." / "FAIL - ..." per check and
# "N passed, N failed" at the end.
#
# Environment: see lib.sh (top_builddir, REDIS_SERVER, REDIS_CLI, SG_WRAP,
# e.g. SG_WRAP="valgrind -q --error-exitcode=99 --leak-check=full").
set -u

. "$(dirname "$0")/lib.sh"
cli_setup
head -c 48 /dev/urandom > "$T/secret"; chmod 600 "$T/secret"
cat > "$CONF" <<EOF
# saslguard(8) test policy
redis = unix:$T/redis.sock
redis_timeout = 2s
account_failures = 3
account_window = 15m
account_lock = 15m
source_failures = 5
source_window = 10m
source_block = 1h
trusted_networks = 127.0.0.0/8
secret_file = $T/secret
EOF
A=alice@example.test

# ---------------------------------------------------------------- usage
run --help;              expect_rc "--help exits 0" 0; expect_out "--help lists the commands" "unblock ADDRESS\|PREFIX"
expect_out "--help documents the exit codes" "3 Redis unavailable"
run --version;           expect_out "--version" "^saslguard [0-9]"
for cmd in status explain list lock unlock unblock check stats config mfa app-password secret; do
    run "$cmd" --help
    if [ "$RC" = 0 ] && grep -q "^usage: saslguard $cmd" <<<"$OUT" && grep -q "exit status" <<<"$OUT"; then
        ok "$cmd --help"; else bad "$cmd --help"; show; fi
done
run frobnicate;          expect_rc "unknown subcommand: exit 2" 2; expect_err "unknown subcommand named" "unknown command 'frobnicate'"
run;                     expect_rc "no subcommand: exit 2" 2
run status --bogus alice; expect_rc "unknown option: exit 2" 2
run status;              expect_rc "status without ACCOUNT: exit 2" 2
run status "";           expect_rc "empty account: exit 2" 2

# ---------------------------------------------------------------- config check
run config check;        expect_rc "config check (good file): exit 0" 0; expect_out "config check says OK" "^$CONF: OK$"
run --json config check; jcheck "config check --json" 'd["valid"] is True and d["errors"] == []'
printf '# two mistakes\naccount_failures = many\naccount_lock = 15m\nbogus_key = 1\n' > "$T/bad.conf"
OUT=$("$SG" -c "$T/bad.conf" config check 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_rc "config check (2 errors): exit 2" 2
expect_err "first error with file:line" "bad\.conf:2: account_failures"
expect_err "second error with file:line" "bad\.conf:4: bogus_key"
OUT=$("$SG" -c "$T/bad.conf" config check --json 2>/dev/null); RC=$?
jcheck "config check --json lists both errors" 'd["valid"] is False and len(d["errors"]) == 2 and ":2:" in d["errors"][0] and ":4:" in d["errors"][1]'
OUT=$(SASLGUARD_CONF=$T/bad.conf "$SG" config check 2>&1); RC=$?
expect_rc "SASLGUARD_CONF is read" 2
OUT=$(SASLGUARD_CONF=$T/bad.conf "$SG" -c "$CONF" config check 2>&1); RC=$?
expect_rc "-c wins over SASLGUARD_CONF" 0
OUT=$("$SG" -c "$T/bad.conf" status alice 2>&1); RC=$?
expect_rc "broken policy file: status exits 2" 2

# ---------------------------------------------------------------- check
run_pw s3cret check "$A" "${SASL[@]}"
expect_rc "check, right password: exit 0" 0
expect_out "check prints result and SASL code" "^$A: success \(SASL_OK 0\)"
expect_out "check prints Postfix's reply" "^reply: 235 2\.7\.0 Authentication successful"
for i in 1 2 3; do
    run_pw "wrong$i" check "$A" --source 192.0.2.7 "${SASL[@]}"
done
expect_rc "check, wrong password: exit 1" 1
expect_out "wrong password: bad_credentials" "bad_credentials \(SASL_BADAUTH -13\)"
expect_out "wrong password: 535 reply" "^reply: 535 5\.7\.8 Error: authentication failed: authentication failure"
expect_out "the third failure locks" "^until: 20[0-9-]+T"
run_pw s3cret check "$A" --source 192.0.2.7 "${SASL[@]}" --json
expect_rc "locked, right password: exit 1" 1
jcheck "locked: result, SASL code and 454 reply" 'd["result"] == "locked" and d["sasl_code"] == -8 and d["reply"].startswith("454 4.7.0 Temporary authentication failure: transient failure") and d["failures"] == 3'

# ---------------------------------------------------------------- status
run status "$A"
expect_rc "status: exit 0" 0
expect_out "status: locked until a time" "^state: +locked until 20[0-9-]+T[0-9:]+Z"
expect_out "status: failures in window" "^failures: +3 within account_window = 15m \(account_failures = 3\)"
expect_out "status: last failure time and source" "^last failure: 20[0-9-]+T[0-9:]+Z from 192\.0\.2\.7/32"
expect_out "status: escalation level" "^escalation: +0"
expect_out "status: familiar sources (none yet)" "^familiar: +\(none\)"
run status ALICE@Example.TEST --json
jcheck "status --json (and case folded)" 'd["account"] == "alice@example.test" and d["state"] == "locked" and d["lock"] == "temporary" and d["failures"] == 3 and d["until"].endswith("Z") and d["last_failure"]["source"] == "192.0.2.7/32" and d["escalation_level"] == 0 and d["familiar_sources"] == []'
rcli HSET "sg:a:$A" lvl 2 >/dev/null
run --json status "$A";  jcheck "status shows field lvl when present" 'd["escalation_level"] == 2'
run status nobody@example.test
expect_rc "status of an account without state: exit 0" 0
expect_out "status says no failures recorded" "no failures recorded"

# ---------------------------------------------------------------- explain
run explain "$A"
expect_rc "explain: exit 0" 0
expect_out "explain: counter, threshold, policy keys, lock end" "^next attempt: 454 4\.7\.0 \(locked\): 3 failures >= account_failures = 3 within account_window = 15m; lock ends 20[0-9-]+T[0-9:]+Z \(account_lock = 15m\)"
expect_out "explain: Postfix reply" "reply: +454 4\.7\.0 Temporary authentication failure"
expect_out "explain: result and codes" "result: locked \(SASL_TRYAGAIN -8, PAM_MAXTRIES\)"
run explain "$A" --json
jcheck "explain --json" 'd["next"]["refused"] and d["next"]["result"] == "locked" and d["next"]["counter"] == "account" and d["next"]["threshold_key"] == "account_failures" and d["next"]["threshold"] == 3 and d["next"]["reply"].startswith("454 4.7.0")'
run explain 192.0.2.7
expect_out "explain address: reduced to the policy prefix" "192\.0\.2\.7 -> 192\.0\.2\.7/32 \(ipv4_prefix = 32\)"
expect_out "explain address: not trusted" "^trusted: no \(trusted_networks = 127\.0\.0\.0/8\)"
expect_out "explain address: source failures vs source_failures" "3 failures < source_failures = 5 within source_window = 10m"
run explain 127.0.0.1 --json
jcheck "explain trusted address" 'd["source"]["trusted"] and d["source"]["trusted_by"] == "127.0.0.0/8" and not d["next"]["refused"]'
run explain bob --source 192.0.2.7
expect_out "explain allowed account: password checked" "^next attempt: password checked: 0 failures < account_failures = 3"
expect_out "explain allowed: wrong password outcome" "wrong password: 535 5\.7\.8 .*account failure 1 of 3; source failure 4 of 5"
run explain bob --json
jcheck "explain allowed --json" 'not d["next"]["refused"] and d["next"]["on_failure"]["result"] == "bad_credentials" and d["next"]["on_success"]["reply"].startswith("235")'
run explain 192.0.2.300;  expect_rc "explain bad address: exit 2" 2
run explain --account 10.1.1.1; expect_rc "explain --account takes any name" 0

# ---------------------------------------------------------------- list
run list --locked
expect_rc "list --locked: exit 0" 0
expect_out "list --locked shows the locked account" "^alice@example\.test +locked +3 +20[0-9-]+T"
run list --locked --json
jcheck "list --locked --json" '[a["account"] for a in d["accounts"]] == ["alice@example.test"] and d["accounts"][0]["state"] == "locked" and d["sources"] == []'
run list --sources
expect_out "list --sources shows a source with failures" "^192\.0\.2\.7/32 +allowed +3"
expect_no "list --sources shows no accounts" "alice"

# ---------------------------------------------------------------- unlock
run -v unlock "$A"
expect_rc "unlock: exit 0" 0
expect_out "unlock says what was cleared" "unlocked \(was locked until .*3 failures cleared\)"
expect_err "unlock goes to syslog with the admin" "saslguard: admin=[^ ]+ action=unlock account=alice@example\.test result=ok"
run_pw s3cret check "$A" "${SASL[@]}"
expect_rc "after unlock the right password works (235)" 0
run unlock "$A";         expect_rc "unlock with nothing to clear: exit 1" 1

# ---------------------------------------------------------------- lock
OUT=$(SUDO_USER=tester "$SG" -c "$CONF" -v lock "$A" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_rc "lock (no duration): exit 0" 0
expect_err "lock logged with the sudo user" "admin=[^ ]+ sudo_user=tester action=lock account=alice@example\.test until=unlocked"
run_pw s3cret check "$A" "${SASL[@]}"
expect_rc "admin-locked account: exit 1" 1
expect_out "admin lock: disabled" "disabled \(SASL_DISABLED -19\)"
expect_out "admin lock: 535 account disabled" "^reply: 535 5\.7\.8 Error: authentication failed: account disabled"
run status "$A";         expect_out "status: locked until unlocked" "^state: +locked until unlocked"
run explain "$A";        expect_out "explain: disabled" "^next attempt: 535 5\.7\.8 \(disabled\): locked by an admin until unlocked"
run --json status "$A";  jcheck "status --json: admin lock" 'd["lock"] == "admin" and d["until"] is None'
run lock "$A" --for 2s
expect_rc "lock --for 2s: exit 0" 0
expect_out "lock --for says until when" "locked until 20[0-9-]+T[0-9:]+Z \(for 2s\)"
run_pw s3cret check "$A" "${SASL[@]}"
expect_out "temporary lock: locked, 454" "locked \(SASL_TRYAGAIN -8\)"
sleep 2.3
run_pw s3cret check "$A" "${SASL[@]}"
expect_rc "temporary lock ends by itself" 0
run lock "$A" --for 5x;  expect_rc "lock --for bad duration: exit 2" 2
run lock "$A" --for;     expect_rc "lock --for without value: exit 2" 2

# ---------------------------------------------------------------- sources
for i in 1 2 3 4 5; do run_pw wrong check "user$i@example.test" --source 198.51.100.9 "${SASL[@]}"; done
run list --sources --locked
expect_out "list --sources --locked: blocked source" "^198\.51\.100\.9/32 +blocked +5 +20[0-9-]+T"
run --json list --sources --locked
jcheck "list --sources --locked --json" '[s["source"] for s in d["sources"]] == ["198.51.100.9/32"] and d["sources"][0]["state"] == "blocked" and "accounts" not in d'
run_pw s3cret check "$A" --source 198.51.100.9 "${SASL[@]}"
expect_out "blocked source: throttled, 454" "throttled \(SASL_TRYAGAIN -8\)"
run explain 198.51.100.9
expect_out "explain blocked source" "^next attempt: 454 4\.7\.0 \(throttled\): source 198\.51\.100\.9/32: 5 failures >= source_failures = 5 within source_window = 10m; block ends 20[0-9-]+T[0-9:]+Z \(source_block = 1h\)"
run unblock 198.51.100.9
expect_rc "unblock address: exit 0" 0
expect_out "unblock reduces the address to its prefix" "^198\.51\.100\.9/32: unblocked"
run_pw s3cret check "$A" --source 198.51.100.9 "${SASL[@]}"
expect_rc "after unblock: success" 0
run unblock 198.51.100.9; expect_rc "unblock with nothing to clear: exit 1" 1
run_pw wrong check "$A" --source 2001:db8:1:2::5 "${SASL[@]}"
run unblock 2001:db8:1:2:0:0::/64
expect_rc "unblock PREFIX: exit 0" 0
expect_out "unblock normalises the prefix" "^2001:db8:1:2::/64: "
run unblock not-an-address; expect_rc "unblock bad address: exit 2" 2
run_pw x check "$A" --source 999.1.1.1 "${SASL[@]}"; expect_rc "check --source bad address: exit 2" 2

# ---------------------------------------------------------------- passwords never from argv
before=$(rcli HGET "sg:a:$A" n)
run check "$A" s3cret "${SASL[@]}"
expect_rc "password as an operand: exit 2" 2
expect_err "password as an operand: refused with the reason" "never from the command line"
run check "$A" --password s3cret "${SASL[@]}"
expect_rc "--password option: exit 2" 2
OUT=$("$SG" -c "$CONF" check "$A" "${SASL[@]}" </dev/null 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_rc "empty standard input: exit 2" 2
if [ "$(rcli HGET "sg:a:$A" n)" = "$before" ]; then ok "refused invocations counted nothing"; else bad "refused invocations counted"; fi
if grep -rqs "wrong1\|s3cret" "$T/redis.log"; then bad "a password reached Redis's log"; else ok "no password in Redis's log"; fi

# ---------------------------------------------------------------- hostile names
evil=$'ev\x01il"\\\n\xff'
run_pw x check "$evil" "${SASL[@]}"
run --json list --accounts
jcheck "list --json carries any bytes as valid JSON" 'any(a["account"] == "ev\x01il\"\\\n\u00ff" for a in d["accounts"])'
run list --accounts
expect_out "list text escapes control bytes" 'ev\\x01il\\x22\\x5c\\x0a\\xff'

# ---------------------------------------------------------------- stats
run stats
expect_rc "stats: exit 0" 0
expect_out "stats text" "^  bad_credentials +[1-9][0-9]*$"
run --json stats
jcheck "stats --json" 'd["total"] == sum(d["decisions"].values()) and d["decisions"]["locked"] >= 1'
run stats --prometheus
locked=$(rcli HGET sg:stats locked)
expect_out "prometheus HELP" "^# HELP saslguard_decisions_total "
expect_out "prometheus TYPE" "^# TYPE saslguard_decisions_total counter$"
expect_out "prometheus sample equals Redis" "^saslguard_decisions_total\{result=\"locked\"\} $locked$"
run stats --prometheus --output "$T/prom/saslguard.prom"
expect_rc "stats --output into a missing directory: exit 4" 4
mkdir -p "$T/prom"
run stats --prometheus --output "$T/prom/saslguard.prom"
expect_rc "stats --output: exit 0" 0
if grep -q "^saslguard_decisions_total{result=\"locked\"} $locked$" "$T/prom/saslguard.prom" \
   && [ "$(ls "$T/prom")" = saslguard.prom ]; then ok "--output written, no temporary file left"; else bad "--output file"; ls -l "$T/prom"; fi
run stats --prometheus --json; expect_rc "--prometheus with --json: exit 2" 2

# ---------------------------------------------------------------- smart lockout's two sides
# Failures from an account's familiar source are counted apart, with their
# own lock: status shows that side, unlock clears it.
F=fiona@example.test
sasl_user "$F" f1ona-pw
run_pw f1ona-pw check "$F" --source 198.51.100.9 "${SASL[@]}"
expect_rc "familiar: a success from 198.51.100.9" 0
for i in 1 2 3; do run_pw "typo$i" check "$F" --source 198.51.100.9 "${SASL[@]}"; done
run status "$F"
expect_out "status: the other side is not locked" "^state: +not locked"
expect_out "status: the familiar side is locked" "^familiar side: locked until 20[0-9-]+T.* \(3 failures from familiar sources\)"
run list --locked
expect_out "list --locked: an account locked on its familiar side" "$F"
run explain "$F"
expect_out "explain: the familiar side's lock" "^familiar sources \(1\): locked until 20[0-9-]+T.* after 3 failures from them"
run --json status "$F"
jcheck "status --json: familiar_side" 'd["familiar_side"]["state"] == "locked" and d["familiar_side"]["failures"] == 3 and d["state"] == "allowed"'
run_pw f1ona-pw check "$F" --source 203.0.113.77 "${SASL[@]}"
expect_rc "familiar lock: an unfamiliar source still logs in" 0
run unlock "$F"
expect_out "unlock says what the familiar side had" "^$F: unlocked \(was locked until 20"
run_pw f1ona-pw check "$F" --source 198.51.100.9 "${SASL[@]}"
expect_rc "after unlock: the familiar source logs in" 0

# ---------------------------------------------------------------- Redis down
cp "$T/prom/saslguard.prom" "$T/prom.before"
redis_stop
run status "$A"
expect_rc "Redis stopped: status exits 3" 3
expect_err "Redis stopped: clear message" "^saslguard: cannot reach Redis at unix:$T/redis\.sock: .+"
run lock "$A";           expect_rc "Redis stopped: lock exits 3" 3
run unlock "$A";         expect_rc "Redis stopped: unlock exits 3" 3
run list;                expect_rc "Redis stopped: list exits 3" 3
run explain "$A";        expect_rc "Redis stopped: explain exits 3" 3
run_pw s3cret check "$A" "${SASL[@]}"
expect_rc "Redis stopped: check exits 3" 3
expect_out "Redis stopped: check shows store_unavailable" "store_unavailable \(SASL_UNAVAIL -24\)"
expect_err "Redis stopped: check names the endpoint" "cannot reach Redis at unix:$T/redis\.sock"
run stats --prometheus --output "$T/prom/saslguard.prom"
expect_rc "Redis stopped: stats exits 3" 3
if cmp -s "$T/prom.before" "$T/prom/saslguard.prom"; then ok "Redis stopped: --output file left as it was"; else bad "--output file changed"; fi
run config check;        expect_rc "config check needs no Redis" 0

# through Redis Sentinel, none of them answering: the same exit code, and
# the message names the Sentinels, the master and the last reason
printf 'redis = sentinel://127.0.0.1:1,127.0.0.1:2/mail-1\nredis_timeout = 500ms\n' >"$T/sentinel.conf"
OUT=$($SG_WRAP "$SG" -c "$T/sentinel.conf" status "$A" 2>"$T/stderr" </dev/null); RC=$?; ERR=$(cat "$T/stderr")
expect_rc "no Sentinel: status exits 3" 3
expect_err "no Sentinel: clear message" \
    "^saslguard: Redis at sentinel://127\.0\.0\.1:1,127\.0\.0\.1:2/mail-1: sentinel: no Sentinel named master 'mail-1' \(last: 127\.0\.0\.1:2: Connection refused\)$"

finish
