/*
 * The real-DNS resolver: one libunbound context per resolver, questions
 * asked asynchronously and waited for with poll() against a deadline, so a
 * silent server costs the caller's budget and no more.  Also the wire
 * decoders of dns_wire.h (RDATA and whole messages are untrusted input).
 */
#include "dns/dns_wire.h"
#include "dns/dns_internal.h"
#include "dns/unbound_int.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unbound.h>

#define DEFAULT_TIMEOUT_MS 5000u
#define DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"

/* ---- bounds-checked cursor; the first error sticks -------------------- */

typedef struct cursor {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
} cursor;

static void cur_init(cursor *c, const uint8_t *p, size_t len, size_t off)
{
	c->p = p;
	c->len = len;
	c->off = off;
	c->bad = off > len;
}

static size_t cur_left(const cursor *c)
{
	return c->bad ? 0 : c->len - c->off;
}

static uint8_t cur_u8(cursor *c)
{
	if (c->bad || c->len - c->off < 1) {
		c->bad = true;
		return 0;
	}
	return c->p[c->off++];
}

static uint16_t cur_u16(cursor *c)
{
	uint16_t hi = cur_u8(c);
	uint16_t lo = cur_u8(c);
	return (uint16_t)(hi << 8 | lo);
}

static void cur_skip(cursor *c, size_t n)
{
	if (c->bad || c->len - c->off < n) {
		c->bad = true;
		return;
	}
	c->off += n;
}

/* ---- names ------------------------------------------------------------ */

/*
 * Decode the name at c's position into out (presentation form, no
 * trailing dot).  With compression allowed, a pointer must point before
 * the pointer itself, so each jump moves strictly backwards and the walk
 * ends.  c is left after the name as it appears at its position.
 */
static bool read_name(cursor *c, bool compression, char *out, size_t cap, size_t *outlen)
{
	cursor w = *c;          /* walking cursor; follows pointers */
	bool jumped = false;
	size_t wire = 0, o = 0;
	size_t hops = 0;
	bool ok = false;

	if (cap < MT_DNS_WIRE_NAME_BUF)
		goto out;
	for (;;) {
		size_t at = w.off;
		uint8_t l = cur_u8(&w);
		if (w.bad)
			goto out;
		if ((l & 0xC0) == 0xC0) {
			size_t target;
			if (!compression)
				goto out;
			target = (size_t)(l & 0x3F) << 8 | cur_u8(&w);
			if (w.bad || target >= at || ++hops > 255)
				goto out;
			if (!jumped)
				c->off = w.off;
			jumped = true;
			w.off = target;
			continue;
		}
		if (l & 0xC0)
			goto out; /* 0x40 / 0x80: obsolete or unknown label types */
		wire += 1u + l;
		if (wire > 255)
			goto out;
		if (l == 0)
			break;
		if (cur_left(&w) < l)
			goto out;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t ch = w.p[w.off + i];
			if (ch == '.' || ch == 0)
				goto out;
			out[o++] = (char)ch;
		}
		w.off += l;
	}
	if (!jumped)
		c->off = w.off;
	out[o] = '\0';
	*outlen = o;
	ok = true;
out:
	if (!ok)
		c->bad = true;
	return ok;
}

size_t mt_dns_wire_name(const uint8_t *p, size_t len, char *out, size_t cap, size_t *outlen)
{
	cursor c;
	if (!p || !out || !outlen)
		return 0;
	cur_init(&c, p, len, 0);
	if (!read_name(&c, false, out, cap, outlen))
		return 0;
	return c.off;
}

/* ---- RDATA ------------------------------------------------------------ */

mt_status mt_dns_wire_rdata(uint16_t type, const uint8_t *rdata, size_t len, char *buf,
                            size_t cap, uint16_t *pref, const uint8_t **data, size_t *dlen)
{
	cursor c;
	size_t nlen = 0;

	if ((!rdata && len) || !buf || !pref || !data || !dlen)
		return MT_EINVAL;
	*pref = 0;
	*data = NULL;
	*dlen = 0;
	cur_init(&c, rdata, len, 0);
	switch (type) {
	case MT_DNS_A:
	case MT_DNS_AAAA:
		if (len != (type == MT_DNS_A ? 4u : 16u))
			return MT_ESYNTAX;
		*data = rdata;
		*dlen = len;
		return MT_OK;
	case MT_DNS_MX:
		*pref = cur_u16(&c);
		/* fall through */
	case MT_DNS_PTR:
	case MT_DNS_CNAME:
	case MT_DNS_NS:
		if (!read_name(&c, false, buf, cap, &nlen) || cur_left(&c) != 0)
			return MT_ESYNTAX;
		*data = (const uint8_t *)buf;
		*dlen = nlen;
		return MT_OK;
	case MT_DNS_TXT:
	case MT_DNS_SPF:
		if (!mt_dns_txt_check(rdata, len))
			return MT_ESYNTAX;
		*data = rdata;
		*dlen = len;
		return MT_OK;
	default:
		*data = rdata;
		*dlen = len;
		return MT_OK;
	}
}

/* ---- whole messages: the CNAME chain ---------------------------------- */

