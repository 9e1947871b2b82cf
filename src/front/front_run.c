#include "front_run.h"

#include "exec_contract.h"
#include "handoff.h"
#include "log.h"
#include "session.h"
#include "session_io.h"

#include <string.h>

/* The protocol said yes to STARTTLS: postern-tls goes on from here. */
static enum step exec_tls(struct session *s)
{
	const char *why = NULL;

	handoff_tls(s, "starttls", s->ctx, &why);
	logmsg(LOG_ERR, "event=tls_failed program=%s reason=\"%s\"",
	       s->conf->tls_program, LOGV(why));
	session_end(s, "error", "cannot start TLS");
	return STEP_CLOSE;
}

/* The front has no GnuTLS: STARTTLS execs postern-tls, and a backend
 * that wants TLS is postern-tls's from the start (see front_run). */
static const struct session_ops front_ops = {
	.starttls = exec_tls,
	.backend_handshake = NULL,
	.relay = handoff_relay,
};

static const struct session_ops *ops(const struct server_conf *sc)
{
	(void)sc;
	return &front_ops;
}

const struct front_program front_postern = {
	.ident = "postern", .operator_modes = 1, .speak = 1, .ops = ops,
	.started = "Started per connection by systemd (Accept=yes), inetd or "
	           "postern-spawn.",
};

int front_run(const struct front_options *o)
{
	struct session s;
	struct conf c;
	const char *why = NULL;
	int rc = front_begin(&front_postern, o, &s, &c);

	if (rc != FRONT_GO_ON)
		return rc;
	/* postern-tls, if it comes to that, reads the same image. */
	s.ctx = (void *)o->image;
	/* TLS at once, or TLS to backends: GnuTLS is postern-tls's. */
	if (s.conf->ssl || s.conf->proxy_ssl != PROXY_SSL_OFF) {
		handoff_tls(&s, s.conf->ssl ? "implicit" : "plain", s.ctx, &why);
		logmsg(LOG_ERR, "event=tls_failed program=%s reason=\"%s\"",
		       s.conf->tls_program, LOGV(why));
		rc = EXIT_TEMPORARY;
	} else {
		rc = session_serve(&s, 1);
	}
	session_free(&s);
	conf_free(&c);
	return rc;
}
