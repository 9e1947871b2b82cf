/* The embedded lookup: a static map file routing users to backends.
 *   alice@example.org   192.0.2.10:143     exact user
 *   @example.org        192.0.2.11:143     any user of the domain
 *   *                   [2001:db8::1]:143  everyone else
 *   @example.net        192.0.2.12         the protocol's standard port
 * The backend checks the password; postern only routes. */
#ifndef POSTERN_AUTH_MAP_H
#define POSTERN_AUTH_MAP_H

#include "lookup.h"

#include <stdio.h>

#define AUTH_MAP_LINE_MAX 1024

/* 1 and the backend text when a line matches, 0 when none does, -1 on a
 * malformed file (why says where). */
int auth_map_find(FILE *f, const char *user, char *backend, size_t size,
                  char *why, size_t why_size);

/* Every line of the map, as a connection would read it, each backend
 * with default_port where it has none: 0, or -1 with why ("LINE: what"),
 * for postern -t and -A. */
int auth_map_check(FILE *f, unsigned default_port, char *why,
                   size_t why_size);

void auth_map_query(const char *path, const struct auth_request *req,
                    struct auth_reply *rep);

#endif