bool mt_dns_wire_canonical(const uint8_t *msg, size_t len, char *out, size_t cap)
{
	cursor c;
	char cur[MT_DNS_WIRE_NAME_BUF], owner[MT_DNS_WIRE_NAME_BUF], target[MT_DNS_WIRE_NAME_BUF];
	size_t curlen = 0, olen = 0, tlen = 0;
	uint16_t qd, an;
	size_t links = 0;
	bool ok = false;

	if (!msg || !out || cap < MT_DNS_WIRE_NAME_BUF)
		return false;
	cur_init(&c, msg, len, 0);
	cur_skip(&c, 4);           /* id, flags */
	qd = cur_u16(&c);
	an = cur_u16(&c);
	cur_skip(&c, 4);           /* nscount, arcount */
	if (c.bad || qd != 1)
		goto out;
	if (!read_name(&c, true, cur, sizeof cur, &curlen))
		goto out;
	cur_skip(&c, 4);           /* qtype, qclass */
	/*
	 * Records of a chain normally come in order; a pass over the answer
	 * section per link copes with any order and stays bounded by
	 * MT_DNS_CNAME_LINKS_MAX passes over at most an records each.
	 */
	for (size_t pass = 0; pass < MT_DNS_CNAME_LINKS_MAX && !c.bad; pass++) {
		cursor r = c;
		bool advanced = false;
		for (uint16_t i = 0; i < an; i++) {
			uint16_t type, rdlen;
			if (!read_name(&r, true, owner, sizeof owner, &olen))
				goto out;
			type = cur_u16(&r);
			cur_skip(&r, 6);   /* class, ttl */
			rdlen = cur_u16(&r);
			if (r.bad || cur_left(&r) < rdlen)
				goto out;
			if (type == MT_DNS_CNAME && !advanced &&
			    mt_strcaseeq(owner, olen, cur, curlen)) {
				cursor t;
				cur_init(&t, msg, r.off + rdlen, r.off);
				if (!read_name(&t, true, target, sizeof target, &tlen) ||
				    t.off != r.off + rdlen)
					goto out;
				memcpy(cur, target, tlen + 1);
				curlen = tlen;
				links++;
				advanced = true;
			}
			cur_skip(&r, rdlen);
		}
		if (!advanced)
			break;
	}
	if (links == 0)
		goto out;
	memcpy(out, cur, curlen + 1);
	ok = true;
out:
	return ok;
}

/* ---- the resolver ----------------------------------------------------- */

/* One question in flight; the callback fills it. */
typedef struct pending {
	bool done;
	bool abandoned;          /* cancel failed: free it when the callback comes */
	int err;
	struct ub_result *result;
	struct pending *next;    /* in the resolver's list of abandoned ones */
} pending;

/* One asynchronous question (mt_dns_submit). */
typedef struct aquery {
	struct unbound_impl *u;      /* NULL: cancelled after its answer was queued */
	uint64_t token;
	uint64_t deadline;
	int async_id;
	bool answered;               /* callback came; ans is queued */
	bool abandoned;              /* cancel failed: the callback frees it */
	mt_status st;
	mt_dns_answer *ans;
	uint16_t type;
	struct aquery *prev, *next;  /* in flight (submit order = deadline order) */
	struct aquery *rnext;        /* answered, waiting for process() */
	char name[];
} aquery;

typedef struct unbound_impl {
	struct ub_ctx *ctx;
	unsigned timeout_ms;
	bool dnssec;
	pending *abandoned;
	aquery *first, *last;        /* in flight */
	aquery *gone;                /* abandoned: cancel failed, callback to come */
	size_t nflight;
	aquery *ready, **ready_tail; /* answered */
	mt_status failed;            /* an answer could not be converted */
} unbound_impl;

static void on_result(void *mydata, int err, struct ub_result *result)
{
	pending *p = mydata;
	if (p->abandoned) {
		/* Left in the resolver's list; only the result is released. */
		ub_resolve_free(result);
		p->done = true;
		return;
	}
	p->done = true;
	p->err = err;
	p->result = result;
}

/*
 * RFC 6303 reverse zones (and the loopback and unspecified ones) that
 * libunbound answers itself by default; the RFC 6598 ones (64 to
 * 127.100.in-addr.arpa) are added in context setup.  Made transparent:
 * with no local data in them, their names are resolved like any other.
 */
static const char *const reverse_zones[] = {
	"10.in-addr.arpa.", "16.172.in-addr.arpa.", "17.172.in-addr.arpa.",
	"18.172.in-addr.arpa.", "19.172.in-addr.arpa.", "20.172.in-addr.arpa.",
	"21.172.in-addr.arpa.", "22.172.in-addr.arpa.", "23.172.in-addr.arpa.",
	"24.172.in-addr.arpa.", "25.172.in-addr.arpa.", "26.172.in-addr.arpa.",
	"27.172.in-addr.arpa.", "28.172.in-addr.arpa.", "29.172.in-addr.arpa.",
	"30.172.in-addr.arpa.", "31.172.in-addr.arpa.", "168.192.in-addr.arpa.",
	"0.in-addr.arpa.", "127.in-addr.arpa.", "254.169.in-addr.arpa.",
	"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
	"255.255.255.255.in-addr.arpa.",
	"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
	"d.f.ip6.arpa.", "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.",
	"b.e.f.ip6.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
};

/*
 * Special-use domains libunbound answers NXDOMAIN without asking; when
 * forwarding, the configured server decides (see dns.h).  localhost. and
 * onion. stay local.
 */
static const char *const forwarded_special[] = {
	"test.", "invalid.", "home.arpa.",
};

static void unbound_destroy(void *impl)
{
	unbound_impl *u = impl;
	pending *p, *next;
	if (!u)
		return;
	if (u->ctx)
		ub_ctx_delete(u->ctx);
	/* No callback runs after ub_ctx_delete(). */
	for (aquery *q = u->first, *qn; q; q = qn) {
		qn = q->next;
		free(q);
	}
	for (aquery *q = u->ready, *qn; q; q = qn) {
		qn = q->rnext;
		mt_dns_answer_free(q->ans);
		free(q);
	}
	for (aquery *q = u->gone, *qn; q; q = qn) {
		qn = q->next;
		free(q);
	}
	for (p = u->abandoned; p; p = next) {
		next = p->next;
		free(p);
	}
	free(u);
}

