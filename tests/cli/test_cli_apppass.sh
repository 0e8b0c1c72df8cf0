#!/bin/bash
# test_cli_apppass.sh - saslguard(8)'s two-factor accounts, app passwords
# and secret file, end to end: the built command against its own
# redis-server and a private Cyrus SASL configuration (tests/cli/lib.sh).
#
# secret init (creates, refuses to overwrite, refuses a loose mode), mfa
# on/off, app-password add (printed once as 4 groups of 4 letters, only a
# digest in Redis), list (never a secret), revoke (LABEL, --all), expiry;
# and "saslguard check" as the mail server decides: app password -> success
# (spaces and case ignored), primary password on a two-factor account ->
# app_password_required ten times without a lockout, revoked or expired ->
# revoked_credential without a lockout, app_passwords = required for every
# account. status and explain agree; every JSON output is parsed; no
# password ever reaches Redis, syslog lines or any other output.
# Prints "ok - ..." / "FAIL - ..." per check and "N passed, N failed".
set -u

. "$(dirname "$0")/lib.sh"
cli_setup
sasl_user bob@example.test b0bpass

SECRET=$T/etc/saslguard/secret
policy() {      # policy FILE [extra lines...]
    local f=$1; shift
    {
        echo "redis = unix:$T/redis.sock"
        echo "redis_timeout = 2s"
        echo "account_failures = 3"
        echo "source_failures = 50"
        echo "secret_file = $SECRET"
        printf '%s\n' "$@"
    } > "$f"
}
policy "$CONF"
A=alice@example.test
B=bob@example.test
SHOWN='^    [a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$'
PASSWORDS=()    # every app password handed out, to look for leaks at the end
AUDIT=$T/audit.log
: > "$AUDIT"
# audit ARGS...: run with -v, keeping the syslog copies for the leak check.
audit() { run -v "$@"; printf '%s\n' "$ERR" >> "$AUDIT"; }
# add_pw LABEL [ARGS...]: app-password add for alice, --json; sets PW.
add_pw() {
    local label=$1; shift
    run --json app-password add "$A" --label "$label" "$@"
    PW=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])' <<<"$OUT" 2>/dev/null)
    [ -n "$PW" ] && PASSWORDS+=("$PW")
}
# status_json ACCOUNT: status --json into OUT.
status_json() { run --json status "$1"; }

# ---------------------------------------------------------------- usage
for cmd in mfa app-password secret; do
    run "$cmd" --help
    if [ "$RC" = 0 ] && grep -q "^usage: saslguard $cmd" <<<"$OUT" && grep -q "exit status" <<<"$OUT"; then
        ok "$cmd --help"; else bad "$cmd --help"; show; fi
done
run app-password add --help; expect_out "app-password add --help documents --json's password" "only output that ever holds"
run --help;                  expect_out "--help lists app-password" "app-password add ACCOUNT --label NAME"
run mfa maybe "$A";          expect_rc "mfa maybe: exit 2" 2
run mfa on;                  expect_rc "mfa without ACCOUNT: exit 2" 2
run app-password frob "$A";  expect_rc "app-password unknown action: exit 2" 2
run app-password list;       expect_rc "app-password list without ACCOUNT: exit 2" 2
run app-password add "$A";   expect_rc "add without --label: exit 2" 2; expect_err "add without --label: says so" "needs --label"
run app-password add "$A" --label 'bad label!'; expect_rc "add with a bad label: exit 2" 2
run app-password add "$A" --label phone --expires 5x; expect_rc "add --expires 5x: exit 2" 2
run app-password revoke "$A"; expect_rc "revoke without LABEL or --all: exit 2" 2
run app-password revoke "$A" phone --all; expect_rc "revoke with LABEL and --all: exit 2" 2
run app-password list "$A" --all; expect_rc "list --all: exit 2" 2
run secret;                  expect_rc "secret without init: exit 2" 2

