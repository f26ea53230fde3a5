/* Setting up the libunbound resolver (no question is asked: nothing goes
 * on the network): the options struct, the concurrency settings, options
 * passed through to libunbound, trust anchor files checked before
 * libunbound reads them, and libunbound kept off stderr. */
#include "dns/dns_internal.h"
#include "dns/unbound_int.h"
#include "mt_test.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unbound.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The value libunbound holds for option key ("outgoing-range") in the
 * context of resolver res, in buf. */
static const char *ub_get(mt_dns_resolver *res, const char *key, char *buf, size_t cap)
{
	unbound_impl *u = mt_dns_unbound_impl(res);
	char *v = NULL;
	snprintf(buf, cap, "(none)");
	if (u && ub_ctx_get_option(mt_dns_unbound_ctx(u), key, &v) == 0 && v)
		snprintf(buf, cap, "%s", v);
	free(v);
	return buf;
}

static mt_status make(mt_dns_unbound_options *o, mt_dns_resolver **res, mt_error *err)
{
	*res = NULL;
	memset(err, 0, sizeof *err);
	return mt_dns_unbound_resolver_new(o, res, err);
}

static void test_options(void)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *res = NULL;
	mt_error err;
	char buf[64], want[32];
	struct rlimit rl;
	unsigned range = 8192;

	mt_dns_unbound_options_init(&o);
	CHECK_INT(o.size, sizeof o);
	CHECK_INT(o.timeout_ms, 5000);
	CHECK(o.unbound_options == NULL && o.n_unbound_options == 0);

	/* the concurrency settings: 8192 ports (fewer under a low open-file
	 * limit, 256 descriptors kept free) and 3000 ms for a new server */
	o.forwarder = "127.0.0.1";
	CHECK_INT(make(&o, &res, &err), MT_OK);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 8192 + 256)
		range = rl.rlim_cur > 272 ? (unsigned)rl.rlim_cur - 256 : 16;
	snprintf(want, sizeof want, "%u", range);
	CHECK_STR(ub_get(res, "outgoing-range", buf, sizeof buf), want);
	CHECK_STR(ub_get(res, "unknown-server-time-limit", buf, sizeof buf), "3000");
	mt_dns_resolver_free(res);

	/* cache sizes and lines for ub_ctx_set_option, which come last and
	 * so win over mailtrust's own choices */
	{
		const char *lines[] = {"outgoing-range: 100", "  edns-buffer-size :1232",
		                       "unknown-server-time-limit:\t500"};
		o.msg_cache_size = 4u << 20;
		o.rrset_cache_size = 8u << 20;
		o.unbound_options = lines;
		o.n_unbound_options = 3;
		CHECK_INT(make(&o, &res, &err), MT_OK);
		CHECK_STR(ub_get(res, "msg-cache-size", buf, sizeof buf), "4194304");
		CHECK_STR(ub_get(res, "rrset-cache-size", buf, sizeof buf), "8388608");
		CHECK_STR(ub_get(res, "outgoing-range", buf, sizeof buf), "100");
		CHECK_STR(ub_get(res, "edns-buffer-size", buf, sizeof buf), "1232");
		CHECK_STR(ub_get(res, "unknown-server-time-limit", buf, sizeof buf), "500");
		mt_dns_resolver_free(res);
	}
	{
		const char *lines[] = {"no-such-option: 1"};
		o.unbound_options = lines;
		o.n_unbound_options = 1;
		CHECK_INT(make(&o, &res, &err), MT_EINVAL);
		CHECK(res == NULL);
		CHECK_STR(err.message, "libunbound option 'no-such-option: 1': unknown option or bad value");
		lines[0] = "outgoing-range 100";
		CHECK_INT(make(&o, &res, &err), MT_EINVAL);
		CHECK_STR(err.message, "libunbound option 'outgoing-range 100': not 'key: value'");
		lines[0] = ": 100";
		CHECK_INT(make(&o, &res, &err), MT_EINVAL);
		o.unbound_options = NULL;
		CHECK_INT(make(&o, &res, &err), MT_EINVAL);
		o.n_unbound_options = 0;
		CHECK_INT(make(&o, &res, &err), MT_OK);
		mt_dns_resolver_free(res);
	}
	/* a struct init never saw */
	o.size = 0;
	CHECK_INT(make(&o, &res, &err), MT_EINVAL);
	/* one from a caller built before the cache sizes existed: the fields
	 * it does not have are not read */
	mt_dns_unbound_options_init(&o);
	o.forwarder = "127.0.0.1";
	o.msg_cache_size = 12345; /* beyond the caller's size: ignored */
	o.size = offsetof(mt_dns_unbound_options, msg_cache_size);
	CHECK_INT(make(&o, &res, &err), MT_OK);
	CHECK(strcmp(ub_get(res, "msg-cache-size", buf, sizeof buf), "12345") != 0);
	mt_dns_resolver_free(res);
}

