#!/usr/bin/env bash
# faultfwd_counts.sh — the fault forwarder does what it is told: on a few
# thousand frames each way its counters match the configured rates (within
# 5 standard deviations of the binomial), and what the far end receives
# matches its counters exactly. Asserts on counts only, never on time.
# timeout: 180
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
set -u
. "$T_ROOT/scripts/lib/farm.sh"	# SIMFARM
LF=$T_BUILD/tools/linkframes
P=tf1-
N=4000
TMP=$(mktemp -d /tmp/faultfwd-test.XXXXXX)
export SIMFARM_FAULTFWD=$T_BUILD/tools/faultfwd
cleanup() { "$SIMFARM" down --prefix "$P" -q >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { skip faultfwd "needs root"; exit 0; }
[ -x "$LF" ] && [ -x "$SIMFARM_FAULTFWD" ] || { fail faultfwd "tools not built (run make)"; t_done; exit; }

# get FILE KEY: the value of KEY in a `key value` file
get() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# run_both SEED: N frames hub->node and node->hub at the same time; receiver
# reports in $TMP/{down,up}.txt, forwarder counters in $TMP/fw.stats.
run_both() {
	local seed=$1 hif r1 r2 rc=0
	hif=$("$SIMFARM" ifname hub 1 --prefix "$P")
	"$SIMFARM" exec node1 --prefix "$P" "$LF" recv --iface usb0 --seed "$seed" >"$TMP/down.txt" &
	r1=$!
	"$SIMFARM" exec hub --prefix "$P" "$LF" recv --iface "$hif" --seed "$((seed + 1))" >"$TMP/up.txt" &
	r2=$!
	sleep 0.3 # both receivers bound (frames sent before would only count as missing)
	"$SIMFARM" exec hub --prefix "$P" "$LF" send --iface "$hif" --count "$N" --seed "$seed" >/dev/null &
	local s1=$!
	"$SIMFARM" exec node1 --prefix "$P" "$LF" send --iface usb0 --count "$N" --seed "$((seed + 1))" >/dev/null || rc=1
	wait "$s1" || rc=1
	wait "$r1" || rc=1
	wait "$r2" || rc=1
	local pid
	pid=$(cat "/run/usbfarm-simfarm/${SIMFARM_TAG:-}$P/fw1.pid")
	rm -f "/run/usbfarm-simfarm/${SIMFARM_TAG:-}$P/fw1.stats"
	kill -USR1 "$pid"
	for _ in $(seq 100); do [ -s "/run/usbfarm-simfarm/${SIMFARM_TAG:-}$P/fw1.stats" ] && break; sleep 0.05; done
	cp "/run/usbfarm-simfarm/${SIMFARM_TAG:-}$P/fw1.stats" "$TMP/fw.stats"
	return $rc
}

# within NAME COUNT TOTAL PCT: COUNT is within 5 sd of TOTAL*PCT/100
within() {
	awk -v c="$2" -v n="$3" -v p="$4" 'BEGIN {
		p /= 100; m = n * p; sd = sqrt(n * p * (1 - p));
		exit !(c >= m - 5 * sd - 1 && c <= m + 5 * sd + 1) }'
}

