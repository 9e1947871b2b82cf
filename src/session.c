#include "session.h"
#include "auth.h"
#include "cmdline.h"
#include "clock.h"
#include "log.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *const state_names[] = {
	[ST_GREETING] = "greeting", [ST_AUTH] = "auth",
	[ST_LOOKUP] = "lookup",     [ST_BACKEND] = "backend",
	[ST_RELAY] = "relay",       [ST_CLOSED] = "closed",
};

static void make_id(char *id, size_t size)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint64_t)getpid() << 32 ^ (uint64_t)clock_ms();
	snprintf(id, size, "%016llx", (unsigned long long)r);
}

int session_init(struct session *s, const struct server_conf *c, int fd,
                 int inetd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct timeval tv;

	memset(s, 0, sizeof *s);
	s->conf = c;
	s->proto = c->protocol;
	s->inetd = inetd;
	s->started_ms = clock_ms();
	gettimeofday(&tv, NULL);
	s->started_us_wall = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
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

int64_t session_deadline(const struct session *s)
{
	return clock_ms() + s->conf->timeout_ms;
}

int session_write(struct session *s, const char *data, size_t len)
{
	enum io_result r = lineio_write_all(&s->in, data, len,
	                                    session_deadline(s));

	if (r != IO_OK) {
		logmsg(LOG_INFO, "event=write_failed reason=\"%s\"",
		       io_result_str(r));
		return -1;
	}
	s->bytes_out += len;
	return 0;
}

int session_printf(struct session *s, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	return session_write(s, buf, (size_t)n);
}

const char *session_salt(struct session *s)
{
	if (!s->salt[0] &&
	    sasl_salt(s->salt, sizeof s->salt, (long)getpid(),
	              (long long)time(NULL), s->conf->server_name) < 0) {
		s->salt[0] = '\0';
		return NULL;
	}
	return s->salt;
}

enum step session_client_gone(struct session *s, enum io_result r)
{
	switch (r) {
	case IO_TOOLONG:
		logmsg(LOG_NOTICE, "event=line_too_long limit=%zu",
		       s->conf->client_buffer);
		s->proto->too_long(s);
		session_end(s, "error", "command too long");
		break;
	case IO_TIMEOUT:
		logmsg(LOG_INFO, "event=timeout state=%s", state_names[s->state]);
		s->proto->bye(s, "Autologout; idle for too long");
		session_end(s, "timeout", "client timed out");
		break;
	case IO_EOF:
		session_end(s, "closed", "client closed");
		break;
	default:
		session_end(s, "closed", io_result_str(r));
		break;
	}
	return STEP_CLOSE;
}

int session_getline(struct session *s, char **line, size_t *len,
                    enum step *st)
{
	enum io_result r = lineio_getline(&s->in, session_deadline(s), line, len);

	if (r == IO_OK)
		return 0;
	*st = session_client_gone(s, r);
	return -1;
}

enum step session_reply(struct session *s, enum step next, const char *fmt,
                        ...)
{
	char line[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return session_client_gone(s, IO_ERROR);
	if ((size_t)n > sizeof line - 3)
		n = (int)sizeof line - 3;
	memcpy(line + n, "\r\n", 2);
	if (session_write(s, line, (size_t)n + 2) < 0)
		return session_client_gone(s, IO_ERROR);
	return next;
}

void session_internal_error(struct session *s)
{
	session_write(s, s->proto->internal_error,
	              strlen(s->proto->internal_error));
}

enum step session_read_cmdline(struct session *s, struct cmdline *c,
                               char *store, const char **why)
{
	enum cmdline_result r;
	enum step st;
	char *line;
	size_t len;

	if (session_getline(s, &line, &len, &st) < 0)
		return st;
	r = cmdline_parse(line, len, store, s->conf->client_buffer + 1, c);
	if (r == CMDLINE_OK)
		return STEP_NEXT;
	*why = cmdline_result_str(r);
	return STEP_ERROR;
}

void session_wipe_cmdline(struct session *s, char *store)
{
	explicit_bzero(store, s->conf->client_buffer + 1);
	explicit_bzero(s->in.buf, s->in.start);
}

void session_end(struct session *s, const char *result, const char *why)
{
	if (!s->end_why) {
		s->result = result;
		s->end_why = why;
	}
}

static void log_close(struct session *s)
{
	int64_t ms = clock_ms() - s->started_ms;

	logmsg(LOG_INFO,
	       "event=close client=%s user=\"%s\" backend=%s result=%s "
	       "reason=\"%s\" bytes_in=%llu bytes_out=%llu duration=%lld.%03lld",
	       s->client, s->user_shown, s->backend_name[0] ? s->backend_name : "-",
	       s->result, s->end_why ? s->end_why : "-",
	       (unsigned long long)s->in.total,
	       (unsigned long long)s->bytes_out, (long long)(ms / 1000),
	       (long long)(ms % 1000));
}

/* Shown in logs: printable, no quotes, bounded. Not a secret. */
static void show_user(char *dst, size_t size, const char *user)
{
	size_t i;

	for (i = 0; user[i] && i + 1 < size && i < 64; i++) {
		unsigned char c = (unsigned char)user[i];

		dst[i] = c > 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c
		                                                        : '?';
	}
	dst[i] = '\0';
}

static void wait_seconds(int seconds)
{
	struct timespec ts = { .tv_sec = seconds > 60 ? 60 : seconds };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* proxy_ssl, or the auth server's Auth-Backend-TLS for this user. */
static int backend_tls(struct session *s, const struct auth_reply *rep,
                       char *why, size_t size)
{
	int mode = rep->backend_tls >= 0 ? rep->backend_tls : s->conf->proxy_ssl;
	const char *name = s->conf->proxy_ssl_name ? s->conf->proxy_ssl_name
	                                           : rep->server;

	if (mode == PROXY_SSL_OFF)
		return 0;
	if (!s->backend_tls) {
		snprintf(why, size, "TLS to this backend needs postern-tls: set "
		         "proxy_ssl in the server section");
		return -1;
	}
	if (mode == PROXY_SSL_STARTTLS) {
		if (s->proto->backend_starttls(s, why, size) != AUTH_OK)
			return -1;
		s->backend_greeted = 1;
	}
	return s->backend_tls(s, mode, name, why, size);
}

static enum step backend_login(struct session *s, struct auth_reply *rep)
{
	char text[512] = "";
	const char *why = NULL;
	enum auth_result r;
	int fd;

	session_set_state(s, ST_BACKEND);
	addr_format((struct sockaddr *)&rep->backend.ss, s->backend_name,
	            sizeof s->backend_name);
	fd = net_connect(&rep->backend, session_deadline(s), &why);
	if (fd < 0) {
		logmsg(LOG_ERR, "event=backend_down backend=%s reason=\"%s\"",
		       s->backend_name, why);
		s->proto->auth_reply(s, AUTH_TEMPFAIL, NULL, NULL);
		session_end(s, "tempfail", "backend unreachable");
		return STEP_CLOSE;
	}
	if (!s->backend.buf && lineio_init(&s->backend, fd, 16384) < 0) {
		close(fd);
		s->proto->auth_reply(s, AUTH_TEMPFAIL, NULL, NULL);
		session_end(s, "tempfail", "out of memory");
		return STEP_CLOSE;
	}
	s->backend.fd = fd;
	s->backend.t = NULL;
	s->backend_greeted = 0;
	lineio_drop(&s->backend);
	if (backend_tls(s, rep, text, sizeof text) < 0) {
		close(fd);
		s->backend.fd = -1;
		logmsg(LOG_ERR, "event=backend_tls_error backend=%s reason=\"%s\"",
		       s->backend_name, text);
		s->proto->auth_reply(s, AUTH_TEMPFAIL, NULL, NULL);
		session_end(s, "tempfail", "backend TLS failed");
		return STEP_CLOSE;
	}
	if (rep->has_user)
		snprintf(s->cred.user, sizeof s->cred.user, "%s", rep->user);
	if (rep->has_pass)
		snprintf(s->cred.pass, sizeof s->cred.pass, "%s", rep->pass);
	r = s->proto->backend_login(s, text, sizeof text);
	if (r == AUTH_OK) {
		logmsg(LOG_INFO, "event=login user=\"%s\" backend=%s result=ok",
		       s->user_shown, s->backend_name);
		return STEP_HANDOFF;
	}
	close(fd);
	s->backend.fd = -1;
	if (r == AUTH_FAILED) {
		logmsg(LOG_NOTICE,
		       "event=login user=\"%s\" backend=%s result=fail "
		       "reason=\"backend refused\"", s->user_shown, s->backend_name);
		s->proto->auth_reply(s, AUTH_FAILED,
		                     s->conf->proxy_pass_error_message ? text
		                                                       : NULL,
		                     NULL);
		return STEP_ERROR;
	}
	logmsg(LOG_ERR, "event=backend_error backend=%s reason=\"%s\"",
	       s->backend_name, text);
	s->proto->auth_reply(s, AUTH_TEMPFAIL, NULL, NULL);
	session_end(s, "tempfail", "backend error");
	return STEP_CLOSE;
}

/* Ask where the user lives, honouring Auth-Wait, then log in there. */
static enum step login(struct session *s)
{
	struct auth_reply rep;
	struct auth_request req = {
		.method = s->cred.method,
		.user = s->cred.user,
		.pass = s->cred.pass,
		.protocol = s->proto->name,
		.attempt = ++s->attempts,
		.client_ip = s->client_ip,
		.salt = s->cred.salted ? s->salt : NULL,
		.default_port = s->proto->ports[0],
		.tls = s->tls ? s->tls_info : NULL,
		.pass_client_cert = s->conf->auth_http_pass_client_cert,
		.need_pass = s->cred.salted || s->cred.external,
	};
	enum step st;

	if (s->proto->fill_request)
		s->proto->fill_request(s, &req);
	show_user(s->user_shown, sizeof s->user_shown, s->cred.user);
	session_set_state(s, ST_LOOKUP);
	for (unsigned waits = 0;; waits++) {
		auth_lookup(s->conf, &req, &rep);
		if (rep.status != AUTH_STATUS_WAIT || waits >= 10)
			break;
		wait_seconds(rep.wait);
	}
	switch (rep.status) {
	case AUTH_STATUS_OK:
		st = backend_login(s, &rep);
		break;
	case AUTH_STATUS_FAIL:
		logmsg(LOG_NOTICE,
		       "event=login user=\"%s\" result=fail reason=\"%s\" wait=%d",
		       s->user_shown, rep.error[0] ? rep.error : rep.why,
		       rep.wait);
		wait_seconds(rep.wait);
		s->proto->auth_reply(s, AUTH_FAILED,
		                     rep.error[0] ? rep.error : NULL,
		                     rep.error_code[0] ? rep.error_code : NULL);
		/* nginx: a refusal without Auth-Wait ends the session. */
		if (s->conf->auth_http && rep.wait == 0) {
			session_end(s, "fail", "auth refused");
			st = STEP_CLOSE;
		} else {
			st = s->conf->auth_http ? STEP_NEXT : STEP_ERROR;
		}
		break;
	default:
		logmsg(LOG_ERR, "event=auth_error reason=\"%s\"",
		       rep.why[0] ? rep.why : "auth server sent WAIT too often");
		s->proto->auth_reply(s, AUTH_TEMPFAIL, NULL, NULL);
		session_end(s, "tempfail", "auth lookup failed");
		st = STEP_CLOSE;
		break;
	}
	auth_reply_clear(&rep);
	s->cred.salted = s->cred.external = 0;
	if (st != STEP_HANDOFF)
		credentials_clear(&s->cred);
	if (st == STEP_NEXT || st == STEP_ERROR)
		session_set_state(s, ST_AUTH);
	return st;
}

/* Closing a socket with unread input makes the kernel send a reset, which
 * can destroy our last reply (a BYE) before the client reads it. So send
 * FIN first and read until the client closes, for a short while. */
static void linger(struct session *s)
{
	int64_t deadline = clock_ms() + 2000;
	char sink[4096];
	ssize_t n;

	if (s->in.t)
		s->in.t->bye(s->in.t->ctx, deadline);
	shutdown(s->in.fd, SHUT_WR);
	while (io_wait(s->in.fd, POLLIN, deadline) == IO_OK) {
		n = recv(s->in.fd, sink, sizeof sink, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
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
	return s->starttls(s);
}

int session_can_starttls(const struct session *s)
{
	return !s->tls && s->starttls && s->conf->starttls != STARTTLS_OFF;
}

int session_needs_tls(const struct session *s)
{
	return !s->tls && s->conf->starttls == STARTTLS_ONLY;
}

int session_run(struct session *s, int greet)
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
			st = login(s);
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
	session_set_state(s, ST_CLOSED);
	log_close(s);
	linger(s);
	return 0;
}
