/* DMARC policy records and the DNS Tree Walk (draft-ietf-dmarc-dmarcbis-41
 * sections 4.7, 4.8, 4.10).  Expected values come from the draft's text and
 * its examples. */
#include <mailtrust/dmarc.h>

#include "mt_test.h"

static mt_dmarc_record *parse(const char *s)
{
	mt_dmarc_record *r = NULL;
	mt_error err;
	mt_status st = mt_dmarc_record_parse(s, strlen(s), &r, &err);
	if (st != MT_OK)
		fprintf(stderr, "parse \"%s\": %s\n", s, err.message);
	return r;
}

/* Is there a finding of severity sev for tag (as written) at offset off? */
static bool has_finding(const mt_dmarc_record *r, mt_dmarc_severity sev, const char *tag, size_t off)
{
	for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++) {
		const mt_dmarc_finding *f = mt_dmarc_record_finding(r, i);
		if (f->severity == sev && strcmp(f->tag, tag) == 0 && f->offset == off)
			return true;
	}
	return false;
}

static size_t count_sev(const mt_dmarc_record *r, mt_dmarc_severity sev)
{
	size_t n = 0;
	for (size_t i = 0; i < mt_dmarc_record_finding_count(r); i++)
		n += mt_dmarc_record_finding(r, i)->severity == sev;
	return n;
}

static void test_not_dmarc(void)
{
	/* 4.7 v: must be first, value "DMARC1" case-sensitive, else ignored */
	const char *bad[] = { "", "p=reject; v=DMARC1", "v=dmarc1; p=reject", "v=DMARC10; p=none",
		              "v=spf1 -all", "x v=DMARC1", "v=DMARC1 p=none", "v=DMARC" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		mt_dmarc_record *r = (mt_dmarc_record *)1;
		mt_error err;
		CHECK_INT(mt_dmarc_record_parse(bad[i], strlen(bad[i]), &r, &err), MT_ESYNTAX);
		CHECK(r == NULL);
		CHECK(strstr(err.message, "not a DMARC record") != NULL);
	}
	/* the tag name is case-insensitive (ABNF), spaces around '=' allowed */
	const char *good[] = { "v=DMARC1", "V=DMARC1;", "v = DMARC1 ; p=none", "v=DMARC1\t;p=none;" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		mt_dmarc_record *r = parse(good[i]);
		CHECK(r != NULL);
		mt_dmarc_record_free(r);
	}
}

static void test_defaults_and_tags(void)
{
	mt_dmarc_record *r = parse("v=DMARC1");
	CHECK(r != NULL);
	if (!r)
		return;
	/* no p=: treated as p=none by discovery, but the tag reads ABSENT */
	CHECK_INT(mt_dmarc_record_p(r), MT_DMARC_POLICY_ABSENT);
	CHECK_INT(mt_dmarc_record_sp(r), MT_DMARC_POLICY_ABSENT);
	CHECK(!mt_dmarc_record_strict_dkim(r) && !mt_dmarc_record_strict_spf(r)); /* r */
	CHECK(!mt_dmarc_record_testing(r));                                      /* t=n */
	CHECK_INT(mt_dmarc_record_psd(r), MT_DMARC_PSD_UNKNOWN);                 /* psd=u */
	CHECK_STR(mt_dmarc_record_fo(r), "0");
	CHECK(has_finding(r, MT_DMARC_WARNING, "p", 8));
	CHECK(!mt_dmarc_record_applies(r, NULL)); /* no valid p, no rua */
	mt_dmarc_record_free(r);

	r = parse("v=DMARC1; p=Reject; sp=quarantine; np=none; adkim=s; aspf=S; t=y; psd=n; "
	          "fo=d:1:s");
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(mt_dmarc_record_p(r), MT_DMARC_POLICY_REJECT);
	CHECK_INT(mt_dmarc_record_sp(r), MT_DMARC_POLICY_QUARANTINE);
	CHECK_INT(mt_dmarc_record_np(r), MT_DMARC_POLICY_NONE);
	CHECK(mt_dmarc_record_strict_dkim(r) && mt_dmarc_record_strict_spf(r));
	CHECK(mt_dmarc_record_testing(r));
	CHECK_INT(mt_dmarc_record_psd(r), MT_DMARC_PSD_NO);
	CHECK_STR(mt_dmarc_record_fo(r), "d:1:s");
	CHECK_INT(mt_dmarc_record_finding_count(r), 0);
	bool as_none = true;
	CHECK(mt_dmarc_record_applies(r, &as_none));
	CHECK(!as_none);
	CHECK(mt_dmarc_record_has_tag(r, "NP"));
	CHECK(!mt_dmarc_record_has_tag(r, "rua"));
	mt_dmarc_record_free(r);
}

