#include "session_io.h"
#include "clock.h"
#include "log.h"
#include "session_state.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The idle timeout, and before login no later than login_timeout from
 * the connect: NOOPs or a byte at a time cannot hold a process. */
int64_t session_deadline(const struct session *s)
{
	int64_t idle = clock_ms() + s->conf->timeout_ms;

	if (s->state < ST_RELAY && s->login_deadline < idle)
		return s->login_deadline;
	return idle;
}

void session_login_timeout(struct session *s)
{
	logmsg(LOG_NOTICE, "event=login_timeout state=%s limit=%lld",
	       session_state_name(s->state),
	       (long long)s->conf->login_timeout_ms);
	s->proto->bye(s, "Login timed out");
	session_end(s, "timeout", "login timed out");
}

int session_write(struct session *s, const char *data, size_t len)
{
	enum io_result r = lineio_write_all(&s->in, data, len,
	                                    session_deadline(s));

	/* After LOGOUT or QUIT the client may go without reading the
	 * goodbye (a health check resets once it has seen BYE): no news. */
	if (r != IO_OK) {
		logmsg(s->end_why ? LOG_DEBUG : LOG_INFO,
		       "event=write_failed reason=\"%s\"", io_result_str(r));
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
		if (session_login_expired(s)) {
			session_login_timeout(s);
			break;
		}
		logmsg(LOG_INFO, "event=timeout state=%s",
		       session_state_name(s->state));
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

/* Closing a socket with unread input makes the kernel send a reset, which
 * can destroy our last reply (a BYE) before the client reads it. So send
 * FIN first and read until the client closes, for a short while. */
void session_linger(struct session *s)
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
