/* OpenSSL's cipher list language, as nginx hands ssl_ciphers to OpenSSL,
 * evaluated over the TLS 1.2 cipher suites that OpenSSL and GnuTLS both
 * have, and written as a GnuTLS priority. GnuTLS enables suites as a
 * product (key exchanges x ciphers x MACs), so the priority can offer
 * more than the list named: each suite it adds is a note, and so is each
 * item with no suite GnuTLS has. ssl_ciphers does not touch TLS 1.3 in
 * OpenSSL, where GnuTLS's ciphers serve both versions. */
#include "nginx_import_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum kx { KX_ECDHE_ECDSA, KX_ECDHE_RSA, KX_DHE_RSA, KX_RSA, NKX };
enum cipher { C_AES128GCM, C_AES256GCM, C_CHACHA20, C_AES128CCM, C_AES256CCM,
              C_AES128CCM8, C_AES256CCM8, C_AES128CBC, C_AES256CBC,
              C_CAMELLIA128, C_CAMELLIA256,
              C_ARIA128GCM, C_ARIA256GCM,   /* OpenSSL's alone */
              NCIPHER };
enum mac { M_AEAD, M_SHA1, M_SHA256, M_SHA384, NMAC };

static const char *const kx_names[NKX] = {
	"ECDHE-ECDSA", "ECDHE-RSA", "DHE-RSA", "RSA",
};
static const char *const cipher_names[NCIPHER] = {
	"AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305", "AES-128-CCM",
	"AES-256-CCM", "AES-128-CCM-8", "AES-256-CCM-8", "AES-128-CBC",
	"AES-256-CBC", "CAMELLIA-128-CBC", "CAMELLIA-256-CBC", NULL, NULL,
};
static const char *const mac_names[NMAC] = { "AEAD", "SHA1", "SHA256", "SHA384" };

/* The order they are written in, which GnuTLS prefers in when the server
 * chooses: OpenSSL's default order (strongest first; TLS 1.3's is
 * AES-256-GCM, CHACHA20-POLY1305, AES-128-GCM). */
static const enum cipher cipher_order[] = {
	C_AES256GCM, C_CHACHA20, C_AES256CCM8, C_AES256CCM, C_AES128GCM,
	C_AES128CCM8, C_AES128CCM, C_AES256CBC, C_CAMELLIA256, C_AES128CBC,
	C_CAMELLIA128,
};
static const enum mac mac_order[NMAC] = { M_AEAD, M_SHA384, M_SHA256, M_SHA1 };

/* The oldest protocol an OpenSSL suite belongs to: its TLSv1.2, TLSv1.0
 * and SSLv3 aliases. */
enum since { V_SSL3, V_TLS1, V_TLS12 };

