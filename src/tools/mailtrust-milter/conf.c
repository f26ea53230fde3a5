/* mailtrust-milter configuration file parser (see conf.h). */
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void errf(char *err, size_t cap, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void errf(char *err, size_t cap, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!err || cap == 0)
		return;
	if (line)
		n = snprintf(err, cap, "line %u: ", line);
	if (n < 0 || (size_t)n >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
}

void mtm_conf_init(mtm_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->dns_contexts = 4;
	c->dns_timeout_ms = 5000;
	c->dmarc_action = MTM_DMARC_REJECT;
	c->dns_failure = MTM_DNSFAIL_ACCEPT;
	tool_net_parse("127.0.0.0/8", 11, &c->nets[0]);
	tool_net_parse("::1", 3, &c->nets[1]);
	c->nnets = 2;
}

void mtm_conf_free(mtm_conf *c)
{
	if (!c)
		return;
	free(c->authserv_id);
	free(c->socket);
	free(c->user);
	free(c->resolver);
	for (size_t i = 0; i < c->nsign; i++) {
		free(c->sign[i].domain);
		free(c->sign[i].selector);
		free(c->sign[i].keyfile);
	}
	memset(c, 0, sizeof(*c));
}

/* A word: the bytes up to the next space or tab. */
typedef struct word {
	const char *p;
	size_t len;
} word;

static size_t split(const char *p, size_t len, word *w, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len) {
		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i >= len)
			break;
		size_t s = i;
		while (i < len && p[i] != ' ' && p[i] != '\t')
			i++;
		if (n < max) {
			w[n].p = p + s;
			w[n].len = i - s;
		}
		n++;
	}
	return n;
}

static bool weq(const word *w, const char *s)
{
	size_t n = strlen(s);
	return w->len == n && memcmp(w->p, s, n) == 0;
}

static char *wdup(const word *w)
{
	char *s = malloc(w->len + 1);
	if (s) {
		memcpy(s, w->p, w->len);
		s[w->len] = '\0';
	}
	return s;
}

bool mtm_conf_trusted(const mtm_conf *c, int family, const uint8_t *addr)
{
	uint8_t a[16] = {0};

	memcpy(a, addr, family == 4 ? 4 : 16);
	tool_addr_unmap(&family, a); /* an IPv4-mapped IPv6 address is IPv4 */
	for (size_t i = 0; i < c->nnets; i++)
		if (tool_net_contains(&c->nets[i], family, a))
			return true;
	return false;
}

/* A DNS name as a signing domain: letters, digits, '-', '_' and dots,
 * labels of 1 to 63 octets, at most 253 octets; lowercased copy. */
