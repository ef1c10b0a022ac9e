/*
 * Run receipts: the golden envelope (the RFC 8032 section 7.1 test 1
 * key and a fixed statement, the one mvm-receiptgen makes with that
 * key), its PAE, and receipt_verify on it and on one change per check,
 * each signed again so that only that check can fail.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "merkle.h"
#include "note.h"
#include "receiptverify.h"
#include "sigmsg.h"
#include "tap.h"

#define GOLDEN		"regress/unit/receipt-golden.json"
#define KEYNAME		"mvm-rfc8032"
#define STDOUT_TEXT	"hello from the guest\n"

/* RFC 8032 section 7.1, test 1 */
static const char rfc_seed[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/* mvm-receiptgen's statement for that key (named KEYNAME), as signed */
static const char golden_stmt[] =
    "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicate\":{\""
    "audit\":{\"checkpoint\":\"receiptgen.test/mvm-audit/local\\n6\\n"
    "7/3zCMSgWiOCTluiwxL5hfqLSR4YvA0rzY56SN3c2mo=\\n\\n\xe2"
    "\x80"
    "\x94"
    " mvm-rfc8032 t4ON3Bh5Qe9hJq+dzezaa54UFUogPbvrK2tiEkaxc5bkgxdwm/c"
    "UWITIsiuYiBq50TAQdZs9xPeDz8lVFihGNSyv1As=\\n\",\"inclusion\":[\""
    "Tochhrm41JmFkJoFQyU17PJHp2Bm1oSI0HrMsL1jXTo=\",\"TVQo9YqxFkupuAR"
    "VYwaRGUhUhjgxlJCP2ZHZACbhRGI=\",\"v0goBHQrZ8Fdx58I+vdkO4/S/ch1So"
    "5dWxz2AZQ7aHM=\"],\"index\":3,\"leaf_sha256\":\"2273ca39d3bedf63"
    "426e3a6261be3c6105b6a6b06ee35ca5cae73a47fc3a9751\",\"origin\":\""
    "receiptgen.test/mvm-audit/local\",\"record\":\"{\\\"kid\\\":\\\""
    "b7838ddc\\\",\\\"labels\\\":{\\\"code\\\":0,\\\"outcome\\\":\\\""
    "exited\\\",\\\"run_ms\\\":1043,\\\"stderr_bytes\\\":23,\\\"stder"
    "r_sha256\\\":\\\"6a61f6a67f0eaed4b47b57a8eab8952702d0ff7a091ae8e"
    "68d4e0863312f46be\\\",\\\"stdout_bytes\\\":21,\\\"stdout_sha256"
    "\\\":\\\"bc886aa5f5cc69bdfe91cece1843ac922e6454d1b807d9bad251a12"
    "30529ad41\\\"},\\\"prev\\\":\\\"c72eed716accdf688452790b71c6b750"
    "f703c68368fdbf66fb6565f36abaf47b\\\",\\\"seq\\\":3,\\\"sig\\\":"
    "\\\"bu2DEhSTTYqQwp0380xYUOiZdLMTWyhll3t+r7nff8q8i2g0n7vPdKS2KBvX"
    "28fj90Wvx91zbJC5U/eYU73XAg==\\\",\\\"subject\\\":{\\\"guest\\\":"
    "\\\"g1\\\",\\\"run\\\":\\\"7844e7186098037f8fa3e921fe4cd5bd\\\"}"
    ",\\\"tenant\\\":\\\"local\\\",\\\"time\\\":\\\"2026-11-23T10:00:"
    "01.793Z\\\",\\\"type\\\":\\\"run.exited\\\"}\",\"tenant\":\"loca"
    "l\"},\"backend\":{\"accel\":\"kvm\",\"agent\":\"mvm-agent 0.1.0"
    "\",\"guest_kernel\":\"6.1.0-28-amd64\",\"name\":\"qemu-microvm\""
    ",\"qemu\":\"7.2.22\"},\"guest\":\"g1\",\"invocation\":{\"argc\":"
    "3,\"argv_sha256\":\"ff4be20c3a4e90126e43a88139a92e366055adb71aad"
    "91cbfba229803414c58b\",\"cpus\":1,\"env_keys\":[\"HOME\",\"PATH"
    "\"],\"image\":{\"initramfs_sha256\":\"e0acc1d0cc6aa5eaa884d6e7c8"
    "7a88762bc9afc34fbdf84f262808c3f824cbc6\",\"kernel_sha256\":\"412"
    "5c1f619fcb5ee891ed7102d9856b096dc5c74e16378586973526f14587cec\","
    "\"name\":\"default\"},\"memory_mib\":256,\"mode\":\"run\",\"prof"
    "ile\":\"standard\",\"timeout_s\":30},\"outcome\":{\"exit_code\":"
    "0,\"signal\":null,\"stderr_truncated\":false,\"stdout_truncated"
    "\":false,\"timed_out\":false},\"run_id\":\"7844e7186098037f8fa3e"
    "921fe4cd5bd\",\"signer\":{\"key_id\":\"b7838ddc\",\"key_name\":"
    "\"mvm-rfc8032\"},\"timing\":{\"boot_ms\":412,\"ended\":\"2026-11"
    "-23T10:00:01.793Z\",\"run_ms\":1043,\"started\":\"2026-11-23T10:"
    "00:00.500Z\"},\"version\":1},\"predicateType\":\"urn:mvm:predica"
    "te:run-receipt:v1\",\"subject\":[{\"annotations\":{\"bytes\":21}"
    ",\"digest\":{\"sha256\":\"bc886aa5f5cc69bdfe91cece1843ac922e6454"
    "d1b807d9bad251a1230529ad41\"},\"name\":\"stdout\"},{\"annotation"
    "s\":{\"bytes\":23},\"digest\":{\"sha256\":\"6a61f6a67f0eaed4b47b"
    "57a8eab8952702d0ff7a091ae8e68d4e0863312f46be\"},\"name\":\"stder"
    "r\"}]}";

static uint8_t		 rfc_seed_bin[32];

struct key {
	char		 k_name[MVM_KEYNAME_MAX];
	uint8_t		 k_pk[32];
	uint8_t		 k_sk[64];
	uint32_t	 k_id;
};

static struct key	 rfc, other;

static char	*fmt(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	 key_make(struct key *, const char *, const uint8_t *);
static char	*envelope(const char *, size_t, const char *,
		    const struct key *);
static int	 verify(const char *, const char *);
static int	 verify_opts(const char *, struct receipt_verify_opts *,
		    struct receipt_verify_result *);
static json_t	*stmt_load(void);
static void	 jset(json_t *, const char *, json_t *);
static int	 stmt_check(json_t *);
static int	 change(const char *, json_t *);
static char	*note_make(const struct key *, const char *, uint64_t,
		    const uint8_t *);
static char	*golden_read(size_t *);
static int	 fd_with(const char *);
#define HEX64	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
static void	 test_golden(void);
static void	 test_envelope(void);
static void	 test_signature(void);
static void	 test_predicate(void);
static void	 test_subject(void);
static void	 test_binding(void);
static void	 test_checkpoint(void);
static void	 test_newer(void);

static char *
fmt(const char *f, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) == -1)
		abort();
	va_end(ap);
	return (s);
}

