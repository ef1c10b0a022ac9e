/*
 * vmmagent: what the guest agent sends the vmm.  mvm-vmm/agent.c and
 * mvm-vmm/net.c are compiled into this file unchanged (included, so
 * that their state can be reset between inputs); fuzz/vmmstub.c stands
 * in for the rest of the vmm (the vm global, qemu_fail, phase_send).
 * The harness plays the vmm's other ends, with a real event base:
 *
 *   the guest	a socketpair behind vm.agent (a socket bufferevent, as
 *		qemu.c makes it): agent_connected(), then the input's
 *		bytes written in chunks and read by agent_read_cb() from
 *		the event loop; what the vmm sends back is read too
 *   the supervisor  a socketpair behind vm.parent (a real peer): its
 *		requests go in as the vmm's dispatcher hands them over
 *		(agent_exec(), agent_file_get(), net_fd() ... with imsgs
 *		made here), and every message the vmm sends it is read
 *		back and checked as mvm-supervisor/guest.c and net.c
 *		check them
 *   the remote	the other end of each flow's socket: it sends, ends its
 *		direction, goes away, reads or stops reading
 *
 * input: flags, then segments separated by FUZZ_SEP; a segment is op,
 * arg, then guest bytes: the op is done, then the bytes are written.
 *	flags & 0x03	grants (0..3): HELLO is then followed by NET_GRANTS
 *	flags & 0x04	an egress budget (1 MiB) with 1 KiB of it left
 *	flags & 0x08	the guest's HELLO (and OK to NET_GRANTS) are written
 *			first: the segments start with the guest ready
 *	flags >> 4 & 7	bytes per write, from chunk_sizes[]
 *	flags & 0x80	a segment's guest bytes are one frame without its
 *			length (type, id, payload): the harness adds it
 *	op % VA_MAX	VA_* (fuzz.h): a request (new id), an answer to the
 *			oldest NET_OPEN, a remote's move, STOP, or the
 *			supervisor reading or not
 * A failed guest (qemu_fail) ends the input: nothing more is written,
 * QEMU goes away (net_closeall(), as qemu_reaped() does).
 *
 * Properties: fatal() and fatalx() (a broken invariant on the host)
 * abort; every message to the supervisor passes its reader and the
 * supervisor's checks (about its own guest, for a request still
 * outstanding, a flow asked for or open, phases once each in order,
 * guest text printable; a file get's data within the max it asked for,
 * its end with the size that came); every frame to the guest is well-formed and
 * of a type the host sends, flow frames only for flows the guest
 * opened; a flow's credit and unacknowledged bytes stay within the
 * window; every flow that got a socket is reported closed once, by the
 * time QEMU is gone; no fd is leaked; the event loop comes back (a
 * callback that fires forever is libFuzzer's timeout, or a 20 s CPU
 * watchdog in the replay).
 *
 * Not reached: qemu.c and main.c (QMP, console, the dispatcher's own
 * checks of the supervisor), a request too large for one frame, a
 * supervisor that reuses a request id.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "../mvm-vmm/vmm.h"

/*
 * The same code with smaller limits, so that inputs of a few KiB reach
 * them: the agent is paused at 1 KiB queued for the supervisor (not
 * 4 MiB), and a flow's window is 2 KiB (not 256 KiB).
 */
#undef VMM_OUT_HIGH
#define VMM_OUT_HIGH	1024
#undef AP_NET_WINDOW
#define AP_NET_WINDOW	2048

/* their log lines are formatted, not written (the replay stays quiet) */
static void	 h_log(const char *, ...) __attribute__((format(printf, 1, 2)));
#define log_warn	h_log
#define log_warnx	h_log
#define log_info	h_log
#define log_debug	h_log

#include "../mvm-vmm/agent.c"	/* NOLINT(bugprone-suspicious-include) */
#include "../mvm-vmm/net.c"	/* NOLINT(bugprone-suspicious-include) */

#define H_GUEST		7	/* vc_guest, the supervisor's id */
#define H_EXECS		96	/* EXECs per input (the vmm has REQ_MAX) */
#define SETTLE_MAX	64	/* event loop turns per step */

#define HF_ASKED	1	/* NET_OPEN seen, not answered */
#define HF_OPEN		2	/* the vmm got the socket */

struct hflow {
	uint32_t	 hf_id;
	int		 hf_state;
	int		 hf_fd;		/* the remote's end, -1 once closed */
	int		 hf_noread;	/* the remote does not read */
	int		 hf_eof;	/* the vmm ended its direction */
};

struct hexec {
	uint32_t	 hx_id;
	int		 hx_live;	/* sent, no EXIT or ERROR yet */
	int		 hx_started;
};

