/*
 * sign.c: the signer's only job.  Each request names a kind; the body
 * is parsed and checked here, then the domain-separated message for
 * that kind (libshared/sigmsg.c) is signed.  Bytes the signer cannot
 * parse as its kind are never signed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "log.h"
#include "record.h"
#include "sigmsg.h"
#include "signer.h"

static int
json_str_is(json_t *o, const char *k, const char *want)
{
	json_t	*v = json_object_get(o, k);

	return (json_is_string(v) && strcmp(json_string_value(v), want) == 0);
}

/* subject: a non-empty array of {name, digest: {sha256: 64 hex}} */
static int
check_subjects(json_t *subj)
{
	json_t	*s, *d, *h;
	size_t	 i;

	if (!json_is_array(subj) || json_array_size(subj) == 0 ||
	    json_array_size(subj) > 64)
		return (-1);
	json_array_foreach(subj, i, s) {
		if (!json_is_object(s) ||
		    !json_is_string(json_object_get(s, "name")))
			return (-1);
		d = json_object_get(s, "digest");
		h = json_object_get(d, "sha256");
		if (!json_is_object(d) || !json_is_string(h) ||
		    !is_hex(json_string_value(h), 64))
			return (-1);
	}
	return (0);
}

/* An in-toto Statement v1 carrying our run predicate. */
int
sign_check_receipt(const uint8_t *body, size_t len)
{
	json_t	*root;
	int	 rc = -1;

	if ((root = json_loadb((const char *)body, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return (-1);
	if (json_is_object(root) &&
	    json_str_is(root, "_type", MVM_INTOTO_STATEMENT) &&
	    json_str_is(root, "predicateType", MVM_PREDICATE_RUN) &&
	    json_is_object(json_object_get(root, "predicate")) &&
	    check_subjects(json_object_get(root, "subject")) == 0)
		rc = 0;
	json_decref(root);
	return (rc);
}

/* A snapshot manifest: our type and a list of hashed files. */
int
sign_check_snapshot(const uint8_t *body, size_t len)
{
	json_t	*root;
	int	 rc = -1;

	if ((root = json_loadb((const char *)body, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return (-1);
	if (json_is_object(root) &&
	    json_str_is(root, "_type", MVM_SNAPSHOT_TYPE) &&
	    check_subjects(json_object_get(root, "files")) == 0)
		rc = 0;
	json_decref(root);
	return (rc);
}

static int
sign_build(const struct signer_key *key, const struct mvm_sign_req *sr,
    const uint8_t *body, struct sigmsg *m)
{
	struct mvm_sign_checkpoint	 ck;
	struct record_fields		 rf;
	char				 why[128];

	memset(m, 0, sizeof(*m));
	switch (sr->sr_kind) {
	case MVM_SIGN_AUDIT_RECORD:
		if (record_check((const char *)body, sr->sr_len, 0, &rf, why,
		    sizeof(why)) == -1) {
			log_warnx("audit record refused: %s", why);
			return (-1);
		}
		if (rf.rf_kid != key->keyid) {
			log_warnx("audit record refused: key id mismatch");
			return (-1);
		}
		return (sigmsg_audit(m, body, sr->sr_len));
	case MVM_SIGN_CHECKPOINT:
		if (sr->sr_len != sizeof(ck))
			return (-1);
		memcpy(&ck, body, sizeof(ck));
		if (memchr(ck.ck_origin, '\0', sizeof(ck.ck_origin)) == NULL)
			return (-1);
		return (sigmsg_note(m, ck.ck_origin, ck.ck_size, ck.ck_root));
	case MVM_SIGN_RECEIPT:
		if (sign_check_receipt(body, sr->sr_len) == -1) {
			log_warnx("receipt statement refused");
			return (-1);
		}
		return (sigmsg_pae(m, MVM_DSSE_TYPE, body, sr->sr_len));
	case MVM_SIGN_SNAPSHOT:
		if (sign_check_snapshot(body, sr->sr_len) == -1) {
			log_warnx("snapshot manifest refused");
			return (-1);
		}
		return (sigmsg_snapshot(m, body, sr->sr_len));
	}
	return (-1);
}

/*
 * Answer one request.  The kind was checked to be known by the caller;
 * allowed is the requesting peer's mask.  On any refusal the reply
 * carries an error code and an all-zero signature.
 */
void
sign_request(const struct signer_key *key, uint32_t allowed,
    const struct mvm_sign_req *sr, const uint8_t *body,
    struct mvm_sign_res *res)
{
	struct sigmsg	 m;

	memset(res, 0, sizeof(*res));
	res->ss_id = sr->sr_id;
	res->ss_kind = sr->sr_kind;
	res->ss_keyid = key->keyid;
	if ((allowed & SIGN_ALLOW(sr->sr_kind)) == 0) {
		log_warnx("signing kind %u not allowed from this peer",
		    sr->sr_kind);
		res->ss_error = MVM_ESIGNKIND;
		return;
	}
	if (sign_build(key, sr, body, &m) == -1) {
		res->ss_error = MVM_ESIGNCONTENT;
		return;
	}
	if (sodium_mprotect_readonly(key->sk) == -1)
		fatal("sodium_mprotect_readonly");
	if (crypto_sign_detached(res->ss_sig, NULL, m.sm_buf, m.sm_len,
	    key->sk) != 0)
		fatalx("crypto_sign_detached");
	if (sodium_mprotect_noaccess(key->sk) == -1)
		fatal("sodium_mprotect_noaccess");
	sigmsg_free(&m);
}
