/*
 * net.c: egress flows (agentproto.h, "Egress").  The vmm is the relay
 * between a flow's frames on the agent channel and a TCP socket the
 * supervisor connected and passed in (IMSG_VMM_NET_FD).  The vmm never
 * opens a network socket itself: its network namespace is empty and its
 * seccomp filter allows only AF_UNIX sockets.  It decides nothing about
 * where a flow may go; it checks that the guest keeps the protocol
 * (ids, window, order) and counts bytes against the guest's egress
 * budget (vc_net_mib).  A guest that breaks the protocol is failed.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "vmm.h"

#define NF_OPENED	0x01	/* NET_OPENED sent: bytes may flow */
#define NF_GUEST_EOF	0x02	/* the guest ended its direction */
#define NF_REMOTE_EOF	0x04	/* the remote ended its direction */
#define NF_EOF_SENT	0x08	/* ... and the guest was told */
#define NF_SHUT		0x10	/* shutdown(SHUT_WR) done */
#define NF_CANCELLED	0x20	/* closed by the guest before an answer */

struct nflow {
	uint32_t		 id;	/* 0: free slot */
	int			 flags;
	struct bufferevent	*bev;
	size_t			 credit;	/* bytes we may send the guest */
	size_t			 unacked;	/* guest's bytes not yet written */
	uint64_t		 bytes_out;	/* guest -> remote */
	uint64_t		 bytes_in;	/* remote -> guest */
};

static struct nflow	 flows[AP_NET_FLOWS_MAX];
static uint32_t		 id_seen;	/* the highest flow id opened */
static uint64_t		 bytes_total;	/* all flows, both ways */

static void	 flow_read_cb(struct bufferevent *, void *);
static void	 flow_write_cb(struct bufferevent *, void *);
static void	 flow_event_cb(struct bufferevent *, short, void *);
static void	 flow_drained(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);

static struct nflow *
flow_find(uint32_t id)
{
	int	 i;

	for (i = 0; i < AP_NET_FLOWS_MAX; i++)
		if (flows[i].id == id && id != 0)
			return (&flows[i]);
	return (NULL);
}

/* Tell the supervisor a flow is over (it audits net.flow_closed). */
static void
flow_report(struct nflow *f, uint32_t reason)
{
	struct mvm_vmm_net	 vn;

	memset(&vn, 0, sizeof(vn));
	vn.vn_id = f->id;
	vn.vn_reason = reason;
	vn.vn_bytes_out = f->bytes_out;
	vn.vn_bytes_in = f->bytes_in;
	if (peer_compose(&vm.parent, IMSG_VMM_NET_CLOSED, vm.vc.vc_guest, -1,
	    &vn, sizeof(vn)) == -1)
		fatal("compose");
}

/* Forget a flow; tell the guest unless it is the one that closed it. */
static void
flow_end(struct nflow *f, uint32_t reason, int tell_guest)
{
	if (tell_guest)
		agent_frame_send(AP_NET_CLOSE, f->id, "{}", 2);
	if (f->flags & NF_OPENED)
		flow_report(f, reason);
	if (f->bev != NULL) {
		evbuffer_remove_cb(bufferevent_get_output(f->bev),
		    flow_drained, f);
		bufferevent_free(f->bev);	/* closes the socket */
	}
	memset(f, 0, sizeof(*f));
}

static int
over_budget(void)
{
	return (vm.vc.vc_net_mib != 0 &&
	    bytes_total >= (uint64_t)vm.vc.vc_net_mib * 1024 * 1024);
}

/*
 * Both directions ended, everything the guest sent written to the
 * socket, and everything sent to the guest acknowledged (so written to
 * its socket too): the flow is done.  NET_CLOSE any earlier could cut
 * off bytes the agent still holds.
 */
static void
flow_check_done(struct nflow *f)
{
	if ((f->flags & (NF_GUEST_EOF | NF_EOF_SENT | NF_SHUT)) ==
	    (NF_GUEST_EOF | NF_EOF_SENT | NF_SHUT) && f->unacked == 0 &&
	    f->credit == AP_NET_WINDOW)
		flow_end(f, MVM_NET_DONE, 1);
}

/* The guest's end of stream reaches the socket once its bytes have. */
static void
flow_maybe_shut(struct nflow *f)
{
	if ((f->flags & (NF_GUEST_EOF | NF_SHUT)) != NF_GUEST_EOF ||
	    evbuffer_get_length(bufferevent_get_output(f->bev)) != 0)
		return;
	(void)shutdown(bufferevent_getfd(f->bev), SHUT_WR);
	f->flags |= NF_SHUT;
	flow_check_done(f);
}

