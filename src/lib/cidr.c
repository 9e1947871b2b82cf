#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static void mask(unsigned char *net, size_t size, unsigned bits)
{
	for (size_t i = 0; i < size; i++) {
		unsigned left = bits > i * 8 ? bits - (unsigned)i * 8 : 0;

		if (left < 8)
			net[i] &= (unsigned char)(0xff00u >> left);
	}
}

static int parse_bits(const char *s, unsigned max, unsigned *bits)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v > (long)max)
		return -1;
	*bits = (unsigned)v;
	return 0;
}

int cidr_parse(const char *text, struct cidr *c)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);

	memset(c, 0, sizeof *c);
	if (strcmp(text, "all") == 0) {
		c->kind = CIDR_ALL;
		return 0;
	}
	if (strcmp(text, "unix:") == 0) {
		c->kind = CIDR_UNIX;
		return 0;
	}
	if (n == 0 || n >= sizeof host)
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, c->net) == 1) {
		c->kind = CIDR_INET;
		c->bits = 32;
	} else if (inet_pton(AF_INET6, host, c->net) == 1) {
		c->kind = CIDR_INET6;
		c->bits = 128;
	} else {
		return -1;
	}
	if (slash && parse_bits(slash + 1, c->bits, &c->bits) < 0)
		return -1;
	mask(c->net, c->kind == CIDR_INET ? 4 : 16, c->bits);
	return 0;
}

static int prefix_equal(const unsigned char *a, const unsigned char *net,
                        size_t size, unsigned bits)
{
	unsigned char tmp[16];

	memcpy(tmp, a, size);
	mask(tmp, size, bits);
	return memcmp(tmp, net, size) == 0;
}

int cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	switch (c->kind) {
	case CIDR_ALL:
		return 1;
	case CIDR_UNIX:
		return sa->sa_family == AF_UNIX;
	case CIDR_INET:
		if (sa->sa_family == AF_INET)
			return prefix_equal((const unsigned char *)
			                    &((const struct sockaddr_in *)sa)->sin_addr,
			                    c->net, 4, c->bits);
		/* An IPv4 client on a dual-stack socket arrives mapped. */
		return sa->sa_family == AF_INET6 &&
		       IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		       prefix_equal(in6->sin6_addr.s6_addr + 12, c->net, 4, c->bits);
	case CIDR_INET6:
		return sa->sa_family == AF_INET6 &&
		       prefix_equal(in6->sin6_addr.s6_addr, c->net, 16, c->bits);
	}
	return 0;
}

int access_allows(const struct access_rule *rules, size_t n,
                  const struct sockaddr *sa)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_match(&rules[i].cidr, sa))
			return rules[i].allow;
	return 1;
}

int cidr_find(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_match(&list[i], sa))
			return (int)i;
	return -1;
}
