/*
 * agent.c: the bridge between the supervisor (typed imsg structs) and
 * the guest agent (libshared/agentproto.h frames).  Everything the guest
 * sends is parsed here, in the jail, and turned into fixed structs; the
 * supervisor never sees guest JSON.  A frame that breaks the protocol
 * (bad framing, unknown type, bad JSON, an id with nothing outstanding)
 * fails the guest: it is stopped and reported as failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "share.h"
#include "vmm.h"

#define REQ_MAX		64	/* requests outstanding at once */
#define REQ_EXEC	1
#define REQ_GET		2
#define REQ_PUT		3
#define REQ_SHUTDOWN	4
#define REQ_DIRPUT	5
#define REQ_DIRGET	6
#define ID_SHUTDOWN	0xffffffffU
#define AGENT_OUT_HIGH	(2 * 1024 * 1024)	/* pause the supervisor */

/*
 * Requests outstanding.  An EXEC stays "started" until its EXIT; after
 * that (and after any request ends) its id is kept a while as "done":
 * the agent answers a STDIN or SIGNAL that crossed the EXIT on the wire
 * with an ERROR under the EXEC's id, which is then expected, not a
 * protocol violation.
 */
#define RS_ACTIVE	1
#define RS_STARTED	2	/* EXEC: the agent said STARTED */
#define RS_DONE		3
static struct {
	uint32_t	 id;
	int		 kind;	/* 0: free slot */
	int		 state;
	uint64_t	 when;	/* done: order of ending, to reuse */
	uint64_t	 max;	/* FILE_GET: bytes the agent may send */
	uint64_t	 got;	/* FILE_GET: bytes it sent */
} reqs[REQ_MAX];
static uint64_t		 req_clock;
static struct event	*resume_timer;

/*
 * The DIR_GET under way: the guest's stream goes through the share
 * reader here before the supervisor sees a byte of it (one at a time).
 */
static struct {
	uint32_t		 id;
	uint64_t		 max;
	uint64_t		 size;
	struct share_reader	 rd;
} dget;

static void	 agent_read_cb(struct bufferevent *, void *);
static void	 agent_write_cb(struct bufferevent *, void *);
static void	 agent_frame(const struct ap_frame *);
static void	 grants_send(void);
static int	 agent_dir_data(const struct ap_frame *);
static int	 agent_dir_end(const struct ap_frame *);
static int	 agent_file_data_in(const struct ap_frame *);
static void	 agent_file_broken(uint32_t, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
req_find(uint32_t id)
{
	int	 i;

	for (i = 0; i < REQ_MAX; i++)
		if (reqs[i].kind != 0 && reqs[i].id == id)
			return (i);
	return (-1);
}

static int
req_add(uint32_t id, int kind)
{
	int	 i, slot = -1;

	if ((i = req_find(id)) != -1) {
		if (reqs[i].state != RS_DONE)
			return (-1);		/* id in use */
		slot = i;
	}
	for (i = 0; slot == -1 && i < REQ_MAX; i++)
		if (reqs[i].kind == 0)
			slot = i;
	for (i = 0; slot == -1 && i < REQ_MAX; i++)	/* oldest done */
		if (reqs[i].state == RS_DONE && (slot == -1 ||
		    reqs[i].when < reqs[slot].when))
			slot = i;
	if (slot == -1)
		return (-1);
	reqs[slot].id = id;
	reqs[slot].kind = kind;
	reqs[slot].state = RS_ACTIVE;
	reqs[slot].max = reqs[slot].got = 0;
	return (0);
}

/* kind of an outstanding (not done) request, or 0 */
static int
req_kind(uint32_t id)
{
	int	 i = req_find(id);

	return (i != -1 && reqs[i].state != RS_DONE ? reqs[i].kind : 0);
}

static int
req_state(uint32_t id)
{
	int	 i = req_find(id);

	return (i != -1 ? reqs[i].state : 0);
}

static void
req_set(uint32_t id, int state)
{
	int	 i = req_find(id);

	if (i == -1)
		return;
	reqs[i].state = state;
	reqs[i].when = ++req_clock;
}

static void
req_done(uint32_t id)
{
	req_set(id, RS_DONE);
}

/*
 * One frame to the guest.  A guest slower than the supervisor (a share
 * or a file on its way in) would have the frames pile up here: above
 * AGENT_OUT_HIGH queued bytes the supervisor is not read until the
 * guest has taken half of them (agent_write_cb).
 */
void
agent_frame_send(uint32_t type, uint32_t id, const void *data, size_t len)
{
	struct evbuffer	*out;
	uint8_t		 hdr[AP_HDR_LEN];

	if (vm.agent == NULL || ap_header(hdr, type, id, len) == -1)
		return;
	out = bufferevent_get_output(vm.agent);
	evbuffer_add(out, hdr, sizeof(hdr));
	if (len > 0)
		evbuffer_add(out, data, len);
	if (evbuffer_get_length(out) > AGENT_OUT_HIGH && !vm.parent_paused) {
		vm.parent_paused = 1;
		peer_pause(&vm.parent, 1);
	}
}

/* The guest took what was queued (below the low watermark). */
static void
agent_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)arg;
	if (vm.parent_paused) {
		vm.parent_paused = 0;
		peer_pause(&vm.parent, 0);
	}
}

