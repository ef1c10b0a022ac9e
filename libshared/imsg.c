/*
 * imsg-style message framing for mvm (see imsg.h for the wire format).
 * Written for this project; the API shape follows the OpenBSD idiom but
 * no code is shared with it.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_WRITEV_MAX		64

static int	 imsgbuf_reserve(struct imsgbuf *);
static void	 imsgbuf_shrink(struct imsgbuf *);
static int	 rfd_push(struct imsgbuf *, int);
static int	 rfd_pop(struct imsgbuf *);
static void	 msgbuf_drop(struct msgbuf *, struct ibuf *);
static void	*wipe_realloc(void *, size_t, size_t);

/*
 * Every buffer that held message bytes is wiped before it is freed or
 * moved: messages carry secret values (a secret's PUT, a command's
 * environment with the secrets granted to it), and freed heap is where
 * they would otherwise stay until it is reused.
 */
static void
wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* realloc, but the old block is wiped, not left behind */
static void *
wipe_realloc(void *p, size_t oldlen, size_t len)
{
	void	*n;

	if ((n = malloc(len)) == NULL)
		return (NULL);
	if (p != NULL)
		memcpy(n, p, oldlen < len ? oldlen : len);
	wipe_free(p, oldlen);
	return (n);
}

int
imsgbuf_init(struct imsgbuf *ib, int fd, size_t maxsize)
{
	memset(ib, 0, sizeof(*ib));
	if (maxsize < IMSG_HEADER_SIZE)
		maxsize = IMSG_HEADER_SIZE;
	ib->fd = fd;
	ib->pid = getpid();
	ib->maxsize = maxsize;
	ib->rmin = IMSG_RBUF_MIN;
	ib->rsize = IMSG_RBUF_MIN;
	if ((ib->rbuf = malloc(ib->rsize)) == NULL)
		return (-1);
	TAILQ_INIT(&ib->w.bufs);
	return (0);
}

/*
 * Keep a read buffer of at least len bytes, so that one read takes many
 * small messages (internal peers); control clients keep the small
 * default, which bounds what an idle connection costs.
 */
void
imsgbuf_readsize(struct imsgbuf *ib, size_t len)
{
	if (len > ib->maxsize)
		len = ib->maxsize;
	if (len > ib->rmin)
		ib->rmin = len;
}

/*
 * A peer that may send no fd at all: every fd it passes goes to sink,
 * which must close it (the supervisor does, off its event loop), and
 * the read fails as malformed.  The control buffer takes as many fds
 * as one sendmsg(2) can carry, so that the kernel closes none of them
 * in the reader, where its close could block (a socket with SO_LINGER,
 * a file on a FUSE mount its sender serves).
 */
void
imsgbuf_nofds(struct imsgbuf *ib, void (*sink)(int))
{
	ib->fdsink = sink;
}

/* Free everything the buffer holds; the socket itself is left open. */
void
imsgbuf_clear(struct imsgbuf *ib)
{
	struct ibuf	*b;

	/* NOLINTBEGIN(clang-analyzer-unix.Malloc): TAILQ FP */
	while ((b = TAILQ_FIRST(&ib->w.bufs)) != NULL)
		msgbuf_drop(&ib->w, b);
	/* NOLINTEND(clang-analyzer-unix.Malloc) */
	while (ib->nrfds > 0)
		close(rfd_pop(ib));
	wipe_free(ib->rbuf, ib->rsize);
	ib->rbuf = NULL;
	ib->rsize = ib->rlen = 0;
}

static int
rfd_push(struct imsgbuf *ib, int fd)
{
	if (ib->nrfds >= IMSG_MAXFDS) {
		close(fd);
		return (-1);
	}
	ib->rfds[ib->nrfds++] = fd;
	return (0);
}

static int
rfd_pop(struct imsgbuf *ib)
{
	int	 fd;

	if (ib->nrfds == 0)
		return (-1);
	fd = ib->rfds[0];
	memmove(&ib->rfds[0], &ib->rfds[1], (ib->nrfds - 1) * sizeof(int));
	ib->nrfds--;
	return (fd);
}

/*
 * Make room for the rest of the message at the head of the buffer.
 * Fails with EBADMSG if its header claims more than maxsize.
 */
