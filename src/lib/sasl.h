/* SASL mechanisms a client may use towards postern. Only decoding lives
 * here; the exchange itself (continuations) belongs to each protocol. */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H

#include "base64.h"

#include <stddef.h>
#include <sys/types.h>

#define CRED_MAX 256
/* OAuth 2.0 bearer tokens: Google's are short, Microsoft's JWTs run to a
 * few kilobytes. */
#define TOKEN_MAX 8192

/* Names are nginx's *_auth values; NONE is smtp_auth none. */
enum sasl_mech {
	SASL_PLAIN = 1 << 0,
	SASL_LOGIN = 1 << 1,
	SASL_CRAM_MD5 = 1 << 2,
	SASL_APOP = 1 << 3,
	SASL_NONE = 1 << 4,
	SASL_EXTERNAL = 1 << 5,
	SASL_XOAUTH2 = 1 << 6,
	SASL_OAUTHBEARER = 1 << 7,
};

/* OAuth 2.0: the bearer token goes to the auth server as Auth-Pass. */
#define SASL_OAUTH (SASL_XOAUTH2 | SASL_OAUTHBEARER)

/* Methods whose proof only the auth server can check: it gets the digest
 * and the salt, and must answer with the cleartext Auth-Pass. */
#define SASL_SALTED (SASL_CRAM_MD5 | SASL_APOP)
/* ... and EXTERNAL, proved by the client certificate: the auth server
 * judges the Auth-SSL-* headers and returns the password too. */
#define SASL_NEEDS_AUTH_SERVER (SASL_SALTED | SASL_EXTERNAL)

/* "<pid.time@server_name>" (RFC 1939 APOP timestamp, RFC 2195 challenge). */
#define SALT_MAX 300

struct credentials {
	char user[CRED_MAX];
	char pass[CRED_MAX];
	char token[TOKEN_MAX];       /* SASL_OAUTH: the bearer token */
	/* One enum sasl_mech: SASL_SALTED ones carry a digest of the
	 * session's salt in pass, EXTERNAL the certificate as the proof. */
	unsigned mech;
};

/* "plain" -> SASL_PLAIN; 0 if unknown. */
unsigned sasl_mech_parse(const char *name);
const char *sasl_mech_name(unsigned mech);  /* "PLAIN" */
/* Auth-Method, as nginx names it: LOGIN is "plain", NONE "none". */
const char *sasl_auth_method(unsigned mech);

/* The salt for APOP and CRAM-MD5; -1 if it does not fit. */
int sasl_salt(char *out, size_t size, long pid, long long now,
              const char *server_name);

/* RFC 4616: base64("authzid\0authcid\0passwd"); authzid is ignored, as
 * nginx does. Returns 0, or -1 with *why set. */
int sasl_plain(const char *b64, size_t len, struct credentials *c,
               const char **why);
/* One base64 field of the LOGIN exchange into out (NUL-terminated). */
int sasl_login_field(const char *b64, size_t len, char *out, size_t size,
                     const char **why);

/* RFC 2195: base64("user SP 32 lowercase hex digits"). The digest goes
 * to the auth server as Auth-Pass, the method as "cram-md5". */
int sasl_cram_md5(const char *b64, size_t len, struct credentials *c,
                  const char **why);
/* RFC 1939 APOP: the user and the hex MD5 digest, method "apop". */
int sasl_apop(const char *user, const char *digest, struct credentials *c,
              const char **why);

/* 0 when user or password holds a control character: a CR or LF would
 * start a second command in a line-based backend login. */
int credentials_fit_a_line(const struct credentials *c);

/* RFC 4422 EXTERNAL: the optional authorization identity, base64 ("="
 * or empty for none), method "external". */
int sasl_external(const char *b64, size_t len, struct credentials *c,
                  const char **why);

/* Google's XOAUTH2: base64("user=" user ^A "auth=Bearer " token ^A ^A).
 * The user and the token; 0, or -1 with *why. */
int sasl_xoauth2(const char *b64, size_t len, struct credentials *c,
                 const char **why);
/* RFC 7628 OAUTHBEARER: base64(gs2-header ^A *(key=value ^A) ^A). The user
 * is the header's authzid (a=), "" when absent; the token is auth's.
 * Channel binding (p=) is refused: there is none to bind to here. */
int sasl_oauthbearer(const char *b64, size_t len, struct credentials *c,
                     const char **why);
/* The same mechanism's message for the backend, base64-encoded: the
 * client's user and token replayed. The length, or -1 if size is short. */
#define OAUTH_MESSAGE_MAX BASE64_ENCODED_LEN(TOKEN_MAX + CRED_MAX + 64)
ssize_t sasl_oauth_message(const struct credentials *c, char *out,
                           size_t size);
/* The client's answer to an OAuth failure challenge: ^A (OAUTHBEARER)
 * or nothing (XOAUTH2), as base64 or empty. */
int sasl_oauth_dummy(const char *b64, size_t len);

/* Wipe the secret before memory is reused or the process execs; the
 * mechanism is forgotten too. */
void credentials_clear(struct credentials *c);

#endif