/* One trust anchor case: the status, and the message begins with
 * "trust anchor PATH" and then suffix. */
static void ta(const char *file, mt_status want, const char *suffix)
{
	mt_dns_unbound_options o;
	mt_dns_resolver *res = NULL;
	mt_error err;
	char path[256], msg[512];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	mt_dns_unbound_options_init(&o);
	o.forwarder = "127.0.0.1";
	o.dnssec = true;
	o.trust_anchor_file = path;
	CHECK_INT(make(&o, &res, &err), want);
	if (suffix) {
		snprintf(msg, sizeof msg, "trust anchor %s%s", path, suffix);
		if (strncmp(err.message, msg, strlen(msg)) != 0)
			fprintf(stderr, "  %s: got \"%s\"\n", file, err.message);
		CHECK(strncmp(err.message, msg, strlen(msg)) == 0);
	}
	CHECK((res != NULL) == (want == MT_OK));
	mt_dns_resolver_free(res);
}

static void test_trust_anchors(void)
{
	char path[256], errpath[256];
	int saved, fd;
	struct stat sb;

	snprintf(path, sizeof path, "%s/adir", dir);
	CHECK(mkdir(path, 0700) == 0);
	write_file("ds.key", "; the root KSK-2017 as a DS record\n"
	                     ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n");
	write_file("dnskey.key", "$ORIGIN example.\n"
	                         "@ 3600 IN DNSKEY ( 257 3 8\n"
	                         "\tAwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjF\n"
	                         "\tFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoX ) ; KSK\n");
	write_file("garbage.key", "this is not\na trust anchor\n");
	write_file("a.key", ". 3600 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
	                    "www.example. IN A 192.0.2.1\n");
	write_file("binary.key", "\x7f" "ELF\x02\x01\x01");
	write_file("empty.key", "; only a comment\n\n");
	write_file("paren.key", ". IN DNSKEY ( 257 3 8 AwEAAa\n");
	write_file("badhex.key", ". IN DS 20326 8 2 ZZZZNOTHEX\n");

	/* libunbound must print nothing, whatever goes wrong */
	snprintf(errpath, sizeof errpath, "%s/stderr", dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);

	ta("ds.key", MT_OK, NULL);
	ta("dnskey.key", MT_OK, NULL);
	ta("adir", MT_EIO, ": is a directory, not a file");
	ta("missing.key", MT_EIO, ": ");
	ta("garbage.key", MT_ESYNTAX, ":1: not a DS or DNSKEY record");
	ta("a.key", MT_ESYNTAX, ":2: not a DS or DNSKEY record");
	ta("binary.key", MT_ESYNTAX, ":1: not text (octet 0x7F)");
	ta("empty.key", MT_ESYNTAX, ": no DS or DNSKEY record");
	ta("paren.key", MT_ESYNTAX, ":1: '(' without ')'");
	/* right in form, wrong in content: what libunbound said about it */
	ta("badhex.key", MT_ESYNTAX, ": libunbound cannot use it: ");

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK(stat(errpath, &sb) == 0 && sb.st_size == 0);
	if (sb.st_size != 0) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "head -5 %s >&2", errpath);
		if (system(cmd) != 0)
			fprintf(stderr, "  (could not show %s)\n", errpath);
	}

	{
		const char *names[] = {"ds.key", "dnskey.key", "garbage.key", "a.key", "binary.key",
		                       "empty.key", "paren.key", "badhex.key", "stderr"};
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			unlink(path);
		}
		snprintf(path, sizeof path, "%s/adir", dir);
		rmdir(path);
	}
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/mt_test_ub.XXXXXX");
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return mt_test_done();
	}
	test_options();
	test_trust_anchors();
	rmdir(dir);
	return mt_test_done();
}
