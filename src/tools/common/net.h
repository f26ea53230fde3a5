/* Networks for the daemons' trusted-client lists: "ADDR" or "ADDR/PREFIX",
 * IPv4 or IPv6, and client addresses to test against them.  Shared by
 * mailtrust-milter and mailtrust-policyd (compiled into each). */
#ifndef MT_TOOLS_NET_H
#define MT_TOOLS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tool_net {
	int family;        /* 4 or 6 */
	uint8_t addr[16];  /* the network address, host bits cleared */
	unsigned prefix;   /* 0..32 or 0..128 */
} tool_net;

/* Parse s[0..len) as ADDR or ADDR/PREFIX (no scope id, decimal prefix of
 * at most 3 digits within the family's width). */
bool tool_net_parse(const char *s, size_t len, tool_net *n);

/* Parse a client address (a "%scope" suffix is ignored): family 4 or 6
 * and its octets in a[16]; an IPv4-mapped IPv6 address is IPv4. */
bool tool_addr_parse(const char *s, int *family, uint8_t a[16]);

/* An IPv4-mapped IPv6 address (family 6) as IPv4, in place. */
void tool_addr_unmap(int *family, uint8_t a[16]);

/* Is the address (family 4 or 6) inside the network? */
bool tool_net_contains(const tool_net *n, int family, const uint8_t *a);

#endif
