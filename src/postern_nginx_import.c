/* postern-nginx-import: nginx's mail {} block as postern.conf and socket
 * units. Every directive postern has is carried over under its nginx
 * name; what is not is listed with its reason; what nginx -t refuses, or
 * postern cannot serve as nginx did, is refused with its file and line.
 * Nothing is guessed. */
#include "nginx_conf.h"
#include "nginx_import.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INPUT_MAX (1024 * 1024)

static void usage(FILE *f)
{
	fprintf(f, "usage: postern-nginx-import [-p DIR] [-o DIR] NGINX_CONF\n"
	           "Writes postern.conf on standard output, or postern.conf "
	           "and one\npostern-NAME.socket per section (Accept=no, for "
	           "the shipped postern-spawn\nservices) into DIR; lists "
	           "what is not carried\nover, with why, on standard error. "
	           "-p: nginx's configuration directory,\nwhich include and "
	           "relative file names are read from (default: NGINX_CONF's\n"
	           "directory, as nginx reads them from its -c file's).\n");
}

/* A whole file, up to 1 MiB, in a buffer the caller frees; NULL with
 * errno (EFBIG past the bound). */
static char *slurp(const char *path, size_t *len)
{
	char *text = malloc(INPUT_MAX + 1);
	ssize_t n = 0;
	int fd;

	if (!text)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	*len = 0;
	while (fd >= 0 && (n = read(fd, text + *len, INPUT_MAX + 1 - *len)) > 0)
		*len += (size_t)n;
	if (fd >= 0)
		close(fd);
	if (fd < 0 || n < 0 || *len > INPUT_MAX) {
		int e = fd < 0 || n < 0 ? errno : EFBIG;

		free(text);
		errno = e;
		return NULL;
	}
	return text;
}

static int parse_path(struct ngx_conf *c, const char *path, int parent,
                      const struct ngx_directive *at)
{
	char where[NGX_NAME_MAX + 16];
	size_t len;
	char *text = slurp(path, &len);
	int rc;

	if (!text) {
		if (at)
			snprintf(c->why, sizeof c->why, "%s: include: %.200s: %s",
			         ngx_where(c, at, where, sizeof where), path,
			         errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		else
			snprintf(c->why, sizeof c->why, "%.200s: %s", path,
			         errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		return -1;
	}
	rc = ngx_conf_parse_file(c, path, text, len, parent);
	free(text);
	return rc;
}

/* include, as nginx: relative to its configuration directory; a pattern
 * may match nothing, a file must be there; matches in sorted order. */
static int include(struct ngx_conf *c, const char *pattern, int parent,
                   const struct ngx_directive *at, void *ctx)
{
	const char *prefix = ctx;
	char path[4096], where[NGX_NAME_MAX + 16];
	glob_t g;
	int rc = 0, n;

	if (pattern[0] == '/')
		snprintf(path, sizeof path, "%s", pattern);
	else
		snprintf(path, sizeof path, "%s%s%s", prefix,
		         prefix[strlen(prefix) - 1] == '/' ? "" : "/", pattern);
	if (!strpbrk(path, "*?["))
		return parse_path(c, path, parent, at);
	n = glob(path, 0, NULL, &g);
	if (n == GLOB_NOMATCH)
		return 0;
	if (n != 0) {
		snprintf(c->why, sizeof c->why, "%s: include: %.200s: cannot be "
		         "read", ngx_where(c, at, where, sizeof where), path);
		return -1;
	}
	for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = parse_path(c, g.gl_pathv[i], parent, at);
	globfree(&g);
	return rc;
}

static int write_file(const char *dir, const char *name, const char *text,
                      size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "postern-nginx-import: %s: %s\n", path,
		        strerror(errno));
		return -1;
	}
	return 0;
}

static int write_all(const char *dir, const struct import_result *r)
{
	char name[96];

	if (!dir) {
		fwrite(r->conf, 1, r->conf_len, stdout);
		return 0;
	}
	if (write_file(dir, "postern.conf", r->conf, r->conf_len) < 0)
		return -1;
	for (int i = 0; i < r->nunits; i++) {
		snprintf(name, sizeof name, "postern-%s.socket", r->units[i].name);
		if (write_file(dir, name, r->units[i].text,
		               strlen(r->units[i].text)) < 0)
			return -1;
	}
	return 0;
}

