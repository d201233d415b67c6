#!/usr/bin/env bash
# dcc_local.sh — dcc without a farm: USBFARM_SOCKET="$W/loophub.sock" (below: hubd's socket
# is tests/tools/loophub's, which runs the node-side executor itself: the
# exact remote path), and with no hubd at all
# (USBFARM_SOCKET at a nonexistent path) dcc falls back to local compiles.
# Objects, .d and .dwo files must be byte-identical to a local compile;
# errors and warnings identical; masquerading must not recurse.
# timeout: 300
# asan: yes
set -u -o pipefail
. "$(dirname "$0")/../lib/sh.sh"

DCC=$T_BIN/dcc
# the directives-only path is what this tests (loophub, like a hubd of
# before issue 11, takes no tree jobs): dcc's default is inputs by hash
export DCC_INPUTS=text
[ -x "$DCC" ] || { fail dcc_built "no $DCC (run make)"; t_done; exit; }
command -v gcc >/dev/null || { skip dcc_local "no gcc"; exit 0; }
W=$(mktemp -d /tmp/dcc_local.XXXXXX)
LOOPHUB_BIN=$T_BUILD/tools/loophub
[ -x "$LOOPHUB_BIN" ] || { fail loophub_built "no $LOOPHUB_BIN (run make)"; t_done; exit; }
"$LOOPHUB_BIN" "$W/loophub.sock" &
LOOPHUB_PID=$!
disown "$LOOPHUB_PID"	# not among the jobs the script's own `wait`s wait for
trap 'kill "$LOOPHUB_PID" 2>/dev/null; rm -rf "$W" "$W.lnk"' EXIT
for _ in $(seq 1 100); do [ -S "$W/loophub.sock" ] && break; sleep 0.1; done
cd "$W" || exit 1
TIMEOUT=$(command -v timeout)
export USBFARM_SOCKET=$W/no-hubd.sock
unset DCC_VERBOSE DCC_LOCAL DCC_LOOPBACK UNCACHED_ERR_FD DCC_RECURSION

# ---- a small project ---------------------------------------------------
mkdir -p src include obj ref
cat > include/util.h <<'EOF'
#ifndef UTIL_H
#define UTIL_H
#include <stddef.h>
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define SQUARE(x) ((x) * (x))
size_t util_len(const char *s);
static inline int util_sq(int x) { return SQUARE(x); }
#endif
EOF
cat > src/util.c <<'EOF'
#include "util.h"
#include <string.h>
size_t util_len(const char *s) { return strlen(s) + MAX(0, 1); }
EOF
cat > src/main.c <<'EOF'
#include <stdio.h>
#include "util.h"
#ifdef FEATURE
#define GREETING "hello " FEATURE
#else
#define GREETING "hello"
#endif
int main(int argc, char **argv)
{
	(void)argv;
	printf("%s %zu %d %d\n", GREETING, util_len(GREETING), util_sq(argc), __LINE__);
	return 0;
}
EOF
cat > src/math.c <<'EOF'
#include "util.h"
double avg(const double *v, int n) { double s = 0; for (int i = 0; i < n; i++) s += v[i]; return n ? s / n : 0; }
int big(int a, int b) { return MAX(a, b) + SQUARE(b); }
EOF
cat > src/warn.c <<'EOF'
#include "util.h"
#define CHECK(p) ((p) == NULL)
int f(int x) {
	int unused;
	char b[4];
	if (CHECK(b)) return 1;
	return x << 40;
}
EOF
cat > src/err.c <<'EOF'
#include "util.h"
#define BAD(x) (x + undeclared_thing)
int f(int x) {
	return BAD(x) + util_sq();
}
EOF
cat > src/shapes.cc <<'EOF'
#include <string>
#include <vector>
namespace { int hidden(int x) { return x * 3; } }
struct Registry { Registry() { names.push_back("x"); } std::vector<std::string> names; };
Registry g_registry;
int use(int y) { return hidden(y) + (int)g_registry.names.size(); }
EOF
cat > conftest.c <<'EOF'
int main(void) { return 0; }
EOF
cat > include/where.h <<'EOF'
static const char *where_h(void) { return __FILE__; }
EOF
cat > src/x.c <<'EOF'
#include "where.h"
#include "util.h"
const char *where_c = __FILE__;
const char *base_c = __BASE_FILE__;
int line_c(void) { return __LINE__ + SQUARE(2) + (int)util_len(where_h()); }
EOF
cat > src/weird.src <<'EOF'
#include "util.h"
int weird(int a) { return MAX(a, 7); }
EOF
cat > src/when.c <<'EOF'
const char *built = __DATE__ " " __TIME__;
EOF
mkdir -p "src/eq=dir"
cp src/util.c "src/eq=dir/e.c"
# "#include" in strings and comments: the node must not mistake it
cat > src/inctext.c <<'EOF'
#include "util.h"
/*
 * #include "/etc/passwd"   (a comment line starting with #include itself
 *                           would be flagged: the node's guard is conservative)
 */