static struct {
	int		 guest_fd;	/* the guest's end of vm.agent */
	int		 sup_fd;	/* the supervisor's end of vm.parent */
	struct imsgbuf	 sup_ib;
	int		 slow;		/* the supervisor does not read */
	int		 fixlen;	/* a segment is one frame */
	int		 hello, ready;	/* phases seen */
	uint32_t	 next_id;
	struct hexec	 x[H_EXECS];
	int		 nx;
	uint32_t	 file_id;	/* the file request on, or 0 */
	int		 file_put;
	uint64_t	 file_max;	/* a get's max, and what came */
	uint64_t	 file_got;
	struct hflow	 fl[AP_NET_FLOWS_MAX];	/* in order of NET_OPEN */
	int		 nfl;
	uint32_t	 idseen;
} fz;

static const size_t	 chunk_sizes[] = {
	0 /* all */, 3, 5, 12, 13, 64, 512, 4096
};

static const struct {
	const char	*g_host;
	uint32_t	 g_port;
} grants[] = {
	{ "db.example", 5432 }, { "10.1.2.3", 443 }, { "api.example", 443 }
};

static struct ap_rbuf	 grb;		/* frames the vmm sent the guest */
static int		 in_input;

static void	 h_atexit(void);
static void	 h_watchdog(int);
static void	 h_init(void);
static int	 printable(const char *);
static struct hexec *exec_live(uint32_t);
static struct hflow *hflow_find(uint32_t);
static void	 hflow_drop(struct hflow *);
static void	 sup_phase(struct imsg *);
static void	 sup_error(struct imsg *);
static void	 sup_net(struct imsg *);
static void	 sup_msg(struct imsg *);
static int	 drain_sup(void);
static int	 sup_dispatch(struct peer *, struct imsg *);
static void	 sup_closed(struct peer *, int);
static void	 guest_frame(const struct ap_frame *);
static int	 drain_guest(void);
static int	 drain_remote(struct hflow *);
static int	 drain(void);
static void	 check_flows(void);
static void	 settle(void);
static void	 time_passes(void);
static void	 guest_write(const void *, size_t);
static void	 guest_say(uint32_t, uint32_t, const char *);
static void	 feed(const uint8_t *, size_t, size_t);
static void	 sup_send(void (*)(struct imsg *), uint32_t, const void *,
		    size_t, const void *, size_t, int);
static void	 op_exec(uint8_t);
static void	 op_file(uint8_t, int);
static void	 op_stdin_signal(uint8_t, int);
static void	 op_net(uint8_t);
static void	 op_remote(uint8_t);
static void	 guest_bytes(const uint8_t *, size_t, size_t);
static void	 segment(const uint8_t *, size_t, size_t);
static void	 h_start(int);
static void	 h_end(void);

static void
h_log(const char *fmt, ...)
{
	va_list	 ap;
	char	 line[MVM_LOGLINE_MAX];

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

/* fatal() and fatalx() exit(1): inside an input that is a finding */
static void
h_atexit(void)
{
	if (in_input) {
		fprintf(stderr, "vmmagent: the vmm exited (fatal)\n");
		abort();
	}
}

/* an event loop that never returns (a callback that fires forever) */
static void
h_watchdog(int sig)
{
	static const char	 msg[] = "vmmagent: 20 s of CPU on one input: "
				    "the vmm spins\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) == -1)
		abort();
	abort();
}

static void
h_init(void)
{
	static int	 done;

	if (done)
		return;
	(void)signal(SIGPIPE, SIG_IGN);		/* as the vmm */
	(void)signal(SIGPROF, h_watchdog);
	if ((vm.base = event_base_new()) == NULL ||
	    (vm.boot_timer = evtimer_new(vm.base, NULL, NULL)) == NULL ||
	    ap_rbuf_init(&grb) == -1 || atexit(h_atexit) != 0)
		abort();
	done = 1;
}

/* what the vmm passes on from the guest is text a log can take */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < ' ' || *s > '~')
			return (0);
	return (1);
}

/* ------------------------------------------------------------------ */
/* the supervisor: what the vmm tells it */

static struct hexec *
exec_live(uint32_t id)
{
	int	 i;

	for (i = 0; i < fz.nx; i++)
		if (fz.x[i].hx_id == id && fz.x[i].hx_live)
			return (&fz.x[i]);
	return (NULL);
}

static struct hflow *
hflow_find(uint32_t id)
{
	int	 i;

	for (i = 0; i < fz.nfl; i++)
		if (fz.fl[i].hf_id == id)
			return (&fz.fl[i]);
	return (NULL);
}

