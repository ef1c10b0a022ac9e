/*
 * receiptverify: the offline receipt verifier (see receiptverify.h).
 *
 * The envelope and the statement are parsed with jansson, duplicates
 * refused; json_t never leaves this file.  Strings from the receipt
 * that go into a detail message are cut short and stripped of anything
 * but printable ASCII first: the detail ends up on a terminal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "agentproto.h"
#include "auditverify.h"
#include "crypto.h"
#include "merkle.h"
#include "note.h"
#include "receiptverify.h"
#include "record.h"
#include "sigmsg.h"

#define RV_SIG_B64_MAX	1024		/* one signature, as base64 */
#define RV_PAE_TYPE_MAX	200		/* sigmsg_pae's header holds this */
#define RV_SAFE_MAX	64		/* receipt text quoted in a detail */
#define RV_READ_CHUNK	65536
#define RV_STDOUT	0
#define RV_STDERR	1

/* member types the predicate check knows */
enum {
	T_OBJ, T_STR, T_INT, T_INTNULL, T_BOOL, T_HEX8, T_RUNID, T_HEX64,
	T_TIME, T_STRARR, T_TOKEN, T_TENANT, T_ORIGIN, T_KEYNAME, T_MODE,
	T_SHAREMODE
};

/* what the predicate must hold (receipt.h); parents before children */
static const struct rv_member {
	const char	*m_path;
	int		 m_type;
} rv_members[] = {
	{ "run_id",				T_RUNID },
	{ "guest",				T_TOKEN },
	{ "invocation",				T_OBJ },
	{ "invocation.argv_sha256",		T_HEX64 },
	{ "invocation.argc",			T_INT },
	{ "invocation.env_keys",		T_STRARR },
	{ "invocation.image",			T_OBJ },
	{ "invocation.image.name",		T_STR },
	{ "invocation.image.kernel_sha256",	T_HEX64 },
	{ "invocation.image.initramfs_sha256",	T_HEX64 },
	{ "invocation.profile",			T_STR },
	{ "invocation.cpus",			T_INT },
	{ "invocation.memory_mib",		T_INT },
	{ "invocation.timeout_s",		T_INT },
	{ "invocation.mode",			T_MODE },
	{ "outcome",				T_OBJ },
	{ "outcome.exit_code",			T_INTNULL },
	{ "outcome.signal",			T_INTNULL },
	{ "outcome.timed_out",			T_BOOL },
	{ "outcome.stdout_truncated",		T_BOOL },
	{ "outcome.stderr_truncated",		T_BOOL },
	{ "timing",				T_OBJ },
	{ "timing.started",			T_TIME },
	{ "timing.ended",			T_TIME },
	{ "timing.boot_ms",			T_INT },
	{ "timing.run_ms",			T_INT },
	{ "backend",				T_OBJ },
	{ "backend.name",			T_STR },
	{ "backend.accel",			T_STR },
	{ "backend.qemu",			T_STR },
	{ "backend.agent",			T_STR },
	{ "backend.guest_kernel",		T_STR },
	{ "signer",				T_OBJ },
	{ "signer.key_id",			T_HEX8 },
	{ "signer.key_name",			T_KEYNAME },
	{ "audit",				T_OBJ },
	{ "audit.tenant",			T_TENANT },
	{ "audit.origin",			T_ORIGIN },
	{ "audit.index",			T_INT },
	{ "audit.record",			T_STR },
	{ "audit.leaf_sha256",			T_HEX64 },
	{ "audit.checkpoint",			T_STR },
	{ "audit.inclusion",			T_STRARR },
};

static const char *const rv_stream[2] = { "stdout", "stderr" };

struct rv_ctx {
	const struct receipt_verify_opts *o;
	struct receipt_verify_result	*r;
	int				 error;		/* no verdict */
	json_t				*env;
	json_t				*st;		/* the statement */
	json_t				*pred;
	json_t				*rec;		/* the record */
	const char			*ptype;
	uint8_t				*payload;
	size_t				 paylen;
	uint8_t				 dig[2][MVM_SHA256_LEN];
	int64_t				 bytes[2];
	const char			*record;
	size_t				 reclen;
	struct record_fields		 rf;
	uint8_t				 leaf[MERKLE_HASH_LEN];
	uint32_t			 keyid;
	struct checkpoint		 ck;		/* the receipt's */
	struct checkpoint		 nk;		/* a newer one */
};

