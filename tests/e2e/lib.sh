# lib.sh - shared pieces of saslguard's end-to-end tests and demo (bash).
#
# A private Redis (unix socket only) and a private Postfix instance
# (config_directory of its own, no chroot, no DNS, mail discarded) that loads
# the saslguard SASL plugin from a directory of its own, on loopback only.
# Measured recipe: /work/shared/lab/RECIPE.md. Needs root (Postfix).
#
# Usage, from a script:
#	. "$(dirname "$0")/lib.sh"
#	e2e_netns "$@"          # re-exec in a private network namespace
#	e2e_init                # E2E_RUN scratch dir, cleanup on exit
#	redis_start; postfix_setup POLICY; postfix_start
#	...
# Every start function records what it started; e2e_cleanup (run on EXIT)
# stops exactly that, by pid file, and removes the scratch dir unless
# E2E_KEEP=1.
#
# Variables a caller may set: top_builddir / top_srcdir (make check sets
# them), PLUGIN_SO (the built plugin), E2E_NO_NETNS=1, E2E_KEEP=1, TMPDIR,
# E2E_LISTEN6 (IPv6 addresses Postfix listens on too, e.g. "::1"; set
# before postfix_setup; smtp_auth from an IPv6 source connects to the first).

E2E_SYS_PLUGDIR=${E2E_SYS_PLUGDIR:-/usr/lib/x86_64-linux-gnu/sasl2}
E2E_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$E2E_HERE/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PLUGIN_SO=${PLUGIN_SO:-$top_builddir/plugin/.libs/libsaslguard.so}
SASL_DRIVER=${SASL_DRIVER:-$top_builddir/tests/helpers/sasl_driver}
SG=$top_builddir/tools/saslguard

# The reply lines swaks prints for each SASL result (Postfix 3.7 wording).
OK235='<-  235 2.7.0 Authentication successful'
BAD535='<** 535 5.7.8 Error: authentication failed: authentication failure'
DIS535='<** 535 5.7.8 Error: authentication failed: account disabled'
NOUP535='<** 535 5.7.8 Error: authentication failed: user supplied passwords are not permitted'
TRY454='<** 454 4.7.0 Temporary authentication failure: transient failure (e.g., weak key)'
UNAV454='<** 454 4.7.0 Temporary authentication failure: remote authentication server unavailable'

# ------------------------------------------------------------------ results
E2E_PASS=0
E2E_FAIL=0
ok()   { E2E_PASS=$((E2E_PASS + 1)); echo "ok - $*"; }
bad()  { E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL - $*"; }
# check NAME REGEX TEXT: pass if a line of TEXT matches the extended regex.
check() {
    local name=$1 pat=$2 text=$3
    if grep -qE -- "$pat" <<<"$text"; then ok "$name"
    else bad "$name (wanted /$pat/)"; sed 's/^/    | /' <<<"$text" | tail -15; fi
}
# check_line NAME LINE TEXT: pass if TEXT has exactly this line.
check_line() {
    local name=$1 line=$2 text=$3
    if grep -qxF -- "$line" <<<"$text"; then ok "$name"
    else bad "$name (wanted the line '$line')"; sed 's/^/    | /' <<<"$text" | tail -15; fi
}
# check_no NAME REGEX TEXT: pass if no line of TEXT matches.
check_no() {
    local name=$1 pat=$2 text=$3
    if grep -qE -- "$pat" <<<"$text"; then
        bad "$name (unexpected /$pat/)"; grep -E -- "$pat" <<<"$text" | sed 's/^/    | /' | tail -5
    else ok "$name"; fi
}
e2e_summary() {
    echo "$E2E_PASS passed, $E2E_FAIL failed"
    [ "$E2E_FAIL" -eq 0 ]
}
# e2e_require CMD...: a missing program is a failure, never a skip.
e2e_require() {
    local c missing=0
    for c in "$@"; do
        if command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ]; then :; else
            bad "required program not found: $c"; missing=1; fi
    done
    return $missing
}

# ------------------------------------------------------------------ setup
# Re-exec inside `unshare -n` (only "lo": nothing can leave the machine and
# fixed ports cannot collide); without it, pick free ports.
e2e_netns() {
    if [ -z "${E2E_IN_NETNS:-}" ] && [ "${E2E_NO_NETNS:-0}" != 1 ] && unshare -n true 2>/dev/null; then
        exec env E2E_IN_NETNS=1 unshare -n -- bash "$0" "$@"
    fi
    if [ -n "${E2E_IN_NETNS:-}" ]; then
        ip link set lo up
        SMTP_PORT=${SMTP_PORT:-2525}
    else
        SMTP_PORT=${SMTP_PORT:-$(e2e_freeport)}
    fi
}
e2e_freeport() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return; }
    done
}

