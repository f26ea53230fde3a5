/* Differential fuzzing of DKIM canonicalization (RFC 6376 section 3.4):
 * the streaming body hashers, fed in chunk sizes the input chooses, and the
 * header canonicalizer must produce exactly what a plain whole-buffer
 * reference implementation below produces, and the digest of it.
 *
 * Input: octet 0 = flags (bit 0 relaxed, bit 1 with l=, bit 2 SHA-1,
 * bit 3 header field instead of body), octets 1-2 = l= (big-endian),
 * octet 3 = number of chunk sizes (mod 17), then that many chunk sizes,
 * then the body or header field. */
#include "dkim/dkim_int.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	unsigned char *p;
	size_t n;
} rbuf;

static void rput(rbuf *b, unsigned char c) { b->p[b->n++] = c; }
static bool rwsp(unsigned char c) { return c == ' ' || c == '\t'; }

/* Every run of WSP in in[0..n) becomes one SP; returns the length written. */
static size_t compress_wsp(const unsigned char *in, size_t n, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (!rwsp(in[i]))
			out[o++] = in[i];
		else if (i == 0 || !rwsp(in[i - 1]))
			out[o++] = ' ';
	}
	return o;
}

/* Reference body canonicalization: split into lines (CRLF or a bare LF
 * ends a line; a lone CR is content), reduce each line under relaxed,
 * drop trailing empty lines, end each line with CRLF.  out has room for
 * 2 * len + 2 octets. */
static size_t ref_body(bool relaxed, const unsigned char *in, size_t len, unsigned char *out)
{
	/* lines as (start, end) in a scratch copy */
	size_t *starts = malloc((len + 2) * sizeof *starts), *ends = malloc((len + 2) * sizeof *ends);
	unsigned char *line = malloc(len + 1);
	size_t nlines = 0, s = 0, i = 0, keep, o = 0;
	rbuf ob = { out, 0 };

	if (!starts || !ends || !line)
		abort();
	while (i < len) {
		if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n') {
			starts[nlines] = s, ends[nlines++] = i;
			i += 2;
			s = i;
		} else if (in[i] == '\n') {
			starts[nlines] = s, ends[nlines++] = i;
			i++;
			s = i;
		} else {
			i++;
		}
	}
	if (s < len)
		starts[nlines] = s, ends[nlines++] = len;   /* last line without CRLF */

	/* Each line's canonical content, kept in out temporarily via offsets. */
	size_t *cs = malloc((nlines + 1) * sizeof *cs), *ce = malloc((nlines + 1) * sizeof *ce);
	unsigned char *tmp = malloc(len + 1);
	size_t t = 0;
	if (!cs || !ce || !tmp)
		abort();
	for (size_t k = 0; k < nlines; k++) {
		cs[k] = t;
		if (!relaxed) {
			memcpy(tmp + t, in + starts[k], ends[k] - starts[k]);
			t += ends[k] - starts[k];
		} else {
			size_t n = compress_wsp(in + starts[k], ends[k] - starts[k], line);
			while (n > 0 && line[n - 1] == ' ')
				n--;   /* WSP at the end of the line goes */
			memcpy(tmp + t, line, n);
			t += n;
		}
		ce[k] = t;
	}
	keep = nlines;
	while (keep > 0 && ce[keep - 1] == cs[keep - 1])
		keep--;
	for (size_t k = 0; k < keep; k++) {
		memcpy(ob.p + ob.n, tmp + cs[k], ce[k] - cs[k]);
		ob.n += ce[k] - cs[k];
		rput(&ob, '\r');
		rput(&ob, '\n');
	}
	if (keep == 0 && !relaxed) {
		rput(&ob, '\r');
		rput(&ob, '\n');
	}
	o = ob.n;
	free(starts);
	free(ends);
	free(line);
	free(cs);
	free(ce);
	free(tmp);
	return o;
}

/* Reference relaxed header canonicalization, step by step as section 3.4.2
 * reads; returns false when there is no colon. */
