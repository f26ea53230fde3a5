/* Fuzz SPF merge and build: the input split at newlines gives the records
 * to merge (at most 64), and the same lines as ip4/ip6/include parts to
 * build from.  Whatever comes out must parse as an SPF record. */
#include <mailtrust/spf_verify.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 64

static void must_parse(const char *s)
{
	mt_spf_record *r = NULL;
	if (mt_spf_record_parse(s, strlen(s), &r, NULL) != MT_OK)
		abort();
	mt_spf_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *lines[MAX_LINES];
	size_t n = 0, start = 0;
	unsigned max = size ? data[0] % 16 : 0; /* 0: the default of 10 */
	mt_error err;
	char *out = NULL;

	for (size_t i = 0; i <= size && n < MAX_LINES; i++) {
		if (i < size && data[i] != '\n')
			continue;
		lines[n] = malloc(i - start + 1);
		if (!lines[n])
			goto done;
		memcpy(lines[n], data + start, i - start);
		lines[n][i - start] = '\0';
		n++;
		start = i + 1;
	}

	memset(&err, 0, sizeof err);
	mt_spf_verify *notes = NULL;
	mt_status st = mt_spf_merge_notes((const char *const *)lines, n, max, &out, &notes, &err);
	if (st == MT_OK) {
		if (!out || strncmp(out, "v=spf1", 6) != 0 || !notes)
			abort();
		must_parse(out);
	} else if (out || notes || !err.message[0] ||
	           memchr(err.message, '\0', sizeof err.message) == NULL) {
		abort();
	}
	for (size_t i = 0; i < mt_spf_verify_finding_count(notes); i++)
		if (!mt_spf_verify_finding(notes, i)->message)
			abort();
	mt_spf_verify_free(notes);
	notes = NULL;
	mt_free(out);
	out = NULL;

	/* build: lines in turn as ip4, ip6, include parts */
	const char *p4[MAX_LINES], *p6[MAX_LINES], *inc[MAX_LINES];
	mt_spf_build_options o;
	memset(&o, 0, sizeof o);
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 0)
			p4[o.nip4++] = lines[i];
		else if (i % 3 == 1)
			p6[o.nip6++] = lines[i];
		else
			inc[o.ninclude++] = lines[i];
	}
	o.ip4 = p4;
	o.ip6 = p6;
	o.include = inc;
	o.a = size > 1 && (data[1] & 1);
	o.mx = size > 1 && (data[1] & 2);
	o.all = size > 1 ? "-~?"[data[1] % 3] : 0;
	o.max_lookups = max;
	st = mt_spf_build_notes(&o, &out, &notes, &err);
	if (st == MT_OK)
		must_parse(out);
	else if (out || notes)
		abort();
	mt_spf_verify_free(notes);
	mt_free(out);
done:
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	return 0;
}
