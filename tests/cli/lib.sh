# lib.sh - shared pieces of the saslguard(8) tests (bash, sourced).
#
# The built command against its own redis-server (unix socket in a scratch
# dir) and a private Cyrus SASL configuration (auxprop + sasldb). A missing
# redis-server, redis-cli, python3 or saslpasswd2 is a failure, never a
# skip. Every check prints "ok - ..." or "FAIL - ..."; finish prints
# "N passed, N failed" and exits non-zero on any failure.
#
# Usage, from a test script:
#	. "$(dirname "$0")/lib.sh"
#	cli_setup               # scratch dir $T, redis-server, sasldb, $CONF
#	run status alice; expect_rc "status" 0 ...
#	finish
#
# Environment: top_builddir, top_srcdir (set by make check), REDIS_SERVER,
# REDIS_CLI; SG_WRAP, a command to run saslguard under (e.g.
# SG_WRAP="valgrind -q --error-exitcode=99 --leak-check=full").

top_builddir=${top_builddir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SG=$top_builddir/tools/saslguard
SG_WRAP=${SG_WRAP:-}
# shellcheck source=../helpers/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../helpers/harness.sh"
harness_init sgcli

# ---------------------------------------------------------------- helpers
CONF=$T/saslguard.conf
# run ARGS...: saslguard with the test policy; sets OUT, ERR, RC.
run() {
    OUT=$($SG_WRAP "$SG" -c "$CONF" "$@" 2>"$T/stderr" </dev/null); RC=$?
    ERR=$(cat "$T/stderr")
}
# run_pw PASSWORD ARGS...: the same with PASSWORD on standard input.
run_pw() {
    local pw=$1; shift
    OUT=$(printf '%s\n' "$pw" | $SG_WRAP "$SG" -c "$CONF" "$@" 2>"$T/stderr"); RC=$?
    ERR=$(cat "$T/stderr")
}
show() { { echo "    exit: $RC"; echo "$OUT" | sed 's/^/    out| /'; echo "$ERR" | sed 's/^/    err| /'; } | head -30; }
expect_rc()  { if [ "$RC" = "$2" ]; then ok "$1"; else bad "$1 (exit $RC, wanted $2)"; show; fi; }
expect_out() { if grep -qE -- "$2" <<<"$OUT"; then ok "$1"; else bad "$1 (stdout lacks /$2/)"; show; fi; }
expect_err() { if grep -qE -- "$2" <<<"$ERR"; then ok "$1"; else bad "$1 (stderr lacks /$2/)"; show; fi; }
expect_no()  { if grep -qE -- "$2" <<<"$OUT$ERR"; then bad "$1 (found /$2/)"; show; else ok "$1"; fi; }
# jcheck NAME EXPR: parse OUT as JSON into d and assert the Python EXPR.
jcheck() {
    if python3 -c 'import json,sys
d = json.loads(sys.stdin.read())
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" <<<"$OUT" 2>"$T/py"; then
        ok "$1"
    else
        bad "$1 (JSON: $2)"; sed 's/^/    py| /' "$T/py"; show
    fi
}

# ---------------------------------------------------------------- set-up
# cli_setup: check the tools, start redis-server, make $T/sasldb2 with
# alice@example.test (s3cret) and $T/sasl/smtpd.conf; SASL=(...) holds the
# check options that select it. Ends the test (finish) when it cannot.
cli_setup() {
    require_programs "install redis-server, python3, sasl2-bin" \
        "$REDIS_SERVER" "$REDIS_CLI" python3 saslpasswd2
    [ -x "$SG" ] || { bad "$SG not built"; finish; }
    redis_start 700

    mkdir -p "$T/sasl"
    sasl_user alice@example.test s3cret
    cat > "$T/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $T/sasldb2
mech_list: PLAIN LOGIN
EOF
    SASL=(--sasl-conf-dir "$T/sasl")
}
# sasl_user USER@REALM PASSWORD: add a user to $T/sasldb2.
sasl_user() {
    echo "$2" | saslpasswd2 -p -c -f "$T/sasldb2" -u "${1#*@}" "${1%@*}"
}
