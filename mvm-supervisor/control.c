/*
 * control.c: the control socket.  Clients are authenticated by
 * SO_PEERCRED (root, or a member of socket_group), must say HELLO with
 * our protocol version first, and may then send requests.  A request
 * that is malformed, unknown or out of turn closes that connection
 * without an answer; the supervisor carries on.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "supervisor.h"

static void	 control_accept(evutil_socket_t, short, void *);
static int	 control_dispatch(struct peer *, struct imsg *);
static void	 control_closed(struct peer *, int);
static void	 control_free(struct ctl_client *);
static int	 control_fail(struct ctl_client *, uint32_t, const char *);
static void	 control_rate(struct ctl_client *, uint32_t);
static void	 control_socket_own(const char *);
#ifdef MVM_TEST_HOOKS
static void	 control_test_swap(const char *);
#endif
static uint64_t	 rate_take(struct ctl_bucket *, uint64_t, int64_t, int64_t);

static struct ctl_clients	 dead_clients =
    TAILQ_HEAD_INITIALIZER(dead_clients);
static int			 closer_fd = -1;	/* to the closer */

/*
 * No client request carries an fd.  One a client passes anyway is
 * closed on a thread of its own, never on the event loop: the close of
 * a TCP socket with SO_LINGER and unsent data blocks for as long as its
 * linger, and that of a file on a FUSE mount for as long as the mount's
 * server likes.  The client is dropped (its message is malformed).
 */
static void *
closer_main(void *arg)
{
	int	 pfd = (int)(intptr_t)arg, fd;

	while (read(pfd, &fd, sizeof(fd)) == sizeof(fd))
		(void)close(fd);
	return (NULL);
}

void
control_closer_start(void)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	sigset_t	 all, old;
	int		 p[2], rc;

	if (pipe2(p, O_CLOEXEC) == -1 || fd_nonblock(p[1]) == -1)
		fatal("pipe2");
	sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	if ((rc = pthread_attr_init(&attr)) != 0 ||
	    (rc = pthread_attr_setdetachstate(&attr,
	    PTHREAD_CREATE_DETACHED)) != 0 ||
	    (rc = pthread_create(&t, &attr, closer_main,
	    (void *)(intptr_t)p[0])) != 0)
		fatalx("closer thread: %s", strerror(rc));
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	(void)pthread_attr_destroy(&attr);
	closer_fd = p[1];
}

static void
control_fd_sink(int fd)
{
	struct linger	 l = { 0, 0 };

	/* a socket then closes at once wherever it is closed */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	if (closer_fd != -1 &&
	    write(closer_fd, &fd, sizeof(fd)) == sizeof(fd))
		return;
	log_warnx("closer thread is behind: a client's fd closed here");
	(void)close(fd);
}

/* Is a live supervisor answering on this path? */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return (rc == 0);
}

#ifdef MVM_TEST_HOOKS
/*
 * Test builds: MVM_TEST_SOCKSWAP=FILE swaps the socket just bound for
 * a symbolic link to FILE, as someone who can write the socket's
 * directory could between bind and chown (regress/supervisor/socket.t).
 */
static void
control_test_swap(const char *path)
{
	const char	*to = getenv("MVM_TEST_SOCKSWAP");

	if (to == NULL || to[0] == '\0')
		return;
	log_warnx("test hook: %s swapped for a link to %s", path, to);
	if (unlink(path) == -1 || symlink(to, path) == -1)
		fatal("test hook: %s", path);
}
#endif

/*
 * Give the socket socket_group, without following a link: whoever could
 * swap the path for a symbolic link between bind and here must not have
 * root hand another file to the group (chown follows links).  The node
 * is checked to be ours, a socket, after.
 */
static void
control_socket_own(const char *path)
{
	struct stat	 st;
	gid_t		 gid = sv.conf.c_has_group ? sv.conf.c_socket_gid : 0;

	if (fchownat(AT_FDCWD, path, 0, gid, AT_SYMLINK_NOFOLLOW) == -1 ||
	    fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == -1)
		fatal("%s", path);
	if (!S_ISSOCK(st.st_mode) || st.st_uid != 0 || st.st_gid != gid)
		fatalx("%s: replaced while being set up (not our socket)",
		    path);
}

