/*
 * Test-only triggers, compiled in with -DMVM_TEST_HOOKS (the build/test
 * variant).  Release builds do not contain this code and treat
 * IMSG_TEST_SYSCALL as an unknown message (fatal).
 */
#ifndef MVM_TESTHOOK_H
#define MVM_TESTHOOK_H

#ifndef MVM_TEST_HOOKS
#error "testhook.h is for test builds only"
#endif

#include <sys/socket.h>

#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "mvm.h"

/* Make a syscall the sandbox forbids; the kernel must kill us. */
static inline void
testhook_syscall(struct imsg *imsg)
{
	struct mvm_test_syscall	 ts;
	long			 rc = 0;

	if (msg_get_test_syscall(imsg, &ts) == -1)
		fatalx("malformed TEST_SYSCALL");
	log_warnx("test hook: forbidden syscall %u", ts.ts_which);
	switch (ts.ts_which) {
	case MVM_TEST_SYS_SOCKET:
		rc = socket(AF_INET, SOCK_STREAM, 0);
		break;
	case MVM_TEST_SYS_OPEN:
		rc = open("/etc/passwd", O_RDONLY);
		break;
	case MVM_TEST_SYS_FTRUNCATE:
		rc = ftruncate(STDERR_FILENO, 0);
		break;
	case MVM_TEST_SYS_PWRITE:
		rc = pwrite(STDERR_FILENO, "x", 1, 0);
		break;
	case MVM_TEST_SYS_FALLOCATE:
		rc = fallocate(STDERR_FILENO, 0, 0, 1);
		break;
	case MVM_TEST_SYS_SETFL:
		rc = fcntl(STDERR_FILENO, F_SETFL, 0);
		break;
	}
	/* still alive: the sandbox failed */
	fatalx("test hook: syscall %u was allowed (returned %ld)",
	    ts.ts_which, rc);
}

#endif /* MVM_TESTHOOK_H */
