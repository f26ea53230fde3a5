/* mailtrust-policyd: the policy protocol's requests and answers (no I/O). */
#include "policy.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

void pd_request_reset(pd_request *r)
{
	memset(r, 0, sizeof(*r));
}

static pd_line_result bad(pd_request *r, const char *why)
{
	if (!r->bad)
		snprintf(r->why, sizeof r->why, "%s", why);
	r->bad = true;
	return PD_LINE_BAD;
}

/* Copy a value that must fit; false when it does not or holds a NUL. */
static bool take(char *dst, size_t cap, const char *v, size_t len)
{
	if (len >= cap || memchr(v, '\0', len))
		return false;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return true;
}

pd_line_result pd_request_line(pd_request *r, const char *line, size_t len)
{
	static const struct {
		const char *name;
		size_t off, cap;
	} known[] = {
		{ "request", offsetof(pd_request, request), sizeof(((pd_request *)0)->request) },
		{ "protocol_state", offsetof(pd_request, protocol_state),
		  sizeof(((pd_request *)0)->protocol_state) },
		{ "client_address", offsetof(pd_request, client_address), PD_ADDR_CAP },
		{ "helo_name", offsetof(pd_request, helo_name), PD_NAME_CAP },
		{ "sender", offsetof(pd_request, sender), PD_SENDER_CAP },
		{ "sasl_username", offsetof(pd_request, sasl_username), PD_NAME_CAP },
		{ "instance", offsetof(pd_request, instance), PD_NAME_CAP },
	};
	const char *eq;
	size_t nlen;
	char why[128];

	if (r->bad)
		return PD_LINE_BAD;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return PD_LINE_END;
	if (len > PD_MAX_LINE)
		return bad(r, "line too long");
	if (++r->attrs > PD_MAX_ATTRS)
		return bad(r, "too many attributes in one request");
	eq = memchr(line, '=', len);
	if (!eq)
		return bad(r, "a line without '='");
	nlen = (size_t)(eq - line);
	if (nlen == 0)
		return bad(r, "an attribute without a name");
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strlen(known[i].name) != nlen || memcmp(known[i].name, line, nlen) != 0)
			continue;
		if (!take((char *)r + known[i].off, known[i].cap, eq + 1, len - nlen - 1)) {
			snprintf(why, sizeof why, "attribute %s: value longer than %zu octets or holding a NUL",
			         known[i].name, known[i].cap - 1);
			return bad(r, why);
		}
		break;
	}
	return PD_LINE_MORE;
}

bool pd_request_usable(pd_request *r)
{
	if (r->bad)
		return false;
	if (strcmp(r->request, "smtpd_access_policy") != 0) {
		snprintf(r->why, sizeof r->why, "request is not smtpd_access_policy");
		return false;
	}
	if (!r->client_address[0]) {
		snprintf(r->why, sizeof r->why, "no client_address");
		return false;
	}
	return true;
}

void pd_config_init(pd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->skip_localhost = true;
	c->temperror = PD_TEMP_DEFER;
}

/* Parse an address (IPv4-mapped IPv6 as IPv4) into family and 16 octets. */
static bool parse_addr(const char *s, int *family, unsigned char *a)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *pct = strchr(s, '%');
	size_t len = pct ? (size_t)(pct - s) : strlen(s);

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, a) != 1)
		return false;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(a, mapped, 12) == 0) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		*family = AF_INET;
	} else {
		*family = AF_INET6;
	}
	return true;
}

bool pd_config_add_trusted(pd_config *c, const char *cidr)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	struct pd_net n;
	unsigned long prefix;
	char *end;

	if (c->n_trusted >= sizeof c->trusted / sizeof c->trusted[0] || strlen(cidr) >= sizeof buf)
		return false;
	snprintf(buf, sizeof buf, "%s", cidr);
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	if (!parse_addr(buf, &n.family, n.addr) || strchr(buf, '%'))
		return false;
	prefix = n.family == AF_INET ? 32 : 128;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end || prefix > (n.family == AF_INET ? 32u : 128u))
			return false;
	}
	n.prefix = (unsigned)prefix;
	c->trusted[c->n_trusted++] = n;
	return true;
}

static bool in_net(const struct pd_net *n, int family, const unsigned char *a)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != family)
		return false;
	if (memcmp(n->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (n->addr[full] & mask) == (a[full] & mask);
}

const char *pd_skip_reason(const pd_config *c, const pd_request *r)
{
	int family;
	unsigned char a[16];

	if (r->sasl_username[0])
		return "authenticated";
	if (!parse_addr(r->client_address, &family, a))
		return NULL; /* the check says what is wrong with it */
	if (c->skip_localhost) {
		static const unsigned char v6lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
		if ((family == AF_INET && a[0] == 127) || (family == AF_INET6 && !memcmp(a, v6lo, 16)))
			return "localhost";
	}
	for (size_t i = 0; i < c->n_trusted; i++)
		if (in_net(&c->trusted[i], family, a))
			return "trusted network";
	return NULL;
}

/* Append s to out (one line: control characters become spaces), cut at cap. */
static void put(char *out, size_t cap, size_t *len, const char *s)
{
	for (; s && *s && *len + 1 < cap; s++)
		out[(*len)++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
	out[*len] = '\0';
}

void pd_action(const pd_config *c, const mt_spf_outcome *oc, const char *received_spf,
               char *out, size_t cap, bool *rejects)
{
	size_t len = 0;
	const char *dom = oc->domain && oc->domain[0] ? oc->domain : "(no domain)";

	if (cap == 0)
		return;
	out[0] = '\0';
	*rejects = true;
	switch (oc->result) {
	case MT_SPF_FAIL:
		if (!c->reject_fail)
			break;
		put(out, cap, &len, "550 5.7.23 SPF fail: ");
		if (oc->explanation && oc->explanation[0]) {
			put(out, cap, &len, oc->explanation);
		} else {
			put(out, cap, &len, oc->ip);
			put(out, cap, &len, " may not send mail for ");
			put(out, cap, &len, dom);
		}
		return;
	case MT_SPF_TEMPERROR:
		if (c->temperror == PD_TEMP_ACCEPT)
			break;
		put(out, cap, &len, c->temperror == PD_TEMP_DEFER ? "451 4.7.24 " : "DEFER_IF_PERMIT 4.7.24 ");
		put(out, cap, &len, "SPF temperror for ");
		put(out, cap, &len, dom);
		put(out, cap, &len, ": ");
		put(out, cap, &len, oc->problem ? oc->problem : "DNS error");
		return;
	case MT_SPF_PERMERROR:
		if (!c->reject_permerror)
			break;
		put(out, cap, &len, "550 5.7.24 SPF permerror for ");
		put(out, cap, &len, dom);
		put(out, cap, &len, ": ");
		put(out, cap, &len, oc->problem ? oc->problem : "bad SPF record");
		return;
	default:
		break;
	}
	*rejects = false;
	put(out, cap, &len, "PREPEND ");
	put(out, cap, &len, received_spf);
}
