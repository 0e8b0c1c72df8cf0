#!/bin/bash
# demo.sh - watch saslguard stop password guessing on a real Postfix.
#
# Usage (as root, after building; it builds nothing itself):
#   tests/e2e/demo.sh [BUILDDIR]          # BUILDDIR: where you ran configure
#
# Starts a private Redis and a private Postfix on loopback (inside a private
# network namespace when `unshare -n` works) with the freshly built SASL
# plugin, then plays a short story with swaks and the admin tool and prints
# what the client sees: a good login, wrong passwords, the lockout (even the
# right password gets a temporary 454), the admin's view and unlock, the
# login working again, then two-factor: the primary password refused with
# "user supplied passwords are not permitted", an app password that works,
# and one that was revoked.
# Everything it started is stopped at the end. Nothing is installed and
# nothing outside a temporary directory is touched.
set -u
if [ $# -gt 0 ] && [ -z "${top_builddir:-}" ]; then
    top_builddir=$(cd "$1" && pwd) || exit 2
    export top_builddir
fi
. "$(dirname "$0")/lib.sh"
e2e_netns "$@"

USER=alice@example.test
PASS=s3cret
FAILURES=3
LOCK=5s

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say()  { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$*"; }
die()  { echo "demo: $*" >&2; exit 1; }
# show LABEL MECH USER PASSWORD [SOURCE]: one AUTH, the reply as swaks prints it.
show() {
    local label=$1 reply
    shift
    reply=$(smtp_auth_reply "$@")
    printf '   %-34s %s\n' "$label" "${reply:-(no reply)}"
    LAST=$reply
}

[ "$(id -u)" = 0 ] || die "run me as root (Postfix needs it)"
for p in redis-server redis-cli postfix swaks saslpasswd2; do
    command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || die "$p not found (see README: apt-get install ...)"
done
[ -f "$PLUGIN_SO" ] || die "plugin not built: $PLUGIN_SO (build first, or pass the build directory)"
[ -x "$SG" ] || die "admin tool not built: $SG"

e2e_init
e2e_install_plugin || die "cannot copy the plugin"
redis_start || die "redis-server did not start"
sasldb_add "$USER" "$PASS" || die "saslpasswd2 failed"
POL=$E2E_RUN/conf/saslguard.conf
write_policy "$POL" "account_failures = $FAILURES" "account_window = 15m" \
    "account_lock = $LOCK" "account_lock_max = $LOCK" "trusted_networks =" \
    "secret_file = $E2E_RUN/conf/secret"
# the HMAC key for app passwords: the plugin reads it when Postfix loads
# SASL, as root, so it may be readable by root alone
"$SG" -c "$POL" secret init >/dev/null || die "saslguard secret init failed"
postfix_setup "$POL"
postfix_start || die "postfix did not start"

say "saslguard demo: Postfix + libsaslguard.so + Redis, on 127.0.0.1:$SMTP_PORT"
note "user $USER (password '$PASS') in a private sasldb; the plugin checks"
note "passwords through libsasl's pwcheck_method, counts failures in Redis."
note "policy: $(grep -v '^#' "$POL" | grep -v '^redis' | paste -sd';' | sed 's/;/; /g')"
note "(loopback is trusted by default; this demo trusts no network, so 127.0.0.1 counts)"

HOME_IP=127.0.0.1 ATTACKER_IP=127.0.0.2 CAFE_IP=127.0.0.3
say "1. Alice logs in with her password, from home ($HOME_IP)"
show "AUTH PLAIN, right password:" PLAIN "$USER" "$PASS" "$HOME_IP"
show "AUTH LOGIN, right password:" LOGIN "$USER" "$PASS" "$HOME_IP"
note "$HOME_IP is now one of her familiar sources."

say "2. Someone at $ATTACKER_IP guesses Alice's password"
for i in $(seq "$FAILURES"); do
    show "guess $i (wrong password):" PLAIN "$USER" "guess$i" "$ATTACKER_IP"
done
note "Redis now holds sg:a:$USER: $(rcli HGETALL "sg:a:$USER" | paste - - | awk '$2 != "0" { printf "%s=%s ", $1, $2 }')"
note "(n = failures in the window, lu = lock end in ms; no password is stored)"

say "3. The account is locked: even the right password is refused, temporarily"
show "attacker, right password:" PLAIN "$USER" "$PASS" "$ATTACKER_IP"
[[ "$LAST" == *" 454 "* ]] || die "expected a 454 here"
show "Alice at a cafe ($CAFE_IP):" LOGIN "$USER" "$PASS" "$CAFE_IP"
[[ "$LAST" == *" 454 "* ]] || die "expected a 454 here"
note "454 is a temporary failure: a real mail client retries later instead"
note "of asking Alice for a new password. Postfix logged:"
postfix_log_sync
grep -o 'saslguard: result=locked .*' "$E2E_RUN/pf/postfix.log" | tail -1 | sed 's/^/     /'
show "Alice at home ($HOME_IP):" PLAIN "$USER" "$PASS" "$HOME_IP"
[[ "$LAST" == *" 235 "* ]] || die "expected a 235 here"
note "the attacker's failures were counted apart from her familiar sources:"
note "nobody elsewhere can lock Alice out at home."

say "4. The admin looks, and unlocks (saslguard, the admin tool)"
note "\$ saslguard status $USER"
"$SG" -c "$POL" status "$USER" | sed 's/^/     /'
note "\$ saslguard explain $USER"
"$SG" -c "$POL" explain "$USER" | sed 's/^/     /'
note "\$ saslguard unlock $USER"
"$SG" -c "$POL" unlock "$USER" | sed 's/^/     /'
show "Alice at the cafe again:" PLAIN "$USER" "$PASS" "$CAFE_IP"
[[ "$LAST" == *" 235 "* ]] || die "expected a 235 here"

say "5. Alice turns on two-factor authentication: SMTP now needs app passwords"
note "\$ saslguard mfa on $USER"
"$SG" -c "$POL" mfa on "$USER" | sed 's/^/     /'
show "AUTH PLAIN, her primary password:" PLAIN "$USER" "$PASS"
[[ "$LAST" == *"user supplied passwords are not permitted"* ]] || die "expected the app-password hint"
note "the client is told why, instead of 'bad password'; and it is not"
note "counted as a failure, so her old phone cannot lock her out."
note "\$ saslguard app-password add $USER --label phone"
APP=$("$SG" -c "$POL" --json app-password add "$USER" --label phone |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])') || die "app-password add failed"
note "   (printed once, never stored: ${APP%% *} **** **** ****)"
show "AUTH PLAIN, the app password:" PLAIN "$USER" "$APP"
[[ "$LAST" == *" 235 "* ]] || die "expected a 235 here"
note "\$ saslguard app-password revoke $USER phone"
"$SG" -c "$POL" app-password revoke "$USER" phone | sed 's/^/     /'
show "AUTH PLAIN, the revoked one:" PLAIN "$USER" "$APP"
[[ "$LAST" == *" 535 "* ]] || die "expected a 535 here"
postfix_log_sync
note "Postfix logged:"
grep -o 'saslguard: result=\(app_password_required\|revoked_credential\|success\) .*' \
    "$E2E_RUN/pf/postfix.log" | tail -3 | sed 's/^/     /'

say "6. What happened, counted in Redis (saslguard stats)"
"$SG" -c "$POL" stats | sed 's/^/     /'

say "Done: stopping Postfix and Redis."
postfix_stop
exit 0