/* Free the abandoned questions whose callbacks have come, so a long-lived
 * resolver holds only those libunbound still owes an answer. */
static void reap_abandoned(unbound_impl *u)
{
	pending **pp = &u->abandoned;
	while (*pp) {
		pending *p = *pp;
		if (p->done) {
			*pp = p->next;
			free(p);
		} else {
			pp = &p->next;
		}
	}
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * libunbound reads names in presentation form with escapes; ours carry
 * raw octets.  Escape everything but letters, digits, '-' and '_'.
 */
static bool escape_name(const char *name, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (mt_is_alnum(ch) || ch == '-' || ch == '_' || ch == '.') {
			if (o + 1 >= cap)
				return false;
			out[o++] = (char)ch;
		} else {
			if (o + 4 >= cap)
				return false;
			snprintf(out + o, cap - o, "\\%03u", ch);
			o += 4;
		}
	}
	if (o == 0) {
		if (cap < 2)
			return false;
		out[o++] = '.';
	}
	out[o] = '\0';
	return true;
}

static mt_status set_why(mt_dns_answer *ans, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static mt_status set_why(mt_dns_answer *ans, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return mt_dns_answer_set_why(ans, why);
}

/* Turn libunbound's result into an answer. */
static mt_status fill_answer(unbound_impl *u, const char *name, uint16_t type,
                             const struct ub_result *r, mt_dns_answer **out)
{
	mt_dns_answer *ans = NULL;
	mt_status st = MT_OK;
	mt_dns_rcode rcode;
	char buf[MT_DNS_WIRE_NAME_BUF];
	const char *tname = mt_dns_type_name(type);
	bool names = type == MT_DNS_PTR || type == MT_DNS_MX || type == MT_DNS_NS ||
	             type == MT_DNS_CNAME;
	size_t skipped = 0;

	switch (r->rcode) {
	case 0: rcode = MT_DNS_NOERROR; break;
	case 2: rcode = MT_DNS_SERVFAIL; break;
	case 3: rcode = MT_DNS_NXDOMAIN; break;
	case 5: rcode = MT_DNS_REFUSED; break;
	default: rcode = MT_DNS_FAILURE; break;
	}
	if (u->dnssec && r->bogus)
		rcode = MT_DNS_FAILURE;
	ans = mt_dns_answer_new(rcode);
	if (!ans) {
		st = MT_ENOMEM;
		goto out;
	}
	/* Insecure means "validated as unsigned"; an answer that failed
	 * (SERVFAIL, REFUSED) proved nothing and stays unchecked. */
	if (u->dnssec)
		ans->dnssec = r->secure ? MT_DNSSEC_SECURE
		            : r->bogus ? MT_DNSSEC_BOGUS
		            : (rcode == MT_DNS_NOERROR || rcode == MT_DNS_NXDOMAIN) ? MT_DNSSEC_INSECURE
		                                                                   : MT_DNSSEC_UNCHECKED;
	if (rcode != MT_DNS_NOERROR && rcode != MT_DNS_NXDOMAIN) {
		if (u->dnssec && r->bogus)
			st = set_why(ans, "DNSSEC validation failed for %s/%s: %s", name,
			             tname ? tname : "?", r->why_bogus ? r->why_bogus : "bogus");
		else
			st = set_why(ans, "rcode %d (%s) for %s/%s", r->rcode,
			             mt_dns_rcode_name(rcode), name, tname ? tname : "?");
		goto out;
	}
	if (r->answer_packet && r->answer_len > 0 &&
	    mt_dns_wire_canonical(r->answer_packet, (size_t)r->answer_len, buf, sizeof buf)) {
		st = mt_dns_answer_set_canonical(ans, buf);
		if (st != MT_OK)
			goto out;
	}
	for (size_t i = 0; r->havedata && r->data && r->data[i]; i++) {
		const uint8_t *d = NULL;
		size_t dlen = 0;
		uint16_t pref = 0;
		if (r->len[i] >= 0 &&
		    mt_dns_wire_rdata(type, (const uint8_t *)r->data[i], (size_t)r->len[i], buf,
		                      sizeof buf, &pref, &d, &dlen) == MT_OK) {
			st = mt_dns_answer_add(ans, type, r->ttl < 0 ? 0 : (uint32_t)r->ttl, pref, d,
			                       dlen);
			if (st != MT_OK)
				goto out;
			continue;
		}
		/* A name that cannot be written without escapes ('.' or NUL in
		 * a label) or a malformed one costs only its own record: the
		 * others of a PTR or MX RRset are still checked. */
		skipped++;
		if (!names) {
			/* Nothing usable can be said about this RRset. */
			mt_dns_answer_free(ans);
			ans = mt_dns_answer_new(MT_DNS_FAILURE);
			if (!ans) {
				st = MT_ENOMEM;
				goto out;
			}
			st = set_why(ans, "malformed or unusable %s record for %s",
			             tname ? tname : "?", name);
			goto out;
		}
	}
	if (skipped && ans->count == 0) {
		/* every one was unusable: as above */
		ans->rcode = MT_DNS_FAILURE;
		st = set_why(ans, "malformed or unusable %s record%s for %s", tname ? tname : "?",
		             skipped == 1 ? "" : "s", name);
	} else if (skipped) {
		st = set_why(ans, "%zu malformed or unusable %s record%s for %s skipped", skipped,
		             tname ? tname : "?", skipped == 1 ? "" : "s", name);
	}
	/* NXDOMAIN or NODATA: libunbound's TTL of the reply is that of its
	 * SOA, already capped by the SOA minimum (RFC 2308 section 5). */
	if ((rcode == MT_DNS_NXDOMAIN || ans->count == 0) && r->ttl > 0)
		ans->negative_ttl = (uint32_t)r->ttl;
out:
	if (st != MT_OK) {
		mt_dns_answer_free(ans);
		ans = NULL;
	}
	*out = ans;
	return st;
}

static mt_status answer_simple(mt_dns_rcode rcode, mt_dns_answer **out, const char *why)
{
	mt_dns_answer *ans = mt_dns_answer_new(rcode);
	mt_status st;
	if (!ans)
		return MT_ENOMEM;
	st = mt_dns_answer_set_why(ans, why);
	if (st != MT_OK) {
		mt_dns_answer_free(ans);
		return st;
	}
	*out = ans;
	return MT_OK;
}

static mt_status unbound_resolve(void *impl, const char *name, uint16_t type,
                                 unsigned timeout_ms, mt_dns_answer **out)
{
	unbound_impl *u = impl;
	pending *p = NULL;
	char qname[MT_DNS_UNBOUND_QNAME_BUF];
	char why[512];
	int id = 0, rc;
	long long deadline;
	mt_status st = MT_OK;
	int fd;

	*out = NULL;
	reap_abandoned(u);
	if (!mt_dns_unbound_qname(name, qname, sizeof qname))
		return mt_dns_unbound_convert(u, name, type, UB_SYNTAX, NULL, out);
	if (timeout_ms == 0)
		timeout_ms = u->timeout_ms;
	p = calloc(1, sizeof *p);
	if (!p)
		return MT_ENOMEM;
	deadline = now_ms() + timeout_ms;
	rc = ub_resolve_async(u->ctx, qname, type, 1 /* IN */, p, on_result, &id);
	if (rc != 0) {
		st = rc == UB_NOMEM ? MT_ENOMEM : MT_EDNS;
		goto out;
	}
	fd = ub_fd(u->ctx);
	while (!p->done) {
		long long left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n;
		if (left <= 0)
			break;
		n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (n < 0 && errno != EINTR) {
			st = MT_EDNS;
			break;
		}
		if (n > 0 && ub_process(u->ctx) != 0) {
			st = MT_EDNS;
			break;
		}
	}
	if (!p->done) {
		/* Timed out (or broke): the callback must never see a freed p. */
		if (ub_cancel(u->ctx, id) != 0) {
			p->abandoned = true;
			p->next = u->abandoned;
			u->abandoned = p;
		} else {
			free(p);
		}
		p = NULL;
		if (st == MT_OK) {
			snprintf(why, sizeof why, "no answer for %s/%s within %u ms", name,
			         mt_dns_type_name(type) ? mt_dns_type_name(type) : "?", timeout_ms);
			st = answer_simple(MT_DNS_TIMEOUT, out, why);
		}
		goto out;
	}
	st = mt_dns_unbound_convert(u, name, type, p->err, p->result, out);
out:
	if (p) {
		ub_resolve_free(p->result);
		free(p);
	}
	return st;
}

/* ---- asynchronous operations ---- */

static void aq_unlink(unbound_impl *u, aquery *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		u->first = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		u->last = q->prev;
	q->prev = q->next = NULL;
	u->nflight--;
}

static void aq_ready(unbound_impl *u, aquery *q)
{
	q->answered = true;
	q->rnext = NULL;
	*u->ready_tail = q;
	u->ready_tail = &q->rnext;
}

/* A question whose cancel failed waits on the gone list for its callback
 * (or for the resolver's end), so it is freed either way. */
static void aq_abandon(unbound_impl *u, aquery *q)
{
	q->abandoned = true;
	q->prev = NULL;
	q->next = u->gone;
	if (u->gone)
		u->gone->prev = q;
	u->gone = q;
}

static void on_async(void *mydata, int err, struct ub_result *r)
{
	aquery *q = mydata;
	if (q->abandoned) {
		unbound_impl *u = q->u;
		if (q->prev)
			q->prev->next = q->next;
		else
			u->gone = q->next;
		if (q->next)
			q->next->prev = q->prev;
		ub_resolve_free(r);
		free(q);
		return;
	}
	q->st = mt_dns_unbound_convert(q->u, q->name, q->type, err, r, &q->ans);
	ub_resolve_free(r);
	aq_unlink(q->u, q);
	aq_ready(q->u, q);
}

static mt_status unbound_submit(void *impl, const char *name, uint16_t type, uint64_t token,
                                uint64_t now_ms)
{
	unbound_impl *u = impl;
	char qname[MT_DNS_UNBOUND_QNAME_BUF];
	size_t len = strlen(name);
	aquery *q = calloc(1, sizeof *q + len + 1);
	int rc;
	if (!q)
		return MT_ENOMEM;
	memcpy(q->name, name, len + 1);
	q->u = u;
	q->token = token;
	q->type = type;
	q->deadline = now_ms + u->timeout_ms;
	if (!mt_dns_unbound_qname(name, qname, sizeof qname)) {
		q->st = mt_dns_unbound_convert(u, name, type, UB_SYNTAX, NULL, &q->ans);
		aq_ready(u, q);
		return MT_OK;
	}
	/* Linked first: libunbound may call back from inside ub_resolve_async
	 * (a cached answer). */
	q->prev = u->last;
	if (u->last)
		u->last->next = q;
	else
		u->first = q;
	u->last = q;
	u->nflight++;
	rc = ub_resolve_async(u->ctx, qname, type, 1 /* IN */, q, on_async, &q->async_id);
	if (rc != 0) {
		if (!q->answered) {
			aq_unlink(u, q);
			free(q);
		}
		return rc == UB_NOMEM ? MT_ENOMEM : MT_EDNS;
	}
	return MT_OK;
}

static void unbound_cancel(void *impl, uint64_t token)
{
	unbound_impl *u = impl;
	for (aquery *q = u->first; q; q = q->next) {
		if (q->token != token)
			continue;
		aq_unlink(u, q);
		if (ub_cancel(u->ctx, q->async_id) == 0)
			free(q);
		else
			aq_abandon(u, q); /* its callback is on the way */
		return;
	}
	for (aquery *q = u->ready; q; q = q->rnext)
		if (q->token == token && q->u) {
			q->u = NULL; /* dropped when process() reaches it */
			return;
		}
}

static mt_status unbound_process(void *impl, uint64_t now_ms, mt_dns_deliver_fn deliver, void *arg)
{
	unbound_impl *u = impl;
	mt_status st = MT_OK;
	char why[512];

	if (u->nflight > 0 && ub_poll(u->ctx) && ub_process(u->ctx) != 0)
		return MT_EDNS;
	/* Out of time: the oldest questions are first. */
	while (u->first && u->first->deadline <= now_ms) {
		aquery *q = u->first;
		aq_unlink(u, q);
		if (ub_cancel(u->ctx, q->async_id) != 0) {
			/* Its callback is queued: let it free the question. */
			aquery *copy = calloc(1, sizeof *copy + strlen(q->name) + 1);
			if (copy)
				memcpy(copy, q, sizeof *copy + strlen(q->name) + 1);
			aq_abandon(u, q);
			if (!copy)
				return MT_ENOMEM;
			copy->abandoned = false;
			q = copy;
		}
		snprintf(why, sizeof why, "no answer for %s/%s within %u ms", q->name,
		         mt_dns_type_name(q->type) ? mt_dns_type_name(q->type) : "?", u->timeout_ms);
		q->st = answer_simple(MT_DNS_TIMEOUT, &q->ans, why);
		aq_ready(u, q);
	}
	while (u->ready) {
		aquery *q = u->ready;
		u->ready = q->rnext;
		if (!u->ready)
			u->ready_tail = &u->ready;
		if (q->u && q->st == MT_OK && q->ans)
			deliver(arg, q->token, q->ans);
		else if (q->u && st == MT_OK && q->st != MT_OK)
			st = q->st;
		mt_dns_answer_free(q->ans);
		free(q);
	}
	return st;
}

static int unbound_fd(void *impl)
{
	unbound_impl *u = impl;
	return ub_fd(u->ctx);
}

static uint64_t unbound_next_deadline(void *impl)
{
	unbound_impl *u = impl;
	if (u->ready)
		return 0;
	return u->first ? u->first->deadline : UINT64_MAX;
}

static const mt_dns_resolver_ops unbound_ops = {
	.resolve = unbound_resolve,
	.destroy = unbound_destroy,
	.submit = unbound_submit,
	.cancel = unbound_cancel,
	.process = unbound_process,
	.fd = unbound_fd,
	.next_deadline = unbound_next_deadline,
};

/* ---- internal helpers (dns/unbound_int.h) ---------------------------- */

unbound_impl *mt_dns_unbound_impl(mt_dns_resolver *res)
{
	return mt_dns_resolver_impl(res, &unbound_ops);
}

struct ub_ctx *mt_dns_unbound_ctx(unbound_impl *u)
{
	return u->ctx;
}

bool mt_dns_unbound_qname(const char *name, char *qname, size_t cap)
{
	size_t nlen;
	return mt_dns_name_check(name, strlen(name), &nlen) &&
	       escape_name(name, nlen, qname, cap);
}

mt_status mt_dns_unbound_convert(unbound_impl *u, const char *name, uint16_t type, int err,
                                 const struct ub_result *r, mt_dns_answer **out)
{
	char why[512];
	*out = NULL;
	if (err == UB_SYNTAX && !r) {
		snprintf(why, sizeof why, "invalid domain name \"%.300s\"", name);
		return answer_simple(MT_DNS_FAILURE, out, why);
	}
	if (err == UB_NOMEM)
		return MT_ENOMEM;
	if (err != 0 || !r) {
		snprintf(why, sizeof why, "libunbound failed for %s: %s", name, ub_strerror(err));
		return answer_simple(MT_DNS_FAILURE, out, why);
	}
	return fill_answer(u, name, type, r, out);
}

void mt_dns_unbound_options_init(mt_dns_unbound_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
	opts->timeout_ms = DEFAULT_TIMEOUT_MS;
}

/* Does the caller's options struct reach field f? */
#define HAS_FIELD(o, f) \
	((o)->size >= offsetof(mt_dns_unbound_options, f) + sizeof((o)->f))

/* What libunbound logged while it set the context up: its log goes to a
 * memory stream then, and nowhere afterwards. */
typedef struct ub_log {
	FILE *f;
	char *text;
	size_t len;
} ub_log;

static void log_begin(struct ub_ctx *ctx, ub_log *lg)
{
	lg->text = NULL;
	lg->len = 0;
	lg->f = open_memstream(&lg->text, &lg->len);
	ub_ctx_debugout(ctx, lg->f); /* NULL (no memory): nowhere */
}

static void log_end(struct ub_ctx *ctx, ub_log *lg)
{
	if (ctx)
		ub_ctx_debugout(ctx, NULL);
	if (lg->f)
		fclose(lg->f);
	lg->f = NULL;
}

/* The first max "error:" lines of the log (their text after "error: "),
 * joined by "; ", at most cap - 1 octets; "" when there are none. */
static const char *log_errors(ub_log *lg, size_t max, char *out, size_t cap)
{
	size_t lines = 0;
	size_t o = 0;
	const char *p, *end;
	if (lg->f)
		fflush(lg->f); /* text and len are updated by fflush */
	p = lg->text;
	end = lg->text ? lg->text + lg->len : NULL;
	out[0] = '\0';
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *e;
		size_t n;
		for (e = p; e + 7 <= le && memcmp(e, "error: ", 7) != 0; e++)
			;
		if (e + 7 <= le && lines++ < max) {
			e += 7;
			n = (size_t)(le - e);
			if (o && o + 2 < cap) {
				memcpy(out + o, "; ", 2);
				o += 2;
			}
			if (n > cap - 1 - o)
				n = cap - 1 - o;
			for (size_t i = 0; i < n; i++)
				out[o++] = (e[i] >= 0x20 && e[i] < 0x7f) ? e[i] : '?';
			out[o] = '\0';
		}
		p = nl ? nl + 1 : end;
	}
	return out;
}

