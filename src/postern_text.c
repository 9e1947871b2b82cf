/* postern-text: the front that reads the configuration's text with
 * libconfuse. postern execs it for "postern -t" and "postern -A", and for
 * a connection when the configuration has no current image (a file that
 * was never activated, or one edited in place since). It does what
 * postern does, the same way; only its start costs more (glibc's and
 * libconfuse's, then the parse). */
#include "activate.h"
#include "conf_load.h"
#include "conf_image.h"
#include "exec_contract.h"
#include "front_run.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The TLS files are GnuTLS's to judge, and the front has no GnuTLS:
 * postern-tls checks them, in a child, when any section uses TLS. */
static int test_tls(const struct conf *c, const char *config)
{
	const char *program = NULL;
	char real[PATH_MAX], why[PATH_MAX + 64];
	int status = 0;
	pid_t pid;

	for (size_t i = 0; i < c->nservers; i++)
		if (c->servers[i].ssl || c->servers[i].starttls != STARTTLS_OFF ||
		    c->servers[i].proxy_ssl != PROXY_SSL_OFF)
			program = c->servers[i].tls_program;
	if (!program)
		return 0;
	if (trusted_program(program, real, why, sizeof why) < 0) {
		fprintf(stderr, "postern: tls_program %s: %s; not run\n",
		        program, why);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		struct crossing x = { .tls_mode = "check", .config = config,
		                      .log = "stderr" };
		const char *reason = NULL;

		contract_exec(real, &x, &reason);
		fprintf(stderr, "postern: %s: %s\n", program, reason);
		_exit(EXIT_TEST_FAILED);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* postern -t. With keep, the checked configuration is left in *keep. */
static int test_config(const char *path, struct conf *keep)
{
	struct conf c;
	char err[512];

	if (conf_load(path, &c, err, sizeof err) < 0) {
		fprintf(stderr, "postern: %s\npostern: configuration test failed\n",
		        err);
		return EXIT_TEST_FAILED;
	}
	if (test_tls(&c, path) < 0) {
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

/* The image connections read in place of the text. Written after the
 * text is in place: it names the text by inode and change time, and the
 * rename changes the latter. Until it is written, connections read the
 * new text; without it, they go on doing so, only slower. */
static void write_image(const struct conf *c, const char *active)
{
	char why[512];

	if (conf_image_write(c, active, why, sizeof why) < 0)
		fprintf(stderr, "postern: warning: no image of %s (%s); "
		        "connections will read its text\n", active, why);
}

/* postern -A: the edited file, checked as a copy beside the active one,
 * then renamed over it. A failed check leaves the active copy as it was. */
static int activate(const struct front_options *o)
{
	char staged[4096], why[512];
	struct conf c;

	/* First the file itself, so that errors name the operator's file and
	 * line; then the copy, which is what will be read. */
	if (test_config(o->config, NULL) != EXIT_DONE) {
		fprintf(stderr, "postern: %s unchanged\n", o->active);
		return EXIT_TEST_FAILED;
	}
	if (activate_stage(o->config, o->active, staged, sizeof staged, why,
	                   sizeof why) < 0) {
		fprintf(stderr, "postern: %s\npostern: %s unchanged\n", why,
		        o->active);
		return EXIT_TEST_FAILED;
	}
	if (test_config(staged, &c) != EXIT_DONE) {
		unlink(staged);
		fprintf(stderr, "postern: %s unchanged\n", o->active);
		return EXIT_TEST_FAILED;
	}
	if (activate_commit(staged, o->active, why, sizeof why) < 0) {
		fprintf(stderr, "postern: %s\npostern: %s unchanged\n", why,
		        o->active);
		conf_free(&c);
		return EXIT_TEST_FAILED;
	}
	fprintf(stderr, "postern: %s is active as %s\n", o->config, o->active);
	write_image(&c, o->active);
	conf_free(&c);
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
		return test_config(o.config, NULL);
	if (o.activate)
		return activate(&o);
	return front_run("postern", &o, conf_load);
}
