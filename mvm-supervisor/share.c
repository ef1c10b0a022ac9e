/*
 * share.c: host shares (mvmctl run --add-dir HOST:GUEST[:ro|rw]).
 *
 * mvmctl reads the host directory itself, as the user who asked: the
 * supervisor never opens a host path on a client's behalf and never
 * learns it (only its SHA-256, as mvmctl computed it).  A client
 * declares its shares (IMSG_CTL_SHARE) before its RUN, so that the
 * profile decides on them with the rest of the request; once the run
 * is admitted it sends each share's stream (libshared/share.h), which
 * the supervisor reads with the share reader (a client request: it is
 * checked, bounded and counted here) and keeps in an unnamed file in
 * the guest's directory, outside the vmm's jail.
 *
 * When the guest is ready, before the command: each stream goes to the
 * agent (IMSG_VMM_DIR_PUT, FILE_DATA paced by the vmm's queue,
 * FILE_END), which unpacks it under the guest path; share.put is
 * audited with the agent's answer.  Only when every share is in does
 * the command go out.
 *
 * After the command, only if it exited 0 (no signal, no timeout) and
 * its client is still there: each rw share is asked back
 * (IMSG_VMM_DIR_GET).  The guest's stream is checked by the vmm's share
 * reader; here it is only hashed, counted and relayed to the client
 * (IMSG_CTL_SHARE_DATA, then SHARE_END with the digest and counts),
 * which reads it again and writes it into the host directory itself.
 * share.returned is audited for each; then run.exited, whose receipt
 * lists what went in and what came back.  A share that does not come
 * back whole is reported to the client as such (SHARE_END sh_error);
 * the exit is still reported and recorded.
 *
 * Evidence names a share by its guest path, its mode and the SHA-256 of
 * its host path, with counts and the digest of what came back; never
 * the host path.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "share.h"
#include "supervisor.h"

#define SHARE_QUEUE_HIGH	(1024 * 1024)	/* towards the vmm */
#define SHARE_PUMP_US		10000
#define SHARE_GUEST_S		600	/* a put or a get must end by then */

static struct exec *share_exec(struct guest *, uint32_t);
static int	 share_file(struct exec *, struct share *);
static void	 share_timer(struct exec *, long);
static void	 share_timer_cb(evutil_socket_t, short, void *);
static void	 share_put_next(struct exec *);
static void	 share_pump(struct exec *);
static void	 share_get_next(struct exec *);
static void	 share_back_end(struct exec *, uint32_t, const char *);
static void	 audit_put(struct exec *, const struct share *, const char *);
static void	 audit_back(struct exec *, const struct share *);

const char *
share_mode_name(uint32_t mode)
{
	return (mode == MVM_ADD_DIR_RW ? "rw" : "ro");
}

/* one is the other, or under it */
static int
/* NOLINTNEXTLINE(misc-no-recursion): once, with the arguments swapped */
share_nested(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > lb)
		return (share_nested(b, a));
	return (strncmp(a, b, la) == 0 && (b[la] == '\0' || b[la] == '/'));
}

/* IMSG_CTL_SHARE: one more share for the client's coming RUN */
int
control_share(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_ctl_share	 cs;
	struct share		*sh;
	int			 i;

	if (msg_get_ctl_share(imsg, &cs) == -1 || cl->cl_ran ||
	    cl->cl_nshares == MVM_RUN_SHARES_MAX || cs.sh_path[0] == '\0' ||
	    cs.sh_mode == MVM_ADD_DIR_NONE)
		return (PEER_BAD);
	for (i = 0; i < cl->cl_nshares; i++)
		if (share_nested(cl->cl_shares[i].sh_path, cs.sh_path))
			return (PEER_BAD);	/* mvmctl refuses those */
	if ((sh = reallocarray(cl->cl_shares, cl->cl_nshares + 1,
	    sizeof(*sh))) == NULL)
		fatal("reallocarray");
	cl->cl_shares = sh;
	sh = &cl->cl_shares[cl->cl_nshares++];
	memset(sh, 0, sizeof(*sh));
	sh->sh_mode = cs.sh_mode;
	sh->sh_fd = -1;
	(void)strlcpy(sh->sh_path, cs.sh_path, sizeof(sh->sh_path));
	host_path_tag(cs.sh_sha256, sh->sh_host_tag);
	return (PEER_OK);
}

