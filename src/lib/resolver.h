/* The client's name, as nginx's resolver finds it for Client-Host and
 * XCLIENT NAME: the PTR of its address, taken only when that name's A or
 * AAAA records lead back to the address (forward-confirmed) and it is a
 * valid host name. A small UDP stub with a deadline; nothing is cached,
 * since a process serves one connection. */
#ifndef POSTERN_RESOLVER_H
#define POSTERN_RESOLVER_H

#include "addr.h"

#include <stddef.h>
#include <stdint.h>

/* What nginx sends when there is no name to send. */
#define RESOLVER_UNAVAILABLE "[UNAVAILABLE]"
#define RESOLVER_TEMPUNAVAIL "[TEMPUNAVAIL]"
#define RESOLVERS_MAX 4     /* servers a section may list */

enum resolve_result {
	RESOLVE_OK,        /* name holds the confirmed name */
	RESOLVE_NONE,      /* no confirmed name: [UNAVAILABLE] */
	RESOLVE_TEMP,      /* timeout or server failure: [TEMPUNAVAIL] */
};

/* "127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353"; port 53 unless
 * given. 0 or -1. */
int resolver_addr(const char *text, struct addr *a);

/* Ask servers, all at once, until deadline. why says what went wrong,
 * for the log, when the result is not RESOLVE_OK. */
enum resolve_result resolver_name(const struct addr *servers, size_t n,
                                  const struct sockaddr *client,
                                  int64_t deadline, char *name, size_t size,
                                  char *why, size_t wsize);

#endif
