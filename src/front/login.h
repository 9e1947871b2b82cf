/* A login, by nginx's rules: ask the section's lookup where the user
 * lives (again after Auth-Wait, with Login-Attempt counting), log in at
 * that backend, and turn the outcome into the session's next step. */
#ifndef POSTERN_LOGIN_H
#define POSTERN_LOGIN_H

#include "proto.h"

struct session;

/* s->cred holds what the client sent. STEP_HANDOFF when the backend is
 * logged in; the credentials are wiped on every other outcome. */
enum step login_run(struct session *s);

#endif
