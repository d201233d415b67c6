#!/usr/bin/env bash
# node_hostile.sh — issue 6's attacks on a real noded (and hubd + dcc where
# a user could do it), on the virtual farm. node1 is driven by jobsend, a
# hostile hub that sends exactly the JOB it is told; its noded runs every
# compiler through sbprobe (--launcher), which plays a job that got code
# execution. node2 is a plain noded behind hubd, for dcc. Each case is
# refused with a clear error or contained by the sandbox; canary files
# outside never show up in any result; noded keeps serving; no process of a
# slot uid and no job dir is left at the end.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=nh1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 2
for t in jobsend sbprobe; do
	[ -x "$T_BUILD/tools/$t" ] || { fail tools "$T_BUILD/tools/$t not built"; exit 1; }
done
# every slot uid range our noded have had ("uids LO..HI" in their logs,
# kept in $FARM_TMP/ranges across log truncations)
note_ranges() {
	{ cat "$FARM_TMP/ranges" 2>/dev/null
	  sed -n 's/.*slots: uids \([0-9]*\)\.\.\([0-9]*\) .*/\1 \2/p' "$FARM_TMP"/noded*.log; } |
		sort -u >"$FARM_TMP/ranges.new"
	mv "$FARM_TMP/ranges.new" "$FARM_TMP/ranges"
}
# sbprobe runs inside jobs, under their address-space limit, which ASan's
# shadow memory cannot live with: the plain build's, when there is one
TOOLS=$(cd "$T_BUILD/tools" && pwd)
[ -x "$T_ROOT/build/tools/sbprobe" ] && TOOLS=$(cd "$T_ROOT/build/tools" && pwd)
start_noded 1 --slots 2 --launcher "$TOOLS/sbprobe" \
	--toolchain "/usr:/bin:/sbin:/lib:/lib64:/etc/ld.so.cache:/etc/alternatives:$TOOLS"
start_noded 2 --slots 2
IF1=$("$SF" ifname --prefix "$FARM_PREFIX" hub 1)
IF2=$("$SF" ifname --prefix "$FARM_PREFIX" hub 2)
"$SF" exec --prefix "$FARM_PREFIX" hub "$T_BIN/hubd" -v --socket "$USBFARM_SOCKET" "$IF2" \
	>>"$FARM_TMP/hubd.log" 2>&1 &
HUBD_PID=$!
wait_for 100 test -S "$USBFARM_SOCKET" || { fail hubd "no socket"; exit 1; }
wait_for 100 grep -q "jobs under" "$FARM_TMP/noded1.log" || { fail noded1 "did not start"; exit 1; }
ROOT1=$(sed -n 's/.*jobs under \([^;]*\);.*/\1/p' "$FARM_TMP/noded1.log" | tail -1)
wait_for 100 grep -q "jobs under" "$FARM_TMP/noded2.log"
ROOT2=$(sed -n 's/.*jobs under \([^;]*\);.*/\1/p' "$FARM_TMP/noded2.log" | tail -1)

# Canaries outside every job: a secret file (never in a result), and a
# file whose checksum must not change.
CAN=$FARM_TMP/canary/secret
mkdir -p "$FARM_TMP/canary"
TOKEN="usbfarm-canary-$RANDOM$RANDOM$RANDOM"
echo "$TOKEN" >"$CAN"
# (content, owner and mode of the canary and its dir: row 3 chowned its
# target; /etc/passwd itself may change under other checkouts' tests)
can_state() { { sha256sum "$CAN"; stat -c '%u %g %a %n' "$CAN" "$(dirname "$CAN")"; } | sha256sum; }
CAN_SUM=$(can_state)

