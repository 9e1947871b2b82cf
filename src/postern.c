/* postern: the front of one mail connection. It takes the socket systemd or
 * inetd accepted, reads the config, runs greeting and login, and execs
 * postern-relay with the client and backend sockets. TLS, implicit or by
 * STARTTLS, is postern-tls's work: the front execs it and never loads
 * GnuTLS, so plaintext connections do not pay for it. */
#include "activate.h"
#include "conf.h"
#include "exec_contract.h"
#include "front.h"
#include "front_door.h"
#include "handoff.h"
#include "log.h"
#include "proto.h"
#include "session.h"
#include "session_io.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct options {
	const char *config;      /* -c, or NULL */
	const char *active;      /* -a */
	const char *server;
	int test, activate;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: postern [-c FILE | -a ACTIVE] [-s NAME]\n"
	        "       postern -t [-c FILE]\n"
	        "       postern -A [-c FILE] [-a ACTIVE]\n"
	        "Started per connection by systemd (Accept=yes) or inetd.\n"
	        "  -c FILE    configuration (default %s)\n"
	        "  -a ACTIVE  the checked copy connections read when no -c is "
	        "given\n             (default %s)\n"
	        "  -s NAME    use the server section NAME\n"
	        "  -t         check the configuration and exit\n"
	        "  -A         check it and make it the active copy\n",
	        FRONT_DEFAULT_CONFIG, ACTIVE_CONFIG);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int c;

	o->active = ACTIVE_CONFIG;
	while ((c = getopt(argc, argv, "a:c:s:tAhV")) != -1) {
		switch (c) {
		case 'a':
			o->active = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'A':
			o->activate = 1;
			break;
		case 's':
			o->server = optarg;
			break;
		case 't':
			o->test = 1;
			break;
		case 'V':
			printf("postern %s\n", PACKAGE_VERSION);
			exit(EXIT_DONE);
		case 'h':
			usage(stdout);
			exit(EXIT_DONE);
		default:
			return -1;
		}
	}
	if (optind != argc || (o->test && o->activate))
		return -1;
	/* -t and -A look at the file the operator edits; a connection reads
	 * the active copy, or that file when there is none yet. */
	if (!o->config)
		o->config = o->test || o->activate
		            ? FRONT_DEFAULT_CONFIG
		            : activate_current(o->active, FRONT_DEFAULT_CONFIG);
	return 0;
}

/* The TLS files are GnuTLS's to judge, and the front has no GnuTLS:
 * postern-tls checks them, in a child, when any section uses TLS. */
static int test_tls(const struct conf *c, const char *config)
{
	const char *program = NULL;
	int status = 0;
	pid_t pid;

	for (size_t i = 0; i < c->nservers; i++)
		if (c->servers[i].ssl || c->servers[i].starttls != STARTTLS_OFF ||
		    c->servers[i].proxy_ssl != PROXY_SSL_OFF)
			program = c->servers[i].tls_program;
	if (!program)
		return 0;
	pid = fork();
	if (pid == 0) {
		struct crossing x = { .tls_mode = "check", .config = config,
		                      .log = "stderr" };
		const char *why = NULL;

		contract_exec(program, &x, &why);
		fprintf(stderr, "postern: %s: %s\n", program, why);
		_exit(EXIT_TEST_FAILED);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int test_config(const char *path)
{
	struct conf c;
	char err[512];

	if (conf_load(path, &c, err, sizeof err) < 0) {
		fprintf(stderr, "postern: %s\npostern: configuration test failed\n",
		        err);
		return EXIT_TEST_FAILED;
	}
	if (test_tls(&c, path) < 0) {
		fprintf(stderr, "postern: configuration test failed\n");
		conf_free(&c);
		return EXIT_TEST_FAILED;
	}
	fprintf(stderr, "postern: %s: %zu server section(s), syntax is ok\n"
	                "postern: configuration test is successful\n",
	        path, c.nservers);
	conf_free(&c);
	return EXIT_DONE;
}

/* postern -A: the edited file, checked as a copy beside the active one,
 * then renamed over it. A failed check leaves the active copy as it was. */
static int activate(const struct options *o)
{
	char staged[4096], why[512];

	/* First the file itself, so that errors name the operator's file and
	 * line; then the copy, which is what will be read. */
	if (test_config(o->config) != EXIT_DONE) {
		fprintf(stderr, "postern: %s unchanged\n", o->active);
		return EXIT_TEST_FAILED;
	}
	if (activate_stage(o->config, o->active, staged, sizeof staged, why,
	                   sizeof why) < 0) {
		fprintf(stderr, "postern: %s\npostern: %s unchanged\n", why,
		        o->active);
		return EXIT_TEST_FAILED;
	}
	if (test_config(staged) != EXIT_DONE) {
		unlink(staged);
		fprintf(stderr, "postern: %s unchanged\n", o->active);
		return EXIT_TEST_FAILED;
	}
	if (activate_commit(staged, o->active, why, sizeof why) < 0) {
		fprintf(stderr, "postern: %s\npostern: %s unchanged\n", why,
		        o->active);
		return EXIT_TEST_FAILED;
	}
	fprintf(stderr, "postern: %s is active as %s\n", o->config, o->active);
	return EXIT_DONE;
}

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

int main(int argc, char **argv)
{
	const struct server_conf *sc;
	struct client_socket cs;
	struct options o = { 0 };
	struct session s;
	struct conf c;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.test)
		return test_config(o.config);
	if (o.activate)
		return activate(&o);
	rc = front_start("postern", o.config, o.server, 1, &cs, &c, &sc);
	if (rc != EXIT_DONE)
		return rc;
	if (session_init(&s, sc, cs.fd, cs.inetd, &front_ops,
	                 (void *)o.config) < 0) {
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
