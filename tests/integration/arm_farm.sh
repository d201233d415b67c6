#!/usr/bin/env bash
# arm_farm.sh — a cross-architecture farm end to end: 2 emulated arm64
# boards (simfarm --arch arm64: Debian's arm64 gcc-12 and
# x86_64-linux-gnu-gcc-12 under qemu-user, the arm64 noded), this project's
# own C sources (lib/, node/, tests/tools/) built through dcc:
#   (a) the hub's x86_64 gcc-12, boards offering x86_64-linux-gnu-gcc-12;
#   (b) the hub's aarch64-linux-gnu-gcc-12, boards offering native gcc-12,
#       without and with -fstack-protector-strong.
# hubd proves the pairs itself (hub/prove.h): the first job of each hub
# compiler starts a proof, its canaries go to the boards as ordinary jobs
# while the hub compiles them locally; the jobs of a pair being proven stay
# local with the reason "not proven yet (proving)". Every object must be
# byte-identical to the hub's local compile; (a) and (b) must send jobs to
# the boards; no job of a class the canaries found different may reach a
# board, and those are counted under "stack-protector code differs on every
# board"; every job that stayed local has its reason (dcc's trace). Then
# board 2 restarts with a compiler of another fingerprint (the same
# binary, another configure line: an "upgrade"): hubd proves the new pair
# by itself and board 2 serves again. Prints per pair: jobs distributed,
# objects identical, kept local by reason, the proof time, and the time per
# job emulated against native.
# timeout: 3000
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=ar1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

for t in qemu-aarch64-static aarch64-linux-gnu-gcc-12 gcc-12; do
	command -v "$t" >/dev/null || { fail arm-prereq "$t missing (scripts/install-deps --arm)"; exit 1; }
done
[ -x "$T_ROOT/build/aarch64/bin/noded" ] ||
	{ fail arm-prereq "build/aarch64/bin/noded missing (make CROSS=aarch64-linux-gnu-)"; exit 1; }
[ -x "$T_BUILD/tools/identpatch" ] || { fail arm-prereq "identpatch not built (make)"; exit 1; }

trap farm_cleanup EXIT
[ "$(id -u)" -eq 0 ] || { skip farm "needs root (namespaces, raw sockets)"; exit 0; }
# dcc and hubctl run as a normal user in the usbfarm group (tests/lib/farm.sh)
farm_users || { fail farm-users "cannot create the usbfarm group/user or $FARM_USER"; exit 1; }
FARM_N=2
"$SF" up 2 --arch arm64 --prefix "$FARM_PREFIX" --force -q >"$FARM_TMP/up.log" 2>&1 ||
	{ fail farm-up "simfarm up --arch arm64: $(tail -n 3 "$FARM_TMP/up.log")"; exit 1; }
BR=$("$T_ROOT/scripts/boardroot" --print)

# two local slots, as a hub has: the boards take the first jobs and the
# hub the rest, so each build distributes and ends in about a minute (with
# --local-slots 0, 31 emulated jobs on 4 board slots took 5.4 min a build).
# No --pairs: hubd proves the pairs itself, into its state dir.
STATE=$FARM_TMP/state
start_hubd --local-slots 2 --state-dir "$STATE" --canaries "$T_ROOT/scripts/lib/canaries"
# start_board I [COMPILERS]: board I's noded (default: simfarm's list, the
# board root's launchers)
start_board() {
	local i=$1 list=${2:-}
	"$SF" noded --prefix "$FARM_PREFIX" "$i" -v --id "board$i" --slots 2 ${list:+--compilers "$list"} \
		>>"$FARM_TMP/noded$i.log" 2>&1 &
	NODED_PID[$i]=$!
}
for i in 1 2; do start_board "$i"; done
if wait_for 1200 nodes_up 2; then ok boards-up; else fail boards-up "$(status_json)"; exit 1; fi

