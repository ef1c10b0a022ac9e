/*
 * ctl.c: mvmctl's side of the control socket.  Blocking I/O, one
 * request at a time; any typed error from the supervisor is printed
 * and ends the command with exit status 1.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mvmctl.h"

static struct imsgbuf	 ctl_ibuf;

static int		 ctl_fd_ = -1;

/* -S, then $MVM_STATE_DIR, then the default */
const char *
ctl_statedir(void)
{
	const char	*env;

	if (g.statedir != NULL)
		return (g.statedir);
	if ((env = getenv("MVM_STATE_DIR")) != NULL && env[0] != '\0')
		return (env);
	return (MVM_STATEDIR);
}

/* -s, then $MVM_SOCKET, then beside a non-default state dir */
static const char *
ctl_socket(void)
{
	static char	 buf[108];
	const char	*env, *dir;

	if (g.socket != NULL)
		return (g.socket);
	if ((env = getenv("MVM_SOCKET")) != NULL && env[0] != '\0')
		return (env);
	dir = ctl_statedir();
	if (strcmp(dir, MVM_STATEDIR) == 0)
		return (MVM_SOCKET);
	if ((size_t)snprintf(buf, sizeof(buf), "%s/control.sock", dir) >=
	    sizeof(buf))
		errx(EXIT_ERR, "%s: state dir too long for a socket path; "
		    "use -s", dir);
	return (buf);
}

void
ctl_connect(void)
{
	struct sockaddr_un	 sun;
	struct mvm_ctl_hello	 ch;
	struct imsg		 imsg;
	const char		*path = ctl_socket();

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(EXIT_ERR, "%s: socket path too long", path);
	if ((ctl_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(EXIT_ERR, "socket");
	if (connect(ctl_fd_, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		char	 msg[192];

		(void)snprintf(msg, sizeof(msg), "cannot connect to %s: %s "
		    "(is mvm-supervisor running?)", path, strerror(errno));
		ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0, msg);
	}
	if (imsgbuf_init(&ctl_ibuf, ctl_fd_, MVM_IMSG_MAX) == -1)
		err(EXIT_ERR, "imsgbuf_init");
	memset(&ch, 0, sizeof(ch));
	ch.ch_version = MVM_CTL_VERSION;
	(void)snprintf(ch.ch_software, sizeof(ch.ch_software), "mvmctl %s",
	    MVM_VERSION);
	ctl_send(IMSG_CTL_HELLO, &ch, sizeof(ch));
	ctl_expect(&imsg, IMSG_CTL_HELLO);
	if (msg_get_ctl_hello(&imsg, &ch) == -1 ||
	    ch.ch_version != MVM_CTL_VERSION)
		ctl_fail(EXIT_ERR, MVM_EVERSION,
		    "supervisor speaks another protocol version");
	imsg_free(&imsg);
}

void
ctl_sendv2(uint32_t type, const void *d1, size_t l1, const void *d2,
    size_t l2)
{
	if (imsg_composev2(&ctl_ibuf, type, 0, -1, d1, l1, d2, l2) == -1 ||
	    imsgbuf_flush(&ctl_ibuf) == -1)
		ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0,
		    "sending to the supervisor failed");
}

void
ctl_send(uint32_t type, const void *data, size_t len)
{
	ctl_sendv2(type, data, len, NULL, 0);
}

/*
 * For the relay of a command's stdin: queue a message without waiting
 * for the socket, write what the socket takes now, and how much waits.
 * The supervisor stops reading a client whose stdin its guest is not
 * taking; a client blocked in a write then would not read the output,
 * and a guest waiting for its output to be read takes no more stdin.
 */
void
ctl_queue(uint32_t type, const void *data, size_t len)
{
	if (imsg_composev2(&ctl_ibuf, type, 0, -1, data, len, NULL, 0) == -1)
		ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0,
		    "sending to the supervisor failed");
}

void
ctl_write(void)
{
	if (imsgbuf_write(&ctl_ibuf) == -1)
		ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0,
		    "sending to the supervisor failed");
}

size_t
ctl_queued(void)
{
	return (ctl_ibuf.w.bytes);
}

/* The socket non-blocking (on) for the relay, or blocking again. */
void
ctl_nonblock(int on)
{
	int	 fl;

	if ((fl = fcntl(ctl_fd_, F_GETFL)) == -1 ||
	    fcntl(ctl_fd_, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) ==
	    -1)
		err(EXIT_ERR, "fcntl");
}