static const struct suite {
	const char *openssl;
	enum kx kx;
	enum cipher cipher;
	enum mac mac;
	enum since since;
} suites[] = {
	{ "ECDHE-ECDSA-AES128-GCM-SHA256", KX_ECDHE_ECDSA, C_AES128GCM, M_AEAD, V_TLS12 },
	{ "ECDHE-ECDSA-AES256-GCM-SHA384", KX_ECDHE_ECDSA, C_AES256GCM, M_AEAD, V_TLS12 },
	{ "ECDHE-ECDSA-CHACHA20-POLY1305", KX_ECDHE_ECDSA, C_CHACHA20, M_AEAD, V_TLS12 },
	{ "ECDHE-ECDSA-AES128-CCM", KX_ECDHE_ECDSA, C_AES128CCM, M_AEAD, V_TLS12 },
	{ "ECDHE-ECDSA-AES256-CCM", KX_ECDHE_ECDSA, C_AES256CCM, M_AEAD, V_TLS12 },
	{ "ECDHE-ECDSA-AES128-CCM8", KX_ECDHE_ECDSA, C_AES128CCM8, M_AEAD, V_TLS12 },
	{ "ECDHE-ECDSA-AES256-CCM8", KX_ECDHE_ECDSA, C_AES256CCM8, M_AEAD, V_TLS12 },
	{ "ECDHE-ECDSA-AES128-SHA256", KX_ECDHE_ECDSA, C_AES128CBC, M_SHA256, V_TLS12 },
	{ "ECDHE-ECDSA-AES256-SHA384", KX_ECDHE_ECDSA, C_AES256CBC, M_SHA384, V_TLS12 },
	{ "ECDHE-ECDSA-AES128-SHA", KX_ECDHE_ECDSA, C_AES128CBC, M_SHA1, V_TLS1 },
	{ "ECDHE-ECDSA-AES256-SHA", KX_ECDHE_ECDSA, C_AES256CBC, M_SHA1, V_TLS1 },
	{ "ECDHE-ECDSA-CAMELLIA128-SHA256", KX_ECDHE_ECDSA, C_CAMELLIA128, M_SHA256, V_TLS12 },
	{ "ECDHE-ECDSA-CAMELLIA256-SHA384", KX_ECDHE_ECDSA, C_CAMELLIA256, M_SHA384, V_TLS12 },
	{ "ECDHE-RSA-AES128-GCM-SHA256", KX_ECDHE_RSA, C_AES128GCM, M_AEAD, V_TLS12 },
	{ "ECDHE-RSA-AES256-GCM-SHA384", KX_ECDHE_RSA, C_AES256GCM, M_AEAD, V_TLS12 },
	{ "ECDHE-RSA-CHACHA20-POLY1305", KX_ECDHE_RSA, C_CHACHA20, M_AEAD, V_TLS12 },
	{ "ECDHE-RSA-AES128-SHA256", KX_ECDHE_RSA, C_AES128CBC, M_SHA256, V_TLS12 },
	{ "ECDHE-RSA-AES256-SHA384", KX_ECDHE_RSA, C_AES256CBC, M_SHA384, V_TLS12 },
	{ "ECDHE-RSA-AES128-SHA", KX_ECDHE_RSA, C_AES128CBC, M_SHA1, V_TLS1 },
	{ "ECDHE-RSA-AES256-SHA", KX_ECDHE_RSA, C_AES256CBC, M_SHA1, V_TLS1 },
	{ "ECDHE-RSA-CAMELLIA128-SHA256", KX_ECDHE_RSA, C_CAMELLIA128, M_SHA256, V_TLS12 },
	{ "ECDHE-RSA-CAMELLIA256-SHA384", KX_ECDHE_RSA, C_CAMELLIA256, M_SHA384, V_TLS12 },
	{ "DHE-RSA-AES128-GCM-SHA256", KX_DHE_RSA, C_AES128GCM, M_AEAD, V_TLS12 },
	{ "DHE-RSA-AES256-GCM-SHA384", KX_DHE_RSA, C_AES256GCM, M_AEAD, V_TLS12 },
	{ "DHE-RSA-CHACHA20-POLY1305", KX_DHE_RSA, C_CHACHA20, M_AEAD, V_TLS12 },
	{ "DHE-RSA-AES128-CCM", KX_DHE_RSA, C_AES128CCM, M_AEAD, V_TLS12 },
	{ "DHE-RSA-AES256-CCM", KX_DHE_RSA, C_AES256CCM, M_AEAD, V_TLS12 },
	{ "DHE-RSA-AES128-CCM8", KX_DHE_RSA, C_AES128CCM8, M_AEAD, V_TLS12 },
	{ "DHE-RSA-AES256-CCM8", KX_DHE_RSA, C_AES256CCM8, M_AEAD, V_TLS12 },
	{ "DHE-RSA-AES128-SHA256", KX_DHE_RSA, C_AES128CBC, M_SHA256, V_TLS12 },
	{ "DHE-RSA-AES256-SHA256", KX_DHE_RSA, C_AES256CBC, M_SHA256, V_TLS12 },
	{ "DHE-RSA-AES128-SHA", KX_DHE_RSA, C_AES128CBC, M_SHA1, V_SSL3 },
	{ "DHE-RSA-AES256-SHA", KX_DHE_RSA, C_AES256CBC, M_SHA1, V_SSL3 },
	{ "DHE-RSA-CAMELLIA128-SHA256", KX_DHE_RSA, C_CAMELLIA128, M_SHA256, V_TLS12 },
	{ "DHE-RSA-CAMELLIA256-SHA256", KX_DHE_RSA, C_CAMELLIA256, M_SHA256, V_TLS12 },
	{ "DHE-RSA-CAMELLIA128-SHA", KX_DHE_RSA, C_CAMELLIA128, M_SHA1, V_SSL3 },
	{ "DHE-RSA-CAMELLIA256-SHA", KX_DHE_RSA, C_CAMELLIA256, M_SHA1, V_SSL3 },
	{ "AES128-GCM-SHA256", KX_RSA, C_AES128GCM, M_AEAD, V_TLS12 },
	{ "AES256-GCM-SHA384", KX_RSA, C_AES256GCM, M_AEAD, V_TLS12 },
	{ "AES128-CCM", KX_RSA, C_AES128CCM, M_AEAD, V_TLS12 },
	{ "AES256-CCM", KX_RSA, C_AES256CCM, M_AEAD, V_TLS12 },
	{ "AES128-CCM8", KX_RSA, C_AES128CCM8, M_AEAD, V_TLS12 },
	{ "AES256-CCM8", KX_RSA, C_AES256CCM8, M_AEAD, V_TLS12 },
	{ "AES128-SHA256", KX_RSA, C_AES128CBC, M_SHA256, V_TLS12 },
	{ "AES256-SHA256", KX_RSA, C_AES256CBC, M_SHA256, V_TLS12 },
	{ "AES128-SHA", KX_RSA, C_AES128CBC, M_SHA1, V_SSL3 },
	{ "AES256-SHA", KX_RSA, C_AES256CBC, M_SHA1, V_SSL3 },
	{ "CAMELLIA128-SHA256", KX_RSA, C_CAMELLIA128, M_SHA256, V_TLS12 },
	{ "CAMELLIA256-SHA256", KX_RSA, C_CAMELLIA256, M_SHA256, V_TLS12 },
	{ "CAMELLIA128-SHA", KX_RSA, C_CAMELLIA128, M_SHA1, V_SSL3 },
	{ "CAMELLIA256-SHA", KX_RSA, C_CAMELLIA256, M_SHA1, V_SSL3 },
	/* OpenSSL counts these as HIGH; GnuTLS has no ARIA. */
	{ "ECDHE-ECDSA-ARIA128-GCM-SHA256", KX_ECDHE_ECDSA, C_ARIA128GCM, M_AEAD, V_TLS12 },
	{ "ECDHE-ECDSA-ARIA256-GCM-SHA384", KX_ECDHE_ECDSA, C_ARIA256GCM, M_AEAD, V_TLS12 },
	{ "ECDHE-ARIA128-GCM-SHA256", KX_ECDHE_RSA, C_ARIA128GCM, M_AEAD, V_TLS12 },
	{ "ECDHE-ARIA256-GCM-SHA384", KX_ECDHE_RSA, C_ARIA256GCM, M_AEAD, V_TLS12 },
	{ "DHE-RSA-ARIA128-GCM-SHA256", KX_DHE_RSA, C_ARIA128GCM, M_AEAD, V_TLS12 },
	{ "DHE-RSA-ARIA256-GCM-SHA384", KX_DHE_RSA, C_ARIA256GCM, M_AEAD, V_TLS12 },
	{ "ARIA128-GCM-SHA256", KX_RSA, C_ARIA128GCM, M_AEAD, V_TLS12 },
	{ "ARIA256-GCM-SHA384", KX_RSA, C_ARIA256GCM, M_AEAD, V_TLS12 },
};
#define NSUITES (sizeof suites / sizeof suites[0])
_Static_assert(NSUITES <= 64, "a set is a 64-bit word");

