/* What a program started per connection by systemd or inetd does before
 * the session: find the socket it was given, pick the server section, and
 * say so when it cannot. postern does it for every connection; postern-tls
 * does it when a TLS socket starts it directly (no front exec first). */
#ifndef POSTERN_FRONT_H
#define POSTERN_FRONT_H

#include "conf.h"
#include "exec_contract.h"
#include "session.h"

#include <stdio.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define FRONT_DEFAULT_CONFIG SYSCONFDIR "/postern/postern.conf"

/* What sets one per-connection program's start apart from another's:
 * its name, its command line (-c, -a, -s, -h, -V; postern's -t, -A and
 * -u), how it is started, and how its sessions run. */
struct front_program {
	const char *ident;       /* for -V, the usage and the log */
	int operator_modes;      /* takes -t, -A and -u */
	const char *started;     /* the usage's line on what starts it */
	/* May a client that waits for a greeting hear the temporary failure
	 * in clear? Not on a port that may be TLS. */
	int speak;
	/* GnuTLS reads and writes the socket itself: it must not block. */
	int nonblocking;
	/* The session's ops for its section, and their context. */
	const struct session_ops *(*ops)(const struct server_conf *sc);
	void *ctx;
};

/* The usage, from p. */
void front_usage(const struct front_program *p, FILE *f);

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

/* The one start of a session from a socket its spawner accepted: the
 * socket, the log, the client socket's options, the configuration's image
 * and the section (whose log is then opened), the front's sandbox, the
 * session, and the front door (access rules, PROXY header, the connect
 * line). FRONT_GO_ON with *s ready to serve and *c loaded (session_free,
 * then conf_free); else the exit code, the client told what it may be and
 * the log why. */
int front_begin(const struct front_program *p, const struct front_options *o,
                struct session *s, struct conf *c);

/* The same after an exec from another program of the session (postern
 * execs postern-tls): what the crossing says in place of the socket's
 * start and the door. FRONT_GO_ON or the exit code, as front_begin. */
int front_resume(const struct front_program *p, const struct crossing *x,
                 struct session *s, struct conf *c);


#endif
