/*
 * net.c: egress, the host's half (agentproto.h has the guest's).  A guest
 * has no network device.  A run or guest is granted HOST:PORT pairs
 * (--allow, or a preset); the agent listens for them inside the guest
 * and asks for a flow (NET_OPEN) when a workload connects.  Here, in the
 * supervisor's network namespace:
 *
 *   1. the request is checked against the guest's grants (exact name,
 *	case-insensitive, and port); nothing the guest says is trusted;
 *   2. the name is resolved (libevent's evdns: /etc/hosts, then the
 *	resolvers of /etc/resolv.conf), and every address in an
 *	always-denied range (policy_addr_denied) is dropped; if none is
 *	left the flow is refused, so a grant for a name cannot reach the
 *	metadata service or the host's loopback by a DNS answer;
 *   3. the connection is made (non-blocking, MVM_NET_CONNECT_MS in all)
 *	to the first address that answers;
 *   4. net.flow_opened is audited, and only once it is on disk does the
 *	connected socket go to the guest's vmm (IMSG_VMM_NET_FD), which
 *	relays bytes from its own empty network namespace.
 * Refusals are audited as net.flow_denied (no grant, denied range, the
 * guest's flow limit) or net.flow_failed (no address, no connection);
 * the end of a flow as net.flow_closed with its byte counts.  A host
 * name that no grant has is chosen by the guest, so the audit record
 * has it only as a keyed tag (host_tag), never in clear.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "agentproto.h"
#include "log.h"
#include "policy.h"
#include "supervisor.h"

#define MVM_NET_CONNECT_MS	10000	/* resolve and connect, in all */
#define NET_ADDRS_MAX		8	/* addresses tried per flow */

#define F_RESOLVING	1
#define F_CONNECTING	2
#define F_AUDITING	3	/* connected; net.flow_opened on its way */
#define F_OPEN		4	/* the vmm has the socket */

struct flow {
	TAILQ_ENTRY(flow)	 f_entry;
	struct guest		*f_guest;
	uint32_t		 f_id;		/* the agent's flow id */
	int			 f_state;
	int			 f_grant;	/* index in g_net, -1: none */
	uint32_t		 f_port;
	char			 f_host[AP_NET_HOST_MAX + 1];
	struct evdns_getaddrinfo_request *f_req;
	struct sockaddr_storage	 f_addrs[NET_ADDRS_MAX];
	socklen_t		 f_addrlen[NET_ADDRS_MAX];
	int			 f_naddrs;
	int			 f_next;	/* next address to try */
	int			 f_fd;
	struct event		*f_ev;		/* connect: writable */
	struct event		*f_timer;
	char			 f_addr[INET6_ADDRSTRLEN];
	uint64_t		 f_t0;		/* ms: asked */
	uint64_t		 f_t1;		/* ms: opened */
};

static struct evdns_base	*dns;

static void	 flow_try(struct flow *);

static void *
flow_key(const struct flow *f)
{
	return ((void *)(uintptr_t)((uint64_t)f->f_guest->g_id << 32 |
	    f->f_id));
}

static struct flow *
flow_from_key(void *key)
{
	uint64_t	 k = (uintptr_t)key;
	struct guest	*g;
	struct flow	*f;

	TAILQ_FOREACH(g, &sv.guests, g_entry) {
		if (g->g_id != (uint32_t)(k >> 32))
			continue;
		TAILQ_FOREACH(f, &g->g_flows, f_entry)
			if (f->f_id == (uint32_t)k)
				return (f);
	}
	return (NULL);
}

static struct flow *
flow_find(struct guest *g, uint32_t id)
{
	struct flow	*f;

	TAILQ_FOREACH(f, &g->g_flows, f_entry)
		if (f->f_id == id)
			return (f);
	return (NULL);
}

static void
flow_free(struct flow *f)
{
	struct guest	*g = f->f_guest;

	if (f->f_req != NULL) {
		struct evdns_getaddrinfo_request *r = f->f_req;

		f->f_req = NULL;
		evdns_getaddrinfo_cancel(r);	/* its callback finds no flow */
	}
	if (f->f_ev != NULL)
		event_free(f->f_ev);
	if (f->f_timer != NULL)
		event_free(f->f_timer);
	if (f->f_fd != -1)
		close(f->f_fd);
	TAILQ_REMOVE(&g->g_flows, f, f_entry);
	g->g_nflows--;
	free(f);
}

