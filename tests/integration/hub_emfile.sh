#!/usr/bin/env bash
# hub_emfile.sh — hubd at its file limit (issue 9): hubd under
# `prlimit --nofile=48`, 80 idle clients hold every descriptor it has. A new
# dcc is accepted on hubd's spare descriptor and closed at once, so its build
# compiles locally and succeeds with the same objects; hubd logs one line
# when the episode starts (not one per attempt: the unfixed hubd wrote
# millions) and one when it ends, and serves dcc again afterwards.
# timeout: 300
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
FARM_PREFIX=hm1-
source "$T_ROOT/tests/lib/farm.sh"
set -u

farm_init 1
FLOOD=$T_ROOT/tests/lib/hubflood.py
G=$FARM_TMP/gen
gen_tree "$G" 12
(cd "$G" && make -j4 CC=gcc CFLAGS=-O2 >/dev/null 2>&1) && mv "$G/obj" "$G/ref"
chown -R "$FARM_USER:" "$G"

HUBD_PREFIX=(prlimit --nofile=48:48)
start_hubd_bare --local-slots 1 --client-idle 120
HUBD_PREFIX=()
rm -f "$G/ready"
as_user python3 "$FLOOD" "$USBFARM_SOCKET" 80 100 0 120 "$G/ready" >"$FARM_TMP/flood.out" &
fpid=$!
wait_for 600 test -s "$G/ready" || fail flood-started "the idle clients did not start"
if user_in "$G" make -j4 CC="$T_BIN/dcc gcc" CFLAGS=-O2 >"$FARM_TMP/build.log" 2>&1; then
	ok build-at-file-limit
else
	fail build-at-file-limit "$(tail -n 3 "$FARM_TMP/build.log" | tr '\n' '|')"
fi
same_outputs "$G/ref" "$G/obj" && ok objects-identical-at-file-limit ||
	fail objects-identical-at-file-limit "differ"
starts=$(grep -c "refusing new connections until descriptors are free" "$FARM_TMP/hubd.log")
lines=$(wc -l <"$FARM_TMP/hubd.log")
echo "# at the file limit: $(cat "$G/ready"), $starts episode line(s), $lines log lines in all"
if [ "$starts" -eq 1 ] && [ "$lines" -lt 200 ]; then
	ok one-log-line-per-episode
else
	fail one-log-line-per-episode "$starts episode starts, $lines lines"
fi
rm -f "$G/ready"	# the idle clients go away
wait "$fpid"
rm -rf "$G/obj"
b=$(wait_for 50 status_json >/dev/null; status_json | jq '.jobs.total')
if user_in "$G" make -j4 CC="$T_BIN/dcc gcc" CFLAGS=-O2 >"$FARM_TMP/build2.log" 2>&1 &&
   same_outputs "$G/ref" "$G/obj" && [ "$(status_json | jq '.jobs.total')" -gt "${b:-0}" ]; then
	ok serves-after-file-limit
else
	fail serves-after-file-limit "jobs before ${b:-?}; $(tail -n 2 "$FARM_TMP/build2.log" | tr '\n' '|')"
fi
grep -q "file descriptors available again" "$FARM_TMP/hubd.log" && ok episode-ends ||
	fail episode-ends "no end-of-episode line"
t_done