static int
imsgbuf_reserve(struct imsgbuf *ib)
{
	struct imsg_hdr	 hdr;
	size_t		 need = ib->rmin;
	uint8_t		*p;

	if (ib->rlen >= IMSG_HEADER_SIZE) {
		memcpy(&hdr, ib->rbuf, sizeof(hdr));
		if (hdr.len < IMSG_HEADER_SIZE || hdr.len > ib->maxsize) {
			errno = EBADMSG;
			return (-1);
		}
		if (hdr.len > need)
			need = hdr.len;
	}
	if (ib->rsize - ib->rlen > 0 && ib->rsize >= need)
		return (0);
	if (need <= ib->rlen)
		need = ib->rlen + ib->rmin;
	if ((p = wipe_realloc(ib->rbuf, ib->rsize, need)) == NULL)
		return (-1);
	ib->rbuf = p;
	ib->rsize = need;
	return (0);
}

/* Give back a large read buffer once the large message is gone. */
static void
imsgbuf_shrink(struct imsgbuf *ib)
{
	uint8_t	*p;

	if (ib->rsize <= ib->rmin || ib->rlen > ib->rmin / 2)
		return;
	if ((p = wipe_realloc(ib->rbuf, ib->rsize, ib->rmin)) == NULL)
		return;
	ib->rbuf = p;
	ib->rsize = ib->rmin;
}

/*
 * Read what the socket has.  Returns bytes read, 0 on EOF, -1 with errno
 * set (EAGAIN when nothing is there, EBADMSG on a protocol error).
 */
ssize_t
imsgbuf_read(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * IMSG_SCM_MAXFDS)];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	int		 bad = 0, *fdp;
	size_t		 i, nfds;

	if (imsgbuf_reserve(ib) == -1)
		return (-1);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = ib->rbuf + ib->rlen;
	iov.iov_len = ib->rsize - ib->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

	do {
		n = recvmsg(ib->fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-1);

	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fdp = (int *)CMSG_DATA(cmsg);
		for (i = 0; i < nfds; i++) {
			int	 fd;

			memcpy(&fd, &fdp[i], sizeof(fd));
			if (ib->fdsink != NULL) {
				ib->fdsink(fd);
				bad = 1;
			} else if (rfd_push(ib, fd) == -1)
				bad = 1;
		}
	}
	if (msg.msg_flags & MSG_CTRUNC)
		bad = 1;
	ib->rlen += n;
	if (bad) {
		errno = EBADMSG;
		return (-1);
	}
	return (n);
}

/*
 * Take the next complete message off the buffer.  Returns its length,
 * 0 if no complete message is there yet, -1 with errno EBADMSG if the
 * stream is malformed (the caller must then drop the peer).
 */
ssize_t
imsg_get(struct imsgbuf *ib, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;

	memset(imsg, 0, sizeof(*imsg));
	imsg->fd = -1;
	if (ib->rlen < IMSG_HEADER_SIZE)
		return (0);
	memcpy(&hdr, ib->rbuf, sizeof(hdr));
	if (hdr.len < IMSG_HEADER_SIZE || hdr.len > ib->maxsize ||
	    (hdr.flags & ~IMSGF_HASFD) != 0) {
		errno = EBADMSG;
		return (-1);
	}
	if (ib->rlen < hdr.len)
		return (0);
	if ((hdr.flags & IMSGF_HASFD) && ib->nrfds == 0) {
		errno = EBADMSG;
		return (-1);
	}
	imsg->hdr = hdr;
	imsg->datalen = hdr.len - IMSG_HEADER_SIZE;
	if (imsg->datalen > 0) {
		if ((imsg->data = malloc(imsg->datalen)) == NULL)
			return (-1);
		memcpy(imsg->data, ib->rbuf + IMSG_HEADER_SIZE,
		    imsg->datalen);
	}
	if (hdr.flags & IMSGF_HASFD)
		imsg->fd = rfd_pop(ib);
	ib->rlen -= hdr.len;
	memmove(ib->rbuf, ib->rbuf + hdr.len, ib->rlen);
	explicit_bzero(ib->rbuf + ib->rlen, hdr.len);
	imsgbuf_shrink(ib);
	return (hdr.len);
}

/*
 * Queue a message with a payload in two parts (a fixed struct and a
 * variable tail; either may be empty).  The fd, if not -1, is passed and
 * closed once sent; on failure the caller still owns it.
 */
