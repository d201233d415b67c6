#!/usr/bin/env bash
# dcc_pragma.sh — never a wrong object from the directives-only path: a
# table of pragma, _Pragma and other preprocessor cases, each compiled
# locally and through dcc, with exit status, stdout, stderr and object
# compared byte for byte. Every case runs through dcc's node-side executor
# by tests/tools/loophub (a stand-in hubd: the exact remote path, no root) and,
# as root, again on a virtual farm of one node (hubd, noded). A case marked
# "local:TEXT" must be kept local with TEXT in its DCC_VERBOSE reason; a
# case marked "remote" must be compiled remotely; "any" only needs the
# outputs identical. Also times ppcheck on glibc/libstdc++-heavy sources.
# timeout: 600
# asan: yes
set -u -o pipefail
source "$(dirname "$0")/../lib/sh.sh"
DCC=$T_BIN/dcc
# the directives-only path is what this tests (loophub, like a hubd of
# before issue 11, takes no tree jobs): dcc's default is inputs by hash
export DCC_INPUTS=text
[ -x "$DCC" ] || { fail dcc_built "no $DCC (run make)"; t_done; exit; }
command -v gcc >/dev/null || { skip dcc_pragma "no gcc"; exit 0; }
unset DCC_LOCAL DCC_LOOPBACK UNCACHED_ERR_FD DCC_RECURSION
LOOPHUB_BIN=$T_BUILD/tools/loophub
[ -x "$LOOPHUB_BIN" ] || { fail loophub_built "no $LOOPHUB_BIN (run make)"; t_done; exit; }
W=$(mktemp -d /tmp/dcc_pragma.XXXXXX)
chmod 755 "$W"
"$LOOPHUB_BIN" "$W/loophub.sock" >"$W/loophub.log" 2>&1 &
LOOPHUB_PID=$!
disown "$LOOPHUB_PID"
for _ in $(seq 1 100); do [ -S "$W/loophub.sock" ] && break; sleep 0.1; done
FARM=0
if [ "$(id -u)" -eq 0 ] && [ -x "$T_BIN/hubd" ] && [ -x "$T_BIN/noded" ]; then
	FARM_PREFIX=pp1-
	source "$T_ROOT/tests/lib/farm.sh"
	farm_init 1
	trap 'kill "$LOOPHUB_PID" 2>/dev/null; farm_cleanup; rm -rf "$W"' EXIT
	start_hubd --local-slots 0
	start_noded 1 --slots 2
	if wait_for 200 nodes_up 1; then FARM=1; ok farm-up; else fail farm-up "node not up"; fi
else
	trap 'kill "$LOOPHUB_PID" 2>/dev/null; rm -rf "$W"' EXIT
	skip farm-cases "needs root and hubd/noded: loopback cases only"
fi
SOCK=${USBFARM_SOCKET:-$W/none.sock}

