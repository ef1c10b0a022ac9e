/*
 * seccomp.c: the seccomp tiers a workload runs under (mvm-agent.8).
 *
 * Each tier is an allowlist of x86-64 system calls that adds to the
 * tier before it: essential < minimal < standard < network.  Any call a
 * tier does not list kills the whole process (SCMP_ACT_KILL_PROCESS:
 * SIGSYS, signal 31), and so does a call of another architecture (i386
 * through int 0x80, x32).  "unrestricted" has no filter at all.
 *
 * The agent builds a tier's BPF program the first time an EXEC asks for
 * it and keeps it.  The child loads it (with no_new_privs) after its
 * last set-up call, right before execve (exec.c): the filter has to
 * allow execve, and what the child does after loading it is execve or
 * report a failure (write, exit_group).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/seccomp.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <seccomp.h>

#include "agent.h"
#include "seccomp.h"

/* any program: start, its fds, memory, exec, exit, ids, time */
static const char *const tier_essential[] = {
	"read", "write", "readv", "writev", "pread64", "preadv", "preadv2",
	"close", "fstat", "newfstatat", "statx", "lseek", "openat", "ioctl",
	"fcntl", "fadvise64", "getpid", "gettid", "getuid", "geteuid",
	"getgid", "getegid", "getresuid", "getresgid", "getgroups", "uname",
	"getrandom", "clock_gettime", "clock_getres", "clock_nanosleep",
	"nanosleep", "gettimeofday", "time", "prlimit64", "getrlimit",
	"getcwd", "readlink", "readlinkat", "access", "faccessat",
	"faccessat2", "execve", "execveat", "brk", "mmap", "mprotect",
	"munmap", "mremap", "madvise", "arch_prctl", "set_tid_address",
	"set_robust_list", "rseq", "futex", "rt_sigaction", "rt_sigprocmask",
	"rt_sigreturn", "rt_sigpending", "restart_syscall", "sched_yield",
	"sysinfo", "exit", "exit_group", NULL
};

/* processes, signals, pipes, timers, polling */
static const char *const tier_minimal[] = {
	"clone", "clone3", "fork", "vfork", "wait4", "waitid", "kill",
	"tgkill", "tkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pipe",
	"pipe2", "dup", "dup2", "dup3", "close_range", "poll", "ppoll",
	"select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
	"signalfd", "signalfd4", "timerfd_create", "timerfd_settime",
	"timerfd_gettime", "timer_create", "timer_settime", "timer_gettime",
	"timer_getoverrun", "timer_delete", "alarm", "setitimer",
	"getitimer", "getppid", "getpgrp", "setpgid", "getpgid", "setsid",
	"getsid", "prctl", "sigaltstack", "rt_sigsuspend", "rt_sigtimedwait",
	"pause", "getrusage", "times", "umask", "chdir", "fchdir", "getdents",
	"getdents64", "sched_getaffinity", "getpriority", "setpriority", NULL
};

/* changing the file system */
static const char *const tier_standard[] = {
	"mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat",
	"renameat2", "rmdir", "link", "linkat", "symlink", "symlinkat",
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat",
	"lchown", "truncate", "ftruncate", "fsync", "fdatasync", "sync",
	"syncfs", "sync_file_range", "utimensat", "utimes", "utime",
	"futimesat", "statfs", "fstatfs", "pwrite64", "pwritev", "pwritev2",
	"sendfile", "copy_file_range", "fallocate", "flock", "creat", "open",
	"stat", "lstat", "memfd_create", "getxattr", "lgetxattr", "fgetxattr",
	"listxattr", "llistxattr", "flistxattr", "splice", "tee",
	"inotify_init", "inotify_init1", "inotify_add_watch",
	"inotify_rm_watch", NULL
};

