/* postern: the front of one mail connection. It takes the socket systemd or
 * inetd accepted, reads the configuration, runs greeting and login, and
 * execs postern-relay with the client and backend sockets. TLS, implicit
 * or by STARTTLS, is postern-tls's work: the front execs it and never
 * loads GnuTLS, so plaintext connections do not pay for it.
 *
 * It reads the image "postern -A" makes of the configuration, and links
 * neither libconfuse nor, where musl is here, glibc: glibc's start alone
 * costs more CPU on a VM than the rest of a login (doc/performance.md).
 * The text is postern-text's: this program execs it, with the same
 * arguments, for -t and -A, and for a connection whose configuration has
 * no current image. */
#include "conf_image.h"
#include "exec_contract.h"
#include "front_run.h"
#include "listen_fds.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/libexec"
#endif
#define TEXT_PROGRAM "postern-text"

/* postern-text beside this program (a build tree), in the libexec
 * directory beside its own (an install under a DESTDIR or a prefix), or
 * where configure put it. */
static const char *text_program(char *buf, size_t size)
{
	static const char *const near[] = { "/", "/../libexec/", NULL };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')))
			*slash = '\0';
		for (const char *const *d = near; *d; d++)
			if (snprintf(buf, size, "%s%s%s", self, *d, TEXT_PROGRAM) <
			    (int)size && access(buf, X_OK) == 0)
				return buf;
	}
	return LIBEXECDIR "/" TEXT_PROGRAM;
}

/* systemd's variables, which the front unsets once read, and its socket,
 * which it marks close-on-exec (as sd_listen_fds does): postern-text must
 * find them as they were. */
static const char *const listen_vars[] = { "LISTEN_PID", "LISTEN_FDS",
                                           "LISTEN_FDNAMES", NULL };
static char *listen_values[3];

static void keep_listen_vars(void)
{
	for (int i = 0; listen_vars[i]; i++) {
		const char *v = getenv(listen_vars[i]);

		listen_values[i] = v ? strdup(v) : NULL;
	}
}

/* For a connection that cannot be served (postern-text missing: a broken
 * install), the client hears the protocol's temporary failure and stderr
 * is written only where it is not the client (inetd). */
static int read_text(char **argv, int connection)
{
	char buf[PATH_MAX];
	const char *program = text_program(buf, sizeof buf);
	struct client_socket cs;
	const char *why = NULL;
	char reason[PATH_MAX + 64];

	for (int i = 0; listen_vars[i]; i++)
		if (listen_values[i])
			setenv(listen_vars[i], listen_values[i], 1);
	if (listen_values[1])
		fcntl(LISTEN_FDS_START, F_SETFD, 0);
	execv(program, argv);
	snprintf(reason, sizeof reason, "cannot run %s: %s", program,
	         strerror(errno));
	if (!connection) {
		fprintf(stderr, "postern: %s\n", reason);
		return EXIT_TEMPORARY;
	}
	if (front_find_socket(&cs, &why) < 0) {
		front_early_error("postern", NULL, "configuration", reason);
		return EXIT_TEMPORARY;
	}
	front_early_error("postern", &cs, "configuration", reason);
	front_unavailable(&cs);
	return EXIT_TEMPORARY;
}

/* A damaged image is no reason to refuse a client: the text is still
 * there, and postern-text reads it, and says why in the log the text
 * names (front_start), which this program cannot know. */
static int image(const char *path, struct conf *c, char *err, size_t size)
{
	int rc = conf_image_load(path, c, err, size);

	if (rc < 0)
		setenv(CONF_IMAGE_FAULT, err, 1);
	return rc < 0 ? 1 : rc;
}

int main(int argc, char **argv)
{
	struct front_options o;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = front_options(argc, argv, &front_postern, &o)) != FRONT_GO_ON)
		return rc;
	if (o.test || o.activate)
		return read_text(argv, 0);
	keep_listen_vars();
	rc = front_run("postern", &o, image);
	return rc == FRONT_READ_TEXT ? read_text(argv, 1) : rc;
}
