/*
 * exec.c: commands in guests.  A command is admitted (run.admitted is
 * on disk before it runs), sent to the vmm once the guest is ready, its
 * stdout and stderr are hashed (SHA-256 of the full streams) and
 * counted as they pass and streamed to the client, and its end is
 * recorded (run.exited, with the digests) before the client hears it.
 * Host shares (share.c) go into the guest before the command and, for
 * rw ones after a clean exit, come back before run.exited.
 * Evidence holds hashes and counts only: never argv, env values or
 * output.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentproto.h"
#include "crypto.h"
#include "log.h"
#include "record.h"
#include "redact.h"
#include "supervisor.h"

#define EXEC_GRACE_S	10	/* host waits this long past the timeout */

static void	 exec_timer_cb(evutil_socket_t, short, void *);
static void	 exec_admitted(void *, uint32_t, const void *);
static void	 exec_recorded(void *, uint32_t, const void *);
static void	 exec_finish(struct exec *, const char *);
static void	 exec_stdin_flush(struct exec *);
static void	 exec_claims(struct exec *);
static void	 exec_vblob(struct exec *);
static int	 exec_user(struct exec *, int);
static void	 deliver(void *, const uint8_t *, size_t);

static struct execs	 dead_execs = TAILQ_HEAD_INITIALIZER(dead_execs);

/* where deliver() sends a stream's bytes */
struct deliver {
	struct exec	*d_x;
	uint32_t	 d_stream;
};

/* callbacks name an exec by guest and exec id: it may be gone by then */
void *
exec_key(const struct exec *x)
{
	return ((void *)(uintptr_t)((uint64_t)x->x_guest->g_id << 32 |
	    x->x_id));
}

struct exec *
exec_from_key(void *key)
{
	uint64_t	 k = (uintptr_t)key;
	struct guest	*g;
	struct exec	*x;

	TAILQ_FOREACH(g, &sv.guests, g_entry) {
		if (g->g_id != (uint32_t)(k >> 32))
			continue;
		TAILQ_FOREACH(x, &g->g_execs, x_entry)
			if (x->x_id == (uint32_t)k)
				return (x);
	}
	return (NULL);
}

static crypto_hash_sha256_state *
hstate(struct exec *x, int stream)
{
	return (&x->x_hstate[stream - 1]);
}

/*
 * qsort order of "KEY=VALUE" strings by KEY alone, so that the key
 * names come out sorted ("A" before "A1") whatever the values.
 */
int
env_key_cmp(const void *a, const void *b)
{
	const unsigned char	*p = *(const unsigned char *const *)a;
	const unsigned char	*q = *(const unsigned char *const *)b;
	unsigned int		 c, d;

	for (;; p++, q++) {
		c = *p == '=' ? 0 : *p;
		d = *q == '=' ? 0 : *q;
		if (c != d || c == 0)
			return ((int)c - (int)d);
	}
}

/*
 * A new command for g on behalf of a client; the blob holds argc then
 * envc strings (checked by the caller).  Audit run.admitted; the
 * command goes to the guest only once that record is on disk.
 */
