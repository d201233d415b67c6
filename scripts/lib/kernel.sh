# kernel.sh — the workload of scripts/demo and scripts/bench-dcc: the Linux
# kernel from Debian's linux-source-6.1, tinyconfig, built reproducibly so
# that two builds of it can be compared object by object. Source it after
# setting DEMO_DIR (where the tree is unpacked).
KSRC=/usr/src/linux-source-6.1.tar.xz
KDIR=$DEMO_DIR/linux-source-6.1
# The version stamp must not differ between two builds.
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026" KBUILD_BUILD_USER=usbfarm \
	KBUILD_BUILD_HOST=usbfarm KBUILD_BUILD_VERSION=1

# kernel_prepare: unpacks the tree once, (re)writes its tinyconfig.
kernel_prepare() {
	[ -f "$KSRC" ] || { echo "$KSRC missing (apt-get install linux-source-6.1)" >&2; return 1; }
	mkdir -p "$DEMO_DIR"
	if [ ! -f "$KDIR/Makefile" ]; then
		echo "unpacking $KSRC into $DEMO_DIR"
		tar -C "$DEMO_DIR" -xJf "$KSRC"
	fi
	make -s -C "$KDIR" tinyconfig >/dev/null
}

# kernel_clean: `make clean`, and the next build re-runs syncconfig (which
# rebuilds the kconfig host objects `make clean` removed): it re-runs by
# itself only when CC changed since the last build, so without this two
# builds in a row with the same CC end with different sets of objects.
kernel_clean() {
	make -s -C "$KDIR" clean && touch "$KDIR/.config"
}

# kernel_objsums: "sha256  ./path.o" of every object in the tree, sorted.
kernel_objsums() {
	(cd "$KDIR" && find . -name '*.o' -type f -print0 | sort -z | xargs -0 sha256sum)
}
