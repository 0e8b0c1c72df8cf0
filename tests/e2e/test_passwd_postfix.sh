#!/bin/bash
# test_passwd_postfix.sh - password_source = file: end to end: a private
# Postfix loading libsaslguard.so verifies primary passwords against
# saslguard's own password file (crypt(3) hashes written by `saslguard
# passwd`), a private Redis counts, swaks is the client (tests/e2e/lib.sh).
#
# 235 for the right password, 535 for a wrong one and for an unknown user
# (logged and counted like a known one), 454 once locked, the file's mfa
# flag answered like a two-factor account; `saslguard passwd` changes a
# password and the running smtpd uses the new one within a second (no
# Postfix reload); a malformed edit leaves the last good copy in force; a
# missing file refuses every login (454 unavailable), never "no protection".
# Needs root and redis-server, postfix, swaks, saslpasswd2, mkpasswd; a
# missing one is a failure, never a skip. Prints "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
e2e_netns "$@"
e2e_init

USER=alice@example.test
PASS=Fil3-s3cret-1            # distinctive: must never show up in a log or file
NEWPASS=N3w-Fil3-s3cret-2
SASLDB_PASS=Sasldb-0nly-pw    # alice's password in sasldb: the file decides, not sasldb
WRONG=Wr0ngPassw0rd

[ "$(id -u)" = 0 ] && ok "running as root" || bad "running as root (Postfix needs it)"
e2e_require redis-server redis-cli postfix swaks saslpasswd2 mkpasswd || { e2e_summary; exit 1; }
[ -x "$SG" ] && ok "saslguard built: $SG" || { bad "saslguard not built: $SG"; e2e_summary; exit 1; }
if e2e_install_plugin; then ok "plugin built"; else bad "plugin not built: $PLUGIN_SO"; e2e_summary; exit 1; fi
if redis_start; then ok "redis-server started"; else bad "redis-server start"; e2e_summary; exit 1; fi
sasldb_add "$USER" "$SASLDB_PASS" || bad "saslpasswd2"

PW=$E2E_RUN/conf/passwd
POL=$E2E_RUN/conf/saslguard.conf
POLICY_LINES=("password_source = file:$PW" "account_failures = 3" "account_window = 10m"
    "account_lock = 10m" "account_lock_max = 10m" "source_failures = 100"
    "trusted_networks =" "store_failure = tempfail")
write_policy "$POL" "${POLICY_LINES[@]}"
sg() { "$SG" -c "$POL" "$@"; }
# The smtpd that answered the last connection (from its disconnect line).
last_smtpd() { postfix_log | sed -n 's/.*postfix\/smtpd\[\([0-9]*\)\]: disconnect from.*/\1/p' | tail -1; }

# ------------------------------------------------------------ saslguard passwd
out=$(printf '%s\n' "$PASS" | sg -v passwd "$USER" 2>&1); rc=$?
[ "$rc" = 0 ] && ok "passwd: exit 0" || bad "passwd: exit $rc"
check "passwd: alice added with yescrypt" "^alice@example\.test: account added \(yescrypt\) to $PW" "$out"
check "passwd: the action is logged with the admin" \
    "saslguard: admin=[^ ]+ action=passwd account=alice@example\.test file=$PW scheme=yescrypt result=added" "$out"
check_no "passwd: the password is in no output" "$PASS" "$out"
check "the file holds a yescrypt hash" '^alice@example\.test:\$y\$j9T\$' "$(cat "$PW")"
check_no "the file holds no cleartext" "$PASS" "$(cat "$PW")"
check "a new file is created mode 640" '^640$' "$(stat -c %a "$PW")"
chgrp postfix "$PW"     # smtpd re-reads it as user postfix
out=$(printf 'B0b-pass\n' | sg passwd --scheme bcrypt bob@example.test 2>&1)
check "passwd --scheme bcrypt" '^bob@example\.test: account added \(bcrypt\)' "$out"
check "bob's hash is bcrypt" '^bob@example\.test:\$2b\$10\$' "$(cat "$PW")"
# carol: a Dovecot-style line written by hand, with the mfa flag
echo "carol@example.test:{SHA512-CRYPT}$(printf 'C4rol-pass\n' | mkpasswd -s -m sha-512):mfa" >>"$PW"
check "mode and owner kept by passwd" '^640 root:postfix$' "$(stat -c '%a %U:%G' "$PW")"
out=$(sg passwd "$USER" "$PASS" 2>&1); rc=$?
[ "$rc" = 2 ] && ok "passwd refuses a password on the command line (exit 2)" || bad "passwd with a password argument: exit $rc"
printf 'password_source = sasl\nredis = unix:%s\n' "$REDIS_SOCK" >"$E2E_RUN/conf/sasl.conf"
out=$(printf 'x\n' | "$SG" -c "$E2E_RUN/conf/sasl.conf" passwd "$USER" 2>&1); rc=$?
[ "$rc" = 2 ] && ok "passwd without password_source = file: -> exit 2" || bad "passwd with password_source = sasl: exit $rc"
check "... and says why" 'password_source is sasl' "$out"

# ------------------------------------------------------------ Postfix
postfix_setup "$POL"
if postfix_start; then ok "postfix started on 127.0.0.1:$SMTP_PORT"; else bad "postfix start"; e2e_summary; exit 1; fi

