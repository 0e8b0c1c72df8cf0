#!/bin/bash
# test_postfix.sh - saslguard end to end: a private Postfix loading
# libsaslguard.so, a private Redis, swaks as the client; then the same
# plugin in-process through tests/helpers/sasl_driver (malformed messages
# under valgrind, the Sendmail application name, policy reload).
#
# Asserts the exact SMTP replies of DESIGN.md's table, the Redis state and
# the decision log lines. Needs root and redis-server, postfix, swaks,
# saslpasswd2, saslpluginviewer; a missing one is a failure, never a skip.
# Prints "ok - ..." / "FAIL - ..." per check, then "N passed, N failed".
# Run by `make check` (top_builddir set), or by hand from a built tree:
#   top_builddir=/path/to/build bash tests/e2e/test_postfix.sh
set -u
. "$(dirname "$0")/lib.sh"
e2e_netns "$@"
e2e_init

USER=alice@example.test
PASS=s3cret
WRONG=Wr0ngPassw0rd          # distinctive: must never show up in a log

# ------------------------------------------------------------ prerequisites
[ "$(id -u)" = 0 ] && ok "running as root" || bad "running as root (Postfix needs it)"
e2e_require redis-server redis-cli postfix swaks saslpasswd2 saslpluginviewer || { e2e_summary; exit 1; }
if e2e_install_plugin; then ok "plugin built: $PLUGIN_SO"; else bad "plugin not built: $PLUGIN_SO"; e2e_summary; exit 1; fi
[ -x "$SASL_DRIVER" ] && ok "driver built: $SASL_DRIVER" || bad "driver not built: $SASL_DRIVER"
VG=()
if command -v valgrind >/dev/null 2>&1; then
    VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
else
    echo "# valgrind not found: the driver runs without it"
fi

if redis_start; then ok "redis-server started (unix socket)"; else bad "redis-server start"; e2e_summary; exit 1; fi
sasldb_add "$USER" "$PASS" || bad "saslpasswd2"
POL=$E2E_RUN/conf/saslguard.conf
POLICY_LINES=("account_failures = 3" "account_window = 10m" "account_lock = 2s"
    "account_lock_max = 2s" "source_failures = 4" "source_window = 10m"
    "source_block = 10m" "trusted_networks =" "store_failure = tempfail")
write_policy "$POL" "${POLICY_LINES[@]}"

# ------------------------------------------------------------ saslpluginviewer
out=$(saslpluginviewer -p "$E2E_RUN/plugins" -s 2>&1)
check "saslpluginviewer lists plugin saslguard" '^Plugin "saslguard"' "$out"
check "saslpluginviewer: saslguard offers PLAIN" 'SASL mechanism: PLAIN' "$out"
check "saslpluginviewer: saslguard offers LOGIN" 'SASL mechanism: LOGIN' "$out"
# sorted before the stock PLAIN even when the system dir comes first
out=$(saslpluginviewer -p "$E2E_SYS_PLUGDIR:$E2E_RUN/plugins" -s -m PLAIN 2>&1 | grep '^Plugin' | head -1)
check "PLAIN: saslguard sorts before the stock plugin" '^Plugin "saslguard"' "$out"

# ------------------------------------------------------------ Postfix
postfix_setup "$POL"
if postfix_start; then ok "postfix started on 127.0.0.1:$SMTP_PORT"; else bad "postfix start"; e2e_summary; exit 1; fi

out=$(swaks --server "127.0.0.1:$SMTP_PORT" --helo client.example.test --from "$USER" \
      --to bob@example.test --quit-after EHLO </dev/null 2>&1)
