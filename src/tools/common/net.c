/* Trusted-network lists of the daemons (net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <string.h>

bool tool_net_parse(const char *s, size_t len, tool_net *n)
{
	char buf[64];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	unsigned long prefix = 0;

	if (alen == 0 || alen >= sizeof buf)
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = 4;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = 6;
	else
		return false;
	unsigned max = n->family == 4 ? 32 : 128;
	if (!slash) {
		n->prefix = max;
		return true;
	}
	size_t plen = len - alen - 1;
	if (plen == 0 || plen > 3)
		return false;
	for (size_t i = 0; i < plen; i++) {
		char ch = slash[1 + i];
		if (ch < '0' || ch > '9')
			return false;
		prefix = prefix * 10 + (unsigned long)(ch - '0');
	}
	if (prefix > max)
		return false;
	n->prefix = (unsigned)prefix;
	for (unsigned b = n->prefix; b < max; b++)
		n->addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	return true;
}

void tool_addr_unmap(int *family, uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (*family == 6 && memcmp(a, mapped, 12) == 0) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		*family = 4;
	}
}

bool tool_addr_parse(const char *s, int *family, uint8_t a[16])
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *pct = strchr(s, '%');
	size_t len = pct ? (size_t)(pct - s) : strlen(s);

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		*family = 6;
	else
		return false;
	tool_addr_unmap(family, a);
	return true;
}

bool tool_net_contains(const tool_net *n, int family, const uint8_t *a)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != family || memcmp(n->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a[full] & mask) == n->addr[full];
}