void
control_listen(void)
{
	struct sockaddr_un	 sun;
	const char		*path = sv.conf.c_socket;
	mode_t			 old;
	int			 fd;

	if (sv.ctl_fd != -1 || sv.stopping)
		return;
	mkdir_parents(path);
	if (socket_in_use(path))
		fatalx("%s: another supervisor is listening", path);
	if (unlink(path) == -1 && errno != ENOENT)
		fatal("unlink %s", path);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("%s: socket path too long", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	/* the mode comes from the umask at bind: no chmod by path after */
	old = umask(sv.conf.c_has_group ? 0117 : 0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
#ifdef MVM_TEST_HOOKS
	control_test_swap(path);
#endif
	control_socket_own(path);
	if (listen(fd, 64) == -1)
		fatal("listen");
	sv.ctl_fd = fd;
	sv.ctl_ev = event_new(sv.base, fd, EV_READ | EV_PERSIST,
	    control_accept, NULL);
	if (sv.ctl_ev == NULL || event_add(sv.ctl_ev, NULL) == -1)
		fatalx("event_add");
	log_info("ready, listening on %s", path);
}

void
control_close(void)
{
	struct ctl_client	*cl;

	while ((cl = TAILQ_FIRST(&sv.clients)) != NULL)
		control_free(cl);
	if (sv.ctl_fd == -1)
		return;
	event_free(sv.ctl_ev);
	sv.ctl_ev = NULL;
	close(sv.ctl_fd);
	sv.ctl_fd = -1;
	(void)unlink(sv.conf.c_socket);
}

/*
 * The client's supplementary groups (SO_PEERGROUPS), at most max; -1
 * if they cannot be read or are more than that.
 */
static int
control_groups(int fd, uint32_t *groups, int max)
{
	gid_t		 g[256];
	socklen_t	 len = sizeof(g);
	size_t		 i, n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1 ||
	    (n = len / sizeof(gid_t)) > (size_t)max)
		return (-1);
	for (i = 0; i < n; i++)
		groups[i] = g[i];
	return ((int)n);
}

/* root, or a member (primary or supplementary) of socket_group */
static int
control_authorized(uid_t uid, gid_t gid, const uint32_t *groups, int n)
{
	int	 i;

	if (uid == 0)
		return (1);
	if (!sv.conf.c_has_group)
		return (0);
	if (gid == sv.conf.c_socket_gid)
		return (1);
	for (i = 0; i < n; i++)
		if (groups[i] == sv.conf.c_socket_gid)
			return (1);
	return (0);
}

static void
control_hello_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client	*cl = arg;
	struct timeval		 tv = { MVM_CTL_HELLO_MS / 1000, 0 };

	(void)fd;
	(void)ev;
	if (cl->cl_peer.p_paused & PEER_HOLD_AUDIT) {
		/* we are not reading it: its HELLO may well be there */
		evtimer_add(cl->cl_timer, &tv);
		return;
	}
	log_info("client %u (pid %d): no HELLO in time, closed", cl->cl_id,
	    (int)cl->cl_pid);
	control_free(cl);
}

/*
 * After HELLO, once a second: a client may stay idle as long as it
 * likes (logs -f, a long exec), but a message it has begun must keep
 * coming.  One stuck halfway for MVM_CTL_STALL_MS is closed, so a few
 * clients cannot hold the connection slots by stalling mid-message.
 */
static void
control_stall_check(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client	*cl = arg;
	size_t			 rlen = cl->cl_peer.p_ibuf.rlen;
	uint64_t		 now = now_ms();

	(void)fd;
	(void)ev;
	if (rlen == 0 || !peer_reading(&cl->cl_peer)) {
		cl->cl_stall_since = 0;
		return;
	}
	if (cl->cl_stall_since == 0 || rlen != cl->cl_stall_rlen ||
	    cl->cl_msgs != cl->cl_stall_msgs) {
		cl->cl_stall_since = now;
		cl->cl_stall_rlen = rlen;
		cl->cl_stall_msgs = cl->cl_msgs;
		return;
	}
	if (now - cl->cl_stall_since < MVM_CTL_STALL_MS)
		return;
	log_info("client %u (pid %d uid %u): stalled in the middle of a "
	    "message, closed", cl->cl_id, (int)cl->cl_pid,
	    (unsigned int)cl->cl_uid);
	audit_ctl("stalled", "closed", cl->cl_uid, -1, 0);
	sv.metrics.cm_client_errors++;
	control_free(cl);
}

