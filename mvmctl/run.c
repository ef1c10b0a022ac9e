/*
 * mvmctl run, up, exec: a command in a throwaway guest, a named guest
 * that stays up, a command in a named guest.  stdin, stdout and stderr
 * pass through byte for byte; the exit status is the guest command's,
 * 124 on timeout, 128+N when it died of signal N, 130 after Ctrl-C;
 * mvm's own failures have their own statuses (mvmctl.8, EXIT STATUS).
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "mvmctl.h"

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
		return (124);
	if (ce->ce_flags & MVM_EXIT_SIGNAL)
		return (128 + (ce->ce_signal & 0x7f));
	return (ce->ce_code & 0xff);
}

/*
 * Relay: stdin to the supervisor (if asked), output to stdout and
 * stderr, until the command's end or an error.  Returns the exit status.
 */
static int
relay(int forward_stdin, int verbose)
{
	struct mvm_ctl_started	 cs;
	struct mvm_ctl_exit	 ce;
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
			warnx("interrupted; the guest is being stopped");
			return (130);
		}
		while (ctl_pending(&imsg)) {
			switch (imsg_type(&imsg)) {
			case IMSG_CTL_STARTED:
				if (msg_get_ctl_started(&imsg, &cs) == -1)
					errx(EXIT_MVM, "malformed reply");
				if (verbose)
					fprintf(stderr, "mvmctl: run %s in "
					    "guest %s\n", cs.cs_run,
					    cs.cs_guest);
				break;
			case IMSG_CTL_OUTPUT:
				if (imsg.datalen < sizeof(vd))
					errx(EXIT_MVM, "malformed reply");
				memcpy(&vd, imsg.data, sizeof(vd));
				fd = vd.vd_stream == MVM_STREAM_STDERR ? 2 : 1;
				if (out_ok[fd] && write_all(fd,
				    (uint8_t *)imsg.data + sizeof(vd),
				    imsg.datalen - sizeof(vd)) == -1)
					out_ok[fd] = 0;	/* reader gone */
				break;
			case IMSG_CTL_EXIT:
				if (msg_get_ctl_exit(&imsg, &ce) == -1)
					errx(EXIT_MVM, "malformed reply");
				imsg_free(&imsg);
				if (verbose)
					fprintf(stderr, "mvmctl: boot %llu ms, "
					    "run %llu ms (%s)\n",
					    (unsigned long long)ce.ce_boot_ms,
					    (unsigned long long)ce.ce_run_ms,
					    ce.ce_accel == MVM_ACCEL_KVM ? "kvm" :
					    "tcg");
				return (exit_status(&ce));
			default:
				errx(EXIT_MVM, "unexpected reply %s",
				    imsg_type_name(imsg_type(&imsg)));
			}
			imsg_free(&imsg);
		}
		pfd[0].fd = ctl_fd();
		pfd[0].events = POLLIN;
		nfd = 1;
		if (stdin_open) {
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
			ctl_send(IMSG_CTL_STDIN, buf, n);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			ctl_read();
	}
}

static const struct option run_opts[] = {
	{ "image",	required_argument,	NULL, 'I' },
	{ "cpus",	required_argument,	NULL, 'c' },
	{ "memory",	required_argument,	NULL, 'm' },
	{ "timeout",	required_argument,	NULL, 't' },
	{ "env",	required_argument,	NULL, 'e' },
	{ "workdir",	required_argument,	NULL, 'w' },
	{ "name",	required_argument,	NULL, 'n' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

/* run, up and exec share their options; mode says which apply */
static int
run_common(int argc, char **argv, uint32_t mode, const struct cmd *self)
{
	struct mvm_ctl_run	 cr;
	struct imsg		 imsg;
	char			*env[MVM_EXEC_ENVC_MAX], *blob;
	size_t			 len;
	int			 ch, envc = 0, verbose = 0, fwd;

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
			verbose = 1;
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
	if (argc > MVM_EXEC_ARGC_MAX)
		errx(EXIT_TOOBIG, "%d arguments; at most %d", argc,
		    MVM_EXEC_ARGC_MAX);
	cr.cr_argc = argc;
	cr.cr_envc = envc;
	blob = make_blob(argv, argc, env, envc, &len);
	fwd = mode != MVM_RUN_UP && !isatty(STDIN_FILENO);
	if (fwd)
		cr.cr_flags |= MVM_RUN_STDIN;

	g.typed_exits = 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ctl_connect();
	ctl_sendv2(IMSG_CTL_RUN, &cr, sizeof(cr), blob, len);
	free(blob);
	if (mode == MVM_RUN_UP) {
		ctl_expect(&imsg, IMSG_CTL_OK);
		imsg_free(&imsg);
		ctl_close();
		printf("%s: running\n", cr.cr_name);
		return (EXIT_OK);
	}
	return (relay(fwd, verbose));
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
