/* The relay sandbox: what a relay does still works; anything else kills
 * it with SIGSYS. Each case runs in a child, which the filter binds for
 * good. */
#include "sandbox.h"

#include "run_suite.h"

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Run fn sandboxed in a child; its wait status. */
static int boxed(void (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		const char *why = NULL;

		if (sandbox_relay(&why) < 0)
			_exit(99);
		fn();
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void relay_work(void)
{
	int sv[2], p[2];
	char buf[64];
	struct pollfd pfd;
	struct timespec ts;
	void *mem;

	/* Made before the box, as the relays make theirs. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(p) < 0)
		_exit(2);
	if (sandbox_relay(&(const char *){ NULL }) < 0)
		_exit(99);
	if (send(sv[0], "hello", 5, 0) != 5 || recv(sv[1], buf, 5, 0) != 5)
		_exit(3);
	if (write(sv[0], "more", 4) != 4 ||
	    splice(sv[1], NULL, p[1], NULL, 4, 0) != 4 ||
	    read(p[0], buf, 4) != 4)
		_exit(4);
	pfd = (struct pollfd){ .fd = sv[1], .events = POLLOUT };
	if (poll(&pfd, 1, 10) != 1)
		_exit(5);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mem = malloc(4 << 20); /* mmap */
	if (!mem)
		_exit(6);
	memset(mem, 1, 4 << 20);
	free(mem);
	shutdown(sv[0], SHUT_WR);
	close(sv[0]);
	_exit(0);
}

static void open_a_file(void)
{
	open("/etc/hostname", O_RDONLY);
}

static void run_a_program(void)
{
	char *argv[] = { "true", NULL };

	execv("/bin/true", argv);
}

static void make_a_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}

/* The front keeps what login needs. */
static void front_work(void)
{
	const char *why = NULL;
	int fd, status = 0;
	pid_t pid;

	if (sandbox_front(&why) < 0)
		_exit(99);
	fd = open("/etc/hostname", O_RDONLY);
	if (fd < 0 || close(fd) < 0)
		_exit(2);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		_exit(3);
	close(fd);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "true", NULL };

		execv("/bin/true", argv);
		_exit(4);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		_exit(5);
	_exit(0);
}

static void trace_someone(void)
{
	const char *why = NULL;

	if (sandbox_front(&why) < 0)
		_exit(99);
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	_exit(0);
}

START_TEST(the_front_keeps_what_login_needs)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0)
		front_work();
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "status %d", status);
	pid = fork();
	if (pid == 0)
		trace_someone();
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}
END_TEST

START_TEST(what_a_relay_does_still_works)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0)
		relay_work();
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "status %d", status);
}
END_TEST

START_TEST(opening_a_file_kills)
{
	int status = boxed(open_a_file);

	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}
END_TEST

START_TEST(running_a_program_kills)
{
	int status = boxed(run_a_program);

	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}
END_TEST

START_TEST(a_new_socket_kills)
{
	int status = boxed(make_a_socket);

	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, what_a_relay_does_still_works);
	tcase_add_test(tc, opening_a_file_kills);
	tcase_add_test(tc, running_a_program_kills);
	tcase_add_test(tc, a_new_socket_kills);
	tcase_add_test(tc, the_front_keeps_what_login_needs);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
