/*
 * mailtrust-policyd: the Postfix SMTP access policy delegation protocol
 * (Postfix's SMTPD_POLICY_README) without I/O.  A request is lines
 * "name=value" ended by an empty line; the answer is "action=...", then an
 * empty line.  The connection code splits lines and feeds them here; what
 * to answer for a finished SPF check is decided here too.
 */
#ifndef MT_POLICYD_POLICY_H
#define MT_POLICYD_POLICY_H

#include <mailtrust/spf.h>

#include <stdbool.h>
#include <stddef.h>

#include "../common/net.h"

/* A line longer than this (without its LF) ends the connection: it cannot
 * be one Postfix sends (its SMTP lines are at most 2,048 octets). */
#define PD_MAX_LINE 4096
/* Attributes in one request; Postfix sends about 30. */
#define PD_MAX_ATTRS 256

#define PD_ADDR_CAP 64   /* client_address: an IPv6 address and spare */
#define PD_NAME_CAP 512  /* helo_name, sasl_username, instance ... */
#define PD_SENDER_CAP 1024

typedef struct pd_request {
	char request[64];
	char protocol_state[32];
	char client_address[PD_ADDR_CAP];
	char helo_name[PD_NAME_CAP];
	char sender[PD_SENDER_CAP];
	char sasl_username[PD_NAME_CAP];
	char instance[PD_NAME_CAP];
	unsigned attrs;          /* lines taken */
	bool bad;                /* the request is broken: why says how */
	char why[160];
} pd_request;

void pd_request_reset(pd_request *r);

typedef enum pd_line_result {
	PD_LINE_MORE = 0,  /* an attribute, taken (or ignored when unknown) */
	PD_LINE_END,       /* the empty line: the request is complete */
	PD_LINE_BAD,       /* a broken line: r->why says what; end the connection */
} pd_line_result;

/* One line without its LF (a CR before it is dropped).  Once a line was
 * bad, every further line is bad too. */
pd_line_result pd_request_line(pd_request *r, const char *line, size_t len);

/* After PD_LINE_END: is the request one to answer (request=
 * smtpd_access_policy, a client address)?  false with why set. */
bool pd_request_usable(pd_request *r);

/* ---- What to answer ---------------------------------------------------- */

typedef enum pd_temp_action { PD_TEMP_DEFER = 0, PD_TEMP_DEFER_IF_PERMIT, PD_TEMP_ACCEPT } pd_temp_action;

typedef struct pd_config {
	bool reject_fail;            /* fail: 550 5.7.23 (else the header only) */
	bool reject_permerror;       /* permerror: 550 5.7.24 (else the header only) */
	pd_temp_action temperror;    /* 451 4.7.24, DEFER_IF_PERMIT, or the header only */
	bool skip_localhost;         /* 127.0.0.0/8 and ::1 are not checked (default) */
	size_t n_trusted;            /* networks never checked */
	tool_net trusted[64];
} pd_config;

void pd_config_init(pd_config *c);

/* Add "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6) to the trusted networks;
 * false when malformed or when 64 are held already. */
bool pd_config_add_trusted(pd_config *c, const char *cidr);

/* Why this request is not checked ("authenticated", "localhost",
 * "trusted network"), or NULL when it is. */
const char *pd_skip_reason(const pd_config *c, const pd_request *r);

/*
 * The reply line for a finished check, without the "action=" prefix and
 * the line ends, into out (cap octets, NUL-terminated; at most cap-1).
 * received_spf is the field mt_spf_received_spf() built.  Every control
 * character becomes a space, so one line is always one line.
 * *rejects is set when the action refuses or defers the mail.
 */
void pd_action(const pd_config *c, const mt_spf_outcome *oc, const char *received_spf,
               char *out, size_t cap, bool *rejects);

#endif
