/*
 * receipt.c: signed run receipts (libshared/receipt.h, mvm-receipt(5)).
 *
 * Once run.exited is on disk (its ack carries the record line), the
 * supervisor asks auditd for an inclusion proof of that record in a
 * signed checkpoint, builds the in-toto statement around the record,
 * the proof and what it saw of the run, and has the signer sign it as
 * a receipt (the signer checks the statement's shape and signs only
 * the DSSE pre-authentication encoding).  The supervisor checks the
 * signature with the host's public key before the receipt leaves, and
 * records receipt.issued with the envelope's digest.  Then the client
 * gets the receipt and the exit.
 *
 * A receipt is never made of anything auditd did not commit: if a step
 * fails the client still gets the exit, with the reason no receipt was
 * made.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "agentproto.h"
#include "crypto.h"
#include "log.h"
#include "receipt.h"
#include "receiptverify.h"
#include "record.h"
#include "sigmsg.h"
#include "supervisor.h"

typedef void	(*sign_cb)(void *, const struct mvm_sign_res *);

struct sign_wait {
	TAILQ_ENTRY(sign_wait)	 sw_entry;
	uint32_t		 sw_id;
	uint32_t		 sw_kind;
	sign_cb			 sw_cb;
	void			*sw_arg;
};
static TAILQ_HEAD(, sign_wait) sign_waits =
    TAILQ_HEAD_INITIALIZER(sign_waits);
static uint32_t		 sign_next_id;

static void	 receipt_proved(void *, uint32_t, const void *);
static void	 receipt_signed(void *, const struct mvm_sign_res *);

/* ------------------------------------------------------------------ */
/* the signer, from the supervisor's side */

static int
signer_request(uint32_t kind, const void *body, size_t len, sign_cb cb,
    void *arg)
{
	struct mvm_sign_req	 sr;
	struct sign_wait	*sw;

	if (!sv.signer.c_peer.p_open || sv.signer.c_state != MVM_PROC_READY ||
	    len == 0 || len > MVM_SIGN_BODY_MAX)
		return (-1);
	if ((sw = calloc(1, sizeof(*sw))) == NULL)
		fatal("calloc");
	sw->sw_id = ++sign_next_id;
	sw->sw_kind = kind;
	sw->sw_cb = cb;
	sw->sw_arg = arg;
	memset(&sr, 0, sizeof(sr));
	sr.sr_id = sw->sw_id;
	sr.sr_kind = kind;
	sr.sr_len = len;
	if (peer_composev2(&sv.signer.c_peer, IMSG_SIGN_REQ, 0, -1, &sr,
	    sizeof(sr), body, len) == -1)
		fatal("compose");
	TAILQ_INSERT_TAIL(&sign_waits, sw, sw_entry);
	return (0);
}

/* IMSG_SIGN_RES: the signer answers in order, each request once. */
int
signer_dispatch(struct imsg *imsg)
{
	struct mvm_sign_res	 res;
	struct sign_wait	*sw = TAILQ_FIRST(&sign_waits);

	if (imsg_type(imsg) != IMSG_SIGN_RES ||
	    msg_get_sign_res(imsg, &res) == -1 || sw == NULL ||
	    res.ss_id != sw->sw_id || res.ss_kind != sw->sw_kind)
		return (PEER_BAD);
	TAILQ_REMOVE(&sign_waits, sw, sw_entry);
	sv.metrics.cm_sign_requests++;
	if (res.ss_error != 0)
		sv.metrics.cm_sign_errors++;
	sw->sw_cb(sw->sw_arg, &res);
	free(sw);
	return (PEER_OK);
}

/* The signer is gone: whoever waits hears so (a NULL result). */
void
signer_fail_all(void)
{
	struct sign_wait	*sw;

	while ((sw = TAILQ_FIRST(&sign_waits)) != NULL) {
		TAILQ_REMOVE(&sign_waits, sw, sw_entry);
		sw->sw_cb(sw->sw_arg, NULL);
		free(sw);
	}
}

/* ------------------------------------------------------------------ */
/* the statement */

static json_t *
hexstr(const uint8_t *p, size_t len)
{
	char	 hex[2 * 64 + 1];

	hex_encode(p, len, hex);
	return (json_string(hex));
}

static json_t *
timestr(int64_t ms)
{
	char	 buf[REC_TIME_LEN + 1];

	time_rfc3339(ms, buf, sizeof(buf));
	return (json_string(buf));
}

