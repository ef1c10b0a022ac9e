/*
 * mvmctl audit: read, check and prove the audit log (man/mvm-audit.5).
 *
 * Everything but "checkpoint" reads the files directly and needs no
 * daemon: <statedir>/audit/<tenant>/log and checkpoints, and the host's
 * public key.  Nothing here opens a file for writing.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auditverify.h"
#include "crypto.h"
#include "load.h"
#include "merkle.h"
#include "mvmctl.h"
#include "note.h"
#include "record.h"

#define TAIL_DEFAULT	20
#define TAIL_POLL_MS	200

static const struct cmd audit_cmd = { "audit", NULL, AUDIT_USAGE };

enum {
	O_JSON = 256, O_TENANT, O_SINCE, O_PUBKEY, O_INDEX, O_SINCE_SIZE,
	O_RECORD
};

/* options shared by the subcommands */
struct audit_args {
	const char	*tenant;
	const char	*since;
	const char	*pubkey;
	const char	*record;
	int		 json;
	int		 follow;
	uint64_t	 count;
	uint64_t	 index;
	uint64_t	 since_size;
	int		 have_index;
	int		 have_since_size;
};

static void	 audit_usage(void) __attribute__((noreturn));
static int	 audit_allowed(const char *, const char *);
static void	 audit_args(int, char **, const char *, struct audit_args *);
static uint64_t	 audit_num(const char *);
static void	 audit_path(char *, size_t, const char *, const char *);
static uint8_t	*audit_file(const char *, const char *, size_t *);
static uint8_t	*audit_map(const char *, size_t *);
static int	 audit_exit(int);
static void	 record_print(const char *, size_t, int);
static void	 pairs_print(json_t *);
static int	 audit_tail(int, char **);
static uint64_t	 tail_start(int, uint64_t, uint64_t);
static uint64_t	 tail_print(int, uint64_t, uint64_t, int);
static void	 tail_follow(int, uint64_t, int);
static int	 audit_show(int, char **);
static int	 subject_has(const char *, size_t, const char *);
static int	 audit_verify_cmd(int, char **);
static void	 verify_print(const struct audit_verify_result *);
static void	 verify_json(const struct audit_verify_result *);
static int	 audit_checkpoint(int, char **);
static void	 audit_structure(const char *, struct audit_verify_result *);
static int	 audit_prove(int, char **);
static int	 audit_verify_proof(int, char **);
static int	 proof_inclusion(const struct proof *, const char *,
		    const uint8_t *);
static int	 proof_consistency(const struct proof *, const char *,
		    const uint8_t *);

static void
audit_usage(void)
{
	cmd_usage(&audit_cmd);
}

static uint64_t
audit_num(const char *s)
{
	unsigned long long	 v;
	char			*end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' ||
	    v > INT64_MAX) {
		warnx("%s: not a number", s);
		audit_usage();
	}
	return (v);
}

