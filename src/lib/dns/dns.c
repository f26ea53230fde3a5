/* DNS answers, record text forms and the resolver wrapper. */
#include "dns/dns_internal.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names of things ---- */

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{MT_DNS_A, "A"},     {MT_DNS_NS, "NS"},   {MT_DNS_CNAME, "CNAME"},
	{MT_DNS_SOA, "SOA"}, {MT_DNS_PTR, "PTR"}, {MT_DNS_MX, "MX"},
	{MT_DNS_TXT, "TXT"}, {MT_DNS_AAAA, "AAAA"}, {MT_DNS_SPF, "SPF"},
};

const char *mt_dns_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return NULL;
}

uint16_t mt_dns_type_from_name(const char *name, size_t len)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
		const char *n = type_names[i].name;
		if (mt_strcaseeq(name, len, n, strlen(n)))
			return type_names[i].type;
	}
	/* RFC 3597 generic form: TYPE followed by a decimal number. */
	if (len > 4 && len <= 9 && mt_strcaseeq(name, 4, "TYPE", 4)) {
		uint32_t v = 0;
		for (size_t i = 4; i < len; i++) {
			if (!mt_is_digit((unsigned char)name[i]))
				return 0;
			v = v * 10 + (uint32_t)(name[i] - '0');
		}
		if (name[4] == '0' || v > 65535)
			return 0;
		return (uint16_t)v;
	}
	return 0;
}

const char *mt_dns_rcode_name(mt_dns_rcode rcode)
{
	switch (rcode) {
	case MT_DNS_NOERROR: return "NOERROR";
	case MT_DNS_NXDOMAIN: return "NXDOMAIN";
	case MT_DNS_SERVFAIL: return "SERVFAIL";
	case MT_DNS_REFUSED: return "REFUSED";
	case MT_DNS_TIMEOUT: return "TIMEOUT";
	case MT_DNS_FAILURE: return "FAILURE";
	}
	return "UNKNOWN";
}

const char *mt_dnssec_state_name(mt_dnssec_state state)
{
	switch (state) {
	case MT_DNSSEC_UNCHECKED: return "unchecked";
	case MT_DNSSEC_INSECURE: return "insecure";
	case MT_DNSSEC_SECURE: return "secure";
	case MT_DNSSEC_BOGUS: return "bogus";
	}
	return "unknown";
}

bool mt_dns_name_check(const char *s, size_t len, size_t *outlen)
{
	size_t label = 0;
	if (!s)
		return false;
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len > MT_DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			return false;
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > MT_DNS_LABEL_MAX) {
			return false;
		}
	}
	if (len > 0 && label == 0)
		return false;
	*outlen = len;
	return true;
}

/* ---- answers ---- */

/* The public answer is the first member, so the two pointers convert. */
struct answer {
	mt_dns_answer pub;
	mt_dns_rr *rrs;
	size_t cap;
	char *why;
	char *canonical;
};

mt_dns_answer *mt_dns_answer_new(mt_dns_rcode rcode)
{
	struct answer *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->pub.rcode = rcode;
	a->pub.dnssec = MT_DNSSEC_UNCHECKED;
	return &a->pub;
}

mt_status mt_dns_answer_add(mt_dns_answer *ans, uint16_t type, uint32_t ttl, uint16_t pref,
                            const void *data, size_t len)
{
	struct answer *a = (struct answer *)ans;
	uint8_t *copy;
	if (!a || (!data && len))
		return MT_EINVAL;
	if (a->pub.count >= MT_DNS_RR_MAX || len > MT_DNS_RDATA_MAX)
		return MT_ERANGE;
	if (a->pub.count == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 4;
		mt_dns_rr *n = realloc(a->rrs, ncap * sizeof *n);
		if (!n)
			return MT_ENOMEM;
		a->rrs = n;
		a->cap = ncap;
		a->pub.rr = n;
	}
	copy = malloc(len + 1);
	if (!copy)
		return MT_ENOMEM;
	if (len)
		memcpy(copy, data, len);
	copy[len] = '\0';
	a->rrs[a->pub.count] = (mt_dns_rr){.type = type, .pref = pref, .ttl = ttl, .len = len,
	                                   .data = copy};
	a->pub.count++;
	return MT_OK;
}

static mt_status replace_string(char **slot, const char **pub, const char *s)
{
	char *copy = NULL;
	if (s) {
		size_t n = strlen(s);
		copy = malloc(n + 1);
		if (!copy)
			return MT_ENOMEM;
		memcpy(copy, s, n + 1);
	}
	free(*slot);
	*slot = copy;
	*pub = copy;
	return MT_OK;
}

mt_status mt_dns_answer_set_why(mt_dns_answer *ans, const char *why)
{
	struct answer *a = (struct answer *)ans;
	if (!a)
		return MT_EINVAL;
	return replace_string(&a->why, &a->pub.why, why);
}

mt_status mt_dns_answer_set_canonical(mt_dns_answer *ans, const char *name)
{
	struct answer *a = (struct answer *)ans;
	if (!a)
		return MT_EINVAL;
	return replace_string(&a->canonical, &a->pub.canonical_name, name);
}

