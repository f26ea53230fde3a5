/* Internal view of the message reader: for tests, not part of the API. */
#ifndef MT_MSG_INT_H
#define MT_MSG_INT_H

#include <mailtrust/msg.h>

/* Octets the message holds allocated now: header block, field values,
 * field list and the body buffer. */
size_t mt_msg_buffer_bytes(const mt_msg *msg);

/*
 * Raw body mode, for consumers that take a bare LF as CRLF and hold a CR
 * that ends a piece themselves (the DKIM body hashers): the body handler
 * gets the body octets exactly as fed, each mt_msg_feed()'s part in one
 * call, never copied; mt_msg_body_length() then counts them as fed.  Set
 * before the body begins (later calls are ignored).
 */
void mt_msg_set_raw_body(mt_msg *msg, bool raw);

#endif
