#!/usr/bin/env python3
"""A DNS server on loopback that answers every question late.

    slow_dns.py PORTFILE DELAY_MS [ADDR]

Binds UDP ADDR (default 127.0.0.1) on a free port, writes the port to
PORTFILE, and answers each query DELAY_MS milliseconds after it arrived,
from a small built-in table under slow.example:

    dN.slow.example  TXT "v=spf1 ip4:192.0.2.N -all"   (N = 0..255)
    aN.slow.example  TXT "v=spf1 a -all"  and  A 192.0.2.N
    anything else under slow.example: NXDOMAIN; outside it: REFUSED

Other types of an existing name answer NODATA.  Every query gets its own
answer (a retransmission is answered again, late too).  On SIGTERM it
writes "queries N" to PORTFILE.stats and exits.  Standard library only;
no traffic leaves the machine (the address must be on loopback).
"""
import heapq
import os
import select
import signal
import socket
import struct
import sys
import time

ZONE = ("slow", "example")


def parse_question(msg):
    """(qname labels, qtype, end offset of the question) or None."""
    if len(msg) < 12:
        return None
    qd = struct.unpack("!H", msg[4:6])[0]
    if qd != 1:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n > 63 or pos + n > len(msg):
            return None
        labels.append(msg[pos:pos + n].decode("ascii", "replace").lower())
        pos += n
    if pos + 4 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
    return labels, qtype, pos + 4


def records(labels, qtype):
    """(rcode, [(type, rdata)]) for a question."""
    if tuple(labels[-2:]) != ZONE:
        return 5, []
    host = labels[:-2]
    if len(host) != 1 or len(host[0]) < 2 or host[0][0] not in "da" \
            or not host[0][1:].isdigit() or int(host[0][1:]) > 255:
        return (0 if not host else 3), []
    kind, n = host[0][0], int(host[0][1:])
    if kind == "d":
        txt = "v=spf1 ip4:192.0.2.%d -all" % n
        a = None
    else:
        txt = "v=spf1 a -all"
        a = bytes([192, 0, 2, n])
    out = []
    if qtype == 16:
        raw = txt.encode()
        out.append((16, bytes([len(raw)]) + raw))
    elif qtype == 1 and a:
        out.append((1, a))
    return 0, out


def answer(msg):
    q = parse_question(msg)
    if q is None:
        return None
    labels, qtype, end = q
    rcode, rrs = records(labels, qtype)
    flags = 0x8000 | 0x0400 | (struct.unpack("!H", msg[2:4])[0] & 0x0100) | 0x0080 | rcode
    head = msg[:2] + struct.pack("!HHHHH", flags, 1, len(rrs), 0, 0)
    body = msg[12:end]
    for rtype, rdata in rrs:
        body += struct.pack("!HHHIH", 0xC00C, rtype, 1, 300, len(rdata)) + rdata
    return head + body


def main():
    portfile, delay = sys.argv[1], int(sys.argv[2]) / 1000.0
    addr = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    if not (addr.startswith("127.") or addr == "::1"):
        sys.exit("refusing to listen on %s: not a loopback address" % addr)
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    sock.bind((addr, 0))
    sock.setblocking(False)
    count = [0]

    def stop(*_):
        with open(portfile + ".stats", "w") as f:
            f.write("queries %d\n" % count[0])
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    pending = []  # (due, seq, reply, peer)
    seq = 0
    while True:
        wait = None
        if pending:
            wait = max(0.0, pending[0][0] - time.monotonic())
        r, _, _ = select.select([sock], [], [], wait)
        if r:
            while True:
                try:
                    msg, peer = sock.recvfrom(4096)
                except BlockingIOError:
                    break
                count[0] += 1
                reply = answer(msg)
                if reply is not None:
                    seq += 1
                    heapq.heappush(pending, (time.monotonic() + delay, seq, reply, peer))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, reply, peer = heapq.heappop(pending)
            try:
                sock.sendto(reply, peer)
            except OSError:
                pass


if __name__ == "__main__":
    main()