typedef uint64_t set;    /* a bit per suite */

/* What an alias selects, as a test on one suite. */
enum test { T_ALL, T_NONE, T_KX, T_AUTH_RSA, T_CIPHERS, T_MAC, T_SINCE };

static const struct alias {
	const char *name;
	enum test test;
	unsigned bits;       /* kx, cipher or mac bits; since value */
} aliases[] = {
	{ "ALL", T_ALL, 0 }, { "DEFAULT", T_ALL, 0 }, { "HIGH", T_ALL, 0 },
	{ "COMPLEMENTOFDEFAULT", T_NONE, 0 }, { "COMPLEMENTOFALL", T_NONE, 0 },
	{ "MEDIUM", T_NONE, 0 }, { "LOW", T_NONE, 0 }, { "EXP", T_NONE, 0 },
	{ "EXPORT", T_NONE, 0 }, { "eNULL", T_NONE, 0 }, { "NULL", T_NONE, 0 },
	{ "aNULL", T_NONE, 0 }, { "ADH", T_NONE, 0 }, { "AECDH", T_NONE, 0 },
	{ "aDSS", T_NONE, 0 }, { "DSS", T_NONE, 0 }, { "PSK", T_NONE, 0 },
	{ "kPSK", T_NONE, 0 }, { "aPSK", T_NONE, 0 }, { "kECDHEPSK", T_NONE, 0 },
	{ "kDHEPSK", T_NONE, 0 }, { "kRSAPSK", T_NONE, 0 }, { "SRP", T_NONE, 0 },
	{ "kSRP", T_NONE, 0 }, { "aSRP", T_NONE, 0 }, { "3DES", T_NONE, 0 },
	{ "DES", T_NONE, 0 }, { "RC4", T_NONE, 0 }, { "RC2", T_NONE, 0 },
	{ "IDEA", T_NONE, 0 }, { "SEED", T_NONE, 0 }, { "MD5", T_NONE, 0 },
 { "aGOST", T_NONE, 0 }, { "kGOST", T_NONE, 0 },
	{ "GOST94", T_NONE, 0 }, { "GOST89MAC", T_NONE, 0 },
	{ "kRSA", T_KX, 1u << KX_RSA }, { "RSA", T_KX, 1u << KX_RSA },
	{ "aRSA", T_AUTH_RSA, 0 },
	{ "kDHE", T_KX, 1u << KX_DHE_RSA }, { "kEDH", T_KX, 1u << KX_DHE_RSA },
	{ "DH", T_KX, 1u << KX_DHE_RSA }, { "DHE", T_KX, 1u << KX_DHE_RSA },
	{ "EDH", T_KX, 1u << KX_DHE_RSA },
	{ "kECDHE", T_KX, 1u << KX_ECDHE_ECDSA | 1u << KX_ECDHE_RSA },
	{ "kEECDH", T_KX, 1u << KX_ECDHE_ECDSA | 1u << KX_ECDHE_RSA },
	{ "ECDH", T_KX, 1u << KX_ECDHE_ECDSA | 1u << KX_ECDHE_RSA },
	{ "ECDHE", T_KX, 1u << KX_ECDHE_ECDSA | 1u << KX_ECDHE_RSA },
	{ "EECDH", T_KX, 1u << KX_ECDHE_ECDSA | 1u << KX_ECDHE_RSA },
	{ "aECDSA", T_KX, 1u << KX_ECDHE_ECDSA },
	{ "ECDSA", T_KX, 1u << KX_ECDHE_ECDSA },
	{ "AES128", T_CIPHERS, 1u << C_AES128GCM | 1u << C_AES128CCM |
	                       1u << C_AES128CCM8 | 1u << C_AES128CBC },
	{ "AES256", T_CIPHERS, 1u << C_AES256GCM | 1u << C_AES256CCM |
	                       1u << C_AES256CCM8 | 1u << C_AES256CBC },
	{ "AES", T_CIPHERS, 1u << C_AES128GCM | 1u << C_AES128CCM |
	                    1u << C_AES128CCM8 | 1u << C_AES128CBC |
	                    1u << C_AES256GCM | 1u << C_AES256CCM |
	                    1u << C_AES256CCM8 | 1u << C_AES256CBC },
	{ "AESGCM", T_CIPHERS, 1u << C_AES128GCM | 1u << C_AES256GCM },
	{ "AESCCM", T_CIPHERS, 1u << C_AES128CCM | 1u << C_AES256CCM |
	                       1u << C_AES128CCM8 | 1u << C_AES256CCM8 },
	{ "AESCCM8", T_CIPHERS, 1u << C_AES128CCM8 | 1u << C_AES256CCM8 },
	{ "CAMELLIA128", T_CIPHERS, 1u << C_CAMELLIA128 },
	{ "CAMELLIA256", T_CIPHERS, 1u << C_CAMELLIA256 },
	{ "CAMELLIA", T_CIPHERS, 1u << C_CAMELLIA128 | 1u << C_CAMELLIA256 },
	{ "CHACHA20", T_CIPHERS, 1u << C_CHACHA20 },
	{ "ARIA128", T_CIPHERS, 1u << C_ARIA128GCM },
	{ "ARIA256", T_CIPHERS, 1u << C_ARIA256GCM },
	{ "ARIA", T_CIPHERS, 1u << C_ARIA128GCM | 1u << C_ARIA256GCM },
	{ "ARIAGCM", T_CIPHERS, 1u << C_ARIA128GCM | 1u << C_ARIA256GCM },
	{ "SHA1", T_MAC, 1u << M_SHA1 }, { "SHA", T_MAC, 1u << M_SHA1 },
	{ "SHA256", T_MAC, 1u << M_SHA256 }, { "SHA384", T_MAC, 1u << M_SHA384 },
	{ "TLSv1.2", T_SINCE, V_TLS12 }, { "TLSv1.0", T_SINCE, V_TLS1 },
	{ "TLSv1", T_SINCE, V_TLS1 }, { "SSLv3", T_SINCE, V_SSL3 },
};

