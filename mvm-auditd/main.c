/*
 * mvm-auditd: writes the audit log.  It gets each tenant's log and
 * checkpoint files as O_APPEND fds from the supervisor and a socket to
 * the signer; after its jail it has no filesystem at all.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "auditd.h"
#include "crypto.h"
#include "log.h"
#include "mvm.h"
#include "proc.h"
#include "sandbox.h"

struct auditd ad = { .signerfd = -1 };

/* fds received, by tenant, until CONFIG_END pairs them up */
static struct {
	char	 name[MVM_TENANT_MAX];
	int	 logfd;
	int	 ckptfd;
} fds[AUDITD_TENANTS_MAX];
static int	 nfds;

static int	 auditd_dispatch_parent(struct peer *, struct imsg *);
static int	 auditd_dispatch_signer(struct peer *, struct imsg *);
static void	 auditd_closed(struct peer *, int);

int
main(int argc, char *argv[])
{
	struct mvm_hello	 he;
	int			 fd;

	fd = proc_child_start(argc, argv, "auditd");
	if ((ad.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (peer_init(&ad.parent, ad.base, fd, MVM_IMSG_MAX,
	    auditd_dispatch_parent, auditd_closed, NULL, "parent") == -1)
		fatal("peer_init");
	memset(&he, 0, sizeof(he));
	he.he_proto = MVM_PROTO_VERSION;
	he.he_role = MVM_ROLE_AUDITD;
	(void)strlcpy(he.he_version, MVM_VERSION, sizeof(he.he_version));
	if (peer_compose(&ad.parent, IMSG_HELLO, 0, -1, &he, sizeof(he)) == -1)
		fatal("compose");
	event_base_dispatch(ad.base);
	return (0);
}

/*
 * Jail: empty read-only root, own uid, no capabilities, no_new_privs,
 * Landlock without any fs access, seccomp (policy.c).  Kept: the log
 * fds (append only; the filter refuses every way to rewrite them).
 */
static void
auditd_demote(void)
{
	int	 abi;

	if (sandbox_sethostname("mvm-auditd") == -1)
		fatal("sethostname");
	if (sandbox_empty_root(ad.conf.cc_root) == -1)
		fatal("jail root %s", ad.conf.cc_root);
	if (sandbox_caps_drop() == -1)
		fatal("dropping capabilities");
	if (sandbox_setids(ad.conf.cc_uid, ad.conf.cc_gid, 0) == -1)
		fatal("cannot drop privileges");
	if (sandbox_nnp() == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	if ((abi = sandbox_landlock_nofs()) == -1)
		fatal("landlock");
	log_debug("jailed: uid %u, landlock abi %d", ad.conf.cc_uid, abi);
	if (sandbox_seccomp(auditd_policy, auditd_policy_len) == -1)
		fatal("seccomp");
}

static void
auditd_ready(void)
{
	struct mvm_ready	 rd;
	struct tenant		*t;
	int			 i;

	if (nfds == 0 || ad.signerfd == -1)
		fatalx("configuration incomplete");
	if (ad.conf.cc_keyid == 0 || !key_name_valid(ad.conf.cc_keyname))
		fatalx("no signing key in the configuration");
	if (fd_nonblock(ad.signerfd) == -1 ||
	    peer_init(&ad.signer, ad.base, ad.signerfd, MVM_IMSG_MAX,
	    auditd_dispatch_signer, auditd_closed, NULL, "signer") == -1)
		fatal("signer peer");
	journal_init();
	/* read and check each log before the jail (reads stay allowed) */
	for (i = 0; i < nfds; i++) {
		if (fds[i].logfd == -1 || fds[i].ckptfd == -1)
			fatalx("tenant %s: log or checkpoints missing",
			    fds[i].name);
		t = tenant_add(fds[i].name, fds[i].logfd, fds[i].ckptfd);
		journal_recover(t);
	}
	auditd_demote();
	memset(&rd, 0, sizeof(rd));
	rd.rd_role = MVM_ROLE_AUDITD;
	if (peer_compose(&ad.parent, IMSG_READY, 0, -1, &rd, sizeof(rd)) == -1)
		fatal("compose");
	ad.ready = 1;
}

static int *
fd_slot(const char *tenant, uint32_t kind)
{
	int	 i;

	for (i = 0; i < nfds; i++)
		if (strcmp(fds[i].name, tenant) == 0)
			break;
	if (i == nfds) {
		if (nfds == AUDITD_TENANTS_MAX)
			fatalx("too many tenants");
		(void)strlcpy(fds[i].name, tenant, sizeof(fds[i].name));
		fds[i].logfd = fds[i].ckptfd = -1;
		nfds++;
	}
	return (kind == MVM_FD_AUDIT_LOG ? &fds[i].logfd : &fds[i].ckptfd);
}

static void
auditd_config_fd(struct imsg *imsg)
{
	struct mvm_config_fd	 cf;
	int			 fd, *slot;

	if (msg_get_config_fd(imsg, &cf, &fd) == -1)
		fatalx("malformed CONFIG_FD");
	switch (cf.cf_kind) {
	case MVM_FD_PEER:
		slot = &ad.signerfd;
		break;
	case MVM_FD_AUDIT_LOG:
	case MVM_FD_AUDIT_CKPT:
		if (!tenant_valid(cf.cf_name))
			fatalx("invalid tenant");
		slot = fd_slot(cf.cf_name, cf.cf_kind);
		break;
	default:
		fatalx("unexpected fd kind %u", cf.cf_kind);
	}
	if (*slot != -1)
		fatalx("duplicate fd kind %u", cf.cf_kind);
	*slot = fd;
}

#ifdef MVM_TEST_HOOKS
#include "testhook.h"
#endif

static int
auditd_dispatch_parent(struct peer *p, struct imsg *imsg)
{
	struct mvm_audit_event	 ev;
	struct mvm_audit_req	 ar;

	switch (imsg_type(imsg)) {
	case IMSG_CONFIG:
		if (ad.have_conf || ad.ready)
			fatalx("CONFIG out of turn");
		if (msg_get_child_config(imsg, &ad.conf) == -1 ||
		    ad.conf.cc_proto != MVM_PROTO_VERSION)
			fatalx("malformed CONFIG");
		ad.have_conf = 1;
		log_setverbose(ad.conf.cc_verbose);
		break;
	case IMSG_CONFIG_FD:
		if (!ad.have_conf || ad.ready)
			fatalx("CONFIG_FD out of turn");
		auditd_config_fd(imsg);
		break;
	case IMSG_CONFIG_END:
		if (!ad.have_conf || ad.ready || msg_get_empty(imsg) == -1)
			fatalx("CONFIG_END out of turn");
		auditd_ready();
		break;
	case IMSG_AUDIT_EVENT:
		if (!ad.ready || msg_get_audit_event(imsg, &ev) == -1)
			fatalx("malformed AUDIT_EVENT");
		journal_event(&ev, 1);
		break;
	case IMSG_AUDIT_RESUME:
		if (!ad.ready || msg_get_audit_req(imsg, &ar) == -1)
			fatalx("malformed AUDIT_RESUME");
		journal_resume(&ar);
		break;
	case IMSG_AUDIT_CKPT_REQ:
	case IMSG_AUDIT_PROOF_REQ:
		if (!ad.ready || msg_get_audit_req(imsg, &ar) == -1)
			fatalx("malformed %s", imsg_type_name(imsg_type(imsg)));
		journal_ckpt_req(&ar, imsg_type(imsg));
		break;
#ifdef MVM_TEST_HOOKS
	case IMSG_TEST_SYSCALL:
		testhook_syscall(imsg);
		break;
#endif
	default:
		fatalx("%s: unexpected message type %u", p->p_name,
		    imsg_type(imsg));
	}
	return (PEER_OK);
}

static int
auditd_dispatch_signer(struct peer *p, struct imsg *imsg)
{
	struct mvm_sign_res	 res;

	if (imsg_type(imsg) != IMSG_SIGN_RES ||
	    msg_get_sign_res(imsg, &res) == -1)
		fatalx("%s: unexpected message type %u", p->p_name,
		    imsg_type(imsg));
	journal_sign_res(&res);
	return (PEER_OK);
}

static void
auditd_closed(struct peer *p, int why)
{
	if (why == PEER_MALFORMED)
		fatalx("%s: malformed message", p->p_name);
	if (p == &ad.signer) {
		if (why == PEER_IOERR)
			fatal("signer");
		fatalx("signer went away");
	}
	if (why == PEER_IOERR)
		fatal("%s", p->p_name);
	/* the supervisor is done: commit what is queued, then exit */
	peer_shutdown(p);
	if (!ad.ready)
		exit(0);
	ad.draining = 1;
	journal_drain_check();
}
