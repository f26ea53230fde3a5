/* Fuzz the Authentication-Results parser: any octets, parsed as a field
 * value; what parses is built again with the builder (folded or not, with
 * the prefix or not, chosen by the input's length) and parsed again: the
 * structure must come back the same.  mt_authres_claims must agree with
 * the parsed authserv-id. */
#include <mailtrust/authres.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	mt_authres_parsed *p = NULL, *q = NULL;
	mt_authres *ar = NULL;
	mt_error err;
	size_t off = 0;
	char *s = NULL;
	unsigned flags = (unsigned)(size & 3);

	mt_status st = mt_authres_parse(in, size, &p, &off, &err);
	if (st != MT_OK) {
		if (p || off > size || (st != MT_ESYNTAX && st != MT_ERANGE && st != MT_ENOMEM))
			abort();
		return 0;
	}
	if (!mt_authres_claims(in, size, p->authserv_id))
		abort();
	if (mt_authres_new(p->authserv_id, &ar, &err) != MT_OK)
		abort();
	mt_authres_set_version(ar, p->version);
	for (size_t i = 0; i < p->method_count; i++)
		if (mt_authres_add(ar, &p->methods[i], &err) != MT_OK)
			abort();
	if (mt_authres_render(ar, flags, 4 * size + 256, &s, &err) != MT_OK)
		abort();
	const char *v = s;
	if (flags & MT_AUTHRES_PREFIX) {
		if (strncmp(s, "Authentication-Results:", 23))
			abort();
		v += 23;
	}
	/* nothing but folds may break a line; no other control character */
	for (const char *c = v; *c; c++)
		if ((*c == '\r' && (c[1] != '\n' || c[2] != '\t')) || (*c == '\n' && (c == v || c[-1] != '\r')) ||
		    ((unsigned char)*c < 0x20 && *c != '\r' && *c != '\n' && *c != '\t') || *c == 0x7f)
			abort();
	if (mt_authres_parse(v, strlen(v), &q, NULL, &err) != MT_OK || !mt_authres_parsed_equal(p, q))
		abort();
	mt_authres_parsed_free(q);
	mt_authres_parsed_free(p);
	mt_authres_free(ar);
	free(s);
	return 0;
}
