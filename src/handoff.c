#include "handoff.h"
#include "log.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes already read past the login exchange belong to the other side:
 * the client's pipelined commands, the backend's first untagged data. */
int handoff_flush_leftovers(struct session *s, const char **why)
{
	int64_t deadline = session_deadline(s);
	struct lineio *c = &s->in, *b = &s->backend;

	if (lineio_pending(c) &&
	    lineio_write_all(b, c->buf + c->start, lineio_pending(c),
	                 deadline) != IO_OK) {
		*why = "passing pipelined client bytes to the backend";
		return -1;
	}
	if (lineio_pending(b) &&
	    lineio_write_all(c, b->buf + b->start, lineio_pending(b),
	                     deadline) != IO_OK) {
		*why = "passing early backend bytes to the client";
		return -1;
	}
	logmsg(LOG_DEBUG, "event=handoff client_leftover=%zu backend_leftover=%zu",
	       lineio_pending(c), lineio_pending(b));
	s->bytes_out += lineio_pending(b);
	return 0;
}

/* The client at fd 3, the backend (if any) at fd 4. */
static int place_fds(struct session *s, const char **why)
{
	int c = fcntl(s->in.fd, F_DUPFD_CLOEXEC, 10);
	int b = s->backend.fd >= 0 ? fcntl(s->backend.fd, F_DUPFD_CLOEXEC, 10)
	                           : -2;
	int last = b == -2 ? RELAY_CLIENT_FD : RELAY_BACKEND_FD;
	int null;

	if (c < 0 || b == -1 || dup2(c, RELAY_CLIENT_FD) < 0 ||
	    (b >= 0 && dup2(b, RELAY_BACKEND_FD) < 0)) {
		*why = strerror(errno);
		return -1;
	}
	close(c);
	if (b >= 0)
		close(b);
	if (s->inetd) {
		null = open("/dev/null", O_RDWR);
		if (null < 0) {
			*why = strerror(errno);
			return -1;
		}
		for (int fd = 0; fd <= 2; fd++)
			if (fd != null)
				dup2(null, fd);
		if (null > 2)
			close(null);
	}
	/* Nothing else is the next program's business, the log file included. */
	close_range((unsigned)last + 1, ~0U, 0);
	return 0;
}

struct env {
	char vars[16][600];
	char *envp[17];
	int n;
};

static void put(struct env *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct env *e, const char *fmt, ...)
{
	va_list ap;

	if (e->n >= 16)
		return;
	va_start(ap, fmt);
	vsnprintf(e->vars[e->n], sizeof e->vars[0], fmt, ap);
	va_end(ap);
	e->envp[e->n] = e->vars[e->n];
	e->envp[++e->n] = NULL;
}

/* What every next program needs to go on as the same session. */
static void common_env(struct session *s, struct env *e)
{
	put(e, "POSTERN_SESSION=%s", s->id);
	put(e, "POSTERN_STARTED_US=%lld", (long long)s->started_us_wall);
	put(e, "POSTERN_BYTES_IN=%llu", (unsigned long long)s->in.total);
	put(e, "POSTERN_BYTES_OUT=%llu", (unsigned long long)s->bytes_out);
	put(e, "POSTERN_LOG=%s", s->conf->error_log);
	put(e, "POSTERN_LOG_LEVEL=%d", s->conf->log_level);
	put(e, "POSTERN_INETD=%d", s->inetd);
	/* systemd's LoadCredential= directory, for postern-tls's key, and
	 * the sign that stderr is the journal, for error_log auto. */
	if (getenv("CREDENTIALS_DIRECTORY"))
		put(e, "CREDENTIALS_DIRECTORY=%s", getenv("CREDENTIALS_DIRECTORY"));
	if (getenv("JOURNAL_STREAM"))
		put(e, "JOURNAL_STREAM=%s", getenv("JOURNAL_STREAM"));
}

int handoff_tls(struct session *s, const char *mode, const char **why)
{
	struct env e = { .n = 0 };
	char *argv[] = { "postern-tls", NULL };

	/* Nothing of the client's is buffered here: the session loop dropped
	 * what came behind STARTTLS, and the other modes read nothing yet. */
	credentials_clear(&s->cred);
	common_env(s, &e);
	put(&e, "POSTERN_TLS=%s", mode);
	put(&e, "POSTERN_SERVER=%s", s->conf->name);
	put(&e, "POSTERN_CONFIG=%s", s->config_path);
	put(&e, "POSTERN_ERRORS=%u", s->errors);
	if (place_fds(s, why) < 0)
		return -1;
	execve(s->conf->tls_program, argv, e.envp);
	*why = strerror(errno);
	return -1;
}

int handoff_exec(struct session *s, const char **why)
{
	struct env e = { .n = 0 };
	char *argv[] = { "postern-relay", NULL };

	if (handoff_flush_leftovers(s, why) < 0)
		return -1;
	credentials_clear(&s->cred);
	common_env(s, &e);
	put(&e, "POSTERN_CLIENT=%s", s->client);
	put(&e, "POSTERN_USER=%s", s->user_shown);
	put(&e, "POSTERN_BACKEND=%s", s->backend_name);
	put(&e, "POSTERN_PROTOCOL=%s", s->proto->name);
	put(&e, "POSTERN_PROXY_TIMEOUT_MS=%lld",
	    (long long)s->conf->proxy_timeout_ms);
	if (place_fds(s, why) < 0)
		return -1;
	execve(s->conf->relay_program, argv, e.envp);
	*why = strerror(errno);
	return -1;
}
