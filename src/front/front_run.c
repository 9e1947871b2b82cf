#include "front_run.h"

#include "activate.h"
#include "exec_contract.h"
#include "front_door.h"
#include "handoff.h"
#include "log.h"
#include "sandbox.h"
#include "session.h"
#include "session_io.h"

#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: postern [-a ACTIVE | -c FILE] [-s NAME]\n"
	        "       postern -t [-c FILE] [-u USER]\n"
	        "       postern -A [-c FILE] [-a ACTIVE] [-u USER]\n"
	        "Started per connection by systemd (Accept=yes), inetd or "
	        "postern-spawn;\na connection reads only the image postern -A "
	        "made (ACTIVE.image).\n"
	        "  -a ACTIVE  the active copy (default %s)\n"
	        "  -c FILE    for -t and -A, the edited file (default %s);\n"
	        "             for a connection, read FILE.image instead\n"
	        "  -s NAME    use the server section NAME\n"
	        "  -t         check the configuration and exit\n"
	        "  -A         check it, make it the active copy and write its "
	        "image\n"
	        "  -u USER    check the files connections read as USER would\n",
	        ACTIVE_CONFIG, FRONT_DEFAULT_CONFIG);
}

const struct front_program front_postern = {
	.ident = "postern", .operator_modes = 1, .usage = usage,
};

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
 * that wants TLS is postern-tls's from the start (see serve). */
static const struct session_ops front_ops = {
	.starttls = exec_tls,
	.backend_handshake = NULL,
	.relay = handoff_relay,
};

static int serve(struct session *s)
{
	const char *why = NULL;

	if (front_door(s) < 0) {
		session_close(s);
		return EXIT_DONE;
	}
	front_log_connect(s);
	/* TLS at once, or TLS to backends: GnuTLS is postern-tls's. */
	if (s->conf->ssl || s->conf->proxy_ssl != PROXY_SSL_OFF) {
		handoff_tls(s, s->conf->ssl ? "implicit" : "plain", s->ctx, &why);
		logmsg(LOG_ERR, "event=tls_failed program=%s reason=\"%s\"",
		       s->conf->tls_program, LOGV(why));
		return EXIT_TEMPORARY;
	}
	return session_serve(s, 1);
}

int front_run(const char *ident, const struct front_options *o)
{
	const struct server_conf *sc;
	struct client_socket cs;
	struct session s;
	struct conf c;
	int rc;

	/* Before the configuration, the client or a password is in memory. */
	sandbox_undumpable();
	rc = front_start(ident, o->image, o->server, 1, &cs, &c, &sc);
	if (rc != EXIT_DONE)
		return rc;
	/* postern-tls, if it comes to that, reads the same image. */
	if (session_init(&s, sc, cs.fd, cs.inetd, &front_ops,
	                 (void *)o->image) < 0) {
		logmsg(LOG_ERR, "event=internal_error reason=\"out of memory\"");
		conf_free(&c);
		return EXIT_TEMPORARY;
	}
	log_set_session(s.id);
	rc = serve(&s);
	session_free(&s);
	conf_free(&c);
	return rc;
}
