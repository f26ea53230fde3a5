/*
 * mailtrust: common definitions shared by every module.
 *
 * Status codes report failed operations (out of memory, bad argument, I/O,
 * malformed input handed to a parser).  Protocol outcomes such as an SPF
 * "permerror" are results, not errors: they are reported through the
 * module's result types.
 */
#ifndef MAILTRUST_COMMON_H
#define MAILTRUST_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MT_BUILDING_LIBRARY) && defined(__GNUC__)
#define MT_EXPORT __attribute__((visibility("default")))
#else
#define MT_EXPORT
#endif

typedef enum mt_status {
	MT_OK = 0,
	MT_ENOMEM,   /* memory allocation failed */
	MT_EINVAL,   /* invalid argument (NULL where one is required, bad value) */
	MT_EIO,      /* reading or writing a file failed */
	MT_ESYNTAX,  /* malformed input handed to a parser */
	MT_ERANGE,   /* input or output larger than the documented limit */
	MT_ESTATE,   /* the call is not valid in the object's current state */
	MT_ENOTFOUND,/* the requested item does not exist */
	MT_EDNS,     /* the DNS backend failed (not a DNS answer: a broken resolver) */
	MT_EAGAIN,   /* a bounded queue is full: take results, then try again */
} mt_status;

/* A static, human-readable description of a status.  Never NULL. */
MT_EXPORT const char *mt_strerror(mt_status status);

/*
 * Detail for a failed call.  Functions that can fail for reasons a user
 * must read (a zone file's line, a malformed address) take an optional
 * mt_error pointer; on failure they set status and a one-line message
 * (NUL-terminated, no trailing newline).  On success it is left untouched.
 */
typedef struct mt_error {
	mt_status status;
	char message[256];
} mt_error;

/* Free memory that a mailtrust function documents as "free with mt_free". */
MT_EXPORT void mt_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
