#include "tls_names.h"

#include <stdio.h>
#include <string.h>

void tls_openssl_protocol(const char *gnutls, char *out, size_t size)
{
	if (strcmp(gnutls, "SSL3.0") == 0)
		snprintf(out, size, "SSLv3");
	else if (strncmp(gnutls, "TLS1.", 5) == 0)
		snprintf(out, size, "TLSv%s", gnutls + 3);
	else
		snprintf(out, size, "%s", gnutls);
}

struct part {
	const char *gnutls, *openssl;
};

/* Key exchange first, longest names before their prefixes. */
static const struct part kx[] = {
	{ "ECDHE_ECDSA_", "ECDHE-ECDSA-" }, { "ECDHE_RSA_", "ECDHE-RSA-" },
	{ "DHE_RSA_", "DHE-RSA-" },         { "DHE_DSS_", "DHE-DSS-" },
	{ "RSA_", "" },                     { NULL, NULL },
};

static const struct part ciphers[] = {
	{ "AES_128_GCM", "AES128-GCM" },     { "AES_256_GCM", "AES256-GCM" },
	{ "AES_128_CCM_8", "AES128-CCM8" },  { "AES_256_CCM_8", "AES256-CCM8" },
	{ "AES_128_CCM", "AES128-CCM" },     { "AES_256_CCM", "AES256-CCM" },
	{ "AES_128_CBC", "AES128" },         { "AES_256_CBC", "AES256" },
	{ "CHACHA20_POLY1305", "CHACHA20-POLY1305" },
	{ "CAMELLIA_128_GCM", "CAMELLIA128-GCM" },
	{ "CAMELLIA_256_GCM", "CAMELLIA256-GCM" },
	{ "CAMELLIA_128_CBC", "CAMELLIA128" }, { "CAMELLIA_256_CBC", "CAMELLIA256" },
	{ "3DES_EDE_CBC", "DES-CBC3" },      { NULL, NULL },
};

/* The MAC as OpenSSL writes it after the cipher; AEADs without one
 * (CCM, ChaCha20) have none in either name. */
static const struct part macs[] = {
	{ "", "" },           { "_SHA1", "-SHA" }, { "_SHA256", "-SHA256" },
	{ "_SHA384", "-SHA384" }, { NULL, NULL },
};

static const struct part *prefix(const struct part *t, const char **s)
{
	for (; t->gnutls; t++) {
		size_t n = strlen(t->gnutls);

		if (strncmp(*s, t->gnutls, n) == 0) {
			*s += n;
			return t;
		}
	}
	return NULL;
}

static const struct part *whole(const struct part *t, const char *s)
{
	for (; t->gnutls; t++)
		if (strcmp(s, t->gnutls) == 0)
			return t;
	return NULL;
}

void tls_openssl_cipher(const char *gnutls, char *out, size_t size)
{
	const char *s = gnutls;
	const struct part *k, *c, *m;

	snprintf(out, size, "%s", gnutls);
	if (strncmp(s, "TLS_", 4) != 0)
		return;
	s += 4;
	k = prefix(kx, &s);
	if (!k)
		return;                  /* TLS 1.3, or unknown: as it is */
	if (strncmp(s, "WITH_", 5) == 0)
		s += 5;
	c = prefix(ciphers, &s);
	if (!c)
		return;
	/* ChaCha20's IANA name ends in _SHA256; OpenSSL's has no MAC. */
	if (strcmp(c->gnutls, "CHACHA20_POLY1305") == 0)
		s = "";
	m = whole(macs, s);
	if (m)
		snprintf(out, size, "%s%s%s", k->openssl, c->openssl, m->openssl);
}
