/* Fuzz spf verify: the input is zone-file text (origin example.com.) that
 * is loaded as far as it parses; the domain's setup is then verified with
 * two addresses to authorize and an expected record.  Every finding must
 * point inside its record (record_len: a record may hold a NUL), and the
 * run must end. */
#include <mailtrust/spf_verify.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_dns_zone *z = mt_dns_zone_new();
	mt_dns_resolver *r = NULL;
	mt_spf_verify *v = NULL;
	mt_error err;
	if (!z)
		return 0;
	mt_dns_zone_load_text(z, (const char *)data, size, "example.com", "fuzz", &err);
	r = mt_dns_zone_resolver_new(z);
	if (r) {
		mt_spf_verify_options o;
		static const char *const ips[] = {"192.0.2.1", "2001:db8::1"};
		mt_spf_verify_options_init(&o);
		o.ips = ips;
		o.nips = 2;
		o.expect = "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all";
		o.now = 1;
		if (mt_spf_verify_run("example.com", r, &o, &v, &err) == MT_OK) {
			for (size_t i = 0; i < mt_spf_verify_finding_count(v); i++) {
				const mt_spf_finding *f = mt_spf_verify_finding(v, i);
				if (!f->code || !f->message)
					abort();
				if (f->record && f->offset >= 0 && (size_t)f->offset + f->length > f->record_len)
					abort();
			}
			for (size_t i = 0; i < mt_spf_verify_tree_count(v); i++)
				if (!mt_spf_verify_tree(v, i)->domain)
					abort();
		}
	}
	mt_spf_verify_free(v);
	mt_dns_resolver_free(r);
	mt_dns_zone_free(z);
	return 0;
}