# proved N: hubd's log has N finished proofs
proved() { [ "$(grep -c ' proven on ' "$FARM_TMP/hubd.log")" -ge "$1" ]; }
# trigger CC [FLAGS]: one job of CC through dcc (a pair, or a flag class of
# it, that no proof covers is proven)
trigger() {
	mkdir -p "$FARM_TMP/trig" && printf 'int trig(int x) { return x + 1; }\n' >"$FARM_TMP/trig/t.c"
	user_in "$FARM_TMP/trig" "$T_BIN/dcc" "$1" -O2 ${2:-} -c t.c -o t.o
}
# ---- the pairs, proven by hubd before the builds
t0=$(date +%s)
# the x86_64 pair for the base class, the aarch64 one for base and
# stack-protector (the phases' flags)
trigger gcc-12 && trigger aarch64-linux-gnu-gcc-12 &&
	trigger aarch64-linux-gnu-gcc-12 -fstack-protector-strong || fail trigger "dcc failed"
if status_json | jq -e '.local_reasons.by_reason["not proven yet (proving)"] >= 1' >/dev/null; then
	ok proving-is-a-reason
else
	fail proving-is-a-reason "$(status_json | jq -c .local_reasons)"
fi
status_json | jq -r '.serves[] | "# while proving: \(.compiler) | \(.node) | \(.verdict)"'
status_json | jq -e '[.serves[] | select(.verdict | test("(proving|compiling the canaries)"))] | length > 0' >/dev/null &&
	ok proving-shown || fail proving-shown "$(status_json | jq -c .serves)"
if wait_for 6000 proved 2; then ok pairs-proven-by-hubd; else
	fail pairs-proven-by-hubd "$(grep -i 'pair ' "$FARM_TMP/hubd.log" | tail -n 5)"; exit 1; fi
echo "# both pairs proven by hubd in $(($(date +%s) - t0)) s"
grep ' proven on \|canary .* differs' "$FARM_TMP/hubd.log" | sed 's/^/# proof: /'
PAIRS=$STATE/pairs
sed 's/^/# pairs: /' "$PAIRS"
[ "$(grep -c '^pair ' "$PAIRS")" -eq 2 ] && ok two-pairs-saved || fail two-pairs-saved "$(cat "$PAIRS")"
# only the classes jobs asked for were proven: no stack-clash verdict
! grep -q 'stack-clash=' "$PAIRS" && [ "$(grep -c ' stack-protector=' "$PAIRS")" -eq 1 ] &&
	ok classes-asked-only || fail classes-asked-only "$(cat "$PAIRS")"
[ "$(stat -c '%U %a' "$PAIRS")" = "usbfarm 644" ] &&
	ok pairs-file-hubds || fail pairs-file-hubds "$(stat -c '%U %a' "$PAIRS")"

