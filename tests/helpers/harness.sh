# harness.sh - what the shell tests share (bash, sourced): the tally, a
# scratch directory removed on exit, a private redis-server stopped by PID,
# and the check for required programs.
#
#	. "$top_srcdir/tests/helpers/harness.sh"
#	harness_init sgcli              # $T, and cleanup on exit
#	require_programs "install redis-server, python3" "$REDIS_SERVER" python3
#	redis_start 700                 # $T/redis.sock, mode 700; $REDIS_PID
#	ok "..." / bad "..."; finish    # "N passed, N failed", non-zero on failure
#
# A missing program, or a server that does not start, is a failure, never
# a skip. harness_cleanup_hook, when a script defines it, runs at exit
# before the Redis server is stopped and $T removed.

REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server)}
REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli)}
PASS=0 FAIL=0 REDIS_PID= T=

ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
    exit
}

redis_stop() {
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
        REDIS_PID=
    fi
}
harness_cleanup() {
    if declare -F harness_cleanup_hook >/dev/null; then harness_cleanup_hook; fi
    redis_stop
    [ -n "$T" ] && rm -rf "$T"
}
harness_init() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX") || { bad "mktemp"; finish; }
    trap harness_cleanup EXIT
    trap 'exit 130' INT TERM
}

# require_programs HINT PROGRAM...: each must be on PATH.
require_programs() {
    local hint=$1 tool
    shift
    for tool in "$@"; do
        if [ -z "$tool" ] || ! command -v "$tool" >/dev/null; then
            bad "required program missing: ${tool:-redis-server/redis-cli} ($hint)"
            finish
        fi
    done
}

rcli() { "$REDIS_CLI" -s "$T/redis.sock" "$@"; }
# The Redis server's clock in ms (lock ends are in its time).
redis_now_ms() { local t; read -r -d '' -a t < <(rcli TIME); echo $(( t[0] * 1000 + t[1] / 1000 )); }

# redis_start MODE: a redis-server on $T/redis.sock (socket mode MODE),
# no TCP port, no persistence.
redis_start() {
    "$REDIS_SERVER" --port 0 --unixsocket "$T/redis.sock" --unixsocketperm "$1" --save '' \
        --appendonly no --daemonize no --dir "$T" --logfile "$T/redis.log" &
    REDIS_PID=$!
    for _ in $(seq 100); do [ "$(rcli PING 2>/dev/null)" = PONG ] && break; sleep 0.05; done
    if [ "$(rcli PING 2>/dev/null)" = PONG ]; then ok "redis-server started (pid $REDIS_PID)"
    else bad "redis-server did not start"; finish; fi
}
