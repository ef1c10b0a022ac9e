/*
 * share.c: DIR_PUT and DIR_GET (agentproto.h), the guest's side of host
 * shares (mvmctl run --add-dir).  A put unpacks a share stream
 * (libshared/share.h) under a directory as its frames come; a get packs
 * the tree under a directory into frames while the output queue has
 * room (share_pump, from the loop).  Nothing is followed through a
 * symlink: the share's directory is reached from "/" one component at
 * a time, and every entry is made or opened relative to the directory
 * above it, with O_NOFOLLOW.
 *
 * A put empties the guest directory first: the command finds the host's
 * tree there and nothing else (in a named guest, nothing of an earlier
 * share), and an rw share brings back only that tree and the command's
 * changes.  The directory and all it gets belong to the user the
 * command will run as (the DIR_PUT's "uid", user.c), so that the
 * command can change them; the stream's modes stay as they are.
 *
 * One put and one get at a time.  A put refused or failed stays until
 * its FILE_END and swallows its frames, so the host gets one AP_ERROR
 * for it, not one a frame.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "share.h"

#define OPEN_DIR	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define EMPTY_DEPTH	256	/* a tree deeper than this is not emptied */
#define STAGE_MAX	(CHUNK + 2 * (SHARE_HDR_LEN + SHARE_PATH_MAX))

static int	 dir_path_ok(const char *);
static int	 dir_empty(int, int);
static int	 write_all(int, const uint8_t *, size_t);
static void	 put_reset(void);
static void	 put_abort(void);
static void	 put_fail(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 put_parent(const char *, const char **);
static int	 put_dir(const struct share_entry *);
static int	 put_file(const struct share_entry *);
static int	 put_file_end(void);
static int	 put_link(const struct share_entry *);
static void	 put_feed(const struct ap_frame *);
static void	 get_reset(void);
static int	 get_out(void *, const void *, size_t);
static int	 get_entry(void);
static int	 get_data(void);
static void	 get_error(int);
static void	 get_step(void);

/* the DIR_PUT under way */
static struct {
	int			 p_on;
	uint32_t		 p_id;
	int			 p_failed;	/* answered: swallow its frames */
	int			 p_root;	/* the share's directory */
	int			 p_dir;		/* the last parent opened */
	char			 p_dirpath[SHARE_PATH_MAX + 1];
	int			 p_fd;		/* the file being written */
	uint32_t		 p_mode;
	uint32_t		 p_uid;		/* the owner of all it makes */
	uint64_t		 p_size;	/* stream bytes announced */
	uint64_t		 p_got;
	struct share_reader	 p_rd;
} put = { .p_root = -1, .p_dir = -1, .p_fd = -1 };

/* the DIR_GET under way: a stack of open directories, one per level */
static struct {
	int			 g_on;
	uint32_t		 g_id;
	uint64_t		 g_max;
	DIR			*g_dirs[SHARE_DEPTH_MAX + 1];
	size_t			 g_plen[SHARE_DEPTH_MAX + 1];
	int			 g_depth;
	char			 g_path[SHARE_PATH_MAX + 1];
	int			 g_fd;		/* the file being read */
	uint64_t		 g_left;
	uint64_t		 g_skipped;
	struct share_writer	 g_w;
	uint8_t			*g_stage;	/* the next FILE_DATA */
	size_t			 g_stagelen;
} get = { .g_fd = -1 };

/* absolute, components well formed, not "/" itself */
static int
dir_path_ok(const char *p)
{
	if (p[0] != '/' || strlen(p) > AP_PATH_MAX ||
	    !share_path_ok(p + 1, strlen(p + 1))) {
		j_fail("path is not an absolute path with plain components");
		return (0);
	}
	return (1);
}

/*
 * Open an absolute directory path from "/", one component at a time,
 * never through a symlink; missing components are made with mode if it
 * is not 0.  Returns the fd or -1 with errno.
 */
int
share_dir_open(const char *path, mode_t mode)
{
	char	 buf[AP_PATH_MAX + 1], *c, *e;
	int	 fd, nfd, saved;

	(void)snprintf(buf, sizeof(buf), "%s", path);
	if ((fd = open("/", OPEN_DIR)) == -1)
		return (-1);
	for (c = buf + 1; *c != '\0'; c = e) {
		e = strchrnul(c, '/');
		if (*e == '/')
			*e++ = '\0';
		nfd = openat(fd, c, OPEN_DIR);
		if (nfd == -1 && errno == ENOENT && mode != 0) {
			if (mkdirat(fd, c, mode) == -1 && errno != EEXIST)
				break;
			nfd = openat(fd, c, OPEN_DIR);
		}
		if (nfd == -1)
			break;
		(void)close(fd);
		fd = nfd;
	}
	if (*c == '\0')
		return (fd);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return (-1);
}

/*
 * Remove what the directory dfd holds (never following a symlink:
 * links are removed, not what they point to).  0, or -1 with errno.
 */
static int
/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by EMPTY_DEPTH */
dir_empty(int dfd, int depth)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, sub, rc = 0;

	if (depth > EMPTY_DEPTH) {
		errno = ELOOP;
		return (-1);
	}
	if ((fd = dup(dfd)) == -1)
		return (-1);
	if ((d = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return (-1);
	}
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    unlinkat(dfd, de->d_name, 0) == 0)
			continue;
		if (errno != EISDIR ||
		    (sub = openat(dfd, de->d_name, OPEN_DIR)) == -1) {
			rc = -1;
			break;
		}
		rc = dir_empty(sub, depth + 1);
		(void)close(sub);
		if (rc == 0 && unlinkat(dfd, de->d_name, AT_REMOVEDIR) == -1)
			rc = -1;
	}
	if (rc == 0 && errno != 0)
		rc = -1;
	fd = errno;
	(void)closedir(d);
	errno = fd;
	return (rc);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		n -= w;
	}
	return (0);
}

