/*
 * ctl.c: mvmctl's side of the control socket.  Blocking I/O, one
 * request at a time; any typed error from the supervisor is printed
 * and ends the command with exit status 1.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mvmctl.h"

static struct imsgbuf	 ctl_ibuf;
static int		 ctl_fd = -1;

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
	if ((ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(EXIT_ERR, "socket");
	if (connect(ctl_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(EXIT_ERR, "cannot connect to %s (is mvm-supervisor "
		    "running?)", path);
	if (imsgbuf_init(&ctl_ibuf, ctl_fd, MVM_IMSG_MAX) == -1)
		err(EXIT_ERR, "imsgbuf_init");
	memset(&ch, 0, sizeof(ch));
	ch.ch_version = MVM_CTL_VERSION;
	(void)snprintf(ch.ch_software, sizeof(ch.ch_software), "mvmctl %s",
	    MVM_VERSION);
	ctl_send(IMSG_CTL_HELLO, &ch, sizeof(ch));
	ctl_expect(&imsg, IMSG_CTL_HELLO);
	if (msg_get_ctl_hello(&imsg, &ch) == -1 ||
	    ch.ch_version != MVM_CTL_VERSION)
		errx(EXIT_ERR, "supervisor speaks another protocol version");
	imsg_free(&imsg);
}

void
ctl_sendv2(uint32_t type, const void *d1, size_t l1, const void *d2,
    size_t l2)
{
	if (imsg_composev2(&ctl_ibuf, type, 0, -1, d1, l1, d2, l2) == -1 ||
	    imsgbuf_flush(&ctl_ibuf) == -1)
		err(EXIT_ERR, "sending to the supervisor");
}

void
ctl_send(uint32_t type, const void *data, size_t len)
{
	ctl_sendv2(type, data, len, NULL, 0);
}

/* The next message; a CTL_ERROR ends the command. */
void
ctl_recv(struct imsg *imsg)
{
	struct mvm_ctl_error	 ce;
	ssize_t			 n;

	for (;;) {
		if ((n = imsg_get(&ctl_ibuf, imsg)) == -1)
			errx(EXIT_ERR, "malformed reply from the supervisor");
		if (n > 0)
			break;
		if ((n = imsgbuf_read(&ctl_ibuf)) == -1) {
			if (errno == EINTR)
				continue;
			err(EXIT_ERR, "reading from the supervisor");
		}
		if (n == 0)
			errx(EXIT_ERR, "the supervisor closed the connection");
	}
	if (imsg_type(imsg) == IMSG_CTL_ERROR) {
		if (msg_get_ctl_error(imsg, &ce) == -1)
			errx(EXIT_ERR, "malformed error from the supervisor");
		errx(EXIT_ERR, "%s", ce.ce_msg);
	}
}

void
ctl_expect(struct imsg *imsg, uint32_t type)
{
	ctl_recv(imsg);
	if (imsg_type(imsg) != type)
		errx(EXIT_ERR, "unexpected reply %s from the supervisor",
		    imsg_type_name(imsg_type(imsg)));
}

void
ctl_close(void)
{
	if (ctl_fd == -1)
		return;
	imsgbuf_clear(&ctl_ibuf);
	close(ctl_fd);
	ctl_fd = -1;
}
