/*
 * mailtrust-policyd's protocol code: the input is what a client sends on
 * the socket, split into lines as the daemon does; each complete request
 * is judged (usable, skipped) and answered for every result with values
 * taken from the request, the trusted network list from the first line.
 */
#include "policy.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pd_request r;
	pd_config c;
	const char *p = (const char *)data, *end = p + size;
	char out[256], cidr[80];
	bool rej;

	pd_config_init(&c);
	pd_request_reset(&r);
	/* the first line: trusted networks, separated by spaces */
	const char *nl = memchr(p, '\n', size);
	if (nl) {
		const char *q = p;
		while (q < nl) {
			const char *sp = memchr(q, ' ', (size_t)(nl - q));
			size_t n = (size_t)((sp ? sp : nl) - q);
			if (n < sizeof cidr) {
				memcpy(cidr, q, n);
				cidr[n] = '\0';
				pd_config_add_trusted(&c, cidr);
			}
			q += n + 1;
		}
		p = nl + 1;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		pd_line_result lr = pd_request_line(&r, p, len);
		p += len + 1;
		if (lr == PD_LINE_BAD)
			break;
		if (lr != PD_LINE_END)
			continue;
		if (pd_request_usable(&r) && !pd_skip_reason(&c, &r)) {
			mt_spf_outcome oc;
			memset(&oc, 0, sizeof oc);
			oc.ip = r.client_address;
			oc.domain = r.helo_name;
			oc.explanation = r.sender[0] ? r.sender : NULL;
			oc.problem = r.instance;
			for (int res = MT_SPF_NONE; res <= MT_SPF_PERMERROR; res++) {
				oc.result = (mt_spf_result)res;
				c.reject_fail = c.reject_permerror = (res & 1);
				c.temperror = (pd_temp_action)(res % 3);
				pd_action(&c, &oc, r.sender, out, sizeof out, &rej);
				if (strlen(out) >= sizeof out || strchr(out, '\n') || strchr(out, '\r'))
					__builtin_trap();
			}
		}
		pd_request_reset(&r);
	}
	return 0;
}
