/* Received-SPF (RFC 7208 section 9.1) and the Authentication-Results "spf"
 * entry (RFC 8601 section 2.7.2) built from a finished check.  The
 * Authentication-Results syntax and quoting are the authres module's
 * (src/lib/authres/); this file only decides what the entry says. */
#include "spf/spf_int.h"

#include <mailtrust/authres.h>
#include <stdio.h>
#include <string.h>

#define MAX_HEADER 4096
/* A value longer than any identity (a 320-octet mailbox) is what a client
 * sent, not a name: it is cut so that the field stays bounded. */
#define MAX_VALUE 320

/* RFC 5322 atext plus '.' (dot-atom) */
static bool atext(char c)
{
	return mt_is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

static bool dot_atom(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!atext(s[i]))
			return false;
	return true;
}

/* A value as dot-atom when it is one, else as a quoted-string (cut after
 * MAX_VALUE octets, with "..."). */
static void put_value(mt_buf *b, const char *s)
{
	size_t i, n = strlen(s);

	if (n <= MAX_VALUE && dot_atom(s)) {
		mt_buf_puts(b, s);
		return;
	}
	mt_buf_putc(b, '"');
	for (i = 0; i < n && i < MAX_VALUE; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			mt_buf_putc(b, '\\');
		mt_buf_putc(b, (c < 0x20 || c == 0x7f) ? '?' : (char)c);
	}
	if (i < n)
		mt_buf_puts(b, "...");
	mt_buf_putc(b, '"');
}

/* Text inside a comment: escape parentheses and backslashes. */
static void put_ctext(mt_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '(' || c == ')' || c == '\\')
			mt_buf_putc(b, '\\');
		mt_buf_putc(b, (c < 0x20 || c == 0x7f) ? '?' : (char)c);
	}
}

static const char *who(const mt_spf_outcome *o)
{
	return o->identity == MT_SPF_HELO ? o->helo : o->sender;
}

static void put_comment(mt_buf *b, const mt_spf_outcome *o, const char *receiver)
{
	const char *id = o->identity == MT_SPF_HELO ? "HELO name " : "domain of ";
	char tmp[600];
	if (o->malformed_domain) {
		/* No domain to name: the problem says what the client sent. */
		mt_buf_putc(b, '(');
		put_ctext(b, receiver);
		mt_buf_puts(b, ": ");
		put_ctext(b, o->problem);
		mt_buf_putc(b, ')');
		return;
	}
	switch (o->result) {
	case MT_SPF_PASS:
		snprintf(tmp, sizeof tmp, "%s%s designates %s as permitted sender", id, who(o), o->ip);
		break;
	case MT_SPF_FAIL:
		snprintf(tmp, sizeof tmp, "%s%s does not designate %s as permitted sender", id, who(o), o->ip);
		break;
	case MT_SPF_SOFTFAIL:
		snprintf(tmp, sizeof tmp, "%stransitioning %s does not designate %s as permitted sender", id,
		         who(o), o->ip);
		break;
	case MT_SPF_NEUTRAL:
		snprintf(tmp, sizeof tmp, "%s is neither permitted nor denied by %s%s", o->ip, id, who(o));
		break;
	case MT_SPF_NONE:
		snprintf(tmp, sizeof tmp, "%s%s does not publish an SPF record", id, who(o));
		break;
	case MT_SPF_TEMPERROR:
		snprintf(tmp, sizeof tmp, "temporary error checking %s%s", id, who(o));
		break;
	case MT_SPF_PERMERROR:
		snprintf(tmp, sizeof tmp, "permanent error in the SPF record of %s", o->problem_domain ?
		         o->problem_domain : o->domain);
		break;
	}
	mt_buf_putc(b, '(');
	put_ctext(b, receiver);
	mt_buf_puts(b, ": ");
	put_ctext(b, tmp);
	mt_buf_putc(b, ')');
}

static mt_status take(mt_buf *b, char **out)
{
	mt_status st = b->err;
	*out = mt_buf_take(b);
	if (!*out)
		return st ? st : MT_ENOMEM;
	return MT_OK;
}

/* The outcome of a finished check for a header builder, or NULL with *st set. */
static const mt_spf_outcome *begin(const mt_spf_check *chk, char **out, mt_status *st)
{
	const mt_spf_outcome *o;
	*st = MT_EINVAL;
	if (!out)
		return NULL;
	*out = NULL;
	*st = MT_ESTATE;
	if (!(o = mt_spf_check_outcome(chk)))
		return NULL;
	*st = MT_OK;
	return o;
}

