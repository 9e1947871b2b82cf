/* What a program started per connection by systemd or inetd does before
 * the session: find the socket it was given, pick the server section, and
 * say so when it cannot. postern does it for every connection; postern-tls
 * does it when a TLS socket starts it directly (no front exec first). */
#ifndef POSTERN_FRONT_H
#define POSTERN_FRONT_H

#include "conf.h"
#include "session.h"

#include <stdio.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define FRONT_DEFAULT_CONFIG SYSCONFDIR "/postern/postern.conf"

/* A per-connection program's command line: -c, -a, -s, -h, -V, and for
 * postern -t, -A and -u. */
struct front_program {
	const char *ident;       /* for -V */
	int operator_modes;      /* takes -t and -A */
	void (*usage)(FILE *f);
};

struct front_options {
	const char *config;      /* -c; for -t and -A, the edited file */
	const char *active;      /* -a */
	const char *server;      /* -s */
	int test, activate;      /* -t, -A */
	const char *user;        /* -u: whom -t and -A check files as */
	/* What a connection reads: the image of -c's file when given, else
	 * of the active copy's. */
	char image[4096];
};

/* FRONT_GO_ON with o filled; else the exit code, the usage or the
 * version printed. */
#define FRONT_GO_ON (-1)
int front_options(int argc, char **argv, const struct front_program *p,
                  struct front_options *o);

struct client_socket {
	int fd;
	int inetd;
	char name[64];   /* FileDescriptorName=, "" under inetd */
};

/* systemd's fd 3 (Accept=yes), or inetd's fd 0; -1 with *why. */
int front_find_socket(struct client_socket *cs, const char **why);

/* -s NAME when given, else the socket's name, else the local port. */
const struct server_conf *front_pick_server(const struct conf *c,
                                            const char *server,
                                            const struct client_socket *cs);

/* Before the config names a log target: stderr when that is not the
 * client, and the log. */
void front_early_error(const char *ident, const struct client_socket *cs,
                       const char *what, const char *why);

/* The protocol's temporary failure, when the config cannot be used;
 * nothing on a TLS port, where nothing can be said in clear. */
void front_unavailable(const struct client_socket *cs);

/* The start every per-connection program shares: the socket, the log,
 * the client socket's options, the configuration's image and the section
 * (whose log is then opened), then the front's sandbox. 0 with *c loaded
 * (conf_free it) and *sc its section, or an exit code after saying why.
 * With speak, a client that would wait for a greeting hears the
 * protocol's temporary failure when the configuration cannot be used. */
int front_start(const char *ident, const char *image, const char *server,
                int speak, struct client_socket *cs, struct conf *c,
                const struct server_conf **sc);

/* The connection's first log line. */
void front_log_connect(const struct session *s);

#endif
