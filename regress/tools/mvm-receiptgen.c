/*
 * mvm-receiptgen: write a valid run receipt, the audit log it is bound
 * to, and forged twins of it, without any daemon, for tests and the
 * example in mvm-receipt.5.
 *
 * usage: mvm-receiptgen KEYFILE DIR
 *   KEYFILE	a PRIVATE+KEY line (mvm-keytool gen NAME)
 *   DIR	written (it must exist):
 *
 *   receipt.json	the receipt: envelope, one line
 *   statement.json	its payload, the statement, as signed
 *   stdout, stderr	the run's output (what the subjects hash)
 *   pub, pub.pem	the key: C2SP verifier key and PEM
 *   other.pub		the other key the forged-key twin is signed with
 *   state/		a state dir: audit/local/log and checkpoints (10
 *			records, the run.exited at index 3, checkpoints at
 *			sizes 3, 6 and 10), signer/host.pub
 *   newer.note		the log's checkpoint at size 10, as mvmctl audit
 *			checkpoint prints it
 *   newer.proof	consistency proof from size 6 (the receipt's
 *			checkpoint) to it, as mvmctl audit prove
 *			--since-size 6 prints it
 *   cut/		a state dir whose log was cut back to 3 records
 *			(just before the run.exited) and grown again to 10
 *			other records, checkpoints included, all signed by
 *			the same key: a valid log that lost the run
 *   cut.note, cut.proof	its checkpoint at size 10, and its own
 *			consistency proof from size 6
 *
 * The forged twins, each made so that only the check it aims at fails
 * (what comes before it in the verification order holds):
 *
 *   forged-exitcode.json	outcome.exit_code 0 -> 1, statement signed
 *			again by the key, record untouched: binding
 *   forged-uid.json	invocation.uid 0 added (as if it ran as guest
 *			root) where the record has no uid, signed again:
 *			binding
 *   forged-baduid.json	invocation.uid 5, no guest user's: predicate
 *   forged-subject.json	the stdout and stderr digests swapped in the
 *			statement (byte counts kept), signed again:
 *			binding; with --stdout stdout the subject check,
 *			which comes first, sees the file differ: subject.
 *			A twin whose record also carries the swapped
 *			digests would have to be a different, fully valid
 *			log: that is just a genuine receipt checked
 *			against the wrong file (subject), which the tests
 *			do with receipt.json and --stdout stderr
 *   forged-payloadtype.json	payloadType "application/json", signed
 *			again over that PAE: payload-type
 *   forged-key.json	the genuine statement signed by another key
 *			(other.pub): signature
 *   forged-inclusion.json	audit.inclusion replaced by the inclusion
 *			proof of leaf 2 (the run.admitted record) in the
 *			same tree, signed again: inclusion
 *   forged-checkpoint.json	audit.checkpoint replaced by a checkpoint
 *			of another log (origin mirror.test/mvm-audit/local)
 *			holding the same records, so the same root and the
 *			inclusion proof still works, signed by the same
 *			key; statement signed again: checkpoint
 *   the truncated log	receipt.json with --checkpoint cut.note (and
 *			-S cut, or --proof cut.proof): not-in-log
 *
 * Records are built as mvm-auditd/journal.c builds them (canonical
 * form, checked with record_check) and signed over the domain-separated
 * unsigned form.  Times, ids and output are fixed: the output depends
 * only on the key.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "merkle.h"
#include "mvm.h"
#include "note.h"
#include "receipt.h"
#include "receiptverify.h"
#include "record.h"
#include "sigmsg.h"

#define NREC		10
#define RUN_INDEX	3	/* the run.exited record */
#define CUT_AT		3	/* records the cut log keeps */
#define CKPT_SIZE	6	/* the receipt's checkpoint */
#define START_TIME	1795428000	/* 2026-11-23T10:00:00Z */
#define TENANT		MVM_TENANT_DEFAULT
#define ORIGIN		"receiptgen.test/mvm-audit/" TENANT
#define ORIGIN_OTHER	"mirror.test/mvm-audit/" TENANT
#define GUEST		"g1"
#define STDOUT_TEXT	"hello from the guest\n"
#define STDERR_TEXT	"warning: nothing to do\n"

struct key {
	char		 k_name[MVM_KEYNAME_MAX];
	char		 k_kid[9];
	uint32_t	 k_id;
	uint8_t		 k_pk[32];
	uint8_t		 k_sk[64];
	uint8_t		 k_seed[32];
};

