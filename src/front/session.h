/* The pipeline of one connection: greet, read commands, log in, relay. */
#ifndef POSTERN_SESSION_H
#define POSTERN_SESSION_H

#include "session_state.h"

/* The pipeline: greeting (unless greet is 0: TLS started by STARTTLS goes
 * on without one), commands, login, then ops->relay. Returns the exit
 * code; the closing line is logged by whoever ends the session. */
int session_serve(struct session *s, int greet);

/* The session ended before a relay: log its closing line (with what
 * session_end() recorded) and close so the last reply arrives. */
void session_close(struct session *s);

#endif
