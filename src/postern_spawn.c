/* postern-spawn: systemd's Accept=yes for listening sockets, and the
 * container image's PID 1. It accepts on each listening socket and starts
 * one postern per connection with the connected socket at fd 3 and
 * LISTEN_FDS=1, LISTEN_FDNAMES=<a section's name>: the start systemd gives
 * it. It holds no session and reads nothing from clients; it counts
 * connections, as a socket unit's MaxConnections= and
 * MaxConnectionsPerSource= do, and closes those over the limits at once.
 * libc only (the configuration's image is read by libc code too).
 *
 * A connection's section is named one of two ways:
 *  - by its socket's name (LISTEN_FDNAMES), as passed in; -t NAME=PROGRAM
 *    starts another program for a name (postern-tls for imaps);
 *  - with -a ACTIVE, by its socket's port: the one section of the image
 *    of ACTIVE (made by postern -A) that listens on it, started as the
 *    section's tls_program when it has ssl. Names are only what an
 *    importer or an editor chose; a port is what a client reached. A port
 *    with no section, or with two, stops the start with the reason.
 *
 * As a container's entry point: -A CONFIG runs the reload gate first
 * (PROGRAM -A -c CONFIG -a ACTIVE), -l listens on every section's port
 * when no sockets were passed in, and -u UID:GID then leaves root for
 * good. SIGTERM and SIGINT end it at once: as PID 1 it would ignore them
 * without a handler, and its end is the end of every session there.
 *
 *   postern-spawn [-m MAX] [-p PER_SOURCE] [-t NAME=PROGRAM]...
 *                 [-a ACTIVE [-A CONFIG] [-l] [-u UID:GID]] PROGRAM [ARG...]
 */
#include "addr.h"
#include "clock.h"
#include "conf.h"
#include "conf_image.h"
#include "listen_fds.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LISTENERS_MAX 16
#define CHILDREN_MAX 4096
#define PROGRAMS_MAX 16
#define ARGS_MAX 64             /* PROGRAM [ARG...] and the NULL */
/* The gate reads the text and every TLS file it names; far less than
 * this, unless something hangs. */
#define GATE_DEADLINE_MS 60000

enum { SPAWN_USAGE = 100, SPAWN_TEMPORARY = 111 };

struct child {
	pid_t pid;
	struct sockaddr_storage peer;   /* its address, port zeroed */
};

struct listener {
	int fd;
	int port;                       /* its local port */
	char name[64];                  /* LISTEN_FDNAMES of its connections */
	char program[PATH_MAX];         /* "": PROGRAM */
};

struct config {
	size_t max, per_source;
	struct { const char *name; char *program; } programs[PROGRAMS_MAX];
	size_t nprograms;
	const char *active;             /* -a: sections by port */
	const char *gate;               /* -A: the file the operator edits */
	int listen;                     /* -l */
	int drop;                       /* -u given */
	uid_t uid;
	gid_t gid;
	char *argv[ARGS_MAX];           /* PROGRAM [ARG...] */
};

static struct child children[CHILDREN_MAX];
static size_t nchildren;
static struct listener ls[LISTENERS_MAX];
static size_t nls;

