/*
 * receipt: run receipts through receipt_verify()
 * (libshared/receiptverify.c), as mvmctl receipt verify reads them,
 * with the test key as the host key (the RFC 8032 test 1 key, as
 * regress/unit/receipt.c and its golden receipt use).
 *
 * input: flags, then sections cut at FUZZ_SEP: the envelope (or a
 * statement), a newer checkpoint, a consistency proof, the tenant's
 * log, its checkpoints file, the stdout and stderr files
 *	flags & 0x01	section 0 is a statement: sign it and wrap it in
 *			an envelope here, so mutations reach the checks
 *			behind the signature
 *	flags & 0x02	sign again, with the test key, what the
 *			statement's audit member holds (the record, with
 *			leaf_sha256 set to its leaf hash, and the
 *			checkpoint) and the newer note, the proof's note,
 *			the log and its checkpoints
 *	flags & 0x04	the verifier is given the key's name
 *	flags & 0x08	section 1 is a newer checkpoint
 *	flags & 0x10	section 2 is a consistency proof
 *	flags & 0x20	sections 3 and 4 are the log and checkpoints a
 *			newer checkpoint without a proof is checked against
 *	flags & 0x40	sections 5 and 6 are the stdout and stderr files
 *
 * Properties: a verdict is one of the classes; no verdict comes with a
 * reason; an ok receipt has an outcome, an index below its
 * checkpoint's size, and a newer checkpoint no smaller than that.
 */
#include <sys/mman.h>

#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "fuzz.h"
#include "merkle.h"
#include "note.h"
#include "receiptverify.h"
#include "sigmsg.h"

#define NSECT		7

struct logs {
	const struct fuzz_sect	*l_s;
	int			 l_fix;
};

static void	 fix_audit(json_t *);
static uint8_t	*wrap(const struct fuzz_sect *, int, size_t *);
static char	*fix_proof(const struct fuzz_sect *, size_t *);
static int	 log_get(void *, const char *, struct receipt_log *);
static void	 log_put(void *, struct receipt_log *);
static int	 file_of(const struct fuzz_sect *);

/* audit.record signed again, leaf_sha256 its leaf; audit.checkpoint too */
static void
fix_audit(json_t *audit)
{
	json_t		*v;
	char		*t, hex[MVM_SHA256_HEX];
	uint8_t		 leaf[MERKLE_HASH_LEN];
	size_t		 n;

	v = json_object_get(audit, "record");
	if (json_is_string(v)) {
		n = json_string_length(v);
		t = fuzz_str((const uint8_t *)json_string_value(v), n);
		if (fuzz_resign_record(t, n) == 0) {
			merkle_leaf_hash(t, n, leaf);
			hex_encode(leaf, sizeof(leaf), hex);
			json_object_set_new(audit, "record",
			    json_stringn(t, n));
			json_object_set_new(audit, "leaf_sha256",
			    json_string(hex));
		}
		free(t);
	}
	v = json_object_get(audit, "checkpoint");
	if (json_is_string(v) && (t = fuzz_resign_note(json_string_value(v),
	    json_string_length(v), &n)) != NULL) {
		json_object_set_new(audit, "checkpoint", json_stringn(t, n));
		free(t);
	}
}

/* The statement (fixed up, if asked and it is JSON) in a signed envelope. */
static uint8_t *
wrap(const struct fuzz_sect *s, int fix, size_t *lenp)
{
	struct sigmsg	 m;
	json_t		*st;
	uint8_t		 sig[MVM_SIG_LEN];
	const uint8_t	*stmt = s->s_p;
	char		*dumped = NULL, *env;
	size_t		 len = s->s_len;

	if (fix && (st = json_loadb((const char *)stmt, len,
	    JSON_REJECT_DUPLICATES, NULL)) != NULL) {
		fix_audit(json_object_get(json_object_get(st, "predicate"),
		    "audit"));
		if ((dumped = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS)) !=
		    NULL) {
			stmt = (const uint8_t *)dumped;
			len = strlen(dumped);
		}
		json_decref(st);
	}
	if (sigmsg_pae(&m, MVM_DSSE_TYPE, stmt, len) == -1)
		abort();
	crypto_sign_detached(sig, NULL, m.sm_buf, m.sm_len, fuzz_rfc.k_sk);
	sigmsg_free(&m);
	env = receipt_envelope(stmt, len, MVM_DSSE_TYPE, fuzz_rfc.k_id, sig);
	free(dumped);
	*lenp = env != NULL ? strlen(env) : 0;
	return ((uint8_t *)env);
}

/* A proof whose note is signed again; NULL if it is no proof. */
static char *
fix_proof(const struct fuzz_sect *s, size_t *lenp)
{
	struct proof	*pf;
	char		*note, *out = NULL;
	size_t		 n;

	if ((pf = malloc(sizeof(*pf))) == NULL)
		abort();
	if (proof_parse((const char *)s->s_p, s->s_len, pf) == 0 &&
	    (note = fuzz_resign_note(pf->pf_note, pf->pf_notelen, &n)) !=
	    NULL) {
		if (n < NOTE_MAX) {
			memcpy(pf->pf_note, note, n + 1);
			pf->pf_notelen = n;
			if ((out = malloc(NOTE_PROOF_MAX)) == NULL)
				abort();
			if (proof_format(pf, out, NOTE_PROOF_MAX) == -1) {
				free(out);
				out = NULL;
			}
		}
		free(note);
	}
	free(pf);
	if (out != NULL)
		*lenp = strlen(out);
	return (out);
}

