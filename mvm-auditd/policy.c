/*
 * mvm-auditd seccomp policy.  Default: kill the process.
 *
 * The log fds are O_APPEND; on Linux fcntl(F_SETFL) could clear that,
 * and ftruncate, fallocate and pwrite could rewrite history, so none of
 * them is here (STYLE.md section 9).  fcntl is not allowed at all.
 */
#include <sys/mman.h>

#include "auditd.h"

const struct sandbox_rule auditd_policy[] = {
	SB_ALLOW(recvmsg),		/* imsg from supervisor and signer */
	SB_ALLOW(sendmsg),		/* imsg replies and requests */
	SB_ALLOW(read),			/* reading the log at start */
	SB_ALLOW(pread64),		/* reading records for proofs */
	SB_ALLOW(write),		/* appending records; log lines */
	SB_ALLOW(lseek),		/* reading the log at start */
	SB_ALLOW(fstat),		/* log size */
	SB_ALLOW(fdatasync),		/* group commit */
	SB_ALLOW(fsync),		/* checkpoints */
	SB_ALLOW(fadvise64),		/* read the log from disk */
	SB_ALLOW(close),		/* peer teardown */
	SB_ALLOW(epoll_wait),		/* libevent */
	SB_ALLOW(epoll_pwait),		/* libevent */
	SB_ALLOW(epoll_ctl),		/* libevent */
	SB_ALLOW(poll),			/* group commit: more events waiting? */
	SB_ALLOW(clock_gettime),	/* record times, batch deadlines */
	SB_ALLOW(gettimeofday),		/* libevent */
	SB_ALLOW(brk),			/* malloc */
	SB_ALLOW_MASK(mmap, 2, PROT_EXEC, 0),	/* malloc: never exec */
	SB_ALLOW(munmap),		/* free */
	SB_ALLOW(mremap),		/* realloc of large blocks */
	SB_ALLOW(madvise),		/* free */
	SB_ALLOW(rt_sigreturn),		/* signal return */
	SB_ALLOW(exit_group),		/* exit */
	SB_ALLOW(exit),
#ifdef MVM_SANITIZE
	SB_ALLOW(sigaltstack),		/* ASan/UBSan runtime */
	SB_ALLOW(getpid),
	SB_ALLOW(gettid),
	SB_ALLOW(sched_yield),
	SB_ALLOW(futex),
#endif
};
const size_t auditd_policy_len = SB_NELEM(auditd_policy);

#ifdef MVM_SANITIZE
/*
 * LeakSanitizer stops the world with ptrace from a cloned thread, which
 * this jail forbids (as it should).  Sanitizer builds of jailed daemons
 * run ASan and UBSan without the leak check.
 */
const char	*__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return ("detect_leaks=0");
}
#endif
