/*
 * msg.c: one reader per IPC struct.  Each copies the payload out of the
 * imsg, checks its exact size, that every string is NUL-terminated
 * inside its array, and the ranges it can check without context.
 * Dispatchers never touch imsg->data themselves.
 *
 * A reader returns -1 with errno EBADMSG on any violation; the caller
 * decides what that means (a child exits, the supervisor drops a client).
 */
#include <errno.h>
#include <string.h>

#include "mvm.h"

#define STR_OK(a)	(memchr((a), '\0', sizeof(a)) != NULL)

static int
bad(void)
{
	errno = EBADMSG;
	return (-1);
}

static int
get(struct imsg *imsg, void *p, size_t len)
{
	if (imsg->fd != -1)		/* nobody sends an fd unasked */
		return (bad());
	return (imsg_get_data(imsg, p, len));
}

int
msg_get_empty(struct imsg *imsg)
{
	return (get(imsg, NULL, 0));
}

int
msg_get_hello(struct imsg *imsg, struct mvm_hello *he)
{
	if (get(imsg, he, sizeof(*he)) == -1 || !STR_OK(he->he_version))
		return (bad());
	if (he->he_role < MVM_ROLE_SIGNER || he->he_role > MVM_ROLE_VMM)
		return (bad());
	return (0);
}

int
msg_get_child_config(struct imsg *imsg, struct mvm_child_config *cc)
{
	if (get(imsg, cc, sizeof(*cc)) == -1)
		return (-1);
	if (!STR_OK(cc->cc_root) || !STR_OK(cc->cc_keyname) ||
	    !STR_OK(cc->cc_hostname))
		return (bad());
	if (cc->cc_root[0] != '/' || cc->cc_uid == 0 || cc->cc_gid == 0)
		return (bad());
	return (0);
}

/* The fd is required for this type; it is handed to the caller. */
int
msg_get_config_fd(struct imsg *imsg, struct mvm_config_fd *cf, int *fdp)
{
	if (imsg->fd == -1 ||
	    imsg_get_data(imsg, cf, sizeof(*cf)) == -1 || !STR_OK(cf->cf_name))
		return (bad());
	if (cf->cf_kind < MVM_FD_SIGNER_KEY || cf->cf_kind > MVM_FD_AUDIT_CKPT)
		return (bad());
	*fdp = imsg_get_fd(imsg);
	return (0);
}

int
msg_get_ready(struct imsg *imsg, struct mvm_ready *rd)
{
	if (get(imsg, rd, sizeof(*rd)) == -1 || !STR_OK(rd->rd_keyname))
		return (bad());
	if (rd->rd_flags & ~MVM_READY_KEY_CREATED)
		return (bad());
	return (0);
}

/* *bodyp points into imsg->data and lives as long as the imsg. */
int
msg_get_sign_req(struct imsg *imsg, struct mvm_sign_req *sr,
    const uint8_t **bodyp)
{
	if (imsg->fd != -1 || imsg->datalen < sizeof(*sr))
		return (bad());
	memcpy(sr, imsg->data, sizeof(*sr));
	if (sr->sr_len > MVM_SIGN_BODY_MAX ||
	    imsg->datalen - sizeof(*sr) != sr->sr_len || sr->sr_len == 0)
		return (bad());
	*bodyp = (const uint8_t *)imsg->data + sizeof(*sr);
	return (0);
}

int
msg_get_sign_res(struct imsg *imsg, struct mvm_sign_res *ss)
{
	if (get(imsg, ss, sizeof(*ss)) == -1)
		return (-1);
	if (ss->ss_kind == 0 || ss->ss_kind > MVM_SIGN_KIND_MAX)
		return (bad());
	return (0);
}

int
msg_get_test_syscall(struct imsg *imsg, struct mvm_test_syscall *ts)
{
	return (get(imsg, ts, sizeof(*ts)));
}

static int
kv_ok(const struct mvm_audit_kv *kv)
{
	return (STR_OK(kv->kv_key) && STR_OK(kv->kv_val) &&
	    kv->kv_isint <= 1);
}

/* Syntax of keys and values is checked by the record builder. */
int
msg_get_audit_event(struct imsg *imsg, struct mvm_audit_event *ae)
{
	uint32_t	 i;

	if (get(imsg, ae, sizeof(*ae)) == -1 || !STR_OK(ae->ae_tenant) ||
	    !STR_OK(ae->ae_type) || ae->ae_nsubject > MVM_AUDIT_SUBJECT_MAX ||
	    ae->ae_nlabels > MVM_AUDIT_LABELS_MAX)
		return (bad());
	for (i = 0; i < ae->ae_nsubject; i++)
		if (!kv_ok(&ae->ae_subject[i]))
			return (bad());
	for (i = 0; i < ae->ae_nlabels; i++)
		if (!kv_ok(&ae->ae_labels[i]))
			return (bad());
	return (0);
}

int
msg_get_audit_ack(struct imsg *imsg, struct mvm_audit_ack *aa)
{
	return (get(imsg, aa, sizeof(*aa)));
}

int
msg_get_audit_stopped(struct imsg *imsg, struct mvm_audit_stopped *as)
{
	if (get(imsg, as, sizeof(*as)) == -1 || !STR_OK(as->as_tenant))
		return (bad());
	return (0);
}