# One case: NAME FLAGS EXPECT, the source on stdin (t.c, or t.cc with
# CASE_EXT=cc); headers written by hdr() beforehand go along.
declare -A HDR=()
hdr() { HDR[$1]=$(cat); }
NOOBJ=""	# set for a case whose local object itself is not reproducible
run_case() {
	local name=$1 flags=$2 expect=$3 ext=${CASE_EXT:-c} d mode
	d=$W/$name
	mkdir -p "$d"
	cat >"$d/t.$ext"
	for h in "${!HDR[@]}"; do mkdir -p "$(dirname "$d/$h")"; printf '%s\n' "${HDR[$h]}" >"$d/$h"; done
	HDR=()
	# shellcheck disable=SC2086
	(cd "$d" && gcc $flags -c "t.$ext" -o t.o >l.out 2>l.err; echo $? >l.rc; [ -f t.o ] && mv t.o l.o)
	for mode in loop farm; do
		[ $mode = farm ] && [ $FARM -eq 0 ] && continue
		case_once "$name" "$flags" "$expect" "$ext" "$d" $mode
	done
	NOOBJ=""
}
case_once() {
	local name=$1 flags=$2 expect=$3 ext=$4 d=$5 mode=$6 diff="" how
	rm -f "$d/t.o"
	# shellcheck disable=SC2086
	(cd "$d" && if [ "$mode" = loop ]; then export USBFARM_SOCKET=$W/loophub.sock;
	 else export USBFARM_SOCKET=$SOCK; fi
	 DCC_VERBOSE=1 "$DCC" gcc $flags -c "t.$ext" -o t.o >r.out 2>r.all; echo $? >r.rc)
	grep -v '^dcc: ' "$d/r.all" >"$d/r.err"
	grep '^dcc: ' "$d/r.all" >"$d/r.why"
	cmp -s "$d/l.rc" "$d/r.rc" || diff="$diff status($(cat "$d/l.rc")/$(cat "$d/r.rc"))"
	cmp -s "$d/l.out" "$d/r.out" || diff="$diff stdout"
	cmp -s "$d/l.err" "$d/r.err" || diff="$diff stderr"
	if [ -z "$NOOBJ" ]; then
		if [ -f "$d/l.o" ] || [ -f "$d/t.o" ]; then cmp -s "$d/l.o" "$d/t.o" || diff="$diff object"; fi
	fi
	if grep -q ' compiled on ' "$d/r.why"; then how=remote
	else how="local ($(grep -m1 'dcc: local: \|compiling locally' "$d/r.why" | sed 's/^dcc: //'))"; fi
	case $expect in
	remote) [ "$how" = remote ] || diff="$diff expected-remote";;
	local:*) grep -qF "local: ${expect#local:}" "$d/r.why" || diff="$diff expected-${expect}";;
	esac
	if [ -z "$diff" ]; then
		ok "$mode-$name"
		echo "#   $name: $how"
	else
		fail "$mode-$name" "differs:$diff; $how"
	fi
}

L='int line_a = __LINE__;'
E='int line_b = __LINE__;
int use_b(void) { return line_b; }'
G="-O2 -g"

# ---- pragmas the directives-only text drops or does not carry ----------------
run_case message "$G" "local:#pragma message" <<EOF
$L
#pragma message "hello"
$E
EOF
run_case message_spaced "$G" "local:#pragma message" <<EOF
$L
  #  pragma   message  ("spaced")
$E
EOF
run_case message_comment "$G" "local:#pragma message" <<EOF
$L
/* lead */ # /* mid */ pragma /* x */ message "c"
$E
EOF
run_case message_continued "$G" "local:#pragma message" <<EOF
$L
#pra\\
gma mess\\
age "continued"
$E
EOF
run_case message_digraph "$G" "local:a directive spelled with the digraph" <<EOF
$L
%:pragma message "digraph"
$E
EOF
hdr h.h <<EOF
#pragma message "from a header"
int h_line = __LINE__;
EOF
run_case message_in_header2 "$G" "local:#pragma message" <<EOF
#include "h.h"
$E
EOF
run_case redefine_extname "-O2" "local:#pragma redefine_extname" <<EOF
$L
#pragma redefine_extname foo bar
int foo(void);
int call(void) { return foo(); }
$E
EOF
run_case poison "-O2" "local:#pragma GCC poison" <<EOF
#pragma GCC poison secret
int secret = 1;
EOF
run_case poison_ifdef "-O2" "any" <<EOF
#pragma GCC poison secret
#ifdef secret
#endif
int ok_;
EOF
run_case push_pop_macro "-O2 -g" "local:#pragma push_macro" <<'EOF'
#define foo bar
#pragma push_macro("foo")
#undef foo
#pragma pop_macro("foo")
int foo(void) { return 7; }
EOF
run_case omp "-O2 -g -fopenmp" "local:#pragma omp" <<EOF
$L
void add1(int *a, int n) {
#pragma omp parallel for
	for (int i = 0; i < n; i++) a[i] += 1;
}
$E
EOF
run_case omp_simd "-O2 -g -fopenmp-simd" "local:#pragma omp" <<EOF
$L
void add1(int *a, int n) {
#pragma omp simd
	for (int i = 0; i < n; i++) a[i] += 1;
}
$E
EOF
run_case omp_without_flag "-O2 -g" "remote" <<EOF
$L
void add1(int *a, int n) {
#pragma omp parallel for
	for (int i = 0; i < n; i++) a[i] += 1;
}
$E
EOF
NOOBJ=1	# -fopenacc objects differ from one local compile to the next
run_case acc "-O2 -g -fopenacc" "local:#pragma acc" <<EOF
$L
void add1(int *a, int n) {
#pragma acc parallel loop
	for (int i = 0; i < n; i++) a[i] += 1;
}
$E
EOF
run_case digraph_define "-O2" "local:a directive spelled with the digraph" <<'EOF'
%:define X 5
#if X
int a = 1;
#else
int a = 2;
#endif
EOF

