/* postern-text: the offline tool that reads the configuration's text
 * with libconfuse. postern execs it for "postern -t" (check) and
 * "postern -A" (check, then switch the compiled image in); no connection
 * runs it, and no connection reads text. It checks what connections will
 * read the way they will read it: the maps and TLS files, opened as the
 * user connections run as (-u). */
#include "activate.h"
#include "auth_map.h"
#include "conf_load.h"
#include "conf_image.h"
#include "exec_contract.h"
#include "front_run.h"
#include "lookup.h"
#include "proto.h"
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/libexec"
#endif

/* Only its owner, root or the caller, can change path. */
static const char *unsafe(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return strerror(errno);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return "owned by another user";
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	return NULL;
}

/* The directory of path, resolved, in dir (PATH_MAX bytes). */
static int real_dir(const char *path, char *dir)
{
	char *slash;

	if (!realpath(path, dir))
		return -1;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';   /* a program in / */
	else if (slash)
		*slash = '\0';
	return 0;
}

/* postern -t and -A run as root, on a file that its editors may not be
 * trusted to run programs as root: tls_program is run only if it is this
 * package's, in the directory postern-text itself runs from (the libexec
 * directory, or a build tree) or in the configured one, and only root or
 * the caller can change it. The program is named by its resolved path,
 * in real (PATH_MAX bytes), so a link cannot be changed under the check. */
static int trusted_program(const char *program, char *real, char *why,
                           size_t size)
{
	char dir[PATH_MAX], own[PATH_MAX], configured[PATH_MAX];
	const char *bad;

	if (!realpath(program, real) || real_dir(real, dir) < 0) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	if ((real_dir("/proc/self/exe", own) < 0 || strcmp(dir, own) != 0) &&
	    (!realpath(LIBEXECDIR, configured) || strcmp(dir, configured) != 0)) {
		snprintf(why, size, "not in %s, where postern's programs are",
		         LIBEXECDIR);
		return -1;
	}
	if ((bad = unsafe(real))) {
		snprintf(why, size, "%s", bad);
		return -1;
	}
	if ((bad = unsafe(dir))) {
		snprintf(why, size, "%s: %s", dir, bad);
		return -1;
	}
	return 0;
}

/* The TLS program the configuration names, when any section uses TLS,
 * resolved into real; NULL when none does. */
static const char *tls_program(const struct conf *c, char *real, int *bad)
{
	const char *program = NULL;
	char why[PATH_MAX + 64];

	*bad = 0;
	for (size_t i = 0; i < c->nservers; i++)
		if (c->servers[i].ssl || c->servers[i].starttls != STARTTLS_OFF ||
		    c->servers[i].proxy_ssl != PROXY_SSL_OFF)
			program = c->servers[i].tls_program;
	if (program && trusted_program(program, real, why, sizeof why) < 0) {
		fprintf(stderr, "postern: tls_program %s: %s; not run\n",
		        program, why);
		*bad = 1;
	}
	return program;
}

/* This process becomes user ("name" or a number, as a unit's User= or a
 * dynamic user): its uid, its gid, its groups and no others. */
static int become(const char *user)
{
	const struct passwd *pw = getpwnam(user);
	char *end;
	long id;

	if (pw) {
		if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
		    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			return -1;
		return 0;
	}
	errno = 0;
	id = strtol(user, &end, 10);
	if (errno || end == user || *end || id < 0 || id > 0x7fffffff) {
		fprintf(stderr, "postern: -u %s: no such user\n", user);
		errno = EINVAL;
		return -1;
	}
	return sandbox_become((uid_t)id, (gid_t)id);
}

/* Each section's map, line by line, as a login would read it. */
static int check_maps(const struct conf *c)
{
	int failed = 0;

	for (size_t i = 0; i < c->nservers; i++) {
		const struct server_conf *s = &c->servers[i];
		char why[256];
		FILE *f;

		if (s->lookup != &lookup_auth_map || !s->auth_map)
			continue;
		f = fopen(s->auth_map, "re");
		if (!f) {
			fprintf(stderr, "postern: server %s: auth_map %s: %s\n",
			        s->name, s->auth_map, strerror(errno));
			failed = 1;
			continue;
		}
		if (auth_map_check(f, s->protocol->ports[0], why,
		                   sizeof why) < 0) {
			fprintf(stderr, "postern: server %s: %s:%s\n", s->name,
			        s->auth_map, why);
			failed = 1;
		}
		fclose(f);
	}
	return failed;
}

/* The image postern-tls checks: in memory, for it to read as a
 * connection reads the real one. Its path, or NULL. */
