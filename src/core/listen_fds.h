/* The socket-activation protocol of sd_listen_fds(3): LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES, read as libsystemd reads them (the unit
 * test holds the two side by side). The per-connection front reads them
 * itself: linking libsystemd for this costs every connection 0.65 ms of
 * CPU to map its five libraries (bench/compare, doc/performance.md). */
#ifndef POSTERN_LISTEN_FDS_H
#define POSTERN_LISTEN_FDS_H

#include <stddef.h>

#define LISTEN_FDS_START 3

/* Pure. The number of sockets passed to the process self (from fd
 * LISTEN_FDS_START on): 0 when the variables are absent or for another
 * process, -1 when they are malformed. The first socket's name goes to
 * name ("" when none is given; libsystemd's "unknown" is not ours). */
int listen_fds_parse(const char *pid, const char *fds, const char *names,
                     long self, char *name, size_t size);

/* The environment's, for this process; the variables are then removed
 * and the passed sockets marked close-on-exec, as sd_listen_fds(1) does. */
int listen_fds(char *name, size_t size);

/* 1 when fd is a connected (not listening) stream socket; sd_is_socket()
 * with SOCK_STREAM and listening 0. */
int is_stream_socket(int fd);

#endif
