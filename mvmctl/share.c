/*
 * share.c: --add-dir HOST:GUEST[:ro|rw] for run and exec.
 *
 * mvmctl reads the host directory itself, as the user who runs it (the
 * root supervisor never opens a host path for a client, and never
 * learns it: it gets the guest path, the mode and the SHA-256 of the
 * host path's real path).  The tree is walked once, before anything is
 * sent, with openat(O_NOFOLLOW) and fstatat(AT_SYMLINK_NOFOLLOW) from
 * the directory named: directories, regular files and symlinks whose
 * target stays inside the tree (share_link_ok) go into a share stream
 * (libshared/share.h) in an unnamed temporary file; anything else, a
 * symlink that points out, or a tree over the bounds ends mvmctl with
 * a usage (2) or size (122) error naming the entry.  The streams go to
 * the supervisor once the run is admitted.
 *
 * rw: after a clean exit (status 0, no signal, no timeout) the guest's
 * copy of the tree comes back as a stream.  The guest is not trusted:
 * the stream is read with the share reader into a second temporary
 * file while it comes, and only a stream that is whole and well formed
 * is applied, after the exit is known, into the directory that was
 * read (the descriptor held open since), never through a symlink:
 * every parent is opened from there one component at a time with
 * O_NOFOLLOW.  A file is written to a temporary name in its directory,
 * fsynced and renamed over the old one; a file or link the guest did
 * not change is left alone (so a change made on the host meanwhile
 * stays); new directories are made 0700 and get their mode last.
 * Files and new directories get the guest's permission bits less the
 * user's umask (hostfile_mode), as if the user had made them.
 * Nothing is deleted on the host: a file removed in the guest stays.
 * A directory where the guest has a file (or the other way round) is
 * an error for that share.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "mvmctl.h"
#include "share.h"

#define OPEN_DIR	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define BUF_SIZE	(64 * 1024)

/* an entry that went in (rw), to tell what the guest changed */
struct sent {
	char		*s_path;
	int		 s_kind;
	uint32_t	 s_mode;
	uint8_t		 s_sha256[32];	/* file bytes, or link target */
};

struct hshare {
	const char		*h_arg;		/* as given */
	char			*h_host;
	char			 h_guest[MVM_SHARE_PATH_MAX];
	uint32_t		 h_mode;
	int			 h_root;	/* the host directory */
	uint8_t			 h_sha256[32];	/* of its real path */
	int			 h_fd;		/* the stream that goes in */
	uint64_t		 h_size;
	uint64_t		 h_files;
	uint64_t		 h_bytes;
	struct sent		*h_sent;
	size_t			 h_nsent;
	/* what came back */
	int			 h_back;	/* BACK_* */
#define BACK_NONE	0
#define BACK_WHOLE	1
#define BACK_FAILED	2
	int			 h_back_fd;
	uint64_t		 h_back_size;
	struct share_reader	*h_rd;
	struct mvm_ctl_share	 h_end;
	char			 h_why[256];
	uint64_t		 h_written;	/* applied */
	uint64_t		 h_unchanged;
};

/* the packer's output: buffered into the stream's file */
struct pack {
	struct hshare		*p_h;
	struct share_writer	 p_w;
	uint8_t			 p_buf[BUF_SIZE];
	size_t			 p_len;
};

/* the applier: the directory entries go in, and what it made */
struct apply {
	struct hshare		*a_h;
	int			 a_dir;		/* parent of the entry */
	char			 a_dirpath[SHARE_PATH_MAX + 1];
	int			 a_dirty;	/* a_dir needs an fsync */
	int			 a_fd;		/* the file being written */
	char			 a_tmp[32];	/* its temporary name */
	char			 a_base[SHARE_PATH_MAX + 1];
	uint32_t		 a_mode;
	const struct sent	*a_sent;
	crypto_hash_sha256_state a_hs;
	char			**a_newdirs;	/* made here, mode at the end */
	uint32_t		*a_newmodes;
	size_t			 a_nnew;
};

static struct hshare	 shares[MVM_RUN_SHARES_MAX];
static int		 nshares;
static int		 back_cur = -2;		/* the rw share coming back */

static int	 tmp_open(void);
static int	 pack_out(void *, const void *, size_t);
static void	 pack_flush(struct pack *);
static void	 pack_dir(struct pack *, int, const char *);
static void	 pack_refused(struct pack *, const char *)
		    __attribute__((noreturn));
static int	 name_cmp(const void *, const void *);
static void	 pack_entry(struct pack *, int, const char *, const char *);
static void	 pack_file(struct pack *, int, const char *, const char *,
		    const struct stat *);
