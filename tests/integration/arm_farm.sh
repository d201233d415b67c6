#!/usr/bin/env bash
# arm_farm.sh — a cross-architecture farm end to end: 2 emulated arm64
# boards (simfarm --arch arm64: Debian's arm64 gcc-12 and
# x86_64-linux-gnu-gcc-12 under qemu-user, the arm64 noded), this project's
# own C sources (lib/, hub/, node/, tests/tools/) built through dcc:
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

start_hubd --local-slots 0 --pairs "$PAIRS"
for i in 1 2; do
	"$SF" noded --prefix "$FARM_PREFIX" "$i" -v --id "board$i" --slots 2 \
		>>"$FARM_TMP/noded$i.log" 2>&1 &
	NODED_PID[$i]=$!
done
if wait_for 1200 nodes_up 2; then ok boards-up; else fail boards-up "$(status_json)"; exit 1; fi

DCC=$T_BIN/dcc
P=$FARM_TMP/proj
mkdir -p "$P"
cp -r "$T_ROOT/lib" "$T_ROOT/hub" "$T_ROOT/node" "$P/"
# tests/tools/*.c include "../lib/tool.h": the test headers go to lib/ as well
mkdir -p "$P/tools" && cp "$T_ROOT"/tests/tools/*.c "$P/tools/" && cp "$T_ROOT"/tests/lib/*.h "$P/lib/"
cat >"$P/Makefile" <<'EOF'
SRCS := $(filter-out tools/loophub.c,$(wildcard lib/*.c hub/*.c node/*.c tools/*.c))
OBJS := $(patsubst %.c,obj/%.o,$(SRCS))
all: $(OBJS)
obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
EOF
BASEFLAGS="-std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -O2 -g -Ilib -Ihub -Inode -Itools -I/usr/include/libnl3 -I/usr/include/lzo -I/usr/include/libusb-1.0"

# phase NAME CC EXTRA-FLAGS WANT-REMOTE(yes|no)
phase() {
	local name=$1 cc=$2 extra=$3 want=$4 before after n bad=0 f t0 tl tf remote
	rm -rf "$P/obj" "$P/ref"
	t0=$(date +%s%N)
	(cd "$P" && make -k -j2 CC="$cc" CFLAGS="$BASEFLAGS $extra" >"$FARM_TMP/$name-local.log" 2>&1)
	tl=$(( ($(date +%s%N) - t0) / 1000000 ))
	mv "$P/obj" "$P/ref"
	n=$(cd "$P/ref" && find . -name '*.o' | wc -l)
	before=$(remote_jobs_done)
	t0=$(date +%s%N)
	if (cd "$P" && DCC_VERBOSE=1 make -j4 CC="$DCC $cc" CFLAGS="$BASEFLAGS $extra" \
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
	echo "# $name: kept local, by reason:"
	grep -o 'dcc: local: .*\|hubd: compile locally\|failed on the farm.*' "$FARM_TMP/$name-farm.log" |
		sed 's/ [^ ]*\.c$//' | sort | uniq -c | sed 's/^/#   /'
	echo "# $name: local build ${tl} ms for $n objects (-j2, native): $((tl / (n ? n : 1))) ms/job"
	[ "$remote" -gt 0 ] && board_times "$name" "$remote"
}

# board_times NAME COUNT: mean dispatch-to-result time of the last COUNT
# jobs hubd gave to a board (its log), the time per emulated job
board_times() {
	awk -v name="$1" -v cnt="$2" '
		$4 == "job" && $6 == "->" { split($1, t, ":"); s[$5] = t[1] * 3600 + t[2] * 60 + t[3] }
		$4 == "job" && $6 == "done" { id = $5; if (id in s) { split($1, t, ":"); d[++n] = t[1] * 3600 + t[2] * 60 + t[3] - s[id]; delete s[id] } }
		END { for (i = n - cnt + 1; i <= n; i++) if (i > 0) { sum += d[i]; k++ }
		      if (k) printf "# %s: emulated board job, dispatch to result: %.1f s mean over %d jobs\n", name, sum / k, k }
	' "$FARM_TMP/hubd.log"
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