/* Is name in the space-separated list? */
static int
audit_allowed(const char *list, const char *name)
{
	const char	*p;
	size_t		 n = strlen(name);

	for (p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return (1);
	return (0);
}

/*
 * Options for one subcommand; allowed lists the long options it takes
 * (by name, space-separated, plus "f" and "n" for tail).
 */
static void
audit_args(int argc, char **argv, const char *allowed, struct audit_args *a)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "tenant", required_argument, NULL, O_TENANT },
		{ "since", required_argument, NULL, O_SINCE },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "index", required_argument, NULL, O_INDEX },
		{ "since-size", required_argument, NULL, O_SINCE_SIZE },
		{ "record", required_argument, NULL, O_RECORD },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch, li;

	memset(a, 0, sizeof(*a));
	a->tenant = MVM_TENANT_DEFAULT;
	a->count = TAIL_DEFAULT;
	/*
	 * 0, not 1: glibc then starts afresh and permutes, so options may
	 * follow operands (main's "+" parse would otherwise stick).
	 */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "fn:", opts, &li)) != -1) {
		if (ch >= 256 && !audit_allowed(allowed, opts[ch - 256].name))
			audit_usage();
		switch (ch) {
		case 'f':
		case 'n':
			if (!audit_allowed(allowed, ch == 'f' ? "f" : "n"))
				audit_usage();
			if (ch == 'f')
				a->follow = 1;
			else
				a->count = audit_num(optarg);
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_TENANT:
			a->tenant = optarg;
			break;
		case O_SINCE:
			a->since = optarg;
			break;
		case O_PUBKEY:
			a->pubkey = optarg;
			break;
		case O_INDEX:
			a->index = audit_num(optarg);
			a->have_index = 1;
			break;
		case O_SINCE_SIZE:
			a->since_size = audit_num(optarg);
			a->have_since_size = 1;
			break;
		case O_RECORD:
			a->record = optarg;
			break;
		default:
			warnx("audit %s: bad option or missing argument: %s",
			    argv[0], argv[optind - 1]);
			audit_usage();
		}
	}
	if (!tenant_valid(a->tenant))
		errx(EXIT_ERR, "%s: not a tenant name", a->tenant);
}

/* <statedir>/audit/<tenant>/<which> */
static void
audit_path(char *buf, size_t len, const char *tenant, const char *which)
{
	if ((size_t)snprintf(buf, len, "%s/audit/%s/%s", ctl_statedir(),
	    tenant, which) >= len)
		errx(EXIT_ERR, "%s: state dir too long", ctl_statedir());
}

static uint8_t *
audit_file(const char *tenant, const char *which, size_t *lenp)
{
	char	 path[1024];

	audit_path(path, sizeof(path), tenant, which);
	return (load_file(path, lenp));
}

/* A tenant's log, mapped read-only (load_map). */
static uint8_t *
audit_map(const char *tenant, size_t *lenp)
{
	char	 path[1024];

	audit_path(path, sizeof(path), tenant, "log");
	return (load_map(path, lenp));
}

static int
audit_exit(int class)
{
	switch (class) {
	case AV_OK:		return (EXIT_OK);
	case AV_MALFORMED:	return (EXIT_MALFORMED);
	case AV_LINK:		return (EXIT_LINK);
	case AV_SIGNATURE:	return (EXIT_SIGNATURE);
	case AV_ROOT:		return (EXIT_ROOT);
	case AV_TRUNCATED:	return (EXIT_TRUNCATED);
	case AV_NOTEXT:		return (EXIT_NOTEXT);
	case AV_UNKNOWNKEY:	return (EXIT_UNKNOWNKEY);
	}
	return (EXIT_ERR);
}

/* ------------------------------------------------------------------ */
/* tail and show */

static void
pairs_print(json_t *o)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(o, k, v) {
		if (json_is_integer(v))
			printf(" %s=%" JSON_INTEGER_FORMAT, k,
			    json_integer_value(v));
		else if (json_is_string(v))
			printf(" %s=%s", k, json_string_value(v));
	}
}

/*
 * One line: "time seq type subject... labels...", or with json the line
 * as it is.  Lines that are not JSON objects (crash debris) are noted,
 * or skipped with json.
 */
static void
record_print(const char *line, size_t len, int json)
{
	json_t	*o;

	o = json_loadb(line, len, 0, NULL);
	if (!json_is_object(o)) {
		if (!json)
			printf("(%zu bytes that are not a record)\n", len);
		json_decref(o);
		return;
	}
	if (json)
		printf("%.*s\n", (int)len, line);
	else {
		printf("%s %" JSON_INTEGER_FORMAT " %s",
		    json_string_value(json_object_get(o, "time")) ?: "-",
		    json_integer_value(json_object_get(o, "seq")),
		    json_string_value(json_object_get(o, "type")) ?: "-");
		pairs_print(json_object_get(o, "subject"));
		pairs_print(json_object_get(o, "labels"));
		putchar('\n');
	}
	json_decref(o);
}