static void	 sent_add(struct hshare *, const char *, int, uint32_t,
		    const uint8_t *);
static const struct sent *sent_find(const struct hshare *, const char *);
static int	 sent_cmp(const void *, const void *);
static void	 printable(const char *, char *, size_t);
static int	 back_next(int);
static int	 apply_parent(struct apply *, const char *, const char **);
static int	 apply_dir(struct apply *, const struct share_entry *);
static int	 apply_file(struct apply *, const struct share_entry *);
static int	 apply_data(struct apply *, const uint8_t *, size_t);
static int	 apply_file_end(struct apply *);
static int	 apply_link(struct apply *, const struct share_entry *);
static int	 apply_modes(struct apply *);
static int	 apply_one(struct hshare *);
static void	 tmp_name(char *, size_t);

/* ------------------------------------------------------------------ */
/* the arguments */

/* --add-dir HOST:GUEST[:ro|rw]; checked here, read by share_prepare */
void
share_arg(const char *arg)
{
	struct hshare	*h;
	char		*s, *c, *p;
	int		 i;

	if (nshares == MVM_RUN_SHARES_MAX)
		errx(EXIT_TOOBIG, "more than %d --add-dir", MVM_RUN_SHARES_MAX);
	h = &shares[nshares];
	memset(h, 0, sizeof(*h));
	h->h_arg = arg;
	h->h_mode = MVM_ADD_DIR_RO;
	h->h_root = h->h_fd = h->h_back_fd = -1;
	if ((s = strdup(arg)) == NULL)
		err(EXIT_ERR, NULL);
	if ((c = strrchr(s, ':')) != NULL && (strcmp(c, ":ro") == 0 ||
	    strcmp(c, ":rw") == 0)) {
		h->h_mode = c[2] == 'w' ? MVM_ADD_DIR_RW : MVM_ADD_DIR_RO;
		*c = '\0';
	}
	if ((c = strrchr(s, ':')) == NULL || c == s || c[1] != '/')
		errx(EXIT_USAGE, "--add-dir %s: want HOST:GUEST[:ro|rw], GUEST "
		    "an absolute path", arg);
	*c = '\0';
	h->h_host = s;
	/* ".." is refused on both sides, before anything is read */
	for (p = s; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == s || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			errx(EXIT_USAGE, "--add-dir %s: \"..\" in HOST is "
			    "refused", arg);
	if (strstr(c + 1, "/..") != NULL &&
	    !share_guest_path_ok(c + 1))
		errx(EXIT_USAGE, "--add-dir %s: \"..\" in GUEST is refused",
		    arg);
	if (strlcpy(h->h_guest, c + 1, sizeof(h->h_guest)) >=
	    sizeof(h->h_guest) || !share_guest_path_ok(h->h_guest))
		errx(EXIT_USAGE, "--add-dir %s: GUEST must be an absolute path "
		    "of at most 128 bytes of A-Z a-z 0-9 . _ / @ + = -, "
		    "without \".\", \"..\" or empty components, not \"/\"",
		    arg);
	for (i = 0; i < nshares; i++) {
		size_t	 la = strlen(shares[i].h_guest), lb = strlen(h->h_guest);
		size_t	 l = la < lb ? la : lb;
		const char *lo = la > lb ? shares[i].h_guest : h->h_guest;

		if (strncmp(shares[i].h_guest, h->h_guest, l) == 0 &&
		    (lo[l] == '\0' || lo[l] == '/'))
			errx(EXIT_USAGE, "--add-dir %s: GUEST is, or is inside "
			    "or above, the GUEST of --add-dir %s", arg,
			    shares[i].h_arg);
	}
	nshares++;
}

int
share_count(void)
{
	return (nshares);
}

/* ------------------------------------------------------------------ */
/* packing the host directories */

/* An unnamed temporary file (O_TMPFILE, else a name unlinked at once). */
static int
tmp_open(void)
{
	const char	*dir = getenv("TMPDIR");
	char		 path[PATH_MAX];
	int		 fd;

	if (dir == NULL || dir[0] != '/')
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) != -1)
		return (fd);
	if ((size_t)snprintf(path, sizeof(path), "%s/mvmctl-share.XXXXXX",
	    dir) >= sizeof(path) || (fd = mkostemp(path, O_CLOEXEC)) == -1)
		err(EXIT_ERR, "%s: a temporary file", dir);
	(void)unlink(path);
	return (fd);
}

