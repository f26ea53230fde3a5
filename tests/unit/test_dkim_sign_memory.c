/* A 50 MB message signs (rsa-sha256 and ed25519-sha256 in one pass) and
 * verifies with flat memory: the message is generated in pieces, streamed
 * into the signer, then generated again behind the signature fields and
 * streamed into the verifier; the peak RSS (getrusage ru_maxrss) may grow
 * by at most MEMORY_BOUND_KB over what a small message cost. */
#include <mailtrust/dkim.h>
#include <mailtrust/dkim_sign.h>
#include <mailtrust/dns.h>
#include "mt_test.h"

#include <sys/resource.h>
#include <time.h>

#define MESSAGE_BYTES ((uint64_t)50 * 1000 * 1000)
#define MEMORY_BOUND_KB 8192

static const char HEADER[] =
	"From: Alice <alice@example.com>\r\n"
	"To: Bob <bob@example.org>\r\n"
	"Subject: a large message\r\n"
	"Date: Mon, 1 Dec 2026 08:00:00 +0000\r\n"
	"\r\n";

/* The message, piece by piece: the header, then numbered body lines (with
 * runs of spaces and tabs for relaxed to fold) up to total octets. */
typedef struct gen {
	uint64_t total, done;
	unsigned long line;
	char pending[160];
	size_t plen, poff;
} gen;

static size_t gen_fill(gen *g, char *buf, size_t cap)
{
	size_t n = 0;
	while (n < cap && g->done < g->total) {
		size_t take;
		if (g->poff == g->plen) {
			if (g->line == 0) {
				memcpy(g->pending, HEADER, sizeof HEADER - 1);
				g->plen = sizeof HEADER - 1;
			} else {
				int k = snprintf(g->pending, sizeof g->pending,
				                 "line %lu: the quick brown  fox\tjumps over the lazy dog %lu \r\n",
				                 g->line, g->line * 7919UL);
				g->plen = (size_t)k;
			}
			g->poff = 0;
			g->line++;
		}
		take = g->plen - g->poff;
		if (take > cap - n)
			take = cap - n;
		if (take > g->total - g->done)
			take = (size_t)(g->total - g->done);
		memcpy(buf + n, g->pending + g->poff, take);
		g->poff += take;
		g->done += take;
		n += take;
	}
	return n;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static mt_dns_zone *zone;
static mt_dns_resolver *res;
static mt_dkim_keygen *rsa, *ed;

/* Sign and verify a generated message of total octets; chunks vary from
 * 1 to 64 KiB.  Returns true when both signatures pass. */
static bool round_trip(uint64_t total, double *secs)
{
	static char buf[65536];
	mt_dkim_sign *s = NULL;
	mt_dkim_verify *v = NULL;
	mt_dkim_verify_options vo;
	const char *fields;
	size_t flen = 0, n, step = 0;
	bool ok = true;
	gen g = { .total = total };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(mt_dkim_sign_new(NULL, &s, NULL) == MT_OK);
	CHECK(mt_dkim_sign_add(s, rsa, "example.com", "rsa", NULL, NULL) == MT_OK);
	CHECK(mt_dkim_sign_add(s, ed, "example.com", "ed", NULL, NULL) == MT_OK);
	while ((n = gen_fill(&g, buf, (size_t)1 << (step++ % 17))) > 0)
		if (mt_dkim_sign_feed(s, buf, n, NULL) != MT_OK)
			ok = false;
	CHECK(mt_dkim_sign_finish(s, NULL) == MT_OK);
	fields = mt_dkim_sign_fields(s, &flen);
	CHECK(fields != NULL);

	mt_dkim_verify_options_init(&vo);
	CHECK(mt_dkim_verify_new(&vo, &v, NULL) == MT_OK);
	if (fields)
		CHECK(mt_dkim_verify_feed(v, fields, flen, NULL) == MT_OK);
	memset(&g, 0, sizeof g);
	g.total = total;
	while ((n = gen_fill(&g, buf, sizeof buf - (step++ % 4096))) > 0)
		if (mt_dkim_verify_feed(v, buf, n, NULL) != MT_OK)
			ok = false;
	CHECK(mt_dkim_verify_finish(v, NULL) == MT_OK);
	CHECK(mt_dkim_verify_run(v, res) == MT_OK);
	for (size_t k = 0; k < 2; k++) {
		const mt_dkim_sig_result *r = mt_dkim_verify_result(v, k);
		if (!r || r->result != MT_DKIM_PASS)
			ok = false;
	}
	CHECK_INT(mt_dkim_verify_count(v), 2);
	mt_dkim_verify_free(v);
	mt_dkim_sign_free(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (secs)
		*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return ok;
}

static void publish(const char *name, const char *rec)
{
	const char *strs[8];
	size_t lens[8], n = 0, len = strlen(rec);
	for (size_t o = 0; o < len && n < 8; o += 255) {
		strs[n] = rec + o;
		lens[n++] = len - o > 255 ? 255 : len - o;
	}
	CHECK(mt_dns_zone_add_txt(zone, name, MT_DNS_TXT, 300, strs, lens, n) == MT_OK);
}

int main(void)
{
	long base, peak;
	double secs = 0;

	CHECK(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_RSA, 2048, &rsa, NULL) == MT_OK);
	CHECK(mt_dkim_keygen_generate(MT_DKIM_KEYGEN_ED25519, 0, &ed, NULL) == MT_OK);
	zone = mt_dns_zone_new();
	res = mt_dns_zone_resolver_new(zone);
	if (!rsa || !ed || !zone || !res)
		return mt_test_done();
	publish("rsa._domainkey.example.com", mt_dkim_keygen_record(rsa));
	publish("ed._domainkey.example.com", mt_dkim_keygen_record(ed));

	/* a small message first: what every message costs */
	CHECK(round_trip(200000, NULL));
	base = maxrss_kb();
	CHECK(round_trip(MESSAGE_BYTES, &secs));
	peak = maxrss_kb();
	printf("50 MB message signed (rsa-sha256 + ed25519-sha256) and verified in %.2f s: "
	       "peak RSS %ld KiB, %ld KiB over a 200 KB message's (bound %d KiB)\n",
	       secs, peak, peak - base, MEMORY_BOUND_KB);
	CHECK(peak - base < MEMORY_BOUND_KB);

	mt_dkim_keygen_free(rsa);
	mt_dkim_keygen_free(ed);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return mt_test_done();
}