struct exec *
exec_new(struct guest *g, uint32_t client, const struct mvm_ctl_run *cr,
    const char *blob, size_t len, int noout, struct grants *gr,
    struct share **shp, int nsh)
{
	struct mvm_audit_event	 ev;
	struct ctl_client	*cl;
	struct exec		*x;
	const char		*s[MVM_EXEC_ARGC_MAX + MVM_EXEC_ENVC_MAX];
	char			 keys[MVM_EXEC_ENVC_MAX * 2 + 1], *eq;
	char			 tags[MVM_RUN_SECRETS_MAX * 13], tag[17];
	uint8_t			 h[32], rnd[16];
	size_t			 argvlen, i;
	int			 j;

	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->x_blob = malloc(len + 1)) == NULL)
		fatal("calloc");
	x->x_guest = g;
	x->x_id = ++g->g_next_id;
	x->x_client = client;
	x->x_noout = noout;
	x->x_timeout_s = cr->cr_timeout_s;
	x->x_mode = cr->cr_mode == MVM_RUN_EXEC ? MVM_RUN_EXEC : MVM_RUN_RUN;
	x->x_want_receipt = (cr->cr_flags & MVM_RUN_RECEIPT) != 0;
	(void)blob_split(blob, len, cr->cr_argc + cr->cr_envc + cr->cr_secretc,
	    s);
	/* argv and env; the "NAME=VAR" grants at the end are not kept */
	if (cr->cr_secretc > 0)
		len = s[cr->cr_argc + cr->cr_envc] - blob;
	memcpy(x->x_blob, blob, len);
	x->x_bloblen = len;
	x->x_grants = *gr;
	memset(gr, 0, sizeof(*gr));
	for (j = 0; j < 2 && x->x_grants.gr_n > 0; j++)
		if ((x->x_red[j] = redact_new((const uint8_t *const *)
		    x->x_grants.gr_val, x->x_grants.gr_len,
		    x->x_grants.gr_n)) == NULL)
			fatal("redact_new");
	x->x_shares = *shp;		/* the command's now */
	x->x_nshares = nsh;
	*shp = NULL;
	randombytes_buf(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), x->x_run);
	/* argv digest: SHA-256 of the NUL-terminated arguments in order */
	argvlen = cr->cr_envc > 0 ? (size_t)(s[cr->cr_argc] - blob) : len;
	sha256(blob, argvlen, h);
	hex_encode(h, 32, x->x_argv_sha256);
	x->x_ve.ve_id = x->x_id;
	x->x_ve.ve_argc = cr->cr_argc;
	x->x_ve.ve_envc = cr->cr_envc;
	x->x_ve.ve_flags = (cr->cr_flags & MVM_RUN_STDIN) ? MVM_EXEC_STDIN : 0;
	x->x_ve.ve_timeout_ms = cr->cr_timeout_s * 1000;
	x->x_ve.ve_seccomp = cr->cr_seccomp;	/* policy_check set it */
	exec_vblob(x);			/* after ve_envc */
	(void)strlcpy(x->x_ve.ve_cwd, cr->cr_cwd, sizeof(x->x_ve.ve_cwd));
	crypto_hash_sha256_init(hstate(x, MVM_STREAM_STDOUT));
	crypto_hash_sha256_init(hstate(x, MVM_STREAM_STDERR));
	TAILQ_INSERT_TAIL(&g->g_execs, x, x_entry);
	if (exec_user(x, (cr->cr_flags & MVM_RUN_GUEST_ROOT) != 0) == -1) {
		exec_fail(x, MVM_EBUSY, "no guest uid is free");
		return (NULL);
	}

	/* env key names, sorted, joined with ':' (values never recorded) */
	qsort(s + cr->cr_argc, cr->cr_envc, sizeof(s[0]), env_key_cmp);
	keys[0] = '\0';
	for (i = 0; i < cr->cr_envc; i++) {
		eq = strchr(s[cr->cr_argc + i], '=');
		if (i > 0)
			(void)strlcat(keys, ":", sizeof(keys));
		(void)strncat(keys, s[cr->cr_argc + i],
		    eq - s[cr->cr_argc + i]);
	}
	aev_init(&ev, "run.admitted");
	aev_subject(&ev, "run", x->x_run);
	aev_subject(&ev, "guest", g->g_name);
	aev_label(&ev, "mode", cr->cr_mode == MVM_RUN_EXEC ? "exec" : "run");
	aev_label(&ev, "image", g->g_image.im_name);
	aev_label(&ev, "kernel_sha256", g->g_image.im_kernel_sha256);
	aev_label(&ev, "initrd_sha256", g->g_image.im_initrd_sha256);
	aev_label(&ev, "argv_sha256", x->x_argv_sha256);
	aev_label_int(&ev, "argc", cr->cr_argc);
	if (keys[0] != '\0' && strlen(keys) <= REC_TOKEN_MAX)
		aev_label(&ev, "env_keys", keys);
	else if (keys[0] != '\0') {
		sha256(keys, strlen(keys), h);
		hex_encode(h, 32, keys);
		aev_label(&ev, "env_keys_sha256", keys);
	}
	aev_label_int(&ev, "cpus", g->g_cpus);
	aev_label_int(&ev, "memory_mib", g->g_memory_mib);
	aev_label_int(&ev, "timeout_s", cr->cr_timeout_s);
	aev_label(&ev, "profile", g->g_profile.pr_name);
	aev_label(&ev, "seccomp", ap_tier_name(cr->cr_seccomp));
	aev_label_int(&ev, "guest_uid", x->x_ve.ve_uid);
	if (g->g_nnet > 0)
		aev_label_int(&ev, "egress_grants", g->g_nnet);
	if (x->x_grants.gr_n > 0) {
		/* secrets by keyed hashes of their names only */
		tags[0] = '\0';
		for (j = 0; j < x->x_grants.gr_n; j++) {
			secret_name_tag(x->x_grants.gr_name[j], tag);
			tag[12] = '\0';
			if (j > 0)
				(void)strlcat(tags, ":", sizeof(tags));
			(void)strlcat(tags, tag, sizeof(tags));
		}
		aev_label(&ev, "secrets", tags);
	}
	if ((cl = control_by_id(client)) != NULL) {
		/* who asked; whose guest, if root acts on a user's */
		aev_label_int(&ev, "uid", cl->cl_uid);
		if (cl->cl_uid != g->g_owner)
			aev_label_int(&ev, "owner", g->g_owner);
	}
	aev_label(&ev, "accel", g->g_accel == MVM_ACCEL_KVM ? "kvm" : "tcg");
	aev_label(&ev, "stdin", (cr->cr_flags & MVM_RUN_STDIN) ? "yes" : "no");
	if (x->x_nshares > 0)		/* each one: share.put */
		aev_label_int(&ev, "shares", x->x_nshares);
	if (audit_send(&ev, exec_admitted, exec_key(x)) == -1) {
		exec_fail(x, MVM_EAUDIT, NULL);
		return (NULL);
	}
	return (x);
}

