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

# ---- the dispatcher and the identifier
u=$(field "$HUBD_PID" Uid)
if [ "$u" = "$uf $uf $uf $uf" ] && [ "$(field "$HUBD_PID" CapEff)" = 0000000000003000 ] &&
   [ "$(field "$HUBD_PID" CapPrm)" = 0000000000003000 ] &&
   [ "$(field "$HUBD_PID" CapBnd)" = 0000000000003000 ] &&
   [ "$(field "$HUBD_PID" NoNewPrivs)" = 1 ]; then
	ok dispatcher-usbfarm-net-caps-only
else
	fail dispatcher-usbfarm-net-caps-only "Uid $u CapEff $(field "$HUBD_PID" CapEff) CapBnd $(field "$HUBD_PID" CapBnd)"
fi
ident=$(pgrep -P "$HUBD_PID" | head -n1)
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

# ---- a user outside the group: told once per build, builds locally
if ! id "$OTHER" >/dev/null 2>&1; then
	useradd -M -d /nonexistent -s /bin/sh "$OTHER" && OTHER_MADE=1
fi
G=$FARM_TMP/gen
gen_tree "$G" 6
(cd "$G" && make -j4 CC=gcc CFLAGS=-O2 >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
chown -R "$OTHER:" "$G"
if (cd "$G" && setpriv --reuid "$OTHER" --regid "$OTHER" --init-groups env -u XDG_RUNTIME_DIR \
	HOME="$G" make -j4 CC="$T_BIN/dcc gcc" CFLAGS=-O2 >"$FARM_TMP/other.log" 2>&1); then
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
t_done
