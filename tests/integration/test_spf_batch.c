/*
 * The driver (mailtrust/run.h) against a real authoritative server: NSD on loopback
 * serving the zone of gen_batch_zone.sh (run by spf_batch_nsd.sh through
 * run_nsd.sh).  10,000 checks go through the driver; each must equal the
 * blocking mt_spf_check_run() result for the same input and the result that
 * RFC 7208 gives for the zone's records (expect() below).  Also: a
 * per-check time budget against a server that never answers, and
 * back-pressure (MT_EAGAIN) when the driver is full.
 */
#include <mailtrust/dns.h>
#include <mailtrust/spf.h>
#include <mailtrust/run.h>

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

/* Checks 0..NCHECKS-1 through the driver, at most in_flight at once (a pool
 * of checks reused as they finish); outcomes kept by input index. */
static unsigned drive(mt_dns_resolver *res, const mt_spf_options *o, const input *in,
                      unsigned n, unsigned in_flight, seen *out, unsigned *eagain)
{
	mt_run_options ro;
	mt_run *run = NULL;
	mt_error err = { 0 };
	mt_spf_check **pool = calloc(in_flight, sizeof *pool);
	size_t npool = 0;
	unsigned next = 0, got = 0;

	mt_run_options_init(&ro);
	ro.max_jobs = in_flight;
	CHECK(pool && mt_run_new(res, &ro, &run, &err) == MT_OK);
	if (!run || !pool)
		goto out;
	for (unsigned i = 0; i < in_flight; i++)
		CHECK(mt_spf_check_new(o, &pool[npool++], NULL) == MT_OK);
	while (got < n) {
		while (next < n && npool > 0) {
			mt_spf_check *chk = pool[--npool];
			mt_spf_request r = request(&in[next]);
			CHECK(mt_spf_check_start(chk, &r, &err) == MT_OK);
			CHECK(mt_run_add(run, mt_spf_check_job_ops(), chk, 0,
			                 (void *)(uintptr_t)next) == MT_OK);
			next++;
		}
		if (next < n && eagain) {
			/* the driver is full: one more is refused */
			mt_spf_check *extra = NULL;
			CHECK(mt_spf_check_new(o, &extra, NULL) == MT_OK);
			mt_spf_request r = request(&in[next]);
			CHECK(mt_spf_check_start(extra, &r, &err) == MT_OK);
			if (mt_run_add(run, mt_spf_check_job_ops(), extra, 0, NULL) == MT_EAGAIN)
				(*eagain)++;
			mt_spf_check_free(extra);
		}
		if (mt_run_wait(run, -1) != MT_OK) {
			CHECK(!"mt_run_wait failed");
			break;
		}
		void *job, *user;
		while (mt_run_next(run, &job, &user)) {
			keep(mt_spf_check_outcome(job), &out[(uintptr_t)user]);
			pool[npool++] = job;
			got++;
		}
	}
out:
	for (size_t i = 0; i < npool; i++)
		mt_spf_check_free(pool[i]);
	free(pool);
	mt_run_free(run);
	return got;
}

static void run_batch(mt_dns_resolver *inner, const input *in, const seen *ref)
{
	mt_dns_resolver *res = NULL;
	mt_error err = { 0 };
	unsigned got, differ = 0, wrong = 0, eagain = 0;
	seen *s = calloc(NCHECKS, sizeof *s);
	double t0 = now_s();

	/* The cache in front, as the CLI has it. */
	CHECK(mt_dns_cache_resolver_new(inner, NULL, &res, &err) == MT_OK);
	if (!res || !s)
		goto out;
	got = drive(res, NULL, in, NCHECKS, 300, s, &eagain);
	for (unsigned i = 0; i < got; i++) {
		if (s[i].result != ref[i].result || strcmp(s[i].mechanism, ref[i].mechanism) != 0 ||
		    strcmp(s[i].problem, ref[i].problem) != 0) {
			if (differ++ < 5)
				fprintf(stderr, "driver #%u differs: %s/%s/%s vs blocking %s/%s/%s\n", i,
				        mt_spf_result_name(s[i].result), s[i].mechanism, s[i].problem,
				        mt_spf_result_name(ref[i].result), ref[i].mechanism,
				        ref[i].problem);
		}
		if (s[i].result != in[i].want)
			wrong++;
	}
	CHECK_INT(got, NCHECKS);
	CHECK_INT(differ, 0);
	CHECK_INT(wrong, 0);
	CHECK(eagain > 0);
	printf("driver: %u checks in %.2f s, 300 in flight\n", got, now_s() - t0);
out:
	mt_dns_resolver_free(res);
	free(s);
}

/* A loopback UDP socket that never answers: a server that stays silent. */
static int silent_server(char *fwd, size_t cap)
{
	int port = 0, fd = mt_test_silent_udp(&port);
	if (fd >= 0)
		snprintf(fwd, cap, "127.0.0.1@%d", port);
	return fd;
}

static void test_budget(void)
{
	char fwd[64];
	int fd = silent_server(fwd, sizeof fwd);
	mt_dns_resolver *res = fd >= 0 ? resolver(fwd) : NULL;
	mt_spf_options o;
	input in[4] = {
		{ .ip = "192.0.2.1", .sender = "a@silent.example" },
		{ .ip = "192.0.2.1", .sender = "a@silent.example" },
		{ .ip = "192.0.2.1", .sender = "a@silent.example" },
		{ .ip = "192.0.2.1", .sender = "a@silent.example" },
	};
	seen s[4];
	double t0;

	CHECK(res != NULL);
	if (!res)
		goto out;
	mt_spf_options_init(&o);
	o.timeout_ms = 400;
	t0 = now_s();
	CHECK_INT(drive(res, &o, in, 4, 2, s, NULL), 4);
	for (unsigned i = 0; i < 4; i++) {
		CHECK(s[i].result == MT_SPF_TEMPERROR);
		CHECK(strstr(s[i].problem, "400 ms") != NULL);
	}
	/* Two at a time, 400 ms each: about 0.8 s, never the 5 s of libunbound. */
	double took = now_s() - t0;
	printf("silent server: 4 checks, 2 in flight, 400 ms budget: %.2f s\n", took);
	CHECK(took >= 0.75 && took < 2.0);
out:
	mt_dns_resolver_free(res);
	if (fd >= 0)
		close(fd);
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
	}
	test_budget();
	mt_dns_resolver_free(r1);
	mt_dns_resolver_free(r2);
	free(in);
	free(ref);
	return mt_test_done();
}
