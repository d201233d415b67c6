#!/usr/bin/env bash
# node_tree.sh — tree jobs (issue 11) on a real noded of a one-node virtual
# farm, driven by treesend (the hub's side: a manifest of real files, their
# blobs, the RESULT checked): objects (-g, -gsplit-dwarf .dwo, -MD/-MMD
# dependency files) byte-identical to a local compile; a warning's stderr
# byte-identical (caret lines); a genuine error with the local status and
# stderr, and -ENOEXEC when the job was not complete; missing blobs
# answered with the full list, then success after the resend; a corrupted
# blob in the store detected (counted) and reported missing; the store
# kept across a noded restart (same id, no resend); a name the compile
# read that was not sent -> -EXDEV; hostile manifests and blobs refused
# without harm. Also measures (BENCH lines): the node's time to store the
# blobs and build the tree (median), and a compile's wall in tree mode
# against text mode (directives-only input, jobsend) for the same file.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=ntr1-
source "$T_ROOT/tests/lib/farm.sh"
. "$T_ROOT/scripts/lib/tree.sh"
set -u

farm_init 1
TS=$T_BUILD/tools/treesend
JS=$T_BUILD/tools/jobsend
for t in "$TS" "$JS"; do [ -x "$t" ] || { fail node_tree "$t not built"; exit 1; }; done
STORE=$FARM_TMP/store
LOG=$FARM_TMP/noded1.log
start_noded 1 --slots 2 --store "$STORE"
IF=$("$SF" ifname --prefix "$FARM_PREFIX" hub 1)
wait_for 150 grep -q "serving on" "$LOG" || { fail noded "did not start: $(tail -3 "$LOG")"; exit 1; }
if ! grep -q "tree jobs: store" "$LOG"; then
	fail node_tree_store "$(grep -E 'tree jobs|store' "$LOG" | head -3)"
	exit 1
fi
ROOT=$(sed -n 's/.*jobs under \([^;]*\);.*/\1/p' "$LOG" | tail -1)
GCC=$(readlink -f "$(command -v gcc)")

# the project: a source, a header through -I, glibc's headers
W=$FARM_TMP/proj
mkdir -p "$W/src" "$W/include" "$W/obj" "$W/local/obj"
cat >"$W/include/a.h" <<'EOF'
#define A_VALUE 42
static inline int twice(int x) { return 2 * x; }
EOF
cat >"$W/src/a.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "a.h"
int main(int argc, char **argv)
{
	(void)argv;
	printf("%d %zu\n", twice(A_VALUE) + argc, strlen(__FILE__));
	return 0;
}
EOF
printf 'int warn(int x)\n{\n\tint unused;\n\treturn x;\n}\n' >"$W/src/w.c"
printf 'int bad(int x)\n{\n\treturn x +;\n}\n' >"$W/src/e.c"
printf 'int v = 1\n#include "/proc/sys/kernel/ostype"\n;\n' >"$W/src/p.c"

# list NAME SRC ARGS...: the manifest of SRC (gcc -M in $W), in $W/NAME.list
list() {
	local n=$1 src=$2; shift 2
	deps_list "$W" "$GCC" "$@" "$src" >"$W/$n.list"
}
# tsend NAME [treesend options]: one tree job (cwd $W), answer in $W/NAME.res
tsend() {
	local n=$1; shift
	"$SF" exec --prefix "$FARM_PREFIX" hub "$TS" --iface "$IF" --wait-s 120 --cwd "$W" \
		"$@" >"$W/$n.res" 2>&1
}
field() { sed -n "s/^$2 //p" "$W/$1.res" | head -1; }
last() { sed -n "s/^$2 //p" "$W/$1.res" | tail -1; }
# local_cc DIR ARGS...: the local compile, in $W, its stderr in $W/local.err
local_cc() { (cd "$W" && env -i PATH=/usr/bin:/bin "$GCC" "$@") 2>"$W/local.err"; }
targs() { local a; for a in "$@"; do printf -- '--arg\n%s\n' "$a"; done; }

