/* Fuzz the SPF record parser: any octets, parsed as a record; on success
 * every term view must lie inside the record text. */
#include <mailtrust/spf.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_spf_record *r = NULL;
	mt_spf_syntax_error syn;
	mt_status st = mt_spf_record_parse((const char *)data, size, &r, &syn);
	if (st == MT_ESYNTAX && (syn.offset > size || syn.length > size))
		abort();
	if (st != MT_OK)
		return 0;
	const char *text = mt_spf_record_text(r);
	size_t n = mt_spf_record_term_count(r);
	for (size_t i = 0; i < n; i++) {
		const mt_spf_term *t = mt_spf_record_term(r, i);
		if (t->offset + t->length > size)
			abort();
		if (t->domain && (t->domain < text || t->domain + t->domain_len > text + size))
			abort();
	}
	mt_spf_record_free(r);
	return 0;
}
