/* The socket-activation variables, read by listen_fds and by libsystemd's
 * sd_listen_fds_with_names() for the same environment: the same count,
 * the same first name, the same refusals; and what is a stream socket. */
#include "listen_fds.h"

#include "run_suite.h"

#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* pid "self" is this process. NULL leaves a variable unset. */
struct env_case {
	const char *pid, *fds, *names;
	int want;              /* ours: count, 0 not for us, -1 malformed */
	const char *name;
};

static const struct env_case cases[] = {
	{ "self", "1", "imap", 1, "imap" },
	{ "self", "1", NULL, 1, "" },
	{ "self", "2", "imap:pop3", 2, "imap" },
	{ "self", "1", "", 1, "" },
	{ NULL, "1", "imap", 0, "" },
	{ "self", NULL, "imap", 0, "" },
	{ "1", "1", "imap", 0, "" },            /* another process's */
	{ "self", "0", "imap", -1, "" },
	{ "self", "-1", "imap", -1, "" },
	{ "self", "x", "imap", -1, "" },
	{ "self", "1x", "imap", -1, "" },
	{ "bad", "1", "imap", -1, "" },
	{ "self", "1", "imap:pop3", -1, "" },   /* names and count disagree */
	{ "self", "2", "imap", -1, "" },
	{ "self", "99999999999999999999", NULL, -1, "" },
};

static void set(const char *var, const char *value)
{
	char pid[32];

	if (!value) {
		unsetenv(var);
		return;
	}
	if (strcmp(value, "self") == 0) {
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		value = pid;
	}
	setenv(var, value, 1);
}

static void set_all(const struct env_case *c)
{
	set("LISTEN_PID", c->pid);
	set("LISTEN_FDS", c->fds);
	set("LISTEN_FDNAMES", c->names);
}

START_TEST(same_as_libsystemd)
{
	const struct env_case *c = &cases[_i];
	char name[64], **names = NULL;
	int ours, theirs;

	/* libsystemd marks the passed fds close-on-exec: they must exist. */
	for (int fd = 3; fd < 5; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			ck_assert_int_eq(dup2(0, fd), fd);
	set_all(c);
	ours = listen_fds(name, sizeof name);
	ck_assert_int_eq(ours, c->want);
	ck_assert_ptr_null(getenv("LISTEN_FDS"));
	if (ours >= 0)
		ck_assert_str_eq(name, c->name);
	set_all(c);
	theirs = sd_listen_fds_with_names(1, &names);
	if (c->want < 0)
		ck_assert_int_lt(theirs, 0);
	else
		ck_assert_int_eq(theirs, c->want);
	if (theirs > 0 && c->names)
		ck_assert_str_eq(names[0], c->name);
	for (char **p = names; p && *p; p++)
		free(*p);
	free(names);
	if (ours > 0)
		ck_assert_int_eq(fcntl(3, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}
END_TEST

START_TEST(long_name_refused)
{
	char name[4];

	ck_assert_int_eq(listen_fds_parse("7", "1", "imaps", 7, name, sizeof name),
	                 -1);
	ck_assert_int_eq(listen_fds_parse("7", "1", "imap", 7, name, 5), 1);
}
END_TEST

START_TEST(stream_sockets)
{
	int sv[2], dg[2], ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_storage ss = { .ss_family = AF_INET };
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
	ck_assert_int_eq(listen(ls, 1), 0);
	ck_assert(is_stream_socket(sv[0]));
	ck_assert(!is_stream_socket(dg[0]));
	ck_assert(!is_stream_socket(ls));          /* Accept=no */
	ck_assert(!is_stream_socket(fd));
	ck_assert(!is_stream_socket(-1));
	ck_assert_int_eq(sd_is_socket(sv[0], AF_UNSPEC, SOCK_STREAM, 0), 1);
	ck_assert_int_eq(sd_is_socket(ls, AF_UNSPEC, SOCK_STREAM, 0), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("listen_fds");
	TCase *t = tcase_create("listen_fds");

	tcase_add_loop_test(t, same_as_libsystemd, 0,
	                    sizeof cases / sizeof cases[0]);
	tcase_add_test(t, long_name_refused);
	tcase_add_test(t, stream_sockets);
	suite_add_tcase(s, t);
	return run_suite(s);
}