# 1. -g and a -MD dependency file: byte-identical
ARGS=(-x c -O2 -g -Wall -Iinclude -c)
list a src/a.c "${ARGS[@]}"
local_cc "${ARGS[@]}" -MD -MF local/obj/a.d src/a.c -o local/obj/a.o
sed -i 's#^local/obj/a.o:#obj/a.o:#' "$W/local/obj/a.d"
mapfile -t TA < <(targs "${ARGS[@]}" -MD -MF obj/a.d)
tsend a --list "$W/a.list" --input-name src/a.c --output-name obj/a.o --deps obj/a.d \
	"${TA[@]}" --obj-out "$W/obj/a.o" --dep-out "$W/obj/a.d"
if [ "$(field a farm_error)" = 0 ] && [ "$(field a status)" = 0 ] &&
	cmp -s "$W/obj/a.o" "$W/local/obj/a.o"; then
	ok node_tree_object_identical
else
	fail node_tree_object_identical "$(tr '\n' '|' <"$W/a.res" | cut -c1-400)"
fi
if cmp -s "$W/obj/a.d" "$W/local/obj/a.d"; then ok node_tree_deps_identical
else fail node_tree_deps_identical "$(diff "$W/obj/a.d" "$W/local/obj/a.d" | head -4)"; fi
ID1=$(field a store_id)
[ -n "$ID1" ] && [ "$ID1" != 0000000000000000 ] && ok "node_tree_store_id ($ID1)" ||
	fail node_tree_store_id "'$ID1'"

# 2. -gsplit-dwarf: the object and the .dwo; -MMD. (gcc 12's DWO ID is not
# reproducible between two local compiles with recorded switches, nor at
# -O1 for this source: -O0 -gno-record-gcc-switches, as in dcc_local.sh.)
ARGS2=(-x c -O0 -g -gno-record-gcc-switches -gsplit-dwarf -Iinclude -c)
local_cc "${ARGS2[@]}" -MMD -MF local/obj/s.d src/a.c -o obj/s.o
mv "$W/obj/s.o" "$W/local/obj/s.o" && mv "$W/obj/s.dwo" "$W/local/obj/s.dwo"
mapfile -t TA < <(targs "${ARGS2[@]}" -MMD -MF obj/s.d)
tsend s --list "$W/a.list" --input-name src/a.c --output-name obj/s.o --dwo --deps obj/s.d \
	"${TA[@]}" --obj-out "$W/obj/s.o" --dwo-out "$W/obj/s.dwo" --dep-out "$W/obj/s.d"
if [ "$(field s farm_error)" = 0 ] && cmp -s "$W/obj/s.o" "$W/local/obj/s.o" &&
	cmp -s "$W/obj/s.dwo" "$W/local/obj/s.dwo" && cmp -s "$W/obj/s.d" "$W/local/obj/s.d"; then
	ok node_tree_split_dwarf_identical
else
	fail node_tree_split_dwarf_identical "$(tr '\n' '|' <"$W/s.res" | cut -c1-300)"
fi

# 3. a warning: stderr byte-identical (caret lines), the object too
list w src/w.c "${ARGS[@]}"
local_cc "${ARGS[@]}" src/w.c -o local/obj/w.o
cp "$W/local.err" "$W/local.w.err"
mapfile -t TA < <(targs "${ARGS[@]}")
tsend w --list "$W/w.list" --input-name src/w.c --output-name obj/w.o "${TA[@]}" \
	--obj-out "$W/obj/w.o" --err-out "$W/obj/w.err"
if [ "$(field w farm_error)" = 0 ] && grep -q 'unused' "$W/local.w.err" &&
	cmp -s "$W/obj/w.err" "$W/local.w.err" && cmp -s "$W/obj/w.o" "$W/local/obj/w.o"; then
	ok node_tree_warning_stderr_identical
else
	fail node_tree_warning_stderr_identical "$(diff "$W/obj/w.err" "$W/local.w.err" | head -4)"
fi

# the same with the user's diagnostics in UTF-8 (gcc's ‘quotes’)
(cd "$W" && env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 "$GCC" "${ARGS[@]}" src/w.c -o local/obj/w8.o) \
	2>"$W/local.w8.err"
tsend w8 --list "$W/w.list" --input-name src/w.c --output-name obj/w.o "${TA[@]}" --utf8 \
	--err-out "$W/obj/w8.err"
if [ "$(field w8 farm_error)" = 0 ] && grep -q '‘unused’' "$W/local.w8.err" &&
	cmp -s "$W/obj/w8.err" "$W/local.w8.err"; then
	ok node_tree_warning_stderr_identical_utf8
