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

/* 0, or -1 with *why (the kernel has no seccomp, the architecture is not
 * one the filter knows): the caller logs it and goes on unboxed. */
int sandbox_relay(const char **why);

#endif
