/* SPF macro expansion (RFC 7208 section 7), in one pass into a capped buffer. */
#include "spf/spf_int.h"

#include <stdio.h>
#include <string.h>

/* The longest letter value: a longer sender (the check takes any, while
 * RFC 5321 allows 320 octets) is cut here. */
#define MAX_VALUE 1024

typedef struct out_buf {
	char *p;
	size_t len, cap;
	bool overflow;
} out_buf;

static void put(out_buf *o, const char *s, size_t n)
{
	if (o->overflow || n >= o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static bool unreserved(unsigned char c)
{
	return mt_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void put_escaped(out_buf *o, const char *s, size_t n, bool url)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!url) {
		put(o, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c)) {
			put(o, (const char *)&s[i], 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			put(o, e, 3);
		}
	}
}

void mt_spf_reverse_name(const mt_ip *ip, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	if (ip->family == 4) {
		snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa", ip->addr[3], ip->addr[2], ip->addr[1],
		         ip->addr[0]);
		return;
	}
	char buf[80];
	size_t n = 0;
	for (int i = 15; i >= 0; i--) {
		buf[n++] = hex[ip->addr[i] & 15];
		buf[n++] = '.';
		buf[n++] = hex[ip->addr[i] >> 4];
		buf[n++] = '.';
	}
	buf[n] = '\0';
	snprintf(out, cap, "%sip6.arpa", buf);
}

/* The value of a macro letter into val (MAX_VALUE + 1 octets); returns its length. */
static size_t letter_value(const mt_spf_macro_ctx *mc, char l, char *val)
{
	const char *s = NULL;
	size_t n;
	switch (l) {
	case 's': s = mc->sender; break;
	case 'l':
		n = mc->local_len < MAX_VALUE ? mc->local_len : MAX_VALUE;
		memcpy(val, mc->local, n);
		val[n] = '\0';
		return n;
	case 'o': s = mc->sender_domain; break;
	case 'd': s = mc->domain; break;
	case 'h': s = mc->helo; break;
	case 'p': s = mc->validated ? mc->validated : "unknown"; break;
	case 'r': s = mc->receiver ? mc->receiver : "unknown"; break;
	case 'v': s = mc->ip->family == 4 ? "in-addr" : "ip6"; break;
	case 't': return (size_t)snprintf(val, MAX_VALUE, "%lld", mc->now);
	case 'c':
		mt_ip_format(mc->ip, val, MAX_VALUE);
		return strlen(val);
	case 'i':
		if (mc->ip->family == 4) {
			mt_ip_format(mc->ip, val, MAX_VALUE);
			return strlen(val);
		} else {
			static const char hex[] = "0123456789ABCDEF";
			n = 0;
			for (int i = 0; i < 16; i++) {
				val[n++] = hex[mc->ip->addr[i] >> 4];
				val[n++] = '.';
				val[n++] = hex[mc->ip->addr[i] & 15];
				val[n++] = '.';
			}
			val[--n] = '\0';
			return n;
		}
	default: break;
	}
	if (!s)
		s = "";
	n = strnlen(s, MAX_VALUE);
	memcpy(val, s, n);
	val[n] = '\0';
	return n;
}

static bool is_delim_in(char c, const char *delims, size_t nd)
{
	if (nd == 0)
		return c == '.';
	return memchr(delims, c, nd) != NULL;
}

/* Expand one %{...} whose text (after "%{") is m[0..mlen) without the '}'. */
static void expand_one(const mt_spf_macro_ctx *mc, const char *m, size_t mlen, out_buf *o)
{
	char val[MAX_VALUE + 1];
	struct { uint16_t off, len; } parts[MAX_VALUE + 1];
	char l = m[0];
	bool url = l >= 'A' && l <= 'Z';
	size_t i = 1, keep = 0, nparts = 0;
	bool reverse = false;

	while (i < mlen && mt_is_digit(m[i])) {
		if (keep < 100000)
			keep = keep * 10 + (size_t)(m[i] - '0');
		i++;
	}
	if (i < mlen && (m[i] == 'r' || m[i] == 'R')) {
		reverse = true;
		i++;
	}
	const char *delims = m + i;
	size_t nd = mlen - i;

	size_t vlen = letter_value(mc, mt_lower(l), val);
	if (keep == 0 && !reverse && nd == 0) {
		put_escaped(o, val, vlen, url);
		return;
	}
	size_t start = 0;
	for (size_t k = 0; k <= vlen; k++) {
		if (k == vlen || is_delim_in(val[k], delims, nd)) {
			parts[nparts].off = (uint16_t)start;
			parts[nparts].len = (uint16_t)(k - start);
			nparts++;
			start = k + 1;
		}
	}
	size_t first = 0;
	if (keep && keep < nparts)
		first = nparts - keep; /* rightmost parts, counted after reversal */
	for (size_t k = first; k < nparts; k++) {
		size_t idx = reverse ? nparts - 1 - k : k;
		if (k > first)
			put(o, ".", 1);
		put_escaped(o, val + parts[idx].off, parts[idx].len, url);
	}
}

mt_status mt_spf_macro_expand(const mt_spf_macro_ctx *mc, const char *s, size_t len,
                              bool exp_context, char *out, size_t cap, size_t *outlen)
{
	out_buf o = {out, 0, cap, cap == 0};
	size_t i = 0;
	while (i < len && !o.overflow) {
		if (s[i] != '%') {
			size_t j = i;
			while (j < len && s[j] != '%')
				j++;
			put(&o, s + i, j - i);
			i = j;
			continue;
		}
		if (i + 1 >= len)
			return MT_ESYNTAX;
		switch (s[i + 1]) {
		case '%': put(&o, "%", 1); i += 2; continue;
		case '_': put(&o, " ", 1); i += 2; continue;
		case '-': put(&o, "%20", 3); i += 2; continue;
		case '{': break;
		default: return MT_ESYNTAX;
		}
		const char *close = memchr(s + i + 2, '}', len - i - 2);
		if (!close || close == s + i + 2)
			return MT_ESYNTAX;
		expand_one(mc, s + i + 2, (size_t)(close - (s + i + 2)), &o);
		i = (size_t)(close - s) + 1;
	}
	if (o.overflow)
		return MT_ERANGE;
	if (!exp_context) {
		if (o.len && out[o.len - 1] == '.')
			o.len--;
		/* Section 7.3: drop whole labels from the left until it fits. */
		size_t skip = 0;
		while (o.len - skip > MT_SPF_MAX_DOMAIN) {
			const char *dot = memchr(out + skip, '.', o.len - skip);
			if (!dot)
				break;
			skip = (size_t)(dot - out) + 1;
		}
		if (skip) {
			memmove(out, out + skip, o.len - skip);
			o.len -= skip;
		}
	}
	out[o.len] = '\0';
	if (outlen)
		*outlen = o.len;
	return MT_OK;
}
