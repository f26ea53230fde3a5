/* Authentication-Results internals shared by the builder and the parser:
 * the character classes and the checks both sides apply, so that what
 * the parser accepts the builder can write again. */
#ifndef MT_AUTHRES_INT_H
#define MT_AUTHRES_INT_H

#include <mailtrust/authres.h>
#include "util/util.h"

/* A control character that may not appear in any value (HTAB may). */
static inline bool mt_ar_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* First and further characters of a keyword: [A-Za-z0-9][A-Za-z0-9_-]* */
static inline bool mt_ar_kw_first(int c)
{
	return mt_is_alnum(c);
}

static inline bool mt_ar_kw_char(int c)
{
	return mt_is_alnum(c) || c == '-' || c == '_';
}

bool mt_ar_keyword(const char *s);
/* MT_OK, or MT_EINVAL / MT_ERANGE with err naming what (e.g. "reason"). */
mt_status mt_ar_check_value(const char *s, bool may_be_empty, const char *what, mt_error *err);
/* A free-text reason fit for a value: control characters become '?', at
 * most cap - 1 (and 300) octets; written to dst, which is returned. */
const char *mt_ar_clean(char *dst, size_t cap, const char *s);

#endif
