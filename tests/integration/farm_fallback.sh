#!/usr/bin/env bash
# farm_fallback.sh — a build never fails because of the farm: with hubd
# stopped; with hubd up but no nodes (default local slots, and none at all);
# with no node offering dcc's compiler; with a node SIGKILLed in the middle of
# a job. Every build succeeds and every object equals the local one.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=ff1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 3
DCC=$T_BIN/dcc
G=$FARM_TMP/gen
gen_tree "$G" 24
FLAGS="-O2 -g -MD"
(cd "$G" && make -j4 CC=gcc CFLAGS="$FLAGS" >/dev/null 2>&1) && mv "$G/obj" "$G/ref"

# build NAME [CC]: farm build of the generated tree, compared with the reference.
build() {
	local name=$1 cc=${2:-gcc}
	rm -rf "$G/obj"
	if ! user_in "$G" make -j6 CC="$DCC $cc" CFLAGS="$FLAGS" >"$FARM_TMP/$name.log" 2>&1; then
		fail "$name" "build failed: $(tail -n 3 "$FARM_TMP/$name.log" | tr '\n' '|')"
		return 1
	fi
	if ! same_outputs "$G/ref" "$G/obj"; then
		fail "$name" "objects differ from the local build"
		return 1
	fi
	ok "$name"
}

# ---- no hubd at all
rm -f "$USBFARM_SOCKET"
build fallback-no-hubd

# ---- hubd without nodes
start_hubd_bare
build fallback-hubd-no-nodes
j=$(status_json | jq -c .jobs)
[ "$(status_json | jq '.jobs.local')" -gt 0 ] && ok no-nodes-local-slots-used || fail no-nodes-local-slots-used "$j"
stop_hubd
start_hubd_bare --local-slots 0
build fallback-hubd-no-nodes-no-slots
[ "$(status_json | jq '.jobs.failed')" -gt 0 ] && [ "$(status_json | jq '.jobs.local')" -eq 0 ] &&
	ok no-slots-answers-failed || fail no-slots-answers-failed "$(status_json | jq -c .jobs)"
stop_hubd

# ---- nodes that do not have dcc's compiler: they offer only g++ and we use
# gcc, and have no store, so the hub's own gcc cannot travel to them either
# (with a store it does: tree_travel.sh)
start_hubd --local-slots 1
for i in 1 2 3; do start_noded "$i" --slots 2 --compilers g++ --no-store; done
if wait_for 200 nodes_up 3; then
	build fallback-compiler-not-on-nodes
	[ "$(remote_jobs_done)" -eq 0 ] && [ "$(status_json | jq '.jobs.remote')" -eq 0 ] &&
		ok no-job-sent-to-nodes-without-compiler ||
		fail no-job-sent-to-nodes-without-compiler "$(status_json | jq -c .jobs)"
else
	fail fallback-compiler-not-on-nodes "nodes not up: $(status_json | jq -c '.nodes[] | [.iface,.state]')"
fi
for i in 1 2 3; do stop_noded "$i"; done
stop_hubd

# ---- a node killed mid-job. A slow file (a few seconds at -O2) makes "mid-job"
# a state we can wait for rather than a race.
S=$FARM_TMP/slow
mkdir -p "$S"
{
	echo '#include <stdint.h>'
	for f in 1 2 3 4 5 6; do
		echo "uint64_t slow$f(uint64_t x) {"
		for k in $(seq 1 1500); do echo "  x = x * $((k * 2 + 1))u + (x >> $((k % 13 + 1))) + $k;"; done
		echo "  return x; }"
	done
} >"$S/slow.c"
(cd "$S" && gcc -O2 -g -c slow.c -o ref.o) || fail node-killed-mid-job "local compile of slow.c failed"
start_hubd --local-slots 0
for i in 1 2 3; do start_noded "$i" --slots 1; done
if wait_for 200 nodes_up 3; then
	chown "$FARM_USER:" "$S"
	(cd "$S" && as_user "$DCC" gcc -O2 -g -c slow.c -o farm.o >"$FARM_TMP/slow.out" 2>&1; echo $? >"$FARM_TMP/slow.rc") &
	bg=$!
	# wait until a node is running it, then kill that node's noded
	victim=""
	for _ in $(seq 1 200); do
		victim=$(status_json | jq -r '.nodes[] | select(.running > 0) | .name' | head -n1)
		[ -n "$victim" ] && break
		sleep 0.1
	done
	if [ -z "$victim" ]; then
		fail node-killed-mid-job "the job never ran on a node"
		wait $bg
	else
		stop_noded "${victim#node}" KILL
		echo "# killed $victim (noded) while it compiled slow.c"
		wait $bg
		if [ "$(cat "$FARM_TMP/slow.rc")" = 0 ] && cmp -s "$S/ref.o" "$S/farm.o"; then
			ok node-killed-mid-job
		else
			fail node-killed-mid-job "exit $(cat "$FARM_TMP/slow.rc"), $(head -c 300 "$FARM_TMP/slow.out")"
		fi
		r=$(status_json | jq '.jobs.retried')
		[ "$r" -ge 1 ] && ok killed-job-retried-on-another-node ||
			fail killed-job-retried-on-another-node "$(status_json | jq -c .jobs)"
	fi
	# and a whole build with one node gone still works on the others,
	# really on them (-g jobs included)
	b=$(remote_jobs_done)
	build build-after-node-loss
	a=$(remote_jobs_done)
	[ "$a" -gt "$b" ] && ok build-after-node-loss-ran-on-nodes ||
		fail build-after-node-loss-ran-on-nodes "$b -> $a jobs done on nodes"
else
	fail node-killed-mid-job "nodes not up"
fi

t_done
