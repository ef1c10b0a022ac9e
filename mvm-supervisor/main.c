/*
 * mvm-supervisor: the parent daemon.  Runs as root, unjailed: it is the
 * only process that opens files and creates jails.  It starts the signer
 * and auditd, waits for both to be READY, then serves the control
 * socket.  If either child dies, it shuts down (fail closed).
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "crypto.h"
#include "log.h"
#include "supervisor.h"

struct supervisor sv;

static void	 usage(void) __attribute__((noreturn));
static void	 nodump(void);
static void	 sig_cb(evutil_socket_t, short, void *);
static void	 stop_timeout(evutil_socket_t, short, void *);
static void	 gc_cb(evutil_socket_t, short, void *);

static struct event	*gc_ev;
static int	 host_stopped(int);

/*
 * It holds the secret store's key and, in flight, secret values and
 * every client's requests: no core file, and not dumpable, so that no
 * process of ours without CAP_SYS_PTRACE reads its memory through
 * /proc.  RLIMIT_CORE is inherited by the children (vmm, QEMU); each
 * jailed child makes itself non-dumpable again after its execve.
 */
static void
nodump(void)
{
	struct rlimit	 rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		err(1, "setrlimit RLIMIT_CORE");
	if (prctl(PR_SET_DUMPABLE, 0) == -1)
		err(1, "PR_SET_DUMPABLE");
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: mvm-supervisor [-dnv] [-f file] [-S statedir]\n");
	exit(2);
}

uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The directory this binary lives in: children are its siblings. */
static void
find_libexec(void)
{
	char	 exe[PATH_MAX];
	ssize_t	 n;

	if (sv.conf.c_libexec_dir[0] != '\0') {
		(void)strlcpy(sv.libexec, sv.conf.c_libexec_dir,
		    sizeof(sv.libexec));
		return;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	exe[n] = '\0';
	if (strlcpy(sv.libexec, dirname(exe), sizeof(sv.libexec)) >=
	    sizeof(sv.libexec))
		fatalx("libexec path too long");
}

/* hostname and the default key name "mvm-<hostname>" */
static void
find_names(void)
{
	char	 host[MVM_NAME_MAX], *p;

	if (gethostname(host, sizeof(host)) == -1)
		(void)strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (p = host; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '+' || *p == '/')
			*p = '-';
	if (host[0] == '\0')
		(void)strlcpy(host, "localhost", sizeof(host));
	(void)strlcpy(sv.hostname, host, sizeof(sv.hostname));
	if (sv.conf.c_key_name[0] != '\0')
		(void)strlcpy(sv.keyname, sv.conf.c_key_name,
		    sizeof(sv.keyname));
	else
		(void)snprintf(sv.keyname, sizeof(sv.keyname), "mvm-%.40s",
		    host);
}

/*
 * Precedence for the state dir: -S, then $MVM_STATE_DIR, then the
 * file.  Unless the file names a socket, a non-default state dir keeps
 * its socket inside it, so private instances never collide.
 */
static void
resolve_paths(const char *sflag)
{
	const char	*env = getenv("MVM_STATE_DIR");
	const char	*dir = sflag;

	if (dir == NULL && env != NULL && env[0] != '\0')
		dir = env;

	if (dir != NULL) {
		if (dir[0] != '/' ||
		    strlcpy(sv.conf.c_state_dir, dir,
		    sizeof(sv.conf.c_state_dir) - 96) >=
		    sizeof(sv.conf.c_state_dir) - 96)
			errx(1, "%s: state dir must be an absolute path of at "
			    "most %zu bytes", dir,
			    sizeof(sv.conf.c_state_dir) - 97);
	}
	if (!sv.conf.c_socket_set &&
	    strcmp(sv.conf.c_state_dir, MVM_STATEDIR) != 0) {
		if ((size_t)snprintf(sv.conf.c_socket, sizeof(sv.conf.c_socket),
		    "%s/control.sock", sv.conf.c_state_dir) >=
		    sizeof(sv.conf.c_socket))
			errx(1, "%s: too long for a socket path; set \"socket\""
			    " in the configuration", sv.conf.c_state_dir);
	}
}

int
main(int argc, char *argv[])
{
	struct event	*ev_term, *ev_int, *ev_chld, *ev_hup;
	const char	*file = NULL, *sflag = NULL;
	char		 err[512];
	int		 ch, check = 0, explicit = 0;

	while ((ch = getopt(argc, argv, "df:nS:v")) != -1) {
		switch (ch) {
		case 'd':
			sv.foreground = 1;
			break;
		case 'f':
			file = optarg;
			explicit = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'S':
			sflag = optarg;
			break;
		case 'v':
			sv.verbose++;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();

	config_defaults(&sv.conf);
	if (file == NULL)
		file = MVM_CONFFILE;
	if ((explicit || access(file, F_OK) == 0) &&
	    config_load(file, &sv.conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	resolve_paths(sflag);
	if (check) {
		printf("configuration OK\n");
		exit(0);
	}
	if (sv.verbose == 0)
		sv.verbose = sv.conf.c_log_level;
	if (geteuid() != 0)
		errx(1, "must run as root");
	nodump();

	log_init(sv.foreground ? LOG_MODE_STDERR : LOG_MODE_SYSLOG,
	    sv.verbose, "mvm-supervisor");
	find_libexec();
	find_names();
	if (mvm_crypto_init() == -1)
		fatalx("sodium_init");
	state_prepare();
	if (!sv.foreground && daemon(0, 0) == -1)
		fatal("daemon");

	(void)signal(SIGPIPE, SIG_IGN);
	sv.ctl_fd = -1;
	TAILQ_INIT(&sv.clients);
	sv.start_ms = now_ms();
	if ((sv.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	ev_term = evsignal_new(sv.base, SIGTERM, sig_cb, NULL);
	ev_int = evsignal_new(sv.base, SIGINT, sig_cb, NULL);
	ev_chld = evsignal_new(sv.base, SIGCHLD, sig_cb, NULL);
	ev_hup = evsignal_new(sv.base, SIGHUP, sig_cb, NULL);
	if (ev_term == NULL || ev_int == NULL || ev_chld == NULL ||
	    ev_hup == NULL || evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1 ||
	    evsignal_add(ev_chld, NULL) == -1 ||
	    evsignal_add(ev_hup, NULL) == -1)
		fatalx("evsignal");

	if ((gc_ev = event_new(sv.base, -1, 0, gc_cb, NULL)) == NULL)
		fatalx("event_new");
	log_info("starting, mvm %s, state %s", MVM_VERSION,
	    sv.conf.c_state_dir);
	guest_init();
	image_init();
	control_closer_start();
	child_start_all();
	event_base_dispatch(sv.base);

	control_close();
	gc_cb(-1, 0, NULL);
	guest_cgroup_cleanup();
	log_info("stopped");
	return (sv.exit_code);
}

/*
 * Objects torn down since the last run of the loop are freed here, at
 * its top, never inside the callback chain that destroyed them
 * (supervisor.h, "Objects and who owns them").
 */
void
supervisor_gc(void)
{
	event_active(gc_ev, 0, 0);
}

static void
gc_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	control_gc();		/* drops clients: may end execs, guests */
	exec_gc();
	guest_gc();
}

static void
sig_cb(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("received SIG%s, stopping", sigabbrev_np(sig));
		supervisor_stop(0);
		break;
	case SIGCHLD:
		child_reap();
		break;
	case SIGHUP:
		log_info("SIGHUP: nothing to reload");
		break;
	}
}

/*
 * Stop serving, tell the children to finish (EOF on their socket), and
 * give them MVM_STOP_GRACE_MS before SIGKILL.  code is the exit status.
 */
void
supervisor_stop(int code)
{
	struct timeval	 tv;

	if (sv.stopping)
		return;
	sv.stopping = 1;
	sv.exit_code = code;
	control_close();
	tv.tv_sec = MVM_STOP_GRACE_MS / 1000 + 15;
	tv.tv_usec = 0;
	sv.stop_timer = evtimer_new(sv.base, stop_timeout, NULL);
	if (sv.stop_timer == NULL || evtimer_add(sv.stop_timer, &tv) == -1)
		fatalx("evtimer");
	/* guests first: nothing outlives the supervisor */
	guest_stop_all();
	if (guest_all_gone())
		supervisor_stop_children();
}

/*
 * Once no guest is left: record the stop (if the log still works),
 * then stop auditd, then the signer.
 */
void
supervisor_stop_children(void)
{
	if (sv.children_stopping)
		return;
	sv.children_stopping = 1;
	if (child_all_gone()) {
		event_base_loopexit(sv.base, NULL);
		return;
	}
	if (sv.audit_ok && sv.auditd.c_state == MVM_PROC_READY &&
	    host_stopped(sv.exit_code) == 0)
		;	/* children stop once it is acknowledged */
	else
		child_stop_all();
}

static void
host_stopped_acked(void *arg, uint32_t error, const void *reply)
{
	(void)arg;
	(void)reply;
	if (error != 0)
		log_warnx("host.stopped could not be recorded: %s",
		    mvm_strerror(error));
	child_stop_all();
}

static int
host_stopped(int code)
{
	struct mvm_audit_event	 ev;

	aev_init(&ev, "host.stopped");
	aev_label(&ev, "reason", code == 0 ? "signal" : "failure");
	aev_label_int(&ev, "status", code);
	return (audit_send(&ev, host_stopped_acked, NULL));
}

static void
stop_timeout(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	guest_kill_all();
	child_kill_all();
}