/* The subject and the destination, as much of it as may be recorded. */
static void
flow_event(struct mvm_audit_event *ev, const char *type,
    const struct flow *f)
{
	char	 tag[17];

	aev_init(ev, type);
	aev_subject(ev, "guest", f->f_guest->g_name);
	aev_label_int(ev, "flow", f->f_id & ~AP_ID_GUEST);
	if (f->f_grant != -1)
		aev_label(ev, "host", f->f_guest->g_net[f->f_grant].ng_host);
	else {
		secret_name_tag(f->f_host, tag);
		aev_label(ev, "host_tag", tag);
	}
	aev_label_int(ev, "port", f->f_port);
}

/* No flow: tell the vmm, audit why, forget it. */
static void
flow_refuse(struct flow *f, uint32_t reason, const char *range)
{
	struct mvm_audit_event	 ev;
	struct mvm_vmm_net	 vn;
	struct guest		*g = f->f_guest;

	memset(&vn, 0, sizeof(vn));
	vn.vn_id = f->f_id;
	vn.vn_reason = reason;
	if (g->g_peer.p_open)
		(void)peer_compose(&g->g_peer, IMSG_VMM_NET_REFUSED, g->g_id,
		    -1, &vn, sizeof(vn));
	flow_event(&ev, reason == MVM_NET_RESOLVE || reason ==
	    MVM_NET_CONNECT ? "net.flow_failed" : "net.flow_denied", f);
	aev_label(&ev, "reason", mvm_net_reason(reason));
	if (f->f_addr[0] != '\0')
		aev_label(&ev, "address", f->f_addr);
	if (range != NULL)
		aev_label(&ev, "range", range);
	(void)audit_send(&ev, NULL, NULL);
	log_info("%s: flow %u to port %u refused: %s%s%s", g->g_name,
	    f->f_id & ~AP_ID_GUEST, f->f_port, mvm_net_reason(reason),
	    range != NULL ? ", " : "", range != NULL ? range : "");
	sv.metrics.cm_net_refused++;
	flow_free(f);
}

static void
flow_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct flow	*f = arg;

	(void)fd;
	(void)ev;
	flow_refuse(f, f->f_state == F_RESOLVING ? MVM_NET_RESOLVE :
	    MVM_NET_CONNECT, NULL);
}

static void
addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	const void	*a;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (inet_ntop(sa->sa_family, a, out, len) == NULL)
		(void)strlcpy(out, "?", len);
}

/* net.flow_opened is on disk: the socket goes to the vmm. */
static void
flow_opened_cb(void *key, uint32_t type, const void *reply)
{
	struct flow		*f = flow_from_key(key);
	struct mvm_vmm_net	 vn;
	struct guest		*g;

	(void)type;
	if (f == NULL)
		return;		/* the guest went away meanwhile */
	g = f->f_guest;
	if (reply == NULL || !g->g_peer.p_open) {
		flow_refuse(f, MVM_NET_CONNECT, NULL);
		return;
	}
	memset(&vn, 0, sizeof(vn));
	vn.vn_id = f->f_id;
	vn.vn_port = f->f_port;
	(void)peer_compose(&g->g_peer, IMSG_VMM_NET_FD, g->g_id, f->f_fd, &vn,
	    sizeof(vn));
	f->f_fd = -1;		/* the vmm's now */
	f->f_state = F_OPEN;
	f->f_t1 = now_ms();
	sv.metrics.cm_net_opened++;
}

static void
flow_connected(struct flow *f)
{
	struct mvm_audit_event	 ev;

	if (f->f_ev != NULL)
		event_free(f->f_ev);
	f->f_ev = NULL;
	evtimer_del(f->f_timer);
	f->f_state = F_AUDITING;
	flow_event(&ev, "net.flow_opened", f);
	aev_label(&ev, "address", f->f_addr);
	if (audit_send(&ev, flow_opened_cb, flow_key(f)) == -1)
		flow_refuse(f, MVM_NET_CONNECT, NULL);	/* no log, no flow */
}

static void
flow_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct flow	*f = arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		flow_connected(f);
		return;
	}
	log_debug("%s: flow %u: %s: %s", f->f_guest->g_name,
	    f->f_id & ~AP_ID_GUEST, f->f_addr, strerror(err));
	event_free(f->f_ev);
	f->f_ev = NULL;
	close(f->f_fd);
	f->f_fd = -1;
	flow_try(f);
}

