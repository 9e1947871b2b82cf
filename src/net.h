/* Outgoing connections with a deadline: auth server and backends. */
#ifndef POSTERN_NET_H
#define POSTERN_NET_H

#include "addr.h"

#include <stdint.h>

/* A connected non-blocking socket, or -1 with *why set. */
int net_connect(const struct addr *a, int64_t deadline, const char **why);

#endif