static void
pack_flush(struct pack *pk)
{
	if (pk->p_len > 0 && pwrite(pk->p_h->h_fd, pk->p_buf, pk->p_len,
	    pk->p_h->h_size) != (ssize_t)pk->p_len)
		err(EXIT_ERR, "--add-dir %s: the temporary file",
		    pk->p_h->h_arg);
	pk->p_h->h_size += pk->p_len;
	pk->p_len = 0;
}

static int
pack_out(void *arg, const void *p, size_t n)
{
	struct pack	*pk = arg;
	size_t		 m;

	while (n > 0) {
		if (pk->p_len == sizeof(pk->p_buf))
			pack_flush(pk);
		m = sizeof(pk->p_buf) - pk->p_len;
		if (m > n)
			m = n;
		memcpy(pk->p_buf + pk->p_len, p, m);
		pk->p_len += m;
		p = (const uint8_t *)p + m;
		n -= m;
	}
	return (0);
}

/* what share_write_entry's refusal means here */
static void
pack_refused(struct pack *pk, const char *rel)
{
	if (errno == E2BIG)
		errx(EXIT_TOOBIG, "--add-dir %s: more than %d entries or %llu "
		    "bytes", pk->p_h->h_arg, SHARE_FILES_MAX,
		    (unsigned long long)SHARE_BYTES_MAX);
	errx(EXIT_TOOBIG, "--add-dir %s: %s: more than %d levels or %d "
	    "bytes of path", pk->p_h->h_arg, rel, SHARE_DEPTH_MAX,
	    SHARE_PATH_MAX);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The directory dfd (at rel, "" for the top), its entries in order. */
static void
/* NOLINTNEXTLINE(misc-no-recursion): depth bounded (SHARE_DEPTH_MAX) */
pack_dir(struct pack *pk, int dfd, const char *rel)
{
	struct dirent	*de;
	char		**names = NULL;
	size_t		 n = 0, i;
	DIR		*d;
	int		 fd;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL)
		err(EXIT_ERR, "--add-dir %s: %s", pk->p_h->h_arg,
		    rel[0] != '\0' ? rel : ".");
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* cppcheck-suppress memleakOnRealloc ; err() exits */
		if ((names = reallocarray(names, n + 1, sizeof(*names))) ==
		    NULL || (names[n++] = strdup(de->d_name)) == NULL)
			err(EXIT_ERR, NULL);
	}
	if (errno != 0)
		err(EXIT_ERR, "--add-dir %s: %s", pk->p_h->h_arg, rel);
	(void)closedir(d);
	if (n > 0)		/* an empty directory: names is NULL */
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		pack_entry(pk, dfd, rel, names[i]);
		free(names[i]);
	}
	free(names);
}

static void
/* NOLINTNEXTLINE(misc-no-recursion): depth bounded (SHARE_DEPTH_MAX) */
pack_entry(struct pack *pk, int dfd, const char *dir, const char *name)
{
	struct hshare	*h = pk->p_h;
	struct stat	 st;
	char		 rel[SHARE_PATH_MAX + 2], target[SHARE_PATH_MAX + 1];
	uint8_t		 sha[32];
	ssize_t		 n;
	int		 fd;

	if ((size_t)snprintf(rel, sizeof(rel), "%s%s%s", dir,
	    dir[0] != '\0' ? "/" : "", name) > SHARE_PATH_MAX)
		pack_refused(pk, rel);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		err(EXIT_ERR, "--add-dir %s: %s", h->h_arg, rel);
	if (S_ISREG(st.st_mode)) {
		pack_file(pk, dfd, name, rel, &st);
	} else if (S_ISDIR(st.st_mode)) {
		if (share_write_entry(&pk->p_w, SHARE_DIR, st.st_mode & 0777,
		    rel, 0, NULL) == -1)
			pack_refused(pk, rel);
		sent_add(h, rel, SHARE_DIR, st.st_mode & 0777, NULL);
		if ((fd = openat(dfd, name, OPEN_DIR)) == -1)
			err(EXIT_ERR, "--add-dir %s: %s", h->h_arg, rel);
		pack_dir(pk, fd, rel);	/* share_write_entry bounds the depth */
		(void)close(fd);
	} else if (S_ISLNK(st.st_mode)) {
		if ((n = readlinkat(dfd, name, target, sizeof(target))) == -1)
			err(EXIT_ERR, "--add-dir %s: %s", h->h_arg, rel);
		if (n == 0 || n == sizeof(target) ||
		    (target[n] = '\0', !share_link_ok(rel, target)))
			errx(EXIT_USAGE, "--add-dir %s: %s is a symlink that "
			    "points outside the directory (or up through a "
			    "name in it); refused", h->h_arg, rel);
		if (share_write_entry(&pk->p_w, SHARE_LINK, 0, rel, 0,
		    target) == -1)
			pack_refused(pk, rel);
		sha256(target, n, sha);
		sent_add(h, rel, SHARE_LINK, 0, sha);
	} else
		errx(EXIT_USAGE, "--add-dir %s: %s is not a regular file, "
		    "directory or symlink; refused", h->h_arg, rel);
}

