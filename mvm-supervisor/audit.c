/*
 * audit.c: the supervisor's side of auditd.  Events go out with an id;
 * auditd acknowledges each once it is on disk.  Whoever needs the
 * record before going on (a run must be in the log before it runs)
 * passes a callback; others fire and forget.  If auditd reports its
 * log stopped, the supervisor refuses new work (fail closed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"
#include "supervisor.h"

static void	 audit_resumed(uint32_t);

struct audit_wait {
	TAILQ_ENTRY(audit_wait)	 aw_entry;
	uint32_t		 aw_id;
	uint32_t		 aw_type;	/* reply type expected */
	audit_cb		 aw_cb;
	void			*aw_arg;
};
TAILQ_HEAD(, audit_wait) audit_waits = TAILQ_HEAD_INITIALIZER(audit_waits);
static uint32_t		 audit_next_id;

void
aev_init(struct mvm_audit_event *ev, const char *type)
{
	memset(ev, 0, sizeof(*ev));
	(void)strlcpy(ev->ae_tenant, sv.conf.c_tenant, sizeof(ev->ae_tenant));
	(void)strlcpy(ev->ae_type, type, sizeof(ev->ae_type));
}

static struct mvm_audit_kv *
aev_kv(struct mvm_audit_kv *arr, uint32_t *n, uint32_t max, const char *k)
{
	struct mvm_audit_kv	*kv;

	if (*n >= max)
		fatalx("%s: too many members", __func__);
	kv = &arr[(*n)++];
	memset(kv, 0, sizeof(*kv));
	if (strlcpy(kv->kv_key, k, sizeof(kv->kv_key)) >= sizeof(kv->kv_key))
		fatalx("%s: key too long", __func__);
	return (kv);
}

/* Values must be tokens (record.h); callers pass ids, states, hashes. */
void
aev_subject(struct mvm_audit_event *ev, const char *k, const char *v)
{
	struct mvm_audit_kv	*kv;

	kv = aev_kv(ev->ae_subject, &ev->ae_nsubject, MVM_AUDIT_SUBJECT_MAX,
	    k);
	(void)strlcpy(kv->kv_val, v, sizeof(kv->kv_val));
}

void
aev_label(struct mvm_audit_event *ev, const char *k, const char *v)
{
	struct mvm_audit_kv	*kv;

	kv = aev_kv(ev->ae_labels, &ev->ae_nlabels, MVM_AUDIT_LABELS_MAX, k);
	(void)strlcpy(kv->kv_val, v, sizeof(kv->kv_val));
}

void
aev_label_int(struct mvm_audit_event *ev, const char *k, int64_t v)
{
	struct mvm_audit_kv	*kv;

	kv = aev_kv(ev->ae_labels, &ev->ae_nlabels, MVM_AUDIT_LABELS_MAX, k);
	kv->kv_isint = 1;
	kv->kv_int = v;
}

static uint32_t
audit_wait_add(uint32_t type, audit_cb cb, void *arg)
{
	struct audit_wait	*aw;

	if ((aw = calloc(1, sizeof(*aw))) == NULL)
		fatal("calloc");
	aw->aw_id = ++audit_next_id;
	aw->aw_type = type;
	aw->aw_cb = cb;
	aw->aw_arg = arg;
	TAILQ_INSERT_TAIL(&audit_waits, aw, aw_entry);
	return (aw->aw_id);
}

/*
 * Send an event.  cb (may be NULL) runs with the ack, or with an error
 * if auditd cannot take it.  Returns -1 (and runs nothing) if the log
 * is stopped or auditd is not there.
 */
int
audit_send(struct mvm_audit_event *ev, audit_cb cb, void *arg)
{
	if (!sv.audit_ok || !sv.auditd.c_peer.p_open ||
	    sv.auditd.c_state != MVM_PROC_READY) {
		sv.metrics.cm_audit_errors++;
		errno = EIO;
		return (-1);
	}
	ev->ae_id = audit_wait_add(IMSG_AUDIT_ACK, cb, arg);
	if (peer_compose(&sv.auditd.c_peer, IMSG_AUDIT_EVENT, 0, -1, ev,
	    sizeof(*ev)) == -1)
		fatal("compose");
	return (0);
}

/* A checkpoint (IMSG_AUDIT_CKPT_REQ) or inclusion proof request. */
int
audit_request(uint32_t type, uint64_t index, audit_cb cb, void *arg)
{
	struct mvm_audit_req	 ar;

	if (!sv.auditd.c_peer.p_open || sv.auditd.c_state != MVM_PROC_READY) {
		errno = EIO;
		return (-1);
	}
	memset(&ar, 0, sizeof(ar));
	ar.ar_index = index;
	(void)strlcpy(ar.ar_tenant, sv.conf.c_tenant, sizeof(ar.ar_tenant));
	ar.ar_id = audit_wait_add(type == IMSG_AUDIT_CKPT_REQ ?
	    IMSG_AUDIT_CKPT_RES : IMSG_AUDIT_PROOF_RES, cb, arg);
	if (peer_compose(&sv.auditd.c_peer, type, 0, -1, &ar,
	    sizeof(ar)) == -1)
		fatal("compose");
	return (0);
}

/* Fire and forget: ctl.<verb> with its outcome. */
void
audit_ctl(const char *verb, const char *outcome)
{
	struct mvm_audit_event	 ev;
	char			 type[MVM_TYPE_MAX];

	(void)snprintf(type, sizeof(type), "ctl.%s", verb);
	aev_init(&ev, type);
	aev_label(&ev, "outcome", outcome);
	(void)audit_send(&ev, NULL, NULL);
}

