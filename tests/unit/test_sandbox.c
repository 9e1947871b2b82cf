/* The sandboxes: what a relay does still works and anything else kills it
 * with SIGSYS; the front keeps what login needs (files, sockets, fork and
 * exec, threads) and dies on what lets one session reach another or the
 * system (tracing, pidfds, mounts old and new, namespaces, fs-uids). Every
 * filter kills x32's calls and another architecture's. Each case runs in a
 * child, which the filter binds for good; each call the front must not
 * make is first made unfiltered, to show that SIGSYS is the filter's. */
#include "sandbox.h"

#include "run_suite.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

static void *a_thread(void *arg)
{
	return arg;
}

/* The front keeps what login needs. */
static volatile sig_atomic_t got;

static void note_signal(int sig)
{
	(void)sig;
	got++;
}

static void front_work(void)
{
	const char *why = NULL;
	int fd, status = 0;
	pthread_t t;
	void *out = NULL;
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
	/* glibc tries clone3 first, and takes ENOSYS for clone. */
	if (pthread_create(&t, NULL, a_thread, &status) != 0 ||
	    pthread_join(t, &out) != 0 || out != &status)
		_exit(6);
	/* A signal to itself still goes: raise (tgkill) and kill. */
	signal(SIGUSR1, note_signal);
	if (raise(SIGUSR1) != 0 || kill(getpid(), SIGUSR1) != 0 || got != 2)
		_exit(7);
	_exit(0);
}

/* A raw call; a clone let through has its child leave at once. */
static long call(long nr, long a, long b, long c, long d, long e)
{
	long r = syscall(nr, a, b, c, d, e);

	if (r == 0 && nr == SYS_clone)
		_exit(0);
	return r;
}

#define NOWHERE "/nonexistent-postern-test"

