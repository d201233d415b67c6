#!/usr/bin/env python3
"""hubflood.py — hostile local clients of hubd's socket, for hub_*.sh.

  hubflood.py SOCKET N ANNOUNCE SEND HOLD [READY_FILE]

Opens N connections; on each sends a frame header announcing ANNOUNCE bytes,
then SEND bytes of it (never the whole request), and holds them all for at
most HOLD seconds, until every connection was closed by hubd, or until
READY_FILE (if given) is removed. Writes READY_FILE with "opened N" once all
are open. Prints one line:
  opened O refused R closed C first_close_s T
O: connections made; R: connect refused/failed or closed before they could
send; C: closed by hubd while held; T: seconds from open to hubd's first
close (-1 when none)."""
import os
import select
import socket
import struct
import sys
import time


def main():
    path, n, announce, send, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        int(sys.argv[4]), float(sys.argv[5])
    ready = sys.argv[6] if len(sys.argv) > 6 else None
    conns, refused = [], 0
    body = b"\x01\x01" + b"x" * max(0, send - 2)
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(path)
            s.sendall(struct.pack(">I", announce) + body[:send])
            s.setblocking(False)
            conns.append(s)
        except OSError:
            refused += 1
            s.close()
    t0 = time.monotonic()
    if ready:
        with open(ready, "w") as f:
            f.write("opened %d\n" % len(conns))
    closed, first = 0, -1.0
    live = list(conns)
    while live and time.monotonic() - t0 < hold:
        if ready and not os.path.exists(ready):
            break
        r, _, _ = select.select(live, [], [], 0.2)
        for s in r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed += 1
                if first < 0:
                    first = time.monotonic() - t0
                live.remove(s)
    # connections hubd accepted and closed at once (cap reached) read as
    # closed immediately
    print("opened %d refused %d closed %d first_close_s %.1f" % (len(conns), refused, closed, first))
    for s in conns:
        s.close()


main()
