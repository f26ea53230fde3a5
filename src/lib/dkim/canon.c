/* DKIM canonicalization (RFC 6376 section 3.4) and streaming body hashes. */
#include "dkim/dkim_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static inline bool is_wsp(unsigned char c) { return c == ' ' || c == '\t'; }

/* ---- Header fields ----------------------------------------------------- */

typedef struct {
	char *out;
	size_t cap;
	size_t n;
} hwriter;

static inline void hput(hwriter *w, char c)
{
	if (w->n < w->cap)
		w->out[w->n] = c;
	w->n++;
}

mt_status mt_dkim_canon_header(mt_dkim_canon c, const char *raw, size_t len,
                               char *out, size_t cap, size_t *out_len)
{
	hwriter w = { out, cap, 0 };
	bool crlf_end, in_value = false, pending_wsp = false, value_started = false;
	size_t end, i;

	if (out_len)
		*out_len = 0;
	if ((!raw && len) || (!out && cap) || !out_len)
		return MT_EINVAL;
	if (c == MT_DKIM_CANON_SIMPLE) {
		if (len && cap)
			memcpy(out, raw, len < cap ? len : cap);
		*out_len = len;
		return len <= cap ? MT_OK : MT_ERANGE;
	}
	if (c != MT_DKIM_CANON_RELAXED)
		return MT_EINVAL;
	if (len == 0 || !memchr(raw, ':', len))
		return MT_ESYNTAX;
	crlf_end = len >= 2 && raw[len - 2] == '\r' && raw[len - 1] == '\n';
	end = crlf_end ? len - 2 : len;
	for (i = 0; i < end; i++) {
		unsigned char ch = (unsigned char)raw[i];
		if (ch == '\r' && i + 1 < end && raw[i + 1] == '\n') {
			i++;            /* unfold: the CRLF goes, the WSP after it stays */
			continue;
		}
		if (is_wsp(ch)) {
			pending_wsp = true;
			continue;
		}
		if (!in_value) {
			if (ch == ':') {
				hput(&w, ':');      /* WSP before the colon is dropped */
				in_value = true;
				pending_wsp = false;
				continue;
			}
			if (pending_wsp)
				hput(&w, ' ');
			pending_wsp = false;
			hput(&w, mt_lower((char)ch));
			continue;
		}
		/* WSP after the colon (value_started false) is dropped. */
		if (pending_wsp && value_started)
			hput(&w, ' ');
		pending_wsp = false;
		value_started = true;
		hput(&w, (char)ch);
	}
	if (crlf_end) {
		hput(&w, '\r');
		hput(&w, '\n');
	}
	*out_len = w.n;
	return w.n <= cap ? MT_OK : MT_ERANGE;
}

mt_status mt_dkim_canon_header_buf(mt_dkim_canon c, const char *raw, size_t len, mt_buf *b)
{
	char *tmp = NULL;
	size_t n = 0;
	mt_status st;

	if (!b)
		return MT_EINVAL;
	if (b->err)
		return b->err;
	tmp = malloc(len ? len : 1);
	if (!tmp)
		return MT_ENOMEM;
	st = mt_dkim_canon_header(c, raw, len, tmp, len, &n);
	if (st != MT_OK)
		goto out;
	mt_buf_append(b, tmp, n);
	st = b->err;
out:
	free(tmp);
	return st;
}

/* ---- Body --------------------------------------------------------------- */

struct mt_dkim_bodyhash {
	mt_dkim_bodyhash_result r;
	EVP_MD_CTX *ctx;
	bool final;
	bool failed;
	bool pending_cr;   /* the last chunk ended in CR: a line end if LF follows */
	bool pending_wsp;  /* relaxed: WSP in the current line not yet written */
	bool line_open;    /* content written since the last line end */
	bool any_content;  /* any content written at all */
	uint64_t crlfs;    /* line ends seen after the last content, not yet written */
	mt_buf *copy;      /* optional copy of the hashed octets */
	size_t blen;
	unsigned char block[MT_DKIM_HASH_BLOCK];
};

/* Octets reach the digest in blocks.  Without l= the counters are kept
 * here, per block; with l= emit() keeps them (it clamps at the limit). */
static void digest(mt_dkim_bodyhash *bh, const unsigned char *p, size_t n)
{
	if (!bh->r.has_limit) {
		bh->r.canon_len += n;
		bh->r.hashed += n;
	}
	if (bh->copy)
		mt_buf_append(bh->copy, p, n);
	if (!bh->failed && EVP_DigestUpdate(bh->ctx, p, n) != 1)
		bh->failed = true;
}