/* Offset of the first of the last n complete lines before size. */
static uint64_t
tail_start(int fd, uint64_t size, uint64_t n)
{
	char		 buf[65536];
	uint64_t	 pos = size, seen = 0;
	ssize_t		 got, i;
	size_t		 want;
	int		 have_end = 0;

	while (pos > 0) {
		want = pos < sizeof(buf) ? pos : sizeof(buf);
		pos -= want;
		if ((got = pread(fd, buf, want, pos)) != (ssize_t)want)
			err(EXIT_ERR, "reading the log");
		for (i = got - 1; i >= 0; i--) {
			if (buf[i] != '\n')
				continue;
			if (!have_end) {	/* ends the last whole line */
				have_end = 1;
				if (n == 0)
					return (pos + i + 1);
				continue;
			}
			if (++seen == n)
				return (pos + i + 1);
		}
	}
	return (0);
}

/* Print the complete lines in [from, to); returns the end of the last. */
static uint64_t
tail_print(int fd, uint64_t from, uint64_t to, int json)
{
	char		*buf, *p, *nl, *end;
	uint64_t	 done = from;
	ssize_t		 got;

	if (to <= from)
		return (from);
	if ((buf = malloc(to - from)) == NULL)
		err(EXIT_ERR, NULL);
	if ((got = pread(fd, buf, to - from, from)) == -1)
		err(EXIT_ERR, "reading the log");	/* short: it shrank */
	end = buf + got;
	for (p = buf; (nl = memchr(p, '\n', end - p)) != NULL; p = nl + 1) {
		record_print(p, nl - p, json);
		done = from + (nl + 1 - buf);
	}
	free(buf);
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
	return (done);
}

/* Poll for growth; a torn last line waits until its newline comes. */
static void
tail_follow(int fd, uint64_t off, int json)
{
	struct timespec	 ts = { 0, TAIL_POLL_MS * 1000000L };
	struct stat	 st;

	for (;;) {
		(void)nanosleep(&ts, NULL);
		if (fstat(fd, &st) == -1)
			err(EXIT_ERR, "the log");
		if ((uint64_t)st.st_size < off)
			errx(EXIT_ERR, "the log shrank from %" PRIu64 " to %"
			    PRIu64 " bytes", off, (uint64_t)st.st_size);
		off = tail_print(fd, off, st.st_size, json);
	}
}

static int
audit_tail(int argc, char **argv)
{
	struct audit_args	 a;
	struct stat		 st;
	char			 path[1024];
	uint64_t		 off;
	int			 fd;

	audit_args(argc, argv, " f n json tenant ", &a);
	if (optind != argc)
		audit_usage();
	audit_path(path, sizeof(path), a.tenant, "log");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		err(EXIT_ERR, "%s", path);
	off = tail_start(fd, st.st_size, a.count);
	off = tail_print(fd, off, st.st_size, a.json);
	if (a.follow)
		tail_follow(fd, off, a.json);
	close(fd);
	return (EXIT_OK);
}

/* Does one subject member of the record have the value id? */
static int
subject_has(const char *line, size_t len, const char *id)
{
	const char	*k;
	json_t		*o, *v;
	int		 found = 0;

	o = json_loadb(line, len, 0, NULL);
	json_object_foreach(json_object_get(o, "subject"), k, v)
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			found = 1;
	json_decref(o);
	return (found);
}

static int
audit_show(int argc, char **argv)
{
	struct audit_args	 a;
	uint8_t			*buf;
	const char		*id, *p, *end, *nl;
	char			 needle[REC_TOKEN_MAX + 3];
	size_t			 len, found = 0;

	audit_args(argc, argv, " json tenant ", &a);
	if (argc - optind != 1)
		audit_usage();
	id = argv[optind];
	if (!record_token_ok(id))
		errx(EXIT_ERR, "%s: not an id (1-128 of [A-Za-z0-9._:/@+=-])",
		    id);
	(void)snprintf(needle, sizeof(needle), "\"%s\"", id);
	buf = audit_map(a.tenant, &len);
	end = (const char *)buf + len;
	for (p = (const char *)buf; (nl = memchr(p, '\n', end - p)) != NULL;
	    p = nl + 1) {
		if (memmem(p, nl - p, needle, strlen(needle)) == NULL ||
		    !subject_has(p, nl - p, id))
			continue;
		record_print(p, nl - p, a.json);
		found++;
	}
	load_unmap(buf, len);
	if (found == 0)
		errx(EXIT_ERR, "no record has %s in its subject", id);
	return (EXIT_OK);
}

