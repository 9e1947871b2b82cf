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

/* Returns only on failure, with *why set. */
int handoff_exec(struct session *s, const char **why);

#endif
