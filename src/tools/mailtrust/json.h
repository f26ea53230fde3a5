/*
 * A small streaming JSON writer for the CLI's --json output.
 *
 * Strings are written as RFC 8259 strings: '"' and '\' are escaped, every
 * control character (U+0000..U+001F and U+007F) is written as \u00XX, as
 * are U+2028 and U+2029; well-formed UTF-8 is copied as it is.  Octets that
 * are not well-formed UTF-8 are replaced by U+FFFD (written as \ufffd), one
 * replacement per maximal ill-formed subsequence as Unicode recommends.
 * So the output is always valid UTF-8 and valid JSON, whatever the input.
 */
#ifndef MAILTRUST_CLI_JSON_H
#define MAILTRUST_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

typedef struct json_writer {
	FILE *fp;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* nothing written yet at this level */
	bool after_key;             /* a key was written; the value follows */
} json_writer;

void json_init(json_writer *w, FILE *fp);
void json_begin_object(json_writer *w);
void json_end_object(json_writer *w);
void json_begin_array(json_writer *w);
void json_end_array(json_writer *w);
void json_key(json_writer *w, const char *key);
/* NULL writes null. */
void json_string(json_writer *w, const char *s);
void json_string_n(json_writer *w, const char *s, size_t len);
void json_int(json_writer *w, long long v);
void json_bool(json_writer *w, bool v);
void json_null(json_writer *w);
/* Ends the document with a newline. */
void json_finish(json_writer *w);

/* Write s (len octets) as a JSON string, quotes included. */
void json_write_string(FILE *fp, const char *s, size_t len);

/*
 * Decode one UTF-8 sequence at p (len > 0 octets).  Returns the number of
 * octets consumed (at least 1).  *cp is the code point, or 0xFFFD with
 * *valid false when the octets are a maximal ill-formed subsequence.
 */
size_t utf8_next(const unsigned char *p, size_t len, uint32_t *cp, bool *valid);

#endif
