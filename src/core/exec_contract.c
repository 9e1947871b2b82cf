#include "exec_contract.h"
#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Each variable once: its name and where it lives in struct crossing. */
enum kind { STR, I64, U64, UINT, INT };

static const struct var {
	const char *name;
	enum kind kind;
	size_t offset;
} vars[] = {
	{ "POSTERN_SESSION", STR, offsetof(struct crossing, session) },
	{ "POSTERN_STARTED_US", I64, offsetof(struct crossing, started_us) },
	{ "POSTERN_BYTES_IN", U64, offsetof(struct crossing, bytes_in) },
	{ "POSTERN_BYTES_OUT", U64, offsetof(struct crossing, bytes_out) },
	{ "POSTERN_ERRORS", UINT, offsetof(struct crossing, errors) },
	{ "POSTERN_CLIENT", STR, offsetof(struct crossing, client) },
	{ "POSTERN_LOCAL", STR, offsetof(struct crossing, local) },
	{ "POSTERN_PROXY_SRC", STR, offsetof(struct crossing, proxy_src) },
	{ "POSTERN_PROXY_DST", STR, offsetof(struct crossing, proxy_dst) },
	{ "POSTERN_USER", STR, offsetof(struct crossing, user) },
	{ "POSTERN_BACKEND", STR, offsetof(struct crossing, backend) },
	{ "POSTERN_LOG", STR, offsetof(struct crossing, log) },
	{ "POSTERN_LOG_LEVEL", INT, offsetof(struct crossing, log_level) },
	{ "POSTERN_INETD", INT, offsetof(struct crossing, inetd) },
	{ "POSTERN_PROXY_TIMEOUT_MS", I64,
	  offsetof(struct crossing, proxy_timeout_ms) },
	{ "POSTERN_GUARD", STR, offsetof(struct crossing, guard) },
	{ "POSTERN_DENY", STR, offsetof(struct crossing, deny) },
	{ "POSTERN_HIDE", STR, offsetof(struct crossing, hide) },
	{ "POSTERN_TLS", STR, offsetof(struct crossing, tls_mode) },
	{ "POSTERN_SERVER", STR, offsetof(struct crossing, server) },
	{ "POSTERN_CONFIG", STR, offsetof(struct crossing, config) },
};
#define NVARS (sizeof vars / sizeof vars[0])

/* What systemd gives the front that the next program needs as well: the
 * credentials directory (postern-tls's key) and the sign that stderr is
 * the journal (error_log auto); and a sanitizer build's options, so that
 * every program of a session reports where the tests look. */
static const char *const passed_on[] = { "CREDENTIALS_DIRECTORY",
	                                 "JOURNAL_STREAM", "ASAN_OPTIONS",
	                                 "UBSAN_OPTIONS" };
#define NPASSED (sizeof passed_on / sizeof passed_on[0])

static void *field(const struct crossing *x, const struct var *v)
{
	return (char *)x + v->offset;
}

void contract_read(struct crossing *x)
{
	memset(x, 0, sizeof *x);
	for (size_t i = 0; i < NVARS; i++) {
		const char *s = getenv(vars[i].name);
		void *f = field(x, &vars[i]);
		long long n;

		if (!s)
			s = "";
		n = strtoll(s, NULL, 10);
		switch (vars[i].kind) {
		case STR:
			*(const char **)f = s;
			break;
		case I64:
			*(int64_t *)f = n;
			break;
		case U64:
			*(uint64_t *)f = strtoull(s, NULL, 10);
			break;
		case UINT:
			*(unsigned *)f = n > 0 && n < 1000000 ? (unsigned)n : 0;
			break;
		case INT:
			*(int *)f = n > 0 && n < 1000000 ? (int)n : 0;
			break;
		}
	}
}

/* Out of the way first (fds 3-6 may be any of them now), then home. */
#define NPLACED 4
static int place(const int *from, const int *to, int n, const char **why)
{
	int tmp[NPLACED];

	for (int i = 0; i < n; i++) {
		tmp[i] = from[i] >= 0 ? fcntl(from[i], F_DUPFD_CLOEXEC, 10) : -1;
		if (from[i] >= 0 && tmp[i] < 0) {
			*why = strerror(errno);
			return -1;
		}
	}
	for (int i = 0; i < n; i++) {
		if (tmp[i] < 0)
			continue;
		if (dup2(tmp[i], to[i]) < 0) {
			*why = strerror(errno);
			return -1;
		}
		close(tmp[i]);
	}
	return 0;
}

int contract_place_fds_keys(int client, int backend, int leftover, int keys,
                            int inetd, const char **why)
{
	const int from[NPLACED] = { client, backend, leftover, keys };
	const int to[NPLACED] = { CONTRACT_CLIENT_FD, CONTRACT_BACKEND_FD,
		                  CONTRACT_LEFTOVER_FD, CONTRACT_KEYS_FD };
	int last = CONTRACT_CLIENT_FD;

	for (int i = 0; i < NPLACED; i++)
		if (from[i] >= 0)
			last = to[i];
	if (place(from, to, NPLACED, why) < 0)
		return -1;
	if (inetd) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0) {
			*why = strerror(errno);
			return -1;
		}
		for (int fd = 0; fd <= 2; fd++)
			if (fd != null)
				dup2(null, fd);
		if (null > 2)
			close(null);
	}
	for (int i = 0; i < NPLACED; i++)
		if (from[i] < 0 && to[i] < last)
			close(to[i]);
	/* The system call, not glibc's wrapper: musl (the relays) has none. */
	syscall(SYS_close_range, (unsigned)last + 1, ~0U, 0);
	return 0;
}

