/* A published DKIM key checked for its owner (dkim_check.h): the key
 * record read with the verifier's own parser (dkim_tags.h), the
 * authoritative servers found and asked as spf verify does (dns/authns.h). */
#include <mailtrust/dkim_check.h>
#include <mailtrust/dkim_key.h>
#include "dkim/dkim_tags.h"
#include "dns/authns.h"
#include "util/util.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C_MAX_FINDINGS 64u
#define C_MAX_NS (2u * MT_AUTHNS_MAX_ADDRS)
#define C_MAX_TXT 16u
#define C_ARENA_LIMIT (4u << 20)

struct mt_dkim_check {
	mt_arena *arena;
	bool oom, checked;
	const char *name;
	const char *cname;
	const char *record;
	size_t record_len;
	mt_dkim_check_key key;
	mt_dkim_check_finding findings[C_MAX_FINDINGS];
	size_t nfindings;
	mt_dkim_check_ns ns[C_MAX_NS];
	size_t nns;
	const mt_dkim_check_options *o;
	mt_dns_resolver *res;
};

/* The TXT records of one answer, joined. */
typedef struct txts {
	size_t n;
	const char *rec[C_MAX_TXT];
	size_t len[C_MAX_TXT];
	size_t strings[C_MAX_TXT];
} txts;

const char *mt_dkim_check_severity_name(mt_dkim_check_severity sev)
{
	switch (sev) {
	case MT_DKIM_CHECK_INFO: return "info";
	case MT_DKIM_CHECK_WARNING: return "warning";
	case MT_DKIM_CHECK_ERROR: return "error";
	}
	return "?";
}

void mt_dkim_check_options_init(mt_dkim_check_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
}

