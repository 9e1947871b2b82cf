#include "sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
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
static const int denied[] = {
	SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_mount,
	SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_swapon, SYS_swapoff,
	SYS_reboot, SYS_kexec_load, SYS_kexec_file_load, SYS_init_module,
	SYS_finit_module, SYS_delete_module, SYS_bpf, SYS_perf_event_open,
	SYS_userfaultfd, SYS_unshare, SYS_setns, SYS_keyctl, SYS_add_key,
	SYS_request_key, SYS_personality, SYS_io_uring_setup,
	SYS_io_uring_enter, SYS_io_uring_register, SYS_acct, SYS_quotactl,
	SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex,
	SYS_syslog, SYS_open_by_handle_at, SYS_name_to_handle_at,
	SYS_fanotify_init, SYS_vhangup, SYS_setuid, SYS_setgid, SYS_setreuid,
	SYS_setregid, SYS_setresuid, SYS_setresgid, SYS_setgroups,
	SYS_capset, SYS_mknodat,
#ifdef SYS_iopl
	SYS_iopl, SYS_ioperm,
#endif
};
#define NDENIED (sizeof denied / sizeof denied[0])

/* The filter: the architecture checked, then each listed call jumps to
 * the listed action; any other call gets the other one. */
static int install(const int *calls, size_t n, unsigned listed,
                   unsigned others, const char **why)
{
	struct sock_filter f[128];
	struct sock_fprog prog = { .filter = f };
	size_t k = 0;

	if (n + 6 > sizeof f / sizeof f[0]) {
		*why = "filter too long";
		return -1;
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, arch));
	/* Another architecture's numbers mean other calls: refuse them. */
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	                                      FILTER_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	                                      SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < n; i++)
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		                                      (unsigned)calls[i],
		                                      (unsigned char)(n - i), 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, others);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, listed);
	prog.len = (unsigned short)k;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
}
#endif

int sandbox_front(const char **why)
{
#ifdef FILTER_ARCH
	return install(denied, NDENIED, SECCOMP_RET_KILL_PROCESS,
	               SECCOMP_RET_ALLOW, why);
#else
	*why = "no seccomp filter for this architecture";
	return -1;
#endif
}

int sandbox_relay(const char **why)
{
#ifdef FILTER_ARCH
	/* Time zone files are read once, now, not when a log line needs them. */
	tzset();
	return install(allowed, NALLOWED, SECCOMP_RET_ALLOW,
	               SECCOMP_RET_KILL_PROCESS, why);
#else
	*why = "no seccomp filter for this architecture";
	return -1;
#endif
}