# job NAME TEXT INPUT_NAME OUTPUT_NAME [jobsend options]: one job on node1.
job() {
	local n=$1 text=$2 in=$3 out=$4; shift 4
	printf '%b' "$text" >"$FARM_TMP/$n.src"
	"$SF" exec --prefix "$FARM_PREFIX" hub "$T_BUILD/tools/jobsend" --iface "$IF1" --wait-s 60 \
		--input "$FARM_TMP/$n.src" --input-name "$in" --output-name "$out" \
		--obj-out "$FARM_TMP/$n.obj" "$@" >"$FARM_TMP/$n.res" 2>&1
}
field() { sed -n "s/^$2 //p" "$FARM_TMP/$1.res" | head -1; }
leaked() { grep -qaF -e "$TOKEN" -e "root:x:0:0" "$FARM_TMP/$1.res" "$FARM_TMP/$1.obj" 2>/dev/null; }
# refused NAME TEXT IN OUT ARGS…: the node refuses before running anything.
refused() {
	local n=$1; shift
	job "$n" "$@"
	if [ "$(field "$n" farm_error)" = -1 ] && field "$n" error | grep -q refused && ! leaked "$n"; then
		ok "$n"
	else
		fail "$n" "not refused: $(tr '\n' '|' <"$FARM_TMP/$n.res" | cut -c1-300)"
	fi
}
# contained NAME TEXT IN OUT ARGS…: it runs, and sees nothing outside.
contained() {
	local n=$1; shift
	job "$n" "$@"
	local fe st
	fe=$(field "$n" farm_error) st=$(field "$n" status)
	if [ -n "$fe" ] && ! leaked "$n" && { [ "$fe" != 0 ] || [ "$st" != 0 ]; }; then
		ok "$n"
	else
		fail "$n" "farm_error '$fe' status '$st' leaked=$(leaked "$n" && echo yes || echo no): $(tr '\n' '|' <"$FARM_TMP/$n.res" | cut -c1-300)"
	fi
}
C=(--arg -c --arg -x --arg c)

# ---- a normal job first: the hostile hub's tool works
job sane 'int f(int x) { return x + 1; }\n' a.c a.o "${C[@]}"
if [ "$(field sane farm_error)" = 0 ] && [ "$(field sane status)" = 0 ] && [ "$(field sane obj_len)" -gt 0 ]; then
	ok sane-job
else
	fail sane-job "$(tr '\n' '|' <"$FARM_TMP/sane.res")"; exit 1
fi

# ---- row 1: names that read as response files or options
refused row1-at-input '-wrapper /bin/sh,-c,(id;head -2 /etc/passwd)>a/x.o -x c /dev/null\n' '@a/../@a.c' a.o "${C[@]}"
refused row1-at-output 'int b;\n' b.c '@b' "${C[@]}"
refused row1-at-output-dir 'int b;\n' b.c 'a/@b.o' "${C[@]}"
refused row1-dash-input 'int b;\n' '-b.c' b.o "${C[@]}"
refused row1-dash-input-dir 'int b;\n' 'x/-b.c' b.o "${C[@]}"
refused row1-dash-output 'int b;\n' b.c 'o/-b.o' "${C[@]}"
refused row1-at-arg 'int b;\n' b.c b.o "${C[@]}" --arg '@args'
refused row1-wrapper-arg 'int b;\n' b.c b.o "${C[@]}" --arg -wrapper --arg /bin/sh
refused row1-abs-output 'int b;\n' b.c /tmp/b.o "${C[@]}"
refused row1-dotdot-output 'int b;\n' b.c ../b.o "${C[@]}"

# ---- compile only: one -c/-S, one explicit -x matching the suffix
refused compile-no-c 'int b;\n' b.c b.o --arg -x --arg c
refused compile-no-x 'int b;\n' b.c b.o --arg -c
refused compile-x-none 'int b;\n' b.c b.o --arg -c --arg -x --arg none
refused compile-two-x 'int b;\n' b.c b.o "${C[@]}" --arg -x --arg c++
refused compile-not-a-source-suffix 'int b;\n' b.txt b.o "${C[@]}"
refused compile-asm-cpp 'nop\n' b.S b.o --arg -c --arg -x --arg assembler-with-cpp
refused row5-linker-script 'SECTIONS { }\n' x.lds x.o --arg -x --arg c
refused row5-fortran 'include "/etc/passwd"\n' a.f a.o --arg -c --arg -x --arg f77

