#include "front.h"

#include "activate.h"
#include "addr.h"
#include "conf_image.h"
#include "exec_contract.h"
#include "front_door.h"
#include "listen_fds.h"
#include "log.h"
#include "net.h"
#include "proto.h"
#include "sandbox.h"
#include "session_io.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void front_usage(const struct front_program *p, FILE *f)
{
	fprintf(f, "usage: %s [-a ACTIVE | -c FILE] [-s NAME]\n", p->ident);
	if (p->operator_modes)
		fprintf(f, "       %s -t [-c FILE] [-u USER]\n"
		           "       %s -A [-c FILE] [-a ACTIVE] [-u USER]\n",
		        p->ident, p->ident);
	fprintf(f, "%s\nA connection reads only the image postern -A made "
	           "(ACTIVE.image).\n"
	           "  -a ACTIVE  the active copy (default %s)\n"
	           "  -c FILE    %s\n"
	           "  -s NAME    use the server section NAME\n",
	        p->started, ACTIVE_CONFIG,
	        p->operator_modes ? "for -t and -A, the edited file (default "
	                            FRONT_DEFAULT_CONFIG ");\n             for "
	                            "a connection, read FILE.image instead"
	                          : "read FILE.image instead");
	if (p->operator_modes)
		fprintf(f, "  -t         check the configuration and exit\n"
		           "  -A         check it, make it the active copy and "
		           "write its image\n"
		           "  -u USER    check the files connections read as USER "
		           "would\n");
}

int front_options(int argc, char **argv, const struct front_program *p,
                  struct front_options *o)
{
	int c;

