#include "session.h"
#include "exec_contract.h"
#include "handoff.h"
#include "log.h"
#include "login.h"
#include "session_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

int session_init(struct session *s, const struct server_conf *c, int fd,
                 int inetd, const struct session_ops *ops, void *ctx)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	memset(s, 0, sizeof *s);
	s->conf = c;
	s->proto = c->protocol;
	s->ops = ops;
	s->ctx = ctx;
	s->inetd = inetd;
	s->started_us = contract_now_us();
	s->backend.fd = -1;
	s->result = "closed";
	make_id(s->id, sizeof s->id);
	snprintf(s->client, sizeof s->client, "unknown");
	snprintf(s->client_ip, sizeof s->client_ip, "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		addr_format((struct sockaddr *)&ss, s->client, sizeof s->client);
		addr_format_ip((struct sockaddr *)&ss, s->client_ip,
		               sizeof s->client_ip);
	}
	return lineio_init(&s->in, fd, c->client_buffer);
}

void session_continue(struct session *s, const struct crossing *x)
{
	if (*x->session)
		snprintf(s->id, sizeof s->id, "%s", x->session);
	if (x->started_us > 0 && x->started_us <= s->started_us)
		s->started_us = x->started_us;
	s->in.total = x->bytes_in;
	s->bytes_out = x->bytes_out;
	s->errors = x->errors;
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
	x->user = s->user_shown;
	x->backend = s->backend_name;
	x->log = s->conf->error_log;
	x->log_level = s->conf->log_level;
	x->inetd = s->inetd;
	x->proxy_timeout_ms = s->conf->proxy_timeout_ms;
	x->server = s->conf->name;
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

void session_end(struct session *s, const char *result, const char *why)
{
	if (!s->end_why) {
		s->result = result;
		s->end_why = why;
	}
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

static enum step dispatch(struct session *s, const char *name)
{
	const struct command *c = s->proto->commands;

	while (c->name && strcasecmp(c->name, name) != 0)
		c++;
	return c->handler(s);
}

/* Whatever the client sent behind STARTTLS came in clear: it is dropped,
 * never run inside TLS (CVE-2011-0411, CVE-2014-3556). Then the program
 * starts TLS its own way. */
static enum step start_tls(struct session *s)
{
	if (lineio_pending(&s->in))
		logmsg(LOG_NOTICE, "event=starttls_injection dropped=%zu",
		       lineio_pending(&s->in));
	lineio_drop(&s->in);
	return s->ops->starttls(s);
}

static void close_session(struct session *s)
{
	struct crossing x;

	session_set_state(s, ST_CLOSED);
	session_crossing(s, &x);
	contract_log_close(&x, s->result, s->end_why ? s->end_why : "-", NULL);
	session_linger(s);
}

/* 1: logged in, relay; 0: the session is over, answered and logged. */
static int run(struct session *s, int greet)
{
	enum step st = greet ? s->proto->greet(s) : STEP_NEXT;

	if (st == STEP_NEXT)
		session_set_state(s, ST_AUTH);
	while (st != STEP_CLOSE) {
		const char *name = NULL;

		st = s->proto->read_command(s, &name);
		if (st == STEP_NEXT)
			st = dispatch(s, name);
		if (st == STEP_STARTTLS)
			st = start_tls(s);
		if (st == STEP_LOGIN)
			st = login_run(s);
		if (st == STEP_HANDOFF) {
			session_set_state(s, ST_RELAY);
			return 1;
		}
		if (st == STEP_ERROR && ++s->errors >= (unsigned)s->conf->max_errors) {
			s->proto->bye(s, "Too many invalid commands");
			session_end(s, "error", "too many errors");
			st = STEP_CLOSE;
		}
	}
	close_session(s);
	return 0;
}

int session_serve(struct session *s, int greet)
{
	if (s->proto->init(s) < 0) {
		session_internal_error(s);
		logmsg(LOG_ERR, "event=internal_error reason=\"out of memory\"");
		return EXIT_TEMPORARY;
	}
	if (!run(s, greet))
		return EXIT_DONE;
	return s->ops->relay(s);
}