/* ------------------------------------------------------------------ */
/* verify */

static void
verify_print(const struct audit_verify_result *r)
{
	size_t	 i;

	if (r->avr_class != AV_OK) {
		printf("FAILED: %s", audit_class_name(r->avr_class));
		if (r->avr_bad_seq >= 0)
			printf(" at seq %" PRId64, r->avr_bad_seq);
		printf(": %s\n", r->avr_detail);
		return;
	}
	printf("ok: %" PRIu64 " record%s, %" PRIu64 " checkpoint%s",
	    r->avr_records, r->avr_records == 1 ? "" : "s",
	    r->avr_checkpoints, r->avr_checkpoints == 1 ? "" : "s");
	if (r->avr_have_newest)
		printf(", newest covers %" PRIu64, r->avr_newest);
	if (r->avr_nrecovered > 0)
		printf(", %zu recovered crash%s (", r->avr_nrecovered,
		    r->avr_nrecovered == 1 ? "" : "es");
	for (i = 0; i < r->avr_nrecovered; i++)
		printf("%soffset %" PRIu64 ", %" PRIu64 " bytes, seq %" PRId64
		    "%s", i > 0 ? "; " : "", r->avr_recovered[i].ar_off,
		    r->avr_recovered[i].ar_len, r->avr_recovered[i].ar_seq,
		    i + 1 == r->avr_nrecovered ? ")" : "");
	if (r->avr_tail_len > 0)
		printf(", torn tail (offset %" PRIu64 ", %" PRIu64 " bytes) "
		    "not yet recovered", r->avr_tail_off, r->avr_tail_len);
	if (r->avr_ckpt_ignored > 0)
		printf(", %" PRIu64 " unreadable checkpoint line%s ignored",
		    r->avr_ckpt_ignored, r->avr_ckpt_ignored == 1 ? "" : "s");
	putchar('\n');
}

static void
verify_json(const struct audit_verify_result *r)
{
	json_t	*o, *rec, *tail = json_null();
	char	 root[MVM_SHA256_HEX], kid[9];
	size_t	 i;

	rec = json_array();
	for (i = 0; i < r->avr_nrecovered; i++)
		json_array_append_new(rec, json_pack("{s:I, s:I, s:I}",
		    "offset", (json_int_t)r->avr_recovered[i].ar_off,
		    "length", (json_int_t)r->avr_recovered[i].ar_len,
		    "seq", (json_int_t)r->avr_recovered[i].ar_seq));
	if (r->avr_tail_len > 0)
		tail = json_pack("{s:I, s:I}", "offset",
		    (json_int_t)r->avr_tail_off, "length",
		    (json_int_t)r->avr_tail_len);
	hex_encode(r->avr_root, sizeof(r->avr_root), root);
	key_id_hex(r->avr_keyid, kid);
	o = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:s, "
	    "s:s, s:s, s:I}",
	    "class", audit_class_name(r->avr_class),
	    "bad_seq", (json_int_t)r->avr_bad_seq,
	    "detail", r->avr_detail,
	    "records", (json_int_t)r->avr_records,
	    "checkpoints", (json_int_t)r->avr_checkpoints,
	    "newest_checkpoint", (json_int_t)r->avr_newest,
	    "newest_checkpoint_present", json_boolean(r->avr_have_newest),
	    "recovered", rec,
	    "torn_tail", tail,
	    "root", root,
	    "tenant", r->avr_tenant,
	    "key_id", kid,
	    "ignored_checkpoint_lines", (json_int_t)r->avr_ckpt_ignored);
	if (o == NULL)
		errx(EXIT_ERR, "json_pack");
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(o);
}

