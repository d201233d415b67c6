# farm.sh — the one shell library for a virtual farm (scripts/simfarm)
# with usbfarm's daemons on it, for the integration tests, the demo and the
# benchmarks. Source it; it sets FARM_ROOT (the tree), SIMFARM (= SF, the
# one place simfarm's path is set) and BIN (build/bin), and defines:
#
#   farm_bg PREFIX NS LOG CMD...           CMD in namespace NS, in the
#                                          background, appending to LOG; its
#                                          PID in FARM_BG_PID
#   farm_ifaces PREFIX NODES               the hub's end of each node link
#   farm_nodes_up SOCK                     node sessions hubd reports up
#
# For the demo and the benchmarks (explicit arguments, daemons by PID in
# FARM_PIDS):
#   farm_up PREFIX NODES RATE [CPU]        simfarm up
#   farm_start_usbfarm PREFIX NODES SLOTS SOCK LOGDIR   noded per node, hubd on the hub
#                                          (FARM_STORE_DIR set: node i's store is
#                                          FARM_STORE_DIR/i; FARM_HUB_CGROUP set:
#                                          hubd runs in that cpuacct cgroup;
#                                          FARM_HUBD_ARGS: more hubd options)
#   farm_cg_make NAME / farm_cg_cpu NAME / farm_cg_kill NAME / farm_cg_rm NAME
#                                          a cpuacct cgroup for hub-side CPU
#   farm_cg_run NAME CMD...                CMD inside it
#   farm_wait_up SOCK NODES                wait until hubd has NODES sessions up
#   farm_start_distcc PREFIX NODES SLOTS LOGDIR         distccd per node (IPv4 for TCP only)
#   farm_stop_daemons                      end what farm_start_* started (by PID)
#   farm_down PREFIX
#
# For the tests (after tests/lib/sh.sh, with FARM_PREFIX set: call
# farm_test_setup, as tests/lib/farm.sh does): a farm with hubd in the hub
# namespace, noded in each node namespace, dcc in the root namespace (the
# unix socket works across network namespaces). Everything started is
# recorded by PID and stopped by farm_cleanup (the EXIT trap farm_init
# installs). As a user would have it: hubd and noded run as root (hubd
# drops to the `usbfarm` user itself), dcc and hubctl run as FARM_USER, a
# normal user in the `usbfarm` group (as_user, user_in). The group and the
# `usbfarm` user are created if missing and left (shared); FARM_USER
# (uftest$SIMFARM_TAG) is created if missing and then deleted by
# farm_cleanup.
FARM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIMFARM=$FARM_ROOT/scripts/simfarm
SF=$SIMFARM
BIN=$FARM_ROOT/build/bin
FARM_PIDS=()

# farm_bg PREFIX NS LOG CMD...: CMD in namespace NS, in the background
# (FARM_BG_CG set: inside that cpuacct cgroup, entered before the namespace:
# `ip netns exec` mounts its own /sys, without the cgroup hierarchies).
farm_bg() {
	local prefix=$1 ns=$2 log=$3 cg=(); shift 3
	[ -n "${FARM_BG_CG:-}" ] && cg=(farm_cg_run "$FARM_BG_CG")
	"${cg[@]}" "$SIMFARM" exec --prefix "$prefix" "$ns" "$@" >>"$log" 2>&1 &
	FARM_BG_PID=$!
}

farm_ifaces() {
	local i
	for i in $(seq 1 "$2"); do "$SIMFARM" ifname --prefix "$1" hub "$i"; done
}

