#include "sasl.h"
#include "base64.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned mech;
	const char *auth_method;
} mechs[] = {
	{ "PLAIN", SASL_PLAIN, "plain" },
	{ "LOGIN", SASL_LOGIN, "plain" },
	{ "CRAM-MD5", SASL_CRAM_MD5, "cram-md5" },
	{ "APOP", SASL_APOP, "apop" },
	{ "NONE", SASL_NONE, "none" },
	{ "EXTERNAL", SASL_EXTERNAL, "external" },
	{ NULL, 0, NULL },
};

unsigned sasl_mech_parse(const char *name)
{
	for (int i = 0; mechs[i].name; i++)
		if (strcasecmp(mechs[i].name, name) == 0)
			return mechs[i].mech;
	return 0;
}

const char *sasl_mech_name(unsigned mech)
{
	for (int i = 0; mechs[i].name; i++)
		if (mechs[i].mech == mech)
			return mechs[i].name;
	return "?";
}

const char *sasl_auth_method(unsigned mech)
{
	for (int i = 0; mechs[i].name; i++)
		if (mechs[i].mech == mech)
			return mechs[i].auth_method;
	return "plain";
}

int sasl_salt(char *out, size_t size, long pid, long long now,
              const char *server_name)
{
	int n = snprintf(out, size, "<%ld.%lld@%s>", pid, now, server_name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int is_digest(const char *d, size_t len)
{
	if (len != 32)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdef", d[i]) || !d[i])
			return 0;
	return 1;
}

/* user and digest are not secrets, but the digest is sent as Auth-Pass. */
static int take_digest(const char *user, size_t ulen, const char *digest,
                       size_t dlen, struct credentials *c, const char **why)
{
	if (ulen == 0 || ulen >= CRED_MAX || memchr(user, '\0', ulen)) {
		*why = "invalid user name";
		return -1;
	}
	if (!is_digest(digest, dlen)) {
		*why = "invalid digest";
		return -1;
	}
	memcpy(c->user, user, ulen);
	c->user[ulen] = '\0';
	memcpy(c->pass, digest, dlen);
	c->pass[dlen] = '\0';
	return 0;
}

int sasl_cram_md5(const char *b64, size_t len, struct credentials *c,
                  const char **why)
{
	char buf[CRED_MAX + 40];
	ssize_t n = base64_decode(b64, len, buf, sizeof buf - 1);
	char *sp;

	if (n < 0) {
		*why = "invalid base64";
		return -1;
	}
	buf[n] = '\0';
	sp = memrchr(buf, ' ', (size_t)n);
	if (!sp) {
		*why = "invalid CRAM-MD5 response";
		return -1;
	}
	if (take_digest(buf, (size_t)(sp - buf), sp + 1,
	                (size_t)(buf + n - sp - 1), c, why) < 0)
		return -1;
	c->mech = SASL_CRAM_MD5;
	return 0;
}

int sasl_apop(const char *user, const char *digest, struct credentials *c,
              const char **why)
{
	if (take_digest(user, strlen(user), digest, strlen(digest), c, why) < 0)
		return -1;
	c->mech = SASL_APOP;
	return 0;
}

int sasl_external(const char *b64, size_t len, struct credentials *c,
                  const char **why)
{
	if (len == 1 && b64[0] == '=')
		len = 0;
	if (sasl_login_field(b64, len, c->user, sizeof c->user, why) < 0)
		return -1;
	c->pass[0] = '\0';
	c->mech = SASL_EXTERNAL;
	return 0;
}

int sasl_plain(const char *b64, size_t len, struct credentials *c,
               const char **why)
{
	char buf[3 * CRED_MAX];
	ssize_t n = base64_decode(b64, len, buf, sizeof buf);
	char *authcid, *pass;
	size_t ulen, plen;

	if (n < 0) {
		*why = "invalid base64";
		return -1;
	}
	authcid = memchr(buf, '\0', (size_t)n);
	pass = authcid ? memchr(authcid + 1, '\0',
	                        (size_t)(buf + n - authcid - 1)) : NULL;
	if (!pass) {
		*why = "invalid PLAIN message";
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	authcid++;
	pass++;
	ulen = strlen(authcid);
	plen = (size_t)(buf + n - pass);
	if (ulen == 0 || ulen >= CRED_MAX || plen >= CRED_MAX ||
	    memchr(pass, '\0', plen)) {
		*why = "invalid PLAIN credentials";
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	memcpy(c->user, authcid, ulen + 1);
	memcpy(c->pass, pass, plen);
	c->pass[plen] = '\0';
	c->mech = SASL_PLAIN;
	explicit_bzero(buf, sizeof buf);
	return 0;
}

int sasl_login_field(const char *b64, size_t len, char *out, size_t size,
                     const char **why)
{
	ssize_t n = base64_decode(b64, len, out, size - 1);

	if (n < 0) {
		*why = "invalid base64";
		return -1;
	}
	out[n] = '\0';
	if (strlen(out) != (size_t)n) {
		*why = "NUL in LOGIN field";
		explicit_bzero(out, size);
		return -1;
	}
	return 0;
}

static int has_control(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

int credentials_fit_a_line(const struct credentials *c)
{
	return !has_control(c->user) && !has_control(c->pass);
}

void credentials_clear(struct credentials *c)
{
	explicit_bzero(c->pass, sizeof c->pass);
	c->mech = 0;
}
