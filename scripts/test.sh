#!/bin/sh
# test.sh - the whole test suite: install what is missing, build, run
# `make check` (unit tests, Redis integration tests, Postfix + swaks
# end-to-end tests) and print one closing line "N passed, N failed".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/scripts/deps.sh"
sh "$top/scripts/build.sh"
cd "$top/build"
rc=0
make -j"$(nproc)" check || rc=$?

# Count the individual checks in every test log: cmocka's summaries and our
# shell tests' "N passed, N failed" lines; a program that failed without a
# summary (a crash) counts as one failure.
passed=0 failed=0
for log in $(find tests -name '*.log' ! -name test-suite.log); do
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p; s/^\([0-9]*\) passed, [0-9]* failed$/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p; s/^[0-9]* passed, \([0-9]*\) failed$/\1/p' "$log" | tail -1)
    trs=${log%.log}.trs
    if [ -z "$f" ] || [ "$f" = 0 ]; then
        grep -q '^:test-result: \(FAIL\|ERROR\)' "$trs" 2>/dev/null && f=1
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
[ "$rc" -ne 0 ] && [ -f test-suite.log ] && cat test-suite.log
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
