#!/usr/bin/env bash
# farm_lib.sh — the half of the farm library (scripts/lib/farm.sh) that the
# demo and the benchmarks use, as they use it: a 2-node farm up, usbfarm's
# daemons started, both sessions up, a compile through dcc whose object is
# the local one, every daemon ended by farm_stop_daemons, the farm gone
# after farm_down.
# timeout: 240
set -u -o pipefail
. "$(dirname "$0")/../lib/sh.sh"
. "$T_ROOT/scripts/lib/farm.sh"

[ "$(id -u)" -eq 0 ] || { skip farm_lib "needs root (namespaces, raw sockets)"; exit 0; }
BIN=$T_BIN	# the build under test (the demo uses build/bin)
for b in hubd noded dcc hubctl; do
	[ -x "$BIN/$b" ] || { fail farm_lib "$BIN/$b not built"; t_done; exit; }
done
getent group usbfarm >/dev/null || groupadd -r usbfarm
getent passwd usbfarm >/dev/null ||
	useradd -r -g usbfarm -M -d /nonexistent -s /usr/sbin/nologin usbfarm
P=fl-
W=$(mktemp -d /tmp/farm_lib.XXXXXX)
chmod 0755 "$W"
SOCK=$W/run/hubd.sock
trap 'farm_stop_daemons; farm_down "$P"; rm -rf "$W"' EXIT

farm_down "$P"
if farm_up "$P" 2 "" >/dev/null; then ok farm_up; else fail farm_up "simfarm up failed"; fi
farm_start_usbfarm "$P" 2 1 "$SOCK" "$W"
if farm_wait_up "$SOCK" 2; then ok both_nodes_up; else fail both_nodes_up "$(tail -n 3 "$W/hubd.log" | tr '\n' '|')"; fi
[ "$(farm_nodes_up "$SOCK")" -eq 2 ] && ok nodes_counted || fail nodes_counted "$(farm_nodes_up "$SOCK")"
mkdir -p "$W/src"
printf 'int twice(int x) { return 2 * x; }\n' >"$W/src/a.c"
( cd "$W/src" && gcc -O2 -c a.c -o local.o &&
  USBFARM_SOCKET=$SOCK DCC_VERBOSE=1 "$BIN/dcc" gcc -O2 -c a.c -o farm.o 2>"$W/dcc.err" )
if cmp -s "$W/src/local.o" "$W/src/farm.o" && grep -q "compiled on" "$W/dcc.err"; then
	ok compiled_on_the_farm
else
	fail compiled_on_the_farm "$(tr '\n' '|' <"$W/dcc.err")"
fi
pids=("${FARM_PIDS[@]}")
farm_stop_daemons
alive=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
[ ${#pids[@]} -eq 3 ] && [ $alive -eq 0 ] && ok daemons_stopped ||
	fail daemons_stopped "${#pids[@]} started, $alive alive"
farm_down "$P"
ip netns list | grep -q "^${SIMFARM_TAG:-}${P}" && fail farm_down "namespaces left" || ok farm_down
t_done
