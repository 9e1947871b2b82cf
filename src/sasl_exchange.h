/* The SASL exchanges a client runs with postern before login: PLAIN, LOGIN
 * and CRAM-MD5. They are the same in the three protocols but for the
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

/* The connection's APOP/CRAM-MD5 salt, made on first use; NULL if
 * server_name is too long for it. */
const char *sasl_session_salt(struct session *s);

#endif
