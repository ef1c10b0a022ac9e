/*
 * net.c: egress (agentproto.h, "Egress").  The guest has no network
 * device: a workload's TCP connection leaves it only as a flow over the
 * port, and the host decides whether it may.
 *
 * NET_GRANTS brings lo up, gives every granted name an address of
 * 127.100.0.0/24 in /etc/hosts, adds every granted IPv4 literal to lo
 * as a /32, and listens on each grant's address and port, and on
 * 127.0.0.1:proxy for the HTTP proxy.  A connection accepted on a grant
 * is a flow at once: NET_OPEN names the grant's host and port, and the
 * socket is not read until NET_OPENED.  A proxy client first sends a
 * request head ("CONNECT host:port" or a request in absolute form),
 * which names the flow; refusals and bad requests are answered in HTTP.
 *
 * An open flow relays both ways.  Socket to port: NET_DATA frames, never
 * more than AP_NET_WINDOW bytes the host has not acknowledged, and none
 * while the output queue is high.  Port to socket: the host's bytes wait
 * in a ring of NET_RING bytes (AP_NET_WINDOW, the most the host may have
 * unacknowledged, plus room for the proxy's own reply) and are
 * acknowledged by NET_ACK once written.  A flow ends with NET_CLOSE when
 * both directions ended, everything received is written and everything
 * sent is acknowledged; at once on a socket error or when the host
 * breaks the protocol.  A NET_CLOSE from the host ends the flow at once,
 * except after the host's end of stream: then what the ring holds is
 * still written (without NET_ACKs: the id is over), NET_DRAIN_MS at
 * most, so a host that closes without waiting for its bytes to be
 * acknowledged does not cut the end off a reply.
 *
 * Flow ids increase for the agent's life, across sessions, and are
 * never reused.  At most AP_NET_FLOWS_MAX connections (flows and proxy
 * clients) exist at once; beyond that a new one is closed as soon as it
 * is accepted.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent.h"

#define NET_HOSTS	"/etc/hosts"
#define NET_HOSTS_TMP	"/etc/hosts.tmp"
#define NET_HOSTS_MAX	(64 * 1024)	/* a longer /etc/hosts is refused */
#define NET_NAMES	"127.100.0."	/* .1, .2, ...: the granted names */
#define NET_BACKLOG	16
#define NET_ACCEPTS	16		/* per listener and wakeup */
#define NET_HEAD_MAX	8192		/* a proxy request head, CRLFCRLF too */
#define NET_HEAD_MS	10000		/* ... has this long to arrive */
#define NET_LINGER_MS	2000		/* an answered client: wait for EOF */
#define NET_DRAIN_MS	10000		/* closed by the host: still write */
#define NET_RING	(AP_NET_WINDOW + 256)	/* + the proxy's 200 */
#define NET_LSN_MAX	(AP_NET_GRANTS_MAX + 1)

#define HTTP_200	"HTTP/1.1 200 Connection established\r\n\r\n"

struct grant {
	char		 g_host[AP_NET_HOST_MAX + 1];
	uint16_t	 g_port;
	int		 g_kind;	/* AP_HOST_NAME, AP_HOST_IPV4 */
	struct in_addr	 g_addr;	/* where it listens */
};

struct lsn {
	int		 l_fd;
	int		 l_grant;	/* index; -1: the proxy */
};

struct flow {
	TAILQ_ENTRY(flow)	 f_entry;
	uint32_t		 f_id;		/* 0: none yet, or over */
	int			 f_fd;
	int			 f_state;
#define FS_HEAD		1			/* proxy: reading the head */
#define FS_OPENING	2			/* NET_OPEN sent */
#define FS_OPEN		3
#define FS_LINGER	4			/* proxy: answered, closing */
#define FS_DRAIN	5			/* host closed it: writing */
	int			 f_flags;
#define FF_PROXY	0x01
#define FF_CONNECT	0x02			/* proxy: CONNECT */
#define FF_RDEOF	0x04			/* socket EOF, sent as such */
#define FF_WREOF	0x08			/* the host's end of stream */
#define FF_WRSHUT	0x10			/* ... passed on: SHUT_WR */
	char			 f_host[AP_NET_HOST_MAX + 1];
	uint16_t		 f_port;
	size_t			 f_unacked;	/* sent, not acknowledged */
	uint8_t			*f_ring;	/* NET_RING: to the socket */
	size_t			 f_roff;
	size_t			 f_rlen;
	size_t			 f_rmine;	/* its first: ours, unacked */
	uint8_t			*f_buf;		/* proxy: the head, then what */
	size_t			 f_blen;	/*   goes to the host first */
	uint64_t		 f_deadline;	/* ms, 0: none */
};
/* cppcheck-suppress unusedStructMember ; the TAILQ_* macros use it */
TAILQ_HEAD(flowq, flow);

