/*
 * mvmctl run, up, exec: a command in a throwaway guest, a named guest
 * that stays up, a command in a named guest.  stdin, stdout and stderr
 * pass through byte for byte; the exit status is the guest command's,
 * 124 on timeout, 128+N when it died of signal N, 130 after Ctrl-C;
 * mvm's own failures have their own statuses (mvmctl.8, EXIT STATUS).
 * --receipt writes the run's signed receipt (mvm-receipt.5); --json
 * prints one object describing the run instead of its output.
 * --add-dir copies host directories in, and rw ones back (share.c).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agentproto.h"
#include "crypto.h"
#include "mvmctl.h"
#include "receipt.h"

#define CAPTURE_MAX	(16 * 1024 * 1024)	/* --capture-output bound */

static volatile sig_atomic_t	 interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int
parse_uint(const char *s, uint32_t max, const char *what)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max)
		errx(EXIT_USAGE, "%s: %s: want a number up to %u", what, s, max);
	return ((int)v);
}

/*
 * --secret NAME[:VAR] as "NAME=VAR"; VAR defaults to NAME in upper case
 * with '-' and '.' as '_'.  The value never passes through mvmctl.
 */
static char *
secret_grant(const char *arg)
{
	const char	*colon = strchr(arg, ':');
	char		 name[MVM_NAME_MAX], var[128], *s, *p;
	size_t		 nl = colon != NULL ? (size_t)(colon - arg) : strlen(arg);

	if (nl == 0 || nl >= sizeof(name))
		errx(EXIT_USAGE, "--secret %s: want NAME or NAME:VAR", arg);
	memcpy(name, arg, nl);
	name[nl] = '\0';
	if (colon != NULL) {
		if (strlcpy(var, colon + 1, sizeof(var)) >= sizeof(var))
			errx(EXIT_USAGE, "--secret %s: variable too long", arg);
	} else {
		(void)strlcpy(var, name, sizeof(var));
		for (p = var; *p != '\0'; p++)
			*p = *p == '-' || *p == '.' ? '_' :
			    toupper((unsigned char)*p);
	}
	if (!name_valid(name))
		errx(EXIT_USAGE, "--secret %s: not a secret name", arg);
	if (var[0] == '\0' || isdigit((unsigned char)var[0]) ||
	    strspn(var, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != strlen(var))
		errx(EXIT_USAGE, "--secret %s: %s is not a variable name; "
		    "give one as NAME:VAR", arg, var);
	if (asprintf(&s, "%s=%s", name, var) == -1)
		err(EXIT_ERR, NULL);
	return (s);
}

/*
 * --secret-file NAME:/PATH as "NAME=/PATH": the guest gets the value as
 * a file (0400, removed when the command ends).  The supervisor checks
 * the path again.
 */
static char *
secret_file_grant(const char *arg)
{
	const char	*colon = strchr(arg, ':');
	char		 name[MVM_NAME_MAX], *s;
	size_t		 nl;

	if (colon == NULL || colon[1] != '/' || (nl = colon - arg) == 0 ||
	    nl >= sizeof(name) || strlen(colon + 1) >= 128 ||
	    strstr(colon + 1, "/../") != NULL || strstr(colon + 1, "/./") ||
	    strstr(colon + 1, "//") != NULL ||
	    (strlen(colon) >= 3 && strcmp(colon + strlen(colon) - 3, "/..")
	    == 0) || strcmp(colon + strlen(colon) - 1, "/") == 0)
		errx(EXIT_USAGE, "--secret-file %s: want NAME:/PATH, a clean "
		    "absolute path of at most 127 bytes", arg);
	memcpy(name, arg, nl);
	name[nl] = '\0';
	if (!name_valid(name))
		errx(EXIT_USAGE, "--secret-file %s: not a secret name", arg);
	if (asprintf(&s, "%s=%s", name, colon + 1) == -1)
		err(EXIT_ERR, NULL);
	return (s);
}

/* argv and env into one blob of NUL-terminated strings */
static char *
make_blob(char **argv, int argc, char **env, int envc, size_t *lenp)
{
	size_t	 len = 0, n;
	char	*blob, *p;
	int	 i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	for (i = 0; i < envc; i++)
		len += strlen(env[i]) + 1;
	if (len > MVM_EXEC_BLOB_MAX)
		errx(EXIT_TOOBIG, "arguments and environment take %zu bytes; "
		    "at most %d", len, MVM_EXEC_BLOB_MAX);
	if ((blob = malloc(len + 1)) == NULL)
		err(EXIT_ERR, NULL);
	p = blob;
	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]) + 1;
		memcpy(p, argv[i], n);
		p += n;
	}
	for (i = 0; i < envc; i++) {
		n = strlen(env[i]) + 1;
		memcpy(p, env[i], n);
		p += n;
	}
	*lenp = len;
	return (blob);
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= n;
	}
	return (0);
}

