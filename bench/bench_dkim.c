/* DKIM verify and sign on the dkim-corpus (../shared/bench/dkim-corpus),
 * mailtrust beside OpenDKIM (libopendkim, when built with it) and the
 * floor, all in one run: messages per second per algorithm, CPU time of
 * this process, best of N rounds over the whole corpus.
 *
 *   bench_dkim CORPUS_DIR KEYS_DIR [--rounds N] [--chunk BYTES] [--limit M]
 *              [--only "OP ALG IMPL"]
 *
 * --only runs one row (e.g. "verify rsa-sha256 mailtrust"), for profilers.
 *
 * CORPUS_DIR is what gen-corpus wrote (rsa/ ed25519/ unsigned/ keys.tsv
 * manifest.tsv), KEYS_DIR the generator's keys/ (the private keys for
 * signing).  Keys reach both verifiers without DNS: mailtrust through an
 * in-memory zone behind its DNS cache, OpenDKIM through its key-lookup
 * callback.  Messages are read into memory first and fed in CHUNK-octet
 * pieces (default 65536), as a milter or a file reader would.
 *
 * mailtrust decodes a key record the first time it is asked and keeps it
 * in its DNS cache, as a server would: the first round pays for decoding
 * the corpus's 40 keys, so take N >= 2 (the default 3) for the steady
 * state.
 *
 * The floor, per message: SHA-256 of the octets a verifier or signer
 * hashes (the body as it lies in the message and the header fields the
 * corpus signature names in h=, plus the signature field) in one call each,
 * and one signature operation (RSA-2048 PKCS#1 v1.5 or Ed25519 through
 * OpenSSL with the key and context prepared once).  Nothing is parsed or
 * canonicalized: no verifier or signer can be faster.
 */
#define _GNU_SOURCE
#include <mailtrust/mailtrust.h>
#include <mailtrust/dkim.h>
#include <mailtrust/dkim_sign.h>
#include <mailtrust/dkim_key.h>
#include <mailtrust/dns.h>
#include <mailtrust/run.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <time.h>

#ifdef MT_BENCH_OPENDKIM
#include <opendkim/dkim.h>
#endif

#define SIGNED_HEADERS \
	"from:to:cc:subject:date:message-id:mime-version:content-type:" \
	"content-transfer-encoding:list-unsubscribe"

enum { ALG_RSA = 0, ALG_ED = 1, NALG = 2 };
static const char *alg_name[NALG] = { "rsa-sha256", "ed25519-sha256" };

typedef struct msgdata {
	char *signed_[NALG];     /* rsa/NNNN.eml, ed25519/NNNN.eml */
	size_t signed_len[NALG];
	char *plain;             /* unsigned/NNNN.eml */
	size_t plain_len;
	char *domain;            /* d= */
	/* floor: the body and the signed header octets of the rsa version */
	size_t body_off;
	char *hdr;               /* signed fields + signature field, concatenated */
	size_t hdr_len;
} msgdata;

typedef struct keyrec {
	char name[300];
	char value[1024];
} keyrec;

static msgdata *msgs;
static size_t nmsg;
static keyrec keys[256];
static size_t nkeys;
static size_t chunk = 65536;
static char *rsa_pem, *ed_pem;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = 0;
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_dkim: %s\n", what);
	exit(1);
}

/* ---- the floor's inputs: a minimal header split, for byte counts only ---- */
static size_t field_end(const char *m, size_t len, size_t off)
{
	for (;;) {
		const char *nl = memchr(m + off, '\n', len - off);
		if (!nl)
			return len;
		off = (size_t)(nl - m) + 1;
		if (off >= len || (m[off] != ' ' && m[off] != '\t'))
			return off;
	}
}

