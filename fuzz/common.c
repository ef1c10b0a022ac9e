/*
 * Helpers shared by the fuzz targets (fuzz.h).  Nothing here parses on
 * behalf of a target: it only cuts inputs into sections and signs
 * again, with the fixed test key, what a parser has already accepted.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "auditscan.h"
#include "crypto.h"
#include "fuzz.h"
#include "merkle.h"
#include "note.h"
#include "record.h"
#include "sigmsg.h"

static char	*fix_ckpt(const char *, size_t, const struct merkle_tree *,
		    size_t *);

/* RFC 8032 section 7.1, test 1 (regress/unit/receipt.c uses it too) */
static const char	 rfc_seed[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

struct fuzz_key		 fuzz_rfc;

void
fuzz_init(void)
{
	static int	 done;
	uint8_t		 seed[32];

	if (done)
		return;
	if (mvm_crypto_init() == -1 || hex_decode(rfc_seed, seed, 32) == -1)
		abort();
	crypto_sign_seed_keypair(fuzz_rfc.k_pk, fuzz_rfc.k_sk, seed);
	(void)strlcpy(fuzz_rfc.k_name, FUZZ_KEYNAME, sizeof(fuzz_rfc.k_name));
	fuzz_rfc.k_id = key_id(fuzz_rfc.k_name, fuzz_rfc.k_pk);
	done = 1;
}

/*
 * Cut [p, p + len) at FUZZ_SEP into at most max sections; the last one
 * keeps the rest, separators included, and those not in the input are
 * empty.  Returns the number found.
 */
size_t
fuzz_split(const uint8_t *p, size_t len, struct fuzz_sect *s, size_t max)
{
	const uint8_t	*end = p + len, *q;
	size_t		 n = 0, i;

	for (i = 0; i < max; i++) {		/* missing ones are empty */
		s[i].s_p = (const uint8_t *)"";
		s[i].s_len = 0;
	}
	while (n + 1 < max &&
	    (q = memmem(p, end - p, FUZZ_SEP, FUZZ_SEP_LEN)) != NULL) {
		s[n].s_p = p;
		s[n++].s_len = q - p;
		p = q + FUZZ_SEP_LEN;
	}
	s[n].s_p = p;
	s[n++].s_len = end - p;
	return (n);
}

/* A NUL-terminated copy (the input may hold NULs: C strings stop there). */
char *
fuzz_str(const uint8_t *p, size_t len)
{
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return (s);
}

/*
 * A record line that record_check() accepts with its signature: make
 * its kid the test key's and sign it again, in place (same length).
 * Returns 0, or -1 (line untouched) if it is no signed record.
 */
int
fuzz_resign_record(char *line, size_t len)
{
	struct record_fields	 rf;
	struct sigmsg		 m;
	uint8_t			 sig[64], kid[4];
	char			*u, b64[MVM_B64_LEN(64)], hex[9];
	size_t			 a, b;

	if (record_check(line, len, REC_WITH_SIG, &rf, NULL, 0) == -1 ||
	    record_unsigned(line, len, &a, &b) == -1 ||
	    b - a - 9 != sizeof(b64) - 1)
		return (-1);
	key_id_bytes(fuzz_rfc.k_id, kid);
	hex_encode(kid, 4, hex);
	memcpy(line + 8, hex, 8);		/* {"kid":"........" */
	if ((u = malloc(len)) == NULL)
		abort();
	memcpy(u, line, a);
	memcpy(u + a, line + b, len - b);
	if (sigmsg_audit(&m, (uint8_t *)u, len - (b - a)) == -1)
		abort();
	crypto_sign_detached(sig, NULL, m.sm_buf, m.sm_len, fuzz_rfc.k_sk);
	sigmsg_free(&m);
	free(u);
	b64_encode(sig, sizeof(sig), b64, sizeof(b64));
	memcpy(line + a + 8, b64, sizeof(b64) - 1);
	return (0);
}

/*
 * A note that note_parse() accepts, signed again by the test key (one
 * signature line), followed by whatever came after it.  Returns a new
 * string (length in *outlen), or NULL if text is no note.
 */
char *
fuzz_resign_note(const char *text, size_t len, size_t *outlen)
{
	struct checkpoint	 ck;
	struct sigmsg		 m;
	char			*out;
	size_t			 used, n, max;

	if (note_parse(text, len, &ck, &used) == -1)
		return (NULL);
	if (sigmsg_note(&m, ck.ck_origin, ck.ck_size, ck.ck_root) == -1)
		abort();
	crypto_sign_detached(ck.ck_sig, NULL, m.sm_buf, m.sm_len,
	    fuzz_rfc.k_sk);
	sigmsg_free(&m);
	(void)strlcpy(ck.ck_keyname, fuzz_rfc.k_name, sizeof(ck.ck_keyname));
	ck.ck_keyid = fuzz_rfc.k_id;
	max = NOTE_MAX + (len - used) + 1;
	if ((out = malloc(max)) == NULL)
		abort();
	if (note_format(&ck, out, NOTE_MAX) == -1) {
		free(out);
		return (NULL);
	}
	n = strlen(out);
	memcpy(out + n, text + used, len - used);
	out[n + len - used] = '\0';
	*outlen = n + len - used;
	return (out);
}

/*
 * A log whose records were mutated: every line record_check() accepts
 * gets prev = SHA-256 of the record line before it (zeros for the
 * first), the test key's kid and a new signature, in place.  Other
 * lines are left as they are (debris, to the scanner).
 */
void
fuzz_fix_log(char *log, size_t len)
{
	static const char	 key[] = ",\"prev\":\"";
	struct record_fields	 rf;
	uint8_t			 last[32];
	char			*p = log, *end = log + len, *nl, *q;
	char			 hex[MVM_SHA256_HEX];
	size_t			 n;

	memset(last, 0, sizeof(last));
	for (;;) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		n = nl - p;
		/* labels hold no quotes: the first ,"prev":" is the member */
		if (record_check(p, n, REC_WITH_SIG, &rf, NULL, 0) == 0 &&
		    (q = memmem(p, n, key, sizeof(key) - 1)) != NULL) {
			hex_encode(last, sizeof(last), hex);
			memcpy(q + sizeof(key) - 1, hex, 64);
			(void)fuzz_resign_record(p, n);
			sha256(p, n, last);
		}
		if (nl == end)
			break;
		p = nl + 1;
	}
}

