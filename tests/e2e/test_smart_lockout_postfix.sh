#!/bin/bash
# test_smart_lockout_postfix.sh - saslguard's smart lockout end to end
# (issue 6): a private Postfix loading libsaslguard.so, a private Redis,
# swaks as the client from several loopback source addresses (127.0.0.x,
# and IPv6 addresses added to lo inside the private network namespace).
#
#  1. familiar sources: an attacker locks the account from 127.0.0.3; the
#     attacker and a third address get 454, the owner from 127.0.0.2 (where
#     she logged in before) gets 235;
#  2. a stale password repeated 50 times counts once and never locks;
#  3. password spraying blocks the spraying source only;
#  4. IPv6: two addresses in one /64 share one source counter, an address
#     in another /64 does not;
#  5. a trusted network is never throttled;
#  6. escalation: the lock after an expired one lasts twice as long.
#
# Exact SMTP replies, Redis state (key schema: lib/store.h) and decision
# log lines are asserted. Each scenario has its own account names and
# source addresses, and its own short policy (Postfix reloaded). Needs
# root and redis-server, redis-cli, postfix, swaks, saslpasswd2, ip; a
# missing one is a failure, never a skip. Prints "ok - ..." / "FAIL - ..."
# per check, then "N passed, N failed".
# Run by `make check` (top_builddir set), or by hand from a built tree:
#   top_builddir=/path/to/build bash tests/e2e/test_smart_lockout_postfix.sh
set -u
. "$(dirname "$0")/lib.sh"
e2e_netns "$@"
e2e_init

D=example.test
V6A=2001:db8:1:2::10        # V6A and V6B: one /64
V6B=2001:db8:1:2::20
V6C=2001:db8:1:3::10        # another /64
E2E_LISTEN6="::1"           # Postfix listens on [::1]:$SMTP_PORT too

# ------------------------------------------------------------ prerequisites
[ "$(id -u)" = 0 ] && ok "running as root" || bad "running as root (Postfix needs it)"
e2e_require redis-server redis-cli postfix swaks saslpasswd2 ip || { e2e_summary; exit 1; }
[ -x "$SG" ] && ok "saslguard built: $SG" || { bad "saslguard not built: $SG"; e2e_summary; exit 1; }
if e2e_install_plugin; then ok "plugin built: $PLUGIN_SO"; else bad "plugin not built: $PLUGIN_SO"; e2e_summary; exit 1; fi
if e2e_lo_add6 "$V6A" "$V6B" "$V6C"; then ok "IPv6 addresses $V6A $V6B $V6C on lo (private netns)"
else bad "IPv6 addresses on lo (needs the private network namespace: unshare -n)"; fi
if redis_start; then ok "redis-server started (unix socket)"; else bad "redis-server start"; e2e_summary; exit 1; fi

for u in owner stale sprayok v6user trustme esc; do
    sasldb_add "$u@$D" "right-$u" || bad "saslpasswd2 $u@$D"
done

POL=$E2E_RUN/conf/saslguard.conf
SECRET=$E2E_RUN/conf/secret
# policy LINES...: the policy in force for the next connections (reload).
policy() {
    write_policy "$POL" "secret_file = $SECRET" "store_failure = tempfail" \
        "familiar_sources = 30d" "ipv4_prefix = 32" "ipv6_prefix = 64" "$@"
    [ -n "${E2E_PF_STARTED:-}" ] && postfix_reload
    return 0
}
policy "trusted_networks ="
out=$("$SG" -c "$POL" secret init 2>&1); rc=$?
if [ $rc = 0 ] && [ "$(stat -c %a "$SECRET" 2>/dev/null)" = 600 ]; then ok "saslguard secret init: $SECRET, mode 600"
else bad "saslguard secret init (exit $rc, mode $(stat -c %a "$SECRET" 2>&1))"; echo "$out" | sed 's/^/    | /'; fi

