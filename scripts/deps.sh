#!/bin/sh
# deps.sh - install, with apt-get, the Debian 12 packages saslguard needs to
# build and test, when any is missing. Needs root. Safe to run again.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config
 libsasl2-dev libhiredis-dev libssl-dev libcmocka-dev libpam0g-dev libcrypt-dev
 redis-server redis-tools postfix swaks sasl2-bin libsasl2-modules pamtester
 db5.3-util whois valgrind iproute2 util-linux procps python3"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages:$missing; run as root to install them" >&2
    exit 1
fi
echo "deps.sh: installing:$missing"
# No system mail setup: we run private Postfix instances on loopback only.
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
echo 'postfix postfix/mailname string localhost.localdomain' | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing
