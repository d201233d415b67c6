#!/usr/bin/env bash
# farm_e2e.sh — a real multi-file build through the virtual farm (hubd,
# 3 x noded, dcc): this project's own lib/, hub/ and node/ sources with the
# project's flags plus -g and -MD, and a generated code base; every object
# and .d file byte-identical to a local build, and every node really did
# work. CMake-like (absolute sources) and VPATH-like (../src) builds
# likewise, every job on a node. Then error parity: a file with errors and one with warnings give the
# same stdout, stderr and exit status through the farm as locally.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=fe1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 3
start_hubd --local-slots 1
for i in 1 2 3; do start_noded "$i" --slots 2; done
if wait_for 200 nodes_up 3; then ok farm-up; else fail farm-up "nodes not up: $(status_json)"; exit 1; fi

DCC=$T_BIN/dcc
PKG=$(pkg-config --cflags libnl-3.0 libnl-route-3.0 lzo2 2>/dev/null)
# The project's CFLAGS (Makefile) without -Werror (sources of work in progress
# may warn; that is the same locally and through the farm), with -MD.
# Plain -g: the node compiles the same source name with its dir mapped to
# ours, so even DW_AT_producer/name/comp_dir match the local objects.
PFLAGS="-std=c11 -Wall -Wextra -D_GNU_SOURCE -O2 -g -MD -MP -Ilib -Ihub -Inode $PKG"

# compare_trees REF DIR: every .o/.d under REF equals its twin under DIR,
# and DIR has no extra ones.
compare_trees() {
	local ref=$1 dir=$2 f bad=0 n=0
	while IFS= read -r f; do
		n=$((n + 1))
		if ! cmp -s "$ref/$f" "$dir/$f"; then
			[ $bad -lt 5 ] && echo "# differs or missing: $f"
			bad=$((bad + 1))
		fi
	done < <(cd "$ref" && find . -name '*.o' -o -name '*.d' | sort)
	local m
	m=$(cd "$dir" && find . -name '*.o' -o -name '*.d' | wc -l)
	[ "$m" -eq "$n" ] || { echo "# $m files through the farm, $n locally"; bad=$((bad + 1)); }
	echo "# compared $n files"
	[ "$n" -gt 0 ] && [ $bad -eq 0 ]
}