# ---- _Pragma: run by the node; kept local when the hub needed to see it ------
run_case Pragma_message "$G" "any" <<EOF
$L
_Pragma("message(\"op\")")
$E
EOF
run_case Pragma_poison "-O2" "local:_Pragma" <<'EOF'
_Pragma("GCC poison secret")
#ifdef secret
#endif
int secret_free;
EOF
run_case Pragma_push_pop "-O2" "local:_Pragma" <<'EOF'
#define X 1
_Pragma("push_macro(\"X\")")
#undef X
#define X 2
_Pragma("pop_macro(\"X\")")
#if X == 1
int x_is_one;
#endif
EOF
hdr once.h <<'EOF'
_Pragma("once")
struct once_s { int a; };
EOF
run_case Pragma_once_header "-O2 -g" "local:_Pragma" <<'EOF'
#include "once.h"
#include "once.h"
struct once_s v;
EOF
run_case Pragma_macro_poison "-O2" "local:a _Pragma built by a macro" <<'EOF'
#define P(x) _Pragma(#x)
P(GCC poison secret)
int secret;
EOF
run_case Pragma_macro_diag "-O2 -Wall" "remote" <<'EOF'
#define IGNORE _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wunused-variable\"")
#define END _Pragma("GCC diagnostic pop")
IGNORE int u(int x) { int y; return x; } END
EOF
run_case Pragma_redefine_extname "-O2" "remote" <<'EOF'
_Pragma("redefine_extname foo bar")
int foo(void);
int call(void) { return foo(); }
EOF
run_case Pragma_pack "$G" "remote" <<EOF
$L
_Pragma("pack(1)")
struct s { char c; int i; } s1;
$E
EOF

