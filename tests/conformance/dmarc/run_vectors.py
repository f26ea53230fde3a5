#!/usr/bin/env python3
"""vectors.dmarc: every DMARC vector of ../shared/vectors through the library.

The vectors (see ../shared/vectors/README.md):
  opendmarc/cases.json          record parsing, alignment, From domain, org
                                domain with an old PSL (RFC 7489 era)
  mail-auth/dmarc/*.json        record parsing and evaluation (DMARCbis)
  psl/tests.txt                 registrable domains of the PSL's own tests
  mailauth-rfc9989.json (here)  postalsys/mailauth's RFC 9989 compliance
                                cases, transcribed (see its _about)

dmarc_probe (beside this file) runs each case through the library.  Every
case gives one value ("got") compared with the vector's ("want").  Where we
differ on purpose - the draft (draft-ietf-dmarc-dmarcbis-41, what we
implement) and RFC 7489 disagree, or the other implementation is lenient -
vector-notes.txt lists the case with the value we must give instead and
why; such a case is asserted to give exactly that value (and to still
differ from the vector, or the note is stale).  Anything else that differs
fails.  Exit 0: all as expected; 1: failures; 77: vectors absent (skip).
"""
import argparse
import json
import os
import subprocess
import sys


def esc(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def unesc(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "t":
                out.append("\t")
            elif n == "n":
                out.append("\n")
            elif n == "x":
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 2
            else:
                out.append(n)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def zone_lines(dns):
    """Master-file lines for {name: {TYPE: [values]}}."""
    lines = []
    for name, rrs in dns.items():
        for typ, vals in rrs.items():
            if not isinstance(vals, list):
                vals = [vals]
            for v in vals:
                if typ == "TXT":
                    strings = v if isinstance(v, list) else [v]
                    data = " ".join('"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')
                                    for s in strings)
                elif typ == "MX":
                    data = "%d %s." % (v[0], v[1])
                else:
                    data = v
                lines.append("%s. 300 IN %s %s" % (name, typ, data))
    return lines


class Suite:
    def __init__(self, probe):
        self.probe = probe
        self.cmds = []
        self.cases = []   # (id, compare(result) -> (got, want))

    def add(self, cid, cmds, compare):
        self.cmds.extend(cmds)
        self.cases.append((cid, compare))

    def run(self):
        text = "".join("\t".join(esc(str(a)) if i else a for i, a in enumerate(c)) + "\n"
                       for c in self.cmds)
        p = subprocess.run([self.probe], input=text.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, check=False)
        if p.returncode != 0:
            sys.exit("dmarc_probe failed (%d): %s" % (p.returncode, p.stderr.decode()))
        res = {}
        for line in p.stdout.decode().split("\n"):
            if not line:
                continue
            f = line.split("\t")
            res[f[0]] = {k: unesc(v) for k, v in (x.split("=", 1) for x in f[1:])}
        return res


def check_cmds(cid, mode, author=None, frm=None, zone=(), spf=None, dkim=(), psl=None):
    c = [("mode", mode), ("psl", psl or "-")]
    c += [("zone", z) for z in zone]
    if frm is not None:
        c.append(("from", frm))
    elif author is not None:
        c.append(("author", author))
    if spf:
        c.append(("spf", spf[0], spf[1]))
    c += [("dkim", d[0], d[1]) for d in dkim]
    c.append(("check", cid))
    return c


def outcome_policy(r):
    """The policy an evaluation reports: on fail the one to apply (t=y lowers it)."""
    if "result" not in r:
        return "error:" + r.get("error", r.get("from", "?"))
    return r["disposition"] if r["result"] == "fail" else r["policy"]


# ---- opendmarc -----------------------------------------------------------
def opendmarc(s, vdir):
    d = json.load(open(os.path.join(vdir, "opendmarc", "cases.json")))
    oldpsl = os.path.join(vdir, "opendmarc", "testfiles", "effective_tld_names.dat")

    want_parse = {"DMARC_PARSE_OKAY": "ok", "DMARC_PARSE_ERROR_EMPTY": "not-dmarc",
                  "DMARC_PARSE_ERROR_BAD_VERSION": "not-dmarc",
                  "DMARC_PARSE_ERROR_BAD_VALUE": "error",
                  "DMARC_PARSE_ERROR_NO_REQUIRED_P": "no-p"}

    def parse_verdict(r):
        if r["status"] != "ok":
            return "not-dmarc"
        if any(f.startswith("error:") for f in r["findings"].split()):
            return "error"
        if r["p"] == "":
            return "no-p"
        return "ok"

    for i, c in enumerate(d["dmarc_record_parse"]["cases"]):
        cid = "opendmarc.parse.%02d" % (i + 1)
        want = want_parse[c["expect"]]
        s.add(cid, [("record", cid, c["record"])],
              lambda r, want=want: (parse_verdict(r), want))

    # Alignment: the first domain is the Author Domain, the second a passing
    # DKIM d=, a record with adkim= as the case says at the first domain's
    # last two labels; PSL mode with OpenDMARC's old list, and tree walk.
    for i, c in enumerate(d["alignment"]["cases"]):
        a, b = c["a"], c["b"]
        labels = [x for x in a.split(".") if x]
        org = ".".join(labels[-2:])
        rec = 'v=DMARC1; p=reject; adkim=%s' % ("s" if c["mode"] == "strict" else "r")
        want = "aligned" if c["expect"] == 0 else "not-aligned"

        def verdict(r, want=want):
            if "result" not in r:
                return ("refused", want)
            return ("aligned" if r["dkim_aligned"] == "1" else "not-aligned", want)
        for mode in ("psl", "tree"):
            cid = "opendmarc.align.%s.%02d" % (mode, i + 1)
            s.add(cid, check_cmds(cid, mode, author=a, zone=zone_lines({"_dmarc." + org: {"TXT": [rec]}}),
                                  dkim=[("pass", b)], psl=oldpsl if mode == "psl" else None),
                  verdict)

    for i, c in enumerate(d["from_domain_extraction"]["cases"]):
        cid = "opendmarc.from.%02d" % (i + 1)
        s.add(cid, [("fromparse", cid, c["raw"])],
              lambda r, want=c["domain"]: (r["domain"] if r["status"] == "ok" else r["status"], want))

    for i, c in enumerate(d["org_domain_with_old_psl"]["cases"]):
        cid = "opendmarc.orgdomain.%02d" % (i + 1)
        s.add(cid, check_cmds(cid, "psl", author=c["domain"], psl=oldpsl),
              lambda r, want=c["org_domain"]: (r.get("org", "refused"), want))


# ---- mail-auth (stalwart) --------------------------------------------------
def mail_auth(s, vdir):
    d = json.load(open(os.path.join(vdir, "mail-auth", "dmarc", "record-parse-cases.json")))
    for i, c in enumerate(d["cases"]):
        cid = "mail-auth.parse.%02d" % (i + 1)
        e = c["expect"]

        def norm_rua(lst):
            return " ".join("%s!%d" % (a, n) for a, n in lst)

        want = "p=%s sp=%s np=%s adkim=%s aspf=%s fo=%s psd=%s t=%d rua=%s ruf=%s" % (
            e["p"], e["sp"], e["np"], e["adkim"], e["aspf"],
            ":".join(sorted(e["fo"].split(":"))), "u" if e["psd"] == "default" else e["psd"],
            e["t"], norm_rua(e["rua"]), norm_rua(e["ruf"]))

        def got(r):
            if r["status"] != "ok":
                return "not-dmarc"
            # defaults as mail-auth reports them: sp = p, np = sp
            sp = r["sp"] or r["p"]
            np_ = r["np"] or sp

            def uris(v):
                out = []
                for u in v.split():
                    addr = u[7:] if u.lower().startswith("mailto:") else u
                    out.append("%s!0" % addr)   # the draft has no size limit
                return " ".join(out)
            return "p=%s sp=%s np=%s adkim=%s aspf=%s fo=%s psd=%s t=%s rua=%s ruf=%s" % (
                r["p"], sp, np_, r["adkim"], r["aspf"], ":".join(sorted(r["fo"].split(":"))),
                r["psd"], r["t"], uris(r["rua"]), uris(r["ruf"]))
        s.add(cid, [("record", cid, c["record"])], lambda r, want=want, got=got: (got(r), want))

    d = json.load(open(os.path.join(vdir, "mail-auth", "dmarc", "verify-cases.json")))
    align_word = {"pass": "aligned", "fail:not_aligned": "not-aligned", "none": "not-aligned"}
    for group in ("alignment", "policy_discovery", "tree_walk_psd"):
        for i, c in enumerate(d[group]):
            e = c["expect"]
            spf = None
            if "mail_from_domain" in c:
                spf = ("pass" if c.get("spf") == "pass" else "fail", c["mail_from_domain"])
            dkim = [("pass" if k["result"] == "pass" else "fail", k["d"]) for k in c.get("dkim", [])]

            def verdict(r, e=e):
                parts_got, parts_want = [], []
                if "result" not in r:
                    return ("refused", "evaluated")
                if "spf_alignment" in e:
                    parts_want.append("spf=" + align_word[e["spf_alignment"]])
                    parts_got.append("spf=" + ("aligned" if r["spf_aligned"] == "1" else "not-aligned"))
                if "dkim_alignment" in e:
                    parts_want.append("dkim=" + align_word[e["dkim_alignment"]])
                    parts_got.append("dkim=" + ("aligned" if r["dkim_aligned"] == "1" else "not-aligned"))
                if "policy" in e:
                    parts_want.append("policy=" + e["policy"])
                    parts_got.append("policy=" + r["policy"])
                if "dmarc_record" in e:
                    parts_want.append("result=none")
                    parts_got.append("result=" + r["result"])
                return (" ".join(parts_got), " ".join(parts_want))
            for mode in ("tree", "psl"):
                cid = "mail-auth.%s.%02d.%s" % (group, i + 1, mode)
                s.add(cid, check_cmds(cid, mode, frm=c["from"], zone=zone_lines(c["dns"]),
                                      spf=spf, dkim=dkim), verdict)


# ---- mailauth (postalsys) RFC 9989 compliance ----------------------------
def mailauth(s, path):
    d = json.load(open(path))
    for i, c in enumerate(d["cases"]):
        e = c["expect"]

        def verdict(r, e=e):
            g, w = [], []
            if "result" not in r:
                return ("refused", "evaluated")
            for k in ("result", "policy", "domain", "spf_aligned", "dkim_aligned", "adkim",
                      "dmarc_queries", "obsolete_tag", "record_contains"):
                if k not in e:
                    continue
                want = e[k]
                if k == "result":
                    got = r["result"]
                elif k == "policy":
                    got = outcome_policy(r)
                elif k == "domain":
                    got = r["pdomain"]
                elif k in ("spf_aligned", "dkim_aligned"):
                    got, want = r[k] == "1", bool(want)
                elif k == "adkim":
                    got = r["adkim"]
                elif k == "dmarc_queries":
                    got = ",".join(q[4:] for q in r["asked"].split(",")
                                   if q.startswith("TXT:_dmarc."))
                    want = ",".join(want)
                elif k == "obsolete_tag":
                    # the record as the check applied it, parsed on its own below
                    got = want if ("note:%s@" % want) in r.get("_findings", "") else "not reported"
                elif k == "record_contains":
                    got = want if want in r["record"] else r["record"]
                g.append("%s=%s" % (k, got))
                w.append("%s=%s" % (k, want))
            return (" ".join(g), " ".join(w))
        for mode in ("tree", "psl"):
            cid = "mailauth.rfc9989.%02d.%s" % (i + 1, mode)
            spf = ("pass", c["spf"][0]) if c["spf"] else None
            cmds = check_cmds(cid, mode, frm=c["from"], zone=zone_lines(c["dns"]), spf=spf,
                              dkim=[("pass", x) for x in c["dkim"]])
            s.add(cid, cmds, verdict)


# ---- the PSL's own tests ---------------------------------------------------
def psl(s, vdir):
    lst = os.path.join(vdir, "psl", "public_suffix_list.dat")
    n = 0
    for line in open(os.path.join(vdir, "psl", "tests.txt"), encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        dom, want = line.split()
        n += 1
        cid = "psl.%02d" % n
        # Domains enter as a From address (U-labels become A-labels, RFC 8616).
        frm = "x@" + dom if dom != "null" else ""
        if want == "null":
            # Not a registrable domain: the check refuses it (not a domain
            # name) or it is a public suffix, its own Organizational Domain.
            want_s = "refused-or-itself"
        else:
            want_s = want.encode("idna").decode().lower()

        def verdict(r, want_s=want_s):
            if "result" not in r:
                got = "refused-or-itself"
            else:
                got = r["org"]
                if want_s == "refused-or-itself" and got == r["author"]:
                    got = want_s
            return (got, want_s)
        s.add(cid, check_cmds(cid, "psl", frm=frm, psl=lst), verdict)


def load_notes(path):
    notes = {}
    for ln, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        f = [x.strip() for x in line.split("|", 2)]
        if len(f) != 3 or not f[2]:
            sys.exit("%s:%d: want 'case | value we give | note'" % (path, ln))
        if f[0] in notes:
            sys.exit("%s:%d: %s listed twice" % (path, ln, f[0]))
        notes[f[0]] = (f[1], f[2])
    return notes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--notes", required=True)
    ap.add_argument("--mailauth", required=True)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    shared = os.environ.get("MT_SHARED_DIR") or a.shared
    vdir = os.path.join(shared, "vectors")
    need = ["opendmarc/cases.json", "mail-auth/dmarc/verify-cases.json", "psl/tests.txt"]
    missing = [n for n in need if not os.path.isfile(os.path.join(vdir, n))]
    if missing:
        print("SKIP: the shared vectors are not at %s (missing %s); set MT_SHARED_DIR to the "
              "folder holding vectors/" % (vdir, ", ".join(missing)))
        return 77
    notes = load_notes(a.notes)
    s = Suite(a.probe)
    opendmarc(s, vdir)
    mail_auth(s, vdir)
    mailauth(s, a.mailauth)
    psl(s, vdir)
    # obsolete_tag needs the applied record's findings: parse those records too
    extra = Suite(a.probe)
    res = s.run()
    for cid, _ in s.cases:
        r = res.get(cid, {})
        if r.get("record"):
            extra.cmds.append(("record", cid, r["record"]))
    for cid, r in extra.run().items():
        res[cid]["_findings"] = r.get("findings", "")

    passed = diffs = fails = 0
    seen = set()
    for cid, cmp in s.cases:
        r = res.get(cid)
        if r is None:
            print("FAIL %s: no answer from the probe" % cid)
            fails += 1
            continue
        got, want = cmp(r)
        if cid in notes:
            seen.add(cid)
            ours, why = notes[cid]
            if got == want:
                print("FAIL %s: listed as an expected difference but agrees with the vector (%s)"
                      % (cid, got))
                fails += 1
            elif got != ours:
                print("FAIL %s: got %r; the vector says %r and vector-notes.txt %r"
                      % (cid, got, want, ours))
                fails += 1
            else:
                diffs += 1
                if a.v:
                    print("DIFF %s: %s (vector: %s): %s" % (cid, got, want, why))
        elif got == want:
            passed += 1
            if a.v:
                print("ok   %s: %s" % (cid, got))
        else:
            print("FAIL %s: got %r, want %r%s" % (cid, got, want,
                  ("; " + r["reason"]) if r.get("reason") else ""))
            fails += 1
    for cid in sorted(set(notes) - seen):
        print("FAIL %s: in vector-notes.txt but no such case" % cid)
        fails += 1
    print("%d passed, %d expected differences, %d failed" % (passed, diffs, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