static char *domain_dup(const word *w)
{
	size_t len = w->len;
	size_t label = 0;

	if (len > 0 && w->p[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = w->p[i];
		if (ch == '.') {
			if (label == 0)
				return NULL;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return NULL;
		if (++label > 63)
			return NULL;
	}
	if (label == 0)
		return NULL;
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = w->p[i];
		s[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	s[len] = '\0';
	return s;
}

static bool parse_uint(const word *w, unsigned long lo, unsigned long hi, unsigned *out)
{
	unsigned long v = 0;

	if (w->len == 0 || w->len > 9)
		return false;
	for (size_t i = 0; i < w->len; i++) {
		if (w->p[i] < '0' || w->p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(w->p[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool set_str(char **dst, const word *w)
{
	char *s = wdup(w);
	if (!s)
		return false;
	free(*dst);
	*dst = s;
	return true;
}

#define MAXW 16

/* One line (without its end); 0 or -1 with err set. */
static int parse_line(const char *p, size_t len, unsigned line, mtm_conf *c, bool *nets_set,
                      char *err, size_t cap)
{
	word w[MAXW];
	size_t n = split(p, len, w, MAXW);

	if (n == 0 || w[0].p[0] == '#')
		return 0;
	if (n > MAXW) {
		errf(err, cap, line, "too many words (at most %d)", MAXW);
		return -1;
	}
	const word *k = &w[0];
	size_t nv = n - 1;

#define ONE_VALUE()                                                                   \
	do {                                                                          \
		if (nv != 1) {                                                        \
			errf(err, cap, line, "%.*s takes one value", (int)k->len, k->p); \
			return -1;                                                    \
		}                                                                     \
	} while (0)

	if (weq(k, "authserv-id")) {
		ONE_VALUE();
		if (w[1].len > 255) {
			errf(err, cap, line, "authserv-id is longer than 255 octets");
			return -1;
		}
		for (size_t i = 0; i < w[1].len; i++) {
			unsigned char ch = (unsigned char)w[1].p[i];
			if (ch >= 0x80 || ch == ';' || ch == '(' || ch == ')' || ch == '"' ||
			    ch == '\\') {
				errf(err, cap, line, "authserv-id: '%c' is not allowed", ch >= 0x80 ? '?' : ch);
				return -1;
			}
		}
		if (!set_str(&c->authserv_id, &w[1]))
			goto nomem;
	} else if (weq(k, "socket")) {
		ONE_VALUE();
		if (!((w[1].len > 5 && memcmp(w[1].p, "unix:", 5) == 0) ||
		      (w[1].len > 6 && memcmp(w[1].p, "local:", 6) == 0) ||
		      (w[1].len > 5 && memcmp(w[1].p, "inet:", 5) == 0) ||
		      (w[1].len > 6 && memcmp(w[1].p, "inet6:", 6) == 0))) {
			errf(err, cap, line, "socket: expected unix:/PATH, inet:PORT@HOST or inet6:PORT@HOST");
			return -1;
		}
		if (!set_str(&c->socket, &w[1]))
			goto nomem;
	} else if (weq(k, "user")) {
		ONE_VALUE();
		if (!set_str(&c->user, &w[1]))
			goto nomem;
	} else if (weq(k, "resolver")) {
		ONE_VALUE();
		if (!set_str(&c->resolver, &w[1]))
			goto nomem;
	} else if (weq(k, "dns-contexts")) {
		ONE_VALUE();
		if (!parse_uint(&w[1], 1, 64, &c->dns_contexts)) {
			errf(err, cap, line, "dns-contexts: a number from 1 to 64");
			return -1;
		}
	} else if (weq(k, "dns-timeout")) {
		ONE_VALUE();
		if (!parse_uint(&w[1], 100, 60000, &c->dns_timeout_ms)) {
			errf(err, cap, line, "dns-timeout: milliseconds from 100 to 60000");
			return -1;
		}
	} else if (weq(k, "dmarc-action")) {
		ONE_VALUE();
		if (weq(&w[1], "reject"))
			c->dmarc_action = MTM_DMARC_REJECT;
		else if (weq(&w[1], "quarantine"))
			c->dmarc_action = MTM_DMARC_QUARANTINE;
		else if (weq(&w[1], "report"))
			c->dmarc_action = MTM_DMARC_REPORT;
		else {
			errf(err, cap, line, "dmarc-action: reject, quarantine or report");
			return -1;
		}
	} else if (weq(k, "on-dns-failure")) {
		ONE_VALUE();
		if (weq(&w[1], "accept"))
			c->dns_failure = MTM_DNSFAIL_ACCEPT;
		else if (weq(&w[1], "tempfail"))
			c->dns_failure = MTM_DNSFAIL_TEMPFAIL;
		else {
			errf(err, cap, line, "on-dns-failure: accept or tempfail");
			return -1;
		}
	} else if (weq(k, "sign-subdomains")) {
		ONE_VALUE();
		if (weq(&w[1], "yes"))
			c->sign_subdomains = true;
		else if (weq(&w[1], "no"))
			c->sign_subdomains = false;
		else {
			errf(err, cap, line, "sign-subdomains: yes or no");
			return -1;
		}
	} else if (weq(k, "trusted-networks")) {
		if (nv == 0) {
			errf(err, cap, line, "trusted-networks: at least one network");
			return -1;
		}
		/* the first such line replaces the defaults; later ones add */
		if (!*nets_set) {
			c->nnets = 0;
			*nets_set = true;
		}
		for (size_t i = 1; i < n; i++) {
			if (c->nnets >= MTM_CONF_MAX_NETS) {
				errf(err, cap, line, "more than %d trusted networks", MTM_CONF_MAX_NETS);
				return -1;
			}
			if (!tool_net_parse(w[i].p, w[i].len, &c->nets[c->nnets])) {
				errf(err, cap, line, "trusted-networks: '%.*s' is not ADDR or ADDR/PREFIX",
				     (int)(w[i].len > 64 ? 64 : w[i].len), w[i].p);
				return -1;
			}
			c->nnets++;
		}
	} else if (weq(k, "sign")) {
		if (nv != 3) {
			errf(err, cap, line, "sign takes DOMAIN SELECTOR KEYFILE");
			return -1;
		}
		if (c->nsign >= MTM_CONF_MAX_SIGN) {
			errf(err, cap, line, "more than %d sign lines", MTM_CONF_MAX_SIGN);
			return -1;
		}
		mtm_sign_entry *e = &c->sign[c->nsign];
		e->domain = domain_dup(&w[1]);
		if (!e->domain) {
			errf(err, cap, line, "sign: '%.*s' is not a domain name",
			     (int)(w[1].len > 64 ? 64 : w[1].len), w[1].p);
			return -1;
		}
		e->selector = domain_dup(&w[2]);
		e->keyfile = wdup(&w[3]);
		c->nsign++;
		if (!e->selector) {
			errf(err, cap, line, "sign: '%.*s' is not a selector",
			     (int)(w[2].len > 64 ? 64 : w[2].len), w[2].p);
			return -1;
		}
		if (!e->keyfile)
			goto nomem;
		if (e->keyfile[0] != '/') {
			errf(err, cap, line, "sign: the key file must be an absolute path");
			return -1;
		}
	} else {
		errf(err, cap, line, "unknown setting '%.*s'", (int)(k->len > 64 ? 64 : k->len), k->p);
		return -1;
	}
	return 0;
nomem:
	errf(err, cap, line, "out of memory");
	return -1;
#undef ONE_VALUE
}

int mtm_conf_parse(const char *text, size_t len, mtm_conf *c, char *err, size_t cap)
{
	size_t pos = 0;
	unsigned line = 0;
	bool nets_set = false;

	if (len > MTM_CONF_MAX_FILE) {
		errf(err, cap, 0, "the file is larger than %d octets", MTM_CONF_MAX_FILE);
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t l = end - pos;
		line++;
		if (l > 0 && text[pos + l - 1] == '\r')
			l--;
		if (l > MTM_CONF_MAX_LINE) {
			errf(err, cap, line, "longer than %d octets", MTM_CONF_MAX_LINE);
			return -1;
		}
		for (size_t i = 0; i < l; i++) {
			unsigned char ch = (unsigned char)text[pos + i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				errf(err, cap, line, "control character 0x%02x", ch);
				return -1;
			}
		}
		if (parse_line(text + pos, l, line, c, &nets_set, err, cap) != 0)
			return -1;
		pos = end + 1;
	}
	if (!c->authserv_id) {
		errf(err, cap, 0, "authserv-id is required");
		return -1;
	}
	if (!c->socket) {
		errf(err, cap, 0, "socket is required");
		return -1;
	}
	return 0;
}

int mtm_conf_load(const char *path, mtm_conf *c, char *err, size_t cap)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	if (!f) {
		errf(err, cap, 0, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(MTM_CONF_MAX_FILE + 1);
	if (!buf) {
		errf(err, cap, 0, "out of memory");
		goto out;
	}
	len = fread(buf, 1, MTM_CONF_MAX_FILE + 1, f);
	if (ferror(f)) {
		errf(err, cap, 0, "%s: read error", path);
		goto out;
	}
	if (len > MTM_CONF_MAX_FILE) {
		errf(err, cap, 0, "%s: larger than %d octets", path, MTM_CONF_MAX_FILE);
		goto out;
	}
	rc = mtm_conf_parse(buf, len, c, err, cap);
	if (rc != 0 && err && cap > 0) {
		/* prefix the path */
		char tmp[512];
		snprintf(tmp, sizeof tmp, "%s", err);
		snprintf(err, cap, "%s: %s", path, tmp);
	}
out:
	free(buf);
	fclose(f);
	return rc;
}

static bool domain_covers(const char *parent, const char *d, bool sub)
{
	size_t pl = strlen(parent), dl = strlen(d);
	if (pl == dl)
		return strcmp(parent, d) == 0;
	if (!sub || dl <= pl)
		return false;
	return d[dl - pl - 1] == '.' && strcmp(d + dl - pl, parent) == 0;
}

size_t mtm_conf_signers(const mtm_conf *c, const char *domain, size_t *idx, size_t max)
{
	size_t best = 0, n = 0;

	for (size_t i = 0; i < c->nsign; i++) {
		const char *d = c->sign[i].domain;
		if (!domain_covers(d, domain, c->sign_subdomains))
			continue;
		size_t l = strlen(d);
		if (l > best) {
			best = l;
			n = 0;
		}
		if (l == best && n < max)
			idx[n++] = i;
	}
	return n;
}
