/*
 * The spf-world benchmark through libspf2 (Debian's libspf2-dev), for
 * comparison: a cold pass over every check of checks.tsv and a warm pass
 * in the same process, with libspf2's default cache (SPF_server_new with
 * SPF_DNS_CACHE: 2^8 entries) or a cache of 2^BITS entries in front of
 * its resolver.  Prints the RESULT line bench/run_bench_world.sh reads.
 *
 *   bench_world_spf2 [--cache-bits BITS] --checks checks.tsv --resolver 127.0.0.1@PORT
 *
 * Pointing libspf2 at the loopback server: its resolver layer keeps one
 * res_state per thread, filled by res_ninit() from /etc/resolv.conf on
 * the first lookup, and offers no way to name a server.  This program
 * defines res_ninit() itself (glibc's resolv.h makes that __res_ninit,
 * the symbol libspf2 calls): it runs glibc's own, then replaces the
 * server list with the one loopback address, so every query goes to
 * 127.x.x.x:PORT and nowhere else (the resolv.conf options stay).  Before
 * the first check the program makes sure the dynamic linker really
 * resolves __res_ninit to this definition, and refuses to run otherwise;
 * the server's query counter shows the queries arrive.
 */
#define _GNU_SOURCE 1
#include "world.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_cache.h>
#include <spf2/spf_dns_resolv.h>

/* ---- the resolver hook ------------------------------------------------------------- */

static struct sockaddr_in loopback_server;   /* family 0 until main() sets it */
static unsigned long hook_calls;

/* Exported despite -fvisibility=hidden: libspf2 must bind to it. */
__attribute__((visibility("default"))) int res_ninit(res_state statp)
{
	static int (*real)(res_state);
	void *sym;
	int rc;

	if (loopback_server.sin_family != AF_INET) {
		errno = EINVAL;   /* never ask the system's servers */
		return -1;
	}
	if (!real) {
		sym = dlsym(RTLD_NEXT, "__res_ninit");
		if (!sym) {
			errno = ENOSYS;
			return -1;
		}
		memcpy(&real, &sym, sizeof real);
	}
	rc = real(statp);
	if (rc != 0)
		return rc;
	statp->nsaddr_list[0] = loopback_server;
	statp->nscount = 1;
	hook_calls++;
	return 0;
}

/* Does the symbol libspf2 calls resolve to the definition above? */
static bool hook_active(void)
{
	void *sym = dlsym(RTLD_DEFAULT, "__res_ninit");
	int (*mine)(res_state) = res_ninit;
	void *p;
	memcpy(&p, &mine, sizeof p);
	return sym == p;
}

/* ---- libspf2's messages: counted, not printed ---------------------------------- */

static unsigned long messages;

static void quiet(const char *file, int line, const char *msg)
{
	messages++;
}

/* ---- the checks ---------------------------------------------------------------------- */

static const char *result_name(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_NEUTRAL: return "neutral";
	case SPF_RESULT_PASS: return "pass";
	case SPF_RESULT_FAIL: return "fail";
	case SPF_RESULT_SOFTFAIL: return "softfail";
	case SPF_RESULT_NONE: return "none";
	case SPF_RESULT_TEMPERROR: return "temperror";
	case SPF_RESULT_PERMERROR: return "permerror";
	default: return "invalid";
	}
}

static bool pass_spf2(void *ctx, const bw_world *w, size_t n, const char **results)
{
	SPF_server_t *server = ctx;
	for (size_t i = 0; i < n; i++) {
		const bw_check *c = &w->checks[i];
		SPF_request_t *req = SPF_request_new(server);
		SPF_response_t *resp = NULL;
		SPF_errcode_t ec;
		results[i] = "error";
		if (!req) {
			fputs("bench_world_spf2: out of memory\n", stderr);
			return false;
		}
		ec = strchr(c->ip, ':') ? SPF_request_set_ipv6_str(req, c->ip)
		                        : SPF_request_set_ipv4_str(req, c->ip);
		/* HELO first: an empty MAIL FROM then becomes postmaster@HELO. */
		if (ec == SPF_E_SUCCESS)
			ec = SPF_request_set_helo_dom(req, c->helo);
		if (ec == SPF_E_SUCCESS && SPF_request_set_env_from(req, c->mail_from) == 0) {
			SPF_request_query_mailfrom(req, &resp);
			if (resp)
				results[i] = result_name(SPF_response_result(resp));
		}
		SPF_response_free(resp);
		SPF_request_free(req);
	}
	return true;
}

