/* The names nginx (OpenSSL) gives what GnuTLS names otherwise, for the
 * Auth-SSL-Protocol and Auth-SSL-Cipher headers: auth scripts written for
 * nginx compare them. Pure: no GnuTLS here, so the table is unit-tested
 * alone. */
#ifndef POSTERN_TLS_NAMES_H
#define POSTERN_TLS_NAMES_H

#include <stddef.h>

/* "TLS1.2" -> "TLSv1.2", "SSL3.0" -> "SSLv3"; anything else as it is. */
void tls_openssl_protocol(const char *gnutls, char *out, size_t size);

/* A GnuTLS cipher suite name, "TLS_ECDHE_RSA_AES_128_GCM_SHA256" (or its
 * IANA form with WITH_), as OpenSSL names it: "ECDHE-RSA-AES128-GCM-SHA256".
 * TLS 1.3 suites keep their names, as OpenSSL's are the same; a suite the
 * table does not know keeps GnuTLS's name. */
void tls_openssl_cipher(const char *gnutls, char *out, size_t size);

#endif
