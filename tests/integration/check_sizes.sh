#!/usr/bin/env bash
# check_sizes.sh — scripts/check-sizes on made-up trees: a function of
# exactly the limit and a file of exactly the limit pass; one line more of
# either fails and is named; a function in a directory it does not watch is
# ignored; a tree with no C files is an error, not a pass. Needs no farm.
# timeout: 60
set -u -o pipefail
. "$(dirname "$0")/../lib/sh.sh"

CS=$T_ROOT/scripts/check-sizes
command -v ctags-universal >/dev/null || command -v ctags >/dev/null || { fail ctags "universal-ctags missing (scripts/install-deps)"; t_done; exit; }
W=$(mktemp -d /tmp/check_sizes.XXXXXX)
trap 'rm -rf "$W"' EXIT

# fn NAME BODYLINES: a C function of BODYLINES + 4 lines
fn() {
	printf 'int %s(int x)\n{\n' "$1"
	for ((i = 0; i < $2; i++)); do printf '\tx += %d;\n' "$i"; done
	printf '\treturn x;\n}\n'
}
mkdir -p "$W/ok/lib" "$W/ok/tests" "$W/long/hub" "$W/big/node" "$W/empty/lib"
fn at_limit 96 > "$W/ok/lib/a.c"		# 100 lines
fn elsewhere 300 > "$W/ok/tests/t.c"		# not watched
fn too_long 97 > "$W/long/hub/b.c"		# 101 lines
{ fn small 2; for ((i = 0; i < 994; i++)); do echo; done; } > "$W/ok/lib/c.h"	# 1000 lines
{ fn small 2; for ((i = 0; i < 995; i++)); do echo; done; } > "$W/big/node/d.h"	# 1001 lines

out=$("$CS" "$W/ok"); rc=$?
[ $rc -eq 0 ] && [ "$out" = "ok sizes" ] && ok at_limit_passes || fail at_limit_passes "rc $rc: $out"
out=$("$CS" "$W/long"); rc=$?
[ $rc -eq 1 ] && grep -q '^FAIL size: hub/b.c:1 too_long 101 lines > 100$' <<<"$out" &&
	ok long_function_fails || fail long_function_fails "rc $rc: $out"
out=$("$CS" "$W/big"); rc=$?
[ $rc -eq 1 ] && grep -q '^FAIL size: node/d.h 1001 lines > 1000$' <<<"$out" &&
	ok big_file_fails || fail big_file_fails "rc $rc: $out"
out=$("$CS" --func 50 --file 2000 "$W/ok"); rc=$?
[ $rc -eq 1 ] && grep -q 'at_limit 100 lines > 50' <<<"$out" && ! grep -q 'c.h' <<<"$out" &&
	ok limits_settable || fail limits_settable "rc $rc: $out"
out=$("$CS" "$W/empty"); rc=$?
[ $rc -eq 2 ] && ok no_files_is_an_error || fail no_files_is_an_error "rc $rc: $out"
t_done