# ---------------------------------------------------------------- secret init
run app-password add "$A" --label phone
expect_rc "add without a secret file: exit 2" 2
expect_err "add without a secret file: says how to create it" "does not exist .*secret_file"
expect_err "add without a secret file: names secret init" "saslguard secret init"
run secret init --owner no-such-user-here; expect_rc "secret init --owner unknown: exit 2" 2
[ ! -e "$SECRET" ] && ok "nothing created for a bad --owner" || bad "a file was created for a bad --owner"
audit secret init
expect_rc "secret init: exit 0" 0
expect_out "secret init says what it made" "^$SECRET: created \(random key, mode 0600"
expect_out "secret init explains who reads it" "initialises SASL as root"
expect_err "secret init logged with the admin" "saslguard: admin=[^ ]+ action=secret-init path=$SECRET owner=[^ ]+ result=ok"
[ "$(stat -c %a "$SECRET")" = 600 ] && ok "secret file mode 0600" || bad "secret file mode $(stat -c %a "$SECRET")"
[ "$(stat -c %a "$T/etc/saslguard")" = 755 ] && ok "missing parent created mode 0755" || bad "parent mode $(stat -c %a "$T/etc/saslguard")"
[ "$(stat -c %s "$SECRET")" -ge 32 ] && ok "secret has at least 32 bytes" || bad "secret too short"
cp "$SECRET" "$T/secret.copy"
run secret init
expect_rc "secret init over an existing file: exit 1" 1
expect_err "secret init refuses to overwrite, with the reason" "exists already: not replaced.*invalidate every app password"
cmp -s "$SECRET" "$T/secret.copy" && ok "existing secret left as it was" || bad "existing secret changed"
policy "$T/other.conf"; sed -i "s|^secret_file = .*|secret_file = $T/other/secret|" "$T/other.conf"
OUT=$($SG_WRAP "$SG" -c "$T/other.conf" --json secret init --owner "$(id -un)" 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_rc "secret init --owner --json: exit 0" 0
jcheck "secret init --json" "d == {'action': 'secret-init', 'path': '$T/other/secret', 'owner': '$(id -un)', 'mode': '0600'}"

# ---------------------------------------------------------------- mfa
audit mfa on "$A"
expect_rc "mfa on: exit 0" 0
expect_out "mfa on: says what the primary password gets" "user supplied passwords are not permitted"
expect_out "mfa on: points at app-password add" "no active app password yet: saslguard app-password add"
expect_err "mfa on logged with the admin" "saslguard: admin=[^ ]+ action=mfa-on account=alice@example\.test result=ok"
[ "$(rcli HGET "sg:u:$A" mfa)" = 1 ] && ok "Redis: mfa flag set in sg:u:ACCOUNT" || bad "Redis: mfa flag not set"
run --json mfa on "$A"
jcheck "mfa on again --json: unchanged" 'd["action"] == "mfa" and d["account"] == "alice@example.test" and d["mfa"] is True and d["changed"] is False and d["needs_app_password"] is True and d["active_app_passwords"] == 0'

# ---------------------------------------------------------------- add
audit app-password add "$A" --label phone
expect_rc "add: exit 0" 0
expect_out "add prints the password as 4 groups of 4 lower-case letters" "$SHOWN"
expect_out "add says how to use it" "instead of your password in your mail app; spaces are optional"
expect_out "add says it is shown once" "shown only this once"
PHONE=$(grep -E "$SHOWN" <<<"$OUT" | sed 's/^ *//')
PASSWORDS+=("$PHONE")
expect_err "add logged with the admin and label" "action=app-password-add account=alice@example\.test label=phone expires=never result=ok"
rec=$(rcli HGET "sg:u:$A" p:phone)
grep -qE '^v1\|a\|[0-9a-f]{64}\|[0-9]+\|0\|0\|\|0$' <<<"$rec" && ok "Redis: p:phone is a v1 record with a digest" || bad "Redis: p:phone is '$rec'"
nospace=${PHONE// /}
if grep -qiE "$nospace|${PHONE}" <<<"$(rcli HGETALL "sg:u:$A")"; then bad "Redis holds the password"; else ok "Redis: no password in sg:u:ACCOUNT"; fi
run app-password add "$A" --label phone
expect_rc "add a label in use: exit 1" 1
expect_err "add a label in use: says so" 'already has an active app password "phone"'
add_pw laptop
expect_rc "add --json: exit 0" 0
jcheck "add --json: account, label, password, expires" 'set(d) == {"account", "key", "label", "password", "created", "expires"} and d["account"] == "alice@example.test" and d["label"] == "laptop" and d["expires"] is None and __import__("re").fullmatch("[a-z]{4}( [a-z]{4}){3}", d["password"])'
LAPTOP=$PW
[ "$LAPTOP" != "$PHONE" ] && ok "two app passwords differ" || bad "two app passwords are equal"

# ---------------------------------------------------------------- list
run app-password list "$A"
expect_rc "list: exit 0" 0
expect_out "list: header" "^LABEL +STATE +CREATED +EXPIRES +REVOKED +LAST USE$"
expect_out "list: phone active, never used" "^phone +active +20[0-9-]+T[0-9:]+Z +never +- +never$"
expect_out "list: the account needs app passwords" "two-factor account, needs an app password; 2 active, 0 expired, 0 revoked"
expect_no "list: no digest" "[0-9a-f]{64}"
expect_no "list: no password" "$PHONE|$nospace|$LAPTOP"
run --json app-password list "$A"
jcheck "list --json: records without secrets" 'd["mfa"] and d["needs_app_password"] and [r["label"] for r in d["app_passwords"]] == ["laptop", "phone"] and all(r["state"] == "active" and r["last_use"] is None for r in d["app_passwords"]) and not any(len(str(v)) >= 64 for r in d["app_passwords"] for v in r.values())'

# ---------------------------------------------------------------- check
run_pw "$PHONE" check "$A" --source 192.0.2.7 "${SASL[@]}"
expect_rc "check with the app password: exit 0" 0
expect_out "check with the app password: success" "^$A: success \(SASL_OK 0\)"
expect_out "check names the app password" '^credential: app password "phone"'
run_pw "$(tr a-z A-Z <<<"$nospace")" check "$A" "${SASL[@]}"
expect_rc "app password without spaces, upper case: exit 0" 0
run_pw "${nospace:0:4}-${nospace:4:4}-${nospace:8:4}-${nospace:12:4}" check "$A" "${SASL[@]}" --json
jcheck "app password with dashes --json: success and label" 'd["result"] == "success" and d["app_password"] == {"label": "phone", "state": "active"}'
run app-password list "$A"
expect_out "list: last use of phone" "^phone +active .* 20[0-9-]+T[0-9:]+Z$"
run_pw "$LAPTOP" check "$A" --source 198.51.100.3 "${SASL[@]}"
run app-password list "$A"
expect_out "list: last use with its source" "^laptop +active .* 20[0-9-]+T[0-9:]+Z from 198\.51\.100\.3/32$"

run_pw s3cret check "$A" --source 192.0.2.7 "${SASL[@]}"
expect_rc "primary password on a 2FA account: exit 1" 1
expect_out "primary password: app_password_required, NOUSERPASS" "^$A: app_password_required \(SASL_NOUSERPASS -28\)"
expect_out "primary password: Postfix's reply" "^reply: 535 5\.7\.8 Error: authentication failed: user supplied passwords are not permitted$"
expect_out "primary password: the note" "needs an app password \(two-factor account\); not counted"
all=1
for i in $(seq 10); do
    run_pw s3cret check "$A" --source 192.0.2.7 "${SASL[@]}" --json
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["result"] != "app_password_required" or d["sasl_name"] != "SASL_NOUSERPASS")' <<<"$OUT" && [ "$RC" = 1 ] || all=0
done
[ "$all" = 1 ] && ok "primary password ten times in a row: app_password_required, exit 1" || { bad "primary password ten times"; show; }
run status "$A"
expect_out "after ten: status not locked" "^state: +not locked"
expect_out "after ten: status 0 failures" "^failures: +0"
[ "$(rcli HGET sg:stats app_password_required)" -ge 11 ] && ok "stats count app_password_required" || bad "stats: $(rcli HGET sg:stats app_password_required)"
run_pw "$PHONE" check "$A" --source 192.0.2.7 "${SASL[@]}"
expect_rc "the 11th attempt, with the app password: success" 0
run_pw wrong-password check "$A" --source 203.0.113.9 "${SASL[@]}"   # not a familiar source
expect_out "a wrong password on a 2FA account counts" "^$A: bad_credentials .*"
status_json "$A";  jcheck "the wrong password is a failure" 'd["failures"] == 1'
run_pw "$PHONE" check "$A" "${SASL[@]}"
status_json "$A";  jcheck "an app-password login clears the failures" 'd["failures"] == 0'

# ---------------------------------------------------------------- status, explain
run status "$A"
expect_out "status: two-factor on" "^two-factor: +on: needs an app password"
expect_out "status: app passwords listed" "^app passwords: laptop: created .*last used 20[0-9-]+T[0-9:]+Z from 198\.51\.100\.3/32$"
expect_out "status: no stale devices yet" "^stale devices: \(none\)$"
status_json "$A"
jcheck "status --json: flag and app passwords" 'd["mfa"] and d["needs_app_password"] and d["needs_app_password_by"] == "mfa" and [r["label"] for r in d["app_passwords"]] == ["laptop", "phone"] and d["stale_devices"] == []'
run explain "$A"
expect_out "explain: app passwords needed" "^app passwords: needed \(two-factor account\); 2 active"
expect_out "explain: what the primary password gets" "right password: 535 5\.7\.8 Error: authentication failed: user supplied passwords are not permitted \(app_password_required\)"
expect_out "explain: what an app password gets" "app password: +235 2\.7\.0"
run --json explain "$A"
jcheck "explain --json" 'd["account"]["needs_app_password"] and d["next"]["on_success"]["result"] == "app_password_required" and d["next"]["on_success"]["sasl_name"] == "SASL_NOUSERPASS" and d["next"]["on_app_password"]["result"] == "success" and d["next"]["on_stale_app_password"]["result"] == "revoked_credential"'

# ---------------------------------------------------------------- revoke
audit app-password revoke "$A" phone
expect_rc "revoke phone: exit 0" 0
expect_out "revoke: says what a device gets" "gets: 535 5\.7\.8 Error: authentication failed: authentication failure"
expect_err "revoke logged with the admin" "action=app-password-revoke account=alice@example\.test label=phone revoked=1 result=ok"
[ -z "$(rcli HGET "sg:u:$A" p:phone)" ] && ok "Redis: p:phone gone" || bad "Redis: p:phone still there"
rcli HKEYS "sg:u:$A" | grep -qE '^r:phone:[0-9]+$' && ok "Redis: r:phone:TIME kept" || bad "Redis: no revoked record"
run_pw "$PHONE" check "$A" --source 192.0.2.7 "${SASL[@]}"
expect_rc "revoked app password: exit 1" 1
expect_out "revoked app password: revoked_credential" "^$A: revoked_credential \(SASL_BADAUTH -13\)"
expect_out "revoked app password: 535 reply" "^reply: 535 5\.7\.8 Error: authentication failed: authentication failure$"
expect_out "revoked app password: the note" 'app password "phone" was revoked: a stale device; not counted'
for i in 1 2 3 4 5; do run_pw "$PHONE" check "$A" --source 192.0.2.7 "${SASL[@]}" --json; done
jcheck "revoked app password --json: label and state" 'd["result"] == "revoked_credential" and d["app_password"] == {"label": "phone", "state": "revoked"}'
status_json "$A"
jcheck "six revoked attempts: not locked, 0 failures" 'd["state"] == "allowed" and d["failures"] == 0'
jcheck "status --json: phone is a stale device" '[(r["label"], r["state"]) for r in d["stale_devices"]] == [("phone", "revoked")] and d["stale_devices"][0]["revoked"].endswith("Z") and d["stale_devices"][0]["last_use"] is not None'
run status "$A"
expect_out "status: stale device with revocation and last use" "^stale devices: phone: revoked 20[0-9-]+T[0-9:]+Z, created .*, last used 20"
run app-password revoke "$A" phone
expect_rc "revoke phone again: exit 1" 1
expect_out "revoke phone again: says so" 'no active app password "phone"'
audit app-password add "$A" --label phone
expect_rc "the label of a revoked app password is free again" 0
PASSWORDS+=("$(grep -E "$SHOWN" <<<"$OUT" | sed 's/^ *//')")

# ---------------------------------------------------------------- expiry
add_pw temp --expires 3s
jcheck "add --expires 3s: expiry set" 'd["expires"] is not None and d["expires"] > d["created"]'
TEMP=$PW
run_pw "$TEMP" check "$A" "${SASL[@]}"
expect_rc "app password before its expiry: success" 0
exp=$(rcli HGET "sg:u:$A" p:temp | cut -d'|' -f5)
for _ in $(seq 100); do
    t=($(rcli TIME)); [ $(( t[0] * 1000 + t[1] / 1000 )) -gt "$exp" ] && break; sleep 0.1
done
run_pw "$TEMP" check "$A" "${SASL[@]}"
expect_rc "expired app password: exit 1" 1
expect_out "expired app password: revoked_credential" "^$A: revoked_credential"
expect_out "expired app password: the note" 'app password "temp" has expired'
run app-password list "$A"
expect_out "list: temp expired" "^temp +expired "
run status "$A"
expect_out "status: temp is a stale device" "^(stale devices:)? +temp: expired 20[0-9-]+T"
run app-password add "$A" --label temp
expect_rc "add over an expired label: exit 1" 1
expect_err "add over an expired label: revoke it first" 'expired .* revoke it first: saslguard app-password revoke alice@example\.test temp'

# ---------------------------------------------------------------- revoke --all
audit app-password revoke "$A" --all
expect_rc "revoke --all: exit 0" 0
expect_out "revoke --all: how many" "^$A: 3 app passwords revoked$"
expect_err "revoke --all logged" "action=app-password-revoke account=alice@example\.test all=yes revoked=3 result=ok"
run --json app-password list "$A"
jcheck "after --all: none active" 'd["app_passwords"] and all(r["state"] != "active" for r in d["app_passwords"])'
run --json app-password revoke "$A" --all
expect_rc "revoke --all with none: exit 1" 1
jcheck "revoke --all --json" 'd == {"action": "app-password-revoke", "account": "alice@example.test", "key": "alice@example.test", "label": None, "all": True, "revoked": 0}'
run_pw "$LAPTOP" check "$A" "${SASL[@]}"
expect_out "laptop after --all: revoked_credential" "^$A: revoked_credential"

# ---------------------------------------------------------------- mfa off
audit mfa off "$A"
expect_rc "mfa off: exit 0" 0
expect_out "mfa off: the primary password logs in" "two-factor off: its primary password logs in"
expect_err "mfa off logged" "action=mfa-off account=alice@example\.test result=ok"
[ -z "$(rcli HGET "sg:u:$A" mfa)" ] && ok "Redis: mfa flag removed" || bad "Redis: mfa flag still set"
run_pw s3cret check "$A" "${SASL[@]}"
expect_rc "mfa off: primary password succeeds" 0

# ---------------------------------------------------------------- app_passwords = required
policy "$T/required.conf" "app_passwords = required"
CONF_SAVE=$CONF; CONF=$T/required.conf
for u in "$A:s3cret" "$B:b0bpass"; do
    run_pw "${u#*:}" check "${u%%:*}" "${SASL[@]}"
    expect_rc "required: ${u%%:*}'s primary password: exit 1" 1
    expect_out "required: ${u%%:*} gets app_password_required" "app_password_required \(SASL_NOUSERPASS -28\)"
    expect_out "required: the note names the policy" "app_passwords = required"
done
run explain "$B"
expect_out "required: explain bob" "^app passwords: needed \(app_passwords = required\)"
run status "$B"
expect_out "required: status bob" "^two-factor: +off; needs an app password anyway \(app_passwords = required\)"
run --json app-password add "$B" --label phone
PW=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])' <<<"$OUT" 2>/dev/null); PASSWORDS+=("$PW")
run_pw "$PW" check "$B" "${SASL[@]}"
expect_rc "required: bob's app password succeeds" 0
policy "$T/refuse.conf" "app_passwords = required" "mfa_primary_password = refuse"
CONF=$T/refuse.conf
for i in $(seq 10); do run_pw b0bpass check "$B" "${SASL[@]}"; done
expect_out "refuse: result app_password_required" "^$B: app_password_required \(SASL_BADAUTH -13\)"
expect_out "refuse: plain 535 reply" "^reply: 535 5\.7\.8 Error: authentication failed: authentication failure$"
status_json "$B";  jcheck "refuse: ten times, 0 failures, not locked" 'd["failures"] == 0 and d["state"] == "allowed"'
run explain "$B"
expect_out "refuse: explain shows the plain 535" "right password: 535 5\.7\.8 Error: authentication failed: authentication failure \(app_password_required\)"
CONF=$CONF_SAVE

