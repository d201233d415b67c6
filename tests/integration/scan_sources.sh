#!/usr/bin/env bash
# scan_sources.sh — the hub's include scanner (hub/scan.h) on real code
# bases, each compile checked against the real compiler: the file list of
# `CC FLAGS -M` must be a SUBSET of the scanner's inputs, and for every file
# the compiler read the scanner's SHA-256 must be that of the file's
# current bytes (tests/tools/scanjob --deps). Here: every C file of this
# project with the Makefile's own flags (as gcc, and as g++ -x c++ would
# not build: C only). The kernel sample is scan_kernel.sh.
# timeout: 600
# asan: yes
set -u -o pipefail
source "$(dirname "$0")/../lib/sh.sh"
SCANJOB=$T_BUILD/tools/scanjob
[ -x "$SCANJOB" ] || { fail scanjob_built "no $SCANJOB (run make)"; t_done; exit; }
command -v gcc >/dev/null || { fail gcc "no gcc (scripts/install-deps: build-essential)"; t_done; exit; }
W=$(mktemp -d /tmp/scan_sources.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$T_ROOT"

# The Makefile's flags for a file of DIR (lib/, hub/, node/, tests/).
pkg=$(pkg-config --cflags libnl-3.0 libnl-route-3.0 lzo2 libusb-1.0 2>/dev/null)
flags_for() {
	local base="-std=c11 -Wall -Wextra -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -O2 -g"
	case $1 in
	lib/*) echo "$base -Ilib $pkg" ;;
	hub/*) echo "$base -Ilib -Ihub $pkg" ;;
	node/*) echo "$base -Ilib -Inode $pkg" ;;
	*) echo "$base -Ilib -Ihub -Inode $pkg" ;;
	esac
}

n=0 bad=0 inc=0
for f in lib/*.c hub/*.c node/*.c tests/unit/*.c tests/tools/*.c; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	# shellcheck disable=SC2046
	if ! gcc $(flags_for "$f") -M -MF "$W/d" "$f" 2>"$W/gcc.err"; then
		fail "scan $f" "gcc -M failed: $(head -n 3 "$W/gcc.err")"; bad=$((bad + 1)); continue
	fi
	# shellcheck disable=SC2046
	if ! "$SCANJOB" --deps "$W/d" -- gcc $(flags_for "$f") -c "$f" -o "$W/o" >"$W/out" 2>&1; then
		fail "scan $f" "$(head -n 3 "$W/out")"; bad=$((bad + 1)); continue
	fi
	# shellcheck disable=SC2046
	"$SCANJOB" -- gcc $(flags_for "$f") -c "$f" -o "$W/o" >"$W/list" 2>&1
	grep -q '^incomplete 1' "$W/list" && inc=$((inc + 1))
	ok "scan $f ($(cut -d' ' -f3,4 "$W/out"))"
done
[ "$n" -gt 50 ] && ok "project sources: $n files, $bad failed, $inc incomplete" ||
	fail "project sources" "only $n files found"
# glibc's bits/fcntl-linux.h (an `#include` inside a comment) is on the
# way of every <fcntl.h>: the layout above really went through it.
# shellcheck disable=SC2046
"$SCANJOB" -- gcc $(flags_for hub/filetab.c) -c hub/filetab.c >"$W/list" 2>&1
if grep -q '/bits/fcntl-linux.h ' "$W/list"; then
	ok "fcntl-linux.h among hub/filetab.c's inputs"
else
	fail "fcntl-linux.h among hub/filetab.c's inputs" "not reached: $(grep -c '^in ' "$W/list") inputs"
fi
t_done
