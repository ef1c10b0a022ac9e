/*
 * mvm-audit-harness: starts a real mvm-signer and mvm-auditd the way the
 * supervisor does (same messages, same jails) and drives auditd, for
 * crash, kill and throughput tests.
 *
 * usage: mvm-audit-harness [-b batch_max] [-u batch_us] [-a ackfile]
 *	      BUILD DIR UIDBASE CMD [ARG] ...
 *   BUILD	directory with mvm-signer and mvm-auditd
 *   DIR	scratch: DIR/empty (jail mount point), DIR/host.key,
 *		DIR/log and DIR/checkpoints (tenant "local")
 * commands, in order:
 *   append N	N events, each waiting for its ack
 *   burst N	N events sent at once; waits for all acks; prints
 *		"acked <n> errors <e> us <elapsed>"
 *   checkpoint	prints the signed note auditd returns
 *   proof I	prints "proof <index> <size> <nhash>" and the note
 *   kill	SIGKILL auditd now
 *   stop	close auditd's socket (it drains), then the signer's
 * With -a, every acknowledged seq is appended to ackfile as it arrives.
 * Prints "pid <signer> <auditd>" once both are ready.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "crypto.h"
#include "mvm.h"
#include "proc.h"

struct kid {
	const char	*name;
	pid_t		 pid;
	struct imsgbuf	 ib;
};

static struct kid	 signer = { .name = "signer" }, auditd = { .name = "auditd" };
static const char	*dir;
static unsigned int	 uidbase;
static uint32_t		 batch_max, batch_us;
static FILE		*ackf;
static struct mvm_ready	 key;
static uint32_t		 next_id;
static uint64_t		 acked, errors;

static uint64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
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

/* blocking read of the next message from a child */
static void
next_msg(struct kid *k, struct imsg *m)
{
	ssize_t	 n;

	for (;;) {
		if ((n = imsg_get(&k->ib, m)) == -1)
			errx(1, "%s: malformed message", k->name);
		if (n > 0)
			return;
		n = imsgbuf_read(&k->ib);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			errx(3, "%s closed its socket", k->name);
	}
}

static void
send_msg(struct kid *k, uint32_t type, int fd, const void *p, size_t len)
{
	if (imsg_compose(&k->ib, type, 0, fd, p, len) == -1 ||
	    imsgbuf_flush(&k->ib) == -1)
		err(1, "send to %s", k->name);
}

static void
send_fd(struct kid *k, uint32_t kind, int fd)
{
	struct mvm_config_fd	 cf;

	memset(&cf, 0, sizeof(cf));
	cf.cf_kind = kind;
	(void)strlcpy(cf.cf_name, "local", sizeof(cf.cf_name));
	send_msg(k, IMSG_CONFIG_FD, fd, &cf, sizeof(cf));
}

static void
start(struct kid *k, const char *build, int role, uint32_t uid, int peer)
{
	struct proc_spawn	 ps;
	struct mvm_child_config	 cc;
	struct imsg		 m;
	char			 path[1024], *argv[2];

	(void)snprintf(path, sizeof(path), "%s/mvm-%s", build, k->name);
	argv[0] = path;
	argv[1] = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.ps_path = path;
	ps.ps_argv = argv;
	ps.ps_cloneflags = PROC_NS_JAIL;
	if (proc_spawn(&ps) == -1)
		err(1, "spawn %s", path);
	k->pid = ps.ps_pid;
	/* the child's log lines go to our stderr, via a reader */
	fflush(stdout);
	if (fork() == 0) {
		char	 buf[4096];
		ssize_t	 n;

		close(ps.ps_sock);
		fcntl(ps.ps_log, F_SETFL, 0);
		while ((n = read(ps.ps_log, buf, sizeof(buf))) > 0)
			if (write(2, buf, n) < 0)
				break;
		_exit(0);
	}
	close(ps.ps_log);
	fcntl(ps.ps_sock, F_SETFL, 0);		/* blocking */
	imsgbuf_init(&k->ib, ps.ps_sock, MVM_IMSG_MAX);
	next_msg(k, &m);
	if (imsg_type(&m) != IMSG_HELLO)
		errx(1, "%s: no HELLO", k->name);
	imsg_free(&m);

	memset(&cc, 0, sizeof(cc));
	cc.cc_proto = MVM_PROTO_VERSION;
	cc.cc_uid = cc.cc_gid = uid;
	(void)snprintf(cc.cc_root, sizeof(cc.cc_root), "%s/empty", dir);
	(void)strlcpy(cc.cc_hostname, "harness", sizeof(cc.cc_hostname));
	if (role == MVM_ROLE_SIGNER)
		(void)strlcpy(cc.cc_keyname, "mvm-harness",
		    sizeof(cc.cc_keyname));
	else {
		(void)strlcpy(cc.cc_keyname, key.rd_keyname,
		    sizeof(cc.cc_keyname));
		cc.cc_keyid = key.rd_keyid;
		cc.cc_batch_max = batch_max;
		cc.cc_batch_us = batch_us;
	}
	send_msg(k, IMSG_CONFIG, -1, &cc, sizeof(cc));
	if (role == MVM_ROLE_SIGNER) {
		send_fd(k, MVM_FD_SIGNER_KEY, open_file("host.key",
		    O_RDWR | O_CREAT));
		send_fd(k, MVM_FD_PEER, peer);
	} else {
		send_fd(k, MVM_FD_PEER, peer);
		send_fd(k, MVM_FD_AUDIT_LOG, open_file("log",
		    O_RDWR | O_APPEND | O_CREAT));
		send_fd(k, MVM_FD_AUDIT_CKPT, open_file("checkpoints",
		    O_RDWR | O_APPEND | O_CREAT));
	}
	send_msg(k, IMSG_CONFIG_END, -1, NULL, 0);
	next_msg(k, &m);
	if (imsg_type(&m) != IMSG_READY)
		errx(1, "%s: no READY", k->name);
	if (role == MVM_ROLE_SIGNER && msg_get_ready(&m, &key) == -1)
		errx(1, "bad READY");
	imsg_free(&m);
}

