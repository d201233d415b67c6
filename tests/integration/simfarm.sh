#!/usr/bin/env bash
# simfarm.sh — the virtual farm: up/exec/ifname/status/down, shaping, CPU
# caps, the fault forwarder's plumbing, cleanup after failures, two farms side
# by side.
# timeout: 180
source "$(dirname "$0")/../lib/sh.sh"
set -u
. "$T_ROOT/scripts/lib/farm.sh"	# SF: simfarm
LF=$T_BUILD/tools/linkframes
export SIMFARM_FAULTFWD=$T_BUILD/tools/faultfwd
P1=ts1- P2=ts2-
TMP=$(mktemp -d /tmp/simfarm-test.XXXXXX)
cleanup() {
	"$SF" down --prefix "$P1" -q >/dev/null 2>&1 || true
	"$SF" down --prefix "$P2" -q >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { skip simfarm "needs root"; exit 0; }

ns_exists() { [ -e "/run/netns/$1" ]; }
# nothing_left P: no namespace, cgroup or state of prefix P remains
nothing_left() {
	local p=$1
	! ip netns list | awk '{print $1}' | grep -q "^${SIMFARM_TAG:-}$p" &&
		! [ -e "/sys/fs/cgroup/cpu/${SIMFARM_TAG:-}${p}farm" ] &&
		! [ -e "/run/usbfarm-simfarm/${SIMFARM_TAG:-}$p" ]
}

# --- bad arguments create nothing
bad=0
for args in "up 0" "up 2 --rate fast" "up 2 --faults loss=5,jitter=3" "up 2 --faults loss=500" \
	"up 2 --cpu 0" "up 2 --mtu 10" "frobnicate" "up 2 --faults-node 3 loss=1"; do
	# shellcheck disable=SC2086
	if "$SF" $args --prefix "$P1" >/dev/null 2>&1; then bad=1; echo "# accepted: $args"; fi
done
for pfx in 'BAD!' 'much-too-long-' ''; do
	if "$SF" up 1 --prefix "$pfx" >/dev/null 2>&1; then bad=1; echo "# accepted prefix '$pfx'"; "$SF" down --prefix "$pfx" -q; fi
done
[ $bad -eq 0 ] && nothing_left "$P1" && ok rejects-bad-arguments || fail rejects-bad-arguments "a bad command line was accepted or left something"

"$SF" --help | grep -q '^SYNOPSIS' && ok help || fail help "no man page"

# --- up: namespaces, links, shaping, cgroups
if "$SF" up 2 --prefix "$P1" --rate 100mbit --cpu 30 -q; then
	ok up
else
	fail up "simfarm up failed"
fi
why=""
for n in hub node1 node2; do ns_exists "${SIMFARM_TAG:-}$P1$n" || why+=" no namespace $P1$n;"; done
[ "$("$SF" ifname hub 2 --prefix "$P1")" = "${SIMFARM_TAG:-}${P1}n2" ] || why+=" ifname hub 2 is not ${SIMFARM_TAG:-}${P1}n2;"
[ "$("$SF" ifname node 2 --prefix "$P1")" = usb0 ] || why+=" ifname node 2 is not usb0;"
[ "$("$SF" nodes --prefix "$P1")" = 2 ] || why+=" nodes is not 2;"
for i in 1 2; do
	h=$(ip -n "${SIMFARM_TAG:-}${P1}hub" -o link show "${SIMFARM_TAG:-}${P1}n$i" 2>/dev/null)
	u=$(ip -n "${SIMFARM_TAG:-}${P1}node$i" -o link show usb0 2>/dev/null)
	case $h in *"mtu 1500"*"state UP"*) ;; *) why+=" hub side of link $i: $h;" ;; esac
	case $u in *"mtu 1500"*"state UP"*) ;; *) why+=" node side of link $i: $u;" ;; esac
	[ -z "$(ip -n "${SIMFARM_TAG:-}${P1}hub" -o addr show dev "${SIMFARM_TAG:-}${P1}n$i")" ] || why+=" hub side of link $i has addresses;"
	[ -z "$(ip -n "${SIMFARM_TAG:-}${P1}node$i" -o addr show dev usb0)" ] || why+=" node $i has addresses;"
done
[ -z "$why" ] && ok links || fail links "$why"

why=""
for i in 1 2; do
	tc -n "${SIMFARM_TAG:-}${P1}hub" qdisc show dev "${SIMFARM_TAG:-}${P1}n$i" | grep -q 'tbf.*rate 100Mbit' || why+=" no tbf on the hub side of $i;"
	tc -n "${SIMFARM_TAG:-}${P1}node$i" qdisc show dev usb0 | grep -q 'tbf.*rate 100Mbit' || why+=" no tbf on node $i;"
done
[ -z "$why" ] && ok shaped-both-ways || fail shaped-both-ways "$why"

