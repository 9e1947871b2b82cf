/* The relay in user space: both directions pass through a protocol's guard
 * (the SMTP command guard, the IMAP filter), or straight through when there is
 * none, with postern-relay's promises kept (half-close both ways,
 * proxy_timeout, byte counts). The two ends are whatever moves bytes over
 * a socket: plain in postern-guard-relay, GnuTLS in postern-tls. libc
 * only. (Plain on both sides with no guard, postern-relay splices.) */
#ifndef POSTERN_GUARD_RELAY_H
#define POSTERN_GUARD_RELAY_H

#include "guard.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct relay_end;

/* How one side moves bytes. recv and send return bytes moved, 0 at the end
 * of the stream (recv), -EAGAIN when the side must wait, or another
 * negative on error. close_write is the half-close (1 when done, 0 to
 * retry). events turns what the relay wants into what to poll for (TLS
 * may need to write to read). pending: bytes wait inside the side where
 * poll cannot see them. */
struct relay_end_ops {
	ssize_t (*recv)(struct relay_end *e, char *buf, size_t len);
	ssize_t (*send)(struct relay_end *e, const char *buf, size_t len);
	int (*close_write)(struct relay_end *e);
	short (*events)(struct relay_end *e, short wanted);
	int (*pending)(struct relay_end *e);
};

struct relay_end {
	int fd;
	void *ctx;
	const struct relay_end_ops *ops;
};

/* A plain socket. */
extern const struct relay_end_ops relay_plain_ops;

struct relay_counts {
	uint64_t up, down;     /* bytes written to the backend, the client */
	unsigned refused;      /* commands the guard answered itself */
};

/* Relay client <-> backend through guard ("smtp", "imap", or NULL for
 * none; set: what it is told) until both sides are done, an error, or
 * timeout_ms (< 0: none) without any byte moving. leftover: client bytes
 * read before the relay began, guarded first. Returns why it ended. */
const char *guard_relay(const char *guard, const struct guard_settings *set,
                        struct relay_end *client, struct relay_end *backend,
                        const char *leftover, size_t leftover_len,
                        int64_t timeout_ms, struct relay_counts *counts);

#endif