static void
event(uint32_t i)
{
	struct mvm_audit_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.ae_id = ++next_id;
	(void)strlcpy(ev.ae_tenant, "local", sizeof(ev.ae_tenant));
	(void)strlcpy(ev.ae_type, "test.event", sizeof(ev.ae_type));
	ev.ae_nlabels = 1;
	(void)strlcpy(ev.ae_labels[0].kv_key, "n",
	    sizeof(ev.ae_labels[0].kv_key));
	ev.ae_labels[0].kv_isint = 1;
	ev.ae_labels[0].kv_int = i;
	ev.ae_nsubject = 1;
	(void)strlcpy(ev.ae_subject[0].kv_key, "run",
	    sizeof(ev.ae_subject[0].kv_key));
	(void)snprintf(ev.ae_subject[0].kv_val,
	    sizeof(ev.ae_subject[0].kv_val), "r%u", i);
	if (imsg_compose(&auditd.ib, IMSG_AUDIT_EVENT, 0, -1, &ev,
	    sizeof(ev)) == -1)
		err(1, "compose");
}

static void
wait_acks(uint64_t want)
{
	struct mvm_audit_ack	 aa;
	struct imsg		 m;
	const char		*line;
	size_t			 linelen;

	while (acked + errors < want) {
		next_msg(&auditd, &m);
		if (imsg_type(&m) == IMSG_AUDIT_STOPPED) {
			imsg_free(&m);
			printf("stopped\n");
			continue;
		}
		if (imsg_type(&m) != IMSG_AUDIT_ACK ||
		    msg_get_audit_ack(&m, &aa, &line, &linelen) == -1)
			errx(1, "expected an ack, got %u", imsg_type(&m));
		imsg_free(&m);
		if (aa.aa_error != 0) {
			errors++;
			continue;
		}
		acked++;
		if (ackf != NULL) {
			fprintf(ackf, "%" PRIu64 "\n", aa.aa_seq);
			fflush(ackf);
		}
	}
}

/* write as much as fits, reading acks meanwhile (both ways can fill) */
static void
burst(uint64_t n)
{
	uint64_t	 base = acked + errors, t0 = now_us();
	uint64_t	 i;

	fcntl(auditd.ib.fd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < n; i++) {
		event(i);
		while (imsgbuf_write(&auditd.ib) == 0) {
			struct mvm_audit_ack	 aa;
			const char		*line;
			size_t			 linelen;
			struct imsg		 m;
			ssize_t			 r;

			r = imsgbuf_read(&auditd.ib);
			if (r == 0)
				errx(3, "auditd closed its socket");
			while (imsg_get(&auditd.ib, &m) > 0) {
				if (imsg_type(&m) == IMSG_AUDIT_STOPPED)
					printf("stopped\n");
				if (imsg_type(&m) == IMSG_AUDIT_ACK &&
				    msg_get_audit_ack(&m, &aa, &line, &linelen) == 0) {
					if (aa.aa_error)
						errors++;
					else {
						acked++;
						if (ackf != NULL) {
							fprintf(ackf, "%" PRIu64
							    "\n", aa.aa_seq);
							fflush(ackf);
						}
					}
				}
				imsg_free(&m);
			}
			/* wait for room (or acks), not a fixed sleep */
			{
				struct pollfd	 pfd = { auditd.ib.fd,
						    POLLIN | POLLOUT, 0 };

				(void)poll(&pfd, 1, 100);
			}
		}
	}
	fcntl(auditd.ib.fd, F_SETFL, 0);
	if (imsgbuf_flush(&auditd.ib) == -1)
		err(1, "flush");
	wait_acks(base + n);
	printf("acked %" PRIu64 " errors %" PRIu64 " us %" PRIu64 "\n",
	    acked, errors, now_us() - t0);
	fflush(stdout);
}

