/*
 * The libunbound resolver against a real authoritative server (NSD),
 * started on loopback by run_nsd.sh with the zones written there.
 * Expected values come from those zones, not from running this code.
 */
#include <mailtrust/dns.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mt_test.h"

static const char *nsd_addr, *nsd_port, *nsd_conf, *nsd_control, *nsd_dir;
static char forwarder[64];

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static long nsd_stat(const char *key)
{
	return mt_test_nsd_stat(key);
}

static mt_dns_resolver *new_resolver(const char *fwd, const char *config, unsigned timeout_ms)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *r = NULL;
	mt_error err = { 0 };
	mt_dns_unbound_options_init(&o);
	o.forwarder = fwd;
	o.config_file = config;
	o.timeout_ms = timeout_ms;
	if (mt_dns_unbound_resolver_new(&o, &r, &err) != MT_OK) {
		fprintf(stderr, "resolver: %s\n", err.message);
		return NULL;
	}
	return r;
}

static mt_dns_answer *ask(mt_dns_resolver *r, const char *name, uint16_t type)
{
	mt_dns_answer *a = NULL;
	mt_status st = mt_dns_resolve(r, name, type, 0, &a);
	if (st != MT_OK) {
		fprintf(stderr, "resolve %s: %s\n", name, mt_strerror(st));
		return NULL;
	}
	return a;
}

/* Does the answer hold a record with these data? */
static bool has_rr(const mt_dns_answer *a, uint16_t pref, const void *data, size_t len)
{
	for (size_t i = 0; a && i < a->count; i++)
		if (a->rr[i].len == len && a->rr[i].pref == pref && memcmp(a->rr[i].data, data, len) == 0)
			return true;
	return false;
}

static bool has_name(const mt_dns_answer *a, uint16_t pref, const char *name)
{
	return has_rr(a, pref, name, strlen(name));
}

static void test_txt(mt_dns_resolver *r)
{
	char joined[512];
	mt_dns_answer *a = ask(r, "spf.mt.example", MT_DNS_TXT);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_INT(a->rcode, MT_DNS_NOERROR);
	CHECK_INT(a->count, 1);
	CHECK_INT(a->dnssec, MT_DNSSEC_UNCHECKED);
	CHECK(a->canonical_name == NULL);
	if (a->count == 1) {
		CHECK_INT(a->rr[0].type, MT_DNS_TXT);
		CHECK(a->rr[0].ttl > 0 && a->rr[0].ttl <= 300);
		mt_dns_txt_join(a->rr[0].data, a->rr[0].len, joined, sizeof joined);
		CHECK_STR(joined, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
		/* three character-strings: 3 length octets + their text */
		CHECK_INT(a->rr[0].len, 3 + strlen("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"));
	}
	mt_dns_answer_free(a);

	a = ask(r, "two.mt.example", MT_DNS_TXT);
	CHECK(a && a->count == 2);
	CHECK(has_rr(a, 0, "\x0c" "first record", 13));
	CHECK(has_rr(a, 0, "\x06" "second" "\x07" " record", 15));
	mt_dns_answer_free(a);

	a = ask(r, "empty.mt.example", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].len == 1 && a->rr[0].data[0] == 0);
	mt_dns_answer_free(a);
}

static void test_addresses(mt_dns_resolver *r)
{
	static const uint8_t a10[4] = { 192, 0, 2, 10 }, a11[4] = { 192, 0, 2, 11 };
	uint8_t six[16];
	mt_dns_answer *a = ask(r, "a.mt.example", MT_DNS_A);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 2);
	CHECK(has_rr(a, 0, a10, 4));
	CHECK(has_rr(a, 0, a11, 4));
	mt_dns_answer_free(a);

	inet_pton(AF_INET6, "2001:db8::1", six);
	a = ask(r, "a.mt.example", MT_DNS_AAAA);
	CHECK(a && a->count == 1 && a->rr[0].type == MT_DNS_AAAA);
	CHECK(has_rr(a, 0, six, 16));
	mt_dns_answer_free(a);
}