void
agent_json_send(uint32_t type, uint32_t id, json_t *o)
{
	char	*s;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: json", __func__);
	json_decref(o);
	if (strlen(s) > AP_PAYLOAD_MAX)
		log_warnx("request too large for one frame; dropped");
	else
		agent_frame_send(type, id, s, strlen(s));
	free(s);
}

void
agent_connected(struct bufferevent *bev)
{
	if (ap_rbuf_init(&vm.rbuf) == -1)
		fatal("ap_rbuf_init");
	bufferevent_setcb(bev, agent_read_cb, agent_write_cb, NULL, NULL);
	bufferevent_setwatermark(bev, EV_WRITE, AGENT_OUT_HIGH / 2, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	agent_json_send(AP_HELLO, 0, json_pack("{s:i, s:i, s:s}", "proto_min",
	    AP_PROTO_VERSION, "proto_max", AP_PROTO_VERSION, "host",
	    "mvm " MVM_VERSION));
	vm.hello_sent = 1;
}

/* The supervisor is slow: stop reading the guest until it catches up. */
static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { 0, 10000 };

	(void)fd;
	(void)ev;
	(void)arg;
	if (peer_queued(&vm.parent) > VMM_OUT_HIGH / 2) {
		evtimer_add(resume_timer, &tv);
		return;
	}
	vm.agent_paused = 0;
	bufferevent_enable(vm.agent, EV_READ);
	agent_read_cb(vm.agent, NULL);
}

static void
agent_pause(void)
{
	struct timeval	 tv = { 0, 10000 };

	vm.agent_paused = 1;
	bufferevent_disable(vm.agent, EV_READ);
	if (resume_timer == NULL &&
	    (resume_timer = evtimer_new(vm.base, resume_cb, NULL)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(resume_timer, &tv);
}

static void
agent_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct ap_frame	 f;
	uint8_t		*space;
	size_t		 room, n;
	int		 r;

	(void)arg;
	while (!vm.agent_paused && vm.done_reason == 0) {
		for (;;) {
			r = ap_take(&vm.rbuf, &f);
			if (r == -1) {
				qemu_fail(MVM_DONE_PROTOCOL, "the agent sent a "
				    "malformed frame");
				return;
			}
			if (r == 0)
				break;
			agent_frame(&f);
			if (vm.done_reason != 0)
				return;
			if (peer_queued(&vm.parent) > VMM_OUT_HIGH) {
				agent_pause();
				return;
			}
		}
		if (evbuffer_get_length(in) == 0)
			break;
		space = ap_rbuf_space(&vm.rbuf, &room);
		n = evbuffer_remove(in, space, room);
		ap_rbuf_fill(&vm.rbuf, n);
	}
}

/* ------------------------------------------------------------------ */
/* guest -> supervisor */

static json_t *
frame_json(const struct ap_frame *f)
{
	json_t	*o;

	o = json_loadb((const char *)f->f_data, f->f_len,
	    JSON_REJECT_DUPLICATES, NULL);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return (o);
}

/* Every member of o is one of names: the protocol refuses the rest. */
static int
json_only(json_t *o, const char *const *names)
{
	const char	*k;
	json_t		*v;
	int		 i;

	json_object_foreach(o, k, v) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (names[i] == NULL)
			return (-1);
	}
	return (0);
}

static int
json_uint(json_t *o, const char *k, uint64_t max, uint64_t *out)
{
	json_t	*v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return (-1);
	*out = json_integer_value(v);
	return (0);
}

/* a short printable string out of the guest, or -1 */
static int
json_text(json_t *o, const char *k, char *out, size_t len)
{
	const char	*s;
	size_t		 i;

	if ((s = json_string_value(json_object_get(o, k))) == NULL ||
	    strlen(s) >= len)
		return (-1);
	for (i = 0; s[i] != '\0'; i++)
		out[i] = (s[i] < ' ' || s[i] > '~') ? '?' : s[i];
	out[i] = '\0';
	return (0);
}

