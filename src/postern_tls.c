/* postern-tls: the same session as postern's, with GnuTLS. The front
 * execs it with the client socket on fd 3: for implicit TLS at once, after
 * STARTTLS, or at once with a plaintext client when proxy_ssl wants TLS to
 * backends. It does the handshakes, runs the session code, and relays
 * in-process when either side is TLS (the bytes must be decrypted); when
 * neither is, it execs postern-relay like the front. The only program that
 * links GnuTLS. */
#include "conf_image.h"
#include "exec_contract.h"
#include "front.h"
#include "handoff.h"
#include "log.h"
#include "proto.h"
#include "session.h"
#include "sandbox.h"
#include "session_io.h"
#include "tls.h"
#include "tls_path.h"
#include "tls_relay.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The session's TLS, one per side: the ops' context. */
struct tls_sides {
	struct tls client, backend;
};

static struct tls_sides *sides(struct session *s)
{
	return s->ctx;
}

/* ssl_verify_client turned the client away: the protocol's words, as
 * nginx sends them in place of the greeting. */
static void refuse_cert(struct session *s, const struct tls *t)
{
	const char *text = t->info.has_cert ? s->proto->cert_error
	                                    : s->proto->no_cert;

	logmsg(LOG_NOTICE, "event=client_cert_refused verify=\"%s\" "
	       "subject=\"%s\"", LOGV(t->info.verify), LOGV(t->info.subject));
	session_write(s, text, strlen(text));
	session_end(s, "error", "client certificate refused");
}

/* 0 when TLS is up with the client; -1 when the session is over. */
static int client_handshake(struct session *s, const char *mode)
{
	struct tls *t = &sides(s)->client;
	char why[512];
	/* Kept: the close line gives it as the session's end. */
	static char end[600];

	if (tls_setup(t, s->conf, s->in.fd, s->proto->alpn, 0, why,
	              sizeof why) < 0) {
		/* A client told to go ahead with STARTTLS sees a close. */
		logmsg(LOG_ERR, "event=tls_error reason=\"%s\"", LOGV(why));
		session_end(s, "error", "TLS setup failed");
		return -1;
	}
	if (tls_handshake(t, s->conf, session_deadline(s), why, sizeof why) < 0) {
		logmsg(LOG_INFO, "event=tls_handshake result=fail reason=\"%s\"",
		       LOGV(why));
		snprintf(end, sizeof end, "TLS handshake failed: %s", why);
		session_end(s, "error", end);
		return -1;
	}
	logmsg(LOG_INFO, "event=tls_handshake result=ok mode=%s protocol=%s "
	       "cipher=%s resumed=%s verify=\"%s\"", mode, t->info.protocol,
	       t->info.cipher, t->resumed ? "yes" : "no",
	       LOGV(t->info.verify_asked ? t->info.verify : "off"));
	s->in.t = &t->transport;
	s->tls = 1;
	s->tls_info = &t->info;
	if (t->cert_refused) {
		refuse_cert(s, t);
		tls_bye(t, session_deadline(s));
		return -1;
	}
	return 0;
}

/* STARTTLS with GnuTLS already here (a plaintext client of a proxy_ssl
 * section): the front's hand-off, without the exec. */
static enum step starttls_here(struct session *s)
{
	return client_handshake(s, "starttls") < 0 ? STEP_CLOSE : STEP_NEXT;
}

static int backend_handshake(struct session *s, int mode, const char *name,
                             char *why, size_t size)
{
	struct tls *t = &sides(s)->backend;

	if (tls_client(t, s->conf, s->backend.fd, name, session_deadline(s),
	               why, size) < 0)
		return -1;
	/* Whatever the backend said in clear does not count. */
	lineio_drop(&s->backend);
	s->backend.t = &t->transport;
	logmsg(LOG_INFO, "event=backend_tls mode=%s name=%s protocol=%s "
	       "cipher=%s verify=%s", mode == PROXY_SSL_STARTTLS ? "starttls" :
	       "on", name, t->info.protocol, t->info.cipher,
	       s->conf->proxy_ssl_verify ? "yes" : "no");
	return 0;
}

/* TLS on either side: the bytes must be decrypted here. Plain on both
 * after all (Auth-Backend-TLS: off): splice them in postern-relay. */
static int relay(struct session *s)
{
	if (!s->tls && !s->backend.t)
		return handoff_relay(s);
	/* Hands the records to postern-tls-relay, or relays here (and then
	 * gives back what the handshakes needed and sandboxes itself). */
	return tls_relay(s, s->tls ? &sides(s)->client : NULL,
	                 s->backend.t ? &sides(s)->backend : NULL);
}

/* A plaintext client (proxy_ssl sections) may still ask for STARTTLS. */
static const struct session_ops plain_ops = {
	.starttls = starttls_here,
	.backend_handshake = backend_handshake,
	.relay = relay,
};
static const struct session_ops tls_ops = {
	.starttls = NULL,
	.backend_handshake = backend_handshake,
	.relay = relay,
};

