/* Internal helpers shared by the library's modules: not part of the API. */
#ifndef MT_UTIL_H
#define MT_UTIL_H

#include <mailtrust/common.h>
#include <stdarg.h>

/* ---- Arena: per-evaluation memory, freed at once ---------------------- */
typedef struct mt_arena mt_arena;

mt_arena *mt_arena_new(size_t chunk_size);
void mt_arena_free(mt_arena *a);
/* Release everything allocated so far, keeping the first chunk. */
void mt_arena_reset(mt_arena *a);
/* NULL when out of memory or when the arena's limit would be exceeded. */
void *mt_arena_alloc(mt_arena *a, size_t size);
char *mt_arena_strndup(mt_arena *a, const char *s, size_t len);
char *mt_arena_strdup(mt_arena *a, const char *s);
char *mt_arena_printf(mt_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Cap on total bytes (0 = none); allocations beyond it fail. */
void mt_arena_set_limit(mt_arena *a, size_t limit);

/* ---- Growable buffer with a maximum size; the first error sticks ------ */
typedef struct mt_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;       /* the buffer never grows past this many octets */
	mt_status err;    /* MT_OK, MT_ENOMEM or MT_ERANGE */
} mt_buf;

void mt_buf_init(mt_buf *b, size_t max);
void mt_buf_free(mt_buf *b);
void mt_buf_append(mt_buf *b, const void *data, size_t len);
void mt_buf_puts(mt_buf *b, const char *s);
void mt_buf_putc(mt_buf *b, char c);
void mt_buf_printf(mt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand over the NUL-terminated contents (caller frees with free()), or NULL on error. */
char *mt_buf_take(mt_buf *b);

/* ---- Errors ------------------------------------------------------------ */
mt_status mt_error_set(mt_error *err, mt_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- ASCII helpers ---------------------------------------------------- */
static inline char mt_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }
static inline bool mt_is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline bool mt_is_digit(int c) { return c >= '0' && c <= '9'; }
static inline bool mt_is_alnum(int c) { return mt_is_alpha(c) || mt_is_digit(c); }
bool mt_strcaseeq(const char *a, size_t alen, const char *b, size_t blen);

/* ---- IP addresses ----------------------------------------------------- */
typedef struct mt_ip {
	int family;        /* 4 or 6 */
	uint8_t addr[16];  /* IPv4 in the first 4 octets */
} mt_ip;

/* Strict parse of dotted-quad IPv4 or RFC 4291 IPv6 text of len octets. */
bool mt_ip_parse(const char *s, size_t len, mt_ip *ip);
/* Does ip fall in net/prefix (same family)? */
bool mt_ip_match(const mt_ip *ip, const uint8_t *net, int family, int prefix);
/* Text form into out (at least 46 octets). */
void mt_ip_format(const mt_ip *ip, char *out, size_t cap);

#endif
