#!/usr/bin/env python3
"""The client side of test_policyd.sh: talks the Postfix policy protocol to
a running mailtrust-policyd.

    policyd_client.py UNIX_SOCKET [TCP_PORT]

The daemon runs with --reject-fail --check-localhost against test.example
(NSD) and slow.example (slow_dns.py: every answer after 1.5 s).
Exit 0 when every check passed."""
import socket
import sys
import threading
import time

SOCK = sys.argv[1]
TCP_PORT = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok:", name)
    else:
        failed += 1
        print("FAIL:", name, detail)


def connect(tcp=False):
    if tcp:
        s = socket.create_connection(("127.0.0.1", int(TCP_PORT)), timeout=30)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        for _ in range(100):  # the listen queue may be full for a moment
            try:
                s.connect(SOCK)
                break
            except BlockingIOError:
                time.sleep(0.05)
    return s


def request(**kw):
    d = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
         "client_address": "192.0.2.1", "helo_name": "client.example", "sender": "",
         "recipient": "rcpt@sink.example", "instance": ""}
    d.update(kw)
    return ("".join("%s=%s\n" % (k, v) for k, v in d.items()) + "\n").encode()


def answer(s):
    """One answer: the action line, or "EOF" when the daemon closed."""
    buf = b""
    while not buf.endswith(b"\n\n"):
        try:
            x = s.recv(4096)
        except socket.timeout:
            return "TIMEOUT"
        except ConnectionResetError:  # closed with our input unread
            x = b""
        if not x:
            return "EOF" if not buf else "EOF after " + buf.decode(errors="replace")
        buf += x
    return buf.decode(errors="replace").rstrip("\n")


def ask(s=None, **kw):
    own = s is None
    if own:
        s = connect()
    s.sendall(request(**kw))
    a = answer(s)
    if own:
        s.close()
    return a


# ---- one answer per result ------------------------------------------------
cases = [
    ("pass", dict(sender="a@pass.test.example"), "action=PREPEND Received-SPF: pass "),
    ("fail rejected", dict(sender="a@fail.test.example"), "action=550 5.7.23 SPF fail: "),
    ("softfail", dict(sender="a@soft.test.example"), "action=PREPEND Received-SPF: softfail "),
    ("neutral", dict(sender="a@neutral.test.example"), "action=PREPEND Received-SPF: neutral "),
    ("none", dict(sender="a@nothing.test.example"), "action=PREPEND Received-SPF: none "),
    ("permerror accepted by default", dict(sender="a@perm.test.example"),
     "action=PREPEND Received-SPF: permerror "),
    ("null sender: HELO checked, pass",
     dict(sender="", helo_name="mx.helo.test.example", client_address="192.0.2.7"),
     "action=PREPEND Received-SPF: pass "),
    ("null sender: HELO checked, fail",
     dict(sender="", helo_name="mx.helo.test.example", client_address="192.0.2.8"),
     "action=550 5.7.23 "),
    ("MAIL FROM fails although HELO would pass: not mixed",
     dict(sender="a@fail.test.example", helo_name="mx.helo.test.example", client_address="192.0.2.7"),
     "action=550 5.7.23 "),
    ("authenticated client skipped",
     dict(sender="a@fail.test.example", sasl_username="bob"), "action=DUNNO"),
    ("localhost checked with --check-localhost",
     dict(sender="a@fail.test.example", client_address="127.0.0.1"), "action=550 5.7.23 "),
    ("IPv6 client outside the IPv4-only record: fail",
     dict(sender="a@pass.test.example", client_address="2001:db8::1"), "action=550 5.7.23 "),
]
for name, kw, want in cases:
    a = ask(**kw)
    check(name, a.startswith(want), repr(a))
a = ask(sender="a@pass.test.example")
check("Received-SPF names the identity and the receiver",
      "identity=mailfrom" in a and "receiver=mx.test" in a and "client-ip=192.0.2.1" in a, a)
a = ask(sender="", helo_name="mx.helo.test.example", client_address="192.0.2.7")
check("HELO check says identity=helo", "identity=helo" in a, a)

# one message, several recipients: the header once, a refusal every time
s = connect()
a1 = ask(s, sender="a@pass.test.example", instance="m1")
a2 = ask(s, sender="a@pass.test.example", instance="m1", recipient="two@sink.example")
a3 = ask(s, sender="a@fail.test.example", instance="m2")
a4 = ask(s, sender="a@fail.test.example", instance="m2", recipient="two@sink.example")
a5 = ask(s, sender="a@pass.test.example", instance="m3")
s.close()
check("first recipient: Received-SPF", a1.startswith("action=PREPEND Received-SPF: pass"), a1)
check("second recipient of the same message: DUNNO", a2 == "action=DUNNO", a2)
check("refusal repeated for the second recipient", a3.startswith("action=550") and a3 == a4, a4)
check("next message: checked again", a5.startswith("action=PREPEND Received-SPF: pass"), a5)