/*
 * The guest user x runs as (mvm-agent.8, Users): root if it asked for it
 * (policy_check allowed it); a uid of its own, one no other command of
 * the guest has now, if it is granted secrets, so that no other
 * command's process can read them; else the default user.  -1 if every
 * such uid is taken (a guest that answers nothing, for instance).
 */
static int
exec_user(struct exec *x, int root)
{
	struct exec	*y;
	uint32_t	 uid, k;

	x->x_ve.ve_uid = root ? AP_UID_ROOT : AP_UID_USER;
	if (root)
		x->x_ve.ve_flags |= MVM_EXEC_ROOT;
	if (root || x->x_grants.gr_n == 0)
		return (0);
	for (k = 0; k < AP_UID_EXEC_N; k++) {
		uid = AP_UID_EXEC + (x->x_id + k) % AP_UID_EXEC_N;
		TAILQ_FOREACH(y, &x->x_guest->g_execs, x_entry)
			if (y != x && y->x_ve.ve_uid == uid)
				break;
		if (y == NULL) {
			x->x_ve.ve_uid = uid;
			return (0);
		}
	}
	return (-1);
}

/*
 * What goes to the vmm: argv and env, then "VAR=value" for each secret
 * granted as a variable (so the guest sees it in the command's
 * environment only), then "PATH=BASE64" for each granted as a file.
 */
static void
exec_vblob(struct exec *x)
{
	struct grants	*gr = &x->x_grants;
	size_t		 n = x->x_bloblen, off, vl;
	int		 i, pass;

	if (gr->gr_n == 0)
		return;
	for (i = 0; i < gr->gr_n; i++)
		n += strlen(gr->gr_var[i]) + 2 + sodium_base64_ENCODED_LEN(
		    gr->gr_len[i], sodium_base64_VARIANT_ORIGINAL);
	if ((x->x_vblob = sodium_malloc(n)) == NULL)
		fatal("exec_vblob");
	memcpy(x->x_vblob, x->x_blob, x->x_bloblen);
	off = x->x_bloblen;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < gr->gr_n; i++) {
			if (gr->gr_file[i] != pass)
				continue;
			vl = strlen(gr->gr_var[i]);
			memcpy(x->x_vblob + off, gr->gr_var[i], vl);
			x->x_vblob[off + vl] = '=';
			off += vl + 1;
			if (pass == 0) {
				memcpy(x->x_vblob + off, gr->gr_val[i],
				    gr->gr_len[i]);
				off += gr->gr_len[i];
				x->x_vblob[off++] = '\0';
				x->x_ve.ve_envc++;
			} else {
				sodium_bin2base64(x->x_vblob + off, n - off,
				    gr->gr_val[i], gr->gr_len[i],
				    sodium_base64_VARIANT_ORIGINAL);
				off += strlen(x->x_vblob + off) + 1;
				x->x_ve.ve_filec++;
			}
		}
	x->x_vbloblen = off;
}

/* run.admitted is on disk: tell the client, start or send. */
static void
exec_admitted(void *key, uint32_t error, const void *reply)
{
	struct exec		*x = exec_from_key(key);
	struct mvm_ctl_started	 cs;
	struct guest		*g;

	(void)reply;
	if (x == NULL)
		return;
	g = x->x_guest;
	if (error != 0) {
		exec_fail(x, MVM_EAUDIT, "run.admitted could not be recorded");
		return;
	}
	memset(&cs, 0, sizeof(cs));
	(void)strlcpy(cs.cs_run, x->x_run, sizeof(cs.cs_run));
	(void)strlcpy(cs.cs_guest, g->g_name, sizeof(cs.cs_guest));
	(void)strlcpy(cs.cs_tenant, sv.conf.c_tenant, sizeof(cs.cs_tenant));
	(void)control_send(x->x_client, IMSG_CTL_STARTED, &cs, sizeof(cs),
	    NULL, 0);
	if (g->g_state == GUEST_CREATED) {
		if (guest_start(g) == -1)
			exec_fail(x, MVM_ENOQEMU, "cannot start the vmm");
	} else if (g->g_state == GUEST_RUNNING)
		exec_send(x);
}

