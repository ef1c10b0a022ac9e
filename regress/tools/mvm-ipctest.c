/*
 * mvm-ipctest: plays the supervisor towards one daemon, so tests can
 * drive it step by step and send it what a real supervisor never would.
 *
 * usage: mvm-ipctest BINARY ROLE DIR UID STEP ...
 *   ROLE	signer | auditd
 *   DIR	scratch dir: DIR/empty is the jail mount point, DIR/host.key
 *		the signer's key, DIR/log and DIR/checkpoints auditd's files
 *   UID	uid and gid the daemon drops to
 * steps, run in order:
 *   hello		wait for HELLO
 *   config		send CONFIG, the fds and CONFIG_END
 *   ready		wait for READY; prints "ready <vkey>"
 *   trunc		send 10 bytes of a header, then shut down writing
 *   oversize		send a header claiming more than the maximum
 *   unknown		send a message of an unknown type
 *   wrongsize		send CONFIG one byte short
 *   shortsign		send a SIGN_REQ whose length field lies
 *   shortevent		send an AUDIT_EVENT one byte short
 *   forbid N		send TEST_SYSCALL N (test builds only)
 *   sign KIND FILE OUT [peer]
 *			ask for a signature over FILE's bytes (kind as a
 *			number), from the parent or from the peer socket;
 *			writes the 64 signature bytes to OUT and prints
 *			"signed <error> <keyid>"
 *   signck ORIGIN SIZE ROOTHEX OUT
 *			ask (as the peer) for a checkpoint signature
 *   close		close our end of the socket
 *   exit		wait (10 s) for the daemon to exit; prints
 *			"exit <how> answered <n>" where n counts bytes the
 *			daemon wrote to us after our last step
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "imsg.h"
#include "mvm.h"
#include "proc.h"

static struct imsgbuf	 ib;		/* to the daemon's fd 3 */
static struct imsgbuf	 pb;		/* the daemon's peer socket */
static int		 peerfd = -1;	/* our end of it */
static pid_t		 child;
static int		 role;
static const char	*dir;
static unsigned int	 uid;

static int
wait_msg(struct imsgbuf *b, struct imsg *imsg, int ms)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	for (;;) {
		if ((n = imsg_get(b, imsg)) == -1)
			errx(1, "malformed message from daemon");
		if (n > 0)
			return (0);
		pfd.fd = b->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) <= 0)
			errx(1, "timeout waiting for the daemon");
		n = imsgbuf_read(b);
		if (n == -1 && errno == EAGAIN)
			continue;
		if (n <= 0)
			errx(1, "daemon closed its socket");
	}
}

static void
send_raw(const void *buf, size_t len)
{
	if (write(ib.fd, buf, len) != (ssize_t)len)
		err(1, "write");
}

static void
flush(struct imsgbuf *b)
{
	if (imsgbuf_flush(b) == -1)
		err(1, "flush");
}

static int
open_file(const char *name, int flags)
{
	char	 path[1024];
	int	 fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, flags | O_CLOEXEC, 0600)) == -1)
		err(1, "%s", path);
	return (fd);
}

static void
send_fd(uint32_t kind, int fd)
{
	struct mvm_config_fd	 cf;

	memset(&cf, 0, sizeof(cf));
	cf.cf_kind = kind;
	(void)strlcpy(cf.cf_name, "local", sizeof(cf.cf_name));
	if (imsg_compose(&ib, IMSG_CONFIG_FD, 0, fd, &cf, sizeof(cf)) == -1)
		err(1, "compose");
}

static void
step_config(void)
{
	struct mvm_child_config	 cc;
	int			 sp[2];

	memset(&cc, 0, sizeof(cc));
	cc.cc_proto = MVM_PROTO_VERSION;
	cc.cc_uid = cc.cc_gid = uid;
	(void)snprintf(cc.cc_root, sizeof(cc.cc_root), "%s/empty", dir);
	(void)strlcpy(cc.cc_keyname, "mvm-test", sizeof(cc.cc_keyname));
	(void)strlcpy(cc.cc_hostname, "test", sizeof(cc.cc_hostname));
	cc.cc_keyid = 0x01020304;	/* auditd: the key records will name */
	if (imsg_compose(&ib, IMSG_CONFIG, 0, -1, &cc, sizeof(cc)) == -1)
		err(1, "compose");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		err(1, "socketpair");
	if (peerfd != -1) {		/* a second CONFIG, on purpose */
		close(peerfd);
		imsgbuf_clear(&pb);
	}
	peerfd = sp[1];
	if (imsgbuf_init(&pb, peerfd, MVM_IMSG_MAX) == -1)
		err(1, "imsgbuf_init");
	if (role == MVM_ROLE_SIGNER) {
		send_fd(MVM_FD_SIGNER_KEY, open_file("host.key",
		    O_RDWR | O_CREAT));
		send_fd(MVM_FD_PEER, sp[0]);
	} else {
		send_fd(MVM_FD_PEER, sp[0]);
		send_fd(MVM_FD_AUDIT_LOG, open_file("log",
		    O_RDWR | O_APPEND | O_CREAT));
		send_fd(MVM_FD_AUDIT_CKPT, open_file("checkpoints",
		    O_RDWR | O_APPEND | O_CREAT));
	}
	if (imsg_compose(&ib, IMSG_CONFIG_END, 0, -1, NULL, 0) == -1)
		err(1, "compose");
	flush(&ib);
}