check_line "PLAIN right password (yescrypt) -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
check_line "LOGIN right password -> 235" "$OK235" "$(smtp_auth_reply LOGIN "$USER" "$PASS")"
check_line "bcrypt account -> 235" "$OK235" "$(smtp_auth_reply PLAIN bob@example.test B0b-pass)"
check_line "wrong password -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$USER" "$WRONG")"
check_line "sasldb's password -> 535 (the file decides)" "$BAD535" "$(smtp_auth_reply PLAIN "$USER" "$SASLDB_PASS")"
check_line "unknown user -> 535" "$BAD535" "$(smtp_auth_reply PLAIN nobody@example.test "$WRONG")"
check_line "mfa flag in the file: primary password -> 535 app password needed" "$NOUP535" \
    "$(smtp_auth_reply PLAIN carol@example.test C4rol-pass)"
check_line "mfa flag, wrong password -> 535" "$BAD535" "$(smtp_auth_reply PLAIN carol@example.test "$WRONG")"
log=$(postfix_log)
check "log: wrong password counted" \
    "saslguard: result=bad_credentials account=alice@example\.test source=127\.0\.0\.1/32 mech=PLAIN failures=1" "$log"
check "log: unknown user counted like a known one" \
    "saslguard: result=bad_credentials account=nobody@example\.test source=127\.0\.0\.1/32 mech=PLAIN failures=1" "$log"
check "log: mfa account asked for an app password" \
    "saslguard: result=app_password_required account=carol@example\.test" "$log"

# ------------------------------------------------------------ lockout
rcli FLUSHALL >/dev/null
for u in "$USER" nobody@example.test; do
    for i in 1 2 3; do
        check_line "$u: failure $i -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$u" "$WRONG$i" 127.0.0.4)"
    done
    check_line "$u: locked -> 454" "$TRY454" "$(smtp_auth_reply PLAIN "$u" "$PASS" 127.0.0.4)"
done
check "log: result=locked (refused before any hashing)" \
    "saslguard: result=locked account=alice@example\.test source=127\.0\.0\.4/32 mech=PLAIN failures=3 until=" "$(postfix_log)"
check "log: an unknown user is locked the same way" \
    "saslguard: result=locked account=nobody@example\.test source=127\.0\.0\.4/32 mech=PLAIN failures=3 until=" "$(postfix_log)"
rcli FLUSHALL >/dev/null

# ------------------------------------------------------------ change, picked up in process
check_line "before the change -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"
before=$(last_smtpd)
out=$(printf '%s\n' "$NEWPASS" | sg passwd "$USER" 2>&1)
check "passwd changes alice's password" "^alice@example\.test: password changed \(yescrypt\) in $PW" "$out"
check "mode and owner kept by the change" '^640 root:postfix$' "$(stat -c '%a %U:%G' "$PW")"
check "flags of other lines kept" '^carol@example\.test:\{SHA512-CRYPT\}\$6\$.*:mfa$' "$(cat "$PW")"
sleep 1.2                # the file is looked at once a second at most
check_line "new password -> 235 (no Postfix reload)" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$NEWPASS")"
after=$(last_smtpd)
if [ -n "$before" ] && [ "$before" = "$after" ]; then ok "the same smtpd process (pid $after) reloaded the file"
else bad "the same smtpd process reloaded the file (before: ${before:-none}, after: ${after:-none})"; fi
check_line "old password -> 535" "$BAD535" "$(smtp_auth_reply PLAIN "$USER" "$PASS")"

# ------------------------------------------------------------ malformed edit
cp -p "$PW" "$PW.good"
cp -p "$PW" "$PW.edit"
echo "dave@example.test:{MD5}not-a-hash" >>"$PW.edit"
BROKEN_LINE=$(wc -l <"$PW.edit")
mv "$PW.edit" "$PW"
sleep 1.2
check_line "malformed edit: the last good copy answers -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$NEWPASS")"
log=$(postfix_log)
check "log: the error names file:line" "saslguard: password file error: $PW:$BROKEN_LINE: unsupported scheme \{MD5\}" "$log"
check "log: the last good copy stays in force" "saslguard: password file $PW not reloaded: the copy loaded before stays in force" "$log"
mv "$PW.good" "$PW"

# ------------------------------------------------------------ delete
out=$(sg passwd --delete bob@example.test 2>&1); rc=$?
[ "$rc" = 0 ] && ok "passwd --delete: exit 0" || bad "passwd --delete: exit $rc ($out)"
check_no "bob's line is gone" '^bob@example\.test:' "$(cat "$PW")"
sleep 1.2
check_line "deleted account -> 535" "$BAD535" "$(smtp_auth_reply PLAIN bob@example.test B0b-pass)"
out=$(sg passwd --delete bob@example.test 2>&1); rc=$?
[ "$rc" = 1 ] && ok "passwd --delete of a missing account: exit 1" || bad "passwd --delete again: exit $rc"

# ------------------------------------------------------------ missing file at start
mv "$PW" "$PW.away"
postfix_reload
check_line "no password file -> 454 unavailable (never unprotected)" "$UNAV454" "$(smtp_auth_reply PLAIN "$USER" "$NEWPASS")"
check "log: the missing file is named" "saslguard: config error: $PW: cannot open: No such file or directory" "$(postfix_log)"
mv "$PW.away" "$PW"
postfix_reload
check_line "file back -> 235" "$OK235" "$(smtp_auth_reply PLAIN "$USER" "$NEWPASS")"

check_no "no password in Postfix's log" "$PASS|$NEWPASS|$WRONG|B0b-pass|C4rol-pass" "$(postfix_log)"
postfix_stop
e2e_summary