/* the loosest mode a client's shares ask for (policy) */
uint32_t
share_mode_max(const struct share *sh, int n)
{
	uint32_t	 m = MVM_ADD_DIR_NONE;
	int		 i;

	for (i = 0; i < n; i++)
		if (sh[i].sh_mode > m)
			m = sh[i].sh_mode;
	return (m);
}

void
share_free(struct share *sh, int n)
{
	int	 i;

	if (sh == NULL)
		return;

	for (i = 0; i < n; i++) {
		if (sh[i].sh_fd != -1)
			(void)close(sh[i].sh_fd);
		free(sh[i].sh_rd);
	}
	free(sh);
}

/* an exec of g with a share request of this id under way */
static struct exec *
share_exec(struct guest *g, uint32_t id)
{
	struct exec	*x;

	TAILQ_FOREACH(x, &g->g_execs, x_entry)
		if (x->x_share_phase != 0 && x->x_share_id == id)
			return (x);
	return (NULL);
}

/* An unnamed file in the guest's directory for a share's stream. */
static int
share_file(struct exec *x, struct share *sh)
{
	char	 path[MVM_ROOT_MAX + 64];
	int	 fd;

	fd = open(x->x_guest->g_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		/* no O_TMPFILE here: a name, gone at once */
		(void)snprintf(path, sizeof(path), "%s/share.%s.%u",
		    x->x_guest->g_dir, x->x_run, (unsigned)(sh - x->x_shares));
		if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) != -1)
			(void)unlink(path);
	}
	if (fd == -1)
		return (-1);
	sh->sh_fd = fd;
	return (0);
}

/*
 * IMSG_CTL_SHARE_DATA and SHARE_END from the client: the declared
 * shares' streams, in order, each read as it comes and kept.
 */
int
control_share_data(struct ctl_client *cl, struct imsg *imsg)
{
	struct exec	*x;
	struct share	*sh;
	const uint8_t	*p = imsg->data, *d;
	size_t		 len = imsg->datalen, dn;
	char		 msg[MVM_ERRMSG_MAX];
	int		 ev;

	if (imsg->fd != -1 || !cl->cl_ran)
		return (PEER_BAD);
	if ((x = exec_by_client(cl->cl_id)) == NULL || x->x_finished)
		return (PEER_OK);		/* the run is over: drop it */
	if (x->x_share_in >= x->x_nshares)
		return (PEER_BAD);		/* more than it declared */
	sh = &x->x_shares[x->x_share_in];
	if (sh->sh_rd == NULL) {
		if ((sh->sh_rd = malloc(sizeof(*sh->sh_rd))) == NULL)
			fatal("malloc");
		share_reader_init(sh->sh_rd);
		if (share_file(x, sh) == -1) {
			(void)snprintf(msg, sizeof(msg), "--add-dir %s: cannot "
			    "keep it: %s", sh->sh_path, strerror(errno));
			exec_fail(x, MVM_ESHARE, msg);
			return (PEER_OK);
		}
	}
	if (imsg_type(imsg) == IMSG_CTL_SHARE_END) {
		if (len != 0 || !share_reader_done(sh->sh_rd))
			return (PEER_BAD);
		sh->sh_files = sh->sh_rd->sr_entries;
		sh->sh_bytes = sh->sh_rd->sr_bytes;
		free(sh->sh_rd);
		sh->sh_rd = NULL;
		if (++x->x_share_in == x->x_nshares && x->x_share_want) {
			x->x_share_op = -1;	/* exec_send came first */
			share_put_next(x);
		}
		return (PEER_OK);
	}
	if (len == 0 || len > MVM_DATA_MAX)
		return (PEER_BAD);
	while ((ev = share_read(sh->sh_rd, &p, &len, &d, &dn)) !=
	    SHARE_EV_MORE)
		if (ev == SHARE_EV_ERROR) {
			log_info("client %u: --add-dir %s: %s", cl->cl_id,
			    sh->sh_path, sh->sh_rd->sr_why);
			return (PEER_BAD);
		}
	if (pwrite(sh->sh_fd, imsg->data, imsg->datalen, sh->sh_size) !=
	    (ssize_t)imsg->datalen) {
		(void)snprintf(msg, sizeof(msg), "--add-dir %s: cannot keep "
		    "it: %s", sh->sh_path, strerror(errno));
		exec_fail(x, MVM_ESHARE, msg);
		return (PEER_OK);
	}
	sh->sh_size += imsg->datalen;
	return (PEER_OK);
}

