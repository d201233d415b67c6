# scan-kernel.sh — the kernel sample of tests/integration/scan_kernel.sh and
# scripts/bench-scan: `make demo`'s tree (Debian's linux-source-6.1,
# tinyconfig; scripts/lib/kernel.sh, the same DEMO_DIR cache, so the demo
# and these share one unpacked tree), prepared, with a sample of objects
# built once for their real command lines (kbuild's .cmd files). Source it
# after setting ROOT.
DEMO_DIR=${DEMO_DIR:-$ROOT/build/demo}
. "$ROOT/scripts/lib/kernel.sh"
SCAN_KSAMPLE=${SCAN_KSAMPLE:-"init/main.o kernel/fork.o kernel/sched/core.o mm/memory.o fs/open.o
	fs/namei.o lib/string.o lib/vsprintf.o arch/x86/kernel/setup.o kernel/printk/printk.o
	drivers/base/core.o kernel/time/timer.o arch/x86/entry/entry_32.o"}

# scan_kernel_ready: 0 when the tree and the sample's .cmd files are there
# (made now if needed), 2 when the kernel source is not installed, 1 on a
# failure (the output says).
scan_kernel_ready() {
	local o missing=
	[ -f "$KSRC" ] || return 2
	if [ ! -f "$KDIR/.config" ]; then
		kernel_prepare || return 1
	fi
	for o in $SCAN_KSAMPLE; do
		[ -f "$KDIR/$(dirname "$o")/.$(basename "$o").cmd" ] || missing="$missing $o"
	done
	[ -z "$missing" ] && return 0
	make -s -C "$KDIR" prepare >/dev/null || return 1
	# shellcheck disable=SC2086
	make -s -C "$KDIR" $missing >/dev/null
}

# scan_kernel_argv OBJ: sets KARGV to the object's compile command as kbuild
# ran it (from its .cmd file), without kbuild's own dependency output
# (-Wp,-MMD,…), to be run in $KDIR.
scan_kernel_argv() {
	local cmdf line a
	cmdf="$KDIR/$(dirname "$1")/.$(basename "$1").cmd"
	line=$(sed -n 's/^\(saved\)\{0,1\}cmd_[^ ]* := //p' "$cmdf" | head -n 1)
	[ -n "$line" ] || return 1
	eval "set -- $line"
	KARGV=()
	for a in "$@"; do
		case $a in -Wp,-MMD,*|-Wp,-MD,*) ;; *) KARGV+=("$a") ;; esac
	done
}

# scan_strip_output ARGV...: sets PPARGV to ARGV without -c and -o FILE
# (for a -E or -M run of the same command).
scan_strip_output() {
	PPARGV=()
	while [ $# -gt 0 ]; do
		case $1 in
		-c) ;;
		-o) shift ;;
		*) PPARGV+=("$1") ;;
		esac
		shift
	done
}
