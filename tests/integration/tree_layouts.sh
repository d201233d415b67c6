#!/usr/bin/env bash
# tree_layouts.sh — inputs by hash (issue 11) against adversarial header
# layouts. Each case compiles through `dcc` (as a normal user in the
# usbfarm group) on a one-board farm with no local slot, and locally with
# the same command in the same directory; the object, the .d file, stdout,
# stderr and the exit status must be equal, and the job must have run as a
# tree job on the board (hubd's counters), never silently locally.
#
# Cases: the same header name in two -I dirs; a header created between two
# jobs in an earlier search dir (it must win); #include_next; #pragma once
# reached by two paths; symlinked headers and dirs; __has_include; computed
# includes (an object-like macro, and a function-like one the scanner
# cannot follow: learned once, then remembered); a header rewritten between
# two compiles (as the kernel's autoconf.h), also within the same second
# and at the same size; a header deleted (error parity); warnings and
# errors through the new path (not compiled again locally); -pedantic and
# clang jobs distributed; the board's store emptied and corrupted between
# jobs (the board's "missing" answer, one resend); a .S on the tree path;
# the board's input table (a second job smaller; a noded restart: stale,
# reset, resent).
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=tl1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 1
STORE=$FARM_TMP/store1
start_hubd --local-slots 0
start_noded 1 --slots 2 --store "$STORE"
if wait_for 200 nodes_up 1; then ok farm-up; else fail farm-up "node not up: $(status_json)"; exit 1; fi
DCC=$T_BIN/dcc

# hubd's counters (hubctl status --json): "JOBs sent as tree jobs : jobs
# the board's compiler ran"; jobs compiled again here after the board did
# (the board's read set had unsent names, an incomplete job failed, or the
# directives-only path's "(recompiled here)" reasons); the board's
# "missing" answers.
tree_done() { status_json | jq -r '"\(.tree.sent):\([.nodes[].jobs_done] | add)"'; }
tree_twice() {
	status_json | jq '.tree.unsent + .tree.incomplete + ([(.local_reasons.by_reason // {}) |
		to_entries[] | select(.key | test("recompiled here")) | .value] | add // 0)'
}
tree_resends() { status_json | jq '.tree.resends'; }

W=$FARM_TMP/w
mkdir -p "$W"
chown -R "$FARM_USER:" "$W"

# run_both NAME DIR OUT CC ARGS...: compiles locally (into ref/) and through
# dcc (in place), as FARM_USER in DIR, and compares everything. OUT is the
# object's name relative to DIR (its .d beside it when the args ask for one).
# Sets RB_OK=1 when all is equal and the job ran as a tree job on the board.
run_both() {
	local name=$1 dir=$2 out=$3 cc=$4; shift 4
	local d=${out%.o}.d before after st1 st2 why=""
	chown -R "$FARM_USER:" "$dir"
	rm -f "$dir/$out" "$dir/$d"
	(cd "$dir" && as_user "$cc" "$@" >"$FARM_TMP/$name.lout" 2>"$FARM_TMP/$name.lerr"); st1=$?
	mkdir -p "$FARM_TMP/ref-$name"
	[ -e "$dir/$out" ] && mv "$dir/$out" "$FARM_TMP/ref-$name/obj"
	[ -e "$dir/$d" ] && mv "$dir/$d" "$FARM_TMP/ref-$name/dep"
	before=$(tree_done)
	(cd "$dir" && as_user "$DCC" "$cc" "$@" >"$FARM_TMP/$name.fout" 2>"$FARM_TMP/$name.ferr"); st2=$?
	after=$(tree_done)
	[ "$st1" = "$st2" ] || why="status $st1 locally, $st2 through dcc"
	cmp -s "$FARM_TMP/$name.lout" "$FARM_TMP/$name.fout" || why="$why; stdout differs"
	cmp -s "$FARM_TMP/$name.lerr" "$FARM_TMP/$name.ferr" ||
		why="$why; stderr differs: $(diff "$FARM_TMP/$name.lerr" "$FARM_TMP/$name.ferr" | head -n 4 | tr '\n' ' ')"
	if [ -e "$FARM_TMP/ref-$name/obj" ]; then
		cmp -s "$FARM_TMP/ref-$name/obj" "$dir/$out" || why="$why; object differs"
	else
		[ -e "$dir/$out" ] && why="$why; an object where the local compile made none"
	fi
	if [ -e "$FARM_TMP/ref-$name/dep" ]; then
		cmp -s "$FARM_TMP/ref-$name/dep" "$dir/$d" || why="$why; .d differs"
	fi
	[ "${after%:*}" -gt "${before%:*}" ] && [ "${after#*:}" -gt "${before#*:}" ] ||
		why="$why; not run as a tree job on the board ($before -> $after)"
	rm -rf "$FARM_TMP/ref-$name"
	if [ -z "$why" ]; then ok "$name"; RB_OK=1; else fail "$name" "${why#; }"; RB_OK=0; fi
}