static struct {
	int		 n_ready;	/* NET_GRANTS succeeded */
	uint16_t	 n_proxy;
	struct grant	 n_grants[AP_NET_GRANTS_MAX];
	int		 n_ngrants;
	int		 n_nnames;	/* 127.100.0.1 to .n_nnames */
	struct lsn	 n_lsn[NET_LSN_MAX];
	int		 n_nlsn;
	int		 n_nalias;	/* lo:1 to lo:n_nalias */
	int		 n_hosts;	/* /etc/hosts has our names */
	struct flowq	 n_flows;
	int		 n_nflows;
	uint32_t	 n_nextid;	/* never reset: ids are not reused */
	int		 n_plsn;	/* poll slots: listeners, then */
	struct flow	*n_pflow[AP_NET_FLOWS_MAX];	/* flows */
	char		 n_what[64];	/* what failed in net_setup */
} net = {
	.n_flows = TAILQ_HEAD_INITIALIZER(net.n_flows),
	.n_nextid = AP_ID_GUEST + 1,
};

static int	 grants_parse(json_t *, uint64_t *);
static int	 grant_add(const char *, uint16_t, size_t);
static int	 net_setup(uint16_t);
static void	 net_undo(void);
static int	 lo_up(int);
static int	 lo_alias(int, int, struct in_addr, int);
static int	 lsn_add(struct in_addr, uint16_t, int);
static int	 hosts_read(char **, size_t *);
static int	 hosts_localhost(const char *, size_t);
static int	 hosts_write(int);
static int	 hosts_replace(const char *, size_t);
static void	 lsn_accept(const struct lsn *);
static struct flow *flow_new(int);
static void	 flow_free(struct flow *, int);
static struct flow *flow_find(uint32_t);
static int	 flow_open(struct flow *);
static short	 flow_events(const struct flow *);
static void	 flow_io(struct flow *, short);
static int	 flow_read(struct flow *);
static int	 flow_write(struct flow *);
static void	 flow_check(struct flow *);
static void	 flow_closed(struct flow *);
static void	 flow_opened(struct flow *, const struct ap_frame *);
static void	 flow_refused(struct flow *, const struct ap_frame *);
static void	 flow_data(struct flow *, const struct ap_frame *);
static void	 flow_ack(struct flow *, const struct ap_frame *);
static void	 flow_send(struct flow *, const uint8_t *, size_t);
static void	 ring_put(struct flow *, const void *, size_t, int);
static void	 proxy_read(struct flow *);
static int	 proxy_parse(struct flow *, size_t);
static int	 proxy_absolute(struct flow *, const char *, const char *,
		    const char *, size_t);
static int	 proxy_authority(struct flow *, const char *, size_t, int);
static void	 proxy_say(int, int);
static void	 proxy_fail(struct flow *, int);
static int	 proxy_status(const char *);
static void	 linger_read(struct flow *);

/* The proxy port once NET_GRANTS succeeded, else 0 (exec.c). */
int
net_proxy(void)
{
	return (net.n_ready ? net.n_proxy : 0);
}

void
net_grants(const struct ap_frame *f)
{
	json_t		*o;
	uint64_t	 proxy = 0;
	int		 e;

	if (f->f_id != AP_ID_NETGRANTS) {
		out_error(f->f_id, "bad_request", "NET_GRANTS has id %u",
		    AP_ID_NETGRANTS);
		return;
	}
	if (net.n_ready) {
		out_error(f->f_id, "bad_request", "grants are already set");
		return;
	}
	if ((o = j_parse(f)) == NULL || grants_parse(o, &proxy) == -1) {
		out_error(f->f_id, "bad_request", "%s", j_why());
		json_decref(o);
		net.n_ngrants = net.n_nnames = 0;
		return;
	}
	json_decref(o);
	if (net_setup(proxy) == -1) {
		e = errno;
		net_undo();
		out_errno(f->f_id, e, net.n_what);
		return;
	}
	net.n_ready = 1;
	net.n_proxy = proxy;
	out_ok(f->f_id);
}

/* The members of NET_GRANTS into net.n_grants; -1 and j_why() if bad. */
static int
grants_parse(json_t *o, uint64_t *proxy)
{
	static const char *const top[] = { "grants", "proxy", NULL };
	static const char *const one[] = { "host", "port", NULL };
	json_t		*a, *v;
	const char	*h;
	char		 why[160];
	uint64_t	 port;
	size_t		 i;

	if (j_only(o, top) == -1 ||
	    j_uint(o, "proxy", UINT16_MAX, proxy, 0) == -1)
		return (-1);
	a = json_object_get(o, "grants");
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > AP_NET_GRANTS_MAX) {
		j_fail("grants: 1 to %d objects", AP_NET_GRANTS_MAX);
		return (-1);
	}
	net.n_ngrants = net.n_nnames = 0;
	json_array_foreach(a, i, v) {
		if (!json_is_object(v)) {
			j_fail("grants[%zu]: not an object", i);
			return (-1);
		}
		if (j_only(v, one) == -1 || j_str(v, "host", &h, 1) == -1 ||
		    j_uint(v, "port", UINT16_MAX, &port, 1) == -1) {
			(void)snprintf(why, sizeof(why), "%s", j_why());
			j_fail("grants[%zu]: %s", i, why);
			return (-1);
		}
		if (port == 0) {
			j_fail("grants[%zu]: port 0", i);
			return (-1);
		}
		if (grant_add(h, port, i) == -1)
			return (-1);
	}
	return (0);
}