static mt_status ub_fail(mt_error *err, ub_log *lg, int rc, const char *what,
                         const char *arg)
{
	char logged[384];
	mt_status st = rc == UB_NOMEM ? MT_ENOMEM : rc == UB_SYNTAX || rc == UB_READFILE
	             ? MT_EINVAL : MT_EDNS;
	log_errors(lg, 3, logged, sizeof logged);
	return mt_error_set(err, st, "libunbound: %s%s%s: %s", what, arg ? " " : "",
	                    arg ? arg : "", logged[0] ? logged : ub_strerror(rc));
}

#define TRUST_ANCHOR_MAX ((size_t)1 << 20)

static bool is_class(const char *t, size_t n)
{
	return mt_strcaseeq(t, n, "IN", 2) || mt_strcaseeq(t, n, "CH", 2) ||
	       mt_strcaseeq(t, n, "HS", 2) || (n > 5 && mt_strcaseeq(t, 5, "CLASS", 5));
}

/*
 * Is path a trust anchor libunbound can read: a regular file of DS and
 * DNSKEY records in master-file form?  Checked line by line (comments,
 * $ORIGIN/$TTL, parentheses); the first line of each record must give,
 * after its owner (unless inherited), TTL and class, the type DS or
 * DNSKEY, and there must be one such record.
 * libunbound spins on a directory and prints its own complaints about the
 * rest, so nothing else reaches it.
 */
