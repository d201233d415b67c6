#!/usr/bin/env bash
# hub_opener.sh — hubd's links come from its link opener (hub/opener.c) and
# the dispatcher holds no capability, on the virtual farm with 2 boards:
# node 1's interface is named on hubd's command line; node 2's is a
# "usbfarm board" in a fake sysfs (USBFARM_SYSFS: its USB device has our
# VID:PID and product), set down with a foreign MTU before hubd starts.
# Both nodes come up (the opener brought the board up with hubd's MTU and
# opened both sockets), a build runs on both, each object identical to a
# local build; the board taken down is brought up again and its node comes
# back (re-enrollment); both cables "unplugged" (veth pairs deleted) and
# plugged back: both relinked through the opener, the board brought up with
# hubd's MTU again, a job runs on the farm. The opener
# refuses the farm's other interfaces (hubctl enroll of a non-board is
# refused before it, so that refusal is the unit test's, test_opener).
# Killing the opener makes hubd say so in words and exit with status 1;
# dcc then builds locally. (The request parser's refusals: test_opener,
# fuzz_opener.)
# timeout: 300
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=ho1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 2
NS=${SIMFARM_TAG:-}${FARM_PREFIX}hub
if1=$("$SF" ifname --prefix "$FARM_PREFIX" hub 1)
if2=$("$SF" ifname --prefix "$FARM_PREFIX" hub 2)
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t ' ' '; }

# the fake sysfs: if2 is a board, if1 is not on USB
FS=$FARM_TMP/sysfs
mkdir -p "$FS/devices/usb1/1-1/1-1:1.0" "$FS/class/net/$if1" "$FS/class/net/$if2"
echo 1d6b >"$FS/devices/usb1/1-1/idVendor"
echo 0104 >"$FS/devices/usb1/1-1/idProduct"
echo 'usbfarm node' >"$FS/devices/usb1/1-1/product"
echo ho1board >"$FS/devices/usb1/1-1/serial"
echo 480 >"$FS/devices/usb1/1-1/speed"
ln -s ../../../devices/usb1/1-1/1-1:1.0 "$FS/class/net/$if2/device"
chmod -R a+rX "$FARM_TMP" "$FS"
ip -n "$NS" link set "$if2" down
ip -n "$NS" link set "$if2" mtu 1400

start_noded 1
start_noded 2
HUBD_PREFIX=(env USBFARM_SYSFS="$FS" USBFARM_UDEV="$FARM_TMP/no-udev")
# hubd's own options, then if1 as a named interface
"$SF" exec --prefix "$FARM_PREFIX" hub "${HUBD_PREFIX[@]}" "$T_BIN/hubd" -v --local-slots 0 \
	--socket "$USBFARM_SOCKET" "$if1" >>"$FARM_TMP/hubd.log" 2>&1 &
HUBD_PID=$!
wait_for 100 test -S "$USBFARM_SOCKET"

opener=""
for c in $(pgrep -P "$HUBD_PID"); do [ "$(cat "/proc/$c/comm")" = hubd-opener ] && opener=$c; done
if [ "$(field "$HUBD_PID" CapPrm)$(field "$HUBD_PID" CapBnd)" = 00000000000000000000000000000000 ] &&
   [ -n "$opener" ] && [ "$(field "$opener" CapPrm)" = 0000000000003000 ]; then
	ok dispatcher-none-opener-net
else
	fail dispatcher-none-opener-net "dispatcher Prm/Bnd $(field "$HUBD_PID" CapPrm)/$(field "$HUBD_PID" CapBnd), opener '$opener'"
fi

# ---- both links up: the named one, the enrolled board (brought up by the opener)
if wait_for 300 nodes_up 2; then
	ok links-up-named-and-enrolled
else
	fail links-up-named-and-enrolled "$(status_json | jq -c '[.nodes[] | {name, state}]'); $(grep -E 'opener|enroll|link' "$FARM_TMP/hubd.log" | tail -n 5 | tr '\n' '|')"
fi
st=$(ip -n "$NS" -o link show "$if2")
case $st in *"<"*UP*">"*" mtu 1500 "*) ok board-brought-up-mtu-1500 ;;
*) fail board-brought-up-mtu-1500 "$st" ;; esac
grep -q "$if2: enrolled board ho1board" "$FARM_TMP/hubd.log" && ok board-enrolled-by-usb-device ||
	fail board-enrolled-by-usb-device "$(grep "$if2" "$FARM_TMP/hubd.log" | head -n 3 | tr '\n' '|')"