# ---- the same header name in two -I dirs: the first dir wins
C=$W/two-dirs
mkdir -p "$C/a" "$C/b"
echo 'static const int which = 1;' >"$C/a/h.h"
echo 'static const int which = 2;' >"$C/b/h.h"
printf '#include "h.h"\nint f(void) { return which; }\n' >"$C/m.c"
run_both same-name-two-dirs "$C" m.o gcc -O2 -g -MD -Ia -Ib -c m.c -o m.o

# ---- a header created between two jobs in an earlier search dir must win
C=$W/created
mkdir -p "$C/a" "$C/b"
echo 'static const int which = 2;' >"$C/b/h.h"
printf '#include <h.h>\nint f(void) { return which; }\n' >"$C/m.c"
run_both created-before "$C" m.o gcc -O2 -Ia -Ib -c m.c -o m.o
echo 'static const int which = 1;' >"$C/a/h.h"
run_both created-earlier-dir-wins "$C" m.o gcc -O2 -Ia -Ib -c m.c -o m.o
if [ "$(objdump -d "$C/m.o" | grep -c 'mov *$0x1,%eax')" -ge 1 ]; then
	ok created-header-used
else
	fail created-header-used "the object does not return 1: $(objdump -d "$C/m.o" | grep -m2 mov)"
fi

# ---- #include_next through three dirs
C=$W/next
mkdir -p "$C/x" "$C/y" "$C/z"
printf '#include_next <n.h>\n#define X_SEEN 1\n' >"$C/x/n.h"
printf '#include_next <n.h>\n#define Y_SEEN 2\n' >"$C/y/n.h"
printf '#define Z_SEEN 4\n' >"$C/z/n.h"
printf '#include <n.h>\nint f(void) { return X_SEEN + Y_SEEN + Z_SEEN; }\n' >"$C/m.c"
run_both include-next "$C" m.o gcc -O2 -g -MD -Ix -Iy -Iz -c m.c -o m.o

# ---- #pragma once reached by two paths (a symlink and the file itself)
C=$W/once
mkdir -p "$C/inc" "$C/alt"
printf '#pragma once\nstruct once { int a; };\n' >"$C/inc/o.h"
ln -s ../inc/o.h "$C/alt/o2.h"
printf '#include "inc/o.h"\n#include "alt/o2.h"\nint f(struct once *o) { return o->a; }\n' >"$C/m.c"
run_both pragma-once-two-paths "$C" m.o gcc -O2 -g -MD -c m.c -o m.o

# ---- symlinked headers and directories
C=$W/links
mkdir -p "$C/real/sub" "$C/src"
printf '#include "../peer.h"\nstatic const int s = 3;\n' >"$C/real/sub/s.h"
printf 'static const int p = 5;\n' >"$C/real/peer.h"
ln -s real "$C/lnk"
ln -s sub/s.h "$C/real/sl.h"
printf '#include "lnk/sl.h"\n#include <sub/s.h>\nint f(void) { return s + p; }\n' >"$C/src/m.c"
run_both symlinked-headers-and-dirs "$C" src/m.o gcc -O2 -g -MD -I. -Ilnk -c src/m.c -o src/m.o