int
msg_get_audit_req(struct imsg *imsg, struct mvm_audit_req *ar)
{
	if (get(imsg, ar, sizeof(*ar)) == -1 || !STR_OK(ar->ar_tenant))
		return (bad());
	return (0);
}

int
msg_get_audit_ckpt(struct imsg *imsg, struct mvm_audit_ckpt *ac)
{
	if (get(imsg, ac, sizeof(*ac)) == -1 || !STR_OK(ac->ac_note))
		return (bad());
	return (0);
}

int
msg_get_audit_proof(struct imsg *imsg, struct mvm_audit_proof *ap)
{
	if (get(imsg, ap, sizeof(*ap)) == -1 || !STR_OK(ap->ap_note) ||
	    ap->ap_nhash > MVM_AUDIT_PROOF_MAX)
		return (bad());
	return (0);
}

int
msg_get_ctl_hello(struct imsg *imsg, struct mvm_ctl_hello *ch)
{
	if (get(imsg, ch, sizeof(*ch)) == -1 || !STR_OK(ch->ch_software))
		return (bad());
	return (0);
}

int
msg_get_ctl_error(struct imsg *imsg, struct mvm_ctl_error *ce)
{
	if (get(imsg, ce, sizeof(*ce)) == -1 || !STR_OK(ce->ce_msg))
		return (bad());
	return (0);
}

int
msg_get_ctl_proc(struct imsg *imsg, struct mvm_ctl_proc *cp)
{
	if (get(imsg, cp, sizeof(*cp)) == -1 || !STR_OK(cp->cp_name))
		return (bad());
	return (0);
}

int
msg_get_ctl_status(struct imsg *imsg, struct mvm_ctl_status *cs)
{
	if (get(imsg, cs, sizeof(*cs)) == -1 || !STR_OK(cs->cs_version) ||
	    !STR_OK(cs->cs_tenant) || !STR_OK(cs->cs_state_dir))
		return (bad());
	return (0);
}

int
msg_get_ctl_key(struct imsg *imsg, struct mvm_ctl_key *ck)
{
	if (get(imsg, ck, sizeof(*ck)) == -1 || !STR_OK(ck->ck_name))
		return (bad());
	return (0);
}

const char *
mvm_strerror(uint32_t code)
{
	switch (code) {
	case MVM_EVERSION:
		return ("protocol version mismatch");
	case MVM_EPERM:
		return ("permission denied");
	case MVM_EINVAL:
		return ("invalid request");
	case MVM_ENOTREADY:
		return ("not ready");
	case MVM_ESIGNKIND:
		return ("signing kind not allowed");
	case MVM_ESIGNCONTENT:
		return ("content refused by the signer");
	case MVM_EAUDIT:
		return ("audit log stopped");
	case MVM_ESHUTDOWN:
		return ("supervisor is shutting down");
	case MVM_EBUSY:
		return ("busy");
	}
	if (code > 0 && code < 1000)
		return (strerror(code));
	return ("unknown error");
}

const char *
imsg_type_name(uint32_t type)
{
	switch (type) {
	case IMSG_HELLO:		return ("HELLO");
	case IMSG_CONFIG:		return ("CONFIG");
	case IMSG_CONFIG_FD:		return ("CONFIG_FD");
	case IMSG_CONFIG_END:		return ("CONFIG_END");
	case IMSG_READY:		return ("READY");
	case IMSG_SIGN_REQ:		return ("SIGN_REQ");
	case IMSG_SIGN_RES:		return ("SIGN_RES");
	case IMSG_TEST_SYSCALL:		return ("TEST_SYSCALL");
	case IMSG_AUDIT_EVENT:		return ("AUDIT_EVENT");
	case IMSG_AUDIT_ACK:		return ("AUDIT_ACK");
	case IMSG_AUDIT_STOPPED:	return ("AUDIT_STOPPED");
	case IMSG_AUDIT_CKPT_REQ:	return ("AUDIT_CKPT_REQ");
	case IMSG_AUDIT_CKPT_RES:	return ("AUDIT_CKPT_RES");
	case IMSG_AUDIT_PROOF_REQ:	return ("AUDIT_PROOF_REQ");
	case IMSG_AUDIT_PROOF_RES:	return ("AUDIT_PROOF_RES");
	case IMSG_CTL_AUDIT_CKPT_REQ:	return ("CTL_AUDIT_CKPT_REQ");
	case IMSG_CTL_AUDIT_CKPT_RES:	return ("CTL_AUDIT_CKPT_RES");
	case IMSG_CTL_HELLO:		return ("CTL_HELLO");
	case IMSG_CTL_ERROR:		return ("CTL_ERROR");
	case IMSG_CTL_STATUS_REQ:	return ("CTL_STATUS_REQ");
	case IMSG_CTL_STATUS_PROC:	return ("CTL_STATUS_PROC");
	case IMSG_CTL_STATUS_END:	return ("CTL_STATUS_END");
	case IMSG_CTL_KEY_REQ:		return ("CTL_KEY_REQ");
	case IMSG_CTL_KEY_RES:		return ("CTL_KEY_RES");
	}
	return ("unknown");
}
