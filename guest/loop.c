/*
 * loop.c: the poll loop over the port, the SIGCHLD signalfd and the
 * children's pipes; the output queue; dispatch and the session.
 *
 * The poll set: the signalfd, the port, the children's pipes, then the
 * listeners and flows of egress (net.c).
 *
 * The port is non-blocking.  read() returning 0 (or POLLHUP) means no
 * host is connected; the agent looks again every RETRY_MS.  A session is
 * what a host asked since its connection began; when that host goes, the
 * agent resets the session (see session_reset) and waits for a HELLO.
 * Output is queued and written as the port takes it; above OUTQ_HIGH
 * queued bytes the children's pipes and the flows' sockets are not read,
 * above OUTQ_MAX (or STDIN_HIGH bytes of queued stdin) the port is not
 * read either, so memory stays bounded.
 *
 * Which bytes came from which connection is not as plain as that.  QEMU
 * tells the guest kernel of each connect and disconnect of the host side
 * in a control message, which the kernel handles later, in a work queue;
 * the bytes come on a queue of their own and are readable at once.  So:
 *
 * - A new host's first bytes (its HELLO) can be read while the kernel
 *   still says no host is connected, and writes wait until it has
 *   handled the connect.  Taking that "no host" for the new host going
 *   away would throw its HELLO and the answer away, and the host would
 *   wait for ever.  "No host" ends a session only if the kernel has said
 *   a host is connected since the session began or its HELLO came
 *   (a_hostseen), or if there has been no host for HOST_WAIT_MS (a host
 *   that came and went at once); see port_gone.
 * - A disconnect and the next connect can reach the kernel together, and
 *   then the agent never sees "no host" in between: the new host's bytes
 *   just follow the old one's.  Every connection starts with HELLO, so a
 *   HELLO accepted while a session is open ends that session first, as
 *   if its host had been seen to go (see hello).  What the guest cannot
 *   know is where the old host's bytes stopped: if it went in the middle
 *   of a frame, or after a framing error, the new host's HELLO is taken
 *   for the rest of that frame (or discarded) and goes unanswered; only
 *   a "no host" the agent sees clears that.  So a host that drops a
 *   connection mid-frame must leave the port without a host for a while
 *   (a few hundred ms) before the next connects (agentproto.h).
 */
#include <sys/reboot.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define POLL_MAX	(2 + JOB_MAX * 3 + NET_POLL_MAX)

static void	 session_end(void);
static void	 session_reset(void);
static int	 port_wanted(void);
static void	 port_host(void);
static void	 port_gone(void);
static void	 port_read(void);
static void	 port_process(void);
static void	 port_flush(void);
static void	 port_drain(void);
static void	 dispatch(const struct ap_frame *);
static void	 hello(const struct ap_frame *);
static void	 ping(const struct ap_frame *);
static void	 shutdown_req(const struct ap_frame *);
static void	 sig_read(void);
static int	 loop_timeout(uint64_t);
static void	 loop_once(void);

struct obuf *
obuf_new(const void *p, size_t len)
{
	struct obuf	*ob;

	ob = xcalloc(1, sizeof(*ob) + len);
	ob->o_len = len;
	if (len > 0)
		memcpy(ob->o_data, p, len);
	return (ob);
}

void
out_frame(uint32_t type, uint32_t id, const void *p, size_t len)
{
	struct obuf	*ob;

	ob = xcalloc(1, sizeof(*ob) + AP_HDR_LEN + len);
	if (ap_header(ob->o_data, type, id, len) == -1)
		afatal("%s: %zu byte payload", __func__, len);
	if (len > 0)
		memcpy(ob->o_data + AP_HDR_LEN, p, len);
	ob->o_len = AP_HDR_LEN + len;
	TAILQ_INSERT_TAIL(&ag.a_outq, ob, o_entry);
	ag.a_outlen += ob->o_len;
}

/* Queue a JSON object and drop the reference. */
void
out_json(uint32_t type, uint32_t id, json_t *o)
{
	char	*s;

#ifdef MVM_TEST_HOOKS
	testhook_out(type, id, o);
#endif
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		afatal("%s: cannot encode", __func__);
	out_frame(type, id, s, strlen(s));
	free(s);
	json_decref(o);
}