static int serve(struct session *s, const char *mode)
{
	int plain = strcmp(mode, "plain") == 0;

	if (!plain && client_handshake(s, mode) < 0) {
		/* Every session has its close line, a failed handshake's too:
		 * postern-stats counts them, and a broken certificate shows. */
		session_close(s);
		return EXIT_DONE;
	}
	return session_serve(s, strcmp(mode, "starttls") != 0);
}

/* A section whose files live in a credentials directory this check has
 * not got: each connection reads them, and says so in the log if it
 * cannot. */
static int deferred(const struct server_conf *c)
{
	const char *paths[] = { c->ssl_password_file, c->ssl_dhparam,
	                        c->ssl_client_certificate,
	                        c->ssl_trusted_certificate, c->ssl_crl,
	                        c->proxy_ssl_trusted_certificate };

	for (size_t i = 0; i < c->ssl_ncertificates; i++)
		if (tls_path_deferred(c->ssl_certificate[i]) ||
		    tls_path_deferred(c->ssl_certificate_key[i]))
			return 1;
	for (size_t i = 0; i < c->ssl_nticket_keys; i++)
		if (tls_path_deferred(c->ssl_session_ticket_key[i]))
			return 1;
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (tls_path_deferred(paths[i]))
			return 1;
	return 0;
}

/* postern -t and -A run this, as the user connections run as (-u): GnuTLS
 * loads every TLS file the configuration names, so a wrong path, key or
 * password, or a key that user may not read, shows before a client finds
 * it. */
static int check(const struct conf *c)
{
	char why[512];
	int failed = 0;

	for (size_t i = 0; i < c->nservers; i++) {
		if (deferred(&c->servers[i])) {
			fprintf(stderr, "postern-tls: server %s: its files in "
			        "${CREDENTIALS_DIRECTORY} are read by each "
			        "connection (LoadCredential=); not checked here\n",
			        c->servers[i].name);
			continue;
		}
		if (tls_check(&c->servers[i], why, sizeof why) < 0) {
			fprintf(stderr, "postern-tls: server %s: %s\n",
			        c->servers[i].name, why);
			failed = 1;
		}
	}
	return failed;
}

/* The mode postern's exec names (implicit, starttls, plain, check);
 * NULL when the spawner started this program on a TLS port. */
static const char *resumed;

static const char *mode_of(const struct server_conf *sc)
{
	return resumed ? resumed : sc->ssl ? "implicit" : "plain";
}

/* A plaintext client (a proxy_ssl section) may still ask for STARTTLS. */
static const struct session_ops *ops(const struct server_conf *sc)
{
	return strcmp(mode_of(sc), "plain") == 0 ? &plain_ops : &tls_ops;
}

static struct tls_sides tls;

/* Without a section, a socket it was started on is taken to be TLS:
 * nothing is said in clear (the close tells the client; the log why). */
static const struct front_program program = {
	.ident = "postern-tls", .speak = 0, .nonblocking = 1, .ops = ops,
	.ctx = &tls,
	.started = "Started by postern, or per connection by systemd "
	           "(Accept=yes), inetd or\npostern-spawn on a TLS port, "
	           "without postern first.",
};

/* postern -t's check, on the image it made in memory. */
static int check_image(const struct crossing *x)
{
	struct conf c;
	char err[512];
	int rc;

	log_open("postern-tls", "stderr", LOG_INFO, 0);
	if (conf_image_load(x->config, &c, err, sizeof err) < 0) {
		fprintf(stderr, "postern-tls: %s\n", err);
		return EXIT_USAGE;
	}
	rc = check(&c);
	conf_free(&c);
	return rc;
}

static int run(int argc, char **argv, const struct crossing *x)
{
	struct front_options o;
	struct session s;
	struct conf c;
	int rc;

	if (*x->tls_mode) {
		resumed = x->tls_mode;
		rc = front_resume(&program, x, &s, &c);
	} else if ((rc = front_options(argc, argv, &program, &o)) ==
	           FRONT_GO_ON) {
		rc = front_begin(&program, &o, &s, &c);
	}
	if (rc != FRONT_GO_ON)
		return rc;
	rc = serve(&s, mode_of(s.conf));
	session_free(&s);
	conf_free(&c);
	return rc;
}

int main(int argc, char **argv)
{
	struct crossing x;
	int rc;

	/* Before a key, a ticket secret or a password is in memory. */
	sandbox_undumpable();
	signal(SIGPIPE, SIG_IGN);
	contract_read(&x);
	/* postern always names the mode; without one, nobody exec'd us. */
	rc = strcmp(x.tls_mode, "check") == 0 ? check_image(&x)
	                                       : run(argc, argv, &x);
	tls_free(&tls.client);
	tls_free(&tls.backend);
	return rc;
}
