/* A small verifier for the CLI tests of "dkim sign" (until "dkim verify"
 * exists): dkim_verify_tool ZONE-FILE NOW [FILE]  reads the message (default
 * standard input), verifies it with the library against the zone at time
 * NOW (0: no time checks) and prints one line per signature,
 * "RESULT d=D s=S a=A l_risk=0|1 REASON".  Exit 0 when every signature
 * passes (and there is one), 1 otherwise, 2 on a usage or set-up error. */
#include <mailtrust/mailtrust.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	mt_dns_zone *zone = mt_dns_zone_new();
	mt_dns_resolver *res = NULL;
	mt_dkim_verify_options o;
	mt_dkim_verify *v = NULL;
	mt_error err = { 0 };
	FILE *in = stdin;
	char buf[4096];
	size_t n, count;
	int rc = 0;

	if (argc < 3 || argc > 4 || !zone) {
		fprintf(stderr, "usage: dkim_verify_tool ZONE-FILE NOW [FILE]\n");
		return 2;
	}
	if (mt_dns_zone_load_file(zone, argv[1], NULL, &err) != MT_OK) {
		fprintf(stderr, "zone: %s\n", err.message);
		return 2;
	}
	res = mt_dns_zone_resolver_new(zone);
	if (argc == 4 && !(in = fopen(argv[3], "rb"))) {
		perror(argv[3]);
		return 2;
	}
	mt_dkim_verify_options_init(&o);
	o.now = strtoll(argv[2], NULL, 10);
	if (!res || mt_dkim_verify_new(&o, &v, &err) != MT_OK)
		return 2;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (mt_dkim_verify_feed(v, buf, n, &err) != MT_OK) {
			fprintf(stderr, "feed: %s\n", err.message);
			return 2;
		}
	if (mt_dkim_verify_finish(v, &err) != MT_OK || mt_dkim_verify_run(v, res) != MT_OK) {
		fprintf(stderr, "verify: %s\n", err.message);
		return 2;
	}
	count = mt_dkim_verify_count(v);
	if (count == 0) {
		printf("none\n");
		rc = 1;
	}
	for (size_t k = 0; k < count; k++) {
		const mt_dkim_sig_result *r = mt_dkim_verify_result(v, k);
		printf("%s d=%s s=%s a=%s l_risk=%d %s\n", mt_dkim_result_name(r->result), r->d, r->s,
		       r->a, r->l_risk ? 1 : 0, r->reason);
		if (r->result != MT_DKIM_PASS)
			rc = 1;
	}
	if (in != stdin)
		fclose(in);
	mt_dkim_verify_free(v);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	return rc;
}