/* What the guest command's end means as an exit status. */
static int
exit_status(const struct mvm_ctl_exit *ce)
{
	if (ce->ce_flags & MVM_EXIT_TIMEDOUT)
		return (EXIT_TIMEOUT);
	if (ce->ce_flags & MVM_EXIT_SIGNAL)
		return (128 + (ce->ce_signal & 0x7f));
	return (ce->ce_code & 0xff);
}

/* what a run asked for beyond the command itself */
struct run_req {
	int		 verbose;
	int		 json;
	int		 force;
	const char	*receipt;	/* --receipt PATH */
	int		 capture;	/* --capture-output given */
	size_t		 capture_max;	/* bytes of each stream kept */
};

/* what came back */
struct run_res {
	int			 started;
	struct mvm_ctl_started	 cs;
	int			 exited;
	struct mvm_ctl_exit	 ce;
	char			*receipt;	/* the envelope, as sent */
	size_t			 receiptlen;
	int			 receipt_written; /* at rq.receipt */
	uint8_t			*cap[2];	/* stdout, stderr */
	size_t			 caplen[2];
};

static struct run_req	 rq;
static struct run_res	 rs;
static char		 receipt_tmp[PATH_MAX];

/*
 * The kind of failure, for callers of --json (mvmctl.8): code is the
 * supervisor's MVM_E*, 0 for a failure to reach or understand it.
 */
static const char *
error_type(uint32_t code)
{
	switch (code) {
	case MVM_EPOLICY:
	case MVM_EPERM:
		return ("policy");
	case MVM_EBOOT:
	case MVM_EIMAGE:
	case MVM_ENOIMAGE:
	case MVM_ENOQEMU:
		return ("boot");
	case MVM_ENOTFOUND:
		return ("command-failure");
	case MVM_EAUDIT:
	case MVM_ESIGN:
		return ("audit");
	case MVM_ECAPACITY:
	case MVM_ETOOBIG:
	case MVM_EBUSY:
		return ("resource");
	case MVM_ESHARE:
		return ("share");
	case MVM_EINVAL:
	case MVM_ENOSECRET:
	case MVM_ENOGUEST:
	case MVM_EEXIST:
	case MVM_ESTATE:
		return ("usage");
	}
	return ("transport");
}

static json_t *
hex_json(const uint8_t *p, size_t len)
{
	char	 hex[65];

	hex_encode(p, len, hex);
	return (json_string(hex));
}

static json_t *
time_json(int64_t ms)
{
	char	 buf[32];

	if (ms <= 0)
		return (json_null());
	time_rfc3339(ms, buf, sizeof(buf));
	return (json_string(buf));
}

static json_t *
stream_json(int i)
{
	const struct mvm_ctl_exit	*ce = &rs.ce;
	uint64_t			 bytes = i == 0 ? ce->ce_stdout_bytes :
					    ce->ce_stderr_bytes;
	json_t				*o;
	char				*b64;

	o = json_pack("{s:I, s:o}", "bytes", (json_int_t)bytes, "sha256",
	    hex_json(i == 0 ? ce->ce_stdout_sha256 : ce->ce_stderr_sha256,
	    32));
	if (o == NULL || !rq.capture)
		return (o);
	if ((b64 = malloc(MVM_B64_LEN(rs.caplen[i]))) == NULL)
		err(EXIT_ERR, NULL);
	b64_encode(rs.cap[i] != NULL ? rs.cap[i] : (const uint8_t *)"",
	    rs.caplen[i], b64, MVM_B64_LEN(rs.caplen[i]));
	json_object_set_new(o, "data", json_string(b64));
	json_object_set_new(o, "truncated", json_boolean(rs.caplen[i] <
	    bytes));
	free(b64);
	return (o);
}

/*
 * The one object --json prints: ids, outcome, timing, counts and
 * digests; never argv, env values or output (unless --capture-output).
 */
