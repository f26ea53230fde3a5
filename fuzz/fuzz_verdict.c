/* Fuzz the verdict (verdict.h) with a hostile message.  The first octet:
 * bits 0-2 give how many chunk-size octets follow (1 to 8; their values
 * + 1 are the chunk sizes, cycling), bit 3 a null MAIL FROM, bit 4 no
 * HELO name, bit 5 small header caps (512 octets, 8 fields) so that the
 * header-error path is reached, bit 6 the Public Suffix List mode.  The
 * rest is the message.  Keys, SPF and DMARC records come from a fixed
 * zone for football.example.com (RFC 8463's keys) with a few faults.
 * Fed whole and in chunks, the message must give the same verdict; the
 * field must render, parse back with the library's parser and be the same
 * both times. */
#include <mailtrust/verdict.h>
#include <mailtrust/dns.h>
#include <mailtrust/authres.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mt_dns_zone *zone;
static mt_dns_resolver *res;
static mt_dmarc_psl *psl; /* loaded once, shared by every PSL-mode verdict */

static const char ZONE[] =
	"$ORIGIN football.example.com.\n"
	"brisbane._domainkey TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"test._domainkey TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\"\n"
	"@ TXT \"v=spf1 ip4:192.0.2.1 include:_spf.football.example.com -all\"\n"
	"_spf TXT \"v=spf1 a:mail.football.example.com ~all\"\n"
	"mail A 192.0.2.1\n"
	"mail TXT \"v=spf1 a -all\"\n"
	"_dmarc TXT \"v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=r; aspf=s\"\n"
	"sub A 192.0.2.7\n"
	"$FAULT _dmarc.broken.football.example.com. SERVFAIL\n"
	"$FAULT slow.football.example.com. TIMEOUT\n"
	"$ORIGIN example.\n"
	"_dmarc TXT \"v=DMARC1; p=none; psd=y\"\n";

static void setup(void)
{
	if (zone)
		return;
	zone = mt_dns_zone_new();
	if (!zone || mt_dns_zone_load_text(zone, ZONE, sizeof ZONE - 1, NULL, "fuzz", NULL) != MT_OK)
		abort();
	res = mt_dns_zone_resolver_new(zone);
	if (!res || mt_dmarc_psl_load(NULL, &psl, NULL) != MT_OK)
		abort();
}

static mt_verdict *run(unsigned flags, const uint8_t *msg, size_t len, const uint8_t *sizes,
                       size_t nsizes)
{
	mt_verdict_options o;
	mt_verdict *v = NULL;
	size_t i = 0, k = 0;

	mt_verdict_options_init(&o);
	o.now = 1528637909 + 100;
	if (flags & 0x20) {
		o.max_header_bytes = 512;
		o.max_fields = 8;
	}
	if (flags & 0x40) {
		o.org_mode = MT_DMARC_ORG_PSL;
		o.psl = psl;
	}
	if (mt_verdict_new(&o, &v, NULL) != MT_OK)
		abort();
	if (mt_verdict_set_connection(v, "192.0.2.1",
	                              (flags & 0x10) ? NULL : "mail.football.example.com",
	                              NULL) != MT_OK ||
	    mt_verdict_set_mail_from(v, (flags & 0x08) ? NULL : "joe@football.example.com",
	                             NULL) != MT_OK)
		abort();
	while (i < len) {
		size_t n = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : len;
		if (n > len - i)
			n = len - i;
		/* a hostile message is a result, never a failed call */
		if (mt_verdict_feed(v, msg + i, n, NULL) != MT_OK)
			abort();
		i += n;
	}
	if (mt_verdict_finish(v, NULL) != MT_OK)
		abort();
	if (mt_verdict_run(v, res) != MT_OK || !mt_verdict_done(v))
		abort();
	return v;
}

static char *field(const mt_verdict *v)
{
	char *f = NULL;
	mt_authres_parsed *p = NULL;
	if (mt_verdict_authres_field(v, "mx.fuzz.test", MT_AUTHRES_FOLD, &f, NULL) != MT_OK)
		abort();
	if (mt_authres_parse(f, strlen(f), &p, NULL, NULL) != MT_OK)
		abort();
	if (p->method_count < 2 || strcmp(p->methods[p->method_count - 1].method, "dmarc") != 0)
		abort();
	mt_authres_parsed_free(p);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_verdict *a, *b;
	size_t nsizes;
	unsigned flags;

	setup();
	if (size < 1)
		return 0;
	flags = data[0];
	nsizes = (size_t)(flags & 7) + 1;
	if (size < 1 + nsizes)
		return 0;
	a = run(flags, data + 1 + nsizes, size - 1 - nsizes, NULL, 0);
	b = run(flags, data + 1 + nsizes, size - 1 - nsizes, data + 1, nsizes);
	const mt_verdict_outcome *x = mt_verdict_result(a), *y = mt_verdict_result(b);
	if (!x || !y || x->dmarc != y->dmarc || x->policy != y->policy ||
	    x->disposition != y->disposition || x->from_status != y->from_status ||
	    strcmp(x->from_domain, y->from_domain) != 0 || x->spf_mailfrom != y->spf_mailfrom ||
	    x->spf_helo != y->spf_helo || x->dkim_signatures != y->dkim_signatures ||
	    x->dkim_pass != y->dkim_pass || x->header_error != y->header_error)
		abort();
	/* pass and fail only with a policy; a disposition only with them */
	if ((x->dmarc == MT_DMARC_RESULT_PASS || x->dmarc == MT_DMARC_RESULT_FAIL) &&
	    x->policy == MT_DMARC_POLICY_ABSENT)
		abort();
	if (x->disposition != MT_DMARC_POLICY_ABSENT && x->dmarc != MT_DMARC_RESULT_PASS &&
	    x->dmarc != MT_DMARC_RESULT_FAIL)
		abort();
	char *fa = field(a), *fb = field(b);
	if (strcmp(fa, fb) != 0)
		abort();
	mt_free(fa);
	mt_free(fb);
	mt_verdict_free(a);
	mt_verdict_free(b);
	return 0;
}