why=""
[ "$(cat "/sys/fs/cgroup/cpu/${SIMFARM_TAG:-}${P1}farm/node1/cpu.cfs_quota_us" 2>/dev/null)" = 30000 ] || why+=" node1 quota not 30000;"
cg=$("$SF" exec node2 --prefix "$P1" cat /proc/self/cgroup | sed -n 's/^[0-9]*:cpu:\(.*\)/\1/p;s/^[0-9]*:cpu,cpuacct:\(.*\)/\1/p')
[ "$cg" = "/${SIMFARM_TAG:-}${P1}farm/node2" ] || why+=" exec node2 runs in cgroup '$cg';"
"$SF" exec node2 --prefix "$P1" ip -o link show usb0 >/dev/null 2>&1 || why+=" exec node2 does not see usb0;"
"$SF" exec --prefix "$P1" hub ip -o link show "${SIMFARM_TAG:-}${P1}n1" >/dev/null 2>&1 || why+=" exec hub does not see ${SIMFARM_TAG:-}${P1}n1;"
"$SF" exec node1 --prefix "$P1" sh -c 'exit 7'; [ $? -eq 7 ] || why+=" exit status not passed on;"
[ -z "$why" ] && ok exec-namespace-and-cgroup || fail exec-namespace-and-cgroup "$why"

# frames cross a link (and only that link)
"$SF" exec node2 --prefix "$P1" "$LF" recv --iface usb0 --seed 4 >"$TMP/r2" &
r2=$!
"$SF" exec node1 --prefix "$P1" "$LF" recv --iface usb0 --seed 4 --timeout-ms 3000 >"$TMP/r1" 2>/dev/null &
r1=$!
sleep 0.3
"$SF" exec hub --prefix "$P1" "$LF" send --iface "${SIMFARM_TAG:-}${P1}n2" --count 300 --seed 4 >/dev/null
wait $r2; wait $r1
if grep -qx 'intact 300' "$TMP/r2" && grep -qx 'frames 0' "$TMP/r1"; then
	ok frames-cross-link
else
	fail frames-cross-link "node2: $(tr '\n' ' ' <"$TMP/r2") node1: $(tr '\n' ' ' <"$TMP/r1")"
fi

# up again refuses and keeps the farm
if "$SF" up 1 --prefix "$P1" -q >/dev/null 2>&1; then
	fail up-refuses-existing "second up succeeded"
elif ns_exists "${SIMFARM_TAG:-}${P1}node2"; then
	ok up-refuses-existing
else
	fail up-refuses-existing "the existing farm was damaged"
fi

# --- a second farm at the same time, with faults on one board
if "$SF" up 2 --prefix "$P2" --faults-node 2 loss=10,seed=3 --mtu 9000 -q; then
	why=""
	ns_exists "${SIMFARM_TAG:-}${P2}fw2" || why+=" no forwarder namespace;"
	ns_exists "${SIMFARM_TAG:-}${P2}fw1" && why+=" board 1 got a forwarder;"
	pid=$(cat "/run/usbfarm-simfarm/${SIMFARM_TAG:-}$P2/fw2.pid" 2>/dev/null || echo 0)
	grep -q faultfwd "/proc/$pid/cmdline" 2>/dev/null || why+=" forwarder not running;"
	ip -n "${SIMFARM_TAG:-}${P2}node2" -o link show usb0 | grep -q 'mtu 9000' || why+=" mtu not 9000;"
	"$SF" status --prefix "$P2" | grep -q 'a2b.rx_ours' || why+=" status shows no forwarder counters;"
	ns_exists "${SIMFARM_TAG:-}${P1}hub" || why+=" the first farm went away;"
	[ -z "$why" ] && ok second-farm-with-forwarder || fail second-farm-with-forwarder "$why"
	# frames through the forwarder, both ways
	"$SF" exec node2 --prefix "$P2" "$LF" recv --iface usb0 --seed 9 >"$TMP/f" &
	r=$!
	sleep 0.3
	"$SF" exec hub --prefix "$P2" "$LF" send --iface "${SIMFARM_TAG:-}${P2}n2" --count 1000 --seed 9 >/dev/null
	wait $r
	intact=$(awk '$1 == "intact" { print $2 }' "$TMP/f")
	if [ "${intact:-0}" -gt 700 ] && [ "$intact" -lt 1000 ]; then ok forwarder-in-path; else fail forwarder-in-path "$(tr '\n' ' ' <"$TMP/f")"; fi
	"$SF" down --prefix "$P2" -q
	if nothing_left "$P2" && ! grep -q faultfwd "/proc/$pid/cmdline" 2>/dev/null && ns_exists "${SIMFARM_TAG:-}${P1}hub"; then
		ok down-one-of-two
	else
		fail down-one-of-two "leftovers of $P2 or $P1 damaged"
	fi
else
	fail second-farm-with-forwarder "up failed"
fi

# --- down, twice
"$SF" down --prefix "$P1" -q && "$SF" down --prefix "$P1" -q && nothing_left "$P1" &&
	ok down-idempotent || fail down-idempotent "leftovers after down"

# --- a failing up cleans up after itself
if SIMFARM_FAULTFWD=/bin/false "$SF" up 3 --prefix "$P1" --faults loss=1 -q >/dev/null 2>&1; then
	fail failed-up-rolls-back "up with a broken forwarder succeeded"
elif nothing_left "$P1"; then
	ok failed-up-rolls-back
else
	fail failed-up-rolls-back "leftovers: $(ip netns list | grep "${SIMFARM_TAG:-}$P1" | tr '\n' ' ')"
fi

# --- --force replaces a farm
"$SF" up 1 --prefix "$P1" -q && "$SF" up 2 --prefix "$P1" --force -q && ns_exists "${SIMFARM_TAG:-}${P1}node2" &&
	ok force-replaces || fail force-replaces "up --force did not replace the farm"
"$SF" down --prefix "$P1" -q
t_done