static int
agent_hello(const struct ap_frame *f)
{
	static const char *const names[] = { "proto", "agent", "caps",
	    "uptime_ms", "kernel", NULL };
	json_t		*o = frame_json(f);
	char		 agent[32], kernel[64];
	uint64_t	 proto, uptime;
	int		 rc = -1;

	if (o == NULL || json_only(o, names) == -1 ||
	    json_uint(o, "proto", 1000, &proto) == -1 ||
	    proto != AP_PROTO_VERSION ||
	    json_uint(o, "uptime_ms", UINT32_MAX, &uptime) == -1 ||
	    json_text(o, "agent", agent, sizeof(agent)) == -1 ||
	    json_text(o, "kernel", kernel, sizeof(kernel)) == -1 ||
	    !json_is_array(json_object_get(o, "caps")))
		goto done;
	evtimer_del(vm.boot_timer);
	phase_send(MVM_PHASE_HELLO, agent, kernel, uptime, (uint32_t)proto);
	(void)strlcpy(vm.agent_name, agent, sizeof(vm.agent_name));
	(void)strlcpy(vm.agent_kernel, kernel, sizeof(vm.agent_kernel));
	vm.agent_uptime = uptime;
	rc = 0;
	if (vm.ngrants > 0) {
		/* ready once the agent listens for the grants */
		grants_send();
		vm.grants_pending = 1;
	} else {
		vm.ready = 1;
		phase_send(MVM_PHASE_READY, agent, kernel, uptime,
		    AP_PROTO_VERSION);
	}
done:
	json_decref(o);
	return (rc);
}

static int
agent_exit(const struct ap_frame *f)
{
	static const char *const names[] = { "code", "signal", "timed_out",
	    "stdout_bytes", "stderr_bytes", "stdout_truncated",
	    "stderr_truncated", NULL };
	struct mvm_vmm_exit	 vx;
	json_t			*o = frame_json(f), *v;
	uint64_t		 u;
	int			 rc = -1;

	memset(&vx, 0, sizeof(vx));
	vx.vx_id = f->f_id;
	if (o == NULL || json_only(o, names) == -1)
		goto done;
	v = json_object_get(o, "code");
	if (json_is_integer(v)) {
		if (json_uint(o, "code", 255, &u) == -1)
			goto done;
		vx.vx_code = u;
		vx.vx_flags |= MVM_EXIT_CODE;
	} else if (!json_is_null(v))
		goto done;
	v = json_object_get(o, "signal");
	if (json_is_integer(v)) {
		if (json_uint(o, "signal", 64, &u) == -1 || u == 0)
			goto done;
		vx.vx_signal = u;
		vx.vx_flags |= MVM_EXIT_SIGNAL;
	} else if (!json_is_null(v))
		goto done;
	if (!json_is_boolean(json_object_get(o, "timed_out")) ||
	    !json_is_boolean(json_object_get(o, "stdout_truncated")) ||
	    !json_is_boolean(json_object_get(o, "stderr_truncated")) ||
	    json_uint(o, "stdout_bytes", INT64_MAX, &vx.vx_stdout_bytes) ==
	    -1 || json_uint(o, "stderr_bytes", INT64_MAX,
	    &vx.vx_stderr_bytes) == -1)
		goto done;
	if (json_is_true(json_object_get(o, "timed_out")))
		vx.vx_flags |= MVM_EXIT_TIMEDOUT;
	if (json_is_true(json_object_get(o, "stdout_truncated")))
		vx.vx_flags |= MVM_EXIT_OUT_TRUNC;
	if (json_is_true(json_object_get(o, "stderr_truncated")))
		vx.vx_flags |= MVM_EXIT_ERR_TRUNC;
	if ((vx.vx_flags & (MVM_EXIT_CODE | MVM_EXIT_SIGNAL)) == 0 ||
	    (vx.vx_flags & (MVM_EXIT_CODE | MVM_EXIT_SIGNAL)) ==
	    (MVM_EXIT_CODE | MVM_EXIT_SIGNAL))
		goto done;
	req_done(f->f_id);
	if (peer_compose(&vm.parent, IMSG_VMM_EXIT, vm.vc.vc_guest, -1, &vx,
	    sizeof(vx)) == -1)
		fatal("compose");
	rc = 0;
done:
	json_decref(o);
	return (rc);
}

