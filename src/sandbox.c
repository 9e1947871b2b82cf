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

int sandbox_relay(const char **why)
{
#ifdef FILTER_ARCH
	struct sock_filter f[NALLOWED + 6];
	struct sock_fprog prog = { .filter = f };
	size_t n = 0;

	/* Another architecture's numbers mean other calls: refuse them. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	                                      FILTER_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	                                      SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, nr));
	/* Each allowed call jumps to the ALLOW at the end. */
	for (size_t i = 0; i < NALLOWED; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		                                      (unsigned)allowed[i],
		                                      (unsigned char)(NALLOWED - i),
		                                      0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	                                      SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	                                      SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	/* Time zone files are read once, now, not when a log line needs them. */
	tzset();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
#else
	*why = "no seccomp filter for this architecture";
	return -1;
#endif
}