static void prepare_floor(msgdata *d)
{
	const char *m = d->signed_[ALG_RSA];
	size_t len = d->signed_len[ALG_RSA], off = 0, sig_off = 0, sig_end = 0;
	char names[1024] = "";
	size_t starts[256], ends[256], nf = 0;
	while (off < len && !(m[off] == '\r' && off + 1 < len && m[off + 1] == '\n') && m[off] != '\n') {
		size_t e = field_end(m, len, off);
		if (nf < 256) {
			starts[nf] = off;
			ends[nf++] = e;
		}
		if (strncasecmp(m + off, "DKIM-Signature:", 15) == 0) {
			sig_off = off;
			sig_end = e;
		}
		off = e;
	}
	d->body_off = off + (m[off] == '\r' ? 2 : 1);
	/* h= of the signature: names separated by ':' and FWS */
	{
		const char *h = memmem(m + sig_off, sig_end - sig_off, "h=", 2);
		size_t k = 0;
		if (!h)
			die("a corpus signature without h=");
		for (h += 2; *h != ';' && k + 1 < sizeof names; h++)
			if (*h != ' ' && *h != '\t' && *h != '\r' && *h != '\n')
				names[k++] = (char)tolower((unsigned char)*h);
		names[k] = 0;
	}
	d->hdr = malloc(sig_end - sig_off + 4096);
	d->hdr_len = 0;
	for (char *save = NULL, *n = strtok_r(names, ":", &save); n; n = strtok_r(NULL, ":", &save)) {
		size_t nl = strlen(n);
		for (size_t f = nf; f-- > 0;) {
			if (strncasecmp(m + starts[f], n, nl) == 0 && m[starts[f] + nl] == ':') {
				size_t fl = ends[f] - starts[f];
				if (d->hdr_len + fl <= 4096) {
					memcpy(d->hdr + d->hdr_len, m + starts[f], fl);
					d->hdr_len += fl;
				}
				break;
			}
		}
	}
	memcpy(d->hdr + d->hdr_len, m + sig_off, sig_end - sig_off);
	d->hdr_len += sig_end - sig_off;
}