/* Connect to the next address, or refuse if none is left. */
static void
flow_try(struct flow *f)
{
	const struct sockaddr	*sa;
	int			 fd;

	while (f->f_next < f->f_naddrs) {
		sa = (const struct sockaddr *)&f->f_addrs[f->f_next];
		addr_text(sa, f->f_addr, sizeof(f->f_addr));
		fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd != -1 && connect(fd, sa, f->f_addrlen[f->f_next]) == 0) {
			f->f_next++;
			f->f_fd = fd;
			flow_connected(f);
			return;
		}
		f->f_next++;
		if (fd != -1 && errno == EINPROGRESS) {
			f->f_fd = fd;
			f->f_state = F_CONNECTING;
			if ((f->f_ev = event_new(sv.base, fd, EV_WRITE,
			    flow_connect_cb, f)) == NULL)
				fatalx("event_new");
			event_add(f->f_ev, NULL);
			return;
		}
		if (fd != -1)
			close(fd);
	}
	flow_refuse(f, MVM_NET_CONNECT, NULL);
}

/*
 * Keep the addresses no rule denies; if every address was denied, the
 * flow is refused with the first one's range.
 */
static void
flow_addrs(struct flow *f, const struct evutil_addrinfo *ai)
{
	const char	*range, *first = NULL;
	char		 denied[INET6_ADDRSTRLEN] = "";

	for (; ai != NULL && f->f_naddrs < NET_ADDRS_MAX; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(f->f_addrs[0]))
			continue;
		if ((range = policy_addr_denied(ai->ai_addr)) != NULL) {
			if (first == NULL) {
				first = range;
				addr_text(ai->ai_addr, denied, sizeof(denied));
			}
			continue;
		}
		memcpy(&f->f_addrs[f->f_naddrs], ai->ai_addr, ai->ai_addrlen);
		f->f_addrlen[f->f_naddrs++] = ai->ai_addrlen;
	}
	if (f->f_naddrs == 0 && first != NULL) {
		(void)strlcpy(f->f_addr, denied, sizeof(f->f_addr));
		flow_refuse(f, MVM_NET_DENIED_ADDRESS, first);
		return;
	}
	if (f->f_naddrs == 0) {
		flow_refuse(f, MVM_NET_RESOLVE, NULL);
		return;
	}
	flow_try(f);
}

