/* Fuzz the DKIM verifier.  The first octet gives how many chunk-size
 * octets follow (1 to 8); those give the sizes (1 to 256) of the chunks
 * the rest, the message, is fed in, cycling.  Keys come from a fixed
 * zone: the RFC 8463 ed25519 and RSA keys under football.example.com
 * (selectors brisbane and test), a revoked key (revoked), a SERVFAIL
 * (broken) and a NODATA name (nodata).  Fed whole and fed in chunks, the
 * message must give the same number of signatures and the same result,
 * failure kind and reason for each; the Authentication-Results entries
 * must render. */
#include <mailtrust/dkim.h>
#include <mailtrust/dns.h>
#include <mailtrust/authres.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mt_dns_zone *zone;
static mt_dns_resolver *res;

static const char ZONE[] =
	"$ORIGIN football.example.com.\n"
	"brisbane._domainkey TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"test._domainkey TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\"\n"
	"revoked._domainkey TXT \"v=DKIM1; p=\"\n"
	"nodata._domainkey A 192.0.2.1\n"
	"$FAULT broken._domainkey.football.example.com. SERVFAIL\n";

static void setup(void)
{
	if (zone)
		return;
	zone = mt_dns_zone_new();
	if (!zone || mt_dns_zone_load_text(zone, ZONE, sizeof ZONE - 1, NULL, "fuzz", NULL) != MT_OK)
		abort();
	res = mt_dns_zone_resolver_new(zone);
	if (!res)
		abort();
}

static mt_dkim_verify *run(const uint8_t *msg, size_t len, const uint8_t *sizes, size_t nsizes)
{
	mt_dkim_verify_options o;
	mt_dkim_verify *v = NULL;
	size_t i = 0, k = 0;
	mt_status st = MT_OK;

	mt_dkim_verify_options_init(&o);
	o.now = 1528637909 + 100;
	if (mt_dkim_verify_new(&o, &v, NULL) != MT_OK)
		abort();
	while (i < len && st == MT_OK) {
		size_t n = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : len;
		if (n > len - i)
			n = len - i;
		st = mt_dkim_verify_feed(v, msg + i, n, NULL);
		i += n;
	}
	if (st == MT_OK)
		st = mt_dkim_verify_finish(v, NULL);
	if (st != MT_OK) { /* a header cap: no results */
		if (mt_dkim_verify_done(v))
			abort();
		return v;
	}
	if (mt_dkim_verify_run(v, res) != MT_OK || !mt_dkim_verify_done(v))
		abort();
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_dkim_verify *a, *b;
	size_t nsizes;

	setup();
	if (size < 1)
		return 0;
	nsizes = (size_t)(data[0] & 7) + 1;
	if (size < 1 + nsizes)
		return 0;
	a = run(data + 1 + nsizes, size - 1 - nsizes, NULL, 0);
	b = run(data + 1 + nsizes, size - 1 - nsizes, data + 1, nsizes);
	if (mt_dkim_verify_done(a) != mt_dkim_verify_done(b) ||
	    mt_dkim_verify_count(a) != mt_dkim_verify_count(b))
		abort();
	if (mt_dkim_verify_done(a)) {
		mt_authres *ar = NULL;
		char *s = NULL;
		for (size_t k = 0; k < mt_dkim_verify_count(a); k++) {
			const mt_dkim_sig_result *ra = mt_dkim_verify_result(a, k);
			const mt_dkim_sig_result *rb = mt_dkim_verify_result(b, k);
			if (!ra || !rb || ra->result != rb->result || ra->fail != rb->fail ||
			    strcmp(ra->reason, rb->reason) != 0 || strcmp(ra->b, rb->b) != 0 ||
			    ra->body_length != rb->body_length || ra->l_risk != rb->l_risk)
				abort();
		}
		if (mt_authres_new("mx.example", &ar, NULL) != MT_OK)
			abort();
		if (mt_dkim_verify_authres(a, ar, NULL) == MT_OK &&
		    mt_authres_render(ar, MT_AUTHRES_FOLD, (size_t)1 << 20, &s, NULL) != MT_OK)
			abort();
		mt_free(s);
		mt_authres_free(ar);
	}
	mt_dkim_verify_free(a);
	mt_dkim_verify_free(b);
	return 0;
}
