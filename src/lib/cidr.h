/* Address patterns, as nginx's allow, deny and set_real_ip_from take
 * them: "192.0.2.1", "10.0.0.0/8", "2001:db8::/32", "all", "unix:".
 * Pure: parse once when the configuration is read, match per
 * connection. */
#ifndef POSTERN_CIDR_H
#define POSTERN_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

enum cidr_kind { CIDR_ALL, CIDR_UNIX, CIDR_INET, CIDR_INET6 };

struct cidr {
	enum cidr_kind kind;
	unsigned char net[16];    /* masked to bits */
	unsigned bits;
};

/* 0, or -1 when text is none of the forms above. A network written with
 * bits set past its prefix ("10.1.2.3/8") is taken masked, as nginx
 * does. */
int cidr_parse(const char *text, struct cidr *c);
int cidr_match(const struct cidr *c, const struct sockaddr *sa);

/* allow and deny, checked in the order written; the first match wins,
 * and an address no rule matches is allowed. */
struct access_rule {
	int allow;
	struct cidr cidr;
};
int access_allows(const struct access_rule *rules, size_t n,
                  const struct sockaddr *sa);
/* One of a list: the first whose pattern matches, or -1. */
int cidr_find(const struct cidr *list, size_t n, const struct sockaddr *sa);

#endif
