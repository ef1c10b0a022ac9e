/*
 * seccomp.c: the seccomp tiers a workload runs under (mvm-agent.8).
 *
 * Each tier is an allowlist of x86-64 system calls that adds to the
 * tier before it: essential < minimal < standard < network (tiers.h
 * has the lists).  Any call a tier does not list kills the whole
 * process (SECCOMP_RET_KILL_PROCESS: SIGSYS, signal 31), and so does a
 * call of another architecture (i386 through int 0x80, x32).
 * "unrestricted" has no filter at all.
 *
 * The BPF programs are made at build time, not here: mktiers, run on
 * the build host by the GNUmakefile, builds each tier's filter from
 * tiers.h with libseccomp and writes the programs out as const arrays
 * (tierbpf.h, generated, under the build directory).  Building them in
 * the guest cost about 160 ms of every boot and first EXEC under TCG,
 * for the same bytes every time, and linked libseccomp into PID 1; now
 * the agent does no filter work at run time and has no syscall names.
 *
 * The child loads its tier's program (with no_new_privs) after its last
 * set-up call, right before execve (exec.c): the filter has to allow
 * execve, and what the child does after loading it is execve or report
 * a failure (write, exit_group).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/seccomp.h>

#include <errno.h>
#include <unistd.h>

#include "agent.h"
#include "seccomp.h"
#include "tierbpf.h"

/*
 * The program of a tier (AP_TIER_*): 0 and *fpp (NULL for
 * unrestricted), or -1 with errno set.
 */
int
tier_prog(uint32_t tier, const struct sock_fprog **fpp)
{
	*fpp = NULL;
	if (tier < AP_TIER_ESSENTIAL || tier > AP_TIER_UNRESTRICTED) {
		errno = EINVAL;
		return (-1);
	}
	if (tier == AP_TIER_UNRESTRICTED)
		return (0);
	*fpp = &tier_bpf[tier];
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