# ---- jobs run on both nodes, objects identical to a local build
G=$FARM_TMP/gen
gen_tree "$G" 16
(cd "$G" && make -j4 CC=gcc CFLAGS=-O2 >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
if user_in "$G" make -j4 CC="$T_BIN/dcc gcc" CFLAGS=-O2 >"$FARM_TMP/build.log" 2>&1 &&
   same_outputs "$G/ref" "$G/obj"; then
	ok farm-build-identical
else
	fail farm-build-identical "$(tail -n 3 "$FARM_TMP/build.log" | tr '\n' '|')"
fi
echo "# jobs per node: $(jobs_done_per_node)"
every_node_did_work && ok jobs-on-both-nodes || fail jobs-on-both-nodes "$(jobs_done_per_node)"

# ---- the board goes down: hubd (through the opener) brings it up again and
# its node comes back; the named interface down and up: relinked
ip -n "$NS" link set "$if2" down
wait_for 100 grep -q "$if2: carrier down" "$FARM_TMP/hubd.log"
if wait_for 300 nodes_up 2 && ip -n "$NS" -o link show "$if2" | grep -q '<.*UP.*>' &&
   grep -q "$if2: carrier down" "$FARM_TMP/hubd.log"; then
	ok board-down-reenrolled
else
	fail board-down-reenrolled "$(ip -n "$NS" -o link show "$if2"); $(status_json | jq -c '[.nodes[] | {name, state}]')"
fi
# unplug I IF: the board's cable pulled and plugged back: the veth pair is
# deleted and made again (the board's end "usb0" in its namespace, down,
# MTU 1400, as a new USB device would appear); noded reopens its own end
unplug() {
	ip -n "$NS" link del "$2"
	wait_for 100 grep -q "$2: link dead" "$FARM_TMP/hubd.log"
	ip -n "$NS" link add "$2" mtu 1400 type veth peer name usb0 mtu 1400 netns "${SIMFARM_TAG:-}${FARM_PREFIX}node$1"
	ip -n "${SIMFARM_TAG:-}${FARM_PREFIX}node$1" link set usb0 up
}
# reopened IF N: IF's link was opened more than N times
reopened() { [ "$(grep -c "$1: link open" "$FARM_TMP/hubd.log")" -gt "$2" ]; }
n1=$(grep -c "$if1: link open" "$FARM_TMP/hubd.log")
n2=$(grep -c "$if2: link open" "$FARM_TMP/hubd.log")
unplug 1 "$if1"
ip -n "$NS" link set "$if1" up		# a named interface is ours to bring up
unplug 2 "$if2"				# the board: hubd brings it up itself
if wait_for 300 reopened "$if1" "$n1" && wait_for 300 reopened "$if2" "$n2" && wait_for 300 nodes_up 2 &&
   ip -n "$NS" -o link show "$if2" | grep -q '<.*UP.*> mtu 1500 '; then
	ok unplugged-replugged-relinked
else
	fail unplugged-replugged-relinked "opens $n1 $n2 -> $(grep -c "$if1: link open" "$FARM_TMP/hubd.log") $(grep -c "$if2: link open" "$FARM_TMP/hubd.log"); $(ip -n "$NS" -o link show "$if2" | cut -c1-80); $(status_json | jq -c '[.nodes[] | {name, state}]')"
fi
printf 'int h(int x) { return x * 5; }\n' >"$G/replug.c"
chown "$FARM_USER:" "$G/replug.c"
r0=$(remote_jobs_done)
(cd "$G" && as_user "$T_BIN/dcc" gcc -O2 -c replug.c -o replug.o) >/dev/null 2>&1
[ -s "$G/replug.o" ] && [ "$(remote_jobs_done)" -gt "$r0" ] && ok job-after-replug ||
	fail job-after-replug "remote jobs $r0 -> $(remote_jobs_done)"
if ! grep -q 'link opener: .* refused' "$FARM_TMP/hubd.log"; then
	ok opener-refused-nothing-legitimate
else
	fail opener-refused-nothing-legitimate "$(grep 'link opener' "$FARM_TMP/hubd.log" | tr '\n' '|')"
fi

# ---- the opener killed: hubd says so and exits 1
kill -KILL "$opener"
wait_for 100 sh -c "! kill -0 $HUBD_PID 2>/dev/null"
wait "$HUBD_PID"
rc=$?
HUBD_PID=""
msg=$(grep -m1 "the link opener (pid $opener)" "$FARM_TMP/hubd.log")
echo "# $msg"
if [ $rc -eq 1 ] && case $msg in *"was killed by signal 9"*"cannot open any link"*exiting*) true ;; *) false ;; esac; then
	ok opener-killed-hubd-exits-loudly
else
	fail opener-killed-hubd-exits-loudly "exit $rc; '$msg'"
fi
printf 'int g(int x) { return x - 1; }\n' >"$G/after.c"
chown "$FARM_USER:" "$G/after.c"
if (cd "$G" && as_user "$T_BIN/dcc" gcc -O2 -c after.c -o after.o) >/dev/null 2>&1 && [ -s "$G/after.o" ]; then
	ok dcc-builds-locally-after
else
	fail dcc-builds-locally-after "no object"
fi
t_done