/*
 * One grant.  Names are compared without case (so is /etc/hosts); a
 * grant repeated (same address and port) is taken once.
 */
static int
grant_add(const char *h, uint16_t port, size_t i)
{
	struct grant	*g, *old = NULL;
	struct in_addr	 a;
	int		 k, kind;
	uint32_t	 top;

	if ((kind = ap_net_host(h)) == 0) {
		j_fail("grants[%zu]: bad host \"%.64s\"", i, h);
		return (-1);
	}
	for (k = 0; k < net.n_ngrants && old == NULL; k++)
		if (strcasecmp(net.n_grants[k].g_host, h) == 0)
			old = &net.n_grants[k];
	if (old != NULL)
		a = old->g_addr;
	else if (kind == AP_HOST_IPV4) {
		if (inet_pton(AF_INET, h, &a) != 1)
			afatal("%s: %s", __func__, h);	/* ap_net_host */
		top = ntohl(a.s_addr) >> 24;
		if (top == 0 || top >= 224) {
			j_fail("grants[%zu]: %s cannot be a local address",
			    i, h);
			return (-1);
		}
	} else
		a.s_addr = htonl(0x7f640000U | ++net.n_nnames);
	for (k = 0; k < net.n_ngrants; k++)
		if (net.n_grants[k].g_addr.s_addr == a.s_addr &&
		    net.n_grants[k].g_port == port)
			return (0);
	g = &net.n_grants[net.n_ngrants++];
	(void)snprintf(g->g_host, sizeof(g->g_host), "%s",
	    old != NULL ? old->g_host : h);
	g->g_port = port;
	g->g_kind = kind;
	g->g_addr = a;
	return (0);
}

/*
 * lo up, the literals' aliases, /etc/hosts, the listeners.  -1 with
 * errno and net.n_what set; the caller undoes what was done.
 */
static int
net_setup(uint16_t proxy)
{
	struct grant	*g;
	struct in_addr	 lo;
	int		 s, i, k, e, r = -1;

	(void)snprintf(net.n_what, sizeof(net.n_what), "socket");
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	(void)snprintf(net.n_what, sizeof(net.n_what), "lo up");
	if (lo_up(s) == -1)
		goto done;
	for (i = 0; i < net.n_ngrants; i++) {
		g = &net.n_grants[i];
		for (k = 0; k < i; k++)
			if (net.n_grants[k].g_addr.s_addr == g->g_addr.s_addr)
				break;
		if (g->g_kind != AP_HOST_IPV4 || k < i ||
		    (ntohl(g->g_addr.s_addr) >> 24) == 127)
			continue;	/* lo has 127.0.0.0/8 already */
		(void)snprintf(net.n_what, sizeof(net.n_what), "lo:%d %s",
		    net.n_nalias + 1, g->g_host);
		if (lo_alias(s, net.n_nalias + 1, g->g_addr, 1) == -1)
			goto done;
		net.n_nalias++;
	}
	(void)snprintf(net.n_what, sizeof(net.n_what), "%s", NET_HOSTS);
	if (hosts_write(1) == -1)
		goto done;
	net.n_hosts = 1;
	for (i = 0; i < net.n_ngrants; i++) {
		g = &net.n_grants[i];
		(void)snprintf(net.n_what, sizeof(net.n_what), "listen %s:%u",
		    inet_ntoa(g->g_addr), g->g_port);
		if (lsn_add(g->g_addr, g->g_port, i) == -1)
			goto done;
	}
	lo.s_addr = htonl(INADDR_LOOPBACK);
	(void)snprintf(net.n_what, sizeof(net.n_what),
	    "listen 127.0.0.1:%u (proxy)", proxy);
	if (proxy != 0 && lsn_add(lo, proxy, -1) == -1)
		goto done;
	r = 0;
 done:
	e = errno;
	(void)close(s);
	errno = e;
	return (r);
}

/* Close the listeners, drop the aliases and our names: no grants. */
static void
net_undo(void)
{
	struct in_addr	 none = { 0 };
	int		 s;

	while (net.n_nlsn > 0)
		(void)close(net.n_lsn[--net.n_nlsn].l_fd);
	if (net.n_nalias > 0 &&
	    (s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		while (net.n_nalias > 0)
			(void)lo_alias(s, net.n_nalias--, none, 0);
		(void)close(s);
	}
	if (net.n_hosts && hosts_write(0) == -1)
		alog("%s: %s", NET_HOSTS, strerror(errno));
	net.n_hosts = 0;
	net.n_ngrants = net.n_nnames = 0;
}

static int
lo_up(int s)
{
	struct ifreq	 ifr;

	memset(&ifr, 0, sizeof(ifr));
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		return (-1);
	if (ifr.ifr_flags & IFF_UP)
		return (0);
	ifr.ifr_flags |= IFF_UP;
	return (ioctl(s, SIOCSIFFLAGS, &ifr));
}

/*
 * Add a as lo:n, a /32 (the kernel adds the local route), or remove
 * lo:n (taking an alias down deletes its address).
 */
static int
lo_alias(int s, int n, struct in_addr a, int add)
{
	struct ifreq		 ifr;
	struct sockaddr_in	 sin;

	memset(&ifr, 0, sizeof(ifr));
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:%d", n);
	if (!add)
		return (ioctl(s, SIOCSIFFLAGS, &ifr));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = a;
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (ioctl(s, SIOCSIFADDR, &ifr) == -1)
		return (-1);
	sin.sin_addr.s_addr = htonl(INADDR_BROADCAST);	/* 255.255.255.255 */
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
	return (ioctl(s, SIOCSIFNETMASK, &ifr));
}

static int
lsn_add(struct in_addr a, uint16_t port, int grant)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1, e;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr = a;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, NET_BACKLOG) == -1) {
		e = errno;
		(void)close(fd);
		errno = e;
		return (-1);
	}
	net.n_lsn[net.n_nlsn].l_fd = fd;
	net.n_lsn[net.n_nlsn++].l_grant = grant;
	return (0);
}

