#!/bin/bash
# test_pam.sh - pam_saslguard.so through libpam, with pam_userdb as the
# password check: the pam_faillock-style stack (preauth, authfail,
# authsucc), the apppass stack, PAM_RHOST throttling, the admin CLI's
# unlock/lock/unblock and app passwords, Redis down, broken configuration.
#
# The PAM application is tests/helpers/pam_driver on a private PAM config
# dir (pam_start_confdir): nothing outside a temp dir is touched, and the
# modules' pam_syslog lines are caught by the driver and asserted. One
# smoke test runs pamtester, which reads /etc/pam.d only: a service file
# /etc/pam.d/saslguard-test-PID is written and removed on exit.
# A private redis-server on a unix socket, stopped by PID.
#
# Needs root (pam_userdb, /etc/pam.d), redis-server, redis-cli, db_load
# (db5.3-util), python3, pamtester; a missing one is a failure, never a
# skip. Prints "ok - ..." / "FAIL - ..." per check, then "N passed, N failed".
# Environment: top_builddir (make check sets it), REDIS_SERVER, REDIS_CLI.
set -u

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
MOD=$top_builddir/plugin/.libs/pam_saslguard.so
DRIVER=$top_builddir/tests/helpers/pam_driver
SG=$top_builddir/tools/saslguard
PATH=$PATH:/usr/sbin:/sbin
SYS_SERVICE=''
# shellcheck source=../helpers/harness.sh
. "$(dirname "$0")/../helpers/harness.sh"
harness_init sgpam
harness_cleanup_hook() { [ -n "$SYS_SERVICE" ] && rm -f "/etc/pam.d/$SYS_SERVICE"; return 0; }

# ---------------------------------------------------------------- helpers
LOG=$T/syslog          # the modules' pam_syslog lines, caught by the driver
touch "$LOG"