/* ------------------------------------------------------------------ */
/* DIR_PUT */

static void
put_reset(void)
{
	if (put.p_fd != -1)
		(void)close(put.p_fd);
	if (put.p_dir != -1)
		(void)close(put.p_dir);
	if (put.p_root != -1)
		(void)close(put.p_root);
	put.p_fd = put.p_dir = put.p_root = -1;
	put.p_on = put.p_failed = 0;
}

/* The put was answered with an error: swallow its other frames. */
static void
put_abort(void)
{
	if (put.p_fd != -1)
		(void)close(put.p_fd);
	put.p_fd = -1;
	put.p_failed = 1;
}

static void
put_fail(const char *code, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out_error(put.p_id, code, "%s", msg);
	put_abort();
}

/* The directory an entry goes in (opened from the share's, cached). */
static int
put_parent(const char *path, const char **base)
{
	const char	*slash = strrchr(path, '/');
	char		 dir[SHARE_PATH_MAX + 1], *c, *e;
	size_t		 dl;
	int		 fd, nfd;

	if (slash == NULL) {
		*base = path;
		return (put.p_root);
	}
	*base = slash + 1;
	dl = slash - path;
	if (put.p_dir != -1 && strlen(put.p_dirpath) == dl &&
	    memcmp(put.p_dirpath, path, dl) == 0)
		return (put.p_dir);
	if (put.p_dir != -1)
		(void)close(put.p_dir);
	put.p_dir = -1;
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	memcpy(put.p_dirpath, dir, dl + 1);
	fd = put.p_root;
	for (c = dir; c != NULL; c = e) {
		if ((e = strchr(c, '/')) != NULL)
			*e++ = '\0';
		nfd = openat(fd, c, OPEN_DIR);
		if (fd != put.p_root)
			(void)close(fd);
		if (nfd == -1)
			return (-1);
		fd = nfd;
	}
	return (put.p_dir = fd);
}

static int
put_dir(const struct share_entry *e)
{
	const char	*base;
	int		 pfd, fd, rc;

	if ((pfd = put_parent(e->se_path, &base)) == -1)
		return (-1);
	if (mkdirat(pfd, base, 0700) == -1 && errno != EEXIST)
		return (-1);
	if ((fd = openat(pfd, base, OPEN_DIR)) == -1)
		return (-1);
	rc = fchown(fd, put.p_uid, user_gid(put.p_uid));
	if (rc == 0)
		rc = fchmod(fd, e->se_mode);
	(void)close(fd);
	return (rc);
}

