#include "sasl_exchange.h"
#include "base64.h"
#include "log.h"
#include "sasl.h"
#include "lookup.h"
#include "session_state.h"
#include "session_io.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

static enum step trouble(struct session *s, enum sasl_trouble t,
                         const char *why)
{
	credentials_clear(&s->cred);
	logmsg(LOG_INFO, "event=invalid_sasl reason=\"%s\"", why);
	return s->proto->sasl_trouble(s, t, why);
}

/* Send a challenge and read the answer; -1 with *st set when the exchange
 * is over (cancelled, client gone). */
static int challenge(struct session *s, const char *b64, char **line,
                     size_t *len, enum step *st)
{
	if (session_printf(s, "%s%s\r\n", s->proto->sasl_prompt, b64) < 0) {
		*st = session_client_gone(s, IO_ERROR);
		return -1;
	}
	if (session_getline(s, line, len, st) < 0)
		return -1;
	if (*len == 1 && (*line)[0] == '*') {
		*st = trouble(s, SASL_CANCELLED, "authentication cancelled");
		return -1;
	}
	return 0;
}

/* The result of decoding one response, wiping the line whatever
 * happened. why is read only now: as an argument beside the decoder's
 * call it could be read before the decoder set it. */
static enum step decoded(struct session *s, int rc, char *line, size_t len,
                         const char *const *why)
{
	explicit_bzero(line, len);
	return rc < 0 ? trouble(s, SASL_INVALID, *why) : STEP_LOGIN;
}

static enum step plain(struct session *s, const char *ir, size_t irlen)
{
	const char *why = NULL;
	enum step st;
	char *line;
	size_t len;

	if (ir) {
		if (sasl_plain(ir, strcmp(ir, "=") == 0 ? 0 : irlen, &s->cred,
		               &why) < 0)
			return trouble(s, SASL_INVALID, why);
		return STEP_LOGIN;
	}
	if (challenge(s, "", &line, &len, &st) < 0)
		return st;
	return decoded(s, sasl_plain(line, len, &s->cred, &why), line, len, &why);
}

static enum step login(struct session *s, const char *ir, size_t irlen)
{
	const char *why = NULL;
	enum step st;
	char *line;
	size_t len;
	int rc;

	if (ir) {
		if (sasl_login_field(ir, irlen, s->cred.user, sizeof s->cred.user,
		                     &why) < 0)
			return trouble(s, SASL_INVALID, why);
	} else {
		if (challenge(s, "VXNlcm5hbWU6", &line, &len, &st) < 0)
			return st; /* "Username:" */
		if (sasl_login_field(line, len, s->cred.user, sizeof s->cred.user,
		                     &why) < 0)
			return trouble(s, SASL_INVALID, why);
	}
	if (!s->cred.user[0])
		return trouble(s, SASL_INVALID, "empty user name");
	if (challenge(s, "UGFzc3dvcmQ6", &line, &len, &st) < 0)
		return st; /* "Password:" */
	rc = sasl_login_field(line, len, s->cred.pass, sizeof s->cred.pass, &why);
	s->cred.mech = SASL_LOGIN;
	return decoded(s, rc, line, len, &why);
}

static enum step cram_md5(struct session *s)
{
	char b64[BASE64_ENCODED_LEN(SALT_MAX) + 1];
	const char *salt = sasl_session_salt(s), *why = NULL;
	enum step st;
	char *line;
	size_t len;

	if (!salt || base64_encode(salt, strlen(salt), b64, sizeof b64) < 0)
		return trouble(s, SASL_INVALID, "server_name too long for a salt");
	if (challenge(s, b64, &line, &len, &st) < 0)
		return st;
	return decoded(s, sasl_cram_md5(line, len, &s->cred, &why), line, len,
	               &why);
}

/* Only over TLS with a certificate; the user name is optional. */
static enum step external(struct session *s, const char *ir, size_t irlen)
{
	const char *why = NULL;
	enum step st;
	char *line;
	size_t len;

	if (!s->tls || !s->tls_info || !s->tls_info->has_cert)
		return trouble(s, SASL_INVALID, "EXTERNAL needs a client certificate");
	if (ir)
		return sasl_external(ir, irlen, &s->cred, &why) < 0 ?
		       trouble(s, SASL_INVALID, why) : STEP_LOGIN;
	if (challenge(s, "VXNlcm5hbWU6", &line, &len, &st) < 0)
		return st;
	return decoded(s, sasl_external(line, len, &s->cred, &why), line, len,
	               &why);
}

/* XOAUTH2 and OAUTHBEARER: one message, after an empty challenge when it
 * did not come with the command. */
static enum step oauth(struct session *s, unsigned mech, const char *ir,
                       size_t irlen)
{
	int (*decode)(const char *, size_t, struct credentials *,
	              const char **) = mech == SASL_XOAUTH2 ? sasl_xoauth2
	                                                    : sasl_oauthbearer;
	const char *why = NULL;
	enum step st;
	char *line;
	size_t len;

	if (ir)
		return decode(ir, irlen, &s->cred, &why) < 0 ?
		       trouble(s, SASL_INVALID, why) : STEP_LOGIN;
	if (challenge(s, "", &line, &len, &st) < 0)
		return st;
	return decoded(s, decode(line, len, &s->cred, &why), line, len, &why);
}

int sasl_oauth_failure(struct session *s, const char *json)
{
	char b64[BASE64_ENCODED_LEN(OAUTH_ERROR_MAX) + 1];
	const char *body = json && json[0] ? json :
	                   s->cred.mech == SASL_XOAUTH2 ?
	                   "{\"status\":\"401\",\"schemes\":\"bearer\"}" :
	                   "{\"status\":\"invalid_token\"}";
	enum step st;
	char *line;
	size_t len;

	if (base64_encode(body, strlen(body), b64, sizeof b64) < 0 ||
	    session_printf(s, "%s%s\r\n", s->proto->sasl_prompt, b64) < 0 ||
	    session_getline(s, &line, &len, &st) < 0)
		return -1;
	if (!sasl_oauth_dummy(line, len))
		logmsg(LOG_INFO, "event=invalid_sasl reason=\"the answer to an "
		       "OAuth error was not the dummy one\"");
	return 0;
}

const char *sasl_session_salt(struct session *s)
{
	if (!s->salt[0] &&
	    sasl_salt(s->salt, sizeof s->salt, (long)getpid(),
	              (long long)time(NULL), s->conf->server_name) < 0) {
		s->salt[0] = '\0';
		return NULL;
	}
	return s->salt;
}

enum step sasl_exchange(struct session *s, unsigned mech, const char *ir,
                        size_t irlen)
{
	switch (mech) {
	case SASL_EXTERNAL:
		return external(s, ir, irlen);
	case SASL_PLAIN:
		return plain(s, ir, irlen);
	case SASL_LOGIN:
		return login(s, ir, irlen);
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		return oauth(s, mech, ir, irlen);
	case SASL_CRAM_MD5:
		if (ir)
			return trouble(s, SASL_INVALID,
			               "CRAM-MD5 takes no initial response");
		return cram_md5(s);
	}
	return trouble(s, SASL_INVALID, "unsupported mechanism");
}
