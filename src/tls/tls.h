/* GnuTLS for the client side, in postern-tls only: credentials from the
 * ssl_* directives, the handshake with ALPN and client certificates, a
 * transport for the session code, and what the auth server is told. */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include "lookup.h"
#include "conf.h"
#include "lineio.h"
#include "tls_path.h"
#include "tls_tickets.h"

#include <gnutls/gnutls.h>
#include <stdint.h>

struct tls {
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t priority;
	struct tls_tickets tickets;
	int fd;
	struct transport transport;
	struct tls_info info;
	char *cert_pem;          /* for Auth-SSL-Cert, owned */
	int cert_refused;        /* ssl_verify_client says no */
	int resumed;
	/* The record being given out: GnuTLS's own buffer, wiped before it
	 * goes back, since before login it holds passwords. */
	gnutls_packet_t packet;
	gnutls_datum_t packet_data;
	size_t packet_off;
};

/* Credentials and a server session on fd; alpn is the protocol's name.
 * check: postern -t's thoroughness (GnuTLS's own proof that each key
 * belongs to its certificate, a signature), not a connection's. */
int tls_setup(struct tls *t, const struct server_conf *c, int fd,
              const char *alpn, int check, char *why, size_t size);
/* The handshake within deadline; then t->info is filled in and
 * t->cert_refused says whether ssl_verify_client turns the client away. */
int tls_handshake(struct tls *t, const struct server_conf *c,
                  int64_t deadline, char *why, size_t size);
/* TLS to a backend, as a client, on the connected fd: SNI and, with
 * proxy_ssl_verify, the certificate checked against name and
 * proxy_ssl_trusted_certificate (or the system's CAs). */
int tls_client(struct tls *t, const struct server_conf *c, int fd,
               const char *name, int64_t deadline, char *why, size_t size);

/* What postern -t asks of a section: its certificates, keys, password
 * file, CAs, CRL, DH parameters, priority and ticket keys all load, and
 * proxy_ssl_trusted_certificate too. 0, or -1 with why. */
int tls_check(const struct server_conf *c, char *why, size_t size);

/* Handshake and login are over: the certificate, key and trust that only
 * a handshake uses go back (the session no longer points at them). A
 * renegotiation is refused as before; TLS 1.3 key updates do not need
 * them. */
void tls_handshake_over(struct tls *t);

/* close_notify, best effort within deadline. */
void tls_bye(struct tls *t, int64_t deadline);
void tls_free(struct tls *t);

#endif
