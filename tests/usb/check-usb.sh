#!/usr/bin/env bash
# check-usb.sh — `make check-usb`: the real kernel USB stack in QEMU.
# Boots Debian's kernel once through scripts/qemu-usb and runs
# tests/usb/guest.sh there for each gadget function in turn (ECM, then
# NCM); counts the guest's `ok`/`FAIL`/`skip` lines from the console,
# passes its `BENCH` lines on, prints the boot time (QEMU start to the
# guest's init) and the total, and closes with `N passed, N failed, N
# skipped`. Needs root and the packages of `scripts/install-deps --usb`
# (installed here when missing).
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# ECM and NCM each get every check (the reference build is made once): see
# guest.sh; USB_MODES="ecm:full ncm:short" leaves NCM's unplug, power-cycle,
# removal and refusal checks out
MODES=${USB_MODES:-ecm:full ncm:full}
start=$(date +%s.%N)
[ "$(id -u)" -eq 0 ] || { echo "FAIL check-usb: needs root (QEMU, configfs in the guest)"; echo "0 passed, 1 failed"; exit 1; }
"$ROOT/scripts/install-deps" --usb || { echo "FAIL check-usb: install-deps --usb failed"; echo "0 passed, 1 failed"; exit 1; }
for b in hubd noded dcc hubctl; do
	[ -x "$BUILD/bin/$b" ] || { echo "FAIL check-usb: $BUILD/bin/$b not built (make)"; echo "0 passed, 1 failed"; exit 1; }
done
[ -x "$BUILD/tools/linkbench" ] || { echo "FAIL check-usb: $BUILD/tools/linkbench not built (make)"; echo "0 passed, 1 failed"; exit 1; }
# the guest runs its copy of guest.sh at this same path in the root that
# scripts/guestroot builds (so editing the tree meanwhile cannot change a
# running test)
mkdir -p "$BUILD/usb"
log=$(mktemp /tmp/check-usb-${SIMFARM_TAG:-x}.XXXXXX)
t=$(date +%s.%N)
# the CPU time QEMU used says what the run costs on a quiet machine (the
# wall time depends on everything else the machine runs). The timeout only
# guards against a hung guest: ~8 min on a quiet 2-core machine, far more
# on a loaded one.
TIMEFORMAT='%U %S'
{ time "$ROOT/scripts/qemu-usb" --timeout "${USB_TIMEOUT:-2400}" \
	"${USBTEST_LOGS:+USBTEST_LOGS=1 }bash $BUILD/usb/guest.sh $ROOT $MODES" >"$log" 2>&1; } 2>"$log.cpu"
rc=$?
cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$log.cpu")
tr -d '\r' <"$log" | grep -E '^(ok|FAIL|skip|BENCH|#) ' | sed 's/^#/  #/'
P=$(tr -d '\r' <"$log" | grep -c '^ok '); F=$(tr -d '\r' <"$log" | grep -c '^FAIL '); S=$(tr -d '\r' <"$log" | grep -c '^skip ')
init=$(tr -d '\r' <"$log" | sed -n 's/^USBFARM-GUEST-INIT \([0-9.]*\).*/\1/p' | head -n1)
echo "  # guest kernel reached init at ${init:-?} s of guest time; QEMU ran $(awk -v a="$(date +%s.%N)" -v b="$t" 'BEGIN { printf "%.0f", a - b }') s, ${cpu:-?} s of CPU (exit $rc)"
if [ "$rc" -ne 0 ] && [ "$F" -eq 0 ]; then
	echo "FAIL guest: exit $rc ($( [ $rc -eq 124 ] && echo timed out || echo see below))"
	tr -d '\r' <"$log" | tail -n 30 | sed 's/^/  | /'
	F=1
fi
rm -f "$log" "$log.cpu"
echo "  # check-usb: $(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.0f", a - b }') s in all"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