static int
agent_error(const struct ap_frame *f)
{
	static const char *const codes[] = { "", "version", "not_ready",
	    "malformed", "unknown_type", "bad_request", "not_found",
	    "too_large", "io", "busy", "denied", NULL };
	static const char *const names[] = { "code", "message", NULL };
	struct mvm_vmm_error	 ve;
	json_t			*o = frame_json(f);
	const char		*code;
	int			 i, rc = -1;

	memset(&ve, 0, sizeof(ve));
	ve.ve_id = f->f_id;
	if (o == NULL || json_only(o, names) == -1 ||
	    (code = json_string_value(json_object_get(o, "code"))) == NULL)
		goto done;
	for (i = 1; codes[i] != NULL; i++)
		if (strcmp(code, codes[i]) == 0)
			ve.ve_code = i;
	if (ve.ve_code == 0)
		goto done;
	if (json_object_get(o, "message") != NULL &&
	    json_text(o, "message", ve.ve_msg, sizeof(ve.ve_msg)) == -1)
		(void)strlcpy(ve.ve_msg, "(unprintable)", sizeof(ve.ve_msg));
	req_done(f->f_id);
	if (peer_compose(&vm.parent, IMSG_VMM_ERROR, vm.vc.vc_guest, -1, &ve,
	    sizeof(ve)) == -1)
		fatal("compose");
	rc = 0;
done:
	json_decref(o);
	return (rc);
}

/* raw bytes in pieces the supervisor accepts */
static void
data_send(uint32_t type, uint32_t id, uint32_t stream, const uint8_t *p,
    size_t len)
{
	struct mvm_vmm_data	 vd;
	size_t			 n;

	memset(&vd, 0, sizeof(vd));
	vd.vd_id = id;
	vd.vd_stream = stream;
	do {
		n = len > MVM_DATA_MAX ? MVM_DATA_MAX : len;
		if (peer_composev2(&vm.parent, type, vm.vc.vc_guest, -1, &vd,
		    sizeof(vd), p, n) == -1)
			fatal("compose");
		p += n;
		len -= n;
	} while (len > 0);
}

/*
 * The agent broke a FILE_GET's contract: the copy ends with a typed
 * error (the supervisor tells its client), then the guest fails, as for
 * any other break of the protocol.
 */
static void
agent_file_broken(uint32_t id, const char *fmt, ...)
{
	struct mvm_vmm_error	 ve;
	va_list			 ap;

	memset(&ve, 0, sizeof(ve));
	ve.ve_id = id;
	ve.ve_code = MVM_AGENT_EPROTO;
	va_start(ap, fmt);
	(void)vsnprintf(ve.ve_msg, sizeof(ve.ve_msg), fmt, ap);
	va_end(ap);
	req_done(id);
	if (peer_compose(&vm.parent, IMSG_VMM_ERROR, vm.vc.vc_guest, -1, &ve,
	    sizeof(ve)) == -1)
		fatal("compose");
	qemu_fail(MVM_DONE_PROTOCOL, "%s", ve.ve_msg);
}

/* A FILE_GET's data: at most the max the supervisor gave. */
static int
agent_file_data_in(const struct ap_frame *f)
{
	int	 i = req_find(f->f_id);

#ifdef MVM_TEST_HOOKS
	if (vm.test_nocap)
		reqs[i].max = UINT64_MAX;
#endif
	if (f->f_len > reqs[i].max - reqs[i].got) {
		agent_file_broken(f->f_id, "the agent sent more than the %llu "
		    "bytes asked for", (unsigned long long)reqs[i].max);
		return (0);
	}
	reqs[i].got += f->f_len;
	data_send(IMSG_VMM_FILE_DATA, f->f_id, 0, f->f_data, f->f_len);
	return (0);
}

/* Its end: the size announced must be what came. */
static int
agent_file_end_in(const struct ap_frame *f)
{
	static const char *const names[] = { "size", "mode", NULL };
	struct mvm_vmm_file	 vf;
	json_t			*o = frame_json(f);
	uint64_t		 mode, got = reqs[req_find(f->f_id)].got;
	int			 rc = -1;

	memset(&vf, 0, sizeof(vf));
	vf.vf_id = f->f_id;
	if (o != NULL && json_only(o, names) == 0 &&
	    json_uint(o, "size", AP_FILE_MAX, &vf.vf_size) == 0 &&
	    json_uint(o, "mode", 07777, &mode) == 0) {
		rc = 0;
#ifdef MVM_TEST_HOOKS
		if (vm.test_nocap)
			got = vf.vf_size;
#endif
		if (vf.vf_size != got) {
			agent_file_broken(f->f_id, "the agent sent %llu bytes "
			    "and announced %llu", (unsigned long long)got,
			    (unsigned long long)vf.vf_size);
			goto done;
		}
		vf.vf_mode = mode;
		req_done(f->f_id);
		if (peer_compose(&vm.parent, IMSG_VMM_FILE_END, vm.vc.vc_guest,
		    -1, &vf, sizeof(vf)) == -1)
			fatal("compose");
	}
done:
	json_decref(o);
	return (rc);
}