static void flush_block(mt_dkim_bodyhash *bh)
{
	if (bh->blen)
		digest(bh, bh->block, bh->blen);
	bh->blen = 0;
}

static void sink(mt_dkim_bodyhash *bh, const unsigned char *p, size_t n)
{
	while (n) {
		size_t take;
		if (bh->blen == 0 && n >= MT_DKIM_HASH_BLOCK) {
			/* A whole block's worth: straight to the digest. */
			take = n - n % MT_DKIM_HASH_BLOCK;
			digest(bh, p, take);
		} else {
			take = MT_DKIM_HASH_BLOCK - bh->blen;
			if (take > n)
				take = n;
			memcpy(bh->block + bh->blen, p, take);
			bh->blen += take;
			if (bh->blen == MT_DKIM_HASH_BLOCK)
				flush_block(bh);
		}
		p += take;
		n -= take;
	}
}

/* Canonical octets out: with l=, counted always and hashed up to it. */
static void emit(mt_dkim_bodyhash *bh, const unsigned char *p, size_t n)
{
	if (bh->r.has_limit) {
		uint64_t room = bh->r.limit - bh->r.hashed;
		bh->r.canon_len += n;
		if (n > room)
			n = (size_t)room;
		bh->r.hashed += n;
	}
	sink(bh, p, n);
}

static const unsigned char crlf_run[] =
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

static void emit_crlfs(mt_dkim_bodyhash *bh, uint64_t count)
{
	const uint64_t per = (sizeof crlf_run - 1) / 2;
	while (count) {
		uint64_t k = count < per ? count : per;
		if (bh->r.has_limit && bh->r.hashed == bh->r.limit) {
			/* Past l=: only counted. */
			bh->r.canon_len += 2 * count;
			return;
		}
		emit(bh, crlf_run, (size_t)(2 * k));
		count -= k;
	}
}

/* Line content (no CR or LF; under relaxed no WSP). */
static void content(mt_dkim_bodyhash *bh, const unsigned char *p, size_t n)
{
	if (bh->crlfs) {
		emit_crlfs(bh, bh->crlfs);
		bh->crlfs = 0;
	}
	if (bh->pending_wsp) {
		emit(bh, (const unsigned char *)" ", 1);
		bh->pending_wsp = false;
	}
	emit(bh, p, n);
	bh->line_open = true;
	bh->any_content = true;
}

static inline void line_end(mt_dkim_bodyhash *bh)
{
	bh->pending_wsp = false;   /* WSP at the end of a line is ignored */
	bh->line_open = false;
	bh->crlfs++;
}

/* Octets that end a content span: CR, LF, and under relaxed SP and HTAB. */
static const bool stop_simple[256] = { ['\r'] = true, ['\n'] = true };
static const bool stop_relaxed[256] = { ['\r'] = true, ['\n'] = true, [' '] = true, ['\t'] = true };

mt_dkim_bodyhash *mt_dkim_bodyhash_new(mt_dkim_canon c, mt_dkim_hash h, bool has_limit,
                                       uint64_t limit)
{
	mt_dkim_bodyhash *bh = NULL;
	const EVP_MD *md;

	if (c != MT_DKIM_CANON_SIMPLE && c != MT_DKIM_CANON_RELAXED)
		return NULL;
	if (h == MT_DKIM_HASH_SHA256)
		md = EVP_sha256();
	else if (h == MT_DKIM_HASH_SHA1)
		md = EVP_sha1();
	else
		return NULL;
	bh = malloc(sizeof *bh);   /* the block needs no zeroing */
	if (!bh)
		return NULL;
	memset(bh, 0, offsetof(mt_dkim_bodyhash, block));
	bh->r.canon = c;
	bh->r.hash = h;
	bh->r.has_limit = has_limit;
	bh->r.limit = has_limit ? limit : 0;
	bh->ctx = EVP_MD_CTX_new();
	if (!md || !bh->ctx || EVP_DigestInit_ex(bh->ctx, md, NULL) != 1) {
		mt_dkim_bodyhash_free(bh);
		return NULL;
	}
	return bh;
}

void mt_dkim_bodyhash_free(mt_dkim_bodyhash *bh)
{
	if (!bh)
		return;
	EVP_MD_CTX_free(bh->ctx);
	free(bh);
}