int contract_place_fds(int client, int backend, int leftover, int inetd,
                       const char **why)
{
	return contract_place_fds_keys(client, backend, leftover, -1, inetd,
	                               why);
}

/* The environment, packed into one fixed block: a config path is the
 * longest value, and PATH_MAX bounds it. Each variable is a string of
 * the block, its NUL kept. */
struct env {
	char block[8192];
	struct strbuf text;
	char *envp[NVARS + NPASSED + 1];
	size_t n;
};

static int put(struct env *e, const char *name, const char *value)
{
	char *start = e->block + e->text.len;

	strbuf_puts(&e->text, name);
	strbuf_put(&e->text, "=", 1);
	strbuf_puts(&e->text, value);
	if (strbuf_put(&e->text, "", 1) < 0)
		return -1;
	e->envp[e->n++] = start;
	e->envp[e->n] = NULL;
	return 0;
}

static int put_var(struct env *e, const struct crossing *x,
                   const struct var *v)
{
	const void *f = field(x, v);
	char num[24];

	switch (v->kind) {
	case STR:
		if (!*(const char *const *)f || !**(const char *const *)f)
			return 0; /* unset reads as "" anyway */
		return put(e, v->name, *(const char *const *)f);
	case I64:
		snprintf(num, sizeof num, "%lld", (long long)*(const int64_t *)f);
		break;
	case U64:
		snprintf(num, sizeof num, "%llu",
		         (unsigned long long)*(const uint64_t *)f);
		break;
	case UINT:
		snprintf(num, sizeof num, "%u", *(const unsigned *)f);
		break;
	case INT:
		snprintf(num, sizeof num, "%d", *(const int *)f);
		break;
	default:
		return -1;
	}
	return put(e, v->name, num);
}

int contract_exec(const char *program, const struct crossing *x,
                  const char **why)
{
	static struct env e;
	const char *slash = strrchr(program, '/');
	char *argv[] = { (char *)(slash ? slash + 1 : program), NULL };

	memset(&e, 0, sizeof e);
	strbuf_init(&e.text, e.block, sizeof e.block);
	for (size_t i = 0; i < NVARS; i++)
		if (put_var(&e, x, &vars[i]) < 0) {
			*why = "environment too large";
			return -1;
		}
	for (size_t i = 0; i < NPASSED; i++)
		if (getenv(passed_on[i]) &&
		    put(&e, passed_on[i], getenv(passed_on[i])) < 0) {
			*why = "environment too large";
			return -1;
		}
	execve(program, argv, e.envp);
	*why = strerror(errno);
	return -1;
}

int64_t contract_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void contract_log_close(const struct crossing *x, const char *result,
                        const char *reason, const uint64_t *relayed)
{
	int64_t ms = (contract_now_us() - x->started_us) / 1000;
	uint64_t up = relayed ? relayed[0] : 0, down = relayed ? relayed[1] : 0;
	char counts[64] = "";

	if (ms < 0 || x->started_us <= 0)
		ms = 0;
	if (relayed)
		snprintf(counts, sizeof counts, " relay_up=%llu relay_down=%llu",
		         (unsigned long long)up, (unsigned long long)down);
	logmsg(LOG_INFO,
	       "event=close client=%s user=\"%s\" backend=%s result=%s "
	       "reason=\"%s\" bytes_in=%llu bytes_out=%llu%s "
	       "duration=%lld.%03lld",
	       x->client && *x->client ? x->client : "-", LOGV(x->user),
	       x->backend && *x->backend ? x->backend : "-", result, LOGV(reason),
	       (unsigned long long)(x->bytes_in + up),
	       (unsigned long long)(x->bytes_out + down), counts,
	       (long long)(ms / 1000), (long long)(ms % 1000));
}

int contract_relay_start(const char *ident, struct crossing *x)
{
	signal(SIGPIPE, SIG_IGN);
	contract_read(x);
	log_open(ident, *x->log ? x->log : "syslog",
	         x->log_level > 0 ? x->log_level : LOG_INFO, x->inetd);
	log_set_session(x->session);
	if (fcntl(CONTRACT_CLIENT_FD, F_GETFD) < 0 ||
	    fcntl(CONTRACT_BACKEND_FD, F_GETFD) < 0) {
		logmsg(LOG_ERR, "event=usage reason=\"fds 3 and 4 must be the "
		                "client and backend sockets\"");
		return -1;
	}
	fcntl(CONTRACT_CLIENT_FD, F_SETFL,
	      fcntl(CONTRACT_CLIENT_FD, F_GETFL) | O_NONBLOCK);
	fcntl(CONTRACT_BACKEND_FD, F_SETFL,
	      fcntl(CONTRACT_BACKEND_FD, F_GETFL) | O_NONBLOCK);
	return 0;
}

ssize_t contract_read_pipe(int fd, void *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return 0;
	while (len < size &&
	       (n = read(fd, (char *)buf + len, size - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}