static void
share_timer(struct exec *x, long usec)
{
	struct timeval	 tv = { usec / 1000000, usec % 1000000 };

	if (x->x_share_ev == NULL && (x->x_share_ev = evtimer_new(sv.base,
	    share_timer_cb, exec_key(x))) == NULL)
		fatalx("evtimer_new");
	evtimer_add(x->x_share_ev, &tv);
}

/* put: go on pumping; either way: has the guest taken too long? */
static void
share_timer_cb(evutil_socket_t fd, short ev, void *key)
{
	struct exec	*x = exec_from_key(key);
	char		 msg[MVM_ERRMSG_MAX];

	(void)fd;
	(void)ev;
	if (x == NULL || x->x_share_phase == 0)
		return;
	if (now_ms() - x->x_share_t0 < SHARE_GUEST_S * 1000ULL) {
		if (x->x_share_phase == SHARE_PHASE_PUT)
			share_pump(x);
		return;
	}
	(void)snprintf(msg, sizeof(msg), "--add-dir %s: the guest did not "
	    "%s it in %d s", x->x_shares[x->x_share_op].sh_path,
	    x->x_share_phase == SHARE_PHASE_PUT ? "take" : "send",
	    SHARE_GUEST_S);
	log_warnx("%s: run %s: %s", x->x_guest->g_name, x->x_run, msg);
	/* its late answer is not a protocol error */
	x->x_guest->g_share_stale = x->x_share_id;
	if (x->x_share_phase == SHARE_PHASE_PUT)
		exec_fail(x, MVM_ESHARE, msg);
	else
		share_back_abort(x, msg + strlen("--add-dir "));
}

/* ------------------------------------------------------------------ */
/* in: before the command */

/*
 * exec_send asks: may the command go?  Not before every share is in
 * the guest; the first time, the puts start (or wait for the client).
 */
int
share_ready(struct exec *x)
{
	if (x->x_nshares == 0 || x->x_share_done)
		return (1);
	x->x_share_want = 1;
	if (x->x_share_in == x->x_nshares && x->x_share_phase == 0) {
		x->x_share_op = -1;
		share_put_next(x);
	}
	return (0);
}

static void
share_put_next(struct exec *x)
{
	struct guest		*g = x->x_guest;
	struct mvm_vmm_share	 vh;
	struct share		*sh;

	if (++x->x_share_op == x->x_nshares) {
		x->x_share_phase = 0;
		x->x_share_done = 1;
		exec_send(x);
		return;
	}
	sh = &x->x_shares[x->x_share_op];
	x->x_share_phase = SHARE_PHASE_PUT;
	x->x_share_id = ++g->g_next_id;
	x->x_share_off = 0;
	x->x_share_t0 = now_ms();
	memset(&vh, 0, sizeof(vh));
	vh.vh_id = x->x_share_id;
	vh.vh_uid = x->x_ve.ve_uid;	/* the command's user owns it */
	vh.vh_size = sh->sh_size;
	(void)strlcpy(vh.vh_path, sh->sh_path, sizeof(vh.vh_path));
	if (peer_compose(&g->g_peer, IMSG_VMM_DIR_PUT, g->g_id, -1, &vh,
	    sizeof(vh)) == -1) {
		exec_fail(x, MVM_EGUEST, "lost the vmm");
		return;
	}
	share_pump(x);
}

