#!/usr/bin/env bash
# farm_tree.sh — tree jobs (issue 11) end to end on a virtual farm, through
# dcc as a normal user in the usbfarm group (dcc's scan server, hubd's
# NEED/BLOBS and holdings, noded's store): a small code base with -MD -MP
# -g (the same header name in two -I dirs, a symlinked header, a computed
# include) built through the farm, every object and .d file
# byte-identical to a local build and every job a tree job; a second
# (warm) build sends (almost) no blob bytes, nor one after both boards
# restart with their stores kept; a warning's stderr (C and C.UTF-8) and
# an error's output and status as locally, compiled once (a translated
# locale: compiled locally for its messages); a board started --no-store:
# HUB_FALLBACK, the directives-only path, the same object; the scan server
# shared by two dcc processes and started again after being killed.
# Prints BENCH lines: blob bytes per build, scan time per job cold and
# warm, hub CPU (hubd and the scan server) per job.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=ft1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 2
RUN=$FARM_TMP/home/run/usbfarm
scand_pid() { cat "$RUN/scan.pid" 2>/dev/null; }
# the scan server is ours too: ended by its pid with the farm
# (its log joins the farm's, checked for sanitizer reports)
trap 'p=$(scand_pid); [ -n "$p" ] && kill "$p" 2>/dev/null; cp "$RUN/scan.log" "$FARM_TMP/scand.log" 2>/dev/null; farm_cleanup' EXIT
start_hubd --local-slots 0
for i in 1 2; do start_noded "$i" --slots 2 --store "$FARM_TMP/store$i"; done
if wait_for 200 nodes_up 2; then ok farm_tree_up; else fail farm_tree_up "$(status_json)"; exit 1; fi
DCC=$T_BIN/dcc

# ---- the code base
S=$FARM_TMP/src
mkdir -p "$S/inc1" "$S/inc2" "$S/gen"
echo '#define WHERE 1' >"$S/inc1/where.h"
echo '#define WHERE 2' >"$S/inc2/where.h"
echo '#define GEN_VALUE 7' >"$S/gen/real.h"
ln -s ../gen/real.h "$S/inc1/linked.h"
printf '#define STR(x) #x\n#define XSTR(x) STR(x)\n#define GEN(x) XSTR(x.h)\n' >"$S/inc2/macros.h"
for i in $(seq 1 12); do
	cat >"$S/f$i.c" <<C
