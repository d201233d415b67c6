# sh.sh — the shell-test convention (see tests/lib/test.h): one line per case,
# `ok NAME`, `FAIL NAME: why`, `skip NAME: why`; t_done exits non-zero if any failed.
T_FAILED=0
ok()   { echo "ok $1"; }
fail() { echo "FAIL $1: ${2:-}"; T_FAILED=$((T_FAILED + 1)); }
skip() { echo "skip $1: $2"; }
# check NAME CMD...: runs CMD, ok if it exits 0.
check() { local n=$1; shift; if "$@"; then ok "$n"; else fail "$n" "command failed: $*"; fi; }
t_done() { [ "$T_FAILED" -eq 0 ]; }
# Root of the repository and the build directory the tests run against.
T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_BUILD=${BUILD:-$T_ROOT/build}
T_BIN=$T_BUILD/bin