mt_status mt_spf_received_spf(const mt_spf_check *chk, char **out)
{
	mt_status st;
	mt_buf b;
	const mt_spf_outcome *o = begin(chk, out, &st);
	if (!o)
		return st;
	const char *receiver = mt_spf_check_receiver(chk);
	mt_buf_init(&b, MAX_HEADER);
	mt_buf_printf(&b, "Received-SPF: %s ", mt_spf_result_name(o->result));
	put_comment(&b, o, receiver);
	mt_buf_puts(&b, " client-ip=");
	put_value(&b, o->ip);
	mt_buf_puts(&b, "; envelope-from=");
	put_value(&b, o->sender);
	if (o->helo) {
		mt_buf_puts(&b, "; helo=");
		put_value(&b, o->helo);
	}
	mt_buf_puts(&b, "; receiver=");
	put_value(&b, receiver);
	mt_buf_printf(&b, "; identity=%s", o->identity == MT_SPF_HELO ? "helo" : "mailfrom");
	if (o->mechanism) {
		mt_buf_puts(&b, "; mechanism=");
		put_value(&b, o->mechanism);
	}
	if (o->problem && (o->result == MT_SPF_PERMERROR || o->result == MT_SPF_TEMPERROR ||
	                   o->malformed_domain)) {
		mt_buf_puts(&b, "; problem=");
		put_value(&b, o->problem);
	}
	mt_buf_putc(&b, ';');
	return take(&b, out);
}

/* What a client sent, made fit for an Authentication-Results value:
 * control characters become '?', more than MAX_VALUE octets are cut (with
 * "...").  The quoting is the authres module's. */
static const char *clean(char *dst, size_t cap, const char *s)
{
	size_t i, n = strlen(s);
	for (i = 0; i < n && i < MAX_VALUE && i + 4 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < n) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
	return dst;
}

/* The spf= result of a finished check; the strings live in the buffers. */
struct entry {
	mt_authres_method m;
	mt_authres_prop prop;
	char value[MAX_VALUE + 4];
	char comment[MAX_VALUE + 4];
};

static void make_entry(struct entry *e, const mt_spf_check *chk, const mt_spf_outcome *o)
{
	memset(&e->m, 0, sizeof e->m);
	e->m.method = "spf";
	e->m.result = mt_spf_result_name(o->result);
	if (o->problem && (o->result == MT_SPF_PERMERROR || o->result == MT_SPF_TEMPERROR ||
	                   o->malformed_domain))
		e->m.comment = clean(e->comment, sizeof e->comment, o->problem);
	if (o->malformed_domain) {
		/* RFC 8601 section 2.2: an identity is [local-part "@"] domain-name,
		 * and the property may be left out when there is none. */
		return;
	}
	e->prop.ptype = "smtp";
	if (o->identity == MT_SPF_HELO) {
		e->prop.property = "helo";
		e->prop.value = clean(e->value, sizeof e->value, o->helo ? o->helo : o->domain);
	} else {
		/* Section 2.7.2: no local-part unless the policy looked at it. */
		const char *v = o->sender;
		if (!mt_spf_check_used_local(chk)) {
			const char *at = strrchr(v, '@');
			if (at)
				v = at + 1;
		}
		e->prop.property = "mailfrom";
		e->prop.value = clean(e->value, sizeof e->value, v);
	}
	e->m.props = &e->prop;
	e->m.prop_count = 1;
}

mt_status mt_spf_authres_entry(const mt_spf_check *chk, char **out)
{
	mt_status st;
	struct entry e;
	const mt_spf_outcome *o = begin(chk, out, &st);
	if (!o)
		return st;
	make_entry(&e, chk, o);
	return mt_authres_entry(&e.m, MAX_HEADER, out, NULL);
}

mt_status mt_spf_authres_header(const mt_spf_check *chk, const char *authserv_id, char **out)
{
	mt_status st;
	struct entry e;
	mt_authres *ar = NULL;
	char id[MAX_VALUE + 4];
	const mt_spf_outcome *o = begin(chk, out, &st);
	if (!o)
		return st;
	if (!authserv_id)
		authserv_id = mt_spf_check_receiver(chk);
	clean(id, sizeof id, authserv_id);
	make_entry(&e, chk, o);
	if ((st = mt_authres_new(id[0] ? id : "unknown", &ar, NULL)) == MT_OK &&
	    (st = mt_authres_add(ar, &e.m, NULL)) == MT_OK)
		st = mt_authres_render(ar, MT_AUTHRES_PREFIX, MAX_HEADER, out, NULL);
	mt_authres_free(ar);
	return st;
}

mt_status mt_spf_check_authres(const mt_spf_check *chk, mt_authres *ar, mt_error *err)
{
	mt_status st;
	struct entry e;
	char *unused = NULL;
	if (!chk || !ar)
		return mt_error_set(err, MT_EINVAL, "mt_spf_check_authres: NULL argument");
	const mt_spf_outcome *o = begin(chk, &unused, &st);
	if (!o)
		return mt_error_set(err, st, "the SPF check is not finished");
	make_entry(&e, chk, o);
	return mt_authres_add(ar, &e.m, err);
}