/* Which shipped service serves each section, and the steps that put the
 * result in place (postern(8), MOVING OFF NGINX). */
static void say_sections(const struct import_result *r, const char *dir)
{
	fprintf(stderr, "postern-nginx-import: %d server section(s)%s; check "
	        "with postern -t -c FILE\n", r->nunits,
	        dir ? ", socket units written" : "");
	for (int i = 0; i < r->nunits; i++) {
		const struct import_unit *u = &r->units[i];

		fprintf(stderr, "  section %s: port %d%s, served by "
		        "postern-%s.service%s\n", u->name, u->port,
		        u->tls ? ", implicit TLS" : "", u->service,
		        strcmp(u->name, u->service) == 0 ? ""
		        : " (Service=; its limits count both sockets)");
	}
	if (!dir)
		return;
	fprintf(stderr, "  Each socket hands its port to a shipped postern-spawn "
	        "service (SESSIONS_MAX=%d,\n  SESSIONS_PER_SOURCE=%d as "
	        "shipped; postern(8), SIZING). To put it in place:\n"
	        "    install -m 0640 -g postern %s/postern.conf "
	        "/etc/postern/postern.conf\n"
	        "    postern -A -u postern -c /etc/postern/postern.conf -a %s\n"
	        "    cp %s/postern-*.socket /etc/systemd/system/ && "
	        "systemctl daemon-reload\n    systemctl enable --now",
	        SPAWN_SESSIONS_MAX, SPAWN_SESSIONS_PER_SOURCE, dir,
	        ACTIVE_CONFIG, dir);
	for (int i = 0; i < r->nunits; i++)
		fprintf(stderr, " postern-%s.socket", r->units[i].name);
	/* A spawner already running took its sockets when it started. */
	fprintf(stderr, "\n    systemctl try-restart");
	for (int i = 0; i < r->nunits; i++)
		if (strcmp(r->units[i].name, r->units[i].service) == 0)
			fprintf(stderr, " postern-%s.service", r->units[i].service);
	fprintf(stderr, "\n");
}

/* nginx reads include and relative file names against the directory of
 * its configuration file (its conf_prefix), whatever its -p: the
 * directory of the file named, made absolute. */
static int conf_dir(const char *file, char *dir, size_t size)
{
	const char *slash = strrchr(file, '/');
	char cwd[4096];
	int n = slash ? (int)(slash - file + 1) : 0;

	if (file[0] == '/')
		return snprintf(dir, size, "%.*s", n, file) < (int)size ? 0 : -1;
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	return snprintf(dir, size, "%s/%.*s", strcmp(cwd, "/") ? cwd : "", n,
	                file) < (int)size ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct ngx_conf conf;
	static struct import_result r;
	static char file_dir[4096];
	struct import_options o = { NULL };
	const char *dir = NULL;
	int c;

	while ((c = getopt(argc, argv, "o:p:h")) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'p': o.prefix = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || (o.prefix && !o.prefix[0])) {
		usage(stderr);
		return 2;
	}
	if (!o.prefix) {
		if (conf_dir(argv[optind], file_dir, sizeof file_dir) < 0) {
			fprintf(stderr, "postern-nginx-import: %s: the directory is "
			        "too long or unknown\n", argv[optind]);
			return 1;
		}
		o.prefix = file_dir;
	}
	ngx_conf_init(&conf, include, (void *)o.prefix);
	if (parse_path(&conf, argv[optind], -1, NULL) < 0) {
		fprintf(stderr, "postern-nginx-import: %s\n", conf.why);
		return 1;
	}
	if (nginx_import(&conf, &o, &r) < 0) {
		fprintf(stderr, "postern-nginx-import: %s\n", r.why);
		return 1;
	}
	if (write_all(dir, &r) < 0)
		return 1;
	if (r.notes_len)
		fprintf(stderr, "postern-nginx-import: not carried over, or "
		        "carried over differently:\n%.*s", (int)r.notes_len, r.notes);
	say_sections(&r, dir);
	return 0;
}
