/* DNS messages for the resolver (RFC 1035): a query to build, a reply to
 * read. Pure and bounds-checked; replies come from the network and are
 * untrusted: compression pointers are followed a bounded number of times,
 * names are bounded, and every record must fit in the message. */
#ifndef POSTERN_DNS_PARSE_H
#define POSTERN_DNS_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define DNS_NAME_MAX 256      /* text, with its NUL */
#define DNS_MSG_MAX 1232      /* what we ask for and read (EDNS-less, 512) */
#define DNS_ANSWERS_MAX 8

enum dns_type { DNS_A = 1, DNS_CNAME = 5, DNS_PTR = 12, DNS_AAAA = 28 };

enum dns_rcode_class {
	DNS_ANSWER,     /* NOERROR: answers may be empty (no data) */
	DNS_NONAME,     /* NXDOMAIN */
	DNS_FAILED,     /* SERVFAIL, REFUSED, anything else: try later */
};

struct dns_reply {
	enum dns_rcode_class rcode;
	size_t count;
	/* PTR: names as text; valid[i] says whether the name is a host name
	 * (letters, digits, hyphens, dots between labels), the only kind
	 * postern passes on. A, AAAA: addresses, 4 or 16 bytes. */
	char names[DNS_ANSWERS_MAX][DNS_NAME_MAX];
	int valid[DNS_ANSWERS_MAX];
	unsigned char addrs[DNS_ANSWERS_MAX][16];
};

/* "4.3.2.1.in-addr.arpa" or the nibbles of ip6.arpa, for an AF_INET or
 * AF_INET6 address (a mapped IPv4 one as IPv4). 0 or -1. */
int dns_reverse_name(const struct sockaddr *sa, char *out, size_t size);

/* A recursive query for name, type. The length, or -1. */
ssize_t dns_build_query(uint16_t id, const char *name, enum dns_type type,
                        unsigned char *buf, size_t size);

/* Read a reply to the query (id, name, type): 0, or -1 when the message
 * is not a well-formed reply to that question (ignore it, as a spoof). */
int dns_parse_reply(const unsigned char *msg, size_t len, uint16_t id,
                    const char *name, enum dns_type type,
                    struct dns_reply *r);

#endif