# ---- the demo and the benchmarks ----

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
	mapfile -t ifaces < <(farm_ifaces "$prefix" "$nodes")
	for i in $(seq 1 "$nodes"); do
		: >"$logdir/noded$i.log"
		local store=()
		[ -n "${FARM_STORE_DIR:-}" ] && store=(--store "$FARM_STORE_DIR/$i")
		farm_bg "$prefix" node"$i" "$logdir/noded$i.log" "$BIN/noded" --id "board-$i" \
			--slots "$slots" "${store[@]}" usb0
		FARM_PIDS+=("$FARM_BG_PID")
	done
	rm -f "$sock"
	: >"$logdir/hubd.log"
	# shellcheck disable=SC2086
	FARM_BG_CG=${FARM_HUB_CGROUP:-} farm_bg "$prefix" hub "$logdir/hubd.log" "$BIN/hubd" --socket "$sock" \
		${FARM_HUBD_ARGS:-} "${ifaces[@]}"
	FARM_PIDS+=("$FARM_BG_PID")
	FARM_HUBD_PID=$FARM_BG_PID
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

# cpuacct cgroups (v1) for the hub side's CPU: every process started in one
# (and everything it starts, daemons included) is counted. The name carries
# SIMFARM_TAG as namespaces do: two benches at once must not share (and
# farm_cg_kill each other's daemons in) one cgroup.
farm_cg_path() { echo "/sys/fs/cgroup/cpuacct/usbfarm-${SIMFARM_TAG:-}$1"; }
farm_cg_make() { mkdir -p "$(farm_cg_path "$1")"; }
farm_cg_run() {
	local cg; cg=$(farm_cg_path "$1"); shift
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}
# farm_cg_cpu NAME: CPU seconds used so far by the cgroup's processes, live or ended.
farm_cg_cpu() { awk '{ printf "%.2f", $1 / 1e9 }' "$(farm_cg_path "$1")/cpuacct.usage"; }
# farm_cg_kill NAME: ends every process left in it (by PID) and waits for them.
farm_cg_kill() {
	local f p n
	f=$(farm_cg_path "$1")/cgroup.procs
	[ -f "$f" ] || return 0
	while read -r p; do kill "$p" 2>/dev/null || true; done <"$f"
	for n in $(seq 1 50); do [ -s "$f" ] || return 0; sleep 0.1; done
	while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$f"
	: "$n"
}
farm_cg_rm() {
	local d; d=$(farm_cg_path "$1")
	[ -d "$d" ] || return 0
	farm_cg_kill "$1"
	rmdir "$d" 2>/dev/null || true
}

# proc_cpu PID: CPU seconds (user+sys) used so far by a live process.
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# ---- the tests ----

# farm_test_setup: the test farm's state (FARM_TMP, hubd's socket, the
# test user).
farm_test_setup() {
	FARM_TMP=$(mktemp -d "/tmp/usbfarm-${FARM_PREFIX}XXXXXX")
	chmod 0755 "$FARM_TMP"
	# hubd creates run/ itself (0750, group usbfarm)
	export USBFARM_SOCKET=$FARM_TMP/run/hubd.sock
	FARM_USER=uftest${SIMFARM_TAG:-}
	FARM_MADE_USER=""
	HUBD_PID=""
	# HUBD_PREFIX: a command put in front of hubd (e.g. prlimit --nofile=48:48)
	HUBD_PREFIX=()
	declare -gA NODED_PID=()
	FARM_N=0
}

