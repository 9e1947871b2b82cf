#include "handoff.h"
#include "log.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Bytes already read past the login exchange belong to the other side:
 * the client's pipelined commands, the backend's first untagged data. */
static int flush_leftovers(struct session *s, const char **why)
{
	int64_t deadline = session_deadline(s);
	struct lineio *c = &s->in, *b = &s->backend;

	if (lineio_pending(c) &&
	    io_write_all(b->fd, c->buf + c->start, lineio_pending(c),
	                 deadline) != IO_OK) {
		*why = "passing pipelined client bytes to the backend";
		return -1;
	}
	if (lineio_pending(b) &&
	    io_write_all(c->fd, b->buf + b->start, lineio_pending(b),
	                 deadline) != IO_OK) {
		*why = "passing early backend bytes to the client";
		return -1;
	}
	logmsg(LOG_DEBUG, "event=handoff client_leftover=%zu backend_leftover=%zu",
	       lineio_pending(c), lineio_pending(b));
	s->bytes_out += lineio_pending(b);
	return 0;
}

static int place_fds(struct session *s, const char **why)
{
	int c = fcntl(s->in.fd, F_DUPFD_CLOEXEC, 10);
	int b = fcntl(s->backend.fd, F_DUPFD_CLOEXEC, 10);
	int null;

	if (c < 0 || b < 0 || dup2(c, RELAY_CLIENT_FD) < 0 ||
	    dup2(b, RELAY_BACKEND_FD) < 0) {
		*why = strerror(errno);
		return -1;
	}
	close(c);
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
	/* Nothing else is the relay's business, the log file included. */
	close_range(RELAY_BACKEND_FD + 1, ~0U, 0);
	return 0;
}

int handoff_exec(struct session *s, const char **why)
{
	char env[12][300];
	char *envp[13];
	char *argv[] = { "postern-relay", NULL };
	int n = 0;

	if (flush_leftovers(s, why) < 0)
		return -1;
	credentials_clear(&s->cred);
	snprintf(env[n++], sizeof env[0], "POSTERN_SESSION=%s", s->id);
	snprintf(env[n++], sizeof env[0], "POSTERN_CLIENT=%s", s->client);
	snprintf(env[n++], sizeof env[0], "POSTERN_USER=%s", s->user_shown);
	snprintf(env[n++], sizeof env[0], "POSTERN_BACKEND=%s", s->backend_name);
	snprintf(env[n++], sizeof env[0], "POSTERN_PROTOCOL=%s", s->proto->name);
	snprintf(env[n++], sizeof env[0], "POSTERN_PROXY_TIMEOUT_MS=%lld",
	         (long long)s->conf->proxy_timeout_ms);
	snprintf(env[n++], sizeof env[0], "POSTERN_STARTED_US=%lld",
	         (long long)s->started_us_wall);
	snprintf(env[n++], sizeof env[0], "POSTERN_BYTES_IN=%llu",
	         (unsigned long long)s->in.total);
	snprintf(env[n++], sizeof env[0], "POSTERN_BYTES_OUT=%llu",
	         (unsigned long long)s->bytes_out);
	snprintf(env[n++], sizeof env[0], "POSTERN_LOG=%s", s->conf->error_log);
	snprintf(env[n++], sizeof env[0], "POSTERN_LOG_LEVEL=%d",
	         s->conf->log_level);
	snprintf(env[n++], sizeof env[0], "POSTERN_INETD=%d", s->inetd);
	for (int i = 0; i < n; i++)
		envp[i] = env[i];
	envp[n] = NULL;
	if (place_fds(s, why) < 0)
		return -1;
	execve(s->conf->relay_program, argv, envp);
	*why = strerror(errno);
	return -1;
}