static const char *image_in_memory(const struct conf *c, char *path,
                                   size_t size)
{
	static unsigned char buf[CONF_IMAGE_MAX];
	size_t len = conf_image_encode(c, buf, sizeof buf);
	int fd = memfd_create("postern-image", 0);

	if (!len || fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return NULL;
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return path;
}

/* In a child, as -u's user: the maps, then the TLS files (GnuTLS is
 * postern-tls's, so it checks them, on the image). */
static void check_as_user(const struct conf *c, const char *user,
                          const char *tls)
{
	char image[64];
	const char *reason = NULL;
	struct crossing x = { .tls_mode = "check", .log = "stderr" };

	if (user && become(user) < 0) {
		fprintf(stderr, "postern: cannot check as %s: %s\n", user,
		        strerror(errno));
		_exit(EXIT_TEST_FAILED);
	}
	if (check_maps(c))
		_exit(EXIT_TEST_FAILED);
	if (!tls)
		_exit(EXIT_DONE);
	if (!(x.config = image_in_memory(c, image, sizeof image))) {
		fprintf(stderr, "postern: cannot make an image to check\n");
		_exit(EXIT_TEST_FAILED);
	}
	contract_exec(tls, &x, &reason);
	fprintf(stderr, "postern: %s: %s\n", tls, reason);
	_exit(EXIT_TEST_FAILED);
}

static int check_files(const struct conf *c, const char *user)
{
	char real[PATH_MAX];
	int bad, status = 0;
	const char *tls = tls_program(c, real, &bad);
	pid_t pid;

	if (bad)
		return -1;
	pid = fork();
	if (pid == 0)
		check_as_user(c, user, tls ? real : NULL);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* postern -t. With keep, the checked configuration is left in *keep. */
static int test_config(const char *path, const char *user, struct conf *keep)
{
	struct conf c;
	char err[512];

	if (conf_load(path, &c, err, sizeof err) < 0) {
		fprintf(stderr, "postern: %s\npostern: configuration test failed\n",
		        err);
		return EXIT_TEST_FAILED;
	}
	if (check_files(&c, user) < 0) {
		fprintf(stderr, "postern: configuration test failed\n");
		conf_free(&c);
		return EXIT_TEST_FAILED;
	}
	fprintf(stderr, "postern: %s: %zu server section(s), syntax is ok\n"
	                "postern: configuration test is successful\n",
	        path, c.nservers);
	if (keep)
		*keep = c;
	else
		conf_free(&c);
	return EXIT_DONE;
}

/* The image of the staged copy at "<active>.image": the switch. 0, or -1
 * after saying why. */
static int switch_image(const char *staged, const char *active)
{
	char image[PATH_MAX], err[512];
	struct conf c;
	struct stat st;
	int rc;

	if (conf_image_path(active, image, sizeof image) < 0 ||
	    stat(staged, &st) < 0) {
		fprintf(stderr, "postern: %s: %s\n", active,
		        errno ? strerror(errno) : "path too long");
		return -1;
	}
	if (conf_load(staged, &c, err, sizeof err) < 0) {
		fprintf(stderr, "postern: %s\n", err);
		return -1;
	}
	rc = conf_image_write(&c, image, &st, err, sizeof err);
	conf_free(&c);
	if (rc < 0)
		fprintf(stderr, "postern: %s: %s\n", image, err);
	return rc;
}

/* postern -A: the edited file is checked, copied beside the active one
 * and compiled; the image's rename switches connections over, and the
 * copy is then renamed over the active one, as the record of what they
 * read. A failure before the switch leaves both as they were. */
static int activate(const struct front_options *o)
{
	char staged[PATH_MAX], why[512];

	if (test_config(o->config, o->user, NULL) != EXIT_DONE) {
		fprintf(stderr, "postern: %s unchanged\n", o->active);
		return EXIT_TEST_FAILED;
	}
	if (activate_stage(o->config, o->active, staged, sizeof staged, why,
	                   sizeof why) < 0) {
		fprintf(stderr, "postern: %s\npostern: %s unchanged\n", why,
		        o->active);
		return EXIT_TEST_FAILED;
	}
	if (switch_image(staged, o->active) < 0) {
		unlink(staged);
		fprintf(stderr, "postern: %s unchanged\n", o->active);
		return EXIT_TEST_FAILED;
	}
	if (activate_commit(staged, o->active, why, sizeof why) < 0) {
		fprintf(stderr, "postern: %s (its image is active)\n", why);
		return EXIT_TEST_FAILED;
	}
	fprintf(stderr, "postern: %s is active as %s\n", o->config, o->active);
	return EXIT_DONE;
}

int main(int argc, char **argv)
{
	struct front_options o;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = front_options(argc, argv, &front_postern, &o)) != FRONT_GO_ON)
		return rc;
	if (o.test)
		return test_config(o.config, o.user, NULL);
	if (o.activate)
		return activate(&o);
	fprintf(stderr, "postern-text: only postern -t and -A run it; "
	        "connections read the image (postern)\n");
	return EXIT_USAGE;
}