static int
put_file(const struct share_entry *e)
{
	const char	*base;
	struct stat	 st;
	int		 pfd, fd;

	if ((pfd = put_parent(e->se_path, &base)) == -1)
		return (-1);
	if ((fd = openat(pfd, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		errno = EISDIR;		/* something else is there */
		return (-1);
	}
	if (fchown(fd, put.p_uid, user_gid(put.p_uid)) == -1) {
		(void)close(fd);
		return (-1);
	}
	put.p_fd = fd;
	put.p_mode = e->se_mode;
	return (0);
}

static int
put_file_end(void)
{
	int	 rc;

	rc = fchmod(put.p_fd, put.p_mode);
	if (close(put.p_fd) == -1)
		rc = -1;
	put.p_fd = -1;
	return (rc);
}

/* A link, in place of a link of that name (never of anything else). */
static int
put_link(const struct share_entry *e)
{
	const char	*base;
	struct stat	 st;
	int		 pfd;

	if ((pfd = put_parent(e->se_path, &base)) == -1)
		return (-1);
	if (symlinkat(e->se_target, pfd, base) == -1) {
		if (errno != EEXIST || fstatat(pfd, base, &st,
		    AT_SYMLINK_NOFOLLOW) == -1)
			return (-1);
		if (!S_ISLNK(st.st_mode)) {
			errno = EEXIST;
			return (-1);
		}
		if (unlinkat(pfd, base, 0) == -1 ||
		    symlinkat(e->se_target, pfd, base) == -1)
			return (-1);
	}
	return (fchownat(pfd, base, put.p_uid, user_gid(put.p_uid),
	    AT_SYMLINK_NOFOLLOW));
}

static void
put_feed(const struct ap_frame *f)
{
	const struct share_entry	*e = &put.p_rd.sr_e;
	const uint8_t			*p = f->f_data, *d;
	size_t				 len = f->f_len, dn;
	int				 ev, rc = 0;

	if (len > put.p_size - put.p_got) {
		put_fail("bad_request", "more data than size");
		return;
	}
	put.p_got += len;
	while ((ev = share_read(&put.p_rd, &p, &len, &d, &dn)) !=
	    SHARE_EV_MORE) {
		switch (ev) {
		case SHARE_EV_ERROR:
			put_fail("bad_request", "%s", put.p_rd.sr_why);
			return;
		case SHARE_EV_DIR:
			rc = put_dir(e);
			break;
		case SHARE_EV_FILE:
			rc = put_file(e);
			break;
		case SHARE_EV_DATA:
			rc = write_all(put.p_fd, d, dn);
			break;
		case SHARE_EV_FILE_END:
			rc = put_file_end();
			break;
		case SHARE_EV_LINK:
			rc = put_link(e);
			break;
		}
		if (rc == -1) {
			out_errno(put.p_id, errno, e->se_path);
			put_abort();
			return;
		}
	}
}

void
share_put(const struct ap_frame *f)
{
	static const char *const names[] = { "path", "size", "uid", NULL };
	json_t		*o;
	const char	*path;

	if (put.p_on) {
		out_error(f->f_id, "busy", "a DIR_PUT is under way");
		return;
	}
	put.p_on = 1;
	put.p_id = f->f_id;
	put.p_got = 0;
	share_reader_init(&put.p_rd);
	if ((o = j_parse(f)) == NULL || j_only(o, names) == -1 ||
	    j_str(o, "path", &path, 1) == -1 ||
	    j_uint(o, "size", SHARE_ARCHIVE_MAX, &put.p_size, 1) == -1 ||
	    user_parse(o, &put.p_uid) == -1 || !dir_path_ok(path)) {
		put_fail("bad_request", "%s", j_why());
		json_decref(o);
		return;
	}
	/* the guest path holds the host's tree and nothing else */
	if ((put.p_root = share_dir_open(path, 0755)) == -1 ||
	    dir_empty(put.p_root, 0) == -1 ||
	    fchown(put.p_root, put.p_uid, user_gid(put.p_uid)) == -1) {
		out_errno(f->f_id, errno, path);
		put_abort();
	}
	json_decref(o);
}

/* FILE_DATA: 1 if it was a DIR_PUT's (then it is taken), else 0 */
int
share_data(const struct ap_frame *f)
{
	if (!put.p_on || f->f_id != put.p_id)
		return (0);
	if (!put.p_failed)
		put_feed(f);
	return (1);
}

/* FILE_END: 1 if it ends a DIR_PUT (answered), else 0 */
int
share_end(const struct ap_frame *f)
{
	if (!put.p_on || f->f_id != put.p_id)
		return (0);
	if (put.p_failed)
		;				/* answered already */
	else if (f->f_len != 0)
		out_error(f->f_id, "bad_request", "FILE_END carries data");
	else if (put.p_got != put.p_size || !share_reader_done(&put.p_rd))
		out_error(f->f_id, "bad_request", "the stream is incomplete "
		    "(%llu of %llu bytes)", (unsigned long long)put.p_got,
		    (unsigned long long)put.p_size);
	else
		out_ok(f->f_id);
	put_reset();
	return (1);
}

/* ------------------------------------------------------------------ */
/* DIR_GET */

static void
get_reset(void)
{
	while (get.g_depth > 0)
		(void)closedir(get.g_dirs[--get.g_depth]);
	if (get.g_fd != -1)
		(void)close(get.g_fd);
	get.g_fd = -1;
	free(get.g_stage);
	get.g_stage = NULL;
	get.g_stagelen = 0;
	get.g_on = 0;
}

static int
get_out(void *arg, const void *p, size_t n)
{
	(void)arg;
	if (n > STAGE_MAX - get.g_stagelen)
		afatal("%s: stage overrun", __func__);
	memcpy(get.g_stage + get.g_stagelen, p, n);
	get.g_stagelen += n;
	return (0);
}

/* The next entry of the walk: 0 go on, 1 all written, -1 errno. */
static int
get_entry(void)
{
	struct dirent	*de;
	struct stat	 st;
	char		 target[SHARE_PATH_MAX + 1];
	DIR		*d, *sub;
	size_t		 plen, nl;
	ssize_t		 n;
	int		 fd;

	if (get.g_depth == 0)
		return (share_write_end(&get.g_w) == -1 ? -1 : 1);
	d = get.g_dirs[get.g_depth - 1];
	errno = 0;
	if ((de = readdir(d)) == NULL) {
		if (errno != 0)
			return (-1);
		(void)closedir(d);
		get.g_depth--;
		return (0);
	}
	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		return (0);
	plen = get.g_plen[get.g_depth - 1];
	nl = strlen(de->d_name);
	if (plen + 1 + nl > SHARE_PATH_MAX) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if (plen > 0)
		get.g_path[plen++] = '/';
	memcpy(get.g_path + plen, de->d_name, nl + 1);
	if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return (-1);
	if (S_ISDIR(st.st_mode)) {
		if (share_write_entry(&get.g_w, SHARE_DIR, st.st_mode & 0777,
		    get.g_path, 0, NULL) == -1)
			return (-1);
		if ((fd = openat(dirfd(d), de->d_name, OPEN_DIR)) == -1)
			return (-1);
		if ((sub = fdopendir(fd)) == NULL) {
			(void)close(fd);
			return (-1);
		}
		/* share_write_entry let at most SHARE_DEPTH_MAX through */
		get.g_plen[get.g_depth] = plen + nl;
		get.g_dirs[get.g_depth++] = sub;
	} else if (S_ISREG(st.st_mode)) {
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1)
			return (-1);
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    share_write_entry(&get.g_w, SHARE_FILE, st.st_mode & 0777,
		    get.g_path, st.st_size, NULL) == -1) {
			(void)close(fd);
			return (-1);
		}
		get.g_fd = fd;
		get.g_left = st.st_size;
	} else if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target));
		if (n == -1)
			return (-1);
		if (n == 0 || n >= (ssize_t)sizeof(target) ||
		    (target[n] = '\0', !share_link_ok(get.g_path, target)))
			get.g_skipped++;	/* it points out of the tree */
		else if (share_write_entry(&get.g_w, SHARE_LINK, 0, get.g_path,
		    0, target) == -1)
			return (-1);
	} else
		get.g_skipped++;		/* a device, FIFO or socket */
	return (0);
}

