#include "sasl.h"
#include "base64.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned mech;
} mechs[] = {
	{ "PLAIN", SASL_PLAIN },
	{ "LOGIN", SASL_LOGIN },
	{ NULL, 0 },
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
	c->method = "plain";
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

void credentials_clear(struct credentials *c)
{
	explicit_bzero(c->pass, sizeof c->pass);
}
