#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static int parse_port(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

int addr_from_parts(const char *host, const char *port, struct addr *a)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	char h[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);
	int p = parse_port(port);

	if (p < 0 || n == 0 || n >= sizeof h)
		return -1;
	memcpy(h, host, n + 1);
	if (h[0] == '[' && h[n - 1] == ']') {
		h[n - 1] = '\0';
		memmove(h, h + 1, n - 1);
	}
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, h, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		a->len = sizeof *in4;
		return 0;
	}
	if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		a->len = sizeof *in6;
		return 0;
	}
	return -1;
}

int addr_parse(const char *hostport, struct addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(hostport, ':');
	size_t n;

	if (!colon)
		return -1;
	n = (size_t)(colon - hostport);
	if (n == 0 || n >= sizeof host)
		return -1;
	memcpy(host, hostport, n);
	host[n] = '\0';
	/* An unbracketed IPv6 address would be ambiguous about its port. */
	if (strchr(host, ':') && host[0] != '[')
		return -1;
	return addr_from_parts(host, colon + 1, a);
}

void addr_format_ip(const struct sockaddr *sa, char *buf, size_t size)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &in4->sin_addr, buf, (socklen_t)size);
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)size);
		break;
	case AF_UNIX:
		snprintf(buf, size, "unix:%s",
		         ((const struct sockaddr_un *)sa)->sun_path);
		break;
	default:
		snprintf(buf, size, "unknown");
	}
}

int addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

void addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	addr_format_ip(sa, ip, sizeof ip);
	if (sa->sa_family == AF_INET)
		snprintf(buf, size, "%s:%d", ip, addr_port(sa));
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%d", ip, addr_port(sa));
	else
		snprintf(buf, size, "%s", ip);
}

void addr_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in in = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 || *len < sizeof *in6 ||
	    !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return;
	in.sin_port = in6->sin6_port;
	memcpy(&in.sin_addr, in6->sin6_addr.s6_addr + 12, 4);
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &in, sizeof in);
	*len = sizeof in;
}