static int passes(const struct alias *a, const struct suite *s)
{
	switch (a->test) {
	case T_ALL: return 1;
	case T_NONE: return 0;
	case T_KX: return (a->bits >> s->kx) & 1;
	case T_AUTH_RSA: return s->kx != KX_ECDHE_ECDSA;
	case T_CIPHERS: return (a->bits >> s->cipher) & 1;
	case T_MAC: return (a->bits >> s->mac) & 1;
	case T_SINCE: return s->since == (enum since)a->bits;
	}
	return 0;
}

/* One name of an item ("ECDHE", "AES128-SHA"): its suites, or -1 when
 * OpenSSL and GnuTLS share no meaning for it. */
static int name_set(const char *name, set *out)
{
	*out = 0;
	for (size_t i = 0; i < NSUITES; i++)
		if (strcmp(suites[i].openssl, name) == 0) {
			*out = (set)1 << i;
			return 0;
		}
	for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++) {
		if (strcmp(aliases[a].name, name) != 0)
			continue;
		for (size_t i = 0; i < NSUITES; i++)
			if (passes(&aliases[a], &suites[i]))
				*out |= (set)1 << i;
		return 0;
	}
	return -1;
}

/* "A+B+C": the suites all its names select. */
static int item_set(char *item, set *out)
{
	*out = ~(set)0;
	for (char *name = strtok(item, "+"); name; name = strtok(NULL, "+")) {
		set s;

		if (name_set(name, &s) < 0)
			return -1;
		*out &= s;
	}
	return 0;
}