e2e_init() {
    PATH=$PATH:/usr/sbin:/sbin
    export PATH
    E2E_RUN=$(mktemp -d "${TMPDIR:-/tmp}/saslguard-e2e.XXXXXX") || { bad "mktemp"; exit 1; }
    chmod 755 "$E2E_RUN"          # smtpd runs as postfix and must reach it
    mkdir -p "$E2E_RUN"/{redis,plugins,pf/etc/sasl,pf/data,pf/spool,conf}
    chmod 755 "$E2E_RUN"/*
    trap e2e_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Kill the pid in FILE only if it is still the program NAME we started;
# wait until it is gone (or a zombie: some PID 1s reap orphans late).
e2e_killpidfile() {
    local f=$1 name=$2 pid i
    [ -s "$f" ] || return 0
    pid=$(tr -dc 0-9 <"$f")
    [ -n "$pid" ] && [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "$name" ] || return 0
    kill "$pid" 2>/dev/null
    for i in $(seq 150); do
        ps -o stat= -p "$pid" 2>/dev/null | grep -qv Z || break
        sleep 0.02
    done
    return 0
}

e2e_cleanup() {
    [ -n "${E2E_PF_STARTED:-}" ] && postfix -c "$E2E_RUN/pf/etc" stop >/dev/null 2>&1
    E2E_PF_STARTED=
    redis_stop
    if [ -n "${E2E_RUN:-}" ] && [ "${E2E_KEEP:-0}" != 1 ]; then rm -rf "$E2E_RUN"; fi
    [ "${E2E_KEEP:-0}" = 1 ] && echo "# scratch dir kept: $E2E_RUN"
    return 0
}

# ------------------------------------------------------------------ Redis
# A private redis-server on a unix socket only (mode 777: smtpd, running as
# postfix, must be able to connect).
REDIS_SOCK=
redis_start() {
    local d=$E2E_RUN/redis i
    rm -f "$d/redis.pid" "$d/redis.sock"
    redis-server --port 0 --unixsocket "$d/redis.sock" --unixsocketperm 777 \
        --save '' --appendonly no --daemonize yes --pidfile "$d/redis.pid" \
        --logfile "$d/redis.log" --dir "$d" || return 1
    REDIS_SOCK=$d/redis.sock
    for i in $(seq 100); do
        [ "$(redis-cli -s "$REDIS_SOCK" PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    tail -3 "$d/redis.log" >&2
    return 1
}
redis_stop() {
    [ -n "${E2E_RUN:-}" ] && e2e_killpidfile "$E2E_RUN/redis/redis.pid" redis-server
    return 0
}
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
# The Redis server's clock in ms (lock ends are in its time).
redis_now_ms() {
    local t
    t=($(rcli TIME))
    [[ "${t[0]:-}" =~ ^[0-9]+$ && "${t[1]:-}" =~ ^[0-9]+$ ]] || { echo 0; return; }
    echo $(( t[0] * 1000 + t[1] / 1000 ))
}
# lock_end_ms ACCOUNT: when ACCOUNT's lock ends (Redis ms), 0 if none: the
# later of lu (lock for unfamiliar sources) and flu (familiar sources).
lock_end_ms() {
    local v end=0
    for v in $(rcli HMGET "sg:a:$1" lu flu); do
        [[ "$v" =~ ^[0-9]+$ ]] && (( v > end )) && end=$v
    done
    echo "$end"
}
# sleep_ms MS: bounded to 0..10 s, so a bad value can never hang a test.
sleep_ms() {
    local ms=${1:-0}
    [[ "$ms" =~ ^-?[0-9]+$ ]] || ms=0
    (( ms < 0 )) && ms=0
    (( ms > 10000 )) && ms=10000
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

# ------------------------------------------------------------------ SASL
# Only our plugin in a private dir; the system dir follows it in SASL_PATH
# for sasldb and the other mechanisms (ours sorts first anyway).
e2e_install_plugin() {
    [ -f "$PLUGIN_SO" ] || return 1
    cp "$PLUGIN_SO" "$E2E_RUN/plugins/libsaslguard.so"
    chmod 755 "$E2E_RUN/plugins/libsaslguard.so"
    E2E_SASL_PATH=$E2E_RUN/plugins:$E2E_SYS_PLUGDIR
}

# sasldb_add USER@REALM PASSWORD: into $E2E_RUN/sasldb2, readable by postfix.
sasldb_add() {
    local user=${1%@*} realm=${1#*@}
    echo "$2" | saslpasswd2 -p -c -f "$E2E_RUN/sasldb2" -u "$realm" "$user" || return 1
    chgrp postfix "$E2E_RUN/sasldb2" && chmod 640 "$E2E_RUN/sasldb2"
}

# sasl_conf FILE POLICY: a libsasl application config using our plugin.
sasl_conf() {
    cat >"$1" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $E2E_RUN/sasldb2
saslguard_config: $2
EOF
    chmod 644 "$1"
}

# write_policy FILE [extra lines...]: a test policy on the private Redis.
write_policy() {
    local f=$1
    shift
    {
        echo "# saslguard test policy (written by tests/e2e/lib.sh)"
        echo "redis = unix:$REDIS_SOCK"
        echo "redis_timeout = 500ms"
        printf '%s\n' "$@"
    } >"$f"
    chmod 644 "$f"
}

# ------------------------------------------------------------------ Postfix
# postfix_setup POLICY: a private instance on 127.0.0.1:$SMTP_PORT, every
# service unchrooted, SASL config in $config_directory/sasl (Debian's
# Postfix ignores cyrus_sasl_config_path), plugins from $E2E_SASL_PATH.
postfix_setup() {
    local pf=$E2E_RUN/pf a ifaces=127.0.0.1 protos=ipv4
    sasl_conf "$pf/etc/sasl/smtpd.conf" "$1"
    for a in ${E2E_LISTEN6:-}; do protos=all ifaces="$ifaces, [$a]"; done
    cat >"$pf/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = lab.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
inet_interfaces = $ifaces
inet_protocols = $protos
mynetworks = 127.0.0.0/8
relayhost =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
default_transport = discard:lab-sink
relay_transport = discard:lab-sink
local_transport = discard:lab-sink
virtual_transport = discard:lab-sink
alias_maps =
alias_database =
biff = no
maillog_file = $pf/postfix.log
maillog_file_prefixes = /var, /dev/stdout, $E2E_RUN
smtpd_banner = \$myhostname ESMTP lab
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $pf/etc/sasl
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtpd_tls_auth_only = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME SASL_PATH=$E2E_SASL_PATH
EOF
    cat >"$pf/etc/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n -  0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n -  - trivial-rewrite
bounce    unix - - n -  0 bounce
defer     unix - - n -  0 bounce
trace     unix - - n -  0 bounce
verify    unix - - n -  1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n -  - proxymap
showq     unix n - n -  - showq
error     unix - - n -  - error
retry     unix - - n -  - error
discard   unix - - n -  - discard
anvil     unix - - n -  1 anvil
scache    unix - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
    for a in ${E2E_LISTEN6:-}; do
        echo "[$a]:$SMTP_PORT inet n - n - - smtpd" >>"$pf/etc/master.cf"
    done
    chown postfix:postfix "$pf/data"
    touch "$pf/postfix.log"
    # a main.cf younger than ~1 s makes every postfix command wait for it to settle
    touch -d "@$(( $(date +%s) - 10 ))" "$pf/etc/main.cf" "$pf/etc/master.cf"
}
postfix_start() {
    if postfix -c "$E2E_RUN/pf/etc" start >"$E2E_RUN/pf/start.out" 2>&1; then
        E2E_PF_STARTED=1
        return 0
    fi
    cat "$E2E_RUN/pf/start.out" "$E2E_RUN/pf/postfix.log" >&2
    return 1
}
# New smtpd processes (a fresh plugin state) for the next connections.
postfix_reload() {
    postfix -c "$E2E_RUN/pf/etc" reload >/dev/null 2>&1
    sleep 0.5
}
postfix_stop() {
    [ -n "${E2E_PF_STARTED:-}" ] && postfix -c "$E2E_RUN/pf/etc" stop >/dev/null 2>&1
    E2E_PF_STARTED=
    return 0
}
# Wait until everything logged so far is in the log file: a marker sent
# through postlogd after it (smtpd logs a decision before it answers the
# client, and postlogd's datagram socket keeps the order) must appear.
postfix_log_sync() {
    local mark="e2e-sync-$$-$RANDOM$RANDOM" i
    postlog -c "$E2E_RUN/pf/etc" -t e2e-sync "$mark" </dev/null >/dev/null 2>&1
    for i in $(seq 200); do
        grep -q "$mark" "$E2E_RUN/pf/postfix.log" && return 0
        sleep 0.05
    done
    echo "postfix_log_sync: marker not logged within 10 s" >&2
    return 1
}
# The whole Postfix log, up to now.
postfix_log() { postfix_log_sync; cat "$E2E_RUN/pf/postfix.log"; }

# smtp_auth MECH USER PASSWORD [SOURCE_IP]: one swaks AUTH, all its output.
smtp_auth() {
    local src=() server=127.0.0.1:$SMTP_PORT six
    [ -n "${4:-}" ] && src=(--local-interface "$4")
    if [[ "${4:-}" == *:* ]]; then
        for six in ${E2E_LISTEN6:-::1}; do break; done
        server=[$six]:$SMTP_PORT
    fi
    swaks --server "$server" "${src[@]}" --helo client.example.test \
        --from alice@example.test --to bob@example.test --quit-after AUTH \
        --auth "$1" --auth-user "$2" --auth-password "$3" </dev/null 2>&1
}
# e2e_lo_add6 ADDR...: add IPv6 addresses (/128) to lo; only inside the
# private network namespace (e2e_netns), never on the host's lo.
e2e_lo_add6() {
    local a
    [ -n "${E2E_IN_NETNS:-}" ] || return 1
    for a in "$@"; do
        ip -6 addr add "$a/128" dev lo nodad || return 1
    done
}
# The server's final reply to AUTH as swaks prints it: 235, or an error.
smtp_auth_reply() {
    smtp_auth "$@" | grep -E '^(<-  235|<\*\* [45][0-9][0-9]) ' | head -1
}