postfix_setup "$POL"
if postfix_start; then ok "postfix started on 127.0.0.1:$SMTP_PORT and [::1]:$SMTP_PORT"; else bad "postfix start"; e2e_summary; exit 1; fi
# (that the plugin loaded the secret as root shows in scenario 2: repeat=yes)

# now_ms_left KEY FIELD: FIELD of hash KEY minus Redis's now (ms), or "none".
now_ms_left() {
    local v
    v=$(rcli HGET "$1" "$2")
    [[ "$v" =~ ^[0-9]+$ ]] && echo $(( v - $(redis_now_ms) )) || echo "none"
}
# in_range NAME VALUE LOW HIGH
in_range() {
    if [[ "$2" =~ ^-?[0-9]+$ ]] && (( $2 >= $3 && $2 <= $4 )); then ok "$1 ($2)"
    else bad "$1 (got '$2', wanted $3..$4)"; fi
}
# log_lines: lines in Postfix's log now; log_since N: the lines after line N.
log_lines() { wc -l <"$E2E_RUN/pf/postfix.log"; }
log_since() { postfix_log_sync; tail -n +"$(( $1 + 1 ))" "$E2E_RUN/pf/postfix.log"; }

# ------------------------------------------------------------ 1. familiar sources
policy "account_failures = 3" "account_window = 10m" "account_lock = 5m" "account_lock_max = 10m" \
    "source_failures = 100" "source_window = 10m" "source_block = 10m" "spray_accounts = 100" \
    "trusted_networks ="
L=$(log_lines)
U=owner@$D
check_line "familiar: owner logs in from 127.0.0.2 -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$U" right-owner 127.0.0.2)"
check "Redis: 127.0.0.2/32 is a familiar source of $U" '^[1-9][0-9]*$' "$(rcli ZSCORE "sg:f:$U" 127.0.0.2/32)"
for i in 1 2 3; do
    check_line "familiar: attacker 127.0.0.3, distinct wrong password $i -> 535" "$BAD535" \
        "$(smtp_auth_reply PLAIN "$U" "guess-$i" 127.0.0.3)"
done
in_range "Redis: $U locked for unfamiliar sources (lu - now, ms)" "$(now_ms_left "sg:a:$U" lu)" 200000 300000
check_line "familiar: attacker 127.0.0.3, right password -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$U" right-owner 127.0.0.3)"
check_line "familiar: third address 127.0.0.4, right password -> 454" "$TRY454" "$(smtp_auth_reply LOGIN "$U" right-owner 127.0.0.4)"
check_line "familiar: owner from 127.0.0.2 while locked, PLAIN -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$U" right-owner 127.0.0.2)"
check_line "familiar: owner from 127.0.0.2 while locked, LOGIN -> 235" "$OK235" "$(smtp_auth_reply LOGIN "$U" right-owner 127.0.0.2)"
in_range "Redis: the owner's success left the attacker's lock in place (lu - now, ms)" \
    "$(now_ms_left "sg:a:$U" lu)" 200000 300000
check_line "familiar: owner's typo from 127.0.0.2 -> 535, not 454" "$BAD535" "$(smtp_auth_reply PLAIN "$U" typo 127.0.0.2)"
check "Redis: the owner's typo is counted apart (fn = 1)" '^1$' "$(rcli HGET "sg:a:$U" fn)"
check_line "familiar: attacker still refused -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$U" right-owner 127.0.0.3)"
check_line "familiar: owner still in -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$U" right-owner 127.0.0.2)"
log=$(log_since "$L")
check "log: the attacker's third failure locks (level=0)" \
    "saslguard: result=bad_credentials account=owner@example\.test source=127\.0\.0\.3/32 mech=PLAIN failures=3 until=[^ ]+ now=locked level=0$" "$log"
check "log: result=locked for the third address" \
    "saslguard: result=locked account=owner@example\.test source=127\.0\.0\.4/32 mech=LOGIN failures=3 until=" "$log"