static void
key_make(struct key *k, const char *name, const uint8_t *seed)
{
	crypto_sign_seed_keypair(k->k_pk, k->k_sk, seed);
	(void)snprintf(k->k_name, sizeof(k->k_name), "%s", name);
	k->k_id = key_id(name, k->k_pk);
}

/* The envelope of stmt, signed by k over PAE(type, stmt). */
static char *
envelope(const char *stmt, size_t len, const char *type, const struct key *k)
{
	struct sigmsg	 m;
	uint8_t		 sig[64];
	char		*env;

	if (sigmsg_pae(&m, type, (const uint8_t *)stmt, len) == -1)
		abort();
	crypto_sign_detached(sig, NULL, m.sm_buf, m.sm_len, k->k_sk);
	sigmsg_free(&m);
	if ((env = receipt_envelope((const uint8_t *)stmt, len, type, k->k_id,
	    sig)) == NULL)
		abort();
	return (env);
}

static int
verify_opts(const char *env, struct receipt_verify_opts *o,
    struct receipt_verify_result *r)
{
	if (receipt_verify((const uint8_t *)env, strlen(env), o, r) == -1)
		return (-1);
	return (r->rvr_class);
}

/* The class for an envelope, with the RFC key and its name. */
static int
verify(const char *env, const char *keyname)
{
	struct receipt_verify_opts	 o;
	struct receipt_verify_result	 r;

	memset(&o, 0, sizeof(o));
	o.rvo_pk = rfc.k_pk;
	o.rvo_keyname = keyname;
	o.rvo_stdout_fd = o.rvo_stderr_fd = -1;
	return (verify_opts(env, &o, &r));
}