/* Some of the open file's bytes: 0 go on, -1 errno. */
static int
get_data(void)
{
	static uint8_t	 buf[CHUNK];
	size_t		 want = CHUNK - get.g_stagelen;
	ssize_t		 n;

	if (want > get.g_left)
		want = get.g_left;
	if (want > 0) {
		if ((n = read(get.g_fd, buf, want)) == -1)
			return (errno == EINTR ? 0 : -1);
		if (n == 0) {
			errno = ENODATA;	/* it shrank while read */
			return (-1);
		}
		if (share_write_data(&get.g_w, buf, n) == -1)
			return (-1);
		get.g_left -= n;
	}
	if (get.g_left == 0) {
		(void)close(get.g_fd);
		get.g_fd = -1;
	}
	return (0);
}

static void
get_error(int e)
{
	switch (e) {
	case E2BIG:
	case EFBIG:
	case EINVAL:
	case ENAMETOOLONG:
		out_error(get.g_id, "too_large", "%s: over a bound (%s)",
		    get.g_path, strerror(e));
		break;
	case ENODATA:
		out_error(get.g_id, "io", "%s: changed while read",
		    get.g_path);
		break;
	default:
		out_errno(get.g_id, e, get.g_path[0] != '\0' ? get.g_path :
		    ".");
		break;
	}
}