/* Too many clients: say so (EBUSY, unasked), then close. */
static void
control_refuse(int fd)
{
	struct {
		struct imsg_hdr		 hdr;
		struct mvm_ctl_error	 ce;
	} __attribute__((packed)) m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = IMSG_CTL_ERROR;
	m.hdr.len = sizeof(m);
	m.hdr.pid = getpid();
	m.ce.ce_code = MVM_EBUSY;
	(void)strlcpy(m.ce.ce_msg, "too many control clients; try again",
	    sizeof(m.ce.ce_msg));
	(void)send(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
control_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct ctl_client	*cl;
	struct ucred		 cred = { .pid = 0, .uid = (uid_t)-1,
				    .gid = (gid_t)-1 };	/* logged as unknown */
	struct timeval		 tv;
	socklen_t		 len = sizeof(cred);
	uint32_t		 groups[256];
	int			 fd, ngroups = 0;

	(void)ev;
	(void)arg;
	/* cppcheck-suppress nullPointer ; accept4(2) takes NULL, NULL */
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    (ngroups = control_groups(fd, groups, 256)) == -1 ||
	    !control_authorized(cred.uid, cred.gid, groups, ngroups)) {
		log_info("refused control connection from uid %u",
		    (unsigned int)cred.uid);
		audit_ctl("connect", "refused", cred.uid == (uid_t)-1 ? -1 :
		    (int64_t)cred.uid, -1, EPERM);
		close(fd);
		return;
	}
	/* the last few slots are root's, so an operator can always get in */
	if (sv.nclients >= MVM_CTL_CLIENTS_MAX || (cred.uid != 0 &&
	    sv.nclients >= MVM_CTL_CLIENTS_MAX - MVM_CTL_ROOT_SLOTS)) {
		log_warnx("too many control clients; refusing pid %d uid %u",
		    (int)cred.pid, (unsigned int)cred.uid);
		control_refuse(fd);
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		close(fd);
		return;
	}
	cl->cl_uid = cred.uid;
	cl->cl_gid = cred.gid;
	memcpy(cl->cl_groups, groups, ngroups * sizeof(groups[0]));
	cl->cl_ngroups = ngroups;
	cl->cl_pid = cred.pid;
	cl->cl_build_fd = -1;
	cl->cl_id = ++sv.next_client;
	if (peer_init(&cl->cl_peer, sv.base, fd, MVM_CTL_MAX,
	    control_dispatch, control_closed, cl, "client") == -1) {
		close(fd);
		free(cl);
		return;
	}
	imsgbuf_nofds(&cl->cl_peer.p_ibuf, control_fd_sink);
	/* answers it does not read stop it being read (supervisor.h) */
	peer_out_high(&cl->cl_peer, MVM_CTL_OUT_HIGH);
	if (audit_holding())
		peer_hold(&cl->cl_peer, PEER_HOLD_AUDIT, 1);
	cl->cl_timer = evtimer_new(sv.base, control_hello_timeout, cl);
	tv.tv_sec = MVM_CTL_HELLO_MS / 1000;
	tv.tv_usec = 0;
	if (cl->cl_timer != NULL)
		evtimer_add(cl->cl_timer, &tv);
	TAILQ_INSERT_TAIL(&sv.clients, cl, cl_entry);
	sv.nclients++;
	sv.metrics.cm_clients++;
	log_debug("client %u: pid %d uid %u", cl->cl_id, (int)cl->cl_pid,
	    (unsigned int)cl->cl_uid);
}

/*
 * Tear a client down: what it was doing is cancelled, its socket
 * closed; its memory goes at the next gc (supervisor.h).
 */
