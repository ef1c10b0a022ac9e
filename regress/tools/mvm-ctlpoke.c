/*
 * mvm-ctlpoke: a misbehaving control client, for tests.
 *
 * usage: mvm-ctlpoke SOCKET MODE [N]
 *   garbage	send 64 bytes of junk
 *   nohello	send STATUS_REQ without HELLO first
 *   badversion	say HELLO with protocol version 999
 *   oversize	HELLO, then a header claiming 1 MiB
 *   trunc	HELLO, then half a header, then close
 *   unknown	HELLO, then a message of an unknown type
 *   wrongsize	HELLO, then STATUS_REQ with a 3-byte payload
 *   stall	connect and send nothing; hold it N seconds (default 8)
 *   hold	HELLO, then hold the connection N seconds
 *   tenant S	HELLO, then ask for a checkpoint of tenant S
 *   test G W	HELLO, then CTL_TEST: guest G's vmm runs test hook W
 *		(test builds of the supervisor only; release ones close)
 *   sharedata	HELLO, then a share's stream with no RUN before it
 *   sharerun	HELLO, then a RUN that counts a share never declared
 *   sharepath	HELLO, then a share for the guest path "/"
 *   sharemode	HELLO, then a share of mode none
 *   sharetwice	HELLO, then a share inside another one
 *   flood N	HELLO, then N requests that only read (STATUS and KEY in
 *		turn), 64 in flight at a time; prints "answered <n> ms <t>"
 *   refusals N	HELLO, then N requests that are refused and recorded
 *		(stop of guest "nosuch"), 16 in flight; "refused <n> ms <t>"
 *   imagegrow I S	HELLO, then an image build of I announcing S bytes,
 *		and more layer than that until an answer comes (or
 *		10 s after the last byte: "no answer")
 *   imagecut I S	the same, but close after half of the S bytes
 *   guestop O N	HELLO, then a guest request of op O for name N
 *   lingerfd S	HELLO, then a STATUS_REQ that passes a TCP socket whose
 *		send buffer is full and which lingers S seconds on close
 *		(its peer, held here, never reads); our copy is closed
 *   manyfds	HELLO, then a STATUS_REQ that passes 200 fds
 *   noread S	HELLO, then STATUS_REQ after STATUS_REQ for S seconds,
 *		reading no answer; prints "sent <n>"
 * Prints "closed answered <bytes>" once the supervisor closes the
 * connection (after HELLO's answer, for the modes that say HELLO),
 * "error <code>" if it sent a typed error, or "open" if it was still
 * open after the wait.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imsg.h"
#include "mvm.h"
#include "proc.h"

static int	 fd;

static void
send_bytes(const void *p, size_t len)
{
	if (write(fd, p, len) != (ssize_t)len)
		err(1, "write");
}

static void
send_msg(uint32_t type, const void *data, size_t len)
{
	struct imsg_hdr	 hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = sizeof(hdr) + len;
	hdr.pid = getpid();
	send_bytes(&hdr, sizeof(hdr));
	if (len > 0)
		send_bytes(data, len);
}

/* Say HELLO and consume the answer. */
static void
hello(uint32_t version)
{
	struct mvm_ctl_hello	 ch;
	struct imsg_hdr		 hdr;
	struct mvm_ctl_error	 ce;
	char			 buf[sizeof(ce)];

	memset(&ch, 0, sizeof(ch));
	ch.ch_version = version;
	(void)strlcpy(ch.ch_software, "ctlpoke", sizeof(ch.ch_software));
	send_msg(IMSG_CTL_HELLO, &ch, sizeof(ch));
	if (read(fd, &hdr, sizeof(hdr)) != sizeof(hdr))
		return;
	if (hdr.type == IMSG_CTL_ERROR &&
	    hdr.len == sizeof(hdr) + sizeof(ce) &&
	    read(fd, buf, sizeof(ce)) == sizeof(ce)) {
		memcpy(&ce, buf, sizeof(ce));
		printf("error %u\n", ce.ce_code);
		exit(0);
	}
	if (hdr.type != IMSG_CTL_HELLO || hdr.len != sizeof(hdr) + sizeof(ch) ||
	    read(fd, &ch, sizeof(ch)) != sizeof(ch))
		errx(1, "bad HELLO answer");
}