# ---- pragmas that are carried (left to the node or done on the hub) ----------
run_case pack "$G" "remote" <<EOF
$L
#pragma pack(push, 1)
struct s { char c; int i; } s1;
#pragma pack(pop)
$E
EOF
run_case weak "-O2" "remote" <<EOF
#pragma weak wf
int wf(void);
int g(void) { return wf ? wf() : 0; }
EOF
run_case diagnostic "-O2 -Wall" "remote" <<EOF
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-variable"
int u(int x) { int y; return x; }
#pragma GCC diagnostic pop
$E
EOF
run_case diagnostic_warns "-O2 -Wall" "any" <<EOF
#pragma GCC diagnostic warning "-Wunused-variable"
int u(int x) { int y; return x; }
EOF
run_case diagnostic_error "-O2 -Wall" "any" <<EOF
#pragma GCC diagnostic error "-Wunused-variable"
int u(int x) { int y; return x; }
EOF
run_case gcc_warning "-O2" "local:preprocessing" <<EOF
$L
#pragma GCC warning "careful"
$E
EOF
run_case gcc_error "-O2" "local:preprocessing" <<EOF
#pragma GCC error "stop"
int x;
EOF
run_case once_main "-O2" "any" <<EOF
#pragma once
$E
EOF
hdr sys.h <<'EOF'
#pragma GCC system_header
static int sys_unused(int x) { int y; return x; }
EOF
run_case system_header "-O2 -Wall" "remote" <<EOF
#include "sys.h"
$E
EOF
hdr dep.h <<'EOF'
#pragma once
int dep_x;
EOF
run_case dependency_once "$G" "remote" <<EOF
#pragma GCC dependency "dep.h"
#include "dep.h"
#include "dep.h"
$E
EOF
run_case scalar_storage_order "$G" "remote" <<EOF
#pragma scalar_storage_order big-endian
struct be { int i; } be1 = { 1 };
#pragma scalar_storage_order default
$E
EOF
run_case visibility "-O2 -fPIC" "remote" <<EOF
#pragma GCC visibility push(hidden)
int hidden_fn(void) { return 1; }
#pragma GCC visibility pop
$E
EOF
run_case optimize_options "$G" "remote" <<EOF
#pragma GCC push_options
#pragma GCC optimize("O0")
int o0(int x) { return x * 2; }
#pragma GCC pop_options
#pragma GCC target("avx2")
int avx(int x) { return x * 3; }
#pragma GCC reset_options
$E
EOF
run_case ivdep_unroll "$G" "remote" <<EOF
void f(int *a, int n) {
#pragma GCC ivdep
	for (int i = 0; i < n; i++) a[i] += 1;
#pragma GCC unroll 4
	for (int i = 0; i < n; i++) a[i] *= 3;
}
$E
EOF
run_case stdc "$G" "remote" <<EOF
#pragma STDC FP_CONTRACT ON
#pragma STDC FENV_ACCESS ON
#pragma STDC CX_LIMITED_RANGE OFF
double fma_(double a, double b, double c) { return a * b + c; }
$E
EOF
run_case ms_struct "$G" "remote" <<EOF
#pragma ms_struct on
struct bits { char c : 1; int i : 3; } b1;
$E
EOF
run_case unknown_pragma "$G -Wall" "any" <<EOF
#pragma frobnicate
$E
EOF

# ---- other suspects ----------------------------------------------------------
run_case line_directive "$G" "remote" <<EOF
$L
#line 100 "renamed.c"
$E
EOF
run_case ident_sccs "$G" "remote" <<EOF
#ident "ident string"
#sccs "sccs string"
$E
EOF
run_case assert "-O2" "any" <<'EOF'
#assert machine(vax)
#if #machine(vax)
int vax;
#endif
EOF
run_case counter_text "-O2 -g" "remote" <<'EOF'
#define UNIQ2(a, b) a##b
#define UNIQ1(a, b) UNIQ2(a, b)
int UNIQ1(v, __COUNTER__), UNIQ1(v, __COUNTER__);
int c = __COUNTER__;
EOF
run_case counter_directive "-O2" "local:preprocessing" <<'EOF'
int a = __COUNTER__;
#if __COUNTER__
#endif
int b = __COUNTER__;
EOF
hdr lev.h <<'EOF'
int lev_h = __INCLUDE_LEVEL__;
const char *lev_file = __FILE__;
EOF
run_case include_level_file "$G" "remote" <<'EOF'
#include "lev.h"
int lev_c = __INCLUDE_LEVEL__;
const char *base = __BASE_FILE__, *file = __FILE__;
EOF
run_case has_include "$G" "remote" <<'EOF'
#if __has_include(<stdio.h>) && !__has_include("nonexistent.h")
int has = 1;
#endif
EOF
hdr a/x.h <<'EOF'
#include_next <x.h>
int from_a = FROM_B + __INCLUDE_LEVEL__;
EOF
hdr b/x.h <<'EOF'
#define FROM_B 2
EOF
run_case include_next "$G -Ia -Ib" "remote" <<'EOF'
#include <x.h>
int use(void) { return from_a; }
EOF
run_case continuation "$G" "remote" <<EOF
#def\\
ine CONT \\
  42