DCC=$T_BIN/dcc
P=$FARM_TMP/proj
# The code base: this project's own lib/, node/ and tests/tools/ C files (41
# compile today), with a fixed flag set. A file those flags cannot
# compile locally (a dependency another change added) is left out of that
# phase's farm build too, and said: others' changes to the tree change the
# count, never the verdict (more than 20 objects are required).
mkdir -p "$P/tools"
cp -r "$T_ROOT/lib" "$T_ROOT/node" "$P/"
# tests/tools/*.c include "../lib/tool.h": the test headers go to lib/ as well
cp "$T_ROOT"/tests/tools/*.c "$P/tools/" && cp "$T_ROOT"/tests/lib/*.h "$P/lib/"
# timecc CC ARGS...: runs a native compile; if it succeeds, appends its wall
# time in ms to $TIMES
cat >"$P/timecc" <<'EOF'
#!/bin/sh
t0=$(date +%s%N)
"$@" || exit
echo $(( ($(date +%s%N) - t0) / 1000000 )) >>"$TIMES"
EOF
chmod +x "$P/timecc"
cat >"$P/Makefile" <<'EOF'
SRCS := $(wildcard lib/*.c node/*.c tools/*.c)
OBJS := $(patsubst %.c,obj/%.o,$(SRCS))
all: $(OBJS)
obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
EOF
BASEFLAGS="-std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -O2 -g -Ilib -Inode -Itools -I/usr/include/libnl3 -I/usr/include/lzo"

# phase NAME CC EXTRA-FLAGS WANT-REMOTE(yes|no)
phase() {
	local name=$1 cc=$2 extra=$3 want=$4 before after n bad=0 f t0 tl tf remote hl
	rm -rf "$P/obj" "$P/ref"
	t0=$(date +%s%N)
	: >"$FARM_TMP/$name-native.ms"
	(cd "$P" && TIMES=$FARM_TMP/$name-native.ms make -k -j2 CC="$P/timecc $cc" CFLAGS="$BASEFLAGS $extra" \
		>"$FARM_TMP/$name-local.log" 2>&1)
	tl=$(( ($(date +%s%N) - t0) / 1000000 ))
	mv "$P/obj" "$P/ref"
	local objs=() left
	mapfile -t objs < <(cd "$P/ref" && find . -name '*.o' | sed 's|^\./|obj/|' | sort)
	n=${#objs[@]}
	left=$(grep -o '^[^ :]*\.c:[0-9]*:[0-9]*: \(fatal \)\?error' "$FARM_TMP/$name-local.log" | cut -d: -f1 | sort -u | tr '\n' ' ')
	[ -z "$left" ] || echo "# $name: left out, they do not compile locally with these flags: $left"
	before=$(remote_jobs_done)
	status_json | jq -c '.local_reasons // {total: 0, by_reason: {}}' >"$FARM_TMP/$name-reasons0"
	hl=$(wc -l <"$FARM_TMP/hubd.log")
	t0=$(date +%s%N)
	if (cd "$P" && DCC_VERBOSE=1 make -j8 CC="$DCC $cc" CFLAGS="$BASEFLAGS $extra" "${objs[@]}" \
		>"$FARM_TMP/$name-farm.log" 2>&1); then
		ok "$name-build"
	else
		fail "$name-build" "$(tail -n 5 "$FARM_TMP/$name-farm.log")"
	fi
	tf=$(( ($(date +%s%N) - t0) / 1000000 ))
	after=$(remote_jobs_done)
	remote=$((after - before))
	while IFS= read -r f; do
		cmp -s "$P/ref/$f" "$P/obj/$f" || { bad=$((bad + 1)); echo "# $name: differs: $f"; }
	done < <(cd "$P/ref" && find . -name '*.o' | sort)
	[ "$n" -gt 20 ] && [ $bad -eq 0 ] && ok "$name-objects-identical" ||
		fail "$name-objects-identical" "$bad of $n differ"
	if [ "$want" = yes ]; then
		[ "$remote" -gt 0 ] && ok "$name-distributed" || fail "$name-distributed" "no job reached a board"
	else
		[ "$remote" -eq 0 ] && ok "$name-never-sent" ||
			fail "$name-never-sent" "$remote jobs of a class that differs reached a board"
	fi
	echo "# $name: $n objects, $((n - bad)) identical, $remote on boards; local build ${tl} ms, farm build ${tf} ms"
	kept_local "$name" "$n"
	echo "# $name: native compile (on the hub, -j2): median $(median <"$FARM_TMP/$name-native.ms") ms over $(wc -l <"$FARM_TMP/$name-native.ms") jobs"
	[ "$remote" -gt 0 ] && board_times "$name" "$hl"
}

# kept_local NAME N: the jobs of the build that no board served (dcc's trace)
# are exactly the ones hubctl status counted local in it, by reason (a job
# hubd sampled for --verify was served too: dcc compared its object)
kept_local() {
	local name=$1 n=$2 served total
	served=$(grep -c ' compiled on ' "$FARM_TMP/$name-farm.log")
	status_json | jq -c '.local_reasons // {total: 0, by_reason: {}}' >"$FARM_TMP/$name-reasons1"
	total=$(jq -n --slurpfile a "$FARM_TMP/$name-reasons0" --slurpfile b "$FARM_TMP/$name-reasons1" '$b[0].total - $a[0].total')
	echo "# $name: $served served by boards, $((n - served)) kept local; hubctl status counted $total local, by reason:"
	jq -rn --slurpfile a "$FARM_TMP/$name-reasons0" --slurpfile b "$FARM_TMP/$name-reasons1" \
		'$b[0].by_reason | to_entries[] | "\(.key): \(.value - ($a[0].by_reason[.key] // 0))"' |
		grep -v ': 0$' | sed 's/^/#   /'
	[ "$total" -eq $((n - served)) ] && ok "$name-local-reasons" ||
		fail "$name-local-reasons" "$((n - served)) jobs kept local, $total counted by reason"
}

# median: of the numbers on stdin, one a line
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "-" }'; }

# board_times NAME LINE: dispatch-to-result times of the jobs hubd gave to a
# board after line LINE of its log: the time per emulated job (median)
board_times() {
	tail -n +"$(($2 + 1))" "$FARM_TMP/hubd.log" | awk '
		$4 == "job" && $6 == "->" && $7 != "local" { split($1, t, ":"); s[$5] = t[1] * 3600 + t[2] * 60 + t[3] }
		$4 == "job" && $6 == "done" && ($5 in s) { split($1, t, ":"); printf "%d\n", (t[1] * 3600 + t[2] * 60 + t[3] - s[$5]) * 1000; delete s[$5] }
	' >"$FARM_TMP/$1-board.ms"
	echo "# $1: emulated board job, dispatch to result: median $(median <"$FARM_TMP/$1-board.ms") ms over $(wc -l <"$FARM_TMP/$1-board.ms") jobs"
}

phase x86-pair gcc-12 "" yes
phase a64-pair aarch64-linux-gnu-gcc-12 "" yes
SSP_DIFFERS=$(grep -q 'stack-protector=differs' "$PAIRS" && echo yes || echo no)
phase a64-pair-ssp aarch64-linux-gnu-gcc-12 "-fstack-protector-strong" \
	"$([ "$SSP_DIFFERS" = yes ] && echo no || echo yes)"
# by_reason_delta NAME LABEL: jobs of phase NAME counted under LABEL
by_reason_delta() {
	jq -n --arg l "$2" --slurpfile a "$FARM_TMP/$1-reasons0" --slurpfile b "$FARM_TMP/$1-reasons1" \
		'($b[0].by_reason[$l] // 0) - ($a[0].by_reason[$l] // 0)'
}
if [ "$SSP_DIFFERS" = yes ]; then
	# the jobs kept local for it have that reason, not "no board offers the compiler"
	n=$(by_reason_delta a64-pair-ssp "stack-protector code differs on every board")
	m=$(by_reason_delta a64-pair-ssp "no board offers the compiler")
	[ "$n" -gt 20 ] && [ "$m" -eq 0 ] && ok ssp-own-reason ||
		fail ssp-own-reason "$n under the stack-protector reason, $m under 'no board offers the compiler'"
fi
echo "# per board: $(jobs_done_per_node)"
# hubctl status says, per compiler asked for, which boards serve it and why not
status_json | jq -r '.serves[] | "# serves: \(.compiler) | \(.node) | \(.verdict)"'
if status_json | jq -e '[.serves[] | select(.verdict | test("stack-protector code differs"))] | length > 0' >/dev/null; then
	ok why-stack-protector-said
else
	fail why-stack-protector-said "no verdict names the stack-protector difference: $(status_json | jq -c .serves)"
fi
if status_json | jq -e '[.serves[] | select(.serves and (.compiler | test("x86_64")))] | length == 2' >/dev/null; then
	ok x86-pair-served-by-both
else
	fail x86-pair-served-by-both "$(status_json | jq -c .serves)"
fi
grep -q 'serves your jobs without those flags\|does not serve it' "$FARM_TMP/hubd.log" &&
	ok hubd-logged-verdicts || fail hubd-logged-verdicts "no verdict in hubd's log"
# ---- board 2 restarts "upgraded": its x86_64 compiler has another
# fingerprint (the same binary; its -v names one more configure option).
# hubd proves the new pair by itself, with no job asking, and board 2
# serves again.
UP=$FARM_TMP/upgraded
mkdir -p "$UP"
cat >"$UP/x86_64-linux-gnu-gcc-12" <<EOF
#!/bin/bash
set -o pipefail
real='$BR/bin/x86_64-linux-gnu-gcc-12'
case " \$* " in
*" -v "*) { "\$real" "\$@" 2>&1 1>&3 | sed 's/^Configured with: /&--enable-usbfarm-upgraded /' >&2; } 3>&1 ;;
*) exec "\$real" "\$@" ;;
esac
EOF
chmod 0755 "$UP/x86_64-linux-gnu-gcc-12"
# board2_x86: board 2's x86_64 compiler as hubctl status names it
board2_x86() { status_json | jq -r '.nodes[] | select(.name == "board2" and (.state | ascii_downcase) == "up") | .compilers[] | select(test("x86_64"))'; }
old_fp=$(board2_x86)
kill "${NODED_PID[2]}" 2>/dev/null
wait "${NODED_PID[2]}" 2>/dev/null
t0=$(date +%s)
start_board 2 "$UP/x86_64-linux-gnu-gcc-12,$BR/bin/gcc-12"
new_fp_up() { local f; f=$(board2_x86); [ -n "$f" ] && [ "$f" != "$old_fp" ]; }
if wait_for 1200 new_fp_up; then ok board2-new-fingerprint; else
	fail board2-new-fingerprint "still '$old_fp': $(status_json | jq -c '.nodes')"; fi
echo "# board 2 restarted: '$old_fp' -> '$(board2_x86)'"
if wait_for 3000 proved 3; then ok reproved-automatically; else
	fail reproved-automatically "$(grep -i 'pair ' "$FARM_TMP/hubd.log" | tail -n 5)"; fi
echo "# re-proof of the upgraded pair: $(($(date +%s) - t0)) s from the restart"
grep ' proven on ' "$FARM_TMP/hubd.log" | tail -n 1 | sed 's/^/# proof: /'
# six files at once: the boards' four slots take the first four (hubd
# prefers an idle board), so board 2 must get jobs again; each object equal
# to the local one
board2_done() { status_json | jq '[.nodes[] | select(.name == "board2") | .jobs_done] | add // 0'; }
b2=$(board2_done)
rm -rf "$P/obj" "$P/ref"
mapfile -t six < <(cd "$P" && ls lib/*.c | head -n 6 | sed 's|^\(.*\)\.c$|obj/\1.o|')
(cd "$P" && make -j2 CC=gcc-12 CFLAGS="$BASEFLAGS" "${six[@]}" >"$FARM_TMP/x86-reproved-local.log" 2>&1) &&
	mv "$P/obj" "$P/ref"
(cd "$P" && DCC_VERBOSE=1 make -j6 CC="$DCC gcc-12" CFLAGS="$BASEFLAGS" "${six[@]}" \
	>"$FARM_TMP/x86-reproved-farm.log" 2>&1) || fail x86-reproved-build "$(tail -n 3 "$FARM_TMP/x86-reproved-farm.log")"
bad=0
for f in "${six[@]}"; do cmp -s "$P/ref/${f#obj/}" "$P/$f" || bad=$((bad + 1)); done
[ "$bad" -eq 0 ] && ok x86-reproved-objects-identical || fail x86-reproved-objects-identical "$bad of 6 differ"
b2n=$(board2_done)
[ "$b2n" -gt "$b2" ] && ok board2-serves-again || fail board2-serves-again "board2 did $b2 then $b2n jobs"
echo "# x86-reproved: 6 objects, $((6 - bad)) identical, board2 served $((b2n - b2)), $(grep -c ' compiled on ' "$FARM_TMP/x86-reproved-farm.log") served by boards"
t_done