static void test_mx_ptr(mt_dns_resolver *r)
{
	mt_dns_answer *a = ask(r, "mx.mt.example", MT_DNS_MX);
	CHECK(a && a->count == 2);
	/* NSD compresses "mail.mt.example" against the owner in its answer */
	CHECK(has_name(a, 10, "mail.mt.example"));
	CHECK(has_name(a, 20, "mail2.other.example"));
	mt_dns_answer_free(a);

	/* 2.0.192.in-addr.arpa is an RFC 6303 zone libunbound would answer */
	a = ask(r, "10.2.0.192.in-addr.arpa", MT_DNS_PTR);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
	CHECK(has_name(a, 0, "a.mt.example"));
	mt_dns_answer_free(a);

	a = ask(r, "1.0.0.10.in-addr.arpa", MT_DNS_PTR);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
	CHECK(has_name(a, 0, "private.mt.example"));
	mt_dns_answer_free(a);

	a = ask(r, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	        MT_DNS_PTR);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
	CHECK(has_name(a, 0, "a.mt.example"));
	mt_dns_answer_free(a);
}

static void test_cname(mt_dns_resolver *r)
{
	char joined[512];
	static const uint8_t a10[4] = { 192, 0, 2, 10 };
	mt_dns_answer *a = ask(r, "c1.mt.example", MT_DNS_TXT);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
	if (a && a->count == 1) {
		CHECK_INT(a->rr[0].type, MT_DNS_TXT);
		mt_dns_txt_join(a->rr[0].data, a->rr[0].len, joined, sizeof joined);
		CHECK_STR(joined, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
	}
	CHECK_STR(a ? a->canonical_name : NULL, "spf.mt.example");
	mt_dns_answer_free(a);

	a = ask(r, "WWW.mt.example", MT_DNS_A);
	CHECK(a && a->count == 2 && has_rr(a, 0, a10, 4));
	CHECK_STR(a ? a->canonical_name : NULL, "a.mt.example");
	mt_dns_answer_free(a);

	/* CNAME to a name without the asked type: NODATA, canonical name kept */
	a = ask(r, "www.mt.example", MT_DNS_MX);
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 0);
	CHECK_STR(a ? a->canonical_name : NULL, "a.mt.example");
	mt_dns_answer_free(a);
}

static void test_void(mt_dns_resolver *r)
{
	mt_dns_answer *a = ask(r, "nx.mt.example", MT_DNS_TXT);
	CHECK(a && a->rcode == MT_DNS_NXDOMAIN && a->count == 0);
	mt_dns_answer_free(a);

	a = ask(r, "a.mt.example", MT_DNS_TXT); /* name exists, no TXT */
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 0);
	mt_dns_answer_free(a);

	a = ask(r, "deep.mt.example", MT_DNS_A); /* empty non-terminal */
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 0);
	mt_dns_answer_free(a);

	a = ask(r, "bad..name", MT_DNS_A);
	CHECK(a && a->rcode == MT_DNS_FAILURE && a->why != NULL);
	mt_dns_answer_free(a);
}

static void test_tcp(mt_dns_resolver *r)
{
	long tcp0 = nsd_stat("num.tcp"), tcp1;
	mt_dns_answer *a = ask(r, "big.mt.example", MT_DNS_TXT);
	size_t i;
	bool all_x = true;
	CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
	if (a && a->count == 1) {
		CHECK_INT(a->rr[0].len, 10 * 256);
		for (i = 0; i < a->rr[0].len; i++)
			if (i % 256 == 0 ? a->rr[0].data[i] != 255 : a->rr[0].data[i] != 'x')
				all_x = false;
		CHECK(all_x);
	}
	mt_dns_answer_free(a);
	tcp1 = nsd_stat("num.tcp");
	printf("big TXT: NSD TCP queries before %ld, after %ld\n", tcp0, tcp1);
	CHECK(tcp0 >= 0 && tcp1 > tcp0);
}

static void test_servfail(mt_dns_resolver *r)
{
	double t0 = now_ms();
	mt_dns_answer *a = ask(r, "x.broken.example", MT_DNS_A);
	CHECK(a && a->rcode == MT_DNS_SERVFAIL && a->why != NULL);
	printf("SERVFAIL answered in %.0f ms (%s)\n", now_ms() - t0, a && a->why ? a->why : "");
	mt_dns_answer_free(a);
}

