/* mailtrust-policyd's protocol code: request lines, skips, answers. */
#include "mt_test.h"
#include "policy.h"

static pd_line_result feed(pd_request *r, const char *line)
{
	return pd_request_line(r, line, strlen(line));
}

static void test_request(void)
{
	pd_request r;

	pd_request_reset(&r);
	CHECK_INT(feed(&r, "request=smtpd_access_policy"), PD_LINE_MORE);
	CHECK_INT(feed(&r, "protocol_state=RCPT\r"), PD_LINE_MORE);
	CHECK_INT(feed(&r, "client_address=192.0.2.1"), PD_LINE_MORE);
	CHECK_INT(feed(&r, "helo_name=mx.example.org"), PD_LINE_MORE);
	CHECK_INT(feed(&r, "sender=a=b@example.org"), PD_LINE_MORE);  /* '=' in a value */
	CHECK_INT(feed(&r, "ccert_subject="), PD_LINE_MORE);          /* unknown, empty */
	CHECK_INT(feed(&r, "instance=123.456"), PD_LINE_MORE);
	CHECK_INT(feed(&r, "\r"), PD_LINE_END);
	CHECK_STR(r.protocol_state, "RCPT");
	CHECK_STR(r.client_address, "192.0.2.1");
	CHECK_STR(r.sender, "a=b@example.org");
	CHECK_STR(r.helo_name, "mx.example.org");
	CHECK_STR(r.instance, "123.456");
	CHECK_STR(r.sasl_username, "");
	CHECK_INT(r.attrs, 7);
	CHECK(pd_request_usable(&r));

	/* not a policy request, no client address */
	pd_request_reset(&r);
	feed(&r, "request=junk");
	feed(&r, "client_address=192.0.2.1");
	CHECK(!pd_request_usable(&r));
	CHECK(strstr(r.why, "smtpd_access_policy") != NULL);
	pd_request_reset(&r);
	feed(&r, "request=smtpd_access_policy");
	CHECK(!pd_request_usable(&r));
	CHECK_STR(r.why, "no client_address");

	/* broken lines: the first reason sticks, later lines stay bad */
	pd_request_reset(&r);
	CHECK_INT(feed(&r, "no equals sign"), PD_LINE_BAD);
	CHECK_STR(r.why, "a line without '='");
	CHECK_INT(feed(&r, "sender=x"), PD_LINE_BAD);
	CHECK_INT(feed(&r, ""), PD_LINE_BAD);
	CHECK_STR(r.why, "a line without '='");
	CHECK(!pd_request_usable(&r));
	pd_request_reset(&r);
	CHECK_INT(feed(&r, "=value"), PD_LINE_BAD);

	/* a value with a NUL */
	pd_request_reset(&r);
	CHECK_INT(pd_request_line(&r, "sender=a\0b", 10), PD_LINE_BAD);

	/* sizes: a value at the cap minus one fits, at the cap it does not */
	static char line[PD_MAX_LINE + 16];
	size_t pre = strlen("client_address=");
	memcpy(line, "client_address=", pre);
	memset(line + pre, '1', PD_ADDR_CAP - 1);
	pd_request_reset(&r);
	CHECK_INT(pd_request_line(&r, line, pre + PD_ADDR_CAP - 1), PD_LINE_MORE);
	CHECK_INT(strlen(r.client_address), PD_ADDR_CAP - 1);
	pd_request_reset(&r);
	CHECK_INT(pd_request_line(&r, line, pre + PD_ADDR_CAP), PD_LINE_BAD);
	CHECK(strstr(r.why, "client_address") != NULL);
	/* sender cap */
	pre = strlen("sender=");
	memcpy(line, "sender=", pre);
	memset(line + pre, 'a', PD_SENDER_CAP);
	pd_request_reset(&r);
	CHECK_INT(pd_request_line(&r, line, pre + PD_SENDER_CAP - 1), PD_LINE_MORE);
	pd_request_reset(&r);
	CHECK_INT(pd_request_line(&r, line, pre + PD_SENDER_CAP), PD_LINE_BAD);
	/* an unknown attribute may be long, up to the line cap */
	memcpy(line, "x=", 2);
	memset(line + 2, 'y', PD_MAX_LINE);
	pd_request_reset(&r);
	CHECK_INT(pd_request_line(&r, line, PD_MAX_LINE), PD_LINE_MORE);
	CHECK_INT(pd_request_line(&r, line, PD_MAX_LINE + 1), PD_LINE_BAD);
	CHECK_STR(r.why, "line too long");

	/* too many attributes */
	pd_request_reset(&r);
	for (int i = 0; i < PD_MAX_ATTRS; i++)
		CHECK_INT(feed(&r, "x=1"), PD_LINE_MORE);
	CHECK_INT(feed(&r, "x=1"), PD_LINE_BAD);
}

