#!/bin/bash
# demo.sh - watch saslguard stop password guessing on a real Postfix.
#
# Usage (as root, after building; it builds nothing itself):
#   tests/e2e/demo.sh [BUILDDIR]          # BUILDDIR: where you ran configure
#
# Starts a private Redis and a private Postfix on loopback (inside a private
# network namespace when `unshare -n` works) with the freshly built SASL
# plugin, then plays a short story with swaks and prints what the client
# sees: a good login, wrong passwords, the lockout (even the right password
# gets a temporary 454), the lock running out, and the login working again.
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

e2e_init
e2e_install_plugin || die "cannot copy the plugin"
redis_start || die "redis-server did not start"
sasldb_add "$USER" "$PASS" || die "saslpasswd2 failed"
POL=$E2E_RUN/conf/saslguard.conf
write_policy "$POL" "account_failures = $FAILURES" "account_window = 15m" \
    "account_lock = $LOCK" "account_lock_max = $LOCK" "trusted_networks ="
postfix_setup "$POL"
postfix_start || die "postfix did not start"

say "saslguard demo: Postfix + libsaslguard.so + Redis, on 127.0.0.1:$SMTP_PORT"
note "user $USER (password '$PASS') in a private sasldb; the plugin checks"
note "passwords through libsasl's pwcheck_method, counts failures in Redis."
note "policy: $(grep -v '^#' "$POL" | grep -v '^redis' | paste -sd';' | sed 's/;/; /g')"
note "(loopback is trusted by default; this demo trusts no network, so 127.0.0.1 counts)"

say "1. Alice logs in with her password"
show "AUTH PLAIN, right password:" PLAIN "$USER" "$PASS"
show "AUTH LOGIN, right password:" LOGIN "$USER" "$PASS"

say "2. Someone guesses Alice's password"
for i in $(seq "$FAILURES"); do
    show "guess $i (wrong password):" PLAIN "$USER" "guess$i"
done
note "Redis now holds sg:a:$USER: $(rcli HGETALL "sg:a:$USER" | paste - - | awk '$2 != "0" { printf "%s=%s ", $1, $2 }')"
note "(n/fn = failures in the window, lu/flu = lock end in ms; no password is stored)"

say "3. The account is locked: even the right password is refused, temporarily"
show "AUTH PLAIN, right password:" PLAIN "$USER" "$PASS"
[[ "$LAST" == *" 454 "* ]] || die "expected a 454 here"
show "AUTH LOGIN, right password:" LOGIN "$USER" "$PASS"
note "454 is a temporary failure: a real mail client retries later instead"
note "of asking Alice for a new password. Postfix logged:"
sleep 0.3
grep -o 'saslguard: result=locked .*' "$E2E_RUN/pf/postfix.log" | tail -1 | sed 's/^/     /'
note "(later issues: 'saslguard unlock $USER' ends a lock at once, and"
note " app passwords let a 2FA account's devices keep working; see README.)"

wait_ms=$(( $(lock_end_ms "$USER") - $(redis_now_ms) + 300 ))
say "4. Waiting for the lock to run out ($LOCK lock, $(( wait_ms > 0 ? wait_ms : 0 )) ms left)"
sleep_ms "$wait_ms"

say "5. Alice logs in again"
show "AUTH PLAIN, right password:" PLAIN "$USER" "$PASS"
[[ "$LAST" == *" 235 "* ]] || die "expected a 235 here"
note "the success cleared her failures: $(rcli EXISTS sg:a:alice@example.test | sed 's/^0$/no key left in Redis/')"

say "Done: stopping Postfix and Redis."
postfix_stop
exit 0