farm_cleanup() {
	local p
	[ -n "$HUBD_PID" ] && kill "$HUBD_PID" 2>/dev/null
	for p in "${NODED_PID[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$HUBD_PID" ] && wait "$HUBD_PID" 2>/dev/null
	for p in "${NODED_PID[@]}"; do wait "$p" 2>/dev/null; done
	"$SF" down --prefix "$FARM_PREFIX" -q >/dev/null 2>&1 || true
	[ -n "$FARM_MADE_USER" ] && userdel "$FARM_USER" >/dev/null 2>&1
	# A sanitizer report in a daemon or in dcc would otherwise go unseen (the
	# build falls back to local and passes): every log is checked.
	local log
	for log in "$FARM_TMP"/*.log; do
		[ -f "$log" ] || continue
		if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
			fail "sanitizer-clean-$(basename "$log" .log)" \
				"$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log")"
		fi
	done
	if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $FARM_TMP"; else rm -rf "$FARM_TMP"; fi
}

# farm_init N: checks prerequisites (prints skip and exits 0 when missing),
# brings the farm up.
farm_init() {
	local b
	trap farm_cleanup EXIT
	[ "$(id -u)" -eq 0 ] || { skip farm "needs root (namespaces, raw sockets)"; exit 0; }
	for b in hubd noded dcc hubctl; do
		[ -x "$T_BIN/$b" ] || { skip farm "$T_BIN/$b not built"; exit 0; }
	done
	farm_users || { fail farm-users "cannot create the usbfarm group/user or $FARM_USER"; exit 1; }
	FARM_N=$1
	"$SF" up "$1" --prefix "$FARM_PREFIX" --force -q || { fail farm-up "simfarm up failed"; exit 1; }
}

# farm_users: the usbfarm group and user (left for others), FARM_USER in
# that group (ours), FARM_TMP/home its home.
farm_users() {
	getent group usbfarm >/dev/null || groupadd -r usbfarm || return 1
	getent passwd usbfarm >/dev/null ||
		useradd -r -g usbfarm -M -d /nonexistent -s /usr/sbin/nologin usbfarm || return 1
	if ! id "$FARM_USER" >/dev/null 2>&1; then
		useradd -M -d /nonexistent -s /bin/sh -G usbfarm "$FARM_USER" || return 1
		FARM_MADE_USER=1
	fi
	id -nG "$FARM_USER" | tr ' ' '\n' | grep -qx usbfarm || usermod -a -G usbfarm "$FARM_USER" || return 1
	mkdir -p "$FARM_TMP/home/run" && chmod 0700 "$FARM_TMP/home/run" &&
		chown -R "$FARM_USER:" "$FARM_TMP/home"
}

# as_user CMD...: CMD as FARM_USER (its own groups, usbfarm among them), with
# its own HOME and runtime dir (dcc's markers), both inside FARM_TMP.
as_user() {
	setpriv --reuid "$FARM_USER" --regid "$FARM_USER" --init-groups \
		env XDG_RUNTIME_DIR="$FARM_TMP/home/run" HOME="$FARM_TMP/home" USER="$FARM_USER" \
		LOGNAME="$FARM_USER" "$@"
}
# user_in DIR CMD...: gives DIR to FARM_USER and runs CMD there as that user.
user_in() {
	local d=$1; shift
	chown -R "$FARM_USER:" "$d" && (cd "$d" && as_user "$@")
}

# start_hubd [HUBD OPTIONS]: hubd in the hub namespace on every node link.
start_hubd() {
	local ifs=()
	mapfile -t ifs < <(farm_ifaces "$FARM_PREFIX" "$FARM_N")
	farm_bg "$FARM_PREFIX" hub "$FARM_TMP/hubd.log" "${HUBD_PREFIX[@]}" "$T_BIN/hubd" -v \
		--socket "$USBFARM_SOCKET" "$@" "${ifs[@]}"
	HUBD_PID=$FARM_BG_PID
	wait_for 100 test -S "$USBFARM_SOCKET"
}

# start_hubd_bare [OPTIONS]: hubd with no node interfaces.
start_hubd_bare() {
	farm_bg "$FARM_PREFIX" hub "$FARM_TMP/hubd.log" "${HUBD_PREFIX[@]}" "$T_BIN/hubd" -v \
		--socket "$USBFARM_SOCKET" "$@"
	HUBD_PID=$FARM_BG_PID
	wait_for 100 test -S "$USBFARM_SOCKET"
}

stop_hubd() {
	[ -n "$HUBD_PID" ] || return 0
	kill "$HUBD_PID" 2>/dev/null
	wait "$HUBD_PID" 2>/dev/null
	HUBD_PID=""
}

# start_noded I [NODED OPTIONS]
start_noded() {
	local i=$1; shift
	farm_bg "$FARM_PREFIX" "node$i" "$FARM_TMP/noded$i.log" "$T_BIN/noded" -v --id "node$i" \
		"$@" usb0
	NODED_PID[$i]=$FARM_BG_PID
}

stop_noded() {
	local i=$1 sig=${2:-TERM}
	[ -n "${NODED_PID[$i]:-}" ] || return 0
	kill "-$sig" "${NODED_PID[$i]}" 2>/dev/null
	wait "${NODED_PID[$i]}" 2>/dev/null
	unset "NODED_PID[$i]"
}

# wait_for TENTHS CMD...: polls CMD every 0.1 s, at most TENTHS times.
wait_for() {
	local n=$1; shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

status_json() { as_user "$T_BIN/hubctl" status --json; }
# nodes_up K: at least K nodes are up with compilers
nodes_up() {
	[ "$(status_json | jq '[.nodes[] | select((.state | ascii_downcase) == "up" and (.compilers | length) > 0)] | length')" -ge "$1" ]
}
# jobs_done_per_node: "name=count ..." for the report
jobs_done_per_node() { status_json | jq -r '[.nodes[] | "\(.name)=\(.jobs_done)"] | join(" ")'; }
# every_node_did_work: each node has jobs_done > 0
every_node_did_work() {
	[ "$(status_json | jq '[.nodes[] | select(.jobs_done > 0)] | length')" -eq "$FARM_N" ]
}
remote_jobs_done() { status_json | jq '[.nodes[].jobs_done] | add'; }

# gen_tree DIR COUNT: a generated C code base (COUNT .c files, a header, a
# Makefile honouring CC/CFLAGS, objects in obj/ with -MD dependency files).
gen_tree() {
	local d=$1 n=$2 i
	mkdir -p "$d/include" "$d/src"
	cat >"$d/include/common.h" <<'EOF'
#ifndef COMMON_H
#define COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
struct item { uint32_t key; double weight; char name[24]; };
static inline uint32_t mix(uint32_t x) { x ^= x >> 16; x *= 0x45d9f3bu; x ^= x >> 16; return x; }
#define SQUARE(x) ((x) * (x))
#endif
EOF
	for i in $(seq 1 "$n"); do
		cat >"$d/src/f$i.c" <<EOF
#include "common.h"
#include <stdio.h>
/* generated file $i */
static struct item table_$i[$((i % 7 + 3))];
double f$i(uint32_t seed)
{
	double acc = 0;
	for (size_t k = 0; k < sizeof table_$i / sizeof table_$i[0]; k++) {
		table_$i[k].key = mix(seed + (uint32_t)k * $i);
		table_$i[k].weight = SQUARE((double)table_$i[k].key / 65536.0);
		snprintf(table_$i[k].name, sizeof table_$i[k].name, "item-%u-%zu", $i, k);
		acc += table_$i[k].weight + (double)strlen(table_$i[k].name);
	}
	return acc;
}
EOF
	done
	cat >"$d/Makefile" <<'EOF'
SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,obj/%.o,$(SRCS))
all: $(OBJS)
obj/%.o: src/%.c
	@mkdir -p obj
	$(CC) $(CFLAGS) -Iinclude -c $< -o $@
clean:
	rm -rf obj
EOF
}

# same_outputs REF DIR: every .o and .d in REF/ equals the one in DIR/ (and
# DIR has no others). Prints the first differences.
same_outputs() {
	local ref=$1 dir=$2 f bad=0 n=0
	for f in "$ref"/*.o "$ref"/*.d; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		if ! cmp -s "$f" "$dir/$(basename "$f")"; then
			[ $bad -lt 3 ] && echo "# differs: $(basename "$f")"
			bad=$((bad + 1))
		fi
	done
	[ "$(ls "$dir" | grep -c '\.[od]$')" -eq "$n" ] || { echo "# file count differs"; bad=$((bad + 1)); }
	[ $n -gt 0 ] && [ $bad -eq 0 ]
}
