/*
 * Seccomp policies of the vmm and of QEMU.
 *
 * The vmm's filter (an allowlist, default kill) is loaded once QEMU has
 * started: from then on it only bridges sockets, watches its child and
 * may kill it.  It cannot open files, exec, fork or reach a network.
 *
 * QEMU's filter is a denylist (default allow): QEMU needs a broad and
 * version-dependent set of calls, so we refuse what no guest needs —
 * module and mount calls, ptrace, keys, namespaces, clocks, bpf, and
 * sockets other than AF_UNIX — and QEMU's own -sandbox (spawn=deny
 * etc.) narrows it again.  It is loaded in the child right before
 * execve, so execve itself must stay allowed; after that, only QEMU's
 * binary is executable in the jail, and -sandbox spawn=deny forbids it.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>

#include <seccomp.h>

#include "vmm.h"

const struct sandbox_rule vmm_policy[] = {
	SB_ALLOW(recvmsg),		/* imsg from the supervisor */
	SB_ALLOW(sendmsg),		/* imsg to the supervisor */
	SB_ALLOW_EQ(sendto, 4, 0),	/* libevent's signal socketpair */
	SB_ALLOW(read),			/* QEMU's sockets and stderr */
	SB_ALLOW(readv),		/* evbuffer */
	SB_ALLOW(write),		/* sockets, console log, log lines */
	SB_ALLOW(writev),		/* evbuffer */
	SB_ALLOW_EQ(ioctl, 1, FIONREAD),	/* evbuffer_read sizing */
	SB_ALLOW_EQ(socket, 0, AF_UNIX),	/* QEMU's sockets in /run */
	SB_ALLOW(connect),
	SB_ALLOW_EQ(fcntl, 1, F_GETFL),	/* making them non-blocking */
	SB_ALLOW_EQ(fcntl, 1, F_SETFL),
	SB_ALLOW(close),
	SB_ALLOW_EQ(shutdown, 1, SHUT_WR),	/* a flow's end (net.c) */
	SB_ALLOW(epoll_wait),		/* libevent */
	SB_ALLOW(epoll_pwait),
	SB_ALLOW(epoll_ctl),
	SB_ALLOW(clock_gettime),	/* phases, timers */
	SB_ALLOW(gettimeofday),
	SB_ALLOW(brk),			/* malloc */
	SB_ALLOW_MASK(mmap, 2, PROT_EXEC, 0),
	SB_ALLOW(munmap),
	SB_ALLOW(mremap),
	SB_ALLOW(madvise),
	SB_ALLOW(rt_sigreturn),		/* SIGCHLD */
	SB_ALLOW(rt_sigprocmask),
	SB_ALLOW(wait4),		/* reaping QEMU */
	SB_ALLOW_EQ(kill, 1, SIGKILL),	/* the last resort on QEMU */
	SB_ALLOW(fdatasync),		/* the console log, at the end */
	SB_ALLOW(getpid),
	SB_ALLOW(exit_group),
	SB_ALLOW(exit),
#ifdef MVM_SANITIZE
	SB_ALLOW(sigaltstack),
	SB_ALLOW(gettid),
	SB_ALLOW(sched_yield),
	SB_ALLOW(futex),
#endif
};
const size_t vmm_policy_len = SB_NELEM(vmm_policy);

#ifdef MVM_SANITIZE
/* no leak check at exit: it needs ptrace (see mvm-signer/policy.c) */
const char	*__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return ("detect_leaks=0");
}
#endif

/* calls QEMU never needs to run a guest; each kills it */
static const int qemu_denied[] = {
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev), SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load), SCMP_SYS(reboot), SCMP_SYS(init_module),
	SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(mount),
	SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
	SCMP_SYS(swapon), SCMP_SYS(swapoff), SCMP_SYS(acct),
	SCMP_SYS(settimeofday), SCMP_SYS(clock_settime),
	SCMP_SYS(clock_adjtime), SCMP_SYS(adjtimex), SCMP_SYS(sethostname),
	SCMP_SYS(setdomainname), SCMP_SYS(iopl), SCMP_SYS(ioperm),
	SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd),
	SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
	SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(open_by_handle_at),
	SCMP_SYS(name_to_handle_at), SCMP_SYS(quotactl), SCMP_SYS(syslog),
	SCMP_SYS(vhangup), SCMP_SYS(uselib), SCMP_SYS(mknod),
	SCMP_SYS(mknodat), SCMP_SYS(fanotify_init), SCMP_SYS(lookup_dcookie),
	SCMP_SYS(move_mount), SCMP_SYS(open_tree), SCMP_SYS(fsopen),
	SCMP_SYS(fsmount), SCMP_SYS(fsconfig), SCMP_SYS(fspick),
	SCMP_SYS(mount_setattr), SCMP_SYS(pidfd_getfd),
};

int
qemu_seccomp(void)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return (-1);
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	for (i = 0; rc == 0 && i < sizeof(qemu_denied) / sizeof(qemu_denied[0]);
	    i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, qemu_denied[i],
		    0);
	/* no network: only unix sockets (QMP, console, agent) */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
		    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return (rc == 0 ? 0 : -1);
}