static void test_skip(void)
{
	pd_config c;
	pd_request r;

	pd_config_init(&c);
	pd_request_reset(&r);
	snprintf(r.client_address, sizeof r.client_address, "192.0.2.1");
	CHECK(pd_skip_reason(&c, &r) == NULL);
	snprintf(r.sasl_username, sizeof r.sasl_username, "bob");
	CHECK_STR(pd_skip_reason(&c, &r), "authenticated");
	r.sasl_username[0] = '\0';
	snprintf(r.client_address, sizeof r.client_address, "127.0.0.5");
	CHECK_STR(pd_skip_reason(&c, &r), "localhost");
	snprintf(r.client_address, sizeof r.client_address, "::1");
	CHECK_STR(pd_skip_reason(&c, &r), "localhost");
	snprintf(r.client_address, sizeof r.client_address, "::ffff:127.0.0.1");
	CHECK_STR(pd_skip_reason(&c, &r), "localhost");
	c.skip_localhost = false;
	CHECK(pd_skip_reason(&c, &r) == NULL);

	CHECK(pd_config_add_trusted(&c, "198.51.100.0/25"));
	CHECK(pd_config_add_trusted(&c, "2001:db8:1::/48"));
	CHECK(pd_config_add_trusted(&c, "203.0.113.7"));
	CHECK(!pd_config_add_trusted(&c, "198.51.100.0/33"));
	CHECK(!pd_config_add_trusted(&c, "198.51.100.0/"));
	CHECK(!pd_config_add_trusted(&c, "198.51.100/24"));
	CHECK(!pd_config_add_trusted(&c, "2001:db8::/129"));
	CHECK(!pd_config_add_trusted(&c, "example.org"));
	snprintf(r.client_address, sizeof r.client_address, "198.51.100.127");
	CHECK_STR(pd_skip_reason(&c, &r), "trusted network");
	snprintf(r.client_address, sizeof r.client_address, "198.51.100.128");
	CHECK(pd_skip_reason(&c, &r) == NULL);
	snprintf(r.client_address, sizeof r.client_address, "2001:db8:1:ffff::1");
	CHECK_STR(pd_skip_reason(&c, &r), "trusted network");
	snprintf(r.client_address, sizeof r.client_address, "2001:db8:2::1");
	CHECK(pd_skip_reason(&c, &r) == NULL);
	snprintf(r.client_address, sizeof r.client_address, "203.0.113.7");
	CHECK_STR(pd_skip_reason(&c, &r), "trusted network");
	snprintf(r.client_address, sizeof r.client_address, "203.0.113.8");
	CHECK(pd_skip_reason(&c, &r) == NULL);
	/* a malformed address is the check's to refuse, not a skip */
	snprintf(r.client_address, sizeof r.client_address, "unknown");
	CHECK(pd_skip_reason(&c, &r) == NULL);
}

static void test_action(void)
{
	pd_config c;
	mt_spf_outcome oc;
	char out[512];
	bool rej;

	pd_config_init(&c);
	memset(&oc, 0, sizeof oc);
	oc.ip = "192.0.2.1";
	oc.domain = "example.org";

	static const mt_spf_result header_only[] = { MT_SPF_PASS, MT_SPF_NEUTRAL, MT_SPF_NONE,
	                                             MT_SPF_SOFTFAIL, MT_SPF_FAIL, MT_SPF_PERMERROR };
	for (size_t i = 0; i < sizeof header_only / sizeof header_only[0]; i++) {
		oc.result = header_only[i];
		pd_action(&c, &oc, "Received-SPF: x", out, sizeof out, &rej);
		CHECK_STR(out, "PREPEND Received-SPF: x");
		CHECK(!rej);
	}
	/* a header with line ends stays one line */
	oc.result = MT_SPF_PASS;
	pd_action(&c, &oc, "Received-SPF: a\r\n\tb", out, sizeof out, &rej);
	CHECK_STR(out, "PREPEND Received-SPF: a   b");

	oc.result = MT_SPF_TEMPERROR;
	oc.problem = "timeout\nasking";
	pd_action(&c, &oc, "Received-SPF: x", out, sizeof out, &rej);
	CHECK_STR(out, "451 4.7.24 SPF temperror for example.org: timeout asking");
	CHECK(rej);
	c.temperror = PD_TEMP_DEFER_IF_PERMIT;
	pd_action(&c, &oc, "Received-SPF: x", out, sizeof out, &rej);
	CHECK_STR(out, "DEFER_IF_PERMIT 4.7.24 SPF temperror for example.org: timeout asking");
	c.temperror = PD_TEMP_ACCEPT;
	pd_action(&c, &oc, "Received-SPF: x", out, sizeof out, &rej);
	CHECK_STR(out, "PREPEND Received-SPF: x");
	CHECK(!rej);

	c.reject_fail = true;
	oc.result = MT_SPF_FAIL;
	oc.problem = NULL;
	pd_action(&c, &oc, "Received-SPF: x", out, sizeof out, &rej);
	CHECK_STR(out, "550 5.7.23 SPF fail: 192.0.2.1 may not send mail for example.org");
	CHECK(rej);
	oc.explanation = "See http://example.org/why";
	pd_action(&c, &oc, "Received-SPF: x", out, sizeof out, &rej);
	CHECK_STR(out, "550 5.7.23 SPF fail: See http://example.org/why");
	oc.result = MT_SPF_SOFTFAIL;  /* rejecting fail does not touch softfail */
	pd_action(&c, &oc, "Received-SPF: x", out, sizeof out, &rej);
	CHECK_STR(out, "PREPEND Received-SPF: x");

	c.reject_permerror = true;
	oc.result = MT_SPF_PERMERROR;
	oc.problem = "two records";
	pd_action(&c, &oc, "Received-SPF: x", out, sizeof out, &rej);
	CHECK_STR(out, "550 5.7.24 SPF permerror for example.org: two records");

	/* a small buffer cuts, always terminated */
	pd_action(&c, &oc, "Received-SPF: x", out, 12, &rej);
	CHECK_STR(out, "550 5.7.24 ");
}

int main(void)
{
	test_request();
	test_skip();
	test_action();
	printf("%d passed, %d failed\n", mt_test_passed, mt_test_failed);
	return mt_test_failed ? 1 : 0;
}