static void
control_free(struct ctl_client *cl)
{
	if (cl->cl_dead)
		return;
	cl->cl_dead = 1;
	TAILQ_REMOVE(&sv.clients, cl, cl_entry);
	TAILQ_INSERT_TAIL(&dead_clients, cl, cl_entry);
	sv.nclients--;
	peer_shutdown(&cl->cl_peer);
	guest_client_gone(cl->cl_id);
	control_follow_stop(cl);
	image_build_abort(cl);
	share_free(cl->cl_shares, cl->cl_nshares);
	cl->cl_shares = NULL;
	cl->cl_nshares = 0;
	if (cl->cl_timer != NULL)
		event_free(cl->cl_timer);
	cl->cl_timer = NULL;
	if (cl->cl_pace_ev != NULL)
		event_free(cl->cl_pace_ev);
	cl->cl_pace_ev = NULL;
	if (cl->cl_rate_ev != NULL)
		event_free(cl->cl_rate_ev);
	cl->cl_rate_ev = NULL;
	supervisor_gc();
}

/* From the top of the loop: drop the clients marked so, free the dead. */
void
control_gc(void)
{
	struct ctl_client	*cl, *next;

	TAILQ_FOREACH_SAFE(cl, &sv.clients, cl_entry, next)
		if (cl->cl_drop)
			control_free(cl);
	while ((cl = TAILQ_FIRST(&dead_clients)) != NULL) {
		TAILQ_REMOVE(&dead_clients, cl, cl_entry);
		free(cl);
	}
}

/*
 * Queue a message to a client by id; -1 if it is gone.  A client that
 * lets MVM_CTL_OUT_MAX pile up unread is dropped (at the next gc: the
 * caller may be deep in a guest's callbacks) and gets nothing more.
 */
int
control_send(uint32_t id, uint32_t type, const void *d1, size_t l1,
    const void *d2, size_t l2)
{
	struct ctl_client	*cl;

	if (id == 0 || (cl = control_by_id(id)) == NULL || cl->cl_drop)
		return (-1);
	if (peer_queued(&cl->cl_peer) + l1 + l2 > MVM_CTL_OUT_MAX) {
		log_info("client %u (pid %d uid %u): %d MiB unread, dropped",
		    cl->cl_id, (int)cl->cl_pid, (unsigned int)cl->cl_uid,
		    MVM_CTL_OUT_MAX >> 20);
		sv.metrics.cm_client_errors++;
		cl->cl_drop = 1;
		peer_hold(&cl->cl_peer, PEER_HOLD_DROP, 1);
		supervisor_gc();
		return (-1);
	}
	return (peer_composev2(&cl->cl_peer, type, 0, -1, d1, l1, d2, l2));
}

/* A guest is gone: every client that asked to stop it hears OK, once. */
void
control_stop_done(uint32_t guest)
{
	struct ctl_client	*cl;

	TAILQ_FOREACH(cl, &sv.clients, cl_entry)
		if (cl->cl_stop == guest) {
			cl->cl_stop = 0;
			(void)control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0,
			    NULL, 0);
		}
}

/* A typed error for a client's request; the connection stays open. */
int
control_error(uint32_t id, uint32_t code, const char *msg)
{
	struct mvm_ctl_error	 ce;

	if (code == MVM_EPOLICY)
		sv.metrics.cm_policy_denials++;
	memset(&ce, 0, sizeof(ce));
	ce.ce_code = code;
	(void)strlcpy(ce.ce_msg, msg != NULL && msg[0] != '\0' ? msg :
	    mvm_strerror(code), sizeof(ce.ce_msg));
	return (control_send(id, IMSG_CTL_ERROR, &ce, sizeof(ce), NULL, 0));
}

/* Stop or resume reading a client (its stdin is ahead of the guest). */
void
control_pause(uint32_t id, int on)
{
	struct ctl_client	*cl = control_by_id(id);

	if (cl != NULL)
		peer_pause(&cl->cl_peer, on);
}

static void
control_pace_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client	*cl = arg;

	(void)fd;
	(void)ev;
	control_pace(cl->cl_id, cl->cl_pace);
}

/*
 * A client's data for a guest (stdin, cp to it) is not queued to its
 * vmm without end: past CTL_PACE_HIGH queued towards the vmm (whose
 * guest is not taking it) the client is not read, until the queue is
 * down to half, or the guest is gone.
 */
