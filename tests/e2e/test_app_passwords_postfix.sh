#!/bin/bash
# test_app_passwords_postfix.sh - two-factor accounts and app passwords as
# SMTP clients see them: a private Postfix loading libsaslguard.so, a
# private Redis, swaks as the client (tests/e2e/lib.sh), saslguard(8) as
# the admin.
#
# The secret is made by "saslguard secret init" and stays root-only (0600):
# the plugin reads it while smtpd initialises SASL as root, before it drops
# to the postfix user. An app password -> 235; the primary password of a
# two-factor account -> 535 5.7.8 ... user supplied passwords are not
# permitted, ten times, without a lockout (the 11th attempt, with the app
# password, -> 235); a revoked app password -> 535 ... authentication
# failure without a lockout; app_passwords = required refuses every
# account's primary password. Postfix's log carries the decision lines
# (result=app_password_required, result=revoked_credential label=...), and
# status, list and check agree with what Postfix answered.
# Needs root and redis-server, postfix, swaks, saslpasswd2; a missing one
# is a failure, never a skip. Prints "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
e2e_netns "$@"
e2e_init

A=alice@example.test
B=bob@example.test

[ "$(id -u)" = 0 ] && ok "running as root" || bad "running as root (Postfix needs it)"
e2e_require redis-server redis-cli postfix swaks saslpasswd2 python3 || { e2e_summary; exit 1; }
[ -x "$SG" ] && ok "saslguard built: $SG" || { bad "saslguard not built: $SG"; e2e_summary; exit 1; }
if e2e_install_plugin; then ok "plugin built"; else bad "plugin not built: $PLUGIN_SO"; e2e_summary; exit 1; fi
if redis_start; then ok "redis-server started"; else bad "redis-server start"; e2e_summary; exit 1; fi
sasldb_add "$A" s3cret || bad "saslpasswd2 alice"
sasldb_add "$B" b0bpass || bad "saslpasswd2 bob"

POL=$E2E_RUN/conf/saslguard.conf
SECRET=$E2E_RUN/conf/keys/secret
policy() {      # policy [extra lines...]: (re)write the test policy
    write_policy "$POL" "account_failures = 3" "account_window = 10m" "account_lock = 15m" \
        "source_failures = 100" "trusted_networks =" "secret_file = $SECRET" "$@"
}
policy
sg() { "$SG" -c "$POL" "$@"; }
# app_password ACCOUNT LABEL: a new app password (printed once, as JSON).
app_password() {
    sg --json app-password add "$1" --label "$2" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])'
}

out=$(sg secret init 2>&1) && ok "saslguard secret init" || bad "saslguard secret init: $out"
[ "$(stat -c '%a %U' "$SECRET")" = "600 root" ] && ok "secret is root-only (0600 root)" \
    || bad "secret is $(stat -c '%a %U' "$SECRET")"
postfix_setup "$POL"
if postfix_start; then ok "postfix started on 127.0.0.1:$SMTP_PORT"; else bad "postfix start"; e2e_summary; exit 1; fi

# ------------------------------------------------------------ app password
sg mfa on "$A" >/dev/null && ok "saslguard mfa on alice" || bad "saslguard mfa on alice"
PHONE=$(app_password "$A" phone)
[[ "$PHONE" =~ ^[a-z]{4}\ [a-z]{4}\ [a-z]{4}\ [a-z]{4}$ ]] && ok "app password: 4 groups of 4 letters" \
    || bad "app password: '$PHONE'"
check_line "app password, PLAIN -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$A" "$PHONE")"
check_line "app password, LOGIN -> 235" "$OK235" "$(smtp_auth_reply LOGIN "$A" "$PHONE")"
check_line "app password without spaces, upper case -> 235" "$OK235" \
    "$(smtp_auth_reply PLAIN "$A" "$(tr -d ' ' <<<"$PHONE" | tr a-z A-Z)")"
# (these 235s prove smtpd read the root-only secret: it did so as root)

# ------------------------------------------------------------ primary password on a 2FA account
n=0
for i in $(seq 10); do
    [ "$(smtp_auth_reply PLAIN "$A" s3cret)" = "$NOUP535" ] && n=$((n + 1))
done
[ "$n" = 10 ] && ok "primary password ten times -> 535 5.7.8 ... user supplied passwords are not permitted" \
    || bad "primary password: $n of 10 got '$NOUP535'"
