/*
 * imsg: what a peer sends on an imsg socket.  The input goes through a
 * socketpair in chunks, with fds attached, into imsgbuf_read() (so its
 * buffer growth and fd queue run), then imsg_get() takes messages off
 * until it says no more or malformed, as proc.c's peer_cb does.  Each
 * message goes to the msg.c reader for its type (the table below holds
 * every msg_get_*); the pointers a reader hands out are read in full.
 *
 * input: flags, chunk, then the byte stream
 *	flags & 0x0f	fds sent with the first chunk (more than
 *			IMSG_MAXFDS: a protocol error)
 *	flags & 0x10	and one fd with every later chunk
 *	flags & 0x20	a control client's limits (MVM_CTL_MAX, default
 *			read buffer); else an internal peer's
 *	chunk		bytes per write, from chunk_sizes[]
 *
 * Properties: no fd is leaked, whatever the stream (the same fds are
 * open before and after every input).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "agentproto.h"
#include "fuzz.h"
#include "imsg.h"
#include "mvm.h"


static void	 touch(const void *, size_t);
static void	 touch_blob(const char *, size_t, uint32_t);
static int	 rd_empty(struct imsg *);
static int	 rd_config_fd(struct imsg *);
static int	 rd_vmm_net_fd(struct imsg *);
static int	 rd_sign_req(struct imsg *);
static int	 rd_audit_ack(struct imsg *);
static int	 rd_vmm_exec(struct imsg *);
static int	 rd_ctl_run(struct imsg *);
static int	 rd_vmm_data(struct imsg *);
static int	 rd_ctl_secret(struct imsg *);
static int	 rd_vmm_net(struct imsg *);
static int	 rd_raw(struct imsg *);
static void	 dispatch(struct imsg *);
static ssize_t	 send_chunk(int, const uint8_t *, size_t, int, int);
static int	 drain(struct imsgbuf *);

/* the readers that give out only a struct */
#define RD(name, type)							\
static int								\
rd_##name(struct imsg *m)						\
{									\
	type	 x;							\
									\
	return (msg_get_##name(m, &x));					\
}

RD(hello, struct mvm_hello)
RD(child_config, struct mvm_child_config)
RD(ready, struct mvm_ready)
RD(sign_res, struct mvm_sign_res)
RD(test_syscall, struct mvm_test_syscall)
RD(profile, struct mvm_profile)
RD(ctl_policy_req, struct mvm_ctl_policy_req)
RD(ctl_test, struct mvm_ctl_test)
RD(audit_event, struct mvm_audit_event)
RD(audit_stopped, struct mvm_audit_stopped)
RD(audit_req, struct mvm_audit_req)
RD(audit_ckpt, struct mvm_audit_ckpt)
RD(audit_proof, struct mvm_audit_proof)
RD(vmm_config, struct mvm_vmm_config)
RD(vmm_bind, struct mvm_vmm_bind)
RD(vmm_phase, struct mvm_vmm_phase)
RD(vmm_signal, struct mvm_vmm_signal)
RD(vmm_started, struct mvm_vmm_started)
RD(vmm_exit, struct mvm_vmm_exit)
RD(vmm_error, struct mvm_vmm_error)
RD(vmm_file, struct mvm_vmm_file)
RD(vmm_done, struct mvm_vmm_done)
RD(ctl_started, struct mvm_ctl_started)
RD(ctl_exit, struct mvm_ctl_exit)
RD(ctl_metrics, struct mvm_ctl_metrics)
RD(ctl_guest, struct mvm_ctl_guest)
RD(ctl_guest_info, struct mvm_ctl_guest_info)
RD(ctl_hello, struct mvm_ctl_hello)
RD(ctl_error, struct mvm_ctl_error)
RD(ctl_proc, struct mvm_ctl_proc)
RD(ctl_status, struct mvm_ctl_status)
RD(ctl_key, struct mvm_ctl_key)
RD(vmm_share, struct mvm_vmm_share)
RD(ctl_share, struct mvm_ctl_share)

static volatile uint8_t	 sink;

/* Read every byte a reader pointed at (ASan checks the bounds). */
static void
touch(const void *p, size_t n)
{
	const uint8_t	*b = p;
	uint8_t		 x = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		x ^= b[i];
	sink ^= x;
}

static int
rd_empty(struct imsg *m)
{
	return (msg_get_empty(m));
}

static int
rd_config_fd(struct imsg *m)
{
	struct mvm_config_fd	 cf;
	int			 fd;

	if (msg_get_config_fd(m, &cf, &fd) == -1)
		return (-1);
	FUZZ_ASSERT(fd != -1);
	close(fd);
	return (0);
}

/* egress: NET_FD carries the connected socket, the others no fd */
static int
rd_vmm_net(struct imsg *m)
{
	struct mvm_vmm_net	 vn;

	return (msg_get_vmm_net(m, &vn, NULL));
}

static int
rd_vmm_net_fd(struct imsg *m)
{
	struct mvm_vmm_net	 vn;
	int			 fd;

	if (msg_get_vmm_net(m, &vn, &fd) == -1)
		return (-1);
	FUZZ_ASSERT(fd != -1);
	close(fd);
	return (0);
}

static int
rd_sign_req(struct imsg *m)
{
	struct mvm_sign_req	 sr;
	const uint8_t		*body;

	if (msg_get_sign_req(m, &sr, &body) == -1)
		return (-1);
	touch(body, sr.sr_len);
	return (0);
}

static int
rd_audit_ack(struct imsg *m)
{
	struct mvm_audit_ack	 aa;
	const char		*line;
	size_t			 n;

	if (msg_get_audit_ack(m, &aa, &line, &n) == -1)
		return (-1);
	if (line != NULL)
		touch(line, n);
	return (0);
}

/* argc then envc strings: every one NUL-terminated inside the blob */
static void
touch_blob(const char *blob, size_t len, uint32_t n)
{
	const char	**v;
	uint32_t	 i;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		abort();
	FUZZ_ASSERT(blob_split(blob, len, n, v) == 0);
	for (i = 0; i < n; i++)
		touch(v[i], strlen(v[i]) + 1);
	free(v);
}

static int
rd_vmm_exec(struct imsg *m)
{
	struct mvm_vmm_exec	 ve;
	const char		*blob;
	size_t			 len;

	if (msg_get_vmm_exec(m, &ve, &blob, &len) == -1)
		return (-1);
	touch_blob(blob, len, ve.ve_argc + ve.ve_envc);
	return (0);
}

static int
rd_ctl_run(struct imsg *m)
{
	struct mvm_ctl_run	 cr;
	const char		*blob;
	size_t			 len;

	if (msg_get_ctl_run(m, &cr, &blob, &len) == -1)
		return (-1);
	touch_blob(blob, len, cr.cr_argc + cr.cr_envc + cr.cr_secretc);
	return (0);
}

static int
rd_vmm_data(struct imsg *m)
{
	struct mvm_vmm_data	 vd;
	const uint8_t		*p;
	size_t			 n;

	if (msg_get_vmm_data(m, &vd, &p, &n) == -1)
		return (-1);
	touch(p, n);
	return (0);
}

static int
rd_ctl_secret(struct imsg *m)
{
	struct mvm_ctl_secret	 sc;
	const uint8_t		*p;
	size_t			 n;

	if (msg_get_ctl_secret(m, &sc, &p, &n) == -1)
		return (-1);
	touch(p, n);
	return (0);
}

/* raw bytes: no struct, no reader */
static int
rd_raw(struct imsg *m)
{
	touch(m->data, m->datalen);
	return (0);
}

/* each type with the reader its receiver uses (mvm.h) */
static const struct reader {
	uint32_t	  r_type;
	int		(*r_fn)(struct imsg *);
} readers[] = {
	{ IMSG_HELLO,			rd_hello },
	{ IMSG_CONFIG,			rd_child_config },
	{ IMSG_CONFIG_FD,		rd_config_fd },
	{ IMSG_CONFIG_END,		rd_empty },
	{ IMSG_READY,			rd_ready },
	{ IMSG_SIGN_REQ,		rd_sign_req },
	{ IMSG_SIGN_RES,		rd_sign_res },
	{ IMSG_TEST_SYSCALL,		rd_test_syscall },
	{ IMSG_AUDIT_EVENT,		rd_audit_event },
	{ IMSG_AUDIT_ACK,		rd_audit_ack },
	{ IMSG_AUDIT_STOPPED,		rd_audit_stopped },
	{ IMSG_AUDIT_CKPT_REQ,		rd_audit_req },
	{ IMSG_AUDIT_CKPT_RES,		rd_audit_ckpt },
	{ IMSG_AUDIT_PROOF_REQ,		rd_audit_req },
	{ IMSG_AUDIT_PROOF_RES,		rd_audit_proof },
	{ IMSG_VMM_CONFIG,		rd_vmm_config },
	{ IMSG_VMM_BIND,		rd_vmm_bind },
	{ IMSG_VMM_PHASE,		rd_vmm_phase },
	{ IMSG_VMM_EXEC,		rd_vmm_exec },
	{ IMSG_VMM_STDIN,		rd_vmm_data },
	{ IMSG_VMM_SIGNAL,		rd_vmm_signal },
	{ IMSG_VMM_STARTED,		rd_vmm_started },
	{ IMSG_VMM_OUTPUT,		rd_vmm_data },
	{ IMSG_VMM_EXIT,		rd_vmm_exit },
	{ IMSG_VMM_ERROR,		rd_vmm_error },
	{ IMSG_VMM_FILE_PUT,		rd_vmm_file },
	{ IMSG_VMM_FILE_GET,		rd_vmm_file },
	{ IMSG_VMM_FILE_DATA,		rd_vmm_data },
	{ IMSG_VMM_FILE_END,		rd_vmm_file },
	{ IMSG_VMM_OK,			rd_vmm_data },
	{ IMSG_VMM_STOP,		rd_empty },
	{ IMSG_VMM_DONE,		rd_vmm_done },
	{ IMSG_VMM_NET_GRANT,		rd_vmm_net },
	{ IMSG_VMM_NET_OPEN,		rd_vmm_net },
	{ IMSG_VMM_NET_FD,		rd_vmm_net_fd },
	{ IMSG_VMM_NET_REFUSED,		rd_vmm_net },
	{ IMSG_VMM_NET_CLOSED,		rd_vmm_net },
	{ IMSG_CTL_HELLO,		rd_ctl_hello },
	{ IMSG_CTL_ERROR,		rd_ctl_error },
	{ IMSG_CTL_STATUS_REQ,		rd_empty },
	{ IMSG_CTL_STATUS_PROC,		rd_ctl_proc },
	{ IMSG_CTL_STATUS_END,		rd_ctl_status },
	{ IMSG_CTL_KEY_REQ,		rd_empty },
	{ IMSG_CTL_KEY_RES,		rd_ctl_key },
	{ IMSG_CTL_AUDIT_CKPT_REQ,	rd_audit_req },
	{ IMSG_CTL_AUDIT_CKPT_RES,	rd_audit_ckpt },
	{ IMSG_CTL_RUN,			rd_ctl_run },
	{ IMSG_CTL_STDIN,		rd_raw },
	{ IMSG_CTL_STARTED,		rd_ctl_started },
	{ IMSG_CTL_OUTPUT,		rd_vmm_data },
	{ IMSG_CTL_EXIT,		rd_ctl_exit },
	{ IMSG_CTL_GUEST_REQ,		rd_ctl_guest },
	{ IMSG_CTL_GUEST_INFO,		rd_ctl_guest_info },
	{ IMSG_CTL_END,			rd_empty },
	{ IMSG_CTL_OK,			rd_empty },
	{ IMSG_CTL_FILE,		rd_vmm_file },
	{ IMSG_CTL_FILE_DATA,		rd_raw },
	{ IMSG_CTL_LOGS,		rd_raw },
	{ IMSG_CTL_RECEIPT,		rd_raw },
	{ IMSG_CTL_METRICS_REQ,		rd_empty },
	{ IMSG_CTL_METRICS_RES,		rd_ctl_metrics },
	{ IMSG_CTL_POLICY_REQ,		rd_ctl_policy_req },
	{ IMSG_CTL_POLICY_INFO,		rd_profile },
	{ IMSG_CTL_SECRET_REQ,		rd_ctl_secret },
	{ IMSG_CTL_SECRET_INFO,		rd_ctl_secret },
	{ IMSG_CTL_TEST,		rd_ctl_test },
	{ IMSG_VMM_DIR_PUT,		rd_vmm_share },
	{ IMSG_VMM_DIR_GET,		rd_vmm_share },
	{ IMSG_VMM_DIR_END,		rd_vmm_share },
	{ IMSG_CTL_SHARE,		rd_ctl_share },
	{ IMSG_CTL_SHARE_DATA,		rd_raw },
	{ IMSG_CTL_SHARE_END,		rd_ctl_share },
};

static const size_t	 chunk_sizes[] = {
	0 /* all */, 1, 2, 3, 5, 7, 13, 19, 20, 21, 64, 100, 255, 4096, 4097,
	65536
};

static void
dispatch(struct imsg *m)
{
	const struct reader	*r;
	size_t			 i;

	(void)imsg_type_name(imsg_type(m));
	for (i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		r = &readers[i];
		if (r->r_type == imsg_type(m)) {
			(void)r->r_fn(m);
			return;
		}
	}
	/* an unknown type: dispatchers drop the peer */
}

/*
 * Write up to n bytes, with nfd copies of fd attached.  Returns the
 * bytes written (0: the socket is full), -1 on any other error.
 */
static ssize_t
send_chunk(int s, const uint8_t *p, size_t n, int fd, int nfd)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * 16)];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 w;
	int		 i;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)p;
	iov.iov_len = n;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfd > 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfd);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfd);
		for (i = 0; i < nfd; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd,
			    sizeof(int));
	}
	w = sendmsg(s, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == -1 && (errno == EAGAIN || errno == EINTR))
		return (0);
	return (w);
}