static int
audit_complete(uint32_t id, uint32_t type, uint32_t error, const void *reply)
{
	struct audit_wait	*aw;

	TAILQ_FOREACH(aw, &audit_waits, aw_entry)
		if (aw->aw_id == id)
			break;
	if (aw == NULL || aw->aw_type != type)
		return (PEER_BAD);
	TAILQ_REMOVE(&audit_waits, aw, aw_entry);
	if (aw->aw_cb != NULL)
		aw->aw_cb(aw->aw_arg, error, reply);
	free(aw);
	return (PEER_OK);
}

/* Messages from auditd after READY. */
int
audit_dispatch(struct imsg *imsg)
{
	struct audit_ackline	 al;
	struct mvm_audit_ckpt	 ac;
	struct mvm_audit_proof	 ap;
	struct mvm_audit_stopped st;

	switch (imsg_type(imsg)) {
	case IMSG_AUDIT_ACK:
		if (msg_get_audit_ack(imsg, &al.al_ack, &al.al_line,
		    &al.al_linelen) == -1)
			return (PEER_BAD);
		if (al.al_ack.aa_error == 0)
			sv.metrics.cm_audit_records++;
		else
			sv.metrics.cm_audit_errors++;
		if (al.al_ack.aa_error != 0)
			log_warnx("audit event %u refused: %s",
			    al.al_ack.aa_id, mvm_strerror(al.al_ack.aa_error));
		return (audit_complete(al.al_ack.aa_id, IMSG_AUDIT_ACK,
		    al.al_ack.aa_error, &al));
	case IMSG_AUDIT_CKPT_RES:
		if (msg_get_audit_ckpt(imsg, &ac) == -1)
			return (PEER_BAD);
		return (audit_complete(ac.ac_id, IMSG_AUDIT_CKPT_RES,
		    ac.ac_error, &ac));
	case IMSG_AUDIT_PROOF_RES:
		if (msg_get_audit_proof(imsg, &ap) == -1)
			return (PEER_BAD);
		return (audit_complete(ap.ap_id, IMSG_AUDIT_PROOF_RES,
		    ap.ap_error, &ap));
	case IMSG_AUDIT_STOPPED:
		if (msg_get_audit_stopped(imsg, &st) == -1)
			return (PEER_BAD);
		log_warnx("audit log of tenant %s stopped: %s; refusing new "
		    "work", st.as_tenant, strerror(st.as_errno));
		sv.audit_ok = 0;
		return (PEER_OK);
	case IMSG_AUDIT_RESUMED:
		if (msg_get_audit_stopped(imsg, &st) == -1)
			return (PEER_BAD);
		audit_resumed(st.as_errno);
		return (PEER_OK);
	}
	return (PEER_BAD);
}

/*
 * mvmctl audit resume (root): after a stop (disk full, fsync error),
 * once the operator made room, auditd reads the log again and takes
 * events; the first is audit.resumed, and the client hears OK once that
 * is on disk, or MVM_EAUDIT if the log stopped again.
 */
static uint32_t	 resume_client;

static void
audit_resume_done(void *arg, uint32_t error, const void *reply)
{
	uint32_t	 id = (uint32_t)(uintptr_t)arg;

	(void)reply;
	if (error == 0) {
		log_info("audit log resumed");
		(void)control_send(id, IMSG_CTL_OK, NULL, 0, NULL, 0);
	} else
		(void)control_error(id, MVM_EAUDIT, "the log could not be "
		    "written again (is there room now?)");
}

int
audit_resume(uint32_t client)
{
	struct mvm_audit_req	 ar;

	if (sv.audit_ok)
		return (0);		/* nothing stopped: already fine */
	if (resume_client != 0 || !sv.auditd.c_peer.p_open ||
	    sv.auditd.c_state != MVM_PROC_READY) {
		errno = EBUSY;
		return (-1);
	}
	memset(&ar, 0, sizeof(ar));
	(void)strlcpy(ar.ar_tenant, sv.conf.c_tenant, sizeof(ar.ar_tenant));
	if (peer_compose(&sv.auditd.c_peer, IMSG_AUDIT_RESUME, 0, -1, &ar,
	    sizeof(ar)) == -1)
		fatal("compose");
	resume_client = client;
	return (1);
}

static void
audit_resumed(uint32_t err)
{
	struct mvm_audit_event	 ev;
	uint32_t		 id = resume_client;

	resume_client = 0;
	if (err != 0) {
		if (id != 0)
			(void)control_error(id, MVM_EAUDIT, NULL);
		return;
	}
	sv.audit_ok = 1;
	aev_init(&ev, "audit.resumed");
	aev_label(&ev, "by", "operator");
	if (audit_send(&ev, id != 0 ? audit_resume_done : NULL,
	    (void *)(uintptr_t)id) == -1 && id != 0)
		(void)control_error(id, MVM_EAUDIT, NULL);
}

/* auditd is gone: whoever waits hears MVM_EAUDIT. */
void
audit_fail_all(void)
{
	struct audit_wait	*aw;

	sv.audit_ok = 0;
	while ((aw = TAILQ_FIRST(&audit_waits)) != NULL) {
		TAILQ_REMOVE(&audit_waits, aw, aw_entry);
		if (aw->aw_cb != NULL)
			aw->aw_cb(aw->aw_arg, MVM_EAUDIT, NULL);
		free(aw);
	}
}

int
audit_pending(void)
{
	return (!TAILQ_EMPTY(&audit_waits));
}
