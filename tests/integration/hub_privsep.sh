#!/usr/bin/env bash
# hub_privsep.sh — hubd runs nothing for its clients as root (issue 6 items 4
# and 6). hubd started by root: the dispatcher runs as `usbfarm` with only
# CAP_NET_RAW/CAP_NET_ADMIN, the identifier with only CAP_SETUID/CAP_SETGID;
# the socket is usable by the usbfarm group. A member of the group SUBMITs a
# job naming a "compiler" that is a script recording who runs it and trying
# to write a canary into a root-only directory: hubd's identification runs it
# as that user (never as root), the canary never appears. The cache is per
# uid (root's client gets its own identification). A user NOT in the group
# is told once per build that the socket cannot be opened, and the build
# succeeds locally with the same objects.
# timeout: 300
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=hp1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

OTHER=uftestx${SIMFARM_TAG:-}
OTHER_MADE=""
cleanup_other() {
	[ -n "$OTHER_MADE" ] && userdel "$OTHER" >/dev/null 2>&1
	farm_cleanup
}
farm_init 1
trap cleanup_other EXIT
start_hubd_bare --local-slots 1

# field PID NAME: a line of /proc/PID/status, value only
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t ' ' '; }
uf=$(id -u usbfarm)

# ---- the dispatcher, the link opener and the identifier
# caps PID: its five capability sets and no_new_privs, one line
caps() { echo "Prm $(field "$1" CapPrm) Eff $(field "$1" CapEff) Inh $(field "$1" CapInh) Amb $(field "$1" CapAmb) Bnd $(field "$1" CapBnd) NNP $(field "$1" NoNewPrivs)"; }
NONE="Prm 0000000000000000 Eff 0000000000000000 Inh 0000000000000000 Amb 0000000000000000 Bnd 0000000000000000 NNP 1"
NET="Prm 0000000000003000 Eff 0000000000003000 Inh 0000000000000000 Amb 0000000000000000 Bnd 0000000000003000 NNP 1"
u=$(field "$HUBD_PID" Uid)
echo "# dispatcher $HUBD_PID: Uid $u; $(caps "$HUBD_PID")"
if [ "$u" = "$uf $uf $uf $uf" ] && [ "$(caps "$HUBD_PID")" = "$NONE" ]; then
	ok dispatcher-usbfarm-no-caps-at-all
else
	fail dispatcher-usbfarm-no-caps-at-all "Uid $u; $(caps "$HUBD_PID")"
fi
# the children: the link opener by its name, the identifier is the other one
opener=""; ident=""
for c in $(pgrep -P "$HUBD_PID"); do
	if [ "$(cat "/proc/$c/comm")" = hubd-opener ]; then opener=$c; else ident=$c; fi
done
echo "# opener ${opener:-none}: $( [ -n "$opener" ] && caps "$opener")"
if [ -n "$opener" ] && [ "$(field "$opener" Uid)" = "$uf $uf $uf $uf" ] && [ "$(caps "$opener")" = "$NET" ]; then
	ok opener-net-raw-admin-only
else
	fail opener-net-raw-admin-only "pid '${opener}' $( [ -n "$opener" ] && echo "Uid $(field "$opener" Uid); $(caps "$opener")")"
fi
if [ -n "$ident" ] && [ "$(field "$ident" Uid)" = "$uf $uf $uf $uf" ] &&
   [ "$(field "$ident" CapEff)" = 00000000000000c0 ] &&
   [ "$(field "$ident" CapBnd)" = 00000000000000c0 ]; then
	ok identifier-setuid-caps-only
else
	fail identifier-setuid-caps-only "pid '${ident}' Uid $( [ -n "$ident" ] && field "$ident" Uid) CapEff $( [ -n "$ident" ] && field "$ident" CapEff)"
fi

# ---- the socket: group usbfarm
d=$(dirname "$USBFARM_SOCKET")
if [ "$(stat -c '%U:%G %a' "$d")" = "usbfarm:usbfarm 750" ] &&
   [ "$(stat -c '%U:%G %a' "$USBFARM_SOCKET")" = "usbfarm:usbfarm 660" ]; then
	ok socket-group-usbfarm