static void
json_result(int status, const char *etype, const char *emsg)
{
	const struct mvm_ctl_exit	*ce = &rs.ce;
	json_t				*o;

	o = json_pack("{s:i, s:o, s:o, s:o}", "status", status,
	    "run_id", rs.started ? json_string(rs.cs.cs_run) : json_null(),
	    "guest", rs.started ? json_string(rs.cs.cs_guest) : json_null(),
	    "receipt", rs.receipt_written ?
	    json_string(rq.receipt) : json_null());
	if (o == NULL)
		err(EXIT_ERR, "json");
	if (rs.started)
		json_object_set_new(o, "audit", json_pack("{s:s, s:o}",
		    "tenant", rs.cs.cs_tenant, "seq", rs.exited ?
		    json_integer((json_int_t)ce->ce_audit_seq) :
		    json_null()));
	if (rs.exited) {
		json_object_set_new(o, "exit_code",
		    (ce->ce_flags & MVM_EXIT_CODE) ?
		    json_integer(ce->ce_code) : json_null());
		json_object_set_new(o, "signal",
		    (ce->ce_flags & MVM_EXIT_SIGNAL) ?
		    json_integer(ce->ce_signal) : json_null());
		json_object_set_new(o, "timed_out",
		    json_boolean(ce->ce_flags & MVM_EXIT_TIMEDOUT));
		json_object_set_new(o, "accel", json_string(ce->ce_accel ==
		    MVM_ACCEL_KVM ? "kvm" : "tcg"));
		json_object_set_new(o, "timing", json_pack(
		    "{s:o, s:o, s:I, s:I}",
		    "started", time_json(ce->ce_started_ms),
		    "ended", time_json(ce->ce_ended_ms),
		    "boot_ms", (json_int_t)ce->ce_boot_ms,
		    "run_ms", (json_int_t)ce->ce_run_ms));
		json_object_set_new(o, "stdout", stream_json(0));
		json_object_set_new(o, "stderr", stream_json(1));
	}
	if (share_count() > 0)
		json_object_set_new(o, "add_dirs", share_json());
	json_object_set_new(o, "error", etype == NULL ? json_null() :
	    json_pack("{s:s, s:s}", "type", etype, "message", emsg));
	json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	putchar('\n');
	(void)fflush(stdout);
	json_decref(o);
}

/* a failure of mvm itself: with --json, the object says which */
static void
run_on_fail(int status, uint32_t code, const char *msg)
{
	if (receipt_tmp[0] != '\0')
		(void)unlink(receipt_tmp);
	if (rq.json)
		json_result(status, error_type(code), msg);
}

/*
 * --receipt: a temporary file beside PATH before anything runs, so a
 * path that cannot be written stops the run before it starts.
 */
static int
receipt_prepare(void)
{
	struct stat	 st;
	int		 fd;

	if (!rq.force && lstat(rq.receipt, &st) == 0)
		errx(EXIT_ERR, "%s exists; use --force to replace it",
		    rq.receipt);
	if ((size_t)snprintf(receipt_tmp, sizeof(receipt_tmp),
	    "%s.tmp.XXXXXX", rq.receipt) >= sizeof(receipt_tmp))
		errx(EXIT_USAGE, "%s: path too long", rq.receipt);
	if ((fd = mkostemp(receipt_tmp, O_CLOEXEC)) == -1) {
		receipt_tmp[0] = '\0';
		err(EXIT_ERR, "%s", rq.receipt);
	}
	if (fchmod(fd, 0600) == -1)
		err(EXIT_ERR, "%s", receipt_tmp);
	return (fd);
}

