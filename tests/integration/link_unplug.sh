#!/usr/bin/env bash
# link_unplug.sh — the cable is pulled mid-transfer: the veth pair is deleted
# while both ends are busy. Each end's link must go down (device gone), fail
# every message it had in flight through the sent callback (none left
# unresolved, no violation) and the tool must end (no hang). Twice: with the
# transport on its own (it must notice from the socket), and with the tool
# also watching rtnetlink and calling link_reset() as hubd/noded do.
# timeout: 300
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
set -u
NAME=unplug P=lk4-
source "$T_ROOT/tests/lib/link.sh"
KEYS='result|sessions|downs|spurious_downs|last_down|msgs_sent|msgs_acked|msgs_failed|failed_[a-z]+|msgs_unresolved|msgs_rx|violations'
# alive PID: still running (not a zombie)
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# unplug CASE [linkpeer options]
unplug() {
	local c=$1 a b ra rb why t
	shift
	rm -f "$TMP"/*
	"$SF" up 1 --prefix "$P" --force -q || { fail "$c" "simfarm up failed"; return; }
	local hif
	hif=$("$SF" ifname hub 1 --prefix "$P")
	local common=(--msgs 100000 --streams 16 --max-size 8M --timeout-s 200 --exit-on-down "$@")
	"$SF" exec node1 --prefix "$P" "$LP" --iface usb0 --ident node1 --seed 2 --peer-seed 1 \
		--mark-after-rx "8M:$TMP/mark" "${common[@]}" >"$TMP/b" 2>"$TMP/b.err" &
	b=$!
	"$SF" exec hub --prefix "$P" "$LP" --iface "$hif" --ident hub --seed 1 --peer-seed 2 \
		--window 64M "${common[@]}" >"$TMP/a" 2>"$TMP/a.err" &
	a=$!
	PIDS=($a $b)
	# mid-transfer: once the board has 8 MB of messages
	for t in $(seq 600); do [ -e "$TMP/mark" ] && break; alive $a && alive $b || break; sleep 0.1; done
	if ! [ -e "$TMP/mark" ]; then
		fail "$c" "the transfer never got going: $(tail -n 3 "$TMP/a.err" "$TMP/b.err")"
		return
	fi
	ip -n "${SIMFARM_TAG:-}${P}hub" link del "$hif"
	# no hang: both must end on their own (generous: a timeout-based detection takes dead_ms)
	for t in $(seq 300); do alive $a || alive $b || break; sleep 0.1; done
	if alive $a || alive $b; then
		fail "$c-no-hang" "still running 30 s after the unplug: hub $(alive $a && echo yes || echo no), board $(alive $b && echo yes || echo no)"
		return
	fi
	wait $a; ra=$?
	wait $b; rb=$?
	PIDS=()
	ok "$c-no-hang"
	show "$TMP/a" "$c hub" "$KEYS"
	show "$TMP/b" "$c board" "$KEYS"
	grep -h 'down\|dead\|rtnetlink' "$TMP/a.err" "$TMP/b.err" | sed 's/^/# /' | head -n 6
	for side in a b; do
		local f=$TMP/$side name=hub rc=$ra r
		[ $side = b ] && name=board rc=$rb
		why=""
		[ $rc -eq 3 ] && [ "$(get "$f" result)" = down ] || why+=" exit $rc result $(get "$f" result);"
		r=$(get "$f" last_down)
		case $r in -100|-19|-6) ;; *) why+=" down reason $r, expected device down/gone (-ENETDOWN -100, -ENODEV -19, -ENXIO -6);" ;; esac
		[ "$(get "$f" msgs_unresolved)" = 0 ] || why+=" $(get "$f" msgs_unresolved) messages never got a sent callback;"
		[ "$(get "$f" violations)" = 0 ] || why+=" violations: $(grep -m3 VIOLATION "$f.err");"
		[ $(( $(get "$f" msgs_acked) + $(get "$f" msgs_failed) )) -eq "$(get "$f" msgs_sent)" ] || why+=" acked+failed != sent;"
		# `down` ends a session: once per session, never while handshaking
		[ "$(get "$f" spurious_downs)" = 0 ] || why+=" down called $(get "$f" downs) times for $(get "$f" sessions) session(s) ($(get "$f" spurious_downs) while not up);"
		if [ $side = a ]; then
			[ "$(get "$f" msgs_failed)" -ge 1 ] || why+=" nothing in flight failed;"
		fi
		if [ -z "$why" ]; then ok "$c-$name-failed-cleanly"; else fail "$c-$name-failed-cleanly" "$why"; fi
	done
	echo "# $c: in flight and failed: hub $(get "$TMP/a" msgs_failed), board $(get "$TMP/b" msgs_failed)"
}

unplug unplug-transport
unplug unplug-netlink --watch-carrier
t_done
