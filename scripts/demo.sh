#!/bin/sh
# demo.sh - the README's first command: install what is missing, build,
# then start Redis and a private Postfix on loopback with the plugin and
# walk through logins, a lockout, an unlock and an app password with swaks.
# Everything started is stopped at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/scripts/deps.sh"
sh "$top/scripts/build.sh" >/dev/null
exec bash "$top/tests/e2e/demo.sh" "$top/build"
