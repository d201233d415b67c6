#!/usr/bin/env bash
# link_restart.sh — the peer restarts mid-transfer: the board's linkpeer dies
# (_exit, no goodbye) after 4 MB received and a new one starts on the same
# interface. The hub end must see the new boot epoch (down with -ESTALE, not a
# timeout: its dead_ms is set far above the restart time), fail every message
# it had in flight through the sent callback (counted, all with -ESTALE, none
# left unresolved), and complete the whole workload in the new session.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
set -u
NAME=restart P=lk3-
source "$T_ROOT/tests/lib/link.sh"
case $T_BUILD in *asan*) MSGS=600 MAX=16M ;; *) MSGS=1500 MAX=64M ;; esac
KEYS='result|sessions|downs|last_down|msgs_sent|msgs_acked|msgs_failed|failed_[a-z]+|msgs_unresolved|msgs_rx|violations|link\.(retransmits|drop_stale|sessions|epoch_changes)'

"$SF" up 1 --prefix "$P" -q || { fail link-restart "simfarm up failed"; t_done; exit; }
HIF=$("$SF" ifname hub 1 --prefix "$P")
common=(--msgs "$MSGS" --streams 16 --max-size "$MAX" --timeout-s 400 --dead-ms 60000)
"$SF" exec hub --prefix "$P" "$LP" --iface "$HIF" --ident hub --seed 1 --peer-seed 2 --restart-ok --window 100M "${common[@]}" >"$TMP/a" 2>"$TMP/a.err" &
A=$!
PIDS+=($A)
# the first board process: dies mid-transfer
"$SF" exec node1 --prefix "$P" "$LP" --iface usb0 --ident node1 --seed 2 --peer-seed 1 --die-after-rx 4M "${common[@]}" >"$TMP/b1" 2>"$TMP/b1.err"
rb1=$?
[ $rb1 -eq 9 ] && ok restart-first-peer-died-mid-transfer || fail restart-first-peer-died-mid-transfer "exit $rb1, expected 9 (--die-after-rx): $(tail -n 3 "$TMP/b1.err")"
# the board comes back: a new process, a new boot epoch
"$SF" exec node1 --prefix "$P" "$LP" --iface usb0 --ident node1 --seed 2 --peer-seed 1 "${common[@]}" >"$TMP/b2" 2>"$TMP/b2.err"
rb2=$?
wait $A
ra=$?
PIDS=()
show "$TMP/a" hub "$KEYS"
show "$TMP/b2" "node (restarted)" "$KEYS"
grep -h 'session\|VIOLATION' "$TMP/a.err" | sed 's/^/# /' | head -n 10

why=""
[ "$(get "$TMP/a" link.epoch_changes)" -ge 1 ] 2>/dev/null || why+=" no epoch change counted;"
[ "$(get "$TMP/a" last_down)" = -116 ] || why+=" the session ended with $(get "$TMP/a" last_down), not -ESTALE (-116);"
[ "$(get "$TMP/a" downs)" = 1 ] || why+=" $(get "$TMP/a" downs) session ends, expected 1;"
[ -z "$why" ] && ok restart-detected-by-epoch || fail restart-detected-by-epoch "$why"

why=""
failed=$(get "$TMP/a" msgs_failed)
[ "${failed:-0}" -ge 1 ] || why+=" no message failed (nothing was in flight?);"
[ "$(get "$TMP/a" failed_estale)" = "$failed" ] || why+=" not all failures carry -ESTALE;"
[ "$(get "$TMP/a" msgs_unresolved)" = 0 ] || why+=" $(get "$TMP/a" msgs_unresolved) messages never got a sent callback;"
[ "$(get "$TMP/a" violations)" = 0 ] || why+=" violations: $(grep VIOLATION "$TMP/a.err" | head -n 3);"
# every link_send: acknowledged (first session + second) or failed
[ $(( $(get "$TMP/a" msgs_acked) + failed )) -eq "$(get "$TMP/a" msgs_sent)" ] || why+=" acked+failed != sent;"
[ -z "$why" ] && ok restart-in-flight-failed-cleanly || fail restart-in-flight-failed-cleanly "$why"
echo "# hub: $failed messages in flight failed with -ESTALE when the board restarted"

why=""
[ $ra -eq 0 ] && [ "$(get "$TMP/a" result)" = ok ] || why+=" hub exit $ra result $(get "$TMP/a" result);"
[ "$(get "$TMP/a" sessions)" = 2 ] || why+=" hub saw $(get "$TMP/a" sessions) sessions;"
[ "$(get "$TMP/a" this_session_rx)" = "$MSGS" ] || why+=" hub got $(get "$TMP/a" this_session_rx) of $MSGS in the new session;"
[ "$(get "$TMP/a" this_session_acked)" = "$MSGS" ] || why+=" hub had $(get "$TMP/a" this_session_acked) of $MSGS acknowledged in the new session;"
[ $rb2 -eq 0 ] && [ "$(get "$TMP/b2" result)" = ok ] || why+=" restarted board exit $rb2 result $(get "$TMP/b2" result): $(grep -m3 VIOLATION "$TMP/b2.err");"
[ "$(get "$TMP/b2" sessions)" = 1 ] || why+=" restarted board saw $(get "$TMP/b2" sessions) sessions;"
[ -z "$why" ] && ok restart-new-session-works || fail restart-new-session-works "$why"
t_done
