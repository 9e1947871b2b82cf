/* The relay for TLS sessions, after handshake and login. When every TLS
 * side negotiated TLS 1.2 or 1.3 with an AEAD the record layer takes
 * (tls_record.h) and ssl_handoff is on, the session's record keys go on a
 * pipe to tls_relay_program (postern-tls-relay), which is exec'd in this
 * process's place: GnuTLS and its libraries leave memory for the rest of
 * the session. Otherwise the relay runs here, with GnuTLS: records on
 * either side or both (client TLS, backend TLS by proxy_ssl), run by the
 * relay skeleton of guard_relay.h with the protocol's guard, if it has
 * one. Either way postern-relay's promises hold: half-close both ways
 * (close_notify one way, shutdown(SHUT_WR) the other), proxy_timeout when
 * nothing moves, byte counts, and one closing line. There is no splice:
 * the bytes must be decrypted (the machines have no kernel TLS). */
#ifndef POSTERN_TLS_RELAY_H
#define POSTERN_TLS_RELAY_H

struct session;
struct tls;

/* client or backend may be NULL: that side is plain. Returns the exit
 * code, when the hand-off did not exec. */
int tls_relay(struct session *s, struct tls *client, struct tls *backend);

#endif