static int
audit_verify_cmd(int argc, char **argv)
{
	struct audit_args		 a;
	struct audit_verify_opts	 o;
	struct audit_verify_result	 r;
	struct checkpoint		 since;
	uint8_t				 pk[MVM_PK_LEN], *log, *ck;
	char				 name[MVM_KEYNAME_MAX], text[NOTE_MAX];
	size_t				 loglen, cklen;
	int				 rc;

	audit_args(argc, argv, " json tenant since pubkey ", &a);
	if (optind != argc)
		audit_usage();
	load_pubkey(a.pubkey, pk, name, sizeof(name));
	memset(&o, 0, sizeof(o));
	o.avo_pk = pk;
	o.avo_keyname = name;
	o.avo_tenant = a.tenant;
	if (a.since != NULL) {
		load_note(a.since, pk, &since, text, sizeof(text));
		o.avo_since = &since;
	}
	/* checkpoints first: auditd writes one only once the log has it */
	ck = audit_file(a.tenant, "checkpoints", &cklen);
	log = audit_map(a.tenant, &loglen);
	if (audit_verify(log, loglen, ck, cklen, &o, &r) == -1)
		errx(EXIT_ERR, "%s", r.avr_detail);
	if (a.json)
		verify_json(&r);
	else
		verify_print(&r);
	rc = audit_exit(r.avr_class);
	audit_verify_free(&r);
	load_unmap(log, loglen);
	free(ck);
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
	return (rc);
}

/* ------------------------------------------------------------------ */
/* checkpoint: the only one that asks the supervisor */

static int
audit_checkpoint(int argc, char **argv)
{
	struct audit_args	 a;
	struct mvm_audit_req	 ar;
	struct mvm_audit_ckpt	 ac;
	struct imsg		 imsg;

	audit_args(argc, argv, " tenant ", &a);
	if (optind != argc)
		audit_usage();
	memset(&ar, 0, sizeof(ar));
	(void)strlcpy(ar.ar_tenant, a.tenant, sizeof(ar.ar_tenant));
	ctl_connect();
	ctl_send(IMSG_CTL_AUDIT_CKPT_REQ, &ar, sizeof(ar));
	ctl_expect(&imsg, IMSG_CTL_AUDIT_CKPT_RES);
	if (msg_get_audit_ckpt(&imsg, &ac) == -1)
		errx(EXIT_ERR, "malformed checkpoint reply");
	imsg_free(&imsg);
	ctl_close();
	if (ac.ac_error != 0)
		errx(EXIT_ERR, "%s", mvm_strerror(ac.ac_error));
	if (fputs(ac.ac_note, stdout) == EOF)
		err(EXIT_ERR, "stdout");
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
	return (EXIT_OK);
}

/*
 * audit resume: after the log stopped (disk full, fsync error) and the
 * operator made room, have auditd read the log again and go on.
 */
static int
audit_resume_cmd(int argc, char **argv)
{
	struct audit_args	 a;
	struct mvm_audit_req	 ar;
	struct imsg		 imsg;

	audit_args(argc, argv, " tenant ", &a);
	if (optind != argc)
		audit_usage();
	memset(&ar, 0, sizeof(ar));
	(void)strlcpy(ar.ar_tenant, a.tenant, sizeof(ar.ar_tenant));
	g.typed_exits = 1;	/* 116: still stopped; 2: unknown tenant */
	ctl_connect();
	ctl_send(IMSG_CTL_AUDIT_RESUME, &ar, sizeof(ar));
	ctl_expect(&imsg, IMSG_CTL_OK);
	imsg_free(&imsg);
	ctl_close();
	printf("audit log: writing\n");
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
	return (EXIT_OK);
}

/* ------------------------------------------------------------------ */
/* prove and verify-proof */