# ---------------------------------------------------------------- secret file problems
chmod 644 "$SECRET"
run app-password add "$A" --label desk
expect_rc "secret mode 0644: add exits 2" 2
expect_err "secret mode 0644: clear refusal with the fix" "mode 0644 is too open: the secret must be mode 0600 or stricter \(chmod 600 "
[ -z "$(rcli HGET "sg:u:$A" p:desk)" ] && ok "secret mode 0644: nothing stored" || bad "secret mode 0644: stored"
run explain "$B" -c "$T/required.conf"
expect_out "secret mode 0644: explain warns" "^warning: app passwords cannot be verified: .*too open"
run_pw "$PW" check "$B" -c "$T/required.conf" "${SASL[@]}"
expect_rc "secret mode 0644: the app password is refused" 1
expect_err "secret mode 0644: check warns" "app passwords cannot be verified"
chmod 600 "$SECRET"
head -c 10 /dev/urandom > "$T/short"; chmod 600 "$T/short"
policy "$T/short.conf"; sed -i "s|^secret_file = .*|secret_file = $T/short|" "$T/short.conf"
OUT=$("$SG" -c "$T/short.conf" app-password add "$A" --label desk 2>"$T/stderr"); RC=$?; ERR=$(cat "$T/stderr")
expect_rc "short secret: exit 2" 2
expect_err "short secret: says so" "too short"

