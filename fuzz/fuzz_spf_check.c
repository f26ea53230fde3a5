/* Fuzz the evaluator: the input is the SPF record of fz.example (and,
 * after a newline, that of inc.fz.example) in a small zone; the check must
 * end with a result within the limits, whatever the records say. */
#include <mailtrust/spf.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t l1 = nl ? (size_t)(nl - data) : size;
	mt_dns_zone *z = mt_dns_zone_new();
	mt_spf_check *c = NULL;
	mt_dns_resolver *r = NULL;
	mt_error err;
	if (!z)
		return 0;
	/* character-strings of at most 255 octets, as DNS carries them */
	const char *parts[300];
	size_t lens[300], np = 0;
	for (size_t off = 0; off < l1 && np < 300; off += 255, np++) {
		parts[np] = text + off;
		lens[np] = l1 - off > 255 ? 255 : l1 - off;
	}
	mt_dns_zone_add_txt(z, "fz.example", MT_DNS_TXT, 60, parts, lens, np);
	if (nl) {
		size_t l2 = size - l1 - 1;
		np = 0;
		for (size_t off = 0; off < l2 && np < 300; off += 255, np++) {
			parts[np] = text + l1 + 1 + off;
			lens[np] = l2 - off > 255 ? 255 : l2 - off;
		}
		mt_dns_zone_add_txt(z, "inc.fz.example", MT_DNS_TXT, 60, parts, lens, np);
	}
	static const uint8_t a1[4] = {192, 0, 2, 1};
	mt_dns_zone_add(z, "fz.example", MT_DNS_A, 60, 0, a1, 4);
	mt_dns_zone_add(z, "fz.example", MT_DNS_MX, 60, 10, "fz.example", 10);
	mt_dns_zone_add(z, "1.2.0.192.in-addr.arpa", MT_DNS_PTR, 60, 0, "fz.example", 10);
	mt_dns_zone_add_fault(z, "slow.fz.example", 0, MT_DNS_TIMEOUT);
	r = mt_dns_zone_resolver_new(z);
	if (r && mt_spf_check_new(NULL, &c, NULL) == MT_OK) {
		mt_spf_request rq = {.ip = (size & 1) ? "192.0.2.1" : "2001:db8::1",
		                     .sender = "a.b-c@fz.example", .helo = "fz.example", .now = 1};
		if (mt_spf_check_start(c, &rq, &err) == MT_OK && mt_spf_check_run(c, r) == MT_OK) {
			const mt_spf_outcome *o = mt_spf_check_outcome(c);
			if (!o || o->dns_mechanisms > 11 || o->void_lookups > 3)
				abort();
			char *h = NULL;
			if (mt_spf_received_spf(c, &h) == MT_OK)
				mt_free(h);
			if (mt_spf_authres_header(c, "mx.example", &h) == MT_OK)
				mt_free(h);
		}
	}
	mt_spf_check_free(c);
	mt_dns_resolver_free(r);
	mt_dns_zone_free(z);
	return 0;
}
