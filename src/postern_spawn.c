/* postern-spawn: systemd's Accept=yes for sockets passed in listening,
 * as Podman's socket activation passes them into a container (LISTEN_FDS,
 * with LISTEN_PID=1 there). It accepts on each and starts one postern
 * per connection with the connected socket at fd 3 and LISTEN_FDS=1,
 * LISTEN_FDNAMES=<the listening socket's name>: the same start systemd
 * gives it. It holds no session and reads nothing from clients; it counts
 * connections, as a socket unit's MaxConnections= and
 * MaxConnectionsPerSource= do, and closes those over the limits at once.
 * libc only.
 *
 *   postern-spawn [-m MAX] [-p PER_SOURCE] [-t NAME=PROGRAM]... PROGRAM [ARG...] */
#include "addr.h"
#include "listen_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LISTENERS_MAX 16
#define CHILDREN_MAX 4096
#define PROGRAMS_MAX 16

struct child {
	pid_t pid;
	struct sockaddr_storage peer;   /* its address, port zeroed */
};

struct listener {
	int fd;
	char name[64];
};

static struct child children[CHILDREN_MAX];
static size_t nchildren;
/* Only to wake poll(); reap() does the work. */
static void on_child(int sig)
{
	(void)sig;
}

/* The address without its port: per-source limits count hosts. */
static void host_of(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = 0;
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = 0;
}

static size_t from_source(const struct sockaddr_storage *ss)
{
	size_t n = 0;

	for (size_t i = 0; i < nchildren; i++)
		n += memcmp(&children[i].peer, ss, sizeof *ss) == 0;
	return n;
}

static void reap(void)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (size_t i = 0; i < nchildren; i++)
			if (children[i].pid == pid) {
				children[i] = children[--nchildren];
				break;
			}
}

/* The environment of a socket-activated start, and the exec. */
static void start(int conn, const char *name, char **argv)
{
	char pid[32];

	if (dup2(conn, LISTEN_FDS_START) < 0)
		_exit(111);
	if (conn != LISTEN_FDS_START)
		close(conn);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", name, 1);
	signal(SIGCHLD, SIG_DFL);
	execv(argv[0], argv);
	fprintf(stderr, "postern-spawn: %s: %s\n", argv[0], strerror(errno));
	_exit(111);
}

struct config {
	size_t max, per_source;
	struct { const char *name; char *program; } programs[PROGRAMS_MAX];
	size_t nprograms;
	char **argv;
};

static void serve(const struct config *cf, const struct listener *l)
{
	/* Zeroed: accept fills only the address's own length, and peers
	 * are compared whole. */
	struct sockaddr_storage peer = { 0 };
	socklen_t len = sizeof peer;
	char text[ADDR_TEXT_MAX], *argv[64];
	int conn = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	pid_t pid;

	if (conn < 0)
		return;
	addr_unmap(&peer, &len);
	host_of(&peer);
	if (nchildren >= cf->max || from_source(&peer) >= cf->per_source) {
		addr_format((struct sockaddr *)&peer, text, sizeof text);
		fprintf(stderr, "postern-spawn: %s: refused (%s)\n", text,
		        nchildren >= cf->max ? "max connections"
		                             : "max connections per source");
		close(conn);
		return;
	}
	/* The arguments are the same for every socket; the program may be
	 * another for some (postern-tls for the TLS ones). */
	memcpy(argv, cf->argv, sizeof argv);
	for (size_t i = 0; i < cf->nprograms; i++)
		if (strcmp(cf->programs[i].name, l->name) == 0)
			argv[0] = cf->programs[i].program;
	pid = fork();
	if (pid == 0)
		start(conn, l->name, argv);
	close(conn);
	if (pid > 0) {
		children[nchildren].pid = pid;
		children[nchildren].peer = peer;
		nchildren++;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: postern-spawn [-m MAX] [-p PER_SOURCE] "
	                "[-t NAME=PROGRAM]... PROGRAM [ARG...]\n"
	                "Accepts on the listening sockets passed in "
	                "(LISTEN_FDS) and starts\nPROGRAM per connection as "
	                "systemd's Accept=yes would.\n");
	return 100;
}

int main(int argc, char **argv)
{
	struct config cf = { .max = 512, .per_source = 32 };
	struct sigaction sa = { .sa_handler = on_child };
	struct listener ls[LISTENERS_MAX];
	char names[1024] = "", *save = NULL, *tok;
	const char *env_names = getenv("LISTEN_FDNAMES");
	static char *args[64];    /* NULL-terminated: 63 at most */
	int n, c;

	while ((c = getopt(argc, argv, "+m:p:t:")) != -1) {
		switch (c) {
		case 'm': cf.max = (size_t)atol(optarg); break;
		case 'p': cf.per_source = (size_t)atol(optarg); break;
		case 't': {
			char *eq = strchr(optarg, '=');

			if (!eq || cf.nprograms == PROGRAMS_MAX)
				return usage();
			*eq = '\0';
			cf.programs[cf.nprograms].name = optarg;
			cf.programs[cf.nprograms++].program = eq + 1;
			break;
		}
		default:
			return usage();
		}
	}
	if (optind >= argc || argc - optind >= 63 || cf.max == 0 ||
	    cf.max > CHILDREN_MAX || cf.per_source == 0)
		return usage();
	for (int i = optind; i < argc; i++)
		args[i - optind] = argv[i];
	cf.argv = args;
	snprintf(names, sizeof names, "%s", env_names ? env_names : "");
	n = listen_fds_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), NULL,
	                     (long)getpid(), (char[1]){ 0 }, 1);
	if (n <= 0 || n > LISTENERS_MAX) {
		fprintf(stderr, "postern-spawn: no listening sockets passed "
		                "(LISTEN_FDS, LISTEN_PID)\n");
		return 100;
	}
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	tok = strtok_r(names, ":", &save);
	for (int i = 0; i < n; i++) {
		ls[i].fd = LISTEN_FDS_START + i;
		fcntl(ls[i].fd, F_SETFD, FD_CLOEXEC);
		fcntl(ls[i].fd, F_SETFL, fcntl(ls[i].fd, F_GETFL) | O_NONBLOCK);
		snprintf(ls[i].name, sizeof ls[i].name, "%s", tok ? tok : "");
		tok = tok ? strtok_r(NULL, ":", &save) : NULL;
	}
	sigaction(SIGCHLD, &sa, NULL);   /* no SA_RESTART: poll returns */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd p[LISTENERS_MAX];

		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = ls[i].fd, .events = POLLIN };
		/* A second at most, so children are reaped even when no one
		 * connects. */
		if (poll(p, (nfds_t)n, 1000) < 0 && errno != EINTR)
			return 111;
		reap();
		for (int i = 0; i < n; i++)
			if (p[i].revents & POLLIN)
				serve(&cf, &ls[i]);
	}
}