/*
 * remote -> guest, as far as the guest's window allows; the remote's end
 * of stream follows its last byte.  The bufferevent reads no more than
 * a window ahead (its read high-water mark) and goes on by itself as we
 * take bytes out.  f may be over (id 0) when this returns.
 */
static void
flow_pump(struct nflow *f)
{
	struct evbuffer	*in = bufferevent_get_input(f->bev);
	uint8_t		 buf[MVM_DATA_MAX];
	size_t		 n;
	int		 r;

	while (f->credit > 0 && evbuffer_get_length(in) > 0) {
		n = evbuffer_get_length(in);
		if (n > sizeof(buf))
			n = sizeof(buf);
		if (n > f->credit)
			n = f->credit;
		if ((r = evbuffer_remove(in, buf, n)) <= 0)
			break;
		agent_frame_send(AP_NET_DATA, f->id, buf, r);
		f->credit -= r;
		f->bytes_in += r;
		bytes_total += r;
	}
	/* a full window: read no more (libevent 2.1.11 would spin, #891) */
	if (f->credit == 0)
		bufferevent_disable(f->bev, EV_READ);
	else if ((f->flags & NF_REMOTE_EOF) == 0)
		bufferevent_enable(f->bev, EV_READ);
	if (over_budget()) {
		flow_end(f, MVM_NET_LIMIT, 1);
		return;
	}
	if ((f->flags & (NF_REMOTE_EOF | NF_EOF_SENT)) == NF_REMOTE_EOF &&
	    evbuffer_get_length(in) == 0) {
		agent_frame_send(AP_NET_DATA, f->id, NULL, 0);
		f->flags |= NF_EOF_SENT;
		flow_check_done(f);
	}
}

static void
flow_read_cb(struct bufferevent *bev, void *arg)
{
	struct nflow	*f = arg;

	(void)bev;
	flow_pump(f);
}

static void
flow_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	flow_maybe_shut(arg);
}

/* The socket took bytes the guest sent: give the guest its window back. */
static void
flow_drained(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct nflow	*f = arg;

	(void)b;
	if (info->n_deleted == 0 || f->id == 0)
		return;
	if (info->n_deleted > f->unacked)
		fatalx("%s: more written than sent", __func__);
	f->unacked -= info->n_deleted;
	agent_json_send(AP_NET_ACK, f->id, json_pack("{s:I}", "bytes",
	    (json_int_t)info->n_deleted));
}

static void
flow_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct nflow	*f = arg;

	(void)bev;
	if (what & BEV_EVENT_ERROR) {
		flow_end(f, MVM_NET_ERROR, 1);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		f->flags |= NF_REMOTE_EOF;
		flow_pump(f);
	}
}

/* ------------------------------------------------------------------ */
/* guest frames */

/* A NET_OPEN from the guest: ask the supervisor.  -1: protocol error. */
int
net_open(const struct ap_frame *af, json_t *o)
{
	static const char *const names[] = { "host", "port", NULL };
	struct mvm_vmm_net	 vn;
	const char		*host;
	const char		*k;
	json_t			*v, *p;
	int			 i, slot = -1;

	json_object_foreach(o, k, v) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (names[i] == NULL)
			return (-1);
	}
	host = json_string_value(json_object_get(o, "host"));
	p = json_object_get(o, "port");
	if (host == NULL || ap_net_host(host) == 0 || !json_is_integer(p) ||
	    json_integer_value(p) < 1 || json_integer_value(p) > 65535)
		return (-1);
	/* ids: the agent's range, increasing, never reused */
	if ((af->f_id & AP_ID_GUEST) == 0 || af->f_id > AP_ID_GUEST_LAST ||
	    af->f_id <= id_seen)
		return (-1);
	for (i = 0; i < AP_NET_FLOWS_MAX; i++)
		if (flows[i].id == 0) {
			slot = i;
			break;
		}
	if (slot == -1)
		return (-1);	/* the agent keeps to AP_NET_FLOWS_MAX */
	id_seen = af->f_id;
	flows[slot].id = af->f_id;
	/* even past the budget: the supervisor refuses it, and audits that */
	memset(&vn, 0, sizeof(vn));
	vn.vn_id = af->f_id;
	vn.vn_port = json_integer_value(p);
	(void)strlcpy(vn.vn_host, host, sizeof(vn.vn_host));
	if (peer_compose(&vm.parent, IMSG_VMM_NET_OPEN, vm.vc.vc_guest, -1,
	    &vn, sizeof(vn)) == -1)
		fatal("compose");
	return (0);
}

/*
 * NET_DATA, NET_ACK and NET_CLOSE from the guest.  A frame for a flow
 * that is over (an id we have seen) crossed its end on the wire and is
 * ignored; an id never opened is a protocol error (-1).
 */