// #include <nothing.h>
const char *how = "#include <stdio.h>";
const char *two = "line one\n"
	"#include \"x\"\n";
int inctext(void) { return SQUARE(3); }
EOF

# run_both NAME OUT_DCC OUT_REF ARGS... : compiles with dcc (loopback) and
# locally; the command line is the same but for the output names.
# Every object compared with cmp; stdout/stderr/status compared too.
cmp_run() { # NAME compiler args... (use @O@ for the output dir)
	local name=$1 cc=$2; shift 2
	local a_dcc=() a_ref=() x
	for x in "$@"; do a_dcc+=("${x//@O@/obj}"); a_ref+=("${x//@O@/ref}"); done
	# dcc's own trace goes to fd 7, apart from the compiler's stderr
	DCC_VERBOSE=1 UNCACHED_ERR_FD=7 USBFARM_SOCKET="$W/loophub.sock" "$DCC" "$cc" "${a_dcc[@]}" \
		>"$W/d.out" 2>"$W/d.err" 7>"$W/d.trace"; local rd=$?
	"$cc" "${a_ref[@]}" >"$W/r.out" 2>"$W/r.err"; local rr=$?
	sed -i 's#ref/#obj/#g' "$W/r.err" "$W/r.out"
	if [ $rd -ne $rr ]; then fail "$name" "status dcc=$rd local=$rr"; return; fi
	if ! cmp -s "$W/d.err" "$W/r.err"; then fail "$name" "stderr differs: $(diff "$W/d.err" "$W/r.err" | head -5)"; return; fi
	if ! cmp -s "$W/d.out" "$W/r.out"; then fail "$name" "stdout differs"; return; fi
	# EXPECT=remote: the job really ran through the node executor;
	# EXPECT=local:WORDS: dcc kept it local, saying WORDS
	case ${EXPECT:-} in
	remote) grep -q 'compiled on loopback' "$W/d.trace" ||
		{ fail "$name" "not remote: $(head -c 300 "$W/d.trace")"; return; } ;;
	local:*) grep -q -- "local: .*${EXPECT#local:}" "$W/d.trace" ||
		{ fail "$name" "not local for '${EXPECT#local:}': $(head -c 300 "$W/d.trace")"; return; } ;;
	esac
	ok "$name"
}
# same_files NAME FILE... (paths under obj/, compared with ref/)
same_files() {
	local name=$1 f bad=""; shift
	for f in "$@"; do
		[ -f "obj/$f" ] || { bad="$bad missing obj/$f"; continue; }
		[ -f "ref/$f" ] || { bad="$bad missing ref/$f"; continue; }
		if [ "${f##*.}" = d ]; then
			sed 's#ref/#obj/#g' "ref/$f" | cmp -s - "obj/$f" || bad="$bad $f"
		else
			cmp -s "obj/$f" "ref/$f" || bad="$bad $f"
		fi
	done
	if [ -z "$bad" ]; then ok "$name"; else fail "$name" "differ:$bad"; fi
}

# distributed for real? (the trace says where it ran)
DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc -O2 -Iinclude -c src/util.c -o obj/probe.o 2>"$W/trace"
if grep -q 'compiled on loopback' "$W/trace"; then ok loopback_path_taken
else fail loopback_path_taken "$(cat "$W/trace")"; fi

