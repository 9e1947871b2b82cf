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

/* A line's key and value into *key and *value (pointing into line): 1;
 * 0 for a blank or comment line; -1 with why, which starts with the line
 * number so that a caller can put the file's name before it. */
static int split_line(char *line, int lineno, int complete, char **key,
                      char **value, char *why, size_t why_size)
{
	char *save = NULL;

	if (!complete) {
		snprintf(why, why_size, "%d: line too long", lineno);
		return -1;
	}
	line[strcspn(line, "#\r\n")] = '\0';
	*key = strtok_r(line, " \t", &save);
	if (!*key)
		return 0;
	*value = strtok_r(NULL, " \t", &save);
	if (!*value || strtok_r(NULL, " \t", &save)) {
		snprintf(why, why_size, "%d: want \"KEY HOST:PORT\"", lineno);
		return -1;
	}
	return 1;
}

/* Calls each for every entry of the map: 0, or -1 with why (the first
 * malformed line, or what each said of one). */
static int each_entry(FILE *f, int (*each)(const char *key, const char *value,
                                           int lineno, void *arg),
                      void *arg, char *why, size_t why_size)
{
	char line[AUTH_MAP_LINE_MAX + 2];
	int lineno = 0;

	while (fgets(line, sizeof line, f)) {
		char *key = NULL, *value = NULL;
		int r = split_line(line, ++lineno,
		                   strchr(line, '\n') || feof(f), &key, &value,
		                   why, why_size);

		if (r < 0)
			return -1;
		if (r > 0 && each(key, value, lineno, arg) < 0)
			return -1;
	}
	if (ferror(f)) {
		snprintf(why, why_size, "read error: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct best {
	const char *user;
	char *backend;
	size_t size;
	int rank;
};

static int keep_best(const char *key, const char *value, int lineno,
                     void *arg)
{
	struct best *b = arg;
	int r = rank(key, b->user);

	(void)lineno;
	if (r > b->rank) {
		b->rank = r;
		snprintf(b->backend, b->size, "%s", value);
	}
	return 0;
}

int auth_map_find(FILE *f, const char *user, char *backend, size_t size,
                  char *why, size_t why_size)
{
	struct best b = { user, backend, size, MATCH_NONE };

	if (each_entry(f, keep_best, &b, why, why_size) < 0)
		return -1;
	return b.rank != MATCH_NONE;
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

/* The backend a value names, with the protocol's port when it has none. */
static int backend_of(const char *value, unsigned port, char *backend,
                      size_t size, struct addr *a)
{
	snprintf(backend, size, "%s", value);
	add_default_port(backend, size, port);
	return addr_parse(backend, a);
}

struct check {
	unsigned port;
	char *why;
	size_t why_size;
};

static int check_entry(const char *key, const char *value, int lineno,
                       void *arg)
{
	(void)key;
	struct check *c = arg;
	char backend[AUTH_MAP_LINE_MAX];
	struct addr a;

	if (backend_of(value, c->port, backend, sizeof backend, &a) < 0) {
		snprintf(c->why, c->why_size, "%d: \"%.60s\" is not an "
		         "address (HOST:PORT, [IPV6]:PORT, or HOST alone for "
		         "the protocol's port)", lineno, value);
		return -1;
	}
	return 0;
}

int auth_map_check(FILE *f, unsigned default_port, char *why,
                   size_t why_size)
{
	struct check c = { default_port, why, why_size };

	return each_entry(f, check_entry, &c, why, why_size);
}

void auth_map_query(const char *path, const struct auth_request *req,
                    struct auth_reply *rep)
{
	char backend[AUTH_MAP_LINE_MAX], value[AUTH_MAP_LINE_MAX], why[128];
	FILE *f = fopen(path, "re");
	int found;

	if (!f) {
		snprintf(rep->why, sizeof rep->why, "auth_map %s: %s", path,
		         strerror(errno));
		rep->status = AUTH_STATUS_TEMPFAIL;
		return;
	}
	found = auth_map_find(f, req->map_key ? req->map_key : req->user,
	                      value, sizeof value, why, sizeof why);
	fclose(f);
	if (found < 0) {
		snprintf(rep->why, sizeof rep->why, "auth_map %s:%s", path, why);
		rep->status = AUTH_STATUS_TEMPFAIL;
		return;
	}
	if (found == 0) {
		snprintf(rep->why, sizeof rep->why, "no route for the user");
		rep->status = AUTH_STATUS_FAIL;
		return;
	}
	if (backend_of(value, req->default_port, backend, sizeof backend,
	               &rep->backend) < 0) {
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