struct log {
	char		*l_line[NREC];
	struct merkle_tree l_tree;
};

static struct key	 key, other;
static const char	*dir;
static char		 run_id[RECEIPT_RUNID_LEN + 1];

static void	 key_load(const char *);
static void	 key_other(void);
static void	 hex_of(const char *, char *);
static void	 when(int, char *, size_t);
static json_t	*rec_body(int, int);
static char	*rec_sign(json_t *, const uint8_t *);
static void	 log_build(struct log *, int);
static char	*ckpt_note(const struct log *, uint64_t, const char *);
static char	*ckpt_line(const struct log *, uint64_t);
static void	 put(const char *, const void *, size_t);
static void	 put_str(const char *, const char *);
static void	 state_write(const char *, const struct log *, const char *,
		    const uint64_t *, int);
static char	*proof_cons(const struct log *, uint64_t, uint64_t);
static json_t	*inclusion(const struct log *, uint64_t, uint64_t);
static json_t	*subject(const char *, const char *);
static json_t	*statement(const struct log *);
static char	*dump(json_t *);
static void	 envelope(const char *, const char *, const char *,
		    const struct key *);

static void
key_load(const char *path)
{
	FILE	*f;
	char	 buf[MVM_SKEY_MAX + 8];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (skey_parse(buf, n, key.k_name, sizeof(key.k_name),
	    key.k_seed) == -1)
		errx(1, "%s: not a PRIVATE+KEY line", path);
	crypto_sign_seed_keypair(key.k_pk, key.k_sk, key.k_seed);
	key.k_id = key_id(key.k_name, key.k_pk);
	key_id_hex(key.k_id, key.k_kid);
	sodium_memzero(buf, sizeof(buf));
}

/* Another key, derived from the first so that the output stays fixed. */
static void
key_other(void)
{
	crypto_hash_sha256_state	 st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)"mvm-receiptgen: "
	    "another key", 27);
	crypto_hash_sha256_update(&st, key.k_seed, sizeof(key.k_seed));
	crypto_hash_sha256_final(&st, other.k_seed);
	crypto_sign_seed_keypair(other.k_pk, other.k_sk, other.k_seed);
	(void)strlcpy(other.k_name, "receiptgen-other", sizeof(other.k_name));
	other.k_id = key_id(other.k_name, other.k_pk);
	key_id_hex(other.k_id, other.k_kid);
}

/* hex SHA-256 of a string */
static void
hex_of(const char *s, char *hex)
{
	uint8_t	 h[32];

	sha256(s, strlen(s), h);
	hex_encode(h, sizeof(h), hex);
}

/* record i's time: 10:00:00.000 plus 250 ms a record, plus the run */
static void
when(int i, char *buf, size_t len)
{
	uint64_t	 ms = (uint64_t)i * 250 + (i > 2 ? 1043 : 0);
	time_t		 t = START_TIME + (time_t)(ms / 1000);
	struct tm	 tm;
	size_t		 n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

/*
 * Record i without kid, prev, seq and sig: the records of one guest
 * and one run, as the supervisor writes them.  cut: the log that was
 * cut at CUT_AT and written again from there (another run).
 */
static json_t *
rec_body(int i, int cut)
{
	char	 k[65], r[65], argv[65], ts[32];

	hex_of("receiptgen kernel", k);
	hex_of("receiptgen initramfs", r);
	hex_of("receiptgen argv", argv);
	when(i, ts, sizeof(ts));
	if (cut && i >= CUT_AT)
		return (json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:I}}",
		    "type", "host.started", "time", ts,
		    "subject", "key", key.k_kid,
		    "labels", "version", "0.1.0", "pid", (json_int_t)5000 + i));
	switch (i) {
	case 0:
		return (json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:I}}",
		    "type", "host.started", "time", ts,
		    "subject", "key", key.k_kid,
		    "labels", "version", "0.1.0", "pid", (json_int_t)4242));
	case 1:
		return (json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:s, "
		    "s:s, s:s, s:I, s:I, s:I}}",
		    "type", "guest.created", "time", ts,
		    "subject", "guest", GUEST,
		    "labels", "guest_id", "1", "state", "created",
		    "image", "default", "kernel_sha256", k,
		    "initrd_sha256", r, "cpus", (json_int_t)1,
		    "memory_mib", (json_int_t)256, "uid", (json_int_t)3000016));
	case 2:
		return (json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, "
		    "s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:s}}",
		    "type", "run.admitted", "time", ts,
		    "subject", "run", run_id, "guest", GUEST,
		    "labels", "mode", "run", "image", "default",
		    "kernel_sha256", k, "initrd_sha256", r,
		    "argv_sha256", argv, "argc", (json_int_t)3,
		    "env_keys", "HOME:PATH", "cpus", (json_int_t)1,
		    "memory_mib", (json_int_t)256, "timeout_s", (json_int_t)30,
		    "accel", "kvm", "stdin", "no"));
	case RUN_INDEX:
		hex_of(STDOUT_TEXT, k);
		hex_of(STDERR_TEXT, r);
		return (json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:I, "
		    "s:I, s:I, s:s, s:s, s:I}}",
		    "type", "run.exited", "time", ts,
		    "subject", "run", run_id, "guest", GUEST,
		    "labels", "outcome", "exited", "code", (json_int_t)0,
		    "stdout_bytes", (json_int_t)strlen(STDOUT_TEXT),
		    "stderr_bytes", (json_int_t)strlen(STDERR_TEXT),
		    "stdout_sha256", k, "stderr_sha256", r,
		    "run_ms", (json_int_t)1043));
	case 4:
	case 9:
		return (json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s}}",
		    "type", i == 4 ? "guest.stopped" : "guest.destroyed",
		    "time", ts, "subject", "guest", GUEST,
		    "labels", "guest_id", "1", "state",
		    i == 4 ? "stopped" : "destroyed"));
	default:
		return (json_pack("{s:s, s:s, s:{s:s}}",
		    "type", "ctl.status", "time", ts,
		    "labels", "outcome", "ok"));
	}
}