/* The stream to the vmm while its queue is short, then FILE_END. */
static void
share_pump(struct exec *x)
{
	struct guest		*g = x->x_guest;
	struct share		*sh = &x->x_shares[x->x_share_op];
	struct mvm_vmm_data	 vd;
	struct mvm_vmm_file	 vf;
	uint8_t			 buf[MVM_DATA_MAX];
	size_t			 want;
	ssize_t			 n;
	char			 msg[MVM_ERRMSG_MAX];

	memset(&vd, 0, sizeof(vd));
	vd.vd_id = x->x_share_id;
	while (x->x_share_off < sh->sh_size &&
	    peer_queued(&g->g_peer) < SHARE_QUEUE_HIGH) {
		want = sh->sh_size - x->x_share_off > sizeof(buf) ?
		    sizeof(buf) : sh->sh_size - x->x_share_off;
		if ((n = pread(sh->sh_fd, buf, want, x->x_share_off)) <= 0) {
			(void)snprintf(msg, sizeof(msg), "--add-dir %s: %s",
			    sh->sh_path, n == 0 ? "short" : strerror(errno));
			exec_fail(x, MVM_ESHARE, msg);
			return;
		}
		if (peer_composev2(&g->g_peer, IMSG_VMM_FILE_DATA, g->g_id, -1,
		    &vd, sizeof(vd), buf, n) == -1) {
			exec_fail(x, MVM_EGUEST, "lost the vmm");
			return;
		}
		x->x_share_off += n;
	}
	if (x->x_share_off < sh->sh_size) {
		share_timer(x, SHARE_PUMP_US);
		return;
	}
	share_timer(x, SHARE_GUEST_S * 1000000L);	/* for its answer */
	memset(&vf, 0, sizeof(vf));
	vf.vf_id = x->x_share_id;
	(void)peer_compose(&g->g_peer, IMSG_VMM_FILE_END, g->g_id, -1, &vf,
	    sizeof(vf));
	/* the kept stream is not needed any more */
	(void)close(sh->sh_fd);
	sh->sh_fd = -1;
}

/* IMSG_VMM_OK for a share's id: it is in the guest.  0: not ours. */
int
share_vmm_ok(struct guest *g, uint32_t id)
{
	struct exec	*x = share_exec(g, id);

	if (x == NULL && id != 0 && id == g->g_share_stale) {
		g->g_share_stale = 0;		/* a put given up on */
		return (1);
	}
	if (x == NULL || x->x_share_phase != SHARE_PHASE_PUT ||
	    x->x_share_off != x->x_shares[x->x_share_op].sh_size)
		return (0);
	audit_put(x, &x->x_shares[x->x_share_op], "ok");
	share_put_next(x);
	return (1);
}

/* ------------------------------------------------------------------ */
/* back: after a clean exit, the rw shares */

/* exec_exited asks: 1 if rw shares are coming back (then it waits). */
int
share_back_start(struct exec *x)
{
	const struct mvm_vmm_exit	*vx = &x->x_exit;
	int				 i;

	for (i = 0; i < x->x_nshares; i++)
		if (x->x_shares[i].sh_mode == MVM_ADD_DIR_RW)
			break;
	if (i == x->x_nshares || x->x_client == 0 || x->x_timedout ||
	    (vx->vx_flags & (MVM_EXIT_SIGNAL | MVM_EXIT_TIMEDOUT)) != 0 ||
	    (vx->vx_flags & MVM_EXIT_CODE) == 0 || vx->vx_code != 0 ||
	    x->x_guest->g_state != GUEST_RUNNING)
		return (0);
	x->x_share_op = -1;
	x->x_share_phase = SHARE_PHASE_GET;
	share_get_next(x);
	return (1);
}

static void
/* NOLINTNEXTLINE(misc-no-recursion): at most once per share (8) */
share_get_next(struct exec *x)
{
	struct guest		*g = x->x_guest;
	struct mvm_vmm_share	 vh;
	struct share		*sh;

	while (++x->x_share_op < x->x_nshares &&
	    x->x_shares[x->x_share_op].sh_mode != MVM_ADD_DIR_RW)
		continue;
	if (x->x_share_op == x->x_nshares) {
		x->x_share_phase = 0;
		if (x->x_share_ev != NULL)
			evtimer_del(x->x_share_ev);
		exec_record(x);
		return;
	}
	sh = &x->x_shares[x->x_share_op];
	if (g->g_share_stale != 0) {
		/* one abandoned earlier has not ended: the vmm has one */
		share_back_end(x, MVM_EBUSY, "an earlier share of this guest "
		    "is still on its way");
		share_get_next(x);
		return;
	}
	x->x_share_id = ++g->g_next_id;
	x->x_share_t0 = now_ms();
	share_timer(x, SHARE_GUEST_S * 1000000L);
	crypto_hash_sha256_init(&x->x_share_h);
	memset(&vh, 0, sizeof(vh));
	vh.vh_id = x->x_share_id;
	vh.vh_size = SHARE_ARCHIVE_MAX;
	(void)strlcpy(vh.vh_path, sh->sh_path, sizeof(vh.vh_path));
	if (peer_compose(&g->g_peer, IMSG_VMM_DIR_GET, g->g_id, -1, &vh,
	    sizeof(vh)) == -1)
		share_back_abort(x, "lost the vmm");
}