static int
agent_started(const struct ap_frame *f)
{
	struct mvm_vmm_started	 vs;
	json_t			*o = frame_json(f);
	static const char *const names[] = { "pid", NULL };
	uint64_t		 pid;
	int			 rc = -1;

	if (o != NULL && json_only(o, names) == 0 &&
	    json_uint(o, "pid", INT32_MAX, &pid) == 0 &&
	    req_state(f->f_id) == RS_ACTIVE) {
		req_set(f->f_id, RS_STARTED);
		vs.vs_id = f->f_id;
		vs.vs_pid = pid;
		if (peer_compose(&vm.parent, IMSG_VMM_STARTED, vm.vc.vc_guest,
		    -1, &vs, sizeof(vs)) == -1)
			fatal("compose");
		rc = 0;
	}
	json_decref(o);
	return (rc);
}

static int
agent_ok(const struct ap_frame *f)
{
	struct mvm_vmm_data	 vd;
	int			 kind = req_kind(f->f_id);

	if (kind == REQ_SHUTDOWN || kind == REQ_EXEC)
		return (0);	/* QEMU exits soon; a signal was delivered */
	req_done(f->f_id);
	memset(&vd, 0, sizeof(vd));
	vd.vd_id = f->f_id;
	if (peer_compose(&vm.parent, IMSG_VMM_OK, vm.vc.vc_guest, -1, &vd,
	    sizeof(vd)) == -1)
		fatal("compose");
	return (0);
}

/*
 * A DIR_GET's stream: through the share reader (the stream must be
 * well formed and within max), then to the supervisor as it is.
 */
static int
agent_dir_data(const struct ap_frame *f)
{
	const uint8_t	*p = f->f_data, *d;
	size_t		 len = f->f_len, dn;
	int		 ev;

	if (f->f_len > dget.max - dget.size)
		return (-1);
	dget.size += f->f_len;
	while ((ev = share_read(&dget.rd, &p, &len, &d, &dn)) !=
	    SHARE_EV_MORE)
		if (ev == SHARE_EV_ERROR) {
			log_warnx("%s: the guest's share stream: %s",
			    vm.vc.vc_name, dget.rd.sr_why);
			return (-1);
		}
	if (f->f_len > 0)
		data_send(IMSG_VMM_FILE_DATA, f->f_id, 0, f->f_data, f->f_len);
	return (0);
}

/* Its end: the agent's counts must be what the reader counted. */
static int
agent_dir_end(const struct ap_frame *f)
{
	static const char *const names[] = { "size", "files", "bytes",
	    "skipped", NULL };
	struct mvm_vmm_share	 vh;
	json_t			*o = frame_json(f);
	int			 rc = -1;

	memset(&vh, 0, sizeof(vh));
	vh.vh_id = f->f_id;
	if (o != NULL && json_only(o, names) == 0 &&
	    json_uint(o, "size", SHARE_ARCHIVE_MAX, &vh.vh_size) == 0 &&
	    json_uint(o, "files", SHARE_FILES_MAX, &vh.vh_files) == 0 &&
	    json_uint(o, "bytes", SHARE_BYTES_MAX, &vh.vh_bytes) == 0 &&
	    json_uint(o, "skipped", UINT32_MAX, &vh.vh_skipped) == 0 &&
	    share_reader_done(&dget.rd) && vh.vh_size == dget.size &&
	    vh.vh_files == dget.rd.sr_entries &&
	    vh.vh_bytes == dget.rd.sr_bytes) {
		req_done(f->f_id);
		if (peer_compose(&vm.parent, IMSG_VMM_DIR_END, vm.vc.vc_guest,
		    -1, &vh, sizeof(vh)) == -1)
			fatal("compose");
		rc = 0;
	}
	json_decref(o);
	return (rc);
}

/* NET_GRANTS: every grant, and the proxy's port */
static void
grants_send(void)
{
	json_t	*a = json_array();
	int	 i;

	for (i = 0; i < vm.ngrants; i++)
		json_array_append_new(a, json_pack("{s:s, s:i}", "host",
		    vm.grants[i].vn_host, "port", (int)vm.grants[i].vn_port));
	agent_json_send(AP_NET_GRANTS, AP_ID_NETGRANTS, json_pack("{s:o, s:i}",
	    "grants", a, "proxy", AP_NET_PROXY_PORT));
}