# ---- __has_include: both answers, then the answer flips
C=$W/has
mkdir -p "$C/inc"
cat >"$C/m.c" <<'EOF'
#if __has_include(<maybe.h>)
#include <maybe.h>
#else
#define MAYBE 7
#endif
#if __has_include("never-there.h")
#error never
#endif
int f(void) { return MAYBE; }
EOF
run_both has-include-absent "$C" m.o gcc -O2 -Iinc -c m.c -o m.o
echo '#define MAYBE 9' >"$C/inc/maybe.h"
run_both has-include-present "$C" m.o gcc -O2 -Iinc -c m.c -o m.o

# ---- computed includes: an object-like macro, and a function-like one
C=$W/computed
mkdir -p "$C/inc"
echo 'static const int c1 = 11;' >"$C/inc/c1.h"
echo 'static const int c2 = 13;' >"$C/inc/c2.h"
cat >"$C/m.c" <<'EOF'
#define HDR "c1.h"
#include HDR
#define STR(x) #x
#define XSTR(x) STR(x)
#define NAME c2
#include XSTR(NAME.h)
int f(void) { return c1 + c2; }
EOF
run_both computed-include-first "$C" m.o gcc -O2 -g -MD -Iinc -c m.c -o m.o
twice0=$(tree_twice)
run_both computed-include-remembered "$C" m.o gcc -O2 -g -MD -Iinc -c m.c -o m.o
[ "$(tree_twice)" = "$twice0" ] && ok computed-include-not-twice ||
	fail computed-include-not-twice "the remembered job was compiled twice"

# ---- a header rewritten between two compiles, as the kernel's autoconf.h:
# the same size and the same second (the file table's racy case)
C=$W/rewritten
mkdir -p "$C/gen"
echo '#define CONFIG_A 1' >"$C/gen/auto.h"
printf '#include "gen/auto.h"\nint f(void) { return CONFIG_A; }\n' >"$C/m.c"
run_both rewritten-before "$C" m.o gcc -O2 -g -c m.c -o m.o
echo '#define CONFIG_A 2' >"$C/gen/auto.h"
touch -d "@$(stat -c %Y "$C/m.c")" "$C/gen/auto.h"
run_both rewritten-same-size-same-second "$C" m.o gcc -O2 -g -c m.c -o m.o

# ---- a header deleted: the error is the local compiler's
rm -f "$C/gen/auto.h"
run_both deleted-header-error "$C" m.o gcc -O2 -g -c m.c -o m.o

# ---- diagnostics: warnings (not compiled twice) and errors, caret lines
C=$W/diag
mkdir -p "$C/inc"
printf 'static inline int w(int x) { int unused; return x; }\n' >"$C/inc/w.h"
printf '#include "w.h"\nint f(int a) { if (a = 2) return w(a); return 0; }\n' >"$C/warn.c"
printf '#include "w.h"\nint g(void) { return undeclared + w(1); }\n' >"$C/err.c"
twice0=$(tree_twice)
run_both warnings-parity "$C" warn.o gcc -O2 -Wall -Wextra -Iinc -c warn.c -o warn.o
[ "$(tree_twice)" = "$twice0" ] && ok warnings-not-compiled-twice ||
	fail warnings-not-compiled-twice "a job with warnings was compiled again locally"
run_both error-parity "$C" err.o gcc -O2 -Wall -Iinc -c err.c -o err.o

# ---- what the directives-only path kept local now distributes
C=$W/pedantic
mkdir -p "$C"
printf '#include <stdio.h>\n#include <fcntl.h>\nint f(void) { return printf("%%d", O_RDONLY); }\n' >"$C/p.c"
run_both pedantic-distributed "$C" p.o gcc -std=c11 -pedantic -Wall -O2 -c p.c -o p.o
run_both wunused-macros-distributed "$C" p.o gcc -Wunused-macros -O2 -c p.c -o p.o
if command -v clang >/dev/null; then
	run_both clang-distributed "$C" p.o clang -O2 -g -c p.c -o p.o
