#!/bin/bash
# test_cli_postfix.sh - saslguard(8) against a real Postfix: what an admin
# does with the command is what SMTP clients see.
#
# A private Postfix loading libsaslguard.so, a private Redis, swaks as the
# client (tests/e2e/lib.sh). Failures lock alice (454), `saslguard unlock`
# lets her in (235); `saslguard lock` disables her (535 ... account
# disabled), a timed lock is temporary (454, then 235 by itself); status,
# explain, list and stats agree with what Postfix answered, and `saslguard
# check` through Postfix's own smtpd.conf gets the same verdict.
# Needs root and redis-server, postfix, swaks, saslpasswd2; a missing one
# is a failure, never a skip. Prints "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
e2e_netns "$@"
e2e_init

USER=alice@example.test
PASS=s3cret

[ "$(id -u)" = 0 ] && ok "running as root" || bad "running as root (Postfix needs it)"
e2e_require redis-server redis-cli postfix swaks saslpasswd2 || { e2e_summary; exit 1; }
[ -x "$SG" ] && ok "saslguard built: $SG" || { bad "saslguard not built: $SG"; e2e_summary; exit 1; }
if e2e_install_plugin; then ok "plugin built"; else bad "plugin not built: $PLUGIN_SO"; e2e_summary; exit 1; fi
if redis_start; then ok "redis-server started"; else bad "redis-server start"; e2e_summary; exit 1; fi
sasldb_add "$USER" "$PASS" || bad "saslpasswd2"
POL=$E2E_RUN/conf/saslguard.conf
write_policy "$POL" "account_failures = 3" "account_window = 10m" "account_lock = 15m" \
    "account_lock_max = 15m" "source_failures = 100" "trusted_networks ="
postfix_setup "$POL"
if postfix_start; then ok "postfix started on 127.0.0.1:$SMTP_PORT"; else bad "postfix start"; e2e_summary; exit 1; fi

sg() { "$SG" -c "$POL" "$@"; }

# ------------------------------------------------------------ locked by failures
for i in 1 2 3; do
    check_line "wrong password $i -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$USER" "wrong$i")"
done
check_line "locked: right password -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check "status: locked after Postfix's failures" '^state: +locked until 20' "$(sg status "$USER")"
check "status: last failure from the client" '^last failure: .* from 127\.0\.0\.1/32' "$(sg status "$USER")"
check "explain: 454 with counter and threshold" \
    '^next attempt: 454 4\.7\.0 \(locked\): 3 failures >= account_failures = 3 within account_window = 10m' \
    "$(sg explain "$USER")"
check "list --locked shows alice" '^alice@example\.test +locked +3' "$(sg list --locked)"
out=$(sg -v unlock "$USER" 2>&1); rc=$?
[ "$rc" = 0 ] && ok "saslguard unlock: exit 0" || bad "saslguard unlock: exit $rc"
check "unlock logged with the admin" 'saslguard: admin=[^ ]+ action=unlock account=alice@example\.test result=ok' "$out"
check_line "after saslguard unlock -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"

# ------------------------------------------------------------ admin lock
sg lock "$USER" >/dev/null && ok "saslguard lock: exit 0" || bad "saslguard lock"
check_line "admin lock: PLAIN -> 535 account disabled" "$DIS535" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check_line "admin lock: LOGIN -> 535 account disabled" "$DIS535" "$(smtp_auth_reply LOGIN "$USER" "$PASS")"
check "explain: disabled" '^next attempt: 535 5\.7\.8 \(disabled\)' "$(sg explain "$USER")"
out=$(echo "$PASS" | sg check "$USER" --sasl-conf-dir "$E2E_RUN/pf/etc/sasl" 2>&1); rc=$?
check "check through Postfix's smtpd.conf: disabled" '^reply: 535 5\.7\.8 Error: authentication failed: account disabled' "$out"
[ "$rc" = 1 ] && ok "check refused: exit 1" || bad "check refused: exit $rc"
sg unlock "$USER" >/dev/null && ok "unlock the admin lock" || bad "unlock the admin lock"
check_line "after unlock -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
out=$(echo "$PASS" | sg check "$USER" --sasl-conf-dir "$E2E_RUN/pf/etc/sasl" 2>&1); rc=$?
check "check through Postfix's smtpd.conf: success" '^reply: 235 2\.7\.0' "$out"
[ "$rc" = 0 ] && ok "check success: exit 0" || bad "check success: exit $rc"

# ------------------------------------------------------------ timed lock
sg lock "$USER" --for 2s >/dev/null && ok "saslguard lock --for 2s" || bad "saslguard lock --for 2s"
check_line "timed lock -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
sleep 2.3
check_line "timed lock over -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"

# ------------------------------------------------------------ stats
out=$(sg stats --prometheus)
check "stats: disabled decisions as Postfix saw them" \
    "^saslguard_decisions_total\{result=\"disabled\"\} $(rcli HGET sg:stats disabled)$" "$out"
check "stats: successes counted" '^saslguard_decisions_total\{result="success"\} [1-9]' "$out"
check "nothing locked at the end" '^no locked accounts$' "$(sg list --locked --accounts)"

e2e_summary
