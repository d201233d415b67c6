#!/usr/bin/env bash
# farm_concurrency.sh — make -j16 against three nodes of one slot each: far
# more dcc clients than slots queue in hubd; every object is correct and the
# work is spread over all three nodes.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=fc1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 3
start_hubd --local-slots 1
for i in 1 2 3; do start_noded "$i" --slots 1; done
if wait_for 200 nodes_up 3; then ok farm-up; else fail farm-up "nodes not up"; exit 1; fi

G=$FARM_TMP/gen
gen_tree "$G" 80
FLAGS="-O2 -g -MD -Wall"
(cd "$G" && make -j4 CC=gcc CFLAGS="$FLAGS" >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
if user_in "$G" make -j16 CC="$T_BIN/dcc gcc" CFLAGS="$FLAGS" >"$FARM_TMP/build.log" 2>&1; then
	ok make-j16
else
	fail make-j16 "$(tail -n 5 "$FARM_TMP/build.log" | tr '\n' '|')"
fi
if same_outputs "$G/ref" "$G/obj"; then ok objects-identical; else fail objects-identical "differ"; fi
echo "# 80 objects; per node: $(jobs_done_per_node); jobs: $(status_json | jq -c .jobs)"
if every_node_did_work; then ok work-spread-over-nodes; else fail work-spread-over-nodes "$(jobs_done_per_node)"; fi
# Nothing is left running or queued, no local slot is still held.
if wait_for 50 test "$(status_json | jq '.queued + .running + .local_used')" -eq 0; then
	ok nothing-left-held
else
	fail nothing-left-held "$(status_json | jq -c '{queued,running,local_used}')"
fi
# Many clients at once that go away mid-wait: their jobs are cancelled, the
# slots come back (no leak), and a later build still works.
pids=()
for k in $(seq 1 12); do
	(cd "$G" && as_user timeout -s KILL 1 "$T_BIN/dcc" gcc -O2 -c src/f$k.c -o "$G/ab$k.o" >/dev/null 2>&1) &
	pids+=($!)
done
wait "${pids[@]}" 2>/dev/null
if wait_for 300 test "$(status_json | jq '.queued + .running + .local_used + .clients')" -eq 0; then
	ok abandoned-clients-release-slots
else
	fail abandoned-clients-release-slots "$(status_json | jq -c '{queued,running,local_used,clients}')"
fi
rm -rf "$G/obj"
user_in "$G" make -j16 CC="$T_BIN/dcc gcc" CFLAGS="$FLAGS" >/dev/null 2>&1 && same_outputs "$G/ref" "$G/obj" &&
	ok build-after-abandoned-clients || fail build-after-abandoned-clients "build or objects"

t_done