static mt_status check_trust_anchor(const char *path, mt_error *err)
{
	struct stat sb;
	char *text = NULL;
	size_t len = 0, pos = 0, records = 0;
	unsigned line = 0;
	int depth = 0;
	mt_status st = MT_OK;
	FILE *f = NULL;

	if (stat(path, &sb) != 0)
		return mt_error_set(err, MT_EIO, "trust anchor %s: %s", path, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return mt_error_set(err, MT_EIO, "trust anchor %s: is a directory, not a file",
		                    path);
	if (!S_ISREG(sb.st_mode))
		return mt_error_set(err, MT_EIO, "trust anchor %s: not a regular file", path);
	if ((size_t)sb.st_size > TRUST_ANCHOR_MAX)
		return mt_error_set(err, MT_ESYNTAX,
		                    "trust anchor %s: larger than 1 MiB: not a trust anchor file", path);
	f = fopen(path, "rb");
	if (!f)
		return mt_error_set(err, MT_EIO, "trust anchor %s: %s", path, strerror(errno));
	text = malloc(TRUST_ANCHOR_MAX + 1);
	if (!text) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	len = fread(text, 1, TRUST_ANCHOR_MAX + 1, f);
	if (ferror(f)) {
		st = mt_error_set(err, MT_EIO, "trust anchor %s: %s", path, strerror(errno));
		goto out;
	}
	if (len > TRUST_ANCHOR_MAX) {
		st = mt_error_set(err, MT_ESYNTAX,
		                  "trust anchor %s: larger than 1 MiB: not a trust anchor file", path);
		goto out;
	}
	while (pos < len) {
		const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos, i = 0, k = 0;
		const char *tok[4];
		size_t tlen[4];
		bool blank = n > 0 && (p[0] == ' ' || p[0] == '\t');
		bool cont = depth > 0; /* inside a record's parentheses */
		pos += n + (nl ? 1 : 0);
		line++;
		/* the first four fields, outside comments; parentheses counted */
		while (i < n && p[i] != ';') {
			unsigned char c = (unsigned char)p[i];
			if (c == 0 || (c < 0x20 && c != '\t' && c != '\r') || c >= 0x7f) {
				st = mt_error_set(err, MT_ESYNTAX,
				                  "trust anchor %s:%u: not text (octet 0x%02X): not a file "
				                  "of DS or DNSKEY records", path, line, c);
				goto out;
			}
			if (c == ' ' || c == '\t' || c == '\r') {
				i++;
				continue;
			}
			if (c == '(' || c == ')') {
				depth += c == '(' ? 1 : -1;
				if (depth < 0 || depth > 1) {
					st = mt_error_set(err, MT_ESYNTAX,
					                  "trust anchor %s:%u: unbalanced parentheses", path,
					                  line);
					goto out;
				}
				i++;
				continue;
			}
			size_t s0 = i;
			while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != ';' &&
			       p[i] != '(' && p[i] != ')' && (unsigned char)p[i] >= 0x20 &&
			       (unsigned char)p[i] < 0x7f)
				i++;
			if (k < 4 && !cont) {
				tok[k] = p + s0;
				tlen[k++] = i - s0;
			}
		}
		if (k == 0)
			continue;
		if (tok[0][0] == '$') {
			if (!mt_strcaseeq(tok[0], tlen[0], "$ORIGIN", 7) &&
			    !mt_strcaseeq(tok[0], tlen[0], "$TTL", 4)) {
				st = mt_error_set(err, MT_ESYNTAX, "trust anchor %s:%u: unsupported %.*s",
				                  path, line, (int)(tlen[0] > 20 ? 20 : tlen[0]), tok[0]);
				goto out;
			}
			continue;
		}
		/* owner [TTL] [class] type, or [class] [TTL] */
		{
			size_t t = blank ? 0 : 1;
			for (int r = 0; r < 2 && t < k; r++)
				if (mt_is_digit((unsigned char)tok[t][0]) || is_class(tok[t], tlen[t]))
					t++;
			if (t >= k || (!mt_strcaseeq(tok[t], tlen[t], "DS", 2) &&
			               !mt_strcaseeq(tok[t], tlen[t], "DNSKEY", 6))) {
				st = mt_error_set(err, MT_ESYNTAX,
				                  "trust anchor %s:%u: not a DS or DNSKEY record", path,
				                  line);
				goto out;
			}
			records++;
		}
	}
	if (depth != 0)
		st = mt_error_set(err, MT_ESYNTAX, "trust anchor %s:%u: '(' without ')'", path, line);
	else if (records == 0)
		st = mt_error_set(err, MT_ESYNTAX, "trust anchor %s: no DS or DNSKEY record", path);
out:
	free(text);
	fclose(f);
	return st;
}