else
	fail node_tree_warning_stderr_identical_utf8 "$(diff "$W/obj/w8.err" "$W/local.w8.err" | head -4)"
fi

# clang compiles in-process: its own headers, its GCC installation found
CLANG=$(command -v clang || true)
if [ -n "$CLANG" ]; then
	CARGS=(-x c -O2 -g -Wall -Iinclude -c)
	deps_list "$W" "$CLANG" "${CARGS[@]}" src/w.c >"$W/cl.list"
	(cd "$W" && env -i PATH=/usr/bin:/bin "$CLANG" "${CARGS[@]}" src/w.c -o local/obj/cl.o) \
		2>"$W/local.cl.err"
	mapfile -t CA < <(targs "${CARGS[@]}")
	tsend cl --kind clang --list "$W/cl.list" --input-name src/w.c --output-name obj/cl.o \
		"${CA[@]}" --obj-out "$W/obj/cl.o" --err-out "$W/obj/cl.err"
	if [ "$(field cl farm_error)" = 0 ] && cmp -s "$W/obj/cl.o" "$W/local/obj/cl.o" &&
		cmp -s "$W/obj/cl.err" "$W/local.cl.err" && grep -q unused "$W/local.cl.err"; then
		ok node_tree_clang_identical
	else
		fail node_tree_clang_identical "$(tr '\n' '|' <"$W/cl.res" | cut -c1-300)"
	fi
else
	skip node_tree_clang_identical "no clang"
fi

# g++ (cc1plus) with libstdc++'s headers
GXX=$(readlink -f "$(command -v g++)")
printf '#include <vector>\n#include <string>\nint n(void) { std::vector<std::string> v{"a", "b"}; return (int)v.size(); }\n' \
	>"$W/src/v.cc"
XARGS=(-x c++ -O2 -g -c)
deps_list "$W" "$GXX" "${XARGS[@]}" src/v.cc >"$W/v.list"
(cd "$W" && env -i PATH=/usr/bin:/bin "$GXX" "${XARGS[@]}" src/v.cc -o local/obj/v.o)
mapfile -t XA < <(targs "${XARGS[@]}")
tsend v --kind g++ --list "$W/v.list" --input-name src/v.cc --output-name obj/v.o "${XA[@]}" \
	--obj-out "$W/obj/v.o"
if [ "$(field v farm_error)" = 0 ] && cmp -s "$W/obj/v.o" "$W/local/obj/v.o"; then
	ok "node_tree_cxx_identical ($(grep -c . "$W/v.list") files)"
else
	fail node_tree_cxx_identical "$(tr '\n' '|' <"$W/v.res" | cut -c1-300)"
fi

# 4. a genuine error: the local status and stderr, once; not complete: -ENOEXEC
list e src/e.c "${ARGS[@]}" 2>/dev/null || true
[ -s "$W/e.list" ] || echo "$W/src/e.c" >"$W/e.list"
local_cc "${ARGS[@]}" src/e.c -o local/obj/e.o
lst=$?
cp "$W/local.err" "$W/local.e.err"
tsend e --list "$W/e.list" --input-name src/e.c --output-name obj/e.o "${TA[@]}" \
	--err-out "$W/obj/e.err"
if [ "$lst" -ne 0 ] && [ "$(field e farm_error)" = 0 ] && [ "$(field e status)" = "$lst" ] &&
	cmp -s "$W/obj/e.err" "$W/local.e.err"; then
	ok "node_tree_error_reported (status $lst)"
else
	fail node_tree_error_reported "local $lst: $(tr '\n' '|' <"$W/e.res" | cut -c1-300)"
fi
tsend ei --list "$W/e.list" --input-name src/e.c --output-name obj/e.o "${TA[@]}" --incomplete \
	--err-out "$W/obj/ei.err"
if [ "$(field ei farm_error)" = -8 ] && cmp -s "$W/obj/ei.err" "$W/local.e.err"; then
	ok node_tree_incomplete_error_enoexec
else
	fail node_tree_incomplete_error_enoexec "$(tr '\n' '|' <"$W/ei.res" | cut -c1-300)"
fi