struct eval {
	set on, killed;
	int ordered;         /* @STRENGTH or '+': an order was asked for */
};

/* One item of the list, as OpenSSL applies it: add, '-' remove (it may
 * come back), '!' remove for good, '+' move to the end. */
static void item(struct importer *im, const struct ngx_directive *d,
                 const char *text, struct eval *e)
{
	char body[128];
	char op = strchr("!-+", text[0]) ? text[0] : 0;
	set s;

	if (text[0] == '@') {
		if (strncmp(text, "@STRENGTH", 9) == 0)
			e->ordered = 1;
		else
			im_note(im, d, "%s: GnuTLS has no security levels; its "
			        "priority keeps its own minimums", text);
		return;
	}
	snprintf(body, sizeof body, "%s", text + (op != 0));
	if (item_set(body, &s) < 0) {
		im_note(im, d, "%s: no cipher suite that GnuTLS has too; left "
		        "out", text);
		return;
	}
	if (op == '!') {
		e->killed |= s;
		e->on &= ~s;
	} else if (op == '-') {
		e->on &= ~s;
	} else if (op == '+') {
		e->ordered = 1;
	} else {
		e->on |= s & ~e->killed;
	}
}

static set evaluate(struct importer *im, const struct ngx_directive *d,
                    const char *list, int *ordered)
{
	struct eval e = { 0, 0, 0 };
	char word[128];

	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ": ,");

		if (n > 0 && n < sizeof word) {
			memcpy(word, p, n);
			word[n] = '\0';
			item(im, d, word, &e);
		} else if (n > 0) {
			im_note(im, d, "an item of %zu characters: left out", n);
		}
		p += n + (p[n] != '\0');
	}
	*ordered = e.ordered;
	return e.on;
}