/* "name" of a subject: a stream, its digest and byte count */
static json_t *
subject(const char *name, const uint8_t digest[32], uint64_t bytes)
{
	return (json_pack("{s:s, s:{s:o}, s:{s:I}}", "name", name, "digest",
	    "sha256", hexstr(digest, 32), "annotations", "bytes",
	    (json_int_t)bytes));
}

/* the env key names, sorted (values never leave the supervisor) */
static json_t *
env_keys(const struct exec *x)
{
	const char	*s[MVM_EXEC_ARGC_MAX + MVM_EXEC_ENVC_MAX];
	const char	*eq;
	json_t		*a;
	uint32_t	 argc = x->x_ve.ve_argc, envc = x->x_ve.ve_envc, i;

	if ((a = json_array()) == NULL)
		return (NULL);
	if (blob_split(x->x_blob, x->x_bloblen, argc + envc, s) == -1)
		return (a);
	qsort(s + argc, envc, sizeof(s[0]), env_key_cmp);
	for (i = 0; i < envc; i++) {
		eq = strchr(s[argc + i], '=');
		if (eq == NULL)
			continue;
		json_array_append_new(a, json_stringn(s[argc + i],
		    eq - s[argc + i]));
	}
	return (a);
}

/* the checkpoint's first line is the log's origin */
static json_t *
note_origin(const char *note)
{
	const char	*nl = strchr(note, '\n');

	return (nl == NULL ? NULL : json_stringn(note, nl - note));
}

/*
 * Host shares, if the command had any: what went in (guest path, mode,
 * SHA-256 of the host path, counts) and what came back of the rw ones
 * after a clean exit (counts and the digest of the stream).
 */
static void
add_dirs(const struct exec *x, json_t *pred)
{
	const struct share	*sh;
	json_t			*in, *back;
	int			 i;

	if (x->x_nshares == 0 || (in = json_array()) == NULL ||
	    (back = json_array()) == NULL)
		return;
	for (i = 0; i < x->x_nshares; i++) {
		sh = &x->x_shares[i];
		json_array_append_new(in, json_pack("{s:s, s:s, s:s, s:I, "
		    "s:I}", "guest_path", sh->sh_path, "mode",
		    share_mode_name(sh->sh_mode), "host_path_tag",
		    sh->sh_host_tag, "files", (json_int_t)sh->sh_files,
		    "bytes", (json_int_t)sh->sh_bytes));
		if (sh->sh_back == SHARE_BACK_OK)
			json_array_append_new(back, json_pack("{s:s, s:I, "
			    "s:I, s:I, s:o}", "guest_path", sh->sh_path,
			    "files", (json_int_t)sh->sh_back_files, "bytes",
			    (json_int_t)sh->sh_back_bytes, "skipped",
			    (json_int_t)sh->sh_back_skipped, "stream_sha256",
			    hexstr(sh->sh_back_sha256, 32)));
	}
	json_object_set_new(json_object_get(pred, "invocation"), "add_dirs",
	    in);
	json_object_set_new(json_object_get(pred, "outcome"), "add_dirs",
	    back);
}

/*
 * Egress grants of the command's guest, if it had any: the operator's
 * HOST:PORT pairs (presets expanded), so a reader knows where the
 * command could connect.  The flows themselves are in the audit log.
 */
static void
egress(const struct exec *x, json_t *pred)
{
	const struct guest	*g = x->x_guest;
	json_t			*a;
	int			 i;

	if (g->g_nnet == 0 || (a = json_array()) == NULL)
		return;
	for (i = 0; i < g->g_nnet; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "host",
		    g->g_net[i].ng_host, "port", (json_int_t)g->g_net[i].ng_port));
	json_object_set_new(json_object_get(pred, "invocation"), "egress", a);
}

/*
 * What the guest said of the end and the host did not see (exec.c,
 * exec_claims): not in the outcome's flags, listed here as its claim.
 */
static void
guest_claims(const struct exec *x, json_t *pred)
{
	char	 buf[64], *p, *save;
	json_t	*a;

	if (x->x_claims == 0 || (a = json_array()) == NULL)
		return;
	exec_claims_token(x, buf, sizeof(buf));
	for (p = strtok_r(buf, ":", &save); p != NULL;
	    p = strtok_r(NULL, ":", &save))
		json_array_append_new(a, json_string(p));
	json_object_set_new(json_object_get(pred, "outcome"), "guest_claims",
	    a);
}

static json_t *
int_or_null(int valid, int64_t v)
{
	return (valid ? json_integer(v) : json_null());
}

/*
 * The in-toto statement for x, as compact JSON with sorted keys; NULL
 * if it cannot be built.
 */
