/* JSON output for the CLI; see json.h for the escaping rules. */
#include "json.h"

#include <string.h>

size_t utf8_next(const unsigned char *p, size_t len, uint32_t *cp, bool *valid)
{
	unsigned char c = p[0];
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second octet */
	uint32_t v;

	*valid = true;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;      /* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F;      /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;      /* nothing above U+10FFFF */
	} else {
		goto bad1;          /* continuation octet, C0, C1, F5..FF */
	}
	for (i = 1; i <= need; i++) {
		unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
		if (i >= len || p[i] < lo_i || p[i] > hi_i) {
			/* A maximal subpart: the lead and the good octets so far. */
			*cp = 0xFFFD;
			*valid = false;
			return i;
		}
		v = (v << 6) | (p[i] & 0x3F);
	}
	*cp = v;
	return need + 1;
bad1:
	*cp = 0xFFFD;
	*valid = false;
	return 1;
}

void json_write_string(FILE *fp, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	fputc('"', fp);
	while (i < len) {
		uint32_t cp;
		bool valid;
		size_t n = utf8_next(p + i, len - i, &cp, &valid);

		if (!valid)
			fputs("\\ufffd", fp);
		else if (cp == '"')
			fputs("\\\"", fp);
		else if (cp == '\\')
			fputs("\\\\", fp);
		else if (cp < 0x20 || cp == 0x7F || cp == 0x2028 || cp == 0x2029)
			fprintf(fp, "\\u%04x", (unsigned)cp);
		else
			fwrite(p + i, 1, n, fp);
		i += n;
	}
	fputc('"', fp);
}

void json_init(json_writer *w, FILE *fp)
{
	w->fp = fp;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}

/* Separator before a value or key at the current level. */
static void json_sep(json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->fp);
	w->first[w->depth] = false;
}

static void json_open(json_writer *w, char c)
{
	json_sep(w);
	fputc(c, w->fp);
	if (w->depth + 1 < JSON_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void json_close(json_writer *w, char c)
{
	fputc(c, w->fp);
	if (w->depth > 0)
		w->depth--;
}

void json_begin_object(json_writer *w) { json_open(w, '{'); }
void json_end_object(json_writer *w) { json_close(w, '}'); }
void json_begin_array(json_writer *w) { json_open(w, '['); }
void json_end_array(json_writer *w) { json_close(w, ']'); }

void json_key(json_writer *w, const char *key)
{
	json_sep(w);
	json_write_string(w->fp, key, strlen(key));
	fputc(':', w->fp);
	w->after_key = true;
}

void json_string_n(json_writer *w, const char *s, size_t len)
{
	json_sep(w);
	if (s)
		json_write_string(w->fp, s, len);
	else
		fputs("null", w->fp);
}

void json_string(json_writer *w, const char *s)
{
	json_string_n(w, s, s ? strlen(s) : 0);
}

void json_int(json_writer *w, long long v)
{
	json_sep(w);
	fprintf(w->fp, "%lld", v);
}

void json_bool(json_writer *w, bool v)
{
	json_sep(w);
	fputs(v ? "true" : "false", w->fp);
}

void json_null(json_writer *w)
{
	json_sep(w);
	fputs("null", w->fp);
}

void json_finish(json_writer *w)
{
	fputc('\n', w->fp);
}