static int	 rv_fail(struct rv_ctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 rv_error(struct rv_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static const char *rv_safe(const char *, char *, size_t);
static json_t	*rv_get(json_t *, const char *);
static const char *rv_str(json_t *, const char *);
static int	 rv_type_ok(json_t *, int);
static int	 rv_envelope(struct rv_ctx *, const uint8_t *, size_t);
static int	 rv_sigs_shape(struct rv_ctx *, json_t *);
static int	 rv_signature(struct rv_ctx *);
static int	 rv_payloadtype(struct rv_ctx *);
static int	 rv_predicate(struct rv_ctx *);
static int	 rv_members_ok(struct rv_ctx *);
static int	 rv_add_dirs(struct rv_ctx *);
static int	 rv_claims(struct rv_ctx *, json_t *, const char *);
static json_t	*rv_share_member(json_t *, int, size_t, const char *);
static int	 rv_egress(struct rv_ctx *);
static int	 rv_uid(struct rv_ctx *);
static int	 rv_subjects(struct rv_ctx *);
static void	 rv_summary(struct rv_ctx *);
static int	 rv_hash_fd(int, uint8_t *, int64_t *);
static int	 rv_subject(struct rv_ctx *);
static int	 rv_record(struct rv_ctx *);
static int	 rv_record_sig(struct rv_ctx *);
static int	 rv_same_int(json_t *, json_t *);
static int	 rv_outcome(struct rv_ctx *, json_t *);
static int	 rv_digests(struct rv_ctx *, json_t *);
static int	 rv_binding(struct rv_ctx *);
static int	 rv_checkpoint(struct rv_ctx *);
static int	 rv_inclusion(struct rv_ctx *);
static int	 rv_newer(struct rv_ctx *);
static int	 rv_newer_note(struct rv_ctx *, const char *, size_t);
static int	 rv_by_proof(struct rv_ctx *, const struct proof *);
static int	 rv_by_log(struct rv_ctx *);
static int	 rv_log_check(struct rv_ctx *,
		    const struct audit_verify_result *);

/* A verdict: the first failure. */
static int
rv_fail(struct rv_ctx *cx, int class, const char *fmt, ...)
{
	va_list	 ap;

	cx->r->rvr_class = class;
	va_start(ap, fmt);
	(void)vsnprintf(cx->r->rvr_detail, sizeof(cx->r->rvr_detail), fmt, ap);
	va_end(ap);
	return (-1);
}

/* No verdict can be reached. */
static int
rv_error(struct rv_ctx *cx, const char *fmt, ...)
{
	va_list	 ap;

	cx->error = 1;
	va_start(ap, fmt);
	(void)vsnprintf(cx->r->rvr_detail, sizeof(cx->r->rvr_detail), fmt, ap);
	va_end(ap);
	return (-1);
}

/* Printable ASCII only, at most RV_SAFE_MAX bytes, for a message. */
static const char *
rv_safe(const char *s, char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < RV_SAFE_MAX; i++)
		buf[i] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return (buf);
}

/* The member at a dotted path ("audit.index"), or NULL. */
static json_t *
rv_get(json_t *o, const char *path)
{
	const char	*dot;
	char		 key[64];
	size_t		 n;

	while (o != NULL && (dot = strchr(path, '.')) != NULL) {
		n = dot - path;
		if (n >= sizeof(key))
			return (NULL);
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return (json_object_get(o, path));
}

static const char *
rv_str(json_t *o, const char *path)
{
	return (json_string_value(rv_get(o, path)));
}

static int
/* NOLINTNEXTLINE(misc-no-recursion): once, T_INTNULL to T_INT */
rv_type_ok(json_t *v, int type)
{
	const char	*s = json_string_value(v);
	json_t		*e;
	size_t		 i;

	switch (type) {
	case T_OBJ:
		return (json_is_object(v));
	case T_STR:
		return (s != NULL);
	case T_INT:
		return (json_is_integer(v) && json_integer_value(v) >= 0);
	case T_INTNULL:
		return (json_is_null(v) || rv_type_ok(v, T_INT));
	case T_BOOL:
		return (json_is_boolean(v));
	case T_HEX8:
		return (s != NULL && is_hex(s, 8));
	case T_RUNID:
		return (s != NULL && is_hex(s, RECEIPT_RUNID_LEN));
	case T_HEX64:
		return (s != NULL && is_hex(s, 64));
	case T_TIME:
		return (s != NULL && record_time_ok(s));
	case T_STRARR:
		if (!json_is_array(v))
			return (0);
		json_array_foreach(v, i, e)
			if (!json_is_string(e))
				return (0);
		return (1);
	case T_TOKEN:
		return (s != NULL && record_token_ok(s));
	case T_TENANT:
		return (s != NULL && tenant_valid(s));
	case T_ORIGIN:
		return (s != NULL && origin_valid(s));
	case T_KEYNAME:
		return (s != NULL && key_name_valid(s));
	case T_MODE:
		return (s != NULL && (strcmp(s, "run") == 0 ||
		    strcmp(s, "exec") == 0));
	case T_SHAREMODE:
		return (s != NULL && (strcmp(s, "ro") == 0 ||
		    strcmp(s, "rw") == 0));
	}
	return (0);
}

/* ------------------------------------------------------------------ */
/* envelope, signature, payloadType */

static int
rv_envelope(struct rv_ctx *cx, const uint8_t *env, size_t len)
{
	json_error_t	 je;
	json_t		*p, *t, *sigs;
	const char	*s;
	size_t		 slen;

	if (len > RECEIPT_MAX)
		return (rv_fail(cx, RV_ENVELOPE, "%zu bytes, more than the "
		    "%d a receipt may have", len, RECEIPT_MAX));
	cx->env = json_loadb((const char *)env, len, JSON_REJECT_DUPLICATES,
	    &je);
	if (cx->env == NULL)
		return (rv_fail(cx, RV_ENVELOPE, "not JSON: %d:%d: %s",
		    je.line, je.column, je.text));
	p = json_object_get(cx->env, "payload");
	t = json_object_get(cx->env, "payloadType");
	sigs = json_object_get(cx->env, "signatures");
	if (!json_is_object(cx->env) || json_object_size(cx->env) != 3 ||
	    !json_is_string(p) || !json_is_string(t) || !json_is_array(sigs))
		return (rv_fail(cx, RV_ENVELOPE, "not a DSSE envelope: want "
		    "exactly the strings payload and payloadType and the "
		    "array signatures"));
	cx->ptype = json_string_value(t);
	s = json_string_value(p);
	slen = json_string_length(p);
	if ((cx->payload = malloc(slen / 4 * 3 + 3)) == NULL)
		return (rv_error(cx, "out of memory"));
	if (b64_decode(s, slen, cx->payload, slen / 4 * 3 + 3,
	    &cx->paylen) == -1)
		return (rv_fail(cx, RV_ENVELOPE, "payload is not canonical "
		    "standard base64"));
	return (rv_sigs_shape(cx, sigs));
}

/* A non-empty array of {"keyid": string, "sig": base64}. */
static int
rv_sigs_shape(struct rv_ctx *cx, json_t *sigs)
{
	uint8_t	 sig[RV_SIG_B64_MAX];
	json_t	*e, *k, *v;
	size_t	 i, n;

	if (json_array_size(sigs) == 0)
		return (rv_fail(cx, RV_ENVELOPE, "signatures is empty"));
	json_array_foreach(sigs, i, e) {
		k = json_object_get(e, "keyid");
		v = json_object_get(e, "sig");
		if (!json_is_object(e) || json_object_size(e) != 2 ||
		    !json_is_string(k) || !json_is_string(v))
			return (rv_fail(cx, RV_ENVELOPE, "signatures[%zu] is "
			    "not an object of exactly the strings keyid and "
			    "sig", i));
		if (json_string_length(v) > RV_SIG_B64_MAX ||
		    b64_decode(json_string_value(v), json_string_length(v),
		    sig, sizeof(sig), &n) == -1)
			return (rv_fail(cx, RV_ENVELOPE, "signatures[%zu].sig "
			    "is not canonical standard base64", i));
	}
	return (0);
}

/* Any signature by the key over PAE(payloadType, payload). */
static int
rv_signature(struct rv_ctx *cx)
{
	struct sigmsg	 m;
	uint8_t		 sig[RV_SIG_B64_MAX];
	json_t		*sigs, *e, *v;
	size_t		 i, n;
	int		 ok = 0;

	if (strlen(cx->ptype) > RV_PAE_TYPE_MAX)
		return (rv_fail(cx, RV_SIGNATURE, "payloadType is too long "
		    "for any signature to cover it"));
	if (sigmsg_pae(&m, cx->ptype, cx->payload, cx->paylen) == -1)
		return (rv_error(cx, "out of memory"));
	sigs = json_object_get(cx->env, "signatures");
	json_array_foreach(sigs, i, e) {
		v = json_object_get(e, "sig");
		if (b64_decode(json_string_value(v), json_string_length(v),
		    sig, sizeof(sig), &n) == 0 && n == MVM_SIG_LEN &&
		    crypto_sign_verify_detached(sig, m.sm_buf, m.sm_len,
		    cx->o->rvo_pk) == 0) {
			ok = 1;
			break;
		}
	}
	sigmsg_free(&m);
	if (!ok && cx->r->rvr_keyname[0] != '\0')
		return (rv_fail(cx, RV_SIGNATURE, "no signature (of %zu) "
		    "verifies with key %s (%s)", json_array_size(sigs),
		    cx->r->rvr_keyname, cx->r->rvr_keyid));
	if (!ok)
		return (rv_fail(cx, RV_SIGNATURE, "no signature (of %zu) "
		    "verifies with the given key", json_array_size(sigs)));
	return (0);
}

static int
rv_payloadtype(struct rv_ctx *cx)
{
	char	 safe[RV_SAFE_MAX + 1];

	if (strcmp(cx->ptype, MVM_DSSE_TYPE) != 0)
		return (rv_fail(cx, RV_PAYLOADTYPE, "payloadType is \"%s\", "
		    "not " MVM_DSSE_TYPE, rv_safe(cx->ptype, safe,
		    sizeof(safe))));
	return (0);
}

/* ------------------------------------------------------------------ */
/* the statement */

static int
rv_predicate(struct rv_ctx *cx)
{
	json_error_t	 je;
	json_t		*v;

	cx->st = json_loadb((const char *)cx->payload, cx->paylen,
	    JSON_REJECT_DUPLICATES, &je);
	if (cx->st == NULL)
		return (rv_fail(cx, RV_PREDICATE, "the statement is not JSON: "
		    "%d:%d: %s", je.line, je.column, je.text));
	if (!json_is_object(cx->st) || rv_str(cx->st, "_type") == NULL ||
	    strcmp(rv_str(cx->st, "_type"), MVM_INTOTO_STATEMENT) != 0)
		return (rv_fail(cx, RV_PREDICATE, "_type is not "
		    MVM_INTOTO_STATEMENT));
	if (rv_str(cx->st, "predicateType") == NULL ||
	    strcmp(rv_str(cx->st, "predicateType"), RECEIPT_PREDICATE) != 0)
		return (rv_fail(cx, RV_PREDICATE, "predicateType is not "
		    RECEIPT_PREDICATE));
	cx->pred = json_object_get(cx->st, "predicate");
	v = json_object_get(cx->pred, "version");
	if (!json_is_object(cx->pred) || !json_is_integer(v) ||
	    json_integer_value(v) != RECEIPT_VERSION)
		return (rv_fail(cx, RV_PREDICATE, "predicate.version is not "
		    "%d", RECEIPT_VERSION));
	if (rv_members_ok(cx) == -1 || rv_add_dirs(cx) == -1 ||
	    rv_egress(cx) == -1 || rv_uid(cx) == -1 ||
	    rv_subjects(cx) == -1)
		return (-1);
	rv_summary(cx);
	return (0);
}

static int
rv_members_ok(struct rv_ctx *cx)
{
	size_t	 i;

	for (i = 0; i < sizeof(rv_members) / sizeof(rv_members[0]); i++)
		if (!rv_type_ok(rv_get(cx->pred, rv_members[i].m_path),
		    rv_members[i].m_type))
			return (rv_fail(cx, RV_PREDICATE, "predicate.%s is "
			    "missing or malformed", rv_members[i].m_path));
	return (0);
}

/*
 * A share's member; the host path's tag is host_path_sha256 in receipts
 * from before it was keyed (mvm-receipt(5)).
 */
static json_t *
rv_share_member(json_t *e, int k, size_t j, const char *name)
{
	json_t	*v = json_object_get(e, name);

	if (v == NULL && k == 0 && j == 2)
		v = json_object_get(e, "host_path_sha256");
	return (v);
}

/*
 * Host shares: only in receipts of commands that had them (and not in
 * those of versions before them), so optional; if there, arrays of
 * objects with the members mvm-receipt(5) lists.
 */
static int
rv_add_dirs(struct rv_ctx *cx)
{
	static const struct rv_member	 in[] = {
		{ "guest_path",		T_TOKEN },
		{ "mode",		T_SHAREMODE },
		{ "host_path_tag",	T_HEX64 },	/* or _sha256 */
		{ "files",		T_INT },
		{ "bytes",		T_INT },
	}, back[] = {
		{ "guest_path",		T_TOKEN },
		{ "files",		T_INT },
		{ "bytes",		T_INT },
		{ "skipped",		T_INT },
		{ "stream_sha256",	T_HEX64 },
	};
	static const char *const	 where[2] = { "invocation.add_dirs",
					    "outcome.add_dirs" };
	const struct rv_member		*m;
	json_t				*a, *e;
	size_t				 i, j;
	int				 k;

	for (k = 0; k < 2; k++) {
		if ((a = rv_get(cx->pred, where[k])) == NULL)
			continue;
		if (!json_is_array(a))
			return (rv_fail(cx, RV_PREDICATE, "predicate.%s is not "
			    "an array", where[k]));
		m = k == 0 ? in : back;
		json_array_foreach(a, i, e)
			for (j = 0; j < 5; j++)
				if (!rv_type_ok(rv_share_member(e, k, j,
				    m[j].m_path), m[j].m_type))
					return (rv_fail(cx, RV_PREDICATE,
					    "predicate.%s[%zu].%s is missing or "
					    "malformed", where[k], i,
					    m[j].m_path));
	}
	return (0);
}

/*
 * Egress grants: only in receipts of commands whose guest had some, so
 * optional; if there, an array of {"host": token, "port": 1..65535}.
 */
static int
rv_egress(struct rv_ctx *cx)
{
	json_t	*a, *e, *p;
	size_t	 i;

	if ((a = rv_get(cx->pred, "invocation.egress")) == NULL)
		return (0);
	if (!json_is_array(a))
		return (rv_fail(cx, RV_PREDICATE, "predicate.invocation.egress "
		    "is not an array"));
	json_array_foreach(a, i, e) {
		p = json_object_get(e, "port");
		if (!rv_type_ok(json_object_get(e, "host"), T_TOKEN) ||
		    !json_is_integer(p) || json_integer_value(p) < 1 ||
		    json_integer_value(p) > 65535)
			return (rv_fail(cx, RV_PREDICATE, "predicate.invocation."
			    "egress[%zu] is not {host, port}", i));
	}
	return (0);
}

/*
 * The guest user the command ran as: not in receipts made before
 * commands ran as users, so optional; if there, a guest uid
 * (agentproto.h), and the record says the same (rv_binding).
 */
static int
rv_uid(struct rv_ctx *cx)
{
	json_t	*u;

	if ((u = rv_get(cx->pred, "invocation.uid")) == NULL)
		return (0);
	if (!json_is_integer(u) || json_integer_value(u) < 0 ||
	    !ap_uid_ok(json_integer_value(u)))
		return (rv_fail(cx, RV_PREDICATE, "predicate.invocation.uid "
		    "is not a guest user's"));
	return (0);
}

/*
 * subject: exactly stdout and stderr, each {"name", "digest":
 * {"sha256": hex}, "annotations": {"bytes": N}} (other members and
 * digests are allowed: in-toto has room for them).
 */
static int
rv_subjects(struct rv_ctx *cx)
{
	json_t		*subj, *e, *d, *b;
	const char	*name;
	size_t		 i;
	int		 w, seen = 0;

	subj = json_object_get(cx->st, "subject");
	if (!json_is_array(subj) || json_array_size(subj) != 2)
		return (rv_fail(cx, RV_PREDICATE, "subject is not an array of "
		    "two: stdout and stderr"));
	json_array_foreach(subj, i, e) {
		name = rv_str(e, "name");
		w = name == NULL ? -1 : strcmp(name, "stdout") == 0 ?
		    RV_STDOUT : strcmp(name, "stderr") == 0 ? RV_STDERR : -1;
		if (w == -1 || (seen & (1 << w)))
			return (rv_fail(cx, RV_PREDICATE, "subject[%zu] is not "
			    "the one stdout or stderr", i));
		seen |= 1 << w;
		d = rv_get(e, "digest.sha256");
		b = rv_get(e, "annotations.bytes");
		if (!rv_type_ok(d, T_HEX64) || !rv_type_ok(b, T_INT))
			return (rv_fail(cx, RV_PREDICATE, "subject %s: want "
			    "digest.sha256 in hex and annotations.bytes",
			    rv_stream[w]));
		(void)hex_decode(json_string_value(d), cx->dig[w],
		    MVM_SHA256_LEN);
		cx->bytes[w] = json_integer_value(b);
	}
	return (0);
}

/* What the receipt says, for the caller; and the key's name and id. */
static void
rv_summary(struct rv_ctx *cx)
{
	struct receipt_verify_result	*r = cx->r;
	json_t				*code, *sig;

	(void)strlcpy(r->rvr_run_id, rv_str(cx->pred, "run_id"),
	    sizeof(r->rvr_run_id));
	code = rv_get(cx->pred, "outcome.exit_code");
	sig = rv_get(cx->pred, "outcome.signal");
	r->rvr_have_outcome = 1;
	r->rvr_have_code = json_is_integer(code);
	r->rvr_code = json_integer_value(code);
	r->rvr_have_signal = json_is_integer(sig);
	r->rvr_signal = json_integer_value(sig);
	r->rvr_timed_out = json_is_true(rv_get(cx->pred, "outcome.timed_out"));
	(void)strlcpy(r->rvr_tenant, rv_str(cx->pred, "audit.tenant"),
	    sizeof(r->rvr_tenant));
	r->rvr_have_index = 1;
	r->rvr_index = json_integer_value(rv_get(cx->pred, "audit.index"));
	/* a verifier key names itself; otherwise the signed statement does */
	if (r->rvr_keyname[0] == '\0')
		(void)strlcpy(r->rvr_keyname, rv_str(cx->pred,
		    "signer.key_name"), sizeof(r->rvr_keyname));
	cx->keyid = key_id(r->rvr_keyname, cx->o->rvo_pk);
	key_id_hex(cx->keyid, r->rvr_keyid);
}

/* ------------------------------------------------------------------ */
/* subject files */

static int
rv_hash_fd(int fd, uint8_t *out, int64_t *np)
{
	crypto_hash_sha256_state	 st;
	uint8_t				*buf;
	ssize_t				 n;

	if ((buf = malloc(RV_READ_CHUNK)) == NULL)
		return (-1);
	crypto_hash_sha256_init(&st);
	*np = 0;
	for (;;) {
		if ((n = read(fd, buf, RV_READ_CHUNK)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		crypto_hash_sha256_update(&st, buf, n);
		*np += n;
	}
	free(buf);
	crypto_hash_sha256_final(&st, out);
	return (n == 0 ? 0 : -1);
}

static int
rv_subject(struct rv_ctx *cx)
{
	uint8_t	 h[MVM_SHA256_LEN];
	char	 got[MVM_SHA256_HEX], want[MVM_SHA256_HEX];
	int64_t	 n;
	int	 w, fd;

	for (w = RV_STDOUT; w <= RV_STDERR; w++) {
		fd = w == RV_STDOUT ? cx->o->rvo_stdout_fd :
		    cx->o->rvo_stderr_fd;
		if (fd == -1)
			continue;
		if (rv_hash_fd(fd, h, &n) == -1)
			return (rv_error(cx, "reading the %s file: %s",
			    rv_stream[w], strerror(errno)));
		if (n != cx->bytes[w])
			return (rv_fail(cx, RV_SUBJECT, "%s: the file has %lld "
			    "bytes, the receipt says %lld", rv_stream[w],
			    (long long)n, (long long)cx->bytes[w]));
		if (sodium_memcmp(h, cx->dig[w], sizeof(h)) != 0) {
			hex_encode(h, sizeof(h), got);
			hex_encode(cx->dig[w], sizeof(h), want);
			return (rv_fail(cx, RV_SUBJECT, "%s: the file's "
			    "SHA-256 is %s, the receipt says %s",
			    rv_stream[w], got, want));
		}
	}
	return (0);
}

/* ------------------------------------------------------------------ */
/* binding: the statement and its audit record */

/* audit.record: a signed run.exited record of the same key. */
static int
rv_record(struct rv_ctx *cx)
{
	struct record_fields	*rf = &cx->rf;
	char			 why[128], kid[9];
	uint8_t			 leaf[MERKLE_HASH_LEN];
	json_t			*rec;

	rec = rv_get(cx->pred, "audit.record");
	cx->record = json_string_value(rec);
	cx->reclen = json_string_length(rec);
	if (record_check(cx->record, cx->reclen, REC_WITH_SIG, rf, why,
	    sizeof(why)) == -1)
		return (rv_fail(cx, RV_BINDING, "audit.record is not a signed "
		    "audit record: %s", why));
	if (strcmp(rf->rf_type, "run.exited") != 0)
		return (rv_fail(cx, RV_BINDING, "audit.record is a %s record, "
		    "not run.exited", rf->rf_type));
	if (strcmp(rv_str(cx->pred, "signer.key_id"), cx->r->rvr_keyid) != 0 ||
	    strcmp(rv_str(cx->pred, "signer.key_name"),
	    cx->r->rvr_keyname) != 0)
		return (rv_fail(cx, RV_BINDING, "predicate.signer is not the "
		    "verifying key %s (%s)", cx->r->rvr_keyname,
		    cx->r->rvr_keyid));
	key_id_hex(rf->rf_kid, kid);
	if (rf->rf_kid != cx->keyid)
		return (rv_fail(cx, RV_BINDING, "the record is by key %s, not "
		    "%s", kid, cx->r->rvr_keyid));
	merkle_leaf_hash(cx->record, cx->reclen, cx->leaf);
	(void)hex_decode(rv_str(cx->pred, "audit.leaf_sha256"), leaf,
	    sizeof(leaf));
	if (memcmp(leaf, cx->leaf, sizeof(leaf)) != 0)
		return (rv_fail(cx, RV_BINDING, "audit.leaf_sha256 is not the "
		    "record's leaf hash"));
	if ((uint64_t)rf->rf_seq != cx->r->rvr_index)
		return (rv_fail(cx, RV_BINDING, "the record is seq %lld, "
		    "audit.index says %llu", (long long)rf->rf_seq,
		    (unsigned long long)cx->r->rvr_index));
	if (strcmp(rf->rf_tenant, cx->r->rvr_tenant) != 0)
		return (rv_fail(cx, RV_BINDING, "the record is tenant %s's, "
		    "audit.tenant says %s", rf->rf_tenant, cx->r->rvr_tenant));
	return (rv_record_sig(cx));
}

/* The record's signature: over its unsigned form, by the key. */
static int
rv_record_sig(struct rv_ctx *cx)
{
	struct sigmsg	 m;
	char		*text;
	size_t		 s, e;
	int		 ok;

	if (record_unsigned(cx->record, cx->reclen, &s, &e) == -1)
		return (rv_fail(cx, RV_BINDING, "the record has no signature"));
	if ((text = malloc(cx->reclen)) == NULL)
		return (rv_error(cx, "out of memory"));
	memcpy(text, cx->record, s);
	memcpy(text + s, cx->record + e, cx->reclen - e);
	if (sigmsg_audit(&m, (uint8_t *)text, cx->reclen - (e - s)) == -1) {
		free(text);
		return (rv_error(cx, "out of memory"));
	}
	ok = crypto_sign_verify_detached(cx->rf.rf_sig, m.sm_buf, m.sm_len,
	    cx->o->rvo_pk) == 0;
	sigmsg_free(&m);
	free(text);
	if (!ok)
		return (rv_fail(cx, RV_BINDING, "the record's signature does "
		    "not verify with key %s", cx->r->rvr_keyid));
	return (0);
}

/* Both absent or null, or the same integer. */
static int
rv_same_int(json_t *a, json_t *b)
{
	if (!json_is_integer(a) || !json_is_integer(b))
		return (!json_is_integer(a) && !json_is_integer(b));
	return (json_integer_value(a) == json_integer_value(b));
}

/* outcome: code, signal, timed_out and truncation, against labels. */
static int
rv_outcome(struct rv_ctx *cx, json_t *lab)
{
	const char	*what = rv_str(lab, "outcome");
	json_t		*out = json_object_get(cx->pred, "outcome");
	int		 trunc, rtrunc;

	if (what == NULL)
		return (rv_fail(cx, RV_BINDING, "the record has no outcome"));
	if (!rv_same_int(json_object_get(out, "exit_code"),
	    json_object_get(lab, "code")))
		return (rv_fail(cx, RV_BINDING, "outcome.exit_code is not the "
		    "record's code"));
	if (!rv_same_int(json_object_get(out, "signal"),
	    json_object_get(lab, "signal")))
		return (rv_fail(cx, RV_BINDING, "outcome.signal is not the "
		    "record's signal"));
	if (json_is_true(json_object_get(out, "timed_out")) !=
	    (strcmp(what, "timeout") == 0))
		return (rv_fail(cx, RV_BINDING, "outcome.timed_out does not "
		    "match the record's outcome %s", what));
	trunc = json_is_true(json_object_get(out, "stdout_truncated")) ||
	    json_is_true(json_object_get(out, "stderr_truncated"));
	rtrunc = rv_str(lab, "truncated") != NULL &&
	    strcmp(rv_str(lab, "truncated"), "yes") == 0;
	if (trunc != rtrunc)
		return (rv_fail(cx, RV_BINDING, "outcome.*_truncated does not "
		    "match the record's truncated label"));
	return (rv_claims(cx, out, rv_str(lab, "guest_claims")));
}

/*
 * outcome.guest_claims (what the guest said and the host did not see)
 * and the record's guest_claims label: both absent, or the same names
 * in the same order, the label joined with ':'.
 */
static int
rv_claims(struct rv_ctx *cx, json_t *out, const char *rec)
{
	json_t		*a = json_object_get(out, "guest_claims"), *e;
	char		 buf[128];
	size_t		 i;

	buf[0] = '\0';
	if (a != NULL && (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > 3))
		return (rv_fail(cx, RV_PREDICATE, "outcome.guest_claims is "
		    "malformed"));
	json_array_foreach(a, i, e) {
		if (!json_is_string(e) || (strcmp(json_string_value(e),
		    "timed_out") != 0 && strcmp(json_string_value(e),
		    "stdout_truncated") != 0 && strcmp(json_string_value(e),
		    "stderr_truncated") != 0))
			return (rv_fail(cx, RV_PREDICATE, "outcome.guest_"
			    "claims[%zu] is not a claim", i));
		if (i > 0)
			(void)strlcat(buf, ":", sizeof(buf));
		(void)strlcat(buf, json_string_value(e), sizeof(buf));
	}
	if (strcmp(buf, rec != NULL ? rec : "") != 0)
		return (rv_fail(cx, RV_BINDING, "outcome.guest_claims does not "
		    "match the record's guest_claims label"));
	return (0);
}

/* The subjects' byte counts and digests, against labels. */
static int
rv_digests(struct rv_ctx *cx, json_t *lab)
{
	char		 key[32], hex[MVM_SHA256_HEX];
	const char	*rh;
	json_t		*rb;
	int		 w;

	for (w = RV_STDOUT; w <= RV_STDERR; w++) {
		(void)snprintf(key, sizeof(key), "%s_bytes", rv_stream[w]);
		rb = json_object_get(lab, key);
		if (!json_is_integer(rb) || json_integer_value(rb) !=
		    cx->bytes[w])
			return (rv_fail(cx, RV_BINDING, "subject %s: %lld "
			    "bytes, the record's %s is not that",
			    rv_stream[w], (long long)cx->bytes[w], key));
		(void)snprintf(key, sizeof(key), "%s_sha256", rv_stream[w]);
		rh = rv_str(lab, key);
		hex_encode(cx->dig[w], MVM_SHA256_LEN, hex);
		if (rh == NULL || strcmp(rh, hex) != 0)
			return (rv_fail(cx, RV_BINDING, "subject %s: its "
			    "digest is not the record's %s", rv_stream[w],
			    key));
	}
	return (0);
}

static int
rv_binding(struct rv_ctx *cx)
{
	json_t	*lab;

	if (rv_record(cx) == -1)
		return (-1);
	/* canonical (record_check), so any JSON parser reads it alike */
	if ((cx->rec = json_loadb(cx->record, cx->reclen, 0, NULL)) == NULL)
		return (rv_error(cx, "out of memory"));
	if (rv_str(cx->rec, "subject.run") == NULL ||
	    strcmp(rv_str(cx->rec, "subject.run"), cx->r->rvr_run_id) != 0)
		return (rv_fail(cx, RV_BINDING, "the record is not about run "
		    "%s", cx->r->rvr_run_id));
	if (rv_str(cx->rec, "subject.guest") == NULL ||
	    strcmp(rv_str(cx->rec, "subject.guest"),
	    rv_str(cx->pred, "guest")) != 0)
		return (rv_fail(cx, RV_BINDING, "the record is not about guest "
		    "%s", rv_str(cx->pred, "guest")));
	lab = json_object_get(cx->rec, "labels");
	if (rv_outcome(cx, lab) == -1 || rv_digests(cx, lab) == -1)
		return (-1);
	if (!rv_same_int(rv_get(cx->pred, "invocation.uid"),
	    json_object_get(lab, "guest_uid")))
		return (rv_fail(cx, RV_BINDING, "invocation.uid is not the "
		    "record's guest_uid"));
	return (0);
}

/* ------------------------------------------------------------------ */
/* checkpoint and inclusion */

static int
rv_checkpoint(struct rv_ctx *cx)
{
	const char	*text = rv_str(cx->pred, "audit.checkpoint");
	const char	*origin = rv_str(cx->pred, "audit.origin");
	size_t		 len = strlen(text), used;

	if (note_parse(text, len, &cx->ck, &used) == -1 || used != len)
		return (rv_fail(cx, RV_CHECKPOINT, "audit.checkpoint is not "
		    "one signed note"));
	if (note_verify(text, len, cx->o->rvo_pk, &cx->ck, NULL) == -1)
		return (rv_fail(cx, RV_CHECKPOINT, "the checkpoint is not "
		    "signed by key %s (%s)", cx->r->rvr_keyname,
		    cx->r->rvr_keyid));
	/* note_verify binds the name only through the 4-byte id */
	if (strcmp(cx->ck.ck_keyname, cx->r->rvr_keyname) != 0)
		return (rv_fail(cx, RV_CHECKPOINT, "the checkpoint is signed "
		    "under the name %s, not %s", cx->ck.ck_keyname,
		    cx->r->rvr_keyname));
	if (strcmp(cx->ck.ck_origin, origin) != 0)
		return (rv_fail(cx, RV_CHECKPOINT, "the checkpoint is for %s, "
		    "audit.origin says %s", cx->ck.ck_origin, origin));
	if (!audit_origin_tenant(origin, cx->r->rvr_tenant))
		return (rv_fail(cx, RV_CHECKPOINT, "origin %s is not tenant "
		    "%s's log", origin, cx->r->rvr_tenant));
	cx->r->rvr_have_ckpt = 1;
	cx->r->rvr_ckpt_size = cx->ck.ck_size;
	return (0);
}

static int
rv_inclusion(struct rv_ctx *cx)
{
	uint8_t		(*h)[MERKLE_HASH_LEN];
	json_t		*proof, *e;
	uint64_t	 index = cx->r->rvr_index;
	size_t		 i, n;
	int		 rc;

	if (index >= cx->ck.ck_size)
		return (rv_fail(cx, RV_INCLUSION, "audit.index %llu is not "
		    "below the checkpoint's size %llu",
		    (unsigned long long)index,
		    (unsigned long long)cx->ck.ck_size));
	proof = rv_get(cx->pred, "audit.inclusion");
	if (json_array_size(proof) > MERKLE_PROOF_MAX)
		return (rv_fail(cx, RV_INCLUSION, "the inclusion proof has "
		    "more than %d hashes", MERKLE_PROOF_MAX));
	if ((h = calloc(json_array_size(proof) + 1, sizeof(*h))) == NULL)
		return (rv_error(cx, "out of memory"));
	json_array_foreach(proof, i, e)
		if (b64_decode(json_string_value(e), json_string_length(e),
		    h[i], MERKLE_HASH_LEN, &n) == -1 || n != MERKLE_HASH_LEN) {
			free(h);
			return (rv_fail(cx, RV_INCLUSION,
			    "audit.inclusion[%zu] is not a base64 SHA-256 "
			    "hash", i));
		}
	rc = merkle_verify_inclusion(cx->leaf, index, cx->ck.ck_size,
	    (const uint8_t (*)[MERKLE_HASH_LEN])h, json_array_size(proof),
	    cx->ck.ck_root);
	free(h);
	if (rc != 0)
		return (rv_fail(cx, RV_INCLUSION, "the inclusion proof does "
		    "not put the record at index %llu of the checkpoint's tree "
		    "(size %llu)", (unsigned long long)index,
		    (unsigned long long)cx->ck.ck_size));
	return (0);
}

/* ------------------------------------------------------------------ */
/* a newer checkpoint: the log still holds the run */

static int
rv_newer(struct rv_ctx *cx)
{
	const struct receipt_verify_opts	*o = cx->o;
	struct proof				*pf = NULL;
	int					 rc;

	if (o->rvo_newer == NULL && o->rvo_proof == NULL)
		return (0);
	if (o->rvo_proof != NULL) {
		if ((pf = calloc(1, sizeof(*pf))) == NULL)
			return (rv_error(cx, "out of memory"));
		if (proof_parse(o->rvo_proof, o->rvo_prooflen, pf) == -1 ||
		    pf->pf_kind != PROOF_CONSISTENCY) {
			free(pf);
			return (rv_fail(cx, RV_NOTINLOG, "the proof is not a "
			    "consistency proof"));
		}
	}
	if (o->rvo_newer != NULL)
		rc = rv_newer_note(cx, o->rvo_newer, o->rvo_newerlen);
	else
		rc = rv_newer_note(cx, pf->pf_note, pf->pf_notelen);
	if (rc == 0)
		rc = pf != NULL ? rv_by_proof(cx, pf) : rv_by_log(cx);
	free(pf);
	return (rc);
}

/* Signed by the key, the same log, no smaller. */
static int
rv_newer_note(struct rv_ctx *cx, const char *text, size_t len)
{
	struct checkpoint	*nk = &cx->nk;
	size_t			 used;

	if (note_verify(text, len, cx->o->rvo_pk, nk, &used) == -1 ||
	    used != len || strcmp(nk->ck_keyname, cx->r->rvr_keyname) != 0)
		return (rv_fail(cx, RV_NOTINLOG, "the newer checkpoint is not "
		    "one note signed by key %s (%s)", cx->r->rvr_keyname,
		    cx->r->rvr_keyid));
	if (strcmp(nk->ck_origin, cx->ck.ck_origin) != 0)
		return (rv_fail(cx, RV_NOTINLOG, "the newer checkpoint is for "
		    "%s, the receipt's for %s", nk->ck_origin,
		    cx->ck.ck_origin));
	if (nk->ck_size < cx->ck.ck_size)
		return (rv_fail(cx, RV_NOTINLOG, "the newer checkpoint (size "
		    "%llu) is older than the receipt's (size %llu)",
		    (unsigned long long)nk->ck_size,
		    (unsigned long long)cx->ck.ck_size));
	cx->r->rvr_have_newer = 1;
	cx->r->rvr_newer_size = nk->ck_size;
	return (0);
}

/* A consistency proof from the receipt's checkpoint to the newer one. */
static int
rv_by_proof(struct rv_ctx *cx, const struct proof *pf)
{
	struct checkpoint	 pk;

	if (note_verify(pf->pf_note, pf->pf_notelen, cx->o->rvo_pk, &pk,
	    NULL) == -1 || strcmp(pk.ck_origin, cx->nk.ck_origin) != 0 ||
	    pk.ck_size != cx->nk.ck_size ||
	    memcmp(pk.ck_root, cx->nk.ck_root, MERKLE_HASH_LEN) != 0)
		return (rv_fail(cx, RV_NOTINLOG, "the proof is not about the "
		    "newer checkpoint (size %llu)",
		    (unsigned long long)cx->nk.ck_size));
	if (pf->pf_old_size != cx->ck.ck_size)
		return (rv_fail(cx, RV_NOTINLOG, "the proof starts at size "
		    "%llu, the receipt's checkpoint is size %llu",
		    (unsigned long long)pf->pf_old_size,
		    (unsigned long long)cx->ck.ck_size));
	if (merkle_verify_consistency(cx->ck.ck_size, cx->nk.ck_size,
	    cx->ck.ck_root, cx->nk.ck_root, pf->pf_hash, pf->pf_nhash) != 0)
		return (rv_fail(cx, RV_NOTINLOG, "the newer checkpoint (size "
		    "%llu) is not shown to extend the receipt's (size %llu)",
		    (unsigned long long)cx->nk.ck_size,
		    (unsigned long long)cx->ck.ck_size));
	return (0);
}

/* The tenant's log: it extends both checkpoints and holds the record. */
static int
rv_by_log(struct rv_ctx *cx)
{
	const struct receipt_verify_opts	*o = cx->o;
	struct audit_verify_opts		 ao;
	struct audit_verify_result		 ar;
	struct receipt_log			 rl;
	int					 rc;

	memset(&rl, 0, sizeof(rl));
	if (o->rvo_log_get == NULL ||
	    o->rvo_log_get(o->rvo_log_arg, cx->r->rvr_tenant, &rl) == -1)
		return (rv_error(cx, "a newer checkpoint needs a consistency "
		    "proof (mvmctl audit prove --since-size %llu) or tenant "
		    "%s's audit log to be read",
		    (unsigned long long)cx->ck.ck_size, cx->r->rvr_tenant));
	memset(&ao, 0, sizeof(ao));
	ao.avo_pk = o->rvo_pk;
	ao.avo_keyname = cx->r->rvr_keyname;
	ao.avo_tenant = cx->r->rvr_tenant;
	ao.avo_since = &cx->nk;
	ao.avo_threads = o->rvo_threads;
	if (audit_verify(rl.rl_log, rl.rl_loglen, rl.rl_ckpts, rl.rl_ckptslen,
	    &ao, &ar) == -1)
		rc = rv_error(cx, "the audit log: %s", ar.avr_detail);
	else
		rc = rv_log_check(cx, &ar);
	audit_verify_free(&ar);
	if (o->rvo_log_put != NULL)
		o->rvo_log_put(o->rvo_log_arg, &rl);
	return (rc);
}

static int
rv_log_check(struct rv_ctx *cx, const struct audit_verify_result *ar)
{
	uint8_t		 h[MERKLE_HASH_LEN];
	uint64_t	 index = cx->r->rvr_index;

	if (ar->avr_class != AV_OK)
		return (rv_fail(cx, RV_NOTINLOG, "the audit log does not "
		    "verify up to the newer checkpoint: %s: %s",
		    audit_class_name(ar->avr_class), ar->avr_detail));
	if (merkle_leaf(&ar->avr_tree, index, h) == -1 ||
	    memcmp(h, cx->leaf, sizeof(h)) != 0)
		return (rv_fail(cx, RV_NOTINLOG, "record %llu of the audit "
		    "log is not the receipt's record",
		    (unsigned long long)index));
	if (merkle_root(&ar->avr_tree, cx->ck.ck_size, h) == -1 ||
	    memcmp(h, cx->ck.ck_root, sizeof(h)) != 0)
		return (rv_fail(cx, RV_NOTINLOG, "the audit log's first %llu "
		    "records are not those the receipt's checkpoint signed",
		    (unsigned long long)cx->ck.ck_size));
	return (0);
}

/* ------------------------------------------------------------------ */

int
receipt_verify(const uint8_t *env, size_t len,
    const struct receipt_verify_opts *o, struct receipt_verify_result *r)
{
	struct rv_ctx	 cx;

	memset(r, 0, sizeof(*r));
	memset(&cx, 0, sizeof(cx));
	cx.o = o;
	cx.r = r;
	if (o->rvo_keyname != NULL && o->rvo_keyname[0] != '\0') {
		(void)strlcpy(r->rvr_keyname, o->rvo_keyname,
		    sizeof(r->rvr_keyname));
		key_id_hex(key_id(r->rvr_keyname, o->rvo_pk), r->rvr_keyid);
	}
	r->rvr_class = RV_OK;
	if (rv_envelope(&cx, env, len) == 0 &&
	    rv_signature(&cx) == 0 &&
	    rv_payloadtype(&cx) == 0 &&
	    rv_predicate(&cx) == 0 &&
	    rv_subject(&cx) == 0 &&
	    rv_binding(&cx) == 0 &&
	    rv_checkpoint(&cx) == 0 &&
	    rv_inclusion(&cx) == 0 &&
	    rv_newer(&cx) == 0)
		r->rvr_detail[0] = '\0';
	json_decref(cx.rec);
	json_decref(cx.st);
	json_decref(cx.env);
	free(cx.payload);
	return (cx.error ? -1 : 0);
}

const char *
receipt_class_name(int c)
{
	switch (c) {
	case RV_OK:		return ("ok");
	case RV_ENVELOPE:	return ("envelope");
	case RV_SIGNATURE:	return ("signature");
	case RV_PAYLOADTYPE:	return ("payload-type");
	case RV_PREDICATE:	return ("predicate");
	case RV_SUBJECT:	return ("subject");
	case RV_BINDING:	return ("binding");
	case RV_INCLUSION:	return ("inclusion");
	case RV_CHECKPOINT:	return ("checkpoint");
	case RV_NOTINLOG:	return ("not-in-log");
	}
	return ("unknown");
}

char *
receipt_envelope(const uint8_t *stmt, size_t len, const char *type,
    uint32_t keyid, const uint8_t sig[MVM_SIG_LEN])
{
	char	*payload, *out = NULL, kid[9], sb64[MVM_B64_LEN(MVM_SIG_LEN)];
	json_t	*o;

	if ((payload = malloc(MVM_B64_LEN(len))) == NULL)
		return (NULL);
	b64_encode(stmt, len, payload, MVM_B64_LEN(len));
	b64_encode(sig, MVM_SIG_LEN, sb64, sizeof(sb64));
	key_id_hex(keyid, kid);
	o = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payload", payload,
	    "payloadType", type, "signatures", "keyid", kid, "sig", sb64);
	if (o != NULL)
		out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	free(payload);
	return (out);
}
