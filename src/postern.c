/* postern: the front of one mail connection. It takes the socket systemd or
 * inetd accepted, reads the configuration, runs greeting and login, and
 * execs postern-relay with the client and backend sockets. TLS, implicit
 * or by STARTTLS, is postern-tls's work: the front execs it and never
 * loads GnuTLS, so plaintext connections do not pay for it.
 *
 * It reads only the image "postern -A" makes of the configuration, and
 * links neither libconfuse nor, where musl is here, glibc: glibc's start
 * alone costs more CPU on a VM than the rest of a login
 * (doc/performance.md). The text is postern-text's, an offline tool: this
 * program execs it, with the same arguments, for -t and -A. */
#include "exec_contract.h"
#include "front_run.h"

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

/* -t and -A are postern-text's, with the same arguments. */
static int operator_mode(char **argv)
{
	char buf[PATH_MAX];
	const char *program = text_program(buf, sizeof buf);

	execv(program, argv);
	fprintf(stderr, "postern: cannot run %s: %s\n", program,
	        strerror(errno));
	return EXIT_TEMPORARY;
}

int main(int argc, char **argv)
{
	struct front_options o;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = front_options(argc, argv, &front_postern, &o)) != FRONT_GO_ON)
		return rc;
	if (o.test || o.activate)
		return operator_mode(argv);
	return front_run(&o);
}
