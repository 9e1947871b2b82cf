#include "front_door.h"
#include "clock.h"
#include "log.h"
#include "proxy_header.h"
#include "session_io.h"
#include "session_state.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/* The header is peeked at, and only its own bytes are consumed: what
 * follows is TLS or the protocol, and belongs to the next reader (which
 * may be postern-tls, after an exec that no buffer survives). */
static int read_header(int fd, int64_t deadline, struct proxy_header *h,
                       const char **why)
{
	unsigned char buf[PROXY_HEADER_MAX];
	size_t have = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		enum proxy_result r;
		ssize_t n;
		int rc = poll(&p, 1, clock_left(deadline));

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			*why = rc == 0 ? "no PROXY header in time" : strerror(errno);
			return -1;
		}
		n = recv(fd, buf + have, sizeof buf - have, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			*why = n == 0 ? "closed before a whole PROXY header" :
			       strerror(errno);
			return -1;
		}
		r = proxy_parse(buf, have + (size_t)n, h);
		if (r == PROXY_BAD) {
			*why = h->why;
			return -1;
		}
		/* MORE: every byte seen is the header's. DONE: up to its end. */
		if (r == PROXY_DONE)
			n = (ssize_t)(h->length - have);
		if (recv(fd, buf + have, (size_t)n, MSG_DONTWAIT) != n) {
			*why = "the PROXY header could not be consumed";
			return -1;
		}
		have += (size_t)n;
		if (r == PROXY_DONE)
			return 0;
		if (have == sizeof buf) {
			*why = "PROXY header too long";
			return -1;
		}
	}
}

/* How long the sender of a LOCAL header may take to hang up before a
 * protocol whose server speaks first greets it. HAProxy's layer-4 check
 * resets right behind its header: the reset is normally in before postern
 * even runs. Only LOCAL connections (the balancer's own) ever wait. */
#define CHECK_HANGUP_MS 100

/* After a LOCAL header: 1 when the sender hung up (FIN or reset) with
 * nothing after its header, 0 when a byte follows or it is still there
 * at the deadline. The byte is only peeked at: it is the next reader's. */
static int hung_up(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char byte;
	ssize_t n;
	int rc;

	while ((rc = poll(&p, 1, clock_left(deadline))) < 0 && errno == EINTR)
		;
	if (rc <= 0)
		return 0;
	n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* A LOCAL header and a hang-up is a balancer's health check, not a
 * client: one debug line, and the session ends without a close line.
 * On an implicit TLS port the client speaks first, so waiting for its
 * first byte costs nothing; elsewhere the greeting waits a moment. */
static int health_check(struct session *s)
{
	int64_t deadline = session_deadline(s);
	int64_t grace = clock_ms() + CHECK_HANGUP_MS;

	if (!s->conf->ssl && grace < deadline)
		deadline = grace;
	if (!hung_up(s->in.fd, deadline))
		return 0;
	logmsg(LOG_DEBUG, "event=health_check peer=%s header=local", s->client);
	s->health_check = 1;
	session_end(s, "check", "health check");
	return 1;
}

static socklen_t sockaddr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	       sizeof(struct sockaddr_in6);
}

/* As nginx's realip: the header is required from everyone, believed only
 * from set_real_ip_from. LOCAL (the balancer's own connection) keeps the
 * peer's; with nothing after it, it is a health check. */
static int take_proxy_header(struct session *s)
{
	const struct server_conf *c = s->conf;
	const char *why = NULL;
	struct proxy_header h;
	struct addr src, dst;

	/* The closing line says why; nothing else is logged. */
	if (read_header(s->in.fd, session_deadline(s), &h, &why) < 0) {
		session_end(s, "error", why);
		return -1;
	}
	if (h.local)
		return health_check(s) ? -1 : 0;
	src.ss = h.src;
	src.len = sockaddr_len(&h.src);
	dst.ss = h.dst;
	dst.len = sockaddr_len(&h.dst);
	session_set_proxied(s, &src, &dst);
	if (cidr_find(c->real_ip_from, c->nreal_ip_from,
	              (const struct sockaddr *)&s->peer.ss) < 0) {
		logmsg(LOG_INFO, "event=proxy_protocol_untrusted peer=%s said=%s",
		       s->client, s->proxy_text[0]);
		return 0;
	}
	session_set_client(s, (const struct sockaddr *)&src.ss, src.len);
	session_set_local(s, &dst);
	return 0;
}

int front_door(struct session *s)
{
	const struct server_conf *c = s->conf;

	if (c->proxy_protocol_in && take_proxy_header(s) < 0)
		return -1;
	if (access_allows(c->access, c->naccess,
	                  (const struct sockaddr *)&s->client_addr.ss))
		return 0;
	logmsg(LOG_NOTICE, "event=access_denied client=%s", s->client);
	/* In clear on a TLS port the line would be noise: just close. */
	if (!c->ssl)
		session_write(s, s->proto->access_denied,
		              strlen(s->proto->access_denied));
	session_end(s, "denied", "access rule");
	return -1;
}
