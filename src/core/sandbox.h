/* Boxing a session in once it only moves bytes. Each connection is its own
 * process, so a bug left in a relay can reach only that client's data, if
 * the process can do nothing else: after this call it can read, write,
 * splice, poll, keep time, manage its memory, close, shut down and exit;
 * opening a file, executing a program, making a connection or changing
 * its privileges kills it with SIGSYS. A seccomp filter of its own (no
 * libseccomp), with PR_SET_NO_NEW_PRIVS, so it holds under xinetd and in
 * containers where the units' hardening is absent. */
#ifndef POSTERN_SANDBOX_H
#define POSTERN_SANDBOX_H

#include <sys/types.h>

/* First thing in every program that holds a session: a non-dumpable
 * process's /proc entries belong to root, so another process of the same
 * user (a sibling session under xinetd or in a container) can neither read
 * its memory, environment or descriptors nor ptrace it or take a socket
 * with pidfd_getfd. An exec of a program resets it: each sets its own. */
void sandbox_undumpable(void);

/* This process becomes uid:gid for good: no supplementary groups, and no
 * way back to root (checked). 0, or -1 with errno. */
int sandbox_become(uid_t uid, gid_t gid);

/* 0, or -1 with *why (the kernel has no seccomp, the architecture is not
 * one the filter knows): the caller logs it and goes on unboxed. */
int sandbox_relay(const char **why);

/* The front, before it reads a byte from the client: login needs files
 * (the map), connections (auth server, backend) and execs (postern-tls, the
 * relays), so the front keeps those and loses what no mail proxy needs
 * (tracing, reading or signalling other processes: a signal goes only to
 * the process that was boxed; pidfds, mounts old and new, kernel modules
 * and keys, BPF, new namespaces by clone, unshare or setns, clone3
 * (ENOSYS), io_uring, the clock, changing users, ...), and never gains
 * privileges by an exec. Inherited by every program it execs; the relays
 * add theirs. Every filter kills a call from another architecture and
 * x32's. */
int sandbox_front(const char **why);

#endif
