#include "tls_priority.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *nginx;
	const char *gnutls;
} versions[] = {
	{ "TLSv1", "+VERS-TLS1.0" },
	{ "TLSv1.1", "+VERS-TLS1.1" },
	{ "TLSv1.2", "+VERS-TLS1.2" },
	{ "TLSv1.3", "+VERS-TLS1.3" },
	{ NULL, NULL },
};

/* What an OpenSSL exclusion takes away, in GnuTLS words. Exclusions of
 * what GnuTLS never offers by default (aNULL, eNULL, EXPORT, ...) need
 * nothing. */
static const struct {
	const char *openssl;
	const char *gnutls;
} exclusions[] = {
	{ "aNULL", "" }, { "eNULL", "" }, { "NULL", "" }, { "EXPORT", "" },
	{ "EXP", "" }, { "LOW", "" }, { "DES", "" }, { "PSK", "" },
	{ "SRP", "" }, { "DSS", "" }, { "aDSS", "" }, { "IDEA", "" },
	{ "SEED", "" }, { "RC2", "" }, { "kRSA", ":-RSA" }, { "aECDH", "" },
	{ "MD5", ":-MD5" }, { "RC4", ":-ARCFOUR-128" },
	{ "3DES", ":-3DES-CBC" }, { "SHA1", ":-SHA1" }, { "SHA", ":-SHA1" },
	{ "CBC", ":-AES-128-CBC:-AES-256-CBC:-CAMELLIA-128-CBC:"
	         "-CAMELLIA-256-CBC:-3DES-CBC" },
	{ "CAMELLIA", ":-CAMELLIA-128-CBC:-CAMELLIA-256-CBC:"
	              "-CAMELLIA-128-GCM:-CAMELLIA-256-GCM" },
	{ "MEDIUM", ":-ARCFOUR-128:-3DES-CBC" },
	{ NULL, NULL },
};

static const char *version(const char *name)
{
	for (int i = 0; versions[i].nginx; i++)
		if (strcmp(versions[i].nginx, name) == 0)
			return versions[i].gnutls;
	return NULL;
}

static const char *exclusion(const char *name)
{
	for (int i = 0; exclusions[i].openssl; i++)
		if (strcasecmp(exclusions[i].openssl, name) == 0)
			return exclusions[i].gnutls;
	return NULL;
}

static int append(char *out, size_t size, const char *text)
{
	size_t used = strlen(out), n = strlen(text);

	if (used + n >= size)
		return -1;
	memcpy(out + used, text, n + 1);
	return 0;
}

/* HIGH keeps GnuTLS's NORMAL set minus what OpenSSL does not count as
 * high; DEFAULT and ALL keep NORMAL. */
static int cipher_words(const char *ciphers, char *out, size_t size,
                        char *why, size_t why_size)
{
	char word[64];

	for (const char *p = ciphers; *p;) {
		size_t n = strcspn(p, ": ,");
		const char *add;

		if (n == 0 || n >= sizeof word) {
			p += n ? n : 1;
			continue;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (word[0] == '!' || word[0] == '-')
			add = exclusion(word + 1);
		else if (strcmp(word, "HIGH") == 0)
			add = ":-ARCFOUR-128:-3DES-CBC:-MD5";
		else if (strcmp(word, "DEFAULT") == 0 || strcmp(word, "ALL") == 0 ||
		         strcmp(word, "@STRENGTH") == 0)
			add = "";
		else
			add = NULL;
		if (!add) {
			snprintf(why, why_size, "ssl_ciphers: \"%s\" has no GnuTLS "
			         "equivalent here; write a GnuTLS priority in "
			         "ssl_priority instead", word);
			return -1;
		}
		if (append(out, size, add) < 0)
			goto too_long;
	}
	return 0;
too_long:
	snprintf(why, why_size, "ssl_ciphers: too long");
	return -1;
}

int tls_priority(const char *const *protocols, size_t nprotocols,
                 const char *ciphers, char *out, size_t size,
                 char *why, size_t why_size)
{
	out[0] = '\0';
	if (nprotocols == 0) {
		snprintf(why, why_size, "ssl_protocols: none given");
		return -1;
	}
	if (append(out, size, "NORMAL:-VERS-ALL") < 0)
		goto too_long;
	for (size_t i = 0; i < nprotocols; i++) {
		const char *v = version(protocols[i]);

		if (!v) {
			snprintf(why, why_size, "ssl_protocols: unknown \"%s\" "
			         "(TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)", protocols[i]);
			return -1;
		}
		if (append(out, size, ":") < 0 || append(out, size, v) < 0)
			goto too_long;
	}
	return cipher_words(ciphers, out, size, why, why_size);
too_long:
	snprintf(why, why_size, "ssl_protocols: too long");
	return -1;
}