static json_t *
stmt_load(void)
{
	json_t	*st;

	if ((st = json_loads(golden_stmt, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL)
		abort();
	return (st);
}

/* Set (or with v NULL delete) the member at a dotted path; numbers
 * index arrays. */
static void
jset(json_t *root, const char *path, json_t *v)
{
	char	 buf[128], *p, *dot;
	json_t	*o = root;

	(void)snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; (dot = strchr(p, '.')) != NULL; p = dot + 1) {
		*dot = '\0';
		o = json_is_array(o) ? json_array_get(o, atoi(p)) :
		    json_object_get(o, p);
	}
	if (json_is_array(o) && v == NULL)
		(void)json_array_remove(o, atoi(p));
	else if (json_is_array(o))
		(void)json_array_set_new(o, atoi(p), v);
	else if (v == NULL)
		(void)json_object_del(o, p);
	else
		(void)json_object_set_new(o, p, v);
}

/* The class of a statement, signed as the supervisor would sign it. */
static int
stmt_check(json_t *st)
{
	char	*s, *env;
	int	 c;

	if ((s = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		abort();
	env = envelope(s, strlen(s), MVM_DSSE_TYPE, &rfc);
	c = verify(env, KEYNAME);
	free(env);
	free(s);
	json_decref(st);
	return (c);
}

static int
change(const char *path, json_t *v)
{
	json_t	*st = stmt_load();

	jset(st, path, v);
	return (stmt_check(st));
}

/* A checkpoint note by k (under name) for size and root. */
static char *
note_make(const struct key *k, const char *origin, uint64_t size,
    const uint8_t *root)
{
	struct checkpoint	 ck;
	struct sigmsg		 m;
	char			 note[NOTE_MAX];

	memset(&ck, 0, sizeof(ck));
	(void)snprintf(ck.ck_origin, sizeof(ck.ck_origin), "%s", origin);
	ck.ck_size = size;
	memcpy(ck.ck_root, root, 32);
	if (sigmsg_note(&m, origin, size, root) == -1)
		abort();
	crypto_sign_detached(ck.ck_sig, NULL, m.sm_buf, m.sm_len, k->k_sk);
	sigmsg_free(&m);
	(void)snprintf(ck.ck_keyname, sizeof(ck.ck_keyname), "%s", k->k_name);
	ck.ck_keyid = key_id(k->k_name, k->k_pk);
	if (note_format(&ck, note, sizeof(note)) == -1)
		abort();
	return (strdup(note));
}

static char *
golden_read(size_t *lenp)
{
	const char	*top = getenv("MVM_TOP");
	char		 path[1024], *buf;
	FILE		*f;
	long		 n;

	(void)snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".",
	    GOLDEN);
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 || (buf = calloc(1, n + 1)) == NULL ||
	    fread(buf, 1, n, f) != (size_t)n)
		abort();
	fclose(f);
	*lenp = n;
	return (buf);
}

/* A read fd holding text. */
static int
fd_with(const char *text)
{
	FILE	*f;
	int	 fd;

	if ((f = tmpfile()) == NULL || fputs(text, f) == EOF ||
	    fflush(f) == EOF || (fd = dup(fileno(f))) == -1)
		abort();
	fclose(f);
	if (lseek(fd, 0, SEEK_SET) == -1)
		abort();
	return (fd);
}

static void
test_golden(void)
{
	struct receipt_verify_opts	 o;
	struct receipt_verify_result	 r;
	struct sigmsg			 m;
	char				*e1, *e2, *g, head[80];
	size_t				 len = strlen(golden_stmt), glen = 0;
	int				 n;

	sigmsg_pae(&m, MVM_DSSE_TYPE, (const uint8_t *)golden_stmt, len);
	n = snprintf(head, sizeof(head), "DSSEv1 28 application/vnd.in-toto"
	    "+json %zu ", len);
	TAP_OK(m.sm_len == (size_t)n + len && memcmp(m.sm_buf, head, n) == 0 &&
	    memcmp(m.sm_buf + n, golden_stmt, len) == 0,
	    "PAE: \"%s\" and the statement", head);
	sigmsg_free(&m);
	e1 = envelope(golden_stmt, len, MVM_DSSE_TYPE, &rfc);
	e2 = envelope(golden_stmt, len, MVM_DSSE_TYPE, &rfc);
	TAP_OK(strcmp(e1, e2) == 0, "signing twice gives the same bytes");
	g = golden_read(&glen);
	TAP_OK(g != NULL && glen == strlen(e1) + 1 && g[glen - 1] == '\n' &&
	    memcmp(g, e1, glen - 1) == 0,
	    "the envelope is byte for byte " GOLDEN);
	TAP_OK(strncmp(e1, "{\"payload\":\"", 12) == 0 &&
	    strstr(e1, "\",\"payloadType\":\"" MVM_DSSE_TYPE "\","
	    "\"signatures\":[{\"keyid\":\"b7838ddc\",\"sig\":\"") != NULL,
	    "envelope members in order, key id of the RFC key");

	memset(&o, 0, sizeof(o));
	o.rvo_pk = rfc.k_pk;
	o.rvo_keyname = KEYNAME;
	o.rvo_stdout_fd = o.rvo_stderr_fd = -1;
	TAP_OK(g != NULL && verify_opts(g, &o, &r) == RV_OK &&
	    strcmp(r.rvr_run_id, "7844e7186098037f8fa3e921fe4cd5bd") == 0 &&
	    r.rvr_have_code && r.rvr_code == 0 && !r.rvr_have_signal &&
	    !r.rvr_timed_out && strcmp(r.rvr_keyid, "b7838ddc") == 0 &&
	    r.rvr_index == 3 && r.rvr_ckpt_size == 6 &&
	    strcmp(r.rvr_tenant, "local") == 0,
	    "receipt_verify accepts the golden receipt: run, exit 0, key, "
	    "index 3, checkpoint size 6");
	o.rvo_keyname = NULL;
	TAP_OK(g != NULL && verify_opts(g, &o, &r) == RV_OK &&
	    strcmp(r.rvr_keyname, KEYNAME) == 0,
	    "a raw key (no name): the name comes from the signed statement");
	free(e1);
	free(e2);
	free(g);
}

static void
test_envelope(void)
{
	char	*env, *big, *s, *p;
	size_t	 len;

	env = envelope(golden_stmt, strlen(golden_stmt), MVM_DSSE_TYPE, &rfc);
	len = strlen(env);
	TAP_OK(verify("{", KEYNAME) == RV_ENVELOPE, "not JSON: envelope");
	TAP_OK(verify("[]", KEYNAME) == RV_ENVELOPE, "an array: envelope");
	s = fmt("%s x", env);
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE, "trailing bytes: envelope");
	free(s);
	s = fmt("{\"payloadType\":\"x\",%s", env + 1);
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE,
	    "a duplicate member: envelope");
	free(s);
	s = fmt("{\"extra\":1,%s", env + 1);
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE, "a fourth member: envelope");
	free(s);
	s = strdup(env);
	p = strstr(s, "=\",\"payloadType\"");
	memmove(p, p + 1, strlen(p));
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE,
	    "payload base64 without its padding: envelope");
	free(s);
	s = strdup(env);
	strstr(s, "\"payload\":\"")[12] = '*';
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE,
	    "payload not base64: envelope");
	free(s);
	s = fmt("%.*s[]}", (int)(strstr(env, "[") - env), env);
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE,
	    "no signatures: envelope");
	free(s);
	s = fmt("%.*s[{\"keyid\":\"x\",\"sig\":\"AAAA\",\"x\":1}]}",
	    (int)(strstr(env, "[") - env), env);
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE,
	    "a signature with a third member: envelope");
	free(s);
	s = fmt("%.*s[{\"keyid\":\"x\",\"sig\":\"AA\"}]}",
	    (int)(strstr(env, "[") - env), env);
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE,
	    "a signature that is not base64: envelope");
	free(s);
	s = fmt("%.*s[{\"sig\":\"AAAA\"}]}",
	    (int)(strstr(env, "[") - env), env);
	TAP_OK(verify(s, KEYNAME) == RV_ENVELOPE,
	    "a signature without keyid: envelope");
	free(s);
	if ((big = malloc(RECEIPT_MAX + 2)) == NULL)
		abort();
	memset(big, ' ', RECEIPT_MAX + 1);
	memcpy(big, env, len);
	big[RECEIPT_MAX + 1] = '\0';
	TAP_OK(verify(big, KEYNAME) == RV_ENVELOPE,
	    "%d bytes (white space after it): envelope", RECEIPT_MAX + 1);
	big[RECEIPT_MAX] = '\0';
	TAP_OK(verify(big, KEYNAME) == RV_OK, "%d bytes: fine", RECEIPT_MAX);
	free(big);
	free(env);
}