void
out_ok(uint32_t id)
{
	out_frame(AP_OK, id, "{}", 2);
}

void
out_error(uint32_t id, const char *code, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out_json(AP_ERROR, id, json_pack("{s:s,s:s}", "code", code,
	    "message", msg));
}

/* An error for a failed system call, typed by errno. */
void
out_errno(uint32_t id, int e, const char *what)
{
	const char	*code;

	switch (e) {
	case ENOENT:
	case ENOTDIR:
		code = "not_found";
		break;
	case EACCES:
	case EPERM:
	case ELOOP:
	case EROFS:
	case EISDIR:
	case ETXTBSY:
		code = "denied";
		break;
	case EFBIG:
	case E2BIG:
	case ENAMETOOLONG:
		code = "too_large";
		break;
	default:
		code = "io";
		break;
	}
	out_error(id, code, "%s: %s", what, strerror(e));
}

/* Enough output queued that the children should wait. */
int
out_high(void)
{
	return (ag.a_outlen > OUTQ_HIGH);
}

/*
 * The session's host is gone: whatever it asked for has nobody to answer
 * to.  Kill its processes, drop transfers, flows, grants and queued
 * output; a new HELLO starts the next session.
 */
static void
session_end(void)
{
	struct obuf	*ob;

	exec_killall();
	file_abortall();
	net_reset();
	share_abortall();
#ifdef MVM_TEST_HOOKS
	testhook_reset();
#endif
	while ((ob = TAILQ_FIRST(&ag.a_outq)) != NULL) {
		TAILQ_REMOVE(&ag.a_outq, ob, o_entry);
		free(ob);
	}
	ag.a_outlen = 0;
	ag.a_ready = 0;
}

/* The host went away (or never came): end the session, forget its bytes. */
static void
session_reset(void)
{
	session_end();
	ag.a_rb.r_len = ag.a_rb.r_off = 0;
	ag.a_rb.r_broken = 0;
	ag.a_broken = 0;
	ag.a_connected = 0;
	ag.a_hostseen = 0;
	ag.a_nohost = 0;
}

static int
port_wanted(void)
{
	return (ag.a_outlen <= OUTQ_MAX && ag.a_inlen <= STDIN_HIGH);
}

/*
 * The kernel says a host is connected (poll without POLLHUP, a read
 * that would block, a write that went through).
 */
static void
port_host(void)
{
	ag.a_hostseen = 1;
	ag.a_nohost = 0;
}

/*
 * The kernel says no host is connected; look again in RETRY_MS.  If it
 * has said a host is connected since the session began (or since its
 * HELLO), that host is gone: end the session.  If not, this "no host"
 * may be from before the session's host connected (loop.c, top) and the
 * kernel is about to say so: end the session only once there has been
 * no host for HOST_WAIT_MS.  With no session yet, forget a host seen: it
 * went without a word.
 */
static void
port_gone(void)
{
	uint64_t	 now = now_ms();

	if (!ag.a_connected)
		ag.a_hostseen = 0;
	else if (!ag.a_hostseen && ag.a_nohost == 0)
		ag.a_nohost = now;
	else if (ag.a_hostseen || now - ag.a_nohost >= HOST_WAIT_MS)
		session_reset();
	ag.a_retry = now + RETRY_MS;
}

static void
port_read(void)
{
	uint8_t		*p;
	size_t		 avail;
	ssize_t		 n;

	p = ap_rbuf_space(&ag.a_rb, &avail);
	if (avail == 0)
		return;			/* frames wait in the buffer */
	if ((n = read(ag.a_port, p, avail)) == -1 &&
	    (errno == EAGAIN || errno == EINTR)) {
		if (errno == EAGAIN)
			port_host();	/* nothing to read, and a host */
		return;
	}
	if (n <= 0) {
		port_gone();
		return;
	}
	ag.a_connected = 1;
	if (!ag.a_broken)
		ap_rbuf_fill(&ag.a_rb, n);
	/* else discarded until the host goes away */
}

