/* Unit test of the CLI's JSON string writer (src/tools/mailtrust/json.c):
 * the escaping rules documented in json.h, checked against RFC 8259 and
 * the UTF-8 well-formedness table of Unicode (Table 3-7). */
#include "json.h"
#include "mt_test.h"

#include <stdlib.h>

/* json_write_string() of (s, len) into a string. */
static char *esc(const char *s, size_t len)
{
	static char buf[1024];
	FILE *fp = fmemopen(buf, sizeof(buf), "w");

	if (!fp)
		return NULL;
	json_write_string(fp, s, len);
	fclose(fp);
	return buf;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

static char *writer_doc(void)
{
	static char buf[512];
	FILE *fp = fmemopen(buf, sizeof(buf), "w");
	json_writer w;

	if (!fp)
		return NULL;
	json_init(&w, fp);
	json_begin_object(&w);
	json_key(&w, "a");
	json_int(&w, -3);
	json_key(&w, "b");
	json_begin_array(&w);
	json_string(&w, "x");
	json_null(&w);
	json_bool(&w, true);
	json_begin_object(&w);
	json_end_object(&w);
	json_begin_array(&w);
	json_end_array(&w);
	json_end_array(&w);
	json_key(&w, "c");
	json_string(&w, NULL);
	json_key(&w, "d");
	json_string_n(&w, "xyz", 2);
	json_end_object(&w);
	json_finish(&w);
	fclose(fp);
	return buf;
}

int main(void)
{
	uint32_t cp;
	bool valid;

	CHECK_STR(ESC(""), "\"\"");
	CHECK_STR(ESC("plain text"), "\"plain text\"");
	/* RFC 8259 section 7: quotation mark and reverse solidus */
	CHECK_STR(ESC("a\"b\\c"), "\"a\\\"b\\\\c\"");
	/* every control character as \u00XX, NUL included; DEL too */
	CHECK_STR(ESC("\n\t\r\b\f"), "\"\\u000a\\u0009\\u000d\\u0008\\u000c\"");
	CHECK_STR(ESC("a\0b"), "\"a\\u0000b\"");
	CHECK_STR(ESC("\x1f\x1b[0m\x7f"), "\"\\u001f\\u001b[0m\\u007f\"");
	/* '/' needs no escape */
	CHECK_STR(ESC("a/b"), "\"a/b\"");
	/* well-formed UTF-8 is copied: 2, 3 and 4 octets, edges of the table */
	CHECK_STR(ESC("\xc3\xa9"), "\"\xc3\xa9\"");
	CHECK_STR(ESC("\xc2\x80"), "\"\xc2\x80\"");
	CHECK_STR(ESC("\xe2\x82\xac"), "\"\xe2\x82\xac\"");
	CHECK_STR(ESC("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");       /* U+D7FF */
	CHECK_STR(ESC("\xee\x80\x80"), "\"\xee\x80\x80\"");       /* U+E000 */
	CHECK_STR(ESC("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
	CHECK_STR(ESC("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
	/* U+2028 and U+2029 escaped (JavaScript line terminators) */
	CHECK_STR(ESC("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\"");
	/* ill-formed: one U+FFFD per maximal subpart */
	CHECK_STR(ESC("\x80"), "\"\\ufffd\"");
	CHECK_STR(ESC("a\xff" "b"), "\"a\\ufffdb\"");
	CHECK_STR(ESC("\xc0\xaf"), "\"\\ufffd\\ufffd\"");          /* overlong '/' */
	CHECK_STR(ESC("\xc1\xbf"), "\"\\ufffd\\ufffd\"");
	CHECK_STR(ESC("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\""); /* overlong */
	CHECK_STR(ESC("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	CHECK_STR(ESC("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	CHECK_STR(ESC("\xf5\x80"), "\"\\ufffd\\ufffd\"");
	/* truncated sequences: the good prefix is one subpart */
	CHECK_STR(ESC("\xe2\x82"), "\"\\ufffd\"");
	CHECK_STR(ESC("\xe2\x82x"), "\"\\ufffdx\"");
	CHECK_STR(ESC("\xf0\x9f\x98"), "\"\\ufffd\"");
	CHECK_STR(ESC("\xf0\x9f\x98\xc3\xa9"), "\"\\ufffd\xc3\xa9\"");
	/* a lone continuation after a complete character */
	CHECK_STR(ESC("\xc3\xa9\xa9"), "\"\xc3\xa9\\ufffd\"");

	/* the decoder itself */
	CHECK_INT(utf8_next((const unsigned char *)"\xe2\x82\xac", 3, &cp, &valid), 3);
	CHECK(valid && cp == 0x20AC);
	CHECK_INT(utf8_next((const unsigned char *)"\xf0\x90\x80\x80", 4, &cp, &valid), 4);
	CHECK(valid && cp == 0x10000);
	/* length bounds the read: a 3-octet lead with 1 octet left */
	CHECK_INT(utf8_next((const unsigned char *)"\xe2\x82\xac", 1, &cp, &valid), 1);
	CHECK(!valid && cp == 0xFFFD);
	CHECK_INT(utf8_next((const unsigned char *)"\xe2\x82\xac", 2, &cp, &valid), 2);
	CHECK(!valid);

	/* the writer: separators and nesting */
	CHECK_STR(writer_doc(), "{\"a\":-3,\"b\":[\"x\",null,true,{},[]],\"c\":null,\"d\":\"xy\"}\n");
	return mt_test_done();
}
