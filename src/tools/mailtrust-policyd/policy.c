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

bool pd_config_add_trusted(pd_config *c, const char *cidr)
{
	if (c->n_trusted >= sizeof c->trusted / sizeof c->trusted[0] ||
	    !tool_net_parse(cidr, strlen(cidr), &c->trusted[c->n_trusted]))
		return false;
	c->n_trusted++;
	return true;
}

const char *pd_skip_reason(const pd_config *c, const pd_request *r)
{
	int family;
	uint8_t a[16];

	if (r->sasl_username[0])
		return "authenticated";
	if (!tool_addr_parse(r->client_address, &family, a))
		return NULL; /* the check says what is wrong with it */
	if (c->skip_localhost) {
		static const unsigned char v6lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
		if ((family == 4 && a[0] == 127) || (family == 6 && !memcmp(a, v6lo, 16)))
			return "localhost";
	}
	for (size_t i = 0; i < c->n_trusted; i++)
		if (tool_net_contains(&c->trusted[i], family, a))
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