# (a success is logged at NOTICE level, which Postfix shows only with -v)
check "log: Postfix's own line for the owner's login at home" \
    "disconnect from unknown\[127\.0\.0\.2\] ehlo=1 auth=1 quit=1" "$log"
check "log: the owner's typo is marked familiar" \
    "saslguard: result=bad_credentials account=owner@example\.test source=127\.0\.0\.2/32 mech=PLAIN failures=1 familiar=yes$" "$log"

# ------------------------------------------------------------ 2. stale password, 50 times
L=$(log_lines)
U=stale@$D
n535=0
for i in $(seq 50); do
    r=$(smtp_auth_reply PLAIN "$U" old-password 127.0.0.6)
    if [ "$r" = "$BAD535" ]; then n535=$((n535 + 1)); else echo "    | attempt $i: $r"; fi
done
check "stale: 50 x the same wrong password -> 50 x 535" '^50$' "$n535"
check "Redis: HGET sg:a:$U n stays 1" '^1$' "$(rcli HGET "sg:a:$U" n)"
check "Redis: $U never locked (no lu field)" '^0$' "$(rcli HEXISTS "sg:a:$U" lu)"
check "Redis: the source counted it once too (sg:s:127.0.0.6/32 n = 1)" '^1$' "$(rcli HGET sg:s:127.0.0.6/32 n)"
check "Redis: one fingerprint kept (HGET sg:a:$U wc)" '^1$' "$(rcli HGET "sg:a:$U" wc)"
check_line "stale: then the right password -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$U" right-stale 127.0.0.6)"
check "Redis: the success cleared the account" '^0$' "$(rcli EXISTS "sg:a:$U")"
log=$(log_since "$L")
check "log: the first failure counted" \
    "saslguard: result=bad_credentials account=stale@example\.test source=127\.0\.0\.6/32 mech=PLAIN failures=1$" "$log"
check "log: 49 repeats logged 'repeat=yes counted=no'" '^49$' \
    "$(grep -cE 'saslguard: result=bad_credentials account=stale@example\.test source=127\.0\.0\.6/32 mech=PLAIN failures=1 repeat=yes counted=no$' <<<"$log")"
check_no "log: the stale password never locked" 'account=stale@example\.test .*(now=locked|result=locked)' "$log"
check_no "no password in Postfix's log" 'old-password|right-stale' "$log"

# ------------------------------------------------------------ 3..5: one policy
policy "account_failures = 100" "account_window = 10m" "account_lock = 10m" "account_lock_max = 10m" \
    "source_failures = 6" "source_window = 10m" "source_block = 10m" "spray_accounts = 3" \
    "trusted_networks = 127.0.0.5/32"

# ------------------------------------------------------------ 3. password spraying
L=$(log_lines)
for i in 1 2 3 4; do
    check_line "spray: 127.0.0.7, unknown user spray$i, one password -> 535" "$BAD535" \
        "$(smtp_auth_reply PLAIN "spray$i@$D" Summer2026 127.0.0.7)"
done
check "Redis: sg:s:127.0.0.7/32 counts 4 accounts (k)" '^4$' "$(rcli HGET sg:s:127.0.0.7/32 k)"
check "Redis: 4 source failures, fewer than source_failures = 6" '^4$' "$(rcli HGET sg:s:127.0.0.7/32 n)"
in_range "Redis: 127.0.0.7/32 blocked (bu - now, ms)" "$(now_ms_left sg:s:127.0.0.7/32 bu)" 500000 600000
check_line "spray: valid user from the spraying source -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "sprayok@$D" right-sprayok 127.0.0.7)"
check_line "spray: valid user from another source -> 235" "$OK235" "$(smtp_auth_reply PLAIN "sprayok@$D" right-sprayok 127.0.0.8)"
check "Redis: 127.0.0.8 has no source key" '^0$' "$(rcli EXISTS sg:s:127.0.0.8/32)"
log=$(log_since "$L")
check "log: the 4th account blocks the source, reason=spray" \
    "saslguard: result=bad_credentials account=spray4@example\.test source=127\.0\.0\.7/32 mech=PLAIN failures=1 until=[^ ]+ now=throttled reason=spray$" "$log"
