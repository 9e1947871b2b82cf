#include "sasl.h"
#include "base64.h"
#include "strbuf.h"

#include <ctype.h>
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
	{ "XOAUTH2", SASL_XOAUTH2, "xoauth2" },
	{ "OAUTHBEARER", SASL_OAUTHBEARER, "oauthbearer" },
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
	return !has_control(c->user) && !has_control(c->pass) &&
	       !has_control(c->token);
}

void credentials_clear(struct credentials *c)
{
	explicit_bzero(c->pass, sizeof c->pass);
	explicit_bzero(c->token, sizeof c->token);
	c->mech = 0;
}

/* RFC 6750 b64token: what a bearer token may hold, so that it can go into
 * an HTTP header and a SASL replay as it is. */
static int b64token(const char *t, size_t n)
{
	size_t i = 0;

	while (i < n && (isalnum((unsigned char)t[i]) || strchr("-._~+/", t[i])))
		i++;
	if (i == 0)
		return 0;
	while (i < n && t[i] == '=')
		i++;
	return i == n;
}

/* "auth=Bearer <token>" among ^A-terminated key=value pairs that end in
 * an empty one. */
static int take_auth(const char *p, const char *end, struct credentials *c,
                     const char **why)
{
	int found = 0;

	while (p < end && *p != '\x01') {
		const char *sep = memchr(p, '\x01', (size_t)(end - p));
		size_t n;

		if (!sep) {
			*why = "a key=value pair does not end";
			return -1;
		}
		n = (size_t)(sep - p);
		if (n >= 12 && strncmp(p, "auth=", 5) == 0 &&
		    strncasecmp(p + 5, "Bearer ", 7) == 0) {
			const char *t = p + 12;
			size_t tn = n - 12;

			if (found || !b64token(t, tn) || tn >= sizeof c->token) {
				*why = "invalid bearer token";
				return -1;
			}
			memcpy(c->token, t, tn);
			c->token[tn] = '\0';
			found = 1;
		} else if (!memchr(p, '=', n)) {
			*why = "a pair without =";
			return -1;
		}
		p = sep + 1;
	}
	if (p + 1 != end || !found) {
		*why = found ? "the message does not end in ^A^A" : "no auth=Bearer";
		return -1;
	}
	return 0;
}

static ssize_t decode(const char *b64, size_t len, char *buf, size_t size,
                      const char **why)
{
	ssize_t n = base64_decode(b64, len, buf, size);

	if (n < 0)
		*why = "invalid base64";
	else if (memchr(buf, '\0', (size_t)n)) {
		*why = "NUL in the message";
		n = -1;
	}
	return n;
}

static int take_user(const char *u, size_t n, struct credentials *c,
                     const char **why)
{
	if (n >= sizeof c->user) {
		*why = "user name too long";
		return -1;
	}
	memcpy(c->user, u, n);
	c->user[n] = '\0';
	return 0;
}

int sasl_xoauth2(const char *b64, size_t len, struct credentials *c,
                 const char **why)
{
	static char buf[TOKEN_MAX + CRED_MAX + 64];
	ssize_t n = decode(b64, len, buf, sizeof buf, why);
	const char *sep;
	int rc = -1;

	if (n < 0)
		return -1;
	sep = memchr(buf, '\x01', (size_t)n);
	if (n < 5 || strncmp(buf, "user=", 5) != 0 || !sep || sep == buf + 5)
		*why = "invalid XOAUTH2 message";
	else if (take_user(buf + 5, (size_t)(sep - buf - 5), c, why) == 0 &&
	         take_auth(sep + 1, buf + n, c, why) == 0)
		rc = 0;
	explicit_bzero(buf, sizeof buf);
	if (rc == 0)
		c->mech = SASL_XOAUTH2;
	else
		explicit_bzero(c->token, sizeof c->token);
	return rc;
}

/* gs2-header: ("n" / "y") "," ["a=" saslname] ",", with saslname's =2C
 * and =3D for "," and "=". */
static const char *gs2_header(const char *p, const char *end,
                              struct credentials *c, const char **why)
{
	size_t u = 0;

	if (end - p < 3 || (p[0] != 'n' && p[0] != 'y') || p[1] != ',') {
		*why = p < end && p[0] == 'p' ? "channel binding is not offered"
		                              : "invalid gs2 header";
		return NULL;
	}
	p += 2;
	if (end - p >= 2 && p[0] == 'a' && p[1] == '=') {
		for (p += 2; p < end && *p != ','; p++) {
			char ch = *p;

			if (ch == '=') {
				if (end - p < 3 || (strncmp(p, "=2C", 3) &&
				                    strncmp(p, "=3D", 3))) {
					*why = "invalid authzid";
					return NULL;
				}
				ch = p[2] == 'C' ? ',' : '=';
				p += 2;
			}
			if (u + 1 >= sizeof c->user) {
				*why = "user name too long";
				return NULL;
			}
			c->user[u++] = ch;
		}
	}
	c->user[u] = '\0';
	if (p >= end || *p != ',' || p + 1 >= end || p[1] != '\x01') {
		*why = "invalid gs2 header";
		return NULL;
	}
	return p + 2;
}

int sasl_oauthbearer(const char *b64, size_t len, struct credentials *c,
                     const char **why)
{
	static char buf[TOKEN_MAX + CRED_MAX + 512];
	ssize_t n = decode(b64, len, buf, sizeof buf, why);
	const char *kv;
	int rc = -1;

	if (n < 0)
		return -1;
	kv = gs2_header(buf, buf + n, c, why);
	if (kv && take_auth(kv, buf + n, c, why) == 0)
		rc = 0;
	explicit_bzero(buf, sizeof buf);
	if (rc == 0)
		c->mech = SASL_OAUTHBEARER;
	else
		explicit_bzero(c->token, sizeof c->token);
	return rc;
}

ssize_t sasl_oauth_message(const struct credentials *c, char *out,
                           size_t size)
{
	static char msg[TOKEN_MAX + 3 * CRED_MAX + 64];
	struct strbuf o;
	ssize_t r;

	strbuf_init(&o, msg, sizeof msg);
	if (c->mech == SASL_XOAUTH2) {
		strbuf_printf(&o, "user=%s\x01", c->user);
	} else {
		/* saslname: "," and "=" written =2C and =3D. */
		strbuf_printf(&o, "n,%s", c->user[0] ? "a=" : "");
		for (const char *u = c->user; *u; u++)
			if (*u == ',' || *u == '=')
				strbuf_puts(&o, *u == ',' ? "=2C" : "=3D");
			else
				strbuf_put(&o, u, 1);
		strbuf_puts(&o, ",\x01");
	}
	strbuf_printf(&o, "auth=Bearer %s\x01\x01", c->token);
	r = o.overflow ? -1 : base64_encode(msg, o.len, out, size);
	explicit_bzero(msg, sizeof msg);
	return r;
}

int sasl_oauth_dummy(const char *b64, size_t len)
{
	char buf[8];
	ssize_t n;

	if (len == 0 || (len == 1 && b64[0] == '='))
		return 1;
	n = base64_decode(b64, len, buf, sizeof buf);
	return n == 0 || (n == 1 && buf[0] == '\x01');
}
