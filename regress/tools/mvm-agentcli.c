/*
 * mvm-agentcli: speak the agent protocol (agentproto.h) to a guest's
 * virtio-serial port through QEMU's unix socket chardev, for tests.
 *
 * usage: mvm-agentcli [-s tier] [-t seconds] [-w seconds] SOCKET STEP...
 *   -s	the "seccomp" member "exec" and "start" add to a JSON object that
 *	has none (default "standard"; "" adds none)
 *   -t	per-step timeout (default 30); -w wait for the socket (default 0)
 * Steps (one line of output each, "TYPE payload"):
 *   hello			HELLO proto 1..1
 *   exec JSON PREFIX		EXEC JSON and wait for its end; stdout and
 *				stderr go to PREFIX.out and PREFIX.err, the
 *				EXIT payload to PREFIX.exit; with
 *				"stdin":true, PREFIX.in is sent as stdin
 *   start JSON PREFIX		EXEC, not waiting; prints STARTED or ERROR
 *   wait PREFIX		wait for a started EXEC's end
 *   signal PREFIX N		SIGNAL N to a started EXEC
 *   stdin PREFIX TEXT		send TEXT as stdin ("" closes it)
 *   put LOCAL REMOTE MODE	FILE_PUT (MODE octal)
 *   get REMOTE LOCAL MAX	FILE_GET into LOCAL
 *   ping JSON			PING
 *   shutdown			SHUTDOWN
 *   send TYPE ID PAYLOAD	a raw frame (TYPE: name or number)
 *   sendhex HEX		raw bytes
 *   recv ID			the next frame with this id ("any": any id)
 *				that no EXEC claims: "TYPE ID payload"
 *   eof			wait until the other side closes
 *   reconnect MS		send what is queued, close the connection, wait
 *				MS milliseconds (0: none) and connect again:
 *				a new session, so "hello" again; EXECs and
 *				flows of the old one are forgotten
 *   sleep MS
 *   netgrants JSON		NET_GRANTS (id AP_ID_NETGRANTS): OK or ERROR
 *   netpeer [HOST=]MODE	play the host for flows from now on: each
 *				NET_OPEN is printed ("NET_OPEN id {...}")
 *				and answered by the MODE of its host (or the
 *				default one, without HOST=):
 *		echo		NET_OPENED; the flow's bytes come back, its
 *				end too, with NET_ACKs and the window kept
 *		http		NET_OPENED; to a request head, an HTTP 200
 *				whose body is that head, then the end
 *		hold		no answer
 *		flood[:N]	NET_OPENED, then N windows of bytes (4)
 *		fill		NET_OPENED, then bytes within the window
 *				until the guest has not acknowledged any for
 *				FILL_IDLE_MS; then the end and NET_CLOSE at
 *				once, and "NET_FILL id bytes" is printed
 *		refuse:REASON	NET_REFUSED {"reason":"REASON"}
 *				The guest's NET_CLOSE prints "NET_CLOSE id";
 *				a guest going past the window is an error.
 * Exit status: 0 when every step got its answer, 2 on a timeout, 3 if
 * the connection closed early, 1 on other errors.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agentproto.h"

#define AUTO_ID		1000	/* ids for steps start here */
#define MAX_EXECS	16
#define WBUF_HIGH	(256 * 1024)
#define IN_CHUNK	(64 * 1024)
#define HELLO_JSON	"{\"proto_min\":1,\"proto_max\":1," \
			    "\"host\":\"mvm-agentcli\"}"
#define PEER_RULES	32
#define PEER_FLOWS	256
#define PEER_REQ_MAX	(64 * 1024)
#define FILL_IDLE_MS	500

enum { PM_ECHO = 1, PM_HTTP, PM_HOLD, PM_FLOOD, PM_REFUSE, PM_FILL };

struct prule {
	char		 pr_host[256];	/* "": the default */
	char		 pr_mode[128];
};

/* A flow, as the host side sees it. */
struct pflow {
	uint32_t	 pf_id;		/* 0: free */
	int		 pf_mode;
	uint8_t		*pf_out;	/* to send to the guest */
	size_t		 pf_olen;
	size_t		 pf_ocap;
	size_t		 pf_unacked;	/* sent, not acked by the guest */
	size_t		 pf_held;	/* received, not acked to it */
	int		 pf_inend;	/* the guest ended its direction */
	int		 pf_end;	/* end ours once pf_out is sent */
	int		 pf_ended;
	char		*pf_req;	/* http: the request so far */
	size_t		 pf_rlen;
	size_t		 pf_sent;	/* fill: bytes sent */
	uint64_t	 pf_acked_at;	/* fill: last NET_ACK, ms */
};