int cont = CONT;
$E
EOF
run_case trigraph_plain "$G -Wall" "any" <<'EOF'
const char *s = "??=";
EOF
run_case trigraphs_on "$G -trigraphs" "local:-trigraphs" <<'EOF'
??=define X 5
int a = X;
EOF
run_case directive_after_comment "$G" "remote" <<EOF
/* c */ #define AFTER 5
int a = AFTER;
$E
EOF
run_case error_directive "-O2" "local:preprocessing" <<'EOF'
#error stop here
EOF
run_case warning_directive "-O2" "local:preprocessing" <<'EOF'
#warning careful
int x;
EOF
run_case comment_pragma_text "$G" "remote" <<EOF
/*
 * Documentation: use #pragma GCC poison in your code to ...
 * and "#pragma message" for notes.
 */
const char *doc = "#pragma message";
$E
EOF

run_case unassert "-O2" "any" <<'EOF'
#assert machine(vax)
#unassert machine
#if #machine(vax)
int vax;
#endif
int none;
EOF
hdr omp.h <<'EOF'
static inline void omp_add(int *a, int n)
{
#pragma omp simd
	for (int i = 0; i < n; i++) a[i]++;
}
EOF
run_case omp_in_header "$G -fopenmp-simd" "local:#pragma omp" <<EOF
#include "omp.h"
$E
EOF
hdr once2.h <<'EOF'
#pragma once
struct once2 { int a; };
EOF
CASE_EXT=cc run_case cxx_once_header "$G" "remote" <<'EOF'
#include "once2.h"
#include "once2.h"
once2 o2;
EOF

# ---- userland: glibc and libstdc++ headers ------------------------------------
run_case glibc_stdio "$G -Wall" "remote" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <errno.h>
int main(int argc, char **argv) { printf("%s %zu %d %g\n", argv[0], strlen(argv[0]), errno, sqrt((double)argc)); return __LINE__; }
EOF
run_case glibc_fcntl "$G -Wall" "any" <<'EOF'
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
int open_ro(const char *p) { return open(p, O_RDONLY | O_CLOEXEC); }
EOF
run_case glibc_pragma_message "$G -Wall" "local:#pragma message" <<'EOF'
#include <stdio.h>
#pragma message "building " __FILE__
int main(void) { return puts("x") + __LINE__; }
EOF
run_case glibc_redefine_extname "-O2 -Wall" "local:#pragma redefine_extname" <<'EOF'
#include <string.h>
#pragma redefine_extname my_len strlen
size_t my_len(const char *);
size_t f(const char *s) { return my_len(s) + __LINE__; }
EOF
CASE_EXT=cc run_case cxx_stl "$G -Wall" "remote" <<'EOF'
#include <string>
#include <vector>
#include <map>
std::map<std::string, std::vector<int>> m;
int count(const std::string &k) { return (int)m[k].size() + __LINE__; }
EOF
CASE_EXT=cc run_case cxx_push_macro "$G" "local:#pragma push_macro" <<'EOF'
#include <string>
#define max(a, b) ((a) > (b) ? (a) : (b))
#pragma push_macro("max")
#undef max
std::string::size_type m = std::string::npos;
#pragma pop_macro("max")
int mx = max(1, 2);
EOF

# ---- cost of the check: ppcheck on glibc/libstdc++-heavy text -----------------
cost() {
	local name=$1 ext=$2 flags=$3 d=$W/cost-$1
	mkdir -p "$d"
	cat >"$d/t.$ext"
	# the preprocess + check alone vs preprocess alone (dcc's trace times it)
	# shellcheck disable=SC2086
	(cd "$d" && gcc $flags -E -fdirectives-only "t.$ext" -o t.i) || return
	echo "# ppcheck $name: $(wc -c <"$d/t.i") bytes, $(grep -c '^# [0-9]* ".*" 1' "$d/t.i") headers entered," \
	     "$(cd "$d" && "$T_BUILD/tools/ppcheck_time" t.i 50) per check"
}
if [ -x "$T_BUILD/tools/ppcheck_time" ]; then
	cost glibc c "-O2" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <netinet/in.h>
int x;
EOF
	cost libstdcxx cc "-O2" <<'EOF'
#include <bits/stdc++.h>
int x;
EOF
fi
t_done
