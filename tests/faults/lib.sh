# lib.sh — helpers of the fault suite (tests/faults/faults.sh): the code base
# (the project's own C sources, ~45 files), a farm with one job dir per node,
# a build with a fault injected once a quarter of the objects exist, the
# comparison with a local build and the report line. Source after
# tests/lib/sh.sh and tests/lib/farm.sh. Every process started here is
# recorded by PID and ended by PID.
FX_NODES=3
FX_SLOTS=2
FX_JOBS=8
FX_T0=0
declare -a FX_BG=()

fx_cg_cpu() { echo "/sys/fs/cgroup/cpu/${SIMFARM_TAG:-}${FARM_PREFIX}farm/node$1"; }
fx_hub_if() { "$SF" ifname --prefix "$FARM_PREFIX" hub "$1"; }
fx_ns() { echo "${SIMFARM_TAG:-}${FARM_PREFIX}$1"; }

# fx_tree DIR: the code base and its Makefile (objects flattened into obj/).
fx_tree() {
	local d=$1 f o cflags
	mkdir -p "$d/obj"
	(cd "$T_ROOT" && cp -r --parents lib hub node tests/unit tests/tools tests/lib "$d/") 2>/dev/null
	find "$d" -name '*.o' -delete
	cflags="-std=c11 -O2 -g -MD -D_GNU_SOURCE -Ilib -Ihub -Inode $(pkg-config --cflags libnl-3.0 libnl-route-3.0 lzo2 libusb-1.0 2>/dev/null)"
	{
		echo "CFLAGS := $cflags"
		printf 'all:'
		for f in $(cd "$d" && ls lib/*.c hub/*.c node/*.c tests/unit/*.c tests/tools/*.c); do
			printf ' obj/%s.o' "$(echo "${f%.c}" | tr / _)"
		done
		echo
		for f in $(cd "$d" && ls lib/*.c hub/*.c node/*.c tests/unit/*.c tests/tools/*.c); do
			o=obj/$(echo "${f%.c}" | tr / _).o
			printf '%s: %s\n\t$(CC) $(CFLAGS) -c %s -o %s\n' "$o" "$f" "$f" "$o"
		done
	} >"$d/Makefile"
	FX_OBJS=$(grep -c '^obj/.*\.o:' "$d/Makefile")
}

# fx_reference DIR: the local build everything is compared with (DIR/ref).
fx_reference() {
	(cd "$1" && rm -rf obj && mkdir obj && make -j2 CC=gcc >/dev/null 2>&1) || return 1
	rm -rf "$1/ref" && mv "$1/obj" "$1/ref"
}

# fx_up [SIMFARM OPTIONS]: a fresh farm of FX_NODES boards.
fx_up() {
	fx_down
	"$SF" up "$FX_NODES" --prefix "$FARM_PREFIX" --force -q "$@" || return 1
	FARM_N=$FX_NODES
}

fx_down() {
	local p
	for p in "${FX_BG[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	FX_BG=()
	[ -n "$HUBD_PID" ] && kill -CONT "$HUBD_PID" 2>/dev/null
	stop_hubd
	for p in "${!NODED_PID[@]}"; do kill -CONT "${NODED_PID[$p]}" 2>/dev/null; stop_noded "$p"; done
	"$SF" down --prefix "$FARM_PREFIX" -q >/dev/null 2>&1 || true
}

# fx_jobdir I: node I's job dir root (outside FARM_TMP, which is 0700: the
# compilers run as an unprivileged user and must reach their dirs). Made
# once by fx_jobdirs_init (in the main shell, not in a $(...)).
declare -A FX_JOBDIR=()
fx_jobdirs_init() {
	local i
	for i in $(seq 1 "$FX_NODES"); do
		FX_JOBDIR[$i]=$(mktemp -d "/tmp/usbfarm-${SIMFARM_TAG:-}${FARM_PREFIX}jobs$i.XXXXXX")
		chmod 0755 "${FX_JOBDIR[$i]}"
	done
}
fx_jobdir() { echo "${FX_JOBDIR[$1]}"; }
fx_jobdirs_cleanup() {
	local d
	for d in "${FX_JOBDIR[@]}"; do
		mountpoint -q "$d" && umount "$d"
		rm -rf "$d"
	done
}

# fx_noded I [OPTIONS]: noded I with its own job dir root (fx_jobdir I).
fx_noded() {
	local i=$1; shift
	start_noded "$i" --slots "$FX_SLOTS" --tmpdir "$(fx_jobdir "$i")" "$@"
}

# fx_start: hubd (one local slot) and every noded; waits for them to be up.
fx_start() {
	local i
	start_hubd --local-slots 1 "$@"
	for i in $(seq 1 "$FX_NODES"); do fx_noded "$i"; done
	wait_for 300 nodes_up "$FX_NODES"
}

# fx_epoch I: node I's session epoch as hubd sees it; fx_new_epoch I OLD:
# node I is up with another epoch (a new noded).
fx_epoch() { fx_status | jq -r ".nodes[$(($1 - 1))].epoch"; }
fx_new_epoch() {
	fx_status | jq -e --arg o "$2" ".nodes[$(($1 - 1))] | (.state | ascii_downcase) == \"up\" and .epoch != \$o" >/dev/null
}

fx_objs_made() { ls "$G/obj" 2>/dev/null | grep -c '\.o$'; }

# fx_build NAME [INJECT [TIMEOUT]]: the farm build; INJECT (a function) runs
# once a quarter of the objects exist. Prints ok/FAIL for the build and for
# the objects, and the report line.
fx_build() {
	local name=$1 inject=${2:-} to=${3:-600} rc t0 t1
	rm -rf "$G/obj" && mkdir -p "$G/obj"
	t0=$(date +%s.%N)
	# its own session: dcc left blocked after a timeout is ended with it
	(cd "$G" && exec setsid timeout --kill-after=10 "$to" make -k -j"$FX_JOBS" CC="$T_BIN/dcc gcc") \
		>"$FARM_TMP/$name.build.log" 2>&1 &
	local mpid=$!
	if [ -n "$inject" ]; then
		local n=200 quarter=$((FX_OBJS / 4))
		while [ "$n" -gt 0 ] && [ "$(fx_objs_made)" -lt "$quarter" ] && kill -0 "$mpid" 2>/dev/null; do
			sleep 0.1; n=$((n - 1))
		done
		echo "# $name: fault injected with $(fx_objs_made)/$FX_OBJS objects made"
		"$inject"
	fi
	wait "$mpid"; rc=$?
	kill -KILL -- "-$mpid" 2>/dev/null
	t1=$(date +%s.%N)
	FX_BUILD_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [ "$rc" -eq 0 ]; then
		ok "$name-build"
	else
		fail "$name-build" "make exited $rc$([ "$rc" -eq 124 ] && echo " (timed out after ${to}s)"): $(grep -m2 -iE 'error|timed out' "$FARM_TMP/$name.build.log" | tr '\n' '|')"
	fi
	if same_outputs "$G/ref" "$G/obj" >"$FARM_TMP/$name.cmp" 2>&1; then
		ok "$name-objects"
	else
		fail "$name-objects" "$(tr '\n' ' ' <"$FARM_TMP/$name.cmp")"
	fi
	fx_report "$name"
}

# fx_status: hubctl status --json, given up after 10 s (a hubd out of file
# descriptors may never accept hubctl).
fx_status() { timeout 10 "$T_BIN/hubctl" status --json 2>/dev/null; }

# fx_report NAME: one '#' line from hubd's counters.
fx_report() {
	local s
	s=$(fx_status) || { printf "# %s: build %.1fs; hubd status unavailable\n" "$1" "$FX_BUILD_S"; return; }
	echo "$s" | jq -r --arg n "$1" --arg t "$FX_BUILD_S" --arg o "$FX_OBJS" '
		"# \($n): build \($t | tonumber | . * 10 | round / 10)s, \($o) objects compared; jobs \(.jobs.total): remote \(.jobs.remote), local \(.jobs.local), " +
		"retried \(.jobs.retried), fell back to dcc \(.jobs.failed) (by failover rules \(.failover.fallbacks)); " +
		"deadline misses \(.failover.deadline_misses), copies started \(.failover.backups_started) (won \(.failover.backups_won)), " +
		"node errors \(.failover.node_errors), backoffs \(.failover.backoffs); slowest recovery \(.failover.recovery_ms_max / 1000)s; " +
		"per node " + ([.nodes[] | "\(.name)=\(.jobs_done)"] | join(" "))'
}

# fx_procs_of_node I: PIDs in node I's cgroup (noded and whatever it started).
fx_procs_of_node() { cat "$(fx_cg_cpu "$1")/cgroup.procs" 2>/dev/null; }

# fx_stop_compilers I SIG: SIG to the compilers (not noded) running on node I.
fx_stop_compilers() {
	local p c n=0
	for p in $(fx_procs_of_node "$1"); do
		c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		case $c in cc1|cc1plus|as|gcc|collect2) kill "-$2" "$p" 2>/dev/null && n=$((n + 1)) ;; esac
	done
	echo "$n"
}

# fx_idle_clients N [PARTIAL]: N clients that connect to hubd and hang (with
# PARTIAL, after two bytes of a frame header). Recorded in FX_BG.
fx_idle_clients() {
	python3 - "$USBFARM_SOCKET" "$1" "${2:-}" <<'PY' &
import socket, sys, time
path, n, partial = sys.argv[1], int(sys.argv[2]), sys.argv[3]
held = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        pass
    except OSError:
        continue
    if partial and i % 2:
        try:
            s.send(b"\x00\x00")
        except OSError:
            pass
    held.append(s)
print("# %d idle clients connected" % len(held), flush=True)
time.sleep(3600)
PY
	FX_BG+=("$!")
}