check_line "primary password, LOGIN -> the same 535" "$NOUP535" "$(smtp_auth_reply LOGIN "$A" s3cret)"
check_line "the 12th attempt, with the app password -> 235 (no lockout)" "$OK235" "$(smtp_auth_reply PLAIN "$A" "$PHONE")"
log=$(postfix_log)
k=$(grep -c "saslguard: result=app_password_required account=alice@example\.test source=127\.0\.0\.1/32" <<<"$log")
[ "$k" -ge 11 ] && ok "log: $k result=app_password_required lines" || bad "log: $k result=app_password_required lines"
out=$(sg status "$A")
check "status: not locked" '^state: +not locked' "$out"
check "status: no failures" '^failures: +0' "$out"
check "status: two-factor on" '^two-factor: +on' "$out"
check "status: phone last used from the client" '^app passwords: phone: .*last used 20[0-9-]+T[0-9:]+Z from 127\.0\.0\.1/32$' "$out"
out=$(echo s3cret | sg check "$A" --sasl-conf-dir "$E2E_RUN/pf/etc/sasl" 2>&1); rc=$?
check "check through Postfix's smtpd.conf: app_password_required" \
    '^reply: 535 5\.7\.8 Error: authentication failed: user supplied passwords are not permitted$' "$out"
[ "$rc" = 1 ] && ok "check app_password_required: exit 1" || bad "check app_password_required: exit $rc"
out=$(echo "$PHONE" | sg -v check "$A" --sasl-conf-dir "$E2E_RUN/pf/etc/sasl" 2>&1); rc=$?
check "check through Postfix's smtpd.conf: the app password succeeds" '^credential: app password "phone"' "$out"
[ "$rc" = 0 ] && ok "check app password: exit 0" || bad "check app password: exit $rc"
# (Postfix logs a plugin's NOTE-level success lines only with -v: seen here)
check "check -v: the success decision line with the label" \
    'saslguard: result=success account=alice@example\.test mech=cli credential=app_password label=phone' "$out"

# ------------------------------------------------------------ revoked app password
sg app-password revoke "$A" phone >/dev/null && ok "saslguard app-password revoke phone" || bad "revoke phone"
n=0
for i in 1 2 3 4 5; do
    [ "$(smtp_auth_reply PLAIN "$A" "$PHONE")" = "$BAD535" ] && n=$((n + 1))
done
[ "$n" = 5 ] && ok "revoked app password five times -> 535 authentication failure (never 454)" \
    || bad "revoked app password: $n of 5 got '$BAD535'"
check "log: result=revoked_credential with the label" \
    "saslguard: result=revoked_credential account=alice@example\.test source=127\.0\.0\.1/32 mech=PLAIN label=phone reason=revoked" \
    "$(postfix_log)"
out=$(sg status "$A")
check "status after the revoked attempts: not locked" '^state: +not locked' "$out"
check "status after the revoked attempts: no failures" '^failures: +0' "$out"
check "status: phone is a stale device, with its last use" \
    '^stale devices: phone: revoked 20[0-9-]+T[0-9:]+Z, created 20[0-9-]+T[0-9:]+Z, last used 20' "$out"
LAPTOP=$(app_password "$A" laptop)
check_line "a new app password after the revoked attempts -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$A" "$LAPTOP")"
check "list: laptop active, phone revoked" '^phone +revoked ' "$(sg app-password list "$A")"

# ------------------------------------------------------------ app_passwords = required
sg mfa off "$A" >/dev/null && ok "saslguard mfa off alice" || bad "mfa off alice"
check_line "mfa off: alice's primary password -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$A" s3cret)"
check_line "per-account: bob's primary password -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$B" b0bpass)"
policy "app_passwords = required"
postfix_reload
for u in "$A:s3cret" "$B:b0bpass"; do
    check_line "required: ${u%%:*}'s primary password -> 535 ... not permitted" "$NOUP535" \
        "$(smtp_auth_reply PLAIN "${u%%:*}" "${u#*:}")"
done
check "log: result=app_password_required for bob" \
    "saslguard: result=app_password_required account=bob@example\.test source=127\.0\.0\.1/32 mech=PLAIN" "$(postfix_log)"
check_line "required: alice's app password -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$A" "$LAPTOP")"
BOBPW=$(app_password "$B" desktop)
check_line "required: bob's new app password -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$B" "$BOBPW")"
check "explain bob: needs an app password by policy" '^app passwords: needed \(app_passwords = required\)' "$(sg explain "$B")"
policy "app_passwords = required" "mfa_primary_password = refuse"
postfix_reload
check_line "mfa_primary_password = refuse: bob's primary password -> plain 535" "$BAD535" \
    "$(smtp_auth_reply PLAIN "$B" b0bpass)"
check "status bob: still no failures" '^failures: +0' "$(sg status "$B")"

# ------------------------------------------------------------ nothing leaks
log=$(postfix_log)
for p in "$PHONE" "$LAPTOP" "$BOBPW"; do
    s=${p// /}
    check_no "no app password in Postfix's log (${p:0:4}...)" "$p|$s" "$log"
    check_no "no app password in Redis (${p:0:4}...)" "$p|$s" \
        "$(rcli HGETALL "sg:u:$A"; rcli HGETALL "sg:u:$B")"
done

e2e_summary
