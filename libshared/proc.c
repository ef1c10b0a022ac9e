#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "log.h"
#include "proc.h"

int
fd_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return (-1);
	return (0);
}

/*
 * In the child, between clone and execve: only async-signal-safe calls.
 * fds: 0 and 1 /dev/null, 2 the log pipe, 3 the socket, nothing else;
 * empty environment; its own session; default signal state.
 */
static void __attribute__((noreturn))
proc_exec_child(struct proc_spawn *ps, int sock, int logw)
{
	static char	*const envp[] = { NULL };
	sigset_t	 set;
	int		 null, sig;

	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	if (setsid() == -1)
		_exit(126);
	if ((null = open("/dev/null", O_RDWR)) == -1)
		_exit(126);
	if (dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1 ||
	    dup2(logw, STDERR_FILENO) == -1 || dup2(sock, MVM_CHILD_FD) == -1)
		_exit(126);
	closefrom(MVM_CHILD_FD + 1);
	execve(ps->ps_path, ps->ps_argv, envp);
	_exit(127);
}

/*
 * Start a child binary.  With ps_cloneflags it starts in new namespaces
 * (a raw clone(2) so that, with CLONE_NEWPID, the child itself is pid 1
 * of its namespace and everything it forks dies with it).  The caller
 * must be single-threaded.
 */