/* Versions: what GnuTLS speaks of the list; the rest noted. Bits: 1 for
 * TLS 1.2, 2 for TLS 1.3. */
static int versions(struct importer *im, const struct ngx_directive *d)
{
	int v = 0;

	if (!d)
		return 1 | 2;   /* nginx 1.22's default: TLSv1.2 TLSv1.3 */
	for (int i = 0; i < d->nargs; i++) {
		const char *a = d->args[i];

		if (strcmp(a, "TLSv1.2") == 0)
			v |= 1;
		else if (strcmp(a, "TLSv1.3") == 0)
			v |= 2;
		else if (strcmp(a, "SSLv2") == 0 || strcmp(a, "SSLv3") == 0 ||
		         strcmp(a, "TLSv1") == 0 || strcmp(a, "TLSv1.1") == 0)
			im_note(im, d, "%s: left out: postern speaks TLS 1.2 and "
			        "1.3 (RFC 8996 retires the older ones; nginx on "
			        "OpenSSL 3 refuses them too at its default "
			        "security level)", a);
		else
			return im_refuse(im, d, "ssl_protocols: \"%s\" is not one of "
			                 "SSLv2 SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3",
			                 a);
	}
	if (!v)
		return im_refuse(im, d, "ssl_protocols: neither TLSv1.2 nor "
		                 "TLSv1.3, and postern speaks no other");
	return v;
}

static void add(char *out, size_t size, const char *sep, const char *word)
{
	size_t n = strlen(out);

	snprintf(out + n, size - n, "%s%s", sep, word);
}

/* The suites GnuTLS will offer beside those the list named, noted. */
static void note_extra(struct importer *im, const struct ngx_directive *d,
                       set extra, int tls13)
{
	char names[1024] = "";

	for (size_t i = 0; i < NSUITES; i++)
		if ((extra >> i) & 1)
			add(names, sizeof names, names[0] ? " " : "",
			    suites[i].openssl);
	if (names[0])
		im_note(im, d, "GnuTLS enables key exchanges, ciphers and MACs "
		        "each on their own%s, so these are offered too: %s",
		        tls13 ? " (and TLS 1.3's ciphers serve TLS 1.2 too)" : "",
		        names);
}

/* The suites of the list that GnuTLS lacks, noted and taken out. */
static void note_missing(struct importer *im, const struct ngx_directive *d,
                         set *on)
{
	char names[1024] = "";

	for (size_t i = 0; i < NSUITES; i++)
		if ((*on >> i & 1) && !cipher_names[suites[i].cipher]) {
			add(names, sizeof names, names[0] ? " " : "",
			    suites[i].openssl);
			*on &= ~((set)1 << i);
		}
	if (names[0])
		im_note(im, d, "GnuTLS does not have these, which nginx offers: "
		        "%s; left out", names);
}