static void
step_ready(void)
{
	struct mvm_ready	 rd;
	struct imsg		 imsg;
	char			 vkey[MVM_VKEY_MAX];

	wait_msg(&ib, &imsg, 10000);
	if (imsg_type(&imsg) != IMSG_READY || msg_get_ready(&imsg, &rd) == -1)
		errx(1, "expected READY, got type %u", imsg_type(&imsg));
	imsg_free(&imsg);
	if (role == MVM_ROLE_SIGNER) {
		if (vkey_format(rd.rd_keyname, rd.rd_pubkey, vkey,
		    sizeof(vkey)) == -1)
			errx(1, "bad key in READY");
		printf("ready %s%s\n", vkey,
		    rd.rd_flags & MVM_READY_KEY_CREATED ? " created" : "");
	} else
		printf("ready\n");
	fflush(stdout);
}

static void
read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", path);
	*len = st.st_size;
	if ((*buf = malloc(*len + 1)) == NULL)
		err(1, NULL);
	if (read(fd, *buf, *len) != (ssize_t)*len)
		err(1, "%s", path);
	close(fd);
}

static void
sign_common(uint32_t kind, const void *body, size_t len, const char *out,
    int via_peer)
{
	struct mvm_sign_req	 sr;
	struct mvm_sign_res	 res;
	struct imsgbuf		*b = via_peer ? &pb : &ib;
	struct imsg		 imsg;
	FILE			*f;

	memset(&sr, 0, sizeof(sr));
	sr.sr_id = 7;
	sr.sr_kind = kind;
	sr.sr_len = len;
	if (imsg_composev2(b, IMSG_SIGN_REQ, 0, -1, &sr, sizeof(sr), body,
	    len) == -1)
		err(1, "compose");
	flush(b);
	wait_msg(b, &imsg, 10000);
	if (imsg_type(&imsg) != IMSG_SIGN_RES ||
	    msg_get_sign_res(&imsg, &res) == -1 || res.ss_id != 7)
		errx(1, "bad SIGN_RES");
	imsg_free(&imsg);
	if ((f = fopen(out, "w")) == NULL ||
	    fwrite(res.ss_sig, 1, sizeof(res.ss_sig), f) != sizeof(res.ss_sig)
	    || fclose(f) != 0)
		err(1, "%s", out);
	printf("signed %u %08x\n", res.ss_error, res.ss_keyid);
	fflush(stdout);
}

static void
step_sign(const char *kind, const char *file, const char *out, int peer)
{
	uint8_t	*buf;
	size_t	 len;

	read_file(file, &buf, &len);
	sign_common(strtoul(kind, NULL, 10), buf, len, out, peer);
	free(buf);
}

static void
step_signck(const char *origin, const char *size, const char *roothex,
    const char *out)
{
	struct mvm_sign_checkpoint	 ck;

	memset(&ck, 0, sizeof(ck));
	(void)strlcpy(ck.ck_origin, origin, sizeof(ck.ck_origin));
	ck.ck_size = strtoull(size, NULL, 10);
	if (hex_decode(roothex, ck.ck_root, 32) == -1)
		errx(1, "bad root hex");
	sign_common(MVM_SIGN_CHECKPOINT, &ck, sizeof(ck), out, 1);
}

/* count bytes the daemon sends until it exits or 10 s pass */
static void
step_exit(void)
{
	struct timespec	 t0, t;
	char		 buf[4096], how[64];
	ssize_t		 n;
	size_t		 answered = 0;
	int		 status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		while ((n = read(ib.fd, buf, sizeof(buf))) > 0)
			answered += n;
		if (peerfd != -1)
			while ((n = read(peerfd, buf, sizeof(buf))) > 0)
				answered += n;
		if (waitpid(child, &status, WNOHANG) == child)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10) {
			kill(child, SIGKILL);
			waitpid(child, &status, 0);
			printf("exit timeout answered %zu\n", answered);
			child = 0;
			return;
		}
		usleep(10000);
	}
	/* anything it managed to write before dying counts too */
	while ((n = read(ib.fd, buf, sizeof(buf))) > 0)
		answered += n;
	proc_wait_status(status, how, sizeof(how));
	printf("exit %s answered %zu\n", how, answered);
	child = 0;
}