# ---- row 6: assembler and linker options outside the allow-list
refused row6-wa-al 'int b;\n' b.c b.o "${C[@]}" --arg -Wa,--al=F
refused row6-wa-md 'int b;\n' b.c b.o "${C[@]}" --arg -Wa,-MD=F
refused row6-xassembler-al 'int b;\n' b.c b.o "${C[@]}" --arg -Xassembler --arg --al=F
refused row6-wa-listing 'int b;\n' b.c b.o "${C[@]}" --arg -Wa,-adhln=F
refused row6-wl 'int b;\n' b.c b.o "${C[@]}" --arg -Wl,-T,x
refused row6-plugin 'int b;\n' b.c b.o "${C[@]}" --arg -fplugin=/tmp/x.so
refused row6-B 'int b;\n' b.c b.o "${C[@]}" --arg -B/tmp
refused row6-specs 'int b;\n' b.c b.o "${C[@]}" --arg -specs=/tmp/x

# ---- row 5: source text that makes gcc/gas read files: contained
contained row5-incbin-canary "asm(\".incbin \\\\\"$CAN\\\\\"\");\\n" i.c i.o "${C[@]}"
contained row5-incbin-passwd 'asm(".incbin \\"/etc/passwd\\"");\n' i.c i.o "${C[@]}"
contained row5-asm-include 'asm(".include \\"/etc/passwd\\"");\n' i.c i.o "${C[@]}"
contained row5-include-canary "#include \"$CAN\"\\n" i.c i.o "${C[@]}"
contained row5-nul-before-include '\0#include "/etc/passwd"\n' i.c i.o "${C[@]}"
contained row5-bom-before-include '\xef\xbb\xbf#include "/etc/passwd"\n' i.c i.o "${C[@]}"
contained row5-line-marker-error '# 1 "/etc/passwd"\n#error x\n' i.c i.o "${C[@]}"
contained row5-embed "const char d[] = {\\n#embed \"$CAN\"\\n};\\n" i.c i.o "${C[@]}"

# ---- row 2: a job plants symlinks; root must not read through them
job row2-symlink '// probe: symlink-out /etc/shadow\nint x;\n' s.c etc/shadow "${C[@]}"
if [ "$(field row2-symlink farm_error)" != 0 ] && [ "$(field row2-symlink obj_len)" = 0 ] &&
	! leaked row2-symlink; then ok row2-symlink-output; else
	fail row2-symlink-output "$(tr '\n' '|' <"$FARM_TMP/row2-symlink.res" | cut -c1-300)"; fi
job row2-symlink-canary "// probe: symlink-out $CAN\\nint x;\\n" s.c s.o "${C[@]}"
if [ "$(field row2-symlink-canary farm_error)" != 0 ] && ! leaked row2-symlink-canary; then
	ok row2-symlink-canary; else fail row2-symlink-canary "$(tr '\n' '|' <"$FARM_TMP/row2-symlink-canary.res" | cut -c1-300)"; fi
job row2-fifo '// probe: fifo-out\nint x;\n' s.c s.o "${C[@]}"
if [ "$(field row2-fifo farm_error)" != 0 ]; then ok row2-fifo-output-no-hang; else
	fail row2-fifo-output-no-hang "$(tr '\n' '|' <"$FARM_TMP/row2-fifo.res")"; fi

# ---- row 3: a process left running does not survive its job
job row3-linger '// probe: linger\nint x;\n' l.c l.o "${C[@]}"
# processes of our nodes' slot uids (other checkouts' farms may run jobs
# on this machine too), zombies (dead, waiting for init) aside
slot_procs() {
	note_ranges
	ps -eo uid=,stat= | awk -v r="$(tr '\n' ' ' <"$FARM_TMP/ranges")" '
		BEGIN { n = split(r, a, " ") }
		$2 !~ /^Z/ { for (i = 1; i < n; i += 2) if ($1 >= a[i] && $1 <= a[i + 1]) { c++; break } }
		END { print c + 0 }'
}
no_procs() { [ "$(slot_procs)" -eq 0 ]; }
procs_ge() { [ "$(slot_procs)" -ge "$1" ]; }
started_gt() { [ "$(grep -c 'started' "$FARM_TMP/noded2.log")" -gt "$1" ]; }
if [ "$(field row3-linger status)" = 0 ] && wait_for 50 no_procs; then
	ok row3-lingering-process-ended; else fail row3-lingering-process-ended "$(slot_procs) slot processes"; fi