static void
hflow_drop(struct hflow *f)
{
	if (f->hf_fd != -1)
		close(f->hf_fd);
	memmove(f, f + 1, (fz.fl + fz.nfl - (f + 1)) * sizeof(*f));
	fz.nfl--;
}

/* phases HELLO then READY, once each (the others are qemu.c's) */
static void
sup_phase(struct imsg *m)
{
	struct mvm_vmm_phase	 vp;

	FUZZ_ASSERT(msg_get_vmm_phase(m, &vp) == 0);
	FUZZ_ASSERT(printable(vp.vp_agent) && printable(vp.vp_kernel));
	if (vp.vp_phase == MVM_PHASE_HELLO) {
		FUZZ_ASSERT(!fz.hello);
		fz.hello = 1;
	} else {
		FUZZ_ASSERT(vp.vp_phase == MVM_PHASE_READY && fz.hello &&
		    !fz.ready);
		fz.ready = 1;
	}
}

/* an ERROR ends an EXEC or the file request with its id */
static void
sup_error(struct imsg *m)
{
	struct mvm_vmm_error	 ve;
	struct hexec		*x;

	FUZZ_ASSERT(msg_get_vmm_error(m, &ve) == 0 && printable(ve.ve_msg));
	if ((x = exec_live(ve.ve_id)) != NULL)
		x->hx_live = 0;
	else {
		FUZZ_ASSERT(fz.file_id != 0 && ve.ve_id == fz.file_id);
		fz.file_id = 0;
	}
}

/* NET_OPEN as mvm-supervisor/net.c net_open() takes it; NET_CLOSED */
static void
sup_net(struct imsg *m)
{
	struct mvm_vmm_net	 vn;
	struct hflow		*f;

	FUZZ_ASSERT(msg_get_vmm_net(m, &vn, NULL) == 0);
	if (imsg_type(m) == IMSG_VMM_NET_OPEN) {
		FUZZ_ASSERT(vm.ngrants > 0 && (vn.vn_id & AP_ID_GUEST) &&
		    vn.vn_id <= AP_ID_GUEST_LAST && vn.vn_id > fz.idseen &&
		    vn.vn_port != 0 && ap_net_host(vn.vn_host) != 0 &&
		    vn.vn_reason == 0 && fz.nfl < AP_NET_FLOWS_MAX);
		fz.idseen = vn.vn_id;
		f = &fz.fl[fz.nfl++];
		f->hf_id = vn.vn_id;
		f->hf_state = HF_ASKED;
		f->hf_fd = -1;
		f->hf_noread = f->hf_eof = 0;
		return;
	}
	/* closed: once, and only a flow that got its socket */
	FUZZ_ASSERT(vn.vn_reason >= MVM_NET_LIMIT);
	FUZZ_ASSERT((f = hflow_find(vn.vn_id)) != NULL &&
	    f->hf_state == HF_OPEN);
	hflow_drop(f);
}

static void
sup_msg(struct imsg *m)
{
	struct mvm_vmm_started	 vs;
	struct mvm_vmm_data	 vd;
	struct mvm_vmm_exit	 vx;
	struct mvm_vmm_file	 vf;
	struct hexec		*x;
	const uint8_t		*p;
	size_t			 n;
	uint32_t		 how;

	FUZZ_ASSERT(m->hdr.peerid == H_GUEST && m->fd == -1);
	switch (imsg_type(m)) {
	case IMSG_VMM_PHASE:
		sup_phase(m);
		break;
	case IMSG_VMM_STARTED:
		FUZZ_ASSERT(msg_get_vmm_started(m, &vs) == 0);
		FUZZ_ASSERT((x = exec_live(vs.vs_id)) != NULL &&
		    !x->hx_started);
		x->hx_started = 1;
		break;
	case IMSG_VMM_OUTPUT:
		FUZZ_ASSERT(msg_get_vmm_data(m, &vd, &p, &n) == 0);
		FUZZ_ASSERT(vd.vd_stream != 0 &&
		    (x = exec_live(vd.vd_id)) != NULL && x->hx_started);
		break;
	case IMSG_VMM_EXIT:
		FUZZ_ASSERT(msg_get_vmm_exit(m, &vx) == 0);
		FUZZ_ASSERT((x = exec_live(vx.vx_id)) != NULL &&
		    x->hx_started);
		how = vx.vx_flags & (MVM_EXIT_CODE | MVM_EXIT_SIGNAL);
		FUZZ_ASSERT(how == MVM_EXIT_CODE || how == MVM_EXIT_SIGNAL);
		FUZZ_ASSERT(vx.vx_code <= 255 && vx.vx_signal <= 64);
		x->hx_live = 0;
		break;
	case IMSG_VMM_ERROR:
		sup_error(m);
		break;
	case IMSG_VMM_FILE_DATA:
		FUZZ_ASSERT(msg_get_vmm_data(m, &vd, &p, &n) == 0);
		FUZZ_ASSERT(fz.file_id != 0 && vd.vd_id == fz.file_id &&
		    !fz.file_put && n <= fz.file_max - fz.file_got);
		fz.file_got += n;
		break;
	case IMSG_VMM_FILE_END:
		FUZZ_ASSERT(msg_get_vmm_file(m, &vf) == 0);
		FUZZ_ASSERT(fz.file_id != 0 && vf.vf_id == fz.file_id &&
		    !fz.file_put && vf.vf_mode <= 07777 &&
		    vf.vf_size == fz.file_got);
		fz.file_id = 0;
		break;
	case IMSG_VMM_OK:
		FUZZ_ASSERT(msg_get_vmm_data(m, &vd, &p, &n) == 0 && n == 0);
		FUZZ_ASSERT(fz.file_id != 0 && vd.vd_id == fz.file_id &&
		    fz.file_put);
		fz.file_id = 0;
		break;
	case IMSG_VMM_NET_OPEN:
	case IMSG_VMM_NET_CLOSED:
		sup_net(m);
		break;
	default:
		FUZZ_ASSERT(!"a message the vmm does not send");
	}
}