/* What stdin arrived before the command went out follows it now. */
static void
exec_stdin_flush(struct exec *x)
{
	struct mvm_vmm_data	 vd;
	size_t			 off, n;
	int			 eof = x->x_stdin_eof;

	memset(&vd, 0, sizeof(vd));
	vd.vd_id = x->x_id;
	for (off = 0; off < x->x_stdinlen; off += n) {
		n = x->x_stdinlen - off > MVM_DATA_MAX ? MVM_DATA_MAX :
		    x->x_stdinlen - off;
		(void)peer_composev2(&x->x_guest->g_peer, IMSG_VMM_STDIN,
		    x->x_guest->g_id, -1, &vd, sizeof(vd), x->x_stdin + off, n);
	}
	if (eof)
		(void)peer_composev2(&x->x_guest->g_peer, IMSG_VMM_STDIN,
		    x->x_guest->g_id, -1, &vd, sizeof(vd), NULL, 0);
	free(x->x_stdin);
	x->x_stdin = NULL;
	x->x_stdinlen = 0;
	control_pause(x->x_client, 0);
	control_pace(x->x_client, x->x_guest->g_id);
}

/* The guest is ready (or was): send the command. */
void
exec_send(struct exec *x)
{
	struct guest	*g = x->x_guest;
	struct timeval	 tv;

	if (x->x_sent || x->x_finished || !share_ready(x))
		return;
	x->x_sent = 1;
	x->x_t0 = now_ms();
	x->x_wall0 = wall_ms();
	if (peer_composev2(&g->g_peer, IMSG_VMM_EXEC, g->g_id, -1, &x->x_ve,
	    sizeof(x->x_ve), x->x_vblob != NULL ? x->x_vblob : x->x_blob,
	    x->x_vblob != NULL ? x->x_vbloblen : x->x_bloblen) == -1) {
		exec_fail(x, MVM_EGUEST, "lost the vmm");
		return;
	}
	exec_stdin_flush(x);
	if (x->x_timeout_s > 0) {
		x->x_timer = evtimer_new(sv.base, exec_timer_cb, exec_key(x));
		tv.tv_sec = x->x_timeout_s + EXEC_GRACE_S;
		tv.tv_usec = 0;
		evtimer_add(x->x_timer, &tv);
	}
}

/*
 * The agent should have ended the command at its timeout; it did not,
 * so the host ends the guest (a throwaway one) and reports a timeout.
 */
static void
exec_timer_cb(evutil_socket_t fd, short ev, void *key)
{
	struct exec		*x = exec_from_key(key);
	struct mvm_vmm_exit	 vx;

	(void)fd;
	(void)ev;
	if (x == NULL || x->x_finished)
		return;
	log_warnx("%s: run %s did not end %d s after its timeout; stopping "
	    "it", x->x_guest->g_name, x->x_run, EXEC_GRACE_S);
	memset(&vx, 0, sizeof(vx));
	vx.vx_id = x->x_id;
	vx.vx_flags = MVM_EXIT_TIMEDOUT | MVM_EXIT_SIGNAL;
	vx.vx_signal = SIGKILL;
	vx.vx_stdout_bytes = x->x_bytes[0];
	vx.vx_stderr_bytes = x->x_bytes[1];
	x->x_timedout = 1;
	exec_exited(x, &vx);
	if (x->x_guest->g_transient)
		guest_stop(x->x_guest);
}

/* Read the guest again once its clients have taken most of its queue. */
static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct guest	*g = arg;
	struct exec	*x;
	struct timeval	 tv = { 0, 10000 };

	(void)fd;
	(void)ev;
	TAILQ_FOREACH(x, &g->g_execs, x_entry)
		if (x->x_client != 0 &&
		    control_queued(x->x_client) > EXEC_OUT_HIGH / 4) {
			evtimer_add(g->g_resume, &tv);
			return;
		}
	if (g->g_file_client != 0 &&
	    control_queued(g->g_file_client) > EXEC_OUT_HIGH / 4) {
		evtimer_add(g->g_resume, &tv);
		return;
	}
	peer_pause(&g->g_peer, 0);
}

