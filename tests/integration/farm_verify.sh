#!/usr/bin/env bash
# farm_verify.sh — verified builds and "say why" on the virtual farm.
#  1. node2 offers a dishonest gcc (tests/tools/flipgcc: the real gcc's
#     identity, one byte of each object flipped). hubd --verify 100: the
#     first object node2 returns is caught, node2 is quarantined for that
#     compiler (hubctl status, --json, hubd's log with the objects it
#     produced), dcc says so, and the build ends with every object and .d
#     identical to a local build; after the quarantine node2 gets no job.
#  2. An honest farm at --verify 100: every remote job checked, no alarm.
#  3. Every compile kept local is counted by reason in hubctl status; a
#     build no board can take says so once on dcc's stderr.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=fv1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

# the plain build's flipgcc even for a sanitized run: it is a tool, not the
# code under test, and an ASan binary does not run under noded's limits
FLIP=$T_ROOT/build/tools/flipgcc
[ -x "$FLIP" ] || FLIP=$T_BUILD/tools/flipgcc
[ -x "$FLIP" ] || { fail flipgcc-built "no $FLIP (run make)"; t_done; exit; }
farm_init 2
DCC=$T_BIN/dcc
# the directives-only path (its local reasons, #pragma message among them,
# are that path's; a tree job's board runs only its toolchain's compilers)
export DCC_INPUTS=text
# the dishonest compiler, where the node's unprivileged compile user reaches it
BAD=$(mktemp -d /tmp/flipgcc-q7.XXXXXX)
chmod 755 "$BAD"
cp "$FLIP" "$BAD/gcc"
chmod 755 "$BAD/gcc"
trap 'farm_cleanup; rm -rf "$BAD"' EXIT

start_hubd --local-slots 0 --verify 100
start_noded 1 --slots 2 --compilers /usr/bin/gcc
# the sandbox shows a job only its --toolchain: noded's default and $BAD
start_noded 2 --slots 2 --compilers "$BAD/gcc" \
	--toolchain "/usr:/bin:/sbin:/lib:/lib64:/lib32:/libx32:/etc/ld.so.cache:/etc/alternatives:$BAD"
if wait_for 200 nodes_up 2; then ok farm-up; else fail farm-up "nodes not up: $(status_json)"; exit 1; fi
c1=$(status_json | jq -c '.nodes[0].compilers'); c2=$(status_json | jq -c '.nodes[1].compilers')
[ "$c1" = "$c2" ] && ok dishonest-gcc-same-identity || fail dishonest-gcc-same-identity "$c1 vs $c2"