# pam SERVICE USER PASSWORD [RHOST] [driver options...]: one authentication.
pam() {
    local svc=$1 user=$2 pw=$3 rhost=${4:-}
    shift 3; [ $# -gt 0 ] && shift
    local r=()
    [ -n "$rhost" ] && r=(-r "$rhost")
    OUT=$("$DRIVER" -d "$T/pam.d" -s "$svc" -u "$user" -p "$pw" "${r[@]}" -l "$LOG" "$@" 2>&1)
}
# expect NAME CODE SERVICE USER PASSWORD [RHOST]: the stack returns CODE.
expect() {
    local name=$1 code=$2
    shift 2
    pam "$@"
    if grep -q "^result: $code " <<<"$OUT"; then ok "$name -> $code"
    else bad "$name (wanted $code)"; sed 's/^/    | /' <<<"$OUT"; fi
}
# expect_out NAME REGEX: the last driver output matches.
expect_out() {
    if grep -qE -- "$2" <<<"$OUT"; then ok "$1"; else bad "$1 (wanted /$2/)"; sed 's/^/    | /' <<<"$OUT"; fi
}
eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got '$3', wanted '$2')"; fi; }
# Log lines since the last mark.
mark() { LOGMARK=$(wc -l <"$LOG"); }
newlog() { tail -n +$((LOGMARK + 1)) "$LOG"; }
LOGMARK=0
logcheck() {
    if newlog | grep -qE -- "$2"; then ok "$1"
    else bad "$1 (log lacks /$2/)"; newlog | sed 's/^/    | /' | tail -8; fi
}
# The CLI with the test policy; sets CLI_OUT and CLI_RC.
cli() { CLI_OUT=$("$SG" -c "$POL" "$@" 2>&1 </dev/null); CLI_RC=$?; }
cli_ok() {
    local name=$1; shift
    cli "$@"
    if [ "$CLI_RC" = 0 ]; then ok "$name"; else bad "$name (exit $CLI_RC)"; sed 's/^/    | /' <<<"$CLI_OUT"; fi
}
connections() { rcli INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p'; }

# ---------------------------------------------------------------- set-up
[ "$(id -u)" = 0 ] && ok "running as root" || bad "running as root (pam_userdb, /etc/pam.d)"
require_programs "install redis-server, db5.3-util, python3, pamtester" \
    "$REDIS_SERVER" "$REDIS_CLI" db_load python3 pamtester
[ -f /lib/x86_64-linux-gnu/security/pam_userdb.so ] || [ -f /usr/lib/x86_64-linux-gnu/security/pam_userdb.so ] ||
    { bad "pam_userdb.so not installed (libpam-modules)"; finish; }
for f in "$MOD" "$DRIVER" "$SG"; do [ -x "$f" ] || [ -f "$f" ] || { bad "not built: $f"; finish; }; done
ok "module, driver and CLI built"
out=$(nm -D --defined-only "$MOD" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')
eq "module exports only pam_sm_authenticate and pam_sm_setcred" "pam_sm_authenticate pam_sm_setcred " "$out"

redis_start 777

head -c 48 /dev/urandom >"$T/secret"; chmod 600 "$T/secret"
POL=$T/saslguard.conf
policy() {   # policy FILE REDIS STORE_FAILURE
    cat >"$1" <<EOF
# pam_saslguard test policy
redis = unix:$2
redis_timeout = 300ms
account_failures = 3
account_window = 15m
account_lock = 15m
account_lock_max = 1h
source_failures = 4
source_window = 10m
source_block = 1h
trusted_networks =
store_failure = $3
app_passwords = per-account
secret_file = $T/secret
EOF
}
policy "$POL" "$T/redis.sock" tempfail
for m in tempfail open closed; do policy "$T/down-$m.conf" "$T/no-redis-here.sock" "$m"; done
printf 'redis = unix:%s\nno_such_key = 1\n' "$T/redis.sock" >"$T/broken.conf"

# the password check: pam_userdb over a Berkeley DB hash (user, password lines)
ALICE=Alice-pw-7741 BOB=Bob-pw-2210 CAROL=Carol-primary-5092 DAVE=Dave-pw-3318 ERIN=Erin-pw-6603
W1=Wr0ngPassw0rd-one W2=Wr0ngPassw0rd-two W3=Wr0ngPassw0rd-three W4=Wr0ngPassw0rd-four
printf '%s\n' alice "$ALICE" bob "$BOB" carol "$CAROL" dave "$DAVE" erin "$ERIN" >"$T/users.txt"
db_load -T -t hash -f "$T/users.txt" "$T/users.db" && ok "db_load: pam_userdb database" || bad "db_load"

mkdir -p "$T/pam.d"
USERDB="pam_userdb.so db=$T/users crypt=none"
faillock() {   # faillock POLICY: the pam_faillock-style stack of pam_saslguard(8)
    cat <<EOF
auth  requisite                     $MOD preauth conf=$1
auth  [success=1 default=bad]       $USERDB
auth  [default=die]                 $MOD authfail conf=$1
auth  required                      $MOD authsucc conf=$1
account required                    pam_permit.so
EOF
}
appstack() {   # appstack POLICY: app passwords first, then the same
    cat <<EOF
auth  [success=done ignore=ignore default=die]  $MOD apppass conf=$1
auth  [success=1 default=bad]       $USERDB use_first_pass
auth  [default=die]                 $MOD authfail conf=$1
auth  required                      $MOD authsucc conf=$1
account required                    pam_permit.so
EOF
}
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"
faillock "$POL" >"$T/pam.d/faillock"
appstack "$POL" >"$T/pam.d/app"
for m in tempfail open closed; do faillock "$T/down-$m.conf" >"$T/pam.d/down-$m"; done
appstack "$T/down-tempfail.conf" >"$T/pam.d/app-down"
faillock "$T/missing.conf" >"$T/pam.d/missing"
faillock "$T/broken.conf" >"$T/pam.d/broken"
printf 'auth requisite %s preauth bogus conf=%s\nauth required pam_permit.so\n' "$MOD" "$POL" >"$T/pam.d/badarg"
printf 'auth requisite %s conf=%s\nauth required pam_permit.so\n' "$MOD" "$POL" >"$T/pam.d/nomode"
printf 'auth requisite %s preauth authsucc conf=%s\nauth required pam_permit.so\n' "$MOD" "$POL" >"$T/pam.d/twomodes"

# ---------------------------------------------------------------- exact lockout
echo "# faillock stack, account_failures = 3"
mark
expect "alice, right password" PAM_SUCCESS faillock alice "$ALICE"
expect_out "the password was asked once (by pam_userdb)" 'prompts=1$'
logcheck "log: result=success" 'notice: pam_saslguard\(faillock:auth\): saslguard: result=success account=alice mech=PAM$'
eq "no failure state for alice" 0 "$(rcli EXISTS sg:a:alice)"
expect "alice, wrong password 1" PAM_AUTH_ERR faillock alice "$W1"
expect "alice, wrong password 2" PAM_AUTH_ERR faillock alice "$W2"
mark
expect "alice, wrong password 3" PAM_AUTH_ERR faillock alice "$W3"
logcheck "log: the third failure locks" 'warning: .*result=bad_credentials account=alice mech=PAM failures=3 until=[0-9T:-]+Z.* now=locked'
eq "Redis: HGET sg:a:alice n = 3" 3 "$(rcli HGET sg:a:alice n)"
lu=$(rcli HGET sg:a:alice lu); now=$(redis_now_ms)
[ "${lu:-0}" -gt "$now" ] 2>/dev/null && ok "Redis: alice locked until a future time" || bad "lock end lu=$lu, now $now"
mark
expect "alice locked, right password" PAM_MAXTRIES faillock alice "$ALICE"
expect_out "refused before the password check (no prompt)" 'prompts=0$'
logcheck "log: result=locked" 'warning: .*saslguard: result=locked account=alice mech=PAM failures=3 until='
expect "alice locked, wrong password" PAM_MAXTRIES faillock alice "$W4"
eq "refusals while locked are not counted (n = 3)" 3 "$(rcli HGET sg:a:alice n)"
cli_ok "saslguard unlock alice" unlock alice
expect "alice after unlock" PAM_SUCCESS faillock alice "$ALICE"

echo "# admin lock"
cli_ok "saslguard lock alice (until unlocked)" lock alice
mark
expect "alice locked by an admin, right password" PAM_PERM_DENIED faillock alice "$ALICE"
logcheck "log: result=disabled" 'saslguard: result=disabled account=alice mech=PAM'
cli_ok "saslguard unlock alice" unlock alice
expect "alice after unlock" PAM_SUCCESS faillock alice "$ALICE"
cli_ok "saslguard lock alice --for 10m" lock alice --for 10m
expect "alice locked for 10 minutes" PAM_MAXTRIES faillock alice "$ALICE"
cli_ok "saslguard unlock alice" unlock alice

echo "# unknown users are counted and locked the same way"
expect "nobody, attempt 1 (pam_userdb: unknown)" PAM_USER_UNKNOWN faillock nobody "$W1"
expect "nobody, attempt 2" PAM_USER_UNKNOWN faillock nobody "$W2"
expect "nobody, attempt 3" PAM_USER_UNKNOWN faillock nobody "$W3"
eq "Redis: sg:a:nobody n = 3" 3 "$(rcli HGET sg:a:nobody n)"
expect "nobody, attempt 4: locked like a real account" PAM_MAXTRIES faillock nobody "$W4"

echo "# authfail hands the wrong password to the engine's fingerprint"
expect "dave, wrong password" PAM_AUTH_ERR faillock dave "$W1"
mark
expect "dave, the same wrong password again" PAM_AUTH_ERR faillock dave "$W1"
eq "the same wrong password counts once (n = 1)" 1 "$(rcli HGET sg:a:dave n)"
logcheck "log: repeat=yes counted=no" 'result=bad_credentials account=dave .*repeat=yes counted=no'
expect "dave, right password" PAM_SUCCESS faillock dave "$DAVE"

echo "# one engine per PAM handle"
# (each INFO call is a connection of its own: counted in the difference)
c0=$(connections)
expect "erin, right password" PAM_SUCCESS faillock erin "$ERIN"
c1=$(connections)
eq "preauth and authsucc share one Redis connection" 1 "$((c1 - c0 - 1))"
pam faillock erin "$ERIN" "" -n 3
eq "three handles, three connections" 3 "$(( $(connections) - c1 - 1 ))"
pam faillock erin "$ERIN" "" -c
expect_out "pam_setcred -> PAM_SUCCESS" '^setcred: PAM_SUCCESS \(0\)$'

# ---------------------------------------------------------------- PAM_RHOST
echo "# PAM_RHOST: source throttling (source_failures = 4)"
expect "erin from 192.0.2.10, wrong" PAM_AUTH_ERR faillock erin "$W1" 192.0.2.10
expect "frank from 192.0.2.10, unknown" PAM_USER_UNKNOWN faillock frank "$W2" 192.0.2.10
expect "grace from 192.0.2.10, unknown" PAM_USER_UNKNOWN faillock grace "$W3" 192.0.2.10
expect "heidi from 192.0.2.10, unknown" PAM_USER_UNKNOWN faillock heidi "$W4" 192.0.2.10
eq "Redis: sg:s:192.0.2.10/32 n = 4" 4 "$(rcli HGET sg:s:192.0.2.10/32 n)"
mark
expect "bob from 192.0.2.10, right password: throttled" PAM_MAXTRIES faillock bob "$BOB" 192.0.2.10
logcheck "log: result=throttled source=192.0.2.10/32" 'saslguard: result=throttled account=bob source=192\.0\.2\.10/32 mech=PAM'
expect "bob from 198.51.100.7" PAM_SUCCESS faillock bob "$BOB" 198.51.100.7
expect "bob without PAM_RHOST" PAM_SUCCESS faillock bob "$BOB"
expect "bob from 2001:db8::5, wrong" PAM_AUTH_ERR faillock bob "$W1" 2001:db8::5
eq "Redis: IPv6 sources counted per /64" 1 "$(rcli HGET sg:s:2001:db8::/64 n)"
n0=$(rcli --scan --pattern 'sg:s:*' | wc -l)
expect "bob from a host name, wrong" PAM_AUTH_ERR faillock bob "$W2" client.example.test
eq "a host name in PAM_RHOST is no source (account only)" "$n0" "$(rcli --scan --pattern 'sg:s:*' | wc -l)"
cli_ok "saslguard unblock 192.0.2.10" unblock 192.0.2.10
expect "bob from 192.0.2.10 after unblock" PAM_SUCCESS faillock bob "$BOB" 192.0.2.10

# ---------------------------------------------------------------- app passwords
echo "# app passwords (apppass stack)"
APPCLI=0
"$SG" app-password --help >/dev/null 2>&1 && APPCLI=1
# app_add ACCOUNT LABEL: a new app password in APP (with the CLI when it has
# "app-password", else the record written as store.h documents it)
app_add() {
    if [ "$APPCLI" = 1 ]; then
        cli --json app-password add "$1" --label "$2"
        APP=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])' <<<"$CLI_OUT" 2>/dev/null)
    else
        APP=$(python3 -c 'import random,string; print(" ".join("".join(random.choice(string.ascii_lowercase) for _ in range(4)) for _ in range(4)))')
        local digest now
        digest=$(python3 -c 'import hmac,hashlib,sys
key = open(sys.argv[1], "rb").read().rstrip(b"\r\n")
print(hmac.new(key, b"app-password\0" + sys.argv[2].encode() + b"\0" + sys.argv[3].replace(" ", "").encode(), hashlib.sha256).hexdigest())' "$T/secret" "$1" "$APP")
        now=$(redis_now_ms)
        rcli HSET "sg:u:$1" "p:$2" "v1|a|$digest|$now|0|0||0" >/dev/null
    fi
    [[ "$APP" =~ ^[a-z]{4}\ [a-z]{4}\ [a-z]{4}\ [a-z]{4}$ ]] && ok "app password $1/$2 created" || bad "app password $1/$2: '$APP' $CLI_OUT"
}
app_revoke() {
    if [ "$APPCLI" = 1 ]; then cli_ok "saslguard app-password revoke $1 $2" app-password revoke "$1" "$2"
    else
        local rec now
        rec=$(rcli HGET "sg:u:$1" "p:$2"); now=$(redis_now_ms)
        rcli HDEL "sg:u:$1" "p:$2" >/dev/null
        rcli HSET "sg:u:$1" "r:$2:$now" "$(sed "s/^v1|a|/v1|r|/; s/|0\$/|$now/" <<<"$rec")" >/dev/null
        ok "app password $1/$2 revoked (redis-cli)"
    fi
}
mfa_on() {
    if [ "$APPCLI" = 1 ]; then cli_ok "saslguard mfa on $1" mfa on "$1"
    else rcli HSET "sg:u:$1" mfa 1 >/dev/null; ok "mfa flag on $1 (redis-cli)"; fi
}
[ "$APPCLI" = 1 ] && echo "# records made with saslguard app-password" || echo "# records written with redis-cli"
app_add carol old; OLD=$APP
app_add carol phone; PHONE=$APP
app_revoke carol old
mfa_on carol
app_add alice laptop; LAPTOP=$APP

mark
expect "carol (two-factor), app password as shown" PAM_SUCCESS app carol "$PHONE"
expect_out "the password was asked once" 'prompts=1$'
logcheck "log: success by app password" 'notice: pam_saslguard\(app:auth\): saslguard: result=success account=carol mech=PAM credential=app_password label=phone'
newlog | grep -q 'pam_userdb' && bad "pam_userdb ran after an app password" || ok "pam_userdb not run for an app password (success=done)"
lastuse=$(rcli HGET sg:u:carol p:phone | cut -d'|' -f6)
[ "${lastuse:-0}" -gt 0 ] 2>/dev/null && ok "Redis: last use of carol/phone recorded" || bad "last use of carol/phone: '$lastuse'"
expect "carol, app password in capitals without spaces" PAM_SUCCESS app carol "$(tr -d ' ' <<<"$PHONE" | tr a-z A-Z)"
mark
expect "carol, right primary password" PAM_AUTH_ERR app carol "$CAROL"
logcheck "log: result=app_password_required" 'warning: .*saslguard: result=app_password_required account=carol mech=PAM'
eq "not counted as a failure" "" "$(rcli HGET sg:a:carol n | grep -v '^0$')"
expect "carol, right primary password, faillock stack (authsucc refuses)" PAM_AUTH_ERR faillock carol "$CAROL"
mark
expect "carol, revoked app password" PAM_AUTH_ERR app carol "$OLD"
logcheck "log: result=revoked_credential label=old" 'saslguard: result=revoked_credential account=carol mech=PAM label=old reason=revoked'
eq "a revoked app password is not counted" "" "$(rcli HGET sg:a:carol n | grep -v '^0$')"
expect "carol, wrong password" PAM_AUTH_ERR app carol "$W1"
eq "a wrong password is counted (n = 1)" 1 "$(rcli HGET sg:a:carol n)"
expect "alice (no two-factor), primary password via apppass stack" PAM_SUCCESS app alice "$ALICE"
expect_out "asked once: pam_userdb used apppass's password" 'prompts=1$'
expect "alice, app password" PAM_SUCCESS app alice "$LAPTOP"
expect "alice, wrong password via apppass stack" PAM_AUTH_ERR app alice "$W1"
expect "carol, wrong password 2" PAM_AUTH_ERR app carol "$W2"
expect "carol, wrong password 3" PAM_AUTH_ERR app carol "$W3"
expect "carol locked: app password refused too" PAM_MAXTRIES app carol "$PHONE"
cli_ok "saslguard unlock carol" unlock carol
cli_ok "saslguard lock carol" lock carol
expect "carol locked by an admin, app password" PAM_PERM_DENIED app carol "$PHONE"
cli_ok "saslguard unlock carol" unlock carol
expect "carol, app password after unlock" PAM_SUCCESS app carol "$PHONE"
eq "stats: app_password_required counted" 2 "$(rcli HGET sg:stats app_password_required)"
eq "stats: nothing counted as backend_unavailable (apppass's probe)" "" "$(rcli HGET sg:stats backend_unavailable)"

# ---------------------------------------------------------------- Redis down
echo "# Redis unreachable"
mark
expect "store_failure = tempfail" PAM_AUTHINFO_UNAVAIL down-tempfail alice "$ALICE"
expect_out "refused before the password check (no prompt)" 'prompts=0$'
logcheck "log: store=down policy=tempfail" 'saslguard: result=store_unavailable account=alice mech=PAM store=down policy=tempfail error='
expect "store_failure = closed" PAM_AUTH_ERR down-closed alice "$ALICE"
mark
expect "store_failure = open, right password" PAM_SUCCESS down-open alice "$ALICE"
logcheck "log: success, store=down counted=no" 'result=success account=alice mech=PAM store=down .*counted=no'
expect "store_failure = open, wrong password" PAM_AUTH_ERR down-open alice "$W1"
expect "apppass stack, store_failure = tempfail" PAM_AUTHINFO_UNAVAIL app-down carol "$PHONE"

# ---------------------------------------------------------------- configuration
echo "# configuration mistakes refuse with PAM_SERVICE_ERR"
mark
expect "policy file missing" PAM_SERVICE_ERR missing alice "$ALICE"
logcheck "log: cannot use policy" "err: .*saslguard: cannot use policy $T/missing.conf"
logcheck "log: result=config_error" 'saslguard: result=config_error account=alice mech=PAM detail=policy_not_loaded'
mark
expect "policy file with an unknown key" PAM_SERVICE_ERR broken alice "$ALICE"
logcheck "log: the file, line and key" "saslguard: config error: $T/broken.conf:2: no_such_key"
mark
expect "unknown module argument" PAM_SERVICE_ERR badarg alice "$ALICE"
logcheck "log: unknown module argument" 'saslguard: unknown module argument "bogus"'
expect "no mode" PAM_SERVICE_ERR nomode alice "$ALICE"
expect "two modes" PAM_SERVICE_ERR twomodes alice "$ALICE"

# ---------------------------------------------------------------- memory
if command -v valgrind >/dev/null 2>&1; then
    echo "# the module under valgrind (memory errors, definite leaks)"
    VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
    for run in "success faillock bob $BOB" "failure faillock bob $W3 192.0.2.77" \
               "app-password app carol $PHONE" "app-password-required app carol $CAROL" \
               "redis-down down-tempfail bob $BOB" "no-policy missing bob $BOB"; do
        set -- $run
        "${VG[@]}" "$DRIVER" -d "$T/pam.d" -s "$2" -u "$3" -p "$4" ${5:+-r "$5"} -n 2 -l "$LOG" >"$T/vg.out" 2>&1
        rc=$?
        if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then ok "valgrind clean: $1 (stack $2)"
        else bad "valgrind: $1 (stack $2, exit $rc)"; sed 's/^/    | /' "$T/vg.out" | head -20; fi
    done
else
    echo "# valgrind not found: the module runs without it"
fi

# ---------------------------------------------------------------- no password in any log
leaked=0
for pw in "$ALICE" "$BOB" "$CAROL" "$DAVE" "$ERIN" "$W1" "$W2" "$W3" "$W4" "$PHONE" "$OLD" "$LAPTOP" \
          "$(tr -d ' ' <<<"$PHONE")"; do
    [ -n "$pw" ] && grep -qiF -- "$pw" "$LOG" && { leaked=1; bad "a password is in the log: ${pw:0:3}..."; }
done
[ "$leaked" = 0 ] && ok "no password in $(wc -l <"$LOG") log lines"
leaked=$(rcli --scan | while read -r k; do rcli DUMP "$k"; done | grep -caF -e "$BOB" -e "$W1" -e "$CAROL")
eq "no password in Redis" 0 "$leaked"

# ---------------------------------------------------------------- pamtester
echo "# pamtester with /etc/pam.d/saslguard-test-$$"
SYS_SERVICE=saslguard-test-$$
faillock "$POL" >"/etc/pam.d/$SYS_SERVICE"
out=$(printf '%s\n' "$BOB" | pamtester -I rhost=203.0.113.9 "$SYS_SERVICE" bob authenticate 2>&1)
grep -q 'successfully authenticated' <<<"$out" && ok "pamtester: bob authenticated" || { bad "pamtester: bob"; echo "$out" | sed 's/^/    | /'; }
out=$(printf '%s\n' "$W1" | pamtester -I rhost=203.0.113.9 "$SYS_SERVICE" bob authenticate 2>&1)
grep -q 'Authentication failure' <<<"$out" && ok "pamtester: wrong password -> Authentication failure" || { bad "pamtester: wrong"; echo "$out" | sed 's/^/    | /'; }
eq "pamtester's PAM_RHOST counted: sg:s:203.0.113.9/32 n = 1" 1 "$(rcli HGET sg:s:203.0.113.9/32 n)"
cli_ok "saslguard lock bob" lock bob
out=$(printf '%s\n' "$BOB" | pamtester "$SYS_SERVICE" bob authenticate 2>&1)
grep -q 'Permission denied' <<<"$out" && ok "pamtester: admin lock -> Permission denied (PAM_PERM_DENIED)" || { bad "pamtester: locked"; echo "$out" | sed 's/^/    | /'; }
cli_ok "saslguard unlock bob" unlock bob
rm -f "/etc/pam.d/$SYS_SERVICE"; SYS_SERVICE=

finish