static void usage(FILE *f)
{
	fputs("usage: bench_world_spf2 [--cache-bits BITS] --checks FILE --resolver 127.0.0.1@PORT\n"
	      "Runs every check of an spf-world checks.tsv twice (cold, then warm) through\n"
	      "libspf2 and prints a RESULT line; see bench/run_bench_world.sh.\n"
	      "  --cache-bits BITS    a cache of 2^BITS entries (1-24) instead of libspf2's\n"
	      "                       default (SPF_server_new with SPF_DNS_CACHE: 2^8)\n", f);
	fputs(bw_common_usage, f);
}

int main(int argc, char **argv)
{
	bw_args a;
	bw_world w = { 0 };
	bw_pass cold, warm;
	const char **results = NULL;
	SPF_server_t *server = NULL;
	int bits = 0;
	char driver[32], label[64];
	size_t n, nwarm;
	int rc = 1;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
	if (!bw_parse_common(argc, argv, &a)) {
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		char *e;
		long v;
		if (!argv[i])
			continue;
		if (strcmp(argv[i], "--cache-bits") == 0 && i + 1 < argc) {
			errno = 0;
			v = strtol(argv[++i], &e, 10);
			if (errno || *e || v < 1 || v > 24) {
				fprintf(stderr, "--cache-bits: not a number from 1 to 24: '%s'\n", argv[i]);
				return 2;
			}
			bits = (int)v;
		} else {
			fprintf(stderr, "bench_world_spf2: unknown option or missing value: '%s'\n",
			        argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (inet_pton(AF_INET, a.addr, &loopback_server.sin_addr) != 1) {
		fprintf(stderr, "bench_world_spf2: %s: only an IPv4 loopback address is supported "
		        "(glibc's res_state holds IPv4 servers)\n", a.addr);
		return 2;
	}
	loopback_server.sin_port = htons((uint16_t)a.port);
	loopback_server.sin_family = AF_INET;
	if (!hook_active()) {
		fputs("bench_world_spf2: refusing to run: __res_ninit does not resolve to this "
		      "program's hook, so libspf2 would ask /etc/resolv.conf's servers\n", stderr);
		return 1;
	}
	SPF_debug_handler = quiet;
	SPF_info_handler = quiet;
	SPF_warning_handler = quiet;

	if (!bw_load(a.checks, &w))
		return 1;
	n = a.limit && a.limit < w.n ? a.limit : w.n;
	nwarm = a.warm_limit && a.warm_limit < n ? a.warm_limit : n;
	results = calloc(n, sizeof *results);
	if (!results) {
		fputs("bench_world_spf2: out of memory\n", stderr);
		goto out;
	}
	if (bits == 0) {
		server = SPF_server_new(SPF_DNS_CACHE, 0);
		snprintf(driver, sizeof driver, "libspf2-default");
		snprintf(label, sizeof label, "libspf2, its default cache");
	} else {
		SPF_dns_server_t *r = SPF_dns_resolv_new(NULL, NULL, 0);
		SPF_dns_server_t *dc = r ? SPF_dns_cache_new(r, NULL, 0, bits) : NULL;
		server = dc ? SPF_server_new_dns(dc, 0) : NULL;
		snprintf(driver, sizeof driver, "libspf2-bits%d", bits);
		if (bits >= 10)
			snprintf(label, sizeof label, "libspf2, %luk-entry cache", (1ul << bits) / 1024);
		else
			snprintf(label, sizeof label, "libspf2, %lu-entry cache", 1ul << bits);
	}
	if (!server) {
		fputs("bench_world_spf2: cannot create the libspf2 server\n", stderr);
		goto out;
	}
	if (!bw_run_pass(pass_spf2, server, &w, n, false, results, &cold))
		goto out;
	if (a.mismatches)
		bw_show_mismatches(&w, n, results, a.mismatches);
	if (!bw_run_pass(pass_spf2, server, &w, nwarm, a.callgrind, results, &warm))
		goto out;
	if (hook_calls == 0) {
		fputs("bench_world_spf2: libspf2 never initialised its resolver through the hook\n",
		      stderr);
		goto out;
	}
	bw_report(driver, label, &cold, &warm);
	if (messages)
		fprintf(stderr, "bench_world_spf2: libspf2 logged %lu messages (not shown)\n", messages);
	rc = 0;
out:
	if (server)
		SPF_server_free(server);
	free(results);
	bw_free(&w);
	return rc;
}
