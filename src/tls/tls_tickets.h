/* Session tickets across processes. Every connection is a process, so
 * there is no cache: tickets are how clients resume, and every process
 * must hold the same keys. Each ssl_session_ticket_key file gives one key
 * (SHA-512 of the file, so nginx's 48- and 80-byte files serve); the first
 * encrypts new tickets, and a returning client's ticket is opened with the
 * key it was made with, found by the ticket's key name. GnuTLS would
 * encrypt a resumed session's new tickets under that same key, so a key
 * once rotated out would never retire while its clients kept coming back:
 * only a session that uses the first key is given new tickets. */
#ifndef POSTERN_TLS_TICKETS_H
#define POSTERN_TLS_TICKETS_H

#include "conf.h"

#include <gnutls/gnutls.h>

struct tls_tickets {
	unsigned char keys[CERTS_MAX][64];
	size_t nkeys;
	long period;      /* GnuTLS's key rotation period, in seconds */
	int chosen;       /* the key this session uses; -1 until chosen */
};

int tls_tickets_load(struct tls_tickets *tk, const struct server_conf *c,
                     char *why, size_t size);
/* gnutls_init's flag for a server session that will have tickets:
 * TLS 1.3 tickets wait for tls_tickets_issue. */
#define TLS_TICKETS_INIT_FLAGS GNUTLS_NO_AUTO_SEND_TICKET

/* Tickets on the server session: at once with one key, at the
 * ClientHello with several. The session keeps a pointer to tk. */
int tls_tickets_enable(struct tls_tickets *tk, gnutls_session_t session,
                       char *why, size_t size);
/* After the handshake: TLS 1.3 tickets, if the session uses the first
 * key. A GnuTLS return code; call again on GNUTLS_E_AGAIN. */
int tls_tickets_issue(const struct tls_tickets *tk, gnutls_session_t session);
void tls_tickets_clear(struct tls_tickets *tk);

#endif