static void
pack_file(struct pack *pk, int dfd, const char *name, const char *rel,
    const struct stat *lst)
{
	crypto_hash_sha256_state hs;
	struct stat		 st;
	uint8_t			 buf[BUF_SIZE], sha[32];
	uint64_t		 left;
	ssize_t			 n;
	int			 fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1 || fstat(fd, &st) == -1)
		err(EXIT_ERR, "--add-dir %s: %s", pk->p_h->h_arg, rel);
	if (!S_ISREG(st.st_mode) || st.st_ino != lst->st_ino)
		errx(EXIT_ERR, "--add-dir %s: %s changed while read",
		    pk->p_h->h_arg, rel);
	if (share_write_entry(&pk->p_w, SHARE_FILE, st.st_mode & 0777, rel,
	    st.st_size, NULL) == -1)
		pack_refused(pk, rel);
	crypto_hash_sha256_init(&hs);
	for (left = st.st_size; left > 0; left -= n) {
		n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1)
			err(EXIT_ERR, "--add-dir %s: %s", pk->p_h->h_arg, rel);
		if (n == 0)
			errx(EXIT_ERR, "--add-dir %s: %s changed while read",
			    pk->p_h->h_arg, rel);
		crypto_hash_sha256_update(&hs, buf, n);
		(void)share_write_data(&pk->p_w, buf, n);
	}
	(void)close(fd);
	crypto_hash_sha256_final(&hs, sha);
	sent_add(pk->p_h, rel, SHARE_FILE, st.st_mode & 0777, sha);
}

/*
 * Read every host directory into its stream, before anything is sent:
 * whatever is wrong with one ends mvmctl here.
 */
void
share_prepare(void)
{
	struct hshare	*h;
	struct pack	*pk;
	char		 real[PATH_MAX];
	int		 i;

	if ((pk = malloc(sizeof(*pk))) == NULL)
		err(EXIT_ERR, NULL);
	for (i = 0; i < nshares; i++) {
		h = &shares[i];
		if ((h->h_root = open(h->h_host, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			err(errno == ENOENT || errno == ENOTDIR ? EXIT_USAGE :
			    EXIT_ERR, "--add-dir %s: %s", h->h_arg, h->h_host);
		if (realpath(h->h_host, real) == NULL)
			err(EXIT_ERR, "--add-dir %s: %s", h->h_arg, h->h_host);
		sha256(real, strlen(real), h->h_sha256);
		h->h_fd = tmp_open();
		memset(pk, 0, sizeof(*pk));
		pk->p_h = h;
		(void)share_write_start(&pk->p_w, pack_out, pk);
		pack_dir(pk, h->h_root, "");
		(void)share_write_end(&pk->p_w);
		pack_flush(pk);
		h->h_files = pk->p_w.sw_entries;
		h->h_bytes = pk->p_w.sw_bytes;
		if (h->h_nsent > 0)
			qsort(h->h_sent, h->h_nsent, sizeof(*h->h_sent),
			    sent_cmp);
	}
	free(pk);
}

static void
sent_add(struct hshare *h, const char *path, int kind, uint32_t mode,
    const uint8_t *sha)
{
	struct sent	*s;

	if (h->h_mode != MVM_ADD_DIR_RW)
		return;			/* nothing comes back */
	if ((s = reallocarray(h->h_sent, h->h_nsent + 1, sizeof(*s))) == NULL)
		err(EXIT_ERR, NULL);
	h->h_sent = s;
	s = &h->h_sent[h->h_nsent++];
	if ((s->s_path = strdup(path)) == NULL)
		err(EXIT_ERR, NULL);
	s->s_kind = kind;
	s->s_mode = mode;
	if (sha != NULL)
		memcpy(s->s_sha256, sha, 32);
}

static int
sent_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct sent *)a)->s_path,
	    ((const struct sent *)b)->s_path));
}

static const struct sent *
sent_find(const struct hshare *h, const char *path)
{
	struct sent	 key;

	if (h->h_nsent == 0)
		return (NULL);
	memset(&key, 0, sizeof(key));
	key.s_path = (char *)path;
	return (bsearch(&key, h->h_sent, h->h_nsent, sizeof(key), sent_cmp));
}

