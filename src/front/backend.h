/* The backend connection: connect within the session's deadline, TLS if
 * proxy_ssl or the auth server wants it, then the protocol's login. */
#ifndef POSTERN_BACKEND_H
#define POSTERN_BACKEND_H

#include "proto.h"

#include <stddef.h>

struct auth_reply;
struct session;

/* Log in at the backend rep names, as rep's user (or the client's). On
 * AUTH_OK s->backend is logged in and the protocol has told the client;
 * otherwise it is closed, text holds the backend's refusal (AUTH_FAILED)
 * and *why the reason for the closing line (AUTH_TEMPFAIL). Each failure
 * is logged here with what went wrong. */
enum auth_result backend_open(struct session *s, const struct auth_reply *rep,
                              char *text, size_t size, const char **why);

#endif
