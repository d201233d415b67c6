#!/usr/bin/env bash
# hub_caps.sh — hubd's caps on its clients (issue 6 items 5 and 11): a request
# announcing more than --max-message is closed before anything is allocated;
# many connections announcing huge requests cost hubd only the bytes they
# really sent, under --max-held; idle connections are dropped after
# --client-idle; past --max-clients a connection is closed at once (one log
# line per episode); through all of it hubd keeps serving dcc. The flooding
# clients are a normal member of the usbfarm group (tests/lib/hubflood.py).
# timeout: 300
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=hc1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 1
FLOOD=$T_ROOT/tests/lib/hubflood.py
W=$FARM_TMP/w
mkdir -p "$W"
printf 'int f(int x) { return x + 1; }\n' >"$W/a.c"
chown -R "$FARM_USER:" "$W"
vmsize() { sed -n 's/^VmSize:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$HUBD_PID/status"; }
jobs_total() { status_json | jq '.jobs.total'; }
# one_job NAME: a dcc compile as the user goes through hubd (its total grows)
one_job() {
	local b a
	b=$(jobs_total)
	(cd "$W" && as_user "$T_BIN/dcc" gcc -O2 -c a.c -o "$1.o") >"$FARM_TMP/$1.out" 2>&1
	a=$(jobs_total)
	if [ -s "$W/$1.o" ] && [ "$a" -gt "$b" ]; then ok "$1"; else fail "$1" "jobs $b -> $a; $(tail -n 2 "$FARM_TMP/$1.out")"; fi
}

# ---- a request announcing more than --max-message
start_hubd_bare --local-slots 1 --max-message 8388608
r=$(as_user python3 "$FLOOD" "$USBFARM_SOCKET" 5 $((16 << 20)) 1000 20)
echo "# over --max-message: $r"
if [ "$(echo "$r" | awk '{print $6}')" -eq 5 ] && grep -q "more than --max-message" "$FARM_TMP/hubd.log"; then
	ok over-max-message-closed
else
	fail over-max-message-closed "$r"
fi
one_job serves-after-big-announcements
stop_hubd

# ---- 150 connections announcing 190 MiB each, 256 KiB sent: bounded memory
start_hubd_bare --local-slots 1 --max-clients 200 --max-held $((16 << 20)) --client-idle 5
v0=$(vmsize)
rm -f "$W/ready"
as_user python3 "$FLOOD" "$USBFARM_SOCKET" 150 $((190 << 20)) $((256 << 10)) 60 "$W/ready" \
	>"$FARM_TMP/flood.out" &
fpid=$!
wait_for 600 test -s "$W/ready" || fail flood-started "the flooding clients did not start"
v1=$(vmsize)
growth=$(( (v1 - v0) / 1024 ))
echo "# 150 x 190 MiB announced (28 GiB), 256 KiB sent each: hubd VmSize +${growth} MiB"
if [ -s "$W/ready" ] && [ "$growth" -lt 256 ] && grep -q "reach --max-held" "$FARM_TMP/hubd.log"; then
	ok memory-bounded-by-max-held
else
	fail memory-bounded-by-max-held "VmSize +$growth MiB; held cap logged: $(grep -c 'reach --max-held' "$FARM_TMP/hubd.log")"
fi
one_job serves-during-flood
wait "$fpid"
r=$(cat "$FARM_TMP/flood.out")
echo "# flood: $r"
if [ "$(echo "$r" | awk '{print $2}')" -eq "$(echo "$r" | awk '{print $6}')" ] &&
   grep -q "client idle for 5 s" "$FARM_TMP/hubd.log"; then
	ok idle-connections-dropped
else
	fail idle-connections-dropped "$r; idle lines: $(grep -c 'client idle' "$FARM_TMP/hubd.log")"
fi
one_job serves-after-flood
stop_hubd

# ---- past --max-clients
: >"$FARM_TMP/hubd.log"
start_hubd_bare --local-slots 1 --max-clients 20 --client-idle 30
r=$(as_user python3 "$FLOOD" "$USBFARM_SOCKET" 40 100 0 3)
echo "# 40 idle clients against --max-clients 20: $r"
closed=$(echo "$r" | awk '{print $6}')
episodes=$(grep -c "refusing new connections" "$FARM_TMP/hubd.log")
if [ "$closed" -ge 20 ] && [ "$closed" -lt 40 ] && [ "$episodes" -eq 1 ]; then
	ok max-clients-one-line-per-episode
else
	fail max-clients-one-line-per-episode "closed $closed of 40, $episodes log lines"
fi
one_job serves-after-max-clients
grep -q "below the connection cap again" "$FARM_TMP/hubd.log" && ok max-clients-episode-ends ||
	fail max-clients-episode-ends "no end-of-episode line"
t_done
