/* postern-tls: the same session as postern's, with GnuTLS. The front
 * execs it with the client socket on fd 3: for implicit TLS at once, after
 * STARTTLS, or at once with a plaintext client when proxy_ssl wants TLS to
 * backends. It does the handshakes, runs the session code, and relays
 * in-process when either side is TLS (the bytes must be decrypted); when
 * neither is, it execs postern-relay like the front. The only program that
 * links GnuTLS. */
#include "conf.h"
#include "handoff.h"
#include "log.h"
#include "proto.h"
#include "session.h"
#include "tls.h"
#include "tls_relay.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

enum { EXIT_DONE = 0, EXIT_USAGE = 100, EXIT_TEMPORARY = 111 };

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static long long env_num(const char *name)
{
	return strtoll(env_or(name, "0"), NULL, 10);
}

/* Go on as the session the front began: same id, clock and counters. */
static void continue_session(struct session *s)
{
	struct timeval tv;
	long long started = env_num("POSTERN_STARTED_US"), now;

	snprintf(s->id, sizeof s->id, "%s", env_or("POSTERN_SESSION", s->id));
	gettimeofday(&tv, NULL);
	now = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
	if (started > 0 && started <= now) {
		s->started_us_wall = started;
		s->started_ms -= (now - started) / 1000;
	}
	s->in.total = (uint64_t)env_num("POSTERN_BYTES_IN");
	s->bytes_out = (uint64_t)env_num("POSTERN_BYTES_OUT");
	s->errors = (unsigned)env_num("POSTERN_ERRORS");
}

static struct tls client_tls, backend_tls;

/* ssl_verify_client turned the client away: the protocol's words, as
 * nginx sends them in place of the greeting. */
static void refuse_cert(struct session *s, const struct tls *t)
{
	const char *text = t->info.has_cert ? s->proto->cert_error
	                                    : s->proto->no_cert;

	logmsg(LOG_NOTICE, "event=client_cert_refused verify=\"%s\" "
	       "subject=\"%s\"", t->info.verify, t->info.subject);
	session_write(s, text, strlen(text));
	session_end(s, "error", "client certificate refused");
}

/* 0 when TLS is up with the client; -1 when the session is over. */
static int client_handshake(struct session *s, const char *mode)
{
	struct tls *t = &client_tls;
	char why[512];

	if (tls_setup(t, s->conf, s->in.fd, s->proto->name, why,
	              sizeof why) < 0) {
		/* A client told to go ahead with STARTTLS sees a close. */
		logmsg(LOG_ERR, "event=tls_error reason=\"%s\"", why);
		session_end(s, "error", "TLS setup failed");
		return -1;
	}
	if (tls_handshake(t, s->conf, session_deadline(s), why, sizeof why) < 0) {
		logmsg(LOG_INFO, "event=tls_handshake result=fail reason=\"%s\"",
		       why);
		session_end(s, "error", "TLS handshake failed");
		return -1;
	}
	logmsg(LOG_INFO, "event=tls_handshake result=ok mode=%s protocol=%s "
	       "cipher=%s resumed=%s verify=\"%s\"", mode, t->info.protocol,
	       t->info.cipher, t->resumed ? "yes" : "no",
	       t->info.verify_asked ? t->info.verify : "off");
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

static int backend_tls_here(struct session *s, int mode, const char *name,
                            char *why, size_t size)
{
	if (tls_client(&backend_tls, s->conf, s->backend.fd, name,
	               session_deadline(s), why, size) < 0)
		return -1;
	/* Whatever the backend said in clear does not count. */
	lineio_drop(&s->backend);
	s->backend.t = &backend_tls.transport;
	logmsg(LOG_INFO, "event=backend_tls mode=%s name=%s protocol=%s "
	       "cipher=%s verify=%s", mode == PROXY_SSL_STARTTLS ? "starttls" :
	       "on", name, backend_tls.info.protocol, backend_tls.info.cipher,
	       s->conf->proxy_ssl_verify ? "yes" : "no");
	return 0;
}

static int serve(struct session *s, const char *mode)
{
	const char *why = NULL;
	int plain = strcmp(mode, "plain") == 0;

	if (!plain && client_handshake(s, mode) < 0)
		return EXIT_DONE;
	if (plain)
		s->starttls = starttls_here;
	s->backend_tls = backend_tls_here;
	if (s->proto->init(s) < 0) {
		session_internal_error(s);
		return EXIT_TEMPORARY;
	}
	if (!session_run(s, strcmp(mode, "starttls") != 0))
		return EXIT_DONE;
	if (s->tls || s->backend.t) {
		tls_relay(s, s->tls ? &client_tls : NULL,
		          s->backend.t ? &backend_tls : NULL);
		return EXIT_DONE;
	}
	/* Plain on both sides after all (Auth-Backend-TLS: off): splice. */
	handoff_exec(s, &why);
	logmsg(LOG_ERR, "event=relay_failed program=%s reason=\"%s\"",
	       s->conf->relay_program, why);
	return EXIT_TEMPORARY;
}

/* postern -t runs this: GnuTLS loads every TLS file the config names,
 * so a wrong path, key or password shows before a client finds it. */
static int check(const struct conf *c)
{
	char why[512];
	int failed = 0;

	for (size_t i = 0; i < c->nservers; i++) {
		if (tls_check(&c->servers[i], why, sizeof why) < 0) {
			fprintf(stderr, "postern-tls: server %s: %s\n",
			        c->servers[i].name, why);
			failed = 1;
		}
	}
	return failed;
}

int main(void)
{
	const struct server_conf *sc;
	int inetd = (int)env_num("POSTERN_INETD");
	const char *mode = env_or("POSTERN_TLS", "implicit");
	struct session s;
	struct conf c;
	char err[512];
	int rc;

	signal(SIGPIPE, SIG_IGN);
	log_open("postern-tls", env_or("POSTERN_LOG", "auto"), LOG_INFO, inetd);
	log_set_session(env_or("POSTERN_SESSION", ""));
	if (strcmp(mode, "check") != 0 && fcntl(RELAY_CLIENT_FD, F_GETFD) < 0) {
		logmsg(LOG_ERR, "event=usage reason=\"fd 3 must be the client "
		                "socket; postern starts postern-tls\"");
		return EXIT_USAGE;
	}
	if (conf_load(env_or("POSTERN_CONFIG", ""), &c, err, sizeof err) < 0) {
		logmsg(LOG_ERR, "event=startup_error what=configuration "
		       "reason=\"%s\"", err);
		return EXIT_USAGE;
	}
	if (strcmp(mode, "check") == 0) {
		rc = check(&c);
		conf_free(&c);
		return rc;
	}
	sc = conf_by_name(&c, env_or("POSTERN_SERVER", ""));
	if (!sc) {
		logmsg(LOG_ERR, "event=startup_error what=\"server selection\" "
		       "reason=\"no server section %s\"",
		       env_or("POSTERN_SERVER", "(unset)"));
		conf_free(&c);
		return EXIT_USAGE;
	}
	log_open("postern-tls", sc->error_log, sc->log_level, inetd);
	fcntl(RELAY_CLIENT_FD, F_SETFL,
	      fcntl(RELAY_CLIENT_FD, F_GETFL) | O_NONBLOCK);
	if (session_init(&s, sc, RELAY_CLIENT_FD, inetd) < 0) {
		conf_free(&c);
		return EXIT_TEMPORARY;
	}
	continue_session(&s);
	rc = serve(&s, mode);
	session_free(&s);
	tls_free(&client_tls);
	tls_free(&backend_tls);
	conf_free(&c);
	return rc;
}
