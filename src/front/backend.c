#include "backend.h"
#include "log.h"
#include "lookup.h"
#include "net.h"
#include "proxy_header.h"
#include "session_state.h"
#include "session_io.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* proxy_ssl, or the auth server's Auth-Backend-TLS for this user. */
static int start_tls(struct session *s, const struct auth_reply *rep,
                     char *why, size_t size)
{
	int mode = rep->backend_tls >= 0 ? rep->backend_tls : s->conf->proxy_ssl;
	const char *name = s->conf->proxy_ssl_name ? s->conf->proxy_ssl_name
	                                           : rep->server;

	if (mode == PROXY_SSL_OFF)
		return 0;
	if (!s->ops->backend_handshake) {
		snprintf(why, size, "TLS to this backend needs postern-tls: set "
		         "proxy_ssl in the server section");
		return -1;
	}
	if (mode == PROXY_SSL_STARTTLS) {
		if (s->proto->backend_starttls(s, why, size) != AUTH_OK)
			return -1;
		s->backend_greeted = 1;
	}
	return s->ops->backend_handshake(s, mode, name, why, size);
}

static void drop(struct session *s)
{
	close(s->backend.fd);
	s->backend.fd = -1;
}

/* Whether a is the address this connection came in on: the backend is
 * then postern itself (a map's "* 127.0.0.1" once Dovecot left port 143),
 * and each connection would start another postern that does the same,
 * until the per-source limit. Only the exact address is known cheaply; a
 * loop through another of postern's addresses stops one step in, where
 * the inner postern meets its own. The unspecified address (0.0.0.0, ::)
 * on postern's port counts as its own: a connect to it reaches this host,
 * and no postern would ever meet it as the address it came in on. */
static int is_own_address(const struct session *s, const struct addr *a)
{
	struct addr b = *a;
	const struct sockaddr *l = (const struct sockaddr *)&s->local.ss;
	const struct sockaddr *r = (const struct sockaddr *)&b.ss;
	const struct sockaddr_in6 *r6 = (const struct sockaddr_in6 *)r;

	addr_unmap(&b.ss, &b.len);
	if (s->local.len == 0 || addr_port(l) != addr_port(r))
		return 0;
	if ((r->sa_family == AF_INET &&
	     ((const struct sockaddr_in *)r)->sin_addr.s_addr == INADDR_ANY) ||
	    (r->sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&r6->sin6_addr)))
		return 1;
	if (l->sa_family != r->sa_family)
		return 0;
	if (r->sa_family == AF_INET)
		return ((const struct sockaddr_in *)l)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)r)->sin_addr.s_addr;
	return r->sa_family == AF_INET6 &&
	       memcmp(&((const struct sockaddr_in6 *)l)->sin6_addr,
	              &r6->sin6_addr, sizeof(struct in6_addr)) == 0;
}

static int connect_to(struct session *s, const struct addr *a,
                      const char **why)
{
	int fd;

	if (is_own_address(s, a)) {
		logmsg(LOG_ERR, "event=backend_down backend=%s reason=\"this is "
		       "postern's own address: the lookup sent the user back to "
		       "postern\"", s->backend_name);
		*why = "backend is postern itself";
		return -1;
	}
	fd = net_connect(a, session_deadline(s), why);
	if (fd < 0) {
		logmsg(LOG_ERR, "event=backend_down backend=%s reason=\"%s\"",
		       s->backend_name, LOGV(*why));
		*why = "backend unreachable";
		return -1;
	}
	if (!s->backend.buf && lineio_init(&s->backend, fd, 16384) < 0) {
		close(fd);
		*why = "out of memory";
		return -1;
	}
	s->backend.fd = fd;
	s->backend.t = NULL;
	s->backend_greeted = 0;
	lineio_drop(&s->backend);
	return 0;
}

/* proxy_protocol: the backend learns who the client is before anything
 * else, the TLS handshake included. */
static int send_proxy_header(struct session *s, const char **why)
{
	unsigned char h[PROXY_HEADER_MAX];
	ssize_t n;

	if (!s->conf->proxy_protocol_out)
		return 0;
	n = proxy_build(s->conf->proxy_protocol_out,
	                (const struct sockaddr *)&s->client_addr.ss,
	                (const struct sockaddr *)&s->local.ss, h, sizeof h);
	if (n < 0 || lineio_write_all(&s->backend, (const char *)h, (size_t)n,
	                              session_deadline(s)) != IO_OK) {
		logmsg(LOG_ERR, "event=backend_error backend=%s reason=\"cannot "
		       "send the PROXY header\"", s->backend_name);
		*why = "backend error";
		return -1;
	}
	return 0;
}

enum auth_result backend_open(struct session *s, const struct auth_reply *rep,
                              char *text, size_t size, const char **why)
{
	enum auth_result r;

	addr_format((const struct sockaddr *)&rep->backend.ss, s->backend_name,
	            sizeof s->backend_name);
	if (connect_to(s, &rep->backend, why) < 0)
		return AUTH_TEMPFAIL;
	if (send_proxy_header(s, why) < 0) {
		drop(s);
		return AUTH_TEMPFAIL;
	}
	if (start_tls(s, rep, text, size) < 0) {
		drop(s);
		logmsg(LOG_ERR, "event=backend_tls_error backend=%s reason=\"%s\"",
		       s->backend_name, LOGV(text));
		*why = "backend TLS failed";
		return AUTH_TEMPFAIL;
	}
	if (rep->has_user)
		snprintf(s->cred.user, sizeof s->cred.user, "%s", rep->user);
	if (rep->has_pass) {
		snprintf(s->cred.pass, sizeof s->cred.pass, "%s", rep->pass);
		/* A password from the auth server: the backend gets it, not
		 * the client's token. */
		explicit_bzero(s->cred.token, sizeof s->cred.token);
	}
	r = s->proto->backend_login(s, text, size);
	if (r == AUTH_OK)
		return r;
	drop(s);
	if (r == AUTH_TEMPFAIL) {
		logmsg(LOG_ERR, "event=backend_error backend=%s reason=\"%s\"",
		       s->backend_name, LOGV(text));
		*why = "backend error";
	}
	return r;
}
