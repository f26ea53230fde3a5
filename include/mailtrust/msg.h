/*
 * mailtrust messages: an RFC 5322 message read as a stream.
 *
 * The raw message is fed in chunks of any size (mt_msg_feed), as a milter
 * receives it, then ended with mt_msg_finish.  The header block is split
 * into fields (RFC 5322 sections 2.2 and 3.6), each kept with its raw bytes
 * for DKIM canonicalization; the body is never held whole: its bytes are
 * handed to a consumer callback as they arrive.
 *
 * Line ends: CRLF and bare LF are both accepted.  A bare LF is treated as
 * CRLF everywhere: raw field bytes and body bytes are CRLF-normalised (each
 * LF not preceded by CR becomes CRLF).  A CR not followed by LF is kept as
 * it is (a bare CR; in the header it is also recorded as a problem).  A CR
 * at the end of one chunk and an LF at the start of the next are one line
 * end.
 *
 * The header block ends at the first empty line; the body follows it.  A
 * message without an empty line is all header and has no body
 * (mt_msg_body_started() stays false).
 *
 * Malformed header lines are not fatal: they are recorded as problems
 * (mt_msg_problem, with the byte offset in the input) and kept, in order,
 * in the field list with the flag MT_MSG_FIELD_MALFORMED and an empty name,
 * so that the raw bytes of all fields, concatenated, are exactly the header
 * block as received (CRLF-normalised).  A malformed entry never matches a
 * name in mt_msg_find().  Malformed are: a line without a colon, a field
 * name that is empty or holds octets other than RFC 5322 ftext (printable
 * US-ASCII except ':'; whitespace between the name and the colon is
 * allowed, as the obsolete syntax did), and continuation lines (beginning
 * with SP or HTAB) before the first field.  A NUL octet and a bare CR are
 * recorded as problems but leave the field well-formed (flag
 * MT_MSG_FIELD_NUL for a NUL).  8-bit octets are allowed.
 *
 * Bounds (mt_msg_options): the header block's size and its number of
 * fields are capped; reaching a cap fails the feed with MT_ERANGE and a
 * message, and the message object then refuses further input (the fields
 * read so far stay readable).  The body costs a fixed buffer
 * (MT_MSG_BODY_BUFFER octets) whatever its length.
 *
 * Thread safety: distinct messages may be used from distinct threads; one
 * message must not be used from two threads at once.  Callbacks run in the
 * thread that calls mt_msg_feed or mt_msg_finish and must not call
 * mt_msg_feed or mt_msg_finish on the same message (MT_ESTATE) nor free it.
 */
#ifndef MAILTRUST_MSG_H
#define MAILTRUST_MSG_H

#include <mailtrust/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Octets of the buffer that collects body bytes before they are handed on. */
#define MT_MSG_BODY_BUFFER 65536

typedef struct mt_msg_options {
	size_t size;              /* sizeof(mt_msg_options), set by init */
	size_t max_header_bytes;  /* default 1 MiB (1048576); 0 = the default */
	size_t max_fields;        /* default 1000; 0 = the default */
} mt_msg_options;

/* Fill opts with the defaults (and its size). */
MT_EXPORT void mt_msg_options_init(mt_msg_options *opts);

typedef struct mt_msg mt_msg;

/* Flags of a field. */
enum {
	MT_MSG_FIELD_MALFORMED = 1, /* not a field (see above); name is empty */
	MT_MSG_FIELD_NUL = 2,       /* holds a NUL octet */
};

/*
 * One header field.  All strings are owned by the message; name and value
 * are followed by a NUL octet that the lengths do not count (they may hold
 * NULs too), raw is not.
 *  name   the field name as written, without whitespace before the colon
 *  raw    the whole field as received, folding included, CRLF-normalised,
 *         with its final CRLF (absent only for a last line that ended
 *         without a line break)
 *  value  the unfolded body of the field: the octets after the colon with
 *         every CRLF removed (RFC 5322 section 2.2.3) and the leading and
 *         trailing whitespace (SP, HTAB) trimmed; empty for a malformed entry
 *  offset where the field begins in the input, counting octets as fed
 *  index  its position in the field list (0 is the top)
 */
typedef struct mt_msg_field {
	const char *name;
	size_t name_len;
	const char *raw;
	size_t raw_len;
	const char *value;
	size_t value_len;
	uint64_t offset;
	size_t index;
	unsigned flags;
} mt_msg_field;

