#!/usr/bin/env bash
# tree_travel.sh — compilers travel (issue 11 item 7) on a virtual farm:
# two boards of the hub's architecture that offer only clang (noded
# --compilers), while dcc builds 30 C files with gcc and one C++ file with
# g++: every job runs on a board with hubd's own toolchain in its tree,
# every object byte-identical to the local compile; the second build
# sends no toolchain bytes; a board whose store lost a pack blob (cc1) gets
# it again. Then, the hub played by treesend on one board's link: the
# pack runs and its object is the local one; a job naming another
# identity, and a pack whose assembler is another's (aarch64's bytes under
# x86_64-linux-gnu-as), are refused with the reason and counted; hostile
# toolchain entries (the driver a link to a board program, to
# /proc/self/exe, out of the tree, a file not executable) run nothing. Prints BENCH lines: the pack
# (files, bytes, LZO bytes), the first job's extra wall time, jobs.
# timeout: 900
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=tt1-
source "$T_ROOT/tests/lib/farm.sh"
. "$T_ROOT/scripts/lib/tree.sh"
set -u

for c in /usr/bin/gcc /usr/bin/g++ /usr/bin/clang; do
	[ -x "$c" ] || { skip tree_travel "$c missing"; exit 0; }
done
TS=$T_BUILD/tools/treesend
[ -x "$TS" ] || { fail tree_travel "$TS not built"; exit 1; }
farm_init 2
RUN=$FARM_TMP/home/run/usbfarm
scand_pid() { cat "$RUN/scan.pid" 2>/dev/null; }
trap 'p=$(scand_pid); [ -n "$p" ] && kill "$p" 2>/dev/null; cp "$RUN/scan.log" "$FARM_TMP/scand.log" 2>/dev/null; farm_cleanup' EXIT
start_hubd --local-slots 0
for i in 1 2; do
	start_noded "$i" --slots 2 --store "$FARM_TMP/store$i" --compilers /usr/bin/clang
done
if wait_for 200 nodes_up 2; then ok tree_travel_up; else fail tree_travel_up "$(status_json)"; exit 1; fi
offered=$(status_json | jq -r '[.nodes[].compilers[] | split(" ")[0]] | unique | join(",")')
[ "$offered" = clang ] && ok "tree_travel_boards_offer_only_clang" ||
	fail tree_travel_boards_offer_only_clang "$offered"
DCC=$T_BIN/dcc

# ---- the code base: 30 C files, one C++ file
S=$FARM_TMP/src
mkdir -p "$S/inc"
printf '#define SCALE 3\nstruct pt { int x, y; };\n' >"$S/inc/common.h"
for i in $(seq 1 30); do
	cat >"$S/c$i.c" <<C
#include <stdio.h>
#include <string.h>
#include "common.h"
static struct pt p$i = { $i, $i * SCALE };
int f$i(const char *s) { return (int)strlen(s) * p$i.x + p$i.y; }
void g$i(void) { printf("%d\\n", f$i(__FILE__)); }
C
done
cat >"$S/k.cc" <<'C'
#include <string>
#include <vector>
#include "common.h"
int k(const std::string &s) { std::vector<int> v(s.begin(), s.end()); return (int)v.size() * SCALE; }
C
FLAGS=(-O2 -g -Iinc)
CSRCS=$(cd "$S" && ls c*.c)
NSRC=31
chown -R "$FARM_USER:" "$S"
mkdir -p "$FARM_TMP/ref"
(cd "$S" && for f in $CSRCS; do gcc "${FLAGS[@]}" -c "$f" -o "$FARM_TMP/ref/${f%.c}.o" || exit 1; done
 g++ "${FLAGS[@]}" -c k.cc -o "$FARM_TMP/ref/k.o") || { fail tree_travel_local "local build"; exit 1; }

