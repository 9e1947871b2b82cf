/* A certificate's subject or issuer as nginx sends it in Auth-SSL-Subject
 * and Auth-SSL-Issuer: nginx prints the name with OpenSSL's
 * X509_NAME_print_ex(..., XN_FLAG_RFC2253) (ngx_ssl_get_subject_dn), and
 * auth scripts written for nginx compare that text. Pure: the Name's DER
 * in, the text out; no GnuTLS here, so it is unit-tested and fuzzed alone.
 *
 * What OpenSSL does, and so what this does:
 * - the attributes last first: RDNs joined by ",", the values of one
 *   multi-valued RDN by "+" (in reverse too), no spaces;
 * - each named by OpenSSL's short name ("CN", "emailAddress", "SN", "GN",
 *   "x500UniqueIdentifier"), an attribute OpenSSL does not know by its
 *   dotted OID with its value's DER in hex ("1.2.3.4=#0C03616263");
 * - a string value as UTF-8 with every byte of a non-ASCII character,
 *   every control character and DEL as \XX, the RFC 2253 specials
 *   (,+"\<>;) escaped with a backslash, and a leading space or "#" and a
 *   trailing space too; a value that is not a string (a BIT STRING, a
 *   SEQUENCE) in hex as for an unknown attribute. */
#ifndef POSTERN_TLS_DN_H
#define POSTERN_TLS_DN_H

#include <stddef.h>

/* der: a Name (SEQUENCE OF RDN), as gnutls_x509_crt_get_raw_dn gives it.
 * 0 with the text in out; -1 when der is not a Name OpenSSL would print
 * (bad DER, a malformed OID, a BMPString of odd length, a surrogate or a
 * code point past U+10FFFF), has more than TLS_DN_AVAS_MAX attributes,
 * or its text does not fit in size; out is then empty. */
#define TLS_DN_AVAS_MAX 64
int tls_dn_openssl(const unsigned char *der, size_t len, char *out,
                   size_t size);

#endif
