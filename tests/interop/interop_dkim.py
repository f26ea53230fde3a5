"""DKIM interoperability and tampering test: mailtrust against dkimpy and
OpenDKIM, both ways, with keys given without any network.

  python3 interop_dkim.py --mailtrust BIN --peer OPENDKIM_PEER --data DIR
                          [--quick] [--verbose]

DIR is tests/data/dkim/interop/ (README there).  Every message is signed by
each of the three signers (mailtrust dkim sign, dkimpy's dkim.sign, the
OpenDKIM peer linking libopendkim) over the matrix

  rsa | ed25519 | dual (both keys: two signatures; mailtrust makes them in
  one pass, the peers one at a time)  x  c= four combinations of simple and relaxed
  x  l= or not  x  plain | folded message  x  oversigned or not  x  CRLF | LF

and each signed message is verified by all three verifiers (mailtrust dkim
verify --zone, dkim.verify with a dnsfunc reading the same zone, the
OpenDKIM peer's key lookup callback).  Then the signed messages are
tampered with, and each verifier must give the result the change calls for
(fail, or pass where relaxed canonicalization, l= or a header not signed
allows it).  A cell that fails is an error unless expected-failures.txt
lists it with its reason; a listed cell that passes is an error too (the
peer was fixed: remove the line).

Exit status: 0 all cells as expected, 1 some are not, 77 a peer is missing
(the caller turns this into a skip, or a failure when CI=true).
"""
import argparse
import base64
import json
import concurrent.futures
import fnmatch
import os
import re
import subprocess
import sys
import tempfile

MISSING = 77

try:
    import dkim
except ImportError as e:
    print("SKIP: dkimpy (Debian python3-dkim) cannot be imported by %s: %s" % (sys.executable, e))
    sys.exit(MISSING)
try:
    import nacl.signing  # noqa: F401 (dkimpy needs it for ed25519)
except ImportError as e:
    print("SKIP: PyNaCl (Debian python3-nacl) cannot be imported by %s: %s" % (sys.executable, e))
    sys.exit(MISSING)

DOMAIN = "interop.example"
SELECTOR = {"rsa": "rsa", "ed25519": "ed"}
ALGS = ["rsa", "ed25519", "dual"]  # dual: both keys, two signatures
CANONS = ["simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed"]
MSGS = ["plain", "folded"]
EOLS = ["crlf", "lf"]
SIGNERS = ["mailtrust", "dkimpy", "opendkim"]
VERIFIERS = ["mailtrust", "dkimpy", "opendkim"]
SIGNED = ["From", "To", "Subject", "Date", "Message-ID"]
OVERSIGNED = ["From", "To", "Subject"]


def read_zone(path):
    """The TXT records of the zone file, {owner name: record}: what the
    dnsfunc and the OpenDKIM key table serve (only the forms the zone uses:
    one $ORIGIN, relative or absolute owners, strings in parentheses)."""
    text = open(path, encoding="ascii").read()
    m = re.search(r'^\$ORIGIN\s+(\S+)', text, re.M)
    origin = m.group(1) if m else "."
    keys = {}
    for entry in re.finditer(r'^([^;$\s]\S*)\s+(?:IN\s+)?TXT\s+(\(.*?\)|"[^\n]*")', text, re.M | re.S):
        name = entry.group(1)
        if not name.endswith("."):
            name = name + "." + origin
        keys[name.rstrip(".").lower()] = "".join(re.findall(r'"([^"]*)"', entry.group(2)))
    return keys


class Cell:
    def __init__(self, signer, alg, canon, l, msg, over, eol):
        self.signer, self.alg, self.canon, self.l = signer, alg, canon, l
        self.msg, self.over, self.eol = msg, over, eol

    def key(self):
        return "%s %s %s %s %s %s %s" % (
            self.signer, self.alg, self.canon, "l" if self.l else "nol",
            self.msg, "over" if self.over else "noover", self.eol)

    def fname(self):
        return self.key().replace(" ", "_").replace("/", "-") + ".eml"