void
control_pace(uint32_t id, uint32_t guest)
{
	struct ctl_client	*cl = control_by_id(id);
	struct guest		*g = guest_by_id(guest);
	struct timeval		 tv = { 0, 10000 };
	size_t			 q;

	if (cl == NULL)
		return;
	q = g != NULL ? peer_queued(&g->g_peer) : 0;
	if (q <= CTL_PACE_HIGH / 2 || (cl->cl_pace == 0 &&
	    q <= CTL_PACE_HIGH)) {
		if (cl->cl_pace != 0)
			peer_hold(&cl->cl_peer, PEER_HOLD_PACE, 0);
		cl->cl_pace = 0;
		return;
	}
	cl->cl_pace = guest;
	peer_hold(&cl->cl_peer, PEER_HOLD_PACE, 1);
	if (cl->cl_pace_ev == NULL && (cl->cl_pace_ev = evtimer_new(sv.base,
	    control_pace_cb, cl)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(cl->cl_pace_ev, &tv);
}

size_t
control_queued(uint32_t id)
{
	struct ctl_client	*cl = control_by_id(id);

	return (cl != NULL ? peer_queued(&cl->cl_peer) : 0);
}

/* Send a typed error and close: one try to write, no waiting. */
static int
control_fail(struct ctl_client *cl, uint32_t code, const char *msg)
{
	struct mvm_ctl_error	 ce;

	if (code == MVM_EPOLICY)
		sv.metrics.cm_policy_denials++;
	memset(&ce, 0, sizeof(ce));
	ce.ce_code = code;
	(void)strlcpy(ce.ce_msg, msg != NULL ? msg : mvm_strerror(code),
	    sizeof(ce.ce_msg));
	if (peer_compose(&cl->cl_peer, IMSG_CTL_ERROR, 0, -1, &ce,
	    sizeof(ce)) == 0)
		(void)imsgbuf_write(&cl->cl_peer.p_ibuf);
	control_free(cl);
	return (PEER_GONE);
}

static int
control_hello(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_ctl_hello	 ch;

	if (cl->cl_hello || msg_get_ctl_hello(imsg, &ch) == -1)
		return (PEER_BAD);
	if (ch.ch_version != MVM_CTL_VERSION) {
		log_info("client %u: protocol %u, want %u", cl->cl_id,
		    ch.ch_version, MVM_CTL_VERSION);
		return (control_fail(cl, MVM_EVERSION, NULL));
	}
	memset(&ch, 0, sizeof(ch));
	ch.ch_version = MVM_CTL_VERSION;
	(void)snprintf(ch.ch_software, sizeof(ch.ch_software), "mvm %s",
	    MVM_VERSION);
	cl->cl_hello = 1;
	/* from now on the timer watches for a stall mid-message */
	if (cl->cl_timer != NULL)
		event_free(cl->cl_timer);
	if ((cl->cl_timer = event_new(sv.base, -1, EV_PERSIST,
	    control_stall_check, cl)) != NULL)
		(void)event_add(cl->cl_timer, &(struct timeval){ 1, 0 });
	return (peer_compose(&cl->cl_peer, IMSG_CTL_HELLO, 0, -1, &ch,
	    sizeof(ch)) == -1 ? PEER_BAD : PEER_OK);
}

static void
status_proc(struct ctl_client *cl, const char *name, pid_t pid, int state)
{
	struct mvm_ctl_proc	 cp;

	memset(&cp, 0, sizeof(cp));
	(void)strlcpy(cp.cp_name, name, sizeof(cp.cp_name));
	cp.cp_state = state;
	if (pid > 0)
		(void)proc_status_read(pid, &cp);
	(void)control_send(cl->cl_id, IMSG_CTL_STATUS_PROC, &cp, sizeof(cp),
	    NULL, 0);
}

static int
control_status(struct ctl_client *cl)
{
	struct mvm_ctl_status	 cs;
	struct guest		*g;
	uint32_t		 nprocs = 3;

	status_proc(cl, "mvm-supervisor", getpid(), MVM_PROC_READY);
	status_proc(cl, "mvm-signer", sv.signer.c_pid, sv.signer.c_state);
	status_proc(cl, "mvm-auditd", sv.auditd.c_pid, sv.auditd.c_state);
	TAILQ_FOREACH(g, &sv.guests, g_entry) {
		char	 name[32];

		if (g->g_pid == 0)
			continue;
		(void)snprintf(name, sizeof(name), "mvm-vmm:%.22s", g->g_name);
		status_proc(cl, name, g->g_pid, g->g_state == GUEST_RUNNING ?
		    MVM_PROC_READY : MVM_PROC_STARTING);
		nprocs++;
	}
	memset(&cs, 0, sizeof(cs));
	(void)strlcpy(cs.cs_version, MVM_VERSION, sizeof(cs.cs_version));
	cs.cs_uptime_ms = now_ms() - sv.start_ms;
	cs.cs_nprocs = nprocs;
	cs.cs_nguests = sv.nguests;
	cs.cs_audit_ok = sv.audit_ok;
	(void)strlcpy(cs.cs_tenant, sv.conf.c_tenant, sizeof(cs.cs_tenant));
	(void)strlcpy(cs.cs_state_dir, sv.conf.c_state_dir,
	    sizeof(cs.cs_state_dir));
	(void)control_send(cl->cl_id, IMSG_CTL_STATUS_END, &cs, sizeof(cs),
	    NULL, 0);
	return (PEER_OK);
}

static int
control_key(struct ctl_client *cl)
{
	struct mvm_ctl_key	 ck;

	memset(&ck, 0, sizeof(ck));
	memcpy(ck.ck_pubkey, sv.pubkey, sizeof(ck.ck_pubkey));
	ck.ck_keyid = sv.keyid;
	(void)strlcpy(ck.ck_name, sv.keyname, sizeof(ck.ck_name));
	(void)control_send(cl->cl_id, IMSG_CTL_KEY_RES, &ck, sizeof(ck), NULL,
	    0);
	return (PEER_OK);
}

/*
 * Counters and gauges.  Not audited: scrapers read them every few
 * seconds, and they reveal nothing the log does not hold.
 */
static int
control_metrics(struct ctl_client *cl)
{
	struct mvm_ctl_metrics	 cm = sv.metrics;
	struct guest		*g;

	cm.cm_uptime_ms = now_ms() - sv.start_ms;
	cm.cm_audit_ok = sv.audit_ok;
	memset(cm.cm_guests, 0, sizeof(cm.cm_guests));
	TAILQ_FOREACH(g, &sv.guests, g_entry)
		if (g->g_state >= GUEST_CREATED && g->g_state <= GUEST_FAILED)
			cm.cm_guests[g->g_state - GUEST_CREATED]++;
	(void)control_send(cl->cl_id, IMSG_CTL_METRICS_RES, &cm, sizeof(cm),
	    NULL, 0);
	return (PEER_OK);
}

struct ctl_client *
control_by_id(uint32_t id)
{
	struct ctl_client	*cl;

	TAILQ_FOREACH(cl, &sv.clients, cl_entry)
		if (cl->cl_id == id)
			return (cl);
	return (NULL);
}

/* auditd's answer; the client may have gone in the meantime */
static void
control_ckpt_done(void *arg, uint32_t error, const void *reply)
{
	struct ctl_client		*cl;
	const struct mvm_audit_ckpt	*ac = reply;
	struct mvm_audit_ckpt		 out;

	cl = control_by_id((uint32_t)(uintptr_t)arg);
	audit_ctl("audit_checkpoint", error == 0 ? "ok" : "error", cl != NULL ?
	    (int64_t)cl->cl_uid : -1, -1, error);
	if (cl == NULL)
		return;
	if (error != 0 || ac == NULL) {
		(void)control_fail(cl, error != 0 ? error : MVM_EAUDIT, NULL);
		return;
	}
	out = *ac;
	out.ac_id = 0;
	(void)control_send(cl->cl_id, IMSG_CTL_AUDIT_CKPT_RES, &out,
	    sizeof(out), NULL, 0);
}

static int
control_audit_ckpt(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_audit_req	 ar;

	if (msg_get_audit_req(imsg, &ar) == -1)
		return (PEER_BAD);
	if (ar.ar_tenant[0] != '\0' &&
	    strcmp(ar.ar_tenant, sv.conf.c_tenant) != 0)
		return (control_fail(cl, MVM_EINVAL, "unknown tenant"));
	if (audit_request(IMSG_AUDIT_CKPT_REQ, 0, control_ckpt_done,
	    (void *)(uintptr_t)cl->cl_id) == -1)
		return (control_fail(cl, MVM_EAUDIT, NULL));
	return (PEER_OK);
}

/* audit resume: root only; answered once audit.resumed is on disk */
static int
control_audit_resume(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_audit_req	 ar;
	int			 r;

	if (msg_get_audit_req(imsg, &ar) == -1)
		return (PEER_BAD);
	if (cl->cl_uid != 0)
		return (control_fail(cl, EPERM, "audit resume is for root"));
	if (ar.ar_tenant[0] != '\0' &&
	    strcmp(ar.ar_tenant, sv.conf.c_tenant) != 0)
		return (control_fail(cl, MVM_EINVAL, "unknown tenant"));
	audit_ctl("audit_resume", sv.audit_ok ? "noop" : "ok", cl->cl_uid, -1, 0);
	if ((r = audit_resume(cl->cl_id)) == -1)
		return (control_fail(cl, MVM_EBUSY, "a resume is under way"));
	if (r == 0)
		return (control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0, NULL, 0)
		    == -1 ? PEER_GONE : PEER_OK);
	return (PEER_OK);
}

/* policy ls / show: the profiles as this supervisor applies them */
static int
control_policy(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_ctl_policy_req	 pq;
	int				 i, n = 0;

	if (msg_get_ctl_policy_req(imsg, &pq) == -1)
		return (PEER_BAD);
	for (i = 0; i < MVM_PROFILES; i++) {
		if (pq.pq_name[0] != '\0' &&
		    strcmp(pq.pq_name, sv.conf.c_profiles[i].pr_name) != 0)
			continue;
		(void)control_send(cl->cl_id, IMSG_CTL_POLICY_INFO,
		    &sv.conf.c_profiles[i], sizeof(sv.conf.c_profiles[i]),
		    NULL, 0);
		n++;
	}
	if (n == 0)
		return (control_error(cl->cl_id, MVM_EINVAL, "no such profile")
		    == -1 ? PEER_GONE : PEER_OK);
	return (control_send(cl->cl_id, IMSG_CTL_END, NULL, 0, NULL, 0) ==
	    -1 ? PEER_GONE : PEER_OK);
}

#ifdef MVM_TEST_HOOKS
/*
 * Test builds only: have a guest's vmm make a forbidden system call or
 * misbehave towards us (regress/guest/vmmfault.t).  Release builds do
 * not know IMSG_CTL_TEST and close the connection.
 */
static int
control_test(struct ctl_client *cl, struct imsg *imsg)
{
	struct mvm_ctl_test	 ct;
	struct mvm_test_syscall	 ts;
	struct guest		*g;

	if (msg_get_ctl_test(imsg, &ct) == -1)
		return (PEER_BAD);
	if ((g = guest_find(ct.ct_name)) == NULL)
		return (control_fail(cl, MVM_ENOGUEST, NULL));
	if (g->g_state != GUEST_RUNNING)
		return (control_fail(cl, MVM_ESTATE, NULL));
	memset(&ts, 0, sizeof(ts));
	ts.ts_which = ct.ct_which;
	log_warnx("%s: test hook %u sent to the vmm", g->g_name, ct.ct_which);
	if (peer_compose(&g->g_peer, IMSG_TEST_SYSCALL, g->g_id, -1, &ts,
	    sizeof(ts)) == -1)
		return (control_fail(cl, MVM_ESTATE, NULL));
	control_send(cl->cl_id, IMSG_CTL_OK, NULL, 0, NULL, 0);
	return (PEER_OK);
}
#endif

static void
control_rate_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_client	*cl = arg;

	(void)fd;
	(void)ev;
	peer_hold(&cl->cl_peer, PEER_HOLD_RATE, 0);
}

