/*
 * mvm-signer seccomp policy.  Default: kill the process.  The signer
 * only reads requests, signs in memory and writes replies; it never
 * opens, execs, forks or touches the network after its jail.
 */
#include <sys/mman.h>

#include "signer.h"

const struct sandbox_rule signer_policy[] = {
	SB_ALLOW(recvmsg),		/* imsg from supervisor and auditd */
	SB_ALLOW(sendmsg),		/* imsg replies */
	SB_ALLOW(write),		/* log lines on fd 2 */
	SB_ALLOW(close),		/* peer teardown */
	SB_ALLOW(epoll_wait),		/* libevent */
	SB_ALLOW(epoll_pwait),		/* libevent */
	SB_ALLOW(epoll_ctl),		/* libevent: arming EV_WRITE */
	SB_ALLOW(clock_gettime),	/* libevent, if the vDSO is bypassed */
	SB_ALLOW(gettimeofday),		/* libevent */
	SB_ALLOW(brk),			/* malloc */
	SB_ALLOW_MASK(mmap, 2, PROT_EXEC, 0),	/* malloc: never exec */
	SB_ALLOW(munmap),		/* free */
	SB_ALLOW(mremap),		/* realloc of large blocks */
	SB_ALLOW(madvise),		/* free */
	/* sodium_mprotect_{readonly,noaccess} around each signature */
	SB_ALLOW_MASK(mprotect, 2, ~(uint64_t)PROT_READ, 0),
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
const size_t signer_policy_len = SB_NELEM(signer_policy);

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
