#!/usr/bin/env bash
# link_faults.sh — the transport through the fault forwarder (loss 5 %, duplication 2 %,
# reordering 25 %, corruption 1 % of frames, each direction) (lib/link.h over
# link_io_packet): thousands of messages of 0 B..64 MiB on 16 streams, both
# directions at once; every message intact, once, in order on its stream;
# every link_send gets exactly one sent callback. Numbers printed as `#` lines.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
set -u
SF=$T_ROOT/scripts/simfarm
LP=$T_BUILD/tools/linkpeer
P=lk2-
export SIMFARM_FAULTFWD=$T_BUILD/tools/faultfwd
FAULTS=loss=5,dup=2,reorder=25,corrupt=1,seed=${LINK_FAULT_SEED:-1}
TMP=$(mktemp -d /tmp/link-faults.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$SF" down --prefix "$P" -q >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { skip link-faults "needs root"; exit 0; }
[ -x "$LP" ] || { fail link-faults "$LP not built"; t_done; exit; }
# the sanitized build is several times slower: a smaller workload there
# (a few hundred MB in all: retransmissions make it several times the clean cost)
case $T_BUILD in *asan*) MSGS=600 MAX=16M ;; *) MSGS=1500 MAX=64M ;; esac

get() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# show FILE LABEL: the numbers, as comments
show() {
	echo "# $2: $(grep -E '^(result|elapsed_ms|msgs_sent|bytes_sent|msgs_acked|msgs_failed|msgs_rx|bytes_rx|violations|link\.(retransmits|timeouts|drop_[a-z]+|srtt_us|cwnd|frames_tx|frames_rx)) ' "$1" | tr '\n' ' ')"
}

"$SF" up 1 --prefix "$P" --faults "$FAULTS" -q || { fail link-faults "simfarm up failed"; t_done; exit; }
HIF=$("$SF" ifname hub 1 --prefix "$P")
common=(--msgs "$MSGS" --streams 16 --max-size "$MAX" --timeout-s 400 --quiet)
"$SF" exec node1 --prefix "$P" "$LP" --iface usb0 --ident node1 --seed 2 --peer-seed 1 "${common[@]}" >"$TMP/b" 2>"$TMP/b.err" &
PIDS+=($!)
"$SF" exec hub --prefix "$P" "$LP" --iface "$HIF" --ident hub --seed 1 --peer-seed 2 "${common[@]}" >"$TMP/a" 2>"$TMP/a.err"
ra=$?
wait "${PIDS[0]}"
rb=$?
PIDS=()
show "$TMP/a" hub
show "$TMP/b" node
for side in a b; do
	f=$TMP/$side why=""
	[ "$(get "$f" result)" = ok ] || why+=" result $(get "$f" result);"
	[ "$(get "$f" violations)" = 0 ] || why+=" $(get "$f" violations) violations: $(head -c 600 "$f.err");"
	[ "$(get "$f" msgs_rx)" = "$MSGS" ] || why+=" received $(get "$f" msgs_rx) of $MSGS;"
	[ "$(get "$f" msgs_acked)" = "$MSGS" ] || why+=" acknowledged $(get "$f" msgs_acked) of $MSGS;"
	[ "$(get "$f" msgs_failed)" = 0 ] || why+=" $(get "$f" msgs_failed) failed;"
	[ "$(get "$f" sessions)" = 1 ] || why+=" $(get "$f" sessions) sessions;"
	name=hub-to-node; [ $side = b ] && name=node-to-hub
	[ $side = a ] && rc=$ra || rc=$rb
	[ "$rc" = 0 ] || why+=" exit $rc;"
	if [ -z "$why" ]; then ok "faults-$name"; else fail "faults-$name" "$why"; fi
done
# what the forwarder did to the frames
FW=/run/usbfarm-simfarm/$P/fw1.stats
kill -USR1 "$(cat "/run/usbfarm-simfarm/$P/fw1.pid")" 2>/dev/null
sleep 0.3
echo "# forwarder: $(grep -E '^(a2b|b2a)\.(rx_ours|dropped|duplicated|reordered|corrupted|kernel_drops) ' "$FW" | tr '\n' ' ')"
# the faults really happened, and the transport saw them
why=""
for d in a2b b2a; do
	for c in dropped duplicated reordered corrupted; do
		[ "$(get "$FW" "$d.$c")" -gt 0 ] || why+=" forwarder $d $c nothing;"
	done
done
[ "$(get "$TMP/a" link.retransmits)" -gt 0 ] || why+=" hub never retransmitted;"
[ $(( $(get "$TMP/a" link.drop_crc) + $(get "$TMP/b" link.drop_crc) )) -gt 0 ] || why+=" no corrupted frame was caught by the checksum;"
[ $(( $(get "$TMP/a" link.drop_dup) + $(get "$TMP/b" link.drop_dup) )) -gt 0 ] || why+=" no duplicate frame was dropped;"
[ -z "$why" ] && ok faults-injected-and-seen || fail faults-injected-and-seen "$why"
# the bytes one side sent are the bytes the other received
[ "$(get "$TMP/a" bytes_sent)" = "$(get "$TMP/b" bytes_rx)" ] && [ "$(get "$TMP/b" bytes_sent)" = "$(get "$TMP/a" bytes_rx)" ] &&
	ok faults-byte-totals || fail faults-byte-totals "sent/received byte totals differ"
t_done