else
	fail socket-group-usbfarm "$(stat -c '%n %U:%G %a' "$d" "$USBFARM_SOCKET" | tr '\n' '|')"
fi

# ---- a malicious compiler path from a group member
W=$FARM_TMP/w
EV=$FARM_TMP/evil
mkdir -p "$W" "$EV" "$FARM_TMP/rootonly"
chmod 0700 "$FARM_TMP/rootonly"
: >"$EV/log"
chmod 0666 "$EV/log"
cat >"$EV/gcc" <<EOF
#!/bin/sh
# who runs me; with no HOME it is hubd's identifier (its clean environment)
echo "\$(id -u) \${HOME:-nohome}" >>"$EV/log"
touch "$FARM_TMP/rootonly/canary" 2>/dev/null
exec /usr/bin/gcc "\$@"
EOF
chmod 0755 "$EV/gcc" "$EV"
printf 'int f(int x) { return x * 3; }\n' >"$W/a.c"
chown -R "$FARM_USER:" "$W"
uid=$(id -u "$FARM_USER")
(cd "$W" && as_user "$T_BIN/dcc" "$EV/gcc" -O2 -c a.c -o a.o) >"$FARM_TMP/evil.out" 2>&1
if grep -q "compiler $EV/gcc (uid $uid)" "$FARM_TMP/hubd.log"; then
	ok evil-compiler-identified-by-hubd
else
	fail evil-compiler-identified-by-hubd "hubd did not identify it: $(grep -i "$EV" "$FARM_TMP/hubd.log" | tail -n 2 | tr '\n' '|')"
fi
if grep -q ' nohome$' "$EV/log" && ! grep ' nohome$' "$EV/log" | grep -qv "^$uid "; then
	ok evil-compiler-ran-as-client-uid
else
	fail evil-compiler-ran-as-client-uid "runs: $(tr '\n' '|' <"$EV/log")"
fi
if ! grep -q '^0 ' "$EV/log" && [ ! -e "$FARM_TMP/rootonly/canary" ]; then
	ok evil-compiler-never-root
else
	fail evil-compiler-never-root "canary: $(ls "$FARM_TMP/rootonly"); runs: $(tr '\n' '|' <"$EV/log")"
fi
[ -s "$W/a.o" ] && ok evil-job-still-built || fail evil-job-still-built "$(tail -n 3 "$FARM_TMP/evil.out")"

# another user's identity is its own: root's client is identified anew, the
# group member's second job uses the cached one
n0=$(grep -c "compiler $EV/gcc (uid" "$FARM_TMP/hubd.log")
(cd "$W" && "$T_BIN/dcc" "$EV/gcc" -O2 -c a.c -o b.o) >/dev/null 2>&1
(cd "$W" && as_user "$T_BIN/dcc" "$EV/gcc" -O2 -c a.c -o c.o) >/dev/null 2>&1
n1=$(grep -c "compiler $EV/gcc (uid" "$FARM_TMP/hubd.log")
if grep -q "compiler $EV/gcc (uid 0)" "$FARM_TMP/hubd.log" && [ "$n1" -eq $((n0 + 1)) ]; then
	ok identity-cache-per-uid
else
	fail identity-cache-per-uid "identifications $n0 -> $n1"
fi

# ---- hubd started by a normal user serves that user only: it cannot run a
# compiler as anyone else, so another uid's compiler is not identified
mkdir -p "$W/own"
chown "$FARM_USER:" "$W/own"
# setpriv and env exec: $! is hubd itself
setpriv --reuid "$FARM_USER" --regid "$FARM_USER" --init-groups env HOME="$FARM_TMP/home" \
	"$T_BIN/hubd" -v --socket "$W/own/run/hubd.sock" --local-slots 1 >"$FARM_TMP/own-hubd.log" 2>&1 &
