/* A small OpenDKIM peer for the interoperability test (tests/interop/).
 * It links libopendkim (Debian libopendkim-dev) and signs or verifies
 * messages with keys given on the command line, never through DNS:
 *
 *   opendkim_peer sign KEY.pem SELECTOR DOMAIN rsa|ed25519 HDR/BODY LEN
 *                      HEADERS OVERSIGN IN OUT
 *       HDR/BODY is simple or relaxed each; LEN 1 writes l= (the whole
 *       body, DKIM_LIBFLAGS_SIGNLEN); HEADERS and OVERSIGN are lists
 *       separated by ':' ("" for none).  Writes the DKIM-Signature field
 *       followed by IN unchanged to OUT, its line ends those of IN's first
 *       line.
 *   opendkim_peer verify KEYTABLE MSG...
 *       KEYTABLE has lines "SELECTOR._domainkey.DOMAIN<TAB>TXT record";
 *       the key lookup callback answers from it (dkim_set_key_lookup).
 *       Prints one line per message: "MSG RESULT...", one RESULT per
 *       signature in the order OpenDKIM lists them: pass, fail:WHY (the
 *       body hash, the signature, or OpenDKIM's error string), or one
 *       error:WHAT when OpenDKIM found no signature to evaluate.
 *
 * Both read bare LF input as CRLF (DKIM_LIBFLAGS_FIXCRLF), the way an MTA
 * hands a message to opendkim.  Exit status 0, or 2 for a usage or I/O
 * error (a verify result is never an exit status).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <dkim.h>

struct key {
	char *name;   /* selector._domainkey.domain, lower case */
	char *record;
};
static struct key *keys;
static size_t nkeys;

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *nb;
			cap = (n + 65536 + 1) * 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, 65536, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static bool load_keys(const char *path)
{
	size_t len;
	char *text = read_file(path, &len), *line, *save = NULL;
	if (text == NULL)
		return false;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		struct key *nk;
		if (tab == NULL)
			continue;
		*tab = '\0';
		nk = realloc(keys, (nkeys + 1) * sizeof *keys);
		if (nk == NULL)
			return false;
		keys = nk;
		keys[nkeys].name = strdup(line);
		keys[nkeys].record = strdup(tab + 1);
		if (keys[nkeys].name == NULL || keys[nkeys].record == NULL)
			return false;
		lower(keys[nkeys].name);
		nkeys++;
	}
	free(text);
	return true;
}

static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	char name[600];
	const char *s = (const char *)dkim_sig_getselector(sig);
	const char *d = (const char *)dkim_sig_getdomain(sig);
	(void)dkim;
	if (s == NULL || d == NULL)
		return DKIM_CBSTAT_ERROR;
	if ((size_t)snprintf(name, sizeof name, "%s._domainkey.%s", s, d) >= sizeof name)
		return DKIM_CBSTAT_NOTFOUND;
	lower(name);
	for (size_t i = 0; i < nkeys; i++) {
		if (strcmp(keys[i].name, name) == 0) {
			if (strlen(keys[i].record) + 1 > buflen)
				return DKIM_CBSTAT_ERROR;
			memcpy(buf, keys[i].record, strlen(keys[i].record) + 1);
			return DKIM_CBSTAT_CONTINUE;
		}
	}
	return DKIM_CBSTAT_NOTFOUND;
}

/* a NULL-terminated array of the names in LIST (separated by ':') */
static const char **split_names(char *list)
{
	size_t n = 1;
	const char **v;
	char *p, *save = NULL;
	for (p = list; *p; p++)
		n += *p == ':';
	v = calloc(n + 1, sizeof *v);
	if (v == NULL)
		return NULL;
	n = 0;
	for (p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save))
		v[n++] = p;
	return v;
}

static DKIM_LIB *new_lib(unsigned int extra_flags)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | extra_flags;
	if (lib == NULL)
		return NULL;
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK) {
		dkim_close(lib);
		return NULL;
	}
	return lib;
}

