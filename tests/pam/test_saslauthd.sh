#!/bin/bash
# test_saslauthd.sh - pam_saslguard.so behind saslauthd, end to end:
# saslauthd -a pam asked by testsaslauthd, and a private Postfix with
# pwcheck_method: saslauthd asked by swaks. Here PAM does the lockout:
# Postfix loads only the stock PLAIN/LOGIN plugins (system plugin dir), not
# saslguard's SASL plugin.
#
# saslauthd answers every PAM refusal with NO, and libsasl turns that into
# SASL_BADAUTH, so the client always gets 535 5.7.8 ... authentication
# failure: for a wrong password, a lock (PAM_MAXTRIES), an admin lock
# (PAM_PERM_DENIED) and Redis down (PAM_AUTHINFO_UNAVAIL) alike. The test
# asserts exactly that, and that Redis holds the real state.
#
# saslauthd reads /etc/pam.d only: the service files
# /etc/pam.d/saslguard-sasl-PID and saslguard-sasl-down-PID are written and
# removed on exit. saslauthd is started with setsid (on SIGTERM it kills
# its process group) and stopped by PID; Redis and Postfix as in
# tests/e2e/lib.sh. Runs in a private network namespace when possible.
#
# Needs root, redis-server, redis-cli, saslauthd, testsaslauthd, db_load,
# postfix, swaks; a missing one is a failure, never a skip. Prints
# "ok - ..." / "FAIL - ..." per check, then "N passed, N failed".
set -u
# shellcheck source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
e2e_netns "$@"
e2e_init

MOD=$top_builddir/plugin/.libs/pam_saslguard.so
SVC=saslguard-sasl-$$
SVC_DOWN=saslguard-sasl-down-$$
SAD=$E2E_RUN/saslauthd
if [ -n "${E2E_IN_NETNS:-}" ]; then SMTP_PORT2=2526; else SMTP_PORT2=$(e2e_freeport); fi

sasl_cleanup() {
    e2e_killpidfile "$SAD/fg.pid" saslauthd
    rm -f "/etc/pam.d/$SVC" "/etc/pam.d/$SVC_DOWN"
    e2e_cleanup
}
trap sasl_cleanup EXIT

TS_OK='0: OK "Success."'
TS_NO='0: NO "authentication failed"'
ALICE=Alice-pw-7741 BOB=Bob-pw-2210
W1=Wr0ngPassw0rd-one W2=Wr0ngPassw0rd-two W3=Wr0ngPassw0rd-three

# ts USER PASSWORD [SERVICE]: testsaslauthd's answer line.
ts() { testsaslauthd -u "$1" -p "$2" -s "${3:-$SVC}" -f "$SAD/mux" 2>&1; }
# sw PORT MECH USER PASSWORD: the final AUTH reply swaks saw.
sw() {
    swaks --server "127.0.0.1:$1" --helo client.example.test --from alice@example.test \
        --to bob@example.test --quit-after AUTH --auth "$2" --auth-user "$3" \
        --auth-password "$4" </dev/null 2>&1 | grep -E '^(<-  235|<\*\* [45][0-9][0-9]) ' | head -1
}
eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got '$3', wanted '$2')"; fi; }
cli() { "$SG" -c "$POL" "$@" >"$E2E_RUN/cli.out" 2>&1 </dev/null; }
cli_ok() {
    local name=$1; shift
    if cli "$@"; then ok "$name"; else bad "$name"; sed 's/^/    | /' "$E2E_RUN/cli.out"; fi
}
saslauthd_log() { cat "$SAD/saslauthd.log"; }

# ------------------------------------------------------------ prerequisites
[ "$(id -u)" = 0 ] && ok "running as root" || bad "running as root (saslauthd, Postfix, /etc/pam.d)"
e2e_require redis-server redis-cli saslauthd testsaslauthd db_load postfix swaks || { e2e_summary; exit 1; }
for f in "$MOD" "$SG"; do [ -f "$f" ] || { bad "not built: $f"; e2e_summary; exit 1; }; done
ok "module and CLI built"
if redis_start; then ok "redis-server started (unix socket)"; else bad "redis-server start"; e2e_summary; exit 1; fi

