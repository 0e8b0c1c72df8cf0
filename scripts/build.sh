#!/bin/sh
# build.sh - configure (warnings are errors) and build saslguard in ./build.
# Extra arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if ! { [ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ]; }; then
    log=$(mktemp)
    autoreconf -fi >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
    rm -f "$log"
fi
mkdir -p build
cd build
[ -f Makefile ] && [ Makefile -nt ../configure ] && [ $# -eq 0 ] || ../configure --enable-werror "$@"
make -j"$(nproc)"