static void
test_signature(void)
{
	char	*good, *bad, *s, *a, *b, *p;
	size_t	 len = strlen(golden_stmt);

	bad = envelope(golden_stmt, len, MVM_DSSE_TYPE, &other);
	TAP_OK(verify(bad, KEYNAME) == RV_SIGNATURE,
	    "signed by another key: signature");
	good = envelope(golden_stmt, len, MVM_DSSE_TYPE, &rfc);
	/* two signatures: the other key's first, then the host's */
	a = strstr(bad, "[") + 1;
	b = strstr(good, "[") + 1;
	s = fmt("%.*s%.*s,%s", (int)(b - good), good,
	    (int)(strlen(a) - 2), a, b);
	TAP_OK(verify(s, KEYNAME) == RV_OK,
	    "two signatures, the second by the key: ok");
	free(s);
	s = strdup(good);
	strstr(s, "\"sig\":\"")[8] ^= 1;	/* another base64 letter */
	TAP_OK(verify(s, KEYNAME) == RV_SIGNATURE,
	    "a signature changed: signature");
	free(s);
	s = fmt("%.*s[{\"keyid\":\"b7838ddc\",\"sig\":\"AAAA\"}]}",
	    (int)(strstr(good, "[") - good), good);
	TAP_OK(verify(s, KEYNAME) == RV_SIGNATURE,
	    "a 3-byte signature: signature (not a shape error)");
	free(s);
	s = strdup(good);
	strstr(s, "\"keyid\":\"")[9] = 'f';
	TAP_OK(verify(s, KEYNAME) == RV_OK,
	    "another keyid on the signature: ok (a hint only)");
	free(s);
	s = strdup(good);
	p = strstr(s, "\"payload\":\"") + 11 + 20;
	*p = *p == 'A' ? 'B' : 'A';
	TAP_OK(verify(s, KEYNAME) == RV_SIGNATURE,
	    "the payload changed: signature");
	free(s);
	s = envelope(golden_stmt, len, "application/json", &rfc);
	TAP_OK(verify(s, KEYNAME) == RV_PAYLOADTYPE,
	    "payloadType application/json, signed over it: payload-type");
	free(s);
	free(bad);
	free(good);
}