struct cexec {
	char		 ce_prefix[256];
	uint32_t	 ce_id;
	FILE		*ce_out;
	FILE		*ce_err;
	int		 ce_in;		/* PREFIX.in, -1: none or sent */
	int		 ce_started;
	int		 ce_done;
	char		*ce_end;	/* "EXIT {...}" or "ERROR {...}" */
};

struct reply {
	struct reply	*r_next;
	uint32_t	 r_type;
	uint32_t	 r_id;
	size_t		 r_len;
	uint8_t		 r_data[];
};

static int		 sock = -1;
static const char	*sock_path;
static struct ap_rbuf	 rb;
static uint8_t		*wbuf;
static size_t		 wlen, wcap;
static struct cexec	 execs[MAX_EXECS];
static int		 nexecs;
static struct reply	*replies, **rtail = &replies;
static uint32_t		 next_id = AUTO_ID;
static int		 step_timeout = 30;
static const char	*tier = "standard";
static int		 eof_seen;
static struct prule	 rules[PEER_RULES];
static int		 nrules;
static struct pflow	 pflows[PEER_FLOWS];

static void	 usage(void) __attribute__((noreturn));
static char	*exec_json(const char *);
static uint64_t	 msnow(void);
static void	 connect_sock(const char *, int);
static void	 queue(uint32_t, uint32_t, const void *, size_t);
static void	 feed_stdin(void);
static void	 take_frames(void);
static void	 on_frame(const struct ap_frame *);
static int	 exec_frame(const struct ap_frame *);
static int	 pump(uint64_t);
static struct reply *await(uint32_t, int);
static void	 print_reply(const struct reply *, int);
static struct cexec *cexec_find(const char *);
static int	 step_exec(const char *, const char *, int);
static int	 step_wait(struct cexec *);
static int	 step_put(const char *, const char *, const char *);
static int	 step_get(const char *, const char *, const char *);
static int	 step_hex(const char *);
static int	 step_netpeer(const char *);
static int	 step_reconnect(const char *);
static uint32_t	 type_of(const char *);
static int	 peer_frame(const struct ap_frame *);
static void	 peer_open(const struct ap_frame *);
static void	 peer_data(struct pflow *, const struct ap_frame *);
static void	 peer_append(struct pflow *, const void *, size_t);
static void	 peer_ack(uint32_t, size_t);
static void	 peer_pump(void);
static void	 peer_fill(struct pflow *);
static struct pflow *peer_find(uint32_t);
static int	 run_step(char **, int, int *);

static void
usage(void)
{
	fprintf(stderr, "usage: mvm-agentcli [-s tier] [-t seconds] "
	    "[-w seconds] SOCKET STEP...\n");
	exit(1);
}

