/* DKIM body canonicalization + SHA-256 against the floor: plain SHA-256 of
 * the same bytes.  A generated body of text lines (default 50 MB) is fed
 * in 64 KiB chunks, as a milter or a file reader would.
 *
 *   bench_dkim_canon [MEGABYTES] [ROUNDS]
 */
#include "dkim/dkim_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Mail-like text: words of 1-12 letters, single spaces with an occasional
 * tab or double space, lines of up to 76 octets, some trailing WSP and
 * empty lines. */
static char *make_body(size_t len)
{
	char *b = malloc(len);
	uint32_t x = 2463534242u;
	size_t i = 0, col = 0;
	if (!b)
		return NULL;
	while (i < len) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		unsigned r = x % 100;
		if (col > 70 || r < 2) {
			if (r == 0 && i + 1 < len)
				b[i++] = ' ';        /* trailing WSP */
			if (i + 2 <= len) {
				b[i++] = '\r';
				b[i++] = '\n';
			} else {
				b[i++] = 'x';
			}
			col = 0;
			continue;
		}
		size_t w = 1 + x % 12;
		for (size_t k = 0; k < w && i < len; k++, col++)
			b[i++] = (char)('a' + (x >> (k % 24)) % 26);
		if (i < len) {
			b[i++] = r < 4 ? '\t' : ' ';
			col++;
		}
		if (r < 6 && i < len) {
			b[i++] = ' ';
			col++;
		}
	}
	return b;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 50;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	size_t len = mb * 1000000u, chunk = 65536;
	char *body;
	double best_floor = 1e30, best_relaxed = 1e30, best_simple = 1e30;

	if (mb == 0 || rounds < 1) {
		fprintf(stderr, "usage: bench_dkim_canon [MEGABYTES>0] [ROUNDS>0]\n");
		return 2;
	}
	body = make_body(len);
	if (!body) {
		fprintf(stderr, "bench_dkim_canon: out of memory for a %zu MB body\n", mb);
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen;
		double t0 = now();
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
			return 1;
		for (size_t i = 0; i < len; i += chunk)
			EVP_DigestUpdate(ctx, body + i, len - i < chunk ? len - i : chunk);
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		EVP_MD_CTX_free(ctx);
		double t1 = now();
		if (t1 - t0 < best_floor)
			best_floor = t1 - t0;

		for (int c = 0; c < 2; c++) {
			t0 = now();
			mt_dkim_bodyhash *bh = mt_dkim_bodyhash_new(c ? MT_DKIM_CANON_RELAXED
			                                              : MT_DKIM_CANON_SIMPLE,
			                                            MT_DKIM_HASH_SHA256, false, 0);
			if (!bh)
				return 1;
			for (size_t i = 0; i < len; i += chunk)
				mt_dkim_bodyhash_update(bh, body + i, len - i < chunk ? len - i : chunk);
			if (mt_dkim_bodyhash_final(bh) != MT_OK)
				return 1;
			mt_dkim_bodyhash_free(bh);
			t1 = now();
			double *best = c ? &best_relaxed : &best_simple;
			if (t1 - t0 < *best)
				*best = t1 - t0;
		}
	}
	printf("body %zu MB, %zu-octet chunks, best of %d rounds\n", mb, chunk, rounds);
	printf("floor   SHA-256 of the raw bytes     %8.1f MB/s\n", (double)len / 1e6 / best_floor);
	printf("simple  canonicalize + SHA-256       %8.1f MB/s  (%.0f%% of the floor)\n",
	       (double)len / 1e6 / best_simple, 100.0 * best_floor / best_simple);
	printf("relaxed canonicalize + SHA-256       %8.1f MB/s  (%.0f%% of the floor)\n",
	       (double)len / 1e6 / best_relaxed, 100.0 * best_floor / best_relaxed);
	free(body);
	return 0;
}
