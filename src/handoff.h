/* The hand-off to postern-relay. Only file descriptors and environment cross
 * the exec:
 *   fd 3   the client socket       fd 4   the backend socket
 *   fd 0-2 /dev/null under inetd (there they were the client socket)
 *   POSTERN_* variables: session id, addresses, user, timeout, log target.
 * No secret crosses; the password is wiped before the exec. */
#ifndef POSTERN_HANDOFF_H
#define POSTERN_HANDOFF_H

struct session;

#define RELAY_CLIENT_FD 3
#define RELAY_BACKEND_FD 4

/* Bytes read past the login belong to the other side: the client's
 * pipelined commands, the backend's first data. -1 with *why on failure. */
int handoff_flush_leftovers(struct session *s, const char **why);

/* Returns only on failure, with *why set. */
int handoff_exec(struct session *s, const char **why);

/* Exec postern-tls to run the session with GnuTLS at hand: mode is
 * "implicit" (TLS at once), "starttls" (the protocol said yes to it), or
 * "plain" (the client is plaintext but proxy_ssl wants TLS to backends).
 * Only the client socket (fd 3) and POSTERN_* variables cross, among them
 * POSTERN_TLS=mode, POSTERN_SERVER and POSTERN_CONFIG. Returns only on
 * failure, with *why set. */
int handoff_tls(struct session *s, const char *mode, const char **why);

#endif