# ---- the sandbox: what a job sees
job sandbox "// probe: report $CAN\\nint x;\\n" r.c r.o "${C[@]}"
p() { sed -n 's/^stderr //; s/\\n/\n/g; p' "$FARM_TMP/sandbox.res" | sed -n "s/^PROBE $1 //p" | head -1; }
expect() { # NAME PROBE-KEY REGEX
	local v; v=$(p "$2")
	if echo "$v" | grep -Eq "$3"; then ok "$1"; else fail "$1" "$2 = '$v'"; fi
}
expect sandbox-uid-own uid "^15[0-9]{8} 15[0-9]{8}$"
expect sandbox-no-new-privs 'NoNewPrivs:' '^1$'
expect sandbox-no-caps 'CapEff:' '^0+$'
expect sandbox-seccomp 'Seccomp:' '^2$'
expect sandbox-etc-passwd etc_passwd 'No such file'
expect sandbox-etc-shadow etc_shadow 'No such file'
expect sandbox-home home 'No such file'
expect sandbox-tmp tmp '^\[usbfarm-noded\.[0-9]+\]$'
expect sandbox-canary canary 'No such file'
expect sandbox-network net_connect 'unreachable|Network'
expect sandbox-ifaces ifaces '^\[lo\]$'
expect sandbox-pid-1 pid '^1$'
expect sandbox-no-parent kill_1 'visible'
expect sandbox-no-userns unshare_user 'not permitted'
expect sandbox-usr-readonly write_usr 'Read-only'
expect sandbox-root-readonly write_root 'Read-only'
expect sandbox-other-slots slot_dir '^\[usbfarm-job\.[A-Za-z0-9]+\]$'
expect sandbox-job-root job_root '^\[[01]\]$'
# PATH, TMPDIR, HOME, LC_ALL (C, or C.UTF-8 for a user's UTF-8 diagnostics)
expect sandbox-env env_count '^4$'
expect sandbox-tmpdir tmpdir '/j/tmp$'
# the parent's processes: only the job's own in /proc (PID 1 is the probe)
v=$(p proc | tr -d '[]' | tr ',' '\n' | grep -E '^[0-9]+$' | tr '\n' ' ')
if [ "$v" = "1 " ]; then ok sandbox-proc-only-own; else fail sandbox-proc-only-own "pids: $v"; fi

# ---- row 10: a huge object hits the node's file-size limit, not the disk
job row10-huge 'char a[500u<<20] = {1};\n' h.c h.o "${C[@]}"
if [ "$(field row10-huge obj_len)" = 0 ] && { [ "$(field row10-huge status)" != 0 ] ||
	[ "$(field row10-huge farm_error)" != 0 ]; }; then ok row10-huge-object-capped; else
	fail row10-huge-object-capped "$(tr '\n' '|' <"$FARM_TMP/row10-huge.res" | cut -c1-300)"; fi
# the node's memory ceiling wins over a hub asking for more
job row10-mem 'int x;\n' m.c m.o "${C[@]}" --mem 1099511627776
if [ "$(field row10-mem status)" = 0 ]; then ok row10-mem-request-capped; else
	fail row10-mem-request-capped "$(tr '\n' '|' <"$FARM_TMP/row10-mem.res")"; fi

# ---- row 7: cancel, by the protocol and by a user's Ctrl-C through dcc
job row7-cancel '// probe: hang\nint x;\n' c.c c.o "${C[@]}" --cancel-after-ms 1500
if [ "$(field row7-cancel farm_error)" = -125 ] && wait_for 50 no_procs; then
	ok row7-cancel-ends-job; else fail row7-cancel-ends-job "$(field row7-cancel farm_error) $(slot_procs) procs"; fi
job row7-timeout '// probe: hang\nint x;\n' c.c c.o "${C[@]}" --timeout-ms 1000
if [ "$(field row7-timeout farm_error)" = -110 ] && wait_for 50 no_procs; then
	ok row7-timeout-ends-job; else fail row7-timeout-ends-job "$(field row7-timeout farm_error) $(slot_procs) procs"; fi