static const char *cstr(mt_dkim_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *cstr(mt_dkim_check *c, const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	char tmp[2048];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return "";
	if ((size_t)n < sizeof tmp) {
		p = mt_arena_strndup(c->arena, tmp, (size_t)n);
	} else {
		p = mt_arena_alloc(c->arena, (size_t)n + 1);
		if (p) {
			va_start(ap, fmt);
			vsnprintf(p, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	if (!p) {
		c->oom = true;
		return "";
	}
	return p;
}

static const char *cdup(mt_dkim_check *c, const char *s, size_t len)
{
	char *p = mt_arena_strndup(c->arena, s, len);
	if (!p) {
		c->oom = true;
		return "";
	}
	return p;
}

static void add(mt_dkim_check *c, const char *code, mt_dkim_check_severity sev, const char *message,
                const char *fix, const char *record, size_t record_len, long offset, size_t length)
{
	mt_dkim_check_finding *f;
	if (c->nfindings >= C_MAX_FINDINGS)
		return;
	f = &c->findings[c->nfindings++];
	f->code = code;
	f->severity = sev;
	f->message = message;
	f->fix = fix;
	f->record = record;
	f->record_len = record ? record_len : 0;
	f->offset = record && offset >= 0 && (size_t)offset <= record_len ? offset : -1;
	f->length = f->offset >= 0 ? (length <= record_len - (size_t)f->offset
	                              ? length : record_len - (size_t)f->offset) : 0;
}

static bool dns_failure(mt_dns_rcode rc)
{
	return rc != MT_DNS_NOERROR && rc != MT_DNS_NXDOMAIN;
}

/* Copy the TXT records of ans (bounded: C_MAX_TXT records, each RDATA at
 * most 65535 octets). */
static void read_txts(mt_dkim_check *c, const mt_dns_answer *ans, txts *t, size_t *octets)
{
	memset(t, 0, sizeof *t);
	if (octets)
		*octets = 0;
	for (size_t i = 0; i < ans->count; i++) {
		const mt_dns_rr *rr = &ans->rr[i];
		size_t need, p = 0, strings = 0;
		char *text;
		if (rr->type != MT_DNS_TXT)
			continue;
		if (octets)
			*octets += 12 + rr->len;
		if (t->n >= C_MAX_TXT)
			continue;
		while (p < rr->len) {
			p += 1u + rr->data[p];
			strings++;
		}
		need = mt_dns_txt_join(rr->data, rr->len, NULL, 0);
		text = mt_arena_alloc(c->arena, need + 1);
		if (!text) {
			c->oom = true;
			return;
		}
		mt_dns_txt_join(rr->data, rr->len, text, need + 1);
		t->rec[t->n] = text;
		t->len[t->n] = need;
		t->strings[t->n] = strings;
		t->n++;
	}
}

/* Do two key records publish the same key with the same flags?  Records
 * that do not parse are compared as text, whitespace ignored. */
static bool same_key(const char *a, size_t al, const char *b, size_t bl)
{
	mt_dkim_key *ka = NULL, *kb = NULL;
	bool same = false;

	if (mt_dkim_key_parse(a, al, &ka) != MT_OK || mt_dkim_key_parse(b, bl, &kb) != MT_OK)
		goto out;
	if ((ka->perm.failed && !ka->revoked) || (kb->perm.failed && !kb->revoked)) {
		size_t i = 0, j = 0;
		for (;;) {
			while (i < al && (a[i] == ' ' || a[i] == '\t' || a[i] == '\r' || a[i] == '\n'))
				i++;
			while (j < bl && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n'))
				j++;
			if (i >= al || j >= bl) {
				same = i >= al && j >= bl;
				break;
			}
			if (a[i++] != b[j++])
				break;
		}
		goto out;
	}
	same = ka->key_type == kb->key_type && ka->revoked == kb->revoked &&
	       ka->p_len == kb->p_len && (ka->p_len == 0 || memcmp(ka->p, kb->p, ka->p_len) == 0) &&
	       ka->testing == kb->testing && ka->strict == kb->strict && ka->has_h == kb->has_h &&
	       ka->h_sha256 == kb->h_sha256 && ka->h_sha1 == kb->h_sha1 &&
	       ka->service_email == kb->service_email;
out:
	mt_dkim_key_free(ka);
	mt_dkim_key_free(kb);
	return same;
}

static bool txts_have(const txts *t, const char *r, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (same_key(t->rec[i], t->len[i], r, len))
			return true;
	return false;
}

static bool same_txts(const txts *a, const txts *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!txts_have(b, a->rec[i], a->len[i]))
			return false;
	return true;
}

/* ---- the key record ---------------------------------------------------- */

static void judge_key(mt_dkim_check *c, const char *rec, size_t len)
{
	mt_dkim_key *k = NULL;
	const mt_dkim_perm *pm;

	if (mt_dkim_key_parse(rec, len, &k) != MT_OK) {
		c->oom = true;
		return;
	}
	pm = &k->perm;
	c->key.revoked = k->revoked;
	c->key.testing = k->testing;
	c->key.strict = k->strict;
	if (k->revoked) {
		add(c, "revoked", MT_DKIM_CHECK_ERROR,
		    cstr(c, "the key is revoked (empty p=): every signature made with this selector "
		            "is a permerror (RFC 6376 3.6.1)"),
		    "publish the public key in p=; if the selector was retired on purpose, no "
		    "signer may use it any more", rec, len, (long)pm->offset, 1);
	} else if (pm->failed && k->bits > 0 && k->bits < 1024) {
		c->key.type = "rsa";
		c->key.bits = k->bits;
		add(c, "key-too-small", MT_DKIM_CHECK_ERROR,
		    cstr(c, "RSA key of %d bits: verifiers must not accept keys under 1024 bits "
		            "(RFC 8301 3.2), so every signature with it is a permerror", k->bits),
		    "generate a 2048-bit key (mailtrust dkim keygen) under a new selector and sign "
		    "with it", rec, len, (long)pm->offset, 1);
	} else if (pm->failed) {
		add(c, "invalid-record", MT_DKIM_CHECK_ERROR,
		    cstr(c, "the key record is invalid: %s; verifiers treat every signature with "
		            "this selector as a permerror", pm->message),
		    "correct the record (mailtrust dkim keygen prints a valid one)", rec, len,
		    (long)pm->offset, pm->tag[0] ? strlen(pm->tag) : 1);
	}
	if (pm->failed) {
		mt_dkim_key_free(k);
		return;
	}
	c->key.type = k->key_type == MT_DKIM_KEY_ED25519 ? "ed25519" : "rsa";
	c->key.bits = k->bits;
	if (k->key_type == MT_DKIM_KEY_RSA && k->bits < 2048)
		add(c, "key-weak", MT_DKIM_CHECK_WARNING,
		    cstr(c, "RSA key of %d bits: still accepted, but RFC 8301 3.2 asks signers for "
		            "at least 2048 bits", k->bits),
		    "generate a 2048-bit key under a new selector, publish it, then switch the signer",
		    NULL, 0, -1, 0);
	else
		add(c, "key-size", MT_DKIM_CHECK_INFO,
		    cstr(c, "%s key of %d bits", k->key_type == MT_DKIM_KEY_ED25519 ? "ed25519" : "RSA",
		         k->bits),
		    NULL, NULL, 0, -1, 0);
	if (k->key_type == MT_DKIM_KEY_ED25519)
		add(c, "ed25519", MT_DKIM_CHECK_INFO,
		    "an ed25519 key (RFC 8463): not every receiver verifies it yet, so sign with an "
		    "RSA key as well", NULL, NULL, 0, -1, 0);
	if (k->rsa_bare)
		add(c, "rsa-bare-key", MT_DKIM_CHECK_WARNING,
		    "p= holds a bare RSAPublicKey, not the SubjectPublicKeyInfo RFC 6376 3.6.1 asks "
		    "for: some verifiers reject it",
		    "publish the key as a SubjectPublicKeyInfo (mailtrust dkim keygen --help)", NULL, 0,
		    -1, 0);
	if (k->testing)
		add(c, "testing", MT_DKIM_CHECK_WARNING,
		    "the key has t=y: the domain is testing DKIM, and verifiers must treat its "
		    "signed mail like unsigned mail (RFC 6376 3.6.1)",
		    "remove y from t= once signing works", rec, len, (long)k->t_off, 1);
	if (k->strict)
		add(c, "strict", MT_DKIM_CHECK_INFO,
		    "the key has t=s: signatures must have i= in d= itself, not a subdomain",
		    NULL, rec, len, (long)k->t_off, 1);
	if (!mt_dkim_key_allows_hash(k, MT_DKIM_HASH_SHA256))
		add(c, "hash-excluded", MT_DKIM_CHECK_ERROR,
		    "the key's h= excludes sha256, the only hash verifiers accept (RFC 8301 3.1): "
		    "every signature with it is a permerror",
		    "remove h= or make it h=sha256", rec, len, (long)k->h_off, 1);
	if (k->notes)
		add(c, "notes", MT_DKIM_CHECK_INFO, cstr(c, "notes (n=): %s", k->notes), NULL, NULL, 0,
		    -1, 0);
	if (c->o->private_key_pem) {
		mt_dkim_keygen *pk = NULL;
		mt_dkim_key *pub = NULL;
		const char *prec;
		c->key.private_key_matches = 0;
		if (mt_dkim_keygen_from_pem(c->o->private_key_pem, c->o->private_key_len, &pk, NULL) ==
		        MT_OK &&
		    (prec = mt_dkim_keygen_record(pk)) &&
		    mt_dkim_key_parse(prec, strlen(prec), &pub) == MT_OK && pub->pkey && k->pkey &&
		    EVP_PKEY_eq(pub->pkey, k->pkey) == 1)
			c->key.private_key_matches = 1;
		if (c->key.private_key_matches)
			add(c, "private-key-matches", MT_DKIM_CHECK_INFO,
			    "the private key matches the published public key", NULL, NULL, 0, -1, 0);
		else
			add(c, "private-key-mismatch", MT_DKIM_CHECK_ERROR,
			    cstr(c, "the private key does not match the key published at %s: signatures "
			            "made with it fail", c->name),
			    pk ? cstr(c, "publish its record: %s", mt_dkim_keygen_record(pk))
			       : "publish the record of the private key the signer uses",
			    NULL, 0, -1, 0);
		mt_dkim_key_free(pub);
		mt_dkim_keygen_free(pk);
	}
	mt_dkim_key_free(k);
}

static void check_expect(mt_dkim_check *c)
{
	const char *e = c->o->expect;
	size_t len = strlen(e);
	mt_dkim_key *k = NULL;
	char *line = NULL;

	if (mt_dkim_key_parse(e, len, &k) != MT_OK) {
		c->oom = true;
		return;
	}
	if (k->perm.failed && !k->revoked)
		add(c, "expect-invalid", MT_DKIM_CHECK_ERROR,
		    cstr(c, "the expected record itself is invalid: %s", k->perm.message),
		    "correct it before publishing it", cdup(c, e, len), len, (long)k->perm.offset,
		    k->perm.tag[0] ? strlen(k->perm.tag) : 1);
	mt_dkim_key_free(k);
	if (len > MT_DKIM_RECORD_STRING_MAX) {
		const char *sel_end = strstr(c->name, "._domainkey.");
		char sel[256];
		size_t sl = sel_end ? (size_t)(sel_end - c->name) : 0;
		if (sl > 0 && sl < sizeof sel) {
			memcpy(sel, c->name, sl);
			sel[sl] = '\0';
			if (mt_dkim_record_zone_line(sel, sel_end + 12, e, len, &line, NULL) != MT_OK)
				line = NULL;
		}
		add(c, "expect-needs-split", MT_DKIM_CHECK_INFO,
		    cstr(c, "the expected record is %zu octets, more than one DNS character-string "
		            "holds (255): it must be published as several strings, which verifiers "
		            "join without spaces", len),
		    line ? cstr(c, "in a zone file: %s (most DNS providers' forms split long text "
		                   "themselves)", line)
		         : "enter it in strings of at most 255 octets",
		    NULL, 0, -1, 0);
		mt_free(line);
	}
}

/* ---- authoritative servers --------------------------------------------- */

static const char *servers_list(mt_dkim_check *c, const mt_authns *ns)
{
	mt_buf b;
	const char *s;
	if (ns->nnames == 0)
		return "(none found)";
	mt_buf_init(&b, 1u << 14);
	for (size_t i = 0; i < ns->nnames; i++)
		mt_buf_printf(&b, "%s%s", i ? ", " : "", ns->names[i]);
	s = b.err == MT_OK && b.data ? cdup(c, b.data, b.len) : "";
	mt_buf_free(&b);
	return s;
}

/* Ask every server of ns about name: the CNAME there when cname_hop, else
 * the TXT records; compare with the recursive answer (rec_txt, or
 * rec_cname for the CNAME hop). */
static void ask_hop(mt_dkim_check *c, const mt_authns *ns, const char *name, bool cname_hop,
                    const char *rec_cname, const txts *rec_txt)
{
	const mt_dkim_check_options *o = c->o;
	for (size_t k = 0; k < ns->naddrs && c->nns < C_MAX_NS; k++) {
		mt_dkim_check_ns *na = &c->ns[c->nns++];
		mt_dns_answer *ans = NULL;
		txts t;
		memset(na, 0, sizeof *na);
		na->server = cdup(c, ns->names[ns->addrs[k].ns], strlen(ns->names[ns->addrs[k].ns]));
		na->address = cdup(c, ns->addrs[k].address, strlen(ns->addrs[k].address));
		na->name = name;
		if (cname_hop) {
			if (mt_authns_ask(o->server_resolver, o->server_ctx, ns->addrs[k].address,
			                  o->server_port, name, MT_DNS_CNAME, o->timeout_ms, &ans) != MT_OK) {
				c->oom = true;
				return;
			}
			if (ans->rcode == MT_DNS_NOERROR && ans->count > 0 &&
			    ans->rr[0].type == MT_DNS_CNAME) {
				na->rcode = MT_DNS_NOERROR;
				na->cname = cdup(c, (const char *)ans->rr[0].data, ans->rr[0].len);
				na->agrees = rec_cname && mt_strcaseeq(na->cname, strlen(na->cname), rec_cname,
				                                       strlen(rec_cname));
				mt_dns_answer_free(ans);
				continue;
			}
			if (dns_failure(ans->rcode)) {
				na->rcode = ans->rcode;
				na->why = ans->why ? cdup(c, ans->why, strlen(ans->why)) : NULL;
				mt_dns_answer_free(ans);
				continue;
			}
			mt_dns_answer_free(ans);
			ans = NULL;
		}
		if (mt_authns_ask(o->server_resolver, o->server_ctx, ns->addrs[k].address,
		                  o->server_port, name, MT_DNS_TXT, o->timeout_ms, &ans) != MT_OK) {
			c->oom = true;
			return;
		}
		na->rcode = ans->rcode;
		na->why = ans->why ? cdup(c, ans->why, strlen(ans->why)) : NULL;
		if (!dns_failure(ans->rcode)) {
			read_txts(c, ans, &t, NULL);
			na->ntxt = t.n;
			if (t.n > 0) {
				na->record = t.rec[0];
				na->record_len = t.len[0];
			}
			/* a server that serves TXT where the recursive answer had a
			 * CNAME differs from it */
			na->agrees = !(cname_hop && rec_cname) && same_txts(&t, rec_txt);
			if (o->expect)
				na->serves_expect = txts_have(&t, o->expect, strlen(o->expect));
		}
		mt_dns_answer_free(ans);
	}
}

static void publication(mt_dkim_check *c, const txts *rec_txt)
{
	const mt_dkim_check_options *o = c->o;
	mt_authns ns1, ns2;
	const mt_authns *keyns;
	size_t answered = 0, with_expect = 0, agreeing = 0, first_key = 0;
	mt_buf b;

	memset(&ns2, 0, sizeof ns2);
	if (!o->server_resolver) {
		add(c, "publication-not-checked", MT_DKIM_CHECK_INFO,
		    "publication was not checked: the authoritative servers were not asked directly",
		    NULL, NULL, 0, -1, 0);
		return;
	}
	if (mt_authns_find(&ns1, c->res, c->name, o->timeout_ms) == MT_ENOMEM)
		c->oom = true;
	if (ns1.nnames == 0)
		add(c, "ns-not-found", MT_DKIM_CHECK_WARNING,
		    cstr(c, "no NS records were found for %s or its parent domains, so its "
		            "authoritative servers could not be asked", c->name),
		    "check the domain's delegation at its registrar", NULL, 0, -1, 0);
	ask_hop(c, &ns1, c->name, true, c->cname, rec_txt);
	keyns = &ns1;
	if (c->cname) {
		/* the key itself is served by the zone the CNAME points into */
		first_key = c->nns;
		if (mt_authns_find(&ns2, c->res, c->cname, o->timeout_ms) == MT_ENOMEM)
			c->oom = true;
		ask_hop(c, &ns2, c->cname, false, NULL, rec_txt);
		keyns = &ns2;
	}
	mt_buf_init(&b, 1u << 16);
	for (size_t i = 0; i < c->nns; i++) {
		const mt_dkim_check_ns *na = &c->ns[i];
		if (dns_failure(na->rcode)) {
			add(c, "ns-unreachable", MT_DKIM_CHECK_WARNING,
			    cstr(c, "the authoritative server %s (%s) did not answer for %s: %s%s%s",
			         na->server, na->address, na->name, mt_dns_rcode_name(na->rcode),
			         na->why ? ", " : "", na->why ? na->why : ""),
			    "check that server, or remove it from the NS records", NULL, 0, -1, 0);
			continue;
		}
		if (na->agrees)
			agreeing++;
		else
			mt_buf_printf(&b, "%s%s (%s) serves %s%s%s%s", b.len ? "; " : "", na->server,
			              na->address, na->cname ? "a CNAME to " : "",
			              na->cname ? na->cname : na->record ? "\"" : "",
			              na->cname ? "" : na->record ? na->record : "no key record",
			              !na->cname && na->record ? "\"" : "");
		if (i >= first_key) {
			answered++;
			if (na->serves_expect)
				with_expect++;
		}
	}
	if (ns1.nnames > 0 && ns1.naddrs == 0)
		add(c, "ns-unreachable", MT_DKIM_CHECK_WARNING,
		    cstr(c, "no address was found for the name servers of %s (%s)", c->name,
		         servers_list(c, &ns1)),
		    "check the A/AAAA records of the name servers", NULL, 0, -1, 0);
	if (b.len > 0)
		add(c, "ns-disagree", MT_DKIM_CHECK_WARNING,
		    cstr(c, "the authoritative servers do not all serve what recursive resolvers "
		            "return: %s. A change has not reached every server (or every cache) yet, "
		            "or the servers are not kept in sync", b.data),
		    "wait for the change to reach every server; if it persists, correct the zone on "
		    "the servers that differ", NULL, 0, -1, 0);
	if (b.err != MT_OK)
		c->oom = true;
	mt_buf_free(&b);
	if (o->expect) {
		bool in_recursive = txts_have(rec_txt, o->expect, strlen(o->expect));
		const char *hosts = servers_list(c, keyns);
		if (answered > 0 && with_expect == 0)
			add(c, "expect-not-published", MT_DKIM_CHECK_ERROR,
			    cstr(c, "the expected key is not served by any of the authoritative servers of "
			            "%s (%s): it was probably added at a provider that is not the DNS "
			            "host%s", c->cname ? c->cname : c->name, hosts,
			         c->cname ? " the CNAME points to" : " of the domain"),
			    cstr(c, "add the record at the DNS provider that operates %s (or change the "
			            "NS records to the provider where you added it)", hosts),
			    NULL, 0, -1, 0);
		else if (answered > 0 && with_expect < answered)
			add(c, "expect-partial", MT_DKIM_CHECK_WARNING,
			    cstr(c, "the expected key is served by %zu of %zu authoritative servers: the "
			            "change has not reached every server yet", with_expect, answered),
			    "wait for the servers to synchronise, then check again", NULL, 0, -1, 0);
		else if (answered > 0 && !in_recursive)
			add(c, "expect-not-cached", MT_DKIM_CHECK_WARNING,
			    "every authoritative server serves the expected key, but the recursive "
			    "resolver still returns the old answer: cached copies expire within the "
			    "record's TTL",
			    "wait; nothing needs to change", NULL, 0, -1, 0);
		else if (answered == 0 && !in_recursive)
			add(c, "expect-not-published", MT_DKIM_CHECK_ERROR,
			    cstr(c, "the DNS answer does not hold the expected key, and none of the "
			            "authoritative servers (%s) answered: it was probably added at a "
			            "provider that is not the DNS host, or not saved", hosts),
			    cstr(c, "add the record at the DNS provider that operates %s", hosts), NULL, 0,
			    -1, 0);
	}
	mt_authns_clear(&ns1);
	mt_authns_clear(&ns2);
}

/* ---- the run ----------------------------------------------------------- */

mt_status mt_dkim_check_run(const char *selector, const char *domain, mt_dns_resolver *res,
                            const mt_dkim_check_options *opts, mt_dkim_check **out, mt_error *err)
{
	mt_dkim_check_options defaults;
	mt_dkim_check *c = NULL;
	mt_dns_answer *ans = NULL;
	mt_status st = MT_OK;
	size_t dl;
	txts rec;
	char *n;

	if (!out || !selector || !domain || !res)
		return mt_error_set(err, MT_EINVAL, "mt_dkim_check_run: NULL argument");
	*out = NULL;
	if (mt_dkim_record_check_names(selector, domain, err) != MT_OK)
		return MT_EINVAL;
	if (!opts) {
		mt_dkim_check_options_init(&defaults);
		opts = &defaults;
	}
	if (opts->private_key_pem) {
		mt_dkim_keygen *pk = NULL;
		mt_error e2;
		memset(&e2, 0, sizeof e2);
		st = mt_dkim_keygen_from_pem(opts->private_key_pem, opts->private_key_len, &pk, &e2);
		mt_dkim_keygen_free(pk);
		if (st == MT_ENOMEM)
			return mt_error_set(err, st, "out of memory");
		if (st != MT_OK)
			return mt_error_set(err, MT_ESYNTAX, "%s", e2.message);
	}
	c = calloc(1, sizeof *c);
	if (!c || !(c->arena = mt_arena_new(8192))) {
		free(c);
		return mt_error_set(err, MT_ENOMEM, "out of memory");
	}
	mt_arena_set_limit(c->arena, C_ARENA_LIMIT);
	c->o = opts;
	c->res = res;
	c->key.private_key_matches = -1;
	dl = strlen(domain);
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	n = (char *)cstr(c, "%s._domainkey.%.*s", selector, (int)dl, domain);
	for (char *p = n; *p; p++)
		*p = mt_lower(*p);
	c->name = n;

	if (opts->expect)
		check_expect(c);
	st = mt_dns_resolve(res, c->name, MT_DNS_TXT, opts->timeout_ms, &ans);
	if (st != MT_OK) {
		if (st == MT_ENOMEM)
			goto out;
		add(c, "lookup-failed", MT_DKIM_CHECK_ERROR,
		    cstr(c, "the key lookup at %s could not be made: %s", c->name, mt_strerror(st)),
		    NULL, NULL, 0, -1, 0);
		st = MT_OK;
		goto done;
	}
	if (dns_failure(ans->rcode)) {
		add(c, "lookup-failed", MT_DKIM_CHECK_ERROR,
		    cstr(c, "the key lookup at %s failed: %s%s%s; verifiers get temperror for "
		            "signatures with this selector", c->name, mt_dns_rcode_name(ans->rcode),
		         ans->why ? ", " : "", ans->why ? ans->why : ""),
		    "check the domain's DNS servers", NULL, 0, -1, 0);
		goto done;
	}
	c->checked = true;
	if (ans->canonical_name) {
		c->cname = cdup(c, ans->canonical_name, strlen(ans->canonical_name));
		add(c, "cname", MT_DKIM_CHECK_INFO,
		    cstr(c, "%s is delegated with a CNAME: %s -> %s; the key is what %s serves "
		            "(usually your mail provider's)", c->name, c->name, c->cname, c->cname),
		    NULL, NULL, 0, -1, 0);
	}
	read_txts(c, ans, &rec, &c->key.answer_octets);
	c->key.ntxt = rec.n;
	for (size_t i = 0; i < ans->count; i++)
		if (ans->rr[i].type == MT_DNS_TXT && (i == 0 || ans->rr[i].ttl < c->key.ttl))
			c->key.ttl = ans->rr[i].ttl;
	/* header, question, the CNAME records when delegated: an estimate */
	c->key.answer_octets += 12 + strlen(c->name) + 2 + 4 +
	                        (c->cname ? 12 + strlen(c->cname) + 2 : 0);
	if (ans->rcode == MT_DNS_NXDOMAIN || rec.n == 0) {
		add(c, "no-key", MT_DKIM_CHECK_ERROR,
		    cstr(c, "no key is published at %s%s: signatures with this selector are a "
		            "permerror (RFC 6376 6.1.2)",
		         c->cname ? c->cname : c->name,
		         ans->rcode == MT_DNS_NXDOMAIN ? " (the name does not exist)"
		                                       : " (the name has no TXT record)"),
		    opts->expect ? cstr(c, "publish a TXT record at %s: \"%s\"", c->name, opts->expect)
		                 : cstr(c, "publish the key record at %s (mailtrust dkim keygen prints "
		                           "it)", c->name),
		    NULL, 0, -1, 0);
	} else {
		size_t pick = 0;
		if (rec.n > 1) {
			/* the verifier takes the first record that is a usable key */
			size_t usable = 0;
			for (size_t i = rec.n; i-- > 0;) {
				mt_dkim_key *k = NULL;
				if (mt_dkim_key_parse(rec.rec[i], rec.len[i], &k) != MT_OK) {
					c->oom = true;
					break;
				}
				if (!k->perm.failed) {
					usable++;
					pick = i;
				}
				mt_dkim_key_free(k);
			}
			add(c, "multiple-records", usable == rec.n ? MT_DKIM_CHECK_WARNING : MT_DKIM_CHECK_ERROR,
			    cstr(c, "%s has %zu TXT records (%zu of them usable keys): verifiers may pick any "
			            "one (RFC 6376 6.1.2), so signatures verify or not depending on the "
			            "receiver", c->name, rec.n, usable),
			    "publish exactly one key record at the name; use another selector for another "
			    "key", NULL, 0, -1, 0);
		}
		c->record = rec.rec[pick];
		c->record_len = rec.len[pick];
		c->key.strings = rec.strings[pick];
		if (rec.strings[pick] > 1)
			add(c, "split-record", MT_DKIM_CHECK_INFO,
			    cstr(c, "the record is published as %zu strings (each at most 255 octets); "
			            "verifiers join them without spaces", rec.strings[pick]),
			    NULL, NULL, 0, -1, 0);
		judge_key(c, c->record, c->record_len);
		if (opts->expect && !txts_have(&rec, opts->expect, strlen(opts->expect)))
			add(c, "expect-differs", MT_DKIM_CHECK_ERROR,
			    "the published record is not the expected one (another key or other flags)",
			    cstr(c, "replace it with \"%s\"", opts->expect), c->record, c->record_len, -1,
			    0);
	}
	if (c->key.answer_octets > 512)
		add(c, "answer-too-large", MT_DKIM_CHECK_WARNING,
		    cstr(c, "the DNS answer is about %zu octets, more than the 512 of plain UDP: "
		            "resolvers without EDNS must retry over TCP, and some networks drop such "
		            "answers", c->key.answer_octets),
		    "use a 2048-bit RSA key or ed25519, and keep one record at the name", NULL, 0, -1, 0);
	publication(c, &rec);
done:
	if (c->oom)
		st = MT_ENOMEM;
out:
	mt_dns_answer_free(ans);
	if (st != MT_OK) {
		mt_dkim_check_free(c);
		return mt_error_set(err, st, "out of memory");
	}
	*out = c;
	return MT_OK;
}

void mt_dkim_check_free(mt_dkim_check *c)
{
	if (!c)
		return;
	mt_arena_free(c->arena);
	free(c);
}

bool mt_dkim_check_checked(const mt_dkim_check *c) { return c && c->checked; }

mt_dkim_check_severity mt_dkim_check_worst(const mt_dkim_check *c)
{
	mt_dkim_check_severity w = MT_DKIM_CHECK_INFO;
	for (size_t i = 0; c && i < c->nfindings; i++)
		if (c->findings[i].severity > w)
			w = c->findings[i].severity;
	return w;
}

const char *mt_dkim_check_name(const mt_dkim_check *c) { return c ? c->name : NULL; }
const char *mt_dkim_check_cname(const mt_dkim_check *c) { return c ? c->cname : NULL; }
const char *mt_dkim_check_record(const mt_dkim_check *c) { return c ? c->record : NULL; }
size_t mt_dkim_check_record_len(const mt_dkim_check *c) { return c && c->record ? c->record_len : 0; }
const mt_dkim_check_key *mt_dkim_check_key_info(const mt_dkim_check *c) { return c ? &c->key : NULL; }
size_t mt_dkim_check_finding_count(const mt_dkim_check *c) { return c ? c->nfindings : 0; }

const mt_dkim_check_finding *mt_dkim_check_finding_at(const mt_dkim_check *c, size_t i)
{
	return c && i < c->nfindings ? &c->findings[i] : NULL;
}

size_t mt_dkim_check_ns_count(const mt_dkim_check *c) { return c ? c->nns : 0; }

const mt_dkim_check_ns *mt_dkim_check_ns_at(const mt_dkim_check *c, size_t i)
{
	return c && i < c->nns ? &c->ns[i] : NULL;
}
