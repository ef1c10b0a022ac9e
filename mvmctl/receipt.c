/*
 * mvmctl receipt: check a run receipt (man/mvm-receipt.5) offline, with
 * the host's public key: no daemon, no network.  The tenant's audit log
 * is read only to show that a newer checkpoint still holds the run when
 * no consistency proof is given.  Nothing here opens a file for writing.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "crypto.h"
#include "load.h"
#include "mvmctl.h"
#include "note.h"
#include "receiptverify.h"


static const struct cmd receipt_cmd = { "receipt", NULL, USAGE_RECEIPT };

enum {
	O_PUBKEY = 256, O_STDOUT, O_STDERR, O_CHECKPOINT, O_PROOF, O_JSON
};

struct receipt_args {
	const char	*pubkey;
	const char	*out;
	const char	*err;
	const char	*checkpoint;
	const char	*proof;
	int		 json;
};

/* what the log callback needs and keeps */
struct receipt_logs {
	uint8_t		*rs_log;
	size_t		 rs_loglen;
	uint8_t		*rs_ckpts;
	size_t		 rs_ckptslen;
};

static void	 receipt_usage(void) __attribute__((noreturn));
static void	 receipt_args(int, char **, struct receipt_args *);
static int	 receipt_open(const char *);
static int	 receipt_readable(const char *, const char *, char *, size_t);
static int	 receipt_log_get(void *, const char *, struct receipt_log *);
static void	 receipt_log_put(void *, struct receipt_log *);
static char	*receipt_proof(const char *, size_t *);
static void	 receipt_print(const struct receipt_verify_result *);
static void	 receipt_json(const struct receipt_verify_result *);
static int	 receipt_verify_cmd(int, char **);

static void
receipt_usage(void)
{
	cmd_usage(&receipt_cmd);
}

static void
receipt_args(int argc, char **argv, struct receipt_args *a)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "stdout", required_argument, NULL, O_STDOUT },
		{ "stderr", required_argument, NULL, O_STDERR },
		{ "checkpoint", required_argument, NULL, O_CHECKPOINT },
		{ "proof", required_argument, NULL, O_PROOF },
		{ "json", no_argument, NULL, O_JSON },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	memset(a, 0, sizeof(*a));
	/* 0, not 1: glibc starts afresh (main's "+" would stick) */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_PUBKEY:
			a->pubkey = optarg;
			break;
		case O_STDOUT:
			a->out = optarg;
			break;
		case O_STDERR:
			a->err = optarg;
			break;
		case O_CHECKPOINT:
			a->checkpoint = optarg;
			break;
		case O_PROOF:
			a->proof = optarg;
			break;
		case O_JSON:
			a->json = 1;
			break;
		default:
			warnx("receipt %s: bad option or missing argument: %s",
			    argv[0], argv[optind - 1]);
			receipt_usage();
		}
	}
}