/*
 * Take one request from a bucket: tokens in thousandths of a request,
 * refilled at rate per second up to burst.  Returns the milliseconds
 * until the bucket has a whole request again (0: it has one now).
 */
static uint64_t
rate_take(struct ctl_bucket *b, uint64_t now, int64_t rate, int64_t burst)
{
	b->b_tokens += (int64_t)(now - b->b_ms) * rate;
	if (b->b_ms == 0 || b->b_tokens > burst * 1000)
		b->b_tokens = burst * 1000;
	b->b_ms = now;
	b->b_tokens -= 1000;
	return (b->b_tokens >= 0 ? 0 : (uint64_t)(-b->b_tokens / rate + 1));
}

/*
 * Each client is rate-limited, so that one cannot crowd out the others
 * or the audit log: a request over its rate is served, and the client
 * is then not read until its bucket has refilled.  Requests that change
 * something (and so make records) have a bucket of their own, much
 * smaller than that of all requests; data (stdin, files, shares) is
 * paced by where it goes instead.
 */
static void
control_rate(struct ctl_client *cl, uint32_t type)
{
	struct timeval	 tv;
	uint64_t	 now = now_ms(), wait, w;

	switch (type) {
	case IMSG_CTL_STDIN:
	case IMSG_CTL_FILE:
	case IMSG_CTL_FILE_DATA:
	case IMSG_CTL_SHARE_DATA:
	case IMSG_CTL_SHARE_END:
		return;
	}
	wait = rate_take(&cl->cl_rate[0], now, MVM_CTL_RATE, MVM_CTL_BURST);
	switch (type) {
	case IMSG_CTL_RUN:
	case IMSG_CTL_GUEST_REQ:
	case IMSG_CTL_SECRET_REQ:
	case IMSG_CTL_SHARE:
	case IMSG_CTL_AUDIT_CKPT_REQ:
	case IMSG_CTL_AUDIT_RESUME:
		w = rate_take(&cl->cl_rate[1], now, MVM_CTL_ACT_RATE,
		    MVM_CTL_ACT_BURST);
		wait = w > wait ? w : wait;
		break;
	}
	if (wait == 0)
		return;
	if (cl->cl_rate_ev == NULL && (cl->cl_rate_ev = evtimer_new(sv.base,
	    control_rate_cb, cl)) == NULL)
		fatalx("evtimer_new");
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	peer_hold(&cl->cl_peer, PEER_HOLD_RATE, 1);
	evtimer_add(cl->cl_rate_ev, &tv);
}