/* simple: lines found with memchr.  Output equals input from the first
 * line with content to the end of the last one, as long as every line end
 * in between is a CRLF: such a stretch is passed on in one piece, and only
 * the line ends after it are held back as a count. */
static void update_simple(mt_dkim_bodyhash *bh, const unsigned char *p, size_t len, size_t i)
{
	size_t ss = 0, se = 0, cend;
	bool have = false;       /* a stretch [ss, se) waits to be passed on */
	bool contig = false;     /* the held line ends are all CRLFs right after se */

	while (i < len) {
		const unsigned char *nl = memchr(p + i, '\n', len - i);
		size_t k;
		if (!nl)
			break;
		k = (size_t)(nl - p);
		cend = k > i && p[k - 1] == '\r' ? k - 1 : k;
		if (cend > i) {
			if (!have || !contig) {
				if (have)
					emit(bh, p + ss, se - ss);
				if (bh->crlfs)
					emit_crlfs(bh, bh->crlfs);
				ss = i;
				have = true;
			}
			se = cend;             /* a CR inside is an ordinary octet */
			bh->crlfs = 0;
			bh->any_content = true;
			contig = true;
		}
		if (cend == k)
			contig = false;        /* a bare LF: taken as CRLF, so output differs */
		bh->crlfs++;
		bh->line_open = false;
		i = k + 1;
	}
	if (have)
		emit(bh, p + ss, se - ss);
	if (i < len) {
		/* the last line of the chunk, without its end yet */
		cend = len;
		if (p[len - 1] == '\r') {
			cend = len - 1;        /* a CR at the chunk end waits */
			bh->pending_cr = true;
		}
		if (cend > i)
			content(bh, p + i, cend - i);
	}
}

/* relaxed without l=: the state machine writing straight into the block. */
#define PUT(c) do { \
	blk[o++] = (unsigned char)(c); \
	if (o == MT_DKIM_HASH_BLOCK) { bh->blen = o; flush_block(bh); o = 0; } \
} while (0)

static void update_relaxed_fast(mt_dkim_bodyhash *bh, const unsigned char *p, size_t len, size_t i)
{
	unsigned char *blk = bh->block;
	size_t o = bh->blen;
	bool wsp = bh->pending_wsp, open = bh->line_open, any = bh->any_content;
	uint64_t crlfs = bh->crlfs;

	while (i < len) {
		unsigned char c = p[i];
		if (!stop_relaxed[c] || (c == '\r' && i + 1 < len && p[i + 1] != '\n')) {
			/* content; a CR not followed by LF is an ordinary octet */
			for (; crlfs; crlfs--) {
				PUT('\r');
				PUT('\n');
			}
			if (wsp) {
				PUT(' ');
				wsp = false;
			}
			do {
				PUT(p[i]);
				i++;
			} while (i < len && !stop_relaxed[p[i]]);
			open = any = true;
		} else if (c == ' ' || c == '\t') {
			wsp = true;
			i++;
		} else if (c == '\n' || (c == '\r' && i + 1 < len)) {
			wsp = false;          /* WSP at the end of a line is ignored */
			open = false;
			crlfs++;
			i += c == '\r' ? 2 : 1;
		} else {
			bh->pending_cr = true;   /* a CR at the chunk end waits */
			i++;
		}
	}
	bh->blen = o;
	bh->pending_wsp = wsp;
	bh->line_open = open;
	bh->any_content = any;
	bh->crlfs = crlfs;
}
#undef PUT

static const unsigned char wsp_tab[256] = { [' '] = 1, ['\t'] = 1 };

/* A relaxed line written to the block from start to o ends: a final SP
 * standing for WSP is taken back (prev); an empty line is only counted
 * (with the held CRLF of the line before taken back too), a line with
 * content leaves its own CRLF held. */
static inline void relaxed_line_end(mt_dkim_bodyhash *bh, size_t o, size_t start, bool held,
                                    unsigned prev)
{
	o -= prev;
	if (o == start) {
		o -= held ? 2 : 0;
		bh->crlfs++;
	} else {
		bh->crlfs = 1;
		bh->any_content = true;
	}
	bh->blen = o;
	if (bh->blen == MT_DKIM_HASH_BLOCK)
		flush_block(bh);
}

