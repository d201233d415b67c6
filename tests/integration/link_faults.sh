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
NAME=faults P=lk2-
source "$T_ROOT/tests/lib/link.sh"
export SIMFARM_FAULTFWD=$T_BUILD/tools/faultfwd
FAULTS=loss=5,dup=2,reorder=25,corrupt=1,seed=${LINK_FAULT_SEED:-1}
# the sanitized build is several times slower: a smaller workload there
# (a few hundred MB in all: retransmissions make it several times the clean cost)
case $T_BUILD in *asan*) MSGS=600 MAX=16M ;; *) MSGS=1500 MAX=64M ;; esac

"$SF" up 1 --prefix "$P" --faults "$FAULTS" -q || { fail link-faults "simfarm up failed"; t_done; exit; }
pair_run "$MSGS" "$MAX"
pair_check faults "$MSGS"
# what the forwarder did to the frames
FW=/run/usbfarm-simfarm/${SIMFARM_TAG:-}$P/fw1.stats
kill -USR1 "$(cat "/run/usbfarm-simfarm/${SIMFARM_TAG:-}$P/fw1.pid")" 2>/dev/null
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
t_done