/* One reply: a typed error prints "error <code>", else "reply <type>". */
static void
read_reply(void)
{
	struct imsg_hdr		 hdr;
	struct mvm_ctl_error	 ce;

	if (read(fd, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		printf("closed\n");
		return;
	}
	if (hdr.type == IMSG_CTL_ERROR && hdr.len == sizeof(hdr) + sizeof(ce) &&
	    read(fd, &ce, sizeof(ce)) == sizeof(ce))
		printf("error %u\n", ce.ce_code);
	else
		printf("reply %u\n", hdr.type);
}

static uint64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Read one whole message; its type, or 0 once the connection is gone.
 * The payload is skipped.
 */
static uint32_t
read_msg(void)
{
	struct imsg_hdr	 hdr;
	char		 buf[65536];
	size_t		 left;
	ssize_t		 n;

	if (recv(fd, &hdr, sizeof(hdr), MSG_WAITALL) != sizeof(hdr) ||
	    hdr.len < sizeof(hdr))
		return (0);
	for (left = hdr.len - sizeof(hdr); left > 0; left -= n)
		if ((n = recv(fd, buf, left < sizeof(buf) ? left : sizeof(buf),
		    MSG_WAITALL)) <= 0)
			return (0);
	return (hdr.type);
}

/*
 * n requests, window of them in flight: send(i) sends the i-th, done()
 * says whether a message type ends a request.  Prints what label says
 * of the count of requests answered and the time it took.
 */
static void
pipeline(int n, int window, void (*send)(int), int (*done)(uint32_t),
    const char *label)
{
	uint64_t	 t0 = mono_ms();
	uint32_t	 type;
	int		 sent = 0, answered = 0;

	while (answered < n) {
		while (sent < n && sent - answered < window)
			send(sent++);
		if ((type = read_msg()) == 0)
			break;
		answered += done(type);
	}
	printf("%s %d ms %llu\n", label, answered,
	    (unsigned long long)(mono_ms() - t0));
}

static void
send_read(int i)
{
	send_msg(i % 2 ? IMSG_CTL_KEY_REQ : IMSG_CTL_STATUS_REQ, NULL, 0);
}

static int
done_read(uint32_t type)
{
	return (type == IMSG_CTL_STATUS_END || type == IMSG_CTL_KEY_RES);
}

static void
send_refused(int i)
{
	struct mvm_ctl_guest	 cg;

	(void)i;
	memset(&cg, 0, sizeof(cg));
	cg.cg_op = MVM_GUEST_STOP;
	(void)strlcpy(cg.cg_name, "nosuch", sizeof(cg.cg_name));
	send_msg(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg));
}

static int
done_refused(uint32_t type)
{
	return (type == IMSG_CTL_ERROR);
}

/* Send a STATUS_REQ with n fds attached (one sendmsg). */
static void
send_fds(const int *fds, int n)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * 253)];
	} cm;
	struct imsg_hdr	 hdr;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = IMSG_CTL_STATUS_REQ;
	hdr.len = sizeof(hdr);
	hdr.flags = IMSGF_HASFD;
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = &hdr;
	iov.iov_len = sizeof(hdr);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	if (sendmsg(fd, &msg, 0) != (ssize_t)sizeof(hdr))
		err(1, "sendmsg");
}

/*
 * A loopback TCP connection whose send buffer is full (the peer, held
 * open in *peer, never reads) and which lingers secs on close.
 */
static int
linger_socket(int secs, int *peer)
{
	struct sockaddr_in	 sin;
	struct linger		 l = { 1, secs };
	socklen_t		 len = sizeof(sin);
	char			 junk[65536];
	int			 ls, c;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 1) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) == -1 ||
	    (c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "tcp");
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		err(1, "connect");
	if ((*peer = accept(ls, NULL, NULL)) == -1)
		err(1, "accept");
	close(ls);
	memset(junk, 'x', sizeof(junk));
	while (write(c, junk, sizeof(junk)) > 0)
		continue;		/* until EAGAIN: nothing more fits */
	if (setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) == -1)
		err(1, "SO_LINGER");
	return (c);
}

/* Wait up to ms for the server to close; count what it sends. */
static void
wait_close(int ms)
{
	struct pollfd	 pfd;
	char		 buf[4096];
	size_t		 total = 0;
	ssize_t		 n;

	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, ms) <= 0) {
			printf("open\n");
			return;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		total += n;
	}
	printf("closed answered %zu\n", total);
}

/*
 * An image build announcing size bytes, then zeros: "imagegrow" sends
 * until an answer comes (up to 4 MiB more than it announced) and
 * prints it; "imagecut" goes away after half of them.
 */