/*
 * Structure and roots only (no key): the proofs are for others to
 * check with the key, but are only made from a log that matches its
 * checkpoints.
 */
static void
audit_structure(const char *tenant, struct audit_verify_result *r)
{
	struct audit_verify_opts	 o;
	uint8_t				*log, *ck;
	size_t				 loglen, cklen;

	ck = audit_file(tenant, "checkpoints", &cklen);	/* first */
	log = audit_map(tenant, &loglen);
	memset(&o, 0, sizeof(o));
	o.avo_tenant = tenant;
	if (audit_verify(log, loglen, ck, cklen, &o, r) == -1)
		errx(EXIT_ERR, "%s", r->avr_detail);
	load_unmap(log, loglen);
	free(ck);
	if (r->avr_class != AV_OK) {
		verify_print(r);
		errx(audit_exit(r->avr_class), "refusing to prove anything "
		    "from this log");
	}
	if (!r->avr_have_newest)
		errx(EXIT_ERR, "no checkpoint yet (mvmctl audit checkpoint "
		    "makes one)");
}

static int
audit_prove(int argc, char **argv)
{
	struct audit_args		 a;
	struct audit_verify_result	 r;
	struct proof			*pf;
	char				 out[NOTE_PROOF_MAX];
	int				 rc;

	audit_args(argc, argv, " tenant index since-size ", &a);
	if (optind != argc || a.have_index == a.have_since_size)
		audit_usage();
	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		err(EXIT_ERR, NULL);
	audit_structure(a.tenant, &r);
	pf->pf_notelen = strlcpy(pf->pf_note, r.avr_newest_note,
	    sizeof(pf->pf_note));
	if (a.have_index) {
		if (a.index >= r.avr_newest)
			errx(EXIT_ERR, "record %" PRIu64 " is not covered by "
			    "the newest checkpoint (size %" PRIu64 ")",
			    a.index, r.avr_newest);
		pf->pf_kind = PROOF_INCLUSION;
		pf->pf_index = a.index;
		rc = merkle_inclusion(&r.avr_tree, a.index, r.avr_newest,
		    pf->pf_hash, &pf->pf_nhash);
	} else {
		if (a.since_size == 0 || a.since_size > r.avr_newest)
			errx(EXIT_ERR, "size %" PRIu64 " is not between 1 and "
			    "the newest checkpoint's %" PRIu64, a.since_size,
			    r.avr_newest);
		pf->pf_kind = PROOF_CONSISTENCY;
		pf->pf_old_size = a.since_size;
		rc = merkle_consistency(&r.avr_tree, a.since_size,
		    r.avr_newest, pf->pf_hash, &pf->pf_nhash);
	}
	if (rc == -1 || proof_format(pf, out, sizeof(out)) == -1)
		errx(EXIT_ERR, "cannot make the proof");
	if (fputs(out, stdout) == EOF)
		err(EXIT_ERR, "stdout");
	audit_verify_free(&r);
	free(pf);
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
	return (EXIT_OK);
}

/* The record line (one trailing newline dropped) is leaf index. */
static int
proof_inclusion(const struct proof *pf, const char *linefile,
    const uint8_t *pk)
{
	struct checkpoint	 ck;
	uint8_t			*line, leaf[MERKLE_HASH_LEN];
	size_t			 len;

	line = load_file(linefile, &len);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	merkle_leaf_hash(line, len, leaf);
	free(line);
	if (note_verify(pf->pf_note, pf->pf_notelen, pk, &ck, NULL) == -1) {
		printf("FAILED: signature: the proof's checkpoint is not "
		    "signed by this key\n");
		return (EXIT_SIGNATURE);
	}
	if (merkle_verify_inclusion(leaf, pf->pf_index, ck.ck_size,
	    pf->pf_hash, pf->pf_nhash, ck.ck_root) != 0) {
		printf("FAILED: this record is not leaf %" PRIu64 " of %s at "
		    "size %" PRIu64 "\n", pf->pf_index, ck.ck_origin,
		    ck.ck_size);
		return (EXIT_NOPROOF);
	}
	printf("ok: the record is leaf %" PRIu64 " of %s at size %" PRIu64
	    ", signed by %s\n", pf->pf_index, ck.ck_origin, ck.ck_size,
	    ck.ck_keyname);
	return (EXIT_OK);
}

