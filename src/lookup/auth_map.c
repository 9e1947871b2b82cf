#include "auth_map.h"
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

enum { MATCH_NONE, MATCH_ANY, MATCH_DOMAIN, MATCH_USER };

static int rank(const char *key, const char *user)
{
	const char *at = strrchr(user, '@');

	if (strcasecmp(key, user) == 0)
		return MATCH_USER;
	if (key[0] == '@' && at && strcasecmp(key, at) == 0)
		return MATCH_DOMAIN;
	if (strcmp(key, "*") == 0)
		return MATCH_ANY;
	return MATCH_NONE;
}

int auth_map_find(FILE *f, const char *user, char *backend, size_t size,
                  char *why, size_t why_size)
{
	char line[AUTH_MAP_LINE_MAX + 2];
	int best = MATCH_NONE, lineno = 0;

	while (fgets(line, sizeof line, f)) {
		char *key, *value, *extra, *save = NULL;
		int r;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, why_size, "line %d is too long", lineno);
			return -1;
		}
		line[strcspn(line, "#\r\n")] = '\0';
		key = strtok_r(line, " \t", &save);
		if (!key)
			continue;
		value = strtok_r(NULL, " \t", &save);
		extra = strtok_r(NULL, " \t", &save);
		if (!value || extra) {
			snprintf(why, why_size, "line %d: want \"KEY HOST:PORT\"",
			         lineno);
			return -1;
		}
		r = rank(key, user);
		if (r > best) {
			best = r;
			snprintf(backend, size, "%s", value);
		}
	}
	if (ferror(f)) {
		snprintf(why, why_size, "read error: %s", strerror(errno));
		return -1;
	}
	return best != MATCH_NONE;
}

/* "192.0.2.10" or "[2001:db8::1]" alone: the protocol's standard port,
 * so that one map serves IMAP, POP3 and SMTP sections alike. */
static void add_default_port(char *backend, size_t size, unsigned port)
{
	const char *colon = strrchr(backend, ':');
	const char *bracket = strchr(backend, ']');
	size_t n = strlen(backend);

	if (colon && (backend[0] != '[' || (bracket && colon > bracket)))
		return;
	if (port)
		snprintf(backend + n, size - n, ":%u", port);
}

void auth_map_query(const char *path, const struct auth_request *req,
                    struct auth_reply *rep)
{
	char backend[AUTH_MAP_LINE_MAX], why[128];
	FILE *f = fopen(path, "re");
	int found;

	if (!f) {
		snprintf(rep->why, sizeof rep->why, "auth_map %s: %s", path,
		         strerror(errno));
		rep->status = AUTH_STATUS_TEMPFAIL;
		return;
	}
	found = auth_map_find(f, req->map_key ? req->map_key : req->user,
	                      backend, sizeof backend, why, sizeof why);
	fclose(f);
	if (found < 0) {
		snprintf(rep->why, sizeof rep->why, "auth_map %s: %s", path, why);
		rep->status = AUTH_STATUS_TEMPFAIL;
		return;
	}
	if (found == 0) {
		snprintf(rep->why, sizeof rep->why, "no route for the user");
		rep->status = AUTH_STATUS_FAIL;
		return;
	}
	add_default_port(backend, sizeof backend, req->default_port);
	if (addr_parse(backend, &rep->backend) < 0) {
		snprintf(rep->why, sizeof rep->why,
		         "auth_map %s: bad backend \"%.40s\"", path, backend);
		rep->status = AUTH_STATUS_TEMPFAIL;
		return;
	}
	rep->backend_tls = -1;
	snprintf(rep->server, sizeof rep->server, "%.*s",
	         (int)(strrchr(backend, ':') - backend), backend);
	snprintf(rep->port, sizeof rep->port, "%s", strrchr(backend, ':') + 1);
	rep->status = AUTH_STATUS_OK;
}

static void query(const struct server_conf *c, const struct auth_request *req,
                  struct auth_reply *rep)
{
	auth_map_query(c->auth_map, req, rep);
}

/* The map routes but checks no password: a method whose proof only an
 * auth server can judge has nothing to check it here. */
static int configure(struct server_conf *c, const char *value, char *err,
                     size_t size)
{
	c->auth_map = value;
	if (c->auth & SASL_NEEDS_AUTH_SERVER) {
		snprintf(err, size, "apop, cram-md5 and external need auth_http "
		         "(the auth server checks the proof and returns the "
		         "password)");
		return -1;
	}
	return 0;
}

const struct lookup lookup_auth_map = {
	.directive = "auth_map",
	.default_value = SYSCONFDIR "/postern/users.map",
	.configure = configure,
	.lookup = query,
	.checks_password = 0,
};