/* Output: hash and count all of it; stream it unless asked not to. */
void
exec_output(struct exec *x, uint32_t stream, const uint8_t *p, size_t len)
{
	struct deliver	 d = { x, stream };

	x->x_raw[stream - 1] += len;	/* as the guest sent it */
	if (x->x_grants.gr_n == 0)
		deliver(&d, p, len);
	else
		x->x_redactions += redact_feed(x->x_red[stream - 1], p, len,
		    deliver, &d);
}

/* Output as the host passes it on: hashed, counted, sent. */
static void
deliver(void *arg, const uint8_t *p, size_t len)
{
	struct deliver		*d = arg;
	struct exec		*x = d->d_x;
	uint32_t		 stream = d->d_stream;
	struct mvm_vmm_data	 vd;

	crypto_hash_sha256_update(hstate(x, stream), p, len);
	x->x_bytes[stream - 1] += len;
	if (x->x_noout || x->x_client == 0)
		return;
	/* a guest being stopped is not throttled: see guest_stop */
	if (x->x_guest->g_state != GUEST_RUNNING &&
	    control_queued(x->x_client) > EXEC_OUT_HIGH) {
		x->x_dropped += len;
		return;
	}
	memset(&vd, 0, sizeof(vd));
	vd.vd_stream = stream;
	(void)control_send(x->x_client, IMSG_CTL_OUTPUT, &vd, sizeof(vd), p,
	    len);
	exec_throttle(x);
}

/* A slow client: stop reading this guest until it catches up. */
void
exec_throttle(struct exec *x)
{
	guest_throttle(x->x_guest, x->x_client);
}

/*
 * What a guest sends one of its clients (output, a share, a file) is
 * not read from its vmm while that client has more than EXEC_OUT_HIGH
 * queued, until all of them are down to a quarter of it (resume_cb).
 */
void
guest_throttle(struct guest *g, uint32_t client)
{
	struct timeval	 tv = { 0, 10000 };

	if (g->g_state != GUEST_RUNNING)
		return;			/* stopping: its DONE must be read */
	if (control_queued(client) > EXEC_OUT_HIGH) {
		peer_pause(&g->g_peer, 1);
		if (g->g_resume == NULL &&
		    (g->g_resume = evtimer_new(sv.base, resume_cb, g)) == NULL)
			fatalx("evtimer_new");
		evtimer_add(g->g_resume, &tv);
	}
}

/*
 * stdin for the command.  Before the command reaches the guest it is
 * held here (the client is paused once EXEC_STDIN_HOLD is held) and
 * sent right after the EXEC; an empty piece is the end of stdin.
 */
void
exec_stdin(struct exec *x, const uint8_t *p, size_t len)
{
	struct mvm_vmm_data	 vd;
	uint8_t			*n;

	if (x->x_finished || x->x_stdin_eof)
		return;
	if (!x->x_sent) {
		if (len == 0) {
			x->x_stdin_eof = 1;
			return;
		}
		if ((n = realloc(x->x_stdin, x->x_stdinlen + len)) == NULL)
			fatal("realloc");
		memcpy(n + x->x_stdinlen, p, len);
		x->x_stdin = n;
		x->x_stdinlen += len;
		if (x->x_stdinlen >= EXEC_STDIN_HOLD)
			control_pause(x->x_client, 1);
		return;
	}
	if (len == 0)
		x->x_stdin_eof = 1;
	memset(&vd, 0, sizeof(vd));
	vd.vd_id = x->x_id;
	(void)peer_composev2(&x->x_guest->g_peer, IMSG_VMM_STDIN,
	    x->x_guest->g_id, -1, &vd, sizeof(vd), p, len);
	control_pace(x->x_client, x->x_guest->g_id);
}

static const char *const outcome_name[MVM_OUTCOME_MAX] = {
	"exited", "signaled", "timeout", "failed", "cancelled"
};

static int
exit_outcome(const struct exec *x)
{
	if (x->x_exit.vx_flags & MVM_EXIT_TIMEDOUT)
		return (MVM_OUTCOME_TIMEOUT);
	if (x->x_client == 0)
		return (MVM_OUTCOME_CANCELLED);
	if (x->x_exit.vx_flags & MVM_EXIT_SIGNAL)
		return (MVM_OUTCOME_SIGNALED);
	return (MVM_OUTCOME_EXITED);
}

/*
 * What the guest says of a command's end is evidence only where the
 * host saw it too.  A truncation needs a limit the host set and output,
 * as the host counted it, that reached it (the host sets none today, so
 * none is ever true); a timeout needs the host's own timer, or its own
 * clock past the command's timeout (a guest clock may run a little
 * fast: 5% and 100 ms of slack).  A claim the host did not see is taken
 * out of the evidence and kept as the guest's claim (run.exited
 * guest_claims, the receipt's outcome.guest_claims).  The exit code and
 * signal are the guest's word by nature, and documented as such.
 */
