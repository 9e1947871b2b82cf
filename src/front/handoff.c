#include "handoff.h"
#include "exec_contract.h"
#include "log.h"
#include "session_state.h"
#include "session_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes already read past the login exchange belong to the other side:
 * the client's pipelined commands, the backend's first untagged data.
 * Then both buffers are wiped: the client's held the login, password and
 * all, and postern-tls goes on relaying in this same memory. */
/* A transport may hold bytes past the line buffer (a TLS record larger
 * than its room): they are leftovers too. */
static size_t take_held(struct lineio *io, char *buf, size_t len)
{
	return io->t && io->t->take_held ? io->t->take_held(io->t->ctx, buf, len)
	                                 : 0;
}

/* Write from's leftovers to to, the held ones included. */
static int pass_on(struct lineio *from, struct lineio *to, int64_t deadline,
                   uint64_t *count)
{
	char held[4096];
	size_t n = lineio_pending(from);

	if (n && lineio_write_all(to, from->buf + from->start, n,
	                          deadline) != IO_OK)
		return -1;
	*count += n;
	while ((n = take_held(from, held, sizeof held)) > 0) {
		enum io_result r = lineio_write_all(to, held, n, deadline);

		explicit_bzero(held, n);
		if (r != IO_OK)
			return -1;
		*count += n;
	}
	return 0;
}

int handoff_leftovers(struct session *s, char *keep, size_t keep_size,
                      size_t *kept, const char **why)
{
	int64_t deadline = session_deadline(s);
	struct lineio *c = &s->in, *b = &s->backend;
	uint64_t up = 0, down = 0;
	size_t n;

	if (keep) {
		n = lineio_pending(c);
		if (n > keep_size) {
			*why = "client leftovers larger than the buffer";
			return -1;
		}
		memcpy(keep, c->buf + c->start, n);
		for (size_t held = 1; held > 0 && n < keep_size; n += held)
			held = take_held(c, keep + n, keep_size - n);
		if (n == keep_size) {
			*why = "client leftovers larger than the buffer";
			return -1;
		}
		*kept = n;
	} else if (pass_on(c, b, deadline, &up) < 0) {
		*why = "passing pipelined client bytes to the backend";
		return -1;
	}
	if (pass_on(b, c, deadline, &down) < 0) {
		*why = "passing early backend bytes to the client";
		return -1;
	}
	logmsg(LOG_DEBUG, "event=handoff client_leftover=%zu backend_leftover=%llu",
	       keep ? *kept : (size_t)up, (unsigned long long)down);
	s->bytes_out += down;
	lineio_wipe(c);
	lineio_wipe(b);
	return 0;
}

int handoff_tls(struct session *s, const char *mode, const char *config,
                const char **why)
{
	struct crossing x;

	/* Nothing of the client's is buffered here: the session loop dropped
	 * what came behind STARTTLS, and the other modes read nothing yet. */
	credentials_clear(&s->cred);
	session_crossing(s, &x);
	x.tls_mode = mode;
	x.config = config;
	if (contract_place_fds(s->in.fd, -1, -1, s->inetd, why) < 0)
		return -1;
	return contract_exec(s->conf->tls_program, &x, why);
}

int handoff_pipe(const void *buf, size_t len, const char **why)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		*why = strerror(errno);
		return -1;
	}
	if ((len > 65536 && fcntl(p[1], F_SETPIPE_SZ, (int)len) < 0) ||
	    (len && write(p[1], buf, len) != (ssize_t)len)) {
		*why = strerror(errno);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return p[0];
}

/* The client's leftovers for a guarded relay, on a pipe it reads first. */
static int leftover_pipe(struct session *s, const char **why)
{
	char *keep = malloc(s->conf->client_buffer + 1);
	size_t kept = 0;
	int rc = -1;

	if (!keep) {
		*why = "out of memory";
		return -1;
	}
	if (handoff_leftovers(s, keep, s->conf->client_buffer + 1, &kept,
	                      why) == 0)
		rc = handoff_pipe(keep, kept, why);
	explicit_bzero(keep, s->conf->client_buffer + 1);
	free(keep);
	return rc;
}

int handoff_relay(struct session *s)
{
	const char *guard = session_guard(s), *why = NULL;
	const char *program = guard ? s->conf->guard_relay_program
	                            : s->conf->relay_program;
	int leftover = -1;
	struct crossing x;

	if (guard)
		leftover = leftover_pipe(s, &why);
	if (guard ? leftover < 0 : handoff_leftovers(s, NULL, 0, NULL, &why) < 0)
		goto failed;
	credentials_clear(&s->cred);
	session_crossing(s, &x);
	x.guard = guard;
	if (contract_place_fds(s->in.fd, s->backend.fd, leftover, s->inetd,
	                       &why) == 0)
		contract_exec(program, &x, &why);
failed:
	logmsg(LOG_ERR, "event=relay_failed program=%s reason=\"%s\"",
	       program, LOGV(why));
	return EXIT_TEMPORARY;
}
