/* Handing a session to the next program, by the exec contract
 * (exec_contract.h): postern-tls to go on with GnuTLS, or postern-relay
 * once logged in. The password is wiped before either exec. */
#ifndef POSTERN_HANDOFF_H
#define POSTERN_HANDOFF_H

#include <stddef.h>

struct session;

/* Bytes read past the login exchange belong to the other side: the
 * backend's first data goes to the client, and the client's pipelined
 * commands to the backend; or, when a guard must read them first (keep
 * not NULL, keep_size at least the client buffer), into keep, *kept
 * bytes. Then both line buffers are wiped. -1 with *why on failure. */
int handoff_leftovers(struct session *s, char *keep, size_t keep_size,
                      size_t *kept, const char **why);

/* A pipe holding len bytes of buf, its writing end closed: the read end,
 * or -1 with *why. They fit in a pipe's buffer (grown for more than 64
 * KiB; the client buffer is at most 1 MiB), so writing never waits. */
int handoff_pipe(const void *buf, size_t len, const char **why);

/* Exec the relay with the client and the backend: relay_program, or for
 * a protocol with a guard (SMTP) guard_relay_program, with the client's
 * leftovers on a pipe. The client already saw its login succeed; on
 * failure this logs and returns EXIT_TEMPORARY. A session_ops relay. */
int handoff_relay(struct session *s);

/* Exec postern-tls to run the session with GnuTLS at hand: mode is
 * "implicit" (TLS at once), "starttls" (the protocol said yes to it), or
 * "plain" (the client is plaintext but proxy_ssl wants TLS to backends);
 * config is the file it reads. Returns only on failure, with *why. */
int handoff_tls(struct session *s, const char *mode, const char *config,
                const char **why);

#endif
