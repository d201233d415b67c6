# link.sh — shared by the link_*.sh integration tests: one virtual link
# (simfarm prefix $P) with tests/tools/linkpeer at its ends. Source after
# sh.sh with NAME (the test's short name) and P (its simfarm prefix) set.
. "$T_ROOT/scripts/lib/farm.sh"	# SF: simfarm
LP=$T_BUILD/tools/linkpeer
TMP=$(mktemp -d "/tmp/link-$NAME.XXXXXX")
PIDS=()
link_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$SF" down --prefix "$P" -q >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap link_cleanup EXIT
[ "$(id -u)" -eq 0 ] || { skip "link-$NAME" "needs root"; exit 0; }
[ -x "$LP" ] || { fail "link-$NAME" "$LP not built"; t_done; exit; }

# get FILE KEY: a value from linkpeer's `key value` report
get() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# show FILE LABEL [KEYS]: the numbers, as comments (KEYS: an ERE of report keys)
SHOW_KEYS='result|elapsed_ms|msgs_sent|bytes_sent|msgs_acked|msgs_failed|msgs_rx|bytes_rx|violations|link\.(retransmits|timeouts|drop_[a-z]+|srtt_us|cwnd|frames_tx|frames_rx)'
show() {
	echo "# $2: $(grep -E "^(${3:-$SHOW_KEYS}) " "$1" | tr '\n' ' ')"
}

# pair_run MSGS MAX: the symmetric workload, both directions at once on 16
# streams; the hub end's report in $TMP/a, the board's in $TMP/b, their exit
# codes in RA and RB.
pair_run() {
	local hif common
	hif=$("$SF" ifname hub 1 --prefix "$P")
	common=(--msgs "$1" --streams 16 --max-size "$2" --timeout-s 400 --quiet)
	"$SF" exec node1 --prefix "$P" "$LP" --iface usb0 --ident node1 --seed 2 --peer-seed 1 \
		"${common[@]}" >"$TMP/b" 2>"$TMP/b.err" &
	PIDS+=($!)
	"$SF" exec hub --prefix "$P" "$LP" --iface "$hif" --ident hub --seed 1 --peer-seed 2 \
		"${common[@]}" >"$TMP/a" 2>"$TMP/a.err"
	RA=$?
	wait "${PIDS[0]}"
	RB=$?
	PIDS=()
	show "$TMP/a" hub
	show "$TMP/b" node
}

# pair_check CASE MSGS: each direction delivered every message intact, once,
# in order, in one session, every send acknowledged; then the byte totals.
pair_check() {
	local case=$1 msgs=$2 side f why name rc
	for side in a b; do
		f=$TMP/$side why=""
		[ "$(get "$f" result)" = ok ] || why+=" result $(get "$f" result);"
		[ "$(get "$f" violations)" = 0 ] || why+=" $(get "$f" violations) violations: $(head -c 600 "$f.err");"
		[ "$(get "$f" msgs_rx)" = "$msgs" ] || why+=" received $(get "$f" msgs_rx) of $msgs;"
		[ "$(get "$f" msgs_acked)" = "$msgs" ] || why+=" acknowledged $(get "$f" msgs_acked) of $msgs;"
		[ "$(get "$f" msgs_failed)" = 0 ] || why+=" $(get "$f" msgs_failed) failed;"
		[ "$(get "$f" sessions)" = 1 ] || why+=" $(get "$f" sessions) sessions;"
		name=hub-to-node; [ $side = b ] && name=node-to-hub
		[ $side = a ] && rc=$RA || rc=$RB
		[ "$rc" = 0 ] || why+=" exit $rc;"
		if [ -z "$why" ]; then ok "$case-$name"; else fail "$case-$name" "$why"; fi
	done
	# the bytes one side sent are the bytes the other received
	[ "$(get "$TMP/a" bytes_sent)" = "$(get "$TMP/b" bytes_rx)" ] &&
		[ "$(get "$TMP/b" bytes_sent)" = "$(get "$TMP/a" bytes_rx)" ] &&
		ok "$case-byte-totals" || fail "$case-byte-totals" "sent/received byte totals differ"
}