/* Read what the vmm sent; 0 if nothing (or the supervisor is slow). */
static int
drain_sup(void)
{
	struct imsg	 m;
	ssize_t		 n;
	int		 moved = 0;

	while (!fz.slow) {
		if ((n = imsgbuf_read(&fz.sup_ib)) == -1) {
			FUZZ_ASSERT(errno == EAGAIN);
			break;
		}
		FUZZ_ASSERT(n > 0);		/* the vmm keeps its socket */
		moved += n;
		while ((n = imsg_get(&fz.sup_ib, &m)) > 0) {
			sup_msg(&m);
			imsg_free(&m);
		}
		FUZZ_ASSERT(n == 0);		/* well-formed */
	}
	return (moved);
}

/* The supervisor writes nothing on the socket, nor closes it early. */
static int
sup_dispatch(struct peer *p, struct imsg *m)
{
	(void)p;
	(void)m;
	abort();
}

static void
sup_closed(struct peer *p, int why)
{
	(void)p;
	(void)why;
	abort();
}

/* ------------------------------------------------------------------ */
/* the guest and the remotes: what the vmm sends them */

static void
guest_frame(const struct ap_frame *f)
{
	switch (f->f_type) {
	case AP_HELLO:
	case AP_EXEC:
	case AP_STDIN:
	case AP_SIGNAL:
	case AP_FILE_PUT:
	case AP_FILE_GET:
	case AP_FILE_DATA:
	case AP_FILE_END:
	case AP_SHUTDOWN:
	case AP_NET_GRANTS:
		break;
	case AP_NET_OPENED:
	case AP_NET_REFUSED:
	case AP_NET_DATA:
	case AP_NET_ACK:
	case AP_NET_CLOSE:
		FUZZ_ASSERT((f->f_id & AP_ID_GUEST) && f->f_id <= id_seen);
		break;
	default:
		FUZZ_ASSERT(!"a frame the host does not send");
	}
}

static int
drain_guest(void)
{
	struct ap_frame	 f;
	uint8_t		*space;
	size_t		 room;
	ssize_t		 n;
	int		 moved = 0, r;

	for (;;) {
		space = ap_rbuf_space(&grb, &room);
		FUZZ_ASSERT(room > 0);
		if ((n = read(fz.guest_fd, space, room)) == -1) {
			FUZZ_ASSERT(errno == EAGAIN);
			break;
		}
		FUZZ_ASSERT(n > 0);	/* the vmm keeps the channel */
		ap_rbuf_fill(&grb, n);
		moved += n;
		while ((r = ap_take(&grb, &f)) == 1)
			guest_frame(&f);
		FUZZ_ASSERT(r == 0);	/* the host's frames are well-formed */
	}
	return (moved);
}

/* A remote reads what the guest sent it. */
static int
drain_remote(struct hflow *f)
{
	uint8_t	 buf[16384];
	ssize_t	 n;
	int	 moved = 0;

	while ((n = read(f->hf_fd, buf, sizeof(buf))) > 0)
		moved += n;
	if (n == 0)
		f->hf_eof = 1;
	return (moved);
}

