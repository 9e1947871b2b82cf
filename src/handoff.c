#include "handoff.h"
#include "exec_contract.h"
#include "log.h"
#include "session_state.h"
#include "session_io.h"

/* Bytes already read past the login exchange belong to the other side:
 * the client's pipelined commands, the backend's first untagged data.
 * Then both buffers are wiped: the client's held the login, password and
 * all, and postern-tls goes on relaying in this same memory. */
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
	if (contract_place_fds(s->in.fd, -1, s->inetd, why) < 0)
		return -1;
	return contract_exec(s->conf->tls_program, &x, why);
}

int handoff_relay(struct session *s)
{
	const char *why = NULL;
	struct crossing x;

	if (handoff_flush_leftovers(s, &why) == 0) {
		credentials_clear(&s->cred);
		session_crossing(s, &x);
		if (contract_place_fds(s->in.fd, s->backend.fd, s->inetd,
		                       &why) == 0)
			contract_exec(s->conf->relay_program, &x, &why);
	}
	logmsg(LOG_ERR, "event=relay_failed program=%s reason=\"%s\"",
	       s->conf->relay_program, LOGV(why));
	return EXIT_TEMPORARY;
}