EXPECT=remote cmp_run compile_O2 gcc -O2 -Iinclude -c src/util.c -o @O@/util.o
same_files object_O2 util.o
cmp_run compile_defines gcc -O2 -Iinclude '-DFEATURE="on"' -c src/main.c -o @O@/main.o
same_files object_defines main.o
cmp_run compile_g_norecord gcc -O2 -g -gno-record-gcc-switches -Iinclude -c src/math.c -o @O@/math.o
same_files object_debug math.o
cmp_run compile_MD gcc -O2 -MD -Iinclude -c src/main.c -o @O@/main_md.o
same_files MD_object_and_deps main_md.o main_md.d
cmp_run compile_MMD_MF gcc -MMD -MF @O@/custom.d -MP -Iinclude -c src/util.c -o @O@/util_mf.o
same_files MMD_MF_deps util_mf.o custom.d
cmp_run compile_Wp_MMD gcc -Wp,-MMD,@O@/.wp.d -Iinclude -c src/math.c -o @O@/math_wp.o
same_files Wp_MMD_deps math_wp.o .wp.d
# -gsplit-dwarf records the .dwo path in the object: the reference is built
# under the same name first, then moved aside
mkdir -p obj/deep/er ref/deep/er
gcc -O0 -g -gno-record-gcc-switches -gsplit-dwarf -Iinclude -c src/math.c -o obj/deep/er/m.o &&
mv obj/deep/er/m.o obj/deep/er/m.dwo ref/deep/er/
DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc -O0 -g -gno-record-gcc-switches -gsplit-dwarf -Iinclude -c src/math.c -o obj/deep/er/m.o 2>"$W/sd.trace"
grep -q 'compiled on loopback' "$W/sd.trace" && ok split_dwarf_remote || fail split_dwarf_remote "$(cat "$W/sd.trace")"
same_files split_dwarf_o_and_dwo deep/er/m.o deep/er/m.dwo
cmp_run compile_S gcc -O2 -Iinclude -S src/util.c -o @O@/util.s
same_files asm_output util.s
cmp_run compile_cxx g++ -O2 -std=c++17 -c src/shapes.cc -o @O@/shapes.o
same_files cxx_object shapes.o
cmp_run compile_cxx_debug g++ -O1 -g -gno-record-gcc-switches -c src/shapes.cc -o @O@/shapes_g.o
same_files cxx_debug_object shapes_g.o

# default -o name (a.o in the cwd) and -MD without -o
( cd obj && USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc -MD -I../include -c ../src/util.c ) &&
( cd ref && gcc -MD -I../include -c ../src/util.c )
same_files default_output_names util.o util.d

# diagnostics: errors and warnings exactly as the local compiler says them
cmp_run warnings_parity gcc -Wall -Wextra -O2 -Iinclude -c src/warn.c -o @O@/warn.o
same_files warnings_object warn.o
cmp_run errors_parity gcc -Wall -O2 -Iinclude -c src/err.c -o @O@/err.o
cmp_run errors_parity_nohub gcc -Wall -Iinclude -c src/err.c -o @O@/err.o
[ ! -e obj/err.o ] && ok no_object_on_error || fail no_object_on_error "obj/err.o exists"
leftover=$(find obj -name '*.dcc-*' | head -3)
[ -z "$leftover" ] && ok no_temp_files_left || fail no_temp_files_left "$leftover"

