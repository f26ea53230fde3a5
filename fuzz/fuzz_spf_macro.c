/* Fuzz macro expansion: the first octet picks the context (domain or
 * explanation) and the output size; the rest is the macro-string. */
#include <mailtrust/spf.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[9000];
	mt_spf_check *c = NULL;
	mt_error err;
	if (size < 1 || mt_spf_check_new(NULL, &c, NULL) != MT_OK)
		return 0;
	bool exp = data[0] & 1;
	bool v6 = data[0] & 2;
	size_t cap = (data[0] & 4) ? 64 : sizeof out;
	mt_spf_request rq = {
		.ip = v6 ? "2001:db8::cb01" : "192.0.2.3",
		.sender = "strong-bad+x.y-z@email.example.com",
		.helo = "mx.example.org",
		.now = 1,
	};
	if (mt_spf_check_start(c, &rq, &err) == MT_OK) {
		size_t n = 0;
		mt_status st = mt_spf_expand(c, (const char *)data + 1, size - 1, exp, out, cap, &n, NULL);
		if (st == MT_OK && (n >= cap || strlen(out) != n))
			abort();
		if (st == MT_OK && !exp && n > 253 && memchr(out, '.', n))
			abort(); /* section 7.3 truncation must have applied */
	}
	mt_spf_check_free(c);
	return 0;
}