static void test_bad_values(void)
{
	/*               0         1         2         3         4
	 *               0123456789012345678901234567890123456789012345 */
	const char *s = "v=DMARC1; p=block; adkim=x; fo=0:1; t=maybe";
	mt_dmarc_record *r = parse(s);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(mt_dmarc_record_p(r), MT_DMARC_POLICY_ABSENT);
	CHECK(has_finding(r, MT_DMARC_ERROR, "p", 12));      /* at the value */
	CHECK(has_finding(r, MT_DMARC_ERROR, "adkim", 25));
	CHECK(!mt_dmarc_record_strict_dkim(r));               /* default r */
	CHECK(has_finding(r, MT_DMARC_ERROR, "fo", 31));      /* 0 and 1 exclusive */
	CHECK_STR(mt_dmarc_record_fo(r), "0");
	CHECK(has_finding(r, MT_DMARC_ERROR, "t", 38));
	CHECK(!mt_dmarc_record_testing(r));
	CHECK(!mt_dmarc_record_applies(r, NULL)); /* invalid p, no rua: no DMARC */
	mt_dmarc_record_free(r);

	/* invalid p but a valid rua: acts as p=none (4.10.1) */
	r = parse("v=DMARC1; p=rejected; rua=mailto:agg@example.net");
	CHECK(r != NULL);
	if (r) {
		bool as_none = false;
		CHECK(mt_dmarc_record_applies(r, &as_none));
		CHECK(as_none);
		mt_dmarc_record_free(r);
	}
	/* valid p but an invalid sp and no rua: not applied */
	r = parse("v=DMARC1; p=reject; sp=rejec");
	CHECK(r != NULL);
	if (r) {
		CHECK(!mt_dmarc_record_applies(r, NULL));
		mt_dmarc_record_free(r);
	}
	/* fo forms the ABNF allows and refuses */
	const char *fo_ok[] = { "0", "1", "d", "s", "0:d", "d:s", "s:d:1", "d:0:s" };
	const char *fo_bad[] = { "2", "0:1", "d:d", "0:", ":0", "ds", "0;" };
	for (size_t i = 0; i < sizeof fo_ok / sizeof fo_ok[0]; i++) {
		char rec[64];
		snprintf(rec, sizeof rec, "v=DMARC1; p=none; fo=%s", fo_ok[i]);
		r = parse(rec);
		CHECK(r && strcmp(mt_dmarc_record_fo(r), fo_ok[i]) == 0);
		mt_dmarc_record_free(r);
	}
	for (size_t i = 0; i < sizeof fo_bad / sizeof fo_bad[0]; i++) {
		char rec[64];
		snprintf(rec, sizeof rec, "v=DMARC1; p=none; fo=%s", fo_bad[i]);
		r = parse(rec);
		/* "0;" ends the value at ';': fo=0 is fine then */
		if (strcmp(fo_bad[i], "0;") == 0)
			CHECK(r && strcmp(mt_dmarc_record_fo(r), "0") == 0);
		else
			CHECK(r && count_sev(r, MT_DMARC_ERROR) == 1);
		mt_dmarc_record_free(r);
	}
}

static void test_unknown_obsolete_duplicate(void)
{
	/*               0         1         2         3         4         5         6
	 *               0123456789012345678901234567890123456789012345678901234567890 */
	const char *s = "v=DMARC1; p=none; pct=50; rau=mailto:a@b.example; p=reject; ri=3600";
	mt_dmarc_record *r = parse(s);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(has_finding(r, MT_DMARC_NOTE, "pct", 18));   /* obsolete */
	CHECK(has_finding(r, MT_DMARC_NOTE, "rau", 26));   /* unknown: ignored */
	CHECK(has_finding(r, MT_DMARC_ERROR, "p", 50));    /* duplicate */
	CHECK(has_finding(r, MT_DMARC_NOTE, "ri", 60));
	CHECK_INT(mt_dmarc_record_p(r), MT_DMARC_POLICY_NONE); /* the first */
	CHECK_INT(mt_dmarc_record_rua_count(r), 0);
	mt_dmarc_record_free(r);

	/* a v= later in the record is an error, not a second version */
	r = parse("v=DMARC1; p=none; v=DMARC1");
	CHECK(r && has_finding(r, MT_DMARC_ERROR, "v", 18));
	mt_dmarc_record_free(r);
	/* junk without '=' and a name that is not letters */
	r = parse("v=DMARC1; p=none; junk; r_a=x");
	CHECK(r && has_finding(r, MT_DMARC_ERROR, "junk", 18) && has_finding(r, MT_DMARC_ERROR, "r_a", 24));
	mt_dmarc_record_free(r);
	/* control characters are reported with their offset */
	r = parse("v=DMARC1; p=none;\001");
	CHECK(r && has_finding(r, MT_DMARC_ERROR, "", 17));
	mt_dmarc_record_free(r);
}

