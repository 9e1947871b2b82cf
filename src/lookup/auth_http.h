/* nginx's auth_http protocol: one HTTP/1.0 GET, headers in, headers out. */
#ifndef POSTERN_AUTH_HTTP_H
#define POSTERN_AUTH_HTTP_H

#include "lookup.h"
#include "conf.h"

#include <sys/types.h>

#define AUTH_HTTP_RESPONSE_MAX 4096

/* Percent-encode as nginx does for Auth-User/Auth-Pass: space, '%' and
 * control characters. Returns the length, or -1 if out is too small. */
ssize_t auth_http_escape(const char *in, char *out, size_t size);

/* The request; -1 if it does not fit in size. */
ssize_t auth_http_build(char *buf, size_t size,
                        const struct auth_http_target *t, const char *headers,
                        const struct auth_request *req);

/* 1 when the header block is complete and understood, 0 when more bytes are
 * needed, -1 when malformed (rep->why says how). */
int auth_http_parse(const char *buf, size_t len, int need_password,
                    struct auth_reply *rep);

void auth_http_query(const struct server_conf *c,
                     const struct auth_request *req, struct auth_reply *rep);

#endif