int
main(int argc, char *argv[])
{
	struct proc_spawn	 ps;
	struct imsg_hdr		 hdr;
	struct mvm_test_syscall	 ts;
	struct imsg		 imsg;
	struct mvm_sign_req	 sr;
	char			*cargv[] = { argv[1], NULL };
	char			 path[1024];
	int			 i;

	if (argc < 6)
		errx(2, "usage: mvm-ipctest BINARY ROLE DIR UID STEP ...");
	role = strcmp(argv[2], "signer") == 0 ? MVM_ROLE_SIGNER :
	    MVM_ROLE_AUDITD;
	dir = argv[3];
	uid = strtoul(argv[4], NULL, 10);
	if (mvm_crypto_init() == -1)
		errx(1, "sodium_init");
	signal(SIGPIPE, SIG_IGN);
	(void)snprintf(path, sizeof(path), "%s/empty", dir);
	(void)mkdir(path, 0555);

	memset(&ps, 0, sizeof(ps));
	ps.ps_path = argv[1];
	ps.ps_argv = cargv;
	ps.ps_cloneflags = PROC_NS_JAIL;
	if (proc_spawn(&ps) == -1)
		err(1, "spawn %s", argv[1]);
	child = ps.ps_pid;
	if (imsgbuf_init(&ib, ps.ps_sock, MVM_IMSG_MAX) == -1)
		err(1, "imsgbuf_init");
	/* relay the daemon's log lines to our stderr */
	if (fork() == 0) {
		char	 buf[4096];
		ssize_t	 n;

		close(ps.ps_sock);

		while ((n = read(ps.ps_log, buf, sizeof(buf))) > 0 ||
		    (n == -1 && errno == EAGAIN)) {
			if (n == -1)
				usleep(10000);
			else if (write(2, buf, n) < 0)
				_exit(0);
		}
		_exit(0);
	}
	close(ps.ps_log);

	for (i = 5; i < argc; i++) {
		const char	*s = argv[i];

		if (strcmp(s, "hello") == 0) {
			wait_msg(&ib, &imsg, 10000);
			if (imsg_type(&imsg) != IMSG_HELLO)
				errx(1, "expected HELLO");
			imsg_free(&imsg);
		} else if (strcmp(s, "config") == 0)
			step_config();
		else if (strcmp(s, "ready") == 0)
			step_ready();
		else if (strcmp(s, "trunc") == 0) {
			memset(&hdr, 0, sizeof(hdr));
			hdr.type = IMSG_SIGN_REQ;
			hdr.len = 100;
			send_raw(&hdr, 10);
			shutdown(ib.fd, SHUT_WR);
		} else if (strcmp(s, "oversize") == 0) {
			memset(&hdr, 0, sizeof(hdr));
			hdr.type = IMSG_SIGN_REQ;
			hdr.len = MVM_IMSG_MAX + 1;
			send_raw(&hdr, sizeof(hdr));
		} else if (strcmp(s, "unknown") == 0) {
			if (imsg_compose(&ib, 9999, 0, -1, "x", 1) == -1)
				err(1, "compose");
			flush(&ib);
		} else if (strcmp(s, "wrongsize") == 0) {
			char	 junk[sizeof(struct mvm_child_config)];

			memset(junk, 0, sizeof(junk));
			if (imsg_compose(&ib, IMSG_CONFIG, 0, -1, junk,
			    sizeof(junk) - 1) == -1)
				err(1, "compose");
			flush(&ib);
		} else if (strcmp(s, "shortsign") == 0) {
			memset(&sr, 0, sizeof(sr));
			sr.sr_kind = MVM_SIGN_RECEIPT;
			sr.sr_len = 100;	/* but no body follows */
			if (imsg_compose(&ib, IMSG_SIGN_REQ, 0, -1, &sr,
			    sizeof(sr)) == -1)
				err(1, "compose");
			flush(&ib);
		} else if (strcmp(s, "shortevent") == 0) {
			static struct mvm_audit_event	 ev;

			if (imsg_compose(&ib, IMSG_AUDIT_EVENT, 0, -1, &ev,
			    sizeof(ev) - 1) == -1)
				err(1, "compose");
			flush(&ib);
		} else if (strcmp(s, "forbid") == 0 && i + 1 < argc) {
			memset(&ts, 0, sizeof(ts));
			ts.ts_which = strtoul(argv[++i], NULL, 10);
			if (imsg_compose(&ib, IMSG_TEST_SYSCALL, 0, -1, &ts,
			    sizeof(ts)) == -1)
				err(1, "compose");
			flush(&ib);
		} else if (strcmp(s, "sign") == 0 && i + 3 < argc) {
			int	 peer = i + 4 < argc &&
			    strcmp(argv[i + 4], "peer") == 0;

			step_sign(argv[i + 1], argv[i + 2], argv[i + 3], peer);
			i += 3 + peer;
		} else if (strcmp(s, "signck") == 0 && i + 4 < argc) {
			step_signck(argv[i + 1], argv[i + 2], argv[i + 3],
			    argv[i + 4]);
			i += 4;
		} else if (strcmp(s, "close") == 0) {
			close(ib.fd);
			ib.fd = -1;
		} else if (strcmp(s, "exit") == 0)
			step_exit();
		else
			errx(2, "unknown step %s", s);
	}
	if (child > 0) {
		/* orderly end: EOF on fd 3 */
		if (ib.fd != -1)
			close(ib.fd);
		ib.fd = -1;
		if (peerfd != -1)
			close(peerfd);
		waitpid(child, NULL, 0);
	}
	return (0);
}