/* The agent's answer to NET_GRANTS: then the guest is ready, or failed. */
static int
agent_grants_done(const struct ap_frame *f)
{
	json_t	*o;
	char	 msg[100];

	if (f->f_type == AP_ERROR) {
		o = frame_json(f);
		if (o == NULL || json_text(o, "message", msg,
		    sizeof(msg)) == -1)
			(void)strlcpy(msg, "(no message)", sizeof(msg));
		json_decref(o);
		qemu_fail(MVM_DONE_PROTOCOL, "the agent could not set up the "
		    "egress grants: %s", msg);
		return (0);
	}
	vm.grants_pending = 0;
	vm.ready = 1;
	phase_send(MVM_PHASE_READY, vm.agent_name, vm.agent_kernel,
	    vm.agent_uptime, AP_PROTO_VERSION);
	return (0);
}

/* Egress frames (net.c); only a guest with grants has flows. */
static int
agent_net(const struct ap_frame *f)
{
	json_t	*o = NULL;
	int	 rc = -1;

	if (vm.ngrants == 0)
		return (-1);
	if (f->f_type != AP_NET_DATA && (o = frame_json(f)) == NULL)
		return (-1);
	if (f->f_type == AP_NET_OPEN)
		rc = net_open(f, o);
	else
		rc = net_frame(f, o);
	json_decref(o);
	return (rc);
}

/* What the guest may send, and only for requests we have outstanding. */
static void
agent_frame(const struct ap_frame *f)
{
	int	 kind = req_kind(f->f_id), rc = -1;

	if (!vm.ready) {
		if (vm.grants_pending) {
			if (f->f_id == AP_ID_NETGRANTS &&
			    (f->f_type == AP_OK || f->f_type == AP_ERROR))
				rc = agent_grants_done(f);
			if (rc == -1)
				qemu_fail(MVM_DONE_PROTOCOL, "the agent sent "
				    "%s before answering NET_GRANTS",
				    ap_type_name(f->f_type));
			return;
		}
		if (f->f_type == AP_HELLO && f->f_id == 0)
			rc = agent_hello(f);
		else if (f->f_type == AP_ERROR)
			log_warnx("agent refused HELLO: %.*s",
			    (int)(f->f_len > 100 ? 100 : f->f_len),
			    "(version or protocol)");
		if (rc == -1)
			qemu_fail(MVM_DONE_PROTOCOL, "the agent did not say "
			    "HELLO as protocol %d", AP_PROTO_VERSION);
		return;
	}
	switch (f->f_type) {
	case AP_NET_OPEN:
	case AP_NET_DATA:
	case AP_NET_ACK:
	case AP_NET_CLOSE:
		rc = agent_net(f);
		break;
	case AP_STARTED:
		if (kind == REQ_EXEC)
			rc = agent_started(f);
		break;
	case AP_STDOUT:
	case AP_STDERR:
		if (kind == REQ_EXEC && req_state(f->f_id) == RS_STARTED) {
			data_send(IMSG_VMM_OUTPUT, f->f_id, f->f_type ==
			    AP_STDOUT ? MVM_STREAM_STDOUT : MVM_STREAM_STDERR,
			    f->f_data, f->f_len);
			rc = 0;
		}
		break;
	case AP_EXIT:
		if (kind == REQ_EXEC && req_state(f->f_id) == RS_STARTED)
			rc = agent_exit(f);
		break;
	case AP_FILE_DATA:
		if (kind == REQ_GET)
			rc = agent_file_data_in(f);
		else if (kind == REQ_DIRGET)
			rc = agent_dir_data(f);
		break;
	case AP_FILE_END:
		if (kind == REQ_GET)
			rc = agent_file_end_in(f);
		else if (kind == REQ_DIRGET)
			rc = agent_dir_end(f);
		break;
	case AP_OK:
		if (kind == REQ_PUT || kind == REQ_EXEC ||
		    kind == REQ_SHUTDOWN || kind == REQ_DIRPUT)
			rc = agent_ok(f);
		else if (req_state(f->f_id) == RS_DONE)
			rc = 0;		/* a signal that crossed the EXIT */
		break;
	case AP_ERROR:
		/*
		 * Under a started EXEC's id (or one just ended) an error is
		 * about a STDIN or SIGNAL the agent refused: expected when
		 * they cross the EXIT; the command itself goes on.
		 */
		if (req_state(f->f_id) == RS_STARTED ||
		    req_state(f->f_id) == RS_DONE) {
			log_debug("agent refused stdin or a signal for %u",
			    f->f_id);
			rc = 0;
		} else if (kind == REQ_SHUTDOWN)
			rc = 0;		/* refused: QMP quit follows */
		else if (kind != 0)
			rc = agent_error(f);
		break;
	case AP_PONG:
		rc = 0;
		break;
	}
	if (rc == -1)
		qemu_fail(MVM_DONE_PROTOCOL, "the agent sent %s for id %u "
		    "out of turn or malformed", ap_type_name(f->f_type),
		    f->f_id);
}

