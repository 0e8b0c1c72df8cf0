#!/bin/sh
# build.sh - configure (warnings are errors) and build saslguard in ./build.
# Extra arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] && [ Makefile -nt ../configure ] && [ $# -eq 0 ] || ../configure --enable-werror "$@"
make -j"$(nproc)"