# verify CASE DIR RECVFILE LOSS DUP REORDER CORRUPT
verify() {
	local c=$1 d=$2 f=$3 loss=$4 dup=$5 reo=$6 cor=$7 s=$TMP/fw.stats why=""
	local rx dropped duplicated reordered corrupted kdrops
	rx=$(get "$s" "$d.rx_ours") dropped=$(get "$s" "$d.dropped")
	duplicated=$(get "$s" "$d.duplicated") reordered=$(get "$s" "$d.reordered")
	corrupted=$(get "$s" "$d.corrupted") kdrops=$(get "$s" "$d.kernel_drops")
	local sent frames intact dups corrupt reord
	sent=$(get "$f" sent) frames=$(get "$f" frames) intact=$(get "$f" intact)
	dups=$(get "$f" dups) corrupt=$(get "$f" corrupt) reord=$(get "$f" reordered)
	echo "# $c $d: sent=$sent fw: rx=$rx dropped=$dropped duplicated=$duplicated reordered=$reordered corrupted=$corrupted kernel_drops=$kdrops; far end: frames=$frames intact=$intact dups=$dups corrupt=$corrupt reordered=$reord"
	[ "$sent" = "$N" ] || why+=" sender says $sent sent;"
	[ "$kdrops" = 0 ] || why+=" kernel dropped $kdrops frames at the forwarder;"
	[ "$rx" = "$N" ] || why+=" forwarder saw $rx of $N;"
	[ "$frames" -eq $((N - dropped + duplicated)) ] || why+=" far end got $frames frames, expected N-dropped+duplicated=$((N - dropped + duplicated));"
	[ "$intact" -eq $((N - dropped - corrupted)) ] || why+=" intact $intact != N-dropped-corrupted=$((N - dropped - corrupted));"
	[ $((corrupt + dups)) -eq $((corrupted + duplicated)) ] || why+=" corrupt+dups $((corrupt + dups)) != corrupted+duplicated $((corrupted + duplicated));"
	within loss "$dropped" "$N" "$loss" || why+=" dropped $dropped not ~$loss% of $N;"
	within dup "$duplicated" $((N - dropped)) "$dup" || why+=" duplicated $duplicated not ~$dup%;"
	within reorder "$reordered" $((N - dropped)) "$reo" || why+=" reordered $reordered not ~$reo%;"
	within corrupt "$corrupted" $((N - dropped)) "$cor" || why+=" corrupted $corrupted not ~$cor%;"
	if [ "$reo" != 0 ]; then
		[ "$reord" -gt 0 ] || why+=" far end saw nothing out of order;"
	else
		[ "$reord" -eq 0 ] || why+=" far end saw $reord out of order with reorder=0;"
	fi
	if [ -z "$why" ]; then ok "$c-$d"; else fail "$c-$d" "$why"; fi
}

# 1. no faults: a transparent wire
if "$SIMFARM" up 1 --prefix "$P" --faults loss=0,seed=1 -q && run_both 11; then
	verify clean a2b "$TMP/down.txt" 0 0 0 0
	verify clean b2a "$TMP/up.txt" 0 0 0 0
	pt=$(get "$TMP/fw.stats" a2b.passthrough)
	echo "# clean: other frames passed through untouched: a2b $pt"
else
	fail clean "farm or transfer failed"
fi

# 2. the faults of the link tests
if "$SIMFARM" up 1 --prefix "$P" --force --faults loss=5,dup=2,reorder=25,corrupt=1,seed=7 -q && run_both 21; then
	verify faults a2b "$TMP/down.txt" 5 2 25 1
	verify faults b2a "$TMP/up.txt" 5 2 25 1
	cp "$TMP/fw.stats" "$TMP/fw-first.stats"
else
	fail faults "farm or transfer failed"
fi

# 3. the same seed and the same frames: the same fates
if "$SIMFARM" up 1 --prefix "$P" --force --faults loss=5,dup=2,reorder=25,corrupt=1,seed=7 -q && run_both 21; then
	if diff <(grep -E 'dropped|duplicated|reordered|corrupted' "$TMP/fw-first.stats") \
		<(grep -E 'dropped|duplicated|reordered|corrupted' "$TMP/fw.stats") >/dev/null; then
		ok seeded-repeatable
	else
		fail seeded-repeatable "counters differ between two runs with seed 7"
	fi
else
	fail seeded-repeatable "farm or transfer failed"
fi

# 4. heavy loss and delay: rates still right, the delay line keeps order
if "$SIMFARM" up 1 --prefix "$P" --force --faults loss=30,delay=20,seed=3 -q && run_both 31; then
	verify lossy-delay a2b "$TMP/down.txt" 30 0 0 0
	d=$(get "$TMP/fw.stats" a2b.delayed) dr=$(get "$TMP/fw.stats" a2b.dropped)
	[ "$d" -eq $((N - dr)) ] && ok lossy-delay-counted || fail lossy-delay-counted "delayed $d, expected $((N - dr))"
else
	fail lossy-delay "farm or transfer failed"
fi

# 5. SIGTERM writes the final counters
pid=$(cat "/run/usbfarm-simfarm/${SIMFARM_TAG:-}$P/fw1.pid" 2>/dev/null || echo)
"$SIMFARM" down --prefix "$P" -q
for _ in $(seq 50); do [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || break; sleep 0.1; done
if [ -n "$pid" ] && { ! [ -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; } && grep -q "^a2b.rx_ours $N\$" "/run/usbfarm-simfarm/.last/${SIMFARM_TAG:-}${P}fw1.stats"; then
	ok final-counters-on-sigterm
else
	fail final-counters-on-sigterm "forwarder still running or no final counters"
fi
t_done