/* Write the receipt, sync it and put it in place; -1 and a warning. */
static int
receipt_commit(int fd)
{
	char	 dir[PATH_MAX], *slash;
	int	 dfd, rc;

	if (write_all(fd, rs.receipt, rs.receiptlen) == -1 ||
	    write_all(fd, "\n", 1) == -1 || fsync(fd) == -1) {
		warn("%s", receipt_tmp);
		return (-1);
	}
	/* without --force, link(2) refuses to replace a file made since */
	if (rq.force)
		rc = rename(receipt_tmp, rq.receipt);
	else if ((rc = link(receipt_tmp, rq.receipt)) == 0)
		(void)unlink(receipt_tmp);
	if (rc == -1) {
		warn("%s", rq.receipt);
		return (-1);
	}
	receipt_tmp[0] = '\0';
	(void)strlcpy(dir, rq.receipt, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return (0);
}

/* --capture-output: keep the first capture_max bytes of a stream */
static void
capture(int i, const uint8_t *p, size_t len)
{
	size_t	 n;

	if (rs.caplen[i] >= rq.capture_max)
		return;
	n = rq.capture_max - rs.caplen[i];
	if (n > len)
		n = len;
	if (rs.cap[i] == NULL &&
	    (rs.cap[i] = malloc(rq.capture_max)) == NULL)
		err(EXIT_ERR, NULL);
	memcpy(rs.cap[i] + rs.caplen[i], p, n);
	rs.caplen[i] += n;
}

/*
 * Relay: stdin to the supervisor (if asked), output to stdout and
 * stderr (or into the capture, under --json), until the command's end
 * or an error.  Fills rs.
 */
static void
relay(int forward_stdin)
{
	struct mvm_vmm_data	 vd;
	struct pollfd		 pfd[2];
	struct imsg		 imsg;
	uint8_t			 buf[MVM_DATA_MAX];
	int			 stdin_open = forward_stdin, out_ok[3] = { 1, 1, 1 };
	int			 nfd, fd;
	ssize_t			 n;

	for (;;) {
		if (interrupted) {
			ctl_close();		/* the supervisor cancels */
			if (receipt_tmp[0] != '\0')
				(void)unlink(receipt_tmp);
			if (rq.json)
				json_result(EXIT_INTR, "transport",
				    "interrupted");
			warnx("interrupted; the guest is being stopped");
			exit(EXIT_INTR);
		}
		while (ctl_pending(&imsg)) {
			switch (imsg_type(&imsg)) {
			case IMSG_CTL_STARTED:
				if (rs.started ||
				    msg_get_ctl_started(&imsg, &rs.cs) == -1)
					ctl_fail(EXIT_MVM, 0, "malformed reply");
				rs.started = 1;
				if (rq.verbose)
					fprintf(stderr, "mvmctl: run %s in "
					    "guest %s\n", rs.cs.cs_run,
					    rs.cs.cs_guest);
				share_send();	/* admitted: the shares */
				break;
			case IMSG_CTL_SHARE_DATA:
				share_back_data(&imsg);
				break;
			case IMSG_CTL_SHARE_END:
				share_back_end(&imsg);
				break;
			case IMSG_CTL_OUTPUT:
				if (imsg.datalen < sizeof(vd))
					ctl_fail(EXIT_MVM, 0, "malformed reply");
				memcpy(&vd, imsg.data, sizeof(vd));
				fd = vd.vd_stream == MVM_STREAM_STDERR ? 2 : 1;
				if (rq.json)
					capture(fd - 1, (uint8_t *)imsg.data +
					    sizeof(vd), imsg.datalen -
					    sizeof(vd));
				else if (out_ok[fd] && write_all(fd,
				    (uint8_t *)imsg.data + sizeof(vd),
				    imsg.datalen - sizeof(vd)) == -1)
					out_ok[fd] = 0;	/* reader gone */
				break;
			case IMSG_CTL_RECEIPT:
				if (rq.receipt == NULL || rs.receipt != NULL ||
				    imsg.datalen == 0 ||
				    imsg.datalen > RECEIPT_MAX)
					ctl_fail(EXIT_MVM, 0, "malformed reply");
				if ((rs.receipt = malloc(imsg.datalen)) ==
				    NULL)
					err(EXIT_ERR, NULL);
				memcpy(rs.receipt, imsg.data, imsg.datalen);
				rs.receiptlen = imsg.datalen;
				break;
			case IMSG_CTL_EXIT:
				if (msg_get_ctl_exit(&imsg, &rs.ce) == -1)
					ctl_fail(EXIT_MVM, 0, "malformed reply");
				imsg_free(&imsg);
				rs.exited = 1;
				if (rq.verbose)
					fprintf(stderr, "mvmctl: boot %llu ms, "
					    "run %llu ms (%s)\n",
					    (unsigned long long)rs.ce.ce_boot_ms,
					    (unsigned long long)rs.ce.ce_run_ms,
					    rs.ce.ce_accel == MVM_ACCEL_KVM ?
					    "kvm" : "tcg");
				return;
			default:
				ctl_fail(EXIT_MVM, 0, "unexpected reply");
			}
			imsg_free(&imsg);
		}
		/*
		 * stdin is read only once what was read of it is sent:
		 * the socket is never waited on, so output is read while
		 * the supervisor holds stdin back (control_pace).
		 */
		pfd[0].fd = ctl_fd();
		pfd[0].events = POLLIN | (ctl_queued() > 0 ? POLLOUT : 0);
		nfd = 1;
		if (stdin_open && ctl_queued() == 0) {
			pfd[1].fd = STDIN_FILENO;
			pfd[1].events = POLLIN;
			nfd = 2;
		}
		if (poll(pfd, nfd, -1) == -1) {
			if (errno == EINTR)
				continue;
			err(EXIT_MVM, "poll");
		}
		if (nfd == 2 && (pfd[1].revents & (POLLIN | POLLHUP))) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				stdin_open = 0;
				n = 0;		/* EOF for the guest */
			}
			ctl_queue(IMSG_CTL_STDIN, buf, n);
			ctl_write();
		}
		if (pfd[0].revents & POLLOUT)
			ctl_write();
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			ctl_read();
	}
}

