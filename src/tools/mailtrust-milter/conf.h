/*
 * mailtrust-milter's configuration file (mailtrust-milter.conf(5)).
 *
 * One setting per line, "name value", '#' starts a comment line; blank
 * lines are ignored.  The parser reads untrusted bytes (a file an admin
 * edits) through a bounded cursor: it never relies on a NUL, refuses
 * control characters, lines over MTM_CONF_MAX_LINE octets and files over
 * MTM_CONF_MAX_FILE octets, and reports the first problem as
 * "line N: ...".  Keys are not loaded here (mtm_conf only names the
 * files); the milter loads them at start and on SIGHUP.
 */
#ifndef MAILTRUST_MILTER_CONF_H
#define MAILTRUST_MILTER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/net.h"

#define MTM_CONF_MAX_FILE   (1024 * 1024)
#define MTM_CONF_MAX_LINE   4096
#define MTM_CONF_MAX_NETS   256
#define MTM_CONF_MAX_SIGN   256

typedef enum mtm_dmarc_action {
	MTM_DMARC_REJECT = 0,   /* p=reject: 550 5.7.1; p=quarantine: hold */
	MTM_DMARC_QUARANTINE,   /* both held in Postfix's hold queue */
	MTM_DMARC_REPORT,       /* only Authentication-Results */
} mtm_dmarc_action;

typedef enum mtm_dns_failure {
	MTM_DNSFAIL_ACCEPT = 0, /* accept with temperror in the A-R field */
	MTM_DNSFAIL_TEMPFAIL,   /* 451 4.4.3: the client tries again later */
} mtm_dns_failure;

typedef tool_net mtm_net;

typedef struct mtm_sign_entry {
	char *domain;           /* lowercase, no trailing dot */
	char *selector;
	char *keyfile;
} mtm_sign_entry;

typedef struct mtm_conf {
	char *authserv_id;      /* required */
	char *socket;           /* libmilter form: unix:/path, inet:port@host, inet6:... */
	char *user;             /* NULL: keep the starting user */
	char *resolver;         /* ADDR[@PORT]; NULL: /etc/resolv.conf */
	unsigned dns_contexts;  /* accepted, ignored (one driver now) */
	unsigned dns_timeout_ms;/* per question (default 5000) */
	mtm_dmarc_action dmarc_action;
	mtm_dns_failure dns_failure;
	bool sign_subdomains;   /* a signing-table domain also covers its subdomains */
	size_t nnets;
	mtm_net nets[MTM_CONF_MAX_NETS];
	size_t nsign;
	mtm_sign_entry sign[MTM_CONF_MAX_SIGN];
} mtm_conf;

/* Defaults: trusted networks 127.0.0.0/8 and ::1, reject, accept on DNS failure. */
void mtm_conf_init(mtm_conf *c);
/* Parse text[0..len) into c (initialised by mtm_conf_init).  0 on success;
 * -1 with a one-line message in err (cap octets) on the first problem.  On
 * failure c still must be freed. */
int mtm_conf_parse(const char *text, size_t len, mtm_conf *c, char *err, size_t cap);
/* Read and parse a file: -1 with err also when it cannot be read. */
int mtm_conf_load(const char *path, mtm_conf *c, char *err, size_t cap);
void mtm_conf_free(mtm_conf *c);

/* Is the address (family 4 or 6, 4 or 16 octets) in a trusted network? */
bool mtm_conf_trusted(const mtm_conf *c, int family, const uint8_t *addr);
/* The signing-table entries for domain (exact, or a parent when
 * sign_subdomains): indices into c->sign written to idx (at most max),
 * their number returned.  The most specific domain wins. */
size_t mtm_conf_signers(const mtm_conf *c, const char *domain, size_t *idx, size_t max);

#endif
