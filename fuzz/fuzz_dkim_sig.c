/* Fuzz the DKIM-Signature value parser: any octets; a permerror names a
 * tag and an offset inside the input, a parsed signature's b= span lies
 * inside the input and its fields keep their documented bounds. */
#include "dkim/dkim_tags.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_dkim_sig *sig = NULL;
	mt_dkim_taglist tl;
	mt_dkim_perm tp = { 0 };

	if (mt_dkim_taglist_parse((const char *)data, size, &tl, &tp)) {
		for (size_t i = 0; i < tl.count; i++) {
			const mt_dkim_tag *t = &tl.tags[i];
			if (t->name_off + t->name_len > size || t->value_off + t->value_len > size ||
			    t->raw_off + t->raw_len > size || t->value_off < t->raw_off ||
			    t->value_off + t->value_len > t->raw_off + t->raw_len)
				abort();
		}
	} else if (!tp.failed || tp.offset > size || !tp.message[0]) {
		abort();
	}

	if (mt_dkim_sig_parse((const char *)data, size, &sig) != MT_OK)
		return 0;   /* out of memory */
	if (sig->perm.failed) {
		if (sig->perm.offset > size || !sig->perm.message[0])
			abort();
	} else {
		if (sig->b_raw_off + sig->b_raw_len > size || sig->b_len == 0 ||
		    sig->bh_len != mt_dkim_hash_size(sig->hash) || !sig->d.p || !sig->s.p || !sig->i.p ||
		    sig->header_count == 0 || sig->header_count > MT_DKIM_SIG_HEADERS_MAX ||
		    sig->copied_count > MT_DKIM_SIG_COPIED_MAX || (sig->has_t && sig->has_x && sig->x <= sig->t))
			abort();
		if (strlen(sig->d.p) != sig->d.len || sig->i_domain.p < sig->i.p ||
		    sig->i_domain.p + sig->i_domain.len != sig->i.p + sig->i.len)
			abort();
	}
	mt_dkim_sig_free(sig);
	return 0;
}