/* sockets */
static const char *const tier_network[] = {
	"socket", "socketpair", "connect", "bind", "listen", "accept",
	"accept4", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
	"recvmmsg", "shutdown", "getsockname", "getpeername", "setsockopt",
	"getsockopt", NULL
};

static const char *const *const tier_lists[] = {
	NULL, tier_essential, tier_minimal, tier_standard, tier_network
};

static struct sock_fprog tier_progs[AP_TIER_UNRESTRICTED];

static int	 tier_add(scmp_filter_ctx, const char *const *);
static int	 tier_build(uint32_t, struct sock_fprog *);
static int	 tier_export(scmp_filter_ctx, struct sock_fprog *);

/* Allow each call of a list; 0 or a negative errno. */
static int
tier_add(scmp_filter_ctx ctx, const char *const *names)
{
	int	 nr, rc;

	for (; *names != NULL; names++) {
		if ((nr = seccomp_syscall_resolve_name(*names)) ==
		    __NR_SCMP_ERROR) {
			alog("seccomp: no system call \"%s\"", *names);
			return (-ENOSYS);
		}
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0)
			return (rc);
	}
	return (0);
}

/*
 * The tier's filter: its lists and those of the tiers below.  prctl
 * comes with minimal; essential allows only PR_GET_NAME and PR_SET_NAME
 * (busybox asks for its name before it runs any applet).
 */
static int
tier_build(uint32_t tier, struct sock_fprog *fp)
{
	scmp_filter_ctx	 ctx;
	uint32_t	 t;
	int		 rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return (-ENOMEM);
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) != 0)
		goto done;
	for (t = AP_TIER_ESSENTIAL; t <= tier; t++)
		if ((rc = tier_add(ctx, tier_lists[t])) != 0)
			goto done;
	if (tier == AP_TIER_ESSENTIAL &&
	    ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME))) != 0))
		goto done;
	rc = tier_export(ctx, fp);
 done:
	seccomp_release(ctx);
	return (rc);
}

/* The BPF program of ctx into fp (through a memfd); 0 or -errno. */
static int
tier_export(scmp_filter_ctx ctx, struct sock_fprog *fp)
{
	struct sock_filter	*insns;
	struct stat		 st;
	size_t			 n;
	int			 fd, rc;

	if ((fd = memfd_create("seccomp", MFD_CLOEXEC)) == -1)
		return (-errno);
	if ((rc = seccomp_export_bpf(ctx, fd)) != 0)
		goto done;
	rc = -EINVAL;
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size % sizeof(*insns) != 0 ||
	    (n = st.st_size / sizeof(*insns)) > BPF_MAXINSNS)
		goto done;
	insns = xcalloc(n, sizeof(*insns));
	if (pread(fd, insns, st.st_size, 0) != st.st_size) {
		free(insns);
		goto done;
	}
	fp->len = n;
	fp->filter = insns;
	rc = 0;
 done:
	(void)close(fd);
	return (rc);
}

/*
 * The program of a tier (AP_TIER_*), built once: 0 and *fpp (NULL for
 * unrestricted), or -1 with errno set.
 */
int
tier_prog(uint32_t tier, const struct sock_fprog **fpp)
{
	int	 rc;

	*fpp = NULL;
	if (tier < AP_TIER_ESSENTIAL || tier > AP_TIER_UNRESTRICTED) {
		errno = EINVAL;
		return (-1);
	}
	if (tier == AP_TIER_UNRESTRICTED)
		return (0);
	if (tier_progs[tier].filter == NULL &&
	    (rc = tier_build(tier, &tier_progs[tier])) != 0) {
		errno = -rc;
		return (-1);
	}
	*fpp = &tier_progs[tier];
	return (0);
}

/*
 * In the child, right before execve: no_new_privs, then the filter (if
 * any).  0, or -1 with errno set.
 */
int
tier_load(const struct sock_fprog *fp)
{
	if (fp == NULL)
		return (0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return (-1);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, fp) == -1)
		return (-1);
	return (0);
}
