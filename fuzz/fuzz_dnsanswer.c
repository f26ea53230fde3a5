/*
 * The DNS wire decoders of the libunbound resolver (src/lib/dns/dns_wire.h)
 * on untrusted bytes.  First octet: 0 = one RDATA whose type is the next
 * two octets, 1 = a whole response message (CNAME chain), else a bare
 * uncompressed name.  Checks what the decoders promise about their output.
 */
#include "dns/dns_wire.h"

#include <stdlib.h>
#include <string.h>

static void check_name(const char *s, size_t len)
{
	/* presentation form without the trailing dot: no empty label */
	if (len > 253 || strlen(s) != len)
		abort();
	if (len && (s[0] == '.' || s[len - 1] == '.' || strstr(s, "..")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[MT_DNS_WIRE_NAME_BUF];
	uint8_t *copy;
	if (size < 1)
		return 0;
	/* an exact-size copy so that reads past the end are caught */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] == 0 && size >= 3) {
		uint16_t type = (uint16_t)(data[1] << 8 | data[2]);
		uint16_t pref;
		const uint8_t *out;
		size_t olen;
		if (mt_dns_wire_rdata(type, copy + 2, size - 3, buf, sizeof buf, &pref, &out,
		                      &olen) == MT_OK) {
			if (type == MT_DNS_MX || type == MT_DNS_PTR || type == MT_DNS_CNAME ||
			    type == MT_DNS_NS)
				check_name((const char *)out, olen);
			else if (olen != size - 3)
				abort();
		}
	} else if (data[0] == 1) {
		if (mt_dns_wire_canonical(copy, size - 1, buf, sizeof buf))
			check_name(buf, strlen(buf));
	} else {
		size_t olen = 0;
		size_t used = mt_dns_wire_name(copy, size - 1, buf, sizeof buf, &olen);
		if (used > size - 1)
			abort();
		if (used)
			check_name(buf, olen);
	}
	free(copy);
	return 0;
}
