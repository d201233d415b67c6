#!/usr/bin/env bash
# store_tree.sh — the board's store and job tree with the real gcc in the
# real sandbox (node/store.c, node/tree.c, node/sandbox.c through
# build/tools/treerun; no protocol yet): a manifest from gcc's own deps of
# a file using glibc's headers and gcc's include dir, the store filled, the
# tree as the sandbox's root; the object and dependency file byte-identical
# to a local gcc -c, the read-set check clean; a header left out of the
# manifest fails the compile (the board's own /usr/include is not seen);
# a header the board has but the manifest never had is not found; a file
# read from outside the manifest is named by the read-set check; a
# corrupted blob is found and reported missing. Root.
# timeout: 300
. "$(dirname "$0")/../lib/sh.sh"
. "$T_ROOT/scripts/lib/tree.sh"
TR=$T_BUILD/tools/treerun

if [ "$(id -u)" -ne 0 ]; then
	skip store_tree "needs root (the sandbox's namespaces, slot uids)"
	exit 0
fi
[ -x "$TR" ] || { fail store_tree "$TR not built (make)"; t_done; exit; }
W=$(mktemp -d "/tmp/store_tree.${SIMFARM_TAG:-t2}.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/src" "$W/out" "$W/local"
GCC=$(readlink -f "$(command -v gcc)")
RO=$("$TR" toolchain "$GCC")
FLAGS="-O2 -g -Wall"
S=$W/store

cat >"$W/src/a.c" <<'EOF'
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct s { char c; int64_t v; };
int say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n + (int)offsetof(struct s, v) + (int)strlen(fmt);
}
int main(void) { return say("%d\n", rand()) > 0 ? EXIT_SUCCESS : EXIT_FAILURE; }
EOF

# run NAME [--omit P]... -- ARGS: treerun run in src/ with the manifest
# $LIST; output in $W/run.NAME
LIST=$W/list
run() {
	local name=$1; shift
	local om=()
	while [ "$1" != -- ]; do om+=("$1"); shift; done
	shift
	rm -rf "$W/out" && mkdir "$W/out"
	(cd "$W/src" && "$TR" run "$S" "$LIST" "$W/src" "$RO" "$W/out" "${om[@]}" -- "$@") \
		>"$W/run.$name" 2>&1
}

# 1. the manifest: gcc's own deps of a.c with the job's flags
deps_list "$W/src" "$GCC" $FLAGS a.c >"$W/list"
n=$(wc -l <"$W/list")
if grep -q '^/usr/lib/gcc/.*/include/stddef\.h$' "$W/list" && grep -q '^/usr/include/stdio\.h$' "$W/list"; then
	ok "store_tree_manifest ($n files: glibc's headers and gcc's own include dir)"
else
	fail store_tree_manifest "$(head -5 "$W/list")"
fi
check store_tree_fill "$TR" fill "$S" "$W/list"

# 2. the real gcc in the sandbox, the tree as its root
(cd "$W/src" && env -i PATH=/usr/bin:/bin "$GCC" $FLAGS -c a.c -o "$W/local/a.o" -MD -MF "$W/local/a.d" -MT a.o)
if run ok -- "$GCC" $FLAGS -c a.c -o '{J}/a.o' -MD -MF '{J}/a.d' -MT a.o; then
	ok store_tree_compile
else
	fail store_tree_compile "$(tail -5 "$W/run.ok")"
fi
if cmp -s "$W/out/a.o" "$W/local/a.o"; then ok store_tree_object_identical
else fail store_tree_object_identical "the tree's object differs from a local gcc -c"; fi
if cmp -s "$W/out/a.d" "$W/local/a.d"; then ok store_tree_deps_identical
else fail store_tree_deps_identical "$(diff "$W/out/a.d" "$W/local/a.d" | head -5)"; fi
if grep -qx 'readset a.d: 0 unsent' "$W/run.ok"; then ok store_tree_readset_clean
else fail store_tree_readset_clean "$(grep -E 'readset|unsent' "$W/run.ok")"; fi
if grep -Eq "^tree files=$(grep -c . "$W/list") linked=$(grep -c . "$W/list") " "$W/run.ok"; then
	ok store_tree_hard_linked