/* Whatever the vmm sent its other ends, read; the bytes read. */
static int
drain(void)
{
	struct pollfd	 pfd[2 + AP_NET_FLOWS_MAX];
	struct hflow	*rf[AP_NET_FLOWS_MAX];
	int		 i, n = 2, nr = 0, moved = 0;

	pfd[0].fd = fz.slow ? -1 : fz.sup_fd;
	pfd[1].fd = fz.guest_fd;
	for (i = 0; i < fz.nfl; i++)
		if (fz.fl[i].hf_fd != -1 && !fz.fl[i].hf_noread &&
		    !fz.fl[i].hf_eof) {
			rf[nr++] = &fz.fl[i];
			pfd[n++].fd = fz.fl[i].hf_fd;
		}
	for (i = 0; i < n; i++)
		pfd[i].events = POLLIN;
	while (poll(pfd, n, 0) == -1)
		if (errno != EINTR)
			abort();
	if (pfd[0].revents != 0)
		moved += drain_sup();
	if (pfd[1].revents != 0)
		moved += drain_guest();
	for (i = 0; i < nr; i++)
		if (pfd[2 + i].revents != 0)
			moved += drain_remote(rf[i]);
	return (moved);
}

/* net.c's own accounts */
static void
check_flows(void)
{
	int	 i;

	for (i = 0; i < AP_NET_FLOWS_MAX; i++) {
		if (flows[i].id == 0)
			continue;
		FUZZ_ASSERT(flows[i].credit <= AP_NET_WINDOW &&
		    flows[i].unacked <= AP_NET_WINDOW);
		FUZZ_ASSERT((flows[i].bev != NULL) ==
		    ((flows[i].flags & NF_OPENED) != 0));
	}
}

/* Turn the event loop until nothing moves (twice in a row). */
static void
settle(void)
{
	int	 i, idle = 0, unread = 0;

	for (i = 0; i < SETTLE_MAX && idle < 2; i++) {
		(void)event_base_loop(vm.base, EVLOOP_NONBLOCK);
		if (drain() > 0)
			idle = 0;
		else
			idle++;
		/* more than one read's worth from the guest, still unread */
		if (idle == 2 && !vm.agent_paused && vm.done_reason == 0 &&
		    ioctl(bufferevent_getfd(vm.agent), FIONREAD,
		    &unread) == 0 && unread > 0)
			idle = 0;
		check_flows();
	}
}

/* 10 ms pass: a paused agent's resume timer fires. */
static void
time_passes(void)
{
	if (resume_timer == NULL || !evtimer_pending(resume_timer, NULL))
		return;
	evtimer_del(resume_timer);
	resume_cb(-1, EV_TIMEOUT, NULL);
	settle();
}

/* ------------------------------------------------------------------ */
/* the guest's bytes */

static void
guest_write(const void *p, size_t len)
{
	if (write(fz.guest_fd, p, len) != (ssize_t)len)
		abort();
}

static void
guest_say(uint32_t type, uint32_t id, const char *payload)
{
	uint8_t	 hdr[AP_HDR_LEN];

	if (ap_header(hdr, type, id, strlen(payload)) == -1)
		abort();
	guest_write(hdr, sizeof(hdr));
	guest_write(payload, strlen(payload));
}

/* Bytes from the guest, chunk at a time; the event loop reads them. */
static void
feed(const uint8_t *p, size_t len, size_t chunk)
{
	ssize_t	 w;
	size_t	 n;
	int	 stuck = 0;

	while (len > 0 && vm.done_reason == 0) {
		n = chunk == 0 || chunk > len ? len : chunk;
		if ((w = write(fz.guest_fd, p, n)) == -1) {
			if (errno != EAGAIN)
				abort();
			if (++stuck > 2)
				return;		/* the vmm reads no more */
			time_passes();
			settle();
			continue;
		}
		stuck = 0;
		p += w;
		len -= w;
		settle();
	}
}

/* ------------------------------------------------------------------ */
/* the supervisor: what it asks the vmm for */

/* A message as the vmm's dispatcher hands it over. */
static void
sup_send(void (*fn)(struct imsg *), uint32_t type, const void *d1,
    size_t l1, const void *d2, size_t l2, int fd)
{
	struct imsg	 m;
	uint8_t		*buf;

	if ((buf = malloc(l1 + l2 + 1)) == NULL)
		abort();
	memcpy(buf, d1, l1);
	if (l2 > 0)
		memcpy(buf + l1, d2, l2);
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = IMSG_HEADER_SIZE + l1 + l2;
	m.hdr.peerid = H_GUEST;
	m.hdr.flags = fd != -1 ? IMSGF_HASFD : 0;
	m.data = buf;
	m.datalen = l1 + l2;
	m.fd = fd;
	fn(&m);
	FUZZ_ASSERT(m.fd == -1);		/* the vmm took the fd */
	free(buf);
}