int
imsg_composev2(struct imsgbuf *ib, uint32_t type, uint32_t peerid, int fd,
    const void *d1, size_t l1, const void *d2, size_t l2)
{
	struct imsg_hdr	 hdr;
	struct ibuf	*b;
	size_t		 len = IMSG_HEADER_SIZE + l1 + l2;

	if (l1 > ib->maxsize || l2 > ib->maxsize || len > ib->maxsize) {
		errno = EMSGSIZE;
		return (-1);
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (-1);
	if ((b->buf = malloc(len)) == NULL) {
		free(b);
		return (-1);
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.pid = ib->pid;
	hdr.flags = fd == -1 ? 0 : IMSGF_HASFD;
	memcpy(b->buf, &hdr, sizeof(hdr));
	if (l1 > 0)
		memcpy(b->buf + IMSG_HEADER_SIZE, d1, l1);
	if (l2 > 0)
		memcpy(b->buf + IMSG_HEADER_SIZE + l1, d2, l2);
	b->size = len;
	b->fd = fd;
	TAILQ_INSERT_TAIL(&ib->w.bufs, b, entry);
	ib->w.queued++;
	ib->w.bytes += len;
	return (0);
}

int
imsg_compose(struct imsgbuf *ib, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	return (imsg_composev2(ib, type, peerid, fd, data, len, NULL, 0));
}

static void
msgbuf_drop(struct msgbuf *w, struct ibuf *b)
{
	TAILQ_REMOVE(&w->bufs, b, entry);
	w->queued--;
	w->bytes -= b->size - b->sent;
	if (b->fd != -1)
		close(b->fd);
	wipe_free(b->buf, b->size);
	free(b);
}

/* Account for n written bytes from the head of the queue. */
static void
msgbuf_advance(struct msgbuf *w, size_t n)
{
	struct ibuf	*b;
	size_t		 left;

	while (n > 0 && (b = TAILQ_FIRST(&w->bufs)) != NULL) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): TAILQ FP */
		left = b->size - b->sent;
		if (n < left) {
			b->sent += n;
			w->bytes -= n;
			return;
		}
		n -= left;
		w->bytes -= left;
		b->sent = b->size;
		msgbuf_drop(w, b);
	}
}

/*
 * Write as much as the socket takes.  Returns 1 when the queue is empty,
 * 0 when the socket is full (EAGAIN), -1 on error.
 */
int
imsgbuf_write(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct iovec	 iov[IMSG_WRITEV_MAX];
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct ibuf	*b, *first;
	ssize_t		 n;
	int		 i;

	while ((first = TAILQ_FIRST(&ib->w.bufs)) != NULL) {
		memset(&msg, 0, sizeof(msg));
		i = 0;
		/* NOLINTBEGIN(clang-analyzer-unix.Malloc): TAILQ FP */
		TAILQ_FOREACH(b, &ib->w.bufs, entry) {
			/* an fd travels alone, with its message's head */
			if (i > 0 && b->fd != -1)
				break;
			if (i == IMSG_WRITEV_MAX)
				break;
			iov[i].iov_base = b->buf + b->sent;
			iov[i].iov_len = b->size - b->sent;
			i++;
			if (b->fd != -1)
				break;
		}
		/* NOLINTEND(clang-analyzer-unix.Malloc) */
		msg.msg_iov = iov;
		msg.msg_iovlen = i;
		if (first->fd != -1) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = &cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &first->fd, sizeof(int));
		}
		n = sendmsg(ib->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return (0);
			return (-1);
		}
		if (first->fd != -1) {
			close(first->fd);
			first->fd = -1;
		}
		msgbuf_advance(&ib->w, n);
	}
	return (1);
}

/* Write everything, waiting for the socket if it is non-blocking. */
int
imsgbuf_flush(struct imsgbuf *ib)
{
	struct pollfd	 pfd;
	int		 r;

	for (;;) {
		if ((r = imsgbuf_write(ib)) == 1)
			return (0);
		if (r == -1)
			return (-1);
		pfd.fd = ib->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
}

int
imsgbuf_queued(const struct imsgbuf *ib)
{
	return (ib->w.queued > 0);
}

void
imsg_free(struct imsg *imsg)
{
	wipe_free(imsg->data, imsg->datalen);
	imsg->data = NULL;
	if (imsg->fd != -1)
		close(imsg->fd);
	imsg->fd = -1;
}

/* Take ownership of the message's fd (-1 if it had none). */
int
imsg_get_fd(struct imsg *imsg)
{
	int	 fd = imsg->fd;

	imsg->fd = -1;
	return (fd);
}

/* Copy the payload out; its size must match exactly. */
int
imsg_get_data(struct imsg *imsg, void *out, size_t len)
{
	if (imsg->datalen != len) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(out, imsg->data, len);
	return (0);
}

uint32_t
imsg_type(const struct imsg *imsg)
{
	return (imsg->hdr.type);
}