static int
control_dispatch(struct peer *p, struct imsg *imsg)
{
	struct ctl_client	*cl = p->p_arg;
	uint32_t		 type = imsg_type(imsg);

	cl->cl_msgs++;
	if (type == IMSG_CTL_HELLO)
		return (control_hello(cl, imsg));
	if (!cl->cl_hello)
		return (PEER_BAD);
	control_rate(cl, type);
	switch (type) {
	case IMSG_CTL_STATUS_REQ:
		if (msg_get_empty(imsg) == -1)
			return (PEER_BAD);
		return (control_status(cl));
	case IMSG_CTL_KEY_REQ:
		if (msg_get_empty(imsg) == -1)
			return (PEER_BAD);
		return (control_key(cl));
	case IMSG_CTL_AUDIT_CKPT_REQ:
		return (control_audit_ckpt(cl, imsg));
	case IMSG_CTL_AUDIT_RESUME:
		return (control_audit_resume(cl, imsg));
	case IMSG_CTL_METRICS_REQ:
		if (msg_get_empty(imsg) == -1)
			return (PEER_BAD);
		return (control_metrics(cl));
	case IMSG_CTL_POLICY_REQ:
		return (control_policy(cl, imsg));
	case IMSG_CTL_SECRET_REQ:
		return (control_secret(cl, imsg));
	case IMSG_CTL_RUN:
		return (control_run(cl, imsg));
	case IMSG_CTL_STDIN:
		return (control_stdin(cl, imsg));
	case IMSG_CTL_GUEST_REQ:
		return (control_guest(cl, imsg));
	case IMSG_CTL_FILE:
	case IMSG_CTL_FILE_DATA:
		return (control_file(cl, imsg));
	case IMSG_CTL_SHARE:
		return (control_share(cl, imsg));
	case IMSG_CTL_SHARE_DATA:
	case IMSG_CTL_SHARE_END:
		return (control_share_data(cl, imsg));
#ifdef MVM_TEST_HOOKS
	case IMSG_CTL_TEST:
		return (control_test(cl, imsg));
#endif
	}
	return (PEER_BAD);
}

static void
control_closed(struct peer *p, int why)
{
	struct ctl_client	*cl = p->p_arg;

	if (why == PEER_MALFORMED) {
		log_info("client %u (pid %d uid %u): malformed request, "
		    "connection closed", cl->cl_id, (int)cl->cl_pid,
		    (unsigned int)cl->cl_uid);
		audit_ctl("malformed", "closed", cl->cl_uid, -1, 0);
		sv.metrics.cm_client_errors++;
	}
	control_free(cl);
}
