/* Where a command's DNS answers come from: a zone file, or libunbound. */
#include "cli.h"

#include <string.h>

int cli_open_resolver(const cli_dns *d, mt_dns_zone **zonep, mt_dns_resolver **resp)
{
	mt_error err;
	mt_status st;
	char esc[sizeof err.message * 4 + 8];

	*zonep = NULL;
	*resp = NULL;
	memset(&err, 0, sizeof(err));
	if (!d->zone) {
		mt_dns_unbound_options uo;

		mt_dns_unbound_options_init(&uo);
		uo.forwarder = d->resolver;
		uo.recursive = d->recursive;
		uo.dnssec = d->dnssec;
		uo.trust_anchor_file = d->trust_anchor;
		uo.unbound_options = d->unbound_options;
		uo.n_unbound_options = d->n_unbound_options;
		st = mt_dns_unbound_resolver_new(&uo, resp, &err);
		if (st == MT_OK && !d->no_cache) {
			/* Our cache in front: a hit costs no thread hop. */
			mt_dns_cache_options co;
			mt_dns_resolver *inner = *resp;
			mt_dns_cache_options_init(&co);
			if (d->cache_mb)
				co.max_bytes = d->cache_mb * 1024 * 1024;
			co.own_inner = true;
			*resp = NULL;
			st = mt_dns_cache_resolver_new(inner, &co, resp, &err);
		}
		if (st == MT_OK)
			return 0;
		if (st == MT_EINVAL && strncmp(err.message, "libunbound option ", 18) == 0) {
			cli_error("--unbound-option: %s", err.message + 11);
			return CLI_EXIT_USAGE;
		}
		if (d->dnssec && (st == MT_EIO || st == MT_ESYNTAX)) {
			/* the trust anchor file: unreadable, or not DS/DNSKEY records */
			cli_error("%s", err.message[0] ? err.message : mt_strerror(st));
			return st == MT_EIO ? CLI_EXIT_NOINPUT : CLI_EXIT_DATAERR;
		}
		cli_error("%s%s", d->resolver ? "--resolver: " : "DNS resolver: ",
		          cli_escape(esc, sizeof esc, err.message[0] ? err.message : mt_strerror(st),
		                     sizeof err.message));
		if (st == MT_EINVAL)
			return d->resolver ? CLI_EXIT_USAGE : CLI_EXIT_UNAVAILABLE;
		return st == MT_ENOMEM ? CLI_EXIT_SOFTWARE : CLI_EXIT_UNAVAILABLE;
	}
	*zonep = mt_dns_zone_new();
	if (!*zonep) {
		cli_error("out of memory");
		return CLI_EXIT_SOFTWARE;
	}
	st = mt_dns_zone_load_file(*zonep, d->zone, NULL, &err);
	if (st != MT_OK) {
		/* The message quotes the file name (and zone data): escape it. */
		const char *msg = cli_escape(esc, sizeof esc,
		                             err.message[0] ? err.message : mt_strerror(st),
		                             sizeof err.message);
		switch (st) {
		case MT_EIO:
		case MT_ENOTFOUND:
			cli_error("--zone: %s", msg);
			return CLI_EXIT_NOINPUT;
		case MT_ENOMEM:
			cli_error("--zone: %s", msg);
			return CLI_EXIT_SOFTWARE;
		default:
			cli_error("%s", msg);
			return CLI_EXIT_DATAERR;
		}
	}
	*resp = mt_dns_zone_resolver_new(*zonep);
	if (!*resp) {
		cli_error("out of memory");
		return CLI_EXIT_SOFTWARE;
	}
	return 0;
}
