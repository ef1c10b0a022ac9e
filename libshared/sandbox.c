#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

/*
 * Debian 12's headers stop at Landlock ABI 3; the running kernel may
 * offer more (QEMU-NOTES.md: ABI 7 here).  The later constants are ours.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#define MVM_LL_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define MVM_LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define MVM_LL_NET_CONNECT_TCP		(1ULL << 1)	/* ABI 4 */
#define MVM_LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define MVM_LL_SCOPE_SIGNAL		(1ULL << 1)	/* ABI 6 */

struct mvm_landlock_attr {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;	/* ABI 4 */
	uint64_t	 scoped;		/* ABI 6 */
};

/*
 * Mount an empty, read-only, noexec tmpfs on mnt and make it our root.
 * Must run in a private mount namespace (the child was cloned into one).
 * pivot_root(".", ".") stacks the old root under the new one; the
 * detach then drops it, so no host path is reachable afterwards.
 */
int
sandbox_empty_root(const char *mnt)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return (-1);
	if (mount("mvm-empty", mnt, "tmpfs",
	    MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
	    "size=4k,nr_inodes=2,mode=0555") == -1)
		return (-1);
	return (sandbox_pivot(mnt));
}

/* Make dir (already a mount point in our private namespace) the root. */
int
sandbox_pivot(const char *dir)
{
	if (chdir(dir) == -1)
		return (-1);
	if (syscall(SYS_pivot_root, ".", ".") == -1)
		return (-1);
	if (umount2(".", MNT_DETACH) == -1)
		return (-1);
	if (chdir("/") == -1)
		return (-1);
	return (0);
}

int
sandbox_sethostname(const char *name)
{
	return (sethostname(name, strlen(name)));
}

/*
 * Drop to a numeric uid/gid; no supplementary groups but extra, if not
 * 0 (the vmm's: /dev/kvm's group where the node is not 0666).
 */
int
sandbox_setids(uid_t uid, gid_t gid, gid_t extra)
{
	gid_t	 groups[2] = { gid, extra };
	uid_t	 r, e, s;

	if (uid == 0 || gid == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (setgroups(extra != 0 ? 2 : 1, groups) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return (-1);
	/* make sure there is no way back */
	if (getresuid(&r, &e, &s) == -1 || r != uid || e != uid || s != uid)
		return (-1);
	if (setuid(0) != -1) {
		errno = EPERM;
		return (-1);
	}
	return (0);
}

/* Key holders: no core dumps, no ptrace or /proc access by our uid. */
int
sandbox_nodump(void)
{
	return (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
}

int
sandbox_nnp(void)
{
	return (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

/*
 * Empty the bounding and ambient sets while we still may (needs
 * CAP_SETPCAP, so call before sandbox_setids); setresuid to a non-zero
 * uid then clears permitted and effective.  Checked after the fact.
 */
int
sandbox_caps_drop(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	int				 cap;

	for (cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			return (-1);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return (-1);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return (-1);
	/* keep what is needed until setresuid; drop inheritable now */
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) == -1)
		return (-1);
	return (0);
}

int
sandbox_landlock_abi(void)
{
	long	 abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return (abi < 0 ? 0 : (int)abi);
}

/*
 * No path-based filesystem access at all, no TCP bind or connect (ABI
 * 4), no abstract unix sockets and no signals outside our domain (ABI
 * 6).  Returns the ABI used; 0 when the kernel has no Landlock (not an
 * error: seccomp and the empty root still hold).
 */
int
sandbox_landlock_nofs(void)
{
	struct mvm_landlock_attr attr;
	size_t			 sz;
	int			 abi, fd;

	if ((abi = sandbox_landlock_abi()) <= 0)
		return (0);
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = (1ULL << 13) - 1;	/* ABI 1 */
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= MVM_LL_FS_IOCTL_DEV;
	sz = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		attr.handled_access_net = MVM_LL_NET_BIND_TCP |
		    MVM_LL_NET_CONNECT_TCP;
		sz = offsetof(struct mvm_landlock_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = MVM_LL_SCOPE_ABSTRACT_UNIX | MVM_LL_SCOPE_SIGNAL;
		sz = sizeof(attr);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sz, 0);
	if (fd == -1)
		return (-1);
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		close(fd);
		return (-1);
	}
	close(fd);
	return (abi);
}

#ifdef MVM_SANDBOX_DEBUG
static void
sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
	char	 buf[64];
	int	 n;

	(void)sig;
	(void)uc;
	n = snprintf(buf, sizeof(buf), "<2>seccomp: syscall %d denied\n",
	    si->si_syscall);
	(void)write(STDERR_FILENO, buf, n);
	_exit(159);
}
#endif

/*
 * Load an allowlist: anything not listed kills the whole process
 * (SCMP_ACT_KILL_PROCESS), as does a syscall of a foreign architecture.
 * With -DMVM_SANDBOX_DEBUG the default is a trap that logs the number.
 */
int
sandbox_seccomp(const struct sandbox_rule *rules, size_t n)
{
	struct scmp_arg_cmp	 cmp[2];
	scmp_filter_ctx		 ctx;
	uint32_t		 def = SCMP_ACT_KILL_PROCESS;
	size_t			 i;
	int			 j, rc;

#ifdef MVM_SANDBOX_DEBUG
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	def = SCMP_ACT_TRAP;
#endif
	if ((ctx = seccomp_init(def)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		for (j = 0; j < rules[i].r_nargs; j++) {
			cmp[j].arg = rules[i].r_args[j].a_idx;
			cmp[j].op = rules[i].r_args[j].a_op;
			cmp[j].datum_a = rules[i].r_args[j].a_v1;
			cmp[j].datum_b = rules[i].r_args[j].a_v2;
		}
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
		    rules[i].r_nr, rules[i].r_nargs, cmp);
		if (rc != 0) {
			log_warnx("%s: rule %zu (syscall %d): %s", __func__,
			    i, rules[i].r_nr, strerror(-rc));
			goto fail;
		}
	}
	if ((rc = seccomp_load(ctx)) != 0)
		goto fail;
	seccomp_release(ctx);
	return (0);
fail:
	seccomp_release(ctx);
	errno = -rc;
	return (-1);
}