/* ------------------------------------------------------------------ */
/* to the supervisor */

/* IMSG_CTL_SHARE for each, before the RUN */
void
share_declare(void)
{
	struct mvm_ctl_share	 cs;
	int			 i;

	for (i = 0; i < nshares; i++) {
		memset(&cs, 0, sizeof(cs));
		cs.sh_mode = shares[i].h_mode;
		memcpy(cs.sh_sha256, shares[i].h_sha256, 32);
		(void)strlcpy(cs.sh_path, shares[i].h_guest,
		    sizeof(cs.sh_path));
		ctl_send(IMSG_CTL_SHARE, &cs, sizeof(cs));
	}
}

/* The streams, once the run is admitted (IMSG_CTL_STARTED). */
void
share_send(void)
{
	uint8_t		 buf[MVM_DATA_MAX];
	uint64_t	 off;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < nshares; i++) {
		for (off = 0; off < shares[i].h_size; off += n) {
			n = pread(shares[i].h_fd, buf, sizeof(buf), off);
			if (n <= 0)
				ctl_fail(EXIT_ERR, 0, "--add-dir: the temporary "
				    "file cannot be read");
			ctl_send(IMSG_CTL_SHARE_DATA, buf, n);
		}
		ctl_send(IMSG_CTL_SHARE_END, NULL, 0);
		(void)close(shares[i].h_fd);
		shares[i].h_fd = -1;
	}
}

/* ------------------------------------------------------------------ */
/* back from the guest: kept and read, not yet applied */

/* the rw share after index i (nshares if none) */
static int
back_next(int i)
{
	while (++i < nshares && shares[i].h_mode != MVM_ADD_DIR_RW)
		continue;
	return (i);
}

/* Guest bytes for the terminal: what is not printable ASCII is '?'. */
static void
printable(const char *s, char *out, size_t len)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = s[i] < ' ' || s[i] > '~' ? '?' : s[i];
	out[i] = '\0';
}

/* IMSG_CTL_SHARE_DATA: the guest's stream, read and kept */
void
share_back_data(struct imsg *imsg)
{
	struct hshare	*h;
	const uint8_t	*p = imsg->data, *d;
	size_t		 len = imsg->datalen, dn;
	char		 why[160];
	int		 ev;

	if (back_cur == -2)
		back_cur = back_next(-1);
	if (back_cur >= nshares)
		ctl_fail(EXIT_MVM, 0, "malformed reply (share data)");
	h = &shares[back_cur];
	if (h->h_rd == NULL) {
		if ((h->h_rd = malloc(sizeof(*h->h_rd))) == NULL)
			err(EXIT_ERR, NULL);
		share_reader_init(h->h_rd);
		h->h_back_fd = tmp_open();
	}
	if (h->h_back == BACK_FAILED)
		return;
	if (len > SHARE_ARCHIVE_MAX - h->h_back_size) {
		h->h_back = BACK_FAILED;
		(void)strlcpy(h->h_why, "more than a share may hold",
		    sizeof(h->h_why));
		return;
	}
	while ((ev = share_read(h->h_rd, &p, &len, &d, &dn)) !=
	    SHARE_EV_MORE)
		if (ev == SHARE_EV_ERROR) {
			h->h_back = BACK_FAILED;
			printable(h->h_rd->sr_why, why, sizeof(why));
			(void)snprintf(h->h_why, sizeof(h->h_why), "the guest "
			    "sent a bad stream: %s", why);
			return;
		}
	if (pwrite(h->h_back_fd, imsg->data, imsg->datalen,
	    h->h_back_size) != (ssize_t)imsg->datalen)
		err(EXIT_ERR, "--add-dir %s: the temporary file", h->h_arg);
	h->h_back_size += imsg->datalen;
}

/* IMSG_CTL_SHARE_END: one rw share's stream is over (or never came). */
void
share_back_end(struct imsg *imsg)
{
	struct mvm_ctl_share	 cs;
	struct hshare		*h;
	char			 why[sizeof(cs.sh_msg)];

	if (msg_get_ctl_share(imsg, &cs) == -1)
		ctl_fail(EXIT_MVM, 0, "malformed reply (share end)");
	if (back_cur == -2)
		back_cur = back_next(-1);
	if (back_cur >= nshares ||
	    strcmp(shares[back_cur].h_guest, cs.sh_path) != 0)
		ctl_fail(EXIT_MVM, 0, "malformed reply (share end)");
	h = &shares[back_cur];
	h->h_end = cs;
	if (cs.sh_error != 0) {
		h->h_back = BACK_FAILED;
		printable(cs.sh_msg, why, sizeof(why));
		(void)snprintf(h->h_why, sizeof(h->h_why), "%s: %s",
		    mvm_strerror(cs.sh_error), why);
	} else if (h->h_back != BACK_FAILED) {
		if (h->h_rd == NULL || !share_reader_done(h->h_rd) ||
		    cs.sh_size != h->h_back_size ||
		    cs.sh_files != h->h_rd->sr_entries) {
			h->h_back = BACK_FAILED;
			(void)strlcpy(h->h_why, "the stream is not whole",
			    sizeof(h->h_why));
		} else
			h->h_back = BACK_WHOLE;
	}
	free(h->h_rd);
	h->h_rd = NULL;
	back_cur = back_next(back_cur);
}

