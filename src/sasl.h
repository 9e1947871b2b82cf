/* SASL mechanisms a client may use towards postern. Only decoding lives
 * here; the exchange itself (continuations) belongs to each protocol. */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H

#include <stddef.h>

#define CRED_MAX 256

/* Names are nginx's *_auth values; NONE is smtp_auth none. */
enum sasl_mech {
	SASL_PLAIN = 1 << 0,
	SASL_LOGIN = 1 << 1,
	SASL_CRAM_MD5 = 1 << 2,
	SASL_APOP = 1 << 3,
	SASL_NONE = 1 << 4,
	SASL_EXTERNAL = 1 << 5,
};

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

/* Wipe the secret before memory is reused or the process execs; the
 * mechanism is forgotten too. */
void credentials_clear(struct credentials *c);

#endif