#if defined(__SSE2__)
/* relaxed without l=: one line from i, when nothing is pending but the
 * previous line's CRLF (crlfs <= 1).  The line is taken 16 octets at a
 * time: the octets before the first CR, LF, tab or WSP that follows a WSP
 * are already canonical and copied whole (a single SP stays); that octet
 * is handled alone and the vectors go on after it.  A final SP is taken
 * back at the line end.  Returns the index after the line end with *done
 * set; or, when fewer than 16 octets are left in the chunk, the block is
 * full or a CR ends the chunk, the index reached with the state as
 * update_relaxed_fast() continues from (*done false). */
static size_t relaxed_line_sse2(mt_dkim_bodyhash *bh, const unsigned char *p, size_t len,
                                size_t i, bool *done)
{
	const __m128i sp = _mm_set1_epi8(' '), tb = _mm_set1_epi8('\t');
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	unsigned char *blk = bh->block;
	size_t o, start, j = i;
	bool held = bh->crlfs == 1;   /* the previous line's CRLF, written if content follows */
	unsigned prev = 0;            /* the last octet written is an SP standing for WSP */

	*done = false;
	if (bh->blen + 2 + 16 > MT_DKIM_HASH_BLOCK)
		flush_block(bh);
	o = bh->blen;
	if (held) {
		blk[o++] = '\r';
		blk[o++] = '\n';
	}
	start = o;
	while (len - j >= 16 && o + 16 <= MT_DKIM_HASH_BLOCK) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + j));
		__m128i tab = _mm_cmpeq_epi8(v, tb);
		__m128i w = _mm_or_si128(_mm_cmpeq_epi8(v, sp), tab);
		__m128i w1 = _mm_or_si128(_mm_slli_si128(w, 1), _mm_cvtsi32_si128(prev ? 0xff : 0));
		__m128i bad = _mm_or_si128(_mm_or_si128(tab, _mm_and_si128(w, w1)),
		                           _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
		unsigned stop = (unsigned)_mm_movemask_epi8(bad);
		unsigned n = stop ? (unsigned)__builtin_ctz(stop) : 16u;
		unsigned char c;
		_mm_storeu_si128((__m128i *)(void *)(blk + o), v);
		o += n;
		j += n;
		if (n)
			prev = wsp_tab[p[j - 1]];
		if (n == 16)
			continue;
		c = p[j];
		if (c == '\n') {
			j++;
			goto line_end;           /* a bare LF counts as CRLF */
		}
		if (c == '\r') {
			if (j + 1 == len)
				break;               /* a CR at the chunk end waits */
			if (p[j + 1] == '\n') {
				j += 2;
				goto line_end;
			}
			blk[o++] = '\r';        /* a CR alone is an ordinary octet */
			prev = 0;
			j++;
			continue;
		}
		blk[o] = ' ';                /* WSP: one SP, after a non-WSP only */
		o += !prev;
		prev = 1;
		j++;
	}
	/* not at a line end: the state for update_relaxed_fast() */
	o -= prev;
	bh->pending_wsp = prev != 0;
	if (o == start) {
		o -= held ? 2 : 0;           /* nothing but WSP yet: the CRLF stays counted */
	} else {
		bh->crlfs = 0;
		bh->line_open = true;
		bh->any_content = true;
	}
	bh->blen = o;
	if (bh->blen == MT_DKIM_HASH_BLOCK)
		flush_block(bh);
	return j;
line_end:
	relaxed_line_end(bh, o, start, held, prev);
	*done = true;
	return j;
}

/* relaxed without l=: whole lines through relaxed_line_sse2(); the rest of
 * a line it cannot take (continued from the last chunk, after several
 * empty lines, at the chunk end, longer than the block) octet by octet. */
static void update_relaxed(mt_dkim_bodyhash *bh, const unsigned char *p, size_t len, size_t i)
{
	while (i < len) {
		const unsigned char *nl;
		size_t e;
		if (!bh->line_open && !bh->pending_wsp && bh->crlfs <= 1 && len - i >= 16) {
			bool done;
			i = relaxed_line_sse2(bh, p, len, i, &done);
			if (done)
				continue;
		}
		nl = memchr(p + i, '\n', len - i);
		e = nl ? (size_t)(nl - p) + 1 : len;
		update_relaxed_fast(bh, p, e, i);
		i = e;
	}
}
#else
/* relaxed without l= (no SSE2): each whole line of the chunk that starts with nothing
 * pending but its predecessor's CRLF is reduced without branching on the
 * octets (every WSP becomes an SP that is kept only after a non-WSP, a
 * final one is taken back); partial lines and the rest go through
 * update_relaxed_fast(). */

