/*
 * mailtrust: DKIM signing keys for domain owners.  Generate an RSA or
 * ed25519 key pair (or load an existing private key), and build what the
 * owner publishes: the key record (RFC 6376 3.6.1, RFC 8463 4), split into
 * DNS character-strings of at most 255 octets, and a zone-file line.
 *
 * The functions keep no global state and are thread-safe on distinct
 * objects; a key object may be read from several threads at once.
 * Key generation and PEM handling use OpenSSL 3's libcrypto.
 */
#ifndef MAILTRUST_DKIM_KEY_H
#define MAILTRUST_DKIM_KEY_H

#include <mailtrust/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mt_dkim_keygen_type {
	MT_DKIM_KEYGEN_RSA = 1,     /* k=rsa, for rsa-sha256 */
	MT_DKIM_KEYGEN_ED25519 = 2, /* k=ed25519, for ed25519-sha256 (RFC 8463) */
} mt_dkim_keygen_type;

/* RSA sizes: below MT_DKIM_KEYGEN_RSA_MIN bits a key is not valid for
 * DKIM (RFC 8301 3.2) and is refused; above MT_DKIM_KEYGEN_RSA_DNS_WARN
 * the record no longer fits the TXT size many DNS hosts accept
 * (mt_dkim_keygen_warning says so); MT_DKIM_KEYGEN_RSA_MAX is the largest
 * size generated or loaded. */
#define MT_DKIM_KEYGEN_RSA_MIN      1024
#define MT_DKIM_KEYGEN_RSA_DEFAULT  2048
#define MT_DKIM_KEYGEN_RSA_DNS_WARN 4096
#define MT_DKIM_KEYGEN_RSA_MAX      8192

/* A private key with its public key record.  Opaque. */
typedef struct mt_dkim_keygen mt_dkim_keygen;

/*
 * Is bits a size this library generates for type (as
 * mt_dkim_keygen_generate judges it)?  MT_OK, or MT_EINVAL with err saying
 * why (an RSA key below 1024 bits is not valid for DKIM, RFC 8301 3.2).
 * Lets a front end refuse a size before it does anything else.
 */
MT_EXPORT mt_status mt_dkim_keygen_check_bits(mt_dkim_keygen_type type, unsigned bits, mt_error *err);

/*
 * Generate a new key.  bits is the RSA modulus size
 * (MT_DKIM_KEYGEN_RSA_MIN..MT_DKIM_KEYGEN_RSA_MAX; 0 means
 * MT_DKIM_KEYGEN_RSA_DEFAULT); for ed25519 it must be 0 or 256.
 * On MT_OK *out is a new object (free with mt_dkim_keygen_free).  Fails
 * with MT_EINVAL (bad type or size, err says why), MT_ENOMEM, or MT_EIO
 * when libcrypto cannot generate the key.  RSA generation takes from well
 * under a second (2048) to a minute (8192).
 */
MT_EXPORT mt_status mt_dkim_keygen_generate(mt_dkim_keygen_type type, unsigned bits,
                                            mt_dkim_keygen **out, mt_error *err);

/*
 * Load an existing private key from PEM (PKCS#8 "PRIVATE KEY", or the
 * traditional "RSA PRIVATE KEY"), len octets at pem (need not be
 * NUL-terminated), to build its record.  Encrypted keys are refused (no
 * passphrase is ever asked).  Fails with MT_ESYNTAX (not a private key
 * PEM), MT_EINVAL (a key that is neither RSA nor ed25519, or RSA outside
 * MT_DKIM_KEYGEN_RSA_MIN..MT_DKIM_KEYGEN_RSA_MAX bits), MT_ENOMEM;
 * err says why.
 */
MT_EXPORT mt_status mt_dkim_keygen_from_pem(const char *pem, size_t len, mt_dkim_keygen **out,
                                            mt_error *err);

/* Free a key (its private key memory is cleared first).  NULL is fine. */
MT_EXPORT void mt_dkim_keygen_free(mt_dkim_keygen *key);

MT_EXPORT mt_dkim_keygen_type mt_dkim_keygen_get_type(const mt_dkim_keygen *key);
/* "rsa" or "ed25519": the record's k= value. */
MT_EXPORT const char *mt_dkim_keygen_type_name(mt_dkim_keygen_type type);
/* Key size in bits (the RSA modulus; 256 for ed25519). */
MT_EXPORT unsigned mt_dkim_keygen_bits(const mt_dkim_keygen *key);

/* The private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----", each line
 * ending in LF), NUL-terminated; owned by key.  Keep it secret. */
MT_EXPORT const char *mt_dkim_keygen_pem(const mt_dkim_keygen *key);

/* The key record, NUL-terminated, owned by key:
 * "v=DKIM1; k=rsa; p=<base64 of the DER SubjectPublicKeyInfo>" or
 * "v=DKIM1; k=ed25519; p=<base64 of the 32-octet public key>". */
MT_EXPORT const char *mt_dkim_keygen_record(const mt_dkim_keygen *key);

/* A one-line warning for the owner, or NULL: an RSA key above
 * MT_DKIM_KEYGEN_RSA_DNS_WARN bits gives a record that many DNS hosting
 * interfaces refuse.  Static string. */
MT_EXPORT const char *mt_dkim_keygen_warning(const mt_dkim_keygen *key);

/* ---- publishing a record ---------------------------------------------- */

/* The longest DNS character-string (RFC 1035 3.3). */
#define MT_DKIM_RECORD_STRING_MAX 255

/*
 * Split a record (len octets) into DNS character-strings of at most
 * MT_DKIM_RECORD_STRING_MAX octets, in order; a verifier joins them
 * without anything between (RFC 6376 3.6.2.2).  On MT_OK *strings is a
 * new array of *count NUL-terminated strings (one empty string for an
 * empty record); free with mt_dkim_record_strings_free.  MT_EINVAL for a
 * NULL argument or a NUL octet in the record, MT_ENOMEM.
 */
MT_EXPORT mt_status mt_dkim_record_split(const char *record, size_t len, char ***strings,
                                         size_t *count);
MT_EXPORT void mt_dkim_record_strings_free(char **strings, size_t count);

/*
 * Check a selector and a domain for publishing a key at
 * SELECTOR._domainkey.DOMAIN: the selector is sub-domain *("." sub-domain)
 * (RFC 6376 3.1: letters, digits and inner hyphens per label), the domain a
 * host name of at least two such labels (one trailing dot allowed), every
 * label at most 63 octets and the whole name at most 253.  MT_OK, or
 * MT_EINVAL with err saying which name is wrong and where.
 */
MT_EXPORT mt_status mt_dkim_record_check_names(const char *selector, const char *domain,
                                               mt_error *err);

/*
 * The zone-file line publishing record (len octets) for selector and
 * domain (checked as by mt_dkim_record_check_names):
 *   SELECTOR._domainkey.DOMAIN. IN TXT ( "string1" "string2" )
 * with the record split as by mt_dkim_record_split, '"' and '\' escaped
 * with '\' (RFC 1035 5.1), and no newline at the end.  On MT_OK *line is
 * new (free with mt_free).  MT_EINVAL (err says why), MT_ENOMEM.
 */
MT_EXPORT mt_status mt_dkim_record_zone_line(const char *selector, const char *domain,
                                             const char *record, size_t len, char **line,
                                             mt_error *err);

#ifdef __cplusplus
}
#endif
#endif
