/* SASL mechanisms a client may use towards postern. Only decoding lives
 * here; the exchange itself (continuations) belongs to each protocol. */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H

#include <stddef.h>

#define CRED_MAX 256

enum sasl_mech {
	SASL_PLAIN = 1 << 0,
	SASL_LOGIN = 1 << 1,
};

struct credentials {
	char user[CRED_MAX];
	char pass[CRED_MAX];
	const char *method;  /* Auth-Method: "plain", "login", ... */
};

/* "plain" -> SASL_PLAIN; 0 if unknown. */
unsigned sasl_mech_parse(const char *name);
const char *sasl_mech_name(unsigned mech);  /* "PLAIN" */

/* RFC 4616: base64("authzid\0authcid\0passwd"); authzid is ignored, as
 * nginx does. Returns 0, or -1 with *why set. */
int sasl_plain(const char *b64, size_t len, struct credentials *c,
               const char **why);
/* One base64 field of the LOGIN exchange into out (NUL-terminated). */
int sasl_login_field(const char *b64, size_t len, char *out, size_t size,
                     const char **why);

/* Wipe the secret before memory is reused or the process execs. */
void credentials_clear(struct credentials *c);

#endif
