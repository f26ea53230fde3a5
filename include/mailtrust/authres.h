/*
 * mailtrust Authentication-Results (RFC 8601): one builder for the field
 * that every method (spf, dkim, later dmarc) contributes an entry to, and
 * a parser for fields already on a message (a receiver removes forged
 * fields that claim its own authserv-id, RFC 8601 section 5).
 *
 * Grammar followed (RFC 8601 section 2.2):
 *   authserv-id [version] ( "; none" / 1*( ";" method[/version]=result
 *   [reason=value] *( ptype.property=pvalue ) ) )
 * A value is written as an RFC 2045 token when it is one; a property
 * value may also be [local-part "@"] domain-name unquoted (a local-part
 * written as a dot-atom); anything else is a quoted-string with '"' and
 * '\' escaped.  Keywords (method, result, ptype, property) are
 * [A-Za-z0-9][A-Za-z0-9_-]*.  Values are at most MT_AUTHRES_MAX_VALUE
 * octets; control characters other than HTAB (and so CR and LF) are
 * refused with MT_EINVAL: they never reach the output.  Octets >= 0x80
 * (UTF-8, RFC 6532) are allowed inside quoted-strings.
 *
 * Ownership: mt_authres_add copies what it is given; mt_authres_render
 * returns a new string to free with mt_free().  A parsed field owns all
 * its strings; free it with mt_authres_parsed_free().
 *
 * Errors: MT_EINVAL for a bad argument (the mt_error says which and why),
 * MT_ERANGE when a limit below is passed, MT_ESYNTAX (with the offset) for
 * a field that cannot be read, MT_ENOMEM.
 *
 * Thread safety: distinct objects may be used from distinct threads; one
 * object must not be used from two threads at once.  mt_authres_claims and
 * a finished parse result are safe to share read-only.
 */
#ifndef MAILTRUST_AUTHRES_H
#define MAILTRUST_AUTHRES_H

#include <mailtrust/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MT_AUTHRES_MAX_VALUE   1024   /* octets of one value or the authserv-id */
#define MT_AUTHRES_MAX_METHODS 64     /* results in one field */
#define MT_AUTHRES_MAX_PROPS   32     /* properties of one result */
#define MT_AUTHRES_MAX_OUTPUT  16384  /* default cap of a rendered field */
#define MT_AUTHRES_MAX_INPUT   65536  /* longest field value the parser reads */

/* One property, "ptype.property=value" (smtp.mailfrom, header.d,
 * header.b, policy.*).  An empty ptype is a dotless "property=value" as
 * some receivers write ("action=none"); the parser keeps those, new
 * fields should not use them. */
typedef struct mt_authres_prop {
	const char *ptype;
	const char *property;
	const char *value;
} mt_authres_prop;

/* One method's result.  version 0: none written; reason and comment may
 * be NULL.  The comment is written in parentheses after the result (the
 * parser skips comments and always leaves it NULL). */
typedef struct mt_authres_method {
	const char *method;
	unsigned version;
	const char *result;
	const char *reason;
	const char *comment;
	size_t prop_count;
	const mt_authres_prop *props;
} mt_authres_method;

/* ---- Builder ------------------------------------------------------------ */
typedef struct mt_authres mt_authres;

/* A new field for authserv_id (non-empty, no control characters, at most
 * MT_AUTHRES_MAX_VALUE octets; it is quoted when it is not a token). */
MT_EXPORT mt_status mt_authres_new(const char *authserv_id, mt_authres **out, mt_error *err);
MT_EXPORT void mt_authres_free(mt_authres *ar);
/* The field's authres-version (0: not written, version 1 implied). */
MT_EXPORT void mt_authres_set_version(mt_authres *ar, unsigned version);
/* Append one method's result (copied).  MT_EINVAL when a keyword or value
 * is malformed, MT_ERANGE past MT_AUTHRES_MAX_METHODS or _PROPS. */
MT_EXPORT mt_status mt_authres_add(mt_authres *ar, const mt_authres_method *m, mt_error *err);

enum {
	MT_AUTHRES_PREFIX = 1, /* begin with "Authentication-Results: " */
	MT_AUTHRES_FOLD = 2,   /* fold: each result on its own line after
	                        * CRLF+TAB, and before a property that would
	                        * pass column 78 (a long value may still make
	                        * a line longer; nothing is folded inside one) */
};

/*
 * The field as a new string (free with mt_free()), without a trailing
 * CRLF.  Unfolded (default) it is one line, entries separated by "; ",
 * e.g. "mx.example.org; spf=pass smtp.mailfrom=example.com".  No method
 * added: "mx.example.org; none".  max caps the length (0:
 * MT_AUTHRES_MAX_OUTPUT); MT_ERANGE when the field would be longer.
 */
MT_EXPORT mt_status mt_authres_render(const mt_authres *ar, unsigned flags, size_t max, char **out,
                                      mt_error *err);

/*
 * One method's entry alone, as a method hands it to a field built
 * elsewhere: "spf=pass smtp.mailfrom=example.com" (same checks and
 * quoting as mt_authres_add, unfolded).  max as for mt_authres_render.
 */
MT_EXPORT mt_status mt_authres_entry(const mt_authres_method *m, size_t max, char **out,
                                     mt_error *err);

/* ---- Parser ------------------------------------------------------------- */
typedef struct mt_authres_parsed {
	const char *authserv_id;   /* unquoted */
	unsigned version;          /* 0 when the field gives none */
	size_t method_count;       /* 0 for "none" */
	const mt_authres_method *methods;
} mt_authres_parsed;

/*
 * Parse a field value (what follows "Authentication-Results:", folded or
 * not, CRLF or bare LF line ends).  Comments and whitespace are skipped
 * wherever RFC 8601 allows CFWS.  Tolerated as real fields have them: a
 * trailing or doubled ";", a missing "none", unquoted values holding '/'
 * '=' '@' or UTF-8 (header.b base64), dotless "key=value" properties.
 * Values never hold CR or LF (folds are removed) nor other control
 * characters (refused).  On MT_ESYNTAX or MT_ERANGE *err_offset (may be
 * NULL) is the octet offset where reading stopped and err says what was
 * expected.
 */
MT_EXPORT mt_status mt_authres_parse(const char *value, size_t len, mt_authres_parsed **out,
                                     size_t *err_offset, mt_error *err);
MT_EXPORT void mt_authres_parsed_free(mt_authres_parsed *p);

/* Do a and b say the same: authserv-id, version, and each method's name,
 * version, result, reason and properties, in order (comments and spacing
 * do not count)?  For comparing a field with what it was built from. */
MT_EXPORT bool mt_authres_parsed_equal(const mt_authres_parsed *a, const mt_authres_parsed *b);

/*
 * Does the field value claim authserv_id (compared case-insensitively,
 * ASCII)?  Only the authserv-id is read (quoted or not, after any
 * comments), so a forged field whose rest is malformed is still
 * recognised.  False for NULL arguments or an unreadable authserv-id.
 */
MT_EXPORT bool mt_authres_claims(const char *value, size_t len, const char *authserv_id);

#ifdef __cplusplus
}
#endif
#endif