static void clone_user_mount(void)
{
	call(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
}

static void clone_user(void)
{
	call(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
}

static void clone_mount(void)
{
	call(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
}

static void clone_net(void)
{
	call(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
}

static void clone_pid(void)
{
	call(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
}

static void clone_ipc(void)
{
	call(SYS_clone, CLONE_NEWIPC | SIGCHLD, 0, 0, 0, 0);
}

static void clone_uts(void)
{
	call(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
}

static void clone_cgroup(void)
{
	call(SYS_clone, CLONE_NEWCGROUP | SIGCHLD, 0, 0, 0, 0);
}

static void do_unshare(void)
{
	call(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0, 0, 0, 0);
}

static void do_setns(void)
{
	call(SYS_setns, -1, 0, 0, 0, 0);
}

static void do_mount(void)
{
	call(SYS_mount, (long)"none", (long)NOWHERE, (long)"tmpfs", 0, 0);
}

static void do_umount2(void)
{
	call(SYS_umount2, (long)NOWHERE, 0, 0, 0, 0);
}

static void do_fsopen(void)
{
	call(SYS_fsopen, (long)"tmpfs", 0, 0, 0, 0);
}

static void do_fsconfig(void)
{
	call(SYS_fsconfig, -1, 6 /* FSCONFIG_CMD_CREATE */, 0, 0, 0);
}

static void do_fsmount(void)
{
	call(SYS_fsmount, -1, 0, 0, 0, 0);
}

static void do_move_mount(void)
{
	call(SYS_move_mount, -1, (long)"", AT_FDCWD, (long)NOWHERE, 0);
}

static void do_open_tree(void)
{
	call(SYS_open_tree, AT_FDCWD, (long)NOWHERE, 0, 0, 0);
}

static void do_fspick(void)
{
	call(SYS_fspick, AT_FDCWD, (long)NOWHERE, 0, 0, 0);
}

static void do_mount_setattr(void)
{
	call(SYS_mount_setattr, AT_FDCWD, (long)NOWHERE, 0, 0, 0);
}

static void do_pidfd_open(void)
{
	call(SYS_pidfd_open, getpid(), 0, 0, 0, 0);
}

static void do_pidfd_getfd(void)
{
	call(SYS_pidfd_getfd, -1, 0, 0, 0, 0);
}

static void do_kcmp(void)
{
	call(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 0, 0);
}

static char scratch[16], copy[16];

static void vm_read(void)
{
	struct iovec local = { copy, sizeof copy };
	struct iovec remote = { scratch, sizeof scratch };

	call(SYS_process_vm_readv, getpid(), (long)&local, 1, (long)&remote, 1);
}

static void vm_write(void)
{
	struct iovec local = { copy, sizeof copy };
	struct iovec remote = { scratch, sizeof scratch };

	call(SYS_process_vm_writev, getpid(), (long)&local, 1, (long)&remote,
	     1);
}

static void do_ptrace(void)
{
	call(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0, 0);
}

static void do_setfsuid(void)
{
	call(SYS_setfsuid, getuid(), 0, 0, 0, 0);
}

static void do_setfsgid(void)
{
	call(SYS_setfsgid, getgid(), 0, 0, 0, 0);
}

/* Signals to another process of the same user: the parent (the test, as
 * the spawner is a session's) with 0, which only asks whether it may. */
static void kill_parent(void)
{
	call(SYS_kill, getppid(), 0, 0, 0, 0);
}

static void kill_group(void)
{
	call(SYS_kill, 0, 0, 0, 0, 0);
}

static void kill_everyone(void)
{
	call(SYS_kill, -1, 0, 0, 0, 0);
}

static void tgkill_parent(void)
{
	call(SYS_tgkill, getppid(), getppid(), 0, 0, 0);
}

static void tkill_parent(void)
{
	call(SYS_tkill, getppid(), 0, 0, 0, 0);
}

static void sigqueue_parent(void)
{
	siginfo_t si = { .si_code = SI_QUEUE };

	call(SYS_rt_sigqueueinfo, getppid(), 0, (long)&si, 0, 0);
}

#ifdef __x86_64__
/* getpid by x32's number: this kernel may have no x32, others do. */
static void x32_getpid(void)
{
	call(__X32_SYSCALL_BIT + SYS_getpid, 0, 0, 0, 0, 0);
}

/* getpid by i386's door and number (20): another architecture's call. */
static void i386_getpid(void)
{
	long r;

	__asm__ volatile("int $0x80"
	                 : "=a"(r)
	                 : "a"(20L)
	                 : "memory", "r8", "r9", "r10", "r11");
	(void)r;
}
#endif

struct attempt {
	const char *name;
	void (*fn)(void);
};

static const struct attempt front_kills[] = {
	{ "clone(CLONE_NEWUSER|CLONE_NEWNS)", clone_user_mount },
	{ "clone(CLONE_NEWUSER)", clone_user },
	{ "clone(CLONE_NEWNS)", clone_mount },
	{ "clone(CLONE_NEWNET)", clone_net },
	{ "clone(CLONE_NEWPID)", clone_pid },
	{ "clone(CLONE_NEWIPC)", clone_ipc },
	{ "clone(CLONE_NEWUTS)", clone_uts },
	{ "clone(CLONE_NEWCGROUP)", clone_cgroup },
	{ "unshare", do_unshare },
	{ "setns", do_setns },
	{ "mount", do_mount },
	{ "umount2", do_umount2 },
	{ "fsopen", do_fsopen },
	{ "fsconfig", do_fsconfig },
	{ "fsmount", do_fsmount },
	{ "move_mount", do_move_mount },
	{ "open_tree", do_open_tree },
	{ "fspick", do_fspick },
	{ "mount_setattr", do_mount_setattr },
	{ "pidfd_open", do_pidfd_open },
	{ "pidfd_getfd", do_pidfd_getfd },
	{ "kcmp", do_kcmp },
	{ "process_vm_readv", vm_read },
	{ "process_vm_writev", vm_write },
	{ "ptrace", do_ptrace },
	{ "setfsuid", do_setfsuid },
	{ "setfsgid", do_setfsgid },
	{ "kill(parent)", kill_parent },
	{ "kill(0)", kill_group },
	{ "kill(-1)", kill_everyone },
	{ "tgkill(parent)", tgkill_parent },
	{ "tkill(parent)", tkill_parent },
	{ "rt_sigqueueinfo(parent)", sigqueue_parent },
#ifdef __x86_64__
	{ "x32 getpid", x32_getpid },
	{ "i386 getpid", i386_getpid },
#endif
};
#define NFRONT_KILLS ((int)(sizeof front_kills / sizeof front_kills[0]))

/* Every filter, whatever it allows. */
static const struct attempt relay_kills[] = {
#ifdef __x86_64__
	{ "x32 getpid", x32_getpid },
	{ "i386 getpid", i386_getpid },
#endif
	{ "open", open_a_file },
};
#define NRELAY_KILLS ((int)(sizeof relay_kills / sizeof relay_kills[0]))

/* fn in a child, under the front's filter, the relay's, or none; its
 * wait status. */
enum box { NONE, FRONT, RELAY };

static int attempt(enum box box, void (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		const char *why = NULL;

		if ((box == FRONT && sandbox_front(&why) < 0) ||
		    (box == RELAY && sandbox_relay(&why) < 0))
			_exit(99);
		fn();
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* Unfiltered, the call returns (failed or not: it is the kernel's
 * answer); a call this kernel cannot take at all (i386's without ia32
 * emulation faults, or a sanitizer's handler exits on the fault) proves
 * nothing here: 0. */
static int runs_unboxed(const struct attempt *a)
{
	int status = attempt(NONE, a->fn);

	ck_assert_msg(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS),
	              "%s: SIGSYS with no filter", a->name);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "# %s: not on this kernel (status %d), skipped\n",
		        a->name, status);
		return 0;
	}
	return 1;
}

static void assert_killed(const struct attempt *a, enum box box)
{
	int status;

	if (!runs_unboxed(a))
		return;
	status = attempt(box, a->fn);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	              "%s under the %s filter: status %d, not SIGSYS", a->name,
	              box == FRONT ? "front's" : "relay's", status);
}

START_TEST(the_front_kills_what_reaches_other_sessions)
{
	assert_killed(&front_kills[_i], FRONT);
}
END_TEST

START_TEST(every_filter_kills_foreign_calls)
{
	assert_killed(&relay_kills[_i], RELAY);
}
END_TEST

/* clone3's first argument as the kernel reads it (version 0, 64 bytes):
 * flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
 * tls. */
static void clone3_fails(void)
{
	unsigned long long args[8] = { CLONE_NEWUSER, 0, 0, 0, SIGCHLD };
	long r = syscall(SYS_clone3, args, sizeof args);

	if (r == 0)
		_exit(0);
	_exit(r < 0 && errno == ENOSYS ? 7 : 8);
}

START_TEST(clone3_is_enosys_in_the_front)
{
	int status = attempt(FRONT, clone3_fails);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 7,
	              "status %d", status);
}
END_TEST

START_TEST(the_front_keeps_what_login_needs)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0)
		front_work();
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "status %d", status);
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
	tcase_add_loop_test(tc, the_front_kills_what_reaches_other_sessions, 0,
	                    NFRONT_KILLS);
	tcase_add_loop_test(tc, every_filter_kills_foreign_calls, 0,
	                    NRELAY_KILLS);
	tcase_add_test(tc, clone3_is_enosys_in_the_front);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
