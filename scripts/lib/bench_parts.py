# Where the bytes of the last run's tree jobs went, per object of the build
# (KiB): each part's size after LZO alone; "framing and control" is what the
# veth counters saw beyond the messages' compressed sizes (frame headers,
# acks, keepalives, telemetry, retransmissions).
import os, re, sys
run, nobj = sys.argv[1], int(sys.argv[2])
JOB = re.compile(r"parts job \d+ to .*: msg (\d+) lz (\d+); whole (\d+) n (\d+) lz (\d+); "
                 r"refs (\d+) n (\d+) lz (\d+); blobs (\d+) n (\d+) lz (\d+)")
RES = re.compile(r"parts result \d+ from .*: msg (\d+) lz (\d+); obj (\d+) lz (\d+); "
                 r"dep (\d+) lz (\d+) packed (\d+); out (\d+) err (\d+) lz (\d+)")
JOB_K = ("to_msg", "to_msg_lz", "whole", "whole_n", "whole_lz", "refs", "refs_n", "refs_lz",
         "blobs", "blobs_n", "blobs_lz")
RES_K = ("from_msg", "from_msg_lz", "obj", "obj_lz", "dep", "dep_lz", "dep_packed", "out", "err",
         "text_lz")
for mode in ("dcc_cold", "dcc_warm"):
    f = f"{run}/{mode}.parts"
    if not os.path.exists(f) or not os.path.exists(f + ".veth"):
        continue
    tot = {}
    for line in open(f):
        for rx_, keys in ((JOB, JOB_K), (RES, RES_K)):
            m = rx_.search(line)
            if m:
                for k, v in zip(keys, m.groups()):
                    tot[k] = tot.get(k, 0) + int(v)
                if rx_ is JOB:
                    tot["jobs"] = tot.get("jobs", 0) + 1
    tx, rx = (int(x) for x in open(f + ".veth").read().split())
    g = lambda n: tot.get(n, 0)
    k = lambda v: f"{v / nobj / 1024:.2f}"
    jobs = max(g("jobs"), 1)
    p = lambda s: print(f"PARTS {mode} {s}")
    p(f"tree JOBs {g('jobs')}, objects {nobj}; KiB per object: raw / LZO alone")
    p(f"to_boards veth {k(tx)}; JOB messages {k(g('to_msg'))} / {k(g('to_msg_lz'))}")
    p(f"  inputs whole ({g('whole_n') / jobs:.0f} a job) {k(g('whole'))} / {k(g('whole_lz'))}")
    p(f"  inputs by id ({g('refs_n') / jobs:.0f} a job) {k(g('refs'))} / {k(g('refs_lz'))}")
    p(f"  blobs ({g('blobs_n')}) {k(g('blobs'))} / {k(g('blobs_lz'))}")
    p(f"  rest of the JOB (header, compiler, args, names, limits) "
      f"{k(g('to_msg') - g('whole') - g('refs') - g('blobs'))}")
    p(f"  framing and control {k(tx - g('to_msg_lz'))}")
    p(f"from_boards veth {k(rx)}; RESULT messages {k(g('from_msg'))} / {k(g('from_msg_lz'))}")
    p(f"  object {k(g('obj'))} / {k(g('obj_lz'))}")
    p(f"  dependency file {k(g('dep'))} / {k(g('dep_lz'))}; packed against the inputs "
      f"{k(g('dep_packed'))}")
    p(f"  stdout+stderr {k(g('out') + g('err'))} / {k(g('text_lz'))}")
    p(f"  framing and control {k(rx - g('from_msg_lz'))}")
