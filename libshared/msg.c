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

#include "agentproto.h"
#include "mvm.h"
#include "share.h"

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
	if (cf->cf_kind < MVM_FD_SIGNER_KEY || cf->cf_kind > MVM_FD_CONSOLE)
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
	if (get(imsg, ts, sizeof(*ts)) == -1 || ts->ts_which == 0 ||
	    ts->ts_which > MVM_TEST_VMM_NOCAP)
		return (bad());
	return (0);
}

int
msg_get_profile(struct imsg *imsg, struct mvm_profile *pr)
{
	if (get(imsg, pr, sizeof(*pr)) == -1 || !STR_OK(pr->pr_name) ||
	    pr->pr_name[0] == '\0' || pr->pr_env > 1 || pr->pr_secrets > 1 ||
	    pr->pr_add_dir > MVM_ADD_DIR_RW || pr->pr_network > 1 ||
	    ap_tier_name(pr->pr_seccomp) == NULL || pr->pr_cpus_max == 0 ||
	    pr->pr_memory_max_mib == 0 || pr->pr_ack > 1 ||
	    pr->pr_guest_root > 1)
		return (bad());
	return (0);
}

/* the value (PUT only) is whatever follows the header */
int
msg_get_ctl_secret(struct imsg *imsg, struct mvm_ctl_secret *sc,
    const uint8_t **valp, size_t *lenp)
{
	if (imsg->fd != -1 || imsg->datalen < sizeof(*sc))
		return (bad());
	memcpy(sc, imsg->data, sizeof(*sc));
	*valp = (const uint8_t *)imsg->data + sizeof(*sc);
	*lenp = imsg->datalen - sizeof(*sc);
	if (!STR_OK(sc->sc_name) || sc->sc_op < MVM_SECRET_PUT ||
	    sc->sc_op > MVM_SECRET_RM || *lenp > MVM_SECRET_MAX ||
	    ((sc->sc_op == MVM_SECRET_PUT) != (*lenp > 0)))
		return (bad());
	return (0);
}

int
msg_get_ctl_policy_req(struct imsg *imsg, struct mvm_ctl_policy_req *pq)
{
	if (get(imsg, pq, sizeof(*pq)) == -1 || !STR_OK(pq->pq_name))
		return (bad());
	return (0);
}

