/*
 * Sandbox helpers.  Each daemon's <proc>_demote() calls them in this
 * order: jail root (namespaces came with clone), ids, no_new_privs and
 * capabilities, Landlock, seccomp (STYLE.md section 6).
 */
#ifndef MVM_SANDBOX_H
#define MVM_SANDBOX_H

#include <sys/types.h>

#include <stdint.h>

#include <seccomp.h>

struct sandbox_arg {
	uint8_t		 a_idx;		/* argument 0..5 */
	uint8_t		 a_op;		/* enum scmp_compare */
	uint64_t	 a_v1;		/* value, or mask for MASKED_EQ */
	uint64_t	 a_v2;		/* value for MASKED_EQ */
};

struct sandbox_rule {
	int		 r_nr;		/* SCMP_SYS(name) */
	int		 r_nargs;
	struct sandbox_arg r_args[2];
};

/* one allowed syscall, optionally matched on arguments */
#define SB_ALLOW(n)		{ SCMP_SYS(n), 0, { { 0, 0, 0, 0 } } }
#define SB_ALLOW_EQ(n, i, v)	{ SCMP_SYS(n), 1, \
				    { { (i), SCMP_CMP_EQ, (v), 0 } } }
#define SB_ALLOW_MASK(n, i, m, v) { SCMP_SYS(n), 1, \
				    { { (i), SCMP_CMP_MASKED_EQ, (m), (v) } } }
#define SB_ALLOW_EQ2(n, i, v, j, w) { SCMP_SYS(n), 2, \
				    { { (i), SCMP_CMP_EQ, (v), 0 }, \
				      { (j), SCMP_CMP_EQ, (w), 0 } } }
#define SB_NELEM(a)		(sizeof(a) / sizeof((a)[0]))

int	 sandbox_empty_root(const char *);
int	 sandbox_pivot(const char *);
int	 sandbox_setids(uid_t, gid_t, gid_t);
int	 sandbox_nodump(void);
int	 sandbox_nnp(void);
int	 sandbox_caps_drop(void);
int	 sandbox_landlock_abi(void);
int	 sandbox_landlock_nofs(void);
int	 sandbox_seccomp(const struct sandbox_rule *, size_t);
int	 sandbox_sethostname(const char *);

#endif /* MVM_SANDBOX_H */