else
	fail clang-distributed "clang is not installed (scripts/install-deps installs it)"
fi

# ---- the board's store emptied, then a blob corrupted, between jobs
C=$W/store
mkdir -p "$C/inc"
echo 'static const int st = 17;' >"$C/inc/st.h"
printf '#include "st.h"\nint f(void) { return st; }\n' >"$C/m.c"
run_both store-warm "$C" m.o gcc -O2 -Iinc -c m.c -o m.o
r0=$(tree_resends)
rm -rf "${STORE:?}"/objects/*
run_both store-emptied "$C" m.o gcc -O2 -Iinc -c m.c -o m.o
r1=$(tree_resends)
[ "$r1" -gt "$r0" ] && ok store-emptied-resent || fail store-emptied-resent "no resend counted ($r0 -> $r1)"
blob=$(find "$STORE/objects" -type f -size +0 | head -n 1)
if [ -n "$blob" ]; then
	chmod u+w "$blob" && printf 'X' | dd of="$blob" bs=1 seek=0 conv=notrunc 2>/dev/null
	run_both store-corrupted "$C" m.o gcc -O2 -Iinc -c m.c -o m.o
else
	fail store-corrupted "no blob in the store after a tree job"
fi
# ---- a .S on the tree path: the board's gcc preprocesses it
# (assembler-with-cpp), its .d checked like a C job's; not compiled twice
C=$W/asm
mkdir -p "$C/inc"
printf '#define VAL 42\n#ifndef __ASSEMBLER__\n#error not assembler\n#endif\n' >"$C/inc/v.h"
printf '#include "v.h"\n\t.text\n\t.globl f\nf:\n\tmovl $VAL, %%eax\n\tret\n' >"$C/a.S"
twice0=$(tree_twice)
run_both asm-cpp-tree "$C" a.o gcc -MD -Iinc -c a.S -o a.o
[ "$(tree_twice)" = "$twice0" ] && ok asm-cpp-not-compiled-twice ||
	fail asm-cpp-not-compiled-twice "the .S was compiled again locally"
printf '#include "v.h"\n\t.text\nf:\n\tmovl $VAL, %%eax\n\tbogus_insn\n' >"$C/bad.S"
# a failing .S: gas's own reads are named by no scan or .d, so its failure
# is not taken as the answer (the job is not complete): dcc compiles it
# here, the same status and stderr as a local compile
(cd "$C" && as_user gcc -Iinc -c bad.S -o bad.o >/dev/null 2>"$FARM_TMP/bad.lerr"); st1=$?
(cd "$C" && as_user "$DCC" gcc -Iinc -c bad.S -o bad.o >/dev/null 2>"$FARM_TMP/bad.ferr"); st2=$?
if [ "$st1" != 0 ] && [ "$st1" = "$st2" ] && cmp -s "$FARM_TMP/bad.lerr" "$FARM_TMP/bad.ferr"; then
	ok asm-cpp-error-parity
else
	fail asm-cpp-error-parity "status $st1 locally, $st2 through dcc; stderr: $(diff "$FARM_TMP/bad.lerr" "$FARM_TMP/bad.ferr" | head -n 4 | tr '\n' ' ')"
fi
# a .S whose gas .incbin reads a file no scan names (the kernel's piggy.S):
# compiled once, here, with its reason; never sent to fail on the board
head -c 3000 /dev/urandom >"$C/blob.bin"
printf '#include "v.h"\n\t.section .rodata\n\t.globl blob\nblob:\n\t.incbin "blob.bin"\n' >"$C/inc.S"
chown -R "$FARM_USER:" "$C"
(cd "$C" && as_user gcc -Iinc -c inc.S -o inc.ref.o) || fail asm-incbin-local-build "gcc failed"
twice0=$(tree_twice) sent0=$(status_json | jq '.tree.sent')
(cd "$C" && as_user "$DCC" gcc -Iinc -c inc.S -o inc.o 2>"$FARM_TMP/inc.ferr"); st=$?
why=$(status_json | jq -r '[.tree.text_why // {}, .local_reasons.by_reason // {} | to_entries[] | select(.key | test("incbin")) | .value] | add // 0')
if [ "$st" = 0 ] && cmp -s "$C/inc.ref.o" "$C/inc.o" && [ "$(tree_twice)" = "$twice0" ] &&
	[ "$(status_json | jq '.tree.sent')" = "$sent0" ] && [ "$why" -ge 1 ]; then
	ok asm-incbin-once-here
else
	fail asm-incbin-once-here "status $st, twice $twice0 -> $(tree_twice), sent $sent0 -> $(status_json | jq '.tree.sent'), reason count $why: $(status_json | jq -c '.tree.text_why, .local_reasons') $(head -c 300 "$FARM_TMP/inc.ferr")"
fi

# ---- the board's input table: a board's second job names the inputs it
# was sent before by id, so its JOB is smaller than their paths alone; a
# restarted noded (its table gone): hubd starts a new table at its HELLO,
# the next job goes whole (no stale id named), the one after by id again
C=$W/table
H=$C/a-rather-long-directory-name-for-the-headers/and-another-level-of-nesting
mkdir -p "$H"
pathbytes=0
for i in $(seq 1 40); do
	f=$H/header-number-$i-with-a-fairly-long-file-name.h
	echo "static const int h$i = $i;" >"$f"
	pathbytes=$((pathbytes + ${#f}))
done
for m in m1 m2; do
	{
		for i in $(seq 1 40); do echo "#include \"header-number-$i-with-a-fairly-long-file-name.h\""; done
		echo "int $m(void) { return h1 + h40; }"
	} >"$C/$m.c"
done
bytes_out() { status_json | jq '[.nodes[].bytes_out] | add'; }
b0=$(bytes_out)
run_both table-first-job "$C" m1.o gcc -O2 -I"$H" -c m1.c -o m1.o
b1=$(bytes_out)
run_both table-second-job "$C" m2.o gcc -O2 -I"$H" -c m2.c -o m2.o
b2=$(bytes_out)
first=$((b1 - b0)) second=$((b2 - b1))
if [ "$second" -lt "$pathbytes" ] && [ "$second" -lt "$first" ]; then
	ok table-second-job-fewer-bytes
else
	fail table-second-job-fewer-bytes "JOB bytes: first $first, second $second; the headers' paths alone: $pathbytes"
fi
echo "# JOB bytes: first job $first, second $second (headers' paths: $pathbytes bytes)"
r0=$(tree_resends)
sessions() { status_json | jq '[.nodes[].sessions] | add'; }
s0=$(sessions)
new_session() { [ "$(sessions)" -gt "$s0" ] && nodes_up 1; }
stop_noded 1
start_noded 1 --slots 2 --store "$STORE"
if wait_for 300 new_session; then
	b2=$(bytes_out)
	run_both table-after-noded-restart "$C" m1.o gcc -O2 -I"$H" -c m1.c -o m1.o
	b3=$(bytes_out)
	r1=$(tree_resends)
	[ "$r1" = "$r0" ] && [ $((b3 - b2)) -ge "$pathbytes" ] && ok table-new-after-restart ||
		fail table-new-after-restart "resends $r0 -> $r1, JOB bytes $((b3 - b2)) (paths: $pathbytes)"
	run_both table-refilled "$C" m2.o gcc -O2 -I"$H" -c m2.c -o m2.o
	b4=$(bytes_out)
	[ $((b4 - b3)) -lt "$pathbytes" ] && ok table-refilled-by-id ||
		fail table-refilled-by-id "JOB bytes after the restart $((b4 - b3)) (paths: $pathbytes)"
else
	fail table-after-noded-restart "node not up again: $(status_json)"
fi
true