static void test_cache(void)
{
	mt_dns_resolver *r = new_resolver(forwarder, NULL, 3000);
	mt_dns_resolver *r2 = new_resolver(forwarder, NULL, 3000);
	mt_dns_answer *a;
	long c0, c1, c2, c3;
	CHECK(r && r2);
	if (!r || !r2)
		goto out;
	c0 = nsd_stat("num.type.TXT");
	a = ask(r, "cache.mt.example", MT_DNS_TXT);
	CHECK(a && a->count == 1);
	mt_dns_answer_free(a);
	c1 = nsd_stat("num.type.TXT");
	a = ask(r, "cache.mt.example", MT_DNS_TXT);
	CHECK(a && a->count == 1 && a->rr[0].ttl <= 60);
	mt_dns_answer_free(a);
	c2 = nsd_stat("num.type.TXT");
	/* another resolver has its own cache: the server is asked again */
	a = ask(r2, "cache.mt.example", MT_DNS_TXT);
	CHECK(a && a->count == 1);
	mt_dns_answer_free(a);
	c3 = nsd_stat("num.type.TXT");
	printf("cache: NSD TXT queries %ld -> %ld (first) -> %ld (repeat) -> %ld (new resolver)\n",
	       c0, c1, c2, c3);
	CHECK(c0 >= 0);
	CHECK_INT(c1 - c0, 1);
	CHECK_INT(c2 - c1, 0);
	CHECK_INT(c3 - c2, 1);
out:
	mt_dns_resolver_free(r);
	mt_dns_resolver_free(r2);
}

static void test_timeout(void)
{
	int port = 0, fd = mt_test_silent_udp(&port);
	char fwd[64], conf[1024];
	mt_dns_resolver *r = NULL;
	mt_dns_answer *a = NULL;
	double t0, ms;
	FILE *f;
	CHECK(fd >= 0);
	if (fd < 0)
		return;

	/* 1. the forwarder itself is silent */
	snprintf(fwd, sizeof fwd, "127.0.0.1@%d", port);
	r = new_resolver(fwd, NULL, 1500);
	CHECK(r != NULL);
	t0 = now_ms();
	a = r ? ask(r, "spf.mt.example", MT_DNS_TXT) : NULL;
	ms = now_ms() - t0;
	CHECK(a && a->rcode == MT_DNS_TIMEOUT && a->count == 0);
	printf("silent forwarder: %s after %.0f ms (budget 1500 ms; %s)\n",
	       a ? mt_dns_rcode_name(a->rcode) : "?", ms, a && a->why ? a->why : "");
	CHECK(ms >= 1450 && ms < 2500);
	mt_dns_answer_free(a);
	/* a per-question budget overrides the resolver's */
	t0 = now_ms();
	a = NULL;
	CHECK(r && mt_dns_resolve(r, "a.mt.example", MT_DNS_A, 300, &a) == MT_OK);
	ms = now_ms() - t0;
	CHECK(a && a->rcode == MT_DNS_TIMEOUT);
	printf("silent forwarder, 300 ms budget: %.0f ms\n", ms);
	CHECK(ms >= 280 && ms < 1000);
	mt_dns_answer_free(a);
	mt_dns_resolver_free(r);

	/* 2. one zone's server is silent (a stub zone), the rest answers */
	snprintf(conf, sizeof conf, "%s/silent-stub.conf", nsd_dir);
	f = fopen(conf, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f, "server:\n\tdo-not-query-localhost: no\n"
		           "stub-zone:\n\tname: \"silent.mt.example\"\n\tstub-addr: 127.0.0.1@%d\n",
		        port);
		fclose(f);
	}
	r = new_resolver(forwarder, conf, 1500);
	CHECK(r != NULL);
	if (r) {
		a = ask(r, "spf.mt.example", MT_DNS_TXT);
		CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
		mt_dns_answer_free(a);
		t0 = now_ms();
		a = ask(r, "x.silent.mt.example", MT_DNS_TXT);
		ms = now_ms() - t0;
		CHECK(a && a->rcode == MT_DNS_TIMEOUT);
		printf("silent stub zone: %s after %.0f ms (budget 1500 ms)\n",
		       a ? mt_dns_rcode_name(a->rcode) : "?", ms);
		CHECK(ms >= 1450 && ms < 2500);
		mt_dns_answer_free(a);
		/* the resolver still works after a cancelled question */
		a = ask(r, "fresh.mt.example", MT_DNS_TXT);
		CHECK(a && a->rcode == MT_DNS_NOERROR && a->count == 1);
		mt_dns_answer_free(a);
	}
	mt_dns_resolver_free(r);
	close(fd);
}