check_line "EHLO offers AUTH PLAIN LOGIN" '<-  250-AUTH PLAIN LOGIN' "$out"
check_line "PLAIN good password -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check_line "LOGIN good password -> 235" "$OK235" "$(smtp_auth_reply LOGIN "$USER" "$PASS")"
check_line "PLAIN wrong password -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$USER" "$WRONG")"
check_line "PLAIN unknown user -> 535" "$BAD535" "$(smtp_auth_reply PLAIN nobody@example.test "$WRONG")"
check_line "LOGIN wrong password -> 535" "$BAD535" "$(smtp_auth_reply LOGIN "$USER" "$WRONG")"
check_line "PLAIN good password after 2 failures -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check "full transaction after AUTH is queued" '^<-  250 2\.0\.0 Ok: queued as' \
    "$(swaks --server "127.0.0.1:$SMTP_PORT" --helo client.example.test --from "$USER" \
       --to bob@example.test --auth PLAIN --auth-user "$USER" --auth-password "$PASS" </dev/null 2>&1)"
# the owner's usual login (nothing on record, a familiar source): one Redis
# round trip, check.lua only; the success is still counted
rcli CONFIG RESETSTAT >/dev/null
succ=$(rcli HGET sg:stats success)
check_line "PLAIN good password again -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check "Redis: the usual login made one round trip (one EVALSHA)" \
    '^cmdstat_evalsha:calls=1,' "$(rcli INFO commandstats | tr -d '\r' | grep '^cmdstat_eval')"
check "Redis: and was counted as a success" "^$((succ + 1))\$" "$(rcli HGET sg:stats success)"
log=$(postfix_log)
check "log: decision line for a wrong PLAIN password" \
    "saslguard: result=bad_credentials account=alice@example\.test source=127\.0\.0\.1/32 mech=PLAIN failures=1" "$log"
check "log: decision line for a wrong LOGIN password" \
    "saslguard: result=bad_credentials account=alice@example\.test source=127\.0\.0\.1/32 mech=LOGIN" "$log"
check "log: unknown user counted like a known one" \
    "saslguard: result=bad_credentials account=nobody@example\.test source=127\.0\.0\.1/32 mech=PLAIN failures=1" "$log"
check "Redis: success cleared alice's failures" '^0$' "$(rcli EXISTS sg:a:alice@example.test)"

# ------------------------------------------------------------ account lockout
rcli FLUSHALL >/dev/null
SRC=127.0.0.4
check_line "lockout: failure 1 -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$USER" "$WRONG" $SRC)"
check_line "lockout: failure 2 -> 535" "$BAD535" "$(smtp_auth_reply LOGIN "$USER" "$WRONG" $SRC)"
check_line "lockout: failure 3 -> 535 (locks)" "$BAD535" "$(smtp_auth_reply PLAIN "$USER" "$WRONG" $SRC)"
state=$(rcli HGETALL sg:a:alice@example.test | paste -sd' ')
check "Redis: sg:a:alice@example.test has n=3" '(^| )n 3( |$)' "$state"
now_ms=$(redis_now_ms)
lu=$(rcli HGET sg:a:alice@example.test lu)
if [[ "$lu" =~ ^[0-9]+$ ]] && [ "$lu" -gt "$now_ms" ]; then ok "Redis: lu is a lock end in the future ($((lu - now_ms)) ms)"
else bad "Redis: lu is a lock end in the future (lu=$lu now=$now_ms; $state)"; fi
check_line "locked: right password, PLAIN -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$USER" "$PASS" $SRC)"
check_line "locked: right password, LOGIN -> 454" "$TRY454" "$(smtp_auth_reply LOGIN "$USER" "$PASS" $SRC)"
check_line "locked: from another source too -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$USER" "$PASS" 127.0.0.5)"
log=$(postfix_log)
check "log: result=locked decision line" \
    "saslguard: result=locked account=alice@example\.test source=127\.0\.0\.4/32 mech=PLAIN failures=3 until=" "$log"
check "log: the lock is announced when set" "result=bad_credentials account=alice@example\.test .*failures=3 .*now=locked" "$log"
check "log: Postfix's own 454 failure line (fail2ban)" \
    "SASL PLAIN authentication failed: transient failure \(e\.g\., weak key\), sasl_username=alice@example\.test" "$log"
