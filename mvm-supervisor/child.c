/*
 * child.c: the long-lived children, signer and auditd.  Each is spawned
 * into fresh namespaces, says HELLO, gets its configuration and fds,
 * jails itself and says READY.  If either dies or misbehaves, the
 * supervisor shuts down: no signing, no audit, no service.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "record.h"
#include "supervisor.h"

static int	 child_dispatch(struct peer *, struct imsg *);
static void	 child_closed(struct peer *, int);
static void	 child_ready_timeout(evutil_socket_t, short, void *);
static void	 child_configure(struct child *);
static void	 host_started(void);

static void
child_spawn(struct child *c, const char *name, int role, uint32_t uidoff)
{
	struct proc_spawn	 ps;
	struct timeval		 tv;
	char			 path[MVM_ROOT_MAX + 32];
	char			*argv[4];
	int			 argc = 0;

	memset(c, 0, sizeof(*c));
	c->c_name = name;
	c->c_role = role;
	c->c_uid = sv.conf.c_uid_base + uidoff;
	c->c_gid = sv.conf.c_uid_base + uidoff;
	c->c_state = MVM_PROC_STARTING;
	if ((size_t)snprintf(path, sizeof(path), "%s/mvm-%s", sv.libexec,
	    name) >= sizeof(path))
		fatalx("libexec path too long");
	argv[argc++] = path;
	if (sv.verbose > 0)
		argv[argc++] = sv.verbose > 1 ? "-vv" : "-v";
	argv[argc] = NULL;

	memset(&ps, 0, sizeof(ps));
	ps.ps_path = path;
	ps.ps_argv = argv;
	ps.ps_cloneflags = PROC_NS_JAIL;
	if (proc_spawn(&ps) == -1)
		fatal("spawn %s", path);
	c->c_pid = ps.ps_pid;
	if (peer_init(&c->c_peer, sv.base, ps.ps_sock, MVM_IMSG_MAX,
	    child_dispatch, child_closed, c, name) == -1)
		fatal("peer_init");
	if ((c->c_relay = logrelay_start(sv.base, ps.ps_log, name,
	    ps.ps_pid)) == NULL)
		fatal("logrelay");
	c->c_timer = evtimer_new(sv.base, child_ready_timeout, c);
	tv.tv_sec = MVM_READY_TIMEOUT_MS / 1000;
	tv.tv_usec = 0;
	if (c->c_timer == NULL || evtimer_add(c->c_timer, &tv) == -1)
		fatalx("evtimer");
	log_debug("started %s, pid %d, uid %u", name, (int)c->c_pid,
	    c->c_uid);
}

/* The signer first: auditd needs its key id; auditd once it is ready. */
void
child_start_all(void)
{
	child_spawn(&sv.signer, "signer", MVM_ROLE_SIGNER, MVM_UID_SIGNER);
}

static void
send_fd(struct child *c, uint32_t kind, const char *name, int fd)
{
	struct mvm_config_fd	 cf;

	memset(&cf, 0, sizeof(cf));
	cf.cf_kind = kind;
	if (name != NULL)
		(void)strlcpy(cf.cf_name, name, sizeof(cf.cf_name));
	if (peer_compose(&c->c_peer, IMSG_CONFIG_FD, 0, fd, &cf,
	    sizeof(cf)) == -1)
		fatal("compose");
}

/*
 * After HELLO: the configuration, then the fds.  Signer and auditd get
 * the two ends of one socketpair, created when the first of them asks.
 */
static void
child_configure(struct child *c)
{
	static int		 pair[2] = { -1, -1 };
	struct mvm_child_config	 cc;

	memset(&cc, 0, sizeof(cc));
	cc.cc_proto = MVM_PROTO_VERSION;
	cc.cc_uid = c->c_uid;
	cc.cc_gid = c->c_gid;
	cc.cc_verbose = sv.verbose;
	if ((size_t)snprintf(cc.cc_root, sizeof(cc.cc_root), "%s/empty",
	    sv.conf.c_state_dir) >= sizeof(cc.cc_root))
		fatalx("state dir path too long");
	(void)strlcpy(cc.cc_keyname, sv.keyname, sizeof(cc.cc_keyname));
	(void)strlcpy(cc.cc_hostname, sv.hostname, sizeof(cc.cc_hostname));
	cc.cc_keyid = sv.keyid;
	cc.cc_batch_max = sv.conf.c_audit_batch_max;
	cc.cc_batch_us = sv.conf.c_audit_batch_us;
	if (peer_compose(&c->c_peer, IMSG_CONFIG, 0, -1, &cc, sizeof(cc)) == -1)
		fatal("compose");

	if (pair[0] == -1 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0, pair) == -1)
		fatal("socketpair");
	switch (c->c_role) {
	case MVM_ROLE_SIGNER:
		send_fd(c, MVM_FD_SIGNER_KEY, NULL, state_open_key());
		send_fd(c, MVM_FD_PEER, NULL, pair[0]);
		pair[0] = -2;
		break;
	case MVM_ROLE_AUDITD:
		send_fd(c, MVM_FD_PEER, NULL, pair[1]);
		pair[1] = -2;
		send_fd(c, MVM_FD_AUDIT_LOG, sv.conf.c_tenant,
		    state_open_audit(sv.conf.c_tenant, "log"));
		send_fd(c, MVM_FD_AUDIT_CKPT, sv.conf.c_tenant,
		    state_open_audit(sv.conf.c_tenant, "checkpoints"));
		break;
	}
	if (peer_compose(&c->c_peer, IMSG_CONFIG_END, 0, -1, NULL, 0) == -1)
		fatal("compose");
}

