# farm.sh — shared by scripts/demo and scripts/bench-dcc: a virtual farm with
# usbfarm's daemons (or distccd) running on it. Source it after setting ROOT.
#
#   farm_up PREFIX NODES RATE [CPU]        simfarm up
#   farm_start_usbfarm PREFIX NODES SLOTS SOCK LOGDIR   noded per node, hubd on the hub
#   farm_wait_up SOCK NODES                wait until hubd has NODES sessions up
#   farm_start_distcc PREFIX NODES SLOTS LOGDIR         distccd per node (IPv4 for TCP only)
#   farm_stop_daemons                      end what farm_start_* started (by PID)
#   farm_down PREFIX
FARM_PIDS=()
SIMFARM=$ROOT/scripts/simfarm
BIN=$ROOT/build/bin

# farm_snapshot_bin DIR: run from a private copy of the programs, so a
# rebuild in the tree during a long demo or benchmark cannot change them
# under its feet.
farm_snapshot_bin() {
	rm -rf "$1" && mkdir -p "$1" && cp -p "$ROOT"/build/bin/* "$1"/ && BIN=$1
}

farm_up() {
	local prefix=$1 nodes=$2 rate=$3 cpu=${4:-}
	local opts=(--prefix "$prefix")
	[ -n "$rate" ] && opts+=(--rate "$rate")
	[ -n "$cpu" ] && opts+=(--cpu "$cpu")
	"$SIMFARM" up "$nodes" "${opts[@]}"
}

farm_down() { "$SIMFARM" down --prefix "$1" >/dev/null 2>&1 || true; }

farm_start_usbfarm() {
	local prefix=$1 nodes=$2 slots=$3 sock=$4 logdir=$5 i ifaces=()
	for i in $(seq 1 "$nodes"); do
		ifaces+=("$("$SIMFARM" ifname hub "$i" --prefix "$prefix")")
		"$SIMFARM" exec node"$i" --prefix "$prefix" "$BIN/noded" --id "board-$i" \
			--slots "$slots" usb0 >"$logdir/noded$i.log" 2>&1 &
		FARM_PIDS+=($!)
	done
	rm -f "$sock"
	"$SIMFARM" exec hub --prefix "$prefix" "$BIN/hubd" --socket "$sock" "${ifaces[@]}" \
		>"$logdir/hubd.log" 2>&1 &
	FARM_PIDS+=($!)
	FARM_HUBD_PID=$!
}

# farm_nodes_up SOCK: how many node sessions hubd reports up.
farm_nodes_up() {
	USBFARM_SOCKET=$1 "$BIN/hubctl" status --json 2>/dev/null |
		python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin).get("nodes",[]) if n.get("state")=="up"))' 2>/dev/null || echo 0
}

farm_wait_up() {
	local sock=$1 nodes=$2 n=0 _
	for _ in $(seq 1 150); do
		n=$(farm_nodes_up "$sock")
		[ "$n" -ge "$nodes" ] && return 0
		sleep 0.2
	done
	echo "farm: only $n of $nodes nodes came up" >&2
	return 1
}

# distcc needs IPv4: node i is 10.77.i.2, the hub's end 10.77.i.1 (the same veth pair).
farm_distcc_hosts() {
	local nodes=$1 slots=$2 i h=()
	for i in $(seq 1 "$nodes"); do h+=("10.77.$i.2/$slots,lzo"); done
	echo "${h[*]}"
}

farm_start_distcc() {
	local prefix=$1 nodes=$2 slots=$3 logdir=$4 i hif
	for i in $(seq 1 "$nodes"); do
		hif=$("$SIMFARM" ifname hub "$i" --prefix "$prefix")
		"$SIMFARM" exec hub --prefix "$prefix" ip addr replace "10.77.$i.1/24" dev "$hif"
		"$SIMFARM" exec node"$i" --prefix "$prefix" ip addr replace "10.77.$i.2/24" dev usb0
		"$SIMFARM" exec node"$i" --prefix "$prefix" distccd --no-detach --daemon --log-stderr \
			--listen "10.77.$i.2" --allow "10.77.$i.1" --jobs "$slots" --user nobody \
			>"$logdir/distccd$i.log" 2>&1 &
		FARM_PIDS+=($!)
	done
	for i in $(seq 1 "$nodes"); do
		for _ in $(seq 1 50); do
			"$SIMFARM" exec hub --prefix "$prefix" bash -c "exec 3<>/dev/tcp/10.77.$i.2/3632" 2>/dev/null && break
			sleep 0.1
		done
	done
}

farm_stop_distcc_addrs() {
	local prefix=$1 nodes=$2 i hif
	for i in $(seq 1 "$nodes"); do
		hif=$("$SIMFARM" ifname hub "$i" --prefix "$prefix")
		"$SIMFARM" exec hub --prefix "$prefix" ip addr flush dev "$hif" 2>/dev/null || true
		"$SIMFARM" exec node"$i" --prefix "$prefix" ip addr flush dev usb0 2>/dev/null || true
	done
}

farm_stop_daemons() {
	local p
	for p in "${FARM_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${FARM_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	FARM_PIDS=()
}

# proc_cpu PID: CPU seconds (user+sys) used so far by a live process.
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