/* The signed line for a body, seq and prev already in it. */
static char *
rec_sign(json_t *o, const uint8_t *sk)
{
	struct record_fields	 rf;
	struct sigmsg		 m;
	uint8_t			 sig[64];
	char			*text, *line, b64[MVM_B64_LEN(64)], why[128];

	if ((text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		errx(1, "json_dumps");
	if (record_check(text, strlen(text), 0, &rf, why, sizeof(why)) == -1)
		errx(1, "unsigned record: %s: %s", why, text);
	if (sigmsg_audit(&m, (uint8_t *)text, strlen(text)) == -1)
		err(1, "sigmsg_audit");
	crypto_sign_detached(sig, NULL, m.sm_buf, m.sm_len, sk);
	sigmsg_free(&m);
	b64_encode(sig, sizeof(sig), b64, sizeof(b64));
	if ((line = record_insert_sig(text, b64)) == NULL)
		errx(1, "record_insert_sig");
	if (record_check(line, strlen(line), REC_WITH_SIG, &rf, why,
	    sizeof(why)) == -1)
		errx(1, "signed record: %s: %s", why, line);
	free(text);
	return (line);
}

static void
log_build(struct log *l, int cut)
{
	uint8_t	 last[32], leaf[32];
	char	 prev[65];
	json_t	*o;
	int	 i;

	memset(last, 0, sizeof(last));
	merkle_init(&l->l_tree);
	for (i = 0; i < NREC; i++) {
		o = rec_body(i, cut);
		hex_encode(last, 32, prev);
		json_object_set_new(o, "kid", json_string(key.k_kid));
		json_object_set_new(o, "prev", json_string(prev));
		json_object_set_new(o, "seq", json_integer(i));
		json_object_set_new(o, "tenant", json_string(TENANT));
		l->l_line[i] = rec_sign(o, key.k_sk);
		json_decref(o);
		sha256(l->l_line[i], strlen(l->l_line[i]), last);
		merkle_leaf_hash(l->l_line[i], strlen(l->l_line[i]), leaf);
		if (merkle_append(&l->l_tree, leaf) == -1)
			err(1, "merkle_append");
	}
}

/* The signed note for the first size records under origin. */
static char *
ckpt_note(const struct log *l, uint64_t size, const char *origin)
{
	struct checkpoint	 ck;
	struct sigmsg		 m;
	char			 note[NOTE_MAX];

	memset(&ck, 0, sizeof(ck));
	(void)strlcpy(ck.ck_origin, origin, sizeof(ck.ck_origin));
	ck.ck_size = size;
	if (merkle_root(&l->l_tree, size, ck.ck_root) == -1 ||
	    sigmsg_note(&m, ck.ck_origin, ck.ck_size, ck.ck_root) == -1)
		errx(1, "checkpoint");
	crypto_sign_detached(ck.ck_sig, NULL, m.sm_buf, m.sm_len, key.k_sk);
	sigmsg_free(&m);
	(void)strlcpy(ck.ck_keyname, key.k_name, sizeof(ck.ck_keyname));
	ck.ck_keyid = key.k_id;
	if (note_format(&ck, note, sizeof(note)) == -1)
		errx(1, "note_format");
	return (strdup(note));
}

/* One line of a checkpoints file. */
static char *
ckpt_line(const struct log *l, uint64_t size)
{
	char	*note, *line;
	json_t	*o;

	note = ckpt_note(l, size, ORIGIN);
	o = json_pack("{s:s}", "note", note);
	if ((line = json_dumps(o, JSON_COMPACT)) == NULL)
		errx(1, "json_dumps");
	json_decref(o);
	free(note);
	return (line);
}

/* DIR/name, written whole. */
static void
put(const char *name, const void *p, size_t len)
{
	char	 path[1024];
	FILE	*f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	if (fwrite(p, 1, len, f) != len || fclose(f) == EOF)
		err(1, "%s", path);
}

static void
put_str(const char *name, const char *s)
{
	put(name, s, strlen(s));
}

/* A state dir: audit/local/log and checkpoints, signer/host.pub. */
static void
state_write(const char *name, const struct log *l, const char *pub,
    const uint64_t *sizes, int nsizes)
{
	static const char *const sub[] = { "", "/audit", ("/audit/" TENANT),
	    "/signer" };
	char			 path[1024], *text, *line;
	size_t			 len = 0;
	int			 i;

	for (i = 0; i < 4; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s%s", dir, name,
		    sub[i]);
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			err(1, "%s", path);
	}
	(void)snprintf(path, sizeof(path), "%s/signer/host.pub", name);
	put_str(path, pub);
	if ((text = calloc(NREC, REC_LINE_MAX + 1)) == NULL)
		err(1, NULL);
	for (i = 0; i < NREC; i++)
		len += (size_t)sprintf(text + len, "%s\n", l->l_line[i]);
	(void)snprintf(path, sizeof(path), "%s/audit/%s/log", name, TENANT);
	put(path, text, len);
	for (len = 0, i = 0; i < nsizes; i++) {
		line = ckpt_line(l, sizes[i]);
		len += (size_t)sprintf(text + len, "%s\n", line);
		free(line);
	}
	(void)snprintf(path, sizeof(path), "%s/audit/%s/checkpoints", name,
	    TENANT);
	put(path, text, len);
	free(text);
}

/* The consistency proof text from m to n, as mvmctl audit prove. */
static char *
proof_cons(const struct log *l, uint64_t m, uint64_t n)
{
	struct proof	*pf;
	char		*note, *out;

	if ((pf = calloc(1, sizeof(*pf))) == NULL ||
	    (out = malloc(NOTE_PROOF_MAX)) == NULL)
		err(1, NULL);
	note = ckpt_note(l, n, ORIGIN);
	pf->pf_kind = PROOF_CONSISTENCY;
	pf->pf_old_size = m;
	pf->pf_notelen = strlcpy(pf->pf_note, note, sizeof(pf->pf_note));
	if (merkle_consistency(&l->l_tree, m, n, pf->pf_hash,
	    &pf->pf_nhash) == -1 ||
	    proof_format(pf, out, NOTE_PROOF_MAX) == -1)
		errx(1, "consistency proof");
	free(note);
	free(pf);
	return (out);
}

/* The inclusion proof of leaf index at size, as base64 strings. */
static json_t *
inclusion(const struct log *l, uint64_t index, uint64_t size)
{
	uint8_t		 h[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	char		 b64[MVM_B64_LEN(MERKLE_HASH_LEN)];
	size_t		 n, i;
	json_t		*a;

	if (merkle_inclusion(&l->l_tree, index, size, h, &n) == -1)
		errx(1, "inclusion proof");
	a = json_array();
	for (i = 0; i < n; i++) {
		b64_encode(h[i], MERKLE_HASH_LEN, b64, sizeof(b64));
		json_array_append_new(a, json_string(b64));
	}
	return (a);
}

static json_t *
subject(const char *name, const char *text)
{
	char	 hex[65];

	hex_of(text, hex);
	return (json_pack("{s:s, s:{s:s}, s:{s:I}}", "name", name,
	    "digest", "sha256", hex, "annotations", "bytes",
	    (json_int_t)strlen(text)));
}

/* The genuine statement. */
static json_t *
statement(const struct log *l)
{
	char	 k[65], r[65], argv[65], t0[32], t1[32], leaf[65], *note;
	uint8_t	 h[32];
	json_t	*o;

	hex_of("receiptgen kernel", k);
	hex_of("receiptgen initramfs", r);
	hex_of("receiptgen argv", argv);
	when(2, t0, sizeof(t0));
	when(RUN_INDEX, t1, sizeof(t1));
	merkle_leaf_hash(l->l_line[RUN_INDEX], strlen(l->l_line[RUN_INDEX]),
	    h);
	hex_encode(h, sizeof(h), leaf);
	note = ckpt_note(l, CKPT_SIZE, ORIGIN);
	o = json_pack("{s:s, s:[o, o], s:s, s:{s:i, s:s, s:s, "
	    "s:{s:s, s:i, s:[s, s], s:{s:s, s:s, s:s}, s:s, s:i, s:i, s:i, "
	    "s:s}, "
	    "s:{s:i, s:n, s:b, s:b, s:b}, "
	    "s:{s:s, s:s, s:i, s:i}, "
	    "s:{s:s, s:s, s:s, s:s, s:s}, "
	    "s:{s:s, s:s}, "
	    "s:{s:s, s:s, s:I, s:s, s:s, s:s, s:o}}}",
	    "_type", MVM_INTOTO_STATEMENT,
	    "subject", subject("stdout", STDOUT_TEXT),
	    subject("stderr", STDERR_TEXT),
	    "predicateType", RECEIPT_PREDICATE,
	    "predicate", "version", RECEIPT_VERSION, "run_id", run_id,
	    "guest", GUEST,
	    "invocation", "argv_sha256", argv, "argc", 3,
	    "env_keys", "HOME", "PATH",
	    "image", "name", "default", "kernel_sha256", k,
	    "initramfs_sha256", r, "profile", "standard", "cpus", 1,
	    "memory_mib", 256, "timeout_s", 30, "mode", "run",
	    "outcome", "exit_code", 0, "signal", "timed_out", 0,
	    "stdout_truncated", 0, "stderr_truncated", 0,
	    "timing", "started", t0, "ended", t1, "boot_ms", 412,
	    "run_ms", 1043,
	    "backend", "name", "qemu-microvm", "accel", "kvm",
	    "qemu", "7.2.22", "agent", "mvm-agent 0.1.0",
	    "guest_kernel", "6.1.0-28-amd64",
	    "signer", "key_id", key.k_kid, "key_name", key.k_name,
	    "audit", "tenant", TENANT, "origin", ORIGIN,
	    "index", (json_int_t)RUN_INDEX, "record", l->l_line[RUN_INDEX],
	    "leaf_sha256", leaf, "checkpoint", note,
	    "inclusion", inclusion(l, RUN_INDEX, CKPT_SIZE));
	if (o == NULL)
		errx(1, "json_pack: statement");
	free(note);
	return (o);
}

/* Compact, keys sorted, as the supervisor prints it. */
static char *
dump(json_t *o)
{
	char	*s;

	if ((s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		errx(1, "json_dumps");
	return (s);
}

/* DIR/name: the envelope of stmt, signed by k over PAE(type, stmt). */
static void
envelope(const char *name, const char *stmt, const char *type,
    const struct key *k)
{
	struct sigmsg	 m;
	uint8_t		 sig[64];
	char		*env, *line;

	if (sigmsg_pae(&m, type, (const uint8_t *)stmt, strlen(stmt)) == -1)
		err(1, "sigmsg_pae");
	crypto_sign_detached(sig, NULL, m.sm_buf, m.sm_len, k->k_sk);
	sigmsg_free(&m);
	if ((env = receipt_envelope((const uint8_t *)stmt, strlen(stmt), type,
	    k->k_id, sig)) == NULL)
		errx(1, "receipt_envelope");
	if (asprintf(&line, "%s\n", env) == -1)
		err(1, NULL);
	put_str(name, line);
	free(line);
	free(env);
}

int
main(int argc, char *argv[])
{
	static const uint64_t	 sizes[] = { CUT_AT, CKPT_SIZE, NREC };
	static const uint64_t	 cut_sizes[] = { CUT_AT, NREC };
	struct log		 good, cut;
	uint8_t			 h[32];
	char			 pub[MVM_VKEY_MAX + 1], opub[MVM_VKEY_MAX + 1];
	char			 pem[MVM_PEM_MAX], *s, *note;
	json_t			*st, *t, *out, *dig[2];
	int			 i;

	if (argc != 3) {
		fprintf(stderr, "usage: mvm-receiptgen KEYFILE DIR\n");
		return (2);
	}
	if (mvm_crypto_init() == -1)
		errx(1, "sodium_init");
	dir = argv[2];
	key_load(argv[1]);
	key_other();
	sha256("mvm-receiptgen run", 18, h);
	hex_encode(h, RECEIPT_RUNID_LEN / 2, run_id);

	if (vkey_format(key.k_name, key.k_pk, pub, sizeof(pub) - 1) == -1 ||
	    vkey_format(other.k_name, other.k_pk, opub, sizeof(opub) - 1) ==
	    -1 || pem_format(key.k_pk, pem, sizeof(pem)) == -1)
		errx(1, "key formats");
	(void)strlcat(pub, "\n", sizeof(pub));
	(void)strlcat(opub, "\n", sizeof(opub));
	put_str("pub", pub);
	put_str("other.pub", opub);
	put_str("pub.pem", pem);
	put_str("stdout", STDOUT_TEXT);
	put_str("stderr", STDERR_TEXT);

	log_build(&good, 0);
	log_build(&cut, 1);
	state_write("state", &good, pub, sizes, 3);
	state_write("cut", &cut, pub, cut_sizes, 2);
	note = ckpt_note(&good, NREC, ORIGIN);
	put_str("newer.note", note);
	free(note);
	s = proof_cons(&good, CKPT_SIZE, NREC);
	put_str("newer.proof", s);
	free(s);
	note = ckpt_note(&cut, NREC, ORIGIN);
	put_str("cut.note", note);
	free(note);
	s = proof_cons(&cut, CKPT_SIZE, NREC);
	put_str("cut.proof", s);
	free(s);

	/* the genuine receipt */
	st = statement(&good);
	s = dump(st);
	put_str("statement.json", s);
	envelope("receipt.json", s, MVM_DSSE_TYPE, &key);
	envelope("forged-payloadtype.json", s, "application/json", &key);
	envelope("forged-key.json", s, MVM_DSSE_TYPE, &other);
	free(s);

	/* twins of the statement, each signed again by the key */
	t = json_deep_copy(st);
	json_object_set_new(json_object_get(json_object_get(t, "predicate"),
	    "outcome"), "exit_code", json_integer(1));
	s = dump(t);
	envelope("forged-exitcode.json", s, MVM_DSSE_TYPE, &key);
	free(s);
	json_decref(t);

	/* the genuine one predates users: it and its record have no uid */
	for (i = 0; i < 2; i++) {
		t = json_deep_copy(st);
		json_object_set_new(json_object_get(json_object_get(t,
		    "predicate"), "invocation"), "uid", json_integer(i * 5));
		s = dump(t);
		envelope(i == 0 ? "forged-uid.json" : "forged-baduid.json", s,
		    MVM_DSSE_TYPE, &key);
		free(s);
		json_decref(t);
	}

	t = json_deep_copy(st);
	for (i = 0; i < 2; i++)
		dig[i] = json_object_get(json_object_get(json_array_get(
		    json_object_get(t, "subject"), i), "digest"), "sha256");
	out = json_copy(dig[0]);
	json_string_set(dig[0], json_string_value(dig[1]));
	json_string_set(dig[1], json_string_value(out));
	json_decref(out);
	s = dump(t);
	envelope("forged-subject.json", s, MVM_DSSE_TYPE, &key);
	free(s);
	json_decref(t);

	t = json_deep_copy(st);
	out = json_object_get(json_object_get(t, "predicate"), "audit");
	json_object_set_new(out, "inclusion", inclusion(&good, 2, CKPT_SIZE));
	s = dump(t);
	envelope("forged-inclusion.json", s, MVM_DSSE_TYPE, &key);
	free(s);
	json_decref(t);

	t = json_deep_copy(st);
	out = json_object_get(json_object_get(t, "predicate"), "audit");
	note = ckpt_note(&good, CKPT_SIZE, ORIGIN_OTHER);
	json_object_set_new(out, "checkpoint", json_string(note));
	free(note);
	s = dump(t);
	envelope("forged-checkpoint.json", s, MVM_DSSE_TYPE, &key);
	free(s);
	json_decref(t);

	json_decref(st);
	for (i = 0; i < NREC; i++) {
		free(good.l_line[i]);
		free(cut.l_line[i]);
	}
	merkle_free(&good.l_tree);
	merkle_free(&cut.l_tree);
	sodium_memzero(&key, sizeof(key));
	sodium_memzero(&other, sizeof(other));
	return (0);
}