/*
 * The end: the receipt into place, the --json object, the status.  A
 * receipt asked for and not made or not written is EXIT_RECEIPT: the
 * command ran, but the caller's evidence is missing.
 */
static int
run_finish(int rfd)
{
	const char	*etype = NULL;
	char		 emsg[256];
	int		 status = exit_status(&rs.ce), clean;

	emsg[0] = '\0';
	/* rw shares are written back before anything else is said */
	clean = (rs.ce.ce_flags & (MVM_EXIT_CODE | MVM_EXIT_SIGNAL |
	    MVM_EXIT_TIMEDOUT)) == MVM_EXIT_CODE && rs.ce.ce_code == 0;
	if (share_count() > 0 && share_finish(clean, emsg, sizeof(emsg)) ==
	    -1) {
		status = EXIT_SHARE;
		etype = "share";
	}
	if (rq.receipt != NULL) {
		if (rs.ce.ce_receipt_error != 0 || rs.receipt == NULL) {
			(void)snprintf(emsg, sizeof(emsg), "the command "
			    "ended (status %d) but no receipt was made: %s",
			    status, rs.ce.ce_receipt_error != 0 ?
			    mvm_strerror(rs.ce.ce_receipt_error) :
			    "none was sent");
			(void)unlink(receipt_tmp);
		} else if (receipt_commit(rfd) == -1)
			(void)snprintf(emsg, sizeof(emsg), "the command "
			    "ended (status %d) but the receipt could not be "
			    "written", status);
		else
			rs.receipt_written = 1;
		close(rfd);
		if (emsg[0] != '\0' && !rs.receipt_written) {
			warnx("%s", emsg);
			status = EXIT_RECEIPT;
			etype = "audit";
		}
	}
	if (etype == NULL && (rs.ce.ce_flags & MVM_EXIT_TIMEDOUT)) {
		etype = "timeout";
		(void)strlcpy(emsg, "the command timed out", sizeof(emsg));
	} else if (etype == NULL && status != 0) {
		etype = "command-failure";
		(void)snprintf(emsg, sizeof(emsg), "the command ended with "
		    "status %d", status);
	}
	if (rq.json)
		json_result(status, etype, emsg);
	return (status);
}

static const struct option run_opts[] = {
	{ "image",		required_argument,	NULL, 'I' },
	{ "cpus",		required_argument,	NULL, 'c' },
	{ "memory",		required_argument,	NULL, 'm' },
	{ "timeout",		required_argument,	NULL, 't' },
	{ "env",		required_argument,	NULL, 'e' },
	{ "workdir",		required_argument,	NULL, 'w' },
	{ "name",		required_argument,	NULL, 'n' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "receipt",		required_argument,	NULL, 'r' },
	{ "force",		no_argument,		NULL, 'f' },
	{ "json",		no_argument,		NULL, 'j' },
	{ "capture-output",	required_argument,	NULL, 'C' },
	{ "profile",		required_argument,	NULL, 'P' },
	{ "seccomp",		required_argument,	NULL, 'S' },
	{ "ack-permissive",	no_argument,		NULL, 'A' },
	{ "guest-root",		no_argument,		NULL, 'R' },
	{ "secret",		required_argument,	NULL, 's' },
	{ "allow",		required_argument,	NULL, 'a' },
	{ "secret-file",	required_argument,	NULL, 'F' },
	{ "add-dir",		required_argument,	NULL, 'D' },
	{ NULL, 0, NULL, 0 }
};

