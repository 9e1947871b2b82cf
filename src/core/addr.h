/* Numeric socket addresses: "192.0.2.1:143", "[2001:db8::1]:143". Names are
 * not resolved here: a lookup has no deadline, and nginx's auth_http wants
 * addresses too. */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 8)

/* "host:port" with a numeric host; IPv6 in brackets. 0 or -1. */
int addr_parse(const char *hostport, struct addr *a);
/* Host and port given apart, as Auth-Server and Auth-Port are. */
int addr_from_parts(const char *host, const char *port, struct addr *a);
/* "ip:port", "[ip6]:port", or "unix:path". */
void addr_format(const struct sockaddr *sa, char *buf, size_t size);
/* Only the ip, as Client-IP wants it. */
void addr_format_ip(const struct sockaddr *sa, char *buf, size_t size);
int addr_port(const struct sockaddr *sa);
/* An IPv4 peer of a dual-stack socket comes as ::ffff:a.b.c.d: made the
 * plain IPv4 address it is, so that logs, auth requests, XCLIENT and ID
 * say what the client is. Other addresses are left as they are. */
void addr_unmap(struct sockaddr_storage *ss, socklen_t *len);

#endif