static void
flow_resolved_cb(int err, struct evutil_addrinfo *ai, void *key)
{
	struct flow	*f = flow_from_key(key);

	if (f == NULL || err == EVUTIL_EAI_CANCEL) {
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	f->f_req = NULL;
	if (err != 0) {
		log_debug("%s: resolve: %s", f->f_guest->g_name,
		    evutil_gai_strerror(err));
		flow_refuse(f, MVM_NET_RESOLVE, NULL);
	} else
		flow_addrs(f, ai);
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
}

static void
flow_resolve(struct flow *f)
{
	struct evutil_addrinfo		 hints;
	struct sockaddr_in		 sin;
	struct evutil_addrinfo		 one;
	struct evdns_getaddrinfo_request *r;
	char				 port[8];
	void				*key = flow_key(f);

	if (ap_net_host(f->f_host) == AP_HOST_IPV4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(f->f_port);
		(void)inet_pton(AF_INET, f->f_host, &sin.sin_addr);
		memset(&one, 0, sizeof(one));
		one.ai_family = AF_INET;
		one.ai_addr = (struct sockaddr *)&sin;
		one.ai_addrlen = sizeof(sin);
		flow_addrs(f, &one);
		return;
	}
	if (dns == NULL && (dns = evdns_base_new(sv.base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL) {
		log_warnx("evdns_base_new failed");
		flow_refuse(f, MVM_NET_RESOLVE, NULL);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	(void)snprintf(port, sizeof(port), "%u", f->f_port);
	f->f_state = F_RESOLVING;
	/* the callback may run (and end the flow) before this returns */
	r = evdns_getaddrinfo(dns, f->f_host, port, &hints, flow_resolved_cb,
	    key);
	if (r != NULL && (f = flow_from_key(key)) != NULL)
		f->f_req = r;
}

/* ------------------------------------------------------------------ */

/*
 * Grants for a run or up: "HOST:PORT", or a preset's name.  Filled into
 * g (deduplicated); 0, or an MVM_E* code with msg.  *rule is set to
 * POLICY_RULE_NETWORK (with msg) for a grant no policy lets through: an
 * IPv4 literal in a denied range.
 */
uint32_t
net_grants_parse(const char *const *s, uint32_t n, struct netgrant **out,
    int *nout, const char **rule, char *msg, size_t len)
{
	struct netgrant		*g;
	const char *const	*pre;
	const char		*one[2] = { NULL, NULL }, *colon, *range;
	struct sockaddr_in	 sin;
	char			 host[AP_NET_HOST_MAX + 1], *end;
	unsigned long		 port;
	uint32_t		 i;
	int			 j, k, ng = 0;

	*rule = NULL;
	*out = NULL;
	*nout = 0;
	if (n == 0)
		return (0);
	if ((g = calloc(MVM_NET_GRANTS_MAX, sizeof(*g))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		if (strrchr(s[i], ':') == NULL) {
			if ((pre = policy_preset(s[i])) == NULL) {
				(void)snprintf(msg, len, "--allow %.64s: not "
				    "HOST:PORT and no such preset", s[i]);
				goto bad;
			}
		} else {
			one[0] = s[i];
			pre = one;
		}
		for (k = 0; pre[k] != NULL; k++) {
			colon = strrchr(pre[k], ':');
			if ((size_t)(colon - pre[k]) >= sizeof(host) ||
			    colon == pre[k])
				goto badsyntax;
			memcpy(host, pre[k], colon - pre[k]);
			host[colon - pre[k]] = '\0';
			errno = 0;
			port = strtoul(colon + 1, &end, 10);
			if (colon[1] < '1' || colon[1] > '9' || *end != '\0' ||
			    port > 65535 || ap_net_host(host) == 0 ||
			    strlen(host) > MVM_NET_GRANT_HOST_MAX)
				goto badsyntax;
			for (end = host; *end != '\0'; end++)
				if (*end >= 'A' && *end <= 'Z')
					*end += 'a' - 'A';
			if (ap_net_host(host) == AP_HOST_IPV4) {
				memset(&sin, 0, sizeof(sin));
				sin.sin_family = AF_INET;
				(void)inet_pton(AF_INET, host, &sin.sin_addr);
				if ((range = policy_addr_denied(
				    (struct sockaddr *)&sin)) != NULL) {
					(void)snprintf(msg, len, "--allow %s: "
					    "%s addresses are always denied",
					    pre[k], range);
					*rule = POLICY_RULE_NETWORK;
					goto bad;
				}
			}
			for (j = 0; j < ng; j++)
				if (g[j].ng_port == port &&
				    strcmp(g[j].ng_host, host) == 0)
					break;
			if (j < ng)
				continue;
			if (ng == MVM_NET_GRANTS_MAX) {
				(void)snprintf(msg, len, "more than %d grants",
				    MVM_NET_GRANTS_MAX);
				free(g);
				return (MVM_ETOOBIG);
			}
			(void)strlcpy(g[ng].ng_host, host,
			    sizeof(g[ng].ng_host));
			g[ng++].ng_port = port;
		}
	}
	*out = g;
	*nout = ng;
	return (0);
badsyntax:
	(void)snprintf(msg, len, "--allow %.64s: HOST:PORT with a DNS name "
	    "of at most %d bytes or an IPv4 address, and a port 1-65535",
	    s[i], MVM_NET_GRANT_HOST_MAX);
bad:
	free(g);
	return (*rule != NULL ? MVM_EPOLICY : MVM_EINVAL);
}

/* Before the guest starts: its grants, for the agent to listen on. */
void
net_send_grants(struct guest *g)
{
	struct mvm_vmm_net	 vn;
	int			 i;

	for (i = 0; i < g->g_nnet; i++) {
		memset(&vn, 0, sizeof(vn));
		vn.vn_port = g->g_net[i].ng_port;
		(void)strlcpy(vn.vn_host, g->g_net[i].ng_host,
		    sizeof(vn.vn_host));
		(void)peer_compose(&g->g_peer, IMSG_VMM_NET_GRANT, 0, -1, &vn,
		    sizeof(vn));
	}
}

/* IMSG_VMM_NET_OPEN: the guest asks for a flow. */
int
net_open(struct guest *g, struct imsg *imsg)
{
	struct mvm_vmm_net	 vn;
	struct flow		*f;
	int			 i;

	if (msg_get_vmm_net(imsg, &vn, NULL) == -1 || g->g_nnet == 0 ||
	    (vn.vn_id & AP_ID_GUEST) == 0 || vn.vn_id > AP_ID_GUEST_LAST ||
	    vn.vn_id <= g->g_net_idseen || vn.vn_port == 0 ||
	    ap_net_host(vn.vn_host) == 0 || vn.vn_reason != 0 ||
	    g->g_nflows >= AP_NET_FLOWS_MAX)
		return (PEER_BAD);
	g->g_net_idseen = vn.vn_id;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("calloc");
	f->f_guest = g;
	f->f_id = vn.vn_id;
	f->f_port = vn.vn_port;
	f->f_fd = -1;
	f->f_grant = -1;
	f->f_t0 = now_ms();
	(void)strlcpy(f->f_host, vn.vn_host, sizeof(f->f_host));
	TAILQ_INSERT_TAIL(&g->g_flows, f, f_entry);
	g->g_nflows++;
	for (i = 0; i < g->g_nnet; i++)
		if (strcasecmp(g->g_net[i].ng_host, f->f_host) == 0) {
			f->f_grant = i;		/* the name is granted */
			if (g->g_net[i].ng_port == f->f_port)
				break;
		}
	if (i == g->g_nnet) {
		flow_refuse(f, MVM_NET_NOT_GRANTED, NULL);
		return (PEER_OK);
	}
	f->f_grant = i;
	if ((uint32_t)g->g_nflows > sv.conf.c_net_flows_max ||
	    g->g_net_bytes >= (uint64_t)sv.conf.c_net_mib * 1024 * 1024) {
		flow_refuse(f, MVM_NET_LIMIT, NULL);
		return (PEER_OK);
	}
	if ((f->f_timer = evtimer_new(sv.base, flow_timeout_cb, f)) == NULL)
		fatalx("evtimer_new");
	{
		struct timeval	 tv = { MVM_NET_CONNECT_MS / 1000, 0 };

		evtimer_add(f->f_timer, &tv);
	}
	flow_resolve(f);
	return (PEER_OK);
}

/* IMSG_VMM_NET_CLOSED: a flow the vmm had is over. */
int
net_closed(struct guest *g, struct imsg *imsg)
{
	struct mvm_audit_event	 ev;
	struct mvm_vmm_net	 vn;
	struct flow		*f;

	if (msg_get_vmm_net(imsg, &vn, NULL) == -1 ||
	    vn.vn_reason < MVM_NET_LIMIT)
		return (PEER_BAD);
	if ((f = flow_find(g, vn.vn_id)) == NULL)
		/* ended here already (the guest stopped): fine; else a lie */
		return ((vn.vn_id & AP_ID_GUEST) && vn.vn_id <=
		    g->g_net_idseen ? PEER_OK : PEER_BAD);
	if (f->f_state != F_OPEN)
		return (PEER_BAD);
	g->g_net_bytes += vn.vn_bytes_out + vn.vn_bytes_in;
	sv.metrics.cm_net_bytes_out += vn.vn_bytes_out;
	sv.metrics.cm_net_bytes_in += vn.vn_bytes_in;
	flow_event(&ev, "net.flow_closed", f);
	aev_label(&ev, "reason", mvm_net_reason(vn.vn_reason));
	aev_label_int(&ev, "bytes_out", (int64_t)vn.vn_bytes_out);
	aev_label_int(&ev, "bytes_in", (int64_t)vn.vn_bytes_in);
	aev_label_int(&ev, "ms", (int64_t)(now_ms() - f->f_t1));
	(void)audit_send(&ev, NULL, NULL);
	flow_free(f);
	return (PEER_OK);
}

/*
 * The vmm is gone: flows still being opened are dropped; an open flow
 * it did not report is recorded as stopped, its bytes unknown (0).
 */
void
net_guest_gone(struct guest *g)
{
	struct mvm_audit_event	 ev;
	struct flow		*f;

	while ((f = TAILQ_FIRST(&g->g_flows)) != NULL) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): TAILQ FP */
		if (f->f_state == F_OPEN) {
			flow_event(&ev, "net.flow_closed", f);
			aev_label(&ev, "reason", "stopped");
			aev_label_int(&ev, "bytes_out", 0);
			aev_label_int(&ev, "bytes_in", 0);
			aev_label_int(&ev, "ms", (int64_t)(now_ms() - f->f_t1));
			(void)audit_send(&ev, NULL, NULL);
		}
		flow_free(f);
	}
}