# 5. missing blobs: the full list (each once), then success after the resend
printf '#define B_VALUE %d\n' "$RANDOM$RANDOM" >"$W/include/b.h"
printf '#include "a.h"\n#include "b.h"\nint b(void) { return B_VALUE + A_VALUE; }\n' >"$W/src/b.c"
list b src/b.c "${ARGS[@]}"
local_cc "${ARGS[@]}" src/b.c -o local/obj/b.o
want=$(sha256sum "$W/src/b.c" "$W/include/b.h" | cut -d' ' -f1 | sort | tr '\n' ' ')
tsend b --list "$W/b.list" --input-name src/b.c --output-name obj/b.o "${TA[@]}" --blobs none \
	--resend --obj-out "$W/obj/b.o"
got=$(sed -n 's/^missing //p' "$W/b.res" | sort | tr '\n' ' ')
if [ "$(field b farm_error)" = -2 ] && [ "$got" = "$want" ]; then
	ok "node_tree_missing_listed (2 of $(grep -c . "$W/b.list"))"
else
	fail node_tree_missing_listed "want '$want' got '$got': $(head -3 "$W/b.res" | tr '\n' '|')"
fi
if [ "$(last b farm_error)" = 0 ] && [ "$(grep -c '^result ' "$W/b.res")" = 2 ] &&
	cmp -s "$W/obj/b.o" "$W/local/obj/b.o"; then
	ok node_tree_resend_compiles
else
	fail node_tree_resend_compiles "$(tail -12 "$W/b.res" | tr '\n' '|')"
fi

# 6. a blob corrupted in the store: detected, counted, reported missing
h=$(sha256sum "$W/include/a.h" | cut -d' ' -f1)
blob=$STORE/objects/${h:0:2}/$h
if [ -f "$blob" ]; then
	printf 'X' | dd of="$blob" bs=1 seek=3 conv=notrunc status=none
	tsend c --list "$W/a.list" --input-name src/a.c --output-name obj/a.o "${TA[@]}" \
		--blobs none --resend --telemetry --obj-out "$W/obj/c.o"
	if [ "$(field c farm_error)" = -2 ] && [ "$(sed -n 's/^missing //p' "$W/c.res")" = "$h" ] &&
		[ "$(field c store_corrupt)" -ge 1 ] 2>/dev/null; then
		ok "node_tree_corrupt_blob_detected (corrupt $(field c store_corrupt))"
	else
		fail node_tree_corrupt_blob_detected "$(tr '\n' '|' <"$W/c.res" | cut -c1-400)"
	fi
	if [ "$(last c farm_error)" = 0 ] && cmp -s "$W/obj/c.o" "$W/local/obj/a.o"; then
		ok node_tree_corrupt_blob_resent
	else
		fail node_tree_corrupt_blob_resent "$(tail -12 "$W/c.res" | tr '\n' '|')"
	fi
else
	fail node_tree_corrupt_blob_detected "no blob $blob in the store"
fi

# 7. an unsent name the compile read (the node's own -MD): -EXDEV
list p src/p.c "${ARGS[@]}"
grep -v '^/proc/' "$W/p.list" >"$W/p2.list"
tsend p --list "$W/p2.list" --input-name src/p.c --output-name obj/p.o "${TA[@]}"
if [ "$(field p farm_error)" = -18 ] && grep -qx 'unsent /proc/sys/kernel/ostype' "$W/p.res"; then
	ok node_tree_unsent_exdev
else
	fail node_tree_unsent_exdev "$(tr '\n' '|' <"$W/p.res" | cut -c1-300)"
fi

