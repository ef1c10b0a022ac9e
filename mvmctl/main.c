/*
 * mvmctl: the command-line client.  Global options, then a command.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "mvmctl.h"

struct ctl_globals g;

static const struct cmd cmds[] = {
	{ "status",	cmd_status,	"status [--json]" },
	{ "key",	cmd_key,	"key show [--json]\n"
	    "       key export --format raw|pem|note" },
	{ "audit",	cmd_audit,	AUDIT_USAGE },
	{ "run",	cmd_run,	USAGE_RUN },
	{ "up",		cmd_up,		USAGE_UP },
	{ "exec",	cmd_exec,	USAGE_EXEC },
	{ "ls",		cmd_ls,		USAGE_LS },
	{ "stop",	cmd_stop,	USAGE_STOP },
	{ "rm",		cmd_rm,		USAGE_RM },
	{ "logs",	cmd_logs,	USAGE_LOGS },
	{ "cp",		cmd_cp,		USAGE_CP },
	{ "boot-report", cmd_boot_report, USAGE_BOOT_REPORT },
	{ "image",	cmd_image,	USAGE_IMAGE },
	{ "metrics",	cmd_metrics,	USAGE_METRICS },
	{ "policy",	cmd_policy,	USAGE_POLICY },
	{ "secret",	cmd_secret,	USAGE_SECRET },
	{ "receipt",	cmd_receipt,	USAGE_RECEIPT },
};

void
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: mvmctl [-s socket] [-S statedir] command "
	    "[argument ...]\n");
	fprintf(stderr, "commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "       %s\n", cmds[i].c_usage);
	exit(EXIT_USAGE);
}

void
cmd_usage(const struct cmd *c)
{
	fprintf(stderr, "usage: mvmctl %s\n", c->c_usage);
	exit(EXIT_USAGE);
}

int
main(int argc, char *argv[])
{
	size_t	 i;
	int	 ch;

	if (mvm_crypto_init() == -1)
		errx(EXIT_ERR, "sodium_init");
	/* '+': stop at the command; its options are its own */
	while ((ch = getopt(argc, argv, "+s:S:h")) != -1) {
		switch (ch) {
		case 's':
			g.socket = optarg;
			break;
		case 'S':
			if (optarg[0] != '/')
				errx(EXIT_USAGE, "-S needs an absolute path");
			g.statedir = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].c_name) == 0) {
			/* 0: glibc starts over, forgetting the '+' above */
			optind = 0;
			return (cmds[i].c_fn(argc, argv));
		}
	warnx("unknown command: %s", argv[0]);
	usage();
}