static void
test_predicate(void)
{
	char	*s;

	TAP_OK(change("_type", json_string("https://in-toto.io/Statement/"
	    "v0.1")) == RV_PREDICATE, "_type Statement/v0.1: predicate");
	TAP_OK(change("predicateType", json_string("https://slsa.dev/"
	    "provenance/v1")) == RV_PREDICATE,
	    "another predicateType: predicate");
	TAP_OK(change("predicate.version", json_integer(2)) == RV_PREDICATE,
	    "predicate.version 2: predicate");
	TAP_OK(change("predicate.version", json_real(1.0)) == RV_PREDICATE,
	    "predicate.version 1.0: predicate");
	TAP_OK(change("predicate.timing.boot_ms", NULL) == RV_PREDICATE,
	    "predicate.timing.boot_ms missing: predicate");
	TAP_OK(change("predicate.outcome.timed_out", json_string("no")) ==
	    RV_PREDICATE, "outcome.timed_out a string: predicate");
	TAP_OK(change("predicate.run_id", json_string("run-1")) ==
	    RV_PREDICATE, "run_id not 32 hex: predicate");
	TAP_OK(change("predicate.audit.inclusion", json_string("x")) ==
	    RV_PREDICATE, "audit.inclusion not an array: predicate");
	TAP_OK(change("subject.1.name", json_string("stdout")) == RV_PREDICATE,
	    "stdout twice in subject: predicate");
	TAP_OK(change("subject.1", NULL) == RV_PREDICATE,
	    "stderr missing from subject: predicate");
	TAP_OK(change("predicate.extra", json_true()) == RV_OK,
	    "a member the format does not name: ok");
	TAP_OK(change("predicate.invocation.add_dirs", json_pack("[{s:s, s:s, "
	    "s:s, s:i, s:i}]", "guest_path", "/work", "mode", "rw",
	    "host_path_tag", HEX64, "files", 3, "bytes", 10)) == RV_OK,
	    "invocation.add_dirs well formed: ok");
	TAP_OK(change("predicate.invocation.add_dirs", json_pack("[{s:s, s:s, "
	    "s:s, s:i, s:i}]", "guest_path", "/work", "mode", "rw",
	    "host_path_sha256", HEX64, "files", 3, "bytes", 10)) == RV_OK,
	    "invocation.add_dirs of an older receipt (host_path_sha256): ok");
	TAP_OK(change("predicate.invocation.add_dirs", json_pack("[{s:s, s:s, "
	    "s:i, s:i}]", "guest_path", "/work", "mode", "rw",
	    "files", 3, "bytes", 10)) == RV_PREDICATE,
	    "invocation.add_dirs without the host path's tag: predicate");
	TAP_OK(change("predicate.invocation.add_dirs", json_pack("[{s:s, s:s, "
	    "s:s, s:i, s:i}]", "guest_path", "/home/u/src", "mode", "rwx",
	    "host_path_sha256", HEX64, "files", 3, "bytes", 10)) ==
	    RV_PREDICATE, "invocation.add_dirs with a bad mode: predicate");
	TAP_OK(change("predicate.invocation.add_dirs", json_pack("[{s:s, s:s, "
	    "s:s, s:i, s:i}]", "guest_path", "/w", "mode", "ro",
	    "host_path_sha256", "/home/u/src", "files", 3, "bytes", 10)) ==
	    RV_PREDICATE, "invocation.add_dirs with a host path instead of "
	    "its digest: predicate");
	TAP_OK(change("predicate.outcome.add_dirs", json_pack("[{s:s, s:i, "
	    "s:i, s:i, s:s}]", "guest_path", "/w", "files", 1, "bytes", 2,
	    "skipped", 0, "stream_sha256", HEX64)) == RV_OK,
	    "outcome.add_dirs well formed: ok");
	TAP_OK(change("predicate.outcome.add_dirs", json_pack("[{s:s, s:i, "
	    "s:i, s:s}]", "guest_path", "/w", "files", 1, "bytes", 2,
	    "stream_sha256", HEX64)) == RV_PREDICATE,
	    "outcome.add_dirs without skipped: predicate");
	TAP_OK(change("predicate.outcome.add_dirs", json_string("none")) ==
	    RV_PREDICATE, "outcome.add_dirs not an array: predicate");
	TAP_OK(change("predicate.invocation.egress", json_pack("[{s:s, s:i}]",
	    "host", "registry.npmjs.org", "port", 443)) == RV_OK,
	    "invocation.egress well formed: ok");
	TAP_OK(change("predicate.invocation.egress", json_pack("[{s:s, s:i}]",
	    "host", "a.example", "port", 0)) == RV_PREDICATE,
	    "invocation.egress with port 0: predicate");
	TAP_OK(change("predicate.invocation.egress", json_pack("[{s:s, s:i}]",
	    "host", "bad host", "port", 80)) == RV_PREDICATE,
	    "invocation.egress with a host that is not a token: predicate");
	TAP_OK(change("predicate.invocation.egress", json_object()) ==
	    RV_PREDICATE, "invocation.egress not an array: predicate");
	s = envelope("hello", 5, MVM_DSSE_TYPE, &rfc);
	TAP_OK(verify(s, KEYNAME) == RV_PREDICATE,
	    "a statement that is not JSON: predicate");
	free(s);
}