tree() { status_json | jq -r ".tree.$1"; }
# one SRC LOG: SRC through dcc as the user into out/, its trace into LOG
one() {
	local f=$1 cc=gcc
	case $f in *.cc) cc=g++ ;; esac
	# -MD: the board packs the .d against the job's own inputs (not the
	# toolchain's), or hubd refuses its result and the job is compiled here
	(cd "$S" && as_user env DCC_VERBOSE=1 "$DCC" $cc "${FLAGS[@]}" -MD -c "$f" -o "out/${f%.*}.o" \
		2>>"$2")
}
# build LOG [SRCS]: every source (or those), in parallel
build() {
	rm -rf "$S/out"; mkdir -p "$S/out"; chown "$FARM_USER:" "$S/out"
	local f
	# in a subshell: its wait is for these, not for the farm's daemons
	(for f in ${2:-$CSRCS k.cc}; do one "$f" "$1" & done; wait)
}
same_as_ref() {
	local f bad=0 n=0
	for f in "$FARM_TMP"/ref/*.o; do
		n=$((n + 1))
		cmp -s "$f" "$S/out/$(basename "$f")" || { bad=$((bad + 1)); echo "# differs: $(basename "$f")"; }
	done
	[ $bad -eq 0 ] && [ "$n" -eq "$NSRC" ]
}
travelled() { grep -c "the hub's .* travels" "$FARM_TMP/hubd.log"; }
ms() { date +%s%3N; }

# ---- the first job: hubd starts packing gcc in a thread and the job,
# which no board can take yet, is compiled locally; the next ones alone
# until one travels (sent, checked), one on the other board, one warm
rm -rf "$S/out"; mkdir -p "$S/out"; chown "$FARM_USER:" "$S/out"
one c1.c "$FARM_TMP/first.log"
cmp -s "$S/out/c1.o" "$FARM_TMP/ref/c1.o" && ! grep -q 'compiled on' "$FARM_TMP/first.log" &&
	ok tree_travel_first_job_local_while_packing ||
	fail tree_travel_first_job_local_while_packing "$(tail -n 2 "$FARM_TMP/first.log")"
b0=$(tree blob_bytes)
for try in $(seq 1 60); do
	: >"$FARM_TMP/try.log"
	t0=$(ms); one c1.c "$FARM_TMP/try.log"; t1=$(ms)
	grep -q 'compiled on' "$FARM_TMP/try.log" && break
done
cat "$FARM_TMP/try.log" >>"$FARM_TMP/first.log"
b1=$(tree blob_bytes)
one c2.c "$FARM_TMP/first.log"; t2=$(ms)
one c3.c "$FARM_TMP/first.log"; t3=$(ms)
on=$(grep -c 'compiled on' "$FARM_TMP/first.log")
if [ "$on" -eq 3 ] && cmp -s "$S/out/c1.o" "$FARM_TMP/ref/c1.o" && [ $((b1 - b0)) -gt $((20 << 20)) ]; then
	ok "tree_travel_first_job ($((try - 1)) local while packing; $((b1 - b0)) bytes; $((t1 - t0)), $((t2 - t1)), then $((t3 - t2)) ms)"
else
	fail tree_travel_first_job "$on on boards after $try tries, $((b1 - b0)) bytes: $(tail -n 3 "$FARM_TMP/first.log"; grep -i toolchain "$FARM_TMP/hubd.log" | tail -3)"
fi
pack=$(grep -m1 'toolchain of /usr/bin/gcc' "$FARM_TMP/hubd.log")
echo "# $pack"
echo "BENCH tree_travel_pack_gcc $(echo "$pack" | sed -n 's/.*: \([0-9]*\) files, \([0-9]*\) bytes (\([0-9]*\) LZO).*/\1 files \2 bytes \3 lzo_bytes/p')"
echo "BENCH tree_travel_first_job_ms $((t1 - t0)) (the pack sent, checked)"
echo "BENCH tree_travel_second_board_first_job_ms $((t2 - t1)) (sent, checked)"
echo "BENCH tree_travel_warm_job_ms $((t3 - t2))"

# g++'s pack, the same way: its first job local while it is packed
: >"$FARM_TMP/gxx.log"
for try in $(seq 1 60); do
	one k.cc "$FARM_TMP/gxx.log"
	grep -q 'compiled on' "$FARM_TMP/gxx.log" && break
done
cmp -s "$S/out/k.o" "$FARM_TMP/ref/k.o" && grep -q 'compiled on' "$FARM_TMP/gxx.log" &&
	ok "tree_travel_gxx_travels (after $((try - 1)) local)" ||
	fail tree_travel_gxx_travels "$(tail -n 2 "$FARM_TMP/gxx.log")"

# ---- the cold build: every job on a board, identical
j0=$(tree jobs)
build "$FARM_TMP/cold.log"
on=$(grep -c 'compiled on' "$FARM_TMP/cold.log")
jobs=$(( $(tree jobs) - j0 ))
same_as_ref && ok tree_travel_cold_identical || fail tree_travel_cold_identical "$(grep -v '^dcc: ' "$FARM_TMP/cold.log" | tail -n 3)"
[ "$on" -eq "$NSRC" ] && [ "$jobs" -eq "$NSRC" ] &&
	ok "tree_travel_all_on_boards ($on of $NSRC)" ||
	fail tree_travel_all_on_boards "$on on boards, $jobs tree jobs of $NSRC: $(grep -m2 'locally\|directives' "$FARM_TMP/cold.log")"
grep -q 'toolchain of /usr/bin/g++' "$FARM_TMP/hubd.log" && ok tree_travel_gxx_packed ||
	fail tree_travel_gxx_packed "$(grep -i 'toolchain' "$FARM_TMP/hubd.log" | tail -3)"
echo "BENCH tree_travel_jobs_on_boards $on of $NSRC"

# ---- warm: no gcc pack again, no pack twice to a board (the one C++
# job may meet the other board's first g++ pack)
gcc0=$(grep -c "the hub's /usr/bin/gcc travels" "$FARM_TMP/hubd.log")
build "$FARM_TMP/warm.log"
on=$(grep -c 'compiled on' "$FARM_TMP/warm.log")
twice=$(grep -o "hubd: [^ ]*: the hub's [^ ]* travels" "$FARM_TMP/hubd.log" | sort | uniq -d)
same_as_ref && [ "$on" -eq "$NSRC" ] && [ -z "$twice" ] &&
	[ "$(grep -c "the hub's /usr/bin/gcc travels" "$FARM_TMP/hubd.log")" -eq "$gcc0" ] &&
	ok "tree_travel_warm_no_toolchain_again" ||
	fail tree_travel_warm_no_toolchain_again "$on on boards; twice: $twice"
# and a third build of the C files (each board has had gcc's pack): no
# toolchain byte at all (which board the one C++ job meets is the
# scheduler's: the check above covers it)
tr0=$(travelled); b0=$(tree blob_bytes)
build "$FARM_TMP/warm2.log" "$CSRCS"
warm=$(( $(tree blob_bytes) - b0 ))
same_as_ref_c() {
	local f bad=0
	for f in $CSRCS; do cmp -s "$FARM_TMP/ref/${f%.c}.o" "$S/out/${f%.c}.o" || bad=1; done
	[ $bad -eq 0 ]
}
same_as_ref_c && [ "$(travelled)" -eq "$tr0" ] && [ "$warm" -lt 100000 ] &&
	ok "tree_travel_warm_no_toolchain_bytes ($warm bytes)" ||
	fail tree_travel_warm_no_toolchain_bytes "$warm bytes, $(( $(travelled) - tr0 )) packs sent"
st=$(status_json)
v=$(echo "$st" | jq -r '.toolchain.verified')
serves=$(echo "$st" | jq -r '[.. | strings | select(test("hub.s own toolchain"))] | length')
[ "$v" -ge 3 ] && [ "$serves" -ge 2 ] && ok "tree_travel_status ($v verified, $serves board verdicts)" ||
	fail tree_travel_status "$(echo "$st" | jq -c '.toolchain') $serves"
echo "# $(echo "$st" | jq -c '.toolchain')"
as_user "$T_BIN/hubctl" status | grep -i "toolchain" | sed 's/^/# /'

# ---- a board lost a pack blob: missing, sent again
CC1=$(gcc -print-prog-name=cc1)
H=$(sha256sum "$CC1" | cut -c1-64)
rm -f "$FARM_TMP"/store[12]/objects/"${H:0:2}/$H"
r0=$(tree resends); tr0=$(travelled)
rm -f "$S/out/c3.o"
one c3.c "$FARM_TMP/lost.log"
cmp -s "$S/out/c3.o" "$FARM_TMP/ref/c3.o" && [ "$(tree resends)" -gt "$r0" ] &&
	[ "$(travelled)" -gt "$tr0" ] && grep -q 'compiled on' "$FARM_TMP/lost.log" &&
	ok "tree_travel_lost_blob_resent ($(( $(tree resends) - r0 )) resend)" ||
	fail tree_travel_lost_blob_resent "resends $(tree resends) (was $r0): $(tail -n 2 "$FARM_TMP/lost.log")"
status_json >"$FARM_TMP/status.json"
tb=$(cat "$FARM_TMP"/noded[12].log | grep -o 'tree built in [0-9]* us' |
	awk '{s += $4; n++} END {print n ? int(s / n) : 0}')
echo "BENCH tree_travel_tree_build_us $tb us/job (mean; the toolchain's executables are links of their blobs' 0555 .x variant)"

# ---- the hub played by treesend on board 1's link (hubd stopped)
stop_hubd
IF=$("$SF" ifname --prefix "$FARM_PREFIX" hub 1)
W=$S
deps_list "$W" /usr/bin/gcc -x c "${FLAGS[@]}" -c c4.c >"$W/c4.list"
tsend() {
	local n=$1; shift
	"$SF" exec --prefix "$FARM_PREFIX" hub "$TS" --iface "$IF" --wait-s 120 --cwd "$W" \
		--list "$W/c4.list" --input-name c4.c --output-name c4.o \
		--arg -x --arg c --arg -O2 --arg -g --arg -Iinc --arg -c "$@" >"$W/$n.res" 2>&1
}
field() { sed -n "s/^$2 //p" "$W/$1.res" | tail -1; }
tsend ok --travel /usr/bin/gcc --obj-out "$W/ts.o"
[ "$(field ok farm_error)" = 0 ] && cmp -s "$W/ts.o" "$FARM_TMP/ref/c4.o" &&
	ok tree_travel_treesend_pack_runs ||
	fail tree_travel_treesend_pack_runs "$(tr '\n' '|' <"$W/ok.res" | cut -c1-400)"
LOG1=$FARM_TMP/noded1.log
v0=$(grep -c 'toolchain in its tree is the job' "$LOG1")
tsend again --travel /usr/bin/gcc
[ "$(field again farm_error)" = 0 ] && [ "$(grep -c 'toolchain in its tree is the job' "$LOG1")" -eq "$v0" ] &&
	ok tree_travel_verified_once || fail tree_travel_verified_once "$(field again error), checks $v0"

refused() {	# refused NAME PATTERN: the job refused (-EPERM) with a reason matching
	local e
	e=$(field "$1" error)
	[ "$(field "$1" farm_error)" = -1 ] && echo "$e" | grep -q "$2" && ok "$1 ($e)" ||
		fail "$1" "$(field "$1" farm_error) $e"
}
tsend tree_travel_other_identity_refused --travel /usr/bin/gcc \
	--fingerprint 0123456789abcdef0123456789abcdef
refused tree_travel_other_identity_refused "toolchain refused: the tree's /usr/bin/gcc is gcc"
tsend tree_travel_swapped_assembler_refused --travel /usr/bin/gcc \
	--swap /usr/bin/x86_64-linux-gnu-as=/usr/bin/aarch64-linux-gnu-as
refused tree_travel_swapped_assembler_refused "toolchain refused"
n=$(grep -c 'refused so far' "$LOG1")
[ "$n" -ge 2 ] && ok "tree_travel_refusals_counted ($n)" || fail tree_travel_refusals_counted "$n"

# hostile toolchain entries: nothing outside the tree runs
mark=$FARM_TMP/ran
hostile() {
	local n=$1; shift
	tsend "$n" --kind clang --triple x86_64 "$@" --toolchain-n 1
	refused "$n" "toolchain refused"
}
hostile tree_travel_hostile_board_program --raw "link:/usr/bin/gcc:/usr/bin/touch"
hostile tree_travel_hostile_proc_exe --raw "link:/usr/bin/gcc:/proc/self/exe"
hostile tree_travel_hostile_escape --raw "link:/usr/bin/gcc:../../../../../../usr/bin/touch"
[ ! -e "$W/-dumpmachine" ] && [ ! -e "/-dumpmachine" ] && [ ! -e "$mark" ] &&
	ok tree_travel_hostile_ran_nothing || fail tree_travel_hostile_ran_nothing "a trace of touch"
hostile tree_travel_hostile_not_executable --raw "file:/usr/bin/gcc"
