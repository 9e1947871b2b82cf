#include "resolver.h"
#include "clock.h"
#include "dns_parse.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* A lost datagram is asked for again this often. */
#define RETRY_MS 1000

int resolver_addr(const char *text, struct addr *a)
{
	if (addr_parse(text, a) == 0)
		return 0;
	return addr_from_parts(text, "53", a);
}

struct ask {
	const struct addr *servers;
	size_t n;
	int fds[RESOLVERS_MAX];
	int failed[RESOLVERS_MAX];
	uint16_t id;
	unsigned char query[300];
	size_t qlen;
};

static int same_addr(const struct sockaddr_storage *from, const struct addr *a)
{
	const struct sockaddr *s = (const struct sockaddr *)from;

	if (s->sa_family != a->ss.ss_family)
		return 0;
	if (s->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)s)->sin_addr,
		              &((const struct sockaddr_in *)&a->ss)->sin_addr, 4) == 0 &&
		       ((const struct sockaddr_in *)s)->sin_port ==
		       ((const struct sockaddr_in *)&a->ss)->sin_port;
	return memcmp(&((const struct sockaddr_in6 *)s)->sin6_addr,
	              &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16) == 0 &&
	       ((const struct sockaddr_in6 *)s)->sin6_port ==
	       ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
}

static void send_all(struct ask *k)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->fds[i] >= 0 && !k->failed[i])
			sendto(k->fds[i], k->query, k->qlen, MSG_DONTWAIT,
			       (const struct sockaddr *)&k->servers[i].ss,
			       k->servers[i].len);
}

static int all_failed(const struct ask *k)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->fds[i] >= 0 && !k->failed[i])
			return 0;
	return 1;
}

/* A reply from server i: 1 when it settles the question. */
static int take(struct ask *k, size_t i, const char *name, enum dns_type type,
                struct dns_reply *r)
{
	unsigned char msg[DNS_MSG_MAX];
	struct sockaddr_storage from;
	socklen_t flen = sizeof from;
	ssize_t got = recvfrom(k->fds[i], msg, sizeof msg, MSG_DONTWAIT,
	                       (struct sockaddr *)&from, &flen);

	if (got < 0 || !same_addr(&from, &k->servers[i]) ||
	    dns_parse_reply(msg, (size_t)got, k->id, name, type, r) < 0)
		return 0;   /* not an answer to us: wait on */
	if (r->rcode == DNS_FAILED) {
		k->failed[i] = 1;
		return 0;
	}
	return 1;
}

static enum resolve_result wait_reply(struct ask *k, const char *name,
                                      enum dns_type type, int64_t deadline,
                                      struct dns_reply *r, const char **why)
{
	struct pollfd pfd[RESOLVERS_MAX];
	int64_t resend = clock_ms() + RETRY_MS;

	send_all(k);
	for (;;) {
		int64_t until = resend < deadline ? resend : deadline;
		int rc;

		if (all_failed(k)) {
			*why = "the resolver failed (SERVFAIL or REFUSED)";
			return RESOLVE_TEMP;
		}
		if (clock_ms() >= deadline) {
			*why = "resolver_timeout passed";
			return RESOLVE_TEMP;
		}
		for (size_t i = 0; i < k->n; i++)
			pfd[i] = (struct pollfd){ .fd = k->failed[i] ? -1 : k->fds[i],
			                          .events = POLLIN };
		rc = poll(pfd, k->n, clock_left(until));
		if (rc < 0 && errno != EINTR) {
			*why = "poll failed";
			return RESOLVE_TEMP;
		}
		if (clock_ms() >= resend) {
			send_all(k);
			resend = clock_ms() + RETRY_MS;
		}
		for (size_t i = 0; rc > 0 && i < k->n; i++)
			if ((pfd[i].revents & POLLIN) && take(k, i, name, type, r))
				return RESOLVE_OK;
	}
}