# ---------------------------------------------------------------- too many
for i in $(seq 20); do run app-password add "$A" --label "dev$i"; done
expect_rc "the 20th active app password: exit 0" 0
run app-password add "$A" --label dev21
expect_rc "a 21st active app password: exit 1" 1
expect_err "a 21st: says the limit" "has 20 active app passwords"
run app-password revoke "$A" --all

# ---------------------------------------------------------------- no password anywhere
leaked=0
for p in "${PASSWORDS[@]}"; do
    [ -n "$p" ] || continue
    s=${p// /}
    grep -qiE "$p|$s" "$AUDIT" && leaked=1
    rcli --scan | while read -r k; do
        case $(rcli TYPE "$k") in
        hash) rcli HGETALL "$k" ;; string) rcli GET "$k" ;; zset) rcli ZRANGE "$k" 0 -1 ;;
        esac
    done | grep -qiE "$p|$s" && leaked=1
    grep -qiE "$p|$s" "$T/redis.log" && leaked=1
done
[ "${#PASSWORDS[@]}" -ge 5 ] && ok "${#PASSWORDS[@]} app passwords handed out" || bad "only ${#PASSWORDS[@]} app passwords recorded"
[ "$leaked" = 0 ] && ok "no app password in Redis, its log or the syslog lines" || bad "an app password leaked"

# ---------------------------------------------------------------- Redis down
redis_stop
run app-password list "$A";  expect_rc "Redis stopped: list exits 3" 3
expect_err "Redis stopped: clear message" "^saslguard: cannot reach Redis at unix:"
run app-password add "$A" --label x; expect_rc "Redis stopped: add exits 3" 3
run app-password revoke "$A" --all;  expect_rc "Redis stopped: revoke exits 3" 3
run mfa on "$A";             expect_rc "Redis stopped: mfa exits 3" 3

finish
