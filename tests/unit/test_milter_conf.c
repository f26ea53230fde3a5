/* mailtrust-milter's configuration parser: settings, defaults, refusals
 * with their line numbers, trusted networks and the signing table. */
#include "mt_test.h"
#include "../../src/tools/mailtrust-milter/conf.h"

static int parse(const char *text, mtm_conf *c, char *err)
{
	mtm_conf_init(c);
	err[0] = '\0';
	return mtm_conf_parse(text, strlen(text), c, err, 256);
}

static void refused(const char *text, const char *want)
{
	mtm_conf c;
	char err[256];
	CHECK_INT(parse(text, &c, err), -1);
	if (!strstr(err, want)) {
		fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err, want);
		CHECK(0);
	}
	mtm_conf_free(&c);
}

static bool trusted(const mtm_conf *c, const char *ip)
{
	uint8_t a[16];
	if (inet_pton(AF_INET, ip, a) == 1)
		return mtm_conf_trusted(c, 4, a);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return mtm_conf_trusted(c, 6, a);
	return false;
}

int main(void)
{
	mtm_conf c;
	char err[256];
	size_t idx[8];

	/* the minimal file and the defaults */
	CHECK_INT(parse("authserv-id mx.example.org\nsocket inet:8891@127.0.0.1\n", &c, err), 0);
	CHECK_STR(c.authserv_id, "mx.example.org");
	CHECK_STR(c.socket, "inet:8891@127.0.0.1");
	CHECK(c.user == NULL);
	CHECK_INT(c.dmarc_action, MTM_DMARC_REJECT);
	CHECK_INT(c.dns_failure, MTM_DNSFAIL_ACCEPT);
	CHECK_INT(c.dns_contexts, 4);
	CHECK(trusted(&c, "127.0.0.1"));
	CHECK(trusted(&c, "127.255.0.9"));
	CHECK(trusted(&c, "::1"));
	CHECK(trusted(&c, "::ffff:127.0.0.1"));
	CHECK(!trusted(&c, "192.0.2.1"));
	CHECK(!trusted(&c, "::2"));
	mtm_conf_free(&c);

	/* everything, comments, CRLF, tabs */
	CHECK_INT(parse("# comment\r\n"
	                "authserv-id\tmx.example.org\r\n"
	                "  socket unix:/run/m.sock  \r\n"
	                "\n"
	                "user mailtrust\n"
	                "resolver 127.0.0.1@5353\n"
	                "dns-contexts 2\n"
	                "dns-timeout 1500\n"
	                "dmarc-action quarantine\n"
	                "on-dns-failure tempfail\n"
	                "trusted-networks 192.0.2.128/25 2001:db8::/32\n"
	                "trusted-networks 198.51.100.7\n"
	                "sign Example.COM. rsa2026 /k/rsa.pem\n"
	                "sign example.com ed2026 /k/ed.pem\n"
	                "sign sub.example.com s1 /k/sub.pem\n"
	                "sign example.net n1 /k/net.pem", &c, err), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.socket, "unix:/run/m.sock");
	CHECK_STR(c.user, "mailtrust");
	CHECK_STR(c.resolver, "127.0.0.1@5353");
	CHECK_INT(c.dns_contexts, 2);
	CHECK_INT(c.dns_timeout_ms, 1500);
	CHECK_INT(c.dmarc_action, MTM_DMARC_QUARANTINE);
	CHECK_INT(c.dns_failure, MTM_DNSFAIL_TEMPFAIL);
	/* trusted-networks replaced the defaults */
	CHECK_INT(c.nnets, 3);
	CHECK(!trusted(&c, "127.0.0.1"));
	CHECK(trusted(&c, "192.0.2.200"));
	CHECK(!trusted(&c, "192.0.2.127"));
	CHECK(trusted(&c, "198.51.100.7"));
	CHECK(!trusted(&c, "198.51.100.8"));
	CHECK(trusted(&c, "2001:db8:ffff::1"));
	CHECK(!trusted(&c, "2001:db9::1"));
	/* signing table: lowercased, trailing dot dropped; two keys for example.com */
	CHECK_INT(c.nsign, 4);
	CHECK_STR(c.sign[0].domain, "example.com");
	CHECK_INT(mtm_conf_signers(&c, "example.com", idx, 8), 2);
	CHECK_INT(idx[0], 0);
	CHECK_INT(idx[1], 1);
	CHECK_INT(mtm_conf_signers(&c, "sub.example.com", idx, 8), 1);
	CHECK_INT(idx[0], 2);
	/* without sign-subdomains a subdomain has no key */
	CHECK_INT(mtm_conf_signers(&c, "other.example.com", idx, 8), 0);
	CHECK_INT(mtm_conf_signers(&c, "xexample.com", idx, 8), 0);
	mtm_conf_free(&c);

	CHECK_INT(parse("authserv-id a\nsocket inet:1@h\nsign-subdomains yes\n"
	                "sign example.com s /k\nsign sub.example.com t /k2\n", &c, err), 0);
	CHECK_INT(mtm_conf_signers(&c, "a.b.example.com", idx, 8), 1);
	CHECK_INT(idx[0], 0);
	CHECK_INT(mtm_conf_signers(&c, "x.sub.example.com", idx, 8), 1);
	CHECK_INT(idx[0], 1);
	CHECK_INT(mtm_conf_signers(&c, "example.org", idx, 8), 0);
	mtm_conf_free(&c);

	/* refusals, each with its line */
	refused("socket inet:1@h\n", "authserv-id is required");
	refused("authserv-id a\n", "socket is required");
	refused("authserv-id a\nsocket inet:1@h\nfoo bar\n", "line 3: unknown setting 'foo'");
	refused("authserv-id a b\n", "line 1: authserv-id takes one value");
	refused("authserv-id a;b\n", "line 1: authserv-id: ';'");
	refused("authserv-id a\nsocket tcp:1\n", "line 2: socket: expected");
	refused("authserv-id a\nsocket inet:1@h\ndmarc-action bounce\n", "line 3: dmarc-action");
	refused("authserv-id a\nsocket inet:1@h\non-dns-failure drop\n", "line 3: on-dns-failure");
	refused("authserv-id a\nsocket inet:1@h\ndns-contexts 0\n", "line 3: dns-contexts");
	refused("authserv-id a\nsocket inet:1@h\ndns-contexts 65\n", "line 3: dns-contexts");
	refused("authserv-id a\nsocket inet:1@h\ndns-timeout 10x\n", "line 3: dns-timeout");
	refused("trusted-networks 10.0.0.0/33\n", "line 1: trusted-networks: '10.0.0.0/33'");
	refused("trusted-networks 10.0.0.0/\n", "line 1: trusted-networks");
	refused("trusted-networks 2001:db8::/129\n", "line 1: trusted-networks");
	refused("trusted-networks host.example\n", "line 1: trusted-networks");
	refused("trusted-networks\n", "line 1: trusted-networks: at least one");
	refused("sign example.com s\n", "line 1: sign takes DOMAIN SELECTOR KEYFILE");
	refused("sign exa_mple..com s /k\n", "line 1: sign: 'exa_mple..com' is not a domain");
	refused("sign example.com s/x /k\n", "is not a selector");
	refused("sign example.com s k.pem\n", "absolute path");
	refused("authserv-id a\x01\n", "line 1: control character 0x01");
	refused("authserv-id a\nsocket inet:1@h\nuser a\x7f\n", "line 3: control character 0x7f");
	refused("a b c d e f g h i j k l m n o p q\n", "line 1: too many words");
	{
		size_t n = MTM_CONF_MAX_LINE + 20;
		char *big = malloc(n + 1);
		memset(big, 'a', n);
		memcpy(big, "authserv-id ", 12);
		big[n] = '\0';
		refused(big, "line 1: longer than 4096");
		free(big);
	}
	/* a NUL inside the text is a control character, not an end */
	{
		static const char t[] = "authserv-id a\0b\nsocket inet:1@h\n";
		mtm_conf_init(&c);
		CHECK_INT(mtm_conf_parse(t, sizeof t - 1, &c, err, sizeof err), -1);
		CHECK(strstr(err, "line 1: control character 0x00") != NULL);
		mtm_conf_free(&c);
	}
	/* a file that cannot be read */
	mtm_conf_init(&c);
	CHECK_INT(mtm_conf_load("/nonexistent/milter.conf", &c, err, sizeof err), -1);
	CHECK(strstr(err, "/nonexistent/milter.conf") != NULL);
	mtm_conf_free(&c);
	/* the last of a repeated setting wins */
	CHECK_INT(parse("authserv-id a\nauthserv-id b\nsocket inet:1@h\n", &c, err), 0);
	CHECK_STR(c.authserv_id, "b");
	mtm_conf_free(&c);

	return mt_test_done();
}