static void test_dnssec_bogus(void)
{
	/* Validation with the root trust anchor, but NSD (the only server)
	 * refuses the root's DNSKEY: nothing can be proven, the answer is bogus. */
	mt_dns_unbound_options o;
	mt_dns_resolver *r = NULL;
	mt_dns_answer *a = NULL;
	mt_error err = { 0 };
	double t0;
	if (access("/usr/share/dns/root.key", R_OK) != 0) {
		printf("SKIP dnssec: /usr/share/dns/root.key missing (dns-root-data)\n");
		return;
	}
	mt_dns_unbound_options_init(&o);
	o.forwarder = forwarder;
	o.dnssec = true;
	o.timeout_ms = 5000;
	CHECK(mt_dns_unbound_resolver_new(&o, &r, &err) == MT_OK);
	if (!r)
		return;
	t0 = now_ms();
	a = ask(r, "spf.mt.example", MT_DNS_TXT);
	CHECK(a && a->rcode == MT_DNS_FAILURE && a->dnssec == MT_DNSSEC_BOGUS && a->count == 0);
	printf("dnssec: %s/%s in %.0f ms: %s\n", a ? mt_dns_rcode_name(a->rcode) : "?",
	       a ? mt_dnssec_state_name(a->dnssec) : "?", now_ms() - t0, a && a->why ? a->why : "");
	mt_dns_answer_free(a);
	mt_dns_resolver_free(r);
}

static void test_bad_options(void)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *r = NULL;
	mt_error err = { 0 };
	mt_dns_unbound_options_init(&o);
	o.forwarder = "not-an-address";
	CHECK(mt_dns_unbound_resolver_new(&o, &r, &err) != MT_OK);
	CHECK(r == NULL && err.message[0] != '\0');
	/* a port libunbound would take and then fail every question with */
	static const char *const bad[] = { "127.0.0.1@0", "127.0.0.1@65536", "127.0.0.1@",
	                                   "127.0.0.1@5x", "::1@123456", "@53" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o.forwarder = bad[i];
		CHECK_INT(mt_dns_unbound_resolver_new(&o, &r, &err), MT_EINVAL);
		CHECK(r == NULL && strstr(err.message, "ADDR@PORT") != NULL);
	}
	o.forwarder = "::1@5353";
	CHECK_INT(mt_dns_unbound_resolver_new(&o, &r, &err), MT_OK);
	mt_dns_resolver_free(r);
	r = NULL;
	mt_dns_unbound_options_init(&o);
	o.config_file = "/nonexistent/unbound.conf";
	CHECK(mt_dns_unbound_resolver_new(&o, &r, &err) != MT_OK && r == NULL);
}

static void bench_qps(mt_dns_resolver *r)
{
	/* cached answers: the cost of one question through the API */
	int n = 2000;
	double t0 = now_ms(), ms;
	for (int i = 0; i < n; i++) {
		mt_dns_answer *a = ask(r, "spf.mt.example", MT_DNS_TXT);
		mt_dns_answer_free(a);
	}
	ms = now_ms() - t0;
	printf("warm cache: %d questions in %.0f ms (%.0f per second)\n", n, ms, n * 1000.0 / ms);
}

int main(void)
{
	mt_dns_resolver *r;
	nsd_addr = getenv("MT_NSD_ADDR");
	nsd_port = getenv("MT_NSD_PORT");
	nsd_conf = getenv("MT_NSD_CONF");
	nsd_control = getenv("MT_NSD_CONTROL");
	nsd_dir = getenv("MT_NSD_DIR");
	if (!nsd_addr || !nsd_port || !nsd_conf || !nsd_control || !nsd_dir) {
		fprintf(stderr, "run me through run_nsd.sh\n");
		return 2;
	}
	if (strncmp(nsd_addr, "127.", 4) != 0) {
		fprintf(stderr, "refusing to run: %s is not on loopback\n", nsd_addr);
		return 2;
	}
	snprintf(forwarder, sizeof forwarder, "%s@%s", nsd_addr, nsd_port);
	r = new_resolver(forwarder, NULL, 5000);
	CHECK(r != NULL);
	if (!r)
		return mt_test_done();
	test_txt(r);
	test_addresses(r);
	test_mx_ptr(r);
	test_cname(r);
	test_void(r);
	test_tcp(r);
	test_servfail(r);
	test_cache();
	test_timeout();
	test_dnssec_bogus();
	test_bad_options();
	bench_qps(r);
	mt_dns_resolver_free(r);
	return mt_test_done();
}
