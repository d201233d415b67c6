#!/usr/bin/env bash
# link_clean.sh — the transport on a clean veth link (lib/link.h over
# link_io_packet): thousands of messages of 0 B..64 MiB on 16 streams, both
# directions at once; every message intact, once, in order on its stream;
# every link_send gets exactly one sent callback. Numbers printed as `#` lines.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
set -u
SF=$T_ROOT/scripts/simfarm
LP=$T_BUILD/tools/linkpeer
P=lk1-
TMP=$(mktemp -d /tmp/link-clean.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$SF" down --prefix "$P" -q >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { skip link-clean "needs root"; exit 0; }
[ -x "$LP" ] || { fail link-clean "$LP not built"; t_done; exit; }
# the sanitized build is several times slower: a smaller workload there
case $T_BUILD in *asan*) MSGS=1500 MAX=16M ;; *) MSGS=3000 MAX=64M ;; esac

get() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# show FILE LABEL: the numbers, as comments
show() {
	echo "# $2: $(grep -E '^(result|elapsed_ms|msgs_sent|bytes_sent|msgs_acked|msgs_failed|msgs_rx|bytes_rx|violations|link\.(retransmits|timeouts|drop_[a-z]+|srtt_us|cwnd|frames_tx|frames_rx)) ' "$1" | tr '\n' ' ')"
}

"$SF" up 1 --prefix "$P" -q || { fail link-clean "simfarm up failed"; t_done; exit; }
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
	if [ -z "$why" ]; then ok "clean-$name"; else fail "clean-$name" "$why"; fi
done
# the bytes one side sent are the bytes the other received
[ "$(get "$TMP/a" bytes_sent)" = "$(get "$TMP/b" bytes_rx)" ] && [ "$(get "$TMP/b" bytes_sent)" = "$(get "$TMP/a" bytes_rx)" ] &&
	ok clean-byte-totals || fail clean-byte-totals "sent/received byte totals differ"
t_done