/* ------------------------------------------------------------------ */
/* supervisor -> guest */

/* a request for the guest needs a ready agent and a fresh id */
static int
agent_request(uint32_t id, int kind)
{
	struct mvm_vmm_error	 ve;

	if (vm.ready && !vm.stopping && id != ID_SHUTDOWN &&
	    req_add(id, kind) == 0)
		return (0);
	memset(&ve, 0, sizeof(ve));
	ve.ve_id = id;
	ve.ve_code = vm.ready ? MVM_AGENT_EBUSY : MVM_AGENT_ENOTREADY;
	(void)strlcpy(ve.ve_msg, vm.ready ? "request id in use or too many "
	    "requests" : "the guest is not ready", sizeof(ve.ve_msg));
	if (peer_compose(&vm.parent, IMSG_VMM_ERROR, vm.vc.vc_guest, -1, &ve,
	    sizeof(ve)) == -1)
		fatal("compose");
	return (-1);
}

void
agent_exec(struct imsg *imsg)
{
	struct mvm_vmm_exec	 ve;
	const char		*blob, *s[MVM_EXEC_ARGC_MAX + MVM_EXEC_ENVC_MAX +
				    MVM_RUN_SECRETS_MAX];
	const char		*f;
	size_t			 len;
	uint32_t		 i;
	json_t			*o, *argv, *env, *files;
	char			*eq;

	if (msg_get_vmm_exec(imsg, &ve, &blob, &len) == -1 ||
	    blob_split(blob, len, ve.ve_argc + ve.ve_envc + ve.ve_filec,
	    s) == -1)
		fatalx("malformed VMM_EXEC");
	if (agent_request(ve.ve_id, REQ_EXEC) == -1)
		return;
	argv = json_array();
	for (i = 0; i < ve.ve_argc; i++)
		json_array_append_new(argv, json_string(s[i]));
	env = json_object();
	for (i = 0; i < ve.ve_envc; i++) {
		if ((eq = strchr(s[ve.ve_argc + i], '=')) == NULL)
			fatalx("malformed VMM_EXEC environment");
		*eq = '\0';
		json_object_set_new(env, s[ve.ve_argc + i], json_string(eq + 1));
		*eq = '=';
	}
	o = json_pack("{s:o, s:o, s:I, s:b, s:I, s:I, s:I}", "argv", argv,
	    "env", env, "timeout_ms", (json_int_t)ve.ve_timeout_ms, "stdin",
	    (ve.ve_flags & MVM_EXEC_STDIN) != 0, "stdout_max",
	    (json_int_t)ve.ve_stdout_max, "stderr_max",
	    (json_int_t)ve.ve_stderr_max, "uid", (json_int_t)ve.ve_uid);
	if (ve.ve_cwd[0] != '\0')
		json_object_set_new(o, "cwd", json_string(ve.ve_cwd));
	json_object_set_new(o, "seccomp",
	    json_string(ap_tier_name(ve.ve_seccomp)));
	if (ve.ve_filec > 0) {
		files = json_array();
		for (i = 0; i < ve.ve_filec; i++) {
			f = s[ve.ve_argc + ve.ve_envc + i];
			if ((eq = strchr(f, '=')) == NULL || f[0] != '/')
				fatalx("malformed VMM_EXEC secret file");
			json_array_append_new(files, json_pack("{s:s%, s:s}",
			    "path", f, (size_t)(eq - f), "data", eq + 1));
		}
		json_object_set_new(o, "files", files);
	}
	agent_json_send(AP_EXEC, ve.ve_id, o);
}

void
agent_stdin(struct imsg *imsg)
{
	struct mvm_vmm_data	 vd;
	const uint8_t		*p;
	size_t			 len;

	if (msg_get_vmm_data(imsg, &vd, &p, &len) == -1)
		fatalx("malformed VMM_STDIN");
	if (req_kind(vd.vd_id) == REQ_EXEC)	/* not after its EXIT */
		agent_frame_send(AP_STDIN, vd.vd_id, p, len);
}