# plain -g (switches recorded in DW_AT_producer) goes to the node and the
# object is still byte-identical: DW_AT_name, DW_AT_comp_dir, producer
EXPECT=remote cmp_run g_O2_remote gcc -g -O2 -Iinclude -c src/util.c -o @O@/util_g.o
same_files g_O2_object util_g.o
EXPECT=remote cmp_run g_O0_remote gcc -g -O0 -Iinclude -c src/main.c -o @O@/main_g0.o
same_files g_O0_object main_g0.o
EXPECT=remote cmp_run g_Os_defines_remote gcc -g -Os '-DFEATURE="x y"' -Iinclude -c src/main.c -o @O@/main_gs.o
same_files g_Os_defines_object main_gs.o
EXPECT=remote cmp_run g_subdir_remote gcc -g -Iinclude -c src/x.c -o @O@/x.o
same_files g_subdir_object x.o
mkdir -p obj/sub/dir ref/sub/dir
EXPECT=remote cmp_run g_subdir_deep_output gcc -g -O2 -Iinclude -c src/x.c -o @O@/sub/dir/x.o
same_files g_subdir_deep_object sub/dir/x.o
EXPECT=remote cmp_run g_cxx_remote g++ -g -O1 -c src/shapes.cc -o @O@/shapes_g2.o
same_files g_cxx_object shapes_g2.o
# a name whose suffix is none of the node's languages stays local, said in
# words (lib/policy.h: an explicit -x that matches the name's suffix)
EXPECT="local:not a source suffix a node compiles" cmp_run g_x_c_odd_suffix_local gcc -g -x c -Iinclude -c src/weird.src -o @O@/weird.o
same_files g_x_c_object weird.o
EXPECT=remote cmp_run g_MD_remote gcc -g -O2 -MD -Iinclude -c src/x.c -o @O@/x_md.o
same_files g_MD_object_and_deps x_md.o x_md.d
EXPECT=remote cmp_run g_no_working_directory gcc -g -fno-working-directory -Iinclude -c src/util.c -o @O@/util_nwd.o
same_files g_no_working_directory_object util_nwd.o
# -gsplit-dwarf with plain -g: the .dwo name is recorded, so the reference
# is built under the same name first and moved aside
mkdir -p obj/sd ref/sd
gcc -gsplit-dwarf -g -O0 -Iinclude -c src/x.c -o obj/sd/x.o && mv obj/sd/x.o obj/sd/x.dwo ref/sd/
DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc -gsplit-dwarf -g -O0 -Iinclude -c src/x.c -o obj/sd/x.o 2>"$W/sd2.trace"
grep -q 'compiled on loopback' "$W/sd2.trace" && ok g_split_dwarf_remote || fail g_split_dwarf_remote "$(cat "$W/sd2.trace")"
same_files g_split_dwarf_o_and_dwo sd/x.o sd/x.dwo
# the user's own maps (the kernel's -fmacro-prefix-map=$(srctree)/=): they
# still apply to the hub's paths, ours to the node's dir
EXPECT=remote cmp_run g_user_debug_prefix_map gcc -g -O2 "-I$W/include" "-fdebug-prefix-map=$W=/build" -c src/x.c -o @O@/x_dpm.o
same_files g_user_debug_prefix_map_object x_dpm.o
EXPECT=remote cmp_run g_user_macro_prefix_map gcc -g -O2 "-I$W/include" "-fmacro-prefix-map=$W/=" -c src/x.c -o @O@/x_mpm.o
same_files g_user_macro_prefix_map_object x_mpm.o
EXPECT=remote cmp_run g_user_both_maps gcc -g -O2 "-I$W/include" "-fdebug-prefix-map=$W=/build" "-fmacro-prefix-map=$W/=" -c src/x.c -o @O@/x_bpm.o
same_files g_user_both_maps_object x_bpm.o
if grep -q "$W" obj/x_bpm.o; then fail g_user_maps_applied "$W still named in the object"; else ok g_user_maps_applied; fi
EXPECT=remote cmp_run g_user_file_prefix_map_dot gcc -g -O2 "-I$W/include" "-ffile-prefix-map=$W=." -c src/x.c -o @O@/x_fpm.o
same_files g_user_file_prefix_map_dot_object x_fpm.o
# a map that also matches the node's temp dir (TMPDIR is /tmp here)
EXPECT=remote cmp_run g_user_map_over_tmp gcc -g -O2 -Iinclude -fdebug-prefix-map=/tmp=/T -c src/x.c -o @O@/x_tmp.o
same_files g_user_map_over_tmp_object x_tmp.o
# a cwd reached through a symlink: gcc names it by $PWD, so must dcc
ln -s "$W" "$W.lnk"
cd "$W.lnk" || exit 1
EXPECT=remote cmp_run g_symlinked_cwd gcc -g -O2 -Iinclude -c src/x.c -o @O@/x_lnk.o
same_files g_symlinked_cwd_object x_lnk.o
cd "$W" || exit 1
rm -f "$W.lnk"

