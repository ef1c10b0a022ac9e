/*
 * audit.c: the supervisor's side of auditd.  Events go out with an id;
 * auditd acknowledges each once it is on disk.  Whoever needs the
 * record before going on (a run must be in the log before it runs)
 * passes a callback; others fire and forget.  If auditd reports its
 * log stopped, the supervisor refuses new work (fail closed).
 *
 * No event is ever dropped for want of room.  auditd takes 65,536
 * events at most (AUDITD_QUEUE_MAX) and would refuse more; the
 * supervisor never has more than AUDIT_INFLIGHT_MAX unacknowledged
 * there and holds the rest here, in order.  What it holds is bounded by
 * backpressure on whoever makes events: at AUDIT_BUSY unacknowledged
 * events new work is refused (MVM_EBUSY, audit_busy), and at AUDIT_HOLD
 * no client and no vmm is read until the backlog is down to half, so
 * that only the consequences of work already admitted (a guest that
 * stops, a command that ends) still add to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"
#include "supervisor.h"

static void	 audit_resumed(uint32_t);
static void	 audit_backlog_check(void);

#define AUDIT_INFLIGHT_MAX	16384	/* sent, not acknowledged */
#define AUDIT_BUSY		4096	/* backlog: new work is refused */
#define AUDIT_HOLD		8192	/* backlog: no client, no vmm read */

/* an event not sent yet: auditd has AUDIT_INFLIGHT_MAX already */
struct audit_later {
	TAILQ_ENTRY(audit_later) al_entry;
	struct mvm_audit_event	 al_ev;
};
static TAILQ_HEAD(, audit_later) audit_later =
    TAILQ_HEAD_INITIALIZER(audit_later);
static int		 audit_inflight;	/* events at auditd */
static int		 audit_nlater;
static int		 audit_held;		/* peers not read */

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

/*
 * Values must be tokens (record.h): ids, states, hashes.  One that is
 * not (a string a client chose, that no check before caught) becomes
 * "invalid": auditd would refuse the whole record, and the event would
 * be lost.  Client strings never reach a record unchecked.
 */
static void
aev_value(struct mvm_audit_kv *kv, const char *v, const char *type)
{
	if (!record_token_ok(v) || strlen(v) >= sizeof(kv->kv_val)) {
		log_warnx("%s: %s: not a token, recorded as invalid", type,
		    kv->kv_key);
		v = "invalid";
	}
	(void)strlcpy(kv->kv_val, v, sizeof(kv->kv_val));
}

void
aev_subject(struct mvm_audit_event *ev, const char *k, const char *v)
{
	aev_value(aev_kv(ev->ae_subject, &ev->ae_nsubject,
	    MVM_AUDIT_SUBJECT_MAX, k), v, ev->ae_type);
}

void
aev_label(struct mvm_audit_event *ev, const char *k, const char *v)
{
	aev_value(aev_kv(ev->ae_labels, &ev->ae_nlabels, MVM_AUDIT_LABELS_MAX,
	    k), v, ev->ae_type);
}

void
aev_label_int(struct mvm_audit_event *ev, const char *k, int64_t v)
{
	struct mvm_audit_kv	*kv;

	kv = aev_kv(ev->ae_labels, &ev->ae_nlabels, MVM_AUDIT_LABELS_MAX, k);
	kv->kv_isint = 1;
	kv->kv_int = v;
}

static void	 audit_out(const struct mvm_audit_event *);

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
	struct audit_later	*al;

	if (!sv.audit_ok || !sv.auditd.c_peer.p_open ||
	    sv.auditd.c_state != MVM_PROC_READY) {
		sv.metrics.cm_audit_errors++;
		errno = EIO;
		return (-1);
	}
	ev->ae_id = audit_wait_add(IMSG_AUDIT_ACK, cb, arg);
	if (audit_nlater == 0 && audit_inflight < AUDIT_INFLIGHT_MAX)
		audit_out(ev);
	else {
		if ((al = calloc(1, sizeof(*al))) == NULL)
			fatal("calloc");
		al->al_ev = *ev;
		TAILQ_INSERT_TAIL(&audit_later, al, al_entry);
		audit_nlater++;
	}
	audit_backlog_check();
	return (0);
}