# ---- this project's sources
P=$FARM_TMP/proj
mkdir -p "$P"
cp -r "$T_ROOT/lib" "$T_ROOT/hub" "$T_ROOT/node" "$P/"
find "$P" -name '*.o' -delete -o -name '*.d' -delete
cat >"$P/Makefile" <<'EOF'
SRCS := $(wildcard lib/*.c hub/*.c node/*.c)
OBJS := $(patsubst %.c,obj/%.o,$(SRCS))
all: $(OBJS)
obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
EOF
# Local reference build, in the same directory as the farm build (-g records it).
(cd "$P" && make -k -j4 CC=gcc CFLAGS="$PFLAGS" >"$FARM_TMP/proj-local.log" 2>&1)
targets=$(cd "$P" && find obj -name '*.o' | sort)
mv "$P/obj" "$P/ref"
before=$(remote_jobs_done)
# shellcheck disable=SC2086
if user_in "$P" make -j8 CC="$DCC gcc" CFLAGS="$PFLAGS" $targets >"$FARM_TMP/proj-farm.log" 2>&1; then
	ok project-build-through-farm
else
	fail project-build-through-farm "make failed: $(tail -n 5 "$FARM_TMP/proj-farm.log")"
fi
after=$(remote_jobs_done)
if compare_trees "$P/ref" "$P/obj"; then ok project-objects-identical; else fail project-objects-identical "objects or .d differ"; fi
nobj=$(echo "$targets" | wc -w)
echo "# project: $nobj objects, $((after - before)) compiled on nodes; per node: $(jobs_done_per_node)"
[ $((after - before)) -gt 0 ] && ok project-ran-on-nodes || fail project-ran-on-nodes "no job ran on a node"
# glibc's <fcntl.h> (bits/fcntl-linux.h) has "#include" inside a comment,
# which -fdirectives-only keeps: no file may stay local for a directive in a
# comment or a string. hubd counts every local compile by reason.
nfcntl=$(cd "$P" && grep -l '^#include <fcntl.h>' lib/*.c hub/*.c node/*.c | wc -l)
reasons=$(status_json | jq -c '.local_reasons.by_reason // {}')
ninc=$(echo "$reasons" | jq '[to_entries[] | select(.key | test("include|comment|directive")) | .value] | add // 0')
echo "# project: $nfcntl files include <fcntl.h>; compiles kept local, by reason: $reasons"
[ "$nfcntl" -gt 0 ] && [ "$ninc" -eq 0 ] && ok project-none-local-for-comments ||
	fail project-none-local-for-comments "$ninc kept local for a directive-like line: $reasons"

# ---- a generated code base of 60 files
G=$FARM_TMP/gen
gen_tree "$G" 60
GFLAGS="-O2 -g -Wall -MD"
(cd "$G" && make -j4 CC=gcc CFLAGS="$GFLAGS" >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
before=$(remote_jobs_done)
if user_in "$G" make -j8 CC="$DCC gcc" CFLAGS="$GFLAGS" >"$FARM_TMP/gen-farm.log" 2>&1; then
	ok generated-build-through-farm
else
	fail generated-build-through-farm "make failed: $(tail -n 5 "$FARM_TMP/gen-farm.log")"
fi
after=$(remote_jobs_done)
if compare_trees "$G/ref" "$G/obj"; then ok generated-objects-identical; else fail generated-objects-identical "differ"; fi
echo "# generated: 60 objects, $((after - before)) on nodes; per node: $(jobs_done_per_node)"
if every_node_did_work; then ok every-node-did-work; else fail every-node-did-work "$(jobs_done_per_node)"; fi
[ "$(status_json | jq '.jobs.failed')" -eq 0 ] && ok no-farm-failures ||
	fail no-farm-failures "$(status_json | jq -c .jobs)"

# ---- CMake-like: absolute sources, a build dir apart from the source tree,
# objects under CMakeFiles/ (-MD -MT -MF as CMake writes them); and
# VPATH-like (autotools): ../src/x.c from a build dir below the sources,
# with -gsplit-dwarf. Every job must run on a node; objects, .d and .dwo
# byte-identical to the local build under the same names.
S=$FARM_TMP/srcroot
gen_tree "$S" 16
cat >"$S/src/inctext.c" <<'EOF'
#include "common.h"
/*
 * #include "/etc/passwd"   (a comment line starting with #include itself
 *                           would be flagged: the node's guard is conservative)
 */
// #include <nothing.h>
const char *how = "#include <stdio.h>";
int inctext(void) { return SQUARE(3); }
EOF
CMB=$FARM_TMP/cmake-build
mkdir -p "$CMB"
cat >"$CMB/Makefile" <<EOF
SRCS := \$(wildcard $S/src/*.c)
OBJS := \$(patsubst $S/src/%.c,CMakeFiles/gen.dir/src/%.c.o,\$(SRCS))
all: \$(OBJS)
CMakeFiles/gen.dir/src/%.c.o: $S/src/%.c
	@mkdir -p \$(dir \$@)
	\$(CC) \$(CFLAGS) -I$S/include -MD -MT \$@ -MF \$@.d -o \$@ -c \$<
EOF
VPB=$S/build/sub
mkdir -p "$VPB"
cat >"$VPB/Makefile" <<'EOF'
SRCS := $(wildcard ../../src/*.c)
OBJS := $(patsubst ../../src/%.c,%.o,$(SRCS))
all: $(OBJS)
%.o: ../../src/%.c
	$(CC) $(CFLAGS) -I../../include -MD -c $< -o $@
EOF
# tree_build NAME DIR OUTDIR CFLAGS: local build in DIR, outputs moved to
# DIR/ref-OUTDIR, then the farm build; all .o/.d/.dwo compared
tree_build() {
	local name=$1 dir=$2 out=$3 flags=$4 b a n f bad=0
	rm -rf "${dir:?}/$out" "$dir/ref-$out"
	mkdir -p "$dir/$out"
	(cd "$dir" && make -j4 CC=gcc CFLAGS="$flags" >"$FARM_TMP/$name-local.log" 2>&1) ||
		{ fail "$name" "local build failed: $(tail -n 3 "$FARM_TMP/$name-local.log")"; return; }
	mkdir -p "$dir/ref-$out"
	(cd "$dir" && find "$out" \( -name '*.o' -o -name '*.d' -o -name '*.dwo' \) | while read -r f; do
		mkdir -p "ref-$(dirname "$f")"; mv "$f" "ref-$f"; done)
	n=$(cd "$dir/ref-$out" && find . -name '*.o' | wc -l)
	b=$(remote_jobs_done); tb=$(status_json | jq '.jobs.total')
	user_in "$dir" make -j8 CC="$DCC gcc" CFLAGS="$flags" >"$FARM_TMP/$name-farm.log" 2>&1 ||
		{ fail "$name" "farm build failed: $(tail -n 3 "$FARM_TMP/$name-farm.log")"; return; }
	a=$(remote_jobs_done); ta=$(status_json | jq '.jobs.total')
	while IFS= read -r f; do
		cmp -s "$dir/ref-$f" "$dir/$f" || { [ $bad -lt 3 ] && echo "# $name: differs: $f"; bad=$((bad + 1)); }
	done < <(cd "$dir" && find "$out" \( -name '*.o' -o -name '*.d' -o -name '*.dwo' \) | sort)
	[ "$(cd "$dir" && find "ref-$out" \( -name '*.o' -o -name '*.d' -o -name '*.dwo' \) | wc -l)" -eq \
	  "$(cd "$dir" && find "$out" \( -name '*.o' -o -name '*.d' -o -name '*.dwo' \) | wc -l)" ] ||
		{ echo "# $name: file count differs"; bad=$((bad + 1)); }
	echo "# $name: $n objects, $((ta - tb)) handed to hubd, $((a - b)) compiled on nodes (the rest in hubd's local slot)"
	if [ "$n" -gt 0 ] && [ $bad -eq 0 ]; then ok "$name-identical"; else fail "$name-identical" "$bad differ"; fi
	# dcc handed every compile to the farm (none kept local for its
	# path), and the nodes did real work
	if [ $((ta - tb)) -eq "$n" ] && [ $((a - b)) -gt 0 ]; then ok "$name-ran-on-nodes"
	else fail "$name-ran-on-nodes" "$((ta - tb)) of $n handed to hubd, $((a - b)) on nodes"; fi
}
tree_build cmake-abs "$CMB" CMakeFiles "-g -O2 -Wall"
tree_build cmake-abs-O0 "$CMB" CMakeFiles "-g -O0"
# VPATH: make puts the objects in the cwd itself; build into a copy of
# the Makefile's dir by name: the tree is the build dir
tree_build_vpath() {
	local name=$1 flags=$2 b a n f bad=0
	rm -rf "${VPB:?}"/*.o "$VPB"/*.d "$VPB"/*.dwo "$VPB/ref"
	(cd "$VPB" && make -j4 CC=gcc CFLAGS="$flags" >"$FARM_TMP/$name-local.log" 2>&1) ||
		{ fail "$name" "local build failed: $(tail -n 3 "$FARM_TMP/$name-local.log")"; return; }
	mkdir -p "$VPB/ref"
	mv "$VPB"/*.o "$VPB"/*.d "$VPB/ref/"
	mv "$VPB"/*.dwo "$VPB/ref/" 2>/dev/null
	n=$(ls "$VPB/ref" | grep -c '\.o$')
	b=$(remote_jobs_done); tb=$(status_json | jq '.jobs.total')
	user_in "$VPB" make -j8 CC="$DCC gcc" CFLAGS="$flags" >"$FARM_TMP/$name-farm.log" 2>&1 ||
		{ fail "$name" "farm build failed: $(tail -n 3 "$FARM_TMP/$name-farm.log")"; return; }
	a=$(remote_jobs_done); ta=$(status_json | jq '.jobs.total')
	for f in "$VPB"/ref/*; do
		cmp -s "$f" "$VPB/$(basename "$f")" || { [ $bad -lt 3 ] && echo "# $name: differs: $(basename "$f")"; bad=$((bad + 1)); }
	done
	echo "# $name: $n objects, $((ta - tb)) handed to hubd, $((a - b)) compiled on nodes (the rest in hubd's local slot)"
	if [ "$n" -gt 0 ] && [ $bad -eq 0 ]; then ok "$name-identical"; else fail "$name-identical" "$bad differ"; fi
	# dcc handed every compile to the farm (none kept local for its
	# path), and the nodes did real work
	if [ $((ta - tb)) -eq "$n" ] && [ $((a - b)) -gt 0 ]; then ok "$name-ran-on-nodes"
	else fail "$name-ran-on-nodes" "$((ta - tb)) of $n handed to hubd, $((a - b)) on nodes"; fi
}
tree_build_vpath vpath "-g -O2"
tree_build_vpath vpath-split-dwarf "-gsplit-dwarf -g -O0"
[ "$(status_json | jq '.jobs.failed')" -eq 0 ] && ok no-farm-failures-abs-vpath ||
	fail no-farm-failures-abs-vpath "$(status_json | jq -c .jobs)"

# ---- error parity
E=$FARM_TMP/err
mkdir -p "$E"
cat >"$E/bad.c" <<'EOF'
#include <stdio.h>
int f(void) { return undeclared_thing + 1; }
int g(void) { printf("%d\n"); return "x"; }
EOF
cat >"$E/warn.c" <<'EOF'
#include <stdio.h>
static int unused_fn(void) { return 1; }
int h(int a) { int unused; if (a = 2) printf("%s\n", a); return a; }
EOF
# parity NAME FILE FLAGS...: same out, err and status via dcc as locally
parity() {
	local name=$1 file=$2; shift 2
	local lrc=0 frc=0 b a
	(cd "$E" && gcc "$@" -c "$file" -o local.o >local.out 2>local.err) || lrc=$?
	b=$(remote_jobs_done)
	chown "$FARM_USER:" "$E"
	(cd "$E" && as_user "$DCC" gcc "$@" -c "$file" -o farm.o >farm.out 2>farm.err) || frc=$?
	a=$(remote_jobs_done)
	if [ "$lrc" -ne "$frc" ]; then
		fail "$name" "exit $frc through the farm, $lrc locally"
	elif ! cmp -s "$E/local.out" "$E/farm.out" || ! cmp -s "$E/local.err" "$E/farm.err"; then
		fail "$name" "output differs: $(diff "$E/local.err" "$E/farm.err" | head -n 6 | tr '\n' '|')"
	elif [ "$a" -le "$b" ]; then
		fail "$name" "did not run on a node"
	elif [ "$lrc" -eq 0 ] && ! cmp -s "$E/local.o" "$E/farm.o"; then
		fail "$name" "objects differ"
	else
		ok "$name"
	fi
	rm -f "$E"/local.* "$E"/farm.*
}
parity error-parity bad.c -Wall -O2
parity warning-parity warn.c -Wall -Wextra -O2 -g
parity warning-parity-werror warn.c -Wall -Werror

t_done