static void load(const char *dir, size_t limit)
{
	char path[4096], *man, *line, *save = NULL;
	size_t len, cap = 0;
	snprintf(path, sizeof path, "%s/manifest.tsv", dir);
	if (!(man = slurp(path, &len)))
		die("cannot read manifest.tsv");
	for (line = strtok_r(man, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char file[256], cls[32], dom[256];
		unsigned long long bytes, body;
		msgdata *d;
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%255s %31s %llu %llu %255s", file, cls, &bytes, &body, dom) != 5)
			die("bad manifest line");
		if (nmsg == limit)
			break;
		if (nmsg == cap) {
			cap = cap ? cap * 2 : 1024;
			msgs = realloc(msgs, cap * sizeof *msgs);
			if (!msgs)
				die("out of memory");
		}
		d = &msgs[nmsg++];
		memset(d, 0, sizeof *d);
		d->domain = strdup(dom);
		snprintf(path, sizeof path, "%s/rsa/%s", dir, file);
		if (!(d->signed_[ALG_RSA] = slurp(path, &d->signed_len[ALG_RSA])))
			die("cannot read a message under rsa/");
		snprintf(path, sizeof path, "%s/ed25519/%s", dir, file);
		if (!(d->signed_[ALG_ED] = slurp(path, &d->signed_len[ALG_ED])))
			die("cannot read a message under ed25519/");
		snprintf(path, sizeof path, "%s/unsigned/%s", dir, file);
		if (!(d->plain = slurp(path, &d->plain_len)))
			die("cannot read a message under unsigned/");
		prepare_floor(d);
	}
	free(man);
	snprintf(path, sizeof path, "%s/keys.tsv", dir);
	if (!(man = slurp(path, &len)))
		die("cannot read keys.tsv");
	for (line = strtok_r(man, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (!tab || nkeys == 256 || (size_t)(tab - line) >= sizeof keys[0].name ||
		    strlen(tab + 1) >= sizeof keys[0].value)
			die("bad keys.tsv line");
		memcpy(keys[nkeys].name, line, (size_t)(tab - line));
		keys[nkeys].name[tab - line] = 0;
		memcpy(keys[nkeys].value, tab + 1, strlen(tab + 1) + 1);
		nkeys++;
	}
	free(man);
}

/* ---- the floor ------------------------------------------------------------ */
typedef struct floor_ctx {
	EVP_PKEY *priv, *pub;
	EVP_PKEY_CTX *vctx, *sctx;     /* RSA: prepared once */
	EVP_MD_CTX *mctx;              /* Ed25519 */
	unsigned char sig[512];
	size_t siglen;
} floor_ctx;

static EVP_PKEY *pem_key(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!k)
		die("cannot read a private key");
	return k;
}

static void floor_init(floor_ctx *f, int alg)
{
	unsigned char dg[32];
	unsigned char *der = NULL;
	int dl;
	const unsigned char *p;
	memset(f, 0, sizeof *f);
	memset(dg, 0x5a, sizeof dg);
	f->priv = pem_key(alg == ALG_RSA ? rsa_pem : ed_pem);
	dl = i2d_PUBKEY(f->priv, &der);
	p = der;
	f->pub = d2i_PUBKEY(NULL, &p, dl);
	OPENSSL_free(der);
	f->mctx = EVP_MD_CTX_new();
	f->siglen = sizeof f->sig;
	if (alg == ALG_RSA) {
		f->vctx = EVP_PKEY_CTX_new(f->pub, NULL);
		f->sctx = EVP_PKEY_CTX_new(f->priv, NULL);
		if (EVP_PKEY_verify_init(f->vctx) != 1 || EVP_PKEY_sign_init(f->sctx) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(f->vctx, RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(f->sctx, RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(f->vctx, EVP_sha256()) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(f->sctx, EVP_sha256()) != 1 ||
		    EVP_PKEY_sign(f->sctx, f->sig, &f->siglen, dg, 32) != 1)
			die("RSA floor setup failed");
	} else {
		if (EVP_DigestSignInit(f->mctx, NULL, NULL, NULL, f->priv) != 1 ||
		    EVP_DigestSign(f->mctx, f->sig, &f->siglen, dg, 32) != 1)
			die("Ed25519 floor setup failed");
	}
}

static bool floor_one(floor_ctx *f, int alg, bool sign, const msgdata *d)
{
	unsigned char bh[32], hh[32], sig[512];
	size_t siglen = sizeof sig;
	const char *m = d->signed_[ALG_RSA];
	size_t len = d->signed_len[ALG_RSA];
	if (!EVP_Digest(m + d->body_off, len - d->body_off, bh, NULL, EVP_sha256(), NULL) ||
	    !EVP_Digest(d->hdr, d->hdr_len, hh, NULL, EVP_sha256(), NULL))
		return false;
	memset(hh, 0x5a, sizeof hh); /* the signature made at setup is over this */
	if (alg == ALG_RSA) {
		if (sign)
			return EVP_PKEY_sign(f->sctx, sig, &siglen, hh, 32) == 1;
		return EVP_PKEY_verify(f->vctx, f->sig, f->siglen, hh, 32) == 1;
	}
	if (sign)
		return EVP_DigestSignInit(f->mctx, NULL, NULL, NULL, f->priv) == 1 &&
		       EVP_DigestSign(f->mctx, sig, &siglen, hh, 32) == 1;
	return EVP_DigestVerifyInit(f->mctx, NULL, NULL, NULL, f->pub) == 1 &&
	       EVP_DigestVerify(f->mctx, f->sig, f->siglen, hh, 32) == 1;
}

/* ---- mailtrust ------------------------------------------------------------ */
static mt_dns_zone *zone;
static mt_dns_resolver *zres, *cres;
static mt_run *run;
static mt_dkim_keygen *mt_key[NALG];

static void mt_setup(void)
{
	mt_error err;
	zone = mt_dns_zone_new();
	if (!zone)
		die("out of memory");
	for (size_t k = 0; k < nkeys; k++) {
		const char *strs[8];
		size_t lens[8], n = 0, vl = strlen(keys[k].value);
		for (size_t o = 0; o < vl && n < 8; o += 255, n++) {
			strs[n] = keys[k].value + o;
			lens[n] = vl - o < 255 ? vl - o : 255;
		}
		if (mt_dns_zone_add_txt(zone, keys[k].name, MT_DNS_TXT, 3600, strs, lens, n) != MT_OK)
			die("cannot add a key to the zone");
	}
	zres = mt_dns_zone_resolver_new(zone);
	if (!zres || mt_dns_cache_resolver_new(zres, NULL, &cres, &err) != MT_OK ||
	    mt_run_new(cres, NULL, &run, &err) != MT_OK)
		die("cannot set up the resolver");
	if (mt_dkim_keygen_from_pem(rsa_pem, strlen(rsa_pem), &mt_key[ALG_RSA], &err) != MT_OK ||
	    mt_dkim_keygen_from_pem(ed_pem, strlen(ed_pem), &mt_key[ALG_ED], &err) != MT_OK)
		die("mailtrust cannot load the private keys");
}

static bool mt_verify_one(const char *m, size_t len)
{
	mt_dkim_verify *v = NULL;
	mt_error err;
	bool ok = false;
	const mt_dkim_sig_result *r;
	if (mt_dkim_verify_new(NULL, &v, &err) != MT_OK)
		return false;
	for (size_t o = 0; o < len; o += chunk)
		if (mt_dkim_verify_feed(v, m + o, len - o < chunk ? len - o : chunk, &err) != MT_OK)
			goto out;
	if (mt_dkim_verify_finish(v, &err) != MT_OK)
		goto out;
	if (mt_run_add(run, mt_dkim_verify_job_ops(), v, 0, NULL) != MT_OK)
		goto out;
	while (!mt_run_next(run, NULL, NULL))
		if (mt_run_wait(run, -1) != MT_OK)
			goto out;
	r = mt_dkim_verify_result(v, 0);
	ok = mt_dkim_verify_count(v) == 1 && r && r->result == MT_DKIM_PASS;
out:
	mt_dkim_verify_free(v);
	return ok;
}

static char *mt_signed_field; /* the last field made, for the cross-check */

static bool mt_sign_one(int alg, const msgdata *d, bool keep)
{
	mt_dkim_sign_options o;
	mt_dkim_sign *s = NULL;
	mt_error err;
	bool ok = false;
	const char *f;
	mt_dkim_sign_options_init(&o);
	o.headers = SIGNED_HEADERS;
	if (mt_dkim_sign_new(&o, &s, &err) != MT_OK ||
	    mt_dkim_sign_add(s, mt_key[alg], d->domain, alg == ALG_RSA ? "rsa2048" : "ed1", NULL,
	                     &err) != MT_OK)
		goto out;
	for (size_t off = 0; off < d->plain_len; off += chunk)
		if (mt_dkim_sign_feed(s, d->plain + off,
		                      d->plain_len - off < chunk ? d->plain_len - off : chunk,
		                      &err) != MT_OK)
			goto out;
	if (mt_dkim_sign_finish(s, &err) != MT_OK || !(f = mt_dkim_sign_fields(s, NULL)))
		goto out;
	if (keep) {
		free(mt_signed_field);
		mt_signed_field = strdup(f);
	}
	ok = true;
out:
	mt_dkim_sign_free(s);
	return ok;
}

/* ---- OpenDKIM ------------------------------------------------------------- */
#ifdef MT_BENCH_OPENDKIM
static DKIM_LIB *odlib;
static char *od_signed_field;

static DKIM_CBSTAT od_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	char name[600];
	(void)dkim;
	snprintf(name, sizeof name, "%s._domainkey.%s", (const char *)dkim_sig_getselector(sig),
	         (const char *)dkim_sig_getdomain(sig));
	for (size_t k = 0; k < nkeys; k++)
		if (strcasecmp(keys[k].name, name) == 0) {
			size_t n = strlen(keys[k].value);
			if (n + 1 > buflen)
				return DKIM_CBSTAT_ERROR;
			memcpy(buf, keys[k].value, n + 1);
			return DKIM_CBSTAT_CONTINUE;
		}
	return DKIM_CBSTAT_NOTFOUND;
}

static void od_setup(void)
{
	const char *hdrs[] = { "from", "to", "cc", "subject", "date", "message-id",
	                       "mime-version", "content-type", "content-transfer-encoding",
	                       "list-unsubscribe", NULL };
	odlib = dkim_init(NULL, NULL);
	if (!odlib || dkim_set_key_lookup(odlib, od_key_lookup) != DKIM_STAT_OK ||
	    dkim_options(odlib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *)hdrs, sizeof(char **)) !=
	        DKIM_STAT_OK)
		die("OpenDKIM setup failed");
}

static bool od_verify_one(const char *m, size_t len)
{
	DKIM_STAT st;
	DKIM *d = dkim_verify(odlib, (const u_char *)"bench", NULL, &st);
	bool ok = false;
	if (!d)
		return false;
	for (size_t o = 0; o < len; o += chunk)
		if (dkim_chunk(d, (u_char *)m + o, len - o < chunk ? len - o : chunk) != DKIM_STAT_OK)
			goto out;
	if (dkim_chunk(d, NULL, 0) != DKIM_STAT_OK)
		goto out;
	ok = dkim_eom(d, NULL) == DKIM_STAT_OK;
out:
	dkim_free(d);
	return ok;
}

static bool od_sign_one(int alg, const msgdata *md, bool keep)
{
	DKIM_STAT st;
	DKIM *d = dkim_sign(odlib, (const u_char *)"bench", NULL,
	                    (dkim_sigkey_t)(alg == ALG_RSA ? rsa_pem : ed_pem),
	                    (const u_char *)(alg == ALG_RSA ? "rsa2048" : "ed1"),
	                    (const u_char *)md->domain, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	                    alg == ALG_RSA ? DKIM_SIGN_RSASHA256 : DKIM_SIGN_ED25519SHA256, -1, &st);
	bool ok = false;
	u_char *hdr = NULL;
	size_t hlen = 0;
	if (!d)
		return false;
	for (size_t o = 0; o < md->plain_len; o += chunk)
		if (dkim_chunk(d, (u_char *)md->plain + o,
		               md->plain_len - o < chunk ? md->plain_len - o : chunk) != DKIM_STAT_OK)
			goto out;
	if (dkim_chunk(d, NULL, 0) != DKIM_STAT_OK || dkim_eom(d, NULL) != DKIM_STAT_OK ||
	    dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER) + 2, &hdr, &hlen) != DKIM_STAT_OK)
		goto out;
	if (keep) {
		free(od_signed_field);
		if (asprintf(&od_signed_field, "%s: %s\r\n", DKIM_SIGNHEADER, (char *)hdr) < 0)
			od_signed_field = NULL;
	}
	ok = true;