head -c 48 /dev/urandom >"$E2E_RUN/conf/secret"; chmod 600 "$E2E_RUN/conf/secret"
POL=$E2E_RUN/conf/saslguard.conf
COMMON=("account_failures = 3" "account_window = 15m" "account_lock = 15m" "account_lock_max = 1h"
    "source_failures = 20" "trusted_networks =" "secret_file = $E2E_RUN/conf/secret")
write_policy "$POL" "${COMMON[@]}" "store_failure = tempfail"
REDIS_SOCK_SAVED=$REDIS_SOCK
REDIS_SOCK=$E2E_RUN/redis/no-redis-here.sock write_policy "$E2E_RUN/conf/down.conf" "${COMMON[@]}" "store_failure = tempfail"
REDIS_SOCK=$REDIS_SOCK_SAVED

mkdir -p "$E2E_RUN/pam" "$SAD"; chmod 755 "$SAD"
printf '%s\n' alice "$ALICE" bob "$BOB" >"$E2E_RUN/pam/users.txt"
db_load -T -t hash -f "$E2E_RUN/pam/users.txt" "$E2E_RUN/pam/users.db" && ok "db_load: pam_userdb database" || bad "db_load"
stack() {   # the /etc/pam.d/smtp of pam_saslguard(8), pam_userdb as the password check
    cat <<EOF
# written by saslguard's tests/pam/test_saslauthd.sh, removed when it ends
auth     requisite                  $MOD preauth conf=$1
auth     [success=1 default=bad]    pam_userdb.so db=$E2E_RUN/pam/users crypt=none
auth     [default=die]              $MOD authfail conf=$1
auth     required                   $MOD authsucc conf=$1
account  required                   pam_permit.so
EOF
}
stack "$POL" >"/etc/pam.d/$SVC"
stack "$E2E_RUN/conf/down.conf" >"/etc/pam.d/$SVC_DOWN"

# ------------------------------------------------------------ saslauthd
# setsid: on SIGTERM saslauthd kills its whole process group
setsid saslauthd -a pam -m "$SAD" -n 1 -d >"$SAD/saslauthd.log" 2>&1 </dev/null &
echo $! >"$SAD/fg.pid"           # (saslauthd writes its own saslauthd.pid there)
for _ in $(seq 100); do [ -S "$SAD/mux" ] && break; sleep 0.05; done
if [ -S "$SAD/mux" ]; then ok "saslauthd -a pam started"; else bad "saslauthd did not start"; saslauthd_log | tail -5; e2e_summary; exit 1; fi

# ------------------------------------------------------------ Postfix: stock PLAIN/LOGIN -> saslauthd
# shellcheck disable=SC2034  # read by postfix_setup (lib.sh)
E2E_SASL_PATH=$E2E_SYS_PLUGDIR          # not saslguard's SASL plugin: PAM does the lockout
postfix_setup "$POL"
cat >"$E2E_RUN/pf/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: saslauthd
saslauthd_path: $SAD/mux
mech_list: PLAIN LOGIN
EOF
echo "smtpd_sasl_service = $SVC" >>"$E2E_RUN/pf/etc/main.cf"
echo "127.0.0.1:$SMTP_PORT2 inet n - n - - smtpd -o smtpd_sasl_service=$SVC_DOWN" >>"$E2E_RUN/pf/etc/master.cf"
touch -d "@$(( $(date +%s) - 10 ))" "$E2E_RUN/pf/etc/main.cf" "$E2E_RUN/pf/etc/master.cf"
if postfix_start; then ok "postfix started on 127.0.0.1:$SMTP_PORT and :$SMTP_PORT2"; else bad "postfix start"; e2e_summary; exit 1; fi