else fail store_tree_hard_linked "$(grep ^tree "$W/run.ok")"; fi

# 3. a header left out of the manifest: the board's own is not seen
run omit --omit /usr/include/stdlib.h -- "$GCC" $FLAGS -c a.c -o '{J}/a.o' -MD -MF '{J}/a.d' -MT a.o
rc=$?
if [ $rc -ne 0 ] && [ -f /usr/include/stdlib.h ] && grep -q 'stdlib.h: No such file' "$W/run.omit"; then
	ok store_tree_omitted_header_fails
else
	fail store_tree_omitted_header_fails "rc $rc: $(tail -3 "$W/run.omit")"
fi

# 4. a header the board has that the manifest never had
printf '#include <regex.h>\nint f(void) { return REG_EXTENDED; }\n' >"$W/src/b.c"
{ cat "$W/list"; echo "$W/src/b.c"; } >"$W/list.b"
"$TR" fill "$S" "$W/list.b" >/dev/null
if [ -f /usr/include/regex.h ]; then
	LIST=$W/list.b run board -- "$GCC" $FLAGS -c b.c -o '{J}/b.o'
	rc=$?
	if [ $rc -ne 0 ] && grep -q 'regex.h: No such file' "$W/run.board"; then
		ok store_tree_board_headers_invisible
	else
		fail store_tree_board_headers_invisible "rc $rc: $(tail -3 "$W/run.board")"
	fi
else
	fail store_tree_board_headers_invisible "/usr/include/regex.h missing on this machine (libc6-dev)"
fi

# 5. a file read from outside the manifest is named by the read-set check
printf 'int v = 1\n#include "/proc/sys/kernel/ostype"\n;\n' >"$W/src/c.c"
{ cat "$W/list"; echo "$W/src/c.c"; } >"$W/list.c"
"$TR" fill "$S" "$W/list.c" >/dev/null
LIST=$W/list.c run proc -- "$GCC" $FLAGS -c c.c -o '{J}/c.o' -MD -MF '{J}/c.d' -MT c.o
rc=$?
if [ $rc -eq 4 ] && grep -qx 'unsent /proc/sys/kernel/ostype' "$W/run.proc"; then
	ok store_tree_readset_names_unsent
else
	fail store_tree_readset_names_unsent "rc $rc: $(tail -3 "$W/run.proc")"
fi

# 6. a corrupted blob: found at first use, deleted, reported missing
h=$(sha256sum /usr/include/stdio.h | cut -d' ' -f1)
blob=$S/objects/${h:0:2}/$h
printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc status=none
run corrupt -- "$GCC" $FLAGS -c a.c -o '{J}/a.o'
rc=$?
if [ $rc -eq 3 ] && grep -qx "missing $h" "$W/run.corrupt" && [ ! -e "$blob" ] &&
	[ "$(grep -c '^missing ' "$W/run.corrupt")" -eq 1 ]; then
	ok store_tree_corrupt_blob_missing
else
	fail store_tree_corrupt_blob_missing "rc $rc: $(head -3 "$W/run.corrupt")"
fi
# the hub resends it: the job compiles again, the same object
"$TR" fill "$S" "$W/list" >/dev/null
if run again -- "$GCC" $FLAGS -c a.c -o '{J}/a.o' -MD -MF '{J}/a.d' -MT a.o &&
	cmp -s "$W/out/a.o" "$W/local/a.o"; then
	ok store_tree_resent_blob_compiles
else
	fail store_tree_resent_blob_compiles "$(tail -3 "$W/run.again")"
fi
t_done
