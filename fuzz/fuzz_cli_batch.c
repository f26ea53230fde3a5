/* Fuzz "mailtrust spf check --batch": the input is the batch file (lines
 * "IP SENDER HELO"), read through the CLI's own line reader and checked
 * against a small zone; output goes to /dev/null.  Built with the CLI's
 * sources (fuzz/CMakeLists.txt). */
#define _GNU_SOURCE
#include "spf_batch_cmd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mt_dns_zone *zone;
	static mt_dns_resolver *res;
	char path[64];
	if (!zone) {
		static const char text[] =
			"example.com. TXT \"v=spf1 ip4:192.0.2.0/24 mx include:_spf.example.net -all\"\n"
			"example.com. MX 10 mail.example.com.\n"
			"mail.example.com. A 192.0.2.10\n"
			"_spf.example.net. TXT \"v=spf1 ip6:2001:db8::/32 ~all\"\n";
		mt_error err;
		zone = mt_dns_zone_new();
		if (!zone || mt_dns_zone_load_text(zone, text, sizeof text - 1, NULL, "fuzz", &err) != MT_OK)
			abort();
		res = mt_dns_zone_resolver_new(zone);
	}
	int fd = memfd_create("batch", 0);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	lseek(fd, 0, SEEK_SET);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	mt_spf_options opts;
	mt_spf_options_init(&opts);
	spf_batch_params p = {.path = path, .opts = &opts, .identity = MT_SPF_MAILFROM, .res = res,
	                      .json = size & 1};
	/* The CLI writes to stdout and stderr: send both to /dev/null meanwhile. */
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2), devnull = open("/dev/null", O_WRONLY);
	if (saved_out < 0 || saved_err < 0 || devnull < 0)
		abort();
	dup2(devnull, 1);
	dup2(devnull, 2);
	int rc = spf_batch_main(&p);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	close(devnull);
	close(fd);
	if (rc != 0 && rc != 65)
		abort(); /* only "all checked" or "some line malformed" are possible here */
	return 0;
}