# 8. hostile manifests and blobs: refused, nothing outside touched
refused() {
	local n=$1 want=$2; shift 2
	tsend "$n" --list "$W/a.list" --input-name src/a.c --output-name obj/h.o "${TA[@]}" "$@"
	if [ "$(field "$n" farm_error)" = "$want" ] && [ "$(field "$n" obj_len)" = 0 ]; then
		ok "node_tree_hostile_$n ($(field "$n" error | cut -c1-70))"
	else
		fail "node_tree_hostile_$n" "$(tr '\n' '|' <"$W/$n.res" | cut -c1-300)"
	fi
}
refused dotdot -22 --raw "file:$W/include/../../../../etc/x.h"
refused through_link -22 --raw "link:$W/include/evil:/etc" --raw "file:$W/include/evil/passwd"
refused at_mount -1 --raw "file:/etc/ld.so.cache"
refused bad_blob -74 --bad-blob "$W/include/a.h" --omit /nonexistent
refused deps_etc -1 --deps /etc/evil.d
refused out_is_input -1 --output-name src/a.c
refused long_component -22 --raw "dir:$W/$(printf 'c%.0s' $(seq 300))"
refused over_input_cap -71 --bad-count
bh=$(sha256sum "$W/include/a.h" | cut -d' ' -f1)
if [ -f "$STORE/objects/${bh:0:2}/$bh" ] && [ "$(sha256sum <"$STORE/objects/${bh:0:2}/$bh" |
	cut -d' ' -f1)" = "$bh" ]; then
	ok node_tree_bad_blob_not_stored
else
	fail node_tree_bad_blob_not_stored "the store's a.h blob is not a.h"
fi
tsend after --list "$W/a.list" --input-name src/a.c --output-name obj/a.o "${TA[@]}" \
	--obj-out "$W/obj/after.o"
if [ "$(field after farm_error)" = 0 ] && cmp -s "$W/obj/after.o" "$W/local/obj/a.o" &&
	[ -z "$(find "$ROOT" -mindepth 2 2>/dev/null | head -1)" ]; then
	ok node_tree_serving_after_hostile
else
	fail node_tree_serving_after_hostile "$(find "$ROOT" -mindepth 2 | head -3) $(head -4 "$W/after.res")"
fi