/* Ports for outgoing queries: 8192, or fewer so that 256 descriptors of
 * the process's open-file limit stay free. */
static unsigned outgoing_range(void)
{
	struct rlimit rl;
	unsigned range = 8192;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)range + 256)
		range = rl.rlim_cur > 256 + 16 ? (unsigned)(rl.rlim_cur - 256) : 16;
	return range;
}

/* One "key: value" line for ub_ctx_set_option(). */
static mt_status set_option_line(struct ub_ctx *ctx, ub_log *lg, const char *line,
                                 mt_error *err)
{
	char key[128], logged[256];
	const char *colon = line ? strchr(line, ':') : NULL, *v;
	size_t klen;
	int rc;
	if (!colon)
		return mt_error_set(err, MT_EINVAL, "libunbound option '%.100s': not 'key: value'",
		                    line ? line : "(null)");
	while (*line == ' ' || *line == '\t')
		line++;
	klen = (size_t)(colon - line);
	while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
		klen--;
	if (klen == 0 || klen + 2 > sizeof key)
		return mt_error_set(err, MT_EINVAL, "libunbound option '%.100s': bad key", line);
	memcpy(key, line, klen);
	key[klen] = ':';
	key[klen + 1] = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	rc = ub_ctx_set_option(ctx, key, v);
	if (rc == 0)
		return MT_OK;
	log_errors(lg, 3, logged, sizeof logged);
	return mt_error_set(err, rc == UB_NOMEM ? MT_ENOMEM : MT_EINVAL,
	                    "libunbound option '%.100s': %s", line,
	                    logged[0] ? logged : "unknown option or bad value");
}