/* Serve the frames received, as long as output and stdin have room. */
static void
port_process(void)
{
	struct ap_frame	 f;
	int		 r = 0;

	while (!ag.a_broken && port_wanted() &&
	    (r = ap_take(&ag.a_rb, &f)) == 1)
		dispatch(&f);
	if (r == -1) {
		out_error(0, "malformed", "bad frame length");
		ag.a_broken = 1;
	}
}

static void
port_flush(void)
{
	struct obuf	*ob;
	ssize_t		 n;

	while ((ob = TAILQ_FIRST(&ag.a_outq)) != NULL) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): TAILQ FP */
		n = write(ag.a_port, ob->o_data + ob->o_off,
		    ob->o_len - ob->o_off);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			port_gone();
			return;
		}
		port_host();
		ob->o_off += n;
		ag.a_outlen -= n;
		if (ob->o_off < ob->o_len)
			continue;
		TAILQ_REMOVE(&ag.a_outq, ob, o_entry);
		free(ob);
	}
}

/*
 * Write out everything queued with blocking writes: a blocking write to
 * a virtio port returns once the host has taken the buffer.
 */
static void
port_drain(void)
{
	int	 fl;

	if ((fl = fcntl(ag.a_port, F_GETFL)) != -1)
		(void)fcntl(ag.a_port, F_SETFL, fl & ~O_NONBLOCK);
	port_flush();
}

static void
dispatch(const struct ap_frame *f)
{
	if (f->f_type == AP_HELLO) {
		hello(f);
		return;
	}
	if (!ag.a_ready) {
		out_error(f->f_id, "not_ready", "HELLO first");
		return;
	}
#ifdef MVM_TEST_HOOKS
	if (testhook_frame(f))
		return;
#endif
	switch (f->f_type) {
	case AP_EXEC:
		exec_start(f);
		break;
	case AP_STDIN:
		exec_stdin(f);
		break;
	case AP_SIGNAL:
		exec_signal(f);
		break;
	case AP_FILE_PUT:
		file_put(f);
		break;
	case AP_FILE_GET:
		file_get(f);
		break;
	case AP_FILE_DATA:
		if (!share_data(f))
			file_data(f);
		break;
	case AP_FILE_END:
		if (!share_end(f))
			file_end(f);
		break;
	case AP_DIR_PUT:
		share_put(f);
		break;
	case AP_DIR_GET:
		share_get(f);
		break;
	case AP_PING:
		ping(f);
		break;
	case AP_SHUTDOWN:
		shutdown_req(f);
		break;
	case AP_NET_GRANTS:
		net_grants(f);
		break;
	case AP_NET_OPENED:
	case AP_NET_REFUSED:
	case AP_NET_DATA:
	case AP_NET_ACK:
	case AP_NET_CLOSE:
		net_frame(f);
		break;
	default:
		out_error(f->f_id, "unknown_type", "type %u", f->f_type);
		break;
	}
}

static void
hello(const struct ap_frame *f)
{
	static const char *const names[] = { "proto_min", "proto_max",
	    "host", NULL };
	json_t		*o;
	uint64_t	 lo = 0, hi = 0;
	const char	*host;

	if ((o = j_parse(f)) == NULL || j_only(o, names) == -1 ||
	    j_uint(o, "proto_min", UINT32_MAX, &lo, 1) == -1 ||
	    j_uint(o, "proto_max", UINT32_MAX, &hi, 1) == -1 ||
	    j_str(o, "host", &host, 0) == -1 || lo > hi) {
		out_error(f->f_id, "bad_request", "%s",
		    o != NULL && lo > hi ? "proto_min > proto_max" : j_why());
		json_decref(o);
		return;
	}
	json_decref(o);
	if (lo > AP_PROTO_VERSION || hi < AP_PROTO_VERSION) {
		out_error(f->f_id, "version", "agent speaks version %d",
		    AP_PROTO_VERSION);
		return;
	}
	/*
	 * Each connection starts with HELLO: a session still open here is an
	 * earlier host's, gone without the agent seeing it (loop.c, top).
	 * End it; the rest of the buffer is this host's.  And this host must
	 * be seen connected after its HELLO before "no host" can mean it
	 * went: the kernel may still say no host (port_gone).
	 */
	if (ag.a_ready)
		session_end();
	ag.a_hostseen = 0;
	ag.a_nohost = 0;
	ag.a_ready = 1;
	out_json(AP_HELLO, f->f_id, json_pack("{s:i,s:s,s:[ssssssss],s:I,s:s}",
	    "proto", AP_PROTO_VERSION, "agent", AGENT_NAME,
	    "caps", "exec", "stdin", "signal", "file", "ping", "shutdown",
	    "net", "share",
	    "uptime_ms", (json_int_t)ag.a_uptime_ms, "kernel", ag.a_kernel));
}

