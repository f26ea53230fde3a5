/* Fuzz the SPF record parser: any octets, parsed as a record; on success
 * every term view must lie inside the record text.  The offline checks of
 * verify (mt_spf_lint) run on the same octets. */
#include <mailtrust/spf.h>
#include <mailtrust/spf_verify.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_spf_record *r = NULL;
	mt_spf_syntax_error syn;
	mt_spf_verify *lint = NULL;

	/* the offline checks of verify (spf parse shows them): every finding
	 * located inside the record */
	if (mt_spf_lint((const char *)data, size, &lint, NULL) == MT_OK) {
		for (size_t i = 0; i < mt_spf_verify_finding_count(lint); i++) {
			const mt_spf_finding *f = mt_spf_verify_finding(lint, i);
			if (!f->message || (f->record && f->record_len != size) ||
			    (f->offset >= 0 && ((size_t)f->offset > size ||
			                        f->length > size - (size_t)f->offset)))
				abort();
		}
		mt_spf_verify_free(lint);
	} else if (size <= 65535) {
		abort();
	}
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