static void update_relaxed(mt_dkim_bodyhash *bh, const unsigned char *p, size_t len, size_t i)
{
	while (i < len) {
		const unsigned char *nl = memchr(p + i, '\n', len - i);
		size_t k, ce, o, start;
		unsigned prev = 0;
		bool held;
		if (!nl) {
			update_relaxed_fast(bh, p, len, i);
			return;
		}
		k = (size_t)(nl - p);
		ce = k > i && p[k - 1] == '\r' ? k - 1 : k;
		if (bh->line_open || bh->pending_wsp || bh->crlfs > 1 ||
		    ce - i + 2 > MT_DKIM_HASH_BLOCK) {
			update_relaxed_fast(bh, p, k + 1, i);
			i = k + 1;
			continue;
		}
		if (bh->blen + (ce - i) + 2 > MT_DKIM_HASH_BLOCK)
			flush_block(bh);
		o = bh->blen;
		held = bh->crlfs == 1;   /* the previous line's CRLF, written if content follows */
		if (held) {
			bh->block[o++] = '\r';
			bh->block[o++] = '\n';
		}
		start = o;
		for (size_t j = i; j < ce;) {
			size_t e = ce - j > 16 ? j + 16 : ce;
			for (; j < e; j++) {
				unsigned char c = p[j];
				unsigned w = wsp_tab[c];
				bh->block[o] = w ? ' ' : c;
				o += !(w & prev);
				prev = w;
			}
		}
		relaxed_line_end(bh, o, start, held, prev);
		i = k + 1;
	}
}

#endif

mt_status mt_dkim_bodyhash_update(mt_dkim_bodyhash *bh, const void *data, size_t len)
{
	const unsigned char *p = data;
	const bool *stop;
	bool relaxed;
	size_t i = 0;

	if (!bh || (!data && len))
		return MT_EINVAL;
	if (bh->final)
		return MT_ESTATE;
	if (len == 0)
		return bh->failed ? MT_EIO : MT_OK;
	relaxed = bh->r.canon == MT_DKIM_CANON_RELAXED;
	stop = relaxed ? stop_relaxed : stop_simple;
	if (bh->pending_cr) {
		bh->pending_cr = false;
		if (p[0] == '\n') {
			line_end(bh);
			i = 1;
		} else {
			content(bh, (const unsigned char *)"\r", 1);
		}
	}
	if (!relaxed) {
		update_simple(bh, p, len, i);
		return bh->failed ? MT_EIO : MT_OK;
	}
	if (!bh->r.has_limit) {
		update_relaxed(bh, p, len, i);
		return bh->failed ? MT_EIO : MT_OK;
	}
	/* relaxed with l=: every octet through emit(), which clamps. */
	while (i < len) {
		unsigned char ch = p[i];
		if (!stop[ch]) {
			size_t j = i + 1;
			while (j < len && !stop[p[j]])
				j++;
			content(bh, p + i, j - i);
			i = j;
		} else if (ch == '\r') {
			if (i + 1 == len) {
				bh->pending_cr = true;
				i++;
			} else if (p[i + 1] == '\n') {
				line_end(bh);
				i += 2;
			} else {
				content(bh, p + i, 1);   /* a CR alone is an ordinary octet */
				i++;
			}
		} else if (ch == '\n') {
			line_end(bh);                    /* a bare LF counts as CRLF */
			i++;
		} else {
			/* relaxed WSP: one SP, written only if content follows in the line */
			bh->pending_wsp = true;
			i++;
			while (i < len && is_wsp(p[i]))
				i++;
		}
	}
	return bh->failed ? MT_EIO : MT_OK;
}