static void
audit_out(const struct mvm_audit_event *ev)
{
	if (peer_compose(&sv.auditd.c_peer, IMSG_AUDIT_EVENT, 0, -1, ev,
	    sizeof(*ev)) == -1)
		fatal("compose");
	audit_inflight++;
}

/* An event was acknowledged: send what waits, in order. */
static void
audit_acked(void)
{
	struct audit_later	*al;

	audit_inflight--;
	while (audit_inflight < AUDIT_INFLIGHT_MAX &&
	    (al = TAILQ_FIRST(&audit_later)) != NULL) {
		TAILQ_REMOVE(&audit_later, al, al_entry);
		audit_nlater--;
		audit_out(&al->al_ev);
		free(al);
	}
	audit_backlog_check();
}

/* Events the log has not acknowledged yet, sent or not. */
static int
audit_backlog(void)
{
	return (audit_inflight + audit_nlater);
}

/* Is the log too far behind to take new work?  (MVM_EBUSY) */
int
audit_busy(void)
{
	return (audit_backlog() >= AUDIT_BUSY);
}

int
audit_holding(void)
{
	return (audit_held);
}

/* Stop or resume reading every client and vmm (AUDIT_HOLD). */
static void
audit_backlog_check(void)
{
	struct ctl_client	*cl;
	struct guest		*g;
	int			 hold;

	if (audit_held)
		hold = audit_backlog() >= AUDIT_HOLD / 2;
	else
		hold = audit_backlog() >= AUDIT_HOLD;
	if (hold == audit_held)
		return;
	audit_held = hold;
	log_warnx("audit log %s: %d events not yet on disk", hold ?
	    "behind; clients and guests are not read" : "caught up",
	    audit_backlog());
	TAILQ_FOREACH(cl, &sv.clients, cl_entry)
		peer_hold(&cl->cl_peer, PEER_HOLD_AUDIT, hold);
	TAILQ_FOREACH(g, &sv.guests, g_entry)
		peer_hold(&g->g_peer, PEER_HOLD_AUDIT, hold);
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

/*
 * Fire and forget: ctl.<verb> with its outcome, the uid that asked
 * (from SO_PEERCRED; -1: not known), the owner of what it acted on
 * where that is another uid (root acting on a user's guest; -1: none)
 * and, for a refusal, its MVM_E* code (0: none).
 */
void
audit_ctl(const char *verb, const char *outcome, int64_t uid, int64_t owner,
    uint32_t err)
{
	audit_ctl_guest(verb, NULL, outcome, uid, owner, err);
}

/* The same about a guest, by name (the subject, if it is a valid name). */
void
audit_ctl_guest(const char *verb, const char *guest, const char *outcome,
    int64_t uid, int64_t owner, uint32_t err)
{
	struct mvm_audit_event	 ev;
	char			 type[MVM_TYPE_MAX];

	(void)snprintf(type, sizeof(type), "ctl.%s", verb);
	aev_init(&ev, type);
	if (guest != NULL && name_valid(guest))
		aev_subject(&ev, "guest", guest);
	aev_label(&ev, "outcome", outcome);
	if (uid >= 0)
		aev_label_int(&ev, "uid", uid);
	if (owner >= 0 && owner != uid)
		aev_label_int(&ev, "owner", owner);
	if (err != 0)
		aev_label_int(&ev, "error", err);
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
	if (type == IMSG_AUDIT_ACK)
		audit_acked();
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
	struct audit_later	*al;
	struct audit_wait	*aw;

	sv.audit_ok = 0;
	while ((al = TAILQ_FIRST(&audit_later)) != NULL) {
		TAILQ_REMOVE(&audit_later, al, al_entry);
		free(al);
	}
	audit_nlater = audit_inflight = 0;
	audit_backlog_check();
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