wait_for 100 nodes_up 1
G=$FARM_TMP/slow
mkdir -p "$G"
for i in $(seq 1 4000); do echo "int f$i(int x){return x*$i+f$((i > 1 ? i - 1 : 1))(x-1);}"; done >"$G/slow.c"
for k in 1 2 3 4 5 6; do
	before=$(grep -c 'started' "$FARM_TMP/noded2.log")
	(cd "$G" && exec "$T_BIN/dcc" gcc -O3 -c slow.c -o slow$k.o) >/dev/null 2>&1 &
	d=$!
	wait_for 200 started_gt "$before"
	kill -INT "$d" 2>/dev/null
	wait "$d" 2>/dev/null
done
if wait_for 100 no_procs; then ok row7-dcc-ctrl-c-no-process-left; else
	fail row7-dcc-ctrl-c-no-process-left "$(slot_procs) slot processes"; fi

# ---- the daemon keeps serving, and nothing is left
job after 'int g(int x) { return x - 1; }\n' a.c a.o "${C[@]}"
if [ "$(field after status)" = 0 ] && [ "$(field after obj_len)" -gt 0 ]; then ok still-serving; else
	fail still-serving "$(tr '\n' '|' <"$FARM_TMP/after.res")"; fi
empty_root() { [ -z "$(find "$1" -mindepth 2 2>/dev/null | head -1)" ]; }
if wait_for 50 empty_root "$ROOT1" && wait_for 50 empty_root "$ROOT2"; then ok no-job-dir-left; else
	fail no-job-dir-left "$(find "$ROOT1" "$ROOT2" -mindepth 2 | head -3 | tr '\n' ' ')"; fi
if [ "$(slot_procs)" -eq 0 ]; then ok no-process-left; else fail no-process-left "$(slot_procs)"; fi
if [ "$(can_state)" = "$CAN_SUM" ]; then ok canaries-unchanged; else
	fail canaries-unchanged "changed"; fi
for i in 1 2; do
	kill -0 "${NODED_PID[$i]}" 2>/dev/null && ok "noded$i-alive" || fail "noded$i-alive" "exited"
done

# ---- link loss and shutdown mid-job end the job and remove its dir
hang_job() { # starts a job that never ends on node1, in the background
	printf '// probe: hang\nint x;\n' >"$FARM_TMP/hang.src"
	"$SF" exec --prefix "$FARM_PREFIX" hub "$T_BUILD/tools/jobsend" --iface "$IF1" --wait-s 60 \
		--input "$FARM_TMP/hang.src" --input-name k.c --output-name k.o "${C[@]}" \
		>"$FARM_TMP/hang.res" 2>&1 &
	HANG_JS=$!
	wait_for 100 procs_ge 4
}
hang_job
kill -9 "$HANG_JS"; wait "$HANG_JS" 2>/dev/null	# the hub is gone: keepalives stop
if wait_for 150 no_procs && wait_for 50 empty_root "$ROOT1"; then ok link-loss-ends-job; else
	fail link-loss-ends-job "$(slot_procs) processes; $(find "$ROOT1" -mindepth 2 | head -2 | tr '\n' ' ')"; fi
hang_job
stop_noded 1 TERM
kill "$HANG_JS" 2>/dev/null; wait "$HANG_JS" 2>/dev/null
if wait_for 50 no_procs && empty_root "$ROOT1"; then ok shutdown-ends-job; else
	fail shutdown-ends-job "$(slot_procs) processes; $(find "$ROOT1" -mindepth 2 | head -2 | tr '\n' ' ')"; fi