# two requests in one write: two answers, in order
s = connect()
s.sendall(request(sender="a@fail.test.example") + request(sender="a@pass.test.example"))
buf = b""
while buf.count(b"\n\n") < 2:
    x = s.recv(4096)
    if not x:
        break
    buf += x
s.close()
b1, b2 = (buf.decode().split("\n\n") + ["", ""])[:2]
check("pipelined requests answered in order",
      b1.startswith("action=550") and b2.startswith("action=PREPEND Received-SPF: pass"), (b1, b2))

if TCP_PORT:
    s = connect(tcp=True)
    a = ask(s, sender="a@pass.test.example")
    s.close()
    check("TCP socket answers", a.startswith("action=PREPEND Received-SPF: pass"), a)
else:
    check("TCP socket started", False, "no TCP port")

# ---- a slow domain holds up only its own connection -------------------------
slow = connect()
t0 = time.monotonic()
slow.sendall(request(sender="a@d1.slow.example", client_address="192.0.2.1"))
fast_times = []
fast_ok = 0
for i in range(50):
    a = ask(sender="a@pass.test.example", client_address="192.0.2.%d" % (i + 2))
    fast_times.append(time.monotonic() - t0)
    if a.startswith("action=PREPEND Received-SPF: pass"):
        fast_ok += 1
check("50 requests answered while the slow one waits", fast_ok == 50, fast_ok)
check("...all within 1 s (the slow server answers after 1.5 s)", max(fast_times) < 1.0,
      "last after %.2f s" % max(fast_times))
a = answer(slow)
slow_t = time.monotonic() - t0
slow.close()
check("the slow request answered afterwards (pass)",
      a.startswith("action=PREPEND Received-SPF: pass") and slow_t >= 1.4,
      "%r after %.2f s" % (a, slow_t))
print("slow domain: answered after %.2f s; 50 other requests done after %.2f s"
      % (slow_t, max(fast_times)))

# ---- many connections at once ----------------------------------------------
N, PER = 200, 5
results = [0] * N
socks = [connect() for _ in range(N)]


def worker(i):
    good = 0
    try:
        for j in range(PER):
            if (i + j) % 2:
                a = ask(socks[i], sender="u%d@pass.test.example" % j, client_address="192.0.2.%d" % (i % 250 + 1))
                good += a.startswith("action=PREPEND Received-SPF: pass")
            else:
                a = ask(socks[i], sender="u%d@fail.test.example" % j)
                good += a.startswith("action=550 5.7.23")
    except OSError:
        pass
    results[i] = good


t0 = time.monotonic()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
for s in socks:
    s.close()
check("%d connections x %d requests at once, every answer right" % (N, PER),
      sum(results) == N * PER, "%d of %d" % (sum(results), N * PER))
print("%d requests over %d connections in %.2f s" % (N * PER, N, elapsed))

# ---- broken input affects only its connection --------------------------------
half = connect()
half.sendall(b"request=smtpd_access_policy\nclient_address=192.0.2.1\n")  # unfinished
bad = connect()
bad.sendall(b"request=smtpd_access_policy\ngarbage without equals sign\n\n")
check("a line without '=': connection closed", answer(bad) == "EOF")
bad.close()
big = connect()
big.sendall(b"request=smtpd_access_policy\nx=" + b"y" * 5000 + b"\n\n")
check("a 5,000-octet line: connection closed", answer(big) == "EOF")
big.close()
over = connect()
over.sendall(request(sender="a@" + "b" * 2000 + ".test.example"))
check("an oversized sender: connection closed", answer(over) == "EOF")
over.close()
nul = connect()
nul.sendall(b"request=smtpd_access_policy\nsender=a\0b@pass.test.example\nclient_address=192.0.2.1\n\n")
check("a NUL in a value: connection closed", answer(nul) == "EOF")
nul.close()
other = connect()
other.sendall(b"request=something_else\nclient_address=192.0.2.1\n\n")
check("another request type: connection closed", answer(other) == "EOF")
other.close()
lost = connect()
lost.sendall(request(sender="a@d2.slow.example"))
lost.close()  # gone while its check runs
lost2 = connect()
lost2.sendall(b"request=smtpd_access_policy\nsend")
lost2.close()  # gone in the middle of a line
half.sendall(b"sender=a@pass.test.example\n\n")
a = answer(half)
half.close()
check("the unfinished request on another connection completes",
      a.startswith("action=PREPEND Received-SPF: pass"), a)
time.sleep(2)  # the abandoned slow check finishes
a = ask(sender="a@fail.test.example")
check("still serving after broken and lost connections", a.startswith("action=550 5.7.23"), a)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
