/* Fuzz the DMARC policy record parser and the Tree Walk arithmetic: any
 * octets.  A parsed record's findings point inside it, its URIs are
 * bounded, and its tags read as values of their enums; the walk gives at
 * most 8 names, each a suffix of "_dmarc." + the input, and the
 * Organizational Domain is one of the walk's domains or the start. */
#include <mailtrust/dmarc.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_dmarc_record *r = NULL;
	mt_error err;
	mt_status st = mt_dmarc_record_parse((const char *)data, size, &r, &err);
	if (st == MT_OK) {
		for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++) {
			const mt_dmarc_finding *f = mt_dmarc_record_finding(r, i);
			if (f->offset > size || !f->message[0] || strlen(f->tag) > 16)
				abort();
		}
		if (mt_dmarc_record_rua_count(r) > MT_DMARC_URIS_MAX ||
		    mt_dmarc_record_ruf_count(r) > MT_DMARC_URIS_MAX)
			abort();
		for (size_t i = 0; i < mt_dmarc_record_rua_count(r); i++) {
			const mt_dmarc_uri *u = mt_dmarc_record_rua(r, i);
			if (u->offset > size || strlen(u->uri) > size || (u->domain[0] && !u->mailto))
				abort();
		}
		if (mt_dmarc_record_p(r) > MT_DMARC_POLICY_REJECT || mt_dmarc_record_psd(r) > MT_DMARC_PSD_NO)
			abort();
		(void)mt_dmarc_record_applies(r, NULL);
		mt_dmarc_record_free(r);
	} else if (st != MT_ESYNTAX && st != MT_ERANGE) {
		abort();
	}

	/* the same octets as a domain name for the walk */
	if (size > 300 || memchr(data, 0, size))
		return 0;
	char name[301];
	memcpy(name, data, size);
	name[size] = '\0';
	char *names[MT_DMARC_WALK_MAX];
	size_t n = 0;
	if (mt_dmarc_walk_targets(name, (size & 1) != 0, names, &n, &err) != MT_OK)
		return 0;
	if (n > MT_DMARC_WALK_MAX)
		abort();
	const char *doms[MT_DMARC_WALK_MAX];
	int psd[MT_DMARC_WALK_MAX];
	for (size_t i = 0; i < n; i++) {
		if (strncmp(names[i], "_dmarc.", 7) != 0 || !strstr(name, names[i] + 7))
			abort();
		doms[i] = names[i] + 7;
		psd[i] = size > i ? (int)(data[i] % 4) - 1 : -1;
	}
	char out[300];
	if (mt_dmarc_org_domain(name, doms, psd, n, out, sizeof out) == MT_OK && !strstr(name, out))
		abort();
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return 0;
}