/* Take every complete message; -1 once the stream is malformed. */
static int
drain(struct imsgbuf *ib)
{
	struct imsg	 m;
	ssize_t		 n;

	while ((n = imsg_get(ib, &m)) > 0) {
		dispatch(&m);
		imsg_free(&m);
	}
	return (n == -1 ? -1 : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 devnull = -1;
	struct imsgbuf	 ib;
	uint8_t		 before[FUZZ_FD_SCAN], after[FUZZ_FD_SCAN];
	size_t		 off = 0, chunk, n;
	ssize_t		 r, w;
	int		 sv[2], flags, nfd, eof = 0, shut = 0;

	if (devnull == -1 &&
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	if (size < 2)
		return (0);
	fuzz_fd_snapshot(before);
	flags = data[0];
	chunk = chunk_sizes[data[1] % (sizeof(chunk_sizes) /
	    sizeof(chunk_sizes[0]))];
	data += 2;
	size -= 2;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (imsgbuf_init(&ib, sv[1], (flags & 0x20) ? MVM_CTL_MAX :
	    MVM_IMSG_MAX) == -1)
		abort();
	if (!(flags & 0x20))
		imsgbuf_readsize(&ib, 64 * 1024);
	nfd = flags & 0x0f;
	while (!eof) {
		if (off < size) {
			n = chunk == 0 || chunk > size - off ? size - off :
			    chunk;
			if ((w = send_chunk(sv[0], data + off, n, devnull,
			    nfd)) == -1)
				off = size;		/* give up writing */
			else if (w > 0) {
				nfd = (flags & 0x10) ? 1 : 0;
				off += w;
			}
		} else if (!shut) {
			(void)shutdown(sv[0], SHUT_WR);
			shut = 1;
		}
		r = imsgbuf_read(&ib);
		if (r == -1 && errno != EAGAIN)
			break;
		eof = r == 0;
		if (drain(&ib) == -1)
			break;
	}
	close(sv[0]);
	close(sv[1]);
	imsgbuf_clear(&ib);
	fuzz_fd_snapshot(after);
	FUZZ_ASSERT(memcmp(before, after, sizeof(before)) == 0);
	return (0);
}
