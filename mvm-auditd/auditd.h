#ifndef MVM_AUDITD_H
#define MVM_AUDITD_H

#include <sys/queue.h>

#include <event2/event.h>

#include "merkle.h"
#include "mvm.h"
#include "note.h"
#include "proc.h"
#include "sandbox.h"

#define AUDITD_TENANTS_MAX	16
#define AUDITD_QUEUE_MAX	65536	/* events waiting to be signed */
#define AUDITD_BATCH_MAX	256	/* default records per commit */
#define AUDITD_BATCH_US		10000	/* default commit delay bound */

/* one record signed and waiting for its commit */
struct pending {
	uint32_t	 p_id;		/* event id to acknowledge */
	int		 p_ack;		/* 0: internal event, no ack */
	uint64_t	 p_seq;
	uint8_t		 p_leaf[32];
	int		 p_line;	/* the ack carries the line */
	size_t		 p_off;		/* the line in t_buf */
	size_t		 p_len;
};

struct tenant {
	char		 t_name[MVM_TENANT_MAX];
	char		 t_origin[MVM_ORIGIN_MAX];
	int		 t_logfd;
	int		 t_ckptfd;
	struct merkle_tree t_tree;	/* committed and pending leaves */
	uint64_t	 t_committed;	/* records on disk */
	uint64_t	 t_next;	/* next seq */
	uint8_t		 t_last[32];	/* hash of the last line (pending too) */
	uint8_t		 t_last_committed[32];
	int		 t_need_nl;	/* the log ends in a torn line */
	int		 t_ckpt_need_nl;
	int		 t_stopped;	/* write or fsync failed: fail closed */
	uint32_t	 t_gen;		/* + 1 at each stop */
	uint64_t	 t_ckpt_size;	/* newest checkpoint written */
	char		 t_ckpt_note[MVM_NOTE_MAX];
	/* the batch: lines and who to tell once they are durable */
	char		*t_buf;
	size_t		 t_buflen;
	size_t		 t_bufcap;
	struct pending	*t_pend;
	size_t		 t_npend;
	size_t		 t_pendcap;
};

/* one event waiting to be turned into a record */
struct qevent {
	TAILQ_ENTRY(qevent)	 q_entry;
	struct mvm_audit_event	 q_ev;
	int			 q_ack;
};
TAILQ_HEAD(qevents, qevent);

/* what a signature request in flight is for (the signer answers in order) */
struct inflight {
	TAILQ_ENTRY(inflight)	 f_entry;
	uint32_t		 f_id;
	int			 f_kind;	/* MVM_SIGN_* */
	struct tenant		*f_tenant;
	uint32_t		 f_gen;		/* the tenant's t_gen then */
	struct qevent		*f_ev;		/* record: its event */
	char			*f_unsigned;	/* record: the text signed */
	uint64_t		 f_size;	/* checkpoint: tree size */
	uint8_t			 f_root[32];
	uint32_t		 f_reqid;	/* checkpoint: who asked */
	int			 f_reqtype;	/* 0, CKPT_RES or PROOF_RES */
	uint64_t		 f_index;	/* proof: leaf index */
};
TAILQ_HEAD(inflights, inflight);

struct auditd {
	struct event_base	*base;
	struct peer		 parent;
	struct peer		 signer;
	struct mvm_child_config	 conf;
	int			 have_conf;
	int			 signerfd;
	int			 ready;
	int			 draining;	/* parent gone: finish, exit */
	struct tenant		 tenants[AUDITD_TENANTS_MAX];
	int			 ntenants;
	struct qevents		 queue;
	int			 nqueue;
	struct inflights	 inflight;
	int			 signing;	/* a record is at the signer */
	uint32_t		 next_sign_id;
	struct event		*batch_timer;
	int			 batch_armed;
};

extern struct auditd ad;

/* journal.c */
struct tenant *tenant_find(const char *);
struct tenant *tenant_add(const char *, int, int);
void	 journal_recover(struct tenant *);
void	 journal_resume(const struct mvm_audit_req *);
void	 journal_event(const struct mvm_audit_event *, int);
void	 journal_internal(struct tenant *, const char *,
	    const struct mvm_audit_kv *, int);
void	 journal_sign_res(const struct mvm_sign_res *);
void	 journal_ckpt_req(const struct mvm_audit_req *, int);
void	 journal_drain_check(void);
void	 journal_init(void);

/* policy.c */
extern const struct sandbox_rule	auditd_policy[];
extern const size_t			auditd_policy_len;

#endif /* MVM_AUDITD_H */