out:
	dkim_free(d);
	return ok;
}
#endif

/* ---- the runs ------------------------------------------------------------- */
enum { IMPL_FLOOR, IMPL_MT, IMPL_OD, NIMPL };
static const char *impl_name[NIMPL] = { "floor (OpenSSL)", "mailtrust", "OpenDKIM" };

static bool run_one(int impl, int alg, bool sign, size_t i, floor_ctx *fc)
{
	const msgdata *d = &msgs[i];
	switch (impl) {
	case IMPL_FLOOR:
		return floor_one(fc, alg, sign, d);
	case IMPL_MT:
		return sign ? mt_sign_one(alg, d, false) : mt_verify_one(d->signed_[alg], d->signed_len[alg]);
#ifdef MT_BENCH_OPENDKIM
	case IMPL_OD:
		return sign ? od_sign_one(alg, d, false) : od_verify_one(d->signed_[alg], d->signed_len[alg]);
#endif
	}
	return false;
}

/* Check that each signer's output verifies with the other verifier (and its
 * own), on the first messages. */
static bool with_field(const char *field, const msgdata *d, char **out, size_t *len)
{
	size_t fl = strlen(field);
	*out = malloc(fl + d->plain_len);
	if (!*out)
		return false;
	memcpy(*out, field, fl);
	memcpy(*out + fl, d->plain, d->plain_len);
	*len = fl + d->plain_len;
	return true;
}

