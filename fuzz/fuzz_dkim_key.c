/* Fuzz the DKIM key record parser: any octets; a permerror names a tag and
 * an offset inside the input; a usable key has its OpenSSL key, a known
 * size and at least 1024 bits when RSA. */
#include "dkim/dkim_tags.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_dkim_key *key = NULL;

	if (mt_dkim_key_parse((const char *)data, size, &key) != MT_OK)
		return 0;   /* out of memory */
	if (key->perm.failed) {
		if (key->perm.offset > size || !key->perm.message[0])
			abort();
		if (key->acceptable && !key->revoked)
			abort();
	} else {
		if (!key->pkey || !key->acceptable || key->p_len == 0 || !key->service_email)
			abort();
		if (key->key_type == MT_DKIM_KEY_RSA && key->bits < 1024)
			abort();
		if (key->key_type == MT_DKIM_KEY_ED25519 && key->p_len != 32)
			abort();
	}
	(void)mt_dkim_key_allows_hash(key, MT_DKIM_HASH_SHA256);
	mt_dkim_key_free(key);
	return 0;
}
