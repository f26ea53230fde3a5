/*
 * mt_spf_batch against a real authoritative server: NSD on loopback
 * serving the zone of gen_batch_zone.sh (run by spf_batch_nsd.sh through
 * run_nsd.sh).  10,000 checks go through the batch; each must equal the
 * blocking mt_spf_check_run() result for the same input, the result that
 * RFC 7208 gives for the zone's records (expect() below), and come back in
 * submission order.  Also: a per-check time budget against a server that
 * never answers, a rejected request inside a batch, a non-libunbound
 * resolver.
 */
#include <mailtrust/dns.h>
#include <mailtrust/spf.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mt_test.h"

#define NCHECKS 10000
#define NDOMAINS 100

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static mt_dns_resolver *resolver(const char *fwd)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *r = NULL;
	mt_error err = { 0 };
	mt_dns_unbound_options_init(&o);
	o.forwarder = fwd;
	if (mt_dns_unbound_resolver_new(&o, &r, &err) != MT_OK)
		fprintf(stderr, "resolver: %s\n", err.message);
	return r;
}

typedef struct input {
	char ip[48];
	char sender[64];
	mt_spf_result want;
} input;

/* Shape 1 (v=spf1 a mx ~all) of domain d for client ip. */
static mt_spf_result shape1(unsigned d, const char *ip)
{
	char a[32], mx[32];
	snprintf(a, sizeof a, "203.0.113.%u", d);
	snprintf(mx, sizeof mx, "192.0.2.%u", d);
	return strcmp(ip, a) == 0 || strcmp(ip, mx) == 0 ? MT_SPF_PASS : MT_SPF_SOFTFAIL;
}

/* What RFC 7208 gives for the records gen_batch_zone.sh writes for dD. */
static mt_spf_result expect(unsigned d, const char *ip)
{
	char s[32];
	switch (d % 4) {
	case 0: /* include:inc(d%10) (ip4:10.K.0.0/16 ?all) mx a:web.dD -all */
		snprintf(s, sizeof s, "10.%u.", d % 10);
		if (strncmp(ip, s, strlen(s)) == 0)
			return MT_SPF_PASS;
		snprintf(s, sizeof s, "192.0.2.%u", d);
		if (strcmp(ip, s) == 0)
			return MT_SPF_PASS;
		snprintf(s, sizeof s, "203.0.113.%u", d + 100);
		if (strcmp(ip, s) == 0)
			return MT_SPF_PASS;
		/* an include whose record ends neutral does not match (5.2) */
		return MT_SPF_FAIL;
	case 1:
		return shape1(d, ip);
	case 2: /* redirect=d(d-1), a shape-1 domain */
		return shape1(d - 1, ip);
	default: /* ip4:198.51.100.D include:nothere -all */
		snprintf(s, sizeof s, "198.51.100.%u", d);
		/* include of a name without an SPF record is permerror (5.2) */
		return strcmp(ip, s) == 0 ? MT_SPF_PASS : MT_SPF_PERMERROR;
	}
}

static void make_inputs(input *in)
{
	for (unsigned j = 0; j < NCHECKS; j++) {
		unsigned d = j % NDOMAINS;
		switch ((j / NDOMAINS) % 6) {
		case 0: snprintf(in[j].ip, sizeof in[j].ip, "192.0.2.%u", d); break;
		case 1: snprintf(in[j].ip, sizeof in[j].ip, "203.0.113.%u", d); break;
		case 2: snprintf(in[j].ip, sizeof in[j].ip, "10.%u.1.%u", d % 10, j % 250); break;
		case 3: snprintf(in[j].ip, sizeof in[j].ip, "198.51.100.%u", d); break;
		case 4: snprintf(in[j].ip, sizeof in[j].ip, "203.0.113.%u", d + 100); break;
		default: snprintf(in[j].ip, sizeof in[j].ip, "2001:db8::%x", j); break;
		}
		snprintf(in[j].sender, sizeof in[j].sender, "u%u@d%u.batch.example", j, d);
		in[j].want = expect(d, in[j].ip);
		if (strchr(in[j].ip, ':')) /* IPv6 matches no ip4/a/mx here */
			in[j].want = d % 4 == 0 ? MT_SPF_FAIL : d % 4 == 3 ? MT_SPF_PERMERROR
			                                                  : MT_SPF_SOFTFAIL;
	}
}

/* What the blocking path said, kept for the comparison. */
typedef struct seen {
	mt_spf_result result;
	char mechanism[128];
	char problem[256];
} seen;