/* A malformed line or octet in the header block.  what is a static string. */
typedef struct mt_msg_problem {
	uint64_t offset; /* in the input, counting octets as fed */
	const char *what;
} mt_msg_problem;

/*
 * Called once when the header block is complete (at the empty line, or at
 * mt_msg_finish for a message that is all header), before any body octet
 * is handed on: the fields can be read and the body consumer set here.
 */
typedef void (*mt_msg_header_fn)(void *arg, mt_msg *msg);
/*
 * Receives the body, CRLF-normalised, in order, in pieces of any size
 * (at most what the caller fed, coalesced up to MT_MSG_BODY_BUFFER).  data
 * is valid only during the call.
 */
typedef void (*mt_msg_body_fn)(void *arg, const uint8_t *data, size_t len);

/*
 * A new message reader.  opts may be NULL (the defaults); a smaller size
 * (an older caller) leaves the later fields at their defaults.
 * MT_ENOMEM or MT_EINVAL (out NULL, opts->size too small) with err set.
 * Free with mt_msg_free() (accepts NULL).
 */
MT_EXPORT mt_status mt_msg_new(const mt_msg_options *opts, mt_msg **out, mt_error *err);
MT_EXPORT void mt_msg_free(mt_msg *msg);

/* Set the callbacks (NULL: none; body octets are then only counted).  The
 * body consumer may be set until the first body octet is handed on, also
 * from the header callback; later MT_ESTATE. */
MT_EXPORT mt_status mt_msg_set_header_handler(mt_msg *msg, mt_msg_header_fn fn, void *arg);
MT_EXPORT mt_status mt_msg_set_body_handler(mt_msg *msg, mt_msg_body_fn fn, void *arg);

/*
 * Feed len octets of the raw message (any chunking; len 0 is allowed).
 * Callbacks run from inside.  MT_ERANGE when a cap is reached (err says
 * which, and where); MT_ENOMEM; MT_EINVAL for NULL arguments; MT_ESTATE
 * after mt_msg_finish or from inside a callback.  After a failure every
 * later call returns that failure's status and message again.
 */
MT_EXPORT mt_status mt_msg_feed(mt_msg *msg, const void *data, size_t len, mt_error *err);
/*
 * The end of the input: a CR held back from the last chunk is taken as a
 * bare CR, the last field ends, the header callback runs if it has not,
 * and the buffered body is handed on.  Errors as mt_msg_feed.
 */
MT_EXPORT mt_status mt_msg_finish(mt_msg *msg, mt_error *err);

/* Has the header block ended (empty line seen, or finished)? */
MT_EXPORT bool mt_msg_header_done(const mt_msg *msg);
/* Was the empty line after the header seen (so the message has a body,
 * possibly empty)? */
MT_EXPORT bool mt_msg_body_started(const mt_msg *msg);
/* Body octets handed on so far (after CRLF normalisation). */
MT_EXPORT uint64_t mt_msg_body_length(const mt_msg *msg);

/*
 * The fields read so far, top to bottom, malformed entries included.
 * Pointers returned stay valid until mt_msg_free() once the header is done,
 * and until the next mt_msg_feed()/mt_msg_finish() before that.
 * mt_msg_field_at() returns NULL for i out of range.
 */
MT_EXPORT size_t mt_msg_field_count(const mt_msg *msg);
MT_EXPORT const mt_msg_field *mt_msg_field_at(const mt_msg *msg, size_t i);
/*
 * The nth (0 = first) field named name (NUL-terminated, compared
 * case-insensitively as ASCII), counting from the top (mt_msg_find) or from
 * the bottom (mt_msg_find_last, as DKIM's h= picks them); NULL if there are
 * fewer.
 */
MT_EXPORT const mt_msg_field *mt_msg_find(const mt_msg *msg, const char *name, size_t nth);
MT_EXPORT const mt_msg_field *mt_msg_find_last(const mt_msg *msg, const char *name, size_t nth);

/* Problems in the header block, in the order they were found.  At most 64 are kept;
 * mt_msg_problem_total() counts all of them.  NULL for i out of range. */
MT_EXPORT size_t mt_msg_problem_count(const mt_msg *msg);
MT_EXPORT size_t mt_msg_problem_total(const mt_msg *msg);
MT_EXPORT const mt_msg_problem *mt_msg_problem_at(const mt_msg *msg, size_t i);

#ifdef __cplusplus
}
#endif
#endif