static int
receipt_open(const char *path)
{
	int	 fd;

	if (path == NULL)
		return (-1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(EXIT_ERR, "%s", path);
	return (fd);
}

/* <statedir>/audit/<tenant>/<which> into path; 0 if it can be read */
static int
receipt_readable(const char *tenant, const char *which, char *path,
    size_t len)
{
	int	 fd;

	if ((size_t)snprintf(path, len, "%s/audit/%s/%s", ctl_statedir(),
	    tenant, which) >= len) {
		warnx("%s: state dir too long", ctl_statedir());
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("%s", path);
		return (-1);
	}
	close(fd);
	return (0);
}

/* The tenant's log for receipt_verify, if it is there to be read. */
static int
receipt_log_get(void *arg, const char *tenant, struct receipt_log *rl)
{
	struct receipt_logs	*rs = arg;
	char			 log[1024], ck[1024];

	if (!tenant_valid(tenant) ||
	    receipt_readable(tenant, "checkpoints", ck, sizeof(ck)) == -1 ||
	    receipt_readable(tenant, "log", log, sizeof(log)) == -1)
		return (-1);
	/* checkpoints first: auditd writes one only once the log has it */
	rs->rs_ckpts = load_file(ck, &rs->rs_ckptslen);
	rs->rs_log = load_map(log, &rs->rs_loglen);
	rl->rl_log = rs->rs_log;
	rl->rl_loglen = rs->rs_loglen;
	rl->rl_ckpts = rs->rs_ckpts;
	rl->rl_ckptslen = rs->rs_ckptslen;
	return (0);
}

static void
receipt_log_put(void *arg, struct receipt_log *rl)
{
	struct receipt_logs	*rs = arg;

	(void)rl;
	load_unmap(rs->rs_log, rs->rs_loglen);
	free(rs->rs_ckpts);
	rs->rs_log = rs->rs_ckpts = NULL;
}

/* A consistency proof text, as mvmctl audit prove --since-size makes. */
static char *
receipt_proof(const char *path, size_t *lenp)
{
	struct proof	*pf;
	uint8_t		*text;

	text = load_file(path, lenp);
	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		err(EXIT_ERR, NULL);
	if (proof_parse((char *)text, *lenp, pf) == -1 ||
	    pf->pf_kind != PROOF_CONSISTENCY)
		errx(EXIT_ERR, "%s: not a consistency proof (mvmctl audit "
		    "prove --since-size makes one)", path);
	free(pf);
	return ((char *)text);
}

static void
receipt_print(const struct receipt_verify_result *r)
{
	if (r->rvr_class != RV_OK) {
		fprintf(stderr, "FAILED: %s: %s\n",
		    receipt_class_name(r->rvr_class), r->rvr_detail);
		return;
	}
	printf("ok: run %s exit ", r->rvr_run_id);
	if (r->rvr_timed_out)
		printf("timeout");
	else if (r->rvr_have_signal)
		printf("signal %lld", (long long)r->rvr_signal);
	else if (r->rvr_have_code)
		printf("%lld", (long long)r->rvr_code);
	else
		printf("unknown");
	printf(" key %s\n", r->rvr_keyid);
}

static void
receipt_json(const struct receipt_verify_result *r)
{
	json_t	*o;

	o = json_pack("{s:b, s:s, s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:o}",
	    "ok", r->rvr_class == RV_OK,
	    "class", receipt_class_name(r->rvr_class),
	    "detail", r->rvr_detail,
	    "run_id", r->rvr_run_id[0] != '\0' ?
	    json_string(r->rvr_run_id) : json_null(),
	    "exit_code", r->rvr_have_code ?
	    json_integer(r->rvr_code) : json_null(),
	    "signal", r->rvr_have_signal ?
	    json_integer(r->rvr_signal) : json_null(),
	    "timed_out", r->rvr_timed_out,
	    "key_id", r->rvr_keyid[0] != '\0' ?
	    json_string(r->rvr_keyid) : json_null(),
	    "audit_index", r->rvr_have_index ?
	    json_integer(r->rvr_index) : json_null(),
	    "checkpoint_size", r->rvr_have_ckpt ?
	    json_integer(r->rvr_ckpt_size) : json_null());
	if (o == NULL)
		errx(EXIT_ERR, "json_pack");
	/* with --checkpoint or --proof: the later size the run was shown in */
	json_object_set_new(o, "newer_checkpoint_size", r->rvr_have_newer ?
	    json_integer(r->rvr_newer_size) : json_null());
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(o);
}

static int
receipt_verify_cmd(int argc, char **argv)
{
	struct receipt_args		 a;
	struct receipt_verify_opts	 o;
	struct receipt_verify_result	 r;
	struct receipt_logs		 rs;
	struct checkpoint		 ck;
	uint8_t				 pk[MVM_PK_LEN], *env;
	char				 name[MVM_KEYNAME_MAX], newer[NOTE_MAX];
	char				*proof = NULL;
	size_t				 envlen, prooflen = 0;
	int				 rc;

	receipt_args(argc, argv, &a);
	if (argc - optind != 1)
		receipt_usage();
	load_pubkey(a.pubkey, pk, name, sizeof(name));
	memset(&o, 0, sizeof(o));
	memset(&rs, 0, sizeof(rs));
	o.rvo_pk = pk;
	o.rvo_keyname = name;
	o.rvo_stdout_fd = receipt_open(a.out);
	o.rvo_stderr_fd = receipt_open(a.err);
	if (a.checkpoint != NULL) {
		load_note(a.checkpoint, NULL, &ck, newer, sizeof(newer));
		o.rvo_newer = newer;
		o.rvo_newerlen = strlen(newer);
	}
	if (a.proof != NULL) {
		proof = receipt_proof(a.proof, &prooflen);
		o.rvo_proof = proof;
		o.rvo_prooflen = prooflen;
	}
	o.rvo_log_get = receipt_log_get;
	o.rvo_log_put = receipt_log_put;
	o.rvo_log_arg = &rs;
	env = load_file(argv[optind], &envlen);
	if (receipt_verify(env, envlen, &o, &r) == -1)
		errx(EXIT_ERR, "%s", r.rvr_detail);
	if (a.json)
		receipt_json(&r);
	else
		receipt_print(&r);
	rc = r.rvr_class;
	free(env);
	free(proof);
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
	return (rc);
}

int
cmd_receipt(int argc, char **argv)
{
	if (argc < 2)
		receipt_usage();
	argc--;
	argv++;
	if (strcmp(argv[0], "verify") == 0)
		return (receipt_verify_cmd(argc, argv));
	warnx("unknown receipt command: %s", argv[0]);
	receipt_usage();
}
