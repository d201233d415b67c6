#!/usr/bin/env bash
# guest.sh ROOT MODE[:full|:short]... — the real-USB checks, run inside the
# QEMU guest that tests/usb/check-usb.sh boots (scripts/qemu-usb): Debian's
# kernel, a userland of Debian packages (scripts/guestroot) read-only, this
# checkout's binaries and sources under ROOT.
# Each MODE (ecm or ncm) runs in turn in this one boot: hubd started, the
# three boards' gadgets made with that function, the checks, everything
# taken down again. short leaves out the unplug, power-cycle, removal and
# refusal checks (check-usb runs both modes full: the host drivers differ,
# cdc_ether and cdc_ncm). The local reference build is made once and compared with every
# farm build. dummy_hcd num=4 gives four UDC/root-hub-port pairs: three boards
# (each: `usbfarm-gadget up` on its UDC, its gadget interface moved into
# its own network namespace, noded there) and one spare port for gadgets
# the hub must refuse. The hub side runs systemd-udevd with the project's
# rules and hubd with no interface on its command line.
#
# Prints `ok NAME` / `FAIL NAME: why` / `skip NAME: why` and `BENCH` lines
# to the console (check-usb.sh counts them), `# ` lines for the record.
set -u -o pipefail
ROOT=$1
shift
MODES=("$@")
MODE=setup DEPTH=full MODEFLAG=
B=$ROOT/build
T=/tmp/usbtest
mkdir -p "$T"
N=3
FAILS=0
ok() { echo "ok ${MODE}_$1"; }
fail() { echo "FAIL ${MODE}_$1: ${2:-}"; FAILS=$((FAILS + 1)); }
note() { echo "# [$(cut -d' ' -f1 /proc/uptime)] $*"; }
# wait_for SECONDS CMD...: polls CMD until it succeeds or SECONDS have passed
# (generous bounds: under TCG on a shared machine one hubctl+jq takes ~1 s)
wait_for() { local end=$((SECONDS + $1)); shift; while :; do "$@" && return 0; [ $SECONDS -ge $end ] && return 1; sleep 0.2; done; }
G=$ROOT/gadget/usbfarm-gadget
# not /run/usbfarm: the boards' noded keep their slot locks there (one machine here)
export USBFARM_SOCKET=/run/usbfarm-hub/hubd.sock
HUBCTL="$B/bin/hubctl"
t0=$(cut -d' ' -f1 /proc/uptime)
# the trace of this script and the daemons' logs go to ttyS1
# (build/usb/guest-debug.log on the host), the results to the console
if [ -c /dev/ttyS1 ]; then
	exec 9>/dev/ttyS1
	BASH_XTRACEFD=9
	PS4='+ $SECONDS '
	set -x
	logs=()
	for md in "${MODES[@]}"; do
		for f in hubd noded1 noded2 noded3; do logs+=("$T/${md%%:*}-$f.log"); done
	done
	touch "${logs[@]}"
	tail -F "${logs[@]}" >&9 2>&1 &
fi
# the log of daemon D (hubd, nodedI) in the current mode
L() { echo "$T/$MODE-$1.log"; }

setup_kernel() {
	local m
	for m in configfs libcomposite usb_f_ecm usb_f_ncm cdc_ether cdc_ncm; do
		modprobe "$m" || { fail modules "modprobe $m"; return 1; }
	done
	mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
	modprobe dummy_hcd num=4 || { fail modules "modprobe dummy_hcd num=4"; return 1; }
	wait_for 10 test -e /sys/class/udc/dummy_udc.3 || { fail modules "no dummy_udc.3"; return 1; }
	ok modules
}

# udevd with the udev package's rules and ours (RUN path pointed at this build)
start_udev() {
	mkdir -p /run/udev/rules.d
	sed "s|/usr/bin/hubctl|$HUBCTL|" "$ROOT/udev/80-usbfarm-hub.rules" >/run/udev/rules.d/80-usbfarm-hub.rules
	/lib/systemd/systemd-udevd --daemon --resolve-names=never >"$T/udevd.log" 2>&1 ||
		{ fail udevd "systemd-udevd did not start"; return 1; }
	wait_for 10 test -e /run/udev/control || { fail udevd "no /run/udev/control"; return 1; }
}