/* ------------------------------------------------------------------ */
/* applying what came back, into the host directory */

static void
tmp_name(char *out, size_t len)
{
	uint8_t	 r[6];
	char	 hex[13];

	randombytes_buf(r, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	(void)snprintf(out, len, ".mvmctl-share.%s", hex);
}

/*
 * The directory an entry goes in, opened from the share's directory
 * one component at a time, never through a symlink (cached).
 */
static int
apply_parent(struct apply *a, const char *path, const char **base)
{
	const char	*slash = strrchr(path, '/');
	char		 dir[SHARE_PATH_MAX + 1], *c, *e;
	size_t		 dl;
	int		 fd, nfd;

	*base = slash != NULL ? slash + 1 : path;
	dl = slash != NULL ? (size_t)(slash - path) : 0;
	if (a->a_dir != -1 && strlen(a->a_dirpath) == dl &&
	    memcmp(a->a_dirpath, path, dl) == 0)
		return (a->a_dir);
	if (a->a_dir != -1) {
		if (a->a_dirty)
			(void)fsync(a->a_dir);
		(void)close(a->a_dir);
	}
	a->a_dir = -1;
	a->a_dirty = 0;
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	memcpy(a->a_dirpath, dir, dl + 1);
	if ((fd = dup(a->a_h->h_root)) == -1)
		return (-1);
	for (c = dir; dl > 0 && c != NULL; c = e) {
		if ((e = strchr(c, '/')) != NULL)
			*e++ = '\0';
		nfd = openat(fd, c, OPEN_DIR);
		(void)close(fd);
		if (nfd == -1)
			return (-1);
		fd = nfd;
	}
	return (a->a_dir = fd);
}

/* A directory: made (0700 until the end) if it is not there. */
static int
apply_dir(struct apply *a, const struct share_entry *e)
{
	const char	*base;
	struct stat	 st;
	int		 pfd;

	if ((pfd = apply_parent(a, e->se_path, &base)) == -1)
		return (-1);
	if (mkdirat(pfd, base, 0700) == 0) {
		a->a_dirty = 1;
		if ((a->a_newdirs = reallocarray(a->a_newdirs, a->a_nnew + 1,
		    sizeof(*a->a_newdirs))) == NULL ||
		    (a->a_newmodes = reallocarray(a->a_newmodes, a->a_nnew + 1,
		    sizeof(*a->a_newmodes))) == NULL ||
		    (a->a_newdirs[a->a_nnew] = strdup(e->se_path)) == NULL)
			err(EXIT_ERR, NULL);
		a->a_newmodes[a->a_nnew++] = e->se_mode;
		a->a_h->h_written++;
		return (0);
	}
	if (errno != EEXIST ||
	    fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return (-1);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;	/* a file or link of that name is here */
		return (-1);
	}
	return (0);			/* it stays as it is */
}

/* A file: into a temporary name beside it, hashed on the way. */
static int
apply_file(struct apply *a, const struct share_entry *e)
{
	const char	*base;
	int		 pfd, i;

	if ((pfd = apply_parent(a, e->se_path, &base)) == -1)
		return (-1);
	for (i = 0; i < 8; i++) {
		tmp_name(a->a_tmp, sizeof(a->a_tmp));
		if ((a->a_fd = openat(pfd, a->a_tmp, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) != -1 ||
		    errno != EEXIST)
			break;
	}
	if (a->a_fd == -1)
		return (-1);
	(void)strlcpy(a->a_base, base, sizeof(a->a_base));
	a->a_mode = e->se_mode;
	a->a_sent = sent_find(a->a_h, e->se_path);
	crypto_hash_sha256_init(&a->a_hs);
	return (0);
}

static int
apply_data(struct apply *a, const uint8_t *p, size_t n)
{
	ssize_t	 w;

	crypto_hash_sha256_update(&a->a_hs, p, n);
	while (n > 0) {
		if ((w = write(a->a_fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		n -= w;
	}
	return (0);
}

/*
 * The file is whole: if the guest did not change it, the host's stays
 * (and the temporary goes); else mode, fsync, rename over the old one.
 */
static int
apply_file_end(struct apply *a)
{
	const struct sent	*s = a->a_sent;
	uint8_t			 sha[32];
	int			 rc = 0, fd = a->a_fd;

	a->a_fd = -1;
	crypto_hash_sha256_final(&a->a_hs, sha);
	if (s != NULL && s->s_kind == SHARE_FILE && s->s_mode == a->a_mode &&
	    memcmp(s->s_sha256, sha, 32) == 0) {
		(void)close(fd);
		(void)unlinkat(a->a_dir, a->a_tmp, 0);
		a->a_h->h_unchanged++;
		return (0);
	}
	if (fchmod(fd, hostfile_mode(a->a_mode)) == -1 || fsync(fd) == -1)
		rc = -1;
	if (close(fd) == -1)
		rc = -1;
	if (rc == 0 && renameat(a->a_dir, a->a_tmp, a->a_dir, a->a_base) == -1)
		rc = -1;
	if (rc == -1) {
		fd = errno;
		(void)unlinkat(a->a_dir, a->a_tmp, 0);
		errno = fd;
		return (-1);
	}
	a->a_dirty = 1;
	a->a_h->h_written++;
	return (0);
}

/* A link that stays in the tree (the reader checked): made, renamed. */
static int
apply_link(struct apply *a, const struct share_entry *e)
{
	const struct sent	*s = sent_find(a->a_h, e->se_path);
	const char		*base;
	uint8_t			 sha[32];
	int			 pfd, i, saved;

	sha256(e->se_target, strlen(e->se_target), sha);
	if (s != NULL && s->s_kind == SHARE_LINK &&
	    memcmp(s->s_sha256, sha, 32) == 0) {
		a->a_h->h_unchanged++;
		return (0);
	}
	if ((pfd = apply_parent(a, e->se_path, &base)) == -1)
		return (-1);
	for (i = 0; i < 8; i++) {
		tmp_name(a->a_tmp, sizeof(a->a_tmp));
		if (symlinkat(e->se_target, pfd, a->a_tmp) == 0)
			break;
		if (errno != EEXIST)
			return (-1);
	}
	if (i == 8)
		return (-1);
	if (renameat(pfd, a->a_tmp, pfd, base) == -1) {
		saved = errno;
		(void)unlinkat(pfd, a->a_tmp, 0);
		errno = saved;
		return (-1);
	}
	a->a_dirty = 1;
	a->a_h->h_written++;
	return (0);
}

/* The new directories get their modes, deepest first. */
static int
apply_modes(struct apply *a)
{
	const char	*base;
	size_t		 i;
	int		 pfd, fd, rc = 0;

	for (i = a->a_nnew; i-- > 0 && rc == 0; ) {
		if ((pfd = apply_parent(a, a->a_newdirs[i], &base)) == -1 ||
		    (fd = openat(pfd, base, OPEN_DIR)) == -1) {
			rc = -1;
			break;
		}
		if (fchmod(fd, hostfile_mode(a->a_newmodes[i])) == -1)
			rc = -1;
		(void)close(fd);
	}
	for (i = 0; i < a->a_nnew; i++)
		free(a->a_newdirs[i]);
	free(a->a_newdirs);
	free(a->a_newmodes);
	return (rc);
}

/* One share's stream, read again from its file and applied. */
static int
apply_one(struct hshare *h)
{
	struct share_reader	*r;
	struct apply		 a;
	const struct share_entry *e;
	const uint8_t		*p, *d;
	uint8_t			 buf[BUF_SIZE];
	uint64_t		 off = 0;
	size_t			 len, dn;
	ssize_t			 n;
	char			 path[160];
	int			 ev, rc = 0;

	if ((r = malloc(sizeof(*r))) == NULL)
		err(EXIT_ERR, NULL);
	share_reader_init(r);
	e = &r->sr_e;
	memset(&a, 0, sizeof(a));
	a.a_h = h;
	a.a_dir = a.a_fd = -1;
	while (rc == 0 && off < h->h_back_size) {
		if ((n = pread(h->h_back_fd, buf, sizeof(buf), off)) <= 0)
			err(EXIT_ERR, "--add-dir %s: the temporary file",
			    h->h_arg);
		off += n;
		p = buf;
		len = n;
		while (rc == 0 && (ev = share_read(r, &p, &len, &d, &dn)) !=
		    SHARE_EV_MORE) {
			switch (ev) {
			case SHARE_EV_ERROR:	/* it was read once already */
				errx(EXIT_MVM, "--add-dir %s: the stream "
				    "changed", h->h_arg);
			case SHARE_EV_DIR:
				rc = apply_dir(&a, e);
				break;
			case SHARE_EV_FILE:
				rc = apply_file(&a, e);
				break;
			case SHARE_EV_DATA:
				rc = apply_data(&a, d, dn);
				break;
			case SHARE_EV_FILE_END:
				rc = apply_file_end(&a);
				break;
			case SHARE_EV_LINK:
				rc = apply_link(&a, e);
				break;
			}
		}
	}
	if (rc == 0)
		rc = apply_modes(&a);
	else {
		printable(e->se_path, path, sizeof(path));
		(void)snprintf(h->h_why, sizeof(h->h_why), "%s: %s", path,
		    strerror(errno));
		if (a.a_fd != -1) {
			(void)close(a.a_fd);
			(void)unlinkat(a.a_dir, a.a_tmp, 0);
		}
		(void)apply_modes(&a);
	}
	if (a.a_dir != -1) {
		if (a.a_dirty)
			(void)fsync(a.a_dir);
		(void)close(a.a_dir);
	}
	free(r);
	return (rc);
}

/*
 * After the exit, clean (0, no signal, no timeout) or not.  A clean one
 * has its rw shares applied; what did not come back whole, or could
 * not be written, is said on stderr.  Returns 0, or -1 if an rw share
 * did not make it back (then msg says so).
 */
int
share_finish(int clean, char *msg, size_t len)
{
	struct hshare	*h;
	int		 i, rc = 0;

	for (i = 0; i < nshares; i++) {
		h = &shares[i];
		if (h->h_mode != MVM_ADD_DIR_RW || !clean)
			continue;
		if (h->h_back == BACK_NONE) {
			h->h_back = BACK_FAILED;
			(void)strlcpy(h->h_why, "the guest was gone before it "
			    "could be asked for it", sizeof(h->h_why));
		}
		if (h->h_back == BACK_WHOLE && apply_one(h) == -1) {
			h->h_back = BACK_FAILED;
			warnx("--add-dir %s: written back only in part: %s "
			    "(what was written stays)", h->h_arg, h->h_why);
		} else if (h->h_back == BACK_FAILED)
			warnx("--add-dir %s: nothing was written back: %s",
			    h->h_arg, h->h_why);
		if (h->h_back == BACK_FAILED) {
			if (rc == 0)
				(void)snprintf(msg, len, "the command ended "
				    "(status 0) but --add-dir %s did not come "
				    "back: %s", h->h_arg, h->h_why);
			rc = -1;
		} else if (h->h_end.sh_skipped > 0)
			warnx("--add-dir %s: %llu %s stayed in the guest "
			    "(symlinks pointing outside the directory, "
			    "devices, FIFOs or sockets)", h->h_arg,
			    (unsigned long long)h->h_end.sh_skipped,
			    h->h_end.sh_skipped == 1 ? "entry" : "entries");
	}
	return (rc);
}

/* For --json: each share, what went in and what came back. */
json_t *
share_json(void)
{
	struct hshare	*h;
	json_t		*a, *o;
	char		 hex[65];
	int		 i;

	if ((a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < nshares; i++) {
		h = &shares[i];
		o = json_pack("{s:s, s:s, s:I, s:I}", "guest_path", h->h_guest,
		    "mode", h->h_mode == MVM_ADD_DIR_RW ? "rw" : "ro",
		    "files", (json_int_t)h->h_files,
		    "bytes", (json_int_t)h->h_bytes);
		if (o == NULL)
			continue;
		if (h->h_back == BACK_WHOLE) {
			hex_encode(h->h_end.sh_sha256, 32, hex);
			json_object_set_new(o, "back", json_pack("{s:I, s:I, "
			    "s:I, s:I, s:I, s:s}",
			    "files", (json_int_t)h->h_end.sh_files,
			    "bytes", (json_int_t)h->h_end.sh_bytes,
			    "skipped", (json_int_t)h->h_end.sh_skipped,
			    "written", (json_int_t)h->h_written,
			    "unchanged", (json_int_t)h->h_unchanged,
			    "stream_sha256", hex));
		} else
			json_object_set_new(o, "back", json_null());
		json_object_set_new(o, "error", h->h_back == BACK_FAILED ?
		    json_string(h->h_why) : json_null());
		json_array_append_new(a, o);
	}
	return (a);
}