static void
op_exec(uint8_t arg)
{
	struct mvm_vmm_exec	 ve;
	struct hexec		*x;
	char			 blob[128];
	size_t			 len;

	if (fz.nx == H_EXECS)
		return;
	memset(&ve, 0, sizeof(ve));
	ve.ve_id = ++fz.next_id;
	memcpy(blob, "/bin/sh\0-c\0echo hi", len = 19);
	ve.ve_argc = 3;
	if (arg & 0x01) {
		memcpy(blob + len, "LANG=C", 7);
		len += 7;
		ve.ve_envc = 1;
	}
	if (arg & 0x02) {
		memcpy(blob + len, "/run/token=dG9rZW4=", 20);
		len += 20;
		ve.ve_filec = 1;
	}
	if (arg & 0x04)
		ve.ve_flags = MVM_EXEC_STDIN;
	ve.ve_seccomp = AP_TIER_ESSENTIAL + (arg >> 3) % 5;
	/* the users by turns: root, the default one, one of its own */
	ve.ve_uid = fz.next_id % 3 == 0 ? AP_UID_ROOT : fz.next_id % 3 == 1 ?
	    AP_UID_USER : AP_UID_EXEC + fz.next_id % AP_UID_EXEC_N;
	if (ve.ve_uid == AP_UID_ROOT)
		ve.ve_flags |= MVM_EXEC_ROOT;
	ve.ve_timeout_ms = arg & 0x40 ? 5000 : 0;
	ve.ve_stdout_max = 65536;
	if (arg & 0x80)
		(void)strlcpy(ve.ve_cwd, "/tmp", sizeof(ve.ve_cwd));
	x = &fz.x[fz.nx++];
	x->hx_id = ve.ve_id;
	x->hx_live = 1;
	x->hx_started = 0;
	sup_send(agent_exec, IMSG_VMM_EXEC, &ve, sizeof(ve), blob, len, -1);
}

/* FILE_GET, or FILE_PUT with its data and end; one at a time */
static void
op_file(uint8_t arg, int put)
{
	struct mvm_vmm_file	 vf;
	struct mvm_vmm_data	 vd;
	uint8_t			 data[256];

	if (fz.file_id != 0)
		return;
	memset(&vf, 0, sizeof(vf));
	vf.vf_id = fz.file_id = ++fz.next_id;
	fz.file_put = put;
	if (!put) {
		vf.vf_size = fz.file_max = (arg + 1) * 64;
		fz.file_got = 0;
		(void)strlcpy(vf.vf_path, "/etc/hostname", sizeof(vf.vf_path));
		sup_send(agent_file_get, IMSG_VMM_FILE_GET, &vf, sizeof(vf),
		    NULL, 0, -1);
		return;
	}
	vf.vf_mode = 0644;
	vf.vf_size = arg;
	(void)strlcpy(vf.vf_path, "/tmp/x", sizeof(vf.vf_path));
	sup_send(agent_file_put, IMSG_VMM_FILE_PUT, &vf, sizeof(vf), NULL, 0,
	    -1);
	memset(&vd, 0, sizeof(vd));
	vd.vd_id = vf.vf_id;
	memset(data, 'p', sizeof(data));
	sup_send(agent_file_data, IMSG_VMM_FILE_DATA, &vd, sizeof(vd), data,
	    arg, -1);
	sup_send(agent_file_end, IMSG_VMM_FILE_END, &vf, sizeof(vf), NULL, 0,
	    -1);
}

/* arg & 0x0f: which EXEC (any sent, ended or not); arg >> 4: n or signal */
static void
op_stdin_signal(uint8_t arg, int sig)
{
	struct mvm_vmm_data	 vd;
	struct mvm_vmm_signal	 vs;
	uint32_t		 id;

	if (fz.nx == 0)
		return;
	id = fz.x[(arg & 0x0f) % fz.nx].hx_id;
	if (sig) {
		memset(&vs, 0, sizeof(vs));
		vs.vs_id = id;
		vs.vs_signal = (arg >> 4) + 1;
		sup_send(agent_signal, IMSG_VMM_SIGNAL, &vs, sizeof(vs), NULL,
		    0, -1);
		return;
	}
	memset(&vd, 0, sizeof(vd));
	vd.vd_id = id;
	sup_send(agent_stdin, IMSG_VMM_STDIN, &vd, sizeof(vd),
	    "0123456789abcdef", arg >> 4, -1);
}