sleep_ms $(( $(lock_end_ms "$USER") - $(redis_now_ms) + 300 ))     # until the lock has ended
check_line "lock expired: right password -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS" $SRC)"
check "Redis: the success cleared the failures (no n field)" '^0$' "$(rcli HEXISTS sg:a:alice@example.test n)"
check "Redis: the lock's end is remembered for escalation (le)" '^[1-9][0-9]*$' "$(rcli HGET sg:a:alice@example.test le)"

# ------------------------------------------------------------ source throttling
rcli FLUSHALL >/dev/null
for i in 1 2 3 4; do
    check_line "throttle: 127.0.0.2 failure $i (user$i) -> 535" "$BAD535" \
        "$(smtp_auth_reply PLAIN "user$i@example.test" "$WRONG" 127.0.0.2)"
done
check_line "throttled source, right password -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$USER" "$PASS" 127.0.0.2)"
check_line "another source (127.0.0.3) is not affected -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS" 127.0.0.3)"
check "Redis: sg:s:127.0.0.2/32 has a block end" '^[1-9][0-9]*$' "$(rcli HGET sg:s:127.0.0.2/32 bu)"
check "Redis: 127.0.0.3 has no source key" '^0$' "$(rcli EXISTS sg:s:127.0.0.3/32)"
check "log: result=throttled decision line" \
    "saslguard: result=throttled account=alice@example\.test source=127\.0\.0\.2/32 mech=PLAIN" "$(postfix_log)"

# ------------------------------------------------------------ Redis down
redis_stop
check_line "Redis stopped -> 454 server unavailable" "$UNAV454" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check_line "Redis stopped, LOGIN -> 454 server unavailable" "$UNAV454" "$(smtp_auth_reply LOGIN "$USER" "$PASS")"
check "log: store_unavailable decision line" \
    "saslguard: result=store_unavailable account=alice@example\.test .*store=down policy=tempfail" "$(postfix_log)"
redis_start || bad "redis-server restart"
check_line "Redis back (empty, no scripts cached) -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"

# ------------------------------------------------------------ broken policy
cp "$POL" "$POL.good"
write_policy "$POL" "account_failures = 3" "account_lock = soon" "trusted_networks ="
BROKEN_LINE=$(grep -n '^account_lock = soon' "$POL" | cut -d: -f1)
postfix_reload
check_line "broken policy -> 454 server unavailable" "$UNAV454" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check_line "broken policy, LOGIN -> 454 server unavailable" "$UNAV454" "$(smtp_auth_reply LOGIN "$USER" "$PASS")"
log=$(postfix_log)
check "log: the policy error names file:line:key" "saslguard: config error: $POL:$BROKEN_LINE: account_lock: " "$log"
check "log: every refusal says why (config_error)" \
    "saslguard: result=config_error account=alice@example\.test mech=PLAIN detail=policy_not_loaded" "$log"
cp "$POL.good" "$POL"
postfix_reload
check_line "policy fixed -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
# The plugin reads the policy while smtpd is still root: a root-only file works.
chmod 600 "$POL"
postfix_reload
check_line "root-only policy file (mode 600) -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check_line "root-only policy file, wrong password -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$USER" "$WRONG" 127.0.0.6)"
check "log: root-only policy in force" \
    "saslguard: result=bad_credentials account=alice@example\.test source=127\.0\.0\.6/32 mech=PLAIN failures=1" "$(postfix_log)"
chmod 644 "$POL"

check_no "no password in Postfix's log" "$WRONG|$PASS" "$(postfix_log)"
postfix_stop

# ------------------------------------------------------------ in-process: sasl_driver
rcli FLUSHALL >/dev/null
DCONF=$E2E_RUN/conf/smtpd
mkdir -p "$DCONF"
sasl_conf "$DCONF/smtpd.conf" "$POL"
drv() { "$SASL_DRIVER" -P "$E2E_SASL_PATH" -C "$DCONF" "$@" 2>&1; }
drv_vg() { "${VG[@]}" "$SASL_DRIVER" -P "$E2E_SASL_PATH" -C "$DCONF" "$@" 2>&1; }