/* run, up and exec share their options; mode says which apply */
static int
run_common(int argc, char **argv, uint32_t mode, const struct cmd *self)
{
	struct mvm_ctl_run	 cr;
	struct imsg		 imsg;
	char			*env[MVM_EXEC_ENVC_MAX + MVM_RUN_SECRETS_MAX +
				    MVM_NET_GRANTS_MAX];
	char			*sec[MVM_RUN_SECRETS_MAX], *blob;
	char			*allow[MVM_NET_GRANTS_MAX];
	size_t			 len;
	int			 ch, envc = 0, secc = 0, allowc = 0, fwd, rfd = -1;
	int			 i;

	memset(&cr, 0, sizeof(cr));
	cr.cr_mode = mode;
	if (mode != MVM_RUN_RUN) {	/* up NAME ..., exec NAME ... */
		if (argc < 2 || argv[1][0] == '-' || strlcpy(cr.cr_name,
		    argv[1], sizeof(cr.cr_name)) >= sizeof(cr.cr_name))
			cmd_usage(self);
		argc--;
		argv++;
	}
	while ((ch = getopt_long(argc, argv, "+e:v", run_opts, NULL)) != -1) {
		switch (ch) {
		case 'I':
			if (mode == MVM_RUN_EXEC ||
			    strlcpy(cr.cr_image, optarg, sizeof(cr.cr_image)) >=
			    sizeof(cr.cr_image))
				cmd_usage(self);
			break;
		case 'c':
			cr.cr_cpus = parse_uint(optarg, 64, "--cpus");
			break;
		case 'm':
			cr.cr_memory_mib = parse_uint(optarg, 1 << 20,
			    "--memory");
			break;
		case 't':
			cr.cr_timeout_s = parse_uint(optarg, 86400 * 7,
			    "--timeout");
			break;
		case 'e':
			if (envc == MVM_EXEC_ENVC_MAX)
				errx(EXIT_TOOBIG, "more than %d --env",
				    MVM_EXEC_ENVC_MAX);
			if (strchr(optarg, '=') == NULL)
				errx(EXIT_USAGE, "--env %s: want KEY=VALUE",
				    optarg);
			env[envc++] = optarg;
			break;
		case 'w':
			if (strlcpy(cr.cr_cwd, optarg, sizeof(cr.cr_cwd)) >=
			    sizeof(cr.cr_cwd) || optarg[0] != '/')
				errx(EXIT_USAGE, "--workdir: an absolute path "
				    "of at most %zu bytes", sizeof(cr.cr_cwd) -
				    1);
			break;
		case 'n':
			if (mode != MVM_RUN_RUN || strlcpy(cr.cr_name, optarg,
			    sizeof(cr.cr_name)) >= sizeof(cr.cr_name))
				cmd_usage(self);
			break;
		case 'v':
			rq.verbose = 1;
			break;
		case 'r':
			if (mode == MVM_RUN_UP || optarg[0] == '\0')
				cmd_usage(self);
			rq.receipt = optarg;
			break;
		case 'f':
			if (mode == MVM_RUN_UP)
				cmd_usage(self);
			rq.force = 1;
			break;
		case 'j':
			if (mode == MVM_RUN_UP)
				cmd_usage(self);
			rq.json = 1;
			break;
		case 'P':
			if (mode == MVM_RUN_EXEC || strlcpy(cr.cr_profile,
			    optarg, sizeof(cr.cr_profile)) >=
			    sizeof(cr.cr_profile))
				cmd_usage(self);
			break;
		case 'S':
			if ((cr.cr_seccomp = ap_tier_parse(optarg)) == 0)
				errx(EXIT_USAGE, "--seccomp %s: want essential, "
				    "minimal, standard, network or unrestricted",
				    optarg);
			break;
		case 'A':
			if (mode == MVM_RUN_EXEC)
				cmd_usage(self);
			cr.cr_pflags |= MVM_POLICY_ACK;
			break;
		case 'R':
			cr.cr_flags |= MVM_RUN_GUEST_ROOT;
			break;
		case 's':
			if (mode == MVM_RUN_UP)
				cmd_usage(self);
			if (secc == MVM_RUN_SECRETS_MAX)
				errx(EXIT_TOOBIG, "more than %d --secret",
				    MVM_RUN_SECRETS_MAX);
			sec[secc++] = secret_grant(optarg);
			break;
		case 'F':
			if (mode == MVM_RUN_UP)
				cmd_usage(self);
			if (secc == MVM_RUN_SECRETS_MAX)
				errx(EXIT_TOOBIG, "more than %d --secret and "
				    "--secret-file", MVM_RUN_SECRETS_MAX);
			sec[secc++] = secret_file_grant(optarg);
			break;
		case 'a':
			/* checked (and presets expanded) by the supervisor */
			if (mode == MVM_RUN_EXEC)
				errx(EXIT_USAGE, "--allow: a guest's grants are "
				    "fixed when it starts (up)");
			if (allowc == MVM_NET_GRANTS_MAX)
				errx(EXIT_TOOBIG, "more than %d --allow",
				    MVM_NET_GRANTS_MAX);
			allow[allowc++] = optarg;
			break;
		case 'D':
			if (mode == MVM_RUN_UP)
				errx(EXIT_USAGE, "--add-dir: a share goes with a "
				    "command (run, exec)");
			share_arg(optarg);
			break;
		case 'C':
			if (mode == MVM_RUN_UP)
				cmd_usage(self);
			rq.capture = 1;
			rq.capture_max = parse_uint(optarg, CAPTURE_MAX,
			    "--capture-output");
			break;
		default:
			cmd_usage(self);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && strcmp(argv[0], "--") == 0) {
		argc--;
		argv++;
	}
	if ((mode == MVM_RUN_UP) != (argc == 0))
		cmd_usage(self);
	if (rq.capture && !rq.json)
		errx(EXIT_USAGE, "--capture-output goes with --json");
	if (rq.force && rq.receipt == NULL)
		errx(EXIT_USAGE, "--force goes with --receipt");
	if (argc > MVM_EXEC_ARGC_MAX)
		errx(EXIT_TOOBIG, "%d arguments; at most %d", argc,
		    MVM_EXEC_ARGC_MAX);
	cr.cr_argc = argc;
	cr.cr_envc = envc;
	/* the grants travel after the env as "NAME=VAR": names, no values */
	cr.cr_secretc = secc;
	for (i = 0; i < secc; i++)
		env[envc + i] = sec[i];
	/* then the egress grants, "HOST:PORT" or a preset's name */
	cr.cr_allowc = allowc;
	for (i = 0; i < allowc; i++)
		env[envc + secc + i] = allow[i];
	blob = make_blob(argv, argc, env, envc + secc + allowc, &len);
	/* the host directories, read before anything is sent */
	share_prepare();
	cr.cr_sharec = share_count();
	for (i = 0; i < secc; i++)
		free(sec[i]);
	fwd = mode != MVM_RUN_UP && !isatty(STDIN_FILENO);
	if (fwd)
		cr.cr_flags |= MVM_RUN_STDIN;
	if (rq.json && !rq.capture)
		cr.cr_flags |= MVM_RUN_NOOUTPUT;
	if (rq.receipt != NULL) {
		cr.cr_flags |= MVM_RUN_RECEIPT;
		rfd = receipt_prepare();
	}

	g.typed_exits = 1;
	g.on_fail = run_on_fail;
	(void)signal(SIGINT, on_signal);
	(void)signal(SIGTERM, on_signal);
	(void)signal(SIGPIPE, SIG_IGN);
	ctl_connect();
	share_declare();
	ctl_sendv2(IMSG_CTL_RUN, &cr, sizeof(cr), blob, len);
	free(blob);
	if (mode == MVM_RUN_UP) {
		ctl_expect(&imsg, IMSG_CTL_OK);
		imsg_free(&imsg);
		ctl_close();
		printf("%s: running\n", cr.cr_name);
		return (EXIT_OK);
	}
	ctl_nonblock(1);
	relay(fwd);
	ctl_nonblock(0);
	ctl_close();
	return (run_finish(rfd));
}

int
cmd_run(int argc, char **argv)
{
	static const struct cmd self = { "run", NULL, USAGE_RUN };

	return (run_common(argc, argv, MVM_RUN_RUN, &self));
}

int
cmd_up(int argc, char **argv)
{
	static const struct cmd self = { "up", NULL, USAGE_UP };

	return (run_common(argc, argv, MVM_RUN_UP, &self));
}

int
cmd_exec(int argc, char **argv)
{
	static const struct cmd self = { "exec", NULL, USAGE_EXEC };

	return (run_common(argc, argv, MVM_RUN_EXEC, &self));
}