/* Typed errors as exit statuses, for the guest commands. */
int
ctl_exit_status(uint32_t code)
{
	if (!g.typed_exits)
		return (EXIT_ERR);
	switch (code) {
	case MVM_ECAPACITY:	return (EXIT_CAPACITY);
	case MVM_EBUSY:		return (EXIT_BUSY);
	case MVM_EAUDIT:	return (EXIT_AUDIT);
	case MVM_ENOGUEST:	return (EXIT_NOGUEST);
	case MVM_ENOQEMU:	return (EXIT_NOQEMU);
	case MVM_EIMAGE:	return (EXIT_IMAGE);
	case MVM_EPOLICY:	return (EXIT_POLICY);
	case MVM_ENOSECRET:	return (EXIT_NOSECRET);
	case MVM_ESHARE:	return (EXIT_SHARE);
	case MVM_EQUOTA:	return (EXIT_QUOTA);
	case MVM_EINUSE:	return (EXIT_INUSE);
	case MVM_ENOIMAGE:	return (EXIT_NOIMAGE);
	case MVM_ETOOBIG:	return (EXIT_TOOBIG);
	case MVM_EEXIST:	return (EXIT_EXISTS);
	case MVM_EBOOT:
	case MVM_EGUEST:	return (EXIT_BOOT);
	case MVM_ENOTFOUND:	return (EXIT_NOTFOUND);
	case MVM_ESTATE:	return (EXIT_STATE);
	case MVM_EINVAL:	return (EXIT_USAGE);
	}
	return (EXIT_MVM);
}

/* code: the supervisor's MVM_E*, or 0 for a transport failure */
void
ctl_fail(int status, uint32_t code, const char *msg)
{
	if (g.on_fail != NULL)
		g.on_fail(status, code, msg);
	errx(status, "%s", msg);
}

/* A message already read, if there is one (does not block). */
int
ctl_pending(struct imsg *imsg)
{
	struct mvm_ctl_error	 ce;
	ssize_t			 n;

	if ((n = imsg_get(&ctl_ibuf, imsg)) == -1)
		ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0,
		    "malformed reply from the supervisor");
	if (n == 0)
		return (0);
	if (imsg_type(imsg) == IMSG_CTL_ERROR) {
		if (msg_get_ctl_error(imsg, &ce) == -1)
			ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0,
			    "malformed error from the supervisor");
		ctl_fail(ctl_exit_status(ce.ce_code), ce.ce_code, ce.ce_msg);
	}
	return (1);
}

int
ctl_fd(void)
{
	return (ctl_fd_);
}

/* Read what the socket has; the supervisor going away ends us. */
void
ctl_read(void)
{
	ssize_t	 n;

	if ((n = imsgbuf_read(&ctl_ibuf)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0,
		    "reading from the supervisor failed");
	}
	if (n == 0)
		ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0,
		    "the supervisor closed the connection");
}

/* The next message; a CTL_ERROR ends the command. */
void
ctl_recv(struct imsg *imsg)
{
	while (!ctl_pending(imsg))
		ctl_read();
}

void
ctl_expect(struct imsg *imsg, uint32_t type)
{
	ctl_recv(imsg);
	if (imsg_type(imsg) != type)
		ctl_fail(g.typed_exits ? EXIT_MVM : EXIT_ERR, 0,
		    "unexpected reply from the supervisor");
}

void
ctl_close(void)
{
	if (ctl_fd_ == -1)
		return;
	imsgbuf_clear(&ctl_ibuf);
	close(ctl_fd_);
	ctl_fd_ = -1;
}

/*
 * Send one request and collect the replies of type rtype, each read by
 * get into the next sz-byte slot of out, until END; at most max.  A
 * reply of another type, one too many or one get refuses ends mvmctl.
 * Returns how many were collected; the connection is closed.
 */
int
ctl_collect(uint32_t type, const void *req, size_t reqlen, uint32_t rtype,
    int (*get)(struct imsg *, void *), void *out, size_t sz, int max)
{
	struct imsg	 imsg;
	int		 n = 0;

	g.typed_exits = 1;
	ctl_connect();
	ctl_send(type, req, reqlen);
	for (;;) {
		ctl_recv(&imsg);
		if (imsg_type(&imsg) == IMSG_CTL_END)
			break;
		if (imsg_type(&imsg) != rtype || n == max ||
		    get(&imsg, (char *)out + (size_t)n * sz) == -1)
			errx(EXIT_MVM, "malformed reply");
		n++;
		imsg_free(&imsg);
	}
	imsg_free(&imsg);
	ctl_close();
	return (n);
}