check "log: result=throttled for the valid user" \
    "saslguard: result=throttled account=sprayok@example\.test source=127\.0\.0\.7/32 mech=PLAIN" "$log"

# ------------------------------------------------------------ 4. IPv6 /64
L=$(log_lines)
U=v6user@$D
check_line "IPv6: failure 1 from $V6A -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$U" v6-guess-1 $V6A)"
check_line "IPv6: failure 2 from $V6B -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$U" v6-guess-2 $V6B)"
check "Redis: sg:s:2001:db8:1:2::/64 counts both (n = 2)" '^2$' "$(rcli HGET sg:s:2001:db8:1:2::/64 n)"
check_line "IPv6: failure 3 from $V6A -> 535" "$BAD535" "$(smtp_auth_reply LOGIN "$U" v6-guess-3 $V6A)"
check_line "IPv6: failure 4 from $V6B -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$U" v6-guess-4 $V6B)"
check_line "IPv6: failure 5 from $V6A -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$U" v6-guess-5 $V6A)"
check "Redis: not blocked before source_failures = 6 (no bu field)" '^0$' "$(rcli HEXISTS sg:s:2001:db8:1:2::/64 bu)"
check_line "IPv6: failure 6 from $V6B -> 535 (blocks the /64)" "$BAD535" "$(smtp_auth_reply PLAIN "$U" v6-guess-6 $V6B)"
check "Redis: sg:s:2001:db8:1:2::/64 n = 6" '^6$' "$(rcli HGET sg:s:2001:db8:1:2::/64 n)"
in_range "Redis: 2001:db8:1:2::/64 blocked (bu - now, ms)" "$(now_ms_left sg:s:2001:db8:1:2::/64 bu)" 500000 600000
check_line "IPv6: right password from $V6A -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$U" right-v6user $V6A)"
check_line "IPv6: right password from $V6B -> 454" "$TRY454" "$(smtp_auth_reply LOGIN "$U" right-v6user $V6B)"
check_line "IPv6: right password from $V6C (other /64) -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$U" right-v6user $V6C)"
check "Redis: no key per address, one per /64" '^0$' \
    "$(rcli EXISTS "sg:s:$V6A/128" "sg:s:$V6B/128" "sg:s:$V6A/64" sg:s:2001:db8:1:3::/64)"
log=$(log_since "$L")
check "log: $V6A counted as 2001:db8:1:2::/64" \
    "saslguard: result=bad_credentials account=v6user@example\.test source=2001:db8:1:2::/64 mech=LOGIN failures=3$" "$log"
check "log: the 4th failure of the /64 blocks it" \
    "saslguard: result=bad_credentials account=v6user@example\.test source=2001:db8:1:2::/64 mech=PLAIN failures=6 until=[^ ]+ now=throttled$" "$log"
check "log: result=throttled for the /64" \
    "saslguard: result=throttled account=v6user@example\.test source=2001:db8:1:2::/64 mech=LOGIN" "$log"
check "log: Postfix's own line for the login from the other /64" \
    "disconnect from unknown\[$V6C\] ehlo=1 auth=1 quit=1" "$log"
check "Redis: the success made 2001:db8:1:3::/64 familiar" '^[1-9][0-9]*$' \
    "$(rcli ZSCORE "sg:f:$U" 2001:db8:1:3::/64)"

# ------------------------------------------------------------ 5. trusted network
L=$(log_lines)
n535=0
for i in $(seq 10); do
    r=$(smtp_auth_reply PLAIN "nobody$i@$D" "trusted-guess-$i" 127.0.0.5)
    if [ "$r" = "$BAD535" ]; then n535=$((n535 + 1)); else echo "    | attempt $i: $r"; fi