int
net_frame(const struct ap_frame *af, json_t *o)
{
	struct nflow	*f = flow_find(af->f_id);
	json_t		*v;
	uint64_t	 n;

	if (f == NULL)
		return ((af->f_id & AP_ID_GUEST) && af->f_id <= id_seen &&
		    af->f_id != 0 ? 0 : -1);
	if (f->flags & NF_CANCELLED)
		return (0);	/* crossed its NET_CLOSE */
	switch (af->f_type) {
	case AP_NET_DATA:
		if ((f->flags & NF_OPENED) == 0 || (f->flags & NF_GUEST_EOF))
			return (-1);
		if (af->f_len == 0) {
			f->flags |= NF_GUEST_EOF;
			flow_maybe_shut(f);
			return (0);
		}
		if (f->unacked + af->f_len > AP_NET_WINDOW)
			return (-1);
		f->unacked += af->f_len;
		f->bytes_out += af->f_len;
		bytes_total += af->f_len;
		if (bufferevent_write(f->bev, af->f_data, af->f_len) == -1)
			fatalx("bufferevent_write");
		if (over_budget())
			flow_end(f, MVM_NET_LIMIT, 1);
		return (0);
	case AP_NET_ACK:
		v = o != NULL ? json_object_get(o, "bytes") : NULL;
		if ((f->flags & NF_OPENED) == 0 || o == NULL ||
		    json_object_size(o) != 1 || !json_is_integer(v) ||
		    json_integer_value(v) <= 0)
			return (-1);
		n = json_integer_value(v);
		if (f->credit + n > AP_NET_WINDOW)
			return (-1);	/* more than was ever sent */
		f->credit += n;
		flow_pump(f);
		if (f->id != 0)
			flow_check_done(f);
		return (0);
	case AP_NET_CLOSE:
		if (o == NULL || json_object_size(o) != 0)
			return (-1);
		if ((f->flags & NF_OPENED) == 0) {
			/* the supervisor's answer is on its way: wait for it,
			 * so an opened socket is closed and reported */
			f->flags |= NF_CANCELLED;
			return (0);
		}
		flow_end(f, MVM_NET_GUEST, 0);
		return (0);
	}
	return (-1);
}

/* ------------------------------------------------------------------ */
/* supervisor messages */

void
net_fd(struct imsg *imsg)
{
	struct mvm_vmm_net	 vn;
	struct nflow		*f;
	int			 fd;

	if (msg_get_vmm_net(imsg, &vn, &fd) == -1)
		fatalx("malformed VMM_NET_FD");
	if ((f = flow_find(vn.vn_id)) == NULL || (f->flags & NF_OPENED))
		fatalx("VMM_NET_FD for flow %u we did not ask for", vn.vn_id);
	if (f->flags & NF_CANCELLED) {
		/* opened for nobody: closed at once, reported as such */
		close(fd);
		f->flags |= NF_OPENED;
		flow_end(f, MVM_NET_GUEST, 0);
		return;
	}
	if ((f->bev = bufferevent_socket_new(vm.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("bufferevent_socket_new");
	f->flags |= NF_OPENED;
	f->credit = AP_NET_WINDOW;
	bufferevent_setcb(f->bev, flow_read_cb, flow_write_cb, flow_event_cb,
	    f);
	/* read no more than the guest's window ahead */
	bufferevent_setwatermark(f->bev, EV_READ, 0, AP_NET_WINDOW);
	evbuffer_add_cb(bufferevent_get_output(f->bev), flow_drained, f);
	agent_frame_send(AP_NET_OPENED, f->id, "{}", 2);
	bufferevent_enable(f->bev, EV_READ | EV_WRITE);
}

void
net_refused(struct imsg *imsg)
{
	struct mvm_vmm_net	 vn;
	struct nflow		*f;

	if (msg_get_vmm_net(imsg, &vn, NULL) == -1 || vn.vn_reason == 0 ||
	    vn.vn_reason > MVM_NET_LIMIT)
		fatalx("malformed VMM_NET_REFUSED");
	if ((f = flow_find(vn.vn_id)) == NULL || (f->flags & NF_OPENED))
		fatalx("VMM_NET_REFUSED for flow %u we did not ask for",
		    vn.vn_id);
	if (f->flags & NF_CANCELLED) {
		memset(f, 0, sizeof(*f));
		return;
	}
	agent_json_send(AP_NET_REFUSED, f->id, json_pack("{s:s}", "reason",
	    mvm_net_reason(vn.vn_reason)));
	memset(f, 0, sizeof(*f));
}

/* The guest is going away: every flow ends, each one reported. */
void
net_closeall(void)
{
	int	 i;

	for (i = 0; i < AP_NET_FLOWS_MAX; i++)
		if (flows[i].id != 0)
			flow_end(&flows[i], MVM_NET_STOPPED, 0);
}
