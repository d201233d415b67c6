#!/usr/bin/env bash
# scan_kernel.sh — the hub's include scanner on a sample of the kernel's
# own files with their real flags (kbuild's command lines: -nostdinc, a
# dozen -I, three -include, generated headers, an assembler file), each
# checked against gcc: `gcc <same flags> -M` must list a SUBSET of the
# scanner's inputs, with the scanner's SHA-256 equal to every such file's
# current hash. Uses `make demo`'s tree (scripts/lib/scan-kernel.sh),
# unpacking and preparing it on the first run (minutes; then cached).
# timeout: 1500
set -u -o pipefail
source "$(dirname "$0")/../lib/sh.sh"
SCANJOB=$T_BUILD/tools/scanjob
[ -x "$SCANJOB" ] || { fail scanjob_built "no $SCANJOB (run make)"; t_done; exit; }
ROOT=$T_ROOT
source "$ROOT/scripts/lib/scan-kernel.sh"
scan_kernel_ready
case $? in
0) ;;
2) skip scan_kernel "$KSRC is not installed: the demo's workload (scripts/install-deps --demo installs linux-source-6.1)"; exit 0 ;;
*) fail scan_kernel_tree "cannot prepare $KDIR"; t_done; exit ;;
esac
W=$(mktemp -d /tmp/scan_kernel.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$KDIR" || exit 1
n=0
for o in $SCAN_KSAMPLE; do
	if ! scan_kernel_argv "$o"; then
		fail "kernel $o" "no command line in its .cmd file"; continue
	fi
	scan_strip_output "${KARGV[@]}"
	if ! "${PPARGV[@]}" -M -MF "$W/d" 2>"$W/err"; then
		fail "kernel $o" "gcc -M: $(head -n 2 "$W/err")"; continue
	fi
	if "$SCANJOB" --deps "$W/d" -- "${KARGV[@]}" >"$W/out" 2>&1; then
		"$SCANJOB" -- "${KARGV[@]}" >"$W/list" 2>&1
		gaps=$(grep -c '^gap ' "$W/list")
		ok "kernel $o: gcc's $(cut -d' ' -f3 "$W/out") files within the scan's $(cut -d' ' -f4 "$W/out"); $gaps computed include(s) unresolved, incomplete=$(sed -n 's/^incomplete //p' "$W/list")"
		n=$((n + 1))
	else
		fail "kernel $o" "$(head -n 3 "$W/out")"
	fi
done
[ "$n" -ge 10 ] && ok "kernel sample: $n files" || fail "kernel sample" "only $n files checked"
t_done
