/* The PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and
 * 2): read from what a load balancer sends first, and written for a
 * backend. Pure and bounds-checked: bytes in, result out; no I/O. */
#ifndef POSTERN_PROXY_HEADER_H
#define POSTERN_PROXY_HEADER_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PROXY_V1_MAX 107           /* the spec's bound, CRLF included */
#define PROXY_V2_TLV_MAX 1024      /* more TLV bytes than this: refused */
#define PROXY_HEADER_MAX (16 + 216 + PROXY_V2_TLV_MAX)

enum proxy_result {
	PROXY_DONE,   /* a whole header: length is set */
	PROXY_MORE,   /* a valid beginning; every byte given belongs to it */
	PROXY_BAD,    /* not a PROXY header: why says how */
};

struct proxy_header {
	int version;                  /* 1 or 2, once known */
	/* No addresses to take: v2 LOCAL, v1 UNKNOWN, or a family that is
	 * not TCP (AF_UNSPEC, AF_UNIX). The peer's address stands. */
	int local;
	struct sockaddr_storage src;  /* the client, as the sender saw it */
	struct sockaddr_storage dst;  /* the address the client reached */
	size_t length;                /* with PROXY_DONE: bytes to consume */
	const char *why;              /* with PROXY_BAD */
};

/* Look at the first len bytes of a connection. PROXY_MORE promises that
 * all len bytes are part of the header, so a reader may consume them
 * and never takes a byte of what follows. */
enum proxy_result proxy_parse(const unsigned char *buf, size_t len,
                              struct proxy_header *h);

/* A header for a backend: version 1 or 2, src the client, dst the
 * address it reached. Addresses that are not one TCP family (AF_UNIX,
 * or IPv4 with IPv6) give v1 UNKNOWN or v2 LOCAL, so the backend keeps
 * its peer's. The length written, or -1 when size is too small. */
ssize_t proxy_build(int version, const struct sockaddr *src,
                    const struct sockaddr *dst, unsigned char *buf,
                    size_t size);

#endif