/*
 * IMSG_VMM_FILE_DATA for a share coming back: hashed, counted, relayed.
 * PEER_BAD if no share waits for it or it is more than the vmm allows.
 */
int
share_vmm_data(struct guest *g, uint32_t id, const uint8_t *p, size_t len)
{
	struct exec	*x = share_exec(g, id);
	struct share	*sh;

	if (x == NULL || x->x_share_phase != SHARE_PHASE_GET)
		return (id != 0 && id == g->g_share_stale ? PEER_OK : PEER_BAD);
	sh = &x->x_shares[x->x_share_op];
	if (len > SHARE_ARCHIVE_MAX - sh->sh_back_size)
		return (PEER_BAD);
	sh->sh_back_size += len;
	crypto_hash_sha256_update(&x->x_share_h, p, len);
	if (x->x_client != 0) {
		(void)control_send(x->x_client, IMSG_CTL_SHARE_DATA, p, len,
		    NULL, 0);
		exec_throttle(x);
	}
	return (PEER_OK);
}

/* IMSG_VMM_DIR_END: one share came back whole. */
int
share_vmm_end(struct guest *g, const struct mvm_vmm_share *vh)
{
	struct exec	*x = share_exec(g, vh->vh_id);
	struct share	*sh;

	if (x == NULL || x->x_share_phase != SHARE_PHASE_GET) {
		if (vh->vh_id == 0 || vh->vh_id != g->g_share_stale)
			return (PEER_BAD);
		g->g_share_stale = 0;
		return (PEER_OK);
	}
	sh = &x->x_shares[x->x_share_op];
	if (vh->vh_size != sh->sh_back_size)
		return (PEER_BAD);
	sh->sh_back_files = vh->vh_files;
	sh->sh_back_bytes = vh->vh_bytes;
	sh->sh_back_skipped = vh->vh_skipped;
	crypto_hash_sha256_final(&x->x_share_h, sh->sh_back_sha256);
	share_back_end(x, 0, NULL);
	share_get_next(x);
	return (PEER_OK);
}

/*
 * IMSG_VMM_ERROR for a share's id: a put the agent refused fails the
 * command (it never runs); a share that cannot come back is reported
 * and the others are still asked for.  0: not a share's.
 */
int
share_vmm_error(struct guest *g, const struct mvm_vmm_error *ve)
{
	struct exec	*x = share_exec(g, ve->ve_id);
	struct share	*sh;
	char		 msg[MVM_ERRMSG_MAX + 128];	/* cut to fit */

	if (x == NULL) {
		if (ve->ve_id == 0 || ve->ve_id != g->g_share_stale)
			return (0);
		g->g_share_stale = 0;
		return (1);
	}
	sh = &x->x_shares[x->x_share_op];
	if (x->x_share_phase == SHARE_PHASE_PUT) {
		audit_put(x, sh, "failed");
		x->x_share_phase = 0;		/* answered: nothing is due */
		(void)snprintf(msg, sizeof(msg), "--add-dir %s: the guest did "
		    "not take it: %s", sh->sh_path, ve->ve_msg);
		exec_fail(x, ve->ve_code == MVM_AGENT_ETOOLARGE ? MVM_ETOOBIG :
		    MVM_ESHARE, msg);
		return (1);
	}
	share_back_end(x, ve->ve_code == MVM_AGENT_ETOOLARGE ? MVM_ETOOBIG :
	    MVM_ESHARE, ve->ve_msg);
	share_get_next(x);
	return (1);
}

/* The current share came back (err 0) or not: record, tell the client. */
static void
share_back_end(struct exec *x, uint32_t err, const char *why)
{
	struct share		*sh = &x->x_shares[x->x_share_op];
	struct mvm_ctl_share	 cs;

	sh->sh_back = err == 0 ? SHARE_BACK_OK : SHARE_BACK_FAILED;
	audit_back(x, sh);
	memset(&cs, 0, sizeof(cs));
	cs.sh_mode = sh->sh_mode;
	cs.sh_error = err;
	(void)strlcpy(cs.sh_path, sh->sh_path, sizeof(cs.sh_path));
	if (err == 0) {
		cs.sh_size = sh->sh_back_size;
		cs.sh_files = sh->sh_back_files;
		cs.sh_bytes = sh->sh_back_bytes;
		cs.sh_skipped = sh->sh_back_skipped;
		memcpy(cs.sh_sha256, sh->sh_back_sha256, 32);
	} else
		(void)strlcpy(cs.sh_msg, why, sizeof(cs.sh_msg));
	if (x->x_client != 0)
		(void)control_send(x->x_client, IMSG_CTL_SHARE_END, &cs,
		    sizeof(cs), NULL, 0);
}