static void
test_subject(void)
{
	struct receipt_verify_opts	 o;
	struct receipt_verify_result	 r;
	char				*env;

	env = envelope(golden_stmt, strlen(golden_stmt), MVM_DSSE_TYPE, &rfc);
	memset(&o, 0, sizeof(o));
	o.rvo_pk = rfc.k_pk;
	o.rvo_keyname = KEYNAME;
	o.rvo_stderr_fd = -1;
	o.rvo_stdout_fd = fd_with(STDOUT_TEXT);
	TAP_OK(verify_opts(env, &o, &r) == RV_OK, "the run's stdout: ok");
	close(o.rvo_stdout_fd);
	o.rvo_stdout_fd = fd_with("hello from the guesT\n");
	TAP_OK(verify_opts(env, &o, &r) == RV_SUBJECT,
	    "another stdout of the same length: subject");
	close(o.rvo_stdout_fd);
	o.rvo_stdout_fd = -1;
	o.rvo_stderr_fd = fd_with("");
	TAP_OK(verify_opts(env, &o, &r) == RV_SUBJECT &&
	    strstr(r.rvr_detail, "0 bytes") != NULL,
	    "an empty stderr: subject (%s)", r.rvr_detail);
	close(o.rvo_stderr_fd);
	free(env);
}