/* Only to wake poll(); reap() does the work. */
static void on_child(int sig)
{
	(void)sig;
}

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("postern-spawn: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- sections by port ---------------------------------------------- */

/* The one section that listens on port. */
static const struct server_conf *section_at(const struct conf *c, int port,
                                            char *why, size_t size)
{
	const struct server_conf *found = NULL;

	for (size_t i = 0; i < c->nservers; i++) {
		if (c->servers[i].listen_port != port)
			continue;
		if (found) {
			snprintf(why, size, "port %d: sections %s and %s both "
			         "listen on it", port, found->name,
			         c->servers[i].name);
			return NULL;
		}
		found = &c->servers[i];
	}
	if (!found)
		snprintf(why, size, "port %d: no section listens on it", port);
	return found;
}

/* The image of the active copy, the only form anything but postern -A
 * reads: 0, or -1 with its reader's reason. */
static int load_image(const struct config *cf, struct conf *c, char *why,
                      size_t size)
{
	char image[PATH_MAX];

	if (conf_image_path(cf->active, image, sizeof image) < 0) {
		snprintf(why, size, "%s: path too long", cf->active);
		return -1;
	}
	return conf_image_load(image, c, why, size);
}

/* Every listener's section and program, from the image: all or none. */
static int name_listeners(const struct config *cf, char *why, size_t size)
{
	struct { char name[64]; char program[PATH_MAX]; } next[LISTENERS_MAX];
	struct conf c;
	int rc = load_image(cf, &c, why, size);

	if (rc < 0)
		return -1;
	for (size_t i = 0; i < nls && rc == 0; i++) {
		const struct server_conf *sc = section_at(&c, ls[i].port, why,
		                                          size);
		const char *program = sc && sc->ssl ? sc->tls_program
		                                    : cf->argv[0];

		if (!sc)
			rc = -1;
		else if (snprintf(next[i].name, sizeof next[i].name, "%s",
		                  sc->name) >= (int)sizeof next[i].name ||
		         snprintf(next[i].program, sizeof next[i].program, "%s",
		                  program) >= (int)sizeof next[i].program) {
			snprintf(why, size, "section %s: its name or program is "
			         "too long", sc->name);
			rc = -1;
		}
	}
	conf_free(&c);
	for (size_t i = 0; i < nls && rc == 0; i++) {
		memcpy(ls[i].name, next[i].name, sizeof ls[i].name);
		memcpy(ls[i].program, next[i].program, sizeof ls[i].program);
	}
	return rc;
}

/* -l: a listener for each port a section names. Two sections on one port
 * are name_listeners's to refuse. */
static int plan_listeners(const struct config *cf, char *why, size_t size)
{
	struct conf c;
	int rc = load_image(cf, &c, why, size);

	if (rc < 0)
		return -1;
	for (size_t i = 0; i < c.nservers && rc == 0; i++) {
		int port = c.servers[i].listen_port;
		size_t k = 0;

		while (k < nls && ls[k].port != port)
			k++;
		if (!port) {
			snprintf(why, size, "section %s: no listen port (-l "
			         "listens on the ports sections name)",
			         c.servers[i].name);
			rc = -1;
		} else if (k == nls && nls == LISTENERS_MAX) {
			snprintf(why, size, "more than %d ports", LISTENERS_MAX);
			rc = -1;
		} else if (k == nls) {
			ls[nls++] = (struct listener){ .fd = -1, .port = port };
		}
	}
	if (rc == 0 && nls == 0) {
		snprintf(why, size, "%s: no server section", cf->active);
		rc = -1;
	}
	conf_free(&c);
	return rc;
}

/* The image the sections were named from; when postern -A makes another,
 * the next connection's section comes from it. One stat per connection. */
static struct stat tried;

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void image_stat(const struct config *cf, struct stat *st)
{
	char path[PATH_MAX];

	memset(st, 0, sizeof *st);
	if (conf_image_path(cf->active, path, sizeof path) == 0)
		stat(path, st);
}

static void say_serving(void)
{
	for (size_t i = 0; i < nls; i++)
		say("port %d: section %s%s%s", ls[i].port, ls[i].name,
		    ls[i].program[0] ? ", " : "", ls[i].program);
}

static void refresh(const struct config *cf)
{
	struct stat st;
	char why[512];

	image_stat(cf, &st);
	if (same_file(&st, &tried))
		return;
	tried = st;
	if (name_listeners(cf, why, sizeof why) < 0)
		say("%s; the sections stay as they were", why);
	else
		say_serving();
}

/* ---- sockets --------------------------------------------------------- */

/* Every address of the container: IPv6 taking IPv4 too where there is
 * IPv6 (postern reports those clients in their IPv4 form), else IPv4. */
static int listen_on(int port, char *why, size_t size)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
	                           .sin6_port = htons((uint16_t)port),
	                           .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
	                          .sin_port = htons((uint16_t)port) };
	int on = 1, off = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 &&
	    (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0 ||
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	     bind(fd, (struct sockaddr *)&a6, sizeof a6) < 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 &&
		    (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
		     bind(fd, (struct sockaddr *)&a4, sizeof a4) < 0)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(why, size, "port %d: cannot listen: %s", port,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A passed descriptor accept cannot take a connection from (a socket
 * unit's ListenDatagram= or ListenFIFO=, one that LISTEN_FDS counts but
 * that is not open) is ready to poll for ever and fails every accept: a
 * loop at full CPU, serving no one. */
static int accepts(int fd)
{
	int on = 0, type = 0;
	socklen_t on_len = sizeof on, type_len = sizeof type;

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &on_len) == 0 &&
	       on &&
	       getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 &&
	       type == SOCK_STREAM;
}

/* The sockets passed in, each named as LISTEN_FDNAMES says: -1 with the
 * reason if one is not a listening stream socket. */
static int take_passed(int n, char *why, size_t size)
{
	char names[1024] = "", *save = NULL, *tok;
	const char *env = getenv("LISTEN_FDNAMES");

	snprintf(names, sizeof names, "%s", env ? env : "");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	tok = strtok_r(names, ":", &save);
	for (int i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;

		ls[i].fd = LISTEN_FDS_START + i;
		ls[i].port = getsockname(ls[i].fd, (struct sockaddr *)&ss,
		                         &len) == 0
		             ? addr_port((struct sockaddr *)&ss) : 0;
		snprintf(ls[i].name, sizeof ls[i].name, "%s", tok ? tok : "");
		ls[i].program[0] = '\0';
		tok = tok ? strtok_r(NULL, ":", &save) : NULL;
		if (!accepts(ls[i].fd)) {
			snprintf(why, size, "fd %d (%s): not a listening stream "
			         "socket", ls[i].fd, ls[i].name);
			return -1;
		}
	}
	nls = (size_t)n;
	return 0;
}

static void make_ready(void)
{
	for (size_t i = 0; i < nls; i++) {
		fcntl(ls[i].fd, F_SETFD, FD_CLOEXEC);
		fcntl(ls[i].fd, F_SETFL, fcntl(ls[i].fd, F_GETFL) | O_NONBLOCK);
	}
}

/* ---- the gate and the user ------------------------------------------- */

static const char *status_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
	else
		snprintf(buf, size, "signal %d",
		         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return buf;
}

/* Its parent directory made (a tmpfs /run starts empty), then PROGRAM -A:
 * a configuration that does not pass stops the start, before any port
 * is listened on. The gate says why on stderr. */
static int run_gate(const struct config *cf)
{
	char *argv[] = { cf->argv[0], "-A", "-c", (char *)cf->gate, "-a",
	                 (char *)cf->active, NULL };
	char dir[PATH_MAX], text[32], *slash;
	int64_t deadline = clock_ms() + GATE_DEADLINE_MS;
	int status = 0;
	pid_t pid, r;

	snprintf(dir, sizeof dir, "%s", cf->active);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			say("%s: %s", dir, strerror(errno));
	}
	if ((pid = fork()) < 0) {
		say("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		say("%s: %s", argv[0], strerror(errno));
		_exit(SPAWN_TEMPORARY);
	}
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	       clock_left(deadline) > 0)
		poll(NULL, 0, 20);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		say("%s: the reload gate did not end within %d s; not starting",
		    cf->gate, GATE_DEADLINE_MS / 1000);
		return -1;
	}
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say("%s did not pass the reload gate (%s); not starting",
		    cf->gate, status_text(status, text, sizeof text));
		return -1;
	}
	return 0;
}