# ------------------------------------------------------------ testsaslauthd
echo "# testsaslauthd -> saslauthd -> PAM (account_failures = 3)"
eq "alice, right password" "$TS_OK" "$(ts alice "$ALICE")"
eq "alice, wrong password 1" "$TS_NO" "$(ts alice "$W1")"
eq "alice, wrong password 2" "$TS_NO" "$(ts alice "$W2")"
eq "alice, wrong password 3" "$TS_NO" "$(ts alice "$W3")"
eq "Redis: HGET sg:a:alice n = 3" 3 "$(rcli HGET sg:a:alice n)"
lu=$(rcli HGET sg:a:alice lu); now=$(redis_now_ms)
[ "${lu:-0}" -gt "$now" ] 2>/dev/null && ok "Redis: alice locked" || bad "alice not locked (lu=$lu, now $now)"
eq "alice locked, right password: the same NO" "$TS_NO" "$(ts alice "$ALICE")"
eq "refusals while locked are not counted (n = 3)" 3 "$(rcli HGET sg:a:alice n)"
check "saslauthd logs a lock as an auth failure" "auth failure: \[user=alice\] \[service=$SVC\] \[realm=\] \[mech=pam\] \[reason=PAM auth error\]" "$(saslauthd_log)"

echo "# Postfix (pwcheck_method: saslauthd) -> saslauthd -> PAM"
eq "locked: AUTH PLAIN, right password -> 535 (not 454)" "$BAD535" "$(sw "$SMTP_PORT" PLAIN alice "$ALICE")"
eq "locked: AUTH LOGIN, right password -> 535" "$BAD535" "$(sw "$SMTP_PORT" LOGIN alice "$ALICE")"
cli_ok "saslguard unlock alice" unlock alice
eq "after unlock: testsaslauthd OK" "$TS_OK" "$(ts alice "$ALICE")"
eq "after unlock: AUTH PLAIN -> 235" "$OK235" "$(sw "$SMTP_PORT" PLAIN alice "$ALICE")"
eq "after unlock: AUTH LOGIN -> 235" "$OK235" "$(sw "$SMTP_PORT" LOGIN alice "$ALICE")"

cli_ok "saslguard lock alice (until unlocked)" lock alice
eq "admin lock: testsaslauthd NO" "$TS_NO" "$(ts alice "$ALICE")"
eq "admin lock: AUTH PLAIN -> 535 authentication failure (not 'account disabled')" "$BAD535" "$(sw "$SMTP_PORT" PLAIN alice "$ALICE")"
cli_ok "saslguard unlock alice" unlock alice

echo "# a lockout made through Postfix"
eq "bob, right password -> 235" "$OK235" "$(sw "$SMTP_PORT" PLAIN bob "$BOB")"
eq "bob, wrong password 1 -> 535" "$BAD535" "$(sw "$SMTP_PORT" PLAIN bob "$W1")"
eq "bob, wrong password 2 -> 535" "$BAD535" "$(sw "$SMTP_PORT" LOGIN bob "$W2")"
eq "bob@example.test, wrong password 3 -> 535" "$BAD535" "$(sw "$SMTP_PORT" PLAIN bob@example.test "$W3")"
eq "Redis: the realm is not part of the PAM user (sg:a:bob n = 3)" 3 "$(rcli HGET sg:a:bob n)"
eq "Redis: no key for bob@example.test" 0 "$(rcli EXISTS sg:a:bob@example.test)"
eq "bob locked, right password -> 535" "$BAD535" "$(sw "$SMTP_PORT" PLAIN bob "$BOB")"
eq "bob locked: testsaslauthd NO" "$TS_NO" "$(ts bob "$BOB")"
eq "saslauthd sets no PAM_RHOST: no source counted" "" "$(rcli --scan --pattern 'sg:s:*')"
check "Postfix logs the refusal as an authentication failure" \
    'SASL PLAIN authentication failed: authentication failure, sasl_username=bob' "$(postfix_log)"
cli_ok "saslguard unlock bob" unlock bob
eq "bob after unlock -> 235" "$OK235" "$(sw "$SMTP_PORT" PLAIN bob "$BOB")"

echo "# Redis unreachable, store_failure = tempfail (the module: PAM_AUTHINFO_UNAVAIL)"
eq "testsaslauthd NO" "$TS_NO" "$(ts alice "$ALICE" "$SVC_DOWN")"
eq "AUTH PLAIN -> 535, not 454: saslauthd has no temporary failure" "$BAD535" "$(sw "$SMTP_PORT2" PLAIN alice "$ALICE")"
check "saslauthd logs it as any other failure: reason=PAM auth error" \
    "auth failure: \[user=alice\] \[service=$SVC_DOWN\] \[realm=\] \[mech=pam\] \[reason=PAM auth error\]" "$(saslauthd_log)"

e2e_summary