static void
test_binding(void)
{
	json_t		*st;
	char		*rec, hex[65], *p;
	uint8_t		 h[32];

	TAP_OK(change("predicate.outcome.exit_code", json_integer(1)) ==
	    RV_BINDING, "exit_code 1 (the record says 0): binding");
	TAP_OK(change("predicate.outcome.exit_code", json_null()) ==
	    RV_BINDING, "exit_code null: binding");
	TAP_OK(change("predicate.outcome.signal", json_integer(9)) ==
	    RV_BINDING, "signal 9: binding");
	TAP_OK(change("predicate.outcome.timed_out", json_true()) ==
	    RV_BINDING, "timed_out: binding");
	TAP_OK(change("predicate.outcome.stderr_truncated", json_true()) ==
	    RV_BINDING, "stderr_truncated: binding");
	TAP_OK(change("predicate.run_id", json_string("00000000000000000000"
	    "000000000000")) == RV_BINDING, "another run id: binding");
	TAP_OK(change("predicate.guest", json_string("g2")) == RV_BINDING,
	    "another guest: binding");
	TAP_OK(change("predicate.audit.index", json_integer(2)) == RV_BINDING,
	    "audit.index 2 (the record is seq 3): binding");
	TAP_OK(change("predicate.audit.tenant", json_string("other")) ==
	    RV_BINDING, "another tenant: binding");
	TAP_OK(change("predicate.audit.leaf_sha256", json_string("0000000000"
	    "000000000000000000000000000000000000000000000000000000")) ==
	    RV_BINDING, "another leaf hash: binding");
	TAP_OK(change("predicate.signer.key_id", json_string("00000000")) ==
	    RV_BINDING, "signer.key_id not the key's: binding");
	TAP_OK(change("subject.0.annotations.bytes", json_integer(22)) ==
	    RV_BINDING, "stdout 22 bytes (the record says 21): binding");
	TAP_OK(change("subject.1.digest.sha256", json_string("aaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")) ==
	    RV_BINDING, "another stderr digest: binding");
	TAP_OK(change("predicate.audit.record", json_string("{}")) ==
	    RV_BINDING, "a record that is not one: binding");

	/* the record edited and its leaf hash made to match: signature */
	st = stmt_load();
	rec = strdup(json_string_value(json_object_get(json_object_get(
	    json_object_get(st, "predicate"), "audit"), "record")));
	p = strstr(rec, "\"run_ms\":1043");
	p[12] = '4';
	merkle_leaf_hash(rec, strlen(rec), h);
	hex_encode(h, sizeof(h), hex);
	jset(st, "predicate.audit.record", json_string(rec));
	jset(st, "predicate.audit.leaf_sha256", json_string(hex));
	TAP_OK(stmt_check(st) == RV_BINDING,
	    "the record edited, leaf hash to match: binding (its signature)");
	free(rec);
}

static void
test_checkpoint(void)
{
	struct checkpoint	 ck;
	struct key		 imp;
	json_t			*st;
	uint8_t			 zero[32];
	char			*note;
	const char		*text;

	st = stmt_load();
	text = json_string_value(json_object_get(json_object_get(
	    json_object_get(st, "predicate"), "audit"), "checkpoint"));
	if (note_parse(text, strlen(text), &ck, NULL) == -1)
		abort();
	json_decref(st);
	memset(zero, 0, sizeof(zero));

	note = note_make(&other, ck.ck_origin, ck.ck_size, ck.ck_root);
	TAP_OK(change("predicate.audit.checkpoint", json_string(note)) ==
	    RV_CHECKPOINT, "checkpoint by another key: checkpoint");
	free(note);
	key_make(&imp, "impostor", (const uint8_t *)rfc_seed_bin);
	note = note_make(&imp, ck.ck_origin, ck.ck_size, ck.ck_root);
	TAP_OK(change("predicate.audit.checkpoint", json_string(note)) ==
	    RV_CHECKPOINT, "checkpoint by the key under another name: "
	    "checkpoint");
	free(note);
	note = note_make(&rfc, "receiptgen.test/mvm-audit/other", ck.ck_size,
	    ck.ck_root);
	st = stmt_load();
	jset(st, "predicate.audit.checkpoint", json_string(note));
	jset(st, "predicate.audit.origin",
	    json_string("receiptgen.test/mvm-audit/other"));
	TAP_OK(stmt_check(st) == RV_CHECKPOINT,
	    "origin of another tenant: checkpoint");
	free(note);
	note = note_make(&other, ck.ck_origin, ck.ck_size, zero);
	TAP_OK(change("predicate.audit.checkpoint", json_string(note)) ==
	    RV_CHECKPOINT, "another root by another key: checkpoint, "
	    "not inclusion (the signature first)");
	free(note);
	TAP_OK(change("predicate.audit.checkpoint", json_string("x")) ==
	    RV_CHECKPOINT, "a checkpoint that is not a note: checkpoint");

	note = note_make(&rfc, ck.ck_origin, ck.ck_size, zero);
	TAP_OK(change("predicate.audit.checkpoint", json_string(note)) ==
	    RV_INCLUSION, "another root, signed by the key: inclusion");
	free(note);
	note = note_make(&rfc, ck.ck_origin, 3, ck.ck_root);
	TAP_OK(change("predicate.audit.checkpoint", json_string(note)) ==
	    RV_INCLUSION, "a checkpoint of size 3 (index 3): inclusion");
	free(note);
	TAP_OK(change("predicate.audit.inclusion.0", json_string("AAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")) == RV_INCLUSION,
	    "a proof hash changed: inclusion");
	TAP_OK(change("predicate.audit.inclusion.2", NULL) == RV_INCLUSION,
	    "a proof hash missing: inclusion");
	TAP_OK(change("predicate.audit.inclusion.0", json_string("AAAA")) ==
	    RV_INCLUSION, "a proof hash of 3 bytes: inclusion");
}