static void
exec_claims(struct exec *x)
{
	struct mvm_vmm_exit	*vx = &x->x_exit;
	uint64_t		 ms = x->x_t1 - x->x_t0;
	const uint64_t		 max[2] = { x->x_ve.ve_stdout_max,
				    x->x_ve.ve_stderr_max };
	const uint32_t		 bit[2] = { MVM_EXIT_OUT_TRUNC,
				    MVM_EXIT_ERR_TRUNC };
	int			 i;

	for (i = 0; i < 2; i++)
		if ((vx->vx_flags & bit[i]) &&
		    (max[i] == 0 || x->x_raw[i] < max[i])) {
			vx->vx_flags &= ~bit[i];
			x->x_claims |= bit[i];
		}
	if ((vx->vx_flags & MVM_EXIT_TIMEDOUT) && !x->x_timedout &&
	    (x->x_timeout_s == 0 || x->x_t0 == 0 ||
	    ms + ms / 20 + 100 < (uint64_t)x->x_timeout_s * 1000)) {
		vx->vx_flags &= ~MVM_EXIT_TIMEDOUT;
		x->x_claims |= MVM_EXIT_TIMEDOUT;
	}
	if (x->x_claims != 0)
		log_warnx("%s: run %s: the guest claimed what the host did "
		    "not see (%s%s%s); not taken as evidence",
		    x->x_guest->g_name, x->x_run,
		    x->x_claims & MVM_EXIT_TIMEDOUT ? " timed_out" : "",
		    x->x_claims & MVM_EXIT_OUT_TRUNC ? " stdout_truncated" :
		    "", x->x_claims & MVM_EXIT_ERR_TRUNC ?
		    " stderr_truncated" : "");
}

/* The claims exec_claims took out, as a token: "timed_out:..." */
void
exec_claims_token(const struct exec *x, char *buf, size_t len)
{
	buf[0] = '\0';
	if (x->x_claims & MVM_EXIT_TIMEDOUT)
		(void)strlcat(buf, ":timed_out", len);
	if (x->x_claims & MVM_EXIT_OUT_TRUNC)
		(void)strlcat(buf, ":stdout_truncated", len);
	if (x->x_claims & MVM_EXIT_ERR_TRUNC)
		(void)strlcat(buf, ":stderr_truncated", len);
	if (buf[0] != '\0')
		memmove(buf, buf + 1, strlen(buf));
}

/*
 * The command ended: its rw shares come back (if it exited 0), then it
 * is recorded, then the client hears it.
 */
void
exec_exited(struct exec *x, const struct mvm_vmm_exit *vx)
{
	int	 i;

	x->x_finished = 1;
	x->x_exit = *vx;
	x->x_t1 = now_ms();
	exec_claims(x);
	x->x_wall1 = wall_ms();
	if (x->x_wall0 == 0)
		x->x_wall0 = x->x_wall1;
	if (x->x_timer != NULL)
		evtimer_del(x->x_timer);
	for (i = 0; i < 2 && x->x_grants.gr_n > 0; i++) {
		struct deliver	 d = { x, i + 1 };

		redact_end(x->x_red[i], deliver, &d);
	}
	for (i = 0; i < 2; i++)
		crypto_hash_sha256_final(hstate(x, i + 1), x->x_digest[i]);
	if (!share_back_start(x))
		exec_record(x);
}