static enum resolve_result ask(struct ask *k, const char *name,
                               enum dns_type type, int64_t deadline,
                               struct dns_reply *r, const char **why)
{
	ssize_t len;

	if (getrandom(&k->id, sizeof k->id, GRND_NONBLOCK) != sizeof k->id)
		k->id = (uint16_t)(clock_ms() ^ getpid());
	len = dns_build_query(k->id, name, type, k->query, sizeof k->query);
	if (len < 0) {
		*why = "cannot build the query";
		return RESOLVE_NONE;
	}
	k->qlen = (size_t)len;
	memset(k->failed, 0, sizeof k->failed);
	return wait_reply(k, name, type, deadline, r, why);
}

static int addr_bytes(const struct sockaddr *sa, unsigned char *out,
                      enum dns_type *type)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		*type = DNS_A;
		return 4;
	}
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		memcpy(out, in6->sin6_addr.s6_addr + 12, 4);
		*type = DNS_A;
		return 4;
	}
	memcpy(out, in6->sin6_addr.s6_addr, 16);
	*type = DNS_AAAA;
	return 16;
}

/* The PTR name, then its addresses: one of them must be the client's. */
static enum resolve_result confirm(struct ask *k, const struct sockaddr *client,
                                   int64_t deadline, char *name, size_t size,
                                   const char **why)
{
	struct dns_reply r;
	char rev[DNS_NAME_MAX];
	unsigned char want[16];
	enum dns_type type;
	enum resolve_result res;
	int n;

	if (dns_reverse_name(client, rev, sizeof rev) < 0) {
		*why = "the address has no reverse name";
		return RESOLVE_NONE;
	}
	if ((res = ask(k, rev, DNS_PTR, deadline, &r, why)) != RESOLVE_OK)
		return res;
	if (r.rcode != DNS_ANSWER || r.count == 0) {
		*why = "no PTR record";
		return RESOLVE_NONE;
	}
	if (!r.valid[0]) {
		*why = "the PTR name is not a valid host name";
		return RESOLVE_NONE;
	}
	snprintf(name, size, "%s", r.names[0]);
	n = addr_bytes(client, want, &type);
	if ((res = ask(k, name, type, deadline, &r, why)) != RESOLVE_OK)
		return res;
	for (size_t i = 0; r.rcode == DNS_ANSWER && i < r.count; i++)
		if (memcmp(r.addrs[i], want, (size_t)n) == 0)
			return RESOLVE_OK;
	*why = "the PTR name does not lead back to the address";
	return RESOLVE_NONE;
}

enum resolve_result resolver_name(const struct addr *servers, size_t n,
                                  const struct sockaddr *client,
                                  int64_t deadline, char *name, size_t size,
                                  char *why, size_t wsize)
{
	struct ask k = { .servers = servers, .n = n };
	const char *reason = "no resolver";
	enum resolve_result res = RESOLVE_NONE;

	if (n > RESOLVERS_MAX)
		n = k.n = RESOLVERS_MAX;
	if (client->sa_family != AF_INET && client->sa_family != AF_INET6) {
		snprintf(why, wsize, "not an IP address");
		return RESOLVE_NONE;
	}
	for (size_t i = 0; i < n; i++)
		k.fds[i] = socket(servers[i].ss.ss_family,
		                  SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (all_failed(&k)) {
		reason = n ? "cannot open a UDP socket" : reason;
		res = RESOLVE_TEMP;
	} else {
		res = confirm(&k, client, deadline, name, size, &reason);
	}
	for (size_t i = 0; i < n; i++)
		if (k.fds[i] >= 0)
			close(k.fds[i]);
	if (res != RESOLVE_OK) {
		snprintf(why, wsize, "%s", reason);
		snprintf(name, size, "%s", res == RESOLVE_TEMP ?
		         RESOLVER_TEMPUNAVAIL : RESOLVER_UNAVAILABLE);
	}
	return res;
}