static void test_uris(void)
{
	const char *s = "v=DMARC1; p=none; rua=mailto:Agg@Reports.Example.NET!10m , "
	                "https://r.example/x, mailto:a!b@x.example, nouri, mailto:noat; "
	                "ruf=mailto:f@example.com";
	mt_dmarc_record *r = parse(s);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(mt_dmarc_record_rua_count(r), 5);
	const mt_dmarc_uri *u = mt_dmarc_record_rua(r, 0);
	CHECK(u && u->valid && u->mailto && u->has_size);
	CHECK_STR(u ? u->uri : NULL, "mailto:Agg@Reports.Example.NET");
	CHECK_STR(u ? u->domain : NULL, "reports.example.net");
	CHECK_INT(u ? u->offset : 0, 22);
	u = mt_dmarc_record_rua(r, 1);
	CHECK(u && u->valid && !u->mailto);
	CHECK_STR(u ? u->domain : NULL, "");
	u = mt_dmarc_record_rua(r, 2); /* '!' inside must be encoded */
	CHECK(u && !u->valid);
	u = mt_dmarc_record_rua(r, 3); /* no scheme */
	CHECK(u && !u->valid);
	u = mt_dmarc_record_rua(r, 4); /* mailto without an address */
	CHECK(u && !u->valid);
	CHECK(has_finding(r, MT_DMARC_NOTE, "rua", 52)); /* the "!10m" size */
	CHECK_INT(mt_dmarc_record_ruf_count(r), 1);
	CHECK_STR(mt_dmarc_record_ruf(r, 0)->domain, "example.com");
	mt_dmarc_record_free(r);

	/* too many URIs: the rest ignored with a warning, never more kept */
	char big[2048] = "v=DMARC1; p=none; rua=";
	for (int i = 0; i < MT_DMARC_URIS_MAX + 5; i++) {
		char one[48];
		snprintf(one, sizeof one, "%smailto:r%d@example.org", i ? "," : "", i);
		strncat(big, one, sizeof big - strlen(big) - 1);
	}
	r = parse(big);
	CHECK(r && mt_dmarc_record_rua_count(r) == MT_DMARC_URIS_MAX && count_sev(r, MT_DMARC_WARNING) == 1);
	mt_dmarc_record_free(r);
}

static void test_limits(void)
{
	char *big = malloc(MT_DMARC_RECORD_MAX + 2);
	memset(big, 'a', MT_DMARC_RECORD_MAX + 1);
	memcpy(big, "v=DMARC1;", 9);
	mt_dmarc_record *r = NULL;
	mt_error err;
	CHECK_INT(mt_dmarc_record_parse(big, MT_DMARC_RECORD_MAX + 1, &r, &err), MT_ERANGE);
	/* the largest allowed, made of many unknown tags: findings are capped */
	size_t n = 9;
	while (n + 6 < MT_DMARC_RECORD_MAX) {
		memcpy(big + n, "xy=1;", 5);
		n += 5;
	}
	CHECK_INT(mt_dmarc_record_parse(big, n, &r, &err), MT_OK);
	CHECK(r && mt_dmarc_record_finding_count(r) <= 64);
	mt_dmarc_record_free(r);
	free(big);
}