/* run.exited, with the digests; the client hears the end once on disk. */
void
exec_record(struct exec *x)
{
	const struct mvm_vmm_exit	*vx = &x->x_exit;
	struct mvm_audit_event		 ev;
	char				 hex[65], claims[64];

	aev_init(&ev, "run.exited");
	if (x->x_want_receipt)
		ev.ae_flags |= MVM_AEV_LINE;	/* the receipt quotes it */
	aev_subject(&ev, "run", x->x_run);
	aev_subject(&ev, "guest", x->x_guest->g_name);
	aev_label(&ev, "outcome", outcome_name[exit_outcome(x)]);
	sv.metrics.cm_runs[exit_outcome(x)]++;
	if (vx->vx_flags & MVM_EXIT_CODE)
		aev_label_int(&ev, "code", vx->vx_code);
	if (vx->vx_flags & MVM_EXIT_SIGNAL)
		aev_label_int(&ev, "signal", vx->vx_signal);
	aev_label_int(&ev, "stdout_bytes", x->x_bytes[0]);
	aev_label_int(&ev, "stderr_bytes", x->x_bytes[1]);
	hex_encode(x->x_digest[0], 32, hex);
	aev_label(&ev, "stdout_sha256", hex);
	hex_encode(x->x_digest[1], 32, hex);
	aev_label(&ev, "stderr_sha256", hex);
	aev_label_int(&ev, "run_ms", x->x_t1 - x->x_t0);
	aev_label_int(&ev, "guest_uid", x->x_ve.ve_uid);	/* receipts bind it */
	if (vx->vx_flags & (MVM_EXIT_OUT_TRUNC | MVM_EXIT_ERR_TRUNC))
		aev_label(&ev, "truncated", "yes");
	if (x->x_claims != 0) {
		exec_claims_token(x, claims, sizeof(claims));
		aev_label(&ev, "guest_claims", claims);
	}
	if (x->x_grants.gr_n > 0)
		aev_label_int(&ev, "redactions", (int64_t)x->x_redactions);
	if (x->x_nshares > 0)
		aev_label_int(&ev, "shares_returned", share_returned(x));
	if (audit_send(&ev, exec_recorded, exec_key(x)) == -1)
		exec_fail(x, MVM_EAUDIT, "run.exited could not be recorded");
}

/*
 * run.exited is on disk: the client hears the end now, or once its
 * receipt is made (receipt.c), which quotes that record.
 */
static void
exec_recorded(void *key, uint32_t error, const void *reply)
{
	const struct audit_ackline	*al = reply;
	struct exec			*x = exec_from_key(key);
	struct mvm_ctl_exit		*ce;
	struct guest			*g;

	if (x == NULL)
		return;
	g = x->x_guest;
	if (error != 0) {
		exec_fail(x, MVM_EAUDIT, "run.exited could not be recorded");
		return;
	}
	ce = &x->x_ce;
	memset(ce, 0, sizeof(*ce));
	(void)strlcpy(ce->ce_run, x->x_run, sizeof(ce->ce_run));
	(void)strlcpy(ce->ce_guest, g->g_name, sizeof(ce->ce_guest));
	ce->ce_flags = x->x_exit.vx_flags;
	ce->ce_code = x->x_exit.vx_code;
	ce->ce_signal = x->x_exit.vx_signal;
	ce->ce_accel = g->g_accel;
	ce->ce_stdout_bytes = x->x_bytes[0];
	ce->ce_stderr_bytes = x->x_bytes[1];
	memcpy(ce->ce_stdout_sha256, x->x_digest[0], 32);
	memcpy(ce->ce_stderr_sha256, x->x_digest[1], 32);
	if (g->g_phase[MVM_PHASE_READY] > g->g_t0)
		ce->ce_boot_ms = (g->g_phase[MVM_PHASE_READY] - g->g_t0) /
		    1000000;
	ce->ce_run_ms = x->x_t1 - x->x_t0;
	ce->ce_audit_seq = al->al_ack.aa_seq;
	ce->ce_started_ms = x->x_wall0;
	ce->ce_ended_ms = x->x_wall1;
	x->x_exit_ready = 1;
	if (x->x_want_receipt && x->x_client != 0)
		receipt_make(x, al);
	else
		exec_exit_send(x, 0);
}

/* Tell the client how its command ended (receipt_error: none made). */
void
exec_exit_send(struct exec *x, uint32_t receipt_error)
{
	x->x_ce.ce_receipt_error = receipt_error;
	if (x->x_client != 0)
		(void)control_send(x->x_client, IMSG_CTL_EXIT, &x->x_ce,
		    sizeof(x->x_ce), NULL, 0);
	exec_finish(x, NULL);
}

/* Done with x; a throwaway guest goes with its command. */
static void
exec_finish(struct exec *x, const char *why)
{
	struct guest	*g = x->x_guest;

	(void)why;
	exec_free(x);
	if (!g->g_transient)
		return;
	if (g->g_state == GUEST_CREATED || (g->g_pid == 0 &&
	    (g->g_state == GUEST_STOPPED || g->g_state == GUEST_FAILED)))
		guest_destroy(g);	/* never started, or already gone */
	else
		guest_stop(g);
}

/* Record that the command ended without an exit status; tell the client. */
static void
exec_end(struct exec *x, uint32_t err, const char *msg)
{
	struct mvm_audit_event	 ev;
	int			 oc;

	if (!x->x_finished) {
		x->x_finished = 1;
		aev_init(&ev, "run.exited");
		aev_subject(&ev, "run", x->x_run);
		aev_subject(&ev, "guest", x->x_guest->g_name);
		oc = x->x_client == 0 ? MVM_OUTCOME_CANCELLED :
		    MVM_OUTCOME_FAILED;
		aev_label(&ev, "outcome", outcome_name[oc]);
		sv.metrics.cm_runs[oc]++;
		aev_label_int(&ev, "error", err);
		(void)audit_send(&ev, NULL, NULL);
	}
	if (x->x_client != 0)
		(void)control_error(x->x_client, err, msg);
}