/*
 * Stop asking: the guest failed, took too long, or the client went.
 * What has not come back is reported so; the exit is recorded.
 */
void
share_back_abort(struct exec *x, const char *why)
{
	if (x->x_share_phase != SHARE_PHASE_GET)
		return;
	if (x->x_share_op < x->x_nshares && x->x_guest->g_share_stale == 0)
		x->x_guest->g_share_stale = x->x_share_id;
	while (x->x_share_op < x->x_nshares) {
		if (x->x_shares[x->x_share_op].sh_mode == MVM_ADD_DIR_RW)
			share_back_end(x, MVM_ESHARE, why);
		x->x_share_op++;
	}
	x->x_share_phase = 0;
	if (x->x_share_ev != NULL)
		evtimer_del(x->x_share_ev);
	exec_record(x);
}

/*
 * The command is going with a put under way (its client or the guest
 * failed it): the agent is told the stream is over, so that it answers
 * (with an error) and can take the next one; that answer is expected.
 */
void
share_drop(struct exec *x)
{
	struct guest		*g = x->x_guest;
	struct mvm_vmm_file	 vf;

	if (x->x_share_phase != SHARE_PHASE_PUT || !g->g_peer.p_open)
		return;
	if (x->x_shares[x->x_share_op].sh_fd != -1) {	/* no FILE_END yet */
		memset(&vf, 0, sizeof(vf));
		vf.vf_id = x->x_share_id;
		(void)peer_compose(&g->g_peer, IMSG_VMM_FILE_END, g->g_id, -1,
		    &vf, sizeof(vf));
	}
	g->g_share_stale = x->x_share_id;
	x->x_share_phase = 0;
}

/* how many rw shares came back whole (run.exited) */
int
share_returned(const struct exec *x)
{
	int	 i, n = 0;

	for (i = 0; i < x->x_nshares; i++)
		n += x->x_shares[i].sh_back == SHARE_BACK_OK;
	return (n);
}

/* ------------------------------------------------------------------ */
/* evidence */

static void
audit_put(struct exec *x, const struct share *sh, const char *outcome)
{
	struct mvm_audit_event	 ev;

	aev_init(&ev, "share.put");
	aev_subject(&ev, "run", x->x_run);
	aev_subject(&ev, "guest", x->x_guest->g_name);
	aev_label(&ev, "guest_path", sh->sh_path);
	aev_label(&ev, "mode", share_mode_name(sh->sh_mode));
	aev_label(&ev, "host_path_tag", sh->sh_host_tag);
	aev_label_int(&ev, "files", sh->sh_files);
	aev_label_int(&ev, "bytes", sh->sh_bytes);
	aev_label_int(&ev, "stream_bytes", sh->sh_size);
	aev_label(&ev, "outcome", outcome);
	(void)audit_send(&ev, NULL, NULL);
}

static void
audit_back(struct exec *x, const struct share *sh)
{
	struct mvm_audit_event	 ev;
	char			 hex[65];

	aev_init(&ev, "share.returned");
	aev_subject(&ev, "run", x->x_run);
	aev_subject(&ev, "guest", x->x_guest->g_name);
	aev_label(&ev, "guest_path", sh->sh_path);
	aev_label(&ev, "host_path_tag", sh->sh_host_tag);
	aev_label(&ev, "outcome", sh->sh_back == SHARE_BACK_OK ? "ok" :
	    "failed");
	if (sh->sh_back == SHARE_BACK_OK) {
		aev_label_int(&ev, "files", sh->sh_back_files);
		aev_label_int(&ev, "bytes", sh->sh_back_bytes);
		aev_label_int(&ev, "skipped", sh->sh_back_skipped);
		aev_label_int(&ev, "stream_bytes", sh->sh_back_size);
		hex_encode(sh->sh_back_sha256, 32, hex);
		aev_label(&ev, "stream_sha256", hex);
	}
	(void)audit_send(&ev, NULL, NULL);
}