int
msg_get_ctl_test(struct imsg *imsg, struct mvm_ctl_test *ct)
{
	if (get(imsg, ct, sizeof(*ct)) == -1 || !STR_OK(ct->ct_name) ||
	    ct->ct_which == 0 || ct->ct_which > MVM_TEST_VMM_NOCAP)
		return (bad());
	return (0);
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
	    !STR_OK(ae->ae_type) || (ae->ae_flags & ~MVM_AEV_LINE) != 0 ||
	    ae->ae_nsubject > MVM_AUDIT_SUBJECT_MAX ||
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

/*
 * An ack, and the record line if one follows (*line NULL if not): at
 * most MVM_AUDIT_LINE_MAX bytes, no NUL, no newline, only on success.
 * line points into the message.
 */
int
msg_get_audit_ack(struct imsg *imsg, struct mvm_audit_ack *aa,
    const char **line, size_t *linelen)
{
	const char	*p;
	size_t		 n;

	if (imsg->fd != -1 || imsg->datalen < sizeof(*aa))
		return (bad());
	memcpy(aa, imsg->data, sizeof(*aa));
	p = (const char *)imsg->data + sizeof(*aa);
	n = imsg->datalen - sizeof(*aa);
	if (n > MVM_AUDIT_LINE_MAX || (n > 0 && aa->aa_error != 0) ||
	    memchr(p, '\0', n) != NULL || memchr(p, '\n', n) != NULL)
		return (bad());
	*line = n > 0 ? p : NULL;
	*linelen = n;
	return (0);
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

static int
path_ok(const char *p, size_t size)
{
	return (memchr(p, '\0', size) != NULL && (p[0] == '\0' || p[0] == '/'));
}

int
msg_get_vmm_config(struct imsg *imsg, struct mvm_vmm_config *vc)
{
	if (get(imsg, vc, sizeof(*vc)) == -1 || !STR_OK(vc->vc_name) ||
	    !path_ok(vc->vc_qemu, sizeof(vc->vc_qemu)) ||
	    !path_ok(vc->vc_kernel, sizeof(vc->vc_kernel)) ||
	    !path_ok(vc->vc_initrd, sizeof(vc->vc_initrd)))
		return (bad());
	if (vc->vc_cpus == 0 || vc->vc_cpus > 64 || vc->vc_memory_mib < 64 ||
	    vc->vc_memory_mib > 1024 * 1024 ||
	    (vc->vc_accel != MVM_ACCEL_TCG && vc->vc_accel != MVM_ACCEL_KVM))
		return (bad());
	return (0);
}

int
msg_get_vmm_bind(struct imsg *imsg, struct mvm_vmm_bind *vb)
{
	if (get(imsg, vb, sizeof(*vb)) == -1 ||
	    !path_ok(vb->vb_path, sizeof(vb->vb_path)) ||
	    vb->vb_path[0] != '/' ||
	    (vb->vb_flags & ~(MVM_BIND_DIR | MVM_BIND_DEV)) != 0)
		return (bad());
	return (0);
}

int
msg_get_vmm_phase(struct imsg *imsg, struct mvm_vmm_phase *vp)
{
	if (get(imsg, vp, sizeof(*vp)) == -1 || !STR_OK(vp->vp_agent) ||
	    !STR_OK(vp->vp_kernel) || !STR_OK(vp->vp_qemu) ||
	    vp->vp_phase == 0 || vp->vp_phase > MVM_PHASE_MAX)
		return (bad());
	return (0);
}

/*
 * Check that blob holds exactly n NUL-terminated strings; out (n
 * entries, may be NULL) gets pointers to them.
 */
int
blob_split(const char *blob, size_t len, uint32_t n, const char **out)
{
	const char	*p = blob, *end = blob + len, *nul;
	uint32_t	 i;

	for (i = 0; i < n; i++) {
		if (p >= end || (nul = memchr(p, '\0', end - p)) == NULL)
			return (-1);
		if (out != NULL)
			out[i] = p;
		p = nul + 1;
	}
	return (p == end ? 0 : -1);
}

/* *blobp (argc + envc strings) points into imsg->data */
int
msg_get_vmm_exec(struct imsg *imsg, struct mvm_vmm_exec *ve,
    const char **blobp, size_t *lenp)
{
	if (imsg->fd != -1 || imsg->datalen < sizeof(*ve))
		return (bad());
	memcpy(ve, imsg->data, sizeof(*ve));
	*blobp = (const char *)imsg->data + sizeof(*ve);
	*lenp = imsg->datalen - sizeof(*ve);
	if (!path_ok(ve->ve_cwd, sizeof(ve->ve_cwd)) || ve->ve_argc == 0 ||
	    ap_tier_name(ve->ve_seccomp) == NULL ||
	    ve->ve_argc > MVM_EXEC_ARGC_MAX || ve->ve_envc > MVM_EXEC_ENVC_MAX ||
	    ve->ve_filec > MVM_RUN_SECRETS_MAX || *lenp > MVM_EXEC_BLOB_MAX ||
	    !ap_uid_ok(ve->ve_uid) ||
	    (ve->ve_uid == AP_UID_ROOT) != ((ve->ve_flags & MVM_EXEC_ROOT) != 0) ||
	    blob_split(*blobp, *lenp, ve->ve_argc + ve->ve_envc +
	    ve->ve_filec, NULL) == -1)
		return (bad());
	return (0);
}

int
msg_get_vmm_data(struct imsg *imsg, struct mvm_vmm_data *vd,
    const uint8_t **datap, size_t *lenp)
{
	if (imsg->fd != -1 || imsg->datalen < sizeof(*vd))
		return (bad());
	memcpy(vd, imsg->data, sizeof(*vd));
	*datap = (const uint8_t *)imsg->data + sizeof(*vd);
	*lenp = imsg->datalen - sizeof(*vd);
	if (*lenp > MVM_DATA_MAX || vd->vd_stream > MVM_STREAM_STDERR)
		return (bad());
	return (0);
}

int
msg_get_vmm_signal(struct imsg *imsg, struct mvm_vmm_signal *vs)
{
	if (get(imsg, vs, sizeof(*vs)) == -1 || vs->vs_signal == 0 ||
	    vs->vs_signal > 64)
		return (bad());
	return (0);
}

int
msg_get_vmm_started(struct imsg *imsg, struct mvm_vmm_started *vs)
{
	return (get(imsg, vs, sizeof(*vs)));
}

int
msg_get_vmm_exit(struct imsg *imsg, struct mvm_vmm_exit *vx)
{
	if (get(imsg, vx, sizeof(*vx)) == -1 || (vx->vx_flags & ~0x1fU) != 0)
		return (bad());
	return (0);
}

int
msg_get_vmm_error(struct imsg *imsg, struct mvm_vmm_error *ve)
{
	if (get(imsg, ve, sizeof(*ve)) == -1 || !STR_OK(ve->ve_msg) ||
	    ve->ve_code == 0 || ve->ve_code > MVM_AGENT_EPROTO)
		return (bad());
	return (0);
}

int
msg_get_vmm_file(struct imsg *imsg, struct mvm_vmm_file *vf)
{
	if (get(imsg, vf, sizeof(*vf)) == -1 ||
	    !path_ok(vf->vf_path, sizeof(vf->vf_path)))
		return (bad());
	return (0);
}

int
msg_get_vmm_done(struct imsg *imsg, struct mvm_vmm_done *vd)
{
	if (get(imsg, vd, sizeof(*vd)) == -1 || !STR_OK(vd->vd_msg) ||
	    vd->vd_reason == 0 || vd->vd_reason > MVM_DONE_QEMU_FAILED)
		return (bad());
	return (0);
}

/*
 * IMSG_VMM_NET_*: fdp is NULL for the messages that carry no fd (one
 * that comes with an fd anyway is refused), else it gets the fd.
 */
int
msg_get_vmm_net(struct imsg *imsg, struct mvm_vmm_net *vn, int *fdp)
{
	if ((fdp == NULL) != (imsg->fd == -1) ||
	    imsg_get_data(imsg, vn, sizeof(*vn)) == -1 ||
	    !STR_OK(vn->vn_host) || vn->vn_reason > MVM_NET_REASON_MAX ||
	    vn->vn_port > 65535)
		return (bad());
	if (fdp != NULL)
		*fdp = imsg_get_fd(imsg);
	return (0);
}

/* a share's guest path: valid, or empty (vh_path of DIR_END) */
int
msg_get_vmm_share(struct imsg *imsg, struct mvm_vmm_share *vh)
{
	if (get(imsg, vh, sizeof(*vh)) == -1 || !STR_OK(vh->vh_path) ||
	    (vh->vh_path[0] != '\0' && !share_guest_path_ok(vh->vh_path)) ||
	    !ap_uid_ok(vh->vh_uid))
		return (bad());
	return (0);
}

int
msg_get_ctl_share(struct imsg *imsg, struct mvm_ctl_share *sh)
{
	if (get(imsg, sh, sizeof(*sh)) == -1 || !STR_OK(sh->sh_path) ||
	    !STR_OK(sh->sh_msg) || sh->sh_mode > MVM_ADD_DIR_RW ||
	    (sh->sh_path[0] != '\0' && !share_guest_path_ok(sh->sh_path)))
		return (bad());
	return (0);
}

const char *
mvm_net_reason(uint32_t r)
{
	static const char *const names[] = { "none", "not_granted",
	    "denied_address", "resolve", "connect", "limit", "done", "guest",
	    "error", "stopped" };

	return (r <= MVM_NET_REASON_MAX ? names[r] : "unknown");
}

int
msg_get_ctl_run(struct imsg *imsg, struct mvm_ctl_run *cr,
    const char **blobp, size_t *lenp)
{
	if (imsg->fd != -1 || imsg->datalen < sizeof(*cr))
		return (bad());
	memcpy(cr, imsg->data, sizeof(*cr));
	*blobp = (const char *)imsg->data + sizeof(*cr);
	*lenp = imsg->datalen - sizeof(*cr);
	if (!STR_OK(cr->cr_image) || !STR_OK(cr->cr_name) ||
	    !STR_OK(cr->cr_cwd) || cr->cr_mode < MVM_RUN_RUN ||
	    cr->cr_mode > MVM_RUN_EXEC ||
	    (cr->cr_flags & ~(MVM_RUN_STDIN | MVM_RUN_NOOUTPUT |
	    MVM_RUN_RECEIPT | MVM_RUN_GUEST_ROOT)) != 0 ||
	    !STR_OK(cr->cr_profile) || (cr->cr_pflags & ~MVM_POLICY_ACK) ||
	    (cr->cr_seccomp != 0 && ap_tier_name(cr->cr_seccomp) == NULL) ||
	    cr->cr_argc > MVM_EXEC_ARGC_MAX || cr->cr_envc > MVM_EXEC_ENVC_MAX ||
	    cr->cr_secretc > MVM_RUN_SECRETS_MAX ||
	    cr->cr_envc + cr->cr_secretc > MVM_EXEC_ENVC_MAX ||
	    cr->cr_allowc > MVM_NET_GRANTS_MAX ||
	    cr->cr_sharec > MVM_RUN_SHARES_MAX ||
	    *lenp > MVM_EXEC_BLOB_MAX ||
	    blob_split(*blobp, *lenp, cr->cr_argc + cr->cr_envc +
	    cr->cr_secretc + cr->cr_allowc, NULL) == -1)
		return (bad());
	return (0);
}

int
msg_get_ctl_started(struct imsg *imsg, struct mvm_ctl_started *cs)
{
	if (get(imsg, cs, sizeof(*cs)) == -1 || !STR_OK(cs->cs_run) ||
	    !STR_OK(cs->cs_guest) || !STR_OK(cs->cs_tenant))
		return (bad());
	return (0);
}

int
msg_get_ctl_exit(struct imsg *imsg, struct mvm_ctl_exit *ce)
{
	if (get(imsg, ce, sizeof(*ce)) == -1 || !STR_OK(ce->ce_run) ||
	    !STR_OK(ce->ce_guest))
		return (bad());
	return (0);
}

int
msg_get_ctl_metrics(struct imsg *imsg, struct mvm_ctl_metrics *cm)
{
	return (get(imsg, cm, sizeof(*cm)));
}

int
msg_get_ctl_guest(struct imsg *imsg, struct mvm_ctl_guest *cg)
{
	if (get(imsg, cg, sizeof(*cg)) == -1 || !STR_OK(cg->cg_name) ||
	    !STR_OK(cg->cg_path) || cg->cg_op < MVM_GUEST_LS ||
	    cg->cg_op > MVM_GUEST_IMAGE_RM ||
	    (cg->cg_flags & ~MVM_GUEST_FOLLOW))
		return (bad());
	return (0);
}

int
msg_get_ctl_guest_info(struct imsg *imsg, struct mvm_ctl_guest_info *gi)
{
	if (get(imsg, gi, sizeof(*gi)) == -1 || !STR_OK(gi->gi_name) ||
	    !STR_OK(gi->gi_image) || !STR_OK(gi->gi_state) ||
	    !STR_OK(gi->gi_reason) || !STR_OK(gi->gi_agent) ||
	    !STR_OK(gi->gi_kernel) || !STR_OK(gi->gi_qemu) ||
	    !STR_OK(gi->gi_kernel_sha256) || !STR_OK(gi->gi_initrd_sha256) ||
	    !STR_OK(gi->gi_profile))
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
	case MVM_EPOLICY:
		return ("denied by policy");
	case MVM_ENOIMAGE:
		return ("no such image");
	case MVM_ETOOBIG:
		return ("over the documented limits");
	case MVM_EEXIST:
		return ("a guest of that name exists");
	case MVM_ENOGUEST:
		return ("no such guest");
	case MVM_ENOQEMU:
		return ("QEMU is missing or unusable");
	case MVM_EIMAGE:
		return ("image damaged or incomplete");
	case MVM_EBOOT:
		return ("the guest failed to boot");
	case MVM_EGUEST:
		return ("the guest failed");
	case MVM_ENOTFOUND:
		return ("not found in the guest");
	case MVM_ESTATE:
		return ("guest is not in a state for that");
	case MVM_ECAPACITY:
		return ("no free guest slot");
	case MVM_ESIGN:
		return ("the signer refused or is gone");
	case MVM_ENOSECRET:
		return ("no such secret (mvmctl secret ls)");
	case MVM_ESHARE:
		return ("a host share did not get across");
	case MVM_EQUOTA:
		return ("over an image quota (mvm.conf)");
	case MVM_EINUSE:
		return ("image in use");
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
	case IMSG_CTL_TEST:		return ("CTL_TEST");
	case IMSG_CTL_SHARE:		return ("CTL_SHARE");
	case IMSG_CTL_SHARE_DATA:	return ("CTL_SHARE_DATA");
	case IMSG_CTL_SHARE_END:	return ("CTL_SHARE_END");
	case IMSG_CTL_POLICY_REQ:	return ("CTL_POLICY_REQ");
	case IMSG_CTL_POLICY_INFO:	return ("CTL_POLICY_INFO");
	case IMSG_CTL_SECRET_REQ:	return ("CTL_SECRET_REQ");
	case IMSG_CTL_SECRET_INFO:	return ("CTL_SECRET_INFO");
	case IMSG_AUDIT_EVENT:		return ("AUDIT_EVENT");
	case IMSG_AUDIT_ACK:		return ("AUDIT_ACK");
	case IMSG_AUDIT_STOPPED:	return ("AUDIT_STOPPED");
	case IMSG_AUDIT_CKPT_REQ:	return ("AUDIT_CKPT_REQ");
	case IMSG_AUDIT_CKPT_RES:	return ("AUDIT_CKPT_RES");
	case IMSG_AUDIT_PROOF_REQ:	return ("AUDIT_PROOF_REQ");
	case IMSG_AUDIT_PROOF_RES:	return ("AUDIT_PROOF_RES");
	case IMSG_AUDIT_RESUME:		return ("AUDIT_RESUME");
	case IMSG_AUDIT_RESUMED:	return ("AUDIT_RESUMED");
	case IMSG_CTL_AUDIT_RESUME:	return ("CTL_AUDIT_RESUME");
	case IMSG_CTL_AUDIT_CKPT_REQ:	return ("CTL_AUDIT_CKPT_REQ");
	case IMSG_CTL_RUN:		return ("CTL_RUN");
	case IMSG_CTL_STDIN:		return ("CTL_STDIN");
	case IMSG_CTL_STARTED:		return ("CTL_STARTED");
	case IMSG_CTL_OUTPUT:		return ("CTL_OUTPUT");
	case IMSG_CTL_EXIT:		return ("CTL_EXIT");
	case IMSG_CTL_GUEST_REQ:	return ("CTL_GUEST_REQ");
	case IMSG_CTL_GUEST_INFO:	return ("CTL_GUEST_INFO");
	case IMSG_CTL_END:		return ("CTL_END");
	case IMSG_CTL_OK:		return ("CTL_OK");
	case IMSG_CTL_FILE:		return ("CTL_FILE");
	case IMSG_CTL_FILE_DATA:	return ("CTL_FILE_DATA");
	case IMSG_CTL_LOGS:		return ("CTL_LOGS");
	case IMSG_CTL_RECEIPT:		return ("CTL_RECEIPT");
	case IMSG_CTL_METRICS_REQ:	return ("CTL_METRICS_REQ");
	case IMSG_CTL_METRICS_RES:	return ("CTL_METRICS_RES");
	case IMSG_VMM_CONFIG:		return ("VMM_CONFIG");
	case IMSG_VMM_BIND:		return ("VMM_BIND");
	case IMSG_VMM_PHASE:		return ("VMM_PHASE");
	case IMSG_VMM_EXEC:		return ("VMM_EXEC");
	case IMSG_VMM_STDIN:		return ("VMM_STDIN");
	case IMSG_VMM_SIGNAL:		return ("VMM_SIGNAL");
	case IMSG_VMM_STARTED:		return ("VMM_STARTED");
	case IMSG_VMM_OUTPUT:		return ("VMM_OUTPUT");
	case IMSG_VMM_EXIT:		return ("VMM_EXIT");
	case IMSG_VMM_ERROR:		return ("VMM_ERROR");
	case IMSG_VMM_FILE_PUT:		return ("VMM_FILE_PUT");
	case IMSG_VMM_FILE_GET:		return ("VMM_FILE_GET");
	case IMSG_VMM_FILE_DATA:	return ("VMM_FILE_DATA");
	case IMSG_VMM_FILE_END:		return ("VMM_FILE_END");
	case IMSG_VMM_OK:		return ("VMM_OK");
	case IMSG_VMM_STOP:		return ("VMM_STOP");
	case IMSG_VMM_DONE:		return ("VMM_DONE");
	case IMSG_VMM_NET_GRANT:	return ("VMM_NET_GRANT");
	case IMSG_VMM_NET_OPEN:		return ("VMM_NET_OPEN");
	case IMSG_VMM_NET_FD:		return ("VMM_NET_FD");
	case IMSG_VMM_NET_REFUSED:	return ("VMM_NET_REFUSED");
	case IMSG_VMM_NET_CLOSED:	return ("VMM_NET_CLOSED");
	case IMSG_VMM_DIR_PUT:		return ("VMM_DIR_PUT");
	case IMSG_VMM_DIR_GET:		return ("VMM_DIR_GET");
	case IMSG_VMM_DIR_END:		return ("VMM_DIR_END");
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