/* /etc/hosts into a NUL-terminated *bp (empty if missing). */
static int
hosts_read(char **bp, size_t *lenp)
{
	char	*b;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, e;

	b = xcalloc(1, NET_HOSTS_MAX + 2);
	if ((fd = open(NET_HOSTS, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			goto done;
		goto fail;
	}
	while (len <= NET_HOSTS_MAX && (n = read(fd, b + len,
	    NET_HOSTS_MAX + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		len += n;
	}
	(void)close(fd);
	fd = -1;
	if (len > NET_HOSTS_MAX) {
		errno = EFBIG;
		goto fail;
	}
 done:
	*bp = b;
	*lenp = len;
	return (0);
 fail:
	e = errno;
	if (fd != -1)
		(void)close(fd);
	free(b);
	errno = e;
	return (-1);
}

/* Is this /etc/hosts line "127.0.0.1 ... localhost ..."? */
static int
hosts_localhost(const char *line, size_t len)
{
	char	 buf[512], *p, *w, *save;
	int	 first = 1;

	if (len >= sizeof(buf))
		return (0);
	memcpy(buf, line, len);
	buf[len] = '\0';
	buf[strcspn(buf, "#")] = '\0';
	for (p = buf; (w = strtok_r(p, " \t\r", &save)) != NULL; p = NULL) {
		if (first && strcmp(w, "127.0.0.1") != 0)
			return (0);
		if (!first && strcmp(w, "localhost") == 0)
			return (1);
		first = 0;
	}
	return (0);
}

/*
 * Rewrite /etc/hosts through a temporary file: its lines less those for
 * NET_NAMES (ours, from now or an earlier session), a localhost line if
 * it had none, and with ours, a "127.100.0.N name" line for each name.
 */
static int
hosts_write(int ours)
{
	struct grant	*g;
	char		*old, *out = NULL, *l, *nl;
	size_t		 len, olen = 0, n;
	FILE		*fp;
	int		 i, k, lh = 0, r, e;

	if (hosts_read(&old, &len) == -1)
		return (-1);
	for (l = old; l < old + len; l = nl + 1) {
		if ((nl = memchr(l, '\n', old + len - l)) == NULL)
			nl = old + len;
		lh |= hosts_localhost(l, nl - l);
	}
	if ((fp = open_memstream(&out, &olen)) == NULL)
		afatal("out of memory");
	if (!lh)
		fprintf(fp, "127.0.0.1\tlocalhost\n");
	for (l = old; l < old + len; l = nl + 1) {
		if ((nl = memchr(l, '\n', old + len - l)) == NULL)
			nl = old + len;
		n = strspn(l, " \t");
		if (strncmp(l + n, NET_NAMES, strlen(NET_NAMES)) == 0)
			continue;
		fprintf(fp, "%.*s\n", (int)(nl - l), l);
	}
	for (i = 0; ours && i < net.n_ngrants; i++) {
		g = &net.n_grants[i];
		for (k = 0; k < i; k++)
			if (net.n_grants[k].g_addr.s_addr == g->g_addr.s_addr)
				break;
		if (g->g_kind == AP_HOST_NAME && k == i)
			fprintf(fp, "%s %s\n", inet_ntoa(g->g_addr),
			    g->g_host);
	}
	if (fclose(fp) != 0)
		afatal("out of memory");
	r = hosts_replace(out, olen);
	e = errno;
	free(old);
	free(out);
	errno = e;
	return (r);
}

/* Write NET_HOSTS_TMP and rename it over NET_HOSTS. */
static int
hosts_replace(const char *buf, size_t len)
{
	size_t	 n;
	ssize_t	 w = 0;
	int	 fd, e;

	if ((fd = open(NET_HOSTS_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0644)) == -1)
		return (-1);
	for (n = 0; n < len && w != -1; n += w > 0 ? w : 0)
		if ((w = write(fd, buf + n, len - n)) == -1 && errno == EINTR)
			w = 0;
	if (w != -1 && fchmod(fd, 0644) == 0 && close(fd) == 0) {
		if (rename(NET_HOSTS_TMP, NET_HOSTS) == 0)
			return (0);
		fd = -1;
	}
	e = errno;
	if (fd != -1)
		(void)close(fd);
	(void)unlink(NET_HOSTS_TMP);
	errno = e;
	return (-1);
}

/* The session ended: close every flow and listener, forget the grants. */
void
net_reset(void)
{
	struct flow	*f;

	while ((f = TAILQ_FIRST(&net.n_flows)) != NULL)
		flow_free(f, 0);	/* NOLINT(clang-analyzer-unix.Malloc): TAILQ FP */
	net_undo();
	net.n_ready = 0;
	net.n_proxy = 0;
}

/* Listeners, then flows that want something (or may fail). */
int
net_pollfds(struct pollfd *pfd, int room)
{
	struct flow	*f;
	int		 i, n = 0;
	short		 ev;

	for (i = 0; i < net.n_nlsn && n < room; i++) {
		pfd[n].fd = net.n_lsn[i].l_fd;
		pfd[n++].events = POLLIN;
	}
	net.n_plsn = n;
	TAILQ_FOREACH(f, &net.n_flows, f_entry) {
		if (n >= room)
			break;
		/*
		 * A flow that wants nothing is left out: after SHUT_WR a
		 * peer's FIN alone gives POLLHUP, and its bytes may still
		 * wait for window.  A pending one is kept for POLLERR.
		 */
		if ((ev = flow_events(f)) == 0 && f->f_state != FS_OPENING)
			continue;
		pfd[n].fd = f->f_fd;
		pfd[n].events = ev;
		net.n_pflow[n++ - net.n_plsn] = f;
	}
	return (n);
}

void
net_io(const struct pollfd *pfd, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (i < net.n_plsn)
			lsn_accept(&net.n_lsn[i]);
		else
			flow_io(net.n_pflow[i - net.n_plsn], pfd[i].revents);
	}
}

/* Proxy clients too slow with their head, lingering ones. */
void
net_tick(uint64_t now)
{
	struct flow	*f, *next;

	for (f = TAILQ_FIRST(&net.n_flows); f != NULL; f = next) {
		next = TAILQ_NEXT(f, f_entry);
		if (f->f_deadline == 0 || now < f->f_deadline)
			continue;
		if (f->f_state == FS_HEAD)
			proxy_fail(f, 408);
		else
			flow_free(f, 0);	/* lingering, draining */
	}
}

/* The poll timeout t, shortened to the next deadline of a flow. */
int
net_timeout(uint64_t now, int t)
{
	struct flow	*f;
	uint64_t	 d;

	TAILQ_FOREACH(f, &net.n_flows, f_entry) {
		if (f->f_deadline == 0)
			continue;
		d = f->f_deadline > now ? f->f_deadline - now : 0;
		if (t == -1 || d < (uint64_t)t)
			t = d;
	}
	return (t);
}

/* A frame of a flow from the host: NET_OPENED to NET_CLOSE. */
void
net_frame(const struct ap_frame *fr)
{
	struct flow	*f;

	if ((f = flow_find(fr->f_id)) == NULL)
		return;		/* over, crossed its NET_CLOSE, or never was */
	switch (fr->f_type) {
	case AP_NET_OPENED:
		flow_opened(f, fr);
		break;
	case AP_NET_REFUSED:
		flow_refused(f, fr);
		break;
	case AP_NET_DATA:
		flow_data(f, fr);
		break;
	case AP_NET_ACK:
		flow_ack(f, fr);
		break;
	case AP_NET_CLOSE:
		flow_closed(f);
		break;
	}
}

/*
 * Accept what waits.  Beyond AP_NET_FLOWS_MAX connections, or with no
 * flow id left, the new one is closed (a proxy client hears 503 first).
 */
static void
lsn_accept(const struct lsn *l)
{
	struct grant	*g;
	struct flow	*f;
	int		 i, fd;

	for (i = 0; i < NET_ACCEPTS; i++) {
		/* cppcheck-suppress nullPointer ; accept4(2) takes NULL */
		if ((fd = accept4(l->l_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
			return;
		if (net.n_nflows >= AP_NET_FLOWS_MAX ||
		    net.n_nextid > AP_ID_GUEST_LAST) {
			if (l->l_grant == -1)
				proxy_say(fd, 503);
			(void)close(fd);
			continue;
		}
		f = flow_new(fd);
		if (l->l_grant == -1) {
			f->f_flags |= FF_PROXY;
			f->f_state = FS_HEAD;
			f->f_buf = xcalloc(1, NET_HEAD_MAX);
			f->f_deadline = now_ms() + NET_HEAD_MS;
			continue;
		}
		g = &net.n_grants[l->l_grant];
		memcpy(f->f_host, g->g_host, sizeof(f->f_host));
		f->f_port = g->g_port;
		(void)flow_open(f);	/* an id is left: checked above */
	}
}

static struct flow *
flow_new(int fd)
{
	struct flow	*f;

	f = xcalloc(1, sizeof(*f));
	f->f_fd = fd;
	TAILQ_INSERT_TAIL(&net.n_flows, f, f_entry);
	net.n_nflows++;
	return (f);
}

/* Close and forget; tell: send NET_CLOSE if the flow has an id. */
static void
flow_free(struct flow *f, int tell)
{
	if (tell && f->f_id != 0)
		out_frame(AP_NET_CLOSE, f->f_id, "{}", 2);
	(void)close(f->f_fd);
	TAILQ_REMOVE(&net.n_flows, f, f_entry);
	net.n_nflows--;
	free(f->f_ring);
	free(f->f_buf);
	free(f);
}

static struct flow *
flow_find(uint32_t id)
{
	struct flow	*f;

	if (id <= AP_ID_GUEST || id > AP_ID_GUEST_LAST)
		return (NULL);
	TAILQ_FOREACH(f, &net.n_flows, f_entry)
		if (f->f_id == id)
			return (f);
	return (NULL);
}

/* Take the next id and ask the host: NET_OPEN.  -1 if none is left. */
static int
flow_open(struct flow *f)
{
	if (net.n_nextid > AP_ID_GUEST_LAST)
		return (-1);
	f->f_id = net.n_nextid++;
	f->f_state = FS_OPENING;
	out_json(AP_NET_OPEN, f->f_id, json_pack("{s:s,s:i}", "host",
	    f->f_host, "port", (int)f->f_port));
	return (0);
}

static short
flow_events(const struct flow *f)
{
	short	 ev = 0;

	switch (f->f_state) {
	case FS_HEAD:
	case FS_LINGER:
		return (POLLIN);
	case FS_OPENING:
		return (0);		/* not read before NET_OPENED */
	case FS_DRAIN:
		return (POLLOUT);
	}
	if (!(f->f_flags & FF_RDEOF) && f->f_unacked < AP_NET_WINDOW &&
	    !out_high())
		ev |= POLLIN;
	if (f->f_rlen > 0)
		ev |= POLLOUT;
	return (ev);
}

static void
flow_io(struct flow *f, short revents)
{
	switch (f->f_state) {
	case FS_HEAD:
		proxy_read(f);
		return;
	case FS_LINGER:
		linger_read(f);
		return;
	case FS_OPENING:
		flow_free(f, 1);	/* POLLERR, POLLHUP: client gone */
		return;
	case FS_DRAIN:
		if (flow_write(f) == 0 && f->f_rlen == 0)
			flow_free(f, 0);
		return;
	}
	if (f->f_rlen > 0 && flow_write(f) == -1)
		return;
	if ((revents & (POLLIN | POLLHUP | POLLERR)) &&
	    (flow_events(f) & POLLIN) && flow_read(f) == -1)
		return;
	flow_check(f);
}

/* One read from the socket as NET_DATA.  -1 if the flow is gone. */
static int
flow_read(struct flow *f)
{
	static uint8_t	 buf[CHUNK];
	size_t		 room = AP_NET_WINDOW - f->f_unacked;
	ssize_t		 n;

	if (room > sizeof(buf))
		room = sizeof(buf);
	if ((n = read(f->f_fd, buf, room)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return (0);
		flow_free(f, 1);
		return (-1);
	}
	out_frame(AP_NET_DATA, f->f_id, buf, n);
	f->f_unacked += n;
	if (n == 0)
		f->f_flags |= FF_RDEOF;
	return (0);
}

/*
 * Write what the ring holds, acknowledge the host's part of it, and
 * pass the host's end of stream on once all is written.  -1 if the flow
 * is gone.
 */
static int
flow_write(struct flow *f)
{
	size_t		 seg, acked = 0, k;
	ssize_t		 n;

	while (f->f_rlen > 0) {
		seg = NET_RING - f->f_roff;
		if (seg > f->f_rlen)
			seg = f->f_rlen;
		if ((n = send(f->f_fd, f->f_ring + f->f_roff, seg,
		    MSG_NOSIGNAL)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			flow_free(f, 1);
			return (-1);
		}
		f->f_roff = (f->f_roff + n) % NET_RING;
		f->f_rlen -= n;
		k = (size_t)n < f->f_rmine ? (size_t)n : f->f_rmine;
		f->f_rmine -= k;
		acked += n - k;
	}
	if (f->f_rlen == 0)
		f->f_roff = 0;
	if (acked > 0 && f->f_id != 0)
		out_json(AP_NET_ACK, f->f_id, json_pack("{s:I}", "bytes",
		    (json_int_t)acked));
	if (f->f_rlen == 0 && (f->f_flags & (FF_WREOF | FF_WRSHUT)) ==
	    FF_WREOF) {
		(void)shutdown(f->f_fd, SHUT_WR);
		f->f_flags |= FF_WRSHUT;
	}
	return (0);
}

/* Both directions ended, all written, all acknowledged: NET_CLOSE. */
static void
flow_check(struct flow *f)
{
	if (f->f_state == FS_OPEN && (f->f_flags & (FF_RDEOF | FF_WRSHUT)) ==
	    (FF_RDEOF | FF_WRSHUT) && f->f_unacked == 0 && f->f_rlen == 0)
		flow_free(f, 1);
}

/*
 * NET_CLOSE from the host: close at once, unless it follows the host's
 * end of stream and bytes wait to be written; then write them first.
 */
static void
flow_closed(struct flow *f)
{
	if (f->f_state != FS_OPEN || !(f->f_flags & FF_WREOF) ||
	    f->f_rlen == 0) {
		flow_free(f, 0);
		return;
	}
	f->f_id = 0;
	f->f_state = FS_DRAIN;
	f->f_deadline = now_ms() + NET_DRAIN_MS;
}

static void
flow_opened(struct flow *f, const struct ap_frame *fr)
{
	static const char *const none[] = { NULL };
	json_t	*o;

	o = f->f_state == FS_OPENING ? j_parse(fr) : NULL;
	if (o == NULL || j_only(o, none) == -1) {
		json_decref(o);
		flow_free(f, 1);	/* the host broke the protocol */
		return;
	}
	json_decref(o);
	f->f_state = FS_OPEN;
	if (f->f_flags & FF_CONNECT)
		ring_put(f, HTTP_200, strlen(HTTP_200), 1);
	flow_send(f, f->f_buf, f->f_blen);
	free(f->f_buf);
	f->f_buf = NULL;
	f->f_blen = 0;
}

static void
flow_refused(struct flow *f, const struct ap_frame *fr)
{
	static const char *const names[] = { "reason", NULL };
	const char	*why = "";
	json_t		*o;

	if (f->f_state != FS_OPENING) {
		flow_free(f, 1);	/* the host broke the protocol */
		return;
	}
	f->f_id = 0;			/* the id is over */
	if (!(f->f_flags & FF_PROXY)) {
		flow_free(f, 0);
		return;
	}
	if ((o = j_parse(fr)) != NULL && j_only(o, names) == 0)
		(void)j_str(o, "reason", &why, 1);
	proxy_fail(f, proxy_status(why));
	json_decref(o);
}

static void
flow_data(struct flow *f, const struct ap_frame *fr)
{
	if (f->f_state != FS_OPEN || (f->f_flags & FF_WREOF) ||
	    f->f_rlen - f->f_rmine + fr->f_len > AP_NET_WINDOW) {
		flow_free(f, 1);	/* the host broke the protocol */
		return;
	}
	if (fr->f_len > 0) {
		ring_put(f, fr->f_data, fr->f_len, 0);
		return;
	}
	f->f_flags |= FF_WREOF;
	if (flow_write(f) == 0)
		flow_check(f);
}

static void
flow_ack(struct flow *f, const struct ap_frame *fr)
{
	static const char *const names[] = { "bytes", NULL };
	json_t		*o;
	uint64_t	 n;

	o = f->f_state == FS_OPEN ? j_parse(fr) : NULL;
	if (o == NULL || j_only(o, names) == -1 ||
	    j_uint(o, "bytes", f->f_unacked, &n, 1) == -1) {
		json_decref(o);
		flow_free(f, 1);	/* more than was sent, or malformed */
		return;
	}
	json_decref(o);
	f->f_unacked -= n;
	flow_check(f);
}

/* Bytes to the host as NET_DATA frames (len is within the window). */
static void
flow_send(struct flow *f, const uint8_t *p, size_t len)
{
	size_t	 k;

	for (; len > 0; p += k, len -= k) {
		k = len < CHUNK ? len : CHUNK;
		out_frame(AP_NET_DATA, f->f_id, p, k);
		f->f_unacked += k;
	}
}

/* Bytes for the socket; mine: our own, not to be acknowledged. */
static void
ring_put(struct flow *f, const void *p, size_t len, int mine)
{
	size_t	 at, k;

	if (f->f_ring == NULL)
		f->f_ring = xcalloc(1, NET_RING);
	at = (f->f_roff + f->f_rlen) % NET_RING;
	k = len < NET_RING - at ? len : NET_RING - at;
	memcpy(f->f_ring + at, p, k);
	memcpy(f->f_ring, (const uint8_t *)p + k, len - k);
	f->f_rlen += len;
	if (mine)
		f->f_rmine += len;
}

/* Read the request head of a proxy client; act once it is whole. */
static void
proxy_read(struct flow *f)
{
	uint8_t		*end;
	size_t		 from;
	ssize_t		 n;

	n = read(f->f_fd, f->f_buf + f->f_blen, NET_HEAD_MAX - f->f_blen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		flow_free(f, 0);	/* gone before it asked */
		return;
	}
	from = f->f_blen > 3 ? f->f_blen - 3 : 0;
	f->f_blen += n;
	end = memmem(f->f_buf + from, f->f_blen - from, "\r\n\r\n", 4);
	if (end == NULL) {
		if (f->f_blen == NET_HEAD_MAX)
			proxy_fail(f, 400);
		return;
	}
	if (proxy_parse(f, end + 4 - f->f_buf) == -1) {
		proxy_fail(f, 400);
		return;
	}
	f->f_deadline = 0;
	if (flow_open(f) == -1)
		proxy_fail(f, 503);
}

/*
 * The request line of a head of hlen bytes: "CONNECT host:port
 * HTTP/1.x" or "METHOD http://host[:port][/path] HTTP/1.x".  Sets the
 * flow's host and port, and leaves in f_buf what goes to the host
 * first: for CONNECT what followed the head, else the head with its
 * request line in origin form (proxy_absolute), and what followed.
 */
static int
proxy_parse(struct flow *f, size_t hlen)
{
	char		 line[NET_HEAD_MAX], *m, *t, *v;
	size_t		 llen, i;

	llen = (uint8_t *)memmem(f->f_buf, hlen, "\r\n", 2) - f->f_buf;
	memcpy(line, f->f_buf, llen);
	line[llen] = '\0';
	for (i = 0; i < llen; i++)
		if ((unsigned char)line[i] <= ' ' && line[i] != ' ')
			return (-1);	/* NUL, CR, tab, ... */
	m = line;
	if ((t = strchr(m, ' ')) == NULL)
		return (-1);
	*t++ = '\0';
	if ((v = strchr(t, ' ')) == NULL)
		return (-1);
	*v++ = '\0';
	if (*m == '\0' || strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~") !=
	    strlen(m) || strncmp(v, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)v[7]) || v[8] != '\0')
		return (-1);
	if (strcmp(m, "CONNECT") != 0)
		return (proxy_absolute(f, m, t, v, llen));
	if (proxy_authority(f, t, strlen(t), 0) == -1)
		return (-1);
	f->f_flags |= FF_CONNECT;
	f->f_blen -= hlen;
	memmove(f->f_buf, f->f_buf + hlen, f->f_blen);
	return (0);
}

/*
 * "METHOD http://host[:port][path]": rewrite f_buf as "METHOD path
 * version" ("/" if the path is empty, "/?..." for a bare query), then
 * what followed the request line (of llen bytes) in f_buf.
 */
static int
proxy_absolute(struct flow *f, const char *m, const char *t,
    const char *v, size_t llen)
{
	const char	*path;
	uint8_t		*nb;
	size_t		 alen, n, i;

	if (strncasecmp(t, "http://", 7) != 0)
		return (-1);	/* https:// too: that is for CONNECT */
	t += 7;
	alen = strcspn(t, "/?");
	path = t + alen;
	if (proxy_authority(f, t, alen, 80) == -1)
		return (-1);
	n = strlen(m) + strlen(path) + strlen(v) + 4 + f->f_blen - llen;
	nb = xcalloc(1, n);
	i = snprintf((char *)nb, n, "%s %s%s %s", m, *path == '/' ? "" : "/",
	    path, v);
	memcpy(nb + i, f->f_buf + llen, f->f_blen - llen);
	free(f->f_buf);
	f->f_buf = nb;
	f->f_blen = i + f->f_blen - llen;
	return (0);
}

/* "host[:port]" of len bytes; defport 0: the port is required. */
static int
proxy_authority(struct flow *f, const char *a, size_t len, int defport)
{
	const char	*c;
	unsigned long	 port = defport;
	size_t		 hl = len, i;

	if ((c = memrchr(a, ':', len)) != NULL) {
		hl = c - a;
		if (len - hl - 1 == 0 || len - hl - 1 > 5)
			return (-1);
		for (port = 0, i = hl + 1; i < len; i++) {
			if (!isdigit((unsigned char)a[i]))
				return (-1);
			port = port * 10 + (a[i] - '0');
		}
	}
	if (port == 0 || port > UINT16_MAX || hl == 0 ||
	    hl > AP_NET_HOST_MAX || memchr(a, '@', len) != NULL)
		return (-1);
	memcpy(f->f_host, a, hl);
	f->f_host[hl] = '\0';
	if (ap_net_host(f->f_host) == 0)
		return (-1);
	f->f_port = port;
	return (0);
}

/* A short HTTP error to a proxy client; a socket that fresh takes it. */
static void
proxy_say(int fd, int status)
{
	const char	*what, *text;
	char		 msg[384];
	int		 n;

	switch (status) {
	case 400:
		what = "Bad Request";
		text = "the proxy takes CONNECT host:port or "
		    "http://host[:port]/path";
		break;
	case 403:
		what = "Forbidden";
		text = "egress to this host and port is not granted";
		break;
	case 408:
		what = "Request Timeout";
		text = "no complete request in time";
		break;
	case 503:
		what = "Service Unavailable";
		text = "too many connections";
		break;
	default:
		status = 502;
		what = "Bad Gateway";
		text = "the host cannot be reached";
		break;
	}
	n = snprintf(msg, sizeof(msg), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s\n", status, what, strlen(text) + 1,
	    text);
	if (send(fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		return;			/* the client is gone */
}

/*
 * Answer the proxy client with an error and close: SHUT_WR, then read
 * until its EOF (closing with unread bytes would reset the connection
 * and could lose the answer), NET_LINGER_MS at most.
 */
static void
proxy_fail(struct flow *f, int status)
{
	proxy_say(f->f_fd, status);
	(void)shutdown(f->f_fd, SHUT_WR);
	free(f->f_buf);
	f->f_buf = NULL;
	f->f_blen = 0;
	f->f_state = FS_LINGER;
	f->f_deadline = now_ms() + NET_LINGER_MS;
}

/* NET_REFUSED's reason as an HTTP status. */
static int
proxy_status(const char *why)
{
	if (strcmp(why, "not_granted") == 0 ||
	    strcmp(why, "denied_address") == 0)
		return (403);
	if (strcmp(why, "limit") == 0)
		return (503);
	return (502);			/* resolve, connect, or unknown */
}

static void
linger_read(struct flow *f)
{
	static uint8_t	 buf[4096];
	ssize_t		 n;

	if ((n = read(f->f_fd, buf, sizeof(buf))) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		flow_free(f, 0);
}