static char *
receipt_statement(const struct exec *x, const struct mvm_audit_proof *ap)
{
	const struct guest		*g = x->x_guest;
	const struct mvm_ctl_exit	*ce = &x->x_ce;
	uint32_t			 f = x->x_exit.vx_flags;
	json_t				*inc, *pred, *st;
	char				 b64[MVM_B64_LEN(32)], kid[9];
	char				*out = NULL;
	uint32_t			 i;

	if ((inc = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < ap->ap_nhash; i++) {
		b64_encode(ap->ap_hash[i], 32, b64, sizeof(b64));
		json_array_append_new(inc, json_string(b64));
	}
	key_id_hex(sv.keyid, kid);
	pred = json_pack("{s:i, s:s, s:s,"
	    " s:{s:s, s:i, s:o, s:{s:s, s:s, s:s}, s:s, s:s, s:i, s:i, s:i,"
	    " s:s},"
	    " s:{s:o, s:o, s:b, s:b, s:b},"
	    " s:{s:o, s:o, s:I, s:I},"
	    " s:{s:s, s:s, s:s, s:s, s:s},"
	    " s:{s:s, s:s},"
	    " s:{s:s, s:o, s:I, s:s, s:o, s:s, s:o}}",
	    "version", RECEIPT_VERSION,
	    "run_id", x->x_run,
	    "guest", g->g_name,
	    "invocation",
		"argv_sha256", x->x_argv_sha256,
		"argc", (int)x->x_ve.ve_argc,
		"env_keys", env_keys(x),
		"image",
		    "name", g->g_image.im_name,
		    "kernel_sha256", g->g_image.im_kernel_sha256,
		    "initramfs_sha256", g->g_image.im_initrd_sha256,
		"profile", g->g_profile.pr_name,
		"seccomp", ap_tier_name(x->x_ve.ve_seccomp),
		"cpus", (int)g->g_cpus,
		"memory_mib", (int)g->g_memory_mib,
		"timeout_s", (int)x->x_timeout_s,
		"mode", x->x_mode == MVM_RUN_EXEC ? "exec" : "run",
	    "outcome",
		"exit_code", int_or_null(f & MVM_EXIT_CODE, ce->ce_code),
		"signal", int_or_null(f & MVM_EXIT_SIGNAL, ce->ce_signal),
		"timed_out", (f & MVM_EXIT_TIMEDOUT) != 0,
		"stdout_truncated", (f & MVM_EXIT_OUT_TRUNC) != 0,
		"stderr_truncated", (f & MVM_EXIT_ERR_TRUNC) != 0,
	    "timing",
		"started", timestr(ce->ce_started_ms),
		"ended", timestr(ce->ce_ended_ms),
		"boot_ms", (json_int_t)ce->ce_boot_ms,
		"run_ms", (json_int_t)ce->ce_run_ms,
	    "backend",
		"name", "qemu-microvm",
		"accel", g->g_accel == MVM_ACCEL_KVM ? "kvm" : "tcg",
		"qemu", g->g_qemu,
		"agent", g->g_agent,
		"guest_kernel", g->g_kernel,
	    "signer",
		"key_id", kid,
		"key_name", sv.keyname,
	    "audit",
		"tenant", sv.conf.c_tenant,
		"origin", note_origin(ap->ap_note),
		"index", (json_int_t)ap->ap_index,
		"record", x->x_rec_line,
		"leaf_sha256", hexstr(x->x_rec_leaf, 32),
		"checkpoint", ap->ap_note,
		"inclusion", inc);
	if (pred == NULL)
		return (NULL);
	/* the guest user it ran as (receipt.h); run.exited says so too */
	json_object_set_new(json_object_get(pred, "invocation"), "uid",
	    json_integer(x->x_ve.ve_uid));
	/* secrets: how many were granted, how often their values were cut */
	json_object_set_new(json_object_get(pred, "invocation"), "secrets",
	    json_integer(x->x_grants.gr_n));
	json_object_set_new(json_object_get(pred, "outcome"), "redactions",
	    json_integer((json_int_t)x->x_redactions));
	add_dirs(x, pred);
	egress(x, pred);
	guest_claims(x, pred);
	st = json_pack("{s:s, s:[o, o], s:s, s:o}",
	    "_type", MVM_INTOTO_STATEMENT,
	    "subject",
		subject("stdout", ce->ce_stdout_sha256, ce->ce_stdout_bytes),
		subject("stderr", ce->ce_stderr_sha256, ce->ce_stderr_bytes),
	    "predicateType", RECEIPT_PREDICATE,
	    "predicate", pred);
	if (st != NULL)
		out = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(st);
	return (out);
}

/* ------------------------------------------------------------------ */
/* the steps */

static void
receipt_fail(struct exec *x, uint32_t err, const char *why)
{
	log_warnx("%s: no receipt for run %s: %s", x->x_guest->g_name,
	    x->x_run, why);
	sv.metrics.cm_receipt_errors++;
	exec_exit_send(x, err);
}

/* run.exited is on disk (al has its line): ask for its proof. */
void
receipt_make(struct exec *x, const struct audit_ackline *al)
{
	if (al->al_line == NULL) {
		receipt_fail(x, MVM_EAUDIT, "auditd sent no record");
		return;
	}
	if ((x->x_rec_line = strndup(al->al_line, al->al_linelen)) == NULL)
		fatal("strndup");
	memcpy(x->x_rec_leaf, al->al_ack.aa_leaf, 32);
	if (audit_request(IMSG_AUDIT_PROOF_REQ, al->al_ack.aa_seq,
	    receipt_proved, exec_key(x)) == -1)
		receipt_fail(x, MVM_EAUDIT, "auditd is not there");
}

static void
receipt_proved(void *key, uint32_t error, const void *reply)
{
	const struct mvm_audit_proof	*ap = reply;
	struct exec			*x = exec_from_key(key);

	if (x == NULL)
		return;
	if (error != 0 || ap == NULL) {
		receipt_fail(x, MVM_EAUDIT, "no inclusion proof");
		return;
	}
	/* auditd must prove the record it acknowledged, nothing else */
	if (ap->ap_index != x->x_ce.ce_audit_seq ||
	    sodium_memcmp(ap->ap_leaf, x->x_rec_leaf, 32) != 0 ||
	    ap->ap_nhash > MVM_AUDIT_PROOF_MAX) {
		receipt_fail(x, MVM_EAUDIT, "the proof is for another record");
		return;
	}
	if ((x->x_rec_stmt = receipt_statement(x, ap)) == NULL) {
		receipt_fail(x, MVM_EINVAL, "cannot build the statement");
		return;
	}
	x->x_rec_stmtlen = strlen(x->x_rec_stmt);
	if (signer_request(MVM_SIGN_RECEIPT, x->x_rec_stmt, x->x_rec_stmtlen,
	    receipt_signed, key) == -1)
		receipt_fail(x, MVM_ESIGN, "the signer is not there");
}

static void
receipt_signed(void *key, const struct mvm_sign_res *res)
{
	struct exec		*x = exec_from_key(key);
	struct mvm_audit_event	 ev;
	struct sigmsg		 m;
	uint8_t			 h[32];
	char			*env, hex[65];
	int			 ok;

	if (x == NULL)
		return;
	if (res == NULL || res->ss_error != 0) {
		receipt_fail(x, MVM_ESIGN, res == NULL ? "the signer is gone" :
		    mvm_strerror(res->ss_error));
		return;
	}
	/* what goes out must verify with the key the host publishes */
	if (sigmsg_pae(&m, MVM_DSSE_TYPE, (const uint8_t *)x->x_rec_stmt,
	    x->x_rec_stmtlen) == -1)
		fatal("sigmsg_pae");
	ok = res->ss_keyid == sv.keyid &&
	    crypto_sign_verify_detached(res->ss_sig, m.sm_buf, m.sm_len,
	    sv.pubkey) == 0;
	sigmsg_free(&m);
	if (!ok) {
		receipt_fail(x, MVM_ESIGN, "the signature does not verify");
		return;
	}
	if ((env = receipt_envelope((const uint8_t *)x->x_rec_stmt,
	    x->x_rec_stmtlen, MVM_DSSE_TYPE, sv.keyid, res->ss_sig)) == NULL) {
		receipt_fail(x, MVM_EINVAL, "cannot build the envelope");
		return;
	}
	if (strlen(env) > MVM_CTL_MAX - 64) {
		free(env);
		receipt_fail(x, MVM_ETOOBIG, "the receipt is too large");
		return;
	}
	/* on the record: which receipt was issued for the run */
	sha256(env, strlen(env), h);
	hex_encode(h, 32, hex);
	aev_init(&ev, "receipt.issued");
	aev_subject(&ev, "run", x->x_run);
	aev_label(&ev, "envelope_sha256", hex);
	(void)audit_send(&ev, NULL, NULL);
	if (x->x_client != 0)
		(void)control_send(x->x_client, IMSG_CTL_RECEIPT, env,
		    strlen(env), NULL, 0);
	free(env);
	sv.metrics.cm_receipts++;
	exec_exit_send(x, 0);
}