# ---- kill -9 of noded mid-job: its successor ends what was left
start_kill9() { # MODE(hang|escape) EXTRA-NODED-OPTS…
	local mode=$1; shift
	stop_noded 1
	start_noded 1 --slots 2 --launcher "$TOOLS/sbprobe" \
		--toolchain "/usr:/bin:/sbin:/lib:/lib64:/etc/ld.so.cache:/etc/alternatives:$TOOLS" "$@"
	wait_for 100 grep -q "serving on" "$FARM_TMP/noded1.log"
	printf '// probe: %s\nint x;\n' "$mode" >"$FARM_TMP/k9.src"
	"$SF" exec --prefix "$FARM_PREFIX" hub "$T_BUILD/tools/jobsend" --iface "$IF1" --wait-s 30 \
		--input "$FARM_TMP/k9.src" --input-name k.c --output-name k.o "${C[@]}" \
		>"$FARM_TMP/k9.res" 2>&1 &
	local js=$!
	wait_for 100 procs_ge 4
	local n; n=$(slot_procs)
	kill -9 "${NODED_PID[1]}"
	wait "${NODED_PID[1]}" 2>/dev/null
	unset "NODED_PID[1]"
	echo "# kill -9 ($mode): $n job processes were running"
	kill "$js" 2>/dev/null; wait "$js" 2>/dev/null
}
start_kill9 hang
# sandboxed: the job dies with noded (death signals, PID namespace)
if wait_for 50 no_procs; then ok kill9-sandboxed-job-died-with-noded; else
	fail kill9-sandboxed-job-died-with-noded "$(slot_procs) left"; fi
: >"$FARM_TMP/noded1.log"
start_noded 1 --slots 2
wait_for 100 grep -q "serving on" "$FARM_TMP/noded1.log"
if grep -Eq "removed [1-9][0-9]* stale" "$FARM_TMP/noded1.log" && empty_root "$ROOT1"; then
	ok kill9-restart-sweeps-dirs; else fail kill9-restart-sweeps-dirs "$(grep 'jobs under' "$FARM_TMP/noded1.log")"; fi
# without the sandbox, children in their own sessions outlive noded: the
# successor ends them (by the slots' uids) before it takes work
start_kill9 escape --insecure-no-sandbox
left=$(slot_procs)
: >"$FARM_TMP/noded1.log"
start_noded 1 --slots 2
wait_for 100 grep -q "serving on" "$FARM_TMP/noded1.log"
if [ "$left" -gt 0 ] && grep -Eq "ended [1-9][0-9]* leftover" "$FARM_TMP/noded1.log" &&
	wait_for 50 no_procs; then ok kill9-restart-ends-orphans; else
	fail kill9-restart-ends-orphans "$left left after kill -9; $(grep 'jobs under' "$FARM_TMP/noded1.log") ; now $(slot_procs)"; fi

# ---- no sandbox possible (here: noded not root, only CAP_NET_RAW for its
# link): it says so at start and refuses every job, unless told
# --insecure-no-sandbox
nonroot_noded() {
	stop_noded 1
	: >"$FARM_TMP/noded1.log"
	"$SF" exec --prefix "$FARM_PREFIX" node1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=+net_raw --ambient-caps=+net_raw "$T_BIN/noded" -v --id node1 --slots 1 "$@" \
		usb0 >>"$FARM_TMP/noded1.log" 2>&1 &
	NODED_PID[1]=$!
	wait_for 100 grep -q "serving on" "$FARM_TMP/noded1.log"
}
nonroot_noded
job nosb 'int f(int x) { return x; }\n' a.c a.o "${C[@]}"
if grep -q "no sandbox.*every job is refused" "$FARM_TMP/noded1.log" &&
	[ "$(field nosb farm_error)" = -1 ] && field nosb error | grep -q "no sandbox"; then
	ok no-sandbox-refuses-jobs; else
	fail no-sandbox-refuses-jobs "$(tr '\n' '|' <"$FARM_TMP/nosb.res") $(grep -m1 sandbox "$FARM_TMP/noded1.log")"; fi
nonroot_noded --insecure-no-sandbox
job insecure 'int f(int x) { return x; }\n' a.c a.o "${C[@]}"
if grep -q "WITHOUT the sandbox" "$FARM_TMP/noded1.log" && [ "$(field insecure status)" = 0 ] &&
	[ "$(field insecure obj_len)" -gt 0 ]; then ok insecure-no-sandbox-runs-jobs; else
	fail insecure-no-sandbox-runs-jobs "$(tr '\n' '|' <"$FARM_TMP/insecure.res")"; fi
t_done