/* The old checkpoint's tree is a prefix of the proof's. */
static int
proof_consistency(const struct proof *pf, const char *oldfile,
    const uint8_t *pk)
{
	struct checkpoint	 old, ck;
	char			 text[NOTE_MAX];

	load_note(oldfile, NULL, &old, text, sizeof(text));
	if (note_verify(text, strlen(text), pk, &old, NULL) == -1) {
		printf("FAILED: signature: the old checkpoint is not signed "
		    "by this key\n");
		return (EXIT_SIGNATURE);
	}
	if (note_verify(pf->pf_note, pf->pf_notelen, pk, &ck, NULL) == -1) {
		printf("FAILED: signature: the proof's checkpoint is not "
		    "signed by this key\n");
		return (EXIT_SIGNATURE);
	}
	if (strcmp(old.ck_origin, ck.ck_origin) != 0 ||
	    old.ck_size != pf->pf_old_size ||
	    merkle_verify_consistency(old.ck_size, ck.ck_size, old.ck_root,
	    ck.ck_root, pf->pf_hash, pf->pf_nhash) != 0) {
		printf("FAILED: %s size %" PRIu64 " is not shown to extend %s "
		    "size %" PRIu64 "\n", ck.ck_origin, ck.ck_size,
		    old.ck_origin, old.ck_size);
		return (EXIT_NOPROOF);
	}
	printf("ok: %s size %" PRIu64 " extends size %" PRIu64 "\n",
	    ck.ck_origin, ck.ck_size, old.ck_size);
	return (EXIT_OK);
}

static int
audit_verify_proof(int argc, char **argv)
{
	struct audit_args	 a;
	struct proof		*pf;
	uint8_t			 pk[MVM_PK_LEN], *text;
	char			 name[MVM_KEYNAME_MAX];
	size_t			 len;
	int			 rc;

	audit_args(argc, argv, " record since pubkey ", &a);
	if (argc - optind != 1 || (a.record == NULL) == (a.since == NULL))
		audit_usage();
	load_pubkey(a.pubkey, pk, name, sizeof(name));
	text = load_file(argv[optind], &len);
	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		err(EXIT_ERR, NULL);
	if (proof_parse((char *)text, len, pf) == -1)
		errx(EXIT_ERR, "%s: not a proof", argv[optind]);
	free(text);
	if (pf->pf_kind != (a.record != NULL ? PROOF_INCLUSION :
	    PROOF_CONSISTENCY))
		errx(EXIT_ERR, "%s: %s proof; use %s", argv[optind],
		    pf->pf_kind == PROOF_INCLUSION ? "an inclusion" :
		    "a consistency", pf->pf_kind == PROOF_INCLUSION ?
		    "--record" : "--since");
	if (a.record != NULL)
		rc = proof_inclusion(pf, a.record, pk);
	else
		rc = proof_consistency(pf, a.since, pk);
	free(pf);
	if (fflush(stdout) == EOF)
		err(EXIT_ERR, "stdout");
	return (rc);
}

int
cmd_audit(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} sub[] = {
		{ "tail",		audit_tail },
		{ "show",		audit_show },
		{ "verify",		audit_verify_cmd },
		{ "checkpoint",		audit_checkpoint },
		{ "resume",		audit_resume_cmd },
		{ "prove",		audit_prove },
		{ "verify-proof",	audit_verify_proof },
	};
	size_t	 i;

	if (argc < 2)
		audit_usage();
	argc--;
	argv++;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (strcmp(argv[0], sub[i].name) == 0)
			return (sub[i].fn(argc, argv));
	warnx("unknown audit command: %s", argv[0]);
	audit_usage();
}