static void cross_check(int alg)
{
	for (size_t i = 0; i < nmsg && i < 5; i++) {
		char *m;
		size_t len;
		if (!mt_sign_one(alg, &msgs[i], true) || !with_field(mt_signed_field, &msgs[i], &m, &len))
			die("mailtrust cannot sign a corpus message");
		if (!mt_verify_one(m, len))
			die("mailtrust does not verify its own signature");
#ifdef MT_BENCH_OPENDKIM
		if (!od_verify_one(m, len))
			die("OpenDKIM does not verify a mailtrust signature");
		free(m);
		if (!od_sign_one(alg, &msgs[i], true) || !od_signed_field ||
		    !with_field(od_signed_field, &msgs[i], &m, &len))
			die("OpenDKIM cannot sign a corpus message");
		if (!mt_verify_one(m, len))
			die("mailtrust does not verify an OpenDKIM signature");
#endif
		free(m);
	}
}

int main(int argc, char **argv)
{
	int rounds = 3;
	size_t limit = SIZE_MAX, total = 0, rsa_len, ed_len;
	const char *only = NULL;
	char path[4096];
	double best[2][NALG][NIMPL];
	bool have[NIMPL] = { true, true, false };
	floor_ctx fc[NALG];

	if (argc < 3) {
		fprintf(stderr, "usage: bench_dkim CORPUS_DIR KEYS_DIR [--rounds N] [--chunk BYTES] "
		                "[--limit M]\n");
		return 2;
	}
	for (int a = 3; a + 1 < argc; a += 2) {
		if (strcmp(argv[a], "--rounds") == 0)
			rounds = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "--chunk") == 0)
			chunk = strtoul(argv[a + 1], NULL, 10);
		else if (strcmp(argv[a], "--only") == 0)
			only = argv[a + 1];
		else if (strcmp(argv[a], "--limit") == 0)
			limit = strtoul(argv[a + 1], NULL, 10);
		else
			die("unknown option");
	}
	if (rounds < 1 || chunk == 0)
		die("bad --rounds or --chunk");
#ifdef MT_BENCH_OPENDKIM
	have[IMPL_OD] = true;