/* The receipt's own checkpoint as the newer one. */
static void
test_newer(void)
{
	struct receipt_verify_opts	 o;
	struct receipt_verify_result	 r;
	struct checkpoint		 ck;
	struct proof			*pf;
	json_t				*st;
	char				*env, text[NOTE_PROOF_MAX];
	const char			*note;

	env = envelope(golden_stmt, strlen(golden_stmt), MVM_DSSE_TYPE, &rfc);
	st = stmt_load();
	note = json_string_value(json_object_get(json_object_get(
	    json_object_get(st, "predicate"), "audit"), "checkpoint"));
	memset(&o, 0, sizeof(o));
	o.rvo_pk = rfc.k_pk;
	o.rvo_keyname = KEYNAME;
	o.rvo_stdout_fd = o.rvo_stderr_fd = -1;
	o.rvo_newer = note;
	o.rvo_newerlen = strlen(note);
	TAP_OK(verify_opts(env, &o, &r) == -1 && strstr(r.rvr_detail,
	    "consistency proof") != NULL,
	    "a newer checkpoint, no proof, no log: no verdict (%s)",
	    r.rvr_detail);
	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		abort();
	pf->pf_kind = PROOF_CONSISTENCY;
	if (note_parse(note, strlen(note), &ck, NULL) == -1)
		abort();
	pf->pf_old_size = ck.ck_size;
	pf->pf_notelen = snprintf(pf->pf_note, sizeof(pf->pf_note), "%s", note);
	if (proof_format(pf, text, sizeof(text)) == -1)
		abort();
	o.rvo_proof = text;
	o.rvo_prooflen = strlen(text);
	TAP_OK(verify_opts(env, &o, &r) == RV_OK && r.rvr_have_newer &&
	    r.rvr_newer_size == ck.ck_size,
	    "the same checkpoint, an empty consistency proof: ok");
	o.rvo_newer = NULL;
	TAP_OK(verify_opts(env, &o, &r) == RV_OK,
	    "the proof alone (its note is the newer checkpoint): ok");
	pf->pf_old_size = 5;
	if (proof_format(pf, text, sizeof(text)) == -1)
		abort();
	o.rvo_prooflen = strlen(text);
	TAP_OK(verify_opts(env, &o, &r) == RV_NOTINLOG,
	    "a proof from size 5, not 6: not-in-log");
	free(pf);
	json_decref(st);
	free(env);
}

int
main(void)
{
	uint8_t	 seed[32];
	int	 c;

	mvm_crypto_init();
	if (hex_decode(rfc_seed, rfc_seed_bin, 32) == -1)
		abort();
	key_make(&rfc, KEYNAME, rfc_seed_bin);
	memset(seed, 0x42, sizeof(seed));
	key_make(&other, KEYNAME, seed);	/* same name, another key */
	test_golden();
	test_envelope();
	test_signature();
	test_predicate();
	test_subject();
	test_binding();
	test_checkpoint();
	test_newer();
	for (c = RV_ENVELOPE; c <= RV_NOTINLOG; c++)
		TAP_OK(strcmp(receipt_class_name(c), "unknown") != 0,
		    "class %d is %s", c, receipt_class_name(c));
	TAP_DONE();
}