class Expected:
    """expected-failures.txt: 'SIGNER>VERIFIER ALG CANON L MSG OVER EOL [TAMPER]
    : reason', fnmatch patterns."""

    def __init__(self, path):
        self.rules = []
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            pat, _, reason = line.partition(":")
            fields = pat.split()
            if len(fields) not in (7, 8) or ">" not in fields[0] or not reason.strip():
                raise SystemExit("%s:%d: malformed line" % (path, n))
            if len(fields) == 7:
                fields.append("-")
            self.rules.append((fields, reason.strip(), n))
        self.used = set()

    def match(self, signer, verifier, cell_key, tamper="-"):
        fields = ["%s>%s" % (signer, verifier)] + cell_key.split()[1:] + [tamper]
        for pat, reason, n in self.rules:
            if all(fnmatch.fnmatchcase(f, p) for f, p in zip(fields, pat)):
                self.used.add(n)
                return reason
        return None


class Runner:
    def __init__(self, args):
        self.mt = args.mailtrust
        self.peer = args.peer
        self.data = args.data
        self.verbose = args.verbose
        self.jobs = args.jobs
        self.broken = []
        self.tmp = tempfile.mkdtemp(prefix="mt-interop.")
        # the peer in a sanitizer build: OpenDKIM's own leaks suppressed
        # (lsan-opendkim.supp says which); harmless without a sanitizer
        supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-opendkim.supp")
        lsan = "suppressions=%s:fast_unwind_on_malloc=0:print_suppressions=0" % supp
        if os.environ.get("LSAN_OPTIONS"):
            lsan = os.environ["LSAN_OPTIONS"] + ":" + lsan
        self.peer_env = dict(os.environ, LSAN_OPTIONS=lsan)
        self.zone = os.path.join(self.data, "interop.zone")
        self.keys = read_zone(self.zone)
        self.keytable = os.path.join(self.tmp, "keytable")
        with open(self.keytable, "w", encoding="ascii") as f:
            for name, rec in sorted(self.keys.items()):
                f.write("%s\t%s\n" % (name, rec))
        self.pem = {"rsa": os.path.join(self.data, "rsa2048.pem"),
                    "ed25519": os.path.join(self.data, "ed25519.pem")}
        self.pem_bytes = {a: open(p, "rb").read() for a, p in self.pem.items()}
        # dkimpy wants an ed25519 private key as the base64 of its 32-octet
        # seed: the last 32 octets of the PKCS#8 DER in the PEM file
        der = base64.b64decode(b"".join(
            l for l in self.pem_bytes["ed25519"].splitlines() if not l.startswith(b"-----")))
        self.ed_seed_b64 = base64.b64encode(der[-32:])
        self.base = {}
        for m in MSGS:
            crlf = open(os.path.join(self.data, m + ".eml"), "rb").read()
            assert b"\r\n" in crlf and b"\n" not in crlf.replace(b"\r\n", b"")
            self.base[(m, "crlf")] = crlf
            self.base[(m, "lf")] = crlf.replace(b"\r\n", b"\n")

    def dnsfunc(self, name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii")
        rec = self.keys.get(name.rstrip(".").lower())
        return rec.encode("ascii") if rec is not None else None

    # ---- signers: each returns the signed message (bytes) or raises ----
    def sign_mailtrust(self, c, msg, path_in):
        if c.alg == "dual":  # both keys in one pass (RFC 8463 suggests it)
            keys = ["--selector", SELECTOR["rsa"], "--key", self.pem["rsa"],
                    "--selector", SELECTOR["ed25519"], "--key", self.pem["ed25519"]]
        else:
            keys = ["--selector", SELECTOR[c.alg], "--key", self.pem[c.alg]]
        args = [self.mt, "dkim", "sign", "--domain", DOMAIN] + keys + [
                "--canon", c.canon, "--headers", ":".join(SIGNED),
                "--oversign", ":".join(OVERSIGNED) if c.over else ""]
        if c.l:
            args.append("--body-length")
        r = subprocess.run(args + [path_in], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("mailtrust dkim sign: status %d: %s" % (r.returncode, r.stderr.decode(errors="replace")))
        return r.stdout

    def sign_twice(self, sign, c, msg, path_in):
        """a peer's two signatures: ed25519 and rsa made apart, both fields
        put on top of the message"""
        fields = b""
        for alg in ("ed25519", "rsa"):
            one = Cell(c.signer, alg, c.canon, c.l, c.msg, c.over, c.eol)
            out = sign(one, msg, path_in)
            if not out.endswith(msg):
                raise RuntimeError("the %s signer changed the message" % alg)
            fields += out[:len(out) - len(msg)]
        return fields + msg

    def sign_dkimpy(self, c, msg, path_in):
        if c.alg == "dual":
            return self.sign_twice(self.sign_dkimpy, c, msg, path_in)
        include = [h.lower() for h in SIGNED if self.present(msg, h)]
        if c.over:
            include += [h.lower() for h in OVERSIGNED]
        key = self.pem_bytes["rsa"] if c.alg == "rsa" else self.ed_seed_b64
        hc, bc = c.canon.split("/")
        eol = b"\r\n" if c.eol == "crlf" else b"\n"
        sig = dkim.sign(msg, SELECTOR[c.alg].encode(), DOMAIN.encode(), key,
                        canonicalize=(hc.encode(), bc.encode()),
                        signature_algorithm=b"rsa-sha256" if c.alg == "rsa" else b"ed25519-sha256",
                        include_headers=[h.encode() for h in include], length=c.l, linesep=eol)
        # dkimpy folds the field with CRLF in places whatever linesep says
        sig = sig.replace(b"\r\n", b"\n")
        if c.eol == "crlf":
            sig = sig.replace(b"\n", b"\r\n")
        return sig + msg

    def sign_opendkim(self, c, msg, path_in):
        if c.alg == "dual":
            return self.sign_twice(self.sign_opendkim, c, msg, path_in)
        out = os.path.join(self.tmp, "odk-out.eml")
        args = [self.peer, "sign", self.pem[c.alg], SELECTOR[c.alg], DOMAIN, c.alg, c.canon,
                "1" if c.l else "0", ":".join(h.lower() for h in SIGNED),
                ":".join(h.lower() for h in OVERSIGNED) if c.over else "", path_in, out]
        r = subprocess.run(args, capture_output=True, env=self.peer_env)
        if r.returncode != 0:
            raise RuntimeError("opendkim_peer sign: status %d: %s" % (r.returncode, r.stderr.decode(errors="replace")))
        return open(out, "rb").read()

    @staticmethod
    def present(msg, name):
        head = re.split(rb"\r?\n\r?\n", msg, 1)[0]
        return re.search(rb"(?im)^" + re.escape(name.encode()) + rb"[ \t]*:", head) is not None

    # ---- verifiers: each returns (passed, detail) for a list of files ----
    # ---- verifiers: each returns, for a list of files, (list of one
    # boolean per signature: it passes, detail) ----
    def verify_mailtrust(self, paths):
        def one(p):
            r = subprocess.run([self.mt, "dkim", "verify", "--zone", self.zone, "--json",
                                "--authserv-id", "interop.test", p], capture_output=True)
            # a verifier that crashes or writes to stderr (a sanitizer
            # report) is an error, whatever the cell expects
            if r.returncode not in (0, 1, 3, 4, 5, 6) or r.stderr:
                self.broken.append("mailtrust dkim verify %s: status %d: %s" % (
                    p, r.returncode, r.stderr.decode(errors="replace").strip()))
            try:
                sigs = json.loads(r.stdout)["signatures"]
            except (ValueError, KeyError) as e:
                return ([], "status %d, no JSON (%s)" % (r.returncode, e))
            return ([x["result"] == "pass" for x in sigs],
                    "status %d: %s" % (r.returncode, "; ".join(
                        "s=%s %s%s" % (x["s"], x["result"], (" (%s)" % x["reason"]) if x["reason"] else "")
                        for x in sigs)))
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            return list(pool.map(one, paths))

    def verify_dkimpy(self, paths):
        out = []
        for p in paths:
            msg = open(p, "rb").read()
            res, details = [], []
            try:
                d = dkim.DKIM(msg, minkey=1024)
                n = len([1 for name, _ in d.headers if name.lower() == b"dkim-signature"])
                for idx in range(n):
                    try:
                        ok = bool(d.verify(idx=idx, dnsfunc=self.dnsfunc))
                        details.append("signature %d: verify() returned %s" % (idx + 1, ok))
                    except Exception as e:  # dkimpy raises for malformed input
                        ok = False
                        details.append("signature %d: %s: %s" % (idx + 1, type(e).__name__, e))
                    res.append(ok)
            except Exception as e:
                details.append("%s: %s" % (type(e).__name__, e))
            out.append((res, "; ".join(details)))
        return out

    def verify_opendkim(self, paths):
        out = []
        for i in range(0, len(paths), 200):
            chunk = paths[i:i + 200]
            r = subprocess.run([self.peer, "verify", self.keytable] + chunk, capture_output=True,
                               env=self.peer_env)
            lines = r.stdout.decode(errors="replace").splitlines()
            if r.returncode != 0 or len(lines) != len(chunk):
                raise RuntimeError("opendkim_peer verify: status %d, %d lines for %d messages: %s" % (
                    r.returncode, len(lines), len(chunk), r.stderr.decode(errors="replace")))
            for p, line in zip(chunk, lines):
                fields = line.split(" ")
                assert fields[0] == p
                res = [] if fields[1].startswith("error:") else [f == "pass" for f in fields[1:]]
                out.append((res, "opendkim: " + " ".join(fields[1:])))
        return out

    def verify_all(self, paths):
        return {"mailtrust": self.verify_mailtrust(paths),
                "dkimpy": self.verify_dkimpy(paths),
                "opendkim": self.verify_opendkim(paths)}


def outcome(res, nsig):
    """a verifier's signatures' results as one word: pass (all), fail
    (none), mixed, or a wrong number of signatures seen"""
    if len(res) != nsig:
        return "%d-of-%d-signatures-seen" % (len(res), nsig)
    if all(res):
        return "pass"
    return "fail" if not any(res) else "mixed"


# ---- tampering: each returns (name, new message, expected pass?) ----
def split_msg(m):
    eol = b"\r\n" if b"\r\n" in m else b"\n"
    i = m.index(eol + eol)
    return eol, m[:i + len(eol)], m[i + 2 * len(eol):]


def field_span(head, eol, name):
    """(start, end) of the last field NAME in the header block, end past its
    last line's end; the verifier signs the last instance first."""
    spans = []
    for mm in re.finditer(rb"(?im)^" + re.escape(name.encode()) + rb"[ \t]*:", head):
        end = mm.start()
        while True:
            end = head.index(eol, end) + len(eol)
            if end >= len(head) or head[end:end + 1] not in (b" ", b"\t"):
                break
        spans.append((mm.start(), end))
    return spans[-1] if spans else None


def flip_byte(b):
    c = chr(b)
    if c.isdigit():
        return ord("0" if c != "0" else "1")
    if c.isalpha():
        return ord("x" if c.lower() != "x" else "y")
    return ord("#")


def tamperings(c, signed):
    eol, head, body = split_msg(signed)
    hc, bc = c.canon.split("/")
    out = []
    # one byte of each signed field's value
    for h in SIGNED:
        span = field_span(head, eol, h)
        s, e = span
        colon = head.index(b":", s)
        j = next(k for k in range(colon + 1, e) if chr(head[k]).isalnum())
        new = head[:j] + bytes([flip_byte(head[j])]) + head[j + 1:]
        out.append(("byte-" + h.lower(), new + eol + body, False))
    # one byte of the body: the first letter or digit
    j = next(k for k in range(len(body)) if chr(body[k]).isalnum())
    out.append(("byte-body", head + eol + body[:j] + bytes([flip_byte(body[j])]) + body[j + 1:], False))
    # whitespace in a signed field: one space more after the colon, a space
    # inside doubled, the field refolded, the name's case changed
    s, e = field_span(head, eol, "Subject")
    subj = head[s:e]
    out.append(("hdr-space-after-colon", head[:s] + subj.replace(b":", b": ", 1) + head[e:] + eol + body, hc == "relaxed"))
    k = subj.index(b" ", subj.index(b":") + 2)
    out.append(("hdr-space-doubled", head[:s] + subj[:k] + b" " + subj[k:] + head[e:] + eol + body, hc == "relaxed"))
    out.append(("hdr-refolded", head[:s] + subj[:k] + eol + b"\t" + subj[k + 1:] + head[e:] + eol + body, hc == "relaxed"))
    out.append(("hdr-name-case", head[:s] + b"SUBJECT" + subj[7:] + head[e:] + eol + body, hc == "relaxed"))
    # whitespace in the body: spaces at a line's end, a space inside a line
    # doubled; empty lines appended (both canonicalizations ignore them)
    first = body.index(eol)
    out.append(("body-trailing-space", head + eol + body[:first] + b"  " + body[first:], bc == "relaxed"))
    k = body.index(b" ")
    out.append(("body-space-doubled", head + eol + body[:k] + b" " + body[k:], bc == "relaxed"))
    out.append(("body-empty-lines-appended", head + eol + body + eol + eol, True))
    # fields added on top: From and Subject (signed; oversigning catches
    # them), and one nobody signed
    out.append(("added-from", b"From: Mallory <mallory@evil.example>" + eol + head + eol + body, not c.over))
    out.append(("added-subject", b"Subject: Urgent: wire the money" + eol + head + eol + body, not c.over))
    out.append(("added-unsigned-field", b"X-Added: yes" + eol + head + eol + body, True))
    # text appended to the body: l= lets it through
    out.append(("body-appended", head + eol + body + b"P.S. appended by a forwarder" + eol, c.l))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mailtrust", required=True)
    ap.add_argument("--peer", default="")
    ap.add_argument("--data", required=True)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tamper-every", type=int, default=1, metavar="N",
                    help="tamper with every N-th signed message only (the sanitizer build: its"
                         " processes start slowly)")
    ap.add_argument("--jobs", type=int, default=2, help="mailtrust processes at once (default 2)")
    args = ap.parse_args()
    if not args.peer or not os.access(args.peer, os.X_OK):
        print("SKIP: the OpenDKIM peer (tests/interop/opendkim_peer.c) was not built:"
              " libopendkim (Debian libopendkim-dev) was not found by cmake")
        sys.exit(MISSING)
    run = Runner(args)
    expected = Expected(os.path.join(args.data, "expected-failures.txt"))
    signers = {"mailtrust": run.sign_mailtrust, "dkimpy": run.sign_dkimpy, "opendkim": run.sign_opendkim}
    counts = {"pass": 0, "xfail": 0, "unexpected": 0}
    problems = []
    per_pair = {}

    def judge(signer, verifier, ckey, tamper, want_pass, got, detail):
        reason = expected.match(signer, verifier, ckey, tamper)
        label = "%s>%s %s%s" % (signer, verifier, ckey, "" if tamper == "-" else " " + tamper)
        ok = got == ("pass" if want_pass else "fail")
        if got == "not-signed":
            reason = None  # a signer that fails is never an expected failure
        pair = per_pair.setdefault("%s>%s" % (signer, verifier), [0, 0, 0])
        if ok and reason is None:
            counts["pass"] += 1
            pair[0] += 1
        elif not ok and reason is not None:
            counts["xfail"] += 1
            pair[1] += 1
            if args.verbose:
                print("XFAIL %s: %s (%s)" % (label, detail, reason))
        else:
            counts["unexpected"] += 1
            pair[2] += 1
            if ok:
                problems.append("XPASS %s: listed as an expected failure (%s) but %s as it should: remove the line"
                                % (label, reason, "passes" if want_pass else "fails"))
            else:
                problems.append("FAIL %s: want %s, got %s: %s" % (
                    label, "pass" if want_pass else "fail", got, detail))

    # ---- the matrix ----
    cells = []
    for signer in SIGNERS:
        for alg in ALGS:
            for canon in CANONS:
                for l in (False, True):
                    for m in MSGS:
                        for over in (False, True):
                            for eol in EOLS:
                                cells.append(Cell(signer, alg, canon, l, m, over, eol))
    inputs = {}
    for (m, eol), data in run.base.items():
        p = os.path.join(run.tmp, "in-%s-%s.eml" % (m, eol))
        with open(p, "wb") as f:
            f.write(data)
        inputs[(m, eol)] = p
    signed = {}
    paths = []
    for c in cells:
        msg = run.base[(c.msg, c.eol)]
        try:
            out = signers[c.signer](c, msg, inputs[(c.msg, c.eol)])
        except Exception as e:  # a signer that refuses is a failed cell
            out = None
            err = "%s: %s" % (type(e).__name__, e)
        p = os.path.join(run.tmp, c.fname())
        if out is None:
            for v in VERIFIERS:
                judge(c.signer, v, c.key(), "-", True, "not-signed", "signing failed: " + err)
            continue
        if not out.endswith(msg):
            problems.append("FAIL %s: the signed message does not end with the input unchanged" % c.key())
            counts["unexpected"] += 1
        with open(p, "wb") as f:
            f.write(out)
        signed[c.key()] = (c, out)
        paths.append((c, p))
    results = run.verify_all([p for _, p in paths])
    clean = []
    for i, (c, p) in enumerate(paths):
        all_ok = True
        for v in VERIFIERS:
            res, detail = results[v][i]
            got = outcome(res, 2 if c.alg == "dual" else 1)
            judge(c.signer, v, c.key(), "-", True, got, detail)
            all_ok = all_ok and got == "pass"
        # tampering: single signatures (a dual-signed message adds nothing
        # there but time)
        if all_ok and c.alg != "dual":
            clean.append(c)
    matrix = dict(counts)
    matrix_pairs = {k: list(v) for k, v in per_pair.items()}
    print("matrix: %d cells: %d pass, %d expected failures, %d unexpected" % (
        sum(matrix.values()), matrix["pass"], matrix["xfail"], matrix["unexpected"]))
    for k in sorted(matrix_pairs):
        v = matrix_pairs[k]
        print("  %-20s %3d pass %3d expected failures %3d unexpected" % (k, v[0], v[1], v[2]))

    # ---- tampering, on every signed message all three verifiers accepted ----
    for k in counts:
        counts[k] = 0
    per_pair.clear()
    tpaths = []
    for c in clean[::args.tamper_every]:
        for name, new, want in tamperings(c, signed[c.key()][1]):
            p = os.path.join(run.tmp, "t-%s-%s" % (name, c.fname()))
            with open(p, "wb") as f:
                f.write(new)
            tpaths.append((c, name, want, p))
    results = run.verify_all([p for _, _, _, p in tpaths])
    kinds = {}
    for i, (c, name, want, p) in enumerate(tpaths):
        kinds[name] = kinds.get(name, 0) + 1
        for v in VERIFIERS:
            res, detail = results[v][i]
            judge(c.signer, v, c.key(), name, want, outcome(res, 1), detail)
    print("tampering: %d changes to %d signed messages (%s%d single-signature messages that all three verifiers accept, of %d signed),"
          " %d cells: %d as expected, %d expected failures, %d unexpected" % (
              len(kinds), len(clean[::args.tamper_every]),
              "every %d-th of the " % args.tamper_every if args.tamper_every > 1 else "the ",
              len(clean), len(cells), sum(counts.values()), counts["pass"], counts["xfail"],
              counts["unexpected"]))
    for k in sorted(per_pair):
        v = per_pair[k]
        print("  %-20s %4d as expected %3d expected failures %3d unexpected" % (k, v[0], v[1], v[2]))
    unused = [n for _, _, n in expected.rules if n not in expected.used]
    for n in unused:
        problems.append("expected-failures.txt line %d matches no cell: remove it" % n)
    problems += run.broken[:20]
    for p in problems[:200]:
        print(p)
    if len(problems) > 200:
        print("... %d more" % (len(problems) - 200))
    if not args.verbose:
        subprocess.run(["rm", "-rf", run.tmp])
    else:
        print("files kept in", run.tmp)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