int
proc_spawn(struct proc_spawn *ps)
{
	int	 sv[2], lp[2];
	pid_t	 pid;

	if (ps->ps_path[0] != '/') {
		errno = EINVAL;
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return (-1);
	if (pipe2(lp, O_CLOEXEC) == -1) {
		close(sv[0]);
		close(sv[1]);
		return (-1);
	}
	pid = (pid_t)syscall(SYS_clone, (unsigned long)ps->ps_cloneflags |
	    SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == -1) {
		close(sv[0]);
		close(sv[1]);
		close(lp[0]);
		close(lp[1]);
		return (-1);
	}
	if (pid == 0)
		proc_exec_child(ps, sv[1], lp[1]);
	close(sv[1]);
	close(lp[1]);
	ps->ps_pid = pid;
	ps->ps_sock = sv[0];
	ps->ps_log = lp[0];
	if (fd_nonblock(ps->ps_sock) == -1 || fd_nonblock(ps->ps_log) == -1)
		return (-1);
	return (0);
}

/* In a child: check fd 3 is our socket and make it non-blocking. */
int
proc_child_socket(void)
{
	int	 type;
	socklen_t len = sizeof(type);

	if (getsockopt(MVM_CHILD_FD, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		errno = EBADF;
		return (-1);
	}
	if (fd_nonblock(MVM_CHILD_FD) == -1)
		return (-1);
	return (MVM_CHILD_FD);
}

/* Describe a wait(2) status: "exited 0", "killed by SIGSYS". */
void
proc_wait_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		(void)snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		(void)snprintf(buf, len, "killed by SIG%s%s",
		    sigabbrev_np(WTERMSIG(status)) ?
		    sigabbrev_np(WTERMSIG(status)) : "?",
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		(void)snprintf(buf, len, "status 0x%x", status);
}

/* ------------------------------------------------------------------ */
/* peers: an imsgbuf driven by one libevent event */

static void	 peer_cb(evutil_socket_t, short, void *);

int
peer_init(struct peer *p, struct event_base *base, int fd, size_t maxsize,
    peer_dispatch_t dispatch, peer_closed_t closed, void *arg,
    const char *name)
{
	memset(p, 0, sizeof(*p));
	if (imsgbuf_init(&p->p_ibuf, fd, maxsize) == -1)
		return (-1);
	/* internal peers read many messages at once; clients stay small */
	if (maxsize >= MVM_IMSG_MAX_INTERNAL)
		imsgbuf_readsize(&p->p_ibuf, 64 * 1024);
	p->p_base = base;
	p->p_dispatch = dispatch;
	p->p_closed = closed;
	p->p_arg = arg;
	(void)snprintf(p->p_name, sizeof(p->p_name), "%s", name);
	p->p_events = EV_READ;
	p->p_ev = event_new(base, fd, EV_READ | EV_PERSIST, peer_cb, p);
	if (p->p_ev == NULL || event_add(p->p_ev, NULL) == -1) {
		imsgbuf_clear(&p->p_ibuf);
		return (-1);
	}
	p->p_open = 1;
	return (0);
}

/*
 * Is the peer being read?  Not while paused, nor while more than
 * p_out_high bytes of answers wait for it: a peer that does not read
 * what it asked for is not asked for more.
 */
int
peer_reading(const struct peer *p)
{
	return (!p->p_paused && (p->p_out_high == 0 ||
	    p->p_ibuf.w.bytes <= p->p_out_high));
}

/* Arm EV_WRITE exactly while something is queued. */
void
peer_update(struct peer *p)
{
	short	 want = peer_reading(p) ? EV_READ : 0;

	if (!p->p_open)
		return;
	if (imsgbuf_queued(&p->p_ibuf))
		want |= EV_WRITE;
	if (want == p->p_events)
		return;
	event_del(p->p_ev);
	event_assign(p->p_ev, p->p_base, p->p_ibuf.fd, want | EV_PERSIST,
	    peer_cb, p);
	event_add(p->p_ev, NULL);
	p->p_events = want;
}

int
peer_composev2(struct peer *p, uint32_t type, uint32_t peerid, int fd,
    const void *d1, size_t l1, const void *d2, size_t l2)
{
	int	 was_empty;

	if (!p->p_open) {
		errno = EPIPE;
		return (-1);
	}
	was_empty = !imsgbuf_queued(&p->p_ibuf);
	if (imsg_composev2(&p->p_ibuf, type, peerid, fd, d1, l1, d2, l2) == -1)
		return (-1);
	/*
	 * Write at once if nothing was waiting: most messages then never
	 * touch EV_WRITE.  What the socket does not take (or an error)
	 * stays queued for the event loop to deal with.
	 */
	if (was_empty)
		(void)imsgbuf_write(&p->p_ibuf);
	peer_update(p);
	return (0);
}

int
peer_compose(struct peer *p, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	return (peer_composev2(p, type, peerid, fd, data, len, NULL, 0));
}

/* Stop or resume reading from a peer (writes go on). */
void
peer_pause(struct peer *p, int on)
{
	peer_hold(p, PEER_HOLD_FLOW, on);
}

/* The same for one reason (PEER_HOLD_*): read again once none is left. */
void
peer_hold(struct peer *p, int why, int on)
{
	if (on)
		p->p_paused |= why;
	else
		p->p_paused &= ~why;
	peer_update(p);
}

void
peer_out_high(struct peer *p, size_t high)
{
	p->p_out_high = high;
	peer_update(p);
}

/* Bytes queued for writing. */
size_t
peer_queued(const struct peer *p)
{
	return (p->p_open ? p->p_ibuf.w.bytes : 0);
}

/* Write out everything queued, blocking (used on shutdown paths). */
int
peer_flush(struct peer *p)
{
	if (!p->p_open)
		return (-1);
	return (imsgbuf_flush(&p->p_ibuf));
}

/* Stop the event, free buffers and close the socket. */
void
peer_shutdown(struct peer *p)
{
	if (!p->p_open)
		return;
	p->p_open = 0;
	event_free(p->p_ev);
	p->p_ev = NULL;
	imsgbuf_clear(&p->p_ibuf);
	close(p->p_ibuf.fd);
	p->p_ibuf.fd = -1;
}

static void
peer_close_cb(struct peer *p, int why)
{
	peer_closed_t	 closed = p->p_closed;

	/* the callback may free p: nothing touches it afterwards */
	closed(p, why);
}

static void
peer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct peer	*p = arg;
	struct imsg	 imsg;
	ssize_t		 n;
	int		 eof = 0, r;

	(void)fd;
	if (events & EV_WRITE) {
		if (imsgbuf_write(&p->p_ibuf) == -1) {
			peer_close_cb(p, PEER_IOERR);
			return;
		}
	}
	if (events & EV_READ) {
		n = imsgbuf_read(&p->p_ibuf);
		if (n == -1 && errno != EAGAIN) {
			peer_close_cb(p, errno == EBADMSG ? PEER_MALFORMED :
			    PEER_IOERR);
			return;
		}
		if (n == 0)
			eof = 1;
		for (;;) {
			n = imsg_get(&p->p_ibuf, &imsg);
			if (n == -1) {
				peer_close_cb(p, PEER_MALFORMED);
				return;
			}
			if (n == 0)
				break;
			r = p->p_dispatch(p, &imsg);
			imsg_free(&imsg);
			if (r == PEER_GONE)
				return;
			if (r == PEER_BAD) {
				peer_close_cb(p, PEER_MALFORMED);
				return;
			}
			if (!p->p_open)
				return;
		}
		if (eof) {
			/* a partial message at EOF is a truncated one */
			peer_close_cb(p, p->p_ibuf.rlen > 0 ||
			    p->p_ibuf.nrfds > 0 ? PEER_MALFORMED : PEER_EOF);
			return;
		}
	}
	peer_update(p);
}

/* ------------------------------------------------------------------ */
/* log relay */

struct logrelay {
	struct event	*lr_ev;
	int		 lr_fd;
	pid_t		 lr_pid;
	char		 lr_name[32];
	size_t		 lr_len;
	char		 lr_buf[MVM_LOGLINE_MAX + 16];
};

static void
logrelay_line(struct logrelay *lr, char *line)
{
	int	 prio = LOG_INFO;
	char	*p = line, *end;
	long	 v;

	if (*p == '<') {
		v = strtol(p + 1, &end, 10);
		if (*end == '>' && v >= 0 && v <= LOG_DEBUG) {
			prio = (int)v;
			p = end + 1;
		}
	}
	/* a child may not raise itself above warning */
	if (prio < LOG_CRIT)
		prio = LOG_CRIT;
	log_prio(prio, "%s[%d]: %s", lr->lr_name, (int)lr->lr_pid, p);
}

/* Read once; returns what read(2) returned. */
static ssize_t
logrelay_read(struct logrelay *lr)
{
	ssize_t		 n;
	char		*nl;

	n = read(lr->lr_fd, lr->lr_buf + lr->lr_len,
	    sizeof(lr->lr_buf) - 1 - lr->lr_len);
	if (n <= 0) {
		if (n == 0 && lr->lr_len > 0) {
			lr->lr_buf[lr->lr_len] = '\0';
			logrelay_line(lr, lr->lr_buf);
			lr->lr_len = 0;
		}
		return (n);
	}
	lr->lr_len += n;
	lr->lr_buf[lr->lr_len] = '\0';
	while ((nl = memchr(lr->lr_buf, '\n', lr->lr_len)) != NULL) {
		*nl = '\0';
		logrelay_line(lr, lr->lr_buf);
		lr->lr_len -= (nl + 1) - lr->lr_buf;
		memmove(lr->lr_buf, nl + 1, lr->lr_len);
	}
	if (lr->lr_len == sizeof(lr->lr_buf) - 1) {
		/* an over-long line: log what we have, as one line */
		logrelay_line(lr, lr->lr_buf);
		lr->lr_len = 0;
	}
	return (n);
}

static void
logrelay_cb(evutil_socket_t fd, short events, void *arg)
{
	struct logrelay	*lr = arg;
	ssize_t		 n;

	(void)fd;
	(void)events;
	n = logrelay_read(lr);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		event_del(lr->lr_ev);
}

struct logrelay *
logrelay_start(struct event_base *base, int fd, const char *name, pid_t pid)
{
	struct logrelay	*lr;

	if ((lr = calloc(1, sizeof(*lr))) == NULL)
		return (NULL);
	lr->lr_fd = fd;
	lr->lr_pid = pid;
	(void)snprintf(lr->lr_name, sizeof(lr->lr_name), "%s", name);
	lr->lr_ev = event_new(base, fd, EV_READ | EV_PERSIST, logrelay_cb, lr);
	if (lr->lr_ev == NULL || event_add(lr->lr_ev, NULL) == -1) {
		if (lr->lr_ev != NULL)
			event_free(lr->lr_ev);
		free(lr);
		return (NULL);
	}
	return (lr);
}

/* Drain what is left, then free. */
void
logrelay_stop(struct logrelay *lr)
{
	if (lr == NULL)
		return;
	while (logrelay_read(lr) > 0)
		;
	if (lr->lr_len > 0) {
		lr->lr_buf[lr->lr_len] = '\0';
		logrelay_line(lr, lr->lr_buf);
	}
	event_free(lr->lr_ev);
	close(lr->lr_fd);
	free(lr);
}

/*
 * The start every child daemon shares: options -d (ignored) and -v, no
 * arguments, logging for the supervisor to copy, started as root (the
 * child drops its privileges itself), libsodium, jansson's hash seed.
 * Returns the socket to the supervisor; name is "signer", "vmm", ...
 */
int
proc_child_start(int argc, char *argv[], const char *name)
{
	int	 ch, fd, verbose = 0;

	while ((ch = getopt(argc, argv, "dv")) != -1) {
		if (ch == 'v')
			verbose++;
		else if (ch != 'd')
			break;
	}
	if (ch != -1 || argc != optind) {
		fprintf(stderr, "usage: mvm-%s [-dv]\n", name);
		exit(2);
	}
	log_init(LOG_MODE_CHILD, verbose, name);
	if (geteuid() != 0)
		fatalx("must start as root (it drops its privileges itself)");
	if ((fd = proc_child_socket()) == -1)
		fatal("fd %d is not our socket", MVM_CHILD_FD);
	if (mvm_crypto_init() == -1)
		fatalx("sodium_init");
	json_object_seed(randombytes_random() | 1);
	return (fd);
}
