# farm.sh — helpers for the farm_*.sh integration tests: a virtual farm with
# hubd in the hub namespace, noded in each node namespace, dcc in the root
# namespace (the unix socket works across network namespaces). Source after
# sh.sh; set FARM_PREFIX first. Everything started is recorded by PID and
# stopped by farm_cleanup (installed as the EXIT trap by farm_init).
#
# As a user would have it: hubd and noded run as root (hubd drops to the
# `usbfarm` user itself), dcc and hubctl run as FARM_USER, a normal user in
# the `usbfarm` group (as_user, user_in). The group and the `usbfarm` user
# are created if missing and left (shared); FARM_USER (uftest$SIMFARM_TAG)
# is created if missing and then deleted by farm_cleanup.
SF=$T_ROOT/scripts/simfarm
FARM_TMP=$(mktemp -d "/tmp/usbfarm-${FARM_PREFIX}XXXXXX")
chmod 0755 "$FARM_TMP"
# hubd creates run/ itself (0750, group usbfarm)
export USBFARM_SOCKET=$FARM_TMP/run/hubd.sock
FARM_USER=uftest${SIMFARM_TAG:-}
FARM_MADE_USER=""
HUBD_PID=""
# HUBD_PREFIX: a command put in front of hubd (e.g. prlimit --nofile=48:48)
HUBD_PREFIX=()
declare -A NODED_PID=()
FARM_N=0

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
	mkdir -p "$FARM_TMP/home" && chown "$FARM_USER:" "$FARM_TMP/home"
}

# as_user CMD...: CMD as FARM_USER (its own groups, usbfarm among them), with
# its own HOME and no root runtime dir.
as_user() {
	setpriv --reuid "$FARM_USER" --regid "$FARM_USER" --init-groups \
		env -u XDG_RUNTIME_DIR HOME="$FARM_TMP/home" USER="$FARM_USER" LOGNAME="$FARM_USER" "$@"
}
# user_in DIR CMD...: gives DIR to FARM_USER and runs CMD there as that user.
user_in() {
	local d=$1; shift
	chown -R "$FARM_USER:" "$d" && (cd "$d" && as_user "$@")
}

# start_hubd [HUBD OPTIONS]: hubd in the hub namespace on every node link.
start_hubd() {
	local i ifs=()
	for i in $(seq 1 "$FARM_N"); do ifs+=("$("$SF" ifname --prefix "$FARM_PREFIX" hub "$i")"); done
	"$SF" exec --prefix "$FARM_PREFIX" hub "${HUBD_PREFIX[@]}" "$T_BIN/hubd" -v \
		--socket "$USBFARM_SOCKET" "$@" "${ifs[@]}" >>"$FARM_TMP/hubd.log" 2>&1 &
	HUBD_PID=$!
	wait_for 100 test -S "$USBFARM_SOCKET"
}

# start_hubd_bare [OPTIONS]: hubd with no node interfaces.
start_hubd_bare() {
	"$SF" exec --prefix "$FARM_PREFIX" hub "${HUBD_PREFIX[@]}" "$T_BIN/hubd" -v \
		--socket "$USBFARM_SOCKET" "$@" >>"$FARM_TMP/hubd.log" 2>&1 &
	HUBD_PID=$!
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
	"$SF" exec --prefix "$FARM_PREFIX" "node$i" "$T_BIN/noded" -v --id "node$i" "$@" usb0 \
		>>"$FARM_TMP/noded$i.log" 2>&1 &
	NODED_PID[$i]=$!
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
