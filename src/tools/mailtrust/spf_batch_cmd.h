/* mailtrust spf check --batch: what spf_cmd.c and spf_batch_cmd.c share. */
#ifndef MAILTRUST_CLI_SPF_BATCH_CMD_H
#define MAILTRUST_CLI_SPF_BATCH_CMD_H

#include "json.h"

#include <mailtrust/mailtrust.h>

typedef struct spf_batch_params {
	const char *path;           /* the input file, "-" for standard input */
	const mt_spf_options *opts; /* applied to every line */
	mt_spf_identity identity;
	mt_dns_resolver *res;       /* the resolver for every line */
	bool json;                  /* one JSON object per line instead of text */
} spf_batch_params;

/*
 * Run the batch: read lines "IP SENDER HELO", write one result per line in
 * input order on stdout.  Returns the exit status (0, 65, 66, 69, 70).
 */
int spf_batch_main(const spf_batch_params *p);

/*
 * The members of the single-check JSON object (spf_cmd.c), written into
 * an object w has already begun.
 */
void spf_check_json_fields(json_writer *w, const mt_spf_options *opts, const mt_spf_outcome *oc,
                           const char *rspf, const char *ar);

#endif