# a tree job cancelled while it compiles (or just done: either answer is
# fine): nothing of it is left, the slot serves again
mapfile -t TT < <(targs -x c -std=c11 -O2 -g -D_GNU_SOURCE -c)
(cd "$T_ROOT" && "$GCC" -x c -std=c11 -O2 -D_GNU_SOURCE -M node/tree.c) |
	sed 's/^[^:]*://; s/\\$//' | tr ' ' '\n' | grep . |
	while read -r p; do case $p in /*) echo "$p" ;; *) echo "$T_ROOT/$p" ;; esac; done |
	xargs -r realpath -s -m -- >"$W/k.list"
"$SF" exec --prefix "$FARM_PREFIX" hub "$TS" --iface "$IF" --wait-s 120 --cwd "$T_ROOT" \
	--list "$W/k.list" --input-name node/tree.c --output-name build/k/tree.o "${TT[@]}" \
	--cancel-after-ms 400 >"$W/k.res" 2>&1
kf=$(field k farm_error)
wait_for 100 sh -c "[ -z \"\$(find '$ROOT' -mindepth 2 2>/dev/null | head -1)\" ]"
left=$(find "$ROOT" -mindepth 2 2>/dev/null | head -3)
if { [ "$kf" = -125 ] || [ "$kf" = 0 ]; } && [ -z "$left" ]; then
	ok "node_tree_cancelled_cleaned (farm_error $kf)"
else
	fail node_tree_cancelled_cleaned "farm_error '$kf', left: $left"
fi

# 9. the store across a restart: the same id, no blob resent
stop_noded 1
: >"$LOG.old" && cat "$LOG" >>"$LOG.old" && : >"$LOG"
start_noded 1 --slots 2 --store "$STORE"
wait_for 150 grep -q "serving on" "$LOG"
tsend r --list "$W/a.list" --input-name src/a.c --output-name obj/a.o "${TA[@]}" --blobs none \
	--obj-out "$W/obj/r.o"
if [ "$(field r store_id)" = "$ID1" ] && [ "$(field r farm_error)" = 0 ] &&
	[ "$(grep -c '^result ' "$W/r.res")" = 1 ] && cmp -s "$W/obj/r.o" "$W/local/obj/a.o"; then
	ok node_tree_store_kept_across_restart
else
	fail node_tree_store_kept_across_restart "id $ID1: $(tr '\n' '|' <"$W/r.res" | cut -c1-300)"
fi

# 10. measures: tree jobs (blobs carried: stored on receipt) vs text jobs
# (the hub's directives-only text, the node's args as hub/args.c makes
# them), for a.c and for this project's node/tree.c
med() { sort -n | awk '{v[NR]=$1} END {print NR ? v[int((NR+1)/2)] : 0}'; }
N=5
# measure NAME CWD SRC OUT ARGS...: BENCH lines; the tree-mode object
# compared with a local compile
measure() {
	local n=$1 cwd=$2 src=$3 out=$4; shift 4
	local ta=() xa=() i
	mapfile -t ta < <(targs "$@")
	# the text job's: no preprocessor option (the hub ran them)
	mapfile -t xa < <(for i in "$@"; do case $i in -I*|-D*|-U*) ;; *) targs "$i" ;; esac; done)
	(cd "$cwd" && "$GCC" "$@" -M "$src") | sed 's/^[^:]*://; s/\\$//' | tr ' ' '\n' | grep . |
		while read -r p; do case $p in /*) echo "$p" ;; *) echo "$cwd/$p" ;; esac; done |
		xargs -r realpath -s -m -- >"$W/$n.list"
	(cd "$cwd" && env -i PATH=/usr/bin:/bin "$GCC" "$@" "$src" -o "$W/$n.local.o")
	(cd "$cwd" && "$GCC" "$@" -E -fdirectives-only "$src") >"$W/$n.dir.c"
	: >"$LOG"
	# interleaved, so the machine's load weighs on both modes alike
	for i in $(seq $N); do
		"$SF" exec --prefix "$FARM_PREFIX" hub "$TS" --iface "$IF" --wait-s 300 --cwd "$cwd" \
			--list "$W/$n.list" --input-name "$src" --output-name "$out" "${ta[@]}" \
			--obj-out "$W/$n.tree.o" >"$W/$n.tree.$i.res" 2>&1
		"$SF" exec --prefix "$FARM_PREFIX" hub "$JS" --iface "$IF" --wait-s 120 \
			--input "$W/$n.dir.c" --input-name "$src" --output-name "$out" --cwd "$cwd" \
			"${xa[@]}" >"$W/$n.text.$i.res" 2>&1
	done
	cat "$W/$n".tree.*.res >"$W/$n.res"
	local tw xw tc xc xf st tb
	tw=$(sed -n 's/^wall_us //p' "$W/$n.res" | med)
	xw=$(cat "$W/$n".text.*.res | sed -n 's/^wall_us //p' | med)
	tc=$(sed -n 's/^cpu_us //p' "$W/$n.res" | med)
	xc=$(cat "$W/$n".text.*.res | sed -n 's/^cpu_us //p' | med)
	xf=$(cat "$W/$n".text.*.res | sed -n 's/^farm_error //p' | sort -u | tr '\n' ' ')
	st=$(sed -n 's/.*blob(s) stored in \([0-9]*\) us/\1/p' "$LOG" | med)
	tb=$(sed -n 's/.*tree built in \([0-9]*\) us/\1/p' "$LOG" | med)
	echo "BENCH node_tree_${n}_files $(grep -c . "$W/$n.list") files, $(cat $(grep -v '^$' "$W/$n.list") 2>/dev/null | wc -c) bytes"
	echo "BENCH node_tree_${n}_store_blobs_us $st us (median of $N)"
	echo "BENCH node_tree_${n}_build_us $tb us (median of $N)"
	echo "BENCH node_tree_${n}_compile_wall_us $tw us (tree mode, median of $N)"
	echo "BENCH node_text_${n}_compile_wall_us $xw us (text mode, median of $N; farm_error $xf)"
	echo "BENCH node_tree_${n}_compile_cpu_us $tc us (tree mode, median of $N)"
	echo "BENCH node_text_${n}_compile_cpu_us $xc us (text mode, median of $N)"
	if [ "$(sed -n 's/^farm_error //p' "$W/$n.res" | sort -u)" = 0 ] && [ "${tb:-0}" -gt 0 ] &&
		cmp -s "$W/$n.tree.o" "$W/$n.local.o"; then
		ok "node_tree_measured_$n"
	else
		fail "node_tree_measured_$n" "$(grep -E 'farm_error|error' "$W/$n.res" | sort | uniq -c | head -3)"
	fi
}
measure a "$W" src/a.c obj/a.o -x c -O2 -g -Wall -Iinclude -c
measure tree "$T_ROOT" node/tree.c build/node_tree/tree.o -x c -std=c11 -O2 -g -Wall -Wextra \
	-D_GNU_SOURCE -c
t_done