static int
child_ready(struct child *c, struct mvm_ready *rd)
{
	char	 id[9];

	if (rd->rd_role != (uint32_t)c->c_role)
		return (PEER_BAD);
	if (c->c_role == MVM_ROLE_SIGNER) {
		if (!key_name_valid(rd->rd_keyname) ||
		    key_id(rd->rd_keyname, rd->rd_pubkey) != rd->rd_keyid)
			return (PEER_BAD);
		memcpy(sv.pubkey, rd->rd_pubkey, sizeof(sv.pubkey));
		sv.keyid = rd->rd_keyid;
		(void)strlcpy(sv.keyname, rd->rd_keyname, sizeof(sv.keyname));
		sv.key_created = (rd->rd_flags & MVM_READY_KEY_CREATED) != 0;
		state_write_pub();
		key_id_hex(sv.keyid, id);
		log_info("host key %s+%s%s", sv.keyname, id,
		    sv.key_created ? " (new)" : "");
	} else if (c->c_role == MVM_ROLE_AUDITD)
		sv.audit_ok = 1;
	c->c_state = MVM_PROC_READY;
	evtimer_del(c->c_timer);
	log_debug("%s ready", c->c_name);
	if (c->c_role == MVM_ROLE_SIGNER)
		child_spawn(&sv.auditd, "auditd", MVM_ROLE_AUDITD,
		    MVM_UID_AUDITD);
	if (child_all_ready())
		host_started();
	return (PEER_OK);
}

static void
host_started_acked(void *arg, uint32_t error, const void *reply)
{
	(void)arg;
	(void)reply;
	if (error != 0) {
		log_warnx("host.started could not be recorded: %s",
		    mvm_strerror(error));
		supervisor_stop(1);
		return;
	}
	guest_recover();
	control_listen();
}

/*
 * Both children ready: record the key (if new) and the start, and only
 * once host.started is on disk open the control socket.
 */
static void
host_started(void)
{
	struct mvm_audit_event	 ev;
	char			 id[9];

	key_id_hex(sv.keyid, id);
	if (sv.key_created) {
		aev_init(&ev, "key.created");
		aev_subject(&ev, "key", id);
		aev_label(&ev, "algorithm", "ed25519");
		aev_label(&ev, "name", sv.keyname);
		(void)audit_send(&ev, NULL, NULL);
	}
	aev_init(&ev, "host.started");
	aev_subject(&ev, "key", id);
	aev_label(&ev, "version", MVM_VERSION);
	aev_label_int(&ev, "pid", getpid());
	if (audit_send(&ev, host_started_acked, NULL) == -1)
		fatalx("cannot record host.started");
}

/*
 * Messages a child may send, by state.  Anything else from an internal
 * peer means it is confused or compromised: it is not answered.
 */
static int
child_dispatch(struct peer *p, struct imsg *imsg)
{
	struct child		*c = p->p_arg;
	struct mvm_hello	 he;
	struct mvm_ready	 rd;

	switch (imsg_type(imsg)) {
	case IMSG_HELLO:
		if (c->c_state != MVM_PROC_STARTING ||
		    msg_get_hello(imsg, &he) == -1 ||
		    he.he_role != (uint32_t)c->c_role)
			return (PEER_BAD);
		if (he.he_proto != MVM_PROTO_VERSION) {
			log_warnx("%s speaks protocol %u, want %u", c->c_name,
			    he.he_proto, MVM_PROTO_VERSION);
			return (PEER_BAD);
		}
		child_configure(c);
		c->c_state = MVM_PROC_CONFIGURED;
		return (PEER_OK);
	case IMSG_READY:
		if (c->c_state != MVM_PROC_CONFIGURED ||
		    msg_get_ready(imsg, &rd) == -1)
			return (PEER_BAD);
		return (child_ready(c, &rd));
	}
	if (c->c_role == MVM_ROLE_AUDITD && c->c_state == MVM_PROC_READY)
		return (audit_dispatch(imsg));
	if (c->c_role == MVM_ROLE_SIGNER && c->c_state == MVM_PROC_READY &&
	    imsg_type(imsg) == IMSG_SIGN_RES)
		return (signer_dispatch(imsg));
	log_warnx("%s: unexpected message %s (%u)", c->c_name,
	    imsg_type_name(imsg_type(imsg)), imsg_type(imsg));
	return (PEER_BAD);
}