mt_status mt_dkim_bodyhash_final(mt_dkim_bodyhash *bh)
{
	unsigned int dlen = 0;

	if (!bh)
		return MT_EINVAL;
	if (bh->final)
		return MT_ESTATE;
	if (bh->pending_cr) {
		bh->pending_cr = false;
		content(bh, (const unsigned char *)"\r", 1);
	}
	bh->pending_wsp = false;
	/* Trailing empty lines go; the last line with content ends in CRLF
	 * (added if it had none).  An empty body: CRLF under simple, nothing
	 * under relaxed. */
	if (bh->any_content || bh->r.canon == MT_DKIM_CANON_SIMPLE)
		emit_crlfs(bh, 1);
	bh->crlfs = 0;
	bh->line_open = false;
	flush_block(bh);
	bh->final = true;
	if (!bh->failed && EVP_DigestFinal_ex(bh->ctx, bh->r.digest, &dlen) != 1)
		bh->failed = true;
	if (bh->failed || dlen > MT_DKIM_MAX_DIGEST) {
		bh->failed = true;
		bh->r.digest_len = 0;
		return MT_EIO;
	}
	bh->r.digest_len = dlen;
	return MT_OK;
}

void mt_dkim_bodyhash_copy_to(mt_dkim_bodyhash *bh, mt_buf *copy)
{
	if (bh)
		bh->copy = copy;
}

const mt_dkim_bodyhash_result *mt_dkim_bodyhash_result_get(const mt_dkim_bodyhash *bh)
{
	if (!bh || !bh->final || bh->failed)
		return NULL;
	return &bh->r;
}

/* ---- A set of body hashes fed in one pass -------------------------------- */

struct mt_dkim_bodyhash_set {
	mt_dkim_bodyhash *bh[MT_DKIM_MAX_BODYHASH];
	size_t n;
	bool fed;
	bool final;
};

mt_dkim_bodyhash_set *mt_dkim_bodyhash_set_new(void)
{
	return calloc(1, sizeof(mt_dkim_bodyhash_set));
}

void mt_dkim_bodyhash_set_free(mt_dkim_bodyhash_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		mt_dkim_bodyhash_free(set->bh[i]);
	free(set);
}

mt_status mt_dkim_bodyhash_set_add(mt_dkim_bodyhash_set *set, mt_dkim_canon c, mt_dkim_hash h,
                                   bool has_limit, uint64_t limit, size_t *idx)
{
	if (!set || !idx)
		return MT_EINVAL;
	if (set->fed || set->final)
		return MT_ESTATE;
	if (!has_limit)
		limit = 0;
	for (size_t i = 0; i < set->n; i++) {
		const mt_dkim_bodyhash_result *r = &set->bh[i]->r;
		if (r->canon == c && r->hash == h && r->has_limit == has_limit && r->limit == limit) {
			*idx = i;
			return MT_OK;
		}
	}
	if (c != MT_DKIM_CANON_SIMPLE && c != MT_DKIM_CANON_RELAXED)
		return MT_EINVAL;
	if (h != MT_DKIM_HASH_SHA256 && h != MT_DKIM_HASH_SHA1)
		return MT_EINVAL;
	if (set->n == MT_DKIM_MAX_BODYHASH)
		return MT_ERANGE;
	set->bh[set->n] = mt_dkim_bodyhash_new(c, h, has_limit, limit);
	if (!set->bh[set->n])
		return MT_ENOMEM;
	*idx = set->n++;
	return MT_OK;
}

size_t mt_dkim_bodyhash_set_count(const mt_dkim_bodyhash_set *set)
{
	return set ? set->n : 0;
}

mt_status mt_dkim_bodyhash_set_update(mt_dkim_bodyhash_set *set, const void *data, size_t len)
{
	mt_status st = MT_OK;

	if (!set || (!data && len))
		return MT_EINVAL;
	if (set->final)
		return MT_ESTATE;
	set->fed = true;
	for (size_t i = 0; i < set->n; i++) {
		mt_status s = mt_dkim_bodyhash_update(set->bh[i], data, len);
		if (s != MT_OK && st == MT_OK)
			st = s;
	}
	return st;
}

mt_status mt_dkim_bodyhash_set_final(mt_dkim_bodyhash_set *set)
{
	mt_status st = MT_OK;

	if (!set)
		return MT_EINVAL;
	if (set->final)
		return MT_ESTATE;
	set->final = true;
	for (size_t i = 0; i < set->n; i++) {
		mt_status s = mt_dkim_bodyhash_final(set->bh[i]);
		if (s != MT_OK && st == MT_OK)
			st = s;
	}
	return st;
}

const mt_dkim_bodyhash_result *mt_dkim_bodyhash_set_result(const mt_dkim_bodyhash_set *set,
                                                           size_t idx)
{
	if (!set || !set->final || idx >= set->n)
		return NULL;
	return mt_dkim_bodyhash_result_get(set->bh[idx]);
}