# how long hubd keeps a removed board as "gone" (short: check_removed waits for it)
FORGET_S=20
# hubd --auto-power-cycle: seconds of silence before it cycles a board's port
AUTOPC_S=20
start_hubd() {
	rm -f "$USBFARM_SOCKET"
	"$B/bin/hubd" -v --local-slots 1 --forget-after "$FORGET_S" --auto-power-cycle="$AUTOPC_S" >"$(L hubd)" 2>&1 &
	HUBD=$!
	wait_for 30 test -S "$USBFARM_SOCKET" || { fail hubd "no socket"; return 1; }
}

by_mac() {
	local d v
	for d in /sys/class/net/*; do
		v=; read -r v 2>/dev/null <"$d/address"
		[ "$v" = "$1" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}

# board I: gadget on dummy_udc.(I-1), its interface into netns bI as usb0, noded there
board_up() {
	local i=$1 ifn
	"$G" "$MODEFLAG" --name "b$i" --serial "BOARD-$i" --udc "dummy_udc.$((i - 1))" up >/dev/null ||
		{ fail "gadget_up_$i" "usbfarm-gadget up failed"; return 1; }
	# udev may rename it (the distribution's policy): find it by its MAC
	udevadm settle -t 30 2>/dev/null
	ifn=$(by_mac "$(tr -d '\0\n' <"/sys/kernel/config/usb_gadget/b$i/functions/$MODE.usb0/dev_addr")")
	[ -n "$ifn" ] || { fail "gadget_up_$i" "no interface with the gadget's dev_addr"; return 1; }
	ip netns add "b$i"
	ip link set "$ifn" netns "b$i" || { fail "gadget_up_$i" "cannot move $ifn"; return 1; }
	ip -n "b$i" link set lo up
	ip -n "b$i" link set "$ifn" name usb0
	ip -n "b$i" link set usb0 up
	mkdir -p "$T/$MODE-node$i"
	ip netns exec "b$i" "$B/bin/noded" -v -i "BOARD-$i" -n 2 -C /usr/bin/gcc -T "$T/$MODE-node$i" usb0 >"$(L "noded$i")" 2>&1 &
	eval "NODED_$i=\$!"
}

status_json() { "$HUBCTL" status --json 2>/dev/null; }
nodes_up() { [ "$(status_json | jq '[.nodes[] | select(.state == "up" and (.compilers | length) > 0)] | length')" -ge "$1" ]; }
node_up() { [ "$(status_json | jq --arg p "$1" '[.nodes[] | select(.peer == $p and .state == "up")] | length')" -ge 1 ]; }
# the host-side interface whose USB device has this serial
host_if() {
	local d v
	for d in /sys/class/net/*; do
		v=; read -r v 2>/dev/null <"$d/device/../serial"
		[ "$v" = "$1" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}

check_enroll() {
	local i ifs=""
	if wait_for 180 nodes_up "$N"; then
		ok enroll_three_boards
	else
		fail enroll_three_boards "$(status_json | jq -c '[.nodes[] | {iface, state, peer}]')"
	fi
	for i in $(seq "$N"); do ifs="$ifs $(host_if "BOARD-$i")"; done
	note "host interfaces:$ifs ($(status_json | jq -c '[.nodes[] | .iface + "=" + .peer]'))"
	# the names come from udev's rule: enx + the hub-side MAC derived from the serial
	local want=""
	for i in $(seq "$N"); do
		want="$want enx$(tr -d ':\0\n' <"/sys/kernel/config/usb_gadget/b$i/functions/$MODE.usb0/host_addr")"
	done
	[ "$ifs" = "$want" ] && ok udev_stable_names || fail udev_stable_names "got$ifs, want$want"
	local e
	e=$("$HUBCTL" enroll "$(host_if BOARD-1)" 2>&1) && ok hubctl_enroll_known || fail hubctl_enroll_known "$e"
	local mtu
	mtu=$(cat "/sys/class/net/$(host_if BOARD-1)/mtu" 2>/dev/null)
	[ "$(cat "/sys/class/net/$(host_if BOARD-1)/operstate" 2>/dev/null)" = up ] && [ "$mtu" = 1500 ] &&
		ok enrolled_link_up_mtu || fail enrolled_link_up_mtu "operstate/mtu $mtu"
	# the board side of each gadget was in the hub's namespace before it
	# moved: hubd never took it (it is not on USB from the hub's view)
	if grep -q "enrolled board" "$(L hubd)" && [ "$(grep -c 'enrolled board' "$(L hubd)")" -eq "$N" ]; then
		ok enroll_only_boards
	else
		fail enroll_only_boards "$(grep 'enrolled' "$(L hubd)" | tr '\n' ';')"
	fi
}

# build_set OUTDIR [CC-PREFIX]: a real C file set, the project's own twelve
# smallest lib/*.c (glibc, lzo and libnl headers), 4 at a time, -O1 -g
# (TCG makes gcc ~50x slower: the whole tree would take most of the test's
# time)
BUILD_FILES=12
build_set() {
	local out=$1 pre=${2:-}
	mkdir -p "$out"
	(cd "$T/src" && ls -S -r lib/*.c | head -n "$BUILD_FILES" | xargs -P 4 -I{} sh -c \
		"$pre gcc $CFLAGS_SET -c {} -o $out/\$(echo {} | tr / _).o") >"$out.log" 2>&1
}
same_objects() {
	local a=$1 b=$2 f bad=0 n=0
	for f in "$a"/*.o; do
		n=$((n + 1))
		cmp -s "$f" "$b/$(basename "$f")" || { bad=$((bad + 1)); note "differs: $(basename "$f")"; }
	done
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}
remote_done() { status_json | jq '[.nodes[].jobs_done] | add // 0'; }

# the reference objects, built once without the farm (the same compiler
# and files as every farm build)
build_local() {
	[ -e "$T/local.done" ] && return 0
	mkdir -p "$T/src"
	cp -r "$ROOT/lib" "$T/src/"
	local s=$SECONDS
	build_set "$T/local" || { fail build_local "$(tail -n 3 "$T/local.log")"; return 1; }
	note "local build: $((SECONDS - s)) s, $(ls "$T/local" | wc -l) objects"
	touch "$T/local.done"
}
CFLAGS_SET="-std=c11 -O1 -g -D_GNU_SOURCE -Ilib -Ihub -Inode $(pkg-config --cflags libnl-3.0 libnl-route-3.0 lzo2)"

running_on() { status_json | jq --arg p "$1" '[.nodes[] | select(.peer == $p) | .running] | add // 0'; }

# the farm build; with DEPTH full, BOARD-2 is unplugged in the middle of
# it (its gadget unbound from the UDC once it runs a job) and plugged back:
# the build completes, its objects equal the local ones, BOARD-2 re-enrolls
check_build() {
	build_local || return 1
	local before after s bp rc out=$T/$MODE-farm
	before=$(remote_done); s=$SECONDS
	build_set "$out" "$B/bin/dcc" &
	bp=$!
	[ "$DEPTH" = full ] && unplug_midway "$bp"
	wait "$bp"; rc=$?
	after=$(remote_done)
	note "farm build: $((SECONDS - s)) s, exit $rc, $((after - before)) jobs on the boards: $(status_json | jq -c '[.nodes[] | .peer + "=" + (.jobs_done | tostring)]')"
	if [ "$DEPTH" = full ]; then
		[ $rc -eq 0 ] && ok unplug_build_completes || fail unplug_build_completes "$(tail -n 3 "$out.log")"
	fi
	[ $rc -eq 0 ] || { fail build_farm "$(tail -n 3 "$out.log")"; return 1; }
	same_objects "$T/local" "$out" && ok build_objects_equal || fail build_objects_equal "objects differ"
	[ "$((after - before))" -gt 0 ] && ok build_through_usb || fail build_through_usb "no job ran on a board"
	[ "$DEPTH" = full ] && check_reenroll
	return 0
}

# unplug_midway BUILD-PID: BOARD-2 out once it runs a job (or after 60 s of
# trying), back 2 s later; the build must still be running when it goes
unplug_midway() {
	local g=/sys/kernel/config/usb_gadget/b2 s=$SECONDS
	UNPLUG_UPS=$(ups_of BOARD-2)
	wait_for 60 eval '[ "$(running_on BOARD-2)" -gt 0 ]' || note "BOARD-2 got no job in 60 s"
	kill -0 "$1" 2>/dev/null || fail unplug_midway "the build was over before the unplug"
	echo "" >"$g/UDC"
	note "BOARD-2 unplugged at +$((SECONDS - s)) s"
	sleep 2
	echo dummy_udc.1 >"$g/UDC"
	note "BOARD-2 plugged back at +$((SECONDS - s)) s"
}

check_reenroll() {
	local after
	grep -q "board BOARD-2 removed" "$(L hubd)" && ok unplug_node_removed ||
		fail unplug_node_removed "hubd did not see BOARD-2's interface go"
	if wait_for 180 eval '[ "$(ups_of BOARD-2)" -gt "$UNPLUG_UPS" ] && node_up BOARD-2'; then
		after=$(ups_of BOARD-2)
		[ "$after" -gt "$UNPLUG_UPS" ] && ok unplug_node_reenrolls || fail unplug_node_reenrolls "sessions up $UNPLUG_UPS -> $after"
	else
		fail unplug_node_reenrolls "BOARD-2 not up again: $(status_json | jq -c '[.nodes[] | {iface, state, peer}]')"
	fi
}

sessions_of() { status_json | jq --arg p "$1" '[.nodes[] | select(.peer == $p) | .sessions] | add // 0'; }
# how many sessions of BOARD hubd has logged as up: unlike its status
# entry's `sessions`, this counts on when a removed board was forgotten
# (--forget-after) before it came back
ups_of() { grep -c ": node $1 up:" "$(L hubd)"; }
# times hubd enrolled BOARD's interface (again, or afresh once forgotten)
back_of() { grep -cE "board $1 plugged back|enrolled board $1 " "$(L hubd)"; }
state_of() { status_json | jq -r --arg p "$1" '[.nodes[] | select(.peer == $p) | .state] | join(",")'; }

# power_cycle LABEL BOARD [VIA]: hubctl power-cycle drops the node, it comes back
power_cycle() {
	local label=$1 board=$2 via=${3:-} before out rc
	before=$(ups_of "$board")
	out=$(USBFARM_POWER_VIA=$via "$HUBCTL" power-cycle "$board" 2>&1); rc=$?
	note "power-cycle $board${via:+ via $via}: exit $rc: $out"
	[ $rc -eq 0 ] || { fail "$label" "exit $rc: $out"; return; }
	if wait_for 180 eval '[ "$(ups_of "$board")" -gt "$before" ] && node_up "$board"'; then
		ok "$label"
	else
		fail "$label" "$board sessions up $before -> $(ups_of "$board"): $(status_json | jq -c --arg p "$board" '.nodes[] | select(.peer == $p) | {iface, state, sessions}')"
	fi
}

check_power() {
	local place
	place=$(status_json | jq -r '.nodes[] | select(.peer == "BOARD-3") | .usb | "\(.device) \(.port) \(.speed_mbps)"')
	note "BOARD-3 on USB: $place; hubctl status says: $("$HUBCTL" status | grep -m1 '^  usb ')"
	[[ $place =~ ^[0-9]+-1\ port\ 1\ of\ root\ hub\ [0-9]+\ 480$ ]] && ok status_usb_place || fail status_usb_place "$place"
	power_cycle power_cycle_sysfs BOARD-3 sysfs
	power_cycle power_cycle_libusb BOARD-2 libusb
}

# rogue NAME VID PID PRODUCT: a gadget on the spare port the hub must refuse
rogue() {
	local name=$1 ifn
	USBFARM_VID=$2 USBFARM_PID=$3 USBFARM_PRODUCT=$4 "$G" "$MODEFLAG" --name "$name" --serial "$name" --udc dummy_udc.3 up >/dev/null ||
		{ fail "refuse_$name" "gadget up failed"; return; }
	if ! wait_for 90 host_if "$name" >/dev/null; then
		fail "refuse_$name" "the host never saw it"; "$G" --name "$name" down; return
	fi
	udevadm settle -t 30 2>/dev/null
	sleep 1
	ifn=$(host_if "$name")	# after udev: it may have renamed it
	"$HUBCTL" enroll "$ifn" >/dev/null 2>&1; local rc=$?
	if [ $rc -eq 3 ] && ! status_json | jq -e --arg i "$ifn" '.nodes[] | select(.iface == $i)' >/dev/null; then
		ok "refuse_$name"
	else
		fail "refuse_$name" "hubctl enroll $ifn exit $rc; nodes $(status_json | jq -c '[.nodes[].iface]')"
	fi
	"$G" --name "$name" down
}

check_rogues() {
	rogue otherid 0x0525 0xa4a2 "usbfarm node"
	rogue otherproduct 0x1d6b 0x0104 "Multifunction Composite Gadget"
}

# BOARD-3 unplugged for good: hubd shows it "gone", then (after
# --forget-after; the refusals run meanwhile) no more; plugged back, it
# comes up under the same stable name as a fresh entry
check_removed() {
	local g=/sys/kernel/config/usb_gadget/b3 ifn s n
	ifn=$(host_if BOARD-3)
	echo "" >"$g/UDC"
	s=$SECONDS
	if wait_for 60 eval '[ "$(state_of BOARD-3)" = gone ]'; then
		ok removed_shown_gone
	else
		fail removed_shown_gone "BOARD-3: $(state_of BOARD-3)"
	fi
	check_rogues
	if wait_for $((FORGET_S + 60)) eval '[ -z "$(state_of BOARD-3)" ]'; then
		n=$(status_json | jq '.nodes | length')
		note "BOARD-3 left hubctl status $((SECONDS - s)) s after its unplug (--forget-after $FORGET_S); $n nodes listed"
		[ $((SECONDS - s)) -ge "$FORGET_S" ] && [ "$n" -eq $((N - 1)) ] && ok removed_leaves_status ||
			fail removed_leaves_status "left after $((SECONDS - s)) s, $n nodes listed"
	else
		fail removed_leaves_status "BOARD-3 still listed: $(state_of BOARD-3)"
	fi
	echo "dummy_udc.2" >"$g/UDC"
	if wait_for 180 node_up BOARD-3; then
		[ "$(host_if BOARD-3)" = "$ifn" ] && [ "$(sessions_of BOARD-3)" -eq 1 ] &&
			[ "$(status_json | jq '.nodes | length')" -eq "$N" ] && ok removed_replug_clean ||
			fail removed_replug_clean "iface $ifn -> $(host_if BOARD-3), sessions $(sessions_of BOARD-3), $(status_json | jq -c '[.nodes[] | {iface, state, peer}]')"
	else
		fail removed_replug_clean "BOARD-3 not up again: $(status_json | jq -c '[.nodes[] | {iface, state, peer}]')"
	fi
}

# lb MODE OUT: one linkbench bulk run between hub (role a) and board 1 (role b)
lb() {
	local kind=$1 out=$2 hif ta tb bp
	hif=$(host_if BOARD-1)
	if [ "$kind" = link ]; then ta=(--link "$hif") tb=(--link usb0)
	else ta=(--tcp 10.99.0.2:5201) tb=(--tcp 10.99.0.2:5201); fi
	ip netns exec b1 timeout 300 "$B/tools/linkbench" "${tb[@]}" --role b --test bulk --bytes "$BENCH_BYTES" >"$out.b" 2>"$out.b.err" &
	bp=$!
	timeout 300 "$B/tools/linkbench" "${ta[@]}" --role a --test bulk --bytes "$BENCH_BYTES" >"$out.a" 2>"$out.a.err"
	wait $bp
	[ "$(awk '$1 == "result" { print $2 }' "$out.a")" = ok ] && [ "$(awk '$1 == "result" { print $2 }' "$out.b")" = ok ]
}
goodput() {	# mean of both directions, Mbit/s
	awk '$1 == "rx_bytes" { b = $2 } $1 == "rx_ms" { t = $2 } END { printf "%.3f\n", b * 8 / t / 1000 }' "$1.a" >"$1.ga"
	awk '$1 == "rx_bytes" { b = $2 } $1 == "rx_ms" { t = $2 } END { printf "%.3f\n", b * 8 / t / 1000 }' "$1.b" >"$1.gb"
	awk -v a="$(cat "$1.ga")" -v b="$(cat "$1.gb")" 'BEGIN { printf "%.1f\n", (a + b) / 2 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# the transport against TCP on board 1's real gadget link (hubd and noded
# stopped first: they would take the link's frames): BENCH_RUNS pairs of
# runs, a link run then a TCP run, so that a change in the machine's load
# hits both sides of a pair; medians of the goodputs and of the pairs'
# ratios
check_bench() {
	kill "$HUBD" "$NODED_1" 2>/dev/null; wait "$HUBD" "$NODED_1" 2>/dev/null
	BENCH_BYTES=${BENCH_BYTES:-8M} BENCH_RUNS=${BENCH_RUNS:-3}
	local hif lg tg r b=$T/$MODE-bench
	hif=$(host_if BOARD-1)
	ip addr add 10.99.0.1/24 dev "$hif"
	ip -n b1 addr add 10.99.0.2/24 dev usb0
	: >"$b.link"; : >"$b.tcp"; : >"$b.ratio"
	for r in $(seq "$BENCH_RUNS"); do
		if lb link "$b-l$r"; then lg=$(goodput "$b-l$r"); else fail bench_link "$(cat "$b-l$r.a.err" "$b-l$r.b.err" | tail -n 3)"; return; fi
		if lb tcp "$b-t$r"; then tg=$(goodput "$b-t$r"); else fail bench_tcp "$(cat "$b-t$r.a.err" "$b-t$r.b.err" | tail -n 3)"; return; fi
		echo "$lg" >>"$b.link"; echo "$tg" >>"$b.tcp"
		awk -v a="$lg" -v b="$tg" 'BEGIN { printf "%.3f\n", a / b }' >>"$b.ratio"
	done
	ip addr flush dev "$hif"
	ip -n b1 addr flush dev usb0
	note "bench $MODE: $BENCH_RUNS pairs of runs, $BENCH_BYTES each way, both directions at once; link $(tr '\n' ' ' <"$b.link")/ TCP $(tr '\n' ' ' <"$b.tcp")Mbit/s per direction"
	echo "BENCH usb_${MODE}_link_goodput $(median <"$b.link") Mbit/s (median of $BENCH_RUNS)"
	echo "BENCH usb_${MODE}_tcp_goodput $(median <"$b.tcp") Mbit/s (median of $BENCH_RUNS)"
	echo "BENCH usb_${MODE}_link_vs_tcp_goodput $(median <"$b.ratio") ratio (median of $BENCH_RUNS pairs)"
	ok bench
}

# after a mode: the daemons stopped, the gadgets removed (their interfaces
# go from the hub too), the boards' namespaces deleted
boards_down() {
	local i p
	for i in $(seq "$N"); do
		eval "p=\${NODED_$i:-}"
		[ -n "$p" ] && { kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; }
		"$G" --name "b$i" down >/dev/null 2>&1 || fail teardown "usbfarm-gadget down b$i"
		ip netns del "b$i" 2>/dev/null
		eval "NODED_$i="
	done
	kill "$HUBD" 2>/dev/null; wait "$HUBD" 2>/dev/null
	udevadm settle -t 30 2>/dev/null
	# the host side of each board goes when the kernel has seen the
	# disconnect, which can be after udev settled. The next mode's boards
	# have the same MACs (from the serials), so a leftover enx<MAC> makes
	# udev's rename of the new one fail: wait until none is left.
	local k
	for k in $(seq 150); do
		ip -o link show | grep -q ': enx' || break
		sleep 0.2
	done
	ip -o link show | grep -q ': enx' && note "an enx interface is still there after teardown: $(ip -o link show | grep ': enx' | cut -d: -f2 | tr '\n' ' ')"
	udevadm settle -t 30 2>/dev/null
}

# hubd's own power-cycle: BOARD-2's noded frozen (SIGSTOP by PID), its link
# stays up (carrier, interface) but silent; after AUTOPC_S hubd cycles its
# port (the port-power helper, the sysfs path on dummy_hcd): the port's
# device goes (hubd sees the interface removed) and comes back (enrolled
# again). noded is still frozen (dummy_hcd's port power does not reset the
# gadget side as a real board's reboot would), so the silence goes on:
# hubd holds back (once per port per 10 min); noded thawed, the node is up
# again.
check_autopc() {
	local p ups rem cyc0 back s t why
	p=$NODED_2
	ups=$(ups_of BOARD-2)
	rem=$(grep -c "board BOARD-2 removed" "$(L hubd)")
	cyc0=$(status_json | jq '.failover.power_cycles')
	back=$(back_of BOARD-2)
	kill -STOP "$p"
	s=$SECONDS
	if wait_for $((AUTOPC_S + 90)) grep -q "auto power-cycle of USB .* done" "$(L hubd)"; then
		t=$((SECONDS - s))
		note "BOARD-2 frozen: hubd power-cycled its port after $t s: $(grep -m1 'silent for' "$(L hubd)" | sed 's/.*usbfarm: //')"
		[ "$t" -ge "$AUTOPC_S" ] && [ "$(status_json | jq '.failover.power_cycles')" -eq $((cyc0 + 1)) ] &&
			ok autopc_cycles_silent_board ||
			fail autopc_cycles_silent_board "after $t s, power_cycles $cyc0 -> $(status_json | jq '.failover.power_cycles')"
	else
		why=$(grep -E "auto power-cycle|power-cycle" "$(L hubd)" | tail -n 2 | tr '\n' ';')
		fail autopc_cycles_silent_board "no power-cycle by hubd: $why"
	fi
	wait_for 60 eval '[ "$(grep -c "board BOARD-2 removed" "$(L hubd)")" -gt "$rem" ]' &&
		wait_for 120 eval '[ "$(back_of BOARD-2)" -gt "$back" ]' && ok autopc_port_dropped_and_back ||
		fail autopc_port_dropped_and_back "removed $rem -> $(grep -c "board BOARD-2 removed" "$(L hubd)"), enrolled again $back -> $(back_of BOARD-2), state $(state_of BOARD-2)"
	if wait_for $((AUTOPC_S + 60)) grep -q "BOARD-2 silent for .* held back" "$(L hubd)"; then
		[ "$(status_json | jq '.failover.power_cycles')" -eq $((cyc0 + 1)) ] && ok autopc_once_per_port ||
			fail autopc_once_per_port "power_cycles $cyc0 -> $(status_json | jq '.failover.power_cycles')"
	else
		fail autopc_once_per_port "no held-back line: $(grep 'power-cycle' "$(L hubd)" | tail -n 2 | tr '\n' ';')"
	fi
	kill -CONT "$p"
	wait_for 120 eval '[ "$(ups_of BOARD-2)" -gt "$ups" ] && node_up BOARD-2' && ok autopc_node_reenrolls ||
		fail autopc_node_reenrolls "sessions up $ups -> $(ups_of BOARD-2), state $(state_of BOARD-2)"
}

# one mode: hubd, the three boards with this function, the checks
run_mode() {
	MODE=${1%%:*} DEPTH=${1#*:}
	[ "$DEPTH" = "$1" ] && DEPTH=full
	MODEFLAG=--$MODE
	note "mode $MODE ($DEPTH)"
	start_hubd || return 1
	local i
	for i in $(seq "$N"); do board_up "$i" || return 1; note "board $i up"; done
	ok gadgets_up
	check_enroll
	check_build
	if [ "$DEPTH" = full ]; then
		check_power
		check_removed	# the refusals run while hubd forgets BOARD-3
		check_autopc
	fi
	check_bench
}

main() {
	note "guest: $(uname -r), $(nproc) CPUs, modes ${MODES[*]}, up at ${t0} s"
	setup_kernel || return 1
	start_udev || return 1
	local md
	for md in "${MODES[@]}"; do
		run_mode "$md"
		boards_down
	done
	note "guest checks took $(awk -v a="$(cut -d' ' -f1 /proc/uptime)" -v b="$t0" 'BEGIN { printf "%.0f", a - b }') s"
}
main
if [ "$FAILS" -gt 0 ] || [ -n "${USBTEST_LOGS:-}" ]; then
	for f in "$T"/*-hubd.log "$T"/*-noded*.log "$T"/udevd.log; do
		[ -f "$f" ] && { echo "# ---- $f"; tail -n 40 "$f" | sed 's/^/# /'; }
	done
fi
[ "$FAILS" -eq 0 ]
