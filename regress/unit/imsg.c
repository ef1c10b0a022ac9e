/* imsg framing: round trips, fd passing, limits, malformed streams. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "mvm.h"
#include "tap.h"

static int
pair(struct imsgbuf *a, struct imsgbuf *b, size_t max)
{
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return (-1);
	imsgbuf_init(a, sv[0], max);
	imsgbuf_init(b, sv[1], max);
	return (0);
}

static void
unpair(struct imsgbuf *a, struct imsgbuf *b)
{
	close(a->fd);
	close(b->fd);
	imsgbuf_clear(a);
	imsgbuf_clear(b);
}

/* read until one message is there (blocking socket) */
static ssize_t
get_one(struct imsgbuf *b, struct imsg *m)
{
	ssize_t	 n;

	for (;;) {
		if ((n = imsg_get(b, m)) != 0)
			return (n);
		if ((n = imsgbuf_read(b)) <= 0)
			return (n == 0 ? -2 : -1);
	}
}

int
main(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 m;
	struct imsg_hdr	 hdr;
	struct stat	 st1, st2;
	uint8_t		*big;
	char		 buf[64];
	int		 fd, i, ok;

	/* round trip with peer id and payload */
	pair(&a, &b, MVM_IMSG_MAX);
	TAP_OK(imsg_compose(&a, 42, 7, -1, "hello", 5) == 0, "compose");
	TAP_OK(imsgbuf_flush(&a) == 0, "flush");
	TAP_OK(get_one(&b, &m) == (ssize_t)(IMSG_HEADER_SIZE + 5), "get");
	TAP_OK(m.hdr.type == 42 && m.hdr.peerid == 7 && m.datalen == 5 &&
	    memcmp(m.data, "hello", 5) == 0 && m.fd == -1,
	    "type, peer id, payload survive");
	TAP_OK(imsg_get_data(&m, buf, 4) == -1 && errno == EBADMSG,
	    "imsg_get_data refuses a wrong size");
	imsg_free(&m);

	/* many small messages in one write, in order */
	for (i = 0; i < 1000; i++)
		imsg_compose(&a, 1, i, -1, &i, sizeof(i));
	TAP_OK(a.w.bytes == 1000 * (IMSG_HEADER_SIZE + sizeof(i)),
	    "queued bytes counted");
	imsgbuf_flush(&a);
	TAP_OK(a.w.bytes == 0, "and back to zero once written");
	ok = 1;
	for (i = 0; i < 1000; i++) {
		int	 v;

		if (get_one(&b, &m) <= 0 || imsg_get_data(&m, &v, sizeof(v)) ||
		    v != i || m.hdr.peerid != (uint32_t)i)
			ok = 0;
		imsg_free(&m);
	}
	TAP_OK(ok, "1000 messages arrive complete and in order");

	/* fd passing: the fd arrives with its message, close-on-exec */
	fd = open("/dev/null", O_RDONLY);
	fstat(fd, &st1);
	imsg_compose(&a, 1, 0, -1, "a", 1);
	imsg_compose(&a, 2, 0, fd, "b", 1);
	imsg_compose(&a, 3, 0, -1, "c", 1);
	imsgbuf_flush(&a);
	TAP_OK(fcntl(fd, F_GETFD) == -1, "sender's fd closed once sent");
	TAP_OK(a.w.bytes == 0 && a.w.queued == 0,
	    "nothing counted as queued once all is written");
	get_one(&b, &m);
	TAP_OK(m.hdr.type == 1 && m.fd == -1, "message before has no fd");
	imsg_free(&m);
	get_one(&b, &m);
	fd = imsg_get_fd(&m);
	TAP_OK(m.hdr.type == 2 && fd >= 0, "fd travels with its message");
	TAP_OK(fd >= 0 && fstat(fd, &st2) == 0 && st1.st_ino == st2.st_ino,
	    "received fd is the same file");
	TAP_OK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	    "received fd has FD_CLOEXEC");
	close(fd);
	imsg_free(&m);
	get_one(&b, &m);
	TAP_OK(m.hdr.type == 3 && m.fd == -1, "message after has no fd");
	imsg_free(&m);

	/* the maximum size, exactly, passes; one more does not compose */
	big = calloc(1, MVM_IMSG_MAX);
	TAP_OK(imsg_compose(&a, 5, 0, -1, big,
	    MVM_IMSG_MAX - IMSG_HEADER_SIZE) == 0, "maximum size composes");
	TAP_OK(imsg_compose(&a, 5, 0, -1, big,
	    MVM_IMSG_MAX - IMSG_HEADER_SIZE + 1) == -1 && errno == EMSGSIZE,
	    "one byte more is refused");
	/* larger than the socket buffer: write from another process */
	if (fork() == 0) {
		imsgbuf_flush(&a);
		_exit(0);
	}
	imsgbuf_clear(&a);
	imsgbuf_init(&a, a.fd, MVM_IMSG_MAX);
	TAP_OK(get_one(&b, &m) == MVM_IMSG_MAX, "maximum size arrives");
	wait(NULL);
	imsg_free(&m);
	free(big);
	unpair(&a, &b);

	/* a header claiming more than the receiver's maximum */
	pair(&a, &b, 1024);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = 1;
	hdr.len = 1025;
	TAP_OK(write(a.fd, &hdr, sizeof(hdr)) == sizeof(hdr), "send oversize");
	TAP_OK(imsgbuf_read(&b) == sizeof(hdr) && imsg_get(&b, &m) == -1 &&
	    errno == EBADMSG && b.rsize == IMSG_RBUF_MIN,
	    "oversize header: EBADMSG, and no buffer grown for it");
	TAP_OK(imsgbuf_read(&b) == -1 && errno == EBADMSG,
	    "oversize header: the next read refuses too");
	unpair(&a, &b);

	/* a header shorter than itself */
	pair(&a, &b, 1024);
	hdr.len = 4;
	if (write(a.fd, &hdr, sizeof(hdr)) < 0)
		return (2);
	imsgbuf_read(&b);
	TAP_OK(imsg_get(&b, &m) == -1 && errno == EBADMSG,
	    "length below the header size is malformed");
	unpair(&a, &b);

	/* unknown flag bits */
	pair(&a, &b, 1024);
	hdr.len = sizeof(hdr);
	hdr.flags = 0x80;
	if (write(a.fd, &hdr, sizeof(hdr)) < 0)
		return (2);
	imsgbuf_read(&b);
	TAP_OK(imsg_get(&b, &m) == -1 && errno == EBADMSG,
	    "unknown flag bits are malformed");
	unpair(&a, &b);

	/* HASFD without an fd */
	pair(&a, &b, 1024);
	hdr.flags = IMSGF_HASFD;
	if (write(a.fd, &hdr, sizeof(hdr)) < 0)
		return (2);
	imsgbuf_read(&b);
	TAP_OK(imsg_get(&b, &m) == -1 && errno == EBADMSG,
	    "a message claiming an fd that never came is malformed");
	unpair(&a, &b);

	/* partial message: nothing yet, then complete */
	pair(&a, &b, 1024);
	hdr.flags = 0;
	hdr.len = sizeof(hdr) + 3;
	if (write(a.fd, &hdr, sizeof(hdr)) < 0)
		return (2);
	imsgbuf_read(&b);
	TAP_OK(imsg_get(&b, &m) == 0, "partial message is not delivered");
	if (write(a.fd, "xyz", 3) < 0)
		return (2);
	imsgbuf_read(&b);
	TAP_OK(imsg_get(&b, &m) == (ssize_t)sizeof(hdr) + 3 &&
	    memcmp(m.data, "xyz", 3) == 0, "then delivered whole");
	imsg_free(&m);
	unpair(&a, &b);

	/* after a large message the read buffer shrinks back */
	pair(&a, &b, MVM_IMSG_MAX);
	big = calloc(1, 200000);
	imsg_compose(&a, 1, 0, -1, big, 200000);
	if (fork() == 0) {
		imsgbuf_flush(&a);
		_exit(0);
	}
	get_one(&b, &m);
	wait(NULL);
	imsg_free(&m);
	TAP_OK(b.rsize <= IMSG_RBUF_MIN, "read buffer shrinks after a "
	    "large message (%zu bytes)", b.rsize);
	free(big);
	unpair(&a, &b);
	TAP_DONE();
}
