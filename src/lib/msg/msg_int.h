/* Internal view of the message reader: for tests, not part of the API. */
#ifndef MT_MSG_INT_H
#define MT_MSG_INT_H

#include <mailtrust/msg.h>

/* Octets the message holds allocated now: header block, field values,
 * field list and the body buffer. */
size_t mt_msg_buffer_bytes(const mt_msg *msg);

#endif