static void test_walk(void)
{
	char *names[MT_DMARC_WALK_MAX];
	size_t n = 0;
	mt_error err;
	/* the draft's example of section 4.10: eight queries */
	const char *want[] = { "_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com", "_dmarc.g.h.i.j.mail.example.com",
		               "_dmarc.h.i.j.mail.example.com", "_dmarc.i.j.mail.example.com",
		               "_dmarc.j.mail.example.com", "_dmarc.mail.example.com",
		               "_dmarc.example.com", "_dmarc.com" };
	CHECK_INT(mt_dmarc_walk_targets("a.b.c.d.e.f.g.h.i.j.mail.example.com", false, names, &n, &err),
	          MT_OK);
	CHECK_INT(n, 8);
	for (size_t i = 0; i < n && i < 8; i++) {
		CHECK_STR(names[i], want[i]);
		free(names[i]);
	}
	/* discovery from the parent (4.10.1): the Author Domain's own query is left out */
	CHECK_INT(mt_dmarc_walk_targets("a.mail.example.com.", true, names, &n, &err), MT_OK);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(names[0], "_dmarc.mail.example.com");
		CHECK_STR(names[1], "_dmarc.example.com");
		CHECK_STR(names[2], "_dmarc.com");
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	/* exactly 8 labels: x >= 8 shortens to 7 */
	CHECK_INT(mt_dmarc_walk_targets("1.2.3.4.5.6.7.8", false, names, &n, &err), MT_OK);
	CHECK_INT(n, 8);
	if (n == 8) {
		CHECK_STR(names[1], "_dmarc.2.3.4.5.6.7.8");
		CHECK_STR(names[7], "_dmarc.8");
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	/* a one-label name from the parent: nothing to ask */
	CHECK_INT(mt_dmarc_walk_targets("com", true, names, &n, &err), MT_OK);
	CHECK_INT(n, 0);
	CHECK_INT(mt_dmarc_walk_targets("a..example", false, names, &n, &err), MT_EINVAL);
	CHECK_INT(mt_dmarc_walk_targets("", false, names, &n, &err), MT_EINVAL);
	/* 127 labels (the most 253 octets hold): still at most 8 names */
	char longname[256];
	size_t o = 0;
	for (int i = 0; i < 127; i++) {
		longname[o++] = 'a';
		longname[o++] = '.';
	}
	longname[o - 1] = '\0';
	CHECK_INT(mt_dmarc_walk_targets(longname, false, names, &n, &err), MT_OK);
	CHECK_INT(n, 8);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

static void test_org_domain(void)
{
	char out[256];
	/* 4.10.2's examples, start a.mail.example.com */
	const char *d[] = { "a.mail.example.com", "mail.example.com", "example.com", "com" };
	int none[] = { -1, -1, -1, -1 };
	int two[] = { -1, MT_DMARC_PSD_UNKNOWN, MT_DMARC_PSD_UNKNOWN, -1 };
	int psdn[] = { -1, MT_DMARC_PSD_NO, -1, -1 };
	int psdy[] = { -1, -1, -1, MT_DMARC_PSD_YES };
	CHECK_INT(mt_dmarc_org_domain("a.mail.example.com", d, two, 4, out, sizeof out), MT_OK);
	CHECK_STR(out, "example.com");
	CHECK_INT(mt_dmarc_org_domain("a.mail.example.com", d, psdn, 2, out, sizeof out), MT_OK);
	CHECK_STR(out, "mail.example.com");
	CHECK_INT(mt_dmarc_org_domain("a.mail.example.com", d, psdy, 4, out, sizeof out), MT_OK);
	CHECK_STR(out, "example.com");
	/* nothing found: the start is its own Organizational Domain */
	CHECK_INT(mt_dmarc_org_domain("a.mail.example.com", d, none, 4, out, sizeof out), MT_OK);
	CHECK_STR(out, "a.mail.example.com");
	/* psd=y at the start itself does not count for rule 2 */
	int self_y[] = { MT_DMARC_PSD_YES };
	CHECK_INT(mt_dmarc_org_domain("example", d + 3, self_y, 0, out, sizeof out), MT_OK);
	const char *ex[] = { "example" };
	CHECK_INT(mt_dmarc_org_domain("example", ex, self_y, 1, out, sizeof out), MT_OK);
	CHECK_STR(out, "example");
	/* the label-skipping walk: psd=y at com gives example.com for a long name */
	const char *lw[] = { "a.b.c.d.e.f.g.h.i.j.mail.example.com", "g.h.i.j.mail.example.com", "com" };
	int lwp[] = { -1, -1, MT_DMARC_PSD_YES };
	CHECK_INT(mt_dmarc_org_domain(lw[0], lw, lwp, 3, out, sizeof out), MT_OK);
	CHECK_STR(out, "example.com");
	CHECK_INT(mt_dmarc_org_domain("a.mail.example.com", d, two, 4, out, 5), MT_ERANGE);
}

int main(void)
{
	test_not_dmarc();
	test_defaults_and_tags();
	test_bad_values();
	test_unknown_obsolete_duplicate();
	test_uris();
	test_limits();
	test_walk();
	test_org_domain();
	return mt_test_done();
}
