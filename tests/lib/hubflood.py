#!/usr/bin/env python3
"""hubflood.py — hostile local clients of hubd's socket, for hub_*.sh.

  hubflood.py SOCKET N ANNOUNCE SEND HOLD [READY_FILE]
  hubflood.py --submit SOCKET COMPILER CWD INPUT_NAME OUTPUT_NAME [ARG...]

--submit: one SUBMIT built by hand (as a client that is not dcc would, so
none of dcc's own checks apply), input "int x;\n"; prints the ANSWER's
outcome and error: "outcome N error TEXT" (keepalives skipped).

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


def put_str(v):
    b = v.encode()
    return struct.pack(">H", len(b)) + b


def read_n(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError("closed")
        b += d
    return b


def submit(path, compiler, cwd, inp, out, args):
    body = b"\x01\x01" + put_str(compiler) + struct.pack(">H", len(args))
    body += b"".join(put_str(a) for a in args)
    body += put_str(inp) + put_str(out) + b"\x00" + put_str(cwd) + put_str(inp)
    text = b"int x;\n"
    # preprocess_us, text_why (why not a tree job: empty), the input
    body += struct.pack(">Q", 0) + put_str("") + struct.pack(">I", len(text)) + text
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall(struct.pack(">I", len(body)) + body)
    while True:
        n = struct.unpack(">I", read_n(s, 4))[0]
        p = read_n(s, n)
        if p[1] != 5:
            break
    # ANSWER: version, type, u8 outcome, u32 status, str node, str error
    outcome = p[2]
    ln = struct.unpack(">H", p[7:9])[0]
    node = p[9:9 + ln]
    q = 9 + ln
    le = struct.unpack(">H", p[q:q + 2])[0]
    err = p[q + 2:q + 2 + le].decode(errors="replace")
    print("outcome %d node %s error %s" % (outcome, node.decode(errors="replace") or "-", err))


def main():
    if sys.argv[1] == "--submit":
        submit(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:])
        return
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
