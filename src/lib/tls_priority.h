/* nginx's ssl_protocols and ssl_ciphers, written as a GnuTLS priority
 * string. Pure text work: no GnuTLS here, so the front and its tests can
 * use it. */
#ifndef POSTERN_TLS_PRIORITY_H
#define POSTERN_TLS_PRIORITY_H

#include <stddef.h>

#define TLS_PRIORITY_MAX 512

/* protocols: "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3". ciphers: an OpenSSL
 * list; HIGH, DEFAULT, ALL and exclusions (!aNULL, !MD5, !RC4, !3DES,
 * !SHA1, !CBC, ...) are understood; anything else is refused with a hint
 * to use ssl_priority. Returns 0, or -1 with why. */
int tls_priority(const char *const *protocols, size_t nprotocols,
                 const char *ciphers, char *out, size_t size,
                 char *why, size_t why_size);

#endif