static void
image_stream(const char *mode, const char *name, uint64_t size)
{
	struct mvm_ctl_guest	 cg;
	struct imsg_hdr		 hdr;
	struct pollfd		 pfd;
	static uint8_t		 zero[MVM_DATA_MAX];
	uint64_t		 sent = 0, stop;

	hello(MVM_CTL_VERSION);
	memset(&cg, 0, sizeof(cg));
	cg.cg_op = MVM_GUEST_IMAGE_BUILD;
	cg.cg_size = size;
	(void)strlcpy(cg.cg_name, name, sizeof(cg.cg_name));
	send_msg(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg));
	if (read(fd, &hdr, sizeof(hdr)) != sizeof(hdr) ||
	    hdr.type != IMSG_CTL_OK)
		errx(1, "image build refused");
	stop = strcmp(mode, "imagecut") == 0 ? size / 2 :
	    size + 4 * 1024 * 1024;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (sent < stop && poll(&pfd, 1, 0) == 0) {
		send_msg(IMSG_CTL_FILE_DATA, zero, sizeof(zero));
		sent += sizeof(zero);
	}
	if (strcmp(mode, "imagecut") == 0)
		printf("sent %llu\n", (unsigned long long)sent);
	else if (poll(&pfd, 1, 10000) == 1)
		read_reply();
	else
		printf("no answer\n");
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	struct imsg_hdr		 hdr;
	const char		*mode;
	char			 junk[64];
	int			 secs;

	/* a supervisor that closes at once must not kill us silently */
	(void)signal(SIGPIPE, SIG_IGN);
	(void)setvbuf(stdout, NULL, _IOLBF, 0);	/* lines as they come */

	if (argc < 3)
		errx(2, "usage: mvm-ctlpoke SOCKET MODE [N]");
	mode = argv[2];
	secs = argc > 3 ? atoi(argv[3]) : 8;
	if (secs <= 0)
		secs = 8;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)strlcpy(sun.sun_path, argv[1], sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "connect %s", argv[1]);

	if (strcmp(mode, "garbage") == 0) {
		memset(junk, 0xa5, sizeof(junk));
		send_bytes(junk, sizeof(junk));
	} else if (strcmp(mode, "nohello") == 0) {
		send_msg(IMSG_CTL_STATUS_REQ, NULL, 0);
	} else if (strcmp(mode, "badversion") == 0) {
		hello(999);
	} else if (strcmp(mode, "oversize") == 0) {
		hello(MVM_CTL_VERSION);
		memset(&hdr, 0, sizeof(hdr));
		hdr.type = IMSG_CTL_STATUS_REQ;
		hdr.len = 1024 * 1024;
		send_bytes(&hdr, sizeof(hdr));
	} else if (strcmp(mode, "trunc") == 0) {
		hello(MVM_CTL_VERSION);
		memset(&hdr, 0, sizeof(hdr));
		hdr.type = IMSG_CTL_STATUS_REQ;
		hdr.len = sizeof(hdr);
		send_bytes(&hdr, sizeof(hdr) / 2);
		shutdown(fd, SHUT_WR);
	} else if (strcmp(mode, "unknown") == 0) {
		hello(MVM_CTL_VERSION);
		send_msg(7777, "x", 1);
	} else if (strcmp(mode, "wrongsize") == 0) {
		hello(MVM_CTL_VERSION);
		send_msg(IMSG_CTL_STATUS_REQ, "abc", 3);
	} else if (strcmp(mode, "stall") == 0) {
		wait_close(secs * 1000);
		return (0);
	} else if (strcmp(mode, "tenant") == 0 && argc > 3) {
		struct mvm_audit_req	 ar;

		hello(MVM_CTL_VERSION);
		memset(&ar, 0, sizeof(ar));
		(void)strlcpy(ar.ar_tenant, argv[3], sizeof(ar.ar_tenant));
		send_msg(IMSG_CTL_AUDIT_CKPT_REQ, &ar, sizeof(ar));
		read_reply();
		return (0);
	} else if (strcmp(mode, "test") == 0 && argc > 4) {
		struct mvm_ctl_test	 ct;

		hello(MVM_CTL_VERSION);
		memset(&ct, 0, sizeof(ct));
		(void)strlcpy(ct.ct_name, argv[3], sizeof(ct.ct_name));
		ct.ct_which = (uint32_t)atoi(argv[4]);
		send_msg(IMSG_CTL_TEST, &ct, sizeof(ct));
		read_reply();
		return (0);
	} else if (strncmp(mode, "share", 5) == 0) {
		struct mvm_ctl_share	 sh;
		struct mvm_ctl_run	 cr;

		hello(MVM_CTL_VERSION);
		memset(&sh, 0, sizeof(sh));
		sh.sh_mode = MVM_ADD_DIR_RO;
		(void)strlcpy(sh.sh_path, "/work", sizeof(sh.sh_path));
		memset(&cr, 0, sizeof(cr));
		cr.cr_mode = MVM_RUN_RUN;
		cr.cr_argc = 1;
		cr.cr_sharec = 1;
		if (strcmp(mode, "sharedata") == 0)
			send_msg(IMSG_CTL_SHARE_DATA, "mvmshr1\n", 8);
		else if (strcmp(mode, "sharerun") == 0) {
			char	 buf[sizeof(cr) + 5];

			memcpy(buf, &cr, sizeof(cr));
			memcpy(buf + sizeof(cr), "true", 5);
			send_msg(IMSG_CTL_RUN, buf, sizeof(buf));
		} else if (strcmp(mode, "sharepath") == 0) {
			(void)strlcpy(sh.sh_path, "/", sizeof(sh.sh_path));
			send_msg(IMSG_CTL_SHARE, &sh, sizeof(sh));
		} else if (strcmp(mode, "sharemode") == 0) {
			sh.sh_mode = MVM_ADD_DIR_NONE;
			send_msg(IMSG_CTL_SHARE, &sh, sizeof(sh));
		} else if (strcmp(mode, "sharetwice") == 0) {
			send_msg(IMSG_CTL_SHARE, &sh, sizeof(sh));
			(void)strlcpy(sh.sh_path, "/work/sub",
			    sizeof(sh.sh_path));
			send_msg(IMSG_CTL_SHARE, &sh, sizeof(sh));
		} else
			errx(2, "unknown mode %s", mode);
	} else if (strcmp(mode, "flood") == 0 && argc > 3) {
		hello(MVM_CTL_VERSION);
		pipeline(atoi(argv[3]), 64, send_read, done_read, "answered");
		return (0);
	} else if (strcmp(mode, "refusals") == 0 && argc > 3) {
		hello(MVM_CTL_VERSION);
		pipeline(atoi(argv[3]), 16, send_refused, done_refused,
		    "refused");
		return (0);
	} else if (strcmp(mode, "guestop") == 0 && argc > 4) {
		struct mvm_ctl_guest	 cg;

		hello(MVM_CTL_VERSION);
		memset(&cg, 0, sizeof(cg));
		cg.cg_op = (uint32_t)atoi(argv[3]);
		(void)strlcpy(cg.cg_name, argv[4], sizeof(cg.cg_name));
		send_msg(IMSG_CTL_GUEST_REQ, &cg, sizeof(cg));
		read_reply();
		return (0);
	} else if (strncmp(mode, "image", 5) == 0 && argc > 4) {
		image_stream(mode, argv[3], strtoull(argv[4], NULL, 10));
		return (0);
	} else if (strcmp(mode, "lingerfd") == 0) {
		int	 c, peer;

		c = linger_socket(secs, &peer);
		hello(MVM_CTL_VERSION);
		send_fds(&c, 1);
		close(c);		/* the supervisor's copy is the last */
		printf("passed\n");
		wait_close(5000);
		sleep(secs + 1);	/* the peer stays, not reading */
		close(peer);
		return (0);
	} else if (strcmp(mode, "noread") == 0) {
		struct imsg_hdr	 h;
		struct pollfd	 pfd = { fd, POLLOUT, 0 };
		uint64_t	 end, n = 0;
		size_t		 off = 0;
		ssize_t		 w;

		hello(MVM_CTL_VERSION);
		memset(&h, 0, sizeof(h));
		h.type = IMSG_CTL_STATUS_REQ;
		h.len = sizeof(h);
		(void)fd_nonblock(fd);
		for (end = mono_ms() + secs * 1000ULL; mono_ms() < end; ) {
			w = write(fd, (char *)&h + off, sizeof(h) - off);
			if (w > 0 && (off += w) == sizeof(h)) {
				off = 0;
				n++;
			} else if (w == -1 && errno != EAGAIN)
				break;
			else if (w == -1)
				(void)poll(&pfd, 1, 100);
		}
		printf("sent %llu\n", (unsigned long long)n);
		return (0);
	} else if (strcmp(mode, "manyfds") == 0) {
		int	 fds[200], i;

		for (i = 0; i < 200; i++)
			if ((fds[i] = open("/dev/null", O_RDONLY)) == -1)
				err(1, "/dev/null");
		hello(MVM_CTL_VERSION);
		send_fds(fds, 200);
		for (i = 0; i < 200; i++)
			close(fds[i]);
	} else if (strcmp(mode, "hold") == 0) {
		hello(MVM_CTL_VERSION);
		wait_close(secs * 1000);
		return (0);
	} else
		errx(2, "unknown mode %s", mode);
	wait_close(5000);
	return (0);
}
