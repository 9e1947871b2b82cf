/* The relay for TLS sessions, in postern-tls: GnuTLS records on either
 * side or both (client TLS, backend TLS by proxy_ssl), run by the relay
 * skeleton of guard_relay.h with the protocol's guard, if it has one. It
 * keeps postern-relay's promises: half-close both ways (close_notify one
 * way, shutdown(SHUT_WR) the other), proxy_timeout when nothing moves,
 * byte counts, and one closing line. There is no splice: the bytes must be
 * decrypted here (the machines have no kernel TLS). */
#ifndef POSTERN_TLS_RELAY_H
#define POSTERN_TLS_RELAY_H

struct session;
struct tls;

/* client or backend may be NULL: that side is plain. */
void tls_relay(struct session *s, struct tls *client, struct tls *backend);

#endif