/* arg % 8: 0-4 refused (reason arg % 8 + 1), 5-7 a connected socket */
static void
op_net(uint8_t arg)
{
	struct mvm_vmm_net	 vn;
	struct hflow		*f = NULL;
	int			 i, sv[2];

	for (i = 0; i < fz.nfl && f == NULL; i++)
		if (fz.fl[i].hf_state == HF_ASKED)
			f = &fz.fl[i];
	if (f == NULL)
		return;
	memset(&vn, 0, sizeof(vn));
	vn.vn_id = f->hf_id;
	if (arg % 8 < 5) {
		vn.vn_reason = arg % 8 + 1;
		hflow_drop(f);
		sup_send(net_refused, IMSG_VMM_NET_REFUSED, &vn, sizeof(vn),
		    NULL, 0, -1);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		abort();
	f->hf_state = HF_OPEN;
	f->hf_fd = sv[1];
	sup_send(net_fd, IMSG_VMM_NET_FD, &vn, sizeof(vn), NULL, 0, sv[0]);
}

/*
 * A remote: arg & 3 what (send (arg >> 4) + 1 KiB, end its direction,
 * go away, stop or go on reading), (arg >> 2) & 3 which open flow.
 */
static void
op_remote(uint8_t arg)
{
	static uint8_t	 buf[16 * 1024];
	struct hflow	*f, *open_[AP_NET_FLOWS_MAX];
	int		 i, n = 0;

	for (i = 0; i < fz.nfl; i++)
		if (fz.fl[i].hf_fd != -1)
			open_[n++] = &fz.fl[i];
	if (n == 0)
		return;
	f = open_[((arg >> 2) & 3) % n];
	switch (arg & 3) {
	case 0:
		/* as much as the socket takes */
		memset(buf, 'r', sizeof(buf));
		if (write(f->hf_fd, buf, ((arg >> 4) + 1) * 1024) == -1)
			FUZZ_ASSERT(errno == EAGAIN || errno == EPIPE);
		break;
	case 1:
		(void)shutdown(f->hf_fd, SHUT_WR);
		break;
	case 2:
		close(f->hf_fd);
		f->hf_fd = -1;
		break;
	case 3:
		f->hf_noread = !f->hf_noread;
		break;
	}
}

/* ------------------------------------------------------------------ */

/*
 * A segment's guest bytes as they are or, with flags & 0x80, as one
 * frame (type, id, payload) whose length the harness writes: then a
 * payload can grow and shrink under the fuzzer and stay a frame.
 */
static void
guest_bytes(const uint8_t *p, size_t len, size_t chunk)
{
	uint8_t		*f;
	uint32_t	 type, id;

	if (!fz.fixlen || len < 8) {
		feed(p, len, chunk);
		return;
	}
	type = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
	id = (uint32_t)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
	if ((f = malloc(AP_HDR_LEN + len - 8)) == NULL)
		abort();
	if (ap_header(f, type, id, len - 8) == 0) {
		memcpy(f + AP_HDR_LEN, p + 8, len - 8);
		feed(f, AP_HDR_LEN + len - 8, chunk);
	} else
		feed(p, len, chunk);	/* larger than a frame */
	free(f);
}

static void
segment(const uint8_t *p, size_t len, size_t chunk)
{
	uint8_t	 op = len > 0 ? p[0] : 0, arg = len > 1 ? p[1] : 0;
	int	 i;

	switch (op % VA_MAX) {
	case VA_EXEC:
		op_exec(arg);
		break;
	case VA_GET:
	case VA_PUT:
		op_file(arg, op % VA_MAX == VA_PUT);
		break;
	case VA_STDIN:
	case VA_SIGNAL:
		op_stdin_signal(arg, op % VA_MAX == VA_SIGNAL);
		break;
	case VA_NET:
		op_net(arg);
		break;
	case VA_REMOTE:
		op_remote(arg);
		break;
	case VA_STOP:
		/* qemu_stop(): a clean power-off first */
		if (vm.stopping == 0 && vm.ready &&
		    vm.done_reason != MVM_DONE_PROTOCOL) {
			vm.stopping = 1;
			agent_shutdown();
		}
		break;
	case VA_SLOW:
		fz.slow = !fz.slow;
		break;
	}
	settle();
	if (len > 2)
		guest_bytes(p + 2, len - 2, chunk);
	for (i = 0; i < 4 && vm.agent_paused; i++)
		time_passes();
}

/* A vmm whose guest has just connected its agent channel. */
static void
h_start(int flags)
{
	struct timeval	 boot = { 60, 0 };
	int		 i, sv[2], sndbuf = 4096;

	memset(&fz, 0, sizeof(fz));
	fz.fixlen = (flags & 0x80) != 0;
	grb.r_len = grb.r_off = grb.r_broken = 0;
	vm.vc.vc_guest = H_GUEST;
	(void)strlcpy(vm.vc.vc_name, "g1", sizeof(vm.vc.vc_name));
	(void)strlcpy(vm.qemu_version, "7.2.0", sizeof(vm.qemu_version));
	for (i = 0; i < (flags & 0x03); i++) {
		(void)strlcpy(vm.grants[i].vn_host, grants[i].g_host,
		    sizeof(vm.grants[i].vn_host));
		vm.grants[i].vn_port = grants[i].g_port;
	}
	vm.ngrants = flags & 0x03;
	if (flags & 0x04) {
		vm.vc.vc_net_mib = 1;
		bytes_total = 1024 * 1024 - 1024;
	}
	/* the supervisor's socket: small, so that messages queue */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1 || setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1 || peer_init(&vm.parent, vm.base, sv[0],
	    MVM_IMSG_MAX, sup_dispatch, sup_closed, NULL, "parent") == -1 ||
	    imsgbuf_init(&fz.sup_ib, sv[1], MVM_IMSG_MAX) == -1)
		abort();
	fz.sup_fd = sv[1];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1 || (vm.agent = bufferevent_socket_new(vm.base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		abort();
	fz.guest_fd = sv[1];
	evtimer_add(vm.boot_timer, &boot);
	agent_connected(vm.agent);
	if (flags & 0x08) {
		guest_say(AP_HELLO, 0, "{\"proto\":1,\"agent\":\"mvm-agent "
		    "0.1.0\",\"caps\":[\"exec\",\"net\"],\"uptime_ms\":812,"
		    "\"kernel\":\"6.1.0-28-amd64\"}");
		if (vm.ngrants > 0)
			guest_say(AP_OK, AP_ID_NETGRANTS, "");
	}
	settle();
}

/* QEMU goes away (qemu_reaped()), then everything is taken down. */
static void
h_end(void)
{
	struct event_base	*base;
	struct event		*timer;
	int			 i;

	fz.slow = 0;
	settle();
	for (i = 0; i < 16 && vm.agent_paused && vm.done_reason == 0; i++)
		time_passes();
	net_closeall();
	settle();
	for (i = 0; i < fz.nfl; i++)
		FUZZ_ASSERT(fz.fl[i].hf_state != HF_OPEN);	/* reported */
	while (fz.nfl > 0)
		hflow_drop(&fz.fl[0]);

	if (resume_timer != NULL)
		evtimer_del(resume_timer);
	evtimer_del(vm.boot_timer);
	bufferevent_free(vm.agent);
	ap_rbuf_free(&vm.rbuf);
	peer_shutdown(&vm.parent);
	imsgbuf_clear(&fz.sup_ib);
	close(fz.sup_fd);
	close(fz.guest_fd);
	/* bufferevents are finalized by the loop: their fds close there */
	for (i = 0; i < 2; i++)
		(void)event_base_loop(vm.base, EVLOOP_NONBLOCK);

	memset(reqs, 0, sizeof(reqs));
	req_clock = 0;
	id_seen = 0;
	bytes_total = 0;
	base = vm.base;
	timer = vm.boot_timer;
	memset(&vm, 0, sizeof(vm));
	vm.base = base;
	vm.boot_timer = timer;
	vm.consolefd = vm.qemu_errfd = -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct itimerval watchdog = { { 0, 0 }, { 20, 0 } };
	const uint8_t	*p, *end = data + size, *q;
	uint8_t		 before[FUZZ_FD_SCAN], after[FUZZ_FD_SCAN];
	size_t		 chunk;

	if (size < 1)
		return (0);
	h_init();
	fuzz_fd_snapshot(before);
	/* libFuzzer's -timeout is first; the watchdog is for the replay */
	if (setitimer(ITIMER_PROF, &watchdog, NULL) == -1)
		abort();
	in_input = 1;
	chunk = chunk_sizes[(data[0] >> 4) & 7];
	h_start(data[0]);
	for (p = data + 1; vm.done_reason == 0; p = q + FUZZ_SEP_LEN) {
		if ((q = memmem(p, end - p, FUZZ_SEP, FUZZ_SEP_LEN)) == NULL)
			q = end;
		segment(p, q - p, chunk);
		if (q == end)
			break;
	}
	h_end();
	in_input = 0;
	memset(&watchdog, 0, sizeof(watchdog));
	(void)setitimer(ITIMER_PROF, &watchdog, NULL);
	fuzz_fd_snapshot(after);
	FUZZ_ASSERT(memcmp(before, after, sizeof(before)) == 0);
	return (0);
}