own=$!
wait_for 100 test -S "$W/own/run/hubd.sock"
(cd "$W" && as_user env USBFARM_SOCKET="$W/own/run/hubd.sock" "$T_BIN/dcc" gcc -O2 -c a.c -o own1.o) >/dev/null 2>&1
(cd "$W" && USBFARM_SOCKET="$W/own/run/hubd.sock" "$T_BIN/dcc" gcc -O2 -c a.c -o own2.o) >/dev/null 2>&1
kill "$own"; wait "$own" 2>/dev/null
if grep -q "compiler /usr/bin/gcc (uid $uid): gcc" "$FARM_TMP/own-hubd.log" &&
   grep -q "compiler /usr/bin/gcc (uid 0) not identified: hubd runs as uid $uid, not root" "$FARM_TMP/own-hubd.log" &&
   [ -s "$W/own1.o" ] && [ -s "$W/own2.o" ]; then
	ok user-hubd-serves-own-uid-only
else
	fail user-hubd-serves-own-uid-only "$(grep compiler "$FARM_TMP/own-hubd.log" | tr '\n' '|')"
fi

# ---- a user outside the group: told once per build, builds locally
if ! id "$OTHER" >/dev/null 2>&1; then
	useradd -M -d /nonexistent -s /bin/sh "$OTHER" && OTHER_MADE=1
fi
G=$FARM_TMP/gen
gen_tree "$G" 6
(cd "$G" && make -j4 CC=gcc CFLAGS=-O2 >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
mkdir -m 0700 "$FARM_TMP/other-rt"
chown -R "$OTHER:" "$G" "$FARM_TMP/other-rt"
if (cd "$G" && setpriv --reuid "$OTHER" --regid "$OTHER" --init-groups \
	env XDG_RUNTIME_DIR="$FARM_TMP/other-rt" HOME="$G" make -j4 CC="$T_BIN/dcc gcc" CFLAGS=-O2 >"$FARM_TMP/other.log" 2>&1); then
	ok outsider-build-succeeds
else
	fail outsider-build-succeeds "$(tail -n 3 "$FARM_TMP/other.log" | tr '\n' '|')"
fi
same_outputs "$G/ref" "$G/obj" && ok outsider-objects-identical || fail outsider-objects-identical "differ"
said=$(grep -c "cannot open hubd's socket" "$FARM_TMP/other.log")
if [ "$said" -eq 1 ] && grep -q "Permission denied.*group usbfarm" "$FARM_TMP/other.log"; then
	ok outsider-told-once
else
	fail outsider-told-once "said $said times: $(grep -m1 dcc: "$FARM_TMP/other.log")"
fi
# ---- every job is checked against the node policy before any node could see
# it: SUBMITs made by hand (none of dcc's own checks apply)
FLOOD=$T_ROOT/tests/lib/hubflood.py
stop_hubd
start_hubd_bare --local-slots 0
sub() { as_user python3 "$FLOOD" --submit "$USBFARM_SOCKET" /usr/bin/gcc "$W" "$@" 2>&1; }
r_plugin=$(sub a.c a.o -x c -c -O2 -fplugin=/tmp/x.so)
r_wrapper=$(sub a.c a.o -x c -c -wrapper /bin/sh,-c,id)
r_at=$(sub @a.c a.o -x c -c -O2)
r_out=$(sub a.c ../../etc/x.o -x c -c -O2)
r_ok=$(sub a.c a.o -x c -c -O2)
echo "# refused: $r_plugin | $r_wrapper | $r_at | $r_out; control: $r_ok"
bad=0
for r in "$r_plugin" "$r_wrapper" "$r_at" "$r_out"; do
	case $r in "outcome 2 "*"refused by the node policy"*) ;; *) bad=$((bad + 1)) ;; esac
done
case $r_ok in "outcome 2 "*"no node offers this compiler"*) ;; *) bad=$((bad + 1)) ;; esac
[ $bad -eq 0 ] && ok hubd-checks-node-policy || fail hubd-checks-node-policy "$bad answers unexpected"
t_done