/* Fill one FILE_DATA frame (or end the stream, or fail). */
static void
get_step(void)
{
	int	 rc = 0;

	while (rc == 0 && get.g_stagelen < CHUNK) {
		rc = get.g_fd != -1 ? get_data() : get_entry();
		if (rc != -1 && get.g_w.sw_total > get.g_max) {
			errno = EFBIG;
			rc = -1;
		}
	}
	if (rc == -1) {
		get_error(errno);
		get_reset();
		return;
	}
	if (get.g_stagelen > 0)
		out_frame(AP_FILE_DATA, get.g_id, get.g_stage, get.g_stagelen);
	get.g_stagelen = 0;
	if (rc == 1) {
		out_json(AP_FILE_END, get.g_id, json_pack("{s:I,s:I,s:I,s:I}",
		    "size", (json_int_t)get.g_w.sw_total,
		    "files", (json_int_t)get.g_w.sw_entries,
		    "bytes", (json_int_t)get.g_w.sw_bytes,
		    "skipped", (json_int_t)get.g_skipped));
		get_reset();
	}
}

void
share_get(const struct ap_frame *f)
{
	static const char *const names[] = { "path", "max", NULL };
	json_t		*o;
	const char	*path;
	uint64_t	 max = 0;
	int		 fd;

	if (get.g_on) {
		out_error(f->f_id, "busy", "a DIR_GET is under way");
		return;
	}
	if ((o = j_parse(f)) == NULL || j_only(o, names) == -1 ||
	    j_str(o, "path", &path, 1) == -1 ||
	    j_uint(o, "max", UINT64_MAX >> 1, &max, 0) == -1 ||
	    !dir_path_ok(path)) {
		out_error(f->f_id, "bad_request", "%s", j_why());
		json_decref(o);
		return;
	}
	fd = share_dir_open(path, 0);
	if (fd == -1)
		out_errno(f->f_id, errno, path);
	json_decref(o);
	if (fd == -1)
		return;
	memset(&get, 0, sizeof(get));
	get.g_fd = -1;
	if ((get.g_dirs[0] = fdopendir(fd)) == NULL) {
		out_errno(f->f_id, errno, "fdopendir");
		(void)close(fd);
		return;
	}
	get.g_depth = 1;
	get.g_on = 1;
	get.g_id = f->f_id;
	get.g_max = max == 0 || max > SHARE_ARCHIVE_MAX ? SHARE_ARCHIVE_MAX :
	    max;
	get.g_stage = xcalloc(1, STAGE_MAX);
	(void)share_write_start(&get.g_w, get_out, NULL);
}

int
share_pending(void)
{
	return (get.g_on);
}

void
share_pump(void)
{
	while (get.g_on && !out_high())
		get_step();
}

/* The host went away: drop both. */
void
share_abortall(void)
{
	put_reset();
	get_reset();
}
