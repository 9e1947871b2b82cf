/* A session's data: made at accept (or carried across an exec), its state
 * and how it ends, and what it may offer now. The pipeline that runs it
 * is session.c. */
#include "session_state.h"
#include "clock.h"
#include "exec_contract.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const state_names[] = {
	[ST_GREETING] = "greeting", [ST_AUTH] = "auth",
	[ST_LOOKUP] = "lookup",     [ST_BACKEND] = "backend",
	[ST_RELAY] = "relay",       [ST_CLOSED] = "closed",
};

const char *session_state_name(enum session_state st)
{
	return state_names[st];
}

static void make_id(char *id, size_t size)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint64_t)getpid() << 32 ^ (uint64_t)contract_now_us();
	snprintf(id, size, "%016llx", (unsigned long long)r);
}

/* Every address a session keeps is unmapped (addr_unmap()) on its way in:
 * from the socket, from a PROXY header, from the front across the exec. */
void session_set_client(struct session *s, const struct sockaddr *sa,
                        socklen_t len)
{
	if (len > sizeof s->client_addr.ss)
		len = sizeof s->client_addr.ss;
	memcpy(&s->client_addr.ss, sa, len);
	s->client_addr.len = len;
	addr_unmap(&s->client_addr.ss, &s->client_addr.len);
	sa = (const struct sockaddr *)&s->client_addr.ss;
	addr_format(sa, s->client, sizeof s->client);
	addr_format_ip(sa, s->client_ip, sizeof s->client_ip);
}

void session_set_local(struct session *s, const struct addr *a)
{
	s->local = *a;
	addr_unmap(&s->local.ss, &s->local.len);
	addr_format((const struct sockaddr *)&s->local.ss, s->local_text,
	            sizeof s->local_text);
}

void session_set_proxied(struct session *s, const struct addr *src,
                         const struct addr *dst)
{
	s->proxied = 1;
	s->proxy_src = *src;
	s->proxy_dst = *dst;
	addr_unmap(&s->proxy_src.ss, &s->proxy_src.len);
	addr_unmap(&s->proxy_dst.ss, &s->proxy_dst.len);
	addr_format((const struct sockaddr *)&s->proxy_src.ss, s->proxy_text[0],
	            sizeof s->proxy_text[0]);
	addr_format((const struct sockaddr *)&s->proxy_dst.ss, s->proxy_text[1],
	            sizeof s->proxy_text[1]);
}

int session_init(struct session *s, const struct server_conf *c, int fd,
                 int inetd, const struct session_ops *ops, void *ctx)
{
	struct addr local;

	memset(s, 0, sizeof *s);
	s->conf = c;
	s->proto = c->protocol;
	s->ops = ops;
	s->ctx = ctx;
	s->inetd = inetd;
	s->started_us = contract_now_us();
	s->login_deadline = clock_ms() + c->login_timeout_ms;
	s->backend.fd = -1;
	s->result = "closed";
	session_add_deny(s, c->imap_deny);
	make_id(s->id, sizeof s->id);
	snprintf(s->client, sizeof s->client, "unknown");
	snprintf(s->client_ip, sizeof s->client_ip, "unknown");
	s->peer.len = sizeof s->peer.ss;
	if (getpeername(fd, (struct sockaddr *)&s->peer.ss, &s->peer.len) == 0) {
		addr_unmap(&s->peer.ss, &s->peer.len);
		session_set_client(s, (struct sockaddr *)&s->peer.ss, s->peer.len);
	}
	else
		s->peer.len = 0;
	local.len = sizeof local.ss;
	if (getsockname(fd, (struct sockaddr *)&local.ss, &local.len) == 0)
		session_set_local(s, &local);
	return lineio_init(&s->in, fd, c->client_buffer);
}

/* The front read the PROXY header; the socket here says only who the
 * peer is. Text that is not "ip:port" (a unix socket) leaves what the
 * socket says. */
static void continue_origin(struct session *s, const struct crossing *x)
{
	struct addr a, b;

	if (addr_parse(x->client, &a) == 0)
		session_set_client(s, (struct sockaddr *)&a.ss, a.len);
	if (addr_parse(x->local, &a) == 0)
		session_set_local(s, &a);
	if (addr_parse(x->proxy_src, &a) == 0 &&
	    addr_parse(x->proxy_dst, &b) == 0)
		session_set_proxied(s, &a, &b);
}

void session_continue(struct session *s, const struct crossing *x)
{
	if (*x->session)
		snprintf(s->id, sizeof s->id, "%s", x->session);
	/* The login deadline counts from the first accept, not this exec. */
	if (x->started_us > 0 && x->started_us <= s->started_us) {
		s->login_deadline -= (s->started_us - x->started_us) / 1000;
		s->started_us = x->started_us;
	}
	s->in.total = x->bytes_in;
	s->bytes_out = x->bytes_out;
	s->errors = x->errors;
	continue_origin(s, x);
}

void session_crossing(const struct session *s, struct crossing *x)
{
	memset(x, 0, sizeof *x);
	x->session = s->id;
	x->started_us = s->started_us;
	x->bytes_in = s->in.total;
	x->bytes_out = s->bytes_out;
	x->errors = s->errors;
	x->client = s->client;
	x->local = s->local_text;
	x->proxy_src = s->proxy_text[0];
	x->proxy_dst = s->proxy_text[1];
	x->user = s->user_shown;
	x->backend = s->backend_name;
	x->log = s->conf->error_log;
	x->log_level = s->conf->log_level;
	x->inetd = s->inetd;
	x->proxy_timeout_ms = s->conf->proxy_timeout_ms;
	x->server = s->conf->name;
	x->deny = s->deny;
	x->hide = s->conf->imap_hide;
}

void session_free(struct session *s)
{
	credentials_clear(&s->cred);
	lineio_free(&s->in);
	if (s->backend.buf)
		lineio_free(&s->backend);
	free(s->proto_state);
	s->proto_state = NULL;
}

void session_set_state(struct session *s, enum session_state st)
{
	logmsg(LOG_DEBUG, "event=state from=%s to=%s", state_names[s->state],
	       state_names[st]);
	s->state = st;
}

int session_login_expired(const struct session *s)
{
	return s->state < ST_RELAY && clock_ms() >= s->login_deadline;
}

void session_end(struct session *s, const char *result, const char *why)
{
	if (!s->end_why) {
		s->result = result;
		s->end_why = why;
	}
}

void session_add_deny(struct session *s, const char *names)
{
	size_t used = strlen(s->deny);

	if (names && names[0])
		snprintf(s->deny + used, sizeof s->deny - used, "%s%s",
		         used ? " " : "", names);
}

const char *session_guard(const struct session *s)
{
	if (s->proto->guard)
		return s->proto->guard;
	if (s->proto->filter && (s->deny[0] || s->conf->imap_hide[0]))
		return s->proto->filter;
	return NULL;
}

void session_guard_settings(const struct session *s,
                            struct guard_settings *set)
{
	set->deny = s->deny;
	set->hide = s->conf->imap_hide;
}

int session_can_starttls(const struct session *s)
{
	return !s->tls && s->ops->starttls && s->conf->starttls != STARTTLS_OFF;
}

int session_needs_tls(const struct session *s)
{
	return !s->tls && s->conf->starttls == STARTTLS_ONLY;
}

unsigned session_mechs(const struct session *s)
{
	unsigned m = s->conf->auth & s->proto->auth_allowed;

	return s->tls ? m : m & ~(unsigned)SASL_EXTERNAL;
}