static mt_status set_size(struct ub_ctx *ctx, ub_log *lg, const char *key, size_t v,
                          mt_error *err)
{
	char line[96];
	if (v == 0)
		return MT_OK;
	snprintf(line, sizeof line, "%s: %zu", key, v);
	return set_option_line(ctx, lg, line, err);
}

/*
 * Is s "ADDR" or "ADDR@PORT", ADDR an IPv4 or IPv6 address and PORT a
 * decimal number from 1 to 65535?  libunbound takes a bad port without a
 * word and then fails every question with SERVFAIL.
 */
static bool forwarder_ok(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t alen = at ? (size_t)(at - s) : strlen(s);
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	unsigned long port = 0;

	if (alen == 0 || alen >= sizeof addr)
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
		return false;
	if (!at)
		return true;
	if (at[1] == '\0' || strlen(at + 1) > 5)
		return false;
	for (const char *p = at + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return port >= 1 && port <= 65535;
}

mt_status mt_dns_unbound_resolver_new(const mt_dns_unbound_options *opts,
                                      mt_dns_resolver **out, mt_error *err)
{
	mt_dns_unbound_options defaults;
	unbound_impl *u = NULL;
	mt_dns_resolver *res = NULL;
	mt_status st = MT_OK;
	ub_log lg = {NULL, NULL, 0};
	int rc;
	char zone[128], num[32];

	if (!out)
		return mt_error_set(err, MT_EINVAL, "no place for the resolver");
	*out = NULL;
	if (!opts) {
		mt_dns_unbound_options_init(&defaults);
		opts = &defaults;
	}
	if (opts->size < offsetof(mt_dns_unbound_options, msg_cache_size))
		return mt_error_set(err, MT_EINVAL,
		                    "options not set up by mt_dns_unbound_options_init()");
	if (opts->forwarder && !forwarder_ok(opts->forwarder))
		return mt_error_set(err, MT_EINVAL,
		                    "'%.80s' is not ADDR or ADDR@PORT (an IPv4 or IPv6 address, a port "
		                    "from 1 to 65535)", opts->forwarder);
	if (opts->dnssec) {
		/* before libunbound sees it: it spins on a directory */
		st = check_trust_anchor(opts->trust_anchor_file ? opts->trust_anchor_file
		                                                : DEFAULT_TRUST_ANCHOR, err);
		if (st != MT_OK)
			return st;
	}
	u = calloc(1, sizeof *u);
	if (!u) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	u->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	u->ready_tail = &u->ready;
	u->dnssec = opts->dnssec;
	u->ctx = ub_ctx_create();
	if (!u->ctx) {
		st = mt_error_set(err, MT_ENOMEM, "libunbound: cannot create a context");
		goto out;
	}
	log_begin(u->ctx, &lg);
	/* A thread, not a forked process, does the background work. */
	if ((rc = ub_ctx_async(u->ctx, 1)) != 0) {
		st = ub_fail(err, &lg, rc, "async", NULL);
		goto out;
	}
	if (opts->config_file) {
		/* Checked first: libunbound would print its complaint on stderr. */
		struct stat sb;
		FILE *f = NULL;
		if (stat(opts->config_file, &sb) == 0 && !S_ISREG(sb.st_mode)) {
			st = mt_error_set(err, MT_EINVAL, "cannot read %s: not a regular file",
			                  opts->config_file);
			goto out;
		}
		f = fopen(opts->config_file, "r");
		if (!f) {
			st = mt_error_set(err, MT_EINVAL, "cannot read %s: %s", opts->config_file,
			                  strerror(errno));
			goto out;
		}
		fclose(f);
		if ((rc = ub_ctx_config(u->ctx, opts->config_file)) != 0) {
			st = ub_fail(err, &lg, rc, "reading", opts->config_file);
			goto out;
		}
	}
	for (size_t i = 0; i < sizeof reverse_zones / sizeof reverse_zones[0] + 64; i++) {
		/* "nodefault" is not honoured through ub_ctx_set_option in
		 * libunbound 1.17; "transparent" without data has the effect. */
		if (i < sizeof reverse_zones / sizeof reverse_zones[0])
			snprintf(zone, sizeof zone, "%s transparent", reverse_zones[i]);
		else /* RFC 6598: 100.64.0.0/10 */
			snprintf(zone, sizeof zone, "%zu.100.in-addr.arpa. transparent",
			         i - sizeof reverse_zones / sizeof reverse_zones[0] + 64);
		if ((rc = ub_ctx_set_option(u->ctx, "local-zone:", zone)) != 0) {
			st = ub_fail(err, &lg, rc, "local-zone", zone);
			goto out;
		}
	}
	if (!opts->recursive) {
		for (size_t i = 0; i < sizeof forwarded_special / sizeof forwarded_special[0]; i++) {
			snprintf(zone, sizeof zone, "%s transparent", forwarded_special[i]);
			if ((rc = ub_ctx_set_option(u->ctx, "local-zone:", zone)) != 0) {
				st = ub_fail(err, &lg, rc, "local-zone", zone);
				goto out;
			}
		}
		if (opts->forwarder)
			rc = ub_ctx_set_fwd(u->ctx, opts->forwarder);
		else
			rc = ub_ctx_resolvconf(u->ctx, NULL);
		if (rc != 0) {
			st = ub_fail(err, &lg, rc, opts->forwarder ? "forwarder" : "reading",
			             opts->forwarder ? opts->forwarder : "/etc/resolv.conf");
			goto out;
		}
	}
	/* Concurrency against slow servers (see dns.h). */
	snprintf(num, sizeof num, "%u", outgoing_range());
	if ((rc = ub_ctx_set_option(u->ctx, "outgoing-range:", num)) != 0) {
		st = ub_fail(err, &lg, rc, "outgoing-range", num);
		goto out;
	}
	if ((rc = ub_ctx_set_option(u->ctx, "unknown-server-time-limit:", "3000")) != 0) {
		st = ub_fail(err, &lg, rc, "unknown-server-time-limit", "3000");
		goto out;
	}
	if (opts->dnssec) {
		const char *ta = opts->trust_anchor_file ? opts->trust_anchor_file
		                                         : DEFAULT_TRUST_ANCHOR;
		if ((rc = ub_ctx_add_ta_file(u->ctx, ta)) != 0) {
			st = ub_fail(err, &lg, rc, "trust anchor", ta);
			goto out;
		}
	} else if ((rc = ub_ctx_set_option(u->ctx, "module-config:", "iterator")) != 0) {
		st = ub_fail(err, &lg, rc, "module-config", NULL);
		goto out;
	}
	if (HAS_FIELD(opts, rrset_cache_size)) {
		st = set_size(u->ctx, &lg, "msg-cache-size", opts->msg_cache_size, err);
		if (st == MT_OK)
			st = set_size(u->ctx, &lg, "rrset-cache-size", opts->rrset_cache_size, err);
		if (st != MT_OK)
			goto out;
	}
	if (HAS_FIELD(opts, n_unbound_options) && opts->n_unbound_options) {
		if (!opts->unbound_options) {
			st = mt_error_set(err, MT_EINVAL, "n_unbound_options without unbound_options");
			goto out;
		}
		for (size_t i = 0; i < opts->n_unbound_options; i++) {
			st = set_option_line(u->ctx, &lg, opts->unbound_options[i], err);
			if (st != MT_OK)
				goto out;
		}
	}
	/*
	 * Set the context up now (modules, trust anchors, local zones), not
	 * at the first question: what goes wrong is reported here, with what
	 * libunbound logged.  Printing the local zones is the public call that
	 * does it; the listing goes to the log.
	 */
	if ((rc = ub_ctx_print_local_zones(u->ctx)) != 0) {
		char logged[384], all[512];
		log_errors(&lg, 1, logged, sizeof logged);
		log_errors(&lg, 5, all, sizeof all);
		if (opts->dnssec && strstr(all, "trust"))
			st = mt_error_set(err, MT_ESYNTAX, "trust anchor %s: libunbound cannot use it: %s",
			                  opts->trust_anchor_file ? opts->trust_anchor_file
			                                          : DEFAULT_TRUST_ANCHOR,
			                  logged[0] ? logged : ub_strerror(rc));
		else
			st = ub_fail(err, &lg, rc, "setting up", NULL);
		goto out;
	}
	res = mt_dns_resolver_new(&unbound_ops, u);
	if (!res) {
		st = mt_error_set(err, MT_ENOMEM, "out of memory");
		goto out;
	}
	*out = res;
out:
	log_end(u ? u->ctx : NULL, &lg);
	free(lg.text);
	if (!res)
		unbound_destroy(u);
	return st;
}