void
agent_signal(struct imsg *imsg)
{
	struct mvm_vmm_signal	 vs;

	if (msg_get_vmm_signal(imsg, &vs) == -1)
		fatalx("malformed VMM_SIGNAL");
	if (req_kind(vs.vs_id) == REQ_EXEC)
		agent_json_send(AP_SIGNAL, vs.vs_id, json_pack("{s:i}", "signal",
		    (int)vs.vs_signal));
}

void
agent_file_put(struct imsg *imsg)
{
	struct mvm_vmm_file	 vf;

	if (msg_get_vmm_file(imsg, &vf) == -1 || vf.vf_path[0] != '/')
		fatalx("malformed VMM_FILE_PUT");
	if (agent_request(vf.vf_id, REQ_PUT) == -1)
		return;
	agent_json_send(AP_FILE_PUT, vf.vf_id, json_pack("{s:s, s:i, s:I}", "path",
	    vf.vf_path, "mode", (int)(vf.vf_mode & 07777), "size",
	    (json_int_t)vf.vf_size));
}

void
agent_file_data(struct imsg *imsg)
{
	struct mvm_vmm_data	 vd;
	const uint8_t		*p;
	size_t			 len;

	if (msg_get_vmm_data(imsg, &vd, &p, &len) == -1)
		fatalx("malformed VMM_FILE_DATA");
	if (req_kind(vd.vd_id) == REQ_PUT || req_kind(vd.vd_id) == REQ_DIRPUT)
		agent_frame_send(AP_FILE_DATA, vd.vd_id, p, len);
}

void
agent_file_end(struct imsg *imsg)
{
	struct mvm_vmm_file	 vf;

	if (msg_get_vmm_file(imsg, &vf) == -1)
		fatalx("malformed VMM_FILE_END");
	if (req_kind(vf.vf_id) == REQ_PUT || req_kind(vf.vf_id) == REQ_DIRPUT)
		agent_frame_send(AP_FILE_END, vf.vf_id, NULL, 0);
}

void
agent_file_get(struct imsg *imsg)
{
	struct mvm_vmm_file	 vf;

	if (msg_get_vmm_file(imsg, &vf) == -1 || vf.vf_path[0] != '/' ||
	    vf.vf_size == 0 || vf.vf_size > MVM_CP_MAX)
		fatalx("malformed VMM_FILE_GET");
	if (agent_request(vf.vf_id, REQ_GET) == -1)
		return;
	reqs[req_find(vf.vf_id)].max = vf.vf_size;
	agent_json_send(AP_FILE_GET, vf.vf_id, json_pack("{s:s, s:I}", "path",
	    vf.vf_path, "max", (json_int_t)vf.vf_size));
}

/* DIR_PUT: the stream follows as FILE_DATA, then FILE_END */
void
agent_dir_put(struct imsg *imsg)
{
	struct mvm_vmm_share	 vh;

	if (msg_get_vmm_share(imsg, &vh) == -1 || vh.vh_path[0] == '\0' ||
	    vh.vh_size > SHARE_ARCHIVE_MAX)
		fatalx("malformed VMM_DIR_PUT");
	if (agent_request(vh.vh_id, REQ_DIRPUT) == -1)
		return;
	agent_json_send(AP_DIR_PUT, vh.vh_id, json_pack("{s:s, s:I, s:I}",
	    "path", vh.vh_path, "size", (json_int_t)vh.vh_size, "uid",
	    (json_int_t)vh.vh_uid));
}

void
agent_dir_get(struct imsg *imsg)
{
	struct mvm_vmm_share	 vh;
	int			 i;

	if (msg_get_vmm_share(imsg, &vh) == -1 || vh.vh_path[0] == '\0' ||
	    vh.vh_size == 0 || vh.vh_size > SHARE_ARCHIVE_MAX)
		fatalx("malformed VMM_DIR_GET");
	for (i = 0; i < REQ_MAX; i++)
		if (reqs[i].kind == REQ_DIRGET && reqs[i].state != RS_DONE)
			fatalx("VMM_DIR_GET while one is under way");
	if (agent_request(vh.vh_id, REQ_DIRGET) == -1)
		return;
	dget.id = vh.vh_id;
	dget.max = vh.vh_size;
	dget.size = 0;
	share_reader_init(&dget.rd);
	agent_json_send(AP_DIR_GET, vh.vh_id, json_pack("{s:s, s:I}", "path",
	    vh.vh_path, "max", (json_int_t)vh.vh_size));
}

void
agent_shutdown(void)
{
	(void)req_add(ID_SHUTDOWN, REQ_SHUTDOWN);
	agent_frame_send(AP_SHUTDOWN, ID_SHUTDOWN, "{}", 2);
}