#endif
	snprintf(path, sizeof path, "%s/rsa2048.key.pem", argv[2]);
	if (!(rsa_pem = slurp(path, &rsa_len)))
		die("cannot read rsa2048.key.pem");
	snprintf(path, sizeof path, "%s/ed25519.key.pem", argv[2]);
	if (!(ed_pem = slurp(path, &ed_len)))
		die("cannot read ed25519.key.pem");
	load(argv[1], limit);
	for (size_t i = 0; i < nmsg; i++)
		total += msgs[i].signed_len[ALG_RSA];
	mt_setup();
#ifdef MT_BENCH_OPENDKIM
	od_setup();
#endif
	for (int alg = 0; alg < NALG; alg++) {
		floor_init(&fc[alg], alg);
		cross_check(alg);
	}
	for (int s = 0; s < 2; s++)
		for (int alg = 0; alg < NALG; alg++)
			for (int im = 0; im < NIMPL; im++)
				best[s][alg][im] = 1e30;
	/* rounds interleave the implementations, so that a slow moment of the
	 * machine does not fall on one of them only */
	for (int r = 0; r < rounds; r++)
		for (int s = 0; s < 2; s++)
			for (int alg = 0; alg < NALG; alg++)
				for (int im = 0; im < NIMPL; im++) {
					double t0;
					char row[100];
					snprintf(row, sizeof row, "%s %s %s", s ? "sign" : "verify",
					         alg_name[alg], impl_name[im]);
					if (!have[im] || (only && strcmp(only, row) != 0))
						continue;
					t0 = cpu_now();
					for (size_t i = 0; i < nmsg; i++)
						if (!run_one(im, alg, s == 1, i, &fc[alg])) {
							fprintf(stderr, "bench_dkim: %s %s %s failed on message %zu\n",
							        impl_name[im], s ? "sign" : "verify", alg_name[alg], i);
							return 1;
						}
					t0 = cpu_now() - t0;
					if (t0 < best[s][alg][im])
						best[s][alg][im] = t0;
				}

	printf("dkim-corpus: %zu messages, %.1f MB; CPU time of one thread, best of %d rounds; "
	       "fed in %zu-octet chunks\n", nmsg, total / 1e6, rounds, chunk);
	printf("floor: SHA-256 of the body and signed header octets + one signature operation "
	       "per message (OpenSSL %s)\n", OpenSSL_version(OPENSSL_VERSION_STRING));
#ifndef MT_BENCH_OPENDKIM
	printf("OpenDKIM: not built (Debian libopendkim-dev): its rows are left out\n");
#endif
	printf("\n%-6s %-15s %-16s %10s %9s %9s %12s\n", "", "algorithm", "implementation", "msg/s",
	       "MB/s", "% floor", "x OpenDKIM");
	for (int s = 0; s < 2; s++)
		for (int alg = 0; alg < NALG; alg++)
			for (int im = 0; im < NIMPL; im++) {
				double t = best[s][alg][im];
				if (!have[im] || t >= 1e30)
					continue;
				printf("%-6s %-15s %-16s %10.0f %9.1f", s ? "sign" : "verify",
				       alg_name[alg], impl_name[im], nmsg / t, total / 1e6 / t);
				if (best[s][alg][IMPL_FLOOR] < 1e30)
					printf(" %8.0f%%", 100.0 * best[s][alg][IMPL_FLOOR] / t);
				if (have[IMPL_OD] && best[s][alg][IMPL_OD] < 1e30)
					printf(" %11.2fx", best[s][alg][IMPL_OD] / t);
				printf("\n");
			}
	/* issue 9's targets */
	{
		double f, v;
		printf("\ntargets (mailtrust):");
		for (int alg = 0; alg < NALG; alg++) {
			f = best[0][alg][IMPL_FLOOR];
			v = best[0][alg][IMPL_MT];
			if (f < 1e30 && v < 1e30)
				printf(" verify %s %.0f%% of the floor (>= 60%%: %s);", alg_name[alg],
				       100.0 * f / v, f / v >= 0.6 ? "met" : "NOT met");
		}
		f = best[1][ALG_RSA][IMPL_FLOOR];
		v = best[1][ALG_RSA][IMPL_MT];
		if (f < 1e30 && v < 1e30)
			printf(" sign rsa-sha256 %.0f%% of the RSA-sign limit (>= 80%%: %s)", 100.0 * f / v,
			       f / v >= 0.8 ? "met" : "NOT met");
		printf("\n");
	}
	return 0;
}