static void keep(const mt_spf_outcome *o, seen *s)
{
	s->result = o->result;
	snprintf(s->mechanism, sizeof s->mechanism, "%s", o->mechanism ? o->mechanism : "");
	snprintf(s->problem, sizeof s->problem, "%s", o->problem ? o->problem : "");
}

static mt_spf_request request(const input *in)
{
	mt_spf_request r = { .ip = in->ip, .sender = in->sender, .helo = "mail.client.example",
	                     .identity = MT_SPF_MAILFROM, .now = 1700000000 };
	return r;
}

static void run_blocking(mt_dns_resolver *res, const input *in, seen *out)
{
	mt_spf_check *chk = NULL;
	double t0 = now_s();
	unsigned bad = 0;
	CHECK(mt_spf_check_new(NULL, &chk, NULL) == MT_OK);
	for (unsigned j = 0; chk && j < NCHECKS; j++) {
		mt_error err = { 0 };
		mt_spf_request r = request(&in[j]);
		const mt_spf_outcome *o;
		if (mt_spf_check_start(chk, &r, &err) != MT_OK ||
		    mt_spf_check_run(chk, res) != MT_OK || !(o = mt_spf_check_outcome(chk))) {
			bad++;
			continue;
		}
		keep(o, &out[j]);
		if (o->result != in[j].want && bad++ < 5)
			fprintf(stderr, "blocking #%u %s %s: got %s, want %s (%s)\n", j, in[j].ip,
			        in[j].sender, mt_spf_result_name(o->result),
			        mt_spf_result_name(in[j].want), o->problem ? o->problem : "");
	}
	CHECK_INT(bad, 0);
	printf("blocking: %d checks in %.2f s\n", NCHECKS, now_s() - t0);
	mt_spf_check_free(chk);
}

static void run_batch(mt_dns_resolver *res, const input *in, const seen *ref)
{
	mt_spf_batch *b = NULL;
	mt_error err = { 0 };
	unsigned got = 0, order = 0, differ = 0, wrong = 0;
	double t0 = now_s();

	CHECK(mt_spf_batch_new(res, NULL, 300, &b, &err) == MT_OK);
	if (!b)
		return;
	for (unsigned j = 0; j < NCHECKS; j++) {
		mt_spf_request r = request(&in[j]);
		CHECK(mt_spf_batch_submit(b, &r, (void *)&in[j], &err) == MT_OK);
	}
	CHECK_INT(mt_spf_batch_pending(b), NCHECKS);
	while (mt_spf_batch_pending(b) > 0) {
		const mt_spf_batch_result *res_ = NULL;
		seen s;
		if (mt_spf_batch_next(b, -1, &res_) != MT_OK || !res_) {
			CHECK(!"mt_spf_batch_next gave no result");
			break;
		}
		if (res_->index != got || res_->user != (void *)&in[got])
			order++;
		if (res_->status != MT_OK || !res_->check) {
			wrong++;
			got++;
			continue;
		}
		keep(mt_spf_check_outcome(res_->check), &s);
		if (s.result != ref[got].result || strcmp(s.mechanism, ref[got].mechanism) != 0 ||
		    strcmp(s.problem, ref[got].problem) != 0) {
			if (differ++ < 5)
				fprintf(stderr, "batch #%u differs: %s/%s/%s vs blocking %s/%s/%s\n", got,
				        mt_spf_result_name(s.result), s.mechanism, s.problem,
				        mt_spf_result_name(ref[got].result), ref[got].mechanism,
				        ref[got].problem);
		}
		if (s.result != in[got].want)
			wrong++;
		got++;
	}
	CHECK_INT(got, NCHECKS);
	CHECK_INT(order, 0);
	CHECK_INT(differ, 0);
	CHECK_INT(wrong, 0);
	printf("batch: %u checks in %.2f s, in order\n", got, now_s() - t0);
	mt_spf_batch_free(b);
}

/* A loopback UDP socket that never answers: a server that stays silent. */
static int silent_server(char *fwd, size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	snprintf(fwd, cap, "127.0.0.1@%u", ntohs(sa.sin_port));
	return fd;
}