void mt_dns_answer_free(mt_dns_answer *ans)
{
	struct answer *a = (struct answer *)ans;
	if (!a)
		return;
	for (size_t i = 0; i < a->pub.count; i++)
		free((void *)a->rrs[i].data);
	free(a->rrs);
	free(a->why);
	free(a->canonical);
	free(a);
}

/* ---- text forms ---- */

size_t mt_dns_txt_join(const uint8_t *rdata, size_t len, char *out, size_t cap)
{
	size_t pos = 0, total = 0;
	while (rdata && pos < len) {
		size_t n = rdata[pos++];
		if (n > len - pos)
			break;
		for (size_t i = 0; i < n; i++, total++)
			if (out && cap && total < cap - 1)
				out[total] = (char)rdata[pos + i];
		pos += n;
	}
	if (out && cap)
		out[total < cap - 1 ? total : cap - 1] = '\0';
	return total;
}

bool mt_dns_txt_check(const uint8_t *d, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		size_t n = d[pos++];
		if (n > len - pos)
			return false;
		pos += n;
	}
	return true;
}

/* RFC 3597 generic form: \# length hex */
static void put_generic(mt_buf *b, const mt_dns_rr *rr)
{
	mt_buf_printf(b, "\\# %zu", rr->len);
	if (rr->len)
		mt_buf_putc(b, ' ');
	for (size_t i = 0; i < rr->len; i++)
		mt_buf_printf(b, "%02x", rr->data[i]);
}

static void put_txt(mt_buf *b, const mt_dns_rr *rr)
{
	size_t pos = 0;
	if (rr->len == 0) {
		mt_buf_puts(b, "\"\"");
		return;
	}
	while (pos < rr->len) {
		size_t n = rr->data[pos++];
		if (pos > 1)
			mt_buf_putc(b, ' ');
		mt_buf_putc(b, '"');
		for (size_t i = 0; i < n; i++) {
			uint8_t c = rr->data[pos + i];
			if (c == '"' || c == '\\')
				mt_buf_printf(b, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				mt_buf_printf(b, "\\%03u", c);
			else
				mt_buf_putc(b, (char)c);
		}
		mt_buf_putc(b, '"');
		pos += n;
	}
}

static void put_name(mt_buf *b, const mt_dns_rr *rr)
{
	if (rr->len == 0)
		mt_buf_putc(b, '.');
	else
		mt_buf_append(b, rr->data, rr->len);
}

char *mt_dns_rr_to_text(const mt_dns_rr *rr)
{
	mt_buf b;
	char ip[64];
	if (!rr || (!rr->data && rr->len))
		return NULL;
	/* Every form is bounded by 4 output octets per input octet. */
	mt_buf_init(&b, 4 * (size_t)MT_DNS_RDATA_MAX + 64);
	switch (rr->type) {
	case MT_DNS_A:
	case MT_DNS_AAAA:
		if (rr->len == (rr->type == MT_DNS_A ? 4u : 16u) &&
		    inet_ntop(rr->type == MT_DNS_A ? AF_INET : AF_INET6, rr->data, ip, sizeof ip))
			mt_buf_puts(&b, ip);
		else
			put_generic(&b, rr);
		break;
	case MT_DNS_MX:
		mt_buf_printf(&b, "%u ", (unsigned)rr->pref);
		put_name(&b, rr);
		break;
	case MT_DNS_NS:
	case MT_DNS_CNAME:
	case MT_DNS_PTR:
		put_name(&b, rr);
		break;
	case MT_DNS_TXT:
	case MT_DNS_SPF:
		if (mt_dns_txt_check(rr->data, rr->len))
			put_txt(&b, rr);
		else
			put_generic(&b, rr);
		break;
	default:
		put_generic(&b, rr);
		break;
	}
	return mt_buf_take(&b);
}

/* ---- resolvers ---- */

struct mt_dns_resolver {
	const mt_dns_resolver_ops *ops;
	void *impl;
};

mt_dns_resolver *mt_dns_resolver_new(const mt_dns_resolver_ops *ops, void *impl)
{
	mt_dns_resolver *r;
	if (!ops || !ops->resolve)
		return NULL;
	r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->ops = ops;
	r->impl = impl;
	return r;
}

void *mt_dns_resolver_impl(const mt_dns_resolver *res, const mt_dns_resolver_ops *ops)
{
	return res && res->ops == ops ? res->impl : NULL;
}

void mt_dns_resolver_free(mt_dns_resolver *res)
{
	if (!res)
		return;
	if (res->ops->destroy)
		res->ops->destroy(res->impl);
	free(res);
}

mt_status mt_dns_resolve(mt_dns_resolver *res, const char *name, uint16_t type,
                         unsigned timeout_ms, mt_dns_answer **out)
{
	mt_dns_answer *ans = NULL;
	mt_status st;
	if (out)
		*out = NULL;
	if (!res || !name || !out)
		return MT_EINVAL;
	st = res->ops->resolve(res->impl, name, type, timeout_ms, &ans);
	if (st != MT_OK) {
		mt_dns_answer_free(ans);
		return st;
	}
	if (!ans)
		return MT_EDNS;
	*out = ans;
	return MT_OK;
}