head -c 10000 /dev/zero | tr '\0' u >"$E2E_RUN/user10000"
{ printf '\0'; cat "$E2E_RUN/user10000"; printf '\0%s' "$PASS"; } >"$E2E_RUN/plain_user10000"
{ printf '\0%s\0' "$USER"; head -c 2000 /dev/zero | tr '\0' p; } >"$E2E_RUN/plain_pass2000"
{ printf '%s\0' "$(head -c 300 /dev/zero | tr '\0' z)"; printf '%s\0%s' "$USER" "$PASS"; } >"$E2E_RUN/plain_authzid300"
head -c 2000 /dev/zero | tr '\0' p >"$E2E_RUN/pass2000"
# name | mechanism and messages
MALFORMED=(
    "PLAIN no NUL at all|PLAIN|str:alice@example.test"
    "PLAIN one NUL only|PLAIN|str:alice@example.test\\0s3cret"
    "PLAIN empty message|PLAIN|str:"
    "PLAIN empty user|PLAIN|str:\\0\\0s3cret"
    "PLAIN empty password|PLAIN|str:\\0alice@example.test\\0"
    "PLAIN NUL in password|PLAIN|str:\\0alice@example.test\\0s3\\0cret"
    "PLAIN 10000-byte user|PLAIN|file:$E2E_RUN/plain_user10000"
    "PLAIN 2000-byte password|PLAIN|file:$E2E_RUN/plain_pass2000"
    "PLAIN 300-byte authzid|PLAIN|file:$E2E_RUN/plain_authzid300"
    "PLAIN no initial response, then garbage|PLAIN|none|hex:ff00ff"
    "LOGIN empty user|LOGIN|none|str:"
    "LOGIN NUL in user|LOGIN|none|str:al\\0ice"
    "LOGIN 10000-byte user (initial response)|LOGIN|file:$E2E_RUN/user10000"
    "LOGIN empty password|LOGIN|str:alice@example.test|str:"
    "LOGIN NUL in password|LOGIN|str:alice@example.test|str:s3\\0cret"
    "LOGIN 2000-byte password|LOGIN|str:alice@example.test|file:$E2E_RUN/pass2000"
)
for row in "${MALFORMED[@]}"; do
    IFS='|' read -r -a f <<<"$row"
    out=$(drv_vg "${f[@]:1}"); rc=$?
    if [ $rc = 1 ] && grep -q '^result: SASL_BADPROT (-5)' <<<"$out"; then ok "driver: malformed $f -> SASL_BADPROT${VG:+ (valgrind clean)}"
    else bad "driver: malformed $f -> SASL_BADPROT (exit $rc)"; sed 's/^/    | /' <<<"$out" | tail -15; fi
done
check "malformed messages are not counted" '^0$' "$(rcli DBSIZE)"