/* Echo the payload, once it is known to be a JSON object. */
static void
ping(const struct ap_frame *f)
{
	json_t	*o;

	if ((o = j_parse(f)) == NULL) {
		out_error(f->f_id, "bad_request", "%s", j_why());
		return;
	}
	json_decref(o);
	out_frame(AP_PONG, f->f_id, f->f_data, f->f_len);
}

static void
shutdown_req(const struct ap_frame *f)
{
	static const char *const none[] = { NULL };
	json_t	*o;

	if ((o = j_parse(f)) == NULL || j_only(o, none) == -1) {
		out_error(f->f_id, "bad_request", "%s", j_why());
		json_decref(o);
		return;
	}
	json_decref(o);
	(void)kill(-1, SIGKILL);	/* everything but PID 1 */
	exec_reap();
	sync();
	out_ok(f->f_id);
	port_drain();
	agent_poweroff();
}

static void
sig_read(void)
{
	struct signalfd_siginfo	 si;

	while (read(ag.a_sigfd, &si, sizeof(si)) == sizeof(si))
		continue;
	exec_reap();
}

/* Milliseconds until something is due, or -1. */
static int
loop_timeout(uint64_t now)
{
	int	 t = -1;

	if (ag.a_port != -1 && ag.a_retry > now)
		t = ag.a_retry - now;
	if ((file_pending() || share_pending()) && !out_high())
		t = 0;
#ifdef MVM_TEST_HOOKS
	t = testhook_timeout(t);
#endif
	return (net_timeout(now, exec_timeout(now, t)));
}

static void
loop_once(void)
{
	struct pollfd	 pfd[POLL_MAX];
	struct job	*jobs[POLL_MAX];
	int		 which[POLL_MAX];
	int		 i, n = 0, portslot = -1, netslot;
	short		 re;
	uint64_t	 now = now_ms();

	pfd[n].fd = ag.a_sigfd;
	pfd[n++].events = POLLIN;
	if (ag.a_port != -1 && now >= ag.a_retry) {
		portslot = n;
		pfd[n].fd = ag.a_port;
		pfd[n++].events = (port_wanted() ? POLLIN : 0) |
		    (TAILQ_EMPTY(&ag.a_outq) ? 0 : POLLOUT);
	}
	n += exec_pollfds(pfd + n, jobs + n, which + n, POLL_MAX - n);
	netslot = n;
	n += net_pollfds(pfd + n, POLL_MAX - n);
	if (poll(pfd, n, loop_timeout(now)) == -1) {
		if (errno != EINTR)
			afatal("poll: %s", strerror(errno));
		return;
	}
	if (pfd[0].revents)
		sig_read();
	for (i = 1; i < netslot; i++)
		if (pfd[i].revents && i != portslot)
			exec_io(jobs[i], which[i], pfd[i].revents);
	net_io(pfd + netslot, n - netslot);
	if (portslot != -1) {
		re = pfd[portslot].revents;
		if ((re & (POLLHUP | POLLERR)) == 0)
			port_host();
		if ((pfd[portslot].events & POLLIN) == 0 &&
		    (re & (POLLHUP | POLLERR)))
			port_gone();
		else if (re & (POLLIN | POLLHUP | POLLERR))
			port_read();
	}
	port_process();
	exec_tick(now_ms());
	net_tick(now_ms());
	if (!out_high())
		file_pump();
	if (!out_high())
		share_pump();
#ifdef MVM_TEST_HOOKS
	testhook_pump();
#endif
	if (ag.a_port != -1)
		port_flush();
}

void
loop_run(void)
{
	for (;;)
		loop_once();
}