static uint64_t
msnow(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static struct pflow *
peer_find(uint32_t id)
{
	int	 i;

	for (i = 0; i < PEER_FLOWS; i++)
		if (pflows[i].pf_id == id)
			return (&pflows[i]);
	return (NULL);
}

/* Frames of flows once "netpeer" ran: 1 if this one was taken. */
static int
peer_frame(const struct ap_frame *f)
{
	struct pflow	*pf;
	json_t		*o;
	json_int_t	 n;

	if (nrules == 0 || f->f_id <= AP_ID_GUEST ||
	    f->f_id > AP_ID_GUEST_LAST)
		return (0);
	if (f->f_type == AP_NET_OPEN) {
		peer_open(f);
		return (1);
	}
	if ((pf = peer_find(f->f_id)) == NULL)
		return (f->f_type == AP_NET_DATA || f->f_type == AP_NET_ACK ||
		    f->f_type == AP_NET_CLOSE);
	switch (f->f_type) {
	case AP_NET_DATA:
		peer_data(pf, f);
		return (1);
	case AP_NET_ACK:
		o = json_loadb((const char *)f->f_data, f->f_len, 0, NULL);
		n = json_integer_value(json_object_get(o, "bytes"));
		json_decref(o);
		if (n <= 0 || (size_t)n > pf->pf_unacked)
			errx(1, "flow %u: NET_ACK of %lld bytes, %zu unacked",
			    f->f_id, (long long)n, pf->pf_unacked);
		pf->pf_unacked -= n;
		pf->pf_acked_at = msnow();
		return (1);
	case AP_NET_CLOSE:
		printf("NET_CLOSE %u\n", f->f_id);
		free(pf->pf_out);
		free(pf->pf_req);
		memset(pf, 0, sizeof(*pf));
		return (1);
	}
	return (0);
}

static void
peer_open(const struct ap_frame *f)
{
	static const char *const modes[] = { "", "echo", "http", "hold",
	    "flood", "refuse:", "fill" };
	struct pflow	*pf;
	json_t		*o;
	const char	*host, *mode = NULL;
	char		*js;
	uint8_t		 junk[IN_CHUNK];
	long		 n;
	int		 i, m;

	printf("NET_OPEN %u %.*s\n", f->f_id, (int)f->f_len, f->f_data);
	o = json_loadb((const char *)f->f_data, f->f_len, 0, NULL);
	if ((host = json_string_value(json_object_get(o, "host"))) == NULL)
		errx(1, "NET_OPEN %u without a host", f->f_id);
	for (i = 0; i < nrules; i++)
		if (strcmp(rules[i].pr_host, host) == 0 ||
		    (mode == NULL && rules[i].pr_host[0] == '\0'))
			mode = rules[i].pr_mode;
	json_decref(o);
	for (m = PM_FILL; m > 0; m--)
		if (strncmp(mode, modes[m], strlen(modes[m])) == 0)
			break;
	if (m == 0)
		errx(1, "netpeer: no mode for a NET_OPEN of %s", host);
	if (m == PM_REFUSE) {
		o = json_pack("{s:s}", "reason", mode + strlen(modes[m]));
		js = json_dumps(o, JSON_COMPACT);
		queue(AP_NET_REFUSED, f->f_id, js, strlen(js));
		free(js);
		json_decref(o);
		return;
	}
	if ((pf = peer_find(0)) == NULL)
		errx(1, "netpeer: too many flows");
	pf->pf_id = f->f_id;
	pf->pf_mode = m;
	if (m == PM_HOLD)
		return;
	queue(AP_NET_OPENED, f->f_id, "{}", 2);
	pf->pf_acked_at = msnow();
	if (m != PM_FLOOD)
		return;
	memset(junk, 'x', sizeof(junk));
	n = mode[strlen(modes[m])] == ':' ?
	    strtol(mode + strlen(modes[m]) + 1, NULL, 10) : 0;
	for (i = 0; i < (n > 0 ? n : 4) * AP_NET_WINDOW / IN_CHUNK; i++) {
		queue(AP_NET_DATA, f->f_id, junk, sizeof(junk));
		pf->pf_unacked += sizeof(junk);
	}
}

static void
peer_data(struct pflow *pf, const struct ap_frame *f)
{
	static const char head[] = "HTTP/1.0 200 OK\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n";
	char		 hdr[256];
	uint8_t		*end;
	size_t		 n;

	if (pf->pf_inend)
		errx(1, "flow %u: NET_DATA after its end", pf->pf_id);
	if (f->f_len == 0) {
		pf->pf_inend = 1;
		if (pf->pf_mode == PM_ECHO || (pf->pf_mode == PM_HTTP &&
		    pf->pf_req != NULL))
			pf->pf_end = 1;
		return;
	}
	if ((pf->pf_held += f->f_len) > AP_NET_WINDOW)
		errx(1, "flow %u: the guest sent %zu bytes unacknowledged",
		    pf->pf_id, pf->pf_held);
	if (pf->pf_mode == PM_ECHO) {
		peer_append(pf, f->f_data, f->f_len);	/* acked once sent */
		return;
	}
	peer_ack(pf->pf_id, f->f_len);
	pf->pf_held -= f->f_len;
	if (pf->pf_mode != PM_HTTP || pf->pf_end)
		return;
	if (pf->pf_rlen + f->f_len > PEER_REQ_MAX)
		errx(1, "flow %u: request too long", pf->pf_id);
	if ((pf->pf_req = realloc(pf->pf_req, PEER_REQ_MAX)) == NULL)
		err(1, "realloc");
	memcpy(pf->pf_req + pf->pf_rlen, f->f_data, f->f_len);
	pf->pf_rlen += f->f_len;
	if ((end = memmem(pf->pf_req, pf->pf_rlen, "\r\n\r\n", 4)) == NULL)
		return;
	n = (char *)end + 4 - pf->pf_req;
	snprintf(hdr, sizeof(hdr), head, n);
	peer_append(pf, hdr, strlen(hdr));
	peer_append(pf, pf->pf_req, n);
	pf->pf_end = 1;
}

static void
peer_append(struct pflow *pf, const void *p, size_t len)
{
	if (pf->pf_olen + len > pf->pf_ocap) {
		pf->pf_ocap = (pf->pf_olen + len) * 2;
		if ((pf->pf_out = realloc(pf->pf_out, pf->pf_ocap)) == NULL)
			err(1, "realloc");
	}
	memcpy(pf->pf_out + pf->pf_olen, p, len);
	pf->pf_olen += len;
}

static void
peer_ack(uint32_t id, size_t n)
{
	char	 js[64];

	snprintf(js, sizeof(js), "{\"bytes\":%zu}", n);
	queue(AP_NET_ACK, id, js, strlen(js));
}

/* Send what the flows hold, within the guest's window. */
static void
peer_pump(void)
{
	struct pflow	*pf;
	size_t		 k;
	int		 i;

	for (i = 0; i < PEER_FLOWS; i++) {
		pf = &pflows[i];
		if (pf->pf_id == 0)
			continue;
		if (pf->pf_mode == PM_FILL) {
			peer_fill(pf);
			continue;
		}
		while (pf->pf_olen > 0 && pf->pf_unacked < AP_NET_WINDOW &&
		    wlen < WBUF_HIGH) {
			k = AP_NET_WINDOW - pf->pf_unacked;
			if (k > pf->pf_olen)
				k = pf->pf_olen;
			if (k > IN_CHUNK)
				k = IN_CHUNK;
			queue(AP_NET_DATA, pf->pf_id, pf->pf_out, k);
			pf->pf_unacked += k;
			memmove(pf->pf_out, pf->pf_out + k, pf->pf_olen - k);
			pf->pf_olen -= k;
			if (pf->pf_mode == PM_ECHO) {
				peer_ack(pf->pf_id, k);
				pf->pf_held -= k;
			}
		}
		if (pf->pf_olen == 0 && pf->pf_end && !pf->pf_ended) {
			queue(AP_NET_DATA, pf->pf_id, NULL, 0);
			pf->pf_ended = 1;
		}
	}
}

/*
 * fill: keep the window full; once the guest has acknowledged nothing
 * for FILL_IDLE_MS (its socket and its ring are full), end the flow and
 * close it at once, as a host that does not wait for NET_ACKs would.
 */
static void
peer_fill(struct pflow *pf)
{
	static uint8_t	 junk[IN_CHUNK];
	size_t		 k;

	memset(junk, 'f', sizeof(junk));
	while (pf->pf_unacked < AP_NET_WINDOW && wlen < WBUF_HIGH) {
		k = AP_NET_WINDOW - pf->pf_unacked;
		if (k > sizeof(junk))
			k = sizeof(junk);
		queue(AP_NET_DATA, pf->pf_id, junk, k);
		pf->pf_unacked += k;
		pf->pf_sent += k;
	}
	if (pf->pf_unacked < AP_NET_WINDOW ||
	    msnow() - pf->pf_acked_at < FILL_IDLE_MS)
		return;
	queue(AP_NET_DATA, pf->pf_id, NULL, 0);
	queue(AP_NET_CLOSE, pf->pf_id, "{}", 2);
	printf("NET_FILL %u %zu\n", pf->pf_id, pf->pf_sent);
	free(pf->pf_out);
	free(pf->pf_req);
	memset(pf, 0, sizeof(*pf));
}

static void
connect_sock(const char *path, int wait_s)
{
	struct sockaddr_un	 sun;
	uint64_t		 until = msnow() + (uint64_t)wait_s * 1000;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		errx(1, "%s: path too long", path);
	(void)strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	for (;;) {
		if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			err(1, "socket");
		if (connect(sock, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		if (msnow() >= until)
			err(1, "connect %s", path);
		close(sock);
		usleep(10 * 1000);
	}
	if (fcntl(sock, F_SETFL, O_NONBLOCK) == -1)
		err(1, "fcntl");
}

static void
queue(uint32_t type, uint32_t id, const void *p, size_t len)
{
	if (wlen + AP_HDR_LEN + len > wcap) {
		wcap = (wlen + AP_HDR_LEN + len) * 2;
		if ((wbuf = realloc(wbuf, wcap)) == NULL)
			err(1, "realloc");
	}
	if (ap_header(wbuf + wlen, type, id, len) == -1)
		errx(1, "payload of %zu bytes is too large", len);
	if (len > 0)
		memcpy(wbuf + wlen + AP_HDR_LEN, p, len);
	wlen += AP_HDR_LEN + len;
}

/* Stdin of started EXECs, a chunk at a time while the socket keeps up. */
static void
feed_stdin(void)
{
	static uint8_t	 buf[IN_CHUNK];
	ssize_t		 n;
	int		 i;

	for (i = 0; i < nexecs && wlen < WBUF_HIGH; i++) {
		if (execs[i].ce_in == -1 || !execs[i].ce_started ||
		    execs[i].ce_done)
			continue;
		if ((n = read(execs[i].ce_in, buf, sizeof(buf))) == -1)
			err(1, "read %s.in", execs[i].ce_prefix);
		queue(AP_STDIN, execs[i].ce_id, buf, n);
		if (n == 0) {
			close(execs[i].ce_in);
			execs[i].ce_in = -1;
		}
	}
}

/* Frames of a running EXEC: 1 if this one was its, 0 if not. */
static int
exec_frame(const struct ap_frame *f)
{
	struct cexec	*ce = NULL;
	int		 i;

	for (i = 0; i < nexecs; i++)
		if (execs[i].ce_id == f->f_id && !execs[i].ce_done)
			ce = &execs[i];
	if (ce == NULL)
		return (0);
	switch (f->f_type) {
	case AP_STARTED:
		ce->ce_started = 1;
		return (0);		/* "start" prints it */
	case AP_STDOUT:
	case AP_STDERR:
		if (fwrite(f->f_data, 1, f->f_len, f->f_type == AP_STDOUT ?
		    ce->ce_out : ce->ce_err) != f->f_len)
			err(1, "write");
		return (1);
	case AP_ERROR:
		if (ce->ce_started)
			return (0);	/* about a STDIN or SIGNAL */
		/* FALLTHROUGH */
	case AP_EXIT:
		if (asprintf(&ce->ce_end, "%s %.*s", ap_type_name(f->f_type),
		    (int)f->f_len, f->f_data) == -1)
			err(1, "asprintf");
		ce->ce_done = 1;
		ce->ce_started = 1;
		fclose(ce->ce_out);
		fclose(ce->ce_err);
		if (ce->ce_in != -1)
			close(ce->ce_in);
		ce->ce_in = -1;
		return (1);
	}
	return (0);
}

static void
on_frame(const struct ap_frame *f)
{
	struct reply	*r;

	if (exec_frame(f) || peer_frame(f))
		return;
	if ((r = malloc(sizeof(*r) + f->f_len)) == NULL)
		err(1, "malloc");
	r->r_next = NULL;
	r->r_type = f->f_type;
	r->r_id = f->f_id;
	r->r_len = f->f_len;
	memcpy(r->r_data, f->f_data, f->f_len);
	*rtail = r;
	rtail = &r->r_next;
}

static void
take_frames(void)
{
	struct ap_frame	 f;
	int		 r;

	while ((r = ap_take(&rb, &f)) == 1)
		on_frame(&f);
	if (r == -1)
		errx(1, "framing error from the agent");
}

/* One round of I/O, waiting until the deadline.  0, or -1 on EOF. */
static int
pump(uint64_t deadline)
{
	struct pollfd	 pfd;
	uint64_t	 now = msnow();
	uint8_t		*p;
	size_t		 avail;
	ssize_t		 n;
	int		 i;

	feed_stdin();
	peer_pump();
	pfd.fd = sock;
	pfd.events = POLLIN | (wlen > 0 ? POLLOUT : 0);
	for (i = 0; i < PEER_FLOWS; i++)
		if (pflows[i].pf_id != 0 && pflows[i].pf_mode == PM_FILL &&
		    deadline > now + FILL_IDLE_MS / 5)
			deadline = now + FILL_IDLE_MS / 5;
	if (poll(&pfd, 1, deadline > now ? (int)(deadline - now) : 0) == -1)
		err(1, "poll");
	if ((pfd.revents & POLLOUT) &&
	    (n = write(sock, wbuf, wlen)) > 0) {
		memmove(wbuf, wbuf + n, wlen - n);
		wlen -= n;
	}
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		p = ap_rbuf_space(&rb, &avail);
		n = read(sock, p, avail);
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			eof_seen = 1;
			return (-1);
		}
		if (n > 0) {
			ap_rbuf_fill(&rb, n);
			take_frames();
		}
	}
	return (0);
}

/* The next reply with this id (any id if any_id); NULL on timeout/EOF. */
static struct reply *
await(uint32_t id, int any_id)
{
	struct reply	**rp, *r;
	uint64_t	 deadline = msnow() + (uint64_t)step_timeout * 1000;

	for (;;) {
		for (rp = &replies; *rp != NULL; rp = &(*rp)->r_next)
			if (any_id || (*rp)->r_id == id) {
				r = *rp;
				if ((*rp = r->r_next) == NULL)
					rtail = rp;
				return (r);
			}
		if (msnow() >= deadline || pump(deadline) == -1)
			return (NULL);
	}
}

static void
print_reply(const struct reply *r, int with_id)
{
	int	 data = r->r_type == AP_STDOUT || r->r_type == AP_STDERR ||
		    r->r_type == AP_FILE_DATA;

	printf("%s", ap_type_name(r->r_type));
	if (with_id)
		printf(" %u", r->r_id);
	if (data)
		printf(" <%zu bytes>\n", r->r_len);
	else
		printf(" %.*s\n", (int)r->r_len, r->r_data);
}

static struct cexec *
cexec_find(const char *prefix)
{
	int	 i;

	for (i = 0; i < nexecs; i++)
		if (strcmp(execs[i].ce_prefix, prefix) == 0)
			return (&execs[i]);
	errx(1, "no exec named %s", prefix);
}

/*
 * The EXEC payload: js with "seccomp" added if it is a JSON object
 * without one and -s names a tier; js as it is otherwise.
 */
static char *
exec_json(const char *js)
{
	json_t	*o;
	char	*s;

	o = json_loads(js, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o) || *tier == '\0' ||
	    json_object_get(o, "seccomp") != NULL)
		s = strdup(js);
	else {
		json_object_set_new(o, "seccomp", json_string(tier));
		s = json_dumps(o, JSON_COMPACT);
	}
	json_decref(o);
	if (s == NULL)
		err(1, "exec payload");
	return (s);
}