/* For good: no way back to root, no supplementary groups of root's. */
static int leave_root(const struct config *cf)
{
	if (!cf->drop || geteuid() != 0)
		return 0;
	if (sandbox_become(cf->uid, cf->gid) < 0) {
		say("cannot run as %lu:%lu: %s", (unsigned long)cf->uid,
		    (unsigned long)cf->gid, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- connections ------------------------------------------------------ */

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

/* A refusal costs a client one connect, and one address at its limit can
 * be refused thousands of times a second. A line each would fill the
 * journal, and past journald's rate limit for the unit the sessions' own
 * lines (the failed logins a ban tool reads) would be dropped with them.
 * So one line a second at most: the first refusal of a second is told
 * with its address, the others are counted by kind and told as counts. */
enum refusal { OVER_MAX, OVER_PER_SOURCE, NO_START, NREFUSALS };
static const char *const refusal_text[NREFUSALS] = {
	"max connections", "max connections per source",
	"cannot start a session",
};
#define REFUSALS_EVERY_MS 1000
static int64_t refusals_told = -REFUSALS_EVERY_MS;
static unsigned long untold[NREFUSALS];

static void tell_untold(void)
{
	for (int k = 0; k < NREFUSALS; k++)
		if (untold[k]) {
			say("%lu more refused (%s)", untold[k], refusal_text[k]);
			untold[k] = 0;
		}
}

static void refused(enum refusal k, const struct sockaddr_storage *peer,
                    const char *detail)
{
	int64_t now = clock_ms();
	char ip[ADDR_TEXT_MAX];

	if (now - refusals_told < REFUSALS_EVERY_MS) {
		untold[k]++;
		return;
	}
	tell_untold();
	addr_format_ip((const struct sockaddr *)peer, ip, sizeof ip);
	say("%s: refused (%s%s%s)", ip, refusal_text[k], detail ? ": " : "",
	    detail ? detail : "");
	refusals_told = now;
}

/* From the loop: the counts of a flood that stopped, a second on. */
static void tell_refusals(void)
{
	int64_t now = clock_ms();
	unsigned long any = 0;

	for (int k = 0; k < NREFUSALS; k++)
		any |= untold[k];
	if (any && now - refusals_told >= REFUSALS_EVERY_MS) {
		tell_untold();
		refusals_told = now;
	}
}

/* A client that reconnects the moment its last session said goodbye
 * (a poller, a health check, a script's next step) finds that session's
 * process still exiting: the goodbye was written before the exit. Over a
 * limit, the children get a moment to finish before the new connection is
 * refused, so that only sessions that are still open count. The moment is
 * short and rationed (GRACE_MS at most once per GRACE_EVERY_MS), so that a
 * flood from one address cannot hold up everyone else's accepts. */
#define GRACE_MS 25
#define GRACE_EVERY_MS 250

static int over(const struct config *cf, const struct sockaddr_storage *peer)
{
	return nchildren >= cf->max || from_source(peer) >= cf->per_source;
}

static int over_after_grace(const struct config *cf,
                            const struct sockaddr_storage *peer)
{
	static int64_t last;
	int64_t now = clock_ms(), until = now + GRACE_MS;

	if (!over(cf, peer))
		return 0;
	if (now - last < GRACE_EVERY_MS)
		return 1;
	last = now;
	while (over(cf, peer) && clock_ms() < until) {
		struct timespec step = { 0, 2 * 1000 * 1000 };

		nanosleep(&step, NULL);
		reap();
	}
	return over(cf, peer);
}

/* The start systemd gives a service: fds 0-2 and the connection at 3,
 * whatever else this process was left by what started it (a container
 * runtime's descriptor, an ignored SIGHUP); every signal at its default
 * (but the C library's own two, which it lets no program set), none
 * blocked (main unblocked them). The environment of a
 * socket-activated start, and the exec. */
static void start(int conn, const char *name, char **argv)
{
	char pid[32];

	if (dup2(conn, LISTEN_FDS_START) < 0)
		_exit(SPAWN_TEMPORARY);
	/* The system call, not glibc's wrapper: musl has none. */
	syscall(SYS_close_range, LISTEN_FDS_START + 1, ~0U, 0);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", name, 1);
	execv(argv[0], argv);
	say("%s: %s", argv[0], strerror(errno));
	_exit(SPAWN_TEMPORARY);
}

/* The program for a listener: its section's in port mode, else -t's for
 * its name, else PROGRAM. The arguments are the same for all. */
static char *program_for(const struct config *cf, struct listener *l)
{
	if (l->program[0])
		return l->program;
	for (size_t i = 0; i < cf->nprograms; i++)
		if (strcmp(cf->programs[i].name, l->name) == 0)
			return cf->programs[i].program;
	return cf->argv[0];
}

static void serve(const struct config *cf, struct listener *l)
{
	/* Zeroed: accept fills only the address's own length, and peers
	 * are compared whole. */
	struct sockaddr_storage peer = { 0 };
	socklen_t len = sizeof peer;
	char *argv[ARGS_MAX];
	int conn = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	int err;
	pid_t pid;

	if (conn < 0)
		return;
	addr_unmap(&peer, &len);
	host_of(&peer);
	if (over_after_grace(cf, &peer)) {
		close(conn);
		refused(nchildren >= cf->max ? OVER_MAX : OVER_PER_SOURCE,
		        &peer, NULL);
		return;
	}
	if (cf->active)
		refresh(cf);
	memcpy(argv, cf->argv, sizeof argv);
	argv[0] = program_for(cf, l);
	pid = fork();
	if (pid == 0)
		start(conn, l->name, argv);
	err = errno;
	close(conn);
	if (pid < 0) {
		/* Past the service's TasksMax, its user's RLIMIT_NPROC. */
		refused(NO_START, &peer, strerror(err));
		return;
	}
	children[nchildren].pid = pid;
	children[nchildren].peer = peer;
	nchildren++;
}

/* ---- start ------------------------------------------------------------ */

/* The shipped services' figures (postern(8) SIZING), so that a spawner
 * started without them (the container's, by hand) limits as they do. */
enum { DEFAULT_MAX = 512, DEFAULT_PER_SOURCE = 128 };

static int usage(void)
{
	fprintf(stderr,
	        "usage: postern-spawn [-m MAX (%d)] [-p PER_SOURCE (%d)] "
	        "[-t NAME=PROGRAM]...\n"
	        "                     [-a ACTIVE [-A CONFIG] [-l] [-u UID:GID]]"
	        " PROGRAM [ARG...]\n"
	        "Accepts on the listening sockets passed in (LISTEN_FDS), or "
	        "with -l on\nevery section's port, and starts PROGRAM per "
	        "connection as systemd's\nAccept=yes would; with -a the "
	        "section is the one listening on the port.\n",
	        DEFAULT_MAX, DEFAULT_PER_SOURCE);
	return SPAWN_USAGE;
}

/* A limit: digits and nothing else, as a drop-in's SESSIONS_MAX may be
 * written "2k" or "-1", which atol read as 2 and as no limit. Anything
 * else, and a number past unsigned long, is 0, which parse refuses. */
static size_t parse_limit(const char *s)
{
	char *end;
	unsigned long n;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	n = strtoul(s, &end, 10);
	return *end || errno ? 0 : (size_t)n;
}

static int parse_user(const char *s, struct config *cf)
{
	char *end;
	unsigned long uid = strtoul(s, &end, 10), gid;

	if (end == s || *end != ':')
		return -1;
	s = end + 1;
	gid = strtoul(s, &end, 10);
	if (end == s || *end || uid > 0x7fffffff || gid > 0x7fffffff)
		return -1;
	cf->uid = (uid_t)uid;
	cf->gid = (gid_t)gid;
	cf->drop = 1;
	return 0;
}

static int parse(int argc, char **argv, struct config *cf)
{
	int c;

	while ((c = getopt(argc, argv, "+m:p:t:a:A:lu:")) != -1) {
		char *eq = c == 't' ? strchr(optarg, '=') : NULL;

		switch (c) {
		case 'm': cf->max = parse_limit(optarg); break;
		case 'p': cf->per_source = parse_limit(optarg); break;
		case 'a': cf->active = optarg; break;
		case 'A': cf->gate = optarg; break;
		case 'l': cf->listen = 1; break;
		case 'u':
			if (parse_user(optarg, cf) < 0)
				return -1;
			break;
		case 't':
			if (!eq || cf->nprograms == PROGRAMS_MAX)
				return -1;
			*eq = '\0';
			cf->programs[cf->nprograms].name = optarg;
			cf->programs[cf->nprograms++].program = eq + 1;
			break;
		default:
			return -1;
		}
	}
	if (optind >= argc || argc - optind >= ARGS_MAX || cf->max == 0 ||
	    cf->max > CHILDREN_MAX || cf->per_source == 0 ||
	    ((cf->gate || cf->listen || cf->drop) && !cf->active))
		return -1;
	for (int i = optind; i < argc; i++)
		cf->argv[i - optind] = argv[i];
	return 0;
}

/* Gate, sockets, sections, user: each stops the start with its reason. */
static int prepare(struct config *cf)
{
	char why[512];
	int n = listen_fds_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	                         NULL, (long)getpid(), (char[1]){ 0 }, 1);

	if (n < 0 || n > LISTENERS_MAX || (n == 0 && !cf->listen)) {
		say("no listening sockets passed (LISTEN_FDS, LISTEN_PID)%s",
		    n > LISTENERS_MAX ? ": too many" : "");
		return SPAWN_USAGE;
	}
	/* Taken first: the gate must not find them, nor their variables. */
	if (n > 0) {
		if (take_passed(n, why, sizeof why) < 0) {
			say("%s; not starting", why);
			return SPAWN_USAGE;
		}
		make_ready();
	}
	if (cf->gate && run_gate(cf) < 0)
		return SPAWN_USAGE;
	if (n == 0 && plan_listeners(cf, why, sizeof why) < 0) {
		say("%s; not starting", why);
		return SPAWN_USAGE;
	}
	if (cf->active) {
		image_stat(cf, &tried);
		if (name_listeners(cf, why, sizeof why) < 0) {
			say("%s; not starting", why);
			return SPAWN_USAGE;
		}
	}
	for (size_t i = 0; i < nls; i++)
		if (ls[i].fd < 0 &&
		    (ls[i].fd = listen_on(ls[i].port, why, sizeof why)) < 0) {
			say("%s; not starting", why);
			return SPAWN_TEMPORARY;
		}
	make_ready();
	if (leave_root(cf) < 0)
		return SPAWN_TEMPORARY;
	if (cf->active)
		say_serving();
	return 0;
}

int main(int argc, char **argv)
{
	struct config cf = { .max = DEFAULT_MAX,
	                     .per_source = DEFAULT_PER_SOURCE };
	struct sigaction child = { .sa_handler = on_child };
	struct sigaction stop = { .sa_handler = on_stop };
	sigset_t none;
	int rc;

	/* Its sessions run as its user (the service's dynamic user, the
	 * container's 65532), and a process of one's own user that is
	 * dumpable lets /proc/PID/mem be opened and written: one session
	 * could then take over the listening sockets and everyone's next
	 * connection. Each session makes itself undumpable; so does this. */
	sandbox_undumpable();
	/* A mask left by what started it would hold SIGTERM and SIGCHLD
	 * here, and in every session. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	if (parse(argc, argv, &cf) < 0)
		return usage();
	if ((rc = prepare(&cf)) != 0)
		return rc;
	sigaction(SIGCHLD, &child, NULL);   /* no SA_RESTART: poll returns */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd p[LISTENERS_MAX];

		for (size_t i = 0; i < nls; i++)
			p[i] = (struct pollfd){ .fd = ls[i].fd, .events = POLLIN };
		/* A second at most, so children are reaped even when no one
		 * connects. */
		if (poll(p, (nfds_t)nls, 1000) < 0 && errno != EINTR)
			return SPAWN_TEMPORARY;
		reap();
		tell_refusals();
		for (size_t i = 0; i < nls; i++)
			if (p[i].revents & POLLIN)
				serve(&cf, &ls[i]);
	}
}
