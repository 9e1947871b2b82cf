/* Where a ClientHello carries a session ticket: the SessionTicket
 * extension (TLS 1.2) or the first PSK identity (TLS 1.3). A pure,
 * bounds-checked reader, so postern-tls can see which ticket key a
 * returning client needs before GnuTLS opens the ticket. */
#ifndef POSTERN_TLS_HELLO_H
#define POSTERN_TLS_HELLO_H

#include <stddef.h>

/* msg is the ClientHello body, with or without its 4-byte handshake
 * header. 0 with the ticket's bytes, -1 when there is none or the
 * message is malformed. */
int tls_hello_ticket(const unsigned char *msg, size_t len,
                     const unsigned char **ticket, size_t *ticket_len);

#endif