static int
step_exec(const char *js, const char *prefix, int wait)
{
	struct cexec	*ce;
	struct reply	*r;
	json_t		*o;
	char		 path[300], *payload;
	uint64_t	 deadline;

	if (nexecs == MAX_EXECS)
		errx(1, "too many execs");
	ce = &execs[nexecs++];
	memset(ce, 0, sizeof(*ce));
	snprintf(ce->ce_prefix, sizeof(ce->ce_prefix), "%s", prefix);
	ce->ce_id = next_id++;
	ce->ce_in = -1;
	snprintf(path, sizeof(path), "%s.out", prefix);
	if ((ce->ce_out = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	snprintf(path, sizeof(path), "%s.err", prefix);
	if ((ce->ce_err = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	o = json_loads(js, 0, NULL);
	if (o != NULL && json_is_true(json_object_get(o, "stdin"))) {
		snprintf(path, sizeof(path), "%s.in", prefix);
		if ((ce->ce_in = open(path, O_RDONLY)) == -1)
			err(1, "%s", path);
	}
	json_decref(o);
	payload = exec_json(js);
	queue(AP_EXEC, ce->ce_id, payload, strlen(payload));
	free(payload);
	if (wait)
		return (step_wait(ce));
	deadline = msnow() + (uint64_t)step_timeout * 1000;
	while (!ce->ce_started)
		if (msnow() >= deadline || pump(deadline) == -1)
			return (-1);
	for (r = replies; r != NULL; r = r->r_next)
		if (r->r_id == ce->ce_id && r->r_type == AP_STARTED)
			break;
	if (r != NULL) {
		r = await(ce->ce_id, 0);
		print_reply(r, 0);
		free(r);
	} else
		printf("%s\n", ce->ce_end);
	return (0);
}

static int
step_wait(struct cexec *ce)
{
	struct reply	*r;
	uint64_t	 deadline = msnow() + (uint64_t)step_timeout * 1000;
	char		 path[300];
	FILE		*fp;

	while (!ce->ce_done)
		if (msnow() >= deadline || pump(deadline) == -1)
			return (-1);
	/* drop the STARTED reply if "exec" did not print it */
	for (r = replies; r != NULL; r = r->r_next)
		if (r->r_id == ce->ce_id && r->r_type == AP_STARTED) {
			free(await(ce->ce_id, 0));
			break;
		}
	printf("%s\n", ce->ce_end);
	snprintf(path, sizeof(path), "%s.exit", ce->ce_prefix);
	if ((fp = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fprintf(fp, "%s\n", strchr(ce->ce_end, ' ') + 1);
	fclose(fp);
	return (0);
}

static int
step_put(const char *local, const char *remote, const char *mode)
{
	static uint8_t	 buf[IN_CHUNK];
	struct reply	*r;
	struct stat	 st;
	json_t		*o;
	char		*js;
	uint32_t	 id = next_id++;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(local, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", local);
	o = json_pack("{s:s,s:i,s:I}", "path", remote, "mode",
	    (int)strtol(mode, NULL, 8), "size", (json_int_t)st.st_size);
	js = json_dumps(o, JSON_COMPACT);
	queue(AP_FILE_PUT, id, js, strlen(js));
	free(js);
	json_decref(o);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		queue(AP_FILE_DATA, id, buf, n);
		while (wlen > WBUF_HIGH)
			if (pump(msnow() + 1000) == -1)
				return (-1);
	}
	close(fd);
	queue(AP_FILE_END, id, NULL, 0);
	if ((r = await(id, 0)) == NULL)
		return (-1);
	print_reply(r, 0);
	free(r);
	return (0);
}

static int
step_get(const char *remote, const char *local, const char *max)
{
	struct reply	*r;
	json_t		*o;
	char		*js;
	uint32_t	 id = next_id++;
	FILE		*fp;
	int		 end = 0;

	o = json_pack("{s:s,s:I}", "path", remote, "max",
	    (json_int_t)strtoll(max, NULL, 10));
	js = json_dumps(o, JSON_COMPACT);
	queue(AP_FILE_GET, id, js, strlen(js));
	free(js);
	json_decref(o);
	if ((fp = fopen(local, "w")) == NULL)
		err(1, "%s", local);
	while (!end) {
		if ((r = await(id, 0)) == NULL)
			return (-1);
		if (r->r_type == AP_FILE_DATA) {
			if (fwrite(r->r_data, 1, r->r_len, fp) != r->r_len)
				err(1, "%s", local);
		} else {
			print_reply(r, 0);
			end = 1;
		}
		free(r);
	}
	fclose(fp);
	return (0);
}

static int
step_hex(const char *hex)
{
	uint8_t		 b[4096];
	size_t		 n = 0;
	unsigned int	 v;

	while (hex[0] != '\0' && hex[1] != '\0' && n < sizeof(b)) {
		if (sscanf(hex, "%2x", &v) != 1)
			errx(1, "bad hex");
		b[n++] = v;
		hex += 2;
	}
	if (n == 0)
		return (0);
	if (wlen + n > wcap) {
		wcap = (wlen + n) * 2;
		if ((wbuf = realloc(wbuf, wcap)) == NULL)
			err(1, "realloc");
	}
	memcpy(wbuf + wlen, b, n);
	wlen += n;
	return (0);
}

static int
step_netpeer(const char *spec)
{
	const char	*eq = strchr(spec, '=');
	struct prule	*pr;

	if (nrules == PEER_RULES)
		errx(1, "too many netpeer rules");
	pr = &rules[nrules++];
	snprintf(pr->pr_host, sizeof(pr->pr_host), "%.*s",
	    eq != NULL ? (int)(eq - spec) : 0, spec);
	snprintf(pr->pr_mode, sizeof(pr->pr_mode), "%s",
	    eq != NULL ? eq + 1 : spec);
	return (0);
}

/*
 * Drop the connection after sending what is queued (bytes of a frame cut
 * short with "sendhex" too) and open a new one; what belonged to the old
 * session is forgotten.  Request ids go on counting, so an answer meant
 * for the old session cannot pass for one of the new.
 */
static int
step_reconnect(const char *ms)
{
	struct reply	*r;
	uint64_t	 until = msnow() + (uint64_t)step_timeout * 1000;
	int		 i;

	while (wlen > 0)
		if (msnow() >= until || pump(until) == -1)
			return (-1);
	close(sock);
	rb.r_len = rb.r_off = 0;
	rb.r_broken = 0;
	while ((r = replies) != NULL) {
		replies = r->r_next;
		free(r);
	}
	rtail = &replies;
	for (i = 0; i < nexecs; i++) {
		if (execs[i].ce_done) {
			free(execs[i].ce_end);
			continue;
		}
		fclose(execs[i].ce_out);
		fclose(execs[i].ce_err);
		if (execs[i].ce_in != -1)
			close(execs[i].ce_in);
	}
	nexecs = 0;
	for (i = 0; i < PEER_FLOWS; i++) {
		free(pflows[i].pf_out);
		free(pflows[i].pf_req);
	}
	memset(pflows, 0, sizeof(pflows));
	nrules = 0;
	usleep(strtoul(ms, NULL, 10) * 1000);
	connect_sock(sock_path, 0);
	return (0);
}

static uint32_t
type_of(const char *s)
{
	uint32_t	 t;

	for (t = 1; t < 200; t++)
		if (strcmp(ap_type_name(t), s) == 0)
			return (t);
	return (strtoul(s, NULL, 0));
}

/* Run the step at av[0]; sets *used to the words it took. */
static int
run_step(char **av, int ac, int *used)
{
	static const struct { const char *s; int n; } steps[] = {
		{ "hello", 0 }, { "exec", 2 }, { "start", 2 }, { "wait", 1 },
		{ "signal", 2 }, { "stdin", 2 }, { "put", 3 }, { "get", 3 },
		{ "ping", 1 }, { "shutdown", 0 }, { "send", 3 },
		{ "sendhex", 1 }, { "recv", 1 }, { "eof", 0 }, { "sleep", 1 },
		{ "netgrants", 1 }, { "netpeer", 1 }, { "reconnect", 1 },
	};
	struct reply	*r = NULL;
	const char	*s = av[0];
	char		 js[64];
	size_t		 i;
	uint32_t	 id = next_id;
	uint64_t	 until;
	int		 any = 0;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(s, steps[i].s) == 0)
			break;
	if (i == sizeof(steps) / sizeof(steps[0]) || ac < steps[i].n + 1)
		errx(1, "bad step \"%s\"", s);
	*used = steps[i].n + 1;
	if (strcmp(s, "exec") == 0 || strcmp(s, "start") == 0)
		return (step_exec(av[1], av[2], s[0] == 'e'));
	if (strcmp(s, "wait") == 0)
		return (step_wait(cexec_find(av[1])));
	if (strcmp(s, "put") == 0)
		return (step_put(av[1], av[2], av[3]));
	if (strcmp(s, "get") == 0)
		return (step_get(av[1], av[2], av[3]));
	if (strcmp(s, "sendhex") == 0)
		return (step_hex(av[1]));
	if (strcmp(s, "netpeer") == 0)
		return (step_netpeer(av[1]));
	if (strcmp(s, "reconnect") == 0)
		return (step_reconnect(av[1]));
	if (strcmp(s, "sleep") == 0) {
		until = msnow() + strtoul(av[1], NULL, 10);
		while (msnow() < until)
			if (pump(until) == -1)
				return (-1);
		return (0);
	}
	if (strcmp(s, "send") == 0) {
		queue(type_of(av[1]), strtoul(av[2], NULL, 0), av[3],
		    strlen(av[3]));
		return (0);
	}
	if (strcmp(s, "eof") == 0) {
		until = msnow() + (uint64_t)step_timeout * 1000;
		while (msnow() < until)
			if (pump(until) == -1) {
				printf("EOF\n");
				return (0);
			}
		return (-1);
	}
	if (strcmp(s, "hello") == 0) {
		next_id++;
		queue(AP_HELLO, id, HELLO_JSON, strlen(HELLO_JSON));
	} else if (strcmp(s, "signal") == 0) {
		id = cexec_find(av[1])->ce_id;
		snprintf(js, sizeof(js), "{\"signal\":%d}", atoi(av[2]));
		queue(AP_SIGNAL, id, js, strlen(js));
	} else if (strcmp(s, "stdin") == 0) {
		queue(AP_STDIN, cexec_find(av[1])->ce_id, av[2],
		    strlen(av[2]));
		return (0);
	} else if (strcmp(s, "netgrants") == 0) {
		id = AP_ID_NETGRANTS;
		queue(AP_NET_GRANTS, id, av[1], strlen(av[1]));
	} else if (strcmp(s, "ping") == 0) {
		next_id++;
		queue(AP_PING, id, av[1], strlen(av[1]));
	} else if (strcmp(s, "shutdown") == 0) {
		next_id++;
		queue(AP_SHUTDOWN, id, "{}", 2);
	} else if (strcmp(s, "recv") == 0) {
		any = strcmp(av[1], "any") == 0;
		id = strtoul(av[1], NULL, 0);
	}
	if ((r = await(id, any)) == NULL)
		return (-1);
	print_reply(r, s[0] == 'r');
	free(r);
	return (0);
}

int
main(int argc, char *argv[])
{
	int	 ch, wait_s = 0, used;

	while ((ch = getopt(argc, argv, "s:t:w:")) != -1) {
		switch (ch) {
		case 's':
			tier = optarg;
			break;
		case 't':
			step_timeout = atoi(optarg);
			break;
		case 'w':
			wait_s = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (ap_rbuf_init(&rb) == -1)
		err(1, "malloc");
	sock_path = argv[0];
	connect_sock(sock_path, wait_s);
	for (argc--, argv++; argc > 0; argc -= used, argv += used) {
		if (run_step(argv, argc, &used) == -1) {
			printf("%s %s\n", eof_seen ? "EOF" : "TIMEOUT",
			    argv[0]);
			fflush(stdout);
			return (eof_seen ? 3 : 2);
		}
		fflush(stdout);
	}
	/* flush what is still queued (sendhex, send) */
	while (wlen > 0)
		if (pump(msnow() + 1000) == -1)
			break;
	return (0);
}
