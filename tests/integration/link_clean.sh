#!/usr/bin/env bash
# link_clean.sh — the transport on a clean veth link (lib/link.h over
# link_io_packet): thousands of messages of 0 B..64 MiB on 16 streams, both
# directions at once; every message intact, once, in order on its stream;
# every link_send gets exactly one sent callback. Numbers printed as `#` lines.
# timeout: 600
# asan: yes
source "$(dirname "$0")/../lib/sh.sh"
set -u
NAME=clean P=lk1-
source "$T_ROOT/tests/lib/link.sh"
# the sanitized build is several times slower: a smaller workload there
case $T_BUILD in *asan*) MSGS=1500 MAX=16M ;; *) MSGS=3000 MAX=64M ;; esac

"$SF" up 1 --prefix "$P" -q || { fail link-clean "simfarm up failed"; t_done; exit; }
pair_run "$MSGS" "$MAX"
pair_check clean "$MSGS"
t_done