# ---- sources by absolute path (CMake) and with .. (VPATH): distributed,
# byte-identical. The reference is built under the very same names first
# (the .dwo name is recorded), then moved aside.
# build_same NAME DIR OUT COMPILER ARGS... (run in DIR; OUT relative to it)
build_same() {
	local name=$1 dir=$2 out=$3 cc=$4; shift 4
	local dwo=${out%.*}.dwo dep=${out%.*}.d f bad=""
	( cd "$dir" && rm -f "$out" "$dwo" "$dep" "$out.ref" "$dwo.ref" "$dep.ref" &&
	  mkdir -p "$(dirname "$out")" &&
	  "$cc" "$@" -o "$out" >"$W/bs.ref.err" 2>&1 ) ||
		{ fail "$name" "local build failed: $(head -c 300 "$W/bs.ref.err")"; return; }
	( cd "$dir" && for f in "$out" "$dwo" "$dep"; do [ -e "$f" ] && mv "$f" "$f.ref"; done; true )
	( cd "$dir" && DCC_VERBOSE=1 UNCACHED_ERR_FD=7 USBFARM_SOCKET="$W/loophub.sock" "$DCC" "$cc" "$@" -o "$out" \
		>"$W/bs.out" 2>"$W/bs.err" 7>"$W/bs.trace" ) ||
		{ fail "$name" "dcc failed: $(head -c 300 "$W/bs.err")"; return; }
	grep -q 'compiled on loopback' "$W/bs.trace" ||
		{ fail "$name" "not remote: $(head -c 300 "$W/bs.trace")"; return; }
	[ -s "$W/bs.err" ] && { fail "$name" "stderr: $(head -c 200 "$W/bs.err")"; return; }
	for f in "$out" "$dwo" "$dep"; do
		[ -e "$dir/$f.ref" ] || continue
		cmp -s "$dir/$f" "$dir/$f.ref" || bad="$bad $f"
	done
	if [ -z "$bad" ]; then ok "$name"; else fail "$name" "differ:$bad"; fi
}
# CMake: a build dir apart from the sources, absolute sources, objects in
# a CMakeFiles subdir, -MD -MT -MF as CMake writes them
CM=$W/cmake-build
mkdir -p "$CM"
for fl in "-g" "-g -O0" "-O2" "-g -O2" "-gsplit-dwarf -g -O0"; do
	# shellcheck disable=SC2086
	build_same "cmake_abs_c[$fl]" "$CM" CMakeFiles/x.dir/src/x.c.o gcc $fl -I"$W/include" \
		-MD -MT CMakeFiles/x.dir/src/x.c.o -MF CMakeFiles/x.dir/src/x.c.o.d -c "$W/src/x.c"
done
build_same "cmake_abs_cxx[-g -O1]" "$CM" CMakeFiles/x.dir/src/shapes.cc.o g++ -g -O1 -c "$W/src/shapes.cc"
build_same "cmake_abs_cxx[-gsplit-dwarf -g -O0]" "$CM" CMakeFiles/x.dir/src/shapes.cc.o \
	g++ -gsplit-dwarf -g -O0 -c "$W/src/shapes.cc"
build_same cmake_abs_user_maps "$CM" CMakeFiles/x.dir/src/x.c.o gcc -g -O2 -I"$W/include" \
	"-fdebug-prefix-map=$W=/build" "-fmacro-prefix-map=$W/=" -c "$W/src/x.c"
if grep -q "$W" "$CM/CMakeFiles/x.dir/src/x.c.o"; then fail cmake_abs_user_maps_applied "$W named in the object"
else ok cmake_abs_user_maps_applied; fi
build_same cmake_abs_file_prefix_map "$CM" CMakeFiles/x.dir/src/x.c.o gcc -g -I"$W/include" \
	"-ffile-prefix-map=$W/src=/S" -c "$W/src/x.c"
build_same cmake_abs_dotdot "$CM" x_dd.o gcc -g -O2 -I"$W/include" -c "$CM/../src/x.c"
build_same cmake_abs_default_output "$CM" x.o gcc -g -I"$W/include" -c "$W/src/x.c"
# VPATH (autotools): a build dir below the source tree, ../../src/x.c
VP=$W/vpath/sub
mkdir -p "$VP"
for fl in "-g" "-g -O0" "-O2" "-g -O2 -MD" "-gsplit-dwarf -g -O0"; do
	# shellcheck disable=SC2086
	build_same "vpath_c[$fl]" "$VP" x.o gcc $fl -I../../include -c ../../src/x.c
done
build_same "vpath_cxx[-g -O1]" "$VP" shapes.o g++ -g -O1 -c ../../src/shapes.cc
build_same vpath_dot_dotdot "$W" obj/vx.o gcc -g -Iinclude -c ./src/../src/x.c
build_same vpath_user_map "$VP" x.o gcc -g -O2 -I../../include "-fdebug-prefix-map=$W=/B" -c ../../src/x.c
# "#include" inside strings and comments still distributes
build_same include_text_in_strings_and_comments "$W" obj/inctext.o gcc -g -O2 -Iinclude -c src/inctext.c

