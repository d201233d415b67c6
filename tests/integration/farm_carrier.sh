#!/usr/bin/env bash
# farm_carrier.sh — a board unplugged mid-job: netlink's carrier-down ends
# that node's session at once (not at the keepalive deadline), its running
# job fails over and the build still gives the local objects; plugged back
# in, the node is enrolled again with a new session and gets work.
# timeout: 300
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=fc1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 2
DCC=$T_BIN/dcc
S=$FARM_TMP/slow
mkdir -p "$S/ref"
# Four sources that take a few seconds each to compile (long enough to
# pull the carrier under one), warning-free; the references in parallel.
for f in 1 2 3 4; do
	python3 - "$f" >"$S/s$f.c" <<'PY'
import sys
seed = int(sys.argv[1])
print("int f0(int *a, int n) { return n ? a[0] : 0; }")
for i in range(1, 250):
    print(f"int f{i}(int *a, int n) {{ int s = {seed}; for (int k = 0; k < n; k++) "
          f"{{ s += a[k] * {i} ^ (s >> 3); a[k] = s; }} return s + f{i-1}(a, n - 1); }}")
PY
	(cd "$S" && gcc -O2 -g -c "s$f.c" -o "ref/s$f.o") &
done
wait
cat >"$S/Makefile" <<'MK'
all: obj/s1.o obj/s2.o obj/s3.o obj/s4.o
obj/%.o: %.c
	@mkdir -p obj
	$(CC) -O2 -g -c $< -o $@
MK

start_noded 1 --slots 1
start_noded 2 --slots 1
start_hubd --local-slots 0
if ! wait_for 150 nodes_up 2; then
	fail carrier-farm-up "the nodes did not come up"
	exit 1
fi
ok carrier-farm-up

node_field() { status_json | jq -r ".nodes[] | select(.name == \"$1\") | .$2"; }
node1_busy() { [ "$(node_field node1 running)" -gt 0 ]; }
node1_back() { nodes_up 2 && [ "$(node_field node1 sessions)" -ge 2 ]; }

user_in "$S" make -j4 CC="$DCC gcc" >"$FARM_TMP/build1.log" 2>&1 &
make_pid=$!
if wait_for 300 node1_busy; then
	ip -n "${SIMFARM_TAG:-}${FARM_PREFIX}node1" link set usb0 down
	ok carrier-pulled-while-node1-busy
else
	fail carrier-pulled-while-node1-busy "node1 never ran a job"
fi
if wait "$make_pid"; then ok carrier-build-succeeds; else fail carrier-build-succeeds "$(tail -n 3 "$FARM_TMP/build1.log")"; fi
same=1
for f in 1 2 3 4; do cmp -s "$S/ref/s$f.o" "$S/obj/s$f.o" || same=0; done
[ $same = 1 ] && ok carrier-objects-identical || fail carrier-objects-identical "objects differ from the local build"

hif=$("$SF" ifname --prefix "$FARM_PREFIX" hub 1)
if grep -q "$hif: carrier down: ending the session now" "$FARM_TMP/hubd.log"; then
	ok carrier-down-ends-session-at-once
else
	fail carrier-down-ends-session-at-once "hubd did not act on the carrier event: $(grep "$hif" "$FARM_TMP/hubd.log" | tail -n 3 | tr '\n' '|')"
fi
if grep -q "node node1 down: Network is down" "$FARM_TMP/hubd.log" &&
	! grep -q "node node1 down: Connection timed out" "$FARM_TMP/hubd.log"; then
	ok carrier-not-keepalive-timeout
else
	fail carrier-not-keepalive-timeout "$(grep 'node1 down' "$FARM_TMP/hubd.log" | tr '\n' '|')"
fi
if grep -q "retrying (1/2) after $hif\|retrying (1/2) after node1" "$FARM_TMP/hubd.log"; then
	ok carrier-running-job-failed-over
else
	fail carrier-running-job-failed-over "no retry logged for node1's job"
fi

# Plug it back in: a new session, and node1 gets work again.
ip -n "${SIMFARM_TAG:-}${FARM_PREFIX}node1" link set usb0 up
if wait_for 150 node1_back; then
	ok carrier-replug-new-session
else
	fail carrier-replug-new-session "node1: state $(node_field node1 state), sessions $(node_field node1 sessions)"
fi
before=$(node_field node1 jobs_done)
rm -rf "$S/obj"
if user_in "$S" make -j4 CC="$DCC gcc" >"$FARM_TMP/build2.log" 2>&1 &&
	[ "$(node_field node1 jobs_done)" -gt "$before" ]; then
	ok carrier-replugged-node-works
else
	fail carrier-replugged-node-works "node1 jobs_done $before -> $(node_field node1 jobs_done)"
fi
t_done
