#!/usr/bin/env bash
# farm_e2e.sh — a real multi-file build through the virtual farm (hubd,
# 3 x noded, dcc): this project's own lib/, hub/ and node/ sources with the
# project's flags plus -g and -MD, and a generated code base; every object
# and .d file byte-identical to a local build, and every node really did
# work. Then error parity: a file with errors and one with warnings give the
# same stdout, stderr and exit status through the farm as locally.
# timeout: 600
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
if (cd "$P" && make -j8 CC="$DCC gcc" CFLAGS="$PFLAGS" $targets >"$FARM_TMP/proj-farm.log" 2>&1); then
	ok project-build-through-farm
else
	fail project-build-through-farm "make failed: $(tail -n 5 "$FARM_TMP/proj-farm.log")"
fi
after=$(remote_jobs_done)
if compare_trees "$P/ref" "$P/obj"; then ok project-objects-identical; else fail project-objects-identical "objects or .d differ"; fi
nobj=$(echo "$targets" | wc -w)
echo "# project: $nobj objects, $((after - before)) compiled on nodes; per node: $(jobs_done_per_node)"
[ $((after - before)) -gt 0 ] && ok project-ran-on-nodes || fail project-ran-on-nodes "no job ran on a node"

# ---- a generated code base of 60 files
G=$FARM_TMP/gen
gen_tree "$G" 60
GFLAGS="-O2 -g -Wall -MD"
(cd "$G" && make -j4 CC=gcc CFLAGS="$GFLAGS" >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
before=$(remote_jobs_done)
if (cd "$G" && make -j8 CC="$DCC gcc" CFLAGS="$GFLAGS" >"$FARM_TMP/gen-farm.log" 2>&1); then
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
	(cd "$E" && "$DCC" gcc "$@" -c "$file" -o farm.o >farm.out 2>farm.err) || frc=$?
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
