/* THE contract between postern, postern-tls, postern-relay and the relay
 * programs to come. Only what is named here crosses an exec: two file
 * descriptors, POSTERN_* environment variables, and the exit code back to
 * the spawner. Nothing secret crosses: passwords are wiped before any exec
 * and never go in the environment. Every program includes this header, and
 * none includes another program's headers to learn these things.
 * postern(8), EXEC CONTRACT, says the same for operators. */
#ifndef POSTERN_EXEC_CONTRACT_H
#define POSTERN_EXEC_CONTRACT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* After the exec: the client on 3, the backend (relays only) on 4, and
 * for a guarded relay on 5 a pipe with the client's bytes read before it,
 * which the guard must read first; for postern-tls-relay on 6 a pipe with
 * the TLS record keys (tls_keys.h), the only way keys cross. Under inetd
 * 0-2 are /dev/null, since there they were the client socket. Nothing
 * else stays open, the log file included. */
#define CONTRACT_CLIENT_FD 3
#define CONTRACT_BACKEND_FD 4
#define CONTRACT_LEFTOVER_FD 5
#define CONTRACT_KEYS_FD 6

/* Exit codes, as skalibs uses them. */
enum contract_exit {
	EXIT_DONE = 0,          /* the session ran its course */
	EXIT_TEST_FAILED = 1,   /* postern -t: the configuration is wrong */
	EXIT_USAGE = 100,       /* usage or configuration: retrying won't help */
	EXIT_TEMPORARY = 111,   /* out of memory, an exec failed: may pass */
};

/* A session as it crosses an exec. Strings are borrowed: from the session
 * when written, from the environment when read ("" when unset). */
struct crossing {
	const char *session;       /* POSTERN_SESSION, the id in every line */
	int64_t started_us;        /* POSTERN_STARTED_US, wall clock at accept */
	uint64_t bytes_in;         /* POSTERN_BYTES_IN, from the client so far */
	uint64_t bytes_out;        /* POSTERN_BYTES_OUT, to the client so far */
	unsigned errors;           /* POSTERN_ERRORS, counted for max_errors */
	const char *client;        /* POSTERN_CLIENT, "ip:port", the real one */
	const char *local;         /* POSTERN_LOCAL, "ip:port" it reached */
	const char *proxy_src;     /* POSTERN_PROXY_SRC, a PROXY header's */
	const char *proxy_dst;     /* POSTERN_PROXY_DST, "" without one */
	const char *user;          /* POSTERN_USER, as logs may show it */
	const char *backend;       /* POSTERN_BACKEND, "ip:port" */
	const char *log;           /* POSTERN_LOG, the error_log target */
	int log_level;             /* POSTERN_LOG_LEVEL, a syslog priority */
	int inetd;                 /* POSTERN_INETD, 1: fds 0-2 were the client */
	int64_t proxy_timeout_ms;  /* POSTERN_PROXY_TIMEOUT_MS, relays */
	const char *guard;         /* POSTERN_GUARD, a guarded relay's: smtp, imap */
	const char *deny;          /* POSTERN_DENY, commands the guard refuses */
	const char *hide;          /* POSTERN_HIDE, capabilities it hides */
	/* postern-tls only: */
	const char *tls_mode;      /* POSTERN_TLS: implicit|starttls|plain|check */
	const char *server;        /* POSTERN_SERVER, the section's name */
	const char *config;        /* POSTERN_CONFIG, the file to read */
};

/* The crossing as this program was started with it. */
void contract_read(struct crossing *x);

/* Place client at CONTRACT_CLIENT_FD, backend and leftover (unless < 0)
 * at theirs, /dev/null on 0-2 when inetd, and close the rest. 0, or -1
 * with *why. */
int contract_place_fds(int client, int backend, int leftover, int inetd,
                       const char **why);
/* The same, and keys (unless < 0) at CONTRACT_KEYS_FD. */
int contract_place_fds_keys(int client, int backend, int leftover, int keys,
                            int inetd, const char **why);

/* Exec program with x as its whole environment, plus systemd's
 * CREDENTIALS_DIRECTORY and JOURNAL_STREAM when we have them. The fds
 * must be placed. Returns only on failure, with *why. */
int contract_exec(const char *program, const struct crossing *x,
                  const char **why);

/* The one closing line of a session, logged by whichever program ends
 * it. relayed is NULL when no relay ran, else {up, down} moved by it. */
void contract_log_close(const struct crossing *x, const char *result,
                        const char *reason, const uint64_t *relayed);

/* How every relay program begins: the crossing read, the log opened as
 * the front had it, fds 3 and 4 checked and made non-blocking, SIGPIPE
 * ignored. 0, or -1 after logging why (exit with EXIT_USAGE). */
int contract_relay_start(const char *ident, struct crossing *x);

/* What the program before the exec left on a pipe at fd (the leftovers,
 * the keys): read to its end, at most size bytes, and fd closed. 0 when
 * fd is not a pipe (anything else there is not ours), -1 on a read error
 * (errno says which). */
ssize_t contract_read_pipe(int fd, void *buf, size_t size);

/* Wall-clock microseconds, the clock of started_us. */
int64_t contract_now_us(void);

#endif