static void test_budget(void)
{
	char fwd[64];
	int fd = silent_server(fwd, sizeof fwd);
	mt_dns_resolver *res = fd >= 0 ? resolver(fwd) : NULL;
	mt_spf_batch *b = NULL;
	mt_spf_options o;
	mt_error err = { 0 };
	input in = { .ip = "192.0.2.1", .sender = "a@silent.example" };
	unsigned done = 0;
	double t0;

	CHECK(res != NULL);
	if (!res)
		goto out;
	mt_spf_options_init(&o);
	o.timeout_ms = 400;
	CHECK(mt_spf_batch_new(res, &o, 2, &b, &err) == MT_OK);
	if (!b)
		goto out;
	for (unsigned i = 0; i < 4; i++) {
		mt_spf_request r = request(&in);
		CHECK(mt_spf_batch_submit(b, &r, NULL, &err) == MT_OK);
	}
	t0 = now_s();
	/* Not finished within 50 ms: no result, and the call returns. */
	{
		const mt_spf_batch_result *r = (const void *)1;
		CHECK(mt_spf_batch_next(b, 50, &r) == MT_OK);
		CHECK(r == NULL);
	}
	while (mt_spf_batch_pending(b) > 0) {
		const mt_spf_batch_result *r = NULL;
		const mt_spf_outcome *oc;
		if (mt_spf_batch_next(b, -1, &r) != MT_OK || !r || !r->check)
			break;
		oc = mt_spf_check_outcome(r->check);
		CHECK_INT(r->index, done);
		CHECK(oc && oc->result == MT_SPF_TEMPERROR);
		CHECK(oc && oc->problem && strstr(oc->problem, "400 ms"));
		done++;
	}
	CHECK_INT(done, 4);
	/* Two at a time, 400 ms each: about 0.8 s, never the 5 s of libunbound. */
	double took = now_s() - t0;
	printf("silent server: 4 checks, 2 in flight, 400 ms budget: %.2f s\n", took);
	CHECK(took >= 0.75 && took < 2.0);
out:
	mt_spf_batch_free(b);
	mt_dns_resolver_free(res);
	if (fd >= 0)
		close(fd);
}

static void test_rejected_and_misuse(mt_dns_resolver *res)
{
	mt_spf_batch *b = NULL;
	mt_error err = { 0 };
	mt_dns_zone *zone = mt_dns_zone_new();
	mt_dns_resolver *zres = zone ? mt_dns_zone_resolver_new(zone) : NULL;
	input ok = { .ip = "192.0.2.1", .sender = "x@d1.batch.example" };
	input bad = { .ip = "not-an-address", .sender = "x@d1.batch.example" };
	mt_spf_request r;
	const mt_spf_batch_result *out = NULL;

	CHECK(mt_spf_batch_new(zres, NULL, 4, &b, &err) == MT_EINVAL);
	CHECK(b == NULL);
	CHECK(mt_spf_batch_new(res, NULL, 4, &b, &err) == MT_OK);
	if (!b)
		goto out;
	r = request(&ok);
	mt_spf_batch_submit(b, &r, NULL, &err);
	r = request(&bad);
	mt_spf_batch_submit(b, &r, NULL, &err);
	r = request(&ok);
	mt_spf_batch_submit(b, &r, NULL, &err);
	for (size_t i = 0; i < 3; i++) {
		CHECK(mt_spf_batch_next(b, -1, &out) == MT_OK && out);
		if (!out)
			break;
		CHECK_INT(out->index, i);
		if (i == 1) {
			CHECK(out->status == MT_EINVAL && out->check == NULL && out->error);
		} else {
			CHECK(out->status == MT_OK && out->check);
			/* d1: v=spf1 a mx ~all, and 192.0.2.1 is mx.d1 */
			CHECK(out->check && mt_spf_check_outcome(out->check)->result == MT_SPF_PASS);
		}
	}
	CHECK_INT(mt_spf_batch_pending(b), 0);
	CHECK(mt_spf_batch_next(b, 0, &out) == MT_OK && out == NULL);
out:
	mt_spf_batch_free(b);
	mt_dns_resolver_free(zres);
	mt_dns_zone_free(zone);
}

int main(void)
{
	const char *addr = getenv("MT_NSD_ADDR"), *port = getenv("MT_NSD_PORT");
	char fwd[64];
	input *in = calloc(NCHECKS, sizeof *in);
	seen *ref = calloc(NCHECKS, sizeof *ref);
	mt_dns_resolver *r1 = NULL, *r2 = NULL;

	if (!addr || !port) {
		fprintf(stderr, "run me through run_nsd.sh (MT_NSD_ADDR, MT_NSD_PORT)\n");
		return 2;
	}
	if (!in || !ref)
		return 2;
	snprintf(fwd, sizeof fwd, "%s@%s", addr, port);
	make_inputs(in);
	r1 = resolver(fwd);
	r2 = resolver(fwd);
	CHECK(r1 && r2);
	if (r1 && r2) {
		run_blocking(r1, in, ref);
		run_batch(r2, in, ref); /* its own cold cache: real traffic */
		test_rejected_and_misuse(r1);
	}
	test_budget();
	mt_dns_resolver_free(r1);
	mt_dns_resolver_free(r2);
	free(in);
	free(ref);
	return mt_test_done();
}
