#!/usr/bin/env bash
# arm_farm.sh — a cross-architecture farm end to end: 2 emulated arm64
# boards (simfarm --arch arm64: Debian's arm64 gcc-12 and
# x86_64-linux-gnu-gcc-12 under qemu-user, the arm64 noded), this project's
# own C sources (lib/, node/, tests/tools/) built through dcc:
#   (a) the hub's x86_64 gcc-12, boards offering x86_64-linux-gnu-gcc-12;
#   (b) the hub's aarch64-linux-gnu-gcc-12, boards offering native gcc-12,
#       without and with -fstack-protector-strong.
# The pairs are proven first by scripts/pair-prove (canaries, per flag
# class); hubd runs with --pairs. Every object must be byte-identical to
# the hub's local compile; (a) and (b) must send jobs to the boards; no job
# of a class the canaries found different may reach a board; every job
# that stayed local has its reason (dcc's trace). Prints per pair: jobs
# distributed, objects identical, kept local by reason, and the time per
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

# ---- the pairs, proven before any job
PAIRS=$FARM_TMP/pairs
if "$T_ROOT/scripts/pair-prove" --tools "$T_BUILD/tools" gcc-12 "$BR/bin/x86_64-linux-gnu-gcc-12" \
	>"$PAIRS" 2>"$FARM_TMP/prove-x86.log" &&
	"$T_ROOT/scripts/pair-prove" --tools "$T_BUILD/tools" aarch64-linux-gnu-gcc-12 "$BR/bin/gcc-12" \
	>>"$PAIRS" 2>"$FARM_TMP/prove-a64.log"; then
	ok pairs-proven
else
	fail pairs-proven "$(tail -n 3 "$FARM_TMP"/prove-*.log)"
	exit 1
fi
sed 's/^/# proof: /' "$FARM_TMP"/prove-*.log
sed 's/^/# pairs: /' "$PAIRS"
[ "$(wc -l <"$PAIRS")" -eq 2 ] && ok two-pairs || fail two-pairs "$(cat "$PAIRS")"

# two local slots, as a hub has: the boards take the first jobs and the
# hub the rest, so each build distributes and ends in about a minute (with
# --local-slots 0, 31 emulated jobs on 4 board slots took 5.4 min a build)
start_hubd --local-slots 2 --pairs "$PAIRS"
for i in 1 2; do
	"$SF" noded --prefix "$FARM_PREFIX" "$i" -v --id "board$i" --slots 2 \
		>>"$FARM_TMP/noded$i.log" 2>&1 &
	NODED_PID[$i]=$!
done
if wait_for 1200 nodes_up 2; then ok boards-up; else fail boards-up "$(status_json)"; exit 1; fi

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
phase a64-pair-ssp aarch64-linux-gnu-gcc-12 "-fstack-protector-strong" \
	"$(grep -q 'stack-protector=differs' <(tail -n1 "$PAIRS") && echo no || echo yes)"
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
t_done
