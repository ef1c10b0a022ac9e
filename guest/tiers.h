/*
 * tiers.h: the seccomp tiers of mvm-agent's workloads, by name: the one
 * place they are written down (mvm-agent.8 lists the same calls, and
 * regress/guest/agent.t checks that it does).
 *
 * Each tier is an allowlist of x86-64 system calls that adds to the
 * tier before it: essential < minimal < standard < network.
 * "unrestricted" has no list and no filter.  Only mktiers.c includes
 * this file: it turns the lists into BPF programs when the agent is
 * built (seccomp.c says why), so the agent itself has no names.
 */
#ifndef MVM_GUEST_TIERS_H
#define MVM_GUEST_TIERS_H

#include <sys/prctl.h>

#include <stddef.h>

#include "agentproto.h"

/*
 * any program: start, its fds, memory, exec, exit, ids, time.  setuid
 * and setgid too: busybox sets its ids to the real ones before it runs
 * an applet (unless it is root), and for a user without capabilities
 * (mvm-agent.8, Users) that is all they can do.
 */
static const char *const tier_essential[] = {
	"read", "write", "readv", "writev", "pread64", "preadv", "preadv2",
	"close", "fstat", "newfstatat", "statx", "lseek", "openat", "ioctl",
	"fcntl", "fadvise64", "getpid", "gettid", "getuid", "geteuid",
	"getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid",
	"setgid", "uname",
	"getrandom", "clock_gettime", "clock_getres", "clock_nanosleep",
	"nanosleep", "gettimeofday", "time", "prlimit64", "getrlimit",
	"getcwd", "readlink", "readlinkat", "access", "faccessat",
	"faccessat2", "execve", "execveat", "brk", "mmap", "mprotect",
	"munmap", "mremap", "madvise", "arch_prctl", "set_tid_address",
	"set_robust_list", "rseq", "futex", "rt_sigaction", "rt_sigprocmask",
	"rt_sigreturn", "rt_sigpending", "restart_syscall", "sched_yield",
	"sysinfo", "exit", "exit_group", NULL
};

/*
 * essential only: prctl with these options (its first argument).
 * busybox asks for its name before it runs any applet.  minimal allows
 * prctl with any option.
 */
static const unsigned long tier_essential_prctl[] = {
	PR_GET_NAME, PR_SET_NAME
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

/* by AP_TIER_*; a tier's filter allows its list and those before it */
static const char *const *const tier_lists[AP_TIER_UNRESTRICTED] = {
	[AP_TIER_ESSENTIAL] = tier_essential,
	[AP_TIER_MINIMAL] = tier_minimal,
	[AP_TIER_STANDARD] = tier_standard,
	[AP_TIER_NETWORK] = tier_network
};

#endif /* MVM_GUEST_TIERS_H */