out=$(drv_vg -L PLAIN "str:\\0$USER\\0$PASS"); rc=$?
check "driver: good PLAIN -> SASL_OK (valgrind clean)" '^result: SASL_OK \(0\)' "$out"
[ $rc = 0 ] && ok "driver: exit 0 on SASL_OK" || bad "driver: exit 0 on SASL_OK (exit $rc)"
check "driver: user is the canonical name" "^user: $USER\$" "$out"
check "driver: the decision line reaches libsasl's log" 'saslguard: result=success account=alice@example\.test source=192\.0\.2\.7/32 mech=PLAIN' "$out"
out=$(drv_vg LOGIN none "str:$USER" "str:$PASS")
check "driver: LOGIN prompts Username:" '^challenge: Username:$' "$out"
check "driver: LOGIN prompts Password:" '^challenge: Password:$' "$out"
check "driver: good LOGIN -> SASL_OK" '^result: SASL_OK \(0\)' "$out"
out=$(drv -r '' PLAIN "str:\\0$USER\\0$PASS")
check "driver: no client address -> SASL_OK, no source" 'result=success account=alice@example\.test mech=PLAIN' "$out"
out=$(drv -r '2001:db8:1:2::7;40000' PLAIN "str:\\0$USER\\0$PASS")
check "driver: IPv6 client counted per /64" 'result=success account=alice@example\.test source=2001:db8:1:2::/64 mech=PLAIN' "$out"
out=$("$SASL_DRIVER" -P "$E2E_SYS_PLUGDIR:$E2E_RUN/plugins" -C "$DCONF" PLAIN "str:\\0$USER\\0$PASS" 2>&1)
check "driver: system dir first in the path, saslguard still serves PLAIN" 'saslguard: result=success' "$out"
out=$(drv PLAIN "str:$USER\\0$USER\\0$PASS")
check "driver: authzid equal to authcid -> SASL_OK" '^result: SASL_OK \(0\)' "$out"
out=$(drv PLAIN "str:bob@example.test\\0$USER\\0$PASS")
check "driver: authzid of another user -> refused by libsasl's proxy policy" \
    '^detail: .*Requested identity not authenticated identity' "$out"

# Sendmail: app name "Sendmail" reads Sendmail.conf
SCONF=$E2E_RUN/conf/sendmail
mkdir -p "$SCONF"
sasl_conf "$SCONF/Sendmail.conf" "$POL"
sm() { "${VG[@]}" "$SASL_DRIVER" -a Sendmail -P "$E2E_SASL_PATH" -C "$SCONF" -r '198.51.100.9;40000' "$@" 2>&1; }
out=$(sm PLAIN "str:\\0$USER\\0$PASS")
check "Sendmail.conf: good PLAIN -> SASL_OK" '^result: SASL_OK \(0\)' "$out"
check "Sendmail.conf: saslguard decided" 'saslguard: result=success account=alice@example\.test source=198\.51\.100\.9/32' "$out"
conns() { rcli INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p'; }
c0=$(conns)
out=$(sm -n 3 LOGIN "str:$USER" "str:$WRONG")
c1=$(conns)
check "Sendmail.conf: 3 wrong passwords in one process -> SASL_BADAUTH" '^result: SASL_BADAUTH \(-13\)' "$out"
check "Sendmail.conf: 3 SASL connections, 3 decisions" '^3$' "$(grep -c 'saslguard: result=bad_credentials' <<<"$out")"
# one connection for the driver's 3 attempts, one for the second redis-cli
check "one Redis connection per process, reused" '^2$' "$(( c1 - c0 ))"
out=$(sm PLAIN "str:\\0$USER\\0$PASS")
check "Sendmail.conf: locked, right password -> SASL_TRYAGAIN" '^result: SASL_TRYAGAIN \(-8\)' "$out"
check_no "driver output holds no password" "$WRONG|$PASS" "$out"

# A broken policy is retried in the same process, at most every 5 s.
rcli FLUSHALL >/dev/null
cp "$POL" "$POL.good"
printf 'redis = unix:%s\nsource_failures = none\n' "$REDIS_SOCK" >"$POL"
( sleep 1; cp "$POL.good" "$POL" ) &
fixer=$!
out=$(drv -n 3 -w 2800 PLAIN "str:\\0$USER\\0$PASS")
wait $fixer
check "retry: first attempt with a broken policy -> SASL_UNAVAIL" \
    '^result: SASL_UNAVAIL \(-24\)' "$(grep '^result:' <<<"$out" | sed -n 1p)"
check "retry: within 5 s no reload -> SASL_UNAVAIL again" \
    '^result: SASL_UNAVAIL \(-24\)' "$(grep '^result:' <<<"$out" | sed -n 2p)"
check "retry: after 5 s the fixed file is loaded -> SASL_OK" \
    '^result: SASL_OK \(0\)' "$(grep '^result:' <<<"$out" | sed -n 3p)"
check "retry: the error names file:line:key" "config error: $POL:2: source_failures: " "$out"

e2e_summary
