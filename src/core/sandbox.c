#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef FILTER_ARCH
/* What moving bytes needs, and what the C library and GnuTLS do meanwhile:
 * the clock (when the vDSO does not), memory for malloc, a random nonce,
 * a lock, a signal's return, and the log (written to an open descriptor
 * or sent to journald's or syslog's socket, connected before). */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_recvfrom, SYS_sendto,
	SYS_recvmsg, SYS_sendmsg, SYS_splice, SYS_ppoll, SYS_close,
	SYS_shutdown, SYS_exit, SYS_exit_group, SYS_clock_gettime,
	SYS_gettimeofday, SYS_getpid, SYS_brk, SYS_mmap, SYS_munmap,
	SYS_mremap, SYS_madvise, SYS_getrandom, SYS_futex, SYS_rt_sigreturn,
	SYS_restart_syscall, SYS_fcntl, SYS_clock_nanosleep, SYS_nanosleep,
#ifdef SYS_poll
	SYS_poll,
#endif
#ifdef SYS_time
	SYS_time,
#endif
};
#define NALLOWED (sizeof allowed / sizeof allowed[0])
#endif

#ifdef FILTER_ARCH
/* What the front kills on: tracing or reading other processes (a sibling
 * session runs as the same user under xinetd), mounts old and new, kernel
 * modules and keys, BPF, new namespaces, io_uring, the clock, and changing
 * users, file-system users included. clone is the filter's own case, by
 * its flags (front_rules). */
static const int denied[] = {
	SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev,
	SYS_pidfd_open, SYS_pidfd_getfd, SYS_kcmp, SYS_mount, SYS_umount2,
	SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_move_mount,
	SYS_open_tree, SYS_mount_setattr, SYS_pivot_root, SYS_chroot,
	SYS_swapon, SYS_swapoff, SYS_reboot, SYS_kexec_load,
	SYS_kexec_file_load, SYS_init_module, SYS_finit_module,
	SYS_delete_module, SYS_bpf, SYS_perf_event_open, SYS_userfaultfd,
	SYS_unshare, SYS_setns, SYS_keyctl, SYS_add_key, SYS_request_key,
	SYS_personality, SYS_io_uring_setup, SYS_io_uring_enter,
	SYS_io_uring_register, SYS_acct, SYS_quotactl, SYS_settimeofday,
	SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex, SYS_syslog,
	SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_fanotify_init,
	SYS_vhangup, SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid,
	SYS_setresuid, SYS_setresgid, SYS_setfsuid, SYS_setfsgid,
	SYS_setgroups, SYS_capset, SYS_mknodat, SYS_rt_sigqueueinfo,
	SYS_rt_tgsigqueueinfo, SYS_pidfd_send_signal,
#ifdef SYS_process_madvise
	SYS_process_madvise,
#endif
#ifdef SYS_iopl
	SYS_iopl, SYS_ioperm,
#endif
};
#define NDENIED (sizeof denied / sizeof denied[0])

/* Every flag that makes clone's child a new namespace's. */
#define CLONE_NEW_ANY                                                     \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |        \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/* The kernel reads clone's flags as 32 bits: the low word of args[0]. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG0_LOW offsetof(struct seccomp_data, args[0])
#else
#define ARG0_LOW (offsetof(struct seccomp_data, args[0]) + 4)
#endif

/* x32's calls are x86_64's numbers with this bit, under x86_64's arch. */
#define X32_BIT 0x40000000u

/* A filter being written: the statements so far. Too many marks it. */
struct filter {
	struct sock_filter f[160];
	size_t k;
};

static void put(struct filter *p, struct sock_filter s)
{
	if (p->k < sizeof p->f / sizeof p->f[0])
		p->f[p->k] = s;
	p->k++;
}

static void stmt(struct filter *p, unsigned short code, unsigned k)
{
	put(p, (struct sock_filter)BPF_STMT(code, k));
}

static void jump(struct filter *p, unsigned short code, unsigned k,
                 unsigned char jt, unsigned char jf)
{
	put(p, (struct sock_filter)BPF_JUMP(code, k, jt, jf));
}

/* Every filter starts here: a call from another architecture (i386's
 * int 0x80 on x86_64, arm's on aarch64) means other numbers, and x32's
 * numbers would slip past every rule below: both kill. Leaves the call's
 * number loaded. */
static void prologue(struct filter *p)
{
	stmt(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 1, 0);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	stmt(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	jump(p, BPF_JMP | BPF_JSET | BPF_K, X32_BIT, 0, 1);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
}

/* The front may fork, and a C library may start a thread, but no child
 * in a new namespace: clone is looked at by its flags. clone3 passes its
 * flags in memory a filter cannot read, so it fails with ENOSYS, on which
 * glibc falls back to clone (musl never uses it). */
static void front_rules(struct filter *p)
{
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4);
	stmt(p, BPF_LD | BPF_W | BPF_ABS, ARG0_LOW);
	jump(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_NEW_ANY, 0, 1);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

/* Signals go to this process only. Every session of a service runs as one
 * user, and so does its spawner: kill(2) would let one session stop the
 * spawner (and with it every new connection) or kill its siblings. A
 * signal to itself (abort's, a sanitizer's) still goes. The kernel reads
 * the pid as 32 bits, so the low word of the first argument decides. */
static void own_signals(struct filter *p, pid_t self)
{
	static const int to_pid[] = { SYS_kill, SYS_tkill, SYS_tgkill };

	for (size_t i = 0; i < sizeof to_pid / sizeof to_pid[0]; i++) {
		jump(p, BPF_JMP | BPF_JEQ | BPF_K, (unsigned)to_pid[i], 0, 4);
		stmt(p, BPF_LD | BPF_W | BPF_ABS, ARG0_LOW);
		jump(p, BPF_JMP | BPF_JEQ | BPF_K, (unsigned)self, 0, 1);
		stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		stmt(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	}
}

/* Each listed call (the number loaded) gets the listed action; any other
 * call gets the other one. */
static void list(struct filter *p, const int *calls, size_t n,
                 unsigned listed, unsigned others)
{
	for (size_t i = 0; i < n; i++)
		jump(p, BPF_JMP | BPF_JEQ | BPF_K, (unsigned)calls[i],
		     (unsigned char)(n - i), 0);
	stmt(p, BPF_RET | BPF_K, others);
	stmt(p, BPF_RET | BPF_K, listed);
}

static int install(struct filter *p, const char **why)
{
	struct sock_fprog prog = { .filter = p->f, .len = (unsigned short)p->k };

	if (p->k > sizeof p->f / sizeof p->f[0]) {
		*why = "filter too long";
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
}
#endif

void sandbox_undumpable(void)
{
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int sandbox_front(const char **why)
{
#ifdef FILTER_ARCH
	struct filter p = { .k = 0 };

	prologue(&p);
	front_rules(&p);
	own_signals(&p, getpid());
	list(&p, denied, NDENIED, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ALLOW);
	return install(&p, why);
#else
	*why = "no seccomp filter for this architecture";
	return -1;
#endif
}

int sandbox_relay(const char **why)
{
#ifdef FILTER_ARCH
	struct filter p = { .k = 0 };

	/* Time zone files are read once, now, not when a log line needs them. */
	tzset();
	prologue(&p);
	list(&p, allowed, NALLOWED, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS);
	return install(&p, why);
#else
	*why = "no seccomp filter for this architecture";
	return -1;
#endif
}

int sandbox_become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -1;
	if (uid != 0 && setuid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