static void
child_closed(struct peer *p, int why)
{
	struct child	*c = p->p_arg;

	peer_shutdown(p);
	if (c->c_role == MVM_ROLE_AUDITD)
		audit_fail_all();
	else
		signer_fail_all();
	if (sv.stopping)
		return;
	if (why == PEER_MALFORMED) {
		log_warnx("%s sent a malformed message; stopping it",
		    c->c_name);
		if (c->c_pid > 0)
			kill(c->c_pid, SIGKILL);
	} else
		log_warnx("lost connection to %s", c->c_name);
	supervisor_stop(1);
}

static void
child_ready_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct child	*c = arg;

	(void)fd;
	(void)ev;
	log_warnx("%s did not become ready in %d ms", c->c_name,
	    MVM_READY_TIMEOUT_MS);
	if (c->c_pid > 0)
		kill(c->c_pid, SIGKILL);
	supervisor_stop(1);
}

int
child_all_ready(void)
{
	return (sv.signer.c_state == MVM_PROC_READY &&
	    sv.auditd.c_state == MVM_PROC_READY);
}

int
child_all_gone(void)
{
	return (sv.signer.c_pid == 0 && sv.auditd.c_pid == 0);
}

static struct child *
child_by_pid(pid_t pid)
{
	if (sv.signer.c_pid == pid)
		return (&sv.signer);
	if (sv.auditd.c_pid == pid)
		return (&sv.auditd);
	return (NULL);
}

/* SIGCHLD: reap everything; losing a child outside shutdown is fatal. */
void
child_reap(void)
{
	struct child	*c;
	char		 how[64];
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((c = child_by_pid(pid)) == NULL) {
			guest_reap(pid, status);
			continue;
		}
		if (c->c_role == MVM_ROLE_AUDITD)
			audit_fail_all();
		proc_wait_status(status, how, sizeof(how));
		c->c_pid = 0;
		c->c_status = status;
		if (c->c_timer != NULL)
			evtimer_del(c->c_timer);
		logrelay_stop(c->c_relay);
		c->c_relay = NULL;
		peer_shutdown(&c->c_peer);
		if (sv.stopping &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			log_debug("%s %s", c->c_name, how);
		else
			log_warnx("%s %s", c->c_name, how);
		if (!sv.stopping)
			supervisor_stop(1);
		else if (c->c_role == MVM_ROLE_AUDITD)
			child_stop_signer();
	}
	if (sv.stopping && child_all_gone() && guest_all_gone())
		event_base_loopexit(sv.base, NULL);
}

/*
 * Closing fd 3 tells a child to finish and exit.  auditd goes first: it
 * commits what it holds and signs a final checkpoint, so the signer is
 * told only once auditd has exited (child_reap).
 */
void
child_stop_all(void)
{
	if (sv.auditd.c_pid > 0 && sv.auditd.c_peer.p_open) {
		sv.auditd.c_state = MVM_PROC_STOPPING;
		(void)peer_flush(&sv.auditd.c_peer);
		peer_shutdown(&sv.auditd.c_peer);
	} else
		child_stop_signer();
}

void
child_stop_signer(void)
{
	sv.signer.c_state = MVM_PROC_STOPPING;
	if (sv.signer.c_peer.p_open) {
		(void)peer_flush(&sv.signer.c_peer);
		peer_shutdown(&sv.signer.c_peer);
	}
}

void
child_kill_all(void)
{
	if (sv.auditd.c_pid > 0) {
		log_warnx("auditd did not exit; killing it");
		kill(sv.auditd.c_pid, SIGKILL);
	}
	if (sv.signer.c_pid > 0) {
		log_warnx("signer did not exit; killing it");
		kill(sv.signer.c_pid, SIGKILL);
	}
}

/*
 * What /proc says about a process: ids, seccomp mode, no_new_privs,
 * effective capabilities, and whether its root is the host's.
 */
int
proc_status_read(pid_t pid, struct mvm_ctl_proc *cp)
{
	char		 path[64], line[256];
	struct stat	 st, hst;
	unsigned int	 u;
	unsigned long long cap;
	FILE		*f;

	cp->cp_pid = pid;
	cp->cp_seccomp = cp->cp_nnp = -1;
	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	/* NOLINTBEGIN(cert-err34-c): the kernel formats these */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Uid:\t%u", &u) == 1)
			cp->cp_uid = u;
		else if (sscanf(line, "Gid:\t%u", &u) == 1)
			cp->cp_gid = u;
		else if (sscanf(line, "Seccomp:\t%u", &u) == 1)
			cp->cp_seccomp = u;
		else if (sscanf(line, "NoNewPrivs:\t%u", &u) == 1)
			cp->cp_nnp = u;
		else if (sscanf(line, "CapEff:\t%llx", &cap) == 1)
			cp->cp_capeff = cap;
	}
	/* NOLINTEND(cert-err34-c) */
	(void)fclose(f);
	(void)snprintf(path, sizeof(path), "/proc/%d/root/", (int)pid);
	if (stat(path, &st) == 0 && stat("/", &hst) == 0)
		cp->cp_jailed = st.st_dev != hst.st_dev ||
		    st.st_ino != hst.st_ino;
	return (0);
}
