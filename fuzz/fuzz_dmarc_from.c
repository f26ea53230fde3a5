/* Fuzz the From field reader (the Author Domain): any octets as a field
 * value.  OK means exactly one domain: lowercase LDH (or '_') labels, at
 * most 253 octets, equal to domains[0]; every other status has a reason
 * and an offset inside the input. */
#include <mailtrust/dmarc.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_dmarc_from f;
	if (mt_dmarc_from_parse((const char *)data, size, &f) != MT_OK)
		return 0;
	if (f.mailboxes > MT_DMARC_FROM_MAILBOXES_MAX)
		abort();
	if (f.status == MT_DMARC_FROM_OK) {
		size_t n = strlen(f.domain);
		if (n == 0 || n > 253 || f.ndomains != 1 || strcmp(f.domain, f.domains[0]) != 0)
			abort();
		for (size_t i = 0; i < n; i++) {
			char c = f.domain[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			      c == '.'))
				abort();
		}
	} else if (!f.reason[0] || f.offset > size) {
		abort();
	}
	return 0;
}