static bool ref_header_relaxed(const unsigned char *in, size_t len, unsigned char *out, size_t *olen)
{
	bool crlf = len >= 2 && in[len - 2] == '\r' && in[len - 1] == '\n';
	size_t end = crlf ? len - 2 : len, n = 0, colon = 0, o = 0;
	unsigned char *u = malloc(len + 1);
	bool found = false;

	if (!u)
		abort();
	/* unfold: every CRLF but the final one goes */
	for (size_t i = 0; i < end; i++) {
		if (in[i] == '\r' && i + 1 < end && in[i + 1] == '\n')
			i++;
		else
			u[n++] = in[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (u[i] == ':') {
			colon = i;
			found = true;
			break;
		}
	}
	if (!found) {
		free(u);
		return false;
	}
	/* name: lowercase, WSP runs to one SP, WSP before the colon deleted */
	o = compress_wsp(u, colon, out);
	for (size_t i = 0; i < o; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (unsigned char)(out[i] + 32);
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o++] = ':';
	/* value: WSP runs to one SP, WSP after the colon and at the end deleted */
	size_t vo = compress_wsp(u + colon + 1, n - colon - 1, out + o), vs = 0;
	while (vs < vo && out[o + vs] == ' ')
		vs++;
	memmove(out + o, out + o + vs, vo - vs);
	vo -= vs;
	while (vo > 0 && out[o + vo - 1] == ' ')
		vo--;
	o += vo;
	if (crlf) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	*olen = o;
	free(u);
	return true;
}

static void fuzz_header(bool relaxed, const unsigned char *in, size_t len, size_t cap_hint)
{
	unsigned char *want = malloc(len + 1);
	char *got = malloc(len + 1);
	size_t wlen = len, glen = 0;
	bool ok = true;
	mt_dkim_canon c = relaxed ? MT_DKIM_CANON_RELAXED : MT_DKIM_CANON_SIMPLE;

	if (!want || !got)
		abort();
	if (relaxed)
		ok = ref_header_relaxed(in, len, want, &wlen);
	else if (len)
		memcpy(want, in, len);
	mt_status st = mt_dkim_canon_header(c, (const char *)in, len, got, len, &glen);
	if (!ok) {
		if (st != MT_ESYNTAX)
			abort();
	} else if (st != MT_OK || glen != wlen || (wlen && memcmp(got, want, wlen) != 0)) {
		abort();
	}
	/* A short buffer: MT_ERANGE, the length still told, a prefix written. */
	if (ok && wlen > 0) {
		size_t cap = cap_hint % wlen;
		memset(got, 0, len + 1);
		st = mt_dkim_canon_header(c, (const char *)in, len, got, cap, &glen);
		if (st != MT_ERANGE || glen != wlen || (cap && memcmp(got, want, cap) != 0))
			abort();
	}
	free(want);
	free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	bool relaxed = data[0] & 1, has_l = data[0] & 2, sha1 = data[0] & 4, header = data[0] & 8;
	uint64_t limit = ((uint64_t)data[1] << 8) | data[2];
	size_t nsizes = data[3] % 17;
	if (size < 4 + nsizes)
		return 0;
	const uint8_t *sizes = data + 4;
	const uint8_t *in = data + 4 + nsizes;
	size_t len = size - 4 - nsizes;

	if (header) {
		fuzz_header(relaxed, in, len, limit);
		return 0;
	}

	mt_dkim_canon c = relaxed ? MT_DKIM_CANON_RELAXED : MT_DKIM_CANON_SIMPLE;
	mt_dkim_canon other = relaxed ? MT_DKIM_CANON_SIMPLE : MT_DKIM_CANON_RELAXED;
	mt_dkim_hash h = sha1 ? MT_DKIM_HASH_SHA1 : MT_DKIM_HASH_SHA256;
	mt_dkim_bodyhash_set *set = mt_dkim_bodyhash_set_new();
	mt_dkim_bodyhash *single = mt_dkim_bodyhash_new(c, h, has_l, limit);
	size_t idx[3];
	mt_buf copy;

	mt_buf_init(&copy, 2 * len + 16);
	if (!set || !single)
		abort();
	mt_dkim_bodyhash_copy_to(single, &copy);
	/* The set: the same combination twice (shared), and the other canon. */
	if (mt_dkim_bodyhash_set_add(set, c, h, has_l, limit, &idx[0]) != MT_OK ||
	    mt_dkim_bodyhash_set_add(set, other, MT_DKIM_HASH_SHA256, false, 0, &idx[1]) != MT_OK ||
	    mt_dkim_bodyhash_set_add(set, c, h, has_l, limit, &idx[2]) != MT_OK || idx[0] != idx[2] ||
	    idx[0] == idx[1])
		abort();

	size_t pos = 0, k = 0;
	while (pos < len) {
		size_t chunk = nsizes ? sizes[k++ % nsizes] : len;
		if (chunk == 0) {
			if (mt_dkim_bodyhash_update(single, in + pos, 0) != MT_OK)
				abort();
			chunk = 1;
		}
		if (chunk > len - pos)
			chunk = len - pos;
		if (mt_dkim_bodyhash_update(single, in + pos, chunk) != MT_OK ||
		    mt_dkim_bodyhash_set_update(set, in + pos, chunk) != MT_OK)
			abort();
		pos += chunk;
	}
	if (mt_dkim_bodyhash_final(single) != MT_OK || mt_dkim_bodyhash_set_final(set) != MT_OK)
		abort();

	unsigned char *want = malloc(2 * len + 2), *want2 = malloc(2 * len + 2);
	if (!want || !want2)
		abort();
	size_t wlen = ref_body(relaxed, in, len, want);
	size_t wlen2 = ref_body(!relaxed, in, len, want2);
	size_t hashed = has_l && limit < wlen ? (size_t)limit : wlen;

	const mt_dkim_bodyhash_result *r = mt_dkim_bodyhash_result_get(single);
	const mt_dkim_bodyhash_result *rs = mt_dkim_bodyhash_set_result(set, idx[0]);
	const mt_dkim_bodyhash_result *ro = mt_dkim_bodyhash_set_result(set, idx[1]);
	if (!r || !rs || !ro || copy.err)
		abort();
	if (r->canon_len != wlen || r->hashed != hashed || copy.len != hashed ||
	    (hashed && memcmp(copy.data, want, hashed) != 0))
		abort();

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_Digest(want, hashed, md, &mdlen, sha1 ? EVP_sha1() : EVP_sha256(), NULL) != 1 ||
	    mdlen != r->digest_len || memcmp(md, r->digest, mdlen) != 0)
		abort();
	if (rs->canon_len != r->canon_len || rs->digest_len != r->digest_len ||
	    memcmp(rs->digest, r->digest, r->digest_len) != 0)
		abort();
	if (EVP_Digest(want2, wlen2, md, &mdlen, EVP_sha256(), NULL) != 1 || ro->canon_len != wlen2 ||
	    mdlen != ro->digest_len || memcmp(md, ro->digest, mdlen) != 0)
		abort();

	free(want);
	free(want2);
	mt_buf_free(&copy);
	mt_dkim_bodyhash_free(single);
	mt_dkim_bodyhash_set_free(set);
	return 0;
}