/* The note of a checkpoints line with the right root, signed again. */
static char *
fix_ckpt(const char *line, size_t len, const struct merkle_tree *t,
    size_t *outlen)
{
	struct checkpoint	 ck;
	json_t			*o;
	char			*note, *out = NULL;
	size_t			 n, used;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_string(json_object_get(o, "note")) ||
	    note_parse(json_string_value(json_object_get(o, "note")),
	    json_string_length(json_object_get(o, "note")), &ck, &used) == -1) {
		json_decref(o);
		return (NULL);
	}
	if (ck.ck_size <= t->mt_size)
		(void)merkle_root(t, ck.ck_size, ck.ck_root);
	/* formatted with the old signature, then signed anew */
	if ((note = malloc(NOTE_MAX)) == NULL)
		abort();
	if (note_format(&ck, note, NOTE_MAX) == 0)
		out = fuzz_resign_note(note, strlen(note), &n);
	free(note);
	json_decref(o);
	if (out == NULL)
		return (NULL);
	o = json_pack("{s:s%}", "note", out, n);
	free(out);
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (out != NULL)
		*outlen = strlen(out);
	return (out);
}

/*
 * A checkpoints file whose notes were mutated: every line that holds a
 * note gets the root of the log's first records (where the log has that
 * many) and is signed again by the test key; other lines are kept.
 * Returns a new buffer (length in *outlen).
 */