static void
request(uint32_t type, uint64_t index)
{
	struct mvm_audit_req	 ar;
	struct mvm_audit_ckpt	 ac;
	struct mvm_audit_proof	 ap;
	struct imsg		 m;

	memset(&ar, 0, sizeof(ar));
	ar.ar_id = ++next_id;
	ar.ar_index = index;
	(void)strlcpy(ar.ar_tenant, "local", sizeof(ar.ar_tenant));
	send_msg(&auditd, type, -1, &ar, sizeof(ar));
	next_msg(&auditd, &m);
	if (type == IMSG_AUDIT_CKPT_REQ) {
		if (msg_get_audit_ckpt(&m, &ac) == -1 || ac.ac_id != ar.ar_id)
			errx(1, "bad CKPT_RES");
		if (ac.ac_error)
			printf("error %u\n", ac.ac_error);
		else
			printf("%s", ac.ac_note);
	} else {
		if (msg_get_audit_proof(&m, &ap) == -1 || ap.ap_id != ar.ar_id)
			errx(1, "bad PROOF_RES");
		if (ap.ap_error)
			printf("error %u\n", ap.ap_error);
		else
			printf("proof %" PRIu64 " %" PRIu64 " %u\n%s",
			    ap.ap_index, ap.ap_size, ap.ap_nhash, ap.ap_note);
	}
	imsg_free(&m);
	fflush(stdout);
}

static void
reap(struct kid *k)
{
	char	 how[64];
	int	 st;

	if (k->pid <= 0)
		return;
	if (waitpid(k->pid, &st, 0) == k->pid) {
		proc_wait_status(st, how, sizeof(how));
		printf("%s %s\n", k->name, how);
	}
	k->pid = 0;
}

int
main(int argc, char *argv[])
{
	const char	*build;
	int		 ch, i, sp[2];
	char		 path[1024];

	while ((ch = getopt(argc, argv, "a:b:u:")) != -1) {
		switch (ch) {
		case 'a':
			if ((ackf = fopen(optarg, "a")) == NULL)
				err(1, "%s", optarg);
			break;
		case 'b':
			batch_max = strtoul(optarg, NULL, 10);
			break;
		case 'u':
			batch_us = strtoul(optarg, NULL, 10);
			break;
		default:
			errx(2, "bad option");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3)
		errx(2, "usage: mvm-audit-harness [-b n] [-u us] [-a file] "
		    "BUILD DIR UIDBASE CMD ...");
	build = argv[0];
	dir = argv[1];
	uidbase = strtoul(argv[2], NULL, 10);
	signal(SIGPIPE, SIG_IGN);
	if (mvm_crypto_init() == -1)
		errx(1, "sodium_init");
	(void)snprintf(path, sizeof(path), "%s/empty", dir);
	(void)mkdir(path, 0555);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		err(1, "socketpair");
	start(&signer, build, MVM_ROLE_SIGNER, uidbase, sp[0]);
	start(&auditd, build, MVM_ROLE_AUDITD, uidbase + 1, sp[1]);
	printf("pid %d %d\n", (int)signer.pid, (int)auditd.pid);
	fflush(stdout);

	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "append") == 0 && i + 1 < argc) {
			uint64_t	 n = strtoull(argv[++i], NULL, 10), j;

			for (j = 0; j < n; j++) {
				event(j);
				if (imsgbuf_flush(&auditd.ib) == -1)
					err(1, "flush");
				wait_acks(acked + errors + 1);
			}
			printf("acked %" PRIu64 " errors %" PRIu64 "\n", acked,
			    errors);
		} else if (strcmp(argv[i], "burst") == 0 && i + 1 < argc)
			burst(strtoull(argv[++i], NULL, 10));
		else if (strcmp(argv[i], "checkpoint") == 0)
			request(IMSG_AUDIT_CKPT_REQ, 0);
		else if (strcmp(argv[i], "proof") == 0 && i + 1 < argc)
			request(IMSG_AUDIT_PROOF_REQ,
			    strtoull(argv[++i], NULL, 10));
		else if (strcmp(argv[i], "kill") == 0) {
			kill(auditd.pid, SIGKILL);
			reap(&auditd);
		} else if (strcmp(argv[i], "stop") == 0) {
			close(auditd.ib.fd);
			reap(&auditd);
			close(signer.ib.fd);
			reap(&signer);
		} else
			errx(2, "unknown command %s", argv[i]);
	}
	if (auditd.pid > 0) {
		close(auditd.ib.fd);
		reap(&auditd);
	}
	if (signer.pid > 0) {
		close(signer.ib.fd);
		reap(&signer);
	}
	return (0);
}