/* The command cannot run or complete: record, tell, clean up. */
void
exec_fail(struct exec *x, uint32_t err, const char *msg)
{
	/* it exited; its shares were coming back: record what it did */
	if (x->x_share_phase == SHARE_PHASE_GET) {
		share_back_abort(x, msg != NULL ? msg : mvm_strerror(err));
		return;
	}
	/* the end is on record: the client gets it, without a receipt */
	if (x->x_exit_ready) {
		exec_exit_send(x, err);
		return;
	}
	exec_end(x, err, msg);
	exec_finish(x, msg);
}

/* As exec_fail, for a guest that is going away itself. */
void
exec_drop(struct exec *x, uint32_t err, const char *msg)
{
	if (x->x_share_phase == SHARE_PHASE_GET) {
		share_back_abort(x, msg);	/* then exec_recorded frees */
		return;
	}
	exec_end(x, err, msg);
	exec_free(x);
}

/*
 * Tear a command down; its memory goes at the next gc (supervisor.h).
 * Callbacks name it by key, so none finds it any more.
 */
void
exec_free(struct exec *x)
{
	int	 i;

	if (x->x_dead)
		return;
	x->x_dead = 1;
	TAILQ_REMOVE(&x->x_guest->g_execs, x, x_entry);
	TAILQ_INSERT_TAIL(&dead_execs, x, x_entry);
	if (x->x_timer != NULL)
		event_free(x->x_timer);
	x->x_timer = NULL;
	sodium_memzero(x->x_blob, x->x_bloblen);
	free(x->x_blob);
	if (x->x_vblob != NULL)
		sodium_free(x->x_vblob);
	grants_free(&x->x_grants);
	for (i = 0; i < 2; i++)
		redact_free(x->x_red[i]);
	free(x->x_rec_line);
	free(x->x_rec_stmt);
	free(x->x_stdin);
	x->x_blob = x->x_vblob = x->x_rec_line = x->x_rec_stmt = NULL;
	x->x_stdin = NULL;
	share_drop(x);
	share_free(x->x_shares, x->x_nshares);
	x->x_shares = NULL;
	x->x_nshares = 0;
	if (x->x_share_ev != NULL)
		event_free(x->x_share_ev);
	x->x_share_ev = NULL;
	supervisor_gc();
}

/* From the top of the loop: free torn-down commands. */
void
exec_gc(void)
{
	struct exec	*x;

	while ((x = TAILQ_FIRST(&dead_execs)) != NULL) {
		TAILQ_REMOVE(&dead_execs, x, x_entry);
		free(x);
	}
}

struct exec *
exec_by_client(uint32_t client)
{
	struct guest	*g;
	struct exec	*x;

	TAILQ_FOREACH(g, &sv.guests, g_entry)
		TAILQ_FOREACH(x, &g->g_execs, x_entry)
			if (x->x_client == client)
				return (x);
	return (NULL);
}

/*
 * The client went away (Ctrl-C, or it died): its command is cancelled.
 * A throwaway guest is stopped; in a named guest the command is killed.
 */
void
guest_client_gone(uint32_t client)
{
	struct guest		*g;
	struct exec		*x, *next;
	struct mvm_vmm_signal	 vs;

	TAILQ_FOREACH(g, &sv.guests, g_entry) {
		if (g->g_up_client == client)
			g->g_up_client = 0;
		if (g->g_file_client == client)
			guest_file_client_gone(g);
		TAILQ_FOREACH_SAFE(x, &g->g_execs, x_entry, next) {
			if (x->x_client != client)
				continue;
			x->x_client = 0;
			/* shares on their way back: the guest goes now */
			if (x->x_share_phase == SHARE_PHASE_GET &&
			    g->g_transient)
				guest_stop(g);
			if (x->x_finished)
				continue;
			if (g->g_transient) {
				guest_stop(g);
			} else if (!x->x_sent) {
				/* not in the guest yet (its shares were) */
				exec_fail(x, MVM_EGUEST, "the client went away");
			} else {
				memset(&vs, 0, sizeof(vs));
				vs.vs_id = x->x_id;
				vs.vs_signal = SIGKILL;
				(void)peer_compose(&g->g_peer, IMSG_VMM_SIGNAL,
				    g->g_id, -1, &vs, sizeof(vs));
			}
		}
	}
}
