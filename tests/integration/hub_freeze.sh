#!/usr/bin/env bash
# hub_freeze.sh — dcc never waits on hubd without a deadline (issue 9):
# hubd frozen with SIGSTOP in the middle of a farm build. Every dcc in
# flight gives up on the silent hubd within its deadline (3 s without a
# keepalive) and compiles locally, the next ones skip hubd for a few seconds
# instead of each waiting: the build finishes while hubd is still frozen,
# with every object identical to the local build. Resumed, hubd serves the
# farm again by itself; killed and restarted, likewise.
# timeout: 400
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=hz1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 2
start_hubd --local-slots 1
for i in 1 2; do start_noded "$i" --slots 2; done
if wait_for 200 nodes_up 2; then ok farm-up; else fail farm-up "nodes not up"; exit 1; fi
G=$FARM_TMP/gen
gen_tree "$G" 40
FLAGS="-O2 -g -MD"
(cd "$G" && make -j4 CC=gcc CFLAGS="$FLAGS" >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
chown -R "$FARM_USER:" "$G"

objs() { ls "$G/obj" 2>/dev/null | grep -c '\.o$'; }
objs_at_least() { [ "$(objs)" -ge "$1" ]; }
# ---- frozen mid-build
user_in "$G" make -j6 CC="$T_BIN/dcc gcc" CFLAGS="$FLAGS" >"$FARM_TMP/build1.log" 2>&1 &
mpid=$!
wait_for 600 objs_at_least 6
kill -STOP "$HUBD_PID"
frozen_at=$(objs)
t0=$SECONDS
# The build must end on its own while hubd stays frozen (the bound only
# turns a hang into a failure; nothing is timed).
for _ in $(seq 1 1200); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$mpid" 2>/dev/null; then
	fail build-while-hubd-frozen "still running after 120 s with hubd frozen"
	kill -CONT "$HUBD_PID"
	wait "$mpid"
else
	wait "$mpid"; rc=$?
	took=$((SECONDS - t0))
	echo "# hubd frozen with $frozen_at of 40 objects done; the build ended ${took} s later, hubd still frozen"
	[ "$rc" -eq 0 ] && ok build-while-hubd-frozen || fail build-while-hubd-frozen "make exited $rc: $(tail -n 3 "$FARM_TMP/build1.log" | tr '\n' '|')"
	kill -CONT "$HUBD_PID"
fi
same_outputs "$G/ref" "$G/obj" && ok objects-identical-hubd-frozen || fail objects-identical-hubd-frozen "differ"

# ---- resumed: the farm is used again without anyone restarting anything
if wait_for 200 nodes_up 2; then
	b=$(remote_jobs_done)
	rm -rf "$G/obj"
	sleep 5	# past the time a silent hubd is skipped (HUB_SILENT_SKIP_S)
	user_in "$G" make -j6 CC="$T_BIN/dcc gcc" CFLAGS="$FLAGS" >"$FARM_TMP/build2.log" 2>&1
	a=$(remote_jobs_done)
	if same_outputs "$G/ref" "$G/obj" && [ "$a" -gt "$b" ]; then ok farm-used-after-resume
	else fail farm-used-after-resume "remote jobs $b -> $a"; fi
else
	fail farm-used-after-resume "nodes not up again after SIGCONT"
fi

# ---- killed and restarted mid-build
rm -rf "$G/obj"
user_in "$G" make -j6 CC="$T_BIN/dcc gcc" CFLAGS="$FLAGS" >"$FARM_TMP/build3.log" 2>&1 &
mpid=$!
wait_for 600 objs_at_least 6
kill -KILL "$HUBD_PID"
wait "$HUBD_PID" 2>/dev/null
HUBD_PID=""
start_hubd --local-slots 1
wait "$mpid" && same_outputs "$G/ref" "$G/obj" && ok build-across-hubd-restart ||
	fail build-across-hubd-restart "$(tail -n 3 "$FARM_TMP/build3.log" | tr '\n' '|')"
if wait_for 200 nodes_up 2; then
	b=$(remote_jobs_done)
	rm -rf "$G/obj"
	sleep 5
	user_in "$G" make -j6 CC="$T_BIN/dcc gcc" CFLAGS="$FLAGS" >"$FARM_TMP/build4.log" 2>&1
	a=$(remote_jobs_done)
	if same_outputs "$G/ref" "$G/obj" && [ "$a" -gt "$b" ]; then ok farm-used-after-restart
	else fail farm-used-after-restart "remote jobs $b -> $a"; fi
else
	fail farm-used-after-restart "nodes not up after the restart"
fi
t_done