	memset(o, 0, sizeof *o);
	o->active = ACTIVE_CONFIG;
	while ((c = getopt(argc, argv, p->operator_modes ? "a:c:s:tAu:hV"
	                                                 : "a:c:s:hV")) != -1) {
		switch (c) {
		case 'a': o->active = optarg; break;
		case 'c': o->config = optarg; break;
		case 'A': o->activate = 1; break;
		case 's': o->server = optarg; break;
		case 't': o->test = 1; break;
		case 'u': o->user = optarg; break;
		case 'V':
			printf("%s %s\n", p->ident, PACKAGE_VERSION);
			return EXIT_DONE;
		case 'h':
			front_usage(p, stdout);
			return EXIT_DONE;
		default:
			front_usage(p, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (o->test && o->activate) ||
	    (o->user && !o->test && !o->activate)) {
		front_usage(p, stderr);
		return EXIT_USAGE;
	}
	/* -t and -A look at the file the operator edits; a connection reads
	 * only the image -A made, never the text: an edit reaches clients
	 * through the gate or not at all. */
	if (conf_image_path(o->config ? o->config : o->active, o->image,
	                    sizeof o->image) < 0) {
		fprintf(stderr, "%s: the configuration's path is too long\n",
		        p->ident);
		return EXIT_USAGE;
	}
	if (!o->config && (o->test || o->activate))
		o->config = FRONT_DEFAULT_CONFIG;
	return FRONT_GO_ON;
}

int front_find_socket(struct client_socket *cs, const char **why)
{
	int n;

	memset(cs, 0, sizeof *cs);
	n = listen_fds(cs->name, sizeof cs->name);
	if (n < 0) {
		*why = "LISTEN_FDS or LISTEN_FDNAMES is malformed";
		return -1;
	}
	if (n > 1) {
		*why = "more than one socket passed; use Accept=yes";
		return -1;
	}
	if (n == 1) {
		cs->fd = LISTEN_FDS_START;
		if (!is_stream_socket(cs->fd)) {
			*why = "the passed socket is not a connected stream "
			       "socket; use Accept=yes";
			return -1;
		}
		return 0;
	}
	if (is_stream_socket(STDIN_FILENO)) {
		cs->fd = STDIN_FILENO;
		cs->inetd = 1;
		return 0;
	}
	*why = "no socket: postern runs per connection, started by systemd "
	       "socket activation (Accept=yes) or inetd";
	return -1;
}

const struct server_conf *front_pick_server(const struct conf *c,
                                            const char *server,
                                            const struct client_socket *cs)
{
	const struct server_conf *s;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (server)
		return conf_by_name(c, server);
	if (cs->name[0] && (s = conf_by_name(c, cs->name)))
		return s;
	if (getsockname(cs->fd, (struct sockaddr *)&ss, &len) < 0)
		return NULL;
	return conf_by_port(c, addr_port((struct sockaddr *)&ss));
}

void front_early_error(const char *ident, const struct client_socket *cs,
                       const char *what, const char *why)
{
	if (!cs || !cs->inetd)
		fprintf(stderr, "%s: %s: %s\n", ident, what, why);
	logmsg(LOG_ERR, "event=startup_error what=\"%s\" reason=\"%s\"", what,
	       LOGV(why));
}

/* A client that would otherwise wait for a greeting hears the protocol's
 * temporary failure, in the protocol its socket's name or port speaks. */
void front_unavailable(const struct client_socket *cs)
{
	static const int tls_ports[] = { 993, 995, 465, 0 };
	const struct protocol *p = proto_find(cs->name);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	size_t n = strlen(cs->name);
	int port = 0;

	if (getsockname(cs->fd, (struct sockaddr *)&ss, &len) == 0)
		port = addr_port((struct sockaddr *)&ss);
	for (const int *t = tls_ports; *t; t++)
		if (port == *t)
			return;
	if (n > 1 && cs->name[n - 1] == 's' && !p)
		return;      /* imaps, pop3s, smtps */
	if (!p)
		p = proto_by_port(port);
	if (p && p->unavailable)
		send(cs->fd, p->unavailable, strlen(p->unavailable),
		     MSG_DONTWAIT | MSG_NOSIGNAL);
}

static int front_start(const char *ident, const char *image,
                       const char *server, int speak,
                       struct client_socket *cs, struct conf *c,
                       const struct server_conf **sc)
{
	const char *why = NULL;
	char err[512];

	if (front_find_socket(cs, &why) < 0) {
		log_open(ident, "auto", LOG_INFO, 0);
		front_early_error(ident, NULL, "start", why);
		return EXIT_USAGE;
	}
	log_open(ident, "auto", LOG_INFO, cs->inetd);
	net_client_options(cs->fd);
	if (conf_image_load_waiting(image, c, err, sizeof err,
	                            CONF_IMAGE_UPGRADE_WAIT_MS) < 0) {
		front_early_error(ident, cs, "configuration", err);
		if (speak)
			front_unavailable(cs);
		return EXIT_USAGE;
	}
	*sc = front_pick_server(c, server, cs);
	if (!*sc) {
		front_early_error(ident, cs, "server selection",
		                  "no server section matches the socket name, "
		                  "-s, or the local port");
		if (speak)
			front_unavailable(cs);
		conf_free(c);
		return EXIT_USAGE;
	}
	if (log_open(ident, (*sc)->error_log, (*sc)->log_level, cs->inetd) < 0)
		logmsg(LOG_ERR, "event=log_error target=\"%s\"", (*sc)->error_log);
	logmsg(LOG_DEBUG, "event=config image=\"%s\"", LOGV(image));
	if (sandbox_front(&why) < 0)
		logmsg(LOG_WARNING, "event=sandbox_failed reason=\"%s\"", why);
	return EXIT_DONE;
}

/* The session on the section's socket. */
static int open_session(const struct front_program *p,
                        const struct server_conf *sc, int fd, int inetd,
                        struct session *s)
{
	if (p->nonblocking)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (session_init(s, sc, fd, inetd, p->ops(sc), p->ctx) < 0) {
		logmsg(LOG_ERR, "event=internal_error reason=\"out of memory\"");
		return -1;
	}
	return 0;
}

/* The connection's first log line. */
static void log_connect(const struct session *s)
{
	char peer[ADDR_TEXT_MAX + 8] = "";

	/* Behind a load balancer, both. */
	if (s->peer.len != s->client_addr.len ||
	    memcmp(&s->peer.ss, &s->client_addr.ss, s->peer.len) != 0) {
		memcpy(peer, " peer=", 6);
		addr_format((const struct sockaddr *)&s->peer.ss, peer + 6,
		            sizeof peer - 6);
	}
	logmsg(LOG_INFO, "event=connect client=%s%s server=%s protocol=%s tls=%s",
	       s->client, peer, s->conf->name, s->proto->name,
	       s->conf->ssl ? "implicit" : "no");
}

int front_begin(const struct front_program *p, const struct front_options *o,
                struct session *s, struct conf *c)
{
	const struct server_conf *sc;
	struct client_socket cs;
	int rc;

	/* Before the configuration, the client or a password is in memory. */
	sandbox_undumpable();
	rc = front_start(p->ident, o->image, o->server, p->speak, &cs, c, &sc);
	if (rc != EXIT_DONE)
		return rc;
	if (open_session(p, sc, cs.fd, cs.inetd, s) < 0) {
		conf_free(c);
		return EXIT_TEMPORARY;
	}
	log_set_session(s->id);
	if (front_door(s) < 0) {
		session_close(s);
		session_free(s);
		conf_free(c);
		return EXIT_DONE;
	}
	log_connect(s);
	return FRONT_GO_ON;
}

int front_resume(const struct front_program *p, const struct crossing *x,
                 struct session *s, struct conf *c)
{
	const struct server_conf *sc;
	char err[512];

	sandbox_undumpable();
	log_open(p->ident, *x->log ? x->log : "auto", LOG_INFO, x->inetd);
	log_set_session(x->session);
	if (fcntl(CONTRACT_CLIENT_FD, F_GETFD) < 0) {
		logmsg(LOG_ERR, "event=usage reason=\"fd %d must be the client "
		       "socket; postern starts %s\"", CONTRACT_CLIENT_FD, p->ident);
		return EXIT_USAGE;
	}
	/* The image the front read: the same configuration. */
	if (conf_image_load_waiting(x->config, c, err, sizeof err,
	                            CONF_IMAGE_UPGRADE_WAIT_MS) < 0) {
		logmsg(LOG_ERR, "event=startup_error what=configuration "
		       "reason=\"%s\"", LOGV(err));
		return EXIT_USAGE;
	}
	sc = conf_by_name(c, x->server);
	if (!sc) {
		logmsg(LOG_ERR, "event=startup_error what=\"server selection\" "
		       "reason=\"no server section %s\"",
		       *x->server ? x->server : "(unset)");
		conf_free(c);
		return EXIT_USAGE;
	}
	log_open(p->ident, sc->error_log, sc->log_level, x->inetd);
	if (open_session(p, sc, CONTRACT_CLIENT_FD, x->inetd, s) < 0) {
		conf_free(c);
		return EXIT_TEMPORARY;
	}
	session_continue(s, x);
	return FRONT_GO_ON;
}