uint8_t *
fuzz_fix_ckpts(const uint8_t *ck, size_t cklen, const uint8_t *log,
    size_t loglen, size_t *outlen)
{
	struct audit_scan	 as;
	const char		*p = (const char *)ck, *end = p + cklen;
	const char		*nl;
	char			*fixed;
	uint8_t			*out;
	size_t			 n, len = 0, cap = cklen * 2 + 1024;

	memset(&as, 0, sizeof(as));
	as.as_threads = 1;
	(void)audit_scan(log, loglen, &as);	/* structure: the tree */
	if ((out = malloc(cap)) == NULL)
		abort();
	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if ((fixed = fix_ckpt(p, nl - p, &as.as_tree, &n)) == NULL) {
			fixed = fuzz_str((const uint8_t *)p, nl - p);
			n = nl - p;
		}
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			if ((out = realloc(out, cap)) == NULL)
				abort();
		}
		memcpy(out + len, fixed, n);
		len += n;
		free(fixed);
		if (nl == end)
			break;
		out[len++] = '\n';
		p = nl + 1;
	}
	audit_scan_free(&as);
	*outlen = len;
	return (out);
}

/* One file of an image directory, made anew with these bytes. */
static int
image_file(int dfd, const char *name, const uint8_t *p, size_t len)
{
	int	 fd, rc = 0;

	(void)unlinkat(dfd, name, 0);
	if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1)
		return (-1);
	if (len > 0 && write(fd, p, len) != (ssize_t)len)
		rc = -1;
	if (close(fd) == -1)
		rc = -1;
	return (rc);
}

/*
 * The files fuzz/manifest.c puts in each image directory, and
 * mvm-fuzzseed (imagefiles) for the SHA-256 in the seeds: a kernel, an
 * initramfs, a bzImage longer than one read() of image.c, an empty file,
 * a symlink and a directory.  Returns 0, or -1 with errno set.
 */
int
fuzz_image_files(const char *dir)
{
	static const char	 kernel[] = "mvm fuzz kernel\n";
	static const char	 initrd[] = "mvm fuzz initramfs\n";
	uint8_t			*bz;
	size_t			 i, bzlen = 70000;
	int			 dfd, rc = -1;

	if ((bz = malloc(bzlen)) == NULL)
		abort();
	for (i = 0; i < bzlen; i++)
		bz[i] = (i * 31 + 7) & 0xff;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto done;
	(void)unlinkat(dfd, FUZZ_IMG_LINK, 0);
	(void)unlinkat(dfd, FUZZ_IMG_DIR, AT_REMOVEDIR);
	if (image_file(dfd, FUZZ_IMG_KERNEL, (const uint8_t *)kernel,
	    sizeof(kernel) - 1) == -1 || image_file(dfd, FUZZ_IMG_INITRD,
	    (const uint8_t *)initrd, sizeof(initrd) - 1) == -1 ||
	    image_file(dfd, FUZZ_IMG_BZIMAGE, bz, bzlen) == -1 ||
	    image_file(dfd, FUZZ_IMG_EMPTY, NULL, 0) == -1 ||
	    symlinkat(FUZZ_IMG_KERNEL, dfd, FUZZ_IMG_LINK) == -1 ||
	    mkdirat(dfd, FUZZ_IMG_DIR, 0755) == -1)
		goto done;
	rc = 0;
done:
	if (dfd != -1)
		close(dfd);
	free(bz);
	return (rc);
}

/* Which of the first FUZZ_FD_SCAN fds are open (one poll: POLLNVAL). */
void
fuzz_fd_snapshot(uint8_t open_[FUZZ_FD_SCAN])
{
	struct pollfd	 pfd[FUZZ_FD_SCAN];
	int		 fd;

	for (fd = 0; fd < FUZZ_FD_SCAN; fd++) {
		pfd[fd].fd = fd;
		pfd[fd].events = 0;
	}
	while (poll(pfd, FUZZ_FD_SCAN, 0) == -1)
		if (errno != EINTR)	/* libFuzzer's SIGALRM */
			abort();
	for (fd = 0; fd < FUZZ_FD_SCAN; fd++)
		open_[fd] = (pfd[fd].revents & POLLNVAL) == 0;
}