# compiler probes stay local: /dev/null in, /dev/null out, a FIFO in
DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc -Werror -c -x c /dev/null -o "$W/probe/null" 2>"$W/p1.trace"; rc=$?
gcc -Werror -c -x c /dev/null -o "$W/probe/null" 2>/dev/null; rr=$?
if [ $rc -eq $rr ] && grep -q 'local: /dev/null: input is not a regular file' "$W/p1.trace"; then ok probe_dev_null_local
else fail probe_dev_null_local "rc=$rc/$rr $(head -c 300 "$W/p1.trace")"; fi
DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc -O2 -Iinclude -c src/util.c -o /dev/null 2>"$W/p2.trace"; rc=$?
if [ $rc -eq 0 ] && [ -c /dev/null ] && grep -q 'output is not a regular file' "$W/p2.trace"; then ok probe_out_dev_null_local
else fail probe_out_dev_null_local "rc=$rc $(head -c 300 "$W/p2.trace")"; fi
mkfifo "$W/fifo.c"
( printf 'int fifo_x;\n' >"$W/fifo.c" ) &
DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" "$TIMEOUT" 20 "$DCC" gcc -c -x c "$W/fifo.c" -o obj/fifo.o 2>"$W/p3.trace"; rc=$?
wait
if [ $rc -eq 0 ] && [ -s obj/fifo.o ] && grep -q 'input is not a regular file' "$W/p3.trace"; then ok probe_fifo_local
else fail probe_fifo_local "rc=$rc $(head -c 300 "$W/p3.trace")"; fi

# what cannot be made identical stays local (and is identical)
EXPECT=local:-g3 cmp_run g3_local gcc -g3 -O2 -Iinclude -c src/util.c -o @O@/util_g3.o
same_files g3_local_object util_g3.o
EXPECT=local:-g3 cmp_run ggdb3_local gcc -ggdb3 -Iinclude -c src/util.c -o @O@/util_gg3.o
EXPECT="local:'='" cmp_run abs_source_equals_local gcc -g -O2 -Iinclude -c "$W/src/eq=dir/e.c" -o @O@/util_eq.o
same_files abs_source_equals_local_object util_eq.o
EXPECT=local:__DATE__ cmp_run date_time_local gcc -O2 -c src/when.c -o @O@/when.o
EXPECT=local:pedantic cmp_run pedantic_local gcc -g -pedantic -std=c11 -Iinclude -c src/util.c -o @O@/util_ped.o
same_files pedantic_local_object util_ped.o

# no hubd at all: the build goes on locally, silently
rm -f obj/nohub.o
"$DCC" gcc -O2 -Iinclude -c src/util.c -o obj/nohub.o 2>"$W/nohub.err"; rc=$?
gcc -O2 -Iinclude -c src/util.c -o ref/nohub.o
if [ $rc -eq 0 ] && [ ! -s "$W/nohub.err" ] && cmp -s obj/nohub.o ref/nohub.o; then ok no_hubd_fallback_silent
else fail no_hubd_fallback_silent "rc=$rc err=$(head -c 200 "$W/nohub.err")"; fi

# UNCACHED_ERR_FD: the farm note goes there, not to stderr
UNCACHED_ERR_FD=7 "$DCC" gcc -O2 -Iinclude -c src/util.c -o obj/ucf.o 7>"$W/fd7" 2>"$W/ucf.err"; rc=$?
if [ $rc -eq 0 ] && [ ! -s "$W/ucf.err" ] && grep -q 'dcc:' "$W/fd7"; then ok uncached_err_fd
else fail uncached_err_fd "rc=$rc stderr=$(head -c 200 "$W/ucf.err") fd7=$(head -c 200 "$W/fd7")"; fi

# @file response files (quoting, nesting)
printf '%s\n' "-O2 -Iinclude @$W/inner.rsp" > "$W/outer.rsp"
printf '%s\n' "'-DFEATURE=\"rsp mode\"' -c" > "$W/inner.rsp"
DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc @"$W/outer.rsp" src/main.c -o obj/rsp.o 2>"$W/rsp.trace"; rc=$?
gcc @"$W/outer.rsp" src/main.c -o ref/rsp.o
if [ $rc -eq 0 ] && grep -q 'compiled on loopback' "$W/rsp.trace"; then same_files response_file rsp.o
else fail response_file "rc=$rc $(head -c 300 "$W/rsp.trace")"; fi