G=$FARM_TMP/gen
gen_tree "$G" 24
GF="-O2 -g -MD"
(cd "$G" && make -j4 CC=gcc CFLAGS="$GF" >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
if (cd "$G" && make -j4 CC="$DCC gcc" CFLAGS="$GF" >"$FARM_TMP/bad.log" 2>&1); then
	ok build-with-dishonest-board
else
	fail build-with-dishonest-board "$(tail -n 3 "$FARM_TMP/bad.log")"
fi
same_outputs "$G/ref" "$G/obj" && ok objects-correct-despite-bad-board ||
	fail objects-correct-despite-bad-board "objects differ from the local build"
S=$(status_json)
q=$(echo "$S" | jq -r '[.verify.quarantined[] | .node] | unique | join(",")')
mm=$(echo "$S" | jq '.verify.mismatched')
echo "# verify: $(echo "$S" | jq -c '{checked: .verify.checked, identical: .verify.identical, mismatched: .verify.mismatched}'); quarantined: $q"
[ "$q" = node2 ] && ok bad-board-quarantined || fail bad-board-quarantined "quarantined: '$q'"
[ "$mm" -ge 1 ] && ok mismatch-counted || fail mismatch-counted "mismatched=$mm"
[ "$(echo "$S" | jq '[.verify.quarantined[0].objects[]] | length')" -ge 1 ] &&
	ok quarantine-lists-objects || fail quarantine-lists-objects "$(echo "$S" | jq -c .verify)"
grep -q 'VERIFY MISMATCH: board node2' "$FARM_TMP/hubd.log" && grep -q 'VERIFY:   src/' "$FARM_TMP/hubd.log" &&
	ok mismatch-logged-with-objects || fail mismatch-logged-with-objects "not in hubd.log"
grep -q 'dcc: VERIFY MISMATCH: node2' "$FARM_TMP/bad.log" && ok dcc-says-mismatch ||
	fail dcc-says-mismatch "no line in the build's output"
"$T_BIN/hubctl" status | grep -q '^QUARANTINED: node2 for gcc' && ok hubctl-text-shows-quarantine ||
	fail hubctl-text-shows-quarantine "$("$T_BIN/hubctl" status | tail -n 4)"
# honest node1 passed every check
n1=$(echo "$S" | jq '.nodes[] | select(.name == "node1") | .jobs_done')
echo "# jobs: node1 $n1, node2 $(echo "$S" | jq '.nodes[] | select(.name == "node2") | .jobs_done')"
# after the quarantine, node2 gets nothing more
before2=$(echo "$S" | jq '.nodes[] | select(.name == "node2") | .jobs_done')
rm -rf "$G/obj"
(cd "$G" && make -j4 CC="$DCC gcc" CFLAGS="$GF" >"$FARM_TMP/bad2.log" 2>&1) && ok rebuild-after-quarantine ||
	fail rebuild-after-quarantine "$(tail -n 3 "$FARM_TMP/bad2.log")"
same_outputs "$G/ref" "$G/obj" && ok rebuild-objects-correct || fail rebuild-objects-correct "differ"
S=$(status_json)
after2=$(echo "$S" | jq '.nodes[] | select(.name == "node2") | .jobs_done')
[ "$after2" -eq "$before2" ] && ok quarantined-board-gets-no-jobs ||
	fail quarantined-board-gets-no-jobs "node2 jobs_done $before2 -> $after2"

# ---- 2. honest farm, every remote job verified: no false alarm
stop_hubd
stop_noded 2
start_noded 2 --slots 2 --compilers /usr/bin/gcc
start_hubd --local-slots 0 --verify 100
wait_for 200 nodes_up 2 || fail honest-farm-up "$(status_json)"
rm -rf "$G/obj"
(cd "$G" && make -j4 CC="$DCC gcc" CFLAGS="$GF" >"$FARM_TMP/honest.log" 2>&1) && ok honest-build ||
	fail honest-build "$(tail -n 3 "$FARM_TMP/honest.log")"
same_outputs "$G/ref" "$G/obj" && ok honest-objects-identical || fail honest-objects-identical "differ"
S=$(status_json)
chk=$(echo "$S" | jq '.verify.checked'); idn=$(echo "$S" | jq '.verify.identical')
echo "# honest farm at --verify 100: $(echo "$S" | jq -c '{checked: .verify.checked, identical: .verify.identical, mismatched: .verify.mismatched, unreported: .verify.unreported}')"
[ "$chk" -ge 24 ] && [ "$idn" -eq "$chk" ] && [ "$(echo "$S" | jq '.verify.mismatched')" -eq 0 ] &&
	[ "$(echo "$S" | jq '.verify.quarantined | length')" -eq 0 ] && ok no-false-alarms ||
	fail no-false-alarms "$(echo "$S" | jq -c .verify)"
grep -q 'VERIFY MISMATCH' "$FARM_TMP/honest.log" && fail honest-build-quiet "a mismatch was said" || ok honest-build-quiet

# ---- 3. every compile kept local is counted by reason
R=$FARM_TMP/reasons
mkdir -p "$R"
cat >"$R/conftest.c" <<'EOF'
int main(void) { return 0; }
EOF
cat >"$R/g3.c" <<'EOF'
#define X 1
int g3 = X;
EOF
cat >"$R/msg.c" <<'EOF'
#pragma message "note"
int m = __LINE__;
EOF
cat >"$R/main.c" <<'EOF'
int main(void) { return 0; }
EOF
(cd "$R" && "$DCC" gcc -c conftest.c -o conftest.o && "$DCC" gcc -g3 -c g3.c -o g3.o &&
	"$DCC" gcc -c msg.c -o msg.o 2>/dev/null && "$DCC" gcc -c msg.c -o msg2.o 2>/dev/null &&
	"$DCC" gcc main.c -o main) && ok local-compiles-ran || fail local-compiles-ran "a compile failed"
S=$(status_json)
echo "# $("$T_BIN/hubctl" status | grep 'compiles local')"
by() { echo "$S" | jq --arg k "$1" '.local_reasons.by_reason[$k] // 0'; }
[ "$(by conftest)" -eq 1 ] && [ "$(by -g3)" -eq 1 ] && [ "$(by '#pragma message')" -eq 2 ] &&
	[ "$(by 'link or no compile')" -eq 1 ] && [ "$(echo "$S" | jq .local_reasons.total)" -ge 5 ] &&
	ok local-reasons-counted || fail local-reasons-counted "$(echo "$S" | jq -c .local_reasons)"
"$T_BIN/hubctl" status | grep -q '^[0-9]* compiles local: .*2 #pragma message' &&
	ok hubctl-text-reasons || fail hubctl-text-reasons "$("$T_BIN/hubctl" status | grep compiles)"

# ---- a build no board can take: said once, in words
stop_hubd
start_hubd_bare --local-slots 1
rm -rf "$G/obj"
(cd "$G" && setsid make -j4 CC="$DCC gcc" CFLAGS="$GF" >"$FARM_TMP/nofarm.log" 2>&1) && ok nofarm-build ||
	fail nofarm-build "$(tail -n 3 "$FARM_TMP/nofarm.log")"
same_outputs "$G/ref" "$G/obj" && ok nofarm-objects-identical || fail nofarm-objects-identical "differ"
n=$(grep -c '^dcc: no board can take this build' "$FARM_TMP/nofarm.log")
[ "$n" -eq 1 ] && ok nofarm-said-once || fail nofarm-said-once "said $n times"
grep -m1 '^dcc: no board' "$FARM_TMP/nofarm.log" | sed 's/^/# /'
S=$(status_json)
[ "$(echo "$S" | jq '.local_reasons.by_reason["no board offers the compiler"] // 0')" -ge 24 ] &&
	ok nofarm-counted || fail nofarm-counted "$(echo "$S" | jq -c .local_reasons)"
t_done
