/* The SASL exchanges a client runs with postern before login: PLAIN, LOGIN,
 * CRAM-MD5, EXTERNAL, XOAUTH2 and OAUTHBEARER. They are the same in the three protocols but for the
 * challenge prefix and the way trouble is answered, which the protocol
 * table gives. */
#ifndef POSTERN_SASL_EXCHANGE_H
#define POSTERN_SASL_EXCHANGE_H

#include "proto.h"

#include <stddef.h>

struct session;

/* Run the exchange for one mechanism. ir is the initial response from the
 * command line (NULL when none came; "=" stands for an empty one); the
 * caller wipes its copy. STEP_LOGIN when s->cred is filled in. */
enum step sasl_exchange(struct session *s, unsigned mech, const char *ir,
                        size_t irlen);

/* An OAuth login refused: the error as a challenge (the auth server's
 * Auth-Error-SASL JSON, or a generic one), then the client's dummy
 * answer (RFC 7628 3.2.3); the protocol's refusal follows. 0, or -1 when
 * the client is gone. */
#define OAUTH_ERROR_MAX 512
int sasl_oauth_failure(struct session *s, const char *json);

/* The connection's APOP/CRAM-MD5 salt, made on first use; NULL if
 * server_name is too long for it. */
const char *sasl_session_salt(struct session *s);

#endif