int im_priority(struct importer *im, const struct ngx_directive *protocols,
                const struct ngx_directive *ciphers,
                const struct ngx_directive *prefer, int dhparam,
                const struct ngx_directive *server, char *out, size_t size)
{
	const struct ngx_directive *at = ciphers ? ciphers :
	                                 protocols ? protocols :
	                                 prefer ? prefer : server;
	unsigned kx = 0, cipher = 0, mac = 0;
	int v = versions(im, protocols), ordered = 0;
	set on, product = 0;

	if (v < 0)
		return -1;
	if (prefer && (prefer->nargs != 1 || (strcmp(prefer->args[0], "on") != 0 &&
	                                      strcmp(prefer->args[0], "off") != 0)))
		return im_refuse(im, prefer, "ssl_prefer_server_ciphers: want on "
		                 "or off");
	if (ciphers && ciphers->nargs != 1)
		return im_refuse(im, ciphers, "ssl_ciphers: want one list");
	on = evaluate(im, ciphers, ciphers ? ciphers->args[0]
	                                   : "HIGH:!aNULL:!MD5", &ordered);
	if (!dhparam) {
		set dhe = 0;

		for (size_t i = 0; i < NSUITES; i++)
			if (suites[i].kx == KX_DHE_RSA)
				dhe |= (set)1 << i;
		if (on & dhe && ciphers)
			im_note(im, ciphers, "DHE suites: left out, as nginx "
			        "offers them only with ssl_dhparam");
		on &= ~dhe;
	}
	note_missing(im, at, &on);
	for (size_t i = 0; i < NSUITES; i++)
		if ((on >> i) & 1) {
			kx |= 1u << suites[i].kx;
			cipher |= 1u << suites[i].cipher;
			mac |= 1u << suites[i].mac;
		}
	if (v & 2) {
		/* OpenSSL's TLS 1.3 suites, which ssl_ciphers leaves alone. */
		cipher |= 1u << C_AES128GCM | 1u << C_AES256GCM | 1u << C_CHACHA20;
		mac |= 1u << M_AEAD;
	}
	if (!(v & 2) && !on)
		return im_refuse(im, at, "ssl_ciphers: no suite GnuTLS has "
		                 "for TLS 1.2, and TLS 1.3 is not on");
	for (size_t i = 0; i < NSUITES; i++)
		if ((kx >> suites[i].kx & 1) && (cipher >> suites[i].cipher & 1) &&
		    (mac >> suites[i].mac & 1))
			product |= (set)1 << i;
	if (v & 1)
		note_extra(im, at, product & ~on, v & 2);
	if ((v & 2) && (cipher >> C_AES128CCM & 1))
		im_note(im, at, "TLS_AES_128_CCM_SHA256 is offered in TLS "
		        "1.3 too (GnuTLS shares AES-128-CCM between versions)");
	out[0] = '\0';
	add(out, size, "", "NORMAL:-VERS-ALL");
	if (v & 2)
		add(out, size, ":", "+VERS-TLS1.3");
	if (v & 1)
		add(out, size, ":", "+VERS-TLS1.2");
	add(out, size, ":", "-KX-ALL");
	for (int i = 0; i < NKX; i++)
		if (kx >> i & 1)
			add(out, size, ":+", kx_names[i]);
	add(out, size, ":", "-CIPHER-ALL");
	for (size_t i = 0; i < sizeof cipher_order / sizeof cipher_order[0]; i++)
		if (cipher >> cipher_order[i] & 1)
			add(out, size, ":+", cipher_names[cipher_order[i]]);
	add(out, size, ":", "-MAC-ALL");
	for (int i = 0; i < NMAC; i++)
		if (mac >> mac_order[i] & 1)
			add(out, size, ":+", mac_names[mac_order[i]]);
	if (prefer && strcmp(prefer->args[0], "on") == 0) {
		add(out, size, ":", "%SERVER_PRECEDENCE");
		if (ordered || ciphers)
			im_note(im, prefer, "the server's order is GnuTLS's, not "
			        "the order of ssl_ciphers");
	}
	if (strlen(out) + 1 >= size)
		return im_refuse(im, at, "ssl_ciphers: the GnuTLS priority "
		                 "is longer than %zu bytes", size - 1);
	return 0;
}
