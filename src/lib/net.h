/* Outgoing connections with a deadline: auth server and backends. */
#ifndef POSTERN_NET_H
#define POSTERN_NET_H

#include "addr.h"

#include <stdint.h>

/* A connected non-blocking socket, or -1 with *why set. */
int net_connect(const struct addr *a, int64_t deadline, const char **why);

/* TCP keepalive on the client's socket, so that a client gone without a
 * word (an IDLE on a dead link) frees its process in minutes wherever
 * postern runs: under systemd, xinetd or a container's spawner. Best
 * effort: a unix socket has none. */
void net_client_options(int fd);

#endif