#include "where.h"
#include "linked.h"
#include <stdio.h>
int f$i(int x) { return x * $i + WHERE + GEN_VALUE; }
void p$i(void) { printf("%d\\n", f$i(3)); }
C
done
cat >"$S/computed.c" <<'C'
#include "macros.h"
#include GEN(real)
int computed(void) { return GEN_VALUE; }
C
FLAGS=(-O2 -g -MD -MP -Iinc1 -Iinc2 -Igen)
SRCS=$(cd "$S" && ls ./*.c | sed 's|^\./||')
NSRC=$(echo "$SRCS" | wc -w)
chown -R "$FARM_USER:" "$S"

# build_farm LOG [ENV...]: every source through dcc as the user into
# $S/out (objects and .d files), in parallel; dcc's trace into LOG.
build_farm() {
	local log=$1; shift
	rm -rf "$S/out"; mkdir -p "$S/out"; chown "$FARM_USER:" "$S/out"
	(cd "$S" && for f in $SRCS; do
		as_user env DCC_VERBOSE=1 "$@" "$DCC" gcc "${FLAGS[@]}" -c "$f" -o "out/${f%.c}.o" \
			2>>"$log" &
	done; wait)
}
same_as_ref() {
	local f bad=0 n=0
	for f in "$FARM_TMP"/ref/*; do
		n=$((n + 1))
		cmp -s "$f" "$S/out/$(basename "$f")" || { bad=$((bad + 1)); echo "# differs: $(basename "$f")"; }
	done
	echo "# $n files compared"
	[ $bad -eq 0 ] && [ "$n" -eq $((2 * NSRC)) ]
}
tree() { status_json | jq -r ".tree.$1"; }
# up_exactly K [STORE]: K nodes up (the old sessions of stopped ones gone);
# with STORE=nostore, none of them with a store
up_exactly() {
	local q='[.nodes[] | select((.state | ascii_downcase) == "up" and (.compilers | length) > 0'
	[ "${2:-}" = nostore ] && q+=' and .store == null'
	[ "$(status_json | jq "$q)] | length")" -eq "$1" ]
}
restart_nodes() {	# restart_nodes OPTIONS...: both boards stopped, then started
	local i
	for i in 1 2; do stop_noded "$i"; done
	wait_for 300 up_exactly 0 || echo "# old sessions still up: $(status_json | jq -c '[.nodes[].state]')"
	for i in 1 2; do start_noded "$i" --slots 2 "$@" --store "$FARM_TMP/store$i"; done
	wait_for 300 up_exactly 2
}
# hub CPU (ticks) of hubd's processes and the scan server
hub_ticks() {
	local p t=0 pids
	pids=$(ps -e -o pid=,ppid=,comm= | awk -v r="$HUBD_PID" '
		{ par[$1] = $2; name[$1] = $3 } END { for (p in par) { q = p
		while (q && q != r) q = par[q]; if (q == r && name[p] ~ /^hubd/) print p } }')
	for p in $pids $(scand_pid); do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo $t
}
scan_us() { grep -o 'scanned in [0-9]* us' "$1" | awk '{s += $3; n++} END {print n ? int(s / n) : 0}'; }

rm -rf "$S/out"; mkdir -p "$S/out"
(cd "$S" && for f in $SRCS; do gcc "${FLAGS[@]}" -c "$f" -o "out/${f%.c}.o" || exit 1; done)
mv "$S/out" "$FARM_TMP/ref"

# ---- cold build: every job a tree job, identical
t0=$(hub_ticks)
build_farm "$FARM_TMP/cold.log"
t1=$(hub_ticks)
same_as_ref && ok farm_tree_cold_identical || fail farm_tree_cold_identical "$(tail -n 3 "$FARM_TMP/cold.log")"
jobs=$(tree jobs); fb=$(tree fallback); text=$(tree text); learned=$(tree learned)
ondone=$(grep -c 'compiled on' "$FARM_TMP/cold.log")
[ "$jobs" -eq "$NSRC" ] && [ "$ondone" -eq "$NSRC" ] && [ "$fb" -eq 0 ] && [ "$text" -eq 0 ] &&
	ok "farm_tree_all_tree_jobs ($jobs; $(tree resends) resent)" ||
	fail farm_tree_all_tree_jobs "jobs $jobs, $ondone done on boards of $NSRC, fallback $fb, text $text: $(grep -m2 'directives-only\|locally' "$FARM_TMP/cold.log")"
[ "$learned" -ge 1 ] && ok "farm_tree_computed_include_learned ($learned)" ||
	fail farm_tree_computed_include_learned "learned $learned"
cold=$(tree blob_bytes); needs=$(tree needs)
[ "$cold" -gt 0 ] && [ "$needs" -ge 1 ] && ok "farm_tree_need_blobs ($needs NEEDs, $cold bytes)" ||
	fail farm_tree_need_blobs "needs $needs bytes $cold"
echo "BENCH farm_tree_blob_bytes_cold $cold bytes"
echo "BENCH farm_tree_scan_us_cold $(scan_us "$FARM_TMP/cold.log") us/job"
echo "BENCH farm_tree_hub_cpu_cold $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) / NSRC )) ms/job"

# ---- warm: the boards hold it all
t0=$(hub_ticks)
build_farm "$FARM_TMP/warm.log"
t1=$(hub_ticks)
warm=$(( $(tree blob_bytes) - cold ))
same_as_ref && ok farm_tree_warm_identical || fail farm_tree_warm_identical "$(tail -n 3 "$FARM_TMP/warm.log")"
[ "$warm" -le $((cold / 20)) ] && ok "farm_tree_warm_no_blobs ($warm bytes)" ||
	fail farm_tree_warm_no_blobs "$warm bytes after $cold cold"
echo "BENCH farm_tree_blob_bytes_warm $warm bytes"
echo "BENCH farm_tree_scan_us_warm $(scan_us "$FARM_TMP/warm.log") us/job"
echo "BENCH farm_tree_hub_cpu_warm $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) / NSRC )) ms/job"

# ---- both boards restarted, stores kept
restart_nodes || fail farm_tree_restart_up "$(status_json | jq -c '[.nodes[].state]')"
b=$(tree blob_bytes); j0=$(tree jobs)
build_farm "$FARM_TMP/restart.log"
after=$(( $(tree blob_bytes) - b ))
ondone=$(grep -c 'compiled on' "$FARM_TMP/restart.log")
same_as_ref && [ $(( $(tree jobs) - j0 )) -eq "$NSRC" ] && [ "$ondone" -eq "$NSRC" ] &&
	[ "$after" -le $((cold / 20)) ] &&
	ok "farm_tree_restart_store_kept ($after bytes)" ||
	fail farm_tree_restart_store_kept "$after bytes, $ondone of $NSRC on boards"

# ---- diagnostics: a warning once, an error as locally
E=$S/diag
mkdir -p "$E"
printf '#include <stdio.h>\nint h(int a) { int unused; if (a = 2) printf("%%s\\n", a); return a; }\n' >"$E/warn.c"
printf 'int f(void) { return undeclared_thing + 1; }\n' >"$E/bad.c"
chown -R "$FARM_USER:" "$E"
# parity NAME FILE LOCALE ONCE: out, err and status as locally; ONCE=1:
# compiled on the board only (ONCE=0: the board's English messages made
# dcc compile locally)
parity() {
	local name=$1 file=$2 loc=$3 once=$4 lrc=0 frc=0 j0 local_again
	(cd "$E" && LC_ALL=$loc gcc -Wall -O2 -c "$file" -o local.o >local.out 2>local.err) || lrc=$?
	j0=$(tree jobs)
	(cd "$E" && as_user env LC_ALL="$loc" DCC_VERBOSE=1 "$DCC" gcc -Wall -O2 -c "$file" \
		-o farm.o >farm.out 2>farm.trace) || frc=$?
	grep -v '^dcc: ' "$E/farm.trace" >"$E/farm.err"
	local_again=$(grep -c 'compiling locally' "$E/farm.trace")
	if [ "$lrc" -ne "$frc" ] || ! cmp -s "$E/local.out" "$E/farm.out" ||
	   ! cmp -s "$E/local.err" "$E/farm.err"; then
		fail "$name" "status $frc/$lrc: $(diff "$E/local.err" "$E/farm.err" | head -n 4 | tr '\n' '|')"
	elif [ $(( $(tree jobs) - j0 )) -ne 1 ] || [ "$local_again" -ne $((1 - once)) ]; then
		fail "$name" "not one tree job (once=$once): $(tr '\n' '|' <"$E/farm.trace")"
	elif [ "$lrc" -eq 0 ] && ! cmp -s "$E/local.o" "$E/farm.o"; then
		fail "$name" "objects differ"
	else
		ok "$name"
	fi
}
parity farm_tree_warning_once warn.c C 1
parity farm_tree_error_as_locally bad.c C 1
parity farm_tree_warning_utf8_once warn.c C.UTF-8 1
# a translated locale (installed or not): the board speaks English, dcc
# compiles such a job locally for its messages
parity farm_tree_warning_translated_locale_local warn.c de_DE.UTF-8 0

# ---- the scan server: killed, started again; two dcc at once, one server
old=$(scand_pid)
kill -9 "$old" 2>/dev/null
(cd "$S" && as_user "$DCC" --scan gcc "${FLAGS[@]}" -c f1.c >/dev/null 2>&1 &
 as_user "$DCC" --scan gcc "${FLAGS[@]}" -c f2.c >/dev/null 2>&1 & wait)
new=$(scand_pid)
servers=$(grep -c 'serving' "$RUN/scan.log")
st=$(cd "$S" && as_user "$DCC" --scan --stats | grep '^server')
[ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new" && [ "$servers" -eq 2 ] &&
	echo "$st" | grep -q "clients [3-9]" &&
	ok "farm_tree_scand_restarted_shared (pid $old -> $new)" ||
	fail farm_tree_scand_restarted_shared "old $old new $new, $servers started: $st"

# ---- a board without a store: HUB_FALLBACK, the directives-only way
for i in 1 2; do stop_noded "$i"; done
wait_for 300 up_exactly 0
start_noded 1 --slots 2 --no-store
wait_for 300 up_exactly 1 nostore || fail farm_tree_nostore_up "$(status_json | jq -c '.nodes')"
fb=$(tree fallback)
(cd "$S" && as_user env DCC_VERBOSE=1 "$DCC" gcc "${FLAGS[@]}" -c f1.c -o out/f1.o \
	2>"$FARM_TMP/nostore.log")
[ $(( $(tree fallback) - fb )) -eq 1 ] && cmp -s "$FARM_TMP/ref/f1.o" "$S/out/f1.o" &&
	grep -q 'directives-only path: hubd: no board' "$FARM_TMP/nostore.log" &&
	grep -q 'compiled on' "$FARM_TMP/nostore.log" &&
	ok farm_tree_fallback_no_store ||
	fail farm_tree_fallback_no_store "$(tr '\n' '|' <"$FARM_TMP/nostore.log")"
as_user "$T_BIN/hubctl" status | grep -E '^tree jobs|^text jobs|store' | sed 's/^/# /'
t_done