static int do_sign(char **argv)
{
	const char *keyfile = argv[0], *selector = argv[1], *domain = argv[2];
	const char *alg = argv[3], *canon = argv[4];
	bool len = strcmp(argv[5], "1") == 0;
	char *hdrs = argv[6], *over = argv[7];
	const char *in = argv[8], *out = argv[9];
	const char **hv = NULL, **ov = NULL;
	char *key = NULL, *msg = NULL;
	size_t keylen, msglen;
	DKIM_LIB *lib = NULL;
	DKIM *dkim = NULL;
	DKIM_STAT st;
	dkim_canon_t hc, bc;
	u_char *sighdr = NULL;
	size_t siglen = 0;
	FILE *f = NULL;
	int rc = 2;

	if (strcmp(canon, "simple/simple") == 0) { hc = DKIM_CANON_SIMPLE; bc = DKIM_CANON_SIMPLE; }
	else if (strcmp(canon, "simple/relaxed") == 0) { hc = DKIM_CANON_SIMPLE; bc = DKIM_CANON_RELAXED; }
	else if (strcmp(canon, "relaxed/simple") == 0) { hc = DKIM_CANON_RELAXED; bc = DKIM_CANON_SIMPLE; }
	else if (strcmp(canon, "relaxed/relaxed") == 0) { hc = DKIM_CANON_RELAXED; bc = DKIM_CANON_RELAXED; }
	else { fprintf(stderr, "opendkim_peer: bad canonicalization %s\n", canon); return 2; }

	key = read_file(keyfile, &keylen);
	msg = read_file(in, &msglen);
	if (key == NULL || msg == NULL) {
		fprintf(stderr, "opendkim_peer: cannot read %s or %s\n", keyfile, in);
		goto out;
	}
	lib = new_lib(len ? DKIM_LIBFLAGS_SIGNLEN : 0);
	if (lib == NULL)
		goto out;
	if (*hdrs) {
		hv = split_names(hdrs);
		if (hv == NULL || dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, hv, sizeof hv) != DKIM_STAT_OK)
			goto out;
	}
	if (*over) {
		ov = split_names(over);
		if (ov == NULL || dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, ov, sizeof ov) != DKIM_STAT_OK)
			goto out;
	}
	dkim = dkim_sign(lib, (const u_char *)"interop", NULL, (dkim_sigkey_t)key,
	                 (const u_char *)selector, (const u_char *)domain, hc, bc,
	                 strcmp(alg, "ed25519") == 0 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256,
	                 -1, &st);
	if (dkim == NULL) {
		fprintf(stderr, "opendkim_peer: dkim_sign: %s\n", dkim_getresultstr(st));
		goto out;
	}
	st = dkim_chunk(dkim, (u_char *)msg, msglen);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(dkim, NULL, 0);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(dkim, NULL);
	if (st == DKIM_STAT_OK)
		st = dkim_getsighdr_d(dkim, strlen(DKIM_SIGNHEADER) + 2, &sighdr, &siglen);
	if (st != DKIM_STAT_OK) {
		fprintf(stderr, "opendkim_peer: signing: %s (%s)\n", dkim_getresultstr(st),
		        dkim_geterror(dkim) ? dkim_geterror(dkim) : "");
		goto out;
	}
	f = fopen(out, "wb");
	if (f == NULL)
		goto out;
	{
		/* the message's own line end for the field's folds and its end */
		const char *nl = memchr(msg, '\n', msglen);
		bool crlf = nl != NULL && nl > msg && nl[-1] == '\r';
		fputs(DKIM_SIGNHEADER ": ", f);
		for (size_t i = 0; i < siglen; i++) {
			if (sighdr[i] == '\r')
				continue;
			if (sighdr[i] == '\n' && crlf)
				fputc('\r', f);
			fputc(sighdr[i], f);
		}
		fputs(crlf ? "\r\n" : "\n", f);
	}
	fwrite(msg, 1, msglen, f);
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	if (dkim != NULL)
		dkim_free(dkim);
	if (lib != NULL)
		dkim_close(lib);
	free(hv);
	free(ov);
	free(key);
	free(msg);
	return rc;
}

static void verify_one(DKIM_LIB *lib, const char *path)
{
	size_t msglen;
	char *msg = read_file(path, &msglen);
	DKIM *dkim = NULL;
	DKIM_STAT st;
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;

	if (msg == NULL) {
		printf("%s error cannot-read\n", path);
		return;
	}
	dkim = dkim_verify(lib, (const u_char *)"interop", NULL, &st);
	if (dkim == NULL) {
		printf("%s error dkim_verify:%s\n", path, dkim_getresultstr(st));
		free(msg);
		return;
	}
	st = dkim_chunk(dkim, (u_char *)msg, msglen);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(dkim, NULL, 0);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(dkim, NULL);
	if (dkim_getsiglist(dkim, &sigs, &nsigs) != DKIM_STAT_OK || nsigs < 1) {
		printf("%s error:%s\n", path, dkim_getresultstr(st));
	} else {
		printf("%s", path);
		for (int i = 0; i < nsigs; i++) {
			DKIM_SIGINFO *sig = sigs[i];
			unsigned int flags = dkim_sig_getflags(sig);
			int bh = dkim_sig_getbh(sig);
			int err = dkim_sig_geterror(sig);
			const char *es = dkim_sig_geterrorstr(err);
			if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
				printf(" pass");
			else if (bh == DKIM_SIGBH_MISMATCH)
				printf(" fail:body-hash");
			else if ((flags & DKIM_SIGFLAG_PROCESSED) && err == DKIM_SIGERROR_OK)
				printf(" fail:signature");
			else {
				printf(" fail:");
				for (const char *p = es ? es : "unknown"; *p; p++)
					putchar(*p == ' ' ? '-' : *p);
			}
		}
		putchar('\n');
	}
	dkim_free(dkim);
	free(msg);
}

static int do_verify(int argc, char **argv)
{
	DKIM_LIB *lib;
	if (!load_keys(argv[0])) {
		fprintf(stderr, "opendkim_peer: cannot read the key table %s\n", argv[0]);
		return 2;
	}
	lib = new_lib(0);
	if (lib == NULL || dkim_set_key_lookup(lib, key_lookup) != DKIM_STAT_OK)
		return 2;
	for (int i = 1; i < argc; i++)
		verify_one(lib, argv[i]);
	dkim_close(lib);
	for (size_t i = 0; i < nkeys; i++) {
		free(keys[i].name);
		free(keys[i].record);
	}
	free(keys);
	return fflush(stdout) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc == 12 && strcmp(argv[1], "sign") == 0)
		return do_sign(argv + 2);
	if (argc >= 3 && strcmp(argv[1], "verify") == 0)
		return do_verify(argc - 2, argv + 2);
	fprintf(stderr, "usage: opendkim_peer sign KEY SELECTOR DOMAIN rsa|ed25519 HDR/BODY 0|1 HEADERS OVERSIGN IN OUT\n"
	                "       opendkim_peer verify KEYTABLE MSG...\n");
	return 2;
}
