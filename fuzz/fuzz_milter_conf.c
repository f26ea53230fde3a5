/* Fuzz mailtrust-milter's configuration parser: any octets as a file.
 * Success means the required settings are there and every signing entry
 * has a domain, selector and absolute key path; a failure has a message. */
#include "../src/tools/mailtrust-milter/conf.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mtm_conf c;
	char err[256];
	uint8_t addr[16] = {127, 0, 0, 1};
	size_t idx[8];

	err[0] = '\0';
	mtm_conf_init(&c);
	if (mtm_conf_parse((const char *)data, size, &c, err, sizeof err) == 0) {
		if (!c.authserv_id || !c.socket || c.nnets > MTM_CONF_MAX_NETS ||
		    c.nsign > MTM_CONF_MAX_SIGN)
			abort();
		for (size_t i = 0; i < c.nsign; i++)
			if (!c.sign[i].domain || !c.sign[i].selector || !c.sign[i].keyfile ||
			    c.sign[i].keyfile[0] != '/')
				abort();
		(void)mtm_conf_trusted(&c, 4, addr);
		if (c.nsign > 0 && mtm_conf_signers(&c, c.sign[0].domain, idx, 8) == 0)
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	mtm_conf_free(&c);
	return 0;
}