done
check "trusted: 10 failures (> source_failures, > spray_accounts) from 127.0.0.5 -> 10 x 535" '^10$' "$n535"
check_line "trusted: then a valid login from 127.0.0.5 -> 235" "$OK235" "$(smtp_auth_reply PLAIN "trustme@$D" right-trustme 127.0.0.5)"
check "Redis: no sg:s: key for 127.0.0.5" '^0$' "$(rcli EXISTS sg:s:127.0.0.5/32)"
check "Redis: the accounts were still counted (sg:a:nobody10@$D n = 1)" '^1$' "$(rcli HGET "sg:a:nobody10@$D" n)"
log=$(log_since "$L")
check_no "log: 127.0.0.5 never throttled" 'result=throttled|now=throttled' "$log"
check "Redis: the success from the trusted network made it familiar" '^[1-9][0-9]*$' \
    "$(rcli ZSCORE "sg:f:trustme@$D" 127.0.0.5/32)"

# ------------------------------------------------------------ 6. escalation
policy "account_failures = 2" "account_window = 10m" "account_lock = 1s" "account_lock_max = 10s" \
    "source_failures = 100" "source_window = 10m" "source_block = 10m" "spray_accounts = 100" \
    "trusted_networks ="
L=$(log_lines)
U=esc@$D
check_line "escalation: failure 1 from 127.0.0.9 -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$U" esc-guess-1 127.0.0.9)"
check_line "escalation: failure 2 -> 535 (first lock)" "$BAD535" "$(smtp_auth_reply PLAIN "$U" esc-guess-2 127.0.0.9)"
check "Redis: first lock at level 0 (no lvl field)" '^0$' "$(rcli HEXISTS "sg:a:$U" lvl)"
len1=$(( $(rcli HGET "sg:a:$U" lu) - $(rcli HGET "sg:a:$U" lt) ))
check "Redis: the first lock lasts account_lock = 1s exactly (lu - lt, ms)" '^1000$' "$len1"
check_line "escalation: locked, right password -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$U" right-esc 127.0.0.9)"
sleep_ms $(( $(lock_end_ms "$U") - $(redis_now_ms) + 200 ))      # the first lock expires
check_line "escalation: after the first lock, failure 3 -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$U" esc-guess-3 127.0.0.9)"
check_line "escalation: failure 4 -> 535 (second lock)" "$BAD535" "$(smtp_auth_reply PLAIN "$U" esc-guess-4 127.0.0.9)"
check "Redis: HGET sg:a:$U lvl = 1" '^1$' "$(rcli HGET "sg:a:$U" lvl)"
len2=$(( $(rcli HGET "sg:a:$U" lu) - $(rcli HGET "sg:a:$U" lt) ))
in_range "Redis: the second lock lasts 2s +-10% (lu - lt, ms)" "$len2" 1800 2200
check_line "escalation: locked again, right password -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$U" right-esc 127.0.0.9)"
sleep_ms $(( $(lock_end_ms "$U") - $(redis_now_ms) + 200 ))      # the second lock expires
check_line "escalation: second lock over -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$U" right-esc 127.0.0.9)"
check "Redis: the success keeps the escalation level (lvl = 1)" '^1$' "$(rcli HGET "sg:a:$U" lvl)"
log=$(log_since "$L")
check "log: first lock, level=0" \
    "saslguard: result=bad_credentials account=esc@example\.test source=127\.0\.0\.9/32 mech=PLAIN failures=2 until=[^ ]+ now=locked level=0$" "$log"
check "log: second lock, level=1" \
    "saslguard: result=bad_credentials account=esc@example\.test source=127\.0\.0\.9/32 mech=PLAIN failures=2 until=[^ ]+ now=locked level=1$" "$log"

check_no "no password in Postfix's log" 'guess-|right-|Summer2026|old-password|typo' "$(postfix_log)"
check "saslguard status shows the escalation level" '^escalation: +1$' "$("$SG" -c "$POL" status "$U" 2>&1)"
postfix_stop
e2e_summary