# local-only commands behave exactly like the real compiler
cmp_run link_local gcc -O2 -Iinclude src/main.c src/util.c -o @O@/prog
same_files link_output prog
USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc -Iinclude -E src/util.c >"$W/e1" 2>&1; r1=$?
gcc -Iinclude -E src/util.c >"$W/e2" 2>&1; r2=$?
[ $r1 -eq $r2 ] && cmp -s "$W/e1" "$W/e2" && ok preprocess_only_E || fail preprocess_only_E "differs"
DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" "$DCC" gcc -c conftest.c -o obj/conftest.o 2>"$W/ct"; rc=$?
gcc -c conftest.c -o ref/conftest.o
if [ $rc -eq 0 ] && grep -q 'autoconf' "$W/ct"; then same_files conftest_local conftest.o
else fail conftest_local "rc=$rc $(cat "$W/ct")"; fi
"$DCC" gcc --version >"$W/v1" 2>&1; gcc --version >"$W/v2" 2>&1
cmp -s "$W/v1" "$W/v2" && ok compiler_version_passthrough || fail compiler_version_passthrough "differs"

# implicit mode: dcc -c a.c uses cc
( cd obj && USBFARM_SOCKET="$W/loophub.sock" "$DCC" -O2 -I../include -c ../src/math.c -o implicit.o ) &&
( cd ref && cc -O2 -I../include -c ../src/math.c -o implicit.o )
same_files implicit_cc implicit.o

# masquerading: a dir of symlinks named like compilers, first on PATH
gcc -O2 -Iinclude -c src/util.c -o ref/masq.o
mkdir -p "$W/masq"
for n in gcc cc g++ c++; do ln -sf "$DCC" "$W/masq/$n"; done
PATH="$W/masq:$PATH" DCC_VERBOSE=1 USBFARM_SOCKET="$W/loophub.sock" gcc -O2 -Iinclude -c src/util.c -o obj/masq.o 2>"$W/masq.trace"; rc=$?
if [ $rc -eq 0 ] && grep -q 'compiled on loopback' "$W/masq.trace"; then same_files masquerade masq.o
else fail masquerade "rc=$rc $(head -c 300 "$W/masq.trace")"; fi
# two masquerade dirs on PATH: still finds the real one, no recursion
mkdir -p "$W/masq2"; ln -sf "$DCC" "$W/masq2/gcc"
PATH="$W/masq:$W/masq2:$PATH" "$TIMEOUT" 20 gcc -O2 -Iinclude -c src/util.c -o obj/masq2.o; rc=$?
[ $rc -eq 0 ] && cmp -s obj/masq2.o ref/masq.o && ok masquerade_two_dirs || fail masquerade_two_dirs "rc=$rc"
# a PATH with only dcc: a clear error, not a loop
PATH="$W/masq" "$TIMEOUT" 20 gcc -c src/util.c -o obj/x.o 2>"$W/rec.err"; rc=$?
if [ $rc -eq 111 ] && grep -q recursion "$W/rec.err"; then ok recursion_detected
else fail recursion_detected "rc=$rc $(cat "$W/rec.err")"; fi
# a wrapper script that calls dcc again: DCC_RECURSION stops it
cat > "$W/masq2/wrapcc" <<EOF
#!/bin/sh
exec "$DCC" gcc "\$@"
EOF
chmod +x "$W/masq2/wrapcc"
USBFARM_SOCKET="$W/loophub.sock" "$TIMEOUT" 20 "$DCC" "$W/masq2/wrapcc" -O2 -Iinclude -c src/util.c -o obj/wrap.o; rc=$?
[ $rc -eq 0 ] && cmp -s obj/wrap.o ref/masq.o && ok wrapper_script_no_loop || fail wrapper_script_no_loop "rc=$rc"

# help and version
"$DCC" --help | grep -q 'ENVIRONMENT' && "$DCC" --help | grep -q 'EXIT STATUS' && ok help || fail help "no man-style help"
"$DCC" --version | grep -q '^dcc ' && ok version || fail version "no version"
"$DCC" >/dev/null 2>&1; [ $? -eq 2 ] && ok usage_exit_2 || fail usage_exit_2 "no usage error"

t_done