static int
log_get(void *arg, const char *tenant, struct receipt_log *rl)
{
	const struct logs	*l = arg;
	uint8_t			*log;
	size_t			 n;

	(void)tenant;
	if ((log = malloc(l->l_s[3].s_len + 1)) == NULL)
		abort();
	memcpy(log, l->l_s[3].s_p, l->l_s[3].s_len);
	rl->rl_log = log;
	rl->rl_loglen = l->l_s[3].s_len;
	if (l->l_fix) {
		fuzz_fix_log((char *)log, rl->rl_loglen);
		rl->rl_ckpts = fuzz_fix_ckpts(l->l_s[4].s_p, l->l_s[4].s_len,
		    log, rl->rl_loglen, &n);
		rl->rl_ckptslen = n;
	} else {
		rl->rl_ckpts = (const uint8_t *)fuzz_str(l->l_s[4].s_p,
		    l->l_s[4].s_len);
		rl->rl_ckptslen = l->l_s[4].s_len;
	}
	return (0);
}

static void
log_put(void *arg, struct receipt_log *rl)
{
	(void)arg;
	free((void *)rl->rl_log);
	free((void *)rl->rl_ckpts);
	memset(rl, 0, sizeof(*rl));
}

/* A file holding the section, at offset 0, or -1. */
static int
file_of(const struct fuzz_sect *s)
{
	int	 fd;

	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) == -1)
		abort();
	if (s->s_len > 0 && write(fd, s->s_p, s->s_len) != (ssize_t)s->s_len)
		abort();
	(void)lseek(fd, 0, SEEK_SET);
	return (fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_sect		 s[NSECT];
	struct receipt_verify_opts	 o;
	struct receipt_verify_result	 r;
	struct logs			 l;
	uint8_t				*env;
	char				*newer = NULL, *proof = NULL;
	size_t				 envlen, n;
	int				 flags, fix, rc;

	fuzz_init();
	if (size < 1)
		return (0);
	flags = data[0];
	fix = (flags & 0x02) != 0;
	memset(s, 0, sizeof(s));
	(void)fuzz_split(data + 1, size - 1, s, NSECT);
	if (flags & 0x01)
		env = wrap(&s[0], fix, &envlen);
	else {
		env = (uint8_t *)fuzz_str(s[0].s_p, s[0].s_len);
		envlen = s[0].s_len;
	}
	if (env == NULL)
		return (0);
	memset(&o, 0, sizeof(o));
	o.rvo_pk = fuzz_rfc.k_pk;
	o.rvo_keyname = (flags & 0x04) ? FUZZ_KEYNAME : NULL;
	o.rvo_stdout_fd = o.rvo_stderr_fd = -1;
	o.rvo_threads = 1;
	if (flags & 0x08) {
		if (!fix || (newer = fuzz_resign_note((const char *)s[1].s_p,
		    s[1].s_len, &n)) == NULL) {
			newer = fuzz_str(s[1].s_p, s[1].s_len);
			n = s[1].s_len;
		}
		o.rvo_newer = newer;
		o.rvo_newerlen = n;
	}
	if (flags & 0x10) {
		if (!fix || (proof = fix_proof(&s[2], &n)) == NULL) {
			proof = fuzz_str(s[2].s_p, s[2].s_len);
			n = s[2].s_len;
		}
		o.rvo_proof = proof;
		o.rvo_prooflen = n;
	}
	if (flags & 0x20) {
		l.l_s = s;
		l.l_fix = fix;
		o.rvo_log_get = log_get;
		o.rvo_log_put = log_put;
		o.rvo_log_arg = &l;
	}
	if (flags & 0x40) {
		o.rvo_stdout_fd = file_of(&s[5]);
		o.rvo_stderr_fd = file_of(&s[6]);
	}
	rc = receipt_verify(env, envlen, &o, &r);
	FUZZ_ASSERT(rc == 0 || r.rvr_detail[0] != '\0');
	FUZZ_ASSERT(strcmp(receipt_class_name(r.rvr_class), "unknown") != 0);
	if (rc == 0 && r.rvr_class == RV_OK) {
		FUZZ_ASSERT(r.rvr_have_outcome && r.rvr_have_index &&
		    r.rvr_have_ckpt && r.rvr_index < r.rvr_ckpt_size);
		if (r.rvr_have_newer)
			FUZZ_ASSERT(r.rvr_newer_size >= r.rvr_ckpt_size);
	}
	if (o.rvo_stdout_fd != -1)
		close(o.rvo_stdout_fd);
	if (o.rvo_stderr_fd != -1)
		close(o.rvo_stderr_fd);
	free(proof);
	free(newer);
	free(env);
	return (0);
}
