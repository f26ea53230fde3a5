/* Fuzz the master-file reader: load arbitrary text, then ask the zone a
 * few questions and print every record it answers. */
#include <mailtrust/dns.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ask(const mt_dns_zone *z, const char *name, uint16_t type)
{
	mt_dns_answer *a = NULL;
	char joined[512];
	if (mt_dns_zone_query(z, name, type, &a) != MT_OK)
		return;
	for (size_t i = 0; i < a->count; i++) {
		char *s = mt_dns_rr_to_text(&a->rr[i]);
		mt_free(s);
		if (a->rr[i].type == MT_DNS_TXT || a->rr[i].type == MT_DNS_SPF)
			mt_dns_txt_join(a->rr[i].data, a->rr[i].len, joined, sizeof joined);
	}
	mt_dns_answer_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"example.com", "www.example.com", "mail.example.com", "a.example.com",
		"example.net", "com", "x", "a.b.c.example.com", "_spf.example.com",
	};
	static const uint16_t types[] = {MT_DNS_TXT, MT_DNS_A, MT_DNS_AAAA, MT_DNS_MX,
	                                 MT_DNS_CNAME, MT_DNS_PTR, MT_DNS_SPF};
	mt_dns_zone *z = mt_dns_zone_new();
	mt_error err;
	if (!z)
		return 0;
	mt_dns_zone_load_text(z, (const char *)data, size, "example.com", "fuzz", &err);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
			ask(z, names[i], types[t]);
	mt_dns_zone_free(z);
	return 0;
}
